//! Consent freshness on the selected pair (RFC 7675) and the Disconnected/Failed deadlines.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_stun::RetransmitConfig;

use crate::agent::{IceAgent, Timer};
use crate::outbound::CheckSpec;

impl IceAgent {
    /// Next consent check in `consent_interval` randomised over [0.8, 1.2] (RFC 7675 §5.1). A lite agent
    /// sends none; its liveness comes from the peer's checks.
    pub(crate) fn schedule_consent(&mut self, now: Instant) {
        if self.config.lite || self.selected.is_none() {
            self.timers[Timer::Consent as usize] = None;
            return;
        }
        let permille = 800 + self.rng.below(401) as u32;
        let wait = self.config.consent_interval.saturating_mul(permille) / 1000;
        self.timers[Timer::Consent as usize] = Some(now + wait);
    }

    /// RFC 7675 §5.1: a Binding request on the selected pair, authenticated like a connectivity check.
    pub(crate) fn send_consent_check(&mut self, now: Instant) {
        let Some(s) = self.selected.clone() else {
            self.timers[Timer::Consent as usize] = None;
            return;
        };
        let priority = self
            .local
            .iter()
            .find(|c| c.base == s.local && c.addr == s.local)
            .map_or(1, Self::prflx_priority);
        let spec = CheckSpec {
            pair: s.pair,
            source: s.local,
            destination: s.remote,
            remote_ufrag: &s.remote_ufrag,
            local_ufrag: &s.local_ufrag,
            remote_pwd: &s.remote_pwd,
            priority,
            // recovery.rs: the controlling agent repeats its nomination, so that a controlled peer that
            // sees this check from a new address (our NAT remapped) can follow it.
            use_candidate: self.controlling,
            consent: true,
        };
        // A few quick retransmissions so one lost datagram does not cost a whole interval.
        let config = RetransmitConfig {
            rto: Duration::from_millis(500),
            rc: 3,
            rm: 4,
            ..RetransmitConfig::default()
        };
        self.launch_check(now, &spec, &config);
        self.schedule_consent(now);
    }

    /// An authenticated response (full agent) or request (lite agent) on the selected pair renews consent.
    pub(crate) fn refresh_liveness(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) {
        if let Some(s) = &mut self.selected {
            if s.local == local && s.remote == remote {
                s.last_alive = now;
            }
        }
    }

    /// RFC 7675 §5.1: once consent expires, stop sending at once: the selected pair is dropped and the
    /// state is Failed until an ICE restart. Also arms the Liveness timer for the next deadline.
    pub(crate) fn update_liveness(&mut self, now: Instant) {
        let Some(s) = &self.selected else {
            self.update_valid_pair_liveness(now);
            return;
        };
        let expires = s.last_alive + self.config.consent_timeout;
        if now >= expires {
            // RFC 7675 §5.1: consent expired.
            let failure = crate::IceFailure::ConsentExpired {
                local: s.local,
                remote: s.remote,
                timeout: self.config.consent_timeout,
            };
            tracing::warn!(%failure, "ice failed; stopped sending");
            self.selected = None;
            self.failure = Some(failure);
            self.checks.retain(|c| !c.consent);
            self.timers[Timer::Consent as usize] = None;
            self.timers[Timer::Liveness as usize] = None;
            return;
        }
        let disconnect = s.last_alive + self.config.disconnected_timeout;
        self.timers[Timer::Liveness as usize] = Some(if now < disconnect { disconnect } else { expires });
    }

    /// Before any pair is selected data may already flow on a valid pair (RFC 8445 §12.1), whose
    /// consent runs from its last answered check like a selected pair's (RFC 7675 §5.1). When every
    /// valid pair's consent has expired (the path died before the nomination got through), ICE fails
    /// and stops its checks at once instead of retransmitting them into a dead path.
    fn update_valid_pair_liveness(&mut self, now: Instant) {
        let last = self
            .pairs
            .iter()
            .filter(|p| p.is_valid())
            .filter_map(|p| p.last_success)
            .max();
        let Some(last) = last.filter(|_| self.failure.is_none()) else {
            self.timers[Timer::Liveness as usize] = None;
            return;
        };
        let expires = last + self.config.consent_timeout;
        if now < expires {
            self.timers[Timer::Liveness as usize] = Some(expires);
            return;
        }
        let failure = crate::IceFailure::ConsentExpiredBeforeNomination {
            timeout: self.config.consent_timeout,
        };
        tracing::warn!(%failure, "ice failed; stopped sending");
        self.failure = Some(failure);
        self.checks.clear();
        self.triggered.clear();
        self.timers[Timer::Pace as usize] = None;
        self.timers[Timer::Nominate as usize] = None;
        self.timers[Timer::Liveness as usize] = None;
    }
}
