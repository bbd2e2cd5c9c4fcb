//! [`Dtls`]: one DTLS 1.2 endpoint, sans-IO. It owns the record layer, the reassembler, the handshake
//! state and the flight timer, and reports through `poll_transmit` / `poll_event` / `poll_timeout`.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use oxirtc_crypto::{CryptoProvider, DtlsCertificate, EcdhePrivateKey, Fingerprint, SecureRng};

use crate::{
    alert::{Alert, AlertDescription, AlertLevel},
    config::{DtlsConfig, Role},
    error::DtlsError,
    flight,
    fragment::{FragmentOutcome, HandshakeMessage, Reassembler},
    handshake::{client, msgs::ty, msgs::FragmentHeader, FlightItem, Handshake, Session, Shared, State},
    record::{ContentType, Record, RecordDrop, RecordLayer, MAX_PLAINTEXT},
    stats::DtlsStats,
};

mod info;

/// Most datagrams queued for `poll_transmit` before stateless HelloVerifyRequests are dropped: a
/// ClientHello flood must not grow memory when the caller drains slowly.
const MAX_QUEUED_HVR: usize = 4;
/// Largest ClientHello reassembled from fragments before a cookie (Chromium's is about 1.5 KB).
const MAX_FRAGMENTED_HELLO: usize = 8 * 1024;
/// Records of the next epoch held until its keys exist (RFC 6347 §4.1: "SHOULD discard or buffer"):
/// a reordered Finished then needs no retransmission.
const MAX_FUTURE_RECORDS: usize = 8;
/// Bytes of such records held at most.
const MAX_FUTURE_BYTES: usize = 32 * 1024;

/// What the endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtlsEvent {
    /// The handshake completed and the peer certificate matches the expected fingerprint.
    Connected,
    /// One application data record's plaintext (one SCTP packet in WebRTC, RFC 8261 §5).
    ApplicationData(Vec<u8>),
    /// close_notify was sent or received.
    Closed,
    /// The handshake or connection failed; nothing more will happen.
    Failed(DtlsError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Handshaking,
    /// The handshake is complete but the peer's fingerprint is not yet known (RFC 8842 §5).
    AwaitingFingerprint,
    Connected,
    Closed,
    Failed,
}

/// The timers, indexed into one table (CONTRIBUTING.md convention 3).
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// Retransmit the current flight (RFC 6347 §4.2.4).
    Retransmit = 0,
    /// Give up on the handshake.
    Handshake = 1,
}

/// A DTLS 1.2 client or server for one peer.
#[derive(Debug)]
pub struct Dtls {
    role: Role,
    /// The handshake in progress, boxed and dropped when it completes: once connected nothing of it
    /// is needed (transcript, certificate and key, cookie secret, generator, typestate), and an
    /// established connection then holds none of it (issue 15).
    hs: Option<Box<Handshake>>,
    /// Flight sizing and timing, kept apart from the handshake's config because the final flight
    /// may still have to be retransmitted after the handshake completed (RFC 6347 §4.2.4).
    mtu: usize,
    initial_retransmit: Duration,
    max_retransmit: Duration,
    crypto: &'static dyn CryptoProvider,
    phase: Phase,
    records: RecordLayer,
    reassembler: Reassembler,
    /// The last flight sent, for retransmission.
    flight: Vec<FlightItem>,
    flight_final: bool,
    flight_sent_at: Option<Instant>,
    /// The first message_seq of the peer flight that answers ours: older messages mean the peer is
    /// retransmitting its previous flight because ours was lost (RFC 6347 §4.2.4).
    peer_flight_start: u16,
    /// Encoded records of epoch 1 that arrived before the keys (see [`MAX_FUTURE_RECORDS`]).
    future: Vec<Vec<u8>>,
    rto: Duration,
    timers: [Option<Instant>; 2],
    out: VecDeque<Vec<u8>>,
    events: VecDeque<DtlsEvent>,
    remote_fingerprint: Option<Fingerprint>,
    session: Option<Session>,
    stats: DtlsStats,
    /// Reused plaintext buffer: records are decrypted straight from the datagram into it (no copy of
    /// the ciphertext, no allocation per record once it has grown to the record size).
    plain: Vec<u8>,
}

impl Dtls {
    /// A new endpoint. `rng` draws the randoms and the cookie secret (seed it in tests).
    pub fn new(
        config: DtlsConfig,
        role: Role,
        certificate: Arc<DtlsCertificate>,
        crypto: &'static dyn CryptoProvider,
        mut rng: SecureRng,
    ) -> Self {
        let mut cookie_secret = [0u8; 32];
        rng.fill(&mut cookie_secret);
        let rto = config.initial_retransmit;
        let state = match role {
            Role::Client => State::ClientIdle,
            Role::Server => State::ExpectClientHello(crate::handshake::server::ExpectClientHello),
        };
        let (mtu, max_retransmit) = (config.mtu, config.max_retransmit);
        let shared = Shared {
            config,
            crypto,
            rng,
            cert: certificate,
            transcript: Vec::new(),
            send_seq: 0,
            write_epoch: 0,
            flight: Vec::new(),
            flight_final: false,
            keys: None,
            cookie_secret,
            hello_verify: None,
            accepted_hello: None,
            completed: None,
            dropped_hellos: 0,
            peer_address_validated: false,
            spare_ecdhe: None,
        };
        Self {
            role,
            hs: Some(Box::new(Handshake { shared, state })),
            mtu,
            initial_retransmit: rto,
            max_retransmit,
            crypto,
            phase: Phase::Idle,
            records: RecordLayer::new(),
            reassembler: Reassembler::new(),
            flight: Vec::new(),
            flight_final: false,
            flight_sent_at: None,
            peer_flight_start: 0,
            future: Vec::new(),
            rto,
            timers: [None; 2],
            out: VecDeque::new(),
            events: VecDeque::new(),
            remote_fingerprint: None,
            session: None,
            stats: DtlsStats::default(),
            plain: Vec::new(),
        }
    }

    /// Sets the SHA-256 fingerprint the peer's certificate must have (from SDP `a=fingerprint`).
    /// If the handshake already finished, it is checked now.
    pub fn set_remote_fingerprint(&mut self, fp: Fingerprint) {
        self.remote_fingerprint = Some(fp);
        self.check_fingerprint();
    }

    /// Sets the first retransmission timeout of each flight from now on (see
    /// [`DtlsConfig::initial_retransmit`](crate::DtlsConfig::initial_retransmit)). RFC 9147 §5.8.2:
    /// with an RTT known from elsewhere (ICE), 1.5 times that RTT instead of the blind 1 s default, so
    /// a first flight the peer was not ready for costs a round trip or two rather than a second.
    pub fn set_initial_retransmit(&mut self, rto: Duration) {
        self.initial_retransmit = rto;
        if self.flight.is_empty() {
            self.rto = rto;
        }
    }

    /// Server: whether the transport has proven that the datagrams handed in next come from the peer's
    /// own address, e.g. ICE got an authenticated answer to a check from it (RFC 8445 §7.2.5.3), which
    /// also means the address consents to receive (RFC 7675 §1). The cookie exchange exists to prevent
    /// amplification towards spoofed addresses; where that is not a concern RFC 6347 §4.2.1 lets a server
    /// skip it, so a ClientHello then gets the server flight at once, one round trip sooner (as
    /// BoringSSL's DTLS server, and so browsers, always do). Set it per datagram; off by default.
    pub fn set_peer_address_validated(&mut self, validated: bool) {
        if let Some(hs) = self.hs.as_deref_mut() {
            hs.shared.peer_address_validated = validated;
        }
    }

    /// Hands over an ephemeral key generated ahead of time (e.g. when the connection was created,
    /// as browsers pre-generate certificates): the handshake uses it if its group is the one
    /// negotiated (X25519 with every WebRTC stack we know), so the server's flight 4 and the
    /// client's flight 5 each skip one key generation on the critical path. Used at most once;
    /// an unused key is dropped with the endpoint. RFC 8422 §5.10 asks only that a key be
    /// ephemeral, i.e. never used for two handshakes, which taking it out guarantees.
    pub fn set_spare_ecdhe_key(&mut self, key: EcdhePrivateKey) {
        if let Some(hs) = self.hs.as_deref_mut() {
            hs.shared.spare_ecdhe = Some(key);
        }
    }

    /// Starts the handshake: a client sends its ClientHello; a server just waits.
    pub fn start(&mut self, now: Instant) {
        if self.phase != Phase::Idle || self.role == Role::Server {
            return;
        }
        let Some(hs) = self.hs.as_deref_mut() else {
            return;
        };
        self.phase = Phase::Handshaking;
        self.timers[Timer::Handshake as usize] = Some(now + hs.shared.config.handshake_timeout);
        hs.state = client::start(&mut hs.shared);
        self.after_step(now);
    }

    /// Processes one received datagram. Never panics; undecodable, unauthentic, replayed or unexpected
    /// records are dropped and counted in [`Dtls::stats`].
    pub fn handle_receive(&mut self, now: Instant, datagram: &[u8]) {
        self.handle_receive_with(now, datagram, &mut |_| false);
    }

    /// [`handle_receive`](Self::handle_receive), offering each application data record's plaintext to
    /// `deliver` first, while it still lies in the endpoint's reused buffer: `deliver` returns true
    /// when it consumed the bytes, false to have them queued as [`DtlsEvent::ApplicationData`] as
    /// usual (e.g. while the layer above does not exist yet). The hot path of a connected endpoint
    /// then neither copies nor allocates per record.
    pub fn handle_receive_with(
        &mut self,
        now: Instant,
        datagram: &[u8],
        deliver: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        self.stats.datagrams_in += 1;
        if matches!(self.phase, Phase::Closed | Phase::Failed) {
            return;
        }
        let mut rest = datagram;
        let mut peer_retransmitted = false;
        while !rest.is_empty() {
            let Ok((rec, tail)) = Record::parse(rest) else {
                tracing::debug!(len = rest.len(), "dropping undecodable record(s)");
                self.stats.dropped_malformed += 1;
                break;
            };
            rest = tail;
            self.handle_record(now, &rec, &mut peer_retransmitted, deliver);
            if matches!(self.phase, Phase::Closed | Phase::Failed) {
                return;
            }
        }
        if !self.future.is_empty() && self.records.can_read(1) {
            for bytes in std::mem::take(&mut self.future) {
                if let Ok((rec, _)) = Record::parse(&bytes) {
                    self.handle_record(now, &rec, &mut peer_retransmitted, deliver);
                }
                if matches!(self.phase, Phase::Closed | Phase::Failed) {
                    return;
                }
            }
        }
        if peer_retransmitted {
            self.retransmit_for_peer(now);
        }
    }

    /// Keeps a record of the next epoch that arrived before its keys, within the caps.
    fn hold_future_record(&mut self, rec: &Record<'_>) -> bool {
        let held: usize = self.future.iter().map(Vec::len).sum();
        let fits =
            self.future.len() < MAX_FUTURE_RECORDS && held + rec.fragment.len() + 13 <= MAX_FUTURE_BYTES;
        if rec.epoch != 1 || !self.in_handshake() || !fits {
            return false;
        }
        let mut bytes = Vec::with_capacity(rec.fragment.len() + 13);
        rec.encode(&mut bytes);
        self.future.push(bytes);
        true
    }

    fn handle_record(
        &mut self,
        now: Instant,
        rec: &Record<'_>,
        peer_retransmitted: &mut bool,
        deliver: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        let mut plain = std::mem::take(&mut self.plain);
        match self.records.open_into(rec, &mut plain) {
            Ok(n) => self.dispatch_record(now, rec, &plain[..n], peer_retransmitted, deliver),
            Err(RecordDrop::UnknownEpoch) if self.hold_future_record(rec) => {}
            Err(reason) => {
                tracing::debug!(?reason, epoch = rec.epoch, seq = rec.sequence, "dropping record");
                let s = &mut self.stats;
                match reason {
                    RecordDrop::Malformed => s.dropped_malformed += 1,
                    RecordDrop::UnknownEpoch => s.dropped_unknown_epoch += 1,
                    RecordDrop::Replay => s.dropped_replay += 1,
                    RecordDrop::BadMac => s.dropped_bad_mac += 1,
                }
            }
        }
        self.plain = plain;
    }

    /// One authenticated (or epoch-0) record's plaintext, by content type.
    fn dispatch_record(
        &mut self,
        now: Instant,
        rec: &Record<'_>,
        plain: &[u8],
        peer_retransmitted: &mut bool,
        deliver: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        self.stats.records_in += 1;
        match rec.content_type {
            ContentType::Handshake => self.handle_handshake(now, rec, plain, peer_retransmitted),
            ContentType::ChangeCipherSpec => {
                // Epochs are explicit in DTLS records, so ChangeCipherSpec carries no information here.
                if plain != [1] {
                    self.stats.dropped_malformed += 1;
                }
            }
            ContentType::Alert => self.handle_alert(now, rec.epoch, plain),
            ContentType::ApplicationData => self.handle_application_data(rec.epoch, plain, deliver),
        }
    }

    fn handle_handshake(
        &mut self,
        now: Instant,
        rec: &Record<'_>,
        mut body: &[u8],
        peer_retransmitted: &mut bool,
    ) {
        let epoch = rec.epoch;
        while !body.is_empty() {
            let Some((h, fragment, rest)) = FragmentHeader::parse(body) else {
                self.stats.dropped_malformed += 1;
                return;
            };
            body = rest;
            match self.hs.as_deref().map(|hs| &hs.state) {
                Some(State::ExpectClientHello(_))
                    if h.fragment_offset == 0 && h.fragment_length == h.length =>
                {
                    self.handle_stateless_hello(now, rec, &h, fragment)
                }
                Some(State::ExpectClientHello(_)) => self.handle_hello_fragment(now, rec, &h, fragment),
                // The handshake completed (and was dropped).
                None | Some(State::Done) => self.handle_post_handshake(now, epoch, &h, peer_retransmitted),
                Some(State::ClientIdle | State::Failed) => self.stats.dropped_handshake += 1,
                Some(_) => match self.reassembler.insert(&h, fragment, epoch) {
                    FragmentOutcome::Old => *peer_retransmitted |= h.message_seq < self.peer_flight_start,
                    FragmentOutcome::Dropped => self.stats.dropped_handshake += 1,
                    FragmentOutcome::Buffered => {
                        while let Some(msg) = self.reassembler.pop() {
                            self.step(now, msg);
                            if !self.in_handshake() {
                                break;
                            }
                        }
                    }
                },
            }
            if matches!(self.phase, Phase::Closed | Phase::Failed) {
                return;
            }
        }
    }

    fn in_handshake(&self) -> bool {
        self.hs.as_deref().is_some_and(|hs| {
            !matches!(
                hs.state,
                State::Done | State::Failed | State::ExpectClientHello(_)
            )
        })
    }

    /// RFC 6347 §4.2.1: before a valid cookie only plaintext ClientHellos are looked at, and answering
    /// a whole one keeps no per-client state.
    fn handle_stateless_hello(
        &mut self,
        now: Instant,
        rec: &Record<'_>,
        h: &FragmentHeader,
        fragment: &[u8],
    ) {
        let (epoch, whole) = (rec.epoch, h.fragment_offset == 0 && h.fragment_length == h.length);
        if epoch != 0 || h.msg_type != ty::CLIENT_HELLO || !whole {
            self.stats.dropped_hellos += 1;
            return;
        }
        let msg = HandshakeMessage {
            msg_type: h.msg_type,
            message_seq: h.message_seq,
            body: fragment.to_vec(),
            epoch,
        };
        // RFC 6347 §4.2.1: the HelloVerifyRequest and the first ServerHello reuse the ClientHello's
        // record sequence number.
        self.records.set_next_write_seq(0, rec.sequence);
        self.step(now, msg);
        let Some(hs) = self.hs.as_deref_mut() else {
            return;
        };
        self.stats.dropped_hellos += std::mem::take(&mut hs.shared.dropped_hellos);
        if let Some((message_seq, body)) = hs.shared.hello_verify.take() {
            if self.out.len() >= MAX_QUEUED_HVR {
                self.stats.dropped_hellos += 1;
                return;
            }
            let item = FlightItem::Handshake {
                epoch: 0,
                msg_type: ty::HELLO_VERIFY_REQUEST,
                message_seq,
                body,
            };
            let (dgrams, n) = flight::pack(&mut self.records, &[item], self.mtu);
            self.stats.records_out += n;
            self.stats.hello_verify_sent += 1;
            self.out.extend(dgrams);
        }
    }

    /// A fragmented ClientHello (RFC 6347 §4.2.3). Chromium's ClientHello carries a post-quantum key
    /// share (X25519MLKEM768, 1216 bytes) and does not fit one 1200-byte datagram, so a WebRTC server
    /// must reassemble before any cookie exchange. The state this needs is bounded: one message of at
    /// most [`MAX_FRAGMENTED_HELLO`] bytes in the reassembler, replaced by any newer `message_seq`.
    fn handle_hello_fragment(&mut self, now: Instant, rec: &Record<'_>, h: &FragmentHeader, fragment: &[u8]) {
        let epoch = rec.epoch;
        if epoch != 0 || h.msg_type != ty::CLIENT_HELLO || h.length as usize > MAX_FRAGMENTED_HELLO {
            self.stats.dropped_hellos += 1;
            return;
        }
        if h.message_seq > self.reassembler.next_seq() {
            self.reassembler.reset(h.message_seq);
        }
        if self.reassembler.insert(h, fragment, epoch) != FragmentOutcome::Buffered {
            self.stats.dropped_hellos += 1;
            return;
        }
        if let Some(msg) = self.reassembler.pop() {
            let len = msg.body.len() as u32;
            let whole = FragmentHeader {
                msg_type: msg.msg_type,
                length: len,
                message_seq: msg.message_seq,
                fragment_offset: 0,
                fragment_length: len,
            };
            self.handle_stateless_hello(now, rec, &whole, &msg.body);
        }
    }

    /// After the handshake: a server answers the client's retransmitted final flight with its own
    /// (RFC 6347 §4.2.4); a renegotiation attempt gets a no_renegotiation warning (RFC 5746 §4.5).
    fn handle_post_handshake(
        &mut self,
        now: Instant,
        epoch: u16,
        h: &FragmentHeader,
        peer_retransmitted: &mut bool,
    ) {
        let renegotiation = epoch > 0 && matches!(h.msg_type, ty::CLIENT_HELLO | ty::HELLO_REQUEST);
        if renegotiation {
            // A new handshake restarts message_seq at 0 (RFC 6347 §4.2.2), so this comes before the
            // retransmission check. A ClientHello gets one no_renegotiation warning per message (RFC
            // 5746 §4.5); a HelloRequest is ignored (RFC 5246 §7.4.1.1 allows it, and OpenSSL treats the
            // warning as fatal).
            if h.fragment_offset == 0 && h.msg_type == ty::CLIENT_HELLO {
                self.send_alert(now, AlertLevel::Warning, AlertDescription::NoRenegotiation);
            }
            self.stats.dropped_handshake += 1;
        } else if h.message_seq < self.reassembler.next_seq() {
            *peer_retransmitted |= h.message_seq < self.peer_flight_start;
        } else {
            self.stats.dropped_handshake += 1;
        }
    }

    fn step(&mut self, now: Instant, msg: HandshakeMessage) {
        tracing::trace!(
            msg_type = msg.msg_type,
            seq = msg.message_seq,
            "handshake message"
        );
        let Some(hs) = self.hs.as_deref_mut() else {
            self.stats.dropped_handshake += 1;
            return;
        };
        let state = std::mem::replace(&mut hs.state, State::Failed);
        match state.handle(&mut hs.shared, msg) {
            Ok(next) => {
                hs.state = next;
                self.after_step(now);
            }
            Err(e) => self.fail(now, e),
        }
    }

    /// Applies what a handshake step produced: keys, a new flight, completion.
    fn after_step(&mut self, now: Instant) {
        let Some(hs) = self.hs.as_deref_mut() else {
            return;
        };
        let hs = &mut hs.shared;
        let (keys, accepted_hello, completed) =
            (hs.keys.take(), hs.accepted_hello.take(), hs.completed.take());
        let handshake_timeout = hs.config.handshake_timeout;
        let flight = std::mem::take(&mut hs.flight);
        let flight_final = std::mem::take(&mut hs.flight_final);
        if let Some(k) = keys {
            let (read, write) = match self.role {
                Role::Client => (k.server_write, k.client_write),
                Role::Server => (k.client_write, k.server_write),
            };
            self.records.install_read(1, read);
            self.records.install_write(1, write);
        }
        if let Some(seq) = accepted_hello {
            // A stateless server commits to this client only now (RFC 6347 §4.2.1).
            self.reassembler.reset(seq.wrapping_add(1));
            self.phase = Phase::Handshaking;
            self.timers[Timer::Handshake as usize] = Some(now + handshake_timeout);
        }
        if !flight.is_empty() {
            self.flight = flight;
            self.flight_final = flight_final;
            self.rto = self.initial_retransmit;
            self.peer_flight_start = self.reassembler.next_seq();
            self.send_flight(now);
            self.timers[Timer::Retransmit as usize] = (!self.flight_final).then(|| now + self.rto);
        }
        if let Some(mut session) = completed {
            tracing::debug!(suite = %session.hello.suite, "DTLS handshake complete");
            // The peer's public key only verified its handshake signature.
            session.peer.spki = Vec::new();
            self.session = Some(session);
            self.timers = [None; 2];
            if self.role == Role::Client {
                self.flight.clear(); // the server's Finished proves it has our final flight
            }
            // Handshake-only state: nothing of it is needed once connected. Our certificate and key
            // go with it unless the caller still holds them.
            self.hs = None;
            self.future = Vec::new();
            self.phase = Phase::AwaitingFingerprint;
            self.check_fingerprint();
        }
    }

    /// RFC 8842 §5 / RFC 8827 §6.5: report Connected only for the certificate SDP announced.
    fn check_fingerprint(&mut self) {
        if self.phase != Phase::AwaitingFingerprint {
            return;
        }
        let (Some(fp), Some(session)) = (&self.remote_fingerprint, &self.session) else {
            return;
        };
        if fp.matches(&session.peer.cert) {
            self.phase = Phase::Connected;
            self.events.push_back(DtlsEvent::Connected);
        } else {
            // The alert goes out in epoch 1; no time-dependent state is touched, so any instant works.
            self.fail_at(None, DtlsError::FingerprintMismatch);
        }
    }

    fn send_flight(&mut self, now: Instant) {
        let (dgrams, n) = flight::pack(&mut self.records, &self.flight, self.mtu);
        self.stats.records_out += n;
        self.out.extend(dgrams);
        self.flight_sent_at = Some(now);
    }

    /// The peer resent part of a flight we already processed: our answer was lost, resend it
    /// (RFC 6347 §4.2.4), at most once per quarter initial timeout so a multi-datagram flight does not
    /// trigger a burst.
    fn retransmit_for_peer(&mut self, now: Instant) {
        let quiet = self.initial_retransmit / 4;
        let recent = self.flight_sent_at.is_some_and(|t| now < t + quiet);
        if self.flight.is_empty() || recent {
            return;
        }
        self.stats.retransmissions += 1;
        self.send_flight(now);
    }

    /// Frees the scratch buffer records are decrypted into. It is reused from record to record
    /// while data flows; an idle connection need not hold a packet-sized buffer for good. The next
    /// record allocates it again.
    pub fn release_receive_buffer(&mut self) {
        self.plain = Vec::new();
    }

    /// [`Dtls::release_receive_buffer`], and the capacity of the queues that are empty: the
    /// datagrams and events of the handshake leave their queues grown, and a client's final
    /// flight its vector (issue 15). Call it when the connection is idle; the next record grows
    /// what it needs again.
    pub fn release_idle_buffers(&mut self) {
        self.release_receive_buffer();
        if self.out.is_empty() {
            self.out = VecDeque::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if self.flight.is_empty() {
            self.flight = Vec::new();
        }
    }

    /// Handles expired timers: retransmission with exponential back-off, handshake timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers[Timer::Handshake as usize].is_some_and(|t| now >= t) {
            self.fail(now, DtlsError::Timeout);
            return;
        }
        if self.timers[Timer::Retransmit as usize].is_some_and(|t| now >= t) {
            // RFC 6347 §4.2.4.1: double the timer each time, up to the maximum.
            self.rto = (self.rto * 2).min(self.max_retransmit);
            self.stats.retransmissions += 1;
            self.send_flight(now);
            self.timers[Timer::Retransmit as usize] = Some(now + self.rto);
        }
    }

    fn handle_alert(&mut self, now: Instant, epoch: u16, body: &[u8]) {
        let Some(alert) = Alert::parse(body) else {
            self.stats.dropped_malformed += 1;
            return;
        };
        let established = matches!(self.phase, Phase::Connected | Phase::AwaitingFingerprint);
        if established && epoch == 0 || self.phase == Phase::Idle {
            // Unauthenticated alerts cannot tear down an established connection, nor a server that has
            // not committed to any client yet (it keeps no state, RFC 6347 §4.2.1).
            self.stats.dropped_unknown_epoch += 1;
            return;
        }
        self.stats.alerts_received += 1;
        if alert.level == AlertLevel::Fatal {
            tracing::warn!(alert = %alert.description, "DTLS: fatal alert from the peer");
        } else {
            tracing::debug!(alert = %alert.description, "DTLS: warning alert from the peer");
        }
        if alert.description == AlertDescription::CloseNotify {
            // RFC 5246 §7.2.1: answer close_notify with close_notify.
            self.send_alert(now, AlertLevel::Warning, AlertDescription::CloseNotify);
            self.shut(Phase::Closed, DtlsEvent::Closed);
        } else if alert.level == AlertLevel::Fatal {
            self.shut(
                Phase::Failed,
                DtlsEvent::Failed(DtlsError::AlertReceived(alert.description)),
            );
        }
    }

    fn handle_application_data(&mut self, epoch: u16, plain: &[u8], deliver: &mut dyn FnMut(&[u8]) -> bool) {
        if epoch == 0 {
            // Application data is never sent in the clear (RFC 6347 §4.1, RFC 5246 §6.2.1).
            self.stats.dropped_plaintext_app_data += 1;
        } else if self.phase == Phase::Connected {
            if !deliver(plain) {
                self.events.push_back(DtlsEvent::ApplicationData(plain.to_vec()));
            }
        } else {
            self.stats.dropped_unverified_app_data += 1;
        }
    }

    fn send_alert(&mut self, _now: Instant, level: AlertLevel, description: AlertDescription) {
        let epoch = self.write_epoch();
        let mut dgram = Vec::new();
        let alert = Alert { level, description };
        if self
            .records
            .seal(&mut dgram, ContentType::Alert, epoch, &alert.encode())
        {
            self.stats.alerts_sent += 1;
            self.stats.records_out += 1;
            self.out.push_back(dgram);
        }
    }

    fn fail(&mut self, now: Instant, e: DtlsError) {
        self.fail_at(Some(now), e);
    }

    fn fail_at(&mut self, now: Option<Instant>, e: DtlsError) {
        match e.alert() {
            // RFC 5246 §7.2.2: the error is reported to the peer with a fatal alert.
            Some(alert) => tracing::warn!(error = %e, %alert, "DTLS failed; fatal alert sent to the peer"),
            None => tracing::warn!(error = %e, "DTLS failed"),
        }
        if let Some(desc) = e.alert() {
            let epoch = self.write_epoch();
            let mut dgram = Vec::new();
            let alert = Alert {
                level: AlertLevel::Fatal,
                description: desc,
            };
            if self
                .records
                .seal(&mut dgram, ContentType::Alert, epoch, &alert.encode())
            {
                self.stats.alerts_sent += 1;
                self.out.push_back(dgram);
            }
        }
        let _ = now;
        if let Some(hs) = self.hs.as_deref_mut() {
            hs.state = State::Failed;
        }
        self.shut(Phase::Failed, DtlsEvent::Failed(e));
    }

    /// The epoch our next record goes out in: the handshake's, or 1 once it completed (both sides
    /// have then sent their ChangeCipherSpec).
    fn write_epoch(&self) -> u16 {
        self.hs.as_deref().map_or(1, |hs| hs.shared.write_epoch)
    }

    fn shut(&mut self, phase: Phase, event: DtlsEvent) {
        self.phase = phase;
        self.timers = [None; 2];
        self.flight.clear();
        self.events.push_back(event);
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let d = self.out.pop_front()?;
        self.stats.datagrams_out += 1;
        Some(d)
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    /// When to call [`Dtls::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// Sends one application data record (RFC 8261: one SCTP packet per record). Fails unless connected
    /// (handshake done and fingerprint verified) or if `data` exceeds 2^14 bytes.
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        let mut dgram = Vec::with_capacity(data.len() + 64);
        self.seal_record(&mut dgram, data)?;
        self.out.push_back(dgram);
        Ok(())
    }

    /// Like [`send_application_data`](Self::send_application_data), but the record is appended to
    /// `out` as a whole datagram of its own instead of being queued for
    /// [`poll_transmit`](Self::poll_transmit): the caller sends `out[start..]` (for the returned
    /// `start`) right away, so a hot send path seals straight into its output buffer (no
    /// per-record allocation, no further copy). Counted as a datagram sent. On error `out` is
    /// unchanged. Datagrams still waiting in `poll_transmit` are not reordered behind it: callers
    /// drain that queue first.
    pub fn seal_application_data_into(&mut self, out: &mut Vec<u8>, data: &[u8]) -> Result<usize, DtlsError> {
        let start = out.len();
        self.seal_record(out, data)?;
        self.stats.datagrams_out += 1;
        Ok(start)
    }

    /// Appends one application data record for `data` to `out` (RFC 8261 §5: one SCTP packet per
    /// record).
    fn seal_record(&mut self, out: &mut Vec<u8>, data: &[u8]) -> Result<(), DtlsError> {
        match self.phase {
            Phase::Connected => {}
            Phase::Closed => return Err(DtlsError::Closed),
            _ => return Err(DtlsError::NotConnected),
        }
        if data.len() > MAX_PLAINTEXT {
            return Err(DtlsError::RecordTooLarge(data.len()));
        }
        if !self.records.seal(out, ContentType::ApplicationData, 1, data) {
            return Err(DtlsError::Closed); // sequence numbers exhausted
        }
        self.stats.records_out += 1;
        Ok(())
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and closes the endpoint.
    pub fn close(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Closed | Phase::Failed) {
            return;
        }
        self.send_alert(now, AlertLevel::Warning, AlertDescription::CloseNotify);
        self.shut(Phase::Closed, DtlsEvent::Closed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::msgs::encode_message;
    use oxirtc_crypto::default_provider;

    /// A client and a server that know each other's fingerprints, not started; with their
    /// certificates (the tests count references to them).
    fn unstarted_pair() -> (Dtls, Dtls, Arc<DtlsCertificate>, Arc<DtlsCertificate>) {
        let crypto = default_provider();
        let cc = Arc::new(DtlsCertificate::generate().unwrap());
        let sc = Arc::new(DtlsCertificate::generate().unwrap());
        let mut c = Dtls::new(
            DtlsConfig::default(),
            Role::Client,
            cc.clone(),
            crypto,
            SecureRng::from_seed([1; 32]),
        );
        let mut s = Dtls::new(
            DtlsConfig::default(),
            Role::Server,
            sc.clone(),
            crypto,
            SecureRng::from_seed([2; 32]),
        );
        c.set_remote_fingerprint(sc.fingerprint());
        s.set_remote_fingerprint(cc.fingerprint());
        (c, s, cc, sc)
    }

    /// Moves datagrams both ways until the handshake is done.
    fn run_handshake(c: &mut Dtls, s: &mut Dtls, now: Instant) {
        for _ in 0..10 {
            while let Some(d) = c.poll_transmit() {
                s.handle_receive(now, &d);
            }
            while let Some(d) = s.poll_transmit() {
                c.handle_receive(now, &d);
            }
        }
        assert!(c.is_connected() && s.is_connected());
    }

    fn connected_pair() -> (Dtls, Dtls, Instant) {
        let (mut c, mut s, _, _) = unstarted_pair();
        #[allow(clippy::disallowed_methods)] // the test owns the clock
        let now = Instant::now();
        c.start(now);
        run_handshake(&mut c, &mut s, now);
        (c, s, now)
    }

    /// Issue 15: a connected endpoint keeps no handshake state, so neither the certificate and its
    /// key (the caller's reference is the last one) nor the typestate, and it is smaller for it.
    #[test]
    fn a_connected_endpoint_drops_the_handshake_and_the_certificate() {
        let (mut c, mut s, cc, sc) = unstarted_pair();
        #[allow(clippy::disallowed_methods)] // the test owns the clock
        let now = Instant::now();
        c.start(now);
        assert_eq!(
            Arc::strong_count(&cc),
            2,
            "the handshake holds the certificate while it runs"
        );
        run_handshake(&mut c, &mut s, now);
        assert!(c.hs.is_none() && s.hs.is_none());
        assert_eq!((Arc::strong_count(&cc), Arc::strong_count(&sc)), (1, 1));
        // What stays inline: the record layer, counters, the session; not the handshake.
        assert!(
            std::mem::size_of::<Dtls>() < 1024,
            "Dtls is {} bytes",
            std::mem::size_of::<Dtls>()
        );
        // Still usable: data flows and the exporter works without the handshake's provider.
        assert!(c.export_keying_material(b"EXTRACTOR-dtls_srtp", None, 60).is_ok());
        while s.poll_event().is_some() {}
        c.send_application_data(b"after").unwrap();
        let d = c.poll_transmit().unwrap();
        s.handle_receive(now, &d);
        assert_eq!(
            s.poll_event(),
            Some(DtlsEvent::ApplicationData(b"after".to_vec()))
        );
        // Idle: the client's final flight (the server's Finished acknowledged it) and the drained
        // queues hold no capacity.
        while c.poll_event().is_some() {}
        assert!(c.flight.capacity() > 0 && c.events.capacity() > 0);
        c.release_idle_buffers();
        s.release_idle_buffers();
        assert_eq!(
            (c.flight.capacity(), c.out.capacity(), c.events.capacity()),
            (0, 0, 0)
        );
        assert_eq!((s.out.capacity(), s.events.capacity()), (0, 0));
        assert!(
            !s.flight.is_empty(),
            "the server keeps its final flight for a retransmission"
        );
    }

    /// RFC 5746 §4.5 / scope: a renegotiating ClientHello is refused with a no_renegotiation warning, a
    /// HelloRequest is ignored, and the connection carries on.
    #[test]
    fn renegotiation_is_refused_with_a_warning() {
        let (mut c, mut s, now) = connected_pair();
        while c.poll_event().is_some() || s.poll_event().is_some() {}
        let mut d = Vec::new();
        let hello = encode_message(ty::CLIENT_HELLO, 0, b"renegotiate"); // a new handshake: seq 0
        assert!(c.records.seal(&mut d, ContentType::Handshake, 1, &hello));
        s.handle_receive(now, &d);
        let warning = s.poll_transmit().unwrap();
        c.handle_receive(now, &warning);
        assert_eq!(s.stats().alerts_sent, 1);
        assert_eq!(c.stats().alerts_received, 1);
        assert!(c.is_connected() && s.is_connected());
        let mut d = Vec::new();
        let request = encode_message(ty::HELLO_REQUEST, 0, b"");
        assert!(s.records.seal(&mut d, ContentType::Handshake, 1, &request));
        c.handle_receive(now, &d);
        assert_eq!(c.stats().alerts_sent, 0, "a HelloRequest is ignored");
        assert_eq!(c.stats().dropped_handshake, 1);
        assert!(c.poll_transmit().is_none());
        assert!(c.poll_event().is_none() && s.poll_event().is_none());
        s.send_application_data(b"still here").unwrap();
        c.handle_receive(now, &s.poll_transmit().unwrap());
        assert_eq!(
            c.poll_event(),
            Some(DtlsEvent::ApplicationData(b"still here".to_vec()))
        );
    }

    /// `handle_receive_with` hands application data to the caller from the reused buffer; refused
    /// bytes become events as before, and replays and forgeries are still dropped and counted.
    #[test]
    fn application_data_is_delivered_in_place_or_queued() {
        let (mut c, mut s, now) = connected_pair();
        while c.poll_event().is_some() || s.poll_event().is_some() {}
        let mut got: Vec<Vec<u8>> = Vec::new();
        s.send_application_data(b"one").unwrap();
        s.send_application_data(b"two").unwrap();
        let one = s.poll_transmit().unwrap();
        let two = s.poll_transmit().unwrap();
        c.handle_receive_with(now, &one, &mut |p| {
            got.push(p.to_vec());
            true
        });
        assert_eq!(got, vec![b"one".to_vec()]);
        assert!(c.poll_event().is_none(), "consumed bytes raise no event");
        c.handle_receive_with(now, &two, &mut |_| false);
        assert_eq!(c.poll_event(), Some(DtlsEvent::ApplicationData(b"two".to_vec())));
        // The same record again is a replay; a flipped bit fails authentication.
        c.handle_receive_with(now, &one, &mut |_| panic!("a replay must not be delivered"));
        s.send_application_data(b"three").unwrap();
        let mut forged = s.poll_transmit().unwrap();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        c.handle_receive_with(now, &forged, &mut |_| panic!("a forgery must not be delivered"));
        assert_eq!((c.stats().dropped_replay, c.stats().dropped_bad_mac), (1, 1));
    }

    /// A record sealed into the caller's buffer is appended after what is there, opens at the peer
    /// like a queued one, is counted as sent, and leaves the buffer untouched when refused.
    #[test]
    fn application_data_is_sealed_into_the_callers_buffer() {
        let (mut c, mut s, now) = connected_pair();
        while c.poll_event().is_some() || s.poll_event().is_some() {}
        let sent_before = s.stats().datagrams_out;
        let mut out = b"prefix".to_vec();
        let start = s.seal_application_data_into(&mut out, b"sealed here").unwrap();
        assert_eq!((start, &out[..start]), (6, &b"prefix"[..]));
        assert!(s.poll_transmit().is_none(), "nothing is queued");
        assert_eq!(s.stats().datagrams_out, sent_before + 1);
        c.handle_receive(now, &out[start..]);
        assert_eq!(
            c.poll_event(),
            Some(DtlsEvent::ApplicationData(b"sealed here".to_vec()))
        );
        // Same sequence space as queued records: the next one is not a replay.
        s.send_application_data(b"queued").unwrap();
        c.handle_receive(now, &s.poll_transmit().unwrap());
        assert_eq!(
            c.poll_event(),
            Some(DtlsEvent::ApplicationData(b"queued".to_vec()))
        );
        let too_big = vec![0u8; MAX_PLAINTEXT + 1];
        let len = out.len();
        assert!(s.seal_application_data_into(&mut out, &too_big).is_err());
        assert_eq!(out.len(), len);
        s.close(now);
        assert_eq!(
            s.seal_application_data_into(&mut out, b"late"),
            Err(DtlsError::Closed)
        );
        assert_eq!(out.len(), len);
    }
}
