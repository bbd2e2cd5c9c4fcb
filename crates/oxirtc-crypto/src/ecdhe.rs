use aws_lc_rs::{agreement, rand::SystemRandom};

use crate::CryptoError;

/// The (EC)DHE groups for TLS 1.2 key exchange (RFC 8422 §5.1.1 NamedCurve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamedGroup {
    /// X25519 (RFC 7748), TLS codepoint 29. Public keys are 32 bytes.
    X25519,
    /// NIST P-256 (secp256r1), TLS codepoint 23. Public keys are 65-byte uncompressed points.
    P256,
    /// NIST P-384 (secp384r1), TLS codepoint 24. Public keys are 97-byte uncompressed points.
    P384,
}

impl NamedGroup {
    /// The TLS NamedCurve / NamedGroup codepoint.
    pub fn codepoint(self) -> u16 {
        match self {
            Self::X25519 => 29,
            Self::P256 => 23,
            Self::P384 => 24,
        }
    }

    /// The group with TLS codepoint `value`, if supported.
    pub fn from_codepoint(value: u16) -> Option<Self> {
        match value {
            29 => Some(Self::X25519),
            23 => Some(Self::P256),
            24 => Some(Self::P384),
            _ => None,
        }
    }

    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            Self::X25519 => &agreement::X25519,
            Self::P256 => &agreement::ECDH_P256,
            Self::P384 => &agreement::ECDH_P384,
        }
    }

    /// The length of a public key on the wire: TLS carries only uncompressed points (RFC 8422 §5.4.1).
    pub fn public_key_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            Self::P256 => 65,
            Self::P384 => 97,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::X25519 => "X25519",
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }
}

/// An ephemeral (EC)DHE private key, used for exactly one key agreement.
#[derive(Debug)]
pub struct EcdhePrivateKey {
    group: NamedGroup,
    key: agreement::EphemeralPrivateKey,
    public: Vec<u8>,
}

impl EcdhePrivateKey {
    /// A fresh key on `group` from the system CSPRNG.
    pub fn generate(group: NamedGroup) -> Result<Self, CryptoError> {
        let err = CryptoError::KeyGeneration(group.name());
        let key = agreement::EphemeralPrivateKey::generate(group.algorithm(), &SystemRandom::new())
            .map_err(|_| err.clone())?;
        let public = key.compute_public_key().map_err(|_| err)?.as_ref().to_vec();
        Ok(Self { group, key, public })
    }

    /// The group this key is on.
    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// The public key to send to the peer (ServerKeyExchange / ClientKeyExchange): 32 bytes for X25519,
    /// an uncompressed point (`04 || X || Y`) for the NIST curves.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// Consumes the key and the peer's public key, returning the shared secret (the TLS pre-master
    /// secret: the X coordinate for NIST curves, RFC 8422 §5.10).
    ///
    /// A malformed peer key, a point not on the curve, or an X25519 result of all zeros is an error.
    pub fn agree(self, peer_public_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let err = CryptoError::InvalidPeerPublicKey(self.group.name());
        // The backend also accepts compressed points and SubjectPublicKeyInfo DER; TLS allows neither.
        let uncompressed = self.group == NamedGroup::X25519 || peer_public_key.first() == Some(&4);
        if peer_public_key.len() != self.group.public_key_len() || !uncompressed {
            return Err(err);
        }
        let peer = agreement::UnparsedPublicKey::new(self.group.algorithm(), peer_public_key);
        agreement::agree_ephemeral(self.key, peer, err.clone(), |secret| {
            if secret.iter().all(|&b| b == 0) {
                Err(err.clone())
            } else {
                Ok(secret.to_vec())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(group: NamedGroup, pub_len: usize, secret_len: usize) {
        let a = EcdhePrivateKey::generate(group).unwrap();
        let b = EcdhePrivateKey::generate(group).unwrap();
        assert_eq!(a.public_key().len(), pub_len);
        let (pa, pb) = (a.public_key().to_vec(), b.public_key().to_vec());
        let sa = a.agree(&pb).unwrap();
        let sb = b.agree(&pa).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.len(), secret_len);
    }

    #[test]
    fn agreements_match() {
        round_trip(NamedGroup::X25519, 32, 32);
        round_trip(NamedGroup::P256, 65, 32);
        round_trip(NamedGroup::P384, 97, 48);
    }

    #[test]
    fn bad_peer_keys_are_errors() {
        for group in [NamedGroup::X25519, NamedGroup::P256, NamedGroup::P384] {
            for bad in [
                &[][..],
                &[4u8; 3][..],
                &[0u8; 32][..],
                &[4u8; 65][..],
                &[4u8; 97][..],
            ] {
                let key = EcdhePrivateKey::generate(group).unwrap();
                assert_eq!(
                    key.agree(bad),
                    Err(CryptoError::InvalidPeerPublicKey(group.name())),
                    "{group:?} {bad:?}"
                );
            }
        }
        // A P-256 point with valid length but off the curve: (1, 1).
        let mut off = [0u8; 65];
        off[0] = 4;
        off[32] = 1;
        off[64] = 1;
        let key = EcdhePrivateKey::generate(NamedGroup::P256).unwrap();
        assert!(key.agree(&off).is_err());
        // Valid keys in encodings TLS does not allow: a compressed point.
        let peer = EcdhePrivateKey::generate(NamedGroup::P256).unwrap();
        let mut compressed = peer.public_key()[..33].to_vec();
        compressed[0] = 2 + (peer.public_key()[64] & 1);
        let key = EcdhePrivateKey::generate(NamedGroup::P256).unwrap();
        assert!(key.agree(&compressed).is_err());
    }

    #[test]
    fn codepoints_round_trip() {
        for g in [NamedGroup::X25519, NamedGroup::P256, NamedGroup::P384] {
            assert_eq!(NamedGroup::from_codepoint(g.codepoint()), Some(g));
        }
        assert_eq!(NamedGroup::from_codepoint(30), None);
    }
}
