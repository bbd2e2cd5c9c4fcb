//! Media files we send: opened and checked once (every frame read, so a bad file fails before the
//! call), then read again frame by frame and paced in real time on a [`LocalTrack`].

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use oxirtc::media::{default_audio_codecs, default_video_codecs, Codec, CodecParameters, TrackKind};
use oxirtc_media_file::{
    opus_packet_duration, AnnexBReader, Frame, IvfReader, MediaError, OggOpusReader, Timebase, VideoCodec,
};
use oxirtc_tokio::LocalTrack;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::picture::keyframe_picture;

/// The codec of a media file, as it is negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCodec {
    /// A video codec (IVF: VP8, VP9, AV1; Annex B: H.264, H.265).
    Video(VideoCodec),
    /// Opus (Ogg Opus).
    Opus,
}

impl FileCodec {
    /// The encoding name in SDP (`a=rtpmap`).
    pub fn name(self) -> &'static str {
        match self {
            FileCodec::Video(VideoCodec::Vp8) => "VP8",
            FileCodec::Video(VideoCodec::Vp9) => "VP9",
            FileCodec::Video(VideoCodec::Av1) => "AV1",
            FileCodec::Video(VideoCodec::H264) => "H264",
            FileCodec::Video(_) => "H265",
            FileCodec::Opus => "opus",
        }
    }

    /// Audio or video.
    pub fn kind(self) -> TrackKind {
        match self {
            FileCodec::Video(_) => TrackKind::Video,
            FileCodec::Opus => TrackKind::Audio,
        }
    }

    /// oxirtc's codecs of this name (with their RTX): what a section sending this file offers.
    pub fn codecs(self) -> Vec<CodecParameters> {
        let all = match self.kind() {
            TrackKind::Video => default_video_codecs(),
            TrackKind::Audio => default_audio_codecs(),
        };
        all.into_iter().filter(|c| c.codec.is(self.name())).collect()
    }

    /// Whether `negotiated` is this codec.
    pub fn matches(self, negotiated: &Codec) -> bool {
        negotiated.is(self.name())
    }
}

/// The container a file is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Ivf,
    AnnexB(VideoCodec),
    Ogg,
}

/// A media file to send, checked: its codec, frame count, keyframes and length.
#[derive(Debug)]
pub struct MediaSource {
    /// The file.
    pub path: PathBuf,
    /// Its codec.
    pub codec: FileCodec,
    /// Frames (Opus: packets) in one pass.
    pub frames: u64,
    /// Index and start time (from the file's start) of each keyframe.
    pub keyframes: Vec<(u64, Duration)>,
    /// One pass: the sum of every frame's duration.
    pub span: Duration,
    container: Container,
    /// Annex B files have no timestamps: this frame rate paces them.
    fps: u32,
}

impl MediaSource {
    /// Opens `path` (its extension says the format), reads it through once and checks that it can
    /// be sent. `fps` paces H.264/H.265 Annex B files.
    pub fn open(path: &Path, fps: u32) -> anyhow::Result<MediaSource> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let container = match ext.as_str() {
            "ivf" => Container::Ivf,
            "h264" | "264" => Container::AnnexB(VideoCodec::H264),
            "h265" | "265" | "hevc" => Container::AnnexB(VideoCodec::H265),
            "ogg" | "opus" => Container::Ogg,
            _ => bail!(
                "{}: unknown media file type `.{ext}`; --send-media takes .ivf (VP8, VP9, AV1), \
                 .h264/.264 (H.264 Annex B), .h265/.hevc (H.265 Annex B) or .ogg/.opus (Ogg Opus)",
                path.display()
            ),
        };
        if !(1..=240).contains(&fps) {
            bail!("--fps {fps}: give a frame rate from 1 to 240");
        }
        let codec = match container {
            Container::Ivf => {
                let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
                let header = *IvfReader::new(BufReader::new(file))
                    .with_context(|| format!("{} is not a readable IVF file", path.display()))?
                    .header();
                match header.codec() {
                    Some(c @ (VideoCodec::Vp8 | VideoCodec::Vp9 | VideoCodec::Av1)) => FileCodec::Video(c),
                    _ => bail!(
                        "{}: IVF FourCC {:?} is not VP8, VP9 or AV1; H.264 and H.265 are sent from Annex B \
                         files (.h264, .h265)",
                        path.display(),
                        String::from_utf8_lossy(&header.fourcc)
                    ),
                }
            }
            Container::AnnexB(c) => FileCodec::Video(c),
            Container::Ogg => FileCodec::Opus,
        };
        let mut source = MediaSource {
            path: path.to_owned(),
            codec,
            frames: 0,
            keyframes: Vec::new(),
            span: Duration::ZERO,
            container,
            fps,
        };
        source.scan()?;
        Ok(source)
    }

    /// A short name for messages: the file name.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Reads every frame once: counts, keyframes, length, and the first keyframe's profile.
    fn scan(&mut self) -> anyhow::Result<()> {
        let mut reader = self.reader()?;
        let mut checked_profile = false;
        while let Some(f) = reader
            .next_frame()
            .with_context(|| format!("reading {}", self.path.display()))?
        {
            if f.keyframe {
                self.keyframes.push((f.index, f.at));
                if !checked_profile {
                    checked_profile = true;
                    self.check_profile(&f.data)?;
                }
            }
            self.frames += 1;
            self.span = f.at + f.duration;
        }
        if self.frames == 0 {
            bail!(
                "{} holds no frames: there is nothing to send",
                self.path.display()
            );
        }
        if self.codec.kind() == TrackKind::Video {
            match self.keyframes.first() {
                None => bail!(
                    "{} has no keyframe: a receiver could not decode any of it",
                    self.path.display()
                ),
                Some((i, _)) if *i > 0 => eprintln!(
                    "oxirtc: warning: {} starts with {i} frames before its first keyframe; a receiver \
                     cannot decode them",
                    self.path.display()
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The profiles oxirtc negotiates: VP9 profile 0, AV1 Main (0), H.264 (Constrained) Baseline.
    fn check_profile(&self, keyframe: &[u8]) -> anyhow::Result<()> {
        let FileCodec::Video(codec) = self.codec else {
            return Ok(());
        };
        let Some(p) = keyframe_picture(codec, keyframe) else {
            return Ok(()); // H.265, or a header this cannot read: the receiver will tell
        };
        let ok = match codec {
            VideoCodec::Vp9 | VideoCodec::Av1 => p.profile == 0,
            VideoCodec::H264 => p.profile == 66 || (p.profile == 77 && p.constrained),
            _ => true,
        };
        if !ok {
            let (what, fix) = match codec {
                VideoCodec::Vp9 => ("VP9 profile", "profile 0 (8-bit 4:2:0; ffmpeg -profile:v 0)"),
                VideoCodec::Av1 => ("AV1 seq_profile", "Main, profile 0 (8/10-bit 4:2:0)"),
                _ => (
                    "H.264 profile_idc",
                    "Constrained Baseline or Baseline (ffmpeg -c:v libx264 -profile:v baseline)",
                ),
            };
            bail!(
                "{}: {what} {} is not negotiated by oxirtc; re-encode it as {fix}",
                self.path.display(),
                p.profile
            );
        }
        Ok(())
    }

    fn reader(&self) -> anyhow::Result<TimedReader> {
        let file = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        let file = BufReader::new(file);
        let what = || format!("{} is not readable", self.path.display());
        let inner = match self.container {
            Container::Ivf => FrameReader::Ivf(IvfReader::new(file).with_context(what)?),
            Container::AnnexB(c) => {
                let rate = Timebase::new(1, self.fps).unwrap_or(Timebase::MILLIS);
                FrameReader::AnnexB(AnnexBReader::new(file, c).with_context(what)?, rate)
            }
            Container::Ogg => FrameReader::Ogg(OggOpusReader::new(file).with_context(what)?),
        };
        Ok(TimedReader {
            inner,
            opus: self.codec == FileCodec::Opus,
            pending: None,
            index: 0,
            at: Duration::ZERO,
            last_delta: None,
        })
    }

    /// The first keyframe after frame `index`, as (index, start time in the file).
    pub fn next_keyframe_after(&self, index: u64) -> Option<(u64, Duration)> {
        self.keyframes.iter().copied().find(|(i, _)| *i > index)
    }
}

enum FrameReader {
    Ivf(IvfReader<BufReader<File>>),
    AnnexB(AnnexBReader<BufReader<File>>, Timebase),
    Ogg(OggOpusReader<BufReader<File>>),
}

impl FrameReader {
    fn read(&mut self) -> Result<Option<Frame>, MediaError> {
        match self {
            FrameReader::Ivf(r) => r.read_frame(),
            FrameReader::AnnexB(r, rate) => Ok(r.read_access_unit()?.map(|au| au.into_frame(*rate))),
            FrameReader::Ogg(r) => r.read_packet(),
        }
    }
}

/// One frame with its place on the sender's clock.
#[derive(Debug, Clone)]
pub struct TimedFrame {
    /// Position in the file (0 = first frame).
    pub index: u64,
    /// When it starts: the sum of the durations of the frames before it (so that pacing and the
    /// RTP timestamps, which `write_frame` also sums from durations, never drift apart).
    pub at: Duration,
    /// How long it lasts: up to the next frame's timestamp (Opus: its TOC's duration; the last
    /// video frame: the file's duration for it, else the delta before it).
    pub duration: Duration,
    /// A keyframe (always for Opus).
    pub keyframe: bool,
    /// The coded bytes, in the frame format `LocalTrack::write_frame` takes.
    pub data: Vec<u8>,
}

/// Frames with durations: reads one frame ahead to know how long each one lasts.
struct TimedReader {
    inner: FrameReader,
    opus: bool,
    pending: Option<Frame>,
    index: u64,
    at: Duration,
    last_delta: Option<Duration>,
}

impl TimedReader {
    fn next_frame(&mut self) -> anyhow::Result<Option<TimedFrame>> {
        let current = match self.pending.take() {
            Some(f) => f,
            None => match self.inner.read()? {
                Some(f) => f,
                None => return Ok(None),
            },
        };
        self.pending = self.inner.read()?;
        let tb = current.timebase;
        let duration = if self.opus {
            let samples = opus_packet_duration(&current.data).with_context(|| {
                format!("Opus packet {} has no valid TOC byte (RFC 6716 §3.1)", self.index)
            })?;
            Duration::from_nanos(u64::from(samples) * 1_000_000_000 / 48_000)
        } else if let Some(next) = &self.pending {
            let delta = next.pts - current.pts;
            if delta <= 0 {
                bail!(
                    "frame {} has timestamp {} and the next one {}: timestamps must increase",
                    self.index,
                    current.pts,
                    next.pts
                );
            }
            ticks(delta, tb)
        } else {
            match current.duration {
                Some(d) if d > 0 => ticks(i64::try_from(d).unwrap_or(i64::MAX), tb),
                _ => self.last_delta.unwrap_or_else(|| ticks(1, tb)),
            }
        };
        self.last_delta = Some(duration);
        let frame = TimedFrame {
            index: self.index,
            at: self.at,
            duration,
            keyframe: current.keyframe,
            data: current.data,
        };
        self.index += 1;
        self.at += duration;
        Ok(Some(frame))
    }
}

/// `n` ticks of `tb` (at most a day: a longer gap in a file is a broken timestamp).
fn ticks(n: i64, tb: Timebase) -> Duration {
    let nanos = i128::from(n) * i128::from(tb.num()) * 1_000_000_000 / i128::from(tb.den());
    Duration::from_nanos(u64::try_from(nanos.clamp(0, 86_400 * 1_000_000_000)).unwrap_or(0))
}

/// What a sender did, for the summary.
#[derive(Debug, Default)]
pub struct SendStats {
    frames: AtomicU64,
    passes: AtomicU64,
    keyframe_requests: AtomicU64,
    error: Mutex<Option<String>>,
    /// The section's mid, read when sending starts (the connection may be gone at the summary).
    mid: Mutex<Option<String>>,
}

/// The summary of one sent file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentFile {
    /// The file.
    pub file: PathBuf,
    /// The codec sent.
    pub codec: String,
    /// The section's mid.
    pub mid: Option<String>,
    /// Frames in one pass of the file.
    pub frames_in_file: u64,
    /// Frames handed to the connection.
    pub frames_sent: u64,
    /// Passes begun (more than 1 with `--loop`).
    pub passes: u64,
    /// Frames the connection could not send (`LocalTrack::dropped`).
    pub dropped: u64,
    /// Keyframe requests from the peer (a file cannot honour them before its next keyframe).
    pub keyframe_requests: u64,
    /// Why sending stopped early, if it did.
    pub error: Option<String>,
}

impl SendStats {
    /// The summary of `source` sent on `track`.
    pub fn summary(&self, source: &MediaSource, track: &LocalTrack) -> SentFile {
        SentFile {
            file: source.path.clone(),
            codec: source.codec.name().to_owned(),
            mid: self.mid.lock().ok().and_then(|m| m.clone()),
            frames_in_file: source.frames,
            frames_sent: self.frames.load(Ordering::Relaxed),
            passes: self.passes.load(Ordering::Relaxed),
            dropped: track.dropped(),
            keyframe_requests: self.keyframe_requests.load(Ordering::Relaxed),
            error: self.error.lock().ok().and_then(|e| e.clone()),
        }
    }

    fn fail(&self, why: String) {
        if let Ok(mut e) = self.error.lock() {
            e.get_or_insert(why);
        }
    }
}

/// Sends `source` on `track` in real time from `start` (frame i of pass p at `start + p × span +
/// at_i`), once or, with `looped`, until `stop` turns true. Keyframe requests are logged: a file
/// cannot make a keyframe, the next one in the file is the earliest answer.
pub async fn send(
    source: Arc<MediaSource>,
    track: LocalTrack,
    start: Instant,
    looped: bool,
    mut stop: watch::Receiver<bool>,
    stats: Arc<SendStats>,
) {
    if let (Ok(Some(mid)), Ok(mut slot)) = (track.mid().await, stats.mid.lock()) {
        *slot = Some(mid);
    }
    let (tx, mut rx) = mpsc::channel::<anyhow::Result<(u64, TimedFrame)>>(16);
    let reader_source = source.clone();
    // File reads block: a thread of their own, a few frames ahead of the pacing.
    tokio::task::spawn_blocking(move || read_passes(&reader_source, looped, &tx));
    let mut next = rx.recv().await;
    let mut last_log: Option<Instant> = None;
    let mut position = (0u64, 0u64); // (pass, index) of the last frame sent
    while !*stop.borrow() {
        let Some(item) = next.take() else {
            break; // every pass read and sent
        };
        let (pass, frame) = match item {
            Ok(f) => f,
            Err(e) => {
                stats.fail(format!("{}: {e:#}", source.path.display()));
                break;
            }
        };
        let due = start + pass_offset(&source, pass) + frame.at;
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            () = track.keyframe_requested() => {
                let n = stats.keyframe_requests.fetch_add(1, Ordering::Relaxed) + 1;
                if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) {
                    last_log = Some(Instant::now());
                    eprintln!("oxirtc: {}", keyframe_note(&source, position, looped, start, n));
                }
                next = Some(Ok((pass, frame)));
                continue;
            }
            () = tokio::time::sleep_until(due) => {}
        }
        if frame.index == 0 {
            stats.passes.fetch_add(1, Ordering::Relaxed);
        }
        position = (pass, frame.index);
        if track.write_frame(frame.data, frame.duration).is_err() {
            stats.fail("the connection closed while sending".into());
            break;
        }
        stats.frames.fetch_add(1, Ordering::Relaxed);
        next = rx.recv().await;
    }
}

fn pass_offset(source: &MediaSource, pass: u64) -> Duration {
    source
        .span
        .saturating_mul(u32::try_from(pass).unwrap_or(u32::MAX))
}

/// What to tell the user when the peer asks for a keyframe while we are at `(pass, index)`.
fn keyframe_note(
    source: &MediaSource,
    (pass, index): (u64, u64),
    looped: bool,
    start: Instant,
    n: u64,
) -> String {
    let name = source.name();
    let asked = if n == 1 {
        "the peer asked for a keyframe".to_owned()
    } else {
        format!("the peer asked for a keyframe ({n} requests so far)")
    };
    let now = Instant::now();
    let in_secs = |pass: u64, at: Duration| {
        (start + pass_offset(source, pass) + at)
            .saturating_duration_since(now)
            .as_secs_f64()
    };
    match source.next_keyframe_after(index) {
        Some((k, at)) => format!(
            "{name}: {asked}; a file cannot make one on demand: the next is frame {k} of {}, in {:.1} s",
            source.frames,
            in_secs(pass, at)
        ),
        None if looped => format!(
            "{name}: {asked}; a file cannot make one on demand: the next is frame 0 when the file restarts, in {:.1} s",
            in_secs(pass + 1, Duration::ZERO)
        ),
        None => format!(
            "{name}: {asked}; a file cannot make one on demand and none is left before the file ends"
        ),
    }
}

/// The reader thread: every frame of every pass (one without `looped`), until the receiver goes.
fn read_passes(source: &MediaSource, looped: bool, tx: &mpsc::Sender<anyhow::Result<(u64, TimedFrame)>>) {
    for pass in 0.. {
        let mut reader = match source.reader() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    if tx.blocking_send(Ok((pass, f))).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        if !looped {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../crates/oxirtc-media-file/fixtures")
            .join(name)
    }

    #[test]
    fn fixtures_open_with_their_counts_and_keyframes() {
        for (name, codec) in [
            ("vp8.ivf", "VP8"),
            ("vp9.ivf", "VP9"),
            ("av1.ivf", "AV1"),
            ("h264.h264", "H264"),
            ("h264-aud.h264", "H264"),
            ("h265.h265", "H265"),
        ] {
            let s = MediaSource::open(&fixture(name), 30).unwrap();
            assert_eq!(s.codec.name(), codec, "{name}");
            assert_eq!(s.frames, 60, "{name}");
            let keys: Vec<u64> = s.keyframes.iter().map(|k| k.0).collect();
            assert_eq!(keys, [0, 30], "{name}");
            // 60 frames of 1/30 s: exactly 2 s (durations carry nanoseconds: 33_333_333 each).
            assert!((s.span.as_secs_f64() - 2.0).abs() < 1e-6, "{name}: {:?}", s.span);
            assert_eq!(s.keyframes[1].1, Duration::from_nanos(30 * 33_333_333), "{name}");
            assert!(!s.codec.codecs().is_empty() && s.codec.codecs().iter().all(|c| c.codec.is(codec)));
        }
        let opus = MediaSource::open(&fixture("opus.ogg"), 30).unwrap();
        assert_eq!((opus.codec, opus.frames), (FileCodec::Opus, 101));
        // Every packet lasts its full 20 ms on the wire (the trimmed end is the decoder's business).
        assert_eq!(opus.span, Duration::from_millis(2020));
        assert_eq!(opus.codec.kind(), TrackKind::Audio);
    }

    #[test]
    fn annexb_frame_rate_sets_the_pace() {
        let s = MediaSource::open(&fixture("h264.h264"), 60).unwrap();
        assert!((s.span.as_secs_f64() - 1.0).abs() < 1e-6);
        assert!(MediaSource::open(&fixture("h264.h264"), 0).is_err());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |p: &Path| format!("{:#}", MediaSource::open(p, 30).unwrap_err());
        assert!(err(Path::new("clip.mp4")).contains("unknown media file type `.mp4`"));
        assert!(err(Path::new("/nonexistent/x.ivf")).contains("cannot open /nonexistent/x.ivf"));
        let dir = std::env::temp_dir().join(format!("oxirtc-source-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // An Ogg file that is really IVF; an IVF file cut in its third frame.
        let wrong = dir.join("wrong.ogg");
        std::fs::copy(fixture("vp8.ivf"), &wrong).unwrap();
        assert!(
            err(&wrong).contains("wrong.ogg is not readable"),
            "{}",
            err(&wrong)
        );
        let cut = dir.join("cut.ivf");
        let bytes = std::fs::read(fixture("vp8.ivf")).unwrap();
        std::fs::write(&cut, &bytes[..5000]).unwrap();
        assert!(err(&cut).contains("truncated"), "{}", err(&cut));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn looped_passes_keep_timestamps_increasing() {
        let s = MediaSource::open(&fixture("vp8.ivf"), 30).unwrap();
        let (tx, mut rx) = mpsc::channel(200);
        let handle = std::thread::spawn(move || read_passes(&s, true, &tx));
        let s = MediaSource::open(&fixture("vp8.ivf"), 30).unwrap();
        let mut last = None;
        let mut keys = Vec::new();
        for n in 0..150u64 {
            let (pass, f) = rx.blocking_recv().unwrap().unwrap();
            assert_eq!((pass, f.index), (n / 60, n % 60));
            let t = pass_offset(&s, pass) + f.at;
            assert!(last.is_none_or(|l| t > l), "frame {n} at {t:?} after {last:?}");
            last = Some(t);
            if f.keyframe {
                keys.push(n);
            }
        }
        assert_eq!(keys, [0, 30, 60, 90, 120]);
        drop(rx);
        handle.join().unwrap();
        assert_eq!(
            s.next_keyframe_after(0),
            Some((30, Duration::from_nanos(999_999_990)))
        );
        assert_eq!(s.next_keyframe_after(30), None);
    }
}
