//! Where an idle oxirtc connection's memory goes: connects `N` pairs (default 20) through
//! `oxirtc-tokio` after one warm-up pair, lets them idle, then reports per peer connection the RSS
//! growth and the heap still live out of what was allocated after the warm-up, by allocation site
//! (the innermost frame in oxirtc, tokio, quinn-udp, bytes or crypto code) and by size. Bench-only: a counting global allocator that records a
//! backtrace for every allocation made while tracking is on (slow; a profiling tool, not a figure).
//!
//! `memprofile [PAIRS] [IDLE_SECONDS] [nosites]` (`nosites`: no recorder, so the RSS and malloc
//! totals are the connections' alone). With `MEMPROFILE_MEDIA=1` the pairs carry an audio and a video
//! transceiver instead of a data channel, as the media-memory figures' pairs do. With `MEMPROFILE_LEAK=1` the process exits without dropping
//! the connections, so a heap profiler's "leaked" report (`heaptrack`, which also sees C allocations
//! such as aws-lc's) is what they hold while idle.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use oxirtc_tokio::{Config, DataChannelInit, PeerConnection, PeerConnectionEvent};

struct Counting;

/// Record a backtrace for each allocation.
static TRACK: AtomicBool = AtomicBool::new(false);
/// Live tracked allocations: address → (size, where it was made).
static RECORDS: Mutex<Option<HashMap<usize, (usize, Backtrace)>>> = Mutex::new(None);

thread_local! {
    /// This thread is inside the recorder (whose own allocations are not recorded).
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn record(ptr: *mut u8, size: usize) {
    if !TRACK.load(Ordering::Relaxed) || BUSY.with(Cell::get) {
        return;
    }
    BUSY.with(|b| b.set(true));
    let bt = Backtrace::force_capture();
    if let Ok(mut r) = RECORDS.lock() {
        r.get_or_insert_with(HashMap::new)
            .insert(ptr as usize, (size, bt));
    }
    BUSY.with(|b| b.set(false));
}

fn forget(ptr: *mut u8) {
    if BUSY.with(Cell::get) {
        return;
    }
    BUSY.with(|b| b.set(true));
    if let Ok(mut r) = RECORDS.lock() {
        if let Some(map) = r.as_mut() {
            map.remove(&(ptr as usize));
        }
    }
    BUSY.with(|b| b.set(false));
}

// SAFETY: every call is passed on to `System` unchanged; the bookkeeping around it never touches
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            record(p, layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            record(p, layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        forget(ptr);
        System.dealloc(ptr, layout);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            forget(ptr);
            record(p, new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// glibc's `struct mallinfo2` (malloc(3)): every field a `size_t`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

extern "C" {
    /// glibc 2.33+: the allocator's totals over all arenas.
    fn mallinfo2() -> MallInfo2;
}

/// (bytes handed out, bytes free inside the arenas, bytes the arenas and mmapped chunks hold).
fn malloc_totals() -> (f64, f64, f64) {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value.
    let m = unsafe { mallinfo2() };
    let _ = (m.ordblks, m.smblks, m.hblks, m.usmblks, m.fsmblks, m.keepcost);
    (
        (m.uordblks + m.hblkhd) as f64,
        m.fordblks as f64,
        (m.arena + m.hblkhd) as f64,
    )
}

fn rss_kib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4.0
}

async fn pair() -> anyhow::Result<(PeerConnection, PeerConnection, Vec<Box<dyn std::any::Any + Send>>)> {
    if std::env::var_os("MEMPROFILE_MEDIA").is_some() {
        return media_pair().await;
    }
    let a = PeerConnection::new(Config::loopback()).await?;
    let b = PeerConnection::new(Config::loopback()).await?;
    let mut da = a.create_data_channel("bench", DataChannelInit::default()).await?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let mut db = loop {
        match b.next_event().await {
            Some(PeerConnectionEvent::DataChannel(dc)) => break dc,
            Some(_) => {}
            None => bail!("answerer ended before the channel arrived"),
        }
    };
    da.opened().await?;
    db.opened().await?;
    Ok((a, b, vec![Box::new(da), Box::new(db)]))
}

/// With `MEMPROFILE_MEDIA=1`: a pair as the bench's media-memory figures make it, the offerer sending an
/// audio and a video track, the answer receiving both, no data channel; connected, then idle.
async fn media_pair() -> anyhow::Result<(PeerConnection, PeerConnection, Vec<Box<dyn std::any::Any + Send>>)>
{
    use oxirtc::media::TrackKind;
    use oxirtc_tokio::PeerConnectionState;
    let a = PeerConnection::new(Config::loopback()).await?;
    let b = PeerConnection::new(Config::loopback()).await?;
    let audio = a.add_track(TrackKind::Audio, Some("bench")).await?;
    let video = a.add_track(TrackKind::Video, Some("bench")).await?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    for pc in [&a, &b] {
        loop {
            match pc.next_event().await {
                Some(PeerConnectionEvent::ConnectionState(PeerConnectionState::Connected)) => break,
                Some(_) => {}
                None => bail!("a peer ended before it connected"),
            }
        }
    }
    Ok((a, b, vec![Box::new(audio), Box::new(video)]))
}

/// The innermost frame of interest in a resolved backtrace, with its location.
fn site(bt: &Backtrace) -> String {
    let text = bt.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let interesting = [
        "oxirtc",
        "tokio::",
        "quinn_udp",
        "bytes::",
        "rustls",
        "aws_lc",
        "ring::",
    ];
    for (i, l) in lines.iter().enumerate() {
        let l = l.trim();
        // Frame lines look like "12: path::to::function".
        let Some((_, func)) = l.split_once(": ") else {
            continue;
        };
        if l.split(':')
            .next()
            .is_none_or(|n| n.trim().parse::<u32>().is_err())
        {
            continue;
        }
        if func.contains("memprofile") || !interesting.iter().any(|k| func.contains(k)) {
            continue;
        }
        let at = lines
            .get(i + 1)
            .map(|n| n.trim())
            .filter(|n| n.starts_with("at "))
            .map(|n| {
                let n = n.trim_start_matches("at ");
                // Keep the path from the crate directory on.
                n.rsplit_once("/crates/")
                    .map(|(_, p)| p.to_string())
                    .or_else(|| n.rsplit_once("/src/").map(|(_, p)| format!("…/src/{p}")))
                    .unwrap_or_else(|| n.to_string())
            })
            .unwrap_or_default();
        let func = func.split("::h").next().unwrap_or(func);
        return format!("{func} ({at})");
    }
    "(no oxirtc/tokio frame)".to_string()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let pairs: usize = args.next().map_or(Ok(20), |a| a.parse()).context("PAIRS")?;
    let idle: u64 = args.next().map_or(Ok(3), |a| a.parse()).context("IDLE_SECONDS")?;
    let sites = args.next().as_deref() != Some("nosites");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Timers and the handles' drops need the runtime's context.
    let _context = rt.enter();
    let _warm = rt.block_on(pair())?;
    rt.block_on(tokio::time::sleep(Duration::from_secs(1)));
    let rss0 = rss_kib();
    let malloc0 = malloc_totals();
    TRACK.store(sites, Ordering::Relaxed);
    let t0 = Instant::now();
    let mut held = Vec::new();
    for _ in 0..pairs {
        held.push(rt.block_on(pair())?);
    }
    eprintln!("{pairs} pairs up in {:.1} s", t0.elapsed().as_secs_f64());
    rt.block_on(tokio::time::sleep(Duration::from_secs(idle)));
    TRACK.store(false, Ordering::Relaxed);
    let conns = (2 * pairs) as f64;
    println!(
        "per connection after {idle} s idle: RSS {:.1} KiB{}",
        (rss_kib() - rss0) / conns,
        if sites {
            " (includes the recorder's backtraces)"
        } else {
            ""
        }
    );
    let malloc1 = malloc_totals();
    println!(
        "glibc malloc per connection: in use +{:.1} KiB, free inside its arenas +{:.1} KiB, \
         arenas and mmapped chunks +{:.1} KiB{}",
        (malloc1.0 - malloc0.0) / 1024.0 / conns,
        (malloc1.1 - malloc0.1) / 1024.0 / conns,
        (malloc1.2 - malloc0.2) / 1024.0 / conns,
        if sites {
            " (in use includes the recorder's backtraces)"
        } else {
            ""
        }
    );
    let records = RECORDS
        .lock()
        .map_err(|_| anyhow::anyhow!("records poisoned"))?
        .take()
        .unwrap_or_default();
    let mut by_site: HashMap<String, (usize, usize)> = HashMap::new();
    let mut by_size: HashMap<usize, (usize, usize)> = HashMap::new();
    for (size, bt) in records.values() {
        let e = by_site.entry(site(bt)).or_default();
        e.0 += size;
        e.1 += 1;
        let s = by_size.entry(*size).or_default();
        s.0 += size;
        s.1 += 1;
    }
    let total: usize = records.values().map(|(s, _)| s).sum();
    println!(
        "live tracked allocations: {} ({:.1} KiB per connection)",
        records.len(),
        total as f64 / 1024.0 / conns
    );
    let mut sites: Vec<_> = by_site.into_iter().collect();
    sites.sort_by_key(|s| std::cmp::Reverse(s.1 .0));
    println!("\nby site (bytes per connection, allocations per connection):");
    for (site, (bytes, n)) in sites.iter().take(40) {
        println!(
            "{:>9.0} B {:>6.1}  {site}",
            *bytes as f64 / conns,
            *n as f64 / conns
        );
    }
    let mut sizes: Vec<_> = by_size.into_iter().collect();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.1 .0));
    println!("\nby allocation size (bytes per connection, allocations per connection):");
    for (size, (bytes, n)) in sizes.iter().take(20) {
        println!(
            "{:>9.0} B {:>6.1}  size {size}",
            *bytes as f64 / conns,
            *n as f64 / conns
        );
    }
    if std::env::var_os("MEMPROFILE_LEAK").is_some() {
        // Exit with everything still live (see the module docs).
        std::mem::forget(held);
        std::process::exit(0);
    }
    drop(held);
    Ok(())
}
