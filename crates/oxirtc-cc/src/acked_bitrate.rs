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

/// The delivery rate is measured over at least this much of the latest arrival time...
const RECENT_WINDOW_US: i64 = 100_000;
/// ...and at least this many packets...
const RECENT_MIN_PACKETS: usize = 8;
/// ...but never more than this, µs.
const RECENT_MAX_WINDOW_US: i64 = 500_000;
/// Packets kept for it.
const RECENT_MAX_PACKETS: usize = 512;

/// What the receiver got over the latest 100 ms of arrivals (at least 8 packets, at most
/// 500 ms): the bytes after the first packet over the arrival span, unsmoothed. On over-use the
/// path is saturated and this is what it carries for us now, where the Bayesian estimate can lag
/// seconds behind a capacity drop or a probe's jump. Our addition; bounded at 512 packets.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentRate {
    /// (arrival µs, bytes), in arrival order.
    packets: std::collections::VecDeque<(i64, u32)>,
}

impl RecentRate {
    pub(crate) fn on_packet(&mut self, arrival_us: i64, bytes: u32) {
        if self.packets.back().is_some_and(|(t, _)| arrival_us < *t) {
            self.packets.clear(); // reordered feedback: start again
        }
        if self.packets.len() >= RECENT_MAX_PACKETS {
            self.packets.pop_front();
        }
        self.packets.push_back((arrival_us, bytes));
        while self.packets.len() > RECENT_MIN_PACKETS
            && self
                .packets
                .get(1)
                .is_some_and(|(t, _)| arrival_us - t >= RECENT_WINDOW_US)
        {
            self.packets.pop_front();
        }
        while self
            .packets
            .front()
            .is_some_and(|(t, _)| arrival_us - t > RECENT_MAX_WINDOW_US)
        {
            self.packets.pop_front();
        }
    }

    /// The rate, bit/s, once the window spans at least half its length and the packets.
    pub(crate) fn bitrate_bps(&self) -> Option<f64> {
        let (first, _) = *self.packets.front()?;
        let (last, _) = *self.packets.back()?;
        let span = last - first;
        if span < RECENT_WINDOW_US / 2 || self.packets.len() < RECENT_MIN_PACKETS {
            return None;
        }
        let bytes: u64 = self.packets.iter().skip(1).map(|(_, b)| u64::from(*b)).sum();
        Some(bytes as f64 * 8e6 / span as f64)
    }
}

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
    fn recent_rate_follows_at_once() {
        let mut r = RecentRate::default();
        for i in 0..=60 {
            r.on_packet(i * 2_000, 1000); // 4 Mbit/s for 120 ms
        }
        assert!(r.bitrate_bps().is_some_and(|b| (b - 4e6).abs() < 1e3));
        for i in 0..30 {
            r.on_packet(120_000 + i * 8_000, 1000); // then 1 Mbit/s
        }
        assert!(r.bitrate_bps().is_some_and(|b| (b - 1e6).abs() < 1e3));
        r.on_packet(0, 1000);
        assert_eq!(r.bitrate_bps(), None);
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
