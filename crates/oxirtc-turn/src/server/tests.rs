//! Unit tests of the server core: every RFC 8656 error path and the peer-address policy table.
#![allow(clippy::disallowed_methods)] // tests own the clock

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_stun::{
    long_term_key, AddressFamily, AttrType, Attribute, Class, Message, MessageEncoder, Method,
    PasswordAlgorithm, TransactionId,
};

use super::*;
use crate::{rest_password, ChannelNumber, Credentials, PeerPolicy};

const REALM: &str = "test.realm";
const CLIENT: &str = "203.0.113.5:40000";
const LISTEN: &str = "198.51.100.1:3478";
const RELAY_V4: &str = "198.51.100.1";
const RELAY_V6: &str = "2001:db8::1";
const PEER: &str = "192.0.2.77:5000";

type Sent = (SocketAddr, SocketAddr, Transport, Vec<u8>);

struct H {
    s: TurnServer,
    now: Instant,
    tuple: FiveTuple,
    nonce: String,
    user: String,
    pass: String,
    rng: SecureRng,
}

fn config() -> ServerConfig {
    ServerConfig {
        realm: REALM.into(),
        credentials: Credentials::new()
            .user("alice", "pw")
            .user("bob", "pw2")
            .rest_secret(b"sekrit"),
        relay_ips: vec![RELAY_V4.parse().unwrap(), RELAY_V6.parse().unwrap()],
        min_port: 50000,
        max_port: 50009,
        unix_time_at_start: 1_000_000,
        ..ServerConfig::default()
    }
}

impl H {
    fn new(config: ServerConfig) -> H {
        let now = Instant::now();
        H {
            s: TurnServer::new(config, default_provider(), SecureRng::from_seed([3; 32]), now),
            now,
            tuple: FiveTuple {
                client: CLIENT.parse().unwrap(),
                server: LISTEN.parse().unwrap(),
                transport: Transport::Udp,
            },
            nonce: String::new(),
            user: "alice".into(),
            pass: "pw".into(),
            rng: SecureRng::from_seed([9; 32]),
        }
    }

    fn drain(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        while let Some(t) = self.s.poll_transmit() {
            out.push((t.source, t.destination, t.transport, t.contents.to_vec()));
        }
        out
    }

    /// Encodes a request; `auth` adds USERNAME/REALM/NONCE/MESSAGE-INTEGRITY with the current creds.
    fn build(&mut self, class: Class, method: Method, attrs: &[Attribute<'_>], auth: bool) -> Vec<u8> {
        let mut buf = Vec::new();
        let tid = TransactionId::random(&mut self.rng);
        let key = long_term_key(
            default_provider(),
            &self.user,
            REALM,
            &self.pass,
            PasswordAlgorithm::Md5,
        );
        let mut enc = MessageEncoder::new(&mut buf, class, method, tid);
        for a in attrs {
            enc.add(a);
        }
        if auth {
            enc.add(&Attribute::Username(&self.user))
                .add(&Attribute::Realm(REALM))
                .add(&Attribute::Nonce(&self.nonce))
                .add_message_integrity(default_provider(), &key);
        }
        enc.add_fingerprint();
        buf
    }

    fn send(&mut self, bytes: &[u8]) -> Vec<Sent> {
        self.s.handle_receive(self.now, self.tuple, bytes);
        self.drain()
    }

    /// Sends an authenticated request (fetching a nonce first if needed); returns the one response.
    fn request(&mut self, method: Method, attrs: &[Attribute<'_>]) -> Vec<u8> {
        if self.nonce.is_empty() {
            self.fetch_nonce();
        }
        let req = self.build(Class::Request, method, attrs, true);
        let mut out = self.send(&req);
        assert_eq!(out.len(), 1, "exactly one response");
        out.remove(0).3
    }

    fn fetch_nonce(&mut self) {
        let req = self.build(
            Class::Request,
            Method::ALLOCATE,
            &[
                Attribute::RequestedTransport(17),
                Attribute::Software("a test client of decent length"),
            ],
            false,
        );
        let out = self.send(&req);
        let msg = Message::parse(&out[0].3).unwrap();
        assert_eq!(msg.error_code().unwrap().code, 401);
        assert_eq!(msg.realm(), Some(REALM));
        self.nonce = msg.nonce().unwrap().to_owned();
    }

    fn allocate(&mut self) -> SocketAddr {
        let resp = self.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)]);
        let msg = Message::parse(&resp).unwrap();
        assert_eq!(msg.class(), Class::Success, "{:?}", msg.error_code());
        msg.xor_relayed_address().unwrap()
    }

    fn allocate_v6(&mut self) -> SocketAddr {
        let resp = self.request(
            Method::ALLOCATE,
            &[
                Attribute::RequestedTransport(17),
                Attribute::RequestedAddressFamily(AddressFamily::V6),
            ],
        );
        Message::parse(&resp).unwrap().xor_relayed_address().unwrap()
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        while let Some(t) = self.s.poll_timeout() {
            if t > self.now {
                break;
            }
            self.s.handle_timeout(t.max(self.now - d));
            if self.s.poll_timeout() == Some(t) {
                self.s.handle_timeout(self.now);
                break;
            }
        }
        self.s.handle_timeout(self.now);
    }
}

fn code(resp: &[u8]) -> u16 {
    Message::parse(resp).unwrap().error_code().map_or(0, |e| e.code)
}

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

#[test]
fn binding_is_served_on_the_turn_port() {
    let mut h = H::new(config());
    let req = h.build(Class::Request, Method::BINDING, &[], false);
    let out = h.send(&req);
    let msg = Message::parse(&out[0].3).unwrap();
    assert_eq!(msg.class(), Class::Success);
    assert_eq!(msg.xor_mapped_address(), Some(h.tuple.client));
    assert!(msg.other_address().is_none());
    // CHANGE-REQUEST without a second address: 420.
    let req = h.build(
        Class::Request,
        Method::BINDING,
        &[Attribute::ChangeRequest {
            change_ip: true,
            change_port: false,
        }],
        false,
    );
    assert_eq!(code(&h.send(&req)[0].3), 420);
}

#[test]
fn binding_rfc5780_other_address_and_change_request() {
    let alt: SocketAddr = "198.51.100.2:3479".parse().unwrap();
    let mut h = H::new(ServerConfig {
        alternate: Some((LISTEN.parse().unwrap(), alt)),
        ..config()
    });
    let req = h.build(
        Class::Request,
        Method::BINDING,
        &[Attribute::ChangeRequest {
            change_ip: true,
            change_port: true,
        }],
        false,
    );
    let out = h.send(&req);
    assert_eq!(out[0].0, alt, "sent from the alternate address");
    let msg = Message::parse(&out[0].3).unwrap();
    assert_eq!(msg.other_address(), Some(alt));
    assert_eq!(msg.response_origin(), Some(alt));
    // Change the port only; then a request that arrived on the alternate address.
    let req = h.build(
        Class::Request,
        Method::BINDING,
        &[Attribute::ChangeRequest {
            change_ip: false,
            change_port: true,
        }],
        false,
    );
    assert_eq!(h.send(&req)[0].0, "198.51.100.1:3479".parse().unwrap());
    h.tuple.server = alt;
    let req = h.build(Class::Request, Method::BINDING, &[], false);
    let out = h.send(&req);
    assert_eq!(out[0].0, alt);
    assert_eq!(
        Message::parse(&out[0].3).unwrap().other_address(),
        Some(LISTEN.parse().unwrap())
    );
}

#[test]
fn allocate_401_then_success_with_mapped_address_and_event() {
    let mut h = H::new(config());
    let relay = h.allocate();
    assert_eq!(relay.ip().to_string(), RELAY_V4);
    assert!((50000..=50009).contains(&relay.port()));
    match h.s.poll_event() {
        Some(ServerEvent::AllocationCreated {
            relay: r, username, ..
        }) => {
            assert_eq!(r, relay);
            assert_eq!(username, "alice");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.s.allocation_count(), 1);
}

#[test]
fn success_response_is_signed_and_carries_lifetime() {
    let mut h = H::new(config());
    let resp = h.request(
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::Lifetime(99_999)],
    );
    let msg = Message::parse(&resp).unwrap();
    let key = long_term_key(default_provider(), "alice", REALM, "pw", PasswordAlgorithm::Md5);
    msg.verify_integrity(default_provider(), &key).unwrap();
    assert_eq!(msg.lifetime(), Some(3600), "clamped to the maximum");
    assert_eq!(msg.xor_mapped_address(), Some(h.tuple.client));
}

#[test]
fn size_rule_zero_never_answers_larger_than_the_request() {
    let mut h = H::new(ServerConfig {
        unauth_size_slack: Some(0),
        ..config()
    });
    let tiny = h.build(
        Class::Request,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
        false,
    );
    assert!(
        h.send(&tiny).is_empty(),
        "a 401 would be larger than this request"
    );
    assert_eq!(h.s.stats().dropped_unauth_too_small, 1);
    assert_eq!(h.s.stats().dropped_unauth_limited, 0, "not a rate-limit drop");
    let req = h.build(
        Class::Request,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::Software("padding padding padding padding!"),
        ],
        false,
    );
    let out = h.send(&req);
    assert!(out[0].3.len() <= req.len());
    assert_eq!(h.s.stats().dropped_unauth_too_small, 1, "answered, not counted");
}

#[test]
fn size_slack_serves_small_first_allocates() {
    // A browser-sized first Allocate (REQUESTED-TRANSPORT only, 28 bytes) gets its 401 with slack 64.
    let mut h = H::new(ServerConfig {
        unauth_size_slack: Some(64),
        ..config()
    });
    let tiny = h.build(
        Class::Request,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
        false,
    );
    let out = h.send(&tiny);
    assert_eq!(out.len(), 1);
    assert!(out[0].3.len() > tiny.len() && out[0].3.len() <= tiny.len() + 64);
    assert_eq!(h.s.stats().dropped_unauth_too_small, 0);
}

/// First Allocates as the real clients send them, captured on loopback (a UDP proxy logging every
/// datagram without MESSAGE-INTEGRITY in front of `oxirtc turn`): Chromium 156 (relay-only
/// RTCPeerConnection) and coturn 4.6.1's turnutils_uclient (`-y`: 52, RTCP with RESERVATION-TOKEN: 56,
/// default with EVEN-PORT and REQUESTED-ADDRESS-FAMILY: 60).
const REAL_FIRST_ALLOCATES: [(&str, &str); 4] = [
    (
        "chromium",
        "000300082112a4424c546e4a4d58684e475435490019000411000000",
    ),
    (
        "uclient -y",
        "000300202112a4424b1e1d5c2cda6fd8c49657400019000411000000000d00040000030900180001800000008028000425d71c1f",
    ),
    (
        "uclient rtcp",
        "000300242112a442ca8ea610c96795b22ec58fae0019000411000000000d00040000030900220008798b978b2561944a8028000430cfff4f",
    ),
    (
        "uclient",
        "000300282112a4426feb5e89f2c6eb2f07d011d20019000411000000000d00040000030900180001800000000017000401000000802800046fc7c7c4",
    ),
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The configuration `oxirtc turn --user u:p` builds: default realm, SOFTWARE set, no size rule.
fn default_daemon_config() -> ServerConfig {
    ServerConfig {
        credentials: Credentials::new().user("u", "p"),
        relay_ips: vec![RELAY_V4.parse().unwrap()],
        software: "oxirtc".into(),
        ..ServerConfig::default()
    }
}

#[test]
fn real_first_allocates_of_browsers_and_uclient_get_their_401_by_default() {
    let config = default_daemon_config();
    let expected = config.unauthenticated_response_len();
    assert_eq!(
        expected, 56,
        "20 header + 8 ERROR-CODE + 12 REALM \"oxirtc\" + 16 NONCE"
    );
    let mut h = H::new(config);
    for (who, hex) in REAL_FIRST_ALLOCATES {
        let req = unhex(hex);
        let parsed = Message::parse(&req).unwrap();
        assert!(!parsed.has_message_integrity(), "{who}: captured unauthenticated");
        let out = h.send(&req);
        assert_eq!(
            out.len(),
            1,
            "{who}'s {}-byte first Allocate got no answer",
            req.len()
        );
        let (source, destination, _, resp) = &out[0];
        assert_eq!((*source, *destination), (h.tuple.server, h.tuple.client));
        let msg = Message::parse(resp).unwrap();
        assert_eq!(msg.class(), Class::Error, "{who}");
        assert_eq!(msg.transaction_id(), parsed.transaction_id(), "{who}");
        assert_eq!(msg.error_code().unwrap().code, 401, "{who}");
        assert_eq!(msg.realm(), Some("oxirtc"), "{who}");
        assert_eq!(msg.nonce().map(str::len), Some(crate::auth::NONCE_LEN), "{who}");
        // Nothing optional: no SOFTWARE, no FINGERPRINT (the request has one; uclient's do).
        assert!(msg.attribute(AttrType::SOFTWARE).is_none(), "{who}");
        assert!(!msg.has_fingerprint(), "{who}");
        assert_eq!(resp.len(), expected, "{who}");
    }
    assert_eq!(h.s.stats().dropped_unauth_too_small, 0);
    assert_eq!(h.s.stats().error_responses, REAL_FIRST_ALLOCATES.len() as u64);
}

#[test]
fn worst_case_amplification_is_the_401_over_a_bare_header() {
    // The smallest request that gets a 401 is a bare 20-byte STUN header; its 401 is
    // `unauthenticated_response_len` bytes, for any realm length.
    for realm in ["oxirtc", "a", "turn.example.org", &"r".repeat(127)] {
        let config = ServerConfig {
            realm: realm.into(),
            ..default_daemon_config()
        };
        let expected = config.unauthenticated_response_len();
        let mut h = H::new(config);
        let mut bare = Vec::new();
        MessageEncoder::new(
            &mut bare,
            Class::Request,
            Method::ALLOCATE,
            TransactionId([4; 12]),
        );
        assert_eq!(bare.len(), 20);
        let out = h.send(&bare);
        assert_eq!(out.len(), 1, "realm {realm:?}");
        assert_eq!(out[0].3.len(), expected, "realm {realm:?}");
        // docs/turn.md: 48 + the realm length rounded up to 4.
        assert_eq!(expected, 48 + realm.len().div_ceil(4) * 4, "realm {realm:?}");
    }
}

#[test]
fn unauthenticated_responses_are_rate_limited_per_source() {
    let mut h = H::new(ServerConfig {
        unauth_responses_per_second: 3,
        ..config()
    });
    let req = h.build(
        Class::Request,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::Software("padding padding padding padding!"),
        ],
        false,
    );
    let answered: usize = (0..10).map(|_| h.send(&req).len()).sum();
    assert_eq!(answered, 3);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.send(&req).len(), 1, "the window slid");
    // Another source is not affected.
    h.tuple.client = "203.0.113.6:1".parse().unwrap();
    assert_eq!(h.send(&req).len(), 1);
}

#[test]
fn wrong_password_gets_401() {
    let mut h = H::new(config());
    h.pass = "wrong".into();
    let resp = h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)]);
    assert_eq!(code(&resp), 401);
    assert_eq!(h.s.allocation_count(), 0);
    assert!(h.s.stats().auth_failures >= 1);
}

#[test]
fn stale_nonce_gets_438_with_a_fresh_nonce() {
    let mut h = H::new(ServerConfig {
        nonce_lifetime: Duration::from_secs(60),
        ..config()
    });
    h.fetch_nonce();
    h.advance(Duration::from_secs(61));
    let resp = h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)]);
    assert_eq!(code(&resp), 438);
    let fresh = Message::parse(&resp).unwrap().nonce().unwrap().to_owned();
    assert_ne!(fresh, h.nonce);
    h.nonce = fresh;
    h.allocate();
}

#[test]
fn missing_or_unsupported_requested_transport() {
    let mut h = H::new(config());
    assert_eq!(code(&h.request(Method::ALLOCATE, &[])), 400);
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(6)])),
        442
    );
}

#[test]
fn missing_username_with_integrity_is_400() {
    let mut h = H::new(config());
    let key = long_term_key(default_provider(), "alice", REALM, "pw", PasswordAlgorithm::Md5);
    let mut buf = Vec::new();
    MessageEncoder::new(&mut buf, Class::Request, Method::ALLOCATE, TransactionId([1; 12]))
        .add(&Attribute::RequestedTransport(17))
        .add_message_integrity(default_provider(), &key);
    assert_eq!(code(&h.send(&buf)[0].3), 400);
}

#[test]
fn unknown_comprehension_required_attribute_is_420() {
    let mut h = H::new(config());
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::Unknown {
                ty: AttrType(0x7777),
                value: b"x",
            },
        ],
    );
    assert_eq!(code(&resp), 420);
    let resp = h.request(
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::DontFragment],
    );
    assert_eq!(code(&resp), 420, "DONT-FRAGMENT is unsupported");
}

#[test]
fn second_allocate_on_the_same_five_tuple_is_437_but_retransmission_succeeds() {
    let mut h = H::new(config());
    h.fetch_nonce();
    let req = h.build(
        Class::Request,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
        true,
    );
    let first = h.send(&req);
    let again = h.send(&req);
    assert_eq!(
        Message::parse(&first[0].3).unwrap().xor_relayed_address(),
        Message::parse(&again[0].3).unwrap().xor_relayed_address()
    );
    assert_eq!(h.s.allocation_count(), 1);
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        437
    );
}

#[test]
fn requests_without_allocation_are_437() {
    let mut h = H::new(config());
    assert_eq!(code(&h.request(Method::REFRESH, &[])), 437);
    assert_eq!(
        code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(peer())])),
        437
    );
}

#[test]
fn without_relay_ips_the_relay_is_on_the_ip_the_client_reached() {
    let mut h = H::new(ServerConfig {
        relay_ips: Vec::new(),
        ..config()
    });
    let relay = h.allocate();
    assert_eq!(relay.ip(), h.tuple.server.ip());
    assert!((50000..=50009).contains(&relay.port()));
    // Another client reaching another address of the server is relayed there.
    h.tuple.client = "203.0.113.5:40001".parse().unwrap();
    h.tuple.server = "192.0.2.200:3478".parse().unwrap();
    h.nonce.clear();
    assert_eq!(h.allocate().ip(), h.tuple.server.ip());
    // IPv6 asked by a client that reached an IPv4 address: no IPv6 relay (RFC 8656 §7.2 item 7).
    h.tuple.client = "203.0.113.5:40002".parse().unwrap();
    h.nonce.clear();
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::RequestedAddressFamily(AddressFamily::V6),
        ],
    );
    assert_eq!(code(&resp), 440);
    // A wildcard server address (a runtime that could not tell the destination) relays nowhere.
    h.tuple.server = "0.0.0.0:3478".parse().unwrap();
    let resp = h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)]);
    assert_eq!(code(&resp), 440);
    assert_eq!(h.s.allocation_count(), 2);
}

#[test]
fn unsupported_address_family_is_440() {
    let mut h = H::new(ServerConfig {
        relay_ips: vec![RELAY_V4.parse().unwrap()],
        ..config()
    });
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::RequestedAddressFamily(AddressFamily::V6),
        ],
    );
    assert_eq!(code(&resp), 440);
    // Dual-stack request: IPv4 granted, IPv6 refused inside the success.
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::AdditionalAddressFamily(AddressFamily::V6),
        ],
    );
    let msg = Message::parse(&resp).unwrap();
    assert_eq!(msg.class(), Class::Success);
    assert!(matches!(
        msg.attribute(AttrType::ADDRESS_ERROR_CODE),
        Some(Ok(Attribute::AddressErrorCode { code: 440, .. }))
    ));
}

#[test]
fn conflicting_family_attributes_are_400() {
    let mut h = H::new(config());
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::RequestedAddressFamily(AddressFamily::V4),
            Attribute::AdditionalAddressFamily(AddressFamily::V6),
        ],
    );
    assert_eq!(code(&resp), 400);
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::AdditionalAddressFamily(AddressFamily::V4),
        ],
    );
    assert_eq!(code(&resp), 400);
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken([1; 8]),
        ],
    );
    assert_eq!(code(&resp), 508, "unknown reservation token");
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken([1; 8]),
            Attribute::EvenPort(false),
        ],
    );
    assert_eq!(code(&resp), 400);
}

#[test]
fn other_username_on_the_allocation_is_441() {
    let mut h = H::new(config());
    h.allocate();
    h.user = "bob".into();
    h.pass = "pw2".into();
    assert_eq!(code(&h.request(Method::REFRESH, &[])), 441);
}

#[test]
fn quotas_are_486() {
    let mut h = H::new(ServerConfig {
        max_allocations_per_user: 1,
        ..config()
    });
    h.allocate();
    h.tuple.client = "203.0.113.5:40001".parse().unwrap();
    h.fetch_nonce();
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        486
    );
    h.user = "bob".into();
    h.pass = "pw2".into();
    h.allocate();
    let mut h = H::new(ServerConfig {
        max_allocations: 1,
        ..config()
    });
    h.allocate();
    h.tuple.client = "203.0.113.5:40001".parse().unwrap();
    h.fetch_nonce();
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        486
    );
}

#[test]
fn port_exhaustion_and_draining_are_508() {
    let mut h = H::new(ServerConfig {
        min_port: 50000,
        max_port: 50001,
        ..config()
    });
    for port in 1..=2 {
        h.tuple.client.set_port(port);
        h.fetch_nonce();
        h.allocate();
    }
    h.tuple.client.set_port(3);
    h.fetch_nonce();
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        508
    );
    let mut h = H::new(config());
    h.s.set_draining(true);
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        508
    );
    assert_eq!(
        code(&h.request(
            Method::ALLOCATE,
            &[Attribute::RequestedTransport(17), Attribute::EvenPort(true)]
        )),
        508
    );
}

#[test]
fn create_permission_validation() {
    let mut h = H::new(config());
    h.allocate();
    assert_eq!(code(&h.request(Method::CREATE_PERMISSION, &[])), 400);
    let v6: SocketAddr = "[2001:db8::99]:1".parse().unwrap();
    assert_eq!(
        code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(v6)])),
        443
    );
    assert_eq!(
        code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(peer())])),
        0
    );
}

#[test]
fn permission_capacity_is_508() {
    let mut h = H::new(ServerConfig {
        max_permissions: 2,
        ..config()
    });
    h.allocate();
    for i in 1..=2 {
        let p = SocketAddr::new(format!("192.0.2.{i}").parse().unwrap(), 1);
        assert_eq!(
            code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(p)])),
            0
        );
    }
    let p: SocketAddr = "192.0.2.3:1".parse().unwrap();
    assert_eq!(
        code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(p)])),
        508
    );
}

#[test]
fn channel_bind_validation() {
    let mut h = H::new(config());
    h.allocate();
    let bind = |h: &mut H, n: u16, p: SocketAddr| {
        code(&h.request(
            Method::CHANNEL_BIND,
            &[Attribute::ChannelNumber(n), Attribute::XorPeerAddress(p)],
        ))
    };
    assert_eq!(
        code(&h.request(Method::CHANNEL_BIND, &[Attribute::ChannelNumber(0x4000)])),
        400
    );
    assert_eq!(bind(&mut h, 0x3FFF, peer()), 400);
    assert_eq!(bind(&mut h, 0x8000, peer()), 400);
    assert_eq!(bind(&mut h, 0x4000, peer()), 0);
    assert_eq!(bind(&mut h, 0x4000, peer()), 0, "refresh is fine");
    assert_eq!(
        bind(&mut h, 0x4001, peer()),
        400,
        "peer already on another channel"
    );
    assert_eq!(
        bind(&mut h, 0x4000, "192.0.2.78:1".parse().unwrap()),
        400,
        "channel taken"
    );
    assert_eq!(bind(&mut h, 0x4002, "[2001:db8::5]:1".parse().unwrap()), 443);
}

/// The issue's policy table: every denied form → 403 on CreatePermission and ChannelBind, and a Send
/// indication to it is dropped (and counted).
#[test]
fn policy_table_denies_every_form_on_every_path() {
    let mut h4 = H::new(config());
    h4.allocate();
    let mut h6 = H::new(config());
    h6.tuple.client.set_port(1234);
    h6.allocate_v6();
    for (i, s) in crate::policy::tests::DENIED.iter().enumerate() {
        let peer = SocketAddr::new(s.parse().unwrap(), 5000);
        let h = if peer.is_ipv4() { &mut h4 } else { &mut h6 };
        assert_eq!(
            code(&h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(peer)])),
            403,
            "{s}"
        );
        let ch = 0x4000 + i as u16;
        let resp = h.request(
            Method::CHANNEL_BIND,
            &[Attribute::ChannelNumber(ch), Attribute::XorPeerAddress(peer)],
        );
        assert_eq!(code(&resp), 403, "{s}");
        let before = h.s.stats().denied_peers;
        let send = h.build(
            Class::Indication,
            Method::SEND,
            &[Attribute::XorPeerAddress(peer), Attribute::Data(b"x")],
            false,
        );
        assert!(h.send(&send).is_empty(), "{s}");
        assert_eq!(h.s.stats().denied_peers, before + 1, "{s}");
    }
}

#[test]
fn loopback_switch_and_allow_list_open_the_policy() {
    let policy = PeerPolicy::default()
        .allow_loopback(true)
        .allow("10.0.0.0/8".parse().unwrap());
    let mut h = H::new(ServerConfig {
        peer_policy: policy,
        ..config()
    });
    h.allocate();
    for p in ["127.0.0.1:1", "10.9.9.9:1"] {
        assert_eq!(
            code(&h.request(
                Method::CREATE_PERMISSION,
                &[Attribute::XorPeerAddress(p.parse().unwrap())]
            )),
            0
        );
    }
    assert_eq!(
        code(&h.request(
            Method::CREATE_PERMISSION,
            &[Attribute::XorPeerAddress("192.168.0.1:1".parse().unwrap())]
        )),
        403
    );
}

#[test]
fn send_and_data_indications_relay_both_ways_only_with_permission() {
    let mut h = H::new(config());
    let relay = h.allocate();
    let send = h.build(
        Class::Indication,
        Method::SEND,
        &[Attribute::XorPeerAddress(peer()), Attribute::Data(b"hello")],
        false,
    );
    assert!(h.send(&send).is_empty(), "no permission yet");
    assert_eq!(h.s.stats().dropped_no_permission, 1);
    h.s.handle_relay_receive(h.now, relay, peer(), b"early");
    assert!(h.drain().is_empty());
    h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(peer())]);
    let out = h.send(&send);
    assert_eq!(out, vec![(relay, peer(), Transport::Udp, b"hello".to_vec())]);
    // Any port of the permitted IP may answer.
    let other_port: SocketAddr = "192.0.2.77:6000".parse().unwrap();
    h.s.handle_relay_receive(h.now, relay, other_port, b"back");
    let out = h.drain();
    assert_eq!((out[0].0, out[0].1), (h.tuple.server, h.tuple.client));
    let msg = Message::parse(&out[0].3).unwrap();
    assert_eq!((msg.class(), msg.method()), (Class::Indication, Method::DATA));
    assert_eq!(msg.xor_peer_address(), Some(other_port));
    assert_eq!(msg.data(), Some(&b"back"[..]));
    // Permissions last 300 s and Send does not refresh them.
    h.advance(Duration::from_secs(301));
    assert!(h.send(&send).is_empty());
}

#[test]
fn channel_data_relays_both_ways_and_is_padded_over_tcp() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut h = H::new(config());
        h.tuple.transport = transport;
        let relay = h.allocate();
        h.request(
            Method::CHANNEL_BIND,
            &[
                Attribute::ChannelNumber(0x4001),
                Attribute::XorPeerAddress(peer()),
            ],
        );
        let mut cd = Vec::new();
        ChannelData::encode(ChannelNumber::new(0x4001).unwrap(), b"abc", false, &mut cd).unwrap();
        assert_eq!(
            h.send(&cd),
            vec![(relay, peer(), Transport::Udp, b"abc".to_vec())]
        );
        h.s.handle_relay_receive(h.now, relay, peer(), b"xyz");
        let out = h.drain();
        assert_eq!(out[0].2, transport);
        let expected_len = if transport == Transport::Tcp { 8 } else { 7 };
        assert_eq!(out[0].3.len(), expected_len);
        assert_eq!(ChannelData::parse(&out[0].3).unwrap().data, b"xyz");
        // Unbound channel: dropped.
        let mut bad = Vec::new();
        ChannelData::encode(ChannelNumber::new(0x4002).unwrap(), b"abc", false, &mut bad).unwrap();
        assert!(h.send(&bad).is_empty());
        // Channels expire after 600 s.
        h.advance(Duration::from_secs(601));
        h.request(Method::REFRESH, &[]); // keep the allocation itself alive? it expires at 600 s anyway
        assert!(h.send(&cd).is_empty());
    }
}

#[test]
fn peer_data_longer_than_channel_data_can_say_is_dropped_and_counted() {
    // RFC 8656 §12.4: the ChannelData length field is 16 bits.
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut h = H::new(config());
        h.tuple.transport = transport;
        let relay = h.allocate();
        h.request(
            Method::CHANNEL_BIND,
            &[
                Attribute::ChannelNumber(0x4001),
                Attribute::XorPeerAddress(peer()),
            ],
        );
        let dropped = h.s.stats().dropped_malformed;
        h.s.handle_relay_receive(h.now, relay, peer(), &[9; 65_536]);
        assert!(h.drain().is_empty());
        assert_eq!(h.s.stats().dropped_malformed, dropped + 1);
        assert_eq!(h.s.stats().relayed_to_client_packets, 0);
        h.s.handle_relay_receive(h.now, relay, peer(), &[9; 65_535]);
        let out = h.drain();
        assert_eq!(out.len(), 1);
        assert_eq!(ChannelData::parse(&out[0].3).unwrap().data.len(), 65_535);
        // 4 header bytes + 65535, padded to 65540 over TCP (§12.5).
        let expected = if transport == Transport::Tcp {
            65_540
        } else {
            65_539
        };
        assert_eq!(out[0].3.len(), expected);
    }
}

#[test]
fn refresh_extends_and_zero_lifetime_deletes() {
    let mut h = H::new(config());
    let relay = h.allocate();
    let _ = h.s.poll_event();
    h.advance(Duration::from_secs(500));
    let resp = h.request(Method::REFRESH, &[Attribute::Lifetime(600)]);
    assert_eq!(Message::parse(&resp).unwrap().lifetime(), Some(600));
    h.advance(Duration::from_secs(500));
    assert_eq!(h.s.allocation_count(), 1, "the refresh moved the expiry");
    let resp = h.request(
        Method::REFRESH,
        &[Attribute::RequestedAddressFamily(AddressFamily::V6)],
    );
    assert_eq!(code(&resp), 443);
    let resp = h.request(Method::REFRESH, &[Attribute::Lifetime(0)]);
    assert_eq!(Message::parse(&resp).unwrap().lifetime(), Some(0));
    assert_eq!(h.s.allocation_count(), 0);
    assert_eq!(
        h.s.poll_event(),
        Some(ServerEvent::AllocationDeleted {
            tuple: h.tuple,
            relay,
            reason: DeleteReason::Deallocated
        })
    );
    assert_eq!(code(&h.request(Method::REFRESH, &[Attribute::Lifetime(0)])), 437);
}

#[test]
fn allocations_expire_on_the_timer() {
    let mut h = H::new(config());
    h.allocate();
    assert!(h.s.poll_timeout().is_some());
    h.advance(Duration::from_secs(599));
    assert_eq!(h.s.allocation_count(), 1);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.s.allocation_count(), 0);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.s.poll_timeout(), None, "idle server has no timer");
}

#[test]
fn bandwidth_quota_drops_excess() {
    let mut h = H::new(ServerConfig {
        max_bytes_per_second: 1000,
        ..config()
    });
    let relay = h.allocate();
    h.request(Method::CREATE_PERMISSION, &[Attribute::XorPeerAddress(peer())]);
    let data = [0u8; 400];
    let send = h.build(
        Class::Indication,
        Method::SEND,
        &[Attribute::XorPeerAddress(peer()), Attribute::Data(&data)],
        false,
    );
    let sent: usize = (0..5).map(|_| h.send(&send).len()).sum();
    assert_eq!(sent, 2);
    assert_eq!(h.s.stats().dropped_quota, 3);
    for _ in 0..5 {
        h.s.handle_relay_receive(h.now, relay, peer(), &data);
    }
    assert_eq!(h.drain().len(), 2, "each direction has its own budget");
}

#[test]
fn turn_rest_credentials() {
    let mut h = H::new(config());
    h.user = "1000600:carol".into();
    h.pass = rest_password(default_provider(), b"sekrit", &h.user);
    h.allocate();
    let mut h = H::new(config());
    h.user = "999999:carol".into(); // expired: unix time at start is 1 000 000
    h.pass = rest_password(default_provider(), b"sekrit", &h.user);
    assert_eq!(
        code(&h.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        401
    );
}

#[test]
fn garbage_is_counted_not_answered() {
    let mut h = H::new(config());
    for junk in [
        &b""[..],
        b"\x00",
        b"\x40\x00\x00\x10abc",
        b"\xff\xff\xff\xff",
        &[0u8; 20],
    ] {
        assert!(h.send(junk).is_empty());
    }
    assert!(h.s.stats().dropped_malformed >= 3);
    h.s.handle_relay_receive(h.now, "1.2.3.4:5".parse().unwrap(), peer(), b"x");
    assert_eq!(h.s.stats().dropped_no_allocation, 1);
}

#[test]
fn closing_the_tcp_connection_deletes_the_allocation() {
    let mut h = H::new(config());
    h.tuple.transport = Transport::Tcp;
    let relay = h.allocate();
    let _ = h.s.poll_event();
    h.s.handle_transport_closed(h.tuple);
    assert_eq!(h.s.allocation_count(), 0);
    assert_eq!(
        h.s.poll_event(),
        Some(ServerEvent::AllocationDeleted {
            tuple: h.tuple,
            relay,
            reason: DeleteReason::TransportClosed
        })
    );
}

#[test]
fn even_port_reservation_and_token() {
    let mut h = H::new(config());
    let resp = h.request(
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::EvenPort(true)],
    );
    let msg = Message::parse(&resp).unwrap();
    let relay = msg.xor_relayed_address().unwrap();
    assert_eq!(relay.port() % 2, 0);
    let Some(Ok(Attribute::ReservationToken(token))) = msg.attribute(AttrType::RESERVATION_TOKEN) else {
        panic!("no token")
    };
    // Another 5-tuple redeems the token and gets port N+1.
    h.tuple.client.set_port(1);
    h.fetch_nonce();
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(token),
        ],
    );
    let next = Message::parse(&resp).unwrap().xor_relayed_address().unwrap();
    assert_eq!(next.port(), relay.port() + 1);
    // A token works once.
    h.tuple.client.set_port(2);
    h.fetch_nonce();
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(token),
        ],
    );
    assert_eq!(code(&resp), 508);
    // Reservations expire after 30 s.
    h.tuple.client.set_port(3);
    h.fetch_nonce();
    let resp = h.request(
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::EvenPort(true)],
    );
    let Some(Ok(Attribute::ReservationToken(token))) = Message::parse(&resp)
        .unwrap()
        .attribute(AttrType::RESERVATION_TOKEN)
    else {
        panic!("no token")
    };
    h.advance(Duration::from_secs(31));
    h.tuple.client.set_port(4);
    h.fetch_nonce();
    let resp = h.request(
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(token),
        ],
    );
    assert_eq!(code(&resp), 508);
}

#[test]
fn cores_sharing_nonce_key_and_epoch_accept_each_others_nonces() {
    let shared = ServerConfig {
        nonce_key: Some([5; 32]),
        ..config()
    };
    let mut a = H::new(shared.clone());
    a.fetch_nonce();
    let mut b = H::new(shared);
    b.now = a.now;
    b.s = TurnServer::new(
        ServerConfig {
            nonce_key: Some([5; 32]),
            ..config()
        },
        default_provider(),
        SecureRng::from_seed([8; 32]),
        a.now,
    );
    b.nonce = a.nonce.clone();
    b.allocate();
    // A core with another key answers 438 with its own nonce.
    let mut c = H::new(ServerConfig {
        nonce_key: Some([6; 32]),
        ..config()
    });
    c.now = a.now;
    c.nonce = a.nonce.clone();
    assert_eq!(
        code(&c.request(Method::ALLOCATE, &[Attribute::RequestedTransport(17)])),
        438
    );
}
