//! Interop with another implementation: SRTP and SRTCP packets protected by Pion (pion/srtp v2),
//! recorded once in `tests/pion/pion_v2.txt` by `tests/pion/main.go` (its comment says how), so this
//! test needs no Go. We must decrypt every one of them, in order and reordered across the sequence
//! number wrap, and protect each plain RTP packet to the very bytes Pion produced.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_crypto::default_provider;
use oxirtc_srtp::{ProtectionProfile, ReceiveContext, SendContext, SrtpConfig, SrtpError};

const FIXTURE: &str = include_str!("pion/pion_v2.txt");

struct Profile {
    profile: ProtectionProfile,
    key: Vec<u8>,
    salt: Vec<u8>,
    rtp: Vec<(Vec<u8>, Vec<u8>)>,
    rtcp: Vec<(Vec<u8>, Vec<u8>)>,
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn fixture() -> Vec<Profile> {
    let mut profiles: Vec<Profile> = Vec::new();
    for line in FIXTURE.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "profile" => profiles.push(Profile {
                profile: match f[1] {
                    "SRTP_AES128_CM_HMAC_SHA1_80" => ProtectionProfile::Aes128CmHmacSha1_80,
                    "SRTP_AES128_CM_HMAC_SHA1_32" => ProtectionProfile::Aes128CmHmacSha1_32,
                    "SRTP_AEAD_AES_128_GCM" => ProtectionProfile::AeadAes128Gcm,
                    other => panic!("unknown profile {other}"),
                },
                key: unhex(f[2]),
                salt: unhex(f[3]),
                rtp: Vec::new(),
                rtcp: Vec::new(),
            }),
            "rtp" => profiles.last_mut().unwrap().rtp.push((unhex(f[1]), unhex(f[2]))),
            "rtcp" => profiles.last_mut().unwrap().rtcp.push((unhex(f[1]), unhex(f[2]))),
            other => panic!("unknown record {other}"),
        }
    }
    profiles
}

fn contexts(p: &Profile) -> (SendContext, ReceiveContext) {
    let crypto = default_provider();
    let config = SrtpConfig::default();
    (
        SendContext::new(crypto, p.profile, &p.key, &p.salt, &config).unwrap(),
        ReceiveContext::new(crypto, p.profile, &p.key, &p.salt, &config).unwrap(),
    )
}

#[test]
fn fixture_covers_three_profiles() {
    let profiles = fixture();
    assert_eq!(profiles.len(), 3);
    for p in &profiles {
        assert_eq!((p.rtp.len(), p.rtcp.len()), (15, 4), "{}", p.profile);
    }
}

#[test]
fn we_decrypt_pion_srtp_and_protect_to_the_same_bytes() {
    for p in fixture() {
        let (mut tx, mut rx) = contexts(&p);
        for (i, (plain, pion)) in p.rtp.iter().enumerate() {
            let mut ours = plain.clone();
            tx.protect_rtp(&mut ours).unwrap();
            assert_eq!(
                &ours, pion,
                "{} RTP packet {i}: protect differs from Pion",
                p.profile
            );
            let mut packet = pion.clone();
            let n = rx.unprotect_rtp(&mut packet).unwrap();
            assert_eq!(&packet[..n], &plain[..], "{} RTP packet {i}", p.profile);
        }
        // The first stream ran from SEQ 65530 across the wrap: ROC 1 on both sides, as Pion had it.
        assert_eq!((tx.roc(0x1122_3344), rx.roc(0x1122_3344)), (Some(1), Some(1)));
        assert_eq!(rx.stats().rtp_packets, 15);
    }
}

#[test]
fn pion_srtp_reordered_across_the_wrap() {
    for p in fixture() {
        let (_, mut rx) = contexts(&p);
        // SEQ 65530..=65535 are packets 0..=5, SEQ 0..=5 are 6..=11. Deliver 65530, 65531, then 0 and 1
        // (ROC 1) before the late 65532..65535 (ROC 0), then the rest backwards.
        let order = [0, 1, 6, 7, 2, 3, 4, 5, 11, 10, 9, 8];
        for i in order {
            let (plain, pion) = &p.rtp[i];
            let mut packet = pion.clone();
            let n = rx
                .unprotect_rtp(&mut packet)
                .unwrap_or_else(|e| panic!("{} packet {i}: {e}", p.profile));
            assert_eq!(&packet[..n], &plain[..]);
        }
        assert_eq!(rx.roc(0x1122_3344), Some(1));
        // Each of them again is a replay.
        for i in order {
            let mut packet = p.rtp[i].1.clone();
            assert!(matches!(
                rx.unprotect_rtp(&mut packet),
                Err(SrtpError::Replayed { .. })
            ));
        }
    }
}

#[test]
fn we_decrypt_pion_srtcp() {
    for p in fixture() {
        let (mut tx, mut rx) = contexts(&p);
        for (i, (plain, pion)) in p.rtcp.iter().enumerate() {
            let mut packet = pion.clone();
            let n = rx.unprotect_rtcp(&mut packet).unwrap();
            assert_eq!(&packet[..n], &plain[..], "{} RTCP packet {i}", p.profile);
            // Our own protection of the same packet round-trips; it differs from Pion's only by the
            // SRTCP index, which Pion starts at 1 where RFC 3711 §3.4 says 0.
            let mut ours = plain.clone();
            tx.protect_rtcp(&mut ours).unwrap();
            assert_eq!(ours.len(), pion.len());
        }
        let index_of = |packet: &[u8]| {
            let at = if p.profile.is_aead() {
                packet.len() - 4
            } else {
                packet.len() - 14
            };
            u32::from_be_bytes(packet[at..at + 4].try_into().unwrap())
        };
        assert_eq!(index_of(&p.rtcp[0].1), 0x8000_0001);
        assert_eq!(rx.stats().rtcp_packets, 4);
    }
}
