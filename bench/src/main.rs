//! Side-by-side data-channel benchmarks: oxirtc, webrtc-rs and str0m, two peers in one process over
//! loopback UDP, host candidates only, the same workloads for each, every byte checked.
//!
//! `oxirtc-bench [--quick] [--runs N] [--stacks oxirtc,webrtc-rs,str0m] [--figures setup,bulk64,...]`

mod stacks;
mod workload;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use workload::{rss_bytes, Outcome, Pattern, Transfer};

const STACKS: [&str; 3] = ["oxirtc", "webrtc-rs", "str0m"];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Figure {
    Setup,
    Bulk64,
    Bulk16,
    Small,
    Unreliable,
    CpuPerGb,
    IdleMemory,
}

impl Figure {
    const ALL: [Figure; 7] = [
        Figure::Setup,
        Figure::Bulk64,
        Figure::Bulk16,
        Figure::Small,
        Figure::Unreliable,
        Figure::CpuPerGb,
        Figure::IdleMemory,
    ];
    fn key(self) -> &'static str {
        match self {
            Figure::Setup => "setup_ms",
            Figure::Bulk64 => "bulk64_mbps",
            Figure::Bulk16 => "bulk16_mbps",
            Figure::Small => "small_kmsgs",
            Figure::Unreliable => "unreliable_kmsgs",
            Figure::CpuPerGb => "cpu_s_per_gb",
            Figure::IdleMemory => "idle_kib",
        }
    }
    fn short(self) -> &'static str {
        match self {
            Figure::Setup => "setup",
            Figure::Bulk64 | Figure::CpuPerGb => "bulk64",
            Figure::Bulk16 => "bulk16",
            Figure::Small => "small",
            Figure::Unreliable => "unreliable",
            Figure::IdleMemory => "memory",
        }
    }
    fn label(self, s: &Settings) -> String {
        match self {
            Figure::Setup => format!("set-up ms (median of {})", s.setup_reps),
            Figure::Bulk64 => format!("bulk {} MiB as 64 KiB, MB/s", s.bulk_bytes >> 20),
            Figure::Bulk16 => format!("bulk {} MiB as 16 KiB, MB/s", s.bulk_bytes >> 20),
            Figure::Small => format!("{} x 100 B reliable, k msg/s", s.small_count),
            Figure::Unreliable => format!("{} x 1000 B unreliable, k msg/s", s.unreliable_count),
            Figure::CpuPerGb => "CPU s per GB (bulk 64 KiB)".into(),
            Figure::IdleMemory => format!("KiB per idle connection ({} pairs)", s.idle_pairs),
        }
    }
}

struct Settings {
    runs: usize,
    setup_reps: usize,
    bulk_bytes: u64,
    small_count: u64,
    unreliable_count: u64,
    idle_pairs: usize,
    stacks: Vec<&'static str>,
    figures: Vec<Figure>,
}

fn parse_args() -> anyhow::Result<Settings> {
    let mut s = Settings {
        runs: 5,
        setup_reps: 20,
        bulk_bytes: 256 << 20,
        small_count: 1_000_000,
        unreliable_count: 100_000,
        idle_pairs: 100,
        stacks: STACKS.to_vec(),
        figures: Figure::ALL.to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                s.runs = 1;
                s.setup_reps = 3;
                s.bulk_bytes = 16 << 20;
                s.small_count = 50_000;
                s.unreliable_count = 10_000;
                s.idle_pairs = 10;
            }
            "--runs" => s.runs = args.next().context("--runs N")?.parse()?,
            "--stacks" => {
                let list = args.next().context("--stacks a,b")?;
                s.stacks = STACKS
                    .iter()
                    .copied()
                    .filter(|k| list.split(',').any(|x| x == *k))
                    .collect();
            }
            "--figures" => {
                let list = args.next().context("--figures a,b")?;
                s.figures = Figure::ALL
                    .iter()
                    .copied()
                    .filter(|f| list.split(',').any(|x| x == f.short() || x == f.key()))
                    .collect();
            }
            "--idle-child" => {
                // Internal: measure idle memory of one stack in a fresh process.
                let stack = args.next().context("stack")?;
                let pairs: usize = args.next().context("pairs")?.parse()?;
                let kib = idle_child(&stack, pairs)?;
                println!("{kib}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(s)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Runs an async stack's future on the runtime's worker threads (as an application's tasks would),
/// not on the main thread that `block_on` parks.
/// A workload that has not finished after this long is stalled (the slowest full run, webrtc-rs's
/// 256 MiB bulk, takes well under a minute here); its run is aborted and reported as such.
const STALL_LIMIT: Duration = Duration::from_secs(300);

fn on_workers<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    f: impl std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    rt.block_on(async {
        let mut task = tokio::spawn(f);
        match tokio::time::timeout(STALL_LIMIT, &mut task).await {
            Ok(joined) => joined.context("benchmark task panicked")?,
            Err(_) => {
                task.abort();
                bail!("stalled: not finished after {} s", STALL_LIMIT.as_secs())
            }
        }
    })
}

fn run_setup(rt: &tokio::runtime::Runtime, stack: &str) -> anyhow::Result<Duration> {
    match stack {
        "oxirtc" => on_workers(rt, stacks::oxirtc::setup()),
        "webrtc-rs" => on_workers(rt, stacks::webrtc_rs::setup()),
        _ => stacks::str0m::setup(),
    }
}

fn run_transfer(
    rt: &tokio::runtime::Runtime,
    stack: &str,
    p: &Pattern,
    t: Transfer,
) -> anyhow::Result<Outcome> {
    let p2 = p.clone();
    match stack {
        "oxirtc" => on_workers(rt, async move { stacks::oxirtc::transfer(&p2, t).await }),
        "webrtc-rs" => on_workers(rt, async move { stacks::webrtc_rs::transfer(&p2, t).await }),
        _ => stacks::str0m::transfer(p, t),
    }
}

/// In a fresh process: RSS growth per peer connection while `pairs` connected pairs sit idle.
fn idle_child(stack: &str, pairs: usize) -> anyhow::Result<f64> {
    let rt = runtime()?;
    // Handles of async stacks are dropped at the end; they need the runtime's context.
    let _context = rt.enter();
    // Warm up once (lazy statics, crypto provider, runtime threads) so only connections count.
    let warm = match stack {
        "oxirtc" => rt.block_on(stacks::oxirtc::idle_pairs(1))?,
        "webrtc-rs" => rt.block_on(stacks::webrtc_rs::idle_pairs(1))?,
        _ => stacks::str0m::idle_pairs(1)?,
    };
    let before = rss_bytes();
    let held = match stack {
        "oxirtc" => rt.block_on(stacks::oxirtc::idle_pairs(pairs))?,
        "webrtc-rs" => rt.block_on(stacks::webrtc_rs::idle_pairs(pairs))?,
        _ => stacks::str0m::idle_pairs(pairs)?,
    };
    rt.block_on(tokio::time::sleep(Duration::from_millis(500)));
    let after = rss_bytes();
    drop((warm, held));
    Ok(after.saturating_sub(before) as f64 / 1024.0 / (2 * pairs) as f64)
}

fn idle_memory(stack: &str, pairs: usize) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--idle-child", stack, &pairs.to_string()])
        .output()?;
    if !out.status.success() {
        bail!(
            "{stack} idle-memory child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

type Samples = BTreeMap<(Figure, &'static str), Vec<f64>>;

fn measure(
    s: &Settings,
    rt: &tokio::runtime::Runtime,
    p: &Pattern,
    run: usize,
    stack: &'static str,
    out: &mut Samples,
) -> anyhow::Result<()> {
    let mut push = |f: Figure, v: f64| {
        eprintln!("  run {run} {stack:>9} {:<18} {v:10.2}", f.key());
        out.entry((f, stack)).or_default().push(v);
    };
    for &f in &s.figures {
        match f {
            Figure::Setup => {
                let mut v = Vec::new();
                for _ in 0..s.setup_reps {
                    v.push(run_setup(rt, stack)?.as_secs_f64() * 1000.0);
                }
                push(f, median(&mut v));
            }
            Figure::Bulk64 | Figure::Bulk16 => {
                let size = if f == Figure::Bulk64 { 64 * 1024 } else { 16 * 1024 };
                let t = Transfer {
                    count: s.bulk_bytes / size as u64,
                    size,
                    reliable: true,
                };
                let o = run_transfer(rt, stack, p, t)?;
                push(f, o.bytes as f64 / o.elapsed.as_secs_f64() / 1e6);
                if f == Figure::Bulk64 && s.figures.contains(&Figure::CpuPerGb) {
                    push(Figure::CpuPerGb, o.cpu.as_secs_f64() / (o.bytes as f64 / 1e9));
                }
            }
            Figure::Small | Figure::Unreliable => {
                let t = if f == Figure::Small {
                    Transfer {
                        count: s.small_count,
                        size: 100,
                        reliable: true,
                    }
                } else {
                    Transfer {
                        count: s.unreliable_count,
                        size: 1000,
                        reliable: false,
                    }
                };
                let o = run_transfer(rt, stack, p, t)?;
                if o.received < t.count {
                    eprintln!(
                        "  ({stack}: {} of {} unreliable messages arrived)",
                        o.received, t.count
                    );
                }
                push(f, o.received as f64 / o.elapsed.as_secs_f64() / 1e3);
            }
            Figure::CpuPerGb => {}
            Figure::IdleMemory => push(f, idle_memory(stack, s.idle_pairs)?),
        }
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn report(s: &Settings, samples: &mut Samples) {
    println!();
    println!(
        "{:<40} {:>24} {:>24} {:>24} {:>9} {:>9}",
        "figure (min / median / max)", "oxirtc", "webrtc-rs", "str0m", "ox/wrtc", "ox/str0m"
    );
    let mut json = Vec::new();
    for f in Figure::ALL {
        if !s.figures.contains(&f) {
            continue;
        }
        let mut med = BTreeMap::new();
        let mut cells = Vec::new();
        for stack in STACKS {
            match samples.get_mut(&(f, stack)) {
                Some(v) if !v.is_empty() => {
                    let m = median(v);
                    med.insert(stack, m);
                    let n = if v.len() < s.runs {
                        format!(" ({} runs)", v.len())
                    } else {
                        String::new()
                    };
                    cells.push(format!("{:.1} / {:.1} / {:.1}{n}", v[0], m, v[v.len() - 1]));
                }
                _ => cells.push("-".into()),
            }
        }
        let ratio = |other: &str| match (med.get("oxirtc"), med.get(other)) {
            (Some(o), Some(x)) if *x > 0.0 => format!("{:.2}", o / x),
            _ => "-".into(),
        };
        println!(
            "{:<40} {:>24} {:>24} {:>24} {:>9} {:>9}",
            f.label(s),
            cells[0],
            cells[1],
            cells[2],
            ratio("webrtc-rs"),
            ratio("str0m")
        );
        let num = |k: &str| med.get(k).map_or("null".to_string(), |v| format!("{v:.3}"));
        json.push(format!(
            "{{\"figure\":\"{}\",\"oxirtc\":{},\"webrtc_rs\":{},\"str0m\":{},\"runs\":{}}}",
            f.key(),
            num("oxirtc"),
            num("webrtc-rs"),
            num("str0m"),
            s.runs
        ));
    }
    println!();
    for j in json {
        println!("{j}");
    }
}

fn main() -> anyhow::Result<()> {
    let s = parse_args()?;
    let rt = runtime()?;
    let pattern = Pattern::default();
    let mut samples = Samples::new();
    for run in 0..s.runs {
        // Alternate: each run starts with the next stack.
        for k in 0..s.stacks.len() {
            let stack = s.stacks[(run + k) % s.stacks.len()];
            if let Err(e) = measure(&s, &rt, &pattern, run, stack, &mut samples) {
                // A peer stack that stalls or fails loses this run's remaining samples, not the
                // whole table; oxirtc failing is an error of the bench run.
                if stack == "oxirtc" {
                    return Err(e.context(format!("oxirtc, run {run}")));
                }
                eprintln!("  run {run} {stack:>9} failed, its remaining figures skipped: {e:#}");
            }
        }
    }
    report(&s, &mut samples);
    Ok(())
}
