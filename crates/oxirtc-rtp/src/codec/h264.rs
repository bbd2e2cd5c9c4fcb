//! H.264 payloads (RFC 6184): single NAL unit packets (§5.6), STAP-A (§5.7.1) and FU-A (§5.8), in
//! packetization-mode 0 (single NAL unit) and 1 (non-interleaved) (§6.2, §6.3).
//!
//! Frames are Annex B access units. [`H264Depacketizer`] writes each NAL unit after a 4-byte start
//! code (`00 00 00 01`), which any H.264 decoder reads; [`H264Packetizer`] accepts 3- and 4-byte
//! start codes. Interleaved mode (STAP-B, MTAP16, MTAP24, FU-B) is not supported.

use super::nal::{AnnexB, START_CODE};
use super::{malformed, need, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// NAL unit type of an IDR picture's slice (H.264 Table 7-1).
pub const NAL_IDR: u8 = 5;
/// NAL unit type of a sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// NAL unit type of a picture parameter set.
pub const NAL_PPS: u8 = 8;
/// NAL unit type of STAP-A (RFC 6184 §5.4, Table 1).
pub const STAP_A: u8 = 24;
/// NAL unit type of FU-A (RFC 6184 §5.4, Table 1).
pub const FU_A: u8 = 28;

/// The NAL unit types one payload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H264Info {
    /// Bit `t` is set when a NAL unit of type `t` (0..=31) is present, whole or as a fragment.
    pub nal_types: u32,
}

impl H264Info {
    /// Whether a NAL unit of type `nal_type` is present.
    pub fn has(&self, nal_type: u8) -> bool {
        nal_type < 32 && self.nal_types & (1 << nal_type) != 0
    }

    /// An IDR slice or a sequence parameter set is present: the frame starts a decodable sequence.
    pub fn is_keyframe(&self) -> bool {
        self.has(NAL_IDR) || self.has(NAL_SPS)
    }
}

/// One H.264 RTP payload, borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H264Payload<'a> {
    /// A whole NAL unit, header included (§5.6).
    Single(&'a [u8]),
    /// NAL units aggregated in a STAP-A (§5.7.1); iterate them with [`StapA::units`].
    StapA(StapA<'a>),
    /// A fragment of a NAL unit (§5.8).
    FuA {
        /// The S bit: the first fragment.
        start: bool,
        /// The E bit: the last fragment.
        end: bool,
        /// The fragmented NAL unit's header, rebuilt from the FU indicator (F, NRI) and FU header
        /// (type).
        nal_header: u8,
        /// The fragment's bytes (the NAL unit's bytes after its header).
        data: &'a [u8],
    },
}

/// A validated STAP-A payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StapA<'a> {
    units: &'a [u8],
}

impl<'a> StapA<'a> {
    /// The aggregated NAL units, each with its header.
    pub fn units(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = self.units;
        std::iter::from_fn(move || {
            // Lengths were checked in `H264Payload::parse`; a short read just ends the iteration.
            let size = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
            let unit = rest.get(2..2 + size)?;
            rest = &rest[2 + size..];
            Some(unit)
        })
    }
}

impl<'a> H264Payload<'a> {
    /// Parses one RTP payload (RFC 6184 §5.2-§5.8).
    pub fn parse(payload: &'a [u8]) -> Result<Self, RtpError> {
        need("H.264 payload", payload, 1)?;
        // RFC 6184 §5.3: F(1) NRI(2) Type(5).
        match payload[0] & 0x1f {
            1..=23 => Ok(Self::Single(payload)),
            STAP_A => {
                // §5.7.1: STAP-A NAL header, then (16-bit NALU size, NAL unit)+.
                let units = &payload[1..];
                let mut rest = units;
                if rest.is_empty() {
                    return Err(malformed("H.264 STAP-A", "carries no NAL unit"));
                }
                while !rest.is_empty() {
                    need("H.264 STAP-A unit size", rest, 2)?;
                    let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    if size == 0 {
                        return Err(malformed("H.264 STAP-A", "NAL unit of size 0"));
                    }
                    need("H.264 STAP-A unit", rest, 2 + size)?;
                    rest = &rest[2 + size..];
                }
                Ok(Self::StapA(StapA { units }))
            }
            FU_A => {
                // §5.8: FU indicator (F NRI 28), FU header S(1) E(1) R(1) Type(5).
                need("H.264 FU-A", payload, 2)?;
                let (start, end) = (payload[1] & 0x80 != 0, payload[1] & 0x40 != 0);
                if start && end {
                    return Err(malformed("H.264 FU-A", "S and E both set (§5.8)"));
                }
                let nal_type = payload[1] & 0x1f;
                if matches!(nal_type, 0 | 24..=31) {
                    return Err(malformed("H.264 FU-A", "fragmented NAL unit type is not 1-23"));
                }
                Ok(Self::FuA {
                    start,
                    end,
                    nal_header: (payload[0] & 0xe0) | nal_type,
                    data: &payload[2..],
                })
            }
            25..=27 | 29 => Err(RtpError::UnsupportedPayload {
                what: "H.264 payload",
                detail: "STAP-B, MTAP and FU-B need packetization-mode 2 (interleaved)",
            }),
            _ => Err(malformed("H.264 payload", "NAL unit type 0, 30 or 31 (§5.4)")),
        }
    }

    /// The NAL unit types this payload carries and whether it may begin a frame.
    pub fn info(&self) -> PayloadInfo {
        let mut h = H264Info::default();
        let mut add = |header: u8| h.nal_types |= 1 << (header & 0x1f);
        let start = match self {
            Self::Single(nal) => {
                add(nal[0]);
                FrameStart::MayBegin
            }
            Self::StapA(s) => {
                s.units().for_each(|u| add(u[0]));
                FrameStart::MayBegin
            }
            Self::FuA {
                start, nal_header, ..
            } => {
                add(*nal_header);
                if *start {
                    FrameStart::MayBegin
                } else {
                    FrameStart::Continues
                }
            }
        };
        PayloadInfo {
            start,
            end: false,
            keyframe: h.is_keyframe(),
            codec: CodecInfo::H264(h),
        }
    }
}

/// H.264 depacketizer: payloads to Annex B with 4-byte start codes.
#[derive(Debug, Clone, Default)]
pub struct H264Depacketizer;

impl Depacketizer for H264Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let p = H264Payload::parse(payload)?;
        let info = p.info();
        match p {
            H264Payload::Single(nal) => {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(nal);
            }
            H264Payload::StapA(s) => {
                for unit in s.units() {
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(unit);
                }
            }
            H264Payload::FuA {
                start,
                nal_header,
                data,
                ..
            } => {
                // §5.8: the first fragment's FU indicator and header rebuild the NAL header.
                if start {
                    out.extend_from_slice(&START_CODE);
                    out.push(nal_header);
                }
                out.extend_from_slice(data);
            }
        }
        Ok(info)
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        true
    }
}

/// Packetization modes (RFC 6184 §6.2, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PacketizationMode {
    /// Mode 0: one NAL unit per payload; a NAL unit above the maximum payload size is an error.
    SingleNal,
    /// Mode 1: single NAL units, STAP-A for runs of small ones (such as SPS and PPS), FU-A for
    /// large ones. WebRTC's usual mode.
    #[default]
    NonInterleaved,
}

/// H.264 packetizer. Takes Annex B access units.
#[derive(Debug, Clone, Default)]
pub struct H264Packetizer {
    mode: PacketizationMode,
}

impl H264Packetizer {
    /// A packetizer in `mode`.
    pub fn new(mode: PacketizationMode) -> Self {
        Self { mode }
    }
}

impl Packetizer for H264Packetizer {
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        let r = self.write(frame, max_payload, out);
        if r.is_err() {
            out.clear();
        }
        r
    }
}

impl H264Packetizer {
    fn write(&self, frame: &[u8], max: usize, out: &mut Payloads) -> Result<(), RtpError> {
        if max < 3 {
            return Err(RtpError::MaxPayloadTooSmall {
                what: "H.264",
                needed: 3,
                max,
            });
        }
        let mut nals = AnnexB::new("H.264 access unit", frame)?.peekable();
        while let Some(nal) = nals.next() {
            let nal = check_type(nal)?;
            if self.mode == PacketizationMode::SingleNal {
                if nal.len() > max {
                    return Err(RtpError::TooLargeForPayload {
                        what: "H.264 NAL unit (packetization-mode 0)",
                        size: nal.len(),
                        max,
                    });
                }
                out.begin();
                out.extend(nal);
                continue;
            }
            // §5.7.1: aggregate while this unit and the next fit one STAP-A.
            let next_fits = |n: &[u8], used: usize| used + 2 + n.len() <= max;
            if next_fits(nal, 1) && nals.peek().is_some_and(|n| next_fits(n, 1 + 2 + nal.len())) {
                out.begin();
                out.push_byte(STAP_A);
                let mut f_nri = 0u8;
                let mut unit = nal;
                loop {
                    // §5.7: F is the OR and NRI the maximum of the aggregated units'.
                    f_nri = (f_nri & 0x80) | (unit[0] & 0x80) | (f_nri & 0x60).max(unit[0] & 0x60);
                    out.extend(&(unit.len() as u16).to_be_bytes());
                    out.extend(unit);
                    if !nals.peek().is_some_and(|n| next_fits(n, out.current_len())) {
                        break;
                    }
                    match nals.next() {
                        Some(n) => unit = check_type(n)?,
                        None => break,
                    }
                }
                out.current_mut()[0] = f_nri | STAP_A;
            } else if nal.len() <= max {
                out.begin();
                out.extend(nal);
            } else {
                write_fu_a(nal, max, out);
            }
        }
        if out.is_empty() {
            return Err(malformed("H.264 access unit", "holds no NAL unit"));
        }
        out.set_marker_on_last();
        Ok(())
    }
}

/// RFC 6184 §5.4: an access unit holds NAL unit types 1-23 only.
fn check_type(nal: &[u8]) -> Result<&[u8], RtpError> {
    match nal[0] & 0x1f {
        1..=23 => Ok(nal),
        _ => Err(malformed(
            "H.264 access unit",
            "NAL unit type 0 or 24-31 in an access unit",
        )),
    }
}

/// RFC 6184 §5.8: the NAL header goes into the FU indicator and FU header; the rest is split.
fn write_fu_a(nal: &[u8], max: usize, out: &mut Payloads) {
    let indicator = (nal[0] & 0xe0) | FU_A;
    let body = &nal[1..];
    let chunk = max - 2;
    let count = body.len().div_ceil(chunk);
    for (i, part) in body.chunks(chunk).enumerate() {
        let mut header = nal[0] & 0x1f;
        if i == 0 {
            header |= 0x80;
        }
        if i + 1 == count {
            header |= 0x40;
        }
        out.begin();
        out.extend(&[indicator, header]);
        out.extend(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depack(p: &[u8]) -> Result<(PayloadInfo, Vec<u8>), RtpError> {
        let mut out = Vec::new();
        let info = H264Depacketizer.depacketize(p, &mut out)?;
        Ok((info, out))
    }

    #[test]
    fn stap_a_layout_of_rfc_6184_figure_7() {
        // Figure 7: STAP-A NAL HDR, NALU 1 size, NALU 1 (SPS), NALU 2 size, NALU 2 (PPS).
        let p = [
            0x78, // F=0 NRI=3 type=24 (STAP-A)
            0x00, 0x03, 0x67, 0x42, 0x00, // size 3, SPS (type 7)
            0x00, 0x02, 0x68, 0xce, // size 2, PPS (type 8)
        ];
        let (info, out) = depack(&p).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x67, 0x42, 0x00, 0, 0, 0, 1, 0x68, 0xce]);
        assert!(info.keyframe);
        let CodecInfo::H264(h) = info.codec else {
            panic!("not H.264 info")
        };
        assert!(h.has(NAL_SPS) && h.has(NAL_PPS) && !h.has(NAL_IDR));
    }

    #[test]
    fn fu_a_layout_of_rfc_6184_figure_14() {
        // Figure 14/15: FU indicator F=0 NRI=3 type 28, FU header S=1 E=0 R=0 type 5 (IDR).
        let (info, out) = depack(&[0x7c, 0x85, 0xaa, 0xbb]).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0xaa, 0xbb]);
        assert!(info.keyframe);
        assert_eq!(info.start, FrameStart::MayBegin);
        // A middle fragment: no start code, no header.
        let (info, out) = depack(&[0x7c, 0x05, 0xcc]).unwrap();
        assert_eq!(out, [0xcc]);
        assert_eq!(info.start, FrameStart::Continues);
    }

    #[test]
    fn malformed_payloads_are_errors() {
        assert!(depack(&[]).is_err());
        assert!(depack(&[0x78]).is_err()); // STAP-A without units
        assert!(depack(&[0x78, 0x00, 0x05, 0x67]).is_err()); // unit longer than the payload
        assert!(depack(&[0x78, 0x00, 0x00]).is_err()); // unit of size 0
        assert!(depack(&[0x78, 0x00, 0x01, 0x67, 0x00]).is_err()); // one stray size byte
        assert!(depack(&[0x7c]).is_err()); // FU-A without FU header
        assert!(depack(&[0x7c, 0xc5, 1]).is_err()); // S and E set
        assert!(depack(&[0x7c, 0x98, 1]).is_err()); // fragment of a STAP-A
        assert!(depack(&[0x00, 1]).is_err()); // type 0
        assert!(matches!(
            depack(&[0x19, 1]),
            Err(RtpError::UnsupportedPayload { .. })
        )); // STAP-B
    }

    #[test]
    fn mode_0_refuses_a_nal_unit_above_the_maximum() {
        let au = [0, 0, 0, 1, 0x65, 1, 2, 3, 4, 5];
        let mut out = Payloads::new();
        let err = H264Packetizer::new(PacketizationMode::SingleNal).packetize(&au, 5, &mut out);
        assert_eq!(
            err,
            Err(RtpError::TooLargeForPayload {
                what: "H.264 NAL unit (packetization-mode 0)",
                size: 6,
                max: 5
            })
        );
        assert!(out.is_empty());
        H264Packetizer::new(PacketizationMode::SingleNal)
            .packetize(&au, 6, &mut out)
            .unwrap();
        assert_eq!(out.get(0), Some(&au[4..]));
        assert!(out.marker(0));
    }

    #[test]
    fn mode_1_aggregates_small_and_fragments_large() {
        let mut au = vec![0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65];
        au.extend(1..=20u8);
        let mut out = Payloads::new();
        H264Packetizer::default().packetize(&au, 10, &mut out).unwrap();
        // STAP-A of SPS + PPS (NRI 3 from the SPS header 0x67), then FU-A of 20 body bytes in 8s.
        assert_eq!(out.get(0), Some(&[0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce][..]));
        assert_eq!(out.get(1).unwrap()[..2], [0x7c, 0x85]);
        assert_eq!(out.get(2).unwrap()[..2], [0x7c, 0x05]);
        assert_eq!(out.get(3).unwrap()[..2], [0x7c, 0x45]);
        assert_eq!(out.len(), 4);
        assert!(!out.marker(2) && out.marker(3));
        let mut frame = Vec::new();
        for (p, _) in out.iter() {
            H264Depacketizer.depacketize(p, &mut frame).unwrap();
        }
        let mut expected = vec![0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65];
        expected.extend(1..=20u8);
        assert_eq!(frame, expected);
    }
}
