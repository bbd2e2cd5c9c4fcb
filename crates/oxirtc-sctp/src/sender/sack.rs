//! SACK processing (RFC 9260 §6.2.1): the cumulative TSN ack, gap blocks and renege, the duplicate
//! TSNs (§3.3.4), and what the congestion controller is told of it (§7.2.1, §7.2.2). Loss marking
//! from a SACK is in `recovery.rs` (miss indications) and `rack.rs` (RACK).

use std::time::Instant;

use super::cc::Ack;
use super::{ChunkState, OutChunk, SackOutcome, Sender};
use crate::chunk::SackChunk;
use crate::types::unwrap_tsn;

impl Sender {
    /// Processes a SACK (RFC 9260 §6.2.1, §7.2.1–§7.2.4).
    pub(crate) fn on_sack(&mut self, now: Instant, sack: &SackChunk<'_>) -> SackOutcome {
        let mut out = SackOutcome::default();
        let cum = unwrap_tsn(self.cum_ack, sack.cum_tsn_ack);
        // §6.2.1 D i: a SACK older than the current cumulative ack is stale; one acking unsent TSNs is bogus.
        if cum < self.cum_ack || cum >= self.next_tsn {
            return out;
        }
        let flight_before = self.flight_size;
        self.on_duplicates(sack);
        let mut acked = Acked::default();
        out.cum_advanced = self.ack_cumulative(now, cum, &mut acked);
        self.apply_gap_blocks(now, sack, &mut acked);
        self.rack.end_sack();
        out.new_data_acked = acked.bytes > 0;
        out.bytes_acked = acked.bytes;
        out.rtt = acked.rtt_from.map(|t| now.saturating_duration_since(t));
        // RFC 9260 §7.2.4's three miss indications stay in force until the path shows reordering;
        // from then on RACK's reordering window decides alone (RFC 8985 §6.2).
        if let Some(h) = acked.htna.filter(|_| !self.rack.reordering_seen) {
            out.fast_retransmits = self.count_misses(now, h);
        }
        if out.new_data_acked {
            out.fast_retransmits += self.detect_losses(now);
        }
        if self.fast_recovery_exit.is_some_and(|e| cum >= e) {
            self.fast_recovery_exit = None;
        }
        self.end_probe_episode(now, cum);
        self.adjust_cwnd(now, out.cum_advanced, acked.bytes, flight_before);
        self.peer_rwnd = (sack.a_rwnd as usize).saturating_sub(self.flight_size);
        self.update_adv_peer_ack();
        out
    }

    /// The cumulative TSN ack `cum` (already checked) takes every chunk up to it off the in-flight
    /// queue; true when it advanced.
    fn ack_cumulative(&mut self, now: Instant, cum: u64, acked: &mut Acked) -> bool {
        while self.inflight.front().is_some_and(|c| c.tsn <= cum) {
            let Some(c) = self.inflight.pop_front() else { break };
            if matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit) {
                self.rack
                    .on_delivered(now, c.tsn, c.xmit_seq, c.sent_at, c.sent_count > 1);
            }
            self.account_ack(&c, acked);
        }
        let advanced = cum > self.cum_ack;
        self.cum_ack = cum;
        self.adv_peer_ack = self.adv_peer_ack.max(cum);
        advanced
    }

    fn account_ack(&mut self, c: &OutChunk, acked: &mut Acked) {
        match c.state {
            ChunkState::InFlight | ChunkState::ToRetransmit => {
                if c.state == ChunkState::InFlight {
                    self.flight_size = self.flight_size.saturating_sub(c.data.len());
                } else {
                    self.rtx_count -= 1;
                }
                acked.add(c.tsn, c.data.len());
                if c.sent_count == 1 && c.state == ChunkState::InFlight {
                    acked.rtt_sample(c.sent_at);
                }
            }
            ChunkState::GapAcked => self.gap_acked -= 1,
            ChunkState::Abandoned => {}
        }
        if c.buffered {
            self.queue.sub_buffered(c.stream, c.data.len());
        }
    }

    /// RFC 9260 §6.2.1 D iii / §6.3.3: a TSN once reported in a gap block but absent from this SACK's
    /// blocks was reneged by the peer; it becomes outstanding again (T3 will resend it).
    fn renege(&mut self, sack: &SackChunk<'_>) {
        let cum = self.cum_ack;
        let mut blocks: Vec<(u64, u64)> = sack
            .gap_blocks()
            .filter(|&(s, e)| s != 0 && e >= s)
            .map(|(s, e)| (cum + u64::from(s), cum + u64::from(e)))
            .collect();
        blocks.sort_unstable();
        let mut reverted = 0;
        for c in self
            .inflight
            .iter_mut()
            .filter(|c| c.state == ChunkState::GapAcked)
        {
            let i = blocks.partition_point(|&(_, e)| e < c.tsn);
            if blocks.get(i).is_some_and(|&(s, _)| s <= c.tsn) {
                continue;
            }
            c.state = ChunkState::InFlight;
            c.miss = 0;
            self.flight_size += c.data.len();
            reverted += 1;
        }
        self.gap_acked -= reverted;
    }

    fn apply_gap_blocks(&mut self, now: Instant, sack: &SackChunk<'_>, acked: &mut Acked) {
        let Some(front) = self.inflight.front().map(|c| c.tsn) else {
            return;
        };
        let last = front + self.inflight.len() as u64 - 1;
        if self.gap_acked > 0 && !self.stale_reordered(sack) {
            self.renege(sack);
        }
        for (s, e) in sack.gap_blocks() {
            if s == 0 || e < s {
                continue;
            }
            let lo = (self.cum_ack + u64::from(s)).max(front);
            let hi = (self.cum_ack + u64::from(e)).min(last);
            for tsn in lo..=hi {
                self.gap_ack((tsn - front) as usize, now, acked);
            }
        }
    }

    /// The chunk at `i` was reported in a gap block: newly acknowledged unless it already was.
    fn gap_ack(&mut self, i: usize, now: Instant, acked: &mut Acked) {
        let c = &mut self.inflight[i];
        if !matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit) {
            return;
        }
        let (tsn, prev) = (c.tsn, c.state);
        c.state = ChunkState::GapAcked;
        self.gap_acked += 1;
        let (stream, len, buffered) = (c.stream, c.data.len(), std::mem::take(&mut c.buffered));
        let (count, at) = (c.sent_count, c.sent_at);
        self.rack.on_delivered(now, tsn, c.xmit_seq, at, count > 1);
        self.highest_gap_acked = self.highest_gap_acked.max(tsn);
        if prev == ChunkState::InFlight {
            self.flight_size = self.flight_size.saturating_sub(len);
            if count == 1 {
                acked.rtt_sample(at);
            }
        } else {
            self.rtx_count -= 1;
        }
        if buffered {
            self.queue.sub_buffered(stream, len);
        }
        acked.add(tsn, len);
    }

    /// A SACK on a reordering path that reports less than an earlier one (no gap block reaches the
    /// highest TSN ever gap-acked) is most likely older than it, overtaken on the way, not a renege
    /// (RFC 9260 §6.2.1 D iii); its missing blocks are ignored.
    fn stale_reordered(&self, sack: &SackChunk<'_>) -> bool {
        let top = sack
            .gap_blocks()
            .filter(|&(s, e)| s != 0 && e >= s)
            .map(|(_, e)| self.cum_ack + u64::from(e))
            .max()
            .unwrap_or(self.cum_ack);
        self.rack.reordering_seen && top < self.highest_gap_acked
    }

    /// The duplicate TSNs of a SACK (RFC 9260 §3.3.4): we retransmitted data the peer had. RFC 8985
    /// §6.2 step 4 widens the reordering window; a loss probe reported duplicate repaired nothing
    /// (§7.4).
    fn on_duplicates(&mut self, sack: &SackChunk<'_>) {
        let mut any = false;
        for d in sack.dup_tsns() {
            let tsn = unwrap_tsn(self.cum_ack, d);
            if tsn > self.cum_ack.saturating_sub(1 << 16) && tsn < self.next_tsn {
                any = true;
                self.peer_duplicates += 1;
                self.undo_if_spurious(tsn);
                if self.rack.tlp_rtx == Some(tsn) {
                    self.rack.tlp_rtx = None;
                }
            }
        }
        if any {
            self.rack.on_duplicates_reported(self.cum_ack, self.next_tsn - 1);
        }
    }

    /// Slow start and congestion avoidance (RFC 9260 §7.2.1, §7.2.2) are the controller's: it
    /// learns what this SACK acknowledged and whether cwnd was fully used. Max.Burst (§6.1) limits
    /// packets per trigger in the transmit path instead of shrinking cwnd.
    fn adjust_cwnd(&mut self, now: Instant, cum_advanced: bool, bytes_acked: usize, flight_before: usize) {
        let cwnd_limited = self
            .cwnd_use
            .fully_used(flight_before, self.mtu, self.cc.window());
        let ack = Ack {
            cum_advanced,
            bytes_acked,
            in_recovery: self.fast_recovery_exit.is_some(),
            cwnd_limited,
            all_acked: self.flight_size == 0 && !self.queue.has_queued(),
        };
        self.cc.on_ack(now, &ack);
        self.cwnd_use.end_round(
            self.cum_ack,
            self.next_tsn - 1,
            self.flight_size,
            self.mtu,
            self.cc.window(),
        );
    }
}

/// What one SACK newly acknowledged, gathered chunk by chunk.
#[derive(Debug, Default)]
struct Acked {
    /// User bytes.
    bytes: usize,
    /// The highest TSN newly acknowledged (HTNA, RFC 9260 §7.2.4).
    htna: Option<u64>,
    /// Latest send time of a newly acknowledged chunk sent exactly once (Karn's rule, §6.3.1 C5).
    rtt_from: Option<Instant>,
}

impl Acked {
    fn add(&mut self, tsn: u64, len: usize) {
        self.bytes += len;
        self.htna = Some(self.htna.map_or(tsn, |h| h.max(tsn)));
    }

    fn rtt_sample(&mut self, sent_at: Instant) {
        self.rtt_from = Some(self.rtt_from.map_or(sent_at, |t| t.max(sent_at)));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::sender::test_util::*;
    use crate::SendOptions;

    #[test]
    fn reneged_gap_blocks_become_outstanding_again() {
        let (mut s, first, now) = sent(4, SendOptions::default());
        let now = now + Duration::from_millis(1);
        sack(first - 1, &[(2, 3)], |k| {
            s.on_sack(now, k);
        });
        assert_eq!(s.flight_size, 2000);
        // The next SACK no longer reports them: the peer dropped them.
        sack(first - 1, &[], |k| {
            s.on_sack(now, k);
        });
        assert_eq!(s.flight_size, 4000);
        s.on_t3_expired(now);
        assert_eq!(s.rtx_count, 4);
    }

    #[test]
    fn stale_and_bogus_sacks_are_ignored() {
        let (mut s, first, now) = sent(3, SendOptions::default());
        sack(first, &[], |k| assert!(s.on_sack(now, k).cum_advanced));
        sack(first - 1, &[], |k| assert!(!s.on_sack(now, k).new_data_acked));
        sack(first + 50, &[], |k| assert!(!s.on_sack(now, k).new_data_acked));
        assert_eq!(s.cum_ack, first);
    }
}
