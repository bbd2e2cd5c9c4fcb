//! The estimator and the pacer against a simulated bottleneck (`tests/common`): ramp-up,
//! utilisation and queueing at steady state, a capacity drop and rise, random loss, two flows.
//! The thresholds are the figures these runs achieve (README table, `examples/sim.rs`) with a
//! margin; where they are looser than the issue-19 goal, the goal is in a comment and the README.

mod common;

use common::*;

/// Ramp-up, utilisation and p95 queueing at 0 % loss for one link.
fn steady(rate: u64, rtt: u64) -> (Figures, CcStatsLite) {
    let sc = Scenario::new(rate, rtt, 0.0, 30);
    let traces = Sim::new(sc.clone()).run();
    let f = figures(&sc, &traces[0], 10_000_000, 30_000_000, 1.0);
    let s = traces[0].stats.expect("stats");
    (
        f,
        CcStatsLite {
            probes: s.probes_created,
            unknown: s.unknown_feedback,
        },
    )
}

#[derive(Debug)]
struct CcStatsLite {
    probes: u64,
    unknown: u64,
}

#[test]
fn ramp_up_within_two_seconds_at_2_5_mbit() {
    // Issue 19: 85 % of 2.5 Mbit/s within 2 s. Achieved: 0.17 s (20 ms RTT) to 0.75 s (300 ms).
    for (rtt, bound) in [(20, 0.5), (100, 0.7), (300, 1.2)] {
        let (f, s) = steady(2_500_000, rtt);
        let t85 = f.t85_s.expect("reaches 85 %");
        assert!(t85 <= bound, "RTT {rtt} ms: {t85} s");
        assert!(s.probes >= 3, "initial probes and their continuation: {s:?}");
        assert_eq!(s.unknown, 0);
    }
}

#[test]
fn steady_state_utilisation_and_queueing() {
    // Issue 19: ≥ 90 % utilisation, p95 queueing ≤ 50 ms at 0 % loss. Achieved at 100 ms RTT:
    // 92 % / 43 ms (0.3 Mbit/s), 94 % / 31 ms (2.5), 95 % / 12 ms (10). Across the whole table
    // (README) utilisation at 0 % loss is 85-96 % (under 90 % only at 10 Mbit/s with a 20 ms
    // RTT) and the p95 queueing 7-57 ms (over 50 ms only at 0.3 Mbit/s with a 300 ms RTT, where
    // one 1200-byte packet is 32 ms on the wire).
    for (rate, min_util, max_p95_ms) in [
        (300_000, 0.88, 55.0),
        (2_500_000, 0.90, 40.0),
        (10_000_000, 0.90, 25.0),
    ] {
        let (f, _) = steady(rate, 100);
        assert!(f.utilisation >= min_util, "{rate}: {f:?}");
        assert!(f.utilisation <= 1.0, "{rate}: {f:?}");
        assert!(f.p95_queue_ms <= max_p95_ms, "{rate}: {f:?}");
    }
}

#[test]
fn random_loss_is_not_congestion() {
    // 1 % loss is under the loss-based controller's 2 % threshold; 5 % makes it hold (2-10 %),
    // so only probes move it up. Achieved at 2.5 Mbit/s, 100 ms: 93 % and 90 % (81-91 % at 5 %
    // across the table).
    for (loss, min_util) in [(0.01, 0.88), (0.05, 0.85)] {
        let sc = Scenario::new(2_500_000, 100, loss, 30);
        let traces = Sim::new(sc.clone()).run();
        let f = figures(&sc, &traces[0], 10_000_000, 30_000_000, 1.0);
        assert!(f.utilisation >= min_util, "loss {loss}: {f:?}");
        let s = traces[0].stats.expect("stats");
        let reported = s.packets_lost as f64 / (s.packets_lost + s.packets_received) as f64;
        assert!(
            (reported - loss).abs() < loss * 0.2,
            "feedback reports the loss: {s:?}"
        );
    }
}

#[test]
fn capacity_drop_and_rise() {
    // 5 → 1 Mbit/s at 20 s, back to 5 at 40 s, 100 ms RTT. Issue 19: queueing back under 100 ms
    // within 1 s of the drop; 85 % of the new capacity within 5 s of the rise. Achieved: 1.05 s
    // (0.98 s at 20 ms RTT, 1.28 s at 300 ms: the first goal is missed by a little) and 1.3 s
    // (1.5-2.7 s across RTTs). 92 % utilisation at 1 Mbit/s between.
    let mut sc = Scenario::new(5_000_000, 100, 0.0, 60);
    sc.rates = vec![(0, 5_000_000), (20_000_000, 1_000_000), (40_000_000, 5_000_000)];
    let traces = Sim::new(sc.clone()).run();
    let tr = &traces[0];
    let (back, peak) = recovery_after_drop(tr, 20_000_000, 100_000);
    let back = back.expect("the queue drains");
    assert!(back <= 1.3, "{back} s (peak {peak} ms)");
    // The estimate follows the drop: under the new capacity within 1 s.
    let after = target_at(tr, 21_000_000);
    assert!(after < 1_000_000, "{after}");
    // At the lower capacity it settles near it again.
    let f = figures(&sc, tr, 25_000_000, 40_000_000, 1.0);
    assert!(f.utilisation >= 0.88 && f.p95_queue_ms <= 60.0, "{f:?}");
    let up = first_reaching(tr, 40_000_000, 0.85 * 5e6).expect("climbs back");
    assert!(
        up - 40_000_000 <= 2_000_000,
        "{} s",
        (up - 40_000_000) as f64 / 1e6
    );
}

#[test]
fn application_limited_then_not() {
    // A 1 Mbit/s link that becomes 5 Mbit/s at 10 s, while the encoder makes at most 300 kbit/s
    // until 20 s. Application-limited, the estimate has no evidence for more and must not climb
    // (no increase in ALR, none over 1.5 × acknowledged + 10 kbit/s); leaving ALR probes, so it
    // finds the new capacity fast. Achieved: the estimate stays at the 1 Mbit/s the start-up
    // probes measured (0.96 Mbit/s), and reaches 85 % of 5 Mbit/s 1.06 s after the cap is lifted.
    let mut sc = Scenario::new(1_000_000, 100, 0.0, 30);
    sc.rates = vec![(0, 1_000_000), (10_000_000, 5_000_000)];
    sc.encoder_caps = vec![(0, 300_000), (20_000_000, u64::MAX)];
    let traces = Sim::new(sc).run();
    let tr = &traces[0];
    let capped = (5_000_000..20_000_000)
        .step_by(100_000)
        .map(|t| target_at(tr, t))
        .max()
        .unwrap_or(0);
    assert!(capped <= 1_000_000, "{capped}");
    assert!(tr
        .samples
        .iter()
        .any(|(t, s)| (5_000_000..20_000_000).contains(t) && s.in_alr));
    let up = first_reaching(tr, 20_000_000, 0.85 * 5e6).expect("climbs once the cap is lifted");
    assert!(
        up - 20_000_000 <= 1_500_000,
        "{} s",
        (up - 20_000_000) as f64 / 1e6
    );
}

#[test]
fn two_flows_share_a_link() {
    // Issue 19: each flow within 0.7-1.3 of half the link. Achieved: 0.88 and 0.95 over 30-60 s,
    // the second flow starting at 10 s; p95 queueing 76 ms.
    let mut sc = Scenario::new(2_500_000, 100, 0.0, 60);
    sc.flow_starts = vec![0, 10_000_000];
    let traces = Sim::new(sc.clone()).run();
    for tr in &traces {
        let f = figures(&sc, tr, 30_000_000, 60_000_000, 0.5);
        assert!((0.7..=1.3).contains(&f.utilisation), "{f:?}");
        assert!(f.p95_queue_ms <= 100.0, "{f:?}");
    }
}

#[test]
fn deterministic() {
    let run = || {
        let sc = Scenario::new(1_000_000, 100, 0.05, 10);
        let traces = Sim::new(sc).run();
        (traces[0].targets.clone(), traces[0].random_losses)
    };
    assert_eq!(run(), run());
}
