//! The crate's one error type: local misuse only. Nothing the network sends is an error here:
//! feedback that makes no sense is dropped and counted in the statistics.

/// What the estimator or the pacer refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcError {
    /// A configuration value is out of its range; the message names it.
    #[error("invalid congestion-control configuration: {0}")]
    InvalidConfig(&'static str),
}
