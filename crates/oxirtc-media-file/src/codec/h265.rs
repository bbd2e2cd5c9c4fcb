//! H.265 NAL unit types and access unit boundaries (ITU-T H.265 §7.4.2.4.4).

/// nal_unit_type (§7.3.1.2: bits 1 to 6 of the two-byte header); `None` if shorter than the header.
pub(crate) fn nal_type(nal: &[u8]) -> Option<u8> {
    (nal.len() >= 2).then(|| (nal[0] >> 1) & 0x3f)
}

/// Intra random access point pictures: BLA, IDR, CRA and the reserved IRAP types 16 to 23
/// (§7.4.2.2, Table 7-1).
pub(crate) fn is_irap(nal_type: u8) -> bool {
    (16..=23).contains(&nal_type)
}

/// Whether `nal` begins a new access unit after one that already holds a VCL NAL unit
/// (§7.4.2.4.4): an access unit delimiter (35), VPS, SPS, PPS (32 to 34), a prefix SEI (39), types
/// 41 to 44 and 48 to 55, or the first slice segment of a new picture
/// (first_slice_segment_in_pic_flag, the first bit after the header, is 1). Layers above 0 are
/// not told apart (WebRTC sends one layer).
pub(crate) fn starts_access_unit(nal: &[u8], au_has_vcl: bool) -> bool {
    match nal_type(nal) {
        Some(35) => true,
        Some(32..=34 | 39 | 41..=44 | 48..=55) => au_has_vcl,
        Some(0..=31) => au_has_vcl && nal.get(2).is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

/// Whether the NAL unit is a VCL NAL unit (types 0 to 31).
pub(crate) fn is_vcl(nal: &[u8]) -> bool {
    nal_type(nal).is_some_and(|t| t <= 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_unit_starts() {
        let idr_first = [20 << 1, 1, 0x80]; // IDR_N_LP, first_slice_segment_in_pic_flag 1
        let idr_second = [20 << 1, 1, 0x40];
        assert!(starts_access_unit(&idr_first, true));
        assert!(!starts_access_unit(&idr_first, false));
        assert!(!starts_access_unit(&idr_second, true));
        assert!(starts_access_unit(&[35 << 1, 1, 0x50], false)); // AUD
        assert!(starts_access_unit(&[32 << 1, 1], true)); // VPS
        assert!(!starts_access_unit(&[40 << 1, 1], true)); // suffix SEI stays
        assert!(is_irap(20) && is_irap(21) && !is_irap(1));
        assert_eq!(nal_type(&[0x40]), None);
    }
}
