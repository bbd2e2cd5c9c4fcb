//! The only oxirtc crate that touches a crypto library.
//!
//! Protocol crates ask for primitives through [`CryptoProvider`] (hashes and MACs) and draw randomness
//! from [`SecureRng`], so a test can seed every random choice and a deployment can swap the backend.
//! The default backend is [`AwsLcProvider`] on aws-lc-rs.
//!
//! ```
//! use oxirtc_crypto::{default_provider, SecureRng};
//! let crypto = default_provider();
//! let mac = crypto.hmac_sha1(b"key", &[b"message"]);
//! assert_eq!(mac.len(), 20);
//! let mut rng = SecureRng::from_seed([7; 32]); // tests: reproducible
//! let mut id = [0u8; 12];
//! rng.fill(&mut id);
//! ```
#![forbid(unsafe_code)]

mod aws_lc;
mod error;
mod provider;
mod rng;

pub use aws_lc::AwsLcProvider;
pub use error::CryptoError;
pub use provider::{default_provider, CryptoProvider};
pub use rng::SecureRng;
