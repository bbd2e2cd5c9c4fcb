//! The crate's one error type, grouped by cause (CONTRIBUTING.md convention 8).

use oxirtc_crypto::CryptoError;

use crate::ProtectionProfile;

/// Everything that can go wrong while protecting or unprotecting a packet, or setting up a context.
///
/// Variants are grouped by cause: malformed input from the network, packets that fail authentication
/// or replay protection, and local misuse. An unprotect error never panics and never changes any state:
/// the caller drops the packet (the [`ReceiveContext`](crate::ReceiveContext) has already counted it in
/// its [`ReceiveStats`](crate::ReceiveStats)).
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SrtpError {
    // ---- malformed input (RFC 3550 §5.1, §6.4; RFC 3711 §3.1, §3.4) ----
    /// The packet is shorter than its header plus the SRTP/SRTCP trailer (tag, SRTCP index) need.
    #[error("packet of {len} bytes is shorter than the {needed} its header and SRTP trailer need; drop it")]
    TooShort {
        /// Bytes the header and trailer need at least.
        needed: usize,
        /// Bytes the packet has.
        len: usize,
    },
    /// The version field is not 2 (RFC 3550 §5.1): this is not RTP or RTCP (check the demultiplexer,
    /// RFC 7983).
    #[error("RTP/RTCP version {0} is not 2; the packet is not (S)RTP/(S)RTCP")]
    BadVersion(u8),
    /// The CSRC list or the header extension runs past the end of the packet (RFC 3550 §5.3.1).
    #[error("RTP header of {header_len} bytes (CSRCs and extension) runs past the {available} bytes of the packet")]
    HeaderOverrun {
        /// Length the header announces (fixed part, CSRCs, extension).
        header_len: usize,
        /// Bytes available for it (the packet without its tag).
        available: usize,
    },

    // ---- authentication and replay protection (peer misbehaviour or an attack) ----
    /// The authentication tag does not match (RFC 3711 §4.2 "AUTHENTICATION FAILURE", RFC 7714
    /// §5.3): a corrupted or forged packet, keys that do not match the peer's, or a ROC estimate that is
    /// off because the stream jumped by more than 2^15 packets.
    #[error("authentication failed for SSRC {ssrc:#010x} at index {index}: corrupted, forged, or keyed differently; drop it")]
    AuthFailed {
        /// The packet's SSRC.
        ssrc: u32,
        /// The packet index it was checked at (SRTP: ROC·2^16 + SEQ; SRTCP: the SRTCP index).
        index: u64,
    },
    /// This index was already received and authenticated (RFC 3711 §3.3.2): a replay or a network
    /// duplicate.
    #[error("SSRC {ssrc:#010x} index {index} was already received (replay or duplicate); drop it")]
    Replayed {
        /// The packet's SSRC.
        ssrc: u32,
        /// The repeated index.
        index: u64,
    },
    /// The index is further behind the newest one than the replay window reaches, so it cannot be told
    /// from a replay (RFC 3711 §3.3.2); a larger [`SrtpConfig`](crate::SrtpConfig) window accepts later
    /// packets.
    #[error("SSRC {ssrc:#010x} index {index} is older than the replay window behind {newest}; drop it")]
    TooOld {
        /// The packet's SSRC.
        ssrc: u32,
        /// The packet's index.
        index: u64,
        /// The newest index received so far.
        newest: u64,
    },

    // ---- local misuse ----
    /// The DTLS exporter output has the wrong length for the profile (RFC 5764 §4.2): export
    /// [`ProtectionProfile::keying_material_len`] bytes.
    #[error("{profile} needs {expected} bytes of exported keying material, got {got}")]
    KeyingMaterialLength {
        /// The profile the material was meant for.
        profile: ProtectionProfile,
        /// 2 × (master key + master salt).
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A master key or salt has the wrong length for the profile.
    #[error("{profile} needs a {expected}-byte master {what}, got {got} bytes")]
    MasterKeyLength {
        /// The profile.
        profile: ProtectionProfile,
        /// "key" or "salt".
        what: &'static str,
        /// The length the profile needs.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A configuration value is out of range; the message names the field and its range.
    #[error("invalid SRTP configuration: {0}")]
    InvalidConfig(&'static str),
    /// The output buffer has no room for what protection adds (tag, SRTCP index, cryptex extension
    /// header): give a buffer of at least `needed` bytes.
    #[error("buffer of {capacity} bytes has no room for the protected packet of {needed} bytes")]
    BufferTooSmall {
        /// Bytes the protected packet needs.
        needed: usize,
        /// Bytes the buffer has.
        capacity: usize,
    },
    /// The RTP packet to protect already marks its header extension as cryptex-encrypted (0xC0DE or
    /// 0xC2DE, RFC 9335 §5). Those values are SRTP's to write: hand over the packet with its RFC 8285
    /// profile (0xBEDE or 0x1000) and enable [`SrtpConfig::cryptex`](crate::SrtpConfig) instead.
    #[error("the RTP header extension profile {0:#06x} is reserved for cryptex; send 0xBEDE/0x1000 and enable cryptex")]
    ReservedExtensionProfile(u16),
    /// The sending context already tracks [`SrtpConfig::max_ssrcs`](crate::SrtpConfig) local SSRCs
    /// and forgets none (forgetting one would reuse its keystream, RFC 3711 §9.1): send from fewer SSRCs
    /// or raise the limit.
    #[error("already sending from {max} SSRCs; raise SrtpConfig::max_ssrcs or send from fewer SSRCs")]
    TooManySsrcs {
        /// The configured limit.
        max: usize,
    },
    /// This packet index was already protected for this SSRC, or is older than the sender's window:
    /// protecting different bytes under it would reuse the keystream (RFC 3711 §9.1, RFC 7714 §8.4).
    /// Give each packet a new sequence number, or set `SrtpConfig::allow_repeated_index` to resend the
    /// very same packet.
    #[error("SSRC {ssrc:#010x} index {index} was already protected; use a new sequence number")]
    IndexReused {
        /// The SSRC.
        ssrc: u32,
        /// The index already used.
        index: u64,
    },
    /// The SRTP (2^48) or SRTCP (2^31) index space of this SSRC is used up (RFC 3711 §3.3.1, §9.2):
    /// the session must be rekeyed (a new DTLS handshake).
    #[error("the packet index space of SSRC {ssrc:#010x} is exhausted; rekey the session")]
    IndexExhausted {
        /// The SSRC.
        ssrc: u32,
    },
    /// The crypto backend rejected a key or failed to encrypt.
    #[error("crypto backend: {0}")]
    Crypto(#[from] CryptoError),
}
