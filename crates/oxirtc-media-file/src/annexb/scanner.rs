//! Splits an Annex B byte stream read from any `Read` into NAL units, holding at most one NAL
//! unit (bounded by [`MAX_FRAME_SIZE`]) plus one read chunk in memory.

use std::io::Read;

use super::{find_start_code, trim_trailing_zeros};
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::io::OffsetReader;

const CHUNK: usize = 64 * 1024;

pub(super) struct NalScanner<R> {
    src: OffsetReader<R>,
    format: &'static str,
    /// Bytes read and not yet returned.
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    state: State,
    eof: bool,
}

enum State {
    /// No start code seen yet.
    Before,
    /// The current NAL unit's bytes begin at this index of `buf` (after its start code).
    InNal(usize),
    /// The last NAL unit has been returned.
    Done,
}

impl<R: Read> NalScanner<R> {
    pub(super) fn new(src: R, format: &'static str) -> Self {
        NalScanner {
            src: OffsetReader::new(src, format),
            format,
            buf: Vec::new(),
            buf_offset: 0,
            state: State::Before,
            eof: false,
        }
    }

    /// The next NAL unit and its file offset, or `None` at the end of the stream.
    pub(super) fn next_nal(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        let start = match self.state {
            State::Done => return Ok(None),
            State::InNal(start) => start,
            State::Before => self.find_first_start_code()?,
        };
        let mut search = start;
        loop {
            if let Some(i) = find_start_code(&self.buf, search) {
                return self.take_nal(start, i, i + 3).map(Some);
            }
            if self.eof {
                let end = self.buf.len();
                let nal = self.take_nal(start, end, end)?;
                self.state = State::Done;
                return Ok(Some(nal));
            }
            if self.buf.len() - start > MAX_FRAME_SIZE + 3 {
                return Err(MediaError::TooLarge {
                    format: self.format,
                    what: "NAL unit",
                    offset: self.buf_offset + start as u64,
                    size: (self.buf.len() - start) as u64,
                    limit: MAX_FRAME_SIZE as u64,
                });
            }
            search = self.buf.len().saturating_sub(2).max(start);
            self.fill()?;
        }
    }

    /// Skips leading zero bytes (leading_zero_8bits, Annex B.2) up to the first start code and
    /// returns the index after it; anything else before it is an error, and so is a stream with
    /// no start code at all.
    fn find_first_start_code(&mut self) -> Result<usize> {
        loop {
            if let Some(i) = find_start_code(&self.buf, 0) {
                self.check_leading_zeros(i)?;
                self.state = State::InNal(i + 3);
                return Ok(i + 3);
            }
            self.check_leading_zeros(self.buf.len())?;
            if self.eof {
                return Err(MediaError::Malformed {
                    format: self.format,
                    what: "byte stream",
                    offset: 0,
                    reason: format!(
                        "no start code (00 00 01) in its {} bytes; expected an Annex B stream \
                         (raw H.264/H.265 as written by `ffmpeg -f h264` or `-f hevc`)",
                        self.src.offset()
                    ),
                });
            }
            // Only zeros so far: keep the last two (they may begin a start code).
            let keep = self.buf.len().min(2);
            let drop = self.buf.len() - keep;
            self.buf.drain(..drop);
            self.buf_offset += drop as u64;
            self.fill()?;
        }
    }

    fn check_leading_zeros(&self, end: usize) -> Result<()> {
        match self.buf[..end].iter().position(|&b| b != 0) {
            None => Ok(()),
            Some(i) => Err(MediaError::BadSignature {
                format: self.format,
                expected: "zero bytes then a start code (00 00 01)",
                offset: self.buf_offset + i as u64,
                found: self.buf[i..end.min(i + 8)].to_vec(),
            }),
        }
    }

    /// Returns `buf[start..end]` (trailing zeros removed) and makes `next` the start of the
    /// following NAL unit.
    fn take_nal(&mut self, start: usize, end: usize, next: usize) -> Result<(u64, Vec<u8>)> {
        let nal = trim_trailing_zeros(&self.buf[start..end]);
        if nal.is_empty() {
            return Err(self.empty_nal(start));
        }
        let out = (self.buf_offset + start as u64, nal.to_vec());
        self.buf.drain(..next);
        self.buf_offset += next as u64;
        self.state = State::InNal(0);
        Ok(out)
    }

    fn empty_nal(&self, start: usize) -> MediaError {
        MediaError::Malformed {
            format: self.format,
            what: "NAL unit",
            offset: self.buf_offset + start as u64,
            reason: "it is empty (a start code followed by another start code, by zeros or by the end of \
                     the file); expected a NAL header byte"
                .into(),
        }
    }

    fn fill(&mut self) -> Result<()> {
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = self.src.read_some(&mut self.buf[old..])?;
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }
}
