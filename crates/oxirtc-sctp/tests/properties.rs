//! Properties: arbitrary bytes and single-byte mutations of real packets never panic the parser or an
//! association (in any state), and the codec round-trips.
#![allow(clippy::unwrap_used)] // set-up helpers outside #[test] functions

mod common;

use std::time::Duration;

use common::{Link, Side, Sim};
use oxirtc_crypto::SecureRng;
use oxirtc_sctp::{write_checksum, Association, Packet, Ppid, SctpConfig, SendOptions, StreamId};
use proptest::prelude::*;

/// Real packets of a full session: handshake, data (fragmented, unordered, PR-SCTP), SACKs with gaps,
/// FORWARD TSN, RE-CONFIG, HEARTBEAT, SHUTDOWN.
fn real_packets() -> Vec<Vec<u8>> {
    let cfg = SctpConfig {
        heartbeat_interval: Duration::from_millis(500),
        ..SctpConfig::default()
    };
    let link = Link {
        loss_permille: 100,
        ..Link::lossy()
    };
    let mut sim = Sim::new(31, cfg.clone(), cfg, link, link);
    sim.log_packets = true;
    sim.connect_both();
    let now = sim.now;
    sim.a
        .send(
            now,
            StreamId(1),
            Ppid::BINARY,
            &common::payload(1, 5000),
            SendOptions::default(),
        )
        .unwrap();
    let pr = SendOptions {
        unordered: true,
        reliability: oxirtc_sctp::Reliability::MaxRetransmits(0),
    };
    for i in 0..30 {
        sim.a
            .send(now, StreamId(2), Ppid::STRING, &common::payload(i, 300), pr)
            .unwrap();
    }
    sim.run_until(Duration::from_secs(3), |_| false);
    let now = sim.now;
    sim.a.reset_streams(now, &[StreamId(1)]).unwrap();
    sim.run_until(Duration::from_secs(3), |_| false);
    let now = sim.now;
    sim.b.shutdown(now);
    sim.run_until(Duration::from_secs(10), |_| false);
    let mut v: Vec<Vec<u8>> = sim.sent_log.into_iter().map(|(_, _, p)| p).collect();
    v.dedup();
    v
}

fn established() -> (Sim, Association) {
    let mut sim = Sim::default_pair(32, Link::perfect(5));
    sim.connect_both();
    let now = sim.now;
    let fresh = Association::new(SctpConfig::default(), SecureRng::from_seed([9; 32]), now);
    (sim, fresh)
}

fn feed(sim: &mut Sim, fresh: &mut Association, p: &[u8]) {
    let now = sim.now + Duration::from_millis(1);
    sim.b.handle_receive(now, p);
    sim.b.handle_timeout(now);
    while sim.b.poll_transmit(now).is_some() {}
    while sim.b.poll_event().is_some() {}
    fresh.handle_receive(now, p);
    while fresh.poll_transmit(now).is_some() {}
    while fresh.poll_event().is_some() {}
}

#[test]
fn real_packets_cover_every_chunk_type() {
    let mut seen = std::collections::BTreeSet::new();
    for p in real_packets() {
        for c in Packet::parse(&p).unwrap().chunks {
            seen.insert(c.chunk_type());
        }
    }
    for t in [0u8, 1, 2, 3, 4, 5, 7, 8, 10, 11, 14, 130, 192] {
        assert!(seen.contains(&t), "no chunk of type {t} in the session: {seen:?}");
    }
}

#[test]
fn real_packets_re_encode_identically() {
    for p in real_packets() {
        let parsed = Packet::parse(&p).unwrap();
        let mut out = p[..12].to_vec();
        for c in &parsed.chunks {
            c.encode(&mut out);
        }
        assert_eq!(out, p);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..1300), fix_crc in any::<bool>()) {
        let mut buf = buf;
        if fix_crc {
            write_checksum(&mut buf);
        }
        let _ = Packet::parse(&buf);
        let (mut sim, mut fresh) = established();
        feed(&mut sim, &mut fresh, &buf);
        prop_assert!(sim.b.is_established());
    }

    #[test]
    fn single_byte_mutations_of_real_packets_never_panic(which in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        thread_local! { static PACKETS: Vec<Vec<u8>> = real_packets(); }
        let mut p = PACKETS.with(|v| v[which.index(v.len())].clone());
        let i = pos.index(p.len());
        p[i] = byte;
        write_checksum(&mut p);
        let _ = Packet::parse(&p);
        let (mut sim, mut fresh) = established();
        // The mutated packet goes to an established association (tags may match) and a fresh one.
        feed(&mut sim, &mut fresh, &p);
        // And a truncated copy.
        p.truncate(p.len() / 2);
        feed(&mut sim, &mut fresh, &p);
    }
}

#[test]
fn mutated_packets_with_the_right_tag_reach_the_chunk_handlers() {
    // Deterministic sweep: every byte of every real packet from A, retagged for an established B.
    let (mut sim, mut fresh) = established();
    sim.log_packets = true;
    let now = sim.now;
    sim.a
        .send(now, StreamId(0), Ppid::BINARY, b"x", SendOptions::default())
        .unwrap();
    sim.run_until(Duration::from_secs(1), |s| Sim::count(&s.events_b) == 1);
    let from_a: Vec<Vec<u8>> = sim
        .sent_log
        .iter()
        .filter(|(_, s, _)| *s == Side::A)
        .map(|(_, _, p)| p.clone())
        .collect();
    for p in real_packets().into_iter().chain(from_a.clone()) {
        for i in 12..p.len() {
            let mut q = p.clone();
            q[4..8].copy_from_slice(&from_a[0][4..8]);
            q[i] = q[i].wrapping_add(0x55);
            write_checksum(&mut q);
            feed(&mut sim, &mut fresh, &q);
        }
    }
}

/// Writes the fuzz seeds (`SCTP_SEED_DIR=fuzz/corpus/sctp_packet cargo test ... -- --ignored`): the
/// session's packets from A, each with its 16-bit length prefix, a few per file.
#[test]
#[ignore = "generates fuzz seeds"]
fn write_fuzz_seeds() {
    let Ok(dir) = std::env::var("SCTP_SEED_DIR") else {
        return;
    };
    for (n, group) in real_packets().chunks(6).take(12).enumerate() {
        let mut seed = Vec::new();
        for p in group {
            seed.extend_from_slice(&(p.len() as u16).to_be_bytes());
            seed.extend_from_slice(p);
        }
        std::fs::write(format!("{dir}/seed-session-{n:02}"), seed).unwrap();
    }
}
