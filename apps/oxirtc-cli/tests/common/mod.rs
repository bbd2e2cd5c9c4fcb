//! Shared set-up of the `oxirtc serve` / `send` / `recv` process tests.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_oxirtc");

/// A running `oxirtc serve` on loopback ports chosen by the OS; killed on drop.
pub struct Serve {
    pub child: Child,
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(extra: &[&str]) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--turn-listen", "127.0.0.1:0"])
        .args(if extra.contains(&"--drain-timeout") {
            &[][..]
        } else {
            &["--drain-timeout", "1"][..]
        })
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("serve prints its URL first")
        .split('#')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    Serve { child, url }
}

/// A running `oxirtc send`; its code is read from the first line.
pub struct Sender {
    pub child: Child,
    pub code: String,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sender {
    /// Waits for the exit; (success, stdout rest, stderr).
    pub fn finish(mut self, timeout: Duration) -> (bool, String, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "oxirtc send did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.success(), out, err)
    }
}

pub fn send(server: &str, files: &[&Path], extra: &[&str]) -> Sender {
    let mut child = Command::new(BIN)
        .arg("send")
        .args(files)
        .args(["--server", server])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let code = line
        .strip_prefix("code: ")
        .expect("send prints `code: X` first")
        .trim()
        .to_owned();
    Sender { child, code, stdout }
}

pub fn recv(server: &str, code: &str, dir: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["recv", code, "--server", server, "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh empty directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file of `len` pseudo-random bytes (xorshift, seeded), written in 1 MiB pieces.
pub fn random_file(path: &Path, len: usize, seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x = seed | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for b in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        let n = left.min(buf.len());
        f.write_all(&buf[..n]).unwrap();
        left -= n;
    }
}

/// SHA-256 of a file, hex (through oxirtc-crypto, independently of the code under test's hashing).
pub fn sha256_file(path: &Path) -> String {
    let mut h = oxirtc_crypto::Sha256Hasher::new();
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finish().iter().map(|b| format!("{b:02x}")).collect()
}

/// A child process, killed and reaped on drop.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A UDP port on 127.0.0.1 that is free right now.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
