use aws_lc_rs::{
    encoding::{AsDer, PublicKeyX509Der},
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, KeyPair as _, VerificationAlgorithm},
};
use x509_cert::{
    der::{asn1::ObjectIdentifier, Decode},
    spki::SubjectPublicKeyInfoRef,
};

use crate::{
    spki::{ID_EC_PUBLIC_KEY, RSA_ENCRYPTION},
    CryptoError, SignatureAlgorithm,
};

/// The signature schemes oxirtc verifies, named as in TLS (RFC 8446 §4.2.3 codepoints, which equal
/// TLS 1.2's `(hash, signature)` pairs of RFC 5246 §7.4.1.4.1 for all but the PSS one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// ECDSA on P-256 with SHA-256, DER-encoded `(r, s)`. The scheme oxirtc signs with.
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384, DER-encoded `(r, s)`.
    EcdsaP384Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (2048- to 8192-bit keys).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (2048- to 8192-bit keys).
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (2048- to 8192-bit keys).
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256 and an rsaEncryption key (`rsa_pss_rsae_sha256`).
    RsaPssRsaeSha256,
}

impl SignatureScheme {
    /// The TLS SignatureScheme codepoint.
    pub fn codepoint(self) -> u16 {
        match self {
            Self::EcdsaP256Sha256 => 0x0403,
            Self::EcdsaP384Sha384 => 0x0503,
            Self::RsaPkcs1Sha256 => 0x0401,
            Self::RsaPkcs1Sha384 => 0x0501,
            Self::RsaPkcs1Sha512 => 0x0601,
            Self::RsaPssRsaeSha256 => 0x0804,
        }
    }

    /// The key type that signs with this scheme (RFC 5246 §7.4.1.4.1 `SignatureAlgorithm`).
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::EcdsaP256Sha256 | Self::EcdsaP384Sha384 => SignatureAlgorithm::Ecdsa,
            Self::RsaPkcs1Sha256 | Self::RsaPkcs1Sha384 | Self::RsaPkcs1Sha512 | Self::RsaPssRsaeSha256 => {
                SignatureAlgorithm::Rsa
            }
        }
    }

    /// The scheme with TLS codepoint `value`, if supported.
    pub fn from_codepoint(value: u16) -> Option<Self> {
        [
            Self::EcdsaP256Sha256,
            Self::EcdsaP384Sha384,
            Self::RsaPkcs1Sha256,
            Self::RsaPkcs1Sha384,
            Self::RsaPkcs1Sha512,
            Self::RsaPssRsaeSha256,
        ]
        .into_iter()
        .find(|s| s.codepoint() == value)
    }

    fn algorithm(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Self::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
            Self::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_ASN1,
            Self::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Self::RsaPssRsaeSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        }
    }

    fn key_oid(self) -> ObjectIdentifier {
        match self.signature_algorithm() {
            SignatureAlgorithm::Ecdsa => ID_EC_PUBLIC_KEY,
            SignatureAlgorithm::Rsa => RSA_ENCRYPTION,
        }
    }
}

/// Verifies `signature` over `message` with a raw public key: the uncompressed point for ECDSA, the
/// PKCS#1 `RSAPublicKey` DER for RSA (the contents of a SubjectPublicKeyInfo's BIT STRING).
pub fn verify_raw(
    scheme: SignatureScheme,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    signature::UnparsedPublicKey::new(scheme.algorithm(), public_key)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// Verifies `signature` over `message` with a DER SubjectPublicKeyInfo (as found in a certificate). The
/// key's algorithm must match `scheme` (id-ecPublicKey for ECDSA, rsaEncryption for RSA).
pub fn verify_spki(
    scheme: SignatureScheme,
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| CryptoError::InvalidCertificate(e.to_string()))?;
    if spki.algorithm.oid != scheme.key_oid() {
        return Err(CryptoError::BadSignature);
    }
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| CryptoError::InvalidCertificate("public key has unused bits".into()))?;
    verify_raw(scheme, key, message, signature)
}

/// An ECDSA P-256 key pair signing with SHA-256: the DTLS certificate key.
pub struct EcdsaP256KeyPair {
    key: EcdsaKeyPair,
}

impl std::fmt::Debug for EcdsaP256KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaP256KeyPair").finish_non_exhaustive()
    }
}

impl EcdsaP256KeyPair {
    /// A new random key pair.
    pub fn generate() -> Result<Self, CryptoError> {
        let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
            .map_err(|_| CryptoError::KeyGeneration("ECDSA P-256"))?;
        Ok(Self { key })
    }

    /// A key pair from a PKCS#8 (v1 or v2) DER document holding a P-256 key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let key = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .map_err(|_| CryptoError::InvalidKey("ECDSA P-256 PKCS#8"))?;
        Ok(Self { key })
    }

    /// The key pair as a PKCS#8 v1 DER document (secret: store it as such).
    pub fn to_pkcs8(&self) -> Result<Vec<u8>, CryptoError> {
        self.key
            .to_pkcs8v1()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::InvalidKey("ECDSA P-256 PKCS#8"))
    }

    /// The public key as an uncompressed point (`04 || X || Y`, 65 bytes).
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> Result<Vec<u8>, CryptoError> {
        let der: PublicKeyX509Der<'static> = self
            .key
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::InvalidKey("ECDSA P-256 public key"))?;
        Ok(der.as_ref().to_vec())
    }

    /// Signs `message` (hashing it with SHA-256), returning the DER-encoded `ECDSA-Sig-Value` that TLS
    /// carries in `digitally-signed` structures.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| CryptoError::Signing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::{rsa::KeySize, signature::RsaKeyPair};

    #[test]
    fn p256_sign_verify() {
        let kp = EcdsaP256KeyPair::generate().unwrap();
        let sig = kp.sign(b"hello").unwrap();
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        let scheme = SignatureScheme::EcdsaP256Sha256;
        verify_raw(scheme, kp.public_key(), b"hello", &sig).unwrap();
        let spki = kp.public_key_spki().unwrap();
        verify_spki(scheme, &spki, b"hello", &sig).unwrap();
        assert_eq!(
            verify_spki(scheme, &spki, b"hellO", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            verify_raw(SignatureScheme::EcdsaP384Sha384, kp.public_key(), b"hello", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            verify_spki(SignatureScheme::RsaPkcs1Sha256, &spki, b"hello", &sig),
            Err(CryptoError::BadSignature)
        );
        assert!(verify_spki(scheme, &spki[1..], b"hello", &sig).is_err());
    }

    #[test]
    fn pkcs8_round_trip() {
        let kp = EcdsaP256KeyPair::generate().unwrap();
        let again = EcdsaP256KeyPair::from_pkcs8(&kp.to_pkcs8().unwrap()).unwrap();
        assert_eq!(kp.public_key(), again.public_key());
        let sig = again.sign(b"m").unwrap();
        verify_raw(SignatureScheme::EcdsaP256Sha256, kp.public_key(), b"m", &sig).unwrap();
        assert!(EcdsaP256KeyPair::from_pkcs8(b"\x30\x03\x02\x01\x00").is_err());
    }

    #[test]
    fn p384_verify() {
        let kp = EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
        let sig = kp.sign(&SystemRandom::new(), b"msg").unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let scheme = SignatureScheme::EcdsaP384Sha384;
        verify_spki(scheme, spki.as_ref(), b"msg", sig.as_ref()).unwrap();
        assert!(verify_spki(scheme, spki.as_ref(), b"msh", sig.as_ref()).is_err());
    }

    #[test]
    fn rsa_verify() {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let rng = SystemRandom::new();
        for (scheme, padding) in [
            (
                SignatureScheme::RsaPkcs1Sha256,
                &signature::RSA_PKCS1_SHA256 as &'static dyn signature::RsaEncoding,
            ),
            (SignatureScheme::RsaPkcs1Sha384, &signature::RSA_PKCS1_SHA384),
            (SignatureScheme::RsaPkcs1Sha512, &signature::RSA_PKCS1_SHA512),
            (SignatureScheme::RsaPssRsaeSha256, &signature::RSA_PSS_SHA256),
        ] {
            let mut sig = vec![0u8; kp.public_modulus_len()];
            kp.sign(padding, &rng, b"msg", &mut sig).unwrap();
            verify_spki(scheme, spki.as_ref(), b"msg", &sig).unwrap();
            assert!(verify_spki(scheme, spki.as_ref(), b"msG", &sig).is_err());
            assert!(verify_spki(SignatureScheme::EcdsaP256Sha256, spki.as_ref(), b"msg", &sig).is_err());
            let other_hash = if scheme == SignatureScheme::RsaPkcs1Sha512 {
                SignatureScheme::RsaPkcs1Sha256
            } else {
                SignatureScheme::RsaPkcs1Sha512
            };
            assert!(verify_spki(other_hash, spki.as_ref(), b"msg", &sig).is_err());
        }
    }

    #[test]
    fn codepoints_round_trip() {
        for s in [
            SignatureScheme::EcdsaP256Sha256,
            SignatureScheme::EcdsaP384Sha384,
            SignatureScheme::RsaPkcs1Sha256,
            SignatureScheme::RsaPkcs1Sha384,
            SignatureScheme::RsaPkcs1Sha512,
            SignatureScheme::RsaPssRsaeSha256,
        ] {
            assert_eq!(SignatureScheme::from_codepoint(s.codepoint()), Some(s));
            // RFC 5246 §7.4.1.4.1: the low byte of a TLS 1.2 pair names the signature algorithm.
            let low = match s.signature_algorithm() {
                SignatureAlgorithm::Rsa => 1,
                SignatureAlgorithm::Ecdsa => 3,
            };
            if s != SignatureScheme::RsaPssRsaeSha256 {
                assert_eq!(s.codepoint() & 0xff, low, "{s:?}");
            }
        }
        assert_eq!(SignatureScheme::from_codepoint(0x0201), None);
    }
}
