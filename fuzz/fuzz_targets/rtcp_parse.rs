//! Parses arbitrary bytes as a compound RTCP packet (RFC 3550 §6, RFC 4585, RFC 5104, RFC 8888,
//! transport-cc) and reads every view; reports, NACK, FIR, REMB, CCFB and transport-cc feedback that
//! parse must write back from their values and re-parse to equal values; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_rtp::rtcp::{Ccfb, Fir, Nack, ReceiverReport, Remb, RtcpPacket, SenderReport, TransportCc};

fn reparse(out: &[u8]) -> RtcpPacket<'_> {
    RtcpPacket::parse(out).expect("written packet re-parses")
}

fuzz_target!(|data: &[u8]| {
    for packet in RtcpPacket::compound(data).flatten() {
        let mut out = Vec::new();
        match packet {
            RtcpPacket::SenderReport(sr) => {
                let blocks: Vec<_> = sr.reports.iter().collect();
                SenderReport::write(sr.ssrc, &sr.info, &blocks, &mut out).expect("writable");
                let RtcpPacket::SenderReport(again) = reparse(&out) else {
                    panic!("SR")
                };
                assert_eq!((again.ssrc, again.info), (sr.ssrc, sr.info));
                assert!(again.reports.iter().eq(sr.reports.iter()));
            }
            RtcpPacket::ReceiverReport(rr) => {
                let blocks: Vec<_> = rr.reports.iter().collect();
                ReceiverReport::write(rr.ssrc, &blocks, &mut out).expect("writable");
                let RtcpPacket::ReceiverReport(again) = reparse(&out) else {
                    panic!("RR")
                };
                assert!(again.reports.iter().eq(rr.reports.iter()));
            }
            RtcpPacket::Sdes(s) => s.chunks().for_each(|c| c.items().for_each(drop)),
            RtcpPacket::Bye(b) => b.sources().for_each(drop),
            RtcpPacket::Nack(n) => {
                let mut lost: Vec<u16> = n.lost().collect();
                Nack::write(n.sender_ssrc, n.media_ssrc, lost.iter().copied(), &mut out).expect("writable");
                let RtcpPacket::Nack(again) = reparse(&out) else {
                    panic!("NACK")
                };
                let mut named: Vec<u16> = again.lost().collect();
                lost.sort_unstable();
                lost.dedup();
                named.sort_unstable();
                named.dedup();
                assert_eq!(named, lost);
            }
            RtcpPacket::Fir(f) => {
                let entries: Vec<_> = f.entries().collect();
                Fir::write(f.sender_ssrc, &entries, &mut out).expect("writable");
                let RtcpPacket::Fir(again) = reparse(&out) else {
                    panic!("FIR")
                };
                assert!(again.entries().eq(f.entries()));
            }
            RtcpPacket::Remb(r) => {
                let ssrcs: Vec<_> = r.ssrcs().collect();
                // A saturated bitrate (mantissa × 2^63) does not fit a u64; skip the rewrite.
                if r.bitrate != u64::MAX {
                    Remb::write(r.sender_ssrc, r.bitrate, &ssrcs, &mut out).expect("writable");
                    let RtcpPacket::Remb(again) = reparse(&out) else {
                        panic!("REMB")
                    };
                    assert_eq!(again.bitrate, r.bitrate);
                    assert!(again.ssrcs().eq(r.ssrcs()));
                }
            }
            RtcpPacket::Ccfb(c) => {
                let metrics: Vec<Vec<_>> = c.reports().map(|r| r.metrics().map(|m| m.1).collect()).collect();
                let reports: Vec<_> = c
                    .reports()
                    .zip(&metrics)
                    .map(|(r, m)| (r.ssrc, r.begin_seq, &m[..]))
                    .collect();
                Ccfb::write(c.sender_ssrc, c.report_timestamp, &reports, &mut out).expect("writable");
                let RtcpPacket::Ccfb(again) = reparse(&out) else {
                    panic!("CCFB")
                };
                assert!(again
                    .reports()
                    .map(|r| (r.ssrc, r.begin_seq))
                    .eq(c.reports().map(|r| (r.ssrc, r.begin_seq))));
                assert!(again
                    .reports()
                    .flat_map(|r| r.metrics())
                    .eq(c.reports().flat_map(|r| r.metrics())));
            }
            RtcpPacket::TransportCc(t) => {
                let packets: Vec<_> = t.packets().collect();
                assert_eq!(packets.len(), usize::from(t.status_count));
                let list: Vec<_> = packets.iter().map(|p| (p.seq, p.arrival_us)).collect();
                if list.is_empty() {
                    continue;
                }
                // The builder re-derives the reference time from the first arrival, so compare
                // arrivals relative to the first one.
                TransportCc::write(t.sender_ssrc, t.media_ssrc, t.feedback_count, &list, &mut out)
                    .expect("writable");
                let RtcpPacket::TransportCc(again) = reparse(&out) else {
                    panic!("transport-cc")
                };
                let relative = |ps: &[oxirtc_rtp::rtcp::TwccPacket]| {
                    let first = ps.iter().find_map(|p| p.arrival_us).unwrap_or(0);
                    ps.iter()
                        .map(|p| (p.seq, p.arrival_us.map(|a| a - first)))
                        .collect::<Vec<_>>()
                };
                let again: Vec<_> = again.packets().collect();
                assert_eq!(relative(&again), relative(&packets));
            }
            _ => {}
        }
    }
});
