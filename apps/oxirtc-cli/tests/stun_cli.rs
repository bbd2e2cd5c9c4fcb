//! `oxirtc stun` end to end over loopback UDP: against the built-in server, against coturn (a real
//! peer, installed by scripts/install-test-deps.sh), and its error messages.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use oxirtc_cli::BindingServer;

fn oxirtc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(args)
        .output()
        .unwrap()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn probe_against_the_built_in_server_prints_our_address() {
    let port = free_udp_port();
    let out = oxirtc(&["stun", "--nat-type", "--bind", &format!("127.0.0.1:{port}")]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains(&format!("mapped address   127.0.0.1:{port}")), "{t}");
    assert!(t.contains("NAT type         open internet"), "{t}");
}

#[test]
fn probe_against_an_external_built_in_server() {
    let server = BindingServer::start("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let port = free_udp_port();
    let out = oxirtc(&[
        "stun",
        &server.primary.to_string(),
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("mapped address   127.0.0.1:{port}")));
    // Without OTHER-ADDRESS, --nat-type explains why it cannot classify.
    let out = oxirtc(&["stun", &server.primary.to_string(), "--nat-type"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("did not send OTHER-ADDRESS"),
        "{}",
        text(&out)
    );
}

#[test]
fn silence_times_out_with_a_clear_message() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap(); // bound, never answers
    let addr = silent.local_addr().unwrap().to_string();
    let started = Instant::now();
    let out = oxirtc(&["stun", &addr, "--timeout", "1s"]);
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(text(&out).contains("no STUN response from"), "{}", text(&out));
}

#[test]
fn garbage_answers_are_named() {
    let junk = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = junk.local_addr().unwrap();
    let responder = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        junk.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        while let Ok((_, from)) = junk.recv_from(&mut buf) {
            let _ = junk.send_to(b"HTTP/1.1 400 Bad Request\r\n\r\n", from);
        }
    });
    let out = oxirtc(&["stun", &addr.to_string(), "--timeout", "1s"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not STUN responses"), "{}", text(&out));
    responder.join().unwrap();
}

#[test]
fn bad_addresses_are_refused_before_any_traffic() {
    for bad in ["127.0.0.1:99999", "localhost:http3", ":5", "[::1"] {
        let out = oxirtc(&["stun", bad]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("not a usable STUN server address"),
            "{bad}: {}",
            text(&out)
        );
    }
}

/// Kills and reaps a child process on drop (by PID, only what the test started).
struct Reaper(Child);
impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn probe_against_coturn() {
    let Ok(path) = which("turnserver") else {
        assert!(
            std::env::var_os("OXIRTC_REQUIRE_INTEROP").is_none(),
            "coturn's turnserver is not installed; run scripts/install-test-deps.sh"
        );
        eprintln!("skipping: turnserver not installed (scripts/install-test-deps.sh installs it)");
        return;
    };
    let port = free_udp_port();
    let dir = std::env::temp_dir().join(format!("oxirtc-coturn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _server = Reaper(
        Command::new(path)
            .args([
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
            ])
            .arg(format!("--listening-port={port}"))
            .arg(format!("--userdb={}", dir.join("turndb").display()))
            .arg(format!("--pidfile={}", dir.join("turnserver.pid").display()))
            .arg(format!("--log-file={}", dir.join("turn.log").display()))
            .args([
                "--simple-log",
                "--lt-cred-mech",
                "--user=u:p",
                "--realm=oxirtc.test",
                "--fingerprint",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // coturn needs a moment to open its socket; a request sent earlier is simply lost, so retry.
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let local = free_udp_port();
    let out = loop {
        let out = oxirtc(&[
            "stun",
            &server.to_string(),
            "--timeout",
            "1s",
            "--bind",
            &format!("127.0.0.1:{local}"),
        ]);
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains(&format!("mapped address   127.0.0.1:{local}")), "{t}");
    assert!(
        t.contains("Coturn") || t.contains("coturn"),
        "expected coturn's SOFTWARE in: {t}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    for dir in std::env::split_paths(&path).chain(["/usr/bin".into(), "/usr/sbin".into()]) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(())
}
