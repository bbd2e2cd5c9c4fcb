use oxirtc_crypto::CryptoError;
use thiserror::Error;

use crate::alert::AlertDescription;

/// Everything that can go wrong in a DTLS endpoint, grouped by cause: malformed input, a peer that
/// misbehaved or failed authentication, timeouts, and local misuse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsError {
    // --- malformed input ---
    /// A record or handshake message could not be decoded (RFC 5246 §7.2.2 decode_error).
    #[error("malformed {0}")]
    Malformed(&'static str),

    // --- the peer misbehaved or could not be authenticated ---
    /// A message arrived that the handshake state does not allow (unexpected_message).
    #[error("unexpected handshake message: {0}")]
    UnexpectedMessage(&'static str),
    /// No common parameters, or a required extension missing (handshake_failure).
    #[error("handshake failure: {0}")]
    HandshakeFailure(&'static str),
    /// A field had a value the peer must not send (illegal_parameter).
    #[error("illegal parameter: {0}")]
    IllegalParameter(&'static str),
    /// The peer sent no certificate, or one that cannot be parsed (bad_certificate).
    #[error("bad peer certificate: {0}")]
    BadCertificate(&'static str),
    /// The peer certificate's SHA-256 fingerprint is not the one from SDP (RFC 8122 §5).
    #[error("the peer's certificate does not match the a=fingerprint of its session description")]
    FingerprintMismatch,
    /// A ServerKeyExchange or CertificateVerify signature did not verify (decrypt_error).
    #[error("the peer's handshake signature does not verify")]
    BadSignature,
    /// The peer's Finished verify_data is wrong (decrypt_error, RFC 5246 §7.4.9).
    #[error("the peer's Finished message does not verify")]
    BadFinished,
    /// The peer sent a fatal alert (RFC 5246 §7.2).
    #[error("DTLS alert from the peer: {0}")]
    AlertReceived(AlertDescription),

    // --- time ---
    /// The handshake did not complete within `DtlsConfig::handshake_timeout` (RFC 6347 §4.2.4).
    #[error("the DTLS handshake timed out")]
    Timeout,

    // --- local ---
    /// A crypto operation failed locally (key generation, signing).
    #[error("crypto failure: {0}")]
    Crypto(#[from] CryptoError),
    /// Application data or keying material was requested before the connection is established.
    #[error("the DTLS connection is not established")]
    NotConnected,
    /// Application data larger than a record can carry (2^14 bytes, RFC 6347 §4.1).
    #[error("application data of {0} bytes exceeds the 16384-byte record limit")]
    RecordTooLarge(usize),
    /// An exporter label reserved by RFC 5705 §4 or an output too long was requested.
    #[error("invalid exporter request: {0}")]
    InvalidExporter(&'static str),
    /// The connection was closed (close_notify sent or received).
    #[error("the DTLS connection is closed")]
    Closed,
}

impl DtlsError {
    /// The fatal alert that reports this error to the peer, or `None` when nothing should be sent.
    pub fn alert(&self) -> Option<AlertDescription> {
        Some(match self {
            Self::Malformed(_) => AlertDescription::DecodeError,
            Self::UnexpectedMessage(_) => AlertDescription::UnexpectedMessage,
            Self::HandshakeFailure(_) => AlertDescription::HandshakeFailure,
            Self::IllegalParameter(_) => AlertDescription::IllegalParameter,
            Self::BadCertificate(_) | Self::FingerprintMismatch => AlertDescription::BadCertificate,
            Self::BadSignature | Self::BadFinished => AlertDescription::DecryptError,
            Self::Crypto(_) => AlertDescription::InternalError,
            Self::AlertReceived(_)
            | Self::Timeout
            | Self::NotConnected
            | Self::RecordTooLarge(_)
            | Self::InvalidExporter(_)
            | Self::Closed => return None,
        })
    }
}
