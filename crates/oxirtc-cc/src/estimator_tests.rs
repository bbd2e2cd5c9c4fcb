use super::*;
use crate::types::{ProbeCluster, ProbeClusterId};

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn t0() -> Instant {
    Instant::now()
}

fn at(start: Instant, ms: u64) -> Instant {
    start + Duration::from_millis(ms)
}

fn events(bwe: &mut BandwidthEstimator) -> Vec<Estimate> {
    std::iter::from_fn(|| bwe.poll_event()).collect()
}

fn sent(seq: u16, size: usize, probe: Option<ProbeClusterId>) -> SentPacket {
    SentPacket {
        transport_seq: Some(seq),
        size_bytes: size,
        probe_cluster: probe,
        ..Default::default()
    }
}

#[test]
fn starts_with_the_start_rate_and_the_initial_probes() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    assert!(events(&mut bwe).is_empty());
    assert_eq!(bwe.poll_timeout(), None, "nothing to do before anything happens");
    bwe.on_network_change(start);
    let e = events(&mut bwe);
    assert_eq!(e.len(), 3, "{e:?}");
    assert_eq!(
        (e[0].target_bps, e[0].pacing_rate_bps, e[0].probe),
        (300_000, 315_000, None)
    );
    let probes: Vec<u64> = e[1..]
        .iter()
        .filter_map(|e| e.probe)
        .map(|p| p.target_bps)
        .collect();
    assert_eq!(probes, [900_000, 1_800_000]);
    assert_eq!(bwe.estimate().probe, None);
    assert_eq!(bwe.poll_timeout(), Some(at(start, 25)));
    // The first packet alone would have started them too, once.
    let mut other = BandwidthEstimator::new(CcConfig::default()).unwrap();
    other.on_packet_sent(start, sent(0, 1000, None));
    assert_eq!(events(&mut other).len(), 3);
    other.on_packet_sent(start, sent(1, 1000, None));
    assert!(events(&mut other).is_empty());
}

/// Sends `n` packets of `size` from `seq`, `gap_us` apart from `from_us`; returns what the
/// receiver reports if they arrive `owd_us` later, spaced `arrival_gap_us`.
fn burst(
    bwe: &mut BandwidthEstimator,
    start: Instant,
    seq: u16,
    n: u16,
    (from_us, gap_us): (u64, u64),
    (owd_us, arrival_gap_us): (i64, i64),
    probe: Option<ProbeClusterId>,
) -> Vec<(u16, Option<i64>)> {
    (0..n)
        .map(|i| {
            let t = from_us + u64::from(i) * gap_us;
            bwe.on_packet_sent(start + Duration::from_micros(t), sent(seq + i, 1000, probe));
            let arrival = t as i64 + owd_us + i64::from(i) * (arrival_gap_us - gap_us as i64);
            (seq + i, Some(arrival))
        })
        .collect()
}

#[test]
fn probe_result_raises_the_estimate_and_probing_continues() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_network_change(start);
    let e = events(&mut bwe);
    let cluster: ProbeCluster = e[2].probe.expect("the 1.8 Mbit/s cluster");
    // Ten 1000-byte probes at 1.8 Mbit/s (4.44 ms apart), received at that spacing.
    let report = burst(
        &mut bwe,
        start,
        0,
        10,
        (0, 4_444),
        (30_000, 4_444),
        Some(cluster.id),
    );
    bwe.on_transport_feedback(at(start, 100), report);
    let target = bwe.target_bitrate();
    assert!((1_700_000..=1_810_000).contains(&target), "{target}");
    let stats = bwe.stats();
    assert_eq!((stats.probe_results > 0, stats.packets_received), (true, 10));
    // More than 70 % of what was probed: probe again at twice the estimate.
    let next: Vec<u64> = events(&mut bwe)
        .iter()
        .filter_map(|e| e.probe)
        .map(|p| p.target_bps)
        .collect();
    assert_eq!(next, [2 * target]);
    assert!(stats.rtt.is_some(), "an RTT from feedback until RTCP gives one");
}

#[test]
fn saturated_probe_measures_the_path() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_network_change(start);
    let cluster = events(&mut bwe)[2].probe.expect("cluster");
    // Sent at 1.8 Mbit/s, received at 1 Mbit/s (8 ms apart): 95 % of 1 Mbit/s.
    let report = burst(
        &mut bwe,
        start,
        0,
        10,
        (0, 4_444),
        (30_000, 8_000),
        Some(cluster.id),
    );
    bwe.on_transport_feedback(at(start, 150), report);
    let target = bwe.target_bitrate();
    assert!((930_000..=960_000).contains(&target), "{target}");
}

#[test]
fn remb_caps_and_can_be_ignored() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_network_change(start);
    events(&mut bwe);
    bwe.on_remb(start, 100_000);
    assert_eq!(bwe.target_bitrate(), 100_000);
    assert_eq!(events(&mut bwe).last().map(|e| e.target_bps), Some(100_000));
    bwe.on_remb(start, 0);
    assert_eq!(
        bwe.target_bitrate(),
        100_000,
        "lifting the cap does not raise the estimate by itself"
    );
    let config = CcConfig {
        use_remb: false,
        ..Default::default()
    };
    let mut deaf = BandwidthEstimator::new(config).unwrap();
    deaf.on_remb(start, 100_000);
    assert_eq!(deaf.target_bitrate(), 300_000);
}

#[test]
fn receiver_report_loss_only_without_transport_feedback() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_network_change(start);
    bwe.on_loss_report(start, 0);
    // 20 % loss (51/256) after the 2 s start phase: × (1 - 0.1).
    bwe.on_loss_report(at(start, 3_000), 51);
    let target = bwe.target_bitrate();
    assert!((260_000..=300_000).contains(&target), "{target}");
    assert_eq!(bwe.stats().loss_decreases, 1);
    // With transport-wide feedback flowing, receiver reports are ignored.
    let report = burst(&mut bwe, start, 0, 3, (3_000_000, 10_000), (20_000, 10_000), None);
    bwe.on_transport_feedback(at(start, 3_100), report);
    bwe.on_loss_report(at(start, 3_200), 200);
    assert_eq!(bwe.stats().loss_reports_ignored, 1);
}

#[test]
fn network_change_starts_over_and_limits_apply() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_network_change(start);
    let cluster = events(&mut bwe)[2].probe.expect("cluster");
    let report = burst(
        &mut bwe,
        start,
        0,
        10,
        (0, 4_444),
        (30_000, 4_444),
        Some(cluster.id),
    );
    bwe.on_transport_feedback(at(start, 100), report.clone());
    assert!(bwe.target_bitrate() > 1_000_000);
    bwe.on_network_change(at(start, 200));
    let e = events(&mut bwe);
    assert_eq!(e.first().map(|e| e.target_bps), Some(300_000));
    assert_eq!(e.iter().filter(|e| e.probe.is_some()).count(), 2, "probing again");
    // Feedback about the old path's packets is not taken.
    bwe.on_transport_feedback(at(start, 250), report);
    assert_eq!(bwe.stats().unknown_feedback, 10);
    assert!(bwe.set_bitrate_limits(at(start, 300), 50_000, 200_000).is_ok());
    assert_eq!(bwe.target_bitrate(), 200_000);
    assert_eq!(bwe.config().max_bps, 200_000);
    assert!(bwe.set_bitrate_limits(at(start, 300), 500_000, 200_000).is_err());
}

#[test]
fn periodic_update_stops_when_idle() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    bwe.on_packet_sent(start, sent(0, 1000, None));
    let mut now = start;
    let mut wakeups = 0;
    while let Some(t) = bwe.poll_timeout() {
        assert!(t > now || wakeups == 0);
        now = t;
        bwe.handle_timeout(now);
        wakeups += 1;
        assert!(wakeups < 1_000, "never stops");
    }
    // About 5 s of 25 ms wake-ups after the last packet.
    assert!((195..=205).contains(&wakeups), "{wakeups}");
}

#[test]
fn nonsense_feedback_is_counted_not_fatal() {
    let start = t0();
    let mut bwe = BandwidthEstimator::new(CcConfig::default()).unwrap();
    for seq in 0..5 {
        bwe.on_packet_sent(start, sent(seq, 1200, Some(ProbeClusterId(12345))));
    }
    bwe.on_transport_feedback(
        at(start, 10),
        [
            (0, Some(i64::MIN)),
            (1, Some(i64::MAX)),
            (1, Some(0)),
            (40_000, Some(5)),
            (2, None),
            (2, None),
        ],
    );
    let s = bwe.stats();
    assert_eq!(
        (
            s.unknown_feedback,
            s.duplicate_feedback,
            s.packets_lost,
            s.packets_received
        ),
        (1, 2, 1, 2)
    );
    bwe.on_rtt(start, Duration::MAX);
    bwe.on_transport_feedback(at(start, 20), std::iter::empty());
    bwe.handle_timeout(at(start, 1_000_000_000));
    assert!(bwe.target_bitrate() >= 30_000);
}
