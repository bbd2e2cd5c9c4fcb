//! Parsing and writing allocate nothing per packet once the caller's buffers have their capacity
//! (CONTRIBUTING.md convention 7): counted by a global allocator wrapper. One test in its own binary,
//! so no other test's allocations are counted.

use std::alloc::System;

use oxirtc_rtp::ext::values::{AbsSendTime, TransportCcSeq};
use oxirtc_rtp::ext::{Extension, ExtensionKind, ExtensionMap};
use oxirtc_rtp::packet::seq::SeqExtender;
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::{Nack, ReportBlock, RtcpPacket, TransportCc};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One packet's worth of work: write an RTP packet with extensions, parse it, read its extensions,
/// then a compound RR + CNAME + NACK and a transport-cc feedback, and parse those.
fn round(
    seq: u16,
    map: &ExtensionMap,
    ext: &mut SeqExtender,
    rtp: &mut Vec<u8>,
    rtcp: &mut Vec<u8>,
) -> usize {
    let ast = AbsSendTime::from_micros(u64::from(seq) * 1000).to_bytes();
    let tcc = TransportCcSeq(seq).to_bytes();
    let exts = [Extension { id: 1, data: &ast }, Extension { id: 3, data: &tcc }];
    let header = RtpHeader {
        payload_type: 96,
        sequence_number: seq,
        timestamp: u32::from(seq) * 3000,
        ssrc: Ssrc(9),
        extensions: &exts,
        ..Default::default()
    };
    rtp.clear();
    header.write(&[0x5a; 1200], 0, rtp).expect("writes");
    let p = RtpPacket::parse(rtp).expect("parses");
    let mut seen = p.payload().len();
    seen += p.extensions().filter_map(|e| map.parse(e).ok().flatten()).count();
    ext.extend(p.sequence_number());

    rtcp.clear();
    let block = ReportBlock {
        ssrc: Ssrc(9),
        extended_highest_seq: u32::from(seq),
        ..Default::default()
    };
    let mut body = Compound::receiver_report(rtcp, Ssrc(1), &[block])
        .and_then(|c| c.cname(Ssrc(1), "oxirtc"))
        .expect("compound");
    body.add(|o| Nack::write(Ssrc(1), Ssrc(9), [seq.wrapping_sub(5), seq.wrapping_sub(3)], o))
        .expect("NACK");
    let arrivals = [
        (seq, Some(1_000_000)),
        (seq.wrapping_add(2), Some(1_002_000)),
        (seq.wrapping_add(3), None),
    ];
    body.add(|o| TransportCc::write(Ssrc(1), Ssrc(9), seq as u8, &arrivals, o))
        .expect("transport-cc");
    for packet in RtcpPacket::compound(rtcp) {
        seen += match packet.expect("parses") {
            RtcpPacket::Nack(n) => n.lost().count(),
            RtcpPacket::TransportCc(t) => t.packets().filter(|p| p.arrival_us.is_some()).count(),
            _ => 1,
        };
    }
    seen
}

#[test]
fn parse_and_write_do_not_allocate() {
    let mut map = ExtensionMap::new();
    map.insert(1, ExtensionKind::AbsSendTime).expect("id 1");
    map.insert(3, ExtensionKind::TransportCc).expect("id 3");
    let mut ext = SeqExtender::new();
    let mut rtp = Vec::with_capacity(1500);
    let mut rtcp = Vec::with_capacity(1500);
    round(65_000, &map, &mut ext, &mut rtp, &mut rtcp);
    let region = Region::new(GLOBAL);
    let mut seen = 0;
    for seq in (65_001..=65_535).chain(0..500) {
        seen += round(seq, &map, &mut ext, &mut rtp, &mut rtcp);
    }
    let change = region.change();
    assert_eq!((change.allocations, change.reallocations), (0, 0), "{change:?}");
    // 1200 payload bytes, 2 extensions, RR, SDES, 2 lost, 2 arrivals per round.
    assert_eq!(seen, 1035 * (1200 + 2 + 2 + 2 + 2));
}
