//! VP9 payloads (RFC 9628): the payload descriptor in flexible and non-flexible mode (§4.2), the
//! scalability structure (§4.2.1), keyframe detection, and a packetizer for the non-flexible
//! single-layer case.

use super::{malformed, need, CodecInfo, Depacketizer, FrameStart, Packetizer, PayloadInfo, Payloads};
use crate::RtpError;

/// The fixed-size part of a VP9 payload descriptor (RFC 9628 §4.2), kept with each payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Info {
    /// P: the frame is predicted from an earlier picture.
    pub inter_picture: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: the first payload of a layer frame.
    pub begin: bool,
    /// E: the last payload of a layer frame.
    pub end: bool,
    /// Z: not a reference for upper spatial layers.
    pub not_reference_for_upper: bool,
    /// I: the picture id, 7 or 15 bits (M).
    pub picture_id: Option<u16>,
    /// L: the layer indices.
    pub layer: Option<Vp9Layer>,
    /// L in non-flexible mode: TL0PICIDX.
    pub tl0_pic_idx: Option<u8>,
    /// P and F: the reference indices (P_DIFF), up to 3; `p_diff_count` are valid.
    pub p_diff: [u8; 3],
    /// How many entries of `p_diff` are set.
    pub p_diff_count: u8,
    /// V: a scalability structure follows the descriptor (read it with [`Vp9Descriptor::parse`]).
    pub has_scalability_structure: bool,
}

/// Layer indices (RFC 9628 §4.2): `|TID|U|SID|D|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Layer {
    /// Temporal layer id (0-7).
    pub tid: u8,
    /// U: switching up point.
    pub switching_up: bool,
    /// Spatial layer id (0-7).
    pub sid: u8,
    /// D: inter-layer dependency.
    pub inter_layer_dependency: bool,
}

/// A parsed VP9 payload descriptor, its scalability structure borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp9Descriptor<'a> {
    /// The descriptor's fields.
    pub info: Vp9Info,
    /// The scalability structure, when V is set.
    pub ss: Option<ScalabilityStructure<'a>>,
}

/// The scalability structure (RFC 9628 §4.2.1), checked when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalabilityStructure<'a> {
    /// N_S + 1: the number of spatial layers.
    pub spatial_layers: u8,
    resolutions: Option<&'a [u8]>,
    groups: Option<&'a [u8]>,
}

/// One picture of the picture group (RFC 9628 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureGroupEntry {
    /// T: the temporal layer id.
    pub tid: u8,
    /// U: switching up point.
    pub switching_up: bool,
    /// R reference indices (P_DIFF), `ref_count` valid.
    pub p_diff: [u8; 3],
    /// R: how many references.
    pub ref_count: u8,
}

impl ScalabilityStructure<'_> {
    /// Width and height of each spatial layer, when Y is set.
    pub fn resolutions(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.resolutions
            .unwrap_or_default()
            .chunks_exact(4)
            .map(|c| (u16::from_be_bytes([c[0], c[1]]), u16::from_be_bytes([c[2], c[3]])))
    }

    /// The picture group, when G is set.
    pub fn picture_group(&self) -> impl Iterator<Item = PictureGroupEntry> + '_ {
        let mut rest = self.groups.unwrap_or_default();
        std::iter::from_fn(move || {
            // Checked when parsed; a short read ends the iteration.
            let b = *rest.first()?;
            let r = usize::from((b >> 2) & 0x03);
            let diffs = rest.get(1..1 + r)?;
            let mut p_diff = [0; 3];
            p_diff[..r].copy_from_slice(diffs);
            rest = &rest[1 + r..];
            Some(PictureGroupEntry {
                tid: b >> 5,
                switching_up: b & 0x10 != 0,
                p_diff,
                ref_count: r as u8,
            })
        })
    }
}

impl<'a> Vp9Descriptor<'a> {
    /// Parses the descriptor at the front of `payload`; returns it and the VP9 data after it,
    /// which must not be empty.
    pub fn parse(payload: &'a [u8]) -> Result<(Self, &'a [u8]), RtpError> {
        const WHAT: &str = "VP9 payload descriptor";
        let mut r = Reader { b: payload, i: 0 };
        // |I|P|L|F|B|E|V|Z|
        let b = r.byte(WHAT)?;
        let mut info = Vp9Info {
            inter_picture: b & 0x40 != 0,
            flexible: b & 0x10 != 0,
            begin: b & 0x08 != 0,
            end: b & 0x04 != 0,
            has_scalability_structure: b & 0x02 != 0,
            not_reference_for_upper: b & 0x01 != 0,
            ..Vp9Info::default()
        };
        if b & 0x80 != 0 {
            // |M| PICTURE ID |, and the extended picture id when M is set.
            let p = r.byte(WHAT)?;
            info.picture_id = Some(if p & 0x80 != 0 {
                u16::from(p & 0x7f) << 8 | u16::from(r.byte(WHAT)?)
            } else {
                u16::from(p)
            });
        }
        if b & 0x20 != 0 {
            let l = r.byte(WHAT)?;
            info.layer = Some(Vp9Layer {
                tid: l >> 5,
                switching_up: l & 0x10 != 0,
                sid: (l >> 1) & 0x07,
                inter_layer_dependency: l & 0x01 != 0,
            });
            if !info.flexible {
                info.tl0_pic_idx = Some(r.byte(WHAT)?);
            }
        }
        if info.flexible && info.inter_picture {
            // |P_DIFF|N|, N: another P_DIFF follows; at most 3 (§4.2).
            loop {
                let d = r.byte(WHAT)?;
                if usize::from(info.p_diff_count) == 3 {
                    return Err(malformed(WHAT, "more than 3 P_DIFF"));
                }
                info.p_diff[usize::from(info.p_diff_count)] = d >> 1;
                info.p_diff_count += 1;
                if d & 0x01 == 0 {
                    break;
                }
            }
        }
        let ss = if info.has_scalability_structure {
            Some(parse_ss(&mut r)?)
        } else {
            None
        };
        let rest = &payload[r.i..];
        if rest.is_empty() {
            return Err(malformed("VP9 payload", "descriptor without VP9 data"));
        }
        Ok((Self { info, ss }, rest))
    }
}

/// RFC 9628 §4.2.1: `|N_S|Y|G|-|-|-|`, then resolutions, then the picture group.
fn parse_ss<'a>(r: &mut Reader<'a>) -> Result<ScalabilityStructure<'a>, RtpError> {
    const WHAT: &str = "VP9 scalability structure";
    let b = r.byte(WHAT)?;
    let spatial_layers = (b >> 5) + 1;
    let resolutions = if b & 0x10 != 0 {
        Some(r.take(WHAT, 4 * usize::from(spatial_layers))?)
    } else {
        None
    };
    let groups = if b & 0x08 != 0 {
        let n_g = r.byte(WHAT)?;
        let start = r.i;
        for _ in 0..n_g {
            let g = r.byte(WHAT)?;
            r.take(WHAT, usize::from((g >> 2) & 0x03))?;
        }
        Some(&r.b[start..r.i])
    } else {
        None
    };
    Ok(ScalabilityStructure {
        spatial_layers,
        resolutions,
        groups,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self, what: &'static str) -> Result<u8, RtpError> {
        Ok(self.take(what, 1)?[0])
    }

    fn take(&mut self, what: &'static str, n: usize) -> Result<&'a [u8], RtpError> {
        need(what, self.b, self.i + n)?;
        self.i += n;
        Ok(&self.b[self.i - n..self.i])
    }
}

/// Whether a payload begins a keyframe: B set, not inter-picture predicted (P=0), in the lowest
/// spatial layer (RFC 9628 §4.2: P=0 with SID=0 is a key picture's first frame), and the VP9
/// uncompressed header at the start of `vp9_data` says `frame_type` = KEY_FRAME (VP9 bitstream
/// §6.2). The header check keeps senders that leave P at 0 on every frame (ffmpeg 5.1's RTP
/// muxer does) from having each frame taken for a keyframe.
pub fn is_keyframe(info: &Vp9Info, vp9_data: &[u8]) -> bool {
    info.begin
        && !info.inter_picture
        && info.layer.is_none_or(|l| l.sid == 0)
        && keyframe_size(vp9_data).is_some()
}

/// VP9 depacketizer: the frame is the concatenation of the payloads without descriptors. A
/// picture's spatial layer frames stay one frame (it ends at the RTP marker, RFC 9628 §4.1).
#[derive(Debug, Clone, Default)]
pub struct Vp9Depacketizer;

impl Depacketizer for Vp9Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        let (d, data) = Vp9Descriptor::parse(payload)?;
        out.extend_from_slice(data);
        let first_layer = d.info.layer.is_none_or(|l| l.sid == 0);
        Ok(PayloadInfo {
            start: if d.info.begin && first_layer {
                FrameStart::Begins
            } else {
                FrameStart::Continues
            },
            end: false,
            keyframe: is_keyframe(&d.info, data),
            codec: CodecInfo::Vp9(d.info),
        })
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        true
    }
}

/// VP9 packetizer, non-flexible mode with one spatial and one temporal layer (RFC 9628 §4.2): a
/// 15-bit picture id (wrapping), B/E on each frame's first/last payload, P=0 on keyframes (read
/// from the VP9 uncompressed header), and on a keyframe's first payload a scalability structure
/// with one layer and its resolution when the header gives it.
#[derive(Debug, Clone, Default)]
pub struct Vp9Packetizer {
    picture_id: u16,
}

impl Vp9Packetizer {
    /// A packetizer whose first picture id is `first_picture_id` modulo 2^15 (pick it at random).
    pub fn new(first_picture_id: u16) -> Self {
        Self {
            picture_id: first_picture_id & 0x7fff,
        }
    }
}

impl Packetizer for Vp9Packetizer {
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError> {
        out.clear();
        if frame.is_empty() {
            return Err(malformed("VP9 frame", "is empty"));
        }
        let key = keyframe_size(frame);
        // 3 bytes of descriptor, plus SS on the first payload of a keyframe: 1 byte, 4 with Y.
        let ss_len = match key {
            None => 0,
            Some(None) => 1,
            Some(Some(_)) => 5,
        };
        if max_payload <= 3 + ss_len {
            return Err(RtpError::MaxPayloadTooSmall {
                what: "VP9",
                needed: 4 + ss_len,
                max: max_payload,
            });
        }
        let mut rest = frame;
        let mut first = true;
        while !rest.is_empty() {
            let room = max_payload - 3 - if first { ss_len } else { 0 };
            let (chunk, tail) = rest.split_at(room.min(rest.len()));
            let last = tail.is_empty();
            out.begin();
            // |I|P|L|F|B|E|V|Z| with I=1, L=0, F=0.
            out.push_byte(
                0x80 | u8::from(key.is_none()) << 6
                    | u8::from(first) << 3
                    | u8::from(last) << 2
                    | u8::from(first && key.is_some()) << 1,
            );
            out.extend(&[0x80 | (self.picture_id >> 8) as u8, self.picture_id as u8]);
            if first {
                match key {
                    // |N_S=0|Y|G=0|, then WIDTH and HEIGHT.
                    Some(Some((w, h))) => {
                        out.push_byte(0x10);
                        out.extend(&w.to_be_bytes());
                        out.extend(&h.to_be_bytes());
                    }
                    Some(None) => out.push_byte(0x00),
                    None => {}
                }
            }
            out.extend(chunk);
            rest = tail;
            first = false;
        }
        out.set_marker_on_last();
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        Ok(())
    }
}

/// For a keyframe, `Some` with its size when the uncompressed header gives it; `None` for other
/// frames (VP9 bitstream §6.2: frame_marker, profile, show_existing_frame, frame_type, show_frame,
/// error_resilient_mode, frame_sync_code, color_config, frame_size).
fn keyframe_size(frame: &[u8]) -> Option<Option<(u16, u16)>> {
    let mut r = Bits { b: frame, i: 0 };
    if r.read(2)? != 2 {
        return None; // not a VP9 frame: treat as predicted
    }
    let profile = r.read(1)? | r.read(1)? << 1;
    if profile == 3 {
        r.read(1)?;
    }
    if r.read(1)? == 1 || r.read(1)? != 0 {
        return None; // show_existing_frame, or frame_type 1 (non-key)
    }
    Some(keyframe_dimensions(&mut r, profile))
}

fn keyframe_dimensions(r: &mut Bits<'_>, profile: u32) -> Option<(u16, u16)> {
    r.read(2)?; // show_frame, error_resilient_mode
    if r.read(24)? != 0x49_83_42 {
        return None;
    }
    // color_config (§6.2.2)
    if profile >= 2 {
        r.read(1)?;
    }
    if r.read(3)? != 7 {
        // color_space != CS_RGB: color_range, and subsampling for profiles 1 and 3.
        r.read(1)?;
        if profile == 1 || profile == 3 {
            r.read(3)?;
        }
    } else if profile == 1 || profile == 3 {
        r.read(1)?;
    }
    let w = r.read(16)? + 1;
    let h = r.read(16)? + 1;
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}

struct Bits<'a> {
    b: &'a [u8],
    i: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.b.get(self.i / 8)?;
            v = v << 1 | u32::from(byte >> (7 - self.i % 8) & 1);
            self.i += 1;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_flexible_descriptor_with_scalability_structure() {
        let p = [
            0b1010_1010, // I=1 P=0 L=1 F=0 B=1 E=0 V=1 Z=0
            0x80 | 0x01,
            0x02,        // M=1, picture id 0x0102
            0b0011_0010, // TID=1 U=1 SID=1 D=0
            0x07,        // TL0PICIDX
            0b0011_1000, // SS: N_S=1 (2 layers) Y=1 G=1
            0x01,
            0x40,
            0x00,
            0xb4, // 320x180
            0x02,
            0x80,
            0x01,
            0x68, // 640x360
            0x02, // N_G = 2
            0b0001_0100,
            0x01, // T=0 U=1 R=1, P_DIFF 1
            0b0010_1000,
            0x01,
            0x02, // T=1 U=0 R=2, P_DIFFs 1 and 2
            0xaa, // VP9 data
        ];
        let (d, rest) = Vp9Descriptor::parse(&p).unwrap();
        assert_eq!(rest, [0xaa]);
        assert_eq!(d.info.picture_id, Some(0x102));
        assert_eq!(
            d.info.layer,
            Some(Vp9Layer {
                tid: 1,
                switching_up: true,
                sid: 1,
                inter_layer_dependency: false
            })
        );
        assert_eq!(d.info.tl0_pic_idx, Some(7));
        let ss = d.ss.unwrap();
        assert_eq!(ss.spatial_layers, 2);
        assert_eq!(ss.resolutions().collect::<Vec<_>>(), vec![(320, 180), (640, 360)]);
        let g: Vec<_> = ss.picture_group().collect();
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].tid, g[0].switching_up, g[0].ref_count, g[0].p_diff[0]),
            (0, true, 1, 1)
        );
        assert_eq!((g[1].tid, g[1].ref_count, g[1].p_diff), (1, 2, [1, 2, 0]));
        assert!(
            !is_keyframe(&d.info, rest),
            "SID 1 is not a key picture's first frame"
        );
    }

    #[test]
    fn flexible_descriptor_with_p_diffs() {
        let p = [
            0b1111_1100, // I=1 P=1 L=1 F=1 B=1 E=1 V=0 Z=0
            0x05,        // 7-bit picture id 5
            0b0000_0000, // TID=0 SID=0 (no TL0PICIDX in flexible mode)
            0x03,
            0x04, // P_DIFF 1 with N=1, P_DIFF 2 with N=0
            0xbb,
        ];
        let (d, rest) = Vp9Descriptor::parse(&p).unwrap();
        assert_eq!(rest, [0xbb]);
        assert_eq!((d.info.picture_id, d.info.tl0_pic_idx), (Some(5), None));
        assert_eq!(&d.info.p_diff[..usize::from(d.info.p_diff_count)], [1, 2]);
        assert!(!is_keyframe(&d.info, rest));
    }

    #[test]
    fn malformed_descriptors() {
        for p in [
            &[][..],
            &[0x80],                               // I without picture id
            &[0x80, 0x81],                         // M without the second byte
            &[0x20, 0x00],                         // non-flexible L without TL0PICIDX
            &[0x50, 0x03, 0x03, 0x03, 0x03, 0xaa], // 4 P_DIFFs
            &[0x02, 0x10, 0x01],                   // SS with Y, resolution cut short
            &[0x08],                               // no VP9 data
        ] {
            assert!(Vp9Descriptor::parse(p).is_err(), "{p:?}");
        }
    }

    #[test]
    fn packetizer_marks_keyframes_with_ss_and_wraps_picture_id() {
        // A profile 0 keyframe header: frame_marker 2, profile 0, show_existing 0, frame_type 0,
        // show_frame 1, error_res 0, sync code, color_space 2 (BT.601), range 0, 640x480.
        let mut bits = String::from("10" /* marker */);
        bits += "00"; // profile
        bits += "0"; // show_existing_frame
        bits += "0"; // frame_type key
        bits += "10"; // show_frame, error_resilient_mode
        bits += "010010011000001101000010"; // sync code
        bits += "010"; // color_space
        bits += "0"; // color_range
        bits += &format!("{:016b}{:016b}", 639, 479);
        while bits.len() % 8 != 0 {
            bits.push('0');
        }
        let mut frame: Vec<u8> = (0..bits.len() / 8)
            .map(|i| u8::from_str_radix(&bits[8 * i..8 * i + 8], 2).unwrap())
            .collect();
        frame.extend([0x55; 100]);
        assert_eq!(keyframe_size(&frame), Some(Some((640, 480))));
        let mut p = Vp9Packetizer::new(0x7fff);
        let mut out = Payloads::new();
        p.packetize(&frame, 60, &mut out).unwrap();
        let (d, data) = Vp9Descriptor::parse(out.get(0).unwrap()).unwrap();
        assert!(is_keyframe(&d.info, data) && d.info.begin && !d.info.end);
        assert_eq!(d.info.picture_id, Some(0x7fff));
        assert_eq!(d.ss.unwrap().resolutions().collect::<Vec<_>>(), vec![(640, 480)]);
        let (d, _) = Vp9Descriptor::parse(out.get(out.len() - 1).unwrap()).unwrap();
        assert!(d.info.end && !d.info.begin && d.ss.is_none());
        // An inter frame (frame_type 1) gets P=1 and the next picture id.
        p.packetize(&[0x84, 0x00, 0x01], 60, &mut out).unwrap();
        let (d, _) = Vp9Descriptor::parse(out.get(0).unwrap()).unwrap();
        assert!(d.info.inter_picture && d.info.begin && d.info.end);
        assert_eq!(d.info.picture_id, Some(0));
    }
}
