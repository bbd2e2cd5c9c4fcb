//! PR-SCTP (RFC 3758 §3.5): abandoning a message's chunks, moving the Advanced.Peer.Ack.Point over
//! them and the FORWARD TSN that tells the peer. Where abandonment is decided: `queue.rs` (lifetime
//! expired before sending), `recovery.rs` (retransmission limit or lifetime, when marking) and
//! [`Sender::expire_outstanding`] here.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;

use super::queue::OutMsg;
use super::{ChunkState, OutChunk, Sender};
use crate::chunk::data_flags;

impl Sender {
    /// Advances the Advanced.Peer.Ack.Point over abandoned chunks (RFC 3758 §3.5 C1–C2).
    pub(crate) fn update_adv_peer_ack(&mut self) {
        if self.adv_peer_ack < self.cum_ack {
            self.adv_peer_ack = self.cum_ack;
        }
        let start = self.adv_peer_ack;
        let mut adv = start;
        for c in self.inflight.iter().skip_while(|c| c.tsn <= start) {
            if c.state != ChunkState::Abandoned || c.tsn != adv + 1 {
                break;
            }
            adv = c.tsn;
        }
        if adv > self.adv_peer_ack {
            self.adv_peer_ack = adv;
            self.forward_tsn_pending = true;
        }
    }

    /// The FORWARD TSN to send: new cumulative TSN and the last skipped SSN of each ordered stream
    /// (RFC 3758 §3.5 C4).
    pub(crate) fn forward_tsn(&self) -> Option<(u32, Vec<(u16, u16)>)> {
        if self.adv_peer_ack <= self.cum_ack {
            return None;
        }
        let mut streams = BTreeMap::new();
        for c in self.inflight.iter().take_while(|c| c.tsn <= self.adv_peer_ack) {
            if c.flags & data_flags::UNORDERED == 0 {
                streams.insert(c.stream, c.ssn);
            }
        }
        Some((self.adv_peer_ack as u32, streams.into_iter().collect()))
    }

    /// Called after a scan when lifetimes may have expired: abandons timed-out outstanding messages so
    /// a FORWARD TSN can skip them (RFC 3758 §3.5 A2 applied to in-flight chunks).
    pub(crate) fn expire_outstanding(&mut self, now: Instant) {
        let expired: Vec<u64> = self
            .inflight
            .iter()
            .filter(|c| {
                matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit)
                    && c.expires.is_some_and(|e| e <= now)
            })
            .map(|c| c.tsn)
            .collect();
        if expired.is_empty() || !self.peer_forward_tsn {
            return;
        }
        for tsn in expired {
            if self.chunk(tsn).is_some_and(|c| c.state != ChunkState::Abandoned) {
                self.abandon_at(tsn, now);
            }
        }
        self.update_adv_peer_ack();
    }

    /// Abandons every chunk of the message `tsn` belongs to, and its unsent rest (RFC 3758 §3.5 A3).
    pub(super) fn abandon_at(&mut self, tsn: u64, now: Instant) {
        let Some(i) = self.index_of(tsn) else { return };
        let id = self.inflight[i].msg_id;
        let mut start = i;
        while start > 0 && self.inflight[start - 1].msg_id == id {
            start -= 1;
        }
        let mut j = start;
        while j < self.inflight.len() && self.inflight[j].msg_id == id {
            let c = &mut self.inflight[j];
            match c.state {
                ChunkState::InFlight => self.flight_size = self.flight_size.saturating_sub(c.data.len()),
                ChunkState::ToRetransmit => self.rtx_count -= 1,
                ChunkState::GapAcked => self.gap_acked -= 1,
                ChunkState::Abandoned => {}
            }
            c.state = ChunkState::Abandoned;
            let (stream, len, buffered) = (c.stream, c.data.len(), std::mem::take(&mut c.buffered));
            if buffered {
                self.queue.sub_buffered(stream, len);
            }
            j += 1;
        }
        if let Some(m) = self.queue.take_head_of(id) {
            self.push_abandoned_end(&m, now);
        }
        self.abandoned_messages += 1;
    }

    /// A message abandoned half-sent: its unsent rest gets one TSN as an abandoned, never-sent END
    /// fragment, so the FORWARD TSN covers the whole message and the receiver drops its partial
    /// reassembly and skips its SSN (RFC 3758 §3.5; otherwise an ordered stream would wait forever).
    fn push_abandoned_end(&mut self, m: &OutMsg, now: Instant) {
        let mut flags = data_flags::END;
        if m.unordered {
            flags |= data_flags::UNORDERED;
        }
        self.inflight.push_back(OutChunk {
            tsn: self.next_tsn,
            msg_id: m.id,
            stream: m.stream,
            ssn: m.ssn,
            ppid: m.ppid,
            flags,
            data: Bytes::new(),
            sent_count: 0,
            sent_at: now,
            xmit_seq: 0,
            state: ChunkState::Abandoned,
            miss: 0,
            fast_retransmitted: true,
            expires: None,
            max_rtx: None,
            buffered: false,
        });
        self.next_tsn += 1;
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::chunk::data_flags;
    use crate::sender::test_util::*;
    use crate::sender::{ChunkState, Sender};
    use crate::{CongestionControl, Reliability, SendOptions};

    #[test]
    fn max_retransmits_zero_is_abandoned_on_t3_and_forwarded() {
        let opts = SendOptions {
            unordered: false,
            reliability: Reliability::MaxRetransmits(0),
        };
        let (mut s, first, now) = sent(4, opts);
        s.on_t3_expired(now);
        assert!(!s.has_retransmits());
        assert_eq!(s.abandoned_messages, 4);
        assert!(s.forward_tsn_pending);
        // Streams 0 and 1 each skipped SSNs 0 and 1.
        assert_eq!(s.forward_tsn(), Some(((first + 3) as u32, vec![(0, 1), (1, 1)])));
        sack(first + 3, &[], |k| {
            s.on_sack(now, k);
        });
        assert!(s.is_idle());
        assert_eq!(s.forward_tsn(), None);
        assert_eq!(s.buffered_amount(0), 0);
    }

    #[test]
    fn half_sent_message_abandoned_gets_an_end_placeholder() {
        let now = t0();
        let mut s = Sender::new(1, 1188, 4, CongestionControl::default());
        s.peer_rwnd = 1 << 20;
        s.peer_forward_tsn = true;
        let opts = SendOptions {
            unordered: false,
            reliability: Reliability::MaxRetransmits(0),
        };
        s.enqueue(now, 4, 53, Bytes::from(vec![1; 3000]), opts, false);
        let first = s.next_new_chunk(now, 1176).unwrap().tsn;
        s.on_chunk_sent(now, first);
        // The peer got the first fragment; then the message is given up before the rest went out.
        sack(first, &[], |k| {
            s.on_sack(now, k);
        });
        s.enqueue(
            now,
            4,
            53,
            Bytes::from(vec![2; 10]),
            SendOptions::default(),
            false,
        );
        s.abandon_at(first + 1, now); // no chunk there yet: nothing happens
        assert_eq!(s.abandoned_messages, 0);
        let second = s.next_new_chunk(now, 1176).unwrap().tsn;
        s.on_chunk_sent(now, second);
        s.abandon_at(second, now);
        assert_eq!(s.abandoned_messages, 1);
        let end = s.chunk(second + 1).unwrap();
        assert_eq!(
            (end.state, end.flags, end.data.len()),
            (ChunkState::Abandoned, data_flags::END, 0)
        );
        s.update_adv_peer_ack();
        assert_eq!(s.forward_tsn(), Some(((second + 1) as u32, vec![(4, 0)])));
        assert_eq!(s.buffered_amount(4), 10, "only the next message is left");
    }
}
