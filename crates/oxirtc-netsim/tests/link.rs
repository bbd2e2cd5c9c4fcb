//! Link behaviour: delay, jitter, loss, duplication, reordering, rate limiting, MTU.

mod common;

use std::time::{Duration, Instant};

use common::{drain, drain_until, number, numbered, start};
use oxirtc_netsim::{HostId, LinkConfig, Network};

const A: &str = "198.51.100.1:1000";
const B: &str = "198.51.100.2:2000";

/// Two public hosts A and B with the given access links.
fn pair(seed: u64, a: LinkConfig, b: LinkConfig) -> (Network, Instant) {
    let (net, t0, _) = pair_with_ids(seed, a, b);
    (net, t0)
}

fn pair_with_ids(seed: u64, a: LinkConfig, b: LinkConfig) -> (Network, Instant, [HostId; 2]) {
    let t0 = start();
    let mut net = Network::new(seed, t0);
    let a = net.add_host([198, 51, 100, 1].into(), None, a);
    let b = net.add_host([198, 51, 100, 2].into(), None, b);
    (net, t0, [a, b])
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn delay_and_jitter_stay_within_bounds() {
    let up = LinkConfig {
        delay: ms(30),
        jitter: ms(10),
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(1, up, LinkConfig::with_delay(ms(5)));
    for i in 0..1000u32 {
        net.send(t0 + ms(u64::from(i)), numbered(A, B, i, 100));
    }
    let got = drain(&mut net, t0);
    assert_eq!(got.len(), 1000);
    let latencies: Vec<Duration> = got
        .iter()
        .map(|(at, _, d)| *at - (t0 + ms(u64::from(number(d)))))
        .collect();
    let (min, max) = (latencies.iter().min().unwrap(), latencies.iter().max().unwrap());
    assert!(
        *min >= ms(25) && *max <= ms(45),
        "latency {min:?}..{max:?} outside 35±10 ms"
    );
    // The jitter really spreads: the range is mostly covered.
    assert!(
        *min < ms(28) && *max > ms(42),
        "latency {min:?}..{max:?} barely jitters"
    );
}

#[test]
fn zero_delay_is_instant() {
    let (mut net, t0) = pair(1, LinkConfig::default(), LinkConfig::default());
    net.send(t0, numbered(A, B, 7, 10));
    assert_eq!(net.poll_timeout(), Some(t0));
    let (_, d) = net.poll_delivery(t0).expect("delivered at once");
    assert_eq!((d.source, d.destination), (common::addr(A), common::addr(B)));
}

#[test]
fn loss_rate_within_tolerance() {
    let lossy = LinkConfig {
        loss: 0.1,
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(7, lossy, LinkConfig::default());
    for i in 0..10_000u32 {
        net.send(t0 + ms(u64::from(i)), numbered(A, B, i, 50));
    }
    let got = drain(&mut net, t0);
    let stats = net.stats();
    assert_eq!(stats.dropped_loss as usize + got.len(), 10_000);
    let rate = stats.dropped_loss as f64 / 10_000.0;
    assert!((rate - 0.1).abs() < 0.01, "loss rate {rate}");
}

#[test]
fn loss_applies_on_both_links() {
    let half = LinkConfig {
        loss: 0.5,
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(3, half.clone(), half);
    for i in 0..10_000u32 {
        net.send(t0, numbered(A, B, i, 50));
    }
    let delivered = drain(&mut net, t0).len() as f64 / 10_000.0;
    assert!((delivered - 0.25).abs() < 0.02, "delivered fraction {delivered}");
}

#[test]
fn duplication_makes_extra_copies() {
    let dup = LinkConfig {
        duplicate: 0.2,
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(11, dup, LinkConfig::default());
    for i in 0..10_000u32 {
        net.send(t0 + ms(u64::from(i)), numbered(A, B, i, 50));
    }
    let got = drain(&mut net, t0);
    let stats = net.stats();
    assert_eq!(got.len() as u64, 10_000 + stats.duplicated);
    assert_eq!(stats.delivered, got.len() as u64);
    let rate = stats.duplicated as f64 / 10_000.0;
    assert!((rate - 0.2).abs() < 0.015, "duplication rate {rate}");
    let mut numbers: Vec<u32> = got.iter().map(|(_, _, d)| number(d)).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 10_000, "every packet arrives at least once");
}

fn inversions(numbers: &[u32]) -> usize {
    numbers.windows(2).filter(|w| w[1] < w[0]).count()
}

#[test]
fn jitter_alone_keeps_order_reorder_breaks_it() {
    let jittery = LinkConfig {
        delay: ms(40),
        jitter: ms(30),
        ..LinkConfig::default()
    };
    for (reorder, expect_reordered) in [(0.0, false), (0.1, true)] {
        let up = LinkConfig {
            reorder,
            ..jittery.clone()
        };
        let down = LinkConfig {
            reorder,
            ..jittery.clone()
        };
        let (mut net, t0) = pair(5, up, down);
        for i in 0..2000u32 {
            net.send(t0 + ms(u64::from(i / 4)), numbered(A, B, i, 50));
        }
        let got: Vec<u32> = drain(&mut net, t0).iter().map(|(_, _, d)| number(d)).collect();
        assert_eq!(got.len(), 2000, "reordering loses nothing");
        let n = inversions(&got);
        assert_eq!(n > 0, expect_reordered, "reorder={reorder}: {n} inversions");
    }
}

#[test]
fn rate_limit_throughput_matches_rate() {
    // 1 Mbit/s with a 10 kB queue, offered 2 Mbit/s for 2 s: 1250-byte packets every 5 ms.
    let shaped = LinkConfig {
        rate_bps: Some(1_000_000),
        queue_bytes: 10_000,
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(2, shaped, LinkConfig::default());
    let mut delivered_bytes = 0usize;
    let mut now = t0;
    for i in 0..400u32 {
        now = t0 + ms(5 * u64::from(i));
        for (_, _, d) in drain_until(&mut net, now, now) {
            delivered_bytes += d.payload.len();
        }
        net.send(now, numbered(A, B, i, 1250));
    }
    for (_, _, d) in drain_until(&mut net, now, now) {
        delivered_bytes += d.payload.len();
    }
    let elapsed = (now - t0).as_secs_f64();
    let bps = delivered_bytes as f64 * 8.0 / elapsed;
    assert!((bps - 1_000_000.0).abs() < 30_000.0, "throughput {bps} bit/s");
    let stats = net.stats();
    assert!(
        stats.dropped_queue > 150,
        "about half the offered load is tail-dropped: {stats:?}"
    );
    drain(&mut net, now);
    assert_eq!(net.stats().delivered + net.stats().dropped_queue, 400);
}

#[test]
fn full_queue_tail_drops_and_serializes_back_to_back() {
    // 1000-byte packets take 8 ms at 1 Mbit/s; the 5000-byte queue holds five.
    let shaped = LinkConfig {
        rate_bps: Some(1_000_000),
        queue_bytes: 5_000,
        ..LinkConfig::default()
    };
    let (mut net, t0) = pair(2, shaped, LinkConfig::default());
    for i in 0..20u32 {
        net.send(t0, numbered(A, B, i, 1000));
    }
    let got = drain(&mut net, t0);
    let times: Vec<Duration> = got.iter().map(|(at, _, _)| *at - t0).collect();
    assert_eq!(times, [ms(8), ms(16), ms(24), ms(32), ms(40)]);
    let numbers: Vec<u32> = got.iter().map(|(_, _, d)| number(d)).collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4], "the tail is dropped, not the head");
    assert_eq!(net.stats().dropped_queue, 15);
}

#[test]
fn oversize_packets_are_dropped() {
    let small = LinkConfig {
        mtu: 1200,
        ..LinkConfig::default()
    };
    // On the sender's link and on the receiver's.
    for (up, down) in [
        (small.clone(), LinkConfig::default()),
        (LinkConfig::default(), small),
    ] {
        let (mut net, t0) = pair(1, up, down);
        net.send(t0, numbered(A, B, 1, 1200));
        net.send(t0, numbered(A, B, 2, 1201));
        let got = drain(&mut net, t0);
        assert_eq!(got.len(), 1);
        assert_eq!(number(&got[0].2), 1);
        assert_eq!(net.stats().dropped_mtu, 1);
    }
}

#[test]
fn set_link_cuts_and_restores_the_path() {
    let (mut net, t0, [a, _]) = pair_with_ids(1, LinkConfig::with_delay(ms(10)), LinkConfig::default());
    net.send(t0, numbered(A, B, 0, 10));
    net.set_link(
        a,
        LinkConfig {
            loss: 1.0,
            ..LinkConfig::with_delay(ms(10))
        },
    );
    net.send(t0 + ms(1), numbered(A, B, 1, 10));
    net.set_link(a, LinkConfig::with_delay(ms(10)));
    net.send(t0 + ms(2), numbered(A, B, 2, 10));
    let numbers: Vec<u32> = drain(&mut net, t0).iter().map(|(_, _, d)| number(d)).collect();
    assert_eq!(
        numbers,
        [0, 2],
        "the packet in flight before the cut still arrives"
    );
    assert_eq!(net.stats().dropped_loss, 1);
}
