//! Arrival-time filter and over-use detector (draft-ietf-rmcat-gcc-02 §5.3, §5.4), in
//! libwebrtc's current form: instead of the draft's Kalman filter, the slope of a least-squares
//! line through the last 20 smoothed accumulated delays (libwebrtc `TrendlineEstimator`), compared
//! with an adaptive threshold.
//!
//! - The accumulated one-way delay variation Σ d(i) is smoothed exponentially (coefficient 0.9),
//!   and the slope of the line through the last 20 (arrival time, smoothed delay) points is the
//!   trend: > 0 when the queue grows.
//! - The modified trend `min(n, 60) × trend × 4` is compared with the threshold γ (§5.4): over it
//!   for more than 10 ms (and twice, with a trend not falling) is over-use; under −γ is
//!   under-use; otherwise normal.
//! - γ adapts (§5.4): γ += Δt × K × (|m| − γ), with K = K_d = 0.039 when |m| < γ and
//!   K = K_u = 0.0087 otherwise (libwebrtc's values for the trendline; the draft's 0.00018/0.01
//!   belong to its Kalman filter), Δt capped at 100 ms, γ clamped to [6, 600], and no adaptation
//!   when |m| exceeds γ by more than 15 (a sudden capacity drop, not noise).

use std::collections::VecDeque;

/// Points in the regression window (libwebrtc `kDefaultTrendlineWindowSize`).
const WINDOW: usize = 20;
/// Exponential smoothing of the accumulated delay (`kDefaultTrendlineSmoothingCoeff`).
const SMOOTHING: f64 = 0.9;
/// Gain applied to the trend before the threshold (`kDefaultTrendlineThresholdGain`).
const THRESHOLD_GAIN: f64 = 4.0;
/// The trend is scaled by the number of deltas seen, up to this.
const MIN_DELTAS: u32 = 60;
/// Over-use must last this long before it is signalled, ms (§5.4 overuse_time_th).
const OVERUSE_TIME_MS: f64 = 10.0;
/// Threshold adaptation gains (§5.4 K_u, K_d; libwebrtc's trendline values).
const K_UP: f64 = 0.0087;
const K_DOWN: f64 = 0.039;
/// The threshold's initial value and clamp (§5.4: del_var_th in [6, 600] ms).
const INITIAL_THRESHOLD: f64 = 12.5;
const THRESHOLD_RANGE: (f64, f64) = (6.0, 600.0);
/// No adaptation when the trend is this far beyond the threshold.
const MAX_ADAPT_OFFSET: f64 = 15.0;
/// Threshold updates are spaced by at most this, ms.
const MAX_ADAPT_STEP_MS: f64 = 100.0;

/// The detector's signal (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandwidthUsage {
    /// Delay is stable.
    #[default]
    Normal,
    /// Delay grows: queues are building.
    Overusing,
    /// Delay falls: queues are draining.
    Underusing,
}

/// Trendline filter and adaptive-threshold detector.
#[derive(Debug, Clone)]
pub(crate) struct Trendline {
    deltas: u32,
    first_arrival_ms: Option<f64>,
    accumulated: f64,
    smoothed: f64,
    /// (arrival ms since the first, smoothed delay ms), at most WINDOW.
    history: VecDeque<(f64, f64)>,
    trend: f64,
    threshold: f64,
    last_threshold_update_ms: Option<f64>,
    overuse_ms: Option<f64>,
    overuse_count: u32,
    state: BandwidthUsage,
}

impl Default for Trendline {
    fn default() -> Self {
        Trendline {
            deltas: 0,
            first_arrival_ms: None,
            accumulated: 0.0,
            smoothed: 0.0,
            history: VecDeque::with_capacity(WINDOW + 1),
            trend: 0.0,
            threshold: INITIAL_THRESHOLD,
            last_threshold_update_ms: None,
            overuse_ms: None,
            overuse_count: 0,
            state: BandwidthUsage::Normal,
        }
    }
}

impl Trendline {
    /// Takes one group's deltas (ms) and its arrival time (ms, receiver's clock); returns the
    /// detector's state after it.
    pub(crate) fn update(
        &mut self,
        arrival_delta_ms: f64,
        send_delta_ms: f64,
        arrival_ms: f64,
    ) -> BandwidthUsage {
        let delta = arrival_delta_ms - send_delta_ms;
        self.deltas = (self.deltas + 1).min(1000);
        let first = *self.first_arrival_ms.get_or_insert(arrival_ms);
        self.accumulated += delta;
        self.smoothed = SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * self.accumulated;
        self.history.push_back((arrival_ms - first, self.smoothed));
        if self.history.len() > WINDOW {
            self.history.pop_front();
        }
        let mut trend = self.trend;
        if self.history.len() == WINDOW {
            trend = slope(&self.history).unwrap_or(trend);
        }
        self.detect(trend, send_delta_ms, arrival_ms);
        self.state
    }

    /// §5.4: the state machine over the modified trend.
    fn detect(&mut self, trend: f64, send_delta_ms: f64, now_ms: f64) {
        if self.deltas < 2 {
            self.state = BandwidthUsage::Normal;
            return;
        }
        let modified = f64::from(self.deltas.min(MIN_DELTAS)) * trend * THRESHOLD_GAIN;
        if modified > self.threshold {
            let t = match self.overuse_ms {
                None => send_delta_ms / 2.0, // assume half the interval was over-use already
                Some(t) => t + send_delta_ms,
            };
            self.overuse_ms = Some(t);
            self.overuse_count += 1;
            if t > OVERUSE_TIME_MS && self.overuse_count > 1 && trend >= self.trend {
                self.overuse_ms = Some(0.0);
                self.overuse_count = 0;
                self.state = BandwidthUsage::Overusing;
            }
        } else {
            self.overuse_ms = None;
            self.overuse_count = 0;
            self.state = if modified < -self.threshold {
                BandwidthUsage::Underusing
            } else {
                BandwidthUsage::Normal
            };
        }
        self.trend = trend;
        self.adapt_threshold(modified, now_ms);
    }

    /// §5.4's adaptive threshold.
    fn adapt_threshold(&mut self, modified: f64, now_ms: f64) {
        let last = *self.last_threshold_update_ms.get_or_insert(now_ms);
        self.last_threshold_update_ms = Some(now_ms);
        if !modified.is_finite() || modified.abs() > self.threshold + MAX_ADAPT_OFFSET {
            return;
        }
        let k = if modified.abs() < self.threshold {
            K_DOWN
        } else {
            K_UP
        };
        let dt = (now_ms - last).clamp(0.0, MAX_ADAPT_STEP_MS);
        self.threshold += k * (modified.abs() - self.threshold) * dt;
        self.threshold = self.threshold.clamp(THRESHOLD_RANGE.0, THRESHOLD_RANGE.1);
    }

    /// The current state.
    pub(crate) fn state(&self) -> BandwidthUsage {
        self.state
    }

    /// The current threshold γ.
    #[cfg(test)]
    pub(crate) fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// The least-squares slope through `points`, if they are not all at one x.
fn slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    let k = num / den;
    (den != 0.0 && k.is_finite()).then_some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` groups 10 ms apart whose arrival spacing is `growth` ms longer than their send
    /// spacing, from arrival time `t`.
    fn feed(tl: &mut Trendline, n: usize, growth: f64, t: &mut f64) -> Vec<BandwidthUsage> {
        (0..n)
            .map(|_| {
                *t += 10.0 + growth;
                tl.update(10.0 + growth, 10.0, *t)
            })
            .collect()
    }

    #[test]
    fn steady_delay_is_normal_growing_delay_is_overuse() {
        let mut tl = Trendline::default();
        let mut t = 0.0;
        assert!(feed(&mut tl, 100, 0.0, &mut t)
            .iter()
            .all(|s| *s == BandwidthUsage::Normal));
        // The threshold shrinks towards the noise (none here) but not under 6.
        assert_eq!(tl.threshold(), 6.0);
        // Queue growing by 1 ms every 10 ms (10 % over capacity).
        let states = feed(&mut tl, 40, 1.0, &mut t);
        let first = states.iter().position(|s| *s == BandwidthUsage::Overusing);
        assert!(matches!(first, Some(i) if i < 20), "{states:?}");
        // Then the queue drains: under-use.
        let states = feed(&mut tl, 40, -1.0, &mut t);
        assert!(states.contains(&BandwidthUsage::Underusing));
    }

    #[test]
    fn noise_raises_the_threshold() {
        let mut tl = Trendline::default();
        let mut t = 0.0;
        for i in 0..400 {
            let jitter = if i % 2 == 0 { 3.0 } else { -3.0 };
            t += 10.0 + jitter;
            tl.update(10.0 + jitter, 10.0, t);
        }
        assert_eq!(tl.state(), BandwidthUsage::Normal);
        let slope_points: VecDeque<_> = [(0.0, 0.0), (0.0, 1.0)].into_iter().collect();
        assert_eq!(slope(&slope_points), None);
    }
}
