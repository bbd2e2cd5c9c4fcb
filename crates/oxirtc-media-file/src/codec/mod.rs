//! The video codecs this crate knows, and the few bitstream fields it reads: key frame flags
//! (VP8, VP9, AV1, H.264, H.265) and the decoder configurations Matroska needs (avcC, av1C).

pub(crate) mod av1;
pub(crate) mod bits;
pub(crate) mod h264;
pub(crate) mod h265;
mod vpx;

/// A video codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoCodec {
    /// VP8 (RFC 6386).
    Vp8,
    /// VP9.
    Vp9,
    /// AV1.
    Av1,
    /// H.264 / AVC (ITU-T H.264).
    H264,
    /// H.265 / HEVC (ITU-T H.265).
    H265,
}

impl VideoCodec {
    /// The IVF FourCC of the codec (`VP80`, `VP90`, `AV01`, `H264`, `H265`).
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            VideoCodec::Vp8 => *b"VP80",
            VideoCodec::Vp9 => *b"VP90",
            VideoCodec::Av1 => *b"AV01",
            VideoCodec::H264 => *b"H264",
            VideoCodec::H265 => *b"H265",
        }
    }

    /// The codec of an IVF FourCC (case-insensitive); `None` for others.
    pub fn from_fourcc(fourcc: [u8; 4]) -> Option<VideoCodec> {
        let mut upper = fourcc;
        upper.make_ascii_uppercase();
        match &upper {
            b"VP80" => Some(VideoCodec::Vp8),
            b"VP90" => Some(VideoCodec::Vp9),
            b"AV01" => Some(VideoCodec::Av1),
            b"H264" | b"AVC1" => Some(VideoCodec::H264),
            b"H265" | b"HEVC" | b"HVC1" => Some(VideoCodec::H265),
            _ => None,
        }
    }

    /// Whether `frame` (one coded frame of this codec, Annex B for H.264/H.265) is a key frame:
    /// it decodes without any earlier frame. Malformed or empty frames are not key frames.
    pub fn is_keyframe(self, frame: &[u8]) -> bool {
        match self {
            VideoCodec::Vp8 => vpx::vp8_is_keyframe(frame),
            VideoCodec::Vp9 => vpx::vp9_is_keyframe(frame),
            VideoCodec::Av1 => av1::is_keyframe(frame),
            VideoCodec::H264 => {
                crate::annexb::nal_units(frame).any(|n| h264::nal_type(n) == Some(h264::NAL_IDR))
            }
            VideoCodec::H265 => {
                crate::annexb::nal_units(frame).any(|n| h265::nal_type(n).is_some_and(h265::is_irap))
            }
        }
    }
}
