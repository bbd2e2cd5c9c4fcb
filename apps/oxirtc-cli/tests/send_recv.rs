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
    // The sender dies (exit 3, like a kill) after 4 MiB.
    let sender = send(&s.url, &[&src], &["--stop-after", "4194304"]);
    let r = recv(&s.url, &sender.code, &out, &[]);
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
    let sender = send(&s.url, &[&src], &[]);
    let r = recv(&s.url, &sender.code, &out, &["--force"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert_eq!(sha256_file(&out.join("notes.txt")), sha256_file(&src));
    assert!(sender.finish(Duration::from_secs(10)).0);
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
