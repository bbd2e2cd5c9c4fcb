//! VP9 payloads (RFC 9628).

/// VP9 descriptor summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp9Info {
    /// Picture id.
    pub picture_id: Option<u16>,
}
