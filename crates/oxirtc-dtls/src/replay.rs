//! The anti-replay sliding window of RFC 6347 §4.1.2.6 (64 records, as RFC 4303 §3.4.3).

/// Window size in records.
pub const WINDOW: u64 = 64;

/// Tracks the highest authenticated sequence number and which of the 64 below it were seen.
#[derive(Debug, Default, Clone)]
pub struct ReplayWindow {
    /// Highest sequence number marked, if any.
    top: Option<u64>,
    /// Bit i set: `top - i` was received.
    bits: u64,
}

impl ReplayWindow {
    /// Whether `seq` is new and not left of the window (check before authenticating).
    pub fn check(&self, seq: u64) -> bool {
        let Some(top) = self.top else { return true };
        if seq > top {
            return true;
        }
        let age = top - seq;
        age < WINDOW && self.bits & (1 << age) == 0
    }

    /// Records `seq` as received (only after the record authenticated).
    pub fn mark(&mut self, seq: u64) {
        match self.top {
            None => {
                self.top = Some(seq);
                self.bits = 1;
            }
            Some(top) if seq > top => {
                let shift = seq - top;
                self.bits = if shift >= WINDOW { 0 } else { self.bits << shift };
                self.bits |= 1;
                self.top = Some(seq);
            }
            Some(top) => {
                let age = top - seq;
                if age < WINDOW {
                    self.bits |= 1 << age;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_semantics() {
        let mut w = ReplayWindow::default();
        assert!(w.check(5));
        w.mark(5);
        assert!(!w.check(5));
        assert!(w.check(4), "older but inside the window and unseen");
        w.mark(100);
        assert!(!w.check(36), "100 - 36 = 64: left of the window");
        assert!(w.check(37));
        w.mark(37);
        assert!(!w.check(37));
        assert!(w.check(101));
        w.mark(1000);
        assert!(w.check(999) && !w.check(1000) && !w.check(100));
    }
}
