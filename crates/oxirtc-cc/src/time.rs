//! Local time as microseconds since the first instant a machine was given, so that the filters
//! can do arithmetic on plain integers. The caller's clock may stall or even step back: times
//! never go below the latest one seen (each machine keeps its own `Clock`). Times are capped at
//! 2^60 µs (36 000 years), so that adding any interval of ours cannot overflow.

use std::time::{Duration, Instant};

/// The largest time, µs.
const MAX_US: i64 = 1 << 60;

/// Maps the caller's `now` to monotonic microseconds and back.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    epoch: Option<Instant>,
    latest_us: i64,
}

impl Clock {
    /// `now` in µs since the epoch (the first `now`), never below an earlier result.
    pub(crate) fn us(&mut self, now: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(now);
        let us = i64::try_from(now.saturating_duration_since(epoch).as_micros())
            .unwrap_or(MAX_US)
            .min(MAX_US);
        self.latest_us = self.latest_us.max(us);
        self.latest_us
    }

    /// The instant `us` µs after the epoch, if there is an epoch and it fits.
    pub(crate) fn instant(&self, us: i64) -> Option<Instant> {
        let micros = u64::try_from(us.max(0)).unwrap_or(0);
        self.epoch?.checked_add(Duration::from_micros(micros))
    }

    /// The latest time returned by [`us`](Self::us).
    pub(crate) fn latest_us(&self) -> i64 {
        self.latest_us
    }
}

/// `d` in µs, capped at 2^60.
pub(crate) fn duration_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(MAX_US).min(MAX_US)
}

/// Bytes sent at `bps` for `us` µs.
pub(crate) fn bytes_in(bps: f64, us: f64) -> f64 {
    bps * us / 8e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn monotonic_and_round_trip() {
        let start = t0();
        let mut c = Clock::default();
        assert_eq!(c.instant(5), None);
        assert_eq!(c.us(start + Duration::from_millis(10)), 0);
        assert_eq!(c.us(start + Duration::from_millis(12)), 2_000);
        // A step back is held at the latest time.
        assert_eq!(c.us(start), 2_000);
        assert_eq!(c.instant(3_000), Some(start + Duration::from_millis(13)));
        assert_eq!(duration_us(Duration::MAX), MAX_US);
        assert_eq!(c.us(start + Duration::from_secs(u64::MAX / 4)), MAX_US);
        assert_eq!(bytes_in(8e6, 1e6), 1e6);
    }
}
