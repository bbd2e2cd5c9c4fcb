//! Keeping a connection when its path changes under it: a NAT that remaps (or forgets and recreates) the
//! mapping of one side. The peer then sees that side's checks arrive from a new address, learns it as a
//! peer-reflexive candidate (RFC 8445 §7.3.1.3) and checks it (§7.3.1.4); this file decides when the
//! selected pair moves to such a newly working pair.
//!
//! Our policy (RFC 8445 §8.1.1 leaves the choice of the nominated pair to the controlling agent; RFC 8445
//! §8.1.2 lets a controlled agent take a higher-priority nomination; browsers go further with continual
//! checks and renomination):
//!
//! - The controlling agent puts USE-CANDIDATE on its consent checks of the selected pair (as libwebrtc
//!   does on every ping of its selected connection in regular nomination), so that a controlled peer
//!   whose view of the pair changed (our mapping moved) learns which pair we use.
//! - Once the selected pair is stale (no consent response for `disconnected_timeout`, i.e. the state is
//!   Disconnected), the controlling agent renominates the best pair whose check was answered after the
//!   selected pair's last response and within the last `consent_interval`; the nomination's own check
//!   must succeed before it is selected. While stale, a check from the peer on an earlier valid pair
//!   makes us check that pair again, so that such answers exist.
//! - A controlled agent follows the controlling agent's latest nomination when it is of higher priority
//!   (aggressive nomination) or when its own selected pair is stale. It never switches while its pair
//!   is fresh, so a delayed or replayed nomination cannot move a working connection.
//!
//! RFC 7675 (consent) holds throughout: a pair is only selected after our own check on it was answered,
//! and its consent runs from that answer, not from the switch.

use std::time::Instant;

use crate::agent::IceAgent;
use crate::pair::{Pair, PairState};

impl IceAgent {
    /// No consent response on the selected pair for `disconnected_timeout`.
    pub(crate) fn selection_is_stale(&self, now: Instant) -> bool {
        self.selected
            .as_ref()
            .is_some_and(|s| now.saturating_duration_since(s.last_alive) >= self.config.disconnected_timeout)
    }

    /// Whether a nomination of `pair` (ours succeeded, or the controlling peer's) replaces the selected
    /// pair (see the policy in the module docs).
    pub(crate) fn should_switch_to(&self, now: Instant, pair: usize) -> bool {
        let Some(s) = &self.selected else {
            return true;
        };
        if s.pair == Some(pair) {
            return false;
        }
        if s.pair.is_none() {
            return true; // first nomination after an ICE restart (RFC 8445 §9)
        }
        if self.controlling && !self.config.aggressive_nomination {
            return true; // regular nomination: we nominated this pair on purpose (RFC 8445 §8.1.1)
        }
        s.priority < self.pairs[pair].priority || self.selection_is_stale(now)
    }

    /// A check from the peer arrived on `pair`, which succeeded earlier but not recently, while our
    /// selected pair is stale: check it again (beyond RFC 8445 §7.3.1.4, which skips Succeeded pairs), so
    /// that a move to it rests on a fresh answer.
    pub(crate) fn needs_revalidation(&self, now: Instant, pair: usize) -> bool {
        let p = &self.pairs[pair];
        p.state == PairState::Succeeded
            && self.selected.as_ref().is_some_and(|s| s.pair != Some(pair))
            && self.selection_is_stale(now)
            && p.last_success
                .is_none_or(|t| now.saturating_duration_since(t) >= self.config.consent_interval)
    }

    /// Called on every state update: when the selected pair is stale, the controlling agent renominates
    /// a pair answered more recently, and the controlled agent follows the latest such nomination.
    pub(crate) fn recover_stale_selection(&mut self, now: Instant) {
        if self.config.lite || !self.selection_is_stale(now) {
            return;
        }
        let Some(s) = &self.selected else { return };
        let (since, current) = (s.last_alive, s.pair);
        // Answered after the selected pair's last response, and recently: the path works now (RFC
        // 7675). A pair answered just before the path went quiet is no evidence.
        let recent = self.config.consent_interval;
        let fresh = |i: usize, p: &Pair| {
            Some(i) != current
                && p.state == PairState::Succeeded
                && p.last_success
                    .is_some_and(|t| t > since && now.saturating_duration_since(t) < recent)
        };
        if self.controlling {
            if self.pairs.iter().any(|p| p.nominating) {
                return; // a nomination is already in flight
            }
            let best = self
                .pairs
                .iter()
                .enumerate()
                .filter(|&(i, p)| fresh(i, p))
                .max_by_key(|(_, p)| p.priority)
                .map(|(i, _)| i);
            if let Some(pair) = best {
                tracing::info!(pair, "ice: selected pair stale; renominating a pair that answers");
                self.nominate(now, pair);
            }
        } else {
            let latest = self
                .pairs
                .iter()
                .enumerate()
                .filter(|&(i, p)| fresh(i, p) && p.peer_nominated_at.is_some())
                .max_by_key(|(_, p)| p.peer_nominated_at)
                .map(|(i, _)| i);
            if let Some(pair) = latest {
                tracing::info!(
                    pair,
                    "ice: selected pair stale; following the peer's latest nomination"
                );
                self.select(now, pair);
            }
        }
    }
}
