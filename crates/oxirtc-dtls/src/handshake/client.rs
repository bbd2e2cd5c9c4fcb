//! Client handshake states (RFC 5246 §7.3 flights 1, 3, 5; RFC 6347 §4.2.1 HelloVerifyRequest). The
//! server may authenticate with ECDSA or RSA (ECDHE_ECDSA or ECDHE_RSA, RFC 8422 §2); our own
//! certificate, sent when asked, is always ECDSA.

use oxirtc_crypto::{EcdhePrivateKey, NamedGroup, PublicKeyInfo, SignatureAlgorithm};

use super::{
    accept_scheme, expect, msgs, msgs::ty, parse_peer_certificate, scheme_codepoints, verify_peer_signature,
    Hello, Peer, Secret, Session, Shared, State, OUR_SCHEME,
};
use crate::{
    config::{CipherSuite, SrtpProfile},
    error::DtlsError,
    fragment::HandshakeMessage,
    keys,
};

/// Sends the first ClientHello (flight 1).
pub(crate) fn start(hs: &mut Shared) -> State {
    let mut random = [0u8; 32];
    hs.rng.fill(&mut random);
    send_client_hello(hs, &random, &[]);
    State::ExpectServerHello(ExpectServerHello { random })
}

fn send_client_hello(hs: &mut Shared, random: &[u8; 32], cookie: &[u8]) {
    let suites: Vec<u16> = hs.config.cipher_suites.iter().map(|s| s.codepoint()).collect();
    let groups: Vec<u16> = hs.config.groups.iter().map(|g| g.codepoint()).collect();
    let srtp: Vec<u16> = hs.config.srtp_profiles.iter().map(|p| p.codepoint()).collect();
    let body = msgs::encode_client_hello(&msgs::ClientHelloParams {
        random,
        cookie,
        suites: &suites,
        groups: &groups,
        signature_algorithms: &scheme_codepoints(),
        srtp_profiles: &srtp,
    });
    hs.send(ty::CLIENT_HELLO, body);
}

/// Waiting for HelloVerifyRequest or ServerHello.
#[derive(Debug)]
pub(crate) struct ExpectServerHello {
    random: [u8; 32],
}

impl ExpectServerHello {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        match msg.msg_type {
            ty::HELLO_VERIFY_REQUEST => {
                // RFC 6347 §4.2.1: resend the ClientHello with the cookie; the first ClientHello and
                // the HelloVerifyRequest are not part of the transcript (§4.2.6).
                let cookie = msgs::parse_hello_verify_request(&msg.body)?;
                hs.transcript.clear();
                send_client_hello(hs, &self.random, cookie);
                Ok(State::ExpectServerHello(self))
            }
            ty::SERVER_HELLO => self.server_hello(hs, msg),
            _ => Err(DtlsError::UnexpectedMessage("expected ServerHello")),
        }
    }

    fn server_hello(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        let sh = msgs::ServerHello::parse(&msg.body)?;
        let suite = CipherSuite::from_codepoint(sh.suite)
            .filter(|s| hs.config.cipher_suites.contains(s))
            .ok_or(DtlsError::IllegalParameter("cipher suite not offered"))?;
        if !sh.ext.extended_master_secret {
            // RFC 7627 §5.3 and WebRTC policy: refuse a full handshake without EMS.
            return Err(DtlsError::HandshakeFailure(
                "server does not support extended_master_secret",
            ));
        }
        if sh.ext.renegotiation_info.as_ref().is_some_and(|i| !i.is_empty()) {
            // RFC 5746 §3.4: the initial handshake's renegotiated_connection must be empty.
            return Err(DtlsError::HandshakeFailure("non-empty renegotiation_info"));
        }
        if sh.ext.point_formats.as_ref().is_some_and(|f| !f.contains(&0)) {
            return Err(DtlsError::IllegalParameter(
                "server does not accept uncompressed points",
            ));
        }
        let srtp = match sh.ext.srtp_profiles.as_deref() {
            None => None,
            // RFC 5764 §4.1.1: the server answers with exactly one profile that the client offered.
            Some([p]) => Some(
                SrtpProfile::from_codepoint(*p)
                    .filter(|p| hs.config.srtp_profiles.contains(p))
                    .ok_or(DtlsError::IllegalParameter("SRTP profile not offered"))?,
            ),
            Some(_) => return Err(DtlsError::IllegalParameter("use_srtp must name one profile")),
        };
        hs.record(&msg);
        let hello = Hello {
            suite,
            srtp,
            client_random: self.random,
            server_random: sh.random,
        };
        Ok(State::ExpectServerCertificate(ExpectCertificate { hello }))
    }
}

/// Waiting for the server's Certificate.
#[derive(Debug)]
pub(crate) struct ExpectCertificate {
    hello: Hello,
}

impl ExpectCertificate {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::CERTIFICATE, "expected server Certificate")?;
        let peer = parse_peer_certificate(&msg.body)?;
        check_server_key(self.hello.suite, &peer)?;
        hs.record(&msg);
        Ok(State::ExpectServerKeyExchange(ExpectServerKeyExchange {
            hello: self.hello,
            peer,
        }))
    }
}

/// RSA moduli the verifier accepts (aws-lc's `RSA_PKCS1_2048_8192_*`): outside it a signature could
/// never verify, so the certificate is refused by name instead.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// RFC 8422 §5.3 (RFC 5246 §7.4.2): an ECDHE_ECDSA server's certificate holds an ECDSA key, an
/// ECDHE_RSA server's an RSA key, the one that signs its ServerKeyExchange.
fn check_server_key(suite: CipherSuite, peer: &Peer) -> Result<(), DtlsError> {
    let key = PublicKeyInfo::parse(&peer.spki).map_err(|_| {
        DtlsError::BadCertificate("the server's certificate key is neither EC nor RSA (or is malformed)")
    })?;
    if key.algorithm != suite.signature_algorithm() {
        return Err(DtlsError::BadCertificate(
            "the server's certificate key does not fit the cipher suite it chose (ECDHE_ECDSA needs an EC key, ECDHE_RSA an RSA key)",
        ));
    }
    if key.algorithm == SignatureAlgorithm::Rsa && !RSA_BITS.contains(&key.bits) {
        return Err(DtlsError::BadCertificate(
            "the server's RSA key is not 2048 to 8192 bits long; it needs a stronger certificate",
        ));
    }
    Ok(())
}

/// Waiting for ServerKeyExchange.
#[derive(Debug)]
pub(crate) struct ExpectServerKeyExchange {
    hello: Hello,
    peer: Peer,
}

impl ExpectServerKeyExchange {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::SERVER_KEY_EXCHANGE, "expected ServerKeyExchange")?;
        let ske = msgs::ServerKeyExchange::parse(&msg.body)?;
        let group = NamedGroup::from_codepoint(ske.group)
            .filter(|g| hs.config.groups.contains(g))
            .ok_or(DtlsError::IllegalParameter("ECDHE group not offered"))?;
        // RFC 8422 §5.4: the signature covers client_random + server_random + ServerECDHParams.
        let signed = [
            &self.hello.client_random[..],
            &self.hello.server_random,
            ske.params,
        ]
        .concat();
        // RFC 5246 §7.4.3: a scheme we offered; RFC 8422 §5.4: of the suite's (and the key's) algorithm.
        if accept_scheme(ske.scheme)?.signature_algorithm() != self.hello.suite.signature_algorithm() {
            return Err(DtlsError::IllegalParameter(
                "ServerKeyExchange is signed with an algorithm other than the cipher suite's",
            ));
        }
        // A signature that does not verify is decrypt_error (RFC 5246 §7.2.2).
        verify_peer_signature(hs, &self.peer, ske.scheme, &signed, ske.signature)?;
        let key = hs.ecdhe_key(group)?;
        let public = key.public_key().to_vec();
        let pre_master = Secret(agree(key, ske.public)?);
        hs.record(&msg);
        Ok(State::ExpectCertificateRequest(ExpectCertificateRequest {
            next: ExpectServerHelloDone {
                hello: self.hello,
                peer: self.peer,
                public,
                pre_master,
                certificate_requested: false,
            },
        }))
    }
}

fn agree(key: EcdhePrivateKey, peer_public: &[u8]) -> Result<Vec<u8>, DtlsError> {
    key.agree(peer_public)
        .map_err(|_| DtlsError::IllegalParameter("invalid ECDHE public key"))
}

/// Waiting for CertificateRequest (or ServerHelloDone if the server asks for no certificate).
#[derive(Debug)]
pub(crate) struct ExpectCertificateRequest {
    next: ExpectServerHelloDone,
}

impl ExpectCertificateRequest {
    pub(crate) fn handle(mut self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        if msg.msg_type == ty::SERVER_HELLO_DONE {
            return self.next.handle(hs, msg);
        }
        expect(&msg, ty::CERTIFICATE_REQUEST, "expected CertificateRequest")?;
        let (types, schemes) = msgs::parse_certificate_request(&msg.body)?;
        if !types.contains(&msgs::ECDSA_SIGN) || !schemes.contains(&OUR_SCHEME.codepoint()) {
            return Err(DtlsError::HandshakeFailure(
                "server does not accept an ECDSA P-256 certificate",
            ));
        }
        hs.record(&msg);
        self.next.certificate_requested = true;
        Ok(State::ExpectServerHelloDone(self.next))
    }
}

/// Waiting for ServerHelloDone; then sends flight 5.
#[derive(Debug)]
pub(crate) struct ExpectServerHelloDone {
    hello: Hello,
    peer: Peer,
    public: Vec<u8>,
    pre_master: Secret,
    certificate_requested: bool,
}

impl ExpectServerHelloDone {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::SERVER_HELLO_DONE, "expected ServerHelloDone")?;
        if !msg.body.is_empty() {
            return Err(DtlsError::Malformed("ServerHelloDone"));
        }
        hs.record(&msg);
        let suite = self.hello.suite;
        if self.certificate_requested {
            hs.send(ty::CERTIFICATE, msgs::encode_certificate(hs.cert.der()));
        }
        hs.send(
            ty::CLIENT_KEY_EXCHANGE,
            msgs::encode_client_key_exchange(&self.public),
        );
        // RFC 7627 §3: session_hash covers everything up to and including ClientKeyExchange.
        let session_hash = keys::transcript_hash(hs.crypto, suite, &hs.transcript);
        let master = keys::extended_master_secret(hs.crypto, suite, &self.pre_master.0, &session_hash);
        if self.certificate_requested {
            // RFC 5246 §7.4.8: signed over all handshake messages so far (RFC 6347 §4.2.6 form).
            let signature = hs.cert.key_pair().sign(&hs.transcript)?;
            let mut body = Vec::with_capacity(signature.len() + 4);
            msgs::encode_signed(&mut body, OUR_SCHEME.codepoint(), &signature);
            hs.send(ty::CERTIFICATE_VERIFY, body);
        }
        let h = &self.hello;
        hs.keys = Some(keys::traffic_keys(
            hs.crypto,
            suite,
            &master,
            &h.client_random,
            &h.server_random,
        )?);
        hs.send_change_cipher_spec();
        let verify = keys::verify_data(hs.crypto, suite, &master, b"client finished", &hs.transcript);
        hs.send(ty::FINISHED, verify.to_vec());
        Ok(State::ExpectServerFinished(ExpectFinished {
            session: Session {
                hello: self.hello,
                peer: self.peer,
                master,
            },
        }))
    }
}

/// Waiting for the server's ChangeCipherSpec and Finished (flight 6).
#[derive(Debug)]
pub(crate) struct ExpectFinished {
    session: Session,
}

impl ExpectFinished {
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        expect(&msg, ty::FINISHED, "expected server Finished")?;
        if msg.epoch == 0 {
            return Err(DtlsError::UnexpectedMessage("Finished before ChangeCipherSpec"));
        }
        let s = &self.session;
        let expected = keys::verify_data(
            hs.crypto,
            s.hello.suite,
            &s.master,
            b"server finished",
            &hs.transcript,
        );
        if !super::ct_eq(&expected, &msg.body) {
            return Err(DtlsError::BadFinished);
        }
        hs.record(&msg);
        hs.completed = Some(self.session);
        Ok(State::Done)
    }
}
