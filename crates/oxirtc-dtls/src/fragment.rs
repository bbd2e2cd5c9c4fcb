//! Handshake message reassembly (RFC 6347 §4.2.2, §4.2.3) with hard memory caps, and the
//! `next_receive_seq` ordering rule.

use crate::handshake::msgs::FragmentHeader;

/// Largest handshake message accepted (a certificate chain of a few KiB is typical in WebRTC).
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// Most bytes buffered for partial and queued messages at once.
pub const MAX_BUFFERED: usize = 256 * 1024;
/// How far ahead of `next_receive_seq` messages are queued (RFC 6347 §4.2.2: SHOULD queue).
const MAX_AHEAD: u16 = 8;

/// A complete handshake message, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// `HandshakeType`.
    pub msg_type: u8,
    /// `message_seq`.
    pub message_seq: u16,
    /// The reassembled body.
    pub body: Vec<u8>,
    /// The epoch of the record that completed it (Finished must arrive protected).
    pub epoch: u16,
}

/// What happened to one fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentOutcome {
    /// Part of a message already delivered: the peer is retransmitting (RFC 6347 §4.2.4).
    Old,
    /// Stored (or a duplicate of stored bytes).
    Buffered,
    /// Refused: too large, too far ahead, over the memory cap, or inconsistent with earlier fragments.
    Dropped,
}

#[derive(Debug)]
struct Partial {
    header: FragmentHeader,
    body: Vec<u8>,
    /// One bit per body byte received.
    have: Vec<u8>,
    missing: usize,
    epoch: u16,
}

impl Partial {
    fn add(&mut self, offset: usize, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            let pos = offset + i;
            let (byte, bit) = (pos / 8, 1u8 << (pos % 8));
            if self.have[byte] & bit == 0 {
                self.have[byte] |= bit;
                self.body[pos] = b;
                self.missing -= 1;
            }
        }
    }

    fn cost(&self) -> usize {
        self.body.len() + self.have.len()
    }
}

/// Reassembles fragments into in-order messages.
#[derive(Debug, Default)]
pub struct Reassembler {
    next_seq: u16,
    partial: Vec<Partial>,
    buffered: usize,
}

impl Reassembler {
    /// A reassembler expecting `message_seq` 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `message_seq` to deliver.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Sets `next_receive_seq` (a stateless server accepting a ClientHello with message_seq n expects
    /// n + 1 next) and forgets anything buffered.
    pub fn reset(&mut self, next_seq: u16) {
        self.next_seq = next_seq;
        self.partial.clear();
        self.buffered = 0;
    }

    /// Bytes currently held for partial or queued messages (bounded by [`MAX_BUFFERED`]).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Adds one fragment (already checked by [`FragmentHeader::parse`] to lie inside its message).
    pub fn insert(&mut self, h: &FragmentHeader, data: &[u8], epoch: u16) -> FragmentOutcome {
        if h.message_seq < self.next_seq {
            return FragmentOutcome::Old;
        }
        let length = h.length as usize;
        if h.message_seq - self.next_seq >= MAX_AHEAD || length > MAX_MESSAGE_LEN {
            return FragmentOutcome::Dropped;
        }
        let idx = match self
            .partial
            .iter()
            .position(|p| p.header.message_seq == h.message_seq)
        {
            Some(i) => i,
            None => {
                // Allocate only after the caps are checked: a fragment claiming 16 MiB never gets here.
                let cost = length + length.div_ceil(8);
                if self.buffered + cost > MAX_BUFFERED {
                    return FragmentOutcome::Dropped;
                }
                self.buffered += cost;
                self.partial.push(Partial {
                    header: *h,
                    body: vec![0; length],
                    have: vec![0; length.div_ceil(8)],
                    missing: length,
                    epoch,
                });
                self.partial.len() - 1
            }
        };
        let p = &mut self.partial[idx];
        if p.header.msg_type != h.msg_type || p.header.length != h.length {
            return FragmentOutcome::Dropped;
        }
        p.add(h.fragment_offset as usize, data);
        p.epoch = p.epoch.max(epoch);
        FragmentOutcome::Buffered
    }

    /// The next complete message in `message_seq` order, if any.
    pub fn pop(&mut self) -> Option<HandshakeMessage> {
        let idx = self
            .partial
            .iter()
            .position(|p| p.header.message_seq == self.next_seq && p.missing == 0)?;
        let p = self.partial.swap_remove(idx);
        if self.partial.is_empty() {
            // Handshakes are short and rare: an idle connection keeps no slots for the next one.
            self.partial = Vec::new();
        }
        self.buffered -= p.cost();
        self.next_seq = self.next_seq.wrapping_add(1);
        Some(HandshakeMessage {
            msg_type: p.header.msg_type,
            message_seq: p.header.message_seq,
            body: p.body,
            epoch: p.epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(seq: u16, len: u32, off: u32, data: &[u8]) -> FragmentHeader {
        FragmentHeader {
            msg_type: 11,
            length: len,
            message_seq: seq,
            fragment_offset: off,
            fragment_length: data.len() as u32,
        }
    }

    #[test]
    fn out_of_order_overlapping_fragments() {
        let mut r = Reassembler::new();
        let msg: Vec<u8> = (0..100u8).collect();
        assert_eq!(
            r.insert(&frag(1, 100, 0, &[1; 100]), &msg, 0),
            FragmentOutcome::Buffered
        );
        assert!(r.pop().is_none(), "seq 0 first");
        assert_eq!(
            r.insert(&frag(0, 100, 60, &msg[60..]), &msg[60..], 0),
            FragmentOutcome::Buffered
        );
        assert_eq!(
            r.insert(&frag(0, 100, 0, &msg[..70]), &msg[..70], 0),
            FragmentOutcome::Buffered
        );
        assert_eq!(
            r.insert(&frag(0, 100, 10, &msg[10..20]), &msg[10..20], 0),
            FragmentOutcome::Buffered
        );
        let m = r.pop().unwrap();
        assert_eq!((m.message_seq, m.body), (0, msg.clone()));
        assert_eq!(r.pop().unwrap().message_seq, 1);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.insert(&frag(0, 100, 0, &msg), &msg, 0), FragmentOutcome::Old);
    }

    #[test]
    fn claimed_16_mib_is_not_allocated() {
        let mut r = Reassembler::new();
        let h = frag(0, 16 << 20, 0, &[0; 10]);
        assert_eq!(r.insert(&h, &[0; 10], 0), FragmentOutcome::Dropped);
        assert_eq!(r.buffered_bytes(), 0);
        // Many large-but-legal messages stop at the total cap.
        for seq in 0..8 {
            let _ = r.insert(&frag(seq, MAX_MESSAGE_LEN as u32, 0, &[0; 1]), &[0; 1], 0);
        }
        assert!(r.buffered_bytes() <= MAX_BUFFERED);
        assert_eq!(
            r.insert(&frag(9, 10, 0, &[0; 1]), &[0; 1], 0),
            FragmentOutcome::Dropped,
            "too far ahead"
        );
    }

    #[test]
    fn inconsistent_length_is_dropped() {
        let mut r = Reassembler::new();
        assert_eq!(
            r.insert(&frag(0, 10, 0, &[0; 5]), &[0; 5], 0),
            FragmentOutcome::Buffered
        );
        assert_eq!(
            r.insert(&frag(0, 11, 5, &[0; 5]), &[0; 5], 0),
            FragmentOutcome::Dropped
        );
        assert!(r.pop().is_none());
    }
}
