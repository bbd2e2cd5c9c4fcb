//! Codec offer/answer: which offered codecs an answer keeps (RFC 3264 §6.1, RFC 8829 §5.3.1),
//! when two payload types are the same configuration (RFC 6184 §8.2.2 for H.264, the codecs'
//! payload-format RFCs for the rest), and which codec to send (RFC 8829 §5.11).

use super::codec::{CodecParameters, Feedback};
use super::h264_profile;

/// Whether `a` and `b` describe the same media format configuration, so one may answer the other
/// with the offer's payload type: same encoding name (case-insensitive), clock rate and channels,
/// and the same value of each parameter that identifies a configuration:
/// - H.264: `packetization-mode` (default 0) and the sub-profile of `profile-level-id`; the level
///   may differ (RFC 6184 §8.2.2).
/// - VP9: `profile-id` (default 0, RFC 9628 §6).
/// - AV1: `profile` (default 0, AV1 RTP payload format §7.2).
/// - H.265: `profile-id` (default 1) and `tier-flag` (default 0) (RFC 7798 §7.2.2).
///
/// Other parameters (Opus's `useinbandfec`, `minptime`...) are declarative and do not prevent a
/// match.
pub fn same_configuration(a: &CodecParameters, b: &CodecParameters) -> bool {
    let (a, b) = (&a.codec, &b.codec);
    if a.kind != b.kind || !a.is(&b.name) || a.clock_rate != b.clock_rate || a.channels != b.channels {
        return false;
    }
    let same = |key: &str, default: &str| {
        a.param(key)
            .unwrap_or(default)
            .eq_ignore_ascii_case(b.param(key).unwrap_or(default))
    };
    if a.is("H264") {
        same("packetization-mode", "0")
            && h264_profile::same_profile(a.param("profile-level-id"), b.param("profile-level-id"))
    } else if a.is("VP9") {
        same("profile-id", "0")
    } else if a.is("AV1") {
        same("profile", "0")
    } else if a.is("H265") {
        same("profile-id", "1") && same("tier-flag", "0")
    } else {
        true
    }
}

/// The codecs of an answer to `offered` (one media section's, in offer order) given the codecs we
/// support (`supported`):
/// - every offered codec that has the same configuration as one of ours, with the offer's payload
///   type and `a=fmtp` line (RFC 6184 §8.2.2: an answer reuses an offered payload type only for
///   exactly that configuration), in the offer's order (RFC 3264 §6.1 lets the answerer keep it);
/// - its feedback: what both list (RFC 8829 §5.3.1: "for each supported RTCP feedback mechanism
///   that is present in the offer");
/// - RTX only if the offer pairs one with it and we use RTX for that codec (RFC 8829 §5.3.1,
///   RFC 4588 §8.1), with the offer's RTX payload type.
///
/// An empty result means no common codec: the section is rejected (RFC 3264 §6).
pub fn answer_codecs(offered: &[CodecParameters], supported: &[CodecParameters]) -> Vec<CodecParameters> {
    offered
        .iter()
        .filter_map(|theirs| {
            let ours = supported.iter().find(|ours| same_configuration(ours, theirs))?;
            Some(CodecParameters {
                payload_type: theirs.payload_type,
                codec: theirs.codec.clone(),
                feedback: common_feedback(&theirs.feedback, &ours.feedback),
                rtx_payload_type: theirs
                    .rtx_payload_type
                    .filter(|_| ours.rtx_payload_type.is_some()),
            })
        })
        .collect()
}

/// The codec to send with, from the remote description's codecs (its preference order): the first
/// one we support, with the remote's payload type (RFC 8829 §5.11: "the most preferred media format
/// from the remote description that is also locally supported"; the payload type mapping from the
/// remote description). `None` when nothing is common.
pub fn send_codec<'a>(
    remote: &'a [CodecParameters],
    supported: &[CodecParameters],
) -> Option<&'a CodecParameters> {
    remote
        .iter()
        .find(|theirs| supported.iter().any(|ours| same_configuration(ours, theirs)))
}

fn common_feedback(theirs: &[Feedback], ours: &[Feedback]) -> Vec<Feedback> {
    theirs
        .iter()
        .filter(|f| {
            ours.iter()
                .any(|o| o.kind.eq_ignore_ascii_case(&f.kind) && o.param == f.param)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::codec::{
        codecs_in_section, default_audio_codecs, default_video_codecs, Codec, TrackKind,
    };
    use oxirtc_sdp::SessionDescription;

    const CHROME_AV: &str = include_str!("../../tests/fixtures/chromium156_av_offer.sdp");

    fn video(name: &str, fmtp: Option<&str>, pt: u8) -> CodecParameters {
        CodecParameters {
            payload_type: pt,
            codec: Codec {
                kind: TrackKind::Video,
                name: name.into(),
                clock_rate: 90_000,
                channels: 1,
                fmtp: fmtp.map(String::from),
            },
            feedback: Vec::new(),
            rtx_payload_type: None,
        }
    }

    #[test]
    fn h264_configurations() {
        let cb1 = video("H264", Some("packetization-mode=1;profile-level-id=42e01f"), 102);
        // Level differs, name case differs: same configuration (RFC 6184 §8.2.2).
        assert!(same_configuration(
            &cb1,
            &video("h264", Some("profile-level-id=42E034;packetization-mode=1"), 1)
        ));
        // Mode 0 (also the default) is another configuration.
        assert!(!same_configuration(
            &cb1,
            &video("H264", Some("packetization-mode=0;profile-level-id=42e01f"), 1)
        ));
        assert!(!same_configuration(
            &cb1,
            &video("H264", Some("profile-level-id=42e01f"), 1)
        ));
        // Baseline is not Constrained Baseline; Main is neither.
        assert!(!same_configuration(
            &cb1,
            &video("H264", Some("packetization-mode=1;profile-level-id=42001f"), 1)
        ));
        assert!(!same_configuration(
            &cb1,
            &video("H264", Some("packetization-mode=1;profile-level-id=4d001f"), 1)
        ));
    }

    #[test]
    fn profile_parameters_of_vp9_av1_h265() {
        assert!(same_configuration(
            &video("VP9", None, 1),
            &video("VP9", Some("profile-id=0"), 2)
        ));
        assert!(!same_configuration(
            &video("VP9", None, 1),
            &video("VP9", Some("profile-id=2"), 2)
        ));
        assert!(same_configuration(
            &video("AV1", Some("profile=0;level-idx=5"), 1),
            &video("AV1", None, 2)
        ));
        assert!(!same_configuration(
            &video("AV1", Some("profile=1"), 1),
            &video("AV1", None, 2)
        ));
        assert!(!same_configuration(
            &video("H265", Some("profile-id=2"), 1),
            &video("H265", None, 2)
        ));
        assert!(!same_configuration(
            &video("VP8", None, 1),
            &video("VP9", None, 2)
        ));
    }

    #[test]
    fn answering_chromiums_offer() {
        let sdp = SessionDescription::parse(CHROME_AV).expect("parses");
        let audio = answer_codecs(&codecs_in_section(&sdp.media[0]), &default_audio_codecs());
        let pts: Vec<_> = audio.iter().map(|c| c.payload_type).collect();
        assert_eq!(pts, [111, 9, 0, 8]);
        assert_eq!(
            audio[0].feedback,
            [Feedback {
                kind: "transport-cc".into(),
                param: None
            }]
        );

        let offered = codecs_in_section(&sdp.media[1]);
        let answer = answer_codecs(&offered, &default_video_codecs());
        let got: Vec<_> = answer
            .iter()
            .map(|c| (c.payload_type, c.codec.name.as_str(), c.rtx_payload_type))
            .collect();
        // Not ours: Chromium's Baseline H.264 in mode 0 (104), Main profile (116, 39), VP9 profile 2 (100).
        assert_eq!(
            got,
            [
                (96, "VP8", Some(97)),
                (102, "H264", Some(103)),
                (108, "H264", Some(109)),
                (114, "H264", Some(115)),
                (45, "AV1", Some(46)),
                (98, "VP9", Some(99)),
            ]
        );
        // The offer's fmtp line is answered as offered (RFC 6184 §8.2.2).
        assert_eq!(
            answer[1].codec.fmtp.as_deref(),
            Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f")
        );
        assert_eq!(answer[0].feedback.len(), 5);
        assert_eq!(
            send_codec(&offered, &default_video_codecs()).map(|c| c.payload_type),
            Some(96)
        );
    }

    #[test]
    fn feedback_and_rtx_are_intersections() {
        let mut theirs = video("VP8", None, 120);
        theirs.feedback = vec![
            Feedback {
                kind: "nack".into(),
                param: None,
            },
            Feedback {
                kind: "nack".into(),
                param: Some("sli".into()),
            },
            Feedback {
                kind: "ack".into(),
                param: Some("rpsi".into()),
            },
        ];
        theirs.rtx_payload_type = Some(121);
        let answer = answer_codecs(&[theirs.clone()], &default_video_codecs());
        assert_eq!(
            answer[0].feedback,
            [Feedback {
                kind: "nack".into(),
                param: None
            }]
        );
        assert_eq!(answer[0].rtx_payload_type, Some(121));
        let mut no_rtx = default_video_codecs();
        no_rtx.iter_mut().for_each(|c| c.rtx_payload_type = None);
        assert_eq!(answer_codecs(&[theirs], &no_rtx)[0].rtx_payload_type, None);
        // Nothing in common: empty (the section is rejected).
        assert!(answer_codecs(&[video("MP4V-ES", None, 122)], &default_video_codecs()).is_empty());
        assert!(send_codec(&[video("MP4V-ES", None, 122)], &default_video_codecs()).is_none());
    }
}
