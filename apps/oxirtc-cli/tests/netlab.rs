//! End to end across a real NAT (issue 7 §1, §3): the built `oxirtc` binary runs inside netlab's
//! namespaces (netlab/netlab.sh): `oxirtc serve` (signaling + STUN/TURN) and `oxirtc recv` on the
//! public host, `oxirtc send` on the private host behind each RFC 4787 NAT type, under loss, delay
//! with jitter, a small MTU with duplication. Every transfer must end with equal SHA-256.
//!
//! Needs root, `ip`, `nft`, `iptables`, `tc`, `python3` (scripts/install-test-deps.sh); otherwise the
//! tests say why and skip, or fail with OXIRTC_REQUIRE_INTEROP=1.
//!
//! The normal run is a quick subset (1 MiB, five cells that must succeed) and the consent check. The
//! full matrix, every NAT type x every condition with a 64 MiB file, printed as the table of
//! docs/reliability.md; there too every cell must end with equal SHA-256 (a clear failure, both sides
//! exiting non-zero saying why, is tested on its own by `consent_stops_sending_within_30s` and
//! netlab_recovery.rs; in this matrix it is a failed cell):
//!
//! ```sh
//! OXIRTC_LONG=1 cargo test -p oxirtc-cli --test netlab send_recv -- --nocapture
//! ```
//! Knobs: `OXIRTC_NETLAB_CELLS="prc/loss5,symmetric+relay/clean"` runs only those cells (names
//! `NAT[+relay]/CONDITION`), `OXIRTC_NETLAB_MIB=N` changes the file size, `OXIRTC_NETLAB_BIN=PATH`
//! runs another `oxirtc` binary (e.g. target/release/oxirtc for throughput figures).
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;
mod netlab_lab;

use std::time::{Duration, Instant};

use netlab_lab::{available, long, serve, transfer, Lab};

/// The conditions of issue 7 §1: (name, netlab options). (d) is a real IP MTU of 1200 on the WAN
/// link: oxirtc's BASE packet size fits it (IPv4 + UDP + DTLS + TURN framing when relayed) and RFC
/// 8899 PLPMTUD finds nothing larger, so its probes are the only packets the link drops.
const CONDITIONS: &[(&str, &[&str])] = &[
    ("clean", &[]),
    ("loss5", &["--loss", "5"]),
    ("delay40j10", &["--delay", "40", "--jitter", "10"]),
    ("mtu1200dup2", &["--mtu", "1200", "--dup", "2"]),
];

/// The matrix's conditions (all of them; any beyond would only run as [`EXTRA`]).
const MATRIX_CONDITIONS: usize = 4;

/// Long-run cells beyond the matrix.
const EXTRA: &[(&str, bool, &str)] = &[];

/// (NAT type, sender uses the TURN relay only). The public host is not behind a NAT, so ICE finds a
/// direct path for every type (the public side learns the private side's mapping as a peer-reflexive
/// candidate); symmetric also runs relayed, the path a symmetric NAT on both sides would need.
const NATS: &[(&str, bool)] = &[
    ("none", false),
    ("fullcone", false),
    ("arc", false),
    ("prc", false),
    ("symmetric", false),
    ("symmetric", true),
];

/// The cells of the quick run: (NAT, relay, condition).
const QUICK: &[(&str, bool, &str)] = &[
    ("prc", false, "clean"),
    ("symmetric", true, "clean"),
    ("fullcone", false, "loss5"),
    ("none", false, "delay40j10"),
    ("arc", false, "mtu1200dup2"),
    ("symmetric", true, "mtu1200dup2"),
];

fn cell_name(nat: &str, relay: bool, cond: &str) -> String {
    format!("{nat}{}/{cond}", if relay { "+relay" } else { "" })
}

/// Runs one cell in a fresh lab; returns the table row, or the failure (a clear failure is one too).
fn run_cell(prefix: &str, (nat, relay, cond): (&str, bool, &str), bytes: usize) -> Result<String, String> {
    let opts = CONDITIONS.iter().find(|c| c.0 == cond).unwrap().1;
    let lab = Lab::up(prefix, &[&["--nat", nat][..], opts].concat());
    let (_serve, url) = serve(&lab);
    let dir = common::scratch(&format!("netlab-{prefix}"));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let file = src.join("payload.bin");
    common::random_file(&file, bytes, 0x5eed ^ bytes as u64);
    let into = dir.join("in");
    std::fs::create_dir_all(&into).unwrap();
    let started = Instant::now();
    let t = transfer(&lab, &url, &file, &into, relay, Duration::from_secs(1800));
    let secs = started.elapsed().as_secs_f64();
    let name = cell_name(nat, relay, cond);
    let path = if relay { "TURN relay" } else { "direct" };
    let size = format!("{} MiB", bytes >> 20);
    if t.ok {
        if t.relayed != Some(relay) {
            return Err(format!(
                "{name}: relayed {:?}, wanted {relay}: {}",
                t.relayed, t.detail
            ));
        }
        let mbps = t.mb_per_s.map_or("?".into(), |v| format!("{v:.2}"));
        return Ok(format!(
            "| {nat} | {path} | {cond} | {size} | SHA-256 equal | {mbps} | {secs:.0} s |"
        ));
    }
    let how = if t.clear_failure {
        "failed clearly (both exit 1, no file)"
    } else {
        "failed"
    };
    Err(format!("{name}: {how}: {}", t.detail))
}

fn run_cells(prefix: &str, cells: &[(String, bool, String)], bytes: usize) {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (nat, relay, cond) in cells {
        match run_cell(prefix, (nat, *relay, cond), bytes) {
            Ok(row) => {
                eprintln!("{row}");
                rows.push(row);
            }
            Err(e) => {
                eprintln!("FAILED {e}");
                failures.push(e);
            }
        }
    }
    eprintln!("| NAT | path | condition | file | result | MB/s | wall |\n|---|---|---|---|---|---|---|");
    for r in &rows {
        eprintln!("{r}");
    }
    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn send_recv_across_nat_types() {
    if !available("send_recv_across_nat_types") {
        return;
    }
    let only = std::env::var("OXIRTC_NETLAB_CELLS").ok();
    let cells: Vec<(String, bool, String)> = if long() {
        NATS.iter()
            .flat_map(|&(n, r)| {
                CONDITIONS[..MATRIX_CONDITIONS]
                    .iter()
                    .map(move |c| (n.to_owned(), r, c.0.to_owned()))
            })
            .chain(EXTRA.iter().map(|&(n, r, c)| (n.to_owned(), r, c.to_owned())))
            .collect()
    } else {
        QUICK
            .iter()
            .map(|&(n, r, c)| (n.to_owned(), r, c.to_owned()))
            .collect()
    };
    let cells: Vec<_> = cells
        .into_iter()
        .filter(|(n, r, c)| {
            only.as_deref()
                .is_none_or(|o| o.split(',').any(|w| w.trim() == cell_name(n, *r, c)))
        })
        .collect();
    let mib = std::env::var("OXIRTC_NETLAB_MIB")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(if long() { 64 } else { 1 });
    run_cells(&netlab_lab::prefix('x'), &cells, mib << 20);
}

/// Issue 7 §3, RFC 7675 §5.1: once the peer stops answering (netlab drops everything public ->
/// private mid-transfer), the private side stops sending to it within 30 s; the transfer fails
/// clearly (both sides exit non-zero) and nothing is renamed into place. Measured on the wire: the
/// NAT's counter of UDP packets private -> public must stop moving. `serve --no-turn` so that no
/// STUN/TURN traffic to the server is counted, only peer traffic.
#[test]
fn consent_stops_sending_within_30s() {
    if !available("consent_stops_sending_within_30s") {
        return;
    }
    // 20 Mbit/s: a 64 MiB transfer lasts ~27 s whatever the binary's speed, so it is cut mid-way
    let prefix = netlab_lab::prefix('c');
    let lab = Lab::up(&prefix, &["--nat", "prc", "--rate", "20mbit"]);
    let mut serve_cmd = lab.command("pub", netlab_lab::common_bin());
    serve_cmd.args([
        "serve",
        "--listen",
        "203.0.113.2:8080",
        "--no-turn",
        "--drain-timeout",
        "1",
    ]);
    let _serve = netlab_lab::spawn_printing_url(serve_cmd);
    let dir = common::scratch(&format!("netlab-{prefix}"));
    let file = dir.join("big.bin");
    common::random_file(&file, 64 << 20, 7);
    let into = dir.join("in");
    std::fs::create_dir_all(&into).unwrap();
    let run = std::thread::spawn({
        let (file, into, prefix) = (file.clone(), into.clone(), prefix.clone());
        move || {
            let lab = netlab_lab::Lab::attach(&prefix);
            transfer(
                &lab,
                "http://203.0.113.2:8080",
                &file,
                &into,
                false,
                Duration::from_secs(90),
            )
        }
    });
    // wait until data flows (the counter climbs fast), then cut the answers
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.counters()["up"].as_u64().unwrap() < 300 {
        assert!(Instant::now() < deadline, "no traffic: {}", lab.counters());
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.cut("down");
    let cut_at = Instant::now();
    let mut last = lab.counters()["up"].as_u64().unwrap();
    let mut last_change = cut_at;
    while cut_at.elapsed() < Duration::from_secs(45) {
        std::thread::sleep(Duration::from_millis(200));
        let up = lab.counters()["up"].as_u64().unwrap();
        if up != last {
            last = up;
            last_change = Instant::now();
        }
    }
    let stopped_after = last_change - cut_at;
    eprintln!(
        "consent: last packet private -> public {:.1} s after the cut; counters {}",
        stopped_after.as_secs_f64(),
        lab.counters()
    );
    lab.restore();
    let t = run.join().unwrap();
    assert!(
        stopped_after <= Duration::from_secs(30),
        "still sending {:.1} s after the peer stopped answering",
        stopped_after.as_secs_f64()
    );
    assert!(
        t.clear_failure,
        "both sides must exit non-zero saying why: {}",
        t.detail
    );
    assert!(
        !into.join("big.bin").exists(),
        "a truncated file was renamed into place"
    );
    // Issue 7 §2: the next run resumes from the `.part` and ends with the whole file.
    let again = transfer(
        &lab,
        "http://203.0.113.2:8080",
        &file,
        &into,
        false,
        Duration::from_secs(120),
    );
    assert!(
        again.ok && again.resumed,
        "the rerun must resume and complete: {}",
        again.detail
    );
}

/// Issue 7 §2: the path is cut both ways for 10 s mid-transfer, then restored; the transfer goes on
/// (SCTP retransmits with backed-off RTO, ICE consent has not expired yet) and ends with equal
/// SHA-256.
#[test]
fn outage_of_10s_then_restore_completes() {
    if !available("outage_of_10s_then_restore_completes") {
        return;
    }
    let prefix = netlab_lab::prefix('o');
    let lab = Lab::up(&prefix, &["--nat", "prc", "--rate", "20mbit"]);
    let (_serve, url) = serve(&lab);
    let dir = common::scratch(&format!("netlab-{prefix}"));
    let file = dir.join("outage.bin");
    common::random_file(&file, 24 << 20, 11);
    let into = dir.join("in");
    std::fs::create_dir_all(&into).unwrap();
    let run = std::thread::spawn({
        let (file, into, prefix, url) = (file.clone(), into.clone(), prefix.clone(), url.clone());
        move || {
            transfer(
                &Lab::attach(&prefix),
                &url,
                &file,
                &into,
                false,
                Duration::from_secs(150),
            )
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.counters()["up"].as_u64().unwrap() < 300 {
        assert!(Instant::now() < deadline, "no traffic: {}", lab.counters());
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.cut("both");
    std::thread::sleep(Duration::from_secs(10));
    let cut = lab.counters()["cut"].as_u64().unwrap();
    lab.restore();
    let t = run.join().unwrap();
    eprintln!(
        "outage: {cut} packets dropped in 10 s; after restore: ok {} {:?} MB/s",
        t.ok, t.mb_per_s
    );
    assert!(cut > 0, "the cut dropped nothing");
    assert!(t.ok, "the transfer must survive a 10 s outage: {}", t.detail);
}
