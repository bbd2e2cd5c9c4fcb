//! Parses arbitrary bytes as a DCEP message (RFC 8832 §5); whatever parses must encode to the exact
//! input (the format has one encoding), and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc::channel::dcep::DcepMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = DcepMessage::parse(data) else {
        return;
    };
    let mut out = Vec::new();
    msg.encode(&mut out);
    let again = DcepMessage::parse(&out).expect("encoded DCEP re-parses");
    assert_eq!(again, msg);
    // Labels are UTF-8-lossy on parse, so only valid input round-trips byte for byte.
    if std::str::from_utf8(data).is_ok() || data.len() <= 12 {
        assert_eq!(out.len(), data.len());
    }
});
