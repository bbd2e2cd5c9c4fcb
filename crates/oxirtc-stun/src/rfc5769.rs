//! RFC 5769 test vectors: parse, verify integrity and fingerprint, check values, and re-encode.
//! The vectors pad SOFTWARE and USERNAME with 0x20 (§2.1-2.3), which the encoder reproduces with
//! [`MessageEncoder::padding_byte`]; §2.4 pads with zeros.

use hex_literal::hex;
use oxirtc_crypto::default_provider;

use crate::*;

const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";
const TID: TransactionId = TransactionId(hex!("b7e7a701bc34d686fa87dfae"));

/// RFC 5769 §2.1 sample request.
pub(crate) const REQUEST: [u8; 108] = hex!(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e2074657374 20636c69656e74"
    "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a68367659202020"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf"
);

/// RFC 5769 §2.2 sample IPv4 response.
pub(crate) const RESPONSE_V4: [u8; 80] = hex!(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96"
);

/// RFC 5769 §2.3 sample IPv6 response.
pub(crate) const RESPONSE_V6: [u8; 92] = hex!(
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c"
);

/// RFC 5769 §2.4 sample request with long-term authentication.
pub(crate) const REQUEST_LONG_TERM: [u8; 116] = hex!(
    "000100602112a44278ad3433c6ad72c029da412e"
    "00060012e3839ee38388e383aae38383e382afe382b90000"
    "0015001c662f2f3439396b39353464364f4c33346f4c39465354767936347341"
    "0014000b6578616d706c652e6f726700"
    "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666"
);

const USERNAME_2_4: &str = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";

#[test]
fn sample_request() {
    let m = Message::parse(&REQUEST).unwrap();
    assert_eq!(
        (m.class(), m.method(), m.transaction_id()),
        (Class::Request, Method::BINDING, TID)
    );
    assert_eq!(m.software(), Some("STUN test client"));
    assert_eq!(m.priority(), Some(0x6e0001ff));
    assert_eq!(m.ice_controlled(), Some(0x932ff9b151263b36));
    assert_eq!(m.username(), Some("evtj:h6vY"));
    assert!(m.has_fingerprint() && m.has_message_integrity());
    assert_eq!(
        m.verify_integrity(default_provider(), &short_term_key(PASSWORD)),
        Ok(())
    );
    assert_eq!(
        m.verify_integrity(default_provider(), &short_term_key("wrong")),
        Err(StunError::IntegrityMismatch)
    );
    assert!(m.unknown_comprehension_required().is_empty());
    assert!(m.attributes().all(|a| a.is_ok()));
}

#[test]
fn sample_request_reencodes_exactly() {
    let crypto = default_provider();
    let mut out = Vec::new();
    let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TID);
    enc.padding_byte(b' ')
        .add(&Attribute::Software("STUN test client"))
        .add(&Attribute::Priority(0x6e0001ff))
        .add(&Attribute::IceControlled(0x932ff9b151263b36))
        .add(&Attribute::Username("evtj:h6vY"))
        .add_message_integrity(crypto, &short_term_key(PASSWORD))
        .add_fingerprint();
    assert_eq!(enc.finish(), REQUEST.len());
    assert_eq!(out, REQUEST);
}

fn check_response(bytes: &[u8], addr: &str) {
    let m = Message::parse(bytes).unwrap();
    assert_eq!(
        (m.class(), m.method(), m.transaction_id()),
        (Class::Success, Method::BINDING, TID)
    );
    assert_eq!(m.software(), Some("test vector"));
    assert_eq!(m.xor_mapped_address(), Some(addr.parse().unwrap()));
    assert!(m.has_fingerprint());
    assert_eq!(
        m.verify_integrity(default_provider(), &short_term_key(PASSWORD)),
        Ok(())
    );

    let mut out = Vec::new();
    let mut enc = MessageEncoder::new(&mut out, Class::Success, Method::BINDING, TID);
    enc.padding_byte(b' ')
        .add(&Attribute::Software("test vector"))
        .add(&Attribute::XorMappedAddress(addr.parse().unwrap()))
        .add_message_integrity(default_provider(), &short_term_key(PASSWORD))
        .add_fingerprint();
    let n = enc.finish();
    assert_eq!(n, bytes.len());
    assert_eq!(out, bytes);
}

#[test]
fn sample_ipv4_response() {
    check_response(&RESPONSE_V4, "192.0.2.1:32853");
}

#[test]
fn sample_ipv6_response() {
    check_response(&RESPONSE_V6, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

#[test]
fn sample_request_long_term() {
    let crypto = default_provider();
    let m = Message::parse(&REQUEST_LONG_TERM).unwrap();
    assert_eq!(m.username(), Some(USERNAME_2_4));
    assert_eq!(m.nonce(), Some("f//499k954d6OL34oL9FSTvy64sA"));
    assert_eq!(m.realm(), Some("example.org"));
    assert!(!m.has_fingerprint());
    // The password after SASLprep is "TheMatrIX" (RFC 5769 §2.4).
    let key = long_term_key(
        crypto,
        USERNAME_2_4,
        "example.org",
        "TheMatrIX",
        PasswordAlgorithm::Md5,
    );
    assert_eq!(m.verify_integrity(crypto, &key), Ok(()));

    let mut out = Vec::new();
    let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, m.transaction_id());
    enc.add(&Attribute::Username(USERNAME_2_4))
        .add(&Attribute::Nonce("f//499k954d6OL34oL9FSTvy64sA"))
        .add(&Attribute::Realm("example.org"))
        .add_message_integrity(crypto, &key);
    enc.finish();
    assert_eq!(out, REQUEST_LONG_TERM);
}

#[test]
fn corrupted_vectors_fail() {
    // Flip one bit of the IPv4 response's XOR-MAPPED-ADDRESS: the FINGERPRINT catches it first.
    let mut bad = RESPONSE_V4;
    bad[40] ^= 1;
    assert!(matches!(
        Message::parse(&bad),
        Err(StunError::FingerprintMismatch { .. })
    ));
    // In the long-term request (no FINGERPRINT), the integrity check catches it.
    let mut bad = REQUEST_LONG_TERM;
    bad[30] ^= 0x20;
    let m = Message::parse(&bad).unwrap();
    let key = long_term_key(
        default_provider(),
        USERNAME_2_4,
        "example.org",
        "TheMatrIX",
        PasswordAlgorithm::Md5,
    );
    assert_eq!(
        m.verify_integrity(default_provider(), &key),
        Err(StunError::IntegrityMismatch)
    );
    // A wrong FINGERPRINT value alone.
    let mut bad = REQUEST;
    bad[107] ^= 0xff;
    assert!(matches!(
        Message::parse(&bad),
        Err(StunError::FingerprintMismatch { .. })
    ));
}

#[test]
fn missing_integrity() {
    let mut out = Vec::new();
    MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TID).add_fingerprint();
    let m = Message::parse(&out).unwrap();
    assert_eq!(
        m.verify_integrity(default_provider(), b"k"),
        Err(StunError::IntegrityMissing)
    );
}
