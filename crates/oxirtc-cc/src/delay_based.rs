//! The delay-based controller (draft-ietf-rmcat-gcc-02 §5): pre-filtering into groups
//! ([`InterArrival`]), the trendline filter and over-use detector ([`Trendline`]) and AIMD rate
//! control ([`Aimd`]), fed with each feedback message's received packets (libwebrtc
//! `DelayBasedBwe`).
//!
//! One addition of ours: [`StandingQueue`] estimates the queueing delay itself (the one-way delay
//! above its minimum of the last 10 s), so that a decrease can drain a large standing queue
//! quickly (see `aimd.rs`).

use crate::acked_bitrate::RecentRate;
use crate::aimd::Aimd;
use crate::feedback::PacketResult;
use crate::inter_arrival::InterArrival;
use crate::trendline::{BandwidthUsage, Trendline};

/// No feedback for this long and the filters start over (libwebrtc `kStreamTimeOut`), µs.
const STREAM_TIMEOUT_US: i64 = 2_000_000;
/// The base one-way delay is the minimum over this many buckets...
const BASE_BUCKETS: usize = 10;
/// ...of this much local time each, µs.
const BASE_BUCKET_US: i64 = 1_000_000;

/// The standing queue: the lowest one-way delay (receiver's clock minus ours: the clock offset
/// plus the path delay) of the latest feedback, above the lowest of the last 10 s. Bounded: ten
/// per-second minima.
#[derive(Debug, Clone, Default)]
pub(crate) struct StandingQueue {
    /// (bucket number, minimum one-way delay in it).
    buckets: std::collections::VecDeque<(i64, i64)>,
    latest_us: i64,
}

impl StandingQueue {
    /// Takes one feedback message's packets at local time `now_us`.
    fn on_feedback(&mut self, now_us: i64, received: &[PacketResult]) {
        let Some(min) = received
            .iter()
            .map(|p| p.arrival_us.saturating_sub(p.send_us))
            .min()
        else {
            return;
        };
        let bucket = now_us / BASE_BUCKET_US;
        match self.buckets.back_mut() {
            Some((b, m)) if *b == bucket => *m = (*m).min(min),
            _ => self.buckets.push_back((bucket, min)),
        }
        while self
            .buckets
            .front()
            .is_some_and(|(b, _)| bucket - b >= BASE_BUCKETS as i64)
        {
            self.buckets.pop_front();
        }
        let base = self.buckets.iter().map(|(_, m)| *m).min().unwrap_or(min);
        self.latest_us = min.saturating_sub(base).max(0);
    }

    /// The queueing delay the latest feedback saw, µs.
    pub(crate) fn delay_us(&self) -> i64 {
        self.latest_us
    }
}

/// What one feedback message did to the delay-based estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DelayUpdate {
    /// The estimate changed (or was confirmed).
    pub updated: bool,
    /// It was set from a probe result.
    pub probe: bool,
    /// The estimate, bit/s.
    pub target_bps: f64,
}

/// Delay-based bandwidth estimation.
#[derive(Debug, Clone)]
pub(crate) struct DelayBased {
    inter_arrival: InterArrival,
    trendline: Trendline,
    aimd: Aimd,
    queue: StandingQueue,
    recent: RecentRate,
    last_seen_us: Option<i64>,
    overuses: u64,
}

impl DelayBased {
    pub(crate) fn new(min_bps: u64, start_bps: u64, max_bps: u64) -> Self {
        DelayBased {
            inter_arrival: InterArrival::default(),
            trendline: Trendline::default(),
            aimd: Aimd::new(min_bps, start_bps, max_bps),
            queue: StandingQueue::default(),
            recent: RecentRate::default(),
            last_seen_us: None,
            overuses: 0,
        }
    }

    /// One feedback message: `received` in arrival order; the acknowledged rate and a probe
    /// result if there are.
    pub(crate) fn on_feedback(
        &mut self,
        now_us: i64,
        received: &[PacketResult],
        acked_bps: Option<f64>,
        probe_bps: Option<f64>,
        in_alr: bool,
    ) -> DelayUpdate {
        let mut update = DelayUpdate {
            updated: false,
            probe: false,
            target_bps: self.aimd.estimate_bps(),
        };
        if received.is_empty() {
            return update; // only losses: nothing to say about delay
        }
        if self.last_seen_us.is_none_or(|t| now_us - t > STREAM_TIMEOUT_US) {
            self.inter_arrival = InterArrival::default();
            self.trendline = Trendline::default();
        }
        self.last_seen_us = Some(now_us);
        self.queue.on_feedback(now_us, received);
        self.aimd.set_queue_delay_us(self.queue.delay_us());
        let before = self.trendline.state();
        for p in received {
            self.recent.on_packet(p.arrival_us, p.size);
            let Some(d) = self.inter_arrival.on_packet(p.send_us, p.arrival_us, now_us) else {
                continue;
            };
            let state = self.trendline.update(
                d.arrival_delta_us as f64 / 1000.0,
                d.send_delta_us as f64 / 1000.0,
                d.arrival_us as f64 / 1000.0,
            );
            if state == BandwidthUsage::Overusing && before != BandwidthUsage::Overusing {
                self.overuses += 1;
                tracing::trace!(queue_us = self.queue.delay_us(), "over-use");
            }
        }
        self.aimd.set_in_alr(in_alr);
        let state = self.trendline.state();
        if state == BandwidthUsage::Overusing {
            // On over-use the path is saturated: what it delivers now is what it can carry for
            // us, which the smoothed acknowledged rate may be far from (above it just after the
            // capacity fell, under it just after a probe raised the estimate).
            let throughput = self.recent.bitrate_bps().or(acked_bps);
            match throughput {
                Some(acked) if self.aimd.time_to_reduce_further(now_us, acked) => {
                    update.target_bps = self.aimd.update(state, Some(acked), now_us);
                    update.updated = true;
                }
                None if self.aimd.initial_time_to_reduce_further(now_us) => {
                    // Over-use before any acknowledged rate: halve (libwebrtc).
                    self.aimd.set_estimate(self.aimd.estimate_bps() / 2.0, now_us);
                    update.target_bps = self.aimd.estimate_bps();
                    update.updated = true;
                }
                _ => {}
            }
        } else if let Some(probe) = probe_bps {
            self.aimd.set_estimate(probe, now_us);
            update = DelayUpdate {
                updated: true,
                probe: true,
                target_bps: self.aimd.estimate_bps(),
            };
        } else {
            update.target_bps = self.aimd.update(state, acked_bps, now_us);
            update.updated = true;
        }
        update
    }

    /// The estimate, bit/s.
    pub(crate) fn estimate_bps(&self) -> f64 {
        self.aimd.estimate_bps()
    }

    /// The detector's state.
    pub(crate) fn state(&self) -> BandwidthUsage {
        self.trendline.state()
    }

    pub(crate) fn set_rtt_us(&mut self, rtt_us: i64) {
        self.aimd.set_rtt_us(rtt_us);
    }

    pub(crate) fn set_limits(&mut self, min_bps: u64, max_bps: u64) {
        self.aimd.set_limits(min_bps, max_bps);
    }

    /// When the estimate last went down, µs.
    pub(crate) fn last_decrease_us(&self) -> Option<i64> {
        self.aimd.last_decrease_us()
    }

    /// The standing queue's delay at the latest feedback, µs.
    pub(crate) fn queue_delay_us(&self) -> i64 {
        self.queue.delay_us()
    }

    /// Over-use episodes detected.
    pub(crate) fn overuses(&self) -> u64 {
        self.overuses
    }

    /// Decreases made.
    pub(crate) fn decreases(&self) -> u64 {
        self.aimd.decreases()
    }

    /// Filter resets (clock jumps, reordering).
    pub(crate) fn resets(&self) -> u64 {
        self.inter_arrival.resets()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path of `capacity_bps` fed at `send_bps` with 1000-byte packets for `ms`; feedback
    /// every 50 ms. Returns the estimates after each feedback.
    fn run(d: &mut DelayBased, send_bps: f64, capacity_bps: f64, ms: i64, t: &mut i64) -> Vec<f64> {
        let gap = (8000.0 / send_bps * 1e6) as i64;
        let service = (8000.0 / capacity_bps * 1e6) as i64;
        let mut out = Vec::new();
        let mut free_at = *t;
        let mut batch = Vec::new();
        let end = *t + ms * 1000;
        let mut next_fb = *t + 50_000;
        while *t < end {
            free_at = free_at.max(*t) + service;
            batch.push(PacketResult {
                send_us: *t,
                size: 1000,
                arrival_us: free_at + 20_000,
                probe: None,
            });
            *t += gap;
            if *t >= next_fb {
                let u = d.on_feedback(*t, &batch, Some(send_bps.min(capacity_bps)), None, false);
                out.push(u.target_bps);
                batch.clear();
                next_fb += 50_000;
            }
        }
        out
    }

    #[test]
    fn increases_under_capacity_and_backs_off_over_it() {
        let mut d = DelayBased::new(30_000, 500_000, 10_000_000);
        let mut t = 0;
        let up = run(&mut d, 500_000.0, 2_000_000.0, 2_000, &mut t);
        assert!(up.last().is_some_and(|r| *r > 500_000.0), "{up:?}");
        assert_eq!(d.overuses(), 0);
        // Sending 1.5 Mbit/s into 1 Mbit/s: the queue grows 0.5 s per second.
        let down = run(&mut d, 1_500_000.0, 1_000_000.0, 1_000, &mut t);
        assert!(d.overuses() >= 1);
        let last = *down.last().expect("estimates");
        assert!(last < 900_000.0, "0.85 × the 1 Mbit/s acknowledged, {last}");
        assert_eq!(d.state(), BandwidthUsage::Overusing);
        assert!(d.last_decrease_us().is_some() && d.decreases() >= 1);
    }

    #[test]
    fn standing_queue_above_the_ten_second_minimum() {
        let mut q = StandingQueue::default();
        let p = |send_us: i64, owd: i64| PacketResult {
            send_us,
            size: 1000,
            arrival_us: send_us + owd,
            probe: None,
        };
        q.on_feedback(0, &[p(0, 5_000_050_000), p(10, 5_000_060_000)]);
        assert_eq!(q.delay_us(), 0);
        q.on_feedback(3_000_000, &[p(1, 5_000_350_000), p(2, 5_000_300_000)]);
        assert_eq!(q.delay_us(), 250_000);
        // The low sample ages out after 10 s: the base becomes the newer, higher one.
        q.on_feedback(11_000_000, &[p(3, 5_000_300_000)]);
        assert_eq!(q.delay_us(), 0);
        q.on_feedback(11_000_001, &[]);
        assert_eq!(q.delay_us(), 0);
    }

    #[test]
    fn probe_result_sets_the_estimate_and_losses_alone_change_nothing() {
        let mut d = DelayBased::new(30_000, 300_000, 10_000_000);
        let p = PacketResult {
            send_us: 0,
            size: 1000,
            arrival_us: 0,
            probe: None,
        };
        let u = d.on_feedback(0, &[p], None, Some(2_000_000.0), false);
        assert!(u.probe && u.updated && u.target_bps == 2_000_000.0);
        let u = d.on_feedback(10, &[], None, None, false);
        assert!(!u.updated);
        assert_eq!(d.resets(), 0);
    }
}
