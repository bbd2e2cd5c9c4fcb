//! Hostile input: malformed packets, out-of-state chunks, forged cookies, peers that hog memory.
#![allow(clippy::unwrap_used)] // set-up helpers outside #[test] functions

mod common;

use std::time::Duration;

use common::{chunk_types, payload, rewrite, Link, Side, Sim};
use oxirtc_sctp::{
    chunk_type, Association, Packet, Ppid, SctpConfig, SctpError, SctpEvent, SendOptions, StreamId,
};

/// An established pair plus one real DATA packet from A to B (captured, not delivered). Zero
/// checksums (RFC 9653) are off so that every packet carries, and is checked by, its CRC32c.
fn established_with_data_packet() -> (Sim, Vec<u8>) {
    let cfg = SctpConfig {
        zero_checksum_dtls: false,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(21, cfg.clone(), cfg, Link::perfect(10), Link::perfect(10));
    sim.connect_both();
    sim.log_packets = true;
    let now = sim.now;
    sim.a
        .send(
            now,
            StreamId(1),
            Ppid::BINARY,
            b"payload!",
            SendOptions::default(),
        )
        .unwrap();
    sim.run_until(Duration::from_secs(1), |s| Sim::count(&s.events_b) == 1);
    let data = sim
        .sent_log
        .iter()
        .find(|(_, side, p)| *side == Side::A && chunk_types(p).contains(&chunk_type::DATA))
        .map(|(_, _, p)| p.clone())
        .unwrap();
    (sim, data)
}

#[test]
fn chunks_with_zero_or_overlong_lengths_are_dropped() {
    let (mut sim, data) = established_with_data_packet();
    let malformed_before = sim.b.stats().drops.malformed;
    let now = sim.now;
    for len in [0u16, 1, 3, 200, 0xFFFF] {
        let mut p = data.clone();
        rewrite(&mut p, |p| p[14..16].copy_from_slice(&len.to_be_bytes()));
        assert!(Packet::parse(&p).is_err());
        sim.b.handle_receive(now, &p);
    }
    // A packet whose second chunk is broken is dropped as a whole.
    let mut two = data.clone();
    two.extend_from_slice(&[chunk_type::COOKIE_ACK, 0, 0, 0]);
    rewrite(&mut two, |_| {});
    sim.b.handle_receive(now, &two);
    // Truncated header, bad checksum.
    sim.b.handle_receive(now, &data[..7]);
    let mut bad_crc = data.clone();
    bad_crc[20] ^= 0xFF;
    sim.b.handle_receive(now, &bad_crc);
    let st = sim.b.stats();
    assert_eq!(st.drops.malformed - malformed_before, 7, "{st:?}");
    assert_eq!(st.drops.bad_checksum, 1);
    assert!(sim.b.poll_event().is_none());
    // Without the announcement, a zero checksum is just a wrong one.
    let mut zero = data.clone();
    zero[8..12].fill(0);
    sim.b.handle_receive(now, &zero);
    assert_eq!(sim.b.stats().drops.bad_checksum, 2);
    // Still healthy afterwards.
    let now = sim.now;
    sim.a
        .send(now, StreamId(1), Ppid::BINARY, b"after", SendOptions::default())
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(5), |s| Sim::has_message(
        &s.events_b,
        b"after"
    )));
}

#[test]
fn data_before_the_handshake_is_dropped() {
    let (_, data) = established_with_data_packet();
    let now = common::start_time();
    // A fresh association never connected: no TCB, so the DATA is out of the blue (RFC 9260 §8.4).
    let mut fresh = Association::new(
        SctpConfig::default(),
        oxirtc_crypto::SecureRng::from_seed([3; 32]),
        now,
    );
    fresh.handle_receive(now, &data);
    assert!(fresh.poll_event().is_none());
    assert!(fresh.poll_transmit(now).is_none());
    assert_eq!(
        fresh.stats().drops.bad_verification_tag + fresh.stats().drops.unexpected_chunk,
        1
    );

    // One in COOKIE-WAIT, with DATA carrying its own tag (learned from its INIT).
    let mut waiting = Association::new(
        SctpConfig::default(),
        oxirtc_crypto::SecureRng::from_seed([4; 32]),
        now,
    );
    waiting.connect(now);
    let init = waiting.poll_transmit(now).unwrap();
    let Packet { chunks, .. } = Packet::parse(&init).unwrap();
    let oxirtc_sctp::Chunk::Init(i) = chunks[0] else {
        panic!("{chunks:?}")
    };
    let mut forged = data.clone();
    rewrite(&mut forged, |p| {
        p[4..8].copy_from_slice(&i.initiate_tag.to_be_bytes())
    });
    waiting.handle_receive(now, &forged);
    assert_eq!(waiting.stats().drops.unexpected_chunk, 1);
    assert!(waiting.poll_event().is_none());
    assert!(!waiting.is_established());
}

#[test]
fn cookie_echo_with_a_bad_hmac_creates_no_association() {
    let mut sim = Sim::default_pair(22, Link::perfect(10));
    // Flip one byte inside every cookie A echoes.
    sim.filter = Some(Box::new(|side, _, mut p| {
        if side == Side::A && chunk_types(&p).first() == Some(&chunk_type::COOKIE_ECHO) {
            rewrite(&mut p, |p| p[30] ^= 0x01);
        }
        Some(p)
    }));
    let now = sim.now;
    sim.a.connect(now);
    sim.run_until(Duration::from_secs(600), |s| {
        Sim::has_event(&s.events_a, |e| matches!(e, SctpEvent::Aborted(_)))
    });
    assert!(!sim.b.is_established());
    assert!(!Sim::has_event(&sim.events_b, |e| *e == SctpEvent::Connected));
    assert!(sim.b.stats().drops.bad_cookie >= 1);
    assert!(!sim.a.is_established(), "A gives up after Max.Init.Retransmits");
    assert_eq!(
        sim.b.poll_timeout(),
        None,
        "the responder keeps no state and no timer"
    );
}

#[test]
fn a_peer_that_never_reads_is_capped_by_the_receive_window() {
    let cfg = SctpConfig {
        receive_window: 256 * 1024,
        max_message_size: 64 * 1024,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(
        23,
        SctpConfig::default(),
        cfg,
        Link::perfect(10),
        Link::perfect(10),
    );
    sim.connect_both();
    sim.poll_b = false;
    let mut sent = 0usize;
    sim.run_until(Duration::from_secs(60), |s| {
        let now = s.now;
        while s
            .a
            .send(
                now,
                StreamId(0),
                Ppid::BINARY,
                &payload(sent as u64, 16 * 1024),
                SendOptions::default(),
            )
            .is_ok()
        {
            sent += 16 * 1024;
        }
        false
    });
    let mut held = 0;
    while let Some(e) = sim.b.poll_event() {
        if let SctpEvent::Message { data, .. } = e {
            held += data.len();
        }
    }
    assert!(
        held <= 256 * 1024,
        "B buffered {held} bytes for a reader that never came"
    );
    assert!(held >= 200 * 1024, "the window should be used: {held}");
    assert!(sent > 3 * 1024 * 1024, "A filled its own send buffer instead");
    assert_eq!(sim.b.stats().local_rwnd, 256 * 1024, "window re-opens once read");
    // Reading resumes the flow.
    sim.poll_b = true;
    assert!(sim.run_until(Duration::from_secs(30), |s| Sim::count(&s.events_b) > 20));
}

#[test]
fn many_streams_opened_by_the_peer_stay_bounded() {
    let mut sim = Sim::default_pair(24, Link::perfect(5));
    sim.connect_both();
    let now = sim.now;
    for s in 0..=u16::MAX - 1 {
        sim.a
            .send(now, StreamId(s), Ppid::BINARY, &[s as u8], SendOptions::default())
            .unwrap();
    }
    assert_eq!(
        sim.a.send(
            now,
            StreamId(u16::MAX),
            Ppid::BINARY,
            b"x",
            SendOptions::default()
        ),
        Err(SctpError::InvalidStream(u16::MAX))
    );
    assert!(sim.run_until(Duration::from_secs(60), |s| Sim::count(&s.events_b) == 65_535));
}

#[test]
fn data_on_a_stream_beyond_the_negotiated_count_is_refused() {
    let cfg = SctpConfig {
        max_inbound_streams: 16,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(
        25,
        SctpConfig::default(),
        cfg,
        Link::perfect(10),
        Link::perfect(10),
    );
    sim.connect_both();
    let now = sim.now;
    assert_eq!(
        sim.a
            .send(now, StreamId(16), Ppid::BINARY, b"x", SendOptions::default()),
        Err(SctpError::InvalidStream(16))
    );
    // A peer ignoring the limit: rewrite the stream id of a real DATA chunk.
    sim.filter = Some(Box::new(|side, _, mut p| {
        if side == Side::A && chunk_types(&p) == [chunk_type::DATA] {
            rewrite(&mut p, |p| p[20..22].copy_from_slice(&100u16.to_be_bytes()));
        }
        Some(p)
    }));
    sim.a
        .send(now, StreamId(3), Ppid::BINARY, b"hostile", SendOptions::default())
        .unwrap();
    sim.run_until(Duration::from_secs(2), |_| false);
    assert_eq!(sim.b.stats().drops.invalid_stream, 1);
    assert_eq!(Sim::count(&sim.events_b), 0);
    assert_eq!(
        sim.a.buffered_amount(StreamId(3)),
        0,
        "the TSN is acked even though the data is discarded"
    );
    sim.filter = None;
    let now = sim.now;
    // (Stream 3 now waits forever for the SSN the hostile rewrite destroyed; use another one.)
    sim.a
        .send(now, StreamId(4), Ppid::BINARY, b"fine", SendOptions::default())
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(2), |s| Sim::has_message(&s.events_b, b"fine")));
}

#[test]
fn receive_window_always_fits_the_largest_message() {
    let cfg = SctpConfig {
        receive_window: 16 * 1024,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(
        27,
        SctpConfig::default(),
        cfg,
        Link::perfect(10),
        Link::perfect(10),
    );
    sim.connect_both();
    let now = sim.now;
    let big = payload(3, 256 * 1024);
    sim.a
        .send(now, StreamId(0), Ppid::BINARY, &big, SendOptions::default())
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(30), |s| Sim::has_message(&s.events_b, &big)));
}

#[test]
fn unknown_chunks_follow_their_upper_bits() {
    let (mut sim, data) = established_with_data_packet();
    let now = sim.now;
    let tag = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    let mut header = data[..12].to_vec();
    header[4..8].copy_from_slice(&tag.to_be_bytes());
    // 0x7F (upper bits 01): stop processing and report; 0xBF (10): skip.
    for ty in [0x7F_u8, 0xBF] {
        let mut p = header.clone();
        p.extend_from_slice(&[ty, 0, 0, 8, 1, 2, 3, 4]);
        rewrite(&mut p, |_| {});
        sim.b.handle_receive(now, &p);
    }
    assert_eq!(sim.b.stats().drops.unknown_chunk, 2);
    let reports: Vec<Vec<u8>> = std::iter::from_fn(|| sim.b.poll_transmit(now)).collect();
    assert_eq!(
        reports
            .iter()
            .filter(|p| chunk_types(p).contains(&chunk_type::ERROR))
            .count(),
        1
    );
    assert!(sim.b.is_established());
}

/// The Re-configuration Responses (seq, result) in a packet.
fn reconfig_responses(p: &[u8]) -> Vec<(u32, oxirtc_sctp::ReconfigResult)> {
    let Ok(parsed) = Packet::parse(p) else {
        return vec![];
    };
    let mut out = Vec::new();
    for c in parsed.chunks {
        if let oxirtc_sctp::Chunk::Reconfig(params) = c {
            for t in oxirtc_sctp::TlvIter::new(params).flatten() {
                if let Ok(oxirtc_sctp::ReconfigParam::Response { resp_seq, result }) =
                    oxirtc_sctp::ReconfigParam::parse(t)
                {
                    out.push((resp_seq, result));
                }
            }
        }
    }
    out
}

#[test]
fn deferred_reset_resent_with_a_new_sequence_number_is_merged() {
    use oxirtc_sctp::ReconfigResult::{InProgress, SuccessPerformed};
    let mut sim = Sim::default_pair(26, Link::perfect(10));
    sim.connect_both();
    sim.log_packets = true;
    // Hold back A's DATA so B's cumulative TSN stays below the reset's last TSN.
    let hold = std::rc::Rc::new(std::cell::Cell::new(true));
    let h = hold.clone();
    let held: std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>> = Default::default();
    let hd = held.clone();
    sim.filter = Some(Box::new(move |side, _, p| {
        if side == Side::A && h.get() && chunk_types(&p).contains(&chunk_type::DATA) {
            hd.borrow_mut().push(p);
            return None;
        }
        Some(p)
    }));
    let now = sim.now;
    sim.a
        .send(
            now,
            StreamId(5),
            Ppid::STRING,
            b"before close",
            SendOptions::default(),
        )
        .unwrap();
    sim.a.reset_streams(now, &[StreamId(5)]).unwrap();
    sim.run_until(Duration::from_millis(50), |_| false);
    let request = sim
        .sent_log
        .iter()
        .find(|(_, side, p)| *side == Side::A && chunk_types(p) == [chunk_type::RECONFIG])
        .map(|(_, _, p)| p.clone())
        .unwrap();
    let first: Vec<_> = sim
        .sent_log
        .iter()
        .filter(|(_, s, _)| *s == Side::B)
        .flat_map(|(_, _, p)| reconfig_responses(p))
        .collect();
    let req_seq = first[0].0;
    assert_eq!(first, vec![(req_seq, InProgress)]);
    // An older stack re-sends the deferred request under the next sequence number.
    let mut again = request.clone();
    rewrite(&mut again, |p| {
        p[20..24].copy_from_slice(&(req_seq + 1).to_be_bytes())
    });
    let now = sim.now;
    sim.b.handle_receive(now, &again);
    let answers: Vec<_> = std::iter::from_fn(|| sim.b.poll_transmit(now))
        .flat_map(|p| reconfig_responses(&p))
        .collect();
    assert_eq!(answers, vec![(req_seq + 1, InProgress)]);
    // The data arrives: the reset is performed after it and answered for the latest sequence number.
    hold.set(false);
    for p in held.borrow_mut().drain(..) {
        sim.b.handle_receive(now, &p);
    }
    let answers: Vec<_> = std::iter::from_fn(|| sim.b.poll_transmit(now))
        .flat_map(|p| reconfig_responses(&p))
        .collect();
    assert_eq!(answers, vec![(req_seq + 1, SuccessPerformed)]);
    let events: Vec<_> = std::iter::from_fn(|| sim.b.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            SctpEvent::Message {
                stream: StreamId(5),
                ppid: Ppid::STRING,
                data: b"before close".to_vec(),
                unordered: false
            },
            SctpEvent::StreamsResetByPeer(vec![StreamId(5)]),
        ]
    );
}

#[test]
fn a_stale_cookie_error_restarts_the_handshake() {
    let cfg = SctpConfig {
        cookie_lifetime: Duration::from_millis(50),
        ..SctpConfig::default()
    };
    // The link is slower than the cookie lifetime for the first COOKIE ECHO only.
    let mut sim = Sim::new(
        28,
        SctpConfig::default(),
        cfg,
        Link::perfect(10),
        Link::perfect(10),
    );
    let mut delayed = false;
    let held: std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>> = Default::default();
    let h = held.clone();
    sim.filter = Some(Box::new(move |side, _, p| {
        if side == Side::A && !delayed && chunk_types(&p).first() == Some(&chunk_type::COOKIE_ECHO) {
            delayed = true;
            h.borrow_mut().push(p);
            return None;
        }
        Some(p)
    }));
    sim.log_packets = true;
    let now = sim.now;
    sim.a.connect(now);
    sim.run_until(Duration::from_millis(100), |_| false);
    // Deliver the old COOKIE ECHO late: B answers "Stale Cookie", A starts over with INIT.
    let late = held.borrow_mut().pop().unwrap();
    let now = sim.now;
    sim.b.handle_receive(now, &late);
    assert_eq!(sim.b.stats().drops.bad_cookie, 1);
    assert!(sim.run_until(Duration::from_secs(10), |s| s.a.is_established()
        && s.b.is_established()));
    let inits = sim
        .sent_log
        .iter()
        .filter(|(_, side, p)| *side == Side::A && chunk_types(p) == [chunk_type::INIT])
        .count();
    assert!(inits >= 2, "A restarted with a new INIT");
}
