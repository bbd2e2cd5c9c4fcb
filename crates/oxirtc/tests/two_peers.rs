//! Two oxirtc peers over the simulated network: negotiation in both directions, channel kinds, loss,
//! closing and reopening, ICE restart, and hostile input.

mod common;

use std::time::Duration;

use common::{connect_with_channel, negotiate, numbered, pair, pair_with};
use oxirtc::{ChannelReliability, DataChannelInit, PeerConnectionState, RtcConfig, RtcEvent};
use oxirtc_ice::IceConfig;
use oxirtc_netsim::LinkConfig;

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

#[test]
fn both_offer_directions_open_a_channel_and_carry_text_and_binary() {
    for offerer in [0, 1] {
        let mut sim = pair(7, lan());
        let (a, b) = connect_with_channel(&mut sim, offerer, DataChannelInit::default());
        let other = 1 - offerer;
        let now = sim.now();
        sim.endpoint_mut(offerer)
            .rtc
            .channel(a)
            .unwrap()
            .send_text(now, "hello")
            .unwrap();
        sim.endpoint_mut(other)
            .rtc
            .channel(b)
            .unwrap()
            .send_binary(now, &[1, 2, 3])
            .unwrap();
        sim.run_for(Duration::from_secs(1));
        assert_eq!(sim.endpoint(other).received[&b], vec![(b"hello".to_vec(), false)]);
        assert_eq!(sim.endpoint(offerer).received[&a], vec![(vec![1, 2, 3], true)]);
        // Stream ids follow the DTLS role (RFC 8832 §6): the offerer is DTLS server (answerer active).
        let sid = sim
            .endpoint_mut(offerer)
            .rtc
            .channel(a)
            .unwrap()
            .stream_id()
            .unwrap();
        assert_eq!(sid % 2, 1, "DTLS server uses odd stream ids");
        for side in [0, 1] {
            assert_eq!(sim.endpoint(side).rtc.state(), PeerConnectionState::Connected);
            assert!(sim.endpoint(side).rtc.cipher_suite().is_some());
        }
    }
}

#[test]
fn ten_mib_each_way_survive_5_percent_loss_and_40ms_jitter() {
    let link = LinkConfig {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(40),
        loss: 0.05,
        queue_bytes: 1024 * 1024,
        ..LinkConfig::default()
    };
    let mut sim = pair(11, link);
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    const N: u32 = 160; // 160 × 64 KiB = 10 MiB
    const LEN: usize = 64 * 1024;
    sim.endpoint_mut(0).queue(a, (0..N).map(|i| numbered(i, LEN)));
    sim.endpoint_mut(1).queue(b, (0..N).map(|i| numbered(i, LEN)));
    // Kick the queues: the app sends on the next event.
    let ok = sim.run_until(Duration::from_secs(600), |s| {
        s.endpoint(0).received.get(&a).map_or(0, Vec::len) == N as usize
            && s.endpoint(1).received.get(&b).map_or(0, Vec::len) == N as usize
    });
    assert!(
        ok,
        "transfer did not finish: {} / {} messages",
        sim.endpoint(1).received.get(&b).map_or(0, Vec::len),
        sim.endpoint(0).received.get(&a).map_or(0, Vec::len)
    );
    for (side, id) in [(0, a), (1, b)] {
        for (i, (data, binary)) in sim.endpoint(side).received[&id].iter().enumerate() {
            assert!(*binary);
            assert_eq!(
                data,
                &numbered(i as u32, LEN),
                "message {i} on side {side} corrupt or out of order"
            );
        }
    }
    assert!(sim.net.stats().dropped_loss > 100, "the link really lost packets");
}

/// Both peers take their datagrams with `poll_transmit_into` (SCTP packets sealed straight into
/// the caller's buffer): a lossy transfer each way arrives whole and in order, then closing one side
/// still reaches the other (the SCTP ABORT and close_notify are sent, in that order, before DTLS closes).
#[test]
fn poll_transmit_into_carries_a_lossy_transfer_and_the_close() {
    let link = LinkConfig {
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(10),
        loss: 0.03,
        queue_bytes: 1024 * 1024,
        ..LinkConfig::default()
    };
    let mut sim = pair(23, link);
    for side in [0, 1] {
        sim.endpoint_mut(side).into = Some(b"kept in front".to_vec());
    }
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    const N: u32 = 40;
    const LEN: usize = 50_000;
    sim.endpoint_mut(0).queue(a, (0..N).map(|i| numbered(i, LEN)));
    sim.endpoint_mut(1).queue(b, (0..N).map(|i| numbered(i, LEN)));
    let ok = sim.run_until(Duration::from_secs(300), |s| {
        s.endpoint(0).received.get(&a).map_or(0, Vec::len) == N as usize
            && s.endpoint(1).received.get(&b).map_or(0, Vec::len) == N as usize
    });
    assert!(ok, "transfer did not finish");
    for (side, id) in [(0, a), (1, b)] {
        for (i, (data, _)) in sim.endpoint(side).received[&id].iter().enumerate() {
            assert_eq!(data, &numbered(i as u32, LEN), "message {i} on side {side}");
        }
    }
    let stats = sim.endpoint(0).rtc.stats();
    assert!(
        stats.datagrams_sent > u64::from(N) * 30,
        "every datagram counted: {stats:?}"
    );
    let now = sim.now();
    sim.endpoint_mut(0).rtc.close(now);
    let closed = sim.run_until(Duration::from_secs(5), |s| {
        s.endpoint(1).closed.contains(&b) && s.endpoint(1).rtc.state() == PeerConnectionState::Closed
    });
    assert!(
        closed,
        "the close reached the peer: {:?}",
        sim.endpoint(1).rtc.state()
    );
}

#[test]
fn channel_kinds_sizes_and_many_channels() {
    let mut sim = pair(3, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let now = sim.now();
    // 0-byte text and binary, and a 256 KiB message (RFC 8831 §8: empty messages use the EMPTY PPIDs).
    {
        let mut ch = sim.endpoint_mut(0).rtc.channel(a).unwrap();
        ch.send_text(now, "").unwrap();
        ch.send_binary(now, &[]).unwrap();
        ch.send_binary(now, &numbered(1, 256 * 1024)).unwrap();
        let too_big = ch.send_binary(now, &vec![0; 256 * 1024 + 1]).unwrap_err();
        assert!(too_big.to_string().contains("maximum message size"), "{too_big}");
    }
    sim.run_for(Duration::from_secs(2));
    let got = &sim.endpoint(1).received[&b];
    assert_eq!(got[0], (Vec::new(), false));
    assert_eq!(got[1], (Vec::new(), true));
    assert_eq!(got[2].0, numbered(1, 256 * 1024));

    // 32 channels at once, of every reliability kind, plus a negotiated pair.
    let now = sim.now();
    let kinds = [
        DataChannelInit::default(),
        DataChannelInit {
            ordered: false,
            ..Default::default()
        },
        DataChannelInit {
            ordered: false,
            reliability: ChannelReliability::MaxRetransmits(0),
            ..Default::default()
        },
        DataChannelInit {
            reliability: ChannelReliability::MaxPacketLifeTime(Duration::from_millis(100)),
            ..Default::default()
        },
    ];
    let ids: Vec<_> = (0..32)
        .map(|i| {
            sim.endpoint_mut(0)
                .rtc
                .create_data_channel(now, &format!("c{i}"), kinds[i % 4].clone())
                .unwrap()
        })
        .collect();
    let neg = DataChannelInit {
        negotiated: Some(100),
        ..Default::default()
    };
    let na = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "neg", neg.clone())
        .unwrap();
    let nb = sim
        .endpoint_mut(1)
        .rtc
        .create_data_channel(now, "neg", neg)
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.endpoint(1).open.len(),
        1 + 32 + 1,
        "every channel opened on B"
    );
    let now = sim.now();
    for (i, id) in ids.iter().enumerate() {
        sim.endpoint_mut(0)
            .rtc
            .channel(*id)
            .unwrap()
            .send_text(now, &format!("m{i}"))
            .unwrap();
    }
    sim.endpoint_mut(0)
        .rtc
        .channel(na)
        .unwrap()
        .send_text(now, "negotiated")
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    let b_side = sim.endpoint(1);
    let total: usize = b_side.received.values().map(Vec::len).sum();
    assert_eq!(total, 3 + 32 + 1);
    assert_eq!(b_side.received[&nb], vec![(b"negotiated".to_vec(), false)]);
    // Labels, protocol and reliability arrive with DCEP.
    let incoming: Vec<_> = sim
        .endpoint(1)
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            RtcEvent::IncomingChannel(id) => Some(*id),
            _ => None,
        })
        .collect();
    let last = *incoming.last().unwrap();
    let ch = sim.endpoint_mut(1).rtc.channel(last).unwrap();
    assert_eq!(ch.label(), "c31");
    assert!(ch.ordered());
    assert_eq!(
        ch.reliability(),
        ChannelReliability::MaxPacketLifeTime(Duration::from_millis(100))
    );
    let _ = ch.stats();
}

#[test]
fn close_from_either_side_frees_the_id_for_reuse() {
    let mut sim = pair(5, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let now = sim.now();
    let sid = sim.endpoint_mut(0).rtc.channel(a).unwrap().stream_id().unwrap();
    sim.endpoint_mut(0).rtc.channel(a).unwrap().close(now);
    sim.run_for(Duration::from_secs(2));
    assert!(sim.endpoint(0).closed.contains(&a), "closing side saw the close");
    assert!(sim.endpoint(1).closed.contains(&b), "other side saw the close");
    // The same stream id is usable again, here as a negotiated channel on both sides.
    let now = sim.now();
    let init = DataChannelInit {
        negotiated: Some(sid),
        ..Default::default()
    };
    let a2 = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "again", init.clone())
        .unwrap();
    let b2 = sim
        .endpoint_mut(1)
        .rtc
        .create_data_channel(now, "again", init)
        .unwrap();
    sim.run_for(Duration::from_millis(100));
    let now = sim.now();
    sim.endpoint_mut(1)
        .rtc
        .channel(b2)
        .unwrap()
        .send_text(now, "back")
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.endpoint(0).received[&a2], vec![(b"back".to_vec(), false)]);
    // Now B closes.
    let now = sim.now();
    sim.endpoint_mut(1).rtc.channel(b2).unwrap().close(now);
    sim.run_for(Duration::from_secs(2));
    assert!(sim.endpoint(0).closed.contains(&a2));
    assert!(sim.endpoint(1).closed.contains(&b2));
}

#[test]
fn ice_restart_keeps_the_association_and_data_flowing() {
    let mut sim = pair(9, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let now = sim.now();
    let ufrag_before = sim.endpoint_mut(0).rtc.create_offer(now).unwrap().sdp;
    let now = sim.now();
    sim.endpoint_mut(0).rtc.restart_ice(now);
    negotiate(&mut sim, 0);
    let now = sim.now();
    let offer_after = sim.endpoint_mut(0).rtc.create_offer(now).unwrap().sdp;
    let ufrag = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("a=ice-ufrag:"))
            .unwrap()
            .to_owned()
    };
    assert_ne!(ufrag(&ufrag_before), ufrag(&offer_after));
    sim.run_for(Duration::from_secs(3));
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .channel(a)
        .unwrap()
        .send_text(now, "after restart")
        .unwrap();
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.endpoint(1).received[&b].last().unwrap().0, b"after restart");
}

#[test]
fn flipped_fingerprint_fails_the_connection_and_delivers_nothing() {
    let mut sim = pair(13, lan());
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .create_data_channel(now, "x", DataChannelInit::default())
        .unwrap();
    let answer = common::offer_and_answer(&mut sim, 0, |_| {});
    // Flip one hex digit of B's fingerprint on its way to A.
    let mut tampered = answer.clone();
    common::flip_fingerprint_digit(&mut tampered);
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &tampered)
        .unwrap();
    sim.run_for(Duration::from_secs(10));
    for side in [0, 1] {
        assert!(
            sim.endpoint(side).open.is_empty(),
            "no channel may open on side {side}"
        );
        assert!(sim.endpoint(side).received.is_empty());
    }
    assert_eq!(sim.endpoint(0).rtc.state(), PeerConnectionState::Failed);
}

#[test]
fn garbage_sdp_is_refused_and_changes_nothing() {
    let mut sim = pair(17, lan());
    let now = sim.now();
    let before = sim.endpoint(1).rtc.signaling_state();
    for garbage in [
        "",
        "hello",
        "v=0\r\nm=application",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
    ] {
        let desc = oxirtc::Description {
            sdp_type: oxirtc::SdpType::Offer,
            sdp: garbage.to_owned(),
        };
        let err = sim
            .endpoint_mut(1)
            .rtc
            .set_remote_description(now, &desc)
            .unwrap_err();
        assert!(!err.to_string().is_empty());
        assert_eq!(sim.endpoint(1).rtc.signaling_state(), before);
    }
    // And a good negotiation still works afterwards.
    let (_, _) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
}

#[test]
fn plaintext_application_data_after_the_handshake_is_dropped() {
    let mut sim = pair(19, lan());
    let (_a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let now = sim.now();
    // An epoch-0 application_data record (RFC 6347 §4.1): content type 23, DTLS 1.2, epoch 0.
    let record = [23u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 5, 1, 2, 3, 4, 5];
    let from = common::A_ADDR.parse().unwrap();
    let to = common::B_ADDR.parse().unwrap();
    for _ in 0..10 {
        sim.endpoint_mut(1).rtc.handle_receive(now, from, to, &record);
    }
    sim.run_for(Duration::from_millis(200));
    assert!(sim.endpoint(1).received.get(&b).is_none_or(Vec::is_empty));
    assert_eq!(sim.endpoint(1).rtc.state(), PeerConnectionState::Connected);
}

#[test]
fn two_oxirtc_peers_pace_checks_at_5ms_so_set_up_takes_a_few_round_trips() {
    // Both offer and answer carry a=ice-pacing:5 (RFC 8839 §5.5), so Ta = 5 ms instead of 50 ms
    // (RFC 8445 §14.2) and the nomination check is not held back for 50 ms. Here (10 ms one way, 20 ms
    // RTT) it takes 110 ms: ICE 3 half-trips (offerer's check; answer and triggered check; answer),
    // DTLS 2 RTT (no HelloVerifyRequest: the DTLS server's own check proved the client's address),
    // SCTP 2 RTT (the DTLS server's INIT leaves with its Finished), DCEP half an RTT. With the cookie
    // exchange it took 130 ms.
    let mut sim = pair(23, lan());
    let now = sim.now();
    let offer = sim.endpoint_mut(0).rtc.create_offer(now).unwrap();
    assert!(offer.sdp.contains("a=ice-pacing:5\r\n"), "{}", offer.sdp);
    let start = sim.now();
    let (_, _) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let took = sim.now() - start;
    assert!(took < Duration::from_millis(120), "set-up took {took:?}");
    let cookie_exchanges: u64 = (0..2)
        .filter_map(|i| sim.endpoint(i).rtc.dtls_stats().map(|s| s.hello_verify_sent))
        .sum();
    assert_eq!(
        cookie_exchanges, 0,
        "a HelloVerifyRequest went to an address ICE had validated"
    );
}

#[test]
fn dtls_starts_on_the_first_valid_pair_while_the_nomination_is_on_its_way() {
    // RFC 8445 §12.1: data may go on a valid pair before a pair is selected. With Ta = 50 ms (what a
    // browser peer that sends no a=ice-pacing leaves us with, RFC 8445 §14.2), the offerer (controlling)
    // sends its USE-CANDIDATE check 50 ms after its first check. The answerer (controlled, DTLS client)
    // has a valid pair one RTT after its own first check and sends its ClientHello right then, so
    // the handshake runs while the nomination is on its way: the ClientHello reaches the offerer
    // before it selects, and the channel opens sooner than nomination + full set-up.
    let config = RtcConfig {
        ice: IceConfig::default(),
        ..RtcConfig::default()
    };
    assert_eq!(config.ice.ta, Duration::from_millis(50));
    let mut sim = pair_with(24, lan(), config);
    let start = sim.now();
    let id = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(start, "early", DataChannelInit::default())
        .unwrap();
    negotiate(&mut sim, 0);
    assert!(sim.run_until(Duration::from_secs(5), |s| s
        .endpoint(0)
        .rtc
        .selected_pair()
        .is_some()));
    let selected_at = sim.now() - start;
    assert!(
        sim.endpoint(0).rtc.stats().dtls_received > 0,
        "the offerer selected its pair ({selected_at:?}) before any DTLS arrived: the handshake waited"
    );
    // The connection completes as usual and ends up on the selected pair.
    assert!(sim.run_until(Duration::from_secs(5), |s| {
        s.endpoint(0).open.contains(&id) && !s.endpoint(1).open.is_empty()
    }));
    let took = sim.now() - start;
    // 20 ms RTT: ICE 1 RTT, DTLS with HelloVerifyRequest 3 RTT, SCTP 2 RTT, DCEP ~0.5 RTT, about
    // 130 ms; waiting for the 50 ms nomination first took about 170 ms.
    assert!(took < Duration::from_millis(150), "set-up took {took:?}");
    assert_eq!(sim.endpoint(0).rtc.state(), PeerConnectionState::Connected);
    assert_eq!(sim.endpoint(1).rtc.state(), PeerConnectionState::Connected);
    assert_eq!(
        sim.endpoint(0).rtc.selected_pair().map(|p| p.1),
        sim.endpoint(1).rtc.selected_pair().map(|p| p.0)
    );
}

/// Offer from A, answer from B (DTLS client, `a=setup:active`); the answer reaches A only after
/// `answer_delay`, as over a real signaling channel. Returns A's DTLS datagram count when it applied
/// the answer, and the set-up time (offer → channel open on both sides).
#[allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly
fn late_answer(seed: u64, config_a: RtcConfig, answer_delay: Duration) -> (u64, Duration) {
    let mut sim = common::pair_with_configs(seed, lan(), config_a, RtcConfig::default());
    let start = sim.now();
    let id = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(start, "late", DataChannelInit::default())
        .unwrap();
    let answer = common::offer_and_answer(&mut sim, 0, |_| {});
    sim.run_until(answer_delay, |_| false);
    let dtls_before_answer = sim.endpoint(0).rtc.stats().dtls_received;
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(5), |s| {
        s.endpoint(0).open.contains(&id) && !s.endpoint(1).open.is_empty()
    }));
    (dtls_before_answer, sim.now() - start)
}

#[test]
fn an_answering_dtls_client_waits_until_the_offerer_has_its_answer() {
    // RFC 8445 §7.3 lets the offerer answer our checks before it has our answer, so our pair is valid
    // early; a ClientHello sent then reaches a peer that cannot check our fingerprint yet
    // (libdatachannel refuses it with unknown_ca). The offerer's first check, signed with our
    // answer's password, is the proof that it has the answer: the ClientHello waits for it.
    let (dtls_before_answer, took) = late_answer(31, RtcConfig::default(), Duration::from_millis(300));
    assert_eq!(
        dtls_before_answer, 0,
        "the answerer sent DTLS before the offerer had its answer"
    );
    // The wait costs about one round trip (20 ms here) after the answer arrives, not a timeout.
    assert!(took < Duration::from_millis(300 + 180), "set-up took {took:?}");
}

#[test]
fn an_answering_dtls_client_connects_to_an_ice_lite_offerer() {
    // An ICE-lite offerer sends no checks (RFC 8445 §2.5): waiting for one must not stall the set-up.
    let lite = RtcConfig {
        ice: IceConfig {
            lite: true,
            ..IceConfig::default()
        },
        ..RtcConfig::default()
    };
    let (_, took) = late_answer(32, lite, Duration::from_millis(50));
    assert!(took < Duration::from_secs(1), "set-up took {took:?}");
}

#[test]
fn a_lost_first_client_hello_is_resent_after_one_and_a_half_ice_rtts() {
    // RFC 9147 §5.8.2: with an RTT known from ICE the first DTLS retransmission comes after 1.5 × that
    // RTT (here 20 ms, floored at 50 ms), not the blind 1 s. libdatachannel drops a ClientHello that
    // arrives before its DTLS transport is up, right after ICE connects.
    let mut sim = pair(33, lan());
    sim.endpoint_mut(0).drop_dtls_in = 1;
    let start = sim.now();
    connect_with_channel(&mut sim, 0, DataChannelInit::default());
    assert_eq!(sim.endpoint(0).drop_dtls_in, 0, "no ClientHello was dropped");
    let took = sim.now() - start;
    assert!(took < Duration::from_millis(300), "set-up took {took:?}");
}

#[test]
fn a_dtls_server_whose_own_check_is_late_sizes_sctp_for_the_direct_path() {
    // The offerer asks to be DTLS client (a=setup:active), so B answers as server. B's own checks are
    // lost, so A's ClientHello (A's check was answered) completes B's handshake before B has a valid
    // pair. B must size SCTP packets for the path the handshake came on (direct), not for the worst
    // case (relayed), or PLPMTUD searches a smaller range for the whole connection. (B sends two
    // checks before the channel opens here: the one A's check triggers and its retransmission; B's
    // ordinary checks wait for A's first, `IceConfig::controlled_check_hold`.)
    let mut sim = pair(34, lan());
    sim.endpoint_mut(1).drop_checks_out = 2;
    let now = sim.now();
    let id = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "direct", DataChannelInit::default())
        .unwrap();
    let answer = common::offer_and_answer(&mut sim, 0, |offer| {
        offer.sdp = offer.sdp.replace("a=setup:actpass", "a=setup:active");
    });
    assert!(answer.sdp.contains("a=setup:passive"));
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(5), |s| {
        s.endpoint(0).open.contains(&id) && !s.endpoint(1).open.is_empty()
    }));
    assert_eq!(sim.endpoint(1).drop_checks_out, 0, "B's checks were not dropped");
    // B's own checks were lost, so nothing proved A's address to B yet: the cookie exchange ran
    // (RFC 6347 §4.2.1).
    let hvr = sim.endpoint(1).rtc.dtls_stats().map(|s| s.hello_verify_sent);
    assert!(hvr >= Some(1), "HelloVerifyRequests sent: {hvr:?}");
    sim.run_until(Duration::from_secs(3), |_| false);
    // IPv4 direct: BASE 1135, MAX 1435 SCTP bytes (1200 / 1500 IP); relayed would be 1084 / 1384.
    let pmtu = sim.endpoint(1).rtc.sctp_stats().map(|s| s.pmtu);
    assert_eq!(pmtu, Some(1435 & !3));
}
