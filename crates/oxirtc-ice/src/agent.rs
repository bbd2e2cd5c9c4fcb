//! The ICE agent: public API, state, timers. Packet processing lives in `inbound.rs`/`outbound.rs`, the
//! checklist rules in `checklist.rs`, consent in `consent.rs`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{CryptoProvider, SecureRng};
use oxirtc_stun::{ClientTransaction, TransactionId};

use crate::candidate::{is_ice_char, Candidate, CandidateKind, COMPONENT_RTP};
use crate::pair::{Pair, PairState};
use crate::{IceConfig, IceConnectionState, IceError, IceEvent};

/// RFC 8445 §14.2: the default Ta, and what a peer that proposes no value is taken to use.
pub const DEFAULT_TA: Duration = Duration::from_millis(50);

/// ICE credentials: username fragment and password (RFC 8445 §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceCredentials {
    /// Username fragment (4..=256 ice-chars).
    pub ufrag: String,
    /// Password (22..=256 ice-chars).
    pub pwd: String,
}

impl IceCredentials {
    /// Fresh random credentials: 8-char ufrag (48 bits) and 24-char password (144 bits), above the
    /// RFC 8445 §5.3 minimums of 24 and 128 bits.
    pub fn random(rng: &mut SecureRng) -> Self {
        IceCredentials {
            ufrag: rng.ice_string(8),
            pwd: rng.ice_string(24),
        }
    }

    /// Checks RFC 8445 §5.3 / RFC 8839 §5.4 syntax: ufrag 4..=256 and password 22..=256 ice-chars.
    pub fn validate(&self) -> Result<(), IceError> {
        let ok = |s: &str, min: usize| (min..=256).contains(&s.len()) && s.bytes().all(is_ice_char);
        if !ok(&self.ufrag, 4) {
            return Err(IceError::BadCredentials("ufrag must be 4 to 256 ice-chars"));
        }
        if !ok(&self.pwd, 22) {
            return Err(IceError::BadCredentials("password must be 22 to 256 ice-chars"));
        }
        Ok(())
    }
}

/// A datagram the agent wants sent. `source` is the local base (socket address, or relayed address for
/// a relayed candidate, which the owner sends through its TURN client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Local address to send from.
    pub source: SocketAddr,
    /// Remote address to send to.
    pub destination: SocketAddr,
    /// The STUN message.
    pub contents: Vec<u8>,
}

/// Counters of what the agent received and dropped. A dropped packet never changes agent state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceStats {
    /// Not a parseable STUN message (or FINGERPRINT wrong).
    pub dropped_malformed: u64,
    /// STUN, but not a Binding (or an unexpected class).
    pub dropped_unexpected: u64,
    /// A check without FINGERPRINT.
    pub dropped_no_fingerprint: u64,
    /// USERNAME missing or not ours.
    pub dropped_bad_username: u64,
    /// MESSAGE-INTEGRITY missing or wrong.
    pub dropped_bad_integrity: u64,
    /// A response matching no transaction in flight.
    pub dropped_unmatched: u64,
    /// Remote candidates refused by the caps.
    pub refused_candidates: u64,
    /// Connectivity and consent checks sent (first transmissions).
    pub checks_sent: u64,
    /// Authenticated checks received.
    pub checks_received: u64,
    /// Role conflicts detected (RFC 8445 §7.3.1.1, §7.2.5.1).
    pub role_conflicts: u64,
}

fn is_broadcast(ip: std::net::IpAddr) -> bool {
    matches!(ip, std::net::IpAddr::V4(v4) if v4.is_broadcast())
}

/// Timers in one table (CONTRIBUTING.md convention 3); `poll_timeout` is their minimum together with the
/// transactions' own deadlines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Timer {
    /// Next paced check (RFC 8445 §6.1.4.2, every Ta).
    Pace = 0,
    /// Next consent check on the selected pair (RFC 7675 §5.1).
    Consent,
    /// Controlling agent stops waiting for a better pair and nominates (RFC 8445 §8.1.1).
    Nominate,
    /// Give up when every pair failed and trickling went quiet (RFC 8838 §8).
    TrickleGiveUp,
    /// Disconnected / consent-expiry deadlines of the selected pair.
    Liveness,
}
pub(crate) const TIMER_COUNT: usize = 5;

/// A connectivity or consent check in flight.
pub(crate) struct Check {
    pub tx: ClientTransaction,
    /// The pair checked; `None` for a consent check that outlived its pair (across an ICE restart).
    pub pair: Option<usize>,
    pub source: SocketAddr,
    pub destination: SocketAddr,
    /// Remote password the request was signed with; the response must be signed with it too.
    pub key: Vec<u8>,
    pub use_candidate: bool,
    pub consent: bool,
    /// We sent ICE-CONTROLLING (for 487 handling, RFC 8445 §7.2.5.1).
    pub sent_controlling: bool,
    /// PRIORITY we sent (becomes the priority of a discovered peer-reflexive candidate).
    pub sent_priority: u32,
    /// RFC 8445 §7.3.1.4: cancelled checks are not retransmitted; a late response is still accepted
    /// until this deadline.
    pub cancelled_until: Option<Instant>,
}

/// A server-reflexive gathering transaction (RFC 8445 §5.1.1.2).
pub(crate) struct Gather {
    pub tx: ClientTransaction,
    pub base: SocketAddr,
    pub server: SocketAddr,
}

/// The selected pair and its liveness (consent) bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct Selected {
    /// The pair on the current checklist; `None` once an ICE restart discarded the checklist.
    pub pair: Option<usize>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub priority: u64,
    /// Last authenticated response (full agent) or request (lite agent) on this pair (RFC 7675).
    pub last_alive: Instant,
    /// Credentials consent checks use (they survive an ICE restart until a new pair is selected).
    pub local_ufrag: String,
    pub remote_ufrag: String,
    pub remote_pwd: String,
}

/// A sans-IO ICE agent for one component of one data stream (WebRTC bundles everything onto one).
///
/// See the crate docs for the run loop.
pub struct IceAgent {
    pub(crate) config: IceConfig,
    pub(crate) crypto: &'static dyn CryptoProvider,
    pub(crate) rng: SecureRng,
    pub(crate) controlling: bool,
    pub(crate) tie_breaker: u64,
    pub(crate) local_creds: IceCredentials,
    pub(crate) remote_creds: Option<IceCredentials>,
    pub(crate) remote_lite: bool,
    pub(crate) local: Vec<Candidate>,
    pub(crate) remote: Vec<Candidate>,
    pub(crate) pairs: Vec<Pair>,
    pub(crate) triggered: VecDeque<usize>,
    pub(crate) checks: Vec<Check>,
    pub(crate) gathers: Vec<Gather>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<IceEvent>,
    pub(crate) state: IceConnectionState,
    /// Why the agent failed, while it is failed (until an ICE restart finds a pair).
    pub(crate) failure: Option<crate::IceFailure>,
    pub(crate) selected: Option<Selected>,
    pub(crate) remote_end_of_candidates: bool,
    pub(crate) last_remote_candidate_at: Option<Instant>,
    pub(crate) last_check_at: Option<Instant>,
    pub(crate) timers: [Option<Instant>; TIMER_COUNT],
    pub(crate) stats: IceStats,
    /// The owner is still gathering candidates the agent does not see coming (e.g. TURN allocations).
    pub(crate) owner_gathering: bool,
    /// The Ta the peer proposed (`a=ice-pacing`), once its description is known.
    pub(crate) remote_pacing: Option<Duration>,
    /// Round-trip time of the last check answered without a retransmission.
    pub(crate) rtt: Option<Duration>,
    /// Controlled agent: ordinary checks wait until the peer's first check, or until then
    /// ([`IceConfig::controlled_check_hold`]).
    pub(crate) ordinary_hold_until: Option<Instant>,
}

impl IceAgent {
    /// A new agent with random credentials and tie-breaker drawn from `rng`.
    pub fn new(config: IceConfig, crypto: &'static dyn CryptoProvider, mut rng: SecureRng) -> Self {
        let local_creds = IceCredentials::random(&mut rng);
        let tie_breaker = rng.u64();
        IceAgent {
            // RFC 8445 §6.1.1: a lite agent is always controlled.
            controlling: config.controlling && !config.lite,
            config,
            crypto,
            rng,
            tie_breaker,
            local_creds,
            remote_creds: None,
            remote_lite: false,
            local: Vec::new(),
            remote: Vec::new(),
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            checks: Vec::new(),
            gathers: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            state: IceConnectionState::New,
            failure: None,
            selected: None,
            remote_end_of_candidates: false,
            last_remote_candidate_at: None,
            last_check_at: None,
            timers: [None; TIMER_COUNT],
            stats: IceStats::default(),
            rtt: None,
            owner_gathering: false,
            remote_pacing: None,
            ordinary_hold_until: None,
        }
    }

    /// Sets our role as the owner decided it (RFC 8445 §6.1.1: in JSEP the offerer is controlling,
    /// RFC 8829 §3.5.3), e.g. once it knows whether it offers. Pair priorities are recomputed; no
    /// [`IceEvent::RoleChanged`] is emitted, which reports only role conflicts. A lite agent stays
    /// controlled.
    pub fn set_controlling(&mut self, now: Instant, controlling: bool) {
        let before = self.events.len();
        self.set_role(now, controlling);
        let role_event = self
            .events
            .iter()
            .skip(before)
            .position(|e| matches!(e, IceEvent::RoleChanged { .. }));
        if let Some(pos) = role_event {
            self.events.remove(before + pos);
        }
    }

    /// Tells the agent its owner is still gathering local candidates (TURN allocations in flight): the
    /// checklist does not fail while so, since a new local candidate can still form working pairs
    /// (RFC 8838 §8: ICE fails only once both sides have finished gathering).
    pub fn set_owner_gathering(&mut self, now: Instant, gathering: bool) {
        if self.owner_gathering != gathering {
            self.owner_gathering = gathering;
            self.update_state(now);
        }
    }

    /// The pacing value the peer proposed (`a=ice-pacing`, RFC 8839 §5.5), `None` if it proposed none.
    /// RFC 8445 §14.2: both agents use the higher of the two proposals, and an agent that proposes none
    /// counts as proposing the default 50 ms.
    pub fn set_remote_pacing(&mut self, pacing: Option<Duration>) {
        self.remote_pacing = Some(pacing.unwrap_or(DEFAULT_TA));
    }

    /// The Ta in use (RFC 8445 §14.2): the higher of ours and the peer's; 50 ms until the peer's is known.
    pub fn ta(&self) -> Duration {
        self.config.ta.max(self.remote_pacing.unwrap_or(DEFAULT_TA))
    }

    /// Our credentials, to put in `a=ice-ufrag` / `a=ice-pwd`.
    pub fn local_credentials(&self) -> &IceCredentials {
        &self.local_creds
    }

    /// Sets the peer's credentials (from its SDP). New remote credentials while others are in use mean the
    /// peer restarted ICE (RFC 8445 §9): the checklist starts over.
    pub fn set_remote_credentials(&mut self, now: Instant, creds: IceCredentials) -> Result<(), IceError> {
        creds.validate()?;
        if let Some(old) = &self.remote_creds {
            if *old == creds {
                return Ok(());
            }
            self.reset_checklist(now);
        }
        let first_session = self.remote_creds.is_none() && self.stats.checks_received == 0;
        if first_session && !self.config.controlled_check_hold.is_zero() {
            self.ordinary_hold_until = Some(now + self.config.controlled_check_hold);
        }
        self.remote_creds = Some(creds);
        self.last_remote_candidate_at.get_or_insert(now);
        self.arm_pacing(now);
        self.update_state(now);
        Ok(())
    }

    /// The peer is an ICE-lite agent (`a=ice-lite`): we must be the controlling side (RFC 8445 §6.1.1).
    pub fn set_remote_lite(&mut self, lite: bool) {
        self.remote_lite = lite;
        if lite && !self.config.lite {
            self.controlling = true;
        }
    }

    /// Whether this agent is ICE-lite (signal `a=ice-lite`).
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// Whether we currently hold the controlling role.
    pub fn is_controlling(&self) -> bool {
        self.controlling
    }

    /// Adds a local candidate: a host candidate (socket address) or a relayed one (from a TURN client).
    /// Host candidates start server-reflexive gathering against the configured STUN servers.
    pub fn add_local_candidate(&mut self, now: Instant, candidate: Candidate) -> Result<(), IceError> {
        match candidate.kind {
            CandidateKind::Host | CandidateKind::Relayed => {}
            CandidateKind::ServerReflexive if !self.config.lite => {
                if !self
                    .local
                    .iter()
                    .any(|c| c.kind == CandidateKind::Host && c.addr == candidate.base)
                {
                    return Err(IceError::BadLocalCandidate(
                        "server-reflexive candidate with unknown base",
                    ));
                }
            }
            _ => {
                return Err(IceError::BadLocalCandidate(
                    "only host and relayed candidates can be added",
                ))
            }
        }
        if self.config.lite && candidate.kind != CandidateKind::Host {
            return Err(IceError::BadLocalCandidate(
                "an ICE-lite agent has host candidates only",
            ));
        }
        if self
            .local
            .iter()
            .any(|c| c.addr == candidate.addr && c.base == candidate.base)
        {
            return Ok(());
        }
        let is_host = candidate.kind == CandidateKind::Host;
        let base = candidate.base;
        self.local.push(candidate);
        self.pair_new_local(now, self.local.len() - 1);
        if is_host && !self.config.lite {
            self.start_gathering(now, base);
        }
        self.update_state(now);
        Ok(())
    }

    /// Adds a host candidate for a local socket address, with a local preference that ranks addresses in
    /// the order they were added (RFC 8445 §5.1.2.2).
    pub fn add_host(&mut self, now: Instant, addr: SocketAddr) -> Result<(), IceError> {
        let hosts = self
            .local
            .iter()
            .filter(|c| c.kind == CandidateKind::Host)
            .count();
        let pref = 65535u16.saturating_sub((hosts as u16).saturating_mul(128));
        self.add_local_candidate(now, Candidate::host(addr, pref))
    }

    /// Local candidates (host, relayed and the server-reflexive/peer-reflexive ones learned).
    pub fn local_candidates(&self) -> &[Candidate] {
        &self.local
    }

    /// Remote candidates (signalled and peer-reflexive).
    pub fn remote_candidates(&self) -> &[Candidate] {
        &self.remote
    }

    /// Adds a remote candidate from signaling (trickle, RFC 8838). Capped by
    /// [`IceConfig::max_remote_candidates`].
    pub fn add_remote_candidate(&mut self, now: Instant, candidate: Candidate) -> Result<(), IceError> {
        if self.remote_end_of_candidates {
            return Err(IceError::CandidateAfterEnd);
        }
        if candidate.component != COMPONENT_RTP {
            return Ok(()); // RTCP candidates of a peer without rtcp-mux: WebRTC multiplexes (RFC 8843)
        }
        let ip = candidate.addr.ip();
        if ip.is_unspecified() || ip.is_multicast() || candidate.addr.port() == 0 || is_broadcast(ip) {
            // Never aim checks at these: they would reach no peer, or many hosts at once.
            self.stats.refused_candidates += 1;
            return Err(IceError::BadCandidate {
                why: "unspecified, multicast or broadcast address, or port 0",
                line: candidate.to_sdp(),
            });
        }
        self.last_remote_candidate_at = Some(now);
        if let Some(i) = self.remote.iter().position(|c| c.addr == candidate.addr) {
            // RFC 8445 §7.3.1.3: a signalled candidate replaces the peer-reflexive one learned earlier.
            if self.remote[i].kind == CandidateKind::PeerReflexive {
                self.remote[i].kind = candidate.kind;
                self.remote[i].foundation = candidate.foundation;
            }
            return Ok(());
        }
        if self.remote.len() >= self.config.max_remote_candidates {
            self.stats.refused_candidates += 1;
            return Err(IceError::TooManyCandidates {
                cap: self.config.max_remote_candidates,
            });
        }
        let mut candidate = candidate;
        candidate.base = candidate.addr;
        self.remote.push(candidate);
        self.pair_new_remote(now, self.remote.len() - 1);
        self.update_state(now);
        Ok(())
    }

    /// The peer signalled end-of-candidates (RFC 8838 §13): once every pair fails, ICE fails.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.update_state(now);
    }

    /// ICE restart (RFC 8445 §9): new local credentials, remote candidates and checks discarded, the
    /// current selected pair kept (with its consent) until a new one is nominated. The caller signals
    /// the new credentials and then sets the peer's new ones.
    pub fn restart(&mut self, now: Instant) {
        self.local_creds = IceCredentials::random(&mut self.rng);
        self.remote_creds = None;
        self.reset_checklist(now);
        self.failure = None;
        let hosts: Vec<SocketAddr> = self
            .local
            .iter()
            .filter(|c| c.kind == CandidateKind::Host)
            .map(|c| c.base)
            .collect();
        if !self.config.lite {
            for base in hosts {
                self.start_gathering(now, base);
            }
        }
        self.update_state(now);
    }

    /// The current state.
    pub fn state(&self) -> IceConnectionState {
        self.state
    }

    /// The pair to send application data on: `(local base, remote address)`. `None` before a pair is
    /// nominated and after consent expired (RFC 7675 §5.1: stop sending at once).
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.selected.as_ref().map(|s| (s.local, s.remote))
    }

    /// The pair data may go on now: the selected pair once there is one, and before that the
    /// highest-priority valid pair whose check was answered within the consent timeout (RFC 8445
    /// §12.1: "An ICE agent MAY send data on any valid pair before selected pairs have been produced";
    /// RFC 7675 §5.1 consent). Lets DTLS start while the nomination is still on its way. `None` once
    /// ICE has failed or consent expired, until an ICE restart finds a new pair.
    pub fn valid_pair(&self, now: Instant) -> Option<(SocketAddr, SocketAddr)> {
        if let Some(pair) = self.selected_pair() {
            return Some(pair);
        }
        if self.failure.is_some() {
            return None;
        }
        self.pairs
            .iter()
            .filter(|p| p.is_valid())
            .filter(|p| {
                p.last_success
                    .is_some_and(|t| now.saturating_duration_since(t) < self.config.consent_timeout)
            })
            .max_by_key(|p| p.priority)
            .map(|p| (self.local[p.local].base, self.remote[p.remote].addr))
    }

    /// Whether `addr` is the address of a remote candidate: signaled, or peer-reflexive (learned from a
    /// check that carried our credentials, RFC 8445 §7.3.1.3). Application data (DTLS) from any other
    /// address did not come from our ICE peer.
    pub fn is_remote_address(&self, addr: SocketAddr) -> bool {
        self.selected.as_ref().is_some_and(|s| s.remote == addr) || self.remote.iter().any(|c| c.addr == addr)
    }

    /// Whether `addr` is the remote end of a valid pair: one of our checks, signed with the peer's
    /// password, was answered from it (RFC 8445 §7.2.5.3), so the address is proven to be the peer's
    /// and to accept our traffic (RFC 7675 §1), unlike an address only named in a candidate.
    pub fn is_validated_remote(&self, addr: SocketAddr) -> bool {
        self.selected.as_ref().is_some_and(|s| s.remote == addr)
            || self
                .pairs
                .iter()
                .any(|p| p.is_valid() && self.remote[p.remote].addr == addr)
    }

    /// Frees the spare capacity check, transmit and event queues kept from connectivity checks:
    /// nothing they hold is dropped, only room for more. For a connection that has gone quiet;
    /// consent checks (RFC 7675) allocate their slot again when they run.
    pub fn release_idle_buffers(&mut self) {
        self.checks.shrink_to_fit();
        self.gathers.shrink_to_fit();
        self.pairs.shrink_to_fit();
        self.local.shrink_to_fit();
        self.remote.shrink_to_fit();
        self.triggered.shrink_to_fit();
        self.transmits.shrink_to_fit();
        self.events.shrink_to_fit();
    }

    /// What was received, sent and dropped.
    pub fn stats(&self) -> &IceStats {
        &self.stats
    }

    /// The round-trip time of the latest connectivity or consent check that was answered on its first
    /// transmission (Karn's algorithm, RFC 6298 §3); `None` before one was. Layers above use it where
    /// they have no estimate of their own yet (DTLS's first retransmission timer, RFC 9147 §5.8.2).
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Number of candidate pairs on the checklist.
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }

    /// Next datagram to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(t) = self.transmits.pop_front() {
            return Some(t);
        }
        for g in &mut self.gathers {
            if let Some(bytes) = g.tx.poll_transmit(now) {
                return Some(Transmit {
                    source: g.base,
                    destination: g.server,
                    contents: bytes.to_vec(),
                });
            }
        }
        for c in self.checks.iter_mut().filter(|c| c.cancelled_until.is_none()) {
            if let Some(bytes) = c.tx.poll_transmit(now) {
                return Some(Transmit {
                    source: c.source,
                    destination: c.destination,
                    contents: bytes.to_vec(),
                });
            }
        }
        None
    }

    /// Next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// When [`IceAgent::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let txs = self.gathers.iter().filter_map(|g| g.tx.poll_timeout());
        let checks = self
            .checks
            .iter()
            .filter_map(|c| c.cancelled_until.or_else(|| c.tx.poll_timeout()));
        self.timers
            .iter()
            .flatten()
            .copied()
            .chain(txs)
            .chain(checks)
            .min()
    }

    /// Advances timers: retransmissions, pacing, nomination, consent.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_transactions(now);
        if self.timer_due(Timer::Pace, now) {
            self.timers[Timer::Pace as usize] = None;
            self.pace(now);
        }
        if self.timer_due(Timer::Nominate, now) {
            self.timers[Timer::Nominate as usize] = None;
            self.nominate_best(now);
        }
        if self.timer_due(Timer::Consent, now) {
            self.send_consent_check(now);
        }
        self.timers[Timer::TrickleGiveUp as usize] = None;
        self.update_state(now);
    }

    pub(crate) fn timer_due(&self, t: Timer, now: Instant) -> bool {
        self.timers[t as usize].is_some_and(|at| at <= now)
    }

    pub(crate) fn find_check(&self, tid: TransactionId) -> Option<usize> {
        self.checks.iter().position(|c| c.tx.transaction_id() == tid)
    }

    /// Drops every pair, remote candidate and check (restart); keeps the selected pair and its consent.
    fn reset_checklist(&mut self, now: Instant) {
        self.remote.clear();
        self.pairs.clear();
        self.triggered.clear();
        self.checks.retain(|c| c.consent);
        for c in &mut self.checks {
            c.pair = None;
        }
        if let Some(s) = &mut self.selected {
            s.pair = None;
        }
        self.local
            .retain(|c| matches!(c.kind, CandidateKind::Host | CandidateKind::Relayed));
        self.gathers.clear();
        self.remote_end_of_candidates = false;
        self.last_remote_candidate_at = None;
        self.timers[Timer::Nominate as usize] = None;
        self.timers[Timer::TrickleGiveUp as usize] = None;
        self.update_state(now);
    }

    /// Recomputes the connection state and emits `StateChanged` when it moved.
    pub(crate) fn update_state(&mut self, now: Instant) {
        self.update_liveness(now);
        self.recover_stale_selection(now);
        let checklist_failed = self.checklist_failed(now);
        let next = if self.failure.is_some() || (checklist_failed && self.selected.is_none()) {
            if self.failure.is_none() {
                self.fail_checklist();
            }
            IceConnectionState::Failed
        } else if let Some(s) = &self.selected {
            if now.saturating_duration_since(s.last_alive) >= self.config.disconnected_timeout {
                IceConnectionState::Disconnected
            } else if self.checks_finished() {
                IceConnectionState::Completed
            } else {
                IceConnectionState::Connected
            }
        } else if self.remote_creds.is_some() && (!self.pairs.is_empty() || !self.remote.is_empty()) {
            IceConnectionState::Checking
        } else {
            IceConnectionState::New
        };
        if next != self.state {
            tracing::debug!(from = ?self.state, to = ?next, "ice state");
            self.state = next;
            self.events.push_back(IceEvent::StateChanged(next));
        }
    }

    /// RFC 8445 §8.1.2, RFC 8838 §8: every pair failed and no candidate is coming: ICE fails.
    fn fail_checklist(&mut self) {
        let failure = crate::IceFailure::NoWorkingPair {
            pairs: self.pairs.len(),
            trickle_timeout: (!self.remote_end_of_candidates).then_some(self.config.trickle_timeout),
        };
        tracing::warn!(%failure, "ice failed");
        self.failure = Some(failure);
    }

    /// Why ICE failed, while the state is [`IceConnectionState::Failed`]; `None` otherwise (an ICE
    /// restart or a newly selected pair clears it).
    pub fn failure(&self) -> Option<&crate::IceFailure> {
        self.failure.as_ref()
    }

    /// Completed: the peer finished trickling, our gathering is done and no check is in flight. Waiting and
    /// Frozen pairs are never checked once a pair is nominated (RFC 8445 §8.1.2).
    fn checks_finished(&self) -> bool {
        self.remote_end_of_candidates
            && self.gathers.is_empty()
            && self.triggered.is_empty()
            && !self.pairs.iter().any(|p| p.state == PairState::InProgress)
    }
}
