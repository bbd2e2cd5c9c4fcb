//! Server handshake states (RFC 5246 §7.3 flights 2, 4, 6) with stateless cookies (RFC 6347 §4.2.1).

use oxirtc_crypto::{EcdhePrivateKey, NamedGroup};

use super::{
    ct_eq, expect, msgs, msgs::ty, parse_peer_certificate, scheme_codepoints, verify_peer_signature, Hello,
    Peer, Session, Shared, State, OUR_SCHEME,
};
use crate::{
    config::{CipherSuite, SrtpProfile},
    error::DtlsError,
    fragment::HandshakeMessage,
    keys,
};

/// Waiting for a ClientHello. Holds nothing about any client: a ClientHello without a valid cookie is
/// answered with a HelloVerifyRequest computed from the message alone.
#[derive(Debug)]
pub(crate) struct ExpectClientHello;

/// RFC 6347 §4.2.1: `Cookie = HMAC(Secret, Client-IP, Client-Parameters)`. One peer per endpoint, so the
/// client parameters are every ClientHello field but the cookie itself.
fn cookie(hs: &Shared, ch: &msgs::ClientHello<'_>) -> [u8; 32] {
    hs.crypto.hmac_sha256(
        &hs.cookie_secret,
        &[
            &ch.random,
            ch.session_id,
            ch.suites_raw,
            ch.compression,
            ch.extensions_raw,
        ],
    )
}

impl ExpectClientHello {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        let ch = match msgs::ClientHello::parse(&msg.body) {
            Ok(ch) if msg.msg_type == ty::CLIENT_HELLO => ch,
            // Before a cookie proves the address, garbage is dropped rather than failing the endpoint.
            _ => {
                hs.dropped_hellos += 1;
                tracing::debug!("dropping an undecodable ClientHello");
                return Ok(State::ExpectClientHello(self));
            }
        };
        // RFC 6347 §4.2.1: the cookie exchange MAY be skipped where amplification is not a problem.
        if hs.config.hello_verify && !hs.peer_address_validated {
            let expected = cookie(hs, &ch);
            if !ct_eq(ch.cookie, &expected) {
                let body = msgs::encode_hello_verify_request(&expected);
                hs.hello_verify = Some((msg.message_seq, body));
                return Ok(State::ExpectClientHello(self));
            }
        }
        let (hello, group) = negotiate(hs, &ch)?;
        let echo = Echo {
            point_formats: ch.ext.point_formats.is_some(),
            renegotiation_info: ch.ext.renegotiation_info.is_some()
                || ch.suites.contains(&msgs::EMPTY_RENEGOTIATION_SCSV),
        };
        // The transcript starts with the ClientHello that carried the valid cookie (RFC 6347 §4.2.6);
        // the server's message_seq continues from it (RFC 6347 §4.2.2).
        hs.transcript.clear();
        hs.record(&msg);
        hs.send_seq = msg.message_seq;
        hs.accepted_hello = Some(msg.message_seq);
        send_server_flight(hs, &hello, group, echo)
    }
}

/// Extensions the ServerHello answers because the client sent them.
#[derive(Debug, Clone, Copy)]
struct Echo {
    point_formats: bool,
    renegotiation_info: bool,
}

fn negotiate(hs: &mut Shared, ch: &msgs::ClientHello<'_>) -> Result<(Hello, NamedGroup), DtlsError> {
    // RFC 8422 §5.3: the suite must fit the certificate, and ours is ECDSA: never ECDHE_RSA.
    let suite = hs
        .config
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| s.signature_algorithm() == OUR_SCHEME.signature_algorithm())
        .find(|s| ch.suites.contains(&s.codepoint()))
        .ok_or(DtlsError::HandshakeFailure("no common cipher suite"))?;
    if !ch.ext.extended_master_secret {
        return Err(DtlsError::HandshakeFailure(
            "client does not support extended_master_secret",
        ));
    }
    if !ch.compression.contains(&0) {
        return Err(DtlsError::HandshakeFailure(
            "client does not offer null compression",
        ));
    }
    if ch.ext.renegotiation_info.as_ref().is_some_and(|i| !i.is_empty()) {
        return Err(DtlsError::HandshakeFailure("non-empty renegotiation_info"));
    }
    if ch.ext.point_formats.as_ref().is_some_and(|f| !f.contains(&0)) {
        return Err(DtlsError::HandshakeFailure(
            "client does not accept uncompressed points",
        ));
    }
    let sig_algs = &ch.ext.signature_algorithms;
    if !sig_algs.is_empty() && !sig_algs.contains(&OUR_SCHEME.codepoint()) {
        return Err(DtlsError::HandshakeFailure(
            "client does not accept ecdsa_secp256r1_sha256",
        ));
    }
    let group = hs
        .config
        .groups
        .iter()
        .copied()
        .find(|g| ch.ext.groups.contains(&g.codepoint()))
        .ok_or(DtlsError::HandshakeFailure("no common ECDHE group"))?;
    // RFC 5764 §4.1.1: the server picks one profile it supports (by its own preference); none in
    // common means no use_srtp in the answer.
    let srtp = ch.ext.srtp_profiles.as_ref().and_then(|offered| {
        hs.config
            .srtp_profiles
            .iter()
            .copied()
            .find(|p| offered.contains(&p.codepoint()))
    });
    let mut server_random = [0u8; 32];
    hs.rng.fill(&mut server_random);
    let hello = Hello {
        suite,
        srtp,
        client_random: ch.random,
        server_random,
    };
    Ok((hello, group))
}

/// Flight 4: ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone.
fn send_server_flight(
    hs: &mut Shared,
    hello: &Hello,
    group: NamedGroup,
    echo: Echo,
) -> Result<State, DtlsError> {
    let srtp = hello.srtp.map(SrtpProfile::codepoint);
    let sh = msgs::ServerHello::encode(&msgs::ServerHelloParams {
        random: hello.server_random,
        suite: hello.suite.codepoint(),
        srtp,
        point_formats: echo.point_formats,
        renegotiation_info: echo.renegotiation_info,
    });
    hs.send(ty::SERVER_HELLO, sh);
    hs.send(ty::CERTIFICATE, msgs::encode_certificate(hs.cert.der()));
    let key = hs.ecdhe_key(group)?;
    let params = msgs::encode_ecdh_params(group.codepoint(), key.public_key());
    // RFC 8422 §5.4: sign client_random + server_random + ServerECDHParams.
    let signed = [&hello.client_random[..], &hello.server_random, &params].concat();
    let signature = hs.cert.key_pair().sign(&signed)?;
    let mut ske = params;
    msgs::encode_signed(&mut ske, OUR_SCHEME.codepoint(), &signature);
    hs.send(ty::SERVER_KEY_EXCHANGE, ske);
    // WebRTC requires the client's certificate (RFC 8827 §6.5).
    hs.send(
        ty::CERTIFICATE_REQUEST,
        msgs::encode_certificate_request(&scheme_codepoints()),
    );
    hs.send(ty::SERVER_HELLO_DONE, Vec::new());
    Ok(State::ExpectClientCertificate(ExpectCertificate {
        hello: hello.clone(),
        key,
    }))
}

/// Waiting for the client's Certificate.
#[derive(Debug)]
pub(crate) struct ExpectCertificate {
    hello: Hello,
    key: EcdhePrivateKey,
}

impl ExpectCertificate {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        if msg.msg_type == ty::CLIENT_KEY_EXCHANGE {
            return Err(DtlsError::BadCertificate("the client sent no certificate"));
        }
        expect(&msg, ty::CERTIFICATE, "expected client Certificate")?;
        let peer = parse_peer_certificate(&msg.body)?;
        hs.record(&msg);
        Ok(State::ExpectClientKeyExchange(ExpectClientKeyExchange {
            hello: self.hello,
            key: self.key,
            peer,
        }))
    }
}

/// Waiting for ClientKeyExchange.
#[derive(Debug)]
pub(crate) struct ExpectClientKeyExchange {
    hello: Hello,
    key: EcdhePrivateKey,
    peer: Peer,
}

impl ExpectClientKeyExchange {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::CLIENT_KEY_EXCHANGE, "expected ClientKeyExchange")?;
        let public = msgs::parse_client_key_exchange(&msg.body)?;
        let pre_master = self
            .key
            .agree(public)
            .map_err(|_| DtlsError::IllegalParameter("invalid ECDHE public key"))?;
        hs.record(&msg);
        let suite: CipherSuite = self.hello.suite;
        // RFC 7627 §3: session_hash up to and including ClientKeyExchange.
        let session_hash = keys::transcript_hash(hs.crypto, suite, &hs.transcript);
        let master = keys::extended_master_secret(hs.crypto, suite, &pre_master, &session_hash);
        let h = &self.hello;
        hs.keys = Some(keys::traffic_keys(
            hs.crypto,
            suite,
            &master,
            &h.client_random,
            &h.server_random,
        )?);
        Ok(State::ExpectCertificateVerify(ExpectCertificateVerify {
            session: Session {
                hello: self.hello,
                peer: self.peer,
                master,
            },
        }))
    }
}

/// Waiting for CertificateVerify.
#[derive(Debug)]
pub(crate) struct ExpectCertificateVerify {
    session: Session,
}

impl ExpectCertificateVerify {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::CERTIFICATE_VERIFY, "expected CertificateVerify")?;
        let (scheme, signature) = msgs::parse_signed(&msg.body)?;
        // RFC 5246 §7.4.8: over every handshake message before this one (RFC 6347 §4.2.6 form).
        verify_peer_signature(hs, &self.session.peer, scheme, &hs.transcript, signature)?;
        hs.record(&msg);
        Ok(State::ExpectClientFinished(ExpectFinished {
            session: self.session,
        }))
    }
}

/// Waiting for the client's Finished; then sends flight 6 (ChangeCipherSpec, Finished).
#[derive(Debug)]
pub(crate) struct ExpectFinished {
    session: Session,
}

impl ExpectFinished {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::FINISHED, "expected client Finished")?;
        if msg.epoch == 0 {
            return Err(DtlsError::UnexpectedMessage("Finished before ChangeCipherSpec"));
        }
        let s = &self.session;
        let suite = s.hello.suite;
        let expected = keys::verify_data(hs.crypto, suite, &s.master, b"client finished", &hs.transcript);
        if !ct_eq(&expected, &msg.body) {
            return Err(DtlsError::BadFinished);
        }
        hs.record(&msg);
        hs.send_change_cipher_spec();
        let verify = keys::verify_data(hs.crypto, suite, &s.master, b"server finished", &hs.transcript);
        hs.send(ty::FINISHED, verify.to_vec());
        hs.flight_final = true;
        hs.completed = Some(self.session);
        Ok(State::Done)
    }
}
