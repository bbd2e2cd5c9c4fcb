//! Send gating: messages the core had no room for wait here in order, and every turn each channel's
//! handles learn how much is buffered (and senders waiting at the high-water mark are woken); a
//! buffered amount that falls to the application's low threshold fires `bufferedamountlow`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use oxirtc::{ChannelId, RtcError};

use super::{ChannelSlot, Driver};

impl Driver {
    /// Tells every channel's handles how much is buffered, wakes senders when there is room, and
    /// fires `bufferedamountlow` where the amount fell to the threshold.
    pub(super) fn publish_buffered(&mut self) {
        for (id, slot) in self.channels.iter_mut() {
            let core = self.rtc.channel(id).map_or(0, |c| c.buffered_amount());
            let buffered = core + slot.waiting_bytes;
            slot.gate.buffered.store(buffered, Ordering::Release);
            if buffered < self.high_water_mark {
                slot.gate.room.notify_waiters();
            }
            slot.update_low(buffered + slot.gate.queued.load(Ordering::Acquire));
        }
    }

    /// W3C `bufferedAmount` of channel `id` as the driver sees it: in the core, parked here, and in
    /// `Send` commands not handled yet.
    pub(super) fn buffered_amount(&mut self, id: ChannelId) -> usize {
        let core = self.rtc.channel(id).map_or(0, |c| c.buffered_amount());
        self.channels.get(id).map_or(core, |slot| {
            core + slot.waiting_bytes + slot.gate.queued.load(Ordering::Acquire)
        })
    }

    /// W3C `bufferedAmountLowThreshold` of channel `id`. Setting it fires nothing by itself; the
    /// next fall from above it to at or below it does.
    pub(super) fn set_low_threshold(&mut self, id: ChannelId, bytes: usize) {
        let amount = self.buffered_amount(id);
        if let Some(slot) = self.channels.get_mut(id) {
            slot.low_threshold = bytes;
            slot.above_low = amount > bytes;
        }
    }

    /// Hands a message to the core, or parks it (in order) while the core's send buffer is full; the
    /// handle already waited for the high-water mark, so parking is rare and bounded by it.
    pub(super) fn send(&mut self, id: ChannelId, data: Bytes, binary: bool) {
        let Some(slot) = self.channels.get_mut(id) else {
            tracing::debug!(?id, "driver: send on a closed channel dropped");
            return;
        };
        slot.gate.queued.fetch_sub(data.len(), Ordering::AcqRel);
        if !slot.waiting.is_empty() {
            slot.waiting_bytes += data.len();
            slot.waiting.push_back((data, binary));
            slot.mark_if_above(slot.waiting_bytes);
            return;
        }
        let hwm = self.high_water_mark;
        let Some(mut ch) = self.rtc.channel(id) else {
            return;
        };
        match ch.send_bytes(Instant::now(), data.clone(), binary) {
            Ok(()) => {}
            Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                // The core's own threshold is the driver's: it says when parked sends fit again
                // (the application's threshold is the slot's, see `set_low_threshold`).
                ch.set_buffered_amount_low_threshold(hwm / 2);
                slot.waiting_bytes += data.len();
                slot.waiting.push_back((data, binary));
            }
            // The handle checked state and size; this is a race with a closing channel.
            Err(e) => tracing::debug!(error = %e, "driver: send failed"),
        }
        // Seen above the threshold right away, not only at the end of the turn: a rise and fall
        // within one turn still fires once.
        let amount = ch.buffered_amount() + slot.waiting_bytes;
        slot.mark_if_above(amount);
    }

    pub(super) fn flush_waiting(&mut self, id: ChannelId) {
        let hwm = self.high_water_mark;
        loop {
            let Some(slot) = self.channels.get_mut(id) else {
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

impl ChannelSlot {
    /// Notes that the buffered amount is above the low threshold, when it is.
    fn mark_if_above(&mut self, amount: usize) {
        if amount > self.low_threshold {
            self.above_low = true;
        }
    }

    /// W3C webrtc-pc §6.2 `bufferedamountlow`: fired when the buffered amount decreases from above
    /// the threshold to at or below it; once per such fall, however many turns it stays low. Only
    /// the application's sends (and setting the threshold) count as a rise: the DCEP messages the
    /// core queues on a channel's stream are not part of W3C `bufferedAmount`.
    fn update_low(&mut self, amount: usize) {
        if self.above_low && amount <= self.low_threshold {
            self.above_low = false;
            self.gate.low_events.fetch_add(1, Ordering::AcqRel);
            self.gate.low.notify_waiters();
        }
    }
}
