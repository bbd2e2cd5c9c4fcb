use aws_lc_rs::{digest, hmac, rand as lc_rand};
use md5::Digest as _;

use crate::{CryptoError, CryptoProvider};

/// The default backend, on aws-lc-rs (MD5 from RustCrypto's `md-5`, which aws-lc-rs does not expose).
#[derive(Debug, Default, Clone, Copy)]
pub struct AwsLcProvider;

fn hmac_parts(alg: hmac::Algorithm, key: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let key = hmac::Key::new(alg, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(part);
    }
    ctx.sign()
}

impl CryptoProvider for AwsLcProvider {
    fn hmac_sha1(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
        let mut out = [0u8; 20];
        out.copy_from_slice(hmac_parts(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key, parts).as_ref());
        out
    }

    fn hmac_sha256(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac_parts(hmac::HMAC_SHA256, key, parts).as_ref());
        out
    }

    fn sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    fn md5(&self, parts: &[&[u8]]) -> [u8; 16] {
        let mut h = md5::Md5::new();
        for part in parts {
            h.update(part);
        }
        h.finalize().into()
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        lc_rand::fill(out).map_err(|_| CryptoError::RandomUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // RFC 2202 §3 test case 2 (HMAC-SHA1) and RFC 4231 §4.3 test case 2 (HMAC-SHA256): key "Jefe".
    #[test]
    fn hmac_vectors() {
        let p = AwsLcProvider;
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        assert_eq!(
            p.hmac_sha1(b"Jefe", data),
            hex!("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        assert_eq!(
            p.hmac_sha256(b"Jefe", data),
            hex!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    // FIPS 180-2 "abc" and RFC 1321 "abc".
    #[test]
    fn hash_vectors() {
        let p = AwsLcProvider;
        assert_eq!(
            p.sha256(&[b"a", b"bc"]),
            hex!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(p.md5(&[b"abc"]), hex!("900150983cd24fb0d6963f7d28e17f72"));
    }

    #[test]
    fn random_is_not_constant() {
        let p = AwsLcProvider;
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        p.fill_random(&mut a).unwrap();
        p.fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
