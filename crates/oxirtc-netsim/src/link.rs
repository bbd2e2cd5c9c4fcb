//! Access links: delay, jitter, loss, duplication, reordering, rate limiting with a tail-drop queue, MTU.
//!
//! Every host has one access link with two independent directions (uplink for what it sends, downlink
//! for what it receives), each with its own state and its own RNG stream forked from the network seed, so
//! traffic on one link never changes the random draws of another.
//!
//! Sizes are UDP payload bytes: IP and UDP headers are not modelled, for MTU or for rate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use oxirtc_crypto::SecureRng;

use crate::NetsimError;

/// How long a reordered packet is held back at least, on top of `delay + jitter`-scaled extra.
const MIN_REORDER_HOLD: Duration = Duration::from_millis(1);

/// The behaviour of one host's access link, applied to every packet it sends and to every packet it
/// receives (a packet between two hosts crosses the sender's link, then the receiver's).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Uniform jitter: each packet's delay is `delay ± jitter` (never below zero). Jitter alone does not
    /// reorder: a link is FIFO, a packet is never delivered before the one sent before it on the link.
    pub jitter: Duration,
    /// Probability in `0..=1` that a packet is lost.
    pub loss: f64,
    /// Probability in `0..=1` that a packet is duplicated (the copy travels independently).
    pub duplicate: f64,
    /// Probability in `0..=1` that a packet is held back by an extra
    /// `1 ms + uniform(0..=2·(delay + jitter))`, outside the FIFO order, so later packets overtake it.
    pub reorder: f64,
    /// Link rate in bits per second: each packet takes `8·len / rate_bps` to serialize, back to back.
    /// `None` is an infinitely fast link.
    pub rate_bps: Option<u64>,
    /// Queue in front of a rate-limited link, in bytes (including the packet being serialized). A packet
    /// that does not fit is dropped (tail drop). Unused without `rate_bps`.
    pub queue_bytes: usize,
    /// Largest payload the link carries; larger packets are dropped.
    pub mtu: usize,
}

impl Default for LinkConfig {
    /// A perfect link: no delay, no loss, no rate cap, MTU 1500, 64 KiB queue.
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            rate_bps: None,
            queue_bytes: 64 * 1024,
            mtu: 1500,
        }
    }
}

impl LinkConfig {
    /// A perfect link with a fixed one-way `delay`.
    pub fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// Checks that probabilities are in `0..=1` and the rate is positive.
    pub fn validate(&self) -> Result<(), NetsimError> {
        for (field, value) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(NetsimError::InvalidProbability { field, value });
            }
        }
        if self.rate_bps == Some(0) {
            return Err(NetsimError::ZeroRate);
        }
        Ok(())
    }
}

/// Why the network dropped a packet; each maps to one [`NetStats`](crate::NetStats) counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    Loss,
    Queue,
    Mtu,
    NoRoute,
    Filtered,
    BadSource,
}

/// What one link direction did with one packet: up to two copies, each arriving or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transit {
    pub(crate) copies: [Option<Result<Instant, DropReason>>; 2],
    pub(crate) duplicated: bool,
}

/// `true` with probability `p`. Draws nothing when `p` is zero, so a perfect link costs no randomness
/// (ChaCha is slow in unoptimized test builds). The draw order per packet is fixed: loss, duplicate, then
/// per copy jitter, reorder, hold; each only when its feature is on.
fn chance(rng: &mut SecureRng, p: f64) -> bool {
    p > 0.0 && f64::from(rng.u32()) / 4_294_967_296.0 < p
}

/// Uniform in `0..=max`, drawing nothing when `max` is zero.
fn uniform(rng: &mut SecureRng, max: Duration) -> Duration {
    if max.is_zero() {
        Duration::ZERO
    } else {
        nanos_upto(rng.u64(), max)
    }
}

/// `draw % (max + 1)` nanoseconds: uniform in `0..=max` (the modulo bias is below 2^-30 for any
/// realistic duration).
fn nanos_upto(draw: u64, max: Duration) -> Duration {
    let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX / 2);
    Duration::from_nanos(draw % (max + 1))
}

/// Time to put `len` bytes on a wire of `rate_bps`, rounded up to the nanosecond.
pub(crate) fn serialization_time(len: usize, rate_bps: u64) -> Duration {
    let bits = len as u128 * 8;
    let nanos = (bits * 1_000_000_000).div_ceil(u128::from(rate_bps));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The state of one direction of one access link.
#[derive(Debug, Clone)]
pub(crate) struct LinkDirection {
    rng: SecureRng,
    /// When the serializer finishes the last queued packet.
    busy_until: Option<Instant>,
    /// Packets in the queue (finish time, bytes), oldest first.
    queue: VecDeque<(Instant, usize)>,
    queued_bytes: usize,
    /// Arrival time of the last in-order packet: later in-order packets never arrive before it (FIFO).
    last_arrival: Option<Instant>,
}

impl LinkDirection {
    pub(crate) fn new(rng: SecureRng) -> Self {
        Self {
            rng,
            busy_until: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            last_arrival: None,
        }
    }

    /// Pushes a packet of `len` bytes entering the link at `at` through it.
    pub(crate) fn transit(&mut self, config: &LinkConfig, at: Instant, len: usize) -> Transit {
        let mut out = Transit {
            copies: [None, None],
            duplicated: false,
        };
        if len > config.mtu {
            out.copies[0] = Some(Err(DropReason::Mtu));
            return out;
        }
        if chance(&mut self.rng, config.loss) {
            out.copies[0] = Some(Err(DropReason::Loss));
            return out;
        }
        out.duplicated = chance(&mut self.rng, config.duplicate);
        let count = if out.duplicated { 2 } else { 1 };
        for slot in out.copies.iter_mut().take(count) {
            *slot = Some(self.one_copy(config, at, len));
        }
        out
    }

    fn one_copy(&mut self, config: &LinkConfig, at: Instant, len: usize) -> Result<Instant, DropReason> {
        let departure = match config.rate_bps {
            Some(rate) => self.enqueue(config, at, len, rate)?,
            None => at,
        };
        // Uniform in delay ± jitter, clamped at zero.
        let offset = uniform(&mut self.rng, config.jitter * 2);
        let latency = (config.delay + offset).saturating_sub(config.jitter);
        let arrival = departure + latency;
        if chance(&mut self.rng, config.reorder) {
            // Held back outside the FIFO order: packets behind it overtake it.
            let hold = MIN_REORDER_HOLD + uniform(&mut self.rng, (config.delay + config.jitter) * 2);
            return Ok(arrival + hold);
        }
        let arrival = self.last_arrival.map_or(arrival, |last| arrival.max(last));
        self.last_arrival = Some(arrival);
        Ok(arrival)
    }

    /// Rate limiting: a byte-bounded FIFO queue drained at `rate` bits per second, tail drop when full.
    /// Returns when the packet has been serialized.
    fn enqueue(
        &mut self,
        config: &LinkConfig,
        at: Instant,
        len: usize,
        rate: u64,
    ) -> Result<Instant, DropReason> {
        while let Some(&(finish, bytes)) = self.queue.front() {
            if finish > at {
                break;
            }
            self.queue.pop_front();
            self.queued_bytes -= bytes;
        }
        if self.queued_bytes + len > config.queue_bytes {
            return Err(DropReason::Queue);
        }
        let start = self.busy_until.map_or(at, |busy| busy.max(at));
        let finish = start + serialization_time(len, rate);
        self.busy_until = Some(finish);
        self.queue.push_back((finish, len));
        self.queued_bytes += len;
        Ok(finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    fn dir(seed: u8) -> LinkDirection {
        LinkDirection::new(SecureRng::from_seed([seed; 32]))
    }

    fn arrival(t: Transit) -> Instant {
        t.copies[0].expect("one copy").expect("arrives")
    }

    #[test]
    fn serialization_time_rounds_up() {
        assert_eq!(serialization_time(125, 1_000_000), Duration::from_millis(1));
        assert_eq!(serialization_time(1, 3), Duration::from_nanos(2_666_666_667));
    }

    #[test]
    fn validate_rejects_bad_probabilities_and_zero_rate() {
        assert!(LinkConfig::default().validate().is_ok());
        let bad = LinkConfig {
            loss: 1.5,
            ..LinkConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(NetsimError::InvalidProbability { field: "loss", .. })
        ));
        let nan = LinkConfig {
            reorder: f64::NAN,
            ..LinkConfig::default()
        };
        assert!(nan.validate().is_err());
        let zero = LinkConfig {
            rate_bps: Some(0),
            ..LinkConfig::default()
        };
        assert_eq!(zero.validate(), Err(NetsimError::ZeroRate));
    }

    #[test]
    fn jitter_is_fifo_without_reorder() {
        let t0 = start();
        let cfg = LinkConfig {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(40),
            ..LinkConfig::default()
        };
        let mut d = dir(1);
        let mut last = t0;
        for i in 0..1000u64 {
            let at = t0 + Duration::from_micros(100 * i);
            let a = arrival(d.transit(&cfg, at, 100));
            assert!(a >= last, "packet {i} overtook");
            assert!(a >= at + Duration::from_millis(10) && a <= at + Duration::from_millis(90));
            last = a;
        }
    }

    #[test]
    fn queue_full_tail_drops() {
        let t0 = start();
        let cfg = LinkConfig {
            rate_bps: Some(8_000),
            queue_bytes: 300,
            ..LinkConfig::default()
        };
        let mut d = dir(2);
        let fates: Vec<_> = (0..4).map(|_| d.transit(&cfg, t0, 100).copies[0]).collect();
        assert_eq!(fates[0], Some(Ok(t0 + Duration::from_millis(100))));
        assert_eq!(fates[2], Some(Ok(t0 + Duration::from_millis(300))));
        assert_eq!(fates[3], Some(Err(DropReason::Queue)));
        // Once the first has left, there is room again, behind the others.
        let later = d.transit(&cfg, t0 + Duration::from_millis(100), 100).copies[0];
        assert_eq!(later, Some(Ok(t0 + Duration::from_millis(400))));
    }

    #[test]
    fn mtu_checked_before_loss() {
        let cfg = LinkConfig {
            mtu: 10,
            loss: 1.0,
            ..LinkConfig::default()
        };
        let mut d = dir(3);
        assert_eq!(d.transit(&cfg, start(), 11).copies[0], Some(Err(DropReason::Mtu)));
        assert_eq!(
            d.transit(&cfg, start(), 10).copies[0],
            Some(Err(DropReason::Loss))
        );
    }
}
