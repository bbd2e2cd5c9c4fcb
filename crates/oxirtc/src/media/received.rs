//! What arrives: an RTP packet decrypted and routed to its media section.

/// An RTP packet the peer sent on a negotiated audio or video section, authenticated and decrypted
/// (SRTP, RFC 3711) and routed to its section (RFC 8843 §9.2). Payloads are the codec's payload
/// format as sent (see `oxirtc_rtp::codec` to depacketize); RTX packets (RFC 4588) come with their
/// own payload type, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedRtp {
    /// The media section (its `a=mid`).
    pub mid: String,
    /// The RtpStreamId (RFC 8852 §3.1) when the packet carries one (simulcast layers).
    pub rid: Option<String>,
    /// Synchronization source.
    pub ssrc: u32,
    /// Payload type (map it to a codec with the section's negotiated codecs).
    pub payload_type: u8,
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp (the codec's clock).
    pub timestamp: u32,
    /// Marker bit (end of a video frame, start of a talkspurt).
    pub marker: bool,
    /// The payload, without padding.
    pub payload: Vec<u8>,
}
