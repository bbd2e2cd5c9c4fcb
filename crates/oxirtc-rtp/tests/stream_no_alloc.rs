//! The stream module allocates nothing per packet once warm (CONTRIBUTING.md convention 7):
//! the retransmission ring and its index have grown to their bounds, the NACK list has its
//! capacity, and every per-packet call after that is counted by a global allocator wrapper. One
//! test in its own binary, so no other test's allocations are counted.

use std::alloc::System;
use std::time::{Duration, Instant};

use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::stream::*;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Every per-packet call of both sides for packet `i`; one in ten is lost and NACKed.
#[allow(clippy::too_many_arguments)]
fn round(
    i: u32,
    t0: Instant,
    history: &mut RetransmitBuffer,
    send: &mut SendStats,
    recv: &mut ReceiveStats,
    nacks: &mut NackGenerator,
    rtp: &mut Vec<u8>,
    rtx: &mut Vec<u8>,
) -> usize {
    let now = t0 + Duration::from_millis(u64::from(i) * 5);
    let seq = i as u16;
    let header = RtpHeader {
        payload_type: 96,
        sequence_number: seq,
        timestamp: 450 * i,
        ssrc: Ssrc(1),
        ..Default::default()
    };
    rtp.clear();
    header.write(&[0x5a; 1100], 0, rtp).expect("writes");
    let packet = RtpPacket::parse(rtp).expect("parses");
    send.on_packet(now, packet.timestamp(), packet.payload().len());
    history.insert(now, &packet);
    if i % 10 != 3 {
        recv.on_packet(now, seq, packet.timestamp(), packet.payload().len(), 90_000);
        nacks.on_packet(now, seq);
    }
    let mut written = 0;
    // The list is read in place: copying it out would be the caller's allocation.
    if let Some(list) = nacks.poll_nacks(now, Duration::from_millis(20)) {
        for &s in list {
            if let Some(r) = history.on_nack(now, s) {
                rtx.clear();
                let params = RtxParams {
                    ssrc: Ssrc(2),
                    payload_type: 97,
                    sequence_number: s,
                };
                written += r.write_rtx(params, rtx).expect("writes");
            }
        }
    }
    // The RTX arrives and repairs the loss.
    if !rtx.is_empty() {
        let r = RtxPacket::parse(RtpPacket::parse(rtx).expect("parses"))
            .expect("valid")
            .expect("not padding");
        recv.on_retransmitted_packet(now, r.original_sequence_number(), r.original_payload().len());
        nacks.on_packet(now, r.original_sequence_number());
        rtx.clear();
    }
    if i.is_multiple_of(200) {
        let block = recv.report_block(now, Ssrc(1));
        send.on_report_block(now, u64::from(i) << 32, &block);
        let _ = send.sender_info(now, u64::from(i) << 32, 90_000);
    }
    written
}

#[test]
fn per_packet_calls_do_not_allocate_once_warm() {
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    let t0 = Instant::now();
    let mut history = RetransmitBuffer::new(RetransmitConfig::default());
    let (mut send, mut recv) = (SendStats::new(), ReceiveStats::new());
    let mut nacks = NackGenerator::new(NackConfig::default());
    let (mut rtp, mut rtx) = (Vec::with_capacity(1500), Vec::with_capacity(1500));
    // Warm up: 3000 packets of 1112 bytes fill the 1.5 MiB ring (1414 fit) and the 1024-entry
    // index, and wrap the ring twice.
    let mut i = 0;
    while i < 3000 {
        round(
            i,
            t0,
            &mut history,
            &mut send,
            &mut recv,
            &mut nacks,
            &mut rtp,
            &mut rtx,
        );
        i += 1;
    }
    assert_eq!(history.capacity_bytes() / 1112, 1414);
    let region = Region::new(GLOBAL);
    let mut written = 0;
    while i < 70_000 {
        written += round(
            i,
            t0,
            &mut history,
            &mut send,
            &mut recv,
            &mut nacks,
            &mut rtp,
            &mut rtx,
        );
        i += 1;
    }
    let change = region.change();
    assert_eq!((change.allocations, change.reallocations), (0, 0), "{change:?}");
    // One loss in ten repaired, each RTX 1112 + 2 bytes; nothing left lost.
    assert_eq!(written, 6_700 * 1114);
    assert_eq!(recv.counters().packets_lost, 0);
}
