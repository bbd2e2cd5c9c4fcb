//! A NAT that forgets one side's mapping mid-session and makes a new one on another port (RFC 4787 §4.3
//! mapping timeout after a path cut, or every mapping flushed at once while nothing is cut): ICE moves
//! the selected pair to the new mapping without signaling (`recovery.rs`), for either role of the side
//! behind the NAT.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::time::Duration;

use common::{Lab, Place, Setup};
use oxirtc_ice::{IceConnectionState, IceEvent};
use oxirtc_netsim::{LinkConfig, NatConfig};

/// Symmetric NAT that forgets a mapping after 8 s without outbound traffic and does not preserve ports,
/// so the mapping after a longer cut has a new external port.
fn forgetful_nat() -> NatConfig {
    NatConfig {
        mapping_timeout: Duration::from_secs(8),
        port_preservation: false,
        ..NatConfig::symmetric()
    }
}

fn link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        loss: 0.02,
        ..LinkConfig::default()
    }
}

/// Connects, cuts the private side's link for `cut` (longer than the NAT's mapping timeout), restores
/// it, and checks that both agents end on a working path to the new mapping and keep consent on it for
/// longer than the consent timeout.
fn survives_remap(private_left: bool, seed: u64) {
    let (left, right) = if private_left {
        (Place::Nat(forgetful_nat()), Place::Public)
    } else {
        (Place::Public, Place::Nat(forgetful_nat()))
    };
    let mut lab = Lab::new(Setup {
        seed,
        left,
        right,
        link: link(),
        ..Setup::default()
    });
    assert!(lab.run_until(Duration::from_secs(30), |l| l.connected()));
    let (private, public) = if private_left {
        (lab.left, lab.right)
    } else {
        (lab.right, lab.left)
    };
    let private_host = if private_left {
        lab.left_host
    } else {
        lab.right_host
    };
    let (_, old_mapping) = lab.agent(public).selected_pair().unwrap();
    // Let the path settle, then cut it for 12 s: the mapping (8 s) is forgotten.
    lab.run_until(Duration::from_secs(3), |_| false);
    let dead = LinkConfig { loss: 1.0, ..link() };
    lab.sim.net.set_link(private_host, dead);
    lab.run_until(Duration::from_secs(12), |_| false);
    lab.sim.net.set_link(private_host, link());
    let restored_events = lab.sim.endpoint(public).events().len();
    let ok = lab.run_until(Duration::from_secs(25), |l| {
        l.connected()
            && l.agent(public)
                .selected_pair()
                .is_some_and(|(_, r)| r != old_mapping)
    });
    assert!(
        ok,
        "no switch to the new mapping (private left: {private_left}): public {:?} {:?}, private {:?}",
        lab.agent(public).state(),
        lab.agent(public).selected_pair(),
        lab.agent(private).state()
    );
    let (_, new_mapping) = lab.agent(public).selected_pair().unwrap();
    assert_eq!(new_mapping.ip(), old_mapping.ip(), "same NAT, new port");
    // Consent holds on the new path on both sides for longer than the consent timeout (30 s): each
    // side's checks on its selected pair are answered, so data sent on it arrives.
    lab.run_until(Duration::from_secs(45), |_| false);
    assert!(lab.connected(), "lost the new path again");
    assert_eq!(lab.agent(public).selected_pair().unwrap().1, new_mapping);
    let failed_after_restore = lab.sim.endpoint(public).events()[restored_events..]
        .iter()
        .chain(lab.sim.endpoint(private).events())
        .any(|(_, e)| *e == IceEvent::StateChanged(IceConnectionState::Failed));
    assert!(!failed_after_restore, "ICE failed on the way");
}

#[test]
fn controlling_side_behind_a_remapping_nat_keeps_the_connection() {
    for seed in [1, 2, 3] {
        survives_remap(true, seed);
    }
}

#[test]
fn controlled_side_behind_a_remapping_nat_keeps_the_connection() {
    for seed in [1, 2, 3] {
        survives_remap(false, seed);
    }
}

/// `netlab.sh remap` in the simulator: the controlling agent's symmetric NAT forgets every mapping at
/// once (a NAT reboot, `conntrack -F`) while nothing is cut. The controlling agent's pair keeps working
/// from its side (its consent checks leave through the new mapping and are answered), so it never goes
/// stale and never renominates; the controlled public agent must follow on its own: it learns the new
/// mapping from the controlling agent's next consent check (USE-CANDIDATE, RFC 8445 §7.3.1.3-5), checks
/// it, and moves there once its own pair is stale (`recovery.rs`). The flush lands at every 500 ms of
/// the consent phase, so both ways of moving are taken: with the new pair's answer still fresh when the
/// old pair goes stale, and after rechecking it on the next check from the peer.
fn follows_a_nat_flush(seed: u64, offset: Duration) {
    let mut lab = Lab::new(Setup {
        seed,
        left: Place::Nat(NatConfig {
            port_preservation: false,
            ..NatConfig::symmetric()
        }),
        right: Place::Public,
        link: link(),
        ..Setup::default()
    });
    assert!(lab.run_until(Duration::from_secs(30), |l| l.connected()));
    lab.run_until(Duration::from_secs(2) + offset, |_| false);
    let (_, old_mapping) = lab.agent(lab.right).selected_pair().unwrap();
    let private_pair = lab.agent(lab.left).selected_pair();
    let flushed_at = lab.sim.now();
    lab.sim.net.reset_nat(lab.left_nat.unwrap());
    let moved = lab.run_until(Duration::from_secs(25), |l| {
        l.agent(l.right)
            .selected_pair()
            .is_some_and(|(_, r)| r != old_mapping)
    });
    assert!(
        moved,
        "seed {seed}, flush {offset:?} after connecting: the controlled side stayed on {old_mapping} ({:?})",
        lab.agent(lab.right).state()
    );
    // Consent holds on the new path for longer than the consent timeout.
    lab.run_until(Duration::from_secs(40), |_| false);
    assert!(
        lab.connected(),
        "seed {seed}, flush {offset:?}: lost the new path"
    );
    assert_ne!(lab.agent(lab.right).selected_pair().unwrap().1, old_mapping);
    assert_eq!(
        lab.agent(lab.left).selected_pair(),
        private_pair,
        "the controlling side's own pair never changed"
    );
    let failed = [lab.left, lab.right].iter().any(|&i| {
        lab.sim
            .endpoint(i)
            .events()
            .iter()
            .any(|(t, e)| *t > flushed_at && *e == IceEvent::StateChanged(IceConnectionState::Failed))
    });
    assert!(!failed, "seed {seed}, flush {offset:?}: ICE failed on the way");
}

#[test]
fn the_controlled_side_follows_when_the_controlling_sides_nat_forgets_its_mappings() {
    for seed in [1, 2, 3] {
        for half_seconds in 0..12 {
            follows_a_nat_flush(seed, Duration::from_millis(500 * half_seconds));
        }
    }
}
