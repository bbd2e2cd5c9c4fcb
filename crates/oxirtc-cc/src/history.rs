//! The packets sent with a transport-wide sequence number, kept until their feedback arrives:
//! send time, size and probe cluster, and whether feedback has reported them yet.
//!
//! Bounded by count: [`HISTORY_CAPACITY`] entries, a ring indexed by the 64-bit sequence number.
//! At 1200-byte packets that covers about 80 Mbit/s of traffic for one second of feedback delay.

use crate::seq::SeqUnwrapper;
use crate::types::ProbeClusterId;
use std::collections::VecDeque;

/// The most packets kept waiting for feedback (below 2^15, so that a 16-bit sequence number in
/// feedback names at most one of them).
pub(crate) const HISTORY_CAPACITY: usize = 8192;

/// What feedback has said of a packet so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reported {
    /// Nothing yet.
    Not,
    /// Reported as not received (it may still be reported received later).
    Lost,
    /// Reported received: later reports of it are duplicates.
    Received,
}

/// One sent packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentInfo {
    /// When it was sent, local µs.
    pub send_us: i64,
    /// Its size in bytes.
    pub size: u32,
    /// The probe cluster it was sent for.
    pub probe: Option<ProbeClusterId>,
    /// What feedback said.
    pub reported: Reported,
}

/// The sent packets, by transport-wide sequence number.
#[derive(Debug, Clone, Default)]
pub(crate) struct SentHistory {
    slots: VecDeque<Option<SentInfo>>,
    /// The 64-bit sequence number of `slots[0]`.
    first: u64,
    /// Follows the highest sequence number sent.
    highest: SeqUnwrapper,
}

impl SentHistory {
    /// Records a packet; a number far behind the newest (older than anything kept) is ignored.
    pub(crate) fn insert(&mut self, seq: u16, info: SentInfo) {
        let ext = self.highest.peek(seq);
        if self.highest.last().is_none_or(|h| ext > h) {
            self.highest.unwrap(seq);
        }
        if self.slots.is_empty() {
            self.first = ext;
            self.slots.push_back(Some(info));
            return;
        }
        if ext < self.first {
            return;
        }
        let idx = usize::try_from(ext - self.first).unwrap_or(usize::MAX);
        if let Some(slot) = self.slots.get_mut(idx) {
            *slot = Some(info);
            return;
        }
        let gap = idx - self.slots.len();
        if gap >= HISTORY_CAPACITY {
            self.slots.clear();
            self.first = ext;
        } else {
            self.slots.extend(std::iter::repeat_n(None, gap));
        }
        self.slots.push_back(Some(info));
        while self.slots.len() > HISTORY_CAPACITY {
            self.slots.pop_front();
            self.first += 1;
        }
    }

    /// The packet a 16-bit sequence number from feedback names: the one nearest at or below the
    /// newest sent, if it is still kept.
    pub(crate) fn get_mut(&mut self, seq: u16) -> Option<&mut SentInfo> {
        let len = self.slots.len();
        let highest = self.first + len.checked_sub(1)? as u64;
        let back = usize::from((highest as u16).wrapping_sub(seq));
        if back >= len {
            return None;
        }
        self.slots.get_mut(len - 1 - back)?.as_mut()
    }

    /// Forgets everything (a new path: feedback for the old one means nothing).
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.highest = SeqUnwrapper::new();
    }

    /// Packets (and gaps) kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(send_us: i64) -> SentInfo {
        SentInfo {
            send_us,
            size: 1000,
            probe: None,
            reported: Reported::Not,
        }
    }

    #[test]
    fn finds_across_the_wrap_and_forgets_the_oldest() {
        let mut h = SentHistory::default();
        for i in 0..10u16 {
            h.insert(65_530u16.wrapping_add(i), info(i64::from(i)));
        }
        assert_eq!(h.get_mut(65_530).map(|p| p.send_us), Some(0));
        assert_eq!(h.get_mut(3).map(|p| p.send_us), Some(9));
        assert!(h.get_mut(4).is_none(), "not sent yet");
        assert!(h.get_mut(65_529).is_none(), "before the first");
        for i in 10..(HISTORY_CAPACITY as u16 + 20) {
            h.insert(65_530u16.wrapping_add(i), info(i64::from(i)));
        }
        assert_eq!(h.len(), HISTORY_CAPACITY);
        assert!(h.get_mut(65_530).is_none(), "dropped from the ring");
    }

    #[test]
    fn gaps_and_out_of_order_sends() {
        let mut h = SentHistory::default();
        h.insert(100, info(1));
        h.insert(105, info(2));
        h.insert(103, info(3));
        assert_eq!(h.len(), 6);
        assert!(h.get_mut(101).is_none());
        assert_eq!(h.get_mut(103).map(|p| p.send_us), Some(3));
        // A jump past the whole ring starts afresh.
        h.insert(105 + 20_000, info(4));
        assert_eq!(h.len(), 1);
        h.clear();
        assert!(h.get_mut(105).is_none());
    }
}
