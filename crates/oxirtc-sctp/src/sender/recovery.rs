//! Loss recovery: marking chunks for retransmission (or abandoning them, RFC 3758 §3.5), miss
//! indications and fast recovery (RFC 9260 §7.2.4: one cwnd reduction per loss event), undoing a
//! recovery whose retransmissions all proved spurious, and T3-rtx expiry (§6.3.3).

use std::time::Instant;

use super::cc::Congestion;
use super::{ChunkState, Sender};

/// Most retransmissions one loss event may make and still be undone when all prove spurious.
const MAX_UNDO_RTX: usize = 64;

/// A loss event kept until its retransmissions are judged (RFC 8985 §6.2 step 4's D-SACK evidence,
/// used the way RFC 4015 / Linux's undo use it). What the event took from cwnd and ssthresh is the
/// controller's to give back.
#[derive(Debug)]
pub(super) struct Undo {
    /// TSNs retransmitted since the event began and not yet reported duplicate by the peer.
    retransmitted: Vec<u64>,
}

impl Sender {
    /// The first chunk marked for retransmission, abandoning expired ones on the way (RFC 3758 §3.5 A2).
    pub(crate) fn next_retransmit(&mut self, now: Instant) -> Option<u64> {
        if self.rtx_count == 0 {
            return None;
        }
        loop {
            let (tsn, expired) = self
                .inflight
                .iter()
                .find(|c| c.state == ChunkState::ToRetransmit)
                .map(|c| (c.tsn, c.expires.is_some_and(|e| e <= now)))?;
            if !expired {
                return Some(tsn);
            }
            self.abandon_at(tsn, now);
            if self.rtx_count == 0 {
                return None;
            }
        }
    }

    pub(crate) fn has_retransmits(&self) -> bool {
        self.rtx_count > 0
    }

    /// T3-rtx expired (RFC 9260 §6.3.3 E1, E3): collapse cwnd, mark everything outstanding.
    pub(crate) fn on_t3_expired(&mut self, now: Instant) {
        self.cc.on_rto(now);
        self.fast_recovery_exit = None;
        // RFC 8985 §6.3, §7: the RTO supersedes the reordering timer and any probe episode.
        self.undo = None;
        self.rack.reo_deadline = None;
        self.rack.tlp_end = None;
        self.rack.tlp_rtx = None;
        self.probe_new = false;
        for i in 0..self.inflight.len() {
            self.mark_for_retransmit(i, now);
        }
        self.update_adv_peer_ack();
        if self.adv_peer_ack > self.cum_ack {
            self.forward_tsn_pending = true;
        }
        self.rtx_override = true;
    }

    /// The path came back after T3-rtx expired (`Association::handle_path_event`): everything still
    /// outstanding is marked for retransmission at once, as on an expiry (RFC 9260 §6.3.3 E3), but
    /// cwnd is left as the expiry set it (E1) and nothing counts as a new loss event.
    pub(crate) fn retransmit_outstanding(&mut self, now: Instant) {
        self.rack.reo_deadline = None;
        self.rack.tlp_end = None;
        self.rack.tlp_rtx = None;
        self.probe_new = false;
        for i in 0..self.inflight.len() {
            self.mark_for_retransmit(i, now);
        }
        self.update_adv_peer_ack();
        if self.adv_peer_ack > self.cum_ack {
            self.forward_tsn_pending = true;
        }
        // §7.2.4 rule 3: the first packet goes regardless of cwnd.
        self.rtx_override = true;
    }

    /// A retransmission of `tsn` went out: the current loss event is judged by it too.
    pub(super) fn note_retransmission(&mut self, tsn: u64) {
        if let Some(u) = self.undo.as_mut() {
            if u.retransmitted.len() >= MAX_UNDO_RTX {
                self.undo = None;
            } else if !u.retransmitted.contains(&tsn) {
                u.retransmitted.push(tsn);
            }
        }
    }

    /// Marks a chunk for retransmission, or abandons its message if its PR-SCTP policy says so.
    pub(super) fn mark_for_retransmit(&mut self, i: usize, now: Instant) -> bool {
        let c = &mut self.inflight[i];
        if c.state != ChunkState::InFlight {
            return false;
        }
        let give_up = c.max_rtx.is_some_and(|m| c.sent_count > m) || c.expires.is_some_and(|e| e <= now);
        if give_up && self.peer_forward_tsn {
            let tsn = c.tsn;
            self.abandon_at(tsn, now);
            return false;
        }
        c.state = ChunkState::ToRetransmit;
        self.flight_size = self.flight_size.saturating_sub(c.data.len());
        self.rtx_count += 1;
        true
    }

    /// HTNA miss indications and fast retransmit (RFC 9260 §7.2.4).
    pub(super) fn count_misses(&mut self, now: Instant, htna: u64) -> u64 {
        let mut marked = 0;
        let Some(front) = self.inflight.front().map(|c| c.tsn) else {
            return 0;
        };
        let end = usize::try_from(htna.saturating_sub(front))
            .unwrap_or(usize::MAX)
            .min(self.inflight.len());
        for i in 0..end {
            let c = &mut self.inflight[i];
            if c.state != ChunkState::InFlight || c.fast_retransmitted {
                continue;
            }
            c.miss = c.miss.saturating_add(1);
            if c.miss >= 3 {
                c.fast_retransmitted = true;
                if self.mark_for_retransmit(i, now) {
                    marked += 1;
                }
            }
        }
        self.on_losses(now, marked);
        marked
    }

    /// Chunks were just marked lost (miss indications, RACK or its timer): RFC 9260 §7.2.4 rules 2–3.
    pub(super) fn on_losses(&mut self, now: Instant, marked: u64) {
        if marked == 0 {
            return;
        }
        self.fast_retransmits += marked;
        // Rule 3: the first packet of retransmissions goes out regardless of cwnd.
        self.rtx_override = true;
        // Rule 2 / §7.2.3: one cwnd reduction per loss event. Losses found before the cum ack passes
        // the recovery point (the highest TSN outstanding when it began), lost retransmissions
        // included, belong to the same event (as in RFC 8985 §9.3 with RFC 6675 recovery).
        if self.fast_recovery_exit.is_none() {
            self.undo = Some(Undo {
                retransmitted: Vec::new(),
            });
            self.cc.on_congestion_event(now, Congestion::FastRecovery);
            self.fast_recovery_exit = Some(self.next_tsn - 1);
            self.rack.on_recovery();
            tracing::debug!(
                marked,
                cwnd = self.cc.window(),
                flight = self.flight_size,
                reordering = self.rack.reordering_seen,
                "SCTP fast recovery"
            );
        }
    }

    /// The peer reported `tsn` duplicate. Once every retransmission of the last loss event was, the
    /// event was reordering, not loss: cwnd and ssthresh come back (as TCP's D-SACK undo does).
    pub(super) fn undo_if_spurious(&mut self, tsn: u64) {
        let Some(u) = self.undo.as_mut() else { return };
        let Some(i) = u.retransmitted.iter().position(|&t| t == tsn) else {
            return;
        };
        u.retransmitted.swap_remove(i);
        if !u.retransmitted.is_empty() {
            return;
        }
        self.undo = None;
        self.cc.on_spurious_congestion();
        self.fast_recovery_exit = None;
        self.spurious_recoveries += 1;
        tracing::debug!(cwnd = self.cc.window(), "SCTP spurious fast recovery undone");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::sender::test_util::*;
    use crate::SendOptions;

    #[test]
    fn sack_with_gaps_then_fast_retransmit_once() {
        let (mut s, first, now) = sent(10, SendOptions::default());
        assert_eq!(s.flight_size, 10_000);
        let cwnd = s.cwnd();
        // 1 ms later TSN first+1 is lost; the peer reports first+2.. as gap blocks, growing.
        let now = now + Duration::from_millis(1);
        let mut fast = 0;
        for end in 2..=4u16 {
            sack(first, &[(2, end)], |k| fast += s.on_sack(now, k).fast_retransmits);
        }
        assert_eq!(fast, 1);
        assert!(s.has_retransmits());
        assert!(s.cwnd() < cwnd && s.cwnd() == s.ssthresh() && s.ssthresh() >= 4 * 1188);
        assert_eq!(s.next_retransmit(now), Some(first + 1));
        s.on_chunk_sent(now, first + 1);
        // More gap reports do not fast-retransmit the same TSN again.
        for end in 5..=8u16 {
            sack(first, &[(2, end)], |k| fast += s.on_sack(now, k).fast_retransmits);
        }
        assert_eq!(fast, 1);
        sack(first + 9, &[], |k| assert!(s.on_sack(now, k).cum_advanced));
        assert!(s.is_idle());
        assert_eq!(s.flight_size, 0);
        assert_eq!(s.buffered_amount(0) + s.buffered_amount(1), 0);
    }

    #[test]
    fn a_recovery_whose_retransmissions_all_prove_spurious_is_undone() {
        let (mut s, first, t0) = sent(10, SendOptions::default());
        let (cwnd, ssthresh) = (s.cwnd(), s.ssthresh());
        sack(first - 1, &[(2, 4)], |k| {
            assert_eq!(s.on_sack(t0 + ms(80), k).fast_retransmits, 1)
        });
        assert!(s.cwnd() < cwnd);
        s.on_chunk_sent(t0 + ms(80), first);
        // The original was only late; the peer then reports the retransmission as a duplicate.
        sack(first + 3, &[], |k| {
            s.on_sack(t0 + ms(85), k);
        });
        sack_dups(first + 3, &[first], |k| {
            s.on_sack(t0 + ms(160), k);
        });
        assert_eq!(
            (s.cwnd(), s.ssthresh(), s.spurious_recoveries),
            (cwnd, ssthresh, 1)
        );
        assert!(s.rack.reordering_seen);
    }
}
