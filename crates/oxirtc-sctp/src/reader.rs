//! A bounds-checked big-endian reader: every read returns `None` instead of panicking.

/// Cursor over a borrowed buffer (rustls `msgs/codec.rs` `Reader`).
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// `len` rounded up to a multiple of 4 (RFC 9260 §3.2 chunk padding).
pub(crate) fn padded(len: usize) -> usize {
    len.div_ceil(4) * 4
}

/// One TLV parameter or error cause: 16-bit type, 16-bit length including the 4-byte header, value padded
/// to 4 bytes (RFC 9260 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The parameter (or cause) type.
    pub ty: u16,
    /// The value, without header and padding.
    pub value: &'a [u8],
}

/// Iterates over TLVs; yields `Err` once (then stops) on a bad length.
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    r: Reader<'a>,
    offset: usize,
    failed: bool,
}

impl<'a> TlvIter<'a> {
    /// Iterates over the TLVs in `buf` (a chunk's parameters or error causes).
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            r: Reader::new(buf),
            offset: 0,
            failed: false,
        }
    }

    /// Validates every TLV's framing.
    pub(crate) fn validate(buf: &'a [u8]) -> Result<(), crate::SctpError> {
        TlvIter::new(buf).try_for_each(|t| t.map(|_| ()))
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, crate::SctpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.remaining() == 0 {
            return None;
        }
        let offset = self.offset;
        let header = (self.r.u16(), self.r.u16());
        let (Some(ty), Some(len)) = header else {
            self.failed = true;
            return Some(Err(crate::SctpError::BadLength {
                ty: 0,
                length: 0,
                offset,
            }));
        };
        let len = usize::from(len);
        let Some(value) = len.checked_sub(4).and_then(|n| self.r.take(n)) else {
            self.failed = true;
            return Some(Err(crate::SctpError::BadLength {
                ty,
                length: len,
                offset,
            }));
        };
        // RFC 9260 §3.2.1: padding is not counted in the length; the last TLV's padding may be absent.
        let pad = (padded(len) - len).min(self.r.remaining());
        let _ = self.r.take(pad);
        self.offset = offset + padded(len);
        Some(Ok(Tlv { ty, value }))
    }
}

/// Appends a TLV with its padding.
pub(crate) fn put_tlv(out: &mut Vec<u8>, ty: u16, value: &[u8]) {
    put_tlv_parts(out, ty, &[value]);
}

/// Appends a TLV whose value is the concatenation of `parts`.
pub(crate) fn put_tlv_parts(out: &mut Vec<u8>, ty: u16, parts: &[&[u8]]) {
    let len: usize = 4 + parts.iter().map(|p| p.len()).sum::<usize>();
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.resize(out.len() + padded(len) - len, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_overruns() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.take(usize::MAX), None);
    }

    #[test]
    fn tlv_round_trip_and_bad_lengths() {
        let mut buf = Vec::new();
        put_tlv(&mut buf, 7, b"abcde");
        put_tlv(&mut buf, 0xC000, b"");
        assert_eq!(buf.len(), 12 + 4);
        let v: Vec<_> = TlvIter::new(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            v,
            vec![
                Tlv {
                    ty: 7,
                    value: b"abcde"
                },
                Tlv {
                    ty: 0xC000,
                    value: b""
                }
            ]
        );
        // Length 2 (< header) and a length past the end both fail.
        assert!(TlvIter::validate(&[0, 1, 0, 2]).is_err());
        assert!(TlvIter::validate(&[0, 1, 0, 9, 1, 2]).is_err());
        assert!(TlvIter::validate(&[0, 1]).is_err());
    }
}
