//! Per-SSRC state in a table with a fixed maximum size (RFC 3711 §3.2.3: one cryptographic context per
//! SSRC; its ROC, replay lists and SRTCP index are per stream, §3.2.1).
//!
//! The slots stay sorted by SSRC, so a lookup is a binary search without hashing, and a full table
//! makes room by evicting its least recently used slot, whose allocations the new SSRC reuses.

/// One SSRC's state and when it was last used.
#[derive(Debug)]
struct Slot<S> {
    ssrc: u32,
    last_used: u64,
    state: S,
}

/// A bounded map from SSRC to `S`.
#[derive(Debug)]
pub(crate) struct SsrcTable<S> {
    slots: Vec<Slot<S>>,
    max: usize,
    tick: u64,
}

/// Where an SSRC is in the table, from [`SsrcTable::find`].
pub(crate) type Position = Result<usize, usize>;

impl<S> SsrcTable<S> {
    /// An empty table that holds at most `max` SSRCs (`max` ≥ 1).
    pub(crate) fn new(max: usize) -> Self {
        Self {
            slots: Vec::new(),
            max: max.max(1),
            tick: 0,
        }
    }

    /// Number of SSRCs held.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether another SSRC can be added without evicting one.
    pub(crate) fn is_full(&self) -> bool {
        self.slots.len() >= self.max
    }

    /// `Ok(slot)` if `ssrc` is held, else `Err(where it would go)`.
    pub(crate) fn find(&self, ssrc: u32) -> Position {
        self.slots.binary_search_by_key(&ssrc, |s| s.ssrc)
    }

    /// The state at a slot found by [`find`](Self::find).
    pub(crate) fn get(&self, slot: usize) -> &S {
        &self.slots[slot].state
    }

    /// The state at a slot found by [`find`](Self::find), marked as just used.
    pub(crate) fn get_mut(&mut self, slot: usize) -> &mut S {
        self.tick += 1;
        let s = &mut self.slots[slot];
        s.last_used = self.tick;
        &mut s.state
    }

    /// The state of `ssrc`, if held (not marked as used).
    pub(crate) fn peek(&self, ssrc: u32) -> Option<&S> {
        self.find(ssrc).ok().map(|i| self.get(i))
    }

    /// Adds `ssrc` (not held yet) with the state `make` returns, marked as just used. When the table is
    /// full the least recently used slot goes first: `make` gets its state to reuse, and the evicted
    /// SSRC is returned with the new slot.
    pub(crate) fn insert(&mut self, ssrc: u32, make: impl FnOnce(Option<S>) -> S) -> (&mut S, Option<u32>) {
        let mut evicted = None;
        let mut reuse = None;
        if self.is_full() {
            let lru = self
                .slots
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i);
            if let Some(i) = lru {
                let old = self.slots.remove(i);
                evicted = Some(old.ssrc);
                reuse = Some(old.state);
            }
        }
        let at = match self.find(ssrc) {
            Ok(i) | Err(i) => i,
        };
        self.tick += 1;
        let slot = Slot {
            ssrc,
            last_used: self.tick,
            state: make(reuse),
        };
        self.slots.insert(at, slot);
        (&mut self.slots[at].state, evicted)
    }

    /// Forgets `ssrc`; whether it was held.
    pub(crate) fn remove(&mut self, ssrc: u32) -> bool {
        match self.find(ssrc) {
            Ok(i) => {
                self.slots.remove(i);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_inserts_and_lru_eviction() {
        let mut t = SsrcTable::<u32>::new(3);
        for ssrc in [30, 10, 20] {
            let (s, evicted) = t.insert(ssrc, |reuse| {
                assert!(reuse.is_none());
                ssrc * 2
            });
            assert_eq!((*s, evicted), (ssrc * 2, None));
        }
        assert!(t.is_full());
        assert_eq!(t.peek(10), Some(&20));
        // Use 30 and 10: 20 is now the least recently used.
        let i = t.find(30).unwrap();
        *t.get_mut(i) += 1;
        let i = t.find(10).unwrap();
        t.get_mut(i);
        let (s, evicted) = t.insert(5, |reuse| {
            assert_eq!(reuse, Some(40)); // 20's state, handed over for reuse
            0
        });
        assert_eq!((*s, evicted), (0, Some(20)));
        assert_eq!(t.len(), 3);
        assert_eq!(t.peek(20), None);
        assert_eq!(t.peek(30), Some(&61));
        assert!(t.find(5).is_ok() && t.find(10).is_ok());
        assert!(t.remove(5));
        assert!(!t.remove(5));
        assert!(!t.is_full());
    }
}
