//! Cross-check against a second independent implementation: packets aiortc serialized (generated
//! once by `tests/aiortc/generate.py` into `tests/fixtures/aiortc.txt`; no Python needed here).
//! Each must parse to the values the generator used, and our writers must give the same bytes.

use oxirtc_rtp::ext::values::{AbsSendTime, AudioLevel, SdesText, TransportCcSeq};
use oxirtc_rtp::ext::{Extension, ExtensionKind, ExtensionMap, ExtensionValue};
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::*;
use oxirtc_rtp::RtpError;

fn fixture(name: &str) -> Vec<u8> {
    let line = include_str!("fixtures/aiortc.txt")
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("fixture {name} missing"));
    let hex = line.split(' ').nth(1).expect("hex after the name");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn write(f: impl FnOnce(&mut Vec<u8>) -> Result<(), RtpError>) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out).expect("writes");
    out
}

/// The generator's a=extmap lines.
fn extmap() -> ExtensionMap {
    let mut m = ExtensionMap::new();
    for (id, kind) in [
        (1, ExtensionKind::Mid),
        (2, ExtensionKind::Rid),
        (3, ExtensionKind::RepairedRid),
        (4, ExtensionKind::AbsSendTime),
        (5, ExtensionKind::AudioLevel),
        (6, ExtensionKind::TransportCc),
    ] {
        assert_eq!(m.insert_uri(id, kind.uri()), Ok(Some(kind)));
    }
    m
}

#[test]
fn rtp_with_every_extension_aiortc_knows() {
    let b = fixture("rtp_all_extensions");
    let p = RtpPacket::parse(&b).expect("parses");
    assert!(p.marker());
    assert_eq!(
        (p.payload_type(), p.sequence_number(), p.timestamp()),
        (111, 4321, 960)
    );
    assert_eq!((p.ssrc(), p.payload()), (Ssrc(0x0a0b_0c0d), &b"opus"[..]));
    let map = extmap();
    let values: Vec<_> = p
        .extensions()
        .map(|e| map.parse(e).expect("valid").expect("mapped"))
        .collect();
    // aiortc writes them in its own order: mid, repaired rid, rid, abs-send-time, level, transport-cc.
    let expected = [
        ExtensionValue::Mid(SdesText("audio")),
        ExtensionValue::RepairedRid(SdesText("lo")),
        ExtensionValue::Rid(SdesText("hi")),
        ExtensionValue::AbsSendTime(AbsSendTime::from_raw(0x12_3456)),
        ExtensionValue::AudioLevel(AudioLevel {
            voice: true,
            level: 30,
        }),
        ExtensionValue::TransportCc(TransportCcSeq(0xbeef)),
    ];
    assert_eq!(values, expected);

    let ast = AbsSendTime::from_raw(0x12_3456).to_bytes();
    let level = AudioLevel {
        voice: true,
        level: 30,
    }
    .to_bytes()
    .expect("in range");
    let tcc = TransportCcSeq(0xbeef).to_bytes();
    let exts = [
        Extension {
            id: 1,
            data: b"audio",
        },
        Extension { id: 3, data: b"lo" },
        Extension { id: 2, data: b"hi" },
        Extension { id: 4, data: &ast },
        Extension { id: 5, data: &level },
        Extension { id: 6, data: &tcc },
    ];
    let h = RtpHeader {
        marker: true,
        payload_type: 111,
        sequence_number: 4321,
        timestamp: 960,
        ssrc: Ssrc(0x0a0b_0c0d),
        extensions: &exts,
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(b"opus", 0, o).map(drop)), b);
}

#[test]
fn rtp_two_byte_form_for_a_long_mid() {
    let b = fixture("rtp_two_byte_mid");
    let p = RtpPacket::parse(&b).expect("parses");
    assert_eq!(p.extension_block().map(|e| e.profile), Some(0x1000));
    assert_eq!(p.csrcs().collect::<Vec<_>>(), [Ssrc(0x1111_1111)]);
    let map = extmap();
    let values: Vec<_> = p
        .extensions()
        .map(|e| map.parse(e).expect("valid").expect("mapped"))
        .collect();
    assert_eq!(
        values,
        [
            ExtensionValue::Mid(SdesText("a-rather-long-mid-value")),
            ExtensionValue::TransportCc(TransportCcSeq(7))
        ]
    );
    let tcc = TransportCcSeq(7).to_bytes();
    let exts = [
        Extension {
            id: 1,
            data: b"a-rather-long-mid-value",
        },
        Extension { id: 6, data: &tcc },
    ];
    let csrcs = [Ssrc(0x1111_1111)];
    let h = RtpHeader {
        payload_type: 96,
        sequence_number: 1,
        timestamp: 2,
        ssrc: Ssrc(3),
        csrcs: &csrcs,
        extensions: &exts,
        allow_two_byte: true,
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(b"v", 0, o).map(drop)), b);
}

#[test]
fn rtcp_packets() {
    let block = ReportBlock {
        ssrc: Ssrc(0x2222_2222),
        fraction_lost: 3,
        cumulative_lost: -5,
        extended_highest_seq: 70000,
        jitter: 12,
        last_sr: 0x5555_6666,
        delay_since_last_sr: 0x10000,
    };
    let info = SenderInfo {
        ntp_time: 0x83aa_7e80_0000_0000,
        rtp_time: 48000,
        packet_count: 10,
        octet_count: 1000,
    };
    let b = fixture("rtcp_sr");
    let RtcpPacket::SenderReport(sr) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not an SR")
    };
    assert_eq!((sr.ssrc, sr.info), (Ssrc(0x1111_1111), info));
    assert_eq!(sr.reports.iter().collect::<Vec<_>>(), [block]);
    assert_eq!(
        write(|o| SenderReport::write(Ssrc(0x1111_1111), &info, &[block], o)),
        b
    );

    let b = fixture("rtcp_rr");
    let RtcpPacket::ReceiverReport(rr) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not an RR")
    };
    assert_eq!(rr.reports.iter().collect::<Vec<_>>(), [block]);
    assert_eq!(
        write(|o| ReceiverReport::write(Ssrc(0x1111_1111), &[block], o)),
        b
    );

    let b = fixture("rtcp_sdes");
    let RtcpPacket::Sdes(s) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not SDES")
    };
    let items = [
        SdesItem {
            kind: SDES_CNAME,
            text: b"{cname}",
        },
        SdesItem {
            kind: SDES_TOOL,
            text: b"aiortc",
        },
    ];
    let chunk = s.chunks().next().expect("a chunk");
    assert_eq!(chunk.items().collect::<Vec<_>>(), items);
    assert_eq!(write(|o| Sdes::write(&[(Ssrc(0x1111_1111), &items)], o)), b);

    let b = fixture("rtcp_bye");
    let RtcpPacket::Bye(bye) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not BYE")
    };
    assert_eq!(
        (bye.sources().collect::<Vec<_>>(), bye.reason),
        (vec![Ssrc(0x1111_1111)], None)
    );
    assert_eq!(write(|o| Bye::write(&[Ssrc(0x1111_1111)], None, o)), b);

    let lost = [10, 12, 26, 27, 500];
    let b = fixture("rtcp_nack");
    let RtcpPacket::Nack(n) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not a NACK")
    };
    assert_eq!(n.lost().collect::<Vec<_>>(), lost);
    assert_eq!(
        write(|o| Nack::write(Ssrc(0x1111_1111), Ssrc(0x2222_2222), lost, o)),
        b
    );

    let b = fixture("rtcp_pli");
    let pli = Pli {
        sender_ssrc: Ssrc(0x1111_1111),
        media_ssrc: Ssrc(0x2222_2222),
    };
    assert_eq!(RtcpPacket::parse(&b), Ok(RtcpPacket::Pli(pli)));
    assert_eq!(write(|o| pli.write(o)), b);

    let b = fixture("rtcp_remb");
    let RtcpPacket::Remb(r) = RtcpPacket::parse(&b).expect("parses") else {
        panic!("not REMB")
    };
    assert_eq!(
        (r.bitrate, r.ssrcs().collect::<Vec<_>>()),
        (4_000_000, vec![Ssrc(0x2222_2222)])
    );
    assert_eq!(
        write(|o| Remb::write(Ssrc(0x1111_1111), 4_000_000, &[Ssrc(0x2222_2222)], o)),
        b
    );
}
