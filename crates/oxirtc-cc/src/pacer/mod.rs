//! [`Pacer`]: releases queued packets at the pacing rate in bursts of at most `burst` of it,
//! by priority, sends probe clusters at their rates, and asks for padding when the estimator
//! wants padding or a probe and there is no media (libwebrtc `PacingController`; RFC 8836 §4.2
//! asks congestion controllers to avoid bursts).
//!
//! - **Rate**: each released byte adds to a debt that drains at the pacing rate; packets go while
//!   the debt is under `burst` of the rate (5 ms), so bursts stay under 5 ms of the rate plus one
//!   packet. The debt is capped at 500 ms of the rate. When the queue would take more than
//!   `max_queue_time` to drain at its average age, the rate is raised to drain it in time
//!   (libwebrtc's queue time limit).
//! - **Priority**: audio first, released at once (counted against the rate but never held);
//!   then retransmissions, video and data channel traffic, the last with a fair share: see
//!   `queue.rs`.
//! - **Bounds**: at most `max_packets` and `max_bytes` queued; beyond that the oldest video
//!   packet is dropped, then the oldest retransmission, data, and audio last. Dropped packets'
//!   ids come out of [`Pacer::poll_dropped`] so that the connection can free them.
//! - **Probes and padding**: while a probe cluster is active it sets the pace: queued media
//!   (retransmissions, video) goes out at the probe's rate whatever the debt, tagged with the
//!   cluster, and when no media is queued the pacer asks for padding ([`Release::Padding`]) of
//!   the probe's packet size (4 ms of its rate); audio still goes at once, data waits the 15 ms.
//!   With a padding rate and an empty queue it asks for padding at that rate. Neither before the
//!   first media packet.

mod prober;
mod queue;

use crate::error::CcError;
use crate::time::{bytes_in, duration_us, Clock};
use crate::types::{Estimate, ProbeCluster, ProbeClusterId};
use prober::Prober;
use queue::{Queued, Queues};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The debt never exceeds this much time of the pacing rate, µs.
const MAX_DEBT_US: f64 = 500_000.0;
/// The pacing rate never goes under this, bit/s.
const MIN_PACING_BPS: f64 = 8_000.0;
/// Padding packets are never smaller than this, bytes.
const MIN_PADDING_BYTES: usize = 50;

/// The kinds of traffic the pacer tells apart, in priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketClass {
    /// Audio: first, never held by the rate, dropped last.
    Audio = 0,
    /// Retransmissions (RTX or resent originals): before video.
    Retransmission = 1,
    /// Video: the bulk; its oldest packets are dropped first when the queue is full.
    Video = 2,
    /// Data channel (SCTP) traffic: a fair share (`PacerConfig::data_share`) against
    /// retransmissions and video.
    Data = 3,
}

/// The pacer's name for a queued packet: the connection keeps the packet under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId(u64);

impl PacketId {
    /// The number (increasing from 0 in enqueue order).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What [`Pacer::poll_send`] says to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Send the packet enqueued as `id`.
    Packet {
        /// Its id.
        id: PacketId,
        /// Its class.
        class: PacketClass,
        /// The probe cluster it goes out for: put it in [`SentPacket::probe_cluster`].
        ///
        /// [`SentPacket::probe_cluster`]: crate::SentPacket::probe_cluster
        probe: Option<ProbeClusterId>,
    },
    /// Send about `size_bytes` of padding (RTX of an already-sent packet, or a padding-only RTP
    /// packet on the RTX stream) with a transport-wide sequence number.
    Padding {
        /// The size to aim for, bytes.
        size_bytes: usize,
        /// The probe cluster it is for, if any.
        probe: Option<ProbeClusterId>,
    },
}

/// Settings of a [`Pacer`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PacerConfig {
    /// The pacing rate until the first estimate, bit/s (default 315 kbit/s: the estimator's
    /// 300 kbit/s start × its 1.05 pacing factor).
    pub initial_pacing_bps: u64,
    /// The longest burst, as time at the pacing rate (default 5 ms).
    pub burst: Duration,
    /// The most packets queued (default 2048).
    pub max_packets: usize,
    /// The most bytes queued (default 2 MiB).
    pub max_bytes: usize,
    /// The rate is raised so that the queue drains within this (default 2 s).
    pub max_queue_time: Duration,
    /// The share of the rate data channel traffic gets when media also waits, in (0, 1)
    /// (default 0.25); each gets all the other leaves.
    pub data_share: f64,
    /// The largest padding packet asked for, bytes (default 1200).
    pub max_padding_bytes: usize,
}

impl Default for PacerConfig {
    fn default() -> Self {
        PacerConfig {
            initial_pacing_bps: 315_000,
            burst: Duration::from_millis(5),
            max_packets: 2048,
            max_bytes: 2 << 20,
            max_queue_time: Duration::from_secs(2),
            data_share: 0.25,
            max_padding_bytes: 1200,
        }
    }
}

impl PacerConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), CcError> {
        if self.max_packets == 0 || self.max_bytes == 0 {
            return Err(CcError::InvalidConfig("the pacer queue bounds must be positive"));
        }
        if !(self.data_share > 0.0 && self.data_share < 1.0) {
            return Err(CcError::InvalidConfig("data_share must be in (0, 1)"));
        }
        if self.max_queue_time.is_zero() || self.burst > Duration::from_secs(1) {
            return Err(CcError::InvalidConfig(
                "max_queue_time must be positive, burst at most 1 s",
            ));
        }
        if self.max_padding_bytes < MIN_PADDING_BYTES {
            return Err(CcError::InvalidConfig("max_padding_bytes is under 50"));
        }
        Ok(())
    }
}

/// Counters per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClassCounters {
    /// Audio.
    pub audio: u64,
    /// Retransmissions.
    pub retransmission: u64,
    /// Video.
    pub video: u64,
    /// Data channel traffic.
    pub data: u64,
}

impl ClassCounters {
    fn add(&mut self, class: PacketClass, n: u64) {
        let c = match class {
            PacketClass::Audio => &mut self.audio,
            PacketClass::Retransmission => &mut self.retransmission,
            PacketClass::Video => &mut self.video,
            PacketClass::Data => &mut self.data,
        };
        *c = c.saturating_add(n);
    }

    /// The counter of `class`.
    pub fn get(&self, class: PacketClass) -> u64 {
        match class {
            PacketClass::Audio => self.audio,
            PacketClass::Retransmission => self.retransmission,
            PacketClass::Video => self.video,
            PacketClass::Data => self.data,
        }
    }
}

/// The pacer's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PacerStats {
    /// Packets waiting.
    pub queued_packets: usize,
    /// Bytes waiting.
    pub queued_bytes: usize,
    /// Packets released.
    pub sent_packets: ClassCounters,
    /// Bytes released.
    pub sent_bytes: ClassCounters,
    /// Padding asked for: packets.
    pub padding_packets: u64,
    /// Padding asked for: bytes.
    pub padding_bytes: u64,
    /// Packets dropped because the queue was full.
    pub dropped: ClassCounters,
    /// Drop notices lost because [`Pacer::poll_dropped`] was not drained.
    pub dropped_notices_lost: u64,
    /// Probe clusters sent in full.
    pub probe_clusters_sent: u64,
}

/// The pacer. See the module documentation and the crate's run loop.
#[derive(Debug, Clone)]
pub struct Pacer {
    config: PacerConfig,
    clock: Clock,
    queues: Queues,
    prober: Prober,
    pacing_bps: f64,
    padding_bps: f64,
    media_debt: f64,
    padding_debt: f64,
    last_drain_us: Option<i64>,
    next_id: u64,
    dropped: VecDeque<PacketId>,
    media_sent: bool,
    stats: PacerStats,
}

impl Pacer {
    /// A pacer with an empty queue at `config.initial_pacing_bps`.
    pub fn new(config: PacerConfig) -> Result<Self, CcError> {
        config.validate()?;
        Ok(Pacer {
            queues: Queues::new(config.data_share),
            prober: Prober::default(),
            pacing_bps: (config.initial_pacing_bps as f64).max(MIN_PACING_BPS),
            padding_bps: 0.0,
            media_debt: 0.0,
            padding_debt: 0.0,
            last_drain_us: None,
            next_id: 0,
            dropped: VecDeque::new(),
            media_sent: false,
            stats: PacerStats::default(),
            clock: Clock::default(),
            config,
        })
    }

    /// Takes an estimator event: its pacing and padding rates, and its probe cluster if any.
    pub fn set_estimate(&mut self, now: Instant, estimate: &Estimate) {
        self.set_rates(now, estimate.pacing_rate_bps, estimate.padding_rate_bps);
        if let Some(cluster) = estimate.probe {
            self.start_probe(now, cluster);
        }
    }

    /// Sets the pacing and padding rates, bit/s.
    pub fn set_rates(&mut self, now: Instant, pacing_bps: u64, padding_bps: u64) {
        let t = self.clock.us(now);
        self.drain(t);
        self.pacing_bps = (pacing_bps as f64).max(MIN_PACING_BPS);
        self.padding_bps = padding_bps as f64;
    }

    /// Queues a probe cluster; it starts when the clusters before it are done.
    pub fn start_probe(&mut self, now: Instant, cluster: ProbeCluster) {
        let t = self.clock.us(now);
        self.prober.add(t, cluster);
    }

    /// Queues a packet of `size_bytes` (as it will be on the wire) and returns its id. If the
    /// queue goes over its bounds, packets are dropped (possibly this one): drain
    /// [`poll_dropped`](Self::poll_dropped) after each call.
    pub fn enqueue(&mut self, now: Instant, class: PacketClass, size_bytes: usize) -> PacketId {
        let t = self.clock.us(now);
        self.drain(t);
        let id = PacketId(self.next_id);
        self.next_id += 1;
        self.prober.on_enqueued(size_bytes);
        self.queues.push(
            class,
            Queued {
                id,
                size: size_bytes,
                enqueued_us: t,
            },
        );
        while self.queues.packets() > self.config.max_packets || self.queues.bytes() > self.config.max_bytes {
            let Some((class, item)) = self.queues.drop_one() else {
                break;
            };
            self.stats.dropped.add(class, 1);
            tracing::debug!(?class, id = item.id.0, "pacer queue full: packet dropped");
            if self.dropped.len() >= self.config.max_packets {
                self.dropped.pop_front();
                self.stats.dropped_notices_lost += 1;
            }
            self.dropped.push_back(item.id);
        }
        id
    }

    /// The id of a packet the queue dropped: the connection frees it.
    #[must_use]
    pub fn poll_dropped(&mut self) -> Option<PacketId> {
        self.dropped.pop_front()
    }

    /// What to send at `now`, if anything; call until it returns `None`.
    #[must_use]
    pub fn poll_send(&mut self, now: Instant) -> Option<Release> {
        let t = self.clock.us(now);
        self.drain(t);
        if self.queues.has(PacketClass::Audio) {
            return self.release_next(t);
        }
        let probing = self.prober.current(t).is_some() && (self.media_sent || self.queues.has_media());
        if probing {
            // The cluster sets the pace: media goes out at its rate, padding fills in.
            if self.prober.next_due_us(t).is_none_or(|due| t < due) {
                return None;
            }
            if let Some((class, item)) = self.queues.pop_media() {
                return Some(self.release(t, class, item));
            }
            if self.media_sent {
                let size = self.prober.padding_size(self.config.max_padding_bytes);
                return Some(self.release_padding(t, size));
            }
        }
        if !self.queues.is_empty() && self.media_debt <= self.burst_bytes() + 1e-6 {
            return self.release_next(t);
        }
        if self.padding_allowed() && self.padding_debt <= 1e-6 && self.media_debt <= self.burst_bytes() + 1e-6
        {
            let size = (bytes_in(self.padding_bps, self.burst_us()) as usize)
                .clamp(MIN_PADDING_BYTES, self.config.max_padding_bytes);
            return Some(self.release_padding(t, size));
        }
        None
    }

    /// When [`poll_send`](Self::poll_send) will have something next (`None`: nothing queued
    /// and no padding or probe to send).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = self.clock.latest_us();
        let mut next: Option<i64> = None;
        let mut consider = |at: i64| next = Some(next.map_or(at, |n| n.min(at)));
        if self.queues.has(PacketClass::Audio) {
            consider(t);
        }
        if self.media_sent || self.queues.has_media() {
            if let Some(due) = self.prober.next_due_us(t) {
                // While a cluster runs, only its schedule (and audio) releases packets.
                return self.clock.instant(next.map_or(due.max(t), |n| n.min(due.max(t))));
            }
        }
        let media_ready = t + self.wait_us(self.media_debt - self.burst_bytes(), self.effective_rate(t));
        if !self.queues.is_empty() {
            consider(media_ready);
        } else if self.padding_allowed() {
            consider(media_ready.max(t + self.wait_us(self.padding_debt, self.padding_bps)));
        }
        self.clock.instant(next?)
    }

    /// Packets queued.
    pub fn queued_packets(&self) -> usize {
        self.queues.packets()
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> usize {
        self.queues.bytes()
    }

    /// How long the oldest queued packet has waited at `now`.
    pub fn oldest_queued(&self, now: Instant) -> Option<Duration> {
        let mut clock = self.clock;
        let t = clock.us(now);
        let oldest = self.queues.oldest_us()?;
        Some(Duration::from_micros((t - oldest).max(0) as u64))
    }

    /// The pacing rate in force, bit/s.
    pub fn pacing_rate(&self) -> u64 {
        self.pacing_bps as u64
    }

    /// Counters.
    pub fn stats(&self) -> PacerStats {
        PacerStats {
            queued_packets: self.queues.packets(),
            queued_bytes: self.queues.bytes(),
            probe_clusters_sent: self.prober.completed(),
            ..self.stats
        }
    }

    fn padding_allowed(&self) -> bool {
        self.padding_bps > 0.0 && self.queues.is_empty() && self.media_sent
    }

    fn burst_us(&self) -> f64 {
        duration_us(self.config.burst) as f64
    }

    fn burst_bytes(&self) -> f64 {
        bytes_in(self.pacing_bps, self.burst_us())
    }

    /// The pacing rate, raised so that the queue drains within `max_queue_time`.
    fn effective_rate(&self, t: i64) -> f64 {
        if self.queues.is_empty() {
            return self.pacing_bps;
        }
        let left_us = (duration_us(self.config.max_queue_time) - self.queues.average_age_us(t)).max(1_000);
        let needed = self.queues.bytes() as f64 * 8e6 / left_us as f64;
        self.pacing_bps.max(needed)
    }

    /// µs until `bytes` of debt drain at `bps` (0 if none), rounded up.
    fn wait_us(&self, bytes: f64, bps: f64) -> i64 {
        if bytes <= 0.0 || bps <= 0.0 {
            return 0;
        }
        (bytes * 8e6 / bps).ceil().min(1e12) as i64
    }

    fn drain(&mut self, t: i64) {
        let last = self.last_drain_us.replace(t).unwrap_or(t);
        let dt = (t - last).max(0) as f64;
        let rate = self.effective_rate(t);
        self.media_debt = (self.media_debt - bytes_in(rate, dt)).max(0.0);
        self.padding_debt = (self.padding_debt - bytes_in(self.padding_bps, dt)).max(0.0);
    }

    fn charge(&mut self, t: i64, bytes: usize) -> Option<ProbeClusterId> {
        let cap = bytes_in(self.pacing_bps, MAX_DEBT_US);
        self.media_debt = (self.media_debt + bytes as f64).min(cap.max(bytes as f64));
        let padding_cap = bytes_in(self.padding_bps, MAX_DEBT_US);
        self.padding_debt = (self.padding_debt + bytes as f64).min(padding_cap.max(bytes as f64));
        let probe = self.prober.current(t);
        if probe.is_some() {
            self.prober.on_sent(t, bytes);
        }
        probe
    }

    fn release_next(&mut self, t: i64) -> Option<Release> {
        let (class, item) = self.queues.pop_next()?;
        Some(self.release(t, class, item))
    }

    fn release(&mut self, t: i64, class: PacketClass, item: Queued) -> Release {
        let probe = self.charge(t, item.size);
        self.media_sent = true;
        self.stats.sent_packets.add(class, 1);
        self.stats.sent_bytes.add(class, item.size as u64);
        Release::Packet {
            id: item.id,
            class,
            probe,
        }
    }

    fn release_padding(&mut self, t: i64, size: usize) -> Release {
        let probe = self.charge(t, size);
        self.stats.padding_packets += 1;
        self.stats.padding_bytes += size as u64;
        Release::Padding {
            size_bytes: size,
            probe,
        }
    }
}

#[cfg(test)]
mod tests;
