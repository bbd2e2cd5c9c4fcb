//! An outage of the whole path mid-transfer: the retransmission timer's back-off is bounded
//! (`SctpConfig::max_backoff`), and when the layer below reports the path back
//! (`Association::handle_path_event`) a stalled association retransmits at once.
#![allow(clippy::unwrap_used)] // set-up helpers outside #[test] functions

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{payload, Link, Side, Sim};
use oxirtc_sctp::{PathEvent, Ppid, SctpEvent, SendOptions, StreamId};

/// A connected pair on a 10 ms link; while the returned cell holds an instant in the future, the
/// link carries nothing either way.
fn pair(seed: u8) -> (Sim, Rc<Cell<Option<Instant>>>) {
    let mut sim = Sim::default_pair(seed, Link::perfect(10));
    sim.connect_both();
    let down_until = Rc::new(Cell::new(None::<Instant>));
    let cut = down_until.clone();
    sim.filter = Some(Box::new(move |_, now, p| {
        let down = cut.get().is_some_and(|t| now < t);
        (!down).then_some(p)
    }));
    sim.log_packets = true;
    (sim, down_until)
}

/// Sends `n` messages of 1000 bytes from A (sent before the cut, so all are outstanding in it).
fn send(sim: &mut Sim, n: u64) {
    for i in 0..n {
        let now = sim.now;
        sim.a
            .send(
                now,
                StreamId(1),
                Ppid::BINARY,
                &payload(i, 1000),
                SendOptions::default(),
            )
            .unwrap();
    }
}

/// Cuts the path for `outage`, with `n` messages sent just before, and stops the clock exactly when
/// the path is back (returned).
fn outage(sim: &mut Sim, down: &Cell<Option<Instant>>, outage: Duration, n: u64) -> Instant {
    let start = sim.now;
    let back = start + outage;
    down.set(Some(back));
    send(sim, n);
    // Runs while a timer is due before `back`; nothing is in flight after the first 10 ms.
    sim.run_until(outage, |s| {
        let next = [s.a.poll_timeout(), s.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        s.now > start + Duration::from_millis(100) && next.is_none_or(|t| t >= back)
    });
    sim.now = back;
    back
}

fn aborted(sim: &Sim) -> bool {
    let abort = |e: &SctpEvent| matches!(e, SctpEvent::Aborted(_));
    Sim::has_event(&sim.events_a, abort) || Sim::has_event(&sim.events_b, abort)
}

/// RFC 9260 §6.3.3 E2 with RTO.Max 60 s would leave gaps of 6.4, 12.8, 25.6 s between
/// retransmissions in a 40 s outage; bounded at 3 s, no gap exceeds 3 s, so the first
/// retransmission after the path is back comes within 3 s and a NAT mapping with a lifetime above
/// 3 s is kept. Association.Max.Retrans (20) is not reached in 40 s.
#[test]
fn retransmissions_in_an_outage_are_at_most_max_backoff_apart() {
    let (mut sim, down) = pair(1);
    let t0 = sim.now;
    let back = outage(&mut sim, &down, Duration::from_secs(40), 5);
    let sent: Vec<Instant> = sim
        .sent_log
        .iter()
        .filter(|(t, side, _)| *side == Side::A && *t >= t0 && *t < back)
        .map(|(t, _, _)| *t)
        .collect();
    let widest = sent.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(
        widest <= Duration::from_secs(3),
        "a gap of {widest:?} between retransmissions in the outage"
    );
    assert!(sim.a.stats().t3_expirations >= 12, "{:?}", sim.a.stats());
    let done = sim.run_until(Duration::from_secs(4), |s| Sim::count(&s.events_b) == 5);
    assert!(done && !aborted(&sim), "{:?}", sim.events_a.last());
}

/// Told that the path is back, a stalled association retransmits at once: every message arrives
/// within a few round trips, not at the next (backed-off) T3 expiry.
#[test]
fn a_path_event_after_an_outage_retransmits_at_once() {
    for event in [PathEvent::Restored, PathEvent::Changed] {
        let (mut sim, down) = pair(2);
        let back = outage(&mut sim, &down, Duration::from_secs(20), 5);
        let next_timer = sim.a.poll_timeout().unwrap();
        assert!(
            next_timer > back + Duration::from_millis(500),
            "T3 would fire soon anyway"
        );
        let rto_before = sim.a.stats().rto;
        let now = sim.now;
        sim.a.handle_path_event(now, event);
        assert!(
            sim.a.stats().rto < rto_before,
            "back-off cleared: {:?}",
            sim.a.stats()
        );
        let done = sim.run_until(Duration::from_secs(1), |s| Sim::count(&s.events_b) == 5);
        assert!(done, "{event:?}: not delivered within 1 s: {:?}", sim.a.stats());
        assert!(
            sim.now < back + Duration::from_millis(200),
            "{event:?}: took {:?}",
            sim.now - back
        );
        assert_eq!(sim.a.stats().path_recoveries, 1);
        assert!(!aborted(&sim));
    }
}

/// The same outage without the event: delivery waits for T3 (the control for the test above).
#[test]
fn without_a_path_event_delivery_waits_for_the_timer() {
    let (mut sim, down) = pair(2);
    let back = outage(&mut sim, &down, Duration::from_secs(20), 5);
    let done = sim.run_until(Duration::from_secs(5), |s| Sim::count(&s.events_b) == 5);
    assert!(done && sim.now > back + Duration::from_millis(500));
}

/// After the outage cwnd restarts from one packet (RFC 9260 §6.3.3 E1, §7.2.1): the path event
/// retransmits within it, not a burst of the window the association had before.
#[test]
fn the_retransmission_after_a_path_event_stays_within_cwnd() {
    let (mut sim, down) = pair(3);
    let back = outage(&mut sim, &down, Duration::from_secs(20), 40);
    let mtu = 1188;
    assert!(sim.a.stats().cwnd <= mtu, "{:?}", sim.a.stats());
    let now = sim.now;
    let logged = sim.sent_log.len();
    sim.a.handle_path_event(now, PathEvent::Restored);
    sim.pump();
    let burst: Vec<usize> = sim.sent_log[logged..]
        .iter()
        .filter(|(t, side, _)| *side == Side::A && *t == back)
        .map(|(_, _, p)| p.len())
        .collect();
    // §7.2.4 rule 3 lets the first packet go regardless of cwnd, §6.1 rule B one more while the
    // flight is below cwnd; the rest waits for acks.
    assert!(burst.len() <= 2, "a burst of {} packets: {burst:?}", burst.len());
    let done = sim.run_until(Duration::from_secs(2), |s| Sim::count(&s.events_b) == 40);
    assert!(done && !aborted(&sim));
}

/// A working association is left alone: no retransmission for a path event while acks flow.
#[test]
fn a_path_event_on_a_working_association_retransmits_nothing() {
    let (mut sim, _down) = pair(4);
    send(&mut sim, 20);
    sim.run_until(Duration::from_millis(15), |_| false);
    let now = sim.now;
    sim.a.handle_path_event(now, PathEvent::Restored);
    sim.a.handle_path_event(now, PathEvent::Changed);
    assert!(sim.run_until(Duration::from_secs(2), |s| Sim::count(&s.events_b) == 20));
    let stats = sim.a.stats();
    assert_eq!(
        (stats.retransmissions, stats.path_recoveries),
        (0, 0),
        "{stats:?}"
    );
}
