//! A transfer through a 15 s outage of the private side's path, during which its NAT forgets the
//! mapping (3 s lifetime, as in the netlab `mapping_expiry_during_a_cut` test): when the path comes
//! back the NAT maps the private side on a new port, ICE moves to it (oxirtc-ice `recovery.rs`), and
//! SCTP, told by `Rtc` that the path works again (oxirtc-sctp `path.rs`), retransmits at once
//! instead of waiting out a timer backed off during the outage. The transfer must resume within
//! [`RESUME_WITHIN`] of the path coming back, never abort, and deliver every message in order.
#![allow(clippy::unwrap_used)] // test: a failed set-up should panic loudly

mod common;

use std::time::Duration;

use common::{negotiate, numbered, Peer};
use oxirtc::{DataChannelInit, PeerConnectionState};
use oxirtc_netsim::{LinkConfig, Simulation};

const MESSAGES: u32 = 2000;
const LEN: usize = 1000;
const OUTAGE: Duration = Duration::from_secs(15);
/// From the path coming back to the first message delivered after it. The private side's first
/// sign of the path is its next consent check (every 4–6 s, RFC 7675 §5.1, which forbids less
/// than 4 s), so this allows one check interval and a few round trips; before the change, SCTP's
/// timer, doubled through the outage, waited 10 s or more, and each gap outlived the mapping.
const RESUME_WITHIN: Duration = Duration::from_secs(4);

/// Outage lengths beyond 15 s, spread over one consent interval (4–6 s).
const EXTRA_MS: [u64; 6] = [0, 900, 1700, 2600, 3400, 4300];

fn link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        rate_bps: Some(1_000_000), // 2 MB take ~16 s: the outage lands mid-transfer
        ..LinkConfig::default()
    }
}

/// The private peer behind a symmetric NAT whose mappings live 3 s without traffic (see
/// `common::behind_symmetric_nat`).
fn world(seed: u64) -> (Simulation<Peer>, oxirtc_netsim::HostId) {
    common::behind_symmetric_nat(seed, Duration::from_secs(3), link())
}

/// The private side sends to the public one; `offerer` is ICE-controlling (RFC 8829 §3.5.3). The
/// outage lasts 15 s plus `extra` (which moves its end against the consent checks' phase).
/// Returns how long after the path came back the first message arrived.
fn transfer_through_outage(offerer: usize, seed: u64, extra: Duration) -> Duration {
    let (mut sim, private_host) = world(seed);
    let now = sim.now();
    let id = sim
        .endpoint_mut(offerer)
        .rtc
        .create_data_channel(now, "file", DataChannelInit::default())
        .unwrap();
    negotiate(&mut sim, offerer);
    let other = 1 - offerer;
    assert!(sim.run_until(Duration::from_secs(30), |s| {
        s.endpoint(offerer).open.contains(&id)
            && !s.endpoint(other).open.is_empty()
            && s.endpoint(1).rtc.selected_pair().is_some()
    }));
    let (send_id, recv_id) = if offerer == 0 {
        (id, *sim.endpoint(1).open.last().unwrap())
    } else {
        (*sim.endpoint(0).open.last().unwrap(), id)
    };
    let before = sim.endpoint(1).rtc.selected_pair().unwrap().1;
    sim.endpoint_mut(0)
        .queue(send_id, (0..MESSAGES).map(|i| numbered(i, LEN)));
    let got = |s: &Simulation<Peer>| s.endpoint(1).received.get(&recv_id).map_or(0, Vec::len);
    assert!(sim.run_until(Duration::from_secs(60), |s| got(s) >= MESSAGES as usize / 5));
    // The private side's link carries nothing, either way, for 15 s: the NAT forgets the mapping.
    sim.net.set_link(private_host, LinkConfig { loss: 1.0, ..link() });
    sim.run_for(OUTAGE + extra);
    let at_cut = got(&sim);
    assert!(at_cut < MESSAGES as usize, "the transfer ended before the cut");
    sim.net.set_link(private_host, link());
    let back = sim.now();
    let resumed = sim.run_until(Duration::from_secs(60), |s| got(s) > at_cut);
    let resumed_after = sim.now() - back;
    let done = resumed && sim.run_until(Duration::from_secs(120), |s| got(s) == MESSAGES as usize);
    for side in 0..2 {
        let rtc = &sim.endpoint(side).rtc;
        assert!(
            rtc.close_reason().is_none() && rtc.state() != PeerConnectionState::Failed,
            "offerer {offerer}: side {side} ended: {:?}",
            rtc.close_reason()
        );
    }
    let after = sim.endpoint(1).rtc.selected_pair();
    assert!(
        done,
        "offerer {offerer}: {} of {MESSAGES} arrived ({at_cut} at the cut, resumed: {resumed}); public side's pair {after:?}, was {before:?}",
        got(&sim)
    );
    assert_ne!(after.unwrap().1, before, "the NAT should have mapped a new port");
    for (i, (data, _)) in sim.endpoint(1).received[&recv_id].iter().enumerate() {
        assert_eq!(*data, numbered(i as u32, LEN), "message {i}");
    }
    eprintln!(
        "offerer {offerer}, seed {seed}, outage {:?}: resumed {resumed_after:?} after the path came back",
        OUTAGE + extra
    );
    resumed_after
}

#[test]
fn transfer_resumes_quickly_after_an_outage_that_expired_the_controlling_side_s_mapping() {
    for (seed, extra_ms) in (41..).zip(EXTRA_MS) {
        let after = transfer_through_outage(0, seed, Duration::from_millis(extra_ms));
        assert!(
            after <= RESUME_WITHIN,
            "seed {seed}: resumed only {after:?} after the path came back"
        );
    }
}

#[test]
fn transfer_resumes_quickly_after_an_outage_that_expired_the_controlled_side_s_mapping() {
    for (seed, extra_ms) in (61..).zip(EXTRA_MS) {
        let after = transfer_through_outage(1, seed, Duration::from_millis(extra_ms));
        assert!(
            after <= RESUME_WITHIN,
            "seed {seed}: resumed only {after:?} after the path came back"
        );
    }
}
