use super::values::*;
use super::*;
use hex_literal::hex;

fn block(exts: &[Extension<'_>], mixed: bool) -> Result<Vec<u8>, RtpError> {
    let (_, len) = block_len(exts, mixed)?;
    let mut out = vec![0; len];
    assert_eq!(write_block(exts, mixed, &mut out)?, len);
    Ok(out)
}

#[test]
fn writer_picks_one_byte_when_everything_fits() {
    let sixteen = [7u8; 16];
    let out = block(
        &[Extension {
            id: 14,
            data: &sixteen,
        }],
        false,
    )
    .expect("fits one-byte");
    // 0xBEDE, 5 words; id 14 L=15; 16 bytes; 3 bytes of zero padding.
    assert_eq!(out[..5], hex!("bede0005 ef"));
    assert_eq!(out[5..21], sixteen);
    assert_eq!(out[21..], [0, 0, 0]);
}

#[test]
fn writer_needs_allow_mixed_for_two_byte() {
    let seventeen = [7u8; 17];
    for exts in [
        [Extension {
            id: 1,
            data: &seventeen[..],
        }],
        [Extension { id: 15, data: &[1] }],
        [Extension { id: 1, data: &[] }],
    ] {
        assert!(
            matches!(block(&exts, false), Err(RtpError::BadExtension { .. })),
            "{exts:?}"
        );
        let out = block(&exts, true).expect("two-byte allowed");
        assert_eq!(out[..2], hex!("1000"));
        let parsed: Vec<_> = ExtensionElements::new(ExtensionForm::TwoByte, &out[4..]).collect();
        assert_eq!(parsed, exts);
    }
    let big = [0u8; 256];
    assert!(matches!(
        block(&[Extension { id: 1, data: &big }], true),
        Err(RtpError::BadExtension { .. })
    ));
    assert!(matches!(
        block(
            &[Extension {
                id: 0,
                data: &big[..17]
            }],
            true
        ),
        Err(RtpError::BadExtension { .. })
    ));
}

#[test]
fn map_from_uris() {
    let mut m = ExtensionMap::new();
    assert_eq!(
        m.insert_uri(3, URI_TRANSPORT_CC),
        Ok(Some(ExtensionKind::TransportCc))
    );
    assert_eq!(m.insert_uri(4, "urn:example:unknown"), Ok(None));
    assert!(m.insert_uri(0, URI_MID).is_err());
    assert_eq!(m.kind(3), Some(ExtensionKind::TransportCc));
    assert_eq!(m.kind(4), None);
    assert_eq!(m.id(ExtensionKind::TransportCc), Some(3));
    assert_eq!(
        m.parse(Extension {
            id: 3,
            data: &[0x12, 0x34]
        }),
        Ok(Some(ExtensionValue::TransportCc(TransportCcSeq(0x1234))))
    );
    assert_eq!(m.parse(Extension { id: 4, data: &[1] }), Ok(None));
    assert!(m.parse(Extension { id: 3, data: &[1] }).is_err());
    for k in ExtensionKind::ALL {
        assert_eq!(ExtensionKind::from_uri(k.uri()), Some(k));
    }
}

#[test]
fn typed_values_from_their_layouts() {
    // abs-send-time: 6.18 fixed point; 0x040000 is exactly 1 s, 0x020000 is 0.5 s.
    assert_eq!(
        AbsSendTime::parse(&hex!("060000")).map(|t| t.micros()),
        Ok(1_500_000)
    );
    assert_eq!(AbsSendTime::from_micros(1_500_000).to_bytes(), hex!("060000"));
    // 64 s wraps to 0; NTP 1.5 s is 0x00000001_80000000.
    assert_eq!(AbsSendTime::from_micros(65_500_000).to_bytes(), hex!("060000"));
    assert_eq!(
        AbsSendTime::from_ntp(0x0000_0001_8000_0000).to_bytes(),
        hex!("060000")
    );
    assert!(AbsSendTime::parse(&hex!("0600")).is_err());
    // RFC 6464 §3: V=1, level 42.
    assert_eq!(
        AudioLevel::parse(&[0xaa]),
        Ok(AudioLevel {
            voice: true,
            level: 42
        })
    );
    assert_eq!(
        AudioLevel {
            voice: false,
            level: 127
        }
        .to_bytes(),
        Ok([0x7f])
    );
    assert!(AudioLevel {
        voice: false,
        level: 128
    }
    .to_bytes()
    .is_err());
    // CVO: C=1 F=0 R=3 (270 degrees).
    let cvo = VideoOrientation::parse(&[0x0b]).expect("valid");
    assert_eq!(
        cvo,
        VideoOrientation {
            back_camera: true,
            flip: false,
            rotation: 3
        }
    );
    assert_eq!(cvo.degrees(), 270);
    assert_eq!(cvo.to_bytes(), [0x0b]);
    // Playout delay: min 0x123, max 0x456.
    assert_eq!(
        PlayoutDelay::parse(&hex!("123456")),
        Ok(PlayoutDelay {
            min: 0x123,
            max: 0x456
        })
    );
    assert_eq!(
        PlayoutDelay {
            min: 0x123,
            max: 0x456
        }
        .to_bytes(),
        Ok(hex!("123456"))
    );
    assert!(PlayoutDelay { min: 0x1000, max: 0 }.to_bytes().is_err());
    // abs-capture-time in both lengths.
    let t = AbsCaptureTime::parse(&hex!("0102030405060708")).expect("8 bytes");
    assert_eq!(
        t,
        AbsCaptureTime {
            ntp: 0x0102_0304_0506_0708,
            clock_offset: None
        }
    );
    let t = AbsCaptureTime::parse(&hex!("0102030405060708 fffffffffffffffe")).expect("16 bytes");
    assert_eq!(t.clock_offset, Some(-2));
    let mut buf = [0; 16];
    assert_eq!(t.write(&mut buf), hex!("0102030405060708 fffffffffffffffe"));
    assert!(AbsCaptureTime::parse(&[0; 12]).is_err());
    // SDES texts.
    assert_eq!(SdesText::parse_mid(b"0"), Ok(SdesText("0")));
    assert_eq!(SdesText::parse_rid(b"hi-res_1"), Ok(SdesText("hi-res_1")));
    assert!(SdesText::parse_rid(b"a b").is_err());
    assert!(SdesText::parse_mid(b"").is_err());
}
