//! Sans-IO RTP and RTCP for WebRTC: packets, header extensions, RTCP feedback, and the codecs'
//! packetization (RFC 3550, RFC 8285, RFC 4585, RFC 5104, RFC 8888, and the per-codec payload RFCs).
//!
//! Parsing is zero-copy: [`RtpPacket::parse`](packet::RtpPacket::parse) and
//! [`RtcpPacket::compound`](rtcp::RtcpPacket::compound) validate every length once and hand out
//! views over the caller's bytes; writers append to the caller's `Vec<u8>` (or fill a slice), so
//! once buffers have grown, sending allocates nothing. Parsers are strict with what could come from
//! an attacker (version 2 only, lengths and counts bounded by the packet, pad counts checked) and
//! liberal with honest peers: unknown header extension ids, RTCP packet types and feedback formats
//! are skipped and reported (`Ok(None)`, [`RtcpPacket::Unknown`](rtcp::RtcpPacket::Unknown),
//! [`RtcpPacket::UnknownFeedback`](rtcp::RtcpPacket::UnknownFeedback)) so the caller can count them.
//!
//! ```
//! use oxirtc_rtp::ext::{values::TransportCcSeq, ExtensionKind, ExtensionMap, ExtensionValue, URI_TRANSPORT_CC};
//! use oxirtc_rtp::packet::{seq::SeqExtender, RtpPacket, Ssrc};
//! use oxirtc_rtp::rtcp::{Nack, RtcpPacket};
//!
//! // An RTP packet with a one-byte header extension: transport-wide sequence number 0x0102 (id 3).
//! let datagram = [
//!     0x90, 96, 0xff, 0xff, // V=2, X=1; PT 96; sequence number 65535
//!     0, 0, 0x0b, 0xb8, 0x11, 0x22, 0x33, 0x44, // timestamp 3000; SSRC
//!     0xbe, 0xde, 0, 1, 0x31, 0x01, 0x02, 0, // 0xBEDE, 1 word: id 3, 2 bytes, padding
//!     0xca, 0xfe, // payload
//! ];
//! let packet = RtpPacket::parse(&datagram)?;
//! assert_eq!((packet.payload_type(), packet.ssrc()), (96, Ssrc(0x1122_3344)));
//! assert_eq!(packet.payload(), [0xca, 0xfe]);
//!
//! // Ids come from the negotiated a=extmap lines.
//! let mut extmap = ExtensionMap::new();
//! assert_eq!(extmap.insert_uri(3, URI_TRANSPORT_CC)?, Some(ExtensionKind::TransportCc));
//! let values: Vec<_> = packet.extensions().filter_map(|e| extmap.parse(e).ok().flatten()).collect();
//! assert_eq!(values, [ExtensionValue::TransportCc(TransportCcSeq(0x0102))]);
//!
//! // Sequence numbers extended across the wrap, then a NACK for what is missing.
//! let mut seqs = SeqExtender::new();
//! let before = seqs.extend(packet.sequence_number());
//! assert_eq!(seqs.extend(3), before + 4); // 0, 1 and 2 were lost
//! let mut rtcp = Vec::new();
//! Nack::write(Ssrc(1), packet.ssrc(), [0, 1, 2], &mut rtcp)?;
//! let RtcpPacket::Nack(nack) = RtcpPacket::parse(&rtcp)? else { unreachable!() };
//! assert_eq!(nack.lost().collect::<Vec<_>>(), [0, 1, 2]);
//! # Ok::<(), oxirtc_rtp::RtpError>(())
//! ```
//!
//! Module layout:
//! - [`packet`]: the RTP fixed header, CSRCs, padding (RFC 3550 §5.1), parse and write; sequence
//!   numbers across the wrap ([`packet::seq`]).
//! - [`ext`]: header extensions, one- and two-byte forms (RFC 8285), the `a=extmap` table and the
//!   values WebRTC uses ([`ext::values`]).
//! - [`rtcp`]: RTCP compound and reduced-size packets (RFC 3550 §6, RFC 5506): reports, SDES, BYE,
//!   APP, NACK, PLI, FIR, REMB, transport-cc and RFC 8888 feedback; [`rtcp::compound`] writes
//!   compounds in the required order.
//! - [`codec`]: packetizers and depacketizers per codec.
//! - [`sample`]: frame assembly from depacketized payloads (bounded, keyframe-aware).
//! - [`stream`]: per-SSRC state: reception statistics and report blocks (RFC 3550 §6.4, §A.1,
//!   §A.3, §A.8), sender information and RTT, the retransmission history and RTX (RFC 4588), the
//!   NACK generator (RFC 4585 §6.2.1) and the RTCP report schedule.
//!
//! Nothing here does I/O, reads a clock or encrypts: SRTP is `oxirtc-srtp`'s job.

pub mod codec;
mod error;
pub mod ext;
pub mod packet;
pub mod rtcp;
pub mod sample;
pub mod stream;

pub use error::RtpError;
