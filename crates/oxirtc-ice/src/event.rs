use std::net::SocketAddr;

use crate::Candidate;

/// What the agent tells its owner, drained with [`crate::IceAgent::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IceEvent {
    /// A local candidate the agent discovered itself (server-reflexive): trickle it to the peer.
    LocalCandidate(Candidate),
    /// Every server-reflexive gathering transaction has finished (answered or timed out).
    GatheringComplete,
    /// The connection state changed.
    StateChanged(IceConnectionState),
    /// Application data should now flow between these addresses (`local` is the socket/relay address to
    /// send from).
    SelectedPair {
        /// Local base address.
        local: SocketAddr,
        /// Remote candidate address.
        remote: SocketAddr,
    },
    /// A role conflict (RFC 8445 §7.3.1.1) switched our role.
    RoleChanged {
        /// The new role.
        controlling: bool,
    },
}

/// The ICE connection state, shaped like the W3C `RTCIceConnectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceConnectionState {
    /// Waiting for remote credentials and candidates.
    New,
    /// Checks are running; no pair is selected yet.
    Checking,
    /// A nominated pair is selected and consent is fresh.
    Connected,
    /// Connected, and every check has finished with end-of-candidates on both sides.
    Completed,
    /// No consent response for a while; data is still allowed until consent expires.
    Disconnected,
    /// No pair works, or consent expired (RFC 7675 §5.1): nothing may be sent until an ICE restart.
    Failed,
}
