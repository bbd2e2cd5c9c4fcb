//! `oxirtc echo`: answers (or makes) offers over the HTTP/JSON signaling protocol and echoes every data
//! channel message back, for interop tests with browsers and other stacks.
//!
//! Media: by default every received audio/video section is reflected back on a track of our own.
//! With `--send-media FILE...` each session sends those files instead (offering only their codecs
//! when it offers; checking the negotiated codec matches when it answers), and with `--record DIR`
//! it records what it receives instead of reflecting it (`crate::media_files`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use oxirtc::{DataChannelInit, Description, PeerConnectionState, SdpType};
use oxirtc_tokio::{Config, DataChannel, PeerConnection, PeerConnectionEvent};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch};

use crate::media_files::{MediaArgs, MediaPlan, MediaReport, MediaSession};
use crate::signal_http::{NegotiatedChannel, SignalReply, SignalRequest};

/// `oxirtc echo` arguments.
#[derive(Debug, clap::Args)]
pub struct EchoArgs {
    /// HTTP address for signaling (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Exit after the first session ends.
    #[arg(long)]
    pub once: bool,
    /// Local IP for the peer connection's socket (default: the signaling address's IP).
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// STUN/TURN servers.
    #[command(flatten)]
    pub ice: crate::ice_args::IceArgs,
    /// Media files every session sends (instead of reflecting), and where it records.
    #[command(flatten)]
    pub media: MediaArgs,
}

type Reply = oneshot::Sender<Result<SignalReply, String>>;

enum SessionCmd {
    Offer(String, Vec<NegotiatedChannel>, Reply),
    Answer(String, Reply),
    OpenChannel(String),
    /// Report and end (the process was asked to stop).
    Stop,
}

#[derive(Clone)]
struct Shared {
    sessions: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<SessionCmd>>>>,
    next: Arc<AtomicU64>,
    bind: std::net::IpAddr,
    ice: Arc<Config>,
    done: mpsc::UnboundedSender<()>,
    /// `--send-media` / `--record`, checked at start.
    media: Option<Arc<MediaPlan>>,
}

/// Runs the echo peer until interrupted (or after one session with `--once`).
pub fn run(args: &EchoArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: &EchoArgs) -> anyhow::Result<()> {
    let media = MediaPlan::from_args(&args.media)?.map(Arc::new);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: is the port in use?", args.listen))?;
    let addr = listener.local_addr()?;
    let (done, mut done_rx) = mpsc::unbounded_channel();
    let mut ice = Config::default();
    args.ice.apply(&mut ice)?;
    let shared = Shared {
        ice: Arc::new(ice),
        sessions: Arc::default(),
        next: Arc::default(),
        bind: args.bind.unwrap_or(addr.ip()),
        done,
        media,
    };
    // The SFU of `oxirtc serve` too (WHIP/WHEP at /whip/ROOM, /whep/ROOM), for interop tests of it.
    let sfu = oxirtc_server::sfu::Sfu::new(oxirtc_server::sfu::SfuConfig {
        peer: Config {
            bind: vec![shared.bind],
            include_loopback: true,
            ..Config::default()
        },
        ..oxirtc_server::sfu::SfuConfig::default()
    });
    let app = Router::new()
        .route("/offer", post(handle))
        .with_state(shared.clone())
        .merge(oxirtc_server::sfu::router(sfu));
    println!("LISTENING http://{addr}/offer");
    let once = args.once;
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let finished = async {
            loop {
                if done_rx.recv().await.is_none() || once {
                    return;
                }
            }
        };
        tokio::select! {
            () = finished => {}
            // A peer that leaves without a word (no DTLS close_notify) leaves its session running
            // until ICE consent fails (RFC 7675, 30 s): SIGTERM still gets every session's report.
            () = terminated() => stop_sessions(&shared).await,
        }
    });
    server.await.context("HTTP server")?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (never, if no handler can be installed).
pub(crate) async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Asks every running session to report and end, and waits (up to 2 s) until they have.
async fn stop_sessions(shared: &Shared) {
    let running: Vec<_> = shared
        .sessions
        .lock()
        .map(|s| s.values().cloned().collect())
        .unwrap_or_default();
    for session in running {
        let _ = session.send(SessionCmd::Stop);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && shared.sessions.lock().is_ok_and(|s| !s.is_empty()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn handle(
    State(shared): State<Shared>,
    Json(req): Json<SignalRequest>,
) -> (StatusCode, Json<serde_json::Value>) {
    let result = route(&shared, req).await;
    match result {
        Ok(Some(reply)) => (
            StatusCode::OK,
            Json(serde_json::to_value(reply).unwrap_or_default()),
        ),
        Ok(None) => (StatusCode::OK, Json(json!({}))),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))),
    }
}

async fn route(shared: &Shared, req: SignalRequest) -> Result<Option<SignalReply>, String> {
    let (tx, rx) = oneshot::channel();
    match req {
        SignalRequest::Offer {
            sdp,
            session: Some(id),
            negotiated,
        } => {
            session(shared, &id)?
                .send(SessionCmd::Offer(sdp, negotiated, tx))
                .map_err(|_| gone(&id))?;
        }
        SignalRequest::Offer {
            sdp,
            session: None,
            negotiated,
        } => {
            let cmds = start_session(shared).await?;
            cmds.send(SessionCmd::Offer(sdp, negotiated, tx))
                .map_err(|_| "session ended".to_owned())?;
        }
        SignalRequest::RequestOffer {
            label,
            negotiated,
            media,
            video_codec,
        } => {
            let (reply_tx, reply_rx) = oneshot::channel();
            let offer = OfferRequest {
                label: label.unwrap_or_else(|| "echo".into()),
                media,
                video_codec,
                reply: reply_tx,
            };
            start_session_offering(shared, negotiated, offer).await?;
            return reply_rx.await.map_err(|_| "session ended".to_owned())?.map(Some);
        }
        SignalRequest::Answer { sdp, session: id } => {
            let id = id.ok_or("an answer needs the session id from the offer")?;
            session(shared, &id)?
                .send(SessionCmd::Answer(sdp, tx))
                .map_err(|_| gone(&id))?;
            rx.await.map_err(|_| gone(&id))??;
            return Ok(None);
        }
    }
    rx.await.map_err(|_| "session ended".to_owned())?.map(Some)
}

fn gone(id: &str) -> String {
    format!("session {id} has ended")
}

fn session(shared: &Shared, id: &str) -> Result<mpsc::UnboundedSender<SessionCmd>, String> {
    let sessions = shared.sessions.lock().map_err(|_| "internal error".to_owned())?;
    sessions
        .get(id)
        .cloned()
        .ok_or_else(|| format!("unknown session {id}"))
}

async fn new_pc(shared: &Shared) -> Result<PeerConnection, String> {
    let config = Config {
        bind: vec![shared.bind],
        include_loopback: true,
        stun_servers: shared.ice.stun_servers.clone(),
        turn_servers: shared.ice.turn_servers.clone(),
        ice_transport_policy: shared.ice.ice_transport_policy,
        turn_tls_roots: shared.ice.turn_tls_roots.clone(),
        ..Config::default()
    };
    PeerConnection::new(config).await.map_err(|e| e.to_string())
}

/// A session for a peer that offers.
async fn start_session(shared: &Shared) -> Result<mpsc::UnboundedSender<SessionCmd>, String> {
    spawn_session(shared, Vec::new(), None).await
}

/// A session where we offer (the peer sent `request-offer`).
async fn start_session_offering(
    shared: &Shared,
    negotiated: Vec<NegotiatedChannel>,
    offer: OfferRequest,
) -> Result<(), String> {
    spawn_session(shared, negotiated, Some(offer)).await.map(drop)
}

/// What a `request-offer` asks for: the channel's label, audio and video, and where the offer goes.
struct OfferRequest {
    label: String,
    media: bool,
    video_codec: Option<String>,
    reply: Reply,
}

/// A new peer connection, registered under a fresh session id and run in its own task.
async fn spawn_session(
    shared: &Shared,
    negotiated: Vec<NegotiatedChannel>,
    offer: Option<OfferRequest>,
) -> Result<mpsc::UnboundedSender<SessionCmd>, String> {
    let pc = new_pc(shared).await?;
    let id = shared.next.fetch_add(1, Ordering::Relaxed).to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    shared
        .sessions
        .lock()
        .map_err(|_| "internal error")?
        .insert(id.clone(), tx.clone());
    tokio::spawn(Session::new(id, pc, shared.clone(), tx.clone()).run(rx, negotiated, offer));
    Ok(tx)
}

#[derive(Default)]
struct Counters {
    channels: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    /// Channels that closed while the connection stayed up (a stream reset by either side).
    closed: AtomicU64,
    /// Remote audio/video tracks, and RTP packets read from them (echo only counts media).
    tracks: AtomicU64,
    rtp_read: AtomicU64,
    keyframe_requests: AtomicU64,
    /// Packets written back on our track of the same section.
    rtp_reflected: AtomicU64,
    /// The simulcast streams (rids) seen, in the order they first came.
    rids: Mutex<Vec<String>>,
}

struct Session {
    id: String,
    pc: PeerConnection,
    shared: Shared,
    cmds: mpsc::UnboundedSender<SessionCmd>,
    counters: Arc<Counters>,
    started: Instant,
    first_open: Arc<Mutex<Option<Duration>>>,
    last_stats: Option<oxirtc_tokio::Stats>,
    mode: &'static str,
    /// The connection's state, for the channel tasks.
    state: watch::Sender<PeerConnectionState>,
    /// Ended by [`SessionCmd::Stop`], not by the connection.
    stopped: bool,
    /// Our track on each section a remote offer added, by mid: media is reflected on it.
    reflectors: HashMap<String, oxirtc_tokio::LocalTrack>,
    /// With `--send-media` / `--record`: the files sent and the tracks recorded.
    media: Option<MediaSession>,
    /// Their report, once the session ended.
    media_report: Option<MediaReport>,
}

impl Session {
    fn new(id: String, pc: PeerConnection, shared: Shared, cmds: mpsc::UnboundedSender<SessionCmd>) -> Self {
        let media = shared
            .media
            .clone()
            .map(|plan| MediaSession::new(plan, &format!("session{id}-")));
        Session {
            media,
            media_report: None,
            id,
            pc,
            shared,
            cmds,
            counters: Arc::default(),
            started: Instant::now(),
            first_open: Arc::default(),
            last_stats: None,
            mode: "answer",
            state: watch::Sender::new(PeerConnectionState::New),
            stopped: false,
            reflectors: HashMap::new(),
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<SessionCmd>,
        negotiated: Vec<NegotiatedChannel>,
        offer: Option<OfferRequest>,
    ) {
        self.create_negotiated(&negotiated).await;
        if let Some(offer) = offer {
            self.mode = "offer";
            let media = offer.media.then_some(offer.video_codec.as_deref());
            let r = self.make_offer(&offer.label, media).await;
            let _ = offer.reply.send(r);
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(SessionCmd::Stop) => {
                        self.stopped = true;
                        self.refresh_stats().await;
                        break;
                    }
                    Some(cmd) => self.on_command(cmd).await,
                    None => break,
                },
                ev = self.pc.next_event() => match ev {
                    Some(PeerConnectionEvent::DataChannel(dc)) => self.spawn_echo(dc),
                    Some(PeerConnectionEvent::Track(track)) => self.spawn_track_counter(track),
                    Some(PeerConnectionEvent::ConnectionState(s)) => {
                        tracing::info!(session = %self.id, state = ?s, "echo: connection state");
                        self.state.send_replace(s);
                        if s == PeerConnectionState::Connected {
                            if let Some(media) = &mut self.media {
                                media.start_sending();
                            }
                            self.refresh_stats().await;
                        }
                        if matches!(s, PeerConnectionState::Closed | PeerConnectionState::Failed) {
                            self.refresh_stats().await;
                            break;
                        }
                    }
                    Some(_) => {}
                    None => break,
                },
                _ = tick.tick() => self.refresh_stats().await,
            }
        }
        if let Some(media) = self.media.take() {
            let report = media.finish(&self.pc).await;
            for line in report.lines() {
                eprintln!(
                    "oxirtc echo: session {}: {}",
                    self.id,
                    crate::term_safe::escape_keep_lines(&line)
                );
            }
            self.media_report = Some(report);
        }
        self.report();
        if let Ok(mut s) = self.shared.sessions.lock() {
            s.remove(&self.id);
        }
        let _ = self.shared.done.send(());
    }

    async fn refresh_stats(&mut self) {
        if let Ok(s) = self.pc.stats().await {
            self.last_stats = Some(s);
        }
    }

    async fn create_negotiated(&mut self, negotiated: &[NegotiatedChannel]) {
        for n in negotiated {
            match self.pc.create_data_channel(&n.label, n.init()).await {
                Ok(dc) => self.spawn_echo(dc),
                Err(e) => tracing::warn!(error = %e, "echo: negotiated channel not created"),
            }
        }
    }

    /// Offers channel `label` and, with `media`, an audio and a video section (the video one
    /// limited to a codec when named).
    async fn make_offer(&mut self, label: &str, media: Option<Option<&str>>) -> Result<SignalReply, String> {
        let dc = self
            .pc
            .create_data_channel(label, DataChannelInit::default())
            .await
            .map_err(|e| e.to_string())?;
        self.spawn_echo(dc);
        if let Some(plan) = self.shared.media.clone() {
            return self.make_media_offer(&plan, media).await;
        }
        let mut tracks = Vec::new();
        if let Some(video_codec) = media {
            use oxirtc::media::{default_video_codecs, TrackKind, TransceiverInit};
            let audio = self.pc.add_track(TrackKind::Audio, Some("echo")).await;
            tracks.push(audio.map_err(|e| e.to_string())?);
            let codecs: Vec<_> = default_video_codecs()
                .into_iter()
                .filter(|c| video_codec.is_none_or(|name| c.codec.is(name)))
                .collect();
            if codecs.is_empty() {
                return Err(format!("oxirtc has no video codec called {video_codec:?}"));
            }
            let init = TransceiverInit {
                stream_id: Some("echo".into()),
                codecs,
                ..TransceiverInit::default()
            };
            let video = self.pc.add_transceiver(TrackKind::Video, init).await;
            tracks.push(video.map_err(|e| e.to_string())?);
        }
        let offer = self.pc.create_offer().await.map_err(|e| e.to_string())?;
        for track in tracks {
            if let Ok(Some(mid)) = track.mid().await {
                self.reflectors.insert(mid, track);
            }
        }
        self.apply_local(offer).await
    }

    /// The offer of a session with `--send-media` / `--record`: a section per file (its codec
    /// only); with only `--record` and media asked for, receive-only audio and video sections.
    async fn make_media_offer(
        &mut self,
        plan: &MediaPlan,
        media: Option<Option<&str>>,
    ) -> Result<SignalReply, String> {
        use oxirtc::media::{default_video_codecs, Direction, TrackKind, TransceiverInit};
        let asked_codec = media.flatten();
        if let (Some(asked), Some(ours)) = (asked_codec, plan.video_codec()) {
            if !asked.eq_ignore_ascii_case(ours) {
                return Err(format!(
                    "this echo sends a {ours} file (--send-media); it cannot offer videoCodec {asked}"
                ));
            }
        }
        let sending = plan
            .add_offer_tracks(&self.pc, "echo")
            .await
            .map_err(|e| format!("{e:#}"))?;
        if plan.sources.is_empty() && media.is_some() {
            for kind in [TrackKind::Audio, TrackKind::Video] {
                let codecs = match (kind, asked_codec) {
                    (TrackKind::Video, Some(name)) => default_video_codecs()
                        .into_iter()
                        .filter(|c| c.codec.is(name))
                        .collect(),
                    _ => Vec::new(),
                };
                let init = TransceiverInit {
                    direction: Direction::RecvOnly,
                    codecs,
                    ..TransceiverInit::default()
                };
                self.pc
                    .add_transceiver(kind, init)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        if let Some(m) = &mut self.media {
            m.set_sending(sending);
        }
        let offer = self.pc.create_offer().await.map_err(|e| e.to_string())?;
        self.apply_local(offer).await
    }

    /// Applies our offer or answer and replies with it, once every candidate is gathered.
    async fn apply_local(&mut self, desc: Description) -> Result<SignalReply, String> {
        let kind = desc.sdp_type.to_string();
        self.pc
            .set_local_description(desc.clone())
            .await
            .map_err(|e| e.to_string())?;
        Ok(SignalReply {
            kind,
            sdp: gathered_sdp(&self.pc, desc).await,
            session: Some(self.id.clone()),
        })
    }

    async fn on_command(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Offer(sdp, negotiated, reply) => {
                self.create_negotiated(&negotiated).await;
                let r = self.answer(sdp).await;
                let _ = reply.send(r);
            }
            SessionCmd::Answer(sdp, reply) => {
                let desc = Description {
                    sdp_type: SdpType::Answer,
                    sdp,
                };
                let r = self
                    .pc
                    .set_remote_description(desc)
                    .await
                    .map_err(|e| e.to_string());
                let _ = reply.send(r.map(|()| SignalReply {
                    kind: "ok".into(),
                    sdp: String::new(),
                    session: None,
                }));
            }
            SessionCmd::OpenChannel(label) => {
                match self
                    .pc
                    .create_data_channel(&label, DataChannelInit::default())
                    .await
                {
                    Ok(dc) => self.spawn_echo(dc),
                    Err(e) => tracing::warn!(error = %e, "echo: channel not opened"),
                }
            }
            SessionCmd::Stop => {} // the run loop ends the session
        }
    }

    async fn answer(&mut self, sdp: String) -> Result<SignalReply, String> {
        let offer = Description {
            sdp_type: SdpType::Offer,
            sdp,
        };
        self.pc
            .set_remote_description(offer)
            .await
            .map_err(|e| e.to_string())?;
        let Some(plan) = self.shared.media.clone() else {
            self.add_reflecting_tracks().await;
            let answer = self.pc.create_answer().await.map_err(|e| e.to_string())?;
            return self.apply_local(answer).await;
        };
        // --send-media: the files take the offered sections (on the first offer only);
        // --record alone answers receive-only.
        let first = self.media.as_ref().is_some_and(|m| m.sending().is_empty());
        if first && !plan.sources.is_empty() {
            let sending = plan
                .add_answer_tracks(&self.pc, "echo")
                .await
                .map_err(|e| format!("{e:#}"))?;
            if let Some(m) = &mut self.media {
                m.set_sending(sending);
            }
        }
        let answer = self.pc.create_answer().await.map_err(|e| e.to_string())?;
        self.pc
            .set_local_description(answer.clone())
            .await
            .map_err(|e| e.to_string())?;
        if let Some(m) = &self.media {
            MediaPlan::check_negotiated(m.sending())
                .await
                .map_err(|e| format!("{e:#}"))?;
        }
        Ok(SignalReply {
            kind: answer.sdp_type.to_string(),
            sdp: gathered_sdp(&self.pc, answer).await,
            session: Some(self.id.clone()),
        })
    }

    fn spawn_echo(&self, dc: DataChannel) {
        let counters = self.counters.clone();
        let first_open = self.first_open.clone();
        let started = self.started;
        let cmds = self.cmds.clone();
        let state = self.state.subscribe();
        tokio::spawn(echo_channel(dc, counters, first_open, started, cmds, state));
    }

    /// A track of ours on every section a remote offer added (W3C addTrack takes them), so the
    /// answer sends on each: what arrives on a section goes back on it (see `reflect`).
    async fn add_reflecting_tracks(&mut self) {
        let Ok(transceivers) = self.pc.transceivers().await else {
            return;
        };
        for t in transceivers {
            let offered = t.mid.is_some() && t.direction == oxirtc::media::Direction::RecvOnly;
            if !offered || t.mid.as_ref().is_some_and(|m| self.reflectors.contains_key(m)) {
                continue;
            }
            match self.pc.add_track(t.kind, Some("echo")).await {
                Ok(local) => {
                    if let Some(mid) = t.mid {
                        self.reflectors.insert(mid, local);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "echo: no track to reflect media on"),
            }
        }
    }

    /// Reads a remote track to its end and sends every packet back on our track of the same
    /// section (as Pion's reflect example: SSRC, sequence numbers and timestamps rewritten by the
    /// connection), passing the browser's keyframe requests on to the track's sender.
    fn spawn_track_counter(&mut self, track: oxirtc_tokio::RemoteTrack) {
        tracing::info!(session = %self.id, mid = track.mid(), kind = ?track.kind(), "echo: remote track");
        let counters = self.counters.clone();
        counters.tracks.fetch_add(1, Ordering::Relaxed);
        // With --record the track is recorded instead (its RTP is then not counted in rtpRead).
        let track = match &mut self.media {
            Some(media) => match media.on_track(track) {
                Some(track) => track,
                None => return,
            },
            None => track,
        };
        let local = self.reflectors.get(track.mid()).cloned();
        tokio::spawn(reflect(track, local, counters));
    }

    fn report(&self) {
        let reflected: u64 = self.reflectors.values().map(|t| t.dropped()).sum();
        let stats = self.last_stats.as_ref();
        let line = json!({
            "session": self.id,
            "mode": self.mode,
            "channels": self.counters.channels.load(Ordering::Relaxed),
            "messagesEchoed": self.counters.messages.load(Ordering::Relaxed),
            "bytesEchoed": self.counters.bytes.load(Ordering::Relaxed),
            "channelsClosed": self.counters.closed.load(Ordering::Relaxed),
            "stopped": self.stopped,
            "firstChannelOpenMs": self.first_open.lock().ok().and_then(|g| *g).map(|d| d.as_secs_f64() * 1000.0),
            "dtlsRole": stats.and_then(|s| s.dtls_role).map(|r| format!("{r:?}").to_lowercase()),
            "cipherSuite": stats.and_then(|s| s.cipher_suite).map(|c| c.to_string()),
            "srtpProfile": stats.and_then(|s| s.srtp_profile).map(|p| p.to_string()),
            "tracks": self.counters.tracks.load(Ordering::Relaxed),
            "rtpRead": self.counters.rtp_read.load(Ordering::Relaxed),
            "keyframeRequests": self.counters.keyframe_requests.load(Ordering::Relaxed),
            "reflectedTracks": self.reflectors.len(),
            "rids": self.counters.rids.lock().map(|r| r.clone()).unwrap_or_default(),
            "rtpReflected": self.counters.rtp_reflected.load(Ordering::Relaxed),
            "reflectDropped": reflected,
            "peerKeyframeRequests": self.reflectors.values().map(oxirtc_tokio::LocalTrack::keyframe_requests).sum::<u64>(),
            "rtpSent": stats.map(|s| s.rtc.rtp_sent),
            "rtpReceived": stats.map(|s| s.rtc.rtp_received),
            "srtpDropped": stats.map(|s| s.rtc.srtp_dropped),
            "rtpUnroutable": stats.map(|s| s.rtc.rtp_unroutable),
            "selectedPair": stats.and_then(|s| s.selected_pair).map(|(l, r)| format!("{l} -> {r}")),
            "rttMs": stats.and_then(|s| s.rtt).map(|d| d.as_secs_f64() * 1000.0),
            "state": stats.map(|s| format!("{:?}", s.state)),
            "closeReason": self.pc.close_reason().map(ToString::to_string),
            "media": self.media_report,
        });
        println!("SESSION {line}");
    }
}

/// The protocol has no trickle: wait (up to 10 s) until every candidate,
/// relayed ones included, is gathered, and send the description that holds them all.
pub(crate) async fn gathered_sdp(pc: &PeerConnection, applied: Description) -> String {
    pc.gathering_complete(Duration::from_secs(10)).await;
    match pc.local_description().await {
        Ok(Some(d)) => d.sdp,
        _ => applied.sdp,
    }
}

async fn echo_channel(
    mut dc: DataChannel,
    counters: Arc<Counters>,
    first_open: Arc<Mutex<Option<Duration>>>,
    started: Instant,
    cmds: mpsc::UnboundedSender<SessionCmd>,
    state: watch::Receiver<PeerConnectionState>,
) {
    if dc.opened().await.is_err() {
        return;
    }
    counters.channels.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut g) = first_open.lock() {
        g.get_or_insert_with(|| started.elapsed());
    }
    while let Some(msg) = dc.recv().await {
        if !msg.binary {
            if msg.data.as_ref() == b"cmd:close" {
                dc.close();
                continue;
            }
            if let Some(label) = msg.data.strip_prefix(b"cmd:open:") {
                let _ = cmds.send(SessionCmd::OpenChannel(
                    String::from_utf8_lossy(label).into_owned(),
                ));
                continue;
            }
        }
        let len = msg.data.len() as u64;
        if dc.send(msg).await.is_err() {
            return;
        }
        counters.messages.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(len, Ordering::Relaxed);
    }
    // The channel closed. By a stream reset (RFC 8831 §6.7) the connection is still up a moment
    // later; when the connection itself ends, its channels close with it and are not counted.
    tokio::time::sleep(Duration::from_millis(250)).await;
    if *state.borrow() == PeerConnectionState::Connected {
        counters.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Reflects one remote track: each packet back on `local` (when the section sends), keyframe
/// requests of the peer passed on to the track's sender, and one keyframe request of our own once
/// video flows, so peers' tests can see a PLI arrive (interop offer-media checks pliCount).
async fn reflect(
    mut track: oxirtc_tokio::RemoteTrack,
    local: Option<oxirtc_tokio::LocalTrack>,
    counters: Arc<Counters>,
) {
    let video = track.kind() == oxirtc::media::TrackKind::Video;
    let mut asked = false;
    // Of simulcast streams, the first one seen is reflected (one track sends one stream back).
    let mut reflected_rid: Option<String> = None;
    loop {
        let keyframe = async {
            match &local {
                Some(l) => l.keyframe_requested().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            rtp = track.recv() => {
                let Some(rtp) = rtp else { break };
                let read = counters.rtp_read.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(rid) = &rtp.rid {
                    if let Ok(mut seen) = counters.rids.lock() {
                        if !seen.contains(rid) {
                            seen.push(rid.clone());
                        }
                    }
                    if reflected_rid.get_or_insert_with(|| rid.clone()) != rid {
                        continue;
                    }
                }
                if let Some(l) = &local {
                    let out = oxirtc::media::OutgoingRtp {
                        payload_type: rtp.payload_type,
                        sequence_number: rtp.sequence_number,
                        timestamp: rtp.timestamp,
                        marker: rtp.marker,
                        payload: &rtp.payload,
                    };
                    if l.write_rtp(&out).is_ok() {
                        counters.rtp_reflected.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if !asked && read >= 20 && video {
                    asked = true;
                    request_keyframe(&track, &counters).await;
                }
            }
            () = keyframe => {
                if video {
                    request_keyframe(&track, &counters).await;
                }
            }
        }
    }
}

async fn request_keyframe(track: &oxirtc_tokio::RemoteTrack, counters: &Counters) {
    match track.request_keyframe().await {
        Ok(()) => {
            counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => tracing::debug!(error = %e, "echo: keyframe request failed"),
    }
}
