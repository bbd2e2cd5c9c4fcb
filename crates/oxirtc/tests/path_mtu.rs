//! Path MTU (issue 7 §1 (d), RFC 8899): two peers over links that drop every datagram larger than
//! their MTU, as a path with DF set does without a PTB. The netsim MTU counts UDP payload bytes, so
//! an IPv4 path of `ip` bytes is a link MTU of `ip - 28`.

mod common;

use std::time::Duration;

use common::{connect_with_channel, numbered, pair};
use oxirtc::{DataChannelInit, IPV4_UDP_OVERHEAD};
use oxirtc_netsim::{LinkConfig, Simulation};

fn link(ip_mtu: usize) -> LinkConfig {
    LinkConfig {
        mtu: ip_mtu - IPV4_UDP_OVERHEAD,
        queue_bytes: 1024 * 1024,
        ..LinkConfig::with_delay(Duration::from_millis(10))
    }
}

/// Sends `n` messages of 64 KiB each way; returns whether all arrived (checked intact and in order).
fn both_ways(sim: &mut Simulation<common::Peer>, n: u32, limit: Duration) -> bool {
    const LEN: usize = 64 * 1024;
    let (a, b) = connect_with_channel(sim, 0, DataChannelInit::default());
    sim.endpoint_mut(0).queue(a, (0..n).map(|i| numbered(i, LEN)));
    sim.endpoint_mut(1).queue(b, (0..n).map(|i| numbered(i, LEN)));
    let ok = sim.run_until(limit, |s| {
        s.endpoint(0).received.get(&a).map_or(0, Vec::len) == n as usize
            && s.endpoint(1).received.get(&b).map_or(0, Vec::len) == n as usize
    });
    for (side, id) in [(0, a), (1, b)] {
        for (i, (data, _)) in sim
            .endpoint(side)
            .received
            .get(&id)
            .into_iter()
            .flatten()
            .enumerate()
        {
            assert_eq!(
                data,
                &numbered(i as u32, LEN),
                "message {i} on side {side} corrupt or out of order"
            );
        }
    }
    ok
}

#[test]
fn ip_mtu_1200_1280_1500_carry_every_byte_and_pmtud_fits_the_path() {
    for (seed, ip) in [(21u64, 1200usize), (22, 1280), (23, 1500)] {
        let mut sim = pair(seed, link(ip));
        assert!(
            both_ways(&mut sim, 48, Duration::from_secs(300)),
            "IP MTU {ip}: transfer incomplete"
        );
        // Let a search that met lost probes finish (3 probe timers per size too large).
        sim.run_until(Duration::from_secs(90), |_| false);
        for side in 0..2 {
            let st = sim.endpoint(side).rtc.sctp_stats().unwrap().clone();
            let budget = ip - IPV4_UDP_OVERHEAD - oxirtc::DTLS_RECORD_OVERHEAD;
            assert!(st.pmtu <= budget, "IP MTU {ip} side {side}: {st:?}");
            assert!(
                st.pmtu + 20 > budget,
                "IP MTU {ip} side {side}: search stopped early: {st:?}"
            );
            assert!(st.pmtu_probes_acked >= 1, "{st:?}");
        }
        assert_eq!(sim.net.stats().dropped_loss, 0);
        if ip < 1500 {
            assert!(
                sim.net.stats().dropped_mtu > 0,
                "IP MTU {ip}: probes larger than the path were sent"
            );
        }
    }
}

#[test]
fn discovery_off_stays_at_base_on_a_1200_path() {
    let config = |seed| oxirtc::RtcConfig {
        rng_seed: Some([seed; 32]),
        path_mtu: oxirtc::PathMtuConfig {
            discovery: false,
            ..oxirtc::PathMtuConfig::default()
        },
        ..oxirtc::RtcConfig::default()
    };
    let mut sim = pair(24, link(1200));
    *sim.endpoint_mut(0) = common::Peer::with_config(config(1));
    *sim.endpoint_mut(1) = common::Peer::with_config(config(2));
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .add_host_candidate(now, common::A_ADDR.parse().unwrap())
        .unwrap();
    sim.endpoint_mut(1)
        .rtc
        .add_host_candidate(now, common::B_ADDR.parse().unwrap())
        .unwrap();
    assert!(both_ways(&mut sim, 16, Duration::from_secs(120)));
    assert_eq!(sim.net.stats().dropped_mtu, 0, "nothing ever exceeds IP 1200");
    let st = sim.endpoint(0).rtc.sctp_stats().unwrap();
    assert_eq!((st.pmtu, st.pmtu_probes_sent), (1200 - 28 - 37, 0));
}
