//! The client against a server with an RSA certificate (ECDHE_RSA, RFC 8422 §5.4). oxirtc's own
//! server is ECDSA only, so the server here is scripted from the crate's codec, key schedule and record
//! layer, with a certificate from `oxirtc_crypto::RsaCertificate`; the client is a real [`Dtls`].
#![allow(clippy::unwrap_used, clippy::expect_used)] // a scripted peer: any surprise should panic loudly

use std::{sync::Arc, time::Instant};

use oxirtc_crypto::{
    default_provider, CryptoProvider, DtlsCertificate, EcdhePrivateKey, NamedGroup, RsaCertificate,
    SecureRng, SignatureScheme,
};

use super::{msgs, msgs::ty, parse_peer_certificate, FlightItem};
use crate::{
    alert::{Alert, AlertDescription, AlertLevel},
    config::{CipherSuite, DtlsConfig, Role},
    endpoint::{Dtls, DtlsEvent},
    error::DtlsError,
    flight,
    fragment::{HandshakeMessage, Reassembler},
    keys,
    record::{ContentType, Record, RecordLayer},
};

/// What the scripted server does with its ServerKeyExchange.
#[derive(Debug, Clone, Copy)]
struct Script {
    suite: CipherSuite,
    /// The scheme it signs with.
    sign_with: SignatureScheme,
    /// The codepoint it puts in front of the signature (normally `sign_with`'s).
    label: u16,
    /// Flip one bit of the signature.
    tamper: bool,
}

impl Script {
    fn honest(suite: CipherSuite, sign_with: SignatureScheme) -> Self {
        Self {
            suite,
            sign_with,
            label: sign_with.codepoint(),
            tamper: false,
        }
    }
}

/// A DTLS 1.2 server with an RSA certificate, for one client and one handshake, without cookies.
struct RsaServer {
    script: Script,
    cert: RsaCertificate,
    crypto: &'static dyn CryptoProvider,
    records: RecordLayer,
    reassembler: Reassembler,
    transcript: Vec<u8>,
    send_seq: u16,
    client_random: [u8; 32],
    server_random: [u8; 32],
    ecdhe: Option<EcdhePrivateKey>,
    client_spki: Option<Vec<u8>>,
    master: Option<[u8; keys::MASTER_SECRET_LEN]>,
    /// The ClientHello's cipher_suites and signature_algorithms.
    offered: Option<(Vec<u16>, Vec<u16>)>,
    client_verified: bool,
    done: bool,
    alerts: Vec<Alert>,
    received: Vec<Vec<u8>>,
}

impl RsaServer {
    fn new(script: Script) -> Self {
        Self {
            script,
            cert: RsaCertificate::generate().unwrap(),
            crypto: default_provider(),
            records: RecordLayer::new(),
            reassembler: Reassembler::new(),
            transcript: Vec::new(),
            send_seq: 0,
            client_random: [0; 32],
            server_random: [0x5e; 32],
            ecdhe: None,
            client_spki: None,
            master: None,
            offered: None,
            client_verified: false,
            done: false,
            alerts: Vec::new(),
            received: Vec::new(),
        }
    }

    /// One datagram from the client; returns the datagrams of the answering flight, if any.
    fn receive(&mut self, datagram: &[u8]) -> Vec<Vec<u8>> {
        let mut flight = Vec::new();
        let mut rest = datagram;
        while !rest.is_empty() {
            let (rec, tail) = Record::parse(rest).expect("the client sends well-formed records");
            rest = tail;
            let plain = self.records.open(&rec).expect("the client's records open");
            match rec.content_type {
                ContentType::Handshake => {
                    let mut body = &plain[..];
                    while let Some((h, fragment, more)) = msgs::FragmentHeader::parse(body) {
                        body = more;
                        self.reassembler.insert(&h, fragment, rec.epoch);
                        while let Some(msg) = self.reassembler.pop() {
                            self.handle(msg, &mut flight);
                        }
                    }
                }
                ContentType::Alert => self.alerts.push(Alert::parse(&plain).unwrap()),
                ContentType::ApplicationData => self.received.push(plain),
                ContentType::ChangeCipherSpec => {}
            }
        }
        if flight.is_empty() {
            return Vec::new();
        }
        flight::pack(&mut self.records, &flight, 1200).0
    }

    fn send(&mut self, flight: &mut Vec<FlightItem>, epoch: u16, msg_type: u8, body: Vec<u8>) {
        self.transcript
            .extend_from_slice(&msgs::encode_message(msg_type, self.send_seq, &body));
        flight.push(FlightItem::Handshake {
            epoch,
            msg_type,
            message_seq: self.send_seq,
            body,
        });
        self.send_seq += 1;
    }

    fn record(&mut self, msg: &HandshakeMessage) {
        self.transcript
            .extend_from_slice(&msgs::encode_message(msg.msg_type, msg.message_seq, &msg.body));
    }

    fn handle(&mut self, msg: HandshakeMessage, flight: &mut Vec<FlightItem>) {
        let suite = self.script.suite;
        match msg.msg_type {
            ty::CLIENT_HELLO => {
                let ch = msgs::ClientHello::parse(&msg.body).unwrap();
                assert!(ch.suites.contains(&suite.codepoint()), "{suite} not offered");
                self.offered = Some((ch.suites.clone(), ch.ext.signature_algorithms.clone()));
                self.client_random = ch.random;
                self.record(&msg);
                // Flight 4 (RFC 5246 §7.3): ServerHello .. ServerHelloDone.
                let sh = msgs::ServerHello::encode(&msgs::ServerHelloParams {
                    random: self.server_random,
                    suite: suite.codepoint(),
                    srtp: None,
                    point_formats: true,
                    renegotiation_info: true,
                });
                self.send(flight, 0, ty::SERVER_HELLO, sh);
                let certificate = msgs::encode_certificate(self.cert.der());
                self.send(flight, 0, ty::CERTIFICATE, certificate);
                let key = self.crypto.ecdhe_generate(NamedGroup::X25519).unwrap();
                let params = msgs::encode_ecdh_params(NamedGroup::X25519.codepoint(), key.public_key());
                self.ecdhe = Some(key);
                // RFC 8422 §5.4: signed client_random + server_random + ServerECDHParams.
                let signed = [&self.client_random[..], &self.server_random, &params].concat();
                let mut signature = self.cert.sign(self.script.sign_with, &signed).unwrap();
                if self.script.tamper {
                    signature[100] ^= 0x04;
                }
                let mut ske = params;
                msgs::encode_signed(&mut ske, self.script.label, &signature);
                self.send(flight, 0, ty::SERVER_KEY_EXCHANGE, ske);
                let request = msgs::encode_certificate_request(&[0x0403, 0x0401]);
                self.send(flight, 0, ty::CERTIFICATE_REQUEST, request);
                self.send(flight, 0, ty::SERVER_HELLO_DONE, Vec::new());
            }
            ty::CERTIFICATE => {
                self.client_spki = Some(parse_peer_certificate(&msg.body).unwrap().spki);
                self.record(&msg);
            }
            ty::CLIENT_KEY_EXCHANGE => {
                let public = msgs::parse_client_key_exchange(&msg.body).unwrap();
                let pre_master = self.ecdhe.take().unwrap().agree(public).unwrap();
                self.record(&msg);
                let session_hash = keys::transcript_hash(self.crypto, suite, &self.transcript);
                let master = keys::extended_master_secret(self.crypto, suite, &pre_master, &session_hash);
                let k = keys::traffic_keys(
                    self.crypto,
                    suite,
                    &master,
                    &self.client_random,
                    &self.server_random,
                )
                .unwrap();
                self.records.install_read(1, k.client_write);
                self.records.install_write(1, k.server_write);
                self.master = Some(master);
            }
            ty::CERTIFICATE_VERIFY => {
                // The client answers an RSA server with its own ECDSA certificate (RFC 5246 §7.4.8).
                let (scheme, signature) = msgs::parse_signed(&msg.body).unwrap();
                assert_eq!(scheme, SignatureScheme::EcdsaP256Sha256.codepoint());
                let spki = self.client_spki.as_ref().unwrap();
                self.crypto
                    .verify_signature(
                        SignatureScheme::EcdsaP256Sha256,
                        spki,
                        &self.transcript,
                        signature,
                    )
                    .unwrap();
                self.client_verified = true;
                self.record(&msg);
            }
            ty::FINISHED => {
                assert_eq!(msg.epoch, 1, "Finished is protected");
                let master = self.master.unwrap();
                let expected =
                    keys::verify_data(self.crypto, suite, &master, b"client finished", &self.transcript);
                assert_eq!(msg.body, expected, "client Finished");
                self.record(&msg);
                flight.push(FlightItem::ChangeCipherSpec { epoch: 0 });
                let verify =
                    keys::verify_data(self.crypto, suite, &master, b"server finished", &self.transcript);
                self.send(flight, 1, ty::FINISHED, verify.to_vec());
                self.done = true;
            }
            other => panic!("unexpected handshake message {other}"),
        }
    }

    fn send_application_data(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(self.records.seal(&mut out, ContentType::ApplicationData, 1, data));
        out
    }
}

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn now() -> Instant {
    Instant::now()
}

fn client(config: DtlsConfig) -> Dtls {
    let cert = Arc::new(DtlsCertificate::generate().unwrap());
    Dtls::new(
        config,
        Role::Client,
        cert,
        default_provider(),
        SecureRng::from_seed([9; 32]),
    )
}

/// Runs the handshake to its end (success or failure) on a lossless link.
fn run(client: &mut Dtls, server: &mut RsaServer, now: Instant) {
    client.start(now);
    for _ in 0..8 {
        let mut answers = Vec::new();
        while let Some(d) = client.poll_transmit() {
            answers.extend(server.receive(&d));
        }
        for d in answers {
            client.handle_receive(now, &d);
        }
    }
}

fn events(client: &mut Dtls) -> Vec<DtlsEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

/// The one fatal alert the client sent, as the server saw it.
fn fatal_alert(server: &RsaServer) -> AlertDescription {
    match server.alerts[..] {
        [Alert {
            level: AlertLevel::Fatal,
            description,
        }] => description,
        ref other => panic!("expected one fatal alert, got {other:?}"),
    }
}

#[test]
fn handshake_with_an_rsa_server_uses_ecdhe_rsa() {
    for script in [
        Script::honest(
            CipherSuite::EcdheRsaAes128GcmSha256,
            SignatureScheme::RsaPkcs1Sha256,
        ),
        Script::honest(
            CipherSuite::EcdheRsaAes256GcmSha384,
            SignatureScheme::RsaPkcs1Sha384,
        ),
        Script::honest(
            CipherSuite::EcdheRsaAes128GcmSha256,
            SignatureScheme::RsaPkcs1Sha512,
        ),
    ] {
        let now = now();
        let mut server = RsaServer::new(script);
        let mut c = client(DtlsConfig::default());
        c.set_remote_fingerprint(server.cert.fingerprint());
        run(&mut c, &mut server, now);
        assert!(server.done && server.client_verified, "{script:?}");
        assert_eq!(events(&mut c), [DtlsEvent::Connected], "{script:?}");
        assert_eq!(c.cipher_suite(), Some(script.suite));
        assert_eq!(c.peer_certificate(), Some(server.cert.der()));

        // Application data both ways under the negotiated keys.
        c.send_application_data(b"to the RSA server").unwrap();
        server.receive(&c.poll_transmit().unwrap());
        assert_eq!(server.received, [b"to the RSA server".to_vec()]);
        let d = server.send_application_data(b"from the RSA server");
        c.handle_receive(now, &d);
        assert_eq!(
            events(&mut c),
            [DtlsEvent::ApplicationData(b"from the RSA server".to_vec())]
        );

        // What the default ClientHello offers, in order: ECDSA suites first, then ECDHE_RSA; ECDSA
        // schemes first, then RSASSA-PKCS1-v1_5 (RFC 5246 §7.4.1.4.1).
        let (suites, schemes) = server.offered.clone().unwrap();
        assert_eq!(suites, [0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030]);
        assert_eq!(schemes, [0x0403, 0x0503, 0x0401, 0x0501, 0x0601]);
    }
}

#[test]
fn tampered_rsa_signature_is_a_fatal_decrypt_error() {
    let now = now();
    let mut server = RsaServer::new(Script {
        tamper: true,
        ..Script::honest(
            CipherSuite::EcdheRsaAes128GcmSha256,
            SignatureScheme::RsaPkcs1Sha256,
        )
    });
    let mut c = client(DtlsConfig::default());
    c.set_remote_fingerprint(server.cert.fingerprint());
    run(&mut c, &mut server, now);
    // RFC 5246 §7.2.2: a signature that cannot be verified is decrypt_error.
    assert_eq!(fatal_alert(&server), AlertDescription::DecryptError);
    assert!(!server.done && !c.is_connected());
    assert_eq!(events(&mut c), [DtlsEvent::Failed(DtlsError::BadSignature)]);
}

#[test]
fn rsa_key_under_an_ecdsa_suite_is_a_bad_certificate() {
    let now = now();
    let mut server = RsaServer::new(Script::honest(
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        SignatureScheme::RsaPkcs1Sha256,
    ));
    let mut c = client(DtlsConfig::default());
    run(&mut c, &mut server, now);
    // RFC 8422 §5.3: ECDHE_ECDSA requires an ECDSA-capable certificate.
    assert_eq!(fatal_alert(&server), AlertDescription::BadCertificate);
    assert!(matches!(
        events(&mut c)[..],
        [DtlsEvent::Failed(DtlsError::BadCertificate(_))]
    ));
}

#[test]
fn ecdsa_scheme_on_an_rsa_key_exchange_is_an_illegal_parameter() {
    let now = now();
    let mut server = RsaServer::new(Script {
        label: SignatureScheme::EcdsaP256Sha256.codepoint(),
        ..Script::honest(
            CipherSuite::EcdheRsaAes128GcmSha256,
            SignatureScheme::RsaPkcs1Sha256,
        )
    });
    let mut c = client(DtlsConfig::default());
    run(&mut c, &mut server, now);
    // RFC 8422 §5.4: ECDHE_RSA signs with RSA; RFC 5246 §7.2.2 illegal_parameter.
    assert_eq!(fatal_alert(&server), AlertDescription::IllegalParameter);
    assert!(matches!(
        events(&mut c)[..],
        [DtlsEvent::Failed(DtlsError::IllegalParameter(_))]
    ));
}

#[test]
fn rsa_server_must_match_the_sdp_fingerprint() {
    let now = now();
    let mut server = RsaServer::new(Script::honest(
        CipherSuite::EcdheRsaAes256GcmSha384,
        SignatureScheme::RsaPkcs1Sha256,
    ));
    let mut c = client(DtlsConfig::default());
    c.set_remote_fingerprint(RsaCertificate::generate().unwrap().fingerprint());
    run(&mut c, &mut server, now);
    assert!(server.done, "the handshake itself completes");
    assert!(!c.is_connected());
    assert_eq!(
        events(&mut c),
        [DtlsEvent::Failed(DtlsError::FingerprintMismatch)]
    );
}
