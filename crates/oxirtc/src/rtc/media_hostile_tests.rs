//! Hostile media input at the connection (issue 18): a peer that holds the SRTP keys and sends
//! floods of SSRCs, broken RTCP and sequence jumps. Everything is dropped or bounded and counted,
//! nothing panics, and honest packets keep flowing. (Tag, replay and routing failures are in
//! `media_tests.rs`; malformed headers, lengths and depacketizer abuse in oxirtc-rtp and
//! oxirtc-srtp's own tests.)
#![allow(clippy::unwrap_used)] // test set-up

use super::tests::{answered, receive, srtp, PEER};

#[test]
fn an_ssrc_flood_keeps_the_state_bounded() {
    let (mut rtc, mut peer, now) = answered();
    for i in 0..1000u32 {
        let p = srtp(&mut peer, 10_000 + i, 96, 1, Some("1"));
        assert_eq!(receive(&mut rtc, now, PEER, &p).map(|r| r.1), Some(10_000 + i));
    }
    let session = rtc.media.as_deref().unwrap();
    assert!(
        session.ssrcs.len() <= super::MAX_ROUTED_SSRCS,
        "{}",
        session.ssrcs.len()
    );
    assert!(session.receivers.len() <= 64, "{}", session.receivers.len());
    assert!(session.rx.ssrc_count() <= oxirtc_srtp::SrtpConfig::default().max_ssrcs);
    assert_eq!(rtc.media_stats().inbound.len(), session.receivers.len());
    // An honest stream after the flood still routes.
    let p = srtp(&mut peer, 42, 96, 7, Some("1"));
    assert_eq!(receive(&mut rtc, now, PEER, &p), Some(("1".into(), 42)));
    assert_eq!(rtc.stats().rtp_received, 1001);
}

#[test]
fn rtcp_that_lies_about_its_length_is_counted_and_the_rest_goes_on() {
    let (mut rtc, mut peer, now) = answered();
    // A receiver report whose length field says 40 words: past the end of the datagram.
    let mut lying = vec![0x81, 201, 0, 40, 0, 0, 0, 1];
    lying.extend_from_slice(&[0; 24]);
    peer.protect_rtcp(&mut lying).unwrap();
    // A PLI with a truncated FCI is fine framing-wise but names nothing: counted as unknown-less.
    let local = "127.0.0.1:5000".parse().unwrap();
    rtc.handle_receive(now, PEER.parse().unwrap(), local, &lying);
    assert_eq!(rtc.stats().rtcp_received, 1, "authenticated");
    assert_eq!(rtc.stats().rtcp_malformed, 1, "but not framed");
    // An empty compound after the header: the same.
    let mut short = vec![0x80, 200, 0, 1, 0, 0, 0, 2];
    peer.protect_rtcp(&mut short).unwrap();
    rtc.handle_receive(now, PEER.parse().unwrap(), local, &short);
    assert_eq!(rtc.stats().rtcp_malformed, 2, "an SR without its sender info");
    // The connection goes on: RTP still routes.
    let p = srtp(&mut peer, 111, 96, 1, Some("1"));
    assert_eq!(receive(&mut rtc, now, PEER, &p), Some(("1".into(), 111)));
}

#[test]
fn the_roll_over_counter_follows_the_wrap_and_replays_across_it_are_dropped() {
    let (mut rtc, mut peer, now) = answered();
    let old = srtp(&mut peer, 7, 96, 65_000, Some("1"));
    assert!(receive(&mut rtc, now, PEER, &old).is_some());
    assert!(receive(&mut rtc, now, PEER, &srtp(&mut peer, 7, 96, 65_535, Some("1"))).is_some());
    // RFC 3711 §3.3.1, Appendix A: 100 after 65 535 is the next roll-over (index 2^16 + 100).
    let wrapped = srtp(&mut peer, 7, 96, 100, Some("1"));
    assert!(
        receive(&mut rtc, now, PEER, &wrapped).is_some(),
        "the ROC estimate follows the wrap"
    );
    // The packet from before the wrap, again: a replay (RFC 3711 §3.3.2), dropped and counted.
    assert!(receive(&mut rtc, now, PEER, &old).is_none());
    assert!(receive(&mut rtc, now, PEER, &wrapped).is_none());
    assert_eq!(rtc.stats().srtp_dropped, 2);
    let next = srtp(&mut peer, 7, 96, 101, Some("1"));
    assert!(
        receive(&mut rtc, now, PEER, &next).is_some(),
        "the stream continues"
    );
}
