//! Per-stream RTP/RTCP state, sans-IO: what a media session keeps for each SSRC it sends or
//! receives, between the packets of [`packet`](crate::packet) and [`rtcp`](crate::rtcp).
//!
//! - Receiving, one per remote SSRC: [`ReceiveStats`] (loss, jitter, LSR/DLSR: the report block
//!   of RFC 3550 §6.4.1, and W3C `inbound-rtp` counters) and [`NackGenerator`] (which sequence
//!   numbers to NACK when, RFC 4585 §6.2.1; when to ask for a keyframe instead).
//! - Sending, one per local SSRC: [`SendStats`] (the SR's sender information, and the RTT, loss
//!   and jitter from the remote's report blocks) and [`RetransmitBuffer`] (the packets to resend
//!   on NACK, as they were or as RTX, RFC 4588; [`RtxPacket`] reads and writes that format).
//! - Per session: [`ReportSchedule`] (when the next regular RTCP report is due, RFC 3550 §6.3.1).
//!
//! Nothing here reads a clock, draws a random number or encrypts: time is the caller's `now`,
//! wall-clock time the caller's NTP timestamp ([`ntp_from_system_time`]), randomness the caller's
//! `u32`. Every structure has a fixed bound, whatever the peer sends.
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
//! use oxirtc_rtp::rtcp::{Nack, RtcpPacket};
//! use oxirtc_rtp::stream::*;
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let start = Instant::now(); // the driver's clock: this crate reads none
//! let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000); // and its wall clock
//! let (media, rtx_ssrc, receiver) = (Ssrc(0x1111), Ssrc(0x2222), Ssrc(0x9999));
//! let (mut send, mut history) = (SendStats::new(), RetransmitBuffer::new(RetransmitConfig::default()));
//! let (mut recv, mut nacks) = (ReceiveStats::new(), NackGenerator::new(NackConfig::default()));
//!
//! // Five packets 20 ms apart at 90 kHz; the third is lost on the way.
//! let mut buf = Vec::new();
//! for seq in 0..5u16 {
//!     let now = start + Duration::from_millis(20 * u64::from(seq));
//!     buf.clear();
//!     let header = RtpHeader { payload_type: 96, sequence_number: seq, ssrc: media, ..Default::default() };
//!     header.write(b"frame", 0, &mut buf)?;
//!     let packet = RtpPacket::parse(&buf)?;
//!     send.on_packet(now, packet.timestamp(), packet.payload().len()); // sender side
//!     history.insert(now, &packet);
//!     if seq != 2 {
//!         recv.on_packet(now, seq, packet.timestamp(), packet.payload().len(), 90_000); // receiver
//!         nacks.on_packet(now, seq);
//!     }
//! }
//!
//! // The receiver asks for it again...
//! let now = start + Duration::from_millis(100);
//! let mut rtcp = Vec::new();
//! let lost = nacks.poll_nacks(now, DEFAULT_RTT).expect("2 is missing");
//! Nack::write(receiver, media, lost.iter().copied(), &mut rtcp)?;
//!
//! // ...the sender answers with an RTX packet...
//! let RtcpPacket::Nack(nack) = RtcpPacket::parse(&rtcp)? else { unreachable!() };
//! let mut rtx = Vec::new();
//! for seq in nack.lost() {
//!     if let Some(resend) = history.on_nack(now, seq) {
//!         let params = RtxParams { ssrc: rtx_ssrc, payload_type: 97, sequence_number: 0 };
//!         resend.write_rtx(params, &mut rtx)?;
//!     }
//! }
//!
//! // ...and the receiver takes the repaired packet by its original sequence number.
//! let repaired = RtxPacket::parse(RtpPacket::parse(&rtx)?)?.expect("not padding");
//! let (osn, payload) = (repaired.original_sequence_number(), repaired.original_payload());
//! recv.on_retransmitted_packet(now, osn, payload.len());
//! nacks.on_packet(now, osn);
//! assert_eq!((nacks.stats().recovered, recv.counters().packets_lost), (1, 0));
//!
//! // Reports: the first after half the interval, randomized (here by 1: 500 ms); `wall` is then.
//! let mut schedule = ReportSchedule::new(start, VIDEO_REPORT_INTERVAL, 1 << 31);
//! let now = schedule.poll_timeout();
//! assert!(schedule.due(now) && now - start == Duration::from_millis(500));
//! // The sender's SR; the receiver's RR 50 ms after the SR arrived; the RR back at the sender
//! // 90 ms after the SR left: an RTT of 90 - 50 = 40 ms (RFC 3550 §6.4.1).
//! let sr = send.sender_info(now, ntp_from_system_time(wall), 90_000).expect("it has sent");
//! schedule.sent(now, 0x1234_5678);
//! recv.on_sender_report(now + Duration::from_millis(20), sr.ntp_time);
//! let block = recv.report_block(now + Duration::from_millis(70), media);
//! let back = ntp_from_system_time(wall + Duration::from_millis(90));
//! let rtt = send.on_report_block(now + Duration::from_millis(90), back, &block).expect("LSR set");
//! assert!(rtt.abs_diff(Duration::from_millis(40)) < Duration::from_millis(1));
//! history.set_rtt(rtt);
//! # Ok::<(), oxirtc_rtp::RtpError>(())
//! ```

mod jitter;
mod nack;
mod ntp;
mod receive;
mod retransmit;
mod rtx;
mod schedule;
mod send;
mod sequence;
#[cfg(test)]
mod test_clock;

pub use nack::{NackConfig, NackGenerator, NackStats};
pub use ntp::{
    compact_ntp, compact_to_duration, duration_to_compact, ntp_from_system_time, NTP_UNIX_OFFSET_SECS,
};
pub use receive::{ReceiveCounters, ReceiveStats};
pub use retransmit::{Retransmission, RetransmitBuffer, RetransmitConfig, RetransmitStats, DEFAULT_RTT};
pub use rtx::{RtxPacket, RtxParams, OSN_LEN};
pub use schedule::{ReportSchedule, AUDIO_REPORT_INTERVAL, VIDEO_REPORT_INTERVAL};
pub use send::{RemoteReception, RoundTripTimes, SendCounters, SendStats};
pub use sequence::Arrival;
