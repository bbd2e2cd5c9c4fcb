//! Property tests: random bytes and mutations of real flights never panic, never allocate past the
//! reassembly cap, and never break an established connection.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::sync::OnceLock;

use common::Pair;
use oxirtc_dtls::{DtlsConfig, MAX_BUFFERED};
use proptest::prelude::*;

/// Datagrams of one real handshake: (to the server?, bytes).
fn real_flights() -> &'static Vec<(bool, Vec<u8>)> {
    static FLIGHTS: OnceLock<Vec<(bool, Vec<u8>)>> = OnceLock::new();
    FLIGHTS.get_or_init(|| {
        let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 77);
        assert!(p.connect(200));
        p.client_sent
            .iter()
            .map(|d| (true, d.clone()))
            .chain(p.server_sent.iter().map(|d| (false, d.clone())))
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Splice(usize, usize),
}

fn apply(d: &[u8], m: &Mutation) -> Vec<u8> {
    let mut d = d.to_vec();
    match m {
        Mutation::Flip(i, x) if !d.is_empty() => {
            let n = d.len();
            d[i % n] ^= x | 1;
        }
        Mutation::Truncate(i) => d.truncate(i % (d.len() + 1)),
        Mutation::Insert(i, bytes) => {
            let at = i % (d.len() + 1);
            d.splice(at..at, bytes.iter().copied());
        }
        Mutation::Splice(i, j) => {
            let (a, b) = (i % (d.len() + 1), j % (d.len() + 1));
            d.drain(a.min(b)..a.max(b));
        }
        Mutation::Flip(..) => {}
    }
    d
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Splice(i, j)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8)) {
        let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 3);
        let now = p.now;
        p.client.start(now);
        for d in &datagrams {
            p.client.handle_receive(now, d);
            p.server.handle_receive(now, d);
            // Random bytes behind a valid record header reach the handshake parsers.
            let mut rec = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9];
            rec.extend_from_slice(&(d.len() as u16).to_be_bytes());
            rec.extend_from_slice(d);
            p.client.handle_receive(now, &rec);
            p.server.handle_receive(now, &rec);
        }
        prop_assert!(p.client.buffered_handshake_bytes() <= MAX_BUFFERED);
        prop_assert!(!p.client.is_connected() && !p.server.is_connected());
    }

    #[test]
    fn mutated_flights_never_panic(mutations in proptest::collection::vec((any::<usize>(), mutation()), 1..6)) {
        let flights = real_flights();
        let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 77);
        let now = p.now;
        p.client.start(now);
        for (pick, m) in &mutations {
            let (to_server, d) = &flights[pick % flights.len()];
            let bad = apply(d, m);
            if *to_server { p.server.handle_receive(now, &bad) } else { p.client.handle_receive(now, &bad) }
        }
        // Let whatever state this left play out; nothing may panic and memory stays capped.
        p.run_until(300, |_| false);
        prop_assert!(p.client.buffered_handshake_bytes() <= MAX_BUFFERED);
        prop_assert!(p.server.buffered_handshake_bytes() <= MAX_BUFFERED);
    }
}
