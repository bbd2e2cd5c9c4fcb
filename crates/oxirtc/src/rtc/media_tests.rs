//! Unit tests of the media receive path, and the set-up the hostile-input tests share.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // test set-up; one real clock read

use std::net::SocketAddr;
use std::time::Instant;

use oxirtc_crypto::default_provider;
use oxirtc_rtp::ext::Extension;
use oxirtc_rtp::packet::{RtpHeader, Ssrc};
use oxirtc_srtp::{from_dtls, DtlsRole, ProtectionProfile, SendContext, SrtpConfig};

use crate::{Description, Rtc, RtcConfig, RtcEvent, SdpType};

const CHROMIUM_AV: &str = include_str!("../../tests/fixtures/chromium156_av_offer.sdp");
pub(super) const PEER: &str = "127.0.0.1:50000";
/// The fixture's a=ssrc of its video section (announced: routes without a MID).
const ANNOUNCED_VIDEO_SSRC: u32 = 4_268_756_295;
/// The MID extension's id in the fixture (and so in our answer).
pub(super) const MID_EXT: u8 = 4;

/// An Rtc that answered Chromium's audio+video+data offer, with SRTP keyed as if DTLS had
/// agreed AEAD_AES_128_GCM, and the peer's SRTP sender.
pub(super) fn answered() -> (Rtc, SendContext, Instant) {
    let now = Instant::now();
    let mut rtc = Rtc::new(RtcConfig::default()).unwrap();
    let offer = Description {
        sdp_type: SdpType::Offer,
        sdp: CHROMIUM_AV.to_owned(),
    };
    rtc.set_remote_description(now, &offer).unwrap();
    let answer = rtc.create_answer(now).unwrap();
    rtc.set_local_description(now, &answer).unwrap();
    rtc.add_remote_candidate(now, "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host")
        .unwrap();
    let material = [7u8; 56];
    let profile = ProtectionProfile::AeadAes128Gcm;
    let config = SrtpConfig::default();
    // We answered with a=setup:active: the DTLS client; Chromium is the server.
    let (tx, rx) = from_dtls(default_provider(), profile, &material, DtlsRole::Client, &config).unwrap();
    let (peer_tx, _) = from_dtls(default_provider(), profile, &material, DtlsRole::Server, &config).unwrap();
    rtc.install_media(tx, rx);
    while rtc.poll_event().is_some() {}
    (rtc, peer_tx, now)
}

pub(super) fn srtp(peer: &mut SendContext, ssrc: u32, pt: u8, seq: u16, mid: Option<&str>) -> Vec<u8> {
    let ext = mid.map(|m| Extension {
        id: MID_EXT,
        data: m.as_bytes(),
    });
    let extensions: Vec<Extension<'_>> = ext.into_iter().collect();
    let header = RtpHeader {
        payload_type: pt,
        sequence_number: seq,
        timestamp: 90 * u32::from(seq),
        ssrc: Ssrc(ssrc),
        extensions: &extensions,
        ..RtpHeader::default()
    };
    let mut packet = Vec::with_capacity(1500);
    header.write(b"frame", 0, &mut packet).unwrap();
    peer.protect_rtp(&mut packet).unwrap();
    packet
}

pub(super) fn receive(rtc: &mut Rtc, now: Instant, from: &str, datagram: &[u8]) -> Option<(String, u32)> {
    let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    rtc.handle_receive(now, from.parse().unwrap(), local, datagram);
    std::iter::from_fn(|| rtc.poll_event()).find_map(|e| match e {
        RtcEvent::Rtp(rtp) => Some((rtp.mid, rtp.ssrc)),
        _ => None,
    })
}

#[test]
fn rtp_is_routed_by_mid_then_ssrc_then_payload_type() {
    let (mut rtc, mut peer, now) = answered();
    // RFC 8843 §9.2: the MID extension names the section, and teaches the SSRC.
    let p = srtp(&mut peer, 111, 96, 1, Some("1"));
    assert_eq!(receive(&mut rtc, now, PEER, &p), Some(("1".into(), 111)));
    // Payload type 50 is in no section: only the SSRC can route the next two.
    let p = srtp(&mut peer, 111, 50, 2, None);
    assert_eq!(
        receive(&mut rtc, now, PEER, &p),
        Some(("1".into(), 111)),
        "learned SSRC"
    );
    // An SSRC the remote description announced needs no MID.
    let p = srtp(&mut peer, ANNOUNCED_VIDEO_SSRC, 50, 1, None);
    assert_eq!(
        receive(&mut rtc, now, PEER, &p),
        Some(("1".into(), ANNOUNCED_VIDEO_SSRC))
    );
    // An unknown SSRC without MID: a payload type only one section has (Opus 111: audio).
    let p = srtp(&mut peer, 222, 111, 1, None);
    assert_eq!(receive(&mut rtc, now, PEER, &p), Some(("0".into(), 222)));
    assert_eq!(rtc.stats().rtp_received, 4);
    assert_eq!(rtc.stats().rtp_unroutable, 0);
}

#[test]
fn what_cannot_be_routed_or_authenticated_is_dropped_and_counted() {
    let (mut rtc, mut peer, now) = answered();
    // A payload type no section negotiated, an unknown SSRC, no MID.
    let p = srtp(&mut peer, 333, 50, 1, None);
    assert_eq!(receive(&mut rtc, now, PEER, &p), None);
    // A MID that names no section of ours.
    let p = srtp(&mut peer, 444, 96, 1, Some("9"));
    assert_eq!(receive(&mut rtc, now, PEER, &p), None);
    assert_eq!(rtc.stats().rtp_unroutable, 2);
    // Tampered, then replayed.
    let mut p = srtp(&mut peer, 111, 96, 1, Some("1"));
    let good = p.clone();
    let last = p.len() - 1;
    p[last] ^= 1;
    assert_eq!(receive(&mut rtc, now, PEER, &p), None);
    assert_eq!(receive(&mut rtc, now, PEER, &good), Some(("1".into(), 111)));
    assert_eq!(receive(&mut rtc, now, PEER, &good), None);
    assert_eq!(rtc.stats().srtp_dropped, 2);
    // From an address ICE does not know: not even decrypted.
    let p = srtp(&mut peer, 111, 96, 2, Some("1"));
    let dropped = rtc.stats().dropped_datagrams;
    assert_eq!(receive(&mut rtc, now, "127.0.0.1:40000", &p), None);
    assert_eq!(rtc.stats().dropped_datagrams, dropped + 1);
    assert_eq!(rtc.stats().rtp_received, 1);
}

/// Every connection carries an `Rtc`; the media state (SRTP contexts, streams, RTCP schedule)
/// only exists boxed, once media flows. With `MediaSession` inline (7.3 KB then, when the SRTP
/// contexts held their AES-CM keys inline) an idle data-only connection of the bench grew by about
/// 6 KiB; the contexts are at most 256 B each since, and the session is still several hundred.
#[test]
fn a_connection_without_media_does_not_carry_the_srtp_state() {
    let rtc = std::mem::size_of::<crate::Rtc>();
    let session = std::mem::size_of::<super::MediaSession>();
    assert!(
        session > 512,
        "MediaSession is {session} B: if it got small, the box may go"
    );
    assert_eq!(std::mem::size_of::<Option<Box<super::MediaSession>>>(), 8);
    assert!(rtc < 7 * 1024, "Rtc is {rtc} B (6144 B when this was written)");
}
