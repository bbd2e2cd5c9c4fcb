//! NAT behaviour per RFC 4787: mapping (§4.1), port assignment (§4.2), mapping refresh (§4.3),
//! filtering (§5) and hairpinning (§6).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use oxirtc_crypto::SecureRng;
use tracing::debug;

use crate::link::DropReason;

/// First port a NAT hands out at random (RFC 4787 §4.2.1: ports below 1024 are not used).
const DYNAMIC_PORT_MIN: u16 = 1024;
/// Random attempts before a linear scan for a free port.
const RANDOM_PORT_TRIES: usize = 64;

/// When a NAT reuses an existing mapping for a new destination (RFC 4787 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingBehavior {
    /// Same external address for every destination of one internal `X:x` (REQ-1).
    EndpointIndependent,
    /// Reused only toward the same destination IP, any port.
    AddressDependent,
    /// Reused only toward the same destination IP and port (a "symmetric" NAT).
    AddressAndPortDependent,
}

/// Which inbound packets a mapping lets through (RFC 4787 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilteringBehavior {
    /// Anyone may send to a mapped external address.
    EndpointIndependent,
    /// Only IPs the internal endpoint has sent to (through this mapping), from any port.
    AddressDependent,
    /// Only IP:port pairs the internal endpoint has sent to (through this mapping).
    AddressAndPortDependent,
}

/// A NAT's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatConfig {
    /// Mapping reuse (RFC 4787 §4.1).
    pub mapping: MappingBehavior,
    /// Inbound filtering (RFC 4787 §5).
    pub filtering: FilteringBehavior,
    /// A mapping with no outbound packet for this long is removed (RFC 4787 §4.3; REQ-5 asks for at least
    /// two minutes, tests may use less). Default 120 s.
    pub mapping_timeout: Duration,
    /// Keep the internal port as the external port when it is free (RFC 4787 §4.2.1); otherwise, and for
    /// later mappings, a random port in `1024..=65535`.
    pub port_preservation: bool,
    /// Loop packets from inside to the NAT's own external address back inside, with the external source
    /// address (RFC 4787 §6, REQ-9a) and through the target mapping's filter like any inbound packet. Off
    /// by default: such packets are dropped and counted as filtered.
    pub hairpinning: bool,
    /// Also refresh a mapping on an accepted inbound packet (RFC 4787 §4.3 REQ-6a, optional). Outbound
    /// packets always refresh (REQ-6). Default false.
    pub inbound_refresh: bool,
}

impl NatConfig {
    fn with(mapping: MappingBehavior, filtering: FilteringBehavior) -> Self {
        Self {
            mapping,
            filtering,
            mapping_timeout: Duration::from_secs(120),
            port_preservation: true,
            hairpinning: false,
            inbound_refresh: false,
        }
    }

    /// Endpoint-independent mapping and filtering ("full cone").
    pub fn full_cone() -> Self {
        Self::with(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::EndpointIndependent,
        )
    }

    /// Endpoint-independent mapping, address-dependent filtering ("restricted cone").
    pub fn address_restricted() -> Self {
        Self::with(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressDependent,
        )
    }

    /// Endpoint-independent mapping, address-and-port-dependent filtering ("port-restricted cone").
    pub fn port_restricted() -> Self {
        Self::with(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }

    /// Address-and-port-dependent mapping and filtering ("symmetric").
    pub fn symmetric() -> Self {
        Self::with(
            MappingBehavior::AddressAndPortDependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }
}

impl Default for NatConfig {
    /// [`NatConfig::port_restricted`], the most common home-router behaviour.
    fn default() -> Self {
        Self::port_restricted()
    }
}

/// Which destinations share one mapping, per the mapping behaviour (RFC 4787 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Any,
    Ip(IpAddr),
    Addr(SocketAddr),
}

#[derive(Debug, Clone)]
struct Mapping {
    internal: SocketAddr,
    scope: Scope,
    refreshed: Instant,
    /// Destinations the internal endpoint sent to through this mapping: the filter state (RFC 4787 §5).
    permits: BTreeSet<SocketAddr>,
}

/// One NAT's translation table. All maps are ordered so a run is deterministic.
#[derive(Debug, Clone)]
pub(crate) struct Nat {
    pub(crate) public_ip: IpAddr,
    pub(crate) config: NatConfig,
    rng: SecureRng,
    by_port: BTreeMap<u16, Mapping>,
    by_key: BTreeMap<(SocketAddr, Scope), u16>,
}

impl Nat {
    pub(crate) fn new(public_ip: IpAddr, config: NatConfig, rng: SecureRng) -> Self {
        Self {
            public_ip,
            config,
            rng,
            by_port: BTreeMap::new(),
            by_key: BTreeMap::new(),
        }
    }

    /// Mappings still alive at `now`.
    pub(crate) fn live_mappings(&self, now: Instant) -> usize {
        self.by_port.values().filter(|m| !self.expired(m, now)).count()
    }

    /// The external address of `internal`'s mapping toward `destination`, if one is alive at `now`.
    pub(crate) fn mapped_address(
        &self,
        internal: SocketAddr,
        destination: SocketAddr,
        now: Instant,
    ) -> Option<SocketAddr> {
        let port = *self.by_key.get(&(internal, self.scope(destination)))?;
        let alive = self.by_port.get(&port).is_some_and(|m| !self.expired(m, now));
        alive.then_some(SocketAddr::new(self.public_ip, port))
    }

    fn expired(&self, mapping: &Mapping, now: Instant) -> bool {
        now.saturating_duration_since(mapping.refreshed) >= self.config.mapping_timeout
    }

    fn scope(&self, destination: SocketAddr) -> Scope {
        match self.config.mapping {
            MappingBehavior::EndpointIndependent => Scope::Any,
            MappingBehavior::AddressDependent => Scope::Ip(destination.ip()),
            MappingBehavior::AddressAndPortDependent => Scope::Addr(destination),
        }
    }

    /// Removes mappings idle for `mapping_timeout` (RFC 4787 §4.3). Lazy: called whenever a packet
    /// crosses this NAT, at the packet's time.
    fn expire(&mut self, now: Instant) {
        let timeout = self.config.mapping_timeout;
        let by_key = &mut self.by_key;
        self.by_port.retain(|port, m| {
            let alive = now.saturating_duration_since(m.refreshed) < timeout;
            if !alive {
                debug!(port, internal = %m.internal, "NAT mapping expired");
                by_key.remove(&(m.internal, m.scope));
            }
            alive
        });
    }

    /// Translates an outbound packet's source `internal` toward `destination`, creating or refreshing the
    /// mapping (RFC 4787 §4.1, §4.3 REQ-6) and recording the destination for filtering (§5).
    pub(crate) fn outbound(
        &mut self,
        internal: SocketAddr,
        destination: SocketAddr,
        now: Instant,
    ) -> Result<SocketAddr, DropReason> {
        self.expire(now);
        let key = (internal, self.scope(destination));
        let port = match self.by_key.get(&key) {
            Some(&port) => port,
            None => {
                let port = self.allocate_port(internal.port()).ok_or(DropReason::NoRoute)?;
                let mapping = Mapping {
                    internal,
                    scope: key.1,
                    refreshed: now,
                    permits: BTreeSet::new(),
                };
                debug!(%internal, %destination, external_port = port, "NAT mapping created");
                self.by_port.insert(port, mapping);
                self.by_key.insert(key, port);
                port
            }
        };
        if let Some(m) = self.by_port.get_mut(&port) {
            m.refreshed = now;
            m.permits.insert(destination);
        }
        Ok(SocketAddr::new(self.public_ip, port))
    }

    /// Forgets every mapping at once, as a NAT does when it reboots or its state table is flushed: the
    /// next outbound packet of each internal endpoint gets a new mapping (RFC 4787 §4.2.1 port choice),
    /// and inbound packets to the old external ports are filtered.
    pub(crate) fn forget_mappings(&mut self) {
        debug!(mappings = self.by_port.len(), "NAT forgets every mapping");
        self.by_port.clear();
        self.by_key.clear();
    }

    /// RFC 4787 §4.2.1: preserve the port if asked and free, otherwise a random free port.
    fn allocate_port(&mut self, internal_port: u16) -> Option<u16> {
        if self.config.port_preservation && !self.by_port.contains_key(&internal_port) {
            return Some(internal_port);
        }
        let span = u64::from(u16::MAX - DYNAMIC_PORT_MIN) + 1;
        let mut random = || DYNAMIC_PORT_MIN + self.rng.below(span) as u16;
        let start = random();
        if !self.by_port.contains_key(&start) {
            return Some(start);
        }
        for _ in 1..RANDOM_PORT_TRIES {
            let port = random();
            if !self.by_port.contains_key(&port) {
                return Some(port);
            }
        }
        (DYNAMIC_PORT_MIN..=u16::MAX).find(|p| !self.by_port.contains_key(p))
    }

    /// Translates an inbound packet from `source` to external `port` into the internal address, if a live
    /// mapping exists and its filter admits `source` (RFC 4787 §5).
    pub(crate) fn inbound(
        &mut self,
        source: SocketAddr,
        port: u16,
        now: Instant,
    ) -> Result<SocketAddr, DropReason> {
        self.expire(now);
        let filtering = self.config.filtering;
        let refresh = self.config.inbound_refresh;
        let Some(m) = self.by_port.get_mut(&port) else {
            return Err(DropReason::Filtered);
        };
        let admitted = match filtering {
            FilteringBehavior::EndpointIndependent => true,
            FilteringBehavior::AddressDependent => m.permits.iter().any(|p| p.ip() == source.ip()),
            FilteringBehavior::AddressAndPortDependent => m.permits.contains(&source),
        };
        if !admitted {
            return Err(DropReason::Filtered);
        }
        if refresh {
            // RFC 4787 §4.3 REQ-6a: inbound refresh is optional.
            m.refreshed = now;
        }
        Ok(m.internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn start() -> Instant {
        Instant::now()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn nat(config: NatConfig) -> Nat {
        Nat::new([203, 0, 113, 1].into(), config, SecureRng::from_seed([9; 32]))
    }

    #[test]
    fn eim_reuses_adm_per_ip_apdm_per_addr() {
        let t = start();
        let x = addr("10.0.0.2:5000");
        let (y1, y1b, y2) = (
            addr("198.51.100.1:3478"),
            addr("198.51.100.1:3479"),
            addr("198.51.100.2:3478"),
        );
        let mut n = nat(NatConfig::full_cone());
        let a = n.outbound(x, y1, t).unwrap();
        assert_eq!(a, addr("203.0.113.1:5000"), "port preserved");
        assert_eq!(n.outbound(x, y2, t).unwrap(), a);

        let mut n = nat(NatConfig {
            mapping: MappingBehavior::AddressDependent,
            ..NatConfig::full_cone()
        });
        let a = n.outbound(x, y1, t).unwrap();
        assert_eq!(n.outbound(x, y1b, t).unwrap(), a);
        assert_ne!(n.outbound(x, y2, t).unwrap(), a);

        let mut n = nat(NatConfig::symmetric());
        let a = n.outbound(x, y1, t).unwrap();
        let b = n.outbound(x, y1b, t).unwrap();
        assert_ne!(a, b);
        assert!(b.port() >= DYNAMIC_PORT_MIN);
        assert_eq!(n.live_mappings(t), 2);
    }

    #[test]
    fn filtering_rules() {
        let t = start();
        let x = addr("10.0.0.2:5000");
        let y = addr("198.51.100.1:3478");
        for (config, same_ip_other_port, other_ip) in [
            (NatConfig::full_cone(), true, true),
            (NatConfig::address_restricted(), true, false),
            (NatConfig::port_restricted(), false, false),
        ] {
            let mut n = nat(config);
            assert_eq!(
                n.inbound(y, 5000, t),
                Err(DropReason::Filtered),
                "nothing mapped yet"
            );
            let ext = n.outbound(x, y, t).unwrap();
            assert_eq!(n.inbound(y, ext.port(), t), Ok(x));
            assert_eq!(
                n.inbound(addr("198.51.100.1:9"), ext.port(), t).is_ok(),
                same_ip_other_port
            );
            assert_eq!(n.inbound(addr("192.0.2.7:3478"), ext.port(), t).is_ok(), other_ip);
        }
    }

    #[test]
    fn mapping_expires_without_outbound_refresh() {
        let t = start();
        let x = addr("10.0.0.2:5000");
        let y = addr("198.51.100.1:3478");
        let mut n = nat(NatConfig {
            mapping_timeout: Duration::from_secs(30),
            ..NatConfig::full_cone()
        });
        let ext = n.outbound(x, y, t).unwrap();
        // Inbound does not refresh by default.
        assert!(n.inbound(y, ext.port(), t + Duration::from_secs(29)).is_ok());
        assert_eq!(n.live_mappings(t + Duration::from_secs(30)), 0);
        assert_eq!(
            n.inbound(y, ext.port(), t + Duration::from_secs(30)),
            Err(DropReason::Filtered)
        );

        let mut n = nat(NatConfig {
            inbound_refresh: true,
            ..n.config.clone()
        });
        let ext = n.outbound(x, y, t).unwrap();
        assert!(n.inbound(y, ext.port(), t + Duration::from_secs(29)).is_ok());
        assert!(n.inbound(y, ext.port(), t + Duration::from_secs(58)).is_ok());
    }

    #[test]
    fn taken_port_is_not_preserved() {
        let t = start();
        let y = addr("198.51.100.1:3478");
        let mut n = nat(NatConfig::full_cone());
        let a = n.outbound(addr("10.0.0.2:5000"), y, t).unwrap();
        let b = n.outbound(addr("10.0.0.3:5000"), y, t).unwrap();
        assert_eq!(a.port(), 5000);
        assert_ne!(b.port(), 5000);
        let mut n = nat(NatConfig {
            port_preservation: false,
            ..NatConfig::full_cone()
        });
        assert!(n.outbound(addr("10.0.0.2:5000"), y, t).is_ok());
    }

    #[test]
    fn forgotten_mappings_filter_the_old_port_and_remap_on_the_next_packet() {
        let t = start();
        let (internal, y) = (addr("10.0.0.2:5000"), addr("198.51.100.1:3478"));
        let mut n = nat(NatConfig {
            port_preservation: false,
            ..NatConfig::symmetric()
        });
        let old = n.outbound(internal, y, t).unwrap();
        assert_eq!(n.inbound(y, old.port(), t), Ok(internal));
        n.forget_mappings();
        assert_eq!(n.live_mappings(t), 0);
        assert_eq!(n.inbound(y, old.port(), t), Err(DropReason::Filtered));
        let new = n.outbound(internal, y, t).unwrap();
        assert_ne!(new.port(), old.port());
        assert_eq!(n.inbound(y, new.port(), t), Ok(internal));
    }
}
