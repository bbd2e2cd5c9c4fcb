//! Alert protocol (RFC 5246 §7.2).

/// Alert level (RFC 5246 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    /// warning(1)
    Warning,
    /// fatal(2)
    Fatal,
}

/// Alert descriptions oxirtc sends or recognises (RFC 5246 §7.2, RFC 5746 §3.6 `no_renegotiation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlertDescription {
    /// close_notify(0)
    CloseNotify,
    /// unexpected_message(10)
    UnexpectedMessage,
    /// bad_record_mac(20)
    BadRecordMac,
    /// handshake_failure(40)
    HandshakeFailure,
    /// bad_certificate(42)
    BadCertificate,
    /// unsupported_certificate(43)
    UnsupportedCertificate,
    /// certificate_unknown(46)
    CertificateUnknown,
    /// illegal_parameter(47)
    IllegalParameter,
    /// decode_error(50)
    DecodeError,
    /// decrypt_error(51)
    DecryptError,
    /// protocol_version(70)
    ProtocolVersion,
    /// insufficient_security(71)
    InsufficientSecurity,
    /// internal_error(80)
    InternalError,
    /// user_canceled(90)
    UserCanceled,
    /// no_renegotiation(100)
    NoRenegotiation,
    /// unsupported_extension(110)
    UnsupportedExtension,
    /// Any other code.
    Other(u8),
}

impl AlertDescription {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Self::CloseNotify => 0,
            Self::UnexpectedMessage => 10,
            Self::BadRecordMac => 20,
            Self::HandshakeFailure => 40,
            Self::BadCertificate => 42,
            Self::UnsupportedCertificate => 43,
            Self::CertificateUnknown => 46,
            Self::IllegalParameter => 47,
            Self::DecodeError => 50,
            Self::DecryptError => 51,
            Self::ProtocolVersion => 70,
            Self::InsufficientSecurity => 71,
            Self::InternalError => 80,
            Self::UserCanceled => 90,
            Self::NoRenegotiation => 100,
            Self::UnsupportedExtension => 110,
            Self::Other(c) => c,
        }
    }

    /// The description with wire code `code`.
    pub fn from_code(code: u8) -> Self {
        [
            Self::CloseNotify,
            Self::UnexpectedMessage,
            Self::BadRecordMac,
            Self::HandshakeFailure,
            Self::BadCertificate,
            Self::UnsupportedCertificate,
            Self::CertificateUnknown,
            Self::IllegalParameter,
            Self::DecodeError,
            Self::DecryptError,
            Self::ProtocolVersion,
            Self::InsufficientSecurity,
            Self::InternalError,
            Self::UserCanceled,
            Self::NoRenegotiation,
            Self::UnsupportedExtension,
        ]
        .into_iter()
        .find(|d| d.code() == code)
        .unwrap_or(Self::Other(code))
    }
}

impl AlertDescription {
    /// The name RFC 5246 §7.2 gives it (`bad_certificate`), or `None` for a code it does not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::CloseNotify => "close_notify",
            Self::UnexpectedMessage => "unexpected_message",
            Self::BadRecordMac => "bad_record_mac",
            Self::HandshakeFailure => "handshake_failure",
            Self::BadCertificate => "bad_certificate",
            Self::UnsupportedCertificate => "unsupported_certificate",
            Self::CertificateUnknown => "certificate_unknown",
            Self::IllegalParameter => "illegal_parameter",
            Self::DecodeError => "decode_error",
            Self::DecryptError => "decrypt_error",
            Self::ProtocolVersion => "protocol_version",
            Self::InsufficientSecurity => "insufficient_security",
            Self::InternalError => "internal_error",
            Self::UserCanceled => "user_canceled",
            Self::NoRenegotiation => "no_renegotiation",
            Self::UnsupportedExtension => "unsupported_extension",
            Self::Other(_) => return None,
        })
    }
}

/// `bad_certificate (42)`: the RFC 5246 §7.2 name and the wire code; `alert 113` for others.
impl std::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.code()),
            None => write!(f, "alert {}", self.code()),
        }
    }
}

/// One alert message: `struct { AlertLevel level; AlertDescription description; }` (RFC 5246 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Warning or fatal.
    pub level: AlertLevel,
    /// What happened.
    pub description: AlertDescription,
}

impl Alert {
    /// Parses the two-byte alert body; anything else is malformed.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let [level, desc] = body else { return None };
        let level = match level {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            _ => return None,
        };
        Some(Self {
            level,
            description: AlertDescription::from_code(*desc),
        })
    }

    /// The two-byte wire form.
    pub fn encode(&self) -> [u8; 2] {
        let level = match self.level {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
        };
        [level, self.description.code()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..=255u8 {
            assert_eq!(AlertDescription::from_code(code).code(), code);
        }
        let a = Alert {
            level: AlertLevel::Fatal,
            description: AlertDescription::BadCertificate,
        };
        assert_eq!(a.encode(), [2, 42]);
        assert_eq!(Alert::parse(&a.encode()), Some(a));
        assert_eq!(Alert::parse(&[3, 0]), None);
        assert_eq!(Alert::parse(&[1]), None);
        assert_eq!(Alert::parse(&[1, 0, 0]), None);
    }

    #[test]
    fn descriptions_show_their_rfc_name_and_code() {
        assert_eq!(
            AlertDescription::BadCertificate.to_string(),
            "bad_certificate (42)"
        );
        assert_eq!(
            AlertDescription::from_code(40).to_string(),
            "handshake_failure (40)"
        );
        assert_eq!(AlertDescription::from_code(113).to_string(), "alert 113");
        for code in 0..=255u8 {
            let d = AlertDescription::from_code(code);
            assert_eq!(d.name().is_some(), !matches!(d, AlertDescription::Other(_)));
        }
    }
}
