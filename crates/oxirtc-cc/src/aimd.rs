//! Rate control (draft-ietf-rmcat-gcc-02 §5.5) in libwebrtc's `AimdRateControl` form: a state
//! machine driven by the detector's signal that increases multiplicatively far from the link's
//! capacity, additively near it, and on over-use sets the rate to β = 0.85 times what the
//! receiver got (the acknowledged rate). Never above 1.5 × the acknowledged rate + 10 kbit/s.
//!
//! "Near the capacity" is a running estimate of the acknowledged rate at past over-uses
//! ([`LinkCapacity`], libwebrtc's `LinkCapacityEstimator`): while the acknowledged rate stays
//! within 3 standard deviations of it, increases are additive.
//!
//! Our addition: when the over-use finds a standing queue of more than 75 ms (the capacity fell
//! under what we sent), the decrease goes below β × acknowledged, to (1 − queue / 500 ms) ×
//! acknowledged but not under a quarter of it, so that the queue drains within about half a
//! second instead of at the 15 % margin β leaves (which takes seconds after a large drop). Once
//! the queue is drained (under 30 ms, or the detector back to normal after under-use) the rate
//! returns to where β alone would have put it.

use crate::trendline::BandwidthUsage;

/// §5.5 β: the decrease factor (libwebrtc `kDefaultBackoffFactor`).
const BETA: f64 = 0.85;
/// §5.5: the multiplicative increase, per second (η = 1.08).
const ETA: f64 = 1.08;
/// libwebrtc's default RTT before any is measured, µs.
const DEFAULT_RTT_US: i64 = 200_000;
/// Increases stop at 1.5 × acknowledged + this, bit/s (libwebrtc).
const INCREASE_LIMIT_MARGIN_BPS: f64 = 10_000.0;
/// RTTs are capped at this, µs.
const MAX_RTT_US: i64 = 60_000_000;
/// A standing queue is drained within about this, µs.
const QUEUE_DRAIN_US: f64 = 500_000.0;
/// The drain never takes the rate under this fraction of the acknowledged rate.
const MIN_DRAIN_FACTOR: f64 = 0.25;
/// The queue counts as drained under this, µs.
const DRAINED_US: i64 = 30_000;

/// The rate-control state (§5.5: Increase, Decrease, Hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hold,
    Increase,
    Decrease,
}

/// Running estimate of the link capacity in kbit/s from the acknowledged rates at over-use, with
/// a normalised variance (libwebrtc `LinkCapacityEstimator`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LinkCapacity {
    estimate_kbps: Option<f64>,
    deviation_kbps: f64,
}

impl Default for LinkCapacity {
    fn default() -> Self {
        LinkCapacity {
            estimate_kbps: None,
            deviation_kbps: 0.4,
        }
    }
}

impl LinkCapacity {
    fn upper_bound_bps(&self) -> f64 {
        self.estimate_kbps
            .map_or(f64::INFINITY, |e| (e + 3.0 * self.deviation_bound(e)) * 1000.0)
    }

    fn lower_bound_bps(&self) -> f64 {
        self.estimate_kbps
            .map_or(0.0, |e| (e - 3.0 * self.deviation_bound(e)).max(0.0) * 1000.0)
    }

    fn deviation_bound(&self, estimate: f64) -> f64 {
        (self.deviation_kbps * estimate).sqrt()
    }

    fn on_overuse(&mut self, acked_bps: f64) {
        self.update(acked_bps / 1000.0, 0.05);
    }

    fn update(&mut self, sample_kbps: f64, alpha: f64) {
        let estimate = match self.estimate_kbps {
            None => sample_kbps,
            Some(e) => (1.0 - alpha) * e + alpha * sample_kbps,
        };
        self.estimate_kbps = Some(estimate);
        let norm = estimate.max(1.0);
        let error = estimate - sample_kbps;
        // 0.4 ≈ 14 kbit/s at 500 kbit/s, 2.5 ≈ 35 kbit/s (libwebrtc's bounds).
        self.deviation_kbps =
            ((1.0 - alpha) * self.deviation_kbps + alpha * error * error / norm).clamp(0.4, 2.5);
    }

    fn estimate_bps(&self) -> Option<f64> {
        self.estimate_kbps.map(|e| e * 1000.0)
    }
}

/// AIMD rate control over the delay-based detector.
#[derive(Debug, Clone)]
pub(crate) struct Aimd {
    min_bps: f64,
    max_bps: f64,
    current_bps: f64,
    latest_acked_bps: Option<f64>,
    state: State,
    capacity: LinkCapacity,
    last_change_us: Option<i64>,
    last_decrease_us: Option<i64>,
    rtt_us: i64,
    in_alr: bool,
    queue_delay_us: i64,
    /// After a drain decrease: the rate to return to once the queue is drained.
    resume_bps: Option<f64>,
    underused_since_drain: bool,
    decreases: u64,
}

impl Aimd {
    /// A controller starting at `start_bps`.
    pub(crate) fn new(min_bps: u64, start_bps: u64, max_bps: u64) -> Self {
        Aimd {
            min_bps: min_bps as f64,
            max_bps: max_bps as f64,
            current_bps: start_bps as f64,
            latest_acked_bps: None,
            state: State::Hold,
            capacity: LinkCapacity::default(),
            last_change_us: None,
            last_decrease_us: None,
            rtt_us: DEFAULT_RTT_US,
            in_alr: false,
            queue_delay_us: 0,
            resume_bps: None,
            underused_since_drain: false,
            decreases: 0,
        }
    }

    /// The current rate, bit/s.
    pub(crate) fn estimate_bps(&self) -> f64 {
        self.current_bps
    }

    pub(crate) fn set_rtt_us(&mut self, rtt_us: i64) {
        self.rtt_us = rtt_us.clamp(0, MAX_RTT_US);
    }

    /// The standing queue's delay, µs (0 when unknown).
    pub(crate) fn set_queue_delay_us(&mut self, us: i64) {
        self.queue_delay_us = us.clamp(0, MAX_RTT_US);
    }

    pub(crate) fn set_in_alr(&mut self, in_alr: bool) {
        self.in_alr = in_alr;
    }

    pub(crate) fn set_limits(&mut self, min_bps: u64, max_bps: u64) {
        (self.min_bps, self.max_bps) = (min_bps as f64, max_bps as f64);
        self.current_bps = self.clamp(self.current_bps);
    }

    /// Over-use was signalled: is it time to act again? Once per RTT (10-200 ms), or at once
    /// when the acknowledged rate fell under half the estimate (libwebrtc `TimeToReduceFurther`).
    pub(crate) fn time_to_reduce_further(&self, now_us: i64, acked_bps: f64) -> bool {
        let interval = self.rtt_us.clamp(10_000, 200_000);
        match self.last_change_us {
            Some(t) if now_us - t < interval => acked_bps < 0.5 * self.current_bps,
            _ => true,
        }
    }

    /// Over-use before any acknowledged rate: halve at most every 200 ms (libwebrtc
    /// `InitialTimeToReduceFurther`).
    pub(crate) fn initial_time_to_reduce_further(&self, now_us: i64) -> bool {
        self.last_decrease_us.is_none_or(|t| now_us - t >= 200_000)
    }

    /// Sets the rate directly (a probe result, or the halving before any acknowledged rate).
    pub(crate) fn set_estimate(&mut self, bps: f64, now_us: i64) {
        let before = self.current_bps;
        self.current_bps = self.clamp(bps);
        self.last_change_us = Some(now_us);
        if self.current_bps < before {
            self.last_decrease_us = Some(now_us);
        }
    }

    /// One step of §5.5 for the detector's `usage`, with the latest acknowledged rate.
    pub(crate) fn update(&mut self, usage: BandwidthUsage, acked_bps: Option<f64>, now_us: i64) -> f64 {
        if let Some(a) = acked_bps {
            self.latest_acked_bps = Some(a);
        }
        let acked = self.latest_acked_bps.unwrap_or(self.current_bps);
        self.change_state(usage, now_us);
        self.maybe_resume(usage, now_us);
        let mut new = self.current_bps;
        match self.state {
            State::Hold => {}
            State::Increase => {
                if acked > self.capacity.upper_bound_bps() {
                    self.capacity = LinkCapacity::default(); // far above: the capacity changed
                }
                let limit = if self.in_alr {
                    // Feedback cannot confirm a higher rate the sender does not use.
                    self.current_bps
                } else {
                    1.5 * acked + INCREASE_LIMIT_MARGIN_BPS
                };
                if self.current_bps < limit {
                    let step = if self.capacity.estimate_bps().is_some() {
                        self.additive_increase(now_us)
                    } else {
                        self.multiplicative_increase(now_us)
                    };
                    new = (self.current_bps + step).min(limit);
                }
                self.last_change_us = Some(now_us);
            }
            State::Decrease => {
                let drain = (1.0 - self.queue_delay_us as f64 / QUEUE_DRAIN_US).max(MIN_DRAIN_FACTOR);
                let mut decreased = acked * BETA.min(drain);
                if drain < BETA {
                    let resume = acked * BETA;
                    self.resume_bps = Some(self.resume_bps.map_or(resume, |r: f64| r.min(resume)));
                    self.underused_since_drain = false;
                }
                if decreased > 5_000.0 {
                    decreased -= 5_000.0;
                }
                if decreased > self.current_bps {
                    if let Some(c) = self.capacity.estimate_bps() {
                        decreased = BETA * c;
                    }
                }
                if decreased < self.current_bps {
                    new = decreased;
                }
                if acked < self.capacity.lower_bound_bps() {
                    self.capacity = LinkCapacity::default();
                }
                self.capacity.on_overuse(acked);
                self.state = State::Hold; // until the queues drain
                self.last_change_us = Some(now_us);
                self.last_decrease_us = Some(now_us);
                self.decreases += 1;
            }
        }
        self.current_bps = self.clamp(new);
        self.current_bps
    }

    /// After a drain decrease, back to the β level once the queue has drained.
    fn maybe_resume(&mut self, usage: BandwidthUsage, now_us: i64) {
        let Some(resume) = self.resume_bps else {
            return;
        };
        match usage {
            BandwidthUsage::Overusing => return,
            BandwidthUsage::Underusing => {
                self.underused_since_drain = true;
            }
            BandwidthUsage::Normal => {}
        }
        let drained = self.queue_delay_us < DRAINED_US
            || (usage == BandwidthUsage::Normal && self.underused_since_drain);
        if drained {
            self.resume_bps = None;
            if resume > self.current_bps {
                self.current_bps = self.clamp(resume);
                self.last_change_us = Some(now_us);
            }
        }
    }

    /// §5.5's transitions: over-use → Decrease; under-use → Hold; normal → Increase from Hold.
    fn change_state(&mut self, usage: BandwidthUsage, now_us: i64) {
        match usage {
            BandwidthUsage::Normal if self.state == State::Hold => {
                self.last_change_us = Some(now_us);
                self.state = State::Increase;
            }
            BandwidthUsage::Normal => {}
            BandwidthUsage::Overusing => self.state = State::Decrease,
            BandwidthUsage::Underusing => self.state = State::Hold,
        }
    }

    /// §5.5: η^Δt, Δt in seconds capped at 1, at least 1 kbit/s.
    fn multiplicative_increase(&self, now_us: i64) -> f64 {
        let dt = self
            .last_change_us
            .map_or(1.0, |t| ((now_us - t) as f64 / 1e6).clamp(0.0, 1.0));
        (self.current_bps * (ETA.powf(dt) - 1.0)).max(1_000.0)
    }

    /// Near convergence: about one packet per response time (RTT + 100 ms), as libwebrtc's
    /// `GetNearMaxIncreaseRateBpsPerSecond` (packets of a 30 fps frame split at 1200 bytes).
    fn additive_increase(&self, now_us: i64) -> f64 {
        let dt = self
            .last_change_us
            .map_or(0.0, |t| ((now_us - t) as f64 / 1e6).max(0.0));
        let frame_bytes = self.current_bps / 8.0 / 30.0;
        let packets = (frame_bytes / 1200.0).ceil().max(1.0);
        let packet_bits = frame_bytes / packets * 8.0;
        let response_s = (self.rtt_us + 100_000) as f64 / 1e6;
        (packet_bits / response_s).max(4_000.0) * dt
    }

    fn clamp(&self, bps: f64) -> f64 {
        if bps.is_finite() {
            bps.clamp(self.min_bps, self.max_bps)
        } else {
            self.current_bps
        }
    }

    /// Decreases so far.
    pub(crate) fn decreases(&self) -> u64 {
        self.decreases
    }

    /// When the rate last went down, local µs.
    pub(crate) fn last_decrease_us(&self) -> Option<i64> {
        self.last_decrease_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BandwidthUsage::*;

    #[test]
    fn multiplicative_far_additive_near_and_beta_on_overuse() {
        let mut a = Aimd::new(30_000, 1_000_000, 10_000_000);
        // Hold → Increase: the first step is the 1 kbit/s minimum.
        assert_eq!(a.update(Normal, Some(1_000_000.0), 0), 1_001_000.0);
        // One second later: +8 %.
        let r = a.update(Normal, Some(1_000_000.0), 1_000_000);
        assert!((r - 1_081_080.0).abs() < 1.0, "{r}");
        // Over-use: 0.85 × acknowledged - 5 kbit/s.
        let r = a.update(Overusing, Some(1_000_000.0), 1_100_000);
        assert_eq!(r, 845_000.0);
        // Normal again: now near capacity, additive (~4.2 kbit/s per 100 ms at 200 ms RTT).
        a.update(Normal, Some(845_000.0), 1_200_000);
        let r = a.update(Normal, Some(845_000.0), 1_300_000);
        assert!(r > 845_000.0 && r < 850_000.0, "{r}");
    }

    #[test]
    fn standing_queue_drained_faster() {
        let mut a = Aimd::new(30_000, 5_000_000, 10_000_000);
        a.set_queue_delay_us(50_000); // 1 - 0.1: β is lower, β applies
        assert_eq!(a.update(Overusing, Some(1_000_000.0), 0), 845_000.0);
        a.set_queue_delay_us(200_000); // 1 - 0.4
        assert_eq!(a.update(Overusing, Some(1_000_000.0), 300_000), 595_000.0);
        a.set_queue_delay_us(2_000_000); // never under a quarter
        assert_eq!(a.update(Overusing, Some(1_000_000.0), 600_000), 245_000.0);
        // Drained: back to β × acknowledged (the lowest of the drain decreases' levels).
        a.set_queue_delay_us(10_000);
        assert_eq!(a.update(Normal, Some(1_000_000.0), 700_000), 850_000.0);
    }

    #[test]
    fn increase_limited_by_acknowledged_rate_and_alr() {
        let mut a = Aimd::new(30_000, 1_000_000, 10_000_000);
        a.update(Normal, Some(100_000.0), 0);
        let r = a.update(Normal, Some(100_000.0), 1_000_000);
        assert_eq!(r, 1_000_000.0, "already above 1.5 × acknowledged: held");
        a.set_in_alr(true);
        let r = a.update(Normal, Some(1_000_000.0), 2_000_000);
        assert_eq!(r, 1_000_000.0, "no increase while application-limited");
    }

    #[test]
    fn reduce_further_once_per_rtt_and_clamps() {
        let mut a = Aimd::new(30_000, 1_000_000, 2_000_000);
        a.set_rtt_us(50_000);
        a.update(Overusing, Some(900_000.0), 0);
        assert!(!a.time_to_reduce_further(20_000, 900_000.0));
        assert!(
            a.time_to_reduce_further(20_000, 100_000.0),
            "throughput collapsed"
        );
        assert!(a.time_to_reduce_further(60_000, 900_000.0));
        a.set_estimate(f64::NAN, 70_000);
        a.set_estimate(1e12, 80_000);
        assert_eq!(a.estimate_bps(), 2_000_000.0);
        a.set_estimate(1.0, 90_000);
        assert_eq!(a.estimate_bps(), 30_000.0);
        assert_eq!(a.last_decrease_us(), Some(90_000));
        assert!(!a.initial_time_to_reduce_further(100_000));
    }
}
