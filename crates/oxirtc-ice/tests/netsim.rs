//! ICE behaviour through simulated NATs and lossy links (oxirtc-netsim, virtual clock).
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::time::Duration;

use common::{Lab, Place, Setup};
use oxirtc_ice::{IceConfig, IceConnectionState, IceEvent, IceFailure};
use oxirtc_netsim::{LinkConfig, NatConfig};

/// 10 % loss and 50 ms jitter on every access link (the bar).
fn lossy() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(30),
        jitter: Duration::from_millis(50),
        loss: 0.10,
        ..LinkConfig::default()
    }
}

fn connect(left: Place, right: Place, seed: u64) -> Lab {
    let mut lab = Lab::new(Setup {
        seed,
        left: left.clone(),
        right: right.clone(),
        link: lossy(),
        ..Setup::default()
    });
    let ok = lab.run_until(Duration::from_secs(30), |l| l.connected() && l.paths_agree());
    assert!(
        ok,
        "{left:?} <-> {right:?} (seed {seed}) did not connect: left {:?} right {:?}",
        lab.agent(lab.left).state(),
        lab.agent(lab.right).state()
    );
    lab
}

#[test]
fn traversable_nat_pairings_connect_with_loss_and_jitter() {
    let cone = || Place::Nat(NatConfig::full_cone());
    let arc = || Place::Nat(NatConfig::address_restricted());
    let prc = || Place::Nat(NatConfig::port_restricted());
    let sym = || Place::Nat(NatConfig::symmetric());
    let cases = [
        (Place::Public, Place::Public),
        (cone(), Place::Public),
        (arc(), Place::Public),
        (prc(), Place::Public),
        (sym(), Place::Public),
        (cone(), cone()),
        (arc(), arc()),
        (prc(), prc()),
        (prc(), arc()),
        (sym(), cone()),
        (sym(), arc()),
        (cone(), sym()),
    ];
    for seed in 1..=3 {
        for (left, right) in cases.clone() {
            let lab = connect(left, right, seed);
            // The selected path uses public addresses: private host candidates cannot cross realms.
            let (_, remote) = lab.agent(lab.left).selected_pair().unwrap();
            assert!(!remote.ip().to_string().starts_with("10."), "{remote}");
        }
    }
}

#[test]
fn connection_survives_a_minute_of_loss_on_consent_alone() {
    let mut lab = connect(Place::Nat(NatConfig::port_restricted()), Place::Public, 7);
    let t0 = lab.sim.now();
    lab.run_until(Duration::from_secs(60), |_| false);
    assert!(lab.sim.now() - t0 >= Duration::from_secs(60));
    assert!(lab.connected(), "consent failed under 10 % loss");
}

#[test]
fn symmetric_to_symmetric_fails_cleanly_without_relay() {
    let sym = || Place::Nat(NatConfig::symmetric());
    // Symmetric against port-restricted is not traversable without a relay either (RFC 4787 §4.1 + §5).
    for right in [sym(), Place::Nat(NatConfig::port_restricted())] {
        let mut lab = Lab::new(Setup {
            left: sym(),
            right,
            link: lossy(),
            ..Setup::default()
        });
        let failed = lab.run_until(Duration::from_secs(120), |l| l.both(IceConnectionState::Failed));
        assert!(
            failed,
            "left {:?} right {:?}",
            lab.agent(lab.left).state(),
            lab.agent(lab.right).state()
        );
        assert_eq!(lab.agent(lab.left).selected_pair(), None);
        assert_eq!(lab.agent(lab.right).selected_pair(), None);
        // The cause says so: every pair was checked, the peer had no more candidates.
        for side in [lab.left, lab.right] {
            match lab.agent(side).failure() {
                Some(IceFailure::NoWorkingPair {
                    pairs,
                    trickle_timeout: None,
                }) => assert!(*pairs > 0),
                other => panic!("failure {other:?}"),
            }
        }
        assert!(
            lab.agent(lab.left).stats().checks_sent > 0,
            "checks must have been tried"
        );
        // Failing is final: nothing more is sent.
        let sent = lab.agent(lab.left).stats().checks_sent;
        lab.run_until(Duration::from_secs(30), |_| false);
        assert_eq!(lab.agent(lab.left).stats().checks_sent, sent);
    }
}

#[test]
fn symmetric_to_symmetric_fails_after_trickle_timeout_without_end_of_candidates() {
    let sym = Place::Nat(NatConfig::symmetric());
    let mut lab = Lab::new(Setup {
        left: sym.clone(),
        right: sym,
        ..Setup::default()
    });
    lab.end_of_candidates = false;
    let failed = lab.run_until(Duration::from_secs(200), |l| l.both(IceConnectionState::Failed));
    assert!(failed);
    let why = lab.agent(lab.left).failure().unwrap().to_string();
    assert!(why.ends_with("no new candidate from the peer for 30 s)"), "{why}");
}

#[test]
fn role_conflict_is_resolved_both_ways() {
    for controlling in [true, false] {
        let cfg = IceConfig {
            controlling,
            ..IceConfig::default()
        };
        let mut lab = Lab::new(Setup {
            left: Place::Nat(NatConfig::port_restricted()),
            left_config: cfg.clone(),
            right_config: cfg,
            link: lossy(),
            ..Setup::default()
        });
        assert!(lab.run_until(Duration::from_secs(30), |l| l.connected()));
        let (l, r) = (lab.agent(lab.left), lab.agent(lab.right));
        assert_ne!(
            l.is_controlling(),
            r.is_controlling(),
            "exactly one side must end controlling"
        );
        assert!(l.stats().role_conflicts + r.stats().role_conflicts > 0);
    }
}

#[test]
fn ice_restart_keeps_working() {
    let mut lab = connect(
        Place::Nat(NatConfig::port_restricted()),
        Place::Nat(NatConfig::full_cone()),
        3,
    );
    let before = lab.agent(lab.left).selected_pair();
    let now = lab.sim.now();
    let (l, r) = (lab.left, lab.right);
    // JSEP: the offerer restarts; the answer restarts too (RFC 8445 §9).
    lab.agent_mut(l).restart(now);
    lab.agent_mut(r).restart(now);
    // During the restart the old pair keeps carrying data.
    assert_eq!(lab.agent(l).selected_pair(), before);
    lab.exchange_credentials_and_hosts();
    let events_before = lab.sim.endpoint(l).events().len();
    let ok = lab.run_until(Duration::from_secs(30), |lab| {
        lab.connected()
            && lab.sim.endpoint(l).events()[events_before..]
                .iter()
                .any(|(_, e)| matches!(e, IceEvent::SelectedPair { .. }))
    });
    assert!(ok, "no new nomination after restart");
    // And it stays up on the new credentials.
    lab.run_until(Duration::from_secs(40), |_| false);
    assert!(lab.connected());
}

#[test]
fn consent_expires_when_the_path_dies() {
    let mut lab = connect(Place::Nat(NatConfig::port_restricted()), Place::Public, 5);
    let cut = lab.sim.now();
    let dead = LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    };
    let host = lab.right_host;
    lab.sim.net.set_link(host, dead);
    let l = lab.left;
    assert!(lab.run_until(Duration::from_secs(60), |lab| lab.agent(l).state()
        == IceConnectionState::Failed));
    let took = lab.sim.now() - cut;
    // RFC 7675 §5.1: stop within 30 s of the last response (which came at most one interval before the cut).
    assert!(took <= Duration::from_secs(30), "consent took {took:?} to expire");
    assert!(
        took >= Duration::from_secs(20),
        "consent expired too early: {took:?}"
    );
    assert_eq!(lab.agent(l).selected_pair(), None, "must stop sending");
    // RFC 7675 §5.1, and the agent says which pair lost consent.
    match lab.agent(l).failure() {
        Some(IceFailure::ConsentExpired { timeout, .. }) => assert_eq!(*timeout, Duration::from_secs(30)),
        other => panic!("failure {other:?}"),
    }
    // Nor may data fall back to a pair that was valid before (RFC 8445 §12.1 ends at selection).
    let now = lab.sim.now();
    assert_eq!(
        lab.agent(l).valid_pair(now),
        None,
        "must stop sending on every pair"
    );
    // Disconnected came first.
    let states: Vec<_> = lab
        .sim
        .endpoint(l)
        .events()
        .iter()
        .filter_map(|(_, e)| match e {
            IceEvent::StateChanged(s) => Some(*s),
            _ => None,
        })
        .collect();
    let n = states.len();
    assert_eq!(
        &states[n - 2..],
        &[IceConnectionState::Disconnected, IceConnectionState::Failed]
    );
}

#[test]
fn a_path_that_dies_before_the_nomination_fails_within_the_consent_timeout() {
    // Data may flow on a valid pair before the nomination (RFC 8445 §12.1); if the path dies in
    // that window, the valid pair's consent (RFC 7675 §5.1) must end everything 30 s after its last
    // answered check, checks included, rather than the nomination check retransmitting for ~40 s.
    let mut lab = Lab::new(Setup {
        seed: 9,
        left: Place::Public,
        right: Place::Public,
        ..Setup::default()
    });
    let early = |lab: &Lab, i: usize| {
        let now = lab.sim.now();
        lab.agent(i).valid_pair(now).is_some() && lab.agent(i).selected_pair().is_none()
    };
    let ok = lab.run_until(Duration::from_secs(5), |lab| {
        early(lab, lab.left) || early(lab, lab.right)
    });
    assert!(ok, "no window between the first valid pair and the selection");
    let cut = lab.sim.now();
    let dead = LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    };
    let l = if early(&lab, lab.left) {
        lab.left
    } else {
        lab.right
    };
    let (lh, rh) = (lab.left_host, lab.right_host);
    lab.sim.net.set_link(lh, dead.clone());
    lab.sim.net.set_link(rh, dead);
    assert!(lab.run_until(Duration::from_secs(60), |lab| {
        lab.agent(l).state() == IceConnectionState::Failed
    }));
    let took = lab.sim.now() - cut;
    assert!(
        took <= Duration::from_secs(30),
        "failed only {took:?} after the cut"
    );
    let now = lab.sim.now();
    assert_eq!(lab.agent(l).valid_pair(now), None, "must stop sending data");
    assert_eq!(
        lab.agent(l).failure(),
        Some(&IceFailure::ConsentExpiredBeforeNomination {
            timeout: Duration::from_secs(30)
        })
    );
    let checks = lab.agent(l).stats().checks_sent;
    lab.run_until(Duration::from_secs(30), |_| false);
    assert_eq!(
        lab.agent(l).stats().checks_sent,
        checks,
        "checks went on after failing"
    );
}

#[test]
fn lite_agent_on_either_side() {
    // The lite side is public (RFC 8445 §2.5); the full agent is behind a NAT and must control.
    for full_starts_controlling in [true, false] {
        let mut lab = Lab::new(Setup {
            left: Place::Nat(NatConfig::port_restricted()),
            right: Place::Public,
            left_config: IceConfig {
                controlling: full_starts_controlling,
                ..IceConfig::default()
            },
            right_config: IceConfig {
                lite: true,
                controlling: true,
                ..IceConfig::default()
            },
            link: lossy(),
            ..Setup::default()
        });
        assert!(lab.run_until(Duration::from_secs(30), |l| l.connected()));
        assert!(lab.agent(lab.left).is_controlling());
        assert!(!lab.agent(lab.right).is_controlling());
        assert_eq!(
            lab.agent(lab.right).stats().checks_sent,
            0,
            "a lite agent never sends checks"
        );
        // Liveness holds on both sides for a minute.
        lab.run_until(Duration::from_secs(60), |_| false);
        assert!(lab.connected());
    }
}

#[test]
fn aggressive_nomination_from_the_peer_is_accepted() {
    let mut lab = Lab::new(Setup {
        left: Place::Nat(NatConfig::address_restricted()),
        left_config: IceConfig {
            controlling: true,
            aggressive_nomination: true,
            ..IceConfig::default()
        },
        link: lossy(),
        ..Setup::default()
    });
    assert!(lab.run_until(Duration::from_secs(30), |l| l.connected() && l.paths_agree()));
}

#[test]
fn same_seed_same_run() {
    let trace = |seed| {
        let lab = connect(
            Place::Nat(NatConfig::symmetric()),
            Place::Nat(NatConfig::full_cone()),
            seed,
        );
        let elapsed = lab.sim.now() - lab.sim.net.start();
        (
            elapsed,
            lab.agent(lab.left).selected_pair(),
            lab.agent(lab.left).stats().clone(),
        )
    };
    assert_eq!(trace(11), trace(11));
}

#[test]
fn the_lossy_links_really_lose() {
    let mut lab = connect(
        Place::Nat(NatConfig::port_restricted()),
        Place::Nat(NatConfig::full_cone()),
        2,
    );
    lab.run_until(Duration::from_secs(120), |_| false);
    let s = lab.sim.net.stats();
    eprintln!("{s:?}");
    assert!(s.dropped_loss > 0 && s.delivered > 20, "{s:?}");
}
