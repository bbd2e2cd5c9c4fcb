//! Whole-network properties: determinism and packet conservation under every impairment at once.

mod common;

use std::time::{Duration, Instant};

use common::{drain, numbered, start};
use oxirtc_netsim::{Datagram, HostId, LinkConfig, NatConfig, Network};
use proptest::prelude::*;

/// Everything on: jitter, loss, duplication, reordering, a rate cap with a small queue, a NAT.
fn rough() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(15),
        jitter: Duration::from_millis(10),
        loss: 0.05,
        duplicate: 0.05,
        reorder: 0.05,
        rate_bps: Some(2_000_000),
        queue_bytes: 8_000,
        mtu: 1400,
    }
}

/// A client behind a NAT and a server exchanging traffic both ways; the trace is every delivery with its
/// time relative to the start.
fn trace(seed: u64, client_link: LinkConfig, server_link: LinkConfig, packets: &[(u16, u16)]) -> Trace {
    let t0 = start();
    let mut net = Network::new(seed, t0);
    let nat = net.add_nat([203, 0, 113, 1].into(), NatConfig::port_restricted());
    net.add_host([192, 168, 1, 2].into(), Some(nat), client_link);
    net.add_host([198, 51, 100, 1].into(), None, server_link);
    let mut out = Vec::new();
    let mut now = t0;
    for (i, &(gap_us, len)) in packets.iter().enumerate() {
        now += Duration::from_micros(u64::from(gap_us));
        record(&mut out, t0, common::drain_until(&mut net, now, now));
        net.send(
            now,
            numbered(
                "192.168.1.2:5000",
                "198.51.100.1:3478",
                i as u32,
                usize::from(len),
            ),
        );
        net.send(
            now,
            numbered(
                "198.51.100.1:3478",
                "203.0.113.1:5000",
                i as u32,
                usize::from(len),
            ),
        );
    }
    record(&mut out, t0, drain(&mut net, now));
    Trace {
        deliveries: out,
        stats: net.stats(),
        in_flight: net.in_flight(),
    }
}

#[derive(Debug, PartialEq)]
struct Trace {
    deliveries: Vec<(Duration, HostId, Datagram)>,
    stats: oxirtc_netsim::NetStats,
    in_flight: usize,
}

fn record(out: &mut Vec<(Duration, HostId, Datagram)>, t0: Instant, got: Vec<(Instant, HostId, Datagram)>) {
    out.extend(got.into_iter().map(|(at, h, d)| (at - t0, h, d)));
}

fn steady() -> Vec<(u16, u16)> {
    (0..500).map(|i| (2000, 200 + (i * 37 % 1300) as u16)).collect()
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = trace(1, rough(), rough(), &steady());
    let b = trace(1, rough(), rough(), &steady());
    let c = trace(2, rough(), rough(), &steady());
    assert!(a.deliveries.len() > 500, "traffic flows both ways");
    assert_eq!(a, b);
    assert_ne!(a.deliveries, c.deliveries);
}

fn link_strategy() -> impl Strategy<Value = LinkConfig> {
    (
        0u64..50,
        0u64..30,
        0.0..0.5,
        0.0..0.3,
        0.0..0.3,
        prop::option::of(100_000u64..10_000_000),
        1000usize..20_000,
    )
        .prop_map(
            |(delay, jitter, loss, duplicate, reorder, rate_bps, queue_bytes)| LinkConfig {
                delay: Duration::from_millis(delay),
                jitter: Duration::from_millis(jitter),
                loss,
                duplicate,
                reorder,
                rate_bps,
                queue_bytes,
                mtu: 1200,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every packet (and every duplicate) is delivered or counted as dropped exactly once, and a rerun with
    /// the same seed is identical.
    #[test]
    fn conservation_and_determinism(
        seed in any::<u64>(),
        client in link_strategy(),
        server in link_strategy(),
        packets in prop::collection::vec((0u16..5000, 0u16..1500), 1..200),
    ) {
        let a = trace(seed, client.clone(), server.clone(), &packets);
        let s = a.stats;
        prop_assert_eq!(a.in_flight, 0);
        prop_assert_eq!(s.sent, 2 * packets.len() as u64);
        prop_assert_eq!(s.delivered, a.deliveries.len() as u64);
        prop_assert_eq!(s.sent + s.duplicated, s.delivered + s.dropped());
        let times: Vec<Duration> = a.deliveries.iter().map(|(t, _, _)| *t).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "deliveries come out in time order");
        let b = trace(seed, client, server, &packets);
        prop_assert_eq!(a, b);
    }
}
