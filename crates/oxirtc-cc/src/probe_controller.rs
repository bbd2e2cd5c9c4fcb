//! When to probe, and how high (libwebrtc `ProbeController`; draft-ietf-rmcat-gcc-02 has no
//! probing).
//!
//! - At the start (and after a path change): clusters at 3× and 6× the start rate; while each
//!   result exceeds 70 % of the last cluster's rate, another at 2× the new estimate
//!   ("exponential probing"). Waiting for a result ends after 1 s.
//! - When the sender leaves an application-limited period: one cluster at 2× the estimate, with
//!   the same continuation (our choice: libwebrtc probes there only after a large drop).
//! - When the estimate has neither dropped nor been probed for `stall_probe_interval` and the
//!   sender is not application-limited: 2× the estimate, same continuation. Not in libwebrtc;
//!   without it the estimate climbs back after a capacity increase at 8 % per second at best.
//!
//! No probe goes above the configured maximum. Each cluster lasts 15 ms at its rate and at least
//! 5 packets (libwebrtc's `min_probe_duration`, `min_probe_packets_sent`).

use crate::types::{ProbeCluster, ProbeClusterId};
use std::collections::VecDeque;

/// Continue exponential probing while results exceed this fraction of the probed rate.
const FURTHER_PROBE_THRESHOLD: f64 = 0.7;
/// Each continuation probes at this multiple of the estimate.
const FURTHER_PROBE_SCALE: f64 = 2.0;
/// Results are awaited this long, µs.
const MAX_WAIT_US: i64 = 1_000_000;
/// A cluster's duration at its rate, µs.
const PROBE_DURATION_US: u64 = 15_000;
/// A cluster's fewest packets.
const MIN_PROBES: u32 = 5;
/// Clusters remembered for matching feedback.
const MAX_CLUSTERS: usize = 16;
/// Probe-triggering events closer than this to the last probe are ignored, µs.
const MIN_PROBE_SPACING_US: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started: the initial probes are still to come.
    Init,
    /// A probe went out and its result may call for another.
    Waiting,
    /// Probing is done until something triggers it.
    Complete,
}

/// Decides probe clusters.
#[derive(Debug, Clone)]
pub(crate) struct ProbeController {
    state: State,
    next_id: u32,
    min_to_probe_further_bps: f64,
    last_probe_us: Option<i64>,
    estimate_bps: f64,
    start_bps: f64,
    max_bps: f64,
    scales: [f64; 2],
    stall_interval_us: Option<i64>,
    on_alr_exit: bool,
    recent: VecDeque<ProbeCluster>,
    pending: VecDeque<ProbeCluster>,
    created: u64,
}

impl ProbeController {
    pub(crate) fn new(config: &crate::CcConfig) -> Self {
        ProbeController {
            state: State::Init,
            next_id: 1,
            min_to_probe_further_bps: f64::INFINITY,
            last_probe_us: None,
            estimate_bps: config.start_bps as f64,
            start_bps: config.start_bps as f64,
            max_bps: config.max_bps as f64,
            scales: config.initial_probe_scales,
            stall_interval_us: config.stall_probe_interval.map(crate::time::duration_us),
            on_alr_exit: config.probe_on_alr_exit,
            recent: VecDeque::new(),
            pending: VecDeque::new(),
            created: 0,
        }
    }

    /// Starts the initial probing if it has not started.
    pub(crate) fn start(&mut self, now_us: i64) {
        if self.state == State::Init {
            let rates = self.scales.map(|s| s * self.start_bps);
            self.initiate(now_us, &rates, true);
        }
    }

    /// A new path: back to the initial state, then start again.
    pub(crate) fn restart(&mut self, now_us: i64) {
        self.state = State::Init;
        self.min_to_probe_further_bps = f64::INFINITY;
        self.estimate_bps = self.start_bps;
        self.pending.clear();
        self.start(now_us);
    }

    pub(crate) fn set_max(&mut self, max_bps: u64) {
        self.max_bps = max_bps as f64;
    }

    /// The estimate changed: if it came from a probe that measured more than 70 % of its rate,
    /// probe further.
    pub(crate) fn on_estimate(&mut self, now_us: i64, bps: f64) {
        self.estimate_bps = bps;
        if self.state == State::Waiting && bps > self.min_to_probe_further_bps {
            self.initiate(now_us, &[FURTHER_PROBE_SCALE * bps], true);
        }
    }

    /// The sender left an application-limited period.
    pub(crate) fn on_alr_ended(&mut self, now_us: i64) {
        if self.on_alr_exit && self.may_probe(now_us) {
            self.initiate(now_us, &[FURTHER_PROBE_SCALE * self.estimate_bps], true);
        }
    }

    /// Time passes: ends the wait for results, and probes a stalled estimate. `last_decrease_us`:
    /// when the estimate last went down; `loss_limited`: the loss-based controller holds it.
    pub(crate) fn process(
        &mut self,
        now_us: i64,
        in_alr: bool,
        last_decrease_us: Option<i64>,
        loss_limited: bool,
    ) {
        if self.state == State::Waiting && self.last_probe_us.is_none_or(|t| now_us - t > MAX_WAIT_US) {
            self.state = State::Complete;
            self.min_to_probe_further_bps = f64::INFINITY;
        }
        let Some(interval) = self.stall_interval_us else {
            return;
        };
        let quiet = |t: Option<i64>| t.is_none_or(|t| now_us - t >= interval);
        if !in_alr
            && !loss_limited
            && quiet(self.last_probe_us)
            && quiet(last_decrease_us)
            && self.may_probe(now_us)
        {
            self.initiate(now_us, &[FURTHER_PROBE_SCALE * self.estimate_bps], true);
        }
    }

    fn may_probe(&self, now_us: i64) -> bool {
        self.state == State::Complete
            && self.estimate_bps < self.max_bps
            && self
                .last_probe_us
                .is_none_or(|t| now_us - t >= MIN_PROBE_SPACING_US)
    }

    fn initiate(&mut self, now_us: i64, rates: &[f64], mut further: bool) {
        let mut last_rate = 0.0;
        for &rate in rates {
            let mut rate = rate;
            if rate >= self.max_bps {
                rate = self.max_bps;
                further = false;
            }
            last_rate = rate;
            let target_bps = rate.max(1_000.0) as u64;
            let cluster = ProbeCluster {
                id: ProbeClusterId(self.next_id),
                target_bps,
                min_probes: MIN_PROBES,
                min_bytes: (target_bps * PROBE_DURATION_US / 8_000_000).max(1),
            };
            self.next_id = self.next_id.wrapping_add(1);
            self.created += 1;
            if self.recent.len() >= MAX_CLUSTERS {
                self.recent.pop_front();
            }
            self.recent.push_back(cluster);
            if self.pending.len() >= MAX_CLUSTERS {
                self.pending.pop_front();
            }
            self.pending.push_back(cluster);
        }
        self.last_probe_us = Some(now_us);
        if further {
            self.state = State::Waiting;
            self.min_to_probe_further_bps = last_rate * FURTHER_PROBE_THRESHOLD;
        } else {
            self.state = State::Complete;
            self.min_to_probe_further_bps = f64::INFINITY;
        }
    }

    /// The next cluster to send.
    pub(crate) fn poll_cluster(&mut self) -> Option<ProbeCluster> {
        self.pending.pop_front()
    }

    /// A recent cluster by id (for its feedback).
    pub(crate) fn cluster(&self, id: ProbeClusterId) -> Option<ProbeCluster> {
        self.recent.iter().find(|c| c.id == id).copied()
    }

    /// Clusters created so far.
    pub(crate) fn created(&self) -> u64 {
        self.created
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn controller() -> ProbeController {
        ProbeController::new(&crate::CcConfig::default())
    }

    fn rates(p: &mut ProbeController) -> Vec<u64> {
        std::iter::from_fn(|| p.poll_cluster())
            .map(|c| c.target_bps)
            .collect()
    }

    #[test]
    fn initial_then_exponential_until_the_result_stops_growing() {
        let mut p = controller();
        p.start(0);
        assert_eq!(rates(&mut p), [900_000, 1_800_000]);
        p.start(0);
        assert!(rates(&mut p).is_empty(), "once");
        p.on_estimate(100_000, 900_000.0); // under 0.7 × 1.8 M: no continuation
        assert!(rates(&mut p).is_empty());
        p.on_estimate(150_000, 1_700_000.0);
        assert_eq!(rates(&mut p), [3_400_000]);
        p.on_estimate(300_000, 2_300_000.0); // under 0.7 × 3.4 M: done
        assert!(rates(&mut p).is_empty());
        let c = p.cluster(ProbeClusterId(3)).expect("kept");
        assert_eq!((c.min_probes, c.min_bytes), (5, 6_375));
        assert_eq!(c.duration(), Duration::from_millis(15));
    }

    #[test]
    fn capped_at_max_stall_and_alr_exit_probes() {
        let mut p = controller();
        p.start(0);
        rates(&mut p);
        p.on_estimate(100_000, 6_000_000.0);
        assert_eq!(rates(&mut p), [10_000_000], "capped, and no continuation");
        p.on_estimate(200_000, 3_000_000.0);
        p.process(1_300_000, false, None, false);
        assert!(rates(&mut p).is_empty(), "too soon after the last probe");
        p.process(2_200_000, false, Some(1_000_000), false);
        assert!(rates(&mut p).is_empty(), "the estimate dropped recently");
        p.process(3_100_000, true, Some(1_000_000), false);
        assert!(rates(&mut p).is_empty(), "application-limited");
        p.process(3_100_000, false, Some(1_000_000), false);
        assert_eq!(rates(&mut p), [6_000_000]);
        p.process(4_200_000, false, None, false); // the wait for a result ends
        p.on_alr_ended(4_200_000);
        assert_eq!(rates(&mut p), [6_000_000]);
        p.restart(5_000_000);
        assert_eq!(rates(&mut p), [900_000, 1_800_000]);
        assert_eq!(p.created(), 7);
    }
}
