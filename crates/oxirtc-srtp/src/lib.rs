//! SRTP and SRTCP for oxirtc, sans-IO: RFC 3711 with the DTLS-SRTP profiles
//! SRTP_AES128_CM_HMAC_SHA1_80 and _32 (RFC 5764 §4.1.2), AEAD_AES_128_GCM and AEAD_AES_256_GCM
//! (RFC 7714), keyed from the DTLS exporter (RFC 5764 §4.2), with cryptex (RFC 9335) when negotiated.
//!
//! A [`SendContext`] protects what we send and a [`ReceiveContext`] unprotects what the peer sends;
//! [`from_dtls`] makes both from the exported keying material and our DTLS role. Packets are processed
//! in the caller's buffer: protecting appends the tag (within the buffer's capacity, so a reused buffer
//! never allocates), unprotecting returns the length of the plain packet at the start of the buffer.
//! The crate owns no socket and reads no clock; crypto goes through `oxirtc-crypto`.
//!
//! Each context keeps state per SSRC (RFC 3711 §3.2.3): the rollover counter estimated from the
//! sequence number across wrap and reordering (§3.3.1, Appendix A), and replay windows for SRTP (a
//! [`SrtpConfig::replay_window`] of 1024 packets by default) and SRTCP (§3.3.2). A receiver changes it
//! only after a packet authenticated, so forged packets change nothing, and when it already holds
//! [`SrtpConfig::max_ssrcs`] SSRCs it forgets the least recently used one for a new one (counted in
//! [`ReceiveStats::ssrcs_evicted`]). Every dropped packet is an [`SrtpError`] and is counted in
//! [`ReceiveStats`]; nothing from the network panics.
//!
//! ```
//! use oxirtc_crypto::default_provider;
//! use oxirtc_srtp::{from_dtls, DtlsRole, ProtectionProfile, SrtpConfig, SrtpError};
//!
//! let crypto = default_provider();
//! let profile = ProtectionProfile::AeadAes128Gcm;
//! // Both ends export the same bytes: Dtls::export_keying_material(b"EXTRACTOR-dtls_srtp", None,
//! // profile.keying_material_len()).
//! let material = [7u8; 56];
//! let config = SrtpConfig::default();
//! let (mut client_tx, _client_rx) = from_dtls(crypto, profile, &material, DtlsRole::Client, &config)?;
//! let (_server_tx, mut server_rx) = from_dtls(crypto, profile, &material, DtlsRole::Server, &config)?;
//!
//! // An RTP packet: V=2, PT 96, SEQ 1, timestamp 0, SSRC 0x1234, two bytes of payload. Give the
//! // buffer room for the tag once and it never reallocates.
//! let rtp = [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0xca, 0xfe];
//! let mut packet = Vec::with_capacity(1500);
//! packet.extend_from_slice(&rtp);
//! client_tx.protect_rtp(&mut packet)?;
//! assert_eq!(packet.len(), rtp.len() + profile.rtp_tag_len());
//!
//! let on_the_wire = packet.clone();
//!
//! // The server authenticates and decrypts in place.
//! let len = server_rx.unprotect_rtp(&mut packet)?;
//! assert_eq!(&packet[..len], &rtp);
//!
//! // The same packet again is a replay: dropped, counted, and nothing changes.
//! let mut replayed = on_the_wire.clone();
//! assert!(matches!(server_rx.unprotect_rtp(&mut replayed), Err(SrtpError::Replayed { .. })));
//! assert_eq!(server_rx.stats().replayed, 1);
//!
//! // RTCP the same way: an empty receiver report from SSRC 0x1234.
//! let rr = [0x80, 201, 0, 1, 0, 0, 0x12, 0x34];
//! let mut packet = rr.to_vec();
//! client_tx.protect_rtcp(&mut packet)?;
//! let len = server_rx.unprotect_rtcp(&mut packet)?;
//! assert_eq!(&packet[..len], &rr);
//! # Ok::<(), SrtpError>(())
//! ```
//!
//! The modules: `keying` (DTLS exporter output to contexts), `context` (the two contexts, their
//! settings and statistics), `rtp` and `rtcp` (packet processing), `transform` (session keys, AES-CM +
//! HMAC-SHA1 and AES-GCM), `kdf` (RFC 3711 §4.3 key derivation), `roc` (index estimation), `replay`
//! (the replay window), `streams` (the bounded per-SSRC table), `cryptex` (RFC 9335), `header` (the
//! RTP/RTCP fields SRTP reads), `profile` and `error`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod context;
mod cryptex;
mod error;
mod header;
mod kdf;
mod keying;
mod profile;
mod replay;
mod roc;
mod rtcp;
mod rtp;
mod streams;
mod transform;

pub use context::{ReceiveContext, ReceiveStats, SendContext, SrtpConfig};
pub use error::SrtpError;
pub use keying::{from_dtls, DtlsRole};
pub use profile::ProtectionProfile;
