//! The crate's one error type, grouped by cause (CONTRIBUTING.md convention 8).

use crate::AttrType;

/// Everything that can go wrong while parsing, verifying or encoding a STUN message.
///
/// Variants are grouped by cause: malformed input from the network, failed authentication, and local
/// misuse of the encoder. A malformed datagram is never a panic: the caller drops it and counts it.
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum StunError {
    // ---- malformed input (RFC 8489 §5, §14) ----
    /// The buffer ends before the 20-byte header or before the length the header announces.
    #[error("truncated STUN message: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the header (or framing) requires.
        needed: usize,
        /// Bytes actually present.
        available: usize,
    },
    /// The two most significant bits of the message type are not zero (RFC 8489 §5).
    #[error("not a STUN header: the two most significant bits of the message type are not zero")]
    BadHeader,
    /// The magic cookie is not 0x2112A442 (RFC 8489 §5).
    #[error("bad magic cookie {0:#010x}")]
    BadMagicCookie(u32),
    /// The header's message length is not a multiple of 4 (RFC 8489 §5).
    #[error("message length {0} is not a multiple of 4")]
    BadLength(u16),
    /// The buffer holds bytes after the end the header announces.
    #[error("{0} trailing bytes after the STUN message")]
    TrailingBytes(usize),
    /// An attribute's length runs past the end of the message (RFC 8489 §14).
    #[error("attribute {ty} at offset {offset} runs past the end of the message")]
    AttributeOverrun {
        /// The attribute's type.
        ty: AttrType,
        /// Offset of the attribute header in the message.
        offset: usize,
    },
    /// The message carries more attributes than [`crate::MAX_ATTRIBUTES`].
    #[error("more than {0} attributes")]
    TooManyAttributes(usize),
    /// FINGERPRINT is present but is not the last attribute (RFC 8489 §14.7).
    #[error("FINGERPRINT is not the last attribute")]
    FingerprintNotLast,
    /// The FINGERPRINT value does not match the CRC-32 of the message (RFC 8489 §14.7).
    #[error("FINGERPRINT mismatch: message says {found:#010x}, computed {computed:#010x}")]
    FingerprintMismatch {
        /// Value carried in the message.
        found: u32,
        /// Value computed over the message.
        computed: u32,
    },
    /// An attribute value is malformed for its type (wrong length, bad family, invalid UTF-8, ...).
    #[error("malformed {ty} attribute: {reason}")]
    BadAttribute {
        /// The attribute's type.
        ty: AttrType,
        /// What was wrong with it.
        reason: &'static str,
    },

    // ---- authentication (RFC 8489 §9, §14.5, §14.6) ----
    /// Neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256 is present.
    #[error("message has no MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256")]
    IntegrityMissing,
    /// The HMAC in the message does not match the one computed with the given key.
    #[error("message integrity check failed")]
    IntegrityMismatch,

    // ---- local misuse (the encoder was asked for something the wire cannot carry) ----
    /// The encoder was used in a way that cannot produce a valid message.
    #[error("STUN encoder misuse: {0}")]
    Misuse(&'static str),
}
