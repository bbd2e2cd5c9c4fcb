//! Checks we send and the responses to them: connectivity checks (RFC 8445 §7.2), server-reflexive
//! gathering (RFC 8445 §5.1.1.2), and role changes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_stun::{
    short_term_key, Attribute, Class, ClientTransaction, Message, MessageEncoder, Method, RetransmitConfig,
    TransactionId, TransactionState,
};

use crate::agent::{Check, Gather, IceAgent, Timer};
use crate::candidate::{candidate_priority, foundation_for, Candidate, CandidateKind};
use crate::pair::{pair_priority, PairState};
use crate::IceEvent;

/// A check to send: what goes into the Binding request and what is kept to match its response.
pub(crate) struct CheckSpec<'a> {
    /// The pair checked; `None` for a consent check that outlived its pair.
    pub pair: Option<usize>,
    pub source: SocketAddr,
    pub destination: SocketAddr,
    /// USERNAME is "remote ufrag:local ufrag" (RFC 8445 §7.2.2).
    pub remote_ufrag: &'a str,
    pub local_ufrag: &'a str,
    /// The request is signed with the peer's password (RFC 8445 §7.2.2).
    pub remote_pwd: &'a str,
    pub priority: u32,
    pub use_candidate: bool,
    pub consent: bool,
}

impl IceAgent {
    /// Encodes a Binding request for a check (RFC 8445 §7.2.2, §7.1): USERNAME "remote:local", PRIORITY,
    /// ICE-CONTROLLING/-CONTROLLED with our tie-breaker, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
    fn encode_check(&self, tid: TransactionId, spec: &CheckSpec<'_>, key: &[u8]) -> Vec<u8> {
        let username = format!("{}:{}", spec.remote_ufrag, spec.local_ufrag);
        let mut out = Vec::with_capacity(128);
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, tid);
        enc.add(&Attribute::Username(&username));
        enc.add(&Attribute::Priority(spec.priority));
        if self.controlling {
            enc.add(&Attribute::IceControlling(self.tie_breaker));
        } else {
            enc.add(&Attribute::IceControlled(self.tie_breaker));
        }
        if spec.use_candidate {
            enc.add(&Attribute::UseCandidate);
        }
        enc.add_message_integrity(self.crypto, key);
        enc.add_fingerprint();
        enc.finish();
        out
    }

    /// Starts a check transaction (connectivity or consent); its first transmission leaves on the next
    /// `poll_transmit` (RFC 8445 §7.2.4).
    pub(crate) fn launch_check(&mut self, now: Instant, spec: &CheckSpec<'_>, config: &RetransmitConfig) {
        let key = short_term_key(spec.remote_pwd);
        let tid = TransactionId::random(&mut self.rng);
        let bytes = self.encode_check(tid, spec, &key);
        tracing::trace!(source = %spec.source, destination = %spec.destination, spec.use_candidate, spec.consent, "ice check");
        self.checks.push(Check {
            tx: ClientTransaction::new(now, tid, bytes, config, false),
            pair: spec.pair,
            source: spec.source,
            destination: spec.destination,
            key,
            use_candidate: spec.use_candidate,
            consent: spec.consent,
            sent_controlling: self.controlling,
            sent_priority: spec.priority,
            cancelled_until: None,
        });
        self.stats.checks_sent += 1;
    }

    /// PRIORITY of a check from `local`: what a peer-reflexive candidate of ours would have (§7.1.1).
    pub(crate) fn prflx_priority(local: &Candidate) -> u32 {
        let local_pref = ((local.priority >> 8) & 0xffff) as u16;
        candidate_priority(CandidateKind::PeerReflexive, local_pref, local.component)
    }

    /// A connectivity check on `pair` (RFC 8445 §7.2.4), paced by the caller.
    pub(crate) fn start_check(&mut self, now: Instant, pair: usize) {
        let Some(creds) = self.remote_creds.clone() else {
            return;
        };
        let local_ufrag = self.local_creds.ufrag.clone();
        let local = &self.local[self.pairs[pair].local];
        let spec = CheckSpec {
            pair: Some(pair),
            source: local.base,
            destination: self.remote[self.pairs[pair].remote].addr,
            remote_ufrag: &creds.ufrag,
            local_ufrag: &local_ufrag,
            remote_pwd: &creds.pwd,
            priority: Self::prflx_priority(local),
            use_candidate: self.controlling
                && (self.pairs[pair].nominating || self.config.aggressive_nomination),
            consent: false,
        };
        let config = RetransmitConfig {
            rto: self.check_rto(),
            ..self.config.check_retransmit.clone()
        };
        self.pairs[pair].state = PairState::InProgress;
        self.launch_check(now, &spec, &config);
    }

    /// RFC 8445 §14.3: RTO = MAX(500 ms, Ta * (Num-Waiting + Num-In-Progress)); never below the configured
    /// floor.
    fn check_rto(&self) -> Duration {
        let busy = self
            .pairs
            .iter()
            .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
            .count();
        let by_load = self.ta().saturating_mul(busy as u32);
        by_load
            .max(self.config.check_retransmit.rto)
            .max(Duration::from_millis(500))
    }

    /// RFC 8445 §7.3.1.4: an In-Progress check is cancelled when a triggered check replaces it; its
    /// response is still accepted for one transaction timeout.
    pub(crate) fn cancel_checks_of(&mut self, now: Instant, pair: usize) {
        let cfg = &self.config.check_retransmit;
        let wait = cfg.rto.saturating_mul(cfg.rm);
        for c in self
            .checks
            .iter_mut()
            .filter(|c| c.pair == Some(pair) && !c.consent)
        {
            c.cancelled_until.get_or_insert(now + wait);
        }
    }

    /// A response (success or error) to one of our Binding requests.
    pub(crate) fn handle_response(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Message<'_>,
    ) {
        let tid = msg.transaction_id();
        if let Some(g) = self.gathers.iter().position(|g| g.tx.transaction_id() == tid) {
            self.handle_gather_response(g, source, msg);
            return;
        }
        let Some(ci) = self.find_check(tid) else {
            self.stats.dropped_unmatched += 1;
            return;
        };
        // RFC 8445 §7.2.5: the response is authenticated with the password the request used; a failing
        // response is dropped and the transaction goes on.
        if msg.verify_integrity(self.crypto, &self.checks[ci].key).is_err() {
            self.stats.dropped_bad_integrity += 1;
            return;
        }
        let check = self.checks.swap_remove(ci);
        // RFC 8445 §7.2.5.2.1: the response must come from where the request went, to where it came from.
        let symmetric = source == check.destination && destination == check.source;
        if check.consent {
            if symmetric && msg.class() == Class::Success {
                self.refresh_liveness(now, check.source, check.destination);
            }
            return;
        }
        let Some(pair) = check.pair else { return };
        if !symmetric {
            self.pair_failed(now, pair);
            return;
        }
        if msg.class() == Class::Error {
            if msg.error_code().map(|e| e.code) == Some(487) {
                // RFC 8445 §7.2.5.1: switch to the role opposite to the one the request claimed, retry.
                self.stats.role_conflicts += 1;
                if self.controlling == check.sent_controlling {
                    self.set_role(now, !check.sent_controlling);
                }
                self.trigger(now, pair, false);
            } else {
                // RFC 8445 §7.2.5.2.4: any other error is unrecoverable for this pair.
                self.pair_failed(now, pair);
            }
            return;
        }
        match msg.xor_mapped_address() {
            Some(mapped) => self.check_succeeded(now, pair, &check, mapped),
            None => self.pair_failed(now, pair),
        }
    }

    /// RFC 8445 §7.2.5.3: a successful check.
    fn check_succeeded(&mut self, now: Instant, pair: usize, check: &Check, mapped: SocketAddr) {
        // §7.2.5.3.1: a mapped address we do not know is a new peer-reflexive local candidate. Checks are
        // sent from its base either way, so the checked pair itself serves as the valid pair (§7.2.5.3.2).
        if !self.local.iter().any(|c| c.addr == mapped) {
            self.local.push(Candidate {
                kind: CandidateKind::PeerReflexive,
                addr: mapped,
                base: check.source,
                priority: check.sent_priority,
                foundation: foundation_for(CandidateKind::PeerReflexive, check.source.ip()),
                component: crate::candidate::COMPONENT_RTP,
                related: Some(check.source),
            });
        }
        // RFC 8445 §12.1: before the nomination data flows on the best valid pair; say when it moves.
        let unselected = self.selected.is_none();
        let data_pair_before = if unselected { self.valid_pair(now) } else { None };
        self.pairs[pair].state = PairState::Succeeded;
        self.pairs[pair].last_success = Some(now);
        if let Some(rtt) = check.tx.rtt_sample(now) {
            self.rtt = Some(rtt);
        }
        if unselected {
            if let Some((local, remote)) = self.valid_pair(now).filter(|p| Some(*p) != data_pair_before) {
                tracing::info!(%local, %remote, "ice valid pair");
            }
        }
        self.unfreeze_foundation(now, pair);
        self.refresh_liveness(now, check.source, check.destination);
        // §7.2.5.3.4: nominated when the check carried USE-CANDIDATE (controlling) or the peer asked for
        // this pair earlier (controlled, §7.3.1.5).
        if (check.use_candidate && self.controlling)
            || (self.pairs[pair].nominate_on_success && !self.controlling)
        {
            self.select(now, pair);
        } else {
            self.consider_nomination(now);
        }
    }

    fn pair_failed(&mut self, now: Instant, pair: usize) {
        let p = &mut self.pairs[pair];
        p.state = PairState::Failed;
        let was_nominating = std::mem::replace(&mut p.nominating, false);
        if was_nominating {
            self.consider_nomination(now);
        }
    }

    /// Retransmission timers of checks and gathering; timeouts fail pairs (RFC 8445 §7.2.5.2.3).
    pub(crate) fn expire_transactions(&mut self, now: Instant) {
        let had_gathers = !self.gathers.is_empty();
        for g in &mut self.gathers {
            g.tx.handle_timeout(now);
        }
        self.gathers
            .retain(|g| g.tx.state() != TransactionState::TimedOut);
        if had_gathers && self.gathers.is_empty() {
            self.events.push_back(IceEvent::GatheringComplete);
        }
        let mut i = 0;
        while i < self.checks.len() {
            let c = &mut self.checks[i];
            if let Some(until) = c.cancelled_until {
                if until <= now {
                    self.checks.swap_remove(i);
                    continue;
                }
            } else {
                c.tx.handle_timeout(now);
                if c.tx.state() == TransactionState::TimedOut {
                    let check = self.checks.swap_remove(i);
                    if let (false, Some(pair)) = (check.consent, check.pair) {
                        tracing::trace!(pair, "ice check timed out");
                        self.pair_failed(now, pair);
                    }
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Server-reflexive gathering from `base` against every configured STUN server of its family.
    pub(crate) fn start_gathering(&mut self, now: Instant, base: SocketAddr) {
        let servers: Vec<SocketAddr> = self
            .config
            .stun_servers
            .iter()
            .copied()
            .filter(|s| s.is_ipv4() == base.is_ipv4())
            .collect();
        // RFC 8445 §14.3: RTO = MAX(500 ms, Ta * number of server-reflexive and relayed candidates).
        let rto = self
            .ta()
            .saturating_mul(servers.len() as u32)
            .max(Duration::from_millis(500));
        let config = RetransmitConfig {
            rto,
            ..RetransmitConfig::default()
        };
        for server in servers {
            let tid = TransactionId::random(&mut self.rng);
            let mut out = Vec::with_capacity(28);
            let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, tid);
            enc.add_fingerprint();
            enc.finish();
            self.gathers.push(Gather {
                tx: ClientTransaction::new(now, tid, out, &config, false),
                base,
                server,
            });
        }
    }

    fn handle_gather_response(&mut self, index: usize, source: SocketAddr, msg: &Message<'_>) {
        if source != self.gathers[index].server {
            self.stats.dropped_unmatched += 1;
            return;
        }
        let gather = self.gathers.swap_remove(index);
        let mapped = msg.xor_mapped_address().or_else(|| msg.mapped_address());
        if let (Class::Success, Some(mapped)) = (msg.class(), mapped) {
            let known = self.local.iter().any(|c| c.addr == mapped);
            let base_pref = self
                .local
                .iter()
                .find(|c| c.addr == gather.base)
                .map(|c| (c.priority >> 8) as u16);
            if let (false, Some(pref)) = (known, base_pref) {
                let candidate = Candidate::server_reflexive(mapped, gather.base, pref);
                tracing::debug!(%mapped, base = %gather.base, "ice server-reflexive candidate");
                self.local.push(candidate.clone());
                self.events.push_back(IceEvent::LocalCandidate(candidate));
            }
        }
        if self.gathers.is_empty() {
            self.events.push_back(IceEvent::GatheringComplete);
        }
    }

    /// Switches role (RFC 8445 §7.3.1.1, §7.2.5.1): pair priorities depend on it (§6.1.2.3).
    pub(crate) fn set_role(&mut self, now: Instant, controlling: bool) {
        if self.controlling == controlling || (self.config.lite && controlling) {
            return;
        }
        tracing::debug!(controlling, "ice role change");
        self.controlling = controlling;
        for p in &mut self.pairs {
            p.priority = pair_priority(
                self.local[p.local].priority,
                self.remote[p.remote].priority,
                controlling,
            );
            if !controlling {
                p.nominating = false;
            }
        }
        self.timers[Timer::Nominate as usize] = None;
        self.events.push_back(IceEvent::RoleChanged { controlling });
        self.consider_nomination(now);
    }
}
