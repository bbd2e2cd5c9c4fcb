//! The loss-based controller (draft-ietf-rmcat-gcc-02 §6, in libwebrtc's
//! `SendSideBandwidthEstimation` "v1" form), which also combines the estimates: its output is
//! never above the delay-based estimate, the peer's REMB or the configured maximum.
//!
//! With the fraction of packets lost since the last report:
//! - under 2 %: increase to 1.08 × the lowest rate of the last second, + 1 kbit/s (§6: "As = 1.05
//!   × As" every feedback; libwebrtc's variant remembers the last second so a recovering
//!   connection does not wait a second to start climbing);
//! - 2-10 %: hold;
//! - over 10 %: As × (1 − 0.5 × loss) (§6), at most once per 300 ms + RTT and once per report.
//!
//! During the first 2 s after the first loss report, while nothing was lost, the delay-based
//! estimate and REMB are trusted directly, so that the start-up probes take effect at once.
//! The loss fraction comes from transport-wide feedback (at least 20 packets and 500 ms per
//! decision), or from receiver reports when there is no such feedback.

use std::collections::VecDeque;

/// The start phase, µs.
const START_PHASE_US: i64 = 2_000_000;
/// The increase looks back this far for its base, µs.
const INCREASE_WINDOW_US: i64 = 1_000_000;
/// Decreases are spaced by this plus the RTT, µs.
const DECREASE_INTERVAL_US: i64 = 300_000;
/// Loss reports are acted on only while this recent, µs (1.2 × the 5 s longest RTCP interval).
const REPORT_VALIDITY_US: i64 = 6_000_000;
/// Loss fractions in 1/256 (RFC 3550 §6.4.1's fraction lost).
const LOW_LOSS_Q8: u8 = 5; // 2 %
const HIGH_LOSS_Q8: u8 = 25; // 10 %
/// Transport-wide loss is decided over at least this many packets (libwebrtc `kLimitNumPackets`)...
const MIN_PACKETS: u32 = 20;
/// ...and at least this much time, µs (ours: over 20 packets, 5 % random loss reads as more than
/// 10 % one time in 13; receiver reports, libwebrtc's usual source, cover about a second).
const MIN_LOSS_WINDOW_US: i64 = 500_000;
/// Bound of the minimum-history deque.
const MAX_HISTORY: usize = 256;

/// The loss-based controller and the final combination of estimates.
#[derive(Debug, Clone)]
pub(crate) struct LossBased {
    min_bps: f64,
    max_bps: f64,
    current_bps: f64,
    delay_limit_bps: f64,
    receiver_limit_bps: f64,
    /// (time µs, rate) with increasing rates: the minimum over the last second at the front.
    min_history: VecDeque<(i64, f64)>,
    lost_acc: u32,
    expected_acc: u32,
    acc_since_us: Option<i64>,
    last_fraction_q8: u8,
    last_report_us: Option<i64>,
    first_report_us: Option<i64>,
    decreased_since_report: bool,
    last_decrease_us: Option<i64>,
    rtt_us: i64,
    decreases: u64,
}

impl LossBased {
    /// A controller at `start_bps` within [`min_bps`, `max_bps`].
    pub(crate) fn new(min_bps: u64, start_bps: u64, max_bps: u64) -> Self {
        LossBased {
            min_bps: min_bps as f64,
            max_bps: max_bps as f64,
            current_bps: start_bps as f64,
            delay_limit_bps: f64::INFINITY,
            receiver_limit_bps: f64::INFINITY,
            min_history: VecDeque::new(),
            lost_acc: 0,
            expected_acc: 0,
            acc_since_us: None,
            last_fraction_q8: 0,
            last_report_us: None,
            first_report_us: None,
            decreased_since_report: false,
            last_decrease_us: None,
            rtt_us: 0,
            decreases: 0,
        }
    }

    /// The combined estimate, bit/s.
    pub(crate) fn target_bps(&self) -> f64 {
        self.current_bps
    }

    /// The last loss fraction acted on, in 1/256.
    pub(crate) fn last_fraction_q8(&self) -> u8 {
        self.last_fraction_q8
    }

    pub(crate) fn set_rtt_us(&mut self, rtt_us: i64) {
        self.rtt_us = rtt_us.clamp(0, 60_000_000);
    }

    pub(crate) fn set_limits(&mut self, now_us: i64, min_bps: u64, max_bps: u64) {
        (self.min_bps, self.max_bps) = (min_bps as f64, max_bps as f64);
        self.set_target(self.current_bps, now_us);
    }

    /// Transport-wide feedback reported `lost` of `expected` packets (first reports) and
    /// `recovered` earlier losses now received.
    pub(crate) fn on_packets(&mut self, now_us: i64, lost: u32, expected: u32, recovered: u32) {
        self.first_report_us.get_or_insert(now_us);
        let since = *self.acc_since_us.get_or_insert(now_us);
        self.lost_acc = self.lost_acc.saturating_add(lost).saturating_sub(recovered);
        self.expected_acc = self.expected_acc.saturating_add(expected);
        if self.expected_acc < MIN_PACKETS || now_us - since < MIN_LOSS_WINDOW_US {
            return;
        }
        self.acc_since_us = None;
        let lost = self.lost_acc.min(self.expected_acc);
        let q8 = (u64::from(lost) * 256 / u64::from(self.expected_acc)).min(255);
        (self.lost_acc, self.expected_acc) = (0, 0);
        self.on_fraction_lost(now_us, q8 as u8);
    }

    /// A loss fraction (1/256) from a receiver report (RFC 3550 §6.4.1) or from feedback.
    pub(crate) fn on_fraction_lost(&mut self, now_us: i64, fraction_q8: u8) {
        self.first_report_us.get_or_insert(now_us);
        self.last_fraction_q8 = fraction_q8;
        self.last_report_us = Some(now_us);
        self.decreased_since_report = false;
        self.update(now_us);
    }

    /// The delay-based estimate changed.
    pub(crate) fn set_delay_based_limit(&mut self, now_us: i64, bps: f64) {
        self.delay_limit_bps = if bps > 0.0 { bps } else { f64::INFINITY };
        self.set_target(self.current_bps, now_us);
    }

    /// The peer's REMB (0: none).
    pub(crate) fn set_receiver_limit(&mut self, now_us: i64, bps: f64) {
        self.receiver_limit_bps = if bps > 0.0 { bps } else { f64::INFINITY };
        self.set_target(self.current_bps, now_us);
    }

    /// A probe measured `bps`: take it as the estimate (libwebrtc `SetSendBitrate`).
    pub(crate) fn set_send_bitrate(&mut self, now_us: i64, bps: f64) {
        self.delay_limit_bps = f64::INFINITY;
        self.min_history.clear();
        self.set_target(bps, now_us);
    }

    /// The periodic update (on feedback and every process interval).
    pub(crate) fn update(&mut self, now_us: i64) {
        let in_start = self.first_report_us.is_none_or(|t| now_us - t < START_PHASE_US);
        if self.last_fraction_q8 == 0 && in_start {
            let mut new = self.current_bps;
            for limit in [self.receiver_limit_bps, self.delay_limit_bps] {
                if limit.is_finite() {
                    new = new.max(limit);
                }
            }
            if new != self.current_bps {
                self.min_history.clear();
                self.min_history.push_back((now_us, new));
                self.set_target(new, now_us);
                return;
            }
        }
        self.update_min_history(now_us);
        let fresh = self
            .last_report_us
            .is_some_and(|t| now_us - t < REPORT_VALIDITY_US);
        if fresh {
            if self.last_fraction_q8 <= LOW_LOSS_Q8 {
                let base = self.min_history.front().map_or(self.current_bps, |(_, r)| *r);
                self.set_target(base * 1.08 + 1_000.0, now_us);
                return;
            }
            if self.last_fraction_q8 > HIGH_LOSS_Q8
                && !self.decreased_since_report
                && self
                    .last_decrease_us
                    .is_none_or(|t| now_us - t >= DECREASE_INTERVAL_US + self.rtt_us)
            {
                self.last_decrease_us = Some(now_us);
                self.decreased_since_report = true;
                self.decreases += 1;
                let factor = (512.0 - f64::from(self.last_fraction_q8)) / 512.0;
                self.set_target(self.current_bps * factor, now_us);
                return;
            }
        }
        self.set_target(self.current_bps, now_us);
    }

    /// The sliding minimum of the last second.
    fn update_min_history(&mut self, now_us: i64) {
        while self
            .min_history
            .front()
            .is_some_and(|(t, _)| now_us - t + 1_000 > INCREASE_WINDOW_US)
        {
            self.min_history.pop_front();
        }
        while self
            .min_history
            .back()
            .is_some_and(|(_, r)| self.current_bps <= *r)
        {
            self.min_history.pop_back();
        }
        if self.min_history.len() >= MAX_HISTORY {
            self.min_history.pop_front();
        }
        self.min_history.push_back((now_us, self.current_bps));
    }

    fn set_target(&mut self, bps: f64, _now_us: i64) {
        let upper = self
            .delay_limit_bps
            .min(self.receiver_limit_bps)
            .min(self.max_bps);
        let bps = if bps.is_finite() { bps } else { self.current_bps };
        self.current_bps = bps.min(upper).max(self.min_bps);
    }

    /// When loss last made the estimate go down, µs.
    pub(crate) fn last_decrease_us(&self) -> Option<i64> {
        self.last_decrease_us
    }

    /// Decreases so far.
    pub(crate) fn decreases(&self) -> u64 {
        self.decreases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_phase_takes_the_delay_based_estimate() {
        let mut l = LossBased::new(30_000, 300_000, 10_000_000);
        l.set_delay_based_limit(0, 2_000_000.0);
        l.update(0);
        assert_eq!(l.target_bps(), 2_000_000.0);
        // A REMB caps it.
        l.set_receiver_limit(0, 1_000_000.0);
        assert_eq!(l.target_bps(), 1_000_000.0);
    }

    #[test]
    fn low_loss_increases_high_loss_decreases_middle_holds() {
        let mut l = LossBased::new(30_000, 1_000_000, 10_000_000);
        // Each decision takes 500 ms of feedback: the first message opens the window.
        l.on_packets(0, 0, 100, 0);
        assert_eq!(l.target_bps(), 1_000_000.0);
        l.on_packets(500_000, 0, 100, 0); // +8 % of the last second's lowest, + 1 kbit/s
        assert_eq!(l.target_bps(), 1_081_000.0);
        l.on_packets(3_000_000, 0, 100, 0);
        l.on_packets(3_500_000, 0, 100, 0);
        let up = 1_081_000.0 * 1.08 + 1_000.0;
        assert_eq!(l.target_bps(), up);
        l.on_packets(3_600_000, 5, 50, 0);
        l.on_packets(4_100_000, 5, 50, 0); // 5 %: hold
        assert_eq!(l.target_bps(), up);
        l.on_packets(4_200_000, 10, 50, 0);
        l.on_packets(4_700_000, 10, 50, 0); // 20 % (51/256): × (1 - 0.5 × loss)
        let after = l.target_bps();
        assert!((after - up * (512.0 - 51.0) / 512.0).abs() < 1.0, "{after}");
        // A second report inside 300 ms + RTT does not decrease again.
        l.on_fraction_lost(4_800_000, 51);
        assert_eq!(l.target_bps(), after);
        assert_eq!(l.decreases(), 1);
        // Fewer than 20 packets: no decision yet.
        l.on_packets(6_000_000, 10, 10, 0);
        l.on_packets(7_000_000, 0, 5, 0);
        assert_eq!(l.last_fraction_q8(), 51);
    }

    #[test]
    fn probe_result_taken_and_limits_apply() {
        let mut l = LossBased::new(30_000, 300_000, 5_000_000);
        l.on_fraction_lost(0, 0);
        l.set_delay_based_limit(3_000_000, 400_000.0);
        l.set_send_bitrate(3_000_000, 8_000_000.0);
        assert_eq!(l.target_bps(), 5_000_000.0);
        l.set_send_bitrate(3_000_000, f64::NAN);
        assert_eq!(l.target_bps(), 5_000_000.0);
        l.set_limits(3_000_000, 30_000, 1_000_000);
        assert_eq!(l.target_bps(), 1_000_000.0);
    }
}
