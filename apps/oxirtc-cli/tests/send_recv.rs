//! `oxirtc send` → `oxirtc recv` through `oxirtc serve` over loopback: a 256 MiB transfer with equal
//! checksums, resume from `.part` after the sender dies, hostile names refused, no overwrite without
//! `--force`, unknown codes.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn send_recv_256_mib_checksum_equal() {
    let s = serve(&[]);
    let dir = scratch("sr-256");
    let src = dir.join("big.bin");
    let size = 256 << 20;
    random_file(&src, size, 0x256);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &[]);
    let t0 = Instant::now();
    let r = recv(&s.url, &sender.code, &out, &[]);
    let secs = t0.elapsed().as_secs_f64();
    assert!(
        r.status.success(),
        "recv failed: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    let (ok, sout, serr) = sender.finish(Duration::from_secs(30));
    assert!(ok, "send failed: {sout}{serr}");
    assert_eq!(std::fs::metadata(out.join("big.bin")).unwrap().len(), size as u64);
    let want = sha256_file(&src);
    assert_eq!(sha256_file(&out.join("big.bin")), want);
    assert!(
        text(&r.stdout).contains(&want),
        "recv reports the digest it verified"
    );
    assert!(!out.join("big.bin.part").exists());
    println!(
        "256 MiB CLI->CLI: {secs:.1} s including set-up, {:.1} MB/s",
        size as f64 / secs / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupted_transfer_resumes_from_the_part_file() {
    let s = serve(&[]);
    let dir = scratch("sr-resume");
    let src = dir.join("data.bin");
    let size = 16 << 20;
    random_file(&src, size, 7);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    // The sender dies (exit 3, like a kill) after 4 MiB; a receiver that does not wait for it to
    // come back (`--wait 0`) fails at once and keeps its .part.
    let sender = send(&s.url, &[&src], &["--stop-after", "4194304"]);
    let r = recv(&s.url, &sender.code, &out, &["--wait", "0"]);
    assert!(!r.status.success(), "recv must fail when the sender dies");
    let err = text(&r.stderr);
    assert!(
        err.contains("went away") || err.contains("closed") || err.contains("ended"),
        "{err}"
    );
    let (ok, _, _) = sender.finish(Duration::from_secs(10));
    assert!(!ok);
    let part = out.join("data.bin.part");
    let have = std::fs::metadata(&part).expect(".part is kept").len();
    assert!(have > 0 && have < size as u64, ".part has {have} bytes");
    assert!(!out.join("data.bin").exists());
    // A second run resumes at the .part's length.
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(r.status.success(), "{}{}", text(&r.stdout), text(&r.stderr));
    assert!(
        text(&r.stderr).contains(&format!("resuming data.bin at byte {have}")),
        "{}",
        text(&r.stderr)
    );
    assert!(
        text(&r.stdout).contains(&format!("{have} resumed")),
        "{}",
        text(&r.stdout)
    );
    let (ok, sout, serr) = sender.finish(Duration::from_secs(10));
    assert!(ok, "{sout}{serr}");
    assert!(sout.contains(&format!("from offset {have}")), "{sout}");
    assert_eq!(sha256_file(&out.join("data.bin")), sha256_file(&src));
    assert!(!part.exists());
}

/// `oxirtc recv` as a child process (to kill it mid-transfer).
fn spawn_recv(server: &str, code: &str, dir: &std::path::Path, extra: &[&str]) -> std::process::Child {
    std::process::Command::new(BIN)
        .args(["recv", code, "--server", server, "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `part` holds at least `bytes`, then SIGKILLs `child`; returns the .part's length then.
fn kill_when_part_has(child: &mut std::process::Child, part: &std::path::Path, bytes: u64) -> u64 {
    let t0 = Instant::now();
    loop {
        let have = std::fs::metadata(part).map_or(0, |m| m.len());
        if have >= bytes {
            child.kill().unwrap(); // SIGKILL: no goodbye to the peer, as a crash or a power cut
            child.wait().unwrap();
            return have;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the process ended before {bytes} bytes arrived"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{} stayed below {bytes} bytes",
            part.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn killed_receiver_resumes_with_the_same_command_while_the_sender_waits() {
    // Issue 17 §2: SIGKILL the receiver mid-transfer; the sender keeps the code alive (with a
    // countdown) and the very same `oxirtc recv CODE --dir D` resumes from its .part. The sender
    // reports the file sent once, and the file arrives byte-exact.
    let s = serve(&[]);
    let dir = scratch("sr-kill-recv");
    let src = dir.join("movie.bin");
    let size = 96 << 20;
    random_file(&src, size, 0x6b11);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &[]);
    let mut first = spawn_recv(&s.url, &sender.code, &out, &[]);
    let part = out.join("movie.bin.part");
    let killed_at = kill_when_part_has(&mut first, &part, 8 << 20);
    assert!(killed_at < size as u64, "killed too late: {killed_at}");
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(
        r.status.success(),
        "the same recv command failed: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    let err = text(&r.stderr);
    let resumed_at: u64 = err
        .split("resuming movie.bin at byte ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("recv did not resume from the .part: {err}"));
    assert!(
        resumed_at >= killed_at && resumed_at < size as u64,
        "resumed at {resumed_at}, killed at {killed_at}"
    );
    let (ok, sout, serr) = sender.finish(Duration::from_secs(30));
    assert!(ok, "the sender failed: {sout}{serr}");
    assert_eq!(sout.matches("sent movie.bin").count(), 1, "reported once: {sout}");
    assert!(sout.contains(&format!("from offset {resumed_at}")), "{sout}");
    assert!(
        serr.contains("waiting up to 10:00 for the receiver to come back"),
        "the sender says it waits, and how long: {serr}"
    );
    assert_eq!(sha256_file(&out.join("movie.bin")), sha256_file(&src));
    assert!(!part.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn restarted_sender_resumes_the_waiting_receiver_with_its_code() {
    // Issue 17 §2, the other side: the sender dies; the receiver waits in the room and
    // `oxirtc send --code CODE FILE` picks it up where it stopped.
    let s = serve(&[]);
    let dir = scratch("sr-kill-send");
    let src = dir.join("photos.bin");
    let size = 24 << 20;
    random_file(&src, size, 0x5e4d);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &["--stop-after", "6291456"]);
    let code = sender.code.clone();
    let receiver = spawn_recv(&s.url, &code, &out, &[]);
    let (ok, _, serr) = sender.finish(Duration::from_secs(60));
    assert!(!ok, "the first sender was meant to die: {serr}");
    let receiver = Kill(receiver);
    // The receiver stays (it waits); the restarted sender finds it in the room.
    std::thread::sleep(Duration::from_millis(500));
    let again = send(&s.url, &[&src], &["--code", &code]);
    assert_eq!(again.code, code, "--code keeps the code");
    let (ok, sout, serr) = again.finish(Duration::from_secs(60));
    assert!(ok, "the restarted sender failed: {sout}{serr}");
    let mut receiver = receiver;
    let status = receiver.0.wait().unwrap();
    let mut rerr = String::new();
    std::io::Read::read_to_string(receiver.0.stderr.as_mut().unwrap(), &mut rerr).unwrap();
    let mut rout = String::new();
    std::io::Read::read_to_string(receiver.0.stdout.as_mut().unwrap(), &mut rout).unwrap();
    assert!(status.success(), "the waiting receiver failed: {rout}{rerr}");
    assert!(
        rerr.contains("waiting up to 10:00 for the sender to come back"),
        "{rerr}"
    );
    assert!(rerr.contains(&format!("oxirtc send --code {code}")), "{rerr}");
    assert!(rerr.contains("resuming photos.bin at byte "), "{rerr}");
    assert_eq!(rout.matches("received ").count(), 1, "{rout}");
    assert!(!rout.contains(" 0 resumed"), "{rout}");
    assert_eq!(sha256_file(&out.join("photos.bin")), sha256_file(&src));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sender_gives_up_after_wait_seconds_and_says_how_to_resume() {
    let s = serve(&[]);
    let dir = scratch("sr-wait-expires");
    let src = dir.join("w.bin");
    random_file(&src, 64 << 20, 0x3a17);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &["--wait", "2"]);
    let mut r = spawn_recv(&s.url, &sender.code, &out, &[]);
    kill_when_part_has(&mut r, &out.join("w.bin.part"), 1 << 20);
    let t0 = Instant::now();
    let (ok, sout, serr) = sender.finish(Duration::from_secs(30));
    assert!(!ok, "a partial transfer is never a success: {sout}");
    assert!(t0.elapsed() >= Duration::from_secs(1), "gave up without waiting");
    assert!(serr.contains("did not come back within 2 s (--wait)"), "{serr}");
    assert!(serr.contains(".part") && serr.contains("to resume"), "{serr}");
    assert!(!sout.contains("sent w.bin"), "{sout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn path_traversal_names_are_refused() {
    let s = serve(&[]);
    let dir = scratch("sr-traversal");
    let src = dir.join("x.bin");
    random_file(&src, 1000, 3);
    let out = dir.join("a").join("b");
    std::fs::create_dir_all(&out).unwrap();
    for hostile in [
        "../../evil.bin",
        "/tmp/evil.bin",
        "..",
        "sub/evil.bin",
        "evil\n.bin",
        // Issue 17 §3: text-direction and invisible characters disguise a name (`invoiceexe.pdf`).
        "invoice\u{202E}fdp.exe",
        "zero\u{200B}width.txt",
        "\u{FEFF}bom.txt",
        // Issue 17 §3: 254 bytes pass a 255-byte check, but `NAME.part` (259) cannot be created.
        "n".repeat(254).as_str(),
    ] {
        let sender = send(&s.url, &[&src], &["--as-name", hostile]);
        let r = recv(&s.url, &sender.code, &out, &[]);
        assert!(!r.status.success(), "{hostile:?} accepted");
        assert!(
            text(&r.stderr).contains("refusing the file name"),
            "{}",
            text(&r.stderr)
        );
        let (ok, sout, serr) = sender.finish(Duration::from_secs(10));
        assert!(!ok, "sender must fail");
        assert!(serr.contains("declined"), "{sout}{serr}");
        assert!(
            !serr.contains("keeps what arrived") && !serr.contains("to resume"),
            "no .part was written, so none is claimed: {serr}"
        );
        for out in [text(&r.stderr), sout, serr] {
            assert!(
                !out.contains(['\u{202E}', '\u{200B}', '\u{FEFF}']),
                "printed unescaped: {out:?}"
            );
        }
        assert!(!dir.join("evil.bin").exists() && !dir.join("a").join("evil.bin").exists());
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            0,
            "nothing written for {hostile:?}"
        );
    }
}

#[test]
fn existing_file_is_not_overwritten_without_force() {
    let s = serve(&[]);
    let dir = scratch("sr-overwrite");
    let src = dir.join("notes.txt");
    random_file(&src, 100_000, 5);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"precious").unwrap();
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(!r.status.success());
    assert!(
        text(&r.stderr).contains("already exists; use --force"),
        "{}",
        text(&r.stderr)
    );
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"precious");
    let (ok, _, serr) = sender.finish(Duration::from_secs(10));
    assert!(!ok && serr.contains("declined"), "{serr}");
    // Issue 17 §3: the sender learns that the file exists, not where the receiver keeps its files.
    assert!(serr.contains("notes.txt already exists"), "{serr}");
    let abs = out.canonicalize().unwrap();
    assert!(
        !serr.contains(out.to_str().unwrap()) && !serr.contains(abs.to_str().unwrap()),
        "the receiver's path leaked to the sender: {serr}"
    );
    // The same size but other bytes: compared by SHA-256, still not overwritten.
    let same_size = vec![b'x'; 100_000];
    std::fs::write(out.join("notes.txt"), &same_size).unwrap();
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(!r.status.success());
    assert!(
        text(&r.stderr).contains("already exists with other content; use --force"),
        "{}",
        text(&r.stderr)
    );
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), same_size);
    let (ok, _, serr) = sender.finish(Duration::from_secs(10));
    assert!(
        !ok && serr.contains("notes.txt already exists on the receiving side with other content"),
        "{serr}"
    );
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &["--force"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert_eq!(sha256_file(&out.join("notes.txt")), sha256_file(&src));
    assert!(sender.finish(Duration::from_secs(10)).0);
    // The identical file already here: checked against the sender's SHA-256, not sent again.
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert!(text(&r.stdout).contains("already here:"), "{}", text(&r.stdout));
    let (ok, sout, serr) = sender.finish(Duration::from_secs(10));
    assert!(ok, "{sout}{serr}");
    assert!(sout.contains("from offset 100000"), "nothing re-sent: {sout}");
}

#[test]
fn several_files_in_one_go_and_unknown_codes() {
    let s = serve(&[]);
    let dir = scratch("sr-multi");
    let (a, b) = (dir.join("a.bin"), dir.join("empty.bin"));
    random_file(&a, 300_001, 11);
    std::fs::write(&b, b"").unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&a, &b], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert_eq!(sha256_file(&out.join("a.bin")), sha256_file(&a));
    assert_eq!(std::fs::metadata(out.join("empty.bin")).unwrap().len(), 0);
    assert!(sender.finish(Duration::from_secs(10)).0);
    let r = recv(&s.url, "99-no-such", &out, &[]);
    assert!(!r.status.success());
    assert!(
        text(&r.stderr).contains("unknown or expired code"),
        "{}",
        text(&r.stderr)
    );
    let r = recv("http://127.0.0.1:9", "1-a-b", &out, &[]);
    assert!(!r.status.success());
    assert!(
        text(&r.stderr).contains("cannot reach the signaling server"),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn relay_only_transfer_through_the_servers_turn() {
    // Both sides use only relayed candidates, from the TURN REST credentials `oxirtc serve` hands out.
    let s = serve(&[]);
    let dir = scratch("sr-relay");
    let src = dir.join("relayed.bin");
    let size = 8 << 20;
    random_file(&src, size, 0x7e1a);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &["--relay"]);
    let r = recv(&s.url, &sender.code, &out, &["--relay"]);
    assert!(
        r.status.success(),
        "recv failed: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    let (ok, sout, serr) = sender.finish(Duration::from_secs(30));
    assert!(ok, "send failed: {sout}{serr}");
    assert_eq!(sha256_file(&out.join("relayed.bin")), sha256_file(&src));
}

#[test]
fn relay_only_transfer_with_a_turn_host_name() {
    // `oxirtc serve --turn-host localhost` hands out `turn:localhost:PORT` URLs: send/recv resolve the
    // name (before, URLs had to carry an IP and a name left the relay-only peers with no candidate).
    let s = serve(&["--turn-host", "localhost"]);
    let dir = scratch("sr-relay-dns");
    let src = dir.join("named.bin");
    random_file(&src, 1 << 20, 0xd45);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &["--relay"]);
    let r = recv(&s.url, &sender.code, &out, &["--relay"]);
    assert!(
        r.status.success(),
        "recv failed: {}{}",
        text(&r.stdout),
        text(&r.stderr)
    );
    let (ok, sout, serr) = sender.finish(Duration::from_secs(30));
    assert!(ok, "send failed: {sout}{serr}");
    assert_eq!(sha256_file(&out.join("named.bin")), sha256_file(&src));
}

#[test]
fn turn_allocations_are_released_when_the_transfer_ends() {
    // Issue 17 §3: allocations left behind keep `serve` in its drain on SIGTERM (up to the drain
    // timeout, here 20 s) and linger 600 s on the server. Both sides release theirs (a Refresh with
    // LIFETIME 0, RFC 8656 §7.2) when the connection closes.
    let mut s = serve(&["--drain-timeout", "20"]);
    let dir = scratch("sr-dealloc");
    let src = dir.join("d.bin");
    random_file(&src, 1 << 20, 0xdea1);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &[]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert!(sender.finish(Duration::from_secs(10)).0);
    let t0 = Instant::now();
    let pid = s.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    while s.child.try_wait().unwrap().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(8),
            "serve still draining TURN allocations 8 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
