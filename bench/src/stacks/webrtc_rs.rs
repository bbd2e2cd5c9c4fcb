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
