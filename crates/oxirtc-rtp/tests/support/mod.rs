//! Helpers shared by the integration tests.

use oxirtc_rtp::ext::{ExtensionKind, ExtensionMap};
use oxirtc_rtp::packet::RtpPacket;
use oxirtc_rtp::rtcp::RtcpPacket;

/// Reads every accessor of an RTP packet, checking the lengths add up.
pub fn touch_rtp(p: &RtpPacket<'_>) {
    let _ = (
        p.marker(),
        p.payload_type(),
        p.sequence_number(),
        p.timestamp(),
        p.ssrc(),
    );
    assert!(p.csrcs().count() <= 15);
    let mut map = ExtensionMap::new();
    for (i, k) in ExtensionKind::ALL.into_iter().enumerate() {
        map.insert(i as u8 + 1, k).expect("ids 1-9");
    }
    for e in p.extensions() {
        let _ = map.parse(e);
    }
    assert_eq!(
        p.header_len() + p.payload().len() + p.padding_len(),
        p.as_bytes().len()
    );
}

/// Reads every field and iterator of an RTCP packet.
pub fn touch_rtcp(p: &RtcpPacket<'_>) -> usize {
    match p {
        RtcpPacket::SenderReport(sr) => sr.reports.iter().count(),
        RtcpPacket::ReceiverReport(rr) => rr.reports.iter().count(),
        RtcpPacket::Sdes(s) => s
            .chunks()
            .map(|c| c.items().map(|i| i.text.len()).sum::<usize>())
            .sum(),
        RtcpPacket::Bye(b) => b.sources().count() + b.reason.map_or(0, <[u8]>::len),
        RtcpPacket::App(a) => a.data.len(),
        RtcpPacket::Nack(n) => n.lost().count(),
        RtcpPacket::TransportCc(t) => {
            let n = t.packets().count();
            assert_eq!(n, usize::from(t.status_count));
            n
        }
        RtcpPacket::Ccfb(c) => c.reports().map(|r| r.metrics().count()).sum(),
        RtcpPacket::Pli(_) => 0,
        RtcpPacket::Fir(f) => f.entries().count(),
        RtcpPacket::Remb(r) => r.ssrcs().count(),
        RtcpPacket::UnknownFeedback { fci, .. } => fci.len(),
        RtcpPacket::Unknown { body, .. } => body.len(),
        _ => 0,
    }
}
