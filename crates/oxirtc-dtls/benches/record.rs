//! Micro-benchmarks of the DTLS record layer's hot path so regressions show: sealing and opening one
//! application-data record (RFC 6347 §4.1.2, AEAD per RFC 5288 / RFC 7905) for each cipher suite,
//! at the size of a full SCTP packet. `cargo bench -p oxirtc-dtls`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use oxirtc_crypto::default_provider;
use oxirtc_dtls::record::{ContentType, Record, RecordCipher, RecordLayer};
use oxirtc_dtls::CipherSuite;

/// Bytes of one SCTP packet at oxirtc's default SCTP MTU.
const PLAINTEXT: usize = 1188;

fn cipher(suite: CipherSuite) -> Option<RecordCipher> {
    let key = vec![7u8; suite.aead().key_len()];
    let iv = vec![9u8; suite.fixed_iv_len()];
    RecordCipher::new(default_provider(), suite, &key, &iv).ok()
}

fn records(c: &mut Criterion) {
    let mut group = c.benchmark_group("dtls_record");
    group.throughput(Throughput::Bytes(PLAINTEXT as u64));
    let plaintext = vec![0x5Au8; PLAINTEXT];
    for suite in CipherSuite::ALL {
        let name = format!("{suite:?}");
        let mut writer = RecordLayer::new();
        let Some(w) = cipher(suite) else {
            continue;
        };
        writer.install_write(1, w);
        let mut out = Vec::with_capacity(PLAINTEXT + 64);
        group.bench_function(BenchmarkId::new("seal", &name), |b| {
            b.iter(|| {
                out.clear();
                let sealed = writer.seal(&mut out, ContentType::ApplicationData, 1, black_box(&plaintext));
                assert!(sealed, "sequence numbers cannot run out in a benchmark");
                black_box(out.len())
            })
        });
        // Opening the same record twice is a replay, so every iteration gets a fresh reader.
        group.bench_function(BenchmarkId::new("open", &name), |b| {
            b.iter_batched(
                || {
                    let mut reader = RecordLayer::new();
                    if let Some(r) = cipher(suite) {
                        reader.install_read(1, r);
                    }
                    let mut datagram = Vec::new();
                    writer.seal(&mut datagram, ContentType::ApplicationData, 1, &plaintext);
                    (reader, datagram)
                },
                |(mut reader, datagram)| {
                    let opened = Record::parse(&datagram)
                        .ok()
                        .and_then(|(record, _)| reader.open(&record).ok());
                    assert_eq!(opened.map(|p| p.len()), Some(PLAINTEXT), "the record must open");
                    // Returned so that freeing the key is not timed (criterion drops outputs later).
                    (reader, datagram)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
