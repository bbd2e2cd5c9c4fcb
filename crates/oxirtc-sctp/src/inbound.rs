//! Inbound data path of an association: DATA and its SACK timing (RFC 9260 §6.2), SACK processing
//! and timer rules (§6.2.1, §6.3.2), delivery to the application, HEARTBEAT ACK (§8.3).

use std::time::{Duration, Instant};

use crate::association::{Association, SctpEvent, State, MAX_BURST_CREDIT};
use crate::timer::Timer;
use crate::{Ppid, StreamId};

/// Bytes reserved for a queued SACK chunk: its 16-byte fixed part and up to 12 gap blocks or
/// duplicates (RFC 9260 §3.3.4); a larger one still works, it regrows.
const SACK_CAPACITY: usize = 16 + 4 * 12;

impl Association {
    pub(crate) fn on_data(&mut self, d: &crate::chunk::DataChunk<'_>) {
        use crate::receiver::DataOutcome;
        let held = self.undelivered + self.app_backlog;
        let Some(r) = self.receiver.as_mut() else { return };
        self.stats.data_chunks_received += 1;
        match r.on_data(d, held) {
            DataOutcome::Accepted => {}
            DataOutcome::Duplicate => self.stats.duplicate_chunks_received += 1,
            DataOutcome::WindowFull => {
                self.stats.drops.receive_window_full += 1;
                tracing::trace!(tsn = d.tsn, "DATA beyond the receive window dropped");
            }
            DataOutcome::InvalidStream => {
                self.stats.drops.invalid_stream += 1;
                // RFC 9260 §6.5: report with an ERROR "Invalid Stream Identifier".
                let mut info = Vec::new();
                info.extend_from_slice(&d.stream.to_be_bytes());
                info.extend_from_slice(&[0, 0]);
                let mut causes = Vec::new();
                crate::param::put_cause(&mut causes, crate::param::cause::INVALID_STREAM, &info);
                let mut out = Vec::new();
                crate::chunk::encode_raw(&mut out, crate::chunk::ty::ERROR, 0, &causes);
                self.queue_ctrl(out);
            }
            DataOutcome::TooLarge => {
                self.stats.drops.message_too_large += 1;
                tracing::debug!(
                    stream = d.stream,
                    "reassembled message above max_message_size dropped"
                );
            }
        }
    }
    /// §6.2: SACK at once for gaps, duplicates, every second packet or the I bit; otherwise delay.
    pub(crate) fn after_data(&mut self, now: Instant, immediate: bool) {
        if self.state == State::ShutdownSent {
            // RFC 9260 §9.2: DATA in SHUTDOWN-SENT is answered with a SACK and the SHUTDOWN again, and
            // T2 restarts; the peer is evidently alive.
            self.send_shutdown();
            self.error_count = 0;
            self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
        }
        let Some(r) = self.receiver.as_ref() else { return };
        self.sack_needed = true;
        self.packets_since_sack += 1;
        let shutting_down = matches!(self.state, State::ShutdownSent | State::ShutdownReceived);
        let in_order = !r.has_gaps() && !r.has_dups();
        if self.packets_since_sack >= 2 && in_order && !immediate {
            // Every second packet gets its own SACK even when the caller hands us a batch of datagrams
            // before polling: the sender's cwnd grows per SACK (RFC 9260 §6.2, §7.2.1).
            self.queue_sack();
        } else if immediate || !in_order || self.packets_since_sack >= 2 || shutting_down {
            self.sack_now = true;
        } else if !self.timers.is_running(Timer::DelayedAck) {
            self.timers.set(Timer::DelayedAck, now + self.config.delayed_ack);
        }
        self.deliver_ready();
        self.check_deferred_reset(now);
    }
    fn queue_sack(&mut self) {
        // One allocation: room for the header placeholder, the SACK and a few gap blocks, so the
        // encoder does not regrow it (this runs for every second packet of a bulk transfer).
        let mut out = Vec::with_capacity(crate::packet::COMMON_HEADER_LEN + SACK_CAPACITY);
        out.resize(crate::packet::COMMON_HEADER_LEN, 0);
        self.sack_now = true;
        self.add_sack(&mut out, false);
        out.drain(..crate::packet::COMMON_HEADER_LEN);
        if !out.is_empty() {
            self.queue_ctrl(out);
        }
    }
    pub(crate) fn deliver_ready(&mut self) {
        let Some(r) = self.receiver.as_mut() else { return };
        while let Some(m) = r.ready.pop_front() {
            self.stats.messages_received += 1;
            self.undelivered += m.data.len();
            self.events.push_back(SctpEvent::Message {
                stream: StreamId(m.stream),
                ppid: Ppid(m.ppid),
                data: m.data,
                unordered: m.unordered,
            });
        }
    }
    pub(crate) fn on_sack(&mut self, now: Instant, s: &crate::chunk::SackChunk<'_>) {
        let before = self.sender.cum_ack;
        self.sender.rack.srtt = self.rto.srtt();
        let out = self.sender.on_sack(now, s);
        if let Some(rtt) = out.rtt {
            self.rto.on_sample(rtt);
        }
        if out.cum_advanced {
            self.rto.clear_back_off();
        }
        if out.new_data_acked || out.cum_advanced || s.a_rwnd == 0 {
            // RFC 9260 §8.1: acknowledged data resets the error counter; so does a peer that answers
            // zero-window probes (it is alive, just not reading), or whose cumulative ack moved over
            // abandoned chunks after our FORWARD TSN (RFC 3758 §3.6: that SACK acknowledges it).
            self.error_count = 0;
            self.pmtu.on_data_acked();
        }
        self.stats.fast_retransmits += out.fast_retransmits;
        if out.fast_retransmits > 0 {
            self.pmtu_on_loss(now);
        }
        // What was acked may be replaced at once (the ACK clock), on top of Max.Burst.
        let acked_packets = out.bytes_acked.div_ceil(self.sender.max_payload());
        self.burst_left = (self.burst_left + acked_packets).min(MAX_BURST_CREDIT);
        // §6.3.2 R2/R3: stop T3 when nothing is outstanding, restart it when the cum ack advanced.
        if !self.sender.has_outstanding() {
            self.timers.stop(Timer::T3Rtx);
        } else if self.sender.cum_ack > before {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
        self.arm_loss_timer(now);
        self.drain_sender_events();
    }

    /// Arms (or stops) the RACK reordering timer / loss probe timeout (RFC 8985 §6.3, §7.2).
    pub(crate) fn arm_loss_timer(&mut self, now: Instant) {
        self.sender.rack.srtt = self.rto.srtt();
        match self.sender.loss_timer(now, self.rto.rto()) {
            Some(at) => self.timers.set(Timer::LossDetection, at),
            None => self.timers.stop(Timer::LossDetection),
        }
    }

    /// The loss-detection timer fired: RACK's reordering timeout (RFC 8985 §6.3) re-runs loss
    /// detection; otherwise the probe timeout sends a loss probe (§7.3).
    pub(crate) fn on_loss_timer(&mut self, now: Instant) {
        if !self.is_established() {
            return;
        }
        if self.sender.rack.reo_deadline.is_some_and(|at| at <= now) {
            self.sender.rack.reo_deadline = None;
            let marked = self.sender.detect_losses(now);
            self.stats.fast_retransmits += marked;
            if marked > 0 {
                self.pmtu_on_loss(now);
            }
        } else if self.sender.start_probe(now) {
            // §7.3: after the probe the RTO, not another PTO, guards the tail.
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
        // Chunks found lost may have been abandoned instead (RFC 3758 §3.5): FORWARD TSN them.
        self.sender.update_adv_peer_ack();
        self.arm_loss_timer(now);
    }
    pub(crate) fn drain_sender_events(&mut self) {
        for s in self.sender.take_low_events() {
            self.events.push_back(SctpEvent::BufferedAmountLow(StreamId(s)));
        }
    }
    pub(crate) fn on_heartbeat_ack(&mut self, now: Instant, info: &[u8]) {
        // Our Heartbeat Info: 8 bytes sent time (ms since epoch) + 8 bytes nonce (RFC 9260 §8.3).
        let (Some(t), Some(n)) = (info.get(..8), info.get(8..16)) else {
            return;
        };
        let mut b = [0u8; 8];
        b.copy_from_slice(n);
        if self.heartbeat_nonce != Some(u64::from_be_bytes(b)) {
            return;
        }
        b.copy_from_slice(t);
        let sent = self.epoch + Duration::from_millis(u64::from_be_bytes(b));
        self.heartbeat_nonce = None;
        self.error_count = 0;
        self.rto.on_sample(now.saturating_duration_since(sent));
    }
}
