//! Source descriptions (RFC 3550 §6.5): chunks of an SSRC and items such as CNAME.

use super::header::{be32, begin, check_count, finish};
use super::PT_SDES;
use crate::packet::Ssrc;
use crate::RtpError;

/// SDES item type of the canonical name (RFC 3550 §6.5.1).
pub const SDES_CNAME: u8 = 1;
/// SDES item type NAME (RFC 3550 §6.5.2).
pub const SDES_NAME: u8 = 2;
/// SDES item type TOOL (RFC 3550 §6.5.6).
pub const SDES_TOOL: u8 = 6;
/// SDES item type PRIV (RFC 3550 §6.5.8).
pub const SDES_PRIV: u8 = 8;

/// One SDES item: its type and text (UTF-8 by RFC 3550 §6.5, not checked: kept as bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// The item type (`SDES_CNAME`, ...); unknown types are kept, not rejected.
    pub kind: u8,
    /// The item text, at most 255 bytes.
    pub text: &'a [u8],
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: Ssrc,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items, in order, up to the terminating null item.
    pub fn items(&self) -> impl Iterator<Item = SdesItem<'a>> + 'a {
        let mut rest = self.items;
        std::iter::from_fn(move || {
            // Validated at parse: each item's length fits and a null item ends the list.
            let (&kind, tail) = rest.split_first()?;
            if kind == 0 {
                return None;
            }
            let (&len, tail) = tail.split_first()?;
            let text = tail.get(..usize::from(len))?;
            rest = &tail[usize::from(len)..];
            Some(SdesItem { kind, text })
        })
    }

    /// The CNAME item's text, if any.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items().find(|i| i.kind == SDES_CNAME).map(|i| i.text)
    }
}

/// An SDES packet (RFC 3550 §6.5), validated at parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        const WHAT: &str = "RTCP SDES";
        let mut pos = 0;
        for _ in 0..count {
            // RFC 3550 §6.5: SSRC, items, a null item, zero padding to the next word.
            if body.len() < pos + 4 {
                return Err(RtpError::Truncated {
                    what: WHAT,
                    needed: pos + 4,
                    available: body.len(),
                });
            }
            pos += 4;
            loop {
                match body.get(pos) {
                    None => {
                        return Err(RtpError::Malformed {
                            what: WHAT,
                            reason: "chunk has no null item",
                        })
                    }
                    Some(0) => break,
                    Some(_) => {
                        let Some(&len) = body.get(pos + 1) else {
                            return Err(RtpError::Truncated {
                                what: WHAT,
                                needed: pos + 2,
                                available: body.len(),
                            });
                        };
                        pos += 2 + usize::from(len);
                        if pos > body.len() {
                            return Err(RtpError::Truncated {
                                what: WHAT,
                                needed: pos,
                                available: body.len(),
                            });
                        }
                    }
                }
            }
            // Null item and padding up to the word boundary.
            pos = (pos + 4) & !3;
            if pos > body.len() {
                return Err(RtpError::Truncated {
                    what: WHAT,
                    needed: pos,
                    available: body.len(),
                });
            }
        }
        Ok(Sdes { count, body })
    }

    /// The chunks, in order.
    pub fn chunks(&self) -> impl Iterator<Item = SdesChunk<'a>> + 'a {
        let mut rest = self.body;
        (0..self.count).map_while(move |_| {
            let ssrc = Ssrc(be32(rest.get(..4)?, 0));
            let items = &rest[4..];
            // Find the null item to know where the chunk ends (validated at parse).
            let mut pos = 0;
            while *items.get(pos)? != 0 {
                pos += 2 + usize::from(*items.get(pos + 1)?);
            }
            let end = ((4 + pos + 4) & !3).min(rest.len());
            let chunk = SdesChunk {
                ssrc,
                items: &items[..pos + 1],
            };
            rest = &rest[end..];
            Some(chunk)
        })
    }

    /// Appends an SDES packet with one chunk per `(ssrc, items)`.
    pub fn write(chunks: &[(Ssrc, &[SdesItem<'_>])], out: &mut Vec<u8>) -> Result<(), RtpError> {
        let count = check_count("RTCP SDES chunks", chunks.len())?;
        for (_, items) in chunks {
            for i in items.iter() {
                if i.kind == 0 || i.text.len() > 255 {
                    return Err(RtpError::Malformed {
                        what: "SDES item to write",
                        reason: "type 0 ends a chunk and text is at most 255 bytes (RFC 3550 §6.5)",
                    });
                }
            }
        }
        let start = begin(out, count, PT_SDES);
        for (ssrc, items) in chunks {
            let chunk_start = out.len();
            out.extend_from_slice(&ssrc.0.to_be_bytes());
            for i in items.iter() {
                // Checked above: text fits in a byte.
                out.extend_from_slice(&[i.kind, i.text.len() as u8]);
                out.extend_from_slice(i.text);
            }
            // The null item, then zero padding to the next word.
            out.push(0);
            while !(out.len() - chunk_start).is_multiple_of(4) {
                out.push(0);
            }
        }
        finish(out, start)
    }

    /// Appends an SDES packet with just the CNAME of `ssrc`, as every compound needs (RFC 3550 §6.1).
    pub fn write_cname(ssrc: Ssrc, cname: &str, out: &mut Vec<u8>) -> Result<(), RtpError> {
        Self::write(
            &[(
                ssrc,
                &[SdesItem {
                    kind: SDES_CNAME,
                    text: cname.as_bytes(),
                }],
            )],
            out,
        )
    }
}
