//! Helpers of the sender's unit tests: a sender with chunks in flight and SACKs to feed it.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Sender;
use crate::chunk::{encode_sack, Chunk, SackChunk};
use crate::{CongestionControl, SendOptions};

#[allow(clippy::disallowed_methods)] // the test owns the clock
pub(super) fn t0() -> Instant {
    Instant::now()
}

pub(super) fn sack(cum: u64, gaps: &[(u16, u16)], f: impl FnOnce(&SackChunk<'_>)) {
    let mut v = Vec::new();
    encode_sack(&mut v, cum as u32, 1 << 20, gaps, &[]);
    let Ok(Chunk::Sack(s)) = Chunk::parse(v[0], v[1], &v[4..]) else {
        panic!()
    };
    f(&s);
}

/// A sender with `n` single-chunk messages of 1000 bytes sent; returns it and the first TSN.
pub(super) fn sent(n: usize, opts: SendOptions) -> (Sender, u64, Instant) {
    let now = t0();
    let mut s = Sender::new(100, 1188, 4, CongestionControl::default());
    s.peer_rwnd = 1 << 20;
    s.peer_forward_tsn = true;
    s.cc = super::cc::reno_with_window(1188, 1 << 20);
    for i in 0..n {
        s.enqueue(
            now,
            (i % 2) as u16,
            53,
            Bytes::from(vec![i as u8; 1000]),
            opts,
            false,
        );
    }
    let first = s.next_tsn;
    while s.can_send_new() {
        let tsn = s.next_new_chunk(now, 1176).unwrap().tsn;
        s.on_chunk_sent(now, tsn);
    }
    (s, first, now)
}

pub(super) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Queues and sends `n` more 1000-byte messages at `now`.
pub(super) fn send_more(s: &mut Sender, now: Instant, n: usize) {
    for i in 0..n {
        s.enqueue(
            now,
            0,
            53,
            Bytes::from(vec![i as u8; 1000]),
            SendOptions::default(),
            false,
        );
    }
    while s.can_send_new() {
        let tsn = s.next_new_chunk(now, 1176).unwrap().tsn;
        s.on_chunk_sent(now, tsn);
    }
}

/// A SACK chunk with duplicate TSNs.
pub(super) fn sack_dups(cum: u64, dups: &[u64], f: impl FnOnce(&SackChunk<'_>)) {
    let mut v = Vec::new();
    let dups: Vec<u32> = dups.iter().map(|&d| d as u32).collect();
    encode_sack(&mut v, cum as u32, 1 << 20, &[], &dups);
    let Ok(Chunk::Sack(k)) = Chunk::parse(v[0], v[1], &v[4..]) else {
        panic!()
    };
    f(&k);
}
