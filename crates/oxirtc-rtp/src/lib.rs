//! Sans-IO RTP and RTCP for WebRTC: packets, header extensions, RTCP feedback, and the codecs'
//! packetization (RFC 3550, RFC 8285, RFC 4585, RFC 5104, RFC 8888, and the per-codec payload RFCs).
//!
//! Module layout:
//! - [`packet`]: the RTP fixed header, CSRCs, padding (RFC 3550 §5.1), parse and write.
//! - [`ext`]: header extensions, one- and two-byte forms (RFC 8285) and the values WebRTC uses.
//! - [`rtcp`]: RTCP compound and reduced-size packets (RFC 3550 §6, RFC 5506) and feedback.
//! - [`codec`]: packetizers and depacketizers per codec.
//! - [`sample`]: frame assembly from depacketized payloads (bounded, keyframe-aware).
//!
//! Nothing here does I/O, reads a clock or encrypts: SRTP is `oxirtc-srtp`'s job.

pub mod codec;
mod error;
pub mod ext;
pub mod packet;
pub mod rtcp;
pub mod sample;

pub use error::RtpError;
