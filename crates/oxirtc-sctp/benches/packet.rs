//! Micro-benchmarks of SCTP's per-packet hot paths so regressions show: building a full DATA packet
//! (chunk encoding + CRC32c, RFC 9260 §6.8) and reading one (checksum check + chunk parse).
//! `cargo bench -p oxirtc-sctp`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use oxirtc_sctp::{
    begin_packet, data_flags, encode_data, verify_checksum, write_checksum, CommonHeader, DataChunk, Packet,
};

/// A packet of `chunks` DATA chunks, each a whole message of `payload`.
fn data_packet(payload: &[u8], chunks: usize, out: &mut Vec<u8>) {
    let header = CommonHeader {
        src_port: 5000,
        dst_port: 5000,
        verification_tag: 0x1234_5678,
    };
    begin_packet(out, &header);
    for i in 0..chunks {
        let chunk = DataChunk {
            flags: data_flags::BEGIN | data_flags::END,
            tsn: i as u32,
            stream: 1,
            ssn: i as u16,
            ppid: 53,
            payload,
        };
        encode_data(out, &chunk);
    }
    write_checksum(out);
}

fn packets(c: &mut Criterion) {
    let mut group = c.benchmark_group("sctp_packet");
    // One MTU-sized fragment of a bulk transfer, and a bundle of small messages.
    for (name, size, chunks) in [("1x1156B", 1156, 1), ("11x100B", 100, 11)] {
        let payload = vec![0xA5u8; size];
        let mut out = Vec::with_capacity(1200);
        data_packet(&payload, chunks, &mut out);
        let packet = out.clone();
        group.throughput(Throughput::Bytes(packet.len() as u64));
        group.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| {
                data_packet(black_box(&payload), chunks, &mut out);
                black_box(out.len())
            })
        });
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| {
                let ok = verify_checksum(black_box(&packet)).is_ok();
                let parsed = Packet::parse(black_box(&packet)).map_or(0, |p| p.chunks.len());
                assert!(ok && parsed == chunks, "the benchmark packet must parse");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, packets);
criterion_main!(benches);
