//! Parses arbitrary bytes as DTLS records and runs them through a record layer with epoch-1 keys for
//! every cipher suite: never a panic, and whatever opens must have authenticated under the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::default_provider;
use oxirtc_dtls::{
    record::{ContentType, Record, RecordCipher, RecordLayer},
    CipherSuite,
};

fuzz_target!(|data: &[u8]| {
    let crypto = default_provider();
    for suite in CipherSuite::ALL {
        let key = vec![0x42; suite.aead().key_len()];
        let iv = vec![0x24; suite.fixed_iv_len()];
        let mut layer = RecordLayer::new();
        let Ok(cipher) = RecordCipher::new(crypto, suite, &key, &iv) else {
            return;
        };
        layer.install_read(1, cipher);
        let mut rest = data;
        let mut n = 0;
        while let Ok((rec, tail)) = Record::parse(rest) {
            assert!(tail.len() < rest.len(), "parsing always consumes bytes");
            rest = tail;
            n += 1;
            if let Ok(plain) = layer.open(&rec) {
                assert!(plain.len() <= 1 << 14 || rec.epoch > 0);
                // Re-encoding a parsed record gives back its bytes.
                let mut again = Vec::new();
                rec.encode(&mut again);
                assert_eq!(Record::parse(&again).map(|(r, _)| r), Ok(rec));
            }
            if n > 1000 {
                break;
            }
        }
        let _ = ContentType::from_code(data.first().copied().unwrap_or(0));
    }
});
