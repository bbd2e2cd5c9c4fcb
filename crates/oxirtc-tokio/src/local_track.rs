//! Media we send: a [`LocalTrack`] per transceiver added with [`crate::PeerConnection::add_track`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use oxirtc::media::{CodecParameters, OutgoingRtp, TrackKind, TransceiverId};
use tokio::sync::Notify;

use crate::driver::Command;
use crate::queue;
use crate::Error;

/// A track we send (W3C `RTCRtpSender` with its track): write encoded frames with
/// [`LocalTrack::write_frame`] (packetized with the negotiated codec) or RTP packets with
/// [`LocalTrack::write_rtp`] (forwarded: SSRC set, sequence numbers and timestamps mapped, header
/// extensions added). Writes never wait: what is written before the connection can send on the
/// track (not negotiated yet, DTLS-SRTP not up) is dropped and counted in
/// [`LocalTrack::dropped`]. Clone it to write from several tasks.
///
/// ```no_run
/// # async fn f(pc: oxirtc_tokio::PeerConnection, frames: Vec<Vec<u8>>) -> Result<(), oxirtc_tokio::Error> {
/// use std::time::Duration;
/// use oxirtc::media::TrackKind;
///
/// let video = pc.add_track(TrackKind::Video, Some("camera")).await?;
/// // ... negotiate, wait for PeerConnectionState::Connected ...
/// println!("sending {:?}", video.codec().await?.map(|c| c.codec.name));
/// for frame in frames {
///     video.write_frame(frame, Duration::from_millis(33))?;
///     tokio::time::sleep(Duration::from_millis(33)).await;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalTrack {
    id: TransceiverId,
    kind: TrackKind,
    commands: queue::WeakSender<Command>,
    shared: Arc<LocalTrackShared>,
}

/// What the driver and the handles of one local track share.
pub(crate) struct LocalTrackShared {
    /// Woken when the peer asks for a keyframe.
    keyframe: Notify,
    keyframe_requests: AtomicU64,
    dropped: AtomicU64,
}

impl std::fmt::Debug for LocalTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTrack")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl LocalTrack {
    /// The transceiver it sends on.
    pub fn transceiver(&self) -> TransceiverId {
        self.id
    }

    /// Audio or video.
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// The section's mid, once the transceiver is in a description.
    pub async fn mid(&self) -> Result<Option<String>, Error> {
        self.call(|r| Command::TrackMid(self.id, r)).await
    }

    /// The codec the negotiation settled for sending (the peer's preferred one among ours), `None`
    /// before the negotiation allows sending.
    pub async fn codec(&self) -> Result<Option<CodecParameters>, Error> {
        self.call(|r| Command::SendCodec(self.id, r)).await
    }

    /// Sends one encoded frame lasting `duration` (its RTP timestamp follows from the durations of
    /// the frames before it and the codec's clock). Frame formats: see `oxirtc_rtp::codec` (Annex B
    /// for H.264/H.265, OBUs with size fields for AV1, the codec's own bytes otherwise).
    pub fn write_frame(&self, frame: impl Into<Bytes>, duration: Duration) -> Result<(), Error> {
        let commands = self.commands.upgrade().ok_or(Error::Closed)?;
        commands
            .send(Command::WriteFrame(Box::new((self.id, frame.into(), duration))))
            .map_err(|_| Error::Closed)
    }

    /// Sends one RTP packet (see [`OutgoingRtp`]): its payload type must be one negotiated on the
    /// section, e.g. the one [`LocalTrack::codec`] names.
    pub fn write_rtp(&self, rtp: &OutgoingRtp<'_>) -> Result<(), Error> {
        let commands = self.commands.upgrade().ok_or(Error::Closed)?;
        let packet = QueuedRtp {
            payload_type: rtp.payload_type,
            sequence_number: rtp.sequence_number,
            timestamp: rtp.timestamp,
            marker: rtp.marker,
            payload: Bytes::copy_from_slice(rtp.payload),
        };
        commands
            .send(Command::WriteRtp(self.id, Box::new(packet)))
            .map_err(|_| Error::Closed)
    }

    /// Waits for the peer's next keyframe request (RTCP PLI or FIR): encode the next frame as a
    /// keyframe. Returns at once for a request that came since the last call returned.
    pub async fn keyframe_requested(&self) {
        self.shared.keyframe.notified().await;
    }

    /// Keyframe requests received so far.
    pub fn keyframe_requests(&self) -> u64 {
        self.shared.keyframe_requests.load(Ordering::Relaxed)
    }

    /// Frames and packets dropped because the connection could not send them (not negotiated to
    /// send yet, media not up, a payload type not negotiated): see the driver's trace for why.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<Result<T, Error>>) -> Command,
    ) -> Result<T, Error> {
        let commands = self.commands.upgrade().ok_or(Error::Closed)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        commands.send(make(tx)).map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }
}

/// An RTP packet on its way to the driver.
pub(crate) struct QueuedRtp {
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// The driver's side of a [`LocalTrack`]: the shared counters and the running RTP timestamp of
/// `write_frame`.
pub(crate) struct LocalTrackSlot {
    pub(crate) shared: Arc<LocalTrackShared>,
    /// The next frame's RTP timestamp, in the codec's clock (RFC 3550 §5.1: the stream's own
    /// random offset is added by the connection).
    pub(crate) next_timestamp: u32,
    /// The remainder of the durations not yet a whole clock tick, in nanoseconds × clock rate.
    pub(crate) tick_remainder: u128,
}

impl LocalTrackSlot {
    /// A new track and the driver's side of it.
    pub(crate) fn new(
        id: TransceiverId,
        kind: TrackKind,
        commands: queue::WeakSender<Command>,
    ) -> (Self, LocalTrack) {
        let shared = Arc::new(LocalTrackShared {
            keyframe: Notify::new(),
            keyframe_requests: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        (
            LocalTrackSlot {
                shared: shared.clone(),
                next_timestamp: 0,
                tick_remainder: 0,
            },
            LocalTrack {
                id,
                kind,
                commands,
                shared,
            },
        )
    }

    /// The peer asked for a keyframe.
    pub(crate) fn keyframe_requested(&self) {
        self.shared.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        self.shared.keyframe.notify_one();
    }

    /// A write could not be sent.
    pub(crate) fn dropped(&self) {
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The timestamp of a frame lasting `duration` at `clock_rate` Hz, advancing the clock.
    pub(crate) fn stamp(&mut self, duration: Duration, clock_rate: u32) -> u32 {
        let ts = self.next_timestamp;
        let scaled = duration.as_nanos() * u128::from(clock_rate) + self.tick_remainder;
        let ticks = scaled / 1_000_000_000;
        self.tick_remainder = scaled % 1_000_000_000;
        self.next_timestamp = ts.wrapping_add(ticks as u32);
        ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transceiver() -> TransceiverId {
        let mut rtc = oxirtc::Rtc::new(oxirtc::RtcConfig::default()).unwrap();
        rtc.add_track(TrackKind::Video, None).unwrap()
    }

    #[test]
    fn frame_durations_become_timestamps_without_drift() {
        let (tx, _rx) = queue::queue::<Command>();
        let (mut slot, _track) = LocalTrackSlot::new(transceiver(), TrackKind::Video, tx.downgrade());
        // 30 fps at 90 kHz is 3000 ticks; 1/30 s is not a whole number of nanoseconds.
        let frame = Duration::from_nanos(33_333_333);
        let stamps: Vec<u32> = (0..4).map(|_| slot.stamp(frame, 90_000)).collect();
        assert_eq!(stamps, [0, 2999, 5999, 8999]);
        // 20 ms of Opus at 48 kHz: 960 each, exactly.
        let (mut audio, _t) = LocalTrackSlot::new(transceiver(), TrackKind::Audio, tx.downgrade());
        let stamps: Vec<u32> = (0..3)
            .map(|_| audio.stamp(Duration::from_millis(20), 48_000))
            .collect();
        assert_eq!(stamps, [0, 960, 1920]);
    }
}
