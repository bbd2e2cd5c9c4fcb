//! RTP packets (RFC 3550 §5.1): a zero-copy view that validates once ([`RtpPacket::parse`]) and a
//! writer into the caller's buffer ([`RtpHeader::write`]); sequence-number arithmetic across the
//! wrap lives in [`seq`].

pub mod seq;
mod write;

pub use write::RtpHeader;

use crate::ext::{ExtensionElements, ExtensionForm};
use crate::RtpError;

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;

/// A synchronization or contributing source identifier (RFC 3550 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ssrc(pub u32);

impl From<u32> for Ssrc {
    fn from(v: u32) -> Self {
        Ssrc(v)
    }
}

/// A validated RTP packet borrowed from the receive buffer.
///
/// [`parse`](Self::parse) checks every length once; the accessors are then cheap reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    /// Where the extension block's data starts and ends (after its 4-byte header), if any.
    ext: Option<(u16, usize, usize)>,
    payload_start: usize,
    payload_end: usize,
}

/// An RTP header extension block as carried (RFC 3550 §5.3.1): the profile word and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionBlock<'a> {
    /// The 16-bit "defined by profile" field: 0xBEDE for one-byte elements, 0x100X for two-byte.
    pub profile: u16,
    /// The extension data, a multiple of 4 bytes long.
    pub data: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Validates `buf` as one RTP packet (RFC 3550 §5.1, §5.3.1; RFC 8285 §4 for the extension
    /// elements when the block uses the one- or two-byte form).
    ///
    /// Rejects a version other than 2, a CSRC list or extension block that runs past the end, a
    /// pad count of zero or one that eats into the header, and malformed RFC 8285 elements.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        const WHAT: &str = "RTP packet";
        if buf.len() < FIXED_HEADER_LEN {
            return Err(RtpError::Truncated {
                what: WHAT,
                needed: FIXED_HEADER_LEN,
                available: buf.len(),
            });
        }
        // RFC 3550 §5.1: V(2) P(1) X(1) CC(4) | M(1) PT(7) | sequence | timestamp | SSRC.
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion { what: WHAT, version });
        }
        let has_padding = buf[0] & 0x20 != 0;
        let has_ext = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0f);
        let mut pos = FIXED_HEADER_LEN + 4 * csrc_count;
        if buf.len() < pos {
            return Err(RtpError::Truncated {
                what: "RTP CSRC list",
                needed: pos,
                available: buf.len(),
            });
        }
        let mut ext = None;
        if has_ext {
            // RFC 3550 §5.3.1: profile-defined 16 bits, then the length in 32-bit words.
            let Some(head) = buf.get(pos..pos + 4) else {
                return Err(RtpError::Truncated {
                    what: "RTP extension header",
                    needed: pos + 4,
                    available: buf.len(),
                });
            };
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let start = pos + 4;
            let end = start + 4 * words;
            if buf.len() < end {
                return Err(RtpError::Truncated {
                    what: "RTP extension block",
                    needed: end,
                    available: buf.len(),
                });
            }
            if let Some(form) = ExtensionForm::from_profile(profile) {
                ExtensionElements::new(form, &buf[start..end]).validate()?;
            }
            ext = Some((profile, start, end));
            pos = end;
        }
        let mut payload_end = buf.len();
        if has_padding {
            // RFC 3550 §5.1: the last octet counts the padding, itself included.
            let count = usize::from(buf[buf.len() - 1]);
            let available = buf.len() - pos;
            if count == 0 || count > available {
                return Err(RtpError::BadPadding {
                    what: WHAT,
                    count,
                    available,
                });
            }
            payload_end -= count;
        }
        Ok(RtpPacket {
            buf,
            ext,
            payload_start: pos,
            payload_end,
        })
    }

    /// The whole packet as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The marker bit (RFC 3550 §5.1).
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The 7-bit payload type (RFC 3550 §5.1).
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// The 16-bit sequence number (RFC 3550 §5.1); see [`seq`] to extend it across the wrap.
    pub fn sequence_number(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The 32-bit media timestamp (RFC 3550 §5.1).
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The synchronization source (RFC 3550 §5.1).
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([
            self.buf[8],
            self.buf[9],
            self.buf[10],
            self.buf[11],
        ]))
    }

    /// The contributing sources, at most 15 (RFC 3550 §5.1).
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + 'a {
        let n = usize::from(self.buf[0] & 0x0f);
        self.buf[FIXED_HEADER_LEN..FIXED_HEADER_LEN + 4 * n]
            .chunks_exact(4)
            .map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// The raw extension block, if the X bit is set (RFC 3550 §5.3.1).
    pub fn extension_block(&self) -> Option<ExtensionBlock<'a>> {
        self.ext.map(|(profile, start, end)| ExtensionBlock {
            profile,
            data: &self.buf[start..end],
        })
    }

    /// The RFC 8285 extension elements, already validated by [`parse`](Self::parse). Empty when the
    /// packet has no extension block or one of another profile.
    pub fn extensions(&self) -> ExtensionElements<'a> {
        match self.ext {
            Some((profile, start, end)) => match ExtensionForm::from_profile(profile) {
                Some(form) => ExtensionElements::new(form, &self.buf[start..end]),
                None => ExtensionElements::empty(),
            },
            None => ExtensionElements::empty(),
        }
    }

    /// The data of the first extension element with local identifier `id`, if present.
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions().find(|e| e.id == id).map(|e| e.data)
    }

    /// The payload, without header, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// Length of the header including CSRCs and the extension block.
    pub fn header_len(&self) -> usize {
        self.payload_start
    }

    /// Bytes of padding at the end (0 when the P bit is clear).
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }
}

#[cfg(test)]
mod tests;
