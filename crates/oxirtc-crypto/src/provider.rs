use std::fmt::Debug;

use crate::{
    AeadAlgorithm, AeadKey, AesCtrKey, AwsLcProvider, CryptoError, DtlsCertificate, EcdhePrivateKey,
    EcdsaP256KeyPair, HashAlgorithm, HmacSha1Key, NamedGroup, SignatureScheme,
};

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
    /// SHA-384: the handshake hash of `_SHA384` TLS 1.2 cipher suites.
    fn sha384(&self, parts: &[&[u8]]) -> [u8; 48];
    /// HMAC-SHA384: the PRF of `_SHA384` TLS 1.2 cipher suites.
    fn hmac_sha384(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 48];
    /// HMAC with any [`HashAlgorithm`]; the tag is [`HashAlgorithm::output_len`] bytes. Used by
    /// [`tls12_prf`](crate::tls12_prf).
    fn hmac(&self, alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8>;
    /// A fresh ephemeral (EC)DHE private key on `group`, for one key exchange.
    fn ecdhe_generate(&self, group: NamedGroup) -> Result<EcdhePrivateKey, CryptoError>;
    /// An AEAD key (AES-GCM or ChaCha20-Poly1305) from raw key bytes of [`AeadAlgorithm::key_len`].
    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<AeadKey, CryptoError>;
    /// An AES-128 counter-mode key (AES-CM, RFC 3711 §4.1.1) from 16 key bytes.
    fn aes128_ctr_key(&self, key: &[u8]) -> Result<AesCtrKey, CryptoError>;
    /// An AES-256 counter-mode key from 32 key bytes: the AES_256_CM PRF of AEAD_AES_256_GCM SRTP
    /// (RFC 7714 §11).
    fn aes256_ctr_key(&self, key: &[u8]) -> Result<AesCtrKey, CryptoError>;
    /// An HMAC-SHA1 key keyed once for many messages (SRTP/SRTCP authentication, RFC 3711 §4.2.1).
    fn hmac_sha1_key(&self, key: &[u8]) -> HmacSha1Key;
    /// A new random ECDSA P-256 key pair.
    fn ecdsa_p256_generate(&self) -> Result<EcdsaP256KeyPair, CryptoError>;
    /// Verifies `signature` over `message` with a peer's `spki_der` (the SubjectPublicKeyInfo of its
    /// certificate, see [`DtlsCertificate::public_key_of`]) under `scheme`.
    fn verify_signature(
        &self,
        scheme: SignatureScheme,
        spki_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;
    /// A new self-signed ECDSA P-256 certificate for DTLS, with its key pair.
    fn self_signed_certificate(&self) -> Result<DtlsCertificate, CryptoError>;
}

/// The default provider (aws-lc-rs).
pub fn default_provider() -> &'static dyn CryptoProvider {
    static PROVIDER: AwsLcProvider = AwsLcProvider;
    &PROVIDER
}
