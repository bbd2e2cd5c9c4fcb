//! Bulk transfer at a real RTT with loss and reordering (issue 5's lossy figure, issue 7 §1 jitter):
//! one association moves N MiB to the other over 40 ms each way, 1 % loss each way, with and without
//! ±10 ms jitter (which reorders packets sent less than 20 ms apart), on the virtual clock.
//!
//! Each test prints goodput, T3 expirations, fast (RACK / 3-miss) retransmits, tail loss probes and
//! spurious retransmissions (DATA the receiver already had), and asserts a floor. Run with
//! `cargo test -p oxirtc-sctp --test lossy_path -- --nocapture` to see the figures.

mod common;

use std::time::Duration;

use common::{payload, Link, Side, Sim};
use oxirtc_sctp::{Ppid, SctpError, SendOptions, StreamId};

/// What one transfer measured.
#[derive(Debug)]
struct Figures {
    goodput_mbps: f64,
    t3: u64,
    fast: u64,
    retransmissions: u64,
    spurious: u64,
    tlp: u64,
}

/// 40 ms each way, `loss_permille` loss, `jitter_ms` uniform jitter.
fn link(loss_permille: u64, jitter_ms: u64) -> Link {
    Link {
        delay: Duration::from_millis(40),
        jitter: Duration::from_millis(jitter_ms),
        loss_permille,
    }
}

/// Moves `mib` MiB from A to B as 64 KiB ordered messages and returns the figures.
fn transfer(seed: u8, l: Link, mib: usize) -> Figures {
    let mut sim = Sim::default_pair(seed, l);
    sim.connect_both();
    let msg = 64 << 10;
    let count = ((mib << 20) / msg) as u64;
    let mut next = 0u64;
    let mut pending: Option<Vec<u8>> = None;
    let start = sim.now;
    let ok = sim.run_until(Duration::from_secs(3600), |s| {
        while next < count {
            let now = s.now;
            let data = pending.take().unwrap_or_else(|| payload(next, msg));
            match s
                .assoc(Side::A)
                .send(now, StreamId(1), Ppid::BINARY, &data, SendOptions::default())
            {
                Ok(()) => next += 1,
                Err(SctpError::WouldBlock { .. }) => {
                    pending = Some(data);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        Sim::count(&s.events_b) as u64 == count
    });
    assert!(ok, "transfer incomplete");
    let took = sim.now - start;
    let msgs = Sim::messages(&sim.events_b);
    for (i, (_, _, data)) in msgs.iter().enumerate() {
        assert!(
            *data == payload(i as u64, msg),
            "message {i} corrupted or out of order"
        );
    }
    let (a, b) = (sim.a.stats(), sim.b.stats());
    Figures {
        goodput_mbps: (count as usize * msg) as f64 / took.as_secs_f64() / 1e6,
        t3: a.t3_expirations,
        fast: a.fast_retransmits,
        retransmissions: a.retransmissions,
        spurious: b.duplicate_chunks_received,
        tlp: a.loss_probes,
    }
}

/// Runs `seeds` transfers and prints each; returns the median goodput and the summed counters.
fn figure(name: &str, l: Link, mib: usize, seeds: std::ops::Range<u8>) -> (f64, Vec<Figures>) {
    let mut runs: Vec<Figures> = seeds.map(|s| transfer(s, l, mib)).collect();
    for f in &runs {
        eprintln!(
            "{name}: {mib} MiB {:.3} MB/s, T3 {}, fast rtx {}, TLP {}, rtx {}, spurious {}",
            f.goodput_mbps, f.t3, f.fast, f.tlp, f.retransmissions, f.spurious
        );
    }
    runs.sort_by(|x, y| x.goodput_mbps.total_cmp(&y.goodput_mbps));
    (runs[runs.len() / 2].goodput_mbps, runs)
}

#[test]
fn one_percent_loss_at_80ms_rtt() {
    let (median, runs) = figure("80 ms RTT, 1 % loss", link(10, 0), 4, 1..4);
    let t3: u64 = runs.iter().map(|f| f.t3).sum();
    // Reno's ceiling here (Mathis: 1.22 * MSS / (RTT * sqrt(p))) is about 0.18 MB/s; recovery that
    // stays out of T3 gets near it. Before RACK/TLP: 0.107-0.122 MB/s and 12-18 T3 per run.
    assert!(median >= 0.15, "median goodput {median:.3} MB/s");
    assert!(
        t3 <= 6,
        "{t3} T3 expirations in 3 runs: loss recovery falls back to the timer"
    );
}

#[test]
fn one_percent_loss_with_reordering_jitter() {
    let (median, runs) = figure("80 ms RTT ±10 ms jitter, 1 % loss", link(10, 10), 4, 1..4);
    let spurious: u64 = runs.iter().map(|f| f.spurious).sum();
    // Before RACK: 0.100-0.114 MB/s, 80-84 spurious retransmissions per run.
    assert!(median >= 0.13, "median goodput {median:.3} MB/s");
    assert!(
        spurious <= 100,
        "{spurious} spurious retransmissions: reordering taken for loss"
    );
}

#[test]
fn reordering_alone_is_not_loss() {
    let (median, runs) = figure("80 ms RTT ±10 ms jitter, no loss", link(0, 10), 4, 1..2);
    // Before RACK: 0.120 MB/s, 85 spurious retransmissions.
    assert!(median >= 0.4, "median goodput {median:.3} MB/s");
    assert!(
        runs[0].spurious <= 20,
        "{} spurious retransmissions",
        runs[0].spurious
    );
    assert_eq!(runs[0].t3, 0, "no loss, so no timeout");
}

#[test]
fn a_lost_tail_is_recovered_by_a_probe_not_by_t3() {
    let mut sim = Sim::default_pair(7, link(0, 0));
    sim.connect_both();
    // Warm up with a bulk message (SACKs every second packet, not delayed): SRTT = 80 ms, so the
    // probe timeout is 2·SRTT + 2 ms = 162 ms, inside RTO.Min (200 ms).
    let now = sim.now;
    sim.a
        .send(
            now,
            StreamId(1),
            Ppid::BINARY,
            &payload(0, 64 << 10),
            SendOptions::default(),
        )
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(10), |s| Sim::count(&s.events_b) == 1));
    let before = Sim::count(&sim.events_b);
    // A burst of five messages, one per packet; the last packet (the tail) is lost once.
    let mut dropped = false;
    sim.filter = Some(Box::new(move |side, _, p| {
        let tail = p.windows(16).any(|w| w.iter().all(|&b| b == 0xEE));
        if side == Side::A && tail && !dropped {
            dropped = true;
            return None;
        }
        Some(p)
    }));
    let now = sim.now;
    for i in 0..5u8 {
        let fill = if i == 4 { 0xEE } else { i };
        sim.a
            .send(
                now,
                StreamId(1),
                Ppid::BINARY,
                &[fill; 1000],
                SendOptions::default(),
            )
            .unwrap();
    }
    let start = sim.now;
    assert!(sim.run_until(Duration::from_secs(10), |s| Sim::count(&s.events_b) == before + 5));
    let took = sim.now - start;
    let st = sim.a.stats();
    eprintln!(
        "lost tail recovered in {took:?}: T3 {}, probes {}, rto {:?}",
        st.t3_expirations, st.loss_probes, st.rto
    );
    assert_eq!((st.t3_expirations, st.loss_probes), (0, 1));
    assert!(took < Duration::from_millis(400), "{took:?}");
}
