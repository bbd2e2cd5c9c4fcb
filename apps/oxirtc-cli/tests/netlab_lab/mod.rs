//! The network lab (netlab/netlab.sh) from Rust: bring a lab up, run the built `oxirtc` binary inside
//! its namespaces, cut the path, read the counters; the lab is torn down on drop.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The private host (behind the NAT).
pub const PRIV_IP: &str = "10.77.1.2";
/// The public host's first address.
pub const PUB_IP: &str = "203.0.113.2";

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn script() -> PathBuf {
    repo().join("netlab/netlab.sh")
}

fn on_path(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why the lab cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("netlab needs root (network namespaces)".into());
    }
    for cmd in ["ip", "nft", "iptables", "tc", "python3"] {
        if !on_path(cmd) {
            return Some(format!("`{cmd}` is missing (run scripts/install-test-deps.sh)"));
        }
    }
    None
}

/// True when the lab can run. Otherwise says why and returns false, or panics with
/// OXIRTC_REQUIRE_INTEROP=1 (CI), like the other interop tests.
pub fn available(test: &str) -> bool {
    let Some(why) = unavailable() else {
        return true;
    };
    if std::env::var("OXIRTC_REQUIRE_INTEROP").as_deref() == Ok("1") {
        panic!("{test}: netlab required but {why}");
    }
    eprintln!("skipping {test}: {why}");
    false
}

/// True when the long matrix was asked for (OXIRTC_LONG=1).
pub fn long() -> bool {
    std::env::var("OXIRTC_LONG").as_deref() == Ok("1")
}

/// A lab prefix unique to this test process (labs of concurrent runs must not share namespaces):
/// `tag` then the process id.
pub fn prefix(tag: char) -> String {
    format!("{tag}{}", std::process::id() % 100_000)
}

/// One lab, named by its prefix; `netlab.sh down` on drop.
pub struct Lab {
    prefix: String,
    owner: bool,
}

impl Lab {
    /// A handle on the running lab `prefix` that does not tear it down (for a second thread).
    pub fn attach(prefix: &str) -> Lab {
        Lab {
            prefix: prefix.to_owned(),
            owner: false,
        }
    }

    /// `netlab.sh up ARGS` under `prefix` (a fresh lab; an old one of that prefix is torn down).
    pub fn up(prefix: &str, args: &[&str]) -> Lab {
        let lab = Lab {
            prefix: prefix.to_owned(),
            owner: true,
        };
        let out = lab.script(&[&["up"][..], args].concat());
        assert!(
            out.status.success(),
            "netlab up {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lab
    }

    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(script())
            .args(args)
            .env("NETLAB_PREFIX", &self.prefix)
            .output()
            .unwrap()
    }

    /// A command that runs `program` inside the namespace `side` (`priv`, `nat` or `pub`).
    pub fn command(&self, side: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &format!("{}-{side}", self.prefix)])
            .arg(program);
        c
    }

    /// `netlab.sh cut DIR` (`up`, `down` or `both`).
    pub fn cut(&self, dir: &str) {
        assert!(self.script(&["cut", dir]).status.success(), "netlab cut");
    }

    /// `netlab.sh restore`.
    pub fn restore(&self) {
        assert!(self.script(&["restore"]).status.success(), "netlab restore");
    }

    /// `netlab.sh counters`: UDP packets forwarded each way (`up`, `down`), `cut`, `lost`, `duplicated`.
    pub fn counters(&self) -> serde_json::Value {
        let out = self.script(&["counters"]);
        assert!(out.status.success(), "netlab counters");
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owner {
            let _ = self.script(&["down"]);
        }
    }
}

/// A child process killed (and reaped) on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `oxirtc serve` on the public host with its STUN/TURN server; returns it and its URL.
pub fn serve(lab: &Lab) -> (Proc, String) {
    let mut c = lab.command("pub", common_bin());
    c.args(["serve", "--listen", &format!("{PUB_IP}:8080")]).args([
        "--turn-listen",
        &format!("{PUB_IP}:3478"),
        "--drain-timeout",
        "1",
    ]);
    (spawn_printing_url(c), format!("http://{PUB_IP}:8080"))
}

/// Spawns a server that prints its URL on its first line, and waits for that line.
pub fn spawn_printing_url(mut c: Command) -> Proc {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("http://"), "the server printed {line:?}");
    Proc(child)
}

/// The `oxirtc` binary to run: this build's, or OXIRTC_NETLAB_BIN (e.g. a release build, for figures).
pub fn common_bin() -> String {
    std::env::var("OXIRTC_NETLAB_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_oxirtc").to_owned())
}

/// `s` without ANSI colour sequences (the CLI's log lines are coloured).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What one `oxirtc send` → `oxirtc recv` run gave.
#[derive(Debug)]
pub struct Transfer {
    /// Both exited 0 and the received file has the source's SHA-256.
    pub ok: bool,
    /// Both exited non-zero in time with an error message, and no file other than the source's was
    /// put in place (a `.part` may stay for the next run to resume).
    pub clear_failure: bool,
    /// MB/s (10^6) as `oxirtc send` timed it (first chunk to the receiver's `done`).
    pub mb_per_s: Option<f64>,
    /// `oxirtc recv` resumed a `.part` left by an earlier run.
    pub resumed: bool,
    /// The sender's selected ICE pair went through the TURN relay.
    pub relayed: Option<bool>,
    /// Exit statuses, outputs and the digest check, for failure messages.
    pub detail: String,
}

/// Runs `oxirtc send FILE` on the private host and `oxirtc recv` on the public one through `server`;
/// `relay` makes the sender use the TURN relay only. Gives up after `timeout`.
pub fn transfer(
    lab: &Lab,
    server: &str,
    file: &Path,
    dir: &Path,
    relay: bool,
    timeout: Duration,
) -> Transfer {
    let mut send = lab.command("priv", common_bin());
    // --wait 0: these tests check how a transfer ends when the path fails (and resume by a new
    // command); waiting for the peer to come back is tests/send_recv.rs's subject.
    send.args(["--log", "oxirtc_ice=info", "send"])
        .arg(file)
        .args(["--server", server, "--wait", "0"]);
    if relay {
        send.arg("--relay");
    }
    let mut sender = Proc(
        send.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(sender.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let Some(code) = line.strip_prefix("code: ").map(|c| c.trim().to_owned()) else {
        return failed(format!("send printed {line:?}, not a code"));
    };
    let receiver = lab
        .command("pub", common_bin())
        .args([
            "recv", &code, "--server", server, "--wait", "0", "--force", "--dir",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut receiver = Proc(receiver);
    let deadline = Instant::now() + timeout;
    let recv_ok = wait(&mut receiver.0, deadline);
    let send_ok = wait(&mut sender.0, deadline);
    // whatever still runs after the deadline is stopped, so that its pipes reach EOF
    for p in [&mut sender.0, &mut receiver.0] {
        let _ = p.kill();
        let _ = p.wait();
    }
    let mut send_out = String::new();
    let _ = stdout.read_to_string(&mut send_out);
    let send_err = strip_ansi(&read_all(sender.0.stderr.take()));
    let recv_out = read_all(receiver.0.stdout.take());
    let recv_err = strip_ansi(&read_all(receiver.0.stderr.take()));
    let target = dir.join(file.file_name().unwrap());
    let want = crate::common::sha256_file(file);
    let got = target.exists().then(|| crate::common::sha256_file(&target));
    let same = got.as_deref() == Some(want.as_str());
    // "sent NAME (... ) in 1.23 s, 4.5 MB/s": recomputed from the seconds, for 3 digits at low rates
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len()) as f64;
    let mb_per_s = send_out
        .lines()
        .find_map(|l| l.strip_prefix("sent "))
        .and_then(|l| l.rsplit_once(" in "))
        .and_then(|(_, t)| t.split(" s,").next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|secs| bytes / secs.max(1e-3) / 1e6);
    // The pair data went on: the last selected pair; a short transfer can end before the nomination
    // (data may flow on the best valid pair first, RFC 8445 §12.1), then the last "ice valid pair"
    // line, which ICE logs whenever that best valid pair changes.
    let last_line = |what: &str| send_err.lines().rev().find(|l| l.contains(what));
    let relayed = last_line("ice selected pair")
        .or_else(|| last_line("ice valid pair"))
        .map(|l| l.contains(&format!("local={PUB_IP}")));
    let said_why = |e: &str| e.lines().any(|l| l.starts_with("error: "));
    Transfer {
        ok: recv_ok == Some(true) && send_ok == Some(true) && same,
        resumed: recv_err.contains("resuming "),
        clear_failure: recv_ok == Some(false)
            && send_ok == Some(false)
            && said_why(&recv_err)
            && said_why(&send_err)
            && (got.is_none() || same),
        mb_per_s,
        relayed,
        detail: format!(
            "send exit {send_ok:?}, recv exit {recv_ok:?} (None = timed out), sha256 want {want} got {got:?}\n\
             send stdout: {send_out}\nsend stderr: {}\nrecv stdout: {recv_out}\nrecv stderr: {}",
            tail(&send_err),
            tail(&recv_err)
        ),
    }
}

fn failed(detail: String) -> Transfer {
    Transfer {
        ok: false,
        clear_failure: false,
        resumed: false,
        mb_per_s: None,
        relayed: None,
        detail,
    }
}

/// Some(success) once the child exits, None if it is still running at the deadline.
pub fn wait(child: &mut Child, deadline: Instant) -> Option<bool> {
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s.success());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_all(r: Option<impl Read>) -> String {
    let mut s = String::new();
    if let Some(mut r) = r {
        let _ = r.read_to_string(&mut s);
    }
    s
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
