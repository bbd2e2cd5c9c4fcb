//! Interarrival jitter (RFC 3550 §6.4.1, §A.8): the smoothed absolute difference between the
//! spacing of packets at the receiver and at the sender, in RTP timestamp units.

use std::time::Instant;

/// RFC 3550 §A.8's estimator, kept in floating point as its first form shows.
#[derive(Debug, Clone, Default)]
pub(super) struct JitterEstimator {
    /// Arrival times are counted from here (RFC 3550 §6.4.1 only uses differences of them).
    first_arrival: Option<Instant>,
    /// The previous packet's relative transit time, and the clock rate it was measured with.
    previous: Option<(u32, u32)>,
    /// The estimate J, in timestamp units.
    jitter: f64,
}

impl JitterEstimator {
    /// Takes one packet's arrival time and RTP timestamp. A clock rate of 0 is ignored; a change of
    /// clock rate starts the differences afresh (the two transit times are in different units).
    pub(super) fn update(&mut self, now: Instant, rtp_timestamp: u32, clock_rate: u32) {
        if clock_rate == 0 {
            return;
        }
        let first = *self.first_arrival.get_or_insert(now);
        // Arrival in timestamp units (RFC 3550 §6.4.1's Ri), modulo 2^32 as RTP timestamps are.
        let ticks = now.saturating_duration_since(first).as_nanos() * u128::from(clock_rate) / 1_000_000_000;
        let arrival = ticks as u32; // truncation: modular arithmetic from here on
                                    // RFC 3550 §A.8: transit = arrival - r->ts, in 32-bit arithmetic.
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some((previous, rate)) = self.previous {
            if rate == clock_rate {
                // d = |transit - s->transit|; the wrapping difference read as signed.
                let d = f64::from((transit.wrapping_sub(previous) as i32).unsigned_abs());
                // J(i) = J(i-1) + (|D(i-1,i)| - J(i-1)) / 16
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
        self.previous = Some((transit, clock_rate));
    }

    /// Forgets the previous packet, keeping the estimate: after a restart of the sender's
    /// sequence, its timestamps may have jumped too.
    pub(super) fn forget_previous(&mut self) {
        self.previous = None;
    }

    /// The estimate in timestamp units, as a report block carries it (RFC 3550 §A.8:
    /// `rr->jitter = (u_int32) s->jitter`).
    pub(super) fn units(&self) -> u32 {
        // Saturating float-to-int conversion; the estimate is never negative.
        self.jitter as u32
    }

    /// The estimate in timestamp units, unrounded.
    pub(super) fn value(&self) -> f64 {
        self.jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_clock::t0;
    use std::time::Duration;

    /// Feeds packets 20 ms apart at 8 kHz (160 ticks) whose arrivals are delayed by `extra(i)` ms.
    fn run(n: u32, extra: impl Fn(u32) -> u64) -> JitterEstimator {
        let start = t0();
        let mut j = JitterEstimator::default();
        for i in 0..n {
            let now = start + Duration::from_millis(20 * u64::from(i) + extra(i));
            j.update(now, 5_000 + 160 * i, 8_000);
        }
        j
    }

    #[test]
    fn constant_transit_is_zero_jitter() {
        let j = run(500, |_| 0);
        assert_eq!((j.units(), j.value()), (0, 0.0));
        // A constant delay (every packet 35 ms late) is no jitter either.
        assert_eq!(run(500, |i| if i == 0 { 0 } else { 35 }).units(), 0);
    }

    #[test]
    fn alternating_transit_converges_to_the_difference() {
        // Every other packet arrives 10 ms (80 ticks at 8 kHz) late: |D| = 80 for every pair.
        // From J(0) = 0, J(n) = 80 × (1 - (15/16)^n) after n differences.
        // n = 16: (15/16)^16 = 0.356074..., J = 80 × 0.643926 = 51.514, reported as 51.
        let j = run(17, |i| if i % 2 == 1 { 10 } else { 0 });
        assert!((j.value() - 51.514).abs() < 0.001, "{}", j.value());
        assert_eq!(j.units(), 51);
        // n = 1: J = 80 / 16 = 5 exactly.
        assert_eq!(run(2, |i| 10 * u64::from(i)).value(), 5.0);
        // n = 300: (15/16)^300 = e^(300 ln 0.9375) = e^(-19.36) ≈ 4e-9: J is within 1e-6 of 80,
        // just below it, so the report says 79.
        let j = run(301, |i| if i % 2 == 1 { 10 } else { 0 });
        assert!((80.0 - j.value()) < 1e-6 && j.value() < 80.0);
        assert_eq!(j.units(), 79);
    }

    #[test]
    fn rtp_timestamp_wrap_is_not_jitter() {
        let start = t0();
        let mut j = JitterEstimator::default();
        for i in 0..50u32 {
            let ts = (u32::MAX - 1000).wrapping_add(3000 * i); // 90 kHz, 1/30 s apart
            j.update(
                start + Duration::from_nanos(33_333_334 * u64::from(i)),
                ts,
                90_000,
            );
        }
        // Arrivals are rounded down to whole ticks: at most one tick of difference each time.
        assert!(j.units() <= 1, "{}", j.value());
    }

    #[test]
    fn clock_rate_change_and_zero_rate() {
        let start = t0();
        let mut j = JitterEstimator::default();
        j.update(start, 0, 8_000);
        j.update(start + Duration::from_millis(20), 160, 8_000);
        // At another rate the transit times are not comparable: no difference is taken.
        j.update(start + Duration::from_millis(40), 7, 48_000);
        j.update(start + Duration::from_millis(60), 0, 0);
        assert_eq!(j.value(), 0.0);
    }
}
