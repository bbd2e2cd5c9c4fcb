//! The association: public API, state, inbound dispatch and timers (RFC 9260 §4 state diagram).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, CryptoProvider, SecureRng};

use crate::chunk::Chunk;
use crate::packet::{verify_checksum, Packet};
use crate::plpmtud::Plpmtud;
use crate::receiver::Receiver;
use crate::rto::RtoEstimator;
use crate::sender::Sender;
use crate::timer::{Timer, Timers};
use crate::{Ppid, SctpConfig, SctpError, SctpStats, SendOptions, StreamId};

/// Association states (RFC 9260 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed,
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
}

/// What the application is told (RFC 9260 §11.2, RFC 6525 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SctpEvent {
    /// The association is established (COMMUNICATION UP, RFC 9260 §11.2.4).
    Connected,
    /// A complete message.
    Message {
        /// The stream it arrived on.
        stream: StreamId,
        /// Its payload protocol identifier.
        ppid: Ppid,
        /// The message.
        data: Vec<u8>,
        /// It was sent unordered.
        unordered: bool,
    },
    /// The peer reset its outgoing streams = our incoming streams (RFC 6525 §5.2.2). An empty list means
    /// all streams. The data-channel layer resets its outgoing side in turn (RFC 8831 §6.7).
    StreamsResetByPeer(Vec<StreamId>),
    /// Our [`Association::reset_streams`] request completed; the ids can be reused.
    OutgoingStreamsReset(Vec<StreamId>),
    /// A stream's buffered amount fell to or below its low threshold.
    BufferedAmountLow(StreamId),
    /// Graceful shutdown completed (RFC 9260 §11.2.8).
    Closed,
    /// The association was aborted (by the peer, locally, or after too many retransmissions); the
    /// text says why and who. After a peer's ABORT, [`Association::peer_abort_causes`] has its
    /// error causes.
    Aborted(String),
}

/// Handshake parameters learned from the peer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PeerInfo {
    pub(crate) tag: u32,
    pub(crate) initial_tsn: u32,
    pub(crate) a_rwnd: u32,
    pub(crate) outbound_streams: u16,
    pub(crate) inbound_streams: u16,
    pub(crate) forward_tsn: bool,
    pub(crate) reconfig: bool,
    /// The peer accepts zero checksums over DTLS (RFC 9653 §4).
    pub(crate) zero_checksum: bool,
    /// The peer listed PAD in Supported Extensions (RFC 4820 §3).
    pub(crate) pad: bool,
}

/// A pre-encoded control chunk with the verification tag its packet needs.
#[derive(Debug)]
pub(crate) struct Ctrl {
    pub(crate) vtag: u32,
    pub(crate) bytes: Vec<u8>,
    /// Must travel alone (INIT, RFC 9260 §6.10).
    pub(crate) alone: bool,
}

/// One SCTP association over DTLS (RFC 8261), sans-IO.
///
/// Feed it packets with [`handle_receive`](Self::handle_receive) and time with
/// [`handle_timeout`](Self::handle_timeout); drain [`poll_transmit`](Self::poll_transmit) and
/// [`poll_event`](Self::poll_event) after every call and sleep until [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct Association {
    pub(crate) config: SctpConfig,
    pub(crate) crypto: &'static dyn CryptoProvider,
    pub(crate) rng: SecureRng,
    pub(crate) epoch: Instant,
    pub(crate) cookie_secret: [u8; 32],
    pub(crate) state: State,
    pub(crate) local_tag: u32,
    pub(crate) local_initial_tsn: u32,
    pub(crate) peer: PeerInfo,
    /// The peer tag is known (INIT ACK or cookie seen).
    pub(crate) peer_known: bool,
    pub(crate) cookie_echo: Option<Vec<u8>>,
    pub(crate) init_retransmits: u32,
    pub(crate) error_count: u32,
    pub(crate) sender: Sender,
    pub(crate) receiver: Option<Receiver>,
    pub(crate) rto: RtoEstimator,
    pub(crate) timers: Timers,
    pub(crate) ctrl: VecDeque<Ctrl>,
    pub(crate) events: VecDeque<SctpEvent>,
    /// Bytes of `Message` events not yet polled: counted against the receive window.
    pub(crate) undelivered: usize,
    /// Bytes of delivered messages the application still holds (`set_application_backlog`), also
    /// counted against the receive window so a reader that falls behind slows the sender.
    pub(crate) app_backlog: usize,
    pub(crate) sack_needed: bool,
    pub(crate) sack_now: bool,
    /// Packets of new data still allowed before the next input (Max.Burst, RFC 9260 §6.1).
    pub(crate) burst_left: usize,
    /// The a_rwnd of our last SACK.
    pub(crate) last_advertised_rwnd: u32,
    pub(crate) packets_since_sack: u32,
    pub(crate) heartbeat_nonce: Option<u64>,
    pub(crate) reconfig: crate::reconfig::ReconfigState,
    pub(crate) shutdown_requested: bool,
    /// The association ended (closed or aborted); it never comes back.
    pub(crate) finished: bool,
    /// The error causes of the peer's ABORT, once it aborted (bounded by `MAX_CAUSES`).
    pub(crate) peer_abort: Option<Vec<crate::ErrorCause>>,
    pub(crate) stats: SctpStats,
    pub(crate) scratch: Vec<u8>,
    /// Path MTU discovery (RFC 8899 §6.2).
    pub(crate) pmtu: Plpmtud,
}

impl Association {
    /// A new association in the CLOSED state. It answers an INIT statelessly (RFC 9260 §5.1.3) until
    /// [`connect`](Self::connect) is called or the peer's COOKIE ECHO arrives.
    pub fn new(config: SctpConfig, mut rng: SecureRng, now: Instant) -> Self {
        // Validation and buffer sizing first: the sender, RTO and PLPMTUD are set up from the result.
        let config = config.normalized();
        let id = Identity::generate(&mut rng);
        let mut assoc = Self::initial(config, rng, now, id);
        assoc.stats.rto = assoc.rto.rto();
        assoc.stats.cwnd = assoc.sender.cwnd();
        assoc.stats.pmtu = assoc.config.mtu;
        assoc
    }

    /// The CLOSED state: nothing learned from a peer, nothing queued, no timer running.
    fn initial(config: SctpConfig, rng: SecureRng, now: Instant, id: Identity) -> Self {
        let c = &config;
        Self {
            crypto: default_provider(),
            rng,
            epoch: now,
            cookie_secret: id.cookie_secret,
            state: State::Closed,
            local_tag: id.tag,
            local_initial_tsn: id.initial_tsn,
            peer: PeerInfo::default(),
            peer_known: false,
            cookie_echo: None,
            init_retransmits: 0,
            error_count: 0,
            sender: Sender::new(id.initial_tsn, c.mtu, c.max_burst, c.congestion_control),
            receiver: None,
            rto: RtoEstimator::new(c.rto_initial, c.rto_min, c.rto_max, c.max_backoff),
            timers: Timers::default(),
            ctrl: VecDeque::new(),
            events: VecDeque::new(),
            undelivered: 0,
            app_backlog: 0,
            sack_needed: false,
            sack_now: false,
            burst_left: 0,
            last_advertised_rwnd: 0,
            packets_since_sack: 0,
            heartbeat_nonce: None,
            reconfig: crate::reconfig::ReconfigState::new(id.initial_tsn),
            shutdown_requested: false,
            finished: false,
            peer_abort: None,
            stats: SctpStats::default(),
            // Grown on first use: callers of `poll_transmit_into` never need it.
            scratch: Vec::new(),
            pmtu: Plpmtud::new(c.mtu, c.max_mtu, c.pmtu_probe_timer, c.pmtu_raise_timer),
            config,
        }
    }

    /// Sends INIT (RFC 9260 §5.1 A). Both WebRTC peers call this at once (RFC 8831 §6.2).
    pub fn connect(&mut self, now: Instant) {
        if self.state != State::Closed || self.finished {
            return;
        }
        self.state = State::CookieWait;
        self.init_retransmits = 0;
        self.queue_init(now, false);
    }

    /// Handles one received SCTP packet (one DTLS application-data record, RFC 8261 §4).
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        self.stats.packets_received += 1;
        self.stats.bytes_received += packet.len() as u64;
        if !self.checksum_ok(packet) {
            return;
        }
        let parsed = match Packet::parse(packet) {
            Ok(p) => p,
            Err(e) => {
                self.stats.drops.malformed += 1;
                tracing::debug!(error = %e, "malformed SCTP packet dropped");
                return;
            }
        };
        if !self.addressed_to_us(&parsed) {
            return;
        }
        self.pmtu.peer_heard_since_t3 = true;
        let seen = self.handle_chunks(now, &parsed);
        if seen.had_data {
            self.after_data(now, seen.immediate);
        }
        // Each arriving packet (the ACK clock) allows Max.Burst more packets; they add up when the
        // caller handles several datagrams before polling.
        self.burst_left = (self.burst_left + self.sender.max_burst).min(MAX_BURST_CREDIT);
        self.after_progress(now);
    }

    /// The CRC32c (RFC 9260 §6.8), or a zero checksum we accept (RFC 9653 §5.3); a packet that
    /// fails is counted and dropped.
    fn checksum_ok(&mut self, packet: &[u8]) -> bool {
        if self.zero_checksum_accepted(packet) {
            self.stats.zero_checksum_received += 1;
            return true;
        }
        let Err(e) = verify_checksum(packet) else {
            return true;
        };
        if matches!(e, SctpError::Truncated { .. }) {
            self.stats.drops.malformed += 1;
        } else {
            self.stats.drops.bad_checksum += 1;
        }
        tracing::debug!(error = %e, "SCTP packet dropped");
        false
    }

    /// Our ports and the verification tag the packet must carry (RFC 9260 §8.5); a packet that
    /// fails is counted and dropped.
    fn addressed_to_us(&mut self, parsed: &Packet<'_>) -> bool {
        if parsed.header.dst_port != self.config.local_port
            || parsed.header.src_port != self.config.remote_port
        {
            self.stats.drops.bad_verification_tag += 1;
            tracing::debug!(
                src = parsed.header.src_port,
                dst = parsed.header.dst_port,
                "wrong SCTP ports"
            );
            return false;
        }
        if !self.check_verification_tag(parsed) {
            self.stats.drops.bad_verification_tag += 1;
            tracing::debug!(
                vtag = parsed.header.verification_tag,
                "bad verification tag, packet dropped"
            );
            return false;
        }
        true
    }

    /// The chunks of an accepted packet in order, until one ends the packet or the association.
    fn handle_chunks(&mut self, now: Instant, parsed: &Packet<'_>) -> DataSeen {
        let mut seen = DataSeen::default();
        let finished_before = self.finished;
        for chunk in &parsed.chunks {
            if self.finished && !finished_before {
                break; // closed or aborted by an earlier chunk of this packet
            }
            match self.handle_chunk(now, parsed, chunk, &mut seen) {
                Flow::Continue => {}
                Flow::Stop => break,
            }
        }
        seen
    }

    /// RFC 9653 §5.3: having announced Zero Checksum Acceptable, a packet whose checksum field is zero
    /// is taken without computing the CRC32c; DTLS (RFC 8261) has authenticated it already. A packet
    /// carrying INIT is always checked (it comes before any announcement).
    fn zero_checksum_accepted(&self, packet: &[u8]) -> bool {
        self.config.zero_checksum_dtls
            && packet.get(8..12) == Some(&[0, 0, 0, 0])
            && packet.get(crate::packet::COMMON_HEADER_LEN) != Some(&crate::chunk::ty::INIT)
    }

    /// RFC 9260 §8.5, §8.5.1: which verification tag each packet must carry.
    fn check_verification_tag(&self, p: &Packet<'_>) -> bool {
        let vtag = p.header.verification_tag;
        match p.chunks.first() {
            // §8.5.1 A: INIT travels with tag 0 and alone.
            Some(Chunk::Init(_)) => vtag == 0 && p.chunks.len() == 1,
            // §8.5.1 B: ABORT and SHUTDOWN COMPLETE may reflect the peer's tag with the T bit.
            Some(Chunk::Abort { t_bit: true, .. }) | Some(Chunk::ShutdownComplete { t_bit: true }) => {
                self.peer_known && vtag == self.peer.tag
            }
            // COOKIE ECHO is checked against the tag inside the cookie (§5.1.5).
            Some(Chunk::CookieEcho(_)) => true,
            _ => vtag == self.local_tag,
        }
    }

    /// One chunk, to its handler; the guarded arms come first, so their order matters.
    fn handle_chunk(
        &mut self,
        now: Instant,
        packet: &Packet<'_>,
        chunk: &Chunk<'_>,
        seen: &mut DataSeen,
    ) -> Flow {
        let established = self.receiver.is_some() && !self.finished;
        match chunk {
            Chunk::Init(init) => self.on_init(now, init),
            Chunk::InitAck(ack) => self.on_init_ack(now, ack),
            Chunk::CookieEcho(cookie) => self.on_cookie_echo(now, packet.header.verification_tag, cookie),
            Chunk::CookieAck => self.on_cookie_ack(now),
            Chunk::Abort { causes, .. } => return self.on_abort_chunk(causes),
            Chunk::ShutdownAck if self.finished => self.on_shutdown_ack(),
            Chunk::Error(causes) if self.state == State::CookieEchoed => {
                self.on_error_while_cookie_echoed(now, causes)
            }
            Chunk::ShutdownComplete { .. } => return self.on_shutdown_complete(),
            _ if !established => self.drop_before_handshake(chunk),
            Chunk::Data(d) => self.on_data_chunk(d, seen),
            Chunk::Sack(s) => self.on_sack(now, s),
            Chunk::Heartbeat(info) => self.answer_heartbeat(info),
            Chunk::HeartbeatAck(info) => self.on_heartbeat_ack_chunk(now, info),
            Chunk::Shutdown { cum_tsn_ack } => self.on_shutdown(now, *cum_tsn_ack),
            Chunk::ShutdownAck => self.on_shutdown_ack(),
            Chunk::Error(causes) => {
                tracing::debug!(causes = %crate::reconfig::describe_causes(causes), "peer sent ERROR");
            }
            Chunk::ForwardTsn(f) => self.on_forward_tsn(f, seen),
            Chunk::Reconfig(params) => self.on_reconfig(now, params),
            Chunk::Unknown { ty, .. } => return self.on_unknown_chunk(*ty, chunk),
        }
        Flow::Continue
    }

    /// ABORT (RFC 9260 §3.3.7): nothing after it in the packet counts.
    fn on_abort_chunk(&mut self, causes: &[u8]) -> Flow {
        // RFC 9260 §3.3.7: with no association (no TCB) an ABORT is silently discarded.
        if self.state == State::Closed {
            tracing::debug!(
                causes = %crate::reconfig::describe_causes(causes),
                "SCTP: ABORT with no association discarded"
            );
        } else {
            self.on_peer_abort(causes);
        }
        Flow::Stop
    }

    /// SHUTDOWN COMPLETE (RFC 9260 §9.2) ends the association once we sent SHUTDOWN ACK.
    fn on_shutdown_complete(&mut self) -> Flow {
        if self.state == State::ShutdownAckSent {
            self.terminate(SctpEvent::Closed);
        }
        Flow::Stop
    }

    /// A chunk that needs an association, before there is one: counted and dropped.
    fn drop_before_handshake(&mut self, chunk: &Chunk<'_>) {
        self.stats.drops.unexpected_chunk += 1;
        tracing::debug!(ty = chunk.chunk_type(), state = ?self.state, "chunk before the handshake dropped");
    }

    /// DATA (RFC 9260 §6.2): the SACK decision waits for the end of the packet; the I bit asks for
    /// it at once (RFC 7053 §4).
    fn on_data_chunk(&mut self, d: &crate::chunk::DataChunk<'_>, seen: &mut DataSeen) {
        seen.had_data = true;
        seen.immediate |= d.flags & crate::chunk::data_flags::IMMEDIATE != 0;
        self.on_data(d);
    }

    /// HEARTBEAT (RFC 9260 §8.3): echo its info in a HEARTBEAT ACK.
    fn answer_heartbeat(&mut self, info: &[u8]) {
        let mut out = Vec::new();
        crate::chunk::encode_heartbeat(&mut out, crate::chunk::ty::HEARTBEAT_ACK, &[info]);
        self.queue_ctrl(out);
    }

    /// HEARTBEAT ACK: the answer to a PLPMTUD probe (RFC 8899 §6.2.1.1) or to our heartbeat
    /// (RFC 9260 §8.3).
    fn on_heartbeat_ack_chunk(&mut self, now: Instant, info: &[u8]) {
        if !self.on_probe_ack(now, info) {
            self.on_heartbeat_ack(now, info);
        }
    }

    /// FORWARD TSN (RFC 3758 §3.6): the receiver skips the abandoned TSNs and SACKs as for DATA
    /// (here at once).
    fn on_forward_tsn(&mut self, f: &crate::chunk::ForwardTsnChunk<'_>, seen: &mut DataSeen) {
        if let Some(r) = self.receiver.as_mut() {
            r.on_forward_tsn(f.new_cum_tsn, f.streams());
        }
        seen.had_data = true;
        seen.immediate = true;
    }

    /// RFC 9260 §9.1: the peer aborted. The association ends at once and says why with the ABORT's
    /// error causes (§3.3.10); nothing is sent back (§3.3.7: never an ABORT for an ABORT).
    fn on_peer_abort(&mut self, causes: &[u8]) {
        let causes = crate::ErrorCause::parse_all(causes);
        let described = crate::error_causes::describe(&causes);
        // A User-Initiated Abort (§3.3.10.12) is how a WebRTC peer closes (W3C `close()`): not a
        // fault. Any other cause is.
        if !causes.is_empty() && causes.iter().all(crate::ErrorCause::is_user_abort) {
            tracing::info!(causes = %described, "SCTP: the peer aborted the association");
        } else {
            tracing::warn!(causes = %described, "SCTP: the peer aborted the association");
        }
        self.ctrl.clear(); // nothing more goes to a peer that aborted
        self.peer_abort = Some(causes);
        self.terminate(SctpEvent::Aborted(format!(
            "the peer aborted the SCTP association: {described}"
        )));
    }

    /// RFC 9260 §3.2: the upper two bits of an unknown chunk type say what to do.
    fn on_unknown_chunk(&mut self, ty: u8, chunk: &Chunk<'_>) -> Flow {
        if ty == crate::chunk::ty::PAD {
            return Flow::Continue; // RFC 4820 §3: padding is ignored (a PLPMTUD probe's filler)
        }
        self.stats.drops.unknown_chunk += 1;
        tracing::debug!(ty, "unknown chunk type");
        if ty & 0x40 != 0 && self.peer_known {
            let mut raw = Vec::new();
            chunk.encode(&mut raw);
            let mut causes = Vec::new();
            crate::param::put_cause(&mut causes, crate::param::cause::UNRECOGNIZED_CHUNK, &raw);
            let mut out = Vec::new();
            crate::chunk::encode_raw(&mut out, crate::chunk::ty::ERROR, 0, &causes);
            if out.len() + crate::packet::COMMON_HEADER_LEN <= self.config.mtu {
                self.queue_ctrl(out);
            }
        }
        if ty & 0x80 == 0 {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    /// Advances timers (RFC 9260 §5.1 T1, §6.3.3 T3, §6.2 delayed SACK, §8.3 heartbeat, §9.2 T2,
    /// RFC 6525 §5.1.1 reconfig).
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<Timer> = self.timers.take_expired(now).collect();
        if !due.is_empty() {
            self.burst_left = self.sender.max_burst;
        }
        for t in due {
            match t {
                Timer::T1 => self.on_t1(now),
                Timer::T2Shutdown => self.on_t2(now),
                Timer::T3Rtx => self.on_t3(now),
                Timer::DelayedAck => self.sack_now = self.sack_needed,
                Timer::Heartbeat => self.on_heartbeat_timer(now),
                Timer::Reconfig => self.on_reconfig_timer(now),
                Timer::LossDetection => self.on_loss_timer(now),
                Timer::Pmtu => self.on_pmtu_timer(now),
            }
            if self.finished {
                break;
            }
        }
        self.after_progress(now);
    }

    fn on_t3(&mut self, now: Instant) {
        if !self.sender.has_outstanding() {
            return;
        }
        // RFC 8985 §7.2: when the RTO comes before the probe timeout (a lone packet's PTO includes
        // the peer's delayed-SACK allowance, which RTO.Min does not exceed), the tail loss probe
        // goes out in the RTO's place; only a second expiry is a real timeout.
        if self.is_established() && self.sender.may_probe_instead_of_rto() && self.sender.start_probe(now) {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
            self.arm_loss_timer(now);
            return;
        }
        self.stats.t3_expirations += 1;
        tracing::debug!(
            rto = ?self.rto.rto(),
            cwnd = self.sender.cwnd(),
            flight = self.sender.flight_size,
            "SCTP T3-rtx expired"
        );
        if self.count_error() {
            return;
        }
        if self.pmtu_on_t3(now) {
            return;
        }
        self.rto.back_off();
        self.sender.expire_outstanding(now);
        self.sender.on_t3_expired(now);
        self.timers.stop(Timer::LossDetection);
        self.drain_sender_events();
        self.timers.set(Timer::T3Rtx, now + self.rto.rto());
    }

    fn on_heartbeat_timer(&mut self, now: Instant) {
        if !self.is_established() {
            return;
        }
        if self.heartbeat_nonce.is_some() {
            // The previous HEARTBEAT went unanswered (RFC 9260 §8.3).
            if self.count_error() {
                return;
            }
            self.rto.back_off();
        }
        let nonce = self.rng.u64();
        self.heartbeat_nonce = Some(nonce);
        let ms = now.saturating_duration_since(self.epoch).as_millis() as u64;
        let mut out = Vec::new();
        crate::chunk::encode_heartbeat(
            &mut out,
            crate::chunk::ty::HEARTBEAT,
            &[&ms.to_be_bytes(), &nonce.to_be_bytes()],
        );
        self.queue_ctrl(out);
        self.timers.set(
            Timer::Heartbeat,
            now + self.rto.rto() + self.config.heartbeat_interval,
        );
    }

    /// Counts one timeout against Association.Max.Retrans (RFC 9260 §8.1); true when it aborted.
    pub(crate) fn count_error(&mut self) -> bool {
        self.error_count += 1;
        if self.error_count > self.config.max_association_retransmits {
            tracing::warn!(
                timeouts = self.error_count,
                "SCTP: the peer stopped answering; aborting the association (RFC 9260 §8.1)"
            );
            self.send_abort(
                crate::param::cause::PROTOCOL_VIOLATION,
                b"too many retransmissions",
            );
            self.terminate(SctpEvent::Aborted(
                "peer unreachable: too many retransmissions".into(),
            ));
            return true;
        }
        false
    }

    /// Bookkeeping after any input: deliver, shut down when drained, keep timers armed.
    pub(crate) fn after_progress(&mut self, now: Instant) {
        self.deliver_ready();
        self.drain_sender_events();
        self.check_shutdown(now);
        if self.state == State::Established {
            self.pmtu_start(now); // once: a no-op after the first call
        }
        if self.is_established() && !self.timers.is_running(Timer::Heartbeat) {
            self.timers.set(
                Timer::Heartbeat,
                now + self.rto.rto() + self.config.heartbeat_interval,
            );
        }
        self.refresh_stats();
    }

    fn refresh_stats(&mut self) {
        self.stats.srtt = self.rto.srtt();
        self.stats.rto = self.rto.rto();
        self.stats.cwnd = self.sender.cwnd();
        self.stats.ssthresh = self.sender.ssthresh();
        self.stats.peer_rwnd = self.sender.peer_rwnd;
        self.stats.flight_size = self.sender.flight_size;
        self.stats.local_rwnd = self
            .receiver
            .as_ref()
            .map_or(0, |r| r.a_rwnd(self.undelivered + self.app_backlog) as usize);
        self.stats.retransmissions = self.sender.retransmissions;
        self.stats.rack_losses = self.sender.rack_losses;
        self.stats.loss_probes = self.sender.loss_probes;
        self.stats.peer_reported_duplicates = self.sender.peer_duplicates;
        self.stats.spurious_recoveries = self.sender.spurious_recoveries;
        self.stats.abandoned_messages = self.sender.abandoned_messages;
        self.stats.drops.message_too_large = self
            .receiver
            .as_ref()
            .map_or(self.stats.drops.message_too_large, |r| r.messages_too_large);
        self.stats.ssn_gaps_skipped = self
            .receiver
            .as_ref()
            .map_or(self.stats.ssn_gaps_skipped, |r| r.ssn_gaps_skipped);
    }

    /// Moves to CLOSED and reports `event` once.
    pub(crate) fn terminate(&mut self, event: SctpEvent) {
        if self.finished {
            return;
        }
        self.state = State::Closed;
        self.finished = true;
        self.timers.stop_all();
        self.events.push_back(event);
    }

    /// Queues an ABORT with one error cause (RFC 9260 §9.1).
    pub(crate) fn send_abort(&mut self, cause: u16, info: &[u8]) {
        if !self.peer_known {
            return;
        }
        let mut causes = Vec::new();
        crate::param::put_cause(&mut causes, cause, info);
        let mut out = Vec::new();
        crate::chunk::encode_raw(&mut out, crate::chunk::ty::ABORT, 0, &causes);
        self.ctrl.clear();
        self.ctrl.push_back(Ctrl {
            vtag: self.peer.tag,
            bytes: out,
            alone: true,
        });
    }

    /// Queues a control chunk for the peer.
    pub(crate) fn queue_ctrl(&mut self, bytes: Vec<u8>) {
        self.ctrl.push_back(Ctrl {
            vtag: self.peer.tag,
            bytes,
            alone: false,
        });
    }

    /// Queues a message (RFC 9260 §11.1.5). Fails for empty or oversized messages, unknown streams, a
    /// full send buffer, or an association that is not (or no longer) established. The bytes are
    /// copied; [`send_bytes`](Self::send_bytes) takes a message without copying it.
    pub fn send(
        &mut self,
        now: Instant,
        stream: StreamId,
        ppid: Ppid,
        data: &[u8],
        opts: SendOptions,
    ) -> Result<(), SctpError> {
        self.check_send(stream, data.len())?;
        self.enqueue(now, stream, ppid, bytes::Bytes::copy_from_slice(data), opts);
        Ok(())
    }

    /// [`send`](Self::send) for a message the caller already holds as [`bytes::Bytes`]: it is queued
    /// and cut into DATA chunks without being copied.
    pub fn send_bytes(
        &mut self,
        now: Instant,
        stream: StreamId,
        ppid: Ppid,
        data: bytes::Bytes,
        opts: SendOptions,
    ) -> Result<(), SctpError> {
        self.check_send(stream, data.len())?;
        self.enqueue(now, stream, ppid, data, opts);
        Ok(())
    }

    fn check_send(&self, stream: StreamId, len: usize) -> Result<(), SctpError> {
        if len == 0 {
            return Err(SctpError::EmptyMessage);
        }
        if len > self.config.max_message_size {
            return Err(SctpError::MessageTooLarge {
                size: len,
                max: self.config.max_message_size,
            });
        }
        if !matches!(
            self.state,
            State::Established | State::CookieWait | State::CookieEchoed
        ) {
            return Err(SctpError::NotEstablished);
        }
        if self.receiver.is_some() && stream.0 >= self.peer.outbound_streams {
            return Err(SctpError::InvalidStream(stream.0));
        }
        let buffered = self.sender.total_buffered();
        if buffered + len > self.config.max_send_buffer {
            return Err(SctpError::WouldBlock {
                buffered,
                max: self.config.max_send_buffer,
            });
        }
        Ok(())
    }

    fn enqueue(&mut self, now: Instant, stream: StreamId, ppid: Ppid, data: bytes::Bytes, opts: SendOptions) {
        let hold = self.reconfig.is_resetting(stream.0);
        self.burst_left = self.sender.max_burst;
        self.sender.enqueue(now, stream.0, ppid.0, data, opts, hold);
        self.stats.messages_sent += 1;
    }

    /// The next event, if any. Reading messages can reopen the receive window: call
    /// [`poll_transmit`](Self::poll_transmit) afterwards, as after every other call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SctpEvent> {
        let e = self.events.pop_front()?;
        if let SctpEvent::Message { data, .. } = &e {
            self.undelivered = self.undelivered.saturating_sub(data.len());
            self.window_update();
        }
        Some(e)
    }

    /// Tells the association how many bytes of already delivered messages the application still
    /// holds unread (an async layer's per-channel queues, say). They count against the receive window
    /// like undelivered messages do (RFC 9260 §6.2), so a reader that stops reading closes the window
    /// and the peer stops sending, instead of memory growing without bound. When the backlog shrinks
    /// enough to reopen the window a SACK announcing it goes out at the next `poll_transmit`.
    pub fn set_application_backlog(&mut self, bytes: usize) {
        if bytes == self.app_backlog {
            return;
        }
        self.app_backlog = bytes;
        self.window_update();
    }

    /// RFC 9260 §6.2: once the application has read enough to reopen a window we advertised as
    /// (nearly) closed, tell the peer with a SACK at the next `poll_transmit`.
    fn window_update(&mut self) {
        let Some(r) = self.receiver.as_ref() else { return };
        let now_open = r.a_rwnd(self.undelivered + self.app_backlog);
        self.stats.local_rwnd = now_open as usize;
        let step = (self.config.receive_window / 4).max(self.config.mtu as u32);
        if now_open >= self.last_advertised_rwnd.saturating_add(step) {
            self.sack_now = true;
            self.sack_needed = true;
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Outgoing streams we may use: our request capped by the peer's MIS (RFC 9260 §5.1.1); 0 before
    /// the handshake.
    pub fn outbound_streams(&self) -> u16 {
        self.peer.outbound_streams
    }

    /// Nothing queued, held or in flight: every message sent so far was acknowledged or abandoned.
    pub fn is_idle(&self) -> bool {
        self.sender.is_idle()
    }

    /// Frees what an idle association kept from its last burst: the capacity of its empty send,
    /// retransmission, control and delivery queues and its packet scratch buffer. Call it when
    /// [`Association::is_idle`] and traffic has stopped for a while; the next burst allocates again.
    pub fn release_idle_buffers(&mut self) {
        if !self.is_idle() {
            return;
        }
        self.sender.release_idle_buffers();
        if let Some(receiver) = self.receiver.as_mut() {
            receiver.release_idle_buffers();
        }
        if self.ctrl.is_empty() {
            self.ctrl = VecDeque::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        self.scratch = Vec::new();
    }

    /// Bytes queued or in flight on `stream`, not yet acknowledged or abandoned.
    pub fn buffered_amount(&self, stream: StreamId) -> usize {
        self.sender.buffered_amount(stream.0)
    }

    /// Sets the level at or below which [`SctpEvent::BufferedAmountLow`] fires for `stream`.
    pub fn set_buffered_amount_low_threshold(&mut self, stream: StreamId, bytes: usize) {
        self.sender.set_low_threshold(stream.0, bytes);
    }

    /// Starts a graceful shutdown (RFC 9260 §9.2): SHUTDOWN goes out once all queued data is acked.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            State::CookieWait | State::CookieEchoed => self.terminate(SctpEvent::Closed),
            State::Established => {
                self.state = State::ShutdownPending;
                self.shutdown_requested = true;
                self.check_shutdown(now);
            }
            _ => {}
        }
    }

    /// Aborts the association (RFC 9260 §9.1): sends ABORT with "User-Initiated Abort".
    pub fn abort(&mut self, _now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.send_abort(crate::param::cause::USER_ABORT, b"");
        self.terminate(SctpEvent::Aborted("aborted locally".into()));
    }

    /// The error causes of the ABORT the peer sent (RFC 9260 §3.3.7, §3.3.10), once it aborted the
    /// association; `None` while it has not (and when the association ended any other way). Empty
    /// when the ABORT carried no cause.
    pub fn peer_abort_causes(&self) -> Option<&[crate::ErrorCause]> {
        self.peer_abort.as_deref()
    }

    /// The association is ESTABLISHED (or shutting down with data still flowing).
    pub fn is_established(&self) -> bool {
        matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived | State::ShutdownSent
        )
    }

    /// Counters and congestion state.
    pub fn stats(&self) -> &SctpStats {
        &self.stats
    }

    /// The smoothed RTT, once measured (RFC 9260 §6.3.1).
    pub fn rtt(&self) -> Option<Duration> {
        self.rto.srtt()
    }

    /// Milliseconds since this association was created (the cookie clock).
    pub(crate) fn clock_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }
}

/// Cap on accumulated Max.Burst credit (packets).
pub(crate) const MAX_BURST_CREDIT: usize = 256;

/// Whether to go on with the packet's next chunk.
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// What the chunks of one packet call for once it is handled (RFC 9260 §6.2).
#[derive(Debug, Default)]
struct DataSeen {
    /// DATA or FORWARD TSN arrived: a SACK is due, now or delayed.
    had_data: bool,
    /// The SACK should go at once (the I bit, RFC 7053 §4, or a FORWARD TSN).
    immediate: bool,
}

/// What our side of the association is known by, drawn once: the key of our state cookies'
/// HMAC, a non-zero random verification tag and a random initial TSN (RFC 9260 §5.3.1).
struct Identity {
    cookie_secret: [u8; 32],
    tag: u32,
    initial_tsn: u32,
}

impl Identity {
    fn generate(rng: &mut SecureRng) -> Self {
        let mut cookie_secret = [0u8; 32];
        rng.fill(&mut cookie_secret);
        // RFC 9260 §5.3.1: a non-zero random tag; a random initial TSN.
        let tag = loop {
            let t = rng.u32();
            if t != 0 {
                break t;
            }
        };
        let initial_tsn = rng.u32();
        Self {
            cookie_secret,
            tag,
            initial_tsn,
        }
    }
}
