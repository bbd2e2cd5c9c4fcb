//! RTCP (RFC 3550 §6): compound packets read as a sequence of zero-copy views, each packet's
//! length checked ([`RtcpPacket::compound`]); reduced-size packets (RFC 5506) are just compounds of
//! one. Writers append to the caller's buffer; [`compound`] orders a compound as RFC 3550 §6.1
//! requires.
//!
//! Unknown packet types and feedback formats are not errors: they come back as
//! [`RtcpPacket::Unknown`] and [`RtcpPacket::UnknownFeedback`] so the caller can count and skip them.

mod bye;
mod ccfb;
pub mod compound;
mod feedback;
mod header;
mod nack;
mod report;
mod sdes;
mod twcc;

pub use bye::{App, Bye};
pub use ccfb::{Ccfb, CcfbMetric, CcfbReport, ATO_OVER_RANGE, ATO_UNAVAILABLE, MAX_REPORTS_PER_BLOCK};
pub use feedback::{Fir, FirEntry, Pli, Remb, FMT_AFB, FMT_CCFB, FMT_FIR, FMT_NACK, FMT_PLI, FMT_TWCC};
pub use header::HEADER_LEN;
pub use nack::{nack_pairs, Nack, NackPair};
pub use report::{ReceiverReport, ReportBlock, ReportBlocks, SenderInfo, SenderReport};
pub use sdes::{Sdes, SdesChunk, SdesItem, SDES_CNAME, SDES_NAME, SDES_PRIV, SDES_TOOL};
pub use twcc::{TransportCc, TwccPacket, DELTA_UNIT_US, REFERENCE_TIME_UNIT_US};

use crate::packet::Ssrc;
use crate::RtpError;
use header::{be16, be32};

/// Packet type of a sender report (RFC 3550 §12.1).
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of a source description.
pub const PT_SDES: u8 = 202;
/// Packet type of BYE.
pub const PT_BYE: u8 = 203;
/// Packet type of APP.
pub const PT_APP: u8 = 204;
/// Packet type of transport-layer feedback (RFC 4585 §6.1).
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (RFC 4585 §6.1).
pub const PT_PSFB: u8 = 206;

/// One RTCP packet, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// Sender report (RFC 3550 §6.4.1).
    SenderReport(SenderReport<'a>),
    /// Receiver report (RFC 3550 §6.4.2).
    ReceiverReport(ReceiverReport<'a>),
    /// Source description (RFC 3550 §6.5).
    Sdes(Sdes<'a>),
    /// Goodbye (RFC 3550 §6.6).
    Bye(Bye<'a>),
    /// Application-defined (RFC 3550 §6.7).
    App(App<'a>),
    /// Generic NACK (RFC 4585 §6.2.1).
    Nack(Nack<'a>),
    /// Transport-wide congestion control feedback (draft-holmer-...-01 §3.1).
    TransportCc(TransportCc<'a>),
    /// Congestion control feedback (RFC 8888).
    Ccfb(Ccfb<'a>),
    /// Picture loss indication (RFC 4585 §6.3.1).
    Pli(Pli),
    /// Full intra request (RFC 5104 §4.3.1).
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb).
    Remb(Remb<'a>),
    /// A feedback message (PT 205 or 206) of a format this crate does not know: skip and count it.
    UnknownFeedback {
        /// 205 or 206.
        packet_type: u8,
        /// The FMT field.
        fmt: u8,
        /// The sender of the feedback.
        sender_ssrc: Ssrc,
        /// The media source.
        media_ssrc: Ssrc,
        /// The feedback control information.
        fci: &'a [u8],
    },
    /// A packet type this crate does not know (XR, ...): skip and count it.
    Unknown {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count/format field.
        count: u8,
        /// Everything after the 4-byte header, padding removed.
        body: &'a [u8],
    },
}

impl<'a> RtcpPacket<'a> {
    /// Iterates the packets of a compound (or reduced-size) RTCP datagram.
    ///
    /// A packet whose header or length is wrong ends the iteration after one `Err` (the rest
    /// cannot be framed); a packet whose body is malformed yields an `Err` and iteration goes on.
    pub fn compound(buf: &'a [u8]) -> CompoundIter<'a> {
        CompoundIter { buf, pos: 0 }
    }

    /// Parses a datagram holding exactly one RTCP packet.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        let (packet, len) = frame(buf)?;
        if len != buf.len() {
            return Err(RtpError::TrailingBytes {
                what: "RTCP packet",
                count: buf.len() - len,
            });
        }
        packet
    }

    fn parse_body(count: u8, packet_type: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        Ok(match packet_type {
            PT_SR => Self::SenderReport(SenderReport::parse(count, body)?),
            PT_RR => Self::ReceiverReport(ReceiverReport::parse(count, body)?),
            PT_SDES => Self::Sdes(Sdes::parse(count, body)?),
            PT_BYE => Self::Bye(Bye::parse(count, body)?),
            PT_APP => Self::App(App::parse(count, body)?),
            PT_RTPFB | PT_PSFB => Self::parse_feedback(count, packet_type, body)?,
            _ => Self::Unknown {
                packet_type,
                count,
                body,
            },
        })
    }

    fn parse_feedback(fmt: u8, packet_type: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        // RFC 4585 §6.1: SSRC of packet sender, SSRC of media source, FCI.
        header::need("RTCP feedback", body, 8)?;
        let sender = Ssrc(be32(body, 0));
        let media = Ssrc(be32(body, 4));
        let fci = &body[8..];
        Ok(match (packet_type, fmt) {
            (PT_RTPFB, FMT_NACK) => Self::Nack(Nack::parse(sender, media, fci)?),
            (PT_RTPFB, FMT_TWCC) => Self::TransportCc(TransportCc::parse(sender, media, fci)?),
            // RFC 8888 §3.1 has no media SSRC field: the first report block follows the sender.
            (PT_RTPFB, FMT_CCFB) => Self::Ccfb(Ccfb::parse(body)?),
            (PT_PSFB, FMT_PLI) => Self::Pli(Pli {
                sender_ssrc: sender,
                media_ssrc: media,
            }),
            (PT_PSFB, FMT_FIR) => Self::Fir(Fir::parse(sender, fci)?),
            (PT_PSFB, FMT_AFB) if Remb::is_remb(fci) => Self::Remb(Remb::parse(sender, fci)?),
            _ => Self::UnknownFeedback {
                packet_type,
                fmt,
                sender_ssrc: sender,
                media_ssrc: media,
                fci,
            },
        })
    }
}

/// Iterator over a compound RTCP datagram; see [`RtcpPacket::compound`].
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = Result<RtcpPacket<'a>, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        match frame(&self.buf[self.pos..]) {
            Ok((packet, len)) => {
                self.pos += len;
                Some(packet)
            }
            Err(e) => {
                self.pos = self.buf.len();
                Some(Err(e))
            }
        }
    }
}

/// Frames the packet at the front of `buf` (RFC 3550 §6.4.1): the outer `Err` means the framing
/// failed; otherwise the body's parse result and the packet's length.
#[allow(clippy::type_complexity)]
fn frame(buf: &[u8]) -> Result<(Result<RtcpPacket<'_>, RtpError>, usize), RtpError> {
    const WHAT: &str = "RTCP packet";
    header::need(WHAT, buf, HEADER_LEN)?;
    let version = buf[0] >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion { what: WHAT, version });
    }
    let len = 4 * (usize::from(be16(buf, 2)) + 1);
    header::need(WHAT, buf, len)?;
    let mut end = len;
    if buf[0] & 0x20 != 0 {
        // The last octet counts the padding, itself included.
        let count = usize::from(buf[len - 1]);
        if count == 0 || count > len - HEADER_LEN {
            return Err(RtpError::BadPadding {
                what: WHAT,
                count,
                available: len - HEADER_LEN,
            });
        }
        end -= count;
    }
    Ok((
        RtcpPacket::parse_body(buf[0] & 0x1f, buf[1], &buf[HEADER_LEN..end]),
        len,
    ))
}

#[cfg(test)]
mod tests;
