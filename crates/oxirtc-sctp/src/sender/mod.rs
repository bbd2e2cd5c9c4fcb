//! The sending half of an association: the in-flight queue keyed by TSN and what may go out next
//! (RFC 9260 §6.1 rules A and B). Each job is in a file of its own:
//!
//! - `queue.rs`: messages waiting for their TSNs, SSNs (§6.5), fragmentation (§6.9), messages held
//!   during a stream reset (RFC 6525 §5.1.2), per-stream buffered amounts.
//! - `sack.rs`: SACK processing: cumulative ack, gap blocks, renege, duplicate TSNs (§6.2.1, §3.3.4),
//!   and what the congestion controller is told of it.
//! - `recovery.rs`: marking chunks for retransmission, miss indications and fast recovery (§7.2.4),
//!   undoing a recovery that proved spurious, T3-rtx expiry (§6.3.3).
//! - `rack.rs`: RACK loss detection and tail loss probes as the sender runs them (RFC 8985; the
//!   RACK state itself is `crate::loss`).
//! - `abandon.rs`: PR-SCTP abandonment and the FORWARD TSN it calls for (RFC 3758 §3.5).
//! - `cc/`: congestion control behind the `Controller` trait; `cc/reno.rs` is RFC 9260 §7.2.

mod abandon;
mod cc;
mod queue;
mod rack;
mod recovery;
mod sack;
#[cfg(test)]
mod test_util;

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::chunk::DataChunk;
use crate::loss::Rack;
use crate::{CongestionControl, SendOptions};
use cc::{Controller, CwndUse};
use queue::{release_if_empty, SendQueue};
use recovery::Undo;

/// DATA chunk header size (RFC 9260 §3.3.1).
pub(crate) const DATA_HEADER: usize = 16;

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
    /// Messages not yet (fully) cut into chunks, with the per-stream accounting.
    queue: SendQueue,
    inflight: VecDeque<OutChunk>,
    pub(crate) next_tsn: u64,
    /// Highest TSN cumulatively acknowledged by the peer.
    pub(crate) cum_ack: u64,
    pub(crate) flight_size: usize,
    /// cwnd and ssthresh (RFC 9260 §7.2 unless `SctpConfig::congestion_control` says otherwise).
    cc: Box<dyn Controller>,
    /// Whether cwnd was fully used, judged per round trip: the controller's growth condition.
    cwnd_use: CwndUse,
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
    /// The last loss event's retransmissions, until they prove real or spurious.
    undo: Option<Undo>,
    /// Loss events undone because every retransmission was reported duplicate.
    pub(crate) spurious_recoveries: u64,
    /// Transmissions so far (numbers `OutChunk::xmit_seq`).
    xmit_counter: u64,
}

impl Sender {
    pub(crate) fn new(initial_tsn: u32, mtu: usize, max_burst: u32, cc: CongestionControl) -> Self {
        let first = u64::from(initial_tsn) + (1 << 32); // unwrapped far from zero
        Self {
            queue: SendQueue::default(),
            inflight: VecDeque::new(),
            next_tsn: first,
            cum_ack: first - 1,
            flight_size: 0,
            cc: cc::new_controller(cc, mtu),
            cwnd_use: CwndUse::new(first - 1),
            peer_rwnd: 0,
            fast_recovery_exit: None,
            rtx_count: 0,
            gap_acked: 0,
            rtx_override: false,
            adv_peer_ack: first - 1,
            forward_tsn_pending: false,
            mtu,
            max_burst: max_burst.max(1) as usize,
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
        }
    }

    /// A new packet size (PLPMTUD, RFC 8899): later fragments and cwnd steps use it.
    pub(crate) fn set_mtu(&mut self, mtu: usize) {
        self.mtu = mtu;
        self.cc.set_mtu(mtu);
    }

    /// Largest user payload of one DATA chunk in a packet of `mtu` bytes.
    pub(crate) fn max_payload(&self) -> usize {
        (self
            .mtu
            .saturating_sub(crate::packet::COMMON_HEADER_LEN + DATA_HEADER)
            & !3)
            .max(4)
    }

    /// The congestion window in bytes (RFC 9260 §7.2).
    pub(crate) fn cwnd(&self) -> usize {
        self.cc.window()
    }

    /// The slow-start threshold in bytes (RFC 9260 §7.2).
    pub(crate) fn ssthresh(&self) -> usize {
        self.cc.ssthresh()
    }

    pub(crate) fn buffered_amount(&self, stream: u16) -> usize {
        self.queue.buffered_amount(stream)
    }

    /// Bytes queued or in flight, not yet acknowledged or abandoned, over all streams.
    pub(crate) fn total_buffered(&self) -> usize {
        self.queue.total_buffered()
    }

    pub(crate) fn set_low_threshold(&mut self, stream: u16, bytes: usize) {
        self.queue.set_low_threshold(stream, bytes);
    }

    /// The streams whose buffered amount fell to or below their low threshold since the last call.
    pub(crate) fn take_low_events(&mut self) -> Vec<u16> {
        self.queue.take_low_events()
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
        self.queue.enqueue(now, stream, ppid, data, opts, hold);
    }

    /// The streams that still have unsent messages queued.
    pub(crate) fn queued_streams(&self) -> HashSet<u16> {
        self.queue.queued_streams()
    }

    /// RFC 6525 §5.1.2 / RFC 8831 §6.7: the reset completed; SSNs restart at 0 and held messages go out.
    pub(crate) fn streams_reset(&mut self, streams: &[u16], still_pending: impl Fn(u16) -> bool) {
        self.queue.streams_reset(streams, still_pending);
    }

    /// Nothing queued and nothing outstanding (RFC 9260 §9.2 precondition for SHUTDOWN).
    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.inflight.is_empty()
    }

    /// Whether user data waits to be sent for the first time.
    pub(crate) fn has_queued(&self) -> bool {
        self.queue.has_queued()
    }

    /// Frees the capacity the empty queues kept from the last burst (an idle connection holds none);
    /// the next burst allocates it again.
    pub(crate) fn release_idle_buffers(&mut self) {
        self.queue.release_idle_buffers();
        release_if_empty(&mut self.inflight);
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
        if !self.queue.has_queued() || (self.flight_size >= self.cwnd() && !self.probe_new) {
            return false;
        }
        // Rule A: respect the peer's rwnd, except for one zero-window probe when nothing is in flight.
        let next = self.queue.head_len(self.max_payload());
        self.peer_rwnd >= next || self.flight_size == 0
    }

    /// Cuts the next fragment of the queue head and gives it a TSN (RFC 9260 §6.9). Messages whose
    /// lifetime expired before their first fragment went out are dropped (RFC 3758 §3.5).
    pub(crate) fn next_new_chunk(&mut self, now: Instant, max_len: usize) -> Option<&mut OutChunk> {
        self.abandoned_messages += self.queue.drop_expired_head(now);
        let full = self.max_payload();
        let max_payload = full.min(max_len.checked_sub(DATA_HEADER)? & !3);
        if max_payload == 0 {
            return None;
        }
        let f = self.queue.next_fragment(max_payload, full)?;
        self.inflight.push_back(OutChunk {
            tsn: self.next_tsn,
            msg_id: f.msg_id,
            stream: f.stream,
            ssn: f.ssn,
            ppid: f.ppid,
            flags: f.flags,
            data: f.data,
            sent_count: 0,
            sent_at: now,
            xmit_seq: 0,
            state: ChunkState::InFlight,
            miss: 0,
            fast_retransmitted: false,
            expires: f.expires,
            max_rtx: f.max_rtx,
            buffered: true,
        });
        self.next_tsn += 1;
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
            self.note_retransmission(tsn);
        }
        self.flight_size += len;
        self.cwnd_use.on_sent(self.flight_size);
        self.peer_rwnd = self.peer_rwnd.saturating_sub(len);
    }

    pub(crate) fn chunk(&self, tsn: u64) -> Option<&OutChunk> {
        self.index_of(tsn).and_then(|i| self.inflight.get(i))
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
}
