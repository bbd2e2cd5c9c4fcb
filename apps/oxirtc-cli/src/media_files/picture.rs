//! The picture size and profile of a video keyframe, read from its own header: a Matroska video
//! track states its size, and a file we send must be in a profile we negotiate. VP8 (RFC 6386
//! §9.1), VP9 (uncompressed header, VP9 bitstream spec §6.2), H.264 (the SPS, ITU-T H.264
//! §7.3.2.1.1) and AV1 (the sequence header OBU, AV1 spec §5.5). Bytes from the network: every
//! read is bounds-checked and a short or odd header is `None`, never a panic.

use oxirtc_media_file::VideoCodec;

/// What a keyframe says about its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels (after H.264 cropping).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// VP9 profile (0-3), AV1 seq_profile (0-2), H.264 profile_idc; 0 for VP8.
    pub profile: u8,
    /// H.264 constraint_set1_flag (with profile_idc 66 or 77: Constrained Baseline).
    pub constrained: bool,
}

/// The picture of a keyframe (`None` if `frame` is not a keyframe this can read: H.264 without an
/// SPS, AV1 without a sequence header, a truncated header). H.265 is not read (`None`).
pub fn keyframe_picture(codec: VideoCodec, frame: &[u8]) -> Option<Picture> {
    match codec {
        VideoCodec::Vp8 => vp8(frame),
        VideoCodec::Vp9 => vp9(frame),
        VideoCodec::H264 => oxirtc_media_file::nal_units(frame)
            .find(|n| n.first().is_some_and(|b| b & 0x1f == 7))
            .and_then(h264_sps),
        VideoCodec::Av1 => av1(frame),
        _ => None,
    }
}

fn vp8(f: &[u8]) -> Option<Picture> {
    // Frame tag (3 bytes, bit 0 of the first clear on a keyframe), start code 9d 01 2a, then
    // 14-bit width and height, little-endian, each with a 2-bit scale above.
    if f.len() < 10 || f[0] & 1 != 0 || f[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u32::from(u16::from_le_bytes([f[6], f[7]]) & 0x3fff);
    let height = u32::from(u16::from_le_bytes([f[8], f[9]]) & 0x3fff);
    Some(Picture {
        width,
        height,
        profile: 0,
        constrained: false,
    })
}

fn vp9(f: &[u8]) -> Option<Picture> {
    let mut r = Bits::new(f);
    if r.bits(2)? != 2 {
        return None; // frame_marker
    }
    let low = r.bits(1)?;
    let high = r.bits(1)?;
    let profile = (high << 1 | low) as u8;
    if profile == 3 {
        r.bits(1)?; // reserved_zero
    }
    if r.bits(1)? == 1 {
        return None; // show_existing_frame
    }
    if r.bits(1)? != 0 {
        return None; // frame_type: not a KEY_FRAME
    }
    r.bits(2)?; // show_frame, error_resilient_mode
    if r.bits(24)? != 0x49_83_42 {
        return None; // frame_sync_code
    }
    // color_config
    if profile >= 2 {
        r.bits(1)?; // ten_or_twelve_bit
    }
    let color_space = r.bits(3)?;
    if color_space != 7 {
        r.bits(1)?; // color_range
        if profile == 1 || profile == 3 {
            r.bits(3)?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if profile == 1 || profile == 3 {
        r.bits(1)?; // reserved_zero
    }
    let width = r.bits(16)? + 1;
    let height = r.bits(16)? + 1;
    Some(Picture {
        width,
        height,
        profile,
        constrained: false,
    })
}

/// An H.264 SPS NAL unit (header byte included).
fn h264_sps(nal: &[u8]) -> Option<Picture> {
    let rbsp = unescape(nal.get(1..)?);
    let mut r = Bits::new(&rbsp);
    let profile_idc = r.bits(8)? as u8;
    let constraints = r.bits(8)?;
    r.bits(8)?; // level_idc
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            separate_colour_plane = r.bits(1)? == 1;
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.bits(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.bits(1)? == 1 {
            // seq_scaling_matrix_present_flag: skip the scaling lists (§7.3.2.1.1.1).
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bits(1)? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256).rem_euclid(256);
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bits(1)?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.ue()?; // max_num_ref_frames
    r.bits(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = r.ue()?.checked_add(1)?;
    let height_map_units = r.ue()?.checked_add(1)?;
    let frame_mbs_only = r.bits(1)?;
    if frame_mbs_only == 0 {
        r.bits(1)?; // mb_adaptive_frame_field_flag
    }
    r.bits(1)?; // direct_8x8_inference_flag
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    if r.bits(1)? == 1 {
        (left, right, top, bottom) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
    }
    // §7.4.2.1.1: crop units from ChromaArrayType.
    let chroma_array_type = if separate_colour_plane {
        0
    } else {
        chroma_format_idc
    };
    let (sub_w, sub_h) = match chroma_array_type {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let field_factor = 2 - frame_mbs_only;
    let (unit_x, unit_y) = if chroma_array_type == 0 {
        (1, field_factor)
    } else {
        (sub_w, sub_h * field_factor)
    };
    let width = width_mbs
        .checked_mul(16)?
        .checked_sub(unit_x * left.checked_add(right)?)?;
    let height = (field_factor * height_map_units)
        .checked_mul(16)?
        .checked_sub(unit_y.checked_mul(top.checked_add(bottom)?)?)?;
    Some(Picture {
        width,
        height,
        profile: profile_idc,
        constrained: constraints & 0x40 != 0,
    })
}

/// Emulation prevention bytes removed (H.264 §7.4.1: `00 00 03` → `00 00`).
fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut zeros = 0;
    for &x in b {
        if zeros >= 2 && x == 3 {
            zeros = 0;
            continue;
        }
        zeros = if x == 0 { zeros + 1 } else { 0 };
        out.push(x);
    }
    out
}

/// An AV1 temporal unit (OBUs with size fields): the picture of its sequence header.
fn av1(tu: &[u8]) -> Option<Picture> {
    let mut rest = tu;
    while !rest.is_empty() {
        let header = rest[0];
        let obu_type = (header >> 3) & 0x0f;
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut at = 1 + usize::from(has_extension);
        let size = if has_size {
            let (v, n) = leb128(rest.get(at..)?)?;
            at += n;
            usize::try_from(v).ok()?
        } else {
            rest.len().checked_sub(at)?
        };
        let payload = rest.get(at..at.checked_add(size)?)?;
        if obu_type == 1 {
            return av1_sequence_header(payload);
        }
        rest = &rest[at + size..];
    }
    None
}

fn leb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &x) in b.iter().take(8).enumerate() {
        v |= u64::from(x & 0x7f) << (7 * i);
        if x & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn av1_sequence_header(p: &[u8]) -> Option<Picture> {
    let mut r = Bits::new(p);
    let profile = r.bits(3)? as u8;
    r.bits(1)?; // still_picture
    let reduced = r.bits(1)? == 1;
    if reduced {
        r.bits(5)?; // seq_level_idx[0]
    } else {
        let timing_info = r.bits(1)? == 1;
        let mut decoder_model_info = false;
        let mut buffer_delay_bits = 0;
        if timing_info {
            r.bits(32)?; // num_units_in_display_tick
            r.bits(32)?; // time_scale
            if r.bits(1)? == 1 {
                r.uvlc()?; // num_ticks_per_picture_minus_1
            }
            decoder_model_info = r.bits(1)? == 1;
            if decoder_model_info {
                buffer_delay_bits = r.bits(5)? + 1;
                r.bits(32)?; // num_units_in_decoding_tick
                r.bits(10)?; // buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1
            }
        }
        let initial_display_delay = r.bits(1)? == 1;
        let operating_points = r.bits(5)? + 1;
        for _ in 0..operating_points {
            r.bits(12)?; // operating_point_idc
            if r.bits(5)? > 7 {
                r.bits(1)?; // seq_tier
            }
            if decoder_model_info && r.bits(1)? == 1 {
                r.bits(buffer_delay_bits)?; // decoder_buffer_delay
                r.bits(buffer_delay_bits)?; // encoder_buffer_delay
                r.bits(1)?; // low_delay_mode_flag
            }
            if initial_display_delay && r.bits(1)? == 1 {
                r.bits(4)?; // initial_display_delay_minus_1
            }
        }
    }
    let width_bits = r.bits(4)? + 1;
    let height_bits = r.bits(4)? + 1;
    let width = r.bits(width_bits)? + 1;
    let height = r.bits(height_bits)? + 1;
    Some(Picture {
        width,
        height,
        profile,
        constrained: false,
    })
}

/// A most-significant-bit-first reader.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    /// The next `n` (at most 32) bits.
    fn bits(&mut self, n: u32) -> Option<u32> {
        if n > 32 {
            return None;
        }
        let mut v = 0u64;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v = v << 1 | u64::from(byte >> (7 - self.pos % 8) & 1);
            self.pos += 1;
        }
        u32::try_from(v).ok()
    }

    /// Exp-Golomb ue(v) (H.264 §9.1).
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        ((1u64 << zeros) - 1 + u64::from(rest)).try_into().ok()
    }

    /// Signed exp-Golomb se(v).
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }

    /// AV1 uvlc() (AV1 spec §4.10.3).
    fn uvlc(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bits(1)? == 0 {
            zeros += 1;
            if zeros >= 32 {
                return Some(u32::MAX);
            }
        }
        let rest = self.bits(zeros)?;
        ((1u64 << zeros) - 1 + u64::from(rest)).try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use oxirtc_media_file::{AnnexBReader, IvfReader};

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/oxirtc-media-file/fixtures/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    fn first_ivf_frame(name: &str) -> Vec<u8> {
        let bytes = fixture(name);
        IvfReader::new(&bytes[..])
            .unwrap()
            .read_frame()
            .unwrap()
            .unwrap()
            .data
    }

    #[test]
    fn fixtures_are_320x240_in_the_profiles_we_negotiate() {
        let qvga = |p: Option<Picture>| p.map(|p| (p.width, p.height, p.profile));
        assert_eq!(
            qvga(keyframe_picture(VideoCodec::Vp8, &first_ivf_frame("vp8.ivf"))),
            Some((320, 240, 0))
        );
        assert_eq!(
            qvga(keyframe_picture(VideoCodec::Vp9, &first_ivf_frame("vp9.ivf"))),
            Some((320, 240, 0))
        );
        assert_eq!(
            qvga(keyframe_picture(VideoCodec::Av1, &first_ivf_frame("av1.ivf"))),
            Some((320, 240, 0))
        );
        for name in ["h264.h264", "h264-aud.h264"] {
            let bytes = fixture(name);
            let au = AnnexBReader::new(&bytes[..], VideoCodec::H264)
                .unwrap()
                .read_access_unit()
                .unwrap()
                .unwrap();
            let p = keyframe_picture(VideoCodec::H264, &au.data).unwrap();
            assert_eq!(
                (p.width, p.height, p.profile, p.constrained),
                (320, 240, 66, true),
                "{name}"
            );
        }
    }

    #[test]
    fn delta_frames_and_garbage_are_none() {
        let bytes = fixture("vp8.ivf");
        let mut r = IvfReader::new(&bytes[..]).unwrap();
        r.read_frame().unwrap();
        let delta = r.read_frame().unwrap().unwrap().data;
        assert_eq!(keyframe_picture(VideoCodec::Vp8, &delta), None);
        let key = first_ivf_frame("vp9.ivf");
        // The size ends in the 9th byte (68 bits of header): any shorter cut is None.
        for cut in 0..9 {
            assert_eq!(
                keyframe_picture(VideoCodec::Vp9, &key[..cut]),
                None,
                "{cut} bytes"
            );
        }
        assert!(keyframe_picture(VideoCodec::Vp9, &key[..9]).is_some());
        for junk in [
            &[][..],
            &[0xff; 40],
            &[0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
        ] {
            for codec in [
                VideoCodec::Vp8,
                VideoCodec::Vp9,
                VideoCodec::Av1,
                VideoCodec::H264,
            ] {
                let _ = keyframe_picture(codec, junk); // never panics
            }
        }
        // An SPS cut anywhere is None, not a panic.
        let bytes = fixture("h264.h264");
        let au = AnnexBReader::new(&bytes[..], VideoCodec::H264)
            .unwrap()
            .read_access_unit()
            .unwrap()
            .unwrap();
        let sps = au.nal_units().find(|n| n[0] & 0x1f == 7).unwrap().to_vec();
        for cut in 1..sps.len() - 1 {
            let _ = h264_sps(&sps[..cut]);
        }
        assert_eq!(h264_sps(&sps[..4]), None);
    }

    #[test]
    fn h264_cropping_and_high_profile() {
        // The SPS of `ffmpeg -f lavfi -i testsrc2=s=1920x1080 -c:v libx264 -profile:v high`:
        // 68 macroblock rows (1088) cropped by 8, and emulation prevention bytes.
        let sps = [
            0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03,
            0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58,
        ];
        let p = h264_sps(&sps).unwrap();
        assert_eq!((p.width, p.height, p.profile), (1920, 1080, 100));
    }
}
