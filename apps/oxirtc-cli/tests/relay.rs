//! Relay-only peer connections through `oxirtc turn` on loopback (RFC 8656 relayed candidates,
//! iceTransportPolicy "relay"): `oxirtc echo` and `oxirtc dial`, both offer/answer roles.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use common::{free_udp_port as free_port, Kill};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn echo_and_dial_connect_relay_only_through_oxirtc_turn_over_udp() {
    relay_only("");
}

#[test]
fn echo_and_dial_connect_relay_only_through_oxirtc_turn_over_tcp() {
    relay_only("?transport=tcp");
}

#[test]
fn echo_and_dial_connect_relay_only_through_oxirtc_turn_over_tls() {
    relay_only("tls");
}

/// `how`: "" (UDP), "?transport=tcp", or "tls" (`turns:` with a self-signed certificate for 127.0.0.1).
fn relay_only(how: &str) {
    let bin = env!("CARGO_BIN_EXE_oxirtc");
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("oxirtc-relay-test-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (turn_url, mut tls_args, mut ca_args) =
        (format!("turn:127.0.0.1:{port}{how}"), Vec::new(), Vec::new());
    let turn_url = if how == "tls" {
        let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let (cert, pkey) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, key.cert.pem()).unwrap();
        std::fs::write(&pkey, key.signing_key.serialize_pem()).unwrap();
        let tls_port = free_port();
        tls_args = vec![
            "--tls-listen".to_owned(),
            format!("127.0.0.1:{tls_port}"),
            "--cert".to_owned(),
            cert.display().to_string(),
            "--pkey".to_owned(),
            pkey.display().to_string(),
        ];
        ca_args = vec!["--turn-ca".to_owned(), cert.display().to_string()];
        format!("turns:127.0.0.1:{tls_port}")
    } else {
        turn_url
    };
    // Relay ports below the kernel's ephemeral range (32768-60999), so no socket of the test's own
    // processes can hold one the server wants to bind; a range per test, picked from its port.
    let min = 20_000 + (port % 300) * 40;
    let max = min + 39;
    let _turn = Kill(
        Command::new(bin)
            .args([
                "turn",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--user",
                "u:p",
                "--allow-loopback-peers",
            ])
            .args([
                "--min-port",
                &min.to_string(),
                "--max-port",
                &max.to_string(),
                "--drain-timeout",
                "1",
            ])
            .args(&tls_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let relay = [
        "--turn",
        &turn_url,
        "--turn-user",
        "u",
        "--turn-password",
        "p",
        "--relay",
    ];
    let mut echo = Kill(
        Command::new(bin)
            .arg("echo")
            .args(relay)
            .args(&ca_args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(echo.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.strip_prefix("LISTENING ").unwrap().trim().to_owned();
    for mode in ["offer", "answer"] {
        let out = Command::new(bin)
            .args([
                "dial",
                &url,
                "--mode",
                mode,
                "--messages",
                "50",
                "--binary",
                "--size",
                "1000",
                "--timeout",
                "20",
            ])
            .args(relay)
            .args(&ca_args)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{mode}: {json:#}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Both ends of the selected pair are relayed addresses of our TURN server.
        let pair = json["selectedPair"].as_str().unwrap();
        for addr in pair.split(" -> ") {
            let p: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
            assert!(
                (min..=max).contains(&p),
                "{mode}: {pair} is not relay to relay ({min}-{max})"
            );
        }
    }
}
