//! Moving data between the layers of an [`Rtc`] after every input (CONTRIBUTING.md convention 2 and
//! docs/architecture.md, "The run loop": the owner drains every child's `poll_*` after each mutation).

use std::net::SocketAddr;
use std::time::Instant;

use oxirtc_dtls::DtlsEvent;
use oxirtc_ice::{IceConnectionState, IceEvent};
use oxirtc_sctp::{Association, SctpConfig};

use super::{PeerConnectionState, Rtc, Transmit};
use crate::RtcEvent;

/// Upper bound of rounds in one pump: each round moves everything that is ready, so two or three
/// suffice; the bound only guards against a layer that keeps producing work forever.
const MAX_ROUNDS: usize = 64;

impl Rtc {
    /// Drains every layer until nothing moves.
    pub(crate) fn pump(&mut self, now: Instant) {
        for _ in 0..MAX_ROUNDS {
            let mut moved = self.drain_turn(now);
            moved |= self.drain_ice(now);
            moved |= self.drain_dtls_events(now);
            moved |= self.drain_sctp(now);
            moved |= self.drain_dtls_transmits(now);
            if !moved {
                self.update_gathering(now);
                return;
            }
        }
    }

    fn drain_ice(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(ev) = self.ice.poll_event() {
            moved = true;
            match ev {
                IceEvent::LocalCandidate(c) => {
                    let line = c.to_sdp();
                    if !self.local_candidates.contains(&line) {
                        self.local_candidates.push(line.clone());
                        self.events.push_back(RtcEvent::LocalCandidate(line));
                    }
                }
                IceEvent::GatheringComplete => self.ice_gathered = true,
                IceEvent::StateChanged(state) => self.on_ice_state(now, state),
                IceEvent::SelectedPair { local, remote } => {
                    self.events.push_back(RtcEvent::SelectedPair { local, remote });
                    self.bind_selected_channel(now, local, remote);
                    self.maybe_start_dtls(now);
                    self.tell_sctp_path(now, oxirtc_sctp::PathEvent::Changed);
                }
                IceEvent::RoleChanged { .. } => {}
            }
        }
        // A check was answered: a valid pair may exist before any event (RFC 8445 §12.1).
        moved | self.maybe_start_dtls(now)
    }

    /// Gathering is complete once ICE's server-reflexive gathering is done and every TURN allocation
    /// succeeded or failed (W3C `iceGatheringState` "complete").
    fn update_gathering(&mut self, now: Instant) {
        let turn_pending = self.turn.iter().any(|s| {
            matches!(
                s.client.state(),
                oxirtc_turn::ClientState::Idle | oxirtc_turn::ClientState::Allocating
            )
        });
        self.ice.set_owner_gathering(now, turn_pending);
        let has_candidates = !self.local_candidates.is_empty() || !self.turn.is_empty();
        if !self.gathering_complete && self.ice_gathered && !turn_pending && has_candidates {
            self.gathering_complete = true;
            self.events.push_back(RtcEvent::IceGatheringComplete);
        }
    }

    fn on_ice_state(&mut self, now: Instant, state: IceConnectionState) {
        let was = std::mem::replace(&mut self.ice_state, state);
        if was == IceConnectionState::Disconnected
            && matches!(
                state,
                IceConnectionState::Connected | IceConnectionState::Completed
            )
        {
            // Consent answered again on the selected pair (RFC 7675 §5.1).
            self.tell_sctp_path(now, oxirtc_sctp::PathEvent::Restored);
        }
        self.events.push_back(RtcEvent::IceConnectionState(state));
        match state {
            IceConnectionState::Checking => self.set_state(PeerConnectionState::Connecting),
            IceConnectionState::Failed => self.on_ice_failed(now),
            IceConnectionState::Disconnected => self.set_state(PeerConnectionState::Disconnected),
            IceConnectionState::Connected | IceConnectionState::Completed if self.dtls_connected => {
                self.set_state(PeerConnectionState::Connected)
            }
            _ => {}
        }
    }

    /// ICE found the path working again or moved data to a new pair: SCTP, stalled by an outage,
    /// retransmits at once instead of waiting out its backed-off timer (oxirtc-sctp `path.rs`).
    fn tell_sctp_path(&mut self, now: Instant, event: oxirtc_sctp::PathEvent) {
        if let Some(sctp) = self.sctp.as_mut() {
            sctp.handle_path_event(now, event);
        }
    }

    fn drain_dtls_events(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(ev) = self.dtls.as_mut().and_then(|d| d.poll_event()) {
            moved = true;
            match ev {
                // A handshake that completes as the connection ends starts nothing.
                DtlsEvent::Connected if self.close_reason.is_some() => {}
                DtlsEvent::Connected => self.on_dtls_connected(now),
                DtlsEvent::ApplicationData(packet) => {
                    if let Some(sctp) = self.sctp.as_mut() {
                        sctp.handle_receive(now, &packet);
                    }
                }
                // RFC 5246 §7.2.1 (after our own close, `end` does nothing).
                DtlsEvent::Closed => self.end(now, crate::CloseReason::PeerClosed),
                DtlsEvent::Failed(e) => self.on_dtls_failed(now, e),
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        moved
    }

    /// DTLS is up and the peer's certificate matched `a=fingerprint`: start SCTP (RFC 8261 §4; both
    /// sides send INIT, RFC 8831 §6.2).
    fn on_dtls_connected(&mut self, now: Instant) {
        self.dtls_connected = true;
        if matches!(
            self.ice_state,
            IceConnectionState::Connected | IceConnectionState::Completed
        ) || self.ice.selected_pair().is_some()
        {
            self.set_state(PeerConnectionState::Connected);
        }
        self.start_media();
        if self.sctp.is_some() || self.remote.as_ref().is_some_and(|r| r.data.is_none()) {
            return;
        }
        let remote_port = self
            .remote
            .as_ref()
            .and_then(|r| r.data.as_ref())
            .map_or(5000, |d| d.sctp_port);
        let (mtu, max_mtu) = self.sctp_packet_sizes(now);
        let config = SctpConfig {
            remote_port,
            mtu,
            max_mtu,
            ..self.config.sctp.clone()
        };
        let mut sctp = Association::new(config, self.rng.fork(), now);
        sctp.connect(now);
        self.sctp = Some(sctp);
    }

    fn drain_sctp(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(ev) = self.sctp.as_mut().and_then(|s| s.poll_event()) {
            moved = true;
            self.on_sctp_event(now, ev);
            // A delivered message now waits in our event queue: keep it in the receive window.
            self.sync_receive_backlog();
        }
        if self.direct_sctp_path(now).is_some() {
            // Built when polled and sealed straight into the caller's buffer (rtc/transmit.rs).
            return moved;
        }
        moved | self.queue_sctp_packets(now)
    }

    /// Builds every SCTP packet that is ready and hands each to DTLS's queue; true if there was one.
    pub(crate) fn queue_sctp_packets(&mut self, now: Instant) -> bool {
        let mut moved = false;
        let mut packet = std::mem::take(&mut self.sctp_packet);
        while self
            .sctp
            .as_mut()
            .is_some_and(|s| s.poll_transmit_into(now, &mut packet))
        {
            moved = true;
            if let Some(dtls) = self.dtls.as_mut() {
                // RFC 8261 §5: one SCTP packet per DTLS record.
                if let Err(e) = dtls.send_application_data(&packet) {
                    tracing::debug!(error = %e, "rtc: SCTP packet not sent over DTLS");
                }
            }
        }
        self.sctp_packet = packet;
        moved
    }

    /// The pair DTLS (and so SCTP) goes on: the selected pair; before ICE selects one, the best valid
    /// pair (RFC 8445 §12.1), else the path the last DTLS datagram came from (a peer's ClientHello can
    /// arrive before our own check was answered). RFC 7675 §5.1: none once consent is lost.
    pub(crate) fn data_path(&self, now: Instant) -> Option<(SocketAddr, SocketAddr)> {
        match self.ice_state {
            IceConnectionState::Failed => None,
            _ => self.ice.valid_pair(now).or(self.last_dtls_path),
        }
    }

    fn drain_dtls_transmits(&mut self, now: Instant) -> bool {
        let mut moved = false;
        let path = self.data_path(now);
        while let Some(datagram) = self.dtls.as_mut().and_then(|d| d.poll_transmit()) {
            moved = true;
            tracing::trace!(len = datagram.len(), ?path, "rtc: DTLS datagram out");
            match path {
                Some((source, destination)) => self.out.push_back(Transmit {
                    source,
                    destination,
                    contents: datagram,
                }),
                None => tracing::trace!("rtc: DTLS datagram with no path yet; its retransmission will go"),
            }
        }
        moved
    }
}
