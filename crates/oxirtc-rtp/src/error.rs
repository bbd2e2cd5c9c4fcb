//! The crate's one error type.

/// What went wrong while parsing, writing, packetizing or depacketizing.
///
/// Variants are grouped by cause (CONTRIBUTING.md convention 8): malformed input from the network
/// (drop the packet and count it), then local misuse of a writer (fix the caller).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    // ---- Malformed input: the packet came from the network; drop it and count it. ----
    /// The input ended before a field the format requires.
    #[error("{what} is truncated: needs {needed} bytes, has {available}")]
    Truncated {
        /// The structure that was being read.
        what: &'static str,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
    /// The version field is not 2 (RFC 3550 §5.1, §6.4.1): not RTP/RTCP, or from a broken sender.
    #[error("{what} has version {version}, only version 2 exists; drop the packet")]
    BadVersion {
        /// The structure whose version was wrong.
        what: &'static str,
        /// The version bits found.
        version: u8,
    },
    /// The padding bit is set but the pad count is zero or longer than what follows the header
    /// (RFC 3550 §5.1, §6.4.1).
    #[error(
        "{what} claims {count} bytes of padding but only {available} bytes can be padding; drop the packet"
    )]
    BadPadding {
        /// The structure whose padding was wrong.
        what: &'static str,
        /// The pad count in the last byte.
        count: usize,
        /// Bytes after the header that could be padding.
        available: usize,
    },
    /// A length or count field disagrees with the bytes present.
    #[error("{what}: {reason}; drop the packet")]
    Malformed {
        /// The structure that was being read.
        what: &'static str,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// Bytes were left after a structure that must end the input.
    #[error("{what} is followed by {count} unexpected bytes; drop the packet")]
    TrailingBytes {
        /// The structure that should have ended the input.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },

    // ---- Local misuse: a writer was given values it cannot encode; fix the caller. ----
    /// A header extension cannot be written as given (RFC 8285 §4.2, §4.3).
    #[error("header extension id {id} with {len} bytes cannot be written: {reason}")]
    BadExtension {
        /// The extension's local identifier.
        id: u8,
        /// Its data length.
        len: usize,
        /// Why not, and what would fix it.
        reason: &'static str,
    },
    /// A value does not fit the field that carries it.
    #[error("{what} is {value}, above its field's maximum {max}")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the field holds.
        max: u64,
    },
    /// More items than the format can carry in one packet.
    #[error("{what}: {count} items given, at most {max} fit in one packet; split them")]
    TooMany {
        /// The list.
        what: &'static str,
        /// Items given.
        count: usize,
        /// Items that fit.
        max: usize,
    },
    /// The caller's output slice is too short.
    #[error("output buffer too small: needs {needed} bytes, has {available}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },

    // Codec and frame assembly errors
    /// A payload (or a frame given to a packetizer) breaks its format's rules; the packet should be
    /// dropped and counted.
    #[error("malformed {what}: {detail}")]
    MalformedPayload {
        /// The structure that was being read, e.g. "H.264 FU-A".
        what: &'static str,
        /// The rule that was broken.
        detail: &'static str,
    },
    /// The payload uses a feature this crate does not depacketize (e.g. H.264 interleaved mode).
    #[error("unsupported {what}: {detail}; negotiate a mode without it")]
    UnsupportedPayload {
        /// The structure that was being read.
        what: &'static str,
        /// What is not supported.
        detail: &'static str,
    },
    /// A unit that the format cannot split does not fit the maximum payload size.
    #[error("{what} of {size} bytes does not fit a payload of at most {max} bytes; raise the maximum payload size or use a packetization mode that fragments")]
    TooLargeForPayload {
        /// What did not fit, e.g. "H.264 NAL unit (packetization-mode 0)".
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The maximum payload size given.
        max: usize,
    },
    /// The maximum payload size cannot hold even the codec's headers and one byte of data.
    #[error("maximum payload size {max} is too small for {what}: use at least {needed} bytes")]
    MaxPayloadTooSmall {
        /// The codec.
        what: &'static str,
        /// The smallest usable maximum payload size.
        needed: usize,
        /// The value given.
        max: usize,
    },
    /// An assembled frame, or one packet's share of it, is above the builder's size bound; the
    /// frame is dropped and counted.
    #[error("frame of at least {size} bytes is above the limit of {max} bytes; raise SampleBuilderConfig::max_frame_bytes if such frames are expected")]
    FrameTooLarge {
        /// Bytes the frame had reached.
        size: usize,
        /// The configured limit.
        max: usize,
    },
}
