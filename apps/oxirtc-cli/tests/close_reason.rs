//! `oxirtc dial` against an `oxirtc echo` whose signaling goes through a small proxy in this test
//! that changes one hex digit of a fingerprint: the DTLS handshake fails on a fingerprint mismatch,
//! and both programs stop within a few seconds and print why (not dial's 30 s timeout).
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Echo {
    child: Child,
    url: String,
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `oxirtc echo --once`: it exits after the one session, whose SESSION line says how it ended.
fn start_echo() -> Echo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["echo", "--once"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("LISTENING ")
        .expect("first line is LISTENING <url>")
        .trim()
        .to_owned();
    Echo { child, url }
}

/// Which signaling message gets the altered fingerprint.
#[derive(Clone, Copy)]
enum Alter {
    /// What dial sends (so echo sees a certificate that does not match).
    Request,
    /// What echo answers (so dial does).
    Reply,
}

/// An HTTP signaling proxy in front of `echo_url` that alters one fingerprint on the way; its URL.
fn start_proxy(echo_url: String, alter: Alter) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/offer", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            relay(stream, &echo_url, alter);
        }
    });
    url
}

/// One POST: read it, forward it to echo, send echo's reply back, altering one of them.
fn relay(mut stream: TcpStream, echo_url: &str, alter: Alter) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut request: Value = serde_json::from_slice(&body).unwrap();
    if matches!(alter, Alter::Request) {
        alter_fingerprint(&mut request);
    }
    let reply = ureq::post(echo_url).send_json(request).unwrap();
    let mut reply: Value = reply.into_json().unwrap();
    if matches!(alter, Alter::Reply) {
        alter_fingerprint(&mut reply);
    }
    let out = reply.to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
        out.len()
    )
    .unwrap();
}

/// Changes the first hex digit of the description's SHA-256 fingerprint, if it has one.
fn alter_fingerprint(message: &mut Value) {
    let Some(sdp) = message.get("sdp").and_then(Value::as_str) else {
        return;
    };
    let tag = "a=fingerprint:sha-256 ";
    let Some(at) = sdp.find(tag).map(|i| i + tag.len()) else {
        return;
    };
    let mut sdp = sdp.to_owned();
    let digit = if &sdp[at..at + 1] == "A" { "B" } else { "A" };
    sdp.replace_range(at..at + 1, digit);
    message["sdp"] = Value::String(sdp);
}

/// Runs dial (with its default 30 s timeout) through the proxy: its JSON and how long it took.
fn dial_through(url: &str, mode: &str) -> (Value, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["dial", url, "--mode", mode])
        .output()
        .unwrap();
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "dial printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(!out.status.success(), "dial must fail: {json:#}");
    (json, took)
}

/// The SESSION line of echo's one session (it exits after it).
fn echo_session(mut echo: Echo) -> Value {
    let mut stdout = String::new();
    echo.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("SESSION "))
        .unwrap_or_else(|| panic!("no SESSION line: {stdout}"));
    serde_json::from_str(line).unwrap()
}

/// dial answers; the offer it gets names another certificate than echo's: dial's DTLS client
/// refuses echo's certificate with bad_certificate. Before, dial waited out its 30 s timeout.
#[test]
fn dial_that_refuses_the_peers_certificate_says_so_at_once() {
    let echo = start_echo();
    let proxy = start_proxy(echo.url.clone(), Alter::Reply);
    let (json, took) = dial_through(&proxy, "answer");
    let error = json["error"].as_str().unwrap();
    assert!(
        error.contains(
            "DTLS failed: the peer's certificate does not match the a=fingerprint of its session \
             description; sent bad_certificate (42) to the peer"
        ),
        "{json:#}"
    );
    assert!(took < Duration::from_secs(10), "dial took {took:?}");
    let session = echo_session(echo);
    assert_eq!(
        session["closeReason"], "DTLS alert from the peer: bad_certificate (42)",
        "{session}"
    );
    assert_eq!(session["state"], "Failed");
}

/// dial offers; the offer echo gets names another certificate than dial's: echo refuses it, and
/// dial reports the alert it received.
#[test]
fn dial_refused_by_the_peer_prints_its_alert() {
    let echo = start_echo();
    let proxy = start_proxy(echo.url.clone(), Alter::Request);
    let (json, took) = dial_through(&proxy, "offer");
    let error = json["error"].as_str().unwrap();
    assert!(
        error.contains("the connection ended: DTLS alert from the peer: bad_certificate (42)"),
        "{json:#}"
    );
    assert!(took < Duration::from_secs(10), "dial took {took:?}");
    let session = echo_session(echo);
    let reason = session["closeReason"].as_str().unwrap();
    assert!(
        reason.starts_with("DTLS failed: ") && reason.ends_with("sent bad_certificate (42) to the peer"),
        "{session}"
    );
}
