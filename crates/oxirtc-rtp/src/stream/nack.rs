//! The receiver's side of generic NACK (RFC 4585 §6.2.1, RFC 4588 §6.3): which sequence numbers are
//! missing, when to ask for them, and when to stop asking.
//!
//! A gap in the sequence numbers adds each missing one to a list bounded by
//! [`NackConfig::max_missing`]. A missing packet is first requested once the reordering allowance
//! has passed: [`NackConfig::reorder_delay`] after the gap was seen, or sooner, once
//! [`NackConfig::reorder_packets`] packets newer than it have arrived (the one that showed the gap
//! counts), as RFC 4588 §6.3 suggests both. It is requested again every round-trip time (at least
//! [`NackConfig::min_retry_interval`]), at most [`NackConfig::max_nacks`] times, and given up when
//! still missing [`NackConfig::max_age`] after the gap was seen. When a gap would overflow the list
//! (a burst too long to repair, or a jump in the sequence numbers), the list is cleared and a
//! keyframe is asked for instead ([`NackGenerator::take_keyframe_request`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::packet::seq::SeqExtender;

/// Bounds and timing of a [`NackGenerator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackConfig {
    /// Missing packets tracked at most. Default 1000: at 1000 packets/s (about 10 Mbit/s of
    /// video) that is one second of loss, which NACK could not repair in time anyway.
    pub max_missing: usize,
    /// How long a gap may be a reordering before the first NACK. Default 10 ms: reordering on
    /// the Internet is mostly within a few milliseconds, and a NACK sent this late still leaves
    /// time for the retransmission.
    pub reorder_delay: Duration,
    /// Packets newer than a missing one, counting the one that showed the gap, after which it is
    /// taken as lost without waiting for `reorder_delay`. Default 2: one more packet after the gap.
    /// 0 acts as 1.
    pub reorder_packets: u32,
    /// Smallest spacing of the requests for one packet, whatever the round-trip time. Default 20 ms.
    pub min_retry_interval: Duration,
    /// Requests per missing packet at most. Default 10.
    pub max_nacks: u32,
    /// A packet still missing this long after its gap was seen is given up. Default 1 s: a
    /// real-time receiver's jitter buffer has moved on by then.
    pub max_age: Duration,
}

impl Default for NackConfig {
    fn default() -> Self {
        Self {
            max_missing: 1000,
            reorder_delay: Duration::from_millis(10),
            reorder_packets: 2,
            min_retry_interval: Duration::from_millis(20),
            max_nacks: 10,
            max_age: Duration::from_secs(1),
        }
    }
}

/// Counters of a [`NackGenerator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NackStats {
    /// Sequence numbers requested, each repeat counted.
    pub requested: u64,
    /// Missing packets that arrived after being requested (repaired by a retransmission, or late).
    pub recovered: u64,
    /// Missing packets that arrived before being requested: reordered, not lost.
    pub reordered: u64,
    /// Missing packets given up: requested `max_nacks` times, or older than `max_age`.
    pub given_up: u64,
    /// Times a gap overflowed the list: everything missing was forgotten and a keyframe asked for.
    pub overflows: u64,
}

/// One missing packet.
#[derive(Debug, Clone, Copy)]
struct Missing {
    ext: u64,
    detected_at: Instant,
    /// `newer_arrivals` before the packet that showed the gap.
    arrivals_before: u64,
    /// When it is next due: for its first request, or for the next retry.
    due: Instant,
    nacks: u32,
}

/// Tracks one received SSRC's missing packets and says which to NACK when. See the module docs.
///
/// Drive it as every oxirtc machine: [`on_packet`](Self::on_packet) for every packet received
/// (retransmissions too, by their original sequence number), then
/// [`poll_nacks`](Self::poll_nacks) and [`take_keyframe_request`](Self::take_keyframe_request);
/// call `poll_nacks` again at [`poll_timeout`](Self::poll_timeout).
#[derive(Debug, Clone)]
pub struct NackGenerator {
    config: NackConfig,
    seqs: SeqExtender,
    /// Missing packets in increasing extended sequence number.
    missing: VecDeque<Missing>,
    /// Packets received that were the newest so far.
    newer_arrivals: u64,
    keyframe_needed: bool,
    /// The list `poll_nacks` hands out, reused.
    out: Vec<u16>,
    stats: NackStats,
}

impl NackGenerator {
    /// A generator that has seen no packet.
    ///
    /// # Panics
    /// If `config.max_missing` is 0 or above 32 768 (half the sequence number space), a local
    /// misuse.
    pub fn new(config: NackConfig) -> Self {
        assert!(
            (1..=32_768).contains(&config.max_missing),
            "NackConfig::max_missing must be 1..=32768"
        );
        Self {
            config,
            seqs: SeqExtender::new(),
            missing: VecDeque::with_capacity(config.max_missing),
            newer_arrivals: 0,
            keyframe_needed: false,
            out: Vec::with_capacity(config.max_missing),
            stats: NackStats::default(),
        }
    }

    /// Takes the sequence number of a packet received at `now`, in any order, duplicates and
    /// retransmissions (by their original sequence number) included.
    pub fn on_packet(&mut self, now: Instant, seq: u16) {
        let previous = self.seqs.highest();
        let ext = self.seqs.extend(seq);
        let Some(previous) = previous else {
            return; // the first packet: nothing before it is known to be missing
        };
        if ext > previous {
            self.on_newest(now, previous, ext);
        } else if let Ok(i) = self.missing.binary_search_by_key(&ext, |m| m.ext) {
            if let Some(m) = self.missing.remove(i) {
                if m.nacks > 0 {
                    self.stats.recovered += 1;
                } else {
                    self.stats.reordered += 1;
                }
            }
        }
        // Otherwise a duplicate, or older than anything tracked: nothing to do.
    }

    /// The sequence numbers to NACK now, oldest first, given the current round-trip time; `None`
    /// when nothing is due. Drops what is given up. Write them with
    /// [`Nack::write`](crate::rtcp::Nack::write), split into several packets if they are many.
    #[must_use]
    pub fn poll_nacks(&mut self, now: Instant, rtt: Duration) -> Option<&[u16]> {
        let config = self.config;
        let before = self.missing.len();
        self.missing.retain(|m| {
            let expired = now.saturating_duration_since(m.detected_at) >= config.max_age;
            let exhausted = m.due <= now && m.nacks >= config.max_nacks;
            !(expired || exhausted)
        });
        self.stats.given_up += (before - self.missing.len()) as u64;
        let retry = rtt.max(config.min_retry_interval);
        self.out.clear();
        for m in self.missing.iter_mut().filter(|m| m.due <= now) {
            // RFC 4585 §6.2.1: PID is the 16-bit sequence number; the truncation is the point.
            self.out.push(m.ext as u16);
            m.nacks += 1;
            m.due = now + retry;
        }
        self.stats.requested += self.out.len() as u64;
        (!self.out.is_empty()).then_some(&self.out[..])
    }

    /// When [`poll_nacks`](Self::poll_nacks) next has something to do; `None` when nothing is
    /// missing.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.missing.iter().map(|m| m.due).min()
    }

    /// Whether a keyframe should be asked for (PLI, RFC 4585 §6.3.1; or FIR) because losses were
    /// too many to NACK; reading it clears it.
    #[must_use]
    pub fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_needed)
    }

    /// Missing packets tracked now.
    pub fn missing(&self) -> usize {
        self.missing.len()
    }

    /// The counters.
    pub fn stats(&self) -> NackStats {
        self.stats
    }

    /// A packet newer than all before: records the gap before it, and lets the packets it makes
    /// `reorder_packets` old be requested now.
    fn on_newest(&mut self, now: Instant, previous: u64, ext: u64) {
        let arrivals_before = self.newer_arrivals;
        self.newer_arrivals += 1;
        let gap = ext - previous - 1;
        if gap > 0 {
            if self.missing.len() as u64 + gap > self.config.max_missing as u64 {
                tracing::debug!(
                    gap,
                    missing = self.missing.len(),
                    "NACK list overflow: keyframe needed"
                );
                self.missing.clear();
                self.stats.overflows += 1;
                self.keyframe_needed = true;
            } else {
                let due = now + self.config.reorder_delay;
                self.missing.extend((previous + 1..ext).map(|ext| Missing {
                    ext,
                    detected_at: now,
                    arrivals_before,
                    due,
                    nacks: 0,
                }));
            }
        }
        let threshold = u64::from(self.config.reorder_packets.max(1));
        for m in self.missing.iter_mut().rev() {
            let newer = self.newer_arrivals - m.arrivals_before;
            if newer > threshold {
                break; // this one and all older ones reached the threshold before
            }
            if newer == threshold && m.nacks == 0 {
                m.due = m.due.min(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_clock::t0;

    const MS: Duration = Duration::from_millis(1);
    const RTT: Duration = Duration::from_millis(50);

    fn nacks(g: &mut NackGenerator, now: Instant, rtt: Duration) -> Vec<u16> {
        g.poll_nacks(now, rtt).map(<[u16]>::to_vec).unwrap_or_default()
    }

    #[test]
    fn first_nack_after_the_reorder_delay() {
        let t0 = t0();
        let mut g = NackGenerator::new(NackConfig::default());
        g.on_packet(t0, 100);
        g.on_packet(t0, 102); // 101 missing, one newer packet: wait for the delay
        assert_eq!(g.poll_timeout(), Some(t0 + 10 * MS));
        assert_eq!(nacks(&mut g, t0 + 9 * MS, RTT), []);
        assert_eq!(nacks(&mut g, t0 + 10 * MS, RTT), [101]);
        // The retry is one RTT later.
        assert_eq!(g.poll_timeout(), Some(t0 + 10 * MS + RTT));
    }

    #[test]
    fn second_newer_packet_makes_it_due_at_once() {
        let t0 = t0();
        let mut g = NackGenerator::new(NackConfig::default());
        g.on_packet(t0, 100);
        g.on_packet(t0, 102);
        g.on_packet(t0 + 2 * MS, 103);
        assert_eq!(g.poll_timeout(), Some(t0 + 2 * MS));
        assert_eq!(nacks(&mut g, t0 + 2 * MS, RTT), [101]);
    }

    #[test]
    fn reordered_packet_is_never_nacked() {
        let t0 = t0();
        let mut g = NackGenerator::new(NackConfig::default());
        g.on_packet(t0, 65535);
        g.on_packet(t0, 1); // 0 missing, across the wrap
        g.on_packet(t0 + 3 * MS, 0);
        assert_eq!((g.missing(), g.poll_timeout()), (0, None));
        assert_eq!(nacks(&mut g, t0 + 20 * MS, RTT), []);
        assert_eq!(g.stats().reordered, 1);
    }

    #[test]
    fn retries_spaced_by_rtt_then_given_up_after_the_limit() {
        let t0 = t0();
        let config = NackConfig {
            max_nacks: 3,
            ..Default::default()
        };
        let mut g = NackGenerator::new(config);
        g.on_packet(t0, 10);
        g.on_packet(t0, 13); // 11 and 12 missing
        let first = t0 + 10 * MS;
        assert_eq!(nacks(&mut g, first, RTT), [11, 12]);
        // Not before one RTT.
        assert_eq!(nacks(&mut g, first + RTT - MS, RTT), []);
        assert_eq!(nacks(&mut g, first + RTT, RTT), [11, 12]);
        // 12 arrives (repaired): only 11 is retried.
        g.on_packet(first + RTT + MS, 12);
        // A tiny RTT is raised to the 20 ms minimum.
        assert_eq!(g.poll_timeout(), Some(first + 2 * RTT));
        assert_eq!(nacks(&mut g, first + 2 * RTT, MS), [11]);
        assert_eq!(g.poll_timeout(), Some(first + 2 * RTT + 20 * MS));
        // Three requests made. The last one's retransmission still has until the next due time
        // to come: a poll before then keeps waiting.
        assert_eq!(nacks(&mut g, first + 2 * RTT + 10 * MS, RTT), []);
        assert_eq!(g.missing(), 1);
        // At the next due time it is given up, not requested.
        assert_eq!(nacks(&mut g, first + 2 * RTT + 20 * MS, RTT), []);
        assert_eq!((g.missing(), g.poll_timeout()), (0, None));
        let s = g.stats();
        assert_eq!((s.requested, s.recovered, s.given_up), (5, 1, 1));
    }

    #[test]
    fn given_up_after_the_maximum_age() {
        let t0 = t0();
        let mut g = NackGenerator::new(NackConfig::default());
        g.on_packet(t0, 1);
        g.on_packet(t0, 3);
        let rtt = Duration::from_millis(400);
        assert_eq!(nacks(&mut g, t0 + 10 * MS, rtt), [2]);
        assert_eq!(nacks(&mut g, t0 + 410 * MS, rtt), [2]);
        assert_eq!(nacks(&mut g, t0 + 810 * MS, rtt), [2]);
        // The next retry would be at 1210 ms, past the 1 s age: given up there.
        assert_eq!(nacks(&mut g, t0 + 1_210 * MS, rtt), []);
        assert_eq!(g.stats().given_up, 1);
        // It arriving now changes nothing: it is no longer tracked.
        g.on_packet(t0 + 1_300 * MS, 2);
        assert_eq!(g.stats().recovered, 0);
    }

    #[test]
    fn overflow_clears_the_list_and_asks_for_a_keyframe() {
        let t0 = t0();
        let config = NackConfig {
            max_missing: 10,
            ..Default::default()
        };
        let mut g = NackGenerator::new(config);
        g.on_packet(t0, 0);
        g.on_packet(t0, 7); // 6 missing
        assert!(!g.take_keyframe_request());
        g.on_packet(t0, 12); // 4 more: 10, at the bound
        assert_eq!(g.missing(), 10);
        g.on_packet(t0, 14); // one more would be 11
        assert_eq!(g.missing(), 0);
        assert!(g.take_keyframe_request());
        assert!(!g.take_keyframe_request(), "reading clears it");
        // A jump of 30 000 is an overflow at once, whatever the list holds.
        g.on_packet(t0, 30_014);
        assert!(g.take_keyframe_request());
        assert_eq!((g.missing(), g.stats().overflows), (0, 2));
        // Tracking goes on after.
        g.on_packet(t0, 30_016);
        assert_eq!(nacks(&mut g, t0 + 10 * MS, RTT), [30_015]);
    }
}
