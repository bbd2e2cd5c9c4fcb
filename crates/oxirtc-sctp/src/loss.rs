//! Time-based loss detection (RACK) and tail loss probes (TLP), RFC 8985, adapted to SCTP: sequence
//! ranges are TSNs, selective acknowledgements are SACK gap blocks (RFC 9260 §3.3.4), and D-SACK
//! (RFC 2883) is the SACK's list of duplicate TSNs.
//!
//! A chunk is lost when a chunk sent after it was delivered and more than `RACK.rtt + reo_wnd` has
//! passed since it was sent (RFC 8985 §6.2 step 5). Unlike RFC 9260 §7.2.4's three miss indications,
//! this tolerates reordering shorter than the reordering window, and it also finds lost
//! retransmissions, which §7.2.4 leaves to the T3 timer. The window is a quarter of the minimum RTT,
//! widened each round trip in which the peer reports a duplicate TSN (our retransmission was
//! spurious) and capped at the smoothed RTT.
//!
//! A loss probe (RFC 8985 §7) fires when nothing has been acknowledged for about two smoothed RTTs
//! while data is outstanding: one packet goes out regardless of cwnd, so a lost tail is found by the
//! probe's SACK after a PTO instead of by T3 after an RTO (≥ RTO.Min).

use std::time::{Duration, Instant};

/// RFC 8985 §6.2 step 4: recoveries without D-SACK before the window multiplier falls back to 1.
const REO_WND_PERSIST: u8 = 16;
/// Cap on the reordering window multiplier; the window is capped at SRTT anyway.
const MAX_REO_WND_MULT: u32 = 64;
/// RFC 8985 §7.2: WCDelAckT, the worst-case delayed-ACK time for a lone outstanding packet
/// (RFC 9260 §6.2's SACK delay is at most 200 ms by default).
const WC_DEL_ACK: Duration = Duration::from_millis(200);
/// RFC 8985 §7.2: extra allowance on the PTO when more than one packet is outstanding.
const PTO_SLACK: Duration = Duration::from_millis(2);

/// RACK and TLP state of the single path.
#[derive(Debug, Clone)]
pub(crate) struct Rack {
    /// RACK.xmit_ts: send time of the most recently sent chunk known delivered.
    xmit_ts: Option<Instant>,
    /// Its transmission sequence number: transmissions are ordered by a counter, not by time, so
    /// chunks sent at the same instant still have an order (RACK.end_seq's tie-break role).
    xmit_seq: u64,
    /// RACK.rtt: the RTT of that chunk.
    rtt: Duration,
    /// RACK.min_RTT.
    min_rtt: Option<Duration>,
    /// The smoothed RTT (RFC 9260 §6.3.1), given by the association before each SACK.
    pub(crate) srtt: Option<Duration>,
    /// RACK.fack: highest TSN delivered before the SACK being processed.
    fack: u64,
    /// Highest TSN delivered by the SACK being processed (becomes `fack` at its end).
    fack_next: u64,
    /// RACK.reordering_seen.
    pub(crate) reordering_seen: bool,
    /// RACK.reo_wnd_mult.
    reo_wnd_mult: u32,
    /// RACK.reo_wnd_persist.
    reo_wnd_persist: u8,
    /// RACK.dsack_round: the multiplier grows at most once until the cum ack passes this TSN.
    dsack_round: Option<u64>,
    /// The reordering timer's deadline (RFC 8985 §6.3), when armed.
    pub(crate) reo_deadline: Option<Instant>,
    /// TLP.end_seq: a probe episode is running until the cum ack passes this TSN (RFC 8985 §7.3).
    pub(crate) tlp_end: Option<u64>,
    /// The probe was a retransmission of this TSN; if the peer never reports it duplicate, the probe
    /// repaired a real loss (RFC 8985 §7.4).
    pub(crate) tlp_rtx: Option<u64>,
}

impl Rack {
    pub(crate) fn new(first_tsn: u64) -> Self {
        Self {
            xmit_ts: None,
            xmit_seq: 0,
            rtt: Duration::ZERO,
            min_rtt: None,
            srtt: None,
            fack: first_tsn,
            fack_next: first_tsn,
            reordering_seen: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
            dsack_round: None,
            reo_deadline: None,
            tlp_end: None,
            tlp_rtx: None,
        }
    }

    /// RFC 8985 §6.2 steps 1–3 for one newly delivered chunk (cumulatively or by a gap block), `seq`
    /// being the number of its last transmission.
    pub(crate) fn on_delivered(
        &mut self,
        now: Instant,
        tsn: u64,
        seq: u64,
        sent_at: Instant,
        retransmitted: bool,
    ) {
        let rtt = now.saturating_duration_since(sent_at);
        // Step 2: a retransmitted chunk acked sooner than min_RTT was the original's ack; skip it.
        if retransmitted && self.min_rtt.is_some_and(|m| rtt < m) {
            return;
        }
        if !retransmitted {
            // Step 1.
            self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
            // Step 3: a never-retransmitted chunk below the highest delivered TSN was reordered.
            if tsn < self.fack {
                self.reordering_seen = true;
            }
        }
        self.fack_next = self.fack_next.max(tsn);
        if self.xmit_ts.is_none() || seq > self.xmit_seq {
            self.xmit_ts = Some(sent_at);
            self.xmit_seq = seq;
            self.rtt = rtt;
        }
    }

    /// Ends the processing of one SACK: RACK.fack takes the highest TSN it delivered.
    pub(crate) fn end_sack(&mut self) {
        self.fack = self.fack.max(self.fack_next);
    }

    /// RFC 8985 §6.2 step 4, D-SACK half: the peer reported duplicate TSNs, so we retransmitted
    /// something it had; widen the window, at most once per round trip.
    pub(crate) fn on_duplicates_reported(&mut self, cum_ack: u64, highest_sent: u64) {
        if self.dsack_round.is_some_and(|r| cum_ack <= r) {
            return;
        }
        self.reo_wnd_mult = (self.reo_wnd_mult + 1).min(MAX_REO_WND_MULT);
        self.dsack_round = Some(highest_sent);
        self.reo_wnd_persist = REO_WND_PERSIST;
        self.reordering_seen = true;
    }

    /// RFC 8985 §6.2 step 4: a loss recovery starts; after 16 without D-SACK the multiplier resets.
    pub(crate) fn on_recovery(&mut self) {
        if self.reo_wnd_persist > 0 {
            self.reo_wnd_persist -= 1;
            if self.reo_wnd_persist == 0 {
                self.reo_wnd_mult = 1;
            }
        }
    }

    /// RFC 8985 §6.2 step 4: RACK.reo_wnd. Without reordering seen, no wait once in recovery or once
    /// three chunks above a hole are acked (the RFC 9260 §7.2.4 / DupThresh case).
    pub(crate) fn reo_wnd(&self, in_recovery: bool, gap_acked: usize) -> Duration {
        if !self.reordering_seen && (in_recovery || gap_acked >= 3) {
            return Duration::ZERO;
        }
        let Some(min_rtt) = self.min_rtt else {
            return Duration::ZERO;
        };
        let wnd = min_rtt / 4 * self.reo_wnd_mult;
        self.srtt.map_or(wnd, |s| wnd.min(s))
    }

    /// RFC 8985 §6.2 step 5 for one outstanding chunk: `Some(Duration::ZERO)` when it is lost,
    /// `Some(wait)` when it will be lost after `wait` unless acked, `None` when it was sent after the
    /// most recently delivered chunk (no evidence yet).
    pub(crate) fn check(
        &self,
        now: Instant,
        seq: u64,
        sent_at: Instant,
        reo_wnd: Duration,
    ) -> Option<Duration> {
        self.xmit_ts?;
        if seq >= self.xmit_seq {
            return None;
        }
        let deadline = sent_at + self.rtt + reo_wnd;
        Some(deadline.saturating_duration_since(now))
    }

    /// A transmission numbered `seq` came after the most recently delivered one: no chunk first sent
    /// later can be lost either (the scan of step 5 may stop).
    pub(crate) fn sent_after_delivered(&self, seq: u64) -> bool {
        self.xmit_ts.is_none() || seq > self.xmit_seq
    }

    /// RFC 8985 §7.2: the probe timeout, `None` before the first RTT measurement.
    pub(crate) fn pto(&self, lone_packet: bool) -> Option<Duration> {
        let srtt = self.srtt?;
        Some(2 * srtt + if lone_packet { WC_DEL_ACK } else { PTO_SLACK })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn later_delivery_plus_reo_wnd_declares_loss() {
        let t0 = Instant::now();
        let mut r = Rack::new(100);
        // TSN 100 sent at 0, 101 at 1 ms; 101 delivered at 81 ms.
        r.on_delivered(t0 + ms(81), 101, 2, t0 + ms(1), false);
        r.end_sack();
        assert_eq!(r.min_rtt, Some(ms(80)));
        let wnd = r.reo_wnd(false, 1);
        assert_eq!(wnd, ms(20), "min_RTT / 4");
        // 100 is lost 80 + 20 ms after it was sent, i.e. at 100 ms.
        assert_eq!(r.check(t0 + ms(81), 1, t0, wnd), Some(ms(19)));
        assert_eq!(r.check(t0 + ms(100), 1, t0, wnd), Some(Duration::ZERO));
        assert_eq!(r.check(t0 + ms(100), 3, t0 + ms(2), wnd), None, "sent later");
        assert!(!r.reordering_seen);
        // 100 turns up after all: reordering. Three acked above a hole no longer means "now".
        r.on_delivered(t0 + ms(90), 100, 1, t0, false);
        assert!(r.reordering_seen);
        assert_eq!(r.reo_wnd(true, 5), ms(20));
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn duplicates_widen_the_window_once_per_round_up_to_srtt() {
        let t0 = Instant::now();
        let mut r = Rack::new(1);
        r.srtt = Some(ms(90));
        r.on_delivered(t0 + ms(80), 1, 1, t0, false);
        r.on_duplicates_reported(1, 50);
        r.on_duplicates_reported(20, 60); // same round: ignored
        assert_eq!(r.reo_wnd(false, 0), ms(40));
        r.on_duplicates_reported(51, 90);
        assert_eq!(r.reo_wnd(false, 0), ms(60));
        for round in 0..10 {
            r.on_duplicates_reported(100 + 100 * round, 150 + 100 * round);
        }
        assert_eq!(r.reo_wnd(false, 0), ms(90), "capped at SRTT");
        for _ in 0..REO_WND_PERSIST {
            r.on_recovery();
        }
        assert_eq!(r.reo_wnd(false, 0), ms(20), "back to min_RTT / 4");
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn ack_of_the_original_does_not_time_a_retransmission() {
        let t0 = Instant::now();
        let mut r = Rack::new(1);
        r.on_delivered(t0 + ms(80), 1, 1, t0, false);
        // TSN 2 retransmitted at 100 ms, acked at 110 ms: too soon, it was the original.
        r.on_delivered(t0 + ms(110), 2, 5, t0 + ms(100), true);
        assert_eq!(r.xmit_seq, 1);
        assert_eq!(r.pto(false), None);
        r.srtt = Some(ms(80));
        assert_eq!(r.pto(false), Some(ms(162)));
        assert_eq!(r.pto(true), Some(ms(360)));
    }
}
