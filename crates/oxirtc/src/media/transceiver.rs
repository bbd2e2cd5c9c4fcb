//! What the application adds to send media (W3C webrtc-pc §5.4 `RTCRtpTransceiver`, §4.4.1
//! `addTrack` / `addTransceiver`): the handle of a transceiver, its options, and the RTP packets
//! written to it.

use oxirtc_sdp::Direction;

use super::{CodecParameters, TrackKind};

/// One transceiver of an [`crate::Rtc`]: a media section we send and/or receive on. Its mid is
/// known once it is part of a description ([`crate::Rtc::mid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransceiverId(pub(crate) u32);

impl TransceiverId {
    /// The number behind the handle (unique within one connection).
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Options of [`crate::Rtc::add_transceiver`] (W3C `RTCRtpTransceiverInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransceiverInit {
    /// The direction we want (W3C `direction`): `SendRecv` by default.
    pub direction: Direction,
    /// The MediaStream id the remote groups the track under (`a=msid`, RFC 8830 §2); `None`
    /// writes `-` (no stream).
    pub stream_id: Option<String>,
    /// The track id of `a=msid` (the application's name for the track); random when `None`.
    pub track_id: Option<String>,
    /// Codec preferences (W3C `setCodecPreferences`), most preferred first: the codecs offered, or
    /// kept in an answer, are these in this order. Empty: oxirtc's defaults
    /// ([`super::default_audio_codecs`], [`super::default_video_codecs`]).
    pub codecs: Vec<CodecParameters>,
}

impl Default for TransceiverInit {
    fn default() -> Self {
        TransceiverInit {
            direction: Direction::SendRecv,
            stream_id: None,
            track_id: None,
            codecs: Vec::new(),
        }
    }
}

/// An RTP packet the application writes to a transceiver with [`crate::Rtc::write_rtp`]: the
/// connection sets the SSRC, maps the sequence number and timestamp into the stream's own spaces
/// (keeping their gaps and order, so forwarded streams stay intact), adds the negotiated header
/// extensions and protects it with SRTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingRtp<'a> {
    /// A payload type negotiated on the section (see [`crate::Rtc::send_codec`]).
    pub payload_type: u8,
    /// The source's sequence number.
    pub sequence_number: u16,
    /// The source's RTP timestamp (the codec's clock).
    pub timestamp: u32,
    /// The marker bit.
    pub marker: bool,
    /// The payload in the codec's RTP payload format.
    pub payload: &'a [u8],
}

/// Why the peer asked for a keyframe ([`crate::RtcEvent::KeyframeRequest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyframeRequestKind {
    /// Picture Loss Indication (RFC 4585 §6.3.1).
    Pli,
    /// Full Intra Request (RFC 5104 §4.3.1).
    Fir,
}

/// The kind of a transceiver and whether it may send: what [`crate::Rtc::transceivers`] lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransceiverInfo {
    /// The handle.
    pub id: TransceiverId,
    /// Audio or video.
    pub kind: TrackKind,
    /// The section's mid once negotiated (or offered).
    pub mid: Option<String>,
    /// The direction the application asked for.
    pub direction: Direction,
    /// The direction the last applied negotiation settled (W3C `currentDirection`), `None` before.
    pub current_direction: Option<Direction>,
}
