//! The sending half: message queue, fragmentation, the in-flight queue keyed by TSN, SACK processing,
//! congestion control (RFC 9260 §6.1, §6.2.1, §7.2) and PR-SCTP abandonment (RFC 3758 §3.5). Loss
//! detection combines RFC 9260 §7.2.4's miss indications with RACK and tail loss probes (RFC 8985,
//! see `loss.rs`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::chunk::{data_flags, DataChunk, SackChunk};
use crate::loss::Rack;
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
    /// Number of the last transmission (the sender's counter), for RACK's ordering (RFC 8985 §6.2).
    xmit_seq: u64,
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

/// Most retransmissions one loss event may make and still be undone when all prove spurious.
const MAX_UNDO_RTX: usize = 64;

/// What a loss event took away, kept until its retransmissions are judged (RFC 8985 §6.2 step 4's
/// D-SACK evidence, used the way RFC 4015 / Linux's undo use it).
#[derive(Debug)]
struct Undo {
    cwnd: usize,
    ssthresh: usize,
    /// TSNs retransmitted since the event began and not yet reported duplicate by the peer.
    retransmitted: Vec<u64>,
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
    /// RACK / TLP state (RFC 8985).
    pub(crate) rack: Rack,
    /// Highest TSN ever retransmitted: above it, chunks were sent once, in TSN order.
    max_rtx_tsn: u64,
    /// Highest TSN ever reported in a gap block (for telling a reordered old SACK from a renege).
    highest_gap_acked: u64,
    /// A loss probe of new data may go out once regardless of cwnd (RFC 8985 §7.3).
    pub(crate) probe_new: bool,
    /// Chunks RACK declared lost (RFC 8985 §6.2).
    pub(crate) rack_losses: u64,
    /// Loss probes sent (RFC 8985 §7.3).
    pub(crate) loss_probes: u64,
    /// Duplicate TSNs the peer reported (RFC 9260 §3.3.4).
    pub(crate) peer_duplicates: u64,
    /// The last loss event's cwnd cut, until its retransmissions prove real or spurious.
    undo: Option<Undo>,
    /// Loss events undone because every retransmission was reported duplicate.
    pub(crate) spurious_recoveries: u64,
    /// Transmissions so far (numbers `OutChunk::xmit_seq`).
    xmit_counter: u64,
    /// Largest flight size in the current round trip.
    flight_peak: usize,
    /// The current round trip ends when the cum ack reaches this TSN.
    round_end: u64,
    /// cwnd was fully used in the previous round trip.
    was_cwnd_limited: bool,
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
            rack: Rack::new(first - 1),
            max_rtx_tsn: first - 1,
            highest_gap_acked: first - 1,
            probe_new: false,
            rack_losses: 0,
            loss_probes: 0,
            peer_duplicates: 0,
            undo: None,
            spurious_recoveries: 0,
            xmit_counter: 0,
            flight_peak: 0,
            round_end: first - 1,
            was_cwnd_limited: false,
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

    /// Whether user data waits to be sent for the first time.
    pub(crate) fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Frees the capacity the empty queues kept from the last burst (an idle connection holds none);
    /// the next burst allocates it again.
    pub(crate) fn release_idle_buffers(&mut self) {
        release_if_empty(&mut self.queue);
        release_if_empty(&mut self.held);
        release_if_empty(&mut self.inflight);
        if self.low_events.is_empty() {
            self.low_events = Vec::new();
        }
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
        // RFC 8985 §7.3: a loss probe of new data goes out regardless of cwnd.
        if self.queue.is_empty() || (self.flight_size >= self.cwnd && !self.probe_new) {
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
            xmit_seq: 0,
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
        self.xmit_counter += 1;
        let seq = self.xmit_counter;
        let Some(c) = self.chunk_mut(tsn) else { return };
        c.xmit_seq = seq;
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
            self.max_rtx_tsn = self.max_rtx_tsn.max(tsn);
            if let Some(u) = self.undo.as_mut() {
                if u.retransmitted.len() >= MAX_UNDO_RTX {
                    self.undo = None;
                } else if !u.retransmitted.contains(&tsn) {
                    u.retransmitted.push(tsn);
                }
            }
        }
        self.flight_size += len;
        self.flight_peak = self.flight_peak.max(self.flight_size);
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
        let mut bytes_acked = 0;
        let mut htna: Option<u64> = None;
        let mut rtt_from: Option<Instant> = None;
        while self.inflight.front().is_some_and(|c| c.tsn <= cum) {
            let Some(c) = self.inflight.pop_front() else { break };
            if matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit) {
                self.rack
                    .on_delivered(now, c.tsn, c.xmit_seq, c.sent_at, c.sent_count > 1);
            }
            self.account_ack(&c, &mut bytes_acked, &mut htna, &mut rtt_from);
        }
        out.cum_advanced = cum > self.cum_ack;
        self.cum_ack = cum;
        self.adv_peer_ack = self.adv_peer_ack.max(cum);
        self.apply_gap_blocks(now, sack, &mut bytes_acked, &mut htna, &mut rtt_from);
        self.rack.end_sack();
        out.new_data_acked = bytes_acked > 0;
        out.bytes_acked = bytes_acked;
        out.rtt = rtt_from.map(|t| now.saturating_duration_since(t));
        // RFC 9260 §7.2.4's three miss indications stay in force until the path shows reordering;
        // from then on RACK's reordering window decides alone (RFC 8985 §6.2).
        if let Some(h) = htna.filter(|_| !self.rack.reordering_seen) {
            out.fast_retransmits = self.count_misses(now, h);
        }
        if out.new_data_acked {
            out.fast_retransmits += self.detect_losses(now);
        }
        if self.fast_recovery_exit.is_some_and(|e| cum >= e) {
            self.fast_recovery_exit = None;
        }
        self.end_probe_episode(cum);
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
        now: Instant,
        sack: &SackChunk<'_>,
        bytes: &mut usize,
        htna: &mut Option<u64>,
        rtt: &mut Option<Instant>,
    ) {
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
                let i = (tsn - front) as usize;
                let c = &mut self.inflight[i];
                if matches!(c.state, ChunkState::InFlight | ChunkState::ToRetransmit) {
                    let prev = c.state;
                    c.state = ChunkState::GapAcked;
                    self.gap_acked += 1;
                    let (stream, len, buffered) = (c.stream, c.data.len(), std::mem::take(&mut c.buffered));
                    let (count, at) = (c.sent_count, c.sent_at);
                    self.rack.on_delivered(now, tsn, c.xmit_seq, at, count > 1);
                    self.highest_gap_acked = self.highest_gap_acked.max(tsn);
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
        self.on_losses(marked);
        marked
    }

    /// Chunks were just marked lost (miss indications, RACK or its timer): RFC 9260 §7.2.4 rules 2–3.
    fn on_losses(&mut self, marked: u64) {
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
                cwnd: self.cwnd,
                ssthresh: self.ssthresh,
                retransmitted: Vec::new(),
            });
            self.reduce_cwnd();
            self.fast_recovery_exit = Some(self.next_tsn - 1);
            self.rack.on_recovery();
            tracing::debug!(
                marked,
                cwnd = self.cwnd,
                flight = self.flight_size,
                reordering = self.rack.reordering_seen,
                "SCTP fast recovery"
            );
        }
    }

    /// The peer reported `tsn` duplicate. Once every retransmission of the last loss event was, the
    /// event was reordering, not loss: cwnd and ssthresh come back (as TCP's D-SACK undo does).
    fn undo_if_spurious(&mut self, tsn: u64) {
        let Some(u) = self.undo.as_mut() else { return };
        let Some(i) = u.retransmitted.iter().position(|&t| t == tsn) else {
            return;
        };
        u.retransmitted.swap_remove(i);
        if !u.retransmitted.is_empty() {
            return;
        }
        if let Some(u) = self.undo.take() {
            self.cwnd = self.cwnd.max(u.cwnd);
            self.ssthresh = self.ssthresh.max(u.ssthresh);
            self.fast_recovery_exit = None;
            self.spurious_recoveries += 1;
            tracing::debug!(cwnd = self.cwnd, "SCTP spurious fast recovery undone");
        }
    }

    /// Multiplicative decrease of RFC 9260 §7.2.3.
    fn reduce_cwnd(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
    }

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
        self.on_losses(marked);
        marked
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

    /// RFC 8985 §7.4: the probe episode ends when the cum ack covers it. A probe that retransmitted
    /// a chunk the peer did not report duplicate repaired a real loss: reduce cwnd as for fast
    /// recovery (§7.4.2), unless a recovery already did.
    fn end_probe_episode(&mut self, cum: u64) {
        if self.rack.tlp_end.is_none_or(|e| cum < e) {
            return;
        }
        self.rack.tlp_end = None;
        if self.rack.tlp_rtx.take().is_some() && self.fast_recovery_exit.is_none() {
            self.reduce_cwnd();
        }
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
        let next = self
            .queue
            .front()
            .map_or(0, |m| (m.data.len() - m.offset).min(self.max_payload()));
        if !self.queue.is_empty() && self.peer_rwnd >= next {
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

    /// Slow start and congestion avoidance (RFC 9260 §7.2.1, §7.2.2). Max.Burst (§6.1) limits packets
    /// per trigger in the transmit path instead of shrinking cwnd.
    ///
    /// "cwnd fully utilized" is judged over the last round trip, not per SACK: a batch of SACKs
    /// handled back to back empties the flight before the later ones are counted, which would stall
    /// growth on any path where packets travel in bursts (RFC 7661 §4 argues the same for TCP).
    fn adjust_cwnd(&mut self, cum_advanced: bool, bytes_acked: usize, flight_before: usize) {
        self.flight_peak = self.flight_peak.max(flight_before);
        let fully_used = self.was_cwnd_limited || self.flight_peak + self.mtu > self.cwnd;
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
        if self.cum_ack >= self.round_end {
            self.was_cwnd_limited = self.flight_peak + self.mtu > self.cwnd;
            self.flight_peak = self.flight_size;
            self.round_end = self.next_tsn - 1;
        }
        // §7.2.2: all data acked resets partial_bytes_acked; with more queued the sender is not idle,
        // just between two bursts.
        if self.flight_size == 0 && self.queue.is_empty() {
            self.partial_bytes_acked = 0;
        }
    }

    /// T3-rtx expired (RFC 9260 §6.3.3 E1, E3): collapse cwnd, mark everything outstanding.
    pub(crate) fn on_t3_expired(&mut self, now: Instant) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
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
}

/// Gives back an empty queue's allocation.
fn release_if_empty<T>(q: &mut VecDeque<T>) {
    if q.is_empty() {
        *q = VecDeque::new();
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
        // 1 ms later TSN first+1 is lost; the peer reports first+2.. as gap blocks, growing.
        let now = now + Duration::from_millis(1);
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

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Queues and sends `n` more 1000-byte messages at `now`.
    fn send_more(s: &mut Sender, now: Instant, n: usize) {
        for i in 0..n {
            s.enqueue(
                now,
                0,
                53,
                Bytes::from(vec![i as u8; 1000]),
                SendOptions::default(),
                false,
            );
        }
        while s.can_send_new() {
            let tsn = s.next_new_chunk(now, 1176).unwrap().tsn;
            s.on_chunk_sent(now, tsn);
        }
    }

    #[test]
    fn rack_finds_a_lost_retransmission_without_a_second_cwnd_cut() {
        let (mut s, first, t0) = sent(10, SendOptions::default());
        // 80 ms later: first+1 missing below three gap-acked chunks (no reordering seen: no wait).
        let mut fast = 0;
        sack(first, &[(2, 4)], |k| {
            fast += s.on_sack(t0 + ms(80), k).fast_retransmits
        });
        assert_eq!(fast, 1);
        let cut = s.cwnd;
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
        assert_eq!(s.cwnd, cut);
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
        let cwnd = s.cwnd;
        assert!(s.start_probe(t0 + ms(162)));
        assert!(!s.start_probe(t0 + ms(162)), "one probe per episode");
        assert_eq!(s.next_retransmit(t0 + ms(162)), Some(first + 3));
        s.on_chunk_sent(t0 + ms(162), first + 3);
        // The probe's SACK covers everything and reports no duplicate: the tail was lost.
        sack(first + 3, &[], |k| {
            s.on_sack(t0 + ms(242), k);
        });
        assert_eq!((s.loss_probes, s.cwnd), (1, cwnd / 2));
        assert!(s.rack.tlp_end.is_none());
    }

    #[test]
    fn probe_reported_duplicate_keeps_cwnd() {
        let (mut s, first, t0) = sent(4, SendOptions::default());
        s.rack.srtt = Some(ms(80));
        let cwnd = s.cwnd;
        assert!(s.start_probe(t0 + ms(162)));
        s.on_chunk_sent(t0 + ms(162), first + 3);
        sack_dups(first + 3, &[first + 3], |k| {
            s.on_sack(t0 + ms(242), k);
        });
        assert_eq!((s.peer_duplicates, s.cwnd), (1, cwnd));
    }

    /// A SACK chunk with duplicate TSNs.
    fn sack_dups(cum: u64, dups: &[u64], f: impl FnOnce(&SackChunk<'_>)) {
        let mut v = Vec::new();
        let dups: Vec<u32> = dups.iter().map(|&d| d as u32).collect();
        encode_sack(&mut v, cum as u32, 1 << 20, &[], &dups);
        let Ok(Chunk::Sack(k)) = Chunk::parse(v[0], v[1], &v[4..]) else {
            panic!()
        };
        f(&k);
    }

    #[test]
    fn a_recovery_whose_retransmissions_all_prove_spurious_is_undone() {
        let (mut s, first, t0) = sent(10, SendOptions::default());
        let (cwnd, ssthresh) = (s.cwnd, s.ssthresh);
        sack(first - 1, &[(2, 4)], |k| {
            assert_eq!(s.on_sack(t0 + ms(80), k).fast_retransmits, 1)
        });
        assert!(s.cwnd < cwnd);
        s.on_chunk_sent(t0 + ms(80), first);
        // The original was only late; the peer then reports the retransmission as a duplicate.
        sack(first + 3, &[], |k| {
            s.on_sack(t0 + ms(85), k);
        });
        sack_dups(first + 3, &[first], |k| {
            s.on_sack(t0 + ms(160), k);
        });
        assert_eq!((s.cwnd, s.ssthresh, s.spurious_recoveries), (cwnd, ssthresh, 1));
        assert!(s.rack.reordering_seen);
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
