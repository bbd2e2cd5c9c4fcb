//! Media files in and out of a call, for `oxirtc dial` and `oxirtc echo`: `--send-media FILE...`
//! sends each file on a track of its own, paced in real time by its timestamps (`--loop` restarts
//! it, timestamps still increasing); `--record DIR` writes every received track to a file of its
//! own (see [`record`]).
//!
//! One file per track rather than one per call: a track's codec (and the picture size a Matroska
//! track header needs) is known only once its first keyframe has come, tracks may start at any
//! point of the call or never, H.265 cannot go into the Matroska writer at all, and a track that
//! fails (a write error, a codec we cannot record) leaves the others whole. Each summary says when
//! the track's first frame came, to line the files up (`ffmpeg -itsoffset`).

pub mod picture;
pub mod record;
pub mod source;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use oxirtc::media::{TrackKind, TransceiverInit};
use oxirtc_tokio::{LocalTrack, PeerConnection, RemoteTrack};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use record::{RecordTarget, TrackRecording};
use source::{MediaSource, SendStats, SentFile};

/// The media flags of `oxirtc dial` and `oxirtc echo`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MediaArgs {
    /// Send these media files, one track each, paced in real time: .ivf (VP8, VP9 or AV1 by its
    /// FourCC), .h264/.264 and .h265/.hevc (Annex B), .ogg/.opus (Ogg Opus). The offer carries only
    /// the codecs they need.
    #[arg(long = "send-media", value_name = "FILE", num_args = 1..)]
    pub send_media: Vec<PathBuf>,
    /// Restart each file when it ends (RTP timestamps keep increasing) until the call ends.
    #[arg(long = "loop", requires = "send_media")]
    pub looped: bool,
    /// Frame rate of Annex B files (.h264, .h265), which carry no timestamps.
    #[arg(long, default_value_t = 30, value_name = "FPS")]
    pub fps: u32,
    /// Write every received audio/video track to DIR, one file per track: WebM (VP8, VP9, AV1,
    /// Opus), Matroska (H.264), Annex B (H.265). Existing files are never overwritten.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// The checked media flags: the files opened and read through once, the directory ready.
#[derive(Debug)]
pub struct MediaPlan {
    /// The files to send.
    pub sources: Vec<Arc<MediaSource>>,
    /// `--loop`.
    pub looped: bool,
    /// `--record`.
    pub record: Option<PathBuf>,
}

impl MediaPlan {
    /// The plan for `args`, `None` when no media flag is given. Fails (naming the file and what
    /// to do) on a file that cannot be sent or a directory that cannot be written.
    pub fn from_args(args: &MediaArgs) -> anyhow::Result<Option<MediaPlan>> {
        if args.send_media.is_empty() && args.record.is_none() {
            return Ok(None);
        }
        let sources = args
            .send_media
            .iter()
            .map(|p| MediaSource::open(p, args.fps).map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(dir) = &args.record {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("--record {}: cannot create the directory", dir.display()))?;
            let probe = dir.join(format!(".oxirtc-write-test-{}", std::process::id()));
            std::fs::write(&probe, b"")
                .with_context(|| format!("--record {}: cannot write in the directory", dir.display()))?;
            let _ = std::fs::remove_file(&probe);
        }
        Ok(Some(MediaPlan {
            sources,
            looped: args.looped,
            record: args.record.clone(),
        }))
    }

    /// The video codec of the (first) video file, as `request-offer`'s `videoCodec` names it.
    pub fn video_codec(&self) -> Option<&'static str> {
        self.sources
            .iter()
            .find(|s| s.codec.kind() == TrackKind::Video)
            .map(|s| s.codec.name())
    }

    /// As offerer: a section per file, offering only the file's codec.
    pub async fn add_offer_tracks(
        &self,
        pc: &PeerConnection,
        stream_id: &str,
    ) -> anyhow::Result<Vec<Sending>> {
        let mut out = Vec::new();
        for s in &self.sources {
            let init = TransceiverInit {
                stream_id: Some(stream_id.to_owned()),
                codecs: s.codec.codecs(),
                ..TransceiverInit::default()
            };
            let track = pc
                .add_transceiver(s.codec.kind(), init)
                .await
                .with_context(|| format!("adding a track for {}", s.path.display()))?;
            out.push(Sending::new(s.clone(), track));
        }
        Ok(out)
    }

    /// As answerer, after the remote offer is applied: each file takes an offered section of its
    /// kind (W3C addTrack). Check the codecs with [`MediaPlan::check_negotiated`] once the answer
    /// is applied.
    pub async fn add_answer_tracks(
        &self,
        pc: &PeerConnection,
        stream_id: &str,
    ) -> anyhow::Result<Vec<Sending>> {
        let mut out = Vec::new();
        for s in &self.sources {
            let track = pc
                .add_track(s.codec.kind(), Some(stream_id))
                .await
                .with_context(|| format!("adding a track for {}", s.path.display()))?;
            out.push(Sending::new(s.clone(), track));
        }
        Ok(out)
    }

    /// Once both descriptions are applied: every file's section sends, with the file's codec.
    pub async fn check_negotiated(tracks: &[Sending]) -> anyhow::Result<()> {
        for t in tracks {
            let want = t.source.codec;
            let kind = match want.kind() {
                TrackKind::Audio => "audio",
                TrackKind::Video => "video",
            };
            match t.track.codec().await.context("reading the negotiated codec")? {
                None => bail!(
                    "the peer's description has no {kind} section {} can be sent on (one sending section per \
                     file of its kind, with {} among its codecs)",
                    t.source.path.display(),
                    want.name()
                ),
                Some(c) if !want.matches(&c.codec) => bail!(
                    "{} is {} but the section negotiated {} to send (the offer's first codec we support); a \
                     file cannot be transcoded: offer {} first, or let oxirtc offer",
                    t.source.path.display(),
                    want.name(),
                    c.codec.name,
                    want.name()
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// A file and the track it goes out on.
#[derive(Debug, Clone)]
pub struct Sending {
    /// The file.
    pub source: Arc<MediaSource>,
    /// The track.
    pub track: LocalTrack,
    stats: Arc<SendStats>,
}

impl Sending {
    fn new(source: Arc<MediaSource>, track: LocalTrack) -> Self {
        Sending {
            source,
            track,
            stats: Arc::default(),
        }
    }
}

/// What was sent and recorded in one call.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaReport {
    /// One entry per file sent.
    pub sent: Vec<SentFile>,
    /// One entry per track received.
    pub recorded: Vec<TrackRecording>,
}

impl MediaReport {
    /// Summary lines for people.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .sent
            .iter()
            .map(|s| {
                let mut l = format!(
                    "sent {} ({}, mid {}): {} frames ({} in the file, {} pass{})",
                    s.file.display(),
                    s.codec,
                    s.mid.as_deref().unwrap_or("-"),
                    s.frames_sent,
                    s.frames_in_file,
                    s.passes,
                    if s.passes == 1 { "" } else { "es" }
                );
                if s.dropped > 0 {
                    l.push_str(&format!(", {} not sent by the connection", s.dropped));
                }
                if s.keyframe_requests > 0 {
                    l.push_str(&format!(
                        ", {} keyframe request{} answered only by the file's own keyframes",
                        s.keyframe_requests,
                        if s.keyframe_requests == 1 { "" } else { "s" }
                    ));
                }
                if let Some(e) = &s.error {
                    l.push_str(&format!(", stopped early: {e}"));
                }
                l
            })
            .collect();
        out.extend(self.recorded.iter().map(|r| format!("recorded {}", r.line())));
        out
    }
}

/// The media of one call: files going out, tracks being recorded.
pub struct MediaSession {
    plan: Arc<MediaPlan>,
    sending: Vec<Sending>,
    senders: Vec<JoinHandle<()>>,
    recorders: Vec<JoinHandle<TrackRecording>>,
    stop: watch::Sender<bool>,
    epoch: std::time::Instant,
    /// The latest frame recorded, in ms since `epoch` (0: none yet).
    activity: Arc<AtomicU64>,
    prefix: String,
}

impl MediaSession {
    /// A session for `plan`; recordings are named `PREFIXmidM-CODEC.EXT`.
    pub fn new(plan: Arc<MediaPlan>, prefix: &str) -> Self {
        MediaSession {
            plan,
            sending: Vec::new(),
            senders: Vec::new(),
            recorders: Vec::new(),
            stop: watch::Sender::new(false),
            epoch: std::time::Instant::now(),
            activity: Arc::default(),
            prefix: prefix.to_owned(),
        }
    }

    /// The files and their tracks (from [`MediaPlan::add_offer_tracks`] or `add_answer_tracks`).
    pub fn set_sending(&mut self, sending: Vec<Sending>) {
        self.sending = sending;
    }

    /// The files and their tracks.
    pub fn sending(&self) -> &[Sending] {
        &self.sending
    }

    /// Starts sending every file now (once: later calls do nothing). Call it when the connection
    /// is up: frames written before are dropped by the connection.
    pub fn start_sending(&mut self) {
        if !self.senders.is_empty() || self.sending.is_empty() {
            return;
        }
        let start = Instant::now();
        for s in &self.sending {
            self.senders.push(tokio::spawn(source::send(
                s.source.clone(),
                s.track.clone(),
                start,
                self.plan.looped,
                self.stop.subscribe(),
                s.stats.clone(),
            )));
        }
    }

    /// Records `track` with `--record`; gives it back otherwise.
    pub fn on_track(&mut self, track: RemoteTrack) -> Option<RemoteTrack> {
        let Some(dir) = &self.plan.record else {
            return Some(track);
        };
        let target = RecordTarget {
            dir: dir.clone(),
            prefix: self.prefix.clone(),
        };
        self.recorders.push(tokio::spawn(record::record(
            track,
            target,
            self.stop.subscribe(),
            self.epoch,
            self.activity.clone(),
        )));
        None
    }

    /// Waits until every file has been sent (never with `--loop`, or with nothing to send).
    pub async fn sending_done(&self) {
        if self.plan.looped || self.senders.is_empty() {
            std::future::pending::<()>().await;
        }
        while !self.senders.iter().all(JoinHandle::is_finished) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until no recorded frame came for `quiet` (or `limit` passed): what the peer sends
    /// back after our last frame has arrived.
    pub async fn recording_quiet(&self, quiet: Duration, limit: Duration) {
        let end = std::time::Instant::now() + limit;
        loop {
            let last = Duration::from_millis(self.activity.load(Ordering::Relaxed));
            let since = self.epoch.elapsed().saturating_sub(last);
            let now = std::time::Instant::now();
            if since >= quiet || now >= end {
                return;
            }
            tokio::time::sleep((quiet - since).min(end - now)).await;
        }
    }

    /// Stops sending, closes the connection (its tracks end once what is queued is read), finishes
    /// every recording and reports.
    pub async fn finish(mut self, pc: &PeerConnection) -> MediaReport {
        self.stop.send_replace(true);
        for h in &mut self.senders {
            let _ = h.await;
        }
        let mut report = MediaReport::default();
        for s in &self.sending {
            report.sent.push(s.stats.summary(&s.source, &s.track));
        }
        pc.close().await;
        for h in self.recorders.drain(..) {
            match h.await {
                Ok(r) => report.recorded.push(r),
                Err(e) => tracing::warn!(error = %e, "recorder task failed"),
            }
        }
        report
    }
}
