//! Hostile and malformed input to one agent: dropped, counted, and no state changes.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_ice::{Candidate, IceAgent, IceConfig, IceConnectionState, IceCredentials, IceError, IceStats};
use oxirtc_stun::{
    short_term_key, AttrType, Attribute, Class, Message, MessageEncoder, Method, TransactionId,
};
use proptest::prelude::*;

const LOCAL: &str = "192.0.2.1:5000";
const PEER: &str = "192.0.2.2:6000";

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn start() -> Instant {
    Instant::now()
}

fn agent(now: Instant) -> (IceAgent, IceCredentials) {
    let mut a = IceAgent::new(
        IceConfig::default(),
        default_provider(),
        SecureRng::from_seed([9; 32]),
    );
    a.add_host(now, LOCAL.parse().unwrap()).unwrap();
    let peer = IceCredentials {
        ufrag: "peerufrag".into(),
        pwd: "peerpasswordpeerpassword".into(),
    };
    a.set_remote_credentials(now, peer.clone()).unwrap();
    (a, peer)
}

struct Check<'a> {
    username: String,
    pwd: &'a str,
    fingerprint: bool,
    extra: Option<Attribute<'a>>,
}

fn check(c: &Check<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TransactionId([7; 12]));
    enc.add(&Attribute::Username(&c.username));
    enc.add(&Attribute::Priority(1_845_501_695));
    enc.add(&Attribute::IceControlling(42));
    enc.add(&Attribute::UseCandidate);
    if let Some(a) = &c.extra {
        enc.add(a);
    }
    enc.add_message_integrity(default_provider(), &short_term_key(c.pwd));
    if c.fingerprint {
        enc.add_fingerprint();
    }
    enc.finish();
    out
}

/// Everything observable about the agent that a dropped packet must not change.
fn snapshot(
    a: &mut IceAgent,
    now: Instant,
) -> (
    IceConnectionState,
    usize,
    usize,
    Option<(SocketAddr, SocketAddr)>,
    bool,
) {
    let sends = a.poll_transmit(now).is_some();
    (
        a.state(),
        a.remote_candidates().len(),
        a.pair_count(),
        a.selected_pair(),
        sends,
    )
}

#[test]
fn forged_check_with_wrong_password_is_ignored() {
    let now = start();
    let (mut a, _) = agent(now);
    let ours = a.local_credentials().ufrag.clone();
    let before = snapshot(&mut a, now);
    let forged = check(&Check {
        username: format!("{ours}:peerufrag"),
        pwd: "not-the-password-at-all-xx",
        fingerprint: true,
        extra: None,
    });
    a.handle_receive(
        now,
        "198.51.100.66:1234".parse().unwrap(),
        LOCAL.parse().unwrap(),
        &forged,
    );
    assert_eq!(a.stats().dropped_bad_integrity, 1);
    assert_eq!(
        snapshot(&mut a, now),
        before,
        "a forged check changed state or got an answer"
    );
}

#[test]
fn wrong_ufrag_and_missing_fingerprint_are_ignored() {
    let now = start();
    let (mut a, _) = agent(now);
    let ours = a.local_credentials().ufrag.clone();
    let pwd = a.local_credentials().pwd.clone();
    let before = snapshot(&mut a, now);
    let from: SocketAddr = PEER.parse().unwrap();
    let wrong_ufrag = check(&Check {
        username: "nope:peerufrag".into(),
        pwd: &pwd,
        fingerprint: true,
        extra: None,
    });
    a.handle_receive(now, from, LOCAL.parse().unwrap(), &wrong_ufrag);
    let no_fp = check(&Check {
        username: format!("{ours}:peerufrag"),
        pwd: &pwd,
        fingerprint: false,
        extra: None,
    });
    a.handle_receive(now, from, LOCAL.parse().unwrap(), &no_fp);
    assert_eq!(a.stats().dropped_bad_username, 1);
    assert_eq!(a.stats().dropped_no_fingerprint, 1);
    assert_eq!(snapshot(&mut a, now), before);
}

#[test]
fn valid_check_is_answered_and_learns_a_peer_reflexive_candidate() {
    let now = start();
    let (mut a, _) = agent(now);
    let ours = a.local_credentials().ufrag.clone();
    let pwd = a.local_credentials().pwd.clone();
    let from: SocketAddr = PEER.parse().unwrap();
    let req = check(&Check {
        username: format!("{ours}:peerufrag"),
        pwd: &pwd,
        fingerprint: true,
        extra: None,
    });
    a.handle_receive(now, from, LOCAL.parse().unwrap(), &req);
    let t = a.poll_transmit(now).expect("a response");
    assert_eq!((t.source, t.destination), (LOCAL.parse().unwrap(), from));
    let resp = Message::parse(&t.contents).unwrap();
    assert_eq!(resp.class(), Class::Success);
    assert_eq!(resp.xor_mapped_address(), Some(from));
    resp.verify_integrity(default_provider(), &short_term_key(&pwd))
        .unwrap();
    assert_eq!(a.remote_candidates().len(), 1);
    assert_eq!(a.state(), IceConnectionState::Checking);
}

#[test]
fn unknown_comprehension_required_attribute_gets_420() {
    let now = start();
    let (mut a, _) = agent(now);
    let ours = a.local_credentials().ufrag.clone();
    let pwd = a.local_credentials().pwd.clone();
    let req = check(&Check {
        username: format!("{ours}:peerufrag"),
        pwd: &pwd,
        fingerprint: true,
        extra: Some(Attribute::Unknown {
            ty: AttrType(0x7f01),
            value: b"????",
        }),
    });
    a.handle_receive(now, PEER.parse().unwrap(), LOCAL.parse().unwrap(), &req);
    let t = a.poll_transmit(now).expect("an error response");
    let resp = Message::parse(&t.contents).unwrap();
    assert_eq!(resp.class(), Class::Error);
    assert_eq!(resp.error_code().unwrap().code, 420);
    assert_eq!(a.remote_candidates().len(), 0, "a rejected check teaches nothing");
}

#[test]
fn remote_candidate_and_pair_caps_hold() {
    let now = start();
    let cfg = IceConfig {
        max_remote_candidates: 10,
        max_pairs: 6,
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(cfg, default_provider(), SecureRng::from_seed([1; 32]));
    a.add_host(now, LOCAL.parse().unwrap()).unwrap();
    let mut refused = 0;
    for i in 0..50u16 {
        let c = Candidate::host(
            SocketAddr::new("198.51.100.7".parse().unwrap(), 1000 + i),
            65535 - i,
        );
        if let Err(IceError::TooManyCandidates { cap: 10 }) = a.add_remote_candidate(now, c) {
            refused += 1;
        }
    }
    assert_eq!(refused, 40);
    assert_eq!(a.remote_candidates().len(), 10);
    assert_eq!(a.pair_count(), 6);
}

#[test]
fn checks_are_paced_by_ta() {
    let now = start();
    let (mut a, _) = agent(now);
    // Distinct addresses, so distinct foundations: all start Waiting (RFC 8445 §6.1.2.6).
    for i in 0..20u8 {
        let ip = std::net::Ipv4Addr::new(198, 51, 100, 10 + i);
        let c = Candidate::host(SocketAddr::new(ip.into(), 1000), 65535 - u16::from(i));
        a.add_remote_candidate(now, c).unwrap();
    }
    // Over one second, at most 1 s / Ta = 20 new checks (plus retransmissions of those).
    let mut t = now;
    let mut first_sends = std::collections::HashSet::new();
    while t < now + Duration::from_secs(1) {
        a.handle_timeout(t);
        while let Some(x) = a.poll_transmit(t) {
            first_sends.insert(x.destination);
        }
        t = a.poll_timeout().unwrap().max(t + Duration::from_millis(1));
    }
    assert!(first_sends.len() <= 21, "{}", first_sends.len());
    assert!(first_sends.len() >= 15, "{}", first_sends.len());
}

#[test]
fn candidates_that_would_aim_checks_at_everyone_are_refused() {
    let now = start();
    let (mut a, _) = agent(now);
    for addr in [
        "0.0.0.0:5000",
        "224.0.0.1:5000",
        "255.255.255.255:5000",
        "192.0.2.9:0",
        "[ff02::1]:5000",
    ] {
        let c = Candidate::host(addr.parse().unwrap(), 65535);
        assert!(
            matches!(a.add_remote_candidate(now, c), Err(IceError::BadCandidate { .. })),
            "{addr}"
        );
    }
    assert_eq!(a.remote_candidates().len(), 0);
    assert_eq!(a.pair_count(), 0);
}

#[test]
fn candidate_after_end_of_candidates_is_refused() {
    let now = start();
    let (mut a, _) = agent(now);
    a.end_of_remote_candidates(now);
    let c = Candidate::host(PEER.parse().unwrap(), 65535);
    assert_eq!(a.add_remote_candidate(now, c), Err(IceError::CandidateAfterEnd));
}

#[test]
fn bad_remote_credentials_are_refused() {
    let now = start();
    let (mut a, _) = agent(now);
    let short = IceCredentials {
        ufrag: "ab".into(),
        pwd: "x".repeat(22),
    };
    assert!(a.set_remote_credentials(now, short).is_err());
    let bad_chars = IceCredentials {
        ufrag: "abcd".into(),
        pwd: "é".repeat(22),
    };
    assert!(a.set_remote_credentials(now, bad_chars).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random bytes never panic and never change state.
    #[test]
    fn random_datagrams_change_nothing(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let now = start();
        let (mut a, _) = agent(now);
        let before = snapshot(&mut a, now);
        a.handle_receive(now, PEER.parse().unwrap(), LOCAL.parse().unwrap(), &data);
        prop_assert_eq!(snapshot(&mut a, now), before);
    }

    /// A valid check with any byte flipped is dropped (integrity or fingerprint catches it).
    #[test]
    fn mutated_checks_are_dropped(pos in 20usize..100, bit in 0u8..8) {
        let now = start();
        let (mut a, _) = agent(now);
        let ours = a.local_credentials().ufrag.clone();
        let pwd = a.local_credentials().pwd.clone();
        let mut req = check(&Check { username: format!("{ours}:peerufrag"), pwd: &pwd, fingerprint: true, extra: None });
        let pos = pos % req.len();
        req[pos] ^= 1 << bit;
        let before = snapshot(&mut a, now);
        a.handle_receive(now, PEER.parse().unwrap(), LOCAL.parse().unwrap(), &req);
        prop_assert_eq!(snapshot(&mut a, now), before);
        let s: &IceStats = a.stats();
        prop_assert_eq!(s.checks_received, 0);
    }
}
