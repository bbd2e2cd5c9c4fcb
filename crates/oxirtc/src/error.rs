//! The one error type of the `oxirtc` core, grouped by cause (CONTRIBUTING.md convention 8).

use oxirtc_sdp::SdpError;

/// Everything that can go wrong in the core. Layer errors are wrapped with `From`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    // --- malformed input from the peer or the application ---
    /// A session description could not be parsed; the connection is unchanged.
    #[error("invalid session description: {0}")]
    Sdp(#[from] SdpError),
    /// A session description parsed but cannot be used; the connection is unchanged.
    #[error("unusable session description: {0}")]
    Negotiation(String),
    /// A remote ICE candidate line was invalid.
    #[error("invalid ICE candidate: {0}")]
    Ice(#[from] oxirtc_ice::IceError),
    /// A DCEP message was malformed (RFC 8832 §5); the message is dropped.
    #[error("malformed DCEP message: {0}")]
    MalformedDcep(&'static str),

    // --- local misuse ---
    /// An argument names something that does not exist or is not allowed (a transceiver of
    /// another connection, a payload type that was not negotiated...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The call is not allowed in the current signaling or connection state.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// `set_local_description` was given a description that is not the one `create_offer` /
    /// `create_answer` returned (W3C InvalidModificationError): what differs, and what to do.
    /// Nothing changed.
    #[error("local description refused: {0}")]
    DescriptionModified(String),
    /// No channel has this id (never created, or closed and forgotten).
    #[error("unknown data channel {0}")]
    UnknownChannel(u64),
    /// The channel is not open (still connecting, closing or closed).
    #[error("data channel {0} is not open")]
    ChannelNotOpen(u64),
    /// A message is larger than the peer's `a=max-message-size` (RFC 8841 §6.1). Nothing was sent.
    #[error("message of {size} bytes exceeds the maximum message size of {max} bytes; split it")]
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The negotiated maximum.
        max: usize,
    },
    /// The SCTP stream id of a negotiated channel is already used by another channel.
    #[error("data channel stream id {0} is already in use")]
    StreamIdInUse(u16),
    /// Every stream id of our parity below the negotiated stream count is taken (W3C
    /// `createDataChannel` throws OperationError then).
    #[error("every SCTP stream id of our DTLS role is in use: close a data channel before opening another")]
    NoFreeStream,
    /// A label or protocol is longer than 65,535 bytes (RFC 8832 §5.1).
    #[error("data channel label or protocol longer than 65535 bytes")]
    LabelTooLong,
    /// Send buffer is full: wait for `ChannelBufferedAmountLow` and try again.
    #[error("send buffer full: wait for the buffered amount to drop, then send again")]
    BufferFull,

    // --- layers ---
    /// The DTLS layer refused the operation.
    #[error("DTLS: {0}")]
    Dtls(#[from] oxirtc_dtls::DtlsError),
    /// The SCTP layer refused the operation.
    #[error("SCTP: {0}")]
    Sctp(#[from] oxirtc_sctp::SctpError),
    /// Certificate generation or another crypto operation failed.
    #[error("crypto: {0}")]
    Crypto(#[from] oxirtc_crypto::CryptoError),
}
