//! How a connection ends: closed by the application ([`Rtc::close`]) or ended by a layer below,
//! at once and with a [`CloseReason`]: a peer's SCTP ABORT (RFC 9260 §9.1), a fatal DTLS alert
//! received or sent (RFC 5246 §7.2), close_notify, or ICE failing (RFC 8445 §8.1.2, RFC 7675 §5.1).

use std::time::Instant;

use oxirtc_dtls::DtlsError;
use oxirtc_sctp::SctpEvent;

use super::{PeerConnectionState, Rtc};
use crate::jsep::SignalingState;
use crate::{CloseReason, RtcEvent};

impl Rtc {
    /// Closes the connection as browsers do for W3C `close()`: SCTP ABORT, then DTLS close_notify.
    /// Every channel is closed at once. After a failure it moves the connection from failed to
    /// closed; [`Rtc::close_reason`] keeps the failure.
    pub fn close(&mut self, now: Instant) {
        if self.state == PeerConnectionState::Closed {
            return;
        }
        // After a failure this does nothing: that ending already tore the layers down.
        self.end(now, CloseReason::Local);
        self.pump(now);
        self.signaling = SignalingState::Closed;
        self.set_state(PeerConnectionState::Closed);
    }

    /// Why the connection ended, once it has (state [`PeerConnectionState::Failed`] or
    /// [`PeerConnectionState::Closed`]); `None` while it has not. The first reason is kept.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// Ends the connection at once: records `reason` (the first one counts), logs it, raises
    /// [`RtcEvent::Ended`], closes every channel and the layers below, and moves to the state the
    /// reason implies. Nothing waits for a timeout. Does nothing once the connection has ended.
    /// The caller's pump (or [`Rtc::close`]) sends what the layers queued (ABORT, close_notify,
    /// TURN deallocations).
    pub(crate) fn end(&mut self, now: Instant, reason: CloseReason) {
        if self.close_reason.is_some() {
            return;
        }
        let state = reason.state();
        match state {
            PeerConnectionState::Failed => tracing::warn!(%reason, "rtc: connection failed"),
            _ => tracing::info!(%reason, "rtc: connection closed"),
        }
        self.events.push_back(RtcEvent::Ended(reason.clone()));
        self.close_reason = Some(reason);
        self.tear_down(now);
        self.set_state(state);
    }

    /// Stops every layer that is still up: the association is aborted (RFC 8831 §6.2: no data
    /// channel outlives it; the ABORT goes out only if DTLS can still carry it), then DTLS sends
    /// close_notify (RFC 5246 §7.2.1), TURN allocations are released, every channel closes.
    fn tear_down(&mut self, now: Instant) {
        if let Some(s) = self.sctp.as_mut() {
            s.abort(now);
        }
        // The ABORT (and anything SCTP still had) is sealed before close_notify ends the records.
        self.queue_sctp_packets(now);
        if let Some(d) = self.dtls.as_mut() {
            d.close(now);
        }
        self.deallocate_turn(now);
        self.close_all_channels();
    }

    /// The association ended: a peer's ABORT with its causes, or SCTP giving up here.
    pub(crate) fn on_sctp_ended(&mut self, now: Instant, ev: SctpEvent) {
        let reason = match ev {
            SctpEvent::Aborted(why) => match self.sctp.as_ref().and_then(|s| s.peer_abort_causes()) {
                Some(causes) => CloseReason::PeerAborted(causes.to_vec()),
                None => CloseReason::SctpFailed(why),
            },
            _ => CloseReason::PeerShutdown,
        };
        self.end(now, reason);
        // Already ended (our own close aborted the association): its channels still go.
        self.close_all_channels();
    }

    /// DTLS failed: a fatal alert from the peer, or an error here (the alert it sent is named).
    pub(crate) fn on_dtls_failed(&mut self, now: Instant, e: DtlsError) {
        let reason = match e {
            DtlsError::AlertReceived(alert) => CloseReason::DtlsAlertReceived(alert),
            e => CloseReason::DtlsFailed(e),
        };
        self.end(now, reason);
    }

    /// ICE failed (RFC 8445 §8.1.2, RFC 7675 §5.1): nothing can reach the peer any more, so the
    /// connection ends now rather than when SCTP runs out of retransmissions minutes later.
    pub(crate) fn on_ice_failed(&mut self, now: Instant) {
        match self.ice.failure().cloned() {
            Some(failure) => self.end(now, CloseReason::IceFailed(failure)),
            // The agent records why before it reports Failed; should that ever not hold, the
            // connection still fails.
            None => self.set_state(PeerConnectionState::Failed),
        }
    }
}
