//! Endpoints driven through a `Simulation`: a toy STUN exchange, then a UDP hole punch between two peers
//! behind two NATs.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{addr, start};
use oxirtc_netsim::{Datagram, Endpoint, LinkConfig, NatConfig, Network, Simulation};

const STUN: &str = "198.51.100.1:3478";
const TICK: Duration = Duration::from_millis(50);

/// Answers "WHOAMI" with "YOUARE <source as seen>".
struct StunServer {
    out: VecDeque<Datagram>,
}

/// Learns its reflexive address from the STUN server, then, once told the peer's reflexive address (the
/// signalling step, done by the test), pings it every tick until it gets a PONG.
struct Peer {
    local: SocketAddr,
    reflexive: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    connected: bool,
    timer: Option<Instant>,
    out: VecDeque<Datagram>,
    /// What arrived when, for determinism checks.
    log: Vec<(Instant, Datagram)>,
}

enum Node {
    Stun(StunServer),
    Peer(Box<Peer>),
}

impl Node {
    fn peer(local: &str, now: Instant) -> Self {
        Node::Peer(Box::new(Peer {
            local: addr(local),
            reflexive: None,
            remote: None,
            connected: false,
            timer: Some(now),
            out: VecDeque::new(),
            log: Vec::new(),
        }))
    }

    fn as_peer(&self) -> &Peer {
        match self {
            Node::Peer(p) => p,
            Node::Stun(_) => panic!("not a peer"),
        }
    }

    fn as_peer_mut(&mut self) -> &mut Peer {
        match self {
            Node::Peer(p) => p,
            Node::Stun(_) => panic!("not a peer"),
        }
    }
}

impl Peer {
    fn punch(&mut self, remote: SocketAddr, now: Instant) {
        self.remote = Some(remote);
        self.timer = Some(now);
    }

    fn send(&mut self, destination: SocketAddr, payload: &[u8]) {
        self.out.push_back(Datagram {
            source: self.local,
            destination,
            payload: payload.to_vec(),
        });
    }
}

impl Endpoint for Node {
    fn handle_receive(&mut self, now: Instant, d: Datagram) {
        match self {
            Node::Stun(s) => {
                if d.payload == b"WHOAMI" {
                    let payload = format!("YOUARE {}", d.source).into_bytes();
                    s.out.push_back(Datagram {
                        source: d.destination,
                        destination: d.source,
                        payload,
                    });
                }
            }
            Node::Peer(p) => {
                p.log.push((now, d.clone()));
                if let Some(seen) = d.payload.strip_prefix(b"YOUARE ") {
                    p.reflexive = std::str::from_utf8(seen).ok().and_then(|s| s.parse().ok());
                } else if d.payload == b"PING" {
                    p.send(d.source, b"PONG");
                } else if d.payload == b"PONG" {
                    p.connected = true;
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        let Node::Peer(p) = self else { return };
        p.timer = None;
        if p.reflexive.is_none() {
            p.send(addr(STUN), b"WHOAMI");
        } else if let (Some(remote), false) = (p.remote, p.connected) {
            p.send(remote, b"PING");
        } else {
            return;
        }
        p.timer = Some(now + TICK);
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        match self {
            Node::Stun(s) => s.out.pop_front(),
            Node::Peer(p) => p.out.pop_front(),
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Node::Stun(_) => None,
            Node::Peer(p) => p.timer,
        }
    }
}

/// Two peers behind their own NATs, a STUN server on the public side. Returns the simulation and the
/// peers' endpoint indices.
fn world(seed: u64, nat: NatConfig, link: LinkConfig) -> (Simulation<Node>, usize, usize) {
    let t0 = start();
    let mut net = Network::new(seed, t0);
    let nat_a = net.add_nat([203, 0, 113, 1].into(), nat.clone());
    let nat_b = net.add_nat([203, 0, 113, 2].into(), nat);
    let a = net.add_host([192, 168, 1, 2].into(), Some(nat_a), link.clone());
    let b = net.add_host([10, 0, 0, 2].into(), Some(nat_b), link);
    let stun = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
    let mut sim = Simulation::new(net);
    sim.add_endpoint(stun, Node::Stun(StunServer { out: VecDeque::new() }));
    let ia = sim.add_endpoint(a, Node::peer("192.168.1.2:5000", t0));
    let ib = sim.add_endpoint(b, Node::peer("10.0.0.2:6000", t0));
    (sim, ia, ib)
}

fn gather(sim: &mut Simulation<Node>, ia: usize, ib: usize) -> (SocketAddr, SocketAddr) {
    let gathered = |s: &Simulation<Node>| {
        s.endpoint(ia).as_peer().reflexive.is_some() && s.endpoint(ib).as_peer().reflexive.is_some()
    };
    assert!(
        sim.run_until(Duration::from_secs(5), gathered),
        "STUN answers arrive"
    );
    let reflexive = |i: usize| sim.endpoint(i).as_peer().reflexive.expect("gathered");
    (reflexive(ia), reflexive(ib))
}

fn both_connected(ia: usize, ib: usize) -> impl Fn(&Simulation<Node>) -> bool {
    move |s| s.endpoint(ia).as_peer().connected && s.endpoint(ib).as_peer().connected
}

fn impaired() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        loss: 0.1,
        ..LinkConfig::default()
    }
}

#[test]
fn hole_punch_through_two_port_restricted_nats() {
    let (mut sim, ia, ib) = world(7, NatConfig::port_restricted(), impaired());
    let t0 = sim.now();
    let (ra, rb) = gather(&mut sim, ia, ib);
    assert_eq!((ra, rb), (addr("203.0.113.1:5000"), addr("203.0.113.2:6000")));

    // A punches first: its pings open A's NAT toward B but B's NAT drops them (B never sent to A).
    let now = sim.now();
    sim.endpoint_mut(ia).as_peer_mut().punch(rb, now);
    sim.run_for(Duration::from_millis(300));
    assert!(
        sim.net.stats().dropped_filtered > 0,
        "unsolicited pings are filtered"
    );
    assert!(!sim.endpoint(ia).as_peer().connected);

    // B punches back: now both directions are open.
    let now = sim.now();
    sim.endpoint_mut(ib).as_peer_mut().punch(ra, now);
    assert!(sim.run_until(Duration::from_secs(10), both_connected(ia, ib)));
    assert!(
        sim.now() - t0 < Duration::from_secs(3),
        "took {:?} of virtual time",
        sim.now() - t0
    );
    let from_b = sim
        .endpoint(ia)
        .as_peer()
        .log
        .iter()
        .find(|(_, d)| d.payload == b"PING");
    assert_eq!(
        from_b.map(|(_, d)| d.source),
        Some(rb),
        "A sees B's reflexive address"
    );
}

#[test]
fn hole_punch_fails_between_symmetric_nats() {
    let (mut sim, ia, ib) = world(
        7,
        NatConfig::symmetric(),
        LinkConfig::with_delay(Duration::from_millis(20)),
    );
    let (ra, rb) = gather(&mut sim, ia, ib);
    let now = sim.now();
    sim.endpoint_mut(ia).as_peer_mut().punch(rb, now);
    sim.endpoint_mut(ib).as_peer_mut().punch(ra, now);
    // The addresses learnt from STUN are not the ones used toward the peer (RFC 4787 §4.1): a relay
    // would be needed.
    assert!(!sim.run_until(Duration::from_secs(5), both_connected(ia, ib)));
    assert!(sim.net.stats().dropped_filtered > 10);
}

#[test]
fn same_seed_same_run_different_seed_different_run() {
    let run = |seed| {
        let (mut sim, ia, ib) = world(seed, NatConfig::port_restricted(), impaired());
        let t0 = sim.now();
        let (ra, rb) = gather(&mut sim, ia, ib);
        let now = sim.now();
        sim.endpoint_mut(ia).as_peer_mut().punch(rb, now);
        sim.endpoint_mut(ib).as_peer_mut().punch(ra, now);
        assert!(sim.run_until(Duration::from_secs(10), both_connected(ia, ib)));
        let log = |i: usize| -> Vec<(Duration, Datagram)> {
            sim.endpoint(i)
                .as_peer()
                .log
                .iter()
                .map(|(t, d)| (*t - t0, d.clone()))
                .collect()
        };
        (sim.now() - t0, sim.net.stats(), log(ia), log(ib))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn run_until_stops_at_the_deadline_and_step_reports_idle() {
    let (mut sim, ia, _) = world(1, NatConfig::full_cone(), LinkConfig::default());
    let t0 = sim.now();
    assert!(!sim.run_until(Duration::from_millis(10), |_| false));
    assert_eq!(sim.now(), t0 + Duration::from_millis(10));
    sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.now(), t0 + Duration::from_millis(1010));
    assert!(sim.endpoint(ia).as_peer().reflexive.is_some());
    // Both gathered, nobody to punch to: nothing left to do.
    assert!(!sim.step());
}
