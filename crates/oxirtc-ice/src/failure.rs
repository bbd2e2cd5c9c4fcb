//! Why ICE failed (RFC 8445 §8.1.2, RFC 8838 §8, RFC 7675 §5.1), for logs and the application.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// What made the agent fail, read with [`crate::IceAgent::failure`] once the state is
/// [`crate::IceConnectionState::Failed`]. `Display` says it in one line, e.g.
/// `consent expired (no answer for 30 s on 10.0.0.1:5000 -> 10.0.0.2:6000)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceFailure {
    /// Every candidate pair failed its checks (RFC 8445 §8.1.2), and the peer either signalled
    /// end-of-candidates (RFC 8838 §13) or sent no new candidate for `trickle_timeout` (RFC 8838 §8).
    NoWorkingPair {
        /// Pairs that were checked.
        pairs: usize,
        /// `None` when the peer signalled end-of-candidates; else how long it had been quiet.
        trickle_timeout: Option<Duration>,
    },
    /// RFC 7675 §5.1: no authenticated answer on the selected pair for the consent timeout; sending
    /// stopped at once.
    ConsentExpired {
        /// Local side of the pair.
        local: SocketAddr,
        /// Remote side of the pair.
        remote: SocketAddr,
        /// The consent timeout (`IceConfig::consent_timeout`).
        timeout: Duration,
    },
    /// RFC 7675 §5.1 before any pair was selected: consent expired on every valid pair data could
    /// use (RFC 8445 §12.1) while the nomination had not come through.
    ConsentExpiredBeforeNomination {
        /// The consent timeout (`IceConfig::consent_timeout`).
        timeout: Duration,
    },
}

impl fmt::Display for IceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWorkingPair { pairs: 0, .. } => {
                f.write_str("no candidate pair to check (the peer gave no candidate we can reach)")
            }
            Self::NoWorkingPair {
                pairs,
                trickle_timeout: None,
            } => write!(
                f,
                "no candidate pair worked ({pairs} checked; the peer has no more candidates)"
            ),
            Self::NoWorkingPair {
                pairs,
                trickle_timeout: Some(quiet),
            } => write!(
                f,
                "no candidate pair worked ({pairs} checked; no new candidate from the peer for {})",
                Secs(*quiet)
            ),
            Self::ConsentExpired {
                local,
                remote,
                timeout,
            } => write!(
                f,
                "consent expired (no answer for {} on {local} -> {remote})",
                Secs(*timeout)
            ),
            Self::ConsentExpiredBeforeNomination { timeout } => write!(
                f,
                "consent expired on every valid pair before the nomination (no answer for {})",
                Secs(*timeout)
            ),
        }
    }
}

/// `30 s`, or `1500 ms` when not a whole number of seconds.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{} s", self.0.as_secs())
        } else {
            write!(f, "{} ms", self.0.as_millis())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_one_line() {
        let local = "10.0.0.1:5000".parse().unwrap();
        let remote = "10.0.0.2:6000".parse().unwrap();
        let cases = [
            (
                IceFailure::ConsentExpired {
                    local,
                    remote,
                    timeout: Duration::from_secs(30),
                },
                "consent expired (no answer for 30 s on 10.0.0.1:5000 -> 10.0.0.2:6000)",
            ),
            (
                IceFailure::ConsentExpiredBeforeNomination {
                    timeout: Duration::from_millis(2500),
                },
                "consent expired on every valid pair before the nomination (no answer for 2500 ms)",
            ),
            (
                IceFailure::NoWorkingPair {
                    pairs: 3,
                    trickle_timeout: None,
                },
                "no candidate pair worked (3 checked; the peer has no more candidates)",
            ),
            (
                IceFailure::NoWorkingPair {
                    pairs: 2,
                    trickle_timeout: Some(Duration::from_secs(30)),
                },
                "no candidate pair worked (2 checked; no new candidate from the peer for 30 s)",
            ),
            (
                IceFailure::NoWorkingPair {
                    pairs: 0,
                    trickle_timeout: None,
                },
                "no candidate pair to check (the peer gave no candidate we can reach)",
            ),
        ];
        for (failure, text) in cases {
            assert_eq!(failure.to_string(), text);
        }
    }
}
