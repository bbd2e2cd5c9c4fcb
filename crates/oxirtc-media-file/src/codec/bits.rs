//! A big-endian bit reader over a raw byte sequence payload (RBSP) for the few header fields this
//! crate reads (H.264 SPS, AV1 sequence header, VP9 frame header).

/// Reads bits MSB first; every read past the end is `None`, never a panic.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// One bit.
    pub(crate) fn bit(&mut self) -> Option<bool> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// `n` bits (n <= 32) as an unsigned number: f(n) in the H.264 and AV1 specs.
    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        debug_assert!(n <= 32);
        let mut v: u32 = 0;
        for _ in 0..n {
            v = (v << 1) | u32::from(self.bit()?);
        }
        Some(v)
    }

    /// ue(v): unsigned Exp-Golomb (ITU-T H.264 §9.1); `None` past 31 leading zeros.
    pub(crate) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// uvlc(): AV1 spec §4.10.3; `None` past 31 leading zeros.
    pub(crate) fn uvlc(&mut self) -> Option<u32> {
        self.ue()
    }
}

/// The RBSP of a NAL unit payload: `00 00 03` becomes `00 00` (emulation prevention, ITU-T
/// H.264 §7.4.1, H.265 §7.4.2). Reads at most `limit` bytes of `nal` (headers are short).
pub(crate) fn unescape_rbsp(nal: &[u8], limit: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len().min(limit));
    let mut zeros = 0;
    for &b in nal.iter().take(limit) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_values() {
        // 1 | 010 | 011 | 00100 | 00100 | 000000 -> 0, 1, 2, 3, 3, then runs off the end
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0010, 0b0000_0000]);
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.ue(), Some(1));
        assert_eq!(r.ue(), Some(2));
        assert_eq!(r.ue(), Some(3));
        assert_eq!(r.ue(), Some(3));
        assert_eq!(r.ue(), None);
    }

    #[test]
    fn emulation_prevention_removed() {
        assert_eq!(
            unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3, 0, 3], 100),
            [0, 0, 1, 0, 0, 0, 3]
        );
        assert_eq!(unescape_rbsp(&[1, 2, 3, 4], 2), [1, 2]);
    }
}
