//! A seeded, deterministic simulated network on a virtual clock, for behaviour tests of oxirtc's sans-IO
//! state machines: two ICE agents through NATs with loss and jitter, in milliseconds of real time, with no
//! sockets and no sleeps.
//!
//! - [`LinkConfig`]: each host's access link (delay, jitter, loss, duplication, reordering, rate with a
//!   tail-drop queue, MTU).
//! - [`NatConfig`]: NAT mapping and filtering behaviour per RFC 4787 (§4.1, §4.3, §5, §6).
//! - [`Network`]: hosts and NATs; `send` in, `poll_delivery` / `poll_timeout` out, like every state machine
//!   in oxirtc. Time is always a parameter; the network never reads a clock.
//! - [`Simulation`]: drives a network and [`Endpoint`]s on one virtual clock.
//!
//! Everything random is drawn from the seed, so the same seed and the same calls give the same run.
//!
//! # Model
//!
//! - A packet crosses the sender's access link (uplink), is routed at the instant it leaves it, through
//!   any NATs on the way (translation takes no time), then crosses the receiver's access link (downlink).
//!   The two directions of a link have separate queues and separate RNG streams.
//! - Sizes (MTU, rate) are UDP payload lengths; IP/UDP headers are not modelled.
//! - Addresses are unique per realm (the public internet, or the inside of one NAT), so private address
//!   plans may overlap. NATs may be nested ([`Network::try_add_nat`] with `behind`).
//! - Drops are never errors: each is counted in [`NetStats`] and traced at `trace` level.
//!   [`NetsimError`] is only for misusing the configuration API.
//! - [`Network::poll_timeout`] also reports packets reaching the middle of their path, so polling at that
//!   time may deliver nothing; poll again at the next timeout.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oxirtc_netsim::{Datagram, LinkConfig, NatConfig, Network};
//!
//! # #[allow(clippy::disallowed_methods)]
//! let start = Instant::now(); // the one real clock read; everything after is virtual
//! let mut net = Network::new(42, start);
//! let nat = net.add_nat("203.0.113.1".parse()?, NatConfig::port_restricted());
//! let link = LinkConfig { delay: Duration::from_millis(20), ..LinkConfig::default() };
//! let client = net.add_host("192.168.1.2".parse()?, Some(nat), link);
//! let server = net.add_host("198.51.100.1".parse()?, None, LinkConfig::default());
//!
//! net.send(start, Datagram {
//!     source: "192.168.1.2:5000".parse()?,
//!     destination: "198.51.100.1:3478".parse()?,
//!     payload: b"binding request".to_vec(),
//! });
//! // The run loop: wait for poll_timeout, then drain poll_delivery.
//! let mut now = start;
//! let (host, datagram) = loop {
//!     if let Some(delivery) = net.poll_delivery(now) {
//!         break delivery;
//!     }
//!     now = net.poll_timeout().expect("packet in flight");
//! };
//! assert_eq!(host, server);
//! assert_eq!(datagram.source, "203.0.113.1:5000".parse()?); // the server-reflexive address
//! assert_eq!(now - start, Duration::from_millis(20));
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod ids;
mod link;
mod nat;
mod network;
mod sim;

pub use error::NetsimError;
pub use ids::{HostId, NatId, Realm};
pub use link::LinkConfig;
pub use nat::{FilteringBehavior, MappingBehavior, NatConfig};
pub use network::{Datagram, NetStats, Network};
pub use sim::{Endpoint, Simulation};
