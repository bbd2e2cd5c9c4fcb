use aws_lc_rs::{
    cipher::{Algorithm, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128, AES_256},
    iv::FixedLength,
};

use crate::CryptoError;

/// An AES key in counter mode: AES-CM for SRTP (RFC 3711 §4.1.1). Encryption and decryption are the same
/// keystream XOR, so one method serves both.
pub struct AesCtrKey {
    key: EncryptingKey,
}

impl std::fmt::Debug for AesCtrKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesCtrKey").finish_non_exhaustive()
    }
}

impl AesCtrKey {
    /// An AES-128 counter-mode key from 16 key bytes.
    pub fn new_aes128(key: &[u8]) -> Result<Self, CryptoError> {
        Self::new(&AES_128, key, "AES-128-CTR")
    }

    /// An AES-256 counter-mode key from 32 key bytes: the AES_256_CM PRF that derives the session keys
    /// of AEAD_AES_256_GCM (RFC 7714 §11, RFC 6188 §7).
    pub fn new_aes256(key: &[u8]) -> Result<Self, CryptoError> {
        Self::new(&AES_256, key, "AES-256-CTR")
    }

    fn new(alg: &'static Algorithm, key: &[u8], name: &'static str) -> Result<Self, CryptoError> {
        // aws-lc-rs checks the length against the algorithm.
        let unbound = UnboundCipherKey::new(alg, key).map_err(|_| CryptoError::InvalidKey(name))?;
        let key = EncryptingKey::ctr(unbound).map_err(|_| CryptoError::InvalidKey(name))?;
        Ok(Self { key })
    }

    /// XORs `in_out` in place with the keystream starting at the 128-bit counter block `iv`
    /// (for SRTP: `(salt << 16) XOR (SSRC << 64) XOR (index << 16)`, RFC 3711 §4.1.1).
    pub fn apply_keystream(&self, iv: [u8; 16], in_out: &mut [u8]) -> Result<(), CryptoError> {
        self.key
            .less_safe_encrypt(in_out, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map(|_| ())
            .map_err(|_| CryptoError::Encrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // RFC 3711 Appendix B.2: AES-CM keystream segments (encrypting zeros yields the keystream).
    #[test]
    fn rfc3711_keystream() {
        let key = AesCtrKey::new_aes128(&hex!("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
        let iv = hex!("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
        let mut buf = [0u8; 48];
        key.apply_keystream(iv, &mut buf).unwrap();
        assert_eq!(
            buf,
            hex!("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0")
        );
        key.apply_keystream(iv, &mut buf).unwrap();
        assert_eq!(buf, [0u8; 48]);
    }

    // NIST SP 800-38A §F.5.5 (CTR-AES256.Encrypt), first two blocks.
    #[test]
    fn aes256_ctr_sp800_38a() {
        let key = AesCtrKey::new_aes256(&hex!(
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
        ))
        .unwrap();
        let mut buf = hex!("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        key.apply_keystream(hex!("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), &mut buf)
            .unwrap();
        assert_eq!(
            buf,
            hex!("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5")
        );
    }

    #[test]
    fn wrong_key_length_is_error() {
        assert!(AesCtrKey::new_aes128(&[0; 15]).is_err());
        assert!(AesCtrKey::new_aes128(&[0; 32]).is_err());
        assert_eq!(
            AesCtrKey::new_aes256(&[0; 16]).unwrap_err(),
            CryptoError::InvalidKey("AES-256-CTR")
        );
    }
}
