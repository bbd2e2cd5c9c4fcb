use super::*;
use crate::ext::Extension;
use hex_literal::hex;

/// RFC 3550 §5.1 layout, every field set, with the RFC 8285 §4.2 example extension and padding.
const FULL: [u8; 48] = hex!(
    "b2"       // V=2 P=1 X=1 CC=2
    "e0"       // M=1 PT=96
    "1234"     // sequence number
    "deadbeef" // timestamp
    "11223344" // SSRC
    "aaaaaaaa" // CSRC 1
    "bbbbbbbb" // CSRC 2
    "bede0003" // one-byte profile, 3 words
    "10ff"     // id 1, L=0: 1 byte ff
    "21aabb"   // id 2, L=1: 2 bytes
    "0000"     // padding between elements
    "33 01020304" // id 3, L=3: 4 bytes
    "0102030405060708" // payload
    "00000004" // padding, count 4
);

#[test]
fn parses_every_field() {
    let p = RtpPacket::parse(&FULL).expect("valid packet");
    assert!(p.marker());
    assert_eq!(p.payload_type(), 96);
    assert_eq!(p.sequence_number(), 0x1234);
    assert_eq!(p.timestamp(), 0xdead_beef);
    assert_eq!(p.ssrc(), Ssrc(0x1122_3344));
    assert_eq!(
        p.csrcs().collect::<Vec<_>>(),
        [Ssrc(0xaaaa_aaaa), Ssrc(0xbbbb_bbbb)]
    );
    assert_eq!(p.extension_block().map(|b| b.profile), Some(0xbede));
    let exts: Vec<_> = p.extensions().collect();
    assert_eq!(
        exts,
        [
            Extension { id: 1, data: &[0xff] },
            Extension {
                id: 2,
                data: &[0xaa, 0xbb]
            },
            Extension {
                id: 3,
                data: &[1, 2, 3, 4]
            }
        ]
    );
    assert_eq!(p.extension(2), Some(&[0xaa, 0xbb][..]));
    assert_eq!(p.payload(), hex!("0102030405060708"));
    assert_eq!(p.padding_len(), 4);
    assert_eq!(p.header_len(), 12 + 8 + 4 + 12);
}

#[test]
fn writer_gives_back_the_same_bytes() {
    let csrcs = [Ssrc(0xaaaa_aaaa), Ssrc(0xbbbb_bbbb)];
    // The writer packs elements without the inner padding the hand-built vector has.
    let exts = [
        Extension { id: 1, data: &[0xff] },
        Extension {
            id: 2,
            data: &[0xaa, 0xbb],
        },
        Extension {
            id: 3,
            data: &[1, 2, 3, 4],
        },
    ];
    let h = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 0x1234,
        timestamp: 0xdead_beef,
        ssrc: Ssrc(0x1122_3344),
        csrcs: &csrcs,
        extensions: &exts,
        allow_two_byte: false,
    };
    let mut out = vec![0x55]; // appends after what is there
    let n = h.write(&hex!("0102030405060708"), 4, &mut out).expect("writes");
    assert_eq!(n, 48);
    let expected = hex!(
        "b2e0 1234 deadbeef 11223344 aaaaaaaa bbbbbbbb bede0003"
        "10ff 21aabb 3301020304 0000" // elements, then zero padding to the word
        "0102030405060708 00000004"
    );
    assert_eq!(&out[1..], expected);
    let mut slice = [0u8; 48];
    assert_eq!(h.write_to_slice(&hex!("0102030405060708"), 4, &mut slice), Ok(48));
    assert_eq!(slice, expected);
    assert!(matches!(
        h.write_to_slice(&[], 0, &mut [0u8; 10]),
        Err(RtpError::BufferTooSmall {
            needed: 36,
            available: 10
        })
    ));
}

#[test]
fn minimal_packet_without_options() {
    let b = hex!("80 00 0000 00000000 00000001");
    let p = RtpPacket::parse(&b).expect("valid");
    assert!(!p.marker());
    assert_eq!(p.payload(), &[] as &[u8]);
    assert_eq!(p.csrcs().len(), 0);
    assert_eq!(p.extension_block(), None);
    assert_eq!(p.extensions().count(), 0);
}

#[test]
fn rejects_what_an_attacker_could_send() {
    let err = |b: &[u8]| RtpPacket::parse(b).expect_err("must be rejected");
    assert!(matches!(
        err(&hex!("80 00 0000 00000000 000000")),
        RtpError::Truncated { .. }
    ));
    assert!(matches!(
        err(&hex!("40 00 0000 00000000 00000001")),
        RtpError::BadVersion { version: 1, .. }
    ));
    // CC=1 but no CSRC.
    assert!(matches!(
        err(&hex!("81 00 0000 00000000 00000001")),
        RtpError::Truncated { .. }
    ));
    // Extension says 1 word, none present.
    assert!(matches!(
        err(&hex!("90 00 0000 00000000 00000001 bede0001")),
        RtpError::Truncated { .. }
    ));
    // Pad count 0, and pad count larger than what follows the header.
    assert!(matches!(
        err(&hex!("a0 00 0000 00000000 00000001 00")),
        RtpError::BadPadding { count: 0, .. }
    ));
    assert!(matches!(
        err(&hex!("a0 00 0000 00000000 00000001 0003")),
        RtpError::BadPadding {
            count: 3,
            available: 2,
            ..
        }
    ));
    // One-byte element running past its block.
    assert!(matches!(
        err(&hex!("90 00 0000 00000000 00000001 bede0001 13aabbcc")),
        RtpError::Truncated { .. }
    ));
    // Id 0 with a length is not padding.
    assert!(matches!(
        err(&hex!("90 00 0000 00000000 00000001 bede0001 01aa0000")),
        RtpError::Malformed { .. }
    ));
}

#[test]
fn padding_may_cover_the_whole_payload() {
    let b = hex!("a0 00 0000 00000000 00000001 000004 04");
    let p = RtpPacket::parse(&b[..16]).expect("valid");
    assert_eq!(p.payload(), &[] as &[u8]);
    assert_eq!(p.padding_len(), 4);
}

#[test]
fn id_15_ends_a_one_byte_block_and_other_profiles_stay_opaque() {
    let b = hex!("90 00 0000 00000000 00000001 bede0002 10aa f0 ff 21bbcc00");
    let p = RtpPacket::parse(&b).expect("valid");
    assert_eq!(
        p.extensions().collect::<Vec<_>>(),
        [Extension { id: 1, data: &[0xaa] }]
    );
    let b = hex!("90 00 0000 00000000 00000001 abcd0001 ffffffff");
    let p = RtpPacket::parse(&b).expect("unknown profile is opaque");
    assert_eq!(p.extension_block().map(|e| e.profile), Some(0xabcd));
    assert_eq!(p.extensions().count(), 0);
}

#[test]
fn two_byte_form() {
    // RFC 8285 §4.3: 0x100 + appbits, then id(8) len(8) elements; a zero-length element is allowed.
    let b = hex!("90 00 0000 00000000 00000001 10030002 0100 0f03 aabbcc 00");
    let p = RtpPacket::parse(&b).expect("valid");
    assert_eq!(
        p.extensions().collect::<Vec<_>>(),
        [
            Extension { id: 1, data: &[] },
            Extension {
                id: 15,
                data: &[0xaa, 0xbb, 0xcc]
            }
        ]
    );
}
