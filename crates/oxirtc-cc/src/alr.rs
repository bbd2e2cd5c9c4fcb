//! Application-limited region (ALR) detection, as libwebrtc's `AlrDetector`: a budget fills at
//! 65 % of the estimate (at most 500 ms of it) and every sent byte spends it. When more than 80 %
//! of the budget is unspent the sender is application-limited (it sends well under what the
//! network allows, so feedback cannot confirm a higher estimate); under 50 % it is not any more.
//! draft-ietf-rmcat-gcc-02 has no ALR; its §5.5 only says the rate must not exceed 1.5 × what
//! was received.

/// The budget fills at this fraction of the estimate.
const USAGE_RATIO: f64 = 0.65;
/// ALR starts above this budget level...
const START_LEVEL: f64 = 0.80;
/// ...and stops under this one.
const STOP_LEVEL: f64 = 0.50;
/// The budget holds at most this much time of its rate, µs.
const WINDOW_US: f64 = 500_000.0;

/// The detector.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlrDetector {
    rate_bps: f64,
    remaining_bytes: f64,
    last_send_us: Option<i64>,
    started_us: Option<i64>,
}

impl AlrDetector {
    /// The estimate changed.
    pub(crate) fn set_estimate(&mut self, bps: f64) {
        self.rate_bps = bps * USAGE_RATIO;
        let max = self.max_bytes();
        self.remaining_bytes = self.remaining_bytes.clamp(-max, max);
    }

    /// `bytes` went out at `now_us`; returns the state change, if any (`Some(true)`: ALR
    /// started, `Some(false)`: it ended).
    pub(crate) fn on_sent(&mut self, now_us: i64, bytes: usize) -> Option<bool> {
        let Some(last) = self.last_send_us.replace(now_us) else {
            return None; // the first send: nothing to measure its duration against
        };
        let max = self.max_bytes();
        let elapsed = (now_us - last).max(0) as f64;
        self.remaining_bytes = (self.remaining_bytes - bytes as f64).max(-max);
        self.remaining_bytes = (self.remaining_bytes + self.rate_bps * elapsed / 8e6).min(max);
        let level = if max > 0.0 {
            self.remaining_bytes / max
        } else {
            0.0
        };
        if level > START_LEVEL && self.started_us.is_none() {
            self.started_us = Some(now_us);
            return Some(true);
        }
        if level < STOP_LEVEL && self.started_us.is_some() {
            self.started_us = None;
            return Some(false);
        }
        None
    }

    fn max_bytes(&self) -> f64 {
        self.rate_bps * WINDOW_US / 8e6
    }

    /// Whether the sender is application-limited now.
    pub(crate) fn in_alr(&self) -> bool {
        self.started_us.is_some()
    }

    /// When the current application-limited period started, µs.
    #[cfg(test)]
    pub(crate) fn started_us(&self) -> Option<i64> {
        self.started_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_when_sending_little_and_stops_when_sending_more() {
        let mut a = AlrDetector::default();
        a.set_estimate(1_000_000.0);
        // 200 kbit/s: 1000 bytes every 40 ms.
        let mut t = 0;
        let mut started = None;
        for _ in 0..50 {
            if a.on_sent(t, 1000) == Some(true) {
                started = Some(t);
            }
            t += 40_000;
        }
        assert!(started.is_some_and(|s| s < 1_000_000), "{started:?}");
        assert!(a.in_alr());
        // 1 Mbit/s: 1000 bytes every 8 ms spends the budget faster than it fills.
        let mut stopped = None;
        for _ in 0..200 {
            if a.on_sent(t, 1000) == Some(false) {
                stopped = Some(t);
                break;
            }
            t += 8_000;
        }
        assert!(stopped.is_some());
        assert_eq!(a.started_us(), None);
    }
}
