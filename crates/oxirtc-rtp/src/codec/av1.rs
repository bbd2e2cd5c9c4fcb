//! AV1 payloads.

/// The AV1 aggregation header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Av1AggregationHeader {
    /// Z.
    pub z: bool,
}
