//! An SCTP echo peer over stdin/stdout for interop tests against other SCTP stacks (see
//! `interop/aiortc_sctp.py`). Frames on both pipes are one SCTP packet each, prefixed by a 16-bit
//! big-endian length (what DTLS records would carry, RFC 8261). It echoes every message on its stream
//! with its PPID, mirrors stream resets (RFC 8831 §6.7) and logs events to stderr.
//!
//! Run: `cargo run -p oxirtc-sctp --example pipe_peer`. Not part of the sans-IO library: this driver owns
//! the clock and a reader thread.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // a driver: it reads the real clock

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_sctp::{Association, Reliability, SctpConfig, SctpEvent, SendOptions};

fn read_frames(tx: mpsc::Sender<Vec<u8>>) {
    let mut stdin = std::io::stdin().lock();
    loop {
        let mut len = [0u8; 2];
        if stdin.read_exact(&mut len).is_err() {
            return;
        }
        let mut p = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stdin.read_exact(&mut p).is_err() || tx.send(p).is_err() {
            return;
        }
    }
}

fn main() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || read_frames(tx));
    let mut out = std::io::stdout().lock();
    let rng = SecureRng::from_os(default_provider()).unwrap();
    let mut assoc = Association::new(SctpConfig::default(), rng, Instant::now());
    assoc.connect(Instant::now());
    let mut echoed = 0u64;
    loop {
        let now = Instant::now();
        while let Some(p) = assoc.poll_transmit(now) {
            out.write_all(&(p.len() as u16).to_be_bytes()).unwrap();
            out.write_all(&p).unwrap();
        }
        out.flush().unwrap();
        while let Some(e) = assoc.poll_event() {
            match e {
                SctpEvent::Message {
                    stream,
                    ppid,
                    data,
                    unordered,
                } => {
                    let opts = SendOptions {
                        unordered,
                        reliability: Reliability::Reliable,
                    };
                    if let Err(err) = assoc.send(now, stream, ppid, &data, opts) {
                        eprintln!("pipe_peer: echo failed: {err}");
                    }
                    echoed += 1;
                }
                SctpEvent::StreamsResetByPeer(streams) => {
                    eprintln!("pipe_peer: peer reset {streams:?}, resetting ours");
                    if let Err(err) = assoc.reset_streams(now, &streams) {
                        eprintln!("pipe_peer: reset failed: {err}");
                    }
                }
                SctpEvent::Closed | SctpEvent::Aborted(_) => {
                    eprintln!(
                        "pipe_peer: {e:?}; echoed {echoed} messages; stats {:?}",
                        assoc.stats()
                    );
                    return;
                }
                other => eprintln!("pipe_peer: {other:?}"),
            }
        }
        let wait = assoc
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| t.saturating_duration_since(now));
        match rx.recv_timeout(wait) {
            Ok(p) => assoc.handle_receive(Instant::now(), &p),
            Err(mpsc::RecvTimeoutError::Timeout) => assoc.handle_timeout(Instant::now()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                eprintln!(
                    "pipe_peer: stdin closed; echoed {echoed}; stats {:?}",
                    assoc.stats()
                );
                return;
            }
        }
    }
}
