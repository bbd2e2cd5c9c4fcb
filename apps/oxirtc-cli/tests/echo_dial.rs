//! `oxirtc echo` and `oxirtc dial` against each other over real loopback UDP: the end-to-end path
//! (sockets, the async driver, HTTP signaling) in both offer/answer roles.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

fn start_echo() -> Echo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["echo"])
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

fn dial(url: &str, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_oxirtc"))
        .args(["dial", url, "--timeout", "20"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "dial printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "dial failed: {json:#}");
    json
}

#[test]
fn dial_offers_to_echo_and_every_message_comes_back() {
    let echo = start_echo();
    let r = dial(&echo.url, &["--messages", "200", "--size", "1000", "--binary"]);
    assert_eq!(r["dc"]["echoed"], 200);
    assert_eq!(r["dc"]["binaryEchoed"], 200);
    assert_eq!(
        r["dtlsRole"], "server",
        "the offerer is DTLS server when the answerer says active"
    );
    assert!(r["dtlsCipher"]
        .as_str()
        .unwrap()
        .starts_with("TLS_ECDHE_ECDSA_WITH_"));
}

#[test]
fn dial_answers_echo_and_large_messages_come_back() {
    let echo = start_echo();
    let r = dial(
        &echo.url,
        &[
            "--mode",
            "answer",
            "--messages",
            "20",
            "--size",
            "65536",
            "--binary",
        ],
    );
    assert_eq!(r["dc"]["echoed"], 20);
    assert_eq!(r["dtlsRole"], "client");
}
