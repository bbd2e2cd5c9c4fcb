//! AV1 open bitstream units (AV1 Bitstream & Decoding Process Specification §5.3): iterating the
//! OBUs of a temporal unit, its key frame flag, and the AV1CodecConfigurationRecord (av1C, "AV1
//! Codec ISO Media File Format Binding" §2.3) that Matroska's V_AV1 CodecPrivate holds.

use super::bits::BitReader;

pub(crate) const OBU_SEQUENCE_HEADER: u8 = 1;
pub(crate) const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;

/// One OBU: its type, all its bytes (header included) and its payload.
pub(crate) struct Obu<'a> {
    pub(crate) obu_type: u8,
    pub(crate) bytes: &'a [u8],
    pub(crate) payload: &'a [u8],
}

/// The OBUs of a temporal unit in the low-overhead format (§5.2: each OBU with obu_has_size_field,
/// except that the last may run to the end). Stops at the first malformed OBU.
pub(crate) fn obus(mut data: &[u8]) -> impl Iterator<Item = Obu<'_>> {
    std::iter::from_fn(move || {
        let (obu, rest) = split_obu(data)?;
        data = rest;
        Some(obu)
    })
}

/// §7.5: a temporal unit is a key frame when its first frame header has frame_type KEY_FRAME
/// (show_existing_frame = 0), or when the sequence uses reduced_still_picture_header (every frame
/// is then a key frame).
pub(crate) fn is_keyframe(tu: &[u8]) -> bool {
    let mut reduced_still_picture = false;
    for obu in obus(tu) {
        match obu.obu_type {
            OBU_SEQUENCE_HEADER => {
                // seq_profile f(3), still_picture f(1), reduced_still_picture_header f(1)
                reduced_still_picture = obu.payload.first().is_some_and(|b| b & 0b0000_1000 != 0);
            }
            OBU_FRAME_HEADER | OBU_FRAME => {
                if reduced_still_picture {
                    return true;
                }
                let mut r = BitReader::new(obu.payload);
                // uncompressed_header(): show_existing_frame f(1), frame_type f(2) (KEY_FRAME = 0)
                return matches!((r.bit(), r.bits(2)), (Some(false), Some(0)));
            }
            _ => {}
        }
    }
    false
}

/// The temporal unit without its temporal delimiter OBUs, which Matroska blocks must not carry
/// ("AV1 in Matroska/WebM" §4.4, Block content).
pub(crate) fn strip_temporal_delimiters(tu: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tu.len());
    let mut consumed = 0;
    for obu in obus(tu) {
        consumed += obu.bytes.len();
        if obu.obu_type != OBU_TEMPORAL_DELIMITER {
            out.extend_from_slice(obu.bytes);
        }
    }
    // Keep whatever could not be parsed rather than drop bytes silently.
    out.extend_from_slice(&tu[consumed..]);
    out
}

/// The av1C record for the first sequence header OBU of `tu`, with that OBU as its configOBUs;
/// `None` if the temporal unit has no parsable sequence header.
pub(crate) fn av1c_from_temporal_unit(tu: &[u8]) -> Option<Vec<u8>> {
    let obu = obus(tu).find(|o| o.obu_type == OBU_SEQUENCE_HEADER)?;
    let s = parse_sequence_header(obu.payload)?;
    let mut out = vec![
        0x81, // marker 1, version 1
        (s.profile << 5) | s.level_idx0,
        (s.tier0 << 7)
            | (s.high_bitdepth << 6)
            | (s.twelve_bit << 5)
            | (s.mono_chrome << 4)
            | (s.subsampling_x << 3)
            | (s.subsampling_y << 2)
            | s.chroma_sample_position,
        0, // reserved, initial_presentation_delay_present = 0
    ];
    // configOBUs carry their size field (§2.3.4 of the binding): add one if the OBU had none.
    let header = &obu.bytes[..header_len(obu.bytes)];
    out.push(header[0] | 0b10);
    out.extend_from_slice(&header[1..]);
    let mut size = obu.payload.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        out.push(if size > 0 { byte | 0x80 } else { byte });
        if size == 0 {
            break;
        }
    }
    out.extend_from_slice(obu.payload);
    Some(out)
}

/// The fields of a sequence header that av1C repeats.
#[derive(Debug, PartialEq, Eq)]
struct SequenceHeader {
    profile: u8,
    level_idx0: u8,
    tier0: u8,
    high_bitdepth: u8,
    twelve_bit: u8,
    mono_chrome: u8,
    subsampling_x: u8,
    subsampling_y: u8,
    chroma_sample_position: u8,
}

/// §5.5.1 sequence_header_obu(), read up to the end of color_config().
fn parse_sequence_header(p: &[u8]) -> Option<SequenceHeader> {
    let mut r = BitReader::new(p);
    let profile = r.bits(3)? as u8;
    let _still_picture = r.bit()?;
    let reduced = r.bit()?;
    let (level_idx0, tier0) = if reduced {
        (r.bits(5)? as u8, 0)
    } else {
        operating_points(&mut r)?
    };
    let frame_width_bits = r.bits(4)? + 1;
    let frame_height_bits = r.bits(4)? + 1;
    r.bits(frame_width_bits)?; // max_frame_width_minus_1
    r.bits(frame_height_bits)?; // max_frame_height_minus_1
    if !reduced && r.bit()? {
        r.bits(4)?; // delta_frame_id_length_minus_2
        r.bits(3)?; // additional_frame_id_length_minus_1
    }
    r.bits(3)?; // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if !reduced {
        r.bits(4)?; // enable_interintra_compound, masked_compound, warped_motion, dual_filter
        let order_hint = r.bit()?;
        if order_hint {
            r.bits(2)?; // enable_jnt_comp, enable_ref_frame_mvs
        }
        let force_screen_content_tools = if r.bit()? { 2 } else { r.bits(1)? };
        if force_screen_content_tools > 0 && !r.bit()? {
            r.bits(1)?; // seq_force_integer_mv
        }
        if order_hint {
            r.bits(3)?; // order_hint_bits_minus_1
        }
    }
    r.bits(3)?; // enable_superres, enable_cdef, enable_restoration
    color_config(&mut r, profile, level_idx0, tier0)
}

/// The timing, decoder model and operating point part of §5.5.1: (seq_level_idx[0], seq_tier[0]).
fn operating_points(r: &mut BitReader) -> Option<(u8, u8)> {
    let mut decoder_model_info_present = false;
    let mut buffer_delay_length = 0;
    if r.bit()? {
        // timing_info(): num_units_in_display_tick, time_scale, equal_picture_interval
        r.bits(32)?;
        r.bits(32)?;
        if r.bit()? {
            r.uvlc()?; // num_ticks_per_picture_minus_1
        }
        decoder_model_info_present = r.bit()?;
        if decoder_model_info_present {
            buffer_delay_length = r.bits(5)? + 1;
            r.bits(32)?; // num_units_in_decoding_tick
            r.bits(10)?; // buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1
        }
    }
    let initial_display_delay_present = r.bit()?;
    let count = r.bits(5)? + 1;
    let mut first = None;
    for _ in 0..count {
        r.bits(12)?; // operating_point_idc
        let level = r.bits(5)? as u8;
        let tier = if level > 7 { r.bits(1)? as u8 } else { 0 };
        if decoder_model_info_present && r.bit()? {
            r.bits(buffer_delay_length)?; // decoder_buffer_delay
            r.bits(buffer_delay_length)?; // encoder_buffer_delay
            r.bits(1)?; // low_delay_mode_flag
        }
        if initial_display_delay_present && r.bit()? {
            r.bits(4)?; // initial_display_delay_minus_1
        }
        first.get_or_insert((level, tier));
    }
    first
}

/// §5.5.2 color_config().
fn color_config(r: &mut BitReader, profile: u8, level_idx0: u8, tier0: u8) -> Option<SequenceHeader> {
    let high_bitdepth = r.bit()?;
    let twelve_bit = profile == 2 && high_bitdepth && r.bit()?;
    let mono_chrome = profile != 1 && r.bit()?;
    let (cp, tc, mc) = if r.bit()? {
        (r.bits(8)?, r.bits(8)?, r.bits(8)?)
    } else {
        (2, 2, 2)
    };
    let (ssx, ssy, mut csp) = (1, 1, 0);
    let (ssx, ssy) = if mono_chrome {
        r.bit()?; // color_range
        (ssx, ssy)
    } else if cp == 1 && tc == 13 && mc == 0 {
        (0, 0) // sRGB: 4:4:4, full range
    } else {
        r.bit()?; // color_range
        let (x, y) = match profile {
            0 => (1, 1),
            1 => (0, 0),
            _ if twelve_bit => {
                let x = r.bits(1)? as u8;
                (x, if x == 1 { r.bits(1)? as u8 } else { 0 })
            }
            _ => (1, 0),
        };
        if x == 1 && y == 1 {
            csp = r.bits(2)? as u8;
        }
        (x, y)
    };
    Some(SequenceHeader {
        profile,
        level_idx0,
        tier0,
        high_bitdepth: u8::from(high_bitdepth),
        twelve_bit: u8::from(twelve_bit),
        mono_chrome: u8::from(mono_chrome),
        subsampling_x: ssx,
        subsampling_y: ssy,
        chroma_sample_position: csp,
    })
}

/// Splits the first OBU off `data` (§5.3.1 obu_header, §4.10.5 leb128 size).
fn split_obu(data: &[u8]) -> Option<(Obu<'_>, &[u8])> {
    let first = *data.first()?;
    if first & 0x80 != 0 {
        return None; // obu_forbidden_bit
    }
    let obu_type = (first >> 3) & 0x0f;
    let mut pos = header_len(data);
    if pos > data.len() {
        return None;
    }
    let size = if first & 0b10 != 0 {
        let (size, n) = leb128(&data[pos..])?;
        pos += n;
        usize::try_from(size).ok()?
    } else {
        data.len() - pos
    };
    let end = pos.checked_add(size).filter(|&e| e <= data.len())?;
    Some((
        Obu {
            obu_type,
            bytes: &data[..end],
            payload: &data[pos..end],
        },
        &data[end..],
    ))
}

/// Bytes of the OBU header: 1, or 2 with obu_extension_flag.
fn header_len(obu: &[u8]) -> usize {
    if obu.first().is_some_and(|b| b & 0b100 != 0) {
        2
    } else {
        1
    }
}

/// §4.10.5 leb128(): at most 8 bytes, value below 2^32.
fn leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in data.iter().take(8).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value <= u64::from(u32::MAX)).then_some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_limits() {
        assert_eq!(leb128(&[0x05]), Some((5, 1)));
        assert_eq!(leb128(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(leb128(&[0xff; 9]), None);
        assert_eq!(leb128(&[0x80]), None);
    }

    #[test]
    fn truncated_obu_stops_iteration() {
        // temporal delimiter (type 2, size 0), then a frame OBU claiming 10 bytes with 2 present
        let tu = [0x12, 0x00, 0x32, 0x0a, 0x10, 0x00];
        let types: Vec<u8> = obus(&tu).map(|o| o.obu_type).collect();
        assert_eq!(types, [2]);
        assert_eq!(strip_temporal_delimiters(&tu), [0x32, 0x0a, 0x10, 0x00]);
        assert!(!is_keyframe(&tu));
    }

    #[test]
    fn key_frame_header() {
        // frame header OBU (type 3) with size 1: show_existing_frame 0, frame_type 0 (KEY)
        assert!(is_keyframe(&[0x1a, 0x01, 0b0001_0000]));
        // frame_type 1 (INTER)
        assert!(!is_keyframe(&[0x1a, 0x01, 0b0010_0000]));
    }
}
