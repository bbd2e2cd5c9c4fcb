//! The acknowledged bitrate: what the receiver got, from the sizes and arrival times of the
//! packets feedback reports received (libwebrtc `AcknowledgedBitrateEstimator` over its Bayesian
//! `BitrateEstimator`; draft-ietf-rmcat-gcc-02 §5.5 calls it R_hat, "the incoming bitrate
//! measured over a T seconds window").
//!
//! Bytes are summed over windows of arrival time (500 ms for the first sample, then 150 ms);
//! each window's rate is a sample, blended into the estimate with a weight that falls as the
//! sample strays from it: σ_sample = 10 × |estimate − sample| / estimate (kbit/s), the estimate's
//! own variance growing by 5 per sample so that it keeps tracking.

/// The first sample's window, µs.
const INITIAL_WINDOW_US: i64 = 500_000;
/// Later samples' window, µs.
const WINDOW_US: i64 = 150_000;
/// Scales a sample's uncertainty with its distance from the estimate.
const UNCERTAINTY_SCALE: f64 = 10.0;
/// Added to the estimate's variance per sample.
const VARIANCE_GROWTH: f64 = 5.0;
/// The estimate's variance at the start.
const INITIAL_VARIANCE: f64 = 50.0;
/// Added to the variance when the rate is expected to change fast (after an application-limited
/// period).
const FAST_CHANGE_VARIANCE: f64 = 200.0;

/// The Bayesian estimate of the acknowledged rate.
#[derive(Debug, Clone)]
pub(crate) struct AckedBitrate {
    sum_bytes: u64,
    window_us: i64,
    prev_us: Option<i64>,
    estimate_kbps: Option<f64>,
    variance: f64,
    alr_ended_us: Option<i64>,
}

impl Default for AckedBitrate {
    fn default() -> Self {
        AckedBitrate {
            sum_bytes: 0,
            window_us: 0,
            prev_us: None,
            estimate_kbps: None,
            variance: INITIAL_VARIANCE,
            alr_ended_us: None,
        }
    }
}

impl AckedBitrate {
    /// One received packet, in arrival order: sent at `send_us` (local), arrived at `arrival_us`
    /// (receiver's clock), `bytes` long. `in_alr`: the sender is application-limited.
    pub(crate) fn on_packet(&mut self, send_us: i64, arrival_us: i64, bytes: u32, _in_alr: bool) {
        if self.alr_ended_us.is_some_and(|t| send_us > t) {
            self.variance += FAST_CHANGE_VARIANCE;
            self.alr_ended_us = None;
        }
        let window = if self.estimate_kbps.is_some() {
            WINDOW_US
        } else {
            INITIAL_WINDOW_US
        };
        let Some(sample) = self.update_window(arrival_us, bytes, window) else {
            return;
        };
        let Some(estimate) = self.estimate_kbps else {
            self.estimate_kbps = Some(sample);
            return;
        };
        let uncertainty = UNCERTAINTY_SCALE * (estimate - sample).abs() / estimate.max(1e-3);
        let sample_var = uncertainty * uncertainty;
        let predicted_var = self.variance + VARIANCE_GROWTH;
        let blended = (sample_var * estimate + predicted_var * sample) / (sample_var + predicted_var);
        if blended.is_finite() {
            self.estimate_kbps = Some(blended);
            self.variance = sample_var * predicted_var / (sample_var + predicted_var);
        }
    }

    /// Sums bytes into the window; returns a rate sample (kbit/s) when a window completes.
    fn update_window(&mut self, now_us: i64, bytes: u32, window_us: i64) -> Option<f64> {
        if self.prev_us.is_some_and(|p| now_us < p) {
            // Time went backwards (reordered feedback): start the window again.
            self.prev_us = None;
            self.sum_bytes = 0;
            self.window_us = 0;
        }
        if let Some(prev) = self.prev_us {
            let elapsed = now_us - prev;
            self.window_us = self.window_us.saturating_add(elapsed);
            if elapsed > window_us {
                // Nothing for a whole window: what was summed is stale.
                self.sum_bytes = 0;
                self.window_us %= window_us;
            }
        }
        self.prev_us = Some(now_us);
        let mut sample = None;
        if self.window_us >= window_us {
            sample = Some(8.0 * self.sum_bytes as f64 / (window_us as f64 / 1000.0));
            self.window_us -= window_us;
            self.sum_bytes = 0;
        }
        self.sum_bytes = self.sum_bytes.saturating_add(u64::from(bytes));
        sample
    }

    /// The estimate in bit/s, once there is one.
    pub(crate) fn bitrate_bps(&self) -> Option<f64> {
        self.estimate_kbps.map(|k| k * 1000.0)
    }

    /// The sender left an application-limited period at `now_us`: the first packet sent after it
    /// makes the estimate follow faster.
    pub(crate) fn set_alr_ended(&mut self, now_us: i64) {
        self.alr_ended_us = Some(now_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rate_bps` in 1000-byte packets for `duration_us` from `t`.
    fn feed(a: &mut AckedBitrate, rate_bps: f64, t: &mut i64, duration_us: i64) {
        let gap = (8000.0 / rate_bps * 1e6) as i64;
        let end = *t + duration_us;
        while *t < end {
            a.on_packet(*t, *t, 1000, false);
            *t += gap;
        }
    }

    #[test]
    fn converges_and_follows_a_change() {
        let mut a = AckedBitrate::default();
        let mut t = 0;
        assert_eq!(a.bitrate_bps(), None);
        feed(&mut a, 1_000_000.0, &mut t, 3_000_000);
        let r = a.bitrate_bps().expect("estimate");
        assert!((r - 1_000_000.0).abs() < 30_000.0, "{r}");
        feed(&mut a, 2_000_000.0, &mut t, 3_000_000);
        let r = a.bitrate_bps().expect("estimate");
        assert!((r - 2_000_000.0).abs() < 100_000.0, "{r}");
        // A pause longer than a window discards the partial sum; backwards time restarts.
        t += 10_000_000;
        a.on_packet(t, t, 1000, false);
        a.on_packet(t - 5, t - 5, 1000, false);
        a.set_alr_ended(t);
        a.on_packet(t + 1, t + 1, 1000, false);
        assert!(a.bitrate_bps().is_some());
    }
}
