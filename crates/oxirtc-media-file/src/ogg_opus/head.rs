//! The Ogg Opus header packets (RFC 7845 §5) and the duration of an Opus packet (RFC 6716 §3.1).

use crate::error::{MediaError, Result};

const FORMAT: &str = "Ogg Opus";

/// The identification header, OpusHead (RFC 7845 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels (1 or 2 for mapping family 0).
    pub channels: u8,
    /// Samples at 48 kHz to discard from the start of the decoded stream (the encoder's delay).
    pub pre_skip: u16,
    /// The sample rate of the encoder's input, for information only (Opus always decodes at 48 kHz).
    pub input_sample_rate: u32,
    /// Gain to apply on output, in dB Q7.8 (RFC 7845 §5.1).
    pub output_gain: i16,
    /// Channel mapping family (0: mono or stereo, one stream; 1 or 255: the table below).
    pub mapping_family: u8,
    /// For mapping families other than 0: stream count, coupled stream count and the channel
    /// mapping table (one byte per channel).
    pub mapping: Option<ChannelMapping>,
}

/// The channel mapping table of OpusHead (RFC 7845 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMapping {
    /// Opus streams in each packet.
    pub stream_count: u8,
    /// Of those, streams that carry two channels.
    pub coupled_count: u8,
    /// For each output channel, the decoded channel it comes from.
    pub mapping: Vec<u8>,
}

/// The comment header, OpusTags (RFC 7845 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpusTags {
    /// The encoder that wrote the stream.
    pub vendor: String,
    /// `NAME=value` comments.
    pub comments: Vec<String>,
}

impl OpusHead {
    /// A head for mono or stereo (mapping family 0) at 48 kHz.
    pub fn new(channels: u8, pre_skip: u16) -> OpusHead {
        OpusHead {
            channels,
            pre_skip,
            input_sample_rate: 48_000,
            output_gain: 0,
            mapping_family: 0,
            mapping: None,
        }
    }

    /// Parses the OpusHead packet; `offset` is its place in the file (for errors).
    pub fn parse(p: &[u8], offset: u64) -> Result<OpusHead> {
        let bad = |reason: String| MediaError::malformed(FORMAT, "OpusHead", offset, reason);
        if !p.starts_with(b"OpusHead") {
            return Err(MediaError::BadSignature {
                format: FORMAT,
                expected: "an OpusHead packet (the first packet of an Ogg Opus stream)",
                offset,
                found: p[..p.len().min(8)].to_vec(),
            });
        }
        if p.len() < 19 {
            return Err(bad(format!("{} bytes; expected at least 19", p.len())));
        }
        // RFC 7845 §5.1: the version's major part (high 4 bits) must be 0.
        if p[8] >> 4 != 0 {
            return Err(MediaError::Unsupported {
                format: FORMAT,
                what: "OpusHead version",
                offset,
                reason: format!("version {} (only versions below 16 are compatible)", p[8]),
            });
        }
        let channels = p[9];
        if channels == 0 {
            return Err(bad("channel count 0; expected at least 1".into()));
        }
        let mapping_family = p[18];
        let mapping = if mapping_family == 0 {
            if channels > 2 {
                return Err(bad(format!(
                    "{channels} channels in mapping family 0; expected 1 or 2"
                )));
            }
            None
        } else {
            let table = p.get(19..21 + usize::from(channels)).ok_or_else(|| {
                bad(format!(
                    "{} bytes; a mapping table for {channels} channels needs {}",
                    p.len(),
                    21 + usize::from(channels)
                ))
            })?;
            Some(ChannelMapping {
                stream_count: table[0],
                coupled_count: table[1],
                mapping: table[2..].to_vec(),
            })
        };
        Ok(OpusHead {
            channels,
            pre_skip: u16::from_le_bytes([p[10], p[11]]),
            input_sample_rate: u32::from_le_bytes([p[12], p[13], p[14], p[15]]),
            output_gain: i16::from_le_bytes([p[16], p[17]]),
            mapping_family,
            mapping,
        })
    }

    /// The OpusHead packet (version 1); also the CodecPrivate of a Matroska `A_OPUS` track.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(19);
        out.extend_from_slice(b"OpusHead");
        out.push(1);
        out.push(self.channels);
        out.extend_from_slice(&self.pre_skip.to_le_bytes());
        out.extend_from_slice(&self.input_sample_rate.to_le_bytes());
        out.extend_from_slice(&self.output_gain.to_le_bytes());
        out.push(self.mapping_family);
        if let Some(m) = &self.mapping {
            out.push(m.stream_count);
            out.push(m.coupled_count);
            out.extend_from_slice(&m.mapping);
        }
        out
    }
}

impl OpusTags {
    /// Parses the OpusTags packet; `offset` is its place in the file (for errors). Strings that
    /// are not UTF-8 are kept with replacement characters.
    pub fn parse(p: &[u8], offset: u64) -> Result<OpusTags> {
        let bad = |reason: String| MediaError::malformed(FORMAT, "OpusTags", offset, reason);
        let rest = p
            .strip_prefix(b"OpusTags")
            .ok_or_else(|| MediaError::BadSignature {
                format: FORMAT,
                expected: "an OpusTags packet (the second packet of an Ogg Opus stream)",
                offset,
                found: p[..p.len().min(8)].to_vec(),
            })?;
        let mut r = Fields { rest };
        let vendor = r
            .string()
            .ok_or_else(|| bad("the vendor string runs past the packet".into()))?;
        let count = r
            .u32()
            .ok_or_else(|| bad("the comment count is missing".into()))?;
        let mut comments = Vec::new();
        for i in 0..count {
            // Each comment takes at least 4 bytes, so the packet size bounds the loop's work.
            let c = r
                .string()
                .ok_or_else(|| bad(format!("comment {i} of {count} runs past the packet")))?;
            comments.push(c);
        }
        Ok(OpusTags { vendor, comments })
    }

    /// The OpusTags packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"OpusTags".to_vec();
        push_string(&mut out, &self.vendor);
        out.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for c in &self.comments {
            push_string(&mut out, c);
        }
        out
    }
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1: the
/// configuration gives the frame size, the code 0 to 3 the frame count); `None` for an empty
/// packet, a code 3 packet without its count byte, or more than 120 ms (RFC 6716 §3.2.5).
pub fn opus_packet_duration(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)], // SILK-only: 10, 20, 40, 60 ms
        12..=15 => [480, 960][usize::from(config % 2)],            // Hybrid: 10, 20 ms
        _ => [120, 240, 480, 960][usize::from(config % 4)],        // CELT-only: 2.5, 5, 10, 20 ms
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let total = frame * frames;
    (frames > 0 && total <= 5760).then_some(total)
}

/// Little-endian fields of a comment header.
struct Fields<'a> {
    rest: &'a [u8],
}

impl Fields<'_> {
    fn u32(&mut self) -> Option<u32> {
        let (b, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(u32::from_le_bytes(*b))
    }

    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.u32()?).ok()?;
        let s = self.rest.get(..len)?;
        self.rest = &self.rest[len..];
        Some(String::from_utf8_lossy(s).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_from_toc() {
        assert_eq!(opus_packet_duration(&[0xfc]), Some(960)); // CELT 20 ms, code 0 (config 31)
        assert_eq!(opus_packet_duration(&[0x79]), Some(1920)); // config 15 (Hybrid 20 ms), code 1: two frames
        assert_eq!(opus_packet_duration(&[0x1b, 0x02]), Some(5760)); // config 3 (SILK 60 ms), code 3, 2 frames
        assert_eq!(opus_packet_duration(&[0x1b, 0x03]), None); // 180 ms: over 120 ms
        assert_eq!(opus_packet_duration(&[0x03]), None); // code 3 without its count
        assert_eq!(opus_packet_duration(&[0x03, 0x00]), None); // zero frames
        assert_eq!(opus_packet_duration(&[]), None);
    }

    #[test]
    fn head_round_trip_and_errors() {
        let head = OpusHead {
            output_gain: -256,
            ..OpusHead::new(2, 312)
        };
        let bytes = head.to_bytes();
        assert_eq!(bytes.len(), 19);
        assert_eq!(OpusHead::parse(&bytes, 0).unwrap(), head);
        assert!(OpusHead::parse(&bytes[..18], 0).is_err());
        let mut three = bytes.clone();
        three[9] = 3;
        assert!(OpusHead::parse(&three, 0)
            .unwrap_err()
            .to_string()
            .contains("mapping family 0"));
        let surround = OpusHead {
            channels: 3,
            mapping_family: 1,
            mapping: Some(ChannelMapping {
                stream_count: 2,
                coupled_count: 1,
                mapping: vec![0, 2, 1],
            }),
            ..head
        };
        assert_eq!(OpusHead::parse(&surround.to_bytes(), 0).unwrap(), surround);
    }

    #[test]
    fn tags_round_trip_and_hostile_count() {
        let tags = OpusTags {
            vendor: "oxirtc".into(),
            comments: vec!["TITLE=call".into()],
        };
        assert_eq!(OpusTags::parse(&tags.to_bytes(), 0).unwrap(), tags);
        let mut hostile = b"OpusTags".to_vec();
        hostile.extend_from_slice(&0u32.to_le_bytes());
        hostile.extend_from_slice(&u32::MAX.to_le_bytes());
        let err = OpusTags::parse(&hostile, 77).unwrap_err().to_string();
        assert!(err.contains("offset 77") && err.contains("comment 0"), "{err}");
    }
}
