//! The DTLS 1.2 handshake as typestates (rustls `Expect*` style): each state is a struct whose
//! `handle(self, hs, msg)` consumes one complete, in-order handshake message and returns the next state.
//!
//! States never touch the record layer or the network: they append to the transcript, queue the
//! messages of the next flight in [`Shared::flight`] and hand derived keys over in [`Shared::keys`];
//! the endpoint ([`crate::Dtls`]) sends, retransmits and installs them.

pub(crate) mod client;
pub(crate) mod msgs;
#[cfg(test)]
mod rsa_peer_tests;
pub(crate) mod server;

use std::sync::Arc;

use oxirtc_crypto::{
    CryptoProvider, DtlsCertificate, EcdhePrivateKey, NamedGroup, SecureRng, SignatureScheme,
};

use crate::{
    config::{CipherSuite, DtlsConfig, SrtpProfile},
    error::DtlsError,
    fragment::HandshakeMessage,
    keys::{TrafficKeys, MASTER_SECRET_LEN},
};

/// Signature schemes advertised in signature_algorithms and CertificateRequest and accepted from the
/// peer (RFC 5246 §7.4.1.4.1): what the crypto provider can verify, ours (ECDSA P-256) first, then
/// RSASSA-PKCS1-v1_5 for servers with RSA certificates (ECDHE_RSA, RFC 8422 §5.4).
pub(crate) const SIGNATURE_SCHEMES: [SignatureScheme; 5] = [
    SignatureScheme::EcdsaP256Sha256,
    SignatureScheme::EcdsaP384Sha384,
    SignatureScheme::RsaPkcs1Sha256,
    SignatureScheme::RsaPkcs1Sha384,
    SignatureScheme::RsaPkcs1Sha512,
];

/// The scheme oxirtc signs with: its certificate key is ECDSA P-256.
pub(crate) const OUR_SCHEME: SignatureScheme = SignatureScheme::EcdsaP256Sha256;

pub(crate) fn scheme_codepoints() -> Vec<u16> {
    SIGNATURE_SCHEMES.iter().map(|s| s.codepoint()).collect()
}

/// A peer-chosen signature scheme, if it is one we advertised.
pub(crate) fn accept_scheme(codepoint: u16) -> Result<SignatureScheme, DtlsError> {
    SignatureScheme::from_codepoint(codepoint)
        .filter(|s| SIGNATURE_SCHEMES.contains(s))
        .ok_or(DtlsError::IllegalParameter("signature scheme not offered"))
}

/// Constant-time equality for verify_data and cookies.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One message of a flight, kept so the whole flight can be re-fragmented and re-sent with fresh
/// record sequence numbers (RFC 6347 §4.2.4).
#[derive(Debug, Clone)]
pub(crate) enum FlightItem {
    Handshake {
        epoch: u16,
        msg_type: u8,
        message_seq: u16,
        body: Vec<u8>,
    },
    ChangeCipherSpec {
        epoch: u16,
    },
}

/// Parameters fixed by the hellos.
#[derive(Debug, Clone)]
pub(crate) struct Hello {
    pub suite: CipherSuite,
    pub srtp: Option<SrtpProfile>,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
}

/// The authenticated peer: its end-entity certificate and that certificate's public key.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub cert: Vec<u8>,
    pub spki: Vec<u8>,
}

/// Secret bytes (a pre-master secret) whose Debug output is redacted.
pub(crate) struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// What a finished handshake leaves behind.
#[derive(Clone)]
pub(crate) struct Session {
    pub hello: Hello,
    pub peer: Peer,
    pub master: [u8; MASTER_SECRET_LEN],
}

/// Never prints the master secret.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("hello", &self.hello)
            .finish_non_exhaustive()
    }
}

/// A handshake in progress: what all its states share, and the state it is in. The endpoint boxes
/// it and drops it once the handshake completes.
#[derive(Debug)]
pub(crate) struct Handshake {
    pub shared: Shared,
    pub state: State,
}

/// State shared by all handshake states of one endpoint.
pub(crate) struct Shared {
    pub config: DtlsConfig,
    pub crypto: &'static dyn CryptoProvider,
    pub rng: SecureRng,
    pub cert: Arc<DtlsCertificate>,
    /// Every handshake message so far in the unfragmented DTLS form (RFC 6347 §4.2.6), for the
    /// session hash, CertificateVerify and Finished.
    pub transcript: Vec<u8>,
    pub send_seq: u16,
    /// The epoch the next queued message goes out in (1 after our ChangeCipherSpec).
    pub write_epoch: u16,
    /// The flight being built by the current `handle` call.
    pub flight: Vec<FlightItem>,
    /// The flight just built ends our part of the handshake (no retransmission timer, RFC 6347 §4.2.4).
    pub flight_final: bool,
    /// Keys derived by the current `handle` call, for the endpoint to install as epoch 1.
    pub keys: Option<TrafficKeys>,
    /// Server: the HMAC key of stateless cookies (RFC 6347 §4.2.1).
    pub cookie_secret: [u8; 32],
    /// An ephemeral key generated before the handshake needed it (see `Dtls::set_spare_ecdhe_key`),
    /// used once if its group is the one negotiated.
    pub spare_ecdhe: Option<EcdhePrivateKey>,
    /// Server: a HelloVerifyRequest `(message_seq, body)` to send without keeping state.
    pub hello_verify: Option<(u16, Vec<u8>)>,
    /// Server: the message_seq of the ClientHello just accepted (the endpoint resets its reassembler).
    pub accepted_hello: Option<u16>,
    /// Set when the handshake completes.
    pub completed: Option<Session>,
    /// ClientHellos dropped before a cookie was verified (malformed or not a ClientHello).
    pub dropped_hellos: u64,
    /// Server: the transport proved the peer's address (see [`crate::Dtls::set_peer_address_validated`]),
    /// so a ClientHello is answered without a cookie exchange.
    pub peer_address_validated: bool,
}

/// Never prints the cookie secret or keys.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("send_seq", &self.send_seq)
            .field("write_epoch", &self.write_epoch)
            .field("transcript_len", &self.transcript.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// An ephemeral key on `group`: the spare one if it is on that group (generated while nothing
    /// else was waiting, so the handshake's critical path skips a key generation), else a fresh one.
    pub(crate) fn ecdhe_key(&mut self, group: NamedGroup) -> Result<EcdhePrivateKey, DtlsError> {
        match self.spare_ecdhe.take() {
            Some(key) if key.group() == group => Ok(key),
            _ => Ok(self.crypto.ecdhe_generate(group)?),
        }
    }

    /// Queues a handshake message of the next flight and adds it to the transcript.
    pub(crate) fn send(&mut self, msg_type: u8, body: Vec<u8>) {
        let message_seq = self.send_seq;
        self.send_seq = self.send_seq.wrapping_add(1);
        self.transcript
            .extend_from_slice(&msgs::encode_message(msg_type, message_seq, &body));
        self.flight.push(FlightItem::Handshake {
            epoch: self.write_epoch,
            msg_type,
            message_seq,
            body,
        });
    }

    /// Queues ChangeCipherSpec; later messages go out in epoch 1 (RFC 6347 §4.1).
    pub(crate) fn send_change_cipher_spec(&mut self) {
        self.flight.push(FlightItem::ChangeCipherSpec {
            epoch: self.write_epoch,
        });
        self.write_epoch += 1;
    }

    /// Adds a received message to the transcript.
    pub(crate) fn record(&mut self, msg: &HandshakeMessage) {
        self.transcript
            .extend_from_slice(&msgs::encode_message(msg.msg_type, msg.message_seq, &msg.body));
    }
}

/// Every handshake state of either role.
#[derive(Debug)]
pub(crate) enum State {
    /// A client before `start`.
    ClientIdle,
    ExpectServerHello(client::ExpectServerHello),
    ExpectServerCertificate(client::ExpectCertificate),
    ExpectServerKeyExchange(client::ExpectServerKeyExchange),
    ExpectCertificateRequest(client::ExpectCertificateRequest),
    ExpectServerHelloDone(client::ExpectServerHelloDone),
    ExpectServerFinished(client::ExpectFinished),
    ExpectClientHello(server::ExpectClientHello),
    ExpectClientCertificate(server::ExpectCertificate),
    ExpectClientKeyExchange(server::ExpectClientKeyExchange),
    ExpectCertificateVerify(server::ExpectCertificateVerify),
    ExpectClientFinished(server::ExpectFinished),
    /// The handshake completed; the session is in [`Shared::completed`].
    Done,
    /// The handshake failed or the state was taken.
    Failed,
}

impl State {
    /// Feeds one complete handshake message to the current state.
    pub(crate) fn handle(self, hs: &mut Shared, msg: HandshakeMessage) -> Result<State, DtlsError> {
        match self {
            Self::ExpectServerHello(s) => s.handle(hs, msg),
            Self::ExpectServerCertificate(s) => s.handle(hs, msg),
            Self::ExpectServerKeyExchange(s) => s.handle(hs, msg),
            Self::ExpectCertificateRequest(s) => s.handle(hs, msg),
            Self::ExpectServerHelloDone(s) => s.handle(hs, msg),
            Self::ExpectServerFinished(s) => s.handle(hs, msg),
            Self::ExpectClientHello(s) => s.handle(hs, msg),
            Self::ExpectClientCertificate(s) => s.handle(hs, msg),
            Self::ExpectClientKeyExchange(s) => s.handle(hs, msg),
            Self::ExpectCertificateVerify(s) => s.handle(hs, msg),
            Self::ExpectClientFinished(s) => s.handle(hs, msg),
            Self::ClientIdle | Self::Done | Self::Failed => {
                Err(DtlsError::UnexpectedMessage("no handshake in progress"))
            }
        }
    }
}

/// Parses a Certificate message into the peer's end-entity certificate and its public key
/// (RFC 5246 §7.4.2: the sender's certificate comes first). WebRTC requires one (RFC 8827 §6.5).
pub(crate) fn parse_peer_certificate(body: &[u8]) -> Result<Peer, DtlsError> {
    let certs = msgs::parse_certificate(body)?;
    let first = certs
        .first()
        .ok_or(DtlsError::BadCertificate("the peer sent no certificate"))?;
    let spki = DtlsCertificate::public_key_of(first)
        .map_err(|_| DtlsError::BadCertificate("unparseable certificate"))?;
    Ok(Peer {
        cert: first.to_vec(),
        spki,
    })
}

/// Checks a `digitally-signed` value from the peer.
pub(crate) fn verify_peer_signature(
    hs: &Shared,
    peer: &Peer,
    scheme: u16,
    message: &[u8],
    signature: &[u8],
) -> Result<(), DtlsError> {
    let scheme = accept_scheme(scheme)?;
    hs.crypto
        .verify_signature(scheme, &peer.spki, message, signature)
        .map_err(|_| DtlsError::BadSignature)
}

/// Expects `msg` to be of type `want`.
pub(crate) fn expect(msg: &HandshakeMessage, want: u8, what: &'static str) -> Result<(), DtlsError> {
    if msg.msg_type == want {
        Ok(())
    } else {
        Err(DtlsError::UnexpectedMessage(what))
    }
}
