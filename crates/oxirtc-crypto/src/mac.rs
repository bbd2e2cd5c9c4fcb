use aws_lc_rs::{constant_time, hmac};

use crate::CryptoError;

/// An HMAC-SHA1 key (RFC 2104) whose inner and outer pads are computed once, for callers that
/// authenticate many messages with one key: SRTP and SRTCP (RFC 3711 §4.2.1), where keying HMAC
/// again for every packet would cost two extra SHA-1 blocks each time.
#[derive(Clone)]
pub struct HmacSha1Key {
    key: hmac::Key,
}

impl std::fmt::Debug for HmacSha1Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacSha1Key").finish_non_exhaustive()
    }
}

impl HmacSha1Key {
    /// A key from raw bytes (any length, as HMAC allows; SRTP uses 20).
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        }
    }

    /// The 20-byte HMAC-SHA1 of the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 20];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Checks in constant time that `tag` is the HMAC-SHA1 of `parts` truncated to `tag.len()`
    /// bytes (RFC 2104 §5: the left-most bits), as SRTP's 80- and 32-bit tags are. A `tag` that is
    /// empty or longer than 20 bytes never verifies.
    pub fn verify_truncated(&self, parts: &[&[u8]], tag: &[u8]) -> Result<(), CryptoError> {
        if tag.is_empty() || tag.len() > 20 {
            return Err(CryptoError::BadMac);
        }
        let full = self.sign(parts);
        constant_time::verify_slices_are_equal(&full[..tag.len()], tag).map_err(|_| CryptoError::BadMac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_provider;
    use hex_literal::hex;

    // RFC 2202 §3 test case 2, over two parts; the provider's one-shot HMAC agrees.
    #[test]
    fn rfc2202_test_case_2() {
        let key = HmacSha1Key::new(b"Jefe");
        let parts: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        let tag = hex!("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(key.sign(parts), tag);
        assert_eq!(default_provider().hmac_sha1(b"Jefe", parts), tag);
        assert_eq!(default_provider().hmac_sha1_key(b"Jefe").sign(parts), tag);
        key.verify_truncated(parts, &tag).unwrap();
        key.verify_truncated(parts, &tag[..10]).unwrap();
        key.verify_truncated(parts, &tag[..4]).unwrap();
    }

    #[test]
    fn wrong_or_odd_tags_fail() {
        let key = HmacSha1Key::new(b"Jefe");
        let parts: &[&[u8]] = &[b"what do ya want for nothing?"];
        let mut tag = hex!("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        tag[9] ^= 0x80;
        assert_eq!(key.verify_truncated(parts, &tag[..10]), Err(CryptoError::BadMac));
        // Only the truncated prefix counts: a flipped bit after it does not matter.
        key.verify_truncated(parts, &tag[..9]).unwrap();
        assert_eq!(key.verify_truncated(parts, &[]), Err(CryptoError::BadMac));
        assert_eq!(key.verify_truncated(parts, &[0; 21]), Err(CryptoError::BadMac));
        assert_eq!(
            key.verify_truncated(&[b"other message"], &tag[..9]),
            Err(CryptoError::BadMac)
        );
    }
}
