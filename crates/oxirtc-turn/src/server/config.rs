//! Server configuration.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::{Credentials, PeerPolicy};

/// Everything the server core needs to know. `Default` is a safe starting point (no users: set
/// [`credentials`](Self::credentials) and at least one relay address).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// REALM sent in 401 responses (RFC 8489 §9.2).
    pub realm: String,
    /// Static users and TURN REST secrets.
    pub credentials: Credentials,
    /// The relay IPs (at most one per address family) whose ports allocations get; the runtime binds
    /// `(relay_ip, port)` when [`crate::ServerEvent::AllocationCreated`] names it. Empty: each
    /// allocation is relayed on the IP its client reached (the server side of its 5-tuple, which the
    /// runtime must then give as the datagram's destination IP, not a wildcard), as coturn does
    /// without `--relay-ip`.
    pub relay_ips: Vec<IpAddr>,
    /// Relay ports, inclusive (RFC 8656 §7.2 recommends 49152..=65535).
    pub min_port: u16,
    /// Highest relay port.
    pub max_port: u16,
    /// Default allocation lifetime (RFC 8656 §6.2: 600 s).
    pub default_lifetime: Duration,
    /// Maximum allocation lifetime (RFC 8656 §7.2: 3600 s recommended).
    pub max_lifetime: Duration,
    /// Nonce validity (RFC 8656 §5: expire at least hourly).
    pub nonce_lifetime: Duration,
    /// Key of the stateless nonce MAC; `None` draws one from the RNG (set it when several cores share
    /// clients, together with the same `now` at construction).
    pub nonce_key: Option<[u8; 32]>,
    /// Unix time (seconds) at the `now` passed to [`crate::TurnServer::new`]: TURN REST usernames carry
    /// a Unix expiry and the core reads no clock.
    pub unix_time_at_start: u64,
    /// Which peers allocations may reach.
    pub peer_policy: PeerPolicy,
    /// Allocations per username (RFC 8656 §5); 0 = unlimited.
    pub max_allocations_per_user: usize,
    /// Allocations in total; 0 = unlimited.
    pub max_allocations: usize,
    /// Relayed bytes per second per allocation, each direction; 0 = unlimited.
    pub max_bytes_per_second: u64,
    /// Permissions per allocation (beyond → 508).
    pub max_permissions: usize,
    /// Channels per allocation (beyond → 508).
    pub max_channels: usize,
    /// Unauthenticated (401/438) responses per source IP per second. With the 401 size
    /// ([`Self::unauthenticated_response_len`]) this bounds what a spoofed source can reflect onto
    /// its victim: `unauth_responses_per_second × unauthenticated_response_len()` bytes per second.
    pub unauth_responses_per_second: u32,
    /// Optional size rule for unauthenticated 401/438 answers: `Some(n)` leaves a request unanswered
    /// (and counted in [`crate::ServerStats::dropped_unauth_too_small`]) when its answer would exceed
    /// it by more than `n` bytes; `Some(0)` means never larger than the request.
    ///
    /// `None` (the default) answers every unauthenticated request, within the per-source rate limit:
    /// browsers (a 28-byte first Allocate) and coturn's clients (52-60 bytes) need a 401 larger than
    /// their request to start authenticating. The 401 is as small as it can be (ERROR-CODE without
    /// reason phrase, REALM, a 12-character NONCE; no SOFTWARE, no FINGERPRINT), so the
    /// amplification is at most [`Self::unauthenticated_response_len`] / 20 (a bare STUN header).
    pub unauth_size_slack: Option<usize>,
    /// RFC 5780: `(primary, alternate)` listen addresses with different IPs and ports; Binding
    /// responses then carry OTHER-ADDRESS and RESPONSE-ORIGIN and honour CHANGE-REQUEST. The runtime
    /// must listen on all four IP × port combinations.
    pub alternate: Option<(SocketAddr, SocketAddr)>,
    /// SOFTWARE in Allocate/Refresh responses (RFC 8656 §5); empty = none.
    pub software: String,
    /// Most transmits queued between two `poll_transmit` drains; beyond, packets are dropped and counted.
    pub max_queued_transmits: usize,
}

impl ServerConfig {
    /// Bytes of every unauthenticated 401/438 this configuration sends (RFC 8489 §9.2.4): the STUN
    /// header, ERROR-CODE without reason phrase, REALM and NONCE, each attribute padded to 4 bytes
    /// (RFC 8489 §14). 56 with the default realm `oxirtc`.
    pub fn unauthenticated_response_len(&self) -> usize {
        let attr = |value_len: usize| 4 + value_len.div_ceil(4) * 4;
        oxirtc_stun::HEADER_LEN + attr(4) + attr(self.realm.len()) + attr(crate::auth::NONCE_LEN)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            realm: "oxirtc".into(),
            credentials: Credentials::new(),
            relay_ips: Vec::new(),
            min_port: 49152,
            max_port: 65535,
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            nonce_lifetime: Duration::from_secs(3600),
            nonce_key: None,
            unix_time_at_start: 0,
            peer_policy: PeerPolicy::default(),
            max_allocations_per_user: 0,
            max_allocations: 0,
            max_bytes_per_second: 0,
            max_permissions: 64,
            max_channels: 256,
            unauth_responses_per_second: 20,
            unauth_size_slack: None,
            alternate: None,
            software: String::new(),
            max_queued_transmits: 4096,
        }
    }
}
