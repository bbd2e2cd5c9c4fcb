//! Bytes from the network never panic (CONTRIBUTING.md convention 9): arbitrary bytes, and valid
//! packets with arbitrary damage, through unprotect in every profile, with and without cryptex.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_crypto::default_provider;
use oxirtc_srtp::{ProtectionProfile, ReceiveContext, SendContext, SrtpConfig};
use proptest::prelude::*;

fn contexts(profile: ProtectionProfile, cryptex: bool) -> (SendContext, ReceiveContext) {
    let config = SrtpConfig {
        cryptex,
        ..SrtpConfig::default()
    };
    let key = vec![0x42; profile.master_key_len()];
    let salt = vec![0x17; profile.master_salt_len()];
    let crypto = default_provider();
    (
        SendContext::new(crypto, profile, &key, &salt, &config).unwrap(),
        ReceiveContext::new(crypto, profile, &key, &salt, &config).unwrap(),
    )
}

fn profile() -> impl Strategy<Value = ProtectionProfile> {
    prop::sample::select(ProtectionProfile::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn unprotect_never_panics_on_arbitrary_bytes(
        profile in profile(),
        cryptex in any::<bool>(),
        rtp in prop::collection::vec(any::<u8>(), 0..200),
        rtcp in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let (_, mut rx) = contexts(profile, cryptex);
        let mut p = rtp.clone();
        if let Ok(n) = rx.unprotect_rtp(&mut p) {
            prop_assert!(n <= rtp.len());
        }
        let mut p = rtcp.clone();
        if let Ok(n) = rx.unprotect_rtcp(&mut p) {
            prop_assert!(n <= rtcp.len());
        }
        // Random bytes never authenticate, so no state is created.
        prop_assert_eq!(rx.ssrc_count(), 0);
    }

    #[test]
    fn damaged_packets_are_dropped_without_panic(
        profile in profile(),
        cryptex in any::<bool>(),
        csrcs in 0u8..4,
        ext_words in prop::option::of(0u8..4),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let (mut tx, mut rx) = contexts(profile, cryptex);
        let mut p = vec![0x80 | csrcs, 96, 0x12, 0x34, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd];
        p.extend((0..csrcs).flat_map(|c| [0, 0, 0, c]));
        if let Some(words) = ext_words {
            p[0] |= 0x10;
            p.extend_from_slice(&[0xbe, 0xde, 0, words]);
            p.extend((0..words).flat_map(|w| [0x10 | w, w, 0, 0]));
        }
        p.extend_from_slice(&payload);
        let plain = p.clone();
        tx.protect_rtp(&mut p).unwrap();
        // Damaged: some bytes flipped, or cut short. Never accepted, never a panic.
        let mut damaged = p.clone();
        for (at, mask) in &flips {
            let i = at.index(damaged.len());
            damaged[i] ^= mask;
        }
        // (Two flips of one byte with one mask cancel out: only a changed packet must fail.)
        if damaged != p {
            prop_assert!(rx.unprotect_rtp(&mut damaged).is_err());
        }
        let mut short = p[..cut.index(p.len())].to_vec();
        prop_assert!(rx.unprotect_rtp(&mut short).is_err());
        // The undamaged packet still goes through, and comes out as sent (cryptex may have added an
        // empty extension block to a packet with CSRCs only).
        let n = rx.unprotect_rtp(&mut p).unwrap();
        if !(cryptex && csrcs > 0 && ext_words.is_none()) {
            prop_assert_eq!(&p[..n], &plain[..]);
        }
        let mut rtcp = vec![0x80, 201, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd];
        rtcp.extend_from_slice(&payload);
        tx.protect_rtcp(&mut rtcp).unwrap();
        let mut damaged = rtcp.clone();
        for (at, mask) in &flips {
            let i = at.index(damaged.len());
            damaged[i] ^= mask;
        }
        if damaged != rtcp {
            prop_assert!(rx.unprotect_rtcp(&mut damaged).is_err());
        }
        prop_assert!(rx.unprotect_rtcp(&mut rtcp[..cut.index(rtcp.len())].to_vec()).is_err());
        prop_assert_eq!(rx.unprotect_rtcp(&mut rtcp), Ok(8 + payload.len()));
    }
}
