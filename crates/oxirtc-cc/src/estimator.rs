//! [`BandwidthEstimator`]: the send-side estimator, GoogCC-style. It owns the parts (sent
//! history, feedback matching, delay-based and loss-based controllers, acknowledged rate, ALR
//! detection, probing) and turns the connection's inputs into [`Estimate`]s.

use crate::acked_bitrate::AckedBitrate;
use crate::alr::AlrDetector;
use crate::config::CcConfig;
use crate::delay_based::DelayBased;
use crate::error::CcError;
use crate::feedback::FeedbackAdapter;
use crate::history::{Reported, SentHistory, SentInfo};
use crate::loss_based::LossBased;
use crate::probe_controller::ProbeController;
use crate::probe_estimator::ProbeEstimator;
use crate::time::{duration_us, Clock};
use crate::trendline::BandwidthUsage;
use crate::types::{Estimate, SentPacket};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The periodic update's interval while sending (libwebrtc's 25 ms process interval), µs.
const PROCESS_INTERVAL_US: i64 = 25_000;
/// The periodic update stops this long after the last packet sent, µs.
const IDLE_AFTER_US: i64 = 5_000_000;
/// Receiver-report loss is ignored while transport-wide feedback arrived this recently, µs.
const TWCC_PREFERRED_US: i64 = 5_000_000;
/// A probe result is not allowed to pull the estimate under this fraction of the acknowledged
/// rate (libwebrtc `kProbeDropThroughputFraction`).
const PROBE_DROP_THROUGHPUT_FRACTION: f64 = 0.85;
/// Pending events kept (estimates coalesce; probe clusters are few).
const MAX_EVENTS: usize = 32;
/// Loss above 10 % (in 1/256) holds the estimate: no probing then.
const LOSS_LIMITED_Q8: u8 = 25;

/// Counters and the state of the parts, for statistics and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct CcStats {
    /// Packets reported through `on_packet_sent`.
    pub packets_sent: u64,
    /// Their bytes.
    pub bytes_sent: u64,
    /// Feedback messages taken.
    pub feedback_messages: u64,
    /// Packets feedback reported received (each once).
    pub packets_received: u64,
    /// Packets feedback reported lost (first reports).
    pub packets_lost: u64,
    /// Reported sequence numbers we had no record of (not sent, too old, another path).
    pub unknown_feedback: u64,
    /// Reports of packets already reported.
    pub duplicate_feedback: u64,
    /// Receiver-report loss fractions ignored because transport-wide feedback is flowing.
    pub loss_reports_ignored: u64,
    /// The delay-based estimate, bit/s.
    pub delay_based_bps: u64,
    /// The combined (loss-based) estimate, bit/s.
    pub loss_based_bps: u64,
    /// The acknowledged rate, bit/s, once measured.
    pub acked_bps: Option<u64>,
    /// The over-use detector's state.
    pub delay_state: BandwidthUsage,
    /// Over-use episodes detected.
    pub overuses: u64,
    /// Decreases by the delay-based controller.
    pub delay_decreases: u64,
    /// Decreases by the loss-based controller.
    pub loss_decreases: u64,
    /// The last loss fraction acted on (0 to 1).
    pub loss_fraction: f64,
    /// Probe clusters created.
    pub probes_created: u64,
    /// Probe results measured.
    pub probe_results: u64,
    /// Application-limited now.
    pub in_alr: bool,
    /// The RTT in use (RTCP's, else from feedback), if any.
    pub rtt: Option<Duration>,
    /// Inter-arrival filter resets (receiver clock jumps, reordering).
    pub filter_resets: u64,
    /// The queueing delay the latest feedback showed: one-way delay above its minimum of the
    /// last 10 s.
    pub queue_delay: Duration,
}

/// The send-side bandwidth estimator. See the crate documentation for the run loop.
#[derive(Debug, Clone)]
pub struct BandwidthEstimator {
    config: CcConfig,
    clock: Clock,
    history: SentHistory,
    feedback: FeedbackAdapter,
    delay: DelayBased,
    acked: AckedBitrate,
    loss: LossBased,
    alr: AlrDetector,
    probes: ProbeController,
    probe_results: ProbeEstimator,
    rtcp_rtt_us: Option<i64>,
    feedback_rtt_us: Option<i64>,
    remb_bps: Option<u64>,
    twcc_seen_us: Option<i64>,
    last_sent_us: Option<i64>,
    next_process_us: Option<i64>,
    started: bool,
    announced: bool,
    current: Estimate,
    events: VecDeque<Estimate>,
    stats: CcStats,
}

impl BandwidthEstimator {
    /// An estimator at `config.start_bps`. The first event (the start estimate and the initial
    /// probes) comes after the first [`on_packet_sent`](Self::on_packet_sent) or
    /// [`on_network_change`](Self::on_network_change).
    pub fn new(config: CcConfig) -> Result<Self, CcError> {
        config.validate()?;
        let current = Self::estimate_for(&config, config.start_bps);
        Ok(BandwidthEstimator {
            history: SentHistory::default(),
            feedback: FeedbackAdapter::default(),
            delay: DelayBased::new(config.min_bps, config.start_bps, config.max_bps),
            acked: AckedBitrate::default(),
            loss: LossBased::new(config.min_bps, config.start_bps, config.max_bps),
            alr: AlrDetector::default(),
            probes: ProbeController::new(&config),
            probe_results: ProbeEstimator::default(),
            clock: Clock::default(),
            rtcp_rtt_us: None,
            feedback_rtt_us: None,
            remb_bps: None,
            twcc_seen_us: None,
            last_sent_us: None,
            next_process_us: None,
            started: false,
            announced: false,
            current,
            events: VecDeque::new(),
            stats: CcStats::default(),
            config,
        })
    }

    /// A packet went on the wire at `now` (after the pacer released it and SRTP protected it).
    pub fn on_packet_sent(&mut self, now: Instant, packet: SentPacket) {
        let t = self.clock.us(now);
        self.start(t);
        self.stats.packets_sent += 1;
        self.stats.bytes_sent = self.stats.bytes_sent.saturating_add(packet.size_bytes as u64);
        if let Some(seq) = packet.transport_seq {
            let info = SentInfo {
                send_us: t,
                size: u32::try_from(packet.size_bytes).unwrap_or(u32::MAX),
                probe: packet.probe_cluster,
                reported: Reported::Not,
            };
            self.history.insert(seq, info);
        }
        match self.alr.on_sent(t, packet.size_bytes) {
            Some(true) => tracing::debug!(target_bps = self.current.target_bps, "application-limited"),
            Some(false) => {
                tracing::debug!(
                    target_bps = self.current.target_bps,
                    "no longer application-limited"
                );
                self.acked.set_alr_ended(t);
                self.probes.on_alr_ended(t);
            }
            None => {}
        }
        self.last_sent_us = Some(t);
        self.next_process_us.get_or_insert(t + PROCESS_INTERVAL_US);
        self.refresh(t);
    }

    /// Transport-wide feedback arrived at `now`: each reported packet's transport-wide sequence
    /// number and its arrival time in µs on the receiver's clock, or `None` if it was not
    /// received. `oxirtc_rtp::rtcp::TransportCc::packets()` gives exactly this:
    /// `fb.packets().map(|p| (p.seq, p.arrival_us))`. Any list is safe: unknown, duplicate or
    /// absurd entries are counted and skipped.
    pub fn on_transport_feedback<I>(&mut self, now: Instant, packets: I)
    where
        I: IntoIterator<Item = (u16, Option<i64>)>,
    {
        let t = self.clock.us(now);
        self.stats.feedback_messages += 1;
        let s = self.feedback.process(&mut self.history, t, packets);
        self.stats.unknown_feedback += u64::from(s.unknown);
        self.stats.duplicate_feedback += u64::from(s.duplicates);
        self.stats.packets_lost += u64::from(s.lost);
        self.stats.packets_received += u64::from(s.newly_reported - s.lost) + u64::from(s.recovered);
        if s.newly_reported == 0 && s.recovered == 0 {
            return;
        }
        self.twcc_seen_us = Some(t);
        if let Some(sent) = s.newest_send_us {
            let sample = (t - sent).max(0);
            let smoothed = self.feedback_rtt_us.map_or(sample, |r| (7 * r + sample) / 8);
            self.feedback_rtt_us = Some(smoothed);
            self.apply_rtt();
        }
        let in_alr = self.alr.in_alr();
        let mut probe_bps = None;
        for r in self.feedback.results() {
            self.acked.on_packet(r.send_us, r.arrival_us, r.size, in_alr);
            if let Some(cluster) = r.probe.and_then(|id| self.probes.cluster(id)) {
                probe_bps = self.probe_results.on_packet(t, r, &cluster).or(probe_bps);
            }
        }
        let acked_bps = self.acked.bitrate_bps();
        if let (Some(p), Some(a)) = (probe_bps.as_mut(), acked_bps) {
            // A probe may confirm less than the estimate, but not pull it under the throughput.
            *p = p.max(self.delay.estimate_bps().min(a * PROBE_DROP_THROUGHPUT_FRACTION));
        }
        if let Some(p) = probe_bps {
            tracing::debug!(probe_bps = p as u64, "probe result");
        }
        let u = self
            .delay
            .on_feedback(t, self.feedback.results(), acked_bps, probe_bps, in_alr);
        self.loss.on_packets(t, s.lost, s.newly_reported, s.recovered);
        if u.updated {
            if u.probe {
                self.loss.set_send_bitrate(t, u.target_bps);
            }
            self.loss.set_delay_based_limit(t, u.target_bps);
        }
        self.loss.update(t);
        self.refresh(t);
    }

    /// A round-trip time measured from RTCP (RFC 3550 §6.4.1: A − LSR − DLSR). It replaces the
    /// rougher one taken from feedback.
    pub fn on_rtt(&mut self, now: Instant, rtt: Duration) {
        self.clock.us(now);
        self.rtcp_rtt_us = Some(duration_us(rtt));
        self.apply_rtt();
    }

    /// The peer's REMB (draft-alvestrand-rmcat-remb-03), in bit/s: a cap on the estimate, unless
    /// `CcConfig::use_remb` is off. 0 removes the cap.
    pub fn on_remb(&mut self, now: Instant, bps: u64) {
        let t = self.clock.us(now);
        if !self.config.use_remb {
            return;
        }
        self.remb_bps = (bps > 0).then_some(bps);
        self.loss.set_receiver_limit(t, bps as f64);
        self.refresh(t);
    }

    /// A receiver report block's fraction lost (RFC 3550 §6.4.1, in 1/256) for one of our
    /// streams. Used by the loss-based controller only while no transport-wide feedback flows.
    pub fn on_loss_report(&mut self, now: Instant, fraction_lost: u8) {
        let t = self.clock.us(now);
        if self.twcc_seen_us.is_some_and(|s| t - s < TWCC_PREFERRED_US) {
            self.stats.loss_reports_ignored += 1;
            return;
        }
        self.loss.on_fraction_lost(t, fraction_lost);
        self.refresh(t);
    }

    /// The connection's path changed (ICE selected another pair; also call it when the first
    /// pair is selected): every measurement belongs to the old path, so the estimator starts
    /// again from `start_bps`, with the initial probes. The REMB cap and the RTT are kept.
    pub fn on_network_change(&mut self, now: Instant) {
        let t = self.clock.us(now);
        tracing::debug!(
            start_bps = self.config.start_bps,
            "path changed: estimation starts over"
        );
        let c = &self.config;
        self.history.clear();
        self.feedback.reset();
        self.delay = DelayBased::new(c.min_bps, c.start_bps, c.max_bps);
        self.acked = AckedBitrate::default();
        self.loss = LossBased::new(c.min_bps, c.start_bps, c.max_bps);
        if let Some(remb) = self.remb_bps {
            self.loss.set_receiver_limit(t, remb as f64);
        }
        self.alr = AlrDetector::default();
        self.probe_results.reset();
        self.feedback_rtt_us = None;
        self.twcc_seen_us = None;
        self.apply_rtt();
        self.started = true;
        self.events.clear(); // estimates and probes for the old path
        self.probes.restart(t);
        self.next_process_us = Some(t + PROCESS_INTERVAL_US);
        self.refresh(t);
    }

    /// Changes the limits (e.g. from `RTCRtpSender.setParameters` or an SDP `b=AS`); the
    /// estimate is clamped at once.
    pub fn set_bitrate_limits(&mut self, now: Instant, min_bps: u64, max_bps: u64) -> Result<(), CcError> {
        let mut config = self.config.clone();
        (config.min_bps, config.max_bps) = (min_bps, max_bps);
        config.start_bps = config.start_bps.clamp(min_bps, max_bps.max(min_bps));
        config.validate()?;
        let t = self.clock.us(now);
        self.config = config;
        self.delay.set_limits(min_bps, max_bps);
        self.loss.set_limits(t, min_bps, max_bps);
        self.probes.set_max(max_bps);
        self.refresh(t);
        Ok(())
    }

    /// Time passed: the periodic update (every 25 ms while sending).
    pub fn handle_timeout(&mut self, now: Instant) {
        let t = self.clock.us(now);
        if self.next_process_us.is_none_or(|n| t < n) {
            return;
        }
        self.loss.update(t);
        let last_decrease = self.delay.last_decrease_us().max(self.loss.last_decrease_us());
        let loss_limited = self.loss.last_fraction_q8() > LOSS_LIMITED_Q8;
        self.probes
            .process(t, self.alr.in_alr(), last_decrease, loss_limited);
        self.refresh(t);
        let active = self.last_sent_us.is_some_and(|s| t - s < IDLE_AFTER_US);
        self.next_process_us = active.then_some(t + PROCESS_INTERVAL_US);
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.clock.instant(self.next_process_us?)
    }

    /// The next change for the connection: a new estimate (pass it to the pacer and the
    /// encoders), possibly with a probe cluster to start.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Estimate> {
        self.events.pop_front()
    }

    /// The current estimate (without a probe).
    pub fn estimate(&self) -> Estimate {
        self.current
    }

    /// The current target bitrate, bit/s.
    pub fn target_bitrate(&self) -> u64 {
        self.current.target_bps
    }

    /// Counters and the parts' state.
    pub fn stats(&self) -> CcStats {
        let rtt = self.rtcp_rtt_us.or(self.feedback_rtt_us);
        CcStats {
            delay_based_bps: self.delay.estimate_bps() as u64,
            loss_based_bps: self.loss.target_bps() as u64,
            acked_bps: self.acked.bitrate_bps().map(|b| b as u64),
            delay_state: self.delay.state(),
            overuses: self.delay.overuses(),
            delay_decreases: self.delay.decreases(),
            loss_decreases: self.loss.decreases(),
            loss_fraction: f64::from(self.loss.last_fraction_q8()) / 256.0,
            probes_created: self.probes.created(),
            probe_results: self.probe_results.results(),
            in_alr: self.alr.in_alr(),
            rtt: rtt.map(|us| Duration::from_micros(us.max(0) as u64)),
            filter_resets: self.delay.resets(),
            queue_delay: Duration::from_micros(self.delay.queue_delay_us().max(0) as u64),
            ..self.stats
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CcConfig {
        &self.config
    }

    fn start(&mut self, t: i64) {
        if !self.started {
            self.started = true;
            self.probes.start(t);
        }
    }

    fn apply_rtt(&mut self) {
        if let Some(rtt) = self.rtcp_rtt_us.or(self.feedback_rtt_us) {
            self.delay.set_rtt_us(rtt);
            self.loss.set_rtt_us(rtt);
        }
    }

    fn estimate_for(config: &CcConfig, bps: u64) -> Estimate {
        Estimate {
            target_bps: bps,
            available_bps: bps,
            pacing_rate_bps: (bps as f64 * config.pacing_factor) as u64,
            padding_rate_bps: config.padding_bps.min(bps),
            probe: None,
        }
    }

    /// Recomputes the estimate and queues events for what changed (the first one always) and
    /// for new probe clusters.
    fn refresh(&mut self, t: i64) {
        let target = self.loss.target_bps().round() as u64;
        let next = Self::estimate_for(&self.config, target);
        self.alr.set_estimate(target as f64);
        if next != self.current || !self.announced {
            if next.target_bps != self.current.target_bps {
                self.probes.on_estimate(t, target as f64);
            }
            self.current = next;
            self.announced = true;
            self.push_event(next);
        }
        while let Some(cluster) = self.probes.poll_cluster() {
            tracing::debug!(
                id = cluster.id.0,
                target_bps = cluster.target_bps,
                "probe cluster"
            );
            self.push_event(Estimate {
                probe: Some(cluster),
                ..self.current
            });
        }
    }

    fn push_event(&mut self, e: Estimate) {
        if e.probe.is_none() {
            if let Some(back) = self.events.back_mut().filter(|b| b.probe.is_none()) {
                *back = e;
                return;
            }
        }
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }
}

#[cfg(test)]
#[path = "estimator_tests.rs"]
mod tests;
