//! H.265 payloads (RFC 7798).

/// The NAL unit types one payload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H265Info {
    /// Bit `t` is set when a NAL unit of type `t` (0..=63) is present.
    pub nal_types: u64,
}
