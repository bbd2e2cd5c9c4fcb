//! `oxirtc serve` as a process: the embedded UI, `/healthz`, `/metrics`, room links, the TOML config,
//! a busy port as a clear start-up error, and SIGTERM as a clean exit.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(Duration::from_secs(5)).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

#[test]
fn serves_ui_health_metrics_and_stops_on_sigterm() {
    let mut s = serve(&[]);
    let (code, page) = get(&format!("{}/", s.url));
    assert_eq!(code, 200);
    assert!(page.contains("<script src=\"/app.js\">"), "{page}");
    let (code, js) = get(&format!("{}/transfer.js", s.url));
    assert_eq!(code, 200);
    assert!(js.contains("class Sha256"));
    assert_eq!(
        get(&format!("{}/r/7-orbit-lantern", s.url)).1,
        page,
        "room links serve the page"
    );
    assert_eq!(get(&format!("{}/nope", s.url)).0, 404);
    let (code, health) = get(&format!("{}/healthz", s.url));
    assert_eq!(code, 200);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");
    // One send makes a room; metrics and health count it.
    let dir = scratch("serve-cli");
    std::fs::write(dir.join("f.txt"), b"x").unwrap();
    let sender = send(&s.url, &[&dir.join("f.txt")], &[]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let h: serde_json::Value = serde_json::from_str(&get(&format!("{}/healthz", s.url)).1).unwrap();
        if h["rooms"] == 1 && h["clients"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "{h}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, metrics) = get(&format!("{}/metrics", s.url));
    assert_eq!(code, 200);
    assert!(metrics.contains("oxirtc_signaling_clients 1"), "{metrics}");
    assert!(metrics.contains("oxirtc_signaling_rooms 1"), "{metrics}");
    drop(sender);
    // SIGTERM: a clean exit.
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn config_file_and_busy_port() {
    let dir = scratch("serve-config");
    let cfg = dir.join("serve.toml");
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:0\"\nno-turn = true\nmax-peers-per-room = 1\n",
    )
    .unwrap();
    let s = serve(&["--config", cfg.to_str().unwrap()]);
    let (code, _) = get(&format!("{}/healthz", s.url));
    assert_eq!(code, 200);
    // The file's room limit applies: a receiver cannot join a one-member room.
    std::fs::write(dir.join("f.txt"), b"x").unwrap();
    let sender = send(&s.url, &[&dir.join("f.txt")], &[]);
    let r = recv(&s.url, &sender.code, &dir, &[]);
    assert!(!r.status.success());
    assert!(text(&r.stderr).contains("full"), "{}", text(&r.stderr));
    // A busy HTTP port is a start-up error naming the address.
    let port = s.url.rsplit(':').next().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--no-turn", "--listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is the port in use"),
        "{}",
        text(&out.stderr)
    );
    // A bad config file names the problem.
    std::fs::write(&cfg, "listen = 5\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("bad config file"),
        "{}",
        text(&out.stderr)
    );
}
