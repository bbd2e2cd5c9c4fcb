//! webrtc-rs (crates.io `webrtc`) through its async API, as its own examples drive it: non-trickle
//! (wait for gathering to complete), `with_data_channel_send_buffer_limit` for back-pressure.
//!
//! webrtc-rs binds its sockets itself and hands each to its `Runtime` (`wrap_udp_socket`), the
//! documented place to plug socket handling in (`PeerConnectionBuilder::with_runtime`): the bench's
//! runtime is webrtc-rs's own `TokioRuntime` that first sets the socket buffers main.rs picks for the
//! figure (2 MiB like oxirtc-tokio's, or the kernel's default where webrtc-rs is faster with it).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bytes::BytesMut;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState,
};
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime, TokioRuntime,
};

use crate::workload::{cpu_time, expected_crc, judge, Outcome, Pattern, Transfer, Verifier};

/// Bytes queued per channel before `send` waits (the same 1 MiB high-water mark oxirtc uses).
const SEND_BUFFER_LIMIT: usize = 1024 * 1024;

/// SO_RCVBUF / SO_SNDBUF asked for on webrtc-rs's sockets; 0 leaves the kernel's default. Set per
/// figure by main.rs (`competitor_settings`, `--webrtc-socket-buffer`).
static SOCKET_BUFFER: AtomicUsize = AtomicUsize::new(2 * 1024 * 1024);

/// `with_dedicated_reactor_pool_size` (0: drivers are tasks on the ambient runtime, the default;
/// `--webrtc-reactors`).
static REACTORS: AtomicUsize = AtomicUsize::new(0);

/// Socket buffer size webrtc-rs's sockets get (0: the kernel's default).
pub fn set_socket_buffer(bytes: usize) {
    SOCKET_BUFFER.store(bytes, Ordering::Relaxed);
}

/// webrtc-rs's dedicated reactor pool size (0: off, its default).
pub fn set_reactors(n: usize) {
    REACTORS.store(n, Ordering::Relaxed);
}

/// webrtc-rs's `TokioRuntime`, except that every UDP socket gets the bench's buffer sizes before
/// it is wrapped.
#[derive(Debug)]
struct SizedSockets(TokioRuntime);

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Runtime for SizedSockets {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.0.spawn(future)
    }
    fn spawn_reactor(
        &self,
        pool: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.0.spawn_reactor(pool, future)
    }
    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let size = SOCKET_BUFFER.load(Ordering::Relaxed);
        if size > 0 {
            let sock = socket2::SockRef::from(&socket);
            sock.set_recv_buffer_size(size)?;
            sock.set_send_buffer_size(size)?;
        }
        self.0.wrap_udp_socket(socket)
    }
    fn wrap_tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.0.wrap_tcp_listener(listener)
    }
    fn connect_tcp<'a>(&'a self, remote: SocketAddr) -> Boxed<'a, io::Result<Arc<dyn AsyncTcpStream>>> {
        self.0.connect_tcp(remote)
    }
    fn resolve_host<'a>(&'a self, host: &'a str) -> Boxed<'a, io::Result<Vec<SocketAddr>>> {
        self.0.resolve_host(host)
    }
    fn now(&self) -> Instant {
        self.0.now()
    }
    fn sleep(&self, duration: Duration) -> Boxed<'static, ()> {
        self.0.sleep(duration)
    }
    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.0.interval(period)
    }
    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.0.block_on(future)
    }
    fn yield_now(&self) -> Boxed<'static, ()> {
        self.0.yield_now()
    }
    fn name(&self) -> &'static str {
        "tokio with sized sockets"
    }
}

fn runtime() -> Arc<dyn Runtime> {
    static RUNTIME: std::sync::OnceLock<Arc<dyn Runtime>> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(SizedSockets(TokioRuntime)))
        .clone()
}

#[derive(Clone)]
struct Handler {
    gathered: mpsc::UnboundedSender<()>,
    channels: mpsc::UnboundedSender<Arc<dyn DataChannel>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        let _ = self.channels.send(data_channel);
    }
}

struct Peer {
    pc: Box<dyn PeerConnectionDyn>,
    gathered: mpsc::UnboundedReceiver<()>,
    channels: mpsc::UnboundedReceiver<Arc<dyn DataChannel>>,
}

/// The builder returns `impl PeerConnection`; box it behind a small object-safe facade.
#[async_trait::async_trait]
trait PeerConnectionDyn: Send + Sync {
    async fn offer(&self) -> webrtc::error::Result<webrtc::peer_connection::RTCSessionDescription>;
    async fn answer(&self) -> webrtc::error::Result<webrtc::peer_connection::RTCSessionDescription>;
    async fn set_local(&self, d: webrtc::peer_connection::RTCSessionDescription)
        -> webrtc::error::Result<()>;
    async fn set_remote(
        &self,
        d: webrtc::peer_connection::RTCSessionDescription,
    ) -> webrtc::error::Result<()>;
    async fn local(&self) -> Option<webrtc::peer_connection::RTCSessionDescription>;
    async fn channel(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> webrtc::error::Result<Arc<dyn DataChannel>>;
    async fn close_pc(&self) -> webrtc::error::Result<()>;
}

#[async_trait::async_trait]
impl<P: PeerConnection + Send + Sync> PeerConnectionDyn for P {
    async fn offer(&self) -> webrtc::error::Result<webrtc::peer_connection::RTCSessionDescription> {
        self.create_offer(None).await
    }
    async fn answer(&self) -> webrtc::error::Result<webrtc::peer_connection::RTCSessionDescription> {
        self.create_answer(None).await
    }
    async fn set_local(
        &self,
        d: webrtc::peer_connection::RTCSessionDescription,
    ) -> webrtc::error::Result<()> {
        self.set_local_description(d).await
    }
    async fn set_remote(
        &self,
        d: webrtc::peer_connection::RTCSessionDescription,
    ) -> webrtc::error::Result<()> {
        self.set_remote_description(d).await
    }
    async fn local(&self) -> Option<webrtc::peer_connection::RTCSessionDescription> {
        self.local_description().await
    }
    async fn channel(
        &self,
        label: &str,
        init: RTCDataChannelInit,
    ) -> webrtc::error::Result<Arc<dyn DataChannel>> {
        self.create_data_channel(label, Some(init)).await
    }
    async fn close_pc(&self) -> webrtc::error::Result<()> {
        self.close().await
    }
}

async fn peer() -> anyhow::Result<Peer> {
    let (gtx, gathered) = mpsc::unbounded_channel();
    let (ctx, channels) = mpsc::unbounded_channel();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_handler(Arc::new(Handler {
            gathered: gtx,
            channels: ctx,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .with_runtime(runtime())
        .with_dedicated_reactor_pool_size(REACTORS.load(Ordering::Relaxed))
        .with_data_channel_send_buffer_limit(SEND_BUFFER_LIMIT)
        .build()
        .await
        .map_err(|e| anyhow!("webrtc-rs build: {e}"))?;
    Ok(Peer {
        pc: Box::new(pc),
        gathered,
        channels,
    })
}

struct Pair {
    a: Peer,
    b: Peer,
    da: Arc<dyn DataChannel>,
    db: Arc<dyn DataChannel>,
}

async fn wait_open(dc: &Arc<dyn DataChannel>) -> anyhow::Result<()> {
    loop {
        match dc.poll().await {
            Some(DataChannelEvent::OnOpen) => return Ok(()),
            Some(_) => {}
            None => return Err(anyhow!("webrtc-rs: channel closed before open")),
        }
    }
}

async fn connect(reliable: bool) -> anyhow::Result<(Pair, Duration)> {
    let e = |e: webrtc::error::Error| anyhow!("webrtc-rs: {e}");
    let mut a = peer().await?;
    let mut b = peer().await?;
    let init = RTCDataChannelInit {
        ordered: reliable,
        max_retransmits: if reliable { None } else { Some(0) },
        ..Default::default()
    };
    let t0 = Instant::now();
    let da = a.pc.channel("bench", init).await.map_err(e)?;
    let offer = a.pc.offer().await.map_err(e)?;
    a.pc.set_local(offer).await.map_err(e)?;
    a.gathered.recv().await.context("offerer gathering")?;
    let offer = a.pc.local().await.context("no local offer")?;
    b.pc.set_remote(offer).await.map_err(e)?;
    let answer = b.pc.answer().await.map_err(e)?;
    b.pc.set_local(answer).await.map_err(e)?;
    b.gathered.recv().await.context("answerer gathering")?;
    let answer = b.pc.local().await.context("no local answer")?;
    a.pc.set_remote(answer).await.map_err(e)?;
    wait_open(&da).await?;
    let db = b.channels.recv().await.context("answerer got no channel")?;
    let setup = t0.elapsed();
    Ok((Pair { a, b, da, db }, setup))
}

/// Create offer → channel open on both sides.
pub async fn setup() -> anyhow::Result<Duration> {
    let (pair, setup) = connect(true).await?;
    close(pair).await;
    Ok(setup)
}

async fn close(pair: Pair) {
    let _ = pair.da.close().await;
    let _ = pair.a.pc.close_pc().await;
    let _ = pair.b.pc.close_pc().await;
}

/// One transfer from `a` to `b`.
pub async fn transfer(pattern: &Pattern, t: Transfer) -> anyhow::Result<Outcome> {
    let (pair, _) = connect(t.reliable).await?;
    let crc = t.reliable.then(|| expected_crc(pattern, t));
    let mut verifier = Verifier::new(pattern.clone(), t);
    let sender_pattern = pattern.clone();
    // The sender's own events (buffered-amount notices) are drained so they never back up.
    let da_events = pair.da.clone();
    let drain = tokio::spawn(async move { while da_events.poll().await.is_some() {} });
    let da = pair.da.clone();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for i in 0..t.count {
            let msg = BytesMut::from(&sender_pattern.message(i, t.size)[..]);
            da.send(msg).await.map_err(|e| anyhow!("webrtc-rs send: {e}"))?;
        }
        Ok::<_, anyhow::Error>(())
    });
    let mut last = start;
    let idle = Duration::from_millis(if t.reliable { 20_000 } else { 1_000 });
    loop {
        match tokio::time::timeout(idle, pair.db.poll()).await {
            Ok(Some(DataChannelEvent::OnMessage(msg))) => {
                last = Instant::now();
                if verifier.on_message(&msg.data) {
                    break;
                }
            }
            Ok(Some(DataChannelEvent::OnClose)) | Ok(None) | Err(_) => break,
            Ok(Some(_)) => {}
        }
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    sender.await.context("webrtc-rs sender task")??;
    judge(&verifier, crc, "webrtc-rs")?;
    close(pair).await;
    drain.abort();
    Ok(Outcome {
        elapsed: last - start,
        received: verifier.received,
        bytes: verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs with an open channel each, set up `batch` at a time (concurrently),
/// returned so they stay alive (their drivers keep running).
pub async fn idle_pairs(pairs: usize, batch: usize) -> anyhow::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut out: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.clamp(1, pairs - out.len()) {
            set.spawn(connect(true));
        }
        while let Some(joined) = set.join_next().await {
            let (pair, _) = joined.context("webrtc-rs connect task")??;
            out.push(Box::new(pair));
        }
    }
    Ok(out)
}

// ---- Media: one video track from the offerer to the answerer (TrackLocalStaticRTP::write_rtp,
// TrackRemote::poll), as the rtp-to-webrtc and reflect examples drive it: VP8 registered on a
// MediaEngine, the default interceptors (register_default_interceptors), the track's SSRC set by
// the application.

use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::RTCPeerConnectionState;

const VIDEO_PT: u8 = 96;
const AUDIO_PT: u8 = 111;

fn vp8() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

#[derive(Clone)]
struct MediaHandler {
    gathered: mpsc::UnboundedSender<()>,
    connected: mpsc::UnboundedSender<()>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for MediaHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if state == RTCPeerConnectionState::Connected {
            let _ = self.connected.send(());
        }
    }
    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

struct MediaPeer {
    pc: Box<dyn MediaPeerConnection>,
    gathered: mpsc::UnboundedReceiver<()>,
    connected: mpsc::UnboundedReceiver<()>,
    tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
trait MediaPeerConnection: PeerConnectionDyn {
    async fn track(&self, track: Arc<dyn TrackLocal>) -> webrtc::error::Result<()>;
}

#[async_trait::async_trait]
impl<P: PeerConnection + Send + Sync> MediaPeerConnection for P {
    async fn track(&self, track: Arc<dyn TrackLocal>) -> webrtc::error::Result<()> {
        self.add_track(track).await.map(|_| ())
    }
}

async fn media_peer() -> anyhow::Result<MediaPeer> {
    let e = |e: webrtc::error::Error| anyhow!("webrtc-rs: {e}");
    let (gtx, gathered) = mpsc::unbounded_channel();
    let (ctx, connected) = mpsc::unbounded_channel();
    let (ttx, tracks) = mpsc::unbounded_channel();
    let mut media_engine = MediaEngine::default();
    for (codec, pt, kind) in [
        (vp8(), VIDEO_PT, RtpCodecKind::Video),
        (opus(), AUDIO_PT, RtpCodecKind::Audio),
    ] {
        media_engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: codec,
                    payload_type: pt,
                },
                kind,
            )
            .map_err(e)?;
    }
    let registry = register_default_interceptors(Registry::new(), &mut media_engine).map_err(e)?;
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(MediaHandler {
            gathered: gtx,
            connected: ctx,
            tracks: ttx,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .with_runtime(runtime())
        .with_dedicated_reactor_pool_size(REACTORS.load(Ordering::Relaxed))
        .build()
        .await
        .map_err(|e| anyhow!("webrtc-rs build: {e}"))?;
    Ok(MediaPeer {
        pc: Box::new(pc),
        gathered,
        connected,
        tracks,
    })
}

fn local_track(kind: RtpCodecKind, codec: RTCRtpCodec, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("bench-stream-{kind}"),
        format!("bench-track-{kind}"),
        format!("bench-label-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )))
}

struct MediaPair {
    a: MediaPeer,
    b: MediaPeer,
    video: Arc<TrackLocalStaticRTP>,
    _audio: Arc<TrackLocalStaticRTP>,
}

const VIDEO_SSRC: u32 = 0x5eed_0001;

/// A connected pair: the offerer adds an audio and a video track, the answerer receives both.
async fn connect_media() -> anyhow::Result<MediaPair> {
    let e = |e: webrtc::error::Error| anyhow!("webrtc-rs: {e}");
    let mut a = media_peer().await?;
    let mut b = media_peer().await?;
    let audio = local_track(RtpCodecKind::Audio, opus(), 0x5eed_0002);
    let video = local_track(RtpCodecKind::Video, vp8(), VIDEO_SSRC);
    a.pc.track(audio.clone() as Arc<dyn TrackLocal>)
        .await
        .map_err(e)?;
    a.pc.track(video.clone() as Arc<dyn TrackLocal>)
        .await
        .map_err(e)?;
    let offer = a.pc.offer().await.map_err(e)?;
    a.pc.set_local(offer).await.map_err(e)?;
    a.gathered.recv().await.context("offerer gathering")?;
    let offer = a.pc.local().await.context("no local offer")?;
    b.pc.set_remote(offer).await.map_err(e)?;
    let answer = b.pc.answer().await.map_err(e)?;
    b.pc.set_local(answer).await.map_err(e)?;
    b.gathered.recv().await.context("answerer gathering")?;
    let answer = b.pc.local().await.context("no local answer")?;
    a.pc.set_remote(answer).await.map_err(e)?;
    a.connected.recv().await.context("offerer never connected")?;
    b.connected.recv().await.context("answerer never connected")?;
    Ok(MediaPair {
        a,
        b,
        video,
        _audio: audio,
    })
}

/// `count` video RTP packets of `size` payload bytes from the offerer to the answerer: `write_rtp`
/// awaited per packet (its back-pressure), `TrackRemote::poll` on the other side. webrtc-rs fires
/// `on_track` when the first packet of the stream arrives, so the receiver takes the track from
/// the handler then.
pub async fn media(
    pattern: &Pattern,
    count: u64,
    size: usize,
    window: Arc<crate::workload::MediaWindow>,
) -> anyhow::Result<Outcome> {
    let MediaPair {
        a,
        mut b,
        video,
        _audio,
    } = connect_media().await?;
    let t = Transfer {
        count,
        size,
        reliable: false,
    };
    let mut verifier = Verifier::new(pattern.clone(), t);
    let sender_pattern = pattern.clone();
    let sender_window = window.clone();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(size);
        for i in 0..count {
            if !sender_window.wait_to_send(i).await {
                break;
            }
            sender_pattern.message_into(i, size, &mut buf);
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::Header {
                    version: 2,
                    marker: i % 8 == 7,
                    payload_type: VIDEO_PT,
                    sequence_number: i as u16,
                    timestamp: (i / 8) as u32 * 3000,
                    ssrc: VIDEO_SSRC,
                    ..Default::default()
                },
                payload: bytes::Bytes::copy_from_slice(&buf),
            };
            video
                .write_rtp(packet)
                .await
                .map_err(|e| anyhow!("webrtc-rs write_rtp: {e}"))?;
        }
        Ok::<_, anyhow::Error>(video)
    });
    let idle = Duration::from_millis(1000);
    let remote = match tokio::time::timeout(Duration::from_secs(10), b.tracks.recv()).await {
        Ok(Some(t)) => t,
        _ => anyhow::bail!("webrtc-rs: no remote track"),
    };
    let mut last = start;
    loop {
        match tokio::time::timeout(idle, remote.poll()).await {
            Ok(Some(TrackRemoteEvent::OnRtpPacket(p))) => {
                last = Instant::now();
                let done = verifier.on_message(&p.payload);
                window.on_received(verifier.received);
                if done {
                    break;
                }
            }
            Ok(Some(TrackRemoteEvent::OnEnded)) | Ok(None) | Err(_) => break,
            Ok(Some(_)) => {}
        }
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let _video = sender.await.context("webrtc-rs sender task")??;
    judge(&verifier, None, "webrtc-rs")?;
    let _ = a.pc.close_pc().await;
    let _ = b.pc.close_pc().await;
    Ok(Outcome {
        elapsed: last - start,
        received: verifier.received,
        bytes: verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs with one audio and one video transceiver each, set up `batch` at a time
/// and kept alive together, idle.
pub async fn idle_media_pairs(
    pairs: usize,
    batch: usize,
) -> anyhow::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut out: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.clamp(1, pairs - out.len()) {
            set.spawn(connect_media());
        }
        while let Some(joined) = set.join_next().await {
            let pair = joined.context("webrtc-rs connect task")??;
            out.push(Box::new(pair));
        }
    }
    Ok(out)
}
