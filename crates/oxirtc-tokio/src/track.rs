//! Media the peer sends: one [`RemoteTrack`] per audio or video section we receive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::time::{Duration, Instant};

use oxirtc::media::{CodecParameters, ReceivedRtp, TrackKind};

use crate::frames::{FrameAssembler, ReceivedFrame};

use crate::driver::Command;
use crate::queue;
use crate::Error;

/// RTP packets a track holds for a reader that falls behind, before the oldest are dropped (and
/// counted in [`RemoteTrack::dropped`]): about 1.5 s of 2.5 Mbit/s video, 10 s of Opus.
pub const TRACK_QUEUE_PACKETS: usize = 512;

/// A track the peer sends (W3C `ontrack` / `RTCRtpReceiver`): the RTP packets of one media section,
/// decrypted and in arrival order. Read them with [`RemoteTrack::recv`]; a reader that falls behind
/// loses the oldest packets, never stalls the connection.
///
/// ```no_run
/// # async fn f(pc: oxirtc_tokio::PeerConnection) {
/// use oxirtc_tokio::PeerConnectionEvent;
/// while let Some(event) = pc.next_event().await {
///     if let PeerConnectionEvent::Track(mut track) = event {
///         tokio::spawn(async move {
///             while let Some(rtp) = track.recv().await {
///                 println!("{} seq {} pt {} {} bytes", track.mid(), rtp.sequence_number, rtp.payload_type, rtp.payload.len());
///             }
///         });
///     }
/// }
/// # }
/// ```
pub struct RemoteTrack {
    mid: String,
    kind: TrackKind,
    packets: queue::Receiver<ReceivedRtp>,
    dropped: Arc<AtomicU64>,
    commands: queue::WeakSender<Command>,
    frames: FrameAssembler,
    /// When `recv_frame` last asked for a keyframe by itself.
    last_keyframe_request: Option<Instant>,
}

/// `recv_frame` asks for a keyframe after a loss at most this often (a PLI per lost frame would
/// make the sender encode nothing but keyframes).
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

impl std::fmt::Debug for RemoteTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTrack")
            .field("mid", &self.mid)
            .field("kind", &self.kind)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl RemoteTrack {
    /// The media section's mid.
    pub fn mid(&self) -> &str {
        &self.mid
    }

    /// Audio or video.
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// The next RTP packet; `None` once the connection has ended and every packet was read.
    pub async fn recv(&mut self) -> Option<ReceivedRtp> {
        self.packets.recv().await
    }

    /// The next assembled frame (reordered, complete, with its keyframe flag; see
    /// [`ReceivedFrame`]); `None` once the connection has ended. For video, a lost frame that later
    /// ones depend on makes it ask the sender for a keyframe (a PLI, at most every 500 ms), and
    /// video frames are dropped until one arrives (at the start too: playback starts at a keyframe). Read a track either with this or with
    /// [`RemoteTrack::recv`], not both.
    pub async fn recv_frame(&mut self) -> Option<ReceivedFrame> {
        loop {
            if let Some(frame) = self.frames.pop() {
                return Some(frame);
            }
            let rtp = self.packets.recv().await?;
            let needs_keyframe = self.frames.push(&rtp);
            let due = self
                .last_keyframe_request
                .is_none_or(|t| t.elapsed() >= KEYFRAME_REQUEST_INTERVAL);
            if needs_keyframe && self.kind == TrackKind::Video && due {
                self.last_keyframe_request = Some(Instant::now());
                // Before the first packet arrived nothing can be asked of; the next loss retries.
                let _ = self.request_keyframe().await;
            }
        }
    }

    /// Packets `recv_frame` could not use (retransmission and FEC formats, payload types of no
    /// codec oxirtc depacketizes), frames dropped because they were not read in time, and video
    /// frames dropped while waiting for a keyframe.
    pub fn frames_skipped(&self) -> (u64, u64, u64) {
        (
            self.frames.skipped,
            self.frames.dropped_frames,
            self.frames.undecodable,
        )
    }

    /// Frames lost before they could be handed out: a packet of theirs never came (or came too
    /// late), or they were too large or malformed. (The video frames after such a loss that
    /// `recv_frame` then drops until a keyframe are in [`RemoteTrack::frames_skipped`].)
    pub fn frames_lost(&self) -> u64 {
        self.frames.lost_frames
    }

    /// Asks the peer's encoder for a keyframe (a PLI, RFC 4585 §6.3.1): when a decoder starts on
    /// this track or lost a frame others depend on. Video only; fails with the reason when the
    /// track is audio, nothing has arrived yet, or the connection is gone.
    pub async fn request_keyframe(&self) -> Result<(), Error> {
        let commands = self.commands.upgrade().ok_or(Error::Closed)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        commands
            .send(Command::RequestKeyframe(self.mid.clone(), tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Packets dropped because this track held [`TRACK_QUEUE_PACKETS`] unread ones.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The driver's side of a [`RemoteTrack`].
pub(crate) struct TrackSlot {
    packets: queue::Sender<ReceivedRtp>,
    dropped: Arc<AtomicU64>,
}

impl TrackSlot {
    /// A new track and the driver's side of it.
    pub(crate) fn new(
        mid: String,
        kind: TrackKind,
        codecs: Vec<CodecParameters>,
        commands: queue::WeakSender<Command>,
    ) -> (TrackSlot, RemoteTrack) {
        let (tx, rx) = queue::queue();
        let dropped = Arc::new(AtomicU64::new(0));
        (
            TrackSlot {
                packets: tx,
                dropped: dropped.clone(),
            },
            RemoteTrack {
                mid,
                kind,
                packets: rx,
                dropped,
                commands,
                frames: FrameAssembler::new(codecs),
                last_keyframe_request: None,
            },
        )
    }

    /// Queues a packet, dropping the oldest when full; false once the track's reader is gone.
    pub(crate) fn deliver(&self, rtp: ReceivedRtp) -> bool {
        match self.packets.send_evicting(rtp, TRACK_QUEUE_PACKETS, |_| true) {
            Ok(None) => true,
            Ok(Some(_oldest)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    /// A spawned task may hold `&RemoteTrack` across an `.await` (e.g. `request_keyframe`, as
    /// oxirtc echo does): the track has to be `Send` and `Sync`. This fails to compile if a field
    /// loses either.
    #[test]
    fn remote_track_is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::RemoteTrack>();
    }
}
