//! STUN for oxirtc: a borrowing message codec (RFC 8489) with the ICE (RFC 8445 §7.1), TURN
//! (RFC 8656 §18, RFC 6062) and NAT-discovery (RFC 5780) attributes, MESSAGE-INTEGRITY(-SHA256),
//! FINGERPRINT, credential keys and sans-IO client transactions.
//!
//! Encode a Binding request, parse it, answer it, and read XOR-MAPPED-ADDRESS from the answer:
//!
//! ```
//! use oxirtc_crypto::{default_provider, SecureRng};
//! use oxirtc_stun::{short_term_key, Attribute, Class, Message, MessageEncoder, Method, TransactionId};
//!
//! let crypto = default_provider();
//! let mut rng = SecureRng::from_seed([1; 32]);
//! let key = short_term_key("remote-ice-password");
//! let tid = TransactionId::random(&mut rng);
//!
//! let mut request = Vec::new();
//! MessageEncoder::new(&mut request, Class::Request, Method::BINDING, tid)
//!     .add(&Attribute::Username("remote:local"))
//!     .add(&Attribute::Priority(0x6e00_01ff))
//!     .add(&Attribute::IceControlling(rng.u64()))
//!     .add_message_integrity(crypto, &key)
//!     .add_fingerprint();
//!
//! // The agent that receives it:
//! let req = Message::parse(&request)?;
//! assert_eq!(req.username(), Some("remote:local"));
//! req.verify_integrity(crypto, &key)?;
//! let mut response = Vec::new();
//! let seen_from = "198.51.100.7:54321".parse()?;
//! MessageEncoder::new(&mut response, Class::Success, Method::BINDING, req.transaction_id())
//!     .add(&Attribute::XorMappedAddress(seen_from))
//!     .add_message_integrity(crypto, &key)
//!     .add_fingerprint();
//!
//! let resp = Message::parse(&response)?;
//! resp.verify_integrity(crypto, &key)?;
//! assert_eq!(resp.xor_mapped_address(), Some(seen_from));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`ClientTransaction`] retransmits the request on the RFC 8489 §6.2.1 schedule; the caller owns the
//! socket and the clock and runs the usual loop:
//!
//! ```
//! # use oxirtc_stun::*;
//! # use std::time::{Duration, Instant};
//! # let tid = TransactionId([7; 12]);
//! # let mut request = Vec::new();
//! # MessageEncoder::new(&mut request, Class::Request, Method::BINDING, tid).finish();
//! # let mut answer = Vec::new();
//! # MessageEncoder::new(&mut answer, Class::Success, Method::BINDING, tid).finish();
//! # let mut network: Vec<Vec<u8>> = Vec::new();
//! let mut now = Instant::now(); // the driver's clock; the transaction never reads one itself
//! let mut tx = ClientTransaction::new(now, tid, request, &RetransmitConfig::default(), false);
//! loop {
//!     tx.handle_timeout(now);
//!     while let Some(bytes) = tx.poll_transmit(now) {
//!         network.push(bytes.to_vec()); // socket.send_to(bytes, server)
//!     }
//!     if network.len() == 3 {
//!         // A datagram arrives: parse it and offer it to the transaction.
//!         if let Ok(msg) = Message::parse(&answer) {
//!             tx.handle_response(&msg);
//!         }
//!     }
//!     match tx.poll_timeout() {
//!         Some(next) => now = next, // sleep until `next` or until a datagram arrives
//!         None => break,
//!     }
//! }
//! assert_eq!(tx.state(), TransactionState::Answered);
//! assert_eq!(tx.transmissions(), 3);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod attr;
mod encoder;
mod error;
mod integrity;
mod lists;
mod message;
mod transaction;
mod types;

#[cfg(test)]
mod rfc5769;

pub use address::AddressFamily;
pub use attr::{Attribute, ErrorCode};
pub use encoder::MessageEncoder;
pub use error::StunError;
pub use integrity::{long_term_key, short_term_key};
pub use lists::{AlgorithmParams, PasswordAlgorithm, PasswordAlgorithms, UnknownAttributes};
pub use message::{is_stun, Message, HEADER_LEN, MAX_ATTRIBUTES};
pub use transaction::{ClientTransaction, RetransmitConfig, TransactionState};
pub use types::{AttrType, Class, Method, TransactionId};

/// The fixed magic cookie in every RFC 5389/8489 header (RFC 8489 §5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// `len` rounded up to a multiple of 4 (RFC 8489 §14 attribute padding).
pub(crate) fn padded(len: usize) -> usize {
    len.div_ceil(4) * 4
}
