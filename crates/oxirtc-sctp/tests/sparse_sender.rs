//! A sender that goes quiet: a warmed-up association (SRTT ~60 ms from a bulk transfer) then sends one
//! small message at a time. The receiver delays a lone packet's SACK by up to 200 ms (RFC 9260 §6.2),
//! which equals RTO.Min: without the I bit (RFC 9260 §6.1, RFC 7053) T3 fires before the SACK comes
//! back, retransmits spuriously, collapses cwnd and inflates SRTT with the delay.

mod common;

use std::time::Duration;

use common::{payload, Link, Side, Sim};
use oxirtc_sctp::{Ppid, SendOptions, StreamId};

#[test]
fn lone_messages_after_a_bulk_burst_are_acknowledged_without_delay_or_timeouts() {
    let mut sim = Sim::default_pair(7, Link::perfect(30));
    sim.connect_both();
    // Warm up: 256 KiB so SRTT settles on the 60 ms round trip (a SACK every second packet).
    for i in 0..16 {
        send(&mut sim, &payload(i, 16 << 10));
    }
    assert!(sim.run_until(Duration::from_secs(30), |s| {
        Sim::count(&s.events_b) >= 16 && s.a.stats().flight_size == 0
    }));
    let warm = sim.a.stats().clone();
    let srtt_warm = warm.srtt.unwrap();
    assert!(srtt_warm < Duration::from_millis(100), "warm SRTT {srtt_warm:?}");
    // Then ten lone 100-byte messages, one per second.
    let mut acked_after = Vec::new();
    for i in 0..10u64 {
        let sent_at = sim.now;
        send(&mut sim, &payload(100 + i, 100));
        sim.pump();
        assert!(sim.run_until(Duration::from_secs(5), |s| s.a.stats().flight_size == 0));
        acked_after.push(sim.now - sent_at);
        sim.run_until(Duration::from_secs(1), |_| false);
    }
    let st = sim.a.stats().clone();
    eprintln!(
        "acked after {acked_after:?}; srtt {:?} rto {:?} t3 {} rtx {}",
        st.srtt, st.rto, st.t3_expirations, st.retransmissions
    );
    assert_eq!(
        st.t3_expirations, warm.t3_expirations,
        "spurious T3 on lone messages"
    );
    assert_eq!(
        st.retransmissions, warm.retransmissions,
        "spurious retransmissions"
    );
    for (i, t) in acked_after.iter().enumerate() {
        assert!(
            *t < Duration::from_millis(100),
            "lone message {i} acknowledged after {t:?}"
        );
    }
    assert!(
        st.srtt.unwrap() < Duration::from_millis(100),
        "SRTT grew to {:?}",
        st.srtt
    );
}

/// One ordered message from A to B, now.
#[allow(clippy::unwrap_used)] // test helper: a refused send should fail the test loudly
fn send(sim: &mut Sim, data: &[u8]) {
    let now = sim.now;
    sim.assoc(Side::A)
        .send(now, StreamId(1), Ppid::BINARY, data, SendOptions::default())
        .unwrap();
}
