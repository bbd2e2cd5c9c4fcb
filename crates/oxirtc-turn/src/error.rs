//! The crate's one error type, grouped by cause (CONTRIBUTING.md convention 8).

use std::net::SocketAddr;

/// Errors returned to the caller of the TURN client or server core.
///
/// Bad packets from the network are never errors: they are dropped, counted in the stats and traced.
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TurnError {
    // ---- configuration / local misuse ----
    /// A CIDR string (`10.0.0.0/8`, `fc00::/7`, a bare address) could not be parsed.
    #[error("bad CIDR {0:?}")]
    BadCidr(String),
    /// A configuration value is out of range or inconsistent.
    #[error("bad TURN configuration: {0}")]
    BadConfig(&'static str),
    /// The call is not valid in the current state (e.g. `send_to` before the allocation exists).
    #[error("TURN misuse: {0}")]
    Misuse(&'static str),
    /// The data is larger than one TURN message can carry.
    #[error("payload of {0} bytes is too large for one TURN message: send at most 65000 bytes per message")]
    TooLarge(usize),

    // ---- the server refused or did not answer ----
    /// The server answered a request with an error response the client cannot recover from.
    #[error("TURN server answered {code} {reason}")]
    ErrorResponse {
        /// The STUN error code (RFC 8656 §19).
        code: u16,
        /// The reason phrase the server sent.
        reason: String,
    },
    /// No response to a request before the STUN transaction timed out (RFC 8489 §6.2.1).
    #[error("TURN server did not answer")]
    Timeout,
    /// The success response lacked a mandatory attribute or failed its integrity check.
    #[error("bad response from TURN server: {0}")]
    BadResponse(&'static str),
    /// A permission or channel was asked for a peer of another address family than the relay.
    #[error("peer {0} is not in the address family of the relayed address")]
    PeerFamilyMismatch(SocketAddr),
}
