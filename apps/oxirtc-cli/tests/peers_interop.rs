//! The project's own interop matrix against werift, libdatachannel (node-datachannel), Pion and
//! aiortc (Chromium: chromium_interop.rs). Each cell is a real connection in a fresh loopback-only
//! network namespace, run by interop/peers/cell.mjs: the peer serves and `oxirtc dial` dials it, or
//! `oxirtc echo --once` serves and the peer dials, with the dialer offering (`--mode offer`) or asking
//! the server to offer (`--mode answer`). Variants: text and binary always; 0-byte, 16-byte and
//! 256 KiB messages; unordered and maxRetransmits=0 channels; the channel closed by either side.
//! Media (`*_media_interop`): aiortc (VP8, H.264) and Pion (VP8) send audio and video to `oxirtc echo`,
//! which reflects them, in both offer/answer roles; the peer decodes what comes back (one cell also
//! loses 5 % of what oxirtc sends). docs/interop.md has the tables and the commands.
//!
//! The peers are installed by scripts/install-test-deps.sh. With OXIRTC_REQUIRE_INTEROP=1 (CI) a
//! missing peer fails its test; otherwise the test says why it skipped. Cells in [`KNOWN_FAILING`]
//! must fail (and must be taken off the list once they pass); any other failing cell is run once more
//! and fails the test if it fails again. OXIRTC_INTEROP_JOBS (default 2) cells run at once.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// Cells that fail today because of a known bug, as `peer role mode variant` patterns (`*` matches
/// anything), with the reason printed beside them. Fixing the bug makes the cell pass, which fails the
/// test until its line is removed here (and in docs/interop.md).
const KNOWN_FAILING: &[(&str, &str)] = &[(
    "pion media offer vp8-loss5",
    "oxirtc answers a=rtcp-fb nack and rtx but retransmits nothing on NACK: docs/interop.md M1",
)];

/// Each dialer's limit per wait, in seconds. A passing cell takes about a second.
const TIMEOUT_S: &str = "10";

#[test]
fn werift_interop_matrix() {
    run_peer(&Peer {
        name: "werift",
        server: "node peers/node-peer.mjs --impl werift --once".into(),
        dialer: Some(vec!["node", "peers/peer-dial.mjs", "--impl", "werift"]),
        needs: &["node_modules/werift/package.json"],
        // werift 0.24.4 sends nothing for an empty message (it makes no DATA chunk for 0 bytes, where
        // RFC 8831 §6.6 wants one byte with PPID 56/57) but uses up the stream's SSN; oxirtc skips that
        // SSN gap (docs/interop.md W2), yet the message itself is lost on werift's side. It announces
        // a=max-message-size:65536.
        sizes: "1,16,65536",
    });
}

#[test]
fn libdatachannel_interop_matrix() {
    run_peer(&Peer {
        name: "libdatachannel",
        server: "node peers/node-peer.mjs --impl ndc --once".into(),
        dialer: Some(vec!["node", "peers/peer-dial.mjs", "--impl", "ndc"]),
        needs: &["node_modules/node-datachannel/package.json"],
        sizes: "0,16,262144",
    });
}

#[test]
fn pion_interop_matrix() {
    run_peer(&Peer {
        name: "pion",
        server: ".build/pion-peer --once".into(),
        dialer: Some(vec![".build/pion-peer"]),
        needs: &[".build/pion-peer"],
        // Pion 3.1 sends no a=max-message-size (so 64 KiB, RFC 8841 §6.1) and sends at most 65535.
        sizes: "0,16,65535",
    });
}

#[test]
fn aiortc_interop_matrix() {
    run_peer(&Peer {
        name: "aiortc",
        server: ".venv/bin/python peers/aiortc-peer.py --once".into(),
        dialer: None, // aiortc only serves; oxirtc dials it
        needs: &[".venv/bin/python"],
        sizes: "0,16,262144",
    });
}

/// Seconds each media cell measures after the first video frame came back (the dialer then stops
/// sending and waits 1 s for the rest).
const MEDIA_WINDOW_S: &str = "5";

#[test]
fn aiortc_media_interop() {
    run_media(&MediaPeer {
        name: "aiortc",
        dialer: &[".venv/bin/python", "peers/aiortc-media-dial.py"],
        needs: &[".venv/bin/python"],
        tools: &[],
        cells: vec![
            MediaCell::new("VP8", "offer"),
            MediaCell::new("VP8", "answer"),
            MediaCell::new("H264", "offer"),
            MediaCell::new("H264", "answer"),
        ],
    });
}

#[test]
fn pion_media_interop() {
    run_media(&MediaPeer {
        name: "pion",
        dialer: &[".build/pion-peer", "--media"],
        needs: &[".build/pion-peer"],
        // The IVF and Ogg it sends are made by ffmpeg; what comes back is decoded by ffprobe. The
        // loss cell drops packets with iptables.
        tools: &["ffmpeg", "ffprobe", "iptables"],
        cells: vec![
            MediaCell::new("VP8", "offer"),
            MediaCell::new("VP8", "answer"),
            // 5 % of what oxirtc sends is lost: Pion's NACKs must get it back (RFC 4585 §6.2.1).
            MediaCell {
                loss_percent: 5,
                ..MediaCell::new("VP8", "offer")
            },
        ],
    });
}

/// One media cell.
struct MediaCell {
    codec: &'static str,
    /// The dialer's --mode: offer = the peer offers, answer = `oxirtc echo` offers.
    mode: &'static str,
    /// Random loss of the UDP packets oxirtc sends (iptables in the cell's namespace; echo binds
    /// 127.0.0.2 so that only its packets match), in percent. The dialer gets `--expect-repair`: every
    /// lost video packet must come again on its NACKs.
    loss_percent: u32,
}

impl MediaCell {
    const fn new(codec: &'static str, mode: &'static str) -> Self {
        MediaCell {
            codec,
            mode,
            loss_percent: 0,
        }
    }
}

/// An outside stack's media dialer against `oxirtc echo --once`, which reflects audio and video.
struct MediaPeer {
    name: &'static str,
    /// The dialer (`--mode`, `--codec`, `--window`, `--timeout` and the URL follow), from interop/.
    dialer: &'static [&'static str],
    /// Files under interop/ it needs.
    needs: &'static [&'static str],
    /// Programs it runs (on PATH).
    tools: &'static [&'static str],
    cells: Vec<MediaCell>,
}

fn run_media(peer: &MediaPeer) {
    let interop = interop_dir();
    let missing_tool = peer.tools.iter().find(|t| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let ready = ready(
        &Peer {
            name: peer.name,
            server: String::new(),
            dialer: None,
            needs: peer.needs,
            sizes: "",
        },
        &interop,
    )
    .and_then(|()| match missing_tool {
        Some(t) => Err(format!("{t} is missing (run scripts/install-test-deps.sh)")),
        None => Ok(()),
    });
    if let Err(why) = ready {
        if std::env::var("OXIRTC_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("{} media interop required but {why}", peer.name);
        }
        eprintln!("skipping {} media interop: {why}", peer.name);
        return;
    }
    let t0 = Instant::now();
    let oxirtc = env!("CARGO_BIN_EXE_oxirtc");
    let mut rows = Vec::new();
    for cell in &peer.cells {
        let (codec, mode) = (cell.codec, cell.mode);
        let mut id = format!("{} media {mode} {}", peer.name, codec.to_lowercase());
        let echo = if cell.loss_percent == 0 {
            format!("{oxirtc} echo --once")
        } else {
            let _ = write!(id, "-loss{}", cell.loss_percent);
            format!(
                "iptables -A OUTPUT -s 127.0.0.2 -p udp -m statistic --mode random --probability {} \
                 -j DROP && {oxirtc} echo --once --bind 127.0.0.2",
                f64::from(cell.loss_percent) / 100.0
            )
        };
        let mut args: Vec<String> = ["peers/cell.mjs", "--timeout", TIMEOUT_S, "--media", "--server"]
            .map(String::from)
            .into();
        args.push(echo);
        args.push("--".into());
        args.extend(peer.dialer.iter().map(|s| s.to_string()));
        for (flag, value) in [
            ("--mode", mode),
            ("--codec", codec),
            ("--window", MEDIA_WINDOW_S),
            ("--timeout", TIMEOUT_S),
        ] {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
        if cell.loss_percent > 0 {
            args.push("--expect-repair".into());
        }
        let (outcome, json) = run_cell_args(&id, &args, &interop);
        rows.push((id, outcome, json));
    }
    let mut table = format!(
        "\n{} media against oxirtc echo (mode = the peer's: offer = it offers; window {MEDIA_WINDOW_S} s)\n\
         {:28} {:>13} {:>22} {:>22} {:>22} {:>9}\n",
        peer.name,
        "cell",
        "result",
        "video sent/back/dec",
        "window video sent/ok",
        "audio sent/back/dec",
        "reflected"
    );
    for (id, outcome, json) in &rows {
        let s = json
            .as_ref()
            .map(|j| j["dialer"]["result"]["summary"].clone())
            .unwrap_or_default();
        let n = |k: &str| s[k].as_i64().map_or("?".into(), |v| v.to_string());
        let reflected = json
            .as_ref()
            .and_then(|j| j["media"]["rtpReflected"].as_i64())
            .map_or("?".into(), |v| v.to_string());
        let _ = writeln!(
            table,
            "{id:28} {:>13} {:>22} {:>22} {:>22} {reflected:>9}",
            outcome.cell_text(),
            format!("{}/{}/{}", n("videoSent"), n("videoReceived"), n("videoDecoded")),
            format!("{}/{}", n("windowVideoSent"), n("windowVideoBack")),
            format!("{}/{}/{}", n("audioSent"), n("audioReceived"), n("audioDecoded")),
        );
    }
    let _ = writeln!(
        table,
        "{} media interop took {:.1} s",
        peer.name,
        t0.elapsed().as_secs_f64()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), table.as_bytes());
    let bad: Vec<String> = rows
        .iter()
        .filter_map(|(id, o, _)| match o {
            Outcome::Failed { reason } => Some(format!("{id}: {reason}")),
            Outcome::UnexpectedPass { why } => Some(format!(
                "{id} now passes: take it off KNOWN_FAILING in tests/peers_interop.rs and \
                 docs/interop.md (was: {why})"
            )),
            _ => None,
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} media interop cells went wrong:\n{}",
        peer.name,
        bad.join("\n")
    );
}

/// One outside stack.
struct Peer {
    name: &'static str,
    /// Its server command (`sh -c`, from interop/).
    server: String,
    /// Its dialer (flags and the server URL follow), if it has one.
    dialer: Option<Vec<&'static str>>,
    /// Files under interop/ it needs (installed by scripts/install-test-deps.sh).
    needs: &'static [&'static str],
    /// `--sizes` of the sizes variant: 0, 16 and 256 KiB where the peer can.
    sizes: &'static str,
}

/// A set of dialer flags, run in the listed `--mode`s.
struct Variant {
    name: &'static str,
    args: &'static [&'static str],
    modes: &'static [&'static str],
    /// The server must report a channel closed while the connection stayed up.
    expect_closed: bool,
}

/// Stands for the peer's [`Peer::sizes`].
const SIZES: &str = "{sizes}";

const VARIANTS: &[Variant] = &[
    Variant {
        name: "basic",
        args: &["--binary"],
        modes: &["offer", "answer"],
        expect_closed: false,
    },
    Variant {
        name: "sizes",
        args: &["--binary", "--messages", "3", "--sizes", SIZES],
        modes: &["offer"],
        expect_closed: false,
    },
    Variant {
        name: "unordered",
        args: &["--binary", "--messages", "50", "--unordered"],
        modes: &["offer"],
        expect_closed: false,
    },
    Variant {
        name: "rexmit0",
        args: &[
            "--binary",
            "--messages",
            "50",
            "--unordered",
            "--max-retransmits",
            "0",
        ],
        modes: &["offer"],
        expect_closed: false,
    },
    Variant {
        name: "close-us",
        args: &["--binary", "--close-from", "us"],
        modes: &["offer", "answer"],
        expect_closed: true,
    },
    Variant {
        name: "close-peer",
        args: &["--binary", "--close-from", "peer"],
        modes: &["offer", "answer"],
        expect_closed: true,
    },
];

/// What became of one cell.
#[derive(Clone, Debug)]
enum Outcome {
    Passed {
        retried: bool,
    },
    KnownFailing {
        why: &'static str,
    },
    /// A known-failing cell passed: its KNOWN_FAILING line must go.
    UnexpectedPass {
        why: &'static str,
    },
    Failed {
        reason: String,
    },
    /// Not run: the basic cell of its role and mode did not pass.
    Skipped,
}

impl Outcome {
    fn cell_text(&self) -> &'static str {
        match self {
            Outcome::Passed { retried: false } => "ok",
            Outcome::Passed { retried: true } => "ok (2nd try)",
            Outcome::KnownFailing { .. } => "known-failing",
            Outcome::UnexpectedPass { .. } => "PASSES (known?)",
            Outcome::Failed { .. } => "FAIL",
            Outcome::Skipped => "-",
        }
    }
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop")
        .canonicalize()
        .unwrap()
}

fn ready(peer: &Peer, interop: &Path) -> Result<(), String> {
    if !is_root() {
        return Err("network namespaces need root".into());
    }
    for need in peer.needs {
        if !interop.join(need).exists() {
            return Err(format!(
                "interop/{need} is missing (run scripts/install-test-deps.sh)"
            ));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run_peer(peer: &Peer) {
    let interop = interop_dir();
    if let Err(why) = ready(peer, &interop) {
        if std::env::var("OXIRTC_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("{} interop required but {why}", peer.name);
        }
        eprintln!("skipping {} interop: {why}", peer.name);
        return;
    }
    let t0 = Instant::now();
    let oxirtc = env!("CARGO_BIN_EXE_oxirtc");
    let echo = format!("{oxirtc} echo --once");
    let mut rows: Vec<(String, Vec<Option<Outcome>>)> = Vec::new();
    let mut roles = vec![("server", peer.server.clone(), vec![oxirtc, "dial"])];
    if let Some(d) = &peer.dialer {
        roles.push(("dialer", echo, d.clone()));
    }
    for (role, server, dialer) in &roles {
        for mode in ["offer", "answer"] {
            let mut row = Vec::new();
            let mut basic_ok = false;
            for v in VARIANTS {
                if !v.modes.contains(&mode) {
                    row.push(None);
                    continue;
                }
                let id = format!("{} {role} {mode} {}", peer.name, v.name);
                if v.name != "basic" && !basic_ok {
                    row.push(Some(Outcome::Skipped));
                    continue;
                }
                let cell = CellCmd {
                    server,
                    dialer,
                    mode,
                    variant: v,
                    sizes: peer.sizes,
                };
                let outcome = run_cell(&id, &cell, &interop);
                if v.name == "basic" {
                    basic_ok = matches!(outcome, Outcome::Passed { .. });
                }
                row.push(Some(outcome));
            }
            rows.push((format!("{role} {mode}"), row));
        }
    }
    // Written past the test harness's output capture: the table shows in every run, passing or not.
    let table = format!(
        "{}\n{} interop matrix took {:.1} s\n",
        table(peer.name, &rows),
        peer.name,
        t0.elapsed().as_secs_f64()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), table.as_bytes());
    let bad: Vec<String> = rows
        .iter()
        .flat_map(|(label, row)| {
            row.iter().zip(VARIANTS).filter_map(move |(o, v)| match o {
                Some(Outcome::Failed { reason }) => {
                    Some(format!("{} {label} {}: {reason}", peer.name, v.name))
                }
                Some(Outcome::UnexpectedPass { why }) => Some(format!(
                    "{} {label} {} now passes: take it off KNOWN_FAILING in tests/peers_interop.rs \
                     and docs/interop.md (was: {why})",
                    peer.name, v.name
                )),
                _ => None,
            })
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} interop cells went wrong:\n{}",
        peer.name,
        bad.join("\n")
    );
}

/// The table of one peer: rows role × mode, columns the variants.
fn table(peer: &str, rows: &[(String, Vec<Option<Outcome>>)]) -> String {
    let mut out = format!("\n{peer}: role = the peer's role, mode = the dialer's --mode\n");
    let _ = write!(out, "{:14}", "role   mode");
    for v in VARIANTS {
        let _ = write!(out, " {:>15}", v.name);
    }
    for (label, row) in rows {
        let (role, mode) = label.split_once(' ').unwrap_or((label, ""));
        let _ = write!(out, "\n{role:6} {mode:7}");
        for o in row {
            let _ = write!(out, " {:>15}", o.as_ref().map_or("n/a", Outcome::cell_text));
        }
    }
    out
}

/// How one cell is run.
struct CellCmd<'a> {
    server: &'a str,
    dialer: &'a [&'a str],
    mode: &'a str,
    variant: &'a Variant,
    sizes: &'a str,
}

impl CellCmd<'_> {
    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["peers/cell.mjs".into(), "--timeout".into(), TIMEOUT_S.into()];
        if self.variant.expect_closed {
            a.push("--expect-closed".into());
        }
        a.extend(["--server".into(), self.server.into(), "--".into()]);
        a.extend(self.dialer.iter().map(|s| s.to_string()));
        a.extend(["--timeout", TIMEOUT_S, "--mode", self.mode].map(String::from));
        a.extend(self.variant.args.iter().map(|s| s.replace(SIZES, self.sizes)));
        a
    }
}

/// The command line to run a cell by hand (from interop/).
fn shell(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.contains(' ') {
                format!("\"{a}\"")
            } else {
                a.clone()
            }
        })
        .fold("node".to_owned(), |acc, a| acc + " " + &a)
}

fn known_failing(id: &str) -> Option<&'static str> {
    let parts: Vec<&str> = id.split(' ').collect();
    KNOWN_FAILING.iter().find_map(|(pattern, why)| {
        let p: Vec<&str> = pattern.split(' ').collect();
        let hit = p.len() == parts.len() && p.iter().zip(&parts).all(|(p, c)| *p == "*" || p == c);
        hit.then_some(*why)
    })
}

fn run_cell(id: &str, cell: &CellCmd, interop: &Path) -> Outcome {
    run_cell_args(id, &cell.args(), interop).0
}

/// Runs `node ARGS` (a cell.mjs command line) as cell `id`, once more if it fails and is not known to
/// fail; the outcome, and the cell's JSON of the last run that printed one.
fn run_cell_args(id: &str, args: &[String], interop: &Path) -> (Outcome, Option<serde_json::Value>) {
    let known = known_failing(id);
    let (first, mut json) = run_once(id, args, interop);
    let outcome = match (first, known) {
        (Ok(()), None) => Outcome::Passed { retried: false },
        (Ok(()), Some(why)) => Outcome::UnexpectedPass { why },
        (Err(_), Some(why)) => Outcome::KnownFailing { why },
        // Once more: a loaded 2-core machine can make a healthy run miss a deadline.
        (Err(_), None) => {
            let (second, j) = run_once(id, args, interop);
            json = j.or(json);
            match second {
                Ok(()) => Outcome::Passed { retried: true },
                Err(reason) => Outcome::Failed { reason },
            }
        }
    };
    match &outcome {
        Outcome::KnownFailing { why } => eprintln!("peers-interop: {id}: known-failing ({why})"),
        o => eprintln!("peers-interop: {id}: {}", o.cell_text()),
    }
    (outcome, json)
}

/// Runs the cell once (holding one of the OXIRTC_INTEROP_JOBS slots); on failure prints why, the last
/// lines of both sides and the command that reruns it, and returns the reason. Also gives back the
/// cell's JSON when it printed one.
fn run_once(id: &str, args: &[String], interop: &Path) -> (Result<(), String>, Option<serde_json::Value>) {
    let _slot = Slot::take();
    let t = Instant::now();
    let out = Command::new("node")
        .current_dir(interop)
        .args(args)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Ok(r) = serde_json::from_str::<serde_json::Value>(&stdout) else {
        let reason = format!(
            "cell.mjs printed no JSON (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("peers-interop: {id}: {reason}");
        return (Err(reason), None);
    };
    if out.status.success() && r["ok"] == true {
        eprintln!("peers-interop: {id}: passed in {secs:.1} s");
        return (Ok(()), Some(r));
    }
    let reason = r["reason"].as_str().unwrap_or("no reason given").to_owned();
    let mut report = format!("peers-interop: {id}: FAILED in {secs:.1} s: {reason}\n");
    for hint in r["hints"].as_array().into_iter().flatten() {
        let _ = writeln!(report, "    hint: {}", hint.as_str().unwrap_or_default());
    }
    for (side, tail) in [
        ("server", &r["server"]["outputTail"]),
        ("dialer", &r["dialer"]["outputTail"]),
    ] {
        let lines: Vec<&str> = tail
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str())
            .collect();
        for line in &lines[lines.len().saturating_sub(5)..] {
            let line: String = line.chars().take(300).collect();
            let _ = writeln!(report, "    {side}: {line}");
        }
    }
    let _ = write!(report, "    rerun (in interop/): {}", shell(args));
    eprintln!("{report}");
    (Err(reason), Some(r))
}

/// One of OXIRTC_INTEROP_JOBS concurrent cells (the tests of this file run in parallel threads).
struct Slot;

static SLOTS: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

impl Slot {
    fn take() -> Slot {
        let jobs: usize = std::env::var("OXIRTC_INTEROP_JOBS")
            .ok()
            .and_then(|j| j.parse().ok())
            .filter(|&j| j > 0)
            .unwrap_or(2);
        let mut busy = SLOTS.lock().unwrap();
        while *busy >= jobs {
            busy = FREED.wait(busy).unwrap();
        }
        *busy += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // A poisoned lock means another test panicked while holding it; the count is still right.
        let mut busy = SLOTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *busy -= 1;
        FREED.notify_one();
    }
}
