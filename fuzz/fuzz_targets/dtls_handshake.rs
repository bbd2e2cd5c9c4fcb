//! Feeds arbitrary datagrams, interleaved with time, to a DTLS server and to a client that has sent its
//! ClientHello. Input: a selector byte (bit 0: client or server, bit 1: HelloVerifyRequest on), then
//! records of `u16 length` + datagram; a length with the top bit set advances the clock by its low 15
//! bits in milliseconds instead. Invariants: no panic, reassembly memory under the cap, never
//! "connected" (the fuzzer cannot forge the peer's Finished and certificate fingerprint).
#![no_main]

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::{default_provider, DtlsCertificate, SecureRng};
use oxirtc_dtls::{Dtls, DtlsConfig, DtlsEvent, Role, MAX_BUFFERED};

fn cert() -> Arc<DtlsCertificate> {
    static CERT: OnceLock<Arc<DtlsCertificate>> = OnceLock::new();
    CERT.get_or_init(|| Arc::new(DtlsCertificate::generate().expect("certificate")))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let role = if selector & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let cfg = DtlsConfig {
        hello_verify: selector & 2 == 0,
        mtu: 200 + usize::from(selector >> 2) * 8,
        ..DtlsConfig::default()
    };
    let cert = cert();
    let mut dtls = Dtls::new(
        cfg,
        role,
        cert.clone(),
        default_provider(),
        SecureRng::from_seed([9; 32]),
    );
    dtls.set_remote_fingerprint(cert.fingerprint());
    let mut now = Instant::now();
    dtls.start(now);
    while rest.len() >= 2 {
        let len = u16::from_be_bytes([rest[0], rest[1]]);
        rest = &rest[2..];
        if len & 0x8000 != 0 {
            now += Duration::from_millis(u64::from(len & 0x7fff));
            dtls.handle_timeout(now);
        } else {
            let n = usize::from(len).min(rest.len());
            dtls.handle_receive(now, &rest[..n]);
            rest = &rest[n..];
        }
        while dtls.poll_transmit().is_some() {}
        while let Some(e) = dtls.poll_event() {
            assert!(!matches!(e, DtlsEvent::Connected | DtlsEvent::ApplicationData(_)));
        }
        assert!(dtls.buffered_handshake_bytes() <= MAX_BUFFERED);
    }
    assert!(!dtls.is_connected());
});
