//! The Matroska / WebM recording writer (RFC 9559).

use std::collections::VecDeque;
use std::io::{Seek, Write};

use super::ebml::*;
use super::track::{Track, FORMAT};
use crate::codec::VideoCodec;
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::{Frame, Timebase};
use crate::io::PosWriter;
use crate::ogg_opus::OpusHead;

/// A new Cluster is started at least this often (ms): RFC 9559 §25.1 recommends Clusters of at
/// most 5 s, so a player seeking without Cues reads little.
pub const MAX_CLUSTER_MS: i64 = 5_000;
/// A Cluster is closed before it grows past this many bytes (it is held in memory until then).
pub const MAX_CLUSTER_BYTES: usize = MAX_FRAME_SIZE;
/// Frames that arrive before every track can be described (H.264 waits for SPS and PPS, AV1 for
/// a sequence header) are held up to this many bytes.
pub const MAX_QUEUED_BYTES: usize = MAX_FRAME_SIZE;

/// A track of an [`MkvWriter`] (its Matroska TrackNumber).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackId(u8);

impl TrackId {
    /// The Matroska TrackNumber (1 for the first track added).
    pub fn number(self) -> u8 {
        self.0
    }
}

/// Writes a Matroska file (DocType `webm` when every track is VP8, VP9, AV1 or Opus, otherwise
/// `matroska`) for a recording: one or more video tracks and Opus audio tracks, written frame by
/// frame as they arrive.
///
/// Layout (RFC 9559): the EBML header; a Segment (of unknown size on a stream, patched on a
/// seekable sink) holding Info (TimestampScale 1 ms; Duration when seekable), Tracks, then
/// Clusters of SimpleBlocks with key frame flags. A new Cluster starts at each video key frame,
/// every [`MAX_CLUSTER_MS`] and before [`MAX_CLUSTER_BYTES`]; each Cluster is buffered and written
/// with its size known. No Cues are written (players seek by scanning Clusters).
///
/// H.264 frames are given as Annex B and written with 4-byte NAL lengths, with an avcC
/// CodecPrivate built from the first SPS and PPS; AV1 frames are temporal units (as in IVF) and
/// get an av1C built from the first sequence header. The header is written once every track can
/// be described: until then frames of ready tracks are queued (up to [`MAX_QUEUED_BYTES`]) and
/// frames of a waiting track are dropped ([`MkvWriter::frames_dropped`]): they could not be
/// decoded anyway.
pub struct MkvWriter<W: Write> {
    sink: PosWriter<W>,
    tracks: Vec<Track>,
    header_written: bool,
    /// Frames held until the header can be written: (track index, ms, key frame, payload).
    queue: VecDeque<(usize, i64, bool, Vec<u8>)>,
    queued_bytes: usize,
    cluster: Option<Cluster>,
    last_cluster_ms: i64,
    /// The end of the latest frame (ms): the Duration.
    end_ms: i64,
    /// Position of the Segment size field and of its data.
    segment_size_at: u64,
    /// Position of the Duration value.
    duration_at: Option<u64>,
    dropped: u64,
}

struct Cluster {
    ms: i64,
    body: Vec<u8>,
    blocks: usize,
}

impl<W: Write> MkvWriter<W> {
    /// A writer to a sink that is only written forwards (a pipe, a socket, a `Vec`): the Segment
    /// keeps its unknown size and no Duration is written.
    pub fn new(sink: W) -> Self {
        Self::with_sink(PosWriter::new(sink, FORMAT))
    }

    /// Adds a video track of `codec` (VP8, VP9, AV1 or H.264) with its picture size. All
    /// tracks are added before the first frame.
    pub fn add_video_track(&mut self, codec: VideoCodec, width: u16, height: u16) -> Result<TrackId> {
        let number = self.next_track_number()?;
        self.tracks.push(Track::video(number, codec, width, height)?);
        Ok(TrackId(number))
    }

    /// Adds an Opus audio track described by `head` (its CodecPrivate; the pre-skip becomes the
    /// CodecDelay).
    pub fn add_opus_track(&mut self, head: &OpusHead) -> Result<TrackId> {
        let number = self.next_track_number()?;
        self.tracks.push(Track::opus(number, head));
        Ok(TrackId(number))
    }

    /// Writes one frame of `track`. `frame.pts` in `frame.timebase` becomes the block timestamp
    /// in ms (Opus: plus the pre-skip, so that a stream read from Ogg starts at 0). Timestamps
    /// must not go back within a track, nor be negative; tracks may interleave loosely (a block
    /// may be up to 32 s before its Cluster's timestamp).
    pub fn write_frame(&mut self, track: TrackId, frame: &Frame) -> Result<()> {
        let index = self.track_index(track)?;
        if frame.data.is_empty() || frame.data.len() > MAX_FRAME_SIZE {
            return Err(MediaError::invalid(
                FORMAT,
                format!(
                    "a frame of {} bytes; frames hold 1 to {MAX_FRAME_SIZE} bytes",
                    frame.data.len()
                ),
            ));
        }
        let t = &mut self.tracks[index];
        let pre_skip = i64::from(t.pre_skip());
        let ms = if pre_skip > 0 {
            Timebase::OPUS.rescale(
                frame.timebase.rescale(frame.pts, Timebase::OPUS) + pre_skip,
                Timebase::MILLIS,
            )
        } else {
            frame.timebase.rescale(frame.pts, Timebase::MILLIS)
        };
        if ms < 0 || t.last_ms.is_some_and(|last| ms < last) {
            return Err(MediaError::invalid(
                FORMAT,
                format!(
                    "track {} frame at {ms} ms after one at {:?} ms: timestamps must start at 0 or later and \
                     not go back within a track",
                    t.number, t.last_ms
                ),
            ));
        }
        let Some(payload) = t.payload(&frame.data)? else {
            self.dropped += 1;
            return Ok(());
        };
        t.last_ms = Some(ms);
        let key = frame.keyframe || !t.is_video();
        let duration_ms = frame.duration.map_or(0, |d| {
            frame
                .timebase
                .rescale(i64::try_from(d).unwrap_or(i64::MAX), Timebase::MILLIS)
        });
        self.end_ms = self.end_ms.max(ms.saturating_add(duration_ms));
        if !self.header_written {
            if !self.tracks.iter().all(|t| t.ready) {
                return self.enqueue(index, ms, key, payload);
            }
            self.write_header()?;
        }
        self.write_block(index, ms, key, &payload)
    }

    /// Frames dropped because they came before their track's codec configuration.
    pub fn frames_dropped(&self) -> u64 {
        self.dropped
    }

    /// Writes what is held (the header if not yet written, leaving out tracks that never became
    /// ready; the last Cluster), patches the Segment size and Duration on a seekable sink, flushes
    /// and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        if !self.header_written {
            self.write_header()?; // describes only the tracks that became ready
        }
        self.close_cluster()?;
        if self.sink.can_patch() {
            let size = self.sink.position() - (self.segment_size_at + 8);
            let mut field = Vec::with_capacity(8);
            put_size_len(&mut field, size, 8);
            self.sink
                .patch(self.segment_size_at, &field, "patching the Segment size")?;
            if let Some(at) = self.duration_at {
                self.sink
                    .patch(at, &(self.end_ms as f64).to_be_bytes(), "patching the Duration")?;
            }
        }
        self.sink.flush_into_inner()
    }

    fn with_sink(sink: PosWriter<W>) -> Self {
        MkvWriter {
            sink,
            tracks: Vec::new(),
            header_written: false,
            queue: VecDeque::new(),
            queued_bytes: 0,
            cluster: None,
            last_cluster_ms: 0,
            end_ms: 0,
            segment_size_at: 0,
            duration_at: None,
            dropped: 0,
        }
    }

    fn next_track_number(&self) -> Result<u8> {
        if self.header_written || !self.queue.is_empty() || self.dropped > 0 {
            return Err(MediaError::invalid(
                FORMAT,
                "tracks must all be added before the first frame".into(),
            ));
        }
        u8::try_from(self.tracks.len() + 1)
            .ok()
            .filter(|&n| n < 127)
            .ok_or_else(|| MediaError::invalid(FORMAT, "at most 126 tracks".into()))
    }

    fn track_index(&self, track: TrackId) -> Result<usize> {
        self.tracks
            .iter()
            .position(|t| t.number == track.0)
            .ok_or_else(|| {
                MediaError::invalid(FORMAT, format!("track {} was not added to this writer", track.0))
            })
    }

    fn enqueue(&mut self, index: usize, ms: i64, key: bool, payload: Vec<u8>) -> Result<()> {
        self.queued_bytes += payload.len();
        if self.queued_bytes > MAX_QUEUED_BYTES {
            return Err(MediaError::invalid(
                FORMAT,
                format!(
                    "{} bytes of frames are waiting for a track's codec configuration (H.264 SPS and PPS, \
                     or an AV1 sequence header), over the {MAX_QUEUED_BYTES}-byte limit; send a key frame \
                     first (ask the sender with PLI)",
                    self.queued_bytes
                ),
            ));
        }
        self.queue.push_back((index, ms, key, payload));
        Ok(())
    }

    /// EBML header, Segment start, Info and Tracks; then the queued frames.
    fn write_header(&mut self) -> Result<()> {
        let webm = self.tracks.iter().filter(|t| t.ready).all(Track::is_webm);
        let mut out = Vec::with_capacity(512);
        put_master(&mut out, EBML, |e| {
            put_uint(e, EBML_VERSION, 1);
            put_uint(e, EBML_READ_VERSION, 1);
            put_uint(e, EBML_MAX_ID_LENGTH, 4);
            put_uint(e, EBML_MAX_SIZE_LENGTH, 8);
            put_binary(e, DOC_TYPE, if webm { b"webm" } else { b"matroska" });
            put_uint(e, DOC_TYPE_VERSION, 4);
            put_uint(e, DOC_TYPE_READ_VERSION, 2);
        });
        put_id(&mut out, SEGMENT);
        self.segment_size_at = self.sink.position() + out.len() as u64;
        out.extend_from_slice(&UNKNOWN_SIZE_8);
        let seekable = self.sink.can_patch();
        put_master(&mut out, INFO, |i| {
            put_uint(i, TIMESTAMP_SCALE, 1_000_000);
            put_binary(i, MUXING_APP, b"oxirtc-media-file");
            put_binary(i, WRITING_APP, b"oxirtc-media-file");
            if seekable {
                put_float(i, DURATION, 0.0); // patched by finish(); its value is the last 8 bytes of Info
            }
        });
        if seekable {
            self.duration_at = Some(self.sink.position() + out.len() as u64 - 8);
        }
        put_master(&mut out, TRACKS, |t| {
            self.tracks
                .iter()
                .filter(|tr| tr.ready)
                .for_each(|tr| tr.put_entry(t))
        });
        self.sink.write_all(&out, "writing the header")?;
        self.header_written = true;
        while let Some((index, ms, key, payload)) = self.queue.pop_front() {
            self.write_block(index, ms, key, &payload)?;
        }
        self.queued_bytes = 0;
        Ok(())
    }

    /// Appends a SimpleBlock (RFC 9559 §10.2) to the open Cluster, starting a new one when due.
    fn write_block(&mut self, index: usize, ms: i64, key: bool, payload: &[u8]) -> Result<()> {
        let video_key = key && self.tracks[index].is_video();
        let due = match &self.cluster {
            None => true,
            Some(c) => {
                (video_key && c.blocks > 0)
                    || ms - c.ms >= MAX_CLUSTER_MS
                    || c.body.len() + payload.len() + 16 > MAX_CLUSTER_BYTES
            }
        };
        if due {
            self.close_cluster()?;
        }
        let last_cluster_ms = &mut self.last_cluster_ms;
        let cluster = self.cluster.get_or_insert_with(|| {
            // Cluster timestamps never go back, even when a track runs slightly behind.
            let cluster_ms = ms.max(*last_cluster_ms);
            *last_cluster_ms = cluster_ms;
            let mut body = Vec::with_capacity(64 * 1024);
            put_uint(&mut body, TIMESTAMP, cluster_ms as u64);
            Cluster {
                ms: cluster_ms,
                body,
                blocks: 0,
            }
        });
        let relative = i16::try_from(ms - cluster.ms).map_err(|_| {
            MediaError::invalid(
                FORMAT,
                format!(
                    "a frame at {ms} ms is more than 32 s before the Cluster at {} ms; interleave the tracks \
                     by time",
                    cluster.ms
                ),
            )
        })?;
        put_id(&mut cluster.body, SIMPLE_BLOCK);
        put_size(&mut cluster.body, 4 + payload.len() as u64);
        cluster.body.push(0x80 | self.tracks[index].number); // track number as a 1-byte VINT
        cluster.body.extend_from_slice(&relative.to_be_bytes());
        cluster.body.push(if key { 0x80 } else { 0 }); // flags: keyframe, no lacing
        cluster.body.extend_from_slice(payload);
        cluster.blocks += 1;
        Ok(())
    }

    fn close_cluster(&mut self) -> Result<()> {
        let Some(cluster) = self.cluster.take() else {
            return Ok(());
        };
        let mut head = Vec::with_capacity(12);
        put_id(&mut head, CLUSTER);
        put_size(&mut head, cluster.body.len() as u64);
        self.sink.write_all(&head, "writing a Cluster")?;
        self.sink.write_all(&cluster.body, "writing a Cluster")
    }
}

impl<W: Write + Seek> MkvWriter<W> {
    /// A writer to a seekable sink (a `File`): [`MkvWriter::finish`] patches the Segment size
    /// and the Duration.
    pub fn new_seekable(sink: W) -> Result<Self> {
        Ok(Self::with_sink(PosWriter::seekable(sink, FORMAT)?))
    }
}
