//! Error causes of ABORT and ERROR chunks as the peer sent them (RFC 9260 §3.3.10), read for log
//! lines and for the application: [`ErrorCause`] names each cause and shows its information.

use std::fmt;

use crate::reader::TlvIter;

/// Most causes kept from one chunk: a hostile chunk may carry thousands; the first few say why.
pub const MAX_CAUSES: usize = 4;
/// Most bytes kept of one cause's information (text causes are shown, so kept short).
pub const MAX_INFO: usize = 256;
/// Most characters of cause text shown in one line.
const MAX_TEXT: usize = 200;

/// One error cause (RFC 9260 §3.3.10): its code and cause-specific information (at most
/// [`MAX_INFO`] bytes of it). `Display` gives the RFC's name and what the information says, e.g.
/// `Protocol Violation: too many retransmissions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCause {
    /// The cause code (RFC 9260 §3.3.10 Table 11; [`crate::error_cause`] has the ones oxirtc uses).
    pub code: u16,
    /// The cause-specific information, cut at [`MAX_INFO`] bytes.
    pub info: Vec<u8>,
}

impl ErrorCause {
    /// The causes of an ABORT or ERROR chunk's value: at most [`MAX_CAUSES`]; reading stops at the
    /// first one whose length is wrong (what came before it is kept).
    pub fn parse_all(causes: &[u8]) -> Vec<ErrorCause> {
        TlvIter::new(causes)
            .map_while(Result::ok)
            .take(MAX_CAUSES)
            .map(|t| ErrorCause {
                code: t.ty,
                info: t.value[..t.value.len().min(MAX_INFO)].to_vec(),
            })
            .collect()
    }

    /// The cause's name in RFC 9260 §3.3.10 Table 11, or `None` for a code it does not define.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self.code {
            1 => "Invalid Stream Identifier",
            2 => "Missing Mandatory Parameter",
            3 => "Stale Cookie",
            4 => "Out of Resource",
            5 => "Unresolvable Address",
            6 => "Unrecognized Chunk Type",
            7 => "Invalid Mandatory Parameter",
            8 => "Unrecognized Parameters",
            9 => "No User Data",
            10 => "Cookie Received While Shutting Down",
            11 => "Restart of an Association with New Addresses",
            12 => "User-Initiated Abort",
            13 => "Protocol Violation",
            _ => return None,
        })
    }

    /// The cause is a User-Initiated Abort (RFC 9260 §3.3.10.12): the peer's application closed.
    pub fn is_user_abort(&self) -> bool {
        self.code == crate::param::cause::USER_ABORT
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.info.get(at..at + 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.info.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(name) = self.name() else {
            return write!(f, "error cause {}", self.code);
        };
        f.write_str(name)?;
        match self.code {
            // §3.3.10.1: Stream Identifier, then 16 reserved bits.
            1 => match self.u16_at(0) {
                Some(stream) => write!(f, " (stream {stream})"),
                None => Ok(()),
            },
            // §3.3.10.3: Measure of Staleness in microseconds.
            3 => match self.u32_at(0) {
                Some(us) => write!(f, " (stale by {us} µs)"),
                None => Ok(()),
            },
            // §3.3.10.6: the unrecognized chunk, from its type byte on.
            6 => match self.info.first() {
                Some(ty) => write!(f, " (chunk type {ty})"),
                None => Ok(()),
            },
            // §3.3.10.9: the TSN of the DATA chunk without user data.
            9 => match self.u32_at(0) {
                Some(tsn) => write!(f, " (TSN {tsn})"),
                None => Ok(()),
            },
            // §3.3.10.12 Upper Layer Abort Reason, §3.3.10.13 Additional Information: free text.
            12 | 13 if !self.info.is_empty() => write!(f, ": {}", Text(&self.info)),
            _ => Ok(()),
        }
    }
}

/// The causes of one chunk for a log line or a reason: `cause; cause` or `no error cause`.
pub(crate) fn describe(causes: &[ErrorCause]) -> String {
    if causes.is_empty() {
        return "no error cause given".into();
    }
    causes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Peer-supplied bytes shown as text: invalid UTF-8 replaced, control characters escaped, at most
/// [`MAX_TEXT`] characters, so a log line or a reason stays one short line whatever was sent.
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padding or a C string terminator is not part of the text.
        let text = String::from_utf8_lossy(self.0);
        let text = text.trim_end_matches('\0');
        for (i, c) in text.chars().enumerate() {
            if i == MAX_TEXT {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn causes(list: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, info) in list {
            crate::param::put_cause(&mut out, *code, info);
        }
        out
    }

    #[test]
    fn causes_are_named_with_their_information() {
        let raw = causes(&[
            (13, b"too many retransmissions"),
            (1, &[0, 7, 0, 0]),
            (12, b""),
            (99, b"x"),
        ]);
        let parsed = ErrorCause::parse_all(&raw);
        let shown: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "Protocol Violation: too many retransmissions",
                "Invalid Stream Identifier (stream 7)",
                "User-Initiated Abort",
                "error cause 99",
            ]
        );
        assert!(parsed[2].is_user_abort() && !parsed[0].is_user_abort());
        assert_eq!(describe(&[]), "no error cause given");
        assert_eq!(
            describe(&parsed[..2]),
            "Protocol Violation: too many retransmissions; Invalid Stream Identifier (stream 7)"
        );
    }

    #[test]
    fn hostile_causes_stay_bounded_and_printable() {
        // Many causes, one huge, with control characters and invalid UTF-8: a few kept, each short.
        let long = [b'A'; 1000];
        let mut list: Vec<(u16, &[u8])> = vec![(13, b"line\nbreak\x1b[31m\xff"), (13, &long)];
        list.extend(std::iter::repeat_n((12u16, &b"bye"[..]), 50));
        let parsed = ErrorCause::parse_all(&causes(&list));
        assert_eq!(parsed.len(), MAX_CAUSES);
        assert_eq!(parsed[1].info.len(), MAX_INFO);
        let first = parsed[0].to_string();
        assert_eq!(first, "Protocol Violation: line\\nbreak\\u{1b}[31m\u{fffd}");
        assert!(parsed[1].to_string().chars().count() < MAX_TEXT + 30);
        // A bad length ends reading; the causes before it are kept.
        let mut raw = causes(&[(12, b"ok")]);
        raw.extend_from_slice(&[0, 13, 0, 200, 1]);
        assert_eq!(ErrorCause::parse_all(&raw).len(), 1);
        assert!(ErrorCause::parse_all(&[0, 1]).is_empty());
    }
}
