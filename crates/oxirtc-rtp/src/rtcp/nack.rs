//! Generic NACK (RFC 4585 §6.2.1): PID + BLP pairs naming lost RTP sequence numbers.

use super::feedback::{write_feedback_header, FMT_NACK};
use super::header::{be16, finish};
use super::PT_RTPFB;
use crate::packet::Ssrc;
use crate::RtpError;

/// One FCI entry: a lost packet id and a bitmask of the 16 that follow (RFC 4585 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackPair {
    /// Packet id: a lost sequence number.
    pub pid: u16,
    /// Bitmask of following lost packets: bit i (LSB first) means `pid + i + 1` is lost.
    pub blp: u16,
}

impl NackPair {
    /// The sequence numbers this pair names lost, `pid` first.
    pub fn lost(self) -> impl Iterator<Item = u16> {
        std::iter::once(self.pid).chain(
            (0..16)
                .filter(move |i| self.blp & (1 << i) != 0)
                .map(move |i| self.pid.wrapping_add(i + 1)),
        )
    }
}

/// Packs lost sequence numbers into NACK pairs. Best given in increasing (wrap-aware) order, as a
/// receiver finds them; any order gives a correct list, only a longer one.
pub fn nack_pairs(lost: impl IntoIterator<Item = u16>) -> impl Iterator<Item = NackPair> {
    let mut lost = lost.into_iter().peekable();
    std::iter::from_fn(move || {
        let pid = lost.next()?;
        let mut blp = 0u16;
        // Absorb following numbers 1-16 after pid (a repeat of pid is absorbed as well).
        while let Some(&next) = lost.peek() {
            match next.wrapping_sub(pid) {
                0 => {}
                d @ 1..=16 => blp |= 1 << (d - 1),
                _ => break,
            }
            lost.next();
        }
        Some(NackPair { pid, blp })
    })
}

/// A generic NACK feedback message, validated at parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    /// The media source the losses are in.
    pub media_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Nack<'a> {
    pub(crate) fn parse(sender_ssrc: Ssrc, media_ssrc: Ssrc, fci: &'a [u8]) -> Result<Self, RtpError> {
        if fci.is_empty() || !fci.len().is_multiple_of(4) {
            return Err(RtpError::Malformed {
                what: "RTCP generic NACK",
                reason: "FCI is not one or more 4-byte PID/BLP pairs (RFC 4585 §6.2.1)",
            });
        }
        Ok(Nack {
            sender_ssrc,
            media_ssrc,
            fci,
        })
    }

    /// The PID/BLP pairs.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = NackPair> + 'a {
        self.fci.chunks_exact(4).map(|c| NackPair {
            pid: be16(c, 0),
            blp: be16(c, 2),
        })
    }

    /// Every sequence number named lost, pair by pair.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs().flat_map(NackPair::lost)
    }

    /// Appends a NACK naming `lost` (see [`nack_pairs`]). An empty list is an error: the FCI
    /// needs at least one pair.
    pub fn write(
        sender_ssrc: Ssrc,
        media_ssrc: Ssrc,
        lost: impl IntoIterator<Item = u16>,
        out: &mut Vec<u8>,
    ) -> Result<(), RtpError> {
        let start = write_feedback_header(out, FMT_NACK, PT_RTPFB, sender_ssrc, media_ssrc);
        for p in nack_pairs(lost) {
            out.extend_from_slice(&p.pid.to_be_bytes());
            out.extend_from_slice(&p.blp.to_be_bytes());
        }
        if out.len() == start + 12 {
            out.truncate(start);
            return Err(RtpError::TooMany {
                what: "NACK without lost packets",
                count: 0,
                max: 0,
            });
        }
        finish(out, start)
    }
}
