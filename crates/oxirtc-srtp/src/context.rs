//! The two halves of an SRTP session: a [`SendContext`] that protects what we send with our keys,
//! and a [`ReceiveContext`] that unprotects what the peer sends with its keys (RFC 3711 §3.2).

use oxirtc_crypto::CryptoProvider;

use crate::replay::ReplayWindow;
use crate::streams::SsrcTable;
use crate::transform::Transform;
use crate::{ProtectionProfile, SrtpError};

/// Settings shared by both contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpConfig {
    /// SRTP replay window per SSRC, in packets (RFC 3711 §3.3.2: "MUST be at least 64"); 128 to 32768,
    /// rounded up to a multiple of 64. Default 1024, as libwebrtc. A packet further behind the newest
    /// one is dropped as [`SrtpError::TooOld`].
    pub replay_window: usize,
    /// SRTCP replay window per SSRC, in SRTCP indices; 64 to 32768, rounded up to a multiple of 64.
    /// Default 128.
    pub rtcp_replay_window: usize,
    /// Most SSRCs either context keeps state for (at least 1). Default 1024. A receiver that is full
    /// forgets its least recently used SSRC to make room for a new one that authenticated (counted in
    /// [`ReceiveStats::ssrcs_evicted`]); a sender refuses a new SSRC with
    /// [`SrtpError::TooManySsrcs`] instead, since a forgotten ROC would reuse keystream. Each SSRC costs
    /// about `(replay_window + rtcp_replay_window) / 8` bytes plus some 64 (each window's bitmap rounded up
    /// to a power of two of 64-bit words, so that a packet finds its bit without a division).
    pub max_ssrcs: usize,
    /// Cryptex (RFC 9335), when both ends announced `a=cryptex`: the sender encrypts CSRCs and RFC 8285
    /// header extensions, and the receiver decrypts packets marked 0xC0DE/0xC2DE. Default off.
    pub cryptex: bool,
    /// Lets the sender protect an index it already protected (a retransmission of the very same
    /// packet, as libwebrtc's `allow_repeat_tx`). Off by default: with different bytes under one index
    /// the keystream repeats, and with AES-GCM that also breaks authentication (RFC 7714 §8.4).
    pub allow_repeated_index: bool,
}

impl Default for SrtpConfig {
    fn default() -> Self {
        Self {
            replay_window: 1024,
            rtcp_replay_window: 128,
            max_ssrcs: 1024,
            cryptex: false,
            allow_repeated_index: false,
        }
    }
}

impl SrtpConfig {
    fn validate(&self) -> Result<(), SrtpError> {
        if !(128..=32_768).contains(&self.replay_window) {
            return Err(SrtpError::InvalidConfig(
                "replay_window must be 128 to 32768 packets",
            ));
        }
        if !(64..=32_768).contains(&self.rtcp_replay_window) {
            return Err(SrtpError::InvalidConfig(
                "rtcp_replay_window must be 64 to 32768 packets",
            ));
        }
        if self.max_ssrcs == 0 {
            return Err(SrtpError::InvalidConfig("max_ssrcs must be at least 1"));
        }
        Ok(())
    }
}

/// What a [`ReceiveContext`] accepted and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiveStats {
    /// SRTP packets authenticated and decrypted.
    pub rtp_packets: u64,
    /// SRTCP packets authenticated (and decrypted if encrypted).
    pub rtcp_packets: u64,
    /// Packets too short, not version 2, or with a header running past their end.
    pub malformed: u64,
    /// Packets whose tag did not verify.
    pub auth_failures: u64,
    /// Packets refused by the replay window: seen before, or older than the window.
    pub replayed: u64,
    /// SSRCs forgotten to make room for a new one ([`SrtpConfig::max_ssrcs`]).
    pub ssrcs_evicted: u64,
}

/// A sender's state for one SSRC.
#[derive(Debug)]
pub(crate) struct SendStream {
    /// The SRTP indices protected so far; its newest is the sender's ROC || highest SEQ.
    pub(crate) rtp: ReplayWindow,
    /// The next SRTCP index (RFC 3711 §3.4: starts at zero, incremented after each packet).
    pub(crate) rtcp_next: u32,
}

/// A receiver's state for one SSRC.
#[derive(Debug)]
pub(crate) struct ReceiveStream {
    /// The SRTP replay list; its newest index is ROC || s_l (RFC 3711 §3.3.1).
    pub(crate) rtp: ReplayWindow,
    /// The SRTCP replay list (RFC 3711 §3.4: "a separate Replay List that is specific to SRTCP").
    pub(crate) rtcp: ReplayWindow,
}

/// Protects outgoing RTP and RTCP with the local master key: one per SRTP session and direction.
///
/// Keeps, per SSRC, the ROC and highest sequence number (RFC 3711 §3.3.1), the indices already
/// used (so no keystream is ever used twice) and the SRTCP index.
pub struct SendContext {
    pub(crate) profile: ProtectionProfile,
    pub(crate) transform: Transform,
    pub(crate) config: SrtpConfig,
    pub(crate) streams: SsrcTable<SendStream>,
}

/// Authenticates and decrypts incoming SRTP and SRTCP with the peer's master key.
///
/// Keeps, per SSRC, the ROC and s_l (RFC 3711 §3.3.1) and the SRTP and SRTCP replay windows; all of
/// it changes only after a packet authenticated, so forged or corrupted packets change nothing.
pub struct ReceiveContext {
    pub(crate) profile: ProtectionProfile,
    pub(crate) transform: Transform,
    pub(crate) config: SrtpConfig,
    pub(crate) streams: SsrcTable<ReceiveStream>,
    pub(crate) stats: ReceiveStats,
}

impl std::fmt::Debug for SendContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendContext")
            .field("profile", &self.profile)
            .field("ssrcs", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReceiveContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiveContext")
            .field("profile", &self.profile)
            .field("ssrcs", &self.streams.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl SendContext {
    /// A context that protects with `master_key` and `master_salt` (RFC 3711 §4.3 derives the session
    /// keys). For DTLS-SRTP use [`from_dtls`](crate::from_dtls), which picks our half of the exported
    /// keying material.
    pub fn new(
        crypto: &dyn CryptoProvider,
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        config.validate()?;
        check_master_lengths(profile, master_key, master_salt)?;
        Ok(Self {
            profile,
            transform: Transform::derive(crypto, profile, master_key, master_salt)?,
            config: config.clone(),
            streams: SsrcTable::new(config.max_ssrcs),
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// Most bytes [`protect_rtp`](Self::protect_rtp) adds to a packet: the tag, plus 4 for the empty
    /// extension block cryptex inserts into a packet that has CSRCs and no extension.
    pub fn max_rtp_overhead(&self) -> usize {
        self.profile.rtp_tag_len() + if self.config.cryptex { 4 } else { 0 }
    }

    /// Bytes [`protect_rtcp`](Self::protect_rtcp) adds: the E flag and SRTCP index (4) and the tag.
    pub fn rtcp_overhead(&self) -> usize {
        4 + self.profile.rtcp_tag_len()
    }

    /// The ROC this context has reached for `ssrc` (RFC 3711 §3.3.1), if it sent from it.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let newest = self.streams.peek(ssrc)?.rtp.newest()?;
        Some((newest >> 16) as u32)
    }
}

impl ReceiveContext {
    /// A context that unprotects with the peer's `master_key` and `master_salt`. For DTLS-SRTP use
    /// [`from_dtls`](crate::from_dtls), which picks the peer's half of the exported keying material.
    pub fn new(
        crypto: &dyn CryptoProvider,
        profile: ProtectionProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        config.validate()?;
        check_master_lengths(profile, master_key, master_salt)?;
        Ok(Self {
            profile,
            transform: Transform::derive(crypto, profile, master_key, master_salt)?,
            config: config.clone(),
            streams: SsrcTable::new(config.max_ssrcs),
            stats: ReceiveStats::default(),
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// What was accepted and dropped so far.
    pub fn stats(&self) -> ReceiveStats {
        self.stats
    }

    /// Number of SSRCs with state (at most [`SrtpConfig::max_ssrcs`]).
    pub fn ssrc_count(&self) -> usize {
        self.streams.len()
    }

    /// The ROC estimated for `ssrc` so far (RFC 3711 §3.3.1), once an SRTP packet from it
    /// authenticated.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let newest = self.streams.peek(ssrc)?.rtp.newest()?;
        Some((newest >> 16) as u32)
    }

    /// Forgets `ssrc` (e.g. after an RTCP BYE, RFC 3550 §6.6), freeing its slot; whether it was known.
    /// A later packet from it starts over at ROC 0 with an empty replay window.
    pub fn remove_ssrc(&mut self, ssrc: u32) -> bool {
        self.streams.remove(ssrc)
    }
}

#[cfg(test)]
impl SendContext {
    /// A context over given session keys (the RFC vectors give session keys, not master keys).
    pub(crate) fn with_transform(
        profile: ProtectionProfile,
        transform: Transform,
        config: &SrtpConfig,
    ) -> Self {
        Self {
            profile,
            transform,
            config: config.clone(),
            streams: SsrcTable::new(config.max_ssrcs),
        }
    }
}

#[cfg(test)]
impl ReceiveContext {
    /// A context over given session keys (the RFC vectors give session keys, not master keys).
    pub(crate) fn with_transform(
        profile: ProtectionProfile,
        transform: Transform,
        config: &SrtpConfig,
    ) -> Self {
        Self {
            profile,
            transform,
            config: config.clone(),
            streams: SsrcTable::new(config.max_ssrcs),
            stats: ReceiveStats::default(),
        }
    }
}

fn check_master_lengths(
    profile: ProtectionProfile,
    master_key: &[u8],
    master_salt: &[u8],
) -> Result<(), SrtpError> {
    for (what, expected, got) in [
        ("key", profile.master_key_len(), master_key.len()),
        ("salt", profile.master_salt_len(), master_salt.len()),
    ] {
        if expected != got {
            return Err(SrtpError::MasterKeyLength {
                profile,
                what,
                expected,
                got,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_crypto::default_provider;

    #[test]
    fn contexts_stay_small_whatever_the_profile() {
        // Every connection with media holds one of each; the AES-CM key schedules (about 1.75 KB a
        // label set) live behind a box so that AES-GCM sessions do not carry their size.
        let (send, receive) = (size_of::<SendContext>(), size_of::<ReceiveContext>());
        assert!(
            send <= 256 && receive <= 256,
            "SendContext {send} B, ReceiveContext {receive} B"
        );
    }

    #[test]
    fn config_and_key_lengths_are_checked() {
        let crypto = default_provider();
        let p = ProtectionProfile::AeadAes256Gcm;
        assert!(SendContext::new(crypto, p, &[1; 32], &[2; 12], &SrtpConfig::default()).is_ok());
        assert_eq!(
            ReceiveContext::new(crypto, p, &[1; 16], &[2; 12], &SrtpConfig::default()).unwrap_err(),
            SrtpError::MasterKeyLength {
                profile: p,
                what: "key",
                expected: 32,
                got: 16
            }
        );
        assert!(matches!(
            SendContext::new(crypto, p, &[1; 32], &[2; 14], &SrtpConfig::default()),
            Err(SrtpError::MasterKeyLength { what: "salt", .. })
        ));
        for bad in [
            SrtpConfig {
                replay_window: 64,
                ..SrtpConfig::default()
            },
            SrtpConfig {
                rtcp_replay_window: 40_000,
                ..SrtpConfig::default()
            },
            SrtpConfig {
                max_ssrcs: 0,
                ..SrtpConfig::default()
            },
        ] {
            assert!(matches!(
                ReceiveContext::new(crypto, p, &[1; 32], &[2; 12], &bad),
                Err(SrtpError::InvalidConfig(_))
            ));
        }
    }
}
