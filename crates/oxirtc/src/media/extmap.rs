//! RTP header extensions in offer/answer (RFC 8285 §7; RFC 8829 §5.2.1, §5.3.1): the ones oxirtc
//! offers, with their ids, and which of a peer's offered ones an answer keeps.

use super::codec::TrackKind;

/// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8843 §15).
pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852 §3.1).
pub const RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852 §3.2).
pub const REPAIRED_RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// Absolute send time (webrtc.org experiment, 6.18 fixed-point seconds).
pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
/// Transport-wide sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
pub const TRANSPORT_WIDE_CC: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// Client-to-mixer audio level (RFC 6464 §4).
pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// Coordination of video orientation (3GPP TS 26.114 §7.4.5).
pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
/// Playout delay limits (webrtc.org experiment).
pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
/// Absolute capture time (webrtc.org experiment).
pub const ABS_CAPTURE_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/// A negotiated or offered header extension: its id and URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderExtension {
    /// The id used in RTP packets (1-14 in the one-byte form, RFC 8285 §4.2).
    pub id: u8,
    /// The URI that names it.
    pub uri: &'static str,
}

/// The extensions oxirtc offers for a kind, with ids that fit the one-byte form (RFC 8285 §4.2) and
/// are the same for audio and video where both use one, since BUNDLE shares one id space
/// (RFC 8843 §12: an id names the same extension in every bundled section).
pub fn default_extensions(kind: TrackKind) -> Vec<HeaderExtension> {
    let ext = |id, uri| HeaderExtension { id, uri };
    let mut out = vec![ext(1, MID), ext(2, ABS_SEND_TIME), ext(3, TRANSPORT_WIDE_CC)];
    match kind {
        TrackKind::Audio => out.push(ext(4, AUDIO_LEVEL)),
        TrackKind::Video => out.extend([
            ext(5, RTP_STREAM_ID),
            ext(6, REPAIRED_RTP_STREAM_ID),
            ext(7, VIDEO_ORIENTATION),
            ext(8, PLAYOUT_DELAY),
        ]),
    }
    out.push(ext(9, ABS_CAPTURE_TIME));
    out
}

/// The extensions an answer keeps from an offered section: the offered ones we support for this
/// kind, with the offer's ids (RFC 8829 §5.3.1 "for each supported RTP header extension that is
/// present in the offer"; RFC 8285 §7: the answerer keeps the offerer's id). An id beyond 255
/// (RFC 8285 §7's 4096-4351 range for negotiation) or a URI offered twice is not answered.
pub fn answer_extensions<'a>(
    kind: TrackKind,
    offered: impl IntoIterator<Item = (u16, &'a str)>,
) -> Vec<HeaderExtension> {
    let supported = default_extensions(kind);
    let mut out: Vec<HeaderExtension> = Vec::new();
    for (offered_id, uri) in offered {
        let Some(ours) = supported.iter().find(|s| s.uri == uri) else {
            continue;
        };
        let Ok(id) = u8::try_from(offered_id) else {
            continue;
        };
        if out.iter().any(|e| e.uri == ours.uri || e.id == id) {
            continue;
        }
        out.push(HeaderExtension { id, uri: ours.uri });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_sdp::{ExtMap, SessionDescription};

    fn pairs<'a>(e: &'a [ExtMap<'a>]) -> impl Iterator<Item = (u16, &'a str)> + 'a {
        e.iter().map(|e| (e.id, e.uri))
    }

    const CHROME_AV: &str = include_str!("../../tests/fixtures/chromium156_av_offer.sdp");

    #[test]
    fn answering_chromiums_extensions() {
        let sdp = SessionDescription::parse(CHROME_AV).expect("parses");
        let audio = answer_extensions(TrackKind::Audio, pairs(&sdp.media[0].extmaps()));
        let ids: Vec<_> = audio.iter().map(|e| (e.id, e.uri)).collect();
        assert_eq!(
            ids,
            [
                (1, AUDIO_LEVEL),
                (2, ABS_SEND_TIME),
                (3, TRANSPORT_WIDE_CC),
                (4, MID)
            ]
        );
        let video = answer_extensions(TrackKind::Video, pairs(&sdp.media[1].extmaps()));
        let uris: Vec<_> = video.iter().map(|e| e.uri).collect();
        // toffset, video-content-type, video-timing and color-space are not ours.
        assert_eq!(
            uris,
            [
                ABS_SEND_TIME,
                VIDEO_ORIENTATION,
                TRANSPORT_WIDE_CC,
                PLAYOUT_DELAY,
                MID,
                RTP_STREAM_ID,
                REPAIRED_RTP_STREAM_ID
            ]
        );
        assert_eq!(
            video.iter().find(|e| e.uri == RTP_STREAM_ID).map(|e| e.id),
            Some(10)
        );
    }

    #[test]
    fn duplicates_and_large_ids_are_not_answered() {
        let offered = [
            ExtMap {
                id: 1,
                direction: None,
                uri: MID,
                attributes: None,
            },
            ExtMap {
                id: 2,
                direction: None,
                uri: MID,
                attributes: None,
            },
            ExtMap {
                id: 1,
                direction: None,
                uri: ABS_SEND_TIME,
                attributes: None,
            },
            ExtMap {
                id: 4100,
                direction: None,
                uri: TRANSPORT_WIDE_CC,
                attributes: None,
            },
        ];
        assert_eq!(
            answer_extensions(TrackKind::Audio, pairs(&offered)),
            [HeaderExtension { id: 1, uri: MID }]
        );
    }

    #[test]
    fn default_ids_are_one_byte_and_distinct() {
        for kind in [TrackKind::Audio, TrackKind::Video] {
            let ext = default_extensions(kind);
            assert!(ext.iter().all(|e| (1..=14).contains(&e.id)));
            let mut ids: Vec<_> = ext.iter().map(|e| e.id).collect();
            ids.dedup();
            assert_eq!(ids.len(), ext.len());
        }
    }
}
