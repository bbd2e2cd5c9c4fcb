//! The RFC 4585 §6.1 feedback header, and the payload-specific messages PLI (RFC 4585 §6.3.1),
//! FIR (RFC 5104 §4.3.1) and REMB (draft-alvestrand-rmcat-remb-03 §2.2).

use super::header::{be32, begin, finish, need};
use super::PT_PSFB;
use crate::packet::Ssrc;
use crate::RtpError;

/// RTPFB FMT of the generic NACK (RFC 4585 §6.2.1).
pub const FMT_NACK: u8 = 1;
/// RTPFB FMT of RFC 8888 congestion control feedback (RFC 8888 §3.1).
pub const FMT_CCFB: u8 = 11;
/// RTPFB FMT of transport-wide congestion control feedback (draft-holmer-...-01 §3.1).
pub const FMT_TWCC: u8 = 15;
/// PSFB FMT of the picture loss indication (RFC 4585 §6.3.1).
pub const FMT_PLI: u8 = 1;
/// PSFB FMT of the full intra request (RFC 5104 §4.3.1).
pub const FMT_FIR: u8 = 4;
/// PSFB FMT of application layer feedback, which REMB uses (RFC 4585 §6.4).
pub const FMT_AFB: u8 = 15;

/// Appends the common feedback header (RFC 4585 §6.1) with a placeholder length.
pub(crate) fn write_feedback_header(out: &mut Vec<u8>, fmt: u8, pt: u8, sender: Ssrc, media: Ssrc) -> usize {
    let start = begin(out, fmt, pt);
    out.extend_from_slice(&sender.0.to_be_bytes());
    out.extend_from_slice(&media.0.to_be_bytes());
    start
}

/// A picture loss indication: the receiver lost an unknown part of one or more pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pli {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    /// The media source whose pictures were lost.
    pub media_ssrc: Ssrc,
}

impl Pli {
    /// Appends the PLI (no FCI).
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), RtpError> {
        let start = write_feedback_header(out, FMT_PLI, PT_PSFB, self.sender_ssrc, self.media_ssrc);
        finish(out, start)
    }
}

/// One FIR request: the encoder to refresh and a command sequence number (RFC 5104 §4.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirEntry {
    /// The media sender asked for a decoder refresh point.
    pub ssrc: Ssrc,
    /// Command sequence number, incremented per new request.
    pub seq: u8,
}

/// A full intra request (RFC 5104 §4.3.1); the media source field is unused (zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fir<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Fir<'a> {
    pub(crate) fn parse(sender_ssrc: Ssrc, fci: &'a [u8]) -> Result<Self, RtpError> {
        if fci.is_empty() || !fci.len().is_multiple_of(8) {
            return Err(RtpError::Malformed {
                what: "RTCP FIR",
                reason: "FCI is not one or more 8-byte entries (RFC 5104 §4.3.1.1)",
            });
        }
        Ok(Fir { sender_ssrc, fci })
    }

    /// The requests.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = FirEntry> + 'a {
        self.fci.chunks_exact(8).map(|c| FirEntry {
            ssrc: Ssrc(be32(c, 0)),
            seq: c[4],
        })
    }

    /// Appends a FIR with the given requests (at least one).
    pub fn write(sender_ssrc: Ssrc, entries: &[FirEntry], out: &mut Vec<u8>) -> Result<(), RtpError> {
        if entries.is_empty() {
            return Err(RtpError::TooMany {
                what: "FIR without entries",
                count: 0,
                max: 0,
            });
        }
        let start = write_feedback_header(out, FMT_FIR, PT_PSFB, sender_ssrc, Ssrc(0));
        for e in entries {
            out.extend_from_slice(&e.ssrc.0.to_be_bytes());
            out.extend_from_slice(&[e.seq, 0, 0, 0]);
        }
        finish(out, start)
    }
}

/// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remb<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    /// The estimate in bits per second (mantissa × 2^exponent, saturated at u64::MAX).
    pub bitrate: u64,
    ssrcs: &'a [u8],
}

impl<'a> Remb<'a> {
    /// Whether `fci` starts with the "REMB" identifier (else the AFB message is someone else's).
    pub(crate) fn is_remb(fci: &[u8]) -> bool {
        fci.starts_with(b"REMB")
    }

    pub(crate) fn parse(sender_ssrc: Ssrc, fci: &'a [u8]) -> Result<Self, RtpError> {
        // 'R' 'E' 'M' 'B', Num SSRC(8), BR Exp(6), BR Mantissa(18), SSRC feedback list.
        need("RTCP REMB", fci, 8)?;
        let n = usize::from(fci[4]);
        need("RTCP REMB SSRC list", &fci[8..], 4 * n)?;
        let exp = u32::from(fci[5] >> 2);
        let mantissa = u64::from(be32(fci, 4) & 0x3ffff);
        let bitrate = mantissa
            .checked_shl(exp)
            .filter(|b| b >> exp == mantissa)
            .unwrap_or(u64::MAX);
        Ok(Remb {
            sender_ssrc,
            bitrate,
            ssrcs: &fci[8..8 + 4 * n],
        })
    }

    /// The media sources the estimate applies to.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + 'a {
        self.ssrcs.chunks_exact(4).map(|c| Ssrc(be32(c, 0)))
    }

    /// Appends a REMB for up to 255 sources; `bitrate` is rounded down to 18 significant bits.
    pub fn write(sender_ssrc: Ssrc, bitrate: u64, ssrcs: &[Ssrc], out: &mut Vec<u8>) -> Result<(), RtpError> {
        let Ok(n) = u8::try_from(ssrcs.len()) else {
            return Err(RtpError::TooMany {
                what: "REMB SSRCs",
                count: ssrcs.len(),
                max: 255,
            });
        };
        let mut exp = 0u32;
        while bitrate >> exp > 0x3ffff {
            exp += 1;
        }
        // At most 46 for a u64 bitrate, so it fits the 6-bit field.
        let mantissa = (bitrate >> exp) as u32;
        let start = write_feedback_header(out, FMT_AFB, PT_PSFB, sender_ssrc, Ssrc(0));
        out.extend_from_slice(b"REMB");
        out.extend_from_slice(&((u32::from(n) << 24) | (exp << 18) | mantissa).to_be_bytes());
        ssrcs
            .iter()
            .for_each(|s| out.extend_from_slice(&s.0.to_be_bytes()));
        finish(out, start)
    }
}
