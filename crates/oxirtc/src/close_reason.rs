//! Why a connection ended: [`CloseReason`], read with [`crate::Rtc::close_reason`] or from
//! [`crate::RtcEvent::Ended`].

use std::fmt;

use oxirtc_dtls::{AlertDescription, DtlsError};
use oxirtc_ice::IceFailure;
use oxirtc_sctp::ErrorCause;

use crate::PeerConnectionState;

/// What ended a connection and who said so. `Display` is one line for a log or a user, e.g.
/// `DTLS alert from the peer: bad_certificate (42)`. [`CloseReason::state`] is the state the
/// connection ended in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application called [`crate::Rtc::close`].
    Local,
    /// The peer closed DTLS with close_notify (RFC 5246 §7.2.1).
    PeerClosed,
    /// The peer aborted the SCTP association (RFC 9260 §9.1) with these error causes (§3.3.10;
    /// empty when it gave none). A User-Initiated Abort alone is how a WebRTC peer closes.
    PeerAborted(Vec<ErrorCause>),
    /// The peer shut the SCTP association down (RFC 9260 §9.2).
    PeerShutdown,
    /// SCTP gave up here (RFC 9260 §8.1 too many retransmissions, set-up that never completed, a
    /// path MTU below data already sent); the text says which.
    SctpFailed(String),
    /// The peer sent a fatal DTLS alert (RFC 5246 §7.2).
    DtlsAlertReceived(AlertDescription),
    /// DTLS failed here (handshake timeout, a certificate that does not match the peer's
    /// `a=fingerprint`, a message that does not verify); the peer was sent the fatal alert
    /// [`DtlsError::alert`] names, if any (RFC 5246 §7.2.2).
    DtlsFailed(DtlsError),
    /// ICE failed: no candidate pair works, or consent expired (RFC 7675 §5.1).
    IceFailed(IceFailure),
}

impl CloseReason {
    /// The state a connection ended by this is in: [`PeerConnectionState::Closed`] when either
    /// application closed it on purpose (our `close`, the peer's close_notify, a User-Initiated
    /// Abort or SCTP shutdown), [`PeerConnectionState::Failed`] for everything else.
    pub fn state(&self) -> PeerConnectionState {
        match self {
            Self::Local | Self::PeerClosed | Self::PeerShutdown => PeerConnectionState::Closed,
            Self::PeerAborted(causes)
                if !causes.is_empty() && causes.iter().all(ErrorCause::is_user_abort) =>
            {
                PeerConnectionState::Closed
            }
            _ => PeerConnectionState::Failed,
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local => f.write_str("closed by the application"),
            Self::PeerClosed => f.write_str("the peer closed the connection (DTLS close_notify)"),
            Self::PeerAborted(causes) if causes.is_empty() => {
                f.write_str("the peer aborted the SCTP association (no error cause given)")
            }
            Self::PeerAborted(causes) => {
                f.write_str("the peer aborted the SCTP association: ")?;
                for (i, cause) in causes.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{cause}")?;
                }
                Ok(())
            }
            Self::PeerShutdown => f.write_str("the peer shut the SCTP association down"),
            Self::SctpFailed(why) => write!(f, "SCTP gave up: {why}"),
            Self::DtlsAlertReceived(alert) => write!(f, "DTLS alert from the peer: {alert}"),
            Self::DtlsFailed(e) => match e.alert() {
                Some(alert) => write!(f, "DTLS failed: {e}; sent {alert} to the peer"),
                None => write!(f, "DTLS failed: {e}"),
            },
            Self::IceFailed(why) => write!(f, "ICE failed: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_happened_and_who_said_it() {
        let violation = ErrorCause {
            code: 13,
            info: b"bad TSN".to_vec(),
        };
        let user = ErrorCause {
            code: 12,
            info: Vec::new(),
        };
        let cases = [
            (
                CloseReason::PeerAborted(vec![violation]),
                "the peer aborted the SCTP association: Protocol Violation: bad TSN",
                PeerConnectionState::Failed,
            ),
            (
                CloseReason::PeerAborted(vec![user]),
                "the peer aborted the SCTP association: User-Initiated Abort",
                PeerConnectionState::Closed,
            ),
            (
                CloseReason::PeerAborted(Vec::new()),
                "the peer aborted the SCTP association (no error cause given)",
                PeerConnectionState::Failed,
            ),
            (
                CloseReason::DtlsAlertReceived(AlertDescription::BadCertificate),
                "DTLS alert from the peer: bad_certificate (42)",
                PeerConnectionState::Failed,
            ),
            (
                CloseReason::DtlsFailed(DtlsError::Timeout),
                "DTLS failed: the DTLS handshake timed out",
                PeerConnectionState::Failed,
            ),
            (
                CloseReason::IceFailed(IceFailure::ConsentExpiredBeforeNomination {
                    timeout: std::time::Duration::from_secs(30),
                }),
                "ICE failed: consent expired on every valid pair before the nomination (no answer \
                 for 30 s)",
                PeerConnectionState::Failed,
            ),
            (
                CloseReason::Local,
                "closed by the application",
                PeerConnectionState::Closed,
            ),
        ];
        for (reason, text, state) in cases {
            assert_eq!(reason.to_string(), text);
            assert_eq!(reason.state(), state, "{text}");
        }
        let mismatch = CloseReason::DtlsFailed(DtlsError::FingerprintMismatch).to_string();
        assert!(
            mismatch.starts_with("DTLS failed: ")
                && mismatch.ends_with("; sent bad_certificate (42) to the peer"),
            "{mismatch}"
        );
    }
}
