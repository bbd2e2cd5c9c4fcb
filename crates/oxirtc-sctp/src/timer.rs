//! All timers of an association in one enum-indexed table (CONTRIBUTING.md convention 3).

use std::time::Instant;

/// The association's timers (RFC 9260 §14.2 names in the comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// T1-init / T1-cookie (RFC 9260 §5.1).
    T1 = 0,
    /// T2-shutdown (RFC 9260 §9.2).
    T2Shutdown,
    /// T3-rtx (RFC 9260 §6.3).
    T3Rtx,
    /// Delayed SACK (RFC 9260 §6.2).
    DelayedAck,
    /// Heartbeat (RFC 9260 §8.3).
    Heartbeat,
    /// Re-configuration timer (RFC 6525 §5.1.1).
    Reconfig,
    /// RACK reordering timer or tail loss probe timeout (RFC 8985 §6.3, §7.2; one at a time).
    LossDetection,
    /// PLPMTUD PROBE_TIMER / PMTU_RAISE_TIMER (RFC 8899 §5.1.1).
    Pmtu,
}

const COUNT: usize = 8;
const ALL: [Timer; COUNT] = [
    Timer::T1,
    Timer::T2Shutdown,
    Timer::T3Rtx,
    Timer::DelayedAck,
    Timer::Heartbeat,
    Timer::Reconfig,
    Timer::LossDetection,
    Timer::Pmtu,
];

/// Deadlines indexed by [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers([Option<Instant>; COUNT]);

impl Timers {
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }

    pub(crate) fn is_running(&self, t: Timer) -> bool {
        self.0[t as usize].is_some()
    }

    pub(crate) fn stop_all(&mut self) {
        self.0 = [None; COUNT];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Removes and returns the timers due at `now`.
    pub(crate) fn take_expired(&mut self, now: Instant) -> impl Iterator<Item = Timer> {
        let mut due = [None; COUNT];
        for t in ALL {
            if self.0[t as usize].is_some_and(|at| at <= now) {
                self.0[t as usize] = None;
                due[t as usize] = Some(t);
            }
        }
        due.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn table_min_and_expiry() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(Timer::T3Rtx, t0 + Duration::from_secs(3));
        t.set(Timer::DelayedAck, t0 + Duration::from_millis(200));
        assert_eq!(t.next(), Some(t0 + Duration::from_millis(200)));
        let due: Vec<_> = t.take_expired(t0 + Duration::from_secs(1)).collect();
        assert_eq!(due, vec![Timer::DelayedAck]);
        assert!(t.is_running(Timer::T3Rtx));
        t.stop_all();
        assert_eq!(t.next(), None);
    }
}
