//! The layer below tells the association what happened to its path (ICE consent answered again, a
//! new selected pair): after an outage the association retransmits at once instead of waiting out a
//! backed-off T3-rtx, whose gaps would outlast a NAT mapping.

use std::time::Instant;

use crate::association::Association;
use crate::timer::Timer;

/// What happened to the path under the association ([`Association::handle_path_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathEvent {
    /// The same path carries traffic again after a silence: the peer answered (ICE consent
    /// renewed after the state went Disconnected, RFC 7675 §5.1).
    Restored,
    /// Packets now travel on another 5-tuple, which the peer has answered on (ICE selected a new
    /// pair, RFC 8445 §8.1.1, or followed the peer's NAT onto a new mapping).
    Changed,
}

impl Association {
    /// The path under the association came back or changed (`event`), as the layer below (ICE)
    /// found: the peer is reachable now. If the association was stalled (T3-rtx expired since the
    /// last acknowledgement, so its timer is backed off) it
    ///
    /// - clears the back-off and the error counter: reachability shown by the peer is what a
    ///   HEARTBEAT ACK shows (RFC 9260 §8.3 clears both on one), and the timer's doubling was for a
    ///   path that no longer exists (§6.3.3 E2; after a switch to another destination the RTO of
    ///   the new one applies, §6.4.1 F1);
    /// - retransmits what is outstanding at once, as on a T3-rtx expiry (§6.3.3 E3), within cwnd,
    ///   which the expiry left at one packet (§6.3.3 E1, §7.2.1: no burst of the old window), the
    ///   first packet regardless of cwnd (§7.2.4 rule 3), and restarts T3 (§6.3.2 R1).
    ///
    /// A receiver also sends a SACK at once when the path changed: the last ones went to the old
    /// path. A working association is left alone (RACK and the timers handle what the switch
    /// lost). Nothing happens before the association is established or after it ended.
    pub fn handle_path_event(&mut self, now: Instant, event: PathEvent) {
        if !self.is_established() || self.finished {
            return;
        }
        if event == PathEvent::Changed && self.receiver.is_some() {
            self.sack_now = true;
        }
        let stalled = self.rto.is_backed_off() || self.error_count > 0;
        if stalled {
            tracing::info!(
                ?event,
                backed_off_rto = ?self.rto.rto(),
                timeouts = self.error_count,
                outstanding = self.sender.has_outstanding(),
                "SCTP: path back; retransmitting now with the timer back-off cleared"
            );
            self.stats.path_recoveries += 1;
            self.error_count = 0;
            self.rto.clear_back_off();
            // Timeouts on the old path are no evidence that a chunk outgrew this one (RFC 8899 §4.3).
            self.pmtu.stuck_timeouts = 0;
            if self.sender.has_outstanding() {
                self.sender.retransmit_outstanding(now);
                self.timers.stop(Timer::LossDetection);
                self.drain_sender_events();
                self.timers.set(Timer::T3Rtx, now + self.rto.rto());
            }
            self.burst_left = self.sender.max_burst;
        }
        self.after_progress(now);
    }
}
