//! Harness: two `Rtc` peers as endpoints of an `oxirtc-netsim` simulation on a virtual clock, with
//! instant signaling between them, and a small application on each side that sends queued messages
//! under backpressure and records what arrives.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed set-up should panic loudly

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc::{ChannelId, DataChannelInit, Description, Rtc, RtcConfig, RtcEvent};
use oxirtc_netsim::{Datagram, Endpoint, HostId, LinkConfig, NatConfig, Network, Simulation};

/// One peer and its application.
pub struct Peer {
    pub rtc: Rtc,
    pub events: Vec<(Instant, RtcEvent)>,
    /// Messages received per channel, in arrival order: (payload, binary).
    pub received: HashMap<ChannelId, Vec<(Vec<u8>, bool)>>,
    /// Messages waiting to be sent per channel (sent while the buffered amount is low).
    pub outbox: HashMap<ChannelId, VecDeque<Vec<u8>>>,
    pub open: Vec<ChannelId>,
    pub closed: Vec<ChannelId>,
    pub send_errors: Vec<String>,
    /// While set, the application does not poll events (a reader that stopped reading).
    pub paused: bool,
    /// When set, datagrams are taken with `poll_transmit_into`, appended to this buffer after what
    /// it already holds (which must stay untouched).
    pub into: Option<Vec<u8>>,
    /// While set, every datagram arriving is dropped: the path towards this peer is cut, the other
    /// direction still works.
    pub deaf: bool,
    /// This many incoming DTLS datagrams (RFC 7983: first byte 20..=63) are dropped, as by a peer
    /// whose DTLS transport is not up yet.
    pub drop_dtls_in: u32,
    /// This many outgoing STUN Binding requests (type 0x0001) are dropped: checks that get lost.
    pub drop_checks_out: u32,
}

/// Keep at most this much buffered per channel before waiting for acks.
pub const APP_HIGH_WATER: usize = 1024 * 1024;

impl Peer {
    pub fn new(seed: u8) -> Self {
        Peer::with_config(RtcConfig {
            rng_seed: Some([seed; 32]),
            ..RtcConfig::default()
        })
    }

    pub fn with_config(config: RtcConfig) -> Self {
        Peer {
            rtc: Rtc::new(config).unwrap(),
            events: Vec::new(),
            received: HashMap::new(),
            outbox: HashMap::new(),
            open: Vec::new(),
            closed: Vec::new(),
            send_errors: Vec::new(),
            paused: false,
            into: None,
            deaf: false,
            drop_dtls_in: 0,
            drop_checks_out: 0,
        }
    }

    pub fn drain(&mut self, now: Instant) {
        while let Some(ev) = if self.paused { None } else { self.rtc.poll_event() } {
            match &ev {
                RtcEvent::ChannelMessage { id, data, binary } => {
                    self.received
                        .entry(*id)
                        .or_default()
                        .push((data.clone(), *binary));
                }
                RtcEvent::ChannelOpen(id) => self.open.push(*id),
                RtcEvent::ChannelClosed(id) => self.closed.push(*id),
                _ => {}
            }
            self.events.push((now, ev));
        }
        self.send_queued(now);
    }

    fn send_queued(&mut self, now: Instant) {
        let ids: Vec<ChannelId> = self.outbox.keys().copied().collect();
        for id in ids {
            while let Some(mut ch) = self.rtc.channel(id) {
                if ch.buffered_amount() >= APP_HIGH_WATER || ch.state() != oxirtc::ChannelState::Open {
                    break;
                }
                let Some(msg) = self.outbox.get_mut(&id).and_then(VecDeque::pop_front) else {
                    break;
                };
                if let Err(e) = ch.send_binary(now, &msg) {
                    self.send_errors.push(e.to_string());
                    self.outbox.get_mut(&id).unwrap().push_front(msg);
                    break;
                }
            }
        }
        // Sending produced events (and transmits) in the core; events are drained next time.
    }

    pub fn has_event(&self, f: impl Fn(&RtcEvent) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }

    pub fn queue(&mut self, id: ChannelId, messages: impl IntoIterator<Item = Vec<u8>>) {
        self.outbox.entry(id).or_default().extend(messages);
    }
}

impl Endpoint for Peer {
    fn handle_receive(&mut self, now: Instant, d: Datagram) {
        if self.deaf {
            return;
        }
        if self.drop_dtls_in > 0 && d.payload.first().is_some_and(|b| (20..=63).contains(b)) {
            self.drop_dtls_in -= 1;
            return;
        }
        self.rtc.handle_receive(now, d.source, d.destination, &d.payload);
        self.drain(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.rtc.handle_timeout(now);
        self.drain(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.drain(now);
        let d = self.next_datagram(now)?;
        if self.drop_checks_out > 0 && d.payload.starts_with(&[0, 1]) {
            self.drop_checks_out -= 1;
            return self.poll_transmit(now);
        }
        Some(d)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.rtc.poll_timeout()
    }
}

impl Peer {
    fn next_datagram(&mut self, now: Instant) -> Option<Datagram> {
        if let Some(buf) = self.into.as_mut() {
            let prefix = buf.clone();
            let t = self.rtc.poll_transmit_into(now, buf)?;
            assert_eq!(
                &buf[..prefix.len()],
                &prefix[..],
                "poll_transmit_into kept the buffer's bytes"
            );
            assert_eq!(
                buf.len(),
                prefix.len() + t.len,
                "the datagram is the buffer's last len bytes"
            );
            let payload = buf.split_off(prefix.len());
            return Some(Datagram {
                source: t.source,
                destination: t.destination,
                payload,
            });
        }
        self.rtc.poll_transmit(now).map(|t| Datagram {
            source: t.source,
            destination: t.destination,
            payload: t.contents,
        })
    }
}

pub const A_ADDR: &str = "10.0.0.1:5000";
pub const B_ADDR: &str = "10.0.0.2:6000";

/// Two peers on hosts with the given links; A is endpoint 0, B endpoint 1. Host candidates are added.
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn pair(seed: u64, link: LinkConfig) -> Simulation<Peer> {
    pair_with(seed, link, RtcConfig::default())
}

/// [`pair`] with both peers built from `config` (each with its own `rng_seed`).
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn pair_with(seed: u64, link: LinkConfig, config: RtcConfig) -> Simulation<Peer> {
    pair_with_configs(seed, link, config.clone(), config)
}

/// [`pair`] with A built from `config_a` and B from `config_b` (each with its own `rng_seed`).
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn pair_with_configs(
    seed: u64,
    link: LinkConfig,
    config_a: RtcConfig,
    config_b: RtcConfig,
) -> Simulation<Peer> {
    let start = Instant::now();
    let mut net = Network::new(seed, start);
    let a_addr: SocketAddr = A_ADDR.parse().unwrap();
    let b_addr: SocketAddr = B_ADDR.parse().unwrap();
    let ha = net.add_host(a_addr.ip(), None, link.clone());
    let hb = net.add_host(b_addr.ip(), None, link);
    let mut sim = Simulation::new(net);
    let peer = |seed: u8, config: RtcConfig| {
        Peer::with_config(RtcConfig {
            rng_seed: Some([seed; 32]),
            ..config
        })
    };
    let mut a = peer(1, config_a);
    let mut b = peer(2, config_b);
    a.rtc.add_host_candidate(start, a_addr).unwrap();
    b.rtc.add_host_candidate(start, b_addr).unwrap();
    sim.add_endpoint(ha, a);
    sim.add_endpoint(hb, b);
    sim
}

/// Offer from `offerer` (0 or 1) to the other, instantly signaled, answer back.
pub fn negotiate(sim: &mut Simulation<Peer>, offerer: usize) {
    let answer = offer_and_answer(sim, offerer, |_| {});
    let now = sim.now();
    sim.endpoint_mut(offerer)
        .rtc
        .set_remote_description(now, &answer)
        .unwrap();
}

/// The first half of [`negotiate`]: `offerer` creates and applies its offer, the other side applies
/// it (after `edit` changed what travels, as a signaling path or an SDP-munging peer would) and
/// applies its answer. Returns the answer, not yet given to the offerer.
pub fn offer_and_answer(
    sim: &mut Simulation<Peer>,
    offerer: usize,
    edit: impl FnOnce(&mut Description),
) -> Description {
    let answerer = 1 - offerer;
    let now = sim.now();
    let offer = sim.endpoint_mut(offerer).rtc.create_offer(now).unwrap();
    sim.endpoint_mut(offerer)
        .rtc
        .set_local_description(now, &offer)
        .unwrap();
    let mut sent = offer.clone();
    edit(&mut sent);
    sim.endpoint_mut(answerer)
        .rtc
        .set_remote_description(now, &sent)
        .unwrap();
    let answer = sim.endpoint_mut(answerer).rtc.create_answer(now).unwrap();
    sim.endpoint_mut(answerer)
        .rtc
        .set_local_description(now, &answer)
        .unwrap();
    answer
}

/// Changes one hex digit of the first sha-256 `a=fingerprint` (as an attacker on the signaling path
/// would), so the certificate no longer matches it.
pub fn flip_fingerprint_digit(desc: &mut Description) {
    let key = "a=fingerprint:sha-256 ";
    let at = desc.sdp.find(key).unwrap() + key.len();
    let digit = if &desc.sdp[at..at + 1] == "A" { "B" } else { "A" };
    desc.sdp.replace_range(at..at + 1, digit);
}

/// Creates a channel on `side`, negotiates (offer from `side`), runs until both sides have an open
/// channel. Returns (channel id on side, channel id on the other side).
pub fn connect_with_channel(
    sim: &mut Simulation<Peer>,
    side: usize,
    init: DataChannelInit,
) -> (ChannelId, ChannelId) {
    let now = sim.now();
    let id = sim
        .endpoint_mut(side)
        .rtc
        .create_data_channel(now, "test", init)
        .unwrap();
    negotiate(sim, side);
    let other = 1 - side;
    let ok = sim.run_until(Duration::from_secs(30), |s| {
        s.endpoint(side).open.contains(&id) && !s.endpoint(other).open.is_empty()
    });
    assert!(ok, "channel did not open on both sides");
    let remote = *sim.endpoint(other).open.last().unwrap();
    (id, remote)
}

/// Payload for message `i` of a stream: its index then a pattern, so order and content are checkable.
pub fn numbered(i: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(4));
    v.extend_from_slice(&i.to_be_bytes());
    v.extend((4..len).map(|j| (j as u32).wrapping_mul(31).wrapping_add(i) as u8));
    v
}

/// A private peer (endpoint 0, 10.0.0.1:5000) behind a symmetric NAT at 203.0.113.1 that forgets a
/// mapping after `mapping_timeout` without traffic and does not preserve ports, and a public peer
/// (endpoint 1, 198.51.100.7:6000), both hosts on `link`. Returns the private host, for cutting and
/// resetting its NAT.
#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn behind_symmetric_nat(
    seed: u64,
    mapping_timeout: Duration,
    link: LinkConfig,
) -> (Simulation<Peer>, HostId) {
    let start = Instant::now();
    let mut net = Network::new(seed, start);
    let nat = net.add_nat(
        "203.0.113.1".parse().unwrap(),
        NatConfig {
            mapping_timeout,
            port_preservation: false,
            ..NatConfig::symmetric()
        },
    );
    let private: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let public: SocketAddr = "198.51.100.7:6000".parse().unwrap();
    let hp = net.add_host(private.ip(), Some(nat), link.clone());
    let hq = net.add_host(public.ip(), None, link);
    let mut sim = Simulation::new(net);
    for (seed, host, addr) in [(1u8, hp, private), (2, hq, public)] {
        let mut peer = Peer::with_config(RtcConfig {
            rng_seed: Some([seed; 32]),
            ..RtcConfig::default()
        });
        peer.rtc.add_host_candidate(start, addr).unwrap();
        sim.add_endpoint(host, peer);
    }
    (sim, hp)
}
