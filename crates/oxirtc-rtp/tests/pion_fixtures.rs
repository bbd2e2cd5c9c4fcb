//! Cross-check against an independent implementation: packets Pion marshalled (generated once by
//! `tests/pion/main.go` into `tests/fixtures/pion.txt`; no Go needed here). Each must parse to the
//! values the generator used, and our writers must give back the same bytes, except where the two
//! implementations are allowed to differ (noted at each case).

use oxirtc_rtp::ext::values::{AbsSendTime, AudioLevel, TransportCcSeq};
use oxirtc_rtp::ext::{Extension, ExtensionKind, ExtensionMap, ExtensionValue};
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::*;
use oxirtc_rtp::RtpError;

fn fixture(name: &str) -> Vec<u8> {
    let line = include_str!("fixtures/pion.txt")
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

fn one(b: &[u8]) -> RtcpPacket<'_> {
    RtcpPacket::parse(b).expect("parses")
}

const PAYLOAD: [u8; 5] = [0xde, 0xad, 0xbe, 0xef, 0x01];

#[test]
fn rtp_packets() {
    let b = fixture("rtp_plain");
    let p = RtpPacket::parse(&b).expect("parses");
    assert!(p.marker());
    assert_eq!(
        (p.payload_type(), p.sequence_number(), p.timestamp()),
        (111, 65535, 0x0102_0304)
    );
    assert_eq!(p.ssrc(), Ssrc(0x1122_3344));
    assert_eq!(p.payload(), PAYLOAD);
    let h = RtpHeader {
        marker: true,
        payload_type: 111,
        sequence_number: 65535,
        timestamp: 0x0102_0304,
        ssrc: Ssrc(0x1122_3344),
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(&PAYLOAD, 0, o).map(drop)), b);

    let b = fixture("rtp_one_byte_ext");
    let p = RtpPacket::parse(&b).expect("parses");
    assert_eq!(p.csrcs().collect::<Vec<_>>(), [Ssrc(7), Ssrc(8)]);
    let mut map = ExtensionMap::new();
    map.insert(1, ExtensionKind::AbsSendTime).expect("id 1");
    map.insert(3, ExtensionKind::TransportCc).expect("id 3");
    map.insert(5, ExtensionKind::AudioLevel).expect("id 5");
    let values: Vec<_> = p
        .extensions()
        .map(|e| map.parse(e).expect("valid value"))
        .collect();
    assert_eq!(
        values,
        [
            Some(ExtensionValue::AbsSendTime(AbsSendTime::from_micros(1_500_000))),
            Some(ExtensionValue::TransportCc(TransportCcSeq(0x1234))),
            Some(ExtensionValue::AudioLevel(AudioLevel {
                voice: true,
                level: 42
            })),
        ]
    );
    assert_eq!(p.payload(), PAYLOAD);
    let ast = AbsSendTime::from_micros(1_500_000).to_bytes();
    let tcc = TransportCcSeq(0x1234).to_bytes();
    let level = AudioLevel {
        voice: true,
        level: 42,
    }
    .to_bytes()
    .expect("in range");
    let exts = [
        Extension { id: 1, data: &ast },
        Extension { id: 3, data: &tcc },
        Extension { id: 5, data: &level },
    ];
    let csrcs = [Ssrc(7), Ssrc(8)];
    let h = RtpHeader {
        payload_type: 96,
        sequence_number: 1000,
        timestamp: 90000,
        ssrc: Ssrc(0xcafe_babe),
        csrcs: &csrcs,
        extensions: &exts,
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(&PAYLOAD, 0, o).map(drop)), b);

    let b = fixture("rtp_two_byte_ext");
    let p = RtpPacket::parse(&b).expect("parses");
    let long: Vec<u8> = (0..20).collect();
    let expected = [
        Extension { id: 20, data: &long },
        Extension { id: 2, data: b"mid0" },
    ];
    assert_eq!(p.extensions().collect::<Vec<_>>(), expected);
    let h = RtpHeader {
        payload_type: 97,
        sequence_number: 2,
        timestamp: 3,
        ssrc: Ssrc(4),
        extensions: &expected,
        allow_two_byte: true,
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(&PAYLOAD, 0, o).map(drop)), b);
    let refused = RtpHeader {
        allow_two_byte: false,
        ..h
    };
    assert!(matches!(
        refused.write(&PAYLOAD, 0, &mut Vec::new()),
        Err(RtpError::BadExtension { id: 20, .. })
    ));

    let b = fixture("rtp_padding");
    let p = RtpPacket::parse(&b).expect("parses");
    assert_eq!((p.payload(), p.padding_len()), (&PAYLOAD[..], 4));
    let h = RtpHeader {
        payload_type: 100,
        sequence_number: 7,
        timestamp: 8,
        ssrc: Ssrc(9),
        ..Default::default()
    };
    assert_eq!(write(|o| h.write(&PAYLOAD, 4, o).map(drop)), b);
}

fn block(ssrc: u32) -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(ssrc),
        fraction_lost: 25,
        cumulative_lost: 1000,
        extended_highest_seq: 0x0001_0203,
        jitter: 45,
        last_sr: 0x1111_2222,
        delay_since_last_sr: 0x8000,
    }
}

#[test]
fn reports_sdes_bye() {
    let b = fixture("rtcp_sr");
    let RtcpPacket::SenderReport(sr) = one(&b) else {
        panic!("not an SR")
    };
    let info = SenderInfo {
        ntp_time: 0xe1a2_b3c4_d5e6_f708,
        rtp_time: 123_456,
        packet_count: 77,
        octet_count: 7700,
    };
    assert_eq!((sr.ssrc, sr.info), (Ssrc(0x0102_0304), info));
    let blocks = [block(0xaaaa_aaaa), block(0xbbbb_bbbb)];
    assert_eq!(sr.reports.iter().collect::<Vec<_>>(), blocks);
    assert_eq!(
        write(|o| SenderReport::write(Ssrc(0x0102_0304), &info, &blocks, o)),
        b
    );

    let b = fixture("rtcp_rr");
    let RtcpPacket::ReceiverReport(rr) = one(&b) else {
        panic!("not an RR")
    };
    assert_eq!(rr.reports.iter().collect::<Vec<_>>(), [block(0xcccc_cccc)]);
    assert_eq!(
        write(|o| ReceiverReport::write(Ssrc(0x0506_0708), &[block(0xcccc_cccc)], o)),
        b
    );

    let b = fixture("rtcp_sdes");
    let RtcpPacket::Sdes(s) = one(&b) else {
        panic!("not SDES")
    };
    let chunk = s.chunks().next().expect("one chunk");
    assert_eq!(
        (chunk.ssrc, chunk.cname()),
        (Ssrc(0x0506_0708), Some(&b"user@example.org"[..]))
    );
    assert_eq!(
        write(|o| Sdes::write_cname(Ssrc(0x0506_0708), "user@example.org", o)),
        b
    );

    let b = fixture("rtcp_bye");
    let RtcpPacket::Bye(bye) = one(&b) else {
        panic!("not BYE")
    };
    assert_eq!(
        bye.sources().collect::<Vec<_>>(),
        [Ssrc(0x0506_0708), Ssrc(0x090a_0b0c)]
    );
    assert_eq!(bye.reason, Some(&b"camera off"[..]));
    assert_eq!(
        write(|o| Bye::write(&[Ssrc(0x0506_0708), Ssrc(0x090a_0b0c)], Some("camera off"), o)),
        b
    );

    let b = fixture("rtcp_compound");
    let mut out = Vec::new();
    let mut body = Compound::receiver_report(&mut out, Ssrc(0x0506_0708), &[block(0xcccc_cccc)])
        .and_then(|c| c.cname(Ssrc(0x0506_0708), "user@example.org"))
        .expect("compound");
    body.add(|o| {
        Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2),
        }
        .write(o)
    })
    .expect("PLI");
    assert_eq!(out, b);
    let kinds: Vec<_> = RtcpPacket::compound(&b)
        .map(|p| match p.expect("parses") {
            RtcpPacket::ReceiverReport(_) => "rr",
            RtcpPacket::Sdes(_) => "sdes",
            RtcpPacket::Pli(_) => "pli",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["rr", "sdes", "pli"]);
}

#[test]
fn feedback() {
    let lost = [65530, 65531, 65535, 3, 40, 41];
    let b = fixture("rtcp_nack");
    let RtcpPacket::Nack(n) = one(&b) else {
        panic!("not a NACK")
    };
    assert_eq!((n.sender_ssrc, n.media_ssrc), (Ssrc(1), Ssrc(2)));
    assert_eq!(n.lost().collect::<Vec<_>>(), lost);
    assert_eq!(write(|o| Nack::write(Ssrc(1), Ssrc(2), lost, o)), b);

    let b = fixture("rtcp_pli");
    assert_eq!(
        one(&b),
        RtcpPacket::Pli(Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2)
        })
    );

    let b = fixture("rtcp_fir");
    let RtcpPacket::Fir(f) = one(&b) else {
        panic!("not a FIR")
    };
    let entries = [
        FirEntry {
            ssrc: Ssrc(2),
            seq: 9,
        },
        FirEntry {
            ssrc: Ssrc(3),
            seq: 250,
        },
    ];
    assert_eq!(f.entries().collect::<Vec<_>>(), entries);
    assert_eq!(write(|o| Fir::write(Ssrc(1), &entries, o)), b);

    let b = fixture("rtcp_remb");
    let RtcpPacket::Remb(r) = one(&b) else {
        panic!("not REMB")
    };
    assert_eq!(r.bitrate, 1_500_000);
    assert_eq!(r.ssrcs().collect::<Vec<_>>(), [Ssrc(2), Ssrc(3)]);
    assert_eq!(
        write(|o| Remb::write(Ssrc(1), 1_500_000, &[Ssrc(2), Ssrc(3)], o)),
        b
    );
}

#[test]
fn ccfb_layout_matches_with_the_pre_errata_count() {
    // Debian's pion/rtcp 1.2.10 writes num_reports as the count minus one (RFC 8888 §3.1 as first
    // published); erratum 8166 makes it the count, which we follow (as pion/rtcp#187 later did).
    // Everything else must match byte for byte once the two count fields are adjusted.
    let metrics_a = [
        CcfbMetric {
            received: true,
            ecn: 2,
            ato: 100,
        },
        CcfbMetric::default(),
        CcfbMetric {
            received: true,
            ecn: 3,
            ato: ATO_UNAVAILABLE,
        },
    ];
    let metrics_b = [
        CcfbMetric {
            received: true,
            ecn: 0,
            ato: 1,
        },
        CcfbMetric {
            received: true,
            ecn: 1,
            ato: 2,
        },
    ];
    let mut ours = write(|o| {
        Ccfb::write(
            Ssrc(1),
            0x1234_5678,
            &[(Ssrc(2), 65534, &metrics_a), (Ssrc(3), 10, &metrics_b)],
            o,
        )
    });
    let RtcpPacket::Ccfb(c) = one(&ours) else {
        panic!("not CCFB")
    };
    let reports: Vec<Vec<_>> = c.reports().map(|r| r.metrics().collect()).collect();
    assert_eq!(
        reports[0],
        [(65534, metrics_a[0]), (65535, metrics_a[1]), (0, metrics_a[2])]
    );
    assert_eq!(reports[1], [(10, metrics_b[0]), (11, metrics_b[1])]);
    // num_reports of block one at bytes 14..16, of block two at 30..32.
    ours[15] -= 1;
    ours[31] -= 1;
    assert_eq!(ours, fixture("rtcp_ccfb"));
}

/// Arrivals as the generator recorded them: (sequence number, µs).
fn twcc_cases() -> [(&'static str, Vec<(u16, i64)>); 2] {
    let mut mixed: Vec<(u16, i64)> = (0..20)
        .map(|i| (65530u16.wrapping_add(i), 5_000_000 + 500 * i64::from(i)))
        .collect();
    mixed.extend([(14, 5_200_000), (15, 5_199_000), (30, 5_201_000)]);
    [
        (
            "twcc_small",
            vec![
                (100, 1_000_000),
                (101, 1_001_000),
                (103, 1_003_250),
                (104, 1_004_000),
            ],
        ),
        ("twcc_mixed", mixed),
    ]
}

#[test]
fn transport_cc_from_pions_recorder() {
    for (name, arrivals) in twcc_cases() {
        let b = fixture(name);
        let RtcpPacket::TransportCc(t) = one(&b) else {
            panic!("{name}: not transport-cc")
        };
        assert_eq!(
            (t.sender_ssrc, t.media_ssrc, t.feedback_count),
            (Ssrc(0xabcd_ef01), Ssrc(0x5566_7788), 0)
        );
        // Every reported packet: the recorded ones at their times, the gaps lost.
        let got: Vec<_> = t.packets().collect();
        let first = arrivals[0].0;
        let mut expected = Vec::new();
        for w in arrivals.iter() {
            while expected.len() < usize::from(w.0.wrapping_sub(first)) {
                expected.push(TwccPacket {
                    seq: first.wrapping_add(expected.len() as u16),
                    arrival_us: None,
                });
            }
            expected.push(TwccPacket {
                seq: w.0,
                arrival_us: Some(w.1),
            });
        }
        assert_eq!(got, expected, "{name}");
        // Our builder picks its own chunks (Pion also pads with the P bit); the values agree.
        let list: Vec<_> = arrivals.iter().map(|&(s, t)| (s, Some(t))).collect();
        let ours = write(|o| TransportCc::write(Ssrc(0xabcd_ef01), Ssrc(0x5566_7788), 0, &list, o));
        let RtcpPacket::TransportCc(mine) = one(&ours) else {
            panic!("{name}: ours is not transport-cc")
        };
        assert_eq!(mine.packets().collect::<Vec<_>>(), expected, "{name}");
        assert_eq!(
            (mine.base_seq, mine.status_count, mine.reference_time),
            (t.base_seq, t.status_count, t.reference_time)
        );
        assert!(
            ours.len() <= b.len(),
            "{name}: ours {} bytes, Pion's {}",
            ours.len(),
            b.len()
        );
    }
}
