//! The network: hosts, NATs, routing between realms, and the event queue on the virtual clock.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use oxirtc_crypto::SecureRng;
use tracing::trace;

use crate::link::{DropReason, LinkDirection, Transit};
use crate::nat::Nat;
use crate::{HostId, LinkConfig, NatConfig, NatId, NetsimError, Realm};

/// A UDP datagram as a host sends or receives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// Where it comes from: the sender's own address when sent, the (possibly NAT-translated) address the
    /// receiver sees when delivered.
    pub source: SocketAddr,
    /// Where it goes: the address the sender targets when sent, the receiver's own address when delivered.
    pub destination: SocketAddr,
    /// The UDP payload. Its length is the packet size for MTU and rate (headers are not modelled).
    pub payload: Vec<u8>,
}

/// Counters over the whole run. A packet duplicated on a link counts once in `sent` and once in
/// `duplicated`; after the network drains, `sent + duplicated == delivered + every dropped_*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetStats {
    /// Datagrams handed to [`Network::send`] (including ones dropped at once).
    pub sent: u64,
    /// Datagrams returned by [`Network::poll_delivery`].
    pub delivered: u64,
    /// Lost to a link's `loss`.
    pub dropped_loss: u64,
    /// Tail-dropped by a full rate-limiting queue.
    pub dropped_queue: u64,
    /// Larger than a link's MTU.
    pub dropped_mtu: u64,
    /// No host or NAT has the destination address in the realm where the packet is (or a NAT ran out of
    /// ports).
    pub dropped_no_route: u64,
    /// Refused by a NAT: no live mapping for the port, the filter did not admit the source (RFC 4787 §5), or
    /// a hairpin with hairpinning off.
    pub dropped_filtered: u64,
    /// The source address was not the sending host's.
    pub dropped_bad_source: u64,
    /// Extra copies made by a link's `duplicate`.
    pub duplicated: u64,
}

impl NetStats {
    fn count(&mut self, reason: DropReason) {
        let counter = match reason {
            DropReason::Loss => &mut self.dropped_loss,
            DropReason::Queue => &mut self.dropped_queue,
            DropReason::Mtu => &mut self.dropped_mtu,
            DropReason::NoRoute => &mut self.dropped_no_route,
            DropReason::Filtered => &mut self.dropped_filtered,
            DropReason::BadSource => &mut self.dropped_bad_source,
        };
        *counter += 1;
    }

    /// Every dropped packet, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss
            + self.dropped_queue
            + self.dropped_mtu
            + self.dropped_no_route
            + self.dropped_filtered
            + self.dropped_bad_source
    }
}

#[derive(Debug)]
struct Host {
    ip: IpAddr,
    realm: Realm,
    link: LinkConfig,
    up: LinkDirection,
    down: LinkDirection,
}

#[derive(Debug)]
struct NatNode {
    nat: Nat,
    /// The realm its external side is in.
    outer: Realm,
}

#[derive(Debug)]
enum Stage {
    /// Off the sender's uplink, in the sender's realm: to be routed (and NAT-translated) at this time.
    Routing { realm: Realm },
    /// Off the receiver's downlink: ready for [`Network::poll_delivery`].
    Arrived { host: HostId },
}

#[derive(Debug)]
struct Event {
    at: Instant,
    seq: u64,
    stage: Stage,
    datagram: Datagram,
}

// Ordered by time, then by the order of scheduling: equal times are delivered deterministically.
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}

/// A seeded, deterministic simulated network on a virtual clock.
///
/// A packet crosses the sender's uplink, is routed at the time it leaves it (through any NATs on the way,
/// instantly), then crosses the receiver's downlink. All randomness comes from `seed`: the same seed and the
/// same calls give the same run.
#[derive(Debug)]
pub struct Network {
    rng: SecureRng,
    start: Instant,
    clock: Instant,
    hosts: Vec<Host>,
    host_at: BTreeMap<(Realm, IpAddr), HostId>,
    nats: Vec<NatNode>,
    nat_at: BTreeMap<(Realm, IpAddr), NatId>,
    events: BinaryHeap<Reverse<Event>>,
    next_seq: u64,
    stats: NetStats,
}

impl Network {
    /// An empty network whose virtual clock starts at `start`.
    pub fn new(seed: u64, start: Instant) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..13].copy_from_slice(b"oxirtc-netsim");
        bytes[24..].copy_from_slice(&seed.to_le_bytes());
        Self {
            rng: SecureRng::from_seed(bytes),
            start,
            clock: start,
            hosts: Vec::new(),
            host_at: BTreeMap::new(),
            nats: Vec::new(),
            nat_at: BTreeMap::new(),
            events: BinaryHeap::new(),
            next_seq: 0,
            stats: NetStats::default(),
        }
    }

    /// The instant the network was created at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The latest `now` the network has been given.
    pub fn now(&self) -> Instant {
        self.clock
    }

    /// A NAT whose public side has `public_ip` in the public realm.
    ///
    /// # Panics
    /// If `public_ip` is already used in the public realm; see [`Network::try_add_nat`].
    pub fn add_nat(&mut self, public_ip: IpAddr, config: NatConfig) -> NatId {
        self.try_add_nat(public_ip, None, config)
            .unwrap_or_else(|e| panic!("add_nat: {e}"))
    }

    /// A NAT whose external side has `public_ip` in the public realm (`behind: None`) or in the private
    /// realm of another NAT (carrier-grade NAT, nested home routers).
    pub fn try_add_nat(
        &mut self,
        public_ip: IpAddr,
        behind: Option<NatId>,
        config: NatConfig,
    ) -> Result<NatId, NetsimError> {
        let outer = self.realm_of(behind)?;
        self.check_free(outer, public_ip)?;
        let id = NatId(self.nats.len() as u32);
        let nat = Nat::new(public_ip, config, self.rng.fork());
        self.nats.push(NatNode { nat, outer });
        self.nat_at.insert((outer, public_ip), id);
        Ok(id)
    }

    /// A host with address `ip`, on the public realm (`behind: None`) or in the private realm of a NAT.
    /// `link` is the host's access link, applied to every packet it sends and receives.
    ///
    /// # Panics
    /// If the address is taken in that realm, the NAT is unknown or the link config is invalid; see
    /// [`Network::try_add_host`].
    pub fn add_host(&mut self, ip: IpAddr, behind: Option<NatId>, link: LinkConfig) -> HostId {
        self.try_add_host(ip, behind, link)
            .unwrap_or_else(|e| panic!("add_host: {e}"))
    }

    /// [`Network::add_host`] returning misuse as an error.
    pub fn try_add_host(
        &mut self,
        ip: IpAddr,
        behind: Option<NatId>,
        link: LinkConfig,
    ) -> Result<HostId, NetsimError> {
        link.validate()?;
        let realm = self.realm_of(behind)?;
        self.check_free(realm, ip)?;
        let id = HostId(self.hosts.len() as u32);
        let (up, down) = (
            LinkDirection::new(self.rng.fork()),
            LinkDirection::new(self.rng.fork()),
        );
        self.hosts.push(Host {
            ip,
            realm,
            link,
            up,
            down,
        });
        self.host_at.insert((realm, ip), id);
        Ok(id)
    }

    fn realm_of(&self, behind: Option<NatId>) -> Result<Realm, NetsimError> {
        match behind {
            None => Ok(Realm::Public),
            Some(nat) if nat.index() < self.nats.len() => Ok(Realm::Private(nat)),
            Some(nat) => Err(NetsimError::UnknownNat(nat)),
        }
    }

    fn check_free(&self, realm: Realm, ip: IpAddr) -> Result<(), NetsimError> {
        if self.host_at.contains_key(&(realm, ip)) || self.nat_at.contains_key(&(realm, ip)) {
            return Err(NetsimError::AddressInUse { ip, realm });
        }
        Ok(())
    }

    /// Changes a host's access link from now on (e.g. cut the path with `loss: 1.0`). Packets already on
    /// the link keep their fate.
    ///
    /// # Panics
    /// If the host is unknown or the config invalid; see [`Network::try_set_link`].
    pub fn set_link(&mut self, host: HostId, link: LinkConfig) {
        self.try_set_link(host, link)
            .unwrap_or_else(|e| panic!("set_link: {e}"));
    }

    /// [`Network::set_link`] returning misuse as an error.
    pub fn try_set_link(&mut self, host: HostId, link: LinkConfig) -> Result<(), NetsimError> {
        link.validate()?;
        let h = self
            .hosts
            .get_mut(host.index())
            .ok_or(NetsimError::UnknownHost(host))?;
        h.link = link;
        Ok(())
    }

    /// A host's current access link.
    pub fn link(&self, host: HostId) -> Option<&LinkConfig> {
        self.hosts.get(host.index()).map(|h| &h.link)
    }

    /// A host's IP address.
    pub fn host_ip(&self, host: HostId) -> Option<IpAddr> {
        self.hosts.get(host.index()).map(|h| h.ip)
    }

    /// The realm a host is in.
    pub fn host_realm(&self, host: HostId) -> Option<Realm> {
        self.hosts.get(host.index()).map(|h| h.realm)
    }

    /// A NAT's external IP address.
    pub fn nat_public_ip(&self, nat: NatId) -> Option<IpAddr> {
        self.nats.get(nat.index()).map(|n| n.nat.public_ip)
    }

    /// Live mappings of a NAT as of [`Network::now`] (0 for an unknown NAT).
    pub fn nat_mappings(&self, nat: NatId) -> usize {
        self.nats
            .get(nat.index())
            .map_or(0, |n| n.nat.live_mappings(self.clock))
    }

    /// The external address a NAT currently maps `internal` to when it sends to `destination` (what a STUN
    /// server at `destination` would report), if that mapping is alive as of [`Network::now`].
    pub fn nat_mapping(
        &self,
        nat: NatId,
        internal: SocketAddr,
        destination: SocketAddr,
    ) -> Option<SocketAddr> {
        self.nats
            .get(nat.index())?
            .nat
            .mapped_address(internal, destination, self.clock)
    }

    /// The NAT forgets every mapping now (a reboot, or `conntrack -F`): each internal endpoint gets a new
    /// external address on its next outbound packet; packets still in flight to an old mapping are
    /// filtered when they reach the NAT. Does nothing for an unknown NAT.
    pub fn reset_nat(&mut self, nat: NatId) {
        if let Some(n) = self.nats.get_mut(nat.index()) {
            n.nat.forget_mappings();
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Packets still travelling (on a link or waiting for [`Network::poll_delivery`]).
    pub fn in_flight(&self) -> usize {
        self.events.len()
    }

    /// A host sends a datagram; the host is found by the source IP. If no host, or more than one (the same
    /// private IP behind two NATs), has that IP, the datagram is dropped and counted as a bad source; use
    /// [`Network::send_from`] then.
    ///
    /// `now` earlier than a time already given is treated as that time (the clock never goes back).
    pub fn send(&mut self, now: Instant, datagram: Datagram) {
        let ip = datagram.source.ip();
        let mut owners = self
            .host_at
            .iter()
            .filter(|((_, a), _)| *a == ip)
            .map(|(_, &h)| h);
        match (owners.next(), owners.next()) {
            (Some(host), None) => self.send_from(now, host, datagram),
            _ => {
                self.stats.sent += 1;
                self.drop_packet(DropReason::BadSource, &datagram);
            }
        }
    }

    /// `host` sends a datagram. Its source IP must be the host's, otherwise it is dropped and counted.
    /// Routing happens when it leaves the host's uplink: to a host in the same realm directly; out through
    /// the realm's NAT (mapping created or refreshed); in through a NAT whose external address it targets
    /// (mapping looked up, filtering applied); anything else is dropped.
    pub fn send_from(&mut self, now: Instant, host: HostId, datagram: Datagram) {
        self.clock = self.clock.max(now);
        let now = self.clock;
        self.stats.sent += 1;
        let Some(h) = self.hosts.get_mut(host.index()) else {
            return self.drop_packet(DropReason::BadSource, &datagram);
        };
        if h.ip != datagram.source.ip() {
            return self.drop_packet(DropReason::BadSource, &datagram);
        }
        let transit = h.up.transit(&h.link, now, datagram.payload.len());
        let realm = h.realm;
        self.schedule(transit, datagram, || Stage::Routing { realm });
    }

    /// The next delivery whose time has come: the receiving host and the datagram as it sees it (source
    /// after any NAT translation, destination its own address). Deliveries with equal times come out in the
    /// order they were scheduled.
    pub fn poll_delivery(&mut self, now: Instant) -> Option<(HostId, Datagram)> {
        self.clock = self.clock.max(now);
        while self.events.peek().is_some_and(|Reverse(e)| e.at <= now) {
            let Reverse(event) = self.events.pop()?;
            match event.stage {
                Stage::Arrived { host } => {
                    self.stats.delivered += 1;
                    trace!(%host, source = %event.datagram.source, len = event.datagram.payload.len(), "delivered");
                    return Some((host, event.datagram));
                }
                Stage::Routing { realm } => self.route_and_receive(event.at, realm, event.datagram),
            }
        }
        None
    }

    /// When something next happens: a delivery, or a packet reaching the middle of its path (routing and
    /// NAT translation happen at that time, so a caller must poll then; it may yield no delivery).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.events.peek().map(|Reverse(e)| e.at)
    }

    fn route_and_receive(&mut self, at: Instant, realm: Realm, datagram: Datagram) {
        match self.route(at, realm, datagram) {
            Ok((host, datagram)) => {
                let h = &mut self.hosts[host.index()];
                let transit = h.down.transit(&h.link, at, datagram.payload.len());
                self.schedule(transit, datagram, || Stage::Arrived { host });
            }
            Err((reason, datagram)) => self.drop_packet(reason, &datagram),
        }
    }

    /// Finds the receiving host, translating through NATs. Climbs out through the NATs of the realms the
    /// packet is in until the destination is found, then descends through NATs whose external address it
    /// targets; once descending it never climbs again, so routing always terminates.
    fn route(
        &mut self,
        at: Instant,
        mut realm: Realm,
        mut d: Datagram,
    ) -> Result<(HostId, Datagram), (DropReason, Datagram)> {
        let mut descending = false;
        loop {
            let ip = d.destination.ip();
            if let Some(&host) = self.host_at.get(&(realm, ip)) {
                return Ok((host, d));
            }
            if let Some(&nat) = self.nat_at.get(&(realm, ip)) {
                match self.nats[nat.index()]
                    .nat
                    .inbound(d.source, d.destination.port(), at)
                {
                    Ok(internal) => d.destination = internal,
                    Err(reason) => return Err((reason, d)),
                }
                realm = Realm::Private(nat);
                descending = true;
                continue;
            }
            let Realm::Private(nat) = realm else {
                return Err((DropReason::NoRoute, d));
            };
            if descending {
                return Err((DropReason::NoRoute, d));
            }
            let node = &mut self.nats[nat.index()];
            let hairpin = ip == node.nat.public_ip;
            if hairpin && !node.nat.config.hairpinning {
                return Err((DropReason::Filtered, d));
            }
            match node.nat.outbound(d.source, d.destination, at) {
                Ok(external) => d.source = external,
                Err(reason) => return Err((reason, d)),
            }
            if hairpin {
                // RFC 4787 §6: back inside, presented with the external source (REQ-9a), filtered like any
                // inbound packet.
                match node.nat.inbound(d.source, d.destination.port(), at) {
                    Ok(internal) => d.destination = internal,
                    Err(reason) => return Err((reason, d)),
                }
                descending = true;
            } else {
                realm = node.outer;
            }
        }
    }

    fn schedule(&mut self, transit: Transit, datagram: Datagram, stage: impl Fn() -> Stage) {
        if transit.duplicated {
            self.stats.duplicated += 1;
        }
        let mut datagram = Some(datagram);
        let copies = transit.copies.iter().flatten().count();
        for (i, fate) in transit.copies.into_iter().flatten().enumerate() {
            let d = if i + 1 == copies {
                datagram.take()
            } else {
                datagram.clone()
            };
            let Some(d) = d else { return };
            match fate {
                Ok(at) => {
                    let seq = self.next_seq;
                    self.next_seq += 1;
                    self.events.push(Reverse(Event {
                        at,
                        seq,
                        stage: stage(),
                        datagram: d,
                    }));
                }
                Err(reason) => self.drop_packet(reason, &d),
            }
        }
    }

    fn drop_packet(&mut self, reason: DropReason, d: &Datagram) {
        self.stats.count(reason);
        trace!(?reason, source = %d.source, destination = %d.destination, len = d.payload.len(), "dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    fn dgram(from: &str, to: &str) -> Datagram {
        Datagram {
            source: from.parse().unwrap(),
            destination: to.parse().unwrap(),
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn same_private_ip_behind_two_nats() {
        let t = start();
        let mut net = Network::new(1, t);
        let n1 = net.add_nat([203, 0, 113, 1].into(), NatConfig::full_cone());
        let n2 = net.add_nat([203, 0, 113, 2].into(), NatConfig::full_cone());
        let a = net.add_host([10, 0, 0, 2].into(), Some(n1), LinkConfig::default());
        let b = net.add_host([10, 0, 0, 2].into(), Some(n2), LinkConfig::default());
        let s = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        // Ambiguous source IP: `send` refuses, `send_from` works.
        net.send(t, dgram("10.0.0.2:5000", "198.51.100.1:3478"));
        assert_eq!(net.stats().dropped_bad_source, 1);
        net.send_from(t, a, dgram("10.0.0.2:5000", "198.51.100.1:3478"));
        net.send_from(t, b, dgram("10.0.0.2:5000", "198.51.100.1:3478"));
        let got: Vec<_> = std::iter::from_fn(|| net.poll_delivery(t)).collect();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|(h, _)| *h == s));
        assert_eq!(got[0].1.source, "203.0.113.1:5000".parse().unwrap());
        assert_eq!(got[1].1.source, "203.0.113.2:5000".parse().unwrap());
    }

    #[test]
    fn misuse_is_an_error() {
        let mut net = Network::new(1, start());
        let ip: IpAddr = [198, 51, 100, 1].into();
        net.add_host(ip, None, LinkConfig::default());
        assert!(matches!(
            net.try_add_nat(ip, None, NatConfig::default()),
            Err(NetsimError::AddressInUse { .. })
        ));
        assert_eq!(
            net.try_add_host([10, 0, 0, 1].into(), Some(NatId(7)), LinkConfig::default()),
            Err(NetsimError::UnknownNat(NatId(7)))
        );
        assert_eq!(
            net.try_set_link(HostId(9), LinkConfig::default()),
            Err(NetsimError::UnknownHost(HostId(9)))
        );
    }

    #[test]
    fn spoofed_and_unroutable_are_counted() {
        let t = start();
        let mut net = Network::new(1, t);
        let a = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        net.send_from(t, a, dgram("198.51.100.9:1", "198.51.100.1:2"));
        net.send(t, dgram("198.51.100.1:1", "192.0.2.1:2"));
        assert_eq!(net.poll_delivery(t), None);
        let s = net.stats();
        assert_eq!((s.sent, s.dropped_bad_source, s.dropped_no_route), (2, 1, 1));
    }

    #[test]
    fn hairpinning_when_enabled() {
        let t = start();
        for hairpinning in [false, true] {
            let mut net = Network::new(1, t);
            let nat = net.add_nat(
                [203, 0, 113, 1].into(),
                NatConfig {
                    hairpinning,
                    ..NatConfig::full_cone()
                },
            );
            let x1 = net.add_host([10, 0, 0, 2].into(), Some(nat), LinkConfig::default());
            let x2 = net.add_host([10, 0, 0, 3].into(), Some(nat), LinkConfig::default());
            net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
            // x2 opens a mapping (203.0.113.1:6000), then x1 targets it.
            net.send_from(t, x2, dgram("10.0.0.3:6000", "198.51.100.1:3478"));
            net.send_from(t, x1, dgram("10.0.0.2:5000", "203.0.113.1:6000"));
            let got: Vec<_> = std::iter::from_fn(|| net.poll_delivery(t)).collect();
            if hairpinning {
                let (host, d) = &got[1];
                assert_eq!(*host, x2);
                assert_eq!(
                    d.source,
                    "203.0.113.1:5000".parse().unwrap(),
                    "external source, REQ-9a"
                );
                assert_eq!(d.destination, "10.0.0.3:6000".parse().unwrap());
            } else {
                assert_eq!(got.len(), 1);
                assert_eq!(net.stats().dropped_filtered, 1);
            }
        }
    }

    #[test]
    fn nested_nat_carrier_grade() {
        let t = start();
        let mut net = Network::new(1, t);
        let cgn = net.add_nat([203, 0, 113, 1].into(), NatConfig::full_cone());
        let home = net
            .try_add_nat([100, 64, 0, 2].into(), Some(cgn), NatConfig::full_cone())
            .unwrap();
        let a = net.add_host([192, 168, 1, 2].into(), Some(home), LinkConfig::default());
        let s = net.add_host([198, 51, 100, 1].into(), None, LinkConfig::default());
        net.send_from(t, a, dgram("192.168.1.2:5000", "198.51.100.1:3478"));
        let (host, d) = net.poll_delivery(t).unwrap();
        assert_eq!((host, d.source), (s, "203.0.113.1:5000".parse().unwrap()));
        net.send_from(t, s, dgram("198.51.100.1:3478", "203.0.113.1:5000"));
        let (host, d) = net.poll_delivery(t).unwrap();
        assert_eq!((host, d.destination), (a, "192.168.1.2:5000".parse().unwrap()));
    }
}
