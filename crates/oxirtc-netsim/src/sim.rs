//! Drives a [`Network`] and sans-IO endpoints on one virtual clock (str0m tests' `progress()` style).

use std::time::{Duration, Instant};

use tracing::trace;

use crate::{Datagram, HostId, Network};

/// Steps at one instant after which [`Simulation`] assumes an endpoint keeps asking for a timeout it has
/// already been given, and panics rather than spin forever.
const MAX_STEPS_WITHOUT_TIME: usize = 100_000;

/// A sans-IO endpoint that plugs into a simulation.
pub trait Endpoint {
    /// A datagram arrived for this endpoint's host.
    fn handle_receive(&mut self, now: Instant, datagram: Datagram);
    /// The time from [`Endpoint::poll_timeout`] has come.
    fn handle_timeout(&mut self, now: Instant);
    /// The next datagram to send, if any. Its source must be the endpoint's host's IP.
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram>;
    /// When [`Endpoint::handle_timeout`] should next be called.
    fn poll_timeout(&mut self) -> Option<Instant>;
}

/// Drives a [`Network`] and any number of endpoints on one virtual clock.
///
/// Each endpoint sits on one host. The model is one endpoint per host; if several share a host, each gets
/// a copy of every datagram delivered to that host and filters by destination port itself.
#[derive(Debug)]
pub struct Simulation<E: Endpoint> {
    /// The network; reachable to add hosts, change links or read stats mid-run.
    pub net: Network,
    endpoints: Vec<(HostId, E)>,
    now: Instant,
    steps_at_now: usize,
}

impl<E: Endpoint> Simulation<E> {
    /// A simulation whose clock starts at the network's current time.
    pub fn new(net: Network) -> Self {
        let now = net.now();
        Self {
            net,
            endpoints: Vec::new(),
            now,
            steps_at_now: 0,
        }
    }

    /// Places `endpoint` on `host`; returns its index.
    pub fn add_endpoint(&mut self, host: HostId, endpoint: E) -> usize {
        self.endpoints.push((host, endpoint));
        self.endpoints.len() - 1
    }

    /// The endpoint at `idx`.
    ///
    /// # Panics
    /// If `idx` was not returned by [`Simulation::add_endpoint`].
    pub fn endpoint(&self, idx: usize) -> &E {
        &self.endpoints[idx].1
    }

    /// The endpoint at `idx`, mutably.
    ///
    /// # Panics
    /// If `idx` was not returned by [`Simulation::add_endpoint`].
    pub fn endpoint_mut(&mut self, idx: usize) -> &mut E {
        &mut self.endpoints[idx].1
    }

    /// The host an endpoint sits on.
    pub fn endpoint_host(&self, idx: usize) -> HostId {
        self.endpoints[idx].0
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// One step: drain every endpoint's `poll_transmit` into the network, then advance the clock to the
    /// earliest of (network event, endpoint timeouts) and deliver / fire timeouts due then. Returns false
    /// if nothing is pending at all.
    pub fn step(&mut self) -> bool {
        self.drain_transmits();
        match self.next_wakeup() {
            Some(at) => {
                self.advance_to(at);
                true
            }
            None => false,
        }
    }

    /// Steps until `done(self)` is true or virtual time would pass `now + limit`; returns whether done.
    /// On a timeout the clock is left at the deadline.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            self.drain_transmits();
            match self.next_wakeup() {
                Some(at) if at <= deadline => self.advance_to(at),
                _ => {
                    self.now = self.now.max(deadline);
                    return done(self);
                }
            }
        }
    }

    /// Runs everything due within the next `d`, then leaves the clock at `now + d`.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    fn drain_transmits(&mut self) {
        for (host, endpoint) in &mut self.endpoints {
            while let Some(datagram) = endpoint.poll_transmit(self.now) {
                self.net.send_from(self.now, *host, datagram);
            }
        }
    }

    fn next_wakeup(&mut self) -> Option<Instant> {
        let endpoints = self.endpoints.iter_mut().filter_map(|(_, e)| e.poll_timeout());
        endpoints.chain(self.net.poll_timeout()).min()
    }

    fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
            self.steps_at_now = 0;
        } else {
            self.steps_at_now += 1;
            assert!(
                self.steps_at_now < MAX_STEPS_WITHOUT_TIME,
                "simulation stuck at one instant: an endpoint keeps returning a past poll_timeout"
            );
        }
        let now = self.now;
        while let Some((host, datagram)) = self.net.poll_delivery(now) {
            let mut datagram = Some(datagram);
            let mut receivers = self.endpoints.iter_mut().filter(|(h, _)| *h == host).peekable();
            while let Some((_, endpoint)) = receivers.next() {
                let copy = if receivers.peek().is_some() {
                    datagram.clone()
                } else {
                    datagram.take()
                };
                endpoint.handle_receive(now, copy.expect("taken only by the last receiver"));
            }
            if datagram.is_some() {
                trace!(%host, "delivery to a host without endpoint");
            }
        }
        for (_, endpoint) in &mut self.endpoints {
            if endpoint.poll_timeout().is_some_and(|t| t <= now) {
                endpoint.handle_timeout(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkConfig;

    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    /// Sends its queue, records what it receives, and may ask for a timeout.
    #[derive(Default)]
    struct Toy {
        to_send: Vec<Datagram>,
        received: Vec<Datagram>,
        timeout: Option<Instant>,
        fired: usize,
        stuck: bool,
    }

    impl Endpoint for Toy {
        fn handle_receive(&mut self, _now: Instant, datagram: Datagram) {
            self.received.push(datagram);
        }
        fn handle_timeout(&mut self, _now: Instant) {
            self.fired += 1;
            if !self.stuck {
                self.timeout = None;
            }
        }
        fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
            self.to_send.pop()
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            self.timeout
        }
    }

    fn dgram(from: &str, to: &str) -> Datagram {
        Datagram {
            source: from.parse().unwrap(),
            destination: to.parse().unwrap(),
            payload: vec![7],
        }
    }

    #[test]
    fn endpoints_sharing_a_host_each_get_a_copy() {
        let t0 = start();
        let mut net = Network::new(1, t0);
        let a = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        let b = net.add_host([198, 51, 100, 2].into(), None, LinkConfig::default());
        let mut sim = Simulation::new(net);
        let sender = Toy {
            to_send: vec![dgram("198.51.100.1:1", "198.51.100.2:2")],
            ..Toy::default()
        };
        sim.add_endpoint(a, sender);
        let r1 = sim.add_endpoint(b, Toy::default());
        let r2 = sim.add_endpoint(b, Toy::default());
        assert!(sim.step());
        assert_eq!(sim.endpoint(r1).received.len(), 1);
        assert_eq!(sim.endpoint(r2).received, sim.endpoint(r1).received);
        assert_eq!(sim.endpoint_host(r2), b);
        assert!(!sim.step());
    }

    #[test]
    fn timeouts_fire_at_their_time() {
        let t0 = start();
        let mut net = Network::new(1, t0);
        let a = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        let mut sim = Simulation::new(net);
        let at = t0 + Duration::from_secs(3);
        let i = sim.add_endpoint(
            a,
            Toy {
                timeout: Some(at),
                ..Toy::default()
            },
        );
        assert!(sim.step());
        assert_eq!((sim.now(), sim.endpoint(i).fired), (at, 1));
        assert!(!sim.step());
    }

    #[test]
    #[should_panic(expected = "stuck at one instant")]
    fn a_timeout_that_never_clears_is_reported() {
        let t0 = start();
        let mut net = Network::new(1, t0);
        let a = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        let mut sim = Simulation::new(net);
        sim.add_endpoint(
            a,
            Toy {
                timeout: Some(t0),
                stuck: true,
                ..Toy::default()
            },
        );
        sim.run_for(Duration::from_secs(1));
    }
}
