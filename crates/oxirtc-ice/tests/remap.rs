//! A NAT that forgets one side's mapping mid-session and makes a new one on another port (RFC 4787 §4.3
//! mapping timeout after a path cut): ICE moves the selected pair to the new mapping without signaling
//! (`recovery.rs`), for either role of the side behind the NAT.
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
