//! The async driver of oxirtc: one tokio task per peer connection owns an [`oxirtc::Rtc`] and its UDP
//! sockets, and the application talks to it through W3C-shaped handles whose events are streams:
//! [`PeerConnection`] (a cloneable handle), [`PeerConnectionEvents`] (its events, read in a task
//! of their own) and [`DataChannel`].
//!
//! ```no_run
//! use oxirtc_tokio::{Config, DataChannelInit, PeerConnection, PeerConnectionEvent};
//!
//! # async fn demo(answer_from_peer: oxirtc::Description) -> Result<(), oxirtc_tokio::Error> {
//! let pc = PeerConnection::new(Config::default()).await?;
//! let mut dc = pc.create_data_channel("chat", DataChannelInit::default()).await?;
//! let offer = pc.set_local_description_implicit().await?; // W3C setLocalDescription()
//! // ... send offer.sdp over signaling, receive the answer ...
//! pc.set_remote_description(answer_from_peer).await?;
//! let events = pc.events();
//! tokio::spawn(async move {
//!     while let Some(ev) = events.next().await {
//!         if let PeerConnectionEvent::ConnectionState(s) = ev { println!("{s:?}"); }
//!     }
//! });
//! dc.opened().await?;
//! dc.send_text("hi").await?; // waits while the buffered amount is above the high-water mark
//! while let Some(msg) = dc.recv().await {
//!     println!("{} bytes", msg.data.len());
//! }
//! pc.close().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod connection_events;
mod data_channel;
mod driver;
mod error;
mod frames;
mod local_track;
mod peer_connection;
mod queue;
mod track;
mod turn_stream;
mod udp;
mod watch;

pub use config::Config;
pub use connection_events::{DroppedEvents, PeerConnectionEvent, PeerConnectionEvents};
pub use data_channel::{ChannelStatus, DataChannel, Message};
pub use error::Error;
pub use frames::ReceivedFrame;
pub use local_track::LocalTrack;
pub use oxirtc::{
    ChannelReliability, CloseReason, DataChannelInit, Description, IceTransportPolicy, PeerConnectionState,
    SdpType, TurnServerConfig, TurnTransport,
};
pub use peer_connection::{parse_stun_url, parse_turn_url, PeerConnection, Stats};
pub use track::{RemoteTrack, TRACK_QUEUE_PACKETS};
