//! AV1 payloads (AOM "RTP Payload Format For AV1" v1.0.0, §4.4 aggregation header and OBU
//! elements, §4.5 packetization rules, §5 packetizer and depacketizer notes).
//!
//! Frames are temporal units in the low overhead bitstream format (AV1 §5.2): OBUs one after the
//! other, each with `obu_has_size_field` = 1. The packetizer removes the size fields (§4.4: "the
//! `obu_has_size_field` SHOULD be set to zero"), temporal delimiters and tile list OBUs (§5), and
//! writes every OBU element with a length field (W = 0). The depacketizer drops temporal
//! delimiters and tile lists and puts the size fields back. The dependency descriptor is not read.

use super::{malformed, need, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// OBU types (AV1 §6.2.2) the payload format treats specially.
const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_TILE_LIST: u8 = 8;

/// The aggregation header (§4.4): `|Z|Y| W |N|-|-|-|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Av1AggregationHeader {
    /// Z: the first OBU element continues an OBU fragment from the previous packet.
    pub z: bool,
    /// Y: the last OBU element continues in the next packet.
    pub y: bool,
    /// W: the number of OBU elements, the last without a length field; 0 = all have one.
    pub w: u8,
    /// N: the packet is the first of a coded video sequence (a keyframe with a sequence header).
    pub n: bool,
}

/// A parsed AV1 payload: the aggregation header and the OBU elements, borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Av1Payload<'a> {
    /// The aggregation header.
    pub header: Av1AggregationHeader,
    elements: &'a [u8],
}

impl<'a> Av1Payload<'a> {
    /// Parses and checks one payload (§4.4).
    pub fn parse(payload: &'a [u8]) -> Result<Self, RtpError> {
        need("AV1 aggregation header", payload, 1)?;
        let b = payload[0];
        let header = Av1AggregationHeader {
            z: b & 0x80 != 0,
            y: b & 0x40 != 0,
            w: (b >> 4) & 0x03,
            n: b & 0x08 != 0,
        };
        let p = Self {
            header,
            elements: &payload[1..],
        };
        let mut count = 0;
        for e in p.raw_elements() {
            e?;
            count += 1;
        }
        if count == 0 || (header.w != 0 && count != usize::from(header.w)) {
            return Err(malformed(
                "AV1 payload",
                "OBU element count differs from W, or no element",
            ));
        }
        Ok(p)
    }

    /// The OBU elements (whole OBUs or fragments), without their length fields.
    pub fn elements(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.raw_elements().map_while(Result::ok)
    }

    fn raw_elements(&self) -> impl Iterator<Item = Result<&'a [u8], RtpError>> + 'a {
        let mut rest = self.elements;
        let w = usize::from(self.header.w);
        let mut i = 0;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            i += 1;
            let r = if w != 0 && i == w {
                // §4.4: with W > 0 the last element has no length field and takes the rest.
                Ok(std::mem::take(&mut rest))
            } else {
                read_leb128(rest).and_then(|(len, n)| {
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    need("AV1 OBU element", &rest[n..], len)?;
                    let e = &rest[n..n + len];
                    rest = &rest[n + len..];
                    Ok(e)
                })
            };
            match r {
                Ok([]) => Some(Err(malformed("AV1 OBU element", "has length 0"))),
                Err(e) => {
                    rest = &[];
                    Some(Err(e))
                }
                ok => Some(ok),
            }
        })
    }
}

/// Reads an unsigned LEB128 value of at most 8 bytes and below 2^32 (AV1 §4.10.5); returns it and
/// its length.
pub fn read_leb128(b: &[u8]) -> Result<(u32, usize), RtpError> {
    let mut value: u64 = 0;
    for i in 0..8 {
        let Some(&byte) = b.get(i) else {
            return Err(RtpError::Truncated {
                what: "AV1 leb128",
                needed: i + 1,
                available: b.len(),
            });
        };
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .map(|v| (v, i + 1))
                .map_err(|_| malformed("AV1 leb128", "value above 2^32 - 1"));
        }
    }
    Err(malformed("AV1 leb128", "longer than 8 bytes"))
}

/// Appends `value` as LEB128.
fn write_leb128(mut value: usize, out: &mut impl Extend<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.extend([byte]);
            return;
        }
        out.extend([byte | 0x80]);
    }
}

fn leb128_len(value: usize) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

/// One OBU of a temporal unit: header byte(s) and payload, the size field left out.
struct Obu<'a> {
    header: u8,
    extension: Option<u8>,
    payload: &'a [u8],
}

impl Obu<'_> {
    fn obu_type(&self) -> u8 {
        (self.header >> 3) & 0x0f
    }
}

/// Splits an OBU sequence (AV1 §5.3); an OBU without a size field takes the rest.
fn parse_obus(mut b: &[u8]) -> impl Iterator<Item = Result<Obu<'_>, RtpError>> {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        let r = parse_obu(b).map(|(obu, used)| {
            b = &b[used..];
            obu
        });
        if r.is_err() {
            b = &[];
        }
        Some(r)
    })
}

/// One OBU at the front of `b` (AV1 §5.3.1, §5.3.2) and the bytes it used.
fn parse_obu(b: &[u8]) -> Result<(Obu<'_>, usize), RtpError> {
    let header = b[0];
    if header & 0x80 != 0 {
        return Err(malformed("AV1 OBU header", "forbidden bit set"));
    }
    let mut i = 1;
    let extension = if header & 0x04 != 0 {
        need("AV1 OBU extension header", b, 2)?;
        i = 2;
        Some(b[1])
    } else {
        None
    };
    let size = if header & 0x02 != 0 {
        let (size, n) = read_leb128(&b[i..])?;
        i += n;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        need("AV1 OBU", &b[i..], size)?;
        size
    } else {
        b.len() - i
    };
    Ok((
        Obu {
            header: header & !0x02,
            extension,
            payload: &b[i..i + size],
        },
        i + size,
    ))
}

/// AV1 depacketizer. Keeps two buffers to reassemble OBUs across packets without allocating once
/// grown.
#[derive(Debug, Clone, Default)]
pub struct Av1Depacketizer {
    scratch: Vec<u8>,
    obu: Vec<u8>,
}

/// Per-element flags in the depacketizer's intermediate frame format: the element continues the
/// OBU before, or is continued after.
const CONTINUES: u8 = 1;
const CONTINUED: u8 = 2;

impl Depacketizer for Av1Depacketizer {
    /// Appends an intermediate form (flags, length, element per OBU element) that
    /// [`Self::finish_frame`] turns into OBUs once the whole frame is there.
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let p = Av1Payload::parse(payload)?;
        let count = p.elements().count();
        for (i, e) in p.elements().enumerate() {
            let mut flags = 0;
            if i == 0 && p.header.z {
                flags |= CONTINUES;
            }
            if i + 1 == count && p.header.y {
                flags |= CONTINUED;
            }
            out.push(flags);
            out.extend_from_slice(&(e.len() as u32).to_be_bytes());
            out.extend_from_slice(e);
        }
        Ok(PayloadInfo {
            start: if p.header.z {
                FrameStart::Continues
            } else {
                FrameStart::MayBegin
            },
            end: false,
            keyframe: p.header.n,
            codec: CodecInfo::Av1(p.header),
        })
    }

    fn finish_frame(&mut self, frame: &mut Vec<u8>) -> Result<(), RtpError> {
        self.scratch.clear();
        self.obu.clear();
        let mut rest = &frame[..];
        let mut open = false;
        while !rest.is_empty() {
            // The intermediate form was written by `depacketize` above.
            need("AV1 intermediate element", rest, 5)?;
            let flags = rest[0];
            let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            need("AV1 intermediate element", rest, 5 + len)?;
            let element = &rest[5..5 + len];
            rest = &rest[5 + len..];
            if (flags & CONTINUES != 0) != open {
                return Err(malformed(
                    "AV1 frame",
                    "OBU fragment without its neighbour (Z/Y mismatch, §4.4)",
                ));
            }
            self.obu.extend_from_slice(element);
            open = flags & CONTINUED != 0;
            if !open {
                emit_obu(&self.obu, &mut self.scratch)?;
                self.obu.clear();
            }
        }
        if open {
            return Err(malformed(
                "AV1 frame",
                "ends inside an OBU fragment (Y set on the last packet)",
            ));
        }
        std::mem::swap(frame, &mut self.scratch);
        Ok(())
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        true
    }
}

/// Writes one OBU from an element with its size field restored, unless it is dropped (§5).
fn emit_obu(element: &[u8], out: &mut Vec<u8>) -> Result<(), RtpError> {
    let (obu, used) = parse_obu(element)?;
    if used != element.len() {
        return Err(malformed("AV1 OBU element", "bytes after the OBU's own size"));
    }
    if matches!(obu.obu_type(), OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST) {
        return Ok(());
    }
    out.push(obu.header | 0x02);
    out.extend(obu.extension);
    write_leb128(obu.payload.len(), out);
    out.extend_from_slice(obu.payload);
    Ok(())
}

/// AV1 packetizer (§5): OBU elements with length fields (W = 0), fragmented across packets with
/// Z and Y, N set when the temporal unit holds a sequence header.
#[derive(Debug, Clone, Default)]
pub struct Av1Packetizer;

impl Packetizer for Av1Packetizer {
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        if max_payload < 3 {
            return Err(RtpError::MaxPayloadTooSmall {
                what: "AV1",
                needed: 3,
                max: max_payload,
            });
        }
        let mut sequence_header = false;
        for obu in parse_obus(frame) {
            let obu = obu?;
            sequence_header |= obu.obu_type() == OBU_SEQUENCE_HEADER;
        }
        let mut open = false; // a packet is begun that may take more elements
        let mut head_buf = [0u8; 2];
        for obu in parse_obus(frame) {
            // Every OBU parsed in the loop above.
            let Ok(obu) = obu else { break };
            if matches!(obu.obu_type(), OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST) {
                continue;
            }
            head_buf[0] = obu.header;
            let head_len = match obu.extension {
                Some(e) => {
                    head_buf[1] = e;
                    2
                }
                None => 1,
            };
            write_element(&head_buf[..head_len], obu.payload, max_payload, out, &mut open);
        }
        if out.is_empty() {
            return Err(malformed("AV1 temporal unit", "holds no OBU to send"));
        }
        if sequence_header {
            // Checked non-empty just above; payload 0 starts with the aggregation header.
            if let Some(first) = out.payload_mut(0) {
                first[0] |= 0x08;
            }
        }
        out.set_marker_on_last();
        Ok(())
    }
}

/// Writes one OBU (header bytes `head`, then `payload`) as OBU elements with length fields,
/// continuing the open packet and fragmenting across new ones (§4.4 Z and Y, §5).
fn write_element(head: &[u8], payload: &[u8], max_payload: usize, out: &mut Payloads, open: &mut bool) {
    let total = head.len() + payload.len();
    let mut written = 0;
    while written < total {
        if !*open {
            // §4.4: Z when this packet's first element continues a fragment.
            out.begin();
            out.push_byte(u8::from(written > 0) << 7);
            *open = true;
        }
        let room = max_payload - out.current_len();
        if room < 2 {
            *open = false;
            continue;
        }
        let mut take = (total - written).min(room - 1);
        while leb128_len(take) + take > room {
            take -= 1;
        }
        write_leb128(take, &mut ByteSink(out));
        let end = written + take;
        if written < head.len() {
            out.extend(&head[written..end.min(head.len())]);
        }
        if end > head.len() {
            out.extend(&payload[written.max(head.len()) - head.len()..end - head.len()]);
        }
        written = end;
        if written < total {
            // §4.4: Y, the last element continues in the next packet.
            out.current_mut()[0] |= 0x40;
            *open = false;
        }
    }
}

/// Lets `write_leb128` append to a [`Payloads`].
struct ByteSink<'a>(&'a mut Payloads);

impl Extend<u8> for ByteSink<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, iter: I) {
        for b in iter {
            self.0.push_byte(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trip_and_limits() {
        for v in [0usize, 1, 127, 128, 300, 16_383, 16_384, u32::MAX as usize] {
            let mut b = Vec::new();
            write_leb128(v, &mut b);
            assert_eq!(b.len(), leb128_len(v));
            assert_eq!(read_leb128(&b), Ok((v as u32, b.len())));
        }
        assert!(read_leb128(&[0x80; 8]).is_err());
        assert!(read_leb128(&[0x80, 0x80, 0x80, 0x80, 0x10]).is_err()); // 2^32
        assert!(read_leb128(&[0x80]).is_err());
    }

    #[test]
    fn aggregation_header_and_elements_per_section_4_4() {
        let p = [
            0b0010_1000, // Z=0 Y=0 W=2 N=1
            0x02,
            0x08,
            0x00, // element 1: length 2, sequence header OBU (type 1), 1 byte
            0x30,
            0xaa,
            0xbb, // element 2 (last, no length): frame OBU (type 6)
        ];
        let a = Av1Payload::parse(&p).unwrap();
        assert_eq!(
            a.header,
            Av1AggregationHeader {
                z: false,
                y: false,
                w: 2,
                n: true
            }
        );
        assert_eq!(
            a.elements().collect::<Vec<_>>(),
            vec![&[0x08, 0x00][..], &[0x30, 0xaa, 0xbb][..]]
        );
        let mut d = Av1Depacketizer::default();
        let mut frame = Vec::new();
        assert!(d.depacketize(&p, &mut frame).unwrap().keyframe);
        d.finish_frame(&mut frame).unwrap();
        // Size fields restored: has_size_field (0x02) set, leb128 size after the header.
        assert_eq!(frame, [0x0a, 0x01, 0x00, 0x32, 0x02, 0xaa, 0xbb]);
    }

    #[test]
    fn malformed_payloads() {
        for p in [
            &[][..],
            &[0x00],
            &[0x00, 0x05, 1],
            &[0x20, 0x01, 0x08],
            &[0x00, 0x00],
            &[0x30, 0x01, 0x08],
        ] {
            assert!(Av1Payload::parse(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn fragments_across_packets_and_drops_temporal_delimiters() {
        // TD, sequence header (2 bytes), frame (300 bytes), all with size fields.
        let mut tu = vec![0x12, 0x00, 0x0a, 0x02, 0x01, 0x02, 0x32];
        write_leb128(300, &mut tu);
        tu.extend((0..300).map(|i| i as u8));
        let mut out = Payloads::new();
        Av1Packetizer.packetize(&tu, 100, &mut out).unwrap();
        assert!(out.len() >= 4);
        assert_eq!(out.get(0).unwrap()[0] & 0x08, 0x08, "N on the first packet");
        assert_eq!(out.get(1).unwrap()[0] & 0xc0, 0xc0, "Z and Y on a middle packet");
        let mut d = Av1Depacketizer::default();
        let mut frame = Vec::new();
        for (p, _) in out.iter() {
            assert!(p.len() <= 100);
            d.depacketize(p, &mut frame).unwrap();
        }
        d.finish_frame(&mut frame).unwrap();
        assert_eq!(
            frame,
            tu[2..],
            "the temporal delimiter is gone, the rest unchanged"
        );
    }
}
