//! Whatever the network (or a confused caller) feeds them, the estimator and the pacer neither
//! panic nor grow without bound, and their outputs stay within their configured limits.

use oxirtc_cc::*;
use proptest::prelude::*;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Op {
    /// Advance the clock by this many µs (negative: a step back).
    Time(i64),
    Sent(Option<u16>, usize, Option<u32>),
    Feedback(Vec<(u16, Option<i64>)>),
    Rtt(u64),
    Remb(u64),
    Loss(u8),
    Timeout,
    NetworkChange,
    Limits(u64, u64),
    Enqueue(u8, usize),
    Probe(u64, u32, u64),
    Drain,
}

fn arrival() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(Some),
        (0i64..10_000_000).prop_map(Some),
        Just(Some(i64::MIN)),
        Just(Some(i64::MAX)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop_oneof![(-1_000i64..200_000), (0i64..100_000_000)].prop_map(Op::Time),
        6 => (proptest::option::of(any::<u16>()), 0usize..70_000, proptest::option::of(0u32..8))
            .prop_map(|(s, n, p)| Op::Sent(s, n, p)),
        3 => proptest::collection::vec((any::<u16>(), arrival()), 0..300).prop_map(Op::Feedback),
        1 => any::<u64>().prop_map(Op::Rtt),
        1 => any::<u64>().prop_map(Op::Remb),
        1 => any::<u8>().prop_map(Op::Loss),
        2 => Just(Op::Timeout),
        1 => Just(Op::NetworkChange),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(a, b)| Op::Limits(a, b)),
        4 => (0u8..4, 0usize..100_000).prop_map(|(c, n)| Op::Enqueue(c, n)),
        1 => (any::<u64>(), any::<u32>(), any::<u64>()).prop_map(|(r, p, b)| Op::Probe(r, p, b)),
        3 => Just(Op::Drain),
    ]
}

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn origin() -> Instant {
    Instant::now()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_panic_bounded_outputs(ops in proptest::collection::vec(op(), 1..150)) {
        let start = origin() + Duration::from_secs(1);
        let mut now = start;
        let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
        let mut pacer = Pacer::new(PacerConfig::default()).unwrap();
        let class = |c: u8| [PacketClass::Audio, PacketClass::Retransmission, PacketClass::Video, PacketClass::Data][usize::from(c)];
        for op in ops {
            match op {
                Op::Time(us) => {
                    now = if us < 0 { now.checked_sub(Duration::from_micros(us.unsigned_abs())).unwrap_or(now) } else { now + Duration::from_micros(us as u64) };
                }
                Op::Sent(seq, size, probe) => bwe.on_packet_sent(now, SentPacket {
                    transport_seq: seq,
                    size_bytes: size,
                    probe_cluster: probe.map(ProbeClusterId),
                    ..Default::default()
                }),
                Op::Feedback(list) => bwe.on_transport_feedback(now, list),
                Op::Rtt(us) => bwe.on_rtt(now, Duration::from_micros(us)),
                Op::Remb(bps) => bwe.on_remb(now, bps),
                Op::Loss(f) => bwe.on_loss_report(now, f),
                Op::Timeout => bwe.handle_timeout(now),
                Op::NetworkChange => bwe.on_network_change(now),
                Op::Limits(a, b) => { let _ = bwe.set_bitrate_limits(now, a, b); }
                Op::Enqueue(c, n) => { let _ = pacer.enqueue(now, class(c), n); }
                Op::Probe(r, p, b) => pacer.start_probe(now, ProbeCluster { id: ProbeClusterId(1), target_bps: r, min_probes: p, min_bytes: b }),
                Op::Drain => {
                    let mut released = 0;
                    while let Some(_r) = pacer.poll_send(now) {
                        released += 1;
                        prop_assert!(released < 5_000, "one instant releases a bounded number");
                    }
                    while pacer.poll_dropped().is_some() {}
                }
            }
            let mut n = 0;
            while let Some(e) = bwe.poll_event() {
                n += 1;
                prop_assert!(n <= 64, "events are bounded");
                let c = bwe.config();
                prop_assert!(e.target_bps >= c.min_bps && e.target_bps <= c.max_bps, "{e:?}");
                pacer.set_estimate(now, &e);
            }
            let c = bwe.config();
            prop_assert!(bwe.target_bitrate() >= c.min_bps && bwe.target_bitrate() <= c.max_bps);
            prop_assert!(pacer.queued_packets() <= 2048 && pacer.queued_bytes() <= (2 << 20));
            let _ = (bwe.poll_timeout(), pacer.poll_timeout(), bwe.stats(), pacer.stats());
        }
    }
}
