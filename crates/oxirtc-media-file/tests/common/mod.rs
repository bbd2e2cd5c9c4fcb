//! Shared by the integration tests: the fixtures and the FFmpeg check.
#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;
use std::process::Command;

/// A fixture's bytes (crates/oxirtc-media-file/fixtures/NAME).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Whether `ffmpeg` and `ffprobe` run. Without them the test is skipped (with a line saying so),
/// unless OXIRTC_REQUIRE_FFMPEG=1 (CI sets it), which makes their absence a failure.
pub fn ffmpeg_available(test: &str) -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("ffmpeg") && runs("ffprobe") {
        return true;
    }
    if std::env::var("OXIRTC_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("{test}: ffmpeg/ffprobe are not on PATH and OXIRTC_REQUIRE_FFMPEG=1; install them (Debian: apt-get install ffmpeg, or bash scripts/install-test-deps.sh)");
    }
    eprintln!("SKIP {test}: ffmpeg/ffprobe not on PATH (set OXIRTC_REQUIRE_FFMPEG=1 to make this a failure)");
    false
}

/// A path in the temporary directory for this test's output, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("oxirtc-media-file-{}-{name}", std::process::id())))
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8 here")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs a command and returns (success, stdout, stderr).
pub fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
