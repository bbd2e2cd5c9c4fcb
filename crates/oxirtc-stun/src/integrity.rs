//! MESSAGE-INTEGRITY(-SHA256) (RFC 8489 §14.5, §14.6), FINGERPRINT (§14.7) and credential keys (§9).

use oxirtc_crypto::CryptoProvider;

use crate::message::HEADER_LEN;
use crate::{Message, PasswordAlgorithm, StunError};

/// RFC 8489 §14.7: the CRC-32 is XOR'd with 0x5354554e ("STUN").
const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The FINGERPRINT value for the message bytes that precede the attribute (header length already
/// covering the FINGERPRINT attribute).
pub(crate) fn fingerprint(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes) ^ FINGERPRINT_XOR
}

/// Checks the FINGERPRINT attribute whose header starts at `offset` (framing already validated).
pub(crate) fn check_fingerprint(raw: &[u8], offset: usize) -> Result<(), StunError> {
    let value: [u8; 4] =
        raw.get(offset + 4..)
            .and_then(|v| v.try_into().ok())
            .ok_or(StunError::BadAttribute {
                ty: crate::AttrType::FINGERPRINT,
                reason: "length must be 4",
            })?;
    let found = u32::from_be_bytes(value);
    let computed = fingerprint(&raw[..offset]);
    if found != computed {
        return Err(StunError::FingerprintMismatch { found, computed });
    }
    Ok(())
}

/// The header with its length field rewritten so the message appears to end right after the
/// attribute at `attr_offset` with a `mac_len`-byte value (RFC 8489 §14.5).
pub(crate) fn adjusted_header(raw: &[u8], attr_offset: usize, mac_len: usize) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&raw[..HEADER_LEN]);
    let length = (attr_offset + 4 + mac_len - HEADER_LEN) as u16;
    header[2..4].copy_from_slice(&length.to_be_bytes());
    header
}

/// Compares without an early exit, so timing does not reveal how many leading bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Message<'_> {
    /// RFC 8489 §14.5/§14.6: verifies MESSAGE-INTEGRITY-SHA256 if present, else MESSAGE-INTEGRITY.
    ///
    /// The HMAC runs over a 20-byte header copy with the adjusted length plus the borrowed bytes up to
    /// the integrity attribute; the message itself is not copied. A truncated MESSAGE-INTEGRITY-SHA256
    /// (16..32 bytes) is compared against the same prefix of the computed HMAC.
    pub fn verify_integrity(&self, crypto: &dyn CryptoProvider, key: &[u8]) -> Result<(), StunError> {
        let raw = self.raw();
        let (offset, sha256) = match (self.integrity_sha256, self.integrity) {
            (Some(o), _) => (o, true),
            (None, Some(o)) => (o, false),
            (None, None) => return Err(StunError::IntegrityMissing),
        };
        let len = usize::from(u16::from_be_bytes([raw[offset + 2], raw[offset + 3]]));
        let found = &raw[offset + 4..offset + 4 + len];
        let header = adjusted_header(raw, offset, len);
        let parts: [&[u8]; 2] = [&header, &raw[HEADER_LEN..offset]];
        let ok = if sha256 {
            if !(16..=32).contains(&len) || len % 4 != 0 {
                return Err(StunError::BadAttribute {
                    ty: crate::AttrType::MESSAGE_INTEGRITY_SHA256,
                    reason: "length must be 16..=32 and a multiple of 4",
                });
            }
            constant_time_eq(&crypto.hmac_sha256(key, &parts)[..len], found)
        } else {
            if len != 20 {
                return Err(StunError::BadAttribute {
                    ty: crate::AttrType::MESSAGE_INTEGRITY,
                    reason: "length must be 20",
                });
            }
            constant_time_eq(&crypto.hmac_sha1(key, &parts), found)
        };
        if ok {
            Ok(())
        } else {
            tracing::debug!(tid = ?self.transaction_id(), sha256, "STUN message integrity mismatch");
            Err(StunError::IntegrityMismatch)
        }
    }
}

/// RFC 8489 §9.1.1: the short-term credential key is OpaqueString(password).
///
/// This crate does not implement the RFC 8265 OpaqueString preparation (NFC normalisation, mapping
/// of non-ASCII spaces); pass an already prepared password. ICE passwords (RFC 8445 §5.3, ice-char)
/// are ASCII, for which the preparation is the identity.
pub fn short_term_key(password: &str) -> Vec<u8> {
    password.as_bytes().to_vec()
}

/// RFC 8489 §9.2.2 and §18.5.1: the long-term credential key, `MD5(username ":" realm ":" password)`
/// (16 bytes) or the SHA-256 of the same string (32 bytes) when PASSWORD-ALGORITHM selects SHA-256.
///
/// As with [`short_term_key`], realm and password must already be OpaqueString-prepared.
pub fn long_term_key(
    crypto: &dyn CryptoProvider,
    username: &str,
    realm: &str,
    password: &str,
    alg: PasswordAlgorithm,
) -> Vec<u8> {
    let parts: [&[u8]; 5] = [
        username.as_bytes(),
        b":",
        realm.as_bytes(),
        b":",
        password.as_bytes(),
    ];
    match alg {
        PasswordAlgorithm::Md5 => crypto.md5(&parts).to_vec(),
        PasswordAlgorithm::Sha256 => crypto.sha256(&parts).to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use oxirtc_crypto::default_provider;

    #[test]
    fn long_term_key_example_from_rfc8489() {
        // RFC 8489 §9.2.2: MD5("user:realm:pass") = 0x8493fbc53ba582fb4c044c456bdc40eb.
        let key = long_term_key(
            default_provider(),
            "user",
            "realm",
            "pass",
            PasswordAlgorithm::Md5,
        );
        assert_eq!(key, hex!("8493fbc53ba582fb4c044c456bdc40eb"));
        let sha = long_term_key(
            default_provider(),
            "user",
            "realm",
            "pass",
            PasswordAlgorithm::Sha256,
        );
        assert_eq!(sha, default_provider().sha256(&[b"user:realm:pass"]));
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
