//! Writes fuzz seeds captured from a real in-memory handshake (run on demand):
//! `OXIRTC_DTLS_SEEDS=fuzz/corpus cargo test -p oxirtc-dtls --test fuzz_seeds -- --ignored`.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::{fs, path::Path};

use common::Pair;
use oxirtc_dtls::DtlsConfig;

/// The `dtls_handshake` input format: selector, then `u16 length` + datagram records.
fn handshake_input(selector: u8, datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![selector];
    for d in datagrams {
        out.extend_from_slice(&(d.len() as u16).to_be_bytes());
        out.extend_from_slice(d);
        out.extend_from_slice(&0x8000u16.to_be_bytes()); // let timers run between datagrams
    }
    out
}

#[test]
#[ignore = "writes files; run on demand to refresh the fuzz corpus"]
fn write_fuzz_seeds() {
    let root = std::env::var("OXIRTC_DTLS_SEEDS").expect("set OXIRTC_DTLS_SEEDS to fuzz/corpus");
    let (rec_dir, hs_dir) = (
        Path::new(&root).join("dtls_record"),
        Path::new(&root).join("dtls_handshake"),
    );
    fs::create_dir_all(&rec_dir).unwrap();
    fs::create_dir_all(&hs_dir).unwrap();
    let mut n = 0;
    for (hvr, seed) in [(true, 1u8), (false, 2)] {
        let server_cfg = DtlsConfig {
            hello_verify: hvr,
            mtu: 600,
            ..DtlsConfig::default()
        };
        let mut p = Pair::new(DtlsConfig::default(), server_cfg, seed);
        assert!(p.connect(200));
        p.client.send_application_data(b"sctp packet").unwrap();
        p.server.send_application_data(b"sctp answer").unwrap();
        p.run_until(50, |_| false);
        for d in p.client_sent.iter().chain(&p.server_sent) {
            fs::write(rec_dir.join(format!("seed-{n}")), d).unwrap();
            n += 1;
        }
        let selector = if hvr { 0 } else { 2 };
        fs::write(
            hs_dir.join(format!("seed-server-{seed}")),
            handshake_input(selector, &p.client_sent),
        )
        .unwrap();
        fs::write(
            hs_dir.join(format!("seed-client-{seed}")),
            handshake_input(selector | 1, &p.server_sent),
        )
        .unwrap();
    }
}
