use thiserror::Error;

/// Errors the ICE agent returns to its caller. Bad packets from the network are never errors: they are
/// dropped and counted in [`crate::IceStats`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceError {
    // --- malformed input from signaling -------------------------------------------------------------
    /// A remote candidate line could not be parsed.
    #[error("bad ICE candidate ({why}): {line:?}")]
    BadCandidate {
        /// What was wrong.
        why: &'static str,
        /// The offending line (truncated).
        line: String,
    },
    /// Remote ICE credentials break RFC 8445 §5.3 (ufrag 4..=256 ice-chars, password 22..=256 ice-chars).
    #[error("bad remote ICE credentials: {0}")]
    BadCredentials(&'static str),

    // --- the peer asked for too much ------------------------------------------------------------------
    /// The peer sent more candidates than the configured cap; the extra ones are ignored.
    #[error("too many remote candidates (cap {cap}); raise IceConfig::max_remote_candidates if this is legitimate")]
    TooManyCandidates {
        /// The configured cap.
        cap: usize,
    },

    // --- local misuse ---------------------------------------------------------------------------------
    /// A local candidate was added that the agent cannot use (e.g. a server-reflexive candidate whose base
    /// is not a known host candidate, or a non-host candidate in ICE-lite mode).
    #[error("local candidate rejected: {0}")]
    BadLocalCandidate(&'static str),
    /// A remote candidate arrived after end-of-candidates for the current generation (RFC 8838 §13).
    #[error("remote candidate after end-of-candidates; an ICE restart is needed to add candidates")]
    CandidateAfterEnd,
}
