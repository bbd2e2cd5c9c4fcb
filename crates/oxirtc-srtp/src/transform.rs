//! The session keys of one direction and the two transforms that use them: AES-CM with HMAC-SHA1
//! (RFC 3711 §4.1.1, §4.2.1) and AES-GCM (RFC 7714 §8, §9).

use oxirtc_crypto::{AeadAlgorithm, AeadKey, AesCtrKey, CryptoProvider, HmacSha1Key, AEAD_TAG_LEN};

use crate::kdf::{label, Kdf};
use crate::{ProtectionProfile, SrtpError};

/// The session keys of one direction (a master key and salt), for SRTP and SRTCP.
///
/// The AES-CM keys are boxed: their HMAC and AES key schedules take about 1.75 KB a label set, and
/// inline they made every context that size whatever its profile, so an AES-GCM session (WebRTC's
/// usual one, whose keys take 32 bytes each) carried some 7 KB of unused space per connection. The
/// box costs the AES-CM profiles one pointer to follow per packet.
pub(crate) enum Transform {
    /// AES-CM + HMAC-SHA1 profiles.
    CmHmac {
        /// SRTP keys (labels 0, 1, 2).
        rtp: Box<CmKeys>,
        /// SRTCP keys (labels 3, 4, 5).
        rtcp: Box<CmKeys>,
    },
    /// AES-GCM profiles.
    Aead {
        /// SRTP keys (labels 0, 2).
        rtp: AeadKeys,
        /// SRTCP keys (labels 3, 5).
        rtcp: AeadKeys,
    },
}

impl Transform {
    /// Derives every session key from one master key and salt (RFC 3711 §4.3; RFC 7714 §11). The caller
    /// has checked the lengths against `profile`.
    pub(crate) fn derive(
        crypto: &dyn CryptoProvider,
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        let kdf = Kdf::new(crypto, master_key, master_salt)?;
        if profile.is_aead() {
            let alg = match profile {
                ProtectionProfile::AeadAes256Gcm => AeadAlgorithm::Aes256Gcm,
                _ => AeadAlgorithm::Aes128Gcm,
            };
            let keys = |enc: u8, salt: u8| -> Result<AeadKeys, SrtpError> {
                let mut key = [0u8; 32];
                let key = &mut key[..alg.key_len()];
                kdf.derive(enc, key)?;
                let mut s = [0u8; 12];
                kdf.derive(salt, &mut s)?;
                AeadKeys::new(crypto, alg, key, s)
            };
            Ok(Self::Aead {
                rtp: keys(label::RTP_ENCRYPTION, label::RTP_SALT)?,
                rtcp: keys(label::RTCP_ENCRYPTION, label::RTCP_SALT)?,
            })
        } else {
            let keys = |enc: u8, auth: u8, salt: u8| -> Result<Box<CmKeys>, SrtpError> {
                let mut key = [0u8; 16];
                kdf.derive(enc, &mut key)?;
                // n_a = 160 bits for HMAC-SHA1 (RFC 5764 §4.1.2 auth_key_length).
                let mut auth_key = [0u8; 20];
                kdf.derive(auth, &mut auth_key)?;
                let mut s = [0u8; 14];
                kdf.derive(salt, &mut s)?;
                CmKeys::new(crypto, &key, &auth_key, s).map(Box::new)
            };
            Ok(Self::CmHmac {
                rtp: keys(label::RTP_ENCRYPTION, label::RTP_AUTH, label::RTP_SALT)?,
                rtcp: keys(label::RTCP_ENCRYPTION, label::RTCP_AUTH, label::RTCP_SALT)?,
            })
        }
    }
}

/// AES-CM + HMAC-SHA1 session keys of SRTP or of SRTCP.
pub(crate) struct CmKeys {
    cipher: AesCtrKey,
    /// The session salt k_s as the 128-bit number k_s · 2^16, the IV's starting point.
    salt: u128,
    auth: HmacSha1Key,
}

impl CmKeys {
    /// Keys from session key, session authentication key and session salt.
    pub(crate) fn new(
        crypto: &dyn CryptoProvider,
        key: &[u8],
        auth_key: &[u8],
        salt: [u8; 14],
    ) -> Result<Self, SrtpError> {
        let mut shifted = [0u8; 16];
        shifted[..14].copy_from_slice(&salt);
        Ok(Self {
            cipher: crypto.aes128_ctr_key(key)?,
            salt: u128::from_be_bytes(shifted),
            auth: crypto.hmac_sha1_key(auth_key),
        })
    }

    /// XORs `data` with the keystream segment of (`ssrc`, `index`) (RFC 3711 §4.1.1); for SRTCP,
    /// `index` is the 31-bit SRTCP index and `ssrc` that of the first packet of the compound.
    pub(crate) fn apply_keystream(&self, ssrc: u32, index: u64, data: &mut [u8]) -> Result<(), SrtpError> {
        self.cipher.apply_keystream(self.iv(ssrc, index), data)?;
        Ok(())
    }

    /// RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), as 16 bytes. The index
    /// has at most 48 bits (SRTP) or 31 (SRTCP), so it ends where the 16-bit block counter begins.
    fn iv(&self, ssrc: u32, index: u64) -> [u8; 16] {
        let index = u128::from(index & 0xffff_ffff_ffff);
        (self.salt ^ (u128::from(ssrc) << 64) ^ (index << 16)).to_be_bytes()
    }

    /// The full HMAC-SHA1 of `parts` under k_a (RFC 3711 §4.2.1); the caller truncates it.
    pub(crate) fn tag(&self, parts: &[&[u8]]) -> [u8; 20] {
        self.auth.sign(parts)
    }

    /// Whether `tag` is the truncated HMAC-SHA1 of `parts`, compared in constant time.
    pub(crate) fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.auth.verify_truncated(parts, tag).is_ok()
    }
}

/// AES-GCM session key and salt of SRTP or of SRTCP (RFC 7714).
pub(crate) struct AeadKeys {
    key: AeadKey,
    /// The 12-byte session salt as its first 8 and last 4 bytes, big-endian.
    salt_hi: u64,
    salt_lo: u32,
}

impl AeadKeys {
    /// Keys from a session key and 12-byte session salt.
    pub(crate) fn new(
        crypto: &dyn CryptoProvider,
        alg: AeadAlgorithm,
        key: &[u8],
        salt: [u8; 12],
    ) -> Result<Self, SrtpError> {
        let [a, b, c, d, e, f, g, h, i, j, k, l] = salt;
        Ok(Self {
            key: crypto.aead_key(alg, key)?,
            salt_hi: u64::from_be_bytes([a, b, c, d, e, f, g, h]),
            salt_lo: u32::from_be_bytes([i, j, k, l]),
        })
    }

    /// RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, with ROC || SEQ the 48-bit index.
    pub(crate) fn rtp_nonce(&self, ssrc: u32, index: u64) -> [u8; 12] {
        self.xor_salt((u64::from(ssrc) << 16) | ((index >> 32) & 0xffff), index as u32)
    }

    /// RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt.
    pub(crate) fn rtcp_nonce(&self, ssrc: u32, index: u32) -> [u8; 12] {
        self.xor_salt(u64::from(ssrc) << 16, index & 0x7fff_ffff)
    }

    /// The 12-byte block `hi || lo` XOR the salt. Written as one 8-byte and one 4-byte store, the
    /// way the crypto library reads the nonce back: a 16-byte value cut to 12 made it wait on a
    /// store-forwarding stall every packet.
    fn xor_salt(&self, hi: u64, lo: u32) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(self.salt_hi ^ hi).to_be_bytes());
        nonce[8..].copy_from_slice(&(self.salt_lo ^ lo).to_be_bytes());
        nonce
    }

    /// Encrypts `data` in place and writes the 16-byte tag into `tag` (RFC 7714 §5.2.1).
    ///
    /// The tag goes straight from the crypto call's result into the packet: passing it on as a
    /// `Result<[u8; 16], SrtpError>` made the compiler copy it byte by byte from where the callee
    /// had just stored it whole, a store-forwarding stall that cost several nanoseconds a packet.
    pub(crate) fn seal(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; AEAD_TAG_LEN],
    ) -> Result<(), SrtpError> {
        match self.key.seal_in_place_separate_tag(nonce, aad, data) {
            Ok(t) => {
                *tag = t;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Authenticates `data` (ciphertext then tag) and decrypts it in place, returning the plaintext
    /// length; `None` if the tag does not verify (RFC 7714 §5.3: nothing is released then).
    pub(crate) fn open(&self, nonce: [u8; 12], aad: &[u8], data: &mut [u8]) -> Option<usize> {
        self.key.open_in_place(nonce, aad, data).ok().map(|p| p.len())
    }
}

#[cfg(test)]
impl Transform {
    /// AES-GCM with one session key and salt for both SRTP and SRTCP, as RFC 7714's vectors use.
    pub(crate) fn aead_session(alg: AeadAlgorithm, key: &[u8], salt: [u8; 12]) -> Self {
        let keys = || AeadKeys::new(oxirtc_crypto::default_provider(), alg, key, salt).unwrap();
        Self::Aead {
            rtp: keys(),
            rtcp: keys(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use oxirtc_crypto::default_provider;

    // RFC 3711 Appendix B.2: the AES-CM keystream of session key 2B7E..., salt F0F1...FCFD, SSRC 0,
    // index 0, over its whole 1044512-byte segment (65282 blocks); first and last three blocks.
    #[test]
    fn rfc3711_b2_aes_cm_keystream() {
        let keys = CmKeys::new(
            default_provider(),
            &hex!("2B7E151628AED2A6ABF7158809CF4F3C"),
            &[0; 20],
            hex!("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
        )
        .unwrap();
        assert_eq!(keys.iv(0, 0), hex!("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
        let mut stream = vec![0u8; 1_044_512];
        keys.apply_keystream(0, 0, &mut stream).unwrap();
        assert_eq!(
            stream[..48],
            hex!("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0")
        );
        let tail = 0xFEFF * 16;
        assert_eq!(stream.len(), tail + 48);
        assert_eq!(
            stream[tail..],
            hex!("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44")
        );
    }

    #[test]
    fn cm_iv_places_ssrc_and_index() {
        let keys = CmKeys::new(default_provider(), &[0; 16], &[0; 20], [0; 14]).unwrap();
        assert_eq!(
            keys.iv(0x1122_3344, 0x5566_7788_99aa),
            hex!("00000000 11223344 5566778899aa 0000")
        );
    }

    // RFC 7714 §16 and §17.1: the SRTP and SRTCP IVs of the test vectors.
    #[test]
    fn rfc7714_ivs() {
        let keys = AeadKeys::new(
            default_provider(),
            AeadAlgorithm::Aes128Gcm,
            &hex!("000102030405060708090a0b0c0d0e0f"),
            hex!("517569642070726f2071756f"),
        )
        .unwrap();
        assert_eq!(
            keys.rtp_nonce(0x5501_a0b2, 0xf17b),
            hex!("51753c6580c2726f20718414")
        );
        assert_eq!(
            keys.rtcp_nonce(0x4d61_7273, 0x05d4),
            hex!("517524055203726f207170bb")
        );
        // The E flag is not part of the IV.
        assert_eq!(
            keys.rtcp_nonce(0x4d61_7273, 0x8000_05d4),
            keys.rtcp_nonce(0x4d61_7273, 0x05d4)
        );
    }
}
