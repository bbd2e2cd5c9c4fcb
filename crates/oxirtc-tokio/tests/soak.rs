//! Leak and soak (issue 7 §6): peer connections opened, used and closed over and over in one
//! process leave no memory growth, no file descriptor and no task behind.
//!
//! The normal test run does a short pass; the full figures run with `OXIRTC_LONG=1`
//! (10,000 cycles; 200 concurrent connections for 5 minutes), best in release:
//! `OXIRTC_LONG=1 cargo test --release -p oxirtc-tokio --test soak -- --nocapture`.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use common::connected_pair;

use std::time::{Duration, Instant};

/// The two tests measure the whole process (RSS, fds, tasks): they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run<F: std::future::Future<Output = ()>>(test: F) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

fn long() -> bool {
    std::env::var("OXIRTC_LONG").is_ok_and(|v| v == "1")
}

/// Resident set size in KiB (Linux).
fn rss_kib() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// One cycle: connect, move 1 MiB (16 × 64 KiB, checked), close both sides.
async fn cycle(i: u32) {
    let (a, b, da, mut db) = tokio::time::timeout(Duration::from_secs(20), connected_pair())
        .await
        .unwrap_or_else(|_| panic!("cycle {i}: no connection within 20 s"));
    let send = async {
        for k in 0..16u8 {
            da.send_binary(vec![k; 64 * 1024]).await.unwrap();
        }
    };
    let receive = async {
        for k in 0..16u8 {
            let m = db.recv().await.unwrap();
            assert!(
                m.data.len() == 64 * 1024 && m.data.iter().all(|&x| x == k),
                "cycle {i} message {k}"
            );
        }
    };
    tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(send, receive) })
        .await
        .unwrap_or_else(|_| panic!("cycle {i}: 1 MiB not through in 20 s"));
    a.close().await;
    b.close().await;
}

/// Waits (bounded) until the runtime's alive tasks drop to `target`: drivers end asynchronously
/// after their handles go.
async fn tasks_settle(target: usize) -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = Instant::now() + Duration::from_secs(10);
    while metrics.num_alive_tasks() > target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    metrics.num_alive_tasks()
}

#[test]
fn open_use_close_cycles_leak_nothing() {
    run(open_use_close_cycles());
}

async fn open_use_close_cycles() {
    let cycles: u32 = if long() { 10_000 } else { 300 };
    let warm_up = 100;
    let tasks_before = tasks_settle(0).await;
    let fds_before = open_fds();
    let mut rss_after_warm_up = 0;
    for i in 0..cycles {
        cycle(i).await;
        if i + 1 == warm_up {
            tasks_settle(tasks_before).await;
            rss_after_warm_up = rss_kib();
        }
    }
    let tasks_after = tasks_settle(tasks_before).await;
    let fds_after = open_fds();
    let rss_after = rss_kib();
    eprintln!(
        "soak: {cycles} cycles; RSS after {warm_up}: {rss_after_warm_up} KiB, after all: {rss_after} KiB; \
         fds {fds_before} -> {fds_after}; tasks {tasks_before} -> {tasks_after}"
    );
    assert_eq!(tasks_after, tasks_before, "driver tasks left behind");
    assert_eq!(fds_after, fds_before, "file descriptors left open");
    assert!(
        rss_after <= rss_after_warm_up + 2048,
        "RSS grew {} KiB between cycle {warm_up} and cycle {cycles}",
        rss_after.saturating_sub(rss_after_warm_up)
    );
}

/// 200 concurrent connections in one process keep moving data (5 minutes with `OXIRTC_LONG=1`,
/// 20 connections for 5 s otherwise); every message is checked.
#[test]
fn many_concurrent_connections_sustain_traffic() {
    run(concurrent_traffic());
}

async fn concurrent_traffic() {
    let (pairs, run_for) = if long() {
        (200, Duration::from_secs(300))
    } else {
        (20, Duration::from_secs(5))
    };
    let mut tasks = Vec::new();
    for p in 0..pairs {
        let (a, b, da, mut db) = tokio::time::timeout(Duration::from_secs(30), connected_pair())
            .await
            .unwrap_or_else(|_| panic!("pair {p}: no connection"));
        tasks.push(tokio::spawn(async move {
            let end = Instant::now() + run_for;
            let mut n: u32 = 0;
            let sender = async {
                let mut k: u32 = 0;
                while Instant::now() < end {
                    let mut msg = k.to_be_bytes().to_vec();
                    msg.resize(1000, (k % 251) as u8);
                    da.send_binary(msg).await.unwrap();
                    k += 1;
                    if k.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
                da.send_text("end").await.unwrap();
            };
            let receiver = async {
                loop {
                    let m = db.recv().await.unwrap();
                    if !m.binary {
                        break;
                    }
                    assert_eq!(&m.data[..4], &n.to_be_bytes(), "pair {p}: message {n}");
                    n += 1;
                }
            };
            tokio::join!(sender, receiver);
            a.close().await;
            b.close().await;
            n
        }));
    }
    let mut total = 0u64;
    for t in tasks {
        let n = tokio::time::timeout(run_for + Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "a pair moved nothing");
        total += u64::from(n);
    }
    eprintln!("soak: {pairs} pairs for {run_for:?}: {total} messages of 1000 B checked");
}
