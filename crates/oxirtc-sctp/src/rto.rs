//! Retransmission timeout estimator (RFC 9260 §6.3.1, the RFC 6298 algorithm).
//!
//! Parameter values: RFC 9260 §16 recommends RTO.Initial 1 s, RTO.Min 1 s, RTO.Max 60 s; RFC 8831
//! (data channels) and RFC 8261 (SCTP over DTLS) set none of their own. `SctpConfig::default()`
//! keeps RTO.Initial 1 s but lowers RTO.Min to 200 ms, TCP's usual floor, so one lost
//! retransmission on an 80 ms path costs ~250 ms rather than 1 s. Most losses never reach the timer
//! anyway: RACK finds lost retransmissions and tail loss probes find lost tails after ~2·SRTT
//! (RFC 8985, `loss.rs`), and T3 restarts whenever the cum ack advances (RFC 9260 §6.3.2 R3) or the
//! earliest outstanding TSN is retransmitted (§7.2.4 rule 4). RTO.Min is no longer than the peer's
//! SACK delay (§6.2, up to 200 ms), so the SACK of a lone packet could arrive after T3 fired; the
//! packet that empties the send queue therefore carries the I bit (RFC 9260 §6.1, `transmit.rs`)
//! and is acknowledged at once by peers that implement it (RFC 7053; oxirtc, usrsctp, dcSCTP).

use std::time::Duration;

/// Clock granularity G in the RTO formula; the caller's clock is treated as 1 ms.
const GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT / RTTVAR / RTO state of the single path.
#[derive(Debug, Clone)]
pub(crate) struct RtoEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// The RTO in use: `base`, doubled by each back-off.
    rto: Duration,
    /// The RTO before back-off: RTO.Initial until the first measurement, then the estimate.
    base: Duration,
    min: Duration,
    max: Duration,
    /// Bound on a backed-off RTO (`SctpConfig::max_backoff`); never below `base`.
    max_backoff: Duration,
}

impl RtoEstimator {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration, max_backoff: Duration) -> Self {
        let rto = initial.clamp(min, max.max(min));
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            rto,
            base: rto,
            min,
            max,
            max_backoff,
        }
    }

    pub(crate) fn rto(&self) -> Duration {
        self.rto
    }

    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Feeds one RTT measurement R' (RFC 9260 §6.3.1 C1–C3).
    pub(crate) fn on_sample(&mut self, r: Duration) {
        match self.srtt {
            // C2: the first measurement.
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            // C3: RTO.Alpha = 1/8, RTO.Beta = 1/4.
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // C4–C7: RTO = SRTT + max(G, 4 * RTTVAR), clamped to [RTO.Min, RTO.Max].
        self.base = (srtt + (self.rttvar * 4).max(GRANULARITY)).clamp(self.min, self.max.max(self.min));
        self.rto = self.base;
    }

    /// Undoes timer back-off: the RTO returns to the estimate (RTO.Initial before the first
    /// measurement). Called once the peer acknowledges new data (as TCP stacks do on an ACK of new
    /// data; RFC 6298 §5.7 allows more) and when the lower layer reports the path working again.
    pub(crate) fn clear_back_off(&mut self) {
        self.rto = self.base;
    }

    /// The RTO is above the estimate: a timer expired since the last acknowledgement of new data.
    pub(crate) fn is_backed_off(&self) -> bool {
        self.rto > self.base
    }

    /// Doubles the RTO after a timer expiry (RFC 9260 §6.3.3 E2), up to RTO.Max and, further, up to
    /// `max_backoff` (or the estimate itself when that is larger). E2 makes RTO.Max an optional bound
    /// ("MAY"); a lower one keeps the gaps between retransmissions short during an outage, so the
    /// first one after the path is back comes within `max_backoff` (libwebrtc's dcsctp transport
    /// bounds its back-off at 3 s for the same reason).
    pub(crate) fn back_off(&mut self) {
        let doubled = (self.rto * 2).min(self.max.max(self.min));
        self.rto = doubled.min(self.max_backoff.max(self.base));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn follows_rfc6298() {
        let mut e = RtoEstimator::new(ms(1000), ms(200), ms(60_000), ms(60_000));
        assert_eq!(e.rto(), ms(1000));
        e.on_sample(ms(100));
        // SRTT = 100, RTTVAR = 50, RTO = 100 + 200 = 300.
        assert_eq!(e.srtt(), Some(ms(100)));
        assert_eq!(e.rto(), ms(300));
        e.on_sample(ms(100));
        // RTTVAR = 37.5, SRTT = 100, RTO = 250.
        assert_eq!(e.rto(), ms(250));
        for _ in 0..50 {
            e.on_sample(ms(10));
        }
        assert_eq!(e.rto(), ms(200), "clamped at RTO.Min");
        for _ in 0..20 {
            e.back_off();
        }
        assert_eq!(e.rto(), ms(60_000), "clamped at RTO.Max");
        e.clear_back_off();
        assert_eq!(e.rto(), ms(200));
    }

    #[test]
    fn back_off_stops_at_max_backoff_but_never_below_the_estimate() {
        let mut e = RtoEstimator::new(ms(1000), ms(200), ms(60_000), ms(3000));
        e.on_sample(ms(100)); // RTO 300
        let seen: Vec<_> = (0..6)
            .map(|_| {
                e.back_off();
                e.rto()
            })
            .collect();
        assert_eq!(seen, [ms(600), ms(1200), ms(2400), ms(3000), ms(3000), ms(3000)]);
        assert!(e.is_backed_off());
        e.clear_back_off();
        assert_eq!(e.rto(), ms(300));
        assert!(!e.is_backed_off());
        // A path whose estimate is above the bound keeps its estimate: no timer fires before it.
        let mut slow = RtoEstimator::new(ms(1000), ms(200), ms(60_000), ms(3000));
        slow.on_sample(ms(4000)); // RTO 4000 + 4 * 2000
        slow.back_off();
        assert_eq!(slow.rto(), ms(12_000));
    }
}
