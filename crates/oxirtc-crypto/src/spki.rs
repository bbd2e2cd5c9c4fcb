//! What a peer's certificate key can do in a TLS 1.2 handshake: the signature algorithm it serves
//! (RFC 5246 §7.4.1.4.1) and its size, read from its DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).

use std::fmt;

use x509_cert::{
    der::{
        asn1::{ObjectIdentifier, UintRef},
        Decode, Reader, SliceReader,
    },
    spki::SubjectPublicKeyInfoRef,
};

use crate::CryptoError;

/// id-ecPublicKey (RFC 5480 §2.1.1).
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption (RFC 8017 Appendix C).
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// TLS 1.2 `SignatureAlgorithm` (RFC 5246 §7.4.1.4.1) of the keys oxirtc can verify. It also names
/// the authentication half of a cipher suite: ECDHE_ECDSA or ECDHE_RSA (RFC 8422 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// rsa(1): RSASSA-PKCS1-v1_5 (or RSASSA-PSS) with an rsaEncryption key.
    Rsa,
    /// ecdsa(3): ECDSA with an id-ecPublicKey key.
    Ecdsa,
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsa => "RSA",
            Self::Ecdsa => "ECDSA",
        })
    }
}

/// A certificate's public key, as far as a TLS 1.2 handshake needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// What the key signs with.
    pub algorithm: SignatureAlgorithm,
    /// The RSA modulus length in bits, or the field size of an EC key (256 for P-256).
    pub bits: usize,
}

impl PublicKeyInfo {
    /// Reads a DER SubjectPublicKeyInfo (as returned by
    /// [`DtlsCertificate::public_key_of`](crate::DtlsCertificate::public_key_of)). Keys other than EC
    /// and RSA, and malformed ones, are errors.
    pub fn parse(spki_der: &[u8]) -> Result<Self, CryptoError> {
        let invalid = |what: &str| CryptoError::InvalidCertificate(what.to_string());
        let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| CryptoError::InvalidCertificate(e.to_string()))?;
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| invalid("public key has unused bits"))?;
        let oid = spki.algorithm.oid;
        if oid == ID_EC_PUBLIC_KEY {
            // RFC 5480 §2.2 / SEC 1 §2.3.3: 04 || X || Y, or 02/03 || X.
            let bits = match key.first() {
                Some(4) if key.len() % 2 == 1 => (key.len() - 1) / 2 * 8,
                Some(2 | 3) => (key.len() - 1) * 8,
                _ => return Err(invalid("EC public key is not an encoded point")),
            };
            return Ok(Self {
                algorithm: SignatureAlgorithm::Ecdsa,
                bits,
            });
        }
        if oid == RSA_ENCRYPTION {
            return Ok(Self {
                algorithm: SignatureAlgorithm::Rsa,
                bits: rsa_modulus_bits(key).map_err(|e| CryptoError::InvalidCertificate(e.to_string()))?,
            });
        }
        Err(CryptoError::InvalidCertificate(format!(
            "public key algorithm {oid} is neither EC nor RSA"
        )))
    }
}

/// The modulus length of a PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
/// INTEGER }` (RFC 8017 §A.1.1).
fn rsa_modulus_bits(der: &[u8]) -> Result<usize, x509_cert::der::Error> {
    let mut reader = SliceReader::new(der)?;
    let bits = reader.sequence(|r| {
        let modulus = UintRef::decode(r)?.as_bytes();
        UintRef::decode(r)?;
        Ok(modulus
            .first()
            .map_or(0, |&b| modulus.len() * 8 - b.leading_zeros() as usize))
    })?;
    reader.finish(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DtlsCertificate, RsaCertificate};

    #[test]
    fn ecdsa_and_rsa_keys_are_told_apart() {
        let ec = DtlsCertificate::generate().unwrap();
        let spki = DtlsCertificate::public_key_of(ec.der()).unwrap();
        assert_eq!(
            PublicKeyInfo::parse(&spki).unwrap(),
            PublicKeyInfo {
                algorithm: SignatureAlgorithm::Ecdsa,
                bits: 256
            }
        );
        let rsa = RsaCertificate::generate().unwrap();
        let spki = DtlsCertificate::public_key_of(rsa.der()).unwrap();
        assert_eq!(
            PublicKeyInfo::parse(&spki).unwrap(),
            PublicKeyInfo {
                algorithm: SignatureAlgorithm::Rsa,
                bits: 2048
            }
        );
        for cut in 0..spki.len() {
            assert!(PublicKeyInfo::parse(&spki[..cut]).is_err());
        }
    }

    /// `SEQUENCE { INTEGER modulus, INTEGER 65537 }` (one-byte long-form lengths).
    fn rsa_public_key(modulus: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, 0x81, modulus.len() as u8];
        body.extend(modulus);
        body.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut der = vec![0x30, 0x81, body.len() as u8];
        der.extend(&body);
        der
    }

    #[test]
    fn rsa_modulus_length_counts_bits() {
        // 0x00 sign byte, then 128 bytes whose first has its top bit set: 1024 bits.
        let mut modulus = vec![0x00, 0x81];
        modulus.extend([0x55; 127]);
        assert_eq!(rsa_modulus_bits(&rsa_public_key(&modulus)).unwrap(), 1024);
        // 128 bytes whose first is 0x01: 7 leading zero bits.
        let mut modulus = vec![0x01];
        modulus.extend([0x55; 127]);
        let der = rsa_public_key(&modulus);
        assert_eq!(rsa_modulus_bits(&der).unwrap(), 1017);
        assert!(rsa_modulus_bits(&der[..der.len() - 1]).is_err());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(rsa_modulus_bits(&trailing).is_err(), "trailing bytes");
        assert!(rsa_modulus_bits(&[0x30, 0x00]).is_err());
    }
}
