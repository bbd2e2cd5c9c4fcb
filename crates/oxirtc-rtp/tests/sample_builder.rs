//! SampleBuilder behaviour: order, wrap, loss bounds, keyframe requests, memory bounds, counters;
//! and a property test over packetized streams with reordering, duplication and loss.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer, AudioPacketizer};
use oxirtc_rtp::codec::av1::{Av1Depacketizer, Av1Packetizer};
use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Packetizer};
use oxirtc_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
use oxirtc_rtp::codec::{CodecInfo, Depacketizer, Packetizer, Payloads};
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};
use oxirtc_rtp::RtpError;
use proptest::prelude::*;

/// One RTP packet as the builder takes it.
#[derive(Debug, Clone)]
struct Pkt {
    seq: u16,
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
}

/// Packetizes `frames` with sequence numbers from `seq0` and timestamps 3000 apart.
fn packetize(p: &mut impl Packetizer, frames: &[Vec<u8>], mtu: usize, seq0: u16, ts0: u32) -> Vec<Pkt> {
    let mut out = Payloads::new();
    let mut pkts = Vec::new();
    let mut seq = seq0;
    for (i, f) in frames.iter().enumerate() {
        p.packetize(f, mtu, &mut out).unwrap();
        for (payload, marker) in out.iter() {
            let ts = ts0.wrapping_add(3000 * i as u32);
            pkts.push(Pkt {
                seq,
                ts,
                marker,
                payload: payload.to_vec(),
            });
            seq = seq.wrapping_add(1);
        }
    }
    pkts
}

/// VP8 frames: the first a keyframe (P=0), the others interframes (P=1), of `len` bytes.
fn vp8_frames(n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            (0..len)
                .map(|j| {
                    if j == 0 {
                        u8::from(i != 0)
                    } else {
                        (i * 7 + j) as u8
                    }
                })
                .collect()
        })
        .collect()
}

/// Feeds packets and drains frames after each; returns (timestamp, keyframe, data) per frame.
fn run<D: Depacketizer>(b: &mut SampleBuilder<D>, pkts: &[Pkt]) -> Vec<(u32, bool, Vec<u8>)> {
    let mut got = Vec::new();
    for p in pkts {
        let _ = b.handle_packet(p.seq, p.ts, p.marker, &p.payload);
        while let Some(f) = b.poll_frame() {
            got.push((f.timestamp, f.keyframe, f.data.to_vec()));
        }
    }
    got
}

#[test]
fn in_order_frames_across_the_sequence_wrap() {
    let frames = vp8_frames(20, 3000);
    let pkts = packetize(
        &mut Vp8Packetizer::new(Some(0x7ffe)),
        &frames,
        1200,
        65_530,
        u32::MAX - 10_000,
    );
    let mut b = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    assert!(b.needs_keyframe(), "no keyframe seen yet");
    let got = run(&mut b, &pkts);
    assert_eq!(got.len(), 20);
    for (i, (ts, key, data)) in got.iter().enumerate() {
        assert_eq!(*ts, (u32::MAX - 10_000).wrapping_add(3000 * i as u32));
        assert_eq!(*key, i == 0);
        assert_eq!(data, &frames[i]);
    }
    assert!(!b.needs_keyframe());
    assert_eq!(b.stats().frames, 20);
}

#[test]
fn codec_info_of_the_first_payload_comes_with_the_frame() {
    let frames = vp8_frames(2, 10);
    let pkts = packetize(&mut Vp8Packetizer::new(Some(0x7fff)), &frames, 1200, 0, 0);
    let mut b = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    let mut ids = Vec::new();
    for p in &pkts {
        b.handle_packet(p.seq, p.ts, p.marker, &p.payload).unwrap();
        while let Some(f) = b.poll_frame() {
            let CodecInfo::Vp8(d) = f.info.codec else {
                panic!("not VP8")
            };
            ids.push(d.picture_id.map(|p| p.value()));
        }
    }
    assert_eq!(ids, vec![Some(0x7fff), Some(0)]);
}

#[test]
fn reordered_packets_are_put_back_in_order() {
    let frames = vp8_frames(4, 2500);
    let pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 100, 0);
    // Three packets per frame; each frame's last packet comes first, then the frame before's
    // middle one, and frame 0's first packet after its second.
    let order = [1, 0, 5, 2, 4, 3, 8, 6, 11, 7, 10, 9];
    let pkts: Vec<Pkt> = order.iter().map(|&i| pkts[i].clone()).collect();
    let mut b = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    let got = run(&mut b, &pkts);
    assert_eq!(got.into_iter().map(|g| g.2).collect::<Vec<_>>(), frames);
    assert_eq!(b.stats().packets_late, 0);
}

#[test]
fn a_stream_joined_mid_frame_drops_the_partial_frame_after_the_bound() {
    let frames = vp8_frames(6, 2000);
    let pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 0, 0);
    let config = SampleBuilderConfig {
        max_late_packets: 3,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    // The first packet received is the second half of frame 0; nothing is missing after it.
    let got = run(&mut b, &pkts[1..]);
    assert_eq!(
        got.into_iter().map(|g| g.2).collect::<Vec<_>>(),
        frames[1..].to_vec()
    );
    assert_eq!(b.stats().frames_incomplete, 1);
}

#[test]
fn a_malformed_packet_before_the_first_does_not_move_the_start() {
    let frames = vp8_frames(3, 100);
    let pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 10, 0);
    let mut b = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    b.handle_packet(pkts[0].seq, pkts[0].ts, pkts[0].marker, &pkts[0].payload)
        .unwrap();
    assert!(b.handle_packet(5, 0, false, &[0x90]).is_err());
    let got = run(&mut b, &pkts[1..]);
    assert_eq!(
        got.len(),
        3,
        "frames 0, 1 and 2: the refused packet 5 did not become the start"
    );
    assert_eq!(b.stats().frames_incomplete, 0);
}

#[test]
fn held_bytes_are_bounded() {
    let frames = vp8_frames(40, 1000);
    let mut pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 0, 0);
    pkts.remove(3);
    let config = SampleBuilderConfig {
        max_late_packets: u16::MAX,
        max_held_bytes: 10_000,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    let got = run(&mut b, &pkts);
    // Frames 4.. wait behind the gap until ten of them no longer fit in 10 000 bytes.
    assert_eq!(got.len(), 39);
    assert_eq!(b.stats().frames_incomplete, 1);
}

#[test]
fn a_builder_nobody_drains_refuses_packets_instead_of_growing() {
    let frames = vp8_frames(40, 1000);
    let pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 0, 0);
    let config = SampleBuilderConfig {
        max_held_bytes: 10_000,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    for p in &pkts {
        b.handle_packet(p.seq, p.ts, p.marker, &p.payload).unwrap();
    }
    assert_eq!(b.stats().packets_dropped, 30, "ten 1000-byte frames fit");
    let mut out = 0;
    while b.poll_frame().is_some() {
        out += 1;
    }
    assert_eq!(out, 10);
}

#[test]
fn a_lost_packet_drops_its_frame_after_the_bound_and_asks_for_a_keyframe() {
    let mut frames = vp8_frames(8, 2000); // 2 packets per frame at MTU 1200
    frames[5][0] = 0; // frame 5 is a keyframe
    let mut pkts = packetize(&mut Vp8Packetizer::new(Some(1)), &frames, 1200, 0, 0);
    pkts.remove(3); // the second packet of frame 1
    let config = SampleBuilderConfig {
        max_late_packets: 4,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    let mut needs = Vec::new();
    let mut got = Vec::new();
    for p in &pkts {
        b.handle_packet(p.seq, p.ts, p.marker, &p.payload).unwrap();
        while let Some(f) = b.poll_frame() {
            got.push(f.data.to_vec());
        }
        needs.push(b.needs_keyframe());
    }
    let expected: Vec<_> = [0, 2, 3, 4, 5, 6, 7].iter().map(|&i| frames[i].clone()).collect();
    assert_eq!(got, expected);
    let s = b.stats();
    assert_eq!((s.frames, s.frames_incomplete, s.packets_dropped), (7, 1, 1));
    // Frames 2-4 are held behind the gap until packet 3 + 4 = seq 7 arrives (index 6 in pkts).
    assert!(needs[6] && needs[8], "keyframe needed after the loss: {needs:?}");
    assert!(!needs[10], "frame 5 was a keyframe: {needs:?}");
}

#[test]
fn max_delay_drops_an_incomplete_frame_in_rtp_time() {
    let frames = vp8_frames(6, 2000);
    let mut pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 0, 0);
    pkts.remove(1);
    let config = SampleBuilderConfig {
        max_late_packets: 1000,
        max_delay: 6000,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    let mut first_out = None;
    for (i, p) in pkts.iter().enumerate() {
        b.handle_packet(p.seq, p.ts, p.marker, &p.payload).unwrap();
        if b.poll_frame().is_some() && first_out.is_none() {
            first_out = Some((i, p.ts));
        }
    }
    // Frame 0 (ts 0) is given up once a packet more than 6000 ticks newer arrives: ts 9000.
    assert_eq!(first_out.map(|f| f.1), Some(9000));
    assert_eq!(b.stats().frames_incomplete, 1);
}

#[test]
fn duplicates_and_late_packets_are_counted() {
    let frames = vp8_frames(3, 100);
    let pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 10, 0);
    let mut b = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    b.handle_packet(pkts[1].seq, pkts[1].ts, pkts[1].marker, &pkts[1].payload)
        .unwrap();
    b.handle_packet(pkts[1].seq, pkts[1].ts, pkts[1].marker, &pkts[1].payload)
        .unwrap();
    assert_eq!(b.stats().packets_duplicate, 1);
    assert_eq!(b.poll_frame().map(|f| f.timestamp), Some(3000));
    // Packet 0 comes after frame 1 went out: too late.
    b.handle_packet(pkts[0].seq, pkts[0].ts, pkts[0].marker, &pkts[0].payload)
        .unwrap();
    assert_eq!(b.stats().packets_late, 1);
    assert!(b.poll_frame().is_none());
}

#[test]
fn malformed_and_oversized_payloads_are_errors_and_counted() {
    let config = SampleBuilderConfig {
        max_frame_bytes: 50,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    assert!(b.handle_packet(1, 0, true, &[0x90]).is_err());
    assert_eq!(b.stats().packets_malformed, 1);
    assert_eq!(
        b.handle_packet(2, 0, true, &[0x10; 60]),
        Err(RtpError::FrameTooLarge { size: 60, max: 50 })
    );
    // A frame of two payloads that are each small enough but too large together.
    b.handle_packet(3, 90, false, &[0x10; 40]).unwrap();
    b.handle_packet(4, 90, true, &[0x00; 40]).unwrap();
    assert!(b.poll_frame().is_none());
    assert_eq!(b.stats().frames_too_large, 1);
    b.handle_packet(5, 180, true, &[0x10, 0x00]).unwrap();
    assert_eq!(b.poll_frame().map(|f| f.data.to_vec()), Some(vec![0x00]));
}

#[test]
fn memory_stays_bounded_behind_a_gap() {
    let frames = vp8_frames(200, 10);
    let mut pkts = packetize(&mut Vp8Packetizer::new(None), &frames, 1200, 0, 0);
    pkts.remove(5);
    let config = SampleBuilderConfig {
        max_packets: 16,
        max_late_packets: u16::MAX,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(Vp8Depacketizer, config);
    let got = run(&mut b, &pkts);
    // The ring holds 16: the gap at seq 5 is given up when seq 21 needs its slot.
    assert_eq!(got.len(), 199);
    assert_eq!(b.stats().frames_incomplete, 1);
}

#[test]
fn h264_frame_ends_where_the_timestamp_changes_when_the_marker_is_lost() {
    let mut b = SampleBuilder::new(H264Depacketizer, SampleBuilderConfig::default());
    b.handle_packet(1, 0, false, &[0x67, 0x42]).unwrap(); // SPS
    b.handle_packet(2, 0, false, &[0x65, 0x88]).unwrap(); // IDR slice; its marker was cleared
    assert!(b.poll_frame().is_none(), "the frame's end is not known yet");
    b.handle_packet(3, 3000, true, &[0x41, 0x9a]).unwrap();
    let f = b.poll_frame().unwrap();
    assert_eq!((f.timestamp, f.keyframe), (0, true));
    let CodecInfo::H264(h) = f.info.codec else {
        panic!("not H.264")
    };
    assert!(
        h.has(7) && h.has(5),
        "NAL types of both packets: {:#x}",
        h.nal_types
    );
    assert_eq!(f.data, [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88]);
    assert_eq!(b.poll_frame().map(|f| f.keyframe), Some(false));
}

#[test]
fn h264_after_a_gap_waits_for_a_known_frame_boundary() {
    let mut b = SampleBuilder::new(
        H264Depacketizer,
        SampleBuilderConfig {
            max_late_packets: 2,
            ..SampleBuilderConfig::default()
        },
    );
    b.handle_packet(1, 0, true, &[0x65, 1]).unwrap();
    assert!(b.poll_frame().is_some());
    // Seq 2 (the frame's first NAL unit) is lost; seq 3 could begin a frame but may not.
    b.handle_packet(3, 3000, true, &[0x41, 2]).unwrap();
    b.handle_packet(4, 6000, true, &[0x41, 3]).unwrap();
    let f = b.poll_frame().unwrap();
    assert_eq!(
        f.timestamp, 6000,
        "the frame at 3000 lost a packet and is dropped"
    );
    assert!(b.needs_keyframe());
}

#[test]
fn audio_loss_needs_no_keyframe() {
    let frames: Vec<Vec<u8>> = (0..5).map(|i| vec![0xf8, i, i]).collect();
    let mut pkts = packetize(&mut AudioPacketizer::new(AudioCodec::Opus), &frames, 1200, 0, 0);
    pkts.remove(2);
    let config = SampleBuilderConfig {
        max_late_packets: 1,
        ..SampleBuilderConfig::default()
    };
    let mut b = SampleBuilder::new(AudioDepacketizer::new(AudioCodec::Opus), config);
    assert!(!b.needs_keyframe());
    let got = run(&mut b, &pkts);
    assert_eq!(got.len(), 4);
    assert!(!b.needs_keyframe());
}

// ---- property tests ----

/// Annex B access units with 4-byte start codes: the depacketizer's output format, so a frame
/// round-trips byte for byte. NAL bodies have no zero bytes (so no start code emulation).
fn h264_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let nal = (
        prop::sample::select(vec![1u8, 5, 6, 7, 8]),
        prop::collection::vec(1u8..=255, 0..3000),
    )
        .prop_map(|(t, body)| {
            let mut n = vec![0x60 | t];
            n.extend(body);
            n
        });
    let au = prop::collection::vec(nal, 1..4).prop_map(|nals| {
        let mut au = Vec::new();
        for n in nals {
            au.extend([0, 0, 0, 1]);
            au.extend(n);
        }
        au
    });
    prop::collection::vec(au, 1..12)
}

fn vp8_frame_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..5000), 1..12)
}

/// Reorders (each packet moves at most `window` places), duplicates and drops packets.
fn mangle(pkts: Vec<Pkt>, keys: &[(u8, u8, bool, bool)], window: usize) -> Vec<Pkt> {
    let mut keyed: Vec<(usize, Pkt)> = pkts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i + keys.get(i).map_or(0, |k| usize::from(k.0) % (window + 1)), p))
        .collect();
    keyed.sort_by_key(|k| k.0);
    let mut out = Vec::new();
    for (i, (_, p)) in keyed.into_iter().enumerate() {
        let (_, _, dup, lose) = keys.get(i).copied().unwrap_or_default();
        if lose {
            continue;
        }
        if dup {
            out.push(p.clone());
        }
        out.push(p);
    }
    out
}

/// Checks every emitted frame equals the frame sent at its timestamp and frames come in order.
fn check<D: Depacketizer>(b: &mut SampleBuilder<D>, frames: &[Vec<u8>], pkts: &[Pkt], ts0: u32) -> usize {
    let got = run(b, pkts);
    let mut last = None;
    for (ts, _, data) in &got {
        let i = (ts.wrapping_sub(ts0) / 3000) as usize;
        assert_eq!(data, &frames[i], "frame {i} differs");
        assert!(last.is_none_or(|l| i > l), "frame {i} after frame {last:?}");
        last = Some(i);
    }
    got.len()
}

/// AV1 temporal units: OBUs (frame header, tile group, frame, padding) with size fields.
fn av1_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let obu = (
        prop::sample::select(vec![3u8, 4, 6, 15]),
        prop::collection::vec(any::<u8>(), 0..2500),
    )
        .prop_map(|(t, payload)| {
            let mut o = vec![t << 3 | 0x02];
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
        });
    prop::collection::vec(prop::collection::vec(obu, 1..4).prop_map(|o| o.concat()), 1..10)
}

fn keys() -> impl Strategy<Value = Vec<(u8, u8, bool, bool)>> {
    prop::collection::vec(
        (
            any::<u8>(),
            any::<u8>(),
            prop::bool::weighted(0.05),
            prop::bool::weighted(0.05),
        ),
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn h264_stream_survives_reordering_duplication_and_loss(
        frames in h264_frames(), seq0 in any::<u16>(), ts0 in any::<u32>(), mtu in 50usize..1400,
        keys in keys(), window in 0usize..8, max_late in 1u16..40,
    ) {
        let mut pkts = packetize(&mut H264Packetizer::default(), &frames, mtu, seq0, ts0);
        // H.264 payloads cannot say a frame begins: the stream's first packet must come first
        // (see the sample module documentation); the others may be reordered, doubled or lost.
        let first = pkts.remove(0);
        let mut pkts = mangle(pkts, &keys, window);
        pkts.insert(0, first);
        let config = SampleBuilderConfig { max_packets: 64, max_late_packets: max_late, ..Default::default() };
        check(&mut SampleBuilder::new(H264Depacketizer, config), &frames, &pkts, ts0);
    }

    #[test]
    fn vp8_stream_survives_reordering_duplication_and_loss(
        frames in vp8_frame_strategy(), seq0 in any::<u16>(), ts0 in any::<u32>(), mtu in 10usize..1400,
        keys in keys(), window in 0usize..8, max_late in 1u16..40,
    ) {
        let pkts = packetize(&mut Vp8Packetizer::new(Some(seq0)), &frames, mtu, seq0, ts0);
        let pkts = mangle(pkts, &keys, window);
        let config = SampleBuilderConfig { max_packets: 64, max_late_packets: max_late, ..Default::default() };
        check(&mut SampleBuilder::new(Vp8Depacketizer, config), &frames, &pkts, ts0);
    }

    #[test]
    fn av1_stream_survives_reordering_duplication_and_loss(
        frames in av1_frames(), seq0 in any::<u16>(), ts0 in any::<u32>(), mtu in 30usize..1400,
        keys in keys(), window in 0usize..8, max_late in 1u16..40,
    ) {
        let mut pkts = packetize(&mut Av1Packetizer, &frames, mtu, seq0, ts0);
        // AV1 payloads cannot say a temporal unit begins either: the first packet comes first.
        let first = pkts.remove(0);
        let mut pkts = mangle(pkts, &keys, window);
        pkts.insert(0, first);
        let config = SampleBuilderConfig { max_packets: 64, max_late_packets: max_late, ..Default::default() };
        check(&mut SampleBuilder::new(Av1Depacketizer::default(), config), &frames, &pkts, ts0);
    }

    #[test]
    fn opus_stream_survives_any_order_duplication_and_loss(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..40),
        seq0 in any::<u16>(), ts0 in any::<u32>(), keys in keys(), window in 0usize..8, max_late in 1u16..40,
    ) {
        let frames: Vec<Vec<u8>> = frames.into_iter().map(|f| [vec![0xf8], f].concat()).collect();
        let pkts = packetize(&mut AudioPacketizer::new(AudioCodec::Opus), &frames, 1200, seq0, ts0);
        let pkts = mangle(pkts, &keys, window);
        let config = SampleBuilderConfig { max_packets: 64, max_late_packets: max_late, ..Default::default() };
        check(&mut SampleBuilder::new(AudioDepacketizer::new(AudioCodec::Opus), config), &frames, &pkts, ts0);
    }

    #[test]
    fn without_loss_every_frame_comes_out(
        frames in h264_frames(), seq0 in any::<u16>(), ts0 in any::<u32>(), mtu in 50usize..1400,
        keys in prop::collection::vec((any::<u8>(), any::<u8>(), any::<bool>(), Just(false)), 0..200),
        window in 0usize..8,
    ) {
        let mut pkts = packetize(&mut H264Packetizer::default(), &frames, mtu, seq0, ts0);
        // H.264 payloads cannot say a frame begins: the stream's first packet must come first
        // (see the sample module documentation); the others may be reordered, doubled or lost.
        let first = pkts.remove(0);
        let mut pkts = mangle(pkts, &keys, window);
        pkts.insert(0, first);
        // Reordering reaches at most `window` places, below the bound: nothing is given up.
        let config = SampleBuilderConfig { max_packets: 512, max_late_packets: 20, ..Default::default() };
        let mut b = SampleBuilder::new(H264Depacketizer, config);
        prop_assert_eq!(check(&mut b, &frames, &pkts, ts0), frames.len());
    }
}
