//! RACK loss detection and tail loss probes as the sender runs them (RFC 8985, adapted to TSNs):
//! the scan that marks chunks lost, the probe and its episode, the loss-detection timer. The RACK
//! state itself (RACK.xmit_ts, min_RTT, the reordering window, TLP.end_seq) is `crate::loss`.

use std::time::{Duration, Instant};

use super::cc::Congestion;
use super::{ChunkState, Sender};

impl Sender {
    /// RFC 8985 §6.2 step 5: marks outstanding chunks sent before the most recently delivered one and
    /// older than `RACK.rtt + reo_wnd`; arms the reordering timer (§6.3) for the youngest of the rest.
    /// Returns the number of chunks marked.
    pub(crate) fn detect_losses(&mut self, now: Instant) -> u64 {
        let reo_wnd = self
            .rack
            .reo_wnd(self.fast_recovery_exit.is_some(), self.gap_acked);
        let mut marked = 0;
        let mut wait: Option<Duration> = None;
        for i in 0..self.inflight.len() {
            let c = &self.inflight[i];
            // Above the highest retransmitted TSN chunks went out once in TSN order: once one was sent
            // after the most recently delivered chunk, so were all that follow.
            if c.tsn > self.max_rtx_tsn && self.rack.sent_after_delivered(c.xmit_seq) {
                break;
            }
            if c.state != ChunkState::InFlight {
                continue;
            }
            match self.rack.check(now, c.xmit_seq, c.sent_at, reo_wnd) {
                Some(left) if left.is_zero() && self.mark_for_retransmit(i, now) => marked += 1,
                Some(left) if left.is_zero() => {}
                Some(left) => wait = Some(wait.map_or(left, |w| w.max(left))),
                None => {}
            }
        }
        self.rack.reo_deadline = wait.map(|w| now + w);
        self.rack_losses += marked;
        self.on_losses(now, marked);
        marked
    }

    /// RFC 8985 §7.2: T3 expired before a probe timeout could: a probe may replace it when an RTT is
    /// known and no loss recovery runs ([`Self::start_probe`] checks the rest: one probe per episode).
    pub(crate) fn may_probe_instead_of_rto(&self) -> bool {
        self.rack.srtt.is_some() && self.fast_recovery_exit.is_none()
    }

    /// RFC 8985 §7.3: the probe timeout expired. Marks what the next packet carries regardless of
    /// cwnd: new data when the queue and the peer's window allow, else the most recently sent chunk
    /// again. False when there is nothing to probe with.
    pub(crate) fn start_probe(&mut self, now: Instant) -> bool {
        if self.flight_size == 0 || self.rack.tlp_end.is_some() || self.rtx_count > 0 {
            return false;
        }
        let next = self.queue.head_len(self.max_payload());
        if self.queue.has_queued() && self.peer_rwnd >= next {
            self.probe_new = true;
            self.rack.tlp_rtx = None;
            self.rack.tlp_end = Some(self.next_tsn);
        } else {
            let Some(i) = self
                .inflight
                .iter()
                .rposition(|c| c.state == ChunkState::InFlight)
            else {
                return false;
            };
            let tsn = self.inflight[i].tsn;
            if !self.mark_for_retransmit(i, now) {
                return false;
            }
            self.rtx_override = true;
            self.rack.tlp_rtx = Some(tsn);
            self.rack.tlp_end = Some(self.next_tsn - 1);
        }
        self.loss_probes += 1;
        tracing::debug!(
            new_data = self.probe_new,
            flight = self.flight_size,
            "SCTP tail loss probe"
        );
        true
    }

    /// When the loss-detection timer should fire: the RACK reordering timer if armed (RFC 8985
    /// §6.3), else the probe timeout (§7.2) when data is outstanding outside recovery and the PTO
    /// comes before the RTO would.
    pub(crate) fn loss_timer(&self, now: Instant, rto: Duration) -> Option<Instant> {
        if let Some(at) = self.rack.reo_deadline {
            return Some(at);
        }
        if self.flight_size == 0
            || self.fast_recovery_exit.is_some()
            || self.rtx_count > 0
            || self.rack.tlp_end.is_some()
        {
            return None;
        }
        let pto = self.rack.pto(self.flight_size <= self.max_payload())?;
        (pto < rto).then(|| now + pto)
    }

    /// RFC 8985 §7.4: the probe episode ends when the cum ack covers it. A probe that retransmitted
    /// a chunk the peer did not report duplicate repaired a real loss: reduce cwnd as for fast
    /// recovery (§7.4.2), unless a recovery already did.
    pub(super) fn end_probe_episode(&mut self, now: Instant, cum: u64) {
        if self.rack.tlp_end.is_none_or(|e| cum < e) {
            return;
        }
        self.rack.tlp_end = None;
        if self.rack.tlp_rtx.take().is_some() && self.fast_recovery_exit.is_none() {
            self.cc.on_congestion_event(now, Congestion::ProbeRepairedLoss);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sender::test_util::*;
    use crate::SendOptions;

    #[test]
    fn rack_finds_a_lost_retransmission_without_a_second_cwnd_cut() {
        let (mut s, first, t0) = sent(10, SendOptions::default());
        // 80 ms later: first+1 missing below three gap-acked chunks (no reordering seen: no wait).
        let mut fast = 0;
        sack(first, &[(2, 4)], |k| {
            fast += s.on_sack(t0 + ms(80), k).fast_retransmits
        });
        assert_eq!(fast, 1);
        let cut = s.cwnd();
        assert_eq!(s.next_retransmit(t0 + ms(80)), Some(first + 1));
        s.on_chunk_sent(t0 + ms(80), first + 1);
        send_more(&mut s, t0 + ms(81), 2);
        // The new chunks are acked, the retransmission is not: it is lost too (RFC 9260 §7.2.4
        // alone would wait for T3). Same loss event: cwnd stays.
        sack(first, &[(2, 11)], |k| {
            fast += s.on_sack(t0 + ms(161), k).fast_retransmits
        });
        assert_eq!(fast, 2);
        assert_eq!(s.rack_losses, 2);
        assert_eq!(s.cwnd(), cut);
        assert_eq!(s.next_retransmit(t0 + ms(161)), Some(first + 1));
    }

    #[test]
    fn reordering_inside_the_window_is_not_loss() {
        let (mut s, first, t0) = sent(10, SendOptions::default());
        // first+1 arrives before first; then first turns up: reordering.
        sack(first - 1, &[(2, 2)], |k| {
            assert_eq!(s.on_sack(t0 + ms(80), k).fast_retransmits, 0)
        });
        assert!(s.rack.reo_deadline.is_some(), "reordering timer armed for first");
        sack(first + 1, &[], |k| {
            assert_eq!(s.on_sack(t0 + ms(85), k).fast_retransmits, 0)
        });
        assert!(s.rack.reordering_seen);
        // Now three chunks above a hole are not enough: RACK.rtt (86 ms, of the newest delivered
        // chunk) + min_RTT / 4 (20 ms) must pass first.
        sack(first + 1, &[(2, 4)], |k| {
            assert_eq!(s.on_sack(t0 + ms(86), k).fast_retransmits, 0)
        });
        let at = s.rack.reo_deadline.unwrap();
        assert_eq!(at, t0 + ms(106));
        assert_eq!(s.detect_losses(at), 1);
        assert_eq!(s.next_retransmit(at), Some(first + 2));
    }

    #[test]
    fn tail_loss_probe_resends_the_last_chunk_and_cuts_cwnd_if_it_repaired_a_loss() {
        let (mut s, first, t0) = sent(4, SendOptions::default());
        s.rack.srtt = Some(ms(80));
        assert_eq!(s.loss_timer(t0, ms(1000)), Some(t0 + ms(162)));
        assert_eq!(s.loss_timer(t0, ms(150)), None, "the RTO comes first");
        let cwnd = s.cwnd();
        assert!(s.start_probe(t0 + ms(162)));
        assert!(!s.start_probe(t0 + ms(162)), "one probe per episode");
        assert_eq!(s.next_retransmit(t0 + ms(162)), Some(first + 3));
        s.on_chunk_sent(t0 + ms(162), first + 3);
        // The probe's SACK covers everything and reports no duplicate: the tail was lost.
        sack(first + 3, &[], |k| {
            s.on_sack(t0 + ms(242), k);
        });
        assert_eq!((s.loss_probes, s.cwnd()), (1, cwnd / 2));
        assert!(s.rack.tlp_end.is_none());
    }

    #[test]
    fn probe_reported_duplicate_keeps_cwnd() {
        let (mut s, first, t0) = sent(4, SendOptions::default());
        s.rack.srtt = Some(ms(80));
        let cwnd = s.cwnd();
        assert!(s.start_probe(t0 + ms(162)));
        s.on_chunk_sent(t0 + ms(162), first + 3);
        sack_dups(first + 3, &[first + 3], |k| {
            s.on_sack(t0 + ms(242), k);
        });
        assert_eq!((s.peer_duplicates, s.cwnd()), (1, cwnd));
    }
}
