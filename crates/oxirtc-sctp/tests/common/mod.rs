//! A two-association simulator on a virtual clock: a seeded lossy, jittery link in each direction
//! (delay ± jitter reorders packets), hooks to drop or rewrite chosen packets, and event logs.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed set-up should panic loudly

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use oxirtc_crypto::SecureRng;
use oxirtc_sctp::{Association, SctpConfig, SctpEvent};

/// One direction of the link.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub delay: Duration,
    pub jitter: Duration,
    /// Loss probability in 1/1000.
    pub loss_permille: u64,
}

impl Link {
    pub fn perfect(delay_ms: u64) -> Self {
        Self {
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::ZERO,
            loss_permille: 0,
        }
    }
    /// 5 % loss, 40 ms ± 10 ms: packets reorder whenever they are sent less than 20 ms apart.
    pub fn lossy() -> Self {
        Self {
            delay: Duration::from_millis(40),
            jitter: Duration::from_millis(10),
            loss_permille: 50,
        }
    }
}

/// Which side a packet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    A,
    B,
}

/// A hook that sees every packet (side it came from, bytes) and decides: `None` drops it.
pub type Filter = Box<dyn FnMut(Side, Instant, Vec<u8>) -> Option<Vec<u8>>>;

/// A packet on the wire: arrival time, sequence (FIFO among equal times), sender, bytes.
type Arrival = (Instant, u64, Side, Vec<u8>);

pub struct Sim {
    pub now: Instant,
    pub start: Instant,
    pub a: Association,
    pub b: Association,
    pub a_to_b: Link,
    pub b_to_a: Link,
    pub events_a: Vec<(Instant, SctpEvent)>,
    pub events_b: Vec<(Instant, SctpEvent)>,
    /// When false, side B's events are not polled (a peer that never reads).
    pub poll_b: bool,
    /// Events of B a test chose to count and discard.
    pub poll_b_count: u64,
    pub filter: Option<Filter>,
    /// Every packet put on the wire: (time, side, bytes).
    pub sent_log: Vec<(Instant, Side, Vec<u8>)>,
    pub log_packets: bool,
    /// Largest packet an association may emit (asserted in `pump`); PLPMTUD tests raise it.
    pub max_packet: usize,
    rng: SecureRng,
    seq: u64,
    in_flight: BinaryHeap<Reverse<Arrival>>,
}

#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn start_time() -> Instant {
    Instant::now()
}

impl Sim {
    pub fn new(seed: u8, ca: SctpConfig, cb: SctpConfig, a_to_b: Link, b_to_a: Link) -> Self {
        let now = start_time();
        Self {
            now,
            start: now,
            a: Association::new(ca, SecureRng::from_seed([seed; 32]), now),
            b: Association::new(cb, SecureRng::from_seed([seed.wrapping_add(100); 32]), now),
            a_to_b,
            b_to_a,
            events_a: Vec::new(),
            events_b: Vec::new(),
            poll_b: true,
            poll_b_count: 0,
            filter: None,
            sent_log: Vec::new(),
            log_packets: false,
            max_packet: 1200,
            rng: SecureRng::from_seed([seed.wrapping_add(200); 32]),
            seq: 0,
            in_flight: BinaryHeap::new(),
        }
    }

    pub fn default_pair(seed: u8, link: Link) -> Self {
        Self::new(seed, SctpConfig::default(), SctpConfig::default(), link, link)
    }

    pub fn assoc(&mut self, side: Side) -> &mut Association {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Moves packets out of both associations onto the link and drains events.
    pub fn pump(&mut self) {
        for side in [Side::A, Side::B] {
            while let Some(p) = {
                let now = self.now;
                self.assoc(side).poll_transmit(now)
            } {
                assert!(p.len() <= self.max_packet, "packet of {} bytes", p.len());
                self.put_on_wire(side, p);
            }
        }
        while let Some(e) = self.a.poll_event() {
            self.events_a.push((self.now, e));
        }
        if self.poll_b {
            while let Some(e) = self.b.poll_event() {
                self.events_b.push((self.now, e));
            }
        }
    }

    fn put_on_wire(&mut self, side: Side, p: Vec<u8>) {
        if self.log_packets {
            self.sent_log.push((self.now, side, p.clone()));
        }
        let p = match self.filter.as_mut() {
            Some(f) => match f(side, self.now, p) {
                Some(p) => p,
                None => return,
            },
            None => p,
        };
        let link = if side == Side::A { self.a_to_b } else { self.b_to_a };
        if self.rng.below(1000) < link.loss_permille {
            return;
        }
        let jitter = link.jitter.as_micros() as u64;
        let delay = if jitter == 0 {
            link.delay
        } else {
            let j = self.rng.below(2 * jitter + 1);
            link.delay + Duration::from_micros(j) - link.jitter
        };
        self.seq += 1;
        self.in_flight
            .push(Reverse((self.now + delay, self.seq, side, p)));
    }

    /// Advances to the next packet arrival or timer and processes it. False when nothing is pending.
    pub fn step(&mut self) -> bool {
        self.pump();
        let next_packet = self.in_flight.peek().map(|Reverse((t, ..))| *t);
        let next = [next_packet, self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else { return false };
        self.now = self.now.max(next);
        while self
            .in_flight
            .peek()
            .is_some_and(|Reverse((t, ..))| *t <= self.now)
        {
            let Reverse((_, _, from, p)) = self.in_flight.pop().unwrap();
            let now = self.now;
            match from {
                Side::A => self.b.handle_receive(now, &p),
                Side::B => self.a.handle_receive(now, &p),
            }
        }
        let now = self.now;
        self.a.handle_timeout(now);
        self.b.handle_timeout(now);
        self.pump();
        true
    }

    /// Runs until `done` or `limit` of virtual time passed; returns whether `done` became true.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Sim) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            if self.now >= end || !self.step() {
                return done(self);
            }
        }
    }

    pub fn connect_both(&mut self) {
        let now = self.now;
        self.a.connect(now);
        self.b.connect(now);
        assert!(
            self.run_until(Duration::from_secs(30), |s| s.a.is_established()
                && s.b.is_established()),
            "handshake did not finish"
        );
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Messages side B (or A) received, in order.
    pub fn messages(events: &[(Instant, SctpEvent)]) -> Vec<(u16, u32, Vec<u8>)> {
        events
            .iter()
            .filter_map(|(_, e)| match e {
                SctpEvent::Message {
                    stream, ppid, data, ..
                } => Some((stream.0, ppid.0, data.clone())),
                _ => None,
            })
            .collect()
    }

    /// Number of messages received, without copying them.
    pub fn count(events: &[(Instant, SctpEvent)]) -> usize {
        events
            .iter()
            .filter(|(_, e)| matches!(e, SctpEvent::Message { .. }))
            .count()
    }

    /// Whether a message with exactly `data` arrived.
    pub fn has_message(events: &[(Instant, SctpEvent)], want: &[u8]) -> bool {
        events
            .iter()
            .any(|(_, e)| matches!(e, SctpEvent::Message { data, .. } if data == want))
    }

    pub fn has_event(events: &[(Instant, SctpEvent)], f: impl Fn(&SctpEvent) -> bool) -> bool {
        events.iter().any(|(_, e)| f(e))
    }
}

/// Deterministic payload for message `i` of `len` bytes.
pub fn payload(i: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (i.wrapping_mul(31).wrapping_add(j as u64 * 7) % 251) as u8)
        .collect()
}

/// Rewrites a packet in place and fixes its CRC32c.
pub fn rewrite(p: &mut [u8], f: impl FnOnce(&mut [u8])) {
    f(p);
    oxirtc_sctp::write_checksum(p);
}

/// Chunk types in a packet (empty when it does not parse).
pub fn chunk_types(p: &[u8]) -> Vec<u8> {
    oxirtc_sctp::Packet::parse(p)
        .map(|p| p.chunks.iter().map(|c| c.chunk_type()).collect())
        .unwrap_or_default()
}
