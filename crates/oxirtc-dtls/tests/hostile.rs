//! Hostile input: wrong fingerprints, plaintext application data, oversized fragments, replays,
//! garbage and mutated flights, ClientHello floods, peers without extended_master_secret.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use common::Pair;
use oxirtc_crypto::{Fingerprint, SecureRng};
use oxirtc_dtls::{Dtls, DtlsConfig, DtlsError, DtlsEvent, Role, MAX_BUFFERED};

/// One plaintext record: type, DTLS 1.2, epoch, sequence, body.
fn record(content_type: u8, epoch: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 0xfe, 0xfd];
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes()[2..]);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A handshake fragment header and data.
fn fragment(msg_type: u8, length: u32, seq: u16, offset: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![msg_type];
    out.extend_from_slice(&length.to_be_bytes()[1..]);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes()[1..]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(data);
    out
}

/// A ClientHello offering AES-128-GCM and X25519, with extended_master_secret only if `ems`.
fn client_hello(random: [u8; 32], ems: bool) -> Vec<u8> {
    let mut body = vec![0xfe, 0xfd];
    body.extend_from_slice(&random);
    body.extend_from_slice(&[0, 0, 0, 2, 0xc0, 0x2b, 1, 0]);
    let mut ext = vec![0, 10, 0, 4, 0, 2, 0, 29];
    if ems {
        ext.extend_from_slice(&[0, 23, 0, 0]);
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    fragment(1, body.len() as u32, 0, 0, &body)
}

fn flipped(fp: Fingerprint) -> Fingerprint {
    let mut b = *fp.as_bytes();
    b[17] ^= 0x01;
    Fingerprint::from_bytes(b)
}

fn has_connected_or_data(events: &[DtlsEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, DtlsEvent::Connected | DtlsEvent::ApplicationData(_)))
}

#[test]
fn client_with_flipped_fingerprint_fails_and_delivers_nothing() {
    let mut p = Pair::without_fingerprints(DtlsConfig::default(), DtlsConfig::default(), 1);
    p.client
        .set_remote_fingerprint(flipped(p.server_cert.fingerprint()));
    p.server.set_remote_fingerprint(p.client_cert.fingerprint());
    let now = p.now;
    p.client.start(now);
    // The server connects first and immediately sends data; the client must never deliver it.
    p.run_until(200, |p| p.server.is_connected());
    p.server.send_application_data(b"secret").unwrap();
    p.run_until(200, |p| {
        matches!(p.server_events.last(), Some(DtlsEvent::Failed(_)))
    });
    assert!(!has_connected_or_data(&p.client_events), "{:?}", p.client_events);
    assert_eq!(
        p.client_events,
        [DtlsEvent::Failed(DtlsError::FingerprintMismatch)]
    );
    assert!(!p.client.is_connected());
    assert!(p
        .client
        .export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60)
        .is_err());
    assert_eq!(
        p.server_events.last(),
        Some(&DtlsEvent::Failed(DtlsError::AlertReceived(
            oxirtc_dtls::AlertDescription::BadCertificate
        )))
    );
}

#[test]
fn server_with_flipped_fingerprint_fails_and_delivers_nothing() {
    let mut p = Pair::without_fingerprints(DtlsConfig::default(), DtlsConfig::default(), 2);
    p.client.set_remote_fingerprint(p.server_cert.fingerprint());
    p.server
        .set_remote_fingerprint(flipped(p.client_cert.fingerprint()));
    let now = p.now;
    p.client.start(now);
    p.run_until(200, |p| p.client.is_connected());
    if p.client.is_connected() {
        p.client.send_application_data(b"secret").unwrap();
    }
    p.run_until(200, |_| false);
    assert!(!has_connected_or_data(&p.server_events), "{:?}", p.server_events);
    assert_eq!(
        p.server_events,
        [DtlsEvent::Failed(DtlsError::FingerprintMismatch)]
    );
    assert!(!p.server.is_connected());
}

#[test]
fn application_data_waits_for_the_fingerprint() {
    let mut p = Pair::without_fingerprints(DtlsConfig::default(), DtlsConfig::default(), 3);
    p.client.set_remote_fingerprint(p.server_cert.fingerprint());
    let now = p.now;
    p.client.start(now);
    p.run_until(200, |p| p.client.is_connected());
    p.client.send_application_data(b"too early").unwrap();
    p.run_until(200, |_| false);
    assert!(p.server.is_handshake_complete() && !p.server.is_connected());
    assert!(p.server_events.is_empty());
    assert_eq!(p.server.stats().dropped_unverified_app_data, 1);
    assert!(p.server.send_application_data(b"x").is_err());
}

#[test]
fn plaintext_application_data_after_the_handshake_is_dropped() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 4);
    assert!(p.connect(200));
    let now = p.now;
    for (seq, target) in [(1000u64, &mut p.server), (1001, &mut p.client)] {
        target.handle_receive(now, &record(23, 0, seq, b"plaintext injection"));
        assert_eq!(target.stats().dropped_plaintext_app_data, 1);
        assert!(target.poll_event().is_none());
        assert!(target.is_connected(), "dropping is silent");
    }
    // A plaintext fatal alert cannot tear the connection down either.
    p.server.handle_receive(now, &record(21, 0, 1002, &[2, 40]));
    assert!(p.server.is_connected());
}

#[test]
fn fragment_claiming_16_mib_is_not_allocated() {
    let mut server = Pair::new(
        DtlsConfig::default(),
        DtlsConfig {
            hello_verify: false,
            ..DtlsConfig::default()
        },
        5,
    );
    let now = server.now;
    server.client.start(now);
    // Deliver until the server has answered the ClientHello and waits for the client's Certificate.
    server.run_until(10, |p| !p.server_sent.is_empty());
    let s = &mut server.server;
    assert!(s.poll_timeout().is_some(), "server is mid-handshake");
    let huge = fragment(11, (16 << 20) - 1, 1, 0, &[0u8; 100]); // the u24 maximum
    s.handle_receive(now, &record(22, 0, 50, &huge));
    assert_eq!(s.buffered_handshake_bytes(), 0);
    assert_eq!(s.stats().dropped_handshake, 1);
    // Legal-size but never-completed messages stop at the total cap.
    for seq in 1..40u16 {
        let f = fragment(11, 64 * 1024, seq, 0, &[0u8; 100]);
        s.handle_receive(now, &record(22, 0, 100 + u64::from(seq), &f));
        assert!(s.buffered_handshake_bytes() <= MAX_BUFFERED);
    }
    assert!(s.buffered_handshake_bytes() > 0);
    // Same for a client waiting for the ServerHello.
    let mut c = Dtls::new(
        DtlsConfig::default(),
        Role::Client,
        server.client_cert.clone(),
        oxirtc_crypto::default_provider(),
        SecureRng::from_seed([5; 32]),
    );
    c.start(now);
    c.handle_receive(
        now,
        &record(22, 0, 0, &fragment(2, (16 << 20) - 1, 0, 0, &[0u8; 10])),
    );
    assert_eq!(c.stats().dropped_handshake, 1);
    assert_eq!(c.buffered_handshake_bytes(), 0);
}

#[test]
fn replayed_record_is_dropped() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 6);
    assert!(p.connect(200));
    p.client.send_application_data(b"once").unwrap();
    let dgram = p.client.poll_transmit().unwrap();
    let now = p.now;
    p.server.handle_receive(now, &dgram);
    p.server.handle_receive(now, &dgram);
    let mut data = Vec::new();
    while let Some(e) = p.server.poll_event() {
        data.extend(Pair::app_data(&[e]));
    }
    assert_eq!(data, [b"once".to_vec()]);
    assert_eq!(p.server.stats().dropped_replay, 1);
    // A bit flip fails authentication and is dropped.
    p.client.send_application_data(b"twice").unwrap();
    let mut bad = p.client.poll_transmit().unwrap();
    *bad.last_mut().unwrap() ^= 1;
    p.server.handle_receive(now, &bad);
    assert_eq!(p.server.stats().dropped_bad_mac, 1);
    assert!(p.server.poll_event().is_none() && p.server.is_connected());
}

#[test]
fn client_hello_flood_keeps_no_state_before_the_cookie() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 7);
    let now = p.now;
    let mut rng = SecureRng::from_seed([7; 32]);
    for i in 0..5000u64 {
        let mut random = [0u8; 32];
        rng.fill(&mut random);
        p.server
            .handle_receive(now, &record(22, 0, i, &client_hello(random, true)));
    }
    let s = &mut p.server;
    assert_eq!(s.buffered_handshake_bytes(), 0);
    assert!(
        s.poll_timeout().is_none(),
        "no handshake timer: nothing was committed to"
    );
    assert!(!s.is_handshake_complete());
    let mut queued = 0;
    while s.poll_transmit().is_some() {
        queued += 1;
    }
    assert!(
        queued <= 4,
        "undrained HelloVerifyRequests are capped, got {queued}"
    );
    assert_eq!(s.stats().hello_verify_sent as usize, queued);
    // The real client still gets through afterwards.
    assert!(p.connect(200));
}

#[test]
fn peer_without_extended_master_secret_is_refused() {
    let cfg = DtlsConfig {
        hello_verify: false,
        ..DtlsConfig::default()
    };
    let mut p = Pair::new(DtlsConfig::default(), cfg, 8);
    let now = p.now;
    p.server
        .handle_receive(now, &record(22, 0, 0, &client_hello([1; 32], false)));
    assert_eq!(
        p.server.poll_event(),
        Some(DtlsEvent::Failed(DtlsError::HandshakeFailure(
            "client does not support extended_master_secret"
        )))
    );
    let alert = p.server.poll_transmit().unwrap();
    assert_eq!(alert, record(21, 0, 0, &[2, 40]), "fatal handshake_failure");
    // The same ClientHello with EMS is accepted.
    let mut q = Pair::new(
        DtlsConfig::default(),
        DtlsConfig {
            hello_verify: false,
            ..DtlsConfig::default()
        },
        9,
    );
    q.server
        .handle_receive(now, &record(22, 0, 0, &client_hello([1; 32], true)));
    assert!(q.server.poll_event().is_none());
    assert!(q.server.poll_transmit().is_some(), "flight 4");
}

#[test]
fn truncations_of_a_real_handshake_never_panic() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 10);
    assert!(p.connect(200));
    let flights: Vec<(bool, Vec<u8>)> = p
        .client_sent
        .iter()
        .map(|d| (true, d.clone()))
        .chain(p.server_sent.iter().map(|d| (false, d.clone())))
        .collect();
    let now = p.now;
    for (to_server, d) in flights {
        for cut in 0..d.len() {
            let mut fresh = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 10);
            fresh.client.start(now);
            let target = if to_server {
                &mut fresh.server
            } else {
                &mut fresh.client
            };
            target.handle_receive(now, &d[..cut]);
            let _ = target.poll_event();
            // An established endpoint too.
            let target = if to_server { &mut p.server } else { &mut p.client };
            target.handle_receive(now, &d[..cut]);
        }
    }
    assert!(
        p.client.is_connected() && p.server.is_connected(),
        "garbage never breaks a connection"
    );
}

#[test]
fn spoofed_alerts_do_not_kill_a_waiting_server_or_a_connection() {
    let mut p = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 11);
    let now = p.now;
    p.server.handle_receive(now, &record(21, 0, 0, &[2, 40])); // fatal handshake_failure
    p.server.handle_receive(now, &record(21, 0, 1, &[1, 0])); // close_notify
    assert!(p.server.poll_event().is_none());
    assert!(p.connect(200));
    p.client.handle_receive(now, &record(21, 0, 9, &[2, 20]));
    assert!(p.client.is_connected() && p.client.poll_event().is_none());
}
