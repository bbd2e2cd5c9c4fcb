//! Configuration and the negotiable parameters: cipher suites and SRTP protection profiles.

use std::{fmt, time::Duration};

use oxirtc_crypto::{AeadAlgorithm, HashAlgorithm, NamedGroup, SignatureAlgorithm};

/// Which side of the DTLS handshake this endpoint plays (`a=setup`: active = client, RFC 8842 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the ClientHello.
    Client,
    /// Waits for a ClientHello.
    Server,
}

/// The TLS 1.2 cipher suites oxirtc knows: ECDHE key exchange with an AEAD, authenticated by ECDSA
/// (both roles) or RSA (only a server's, which oxirtc verifies as a client: older peers still use
/// RSA certificates, and RFC 8827 §6.5 makes ECDSA mandatory to implement, not exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xC02B, RFC 5289), mandatory in WebRTC (RFC 8827 §6.5).
    EcdheEcdsaAes128GcmSha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xC02C, RFC 5289).
    EcdheEcdsaAes256GcmSha384,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xCCA9, RFC 7905).
    EcdheEcdsaChacha20Poly1305Sha256,
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F, RFC 5289). Client only.
    EcdheRsaAes128GcmSha256,
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (0xC030, RFC 5289). Client only.
    EcdheRsaAes256GcmSha384,
}

impl CipherSuite {
    /// Every supported suite, in oxirtc's default preference order: ECDSA first, then the RSA suites
    /// a client offers for servers with RSA certificates (a server skips them: its key is ECDSA).
    pub const ALL: [Self; 5] = [
        Self::EcdheEcdsaAes128GcmSha256,
        Self::EcdheEcdsaAes256GcmSha384,
        Self::EcdheEcdsaChacha20Poly1305Sha256,
        Self::EcdheRsaAes128GcmSha256,
        Self::EcdheRsaAes256GcmSha384,
    ];

    /// The IANA codepoint.
    pub fn codepoint(self) -> u16 {
        match self {
            Self::EcdheEcdsaAes128GcmSha256 => 0xC02B,
            Self::EcdheEcdsaAes256GcmSha384 => 0xC02C,
            Self::EcdheEcdsaChacha20Poly1305Sha256 => 0xCCA9,
            Self::EcdheRsaAes128GcmSha256 => 0xC02F,
            Self::EcdheRsaAes256GcmSha384 => 0xC030,
        }
    }

    /// What signs the server's ServerKeyExchange, so what key its certificate holds (RFC 8422 §2,
    /// §5.3): ECDSA for ECDHE_ECDSA, RSA for ECDHE_RSA.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::EcdheEcdsaAes128GcmSha256
            | Self::EcdheEcdsaAes256GcmSha384
            | Self::EcdheEcdsaChacha20Poly1305Sha256 => SignatureAlgorithm::Ecdsa,
            Self::EcdheRsaAes128GcmSha256 | Self::EcdheRsaAes256GcmSha384 => SignatureAlgorithm::Rsa,
        }
    }

    /// The suite with codepoint `value`, if supported.
    pub fn from_codepoint(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.codepoint() == value)
    }

    /// The record AEAD.
    pub fn aead(self) -> AeadAlgorithm {
        match self {
            Self::EcdheEcdsaAes128GcmSha256 | Self::EcdheRsaAes128GcmSha256 => AeadAlgorithm::Aes128Gcm,
            Self::EcdheEcdsaAes256GcmSha384 | Self::EcdheRsaAes256GcmSha384 => AeadAlgorithm::Aes256Gcm,
            Self::EcdheEcdsaChacha20Poly1305Sha256 => AeadAlgorithm::ChaCha20Poly1305,
        }
    }

    /// The PRF / handshake hash (RFC 5246 §5, RFC 5289 §3).
    pub fn prf_hash(self) -> HashAlgorithm {
        match self {
            Self::EcdheEcdsaAes256GcmSha384 | Self::EcdheRsaAes256GcmSha384 => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// `fixed_iv_length` of the key block: the 4-byte GCM salt (RFC 5288 §3) or the 12-byte ChaCha IV
    /// (RFC 7905 §2).
    pub fn fixed_iv_len(self) -> usize {
        match self {
            Self::EcdheEcdsaChacha20Poly1305Sha256 => 12,
            _ => 4,
        }
    }

    /// `record_iv_length`: GCM carries an 8-byte explicit nonce in each record; ChaCha none.
    pub(crate) fn explicit_nonce_len(self) -> usize {
        match self {
            Self::EcdheEcdsaChacha20Poly1305Sha256 => 0,
            _ => 8,
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcdheEcdsaAes128GcmSha256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            Self::EcdheEcdsaAes256GcmSha384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            Self::EcdheEcdsaChacha20Poly1305Sha256 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            Self::EcdheRsaAes128GcmSha256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            Self::EcdheRsaAes256GcmSha384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        })
    }
}

/// SRTP protection profiles negotiated by use_srtp (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// SRTP_AEAD_AES_128_GCM (0x0007).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    AeadAes256Gcm,
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001).
    Aes128CmHmacSha1_80,
}

impl SrtpProfile {
    /// Every supported profile, in oxirtc's default preference order.
    pub const ALL: [Self; 3] = [
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
        Self::Aes128CmHmacSha1_80,
    ];

    /// The IANA codepoint (`SRTPProtectionProfile`).
    pub fn codepoint(self) -> u16 {
        match self {
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
            Self::Aes128CmHmacSha1_80 => 0x0001,
        }
    }

    /// The profile with codepoint `value`, if supported.
    pub fn from_codepoint(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.codepoint() == value)
    }

    /// Bytes of keying material to export for this profile: 2 × (key + salt) (RFC 5764 §4.2).
    pub fn keying_material_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm => 2 * (16 + 12),
            Self::AeadAes256Gcm => 2 * (32 + 12),
            Self::Aes128CmHmacSha1_80 => 2 * (16 + 14),
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
        })
    }
}

/// Endpoint configuration.
#[derive(Debug, Clone)]
pub struct DtlsConfig {
    /// Largest datagram to send during the handshake (handshake messages are fragmented to fit,
    /// RFC 6347 §4.1.1.1). Application data records may exceed it (up to 2^14 bytes of plaintext).
    pub mtu: usize,
    /// Cipher suites in preference order (the server picks by its own order, among the ECDHE_ECDSA
    /// ones: its certificate is ECDSA; a client also offers the ECDHE_RSA ones listed here).
    pub cipher_suites: Vec<CipherSuite>,
    /// SRTP profiles in preference order; empty means use_srtp is not offered (or not accepted).
    pub srtp_profiles: Vec<SrtpProfile>,
    /// The first retransmission timeout (RFC 6347 §4.2.4.1 recommends 1 s).
    pub initial_retransmit: Duration,
    /// The retransmission timeout doubles up to this (RFC 6347 §4.2.4.1: 60 s).
    pub max_retransmit: Duration,
    /// The handshake fails with [`DtlsError::Timeout`](crate::DtlsError::Timeout) if not complete
    /// this long after it started.
    pub handshake_timeout: Duration,
    /// ECDHE groups in preference order.
    pub groups: Vec<NamedGroup>,
    /// Server: answer a ClientHello without a valid cookie with a HelloVerifyRequest (RFC 6347
    /// §4.2.1). Default true; a server that turns it off keeps state from the first ClientHello.
    pub hello_verify: bool,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        Self {
            mtu: 1200,
            cipher_suites: CipherSuite::ALL.to_vec(),
            srtp_profiles: SrtpProfile::ALL.to_vec(),
            initial_retransmit: Duration::from_secs(1),
            max_retransmit: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(30),
            groups: vec![NamedGroup::X25519, NamedGroup::P256],
            hello_verify: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepoints_and_names() {
        for s in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_codepoint(s.codepoint()), Some(s));
        }
        for p in SrtpProfile::ALL {
            assert_eq!(SrtpProfile::from_codepoint(p.codepoint()), Some(p));
        }
        assert_eq!(
            CipherSuite::EcdheEcdsaAes128GcmSha256.to_string(),
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(SrtpProfile::AeadAes128Gcm.codepoint(), 7);
        assert_eq!(
            CipherSuite::from_codepoint(0xC030),
            Some(CipherSuite::EcdheRsaAes256GcmSha384)
        );
        assert_eq!(
            CipherSuite::EcdheRsaAes128GcmSha256.to_string(),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(CipherSuite::from_codepoint(0xCCA8), None); // ECDHE_RSA ChaCha: not offered
                                                               // ECDSA suites come first in the default order (RFC 8827 §6.5: ECDSA is what WebRTC expects).
        let first_rsa = CipherSuite::ALL
            .iter()
            .position(|s| s.signature_algorithm() == SignatureAlgorithm::Rsa)
            .unwrap();
        assert!(CipherSuite::ALL[first_rsa..]
            .iter()
            .all(|s| s.signature_algorithm() == SignatureAlgorithm::Rsa));
        assert_eq!(
            CipherSuite::EcdheRsaAes256GcmSha384.prf_hash(),
            HashAlgorithm::Sha384
        );
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_80.keying_material_len(), 60);
    }
}
