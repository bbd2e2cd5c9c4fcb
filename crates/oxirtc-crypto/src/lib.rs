//! The only oxirtc crate that touches a crypto library.
//!
//! Protocol crates ask for primitives through [`CryptoProvider`] (hashes, MACs and pre-keyed HMAC, key
//! agreement, AEAD and counter-mode keys, signatures, certificates) and draw randomness from
//! [`SecureRng`], so a test can seed every random choice and a deployment can swap the backend. The
//! default backend is [`AwsLcProvider`] on aws-lc-rs, with certificates from rcgen and certificate
//! parsing by x509-cert.
//!
//! ```
//! use oxirtc_crypto::{default_provider, AeadAlgorithm, NamedGroup, SecureRng};
//! let crypto = default_provider();
//! let mac = crypto.hmac_sha1(b"key", &[b"message"]);
//! assert_eq!(mac.len(), 20);
//! let mut rng = SecureRng::from_seed([7; 32]); // tests: reproducible
//! let mut id = [0u8; 12];
//! rng.fill(&mut id);
//!
//! // ECDHE: each side sends its public key and derives the same secret from the other's.
//! let client = crypto.ecdhe_generate(NamedGroup::X25519)?;
//! let server = crypto.ecdhe_generate(NamedGroup::X25519)?;
//! let client_public = client.public_key().to_vec();
//! let client_secret = client.agree(server.public_key())?;
//! let server_secret = server.agree(&client_public)?;
//! assert_eq!(client_secret, server_secret);
//!
//! // AEAD: seal in place (the tag is appended), open in place.
//! let key = crypto.aead_key(AeadAlgorithm::ChaCha20Poly1305, &client_secret)?;
//! let nonce = [0u8; 12];
//! let mut record = b"hello".to_vec();
//! key.seal_in_place(nonce, b"header", &mut record)?;
//! let peer_key = crypto.aead_key(AeadAlgorithm::ChaCha20Poly1305, &server_secret)?;
//! assert_eq!(peer_key.open_in_place(nonce, b"header", &mut record)?, b"hello");
//! # Ok::<(), oxirtc_crypto::CryptoError>(())
//! ```
#![forbid(unsafe_code)]

mod aead;
mod aws_lc;
mod cert;
mod ctr;
mod digest;
mod ecdhe;
mod error;
mod hash;
mod mac;
mod provider;
mod rng;
mod rsa;
mod sign;
mod spki;

pub use aead::{AeadAlgorithm, AeadKey, AEAD_TAG_LEN};
pub use aws_lc::AwsLcProvider;
pub use cert::{DtlsCertificate, Fingerprint};
pub use ctr::AesCtrKey;
pub use digest::Sha256Hasher;
pub use ecdhe::{EcdhePrivateKey, NamedGroup};
pub use error::CryptoError;
pub use hash::{tls12_prf, HashAlgorithm};
pub use mac::HmacSha1Key;
pub use provider::{default_provider, CryptoProvider};
pub use rng::SecureRng;
pub use rsa::RsaCertificate;
pub use sign::{verify_raw, verify_spki, EcdsaP256KeyPair, SignatureScheme};
pub use spki::{PublicKeyInfo, SignatureAlgorithm};
