//! A sans-IO ICE agent: RFC 8445 (ICE), RFC 8838 (trickle), RFC 7675 (consent freshness).
//!
//! The agent owns no socket and reads no clock. Its owner feeds it datagrams and time and sends what it
//! asks to send. Two agents wired back to back:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oxirtc_crypto::{default_provider, SecureRng};
//! use oxirtc_ice::{IceAgent, IceConfig, IceConnectionState};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let mut now = Instant::now();
//! let crypto = default_provider();
//! let mut a = IceAgent::new(IceConfig { controlling: true, ..IceConfig::default() }, crypto, SecureRng::from_seed([1; 32]));
//! let mut b = IceAgent::new(IceConfig::default(), crypto, SecureRng::from_seed([2; 32]));
//! a.add_host(now, "10.0.0.1:5000".parse().unwrap()).unwrap();
//! b.add_host(now, "10.0.0.2:6000".parse().unwrap()).unwrap();
//! // Signaling: exchange credentials and candidates.
//! a.set_remote_credentials(now, b.local_credentials().clone()).unwrap();
//! b.set_remote_credentials(now, a.local_credentials().clone()).unwrap();
//! for c in b.local_candidates().to_vec() { a.add_remote_candidate(now, c).unwrap(); }
//! for c in a.local_candidates().to_vec() { b.add_remote_candidate(now, c).unwrap(); }
//! // The run loop: drain transmits (here delivered straight to the other agent), then sleep until the
//! // earliest timeout and fire it.
//! while a.state() != IceConnectionState::Connected || b.state() != IceConnectionState::Connected {
//!     while let Some(t) = a.poll_transmit(now) { b.handle_receive(now, t.source, t.destination, &t.contents); }
//!     while let Some(t) = b.poll_transmit(now) { a.handle_receive(now, t.source, t.destination, &t.contents); }
//!     while let Some(_event) = a.poll_event() {}
//!     while let Some(_event) = b.poll_event() {}
//!     let next = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min().unwrap();
//!     now = now.max(next);
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(a.selected_pair(), Some(("10.0.0.1:5000".parse().unwrap(), "10.0.0.2:6000".parse().unwrap())));
//! ```
//!
//! Rules by RFC section: priorities `candidate.rs` (§5.1.2), pairing and scheduling `checklist.rs`
//! (§6.1.2, §6.1.4, §8.1), outgoing checks and responses `outbound.rs` (§7.2), incoming checks
//! `inbound.rs` (§7.3), consent `consent.rs` (RFC 7675), moving the selected pair when a NAT remaps
//! `recovery.rs`.
#![forbid(unsafe_code)]

mod agent;
mod candidate;
mod checklist;
mod config;
mod consent;
mod error;
mod event;
mod failure;
mod inbound;
mod outbound;
mod pair;
mod recovery;

pub use agent::{IceAgent, IceCredentials, IceStats, Transmit, DEFAULT_TA};
pub use candidate::{candidate_priority, Candidate, CandidateKind, COMPONENT_RTP};
pub use config::IceConfig;
pub use error::IceError;
pub use event::{IceConnectionState, IceEvent};
pub use failure::IceFailure;
pub use pair::PairState;
