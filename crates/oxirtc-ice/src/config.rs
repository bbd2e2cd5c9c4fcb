use std::net::SocketAddr;
use std::time::Duration;

use oxirtc_stun::RetransmitConfig;

/// Settings of one ICE agent. `Default` gives the RFC-recommended values.
#[derive(Clone, Debug)]
pub struct IceConfig {
    /// Start as the controlling agent (RFC 8445 §6.1.1: the offerer in JSEP).
    pub controlling: bool,
    /// Be an ICE-lite agent (RFC 8445 §2.5): host candidates only, never send checks, always controlled.
    pub lite: bool,
    /// Controlling side only: put USE-CANDIDATE on every check (RFC 5245 aggressive nomination, which
    /// RFC 8445 deprecates but peers still use). Off by default: regular nomination (RFC 8445 §8.1.1).
    pub aggressive_nomination: bool,
    /// Pacing interval Ta between new checks (RFC 8445 §14.2, default 50 ms).
    pub ta: Duration,
    /// STUN servers for server-reflexive gathering (RFC 8445 §5.1.1.2).
    pub stun_servers: Vec<SocketAddr>,
    /// Retransmission of connectivity checks; `rto` is the floor of RFC 8445 §14.3 (never below 500 ms).
    pub check_retransmit: RetransmitConfig,
    /// Cap on remote candidates: an offer cannot make us check the whole Internet.
    pub max_remote_candidates: usize,
    /// Cap on candidate pairs (RFC 8445 §6.1.2.5 suggests 100).
    pub max_pairs: usize,
    /// How long the controlling agent waits, after its first valid pair, for a higher-priority pair
    /// before nominating the best valid one (RFC 8445 §8.1.1 leaves this to the agent).
    pub nomination_timeout: Duration,
    /// Mean interval of consent checks on the selected pair (RFC 7675 §5.1: 5 s, randomised ±20 %).
    pub consent_interval: Duration,
    /// Consent expires this long after the last authenticated response (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// With no consent response for this long, the state is Disconnected (it recovers on the next one).
    pub disconnected_timeout: Duration,
    /// When every pair has failed and the peer never signalled end-of-candidates, fail after this long
    /// without a new remote candidate (RFC 8838 §8 lets an agent give up).
    pub trickle_timeout: Duration,
    /// Controlled agent only: once the peer's credentials are known, hold our ordinary checks until the
    /// controlling peer's first check arrives, or at most this long (triggered checks are never held;
    /// RFC 8445 §6.1.4.2 does not say when checks must start). A peer that learns our address from a check
    /// before it has applied our answer can connect before it knows our DTLS fingerprint; libdatachannel
    /// 0.24 then fails the handshake (`unknown_ca`). Holding costs nothing when the peer can reach us, and at
    /// most this long when only our check can open the path (we are behind a NAT, or relay-only). Zero: start
    /// at once.
    pub controlled_check_hold: Duration,
}

impl Default for IceConfig {
    fn default() -> Self {
        IceConfig {
            controlling: false,
            lite: false,
            aggressive_nomination: false,
            ta: Duration::from_millis(50),
            stun_servers: Vec::new(),
            check_retransmit: RetransmitConfig::default(),
            max_remote_candidates: 100,
            max_pairs: 100,
            nomination_timeout: Duration::from_millis(500),
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            disconnected_timeout: Duration::from_secs(10),
            trickle_timeout: Duration::from_secs(30),
            controlled_check_hold: Duration::from_millis(100),
        }
    }
}
