//! The receiving half: TSN tracking for SACKs (RFC 9260 §6.2, §6.7), reassembly (§6.9), ordered and
//! unordered delivery (§6.6), FORWARD TSN (RFC 3758 §3.6) and incoming stream resets (RFC 6525 §5.2.2).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::chunk::DataChunk;
use crate::types::{ssn_after, unwrap_tsn};

/// TSNs accepted beyond the cumulative TSN: bounds the gap-tracking set whatever the peer does.
const MAX_TSN_AHEAD: u64 = 65_536;
/// Duplicate TSNs remembered for the next SACK.
const MAX_DUPS: usize = 32;
/// Gap Ack Blocks reported in one SACK.
pub(crate) const MAX_GAP_BLOCKS: usize = 64;

/// A complete message ready for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivered {
    pub(crate) stream: u16,
    pub(crate) ppid: u32,
    pub(crate) data: Vec<u8>,
    pub(crate) unordered: bool,
}

#[derive(Debug)]
struct Frag {
    stream: u16,
    ssn: u16,
    ppid: u32,
    flags: u8,
    data: Vec<u8>,
}

/// The message being reassembled in TSN order (RFC 9260 §6.9: a message's fragments carry
/// consecutive TSNs): each fragment that continues it is copied once, straight into the message.
#[derive(Debug)]
struct Assembly {
    first_tsn: u64,
    /// The TSN of the fragment that continues the message.
    next_tsn: u64,
    stream: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    ended: bool,
    data: Vec<u8>,
}

#[derive(Debug)]
struct Complete {
    first_tsn: u64,
    ssn: u16,
    msg: Delivered,
}

/// What became of one DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataOutcome {
    /// New data, recorded.
    Accepted,
    /// Already received: reported as a duplicate.
    Duplicate,
    /// Did not fit in the receive window: not recorded, the peer retransmits.
    WindowFull,
    /// Stream id not below the negotiated inbound streams: acked but discarded (RFC 9260 §6.5).
    InvalidStream,
    /// A reassembled message exceeded the maximum message size and was discarded.
    TooLarge,
}

/// An Outgoing SSN Reset Request waiting for the cumulative TSN (RFC 6525 §5.2.2 E2).
#[derive(Debug, Clone)]
pub(crate) struct DeferredReset {
    pub(crate) req_seq: u32,
    pub(crate) last_tsn: u64,
    pub(crate) streams: Vec<u16>,
}

/// Receiver state of an association.
#[derive(Debug)]
pub(crate) struct Receiver {
    pub(crate) cum: u64,
    highest: u64,
    received: BTreeSet<u64>,
    frags: BTreeMap<u64, Frag>,
    /// The message being reassembled in order; fragments that arrive out of order wait in `frags`.
    assembly: Option<Assembly>,
    /// Size of the last message reassembled: the capacity reserved for the next one (at most the
    /// maximum message size), so a stream of equal messages allocates once per message.
    last_assembled: usize,
    held: BTreeMap<(u16, u16), Complete>,
    next_ssn: HashMap<u16, u16>,
    /// Messages held back by a deferred reset (RFC 6525 §5.2.2 E2).
    deferred_msgs: VecDeque<Complete>,
    pub(crate) deferred: Option<DeferredReset>,
    dups: Vec<u32>,
    /// Bytes held in `frags`, `held` and `deferred_msgs`.
    pub(crate) buffered: usize,
    window: usize,
    max_message: usize,
    inbound_streams: u16,
    /// Delivered messages for the association to turn into events.
    pub(crate) ready: VecDeque<Delivered>,
    pub(crate) messages_too_large: u64,
    /// Ordered messages delivered over SSNs that could never arrive (see `skip_impossible_ssn_gaps`).
    pub(crate) ssn_gaps_skipped: u64,
    /// A TSN filled a hole: held messages may now be past every TSN a missing SSN could have used.
    hole_filled: bool,
}

impl Receiver {
    pub(crate) fn new(peer_initial_tsn: u32, window: u32, max_message: usize, inbound_streams: u16) -> Self {
        let cum = u64::from(peer_initial_tsn) + (1 << 32) - 1;
        Self {
            cum,
            highest: cum,
            received: BTreeSet::new(),
            frags: BTreeMap::new(),
            assembly: None,
            last_assembled: 0,
            held: BTreeMap::new(),
            next_ssn: HashMap::new(),
            deferred_msgs: VecDeque::new(),
            deferred: None,
            dups: Vec::new(),
            buffered: 0,
            window: window as usize,
            max_message,
            inbound_streams,
            ready: VecDeque::new(),
            messages_too_large: 0,
            ssn_gaps_skipped: 0,
            hole_filled: false,
        }
    }

    /// The window we advertise, given `undelivered` bytes the application has not taken yet (§6.2).
    /// Frees the capacity of the empty delivery and duplicate queues: the messages of the last
    /// burst (for most connections, the DCEP handshake) leave them grown (issue 15). The next
    /// message grows them again.
    pub(crate) fn release_idle_buffers(&mut self) {
        if self.ready.is_empty() {
            self.ready = VecDeque::new();
        }
        if self.deferred_msgs.is_empty() {
            self.deferred_msgs = VecDeque::new();
        }
        if self.dups.is_empty() {
            self.dups = Vec::new();
        }
    }

    pub(crate) fn a_rwnd(&self, undelivered: usize) -> u32 {
        self.window.saturating_sub(self.buffered + undelivered) as u32
    }

    /// There are gaps to report.
    pub(crate) fn has_gaps(&self) -> bool {
        !self.received.is_empty()
    }

    pub(crate) fn has_dups(&self) -> bool {
        !self.dups.is_empty()
    }

    /// Handles one DATA chunk (RFC 9260 §6.2).
    pub(crate) fn on_data(&mut self, d: &DataChunk<'_>, undelivered: usize) -> DataOutcome {
        let outcome = self.take_data(d, undelivered);
        if std::mem::take(&mut self.hole_filled) && !self.held.is_empty() {
            self.skip_impossible_ssn_gaps();
        }
        outcome
    }

    fn take_data(&mut self, d: &DataChunk<'_>, undelivered: usize) -> DataOutcome {
        let tsn = unwrap_tsn(self.cum, d.tsn);
        if tsn <= self.cum || self.received.contains(&tsn) {
            if self.dups.len() < MAX_DUPS {
                self.dups.push(d.tsn);
            }
            return DataOutcome::Duplicate;
        }
        if tsn - self.cum > MAX_TSN_AHEAD {
            return DataOutcome::WindowFull;
        }
        // §6.2: drop data beyond the window; a chunk filling a hole below the highest TSN gets a small
        // bounded allowance so a full buffer of out-of-order data can still complete.
        let limit = if tsn < self.highest {
            self.window + self.window / 8
        } else {
            self.window
        };
        if self.buffered + undelivered + d.payload.len() > limit {
            return DataOutcome::WindowFull;
        }
        self.record(tsn);
        if d.stream >= self.inbound_streams {
            return DataOutcome::InvalidStream;
        }
        self.buffered += d.payload.len();
        if let Some(outcome) = self.assemble(tsn, d) {
            return outcome;
        }
        let frag = Frag {
            stream: d.stream,
            ssn: d.ssn,
            ppid: d.ppid,
            flags: d.flags,
            data: d.payload.to_vec(),
        };
        if d.begin() && d.end() {
            self.buffered -= frag.data.len();
            self.complete(tsn, frag.ssn, frag.stream, frag.ppid, frag.data, d.unordered());
            return DataOutcome::Accepted;
        }
        self.frags.insert(tsn, frag);
        if self.try_reassemble(tsn) {
            DataOutcome::Accepted
        } else {
            DataOutcome::TooLarge
        }
    }

    /// The in-order fast path of reassembly (RFC 9260 §6.9): `d` starts a message (when none is being
    /// assembled) or continues the one being assembled. `None`: not this path, store the fragment.
    fn assemble(&mut self, tsn: u64, d: &DataChunk<'_>) -> Option<DataOutcome> {
        match &mut self.assembly {
            Some(a)
                if a.next_tsn == tsn
                    && !d.begin()
                    && a.stream == d.stream
                    && a.unordered == d.unordered() =>
            {
                a.data.extend_from_slice(d.payload);
                a.next_tsn += 1;
                a.ended = d.end();
            }
            Some(a) if a.next_tsn == tsn => {
                // The TSN that had to continue the message carries something else (a peer that
                // breaks §6.9): the partial message can never complete.
                let dropped = a.data.len();
                self.buffered -= dropped;
                self.assembly = None;
                return None;
            }
            Some(_) => return None,
            None if d.begin() && !d.end() => {
                let capacity = self
                    .last_assembled
                    .clamp(d.payload.len(), self.max_message.max(d.payload.len()));
                let mut data = Vec::with_capacity(capacity);
                data.extend_from_slice(d.payload);
                self.assembly = Some(Assembly {
                    first_tsn: tsn,
                    next_tsn: tsn + 1,
                    stream: d.stream,
                    ssn: d.ssn,
                    ppid: d.ppid,
                    unordered: d.unordered(),
                    ended: false,
                    data,
                });
            }
            None => return None,
        }
        Some(self.continue_assembly())
    }

    /// Pulls the fragments that arrived early and continue the assembly, and completes it at its
    /// END fragment.
    fn continue_assembly(&mut self) -> DataOutcome {
        let Some(a) = self.assembly.as_mut() else {
            return DataOutcome::Accepted;
        };
        while !a.ended {
            let fits = self
                .frags
                .get(&a.next_tsn)
                .is_some_and(|f| f.flags & crate::chunk::data_flags::BEGIN == 0 && f.stream == a.stream);
            if !fits {
                break;
            }
            let Some(f) = self.frags.remove(&a.next_tsn) else {
                break;
            };
            a.data.extend_from_slice(&f.data);
            a.next_tsn += 1;
            a.ended = f.flags & crate::chunk::data_flags::END != 0;
        }
        if a.data.len() > self.max_message {
            self.buffered -= a.data.len();
            self.assembly = None;
            self.messages_too_large += 1;
            return DataOutcome::TooLarge;
        }
        if !a.ended {
            return DataOutcome::Accepted;
        }
        let Some(a) = self.assembly.take() else {
            return DataOutcome::Accepted;
        };
        self.buffered -= a.data.len();
        self.last_assembled = a.data.len();
        self.complete(a.first_tsn, a.ssn, a.stream, a.ppid, a.data, a.unordered);
        DataOutcome::Accepted
    }

    fn record(&mut self, tsn: u64) {
        self.highest = self.highest.max(tsn);
        if tsn == self.cum + 1 {
            self.cum = tsn;
            while self.received.remove(&(self.cum + 1)) {
                self.cum += 1;
                self.hole_filled = true;
            }
        } else {
            self.received.insert(tsn);
        }
    }

    /// Looks for the complete message around `tsn` (consecutive TSNs from a B to an E fragment). The
    /// forward walk comes first, so in-order arrival costs O(1) until the last fragment.
    fn try_reassemble(&mut self, tsn: u64) -> bool {
        let mut end = tsn;
        let mut total = 0usize;
        loop {
            let Some(f) = self.frags.get(&end) else {
                return true;
            };
            total += f.data.len();
            if f.flags & crate::chunk::data_flags::END != 0 {
                break;
            }
            end += 1;
        }
        let mut start = tsn;
        loop {
            let Some(f) = self.frags.get(&start) else {
                return true;
            };
            if f.flags & crate::chunk::data_flags::BEGIN != 0 {
                break;
            }
            start -= 1;
            match self.frags.get(&start) {
                Some(f) => total += f.data.len(),
                None => return true,
            }
        }
        let mut parts = self.frags.range(start..=end).map(|(_, f)| f);
        let Some(first) = parts.next() else { return true };
        let (stream, ssn, ppid, unordered) = (
            first.stream,
            first.ssn,
            first.ppid,
            first.flags & crate::chunk::data_flags::UNORDERED != 0,
        );
        let keys: Vec<u64> = (start..=end).collect();
        if total > self.max_message {
            for k in keys {
                if let Some(f) = self.frags.remove(&k) {
                    self.buffered -= f.data.len();
                }
            }
            self.messages_too_large += 1;
            return false;
        }
        let mut data = Vec::with_capacity(total);
        for k in keys {
            if let Some(f) = self.frags.remove(&k) {
                self.buffered -= f.data.len();
                data.extend_from_slice(&f.data);
            }
        }
        self.complete(start, ssn, stream, ppid, data, unordered);
        true
    }

    fn complete(&mut self, first_tsn: u64, ssn: u16, stream: u16, ppid: u32, data: Vec<u8>, unordered: bool) {
        let c = Complete {
            first_tsn,
            ssn,
            msg: Delivered {
                stream,
                ppid,
                data,
                unordered,
            },
        };
        if let Some(def) = &self.deferred {
            if first_tsn > def.last_tsn && (def.streams.is_empty() || def.streams.contains(&stream)) {
                self.buffered += c.msg.data.len();
                self.deferred_msgs.push_back(c);
                return;
            }
        }
        self.deliver(c);
    }

    /// In-order delivery per stream (RFC 9260 §6.6); unordered messages go out at once.
    fn deliver(&mut self, c: Complete) {
        if c.msg.unordered {
            self.ready.push_back(c.msg);
            return;
        }
        let stream = c.msg.stream;
        let expected = *self.next_ssn.get(&stream).unwrap_or(&0);
        if c.ssn == expected {
            self.ready.push_back(c.msg);
            self.advance_stream(stream, expected.wrapping_add(1));
        } else if ssn_after(c.ssn, expected) {
            let impossible_gap = c.first_tsn <= self.cum;
            let ssn = c.ssn;
            self.buffered += c.msg.data.len();
            self.held.insert((stream, ssn), c);
            if impossible_gap {
                self.skip_gap(stream, ssn);
            }
        } else {
            tracing::debug!(
                stream,
                ssn = c.ssn,
                expected,
                "ordered message with an old SSN dropped"
            );
        }
    }

    /// An ordered message that waits for earlier SSNs although every TSN up to its start has arrived
    /// waits for SSNs that were never sent: DATA fragments of one message take consecutive TSNs
    /// (RFC 9260 §6.9), so an earlier message of the stream would have used TSNs below it, and
    /// nothing (no FORWARD TSN, RFC 3758 §3.6) skips it. werift 0.24 does this: it sends nothing for
    /// an empty message but still uses up its SSN, and the stream stalled for good. It is delivered
    /// (counted in `SctpStats::ssn_gaps_skipped`): no message can come out of order by it.
    fn skip_impossible_ssn_gaps(&mut self) {
        let mut waiting: Vec<(u16, u16, u16)> = self
            .held
            .iter()
            .filter(|(_, c)| c.first_tsn <= self.cum)
            .map(|(&(stream, ssn), _)| {
                let expected = *self.next_ssn.get(&stream).unwrap_or(&0);
                (stream, ssn.wrapping_sub(expected), ssn)
            })
            .collect();
        waiting.sort_unstable();
        for (stream, _, ssn) in waiting {
            let expected = *self.next_ssn.get(&stream).unwrap_or(&0);
            if self.held.contains_key(&(stream, ssn)) && ssn_after(ssn, expected) {
                self.skip_gap(stream, ssn);
            }
        }
    }

    fn skip_gap(&mut self, stream: u16, ssn: u16) {
        let expected = *self.next_ssn.get(&stream).unwrap_or(&0);
        tracing::debug!(stream, expected, ssn, "SCTP: SSNs the peer never sent skipped");
        self.ssn_gaps_skipped += 1;
        self.advance_stream(stream, ssn);
    }

    fn advance_stream(&mut self, stream: u16, mut next: u16) {
        while let Some(h) = self.held.remove(&(stream, next)) {
            self.buffered -= h.msg.data.len();
            self.ready.push_back(h.msg);
            next = next.wrapping_add(1);
        }
        self.next_ssn.insert(stream, next);
    }

    /// FORWARD TSN (RFC 3758 §3.6): move the cumulative TSN, drop partial messages it covers, skip SSNs.
    pub(crate) fn on_forward_tsn(&mut self, new_cum: u32, streams: impl Iterator<Item = (u16, u16)>) {
        let new_cum = unwrap_tsn(self.cum, new_cum);
        if new_cum <= self.cum || new_cum - self.cum > MAX_TSN_AHEAD {
            return;
        }
        let keep = self.frags.split_off(&(new_cum + 1));
        let dropped = std::mem::replace(&mut self.frags, keep);
        self.buffered -= dropped.values().map(|f| f.data.len()).sum::<usize>();
        // A message whose start is skipped was abandoned whole by the sender (RFC 3758 §3.5).
        if self.assembly.as_ref().is_some_and(|a| a.first_tsn <= new_cum) {
            if let Some(a) = self.assembly.take() {
                self.buffered -= a.data.len();
            }
        }
        self.received = self.received.split_off(&(new_cum + 1));
        self.cum = new_cum;
        self.highest = self.highest.max(new_cum);
        while self.received.remove(&(self.cum + 1)) {
            self.cum += 1;
        }
        for (stream, ssn) in streams {
            let expected = *self.next_ssn.get(&stream).unwrap_or(&0);
            if !ssn_after(ssn.wrapping_add(1), expected) {
                continue;
            }
            // Deliver held messages up to the skipped SSN, then continue after it.
            let mut s = expected;
            while s != ssn.wrapping_add(1) {
                if let Some(h) = self.held.remove(&(stream, s)) {
                    self.buffered -= h.msg.data.len();
                    self.ready.push_back(h.msg);
                }
                s = s.wrapping_add(1);
            }
            self.advance_stream(stream, ssn.wrapping_add(1));
        }
        self.drop_orphans();
    }

    /// Fragments right after the cumulative TSN that are not a message start can never complete.
    fn drop_orphans(&mut self) {
        while let Some(entry) = self.frags.first_entry() {
            if *entry.key() != self.cum + 1 || entry.get().flags & crate::chunk::data_flags::BEGIN != 0 {
                break;
            }
            let f = entry.remove();
            self.buffered -= f.data.len();
        }
    }

    /// Builds the SACK contents: gap blocks as offsets from the cumulative TSN and duplicates (§3.3.4).
    pub(crate) fn sack_blocks(&mut self) -> (u32, Vec<(u16, u16)>, Vec<u32>) {
        let mut gaps: Vec<(u16, u16)> = Vec::new();
        for &t in &self.received {
            let off = t - self.cum;
            let Ok(off) = u16::try_from(off) else { break };
            if let Some((_, e)) = gaps.last_mut() {
                if *e + 1 == off {
                    *e = off;
                    continue;
                }
            }
            if gaps.len() == MAX_GAP_BLOCKS {
                break;
            }
            gaps.push((off, off));
        }
        (self.cum as u32, gaps, std::mem::take(&mut self.dups))
    }

    /// RFC 6525 §5.2.2 E2: try to perform a reset now; returns whether it was performed.
    pub(crate) fn try_reset(&mut self, req: DeferredReset) -> bool {
        if req.last_tsn > self.cum {
            self.deferred = Some(req);
            return false;
        }
        self.perform_reset(&req.streams);
        true
    }

    /// Called after the cumulative TSN moved: performs a deferred reset whose TSN was reached.
    pub(crate) fn poll_deferred(&mut self) -> Option<DeferredReset> {
        if self.deferred.as_ref().is_some_and(|d| d.last_tsn <= self.cum) {
            let d = self.deferred.take()?;
            self.perform_reset(&d.streams);
            return Some(d);
        }
        None
    }

    fn perform_reset(&mut self, streams: &[u16]) {
        // E3: listed streams (or all) expect SSN 0 next.
        if streams.is_empty() {
            self.next_ssn.clear();
        } else {
            for s in streams {
                self.next_ssn.remove(s);
            }
        }
        // E4: release the messages queued while deferred.
        let queued = std::mem::take(&mut self.deferred_msgs);
        for c in queued {
            self.buffered -= c.msg.data.len();
            self.complete(
                c.first_tsn,
                c.ssn,
                c.msg.stream,
                c.msg.ppid,
                c.msg.data,
                c.msg.unordered,
            );
        }
    }

    /// Converts the peer's TSN to our unwrapped space.
    pub(crate) fn unwrap(&self, tsn: u32) -> u64 {
        unwrap_tsn(self.cum, tsn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::data_flags::{BEGIN, END, UNORDERED};

    fn data(tsn: u32, stream: u16, ssn: u16, flags: u8, payload: &[u8]) -> DataChunk<'_> {
        DataChunk {
            flags,
            tsn,
            stream,
            ssn,
            ppid: 53,
            payload,
        }
    }

    #[test]
    fn an_idle_receiver_releases_its_delivery_queue() {
        let mut r = Receiver::new(100, 10_000, 1000, 10);
        assert_eq!(
            r.on_data(&data(100, 1, 0, BEGIN | END, b"open"), 0),
            DataOutcome::Accepted
        );
        // Not delivered yet: kept.
        r.release_idle_buffers();
        assert_eq!(r.ready.len(), 1);
        r.ready.clear();
        assert!(r.ready.capacity() > 0);
        r.release_idle_buffers();
        assert_eq!(r.ready.capacity(), 0);
        assert_eq!(
            r.on_data(&data(101, 1, 1, BEGIN | END, b"again"), 0),
            DataOutcome::Accepted
        );
        assert_eq!(r.ready.front().map(|m| m.data.as_slice()), Some(&b"again"[..]));
    }

    #[test]
    fn reorders_and_reassembles() {
        let mut r = Receiver::new(100, 10_000, 1000, 10);
        assert_eq!(
            r.on_data(&data(102, 1, 1, BEGIN | END, b"second"), 0),
            DataOutcome::Accepted
        );
        assert!(r.ready.is_empty(), "SSN 1 waits for SSN 0");
        assert_eq!(r.sack_blocks(), (99, vec![(3, 3)], vec![]));
        assert_eq!(r.on_data(&data(101, 1, 0, END, b"st"), 0), DataOutcome::Accepted);
        assert_eq!(r.sack_blocks(), (99, vec![(2, 3)], vec![]));
        assert!(r.ready.is_empty());
        assert_eq!(
            r.on_data(&data(100, 1, 0, BEGIN, b"fir"), 0),
            DataOutcome::Accepted
        );
        let got: Vec<_> = r.ready.drain(..).map(|m| m.data).collect();
        assert_eq!(got, vec![b"first".to_vec(), b"second".to_vec()]);
        assert_eq!(r.on_data(&data(101, 1, 0, 0, b"-"), 0), DataOutcome::Duplicate);
        assert_eq!(r.sack_blocks(), (102, vec![], vec![101]));
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn in_order_assembly_copies_fragments_once_and_takes_early_ones() {
        let mut r = Receiver::new(10, 10_000, 1000, 10);
        assert_eq!(r.on_data(&data(10, 3, 0, BEGIN, b"ab"), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(11, 3, 0, 0, b"cd"), 0), DataOutcome::Accepted);
        // TSN 13 (the END) overtakes TSN 12: it waits, and TSN 12 pulls it into the message.
        assert_eq!(r.on_data(&data(13, 3, 0, END, b"gh"), 0), DataOutcome::Accepted);
        assert!(r.ready.is_empty());
        assert_eq!(r.buffered, 6);
        assert_eq!(r.on_data(&data(12, 3, 0, 0, b"ef"), 0), DataOutcome::Accepted);
        let got: Vec<_> = r.ready.drain(..).map(|m| (m.stream, m.data)).collect();
        assert_eq!(got, vec![(3, b"abcdefgh".to_vec())]);
        assert_eq!(r.buffered, 0);
        // The next message reserves what the last one needed.
        assert_eq!(r.on_data(&data(14, 3, 1, BEGIN, b"x"), 0), DataOutcome::Accepted);
        assert!(r.assembly.as_ref().is_some_and(|a| a.data.capacity() >= 8));
        // A second message may start while the first is incomplete: it goes the stored way.
        assert_eq!(r.on_data(&data(16, 3, 2, BEGIN, b"p"), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(17, 3, 2, END, b"q"), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(15, 3, 1, END, b"y"), 0), DataOutcome::Accepted);
        let got: Vec<_> = r.ready.drain(..).map(|m| m.data).collect();
        assert_eq!(got, vec![b"xy".to_vec(), b"pq".to_vec()]);
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn assembly_enforces_max_message_and_drops_broken_sequences() {
        let mut r = Receiver::new(1, 10_000, 4, 10);
        assert_eq!(r.on_data(&data(1, 0, 0, BEGIN, b"abc"), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(2, 0, 0, 0, b"de"), 0), DataOutcome::TooLarge);
        assert_eq!((r.buffered, r.messages_too_large), (0, 1));
        assert!(r.assembly.is_none());
        // The TSN that should continue a message starts another: the partial one is dropped.
        assert_eq!(r.on_data(&data(4, 0, 1, BEGIN, b"ab"), 0), DataOutcome::Accepted);
        assert_eq!(
            r.on_data(&data(5, 0, 2, BEGIN | END | UNORDERED, b"z"), 0),
            DataOutcome::Accepted
        );
        assert_eq!(r.buffered, 0);
        // A fragment of another stream at the next TSN does not join the message either.
        assert_eq!(r.on_data(&data(6, 1, 0, BEGIN, b"ab"), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(7, 2, 0, END, b"cd"), 0), DataOutcome::Accepted);
        assert!(r.ready.iter().all(|m| m.data != b"abcd"));
    }

    #[test]
    fn forward_tsn_skips_lost_ordered_message() {
        let mut r = Receiver::new(1, 10_000, 1000, 10);
        r.on_data(&data(1, 0, 0, BEGIN, b"a"), 0); // message 0, its END (TSN 2) is abandoned
        r.on_data(&data(3, 0, 1, BEGIN | END, b"b"), 0);
        assert!(r.ready.is_empty());
        r.on_forward_tsn(2, [(0u16, 0u16)].into_iter());
        assert_eq!(r.cum, r.unwrap(3));
        let got: Vec<_> = r.ready.drain(..).map(|m| m.data).collect();
        assert_eq!(got, vec![b"b".to_vec()]);
        assert_eq!(r.buffered, 0);
    }

    #[test]
    fn window_caps_memory() {
        let mut r = Receiver::new(1, 100, 1000, 10);
        let big = [0u8; 60];
        assert_eq!(r.on_data(&data(2, 0, 0, BEGIN, &big), 0), DataOutcome::Accepted);
        assert_eq!(r.on_data(&data(3, 0, 0, 0, &big), 0), DataOutcome::WindowFull);
        assert_eq!(
            r.on_data(&data(1, 0, 5, BEGIN | END | UNORDERED, b"x"), 50),
            DataOutcome::Accepted
        );
        assert_eq!(r.a_rwnd(0), 40);
        assert_eq!(
            r.on_data(&data(9, 50, 0, BEGIN | END, b"x"), 0),
            DataOutcome::InvalidStream
        );
    }

    #[test]
    fn deferred_reset_holds_new_ssns() {
        let mut r = Receiver::new(1, 10_000, 1000, 10);
        r.on_data(&data(1, 2, 0, BEGIN | END, b"old0"), 0);
        let req = DeferredReset {
            req_seq: 7,
            last_tsn: r.unwrap(2),
            streams: vec![2],
        };
        assert!(!r.try_reset(req));
        // New data after the reset (SSN 0 again) arrives before the last old message.
        r.on_data(&data(3, 2, 0, BEGIN | END, b"new0"), 0);
        r.on_data(&data(2, 2, 1, BEGIN | END, b"old1"), 0);
        assert!(r.poll_deferred().is_some());
        let got: Vec<_> = r.ready.drain(..).map(|m| m.data).collect();
        assert_eq!(got, vec![b"old0".to_vec(), b"old1".to_vec(), b"new0".to_vec()]);
    }
}
