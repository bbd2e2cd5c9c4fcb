//! [`Rtc`]: one peer connection, sans-IO. ICE → DTLS → SCTP → data channels, routed by first byte.

mod channels;
mod ending;
mod feedback;
mod media;
mod negotiate;
mod pump;
mod relay;
mod rtcp;
mod send;
mod set_local;
mod transceivers;
mod transmit;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_crypto::{
    default_provider, CryptoProvider, DtlsCertificate, EcdhePrivateKey, Fingerprint, NamedGroup, SecureRng,
};
use oxirtc_dtls::{CipherSuite, Dtls, Role, SrtpProfile};
use oxirtc_ice::{IceAgent, IceConnectionState, IceStats};
use oxirtc_sctp::Association;

pub use channels::Channel;
pub use relay::{IceTransportPolicy, TurnServerConfig, TurnStream, TurnTransport};
pub use transmit::TransmitInfo;

use crate::channel::{ChannelId, Channels};
use crate::demux::{classify, PacketKind};
use crate::jsep::local::LocalSection;
use crate::jsep::remote::RemoteParams;
use crate::jsep::{Description, SignalingState};
use crate::{RtcConfig, RtcError, RtcEvent};

/// A datagram to send: from the local socket `source` to `destination`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Local address (socket) to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// The UDP payload.
    pub contents: Vec<u8>,
}

/// W3C `RTCPeerConnectionState`: the combined state of ICE and DTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerConnectionState {
    /// Nothing started yet.
    New,
    /// ICE checks or the DTLS handshake are running.
    Connecting,
    /// ICE has a pair and DTLS is up with the verified peer.
    Connected,
    /// ICE lost consent for a while; it may come back.
    Disconnected,
    /// ICE, DTLS or SCTP failed (e.g. a fingerprint mismatch, a peer's ABORT, consent expired);
    /// nothing will flow. [`Rtc::close_reason`] says why.
    Failed,
    /// [`Rtc::close`] was called, or the peer closed (DTLS close_notify, SCTP User-Initiated
    /// Abort). [`Rtc::close_reason`] says which.
    Closed,
}

/// Counters of one connection (W3C `RTCStatsReport`, the parts that exist for data channels).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtcStats {
    /// Datagrams received, by kind.
    pub stun_received: u64,
    /// DTLS datagrams received.
    pub dtls_received: u64,
    /// Datagrams dropped: unknown first byte, RTP (no media yet), ZRTP, or DTLS beyond the early buffer.
    pub dropped_datagrams: u64,
    /// DTLS datagrams from an address that is no ICE remote candidate (signaled, or learned from an
    /// authenticated check): not from our peer, dropped before DTLS parses them.
    pub dropped_unknown_source: u64,
    /// DCEP messages that failed to parse or arrived on a stream where they make no sense.
    pub dropped_dcep: u64,
    /// User messages on a stream with no channel.
    pub dropped_messages: u64,
    /// Peer OPENs refused because of [`RtcConfig::max_channels`] or a stream id of our parity.
    pub refused_channels: u64,
    /// Datagrams sent.
    pub datagrams_sent: u64,
    /// Bytes sent (UDP payload).
    pub bytes_sent: u64,
    /// Bytes received (UDP payload).
    pub bytes_received: u64,
    /// RTP packets received, authenticated and routed to a section.
    pub rtp_received: u64,
    /// SRTCP packets received and authenticated.
    pub rtcp_received: u64,
    /// SRTCP packets sent.
    pub rtcp_sent: u64,
    /// RTP packets sent (SRTP-protected), retransmissions included.
    pub rtp_sent: u64,
    /// RTX packets that carried nothing usable: padding-only probes (RFC 4588 §4 allows them for
    /// bandwidth probing) or repairs of a stream not heard yet.
    pub rtx_unusable: u64,
    /// Authenticated RTCP packets that do not parse (RFC 3550 §6.4): the rest of their compound is
    /// skipped.
    pub rtcp_malformed: u64,
    /// SRTP/SRTCP packets that failed authentication, were replays or too old (RFC 3711 §3.3).
    pub srtp_dropped: u64,
    /// Authenticated RTP packets that do not parse (RFC 3550 §5.1).
    pub rtp_malformed: u64,
    /// RTP packets routed to no section we receive (RFC 8843 §9.2: unknown MID, SSRC and payload type).
    pub rtp_unroutable: u64,
}

/// One peer connection (W3C `RTCPeerConnection`) as a sans-IO state machine: the owner feeds it
/// datagrams (`handle_receive`) and time (`handle_timeout`), and drains `poll_transmit`,
/// `poll_event` and `poll_timeout` after every call. The crate docs have the whole run loop; this
/// is two peers negotiating:
///
/// ```
/// use std::time::Instant;
/// use oxirtc::{DataChannelInit, Rtc, RtcConfig, SignalingState};
///
/// # fn main() -> Result<(), oxirtc::RtcError> {
/// let now = Instant::now();
/// let mut a = Rtc::new(RtcConfig::default())?;
/// let mut b = Rtc::new(RtcConfig::default())?;
/// a.add_host_candidate(now, "127.0.0.1:5000".parse().unwrap())?;
/// b.add_host_candidate(now, "127.0.0.1:6000".parse().unwrap())?;
/// let chat = a.create_data_channel(now, "chat", DataChannelInit::default())?;
/// let offer = a.create_offer(now)?;
/// a.set_local_description(now, &offer)?;
/// b.set_remote_description(now, &offer)?; // the offer travelled over signaling
/// let answer = b.set_local_description_implicit(now)?; // creates and applies the answer
/// a.set_remote_description(now, &answer)?;
/// assert_eq!(a.signaling_state(), SignalingState::Stable);
/// // Now move a's `poll_transmit` datagrams to b's `handle_receive` and back until
/// // `RtcEvent::ChannelOpen(chat)` comes out of `a.poll_event()`.
/// # let _ = chat;
/// # Ok(()) }
/// ```
pub struct Rtc {
    pub(crate) config: RtcConfig,
    pub(crate) crypto: &'static dyn CryptoProvider,
    pub(crate) rng: SecureRng,
    /// Our certificate and key until the DTLS endpoint takes them; it drops them once its
    /// handshake completes, so an established connection holds neither (issue 15).
    pub(crate) certificate: Option<Arc<DtlsCertificate>>,
    pub(crate) fingerprint: Fingerprint,
    /// The DTLS handshake's ephemeral X25519 key, generated with the connection so that the
    /// handshake does not wait for it (`Dtls::set_spare_ecdhe_key`); `None` once handed over.
    pub(crate) spare_ecdhe: Option<EcdhePrivateKey>,
    pub(crate) ice: IceAgent,
    pub(crate) local_candidates: Vec<String>,
    pub(crate) gathering_complete: bool,
    pub(crate) signaling: SignalingState,
    pub(crate) session_id: u64,
    pub(crate) session_version: u64,
    pub(crate) sections: Vec<LocalSection>,
    pub(crate) created: Option<Description>,
    pub(crate) created_setup: Option<(crate::SdpType, oxirtc_sdp::Setup)>,
    pub(crate) applied_setup: Option<(crate::SdpType, oxirtc_sdp::Setup)>,
    /// ICE's own (server-reflexive) gathering is done; relayed gathering is tracked by the TURN slots.
    pub(crate) ice_gathered: bool,
    pub(crate) remote: Option<RemoteParams>,
    /// The remote offer while we have not answered (boxed: `None` for the life of most connections).
    pub(crate) pending_remote: Option<Box<RemoteParams>>,
    pub(crate) ice_role_set: bool,
    pub(crate) dtls_role: Option<Role>,
    pub(crate) dtls: Option<Dtls>,
    pub(crate) dtls_started: bool,
    /// We answered as DTLS client: the ClientHello waits for proof that the offerer has our answer
    /// (see [`Rtc::maybe_start_dtls`]).
    pub(crate) dtls_waits_for_peer_check: bool,
    pub(crate) early_dtls: VecDeque<Vec<u8>>,
    pub(crate) last_dtls_path: Option<(SocketAddr, SocketAddr)>,
    pub(crate) sctp: Option<Association>,
    /// SRTP and RTP routing, once DTLS agreed an SRTP profile and a media section exists. Boxed:
    /// its keys are several KiB inline, which a data-only connection should not carry.
    pub(crate) media: Option<Box<media::MediaSession>>,
    /// Our audio and video transceivers, in the order they were made.
    pub(crate) transceivers: Vec<transceivers::Transceiver>,
    /// Changes to what we may send (descriptions applied, tracks removed, directions changed):
    /// what was negotiated for sending is recomputed when this changes.
    pub(crate) negotiations: u32,
    /// The number of the next transceiver.
    pub(crate) next_transceiver: u32,
    /// RFC 3550 §4 NTP time at an instant, from `set_wallclock` or the first report.
    pub(crate) ntp_origin: Option<(Instant, u64)>,
    /// Our RTCP CNAME (RFC 7022: random per connection), as a number written in hex.
    pub(crate) cname: u64,
    /// Mids of the receiving sections already announced with [`RtcEvent::Track`].
    pub(crate) announced_tracks: Vec<String>,
    /// Reused buffer for SCTP packets on their way into DTLS records (no allocation per packet).
    pub(crate) sctp_packet: Vec<u8>,
    pub(crate) channels: Channels,
    pub(crate) events: VecDeque<RtcEvent>,
    /// Payload bytes of `ChannelMessage` events in `events`, and bytes the application says it still
    /// holds ([`Rtc::set_receive_backlog`]): both count against the SCTP receive window.
    pub(crate) queued_message_bytes: usize,
    pub(crate) application_backlog: usize,
    pub(crate) out: VecDeque<Transmit>,
    pub(crate) ice_state: IceConnectionState,
    pub(crate) state: PeerConnectionState,
    pub(crate) dtls_connected: bool,
    pub(crate) stats: RtcStats,
    /// Why the connection ended, once it has (see `rtc/ending.rs`).
    pub(crate) close_reason: Option<crate::CloseReason>,
    pub(crate) turn: Vec<relay::TurnSlot>,
    /// A wake-up [`IDLE_RELEASE`] after the first datagram received since the last one, so that a
    /// connection that goes quiet gets a timer on which to give its buffers back; `None` when not
    /// armed. The release itself runs on any timer that finds the connection idle.
    pub(crate) release_at: Option<Instant>,
}

/// Delay of the idle-release wake-up after a datagram arrives (see `Rtc::release_at`): a connection
/// that went quiet gives back its packet-sized scratch buffers and the spare capacity of its queues
/// within about this long after its traffic stopped, and then holds only its state.
const IDLE_RELEASE: Duration = Duration::from_millis(100);

impl Rtc {
    /// A new connection with a fresh self-signed certificate.
    pub fn new(config: RtcConfig) -> Result<Rtc, RtcError> {
        let crypto = default_provider();
        let certificate = Arc::new(crypto.self_signed_certificate()?);
        Rtc::with_certificate(config, certificate)
    }

    /// A new connection presenting `certificate` (W3C `RTCConfiguration.certificates`).
    pub fn with_certificate(
        mut config: RtcConfig,
        certificate: Arc<DtlsCertificate>,
    ) -> Result<Rtc, RtcError> {
        let crypto = default_provider();
        let mut rng = match config.rng_seed {
            Some(seed) => SecureRng::from_seed(seed),
            None => SecureRng::from_os(crypto)?,
        };
        // Handshake datagrams fit BASE_PLPMTU on any pair (RFC 8899 §5.1.2): IPv4 plus TURN framing.
        // SCTP sizes follow once a pair is selected (pump.rs).
        config.dtls.mtu = config.dtls.mtu.min(config.path_mtu.dtls_datagram());
        config.sctp.max_message_size = usize::try_from(config.max_message_size).unwrap_or(usize::MAX);
        let ice = IceAgent::new(config.ice.clone(), crypto, rng.fork());
        // RFC 8829 §5.2.1: a 62-bit random session id.
        let session_id = rng.u64() >> 2;
        let cname = rng.u64();
        let ice_gathered = config.ice.stun_servers.is_empty();
        // Not fatal: the handshake generates one itself if this failed.
        let spare_ecdhe = crypto.ecdhe_generate(NamedGroup::X25519).ok();
        Ok(Rtc {
            fingerprint: certificate.fingerprint(),
            spare_ecdhe,
            certificate: Some(certificate),
            crypto,
            rng,
            ice,
            config,
            local_candidates: Vec::new(),
            gathering_complete: false,
            signaling: SignalingState::Stable,
            session_id,
            session_version: 0,
            sections: Vec::new(),
            created: None,
            created_setup: None,
            applied_setup: None,
            ice_gathered,
            remote: None,
            pending_remote: None,
            ice_role_set: false,
            dtls_role: None,
            dtls: None,
            dtls_started: false,
            dtls_waits_for_peer_check: false,
            early_dtls: VecDeque::new(),
            last_dtls_path: None,
            sctp: None,
            media: None,
            transceivers: Vec::new(),
            next_transceiver: 0,
            negotiations: 0,
            cname,
            ntp_origin: None,
            announced_tracks: Vec::new(),
            sctp_packet: Vec::new(),
            channels: Channels::default(),
            events: VecDeque::new(),
            queued_message_bytes: 0,
            application_backlog: 0,
            out: VecDeque::new(),
            ice_state: IceConnectionState::New,
            state: PeerConnectionState::New,
            dtls_connected: false,
            stats: RtcStats::default(),
            close_reason: None,
            turn: Vec::new(),
            release_at: None,
        })
    }

    /// Adds a host candidate for a local socket address (the driver calls this per bound socket).
    /// With [`IceTransportPolicy::Relay`] the address is used only to reach TURN servers. Allocations
    /// start on every configured TURN server of the address's family.
    pub fn add_host_candidate(&mut self, now: Instant, addr: SocketAddr) -> Result<(), RtcError> {
        if self.config.ice_transport_policy == IceTransportPolicy::All {
            self.ice.add_host(now, addr)?;
            self.refresh_local_candidates();
        }
        self.start_turn(now, addr);
        self.pump(now);
        Ok(())
    }

    /// Our certificate's fingerprint, as in our `a=fingerprint`.
    pub fn local_fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// A datagram arrived on local socket `destination` from `source`. Anything malformed is dropped
    /// and counted in [`Rtc::stats`]; nothing from the network can panic or tear down the connection.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, destination: SocketAddr, data: &[u8]) {
        self.stats.bytes_received += data.len() as u64;
        if self.release_at.is_none() {
            self.release_at = now.checked_add(IDLE_RELEASE);
        }
        if !self.receive_turn(now, source, destination, data) {
            self.receive_datagram(now, source, destination, data);
        }
        self.pump(now);
    }

    /// Routes one datagram (received directly, or relayed by a TURN server to a relayed address).
    pub(crate) fn receive_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        match classify(data) {
            // RFC 7983 §7: 0..3 is STUN.
            PacketKind::Stun => {
                self.stats.stun_received += 1;
                self.ice.handle_receive(now, source, destination, data);
            }
            // RFC 7983 §7: 20..63 is DTLS.
            PacketKind::Dtls => {
                self.stats.dtls_received += 1;
                // Only our ICE peer may speak DTLS to us: data from an address ICE has not seen in a
                // candidate or an authenticated check (RFC 8445 §7.3.1.3) is dropped, as browsers do.
                // An off-path ClientHello flood so never reaches the handshake, and nobody but the peer
                // can steer where our DTLS answers go before a pair is selected.
                if !self.ice.is_remote_address(source) {
                    self.stats.dropped_unknown_source += 1;
                    tracing::trace!(%source, "rtc: DTLS from an address ICE does not know dropped");
                    return;
                }
                self.last_dtls_path = Some((destination, source));
                self.receive_dtls(now, source, data);
            }
            // RFC 7983 §7: 128..191 is RTP/RTCP; like DTLS, only from our ICE peer.
            PacketKind::Rtp if self.ice.is_remote_address(source) => self.receive_srtp(now, data),
            PacketKind::Zrtp | PacketKind::TurnChannel | PacketKind::Rtp | PacketKind::Unknown => {
                tracing::trace!(%source, first = data.first(), "rtc: dropping datagram of no known use");
                self.stats.dropped_datagrams += 1;
            }
        }
    }

    /// Advances timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ice.handle_timeout(now);
        if let Some(d) = self.dtls.as_mut() {
            d.handle_timeout(now);
        }
        if let Some(s) = self.sctp.as_mut() {
            s.handle_timeout(now);
        }
        for slot in &mut self.turn {
            slot.client.handle_timeout(now);
        }
        self.send_twcc_feedback(now);
        self.send_due_rtcp(now);
        self.pump(now);
        if self.release_at.is_some_and(|t| now >= t) {
            // Re-armed by the next datagram; an idle connection gets no further wake-ups for this.
            self.release_at = None;
        }
        self.release_idle_buffers();
    }

    /// A timer fired and nothing is queued or in flight: give back the packet-sized scratch
    /// buffers (SCTP packet, DTLS plaintext) that a burst of traffic reuses and the spare capacity
    /// of emptied queues, so an idle connection holds no more than it needs. The next burst
    /// allocates them once again.
    fn release_idle_buffers(&mut self) {
        let Some(sctp) = self.sctp.as_mut() else {
            return;
        };
        if !sctp.is_idle() || !self.out.is_empty() {
            return;
        }
        sctp.release_idle_buffers();
        self.sctp_packet = Vec::new();
        if let Some(d) = self.dtls.as_mut() {
            d.release_idle_buffers();
        }
        self.ice.release_idle_buffers();
        self.out = VecDeque::new();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
    }

    /// The next datagram to send. Drain until `None` after every `handle_*` and API call.
    /// [`Rtc::poll_transmit_into`] does the same without allocating a buffer per datagram.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let mut contents = Vec::new();
        let info = self.poll_transmit_into(now, &mut contents)?;
        Some(Transmit {
            source: info.source,
            destination: info.destination,
            contents,
        })
    }

    /// The next event. Drain until `None` after every `handle_*` and API call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RtcEvent> {
        let ev = self.events.pop_front()?;
        if let RtcEvent::ChannelMessage { data, .. } = &ev {
            self.queued_message_bytes = self.queued_message_bytes.saturating_sub(data.len());
            self.sync_receive_backlog();
        }
        Some(ev)
    }

    /// Bytes of received messages the application has taken from [`Rtc::poll_event`] but not
    /// consumed yet (an async layer's per-channel queues). Received messages are counted against the
    /// SCTP receive window until they are polled *and* no longer reported here, so a reader that
    /// stops reading stops the sender (RFC 9260 §6.2) instead of growing memory without bound.
    /// The window is shared by all channels: a channel nobody reads eventually stalls the others.
    pub fn set_receive_backlog(&mut self, bytes: usize) {
        self.application_backlog = bytes;
        self.sync_receive_backlog();
    }

    /// Tells SCTP how much received data sits above it, unread.
    pub(crate) fn sync_receive_backlog(&mut self) {
        let held = self.queued_message_bytes + self.application_backlog;
        if let Some(sctp) = self.sctp.as_mut() {
            sctp.set_application_backlog(held);
        }
    }

    /// When [`Rtc::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(Dtls::poll_timeout),
            self.sctp.as_ref().and_then(Association::poll_timeout),
            self.release_at,
            self.rtcp_timeout(),
        ]
        .into_iter()
        .chain(self.turn.iter().map(|s| s.client.poll_timeout()))
        .flatten()
        .min()
    }

    /// The combined connection state.
    pub fn state(&self) -> PeerConnectionState {
        self.state
    }

    /// The ICE connection state.
    pub fn ice_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// The signaling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.signaling
    }

    /// The selected candidate pair `(local, remote)`, once ICE has one.
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.ice.selected_pair()
    }

    /// Our DTLS role, once negotiated (RFC 8842 §5.1).
    pub fn dtls_role(&self) -> Option<Role> {
        self.dtls_role
    }

    /// The DTLS cipher suite, once connected.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.dtls.as_ref().and_then(Dtls::cipher_suite)
    }

    /// The negotiated DTLS-SRTP profile, if any (RFC 5764 §4.1.2).
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.dtls.as_ref().and_then(Dtls::srtp_profile)
    }

    /// Round-trip time measured by SCTP, once known.
    pub fn rtt(&self) -> Option<Duration> {
        self.sctp.as_ref().and_then(Association::rtt)
    }

    /// Connection counters.
    pub fn stats(&self) -> &RtcStats {
        &self.stats
    }

    /// ICE counters (checks, drops).
    pub fn ice_stats(&self) -> &IceStats {
        self.ice.stats()
    }

    /// DTLS counters, once DTLS exists.
    pub fn dtls_stats(&self) -> Option<&oxirtc_dtls::DtlsStats> {
        self.dtls.as_ref().map(Dtls::stats)
    }

    /// SCTP counters, once the association exists.
    pub fn sctp_stats(&self) -> Option<&oxirtc_sctp::SctpStats> {
        self.sctp.as_ref().map(Association::stats)
    }

    /// The channels that exist now (open, connecting or closing).
    pub fn channel_ids(&self) -> Vec<ChannelId> {
        self.channels.entries.keys().copied().collect()
    }

    pub(crate) fn set_state(&mut self, state: PeerConnectionState) {
        // An ended connection stays failed or closed (`Rtc::close` moves it from one to the other).
        let ended = self.close_reason.is_some()
            && !matches!(state, PeerConnectionState::Failed | PeerConnectionState::Closed);
        if self.state != state && self.state != PeerConnectionState::Closed && !ended {
            self.state = state;
            self.events.push_back(RtcEvent::ConnectionState(state));
        }
    }
}
