//! The `oxirtc serve` web UI in headless Chromium (interop/serve-ui.mjs, playwright-core, loopback-only
//! namespace): two pages opened on the link `oxirtc serve` prints share a room and see each other, move
//! 64 MiB with equal SHA-256 through the worker to OPFS, the receiver gets a notification and a title
//! badge and the file lands in Downloads by itself (its bytes hashed); decline, cancel, messages; a
//! 0-byte file and unicode names in one offer and "Save all"; receive without asking under the size set
//! in Settings; rename in place, no prompt(); clearing the history; a page that closes disappears; the QR
//! code decodes to the room link; `/` is the room of the local network; "New private room", `#` changes,
//! dark mode; CLI -> browser 16 MiB by typing the CLI's code; a receiving page reloaded mid-transfer
//! resumes from what it kept (from `oxirtc send`, which waits, and from another page); browser -> CLI
//! with the command the page shows. Screenshots mid-transfer (laptop and phone) go to
//! `<target>/tmp/serve-ui/`. Skips (saying why) when Chromium or the harness's node modules are missing,
//! unless OXIRTC_REQUIRE_INTEROP=1.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn web_ui_in_chromium() {
    let repo = repo();
    let missing = if !Path::new("/usr/bin/chromium").exists() {
        Some("chromium is not installed (run scripts/install-test-deps.sh)")
    } else if !repo.join("interop/node_modules/playwright-core").exists() {
        Some("interop/node_modules is missing (run scripts/install-test-deps.sh)")
    } else {
        None
    };
    if let Some(why) = missing {
        if std::env::var("OXIRTC_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("interop required but {why}");
        }
        eprintln!("skipping the web UI test: {why}");
        return;
    }
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-ui");
    let out = Command::new("node")
        .current_dir(repo.join("interop"))
        .arg("serve-ui.mjs")
        .args(["--oxirtc", env!("CARGO_BIN_EXE_oxirtc"), "--out"])
        .arg(&out_dir)
        .args(["--mib", "64", "--cli-mib", "16"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert!(
        out.status.success() && result["ok"] == true,
        "web UI checks failed: {}",
        result["failedChecks"]
    );
    for shot in [
        "mid-transfer-receiver.png",
        "mid-transfer-sender.png",
        "mid-transfer-phone.png",
    ] {
        let len = std::fs::metadata(out_dir.join(shot)).map_or(0, |m| m.len());
        assert!(len > 1000, "screenshot {shot} missing");
    }
}
