//! The crate's one error type.

/// Why a session description could not be parsed. Every variant found inside the text names the
/// 1-based line number where the problem was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The input is longer than [`MAX_SDP_LEN`](crate::MAX_SDP_LEN).
    #[error("SDP is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input contains no lines at all.
    #[error("SDP is empty")]
    Empty,
    /// The bytes of this line are not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// Line number.
        line: usize,
    },
    /// A line is not of the form `<type>=<value>` with a one-character type.
    #[error("line {line}: expected `<type>=<value>`")]
    MissingEquals {
        /// Line number.
        line: usize,
    },
    /// The first line is not a `v=` line (RFC 8866 §5).
    #[error("line {line}: SDP must start with a v= line")]
    VersionNotFirst {
        /// Line number.
        line: usize,
    },
    /// The `v=` value is not `0` (RFC 8866 §5.1).
    #[error("line {line}: unsupported SDP version {value:?}, expected 0")]
    BadVersion {
        /// Line number.
        line: usize,
        /// The value found.
        value: String,
    },
    /// A field of a structured line is missing.
    #[error("line {line}: {kind}= line is missing its {field}")]
    MissingField {
        /// Line number.
        line: usize,
        /// Line type letter.
        kind: char,
        /// Name of the missing field.
        field: &'static str,
    },
    /// A field of a structured line has an invalid value (not a number, out of range, extra text).
    #[error("line {line}: invalid {field} in {kind}= line: {value:?}")]
    InvalidField {
        /// Line number.
        line: usize,
        /// Line type letter.
        kind: char,
        /// Name of the field.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A line type that may appear once per level appeared twice.
    #[error("line {line}: duplicate {kind}= line")]
    Duplicate {
        /// Line number.
        line: usize,
        /// Line type letter.
        kind: char,
    },
    /// A known line type appears where RFC 8866 §5 does not allow it (e.g. `o=` inside a media
    /// section, `r=` before any `t=`).
    #[error("line {line}: {kind}= line is not allowed here")]
    Misplaced {
        /// Line number.
        line: usize,
        /// Line type letter.
        kind: char,
    },
    /// A mandatory session-level line (`o=`, `s=`, `t=`) is absent; `line` is where its absence was
    /// detected (the first `m=` line, or one past the last line).
    #[error("line {line}: missing required {kind}= line")]
    MissingLine {
        /// Line number.
        line: usize,
        /// Line type letter.
        kind: char,
    },
    /// More media sections than [`MAX_MEDIA`](crate::MAX_MEDIA).
    #[error("line {line}: more than {max} media sections")]
    TooManyMedia {
        /// Line number.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// More attributes in one section than [`MAX_ATTRIBUTES`](crate::MAX_ATTRIBUTES).
    #[error("line {line}: more than {max} attributes in one section")]
    TooManyAttributes {
        /// Line number.
        line: usize,
        /// The limit.
        max: usize,
    },
}
