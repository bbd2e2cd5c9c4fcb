//! The crate's one error type, grouped by cause (CONTRIBUTING.md convention 8).

/// Everything that can go wrong while parsing an SCTP packet or using an [`crate::Association`].
///
/// Malformed network input never surfaces to the caller of `handle_receive`: such a packet is dropped,
/// counted in [`crate::SctpStats`] and traced. The parse errors are public for the codec's own users
/// (fuzzing, tests, tools).
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SctpError {
    // ---- malformed input (RFC 9260 §3) ----
    /// The buffer ends before a header or before the length a header announces.
    #[error("truncated SCTP input: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The CRC32c in the common header does not match the packet (RFC 9260 §6.8).
    #[error("bad CRC32c: packet says {found:#010x}, computed {computed:#010x}")]
    BadChecksum {
        /// Value carried in the packet.
        found: u32,
        /// Value computed over the packet.
        computed: u32,
    },
    /// A chunk or parameter length is below its header size or runs past the end (RFC 9260 §3.2).
    #[error("bad length {length} for chunk/parameter type {ty} at offset {offset}")]
    BadLength {
        /// Chunk or parameter type.
        ty: u16,
        /// The length field.
        length: usize,
        /// Offset of the header in its container.
        offset: usize,
    },
    /// A chunk's value does not have the layout its type requires.
    #[error("malformed {chunk} chunk: {reason}")]
    Malformed {
        /// Chunk name.
        chunk: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// The packet carries no chunk at all.
    #[error("SCTP packet without chunks")]
    NoChunks,

    // ---- local misuse ----
    /// `send` was called with an empty message (SCTP cannot carry 0-byte user data, RFC 9260 §3.3.1;
    /// WebRTC sends one byte with an `*_EMPTY` PPID instead, RFC 8831 §6.6).
    #[error("cannot send an empty message")]
    EmptyMessage,
    /// `send` was called with a message larger than `SctpConfig::max_message_size`.
    #[error("message of {size} bytes exceeds the maximum message size of {max}")]
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The send buffer is full; retry after `BufferedAmountLow` or when acknowledgements arrive.
    #[error("send buffer full ({buffered} of {max} bytes)")]
    WouldBlock {
        /// Bytes currently buffered.
        buffered: usize,
        /// The configured `max_send_buffer`.
        max: usize,
    },
    /// The stream id is not below the negotiated number of outbound streams.
    #[error("stream {0} is not below the negotiated number of outbound streams")]
    InvalidStream(u16),
    /// The association is not in a state that allows the operation (not established, closing, closed).
    #[error("association is not established")]
    NotEstablished,
    /// The peer did not announce RE-CONFIG support (RFC 6525 §3.1).
    #[error("the peer does not support stream reconfiguration")]
    ReconfigUnsupported,
    /// Too many stream resets are pending already.
    #[error("too many pending stream resets")]
    TooManyPendingResets,
}
