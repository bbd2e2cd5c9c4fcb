//! A bounds-checked reader and length-prefixed writers for the TLS presentation language
//! (RFC 5246 §4): every read returns `None` instead of panicking on short input.

/// A cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Option<u32> {
        self.take(3).map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub(crate) fn u48(&mut self) -> Option<u64> {
        self.take(6)
            .map(|b| u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]))
    }

    /// `opaque x<0..2^8-1>`
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// `opaque x<0..2^16-1>`
    pub(crate) fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// `opaque x<0..2^24-1>`
    pub(crate) fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.take(n as usize)
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

pub(crate) fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// Writes a length prefix of `width` bytes (1, 2 or 3) around what `body` appends.
pub(crate) fn put_vec(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.resize(start + width, 0);
    body(out);
    let len = out.len() - start - width;
    let bytes = (len as u32).to_be_bytes();
    out[start..start + width].copy_from_slice(&bytes[4 - width..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_bounds_checked() {
        let mut r = Reader::new(&[1, 0, 2, 0xaa, 0xbb, 3]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.vec16(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(r.vec8(), None, "claims 3 bytes, none left");
        let mut r = Reader::new(&[0, 0, 1, 9]);
        assert_eq!(r.u24(), Some(1));
        assert_eq!(r.u16(), None);
    }

    #[test]
    fn writer_prefixes_lengths() {
        let mut out = Vec::new();
        put_vec(&mut out, 3, |o| o.extend_from_slice(b"abcd"));
        put_u48(&mut out, 0x0102_0304_0506);
        assert_eq!(out, [0, 0, 4, b'a', b'b', b'c', b'd', 1, 2, 3, 4, 5, 6]);
        assert_eq!(Reader::new(&out).vec24(), Some(&b"abcd"[..]));
    }
}
