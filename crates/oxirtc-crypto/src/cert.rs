use std::{fmt, str::FromStr};

use aws_lc_rs::{constant_time, digest};
use x509_cert::der::{Decode, Encode};

use crate::{CryptoError, EcdsaP256KeyPair};

/// A self-signed ECDSA P-256 certificate for DTLS (RFC 8827 §6.5) with its key pair.
#[derive(Debug)]
pub struct DtlsCertificate {
    der: Vec<u8>,
    key: EcdsaP256KeyPair,
}

impl DtlsCertificate {
    /// Generates a new key pair and a self-signed certificate for it (CN "oxirtc"; rcgen's fixed,
    /// far-reaching validity period, since WebRTC peers authenticate by fingerprint, not by dates).
    pub fn generate() -> Result<Self, CryptoError> {
        let gen_err = |e: rcgen::Error| CryptoError::CertificateGeneration(e.to_string());
        let key = EcdsaP256KeyPair::generate()?;
        let pkcs8 = key.to_pkcs8()?;
        let rc_key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &pkcs8.as_slice().into(),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .map_err(gen_err)?;
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "oxirtc");
        let cert = params.self_signed(&rc_key).map_err(gen_err)?;
        Ok(Self {
            der: cert.der().to_vec(),
            key,
        })
    }

    /// A certificate from its DER and the PKCS#8 DER of its P-256 key (e.g. a stored identity). The
    /// key must match the certificate's public key.
    pub fn from_der(cert_der: Vec<u8>, pkcs8_der: &[u8]) -> Result<Self, CryptoError> {
        let key = EcdsaP256KeyPair::from_pkcs8(pkcs8_der)?;
        if Self::public_key_of(&cert_der)? != key.public_key_spki()? {
            return Err(CryptoError::InvalidKey("certificate and key do not match"));
        }
        Ok(Self { der: cert_der, key })
    }

    /// The certificate in DER, as sent in the DTLS Certificate message.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The key pair that signs ServerKeyExchange / CertificateVerify.
    pub fn key_pair(&self) -> &EcdsaP256KeyPair {
        &self.key
    }

    /// The SHA-256 fingerprint for the SDP `a=fingerprint` attribute.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_der(&self.der)
    }

    /// The DER SubjectPublicKeyInfo of a (peer's) DER certificate, for
    /// [`CryptoProvider::verify_signature`](crate::CryptoProvider::verify_signature).
    pub fn public_key_of(cert_der: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let invalid = |e: x509_cert::der::Error| CryptoError::InvalidCertificate(e.to_string());
        let cert = x509_cert::Certificate::from_der(cert_der).map_err(invalid)?;
        cert.tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(invalid)
    }
}

/// A SHA-256 certificate fingerprint (RFC 8122 §5). Equality is constant-time.
#[derive(Clone, Copy)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The SHA-256 fingerprint of a DER certificate.
    pub fn of_der(cert_der: &[u8]) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, cert_der).as_ref());
        Self(out)
    }

    /// A fingerprint from its raw 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether the fingerprint of `cert_der` is this one (constant-time).
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        *self == Self::of_der(cert_der)
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        constant_time::verify_slices_are_equal(&self.0, &other.0).is_ok()
    }
}

impl Eq for Fingerprint {}

/// `sha-256 AB:CD:...`: the value of `a=fingerprint` (RFC 8122 §5: uppercase hex, colon-separated).
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha-256 ")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Parses `sha-256 AB:CD:...`, case-insensitively (hash name and hex), with one or more spaces or tabs
/// between the two parts. Other hash functions are rejected as unsupported.
impl FromStr for Fingerprint {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        let (hash, value) = s
            .split_once([' ', '\t'])
            .ok_or(CryptoError::InvalidFingerprint("expected `<hash> <hex>`"))?;
        if !hash.eq_ignore_ascii_case("sha-256") {
            return Err(CryptoError::InvalidFingerprint("only sha-256 is supported"));
        }
        let mut out = [0u8; 32];
        let mut n = 0;
        for pair in value.trim_start().split(':') {
            let slot = out
                .get_mut(n)
                .ok_or(CryptoError::InvalidFingerprint("more than 32 bytes"))?;
            let bytes = pair.as_bytes();
            if bytes.len() != 2 {
                return Err(CryptoError::InvalidFingerprint(
                    "each byte must be two hex digits",
                ));
            }
            *slot = (hex_digit(bytes[0])? << 4) | hex_digit(bytes[1])?;
            n += 1;
        }
        if n != 32 {
            return Err(CryptoError::InvalidFingerprint("fewer than 32 bytes"));
        }
        Ok(Self(out))
    }
}

fn hex_digit(c: u8) -> Result<u8, CryptoError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(CryptoError::InvalidFingerprint("not a hex digit")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignatureScheme;

    #[test]
    fn generated_certificate_parses_and_verifies() {
        let cert = DtlsCertificate::generate().unwrap();
        let spki = DtlsCertificate::public_key_of(cert.der()).unwrap();
        assert_eq!(spki, cert.key_pair().public_key_spki().unwrap());
        let sig = cert.key_pair().sign(b"server params").unwrap();
        crate::default_provider()
            .verify_signature(SignatureScheme::EcdsaP256Sha256, &spki, b"server params", &sig)
            .unwrap();
        let again =
            DtlsCertificate::from_der(cert.der().to_vec(), &cert.key_pair().to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.fingerprint(), cert.fingerprint());
        let other = DtlsCertificate::generate().unwrap();
        assert!(
            DtlsCertificate::from_der(other.der().to_vec(), &cert.key_pair().to_pkcs8().unwrap()).is_err()
        );
    }

    #[test]
    fn malformed_certificates_are_errors() {
        let cert = DtlsCertificate::generate().unwrap();
        assert!(DtlsCertificate::public_key_of(&cert.der()[..cert.der().len() - 1]).is_err());
        assert!(DtlsCertificate::public_key_of(b"").is_err());
        assert!(DtlsCertificate::public_key_of(&[0x30, 0x80]).is_err());
    }

    #[test]
    fn fingerprint_format_and_parse() {
        let fp = Fingerprint::from_bytes(core::array::from_fn(|i| (i * 8) as u8 | 0x0a));
        let text = fp.to_string();
        assert!(text.starts_with("sha-256 0A:0A:1A:1A:2A:"), "{text}");
        assert_eq!(text.len(), "sha-256 ".len() + 32 * 3 - 1);
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
        let lower = format!("SHA-256  {}", text["sha-256 ".len()..].to_lowercase());
        assert_eq!(lower.parse::<Fingerprint>().unwrap(), fp);

        let cert = DtlsCertificate::generate().unwrap();
        assert!(cert.fingerprint().matches(cert.der()));
        assert_ne!(cert.fingerprint(), fp);
    }

    #[test]
    fn malformed_fingerprints_are_rejected() {
        let good = Fingerprint::from_bytes([0xAB; 32]).to_string();
        let bad = [
            String::new(),
            "sha-256".into(),
            good.replace("sha-256", "sha-1"),
            good[..good.len() - 3].to_string(),
            format!("{good}:AB"),
            good.replacen("AB", "GB", 1),
            good.replacen("AB", "A", 1),
            good.replacen(':', "::", 1),
            good.replacen(':', "-", 1),
            format!("{good}:"),
            good.replacen("AB", "+B", 1),
        ];
        for s in bad {
            assert!(s.parse::<Fingerprint>().is_err(), "{s:?}");
        }
    }
}
