//! The driver's media commands: adding local tracks, and writing their frames and packets into the
//! connection. Failed writes are dropped, counted on the track and traced (a write never waits).

use std::time::Instant;

use oxirtc::media::{OutgoingRtp, TrackKind, TransceiverId};
use oxirtc::RtcError;

use super::{AddTrackArgs, Driver, Reply};
use crate::local_track::{LocalTrackSlot, QueuedRtp};
use crate::{Error, LocalTrack};

impl Driver {
    pub(super) fn add_track(&mut self, kind: TrackKind, args: AddTrackArgs, reply: Reply<LocalTrack>) {
        let added = match args {
            AddTrackArgs::Track(stream) => self.rtc.add_track(kind, stream.as_deref()),
            AddTrackArgs::Transceiver(init) => self.rtc.add_transceiver(kind, init),
        };
        let result = added.map_err(Error::from).map(|id| {
            let (slot, track) = LocalTrackSlot::new(id, kind, self.command_tx.clone());
            // add_track may return a transceiver that already has a handle (an offered section):
            // the new handle takes over its requests and counters.
            self.local_tracks.insert(id, slot);
            track
        });
        let _ = reply.send(result);
    }

    pub(super) fn write_frame(&mut self, id: TransceiverId, frame: &[u8], duration: std::time::Duration) {
        let now = Instant::now();
        let Some(clock_rate) = self.rtc.send_codec(id).map(|c| c.codec.clock_rate) else {
            self.write_failed(id, &RtcError::InvalidState("not negotiated to send yet".into()));
            return;
        };
        let Some(slot) = self.local_tracks.get_mut(&id) else {
            return;
        };
        let timestamp = slot.stamp(duration, clock_rate);
        if let Err(e) = self.rtc.write_frame(now, id, timestamp, frame) {
            self.write_failed(id, &e);
        }
    }

    pub(super) fn write_rtp(&mut self, id: TransceiverId, rtp: &QueuedRtp) {
        let now = Instant::now();
        let packet = OutgoingRtp {
            payload_type: rtp.payload_type,
            sequence_number: rtp.sequence_number,
            timestamp: rtp.timestamp,
            marker: rtp.marker,
            payload: &rtp.payload,
        };
        if let Err(e) = self.rtc.write_rtp(now, id, &packet) {
            self.write_failed(id, &e);
        }
    }

    /// The peer asked for a keyframe on the section `mid`.
    pub(super) fn keyframe_requested(&mut self, mid: &str) {
        let Some(id) = self.rtc.transceiver_of(mid) else {
            return;
        };
        if let Some(slot) = self.local_tracks.get(&id) {
            slot.keyframe_requested();
        }
    }

    fn write_failed(&self, id: TransceiverId, error: &RtcError) {
        if let Some(slot) = self.local_tracks.get(&id) {
            slot.dropped();
        }
        tracing::trace!(transceiver = id.get(), %error, "driver: media write dropped");
    }
}
