//! Write → parse gives back the values written, for arbitrary values.

use oxirtc_rtp::ext::Extension;
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::*;
use proptest::prelude::*;

fn ssrc() -> impl Strategy<Value = Ssrc> {
    any::<u32>().prop_map(Ssrc)
}

/// Extension elements: one-byte-sized, or (when `two`) anything the two-byte form carries.
fn elements(two: bool) -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    let (ids, lens) = if two {
        (1u8..=255, 0usize..=40)
    } else {
        (1u8..=14, 1usize..=16)
    };
    prop::collection::vec((ids, prop::collection::vec(any::<u8>(), lens)), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn rtp_round_trip(
        marker in any::<bool>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(), s in ssrc(),
        csrcs in prop::collection::vec(ssrc(), 0..=15),
        (two, exts) in any::<bool>().prop_flat_map(|two| (Just(two), elements(two))),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        padding in any::<u8>(),
    ) {
        let exts: Vec<_> = exts.iter().map(|(id, d)| Extension { id: *id, data: d }).collect();
        let h = RtpHeader {
            marker, payload_type: pt, sequence_number: seq, timestamp: ts, ssrc: s,
            csrcs: &csrcs, extensions: &exts, allow_two_byte: two,
        };
        let mut out = vec![0xee; 3];
        let n = h.write(&payload, padding, &mut out).unwrap();
        prop_assert_eq!(n, out.len() - 3);
        let p = RtpPacket::parse(&out[3..]).unwrap();
        prop_assert_eq!(
            (p.marker(), p.payload_type(), p.sequence_number(), p.timestamp(), p.ssrc()),
            (marker, pt, seq, ts, s)
        );
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs.clone());
        prop_assert_eq!(p.extensions().collect::<Vec<_>>(), exts.clone());
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        prop_assert_eq!(p.extension_block().is_some(), !exts.is_empty());
    }

    #[test]
    fn nack_names_exactly_the_lost(mut lost in prop::collection::vec(any::<u16>(), 1..60), base in any::<u16>()) {
        // As a receiver sees them: increasing from some base, across the wrap.
        lost.iter_mut().for_each(|l| *l %= 2000);
        lost.sort_unstable();
        lost.dedup();
        let lost: Vec<u16> = lost.iter().map(|l| base.wrapping_add(*l)).collect();
        let mut out = Vec::new();
        Nack::write(Ssrc(1), Ssrc(2), lost.iter().copied(), &mut out).unwrap();
        let RtcpPacket::Nack(n) = RtcpPacket::parse(&out).unwrap() else { panic!("not a NACK") };
        prop_assert_eq!(n.lost().collect::<Vec<_>>(), lost);
    }

    #[test]
    fn nack_in_any_order_names_the_same_set(lost in prop::collection::vec(any::<u16>(), 1..40)) {
        let mut named: Vec<u16> = nack_pairs(lost.iter().copied()).flat_map(NackPair::lost).collect();
        named.sort_unstable();
        named.dedup();
        let mut want = lost.clone();
        want.sort_unstable();
        want.dedup();
        prop_assert_eq!(named, want);
    }

    #[test]
    fn transport_cc_round_trip(
        base in any::<u16>(),
        first in 0i64..1_000_000_000_000,
        steps in prop::collection::vec((1u16..20, prop::option::weighted(0.8, -32768i64..=32767), 0u8..4), 1..300),
        count in any::<u8>(),
    ) {
        // Mostly small positive deltas, sometimes any 16-bit delta; arrivals on the 250 µs grid.
        let mut seq = base;
        let mut at = first - first % 250;
        let mut list = Vec::new();
        let mut expected = Vec::new();
        for (i, (gap, delta, kind)) in steps.iter().enumerate() {
            if i > 0 {
                for k in 1..*gap {
                    expected.push(TwccPacket { seq: seq.wrapping_add(k), arrival_us: None });
                }
                seq = seq.wrapping_add(*gap);
            }
            let arrival = delta.map(|d| {
                let ticks = if *kind == 0 { d } else { d.rem_euclid(256) };
                at += ticks * 250;
                at
            });
            list.push((seq, arrival));
            expected.push(TwccPacket { seq, arrival_us: arrival });
        }
        // Every delta fits 16 bits and the first is below 64 ms, so writing cannot fail.
        let mut out = Vec::new();
        TransportCc::write(Ssrc(1), Ssrc(2), count, &list, &mut out).unwrap();
        let RtcpPacket::TransportCc(t) = RtcpPacket::parse(&out).unwrap() else { panic!("not transport-cc") };
        prop_assert_eq!(t.feedback_count, count);
        prop_assert_eq!(t.packets().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn ccfb_round_trip(
        sender in ssrc(), rts in any::<u32>(),
        blocks in prop::collection::vec(
            (ssrc(), any::<u16>(), prop::collection::vec((any::<bool>(), 0u8..4, 0u16..0x2000), 0..40)),
            0..5,
        ),
    ) {
        let metrics: Vec<Vec<CcfbMetric>> = blocks.iter().map(|(_, _, m)| m.iter().map(|&(received, ecn, ato)| {
            if received { CcfbMetric { received, ecn, ato } } else { CcfbMetric::default() }
        }).collect()).collect();
        let reports: Vec<_> = blocks.iter().zip(&metrics).map(|((s, b, _), m)| (*s, *b, &m[..])).collect();
        let mut out = Vec::new();
        Ccfb::write(sender, rts, &reports, &mut out).unwrap();
        let RtcpPacket::Ccfb(c) = RtcpPacket::parse(&out).unwrap() else { panic!("not CCFB") };
        prop_assert_eq!((c.sender_ssrc, c.report_timestamp), (sender, rts));
        let got: Vec<_> = c.reports().map(|r| (r.ssrc, r.begin_seq, r.metrics().map(|m| m.1).collect::<Vec<_>>())).collect();
        let want: Vec<_> = reports.iter().map(|(s, b, m)| (*s, *b, m.to_vec())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn reports_round_trip(
        s in ssrc(), ntp in any::<u64>(), rtp in any::<u32>(), pc in any::<u32>(), oc in any::<u32>(),
        blocks in prop::collection::vec(
            (ssrc(), any::<u8>(), -(1i32 << 23)..(1 << 23), any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
            0..=31,
        ),
    ) {
        let blocks: Vec<_> = blocks.into_iter().map(|(ssrc, fraction_lost, cumulative_lost, ehs, jitter, lsr, dlsr)| ReportBlock {
            ssrc, fraction_lost, cumulative_lost, extended_highest_seq: ehs, jitter, last_sr: lsr, delay_since_last_sr: dlsr,
        }).collect();
        let info = SenderInfo { ntp_time: ntp, rtp_time: rtp, packet_count: pc, octet_count: oc };
        let mut out = Vec::new();
        SenderReport::write(s, &info, &blocks, &mut out).unwrap();
        ReceiverReport::write(s, &blocks, &mut out).unwrap();
        let packets: Vec<_> = RtcpPacket::compound(&out).map(Result::unwrap).collect();
        let [RtcpPacket::SenderReport(sr), RtcpPacket::ReceiverReport(rr)] = packets[..] else { panic!("SR, RR") };
        prop_assert_eq!((sr.ssrc, sr.info), (s, info));
        prop_assert_eq!(sr.reports.iter().collect::<Vec<_>>(), blocks.clone());
        prop_assert_eq!(rr.reports.iter().collect::<Vec<_>>(), blocks);
    }

    #[test]
    fn sdes_bye_remb_round_trip(
        cname in "[a-z0-9@.]{1,40}", reason in prop::option::of("[ -~]{0,60}"),
        sources in prop::collection::vec(ssrc(), 0..=31), bitrate in any::<u64>(),
    ) {
        let mut out = Vec::new();
        Sdes::write_cname(Ssrc(7), &cname, &mut out).unwrap();
        Bye::write(&sources, reason.as_deref(), &mut out).unwrap();
        Remb::write(Ssrc(7), bitrate, &sources, &mut out).unwrap();
        let packets: Vec<_> = RtcpPacket::compound(&out).map(Result::unwrap).collect();
        let [RtcpPacket::Sdes(s), RtcpPacket::Bye(b), RtcpPacket::Remb(r)] = packets[..] else { panic!("SDES, BYE, REMB") };
        prop_assert_eq!(s.chunks().next().and_then(|c| c.cname()), Some(cname.as_bytes()));
        prop_assert_eq!(b.sources().collect::<Vec<_>>(), sources.clone());
        // An empty reason is indistinguishable from none (its length byte is zero padding).
        prop_assert_eq!(b.reason, reason.as_deref().filter(|r| !r.is_empty()).map(str::as_bytes));
        prop_assert_eq!(r.ssrcs().collect::<Vec<_>>(), sources);
        let shift = (64 - bitrate.leading_zeros()).saturating_sub(18);
        prop_assert_eq!(r.bitrate, bitrate >> shift << shift);
    }
}
