//! `oxirtc turn` end to end over loopback: coturn's own clients (turnutils_uclient / _peer /
//! _stunclient) against it, our sans-IO client against it and against coturn's turnserver, start-up
//! errors, metrics and the SIGTERM drain. coturn comes from scripts/install-test-deps.sh; with
//! OXIRTC_REQUIRE_INTEROP=1 a missing tool fails the test instead of skipping it.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ClientConfig, ClientState, TurnClient, TurnEvent};

const USER: &str = "interop";
const PASS: &str = "interop-pass";
const REALM: &str = "oxirtc";

/// Kills (SIGKILL) the child on drop, so a failing test leaves nothing behind.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    // A port free for both UDP and TCP.
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("OXIRTC_REQUIRE_INTEROP").is_none(),
            "{name} is not installed; run scripts/install-test-deps.sh"
        );
        eprintln!("skipping: {name} not installed (scripts/install-test-deps.sh installs coturn)");
    }
    found
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `oxirtc turn` on a free port (UDP and TCP) and waits until it answers STUN.
fn start_oxirtc_turn(extra: &[&str]) -> (Reaper, u16, u16) {
    let port = free_port();
    let metrics = free_port();
    let (lo, hi) = relay_range();
    let listen = format!("127.0.0.1:{port}");
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let (lo, hi) = (lo.to_string(), hi.to_string());
    let mut args = vec![
        "turn",
        "--listen",
        &listen,
        "--min-port",
        &lo,
        "--max-port",
        &hi,
        "--realm",
        REALM,
        "--user",
        "interop:interop-pass",
        "--allow-loopback-peers",
        "--metrics",
        &metrics_addr,
        "--threads",
        "2",
        "--drain-timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reaper = Reaper(child);
    wait_for_stun(port);
    (reaper, port, metrics)
}

/// A relay port range unlikely to collide with parallel tests (derived from the process id).
/// A relay port range of its own for each server a test starts (tests run in parallel, and two servers
/// handing out the same port make one of them fail its bind and answer 437), below the kernel's
/// ephemeral range (32768-60999) so no client socket of the tests can hold one.
fn relay_range() -> (u16, u16) {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let slot = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 30;
    let base = 20_000 + slot * 400;
    (base, base + 299)
}

fn wait_for_stun(port: u16) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut req = vec![0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42];
    req.extend_from_slice(&[7; 12]);
    for _ in 0..100 {
        let _ = s.send_to(&req, ("127.0.0.1", port));
        let mut buf = [0u8; 512];
        if s.recv_from(&mut buf).is_ok() {
            return;
        }
    }
    panic!("no STUN answer on 127.0.0.1:{port}");
}

/// Runs turnutils_uclient and returns (success with 0 lost, output).
fn uclient(path: &PathBuf, port: u16, args: &[&str], password: &str) -> (bool, String) {
    let port = port.to_string();
    let mut all = args.to_vec();
    all.extend_from_slice(&["-u", USER, "-w", password, "-p", &port, "127.0.0.1"]);
    let out = Command::new("timeout")
        .arg("120")
        .arg(path)
        .args(&all)
        .output()
        .unwrap();
    let t = text(&out);
    let ok = out.status.success() && t.contains("Total lost packets 0 (0.000000%)");
    (ok, t)
}

#[test]
fn coturn_clients_against_oxirtc_turn() {
    let (Some(uc), Some(peer), Some(stun)) = (
        which("turnutils_uclient"),
        which("turnutils_peer"),
        which("turnutils_stunclient"),
    ) else {
        return;
    };
    // coturn's uclient sends its first Allocate unauthenticated in 52-60 bytes, smaller than the
    // 56-byte 401 at times: the default answers it anyway (no size rule).
    let (_server, port, metrics) = start_oxirtc_turn(&[]);
    let peer_port = free_port();
    let _peer = Reaper(
        Command::new(peer)
            .args(["-L", "127.0.0.1", "-p", &peer_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));

    let out = Command::new("timeout")
        .args(["5"])
        .arg(stun)
        .args(["-p", &port.to_string(), "127.0.0.1"])
        .output()
        .unwrap();
    assert!(
        text(&out).contains("UDP reflexive addr: 127.0.0.1:"),
        "{}",
        text(&out)
    );

    let pp = peer_port.to_string();
    let runs: [(&str, Vec<&str>); 4] = [
        (
            "udp",
            vec![
                "-e",
                "127.0.0.1",
                "-r",
                &pp,
                "-n",
                "200",
                "-m",
                "4",
                "-l",
                "1000",
                "-z",
                "5",
            ],
        ),
        (
            "tcp",
            vec![
                "-t",
                "-e",
                "127.0.0.1",
                "-r",
                &pp,
                "-n",
                "200",
                "-m",
                "4",
                "-l",
                "1000",
                "-z",
                "5",
            ],
        ),
        (
            "client-to-client udp",
            vec!["-y", "-n", "200", "-m", "2", "-l", "1000", "-z", "5"],
        ),
        (
            "client-to-client tcp",
            vec!["-t", "-y", "-n", "200", "-m", "2", "-l", "1000", "-z", "5"],
        ),
    ];
    for (name, args) in runs {
        let (ok, t) = uclient(&uc, port, &args, PASS);
        assert!(ok, "uclient {name} failed:\n{}", tail(&t, 15));
    }

    let (ok, t) = uclient(
        &uc,
        port,
        &["-e", "127.0.0.1", "-r", &pp, "-n", "3", "-m", "1"],
        "wrong",
    );
    assert!(
        !ok && !t.contains("Total lost packets"),
        "a wrong password must be refused:\n{}",
        tail(&t, 10)
    );

    let body = http_get(metrics, "/metrics");
    for name in [
        "turn_allocations_created_total",
        "turn_relayed_bytes_total",
        "turn_auth_failures_total",
    ] {
        assert!(body.contains(name), "{name} missing from /metrics:\n{body}");
    }
}

fn tail(t: &str, n: usize) -> String {
    let lines: Vec<&str> = t.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn http_get(port: u16, path: &str) -> String {
    // Metrics are published every 250 ms.
    std::thread::sleep(Duration::from_millis(600));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// Drives a [`TurnClient`] over a real UDP socket until `done` or the deadline.
struct Driver {
    client: TurnClient,
    socket: UdpSocket,
    events: Vec<TurnEvent>,
}

impl Driver {
    fn new(server: SocketAddr) -> Driver {
        let local = if server.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        };
        let socket = UdpSocket::bind(local).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut config = ClientConfig::new(server, USER, PASS);
        if server.is_ipv6() {
            config.family = oxirtc_stun::AddressFamily::V6;
        }
        let client = TurnClient::new(config, default_provider(), SecureRng::from_seed([4; 32]));
        Driver {
            client,
            socket,
            events: Vec::new(),
        }
    }

    fn pump(&mut self, mut done: impl FnMut(&Driver) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 65_536];
        loop {
            assert!(
                Instant::now() < deadline,
                "timed out; events so far: {:?}",
                self.events
            );
            let now = Instant::now();
            self.client.handle_timeout(now);
            while let Some(t) = self.client.poll_transmit(now) {
                self.socket.send_to(&t.contents, t.destination).unwrap();
            }
            if let Ok((n, from)) = self.socket.recv_from(&mut buf) {
                self.client.handle_receive(Instant::now(), from, &buf[..n]);
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if done(self) {
                break;
            }
        }
    }

    fn has(&self, f: impl Fn(&TurnEvent) -> bool) -> bool {
        self.events.iter().any(f)
    }
}

/// Allocate, permission, data both ways by Send/Data, channel, data both ways by ChannelData,
/// refresh, deallocate.
fn our_client_flow(server: SocketAddr) {
    let peer = UdpSocket::bind(if server.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    })
    .unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let mut d = Driver::new(server);
    d.client.allocate(Instant::now());
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::Allocated { .. } | TurnEvent::AllocationFailed(_))));
    let relayed = d
        .client
        .relayed_address()
        .unwrap_or_else(|| panic!("{:?}", d.events));
    d.client
        .create_permission(Instant::now(), peer_addr.ip())
        .unwrap();
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::PermissionCreated(_))));
    let mut buf = [0u8; 2048];
    d.client
        .send_to(Instant::now(), peer_addr, b"hello peer")
        .unwrap();
    d.pump(|_| true);
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"hello peer"[..], relayed));
    peer.send_to(b"hello client", relayed).unwrap();
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::PeerData { data, .. } if data == b"hello client")));
    d.client.bind_channel(Instant::now(), peer_addr).unwrap();
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::ChannelBound { .. })));
    d.client
        .send_to(Instant::now(), peer_addr, b"over channel")
        .unwrap();
    d.pump(|_| true);
    let (n, _) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"over channel");
    peer.send_to(b"channel back", relayed).unwrap();
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::PeerData { data, .. } if data == b"channel back")));
    let before = d.client.stats().refreshes;
    d.client.refresh(Instant::now());
    d.pump(|d| d.client.stats().refreshes > before);
    d.client.deallocate(Instant::now());
    d.pump(|d| d.has(|e| *e == TurnEvent::Deallocated));
    assert_eq!(d.client.state(), ClientState::Closed);
}

#[test]
fn our_client_against_oxirtc_turn() {
    let (_server, port, _) = start_oxirtc_turn(&[]);
    our_client_flow(SocketAddr::from(([127, 0, 0, 1], port)));
}

#[test]
fn our_client_against_oxirtc_turn_over_ipv6() {
    let port = free_port();
    let listen = format!("[::1]:{port}");
    let (lo, hi) = relay_range();
    let _server = Reaper(
        Command::new(env!("CARGO_BIN_EXE_oxirtc"))
            .args([
                "turn",
                "--listen",
                &listen,
                "--realm",
                REALM,
                "--user",
                "interop:interop-pass",
            ])
            .args([
                "--allow-loopback-peers",
                "--threads",
                "1",
                "--min-port",
                &lo.to_string(),
            ])
            .args(["--max-port", &hi.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    our_client_flow(listen.parse().unwrap());
}

#[test]
fn our_client_against_coturn_turnserver() {
    let Some(turnserver) = which("turnserver") else {
        return;
    };
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("oxirtc-turn-coturn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (lo, hi) = relay_range();
    let _server = Reaper(
        Command::new(turnserver)
            .args([
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                &format!("--listening-port={port}"),
            ])
            .args([
                &format!("--min-port={}", lo + 200),
                &format!("--max-port={}", hi + 100),
            ])
            .args([
                "--lt-cred-mech",
                &format!("--user={USER}:{PASS}"),
                "--realm=interop.test",
            ])
            .args([
                "--no-tls",
                "--no-dtls",
                "--allow-loopback-peers",
                "--no-cli",
                "--fingerprint",
            ])
            .arg(format!("--userdb={}", dir.join("turndb").display()))
            .arg(format!("--pidfile={}", dir.join("turnserver.pid").display()))
            .arg(format!("--log-file={}", dir.join("turn.log").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_stun(port);
    our_client_flow(SocketAddr::from(([127, 0, 0, 1], port)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn start_up_errors_are_clear() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["turn", "--listen", &addr, "--user", "a:b"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("cannot listen on UDP {addr}")),
        "{}",
        text(&out)
    );

    let file = std::env::temp_dir().join(format!("oxirtc-turn-{}.toml", std::process::id()));
    std::fs::write(&file, "realm = \"x\"\nuser = [\"a:b\"]\nmin-port = \"many\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["turn", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(!out.status.success());
    assert!(text(&out).contains("line 3"), "{}", text(&out));

    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["turn", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(text(&out).contains("no credentials"), "{}", text(&out));
}

#[test]
fn sigterm_drains_and_exits() {
    let (mut server, port, _) = start_oxirtc_turn(&[]);
    // One live allocation: the drain waits for it (here up to --drain-timeout 2 s), then exits.
    let mut d = Driver::new(SocketAddr::from(([127, 0, 0, 1], port)));
    d.client.allocate(Instant::now());
    d.pump(|d| d.has(|e| matches!(e, TurnEvent::Allocated { .. })));
    let started = Instant::now();
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300)); // let the daemon see the signal
                                                    // A new allocation during the drain is refused.
    let mut late = Driver::new(SocketAddr::from(([127, 0, 0, 1], port)));
    late.client.allocate(Instant::now());
    late.pump(|d| d.has(|e| matches!(e, TurnEvent::AllocationFailed(_) | TurnEvent::Allocated { .. })));
    assert!(
        late.has(|e| matches!(e, TurnEvent::AllocationFailed(_))),
        "{:?}",
        late.events
    );
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "it should wait for the live allocation"
    );
    let mut out = String::new();
    server.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(
        out.contains("draining 1 allocations") && out.contains("stopped"),
        "{out}"
    );
}

#[test]
fn rfc5780_behaviour_discovery_on_the_turn_port() {
    let (_server, port, _) = start_oxirtc_turn(&["--alt-ip", "127.0.0.2"]);
    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["stun", &format!("127.0.0.1:{port}"), "--nat-type"])
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("NAT type         open internet"), "{t}");
}

#[test]
fn coturn_client_over_tls() {
    let (Some(uc), Some(peer), Some(openssl)) = (
        which("turnutils_uclient"),
        which("turnutils_peer"),
        which("openssl"),
    ) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("oxirtc-turn-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args(["-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let tls_port = free_port();
    let tls = format!("127.0.0.1:{tls_port}");
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let extra = ["--tls-listen", &tls, "--cert", cert_s, "--pkey", key_s];
    let (_server, _, _) = start_oxirtc_turn(&extra);
    let peer_port = free_port();
    let _peer = Reaper(
        Command::new(peer)
            .args(["-L", "127.0.0.1", "-p", &peer_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let pp = peer_port.to_string();
    let args = [
        "-S",
        "-t",
        "-e",
        "127.0.0.1",
        "-r",
        &pp,
        "-n",
        "100",
        "-m",
        "2",
        "-l",
        "500",
        "-z",
        "5",
    ];
    let (ok, t) = uclient(&uc, tls_port, &args, PASS);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "uclient over TLS failed:\n{}", tail(&t, 15));
}

#[test]
fn silent_tcp_connections_are_closed() {
    let (_server, port, _) = start_oxirtc_turn(&[]);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    // EOF (0 bytes) once the server gives up on a client that never sends a frame.
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(15)).contains(&waited),
        "{waited:?}"
    );
}
