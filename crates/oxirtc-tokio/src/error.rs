//! The error type of the async driver.

/// What can go wrong in the async API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core refused the operation (bad SDP, wrong state, message too large, ...).
    #[error(transparent)]
    Rtc(#[from] oxirtc::RtcError),
    /// A socket could not be bound or used.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The peer connection is closed (closed locally, by the peer, or its driver ended).
    #[error("the peer connection is closed")]
    Closed,
    /// The connection ended, and this is why (a peer's SCTP ABORT, a fatal DTLS alert, ICE
    /// failing, a close by either side): also [`crate::PeerConnection::close_reason`]. A new
    /// connection is needed.
    #[error("the connection ended: {0}")]
    ConnectionEnded(oxirtc::CloseReason),
    /// The data channel closed before it opened or while a send was waiting.
    #[error("the data channel is closed")]
    ChannelClosed,
}
