//! Track entries (RFC 9559 §5.1.4) and the per-codec block payloads of the Matroska writer.

use super::ebml::*;
use crate::annexb::{nal_units, starts_with_start_code};
use crate::codec::{av1, h264, VideoCodec};
use crate::error::{MediaError, Result};
use crate::ogg_opus::OpusHead;

pub(super) const FORMAT: &str = "Matroska";
/// RFC 9559 §5.1.4.1.28 / the Opus codec mapping: 80 ms of decoding before a seek point.
const OPUS_SEEK_PRE_ROLL_NS: u64 = 80_000_000;

/// What a track carries.
pub(super) enum TrackKind {
    Video {
        codec: VideoCodec,
        width: u16,
        height: u16,
    },
    Opus {
        head: OpusHead,
    },
}

pub(super) struct Track {
    pub(super) number: u8,
    pub(super) kind: TrackKind,
    /// CodecPrivate: avcC (H.264), av1C (AV1), OpusHead (Opus); none for VP8/VP9.
    pub(super) codec_private: Option<Vec<u8>>,
    /// Whether the track can be described: H.264 and AV1 wait for a frame with their parameter
    /// sets / sequence header.
    pub(super) ready: bool,
    /// The last block timestamp written (ms), to keep each track in order.
    pub(super) last_ms: Option<i64>,
}

impl Track {
    pub(super) fn video(number: u8, codec: VideoCodec, width: u16, height: u16) -> Result<Track> {
        if !matches!(
            codec,
            VideoCodec::Vp8 | VideoCodec::Vp9 | VideoCodec::Av1 | VideoCodec::H264
        ) {
            return Err(MediaError::invalid(
                FORMAT,
                format!("{codec:?} recording is not supported; use VP8, VP9, AV1 or H.264"),
            ));
        }
        let ready = matches!(codec, VideoCodec::Vp8 | VideoCodec::Vp9);
        Ok(Track {
            number,
            kind: TrackKind::Video { codec, width, height },
            codec_private: None,
            ready,
            last_ms: None,
        })
    }

    pub(super) fn opus(number: u8, head: &OpusHead) -> Track {
        Track {
            number,
            codec_private: Some(head.to_bytes()),
            kind: TrackKind::Opus { head: head.clone() },
            ready: true,
            last_ms: None,
        }
    }

    /// Whether the codec belongs to WebM's subset of Matroska (VP8, VP9, AV1, Opus).
    pub(super) fn is_webm(&self) -> bool {
        !matches!(
            self.kind,
            TrackKind::Video {
                codec: VideoCodec::H264,
                ..
            }
        )
    }

    pub(super) fn is_video(&self) -> bool {
        matches!(self.kind, TrackKind::Video { .. })
    }

    /// Opus's pre-skip in 48 kHz samples (RFC 7845 §4.2), 0 for video: block timestamps start
    /// at 0 with the pre-skip signalled as CodecDelay (RFC 9559 §5.1.4.1.27).
    pub(super) fn pre_skip(&self) -> u16 {
        match &self.kind {
            TrackKind::Opus { head } => head.pre_skip,
            TrackKind::Video { .. } => 0,
        }
    }

    /// The block payload for one frame: H.264 from Annex B to 4-byte length prefixes, AV1
    /// without temporal delimiters, others as given. Takes the codec configuration from the
    /// first frame that has it; `Ok(None)` for a frame that comes before it (dropped).
    pub(super) fn payload(&mut self, data: &[u8]) -> Result<Option<Vec<u8>>> {
        let TrackKind::Video { codec, .. } = self.kind else {
            return Ok(Some(data.to_vec()));
        };
        match codec {
            VideoCodec::H264 => {
                if !starts_with_start_code(data) {
                    return Err(MediaError::invalid(
                        FORMAT,
                        "an H.264 frame must be Annex B (NAL units behind 00 00 01 start codes)".into(),
                    ));
                }
                if !self.ready {
                    let sps = nal_units(data).find(|n| h264::nal_type(n) == Some(h264::NAL_SPS));
                    let pps = nal_units(data).find(|n| h264::nal_type(n) == Some(h264::NAL_PPS));
                    match sps.zip(pps).and_then(|(s, p)| h264::avcc(s, p)) {
                        Some(avcc) => self.set_ready(avcc),
                        None => return Ok(None),
                    }
                }
                Ok(Some(length_prefixed(data)))
            }
            VideoCodec::Av1 => {
                if !self.ready {
                    match av1::av1c_from_temporal_unit(data) {
                        Some(av1c) => self.set_ready(av1c),
                        None => return Ok(None),
                    }
                }
                Ok(Some(av1::strip_temporal_delimiters(data)))
            }
            _ => Ok(Some(data.to_vec())),
        }
    }

    /// The TrackEntry element.
    pub(super) fn put_entry(&self, out: &mut Vec<u8>) {
        put_master(out, TRACK_ENTRY, |e| {
            put_uint(e, TRACK_NUMBER, u64::from(self.number));
            put_uint(e, TRACK_UID, u64::from(self.number));
            put_uint(e, FLAG_LACING, 0);
            match &self.kind {
                TrackKind::Video { codec, width, height } => {
                    put_uint(e, TRACK_TYPE, 1);
                    put_binary(e, CODEC_ID, codec_id(*codec).as_bytes());
                    if let Some(p) = &self.codec_private {
                        put_binary(e, CODEC_PRIVATE, p);
                    }
                    put_master(e, VIDEO, |v| {
                        put_uint(v, PIXEL_WIDTH, u64::from(*width));
                        put_uint(v, PIXEL_HEIGHT, u64::from(*height));
                    });
                }
                TrackKind::Opus { head } => {
                    put_uint(e, TRACK_TYPE, 2);
                    put_binary(e, CODEC_ID, b"A_OPUS");
                    put_binary(e, CODEC_PRIVATE, &head.to_bytes());
                    put_uint(e, CODEC_DELAY, u64::from(head.pre_skip) * 1_000_000_000 / 48_000);
                    put_uint(e, SEEK_PRE_ROLL, OPUS_SEEK_PRE_ROLL_NS);
                    put_master(e, AUDIO, |a| {
                        put_float(a, SAMPLING_FREQUENCY, 48_000.0);
                        put_uint(a, CHANNELS, u64::from(head.channels));
                    });
                }
            }
        });
    }

    fn set_ready(&mut self, codec_private: Vec<u8>) {
        self.codec_private = Some(codec_private);
        self.ready = true;
    }
}

/// Matroska codec IDs (RFC 9559 and the Matroska codec registry): `V_VP8`, `V_VP9`, `V_AV1`,
/// `V_MPEG4/ISO/AVC`.
fn codec_id(codec: VideoCodec) -> &'static str {
    match codec {
        VideoCodec::Vp8 => "V_VP8",
        VideoCodec::Vp9 => "V_VP9",
        VideoCodec::Av1 => "V_AV1",
        _ => "V_MPEG4/ISO/AVC",
    }
}

/// An Annex B access unit as NAL units each behind a 4-byte big-endian length (ISO/IEC 14496-15
/// §5.3.2, lengthSizeMinusOne = 3 in the avcC).
pub(crate) fn length_prefixed(annexb: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(annexb.len() + 8);
    for nal in nal_units(annexb) {
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb_to_length_prefixed() {
        let au = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88, 0x84, 0];
        assert_eq!(
            length_prefixed(&au),
            [0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84]
        );
    }

    #[test]
    fn h264_waits_for_parameter_sets() {
        let mut t = Track::video(1, VideoCodec::H264, 320, 240).unwrap();
        assert_eq!(t.payload(&[0, 0, 1, 0x41, 0x9a]).unwrap(), None);
        assert!(!t.ready);
        let key = [
            0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 1, 0x65, 0x88,
        ];
        assert!(t.payload(&key).unwrap().is_some());
        assert!(t.ready);
        assert_eq!(t.codec_private.as_ref().unwrap()[..4], [1, 0x42, 0xc0, 0x1e]);
        assert!(t.payload(&[0x41, 0x9a]).is_err(), "not Annex B");
        assert!(Track::video(1, VideoCodec::H265, 320, 240).is_err());
    }
}
