//! H.264 `profile-level-id` (RFC 6184 §8.1): which sub-profile a payload type declares, so that
//! offer/answer can tell whether two configurations are the same (RFC 6184 §8.2.2: everything but
//! the level must be used symmetrically).

/// An H.264 sub-profile, as RFC 6184 Table 5 groups `profile_idc` / `profile-iop` combinations,
/// plus Constrained High (H.264 Annex A: High with constraint_set4 and constraint_set5), which
/// browsers offer as `640c1f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H264Profile {
    /// CB: Baseline / Main / Extended with the constraint flags of Table 5's first rows.
    ConstrainedBaseline,
    /// B.
    Baseline,
    /// M.
    Main,
    /// E.
    Extended,
    /// Constrained High (profile_idc 100, constraint_set4 and constraint_set5).
    ConstrainedHigh,
    /// H.
    High,
    /// A `profile_idc` / `profile-iop` pair this table does not name: matched only byte for byte.
    Other(u8, u8),
}

/// A parsed `profile-level-id`: the sub-profile and the `level_idc` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileLevelId {
    /// The sub-profile.
    pub profile: H264Profile,
    /// `level_idc` (e.g. 0x1f = level 3.1).
    pub level_idc: u8,
}

/// RFC 6184 §8.1: when `profile-level-id` is absent the default is `420010` (Baseline, level 1).
pub const DEFAULT_PROFILE_LEVEL_ID: &str = "420010";

impl ProfileLevelId {
    /// Parses the six hex digits (case-insensitive); `None` if they are not that.
    pub fn parse(value: &str) -> Option<ProfileLevelId> {
        if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&value[i..i + 2], 16).ok();
        let (idc, iop, level_idc) = (byte(0)?, byte(2)?, byte(4)?);
        Some(ProfileLevelId {
            profile: classify(idc, iop),
            level_idc,
        })
    }
}

/// RFC 6184 Table 5, bit patterns written as (mask, value) on `profile-iop` (x = not in the mask).
fn classify(idc: u8, iop: u8) -> H264Profile {
    let matches = |mask: u8, value: u8| iop & mask == value;
    match idc {
        0x42 if matches(0b0100_1111, 0b0100_0000) => H264Profile::ConstrainedBaseline,
        0x4D if matches(0b1000_1111, 0b1000_0000) => H264Profile::ConstrainedBaseline,
        0x58 if matches(0b1100_1111, 0b1100_0000) => H264Profile::ConstrainedBaseline,
        0x42 if matches(0b0100_1111, 0) => H264Profile::Baseline,
        0x58 if matches(0b1100_1111, 0b1000_0000) => H264Profile::Baseline,
        0x4D if matches(0b1010_1111, 0) => H264Profile::Main,
        0x58 if matches(0b1100_1111, 0) => H264Profile::Extended,
        // constraint_set4_flag and constraint_set5_flag (bits 3 and 2 of profile-iop).
        0x64 if iop == 0b0000_1100 => H264Profile::ConstrainedHigh,
        0x64 if iop == 0 => H264Profile::High,
        _ => H264Profile::Other(idc, iop),
    }
}

/// Whether two `profile-level-id` values (absent = the RFC default) name the same sub-profile; the
/// level may differ (RFC 6184 §8.2.2). Unparseable values match nothing.
pub fn same_profile(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |v: Option<&str>| ProfileLevelId::parse(v.unwrap_or(DEFAULT_PROFILE_LEVEL_ID));
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a.profile == b.profile,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_profiles() {
        let p = |v| ProfileLevelId::parse(v).map(|p| p.profile);
        assert_eq!(p("42e01f"), Some(H264Profile::ConstrainedBaseline));
        assert_eq!(p("42C01F"), Some(H264Profile::ConstrainedBaseline));
        assert_eq!(p("42001f"), Some(H264Profile::Baseline));
        assert_eq!(p("4d001f"), Some(H264Profile::Main));
        assert_eq!(p("640c1f"), Some(H264Profile::ConstrainedHigh));
        assert_eq!(p("64001f"), Some(H264Profile::High));
        assert_eq!(p("f4001f"), Some(H264Profile::Other(0xf4, 0)));
        assert_eq!(ProfileLevelId::parse("42e01f").map(|p| p.level_idc), Some(0x1f));
        for bad in ["", "42e01", "42e01fa", "42g01f"] {
            assert_eq!(ProfileLevelId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn table_5_equivalences() {
        // RFC 6184 Table 5: CB as 42 x1xx0000, 4D 1xxx0000, 58 11xx0000; B as 42 x0xx0000, 58 10xx0000.
        assert!(same_profile(Some("42e01f"), Some("4d801f")));
        assert!(same_profile(Some("42401f"), Some("58c01f")));
        assert!(same_profile(Some("42001f"), Some("58801f")));
        assert!(!same_profile(Some("42e01f"), Some("42001f")), "CB is not B");
        assert!(
            !same_profile(Some("640c1f"), Some("64001f")),
            "constrained high is not high"
        );
        // The level does not take part (§8.2.2).
        assert!(same_profile(Some("42e01f"), Some("42e034")));
        // Absent is 420010: Baseline.
        assert!(same_profile(None, Some("42001f")));
        assert!(!same_profile(Some("zz"), Some("zz")));
    }
}
