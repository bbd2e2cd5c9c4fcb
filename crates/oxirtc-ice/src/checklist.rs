//! Checklist rules: forming and capping pairs (RFC 8445 §6.1.2), pair states and unfreezing (§6.1.2.6),
//! scheduling checks (§6.1.4), nominating (§8.1.1) and concluding (§8.1.2).

use std::time::Instant;

use crate::agent::{IceAgent, Selected, Timer};
use crate::candidate::CandidateKind;
use crate::pair::{pair_priority, Pair, PairState};
use crate::{IceCredentials, IceEvent};

impl IceAgent {
    /// Pairs a new local candidate with every remote one.
    pub(crate) fn pair_new_local(&mut self, now: Instant, local: usize) {
        for remote in 0..self.remote.len() {
            self.add_pair(now, local, remote);
        }
    }

    /// Pairs a new remote candidate with every local one that checks may be sent from.
    pub(crate) fn pair_new_remote(&mut self, now: Instant, remote: usize) {
        for local in 0..self.local.len() {
            self.add_pair(now, local, remote);
        }
    }

    /// RFC 8445 §6.1.2.2 (same address family), §6.1.2.4 (a server-reflexive local candidate is replaced by
    /// its base, so it forms no pair of its own; peer-reflexive local ones never pair), §6.1.2.5 (cap:
    /// the lowest-priority Frozen/Waiting pair gives way). Returns the index of the (new or existing) pair.
    pub(crate) fn add_pair(&mut self, now: Instant, local: usize, remote: usize) -> Option<usize> {
        let (l, r) = (&self.local[local], &self.remote[remote]);
        if !matches!(l.kind, CandidateKind::Host | CandidateKind::Relayed)
            || l.addr.is_ipv4() != r.addr.is_ipv4()
        {
            return None;
        }
        if let Some(i) = self.find_pair(l.base, r.addr) {
            return Some(i);
        }
        let priority = pair_priority(l.priority, r.priority, self.controlling);
        let foundation = (l.foundation.clone(), r.foundation.clone());
        // Trickle (RFC 8838 §10): Waiting unless a pair of the same foundation is already being worked on.
        let busy = self.pairs.iter().any(|p| {
            p.foundation == foundation && matches!(p.state, PairState::Waiting | PairState::InProgress)
        });
        let pair = Pair {
            local,
            remote,
            priority,
            state: if busy {
                PairState::Frozen
            } else {
                PairState::Waiting
            },
            foundation,
            nominate_on_success: false,
            nominating: false,
            nominated: false,
            last_success: None,
            peer_nominated_at: None,
        };
        let index = if self.pairs.len() < self.config.max_pairs {
            self.pairs.push(pair);
            self.pairs.len() - 1
        } else {
            // RFC 8445 §6.1.2.5: keep the highest-priority pairs; only unchecked ones can be evicted.
            let victim = self
                .pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p.state, PairState::Frozen | PairState::Waiting))
                .min_by_key(|(_, p)| p.priority)
                .map(|(i, _)| i)
                .filter(|&i| self.pairs[i].priority < priority)?;
            self.triggered.retain(|&t| t != victim);
            self.pairs[victim] = pair;
            victim
        };
        self.arm_pacing(now);
        Some(index)
    }

    /// The pair sending from local base `base` to remote `remote`, if on the checklist.
    pub(crate) fn find_pair(
        &self,
        base: std::net::SocketAddr,
        remote: std::net::SocketAddr,
    ) -> Option<usize> {
        self.pairs
            .iter()
            .position(|p| self.local[p.local].base == base && self.remote[p.remote].addr == remote)
    }

    /// Makes sure a paced check will run: every Ta at most (RFC 8445 §6.1.4.2, §14.2).
    pub(crate) fn arm_pacing(&mut self, now: Instant) {
        if self.config.lite || self.remote_creds.is_none() || self.timers[Timer::Pace as usize].is_some() {
            return;
        }
        let at = self.last_check_at.map_or(now, |t| (t + self.ta()).max(now));
        self.timers[Timer::Pace as usize] = Some(at);
    }

    /// One pacing slot: the next triggered check, else the best ordinary check (RFC 8445 §6.1.4.2).
    pub(crate) fn pace(&mut self, now: Instant) {
        if self.config.lite || self.remote_creds.is_none() {
            return;
        }
        let next = match self.triggered.pop_front() {
            Some(i) => Some(i),
            // Once a pair is nominated, ICE is concluded: no further ordinary checks (RFC 8445 §8.1.2).
            None if self.is_concluded() => None,
            None => match self
                .ordinary_hold_until
                .filter(|&until| !self.controlling && until > now)
            {
                Some(until) => {
                    self.timers[Timer::Pace as usize] = Some(until);
                    return;
                }
                None => self.next_ordinary_check(),
            },
        };
        if let Some(i) = next {
            self.start_check(now, i);
            self.last_check_at = Some(now);
            self.timers[Timer::Pace as usize] = Some(now + self.ta());
        }
    }

    /// Highest-priority Waiting pair; if none, unfreezes the best Frozen pair whose foundation has nothing
    /// Waiting or In-Progress (RFC 8445 §6.1.4.2 steps 2-3).
    fn next_ordinary_check(&mut self) -> Option<usize> {
        let best_in = |agent: &Self, state: PairState| {
            agent
                .pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.state == state)
                .filter(|(_, p)| {
                    state == PairState::Waiting
                        || !agent.pairs.iter().any(|q| {
                            q.foundation == p.foundation
                                && matches!(q.state, PairState::Waiting | PairState::InProgress)
                        })
                })
                .max_by_key(|(_, p)| p.priority)
                .map(|(i, _)| i)
        };
        best_in(self, PairState::Waiting).or_else(|| best_in(self, PairState::Frozen))
    }

    /// RFC 8445 §7.2.5.3.3: a success unfreezes the Frozen pairs of the same foundation.
    pub(crate) fn unfreeze_foundation(&mut self, now: Instant, pair: usize) {
        let foundation = self.pairs[pair].foundation.clone();
        for p in self
            .pairs
            .iter_mut()
            .filter(|p| p.foundation == foundation && p.state == PairState::Frozen)
        {
            p.state = PairState::Waiting;
        }
        self.arm_pacing(now);
    }

    /// Queues a triggered check for `pair` (RFC 8445 §7.3.1.4), at most once.
    pub(crate) fn trigger(&mut self, now: Instant, pair: usize, front: bool) {
        self.pairs[pair].state = PairState::Waiting;
        if !self.triggered.contains(&pair) {
            if front {
                self.triggered.push_front(pair);
            } else {
                self.triggered.push_back(pair);
            }
        }
        self.arm_pacing(now);
    }

    /// Controlling agent, after a pair became valid: nominate now if no better pair can still succeed,
    /// otherwise wait at most `nomination_timeout` (RFC 8445 §8.1.1 leaves the choice to the agent).
    pub(crate) fn consider_nomination(&mut self, now: Instant) {
        if !self.controlling
            || self.config.lite
            || self.is_concluded()
            || self.pairs.iter().any(|p| p.nominating)
        {
            return;
        }
        let Some(best) = self.best_valid() else { return };
        let best_priority = self.pairs[best].priority;
        let better_pending = self.pairs.iter().any(|p| {
            p.priority > best_priority
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
        });
        if !better_pending {
            self.nominate(now, best);
        } else if self.timers[Timer::Nominate as usize].is_none() {
            self.timers[Timer::Nominate as usize] = Some(now + self.config.nomination_timeout);
        }
    }

    /// Nomination timer fired: nominate the best valid pair there is.
    pub(crate) fn nominate_best(&mut self, now: Instant) {
        if !self.controlling || self.is_concluded() || self.pairs.iter().any(|p| p.nominating) {
            return;
        }
        if let Some(best) = self.best_valid() {
            self.nominate(now, best);
        }
    }

    /// RFC 8445 §8.1.1: the controlling agent repeats a check on a valid pair with USE-CANDIDATE.
    pub(crate) fn nominate(&mut self, now: Instant, pair: usize) {
        tracing::debug!(pair, "nominating");
        self.timers[Timer::Nominate as usize] = None;
        self.pairs[pair].nominating = true;
        self.trigger(now, pair, true);
    }

    fn best_valid(&self) -> Option<usize> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == PairState::Succeeded)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)
    }

    /// A pair of the current checklist is nominated and selected.
    pub(crate) fn is_concluded(&self) -> bool {
        self.selected.as_ref().is_some_and(|s| s.pair.is_some())
    }

    /// Marks `pair` nominated and selects it (RFC 8445 §8.1.2) if our policy moves to it
    /// (`recovery.rs`: a higher-priority nomination, our own renomination, or a stale selected pair).
    pub(crate) fn select(&mut self, now: Instant, pair: usize) {
        self.pairs[pair].nominated = true;
        self.pairs[pair].nominating = false;
        let priority = self.pairs[pair].priority;
        if !self.should_switch_to(now, pair) {
            return;
        }
        // A lite agent may select before it knows the peer's credentials; it sends no consent checks.
        let creds = self.remote_creds.clone().unwrap_or(IceCredentials {
            ufrag: String::new(),
            pwd: String::new(),
        });
        let (local, remote) = (
            self.local[self.pairs[pair].local].base,
            self.remote[self.pairs[pair].remote].addr,
        );
        tracing::info!(%local, %remote, "ice selected pair");
        self.selected = Some(Selected {
            pair: Some(pair),
            local,
            remote,
            priority,
            // RFC 7675: consent runs from the last answered check on this pair.
            last_alive: self.pairs[pair].last_success.unwrap_or(now).min(now),
            local_ufrag: self.local_creds.ufrag.clone(),
            remote_ufrag: creds.ufrag,
            remote_pwd: creds.pwd,
        });
        self.failure = None;
        self.events.push_back(IceEvent::SelectedPair { local, remote });
        self.schedule_consent(now);
    }

    /// RFC 8445 §8.1.2 / RFC 8838 §8: the checklist has failed when nothing is left to try and either the
    /// peer said end-of-candidates or it has been quiet for `trickle_timeout`.
    pub(crate) fn checklist_failed(&mut self, now: Instant) -> bool {
        if self.config.lite || self.remote_creds.is_none() || self.selected.is_some() {
            return false;
        }
        let pending = self.owner_gathering
            || !self.triggered.is_empty()
            || self.checks.iter().any(|c| !c.consent)
            || self.pairs.iter().any(|p| p.state != PairState::Failed);
        if pending {
            return false;
        }
        if self.remote_end_of_candidates {
            return true;
        }
        let since = self.last_remote_candidate_at.unwrap_or(now);
        let give_up = since + self.config.trickle_timeout;
        if give_up <= now {
            return true;
        }
        self.timers[Timer::TrickleGiveUp as usize] = Some(give_up);
        false
    }
}
