//! The crate's one error type.

/// What went wrong while parsing, writing, packetizing or depacketizing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
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
