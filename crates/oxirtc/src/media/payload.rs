//! From a negotiated codec to the packetizer and depacketizer of its RTP payload format
//! (oxirtc-rtp's `codec` module: RFC 7587, RFC 3551, RFC 7741, RFC 9628, RFC 6184, RFC 7798, AOM AV1).

use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer, AudioPacketizer};
use oxirtc_rtp::codec::av1::{Av1Depacketizer, Av1Packetizer};
use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Packetizer, PacketizationMode};
use oxirtc_rtp::codec::h265::{H265Depacketizer, H265Packetizer};
use oxirtc_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
use oxirtc_rtp::codec::vp9::{Vp9Depacketizer, Vp9Packetizer};
use oxirtc_rtp::codec::{Depacketizer, Packetizer};

use super::Codec;

/// A packetizer for frames of `codec`, `None` for a codec oxirtc cannot packetize. Frame formats
/// are those of `oxirtc_rtp::codec` (Annex B for H.264/H.265, OBUs with size fields for AV1).
pub fn packetizer_for(codec: &Codec) -> Option<Box<dyn Packetizer + Send + Sync>> {
    let name = codec.name.to_ascii_uppercase();
    Some(match name.as_str() {
        "OPUS" => Box::new(AudioPacketizer::new(AudioCodec::Opus)),
        "PCMU" => Box::new(AudioPacketizer::new(AudioCodec::Pcmu)),
        "PCMA" => Box::new(AudioPacketizer::new(AudioCodec::Pcma)),
        "G722" => Box::new(AudioPacketizer::new(AudioCodec::G722)),
        // RFC 7741 §4.2: a 15-bit picture id lets the receiver tell a lost frame from a late one.
        "VP8" => Box::new(Vp8Packetizer::new(Some(0))),
        "VP9" => Box::new(Vp9Packetizer::new(0)),
        "H264" => Box::new(H264Packetizer::new(match codec.param("packetization-mode") {
            Some("1") => PacketizationMode::NonInterleaved,
            _ => PacketizationMode::SingleNal,
        })),
        "H265" => Box::new(H265Packetizer),
        "AV1" => Box::new(Av1Packetizer),
        _ => return None,
    })
}

/// A depacketizer for RTP payloads of `codec`, `None` for a codec oxirtc cannot depacketize.
pub fn depacketizer_for(codec: &Codec) -> Option<Box<dyn Depacketizer + Send + Sync>> {
    let name = codec.name.to_ascii_uppercase();
    Some(match name.as_str() {
        "OPUS" => Box::new(AudioDepacketizer::new(AudioCodec::Opus)),
        "PCMU" => Box::new(AudioDepacketizer::new(AudioCodec::Pcmu)),
        "PCMA" => Box::new(AudioDepacketizer::new(AudioCodec::Pcma)),
        "G722" => Box::new(AudioDepacketizer::new(AudioCodec::G722)),
        "VP8" => Box::new(Vp8Depacketizer),
        "VP9" => Box::new(Vp9Depacketizer),
        "H264" => Box::new(H264Depacketizer),
        "H265" => Box::new(H265Depacketizer),
        "AV1" => Box::new(Av1Depacketizer::default()),
        _ => return None,
    })
}
