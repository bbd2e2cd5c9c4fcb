//! Audio payloads: Opus (RFC 7587), G.711 PCMU/PCMA and G.722 (RFC 3551 §4.5.14, §4.5.2).
//!
//! Each audio payload is a frame of its own. Opus packets are never split (RFC 7587 §4.2); G.711 and
//! G.722 frames are split at any byte, and each payload's RTP timestamp advances by
//! [`AudioInfo::samples`] (its length in bytes for both: G.711 has one byte per 8 kHz sample, and
//! G.722 is clocked at 8000 Hz in RTP although it samples at 16 kHz, RFC 3551 §4.5.2).

use super::{malformed, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// The audio codecs handled here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// Opus, RTP clock 48 000 Hz (RFC 7587 §4.1).
    Opus,
    /// G.711 µ-law, RTP clock 8000 Hz (RFC 3551 §4.5.14).
    Pcmu,
    /// G.711 A-law, RTP clock 8000 Hz (RFC 3551 §4.5.14).
    Pcma,
    /// G.722, RTP clock 8000 Hz (RFC 3551 §4.5.2).
    G722,
}

impl AudioCodec {
    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Opus => 48_000,
            Self::Pcmu | Self::Pcma | Self::G722 => 8000,
        }
    }

    /// The payload's duration in RTP clock units, checking the payload on the way.
    pub fn samples(self, payload: &[u8]) -> Result<u32, RtpError> {
        if payload.is_empty() {
            return Err(malformed("audio payload", "is empty"));
        }
        match self {
            Self::Opus => opus_samples(payload),
            // RFC 3551 §4.5.14: one octet per sample; §4.5.2: G.722 octets count 8000 Hz ticks.
            Self::Pcmu | Self::Pcma | Self::G722 => {
                u32::try_from(payload.len()).map_err(|_| malformed("audio payload", "longer than 2^32 bytes"))
            }
        }
    }
}

/// What an audio payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// The codec.
    pub codec: AudioCodec,
    /// Duration in RTP clock units ([`AudioCodec::clock_rate`]).
    pub samples: u32,
}

/// Samples at 48 kHz in one Opus packet, from its TOC byte and, for code 3, its frame count byte
/// (RFC 6716 §3.1, §3.2.5). Packets above 120 ms are malformed (§3.2.5, requirement R5).
pub fn opus_samples(packet: &[u8]) -> Result<u32, RtpError> {
    const WHAT: &str = "Opus packet";
    let Some(&toc) = packet.first() else {
        return Err(malformed(WHAT, "is empty (RFC 6716 §3.1 needs a TOC byte)"));
    };
    // RFC 6716 §3.1 Table 2: config = TOC >> 3; frame sizes by mode.
    let config = toc >> 3;
    let per_frame: u32 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)], // SILK 10/20/40/60 ms
        12..=15 => [480, 960][usize::from(config % 2)],            // Hybrid 10/20 ms
        _ => [120, 240, 480, 960][usize::from(config % 4)],        // CELT 2.5/5/10/20 ms
    };
    // §3.1: c, the frame count code.
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => {
            // §3.2.5: frame count byte |v|p|     M     |, M >= 1.
            let Some(&m) = packet.get(1) else {
                return Err(RtpError::Truncated {
                    what: "Opus code 3 packet",
                    needed: 2,
                    available: 1,
                });
            };
            let m = u32::from(m & 0x3f);
            if m == 0 {
                return Err(malformed(
                    WHAT,
                    "code 3 packet with 0 frames (RFC 6716 §3.2.5 [R5])",
                ));
            }
            m
        }
    };
    let samples = per_frame * frames;
    if samples > 5760 {
        return Err(malformed(WHAT, "longer than 120 ms (RFC 6716 §3.2.5 [R5])"));
    }
    Ok(samples)
}

/// Depacketizer for the audio codecs: each payload is a whole frame.
#[derive(Debug, Clone)]
pub struct AudioDepacketizer {
    codec: AudioCodec,
}

impl AudioDepacketizer {
    /// A depacketizer for `codec`.
    pub fn new(codec: AudioCodec) -> Self {
        Self { codec }
    }
}

impl Depacketizer for AudioDepacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let samples = self.codec.samples(payload)?;
        out.extend_from_slice(payload);
        Ok(PayloadInfo {
            start: FrameStart::Begins,
            end: true,
            keyframe: true,
            codec: CodecInfo::Audio(AudioInfo {
                codec: self.codec,
                samples,
            }),
        })
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        false
    }
}

/// Packetizer for the audio codecs: an Opus packet goes whole into one payload (RFC 7587 §4.2); a
/// G.711 or G.722 frame is split into payloads of at most the maximum size.
#[derive(Debug, Clone)]
pub struct AudioPacketizer {
    codec: AudioCodec,
}

impl AudioPacketizer {
    /// A packetizer for `codec`.
    pub fn new(codec: AudioCodec) -> Self {
        Self { codec }
    }
}

impl Packetizer for AudioPacketizer {
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        if max_payload == 0 {
            return Err(RtpError::MaxPayloadTooSmall {
                what: "audio",
                needed: 1,
                max: 0,
            });
        }
        self.codec.samples(frame)?;
        if self.codec == AudioCodec::Opus {
            if frame.len() > max_payload {
                return Err(RtpError::TooLargeForPayload {
                    what: "Opus packet",
                    size: frame.len(),
                    max: max_payload,
                });
            }
            out.begin();
            out.extend(frame);
            return Ok(());
        }
        for chunk in frame.chunks(max_payload) {
            out.begin();
            out.extend(chunk);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_durations_from_the_toc() {
        // config 0 (SILK NB 10 ms), c=0: one frame.
        assert_eq!(opus_samples(&[0x00]), Ok(480));
        // config 3 (SILK NB 60 ms), c=1: two frames = 120 ms.
        assert_eq!(opus_samples(&[0x19, 0, 0]), Ok(5760));
        // config 13 (Hybrid SWB 20 ms), c=2.
        assert_eq!(opus_samples(&[0x6a, 1, 2]), Ok(1920));
        // config 16 (CELT NB 2.5 ms), c=3, M=48: 120 ms.
        assert_eq!(opus_samples(&[0x83, 48]), Ok(5760));
        // config 31 (CELT FB 20 ms), c=0: the usual WebRTC packet.
        assert_eq!(opus_samples(&[0xf8, 0xff, 0xfe]), Ok(960));
    }

    #[test]
    fn malformed_opus_packets() {
        assert!(opus_samples(&[]).is_err());
        assert!(opus_samples(&[0x03]).is_err()); // code 3 without its count byte
        assert!(opus_samples(&[0x03, 0x00]).is_err()); // M = 0
        assert!(opus_samples(&[0x83, 49]).is_err()); // 122.5 ms
        assert!(opus_samples(&[0x1b, 3]).is_err()); // 3 x 60 ms
    }

    #[test]
    fn g711_and_g722_split_and_count_bytes() {
        let frame: Vec<u8> = (0..=255).collect();
        let mut out = Payloads::new();
        for codec in [AudioCodec::Pcmu, AudioCodec::Pcma, AudioCodec::G722] {
            AudioPacketizer::new(codec)
                .packetize(&frame, 160, &mut out)
                .unwrap();
            assert_eq!(out.len(), 2);
            assert!(!out.marker(1));
            let mut d = AudioDepacketizer::new(codec);
            let mut got = Vec::new();
            let info = d.depacketize(out.get(1).unwrap(), &mut got).unwrap();
            assert_eq!(info.codec, CodecInfo::Audio(AudioInfo { codec, samples: 96 }));
            assert_eq!(got, frame[160..]);
        }
        assert_eq!(AudioCodec::G722.clock_rate(), 8000);
    }

    #[test]
    fn opus_is_never_fragmented() {
        let mut out = Payloads::new();
        let mut p = AudioPacketizer::new(AudioCodec::Opus);
        assert!(matches!(
            p.packetize(&[0xf8; 100], 99, &mut out),
            Err(RtpError::TooLargeForPayload { .. })
        ));
        p.packetize(&[0xf8; 100], 100, &mut out).unwrap();
        assert_eq!(out.len(), 1);
    }
}
