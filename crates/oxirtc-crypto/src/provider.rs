use std::fmt::Debug;

use crate::{AwsLcProvider, CryptoError};

/// The primitives oxirtc's protocols need, each over a message given as parts (so callers never have to
/// copy a message together just to hash it).
pub trait CryptoProvider: Send + Sync + Debug {
    /// HMAC-SHA1 (RFC 2104): STUN MESSAGE-INTEGRITY (RFC 8489 §14.5).
    fn hmac_sha1(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 20];
    /// HMAC-SHA256: STUN MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6).
    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32];
    /// SHA-256: long-term credential keys with PASSWORD-ALGORITHM SHA-256 (RFC 8489 §9.2.2).
    fn sha256(&self, parts: &[&[u8]]) -> [u8; 32];
    /// MD5: only for the legacy long-term credential key (RFC 8489 §9.2.2); never for integrity.
    fn md5(&self, parts: &[&[u8]]) -> [u8; 16];
    /// Fills `out` from the operating system's CSPRNG.
    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError>;
}

/// The default provider (aws-lc-rs).
pub fn default_provider() -> &'static dyn CryptoProvider {
    static PROVIDER: AwsLcProvider = AwsLcProvider;
    &PROVIDER
}
