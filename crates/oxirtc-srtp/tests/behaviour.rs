//! Behaviour through the public API, for every profile: round trips of RTP and RTCP (with and without
//! cryptex), the ROC across the sequence-number wrap and reordering, replay windows, tampering, the
//! SSRC cap, and the buffer contract.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_crypto::default_provider;
use oxirtc_srtp::{
    from_dtls, DtlsRole, ProtectionProfile, ReceiveContext, SendContext, SrtpConfig, SrtpError,
};

fn pair(profile: ProtectionProfile, config: &SrtpConfig) -> (SendContext, ReceiveContext) {
    let material: Vec<u8> = (0..profile.keying_material_len())
        .map(|i| (i * 29 + 3) as u8)
        .collect();
    let (tx, _) = from_dtls(default_provider(), profile, &material, DtlsRole::Client, config).unwrap();
    let (_, rx) = from_dtls(default_provider(), profile, &material, DtlsRole::Server, config).unwrap();
    (tx, rx)
}

/// An RTP packet with `csrcs` CSRCs, an optional one-byte extension block and `payload` bytes.
fn rtp(seq: u16, ssrc: u32, csrcs: u8, ext: bool, payload: usize) -> Vec<u8> {
    let mut p = vec![0x80 | csrcs, 111];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for c in 0..u32::from(csrcs) {
        p.extend_from_slice(&(0xc500_0000 + c).to_be_bytes());
    }
    if ext {
        p[0] |= 0x10;
        // mid = "0" (id 1) and audio level (id 2), padded to a word.
        p.extend_from_slice(&[0xbe, 0xde, 0, 2, 0x10, b'0', 0x20, 0x85, 0, 0, 0, 0]);
    }
    p.extend((0..payload).map(|i| (i as u8).wrapping_mul(13) ^ seq as u8));
    p
}

fn send(tx: &mut SendContext, plain: &[u8]) -> Vec<u8> {
    let mut p = plain.to_vec();
    tx.protect_rtp(&mut p).unwrap();
    p
}

fn recv(rx: &mut ReceiveContext, wire: &[u8]) -> Result<Vec<u8>, SrtpError> {
    let mut p = wire.to_vec();
    let n = rx.unprotect_rtp(&mut p)?;
    p.truncate(n);
    Ok(p)
}

#[test]
fn rtp_round_trips_in_every_profile_with_and_without_cryptex() {
    for profile in ProtectionProfile::ALL {
        for cryptex in [false, true] {
            let config = SrtpConfig {
                cryptex,
                ..SrtpConfig::default()
            };
            let (mut tx, mut rx) = pair(profile, &config);
            for (seq, (csrcs, ext, payload)) in [
                (0, false, 0),
                (0, false, 1200),
                (2, true, 160),
                (3, false, 20),
                (0, true, 33),
            ]
            .into_iter()
            .enumerate()
            {
                let plain = rtp(seq as u16, 0xabcd, csrcs, ext, payload);
                let wire = send(&mut tx, &plain);
                // The payload never travels in the clear.
                if payload >= 8 {
                    let end = wire.len() - profile.rtp_tag_len();
                    assert_ne!(wire[end - 8..end], plain[plain.len() - 8..]);
                }
                let got = recv(&mut rx, &wire).unwrap();
                if cryptex && csrcs > 0 && !ext {
                    // RFC 9335 §5.1: an empty extension block was added to mark the CSRCs encrypted;
                    // it arrives as an empty one-byte extension (0xBEDE, length 0).
                    let at = 12 + 4 * usize::from(csrcs);
                    assert_eq!(&got[at..at + 4], &[0xbe, 0xde, 0, 0]);
                    assert_eq!(got[0], plain[0] | 0x10);
                    assert_eq!(got[..12][1..], plain[..12][1..]);
                    assert_eq!(got[at + 4..], plain[at..]);
                } else {
                    assert_eq!(got, plain, "{profile} cryptex {cryptex} seq {seq}");
                }
                if cryptex && (csrcs > 0 || ext) {
                    // CSRCs and extension data are encrypted on the wire.
                    assert_ne!(wire[12..16], plain[12..16], "{profile} seq {seq}");
                }
            }
            assert_eq!(rx.stats().rtp_packets, 5);
        }
    }
}

#[test]
fn rtcp_round_trips_in_every_profile() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        // A sender report with one report block, then an SDES.
        let mut sr = vec![0x81, 200, 0, 12, 0, 0, 0xab, 0xcd];
        sr.extend((0..44).map(|i| i as u8));
        sr.extend_from_slice(&[0x81, 202, 0, 2, 0, 0, 0xab, 0xcd, 1, 2, b'h', b'i']);
        for round in 0..3u32 {
            let mut p = sr.clone();
            tx.protect_rtcp(&mut p).unwrap();
            assert_eq!(p.len(), sr.len() + tx.rtcp_overhead());
            assert_eq!(p[..8], sr[..8]);
            assert_ne!(p[8..sr.len()], sr[8..]);
            let at = if profile.is_aead() { p.len() - 4 } else { sr.len() };
            // E flag set, SRTCP index counting from 0 (RFC 3711 §3.4).
            assert_eq!(p[at..at + 4], (0x8000_0000 | round).to_be_bytes());
            let n = rx.unprotect_rtcp(&mut p).unwrap();
            assert_eq!(p[..n], sr[..]);
        }
        assert_eq!(rx.stats().rtcp_packets, 3);
    }
}

#[test]
fn roc_follows_the_wrap_and_reordering_around_it() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let seqs: Vec<u16> = (65_530..=65_535).chain(0..6).collect();
        let wire: Vec<(u16, Vec<u8>)> = seqs
            .iter()
            .map(|&s| (s, send(&mut tx, &rtp(s, 9, 0, false, 50))))
            .collect();
        assert_eq!(tx.roc(9), Some(1));
        // 65530, 65531, then 0 and 1 of ROC 1 before 65532..65535 of ROC 0, then the rest.
        for i in [0, 1, 6, 7, 2, 3, 4, 5, 9, 8, 11, 10] {
            let (seq, packet) = &wire[i];
            assert_eq!(
                recv(&mut rx, packet).unwrap(),
                rtp(*seq, 9, 0, false, 50),
                "{profile} seq {seq}"
            );
        }
        assert_eq!(rx.roc(9), Some(1));
        // Late packets of the previous ROC after the receiver moved on to SEQ 2000 of ROC 1.
        let (mut tx2, mut rx2) = pair(profile, &SrtpConfig::default());
        let first = send(&mut tx2, &rtp(65_000, 4, 0, false, 10));
        let late = send(&mut tx2, &rtp(65_100, 4, 0, false, 10));
        let mut now = Vec::new();
        for s in (65_200..=65_535).step_by(5).chain((0..=2_000).step_by(100)) {
            now.push(send(&mut tx2, &rtp(s, 4, 0, false, 10)));
        }
        recv(&mut rx2, &first).unwrap();
        for p in &now {
            recv(&mut rx2, p).unwrap();
        }
        assert_eq!(rx2.roc(4), Some(1));
        // 65100 of ROC 0 is estimated in ROC 0 (Appendix A), 2436 packets behind: older than the
        // 1024-packet window, so dropped as too old.
        assert_eq!(
            recv(&mut rx2, &late),
            Err(SrtpError::TooOld {
                ssrc: 4,
                index: 65_100,
                newest: (1 << 16) + 2_000
            })
        );
        // Once the stream is more than 2^15 packets further, the same SEQ reads as ROC 1 (RFC 3711
        // §3.3.1: synchronisation is lost past 2^15): it fails authentication and moves nothing.
        for s in (2_500..=40_000).step_by(500) {
            recv(&mut rx2, &send(&mut tx2, &rtp(s, 4, 0, false, 10))).unwrap();
        }
        assert!(matches!(
            recv(&mut rx2, &late),
            Err(SrtpError::AuthFailed { ssrc: 4, index }) if index == (1 << 16) + 65_100
        ));
        assert_eq!(rx2.roc(4), Some(1));
    }
}

#[test]
fn a_late_packet_of_the_previous_roc_inside_the_window_is_accepted() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        // The receiver starts in ROC 0 (SEQ 65530), the packet of SEQ 65535 comes after 100 of ROC 1.
        recv(&mut rx, &send(&mut tx, &rtp(65_530, 5, 0, false, 10))).unwrap();
        let late = send(&mut tx, &rtp(65_535, 5, 0, false, 10));
        for s in 0..100 {
            let p = send(&mut tx, &rtp(s, 5, 0, false, 10));
            recv(&mut rx, &p).unwrap();
        }
        assert_eq!(rx.roc(5), Some(1));
        assert_eq!(recv(&mut rx, &late).unwrap(), rtp(65_535, 5, 0, false, 10));
        assert_eq!(rx.roc(5), Some(1), "a late packet does not move the ROC back");
    }
}

#[test]
fn replays_are_refused_rtp_and_rtcp() {
    for profile in ProtectionProfile::ALL {
        let config = SrtpConfig {
            replay_window: 128,
            ..SrtpConfig::default()
        };
        let (mut tx, mut rx) = pair(profile, &config);
        let wire: Vec<Vec<u8>> = (0..300).map(|s| send(&mut tx, &rtp(s, 7, 0, false, 8))).collect();
        recv(&mut rx, &wire[10]).unwrap();
        assert_eq!(
            recv(&mut rx, &wire[10]),
            Err(SrtpError::Replayed { ssrc: 7, index: 10 })
        );
        recv(&mut rx, &wire[299]).unwrap();
        // 299 - 128 = 171 is the first index behind the window.
        recv(&mut rx, &wire[172]).unwrap();
        assert_eq!(
            recv(&mut rx, &wire[171]),
            Err(SrtpError::TooOld {
                ssrc: 7,
                index: 171,
                newest: 299
            })
        );
        let mut rr = vec![0x80, 201, 0, 1, 0, 0, 0, 7];
        tx.protect_rtcp(&mut rr).unwrap();
        let mut again = rr.clone();
        rx.unprotect_rtcp(&mut rr).unwrap();
        assert_eq!(
            rx.unprotect_rtcp(&mut again),
            Err(SrtpError::Replayed { ssrc: 7, index: 0 })
        );
        assert_eq!(rx.stats().replayed, 3);
    }
}

#[test]
fn tampering_fails_authentication_and_moves_nothing() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let good = send(&mut tx, &rtp(100, 3, 1, true, 64));
        for at in [1, 3, 9, 13, 20, 40, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x04;
            assert!(
                matches!(
                    recv(&mut rx, &bad),
                    Err(SrtpError::AuthFailed { .. } | SrtpError::TooOld { .. })
                ),
                "{profile} byte {at}"
            );
        }
        // A forged packet far ahead (SEQ + 30000) must not move the ROC or the window.
        let mut forged = send(&mut tx, &rtp(30_100, 3, 0, false, 64));
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(matches!(
            recv(&mut rx, &forged),
            Err(SrtpError::AuthFailed { .. })
        ));
        assert_eq!(
            rx.ssrc_count(),
            0,
            "{profile}: no state from unauthenticated packets"
        );
        assert_eq!(recv(&mut rx, &good).unwrap(), rtp(100, 3, 1, true, 64));
        assert_eq!(rx.roc(3), Some(0));
        let mut rr = vec![0x80, 201, 0, 1, 0, 0, 0, 3];
        tx.protect_rtcp(&mut rr).unwrap();
        let tag_at = rr.len() - 5;
        rr[tag_at] ^= 0x10;
        assert!(matches!(
            rx.unprotect_rtcp(&mut rr),
            Err(SrtpError::AuthFailed { ssrc: 3, .. })
        ));
        assert!(rx.stats().auth_failures >= 2);
    }
}

#[test]
fn keys_of_another_session_fail() {
    let profile = ProtectionProfile::Aes128CmHmacSha1_32;
    let (mut tx, _) = pair(profile, &SrtpConfig::default());
    let other = ReceiveContext::new(
        default_provider(),
        profile,
        &[1; 16],
        &[2; 14],
        &SrtpConfig::default(),
    );
    let mut other = other.unwrap();
    let wire = send(&mut tx, &rtp(1, 1, 0, false, 10));
    assert_eq!(
        recv(&mut other, &wire),
        Err(SrtpError::AuthFailed { ssrc: 1, index: 1 })
    );
}

#[test]
fn the_ssrc_table_is_bounded() {
    let config = SrtpConfig {
        max_ssrcs: 4,
        ..SrtpConfig::default()
    };
    let (mut tx, mut rx) = pair(ProtectionProfile::AeadAes128Gcm, &config);
    // A flood of unauthenticated SSRCs creates no state at all.
    for ssrc in 0..1000u32 {
        let mut p = rtp(1, ssrc, 0, false, 20);
        p.extend_from_slice(&[0; 16]);
        assert!(rx.unprotect_rtp(&mut p).is_err());
    }
    assert_eq!(rx.ssrc_count(), 0);
    // Authenticated SSRCs beyond the cap evict the least recently used one, counted.
    for ssrc in 1..=4 {
        recv(&mut rx, &send(&mut tx, &rtp(1, ssrc, 0, false, 20))).unwrap();
    }
    recv(&mut rx, &send(&mut tx, &rtp(2, 1, 0, false, 20))).unwrap(); // 1 is used again: 2 is oldest
    assert!(matches!(
        send_result(&mut tx, &rtp(1, 5, 0, false, 20)),
        Err(SrtpError::TooManySsrcs { max: 4 })
    ));
    let (mut tx2, _) = pair(ProtectionProfile::AeadAes128Gcm, &SrtpConfig::default());
    recv(&mut rx, &send(&mut tx2, &rtp(1, 5, 0, false, 20))).unwrap();
    assert_eq!((rx.ssrc_count(), rx.stats().ssrcs_evicted), (4, 1));
    assert_eq!(rx.roc(2), None);
    assert_eq!(rx.roc(1), Some(0));
    assert!(rx.remove_ssrc(5));
    assert_eq!(rx.ssrc_count(), 3);
}

fn send_result(tx: &mut SendContext, plain: &[u8]) -> Result<Vec<u8>, SrtpError> {
    let mut p = plain.to_vec();
    tx.protect_rtp(&mut p)?;
    Ok(p)
}

#[test]
fn the_sender_never_reuses_an_index() {
    for profile in ProtectionProfile::ALL {
        let (mut tx, _) = pair(profile, &SrtpConfig::default());
        send(&mut tx, &rtp(10, 1, 0, false, 10));
        assert_eq!(
            send_result(&mut tx, &rtp(10, 1, 0, false, 11)),
            Err(SrtpError::IndexReused { ssrc: 1, index: 10 })
        );
        send(&mut tx, &rtp(9, 1, 0, false, 10)); // an unused index behind the newest is fine
        let allow = SrtpConfig {
            allow_repeated_index: true,
            ..SrtpConfig::default()
        };
        let (mut tx, mut rx) = pair(profile, &allow);
        let first = send(&mut tx, &rtp(10, 1, 0, false, 10));
        assert_eq!(
            send(&mut tx, &rtp(10, 1, 0, false, 10)),
            first,
            "a resend is the same bytes"
        );
        recv(&mut rx, &first).unwrap();
    }
}

#[test]
fn buffers_without_room_are_refused_unchanged() {
    let config = SrtpConfig {
        cryptex: true,
        ..SrtpConfig::default()
    };
    for profile in ProtectionProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &config);
        let plain = rtp(1, 1, 2, false, 30);
        let mut buf = vec![0u8; plain.len() + profile.rtp_tag_len() + 3];
        buf[..plain.len()].copy_from_slice(&plain);
        // Cryptex needs 4 more bytes here for the empty extension block.
        assert_eq!(
            tx.protect_rtp_in(&mut buf, plain.len()),
            Err(SrtpError::BufferTooSmall {
                needed: plain.len() + 4 + profile.rtp_tag_len(),
                capacity: buf.len()
            })
        );
        assert_eq!(buf[..plain.len()], plain[..]);
        buf.push(0);
        let n = tx.protect_rtp_in(&mut buf, plain.len()).unwrap();
        assert_eq!(n, buf.len());
        recv(&mut rx, &buf).unwrap();
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        let mut small = [0u8; 20];
        small[..8].copy_from_slice(&rr);
        assert!(matches!(
            tx.protect_rtcp_in(&mut small, 8),
            Err(SrtpError::BufferTooSmall { .. })
        ));
        // Malformed input to protect is refused, not panicked on.
        assert_eq!(
            tx.protect_rtp_in(&mut [0x80, 0, 0], 3),
            Err(SrtpError::TooShort { needed: 12, len: 3 })
        );
        assert!(tx.protect_rtp_in(&mut [0u8; 4], 10).is_err());
        assert!(tx.protect_rtcp_in(&mut [0x80, 201, 0, 1], 4).is_err());
    }
}

#[test]
fn short_and_malformed_packets_are_counted() {
    for profile in ProtectionProfile::ALL {
        let (_, mut rx) = pair(profile, &SrtpConfig::default());
        assert!(matches!(
            rx.unprotect_rtp(&mut [0x80; 5]),
            Err(SrtpError::TooShort { .. })
        ));
        assert!(matches!(
            rx.unprotect_rtp(&mut [0x40; 40]),
            Err(SrtpError::BadVersion(1))
        ));
        let mut cc15 = [0u8; 40];
        cc15[0] = 0x8f;
        assert!(matches!(
            rx.unprotect_rtp(&mut cc15),
            Err(SrtpError::HeaderOverrun { .. })
        ));
        assert!(matches!(
            rx.unprotect_rtcp(&mut [0x80; 21]),
            Err(SrtpError::TooShort { .. })
        ));
        assert_eq!(rx.stats().malformed, 4);
    }
}

#[test]
fn cryptex_specifics() {
    let on = SrtpConfig {
        cryptex: true,
        ..SrtpConfig::default()
    };
    let (mut tx, _) = pair(ProtectionProfile::AeadAes128Gcm, &on);
    // A non-RFC 8285 extension is sent as plain SRTP: its profile and data stay in the clear.
    let mut plain = rtp(1, 1, 0, false, 20);
    plain[0] |= 0x10;
    plain.splice(12..12, [0x12, 0x34, 0, 1, 9, 9, 9, 9]);
    let wire = send(&mut tx, &plain);
    assert_eq!(wire[12..20], plain[12..20]);
    // The cryptex profiles are SRTP's to write: a packet that already says 0xC0DE is refused (a
    // cryptex receiver would read it as encrypted), with or without cryptex.
    let mut marked = rtp(1, 1, 1, true, 20);
    marked[16..18].copy_from_slice(&[0xc0, 0xde]);
    assert_eq!(
        send_result(&mut tx, &marked),
        Err(SrtpError::ReservedExtensionProfile(0xc0de))
    );
    let (mut tx_off, _) = pair(ProtectionProfile::Aes128CmHmacSha1_80, &SrtpConfig::default());
    marked[16..18].copy_from_slice(&[0xc2, 0xde]);
    assert_eq!(
        send_result(&mut tx_off, &marked),
        Err(SrtpError::ReservedExtensionProfile(0xc2de))
    );
    // A packet without CSRCs or extension is unchanged by cryptex.
    let simple = rtp(2, 1, 0, false, 20);
    assert_eq!(send(&mut tx, &simple).len(), simple.len() + 16);
    // A receiver that did not negotiate cryptex cannot take a cryptex packet (the extension header in
    // the AEAD's associated data differs).
    let (mut tx, _) = pair(ProtectionProfile::AeadAes128Gcm, &on);
    let (_, mut rx_off) = pair(ProtectionProfile::AeadAes128Gcm, &SrtpConfig::default());
    let wire = send(&mut tx, &rtp(3, 1, 1, true, 20));
    assert!(matches!(
        recv(&mut rx_off, &wire),
        Err(SrtpError::AuthFailed { .. })
    ));
    // A cryptex receiver still takes plain SRTP packets (cryptex is the sender's choice per packet,
    // RFC 9335 §4).
    let (mut tx_off, _) = pair(ProtectionProfile::AeadAes128Gcm, &SrtpConfig::default());
    let (_, mut rx_on) = pair(ProtectionProfile::AeadAes128Gcm, &on);
    let plain = rtp(4, 1, 2, true, 20);
    assert_eq!(recv(&mut rx_on, &send(&mut tx_off, &plain)).unwrap(), plain);
}
