//! Hostile TURN clients (issue 7 §5) against `oxirtc turn`, while an honest relay-only peer
//! connection moves data through the same server: an unauthenticated Allocate flood from one source
//! (its 401s stay rate-limited) and 10,000 allocation attempts by one user over its quota (each one
//! refused with 486). The honest transfer must complete with every message echoed intact.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use common::{free_udp_port as free_port, Kill};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ClientConfig, TurnClient, TurnError, TurnEvent};

const USER_QUOTA: usize = 10;
const UNAUTH_RATE: u64 = 20;

#[test]
fn floods_and_over_quota_allocations_leave_honest_relaying_intact() {
    let bin = env!("CARGO_BIN_EXE_oxirtc");
    let port = free_port();
    let metrics_port = free_port();
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Relay ports below the ephemeral range, a range of this test's own.
    let min = 24_000 + (port % 100) * 40;
    let _turn = Kill(
        Command::new(bin)
            .args(["turn", "--listen", &server.to_string()])
            .args([
                "--user",
                "honest:pw",
                "--user",
                "greedy:pw",
                "--allow-loopback-peers",
            ])
            .args(["--user-quota", &USER_QUOTA.to_string()])
            .args(["--unauth-rate", &UNAUTH_RATE.to_string()])
            .args([
                "--min-port",
                &min.to_string(),
                "--max-port",
                &(min + 39).to_string(),
            ])
            .args(["--metrics", &format!("127.0.0.1:{metrics_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));

    // The honest pair: `oxirtc echo` and `oxirtc dial`, both relay-only through the server.
    let relay = [
        "--turn",
        &format!("turn:{server}"),
        "--turn-user",
        "honest",
        "--turn-password",
        "pw",
        "--relay",
    ];
    let mut echo = Kill(
        Command::new(bin)
            .arg("echo")
            .args(relay)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(echo.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.strip_prefix("LISTENING ").unwrap().trim().to_owned();

    // The floods start first and run until the honest transfer is over.
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || unauthenticated_flood(server, &stop))
    };
    let greedy = std::thread::spawn(move || over_quota_attempts(server, 10_000));
    std::thread::sleep(Duration::from_millis(200));

    let out = Command::new(bin)
        .args([
            "dial",
            &url,
            "--messages",
            "300",
            "--binary",
            "--size",
            "1000",
            "--timeout",
            "60",
        ])
        .args(relay)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let greedy = greedy.join().unwrap();
    stop.store(true, Ordering::Release);
    let (sent, answered, elapsed) = flood.join().unwrap();

    eprintln!(
        "turn_hostile: flood {sent} requests from one source in {elapsed:?}, {answered} answered; \
         greedy user: {} granted, {} refused with 486; honest: {}",
        greedy.0, greedy.1, json
    );
    assert!(
        out.status.success(),
        "the honest transfer failed under attack: {json:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One source got at most UNAUTH_RATE answers per second (plus one second of burst).
    let allowed = UNAUTH_RATE * (elapsed.as_secs() + 2);
    assert!(
        sent > 10 * allowed,
        "the flood was too small to mean anything: {sent} requests"
    );
    assert!(
        answered <= allowed,
        "{answered} of {sent} flood requests were answered in {elapsed:?}; the limit allows {allowed}"
    );
    let (granted, quota_refusals, other) = greedy;
    assert_eq!(granted, USER_QUOTA, "allocations granted to the greedy user");
    assert_eq!(
        quota_refusals,
        10_000 - USER_QUOTA,
        "486 refusals (other outcomes: {other:?})"
    );
    let metrics = http_get(metrics_port, "/metrics");
    assert!(
        metrics.contains("turn_dropped_total{reason=\"unauth_limited\"}"),
        "rate-limited 401s are not counted in /metrics:\n{metrics}"
    );
}

/// Unauthenticated Allocates from one source (127.0.0.2) as fast as it can send, padded with a
/// SOFTWARE attribute so a 401 would not be larger than the request. Returns (sent, answered,
/// duration).
fn unauthenticated_flood(server: SocketAddr, stop: &AtomicBool) -> (u64, u64, Duration) {
    let socket = UdpSocket::bind("127.0.0.2:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let (mut sent, mut answered) = (0u64, 0u64);
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Acquire) {
        for _ in 0..64 {
            if socket.send_to(&allocate_request(sent), server).is_ok() {
                sent += 1;
            }
        }
        while socket.recv_from(&mut buf).is_ok() {
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(200));
    while socket.recv_from(&mut buf).is_ok() {
        answered += 1;
    }
    (sent, answered, start.elapsed())
}

/// RFC 8656 §7.1 Allocate without credentials: REQUESTED-TRANSPORT UDP and 200 bytes of SOFTWARE.
fn allocate_request(n: u64) -> Vec<u8> {
    let software = [b'x'; 200];
    let mut m = Vec::with_capacity(20 + 8 + 4 + software.len());
    m.extend_from_slice(&0x0003u16.to_be_bytes());
    m.extend_from_slice(&((8 + 4 + software.len()) as u16).to_be_bytes());
    m.extend_from_slice(&0x2112_A442u32.to_be_bytes());
    m.extend_from_slice(&[0xf1; 4]);
    m.extend_from_slice(&n.to_be_bytes());
    m.extend_from_slice(&[0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0]);
    m.extend_from_slice(&[0x80, 0x22]);
    m.extend_from_slice(&(software.len() as u16).to_be_bytes());
    m.extend_from_slice(&software);
    m
}

/// `attempts` Allocates by the greedy user, each from its own source address (127.1.x.y), so that
/// per-source 401 limits do not slow them. Returns (granted, refused with 486, anything else).
fn over_quota_attempts(server: SocketAddr, attempts: usize) -> (usize, usize, Vec<String>) {
    let (mut granted, mut refused, mut other) = (0, 0, Vec::new());
    for i in 0..attempts {
        let ip = Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250) as u8 + 1);
        let socket = UdpSocket::bind(SocketAddr::new(IpAddr::V4(ip), 0)).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        let config = ClientConfig::new(server, "greedy", "pw");
        let mut seed = [9u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let mut client = TurnClient::new(config, default_provider(), SecureRng::from_seed(seed));
        client.allocate(Instant::now());
        match run_client(&mut client, &socket) {
            Some(TurnEvent::Allocated { .. }) => granted += 1,
            Some(TurnEvent::AllocationFailed(TurnError::ErrorResponse { code: 486, .. })) => refused += 1,
            outcome => other.push(format!("attempt {i}: {outcome:?}")),
        }
    }
    (granted, refused, other)
}

/// Drives one client over its socket until its allocation succeeds or fails (10 s at most).
fn run_client(client: &mut TurnClient, socket: &UdpSocket) -> Option<TurnEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        let now = Instant::now();
        client.handle_timeout(now);
        while let Some(t) = client.poll_transmit(now) {
            let _ = socket.send_to(&t.contents, t.destination);
        }
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            client.handle_receive(Instant::now(), from, &buf[..n]);
        }
        while let Some(e) = client.poll_event() {
            if matches!(e, TurnEvent::Allocated { .. } | TurnEvent::AllocationFailed(_)) {
                return Some(e);
            }
        }
    }
    None
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}
