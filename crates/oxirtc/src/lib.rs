//! The oxirtc core: [`Rtc`], one WebRTC peer connection as a sans-IO state machine.
//!
//! `Rtc` owns an ICE agent, a DTLS endpoint and an SCTP association and routes every datagram by its
//! first byte (RFC 7983). It negotiates with offer/answer (RFC 8829) and carries data channels
//! (RFC 8831, 8832). It never touches a socket or a clock: the owner feeds it datagrams and time, and
//! drains what it wants sent and what happened.
//!
//! ```
//! use std::time::Instant;
//! use oxirtc::{DataChannelInit, Rtc, RtcConfig, RtcEvent};
//!
//! # fn main() -> Result<(), oxirtc::RtcError> {
//! let now = Instant::now();
//! let mut rtc = Rtc::new(RtcConfig::default())?;
//! rtc.add_host_candidate(now, "127.0.0.1:5000".parse().unwrap())?;
//! let chat = rtc.create_data_channel(now, "chat", DataChannelInit::default())?;
//! let offer = rtc.create_offer(now)?;
//! rtc.set_local_description(now, &offer)?;
//! // ... send offer.sdp to the peer, get its answer, rtc.set_remote_description(now, &answer) ...
//!
//! // The run loop, after every input (a datagram, a timer, an API call):
//! while let Some(t) = rtc.poll_transmit(now) {
//!     // socket.send_to(&t.contents, t.destination)
//! #   let _ = t;
//! }
//! while let Some(event) = rtc.poll_event() {
//!     if let RtcEvent::ChannelOpen(id) = event {
//!         rtc.channel(id).expect("just opened").send_text(now, "hello")?;
//!     }
//! }
//! let _next_wakeup = rtc.poll_timeout(); // then rtc.handle_timeout(t) or rtc.handle_receive(..)
//! # let _ = chat;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod channel;
mod close_reason;
mod config;
pub mod demux;
mod error;
mod event;
pub mod jsep;
pub mod media;
mod rtc;

pub use channel::{ChannelId, ChannelReliability, ChannelState, ChannelStats, DataChannelInit};
pub use close_reason::CloseReason;
pub use config::{
    PathMtuConfig, PathShape, RtcConfig, DTLS_RECORD_OVERHEAD, IPV4_UDP_OVERHEAD, IPV6_BASE_PLPMTU,
    IPV6_UDP_OVERHEAD, TURN_CHANNEL_DATA_OVERHEAD, TURN_SEND_OVERHEAD_MAX,
};
pub use error::RtcError;
pub use event::RtcEvent;
pub use jsep::{Description, SdpType, SignalingState};
pub use rtc::{
    Channel, IceTransportPolicy, PeerConnectionState, Rtc, RtcStats, Transmit, TransmitInfo,
    TurnServerConfig, TurnStream, TurnTransport,
};

pub use oxirtc_dtls::{AlertDescription, CipherSuite, DtlsError, Role as DtlsRole, SrtpProfile};
pub use oxirtc_ice::{IceConnectionState, IceFailure};
pub use oxirtc_sctp::ErrorCause;
