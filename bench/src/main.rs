//! Side-by-side data-channel and media benchmarks: oxirtc, webrtc-rs and str0m, two peers in one process
//! over loopback UDP, host candidates only, the same workloads for each, every byte checked.
//!
//! `oxirtc-bench [--quick] [--runs N] [--stacks oxirtc,webrtc-rs,str0m] [--figures setup,bulk64,...]
//! [--media-window N]
//! [--oxirtc-plain] [--oxirtc-off zero-checksum,pmtud,gso] [--str0m-threads N]
//! [--str0m-writes-per-drain N] [--str0m-socket-buffer BYTES] [--str0m-sctp-buffer BYTES]
//! [--webrtc-socket-buffer BYTES] [--webrtc-reactors N]` (README.md says what each is for)

mod stacks;
mod workload;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use workload::{peak_rss_bytes, reset_peak_rss, rss_bytes, Outcome, Pattern, Transfer};

const STACKS: [&str; 3] = ["oxirtc", "webrtc-rs", "str0m"];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Figure {
    Setup,
    Bulk64,
    Bulk16,
    Small,
    Unreliable,
    CpuPerGb,
    IdleSteady,
    IdlePeak,
    MediaPps,
    MediaCpu,
    MediaIdleSteady,
    MediaIdlePeak,
}

impl Figure {
    const ALL: [Figure; 12] = [
        Figure::Setup,
        Figure::Bulk64,
        Figure::Bulk16,
        Figure::Small,
        Figure::Unreliable,
        Figure::CpuPerGb,
        Figure::IdleSteady,
        Figure::IdlePeak,
        Figure::MediaPps,
        Figure::MediaCpu,
        Figure::MediaIdleSteady,
        Figure::MediaIdlePeak,
    ];
    fn key(self) -> &'static str {
        match self {
            Figure::Setup => "setup_ms",
            Figure::Bulk64 => "bulk64_mbps",
            Figure::Bulk16 => "bulk16_mbps",
            Figure::Small => "small_kmsgs",
            Figure::Unreliable => "unreliable_kmsgs",
            Figure::CpuPerGb => "cpu_s_per_gb",
            Figure::IdleSteady => "idle_steady_kib",
            Figure::IdlePeak => "idle_peak_kib",
            Figure::MediaPps => "media_kpps",
            Figure::MediaCpu => "media_cpu_us_per_packet",
            Figure::MediaIdleSteady => "media_idle_steady_kib",
            Figure::MediaIdlePeak => "media_idle_peak_kib",
        }
    }
    fn short(self) -> &'static str {
        match self {
            Figure::Setup => "setup",
            Figure::Bulk64 | Figure::CpuPerGb => "bulk64",
            Figure::Bulk16 => "bulk16",
            Figure::Small => "small",
            Figure::Unreliable => "unreliable",
            Figure::IdleSteady | Figure::IdlePeak => "memory",
            Figure::MediaPps | Figure::MediaCpu => "media",
            Figure::MediaIdleSteady | Figure::MediaIdlePeak => "media-memory",
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
            Figure::IdleSteady => format!("KiB/conn. idle, steady ({} pairs)", s.idle_pairs),
            Figure::IdlePeak => format!("KiB/conn. peak, {PEAK_BATCH} at a time"),
            Figure::MediaPps => format!("{} x {} B video RTP, k pkt/s", s.media_count, MEDIA_PAYLOAD),
            Figure::MediaCpu => "CPU us per media packet".into(),
            Figure::MediaIdleSteady => format!("KiB/conn. a+v idle, steady ({} pairs)", s.idle_pairs),
            Figure::MediaIdlePeak => format!("KiB/conn. a+v peak, {PEAK_BATCH} at a time"),
        }
    }
}

struct Settings {
    runs: usize,
    setup_reps: usize,
    bulk_bytes: u64,
    small_count: u64,
    unreliable_count: u64,
    media_count: u64,
    /// Media packets the sender may have in flight to the receiving application (0: no limit).
    /// 1024 holds neither peer back: webrtc-rs and str0m deliver as much as with no limit (186 and
    /// 404 k pkt/s, 2026-12-08), while 256 cost them a fifth to a half.
    media_window: u64,
    idle_pairs: usize,
    stacks: Vec<&'static str>,
    figures: Vec<Figure>,
    /// The oxirtc column's label: which of its extras are off (`stacks::oxirtc::label`).
    oxirtc_label: String,
    /// str0m's loop threads for every figure (`--str0m-threads`); otherwise per figure, see
    /// `competitor_settings`.
    str0m_threads: Option<usize>,
    /// str0m's socket buffers for every figure (`--str0m-socket-buffer`, 0: the kernel's default).
    str0m_socket_buffer: Option<usize>,
    /// webrtc-rs's socket buffers for every figure (`--webrtc-socket-buffer`, 0: the kernel's
    /// default).
    webrtc_socket_buffer: Option<usize>,
    /// The stack-tuning arguments as given, handed on to the idle-memory children.
    tuning: Vec<String>,
    /// Internal: run one idle-memory measurement (stack, pairs, way) and exit.
    idle_child: Option<(String, usize, String)>,
}

/// Payload bytes per media packet (a full-size video packet).
const MEDIA_PAYLOAD: usize = 1200;

/// Pairs set up concurrently per step in the peak-RSS memory figure (the independent review's way).
const PEAK_BATCH: usize = 10;

fn parse_args() -> anyhow::Result<Settings> {
    let mut s = Settings {
        runs: 5,
        setup_reps: 20,
        bulk_bytes: 256 << 20,
        small_count: 1_000_000,
        unreliable_count: 100_000,
        media_count: 200_000,
        media_window: 1024,
        idle_pairs: 100,
        stacks: STACKS.to_vec(),
        figures: Figure::ALL.to_vec(),
        oxirtc_label: String::new(),
        str0m_threads: None,
        str0m_socket_buffer: None,
        webrtc_socket_buffer: None,
        tuning: Vec::new(),
        idle_child: None,
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
                s.media_count = 20_000;
                s.idle_pairs = 10;
            }
            "--runs" => s.runs = args.next().context("--runs N")?.parse()?,
            "--media-window" => s.media_window = args.next().context("--media-window N")?.parse()?,
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
            "--oxirtc-plain" => {
                for name in ["zero-checksum", "pmtud", "gso"] {
                    stacks::oxirtc::switch_off(name);
                }
                s.tuning.push(a);
            }
            "--oxirtc-off" => {
                let list = args.next().context("--oxirtc-off zero-checksum,pmtud,gso")?;
                for name in list.split(',') {
                    if !stacks::oxirtc::switch_off(name) {
                        bail!("--oxirtc-off: {name}? (zero-checksum, pmtud, gso)");
                    }
                }
                s.tuning.push(a);
                s.tuning.push(list);
            }
            "--str0m-threads"
            | "--str0m-writes-per-drain"
            | "--str0m-socket-buffer"
            | "--str0m-sctp-buffer"
            | "--webrtc-socket-buffer"
            | "--webrtc-reactors" => {
                let v = args.next().with_context(|| format!("{a} N"))?;
                let n: usize = if v == "max" { usize::MAX } else { v.parse()? };
                match a.as_str() {
                    "--str0m-threads" => s.str0m_threads = Some(n),
                    "--str0m-writes-per-drain" => stacks::str0m::set_writes_per_drain(n),
                    "--str0m-socket-buffer" => s.str0m_socket_buffer = Some(n),
                    "--str0m-sctp-buffer" => stacks::str0m::set_sctp_buffer(n),
                    "--webrtc-socket-buffer" => s.webrtc_socket_buffer = Some(n),
                    _ => stacks::webrtc_rs::set_reactors(n),
                }
                s.tuning.push(a);
                s.tuning.push(v);
            }
            "--idle-child" => {
                // Internal: measure idle memory of one stack in a fresh process.
                let stack = args.next().context("stack")?;
                let pairs: usize = args.next().context("pairs")?.parse()?;
                let way = args.next().context("steady|peak")?;
                s.idle_child = Some((stack, pairs, way));
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

type Held = Vec<Box<dyn std::any::Any + Send>>;

/// `pairs` connected pairs of `stack`, set up `batch` at a time, kept connected and driven: with an
/// open data channel, or (`media`) with one audio and one video transceiver and no channel.
fn idle_pairs(
    rt: &tokio::runtime::Runtime,
    stack: &str,
    pairs: usize,
    batch: usize,
    media: bool,
) -> anyhow::Result<Held> {
    match (stack, media) {
        ("oxirtc", false) => rt.block_on(stacks::oxirtc::idle_pairs(pairs, batch)),
        ("oxirtc", true) => rt.block_on(stacks::oxirtc::idle_media_pairs(pairs, batch)),
        ("webrtc-rs", false) => rt.block_on(stacks::webrtc_rs::idle_pairs(pairs, batch)),
        ("webrtc-rs", true) => rt.block_on(stacks::webrtc_rs::idle_media_pairs(pairs, batch)),
        (_, false) => stacks::str0m::idle_pairs(pairs, batch),
        (_, true) => stacks::str0m::idle_media_pairs(pairs, batch),
    }
}

fn run_media(
    rt: &tokio::runtime::Runtime,
    stack: &str,
    p: &Pattern,
    count: u64,
    window: u64,
) -> anyhow::Result<Outcome> {
    let p2 = p.clone();
    let w = workload::MediaWindow::new(window);
    match stack {
        "oxirtc" => on_workers(rt, async move {
            stacks::oxirtc::media(&p2, count, MEDIA_PAYLOAD, w).await
        }),
        "webrtc-rs" => on_workers(rt, async move {
            stacks::webrtc_rs::media(&p2, count, MEDIA_PAYLOAD, w).await
        }),
        _ => stacks::str0m::media(p, count, MEDIA_PAYLOAD, w),
    }
}

/// Settle time before the steady-state samples, their spacing and number.
const SETTLE: Duration = Duration::from_secs(2);
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
const SAMPLES: usize = 20;

/// In a fresh process: KiB per peer connection (two per pair) with `pairs` connected pairs, counted
/// from the RSS after the stack's one-time initialisation (one pair connected first and kept:
/// runtime or loop threads, crypto provider, lazy statics, first allocator arenas).
///
/// `steady`: pairs set up one at a time, then after `SETTLE` the median of `SAMPLES` RSS readings
/// `SAMPLE_EVERY` apart while they idle (driven by their tasks or loops the whole time).
/// `peak`: pairs set up `PEAK_BATCH` at a time (concurrently) until `pairs`; the peak RSS (VmHWM,
/// reset to the current RSS once the baseline is read) over that.
fn idle_child(stack: &str, pairs: usize, way: &str) -> anyhow::Result<f64> {
    // The process before any stack or runtime exists, for the note on stderr.
    let empty = rss_bytes();
    let rt = runtime()?;
    // Handles of async stacks are dropped at the end; they need the runtime's context.
    let _context = rt.enter();
    // "media-steady", "media-peak": pairs with an audio and a video transceiver instead of a channel.
    let (media, way) = match way.strip_prefix("media-") {
        Some(w) => (true, w),
        None => (false, way),
    };
    let warm = idle_pairs(&rt, stack, 1, 1, media)?;
    let before = rss_bytes();
    let grown = match way {
        "steady" => {
            let held = idle_pairs(&rt, stack, pairs, 1, media)?;
            rt.block_on(tokio::time::sleep(SETTLE));
            let mut samples = Vec::with_capacity(SAMPLES);
            for _ in 0..SAMPLES {
                rt.block_on(tokio::time::sleep(SAMPLE_EVERY));
                samples.push(rss_bytes() as f64);
            }
            let kib = |b: f64| (b - before as f64) / 1024.0 / (2 * pairs) as f64;
            eprintln!(
                "  ({stack} steady: per connection {:.1} to {:.1} KiB over the samples)",
                kib(samples.iter().copied().fold(f64::MAX, f64::min)),
                kib(samples.iter().copied().fold(0.0, f64::max)),
            );
            let grown = median(&mut samples) - before as f64;
            drop(held);
            grown
        }
        "peak" => {
            reset_peak_rss().context("resetting VmHWM (/proc/self/clear_refs)")?;
            let held = idle_pairs(&rt, stack, pairs, PEAK_BATCH, media)?;
            let grown = peak_rss_bytes().saturating_sub(before) as f64;
            drop(held);
            grown
        }
        other => bail!("unknown idle-memory way {other}"),
    };
    drop(warm);
    eprintln!(
        "  ({stack} {way}: counted from the empty process instead, {:.1} KiB per connection; \
         one-time initialisation and the first pair {:.0} KiB)",
        (grown + before.saturating_sub(empty) as f64) / 1024.0 / (2 * pairs) as f64,
        before.saturating_sub(empty) as f64 / 1024.0
    );
    Ok(grown / 1024.0 / (2 * pairs) as f64)
}

fn idle_memory(s: &Settings, stack: &str, way: &str) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(&s.tuning)
        .args(["--idle-child", stack, &s.idle_pairs.to_string(), way])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("{stack} idle-memory child ({way}) failed (its stderr is above)");
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
        competitor_settings(s, f);
        match f {
            Figure::Setup => {
                // One discarded set-up first: the first in a process pays one-time costs (loop
                // threads, crypto provider), and one after another stack's runs its clean-up.
                run_setup(rt, stack)?;
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
            Figure::CpuPerGb | Figure::MediaCpu => {}
            Figure::MediaPps => {
                let o = run_media(rt, stack, p, s.media_count, s.media_window)?;
                if o.received < s.media_count {
                    eprintln!(
                        "  ({stack}: {} of {} media packets arrived, {:.2} % lost)",
                        o.received,
                        s.media_count,
                        100.0 * (s.media_count - o.received) as f64 / s.media_count as f64
                    );
                }
                push(f, o.received as f64 / o.elapsed.as_secs_f64() / 1e3);
                if s.figures.contains(&Figure::MediaCpu) {
                    push(Figure::MediaCpu, o.cpu.as_secs_f64() * 1e6 / o.received as f64);
                }
            }
            Figure::IdleSteady => push(f, idle_memory(s, stack, "steady")?),
            Figure::IdlePeak => push(f, idle_memory(s, stack, "peak")?),
            Figure::MediaIdleSteady => push(f, idle_memory(s, stack, "media-steady")?),
            Figure::MediaIdlePeak => push(f, idle_memory(s, stack, "media-peak")?),
        }
    }
    Ok(())
}

/// Socket buffers asked for where a competitor is faster with them than with the kernel's default.
const BIG_SOCKET_BUFFER: usize = 2 * 1024 * 1024;

/// webrtc-rs's and str0m's settings for figure `f`, each the faster one in the runs of 2026-12-07
/// (bench/README.md, "How each stack is driven", has the figures), unless a flag fixes
/// it for every figure:
/// - str0m's loop threads: both peers on one thread for set-up, small and unreliable messages and
///   idle memory; one thread per peer for the bulk transfers (and so the CPU figure).
/// - socket buffers: 2 MiB (as oxirtc-tokio asks for), except where a stack is faster with the
///   kernel's default (208 KiB here): both for the small messages, str0m for the unreliable ones
///   (webrtc-rs's unreliable run stalled once in eight with the default and loses 1-3 %, so it keeps
///   2 MiB there).
fn competitor_settings(s: &Settings, f: Figure) {
    let bulk = matches!(
        f,
        Figure::Bulk64 | Figure::Bulk16 | Figure::CpuPerGb | Figure::MediaPps | Figure::MediaCpu
    );
    let str0m_default = matches!(f, Figure::Small | Figure::Unreliable);
    let webrtc_default = f == Figure::Small;
    let size = |default: bool| if default { 0 } else { BIG_SOCKET_BUFFER };
    stacks::str0m::set_threads(s.str0m_threads.unwrap_or(if bulk { 2 } else { 1 }));
    stacks::str0m::set_socket_buffer(s.str0m_socket_buffer.unwrap_or(size(str0m_default)));
    stacks::webrtc_rs::set_socket_buffer(s.webrtc_socket_buffer.unwrap_or(size(webrtc_default)));
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
    let oxirtc = &s.oxirtc_label;
    println!(
        "{:<40} {:>24} {:>24} {:>24} {:>9} {:>9}",
        "figure (min / median / max)", oxirtc, "webrtc-rs", "str0m", "ox/wrtc", "ox/str0m"
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
            "{{\"figure\":\"{}\",\"oxirtc\":{},\"webrtc_rs\":{},\"str0m\":{},\"runs\":{},\"oxirtc_config\":\"{}\"}}",
            f.key(),
            num("oxirtc"),
            num("webrtc-rs"),
            num("str0m"),
            s.runs,
            s.oxirtc_label
        ));
    }
    println!();
    for j in json {
        println!("{j}");
    }
}

fn main() -> anyhow::Result<()> {
    let mut s = parse_args()?;
    s.oxirtc_label = stacks::oxirtc::label();
    if let Some((stack, pairs, way)) = &s.idle_child {
        competitor_settings(&s, Figure::IdleSteady);
        let kib = idle_child(stack, *pairs, way)?;
        println!("{kib}");
        // Exit without tearing the pairs down (no close traffic, no waiting for drivers).
        std::process::exit(0);
    }
    println!(
        "settings: runs {}, stacks {}, tuning [{}]",
        s.runs,
        s.stacks.join(","),
        s.tuning.join(" ")
    );
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
