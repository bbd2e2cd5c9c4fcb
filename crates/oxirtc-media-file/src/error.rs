//! The crate's one error type.

use std::io;

/// The largest frame, packet, NAL unit or access unit this crate reads or writes: 16 MiB.
///
/// A length field in a file is never trusted beyond this: a frame that claims more is an error
/// ([`MediaError::TooLarge`]), so a hostile or corrupt file cannot make a reader allocate without
/// bound. No real WebRTC frame comes near it (a 4K intra frame is a few MiB).
pub const MAX_FRAME_SIZE: usize = 16 * 1024 * 1024;

/// What went wrong while reading or writing a media file.
///
/// Variants are grouped by cause (CONTRIBUTING.md convention 8): the file is malformed (its bytes
/// are wrong: re-record or re-copy it, or it is not the format the reader expects), then local
/// misuse of a writer (fix the caller), then I/O from the underlying reader or writer. Every
/// message names the format, the byte offset in the file when there is one, and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    // ---- Malformed file: the bytes are wrong. ----
    /// The file ended inside a structure: it was cut short (an interrupted copy or recording).
    #[error(
        "{format}: the file ends inside {what} at offset {offset} (needed {needed} more bytes, found {found}); \
         the file is truncated: copy or record it again"
    )]
    Truncated {
        /// The file format ("IVF", "Ogg Opus", "H.264 Annex B", ...).
        format: &'static str,
        /// The structure that was being read.
        what: &'static str,
        /// Byte offset in the file where that structure starts.
        offset: u64,
        /// Bytes the structure needs.
        needed: u64,
        /// Bytes that were there before the end of the file.
        found: u64,
    },
    /// The file does not start with the signature of the format: it is another kind of file.
    #[error(
        "{format}: expected {expected} at offset {offset}, found {found:02x?}; this is not a {format} file"
    )]
    BadSignature {
        /// The file format the reader expected.
        format: &'static str,
        /// The signature expected there.
        expected: &'static str,
        /// Byte offset of the signature.
        offset: u64,
        /// The bytes found instead.
        found: Vec<u8>,
    },
    /// A field holds a value the format forbids.
    #[error("{format}: {what} at offset {offset} is invalid: {reason}")]
    Malformed {
        /// The file format.
        format: &'static str,
        /// The structure or field.
        what: &'static str,
        /// Byte offset of the structure in the file.
        offset: u64,
        /// What was wrong and what was expected.
        reason: String,
    },
    /// A length field claims more than [`MAX_FRAME_SIZE`] (or another stated limit).
    #[error(
        "{format}: {what} at offset {offset} claims {size} bytes, more than the limit of {limit}; \
         the file is corrupt (or not a real-time recording)"
    )]
    TooLarge {
        /// The file format.
        format: &'static str,
        /// The structure whose length was too large.
        what: &'static str,
        /// Byte offset of the structure (or of its length field).
        offset: u64,
        /// The size it claims (or had reached).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An Ogg page's CRC does not match its bytes (RFC 3533 §6): the page is corrupt.
    #[error(
        "Ogg: the page at offset {offset} has CRC {stored:08x} but its bytes give {computed:08x}; \
         the file is corrupt: copy or record it again"
    )]
    BadCrc {
        /// Byte offset of the page.
        offset: u64,
        /// The CRC stored in the page header.
        stored: u32,
        /// The CRC computed over the page.
        computed: u32,
    },
    /// The file is valid but uses a feature this crate does not read.
    #[error("{format}: {what} at offset {offset} is not supported: {reason}")]
    Unsupported {
        /// The file format.
        format: &'static str,
        /// The feature.
        what: &'static str,
        /// Byte offset where it was found.
        offset: u64,
        /// Why, and what would be needed.
        reason: String,
    },

    // ---- Local misuse: a writer was called with something it cannot write. ----
    /// A writer was given a value it cannot write; the message says what to change.
    #[error("{format} writer: {reason}")]
    InvalidInput {
        /// The format being written.
        format: &'static str,
        /// What was wrong with the call and what to do instead.
        reason: String,
    },

    // ---- I/O ----
    /// The underlying reader or writer failed.
    #[error("{format}: I/O error while {action} at offset {offset}: {source}")]
    Io {
        /// The format being read or written.
        format: &'static str,
        /// "reading" or "writing" and what.
        action: &'static str,
        /// Byte offset in the file.
        offset: u64,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = MediaError> = std::result::Result<T, E>;

impl MediaError {
    /// A [`MediaError::Malformed`] with a formatted reason.
    pub(crate) fn malformed(format: &'static str, what: &'static str, offset: u64, reason: String) -> Self {
        MediaError::Malformed {
            format,
            what,
            offset,
            reason,
        }
    }

    /// A [`MediaError::InvalidInput`].
    pub(crate) fn invalid(format: &'static str, reason: String) -> Self {
        MediaError::InvalidInput { format, reason }
    }
}
