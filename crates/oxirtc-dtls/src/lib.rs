//! DTLS 1.2 (RFC 6347) for WebRTC, sans-IO: a record layer with epochs and an anti-replay window, a
//! typestate handshake (ECDHE_ECDSA with AES-GCM or ChaCha20-Poly1305; as client also ECDHE_RSA with
//! AES-GCM toward servers with RSA certificates; extended master secret, use_srtp,
//! stateless HelloVerifyRequest cookies, required client certificates), handshake fragmentation and
//! reassembly with memory caps, flight retransmission, alerts, the RFC 5705 exporter and the SDP
//! fingerprint check.
//!
//! Two endpoints in memory: the caller owns the "network" and the clock.
//!
//! ```
//! use std::{sync::Arc, time::Instant};
//! use oxirtc_crypto::{default_provider, DtlsCertificate, SecureRng};
//! use oxirtc_dtls::{Dtls, DtlsConfig, DtlsEvent, Role};
//!
//! let crypto = default_provider();
//! let (cc, sc) = (Arc::new(DtlsCertificate::generate()?), Arc::new(DtlsCertificate::generate()?));
//! let mut client = Dtls::new(DtlsConfig::default(), Role::Client, cc.clone(), crypto, SecureRng::from_seed([1; 32]));
//! let mut server = Dtls::new(DtlsConfig::default(), Role::Server, sc.clone(), crypto, SecureRng::from_seed([2; 32]));
//! client.set_remote_fingerprint(sc.fingerprint()); // from the remote SDP's a=fingerprint
//! server.set_remote_fingerprint(cc.fingerprint());
//!
//! let mut now = Instant::now(); // the driver's clock; the endpoints never read one
//! client.start(now);
//! let mut received = Vec::new();
//! for _ in 0..20 {
//!     while let Some(d) = client.poll_transmit() { server.handle_receive(now, &d); }
//!     while let Some(d) = server.poll_transmit() { client.handle_receive(now, &d); }
//!     while let Some(e) = server.poll_event() {
//!         match e {
//!             DtlsEvent::Connected => server.send_application_data(b"hello")?,
//!             DtlsEvent::ApplicationData(data) => received.push(data),
//!             _ => {}
//!         }
//!     }
//!     while let Some(e) = client.poll_event() {
//!         if let DtlsEvent::ApplicationData(data) = e { client.send_application_data(&data)?; }
//!     }
//!     if let Some(t) = client.poll_timeout().into_iter().chain(server.poll_timeout()).min() {
//!         if received.is_empty() && t > now { now = t; client.handle_timeout(now); server.handle_timeout(now); }
//!     }
//! }
//! assert_eq!(received, [b"hello".to_vec()]);
//! let srtp = client.export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)?;
//! assert_eq!(srtp, server.export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! | module | job | RFC |
//! |---|---|---|
//! | [`record`] | framing, epochs, 48-bit sequence numbers, replay window, AEAD (handshake-agnostic, so a DTLS 1.3 record layer can sit beside it) | 6347 §4.1, 5288, 7905 |
//! | `handshake` | typestates `Expect*` for client and server, message codec, extensions | 5246 §7.4, 6347 §4.2, 8422, 5764, 7627, 5746 |
//! | `fragment`, `flight` | reassembly with caps, fragmentation to the MTU, flights | 6347 §4.2.3, §4.2.4 |
//! | `keys` | extended master secret, key block, Finished, exporter | 7627, 5246 §6.3, 5705 |
//! | `endpoint` | [`Dtls`]: timers, retransmission, alerts, fingerprint check, events | 6347 §4.2.4, 8842 |
//!
//! # Limits and policy
//!
//! - Full handshakes only: no resumption, no renegotiation (answered with a `no_renegotiation` warning).
//! - extended_master_secret is required in both directions; the server requires a client certificate.
//! - A server authenticates with ECDSA only (its certificate). A client also offers ECDHE_RSA and the
//!   rsa_pkcs1_sha256/384/512 schemes, after the ECDSA ones, and accepts 2048- to 8192-bit RSA server keys.
//! - Handshake messages over [`MAX_MESSAGE_LEN`] and reassembly beyond [`MAX_BUFFERED`] are refused
//!   before anything is allocated; up to 8 records (32 KiB) of epoch 1 are held until its keys exist.
//! - Epoch 0 has no replay window (it is unauthenticated; forged sequence numbers must not be able to
//!   block the real ClientHello); epoch 1 has the 64-record window of RFC 6347 §4.1.2.6.
//! - A server with [`DtlsConfig::hello_verify`] keeps no state for a client before its cookie verifies,
//!   unless the transport proved the client's address ([`Dtls::set_peer_address_validated`], from ICE):
//!   then the first ClientHello gets the server flight (RFC 6347 §4.2.1 allows skipping the exchange).
//! - Application data flows only after the peer certificate matched [`Dtls::set_remote_fingerprint`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alert;
mod codec;
mod config;
mod endpoint;
mod error;
mod flight;
mod fragment;
mod handshake;
mod keys;
pub mod record;
mod replay;
mod stats;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use config::{CipherSuite, DtlsConfig, Role, SrtpProfile};
pub use endpoint::{Dtls, DtlsEvent};
pub use error::DtlsError;
pub use fragment::{MAX_BUFFERED, MAX_MESSAGE_LEN};
pub use replay::ReplayWindow;
pub use stats::DtlsStats;
