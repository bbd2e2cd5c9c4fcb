//! Fuzzes the SCTP packet parser and an established association's receive path. The input is a sequence
//! of packets, each preceded by its 16-bit big-endian length; a packet whose first byte is odd gets the
//! association's own verification tag and a correct CRC32c, so the fuzzer reaches the chunk handlers. Invariants: no
//! panic, every packet sent stays within the MTU, and an association never buffers beyond its window.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::SecureRng;
use oxirtc_sctp::{write_checksum, Association, Packet, Ppid, SctpConfig, SctpEvent, SendOptions, StreamId};

/// Two associations connected in memory; returns (a, b, b's verification tag as seen on A's packets).
fn established(now: Instant) -> (Association, Association, [u8; 4]) {
    let mut a = Association::new(SctpConfig::default(), SecureRng::from_seed([1; 32]), now);
    let mut b = Association::new(SctpConfig::default(), SecureRng::from_seed([2; 32]), now);
    a.connect(now);
    let mut tag = [0; 4];
    for _ in 0..8 {
        while let Some(p) = a.poll_transmit(now) {
            if p[4..8] != [0; 4] {
                tag.copy_from_slice(&p[4..8]);
            }
            b.handle_receive(now, &p);
        }
        while let Some(p) = b.poll_transmit(now) {
            a.handle_receive(now, &p);
        }
    }
    while a.poll_event().is_some() {}
    while b.poll_event().is_some() {}
    (a, b, tag)
}

fuzz_target!(|data: &[u8]| {
    let _ = Packet::parse(data);
    let start = Instant::now();
    let mut now = start;
    let (mut a, mut b, tag) = established(now);
    assert!(b.is_established());
    let _ = a.send(now, StreamId(1), Ppid::BINARY, &[7; 3000], SendOptions::default());
    let mut rest = data;
    for _ in 0..64 {
        let [hi, lo, tail @ ..] = rest else { break };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (piece, next) = tail.split_at(len);
        rest = next;
        if piece.is_empty() {
            continue;
        }
        let mut p = piece.to_vec();
        if p[0] & 1 == 1 && p.len() >= 12 {
            p[4..8].copy_from_slice(&tag);
            write_checksum(&mut p);
        }
        now += Duration::from_millis(u64::from(p[0]));
        b.handle_receive(now, &p);
        b.handle_timeout(now);
        while let Some(out) = b.poll_transmit(now) {
            assert!(out.len() <= SctpConfig::default().mtu);
            a.handle_receive(now, &out);
        }
        while let Some(out) = a.poll_transmit(now) {
            b.handle_receive(now, &out);
        }
        // Read only every other round: data piles up but must stay within the window.
        if p[0] & 2 == 0 {
            while let Some(e) = b.poll_event() {
                if let SctpEvent::Aborted(_) = e {
                    return;
                }
            }
        }
        assert!(b.stats().local_rwnd <= SctpConfig::default().receive_window as usize);
    }
});
