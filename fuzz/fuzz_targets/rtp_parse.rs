//! Parses arbitrary bytes as an RTP packet (RFC 3550 §5.1, RFC 8285 extensions) and reads every
//! accessor; whatever parses must write back (from its parsed values) and re-parse to equal values,
//! and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_rtp::ext::{ExtensionForm, ExtensionKind, ExtensionMap};
use oxirtc_rtp::packet::{RtpHeader, RtpPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    assert_eq!(p.header_len() + p.payload().len() + p.padding_len(), data.len());
    let mut map = ExtensionMap::new();
    for (i, k) in ExtensionKind::ALL.into_iter().enumerate() {
        map.insert(i as u8 + 1, k).expect("ids 1 to 9 are valid");
    }
    let exts: Vec<_> = p.extensions().collect();
    for e in &exts {
        let _ = map.parse(*e);
    }
    let csrcs: Vec<_> = p.csrcs().collect();
    let two_byte = p
        .extension_block()
        .is_some_and(|b| ExtensionForm::from_profile(b.profile) == Some(ExtensionForm::TwoByte));
    let header = RtpHeader {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence_number: p.sequence_number(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
        csrcs: &csrcs,
        extensions: &exts,
        allow_two_byte: two_byte,
    };
    let padding = u8::try_from(p.padding_len()).expect("the pad count is one byte");
    let mut out = Vec::new();
    header
        .write(p.payload(), padding, &mut out)
        .expect("parsed values are writable");
    let q = RtpPacket::parse(&out).expect("written packet re-parses");
    assert_eq!(
        (
            q.marker(),
            q.payload_type(),
            q.sequence_number(),
            q.timestamp(),
            q.ssrc()
        ),
        (
            p.marker(),
            p.payload_type(),
            p.sequence_number(),
            p.timestamp(),
            p.ssrc()
        )
    );
    assert!(q.csrcs().eq(p.csrcs()));
    assert!(q.extensions().eq(p.extensions()));
    assert_eq!((q.payload(), q.padding_len()), (p.payload(), p.padding_len()));
});
