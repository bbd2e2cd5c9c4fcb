//! RFC 9260 §7.2: slow start, congestion avoidance with partial_bytes_acked, halving per loss
//! event, one MTU after T3-rtx; plus the undo of a fast recovery that proved spurious.

use std::time::Instant;

use super::{Ack, Congestion, Controller};

/// SCTP's own congestion control (RFC 9260 §7.2), the default.
#[derive(Debug)]
pub(crate) struct NewReno {
    mtu: usize,
    cwnd: usize,
    ssthresh: usize,
    /// RFC 9260 §7.2.2.
    partial_bytes_acked: usize,
    /// cwnd and ssthresh before the last fast recovery cut them, until it is judged.
    before_recovery: Option<(usize, usize)>,
}

impl NewReno {
    pub(crate) fn new(mtu: usize) -> Self {
        Self {
            mtu,
            // RFC 9260 §7.2.1: initial cwnd = min(4 * MTU, max(2 * MTU, 4404)).
            cwnd: (4 * mtu).min((2 * mtu).max(4404)),
            ssthresh: usize::MAX,
            partial_bytes_acked: 0,
            before_recovery: None,
        }
    }

    /// A controller whose window is already `cwnd` bytes (unit tests of the sender).
    #[cfg(test)]
    pub(super) fn with_window(mtu: usize, cwnd: usize) -> Self {
        Self {
            cwnd,
            ..Self::new(mtu)
        }
    }

    /// Multiplicative decrease of RFC 9260 §7.2.3.
    fn reduce(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
    }
}

impl Controller for NewReno {
    /// Slow start (RFC 9260 §7.2.1) and congestion avoidance (§7.2.2), only when the cum ack
    /// advanced, outside fast recovery, with cwnd fully used.
    fn on_ack(&mut self, _now: Instant, ack: &Ack) {
        if ack.cum_advanced && !ack.in_recovery && ack.cwnd_limited {
            if self.cwnd <= self.ssthresh {
                self.cwnd += ack.bytes_acked.min(self.mtu);
            } else {
                self.partial_bytes_acked += ack.bytes_acked;
                if self.partial_bytes_acked >= self.cwnd {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        // §7.2.2: all data acked resets partial_bytes_acked; with more queued the sender is not
        // idle, just between two bursts.
        if ack.all_acked {
            self.partial_bytes_acked = 0;
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, event: Congestion) {
        if event == Congestion::FastRecovery {
            self.before_recovery = Some((self.cwnd, self.ssthresh));
        }
        self.reduce();
    }

    fn on_spurious_congestion(&mut self) {
        if let Some((cwnd, ssthresh)) = self.before_recovery.take() {
            self.cwnd = self.cwnd.max(cwnd);
            self.ssthresh = self.ssthresh.max(ssthresh);
        }
    }

    /// RFC 9260 §7.2.3: ssthresh = max(cwnd / 2, 4 * MTU), cwnd = 1 MTU.
    fn on_rto(&mut self, _now: Instant) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        // RFC 8985 §6.3, §7: the RTO supersedes the recovery, which can no longer be undone.
        self.before_recovery = None;
    }

    fn set_mtu(&mut self, mtu: usize) {
        self.mtu = mtu;
    }

    fn window(&self) -> usize {
        self.cwnd
    }

    fn ssthresh(&self) -> usize {
        self.ssthresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MTU: usize = 1188;

    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn now() -> Instant {
        Instant::now()
    }

    fn ack(bytes_acked: usize) -> Ack {
        Ack {
            cum_advanced: true,
            bytes_acked,
            in_recovery: false,
            cwnd_limited: true,
            all_acked: false,
        }
    }

    #[test]
    fn slow_start_grows_by_at_most_one_mtu_per_sack_and_only_when_allowed() {
        let mut r = NewReno::new(MTU);
        assert_eq!(r.window(), 4404, "min(4 MTU, max(2 MTU, 4404))");
        r.on_ack(now(), &ack(3 * MTU));
        assert_eq!(r.window(), 4404 + MTU);
        for blocked in [
            Ack {
                cum_advanced: false,
                ..ack(MTU)
            },
            Ack {
                in_recovery: true,
                ..ack(MTU)
            },
            Ack {
                cwnd_limited: false,
                ..ack(MTU)
            },
        ] {
            r.on_ack(now(), &blocked);
            assert_eq!(r.window(), 4404 + MTU, "{blocked:?}");
        }
    }

    #[test]
    fn congestion_avoidance_adds_one_mtu_per_window_acked() {
        let mut r = NewReno::new(MTU);
        r.on_congestion_event(now(), Congestion::ProbeRepairedLoss);
        assert_eq!((r.window(), r.ssthresh()), (4 * MTU, 4 * MTU), "floor of 4 MTU");
        r.on_ack(now(), &ack(MTU)); // cwnd <= ssthresh: still slow start
        let w = r.window();
        assert_eq!(w, 5 * MTU);
        r.on_ack(now(), &ack(w - 1));
        assert_eq!(r.window(), w);
        r.on_ack(now(), &ack(1));
        assert_eq!(r.window(), w + MTU);
        // Everything acked: partial_bytes_acked starts over.
        r.on_ack(
            now(),
            &Ack {
                all_acked: true,
                ..ack(w)
            },
        );
        assert_eq!(r.partial_bytes_acked, 0);
    }

    #[test]
    fn rto_collapses_to_one_mtu_and_a_spurious_recovery_is_given_back() {
        let mut r = NewReno::new(MTU);
        r.cwnd = 20 * MTU;
        r.on_congestion_event(now(), Congestion::FastRecovery);
        assert_eq!((r.window(), r.ssthresh()), (10 * MTU, 10 * MTU));
        r.on_spurious_congestion();
        assert_eq!((r.window(), r.ssthresh()), (20 * MTU, usize::MAX));
        r.on_congestion_event(now(), Congestion::FastRecovery);
        r.on_rto(now());
        assert_eq!((r.window(), r.ssthresh()), (MTU, 5 * MTU));
        r.on_spurious_congestion(); // the RTO ended what could be undone
        assert_eq!(r.window(), MTU);
    }
}
