//! A connection that goes quiet gives back its scratch buffers and spare queue capacity a short while
//! after the last datagram, and carries traffic again afterwards as if nothing happened.

mod common;

use std::time::Duration;

use common::{connect_with_channel, numbered, pair};
use oxirtc::{DataChannelInit, RtcEvent};
use oxirtc_netsim::LinkConfig;

/// How soon after a datagram a quiet connection wakes to release its buffers (`IDLE_RELEASE`).
const RELEASE: Duration = Duration::from_millis(100);

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

#[test]
fn a_quiet_connection_wakes_once_to_release_buffers_soon_after_the_last_datagram() {
    let mut sim = pair(11, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    // Quiet for a while: only the protocols' own timers (consent, heartbeat) remain.
    sim.run_for(Duration::from_secs(2));
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .channel(a)
        .unwrap()
        .send_text(now, "wake")
        .unwrap();
    let got = sim.run_until(Duration::from_secs(1), |s| {
        s.endpoint(1).received.get(&b).is_some_and(|m| !m.is_empty())
    });
    assert!(got, "the message did not arrive");
    let arrived = sim
        .endpoint(1)
        .events
        .iter()
        .rev()
        .find(|(_, e)| matches!(e, RtcEvent::ChannelMessage { .. }))
        .map(|(t, _)| *t)
        .unwrap();
    // The release wake-up is armed by the datagram that carried the message.
    let next = sim.endpoint(1).rtc.poll_timeout().unwrap();
    assert!(
        next <= arrived + RELEASE,
        "no wake-up within {RELEASE:?} of the last datagram"
    );
    // Once it has fired and nothing more arrived, it is not armed again.
    sim.run_for(RELEASE * 3);
    let quiet_since = sim.now();
    for side in [0, 1] {
        let next = sim.endpoint(side).rtc.poll_timeout().unwrap();
        assert!(next > quiet_since, "side {side}: a timer is overdue");
    }
}

#[test]
fn traffic_resumes_in_order_after_the_idle_release_in_both_directions() {
    let mut sim = pair(12, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    for round in 0..3u32 {
        // A burst large enough to grow every queue, then quiet well past the release.
        let base = round * 300;
        sim.endpoint_mut(0)
            .queue(a, (base..base + 300).map(|i| numbered(i, 1100)));
        sim.endpoint_mut(1)
            .queue(b, (base..base + 300).map(|i| numbered(i, 700)));
        let done = sim.run_until(Duration::from_secs(20), |s| {
            s.endpoint(1).received.get(&b).map_or(0, Vec::len) == (base + 300) as usize
                && s.endpoint(0).received.get(&a).map_or(0, Vec::len) == (base + 300) as usize
        });
        assert!(done, "round {round}: the burst did not arrive");
        sim.run_for(RELEASE * 5);
    }
    let to_b: Vec<Vec<u8>> = (0..900).map(|i| numbered(i, 1100)).collect();
    let to_a: Vec<Vec<u8>> = (0..900).map(|i| numbered(i, 700)).collect();
    let got_b: Vec<Vec<u8>> = sim.endpoint(1).received[&b]
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    let got_a: Vec<Vec<u8>> = sim.endpoint(0).received[&a]
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    assert_eq!(got_b, to_b);
    assert_eq!(got_a, to_a);
}
