//! `set_local_description` accepts what W3C webrtc-pc §4.4.1.5-6 accepts: nothing (implicit), a type
//! with an empty SDP, and the created SDP give or take what does not change the session; it refuses
//! real munging, saying what differs, and changes nothing then.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::Instant;

use common::{pair, Peer};
use oxirtc::{Description, Rtc, RtcConfig, RtcError, SdpType, SignalingState};
use oxirtc_netsim::LinkConfig;

/// The one real clock read of each test; the calls take it as their argument.
#[allow(clippy::disallowed_methods)]
fn start() -> Instant {
    Instant::now()
}

fn rtc(seed: u8) -> Rtc {
    let now = start();
    let mut rtc = Rtc::new(RtcConfig {
        rng_seed: Some([seed; 32]),
        ..RtcConfig::default()
    })
    .unwrap();
    rtc.add_host_candidate(now, format!("10.0.0.{seed}:5000").parse().unwrap())
        .unwrap();
    rtc
}

fn with_sdp(desc: &Description, sdp: String) -> Description {
    Description {
        sdp_type: desc.sdp_type,
        sdp,
    }
}

/// The `o=` line: its version tells a reused description from a new one (RFC 8829 §5.2.2).
fn origin(sdp: &str) -> &str {
    sdp.lines().find(|l| l.starts_with("o=")).unwrap()
}

#[test]
fn implicit_descriptions_connect_two_peers() {
    let mut sim = pair(7, LinkConfig::default());
    let now = sim.now();
    let id = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "implicit", oxirtc::DataChannelInit::default())
        .unwrap();
    let offer = sim
        .endpoint_mut(0)
        .rtc
        .set_local_description_implicit(now)
        .unwrap();
    assert_eq!(offer.sdp_type, SdpType::Offer);
    assert_eq!(
        sim.endpoint(0).rtc.signaling_state(),
        SignalingState::HaveLocalOffer
    );
    sim.endpoint_mut(1)
        .rtc
        .set_remote_description(now, &offer)
        .unwrap();
    let answer = sim
        .endpoint_mut(1)
        .rtc
        .set_local_description_implicit(now)
        .unwrap();
    assert_eq!(answer.sdp_type, SdpType::Answer);
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
    let open = sim.run_until(
        std::time::Duration::from_secs(30),
        |s: &oxirtc_netsim::Simulation<Peer>| {
            s.endpoint(0).open.contains(&id) && !s.endpoint(1).open.is_empty()
        },
    );
    assert!(open, "the channel did not open with implicit descriptions");
}

#[test]
fn implicit_reuses_the_offer_just_created() {
    let now = start();
    let mut a = rtc(1);
    let offer = a.create_offer(now).unwrap();
    let applied = a.set_local_description_implicit(now).unwrap();
    assert_eq!(applied, offer, "the created offer, not a new one");
}

#[test]
fn an_empty_sdp_means_the_last_created_one_or_a_new_one() {
    let now = start();
    let mut a = rtc(1);
    let offer = a.create_offer(now).unwrap();
    let empty = Description {
        sdp_type: SdpType::Offer,
        sdp: String::new(),
    };
    a.set_local_description(now, &empty).unwrap();
    let local = a.local_description().unwrap();
    assert_eq!(
        origin(&local.sdp),
        origin(&offer.sdp),
        "the created offer was applied"
    );
    // Nothing created yet on B: an empty answer creates one.
    let mut b = rtc(2);
    b.set_remote_description(now, &offer).unwrap();
    let empty_answer = Description {
        sdp_type: SdpType::Answer,
        sdp: String::new(),
    };
    b.set_local_description(now, &empty_answer).unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
    let answer = b.local_description().unwrap();
    assert_eq!(answer.sdp_type, SdpType::Answer);
    a.set_remote_description(now, &answer).unwrap();
}

#[test]
fn line_endings_whitespace_and_candidate_lines_are_not_munging() {
    let now = start();
    let mut a = rtc(1);
    let offer = a.create_offer(now).unwrap();
    assert!(offer.sdp.contains("a=candidate:"), "{}", offer.sdp);
    let lf_no_candidates: String = offer
        .sdp
        .lines()
        .filter(|l| !l.starts_with("a=candidate:"))
        .map(|l| format!("{l}  \n"))
        .collect();
    a.set_local_description(now, &with_sdp(&offer, lf_no_candidates))
        .unwrap();
    assert_eq!(a.signaling_state(), SignalingState::HaveLocalOffer);
    // The applied description is ours, with our candidates.
    assert!(a.local_description().unwrap().sdp.contains("a=candidate:"));
    let mut b = rtc(2);
    b.set_remote_description(now, &offer).unwrap();
    let answer = b.create_answer(now).unwrap();
    let extra_candidate = answer.sdp.replace(
        "a=candidate:",
        "a=candidate:9 1 udp 1 192.0.2.9 9 typ host\r\na=candidate:",
    );
    b.set_local_description(now, &with_sdp(&answer, extra_candidate))
        .unwrap();
    assert_eq!(b.signaling_state(), SignalingState::Stable);
}

#[test]
fn munging_is_refused_with_what_differs_and_changes_nothing() {
    let now = start();
    let mut a = rtc(1);
    let offer = a.create_offer(now).unwrap();
    let munged = offer
        .sdp
        .replace("a=max-message-size:262144", "a=max-message-size:1024");
    assert_ne!(munged, offer.sdp);
    let e = a
        .set_local_description(now, &with_sdp(&offer, munged))
        .unwrap_err();
    assert!(matches!(e, RtcError::DescriptionModified(_)), "{e:?}");
    let text = e.to_string();
    for part in [
        "`a=max-message-size:1024` where the created description has `a=max-message-size:262144`",
        "SDP munging is not supported",
        "apply the offer create_offer returned",
    ] {
        assert!(text.contains(part), "{text}");
    }
    assert_eq!(a.signaling_state(), SignalingState::Stable, "nothing changed");
    assert!(a.local_description().is_none());
    // The offer as created still applies.
    a.set_local_description(now, &offer).unwrap();
}

#[test]
fn an_offer_from_before_an_ice_restart_is_refused_and_implicit_makes_a_new_one() {
    let now = start();
    let mut a = rtc(1);
    let offer = a.create_offer(now).unwrap();
    a.restart_ice(now);
    let e = a.set_local_description(now, &offer).unwrap_err();
    assert!(e.to_string().contains("call create_offer"), "{e}");
    let fresh = a.set_local_description_implicit(now).unwrap();
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find(|l| l.starts_with("a=ice-ufrag:"))
            .unwrap()
            .to_owned()
    };
    assert_ne!(ufrag(&fresh.sdp), ufrag(&offer.sdp), "new ICE credentials");
}

#[test]
fn implicit_in_a_closed_connection_names_the_state() {
    let now = start();
    let mut a = rtc(1);
    a.close(now);
    let e = a.set_local_description_implicit(now).unwrap_err();
    assert!(e.to_string().contains("signaling state Closed"), "{e}");
}
