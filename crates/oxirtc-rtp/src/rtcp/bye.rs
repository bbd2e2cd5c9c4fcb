//! BYE (RFC 3550 §6.6) and APP (RFC 3550 §6.7) packets.

use super::header::{be32, begin, check_count, finish, need};
use super::{PT_APP, PT_BYE};
use crate::packet::Ssrc;
use crate::RtpError;

/// A BYE packet: the sources leaving and an optional reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    sources: &'a [u8],
    /// The reason for leaving, if given (UTF-8 by the RFC, kept as bytes).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        let n = 4 * usize::from(count);
        need("RTCP BYE", body, n)?;
        let rest = &body[n..];
        let reason = match rest.split_first() {
            // Zero bytes after the list are padding to the word, not a reason.
            None => None,
            Some((0, _)) => None,
            Some((&len, text)) => {
                let len = usize::from(len);
                need("RTCP BYE reason", text, len)?;
                Some(&text[..len])
            }
        };
        Ok(Bye {
            sources: &body[..n],
            reason,
        })
    }

    /// The sources leaving.
    pub fn sources(&self) -> impl ExactSizeIterator<Item = Ssrc> + 'a {
        self.sources.chunks_exact(4).map(|c| Ssrc(be32(c, 0)))
    }

    /// Appends a BYE for up to 31 sources with an optional reason of at most 255 bytes.
    pub fn write(sources: &[Ssrc], reason: Option<&str>, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let count = check_count("RTCP BYE sources", sources.len())?;
        if let Some(r) = reason.filter(|r| r.len() > 255) {
            return Err(RtpError::OutOfRange {
                what: "RTCP BYE reason length",
                value: r.len() as u64,
                max: 255,
            });
        }
        let start = begin(out, count, PT_BYE);
        sources
            .iter()
            .for_each(|s| out.extend_from_slice(&s.0.to_be_bytes()));
        if let Some(r) = reason {
            // Checked above: at most 255 bytes.
            out.push(r.len() as u8);
            out.extend_from_slice(r.as_bytes());
        }
        finish(out, start)
    }
}

/// An application-defined packet (RFC 3550 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    /// The 5-bit subtype.
    pub subtype: u8,
    /// The sender.
    pub ssrc: Ssrc,
    /// The four-character name.
    pub name: [u8; 4],
    /// Application data, a multiple of 4 bytes.
    pub data: &'a [u8],
}

impl<'a> App<'a> {
    pub(crate) fn parse(subtype: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        need("RTCP APP", body, 8)?;
        Ok(App {
            subtype,
            ssrc: Ssrc(be32(body, 0)),
            name: [body[4], body[5], body[6], body[7]],
            data: &body[8..],
        })
    }

    /// Appends this APP packet; the data must be a multiple of 4 bytes and the subtype below 32.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let subtype = check_count("RTCP APP subtype", self.subtype.into())?;
        if !self.data.len().is_multiple_of(4) {
            return Err(RtpError::Malformed {
                what: "RTCP APP data to write",
                reason: "must be a multiple of 4 bytes (RFC 3550 §6.7)",
            });
        }
        let start = begin(out, subtype, PT_APP);
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        out.extend_from_slice(&self.name);
        out.extend_from_slice(self.data);
        finish(out, start)
    }
}
