//! SCTP for WebRTC data channels, sans-IO: one [`Association`] over DTLS (RFC 8261) with the RFC 9260
//! handshake (HMAC'd stateless cookie, INIT collision), DATA fragmentation and reassembly, ordered and
//! unordered delivery, SACK with gap blocks, RTO, fast retransmit with RACK time-based loss detection
//! and tail loss probes (RFC 8985), congestion control, PR-SCTP
//! (RFC 3758), stream reset (RFC 6525), heartbeats, shutdown and abort. The packet codec is public
//! ([`Packet`], [`Chunk`]) for tools and fuzzing.
//!
//! Two associations, both connecting at once as WebRTC peers do (RFC 8831 §6.2), exchange a message.
//! The caller owns the clock and the transport (here a `Vec` per direction):
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oxirtc_crypto::SecureRng;
//! use oxirtc_sctp::{Association, Ppid, SctpConfig, SctpEvent, SendOptions, StreamId};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let mut now = Instant::now();
//! let mut a = Association::new(SctpConfig::default(), SecureRng::from_seed([1; 32]), now);
//! let mut b = Association::new(SctpConfig::default(), SecureRng::from_seed([2; 32]), now);
//! a.connect(now);
//! b.connect(now);
//! let mut sent = false;
//! let mut received = None;
//! for _ in 0..100 {
//!     // The run loop: drain transmissions into the other side, handle timers, drain events.
//!     while let Some(packet) = a.poll_transmit(now) {
//!         b.handle_receive(now, &packet); // dtls.send(&packet) in a real stack
//!     }
//!     while let Some(packet) = b.poll_transmit(now) {
//!         a.handle_receive(now, &packet);
//!     }
//!     while let Some(event) = b.poll_event() {
//!         if let SctpEvent::Message { data, .. } = event {
//!             received = Some(data);
//!         }
//!     }
//!     while a.poll_event().is_some() {}
//!     if a.is_established() && !sent {
//!         a.send(now, StreamId(1), Ppid::STRING, b"hello", SendOptions::default())?;
//!         sent = true;
//!     }
//!     if received.is_some() {
//!         break;
//!     }
//!     // Sleep until the next timer (or a packet): here, jump the virtual clock.
//!     now = a.poll_timeout().into_iter().chain(b.poll_timeout()).min().unwrap_or(now + Duration::from_millis(10));
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(received.as_deref(), Some(&b"hello"[..]));
//! # Ok::<(), oxirtc_sctp::SctpError>(())
//! ```
//!
//! # Integration notes
//!
//! - One SCTP packet is one DTLS application-data record each way (RFC 8261 §4); `SctpConfig::mtu`
//!   is the packet budget after IP, UDP and DTLS overhead (1135 for an IPv4 path of 1200 IP bytes).
//! - Path MTU discovery (RFC 8899 §6.2, which RFC 8261 §4 requires): with `SctpConfig::max_mtu` above
//!   `mtu`, HEARTBEAT + PAD probes search up to `max_mtu` once established; `SctpStats::pmtu` is the
//!   size in use. A black hole drops it back to `mtu`; a chunk already sent larger than the path then
//!   left aborts the association rather than stalling (it cannot be re-fragmented, RFC 9260 §6.9).
//! - An association that never calls [`Association::connect`] still answers an INIT statelessly and
//!   becomes established on the peer's COOKIE ECHO; both WebRTC peers calling `connect` is the normal
//!   case (RFC 8831 §6.2) and converges to one association.
//! - Reading messages with [`Association::poll_event`] reopens the receive window; drain
//!   [`Association::poll_transmit`] after draining events so the window update goes out.
//! - `send` before the association is established queues the message; messages larger than
//!   `max_message_size` are refused (the same limit caps reassembly of received messages).
//! - Closing a data channel (RFC 8831 §6.7): call [`Association::reset_streams`]; the request waits
//!   for data already queued on the stream; [`SctpEvent::OutgoingStreamsReset`] reports it done. On
//!   [`SctpEvent::StreamsResetByPeer`] (an empty list means every stream) reset your side in turn.
//!   Messages sent on a stream while its reset runs wait and go out afterwards from SSN 0.
//! - Every buffer is bounded: the send buffer (`max_send_buffer`, then `SctpError::WouldBlock`),
//!   reassembly and undelivered messages (`receive_window`), TSNs tracked ahead of the cumulative
//!   ack (65,536), per-stream state (only streams in use), pending resets (65,536 ids).
//!
//! # Layout
//!
//! One job per file; each cites the RFC sections it implements.
//!
//! - The association (`impl Association`, spread by job): `association.rs` (state, public API,
//!   packet checks and the per-chunk dispatch, timers), `handshake.rs` (RFC 9260 §5, with
//!   `cookie.rs` and `param.rs`), `inbound.rs` (DATA and SACK timing, §6.2; SACK and loss timers),
//!   `transmit.rs` (packet building and bundling, §6.1, §6.10; shutdown, §9.2), `reconfig.rs`
//!   (stream reset, RFC 6525), `plpmtud.rs` (path MTU discovery, RFC 8899).
//! - The receiving half: `receiver.rs` (TSN tracking, reassembly, ordered and unordered delivery,
//!   FORWARD TSN).
//! - The sending half, `sender/`: `mod.rs` (the in-flight queue keyed by TSN, what may go out next,
//!   §6.1), `queue.rs` (messages, SSNs, fragmentation, §6.5, §6.9), `sack.rs` (SACK processing,
//!   §6.2.1), `recovery.rs` (fast retransmit and recovery, §7.2.4; T3-rtx, §6.3.3), `rack.rs` (RACK
//!   and tail loss probes, RFC 8985, over the state in `loss.rs`), `abandon.rs` (PR-SCTP, RFC 3758
//!   §3.5), and `cc/`: congestion control behind one trait, `cc/reno.rs` being RFC 9260 §7.2, chosen
//!   by [`SctpConfig::congestion_control`] ([`CongestionControl`]).
//! - Timers and estimators: `timer.rs`, `rto.rs` (RFC 9260 §6.3.1).
//! - The wire: `packet.rs`, `chunk.rs`, `param.rs`, `error_causes.rs`, `reader.rs`; `types.rs`,
//!   `config.rs`, `stats.rs`, `error.rs`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod association;
mod chunk;
mod config;
mod cookie;
mod error;
mod error_causes;
mod handshake;
mod inbound;
mod loss;
mod packet;
mod param;
mod path;
mod plpmtud;
mod reader;
mod receiver;
mod reconfig;
mod rto;
mod sender;
mod stats;
mod timer;
mod transmit;
mod types;

pub use association::{Association, SctpEvent};
pub use chunk::{
    data_flags, encode_data, encode_forward_tsn, encode_heartbeat, encode_init, encode_pad, encode_sack,
    ty as chunk_type, Chunk, DataChunk, ForwardTsnChunk, InitChunk, SackChunk,
};
pub use config::{CongestionControl, Reliability, SctpConfig, SendOptions};
pub use error::SctpError;
pub use error_causes::{ErrorCause, MAX_CAUSES, MAX_INFO};
pub use packet::{
    begin_packet, checksum, verify_checksum, write_checksum, CommonHeader, Packet, COMMON_HEADER_LEN,
};
pub use param::{
    cause as error_cause, pty as param_type, put_incoming_reset, put_outgoing_reset, put_reconfig_response,
    stream_list, InitParams, ReconfigParam, ReconfigResult,
};
pub use path::PathEvent;
pub use reader::{Tlv, TlvIter};
pub use stats::{DropCounts, SctpStats};
pub use types::{Ppid, StreamId, Tsn};

#[cfg(test)]
mod tests {
    /// The async driver moves an association into its task: it must stay `Send`.
    #[test]
    fn association_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<crate::Association>();
        assert_send::<crate::SctpEvent>();
    }
}
