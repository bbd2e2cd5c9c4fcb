//! Messages waiting for (the rest of) their TSNs: the send queue, messages held back by a stream
//! reset (RFC 6525 §5.1.2), stream sequence numbers (RFC 9260 §6.5), fragmentation (§6.9) and the
//! per-stream buffered amounts behind `bufferedamountlow`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use crate::chunk::data_flags;
use crate::{Reliability, SendOptions};

/// The send queue of an association and its per-stream accounting.
#[derive(Debug, Default)]
pub(super) struct SendQueue {
    msgs: VecDeque<OutMsg>,
    /// Messages held back while their stream's reset is pending (RFC 6525 §5.1.2).
    held: VecDeque<(u16, u32, Bytes, SendOptions, Instant)>,
    next_msg_id: u64,
    next_ssn: HashMap<u16, u16>,
    streams: HashMap<u16, StreamBuf>,
    /// Bytes queued or in flight, not yet acknowledged or abandoned, over all streams.
    total_buffered: usize,
    /// Streams whose buffered amount fell to or below their low threshold, to be reported.
    low_events: Vec<u16>,
}

/// A message waiting for (the rest of) its TSNs.
#[derive(Debug)]
pub(super) struct OutMsg {
    pub(super) id: u64,
    pub(super) stream: u16,
    pub(super) ssn: u16,
    pub(super) ppid: u32,
    pub(super) unordered: bool,
    data: Bytes,
    offset: usize,
    expires: Option<Instant>,
    max_rtx: Option<u16>,
}

/// The next piece of the head message, cut to fit one DATA chunk (RFC 9260 §6.9).
#[derive(Debug)]
pub(super) struct Fragment {
    pub(super) msg_id: u64,
    pub(super) stream: u16,
    pub(super) ssn: u16,
    pub(super) ppid: u32,
    pub(super) flags: u8,
    pub(super) data: Bytes,
    pub(super) expires: Option<Instant>,
    pub(super) max_rtx: Option<u16>,
}

#[derive(Debug, Default)]
struct StreamBuf {
    amount: usize,
    low_threshold: usize,
}

impl SendQueue {
    /// Queues a message (already checked by the caller). `hold` keeps it back for a pending reset.
    pub(super) fn enqueue(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        data: Bytes,
        opts: SendOptions,
        hold: bool,
    ) {
        self.add_buffered(stream, data.len());
        if hold {
            self.held.push_back((stream, ppid, data, opts, now));
            return;
        }
        self.push(now, stream, ppid, data, opts);
    }

    /// RFC 6525 §5.1.2 / RFC 8831 §6.7: the reset completed; SSNs restart at 0 and held messages go out.
    pub(super) fn streams_reset(&mut self, streams: &[u16], still_pending: impl Fn(u16) -> bool) {
        for s in streams {
            self.next_ssn.remove(s);
        }
        let held = std::mem::take(&mut self.held);
        for (stream, ppid, data, opts, at) in held {
            if still_pending(stream) {
                self.held.push_back((stream, ppid, data, opts, at));
            } else {
                self.push(at, stream, ppid, data, opts);
            }
        }
    }

    /// The streams that still have unsent messages queued.
    pub(super) fn queued_streams(&self) -> HashSet<u16> {
        self.msgs.iter().map(|m| m.stream).collect()
    }

    /// Whether user data waits to be sent for the first time.
    pub(super) fn has_queued(&self) -> bool {
        !self.msgs.is_empty()
    }

    /// Nothing queued and nothing held.
    pub(super) fn is_empty(&self) -> bool {
        self.msgs.is_empty() && self.held.is_empty()
    }

    /// Bytes the head message's next fragment would carry, at most `max_payload` (0 when empty).
    pub(super) fn head_len(&self, max_payload: usize) -> usize {
        self.msgs
            .front()
            .map_or(0, |m| (m.data.len() - m.offset).min(max_payload))
    }

    pub(super) fn buffered_amount(&self, stream: u16) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.amount)
    }

    pub(super) fn total_buffered(&self) -> usize {
        self.total_buffered
    }

    pub(super) fn set_low_threshold(&mut self, stream: u16, bytes: usize) {
        self.streams.entry(stream).or_default().low_threshold = bytes;
    }

    /// `n` bytes of `stream` were acknowledged or abandoned.
    pub(super) fn sub_buffered(&mut self, stream: u16, n: usize) {
        self.total_buffered = self.total_buffered.saturating_sub(n);
        if let Some(s) = self.streams.get_mut(&stream) {
            let before = s.amount;
            s.amount = s.amount.saturating_sub(n);
            // W3C bufferedamountlow: fires when the amount falls to or below the threshold.
            if before > s.low_threshold && s.amount <= s.low_threshold {
                self.low_events.push(stream);
            }
        }
    }

    /// The streams whose buffered amount fell low since the last call.
    pub(super) fn take_low_events(&mut self) -> Vec<u16> {
        std::mem::take(&mut self.low_events)
    }

    /// Frees the capacity the empty queues kept from the last burst.
    pub(super) fn release_idle_buffers(&mut self) {
        release_if_empty(&mut self.msgs);
        release_if_empty(&mut self.held);
        if self.low_events.is_empty() {
            self.low_events = Vec::new();
        }
    }

    /// Drops head messages whose lifetime expired before their first fragment went out
    /// (RFC 3758 §3.5); returns how many.
    pub(super) fn drop_expired_head(&mut self, now: Instant) -> u64 {
        let mut dropped = 0;
        while let Some(msg) = self.msgs.front() {
            let fresh = msg.offset == 0;
            if !(fresh && msg.expires.is_some_and(|e| e <= now)) {
                break;
            }
            let (stream, len) = (msg.stream, msg.data.len());
            self.msgs.pop_front();
            self.sub_buffered(stream, len);
            dropped += 1;
        }
        dropped
    }

    /// Cuts the next fragment of the head message, at most `max_payload` bytes (RFC 9260 §6.9).
    /// `None` when nothing is queued or when the cut would leave a sliver (below a quarter of
    /// `full`, the payload of a whole packet) of a message that goes out whole in the next packet.
    pub(super) fn next_fragment(&mut self, max_payload: usize, full: usize) -> Option<Fragment> {
        let msg = self.msgs.front_mut()?;
        if msg.offset == 0 && !msg.unordered {
            // RFC 9260 §6.5: one SSN per ordered message, in sending order.
            let n = self.next_ssn.entry(msg.stream).or_insert(0);
            msg.ssn = *n;
        }
        let remaining = msg.data.len() - msg.offset;
        let len = remaining.min(max_payload);
        // Do not cut a sliver off a message just to fill a packet: it goes out whole in the next one.
        if len < remaining && len < full / 4 {
            return None;
        }
        if msg.offset == 0 && !msg.unordered {
            let n = self.next_ssn.entry(msg.stream).or_insert(0);
            *n = n.wrapping_add(1);
        }
        let data = msg.data.slice(msg.offset..msg.offset + len);
        let mut flags = if msg.unordered { data_flags::UNORDERED } else { 0 };
        if msg.offset == 0 {
            flags |= data_flags::BEGIN;
        }
        msg.offset += len;
        if msg.offset == msg.data.len() {
            flags |= data_flags::END;
        }
        let fragment = Fragment {
            msg_id: msg.id,
            stream: msg.stream,
            ssn: msg.ssn,
            ppid: msg.ppid,
            flags,
            data,
            expires: msg.expires,
            max_rtx: msg.max_rtx,
        };
        if flags & data_flags::END != 0 {
            self.msgs.pop_front();
        }
        Some(fragment)
    }

    /// Takes the head message out if it is message `id` (abandoned half-sent, RFC 3758 §3.5 A3);
    /// its unsent rest stops counting as buffered.
    pub(super) fn take_head_of(&mut self, id: u64) -> Option<OutMsg> {
        if self.msgs.front().is_none_or(|m| m.id != id) {
            return None;
        }
        let m = self.msgs.pop_front()?;
        self.sub_buffered(m.stream, m.data.len() - m.offset);
        Some(m)
    }

    fn add_buffered(&mut self, stream: u16, n: usize) {
        self.streams.entry(stream).or_default().amount += n;
        self.total_buffered += n;
    }

    fn push(&mut self, sent_at: Instant, stream: u16, ppid: u32, data: Bytes, opts: SendOptions) {
        let (expires, max_rtx) = match opts.reliability {
            Reliability::Reliable => (None, None),
            Reliability::MaxRetransmits(n) => (None, Some(n)),
            Reliability::MaxLifetime(d) => (sent_at.checked_add(d), None),
        };
        self.next_msg_id += 1;
        self.msgs.push_back(OutMsg {
            id: self.next_msg_id,
            stream,
            // Assigned with the first fragment's TSN, so a message that expires unsent leaves no gap
            // in its stream's sequence numbers.
            ssn: 0,
            ppid,
            unordered: opts.unordered,
            data,
            offset: 0,
            expires,
            max_rtx,
        });
    }
}

/// Gives back an empty queue's allocation.
pub(super) fn release_if_empty<T>(q: &mut VecDeque<T>) {
    if q.is_empty() {
        *q = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use crate::chunk::data_flags;
    use crate::sender::test_util::*;
    use crate::sender::Sender;
    use crate::{CongestionControl, Reliability, SendOptions};

    #[test]
    fn fragments_to_the_mtu() {
        let now = t0();
        let mut s = Sender::new(7, 1188, 4, CongestionControl::default());
        s.peer_rwnd = 1 << 20;
        s.enqueue(
            now,
            3,
            51,
            Bytes::from(vec![1; 3000]),
            SendOptions::default(),
            false,
        );
        let mut got = Vec::new();
        while let Some(c) = s.next_new_chunk(now, 1176) {
            got.push((c.tsn, c.flags, c.data.len()));
        }
        let t = got[0].0;
        assert_eq!(
            got,
            vec![
                (t, data_flags::BEGIN, 1160),
                (t + 1, 0, 1160),
                (t + 2, data_flags::END, 680)
            ]
        );
        assert_eq!(s.buffered_amount(3), 3000);
    }

    #[test]
    fn expired_lifetime_drops_unsent_messages() {
        let now = t0();
        let mut s = Sender::new(1, 1188, 4, CongestionControl::default());
        s.peer_rwnd = 1 << 20;
        let opts = SendOptions {
            unordered: true,
            reliability: Reliability::MaxLifetime(Duration::from_millis(10)),
        };
        s.enqueue(now, 0, 53, Bytes::from_static(b"late"), opts, false);
        assert!(s.next_new_chunk(now + Duration::from_millis(11), 1176).is_none());
        assert_eq!(s.abandoned_messages, 1);
        assert!(s.is_idle());
    }
}
