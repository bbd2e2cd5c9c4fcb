//! Parses arbitrary bytes as a STUN message; every accessor must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::default_provider;
use oxirtc_stun::{is_stun, Message, MAX_ATTRIBUTES};

fuzz_target!(|data: &[u8]| {
    let claimed = is_stun(data);
    let Ok(m) = Message::parse(data) else { return };
    // A message that parses always passes the demultiplexer check when its first byte is in range.
    assert!(claimed || data[0] > 3);
    let _ = (m.class(), m.method(), m.transaction_id(), m.raw());
    for attr in m.attributes() {
        let _ = attr.map(|a| a.attr_type());
    }
    let _ = (
        m.xor_mapped_address(),
        m.mapped_address(),
        m.xor_relayed_address(),
    );
    let _ = (m.xor_peer_address(), m.other_address(), m.response_origin());
    let _ = (m.username(), m.realm(), m.nonce(), m.software(), m.error_code());
    let _ = (
        m.priority(),
        m.use_candidate(),
        m.ice_controlling(),
        m.ice_controlled(),
    );
    let _ = (
        m.lifetime(),
        m.data(),
        m.has_message_integrity(),
        m.has_fingerprint(),
    );
    assert!(m.unknown_comprehension_required().len() <= MAX_ATTRIBUTES);
    // The RFC 5769 short-term password, so the seeds exercise the success path too.
    let _ = m.verify_integrity(default_provider(), b"VOkJxbRl1RmTxUk/WvJxBt");
});
