//! H.264 NAL unit types, access unit boundaries (ITU-T H.264 §7.4.1.2.3) and the
//! AVCDecoderConfigurationRecord (avcC, ISO/IEC 14496-15 §5.3.3.1) Matroska's
//! `V_MPEG4/ISO/AVC` CodecPrivate holds.

use super::bits::{unescape_rbsp, BitReader};

/// Coded slice of a non-IDR picture.
pub(crate) const NAL_SLICE: u8 = 1;
/// Coded slice data partition A (carries the slice header).
const NAL_SLICE_DPA: u8 = 2;
/// Coded slice of an IDR picture.
pub(crate) const NAL_IDR: u8 = 5;
/// Sequence parameter set.
pub(crate) const NAL_SPS: u8 = 7;
/// Picture parameter set.
pub(crate) const NAL_PPS: u8 = 8;
/// Access unit delimiter.
pub(crate) const NAL_AUD: u8 = 9;

/// nal_unit_type (§7.3.1: the low 5 bits of the first byte); `None` for an empty NAL unit.
pub(crate) fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| b & 0x1f)
}

/// Whether `nal` begins a new access unit after one that already holds a VCL NAL unit of its
/// primary picture (§7.4.1.2.3): an access unit delimiter, SPS, PPS, SEI, types 14 to 18, or the
/// first slice of a new primary picture. A new picture is recognised by first_mb_in_slice == 0
/// (its ue(v) is 0 exactly when the first bit of the slice header is 1), which holds for every
/// stream without arbitrary slice order (Baseline's ASO is not used by WebRTC encoders).
pub(crate) fn starts_access_unit(nal: &[u8], au_has_vcl: bool) -> bool {
    match nal_type(nal) {
        Some(NAL_AUD) => true,
        Some(6..=8 | 14..=18) => au_has_vcl,
        Some(NAL_SLICE | NAL_SLICE_DPA | NAL_IDR) => au_has_vcl && first_mb_is_zero(nal),
        _ => false,
    }
}

/// Whether the NAL unit is a VCL NAL unit of a primary coded picture (types 1 to 5).
pub(crate) fn is_vcl(nal: &[u8]) -> bool {
    matches!(nal_type(nal), Some(1..=5))
}

/// first_mb_in_slice == 0: the first bit after the one-byte NAL header is 1 (ue(v) of 0 is "1").
/// An emulation prevention byte cannot be the first payload byte, so no unescaping is needed.
fn first_mb_is_zero(nal: &[u8]) -> bool {
    nal.get(1).is_some_and(|b| b & 0x80 != 0)
}

/// The avcC record for one SPS and one PPS (NAL units without start codes), with 4-byte NAL
/// lengths (lengthSizeMinusOne = 3). `None` if the SPS is too short to hold its profile and
/// level, or if a High-profile SPS's chroma and bit depth fields cannot be read.
pub(crate) fn avcc(sps: &[u8], pps: &[u8]) -> Option<Vec<u8>> {
    if sps.len() < 4 || nal_type(sps) != Some(NAL_SPS) || nal_type(pps) != Some(NAL_PPS) {
        return None;
    }
    let sps_len = u16::try_from(sps.len()).ok()?;
    let pps_len = u16::try_from(pps.len()).ok()?;
    let profile = sps[1];
    let mut out = vec![
        1,        // configurationVersion
        profile,  // AVCProfileIndication
        sps[2],   // profile_compatibility (constraint_set flags)
        sps[3],   // AVCLevelIndication
        0xfc | 3, // reserved 6 bits, lengthSizeMinusOne
        0xe0 | 1, // reserved 3 bits, numOfSequenceParameterSets
    ];
    out.extend_from_slice(&sps_len.to_be_bytes());
    out.extend_from_slice(sps);
    out.push(1); // numOfPictureParameterSets
    out.extend_from_slice(&pps_len.to_be_bytes());
    out.extend_from_slice(pps);
    if matches!(profile, 100 | 110 | 122 | 144) {
        // §5.3.3.1.2: High profiles add chroma_format, bit depths and the SPS extensions (none).
        let (chroma_format, luma, chroma) = high_profile_fields(sps)?;
        out.extend_from_slice(&[0xfc | chroma_format, 0xf8 | luma, 0xf8 | chroma, 0]);
    }
    Some(out)
}

/// chroma_format_idc, bit_depth_luma_minus8, bit_depth_chroma_minus8 of a High-profile SPS
/// (§7.3.2.1.1: they follow seq_parameter_set_id).
fn high_profile_fields(sps: &[u8]) -> Option<(u8, u8, u8)> {
    let rbsp = unescape_rbsp(&sps[4..], 32);
    let mut r = BitReader::new(&rbsp);
    r.ue()?; // seq_parameter_set_id
    let chroma_format = r.ue()?;
    if chroma_format == 3 {
        r.bit()?; // separate_colour_plane_flag
    }
    let luma = r.ue()?;
    let chroma = r.ue()?;
    if chroma_format > 3 || luma > 6 || chroma > 6 {
        return None;
    }
    Some((chroma_format as u8, luma as u8, chroma as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_unit_starts() {
        let first_slice = [0x65, 0x88]; // IDR, first_mb_in_slice 0
        let second_slice = [0x65, 0x40]; // IDR, first_mb_in_slice 1
        assert!(!starts_access_unit(&first_slice, false));
        assert!(starts_access_unit(&first_slice, true));
        assert!(!starts_access_unit(&second_slice, true));
        assert!(starts_access_unit(&[0x09, 0xf0], false)); // AUD always
        assert!(starts_access_unit(&[0x67, 0x42], true)); // SPS after a picture
        assert!(!starts_access_unit(&[0x67, 0x42], false)); // SPS before the first slice
        assert!(!starts_access_unit(&[0x0c, 0xff], true)); // filler data stays
    }

    #[test]
    fn avcc_for_baseline() {
        let sps = [0x67, 0x42, 0xc0, 0x1e, 0xda];
        let pps = [0x68, 0xce, 0x3c, 0x80];
        let c = avcc(&sps, &pps).unwrap();
        assert_eq!(
            c,
            [
                1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 5, 0x67, 0x42, 0xc0, 0x1e, 0xda, 1, 0, 4, 0x68, 0xce,
                0x3c, 0x80
            ]
        );
        assert_eq!(avcc(&pps, &sps), None);
        assert_eq!(avcc(&sps[..3], &pps), None);
    }

    #[test]
    fn avcc_for_high_profile_adds_chroma_and_depth() {
        // profile 100, sps id 0 ("1"), chroma_format_idc 1 ("010"), luma 0 ("1"), chroma 0 ("1")
        let sps = [0x67, 100, 0, 0x1f, 0b1010_1100];
        let c = avcc(&sps, &[0x68, 0xee]).unwrap();
        assert_eq!(c[c.len() - 4..], [0xfd, 0xf8, 0xf8, 0]);
    }
}
