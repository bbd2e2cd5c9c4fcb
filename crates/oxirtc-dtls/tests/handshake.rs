//! Behaviour tests: two endpoints in memory complete the handshake for every cipher suite and group,
//! with and without HelloVerifyRequest, over clean and lossy links.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::time::Duration;

use common::{Link, Pair};
use oxirtc_crypto::{NamedGroup, SignatureAlgorithm};
use oxirtc_dtls::{CipherSuite, DtlsConfig, DtlsEvent, SrtpProfile};

fn config(suite: CipherSuite, group: NamedGroup, hello_verify: bool) -> DtlsConfig {
    DtlsConfig {
        cipher_suites: vec![suite],
        groups: vec![group],
        hello_verify,
        ..DtlsConfig::default()
    }
}

fn exchange_both_ways(p: &mut Pair) {
    p.client.send_application_data(b"from client").unwrap();
    p.server.send_application_data(&[7u8; 5000]).unwrap();
    let ok = p.run_until(100, |p| {
        !Pair::app_data(&p.server_events).is_empty() && !Pair::app_data(&p.client_events).is_empty()
    });
    assert!(ok, "application data did not arrive");
    assert_eq!(Pair::app_data(&p.server_events), [b"from client".to_vec()]);
    assert_eq!(Pair::app_data(&p.client_events), [vec![7u8; 5000]]);
}

fn assert_agree(p: &Pair, suite: CipherSuite) {
    assert_eq!(p.client.cipher_suite(), Some(suite));
    assert_eq!(p.server.cipher_suite(), Some(suite));
    let a = p
        .client
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)
        .unwrap();
    let b = p
        .server
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, vec![0u8; 60]);
    let c = p
        .client
        .export_keying_material(b"EXPORTER-test", Some(b"ctx"), 32)
        .unwrap();
    assert_eq!(
        c,
        p.server
            .export_keying_material(b"EXPORTER-test", Some(b"ctx"), 32)
            .unwrap()
    );
    assert_ne!(c[..], a[..32]);
    assert_eq!(p.client.peer_certificate(), Some(p.server_cert.der()));
    assert_eq!(p.server.peer_certificate(), Some(p.client_cert.der()));
}

#[test]
fn every_suite_and_group_with_and_without_hello_verify() {
    let mut seed = 0;
    // Both ends are oxirtc, whose certificates are ECDSA: the ECDHE_RSA suites are for RSA servers
    // (src/handshake/rsa_peer_tests.rs, tests/openssl_interop.rs).
    let ecdsa = CipherSuite::ALL
        .into_iter()
        .filter(|s| s.signature_algorithm() == SignatureAlgorithm::Ecdsa);
    for suite in ecdsa {
        for group in [NamedGroup::X25519, NamedGroup::P256] {
            for hvr in [true, false] {
                seed += 1;
                let mut p = Pair::new(config(suite, group, hvr), config(suite, group, hvr), seed);
                assert!(p.connect(200), "{suite} {group:?} hvr={hvr}");
                assert_eq!(p.server.stats().hello_verify_sent, u64::from(hvr));
                assert_eq!(p.client.srtp_profile(), Some(SrtpProfile::AeadAes128Gcm));
                assert_eq!(p.server.srtp_profile(), Some(SrtpProfile::AeadAes128Gcm));
                assert_agree(&p, suite);
                assert_eq!(p.client_events.first(), Some(&DtlsEvent::Connected));
                assert_eq!(p.server_events.first(), Some(&DtlsEvent::Connected));
                exchange_both_ways(&mut p);
                assert_eq!(p.client.stats().retransmissions, 0, "clean link");
            }
        }
    }
}

#[test]
fn a_validated_peer_address_skips_the_cookie_exchange() {
    // RFC 6347 §4.2.1: the cookie exchange is a SHOULD; where the transport proved the address (ICE),
    // the server answers the first ClientHello with its flight: one round trip fewer.
    let cfg = config(CipherSuite::EcdheEcdsaAes128GcmSha256, NamedGroup::X25519, true);
    let mut p = Pair::new(cfg.clone(), cfg, 90);
    p.server.set_peer_address_validated(true);
    assert!(p.connect(200));
    assert_eq!(p.server.stats().hello_verify_sent, 0);
    assert_eq!(
        p.client_sent.len(),
        2,
        "ClientHello, then the client's second flight"
    );
    exchange_both_ways(&mut p);
}

#[test]
fn server_preference_picks_suite_and_srtp_profile() {
    let client = DtlsConfig {
        srtp_profiles: vec![SrtpProfile::Aes128CmHmacSha1_80, SrtpProfile::AeadAes256Gcm],
        ..DtlsConfig::default()
    };
    let server = DtlsConfig {
        cipher_suites: vec![
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
            CipherSuite::EcdheEcdsaAes128GcmSha256,
        ],
        srtp_profiles: vec![SrtpProfile::AeadAes256Gcm, SrtpProfile::Aes128CmHmacSha1_80],
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(client, server, 40);
    assert!(p.connect(200));
    assert_agree(&p, CipherSuite::EcdheEcdsaChacha20Poly1305Sha256);
    assert_eq!(p.client.srtp_profile(), Some(SrtpProfile::AeadAes256Gcm));
}

#[test]
fn no_common_srtp_profile_means_no_use_srtp() {
    let client = DtlsConfig {
        srtp_profiles: vec![SrtpProfile::AeadAes256Gcm],
        ..DtlsConfig::default()
    };
    let server = DtlsConfig {
        srtp_profiles: vec![SrtpProfile::AeadAes128Gcm],
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(client, server, 41);
    assert!(p.connect(200));
    assert_eq!((p.client.srtp_profile(), p.server.srtp_profile()), (None, None));
}

/// RFC 8422 §5.3: our server's certificate is ECDSA, so it never answers with ECDHE_RSA, even when
/// that is all the client offers and the server's list contains it.
#[test]
fn server_never_chooses_an_rsa_suite() {
    let client = DtlsConfig {
        cipher_suites: vec![
            CipherSuite::EcdheRsaAes128GcmSha256,
            CipherSuite::EcdheRsaAes256GcmSha384,
        ],
        ..DtlsConfig::default()
    };
    let server = DtlsConfig {
        cipher_suites: CipherSuite::ALL.to_vec(),
        hello_verify: false,
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(client, server, 43);
    p.connect(200);
    assert!(!p.client.is_connected() && !p.server.is_connected());
    assert!(
        p.server_events
            .iter()
            .any(|e| matches!(e, DtlsEvent::Failed(oxirtc_dtls::DtlsError::HandshakeFailure(_)))),
        "{:?}",
        p.server_events
    );
    assert_eq!(p.client.cipher_suite(), None);
}

#[test]
fn no_common_cipher_suite_fails_both() {
    let client = DtlsConfig {
        cipher_suites: vec![CipherSuite::EcdheEcdsaAes256GcmSha384],
        ..DtlsConfig::default()
    };
    let server = DtlsConfig {
        cipher_suites: vec![CipherSuite::EcdheEcdsaAes128GcmSha256],
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(client, server, 42);
    p.connect(200);
    assert!(!p.client.is_connected());
    assert!(p.server_events.iter().any(|e| matches!(e, DtlsEvent::Failed(_))));
    assert!(
        p.client_events
            .iter()
            .any(|e| matches!(e, DtlsEvent::Failed(oxirtc_dtls::DtlsError::AlertReceived(_)))),
        "{:?}",
        p.client_events
    );
}

/// Whether any epoch-0 handshake record in `datagrams` carries a partial message.
fn has_fragmented_message(datagrams: &[Vec<u8>]) -> bool {
    datagrams.iter().any(|d| {
        let mut rest = &d[..];
        while rest.len() >= 25 {
            let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
            let epoch0_handshake = rest[0] == 22 && rest[3..5] == [0, 0];
            let msg_len = u32::from_be_bytes([0, rest[14], rest[15], rest[16]]);
            let frag_len = u32::from_be_bytes([0, rest[22], rest[23], rest[24]]);
            if epoch0_handshake && frag_len < msg_len {
                return true;
            }
            rest = &rest[(13 + len).min(rest.len())..];
        }
        false
    })
}

#[test]
fn fragmented_client_hello_is_reassembled_by_the_server() {
    // Chromium's ClientHello (with an X25519MLKEM768 key share) spans two datagrams; a client MTU of
    // 128 bytes (the packer's floor) splits ours the same way. With and without the cookie exchange.
    for hello_verify in [true, false] {
        let client = DtlsConfig {
            mtu: 128,
            ..DtlsConfig::default()
        };
        let server = DtlsConfig {
            hello_verify,
            ..DtlsConfig::default()
        };
        let mut p = Pair::new(client, server, 42);
        assert!(p.connect(5000), "hello_verify={hello_verify}: no connection");
        assert!(p.client_sent[0].len() <= 128, "the ClientHello was split");
        assert_agree(&p, CipherSuite::EcdheEcdsaAes128GcmSha256);
    }
}

#[test]
fn lossy_reordering_link_with_small_mtu() {
    let mut retransmissions = 0;
    for seed in 0..12u8 {
        let cfg = DtlsConfig {
            mtu: 300,
            ..DtlsConfig::default()
        };
        let mut p = Pair::new(cfg.clone(), cfg, 100 + seed);
        p.link = Link {
            loss_per_mille: 200,
            jitter: Duration::from_millis(30),
        };
        assert!(p.connect(5000), "seed {seed}: no connection");
        assert!(p.client_sent.iter().chain(&p.server_sent).all(|d| d.len() <= 300));
        assert!(
            has_fragmented_message(&p.server_sent),
            "MTU 300 fragments the server's flight"
        );
        retransmissions += p.client.stats().retransmissions + p.server.stats().retransmissions;
        assert_agree(&p, CipherSuite::EcdheEcdsaAes128GcmSha256);
        assert!(p.now - p.start < Duration::from_secs(30));
    }
    assert!(retransmissions > 0, "20 % loss needed retransmissions");
}

#[test]
fn lossy_link_forces_retransmissions() {
    let mut total = 0;
    for seed in 0..6u8 {
        // 30 % loss can lose every try of a flight within 30 s; allow two minutes.
        let cfg = DtlsConfig {
            handshake_timeout: Duration::from_secs(120),
            ..DtlsConfig::default()
        };
        let mut p = Pair::new(cfg.clone(), cfg, 170 + seed);
        p.link = Link {
            loss_per_mille: 300,
            jitter: Duration::from_millis(5),
        };
        assert!(
            p.connect(5000),
            "seed {seed}: {:?} {:?} {:?} {:?} {:?}",
            p.now - p.start,
            p.client_events,
            p.server_events,
            p.client.stats(),
            p.server.stats()
        );
        total += p.client.stats().retransmissions + p.server.stats().retransmissions;
    }
    assert!(total > 0, "30% loss must have cost retransmissions");
}

#[test]
fn lost_final_server_flight_is_resent_when_the_client_retransmits() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 60);
    // Drop the server's first flight 6 (the datagram with the ChangeCipherSpec record).
    let mut dropped = false;
    p.tamper = Some(Box::new(move |to_server, d| {
        if !to_server && !dropped && d[0] == 20 {
            dropped = true;
            return None;
        }
        Some(d)
    }));
    assert!(p.connect(500));
    assert!(p.server.stats().retransmissions >= 1, "server resent flight 6");
    assert!(
        p.client.stats().retransmissions >= 1,
        "client resent flight 5 on its timer"
    );
}

#[test]
fn handshake_times_out_without_a_peer() {
    let cfg = DtlsConfig {
        handshake_timeout: Duration::from_secs(10),
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(cfg.clone(), cfg, 61);
    p.link.loss_per_mille = 1000;
    p.connect(1000);
    assert!(matches!(
        p.client_events.last(),
        Some(DtlsEvent::Failed(oxirtc_dtls::DtlsError::Timeout))
    ));
    // 1 + 2 + 4 s of back-off fit in 10 s: three retransmissions, then the timeout.
    assert_eq!(p.client.stats().retransmissions, 3);
    assert!(p.client.poll_timeout().is_none());
}

#[test]
fn close_notify_closes_both() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 62);
    assert!(p.connect(200));
    let now = p.now;
    p.client.close(now);
    p.run_until(50, |p| p.server_events.contains(&DtlsEvent::Closed));
    assert!(p.server_events.contains(&DtlsEvent::Closed));
    assert!(p.client_events.contains(&DtlsEvent::Closed));
    assert!(p.client.send_application_data(b"x").is_err());
    assert!(p.server.send_application_data(b"x").is_err());
}

#[test]
fn fingerprint_set_after_the_handshake() {
    let mut p = Pair::without_fingerprints(DtlsConfig::default(), DtlsConfig::default(), 63);
    let now = p.now;
    p.client.start(now);
    p.run_until(200, |p| {
        p.client.is_handshake_complete() && p.server.is_handshake_complete()
    });
    assert!(!p.client.is_connected() && !p.server.is_connected());
    assert!(p.client_events.is_empty() && p.server_events.is_empty());
    assert!(p.client.send_application_data(b"early").is_err());
    assert!(p
        .client
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)
        .is_err());
    p.client.set_remote_fingerprint(p.server_cert.fingerprint());
    p.server.set_remote_fingerprint(p.client_cert.fingerprint());
    assert_eq!(p.client.poll_event(), Some(DtlsEvent::Connected));
    assert_eq!(p.server.poll_event(), Some(DtlsEvent::Connected));
}

#[test]
fn oversized_application_data_is_refused() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 64);
    assert!(p.connect(200));
    assert!(p.client.send_application_data(&vec![0; 16384]).is_ok());
    assert!(matches!(
        p.client.send_application_data(&vec![0; 16385]),
        Err(oxirtc_dtls::DtlsError::RecordTooLarge(16385))
    ));
}

/// Delivers everything `from` has queued to `to`, in reverse order.
fn deliver_reversed(
    from: &mut oxirtc_dtls::Dtls,
    to: &mut oxirtc_dtls::Dtls,
    now: std::time::Instant,
) -> usize {
    let mut dgrams = Vec::new();
    while let Some(d) = from.poll_transmit() {
        dgrams.push(d);
    }
    for d in dgrams.iter().rev() {
        to.handle_receive(now, d);
    }
    dgrams.len()
}

#[test]
fn reversed_flights_complete_without_retransmission() {
    let cfg = DtlsConfig {
        mtu: 200,
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(cfg.clone(), cfg, 65);
    let now = p.now;
    p.client.start(now);
    let mut sizes = Vec::new();
    for _ in 0..4 {
        sizes.push(deliver_reversed(&mut p.client, &mut p.server, now));
        sizes.push(deliver_reversed(&mut p.server, &mut p.client, now));
    }
    assert!(p.client.is_connected() && p.server.is_connected(), "{sizes:?}");
    // CH1, HVR, CH2, flight 4, flight 5 (several datagrams: its Finished arrives before the keys), flight 6.
    assert!(sizes[4] > 1, "flight 5 spans datagrams at MTU 200: {sizes:?}");
    assert_eq!(
        p.client.stats().retransmissions + p.server.stats().retransmissions,
        0
    );
    assert_eq!(p.server.stats().dropped_unknown_epoch, 0, "held, not dropped");
}

#[test]
fn hello_verify_request_mirrors_the_client_hello_record_sequence() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 66);
    let now = p.now;
    p.client.start(now);
    let mut ch = p.client.poll_transmit().unwrap();
    ch[5..11].copy_from_slice(&[0, 0, 0, 0, 0, 77]); // record sequence number 77
    p.server.handle_receive(now, &ch);
    let hvr = p.server.poll_transmit().unwrap();
    assert_eq!((hvr[0], hvr[13]), (22, 3), "a HelloVerifyRequest");
    assert_eq!(hvr[5..11], [0, 0, 0, 0, 0, 77]);
}

/// Rewrites a datagram of plaintext handshake records into one record carrying all their fragments
/// (BoringSSL packs a flight this way; RFC 6347 §4.2.3 allows it).
fn merge_handshake_records(d: &[u8]) -> Vec<u8> {
    let mut rest = d;
    let mut body = Vec::new();
    let mut header = None;
    while rest.len() >= 13 {
        let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        if rest[0] != 22 || rest[3..5] != [0, 0] || rest.len() < 13 + len {
            return d.to_vec();
        }
        header.get_or_insert_with(|| rest[..11].to_vec());
        body.extend_from_slice(&rest[13..13 + len]);
        rest = &rest[13 + len..];
    }
    let Some(mut out) = header else { return d.to_vec() };
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn several_handshake_messages_in_one_record() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 67);
    let mut merged = 0;
    p.tamper = Some(Box::new(move |_, d| {
        let m = merge_handshake_records(&d);
        if m.len() < d.len() {
            merged += 1;
            assert!(merged < 100);
        }
        Some(m)
    }));
    assert!(p.connect(200));
    let flight4 = p.server_sent.iter().find(|d| d.len() > 400).unwrap();
    assert!(
        merge_handshake_records(flight4).len() < flight4.len(),
        "the test really merged records"
    );
}

fn sent_contains(datagrams: &[Vec<u8>], needle: &[u8]) -> bool {
    datagrams
        .iter()
        .any(|d| d.windows(needle.len()).any(|w| w == needle))
}

#[test]
fn spare_ephemeral_keys_are_used_once_and_only_on_their_group() {
    // Dtls::set_spare_ecdhe_key: a key generated ahead of time goes into ServerKeyExchange /
    // ClientKeyExchange (both plaintext, so its public key shows in the flights).
    let provider = oxirtc_crypto::default_provider();
    let cfg = config(CipherSuite::EcdheEcdsaAes128GcmSha256, NamedGroup::X25519, false);
    let mut p = Pair::new(cfg.clone(), cfg, 91);
    let server_key = provider.ecdhe_generate(NamedGroup::X25519).unwrap();
    let client_key = provider.ecdhe_generate(NamedGroup::X25519).unwrap();
    let (server_public, client_public) = (server_key.public_key().to_vec(), client_key.public_key().to_vec());
    p.server.set_spare_ecdhe_key(server_key);
    p.client.set_spare_ecdhe_key(client_key);
    assert!(p.connect(200));
    assert!(
        sent_contains(&p.server_sent, &server_public),
        "ServerKeyExchange carries the spare key"
    );
    assert!(
        sent_contains(&p.client_sent, &client_public),
        "ClientKeyExchange carries the spare key"
    );
    exchange_both_ways(&mut p);

    // A spare key on another group than the negotiated one is not used: the handshake makes its own.
    let cfg = config(CipherSuite::EcdheEcdsaAes128GcmSha256, NamedGroup::P256, false);
    let mut p = Pair::new(cfg.clone(), cfg, 92);
    let unused = provider.ecdhe_generate(NamedGroup::X25519).unwrap();
    let unused_public = unused.public_key().to_vec();
    p.server.set_spare_ecdhe_key(unused);
    assert!(p.connect(200));
    assert!(!sent_contains(&p.server_sent, &unused_public));
    exchange_both_ways(&mut p);
}
