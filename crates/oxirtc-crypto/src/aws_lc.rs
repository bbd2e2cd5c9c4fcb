use aws_lc_rs::{digest, hmac, rand as lc_rand};
use md5::Digest as _;

use crate::{
    AeadAlgorithm, AeadKey, AesCtrKey, CryptoError, CryptoProvider, DtlsCertificate, EcdhePrivateKey,
    EcdsaP256KeyPair, HashAlgorithm, HmacSha1Key, NamedGroup, SignatureScheme,
};

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

    fn sha384(&self, parts: &[&[u8]]) -> [u8; 48] {
        let mut ctx = digest::Context::new(&digest::SHA384);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 48];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    fn hmac_sha384(&self, key: &[u8], parts: &[&[u8]]) -> [u8; 48] {
        let mut out = [0u8; 48];
        out.copy_from_slice(hmac_parts(hmac::HMAC_SHA384, key, parts).as_ref());
        out
    }

    fn hmac(&self, alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let alg = match alg {
            HashAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => hmac::HMAC_SHA256,
            HashAlgorithm::Sha384 => hmac::HMAC_SHA384,
        };
        hmac_parts(alg, key, parts).as_ref().to_vec()
    }

    fn ecdhe_generate(&self, group: NamedGroup) -> Result<EcdhePrivateKey, CryptoError> {
        EcdhePrivateKey::generate(group)
    }

    fn aead_key(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<AeadKey, CryptoError> {
        AeadKey::new(alg, key)
    }

    fn aes128_ctr_key(&self, key: &[u8]) -> Result<AesCtrKey, CryptoError> {
        AesCtrKey::new_aes128(key)
    }

    fn aes256_ctr_key(&self, key: &[u8]) -> Result<AesCtrKey, CryptoError> {
        AesCtrKey::new_aes256(key)
    }

    fn hmac_sha1_key(&self, key: &[u8]) -> HmacSha1Key {
        HmacSha1Key::new(key)
    }

    fn ecdsa_p256_generate(&self) -> Result<EcdsaP256KeyPair, CryptoError> {
        EcdsaP256KeyPair::generate()
    }

    fn verify_signature(
        &self,
        scheme: SignatureScheme,
        spki_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        crate::sign::verify_spki(scheme, spki_der, message, signature)
    }

    fn self_signed_certificate(&self) -> Result<DtlsCertificate, CryptoError> {
        DtlsCertificate::generate()
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

    // FIPS 180-2 "abc" (SHA-384) and RFC 4231 §4.3 test case 2 (HMAC-SHA384).
    #[test]
    fn sha384_vectors() {
        let p: &dyn CryptoProvider = &AwsLcProvider;
        assert_eq!(
            p.sha384(&[b"ab", b"c"]),
            hex!("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
        );
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        let tag = hex!("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
        assert_eq!(p.hmac_sha384(b"Jefe", data), tag);
        assert_eq!(p.hmac(HashAlgorithm::Sha384, b"Jefe", data), tag);
        assert_eq!(
            p.hmac(HashAlgorithm::Sha256, b"Jefe", data),
            p.hmac_sha256(b"Jefe", data)
        );
        assert_eq!(
            p.hmac(HashAlgorithm::Sha1, b"Jefe", data),
            p.hmac_sha1(b"Jefe", data)
        );
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
