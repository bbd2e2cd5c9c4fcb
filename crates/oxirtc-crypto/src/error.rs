use thiserror::Error;

/// Errors from the crypto provider.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("the system random number generator failed; check that /dev/urandom is readable")]
    RandomUnavailable,
}
