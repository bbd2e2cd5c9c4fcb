use super::*;

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn t0() -> Instant {
    Instant::now()
}

fn at(start: Instant, us: i64) -> Instant {
    start + Duration::from_micros(us as u64)
}

/// Runs the pacer from `from_us` to `until_us`, jumping from timeout to timeout; returns each
/// release with its time (µs since `start`).
fn drive(p: &mut Pacer, start: Instant, from_us: i64, until_us: i64) -> Vec<(i64, Release)> {
    let mut out = Vec::new();
    let mut t = from_us;
    while t <= until_us {
        while let Some(r) = p.poll_send(at(start, t)) {
            out.push((t, r));
        }
        let Some(next) = p.poll_timeout() else { break };
        let next_us = next.duration_since(start).as_micros() as i64;
        assert!(next_us >= t, "timeouts never go back");
        t = next_us.max(t + 1);
    }
    out
}

fn pacer(start: Instant, rate_bps: u64) -> Pacer {
    let mut p = Pacer::new(PacerConfig::default()).unwrap();
    p.set_rates(start, rate_bps, 0);
    p
}

#[test]
fn releases_at_the_pacing_rate_in_short_bursts() {
    let start = t0();
    let mut p = pacer(start, 800_000); // 100 kB/s
    for _ in 0..100 {
        p.enqueue(start, PacketClass::Video, 1000);
    }
    let out = drive(&mut p, start, 0, 3_000_000);
    assert_eq!(out.len(), 100);
    let last = out.last().unwrap().0;
    // 100 kB at 100 kB/s: 1 s, less the first burst.
    assert!((980_000..=1_000_000).contains(&last), "{last}");
    // No 10 ms window holds more than 5 ms of the rate (500 bytes) plus a packet, plus the
    // rate over the window itself.
    for (i, (t, _)) in out.iter().enumerate() {
        let in_window = out[i..].iter().take_while(|(u, _)| *u < t + 10_000).count();
        assert!(in_window <= 3, "{in_window} packets within 10 ms at {t}");
    }
    assert_eq!(p.poll_timeout(), None);
    assert_eq!(p.stats().sent_bytes.video, 100_000);
}

#[test]
fn audio_first_then_retransmissions_then_video() {
    let start = t0();
    let mut p = pacer(start, 80_000);
    let v = p.enqueue(start, PacketClass::Video, 1000);
    let r = p.enqueue(start, PacketClass::Retransmission, 1000);
    let a = p.enqueue(start, PacketClass::Audio, 100);
    let ids: Vec<PacketId> = drive(&mut p, start, 0, 1_000_000)
        .into_iter()
        .map(|(_, r)| match r {
            Release::Packet { id, .. } => id,
            Release::Padding { .. } => panic!("no padding without a padding rate"),
        })
        .collect();
    assert_eq!(ids, [a, r, v]);
    // Audio is never held by the rate: right behind a large video packet it still goes at once.
    p.enqueue(at(start, 2_000_000), PacketClass::Video, 1000);
    p.enqueue(at(start, 2_000_000), PacketClass::Video, 1000);
    let first = p.poll_send(at(start, 2_000_000));
    assert!(matches!(
        first,
        Some(Release::Packet {
            class: PacketClass::Video,
            ..
        })
    ));
    assert_eq!(
        p.poll_send(at(start, 2_000_000)),
        None,
        "the rate holds the second video packet"
    );
    p.enqueue(at(start, 2_000_000), PacketClass::Audio, 100);
    assert!(matches!(
        p.poll_send(at(start, 2_000_000)),
        Some(Release::Packet {
            class: PacketClass::Audio,
            ..
        })
    ));
}

#[test]
fn full_queue_drops_oldest_video_never_audio_first() {
    let start = t0();
    let config = PacerConfig {
        max_packets: 10,
        ..Default::default()
    };
    let mut p = Pacer::new(config).unwrap();
    let audio: Vec<PacketId> = (0..3)
        .map(|_| p.enqueue(start, PacketClass::Audio, 100))
        .collect();
    let video: Vec<PacketId> = (0..7)
        .map(|_| p.enqueue(start, PacketClass::Video, 1000))
        .collect();
    assert_eq!(p.poll_dropped(), None);
    let more: Vec<PacketId> = (0..2)
        .map(|_| p.enqueue(start, PacketClass::Retransmission, 1000))
        .collect();
    let dropped: Vec<PacketId> = std::iter::from_fn(|| p.poll_dropped()).collect();
    assert_eq!(dropped, video[..2]);
    assert_eq!(p.stats().dropped.video, 2);
    assert_eq!(p.queued_packets(), 10);
    // Only audio and retransmissions left after the video is gone: retransmissions go next.
    for _ in 0..5 {
        p.enqueue(start, PacketClass::Audio, 100);
    }
    let dropped: Vec<PacketId> = std::iter::from_fn(|| p.poll_dropped()).collect();
    assert_eq!(dropped, [video[2], video[3], video[4], video[5], video[6]]);
    p.enqueue(start, PacketClass::Audio, 100);
    assert_eq!(p.poll_dropped(), Some(more[0]));
    assert_eq!(p.stats().dropped.audio, 0);
    assert!(!audio.is_empty());
}

#[test]
fn byte_bound_and_oversized_packet() {
    let start = t0();
    let config = PacerConfig {
        max_bytes: 5_000,
        ..Default::default()
    };
    let mut p = Pacer::new(config).unwrap();
    for _ in 0..5 {
        p.enqueue(start, PacketClass::Video, 1000);
    }
    assert_eq!(p.poll_dropped(), None);
    let big = p.enqueue(start, PacketClass::Data, 10_000);
    let dropped: Vec<PacketId> = std::iter::from_fn(|| p.poll_dropped()).collect();
    assert_eq!(dropped.len(), 6);
    assert_eq!(dropped.last(), Some(&big));
    assert_eq!((p.queued_packets(), p.queued_bytes()), (0, 0));
}

#[test]
fn probe_cluster_sent_at_its_rate_with_padding() {
    let start = t0();
    let mut p = pacer(start, 750_000);
    let cluster = ProbeCluster {
        id: ProbeClusterId(7),
        target_bps: 2_000_000,
        min_probes: 5,
        min_bytes: 3_750,
    };
    p.start_probe(start, cluster);
    assert_eq!(p.poll_send(start), None, "no probe before any media");
    assert_eq!(p.poll_timeout(), None);
    p.enqueue(start, PacketClass::Video, 1000);
    let out = drive(&mut p, start, 0, 100_000);
    let probes: Vec<(i64, usize)> = out
        .iter()
        .filter_map(|(t, r)| match r {
            Release::Packet { probe: Some(c), .. } => Some((*t, 1000)).filter(|_| *c == cluster.id),
            Release::Padding {
                size_bytes,
                probe: Some(c),
            } if *c == cluster.id => Some((*t, *size_bytes)),
            _ => None,
        })
        .collect();
    let bytes: usize = probes.iter().map(|(_, s)| s).sum();
    assert!(probes.len() >= 5 && bytes >= 3_750, "{probes:?}");
    // 1000 bytes then 1000-byte paddings (2 Mbit/s × 4 ms), 4 ms apart at 2 Mbit/s.
    assert_eq!(probes[1].0 - probes[0].0, 4_000, "{probes:?}");
    let span = probes.last().unwrap().0 - probes[0].0;
    let rate = (bytes - probes.last().unwrap().1) as f64 * 8e6 / span as f64;
    assert!((rate - 2_000_000.0).abs() < 100_000.0, "{rate}");
    assert_eq!(p.stats().probe_clusters_sent, 1);
    assert!(
        out.iter()
            .all(|(_, r)| !matches!(r, Release::Padding { probe: None, .. })),
        "no padding outside the probe"
    );
}

#[test]
fn padding_at_the_padding_rate_when_idle() {
    let start = t0();
    let mut p = pacer(start, 1_000_000);
    let mut e = Estimate {
        target_bps: 400_000,
        available_bps: 400_000,
        pacing_rate_bps: 1_000_000,
        padding_rate_bps: 200_000,
        probe: None,
    };
    p.set_estimate(start, &e);
    assert_eq!(p.poll_send(start), None, "no padding before media");
    p.enqueue(start, PacketClass::Video, 500);
    let out = drive(&mut p, start, 0, 1_000_000);
    let padding: usize = out
        .iter()
        .filter_map(|(_, r)| match r {
            Release::Padding { size_bytes, .. } => Some(*size_bytes),
            _ => None,
        })
        .sum();
    // 200 kbit/s for a second, less what the media packet used.
    assert!((24_000..=25_500).contains(&padding), "{padding}");
    e.padding_rate_bps = 0;
    p.set_estimate(at(start, 1_000_000), &e);
    assert!(drive(&mut p, start, 1_000_001, 2_000_000).is_empty());
}

#[test]
fn long_queue_drains_within_the_queue_time_limit() {
    let start = t0();
    let mut p = pacer(start, 100_000); // 12.5 kB/s: 100 kB would take 8 s
    for _ in 0..100 {
        p.enqueue(start, PacketClass::Video, 1000);
    }
    let out = drive(&mut p, start, 0, 10_000_000);
    assert_eq!(out.len(), 100);
    let last = out.last().unwrap().0;
    assert!(last < 2_100_000, "{last}");
}

#[test]
fn data_gets_its_share_and_no_more() {
    let start = t0();
    let mut p = pacer(start, 8_000_000);
    for _ in 0..400 {
        p.enqueue(start, PacketClass::Video, 1000);
        p.enqueue(start, PacketClass::Data, 1000);
    }
    let out = drive(&mut p, start, 0, 200_000);
    let data = out
        .iter()
        .filter(|(_, r)| {
            matches!(
                r,
                Release::Packet {
                    class: PacketClass::Data,
                    ..
                }
            )
        })
        .count();
    assert!(out.len() > 150);
    let share = data as f64 / out.len() as f64;
    assert!((0.22..=0.28).contains(&share), "{share}");
    // With no video, data takes the whole rate.
    let mut p = pacer(start, 8_000_000);
    for _ in 0..400 {
        p.enqueue(start, PacketClass::Data, 1000);
    }
    assert!(drive(&mut p, start, 0, 200_000).len() > 190);
}

#[test]
fn config_checked() {
    let c = PacerConfig {
        data_share: 1.0,
        ..Default::default()
    };
    assert!(Pacer::new(c).is_err());
    let c = PacerConfig {
        max_packets: 0,
        ..Default::default()
    };
    assert!(c.validate().is_err());
}
