//! VP8 payloads (RFC 7741): the payload descriptor (§4.2), the keyframe bit of the VP8 payload
//! header (§4.3), a packetizer with a 15-bit picture id and a depacketizer.

use super::{malformed, need, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// The VP8 payload descriptor (RFC 7741 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: the frame is not a reference frame.
    pub non_reference: bool,
    /// S: the payload starts a VP8 partition.
    pub start_of_partition: bool,
    /// PID: the partition index (0-7).
    pub partition_index: u8,
    /// I: the picture id, 7 or 15 bits.
    pub picture_id: Option<PictureId>,
    /// L: TL0PICIDX, the running index of the temporal base layer frames.
    pub tl0_pic_idx: Option<u8>,
    /// T: TID, the temporal layer index (0-3).
    pub tid: Option<u8>,
    /// Y: layer sync bit (meaningful when T is set).
    pub layer_sync: bool,
    /// K: KEYIDX, the temporal key frame index (0-31).
    pub key_idx: Option<u8>,
}

/// A VP8 picture id (RFC 7741 §4.2, the M bit chooses the width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureId {
    /// M=0: 7 bits.
    Short(u8),
    /// M=1: 15 bits.
    Long(u16),
}

impl PictureId {
    /// The value, 0..=0x7fff.
    pub fn value(self) -> u16 {
        match self {
            Self::Short(v) => u16::from(v),
            Self::Long(v) => v,
        }
    }
}

impl Vp8Descriptor {
    /// Parses the descriptor at the front of `payload`; returns it and the VP8 payload after it,
    /// which must not be empty.
    pub fn parse(payload: &[u8]) -> Result<(Self, &[u8]), RtpError> {
        const WHAT: &str = "VP8 payload descriptor";
        need(WHAT, payload, 1)?;
        let b = payload[0];
        let mut d = Self {
            non_reference: b & 0x20 != 0,
            start_of_partition: b & 0x10 != 0,
            partition_index: b & 0x07,
            ..Self::default()
        };
        let mut i = 1;
        let byte = |i: &mut usize| -> Result<u8, RtpError> {
            need(WHAT, payload, *i + 1)?;
            *i += 1;
            Ok(payload[*i - 1])
        };
        if b & 0x80 != 0 {
            // X: |I|L|T|K| RSV |
            let x = byte(&mut i)?;
            if x & 0x80 != 0 {
                let p = byte(&mut i)?;
                d.picture_id = Some(if p & 0x80 != 0 {
                    PictureId::Long(u16::from(p & 0x7f) << 8 | u16::from(byte(&mut i)?))
                } else {
                    PictureId::Short(p)
                });
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(byte(&mut i)?);
            }
            if x & 0x30 != 0 {
                // |TID|Y| KEYIDX  |, present when T or K is set.
                let t = byte(&mut i)?;
                if x & 0x20 != 0 {
                    d.tid = Some(t >> 6);
                    d.layer_sync = t & 0x20 != 0;
                }
                if x & 0x10 != 0 {
                    d.key_idx = Some(t & 0x1f);
                }
            }
        }
        let rest = &payload[i..];
        if rest.is_empty() {
            return Err(malformed("VP8 payload", "descriptor without VP8 data"));
        }
        Ok((d, rest))
    }

    /// Appends the descriptor's bytes to `out`.
    pub fn write(&self, out: &mut Payloads) {
        let t_or_k = self.tid.is_some() || self.key_idx.is_some();
        let x = self.picture_id.is_some() || self.tl0_pic_idx.is_some() || t_or_k;
        out.push_byte(
            u8::from(x) << 7
                | u8::from(self.non_reference) << 5
                | u8::from(self.start_of_partition) << 4
                | (self.partition_index & 0x07),
        );
        if !x {
            return;
        }
        out.push_byte(
            u8::from(self.picture_id.is_some()) << 7
                | u8::from(self.tl0_pic_idx.is_some()) << 6
                | u8::from(self.tid.is_some()) << 5
                | u8::from(self.key_idx.is_some()) << 4,
        );
        match self.picture_id {
            Some(PictureId::Short(v)) => out.push_byte(v & 0x7f),
            Some(PictureId::Long(v)) => out.extend(&[0x80 | (v >> 8) as u8 & 0x7f, v as u8]),
            None => {}
        }
        if let Some(l) = self.tl0_pic_idx {
            out.push_byte(l);
        }
        if t_or_k {
            out.push_byte(
                self.tid.unwrap_or(0) << 6
                    | u8::from(self.layer_sync) << 5
                    | self.key_idx.unwrap_or(0) & 0x1f,
            );
        }
    }

    /// Whether this payload begins a frame: S=1 and PID=0 (§4.2).
    pub fn begins_frame(&self) -> bool {
        self.start_of_partition && self.partition_index == 0
    }
}

/// Whether a payload begins a keyframe: it begins a frame and the P bit of the VP8 payload header
/// (the frame tag's first bit, RFC 7741 §4.3, RFC 6386 §9.1) is 0.
pub fn is_keyframe(descriptor: &Vp8Descriptor, vp8_data: &[u8]) -> bool {
    descriptor.begins_frame() && vp8_data.first().is_some_and(|b| b & 0x01 == 0)
}

/// VP8 depacketizer: the frame is the concatenation of the payloads without their descriptors.
#[derive(Debug, Clone, Default)]
pub struct Vp8Depacketizer;

impl Depacketizer for Vp8Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let (d, data) = Vp8Descriptor::parse(payload)?;
        out.extend_from_slice(data);
        Ok(PayloadInfo {
            start: if d.begins_frame() {
                FrameStart::Begins
            } else {
                FrameStart::Continues
            },
            end: false,
            keyframe: is_keyframe(&d, data),
            codec: CodecInfo::Vp8(d),
        })
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        true
    }
}

/// VP8 packetizer: one partition-agnostic split of each frame (S=1, PID=0 on the first payload;
/// RFC 7741 §4.4 allows splitting anywhere) with an optional 15-bit picture id that goes up by one
/// per frame and wraps from 0x7fff to 0.
#[derive(Debug, Clone, Default)]
pub struct Vp8Packetizer {
    picture_id: Option<u16>,
}

impl Vp8Packetizer {
    /// A packetizer writing picture ids from `first` (taken modulo 2^15; pick it at random) or,
    /// with `None`, no picture id.
    pub fn new(first_picture_id: Option<u16>) -> Self {
        Self {
            picture_id: first_picture_id.map(|p| p & 0x7fff),
        }
    }

    /// The picture id the next frame will carry.
    pub fn next_picture_id(&self) -> Option<u16> {
        self.picture_id
    }
}

impl Packetizer for Vp8Packetizer {
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        let mut d = Vp8Descriptor {
            start_of_partition: true,
            picture_id: self.picture_id.map(PictureId::Long),
            ..Vp8Descriptor::default()
        };
        let header = if d.picture_id.is_some() { 4 } else { 1 };
        if max_payload <= header {
            return Err(RtpError::MaxPayloadTooSmall {
                what: "VP8",
                needed: header + 1,
                max: max_payload,
            });
        }
        if frame.is_empty() {
            return Err(malformed("VP8 frame", "is empty"));
        }
        for chunk in frame.chunks(max_payload - header) {
            out.begin();
            d.write(out);
            out.extend(chunk);
            d.start_of_partition = false;
        }
        out.set_marker_on_last();
        self.picture_id = self.picture_id.map(|p| (p + 1) & 0x7fff);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_with_every_extension() {
        // RFC 7741 §4.2 layout:
        let p = [
            0b1011_0000, // X=1 R=0 N=1 S=1 R=0 PID=0
            0b1111_0000, // I=1 L=1 T=1 K=1
            0x81,
            0x23,        // M=1, picture id 0x0123
            0x42,        // TL0PICIDX
            0b1010_0101, // TID=2 Y=1 KEYIDX=5
            0x10,        // VP8 payload header: P=0 (keyframe)
        ];
        let (d, rest) = Vp8Descriptor::parse(&p).unwrap();
        assert_eq!(
            d,
            Vp8Descriptor {
                non_reference: true,
                start_of_partition: true,
                partition_index: 0,
                picture_id: Some(PictureId::Long(0x123)),
                tl0_pic_idx: Some(0x42),
                tid: Some(2),
                layer_sync: true,
                key_idx: Some(5),
            }
        );
        assert_eq!(rest, [0x10]);
        assert!(is_keyframe(&d, rest));
        let mut out = Payloads::new();
        out.begin();
        d.write(&mut out);
        assert_eq!(out.get(0), Some(&p[..6]));
    }

    #[test]
    fn rfc_7741_section_4_6_example_short_picture_id() {
        // §4.6.1-style: X=1 S=1, I=1 with a 7-bit picture id 17, then an interframe (P=1).
        let p = [0x90, 0x80, 0x11, 0x01, 0xaa];
        let (d, rest) = Vp8Descriptor::parse(&p).unwrap();
        assert_eq!(d.picture_id, Some(PictureId::Short(17)));
        assert_eq!(d.tl0_pic_idx, None);
        assert!(!is_keyframe(&d, rest));
        // K only: the T/K byte is present, TID is not.
        let (d, _) = Vp8Descriptor::parse(&[0x80, 0x10, 0xe3, 0x00]).unwrap();
        assert_eq!((d.tid, d.key_idx), (None, Some(3)));
    }

    #[test]
    fn keyframe_needs_partition_zero_start() {
        let (d, rest) = Vp8Descriptor::parse(&[0x01, 0x00]).unwrap(); // S=0 PID=1
        assert!(!is_keyframe(&d, rest));
    }

    #[test]
    fn malformed_descriptors_are_errors() {
        for p in [
            &[][..],
            &[0x90],
            &[0x90, 0x80],
            &[0x90, 0x80, 0x81],
            &[0x90, 0x80, 0x81, 0x00],
            &[0x10],
            &[0x80, 0x40],
        ] {
            assert!(Vp8Descriptor::parse(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn picture_id_wraps() {
        let mut p = Vp8Packetizer::new(Some(0x7fff));
        let mut out = Payloads::new();
        p.packetize(&[0, 1, 2], 1200, &mut out).unwrap();
        assert_eq!(out.get(0), Some(&[0x90, 0x80, 0xff, 0xff, 0, 1, 2][..]));
        p.packetize(&[0, 1, 2], 1200, &mut out).unwrap();
        assert_eq!(out.get(0).unwrap()[2..4], [0x80, 0x00]);
        assert_eq!(p.next_picture_id(), Some(1));
    }

    #[test]
    fn split_sets_s_on_the_first_payload_only() {
        let mut out = Payloads::new();
        Vp8Packetizer::new(None)
            .packetize(&[1, 2, 3, 4, 5], 3, &mut out)
            .unwrap();
        let v: Vec<_> = out.iter().map(|(p, m)| (p.to_vec(), m)).collect();
        assert_eq!(
            v,
            vec![
                (vec![0x10, 1, 2], false),
                (vec![0x00, 3, 4], false),
                (vec![0x00, 5], true)
            ]
        );
        assert!(Vp8Packetizer::new(Some(0)).packetize(&[1], 4, &mut out).is_err());
    }
}
