//! SRTP key derivation: the AES-CM PRF of RFC 3711 §4.3, which turns a master key and salt into the
//! session keys of SRTP and SRTCP (AES_256_CM_PRF for AEAD_AES_256_GCM, RFC 7714 §11).

use oxirtc_crypto::{AesCtrKey, CryptoProvider};

use crate::SrtpError;

/// The key-derivation labels (RFC 3711 §4.3.1 and §4.3.2).
pub(crate) mod label {
    /// k_e, the SRTP encryption key.
    pub const RTP_ENCRYPTION: u8 = 0x00;
    /// k_a, the SRTP authentication key.
    pub const RTP_AUTH: u8 = 0x01;
    /// k_s, the SRTP salting key.
    pub const RTP_SALT: u8 = 0x02;
    /// The SRTCP encryption key.
    pub const RTCP_ENCRYPTION: u8 = 0x03;
    /// The SRTCP authentication key.
    pub const RTCP_AUTH: u8 = 0x04;
    /// The SRTCP salting key.
    pub const RTCP_SALT: u8 = 0x05;
}

/// The AES-CM PRF keyed with one master key, with its master salt.
pub(crate) struct Kdf {
    prf: AesCtrKey,
    salt: [u8; 14],
}

impl Kdf {
    /// A PRF for a 16-byte (AES-128) or 32-byte (AES-256, RFC 6188 via RFC 7714 §11) master key and a
    /// 14-byte (AES-CM profiles) or 12-byte (AEAD profiles, RFC 7714 §12) master salt. The caller has
    /// checked the lengths against the profile.
    pub(crate) fn new(
        crypto: &dyn CryptoProvider,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        let prf = if master_key.len() == 32 {
            crypto.aes256_ctr_key(master_key)?
        } else {
            crypto.aes128_ctr_key(master_key)?
        };
        let mut salt = [0u8; 14];
        let n = master_salt.len().min(14);
        salt[..n].copy_from_slice(&master_salt[..n]);
        Ok(Self { prf, salt })
    }

    /// Fills `out` with the session key (or salt) of `label`: PRF_n(k_master, x) (RFC 3711 §4.3.1).
    ///
    /// RFC 3711 §4.3.1: key_id = label || r, x = key_id XOR master_salt (right-aligned), and the PRF is
    /// AES-CM keyed with the master key from the IV x·2^16 (§4.3.3). DTLS-SRTP fixes the key derivation
    /// rate at zero (RFC 5764 §4.1.2), so r = index DIV 0 = 0 and key_id is the label in the byte just
    /// above r's six bytes: byte 7 of the IV. A 14-byte salt right-aligned under x·2^16 fills IV bytes
    /// 0..14. A 12-byte AEAD salt fills bytes 0..12 with zeros after it, as libsrtp and Pion do; the RFC
    /// 9335 Appendix A AES-GCM vectors (session key and salt from a 12-byte master salt) are checked in
    /// the tests below.
    pub(crate) fn derive(&self, label: u8, out: &mut [u8]) -> Result<(), SrtpError> {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        iv[7] ^= label;
        out.fill(0);
        // AES-CM keystream over zeros is the keystream itself (RFC 3711 §4.3.3).
        self.prf.apply_keystream(iv, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use oxirtc_crypto::default_provider;

    // RFC 3711 Appendix B.3: the initial key derivation for AES-128-CM with a 94-byte auth key.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let kdf = Kdf::new(
            default_provider(),
            &hex!("E1F97A0D3E018BE0D64FA32C06DE4139"),
            &hex!("0EC675AD498AFEEBB6960B3AABE6"),
        )
        .unwrap();
        let mut cipher_key = [0u8; 16];
        kdf.derive(label::RTP_ENCRYPTION, &mut cipher_key).unwrap();
        assert_eq!(cipher_key, hex!("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut cipher_salt = [0u8; 14];
        kdf.derive(label::RTP_SALT, &mut cipher_salt).unwrap();
        assert_eq!(cipher_salt, hex!("30CBBC08863D8C85D49DB34A9AE1"));
        let mut auth_key = [0u8; 94];
        kdf.derive(label::RTP_AUTH, &mut auth_key).unwrap();
        assert_eq!(
            auth_key,
            hex!(
                "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
                 E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
                 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
            )
        );
    }

    // RFC 9335 Appendix A.2 (AES-GCM common values): a 12-byte master salt. Its session key and salt
    // fix where the salt sits in the PRF's IV (bytes 0..12).
    #[test]
    fn rfc9335_gcm_session_keys_from_a_12_byte_salt() {
        let kdf = Kdf::new(
            default_provider(),
            &hex!("000102030405060708090a0b0c0d0e0f"),
            &hex!("a0a1a2a3a4a5a6a7a8a9aaab"),
        )
        .unwrap();
        let mut key = [0u8; 16];
        kdf.derive(label::RTP_ENCRYPTION, &mut key).unwrap();
        assert_eq!(key, hex!("077c6143cb221bc355ff23d5f984a16e"));
        let mut salt = [0u8; 12];
        kdf.derive(label::RTP_SALT, &mut salt).unwrap();
        assert_eq!(salt, hex!("9af3e95364ebac9c99c5a7c4"));
    }

    #[test]
    fn aes256_master_keys_derive_and_labels_differ() {
        let kdf = Kdf::new(default_provider(), &[7; 32], &[9; 12]).unwrap();
        let mut outs = [[0u8; 32]; 6];
        for (l, out) in outs.iter_mut().enumerate() {
            kdf.derive(l as u8, out).unwrap();
        }
        for i in 0..6 {
            for j in i + 1..6 {
                assert_ne!(outs[i], outs[j], "labels {i} and {j}");
            }
        }
        // A 16-byte key of the same bytes is a different PRF (AES-128, not AES-256).
        let kdf128 = Kdf::new(default_provider(), &[7; 16], &[9; 12]).unwrap();
        let mut k = [0u8; 32];
        kdf128.derive(0, &mut k).unwrap();
        assert_ne!(k, outs[0]);
    }
}
