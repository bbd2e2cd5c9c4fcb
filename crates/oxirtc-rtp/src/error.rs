//! The crate's one error type.

/// What went wrong while parsing, writing, packetizing or depacketizing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    /// The input ended before a field the format requires.
    #[error("{what} is truncated: needs {needed} bytes, has {available}")]
    Truncated {
        /// The structure that was being read.
        what: &'static str,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
}
