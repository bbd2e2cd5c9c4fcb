//! Relayed connectivity (RFC 8656 through RFC 8445 §5.1.1.2): two oxirtc peers behind symmetric NATs
//! reach each other only through a TURN server (oxirtc-turn's server core as a simulated host).
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::Peer;
use oxirtc::{DataChannelInit, IceTransportPolicy, RtcConfig, RtcEvent, TurnServerConfig};
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_netsim::{Datagram, Endpoint, LinkConfig, NatConfig, Network, Simulation};
use oxirtc_turn::{Credentials, FiveTuple, IpNet, PeerPolicy, ServerConfig, Transport, TurnServer};

const TURN_IP: &str = "198.51.100.1";
const TURN_PORT: u16 = 3478;

struct TurnNode {
    server: TurnServer,
    listen: SocketAddr,
}

enum Node {
    Peer(Box<Peer>),
    Turn(Box<TurnNode>),
}

impl Node {
    fn peer(&self) -> &Peer {
        match self {
            Node::Peer(p) => p,
            Node::Turn(_) => panic!("not a peer"),
        }
    }
    fn peer_mut(&mut self) -> &mut Peer {
        match self {
            Node::Peer(p) => p,
            Node::Turn(_) => panic!("not a peer"),
        }
    }
}

impl Endpoint for Node {
    fn handle_receive(&mut self, now: Instant, d: Datagram) {
        match self {
            Node::Peer(p) => p.handle_receive(now, d),
            Node::Turn(t) if d.destination == t.listen => {
                let tuple = FiveTuple {
                    client: d.source,
                    server: d.destination,
                    transport: Transport::Udp,
                };
                t.server.handle_receive(now, tuple, &d.payload);
            }
            Node::Turn(t) => t
                .server
                .handle_relay_receive(now, d.destination, d.source, &d.payload),
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Node::Peer(p) => p.handle_timeout(now),
            Node::Turn(t) => t.server.handle_timeout(now),
        }
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        match self {
            Node::Peer(p) => p.poll_transmit(now),
            Node::Turn(t) => {
                while t.server.poll_event().is_some() {}
                t.server.poll_transmit().map(|tx| Datagram {
                    source: tx.source,
                    destination: tx.destination,
                    payload: tx.contents.to_vec(),
                })
            }
        }
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Node::Peer(p) => p.poll_timeout(),
            Node::Turn(t) => t.server.poll_timeout(),
        }
    }
}

/// Peers at 10.0.0.1 and 10.1.0.1 behind symmetric NATs (203.0.113.1 / .2), TURN on the public side.
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
fn world(policy: IceTransportPolicy) -> Simulation<Node> {
    let start = Instant::now();
    let mut net = Network::new(21, start);
    let link = LinkConfig::with_delay(Duration::from_millis(10));
    let nat_a = net.add_nat("203.0.113.1".parse().unwrap(), NatConfig::symmetric());
    let nat_b = net.add_nat("203.0.113.2".parse().unwrap(), NatConfig::symmetric());
    let ha = net.add_host("10.0.0.1".parse().unwrap(), Some(nat_a), link.clone());
    let hb = net.add_host("10.1.0.1".parse().unwrap(), Some(nat_b), link.clone());
    let turn_ip: IpAddr = TURN_IP.parse().unwrap();
    let ht = net.add_host(turn_ip, None, link);
    let mut sim = Simulation::new(net);
    let listen = SocketAddr::new(turn_ip, TURN_PORT);
    let config = ServerConfig {
        realm: "oxirtc.test".into(),
        credentials: Credentials::new().user("alice", "secret"),
        relay_ips: vec![turn_ip],
        // The documentation ranges these tests use count as special-purpose; allow them explicitly.
        peer_policy: PeerPolicy::default().allow(IpNet::new("203.0.113.0".parse().unwrap(), 24)),
        ..ServerConfig::default()
    };
    let server = TurnServer::new(config, default_provider(), SecureRng::from_seed([9; 32]), start);
    for (seed, host, addr) in [(1u8, ha, "10.0.0.1:5000"), (2, hb, "10.1.0.1:6000")] {
        let rtc_config = RtcConfig {
            rng_seed: Some([seed; 32]),
            turn_servers: vec![TurnServerConfig::udp(listen, "alice", "secret")],
            ice_transport_policy: policy,
            ..RtcConfig::default()
        };
        let mut peer = Peer::with_config(rtc_config);
        peer.rtc.add_host_candidate(start, addr.parse().unwrap()).unwrap();
        sim.add_endpoint(host, Node::Peer(Box::new(peer)));
    }
    sim.add_endpoint(ht, Node::Turn(Box::new(TurnNode { server, listen })));
    sim
}

/// Negotiates after the allocations exist (no trickle in this harness), opens a channel, sends both
/// ways; returns the offerer's selected pair.
fn connect_and_talk(sim: &mut Simulation<Node>) -> (SocketAddr, SocketAddr) {
    sim.run_for(Duration::from_secs(1));
    for i in 0..2 {
        let relayed = sim
            .endpoint(i)
            .peer()
            .events
            .iter()
            .any(|(_, e)| matches!(e, RtcEvent::LocalCandidate(c) if c.contains("typ relay")));
        assert!(relayed, "peer {i} has a relayed candidate");
    }
    let now = sim.now();
    let id = sim
        .endpoint_mut(0)
        .peer_mut()
        .rtc
        .create_data_channel(now, "r", DataChannelInit::default())
        .unwrap();
    let offer = sim.endpoint_mut(0).peer_mut().rtc.create_offer(now).unwrap();
    sim.endpoint_mut(0)
        .peer_mut()
        .rtc
        .set_local_description(now, &offer)
        .unwrap();
    sim.endpoint_mut(1)
        .peer_mut()
        .rtc
        .set_remote_description(now, &offer)
        .unwrap();
    let answer = sim.endpoint_mut(1).peer_mut().rtc.create_answer(now).unwrap();
    sim.endpoint_mut(1)
        .peer_mut()
        .rtc
        .set_local_description(now, &answer)
        .unwrap();
    sim.endpoint_mut(0)
        .peer_mut()
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
    let ok = sim.run_until(Duration::from_secs(30), |s| {
        s.endpoint(0).peer().open.contains(&id) && !s.endpoint(1).peer().open.is_empty()
    });
    assert!(ok, "channel did not open through the relay");
    let b_id = *sim.endpoint(1).peer().open.last().unwrap();
    let now = sim.now();
    sim.endpoint_mut(0)
        .peer_mut()
        .rtc
        .channel(id)
        .unwrap()
        .send_binary(now, &[7; 50_000])
        .unwrap();
    sim.endpoint_mut(1)
        .peer_mut()
        .rtc
        .channel(b_id)
        .unwrap()
        .send_text(now, "pong")
        .unwrap();
    sim.run_for(Duration::from_secs(2));
    assert_eq!(
        sim.endpoint(1).peer().received[&b_id],
        vec![(vec![7; 50_000], true)]
    );
    assert_eq!(
        sim.endpoint(0).peer().received[&id],
        vec![(b"pong".to_vec(), false)]
    );
    sim.endpoint(0).peer().rtc.selected_pair().unwrap()
}

#[test]
fn relay_only_policy_connects_through_turn_and_offers_no_host_address() {
    let mut sim = world(IceTransportPolicy::Relay);
    let (local, _) = connect_and_talk(&mut sim);
    assert_eq!(
        local.ip().to_string(),
        TURN_IP,
        "the selected local candidate is the relayed address"
    );
    for i in 0..2 {
        let offered: Vec<_> = sim
            .endpoint(i)
            .peer()
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                RtcEvent::LocalCandidate(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        assert!(
            offered.iter().all(|c| c.contains("typ relay")),
            "peer {i} offered {offered:?}"
        );
    }
}

#[test]
fn symmetric_nats_on_both_sides_fall_back_to_the_relay() {
    let mut sim = world(IceTransportPolicy::All);
    let (local, remote) = connect_and_talk(&mut sim);
    assert!(
        local.ip().to_string() == TURN_IP || remote.ip().to_string() == TURN_IP,
        "a relayed candidate is in the selected pair: {local} -> {remote}"
    );
}
