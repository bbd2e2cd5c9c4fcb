//! Candidate pairs and their states (RFC 8445 §6.1.2).

use std::time::Instant;

/// RFC 8445 §6.1.2.6 pair states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairState {
    /// Not checked until a pair of the same foundation succeeds or nothing else is waiting.
    Frozen,
    /// Ready to be checked when pacing allows.
    Waiting,
    /// A check is in flight.
    InProgress,
    /// A check succeeded: the pair is valid.
    Succeeded,
    /// Checks failed or timed out.
    Failed,
}

/// A local candidate (by index) paired with a remote candidate (by index).
#[derive(Clone, Debug)]
pub(crate) struct Pair {
    pub local: usize,
    pub remote: usize,
    pub priority: u64,
    pub state: PairState,
    /// Foundation of the pair: (local foundation, remote foundation) (RFC 8445 §6.1.2.6).
    pub foundation: (String, String),
    /// RFC 8445 §7.3.1.5: the controlling side asked for this pair; nominate when its check succeeds.
    pub nominate_on_success: bool,
    /// The controlling agent sent (or is sending) USE-CANDIDATE on this pair.
    pub nominating: bool,
    /// RFC 8445 §7.2.5.3.4 / §7.3.1.5.
    pub nominated: bool,
    /// When our last check on this pair was answered: consent to send on it runs from here (RFC 7675).
    pub last_success: Option<Instant>,
    /// When the controlling peer last asked for this pair (USE-CANDIDATE, RFC 8445 §7.3.1.5); the
    /// controlled agent follows the latest request once its selected pair goes stale (`recovery.rs`).
    pub peer_nominated_at: Option<Instant>,
}

impl Pair {
    /// In the valid list (RFC 8445 §7.2.5.3.2): a check on it was answered and none has failed since.
    /// A valid pair being checked again (the nomination, a triggered check) is Waiting or In-Progress
    /// meanwhile and stays valid.
    pub(crate) fn is_valid(&self) -> bool {
        self.last_success.is_some() && self.state != PairState::Failed
    }
}

/// RFC 8445 §6.1.2.3: pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G the controlling agent's
/// candidate priority and D the controlled agent's.
pub(crate) fn pair_priority(local: u32, remote: u32, controlling: bool) -> u64 {
    let (g, d) = if controlling {
        (local, remote)
    } else {
        (remote, local)
    };
    let (g, d) = (u64::from(g), u64::from(d));
    (g.min(d) << 32) + 2 * g.max(d) + u64::from(g > d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_is_symmetric_between_roles() {
        // Both agents compute the same priority for the same pair (RFC 8445 §6.1.2.3).
        let a = pair_priority(100, 200, true);
        let b = pair_priority(200, 100, false);
        assert_eq!(a, b);
        assert_eq!(a, (100u64 << 32) + 400);
        assert_eq!(pair_priority(200, 100, true), (100u64 << 32) + 401);
    }
}
