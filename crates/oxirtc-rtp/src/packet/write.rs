//! Writing RTP packets into the caller's buffer (RFC 3550 §5.1), without allocating once the
//! buffer has grown (CONTRIBUTING.md convention 7).

use super::{Ssrc, FIXED_HEADER_LEN};
use crate::ext::{self, Extension};
use crate::RtpError;

/// The header fields of an RTP packet to write. CSRCs and extension elements are borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'b> {
    /// The marker bit.
    pub marker: bool,
    /// The payload type, 0 to 127.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The media timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: Ssrc,
    /// Contributing sources, at most 15.
    pub csrcs: &'b [Ssrc],
    /// Header extension elements (RFC 8285); none means no extension block and the X bit clear.
    pub extensions: &'b [Extension<'b>],
    /// Whether the two-byte form may be used when an element needs it, i.e. whether
    /// `a=extmap-allow-mixed` was negotiated (RFC 8285 §6). Without it such an element is an error.
    pub allow_two_byte: bool,
}

impl RtpHeader<'_> {
    /// Bytes the packet takes with `payload_len` bytes of payload and `padding` bytes of padding.
    pub fn encoded_len(&self, payload_len: usize, padding: u8) -> Result<usize, RtpError> {
        self.check()?;
        let ext_len = if self.extensions.is_empty() {
            0
        } else {
            ext::block_len(self.extensions, self.allow_two_byte)?.1
        };
        Ok(FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext_len + payload_len + usize::from(padding))
    }

    /// Appends the packet (header, extension block, `payload`, then `padding` bytes of padding with
    /// the pad count last; 0 means no padding) to `out` and returns its length.
    pub fn write(&self, payload: &[u8], padding: u8, out: &mut Vec<u8>) -> Result<usize, RtpError> {
        let len = self.encoded_len(payload.len(), padding)?;
        let start = out.len();
        out.resize(start + len, 0);
        self.write_to_slice(payload, padding, &mut out[start..])
    }

    /// Writes the packet to the front of `out` and returns its length.
    pub fn write_to_slice(&self, payload: &[u8], padding: u8, out: &mut [u8]) -> Result<usize, RtpError> {
        let len = self.encoded_len(payload.len(), padding)?;
        if out.len() < len {
            return Err(RtpError::BufferTooSmall {
                needed: len,
                available: out.len(),
            });
        }
        let out = &mut out[..len];
        // RFC 3550 §5.1: V=2, P, X, CC | M, PT.
        out[0] = 0x80
            | if padding > 0 { 0x20 } else { 0 }
            | if self.extensions.is_empty() { 0 } else { 0x10 }
            // `check` bounded the CSRC count by 15.
            | self.csrcs.len() as u8;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type;
        out[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        let mut pos = FIXED_HEADER_LEN;
        for c in self.csrcs {
            out[pos..pos + 4].copy_from_slice(&c.0.to_be_bytes());
            pos += 4;
        }
        if !self.extensions.is_empty() {
            pos += ext::write_block(self.extensions, self.allow_two_byte, &mut out[pos..])?;
        }
        out[pos..pos + payload.len()].copy_from_slice(payload);
        pos += payload.len();
        if padding > 0 {
            out[pos..len - 1].fill(0);
            out[len - 1] = padding;
        }
        Ok(len)
    }

    fn check(&self) -> Result<(), RtpError> {
        if self.payload_type > 127 {
            return Err(RtpError::OutOfRange {
                what: "RTP payload type",
                value: self.payload_type.into(),
                max: 127,
            });
        }
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooMany {
                what: "RTP CSRC list",
                count: self.csrcs.len(),
                max: 15,
            });
        }
        Ok(())
    }
}
