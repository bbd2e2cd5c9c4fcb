use thiserror::Error;

/// Errors from the crypto provider.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("the system random number generator failed; check that /dev/urandom is readable")]
    RandomUnavailable,
    /// Key material had the wrong length or was rejected by the backend (e.g. a malformed PKCS#8 document).
    #[error("invalid key material for {0}")]
    InvalidKey(&'static str),
    /// The backend could not generate a key.
    #[error("key generation failed for {0}")]
    KeyGeneration(&'static str),
    /// A peer's ECDHE public key was malformed or not a point on the negotiated curve.
    #[error("the peer's {0} public key is malformed or not on the curve")]
    InvalidPeerPublicKey(&'static str),
    /// AEAD decryption failed: wrong key, nonce, additional data or tag, or a record shorter than the tag.
    #[error("AEAD authentication failed")]
    AeadOpen,
    /// A truncated HMAC tag did not match the message (or had a length no HMAC-SHA1 tag can have).
    #[error("HMAC authentication failed")]
    BadMac,
    /// AEAD encryption or counter-mode encryption failed (in practice: an input too long for the cipher).
    #[error("encryption failed")]
    Encrypt,
    /// A signature did not verify under the given public key, or the public key could not be parsed.
    #[error("signature verification failed")]
    BadSignature,
    /// Signing failed in the backend.
    #[error("signing failed")]
    Signing,
    /// A DER certificate or SubjectPublicKeyInfo could not be parsed.
    #[error("malformed certificate or public key: {0}")]
    InvalidCertificate(String),
    /// Certificate generation failed in rcgen.
    #[error("certificate generation failed: {0}")]
    CertificateGeneration(String),
    /// An SDP fingerprint string was malformed (RFC 8122 §5).
    #[error("malformed fingerprint: {0}")]
    InvalidFingerprint(&'static str),
}
