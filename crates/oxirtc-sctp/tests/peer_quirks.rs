//! Deployed stacks that break on what RFC 9260 says they must skip, and how we still connect to them:
//! werift's SCTP dies on a PAD chunk (RFC 4820), Pion 3.1's refuses a whole INIT / INIT ACK carrying
//! Zero Checksum Acceptable (RFC 9653). Here the peer is our own association, and a filter on the link
//! plays the old stack: it hides what the old stack does not announce and drops what it would refuse.

mod common;

use std::time::Duration;

use common::{chunk_types, rewrite, Link, Side, Sim};
use oxirtc_sctp::SctpConfig;

/// IPv4 + UDP + DTLS 1.2 AES-GCM record bytes around one SCTP packet.
const OVERHEAD: usize = 20 + 8 + 13 + 8 + 16;
const PAD: u8 = 0x84;
const INIT: u8 = 1;
const INIT_ACK: u8 = 2;
const SUPPORTED_EXTENSIONS: u16 = 0x8008;
const ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;

/// Byte offsets of the parameters (type, start) of the INIT or INIT ACK a packet carries, if any
/// (RFC 9260 §3.3.2: 4 bytes chunk header, 16 bytes fixed fields, then TLVs).
fn init_params(p: &[u8]) -> Vec<(u16, usize)> {
    let types = chunk_types(p);
    if types.first().is_none_or(|t| *t != INIT && *t != INIT_ACK) {
        return Vec::new();
    }
    let chunk_len = usize::from(u16::from_be_bytes([p[14], p[15]]));
    let end = (12 + chunk_len).min(p.len());
    let mut at = 12 + 4 + 16;
    let mut out = Vec::new();
    while at + 4 <= end {
        let ty = u16::from_be_bytes([p[at], p[at + 1]]);
        let len = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        if len < 4 {
            break;
        }
        out.push((ty, at));
        at += (len + 3) & !3;
    }
    out
}

fn has_param(p: &[u8], ty: u16) -> bool {
    init_params(p).iter().any(|(t, _)| *t == ty)
}

/// A peer whose INIT / INIT ACK does not list PAD: the PAD byte of Supported Extensions is rewritten to
/// RE-CONFIG's (already listed), so the parameter keeps its length and the rest of its meaning.
fn hide_pad(p: &mut [u8]) {
    for (ty, at) in init_params(p) {
        if ty != SUPPORTED_EXTENSIONS {
            continue;
        }
        let len = usize::from(u16::from_be_bytes([p[at + 2], p[at + 3]]));
        rewrite(p, |p| {
            for b in &mut p[at + 4..at + len] {
                if *b == PAD {
                    *b = 0x82;
                }
            }
        });
    }
}

fn pmtu_config() -> SctpConfig {
    SctpConfig {
        mtu: 1200 - OVERHEAD,
        max_mtu: 1500 - OVERHEAD,
        ..SctpConfig::default()
    }
}

/// Runs PLPMTUD between A and a B that does (or does not) list PAD; returns A's packets and its stats.
fn probe_against(b_lists_pad: bool, seed: u8) -> (Vec<Vec<u8>>, oxirtc_sctp::SctpStats) {
    let mut sim = Sim::new(
        seed,
        pmtu_config(),
        pmtu_config(),
        Link::perfect(10),
        Link::perfect(10),
    );
    sim.max_packet = 1500 - OVERHEAD;
    sim.log_packets = true;
    sim.filter = Some(Box::new(move |side, _, mut p| {
        if side == Side::B && !b_lists_pad {
            hide_pad(&mut p);
        }
        Some(p)
    }));
    sim.connect_both();
    let full = (1500 - OVERHEAD) & !3;
    assert!(
        sim.run_until(Duration::from_secs(2), |s| s.a.stats().pmtu == full),
        "PLPMTUD did not reach {full}: {:?}",
        sim.a.stats()
    );
    let sent = sim
        .sent_log
        .iter()
        .filter(|(_, side, _)| *side == Side::A)
        .map(|(_, _, p)| p.clone())
        .collect();
    (sent, sim.a.stats().clone())
}

#[test]
fn probes_carry_pad_only_to_a_peer_that_lists_it() {
    // RFC 4820 §3 / RFC 5061 §4.2.7: a peer listing PAD gets HEARTBEAT + PAD probes.
    let (sent, stats) = probe_against(true, 1);
    assert!(stats.pmtu_probes_acked >= 1, "{stats:?}");
    assert!(sent.iter().any(|p| chunk_types(p).contains(&PAD)));

    // A peer that does not list it (werift 0.24) never sees a PAD chunk; the probe is a HEARTBEAT
    // padded inside its Heartbeat Info, echoed back whole, and the search still reaches 1500.
    let (sent, stats) = probe_against(false, 2);
    assert!(stats.pmtu_probes_acked >= 1, "{stats:?}");
    assert!(!sent.iter().any(|p| chunk_types(p).contains(&PAD)));
    let largest_heartbeat = sent
        .iter()
        .filter(|p| chunk_types(p) == [4])
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    assert_eq!(largest_heartbeat, (1500 - OVERHEAD) & !3);
}

/// B plays Pion 3.1: it never announces zero checksums, and it drops any INIT or INIT ACK that
/// carries Zero Checksum Acceptable (its parser fails on the unknown type and gives no answer).
fn pion_like_pair(seed: u8) -> Sim {
    let plain = SctpConfig {
        zero_checksum_dtls: false,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(
        seed,
        SctpConfig::default(),
        plain,
        Link::perfect(10),
        Link::perfect(10),
    );
    sim.log_packets = true;
    sim.filter = Some(Box::new(|side, _, p| {
        (side == Side::B || !has_param(&p, ZERO_CHECKSUM_ACCEPTABLE)).then_some(p)
    }));
    sim
}

#[test]
fn an_init_ack_announces_zero_checksum_only_to_a_peer_whose_init_did() {
    // Both send INIT at once, as WebRTC peers do (RFC 8831 §6.2) and Pion always does. Our INIT ACK
    // answers Pion's plain INIT without the parameter, so the handshake needs no retransmission.
    let mut sim = pion_like_pair(3);
    sim.connect_both();
    assert!(sim.elapsed() < Duration::from_millis(100), "{:?}", sim.elapsed());
    let init_acks: Vec<_> = sim
        .sent_log
        .iter()
        .filter(|(_, side, p)| *side == Side::A && chunk_types(p) == [INIT_ACK])
        .collect();
    assert!(!init_acks.is_empty());
    assert!(init_acks
        .iter()
        .all(|(_, _, p)| !has_param(p, ZERO_CHECKSUM_ACCEPTABLE)));

    // Between two peers that both announce it, the INIT ACK carries it and zero checksums are used.
    let mut sim = Sim::default_pair(4, Link::perfect(10));
    sim.log_packets = true;
    sim.connect_both();
    assert!(sim
        .sent_log
        .iter()
        .filter(|(_, _, p)| chunk_types(p) == [INIT_ACK])
        .all(|(_, _, p)| has_param(p, ZERO_CHECKSUM_ACCEPTABLE)));
}

#[test]
fn an_init_that_draws_no_answer_is_retried_without_zero_checksum() {
    // Only A connects (a peer that answers but never initiates): its first INIT carries the parameter
    // and is dropped; the T1 retransmission (RTO.Initial, 1 s) leaves it out and is answered.
    let mut sim = pion_like_pair(5);
    let now = sim.now;
    sim.a.connect(now);
    assert!(sim.run_until(Duration::from_secs(5), |s| s.a.is_established()
        && s.b.is_established()));
    assert!(sim.elapsed() < Duration::from_millis(1100), "{:?}", sim.elapsed());
    let inits: Vec<_> = sim
        .sent_log
        .iter()
        .filter(|(_, side, p)| *side == Side::A && chunk_types(p) == [INIT])
        .map(|(_, _, p)| has_param(p, ZERO_CHECKSUM_ACCEPTABLE))
        .collect();
    assert_eq!(inits, [true, false]);
    // Neither side sends zero checksums: B never announced, and A's answered INIT did not either.
    assert_eq!(sim.a.stats().zero_checksum_sent, 0);
    assert_eq!(sim.b.stats().zero_checksum_sent, 0);
}

#[test]
fn control_chunks_come_before_data_in_every_packet() {
    // RFC 9260 §6.10: control chunks bundled with DATA go first. usrsctp (libdatachannel) aborts the
    // association on a packet where a DATA chunk is followed by anything else. Both sides send at
    // once, so SACKs are wanted while DATA goes out and ride along with it.
    use oxirtc_sctp::{Ppid, SendOptions, StreamId};
    let mut sim = Sim::default_pair(6, Link::perfect(5));
    sim.log_packets = true;
    sim.connect_both();
    let mut sent = 0u64;
    assert!(sim.run_until(Duration::from_secs(30), |s| {
        while sent < 400 {
            let now = s.now;
            let data = common::payload(sent, 700 + (sent as usize * 37) % 3000);
            let side = if sent.is_multiple_of(2) { Side::A } else { Side::B };
            if s.assoc(side)
                .send(now, StreamId(1), Ppid::BINARY, &data, SendOptions::default())
                .is_err()
            {
                break;
            }
            sent += 1;
        }
        sent == 400 && Sim::count(&s.events_a) == 200 && Sim::count(&s.events_b) == 200
    }));
    let mut bundled = 0;
    for (_, side, p) in &sim.sent_log {
        let types = chunk_types(p);
        if let Some(first_data) = types.iter().position(|t| *t == 0) {
            assert!(
                types[first_data..].iter().all(|t| *t == 0),
                "{side:?} sent chunks {types:?}: a control chunk after DATA"
            );
            bundled += usize::from(first_data > 0);
        }
    }
    assert!(bundled > 0, "no SACK was bundled with DATA: the test saw nothing");
}
