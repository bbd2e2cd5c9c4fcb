//! Building outgoing packets (RFC 9260 §6.1, §6.10 bundling) and the shutdown sequence (§9.2).

use std::time::Instant;

use crate::association::{Association, Ctrl, SctpEvent, State};
use crate::chunk::{encode_data, encode_forward_tsn, encode_raw, encode_sack, ty, SackChunk};
use crate::packet::{begin_packet, write_checksum, CommonHeader};
use crate::sender::DATA_HEADER;
use crate::timer::Timer;

impl Association {
    /// The next SCTP packet to send (at most `mtu` bytes), or `None` when there is nothing to send.
    /// Call until it returns `None` after every `handle_*` / `send` call.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        let mut buf = std::mem::take(&mut self.scratch);
        let out = self.poll_transmit_into(now, &mut buf).then(|| buf.clone());
        self.scratch = buf;
        out
    }

    /// [`poll_transmit`](Self::poll_transmit) into the caller's buffer, which is cleared and then
    /// holds the packet when this returns true: a caller that reuses one buffer allocates and copies
    /// nothing per packet.
    #[must_use]
    pub fn poll_transmit_into(&mut self, now: Instant, buf: &mut Vec<u8>) -> bool {
        self.maybe_start_reconfig(now);
        // A buffer the caller gave back while idle (no capacity) stays unallocated when there is
        // nothing to send: polling an idle association must not re-grow it to a packet.
        let released = buf.capacity() == 0;
        let built = self.build_packet(now, buf);
        if built {
            if self.zero_checksum_allowed(buf) {
                // RFC 9653 §5.2: the checksum field stays zero (begin_packet wrote it so).
                self.stats.zero_checksum_sent += 1;
            } else {
                write_checksum(buf);
            }
            self.stats.packets_sent += 1;
            self.stats.bytes_sent += buf.len() as u64;
        } else if released {
            *buf = Vec::new();
        } else {
            buf.clear();
        }
        self.after_progress(now);
        built
    }

    /// RFC 9653 §5.2: zero instead of the CRC32c once the peer announced Zero Checksum Acceptable for
    /// DTLS and we run over DTLS ourselves; only for the chunks of an established association (the
    /// handshake, ABORT and SHUTDOWN COMPLETE keep a real checksum, which is always allowed).
    fn zero_checksum_allowed(&self, packet: &[u8]) -> bool {
        use crate::chunk::ty;
        let steady = matches!(
            packet.get(crate::packet::COMMON_HEADER_LEN).copied(),
            Some(ty::DATA | ty::SACK | ty::HEARTBEAT | ty::HEARTBEAT_ACK | ty::FORWARD_TSN | ty::RECONFIG)
        );
        self.config.zero_checksum_dtls && self.peer.zero_checksum && self.is_established() && steady
    }

    fn header(&self, vtag: u32) -> CommonHeader {
        CommonHeader {
            src_port: self.config.local_port,
            dst_port: self.config.remote_port,
            verification_tag: vtag,
        }
    }

    fn room(&self, buf: &[u8]) -> usize {
        self.config.mtu.saturating_sub(buf.len())
    }

    /// Fills `buf` with one packet; false when there is nothing to send.
    fn build_packet(&mut self, now: Instant, buf: &mut Vec<u8>) -> bool {
        let can_data = self.is_established() && !self.finished;
        let vtag = match self.ctrl.front() {
            Some(c) => c.vtag,
            None if can_data => self.peer.tag,
            None => return false,
        };
        // Exact: the caller keeps this buffer for the connection's life, and Vec's doubling would
        // hold up to twice the packet size for good once PLPMTUD raised it.
        buf.reserve_exact(self.config.mtu.saturating_sub(buf.len()));
        begin_packet(buf, &self.header(vtag));
        if let Some(front) = self.ctrl.front() {
            if front.alone {
                if let Some(c) = self.ctrl.pop_front() {
                    buf.reserve_exact(c.bytes.len()); // a PLPMTUD probe may exceed the packet size
                    buf.extend_from_slice(&c.bytes);
                }
                return true;
            }
        }
        while let Some(c) = self.ctrl.front() {
            // A control chunk bigger than the MTU still goes out alone rather than never.
            let fits = c.bytes.len() <= self.room(buf) || buf.len() == crate::packet::COMMON_HEADER_LEN;
            if c.vtag != vtag || c.alone || !fits {
                break;
            }
            if let Some(c) = self.ctrl.pop_front() {
                buf.extend_from_slice(&c.bytes);
            }
        }
        if can_data && vtag == self.peer.tag {
            self.add_sack(buf, false);
            self.add_forward_tsn(now, buf);
            self.add_data(now, buf);
        }
        buf.len() > crate::packet::COMMON_HEADER_LEN
    }

    /// Bundles a SACK when one is due, or when `piggyback` and one is wanted (RFC 9260 §6.2).
    pub(crate) fn add_sack(&mut self, buf: &mut Vec<u8>, piggyback: bool) {
        if !(self.sack_now || (piggyback && self.sack_needed)) {
            return;
        }
        let undelivered = self.undelivered + self.app_backlog;
        let Some(r) = self.receiver.as_mut() else { return };
        let a_rwnd = r.a_rwnd(undelivered);
        self.last_advertised_rwnd = a_rwnd;
        let (cum, gaps, dups) = r.sack_blocks();
        let max_gaps = self.config.mtu.saturating_sub(buf.len() + 16) / 4;
        let gaps = &gaps[..gaps.len().min(max_gaps)];
        let max_dups = self.config.mtu.saturating_sub(buf.len() + 16 + 4 * gaps.len()) / 4;
        encode_sack(buf, cum, a_rwnd, gaps, &dups[..dups.len().min(max_dups)]);
        self.sack_now = false;
        self.sack_needed = false;
        self.packets_since_sack = 0;
        self.timers.stop(Timer::DelayedAck);
        self.stats.sacks_sent += 1;
    }

    /// RFC 3758 §3.5 C3: FORWARD TSN when the Advanced.Peer.Ack.Point moved past the cumulative ack.
    fn add_forward_tsn(&mut self, now: Instant, buf: &mut Vec<u8>) {
        if !self.sender.forward_tsn_pending {
            return;
        }
        let Some((new_cum, mut streams)) = self.sender.forward_tsn() else {
            self.sender.forward_tsn_pending = false;
            return;
        };
        let max_streams = self.room(buf).saturating_sub(8) / 4;
        if max_streams == 0 {
            return;
        }
        streams.truncate(max_streams);
        encode_forward_tsn(buf, new_cum, &streams);
        self.sender.forward_tsn_pending = false;
        self.stats.forward_tsn_sent += 1;
        // RFC 3758 §3.5 C5: a FORWARD TSN keeps T3 running, so a lost one is sent again (A5) even
        // when no DATA is in flight to bring back a SACK.
        if !self.timers.is_running(Timer::T3Rtx) {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
    }

    /// Retransmissions first, then new DATA within cwnd and the peer's window (RFC 9260 §6.1, §7.2).
    fn add_data(&mut self, now: Instant, buf: &mut Vec<u8>) {
        let data_start = buf.len();
        let mut sent = false;
        let mut retransmitted = false;
        while self.sender.has_retransmits()
            && (self.sender.rtx_override || self.sender.flight_size < self.sender.cwnd())
        {
            let Some(tsn) = self.sender.next_retransmit(now) else {
                break;
            };
            let Some(c) = self.sender.chunk(tsn) else { break };
            // A chunk sent before the packet size fell (PLPMTUD, RFC 8899 §4.3) cannot be fragmented
            // again (RFC 9260 §6.9): it goes alone in a larger packet rather than never.
            let alone = buf.len() == crate::packet::COMMON_HEADER_LEN
                && c.wire_len() > self.config.mtu.saturating_sub(crate::packet::COMMON_HEADER_LEN);
            if c.wire_len() > self.room(buf) && !alone {
                break;
            }
            encode_data(buf, &c.as_data());
            self.sender.on_chunk_sent(now, tsn);
            // RFC 9260 §7.2.4 rule 4: restart T3 when the earliest outstanding TSN is retransmitted.
            if tsn == self.sender.cum_ack + 1 {
                self.timers.set(Timer::T3Rtx, now + self.rto.rto());
            }
            sent = true;
            retransmitted = true;
        }
        if retransmitted {
            self.sender.rtx_override = false;
        }
        // RFC 9260 §6.1 Max.Burst: at most that many packets of new data per received packet or timer.
        let burst_ok = self.burst_left > 0;
        let mut new_data = false;
        let mut last_new_chunk = None;
        // RFC 9260 §9.2: in SHUTDOWN-RECEIVED the user may not add data, but what it queued still goes.
        if !self.sender.has_retransmits() && burst_ok {
            while self.sender.can_send_new() {
                let room = self.room(buf);
                if room < DATA_HEADER + 4 {
                    break;
                }
                let Some(c) = self.sender.next_new_chunk(now, room) else {
                    break;
                };
                last_new_chunk = Some(buf.len());
                encode_data(buf, &c.as_data());
                let tsn = c.tsn;
                self.sender.on_chunk_sent(now, tsn);
                self.stats.data_chunks_sent += 1;
                sent = true;
                new_data = true;
            }
        }
        if new_data {
            self.burst_left -= 1;
        }
        // RFC 9260 §6.1 (the I bit, RFC 7053 §4): this packet empties the queue, so nothing follows
        // that would make the peer's second-packet rule fire; without the bit its SACK waits out the
        // delayed-ack timer (up to 200 ms, §6.2, as long as our RTO.Min), which holds the flight,
        // risks a spurious T3 and inflates SRTT by the delay.
        if let Some(at) = last_new_chunk {
            if let (false, Some(flags)) = (self.sender.has_queued(), buf.get_mut(at + 1)) {
                *flags |= crate::chunk::data_flags::IMMEDIATE;
            }
        }
        // RFC 8985 §7.3: the probe was one packet.
        self.sender.probe_new = false;
        if sent {
            // §6.3.2 R1: T3 runs whenever data is outstanding.
            if !self.timers.is_running(Timer::T3Rtx) {
                self.timers.set(Timer::T3Rtx, now + self.rto.rto());
            }
            // §8.3: heartbeats go to idle paths only.
            self.timers.set(
                Timer::Heartbeat,
                now + self.rto.rto() + self.config.heartbeat_interval,
            );
            // RFC 8985 §7.2: (re)arm the probe timeout after sending.
            self.arm_loss_timer(now);
            // A SACK rides along for free when one is wanted anyway. RFC 9260 §6.10: control chunks
            // go first in a packet (usrsctp aborts the association on "DATA chunk followed by chunk
            // of type 03"), so it is encoded at the end and rotated in front of the DATA chunks.
            if self.sack_needed && self.room(buf) >= 16 {
                let sack_start = buf.len();
                self.add_sack(buf, true);
                let sack_len = buf.len() - sack_start;
                buf[data_start..].rotate_right(sack_len);
            }
        }
        self.drain_sender_events();
    }

    /// RFC 9260 §9.2: SHUTDOWN / SHUTDOWN ACK once nothing is queued or outstanding.
    pub(crate) fn check_shutdown(&mut self, now: Instant) {
        if !self.sender.is_idle() {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.send_shutdown();
                self.state = State::ShutdownSent;
                self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
            }
            State::ShutdownReceived => {
                self.send_shutdown_ack();
                self.state = State::ShutdownAckSent;
                self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
            }
            _ => {}
        }
    }

    pub(crate) fn send_shutdown(&mut self) {
        let cum = self.receiver.as_ref().map_or(0, |r| r.cum as u32);
        let mut out = Vec::new();
        encode_raw(&mut out, ty::SHUTDOWN, 0, &cum.to_be_bytes());
        self.queue_ctrl(out);
    }

    fn send_shutdown_ack(&mut self) {
        let mut out = Vec::new();
        encode_raw(&mut out, ty::SHUTDOWN_ACK, 0, &[]);
        self.queue_ctrl(out);
    }

    /// SHUTDOWN received (RFC 9260 §9.2).
    pub(crate) fn on_shutdown(&mut self, now: Instant, cum_tsn_ack: u32) {
        let a_rwnd = (self.sender.peer_rwnd + self.sender.flight_size) as u32;
        let sack = SackChunk::cum_only(cum_tsn_ack, a_rwnd);
        let before = self.sender.cum_ack;
        let _ = self.sender.on_sack(now, &sack);
        if !self.sender.has_outstanding() {
            self.timers.stop(Timer::T3Rtx);
        } else if self.sender.cum_ack > before {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
        match self.state {
            State::Established | State::ShutdownPending => self.state = State::ShutdownReceived,
            State::ShutdownSent => {
                // Both sides shut down at once: answer with SHUTDOWN ACK.
                self.send_shutdown_ack();
                self.state = State::ShutdownAckSent;
                self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
            }
            _ => {}
        }
        self.check_shutdown(now);
    }

    /// SHUTDOWN ACK received (RFC 9260 §9.2): SHUTDOWN COMPLETE and close.
    pub(crate) fn on_shutdown_ack(&mut self) {
        if self.finished && self.peer_known {
            // RFC 9260 §8.4 (5): our SHUTDOWN COMPLETE was lost; answer with the T bit, reflecting the tag.
            let mut out = Vec::new();
            encode_raw(&mut out, ty::SHUTDOWN_COMPLETE, 1, &[]);
            self.ctrl.push_back(Ctrl {
                vtag: self.local_tag,
                bytes: out,
                alone: true,
            });
            return;
        }
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            let mut out = Vec::new();
            encode_raw(&mut out, ty::SHUTDOWN_COMPLETE, 0, &[]);
            self.ctrl.push_back(Ctrl {
                vtag: self.peer.tag,
                bytes: out,
                alone: false,
            });
            self.terminate(SctpEvent::Closed);
        }
    }

    /// T2-shutdown expired (RFC 9260 §9.2): retransmit SHUTDOWN or SHUTDOWN ACK.
    pub(crate) fn on_t2(&mut self, now: Instant) {
        let resend: fn(&mut Self) = match self.state {
            State::ShutdownSent => Self::send_shutdown,
            State::ShutdownAckSent => Self::send_shutdown_ack,
            _ => return,
        };
        if self.count_error() {
            return;
        }
        self.rto.back_off();
        resend(self);
        self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
    }
}
