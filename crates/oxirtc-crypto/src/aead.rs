use aws_lc_rs::aead;

use crate::CryptoError;

/// The AEAD length of the authentication tag every supported algorithm appends, in bytes.
pub const AEAD_TAG_LEN: usize = 16;

/// The AEAD algorithms of the DTLS 1.2 cipher suites and SRTP AEAD profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AeadAlgorithm {
    /// AES-128-GCM (NIST SP 800-38D), 16-byte key.
    Aes128Gcm,
    /// AES-256-GCM (NIST SP 800-38D), 32-byte key.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439), 32-byte key.
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// An AEAD key. The caller supplies a unique 12-byte nonce per record (e.g. DTLS 1.2's
/// `salt || explicit_nonce` for GCM, RFC 5288 §3, or the XOR construction of RFC 7905 §2).
pub struct AeadKey {
    alg: AeadAlgorithm,
    key: aead::LessSafeKey,
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AeadKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl AeadKey {
    /// A key from raw bytes; the length must be [`AeadAlgorithm::key_len`].
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::InvalidKey("AEAD"));
        }
        let unbound =
            aead::UnboundKey::new(alg.algorithm(), key).map_err(|_| CryptoError::InvalidKey("AEAD"))?;
        Ok(Self {
            alg,
            key: aead::LessSafeKey::new(unbound),
        })
    }

    /// The algorithm of this key.
    pub fn algorithm(&self) -> AeadAlgorithm {
        self.alg
    }

    /// Encrypts `in_out` in place and appends the [`AEAD_TAG_LEN`]-byte tag.
    pub fn seal_in_place(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                in_out,
            )
            .map_err(|_| CryptoError::Encrypt)
    }

    /// Encrypts `in_out` in place and returns the tag, for callers writing into a fixed buffer.
    pub fn seal_in_place_separate_tag(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                in_out,
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = [0u8; AEAD_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Authenticates and decrypts `in_out` (ciphertext followed by the tag) in place, returning the
    /// plaintext prefix. A wrong tag, key, nonce or AAD, or input shorter than the tag, is
    /// [`CryptoError::AeadOpen`].
    pub fn open_in_place<'a>(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        self.key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                in_out,
            )
            .map_err(|_| CryptoError::AeadOpen)
    }

    /// Authenticates `ciphertext` (followed by the [`AEAD_TAG_LEN`]-byte tag) and decrypts it into
    /// `out`, which must be exactly as long as the ciphertext without its tag: the received bytes stay
    /// untouched and no intermediate copy is made. On [`CryptoError::AeadOpen`] (wrong tag, key,
    /// nonce or AAD, input shorter than the tag, or `out` of the wrong length) `out` holds garbage.
    pub fn open_to(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let Some(body_len) = ciphertext.len().checked_sub(AEAD_TAG_LEN) else {
            return Err(CryptoError::AeadOpen);
        };
        if out.len() != body_len {
            return Err(CryptoError::AeadOpen);
        }
        let (body, tag) = ciphertext.split_at(body_len);
        self.key
            .open_separate_gather(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                body,
                tag,
                out,
            )
            .map_err(|_| CryptoError::AeadOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn check(alg: AeadAlgorithm, key: &[u8], nonce: [u8; 12], aad: &[u8], pt: &[u8], ct_tag: &[u8]) {
        let k = AeadKey::new(alg, key).unwrap();
        let mut buf = pt.to_vec();
        k.seal_in_place(nonce, aad, &mut buf).unwrap();
        assert_eq!(buf, ct_tag);

        let mut fixed = pt.to_vec();
        let tag = k.seal_in_place_separate_tag(nonce, aad, &mut fixed).unwrap();
        assert_eq!(&fixed[..], &ct_tag[..pt.len()]);
        assert_eq!(&tag[..], &ct_tag[pt.len()..]);

        assert_eq!(k.open_in_place(nonce, aad, &mut buf).unwrap(), pt);

        // Out of place: the ciphertext stays as received, the plaintext lands in `out`.
        let mut out = vec![0u8; pt.len()];
        k.open_to(nonce, aad, ct_tag, &mut out).unwrap();
        assert_eq!(out, pt);
        let mut flipped = ct_tag.to_vec();
        flipped[0] ^= 1;
        assert_eq!(
            k.open_to(nonce, aad, &flipped, &mut out),
            Err(CryptoError::AeadOpen)
        );
        assert_eq!(
            k.open_to(nonce, b"other aad", ct_tag, &mut out),
            Err(CryptoError::AeadOpen)
        );
        let mut short = vec![0u8; pt.len().saturating_sub(1)];
        assert_eq!(
            k.open_to(nonce, aad, ct_tag, &mut short),
            Err(CryptoError::AeadOpen)
        );
        assert_eq!(
            k.open_to(nonce, aad, &[0u8; 5], &mut []),
            Err(CryptoError::AeadOpen)
        );

        let mut bad_tag = ct_tag.to_vec();
        *bad_tag.last_mut().unwrap() ^= 1;
        assert_eq!(
            k.open_in_place(nonce, aad, &mut bad_tag),
            Err(CryptoError::AeadOpen)
        );
        let mut ok = ct_tag.to_vec();
        assert_eq!(
            k.open_in_place(nonce, b"other aad", &mut ok),
            Err(CryptoError::AeadOpen)
        );
        assert_eq!(
            k.open_in_place(nonce, aad, &mut [0u8; 5]),
            Err(CryptoError::AeadOpen)
        );
    }

    // The GCM specification (McGrew & Viega), test cases 4 (AES-128) and 16 (AES-256): with AAD.
    const GCM_PT: [u8; 60] = hex!("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    const GCM_AAD: [u8; 20] = hex!("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const GCM_IV: [u8; 12] = hex!("cafebabefacedbaddecaf888");

    #[test]
    fn aes128_gcm_test_case_4() {
        check(
            AeadAlgorithm::Aes128Gcm,
            &hex!("feffe9928665731c6d6a8f9467308308"),
            GCM_IV,
            &GCM_AAD,
            &GCM_PT,
            &hex!("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091 5bc94fbc3221a5db94fae95ae7121a47"),
        );
    }

    #[test]
    fn aes256_gcm_test_case_16() {
        check(
            AeadAlgorithm::Aes256Gcm,
            &hex!("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
            GCM_IV,
            &GCM_AAD,
            &GCM_PT,
            &hex!("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662 76fc6ece0f4e1768cddf8853bb2d551b"),
        );
    }

    // RFC 8439 §2.8.2.
    #[test]
    fn chacha20_poly1305_rfc8439() {
        let key: Vec<u8> = (0x80..0xa0).collect();
        check(
            AeadAlgorithm::ChaCha20Poly1305,
            &key,
            hex!("070000004041424344454647"),
            &hex!("50515253c0c1c2c3c4c5c6c7"),
            b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
            &hex!("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691"),
        );
    }

    #[test]
    fn wrong_key_length_is_error() {
        assert_eq!(
            AeadKey::new(AeadAlgorithm::Aes128Gcm, &[0; 32]).unwrap_err(),
            CryptoError::InvalidKey("AEAD")
        );
        assert!(AeadKey::new(AeadAlgorithm::ChaCha20Poly1305, &[0; 16]).is_err());
    }
}
