//! Drives a SampleBuilder with arbitrary packets: the first byte picks the codec and the bounds,
//! then records of (sequence step, timestamp step, marker, payload length, payload). Nothing may
//! panic, frames stay within the size bound, and the counters add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer};
use oxirtc_rtp::codec::av1::Av1Depacketizer;
use oxirtc_rtp::codec::h264::H264Depacketizer;
use oxirtc_rtp::codec::h265::H265Depacketizer;
use oxirtc_rtp::codec::vp8::Vp8Depacketizer;
use oxirtc_rtp::codec::vp9::Vp9Depacketizer;
use oxirtc_rtp::codec::Depacketizer;
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    let config = SampleBuilderConfig {
        max_packets: 1 + usize::from(select >> 4) * 4,
        max_late_packets: u16::from(select >> 5) * 3 + 1,
        max_delay: if select & 0x08 != 0 { 9000 } else { 0 },
        max_frame_bytes: 4000,
        max_held_bytes: 16_000,
    };
    match select & 0x07 {
        0 => run(H264Depacketizer, config, rest),
        1 => run(H265Depacketizer, config, rest),
        2 => run(Vp8Depacketizer, config, rest),
        3 => run(Vp9Depacketizer, config, rest),
        4 => run(Av1Depacketizer::default(), config, rest),
        _ => run(AudioDepacketizer::new(AudioCodec::Opus), config, rest),
    }
});

fn run(d: impl Depacketizer, config: SampleBuilderConfig, mut rest: &[u8]) {
    let mut b = SampleBuilder::new(d, config);
    let (mut seq, mut ts) = (0u16, 0u32);
    let mut frames = 0;
    let mut last: Option<(u16, u16)> = None;
    while rest.len() >= 4 {
        // Sequence step -8..=7 (reordering, duplicates, loss, wrap), timestamp step in 3000s.
        seq = seq.wrapping_add_signed(i16::from(rest[0] as i8 >> 4));
        ts = ts.wrapping_add(u32::from(rest[1] & 0x03) * 3000);
        let marker = rest[1] & 0x80 != 0;
        let len = usize::from(rest[2]).min(rest.len() - 3);
        let payload = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let _ = b.handle_packet(seq, ts, marker, payload);
        while let Some(f) = b.poll_frame() {
            assert!(f.data.len() <= config.max_frame_bytes);
            if let Some((_, prev_last)) = last {
                // Frames come in sequence order: each starts after the one before ended (steps
                // are small, so the 16-bit difference tells the order).
                assert!(f.first_sequence.wrapping_sub(prev_last) as i16 > 0);
            }
            assert!(usize::from(f.last_sequence.wrapping_sub(f.first_sequence)) < config.max_packets);
            last = Some((f.first_sequence, f.last_sequence));
            frames += 1;
        }
    }
    assert_eq!(b.stats().frames, frames);
}
