//! Answering audio and video (issue 18, first step): a real Chromium 156 offer with audio, video and
//! a data channel gets an answer that receives both media sections with the codecs and header
//! extensions we share, and keeps the data channel.
#![allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly

use std::time::Instant;

use oxirtc::{Description, Rtc, RtcConfig, SdpType};
use oxirtc_sdp::{Direction, MediaKind, SessionDescription};

const CHROMIUM_AV: &str = include_str!("fixtures/chromium156_av_offer.sdp");

#[allow(clippy::disallowed_methods)] // the one real clock read of a test; nothing here waits on it
fn answer_to(offer: &str) -> Result<SessionDescription, oxirtc::RtcError> {
    let now = Instant::now();
    let mut rtc = Rtc::new(RtcConfig::default()).unwrap();
    rtc.add_host_candidate(now, "127.0.0.1:5000".parse().unwrap())
        .unwrap();
    let offer = Description {
        sdp_type: SdpType::Offer,
        sdp: offer.to_owned(),
    };
    rtc.set_remote_description(now, &offer)?;
    let answer = rtc.create_answer(now)?;
    rtc.set_local_description(now, &answer)?;
    Ok(SessionDescription::parse(&answer.sdp).unwrap())
}

#[test]
fn chromium_audio_video_and_data_offer_is_answered_with_media() {
    let answer = answer_to(CHROMIUM_AV).unwrap();
    assert_eq!(answer.bundle_mids(), Some(vec!["0", "1", "2"]));
    let kinds: Vec<_> = answer.media.iter().map(|m| (m.kind.clone(), m.port)).collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Audio, 9),
            (MediaKind::Video, 9),
            (MediaKind::Application, 9)
        ]
    );
    let audio = answer.section(0).unwrap();
    assert_eq!(audio.direction(), Direction::RecvOnly, "we have nothing to send");
    assert_eq!(audio.media.formats, ["111", "9", "0", "8"]);
    assert_eq!(
        audio
            .rtpmap(111)
            .map(|r| (r.encoding_name, r.clock_rate, r.encoding_params)),
        Some(("opus", 48_000, Some("2")))
    );
    assert!(audio.rtcp_mux() && audio.rtcp_rsize());
    assert!(audio
        .media
        .extmaps()
        .iter()
        .any(|e| e.id == 4 && e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid"));

    let video = answer.section(1).unwrap();
    assert_eq!(video.direction(), Direction::RecvOnly);
    assert_eq!(
        video.media.formats[..2],
        ["96", "97"],
        "VP8 and its RTX first, as offered"
    );
    assert_eq!(video.fmtp(97).map(|f| f.params), Some("apt=96"));
    assert!(video
        .media
        .rtcp_fbs()
        .iter()
        .any(|f| f.applies_to(96) && f.kind == "nack" && f.param == Some("pli")));
    // Main-profile H.264 (116) and VP9 profile 2 (100) are not answered.
    assert!(!video.media.formats.iter().any(|f| f == "116" || f == "100"));
    // Candidates only in the first (tagged) section; credentials in every section.
    assert!(audio.candidates().next().is_some());
    assert!(video.candidates().next().is_none());
    assert_eq!(video.ice_ufrag(), audio.ice_ufrag());
    assert_eq!(answer.section(2).unwrap().sctp_port(), Some(5000));
}

#[test]
fn an_offer_with_media_only_is_answered() {
    // Everything from the data section on removed: audio and video only (a WHIP-style offer).
    let cut = CHROMIUM_AV.find("m=application").unwrap();
    let offer = CHROMIUM_AV[..cut].replace("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1");
    let answer = answer_to(&offer).unwrap();
    assert_eq!(answer.bundle_mids(), Some(vec!["0", "1"]));
    assert_eq!(answer.media.len(), 2);
}

#[test]
fn media_we_cannot_take_is_rejected_and_an_offer_of_only_that_is_refused() {
    // Video with only a codec we do not have, and audio without rtcp-mux: both rejected.
    let offer = CHROMIUM_AV
        .replace("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120", "m=video 9 UDP/TLS/RTP/SAVPF 100 101")
        .replacen("a=rtcp-mux\r\n", "", 1)
        .replacen("a=rtcp-mux\n", "", 1);
    let answer = answer_to(&offer).unwrap();
    let ports: Vec<_> = answer.media.iter().map(|m| m.port).collect();
    assert_eq!(
        ports,
        [0, 0, 9],
        "audio (no rtcp-mux) and video (VP9 profile 2 only) rejected"
    );
    assert_eq!(answer.bundle_mids(), Some(vec!["2"]));

    let cut = offer.find("m=application").unwrap();
    let e = answer_to(&offer[..cut]).unwrap_err();
    assert!(e.to_string().contains("no section oxirtc can use"), "{e}");
}

#[test]
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; nothing here waits on it
fn applying_the_answer_announces_one_track_per_received_section() {
    let now = Instant::now();
    let mut rtc = Rtc::new(RtcConfig::default()).unwrap();
    let offer = Description {
        sdp_type: SdpType::Offer,
        sdp: CHROMIUM_AV.to_owned(),
    };
    rtc.set_remote_description(now, &offer).unwrap();
    let answer = rtc.create_answer(now).unwrap();
    let before: Vec<_> = std::iter::from_fn(|| rtc.poll_event()).collect();
    assert!(
        !before.iter().any(|e| matches!(e, oxirtc::RtcEvent::Track { .. })),
        "{before:?}"
    );
    rtc.set_local_description(now, &answer).unwrap();
    let tracks: Vec<_> = std::iter::from_fn(|| rtc.poll_event())
        .filter_map(|e| match e {
            oxirtc::RtcEvent::Track { mid, kind } => Some((mid, kind)),
            _ => None,
        })
        .collect();
    use oxirtc::media::TrackKind;
    assert_eq!(
        tracks,
        [
            ("0".to_owned(), TrackKind::Audio),
            ("1".to_owned(), TrackKind::Video)
        ]
    );
}
