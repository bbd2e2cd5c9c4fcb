//! Property tests: encode → parse round trips, and parsing arbitrary or mutated bytes never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use oxirtc_crypto::default_provider;
use oxirtc_stun::*;
use proptest::prelude::*;

/// Owned inputs from which one attribute is built by borrowing.
#[derive(Clone, Debug)]
struct Spec {
    kind: u8,
    text: String,
    bytes: Vec<u8>,
    n: u64,
    addr: SocketAddr,
    flag: bool,
    types: Vec<AttrType>,
}

const ALGS: [AlgorithmParams<'static>; 3] = [
    AlgorithmParams {
        algorithm: 0x0002,
        params: &[],
    },
    AlgorithmParams {
        algorithm: 0x8123,
        params: b"param",
    },
    AlgorithmParams {
        algorithm: 0x0001,
        params: &[],
    },
];

impl Spec {
    fn attr(&self) -> Attribute<'_> {
        use Attribute as A;
        let n = self.n;
        let family = if self.flag {
            AddressFamily::V4
        } else {
            AddressFamily::V6
        };
        let code = 300 + (n % 400) as u16;
        match self.kind % 38 {
            0 => A::MappedAddress(self.addr),
            1 => A::XorMappedAddress(self.addr),
            2 => A::Username(&self.text),
            3 => A::UserHash(&[7; 32]),
            4 => A::ErrorCode(ErrorCode {
                code,
                reason: &self.text,
            }),
            5 => A::Realm(&self.text),
            6 => A::Nonce(&self.text),
            7 => A::PasswordAlgorithms(PasswordAlgorithms::new(&ALGS[..(n % 4) as usize])),
            8 => A::PasswordAlgorithm(ALGS[(n % 3) as usize]),
            9 => A::UnknownAttributes(UnknownAttributes::new(&self.types)),
            10 => A::Software(&self.text),
            11 => A::AlternateServer(self.addr),
            12 => A::AlternateDomain(&self.text),
            13 => A::Priority(n as u32),
            14 => A::UseCandidate,
            15 => A::IceControlled(n),
            16 => A::IceControlling(n),
            17 => A::ChannelNumber(n as u16),
            18 => A::Lifetime(n as u32),
            19 => A::XorPeerAddress(self.addr),
            20 => A::Data(&self.bytes),
            21 => A::XorRelayedAddress(self.addr),
            22 => A::RequestedAddressFamily(family),
            23 => A::EvenPort(self.flag),
            24 => A::RequestedTransport(n as u8),
            25 => A::DontFragment,
            26 => A::ReservationToken(n.to_be_bytes()),
            27 => A::AdditionalAddressFamily(family),
            28 => A::AddressErrorCode {
                family,
                code,
                reason: &self.text,
            },
            29 => A::Icmp {
                icmp_type: n as u8,
                code: (n >> 8) as u8,
                error_data: (n >> 16) as u32,
            },
            30 => A::ChangeRequest {
                change_ip: self.flag,
                change_port: n.is_multiple_of(2),
            },
            31 => A::ResponseOrigin(self.addr),
            32 => A::OtherAddress(self.addr),
            33 => A::ResponsePort(n as u16),
            34 => A::Padding(&self.bytes),
            35 => A::ConnectionId(n as u32),
            // Unknown types from ranges no registry entry here uses.
            36 => A::Unknown {
                ty: AttrType(0x7F00 | (n as u16 & 0xFF)),
                value: &self.bytes,
            },
            _ => A::Unknown {
                ty: AttrType(0xC000 | (n as u16 & 0x3FFF)),
                value: &self.bytes,
            },
        }
    }
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, p)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), p)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, p)| SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), p)),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<u8>(),
        "\\PC{0,24}",
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<u64>(),
        addr(),
        any::<bool>(),
        proptest::collection::vec(any::<u16>().prop_map(AttrType), 0..6),
    )
        .prop_map(|(kind, text, bytes, n, addr, flag, types)| Spec {
            kind,
            text,
            bytes,
            n,
            addr,
            flag,
            types,
        })
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        Just(Class::Request),
        Just(Class::Indication),
        Just(Class::Success),
        Just(Class::Error)
    ]
}

/// Calls every accessor; used on whatever parses.
fn exercise(m: &Message<'_>) {
    for a in m.attributes() {
        let _ = a.map(|a| a.attr_type());
    }
    let _ = (m.class(), m.method(), m.transaction_id(), m.raw().len());
    let _ = (
        m.xor_mapped_address(),
        m.mapped_address(),
        m.username(),
        m.realm(),
        m.nonce(),
    );
    let _ = (
        m.software(),
        m.priority(),
        m.use_candidate(),
        m.ice_controlling(),
        m.ice_controlled(),
    );
    let _ = (
        m.error_code(),
        m.lifetime(),
        m.xor_relayed_address(),
        m.xor_peer_address(),
        m.data(),
    );
    let _ = (
        m.other_address(),
        m.response_origin(),
        m.has_message_integrity(),
        m.has_fingerprint(),
    );
    assert!(m.unknown_comprehension_required().len() <= MAX_ATTRIBUTES);
    let _ = m.verify_integrity(default_provider(), b"key");
}

proptest! {
    #[test]
    fn encode_parse_round_trip(
        specs in proptest::collection::vec(spec(), 0..24),
        class in class(),
        method in 0u16..0x1000,
        tid in any::<[u8; 12]>(),
        mi in any::<bool>(),
        mi256 in any::<bool>(),
        fp in any::<bool>(),
    ) {
        let crypto = default_provider();
        let attrs: Vec<Attribute<'_>> = specs.iter().map(Spec::attr).collect();
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, class, Method(method), TransactionId(tid));
        for a in &attrs {
            enc.add(a);
        }
        if mi { enc.add_message_integrity(crypto, b"key"); }
        if mi256 { enc.add_message_integrity_sha256(crypto, b"key"); }
        if fp { enc.add_fingerprint(); }
        prop_assert_eq!(enc.try_finish(), Ok(out.len()));

        // RFC 7983 demultiplexing only claims first bytes 0..=3, i.e. methods below 0x080.
        prop_assert_eq!(is_stun(&out), out[0] <= 3);
        let m = Message::parse(&out).unwrap();
        prop_assert_eq!((m.class(), m.method(), m.transaction_id()), (class, Method(method), TransactionId(tid)));
        let parsed: Vec<Attribute<'_>> = m.attributes().map(Result::unwrap).collect();
        let n = attrs.len();
        prop_assert_eq!(&parsed[..n], &attrs[..]);
        prop_assert_eq!(parsed.len(), n + usize::from(mi) + usize::from(mi256) + usize::from(fp));
        prop_assert_eq!(m.has_fingerprint(), fp);
        if mi || mi256 {
            prop_assert_eq!(m.verify_integrity(crypto, b"key"), Ok(()));
            prop_assert_eq!(m.verify_integrity(crypto, b"other"), Err(StunError::IntegrityMismatch));
        } else {
            prop_assert_eq!(m.verify_integrity(crypto, b"key"), Err(StunError::IntegrityMissing));
        }
        let expected_unknown: Vec<AttrType> = attrs.iter().map(Attribute::attr_type)
            .filter(|t| t.is_comprehension_required() && !t.is_known())
            .fold(Vec::new(), |mut v, t| { if !v.contains(&t) { v.push(t) } v });
        prop_assert_eq!(m.unknown_comprehension_required(), expected_unknown);
    }

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assert_eq!(is_stun(&buf), is_stun(&buf));
        if let Ok(m) = Message::parse(&buf) {
            exercise(&m);
        }
    }

    #[test]
    fn random_bodies_behind_a_valid_header_never_panic(
        ty in 0u16..0x4000,
        body in proptest::collection::vec(any::<u8>(), 0..150).prop_map(|mut b| { b.truncate(b.len() / 4 * 4); b }),
    ) {
        let mut buf = ty.to_be_bytes().to_vec();
        buf.extend_from_slice(&(body.len() as u16).to_be_bytes());
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(&[1; 12]);
        buf.extend_from_slice(&body);
        prop_assert_eq!(is_stun(&buf), buf[0] <= 3);
        if let Ok(m) = Message::parse(&buf) {
            exercise(&m);
        }
    }

    #[test]
    fn mutations_never_panic_and_break_integrity(
        specs in proptest::collection::vec(spec(), 0..8),
        sha256 in any::<bool>(),
        fp in any::<bool>(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        cut in any::<prop::sample::Index>(),
    ) {
        let crypto = default_provider();
        let attrs: Vec<Attribute<'_>> = specs.iter().map(Spec::attr).collect();
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TransactionId([2; 12]));
        for a in &attrs {
            enc.add(a);
        }
        if sha256 { enc.add_message_integrity_sha256(crypto, b"key"); } else { enc.add_message_integrity(crypto, b"key"); }
        if fp { enc.add_fingerprint(); }
        enc.finish();
        let covered = out.len() - if fp { 8 } else { 0 }; // the bytes the MAC covers

        // Flip bits in one byte the MAC covers: parsing may fail, but must not verify.
        let mut bad = out.clone();
        bad[at.index(covered)] ^= xor;
        if let Ok(m) = Message::parse(&bad) {
            exercise(&m);
            prop_assert!(m.verify_integrity(crypto, b"key").is_err());
        }
        // Truncation and extension never panic either.
        let short = &out[..cut.index(out.len())];
        if let Ok(m) = Message::parse(short) { exercise(&m); }
        let mut long = out.clone();
        long.extend_from_slice(&[0, 0, 0, 0]);
        prop_assert!(Message::parse(&long).is_err());
    }
}
