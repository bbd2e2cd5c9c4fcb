//! A transfer through a NAT that forgets the private side's mapping mid-way (a path cut longer than the
//! NAT's mapping timeout) and maps it again on a new port: ICE moves the selected pair to the new
//! mapping without signaling (oxirtc-ice `recovery.rs`) and every message arrives, in order.
#![allow(clippy::unwrap_used)] // test: a failed set-up should panic loudly

mod common;

use std::time::Duration;

use common::{negotiate, numbered, Peer};
use oxirtc::DataChannelInit;
use oxirtc_netsim::{LinkConfig, Simulation};

const MESSAGES: u32 = 2000;
const LEN: usize = 1000;

fn link() -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(10),
        rate_bps: Some(400_000), // 2 MB take ~40 s: the cut lands mid-transfer
        ..LinkConfig::default()
    }
}

/// The private peer behind a symmetric NAT whose mappings live 8 s without traffic (see
/// `common::behind_symmetric_nat`).
fn world(seed: u64) -> (Simulation<Peer>, oxirtc_netsim::HostId) {
    common::behind_symmetric_nat(seed, Duration::from_secs(8), link())
}

/// The private side sends; `offerer` decides which side is ICE-controlling (the offerer, RFC 8829 §3.5.3).
fn transfer_survives_remap(offerer: usize, seed: u64) {
    let (mut sim, private_host) = world(seed);
    let now = sim.now();
    let id = sim
        .endpoint_mut(offerer)
        .rtc
        .create_data_channel(now, "file", DataChannelInit::default())
        .unwrap();
    negotiate(&mut sim, offerer);
    let other = 1 - offerer;
    // Channels can open before the nomination lands (data may flow on a valid pair, RFC 8445 §12.1):
    // wait for the selected pair as well.
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
    assert!(sim.run_until(Duration::from_secs(60), |s| got(s) >= MESSAGES as usize / 4));
    // Cut the private side for 12 s: the NAT forgets its mapping (8 s) and makes a new one afterwards.
    let dead = LinkConfig { loss: 1.0, ..link() };
    sim.net.set_link(private_host, dead);
    sim.run_for(Duration::from_secs(12));
    let at_cut = got(&sim);
    assert!(at_cut < MESSAGES as usize, "the transfer ended before the cut");
    sim.net.set_link(private_host, link());
    let done = sim.run_until(Duration::from_secs(120), |s| got(s) == MESSAGES as usize);
    let after = sim.endpoint(1).rtc.selected_pair();
    assert!(
        done,
        "offerer {offerer}: {} of {MESSAGES} arrived ({at_cut} at the cut); public side's pair {after:?}, was {before:?}",
        got(&sim)
    );
    let after = after.unwrap().1;
    assert_ne!(after, before, "the NAT should have mapped a new port");
    for (i, (data, _)) in sim.endpoint(1).received[&recv_id].iter().enumerate() {
        assert_eq!(*data, numbered(i as u32, LEN), "message {i}");
    }
}

#[test]
fn transfer_continues_when_the_controlling_side_s_nat_remaps() {
    transfer_survives_remap(0, 31);
}

#[test]
fn transfer_continues_when_the_controlled_side_s_nat_remaps() {
    transfer_survives_remap(1, 32);
}
