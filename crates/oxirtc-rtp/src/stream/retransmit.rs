//! The sender's history of sent RTP packets, to answer generic NACKs (RFC 4585 §6.2.1) with
//! retransmissions, as they are or in the RTX format (RFC 4588 §4).
//!
//! Storage is one byte ring of at most [`RetransmitConfig::max_bytes`] (grown as packets come,
//! never beyond) and an index of at most [`RetransmitConfig::max_packets`] entries in sending
//! order. A new packet is copied in after the previous one, evicting the oldest packets whose bytes
//! it overwrites; one that does not fit before the end of the ring goes to its start. Once both
//! have grown, storing a packet allocates nothing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::rtx::{RtxPacket, RtxParams};
use crate::packet::seq::SeqExtender;
use crate::packet::RtpPacket;
use crate::RtpError;

/// Bounds and timing of a [`RetransmitBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitConfig {
    /// Packets held at most. Default 1024: about 4 s of 2.5 Mbit/s video in 1200-byte packets,
    /// 1.2 s at 8 Mbit/s, and always more than the receiver's NACK window needs at normal rates.
    pub max_packets: usize,
    /// Bytes of packets held at most (headers and payloads, without padding). Default 1.5 MiB,
    /// 1024 full-size (1536-byte) packets, so that the count is the bound that usually applies.
    ///
    /// This is also the memory the ring takes: it fills to this size before it wraps, whatever
    /// `max_packets` lets it hold. For a stream of small packets, lower it to about `max_packets`
    /// times their size (e.g. 256 KiB for audio).
    pub max_bytes: usize,
    /// A packet sent longer ago than this is not resent. Default 2 s: above a receiver's usual
    /// NACK give-up age (1 s) plus the round trip, so only media no receiver waits for any more is
    /// refused, e.g. packets still held from before a pause.
    pub max_age: Duration,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        Self {
            max_packets: 1024,
            max_bytes: 1536 * 1024,
            max_age: Duration::from_secs(2),
        }
    }
}

/// The round-trip time assumed until [`RetransmitBuffer::set_rtt`] gives one: 100 ms.
pub const DEFAULT_RTT: Duration = Duration::from_millis(100);

/// Counters of a [`RetransmitBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetransmitStats {
    /// Packets stored.
    pub stored: u64,
    /// Packets not stored: larger than [`RetransmitConfig::max_bytes`].
    pub too_large: u64,
    /// Packets not stored: their sequence number was at or below the newest held (a duplicate, or
    /// the caller stored out of sending order).
    pub out_of_order: u64,
    /// Times the history was cleared because the sequence numbers went back past everything held
    /// (the sender restarted them).
    pub restarts: u64,
    /// NACKed packets handed out for retransmission.
    pub resent: u64,
    /// NACKs for a packet not held: never stored, or evicted by the bounds.
    pub not_found: u64,
    /// NACKs for a packet older than [`RetransmitConfig::max_age`].
    pub too_old: u64,
    /// NACKs for a packet already resent less than one round-trip time before.
    pub throttled: u64,
}

/// A stored packet to retransmit, borrowed from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmission<'a> {
    packet: RtpPacket<'a>,
    resend_count: u32,
}

impl<'a> Retransmission<'a> {
    /// The packet as it was sent (its padding left out).
    pub fn packet(&self) -> RtpPacket<'a> {
        self.packet
    }

    /// How many times it has now been resent: 1 the first time.
    pub fn resend_count(&self) -> u32 {
        self.resend_count
    }

    /// Appends the packet as it was sent, for a session without RTX; returns its length.
    pub fn write_original(&self, out: &mut Vec<u8>) -> usize {
        out.extend_from_slice(self.packet.as_bytes());
        self.packet.as_bytes().len()
    }

    /// Appends it as an RTX packet (RFC 4588 §4); see [`RtxPacket::write`].
    pub fn write_rtx(&self, rtx: RtxParams, out: &mut Vec<u8>) -> Result<usize, RtpError> {
        RtxPacket::write(&self.packet, rtx, out)
    }
}

/// One held packet.
#[derive(Debug, Clone, Copy)]
struct Entry {
    ext: u64,
    offset: usize,
    len: usize,
    sent_at: Instant,
    resent_at: Option<Instant>,
    resends: u32,
}

/// The history of one sent SSRC's packets, for retransmission on NACK. See the module docs.
#[derive(Debug, Clone)]
pub struct RetransmitBuffer {
    config: RetransmitConfig,
    arena: Vec<u8>,
    /// Where the next packet goes in `arena`, unless it has to wrap to the start.
    write_pos: usize,
    /// Held packets, oldest first, in increasing extended sequence number.
    entries: VecDeque<Entry>,
    held_bytes: usize,
    seqs: SeqExtender,
    rtt: Duration,
    stats: RetransmitStats,
}

impl RetransmitBuffer {
    /// An empty history with the given bounds.
    ///
    /// # Panics
    /// If `config.max_packets` is 0 or above 32 768 (half the sequence number space), or
    /// `config.max_bytes` is 0: a local misuse.
    pub fn new(config: RetransmitConfig) -> Self {
        assert!(
            (1..=32_768).contains(&config.max_packets) && config.max_bytes > 0,
            "RetransmitConfig needs max_packets in 1..=32768 and max_bytes above 0"
        );
        Self {
            config,
            arena: Vec::new(),
            write_pos: 0,
            entries: VecDeque::with_capacity(config.max_packets),
            held_bytes: 0,
            seqs: SeqExtender::new(),
            rtt: DEFAULT_RTT,
            stats: RetransmitStats::default(),
        }
    }

    /// Stores a copy of `packet` (plain RTP, before SRTP), sent at `now`, evicting the oldest
    /// packets as the bounds require. Store packets in sending order. Returns whether it was
    /// stored: not when it is larger than the byte bound, nor when its sequence number is at or
    /// below the newest held but not older than everything held (a sequence number older than
    /// everything held means the sender restarted its sequence: the history starts afresh).
    pub fn insert(&mut self, now: Instant, packet: &RtpPacket<'_>) -> bool {
        // RFC 4588 §4: padding is removed before retransmission, so it is not kept.
        let len = packet.header_len() + packet.payload().len();
        if len > self.config.max_bytes {
            self.stats.too_large += 1;
            return false;
        }
        let seq = packet.sequence_number();
        if let (Some(front), Some(back)) = (self.entries.front(), self.entries.back()) {
            let ext = self.seqs.peek(seq);
            if ext < front.ext {
                self.clear();
                self.stats.restarts += 1;
            } else if ext <= back.ext {
                self.stats.out_of_order += 1;
                return false;
            }
        }
        let ext = self.seqs.extend(seq);
        let offset = self.make_room(len);
        if self.arena.len() < offset + len {
            // Grows up to max_bytes at most: make_room keeps offset + len within it.
            self.arena.resize(offset + len, 0);
        }
        let stored = &mut self.arena[offset..offset + len];
        stored.copy_from_slice(&packet.as_bytes()[..len]);
        stored[0] &= !0x20; // the padding bit, as the padding is gone
        self.write_pos = offset + len;
        self.held_bytes += len;
        self.entries.push_back(Entry {
            ext,
            offset,
            len,
            sent_at: now,
            resent_at: None,
            resends: 0,
        });
        self.stats.stored += 1;
        true
    }

    /// Sets the round-trip time: a packet is not resent twice within it (the first retransmission
    /// may still be on its way). Default [`DEFAULT_RTT`].
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt;
    }

    /// The round-trip time in use.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Answers a NACK for `seq` received at `now` (RFC 4585 §6.2.1): the stored packet to resend,
    /// or `None` when it is not held, older than the maximum age, or was resent less than one
    /// round-trip time ago. Each outcome is counted in [`RetransmitStats`].
    pub fn on_nack(&mut self, now: Instant, seq: u16) -> Option<Retransmission<'_>> {
        let Some(i) = self.find(seq) else {
            self.stats.not_found += 1;
            return None;
        };
        let entry = &mut self.entries[i];
        if now.saturating_duration_since(entry.sent_at) > self.config.max_age {
            self.stats.too_old += 1;
            return None;
        }
        if entry
            .resent_at
            .is_some_and(|at| now.saturating_duration_since(at) < self.rtt)
        {
            self.stats.throttled += 1;
            return None;
        }
        entry.resent_at = Some(now);
        entry.resends += 1;
        self.stats.resent += 1;
        let (offset, len, resend_count) = (entry.offset, entry.len, entry.resends);
        let packet = stored_packet(&self.arena[offset..offset + len])?;
        Some(Retransmission { packet, resend_count })
    }

    /// The stored packet with sequence number `seq`, if held; nothing is counted or changed.
    pub fn get(&self, seq: u16) -> Option<RtpPacket<'_>> {
        let e = self.entries[self.find(seq)?];
        stored_packet(&self.arena[e.offset..e.offset + e.len])
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of the packets held.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Bytes the ring has grown to: at most [`RetransmitConfig::max_bytes`].
    pub fn capacity_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Forgets every packet (the ring keeps its memory).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.held_bytes = 0;
        self.write_pos = 0;
        self.seqs = SeqExtender::new();
    }

    /// The counters.
    pub fn stats(&self) -> RetransmitStats {
        self.stats
    }

    /// The index of the entry for `seq`: where it is when sequence numbers have no gaps, else by
    /// binary search (entries are in increasing extended sequence number).
    fn find(&self, seq: u16) -> Option<usize> {
        let (front, back) = (self.entries.front()?, self.entries.back()?);
        let ext = self.seqs.peek(seq);
        if ext < front.ext || ext > back.ext {
            return None;
        }
        // Within the held span, which is below 2^16 packets: fits a usize.
        let guess = (ext - front.ext) as usize;
        if self.entries.get(guess).is_some_and(|e| e.ext == ext) {
            return Some(guess);
        }
        self.entries.binary_search_by_key(&ext, |e| e.ext).ok()
    }

    /// Evicts what a packet of `len` bytes needs evicted and returns where it goes.
    fn make_room(&mut self, len: usize) -> usize {
        while self.entries.len() >= self.config.max_packets {
            self.pop_oldest();
        }
        // Entries from the ring's previous lap start at or after `write_pos`; those of the
        // current lap end at or before it. The previous lap's are the oldest, in ring order.
        let mut start = self.write_pos;
        if start + len > self.config.max_bytes {
            // The rest of the ring is left unused this lap: what is held there goes first.
            while self.entries.front().is_some_and(|e| e.offset >= start) {
                self.pop_oldest();
            }
            start = 0;
        }
        let end = start + len;
        while self
            .entries
            .front()
            .is_some_and(|e| e.offset >= start && e.offset < end)
        {
            self.pop_oldest();
        }
        start
    }

    fn pop_oldest(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.held_bytes -= e.len;
        }
    }
}

/// A stored packet as a view. Stored bytes were a validated packet minus its padding, which
/// parses again; a failure would be a bug here, and is treated as the packet not being held.
fn stored_packet(bytes: &[u8]) -> Option<RtpPacket<'_>> {
    let parsed = RtpPacket::parse(bytes);
    debug_assert!(parsed.is_ok(), "stored packet no longer parses: {parsed:?}");
    parsed.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{RtpHeader, Ssrc};
    use crate::stream::test_clock::t0;

    /// Writes an RTP packet with `payload_len` bytes of payload (all `seq as u8`) and `padding`.
    fn packet(seq: u16, payload_len: usize, padding: u8) -> Vec<u8> {
        let header = RtpHeader {
            payload_type: 96,
            sequence_number: seq,
            timestamp: 90 * u32::from(seq),
            ssrc: Ssrc(0x5555),
            ..Default::default()
        };
        let mut out = Vec::new();
        header
            .write(&vec![seq as u8; payload_len], padding, &mut out)
            .expect("valid");
        out
    }

    fn insert(b: &mut RetransmitBuffer, now: Instant, seq: u16, payload_len: usize) -> bool {
        let bytes = packet(seq, payload_len, 0);
        b.insert(now, &RtpPacket::parse(&bytes).expect("parses"))
    }

    fn held(b: &RetransmitBuffer, seqs: impl IntoIterator<Item = u16>) -> Vec<u16> {
        seqs.into_iter().filter(|s| b.get(*s).is_some()).collect()
    }

    #[test]
    fn count_bound_keeps_the_newest() {
        let now = t0();
        let config = RetransmitConfig {
            max_packets: 4,
            ..Default::default()
        };
        let mut b = RetransmitBuffer::new(config);
        for seq in 65533..=65535 {
            assert!(insert(&mut b, now, seq, 100));
        }
        for seq in 0..3 {
            assert!(insert(&mut b, now, seq, 100));
        }
        // 6 stored, 4 held: 65535, 0, 1, 2 (across the wrap).
        assert_eq!(held(&b, (65530..=65535).chain(0..5)), [65535, 0, 1, 2]);
        assert_eq!((b.len(), b.held_bytes()), (4, 4 * 112));
        let p = b.get(0).expect("held");
        assert_eq!((p.sequence_number(), p.payload()), (0, &[0u8; 100][..]));
    }

    #[test]
    fn byte_bound_wraps_the_ring_and_evicts_what_it_overwrites() {
        let now = t0();
        let config = RetransmitConfig {
            max_bytes: 100,
            ..Default::default()
        };
        let mut b = RetransmitBuffer::new(config);
        // 40-byte packets (12 header + 28 payload): 10 at 0..40, 11 at 40..80.
        for seq in 10..12 {
            insert(&mut b, now, seq, 28);
        }
        assert_eq!((held(&b, 10..30), b.held_bytes()), (vec![10, 11], 80));
        // 12 does not fit at 80: it goes to 0..40, evicting 10.
        insert(&mut b, now, 12, 28);
        assert_eq!(held(&b, 10..30), [11, 12]);
        // 13 at 40..80 evicts 11.
        insert(&mut b, now, 13, 28);
        assert_eq!(held(&b, 10..30), [12, 13]);
        // 14, 60 bytes, does not fit at 80: 0..60 overlaps 12 (0..40) and 13 (40..80).
        insert(&mut b, now, 14, 48);
        assert_eq!((held(&b, 10..30), b.held_bytes()), (vec![14], 60));
        // 20-byte packets: 15 at 60..80 and 16 at 80..100 overlap nothing held.
        insert(&mut b, now, 15, 8);
        insert(&mut b, now, 16, 8);
        assert_eq!((held(&b, 10..30), b.held_bytes()), (vec![14, 15, 16], 100));
        // 17 wraps to 0..20: 14 starts there and goes (all of it); 18 at 20..40 and 19 at 40..60
        // overlap nothing; 20 at 60..80 evicts 15.
        for seq in 17..=20 {
            insert(&mut b, now, seq, 8);
        }
        assert_eq!(
            (held(&b, 10..30), b.held_bytes()),
            (vec![16, 17, 18, 19, 20], 100)
        );
        assert_eq!(b.capacity_bytes(), 100);
        for s in held(&b, 10..30) {
            assert_eq!(b.get(s).expect("held").payload()[0], s as u8, "seq {s} corrupted");
        }
    }

    #[test]
    fn what_is_held_past_the_wrap_point_goes_first() {
        let now = t0();
        let config = RetransmitConfig {
            max_bytes: 100,
            ..Default::default()
        };
        let mut b = RetransmitBuffer::new(config);
        // 1 at 0..40, 2 at 40..80, 3 (20 bytes) at 80..100; 4 wraps to 0..40 (evicts 1), 5 at
        // 40..80 (evicts 2).
        for (seq, payload) in [(1, 28), (2, 28), (3, 8), (4, 28), (5, 28)] {
            insert(&mut b, now, seq, payload);
        }
        assert_eq!(held(&b, 0..10), [3, 4, 5]);
        // 6 (30 bytes) does not fit at 80: 80..100 is left unused this lap, so 3, held there and
        // the oldest, goes; then 6 at 0..30 overwrites 4.
        insert(&mut b, now, 6, 18);
        assert_eq!((held(&b, 0..10), b.held_bytes()), (vec![5, 6], 70));
        for s in [5, 6] {
            assert_eq!(b.get(s).expect("held").payload()[0], s as u8);
        }
    }

    #[test]
    fn too_large_and_out_of_order_packets_are_not_stored() {
        let now = t0();
        let config = RetransmitConfig {
            max_bytes: 100,
            ..Default::default()
        };
        let mut b = RetransmitBuffer::new(config);
        assert!(!insert(&mut b, now, 1, 89)); // 101 bytes
        assert!(insert(&mut b, now, 2, 88)); // exactly 100
        assert!(!insert(&mut b, now, 2, 10)); // duplicate
        assert!(insert(&mut b, now, 3, 10));
        let s = b.stats();
        assert_eq!((s.stored, s.too_large, s.out_of_order), (2, 1, 1));
        // The 100-byte packet was evicted to make room for the 22-byte one.
        assert_eq!(held(&b, 0..5), [3]);
    }

    #[test]
    fn sequence_going_back_past_everything_held_starts_afresh() {
        let now = t0();
        let mut b = RetransmitBuffer::new(RetransmitConfig::default());
        for seq in 5000..5010 {
            insert(&mut b, now, seq, 10);
        }
        assert!(insert(&mut b, now, 100, 10));
        assert_eq!(b.stats().restarts, 1);
        assert_eq!(held(&b, (5000..5010).chain([100])), [100]);
    }

    #[test]
    fn nack_outcomes_unknown_too_old_and_rtt_throttle() {
        let t0 = t0();
        let mut b = RetransmitBuffer::new(RetransmitConfig::default());
        for seq in 100..110 {
            insert(&mut b, t0, seq, 50);
        }
        // Unknown: never sent, or before everything held.
        assert!(b.on_nack(t0, 110).is_none());
        assert!(b.on_nack(t0, 99).is_none());
        // First request: resent.
        let t1 = t0 + Duration::from_millis(30);
        let r = b.on_nack(t1, 105).expect("held");
        assert_eq!((r.packet().sequence_number(), r.resend_count()), (105, 1));
        // Again 50 ms later, within the 100 ms default RTT: throttled.
        assert!(b.on_nack(t1 + Duration::from_millis(50), 105).is_none());
        // One RTT after the retransmission: resent again.
        let r = b.on_nack(t1 + DEFAULT_RTT, 105).expect("one RTT passed");
        assert_eq!(r.resend_count(), 2);
        // A shorter RTT lets it go sooner.
        b.set_rtt(Duration::from_millis(10));
        assert!(b
            .on_nack(t1 + DEFAULT_RTT + Duration::from_millis(10), 105)
            .is_some());
        // Older than 2 s: refused.
        assert!(b.on_nack(t0 + Duration::from_millis(2_001), 101).is_none());
        assert!(b.on_nack(t0 + Duration::from_millis(2_000), 102).is_some());
        let s = b.stats();
        assert_eq!((s.resent, s.not_found, s.throttled, s.too_old), (4, 2, 1, 1));
    }

    #[test]
    fn padding_is_not_stored_and_rtx_is_written_from_the_store() {
        let now = t0();
        let mut b = RetransmitBuffer::new(RetransmitConfig::default());
        let padded = packet(7, 20, 12);
        assert!(b.insert(now, &RtpPacket::parse(&padded).expect("parses")));
        assert_eq!(b.held_bytes(), 32);
        let r = b.on_nack(now, 7).expect("held");
        let mut out = Vec::new();
        assert_eq!(r.write_original(&mut out), 32);
        assert_eq!(out, packet(7, 20, 0));
        let params = RtxParams {
            ssrc: Ssrc(0x6666),
            payload_type: 97,
            sequence_number: 1,
        };
        out.clear();
        r.write_rtx(params, &mut out).expect("writes");
        let rtx = RtxPacket::parse(RtpPacket::parse(&out).expect("parses"))
            .expect("valid")
            .expect("not padding");
        assert_eq!(
            (rtx.original_sequence_number(), rtx.original_payload()),
            (7, &[7u8; 20][..])
        );
    }
}
