//! The SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) and their parameters.

use std::fmt;

/// An SRTP protection profile: cipher, key and salt lengths and tag lengths, as negotiated by
/// DTLS-SRTP's use_srtp extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtectionProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001): AES-128 counter mode, HMAC-SHA1 tags of 80 bits.
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002): as _80, but 32-bit SRTP tags (SRTCP tags stay 80 bits).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007): AES-128-GCM, 16-byte tags (RFC 7714).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008): AES-256-GCM, 16-byte tags (RFC 7714).
    AeadAes256Gcm,
}

impl ProtectionProfile {
    /// Every profile this crate implements.
    pub const ALL: [Self; 4] = [
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
        Self::Aes128CmHmacSha1_80,
        Self::Aes128CmHmacSha1_32,
    ];

    /// The IANA `SRTPProtectionProfile` codepoint (RFC 5764 §4.1.2, RFC 7714 §14.2).
    pub fn codepoint(self) -> u16 {
        match self {
            Self::Aes128CmHmacSha1_80 => 0x0001,
            Self::Aes128CmHmacSha1_32 => 0x0002,
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile with codepoint `value`, if this crate implements it.
    pub fn from_codepoint(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.codepoint() == value)
    }

    /// Master key length in bytes (RFC 5764 §4.1.2: 128 bits; RFC 7714 §12: 128 or 256 bits).
    pub fn master_key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes (RFC 5764 §4.1.2: 112 bits; RFC 7714 §12: 96 bits).
    pub fn master_salt_len(self) -> usize {
        if self.is_aead() {
            12
        } else {
            14
        }
    }

    /// Bytes to ask the DTLS exporter for: 2 × (key + salt) (RFC 5764 §4.2).
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// Bytes of authentication tag on an SRTP packet: 10 or 4 (HMAC-SHA1 truncated, RFC 5764 §4.1.2),
    /// 16 (the AEAD tag, RFC 7714 §10).
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 => 10,
            Self::Aes128CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Bytes of authentication tag on an SRTCP packet: 10 for both HMAC-SHA1 profiles (RFC 5764
    /// §4.1.2, "RTCP auth_tag_length: 80"), 16 for AEAD.
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() {
            16
        } else {
            10
        }
    }

    /// Whether the profile is an AEAD (AES-GCM, RFC 7714) rather than AES-CM with HMAC-SHA1.
    pub fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }
}

impl fmt::Display for ProtectionProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            Self::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepoints_round_trip_and_lengths_match_the_rfcs() {
        for p in ProtectionProfile::ALL {
            assert_eq!(ProtectionProfile::from_codepoint(p.codepoint()), Some(p));
        }
        assert_eq!(ProtectionProfile::from_codepoint(0x0005), None); // NULL cipher: not offered
                                                                     // RFC 5764 §4.2 / RFC 7714 §14.2: 2 × (key + salt).
        assert_eq!(ProtectionProfile::Aes128CmHmacSha1_80.keying_material_len(), 60);
        assert_eq!(ProtectionProfile::Aes128CmHmacSha1_32.keying_material_len(), 60);
        assert_eq!(ProtectionProfile::AeadAes128Gcm.keying_material_len(), 56);
        assert_eq!(ProtectionProfile::AeadAes256Gcm.keying_material_len(), 88);
        assert_eq!(ProtectionProfile::Aes128CmHmacSha1_32.rtp_tag_len(), 4);
        assert_eq!(ProtectionProfile::Aes128CmHmacSha1_32.rtcp_tag_len(), 10);
    }
}
