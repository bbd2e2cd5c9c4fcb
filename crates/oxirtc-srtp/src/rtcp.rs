//! SRTCP packet processing (RFC 3711 §3.4; AES-GCM: RFC 7714 §9), in the caller's buffer.

use crate::context::SendStream;
use crate::header::{rtcp_ssrc, RTCP_CLEAR_LEN};
use crate::replay::ReplayWindow;
use crate::rtp::replay_check;
use crate::transform::Transform;
use crate::{ReceiveContext, SendContext, SrtpError};
use oxirtc_crypto::AEAD_TAG_LEN;

/// The E flag of the SRTCP index word: the packet is encrypted (RFC 3711 §3.4).
const E_FLAG: u32 = 0x8000_0000;
/// SRTCP indices are 31 bits (RFC 3711 §3.4).
const SRTCP_INDEX_LIMIT: u32 = 1 << 31;

impl SendContext {
    /// Protects the RTCP compound packet in `packet` in place: encrypts everything after its first
    /// 8 bytes and appends the E flag with the SRTCP index and the tag (RFC 3711 §3.4; RFC 7714 §9.2
    /// puts the AEAD tag before the index instead).
    ///
    /// Grows `packet` by [`rtcp_overhead`](Self::rtcp_overhead) bytes, allocating only if its
    /// capacity is smaller. On error `packet` is unchanged (short of [`SrtpError::Crypto`], a failure
    /// inside the crypto backend).
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let len = packet.len();
        packet.resize(len + self.rtcp_overhead(), 0);
        match self.protect_rtcp_in(packet, len) {
            Ok(n) => {
                packet.truncate(n);
                Ok(())
            }
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place, for a fixed buffer with room for
    /// [`rtcp_overhead`](Self::rtcp_overhead) more bytes; returns the protected length. On error the
    /// packet is unchanged (short of [`SrtpError::Crypto`]).
    pub fn protect_rtcp_in(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let needed = len + self.rtcp_overhead();
        if buf.len() < needed {
            return Err(SrtpError::BufferTooSmall {
                needed,
                capacity: buf.len(),
            });
        }
        let ssrc = rtcp_ssrc(&buf[..len])?;
        let slot = self.streams.find(ssrc);
        let index = match slot {
            Ok(slot) => self.streams.get(slot).rtcp_next,
            Err(_) if self.streams.is_full() => {
                return Err(SrtpError::TooManySsrcs {
                    max: self.config.max_ssrcs,
                })
            }
            Err(_) => 0,
        };
        // RFC 3711 §3.4 / §9.2: a new master key before the 31-bit index would repeat.
        if index >= SRTCP_INDEX_LIMIT {
            return Err(SrtpError::IndexExhausted { ssrc });
        }
        let word = (E_FLAG | index).to_be_bytes();
        let (packet, trailer) = buf[..needed].split_at_mut(len);
        seal_rtcp(&self.transform, packet, trailer, ssrc, index, word)?;
        let stream = match slot {
            Ok(slot) => self.streams.get_mut(slot),
            Err(_) => {
                let rtp_size = self.config.replay_window;
                self.streams
                    .insert(ssrc, |_| SendStream {
                        rtp: ReplayWindow::new(rtp_size),
                        rtcp_next: 0,
                    })
                    .0
            }
        };
        stream.rtcp_next = index + 1;
        Ok(needed)
    }
}

impl ReceiveContext {
    /// Authenticates the SRTCP packet in `packet` and decrypts it in place if its E flag is set (RFC
    /// 3711 §3.4; RFC 7714 §9.2, §9.3); returns the length of the RTCP compound packet now in
    /// `packet[..len]`.
    ///
    /// The SSRC's SRTCP replay window moves only once the packet authenticated. Every error is counted
    /// in [`stats`](Self::stats); `packet` is unchanged, except after [`SrtpError::AuthFailed`] under
    /// an AEAD profile, where its bytes are unspecified.
    pub fn unprotect_rtcp(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let result = self.unprotect_rtcp_inner(packet);
        if let Err(e) = &result {
            self.count_drop(e);
            tracing::trace!(error = %e, len = packet.len(), "SRTCP packet dropped");
        }
        result
    }

    fn unprotect_rtcp_inner(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtcp_tag_len();
        let plain_len = packet
            .len()
            .checked_sub(4 + tag_len)
            .filter(|&n| n >= RTCP_CLEAR_LEN)
            .ok_or(SrtpError::TooShort {
                needed: RTCP_CLEAR_LEN + 4 + tag_len,
                len: packet.len(),
            })?;
        let ssrc = rtcp_ssrc(packet)?;
        // The E || index word: before the tag for AES-CM (RFC 3711 §3.4), last for AEAD (RFC 7714
        // §9.2).
        let at = if self.profile.is_aead() {
            packet.len() - 4
        } else {
            plain_len
        };
        let word = u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]]);
        let index = word & !E_FLAG;
        let slot = self.streams.find(ssrc);
        if let Ok(slot) = slot {
            replay_check(&self.streams.get(slot).rtcp, ssrc, u64::from(index))?;
        }
        if !open_rtcp(&self.transform, packet, plain_len, ssrc, word) {
            return Err(SrtpError::AuthFailed {
                ssrc,
                index: u64::from(index),
            });
        }
        self.stream_for(slot, ssrc).rtcp.accept(u64::from(index));
        self.stats.rtcp_packets += 1;
        Ok(plain_len)
    }
}

/// Encrypts `packet` after its first 8 octets and writes the trailer: E || index then the truncated
/// HMAC for AES-CM (RFC 3711 §3.4, §4.2), the AEAD tag then E || index for AES-GCM (RFC 7714 §9.2).
fn seal_rtcp(
    transform: &Transform,
    packet: &mut [u8],
    trailer: &mut [u8],
    ssrc: u32,
    index: u32,
    word: [u8; 4],
) -> Result<(), SrtpError> {
    match transform {
        Transform::CmHmac { rtcp, .. } => {
            // RFC 3711 §3.4: encrypt from the ninth octet; authenticate packet || E || index.
            rtcp.apply_keystream(ssrc, u64::from(index), &mut packet[RTCP_CLEAR_LEN..])?;
            trailer[..4].copy_from_slice(&word);
            let tag = rtcp.tag(&[packet, &word]);
            let n = trailer.len() - 4;
            trailer[4..].copy_from_slice(&tag[..n]);
        }
        Transform::Aead { rtcp, .. } => {
            // RFC 7714 §9.2: AAD = first header and SSRC || E || index; cipher, tag, then the word.
            let aad = rtcp_aad(packet, word);
            // The caller sized the trailer for the tag and the word.
            let (tag, rest) = trailer.split_at_mut(AEAD_TAG_LEN);
            let capacity = tag.len();
            let tag: &mut [u8; AEAD_TAG_LEN] = tag.try_into().map_err(|_| SrtpError::BufferTooSmall {
                needed: AEAD_TAG_LEN,
                capacity,
            })?;
            rtcp.seal(
                rtcp.rtcp_nonce(ssrc, index),
                &aad,
                &mut packet[RTCP_CLEAR_LEN..],
                tag,
            )?;
            rest.copy_from_slice(&word);
        }
    }
    Ok(())
}

/// Authenticates the SRTCP packet `packet`, whose RTCP part is `packet[..plain_len]` and whose
/// E || index word is `word`, and decrypts that part in place if E is set. AES-CM checks the HMAC
/// before decrypting (RFC 3711 §3.4); AES-GCM releases nothing unless its tag verifies (RFC 7714 §5.3).
fn open_rtcp(transform: &Transform, packet: &mut [u8], plain_len: usize, ssrc: u32, word: u32) -> bool {
    let (encrypted, index) = (word & E_FLAG != 0, word & !E_FLAG);
    match transform {
        Transform::CmHmac { rtcp, .. } => {
            let (body, tag) = packet.split_at_mut(plain_len + 4);
            rtcp.verify(&[body], tag)
                && (!encrypted
                    || rtcp
                        .apply_keystream(ssrc, u64::from(index), &mut body[RTCP_CLEAR_LEN..plain_len])
                        .is_ok())
        }
        Transform::Aead { rtcp, .. } => {
            let nonce = rtcp.rtcp_nonce(ssrc, index);
            if encrypted {
                // RFC 7714 §9.2: AAD = first 8 octets || ESRTCP word; cipher = the rest but it.
                let aad = rtcp_aad(packet, word.to_be_bytes());
                let end = packet.len() - 4;
                rtcp.open(nonce, &aad, &mut packet[RTCP_CLEAR_LEN..end]).is_some()
            } else {
                // RFC 7714 §9.3: AAD = the whole packet || ESRTCP word, cipher = the tag alone.
                // Move the word in front of the tag so that the AAD is contiguous.
                let end = packet.len();
                packet[plain_len..end].rotate_right(4);
                let (aad, tag) = packet.split_at_mut(plain_len + 4);
                rtcp.open(nonce, aad, tag).is_some()
            }
        }
    }
}

/// RFC 7714 §9.2: the associated data of an encrypted SRTCP packet, its first 8 octets followed by
/// the E flag and SRTCP index.
fn rtcp_aad(packet: &[u8], word: [u8; 4]) -> [u8; 12] {
    let mut aad = [0u8; 12];
    aad[..RTCP_CLEAR_LEN].copy_from_slice(&packet[..RTCP_CLEAR_LEN]);
    aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::SendStream;
    use crate::{ProtectionProfile, SrtpConfig};
    use hex_literal::hex;
    use oxirtc_crypto::AeadAlgorithm;

    // RFC 7714 §17: the RTCP compound (sender report + ...), SSRC 4d617273, SRTCP index 000005d4.
    const PLAIN: [u8; 52] = hex!(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
         deadbeef deadbeef deadbeef deadbeef deadbeef"
    );
    const SALT: [u8; 12] = hex!("517569642070726f2071756f");
    const KEY_128: [u8; 16] = hex!("000102030405060708090a0b0c0d0e0f");
    const KEY_256: [u8; 32] = hex!("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    // §17.1: AEAD_AES_128_GCM encryption and tagging.
    const SEALED_128: [u8; 72] = hex!(
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
         c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4"
    );
    // §17.2: AEAD_AES_256_GCM verification and decryption.
    const SEALED_256: [u8; 72] = hex!(
        "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
         a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4"
    );
    // §17.3 and §17.4: tagged only (E = 0), AES-128 and AES-256.
    const TAGGED_128: [u8; 72] = hex!(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
         deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4"
    );
    const TAGGED_256: [u8; 72] = hex!(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
         deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 ed2615fe 000005d4"
    );

    fn receiver(alg: AeadAlgorithm, key: &[u8]) -> ReceiveContext {
        let profile = match alg {
            AeadAlgorithm::Aes256Gcm => ProtectionProfile::AeadAes256Gcm,
            _ => ProtectionProfile::AeadAes128Gcm,
        };
        let transform = Transform::aead_session(alg, key, SALT);
        ReceiveContext::with_transform(profile, transform, &SrtpConfig::default())
    }

    #[test]
    fn rfc7714_17_1_aes_128_gcm_encryption() {
        let config = SrtpConfig::default();
        let transform = Transform::aead_session(AeadAlgorithm::Aes128Gcm, &KEY_128, SALT);
        let mut tx = SendContext::with_transform(ProtectionProfile::AeadAes128Gcm, transform, &config);
        // The vector's sender is at SRTCP index 0x5d4.
        tx.streams.insert(0x4d61_7273, |_| SendStream {
            rtp: ReplayWindow::new(1024),
            rtcp_next: 0x5d4,
        });
        let mut p = PLAIN.to_vec();
        tx.protect_rtcp(&mut p).unwrap();
        assert_eq!(p, SEALED_128);
        let mut rx = receiver(AeadAlgorithm::Aes128Gcm, &KEY_128);
        let mut p = SEALED_128;
        assert_eq!(rx.unprotect_rtcp(&mut p), Ok(PLAIN.len()));
        assert_eq!(p[..PLAIN.len()], PLAIN);
    }

    #[test]
    fn rfc7714_17_2_to_17_4_decryption_and_tag_verification() {
        for (alg, key, packet) in [
            (AeadAlgorithm::Aes256Gcm, &KEY_256[..], SEALED_256),
            (AeadAlgorithm::Aes128Gcm, &KEY_128[..], TAGGED_128),
            (AeadAlgorithm::Aes256Gcm, &KEY_256[..], TAGGED_256),
        ] {
            let mut rx = receiver(alg, key);
            let mut p = packet;
            assert_eq!(rx.unprotect_rtcp(&mut p), Ok(PLAIN.len()), "{alg:?}");
            assert_eq!(p[..PLAIN.len()], PLAIN);
            // Replayed: refused before authentication.
            let mut p = packet;
            assert_eq!(
                rx.unprotect_rtcp(&mut p),
                Err(SrtpError::Replayed {
                    ssrc: 0x4d61_7273,
                    index: 0x5d4
                })
            );
            // A flipped E flag (it is associated data) or tag bit fails authentication.
            let mut rx = receiver(alg, key);
            for flip in [68, 60, 9] {
                let mut p = packet;
                p[flip] ^= 0x80;
                assert!(
                    matches!(rx.unprotect_rtcp(&mut p), Err(SrtpError::AuthFailed { .. })),
                    "{alg:?} byte {flip}"
                );
            }
            assert_eq!((rx.stats().auth_failures, rx.stats().rtcp_packets), (3, 0));
        }
    }
}
