//! The controlled agent's policy for a nomination of another pair (oxirtc-ice `recovery.rs`): ignored
//! while the selected pair answers consent checks (a delayed or replayed USE-CANDIDATE cannot move a
//! working connection), followed once the selected pair is stale, and only after our own check on the
//! new pair was answered (RFC 7675).
#![allow(clippy::unwrap_used)] // test: a failed set-up should panic loudly

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_ice::{IceAgent, IceConfig, IceConnectionState};
use oxirtc_stun::{short_term_key, Attribute, Class, Message, MessageEncoder, Method, TransactionId};

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";
/// Where the controlling agent's checks appear to come from after its NAT remapped.
const X: &str = "10.0.0.9:7000";

struct World {
    a: IceAgent,
    b: IceAgent,
    now: Instant,
    rng: SecureRng,
    /// Deliver datagrams between A and B (false: the A-B path is dead).
    path_up: bool,
    /// Answer checks that B sends to X (as the controlling agent behind its new mapping would).
    x_answers: bool,
    /// B's checks to X that got an answer.
    x_answered: usize,
}

impl World {
    #[allow(clippy::disallowed_methods)] // the one real clock read of the test
    fn new() -> World {
        let now = Instant::now();
        let crypto = default_provider();
        let controlling = IceConfig {
            controlling: true,
            ..IceConfig::default()
        };
        let mut a = IceAgent::new(controlling, crypto, SecureRng::from_seed([1; 32]));
        let mut b = IceAgent::new(IceConfig::default(), crypto, SecureRng::from_seed([2; 32]));
        a.add_host(now, A.parse().unwrap()).unwrap();
        b.add_host(now, B.parse().unwrap()).unwrap();
        a.set_remote_credentials(now, b.local_credentials().clone())
            .unwrap();
        b.set_remote_credentials(now, a.local_credentials().clone())
            .unwrap();
        for c in b.local_candidates().to_vec() {
            a.add_remote_candidate(now, c).unwrap();
        }
        for c in a.local_candidates().to_vec() {
            b.add_remote_candidate(now, c).unwrap();
        }
        World {
            a,
            b,
            now,
            rng: SecureRng::from_seed([3; 32]),
            path_up: true,
            x_answers: true,
            x_answered: 0,
        }
    }

    /// A Binding request with USE-CANDIDATE from X, signed as the controlling agent signs its checks.
    fn nominate_from_x(&mut self) {
        let username = format!(
            "{}:{}",
            self.b.local_credentials().ufrag,
            self.a.local_credentials().ufrag
        );
        let key = short_term_key(&self.b.local_credentials().pwd);
        let mut out = Vec::new();
        let tid = TransactionId::random(&mut self.rng);
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, tid);
        enc.add(&Attribute::Username(&username));
        enc.add(&Attribute::Priority(1_845_501_695));
        enc.add(&Attribute::IceControlling(u64::MAX));
        enc.add(&Attribute::UseCandidate);
        enc.add_message_integrity(default_provider(), &key);
        enc.add_fingerprint();
        enc.finish();
        self.b
            .handle_receive(self.now, X.parse().unwrap(), B.parse().unwrap(), &out);
    }

    /// B's check to X answered with a success signed with the controlling agent's password.
    fn answer_from_x(&mut self, request: &[u8]) {
        let req = Message::parse(request).unwrap();
        if req.class() != Class::Request {
            return;
        }
        let key = short_term_key(&self.a.local_credentials().pwd);
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Success, Method::BINDING, req.transaction_id());
        enc.add(&Attribute::XorMappedAddress(B.parse().unwrap()));
        enc.add_message_integrity(default_provider(), &key);
        enc.add_fingerprint();
        enc.finish();
        self.x_answered += 1;
        self.b
            .handle_receive(self.now, X.parse().unwrap(), B.parse().unwrap(), &out);
    }

    /// Runs both agents on the virtual clock for `d`.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        let x: SocketAddr = X.parse().unwrap();
        loop {
            while let Some(t) = self.a.poll_transmit(self.now) {
                if self.path_up {
                    self.b
                        .handle_receive(self.now, t.source, t.destination, &t.contents);
                }
            }
            while let Some(t) = self.b.poll_transmit(self.now) {
                if t.destination == x {
                    if self.x_answers {
                        self.answer_from_x(&t.contents);
                    }
                } else if self.path_up {
                    self.a
                        .handle_receive(self.now, t.source, t.destination, &t.contents);
                }
            }
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(end)
                .min(end);
            if next >= end && self.now >= end {
                return;
            }
            self.now = self.now.max(next);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            if self.now >= end {
                return;
            }
        }
    }
}

fn ab() -> Option<(SocketAddr, SocketAddr)> {
    Some((B.parse().unwrap(), A.parse().unwrap()))
}

#[test]
fn a_nomination_of_another_pair_is_ignored_while_the_selected_pair_answers() {
    let mut w = World::new();
    w.run(Duration::from_secs(2));
    assert_eq!(w.b.selected_pair(), ab());
    for _ in 0..6 {
        w.nominate_from_x();
        w.run(Duration::from_secs(5));
    }
    assert!(w.x_answered > 0, "B never checked X");
    assert_eq!(w.b.selected_pair(), ab(), "moved off a pair that still answers");
    assert!(matches!(
        w.b.state(),
        IceConnectionState::Connected | IceConnectionState::Completed
    ));
}

#[test]
fn a_stale_controlled_agent_follows_the_nomination_only_once_its_check_is_answered() {
    let mut w = World::new();
    w.run(Duration::from_secs(2));
    assert_eq!(w.b.selected_pair(), ab());
    // The A-B path dies; X nominates but does not answer B's checks yet: B must not move there.
    w.path_up = false;
    w.x_answers = false;
    for _ in 0..3 {
        w.nominate_from_x();
        w.run(Duration::from_secs(5));
    }
    assert_eq!(w.b.state(), IceConnectionState::Disconnected);
    assert_eq!(w.b.selected_pair(), ab(), "moved to a pair that never answered");
    // X answers now: B follows the latest nomination.
    w.x_answers = true;
    w.nominate_from_x();
    w.run(Duration::from_secs(3));
    let want = Some((B.parse().unwrap(), X.parse().unwrap()));
    assert_eq!(w.b.selected_pair(), want, "did not follow the nomination");
    assert!(matches!(
        w.b.state(),
        IceConnectionState::Connected | IceConnectionState::Completed
    ));
}
