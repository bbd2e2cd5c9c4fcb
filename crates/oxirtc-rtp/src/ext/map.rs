//! The `a=extmap` table (RFC 8285 §5): local id → kind of extension, built by the caller from the
//! negotiated SDP (SDP parsing lives in `oxirtc-sdp`).

use super::values::{
    AbsCaptureTime, AbsSendTime, AudioLevel, PlayoutDelay, SdesText, TransportCcSeq, VideoOrientation,
};
use super::Extension;
use crate::RtpError;

/// The header extensions this crate knows, each with its `a=extmap` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtensionKind {
    /// Media identification (RFC 8843 §15.2).
    Mid,
    /// RTP stream id (RFC 8852 §3.1, RFC 8851).
    Rid,
    /// Repaired RTP stream id (RFC 8852 §3.2, RFC 8853).
    RepairedRid,
    /// Absolute send time, 6.18 fixed point seconds (webrtc.org abs-send-time).
    AbsSendTime,
    /// Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
    TransportCc,
    /// Client-to-mixer audio level (RFC 6464).
    AudioLevel,
    /// Coordination of video orientation (3GPP TS 26.114 §7.4.5).
    VideoOrientation,
    /// Playout delay limits (webrtc.org playout-delay).
    PlayoutDelay,
    /// Absolute capture time (webrtc.org abs-capture-time).
    AbsCaptureTime,
}

/// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8843 §15.2).
pub const URI_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852 §4.3).
pub const URI_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852 §4.4).
pub const URI_REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// The abs-send-time URI.
pub const URI_ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
/// The transport-wide-cc URI (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
pub const URI_TRANSPORT_CC: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// `urn:ietf:params:rtp-hdrext:ssrc-audio-level` (RFC 6464 §4).
pub const URI_AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// `urn:3gpp:video-orientation` (3GPP TS 26.114).
pub const URI_VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
/// The playout-delay URI.
pub const URI_PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
/// The abs-capture-time URI.
pub const URI_ABS_CAPTURE_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

impl ExtensionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ExtensionKind; 9] = [
        Self::Mid,
        Self::Rid,
        Self::RepairedRid,
        Self::AbsSendTime,
        Self::TransportCc,
        Self::AudioLevel,
        Self::VideoOrientation,
        Self::PlayoutDelay,
        Self::AbsCaptureTime,
    ];

    /// The `a=extmap` URI of this kind.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Mid => URI_MID,
            Self::Rid => URI_RID,
            Self::RepairedRid => URI_REPAIRED_RID,
            Self::AbsSendTime => URI_ABS_SEND_TIME,
            Self::TransportCc => URI_TRANSPORT_CC,
            Self::AudioLevel => URI_AUDIO_LEVEL,
            Self::VideoOrientation => URI_VIDEO_ORIENTATION,
            Self::PlayoutDelay => URI_PLAYOUT_DELAY,
            Self::AbsCaptureTime => URI_ABS_CAPTURE_TIME,
        }
    }

    /// The kind an `a=extmap` URI names; `None` for URIs this crate does not know.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }
}

/// A header extension value parsed according to an [`ExtensionMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionValue<'a> {
    /// See [`ExtensionKind::Mid`].
    Mid(SdesText<'a>),
    /// See [`ExtensionKind::Rid`].
    Rid(SdesText<'a>),
    /// See [`ExtensionKind::RepairedRid`].
    RepairedRid(SdesText<'a>),
    /// See [`ExtensionKind::AbsSendTime`].
    AbsSendTime(AbsSendTime),
    /// See [`ExtensionKind::TransportCc`].
    TransportCc(TransportCcSeq),
    /// See [`ExtensionKind::AudioLevel`].
    AudioLevel(AudioLevel),
    /// See [`ExtensionKind::VideoOrientation`].
    VideoOrientation(VideoOrientation),
    /// See [`ExtensionKind::PlayoutDelay`].
    PlayoutDelay(PlayoutDelay),
    /// See [`ExtensionKind::AbsCaptureTime`].
    AbsCaptureTime(AbsCaptureTime),
}

/// Local extension ids (1-255, RFC 8285 §5) mapped to the kinds negotiated for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    by_id: [Option<ExtensionKind>; 256],
}

impl Default for ExtensionMap {
    fn default() -> Self {
        ExtensionMap { by_id: [None; 256] }
    }
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `id` to the kind `uri` names, as an `a=extmap:<id> <uri>` line says. Returns the kind,
    /// or `Ok(None)` for a URI this crate does not know (nothing is stored; the caller may count it).
    /// Id 0 is reserved (RFC 8285 §5) and is an error.
    pub fn insert_uri(&mut self, id: u8, uri: &str) -> Result<Option<ExtensionKind>, RtpError> {
        match ExtensionKind::from_uri(uri) {
            Some(kind) => self.insert(id, kind).map(|()| Some(kind)),
            None => Ok(None),
        }
    }

    /// Maps `id` to `kind`, replacing whatever `id` mapped to before.
    pub fn insert(&mut self, id: u8, kind: ExtensionKind) -> Result<(), RtpError> {
        if id == 0 {
            return Err(RtpError::BadExtension {
                id,
                len: 0,
                reason: "id 0 is reserved (RFC 8285 §5)",
            });
        }
        self.by_id[usize::from(id)] = Some(kind);
        Ok(())
    }

    /// The kind mapped to `id`.
    pub fn kind(&self, id: u8) -> Option<ExtensionKind> {
        self.by_id[usize::from(id)]
    }

    /// The lowest id mapped to `kind`.
    pub fn id(&self, kind: ExtensionKind) -> Option<u8> {
        // Indices are 0..256, so they fit in a u8.
        self.by_id.iter().position(|k| *k == Some(kind)).map(|i| i as u8)
    }

    /// Parses `ext` as the kind its id maps to. `Ok(None)` means the id is not mapped: an honest
    /// peer may send extensions we did not negotiate, so skip it (and count it if you like).
    pub fn parse<'a>(&self, ext: Extension<'a>) -> Result<Option<ExtensionValue<'a>>, RtpError> {
        let Some(kind) = self.kind(ext.id) else {
            return Ok(None);
        };
        let d = ext.data;
        Ok(Some(match kind {
            ExtensionKind::Mid => ExtensionValue::Mid(SdesText::parse_mid(d)?),
            ExtensionKind::Rid => ExtensionValue::Rid(SdesText::parse_rid(d)?),
            ExtensionKind::RepairedRid => ExtensionValue::RepairedRid(SdesText::parse_rid(d)?),
            ExtensionKind::AbsSendTime => ExtensionValue::AbsSendTime(AbsSendTime::parse(d)?),
            ExtensionKind::TransportCc => ExtensionValue::TransportCc(TransportCcSeq::parse(d)?),
            ExtensionKind::AudioLevel => ExtensionValue::AudioLevel(AudioLevel::parse(d)?),
            ExtensionKind::VideoOrientation => ExtensionValue::VideoOrientation(VideoOrientation::parse(d)?),
            ExtensionKind::PlayoutDelay => ExtensionValue::PlayoutDelay(PlayoutDelay::parse(d)?),
            ExtensionKind::AbsCaptureTime => ExtensionValue::AbsCaptureTime(AbsCaptureTime::parse(d)?),
        }))
    }
}
