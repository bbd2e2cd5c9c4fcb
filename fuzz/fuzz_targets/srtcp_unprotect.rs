//! Unprotects arbitrary bytes as SRTCP under every profile (the first byte picks it), and protects the
//! same bytes as RTCP: whatever protects must unprotect to what was sent, once, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::default_provider;
use oxirtc_srtp::{ProtectionProfile, ReceiveContext, SendContext, SrtpConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&select, bytes)) = data.split_first() else {
        return;
    };
    let profile = ProtectionProfile::ALL[usize::from(select & 3)];
    let config = SrtpConfig {
        max_ssrcs: 2,
        ..SrtpConfig::default()
    };
    let key = vec![0x42; profile.master_key_len()];
    let salt = vec![0x17; profile.master_salt_len()];
    let crypto = default_provider();
    let mut tx = SendContext::new(crypto, profile, &key, &salt, &config).expect("valid keys");
    let mut rx = ReceiveContext::new(crypto, profile, &key, &salt, &config).expect("valid keys");

    let mut packet = bytes.to_vec();
    if let Ok(n) = rx.unprotect_rtcp(&mut packet) {
        assert!(n <= bytes.len());
    }
    let mut protected = bytes.to_vec();
    if tx.protect_rtcp(&mut protected).is_ok() {
        let mut copy = protected.clone();
        let n = rx
            .unprotect_rtcp(&mut copy)
            .expect("our own packet authenticates");
        assert_eq!(&copy[..n], bytes);
        assert!(rx.unprotect_rtcp(&mut protected).is_err(), "a replay is refused");
    }
    assert!(rx.ssrc_count() <= 2);
});
