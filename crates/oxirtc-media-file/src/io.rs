//! Reading with a byte offset (for error messages) and bounded reads; writing with a position and
//! optional back-patching.

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::error::{MediaError, Result};

/// A reader that knows its offset in the file and turns short reads into
/// [`MediaError::Truncated`].
pub(crate) struct OffsetReader<R> {
    inner: R,
    offset: u64,
    format: &'static str,
}

impl<R: Read> OffsetReader<R> {
    pub(crate) fn new(inner: R, format: &'static str) -> Self {
        OffsetReader {
            inner,
            offset: 0,
            format,
        }
    }

    /// Bytes consumed so far: the offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Fills `buf`, or reports how much of it the file had. `Ok(false)` when the file ended
    /// cleanly before the first byte (the caller decides whether that is the end of the stream).
    pub(crate) fn read_exact_or_eof(&mut self, buf: &mut [u8], what: &'static str) -> Result<bool> {
        let start = self.offset;
        let n = self.fill(buf)?;
        if n == 0 && !buf.is_empty() {
            return Ok(false);
        }
        if n < buf.len() {
            return Err(self.truncated(what, start, buf.len() as u64, n as u64));
        }
        Ok(true)
    }

    /// Fills `buf`; the end of the file anywhere in it is [`MediaError::Truncated`].
    pub(crate) fn read_exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<()> {
        let start = self.offset;
        let n = self.fill(buf)?;
        if n < buf.len() {
            return Err(self.truncated(what, start, buf.len() as u64, n as u64));
        }
        Ok(())
    }

    /// Reads exactly `len` bytes into a new vector. The vector grows as bytes arrive (never
    /// reserved up front from `len`), so a length field larger than the file costs no memory;
    /// callers bound `len` by [`crate::MAX_FRAME_SIZE`] before calling.
    pub(crate) fn read_vec(&mut self, len: u64, what: &'static str) -> Result<Vec<u8>> {
        let start = self.offset;
        let mut out = Vec::new();
        let got = (&mut self.inner)
            .take(len)
            .read_to_end(&mut out)
            .map_err(|e| self.io(e))?;
        self.offset += got as u64;
        if (got as u64) < len {
            return Err(self.truncated(what, start, len, got as u64));
        }
        Ok(out)
    }

    /// Reads whatever is available up to `buf.len()` (0 only at the end of the file).
    pub(crate) fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(e)),
            }
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            let got = self.read_some(&mut buf[n..])?;
            if got == 0 {
                break;
            }
            n += got;
        }
        Ok(n)
    }

    fn truncated(&self, what: &'static str, offset: u64, needed: u64, found: u64) -> MediaError {
        MediaError::Truncated {
            format: self.format,
            what,
            offset,
            needed,
            found,
        }
    }

    fn io(&self, source: io::Error) -> MediaError {
        MediaError::Io {
            format: self.format,
            action: "reading",
            offset: self.offset,
            source,
        }
    }
}

/// Rewrites `bytes` at absolute position `pos` of a seekable sink and returns to where it was.
pub(crate) type PatchFn<W> = fn(&mut W, u64, &[u8]) -> io::Result<()>;

/// A sink that counts the bytes written and, when made with [`PosWriter::seekable`], can patch
/// earlier bytes (frame counts, sizes, durations known only at the end).
pub(crate) struct PosWriter<W> {
    inner: W,
    /// Bytes written through this writer.
    written: u64,
    /// Absolute position of the first byte (seekable sinks only).
    start: u64,
    patch: Option<PatchFn<W>>,
    format: &'static str,
}

impl<W: Write> PosWriter<W> {
    /// A sink that is only written forwards.
    pub(crate) fn new(inner: W, format: &'static str) -> Self {
        PosWriter {
            inner,
            written: 0,
            start: 0,
            patch: None,
            format,
        }
    }

    /// Bytes written so far: the offset of the next byte relative to the first.
    pub(crate) fn position(&self) -> u64 {
        self.written
    }

    pub(crate) fn can_patch(&self) -> bool {
        self.patch.is_some()
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8], action: &'static str) -> Result<()> {
        let offset = self.written;
        self.inner
            .write_all(bytes)
            .map_err(|source| self.io(action, offset, source))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Overwrites bytes at `at` (relative to the first byte written); a no-op for a forward-only
    /// sink (callers check [`PosWriter::can_patch`] when it matters).
    pub(crate) fn patch(&mut self, at: u64, bytes: &[u8], action: &'static str) -> Result<()> {
        if let Some(patch) = self.patch {
            patch(&mut self.inner, self.start + at, bytes).map_err(|source| self.io(action, at, source))?;
        }
        Ok(())
    }

    pub(crate) fn flush_into_inner(mut self) -> Result<W> {
        let offset = self.written;
        self.inner
            .flush()
            .map_err(|source| self.io("flushing", offset, source))?;
        Ok(self.inner)
    }

    fn io(&self, action: &'static str, offset: u64, source: io::Error) -> MediaError {
        MediaError::Io {
            format: self.format,
            action,
            offset,
            source,
        }
    }
}

impl<W: Write + Seek> PosWriter<W> {
    /// A sink that can be patched; its current position becomes offset 0.
    pub(crate) fn seekable(mut inner: W, format: &'static str) -> Result<Self> {
        let start = inner.stream_position().map_err(|source| MediaError::Io {
            format,
            action: "finding the start position of",
            offset: 0,
            source,
        })?;
        Ok(PosWriter {
            inner,
            written: 0,
            start,
            patch: Some(patch_at::<W>),
            format,
        })
    }
}

fn patch_at<W: Write + Seek>(w: &mut W, pos: u64, bytes: &[u8]) -> io::Result<()> {
    let end = w.stream_position()?;
    w.seek(SeekFrom::Start(pos))?;
    w.write_all(bytes)?;
    w.seek(SeekFrom::Start(end))?;
    Ok(())
}
