//! Prints where the estimator stands: the simulated links of `tests/common` (a FIFO bottleneck
//! with a base delay and seeded random loss, feedback every 50 ms, a synthetic encoder with a
//! keyframe every 3 s) for each capacity × RTT × loss, a 5 → 1 → 5 Mbit/s step and two flows
//! sharing a link.
//!
//! `cargo run -p oxirtc-cc --example sim --release` (a few seconds in release). Knobs, for
//! exploring: `SIM_PACING=2.5` (the pacing factor), `SIM_TRACE=rate_bps,rtt_ms,loss[,seconds]`
//! (one run as a time series; rate 0 is the 5 → 1 → 5 Mbit/s step), `SIM_DEBUG=from_us,to_us`
//! (with `SIM_TRACE`: every send and estimate in that window, to stderr).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;

fn main() {
    if let Ok(spec) = std::env::var("SIM_TRACE") {
        trace(&spec);
        return;
    }
    println!("| capacity | RTT | loss | time to 85 % | utilisation | p95 queue | p95 pacer | target/capacity | over-uses | probes |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &rate in &[300_000u64, 1_000_000, 2_500_000, 5_000_000, 10_000_000] {
        for &rtt in &[20u64, 100, 300] {
            for &loss in &[0.0, 0.01, 0.05] {
                let sc = scenario(rate, rtt, loss, 30);
                let traces = Sim::new(sc.clone()).run();
                let f = figures(&sc, &traces[0], 10_000_000, 30_000_000, 1.0);
                let stats = traces[0].stats.expect("stats");
                println!(
                    "| {} | {} ms | {} % | {} | {:.0} % | {:.0} ms | {:.0} ms | {:.2} | {} | {} |",
                    mbps(rate),
                    rtt,
                    loss * 100.0,
                    f.t85_s.map_or("never".to_string(), |t| format!("{t:.2} s")),
                    f.utilisation * 100.0,
                    f.p95_queue_ms,
                    f.p95_pacer_ms,
                    f.target_ratio,
                    stats.overuses,
                    stats.probes_created,
                );
            }
        }
    }
    println!();
    step();
    println!();
    fairness();
    println!();
    application_limited();
}

fn application_limited() {
    println!("| 1 → 5 Mbit/s at 10 s, encoder capped at 300 kbit/s until 20 s, RTT 100 ms | highest estimate 5-20 s | time to 85 % of 5 Mbit/s after the cap is lifted |");
    println!("|---|---|---|");
    let mut sc = scenario(1_000_000, 100, 0.0, 30);
    sc.rates = vec![(0, 1_000_000), (10_000_000, 5_000_000)];
    sc.encoder_caps = vec![(0, 300_000), (20_000_000, u64::MAX)];
    let traces = Sim::new(sc).run();
    let tr = &traces[0];
    let capped = (5_000_000..20_000_000)
        .step_by(100_000)
        .map(|t| target_at(tr, t))
        .max()
        .unwrap_or(0);
    let up = first_reaching(tr, 20_000_000, 0.85 * 5e6).map(|t| (t - 20_000_000) as f64 / 1e6);
    println!(
        "| | {} | {} |",
        mbps(capped),
        up.map_or("not within the run".to_string(), |u| format!("{u:.2} s"))
    );
}

/// A scenario with the knobs from the environment applied.
fn scenario(rate_bps: u64, rtt_ms: u64, loss: f64, seconds: i64) -> Scenario {
    let mut sc = Scenario::new(rate_bps, rtt_ms, loss, seconds);
    if let Ok(f) = std::env::var("SIM_PACING") {
        sc.cc.pacing_factor = f.parse().expect("SIM_PACING is a number");
    }
    if let Ok(w) = std::env::var("SIM_DEBUG") {
        let w: Vec<i64> = w
            .split(',')
            .map(|x| x.trim().parse().expect("SIM_DEBUG=from_us,to_us"))
            .collect();
        sc.debug = Some((w[0], w[1]));
    }
    sc
}

fn mbps(bps: u64) -> String {
    let s = format!("{:.2}", bps as f64 / 1e6);
    format!("{} Mbit/s", s.trim_end_matches('0').trim_end_matches('.'))
}

fn step() {
    println!("| step 5 → 1 → 5 Mbit/s (at 20 s, 40 s), RTT | back under 100 ms queue after the drop | peak queue | time to 85 % after the rise |");
    println!("|---|---|---|---|");
    for &rtt in &[20u64, 100, 300] {
        let mut sc = scenario(5_000_000, rtt, 0.0, 60);
        sc.rates = vec![(0, 5_000_000), (20_000_000, 1_000_000), (40_000_000, 5_000_000)];
        let traces = Sim::new(sc).run();
        let (back, peak) = recovery_after_drop(&traces[0], 20_000_000, 100_000);
        let up = first_reaching(&traces[0], 40_000_000, 0.85 * 5e6).map(|t| (t - 40_000_000) as f64 / 1e6);
        println!(
            "| {rtt} ms | {} | {peak:.0} ms | {} |",
            back.map_or("not within 5 s".to_string(), |b| format!("{b:.2} s")),
            up.map_or("not within the run".to_string(), |u| format!("{u:.2} s")),
        );
    }
}

fn fairness() {
    println!("| two flows on 2.5 Mbit/s, RTT 100 ms, second starts at 10 s | flow 1 share of half | flow 2 share of half | p95 queue |");
    println!("|---|---|---|---|");
    let mut sc = scenario(2_500_000, 100, 0.0, 60);
    sc.flow_starts = vec![0, 10_000_000];
    let traces = Sim::new(sc.clone()).run();
    let a = figures(&sc, &traces[0], 30_000_000, 60_000_000, 0.5);
    let b = figures(&sc, &traces[1], 30_000_000, 60_000_000, 0.5);
    println!(
        "| 30-60 s | {:.2} | {:.2} | {:.0} ms |",
        a.utilisation,
        b.utilisation,
        a.p95_queue_ms.max(b.p95_queue_ms)
    );
}

/// `SIM_TRACE=rate_bps,rtt_ms,loss[,seconds]`: one run as a time series, a line per 500 ms.
fn trace(spec: &str) {
    let v: Vec<f64> = spec
        .split(',')
        .map(|x| x.trim().parse().expect("a number"))
        .collect();
    let mut sc = scenario(v[0] as u64, v[1] as u64, v[2], v.get(3).map_or(30, |s| *s as i64));
    if v[0] == 0.0 {
        sc.rates = vec![(0, 5_000_000), (20_000_000, 1_000_000), (40_000_000, 5_000_000)];
    }
    let traces = Sim::new(sc.clone()).run();
    let tr = &traces[0];
    println!("t s | target | delay-based | loss-based | acked | delivered | max queue ms | state | overuses | probes | alr");
    for (t, s) in tr.samples.iter().step_by(5) {
        let bin = (*t / 100_000) as usize;
        let delivered: u64 = tr.media_bins[bin.saturating_sub(5)..bin].iter().sum();
        let maxq = tr
            .link_delays
            .iter()
            .filter(|(u, _)| (*t - 500_000..*t).contains(u))
            .map(|x| x.1)
            .max()
            .unwrap_or(0);
        println!(
            "{:5.1} | {:8} | {:8} | {:8} | {:8} | {:8} | {:4} | {:?} | {} | {} | {}",
            *t as f64 / 1e6,
            target_at(tr, *t),
            s.delay_based_bps,
            s.loss_based_bps,
            s.acked_bps.unwrap_or(0),
            delivered * 8 * 2,
            maxq / 1000,
            s.delay_state,
            s.overuses,
            s.probes_created,
            s.in_alr
        );
    }
}
