//! Bytes from the network never panic (CONTRIBUTING.md convention 9): arbitrary bytes, and bytes
//! that pass the version check, through the RTP and RTCP parsers and every accessor.

mod support;

use oxirtc_rtp::ext::ExtensionKind;
use oxirtc_rtp::ext::{Extension, ExtensionMap};
use oxirtc_rtp::packet::RtpPacket;
use oxirtc_rtp::rtcp::RtcpPacket;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn rtp_parse_never_panics(mut bytes in prop::collection::vec(any::<u8>(), 0..120), v2 in any::<bool>()) {
        if v2 && !bytes.is_empty() {
            bytes[0] = 0x80 | (bytes[0] & 0x3f);
        }
        if let Ok(p) = RtpPacket::parse(&bytes) {
            support::touch_rtp(&p);
        }
    }

    #[test]
    fn rtcp_parse_never_panics(mut bytes in prop::collection::vec(any::<u8>(), 0..160), pt in 200u8..=207) {
        if bytes.len() >= 2 {
            // Mostly valid headers, so the bodies get exercised.
            bytes[0] = 0x80 | (bytes[0] & 0x3f);
            bytes[1] = pt;
            let words = bytes.len() / 4;
            if bytes.len() >= 4 && words > 0 && bytes[2] & 1 == 0 {
                bytes[2] = 0;
                bytes[3] = (words - 1).min(255) as u8;
            }
        }
        for p in RtcpPacket::compound(&bytes).flatten() {
            support::touch_rtcp(&p);
        }
        if let Ok(p) = RtcpPacket::parse(&bytes) {
            support::touch_rtcp(&p);
        }
    }

    #[test]
    fn extension_values_never_panic(data in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut map = ExtensionMap::new();
        for (i, k) in ExtensionKind::ALL.into_iter().enumerate() {
            map.insert(i as u8 + 1, k).unwrap();
            let _ = map.parse(Extension { id: i as u8 + 1, data: &data });
        }
    }
}
