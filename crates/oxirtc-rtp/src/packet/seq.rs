//! Sequence-number arithmetic across the 16-bit wrap (RFC 3550 §A.1).

/// Whether `a` comes after `b` in serial-number order: the forward distance from `b` to `a` is
/// less than half the space (RFC 1982 style, as RFC 3550 §A.1 compares sequence numbers).
pub fn seq_newer(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

/// The signed distance from `b` to `a` across the wrap, in -32768..=32767.
pub fn seq_diff(a: u16, b: u16) -> i16 {
    // Two's complement reinterpretation of the wrapping difference is the point here.
    a.wrapping_sub(b) as i16
}

/// Extends 16-bit sequence numbers to 64 bits by counting wraps (RFC 3550 §A.1's `cycles`).
///
/// Each [`extend`](Self::extend) places a sequence number at the 64-bit value nearest the highest
/// one seen so far, so late (reordered) packets from before a wrap keep the old cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqExtender {
    highest: Option<u64>,
}

impl SeqExtender {
    /// An extender that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended form of `seq`, updating the highest value seen.
    pub fn extend(&mut self, seq: u16) -> u64 {
        let ext = self.peek(seq);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        ext
    }

    /// The extended form `seq` would get, without updating anything.
    pub fn peek(&self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            // Start one cycle up so that a packet reordered before the first is still representable.
            return (1 << 16) | u64::from(seq);
        };
        let diff = i64::from(seq_diff(seq, highest as u16));
        // The highest value starts at 65536 and only grows, so it stays above 32768 and the
        // nearest value is never negative.
        (highest as i64 + diff) as u64
    }

    /// The highest extended sequence number seen, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_across_the_wrap() {
        assert!(seq_newer(1, 0));
        assert!(seq_newer(0, 65535));
        assert!(seq_newer(100, 65000));
        assert!(!seq_newer(65000, 100));
        assert!(!seq_newer(7, 7));
        assert_eq!(seq_diff(2, 65534), 4);
        assert_eq!(seq_diff(65534, 2), -4);
    }

    #[test]
    fn extender_counts_wraps_and_keeps_late_packets_in_their_cycle() {
        let mut e = SeqExtender::new();
        assert_eq!(e.extend(65534), 65536 + 65534);
        assert_eq!(e.extend(65535), 65536 + 65535);
        assert_eq!(e.extend(0), 2 * 65536);
        assert_eq!(e.extend(3), 2 * 65536 + 3);
        // A late packet from before the wrap stays in the first cycle and does not lower the max.
        assert_eq!(e.extend(65533), 65536 + 65533);
        assert_eq!(e.highest(), Some(2 * 65536 + 3));
        // Ten full cycles forward, in steps below half the space.
        for _ in 0..40 {
            let next = (e.highest().unwrap_or(0) as u16).wrapping_add(16000);
            e.extend(next);
        }
        assert_eq!(e.highest(), Some(2 * 65536 + 3 + 40 * 16000));
    }
}
