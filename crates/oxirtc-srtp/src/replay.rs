//! The replay list of RFC 3711 §3.3.2 as a sliding-window bitmap over packet indices.

/// Why an index is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Already received (its bit is set).
    Seen,
    /// Behind the window: "can be assumed to have been received" (RFC 3711 §3.3.2).
    TooOld {
        /// The newest index accepted so far.
        newest: u64,
    },
}

/// A sliding window of `size` indices (a multiple of 64) ending at the newest index accepted, kept
/// in a ring of a power-of-two number of 64-bit words (at least `size` bits) so that finding an
/// index's bit is a mask, not a division, on every packet. Bit `i mod (64 · words)` stands for
/// index `i`; moving the window forward clears the bits it passes over. Bits of indices more than
/// `size` behind the newest are never read (those are [`Replay::TooOld`]). The bitmap is allocated
/// once, when the window is created, and never again.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    newest: Option<u64>,
    /// The window's length in indices.
    size: u64,
    /// `bits.len() - 1`, `bits.len()` being a power of two.
    mask: u64,
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// A window of `size` indices, rounded up to a multiple of 64 (at least 64, RFC 3711 §3.3.2).
    pub(crate) fn new(size: usize) -> Self {
        let words = size.div_ceil(64).max(1);
        let ring = words.next_power_of_two();
        Self {
            newest: None,
            size: words as u64 * 64,
            mask: ring as u64 - 1,
            bits: vec![0; ring].into_boxed_slice(),
        }
    }

    /// The window's length in indices.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The newest index accepted, `None` before the first.
    pub(crate) fn newest(&self) -> Option<u64> {
        self.newest
    }

    /// Forgets every index (the bitmap's allocation is kept).
    pub(crate) fn reset(&mut self) {
        self.newest = None;
        self.bits.fill(0);
    }

    /// Whether `index` may be accepted (RFC 3711 §3.3.2: "Only packets with index ahead of the window,
    /// or, inside the window but not already received, SHALL be accepted"). Changes nothing.
    pub(crate) fn check(&self, index: u64) -> Result<(), Replay> {
        let Some(newest) = self.newest else {
            return Ok(());
        };
        if index > newest {
            return Ok(());
        }
        if newest - index >= self.size() {
            return Err(Replay::TooOld { newest });
        }
        let (word, bit) = self.position(index);
        if self.bits[word] & bit != 0 {
            Err(Replay::Seen)
        } else {
            Ok(())
        }
    }

    /// Records `index` as received, moving the window ahead first if it is newer (RFC 3711 §3.3.2:
    /// "After the packet has been authenticated (if necessary the window is first moved ahead), the
    /// replay list SHALL be updated"). Call after [`check`](Self::check) passed and the packet
    /// authenticated; an index behind the window is ignored.
    pub(crate) fn accept(&mut self, index: u64) {
        match self.newest {
            None => {
                self.bits.fill(0);
                self.newest = Some(index);
            }
            Some(newest) if index > newest => {
                self.clear_after(newest, index);
                self.newest = Some(index);
            }
            // Behind the window: its bit now stands for a newer index (only a sender that allows
            // repeated indices gets here).
            Some(newest) if newest - index >= self.size() => return,
            Some(_) => {}
        }
        let (word, bit) = self.position(index);
        self.bits[word] |= bit;
    }

    /// Clears the bits of indices `from + 1 ..= to`, the ones the window moves over.
    fn clear_after(&mut self, from: u64, to: u64) {
        if to - from == 1 {
            // In order, the common case: one bit.
            let (word, bit) = self.position(to);
            self.bits[word] &= !bit;
            return;
        }
        if to - from >= self.size() {
            self.bits.fill(0);
            return;
        }
        let mut i = from + 1;
        while i <= to {
            let (word, bit) = self.position(i);
            if i.is_multiple_of(64) && to - i >= 63 {
                self.bits[word] = 0;
                i += 64;
            } else {
                self.bits[word] &= !bit;
                i += 1;
            }
        }
    }

    fn position(&self, index: u64) -> (usize, u64) {
        // The mask keeps the word below bits.len(), which fits in usize.
        let word = ((index >> 6) & self.mask) as usize;
        (word, 1 << (index & 63))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn accepts_new_refuses_seen_and_too_old() {
        let mut w = ReplayWindow::new(128);
        assert_eq!(w.size(), 128);
        for i in [1000, 1001, 1003] {
            w.check(i).unwrap();
            w.accept(i);
        }
        assert_eq!(w.check(1001), Err(Replay::Seen));
        w.check(1002).unwrap(); // a gap inside the window is still acceptable
        w.accept(1002);
        assert_eq!(w.check(1002), Err(Replay::Seen));
        // 1003 - 128 = 875 is the first index behind the window.
        w.check(876).unwrap();
        assert_eq!(w.check(875), Err(Replay::TooOld { newest: 1003 }));
        // A jump of more than the window forgets everything behind it.
        w.accept(5000);
        assert_eq!(w.check(4999), Ok(()));
        assert_eq!(w.check(1003), Err(Replay::TooOld { newest: 5000 }));
        w.reset();
        assert_eq!(w.newest(), None);
        w.check(5000).unwrap();
    }

    #[test]
    fn sizes_round_up_to_whole_words() {
        assert_eq!(ReplayWindow::new(1).size(), 64);
        assert_eq!(ReplayWindow::new(65).size(), 128);
        assert_eq!(ReplayWindow::new(1024).size(), 1024);
        // Three words of window in a ring of four: still exactly 192 indices.
        let mut w = ReplayWindow::new(192);
        assert_eq!((w.size(), w.bits.len()), (192, 4));
        w.accept(1000);
        w.check(809).unwrap();
        assert_eq!(w.check(808), Err(Replay::TooOld { newest: 1000 }));
        // 1000 - 256 shares 1000's bit in the ring, but is behind the window.
        assert_eq!(w.check(744), Err(Replay::TooOld { newest: 1000 }));
    }

    proptest! {
        // The bitmap agrees with a plain set of every accepted index, filtered to the window.
        #[test]
        fn matches_a_set_model(size in prop::sample::select(vec![64usize, 128, 192, 320, 1024]),
                               steps in prop::collection::vec((0u64..3000, any::<bool>()), 1..400)) {
            let mut w = ReplayWindow::new(size);
            let size = w.size();
            let mut seen = BTreeSet::new();
            let mut newest: Option<u64> = None;
            for (index, do_accept) in steps {
                let expected = match newest {
                    Some(n) if index <= n && n - index >= size => Err(Replay::TooOld { newest: n }),
                    _ if seen.contains(&index) => Err(Replay::Seen),
                    _ => Ok(()),
                };
                prop_assert_eq!(w.check(index), expected);
                if expected.is_ok() && do_accept {
                    w.accept(index);
                    seen.insert(index);
                    newest = Some(newest.map_or(index, |n| n.max(index)));
                }
            }
        }
    }
}
