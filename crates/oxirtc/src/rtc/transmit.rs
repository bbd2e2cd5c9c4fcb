//! The send path: [`Rtc::poll_transmit_into`] appends the next datagram to the caller's buffer. SCTP
//! packets on a direct (not relayed) path are built when they are polled and sealed into that buffer
//! in place (RFC 8261 §5: one SCTP packet per DTLS record): no datagram is allocated, queued or copied
//! again on the hot path. Everything else (ICE, DTLS handshake and alerts, TURN, relayed SCTP) still
//! goes through the queue and is copied out.

use std::net::SocketAddr;
use std::time::Instant;

use super::{Rtc, Transmit};

/// Where the datagram [`Rtc::poll_transmit_into`] appended goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmitInfo {
    /// Local address (socket) to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes appended: the datagram is the buffer's last `len` bytes.
    pub len: usize,
}

impl Rtc {
    /// The next datagram to send, appended to `buf` (what `buf` held stays in front of it), or `None`
    /// when there is nothing to send. Drain until `None` after every `handle_*` and API call, as with
    /// [`Rtc::poll_transmit`], which wraps this. Datagrams leave in the same order either way.
    pub fn poll_transmit_into(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<TransmitInfo> {
        if let Some(info) = self.poll_queued_into(now, buf) {
            return Some(info);
        }
        // Channel sends are only queued; packing them happens here, packet by packet as polled.
        if let Some(info) = self.seal_next_sctp_packet(now, buf) {
            return Some(info);
        }
        // Nothing ready: move everything between the layers (this also raises the events SCTP's
        // sender produced while packets were built, and queues relayed SCTP packets), then look again.
        self.pump(now);
        if let Some(info) = self.poll_queued_into(now, buf) {
            return Some(info);
        }
        self.seal_next_sctp_packet(now, buf)
    }

    /// The next ICE or queued datagram (TURN-wrapped when its source is relayed), copied into `buf`.
    fn poll_queued_into(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<TransmitInfo> {
        loop {
            let t = match self.ice.poll_transmit(now) {
                Some(t) => Transmit {
                    source: t.source,
                    destination: t.destination,
                    contents: t.contents,
                },
                None => self.out.pop_front()?,
            };
            // A datagram from a relayed candidate is wrapped by its TURN client and queued again.
            if let Some(t) = self.route_via_turn(now, t) {
                buf.extend_from_slice(&t.contents);
                return Some(self.sent(t.source, t.destination, t.contents.len()));
            }
        }
    }

    /// Builds the next SCTP packet and seals it straight into `buf`, if SCTP has one and the path
    /// allows it (see [`Rtc::direct_sctp_path`]).
    fn seal_next_sctp_packet(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<TransmitInfo> {
        let (source, destination) = self.direct_sctp_path(now)?;
        let mut packet = std::mem::take(&mut self.sctp_packet);
        let mut info = None;
        while info.is_none() && self.sctp.as_mut()?.poll_transmit_into(now, &mut packet) {
            let Some(dtls) = self.dtls.as_mut() else { break };
            match dtls.seal_application_data_into(buf, &packet) {
                Ok(start) => info = Some(self.sent(source, destination, buf.len() - start)),
                // Lost like a dropped datagram; SCTP retransmits what needs it.
                Err(e) => tracing::debug!(error = %e, "rtc: SCTP packet not sent over DTLS"),
            }
        }
        self.sctp_packet = packet;
        info
    }

    /// Where SCTP packets are sealed on demand: DTLS is connected and the path DTLS goes on
    /// ([`Rtc::data_path`]) has a local side that is not a relayed candidate. `None`: SCTP packets go
    /// through DTLS's queue when the pump runs (relayed paths, consent lost, no DTLS yet).
    pub(crate) fn direct_sctp_path(&self, now: Instant) -> Option<(SocketAddr, SocketAddr)> {
        if !self.dtls.as_ref().is_some_and(|d| d.is_connected()) {
            return None;
        }
        let (local, remote) = self.data_path(now)?;
        if self.turn.iter().any(|s| s.relayed == Some(local)) {
            return None;
        }
        Some((local, remote))
    }

    fn sent(&mut self, source: SocketAddr, destination: SocketAddr, len: usize) -> TransmitInfo {
        self.stats.datagrams_sent += 1;
        self.stats.bytes_sent += len as u64;
        TransmitInfo {
            source,
            destination,
            len,
        }
    }
}
