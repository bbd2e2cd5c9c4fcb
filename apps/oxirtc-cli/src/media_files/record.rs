//! Recording received tracks: one file per track, frames from `RemoteTrack::recv_frame`, written
//! by a thread of its own so the network never waits on the disk.
//!
//! - VP8, VP9, AV1 and Opus go to WebM (`.webm`), H.264 (from Annex B) to Matroska (`.mkv`), with
//!   `oxirtc_media_file::MkvWriter`. H.265 goes to a raw Annex B stream (`.h265`): the writer has
//!   no H.265 track (no hvcC), and a raw stream keeps no timestamps (players assume a frame rate).
//! - Timestamps are the RTP timestamps, unwrapped (RFC 3550 §5.1: they wrap at 2^32) and rebased so
//!   that the track's first written frame is at 0.
//! - Video starts at a keyframe whose picture size can be read, and after a frame was lost in
//!   transit skips to the next keyframe (the frames in between would not decode): `recv_frame`
//!   already drops those after an incomplete frame (counted as `undecodable`); the recorder also
//!   covers frames lost as malformed or too large (`RemoteTrack::frames_lost`).
//! - One RTP stream per track (the first SSRC written); frames of others (simulcast layers) are
//!   counted and left out.
//!
//! Everything left out is counted, and a recording that left out anything is `partial`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use oxirtc::media::TrackKind;
use oxirtc_media_file::{
    opus_packet_duration, Frame, MediaError, MkvWriter, OpusHead, Timebase, TrackId, VideoCodec,
};
use oxirtc_tokio::{ReceivedFrame, RemoteTrack};
use serde::Serialize;
use tokio::sync::watch;

use super::picture::keyframe_picture;

/// Frames queued for a recorder's writer thread; beyond this (a disk that does not keep up) new
/// frames are dropped and counted.
const WRITER_QUEUE: usize = 512;

/// How long a recorder keeps reading after it was told to stop (the connection is closing: what
/// is queued still arrives), before it finishes its file anyway.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What was left out of a recording, by cause.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    /// Video frames before the first keyframe whose picture could be read.
    pub before_keyframe: u64,
    /// Frames lost in transit (a packet never came, or came too late): never assembled.
    pub lost_in_transit: u64,
    /// Video frames after such a loss, skipped until the next keyframe (they would not decode).
    pub after_loss: u64,
    /// Video frames the track itself dropped while waiting for a keyframe, at its start or after
    /// a loss (`RemoteTrack::frames_skipped`).
    pub undecodable: u64,
    /// Frames whose timestamp went back (a stream restart); the writer keeps a track in order.
    pub out_of_order: u64,
    /// Frames the writer refused (empty, over 16 MiB, H.264 before its SPS/PPS).
    pub refused: u64,
    /// Frames dropped because the disk did not keep up.
    pub writer_behind: u64,
    /// RTP packets dropped because the track was not read fast enough.
    pub packets_overflowed: u64,
    /// Frames assembled but not read in time.
    pub frames_overflowed: u64,
    /// Frames of a codec this cannot record, or after a write error.
    pub not_written: u64,
}

impl Dropped {
    /// Everything left out.
    pub fn total(&self) -> u64 {
        self.before_keyframe
            + self.lost_in_transit
            + self.after_loss
            + self.undecodable
            + self.out_of_order
            + self.refused
            + self.writer_behind
            + self.packets_overflowed
            + self.frames_overflowed
            + self.not_written
    }
}

/// The summary of one recorded track.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackRecording {
    /// The section's mid.
    pub mid: String,
    /// `audio` or `video`.
    pub kind: &'static str,
    /// The codec, once a frame came.
    pub codec: Option<String>,
    /// The file written, once a frame could be written.
    pub file: Option<PathBuf>,
    /// `webm`, `matroska` or `h265-annexb`.
    pub format: Option<&'static str>,
    /// Frames that came (of the recorded stream and others).
    pub frames_received: u64,
    /// Frames in the file.
    pub frames_written: u64,
    /// The recorded span: last timestamp − first, in ms.
    pub duration_ms: f64,
    /// When the first frame came, from the recorder's start (≈ the connection's), in ms: the offset
    /// to line the per-track files up with each other.
    pub first_frame_after_ms: Option<f64>,
    /// What was left out.
    pub dropped: Dropped,
    /// Frames of other RTP streams on the track (simulcast layers), not recorded.
    pub other_streams: u64,
    /// Audio: time the packets' timestamps skip (ms): lost packets, or a sender's silence (DTX)
    /// that sends nothing. Frames carry no sequence numbers, so the two cannot be told apart here.
    pub audio_gaps_ms: f64,
    /// A write error that ended the recording early.
    pub error: Option<String>,
    /// True when the file is not the whole track: something was left out, an error ended it, or
    /// frames came and none could be written. (A track on which nothing came is not partial: it
    /// has no file.)
    pub partial: bool,
}

impl TrackRecording {
    /// One line for people: `FILE (CODEC): N frames, ...`.
    pub fn line(&self) -> String {
        let file = self
            .file
            .as_ref()
            .map_or_else(|| "(no file)".to_owned(), |f| f.display().to_string());
        if self.frames_received == 0 && self.error.is_none() {
            return format!(
                "mid {} ({}): nothing received, no file written",
                self.mid, self.kind
            );
        }
        let codec = self.codec.as_deref().unwrap_or("no frames");
        let mut s = format!(
            "{file} ({codec}, mid {}): {} frames written of {} received, {:.1} s",
            self.mid,
            self.frames_written,
            self.frames_received,
            self.duration_ms / 1000.0
        );
        if self.partial {
            s.push_str(", PARTIAL");
            let d = &self.dropped;
            let parts = [
                (d.before_keyframe, "before the first keyframe"),
                (d.lost_in_transit, "lost in transit"),
                (d.after_loss, "skipped after a loss until a keyframe"),
                (d.undecodable, "dropped by the track until a keyframe"),
                (d.out_of_order, "with timestamps going back"),
                (d.refused, "refused by the writer"),
                (d.writer_behind, "dropped as the disk fell behind"),
                (d.frames_overflowed, "not read in time"),
                (d.not_written, "not written"),
            ];
            for (n, what) in parts.iter().filter(|(n, _)| *n > 0) {
                s.push_str(&format!("; {n} frames {what}"));
            }
            if d.packets_overflowed > 0 {
                s.push_str(&format!(
                    "; {} packets overflowed the track queue",
                    d.packets_overflowed
                ));
            }
            if let Some(e) = &self.error {
                s.push_str(&format!("; error: {e}"));
            }
            if self.frames_written == 0 && self.error.is_none() {
                s.push_str("; nothing written");
            }
        } else {
            s.push_str(", nothing dropped");
        }
        if self.audio_gaps_ms > 0.0 {
            s.push_str(&format!(
                "; the audio timestamps skip {:.0} ms in all (lost packets or the sender's silence)",
                self.audio_gaps_ms
            ));
        }
        if self.other_streams > 0 {
            s.push_str(&format!(
                "; {} frames of other RTP streams (simulcast layers) not recorded",
                self.other_streams
            ));
        }
        s
    }
}

/// Where a recorder writes: `DIR/PREFIXmidM-CODEC.EXT`.
#[derive(Debug, Clone)]
pub struct RecordTarget {
    /// The directory.
    pub dir: PathBuf,
    /// Put before `mid...` (e.g. `session3-`).
    pub prefix: String,
}

/// A frame on its way to the writer thread, with the track's lost-frame count when it came.
struct Queued {
    frame: ReceivedFrame,
    lost_total: u64,
    at: Duration,
}

/// Records `track` until it ends (the connection closed) or, `STOP_GRACE` after `stop` turns
/// true, anyway. `activity` holds the time (ms since `epoch`) of the latest frame.
pub async fn record(
    mut track: RemoteTrack,
    target: RecordTarget,
    mut stop: watch::Receiver<bool>,
    epoch: Instant,
    activity: Arc<AtomicU64>,
) -> TrackRecording {
    let mid = track.mid().to_owned();
    let kind = track.kind();
    let (tx, rx) = std_mpsc::sync_channel::<Queued>(WRITER_QUEUE);
    let writer_mid = mid.clone();
    let writer = std::thread::spawn(move || {
        let mut r = TrackRecorder::new(target, writer_mid, kind);
        for q in rx {
            r.push(&q.frame, q.lost_total, q.at);
        }
        r
    });
    let mut behind = 0;
    let grace = async {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        tokio::time::sleep(STOP_GRACE).await;
    };
    tokio::pin!(grace);
    loop {
        tokio::select! {
            f = track.recv_frame() => {
                let Some(frame) = f else { break };
                let at = epoch.elapsed();
                activity.store(u64::try_from(at.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
                let q = Queued { frame, lost_total: track.frames_lost(), at };
                if let Err(std_mpsc::TrySendError::Full(_)) = tx.try_send(q) {
                    behind += 1;
                }
            }
            () = &mut grace => break,
        }
    }
    drop(tx);
    let recorder = tokio::task::spawn_blocking(move || writer.join())
        .await
        .ok()
        .and_then(Result::ok);
    let (_, frames_overflowed, undecodable) = track.frames_skipped();
    let counts = TrackCounts {
        writer_behind: behind,
        packets_overflowed: track.dropped(),
        frames_overflowed,
        undecodable,
        lost_in_transit: track.frames_lost(),
    };
    match recorder {
        Some(r) => r.finish(counts),
        None => TrackRecording {
            mid,
            kind: kind_name(kind),
            codec: None,
            file: None,
            format: None,
            frames_received: 0,
            frames_written: 0,
            duration_ms: 0.0,
            first_frame_after_ms: None,
            dropped: Dropped::default(),
            other_streams: 0,
            audio_gaps_ms: 0.0,
            error: Some("the recorder's writer thread panicked; the file may be incomplete".into()),
            partial: true,
        },
    }
}

fn kind_name(kind: TrackKind) -> &'static str {
    match kind {
        TrackKind::Audio => "audio",
        TrackKind::Video => "video",
    }
}

/// Counters only the track knows, added when the recording ends.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrackCounts {
    /// Frames dropped before the writer thread.
    pub writer_behind: u64,
    /// `RemoteTrack::dropped`.
    pub packets_overflowed: u64,
    /// `RemoteTrack::frames_skipped().1`.
    pub frames_overflowed: u64,
    /// `RemoteTrack::frames_skipped().2`.
    pub undecodable: u64,
    /// `RemoteTrack::frames_lost`.
    pub lost_in_transit: u64,
}

enum Sink {
    Mkv {
        writer: Box<MkvWriter<BufWriter<File>>>,
        track: TrackId,
    },
    AnnexB(BufWriter<File>),
}

/// The recording of one track, frame by frame (no I/O but the file; testable without a network).
pub struct TrackRecorder {
    target: RecordTarget,
    mid: String,
    kind: TrackKind,
    codec: Option<oxirtc::media::Codec>,
    sink: Option<Sink>,
    file: Option<PathBuf>,
    format: Option<&'static str>,
    ssrc: Option<u32>,
    /// (last RTP timestamp, its unwrapped value), and the first unwrapped value written.
    clock: Option<(u32, i64)>,
    first_ts: Option<i64>,
    last_pts: i64,
    /// Audio: where the last packet ends (its timestamp plus its duration).
    audio_end: Option<i64>,
    audio_gaps: i64,
    lost_seen: u64,
    need_keyframe: bool,
    received: u64,
    written: u64,
    first_frame_at: Option<Duration>,
    dropped: Dropped,
    other_streams: u64,
    error: Option<String>,
}

impl TrackRecorder {
    /// A recorder of the track `mid` writing into `target`; the file is made with the first
    /// frame that can be written.
    pub fn new(target: RecordTarget, mid: String, kind: TrackKind) -> Self {
        TrackRecorder {
            target,
            mid,
            kind,
            codec: None,
            sink: None,
            file: None,
            format: None,
            ssrc: None,
            clock: None,
            first_ts: None,
            last_pts: 0,
            audio_end: None,
            audio_gaps: 0,
            lost_seen: 0,
            need_keyframe: kind == TrackKind::Video,
            received: 0,
            written: 0,
            first_frame_at: None,
            dropped: Dropped::default(),
            other_streams: 0,
            error: None,
        }
    }

    /// Takes one frame; `lost_total` is the track's `frames_lost()` when it came, `at` its arrival
    /// since the recording began.
    pub fn push(&mut self, frame: &ReceivedFrame, lost_total: u64, at: Duration) {
        self.received += 1;
        self.first_frame_at.get_or_insert(at);
        if lost_total > self.lost_seen {
            self.lost_seen = lost_total;
            if self.kind == TrackKind::Video && self.sink.is_some() {
                self.need_keyframe = true;
            }
        }
        if self.ssrc.is_some_and(|s| s != frame.ssrc) {
            self.other_streams += 1;
            return;
        }
        if self.error.is_some() {
            self.dropped.not_written += 1;
            return;
        }
        if self.codec.is_none() {
            self.codec = Some(frame.codec.clone());
        }
        let video = video_codec(&frame.codec);
        if self.kind == TrackKind::Video && self.need_keyframe {
            let readable = frame.keyframe
                && match video {
                    Some(VideoCodec::H265) => true,
                    Some(c) => keyframe_picture(c, &frame.data).is_some(),
                    None => true, // refused below
                };
            if !readable {
                if self.sink.is_some() {
                    self.dropped.after_loss += 1;
                } else {
                    self.dropped.before_keyframe += 1;
                }
                return;
            }
        }
        if self.sink.is_none() {
            if let Err(e) = self.open(frame, video) {
                self.error = Some(e);
                self.dropped.not_written += 1;
                return;
            }
            self.ssrc = Some(frame.ssrc);
        }
        // Unwrap the RTP timestamp (RFC 3550: 32 bits, wrapping; a step back is a signed delta).
        let ts = match self.clock {
            None => i64::from(frame.rtp_timestamp),
            Some((last, ext)) => ext + i64::from(frame.rtp_timestamp.wrapping_sub(last) as i32),
        };
        let first = *self.first_ts.get_or_insert(ts);
        let pts = ts - first;
        if pts < self.last_pts {
            self.dropped.out_of_order += 1;
            return;
        }
        self.clock = Some((frame.rtp_timestamp, ts));
        self.last_pts = pts;
        if self.kind == TrackKind::Audio {
            let clock = i64::from(frame.codec.clock_rate.max(1));
            let duration = opus_packet_duration(&frame.data).map_or(0, |d| i64::from(d) * clock / 48_000);
            if let Some(end) = self.audio_end {
                // More than 2.5 ms past the end of the last packet: a gap.
                if pts - end > clock / 400 {
                    self.audio_gaps += pts - end;
                }
            }
            self.audio_end = Some(pts + duration);
        }
        let result = match &mut self.sink {
            Some(Sink::Mkv { writer, track }) => {
                let clock = frame.codec.clock_rate.max(1);
                let f = Frame {
                    data: frame.data.clone(),
                    pts,
                    timebase: Timebase::new(1, clock).unwrap_or(Timebase::RTP_VIDEO),
                    keyframe: frame.keyframe,
                    duration: (self.kind == TrackKind::Audio)
                        .then(|| {
                            opus_packet_duration(&frame.data)
                                .map(|d| u64::from(d) * u64::from(clock) / 48_000)
                        })
                        .flatten(),
                };
                let before = writer.frames_dropped();
                match writer.write_frame(*track, &f) {
                    Ok(()) if writer.frames_dropped() > before => {
                        self.dropped.refused += 1;
                        Ok(false)
                    }
                    Ok(()) => Ok(true),
                    Err(e @ MediaError::Io { .. }) => Err(e.to_string()),
                    Err(_) => {
                        self.dropped.refused += 1;
                        Ok(false)
                    }
                }
            }
            Some(Sink::AnnexB(w)) => {
                if frame.data.starts_with(&[0, 0, 1]) || frame.data.starts_with(&[0, 0, 0, 1]) {
                    w.write_all(&frame.data).map(|()| true).map_err(|e| {
                        format!(
                            "writing {}: {e}",
                            self.file.as_deref().unwrap_or(Path::new("?")).display()
                        )
                    })
                } else {
                    self.dropped.refused += 1;
                    Ok(false)
                }
            }
            None => Ok(false),
        };
        match result {
            Ok(true) => {
                self.written += 1;
                if frame.keyframe {
                    self.need_keyframe = false;
                }
            }
            Ok(false) => {}
            Err(e) => {
                self.error = Some(e);
                self.dropped.not_written += 1;
            }
        }
    }

    /// Makes the file for the first frame that can be written.
    fn open(&mut self, frame: &ReceivedFrame, video: Option<VideoCodec>) -> Result<(), String> {
        let codec = &frame.codec;
        let (ext, format) = match (self.kind, video) {
            (TrackKind::Audio, _) if codec.is("opus") => ("webm", "webm"),
            (TrackKind::Video, Some(VideoCodec::H264)) => ("mkv", "matroska"),
            (TrackKind::Video, Some(VideoCodec::H265)) => ("h265", "h265-annexb"),
            (TrackKind::Video, Some(_)) => ("webm", "webm"),
            _ => {
                return Err(format!(
                    "cannot record {}: oxirtc records Opus, VP8, VP9, AV1, H.264 (WebM/Matroska) and H.265 \
                     (Annex B)",
                    codec.name
                ))
            }
        };
        let name = format!(
            "{}mid{}-{}.{ext}",
            self.target.prefix,
            safe_name(&self.mid),
            safe_name(&codec.name.to_ascii_lowercase())
        );
        let path = self.target.dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    format!(
                        "{} already exists: record into an empty directory, or remove it",
                        path.display()
                    )
                } else {
                    format!("cannot create {}: {e}", path.display())
                }
            })?;
        let out = BufWriter::new(file);
        let sink = match (self.kind, video) {
            (TrackKind::Video, Some(VideoCodec::H265)) => Sink::AnnexB(out),
            (TrackKind::Video, Some(c)) => {
                let p = keyframe_picture(c, &frame.data).ok_or_else(|| {
                    format!("the first {} keyframe has no readable picture size", codec.name)
                })?;
                let mut writer = MkvWriter::new_seekable(out).map_err(|e| e.to_string())?;
                let dim = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
                let track = writer
                    .add_video_track(c, dim(p.width), dim(p.height))
                    .map_err(|e| e.to_string())?;
                Sink::Mkv {
                    writer: Box::new(writer),
                    track,
                }
            }
            _ => {
                // The TOC's stereo flag (RFC 6716 §3.1) of the first packet; no pre-skip is known
                // for a live stream (the encoder's delay plays as a few ms of silence).
                let channels = if frame.data.first().is_some_and(|toc| toc & 0x04 != 0) {
                    2
                } else {
                    1
                };
                let mut writer = MkvWriter::new_seekable(out).map_err(|e| e.to_string())?;
                let track = writer
                    .add_opus_track(&OpusHead::new(channels, 0))
                    .map_err(|e| e.to_string())?;
                Sink::Mkv {
                    writer: Box::new(writer),
                    track,
                }
            }
        };
        self.sink = Some(sink);
        self.file = Some(path);
        self.format = Some(format);
        Ok(())
    }

    /// Finishes the file and says what it holds.
    pub fn finish(mut self, counts: TrackCounts) -> TrackRecording {
        let clock = self.codec.as_ref().map_or(90_000, |c| c.clock_rate.max(1));
        let finished = match self.sink.take() {
            Some(Sink::Mkv { writer, .. }) => writer
                .finish()
                .map_err(|e| e.to_string())
                .and_then(|mut w| w.flush().map_err(|e| e.to_string())),
            Some(Sink::AnnexB(mut w)) => w.flush().map_err(|e| e.to_string()),
            None => Ok(()),
        };
        if let Err(e) = finished {
            let file = self
                .file
                .as_deref()
                .unwrap_or(Path::new("?"))
                .display()
                .to_string();
            self.error.get_or_insert(format!("finishing {file}: {e}"));
        }
        self.dropped.writer_behind = counts.writer_behind;
        self.dropped.packets_overflowed = counts.packets_overflowed;
        self.dropped.frames_overflowed = counts.frames_overflowed;
        self.dropped.undecodable = counts.undecodable;
        self.dropped.lost_in_transit = counts.lost_in_transit;
        let partial =
            self.error.is_some() || self.dropped.total() > 0 || (self.received > 0 && self.written == 0);
        TrackRecording {
            mid: self.mid,
            kind: kind_name(self.kind),
            codec: self.codec.map(|c| c.name),
            file: self.file,
            format: self.format,
            frames_received: self.received,
            frames_written: self.written,
            duration_ms: self.last_pts as f64 * 1000.0 / f64::from(clock),
            first_frame_after_ms: self.first_frame_at.map(|d| d.as_secs_f64() * 1000.0),
            dropped: self.dropped,
            other_streams: self.other_streams,
            audio_gaps_ms: self.audio_gaps as f64 * 1000.0 / f64::from(clock),
            error: self.error,
            partial,
        }
    }
}

fn video_codec(codec: &oxirtc::media::Codec) -> Option<VideoCodec> {
    [
        ("VP8", VideoCodec::Vp8),
        ("VP9", VideoCodec::Vp9),
        ("AV1", VideoCodec::Av1),
        ("H264", VideoCodec::H264),
        ("H265", VideoCodec::H265),
    ]
    .into_iter()
    .find_map(|(name, c)| codec.is(name).then_some(c))
}

/// A mid or codec name (from the peer's SDP) as part of a file name: letters, digits, `-` and `_` only, at most
/// 32 characters, so no mid can reach outside the directory.
fn safe_name(mid: &str) -> String {
    let s: String = mid
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use oxirtc::media::{default_audio_codecs, default_video_codecs, Codec};
    use oxirtc_media_file::IvfReader;

    fn codec(name: &str) -> Codec {
        default_video_codecs()
            .into_iter()
            .chain(default_audio_codecs())
            .find(|c| c.codec.is(name))
            .unwrap()
            .codec
    }

    fn frame(c: &Codec, ssrc: u32, ts: u32, keyframe: bool, data: &[u8]) -> ReceivedFrame {
        ReceivedFrame {
            codec: c.clone(),
            payload_type: 96,
            ssrc,
            rid: None,
            rtp_timestamp: ts,
            keyframe,
            data: data.to_vec(),
        }
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("oxirtc-record-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn vp8_frames() -> Vec<(bool, Vec<u8>)> {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/oxirtc-media-file/fixtures/vp8.ivf"
        ))
        .unwrap();
        IvfReader::new(&bytes[..])
            .unwrap()
            .map(|f| f.map(|f| (f.keyframe, f.data)).unwrap())
            .collect()
    }

    #[test]
    fn timestamps_unwrap_across_2_pow_32_and_start_at_0() {
        let dir = tempdir("wrap");
        let target = RecordTarget {
            dir: dir.clone(),
            prefix: "t-".into(),
        };
        let mut r = TrackRecorder::new(target, "1".into(), TrackKind::Video);
        let vp8 = codec("VP8");
        let start = u32::MAX - 3000 * 10; // wraps after 10 frames
        for (i, (key, data)) in vp8_frames().into_iter().enumerate() {
            let ts = start.wrapping_add(3000 * i as u32);
            r.push(&frame(&vp8, 7, ts, key, &data), 0, Duration::ZERO);
        }
        let rec = r.finish(TrackCounts::default());
        assert_eq!(rec.frames_written, 60);
        assert!(!rec.partial, "{rec:?}");
        assert_eq!(rec.duration_ms, 59.0 * 3000.0 / 90.0);
        assert_eq!(rec.file.as_deref(), Some(dir.join("t-mid1-vp8.webm").as_path()));
        assert!(rec.line().ends_with("nothing dropped"), "{}", rec.line());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn video_waits_for_a_keyframe_and_skips_to_the_next_after_a_loss() {
        let dir = tempdir("loss");
        let target = RecordTarget {
            dir: dir.clone(),
            prefix: String::new(),
        };
        let mut r = TrackRecorder::new(target, "0".into(), TrackKind::Video);
        let vp8 = codec("VP8");
        let frames = vp8_frames();
        // Join at frame 5 (no keyframe until 30); a loss is reported at frame 40: 41..59 skipped.
        for (i, (key, data)) in frames.iter().enumerate().skip(5) {
            let lost = u64::from(i >= 40);
            r.push(&frame(&vp8, 7, 3000 * i as u32, *key, data), lost, Duration::ZERO);
        }
        // A frame of another stream, and a keyframe going back in time (still waiting after it).
        r.push(&frame(&vp8, 8, 0, true, &frames[0].1), 1, Duration::ZERO);
        r.push(&frame(&vp8, 7, 0, true, &frames[0].1), 1, Duration::ZERO);
        r.push(&frame(&vp8, 7, 3000 * 61, false, &frames[1].1), 1, Duration::ZERO);
        let rec = r.finish(TrackCounts {
            lost_in_transit: 1,
            ..TrackCounts::default()
        });
        assert_eq!(rec.dropped.before_keyframe, 25);
        assert_eq!(
            rec.dropped.after_loss, 21,
            "frames 40..59 after the loss reported with 40, and 61"
        );
        assert_eq!(rec.dropped.out_of_order, 1);
        assert_eq!(rec.frames_written, 10);
        assert_eq!(rec.other_streams, 1);
        assert!(rec.partial);
        let line = rec.line();
        assert!(
            line.contains("PARTIAL") && line.contains("25 frames before the first keyframe"),
            "{line}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_existing_file_is_never_overwritten_and_unknown_codecs_are_refused() {
        let dir = tempdir("exists");
        std::fs::write(dir.join("mid0-opus.webm"), b"keep").unwrap();
        let target = RecordTarget {
            dir: dir.clone(),
            prefix: String::new(),
        };
        let mut r = TrackRecorder::new(target.clone(), "0".into(), TrackKind::Audio);
        r.push(
            &frame(&codec("opus"), 1, 0, true, &[0x78, 1, 2]),
            0,
            Duration::ZERO,
        );
        let rec = r.finish(TrackCounts::default());
        assert!(
            rec.error.as_deref().unwrap().contains("already exists"),
            "{rec:?}"
        );
        assert!(rec.partial);
        assert_eq!(std::fs::read(dir.join("mid0-opus.webm")).unwrap(), b"keep");
        let mut r = TrackRecorder::new(target, "0".into(), TrackKind::Audio);
        r.push(
            &frame(&codec("PCMU"), 1, 0, true, &[0xff; 160]),
            0,
            Duration::ZERO,
        );
        let rec = r.finish(TrackCounts::default());
        assert!(
            rec.error.as_deref().unwrap().contains("cannot record PCMU"),
            "{rec:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn audio_gaps_are_measured() {
        let dir = tempdir("gaps");
        let target = RecordTarget {
            dir: dir.clone(),
            prefix: String::new(),
        };
        let mut r = TrackRecorder::new(target, "0".into(), TrackKind::Audio);
        let opus = codec("opus");
        // 20 ms packets (TOC 0x08: config 1, SILK 20 ms, one frame); packet 5 missing.
        for i in (0..10u32).filter(|i| *i != 5) {
            r.push(
                &frame(&opus, 1, 1000 + 960 * i, true, &[0x08, 0xaa]),
                0,
                Duration::ZERO,
            );
        }
        let rec = r.finish(TrackCounts::default());
        assert_eq!(rec.frames_written, 9);
        assert_eq!(rec.audio_gaps_ms, 20.0);
        assert!(rec.line().contains("skip 20 ms"), "{}", rec.line());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mids_from_the_network_stay_inside_the_directory() {
        assert_eq!(safe_name("../../etc/passwd"), "______etc_passwd");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name(&"a".repeat(100)).len(), 32);
    }
}
