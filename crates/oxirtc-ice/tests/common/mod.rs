//! Harness for ICE behaviour tests: agents and a STUN server as endpoints of an `oxirtc-netsim`
//! simulation, with instant signaling between the two agents.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed set-up should panic loudly

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_ice::{IceAgent, IceConfig, IceConnectionState, IceEvent};
use oxirtc_netsim::{Datagram, Endpoint, LinkConfig, NatConfig, Network, Simulation};
use oxirtc_stun::{Attribute, Class, Message, MessageEncoder, Method};

pub const STUN_SERVER: &str = "198.51.100.1:3478";

/// An ICE agent plus what it told us.
pub struct AgentNode {
    pub agent: IceAgent,
    pub events: Vec<(Instant, IceEvent)>,
    /// Events not yet looked at by the signaling pump.
    pending: Vec<IceEvent>,
}

/// A minimal STUN Binding server (RFC 8489 §6.3): answers with XOR-MAPPED-ADDRESS.
pub struct StunServer {
    out: Vec<Datagram>,
}

pub enum Node {
    Agent(Box<AgentNode>),
    Stun(StunServer),
}

impl Node {
    pub fn agent(&self) -> &IceAgent {
        match self {
            Node::Agent(a) => &a.agent,
            Node::Stun(_) => panic!("not an agent"),
        }
    }
    pub fn agent_mut(&mut self) -> &mut IceAgent {
        match self {
            Node::Agent(a) => &mut a.agent,
            Node::Stun(_) => panic!("not an agent"),
        }
    }
    pub fn events(&self) -> &[(Instant, IceEvent)] {
        match self {
            Node::Agent(a) => &a.events,
            Node::Stun(_) => &[],
        }
    }
    fn drain(&mut self, now: Instant) {
        if let Node::Agent(a) = self {
            while let Some(e) = a.agent.poll_event() {
                a.events.push((now, e.clone()));
                a.pending.push(e);
            }
        }
    }
}

impl Endpoint for Node {
    fn handle_receive(&mut self, now: Instant, d: Datagram) {
        match self {
            Node::Agent(a) => a.agent.handle_receive(now, d.source, d.destination, &d.payload),
            Node::Stun(s) => s.answer(d),
        }
        self.drain(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        if let Node::Agent(a) = self {
            a.agent.handle_timeout(now);
        }
        self.drain(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        match self {
            Node::Agent(a) => a.agent.poll_transmit(now).map(|t| Datagram {
                source: t.source,
                destination: t.destination,
                payload: t.contents,
            }),
            Node::Stun(s) => s.out.pop(),
        }
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Node::Agent(a) => a.agent.poll_timeout(),
            Node::Stun(_) => None,
        }
    }
}

impl StunServer {
    fn answer(&mut self, d: Datagram) {
        let Ok(msg) = Message::parse(&d.payload) else {
            return;
        };
        if msg.class() != Class::Request || msg.method() != Method::BINDING {
            return;
        }
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Success, Method::BINDING, msg.transaction_id());
        enc.add(&Attribute::XorMappedAddress(d.source));
        enc.add_fingerprint();
        enc.finish();
        self.out.push(Datagram {
            source: d.destination,
            destination: d.source,
            payload: out,
        });
    }
}

/// Where a peer sits.
#[derive(Clone, Debug)]
pub enum Place {
    /// Directly on the public realm.
    Public,
    /// Behind a NAT of this kind.
    Nat(NatConfig),
}

pub struct Setup {
    pub seed: u64,
    pub left: Place,
    pub right: Place,
    pub link: LinkConfig,
    pub left_config: IceConfig,
    pub right_config: IceConfig,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: 1,
            left: Place::Public,
            right: Place::Public,
            link: LinkConfig::default(),
            left_config: IceConfig {
                controlling: true,
                ..IceConfig::default()
            },
            right_config: IceConfig::default(),
        }
    }
}

/// Two agents (index 0 = left, 1 = right) and a STUN server (index 2).
pub struct Lab {
    pub sim: Simulation<Node>,
    pub left: usize,
    pub right: usize,
    pub left_host: oxirtc_netsim::HostId,
    pub right_host: oxirtc_netsim::HostId,
    /// The NAT each side is behind, if any.
    pub left_nat: Option<oxirtc_netsim::NatId>,
    pub right_nat: Option<oxirtc_netsim::NatId>,
    /// Signal end-of-candidates once a side's gathering completes.
    pub end_of_candidates: bool,
}

#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn start_instant() -> Instant {
    Instant::now()
}

impl Lab {
    pub fn new(setup: Setup) -> Lab {
        let start = start_instant();
        let mut net = Network::new(setup.seed, start);
        let stun: SocketAddr = STUN_SERVER.parse().unwrap();
        let stun_host = net.add_host(stun.ip(), None, LinkConfig::default());
        let place = |p: &Place, private: &str, public: &str, net: &mut Network| match p {
            Place::Public => (
                net.add_host(public.parse().unwrap(), None, setup.link.clone()),
                public.to_owned(),
                None,
            ),
            Place::Nat(cfg) => {
                let nat = net.add_nat(public.parse().unwrap(), cfg.clone());
                (
                    net.add_host(private.parse().unwrap(), Some(nat), setup.link.clone()),
                    private.to_owned(),
                    Some(nat),
                )
            }
        };
        let (left_host, left_ip, left_nat) = place(&setup.left, "10.0.1.2", "203.0.113.1", &mut net);
        let (right_host, right_ip, right_nat) = place(&setup.right, "10.0.2.2", "203.0.113.2", &mut net);
        let mut sim = Simulation::new(net);
        let mk = |cfg: &IceConfig, seed: u8| {
            let mut cfg = cfg.clone();
            if !cfg.lite {
                cfg.stun_servers = vec![stun];
            }
            Node::Agent(Box::new(AgentNode {
                agent: IceAgent::new(cfg, default_provider(), SecureRng::from_seed([seed; 32])),
                events: Vec::new(),
                pending: Vec::new(),
            }))
        };
        let seed = setup.seed as u8;
        let left = sim.add_endpoint(left_host, mk(&setup.left_config, seed.wrapping_mul(2)));
        let right = sim.add_endpoint(
            right_host,
            mk(&setup.right_config, seed.wrapping_mul(2).wrapping_add(1)),
        );
        sim.add_endpoint(stun_host, Node::Stun(StunServer { out: Vec::new() }));
        let now = sim.now();
        let l_addr: SocketAddr = format!("{left_ip}:5000").parse().unwrap();
        let r_addr: SocketAddr = format!("{right_ip}:6000").parse().unwrap();
        sim.endpoint_mut(left).agent_mut().add_host(now, l_addr).unwrap();
        sim.endpoint_mut(right).agent_mut().add_host(now, r_addr).unwrap();
        let mut lab = Lab {
            sim,
            left,
            right,
            left_host,
            right_host,
            left_nat,
            right_nat,
            end_of_candidates: true,
        };
        lab.exchange_credentials_and_hosts();
        lab
    }

    pub fn agent(&self, idx: usize) -> &IceAgent {
        self.sim.endpoint(idx).agent()
    }

    pub fn agent_mut(&mut self, idx: usize) -> &mut IceAgent {
        self.sim.endpoint_mut(idx).agent_mut()
    }

    pub fn other(&self, idx: usize) -> usize {
        if idx == self.left {
            self.right
        } else {
            self.left
        }
    }

    /// Offer/answer: credentials and the candidates each side has now (host ones).
    pub fn exchange_credentials_and_hosts(&mut self) {
        let now = self.sim.now();
        for (from, to) in [(self.left, self.right), (self.right, self.left)] {
            let creds = self.agent(from).local_credentials().clone();
            let cands = self.agent(from).local_candidates().to_vec();
            let lite = self.sim.endpoint(from).agent_config_lite();
            let a = self.agent_mut(to);
            a.set_remote_credentials(now, creds).unwrap();
            a.set_remote_lite(lite);
            for c in cands {
                a.add_remote_candidate(now, c).unwrap();
            }
        }
    }

    /// Trickle: deliver each side's new candidates (and end-of-candidates) to the other, instantly.
    pub fn pump_signaling(&mut self) {
        let now = self.sim.now();
        for idx in [self.left, self.right] {
            let pending = match self.sim.endpoint_mut(idx) {
                Node::Agent(a) => std::mem::take(&mut a.pending),
                Node::Stun(_) => continue,
            };
            let other = self.other(idx);
            for e in pending {
                match e {
                    IceEvent::LocalCandidate(c) => {
                        let _ = self.agent_mut(other).add_remote_candidate(now, c);
                    }
                    IceEvent::GatheringComplete if self.end_of_candidates => {
                        self.agent_mut(other).end_of_remote_candidates(now)
                    }
                    _ => {}
                }
            }
        }
    }

    /// Steps the simulation with signaling until `done` or `limit` of virtual time passes.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Lab) -> bool) -> bool {
        let deadline = self.sim.now() + limit;
        loop {
            self.pump_signaling();
            if done(self) {
                return true;
            }
            if self.sim.now() > deadline || !self.sim.step() {
                return done(self);
            }
        }
    }

    pub fn both(&self, state: IceConnectionState) -> bool {
        self.agent(self.left).state() == state && self.agent(self.right).state() == state
    }

    pub fn connected(&self) -> bool {
        [self.left, self.right].iter().all(|&i| {
            matches!(
                self.agent(i).state(),
                IceConnectionState::Connected | IceConnectionState::Completed
            )
        })
    }

    /// Both sides selected the same path (each sees the other's address as remote, after NAT).
    pub fn paths_agree(&self) -> bool {
        let (Some((l_local, l_remote)), Some((r_local, r_remote))) = (
            self.agent(self.left).selected_pair(),
            self.agent(self.right).selected_pair(),
        ) else {
            return false;
        };
        // Without NATs the addresses mirror exactly; behind NATs each remote is the peer's public mapping.
        l_local.port() == 5000 && r_local.port() == 6000 && l_remote.ip() != r_remote.ip()
    }
}

impl Node {
    fn agent_config_lite(&self) -> bool {
        self.agent().is_lite()
    }
}
