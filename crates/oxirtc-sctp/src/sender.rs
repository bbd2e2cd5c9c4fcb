//! The sending half: message queue, fragmentation, the in-flight queue keyed by TSN, SACK processing,
//! congestion control (RFC 9260 §6.1, §6.2.1, §7.2) and PR-SCTP abandonment (RFC 3758 §3.5).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::chunk::{data_flags, DataChunk, SackChunk};
use crate::types::unwrap_tsn;
use crate::{Reliability, SendOptions};

/// DATA chunk header size (RFC 9260 §3.3.1).
pub(crate) const DATA_HEADER: usize = 16;

/// A message waiting for (the rest of) its TSNs.
#[derive(Debug)]
struct OutMsg {
    id: u64,
    stream: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    data: Bytes,
    offset: usize,
    expires: Option<Instant>,
    max_rtx: Option<u16>,
}

/// What happened to a chunk since it got its TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    /// Sent and outstanding: counted in the flight size.
    InFlight,
    /// Reported received in a Gap Ack Block.
    GapAcked,
    /// Marked for retransmission (T3 expiry or fast retransmit).
    ToRetransmit,
    /// Given up by PR-SCTP (RFC 3758 §3.5).
    Abandoned,
}

/// One DATA chunk between its first transmission and its cumulative acknowledgement.
#[derive(Debug)]
pub(crate) struct OutChunk {
    pub(crate) tsn: u64,
    msg_id: u64,
    pub(crate) stream: u16,
    pub(crate) ssn: u16,
    pub(crate) ppid: u32,
    pub(crate) flags: u8,
    pub(crate) data: Bytes,
    pub(crate) sent_count: u16,
    sent_at: Instant,
    pub(crate) state: ChunkState,
    miss: u8,
    /// Fast retransmit already used for this TSN (RFC 9260 §7.2.4: at most once; T3 covers the rest).
    fast_retransmitted: bool,
    expires: Option<Instant>,
    max_rtx: Option<u16>,
    /// Counted in the per-stream buffered amount until acked or abandoned.
    buffered: bool,
}

impl OutChunk {
    pub(crate) fn as_data(&self) -> DataChunk<'_> {
        DataChunk {
            flags: self.flags,
            tsn: self.tsn as u32,
            stream: self.stream,
            ssn: self.ssn,
            ppid: self.ppid,
            payload: &self.data,
        }
    }

    pub(crate) fn wire_len(&self) -> usize {
        crate::reader::padded(DATA_HEADER + self.data.len())
    }
}

#[derive(Debug, Default)]
struct StreamBuf {
    amount: usize,
    low_threshold: usize,
}

/// What one SACK changed.
#[derive(Debug, Default)]
pub(crate) struct SackOutcome {
    /// An RTT measurement from a chunk sent exactly once (Karn's rule, RFC 9260 §6.3.1 C5).
    pub(crate) rtt: Option<Duration>,
    /// The cumulative TSN ack advanced.
    pub(crate) cum_advanced: bool,
    /// Chunks were newly acknowledged (cumulatively or by gap blocks).
    pub(crate) new_data_acked: bool,
    /// Chunks were marked for fast retransmission.
    pub(crate) fast_retransmits: u64,
    /// User bytes newly acknowledged.
    pub(crate) bytes_acked: usize,
}

/// Sender state of an association.
#[derive(Debug)]
pub(crate) struct Sender {
    queue: VecDeque<OutMsg>,
    /// Messages held back while their stream's reset is pending (RFC 6525 §5.1.2).
    held: VecDeque<(u16, u32, Bytes, SendOptions, Instant)>,
    inflight: VecDeque<OutChunk>,
    next_msg_id: u64,
    pub(crate) next_tsn: u64,
    /// Highest TSN cumulatively acknowledged by the peer.
    pub(crate) cum_ack: u64,
    next_ssn: HashMap<u16, u16>,
    streams: HashMap<u16, StreamBuf>,
    pub(crate) total_buffered: usize,
    pub(crate) flight_size: usize,
    pub(crate) cwnd: usize,
    pub(crate) ssthresh: usize,
    partial_bytes_acked: usize,
    pub(crate) peer_rwnd: usize,
    fast_recovery_exit: Option<u64>,
    rtx_count: usize,
    /// Chunks in the GapAcked state.
    gap_acked: usize,
    /// Let the next packet carry retransmissions regardless of cwnd (RFC 9260 §7.2.4 rule 3).
    pub(crate) rtx_override: bool,
    pub(crate) adv_peer_ack: u64,
    pub(crate) forward_tsn_pending: bool,
    mtu: usize,
    pub(crate) max_burst: usize,
    pub(crate) low_events: Vec<u16>,
    pub(crate) abandoned_messages: u64,
    pub(crate) retransmissions: u64,
    pub(crate) fast_retransmits: u64,
    pub(crate) peer_forward_tsn: bool,
}

impl Sender {
    pub(crate) fn new(initial_tsn: u32, mtu: usize, max_burst: u32) -> Self {
        let first = u64::from(initial_tsn) + (1 << 32); // unwrapped far from zero
        Self {
            queue: VecDeque::new(),
            held: VecDeque::new(),
            inflight: VecDeque::new(),
            next_msg_id: 0,
            next_tsn: first,
            cum_ack: first - 1,
            next_ssn: HashMap::new(),
            streams: HashMap::new(),
            total_buffered: 0,
            flight_size: 0,
            // RFC 9260 §7.2.1: initial cwnd = min(4 * MTU, max(2 * MTU, 4404)).
            cwnd: (4 * mtu).min((2 * mtu).max(4404)),
            ssthresh: usize::MAX,
            partial_bytes_acked: 0,
            peer_rwnd: 0,
            fast_recovery_exit: None,
            rtx_count: 0,
            gap_acked: 0,
            rtx_override: false,
            adv_peer_ack: first - 1,
            forward_tsn_pending: false,
            mtu,
            max_burst: max_burst.max(1) as usize,
            low_events: Vec::new(),
            abandoned_messages: 0,
            retransmissions: 0,
            fast_retransmits: 0,
            peer_forward_tsn: false,
        }
    }

    /// A new packet size (PLPMTUD, RFC 8899): later fragments and cwnd steps use it.
    pub(crate) fn set_mtu(&mut self, mtu: usize) {
        self.mtu = mtu;
    }

    /// Largest user payload of one DATA chunk in a packet of `mtu` bytes.
    pub(crate) fn max_payload(&self) -> usize {
        (self
            .mtu
            .saturating_sub(crate::packet::COMMON_HEADER_LEN + DATA_HEADER)
            & !3)
            .max(4)
    }

    pub(crate) fn buffered_amount(&self, stream: u16) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.amount)
    }

    pub(crate) fn set_low_threshold(&mut self, stream: u16, bytes: usize) {
        self.streams.entry(stream).or_default().low_threshold = bytes;
    }

    fn add_buffered(&mut self, stream: u16, n: usize) {
        self.streams.entry(stream).or_default().amount += n;
        self.total_buffered += n;
    }

    fn sub_buffered(&mut self, stream: u16, n: usize) {
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

    /// Queues a message (already checked by the caller). `hold` keeps it back for a pending reset.
    pub(crate) fn enqueue(
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
        self.push_queue(now, stream, ppid, data, opts);
    }

    fn push_queue(&mut self, sent_at: Instant, stream: u16, ppid: u32, data: Bytes, opts: SendOptions) {
        let (expires, max_rtx) = match opts.reliability {
            Reliability::Reliable => (None, None),
            Reliability::MaxRetransmits(n) => (None, Some(n)),
            Reliability::MaxLifetime(d) => (sent_at.checked_add(d), None),
        };
        self.next_msg_id += 1;
        self.queue.push_back(OutMsg {
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

    /// The streams that still have unsent messages queued.
    pub(crate) fn queued_streams(&self) -> std::collections::HashSet<u16> {
        self.queue.iter().map(|m| m.stream).collect()
    }

    /// RFC 6525 §5.1.2 / RFC 8831 §6.7: the reset completed; SSNs restart at 0 and held messages go out.
    pub(crate) fn streams_reset(&mut self, streams: &[u16], still_pending: impl Fn(u16) -> bool) {
        for s in streams {
            self.next_ssn.remove(s);
        }
        let held = std::mem::take(&mut self.held);
        for (stream, ppid, data, opts, at) in held {
            if still_pending(stream) {
                self.held.push_back((stream, ppid, data, opts, at));
            } else {
                self.push_queue(at, stream, ppid, data, opts);
            }
        }
    }

    /// Nothing queued and nothing outstanding (RFC 9260 §9.2 precondition for SHUTDOWN).
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.inflight.is_empty() && self.held.is_empty()
    }

    pub(crate) fn has_outstanding(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// Last TSN assigned (wire form), for SHUTDOWN and stream reset requests.
    pub(crate) fn last_assigned_tsn(&self) -> u32 {
        (self.next_tsn - 1) as u32
    }

    /// May new DATA go out now? RFC 9260 §6.1 rules A and B, §7.2.1.
    pub(crate) fn can_send_new(&self) -> bool {
        if self.queue.is_empty() || self.flight_size >= self.cwnd {
            return false;
        }
        // Rule A: respect the peer's rwnd, except for one zero-window probe when nothing is in flight.
        let next = self
            .queue
            .front()
            .map_or(0, |m| (m.data.len() - m.offset).min(self.max_payload()));
        self.peer_rwnd >= next || self.flight_size == 0
    }

    /// Cuts the next fragment of the queue head and gives it a TSN (RFC 9260 §6.9). Messages whose
    /// lifetime expired before their first fragment went out are dropped (RFC 3758 §3.5).
    pub(crate) fn next_new_chunk(&mut self, now: Instant, max_len: usize) -> Option<&mut OutChunk> {
        loop {
            let msg = self.queue.front()?;
            let fresh = msg.offset == 0;
            if fresh && msg.expires.is_some_and(|e| e <= now) {
                let (stream, len) = (msg.stream, msg.data.len());
                self.queue.pop_front();
                self.sub_buffered(stream, len);
                self.abandoned_messages += 1;
                continue;
            }
            break;
        }
        let max_payload = self.max_payload().min(max_len.checked_sub(DATA_HEADER)? & !3);
        if max_payload == 0 {
            return None;
        }
        let full = self.max_payload();
        let msg = self.queue.front_mut()?;
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
        let chunk = OutChunk {
            tsn: self.next_tsn,
            msg_id: msg.id,
            stream: msg.stream,
            ssn: msg.ssn,
            ppid: msg.ppid,
            flags,
            data,
            sent_count: 0,
            sent_at: now,
            state: ChunkState::InFlight,
            miss: 0,
            fast_retransmitted: false,
            expires: msg.expires,
            max_rtx: msg.max_rtx,
            buffered: true,
        };
        if flags & data_flags::END != 0 {
            self.queue.pop_front();
        }
        self.next_tsn += 1;
        self.inflight.push_back(chunk);
        self.inflight.back_mut()
    }

    /// Records a (re)transmission of the chunk just built.
    pub(crate) fn on_chunk_sent(&mut self, now: Instant, tsn: u64) {
        let Some(c) = self.chunk_mut(tsn) else { return };
        let was = c.state;
        c.state = ChunkState::InFlight;
        c.sent_count = c.sent_count.saturating_add(1);
        c.sent_at = now;
        c.miss = 0;
        let len = c.data.len();
        let retransmission = c.sent_count > 1;
        if was == ChunkState::ToRetransmit {
            self.rtx_count -= 1;
        }
        if retransmission {
            self.retransmissions += 1;
        }
        self.flight_size += len;
        self.peer_rwnd = self.peer_rwnd.saturating_sub(len);
    }

    fn index_of(&self, tsn: u64) -> Option<usize> {
        let front = self.inflight.front()?.tsn;
        let i = usize::try_from(tsn.checked_sub(front)?).ok()?;
        (i < self.inflight.len()).then_some(i)
    }

    fn chunk_mut(&mut self, tsn: u64) -> Option<&mut OutChunk> {
        let i = self.index_of(tsn)?;
        self.inflight.get_mut(i)
    }

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

    pub(crate) fn chunk(&self, tsn: u64) -> Option<&OutChunk> {
        self.index_of(tsn).and_then(|i| self.inflight.get(i))
    }

    pub(crate) fn has_retransmits(&self) -> bool {
        self.rtx_count > 0
    }

    /// Marks a chunk for retransmission, or abandons its message if its PR-SCTP policy says so.
    fn mark_for_retransmit(&mut self, i: usize, now: Instant) -> bool {
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

    /// Abandons every chunk of the message `tsn` belongs to, and its unsent rest (RFC 3758 §3.5 A3).
    fn abandon_at(&mut self, tsn: u64, now: Instant) {
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
                self.sub_buffered(stream, len);
            }
            j += 1;
        }
        if self.queue.front().is_some_and(|m| m.id == id) {
            if let Some(m) = self.queue.pop_front() {
                self.sub_buffered(m.stream, m.data.len() - m.offset);
                self.push_abandoned_end(&m, now);
            }
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
            state: ChunkState::Abandoned,
            miss: 0,
            fast_retransmitted: true,
            expires: None,
            max_rtx: None,
            buffered: false,
        });
        self.next_tsn += 1;
    }

    /// Processes a SACK (RFC 9260 §6.2.1, §7.2.1–§7.2.4).
    pub(crate) fn on_sack(&mut self, now: Instant, sack: &SackChunk<'_>) -> SackOutcome {
        let mut out = SackOutcome::default();
        let cum = unwrap_tsn(self.cum_ack, sack.cum_tsn_ack);
        // §6.2.1 D i: a SACK older than the current cumulative ack is stale; one acking unsent TSNs is bogus.
        if cum < self.cum_ack || cum >= self.next_tsn {
            return out;
        }
        let flight_before = self.flight_size;
        let mut bytes_acked = 0;
        let mut htna: Option<u64> = None;
        let mut rtt_from: Option<Instant> = None;
        while self.inflight.front().is_some_and(|c| c.tsn <= cum) {
            let Some(c) = self.inflight.pop_front() else { break };
            self.account_ack(&c, &mut bytes_acked, &mut htna, &mut rtt_from);
        }
        out.cum_advanced = cum > self.cum_ack;
        self.cum_ack = cum;
        self.adv_peer_ack = self.adv_peer_ack.max(cum);
        self.apply_gap_blocks(sack, &mut bytes_acked, &mut htna, &mut rtt_from);
        out.new_data_acked = bytes_acked > 0;
        out.bytes_acked = bytes_acked;
        out.rtt = rtt_from.map(|t| now.saturating_duration_since(t));
        if let Some(h) = htna {
            out.fast_retransmits = self.count_misses(now, h);
        }
        if self.fast_recovery_exit.is_some_and(|e| cum >= e) {
            self.fast_recovery_exit = None;
        }
        self.adjust_cwnd(out.cum_advanced, bytes_acked, flight_before);
        self.peer_rwnd = (sack.a_rwnd as usize).saturating_sub(self.flight_size);
        self.update_adv_peer_ack();
        out
    }

    fn account_ack(
        &mut self,
        c: &OutChunk,
        bytes: &mut usize,
        htna: &mut Option<u64>,
        rtt: &mut Option<Instant>,
    ) {
        match c.state {
            ChunkState::InFlight | ChunkState::ToRetransmit => {
                if c.state == ChunkState::InFlight {
                    self.flight_size = self.flight_size.saturating_sub(c.data.len());
                } else {
                    self.rtx_count -= 1;
                }
                *bytes += c.data.len();
                *htna = Some(htna.map_or(c.tsn, |h: u64| h.max(c.tsn)));
                if c.sent_count == 1 && c.state == ChunkState::InFlight {
                    *rtt = Some(rtt.map_or(c.sent_at, |t: Instant| t.max(c.sent_at)));
                }
            }
            ChunkState::GapAcked => self.gap_acked -= 1,
            ChunkState::Abandoned => {}
        }
        if c.buffered {
            self.sub_buffered(c.stream, c.data.len());
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

    fn apply_gap_blocks(
        &mut self,
        sack: &SackChunk<'_>,
        bytes: &mut usize,
        htna: &mut Option<u64>,
        rtt: &mut Option<Instant>,
    ) {
        let Some(front) = self.inflight.front().map(|c| c.tsn) else {
            return;
        };
        let last = front + self.inflight.len() as u64 - 1;
        if self.gap_acked > 0 {
            self.renege(sack);
        }
        for (s, e) in sack.gap_blocks() {
            if s == 0 || e < s {
                continue;
            }
            let lo = (self.cum_ack + u64::from(s)).max(front);
            let hi = (self.cum_ack + u64::from(e)).min(last);
            for tsn in lo..=hi {
                let i = (tsn - front) as usize;
                let c = &mut self.inflight[i];
                if matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit) {
                    let prev = c.state;
                    c.state = ChunkState::GapAcked;
                    self.gap_acked += 1;
                    let (stream, len, buffered) = (c.stream, c.data.len(), std::mem::take(&mut c.buffered));
                    let (count, at) = (c.sent_count, c.sent_at);
                    if prev == ChunkState::InFlight {
                        self.flight_size = self.flight_size.saturating_sub(len);
                        if count == 1 {
                            *rtt = Some(rtt.map_or(at, |t: Instant| t.max(at)));
                        }
                    } else {
                        self.rtx_count -= 1;
                    }
                    if buffered {
                        self.sub_buffered(stream, len);
                    }
                    *bytes += len;
                    *htna = Some(htna.map_or(tsn, |h: u64| h.max(tsn)));
                }
            }
        }
    }

    /// HTNA miss indications and fast retransmit (RFC 9260 §7.2.4).
    fn count_misses(&mut self, now: Instant, htna: u64) -> u64 {
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
        if marked > 0 {
            self.fast_retransmits += marked;
            self.rtx_override = true;
            // §7.2.4 rule 2 / §7.2.3: enter Fast Recovery once per window of data.
            if self.fast_recovery_exit.is_none() {
                self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
                self.cwnd = self.ssthresh;
                self.partial_bytes_acked = 0;
                self.fast_recovery_exit = Some(self.next_tsn - 1);
            }
        }
        marked
    }

    /// Slow start and congestion avoidance (RFC 9260 §7.2.1, §7.2.2). Max.Burst (§6.1) limits packets
    /// per trigger in the transmit path instead of shrinking cwnd.
    fn adjust_cwnd(&mut self, cum_advanced: bool, bytes_acked: usize, flight_before: usize) {
        let fully_used = flight_before + self.mtu > self.cwnd;
        if cum_advanced && self.fast_recovery_exit.is_none() && fully_used {
            if self.cwnd <= self.ssthresh {
                self.cwnd += bytes_acked.min(self.mtu);
            } else {
                self.partial_bytes_acked += bytes_acked;
                if self.partial_bytes_acked >= self.cwnd {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        if self.flight_size == 0 {
            self.partial_bytes_acked = 0;
        }
    }

    /// T3-rtx expired (RFC 9260 §6.3.3 E1, E3): collapse cwnd, mark everything outstanding.
    pub(crate) fn on_t3_expired(&mut self, now: Instant) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.fast_recovery_exit = None;
        for i in 0..self.inflight.len() {
            self.mark_for_retransmit(i, now);
        }
        self.update_adv_peer_ack();
        if self.adv_peer_ack > self.cum_ack {
            self.forward_tsn_pending = true;
        }
        self.rtx_override = true;
    }

    /// Advances the Advanced.Peer.Ack.Point over abandoned chunks (RFC 3758 §3.5 C1–C2).
    fn update_adv_peer_ack(&mut self) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{encode_sack, Chunk};

    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn t0() -> Instant {
        Instant::now()
    }

    fn sack(cum: u64, gaps: &[(u16, u16)], f: impl FnOnce(&SackChunk<'_>)) {
        let mut v = Vec::new();
        encode_sack(&mut v, cum as u32, 1 << 20, gaps, &[]);
        let Ok(Chunk::Sack(s)) = Chunk::parse(v[0], v[1], &v[4..]) else {
            panic!()
        };
        f(&s);
    }

    /// A sender with `n` single-chunk messages of 1000 bytes sent; returns it and the first TSN.
    fn sent(n: usize, opts: SendOptions) -> (Sender, u64, Instant) {
        let now = t0();
        let mut s = Sender::new(100, 1188, 4);
        s.peer_rwnd = 1 << 20;
        s.peer_forward_tsn = true;
        s.cwnd = 1 << 20;
        for i in 0..n {
            s.enqueue(
                now,
                (i % 2) as u16,
                53,
                Bytes::from(vec![i as u8; 1000]),
                opts,
                false,
            );
        }
        let first = s.next_tsn;
        while s.can_send_new() {
            let tsn = s.next_new_chunk(now, 1176).unwrap().tsn;
            s.on_chunk_sent(now, tsn);
        }
        (s, first, now)
    }

    #[test]
    fn fragments_to_the_mtu() {
        let now = t0();
        let mut s = Sender::new(7, 1188, 4);
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
    fn sack_with_gaps_then_fast_retransmit_once() {
        let (mut s, first, now) = sent(10, SendOptions::default());
        assert_eq!(s.flight_size, 10_000);
        let cwnd = s.cwnd;
        // TSN first+1 is lost; the peer reports first+2.. as gap blocks, growing.
        let mut fast = 0;
        for end in 2..=4u16 {
            sack(first, &[(2, end)], |k| fast += s.on_sack(now, k).fast_retransmits);
        }
        assert_eq!(fast, 1);
        assert!(s.has_retransmits());
        assert!(s.cwnd < cwnd && s.cwnd == s.ssthresh && s.ssthresh >= 4 * 1188);
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
    fn reneged_gap_blocks_become_outstanding_again() {
        let (mut s, first, now) = sent(4, SendOptions::default());
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
        let mut s = Sender::new(1, 1188, 4);
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

    #[test]
    fn expired_lifetime_drops_unsent_messages() {
        let now = t0();
        let mut s = Sender::new(1, 1188, 4);
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
