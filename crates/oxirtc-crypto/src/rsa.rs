//! RSA certificates for playing an older peer in tests. oxirtc itself never presents one: its own
//! certificates are ECDSA P-256 ([`DtlsCertificate`](crate::DtlsCertificate), RFC 8827 §6.5), but it
//! must verify peers that still use RSA (ECDHE_RSA suites, RFC 8422 §2.2), and tests need such a peer.

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, RsaKeyPair},
};

use crate::{CryptoError, Fingerprint, SignatureScheme};

/// A self-signed 2048-bit RSA certificate with its key pair, signing with RSASSA-PKCS1-v1_5.
pub struct RsaCertificate {
    der: Vec<u8>,
    key: RsaKeyPair,
}

impl std::fmt::Debug for RsaCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaCertificate")
            .field("der_len", &self.der.len())
            .finish_non_exhaustive()
    }
}

impl RsaCertificate {
    /// Generates a 2048-bit key pair and a self-signed certificate for it (CN "oxirtc-rsa").
    pub fn generate() -> Result<Self, CryptoError> {
        let gen_err = |e: rcgen::Error| CryptoError::CertificateGeneration(e.to_string());
        let key =
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| CryptoError::KeyGeneration("RSA 2048"))?;
        let pkcs8: Pkcs8V1Der<'static> = key.as_der().map_err(|_| CryptoError::InvalidKey("RSA PKCS#8"))?;
        let rc_key =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_ref().into(), &rcgen::PKCS_RSA_SHA256)
                .map_err(gen_err)?;
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "oxirtc-rsa");
        let cert = params.self_signed(&rc_key).map_err(gen_err)?;
        Ok(Self {
            der: cert.der().to_vec(),
            key,
        })
    }

    /// The certificate in DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 fingerprint for the SDP `a=fingerprint` attribute.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_der(&self.der)
    }

    /// Signs `message` with an RSASSA-PKCS1-v1_5 `scheme` (the TLS 1.2 `digitally-signed` value of
    /// RFC 5246 §4.7); other schemes are refused.
    pub fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let padding: &'static dyn signature::RsaEncoding = match scheme {
            SignatureScheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
            SignatureScheme::RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
            SignatureScheme::RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
            _ => {
                return Err(CryptoError::InvalidKey(
                    "an RSA key signs only with rsa_pkcs1_* schemes",
                ))
            }
        };
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(padding, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| CryptoError::Signing)?;
        Ok(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{default_provider, DtlsCertificate};

    #[test]
    fn signs_what_its_certificate_verifies() {
        let cert = RsaCertificate::generate().unwrap();
        let spki = DtlsCertificate::public_key_of(cert.der()).unwrap();
        let crypto = default_provider();
        for scheme in [
            SignatureScheme::RsaPkcs1Sha256,
            SignatureScheme::RsaPkcs1Sha384,
            SignatureScheme::RsaPkcs1Sha512,
        ] {
            let sig = cert.sign(scheme, b"params").unwrap();
            assert_eq!(sig.len(), 256);
            crypto.verify_signature(scheme, &spki, b"params", &sig).unwrap();
            assert_eq!(
                crypto.verify_signature(scheme, &spki, b"paramz", &sig),
                Err(CryptoError::BadSignature)
            );
        }
        assert!(cert.sign(SignatureScheme::EcdsaP256Sha256, b"params").is_err());
        assert!(cert.fingerprint().matches(cert.der()));
    }
}
