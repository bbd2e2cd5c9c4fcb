//! Transport-wide sequence numbers extended to 64 bits across the 16-bit wrap.

/// Extends 16-bit transport-wide sequence numbers
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2) to 64 bits: each one becomes the
/// value nearest the previous one, as RFC 3550 §A.1 does for RTP sequence numbers. The first
/// value maps to `2^32 + seq`, so that steps back stay positive.
///
/// [`BandwidthEstimator::on_packet_sent`](crate::BandwidthEstimator::on_packet_sent) does this
/// itself; it is public for a caller that keeps its own 64-bit numbering.
///
/// ```
/// use oxirtc_cc::SeqUnwrapper;
/// let mut u = SeqUnwrapper::new();
/// let a = u.unwrap(65_535);
/// assert_eq!(u.unwrap(0), a + 1); // across the wrap
/// assert_eq!(u.unwrap(65_534), a - 1); // a step back
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    last: Option<u64>,
}

impl SeqUnwrapper {
    /// An unwrapper that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 64-bit value of `seq` nearest the last one returned, without remembering it.
    #[must_use]
    pub fn peek(&self, seq: u16) -> u64 {
        match self.last {
            None => (1 << 32) + u64::from(seq),
            Some(last) => {
                // The signed 16-bit distance: forward up to 32767, back up to 32768.
                let step = seq.wrapping_sub(last as u16) as i16;
                last.saturating_add_signed(i64::from(step))
            }
        }
    }

    /// The 64-bit value of `seq` nearest the last one returned; it becomes the new reference.
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        let v = self.peek(seq);
        self.last = Some(v);
        v
    }

    /// The last value returned, if any.
    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_both_ways() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.peek(7), (1 << 32) + 7);
        let first = u.unwrap(65_530);
        assert_eq!(u.unwrap(3), first + 9);
        assert_eq!(u.unwrap(65_531), first + 1);
        assert_eq!(u.last(), Some(first + 1));
        // The largest forward step is 32767, anything further is taken as a step back.
        let base = u.unwrap(0);
        assert_eq!(u.peek(32_767), base + 32_767);
        assert_eq!(u.peek(32_768), base - 32_768);
    }
}
