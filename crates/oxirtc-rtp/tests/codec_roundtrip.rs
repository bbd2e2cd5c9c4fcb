//! Packetize → depacketize round trips for every codec (random frames, MTU 1200 and random), and
//! arbitrary payloads never panic any depacketizer.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer, AudioPacketizer};
use oxirtc_rtp::codec::av1::{Av1Depacketizer, Av1Packetizer};
use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Packetizer, PacketizationMode};
use oxirtc_rtp::codec::h265::{H265Depacketizer, H265Packetizer};
use oxirtc_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
use oxirtc_rtp::codec::vp9::{Vp9Depacketizer, Vp9Packetizer};
use oxirtc_rtp::codec::{Depacketizer, FrameStart, Packetizer, Payloads};
use proptest::prelude::*;

/// Packetizes `frame`, checks sizes and markers, depacketizes and returns the rebuilt frame.
fn round_trip(
    p: &mut impl Packetizer,
    d: &mut impl Depacketizer,
    frame: &[u8],
    mtu: usize,
    video: bool,
) -> Vec<u8> {
    let mut out = Payloads::new();
    p.packetize(frame, mtu, &mut out).unwrap();
    assert!(!out.is_empty());
    let mut rebuilt = Vec::new();
    for (i, (payload, marker)) in out.iter().enumerate() {
        assert!(
            payload.len() <= mtu,
            "payload {i} of {} bytes above {mtu}",
            payload.len()
        );
        assert_eq!(marker, video && i + 1 == out.len(), "marker on payload {i}");
        let info = d.depacketize(payload, &mut rebuilt).unwrap();
        if i == 0 {
            assert_ne!(
                info.start,
                FrameStart::Continues,
                "the first payload begins the frame"
            );
        }
    }
    d.finish_frame(&mut rebuilt).unwrap();
    rebuilt
}

fn annex_b(nals: &[Vec<u8>]) -> Vec<u8> {
    nals.iter()
        .flat_map(|n| [0, 0, 0, 1].into_iter().chain(n.iter().copied()))
        .collect()
}

/// NAL bodies without zero bytes, so they hold no start code.
fn body(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..max)
}

fn h264_nal(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (1u8..=23, 0u8..4, body(max)).prop_map(|(t, nri, b)| [vec![nri << 5 | t], b].concat())
}

fn h265_nal(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (0u8..48, 0u8..64, 1u8..8, body(max))
        .prop_map(|(t, layer, tid, b)| [vec![t << 1 | layer >> 5, (layer & 0x1f) << 3 | tid], b].concat())
}

/// AV1 OBUs with size fields: type (not a temporal delimiter or tile list), optional extension.
fn av1_obu() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![1u8, 3, 4, 5, 6, 7, 15]),
        prop::option::of(any::<u8>()),
        prop::collection::vec(any::<u8>(), 0..3000),
    )
        .prop_map(|(t, ext, payload)| {
            let mut o = vec![t << 3 | u8::from(ext.is_some()) << 2 | 0x02];
            o.extend(ext);
            let mut n = payload.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                o.push(if n == 0 { b } else { b | 0x80 });
                if n == 0 {
                    break;
                }
            }
            o.extend(payload);
            o
        })
}

fn mtu() -> impl Strategy<Value = usize> {
    prop_oneof![Just(1200usize), 20usize..1500]
}

proptest! {
    #[test]
    fn h264_mode_1(nals in prop::collection::vec(h264_nal(4000), 1..6), mtu in mtu()) {
        let au = annex_b(&nals);
        let got = round_trip(&mut H264Packetizer::default(), &mut H264Depacketizer, &au, mtu, true);
        prop_assert_eq!(got, au);
    }

    #[test]
    fn h264_mode_0(nals in prop::collection::vec(h264_nal(1199), 1..6)) {
        let au = annex_b(&nals);
        let mut p = H264Packetizer::new(PacketizationMode::SingleNal);
        let got = round_trip(&mut p, &mut H264Depacketizer, &au, 1200, true);
        prop_assert_eq!(got, au);
    }

    #[test]
    fn h264_accepts_three_byte_start_codes(nals in prop::collection::vec(h264_nal(2000), 1..4)) {
        let au3: Vec<u8> = nals.iter().flat_map(|n| [0, 0, 1].into_iter().chain(n.iter().copied())).collect();
        let got = round_trip(&mut H264Packetizer::default(), &mut H264Depacketizer, &au3, 1200, true);
        prop_assert_eq!(got, annex_b(&nals));
    }

    #[test]
    fn h265(nals in prop::collection::vec(h265_nal(4000), 1..6), mtu in mtu()) {
        let au = annex_b(&nals);
        let got = round_trip(&mut H265Packetizer, &mut H265Depacketizer, &au, mtu, true);
        prop_assert_eq!(got, au);
    }

    #[test]
    fn vp8(frame in prop::collection::vec(any::<u8>(), 1..6000), mtu in mtu(), pid in prop::option::of(any::<u16>())) {
        let got = round_trip(&mut Vp8Packetizer::new(pid), &mut Vp8Depacketizer, &frame, mtu, true);
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn vp9(frame in prop::collection::vec(any::<u8>(), 1..6000), mtu in mtu(), pid in any::<u16>()) {
        let got = round_trip(&mut Vp9Packetizer::new(pid), &mut Vp9Depacketizer, &frame, mtu, true);
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn av1(obus in prop::collection::vec(av1_obu(), 1..5), mtu in mtu(), td in any::<bool>()) {
        let tu: Vec<u8> = obus.concat();
        // A temporal delimiter in front is dropped on the way.
        let sent = if td { [vec![0x12, 0x00], tu.clone()].concat() } else { tu.clone() };
        let got = round_trip(&mut Av1Packetizer, &mut Av1Depacketizer::default(), &sent, mtu, true);
        prop_assert_eq!(got, tu);
    }

    #[test]
    fn opus(rest in prop::collection::vec(any::<u8>(), 0..1199), toc in any::<u8>()) {
        // Code 3 needs a count byte; keep to codes 0-2 with the drawn config.
        let frame = [vec![toc & !0x03 | (toc & 0x01)], rest].concat();
        let got = round_trip(&mut AudioPacketizer::new(AudioCodec::Opus), &mut AudioDepacketizer::new(AudioCodec::Opus), &frame, 1200, false);
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn g711_and_g722(frame in prop::collection::vec(any::<u8>(), 1..3000), mtu in 1usize..1500, which in 0usize..3) {
        let codec = [AudioCodec::Pcmu, AudioCodec::Pcma, AudioCodec::G722][which];
        let got = round_trip(&mut AudioPacketizer::new(codec), &mut AudioDepacketizer::new(codec), &frame, mtu, false);
        prop_assert_eq!(got, frame);
    }

    #[test]
    fn arbitrary_payloads_never_panic_and_leave_the_output_alone_on_error(payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut out = vec![7u8; 3];
        macro_rules! each {
            ($($d:expr),*) => {$(
                let mut d = $d;
                let before = out.len();
                match d.depacketize(&payload, &mut out) {
                    Ok(_) => { let _ = d.finish_frame(&mut out); out.truncate(3); }
                    Err(_) => prop_assert_eq!(out.len(), before),
                }
            )*};
        }
        each!(H264Depacketizer, H265Depacketizer, Vp8Depacketizer, Vp9Depacketizer, Av1Depacketizer::default(),
              AudioDepacketizer::new(AudioCodec::Opus), AudioDepacketizer::new(AudioCodec::Pcmu));
    }
}

#[test]
fn packetizers_refuse_what_they_cannot_send() {
    let mut out = Payloads::new();
    assert!(
        H264Packetizer::default()
            .packetize(&[1, 2, 3], 1200, &mut out)
            .is_err(),
        "no start code"
    );
    assert!(
        H264Packetizer::default()
            .packetize(&[0, 0, 1, 0x78, 1], 1200, &mut out)
            .is_err(),
        "STAP-A inside"
    );
    assert!(
        H264Packetizer::default()
            .packetize(&[0, 0, 1, 0x65], 2, &mut out)
            .is_err(),
        "MTU below 3"
    );
    assert!(
        H265Packetizer
            .packetize(&[0, 0, 1, 0x60, 1, 2], 1200, &mut out)
            .is_err(),
        "AP inside"
    );
    assert!(Vp8Packetizer::new(None).packetize(&[], 1200, &mut out).is_err());
    assert!(Vp9Packetizer::new(0).packetize(&[], 1200, &mut out).is_err());
    assert!(
        Av1Packetizer.packetize(&[0x12, 0x00], 1200, &mut out).is_err(),
        "only a temporal delimiter"
    );
    assert!(
        Av1Packetizer.packetize(&[0x32, 0x05, 1], 1200, &mut out).is_err(),
        "OBU size past the end"
    );
    assert!(AudioPacketizer::new(AudioCodec::Opus)
        .packetize(&[], 1200, &mut out)
        .is_err());
    assert!(out.is_empty());
}
