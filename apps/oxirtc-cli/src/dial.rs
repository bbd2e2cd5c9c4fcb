//! `oxirtc dial`: plays the browser's side of the HTTP/JSON signaling protocol against any echo peer
//! and makes the same checks as a browser would: every message comes back verbatim and in order (in
//! any order on an unordered channel, 95 % on a partially reliable one), and with `--close-from` the
//! channel closes on both ends while the connection stays up.
//!
//! With `--send-media FILE...` it also sends media files (one track each) and with `--record DIR`
//! writes what comes back (see `crate::media_files`): against `oxirtc echo`, the call gets its
//! own media back.

mod echo_check;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use oxirtc::media::{Direction, TrackKind, TransceiverInit};
use oxirtc::{ChannelReliability, DataChannelInit, Description, PeerConnectionState, SdpType};
use oxirtc_tokio::{Config, DataChannel, Message, PeerConnection, PeerConnectionEvent, RemoteTrack};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use crate::media_files::{MediaArgs, MediaPlan, MediaReport, MediaSession};
use crate::signal_http::{SignalReply, SignalRequest};
use echo_check::{EchoCheck, Messages};

/// `oxirtc dial` arguments.
#[derive(Debug, clap::Args)]
pub struct DialArgs {
    /// The peer's signaling URL (the one it printed after LISTENING).
    pub url: String,
    /// `offer`: we offer and create the channel; `answer`: we ask the peer to offer.
    #[arg(long, default_value = "offer", value_parser = ["offer", "answer"])]
    pub mode: String,
    /// Text messages to send (and as many binary ones with `--binary`).
    #[arg(long, default_value_t = 10)]
    pub messages: usize,
    /// Payload size of each message in bytes (0 = short).
    #[arg(long, default_value_t = 0)]
    pub size: usize,
    /// Exact payload sizes in bytes, used in turn by the messages (e.g. `0,262144`); overrides `--size`.
    #[arg(long, value_delimiter = ',', value_name = "BYTES,..")]
    pub sizes: Vec<usize>,
    /// The channel we create is unordered (`--mode offer`); echoes may come back in any order.
    #[arg(long)]
    pub unordered: bool,
    /// The channel we create gives up a message after N retransmissions (`maxRetransmits`, RFC 8832
    /// §5.1 PARTIAL_RELIABLE_REXMIT; `--mode offer`); 95 % of the echoes must come back.
    #[arg(long, value_name = "N")]
    pub max_retransmits: Option<u16>,
    /// After the echoes, close the channel: `us` closes it here, `peer` sends `cmd:close` so the peer
    /// closes it. Checks that it closes on our side while the connection stays up.
    #[arg(long, value_parser = ["us", "peer"])]
    pub close_from: Option<String>,
    /// Also send binary messages.
    #[arg(long)]
    pub binary: bool,
    /// Give up after this many seconds: the connection and the message echo (media then runs until
    /// `--duration`, the files' end, Ctrl-C or the peer's end).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Channel label.
    #[arg(long, default_value = "echo")]
    pub label: String,
    /// Local IP to bind (default 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// STUN/TURN servers.
    #[command(flatten)]
    pub ice: crate::ice_args::IceArgs,
    /// Media files to send and where to record.
    #[command(flatten)]
    pub media: MediaArgs,
    /// With media: end the call this long after the media started (e.g. `10s`). Without it the
    /// call ends once every file was sent and what came back has arrived; with `--loop` or only
    /// `--record`, at Ctrl-C or when the peer ends it.
    #[arg(long, value_parser = crate::parse_duration)]
    pub duration: Option<Duration>,
}

/// Runs one dial session, prints one JSON object; `Ok` only if every check passed.
pub fn run(args: &DialArgs) -> anyhow::Result<()> {
    let plan = MediaPlan::from_args(&args.media)?.map(Arc::new);
    if plan.is_none() && args.duration.is_some() {
        bail!("--duration limits a media call: give --send-media FILE... or --record DIR with it");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut result = json!({ "ok": false, "mode": args.mode, "signal": args.url });
    let outcome = rt.block_on(async {
        let call = tokio::time::timeout(
            Duration::from_secs(args.timeout),
            dial(args, &mut result, plan.clone()),
        )
        .await;
        match call {
            Ok(Ok(Some(call))) => {
                media_call(args, call, &mut result).await;
                Ok(Ok(()))
            }
            Ok(Ok(None)) => Ok(Ok(())),
            Ok(Err(e)) => Ok(Err(e)),
            Err(elapsed) => Err(elapsed),
        }
    });
    let ok = match outcome {
        Ok(Ok(())) => result["checks"]
            .as_object()
            .is_some_and(|c| !c.is_empty() && c.values().all(|v| v == &json!(true))),
        Ok(Err(e)) => {
            result["error"] = json!(format!("{e:#}"));
            false
        }
        Err(_) => {
            result["error"] = json!(format!("timed out after {} s", args.timeout));
            false
        }
    };
    result["ok"] = json!(ok);
    println!("{}", serde_json::to_string_pretty(&result)?);
    if !ok {
        bail!("dial failed");
    }
    Ok(())
}

/// A connection whose media phase is still to come.
struct MediaCall {
    pc: PeerConnection,
    session: MediaSession,
    events: Events,
}

/// Connects, runs the message echo (and `--close-from`); with media flags returns the connection
/// for [`media_call`], else closes it.
async fn dial(
    args: &DialArgs,
    result: &mut Value,
    plan: Option<Arc<MediaPlan>>,
) -> anyhow::Result<Option<MediaCall>> {
    let t0 = Instant::now();
    if args.mode == "answer" && (args.unordered || args.max_retransmits.is_some()) {
        bail!("--unordered and --max-retransmits set up the channel we create, but with --mode answer the peer creates it: use --mode offer");
    }
    let mut config = Config {
        bind: vec![args.bind],
        include_loopback: true,
        ..Config::default()
    };
    args.ice.apply(&mut config)?;
    let pc = PeerConnection::new(config).await?;
    let mut events = Events::start(&pc);
    let mut session = plan.as_ref().map(|p| MediaSession::new(p.clone(), ""));
    let dc = if args.mode == "offer" {
        let init = DataChannelInit {
            ordered: !args.unordered,
            reliability: args
                .max_retransmits
                .map_or(ChannelReliability::Reliable, ChannelReliability::MaxRetransmits),
            ..DataChannelInit::default()
        };
        let dc = pc.create_data_channel(&args.label, init).await?;
        if let (Some(plan), Some(session)) = (&plan, &mut session) {
            session.set_sending(plan.add_offer_tracks(&pc, "oxirtc-dial").await?);
            if plan.sources.is_empty() {
                // Only --record: receive-only sections for whatever the peer sends.
                for kind in [TrackKind::Audio, TrackKind::Video] {
                    let init = TransceiverInit {
                        direction: Direction::RecvOnly,
                        ..TransceiverInit::default()
                    };
                    pc.add_transceiver(kind, init).await?;
                }
            }
        }
        let offer = pc.create_offer().await?;
        pc.set_local_description(offer.clone()).await?;
        let sdp = crate::echo::gathered_sdp(&pc, offer).await;
        let reply = post(
            &args.url,
            &SignalRequest::Offer {
                sdp,
                session: None,
                negotiated: vec![],
            },
        )
        .await?;
        let answer: SignalReply =
            serde_json::from_value(reply).context("peer reply is not {type:answer, sdp}")?;
        pc.set_remote_description(Description {
            sdp_type: SdpType::Answer,
            sdp: answer.sdp,
        })
        .await?;
        if let Some(session) = &session {
            MediaPlan::check_negotiated(session.sending()).await?;
        }
        dc
    } else {
        let reply = post(
            &args.url,
            &SignalRequest::RequestOffer {
                label: Some(args.label.clone()),
                negotiated: vec![],
                media: plan.is_some(),
                video_codec: plan.as_ref().and_then(|p| p.video_codec()).map(str::to_owned),
            },
        )
        .await?;
        let offer: SignalReply =
            serde_json::from_value(reply).context("peer reply is not {type:offer, sdp}")?;
        pc.set_remote_description(Description {
            sdp_type: SdpType::Offer,
            sdp: offer.sdp,
        })
        .await?;
        if let (Some(plan), Some(session)) = (&plan, &mut session) {
            session.set_sending(plan.add_answer_tracks(&pc, "oxirtc-dial").await?);
        }
        let answer = pc.create_answer().await?;
        pc.set_local_description(answer.clone()).await?;
        if let Some(session) = &session {
            MediaPlan::check_negotiated(session.sending()).await?;
        }
        let sdp = crate::echo::gathered_sdp(&pc, answer).await;
        post(
            &args.url,
            &SignalRequest::Answer {
                sdp,
                session: offer.session,
            },
        )
        .await?;
        events.channel(&pc).await?
    };
    let (mut dc, mut dc_report, echo_ok) = exchange(args, dc, t0).await?;
    result["setupMs"] = dc_report["openMs"].clone();
    result["checks"] = json!({ "dataChannelEcho": echo_ok });
    let stats = stats_once_selected(&pc).await?;
    if let Some(from) = &args.close_from {
        let (closed, report) = close_channel(&pc, &mut dc, from, args.timeout).await?;
        result["checks"]["channelClosed"] = json!(closed);
        dc_report["close"] = report;
    }
    result["dc"] = dc_report;
    result["dtlsRole"] = json!(stats.dtls_role.map(|r| format!("{r:?}").to_lowercase()));
    result["dtlsCipher"] = json!(stats.cipher_suite.map(|c| c.to_string()));
    result["srtpCipher"] = json!(stats.srtp_profile.map(|p| p.to_string()));
    result["selectedPair"] = json!(stats.selected_pair.map(|(l, r)| format!("{l} -> {r}")));
    result["rttMs"] = json!(stats.rtt.map(|d| d.as_secs_f64() * 1000.0));
    if let Some(session) = session {
        return Ok(Some(MediaCall { pc, session, events }));
    }
    pc.close().await;
    Ok(None)
}

/// The media phase: sends the files, records what comes, until `--duration`, the files' end (and
/// 1 s without anything more coming back, at most 5 s), Ctrl-C, or the peer's end. Then finishes
/// the recordings and adds `media` and its checks to `result`.
async fn media_call(args: &DialArgs, call: MediaCall, result: &mut Value) {
    let MediaCall {
        pc,
        mut session,
        mut events,
    } = call;
    session.start_sending();
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    // Made once: a SIGINT between two turns of the loop is not lost.
    let interrupted = crate::echo::terminated();
    tokio::pin!(interrupted);
    let ended_by = loop {
        tokio::select! {
            Some(track) = events.tracks.recv() => {
                if let Some(track) = session.on_track(track) {
                    drain(track);
                }
            }
            () = sleep_until(deadline) => break "duration",
            () = session.sending_done(), if deadline.is_none() => {
                session.recording_quiet(Duration::from_secs(1), Duration::from_secs(5)).await;
                break "files sent";
            }
            () = &mut interrupted => break "interrupted",
            () = ended(&mut events.state) => break "peer ended the call",
        }
    };
    // Tracks that came while the loop was busy.
    while let Ok(track) = events.tracks.try_recv() {
        if let Some(track) = session.on_track(track) {
            drain(track);
        }
    }
    let recording = args.media.record.is_some();
    let report = session.finish(&pc).await;
    for line in report.lines() {
        eprintln!("oxirtc dial: {}", crate::term_safe::escape_keep_lines(&line));
    }
    result["checks"]["mediaSent"] = json!(report
        .sent
        .iter()
        .all(|s| s.frames_sent > 0 && s.dropped == 0 && s.error.is_none()));
    if recording {
        // At least one track recorded; none failed (tracks on which nothing came are only noted).
        result["checks"]["mediaRecorded"] = json!(
            report.recorded.iter().any(|r| r.frames_written > 0)
                && report
                    .recorded
                    .iter()
                    .all(|r| r.error.is_none() && (r.frames_received == 0 || r.frames_written > 0))
        );
    }
    result["media"] = media_json(&report, ended_by);
}

fn media_json(report: &MediaReport, ended_by: &str) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or_default();
    v["endedBy"] = json!(ended_by);
    v["partial"] = json!(report.recorded.iter().any(|r| r.partial));
    v
}

/// Reads a track we do not record, so its packets are counted and not queued.
fn drain(mut track: RemoteTrack) {
    tokio::spawn(async move { while track.recv().await.is_some() {} });
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Resolves once the connection failed, closed or its task ended.
async fn ended(state: &mut watch::Receiver<(PeerConnectionState, bool)>) {
    let _ = state
        .wait_for(|(s, gone)| *gone || matches!(s, PeerConnectionState::Failed | PeerConnectionState::Closed))
        .await;
}

/// The connection's events, read by one task: channels and tracks queued for whoever wants them,
/// the state kept.
struct Events {
    channels: mpsc::UnboundedReceiver<DataChannel>,
    tracks: mpsc::UnboundedReceiver<RemoteTrack>,
    state: watch::Receiver<(PeerConnectionState, bool)>,
}

impl Events {
    fn start(pc: &PeerConnection) -> Events {
        let (ch_tx, channels) = mpsc::unbounded_channel();
        let (tr_tx, tracks) = mpsc::unbounded_channel();
        // (state, whether the connection's task has ended)
        let (state_tx, state) = watch::channel((PeerConnectionState::New, false));
        let events = pc.events();
        tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                match ev {
                    PeerConnectionEvent::DataChannel(dc) => {
                        let _ = ch_tx.send(dc);
                    }
                    PeerConnectionEvent::Track(t) => {
                        let _ = tr_tx.send(t);
                    }
                    PeerConnectionEvent::ConnectionState(s) => {
                        state_tx.send_modify(|st| st.0 = s);
                    }
                    _ => {}
                }
            }
            state_tx.send_modify(|st| st.1 = true);
        });
        Events {
            channels,
            tracks,
            state,
        }
    }

    /// The peer's data channel (answer mode).
    async fn channel(&mut self, pc: &PeerConnection) -> anyhow::Result<DataChannel> {
        tokio::select! {
            Some(dc) = self.channels.recv() => return Ok(dc),
            () = ended(&mut self.state) => {}
        }
        match pc.close_reason() {
            Some(why) => bail!("the connection ended before the peer's data channel arrived: {why}"),
            None => bail!("the connection ended before the peer's data channel arrived"),
        }
    }
}

/// The connection's stats once ICE has selected a pair. Data may flow on a valid pair before the
/// nomination lands (RFC 8445 §12.1), so a short exchange can end first; waits up to 2 s for it.
async fn stats_once_selected(pc: &PeerConnection) -> anyhow::Result<oxirtc_tokio::Stats> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let stats = pc.stats().await?;
        if stats.selected_pair.is_some() || Instant::now() >= deadline {
            return Ok(stats);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends the messages (see `echo_check`) and checks each echo; returns the channel, a report and
/// whether the echo check passed.
async fn exchange(
    args: &DialArgs,
    mut dc: DataChannel,
    t0: Instant,
) -> anyhow::Result<(DataChannel, Value, bool)> {
    dc.opened().await.context("data channel did not open")?;
    let open_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let sent = Messages::new(args.messages, args.size, &args.sizes, args.binary);
    let partial = args.max_retransmits.is_some();
    let mut check = EchoCheck::new(&sent, !args.unordered, partial);
    for t in &sent.texts {
        dc.send(Message::text(t.clone())).await?;
    }
    for b in &sent.bins {
        dc.send(Message::binary(b.clone())).await?;
    }
    while !check.complete() {
        // What a partially reliable channel dropped never comes: stop once nothing came for 1 s.
        let next = if partial {
            match tokio::time::timeout(Duration::from_secs(1), dc.recv()).await {
                Ok(m) => m,
                Err(_) => break,
            }
        } else {
            dc.recv().await
        };
        let Some(m) = next else {
            if let Some(why) = dc.close_reason() {
                bail!("the connection ended: {why}");
            }
            break;
        };
        if !m.binary {
            if let Some(x) = m.data.strip_prefix(b"echo-me:") {
                let mut reply = b"echo-reply:".to_vec();
                reply.extend_from_slice(x);
                dc.send(Message {
                    data: reply.into(),
                    binary: false,
                })
                .await?;
                continue;
            }
        }
        check.add(m.binary, &m.data);
    }
    let mut report = check.report();
    report["label"] = json!(dc.label());
    report["ordered"] = json!(!args.unordered);
    report["maxRetransmits"] = json!(args.max_retransmits);
    report["openMs"] = json!(open_ms);
    report["allEchoedMs"] = json!(t0.elapsed().as_secs_f64() * 1000.0);
    Ok((dc, report, check.passed()))
}

/// Closes the channel from our side (`us`) or asks the peer to (`peer`: `cmd:close`), then checks that
/// it closed here and that the connection is still up 200 ms later, so the close came from a stream
/// reset (RFC 8831 §6.7) and not from the connection ending. Keeps the connection another 300 ms: the
/// peer checks its side 250 ms after its close.
async fn close_channel(
    pc: &PeerConnection,
    dc: &mut DataChannel,
    from: &str,
    timeout: u64,
) -> anyhow::Result<(bool, Value)> {
    let t = Instant::now();
    if from == "us" {
        dc.close();
    } else {
        dc.send(Message::text("cmd:close")).await?;
    }
    let closed = tokio::time::timeout(Duration::from_secs(timeout), dc.closed())
        .await
        .is_ok();
    let close_ms = t.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // An error here means the connection has ended.
    let state = pc.stats().await.map(|s| s.state).ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = json!({
        "from": from,
        "closed": closed,
        "closeMs": closed.then_some(close_ms),
        "connectionAfterClose": state.map_or_else(|| "Ended".to_owned(), |s| format!("{s:?}")),
    });
    Ok((closed && state == Some(PeerConnectionState::Connected), report))
}

async fn post(url: &str, body: &SignalRequest) -> anyhow::Result<Value> {
    let url = url.to_owned();
    let body = serde_json::to_value(body)?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<Value> {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(15)).build();
        match agent.post(&url).send_json(body) {
            Ok(resp) => Ok(resp.into_json()?),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                bail!(
                    "signaling POST {url} -> HTTP {code}: {}",
                    text.chars().take(300).collect::<String>()
                )
            }
            Err(e) => bail!("signaling POST {url} failed: {e}"),
        }
    })
    .await?
}
