//! [`PeerConnection`]: the W3C-shaped handle of one connection, backed by a driver task.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use oxirtc::{
    ChannelId, ChannelStats, CipherSuite, CloseReason, DataChannelInit, Description, DtlsRole,
    IceTransportPolicy, PeerConnectionState, Rtc, RtcStats, SrtpProfile, TurnServerConfig, TurnTransport,
};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use crate::connection_events::{event_queue, EventReader};
use crate::driver::{Command, Driver, DriverLinks};
use crate::queue;
use crate::watch;
use crate::{Config, DataChannel, DroppedEvents, Error, PeerConnectionEvent, PeerConnectionEvents};

/// A snapshot of a connection's figures.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Connection counters.
    pub rtc: RtcStats,
    /// Connection state.
    pub state: PeerConnectionState,
    /// The selected pair `(local, remote)`.
    pub selected_pair: Option<(SocketAddr, SocketAddr)>,
    /// SCTP's smoothed RTT.
    pub rtt: Option<Duration>,
    /// DTLS role.
    pub dtls_role: Option<DtlsRole>,
    /// DTLS cipher suite.
    pub cipher_suite: Option<CipherSuite>,
    /// DTLS-SRTP profile.
    pub srtp_profile: Option<SrtpProfile>,
    /// Per open channel: id, label, counters.
    pub channels: Vec<(ChannelId, String, ChannelStats)>,
    /// Audio and video streams (W3C inbound-rtp, outbound-rtp, remote-inbound-rtp).
    pub media: oxirtc::media::MediaStats,
}

impl Stats {
    pub(crate) fn collect(rtc: &mut Rtc) -> Stats {
        let mut channels = Vec::new();
        for id in rtc.channel_ids() {
            if let Some(ch) = rtc.channel(id) {
                channels.push((id, ch.label().to_owned(), ch.stats()));
            }
        }
        Stats {
            rtc: rtc.stats().clone(),
            state: rtc.state(),
            selected_pair: rtc.selected_pair(),
            rtt: rtc.rtt(),
            dtls_role: rtc.dtls_role(),
            cipher_suite: rtc.cipher_suite(),
            srtp_profile: rtc.srtp_profile(),
            channels,
            media: rtc.media_stats(),
        }
    }
}

/// One peer connection (W3C `RTCPeerConnection`), run by a task that owns its sockets.
///
/// A cheap handle: clone it to negotiate, read events and close from different tasks (like quinn's
/// `Connection`); every method takes `&self`. Events come from [`PeerConnection::next_event`] or a
/// [`PeerConnectionEvents`] stream taken with [`PeerConnection::events`]. Dropping every clone and
/// every [`DataChannel`] closes the connection and ends its task and sockets.
///
/// ```no_run
/// use oxirtc_tokio::{Config, DataChannelInit, PeerConnection, PeerConnectionEvent};
///
/// # async fn demo(signal: impl Fn(&str), answer_from_peer: oxirtc_tokio::Description) -> Result<(), oxirtc_tokio::Error> {
/// let pc = PeerConnection::new(Config::default()).await?;
/// let dc = pc.create_data_channel("chat", DataChannelInit::default()).await?;
/// let offer = pc.set_local_description_implicit().await?; // creates and applies the offer
/// signal(&offer.sdp);
/// // Trickle candidates from another task while this one goes on.
/// let events = pc.events();
/// tokio::spawn(async move {
///     while let Some(ev) = events.next().await {
///         if let PeerConnectionEvent::IceCandidate(c) = ev {
///             // send `c` to the peer
/// #           let _ = c;
///         }
///     }
/// });
/// pc.set_remote_description(answer_from_peer).await?;
/// let closer = pc.clone();
/// tokio::spawn(async move {
///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
///     closer.close().await; // ends the connection after a minute
/// });
/// # let _ = dc;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PeerConnection {
    commands: queue::Sender<Command>,
    events: Arc<EventReader>,
    local_addrs: Arc<[SocketAddr]>,
    gathering: watch::Receiver<bool>,
    ended: Arc<OnceLock<CloseReason>>,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("local_addresses", &self.local_addrs)
            .field("close_reason", &self.close_reason())
            .finish()
    }
}

impl PeerConnection {
    /// Binds the sockets, starts the driver task (on the current tokio runtime) and gathers host
    /// candidates.
    pub async fn new(config: Config) -> Result<PeerConnection, Error> {
        let mut rtc_config = config.rtc.clone();
        rtc_config.ice.stun_servers = config.stun_servers.clone();
        rtc_config
            .turn_servers
            .extend(config.turn_servers.iter().cloned());
        if config.ice_transport_policy == IceTransportPolicy::Relay {
            rtc_config.ice_transport_policy = IceTransportPolicy::Relay;
        }
        let mut rtc = Rtc::new(rtc_config)?;
        let mut sockets = Vec::new();
        let now = Instant::now();
        // RTCP sender reports carry wall-clock time (RFC 3550 §4): receivers sync audio to video by it.
        rtc.set_wallclock(now, std::time::SystemTime::now());
        for ip in config.bind_addresses() {
            let socket = match UdpSocket::bind(SocketAddr::new(ip, 0)).await {
                Ok(s) => s,
                Err(e) if config.bind.is_empty() => {
                    tracing::debug!(%ip, error = %e, "skipping an address that cannot be bound");
                    continue;
                }
                Err(e) => return Err(Error::Io(e)),
            };
            enlarge_buffers(&socket);
            let local = socket.local_addr()?;
            rtc.add_host_candidate(now, local)?;
            sockets.push((local, Arc::new(socket)));
        }
        if sockets.is_empty() {
            return Err(Error::Io(std::io::Error::other(
                "no local address could be bound; set Config::bind",
            )));
        }
        let local_addrs: Arc<[SocketAddr]> = sockets.iter().map(|(a, _)| *a).collect();
        let (commands, command_rx) = queue::queue();
        let (event_tx, events) = event_queue(config.event_queue_capacity);
        let (gathering_tx, gathering) = watch::channel(false);
        let ended = Arc::new(OnceLock::new());
        let links = DriverLinks {
            commands: command_rx,
            command_tx: commands.downgrade(),
            events: event_tx,
            gathering: gathering_tx,
            backlog: Arc::new(crate::data_channel::ReceiveBacklog::new(
                config.rtc.sctp.receive_window as usize / 2,
            )),
            ended: ended.clone(),
        };
        let driver = Driver::new(
            rtc,
            sockets,
            links,
            config.send_high_water_mark,
            config.turn_tls_roots.clone(),
            config.udp_batching,
        );
        // Boxed: the task then holds a pointer, not the driver twice over (an async fn keeps its
        // by-value argument and its moved-in copy side by side: 15.9 KB per connection, now 7.3).
        tokio::spawn(Box::new(driver).run());
        Ok(PeerConnection {
            commands,
            events,
            local_addrs,
            gathering,
            ended,
        })
    }

    /// The local socket addresses (one per bound interface address).
    pub fn local_addresses(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Why the connection ended (W3C connection state failed or closed): a peer's SCTP ABORT with
    /// its causes, a fatal DTLS alert received or sent, ICE failing, a close by either side. Set
    /// before the [`PeerConnectionEvent::ConnectionState`] that reports the end is delivered, and
    /// kept after the connection's task has ended. `None` while the connection has not ended.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.ended.get()
    }

    /// The error for a call the driver can no longer answer: why the connection ended, if known.
    fn closed_error(&self) -> Error {
        match self.close_reason() {
            Some(reason) => Error::ConnectionEnded(reason.clone()),
            None => Error::Closed,
        }
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, Error>>) -> Command,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| self.closed_error())?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// W3C `createOffer`.
    pub async fn create_offer(&self) -> Result<Description, Error> {
        self.call(Command::CreateOffer).await
    }

    /// W3C `createAnswer`.
    pub async fn create_answer(&self) -> Result<Description, Error> {
        self.call(Command::CreateAnswer).await
    }

    /// W3C `setLocalDescription(description)`: the offer or answer [`PeerConnection::create_offer`]
    /// / [`PeerConnection::create_answer`] returned (line endings, trailing whitespace and candidate
    /// lines may differ), or an empty `sdp` for the one created last. Any other change is refused
    /// with [`oxirtc::RtcError::DescriptionModified`] naming it; see [`oxirtc::Rtc::set_local_description`].
    pub async fn set_local_description(&self, desc: Description) -> Result<(), Error> {
        self.call(|r| Command::SetLocal(desc, r)).await
    }

    /// W3C `setLocalDescription()` with no argument: creates and applies the offer (stable state)
    /// or the answer (after a remote offer), and returns it for signaling.
    pub async fn set_local_description_implicit(&self) -> Result<Description, Error> {
        self.call(Command::SetLocalImplicit).await
    }

    /// W3C `setRemoteDescription`. Garbage is refused with an error and changes nothing.
    pub async fn set_remote_description(&self, desc: Description) -> Result<(), Error> {
        self.call(|r| Command::SetRemote(desc, r)).await
    }

    /// W3C `addIceCandidate` (`candidate:...`; empty = end of candidates).
    pub async fn add_ice_candidate(&self, candidate: impl Into<String>) -> Result<(), Error> {
        let c = candidate.into();
        self.call(|r| Command::AddCandidate(c, r)).await
    }

    /// Waits until candidate gathering is complete (W3C `iceGatheringState` "complete": host,
    /// server-reflexive and relayed candidates all known), or `limit` passes. Returns whether it completed.
    pub async fn gathering_complete(&self, limit: Duration) -> bool {
        let mut rx = self.gathering.clone();
        tokio::time::timeout(limit, rx.wait_for(|done| done))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// W3C `localDescription`: the applied local description with every candidate gathered so far.
    pub async fn local_description(&self) -> Result<Option<Description>, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::LocalDescription(tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)
    }

    /// W3C `restartIce`: the next offer carries new ICE credentials.
    pub async fn restart_ice(&self) -> Result<(), Error> {
        self.call(Command::RestartIce).await
    }

    /// W3C `createDataChannel`.
    pub async fn create_data_channel(
        &self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<DataChannel, Error> {
        let label = label.to_owned();
        self.call(|r| Command::CreateChannel(Box::new((label, init)), r))
            .await
    }

    /// W3C `addTrack`: a track to send of this kind, under the MediaStream id `stream_id` (`a=msid`).
    /// After a remote offer it takes an offered section of the same kind that nothing sends on yet,
    /// so the answer sends on it; otherwise it adds a section (negotiate again:
    /// [`PeerConnectionEvent::NegotiationNeeded`]).
    pub async fn add_track(
        &self,
        kind: oxirtc::media::TrackKind,
        stream_id: Option<&str>,
    ) -> Result<crate::LocalTrack, Error> {
        let args = crate::driver::AddTrackArgs::Track(stream_id.map(str::to_owned));
        self.call(|r| Command::AddTrack(Box::new((kind, args)), r)).await
    }

    /// W3C `addTransceiver`: a new section with a direction and codec preferences; its
    /// [`crate::LocalTrack`] sends when the direction includes sending.
    pub async fn add_transceiver(
        &self,
        kind: oxirtc::media::TrackKind,
        init: oxirtc::media::TransceiverInit,
    ) -> Result<crate::LocalTrack, Error> {
        let args = crate::driver::AddTrackArgs::Transceiver(init);
        self.call(|r| Command::AddTrack(Box::new((kind, args)), r)).await
    }

    /// W3C `getTransceivers`: every audio/video section, ours and those a remote offer added.
    pub async fn transceivers(&self) -> Result<Vec<oxirtc::media::TransceiverInfo>, Error> {
        self.call(Command::Transceivers).await
    }

    /// The codecs negotiated to receive on the section `mid` (a [`crate::RemoteTrack`]'s), with our
    /// payload types: what its packets' payload types mean.
    pub async fn receive_codecs(&self, mid: &str) -> Result<Vec<oxirtc::media::CodecParameters>, Error> {
        let mid = mid.to_owned();
        self.call(|r| Command::ReceiveCodecs(mid, r)).await
    }

    /// Every codec a transceiver may send with, the peer's preferred first (see
    /// [`oxirtc::Rtc::send_codecs`]).
    pub async fn send_codecs(
        &self,
        id: oxirtc::media::TransceiverId,
    ) -> Result<Vec<oxirtc::media::CodecParameters>, Error> {
        self.call(|r| Command::SendCodecs(id, r)).await
    }

    /// The next event, or `None` once the connection's task has ended. Any clone may read; each
    /// event goes to one reader. Cancel-safe.
    ///
    /// Read events (here or through [`PeerConnection::events`]): unread ones wait in a queue of at
    /// most [`Config::event_queue_capacity`], beyond which the oldest informational ones are dropped
    /// ([`PeerConnection::dropped_events`]).
    pub async fn next_event(&self) -> Option<PeerConnectionEvent> {
        self.events.next().await
    }

    /// The connection's events as a stream of their own, for an event loop in another task
    /// (W3C `onicecandidate`, `ondatachannel`, ... handlers). It shares one queue with
    /// [`PeerConnection::next_event`] and any other stream taken: keep one reader. It does not keep
    /// the connection open.
    pub fn events(&self) -> PeerConnectionEvents {
        PeerConnectionEvents::new(self.events.clone())
    }

    /// Events dropped so far because nobody read them and the queue was full, by kind.
    pub fn dropped_events(&self) -> DroppedEvents {
        self.events.dropped.snapshot()
    }

    /// A snapshot of the figures (W3C `getStats`).
    pub async fn stats(&self) -> Result<Stats, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Stats(tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)
    }

    /// W3C `close`: closes every channel and the connection now.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Parses `turn:IP[:PORT][?transport=udp|tcp]` or `turns:IP[:PORT]` (TLS, default port 5349; the
/// certificate must name the IP) with its credentials. Host names are not resolved here.
pub fn parse_turn_url(url: &str, username: &str, password: &str) -> Option<TurnServerConfig> {
    let (tls, rest) = match url.strip_prefix("turns:") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("turn:")?),
    };
    let (addr, query) = rest.split_once('?').unwrap_or((rest, ""));
    let default_port = if tls { 5349 } else { 3478 };
    let server = addr.parse::<SocketAddr>().ok().or_else(|| {
        addr.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, default_port))
    })?;
    let transport = match (tls, query) {
        (true, "" | "transport=tcp") => TurnTransport::Tls {
            server_name: server.ip().to_string(),
        },
        (false, "" | "transport=udp") => TurnTransport::Udp,
        (false, "transport=tcp") => TurnTransport::Tcp,
        _ => return None,
    };
    Some(TurnServerConfig {
        server,
        username: username.to_owned(),
        password: password.to_owned(),
        transport,
    })
}

/// Socket buffer size asked for in each direction. The default (~208 KiB on Linux) holds ~150
/// full-size datagrams: a burst from a fast peer overflows it while the driver is busy, and each drop
/// costs SCTP a congestion-window cut (or, on an unreliable channel, the message). The kernel caps
/// the request at `net.core.rmem_max` / `wmem_max`.
const SOCKET_BUFFER: usize = 2 * 1024 * 1024;

/// Best effort: a smaller buffer only costs throughput.
fn enlarge_buffers(socket: &UdpSocket) {
    let sock = socket2::SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(error = %e, "could not enlarge the receive buffer");
    }
    if let Err(e) = sock.set_send_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(error = %e, "could not enlarge the send buffer");
    }
}

/// Parses a `stun:host:port` URL with a literal IP (no DNS in this crate yet).
pub fn parse_stun_url(url: &str) -> Option<SocketAddr> {
    let rest = url.strip_prefix("stun:")?;
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Some(addr);
    }
    rest.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 3478))
}
