//! Parses arbitrary bytes as a DCEP message (RFC 8832 §5); whatever parses must encode and re-parse to
//! an equal message, and never panic. Labels are UTF-8-lossy on parse, so the encoding has the input's
//! length only when the label and protocol bytes are valid UTF-8 on their own.
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
    if let DcepMessage::Open(_) = msg {
        let label_len = usize::from(u16::from_be_bytes([data[8], data[9]]));
        let (label, protocol) = data[12..].split_at(label_len);
        if std::str::from_utf8(label).is_ok() && std::str::from_utf8(protocol).is_ok() {
            assert_eq!(out.len(), data.len());
        }
    }
});
