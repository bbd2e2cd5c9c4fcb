//! Access units from an Annex B byte stream.

use std::io::Read;
use std::ops::Range;

use super::scanner::NalScanner;
use crate::codec::{h264, h265, VideoCodec};
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::{Frame, Timebase};

/// The most NAL units one access unit may hold (a 1080p picture coded with one slice per
/// macroblock row has 68; the bound only stops a hostile stream).
pub const MAX_NALS_PER_ACCESS_UNIT: usize = 4096;

/// One access unit (one coded picture with its parameter sets and SEI) from an Annex B stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// The NAL units in Annex B form, each behind a 4-byte start code `00 00 00 01` (whatever
    /// start codes the file used).
    pub data: Vec<u8>,
    /// True for an H.264 IDR picture (NAL type 5) or an H.265 IRAP picture (types 16 to 23).
    pub keyframe: bool,
    /// Position in the stream: 0 for the first access unit.
    pub index: u64,
    /// Byte offset in the file of the access unit's first NAL unit (after its start code).
    pub offset: u64,
    /// Where each NAL unit (without start code) lies in `data`.
    nals: Vec<Range<usize>>,
}

impl AccessUnit {
    /// The NAL units, without start codes, in stream order.
    pub fn nal_units(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.nals.iter().map(|r| &self.data[r.clone()])
    }

    /// The access unit as a [`Frame`] with `pts = index` in `frame_rate`'s ticks (Annex B has no
    /// timestamps: give the stream's frame period, e.g. `Timebase::new(1, 30)` for 30 fps).
    pub fn into_frame(self, frame_period: Timebase) -> Frame {
        Frame {
            data: self.data,
            pts: i64::try_from(self.index).unwrap_or(i64::MAX),
            timebase: frame_period,
            keyframe: self.keyframe,
            duration: Some(1),
        }
    }
}

/// Reads an H.264 or H.265 Annex B byte stream one access unit at a time from any `Read`.
///
/// Access units are split as ITU-T H.264 §7.4.1.2.3 and H.265 §7.4.2.4.4 say: at an access unit
/// delimiter, or at the first parameter set / SEI / first slice of a new picture after the last
/// slice of the current one (a new picture: first_mb_in_slice == 0 for H.264,
/// first_slice_segment_in_pic_flag == 1 for H.265). Memory: one read chunk (64 KiB) plus one
/// access unit, each NAL unit and access unit bounded by [`MAX_FRAME_SIZE`].
pub struct AnnexBReader<R> {
    scanner: NalScanner<R>,
    codec: VideoCodec,
    format: &'static str,
    /// The NAL unit that began the next access unit, read while ending the last one.
    pending: Option<(u64, Vec<u8>)>,
    next_index: u64,
    failed: bool,
}

impl<R: Read> AnnexBReader<R> {
    /// A reader of `codec` ([`VideoCodec::H264`] or [`VideoCodec::H265`]) from `src`.
    pub fn new(src: R, codec: VideoCodec) -> Result<Self> {
        let format = match codec {
            VideoCodec::H264 => "H.264 Annex B",
            VideoCodec::H265 => "H.265 Annex B",
            other => {
                return Err(MediaError::invalid(
                    "Annex B",
                    format!("{other:?} has no Annex B byte stream; use H264 or H265"),
                ))
            }
        };
        Ok(AnnexBReader {
            scanner: NalScanner::new(src, format),
            codec,
            format,
            pending: None,
            next_index: 0,
            failed: false,
        })
    }

    /// The codec being read.
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// The next access unit, `Ok(None)` at the end of the stream.
    pub fn read_access_unit(&mut self) -> Result<Option<AccessUnit>> {
        let mut au = AccessUnit {
            data: Vec::new(),
            keyframe: false,
            index: self.next_index,
            offset: 0,
            nals: Vec::new(),
        };
        let mut has_vcl = false;
        loop {
            let (offset, nal) = match self.pending.take() {
                Some(n) => n,
                None => match self.scanner.next_nal()? {
                    Some(n) => n,
                    None => break,
                },
            };
            let (starts, vcl, key) = match self.codec {
                VideoCodec::H264 => (
                    h264::starts_access_unit(&nal, has_vcl),
                    h264::is_vcl(&nal),
                    h264::nal_type(&nal) == Some(h264::NAL_IDR),
                ),
                _ => (
                    h265::starts_access_unit(&nal, has_vcl),
                    h265::is_vcl(&nal),
                    h265::nal_type(&nal).is_some_and(h265::is_irap),
                ),
            };
            if starts && !au.nals.is_empty() {
                self.pending = Some((offset, nal));
                break;
            }
            if au.nals.is_empty() {
                au.offset = offset;
            }
            self.check_bounds(&au, nal.len())?;
            au.data.extend_from_slice(&[0, 0, 0, 1]);
            au.nals.push(au.data.len()..au.data.len() + nal.len());
            au.data.extend_from_slice(&nal);
            has_vcl |= vcl;
            au.keyframe |= key;
        }
        if au.nals.is_empty() {
            return Ok(None);
        }
        self.next_index += 1;
        Ok(Some(au))
    }

    fn check_bounds(&self, au: &AccessUnit, nal_len: usize) -> Result<()> {
        let size = au.data.len() + 4 + nal_len;
        if size > MAX_FRAME_SIZE {
            return Err(MediaError::TooLarge {
                format: self.format,
                what: "access unit",
                offset: au.offset,
                size: size as u64,
                limit: MAX_FRAME_SIZE as u64,
            });
        }
        if au.nals.len() >= MAX_NALS_PER_ACCESS_UNIT {
            return Err(MediaError::TooLarge {
                format: self.format,
                what: "access unit (NAL unit count)",
                offset: au.offset,
                size: au.nals.len() as u64 + 1,
                limit: MAX_NALS_PER_ACCESS_UNIT as u64,
            });
        }
        Ok(())
    }
}

/// Yields access units until the end of the stream or the first error (then stops).
impl<R: Read> Iterator for AnnexBReader<R> {
    type Item = Result<AccessUnit>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.read_access_unit().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], codec: VideoCodec) -> Result<Vec<AccessUnit>> {
        AnnexBReader::new(data, codec)?.collect()
    }

    #[test]
    fn groups_slices_of_one_picture() {
        let stream = [
            0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, // SPS, PPS
            0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x65, 0x40, // IDR slices 0 and 1 of picture 0
            0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x41, 0x40, // P slices of picture 1
            0, 0, 1, 0x41, 0x9b, // picture 2
        ];
        let aus = read_all(&stream, VideoCodec::H264).unwrap();
        assert_eq!(aus.len(), 3);
        assert_eq!(
            aus.iter().map(|a| a.nal_units().count()).collect::<Vec<_>>(),
            [4, 2, 1]
        );
        assert_eq!(
            aus.iter().map(|a| a.keyframe).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert_eq!(aus.iter().map(|a| a.offset).collect::<Vec<_>>(), [4, 24, 34]);
        assert_eq!(aus[2].data, [0, 0, 0, 1, 0x41, 0x9b]);
    }

    #[test]
    fn hostile_streams_are_errors() {
        for (stream, what) in [
            (&[][..], "no start code"),
            (&[0; 100][..], "no start code"),
            (&[0, 0, 1, 0, 0, 1, 0, 0, 1][..], "empty"),
            (&[0, 0, 1][..], "empty"),
            (&[0, 0, 1, 0x65, 0x88, 0, 0, 1][..], "empty"),
            (&[5, 0, 0, 1, 0x65][..], "expected zero bytes"),
        ] {
            let err = read_all(stream, VideoCodec::H264).unwrap_err().to_string();
            assert!(err.contains(what), "{stream:?}: {err}");
        }
        assert!(AnnexBReader::new(&[][..], VideoCodec::Vp8).is_err());
    }

    #[test]
    fn zeros_before_the_first_start_code_are_skipped() {
        let mut stream = vec![0u8; 200_000];
        stream.extend_from_slice(&[0, 0, 1, 0x65, 0x88]);
        let aus = read_all(&stream, VideoCodec::H264).unwrap();
        assert_eq!(aus.len(), 1);
        assert_eq!(aus[0].offset, 200_003);
    }
}
