//! TURN (RFC 8656) for oxirtc, sans-IO: a client state machine ([`TurnClient`], driven by an ICE agent or
//! a socket loop) and a server core ([`TurnServer`]) that a runtime drives with sockets and a clock.
//! Both follow the house run loop: `handle_*` in, `poll_transmit` / `poll_event` / `poll_timeout` out.
//!
//! A client allocates through the server and relays a datagram to a peer:
//!
//! ```
//! use std::time::Instant;
//! use oxirtc_crypto::{default_provider, SecureRng};
//! use oxirtc_stun::{long_term_key, Attribute, Class, Message, MessageEncoder, Method, PasswordAlgorithm, TransactionId};
//! use oxirtc_turn::{Credentials, FiveTuple, PeerPolicy, ServerConfig, ServerEvent, Transport, TurnServer};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let now = Instant::now();
//! let config = ServerConfig {
//!     realm: "example.org".into(),
//!     credentials: Credentials::new().user("alice", "secret"),
//!     relay_ips: vec!["192.0.2.1".parse()?],
//!     ..ServerConfig::default()
//! };
//! let mut server = TurnServer::new(config, default_provider(), SecureRng::from_seed([1; 32]), now);
//! let tuple = FiveTuple { client: "203.0.113.9:5000".parse()?, server: "192.0.2.1:3478".parse()?, transport: Transport::Udp };
//!
//! // 1. An unauthenticated Allocate is answered 401 with REALM and NONCE.
//! let mut req = Vec::new();
//! MessageEncoder::new(&mut req, Class::Request, Method::ALLOCATE, TransactionId([1; 12]))
//!     .add(&Attribute::RequestedTransport(17));
//! server.handle_receive(now, tuple, &req);
//! let t = server.poll_transmit().unwrap();
//! let nonce = Message::parse(t.contents)?.nonce().unwrap().to_owned();
//! assert!(server.poll_transmit().is_none());
//!
//! // 2. The same request with long-term credentials creates the allocation.
//! let key = long_term_key(default_provider(), "alice", "example.org", "secret", PasswordAlgorithm::Md5);
//! let mut req = Vec::new();
//! MessageEncoder::new(&mut req, Class::Request, Method::ALLOCATE, TransactionId([2; 12]))
//!     .add(&Attribute::RequestedTransport(17))
//!     .add(&Attribute::Username("alice"))
//!     .add(&Attribute::Realm("example.org"))
//!     .add(&Attribute::Nonce(&nonce))
//!     .add_message_integrity(default_provider(), &key);
//! server.handle_receive(now, tuple, &req);
//! // The runtime binds the relay socket first, then sends the success response.
//! let Some(ServerEvent::AllocationCreated { relay, .. }) = server.poll_event() else { panic!() };
//! while let Some(t) = server.poll_transmit() {
//!     let resp = Message::parse(t.contents)?;
//!     assert_eq!(resp.xor_relayed_address(), Some(relay));
//! }
//! // 3. Timers: call handle_timeout when poll_timeout says so.
//! if let Some(at) = server.poll_timeout() { server.handle_timeout(at); }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Rules by RFC section: allocation, refresh, permission, channel and send handling `server/handlers.rs`
//! (RFC 8656 §7.2, §8.2, §10.2, §11.2, §12.2), relaying `server/mod.rs` (§11.3, §12.6, §12.7),
//! allocation state `server/allocation.rs` (§9, §12), credentials and nonces `auth.rs` (RFC 8489 §9.2),
//! the peer-address policy `policy.rs` (RFC 8656 §21.2.2), ChannelData framing `channel_data.rs` (§12.4).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod channel_data;
pub mod client;
mod error;
mod policy;
pub mod server;

pub use auth::{rest_password, Credentials};
pub use channel_data::{is_channel_data, tcp_frame_len, ChannelData, ChannelNumber, CHANNEL_DATA_HEADER_LEN};
pub use client::{ClientConfig, ClientState, ClientStats, ClientTransmit, TurnClient, TurnEvent};
pub use error::TurnError;
pub use policy::{IpNet, PeerPolicy};
pub use server::{
    DeleteReason, FiveTuple, LocalQuotaLedger, QuotaLedger, ServerConfig, ServerEvent, ServerStats, Transmit,
    Transport, TurnServer,
};
