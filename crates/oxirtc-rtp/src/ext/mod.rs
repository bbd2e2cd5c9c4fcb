//! RTP header extensions (RFC 8285): the one-byte (0xBEDE) and two-byte (0x100X) element forms,
//! read as a zero-copy iterator and written into the caller's buffer; the [`ExtensionMap`] from
//! `a=extmap` ids to kinds; and the typed values WebRTC uses ([`values`]).

mod map;
pub mod values;

pub use map::{
    ExtensionKind, ExtensionMap, ExtensionValue, URI_ABS_CAPTURE_TIME, URI_ABS_SEND_TIME, URI_AUDIO_LEVEL,
    URI_MID, URI_PLAYOUT_DELAY, URI_REPAIRED_RID, URI_RID, URI_TRANSPORT_CC, URI_VIDEO_ORIENTATION,
};

use crate::RtpError;

/// The "defined by profile" value of a one-byte-form block (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// The "defined by profile" value of a two-byte-form block with appbits 0 (RFC 8285 §4.3).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// One header extension element: its local identifier and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The local identifier from `a=extmap` (1-14 one-byte, 1-255 two-byte).
    pub id: u8,
    /// The element's data.
    pub data: &'a [u8],
}

/// Which of the RFC 8285 element forms a block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionForm {
    /// One-byte headers: 4-bit id, 4-bit length minus one (RFC 8285 §4.2).
    OneByte,
    /// Two-byte headers: 8-bit id, 8-bit length (RFC 8285 §4.3).
    TwoByte,
}

impl ExtensionForm {
    /// The form a block's profile word announces; `None` for other profiles (left opaque).
    pub fn from_profile(profile: u16) -> Option<Self> {
        match profile {
            ONE_BYTE_PROFILE => Some(Self::OneByte),
            // RFC 8285 §4.3: 0x100 followed by 4 appbits.
            p if p & 0xfff0 == TWO_BYTE_PROFILE => Some(Self::TwoByte),
            _ => None,
        }
    }
}

/// Iterator over the elements of an extension block; padding bytes are skipped and, in the
/// one-byte form, id 15 ends the block (RFC 8285 §4.2). Stops at the first malformed element,
/// which [`RtpPacket::parse`](crate::packet::RtpPacket::parse) has already rejected.
#[derive(Debug, Clone)]
pub struct ExtensionElements<'a> {
    form: ExtensionForm,
    data: &'a [u8],
    pos: usize,
}

impl<'a> ExtensionElements<'a> {
    /// Elements of the block data `data` (after the 4-byte block header) in form `form`.
    pub fn new(form: ExtensionForm, data: &'a [u8]) -> Self {
        ExtensionElements { form, data, pos: 0 }
    }

    /// An iterator that yields nothing.
    pub fn empty() -> Self {
        Self::new(ExtensionForm::OneByte, &[])
    }

    /// Walks the whole block and returns the first error, if any.
    pub fn validate(mut self) -> Result<(), RtpError> {
        while self.step()?.is_some() {}
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Extension<'a>>, RtpError> {
        loop {
            let Some(&first) = self.data.get(self.pos) else {
                return Ok(None);
            };
            // RFC 8285 §4.1: a zero byte is padding in both forms.
            if first == 0 {
                self.pos += 1;
                continue;
            }
            let (id, len, head) = match self.form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 15 {
                        // RFC 8285 §4.2: id 15 ends processing; its length is ignored.
                        self.pos = self.data.len();
                        return Ok(None);
                    }
                    if id == 0 {
                        // RFC 8285 §4.2: only a whole zero byte is padding; id 0 with a length is not.
                        return Err(RtpError::Malformed {
                            what: "one-byte header extension",
                            reason: "element with id 0 and a non-zero length",
                        });
                    }
                    (id, usize::from(first & 0x0f) + 1, 1)
                }
                ExtensionForm::TwoByte => {
                    let Some(&len) = self.data.get(self.pos + 1) else {
                        return Err(RtpError::Truncated {
                            what: "two-byte header extension element",
                            needed: self.pos + 2,
                            available: self.data.len(),
                        });
                    };
                    (first, usize::from(len), 2)
                }
            };
            let start = self.pos + head;
            let end = start + len;
            let Some(data) = self.data.get(start..end) else {
                return Err(RtpError::Truncated {
                    what: "header extension element",
                    needed: end,
                    available: self.data.len(),
                });
            };
            self.pos = end;
            return Ok(Some(Extension { id, data }));
        }
    }
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = Extension<'a>;

    fn next(&mut self) -> Option<Extension<'a>> {
        match self.step() {
            Ok(e) => e,
            Err(_) => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Picks the form for `elements` and returns it with the block's length in bytes, 4-byte header
/// and padding included.
///
/// The one-byte form is used when every id is 1-14 and every length 1-16 (RFC 8285 §4.1.1: a
/// sender SHOULD NOT use the two-byte form otherwise); else the two-byte form, which needs
/// `allow_two_byte` (`a=extmap-allow-mixed`, RFC 8285 §6).
pub fn block_len(
    elements: &[Extension<'_>],
    allow_two_byte: bool,
) -> Result<(ExtensionForm, usize), RtpError> {
    let one_byte = elements
        .iter()
        .all(|e| (1..=14).contains(&e.id) && (1..=16).contains(&e.data.len()));
    let form = if one_byte {
        ExtensionForm::OneByte
    } else {
        for e in elements {
            let reason = if e.id == 0 {
                Some("id 0 is reserved for padding (RFC 8285 §4.3)")
            } else if e.data.len() > 255 {
                Some("element data is at most 255 bytes (RFC 8285 §4.3)")
            } else if !(allow_two_byte || (1..=14).contains(&e.id) && (1..=16).contains(&e.data.len())) {
                Some("needs the two-byte form, which needs a=extmap-allow-mixed negotiated (RFC 8285 §6)")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(RtpError::BadExtension {
                    id: e.id,
                    len: e.data.len(),
                    reason,
                });
            }
        }
        ExtensionForm::TwoByte
    };
    let head = match form {
        ExtensionForm::OneByte => 1,
        ExtensionForm::TwoByte => 2,
    };
    let body: usize = elements.iter().map(|e| head + e.data.len()).sum();
    let padded = body.div_ceil(4) * 4;
    if padded / 4 > usize::from(u16::MAX) {
        return Err(RtpError::TooMany {
            what: "header extension words",
            count: padded / 4,
            max: u16::MAX.into(),
        });
    }
    Ok((form, 4 + padded))
}

/// Writes the extension block for `elements` (RFC 3550 §5.3.1 header, RFC 8285 elements, zero
/// padding to a word) to the front of `out` and returns its length.
pub fn write_block(
    elements: &[Extension<'_>],
    allow_two_byte: bool,
    out: &mut [u8],
) -> Result<usize, RtpError> {
    let (form, len) = block_len(elements, allow_two_byte)?;
    if out.len() < len {
        return Err(RtpError::BufferTooSmall {
            needed: len,
            available: out.len(),
        });
    }
    let profile = match form {
        ExtensionForm::OneByte => ONE_BYTE_PROFILE,
        ExtensionForm::TwoByte => TWO_BYTE_PROFILE,
    };
    out[0..2].copy_from_slice(&profile.to_be_bytes());
    // `block_len` bounded the word count by u16::MAX.
    out[2..4].copy_from_slice(&(((len - 4) / 4) as u16).to_be_bytes());
    let mut pos = 4;
    for e in elements {
        // Lengths were checked by `block_len`: 1-16 for one-byte, 0-255 for two-byte.
        match form {
            ExtensionForm::OneByte => {
                out[pos] = (e.id << 4) | (e.data.len() - 1) as u8;
                pos += 1;
            }
            ExtensionForm::TwoByte => {
                out[pos] = e.id;
                out[pos + 1] = e.data.len() as u8;
                pos += 2;
            }
        }
        out[pos..pos + e.data.len()].copy_from_slice(e.data);
        pos += e.data.len();
    }
    out[pos..len].fill(0);
    Ok(len)
}

#[cfg(test)]
mod tests;
