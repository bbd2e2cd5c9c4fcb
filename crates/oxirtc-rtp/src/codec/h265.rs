//! H.265 payloads (RFC 7798): single NAL unit packets (§4.4.1), aggregation packets (type 48,
//! §4.4.2) and fragmentation units (type 49, §4.4.3); PACI packets (type 50, §4.4.4) are refused.
//! DONL fields are not supported: `sprop-max-don-diff` must be 0 (the default), as in WebRTC.
//!
//! Frames are Annex B access units; [`H265Depacketizer`] writes 4-byte start codes.

use super::nal::{AnnexB, START_CODE};
use super::{malformed, need, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// Aggregation packet type (RFC 7798 §4.4.2).
pub const AP: u8 = 48;
/// Fragmentation unit type (RFC 7798 §4.4.3).
pub const FU: u8 = 49;
/// PACI packet type (RFC 7798 §4.4.4).
pub const PACI: u8 = 50;

/// The NAL unit types one payload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H265Info {
    /// Bit `t` is set when a NAL unit of type `t` (0..=63) is present, whole or as a fragment.
    pub nal_types: u64,
}

impl H265Info {
    /// Whether a NAL unit of type `nal_type` is present.
    pub fn has(&self, nal_type: u8) -> bool {
        nal_type < 64 && self.nal_types & (1 << nal_type) != 0
    }

    /// An IRAP picture (BLA, IDR or CRA: types 16-21, H.265 Table 7-1) is present.
    pub fn is_keyframe(&self) -> bool {
        self.nal_types & (0x3f << 16) != 0
    }
}

/// The NAL unit type in a 2-byte H.265 NAL unit header `|F|Type|LayerId|TID|` (RFC 7798 §1.1.4).
pub fn nal_type(header: &[u8]) -> u8 {
    header.first().map_or(0, |b| (b >> 1) & 0x3f)
}

/// One H.265 RTP payload, borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H265Payload<'a> {
    /// A whole NAL unit, its 2-byte header included (§4.4.1).
    Single(&'a [u8]),
    /// An aggregation packet's NAL units, already checked; iterate with [`Self::units`].
    Aggregation(&'a [u8]),
    /// A fragment of a NAL unit (§4.4.3).
    Fragment {
        /// S: the first fragment.
        start: bool,
        /// E: the last fragment.
        end: bool,
        /// The fragmented NAL unit's 2-byte header, rebuilt from the payload header and FuType.
        nal_header: [u8; 2],
        /// The fragment's bytes.
        data: &'a [u8],
    },
}

impl<'a> H265Payload<'a> {
    /// Parses one payload (RFC 7798 §4.4).
    pub fn parse(payload: &'a [u8]) -> Result<Self, RtpError> {
        need("H.265 payload header", payload, 2)?;
        if payload[0] & 0x80 != 0 {
            return Err(malformed("H.265 payload header", "F bit set (§4.4)"));
        }
        match nal_type(payload) {
            AP => {
                // §4.4.2: (16-bit NALU size, NAL unit)+, at least two units.
                let units = &payload[2..];
                let mut rest = units;
                let mut count = 0;
                while !rest.is_empty() {
                    need("H.265 AP unit size", rest, 2)?;
                    let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    if size < 2 {
                        return Err(malformed("H.265 AP", "NAL unit shorter than its 2-byte header"));
                    }
                    need("H.265 AP unit", rest, 2 + size)?;
                    rest = &rest[2 + size..];
                    count += 1;
                }
                if count < 2 {
                    return Err(malformed("H.265 AP", "fewer than two NAL units (§4.4.2)"));
                }
                Ok(Self::Aggregation(units))
            }
            FU => {
                // §4.4.3: FU header |S|E|FuType|.
                need("H.265 FU", payload, 3)?;
                let fu = payload[2];
                let (start, end) = (fu & 0x80 != 0, fu & 0x40 != 0);
                if start && end {
                    return Err(malformed("H.265 FU", "S and E both set (§4.4.3)"));
                }
                let t = fu & 0x3f;
                if t >= AP {
                    return Err(malformed("H.265 FU", "FuType is 48-63"));
                }
                let nal_header = [(payload[0] & 0x81) | (t << 1), payload[1]];
                Ok(Self::Fragment {
                    start,
                    end,
                    nal_header,
                    data: &payload[3..],
                })
            }
            PACI => Err(RtpError::UnsupportedPayload {
                what: "H.265 payload",
                detail: "PACI packets (§4.4.4)",
            }),
            51..=63 => Err(malformed("H.265 payload", "reserved NAL unit type 51-63")),
            _ => Ok(Self::Single(payload)),
        }
    }

    /// The NAL units of an aggregation packet (none for the other kinds).
    pub fn units(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut rest = match self {
            Self::Aggregation(u) => *u,
            _ => &[],
        };
        std::iter::from_fn(move || {
            // Lengths were checked in `parse`; a short read ends the iteration.
            let size = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
            let unit = rest.get(2..2 + size)?;
            rest = &rest[2 + size..];
            Some(unit)
        })
    }

    /// The NAL unit types carried and whether the payload may begin a frame.
    pub fn info(&self) -> PayloadInfo {
        let mut h = H265Info::default();
        let start = match self {
            Self::Single(nal) => {
                h.nal_types |= 1 << nal_type(nal);
                FrameStart::MayBegin
            }
            Self::Aggregation(_) => {
                self.units().for_each(|u| h.nal_types |= 1 << nal_type(u));
                FrameStart::MayBegin
            }
            Self::Fragment {
                start, nal_header, ..
            } => {
                h.nal_types |= 1 << nal_type(nal_header);
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
            codec: CodecInfo::H265(h),
        }
    }
}

/// H.265 depacketizer: payloads to Annex B with 4-byte start codes.
#[derive(Debug, Clone, Default)]
pub struct H265Depacketizer;

impl Depacketizer for H265Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let p = H265Payload::parse(payload)?;
        let info = p.info();
        match p {
            H265Payload::Single(nal) => {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(nal);
            }
            H265Payload::Aggregation(_) => {
                for unit in p.units() {
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(unit);
                }
            }
            H265Payload::Fragment {
                start,
                nal_header,
                data,
                ..
            } => {
                if start {
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(&nal_header);
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

/// H.265 packetizer: single NAL unit packets, aggregation packets for runs of small NAL units
/// (such as VPS, SPS, PPS), fragmentation units for large ones. Takes Annex B access units.
#[derive(Debug, Clone, Default)]
pub struct H265Packetizer;

impl Packetizer for H265Packetizer {
    fn packetize(&mut self, frame: &[u8], max: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        let r = write(frame, max, out);
        if r.is_err() {
            out.clear();
        }
        r
    }
}

fn write(frame: &[u8], max: usize, out: &mut Payloads) -> Result<(), RtpError> {
    if max < 4 {
        return Err(RtpError::MaxPayloadTooSmall {
            what: "H.265",
            needed: 4,
            max,
        });
    }
    let check = |nal: &[u8]| {
        if nal.len() < 2 || nal_type(nal) >= AP || nal[0] & 0x80 != 0 {
            return Err(malformed(
                "H.265 access unit",
                "NAL unit shorter than 2 bytes, F set, or of type 48-63",
            ));
        }
        Ok(())
    };
    let mut nals = AnnexB::new("H.265 access unit", frame)?.peekable();
    let fits = |n: &[u8], used: usize| used + 2 + n.len() <= max;
    while let Some(nal) = nals.next() {
        check(nal)?;
        if fits(nal, 2) && nals.peek().is_some_and(|n| fits(n, 2 + 2 + nal.len())) {
            // §4.4.2: PayloadHdr F = OR of the units', LayerId and TID the lowest.
            out.begin();
            out.extend(&[0, 0]);
            let (mut f, mut layer, mut tid) = (0u8, u8::MAX, u8::MAX);
            let mut unit = nal;
            loop {
                f |= unit[0] & 0x80;
                layer = layer.min((unit[0] & 0x01) << 5 | unit[1] >> 3);
                tid = tid.min(unit[1] & 0x07);
                out.extend(&(unit.len() as u16).to_be_bytes());
                out.extend(unit);
                if !nals.peek().is_some_and(|n| fits(n, out.current_len())) {
                    break;
                }
                match nals.next() {
                    Some(n) => {
                        check(n)?;
                        unit = n;
                    }
                    None => break,
                }
            }
            let hdr = out.current_mut();
            hdr[0] = f | AP << 1 | layer >> 5;
            hdr[1] = (layer & 0x1f) << 3 | tid;
        } else if nal.len() <= max {
            out.begin();
            out.extend(nal);
        } else {
            // §4.4.3: PayloadHdr is the NAL header with type 49; FU header |S|E|FuType|.
            let hdr = [(nal[0] & 0x81) | FU << 1, nal[1]];
            let body = &nal[2..];
            let count = body.len().div_ceil(max - 3);
            for (i, part) in body.chunks(max - 3).enumerate() {
                let fu = u8::from(i == 0) << 7 | u8::from(i + 1 == count) << 6 | nal_type(nal);
                out.begin();
                out.extend(&hdr);
                out.push_byte(fu);
                out.extend(part);
            }
        }
    }
    if out.is_empty() {
        return Err(malformed("H.265 access unit", "holds no NAL unit"));
    }
    out.set_marker_on_last();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depack(p: &[u8]) -> Result<(PayloadInfo, Vec<u8>), RtpError> {
        let mut out = Vec::new();
        let info = H265Depacketizer.depacketize(p, &mut out)?;
        Ok((info, out))
    }

    #[test]
    fn aggregation_packet_per_section_4_4_2() {
        let p = [
            0x60, 0x01, // PayloadHdr: F=0 Type=48 LayerId=0 TID=1
            0x00, 0x03, 0x40, 0x01, 0xaa, // VPS (type 32)
            0x00, 0x03, 0x42, 0x01, 0xbb, // SPS (type 33)
        ];
        let (info, out) = depack(&p).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x40, 0x01, 0xaa, 0, 0, 0, 1, 0x42, 0x01, 0xbb]);
        assert!(!info.keyframe);
        let CodecInfo::H265(h) = info.codec else {
            panic!("not H.265")
        };
        assert!(h.has(32) && h.has(33));
    }

    #[test]
    fn fragmentation_unit_per_section_4_4_3() {
        // PayloadHdr type 49 LayerId 0 TID 1; FU header S=1 FuType 19 (IDR_W_RADL).
        let (info, out) = depack(&[0x62, 0x01, 0x93, 0xcc]).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x26, 0x01, 0xcc]);
        assert!(info.keyframe);
        let (info, out) = depack(&[0x62, 0x01, 0x53, 0xdd]).unwrap();
        assert_eq!((info.start, out), (FrameStart::Continues, vec![0xdd]));
    }

    #[test]
    fn malformed_and_unsupported() {
        assert!(depack(&[0x40]).is_err());
        assert!(depack(&[0xc0, 0x01, 0]).is_err()); // F set
        assert!(depack(&[0x60, 0x01, 0x00, 0x03, 0x40, 0x01, 0xaa]).is_err()); // AP with one unit
        assert!(depack(&[0x60, 0x01, 0x00, 0x09, 0x40]).is_err()); // AP unit cut short
        assert!(depack(&[0x62, 0x01]).is_err()); // FU without FU header
        assert!(depack(&[0x62, 0x01, 0xd3, 1]).is_err()); // S and E
        assert!(depack(&[0x62, 0x01, 0xb1, 1]).is_err()); // FuType 49
        assert!(matches!(
            depack(&[0x64, 0x01, 0, 0]),
            Err(RtpError::UnsupportedPayload { .. })
        )); // PACI
    }

    #[test]
    fn packetizer_aggregates_and_fragments() {
        let mut au = vec![
            0, 0, 0, 1, 0x40, 0x01, 1, 0, 0, 0, 1, 0x42, 0x01, 2, 0, 0, 0, 1, 0x26, 0x01,
        ];
        au.extend(1..=30u8);
        let mut out = Payloads::new();
        H265Packetizer.packetize(&au, 12, &mut out).unwrap();
        assert_eq!(
            out.get(0),
            Some(&[0x60, 0x01, 0, 3, 0x40, 0x01, 1, 0, 3, 0x42, 0x01, 2][..])
        );
        assert_eq!(out.get(1).unwrap()[..3], [0x62, 0x01, 0x93]);
        assert_eq!(out.get(out.len() - 1).unwrap()[2], 0x53);
        let mut frame = Vec::new();
        for (p, _) in out.iter() {
            H265Depacketizer.depacketize(p, &mut frame).unwrap();
        }
        assert_eq!(frame, au);
    }
}
