//! Reads IVF frames one at a time.

use std::io::Read;

use super::{IvfHeader, IVF_FRAME_HEADER_LEN, IVF_HEADER_LEN};
use crate::codec::VideoCodec;
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::{Frame, Timebase};
use crate::io::OffsetReader;

const FORMAT: &str = "IVF";

/// Reads an IVF file from any `Read`, one frame at a time (memory: one frame, at most
/// [`MAX_FRAME_SIZE`]).
///
/// Frames come with their timestamp in the header's timebase and a key frame flag read from the
/// bitstream (VP8, VP9 and AV1; false for FourCCs this crate does not know).
pub struct IvfReader<R> {
    src: OffsetReader<R>,
    header: IvfHeader,
    codec: Option<VideoCodec>,
    failed: bool,
}

impl<R: Read> IvfReader<R> {
    /// Reads and checks the 32-byte file header (signature `DKIF`, version 0, a non-zero
    /// timebase); a longer header length skips the extra bytes.
    pub fn new(src: R) -> Result<Self> {
        let mut src = OffsetReader::new(src, FORMAT);
        let mut h = [0u8; IVF_HEADER_LEN];
        src.read_exact(&mut h, "the file header")?;
        if &h[0..4] != b"DKIF" {
            return Err(MediaError::BadSignature {
                format: FORMAT,
                expected: "\"DKIF\"",
                offset: 0,
                found: h[0..4].to_vec(),
            });
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        if u16_at(4) != 0 {
            return Err(MediaError::Unsupported {
                format: FORMAT,
                what: "header version",
                offset: 4,
                reason: format!("version {} (only version 0 exists)", u16_at(4)),
            });
        }
        let header_len = usize::from(u16_at(6));
        if header_len < IVF_HEADER_LEN {
            return Err(MediaError::malformed(
                FORMAT,
                "header length",
                6,
                format!("{header_len} bytes; expected at least {IVF_HEADER_LEN}"),
            ));
        }
        src.read_vec(
            (header_len - IVF_HEADER_LEN) as u64,
            "the file header's extra bytes",
        )?;
        let timebase = Timebase::new(u32_at(20), u32_at(16)).ok_or_else(|| {
            MediaError::malformed(
                FORMAT,
                "timebase",
                16,
                format!(
                    "{}/{}; expected two non-zero numbers (e.g. 30 and 1 for 30 fps)",
                    u32_at(20),
                    u32_at(16)
                ),
            )
        })?;
        let header = IvfHeader {
            fourcc: [h[8], h[9], h[10], h[11]],
            width: u16_at(12),
            height: u16_at(14),
            timebase,
            frame_count: u32_at(24),
        };
        let codec = header.codec();
        Ok(IvfReader {
            src,
            header,
            codec,
            failed: false,
        })
    }

    /// The file header.
    pub fn header(&self) -> &IvfHeader {
        &self.header
    }

    /// The next frame, `Ok(None)` at the end of the file. A file that ends inside a frame header
    /// or frame is [`MediaError::Truncated`]; a frame size above [`MAX_FRAME_SIZE`] is
    /// [`MediaError::TooLarge`].
    pub fn read_frame(&mut self) -> Result<Option<Frame>> {
        let offset = self.src.offset();
        let mut fh = [0u8; IVF_FRAME_HEADER_LEN];
        if !self.src.read_exact_or_eof(&mut fh, "a frame header")? {
            return Ok(None);
        }
        let size = u32::from_le_bytes([fh[0], fh[1], fh[2], fh[3]]);
        let mut pts = [0u8; 8];
        pts.copy_from_slice(&fh[4..12]);
        if size as usize > MAX_FRAME_SIZE {
            return Err(MediaError::TooLarge {
                format: FORMAT,
                what: "frame",
                offset,
                size: u64::from(size),
                limit: MAX_FRAME_SIZE as u64,
            });
        }
        let data = self.src.read_vec(u64::from(size), "a frame")?;
        let keyframe = self.codec.is_some_and(|c| c.is_keyframe(&data));
        Ok(Some(Frame {
            data,
            pts: i64::from_le_bytes(pts),
            timebase: self.header.timebase,
            keyframe,
            duration: None,
        }))
    }

    /// Byte offset of the next frame header.
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.src.into_inner()
    }
}

/// Yields frames until the end of the file or the first error (then stops).
impl<R: Read> Iterator for IvfReader<R> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.read_frame().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        IvfHeader::new(VideoCodec::Vp8, 320, 240, Timebase::new(1, 30).unwrap())
            .to_bytes()
            .to_vec()
    }

    #[test]
    fn truncated_header_names_the_offset() {
        let err = IvfReader::new(&header()[..20]).err().unwrap();
        assert!(
            matches!(
                err,
                MediaError::Truncated {
                    offset: 0,
                    needed: 32,
                    found: 20,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn huge_frame_size_is_refused_without_allocating() {
        let mut file = header();
        file.extend_from_slice(&0xffff_ffffu32.to_le_bytes());
        file.extend_from_slice(&0u64.to_le_bytes());
        let mut r = IvfReader::new(&file[..]).unwrap();
        let err = r.next().unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::TooLarge {
                    offset: 32,
                    size: 0xffff_ffff,
                    ..
                }
            ),
            "{err}"
        );
        assert!(r.next().is_none(), "the iterator stops after an error");
    }

    #[test]
    fn frame_cut_short() {
        let mut file = header();
        file.extend_from_slice(&100u32.to_le_bytes());
        file.extend_from_slice(&7u64.to_le_bytes());
        file.extend_from_slice(&[1; 40]);
        let err = IvfReader::new(&file[..]).unwrap().read_frame().unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::Truncated {
                    offset: 44,
                    needed: 100,
                    found: 40,
                    ..
                }
            ),
            "{err}"
        );
        let err = IvfReader::new(&file[..38]).unwrap().read_frame().unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::Truncated {
                    offset: 32,
                    needed: 12,
                    found: 6,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_signature_and_timebase() {
        let mut file = header();
        file[0] = b'X';
        assert!(matches!(
            IvfReader::new(&file[..]).err(),
            Some(MediaError::BadSignature { .. })
        ));
        let mut file = header();
        file[16..20].copy_from_slice(&[0; 4]);
        let err = IvfReader::new(&file[..]).err().unwrap();
        assert!(err.to_string().contains("timebase"), "{err}");
    }
}
