//! The controlled agent holds its ordinary checks until the controlling peer's first check
//! (`IceConfig::controlled_check_hold`), so that the peer cannot learn our address before it has our answer.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_ice::{Candidate, IceAgent, IceConfig, IceCredentials};
use oxirtc_stun::{short_term_key, Attribute, Class, Message, MessageEncoder, Method, TransactionId};

const LOCAL: &str = "192.0.2.1:5000";
const PEER: &str = "192.0.2.2:6000";
const PEER_PWD: &str = "peerpasswordpeerpassword";
const HOLD: Duration = Duration::from_millis(100);

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn start() -> Instant {
    Instant::now()
}

/// An agent in `controlling` role that knows the peer's credentials and one host candidate of it.
fn agent(now: Instant, controlling: bool) -> IceAgent {
    let config = IceConfig {
        controlling,
        controlled_check_hold: HOLD,
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(config, default_provider(), SecureRng::from_seed([3; 32]));
    a.add_host(now, LOCAL.parse().unwrap()).unwrap();
    let peer = IceCredentials {
        ufrag: "peerufrag".into(),
        pwd: PEER_PWD.into(),
    };
    a.set_remote_credentials(now, peer).unwrap();
    a.add_remote_candidate(now, Candidate::host(PEER.parse().unwrap(), 65535))
        .unwrap();
    a
}

/// The controlling peer's check of our host candidate.
fn peer_check(a: &IceAgent) -> Vec<u8> {
    let ours = &a.local_credentials().ufrag;
    let mut out = Vec::new();
    let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TransactionId([5; 12]));
    enc.add(&Attribute::Username(&format!("{ours}:peerufrag")));
    enc.add(&Attribute::Priority(1_845_501_695));
    enc.add(&Attribute::IceControlling(42));
    enc.add_message_integrity(default_provider(), &short_term_key(&a.local_credentials().pwd));
    enc.add_fingerprint();
    enc.finish();
    out
}

/// Runs the agent's timers from `from` to `until`; returns when each Binding request to the peer left.
fn requests_to_peer(a: &mut IceAgent, from: Instant, until: Instant) -> Vec<Duration> {
    let mut sent = Vec::new();
    let mut t = from;
    while t <= until {
        a.handle_timeout(t);
        while let Some(x) = a.poll_transmit(t) {
            let request = Message::parse(&x.contents).is_ok_and(|m| m.class() == Class::Request);
            if request && x.destination == PEER.parse::<SocketAddr>().unwrap() {
                sent.push(t - from);
            }
        }
        let Some(next) = a.poll_timeout() else { break };
        t = next.max(t + Duration::from_micros(100));
    }
    sent
}

#[test]
fn controlled_agent_waits_for_the_peer_check_then_answers_with_a_triggered_check_at_once() {
    let now = start();
    let mut a = agent(now, false);
    let early = requests_to_peer(&mut a, now, now + HOLD / 2);
    assert!(
        early.is_empty(),
        "ordinary checks left during the hold: {early:?}"
    );

    let t = now + HOLD / 2;
    a.handle_receive(t, PEER.parse().unwrap(), LOCAL.parse().unwrap(), &peer_check(&a));
    let answered = requests_to_peer(&mut a, t, t + Duration::from_millis(1));
    assert_eq!(
        answered.first(),
        Some(&Duration::ZERO),
        "the triggered check waited: {answered:?}"
    );
}

#[test]
fn controlled_agent_starts_its_own_checks_when_the_hold_ends_without_a_peer_check() {
    let now = start();
    let mut a = agent(now, false);
    let sent = requests_to_peer(&mut a, now, now + HOLD * 2);
    assert_eq!(sent.first(), Some(&HOLD), "first ordinary check: {sent:?}");
}

#[test]
fn controlling_agent_and_a_zero_hold_check_at_once() {
    let now = start();
    let mut controlling = agent(now, true);
    assert_eq!(
        requests_to_peer(&mut controlling, now, now + HOLD).first(),
        Some(&Duration::ZERO)
    );

    let config = IceConfig {
        controlled_check_hold: Duration::ZERO,
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(config, default_provider(), SecureRng::from_seed([4; 32]));
    a.add_host(now, LOCAL.parse().unwrap()).unwrap();
    let peer = IceCredentials {
        ufrag: "peerufrag".into(),
        pwd: PEER_PWD.into(),
    };
    a.set_remote_credentials(now, peer).unwrap();
    a.add_remote_candidate(now, Candidate::host(PEER.parse().unwrap(), 65535))
        .unwrap();
    assert_eq!(
        requests_to_peer(&mut a, now, now + HOLD).first(),
        Some(&Duration::ZERO)
    );
}

#[test]
fn the_triggered_check_leaves_with_the_response_without_a_timer_turn() {
    // The owner need not run handle_timeout (its timer may be coarse): the check the peer's request
    // triggers (RFC 8445 §7.3.1.4) is ready right after handle_receive.
    let now = start();
    let mut a = agent(now, false);
    a.handle_receive(
        now,
        PEER.parse().unwrap(),
        LOCAL.parse().unwrap(),
        &peer_check(&a),
    );
    let mut classes = Vec::new();
    while let Some(x) = a.poll_transmit(now) {
        classes.push(Message::parse(&x.contents).unwrap().class());
    }
    assert_eq!(classes, [Class::Success, Class::Request]);
}
