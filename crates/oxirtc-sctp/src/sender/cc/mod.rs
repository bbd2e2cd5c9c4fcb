//! Congestion control behind one trait, shaped like quinn-proto's controllers: the sender reports
//! what each SACK acknowledged, loss events and retransmission timeouts, and asks for the window.
//! [`reno::NewReno`] is RFC 9260 §7.2 and the default; `SctpConfig::congestion_control` selects.
//!
//! Loss detection and recovery stay with the sender (one reduction per loss event, RFC 9260 §7.2.4
//! rule 2; RACK and tail loss probes, RFC 8985): a controller only sizes the window. Nothing is
//! paced: Max.Burst (RFC 9260 §6.1) limits packets per trigger in the transmit path.

mod reno;

use std::time::Instant;

use crate::CongestionControl;

/// A congestion controller (RFC 9260 §7.2 for the default one).
pub(crate) trait Controller: std::fmt::Debug + Send {
    /// A SACK was processed (RFC 9260 §7.2.1, §7.2.2); `ack` says what it acknowledged.
    fn on_ack(&mut self, now: Instant, ack: &Ack);
    /// A congestion event: the window comes down (RFC 9260 §7.2.3).
    fn on_congestion_event(&mut self, now: Instant, event: Congestion);
    /// The last [`Congestion::FastRecovery`] proved spurious (every retransmission it made was
    /// reported duplicate): give back what it took, as TCP's D-SACK undo does.
    fn on_spurious_congestion(&mut self);
    /// T3-rtx expired (RFC 9260 §6.3.3 E1, §7.2.3).
    fn on_rto(&mut self, now: Instant);
    /// The packet size changed (PLPMTUD, RFC 8899): later window steps use it.
    fn set_mtu(&mut self, mtu: usize);
    /// cwnd in bytes: how much may be in flight (RFC 9260 §6.1 rule B).
    fn window(&self) -> usize;
    /// ssthresh in bytes (reported in the stats).
    fn ssthresh(&self) -> usize;
}

/// The controller `kind` names, for packets of `mtu` bytes.
pub(crate) fn new_controller(kind: CongestionControl, mtu: usize) -> Box<dyn Controller> {
    match kind {
        CongestionControl::NewReno => Box::new(reno::NewReno::new(mtu)),
    }
}

/// The default controller with its window already at `cwnd` bytes (unit tests of the sender).
#[cfg(test)]
pub(crate) fn reno_with_window(mtu: usize, cwnd: usize) -> Box<dyn Controller> {
    Box::new(reno::NewReno::with_window(mtu, cwnd))
}

/// What one SACK means for the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ack {
    /// The cumulative TSN ack advanced (RFC 9260 §7.2.1: only then may cwnd grow).
    pub(crate) cum_advanced: bool,
    /// User bytes newly acknowledged, cumulatively or by gap blocks.
    pub(crate) bytes_acked: usize,
    /// Fast recovery is running (RFC 9260 §7.2.4 rule 2: no growth in it).
    pub(crate) in_recovery: bool,
    /// cwnd was fully used (RFC 9260 §7.2.1), judged over the last round trip ([`CwndUse`]).
    pub(crate) cwnd_limited: bool,
    /// Nothing is outstanding and nothing waits to be sent (RFC 9260 §7.2.2's "all of the data
    /// transmitted by the sender has been acknowledged").
    pub(crate) all_acked: bool,
}

/// Why the window comes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Congestion {
    /// Fast recovery begins: chunks were found lost by miss indications or RACK (RFC 9260 §7.2.4
    /// rule 2, RFC 8985 §6.2). It may prove spurious later ([`Controller::on_spurious_congestion`]).
    FastRecovery,
    /// A tail loss probe repaired a loss outside recovery (RFC 8985 §7.4.2); never undone.
    ProbeRepairedLoss,
}

/// Whether cwnd was "fully utilized" (RFC 9260 §7.2.1), judged over the last round trip rather than
/// per SACK: a batch of SACKs handled back to back empties the flight before the later ones are
/// counted, which would stall growth on any path where packets travel in bursts (RFC 7661 §4 argues
/// the same for TCP).
#[derive(Debug)]
pub(crate) struct CwndUse {
    /// Largest flight size in the current round trip.
    flight_peak: usize,
    /// The current round trip ends when the cum ack reaches this TSN.
    round_end: u64,
    /// cwnd was fully used in the previous round trip.
    was_cwnd_limited: bool,
}

impl CwndUse {
    pub(crate) fn new(cum_ack: u64) -> Self {
        Self {
            flight_peak: 0,
            round_end: cum_ack,
            was_cwnd_limited: false,
        }
    }

    /// Data went out; the flight is now `flight` bytes.
    pub(crate) fn on_sent(&mut self, flight: usize) {
        self.flight_peak = self.flight_peak.max(flight);
    }

    /// A SACK arrived with `flight_before` bytes in flight: was cwnd fully used, this round trip
    /// or the previous one?
    pub(crate) fn fully_used(&mut self, flight_before: usize, mtu: usize, cwnd: usize) -> bool {
        self.flight_peak = self.flight_peak.max(flight_before);
        self.was_cwnd_limited || self.flight_peak + mtu > cwnd
    }

    /// After the controller saw the SACK: once the cum ack passes the round's end, the next round
    /// starts, ending at the highest TSN sent so far.
    pub(crate) fn end_round(
        &mut self,
        cum_ack: u64,
        highest_sent: u64,
        flight: usize,
        mtu: usize,
        cwnd: usize,
    ) {
        if cum_ack >= self.round_end {
            self.was_cwnd_limited = self.flight_peak + mtu > cwnd;
            self.flight_peak = flight;
            self.round_end = highest_sent;
        }
    }
}
