//! Send gating: messages the core had no room for wait here in order, and every turn each channel's
//! handles learn how much is buffered (and senders waiting at the high-water mark are woken).

use std::time::Instant;

use bytes::Bytes;
use oxirtc::{ChannelId, RtcError};

use super::Driver;

impl Driver {
    /// Tells every channel's handles how much is buffered, and wakes senders when there is room.
    pub(super) fn publish_buffered(&mut self) {
        for (id, slot) in &self.channels {
            let core = self.rtc.channel(*id).map_or(0, |c| c.buffered_amount());
            let buffered = core + slot.waiting_bytes;
            slot.gate
                .buffered
                .store(buffered, std::sync::atomic::Ordering::Release);
            if buffered < self.high_water_mark {
                slot.gate.room.notify_waiters();
            }
        }
    }

    /// Hands a message to the core, or parks it (in order) while the core's send buffer is full; the
    /// handle already waited for the high-water mark, so parking is rare and bounded by it.
    pub(super) fn send(&mut self, id: ChannelId, data: Bytes, binary: bool) {
        let Some(slot) = self.channels.get_mut(&id) else {
            tracing::debug!(?id, "driver: send on a closed channel dropped");
            return;
        };
        slot.gate
            .queued
            .fetch_sub(data.len(), std::sync::atomic::Ordering::AcqRel);
        if !slot.waiting.is_empty() {
            slot.waiting_bytes += data.len();
            slot.waiting.push_back((data, binary));
            return;
        }
        let hwm = self.high_water_mark;
        let Some(mut ch) = self.rtc.channel(id) else {
            return;
        };
        match ch.send_bytes(Instant::now(), data.clone(), binary) {
            Ok(()) => {}
            Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                ch.set_buffered_amount_low_threshold(hwm / 2);
                slot.waiting_bytes += data.len();
                slot.waiting.push_back((data, binary));
            }
            // The handle checked state and size; this is a race with a closing channel.
            Err(e) => tracing::debug!(error = %e, "driver: send failed"),
        }
    }

    pub(super) fn flush_waiting(&mut self, id: ChannelId) {
        let hwm = self.high_water_mark;
        loop {
            let Some(slot) = self.channels.get_mut(&id) else {
                return;
            };
            let Some(mut ch) = self.rtc.channel(id) else {
                return;
            };
            if ch.buffered_amount() >= hwm {
                return;
            }
            let Some((data, binary)) = slot.waiting.pop_front() else {
                return;
            };
            match ch.send_bytes(Instant::now(), data.clone(), binary) {
                Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                    slot.waiting.push_front((data, binary));
                    return;
                }
                Err(e) => tracing::debug!(error = %e, "driver: queued send failed"),
                Ok(()) => {}
            }
            slot.waiting_bytes -= data.len();
        }
    }
}
