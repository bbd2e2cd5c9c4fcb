//! `oxirtc dial --send-media FILE... --record DIR` against `oxirtc echo`: the call gets its own media
//! back, and the recording decodes in FFmpeg without a message, with the frame count sent (±5 %).
//! Every video fixture of oxirtc-media-file (VP8, VP9, AV1, H.264, H.265), each with Opus.
//!
//! FFmpeg (`ffmpeg`, `ffprobe`) checks the recordings: without it these tests print SKIP and pass,
//! unless OXIRTC_REQUIRE_FFMPEG=1 (CI sets it), which makes its absence a failure.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_oxirtc");

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

fn start_echo(extra: &[&str]) -> Echo {
    let mut child = Command::new(BIN)
        .arg("echo")
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("first line is LISTENING <url>, got {line:?}"))
        .trim()
        .to_owned();
    Echo { child, url }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/oxirtc-media-file/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("oxirtc-media-dial-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        TempDir(d)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `oxirtc dial URL ARGS...`; (exit success, its JSON, its stderr).
fn dial(url: &str, args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(BIN)
        .args(["dial", url, "--timeout", "20"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.success(), json, stderr)
}

fn ffmpeg_available(test: &str) -> bool {
    let found = ["ffmpeg", "ffprobe"].iter().all(|t| {
        Command::new(t)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found {
        return true;
    }
    if std::env::var("OXIRTC_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("{test}: ffmpeg/ffprobe are not on PATH and OXIRTC_REQUIRE_FFMPEG=1; install them (apt-get install ffmpeg, or bash scripts/install-test-deps.sh)");
    }
    eprintln!("SKIP {test}: ffmpeg/ffprobe not on PATH (set OXIRTC_REQUIRE_FFMPEG=1 to make this a failure)");
    false
}

/// `ffmpeg -v error -i FILE -f null -` must print nothing; returns ffprobe's count of decoded
/// frames and the packet timestamps (s).
fn decode(file: &str) -> (u64, Vec<f64>) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i", file, "-f", "null", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg decoding {file}: {stderr}"
    );
    let probe = |what: &[&str]| {
        let out = Command::new("ffprobe")
            .args(["-v", "error"])
            .args(what)
            .args(["-of", "csv=p=0", file])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ffprobe {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let frames = probe(&["-count_frames", "-show_entries", "stream=nb_read_frames"])
        .trim()
        .parse()
        .unwrap();
    let pts = probe(&["-show_entries", "packet=pts_time"])
        .split_whitespace()
        .filter_map(|t| t.trim_end_matches(',').parse().ok())
        .collect();
    (frames, pts)
}

/// Checks every recording of `r` decodes, with `want` frames (±5 %) per codec; returns (codec,
/// frames decoded) in the report's order.
fn check_recordings(r: &serde_json::Value, want: &[(&str, u64)]) -> Vec<(String, u64)> {
    let recorded = r["media"]["recorded"].as_array().unwrap();
    assert_eq!(recorded.len(), want.len(), "one recording per track: {r:#}");
    let mut got = Vec::new();
    for rec in recorded {
        let codec = rec["codec"].as_str().unwrap().to_owned();
        let (_, expected) = want
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(&codec))
            .unwrap_or_else(|| panic!("unexpected codec {codec}: {r:#}"));
        assert_eq!(rec["partial"], false, "{rec:#}");
        let file = rec["file"].as_str().unwrap();
        let (frames, pts) = decode(file);
        let diff = frames.abs_diff(*expected) as f64;
        assert!(
            diff <= 0.05 * *expected as f64,
            "{file}: {frames} frames decoded, {expected} sent"
        );
        assert_eq!(
            rec["framesWritten"], frames,
            "the report counts what is in the file: {rec:#}"
        );
        // Raw H.265 has no timestamps to check.
        if rec["format"] != "h265-annexb" {
            assert!(
                pts.windows(2).all(|w| w[1] > w[0]),
                "{file}: timestamps must increase: {pts:?}"
            );
            assert_eq!(pts.first().copied(), Some(0.0), "{file} starts at 0");
        }
        got.push((codec, frames));
    }
    got
}

/// dial offers (or, in `answer` mode, asks the echo to offer) FIXTURE + opus.ogg, records what
/// comes back.
fn round_trip(test: &str, fixture_name: &str, codec: &str, mode: &str) {
    if !ffmpeg_available(test) {
        return;
    }
    let echo = start_echo(&[]);
    let dir = TempDir::new(test);
    let (ok, r, stderr) = dial(
        &echo.url,
        &[
            "--mode",
            mode,
            "--send-media",
            &fixture(fixture_name),
            &fixture("opus.ogg"),
            "--record",
            dir.path(),
        ],
    );
    assert!(ok, "dial failed: {r:#}\n{stderr}");
    assert_eq!(r["media"]["endedBy"], "files sent");
    for s in r["media"]["sent"].as_array().unwrap() {
        assert_eq!(s["framesSent"], s["framesInFile"], "{s:#}");
        assert_eq!(s["dropped"], 0, "{s:#}");
    }
    let got = check_recordings(&r, &[(codec, 60), ("opus", 101)]);
    eprintln!("{test}: decoded {got:?}");
    assert!(
        stderr.contains("nothing dropped"),
        "the summary says so: {stderr}"
    );
}

#[test]
fn vp8_and_opus_come_back_and_decode() {
    round_trip("vp8", "vp8.ivf", "VP8", "offer");
}

#[test]
fn vp9_and_opus_come_back_and_decode() {
    round_trip("vp9", "vp9.ivf", "VP9", "offer");
}

#[test]
fn av1_and_opus_come_back_and_decode() {
    round_trip("av1", "av1.ivf", "AV1", "offer");
}

#[test]
fn h264_and_opus_come_back_and_decode() {
    round_trip("h264", "h264.h264", "H264", "offer");
}

#[test]
fn h265_and_opus_come_back_and_decode() {
    round_trip("h265", "h265.h265", "H265", "offer");
}

/// The echo offers (request-offer with the file's videoCodec); dial answers and sends on its
/// sections.
#[test]
fn answering_dial_sends_on_the_offered_sections() {
    round_trip("answer-vp9", "vp9.ivf", "VP9", "answer");
}

/// `--loop --duration 3s`: each file restarts once; timestamps keep increasing through the
/// restart (checked in check_recordings) and the recording holds 3 s of frames.
#[test]
fn looped_files_keep_their_timestamps_increasing() {
    if !ffmpeg_available("loop") {
        return;
    }
    let echo = start_echo(&[]);
    let dir = TempDir::new("loop");
    let (ok, r, stderr) = dial(
        &echo.url,
        &[
            "--send-media",
            &fixture("vp8.ivf"),
            &fixture("opus.ogg"),
            "--loop",
            "--duration",
            "3s",
            "--record",
            dir.path(),
        ],
    );
    assert!(ok, "dial failed: {r:#}\n{stderr}");
    assert_eq!(r["media"]["endedBy"], "duration");
    for s in r["media"]["sent"].as_array().unwrap() {
        assert_eq!(s["passes"], 2, "3 s of a 2 s file (2.02 s for Opus): {s:#}");
    }
    // 3 s: 90 video frames, 150 Opus packets (the last ones may still be on their way).
    check_recordings(&r, &[("VP8", 90), ("opus", 150)]);
}

/// A file only oxirtc echo can send answers the dial's offer: when the offer's first codec is not
/// the file's, the echo refuses the offer and says what to do.
#[test]
fn a_codec_the_offer_does_not_prefer_is_refused_with_the_reason() {
    let echo = start_echo(&["--send-media", &fixture("vp9.ivf")]);
    let dir = TempDir::new("mismatch");
    // dial --record alone offers receive-only sections with every codec, VP8 first.
    let (ok, r, _) = dial(&echo.url, &["--record", dir.path(), "--duration", "2s"]);
    assert!(!ok);
    let error = r["error"].as_str().unwrap();
    assert!(
        error.contains("vp9.ivf is VP9 but the section negotiated VP8") && error.contains("offer VP9 first"),
        "{error}"
    );
}

/// The echo sends its files; dial only records (and, in answer mode, lets the echo offer the
/// files' codecs).
#[test]
fn dial_records_what_an_echo_sends() {
    if !ffmpeg_available("record-only") {
        return;
    }
    let echo = start_echo(&["--send-media", &fixture("av1.ivf"), &fixture("opus.ogg")]);
    let dir = TempDir::new("record-only");
    let (ok, r, stderr) = dial(
        &echo.url,
        &["--mode", "answer", "--record", dir.path(), "--duration", "3s"],
    );
    assert!(ok, "dial failed: {r:#}\n{stderr}");
    assert!(r["media"]["sent"].as_array().unwrap().is_empty());
    check_recordings(&r, &[("AV1", 60), ("opus", 101)]);
}

#[test]
fn bad_media_arguments_say_what_is_wrong() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["dial", "http://127.0.0.1:9/offer"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--send-media", "talk.mp4"]);
    assert!(e.contains("talk.mp4: unknown media file type `.mp4`"), "{e}");
    let e = run(&["--send-media", "/nonexistent/clip.ivf"]);
    assert!(e.contains("cannot open /nonexistent/clip.ivf"), "{e}");
    let e = run(&["--duration", "5s"]);
    assert!(e.contains("--duration limits a media call"), "{e}");
    let e = run(&["--loop"]);
    assert!(e.contains("--send-media"), "--loop needs files: {e}");
    let file = TempDir::new("not-a-dir");
    std::fs::write(&file.0, b"a file").unwrap();
    let e = run(&["--record", file.path()]);
    assert!(e.contains("cannot create the directory"), "{e}");
    let _ = std::fs::remove_file(&file.0);
}
