use super::compound::Compound;
use super::*;
use hex_literal::hex;

fn one(b: &[u8]) -> RtcpPacket<'_> {
    RtcpPacket::parse(b).expect("valid RTCP packet")
}

fn written(f: impl FnOnce(&mut Vec<u8>) -> Result<(), RtpError>) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out).expect("writes");
    out
}

const RB: [u8; 24] = hex!(
    "cafebabe" // SSRC of source
    "10 fffffe" // fraction lost 16/256, cumulative lost -2 (24-bit two's complement)
    "00010203" // extended highest sequence number
    "00000040" // jitter
    "11112222" // LSR
    "00008000" // DLSR 0.5 s
);

fn block() -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(0xcafe_babe),
        fraction_lost: 16,
        cumulative_lost: -2,
        extended_highest_seq: 0x0001_0203,
        jitter: 64,
        last_sr: 0x1111_2222,
        delay_since_last_sr: 0x8000,
    }
}

#[test]
fn sender_report() {
    // RFC 3550 §6.4.1: V=2 RC=1 PT=200 length=12, SSRC, NTP, RTP ts, packets, octets, one block.
    let mut b = hex!("81c8000c 01020304 aaaaaaaa bbbbbbbb 00001000 00000005 00000500").to_vec();
    b.extend_from_slice(&RB);
    let RtcpPacket::SenderReport(sr) = one(&b) else {
        panic!("not an SR")
    };
    assert_eq!(sr.ssrc, Ssrc(0x0102_0304));
    let info = SenderInfo {
        ntp_time: 0xaaaa_aaaa_bbbb_bbbb,
        rtp_time: 0x1000,
        packet_count: 5,
        octet_count: 0x500,
    };
    assert_eq!(sr.info, info);
    assert_eq!(sr.reports.iter().collect::<Vec<_>>(), [block()]);
    assert_eq!(
        written(|o| SenderReport::write(Ssrc(0x0102_0304), &info, &[block()], o)),
        b
    );
}

#[test]
fn receiver_report_and_its_limits() {
    let mut b = hex!("81c90007 01020304").to_vec();
    b.extend_from_slice(&RB);
    let RtcpPacket::ReceiverReport(rr) = one(&b) else {
        panic!("not an RR")
    };
    assert_eq!(rr.reports.len(), 1);
    assert_eq!(rr.reports.iter().next(), Some(block()));
    assert_eq!(
        written(|o| ReceiverReport::write(Ssrc(0x0102_0304), &[block()], o)),
        b
    );
    // RC=2 with one block present.
    let mut bad = b.clone();
    bad[0] = 0x82;
    assert!(matches!(RtcpPacket::parse(&bad), Err(RtpError::Truncated { .. })));
    let mut out = Vec::new();
    assert!(matches!(
        ReceiverReport::write(Ssrc(1), &[block(); 32], &mut out),
        Err(RtpError::TooMany { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn sdes_bye_app() {
    // SDES: one chunk, CNAME "abc", NAME "x", null item, padding to the word.
    let b = hex!("81ca0004 01020304 0103616263 020178 00 000000");
    let RtcpPacket::Sdes(s) = one(&b) else {
        panic!("not SDES")
    };
    let chunks: Vec<_> = s.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc, Ssrc(0x0102_0304));
    assert_eq!(chunks[0].cname(), Some(&b"abc"[..]));
    assert_eq!(
        chunks[0].items().collect::<Vec<_>>(),
        [
            SdesItem {
                kind: SDES_CNAME,
                text: b"abc"
            },
            SdesItem {
                kind: SDES_NAME,
                text: b"x"
            }
        ]
    );
    let items = [
        SdesItem {
            kind: SDES_CNAME,
            text: b"abc",
        },
        SdesItem {
            kind: SDES_NAME,
            text: b"x",
        },
    ];
    assert_eq!(written(|o| Sdes::write(&[(Ssrc(0x0102_0304), &items)], o)), b);
    // An item running past the packet, and a chunk without a null item.
    assert!(RtcpPacket::parse(&hex!("81ca0002 01020304 01096162")).is_err());
    assert!(RtcpPacket::parse(&hex!("81ca0002 01020304 01026162")).is_err());

    // BYE: two sources, reason "bye" padded to the word.
    let b = hex!("82cb0003 00000001 00000002 03627965");
    let RtcpPacket::Bye(bye) = one(&b) else {
        panic!("not BYE")
    };
    assert_eq!(bye.sources().collect::<Vec<_>>(), [Ssrc(1), Ssrc(2)]);
    assert_eq!(bye.reason, Some(&b"bye"[..]));
    assert_eq!(written(|o| Bye::write(&[Ssrc(1), Ssrc(2)], Some("bye"), o)), b);
    assert!(RtcpPacket::parse(&hex!("81cb0002 00000001 09627965")).is_err());

    // APP: subtype 3, name "TEST", 4 bytes of data.
    let b = hex!("83cc0003 00000009 54455354 01020304");
    let RtcpPacket::App(app) = one(&b) else {
        panic!("not APP")
    };
    assert_eq!(
        app,
        App {
            subtype: 3,
            ssrc: Ssrc(9),
            name: *b"TEST",
            data: &[1, 2, 3, 4]
        }
    );
    assert_eq!(written(|o| app.write(o)), b);
}

#[test]
fn nack_pairs_and_expansion() {
    // RFC 4585 §6.2.1: PID 100 with BLP bits 0 and 15 (101 and 116), then PID 200.
    let b = hex!("81cd0004 00000001 00000002 0064 8001 00c8 0000");
    let RtcpPacket::Nack(n) = one(&b) else {
        panic!("not a NACK")
    };
    assert_eq!((n.sender_ssrc, n.media_ssrc), (Ssrc(1), Ssrc(2)));
    assert_eq!(n.lost().collect::<Vec<_>>(), [100, 101, 116, 200]);
    assert_eq!(
        written(|o| Nack::write(Ssrc(1), Ssrc(2), [100, 101, 116, 200], o)),
        b
    );
    // Across the wrap: 65535 and 0..=15 fit one pair.
    let pairs: Vec<_> = nack_pairs([65535, 0, 3, 15, 16]).collect();
    assert_eq!(
        pairs,
        [
            NackPair {
                pid: 65535,
                blp: 0x8009
            },
            NackPair { pid: 16, blp: 0 }
        ]
    );
    assert_eq!(
        pairs.iter().flat_map(|p| p.lost()).collect::<Vec<_>>(),
        [65535, 0, 3, 15, 16]
    );
    assert!(Nack::write(Ssrc(1), Ssrc(2), [], &mut Vec::new()).is_err());
    assert!(RtcpPacket::parse(&hex!("81cd0002 00000001 00000002")).is_err());
}

#[test]
fn pli_fir_remb() {
    let b = hex!("81ce0002 00000001 00000002");
    assert_eq!(
        one(&b),
        RtcpPacket::Pli(Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2)
        })
    );
    assert_eq!(
        written(|o| Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2)
        }
        .write(o)),
        b
    );

    // RFC 5104 §4.3.1: media source 0; FCI SSRC, seq nr, 24 reserved bits.
    let b = hex!("84ce0004 00000001 00000000 00000002 07000000");
    let RtcpPacket::Fir(fir) = one(&b) else {
        panic!("not a FIR")
    };
    assert_eq!(
        fir.entries().collect::<Vec<_>>(),
        [FirEntry {
            ssrc: Ssrc(2),
            seq: 7
        }]
    );
    assert_eq!(
        written(|o| Fir::write(
            Ssrc(1),
            &[FirEntry {
                ssrc: Ssrc(2),
                seq: 7
            }],
            o
        )),
        b
    );

    // REMB: 1 SSRC, exponent 3, mantissa 0x3ffff: 2_097_144 bit/s.
    let b = hex!("8fce0005 00000001 00000000 52454d42 010fffff 00000002");
    let RtcpPacket::Remb(r) = one(&b) else {
        panic!("not REMB")
    };
    assert_eq!(r.bitrate, 0x3ffff << 3);
    assert_eq!(r.ssrcs().collect::<Vec<_>>(), [Ssrc(2)]);
    assert_eq!(written(|o| Remb::write(Ssrc(1), 0x3ffff << 3, &[Ssrc(2)], o)), b);
    // Another AFB message is unknown feedback, not an error.
    let b = hex!("8fce0003 00000001 00000000 41424344");
    assert!(matches!(
        one(&b),
        RtcpPacket::UnknownFeedback {
            packet_type: 206,
            fmt: 15,
            ..
        }
    ));
}

#[test]
fn transport_cc_from_the_draft_layout() {
    // Base 10, 9 statuses, reference time 2 (128 ms), feedback count 5.
    // Chunk 1: run-length, symbol 01 (small delta), run 2 → 0x2002.
    // Chunk 2: 2-bit vector of 7: 10 00 01 00 00 00 00 → 1 1 10 00 01 00 00 00 00 → 0xe100.
    // Deltas: 4, 1 (small), -8 (large, 0xfff8), 255 (small); then 3 bytes of padding.
    let b = hex!("8fcd0007 00000001 00000002 000a 0009 000002 05 2002 e100 04 01 fff8 ff 000000");
    let RtcpPacket::TransportCc(t) = one(&b) else {
        panic!("not transport-cc")
    };
    assert_eq!(
        (t.base_seq, t.status_count, t.reference_time, t.feedback_count),
        (10, 9, 2, 5)
    );
    let base = 128_000;
    let got: Vec<_> = t.packets().map(|p| (p.seq, p.arrival_us)).collect();
    let expected = [
        (10, Some(base + 1000)),
        (11, Some(base + 1250)),
        (12, Some(base + 1250 - 2000)),
        (13, None),
        (14, Some(base - 750 + 63_750)),
        (15, None),
        (16, None),
        (17, None),
        (18, None),
    ];
    assert_eq!(got, expected);
    // The builder packs the same list its own way: a 2-bit vector of the first seven
    // (01 01 10 00 01 00 00 → 0xd610), then a run of two lost (0x0002); same deltas.
    let rebuilt = written(|o| TransportCc::write(Ssrc(1), Ssrc(2), 5, &expected, o));
    assert_eq!(
        rebuilt,
        hex!("8fcd0007 00000001 00000002 000a 0009 000002 05 d610 0002 04 01 fff8 ff 000000")
    );
    // Reserved symbol 11, and a delta that is missing.
    assert!(RtcpPacket::parse(&hex!("8fcd0005 00000001 00000002 000a 0001 000002 05 6001 0000")).is_err());
    assert!(RtcpPacket::parse(&hex!("8fcd0005 00000001 00000002 000a 0005 000002 05 2005 0400")).is_err());
}

#[test]
fn transport_cc_builder_chunk_choices() {
    // 20 received packets 1 ms apart: one run-length chunk of small deltas.
    let list: Vec<_> = (0..20u16)
        .map(|i| (65530u16.wrapping_add(i), Some(1_000_000 + 1000 * i64::from(i))))
        .collect();
    let b = written(|o| TransportCc::write(Ssrc(1), Ssrc(2), 0, &list, o));
    assert_eq!(b[20..22], hex!("2014"));
    let RtcpPacket::TransportCc(t) = one(&b) else {
        panic!("not transport-cc")
    };
    assert_eq!(
        t.packets().map(|p| (p.seq, p.arrival_us)).collect::<Vec<_>>(),
        list
    );
    // Alternating received / lost for 14: one 1-bit vector.
    let list: Vec<_> = (0..14u16)
        .step_by(2)
        .map(|i| (i, Some(64_000 + 250 * i64::from(i))))
        .collect();
    let b = written(|o| TransportCc::write(Ssrc(1), Ssrc(2), 0, &list, o));
    assert_eq!(b[14..16], hex!("000d"));
    assert_eq!(b[20..22], hex!("aaaa"));
    // A delta too large for 16 bits is refused and leaves the buffer alone.
    let mut out = vec![1];
    assert!(TransportCc::write(
        Ssrc(1),
        Ssrc(2),
        0,
        &[(1, Some(0)), (2, Some(10_000_000))],
        &mut out
    )
    .is_err());
    assert_eq!(out, [1]);
}

#[test]
fn ccfb_layout() {
    // RFC 8888 §3.1: sender, block (SSRC 2, begin 100, 3 metrics + pad), block (SSRC 3, 0 metrics), RTS.
    let b = hex!(
        "8bcd0008 00000001"
        "00000002 0064 0003"
        "a004" // R=1 ECN=01 ATO=4
        "0000" // not received
        "9fff" // R=1 ECN=00 ATO=0x1fff unavailable
        "0000" // padding
        "00000003 ffff 0000"
        "12345678"
    );
    let RtcpPacket::Ccfb(c) = one(&b) else {
        panic!("not CCFB")
    };
    assert_eq!(c.sender_ssrc, Ssrc(1));
    assert_eq!(c.report_timestamp, 0x1234_5678);
    let reports: Vec<_> = c.reports().collect();
    assert_eq!(reports.len(), 2);
    let m: Vec<_> = reports[0].metrics().collect();
    let metrics = [
        CcfbMetric {
            received: true,
            ecn: 1,
            ato: 4,
        },
        CcfbMetric::default(),
        CcfbMetric {
            received: true,
            ecn: 0,
            ato: ATO_UNAVAILABLE,
        },
    ];
    assert_eq!(m, [(100, metrics[0]), (101, metrics[1]), (102, metrics[2])]);
    assert_eq!(
        (reports[1].ssrc, reports[1].begin_seq, reports[1].metrics().len()),
        (Ssrc(3), 0xffff, 0)
    );
    let rebuilt = written(|o| {
        Ccfb::write(
            Ssrc(1),
            0x1234_5678,
            &[(Ssrc(2), 100, &metrics), (Ssrc(3), 0xffff, &[])],
            o,
        )
    });
    assert_eq!(rebuilt, b);
    // A block claiming more metrics than present.
    assert!(RtcpPacket::parse(&hex!("8bcd0004 00000001 00000002 0064 0009 12345678")).is_err());
}

#[test]
fn compound_iteration_and_writer() {
    let mut out = Vec::new();
    let mut body = Compound::receiver_report(&mut out, Ssrc(1), &[block()])
        .and_then(|c| c.cname(Ssrc(1), "host"))
        .expect("compound");
    body.add(|o| {
        Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2),
        }
        .write(o)
    })
    .expect("PLI");
    assert!(body.add(|o| Nack::write(Ssrc(1), Ssrc(2), [], o)).is_err());
    let len = body.len();
    assert_eq!(len, out.len());
    // Append an unknown type (XR, 207) with padding: P=1, 4 bytes of which the last counts 4.
    out.extend_from_slice(&hex!("a0cf0001 00000004"));
    let packets: Vec<_> = RtcpPacket::compound(&out).collect();
    assert_eq!(packets.len(), 4);
    assert!(matches!(packets[0], Ok(RtcpPacket::ReceiverReport(_))));
    let Ok(RtcpPacket::Sdes(s)) = &packets[1] else {
        panic!("not SDES")
    };
    assert_eq!(s.chunks().next().and_then(|c| c.cname()), Some(&b"host"[..]));
    assert!(matches!(packets[2], Ok(RtcpPacket::Pli(_))));
    assert!(matches!(
        packets[3],
        Ok(RtcpPacket::Unknown {
            packet_type: 207,
            count: 0,
            body: []
        })
    ));
    // A malformed body does not stop the iteration; bad framing does, after one error.
    let mut b = hex!("81cd0002 00000001 00000002").to_vec();
    b.extend_from_slice(&hex!("81ce0002 00000001 00000002 80ce0005"));
    let r: Vec<_> = RtcpPacket::compound(&b).collect();
    assert!(r[0].is_err() && r[1].is_ok() && r[2].is_err() && r.len() == 3);
    assert!(matches!(
        RtcpPacket::parse(&hex!("41ce0002 00000001 00000002")),
        Err(RtpError::BadVersion { .. })
    ));
    assert!(matches!(
        RtcpPacket::parse(&hex!("a1ce0002 00000001 00000009")),
        Err(RtpError::BadPadding { .. })
    ));
    assert!(matches!(
        RtcpPacket::parse(&hex!("81ce0002 00000001 00000002 00")),
        Err(RtpError::TrailingBytes { .. })
    ));
}
