//! Sending media between two oxirtc peers on a virtual clock (issue 18): tracks added before the
//! offer or the answer, frames packetized and protected by one side and assembled back on the
//! other, keyframe requests in both directions, and what the SDP announces about our streams.
#![allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly

mod common;

use std::time::Duration;

use common::{negotiate, pair, Peer};
use oxirtc::media::{
    KeyframeRequestKind, OutgoingRtp, ReceivedRtp, TrackKind, TransceiverId, TransceiverInit,
};
use oxirtc::{Rtc, RtcEvent};
use oxirtc_netsim::{LinkConfig, Simulation};
use oxirtc_rtp::codec::vp8::Vp8Depacketizer;
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};
use oxirtc_sdp::{Direction, SessionDescription};

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

/// Runs until `side` can send on `id` (DTLS-SRTP up), at most 10 s of virtual time.
fn until_media_flows(sim: &mut Simulation<Peer>, side: usize, id: TransceiverId) {
    let ok = sim.run_until(Duration::from_secs(10), |s| {
        s.endpoint(side).has_event(|e| {
            matches!(
                e,
                RtcEvent::ConnectionState(oxirtc::PeerConnectionState::Connected)
            )
        })
    });
    assert!(ok, "no connection");
    // SRTP is keyed with DTLS: one more turn lets both sides finish.
    sim.run_for(Duration::from_millis(50));
    assert!(
        sim.endpoint(side).rtc.send_codec(id).is_some(),
        "nothing negotiated to send"
    );
}

fn received(peer: &Peer, mid: &str) -> Vec<ReceivedRtp> {
    peer.events
        .iter()
        .filter_map(|(_, e)| match e {
            RtcEvent::Rtp(rtp) if rtp.mid == mid => Some(rtp.clone()),
            _ => None,
        })
        .collect()
}

/// A fake VP8 frame: a keyframe has bit 0 of its first byte clear (RFC 6386 §9.1), then a pattern
/// that numbers the frame.
fn vp8_frame(i: u32, len: usize) -> Vec<u8> {
    let mut f = common::numbered(i, len);
    f[0] = if i.is_multiple_of(30) { 0x10 } else { 0x11 };
    f
}

fn write_frames(rtc: &mut Rtc, sim_now: std::time::Instant, id: TransceiverId, frames: &[Vec<u8>]) {
    for (i, f) in frames.iter().enumerate() {
        rtc.write_frame(sim_now, id, 3000 * i as u32, f).unwrap();
    }
}

#[test]
fn the_offerer_sends_video_frames_that_the_answerer_assembles() {
    let mut sim = pair(11, lan());
    let video = sim
        .endpoint_mut(0)
        .rtc
        .add_track(TrackKind::Video, Some("camera"))
        .unwrap();
    let now = sim.now();
    sim.endpoint_mut(0).drain(now);
    assert!(sim.endpoint(0).has_event(|e| *e == RtcEvent::NegotiationNeeded));
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);
    let codec = sim.endpoint(0).rtc.send_codec(video).unwrap();
    assert_eq!(codec.codec.name, "VP8", "the answerer's first choice among ours");

    let frames: Vec<Vec<u8>> = (0..10).map(|i| vp8_frame(i, 2500 + 100 * i as usize)).collect();
    let now = sim.now();
    write_frames(&mut sim.endpoint_mut(0).rtc, now, video, &frames);
    sim.run_for(Duration::from_millis(100));

    let mid = sim.endpoint(0).rtc.mid(video).unwrap().to_owned();
    let b = sim.endpoint(1);
    assert!(b.has_event(|e| matches!(e, RtcEvent::Track { mid: m, kind: TrackKind::Video } if *m == mid)));
    let packets = received(b, &mid);
    assert!(
        packets.len() >= 30,
        "{} packets: frames of 2.5+ KB take three each",
        packets.len()
    );
    assert!(packets.iter().all(|p| p.payload_type == codec.payload_type));
    let mut builder = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    let mut assembled = Vec::new();
    for p in &packets {
        builder
            .handle_packet(p.sequence_number, p.timestamp, p.marker, &p.payload)
            .unwrap();
        while let Some(f) = builder.poll_frame() {
            assembled.push((f.timestamp, f.keyframe, f.data.to_vec()));
        }
    }
    assert_eq!(assembled.len(), frames.len(), "every frame assembled");
    for (i, (ts, keyframe, data)) in assembled.iter().enumerate() {
        assert_eq!(data, &frames[i], "frame {i} byte for byte");
        assert_eq!(*keyframe, i == 0);
        assert_eq!(
            ts.wrapping_sub(assembled[0].0),
            3000 * i as u32,
            "timestamps keep their spacing"
        );
    }
    assert_eq!(sim.endpoint(0).rtc.stats().rtp_sent, packets.len() as u64);
    assert_eq!(sim.endpoint(1).rtc.stats().rtp_unroutable, 0);
}

#[test]
fn a_track_added_after_the_offer_sends_on_the_offered_section() {
    let mut sim = pair(12, lan());
    // The offerer only receives: a recvonly audio transceiver.
    let now = sim.now();
    let recv = sim
        .endpoint_mut(0)
        .rtc
        .add_transceiver(
            TrackKind::Audio,
            TransceiverInit {
                direction: Direction::RecvOnly,
                ..TransceiverInit::default()
            },
        )
        .unwrap();
    let offer = sim.endpoint_mut(0).rtc.create_offer(now).unwrap();
    sim.endpoint_mut(0)
        .rtc
        .set_local_description(now, &offer)
        .unwrap();
    let b = &mut sim.endpoint_mut(1).rtc;
    b.set_remote_description(now, &offer).unwrap();
    // W3C addTrack after the remote offer: reuses the offered section's transceiver.
    let send = b.add_track(TrackKind::Audio, Some("mic")).unwrap();
    let answer = b.create_answer(now).unwrap();
    b.set_local_description(now, &answer).unwrap();
    let sdp = SessionDescription::parse(&answer.sdp).unwrap();
    let audio = sdp.section(1).unwrap();
    assert_eq!(
        audio.direction(),
        Direction::SendOnly,
        "answering a recvonly offer with a track"
    );
    assert!(answer.sdp.contains("a=msid:mic "), "{}", answer.sdp);
    assert!(!answer.sdp.contains("ssrc-group:FID"), "audio has no RTX");
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
    assert_eq!(sim.endpoint(1).rtc.mid(send), sim.endpoint(0).rtc.mid(recv));

    until_media_flows(&mut sim, 1, send);
    let opus = sim.endpoint(1).rtc.send_codec(send).unwrap();
    assert_eq!(opus.codec.name, "opus");
    let now = sim.now();
    for i in 0..50u16 {
        let payload = [0xfc, i as u8, 1, 2, 3];
        let rtp = OutgoingRtp {
            payload_type: opus.payload_type,
            sequence_number: 1000 + i,
            timestamp: 960 * u32::from(i),
            marker: i == 0,
            payload: &payload,
        };
        sim.endpoint_mut(1).rtc.write_rtp(now, send, &rtp).unwrap();
    }
    sim.run_for(Duration::from_millis(50));
    let mid = sim.endpoint(0).rtc.mid(recv).unwrap().to_owned();
    let got = received(sim.endpoint(0), &mid);
    assert_eq!(got.len(), 50);
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p.payload, [0xfc, i as u8, 1, 2, 3]);
        assert_eq!(
            p.sequence_number,
            got[0].sequence_number.wrapping_add(i as u16),
            "order and spacing kept"
        );
        assert_eq!(p.timestamp.wrapping_sub(got[0].timestamp), 960 * i as u32);
    }
    // The offerer cannot send on its recvonly transceiver.
    let err = sim.endpoint_mut(0).rtc.write_frame(now, recv, 0, &[1, 2, 3]);
    assert!(err.is_err(), "a recvonly transceiver does not send");
}

#[test]
fn keyframe_requests_reach_the_sender_as_events() {
    let mut sim = pair(13, lan());
    let video = sim.endpoint_mut(0).rtc.add_track(TrackKind::Video, None).unwrap();
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);
    let now = sim.now();
    let frame = vp8_frame(0, 500);
    sim.endpoint_mut(0)
        .rtc
        .write_frame(now, video, 0, &frame)
        .unwrap();
    sim.run_for(Duration::from_millis(50));
    let mid = sim.endpoint(0).rtc.mid(video).unwrap().to_owned();
    let now = sim.now();
    sim.endpoint_mut(1).rtc.request_keyframe(now, &mid).unwrap();
    sim.run_for(Duration::from_millis(50));
    assert!(sim.endpoint(0).has_event(|e| matches!(
        e,
        RtcEvent::KeyframeRequest { mid: m, kind: KeyframeRequestKind::Pli } if *m == mid
    )));
}

#[test]
fn offers_announce_what_we_send() {
    let mut sim = pair(14, lan());
    let now = sim.now();
    let a = &mut sim.endpoint_mut(0).rtc;
    a.add_track(TrackKind::Audio, Some("stream")).unwrap();
    a.add_track(TrackKind::Video, Some("stream")).unwrap();
    a.add_transceiver(
        TrackKind::Video,
        TransceiverInit {
            direction: Direction::RecvOnly,
            ..TransceiverInit::default()
        },
    )
    .unwrap();
    let offer = a.create_offer(now).unwrap();
    let sdp = SessionDescription::parse(&offer.sdp).unwrap();
    assert_eq!(sdp.bundle_mids(), Some(vec!["0", "1", "2", "3"]));
    let video = sdp.section(2).unwrap();
    assert_eq!(video.direction(), Direction::SendRecv);
    let groups = video.media.ssrc_groups();
    assert_eq!(groups.len(), 1, "{}", offer.sdp);
    assert_eq!(groups[0].semantics, "FID");
    assert_eq!(groups[0].ssrcs.len(), 2);
    let ssrcs = video.media.ssrcs();
    assert!(ssrcs.iter().any(|s| s.attribute == "cname"));
    assert_eq!(video.media.msids().len(), 1);
    let recvonly = sdp.section(3).unwrap();
    assert_eq!(recvonly.direction(), Direction::RecvOnly);
    assert!(
        recvonly.media.ssrcs().is_empty(),
        "nothing announced where we do not send"
    );
}

/// Sends `frames` VP8 frames of three packets at 30 fps on `video`, letting the network run
/// between them.
fn stream_video(sim: &mut Simulation<Peer>, video: TransceiverId, frames: u32) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    for i in 0..frames {
        let frame = vp8_frame(i, 2800);
        let now = sim.now();
        sim.endpoint_mut(0)
            .rtc
            .write_frame(now, video, 3000 * i, &frame)
            .unwrap();
        sent.push(frame);
        sim.run_for(Duration::from_millis(33));
    }
    sent
}

/// Frames assembled from what `peer` received on `mid` (RTX already unwrapped by the connection).
fn assembled(peer: &Peer, mid: &str) -> Vec<Vec<u8>> {
    let mut builder = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
    let mut frames = Vec::new();
    for p in received(peer, mid) {
        let _ = builder.handle_packet(p.sequence_number, p.timestamp, p.marker, &p.payload);
        while let Some(f) = builder.poll_frame() {
            frames.push(f.data.to_vec());
        }
    }
    frames
}

#[test]
fn losses_are_repaired_by_nack_and_rtx() {
    let lossy = LinkConfig {
        loss: 0.05,
        ..LinkConfig::with_delay(Duration::from_millis(25))
    };
    let mut sim = pair(15, lossy);
    let video = sim.endpoint_mut(0).rtc.add_track(TrackKind::Video, None).unwrap();
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);
    let mut sent = stream_video(&mut sim, video, 91);
    sim.run_for(Duration::from_secs(1));
    let mid = sim.endpoint(0).rtc.mid(video).unwrap().to_owned();
    let mut got = assembled(sim.endpoint(1), &mid);
    // A loss at the very end shows only with the next packet: the last frame is the probe.
    sent.pop();
    got.truncate(sent.len());
    let missing: Vec<usize> = (0..sent.len()).filter(|&i| !got.contains(&sent[i])).collect();
    assert!(
        missing.is_empty(),
        "every frame repaired and assembled; missing {missing:?}"
    );
    assert_eq!(got, sent);
    let out = &sim.endpoint(0).rtc.media_stats().outbound[0];
    let inbound = &sim.endpoint(1).rtc.media_stats().inbound[0];
    assert!(
        out.nack_count > 0 && out.retransmitted_packets_sent > 0,
        "{out:?}"
    );
    assert!(inbound.nack_count > 0, "{inbound:?}");
    assert!(
        inbound.retransmitted_packets_received > 0
            && inbound.retransmitted_packets_received <= out.retransmitted_packets_sent
    );
    assert!(inbound.packets_lost <= 0, "every loss repaired: {inbound:?}");
    assert_eq!(
        out.remote_packets_lost,
        Some(0),
        "the receiver's reports say so too"
    );
}

#[test]
fn reports_measure_loss_jitter_and_the_round_trip() {
    let mut sim = pair(16, LinkConfig::with_delay(Duration::from_millis(25)));
    let video = sim.endpoint_mut(0).rtc.add_track(TrackKind::Video, None).unwrap();
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);
    stream_video(&mut sim, video, 120);
    sim.run_for(Duration::from_millis(200));
    let out = sim.endpoint(0).rtc.media_stats().outbound[0].clone();
    let rtt = out.round_trip_time.expect("a receiver report came back");
    // RFC 3550 §6.4.1: each host's link delays 25 ms, so 50 ms each way, in 1/65536 s units.
    assert!(
        rtt.abs_diff(Duration::from_millis(100)) < Duration::from_millis(2),
        "{rtt:?}"
    );
    assert!(out.round_trip_time_measurements >= 2, "one per report: {out:?}");
    assert_eq!(out.remote_packets_lost, Some(0));
    let inbound = &sim.endpoint(1).rtc.media_stats().inbound[0];
    assert_eq!(inbound.packets_received, out.packets_sent);
    assert!(
        inbound.jitter < 0.001,
        "a constant delay has no jitter: {}",
        inbound.jitter
    );
    assert!(sim.endpoint(0).rtc.stats().rtcp_received >= 2 && sim.endpoint(1).rtc.stats().rtcp_received >= 2);
}

#[test]
fn renegotiation_adds_and_removes_tracks() {
    let mut sim = pair(17, lan());
    let video = sim.endpoint_mut(0).rtc.add_track(TrackKind::Video, None).unwrap();
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);

    // A second track: the peer learns of it from a new offer.
    let audio = sim
        .endpoint_mut(0)
        .rtc
        .add_track(TrackKind::Audio, Some("s"))
        .unwrap();
    let now = sim.now();
    sim.endpoint_mut(0).drain(now);
    let needed = sim
        .endpoint(0)
        .events
        .iter()
        .filter(|(_, e)| *e == RtcEvent::NegotiationNeeded)
        .count();
    assert_eq!(needed, 2, "one per change made while stable");
    assert!(
        sim.endpoint(0).rtc.send_codec(audio).is_none(),
        "not negotiated yet"
    );
    negotiate(&mut sim, 0);
    sim.run_for(Duration::from_millis(20));
    let opus = sim.endpoint(0).rtc.send_codec(audio).expect("negotiated now");
    let audio_mid = sim.endpoint(0).rtc.mid(audio).unwrap().to_owned();
    let video_mid = sim.endpoint(0).rtc.mid(video).unwrap().to_owned();
    assert_ne!(audio_mid, video_mid);
    let now = sim.now();
    let a = &mut sim.endpoint_mut(0).rtc;
    for i in 0..5u16 {
        let rtp = OutgoingRtp {
            payload_type: opus.payload_type,
            sequence_number: i,
            timestamp: 960 * u32::from(i),
            marker: false,
            payload: &[0xfc, 1, 2],
        };
        a.write_rtp(now, audio, &rtp).unwrap();
    }
    a.write_frame(now, video, 0, &vp8_frame(0, 300)).unwrap();
    sim.run_for(Duration::from_millis(30));
    let b = sim.endpoint(1);
    assert!(
        b.has_event(|e| matches!(e, RtcEvent::Track { mid, kind: TrackKind::Audio } if *mid == audio_mid))
    );
    assert_eq!(received(b, &audio_mid).len(), 5);
    assert_eq!(received(b, &video_mid).len(), 1, "the first track goes on");

    // Removing the video track: writes stop at once, the section turns receive-only for us.
    sim.endpoint_mut(0).rtc.remove_track(video).unwrap();
    let now = sim.now();
    assert!(sim
        .endpoint_mut(0)
        .rtc
        .write_frame(now, video, 0, &[0x10])
        .is_err());
    negotiate(&mut sim, 0);
    let info = sim.endpoint(0).rtc.transceivers();
    let v = info.iter().find(|t| t.id == video).unwrap();
    assert_eq!(v.current_direction, Some(Direction::Inactive), "{info:?}");
    // The answerer may offer in turn: the roles of the first negotiation do not matter.
    negotiate(&mut sim, 1);
    sim.run_for(Duration::from_millis(20));
    let now = sim.now();
    let rtp = OutgoingRtp {
        payload_type: opus.payload_type,
        sequence_number: 5,
        timestamp: 4800,
        marker: false,
        payload: &[0xfc, 9],
    };
    sim.endpoint_mut(0).rtc.write_rtp(now, audio, &rtp).unwrap();
    sim.run_for(Duration::from_millis(30));
    assert_eq!(
        received(sim.endpoint(1), &audio_mid).len(),
        6,
        "audio survives both renegotiations"
    );
}

#[test]
fn cryptex_encrypts_header_extensions_when_both_offer_it() {
    let mut sim = pair(18, lan());
    let video = sim.endpoint_mut(0).rtc.add_track(TrackKind::Video, None).unwrap();
    let now = sim.now();
    let offer = sim.endpoint_mut(0).rtc.create_offer(now).unwrap();
    assert!(
        offer.sdp.contains("a=cryptex\r\n"),
        "RFC 9335 §5.1: offered on media sections"
    );
    negotiate(&mut sim, 0);
    until_media_flows(&mut sim, 0, video);
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .write_frame(now, video, 0, &vp8_frame(0, 200))
        .unwrap();
    let datagram = std::iter::from_fn(|| sim.endpoint_mut(0).rtc.poll_transmit(now))
        .find(|t| t.contents.len() > 200)
        .expect("the frame's packet");
    // RFC 9335 §5.1: the one-byte extension block is marked 0xC0DE instead of 0xBEDE.
    assert_eq!(&datagram.contents[12..14], &[0xc0, 0xde]);
    // And the media still flows (the next frame goes through the network).
    sim.endpoint_mut(0)
        .rtc
        .write_frame(now, video, 3000, &vp8_frame(1, 200))
        .unwrap();
    sim.run_for(Duration::from_millis(30));
    let mid = sim.endpoint(0).rtc.mid(video).unwrap().to_owned();
    assert_eq!(received(sim.endpoint(1), &mid).len(), 1);
    assert_eq!(sim.endpoint(1).rtc.stats().srtp_dropped, 0);
}
