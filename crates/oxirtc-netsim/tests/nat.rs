//! NAT types seen from outside, STUN style: a client behind the NAT asks echo servers which address they
//! see (mapping, RFC 4787 §4.1), then strangers try to get in (filtering, §5), then mappings age (§4.3).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{addr, dgram, drain, start};
use oxirtc_netsim::{Datagram, HostId, LinkConfig, MappingBehavior, NatConfig, NatId, Network};

const CLIENT: &str = "192.168.1.2:5000";
const NAT_IP: [u8; 4] = [203, 0, 113, 1];
const S1: &str = "198.51.100.1:3478";
const S1_OTHER_PORT: &str = "198.51.100.1:9999";
const S2: &str = "198.51.100.2:3478";
const STRANGER: &str = "192.0.2.9:4444";

struct Setup {
    net: Network,
    t0: Instant,
    nat: NatId,
    client: HostId,
}

fn setup(config: NatConfig) -> Setup {
    let t0 = start();
    let mut net = Network::new(99, t0);
    let nat = net.add_nat(NAT_IP.into(), config);
    let link = LinkConfig::with_delay(Duration::from_millis(10));
    let client = net.add_host([192, 168, 1, 2].into(), Some(nat), link.clone());
    for ip in [[198, 51, 100, 1], [198, 51, 100, 2], [192, 0, 2, 9]] {
        net.add_host(ip.into(), None, link.clone());
    }
    Setup { net, t0, nat, client }
}

/// The client asks the echo server at `server` what source it sees; the server answers from the same
/// address. `None` if the answer did not come back.
fn reflexive(s: &mut Setup, now: Instant, server: &str) -> Option<SocketAddr> {
    s.net.send(now, dgram(CLIENT, server, b"who am i"));
    let requests = drain(&mut s.net, now);
    let [(at, _, request)] = requests.as_slice() else {
        panic!("request lost: {requests:?}")
    };
    let seen = request.source.to_string();
    s.net.send(
        *at,
        Datagram {
            source: addr(server),
            destination: request.source,
            payload: seen.into(),
        },
    );
    let answers = drain(&mut s.net, *at);
    let (_, host, answer) = answers.first()?;
    assert_eq!(*host, s.client);
    assert_eq!(
        answer.source,
        addr(server),
        "the client sees the server's real address"
    );
    Some(
        String::from_utf8(answer.payload.clone())
            .ok()?
            .parse()
            .expect("address"),
    )
}

/// Does a packet from `from` to the client's mapped address get in?
fn gets_in(s: &mut Setup, now: Instant, from: &str, mapped: SocketAddr) -> bool {
    s.net.send(
        now,
        Datagram {
            source: addr(from),
            destination: mapped,
            payload: b"hello".to_vec(),
        },
    );
    let got = drain(&mut s.net, now);
    if let Some((_, host, d)) = got.first() {
        assert_eq!(
            (*host, d.destination),
            (s.client, addr(CLIENT)),
            "translated to the client"
        );
        assert_eq!(d.source, addr(from));
    }
    !got.is_empty()
}

#[test]
fn full_cone_maps_once_and_admits_anyone() {
    let mut s = setup(NatConfig::full_cone());
    let t = s.t0;
    let unmapped = SocketAddr::new(NAT_IP.into(), 5000);
    assert!(
        !gets_in(&mut s, t, STRANGER, unmapped),
        "nothing gets in before a mapping exists"
    );
    assert_eq!(s.net.stats().dropped_filtered, 1);
    let m1 = reflexive(&mut s, t, S1).expect("answer");
    let m2 = reflexive(&mut s, t, S2).expect("answer");
    assert_eq!(m1, SocketAddr::new(NAT_IP.into(), 5000), "port preserved");
    assert_eq!(m1, m2, "endpoint-independent mapping");
    assert_eq!(s.net.nat_mappings(s.nat), 1);
    assert!(gets_in(&mut s, t, S1_OTHER_PORT, m1));
    assert!(gets_in(&mut s, t, STRANGER, m1));
}

#[test]
fn address_restricted_needs_a_known_ip() {
    let mut s = setup(NatConfig::address_restricted());
    let t = s.t0;
    let m1 = reflexive(&mut s, t, S1).expect("answer");
    assert_eq!(reflexive(&mut s, t, S2), Some(m1), "endpoint-independent mapping");
    assert!(gets_in(&mut s, t, S1_OTHER_PORT, m1), "known IP, any port");
    assert!(!gets_in(&mut s, t, STRANGER, m1), "unknown IP");
    assert_eq!(s.net.stats().dropped_filtered, 1);
}

#[test]
fn port_restricted_needs_a_known_ip_and_port() {
    let mut s = setup(NatConfig::port_restricted());
    let t = s.t0;
    let m1 = reflexive(&mut s, t, S1).expect("answer");
    assert_eq!(reflexive(&mut s, t, S2), Some(m1), "endpoint-independent mapping");
    assert!(gets_in(&mut s, t, S1, m1));
    assert!(!gets_in(&mut s, t, S1_OTHER_PORT, m1), "known IP, unknown port");
    assert!(!gets_in(&mut s, t, STRANGER, m1));
    assert_eq!(s.net.stats().dropped_filtered, 2);
}

#[test]
fn symmetric_maps_per_destination() {
    let mut s = setup(NatConfig::symmetric());
    let t = s.t0;
    let m1 = reflexive(&mut s, t, S1).expect("answer");
    let m2 = reflexive(&mut s, t, S2).expect("answer");
    assert_ne!(m1.port(), m2.port(), "address-and-port-dependent mapping");
    assert_eq!(
        reflexive(&mut s, t, S1),
        Some(m1),
        "reused toward the same destination"
    );
    assert_eq!(s.net.nat_mappings(s.nat), 2);
    assert_eq!(s.net.nat_mapping(s.nat, addr(CLIENT), addr(S2)), Some(m2));
    // S2 may not use the mapping made for S1, nor S1 from another port.
    assert!(!gets_in(&mut s, t, S2, m1));
    assert!(!gets_in(&mut s, t, S1_OTHER_PORT, m1));
    assert!(gets_in(&mut s, t, S1, m1));
}

#[test]
fn address_dependent_mapping_ignores_the_port() {
    let config = NatConfig {
        mapping: MappingBehavior::AddressDependent,
        ..NatConfig::full_cone()
    };
    let mut s = setup(config);
    let t = s.t0;
    let m1 = reflexive(&mut s, t, S1).expect("answer");
    let m1_other_port = reflexive(&mut s, t, "198.51.100.1:3479").expect("answer");
    let m2 = reflexive(&mut s, t, S2).expect("answer");
    assert_eq!(m1, m1_other_port);
    assert_ne!(m1, m2);
}

#[test]
fn idle_mapping_expires_outbound_refreshes_inbound_does_not() {
    let config = NatConfig {
        mapping_timeout: Duration::from_secs(30),
        ..NatConfig::full_cone()
    };
    let mut s = setup(config);
    let t0 = s.t0;
    let secs = |n| t0 + Duration::from_secs(n);
    let m = reflexive(&mut s, t0, S1).expect("answer");
    // Inbound traffic at 20 s gets in but does not refresh the mapping (RFC 4787 §4.3 REQ-6).
    assert!(gets_in(&mut s, secs(20), S1, m));
    assert_eq!(s.net.nat_mappings(s.nat), 1);
    assert!(!gets_in(&mut s, secs(31), S1, m), "idle for 30 s: expired");
    assert_eq!(s.net.nat_mappings(s.nat), 0);

    // Outbound keepalives keep it alive well past the timeout.
    let m = reflexive(&mut s, secs(40), S1).expect("answer");
    for k in 1..=5 {
        assert_eq!(
            reflexive(&mut s, secs(40 + 25 * k), S1),
            Some(m),
            "refreshed by outbound"
        );
    }
    assert!(gets_in(&mut s, secs(40 + 125 + 29), STRANGER, m));
    assert!(!gets_in(&mut s, secs(40 + 125 + 31), STRANGER, m));
}

#[test]
fn inbound_refresh_when_configured() {
    let config = NatConfig {
        mapping_timeout: Duration::from_secs(30),
        inbound_refresh: true,
        ..NatConfig::full_cone()
    };
    let mut s = setup(config);
    let t0 = s.t0;
    let m = reflexive(&mut s, t0, S1).expect("answer");
    for k in 1..=5 {
        assert!(
            gets_in(&mut s, t0 + Duration::from_secs(25 * k), S1, m),
            "refreshed by inbound"
        );
    }
}

#[test]
fn expired_mapping_is_replaced_by_a_fresh_one() {
    let config = NatConfig {
        mapping_timeout: Duration::from_secs(30),
        port_preservation: false,
        ..NatConfig::port_restricted()
    };
    let mut s = setup(config);
    let t0 = s.t0;
    let before = reflexive(&mut s, t0, S1).expect("answer");
    let after = reflexive(&mut s, t0 + Duration::from_secs(60), S1).expect("answer");
    assert_ne!(before, after, "a new random port once the old mapping expired");
    assert!(after.port() >= 1024);
    assert!(
        !gets_in(&mut s, t0 + Duration::from_secs(60), S1, before),
        "the old one is gone"
    );
}
