//! `oxirtc whip` publishes a VP8 file and an Opus file into `oxirtc serve`'s SFU and `oxirtc whep`
//! records what the room plays: the recordings decode in FFmpeg without a message and hold the
//! frames of the time it played. Without ffmpeg the decode check is skipped unless
//! OXIRTC_REQUIRE_FFMPEG=1 (CI sets it).
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use oxirtc_server::serve::{start, ServeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_oxirtc");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/oxirtc-media-file/fixtures")
        .join(name)
}

fn ffmpeg_available() -> bool {
    let found = ["ffmpeg", "ffprobe"].iter().all(|t| {
        Command::new(t)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found && std::env::var("OXIRTC_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("ffmpeg/ffprobe are not on PATH and OXIRTC_REQUIRE_FFMPEG=1: apt-get install ffmpeg");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_publishes_files_and_whep_records_them_through_the_sfu() {
    let server = start(&ServeOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        no_turn: Some(true),
        ..ServeOptions::default()
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.http);
    let dir = tempfile_dir();
    let publisher = Command::new(BIN)
        .args([
            "whip",
            &format!("{base}/whip/live"),
            "--bind",
            "127.0.0.1",
            "--loop",
        ])
        .args(["--duration", "6s", "--send-media"])
        .arg(fixture("vp8.ivf"))
        .arg(fixture("opus.ogg"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The publisher is in the room once its connection is up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let player = tokio::task::spawn_blocking({
        let (url, dir) = (format!("{base}/whep/live"), dir.clone());
        move || {
            Command::new(BIN)
                .args([
                    "whep",
                    &url,
                    "--bind",
                    "127.0.0.1",
                    "--duration",
                    "3s",
                    "--record",
                ])
                .arg(&dir)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let player_log = String::from_utf8_lossy(&player.stderr);
    assert!(player.status.success(), "whep: {player_log}");
    assert!(player_log.contains("session deleted: true"), "{player_log}");
    let published = tokio::task::spawn_blocking(move || publisher.wait_with_output().unwrap())
        .await
        .unwrap();
    let publisher_log = String::from_utf8_lossy(&published.stderr);
    assert!(published.status.success(), "whip: {publisher_log}");
    assert!(publisher_log.contains("session deleted: true"), "{publisher_log}");
    assert!(
        server.sfu.rooms().is_empty(),
        "both sessions ended: {:?}",
        server.sfu.rooms()
    );

    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "webm"))
        .collect();
    assert_eq!(
        files.len(),
        2,
        "a VP8 and an Opus recording: {files:?} ({player_log})"
    );
    if !ffmpeg_available() {
        eprintln!("SKIP the decode check: no ffmpeg");
        return;
    }
    for f in &files {
        let out = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(f)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{}: {stderr}",
            f.display()
        );
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(f)
            .output()
            .unwrap();
        let frames: u64 = String::from_utf8_lossy(&probe.stdout).trim().parse().unwrap_or(0);
        // 3 s of play; video starts at the file's next keyframe (1 s apart), so at least ~1.5 s.
        assert!(frames >= 40, "{}: {frames} frames", f.display());
    }
    server.shutdown().await;
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oxirtc-whip-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
