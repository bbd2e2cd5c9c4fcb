//! Builds the C harness over libsrtp2 (src/libsrtp_shim.c) for the SRTP bench when pkg-config finds
//! libsrtp2 (Debian: `apt-get install libsrtp2-dev`), and sets `cfg(libsrtp2)`; without it the SRTP
//! bench runs without its libsrtp2 column and says why.

use std::process::Command;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(libsrtp2)");
    println!("cargo:rerun-if-changed=src/libsrtp_shim.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    // PKG_CONFIG names another pkg-config, as the pkg-config crate reads it (PKG_CONFIG=false: build
    // without libsrtp2).
    let pkg_config = std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let probe = Command::new(pkg_config)
        .args(["--cflags", "--libs", "libsrtp2"])
        .output();
    let flags = match probe {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            println!(
                "cargo:warning=libsrtp2 not found by pkg-config: srtp-bench runs without its libsrtp2 \
                 column (apt-get install libsrtp2-dev)"
            );
            return;
        }
    };
    let mut build = cc::Build::new();
    build.file("src/libsrtp_shim.c").opt_level(2);
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-I") {
            build.include(dir);
        }
    }
    build.compile("libsrtp_shim");
    for flag in flags.split_whitespace() {
        if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={lib}");
        } else if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        }
    }
    println!("cargo:rustc-cfg=libsrtp2");
}
