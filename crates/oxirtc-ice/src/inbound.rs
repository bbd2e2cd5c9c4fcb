//! Datagrams we receive: demultiplexing STUN classes and answering checks (RFC 8445 §7.3).

use std::net::SocketAddr;
use std::time::Instant;

use oxirtc_stun::{
    short_term_key, AttrType, Attribute, Class, ErrorCode, Message, MessageEncoder, Method, UnknownAttributes,
};

use crate::agent::{IceAgent, Transmit};
use crate::candidate::{foundation_for, Candidate, CandidateKind, COMPONENT_RTP};
use crate::pair::PairState;

/// Responses waiting to be sent are capped: a peer cannot make us queue without bound.
const MAX_QUEUED_TRANSMITS: usize = 256;

impl IceAgent {
    /// A datagram that arrived on local address `destination` from `source`. Only STUN Binding traffic
    /// concerns the agent; anything malformed, unauthenticated or unexpected is dropped, counted in
    /// [`crate::IceStats`], and changes no state.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, destination: SocketAddr, data: &[u8]) {
        let msg = match Message::parse(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::trace!(%source, error = %e, "ice: dropping malformed STUN");
                self.stats.dropped_malformed += 1;
                return;
            }
        };
        if msg.method() != Method::BINDING {
            self.stats.dropped_unexpected += 1;
            return;
        }
        match msg.class() {
            Class::Request => self.handle_request(now, source, destination, &msg),
            Class::Success | Class::Error => self.handle_response(now, source, destination, &msg),
            // RFC 8445 §11: Binding indications are keepalives; nothing to do.
            Class::Indication => {}
        }
        // RFC 8445 §7.3.1.4: a triggered check that pacing lets go now leaves with the response,
        // without waiting for the owner's timer (a coarse one would add up to its granularity).
        if self.timer_due(crate::agent::Timer::Pace, now) {
            self.timers[crate::agent::Timer::Pace as usize] = None;
            self.pace(now);
        }
        self.update_state(now);
    }

    /// RFC 8445 §7.3: a Binding request from the peer.
    fn handle_request(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Message<'_>,
    ) {
        // RFC 8445 §7.2.2 requires FINGERPRINT on checks; RFC 8489 §9.1.3 USERNAME and integrity.
        if !msg.has_fingerprint() {
            self.stats.dropped_no_fingerprint += 1;
            return;
        }
        let Some((ours, theirs)) = msg.username().and_then(|u| u.split_once(':')) else {
            self.stats.dropped_bad_username += 1;
            return;
        };
        if ours != self.local_creds.ufrag {
            self.stats.dropped_bad_username += 1;
            return;
        }
        let key = short_term_key(&self.local_creds.pwd);
        if msg.verify_integrity(self.crypto, &key).is_err() {
            self.stats.dropped_bad_integrity += 1;
            return;
        }
        self.stats.checks_received += 1;
        if self.ordinary_hold_until.take().is_some() {
            // The hold's wake-up is the only pacing timer while it lasts (nothing was sent): the
            // triggered check below re-arms pacing at once.
            self.timers[crate::agent::Timer::Pace as usize] = None;
        }
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            // RFC 8489 §6.3.1.1: 420 listing what we do not understand.
            let error = ErrorCode {
                code: 420,
                reason: "Unknown Attribute",
            };
            self.send_error(msg, (source, destination), &key, error, &unknown);
            return;
        }
        let Some(priority) = msg.priority() else {
            // RFC 8445 §7.3: PRIORITY is mandatory in checks.
            let error = ErrorCode {
                code: 400,
                reason: "Bad Request: PRIORITY missing",
            };
            self.send_error(msg, (source, destination), &key, error, &[]);
            return;
        };
        if !self.resolve_role_conflict(now, msg) {
            let error = ErrorCode {
                code: 487,
                reason: "Role Conflict",
            };
            self.send_error(msg, (source, destination), &key, error, &[]);
            return;
        }
        self.send_success(msg, source, destination, &key);
        if self.config.lite {
            self.lite_request(now, source, destination, msg.use_candidate());
            return;
        }
        if self.remote_creds.as_ref().is_some_and(|c| c.ufrag != theirs) {
            return; // a check from before an ICE restart: answered, nothing learned
        }
        let Some(remote) = self.learn_remote(now, source, priority) else {
            return;
        };
        let Some(local) = self.local.iter().position(|c| {
            c.base == destination && matches!(c.kind, CandidateKind::Host | CandidateKind::Relayed)
        }) else {
            return;
        };
        let Some(pair) = self.add_pair(now, local, remote) else {
            return;
        };
        if self.selection_is_stale(now) {
            tracing::debug!(%source, pair, state = ?self.pairs[pair].state, use_candidate = msg.use_candidate(), "ice: check from the peer while our pair is stale");
        }
        // RFC 8445 §7.3.1.4: triggered checks.
        match self.pairs[pair].state {
            PairState::Succeeded => {}
            PairState::InProgress => {
                self.cancel_checks_of(now, pair);
                self.trigger(now, pair, false);
            }
            PairState::Waiting | PairState::Frozen | PairState::Failed => self.trigger(now, pair, false),
        }
        if self.needs_revalidation(now, pair) {
            self.trigger(now, pair, false); // recovery.rs: check again before moving to it
        }
        // RFC 8445 §7.3.1.5: the controlling side nominates this pair (regular or aggressive).
        if msg.use_candidate() && !self.controlling {
            self.pairs[pair].peer_nominated_at = Some(now);
            if self.pairs[pair].state == PairState::Succeeded {
                self.select(now, pair);
            } else {
                self.pairs[pair].nominate_on_success = true;
            }
        }
    }

    /// RFC 8445 §7.3.1.1. Returns false when we keep our role and the peer must switch (answer 487).
    fn resolve_role_conflict(&mut self, now: Instant, msg: &Message<'_>) -> bool {
        if self.config.lite {
            return true;
        }
        if self.controlling {
            if let Some(theirs) = msg.ice_controlling() {
                self.stats.role_conflicts += 1;
                if self.tie_breaker >= theirs {
                    return false;
                }
                self.set_role(now, false);
            }
        } else if let Some(theirs) = msg.ice_controlled() {
            self.stats.role_conflicts += 1;
            if self.tie_breaker >= theirs {
                self.set_role(now, true);
            } else {
                return false;
            }
        }
        true
    }

    /// RFC 8445 §7.3.1.3: a source address we do not know is a peer-reflexive remote candidate. It is not
    /// paired with every local candidate, only with the one the request arrived on (§7.3.1.4).
    fn learn_remote(&mut self, now: Instant, source: SocketAddr, priority: u32) -> Option<usize> {
        if let Some(i) = self.remote.iter().position(|c| c.addr == source) {
            return Some(i);
        }
        if self.remote.len() >= self.config.max_remote_candidates {
            self.stats.refused_candidates += 1;
            return None;
        }
        tracing::debug!(%source, "ice peer-reflexive remote candidate");
        self.remote.push(Candidate {
            kind: CandidateKind::PeerReflexive,
            addr: source,
            base: source,
            priority,
            foundation: foundation_for(CandidateKind::PeerReflexive, source.ip()),
            component: COMPONENT_RTP,
            related: None,
        });
        self.last_remote_candidate_at = Some(now);
        Some(self.remote.len() - 1)
    }

    /// RFC 8445 §7.3.2 / §8.2: a lite agent's pair is whatever the controlling peer nominates; liveness
    /// comes from the peer's checks (a lite agent sends none).
    fn lite_request(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        use_candidate: bool,
    ) {
        // Remembered even before nomination, so that `is_remote_address` knows the peer's address.
        let remote = self.learn_remote(now, source, 1);
        if use_candidate {
            let local = self.local.iter().position(|c| c.base == destination);
            if let (Some(local), Some(remote)) = (local, remote) {
                if let Some(pair) = self.add_pair(now, local, remote) {
                    self.pairs[pair].state = PairState::Succeeded;
                    self.pairs[pair].last_success = Some(now);
                    self.pairs[pair].peer_nominated_at = Some(now);
                    self.select(now, pair);
                }
            }
        }
        self.refresh_liveness(now, destination, source);
    }

    fn send_success(&mut self, req: &Message<'_>, source: SocketAddr, destination: SocketAddr, key: &[u8]) {
        // RFC 8445 §7.3.1.2: the mapped address is the source of the request.
        self.send_reply(req, Class::Success, (source, destination), key, |enc| {
            enc.add(&Attribute::XorMappedAddress(source));
        });
    }

    fn send_error(
        &mut self,
        req: &Message<'_>,
        peer: (SocketAddr, SocketAddr),
        key: &[u8],
        error: ErrorCode<'_>,
        unknown: &[AttrType],
    ) {
        self.send_reply(req, Class::Error, peer, key, |enc| {
            enc.add(&Attribute::ErrorCode(error));
            if !unknown.is_empty() {
                enc.add(&Attribute::UnknownAttributes(UnknownAttributes::new(unknown)));
            }
        });
    }

    /// Encodes a response to `req` (the caller adds the body), signs it with our password, fingerprints it
    /// and queues it back to the request's source, from where it arrived. `peer` is (source, destination).
    fn send_reply(
        &mut self,
        req: &Message<'_>,
        class: Class,
        (source, destination): (SocketAddr, SocketAddr),
        key: &[u8],
        body: impl FnOnce(&mut MessageEncoder<'_>),
    ) {
        let mut out = Vec::with_capacity(96);
        let mut enc = MessageEncoder::new(&mut out, class, Method::BINDING, req.transaction_id());
        body(&mut enc);
        enc.add_message_integrity(self.crypto, key);
        enc.add_fingerprint();
        enc.finish();
        self.queue_transmit(Transmit {
            source: destination,
            destination: source,
            contents: out,
        });
    }

    pub(crate) fn queue_transmit(&mut self, t: Transmit) {
        if self.transmits.len() < MAX_QUEUED_TRANSMITS {
            self.transmits.push_back(t);
        }
    }
}
