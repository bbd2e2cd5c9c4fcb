//! A simulated bottleneck on a virtual clock, shared by the integration tests and
//! `examples/sim.rs`: senders (a synthetic encoder following the estimator's target, the pacer,
//! the estimator) → one FIFO link (drain rate, base delay, seeded random loss, drop-tail) → a
//! receiver per flow that reports arrivals every 50 ms in transport-wide feedback, delivered back
//! after the base delay. Everything is deterministic for a given seed.
#![allow(dead_code)] // each test uses a part

use oxirtc_cc::*;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The feedback interval (Chrome's transport-cc default).
pub const FEEDBACK_INTERVAL_US: i64 = 50_000;
/// RTCP RTT reports every second.
pub const RTT_INTERVAL_US: i64 = 1_000_000;
/// Frames per second of the synthetic encoder.
pub const FPS: i64 = 30;
/// A keyframe every this many frames (3 s), 10 × the size of a delta frame.
pub const KEYFRAME_EVERY: u64 = 90;
pub const KEYFRAME_FACTOR: f64 = 10.0;
/// Largest packet, bytes on the wire.
pub const MAX_PACKET: usize = 1200;
/// The receiver's clock runs this far ahead of the sender's (they never compare clocks).
const REMOTE_CLOCK_OFFSET_US: i64 = 7_777_777_777;

/// splitmix64: a tiny seeded generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One simulated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Link rate changes: (from µs, bit/s); the first at 0.
    pub rates: Vec<(i64, u64)>,
    /// Round-trip time without queueing.
    pub rtt: Duration,
    /// Random loss on the forward path, 0 to 1.
    pub loss: f64,
    /// Drop-tail bound of the link queue, as time at the link rate.
    pub queue_limit: Duration,
    /// Flows and when each starts, µs.
    pub flow_starts: Vec<i64>,
    /// Length of the run, µs.
    pub duration_us: i64,
    pub seed: u64,
    /// The encoder produces at most this from the given time (µs, bit/s): application-limited.
    pub encoder_caps: Vec<(i64, u64)>,
    /// Print every send and estimate in this window of µs to stderr (debugging).
    pub debug: Option<(i64, i64)>,
    pub cc: CcConfig,
    pub pacer: PacerConfig,
}

impl Scenario {
    pub fn new(rate_bps: u64, rtt_ms: u64, loss: f64, duration_s: i64) -> Self {
        let mut cc = CcConfig::default();
        cc.max_bps = 20_000_000;
        Scenario {
            rates: vec![(0, rate_bps)],
            rtt: Duration::from_millis(rtt_ms),
            loss,
            queue_limit: Duration::from_millis(500),
            flow_starts: vec![0],
            duration_us: duration_s * 1_000_000,
            seed: 1,
            encoder_caps: Vec::new(),
            debug: None,
            cc,
            pacer: PacerConfig::default(),
        }
    }

    /// The encoder's cap at `t`, bit/s.
    pub fn encoder_cap_at(&self, t: i64) -> u64 {
        self.encoder_caps
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .map_or(u64::MAX, |c| c.1)
    }

    pub fn capacity_at(&self, t: i64) -> u64 {
        self.rates
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .map_or(0, |r| r.1)
    }
}

#[derive(Debug, Clone, Copy)]
struct Pkt {
    flow: usize,
    seq: u16,
    size: usize,
    media: bool,
    enqueued_us: i64,
}

/// What one flow measured.
#[derive(Debug, Clone, Default)]
pub struct FlowTrace {
    /// (µs, target bit/s) at every change.
    pub targets: Vec<(i64, u64)>,
    /// Media bytes delivered per 100 ms bin (by arrival).
    pub media_bins: Vec<u64>,
    /// (µs at service start, waiting time in the link queue µs) per packet.
    pub link_delays: Vec<(i64, i64)>,
    /// (µs at release, time in the pacer µs) per media packet.
    pub pacer_delays: Vec<(i64, i64)>,
    pub stats: Option<CcStats>,
    pub pacer_stats: Option<PacerStats>,
    /// The estimator's statistics every 100 ms.
    pub samples: Vec<(i64, CcStats)>,
    pub link_drops: u64,
    pub random_losses: u64,
}

/// A transport-wide feedback message: (sequence number, arrival µs on the receiver's clock).
type Report = Vec<(u16, Option<i64>)>;

struct Flow {
    start_us: i64,
    bwe: BandwidthEstimator,
    pacer: Pacer,
    target: u64,
    next_frame_us: i64,
    frame_no: u64,
    queued: HashMap<PacketId, (usize, i64)>,
    next_seq: u16,
    // Receiver side.
    rx_unwrap: SeqUnwrapper,
    rx_arrivals: HashMap<u64, i64>,
    rx_next: Option<u64>,
    rx_highest: Option<u64>,
    next_feedback_us: i64,
    /// (delivery time, report).
    feedback_in_flight: VecDeque<(i64, Report)>,
    next_rtt_us: i64,
    next_sample_us: i64,
    trace: FlowTrace,
}

pub struct Sim {
    sc: Scenario,
    start: Instant,
    now_us: i64,
    rng: Rng,
    flows: Vec<Flow>,
    link: VecDeque<Pkt>,
    link_bytes: usize,
    head_done_us: Option<i64>,
    propagating: VecDeque<(i64, Pkt)>,
}

#[allow(clippy::disallowed_methods)] // the simulation owns the clock
fn origin() -> Instant {
    Instant::now()
}

impl Sim {
    pub fn new(sc: Scenario) -> Self {
        let flows = sc
            .flow_starts
            .iter()
            .map(|&start_us| Flow {
                start_us,
                bwe: BandwidthEstimator::new(sc.cc.clone()).expect("valid config"),
                pacer: Pacer::new(sc.pacer.clone()).expect("valid config"),
                target: sc.cc.start_bps,
                next_frame_us: start_us,
                frame_no: 0,
                queued: HashMap::new(),
                next_seq: 0,
                rx_unwrap: SeqUnwrapper::new(),
                rx_arrivals: HashMap::new(),
                rx_next: None,
                rx_highest: None,
                next_feedback_us: i64::MAX,
                feedback_in_flight: VecDeque::new(),
                next_rtt_us: start_us + RTT_INTERVAL_US,
                next_sample_us: start_us,
                trace: FlowTrace::default(),
            })
            .collect();
        Sim {
            rng: Rng::new(sc.seed),
            sc,
            start: origin(),
            now_us: 0,
            flows,
            link: VecDeque::new(),
            link_bytes: 0,
            head_done_us: None,
            propagating: VecDeque::new(),
        }
    }

    fn at(&self, us: i64) -> Instant {
        self.start + Duration::from_micros(us as u64)
    }

    fn us(&self, i: Instant) -> i64 {
        i.saturating_duration_since(self.start).as_micros() as i64
    }

    fn one_way_us(&self) -> i64 {
        self.sc.rtt.as_micros() as i64 / 2
    }

    fn tx_us(&self, size: usize, t: i64) -> i64 {
        (size as f64 * 8e6 / self.sc.capacity_at(t) as f64).ceil() as i64
    }

    /// Runs to the end; returns each flow's trace.
    pub fn run(mut self) -> Vec<FlowTrace> {
        let bins = (self.sc.duration_us / 100_000 + 1) as usize;
        for f in &mut self.flows {
            f.trace.media_bins = vec![0; bins];
        }
        while self.now_us <= self.sc.duration_us {
            self.step();
            self.now_us = self.next_event().max(self.now_us + 1);
        }
        self.flows
            .into_iter()
            .map(|f| FlowTrace {
                stats: Some(f.bwe.stats()),
                pacer_stats: Some(f.pacer.stats()),
                ..f.trace
            })
            .collect()
    }

    fn next_event(&self) -> i64 {
        let mut next = self.sc.duration_us + 1;
        let mut consider = |t: i64| next = next.min(t);
        for (from, _) in &self.sc.rates {
            if *from > self.now_us {
                consider(*from);
            }
        }
        if let Some(t) = self.head_done_us {
            consider(t);
        }
        if let Some((t, _)) = self.propagating.front() {
            consider(*t);
        }
        for f in &self.flows {
            consider(f.next_frame_us);
            consider(f.next_feedback_us);
            consider(f.next_rtt_us);
            consider(f.next_sample_us);
            if let Some((t, _)) = f.feedback_in_flight.front() {
                consider(*t);
            }
            for i in [f.pacer.poll_timeout(), f.bwe.poll_timeout()]
                .into_iter()
                .flatten()
            {
                consider(self.us(i));
            }
        }
        next
    }

    fn step(&mut self) {
        let t = self.now_us;
        let now = self.at(t);
        // The link: departures, then arrivals at the receivers.
        while let Some(done) = self.head_done_us.filter(|d| *d <= t) {
            let p = self.link.pop_front().expect("a head");
            self.link_bytes -= p.size;
            self.propagating.push_back((done + self.one_way_us(), p));
            self.head_done_us = None;
            if let Some(n) = self.link.front().copied() {
                self.flows[n.flow]
                    .trace
                    .link_delays
                    .push((done, done - n.enqueued_us));
                self.head_done_us = Some(done + self.tx_us(n.size, done));
            }
        }
        while self.propagating.front().is_some_and(|(a, _)| *a <= t) {
            let (arrival, p) = self.propagating.pop_front().expect("checked");
            let f = &mut self.flows[p.flow];
            let ext = f.rx_unwrap.unwrap(p.seq);
            let remote = (arrival + REMOTE_CLOCK_OFFSET_US) / 250 * 250;
            f.rx_arrivals.insert(ext, remote);
            f.rx_next.get_or_insert(ext);
            f.rx_highest = Some(f.rx_highest.map_or(ext, |h| h.max(ext)));
            if f.next_feedback_us == i64::MAX {
                f.next_feedback_us = arrival + FEEDBACK_INTERVAL_US;
            }
            if p.media {
                f.trace.media_bins[(arrival / 100_000) as usize] += p.size as u64;
            }
        }
        let one_way = self.one_way_us();
        let queue_us = (self.link_bytes as f64 * 8e6 / self.sc.capacity_at(t) as f64) as i64;
        for i in 0..self.flows.len() {
            self.flow_step(i, t, now, one_way, queue_us);
        }
    }

    fn flow_step(&mut self, i: usize, t: i64, now: Instant, one_way: i64, queue_us: i64) {
        if t < self.flows[i].start_us {
            return;
        }
        let f = &mut self.flows[i];
        // Receiver: feedback every 50 ms from the first arrival, when something new arrived.
        if f.next_feedback_us <= t {
            if let (Some(from), Some(to)) = (f.rx_next, f.rx_highest) {
                if to >= from {
                    let report: Vec<(u16, Option<i64>)> = (from..=to)
                        .map(|s| (s as u16, f.rx_arrivals.remove(&s)))
                        .collect();
                    f.rx_next = Some(to + 1);
                    f.feedback_in_flight.push_back((t + one_way, report));
                }
            }
            f.next_feedback_us = t + FEEDBACK_INTERVAL_US;
        }
        while f.feedback_in_flight.front().is_some_and(|(a, _)| *a <= t) {
            let (_, report) = f.feedback_in_flight.pop_front().expect("checked");
            f.bwe.on_transport_feedback(now, report);
        }
        if f.next_sample_us <= t {
            f.trace.samples.push((t, f.bwe.stats()));
            f.next_sample_us += 100_000;
        }
        if f.next_rtt_us <= t {
            f.bwe
                .on_rtt(now, Duration::from_micros((2 * one_way + queue_us) as u64));
            f.next_rtt_us = t + RTT_INTERVAL_US;
        }
        // Encoder: frames sized from the target, a keyframe every 3 s.
        let cap = self.sc.encoder_cap_at(t);
        let f = &mut self.flows[i];
        while f.next_frame_us <= t {
            let delta = f.target.min(cap) as f64 / 8.0 * (KEYFRAME_EVERY as f64 / FPS as f64)
                / (KEYFRAME_EVERY as f64 - 1.0 + KEYFRAME_FACTOR);
            let size = if f.frame_no.is_multiple_of(KEYFRAME_EVERY) {
                delta * KEYFRAME_FACTOR
            } else {
                delta
            };
            let size = (size as usize).max(100);
            let n = size.div_ceil(MAX_PACKET);
            for k in 0..n {
                let part = size / n + usize::from(k < size % n);
                let id = f.pacer.enqueue(now, PacketClass::Video, part);
                f.queued.insert(id, (part, t));
            }
            while let Some(id) = f.pacer.poll_dropped() {
                f.queued.remove(&id);
            }
            f.frame_no += 1;
            f.next_frame_us += 1_000_000 / FPS;
        }
        f.bwe.handle_timeout(now);
        self.drain_events(i, t, now);
        // Pacer releases onto the link.
        let debug = self.debugging(t);
        loop {
            let f = &mut self.flows[i];
            let Some(release) = f.pacer.poll_send(now) else {
                break;
            };
            let (size, probe, media) = match release {
                Release::Packet { id, probe, .. } => {
                    let (size, queued_at) = f.queued.remove(&id).expect("queued packet");
                    f.trace.pacer_delays.push((t, t - queued_at));
                    (size, probe, true)
                }
                Release::Padding { size_bytes, probe } => (size_bytes, probe, false),
            };
            let seq = f.next_seq;
            f.next_seq = seq.wrapping_add(1);
            let sent = SentPacket {
                transport_seq: Some(seq),
                size_bytes: size,
                probe_cluster: probe,
                is_padding: !media,
                ..Default::default()
            };
            f.bwe.on_packet_sent(now, sent);
            if debug {
                let (target, queued) = (f.target, f.pacer.queued_packets());
                eprintln!("{t} flow {i} send {seq} {size} B media {media} probe {probe:?} target {target} queued {queued}");
            }
            let p = Pkt {
                flow: i,
                seq,
                size,
                media,
                enqueued_us: t,
            };
            self.link_enqueue(p, t);
            self.drain_events(i, t, now);
        }
    }

    fn drain_events(&mut self, i: usize, t: i64, now: Instant) {
        let debug = self.debugging(t);
        let f = &mut self.flows[i];
        while let Some(e) = f.bwe.poll_event() {
            if debug {
                let s = f.bwe.stats();
                let (delay, acked, state) = (s.delay_based_bps, s.acked_bps, s.delay_state);
                eprintln!(
                    "{t} estimate {} probe {:?} delay-based {delay} acked {acked:?} {state:?}",
                    e.target_bps, e.probe
                );
            }
            f.pacer.set_estimate(now, &e);
            if e.target_bps != f.target || f.trace.targets.is_empty() {
                f.target = e.target_bps;
                f.trace.targets.push((t, e.target_bps));
            }
        }
    }

    fn debugging(&self, t: i64) -> bool {
        self.sc.debug.is_some_and(|(from, to)| (from..to).contains(&t))
    }

    fn link_enqueue(&mut self, p: Pkt, t: i64) {
        if self.rng.unit() < self.sc.loss {
            self.flows[p.flow].trace.random_losses += 1;
            return;
        }
        let limit = self.sc.capacity_at(t) as f64 / 8.0 * self.sc.queue_limit.as_secs_f64();
        if (self.link_bytes + p.size) as f64 > limit {
            self.flows[p.flow].trace.link_drops += 1;
            return;
        }
        if self.link.is_empty() {
            self.head_done_us = Some(t + self.tx_us(p.size, t));
            self.flows[p.flow].trace.link_delays.push((t, 0));
        }
        self.link_bytes += p.size;
        self.link.push_back(p);
    }
}

/// The `q` quantile (0-1) of `values`.
pub fn quantile(values: &mut [i64], q: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let idx = ((values.len() - 1) as f64 * q).round() as usize;
    values[idx]
}

/// Figures of one flow over a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    /// Time from the flow's start until the target first reached 85 % of the capacity, s.
    pub t85_s: Option<f64>,
    /// Media delivered over the window / capacity over the window.
    pub utilisation: f64,
    /// 95th percentile of link queueing delay in the window, ms.
    pub p95_queue_ms: f64,
    /// 95th percentile of time in the pacer in the window, ms.
    pub p95_pacer_ms: f64,
    /// Mean target over the window / capacity.
    pub target_ratio: f64,
}

/// The target at `t`.
pub fn target_at(trace: &FlowTrace, t: i64) -> u64 {
    trace
        .targets
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map_or(0, |x| x.1)
}

/// First time at or after `from` when the target reaches `bps`, µs.
pub fn first_reaching(trace: &FlowTrace, from: i64, bps: f64) -> Option<i64> {
    if target_at(trace, from) as f64 >= bps {
        return Some(from);
    }
    trace
        .targets
        .iter()
        .find(|(t, b)| *t >= from && *b as f64 >= bps)
        .map(|x| x.0)
}

/// Figures over the window [from, to) µs, against capacity `capacity_bps` (constant there).
pub fn figures(sc: &Scenario, trace: &FlowTrace, from: i64, to: i64, share: f64) -> Figures {
    let capacity = sc.capacity_at(from) as f64 * share;
    let t85 = first_reaching(trace, 0, 0.85 * capacity).map(|t| t as f64 / 1e6);
    let bins = &trace.media_bins[(from / 100_000) as usize..(to / 100_000) as usize];
    let bytes: u64 = bins.iter().sum();
    let utilisation = bytes as f64 * 8.0 / ((to - from) as f64 / 1e6) / capacity;
    let in_window = |v: &[(i64, i64)]| -> Vec<i64> {
        v.iter()
            .filter(|(t, _)| (from..to).contains(t))
            .map(|x| x.1)
            .collect()
    };
    let p95_queue_ms = quantile(&mut in_window(&trace.link_delays), 0.95) as f64 / 1000.0;
    let p95_pacer_ms = quantile(&mut in_window(&trace.pacer_delays), 0.95) as f64 / 1000.0;
    let mut sum = 0.0;
    let mut t = from;
    while t < to {
        sum += target_at(trace, t) as f64;
        t += 10_000;
    }
    let target_ratio = sum / ((to - from) / 10_000) as f64 / capacity;
    Figures {
        t85_s: t85,
        utilisation,
        p95_queue_ms,
        p95_pacer_ms,
        target_ratio,
    }
}

/// After a capacity drop at `at`: the time until the link queueing delay, once over `limit_us`,
/// is back under it (0 if it never went over), within 5 s; and the peak.
pub fn recovery_after_drop(trace: &FlowTrace, at: i64, limit_us: i64) -> (Option<f64>, f64) {
    let window: Vec<(i64, i64)> = trace
        .link_delays
        .iter()
        .copied()
        .filter(|(t, _)| (at..at + 5_000_000).contains(t))
        .collect();
    let peak = window.iter().map(|x| x.1).max().unwrap_or(0) as f64 / 1000.0;
    let Some(over) = window.iter().position(|(_, d)| *d > limit_us) else {
        return (Some(0.0), peak);
    };
    let back = window[over..]
        .iter()
        .find(|(_, d)| *d <= limit_us)
        .map(|(t, _)| (t - at) as f64 / 1e6);
    (back, peak)
}
