//! Protecting and unprotecting allocate nothing per packet once the buffers have their capacity
//! (CONTRIBUTING.md convention 7): counted by a global allocator wrapper. One test in its own binary,
//! so no other test's allocations are counted.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use std::alloc::System;

use oxirtc_crypto::default_provider;
use oxirtc_srtp::{ProtectionProfile, ReceiveContext, SendContext, SrtpConfig};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn protect_and_unprotect_do_not_allocate() {
    for profile in ProtectionProfile::ALL {
        for cryptex in [false, true] {
            let config = SrtpConfig {
                cryptex,
                ..SrtpConfig::default()
            };
            let key = vec![3; profile.master_key_len()];
            let salt = vec![5; profile.master_salt_len()];
            let crypto = default_provider();
            let mut tx = SendContext::new(crypto, profile, &key, &salt, &config).unwrap();
            let mut rx = ReceiveContext::new(crypto, profile, &key, &salt, &config).unwrap();
            let mut buf: Vec<u8> = Vec::with_capacity(1500);
            let mut fixed = [0u8; 1500];
            // The first packet of an SSRC creates its state (an allocation per new SSRC, not per packet).
            let mut round = |seq: u16, buf: &mut Vec<u8>, fixed: &mut [u8; 1500]| {
                buf.clear();
                buf.extend_from_slice(&[0x91, 96, (seq >> 8) as u8, seq as u8, 0, 0, 0, 0, 0, 0, 0, 9]);
                buf.extend_from_slice(&[0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]);
                buf.resize(buf.len() + 1200, 0x5a);
                tx.protect_rtp(buf).unwrap();
                assert_eq!(rx.unprotect_rtp(buf).unwrap(), 24 + 1200);
                // The fixed-buffer path (protect_rtp_in), from another SSRC: a 160-byte payload.
                fixed[..12].copy_from_slice(&[
                    0x80,
                    111,
                    (seq >> 8) as u8,
                    seq as u8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    10,
                ]);
                fixed[12..172].fill(0x33);
                let n = tx.protect_rtp_in(fixed, 172).unwrap();
                assert_eq!(rx.unprotect_rtp(&mut fixed[..n]).unwrap(), 172);
                let len = 8 + 40;
                fixed[..8].copy_from_slice(&[0x80, 201, 0, 11, 0, 0, 0, 9]);
                let n = tx.protect_rtcp_in(fixed, len).unwrap();
                assert_eq!(rx.unprotect_rtcp(&mut fixed[..n]).unwrap(), len);
            };
            round(65_000, &mut buf, &mut fixed);
            let region = Region::new(GLOBAL);
            for seq in (65_001..=65_535).chain(0..500) {
                round(seq, &mut buf, &mut fixed);
            }
            let change = region.change();
            assert_eq!(
                (change.allocations, change.reallocations),
                (0, 0),
                "{profile} cryptex {cryptex}: {change:?}"
            );
            assert_eq!((rx.roc(9), rx.roc(10)), (Some(1), Some(1)));
        }
    }
}
