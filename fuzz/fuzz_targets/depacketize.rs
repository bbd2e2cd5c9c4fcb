//! Feeds arbitrary bytes to every depacketizer (the first byte picks the codec): the rest is a run
//! of payloads, each after a one-byte length, depacketized into one frame and then finished. Errors
//! must leave the frame as it was, nothing may panic, and the borrowing parsers must agree with the
//! depacketizers on what is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer};
use oxirtc_rtp::codec::av1::{Av1Depacketizer, Av1Payload};
use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Payload};
use oxirtc_rtp::codec::h265::{H265Depacketizer, H265Payload};
use oxirtc_rtp::codec::vp8::{Vp8Depacketizer, Vp8Descriptor};
use oxirtc_rtp::codec::vp9::{Vp9Depacketizer, Vp9Descriptor};
use oxirtc_rtp::codec::Depacketizer;

fuzz_target!(|data: &[u8]| {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    match select % 9 {
        0 => run(H264Depacketizer, rest, |p| H264Payload::parse(p).is_ok()),
        1 => run(H265Depacketizer, rest, |p| H265Payload::parse(p).is_ok()),
        2 => run(Vp8Depacketizer, rest, |p| Vp8Descriptor::parse(p).is_ok()),
        3 => run(Vp9Depacketizer, rest, |p| Vp9Descriptor::parse(p).is_ok()),
        4 => run(Av1Depacketizer::default(), rest, |p| Av1Payload::parse(p).is_ok()),
        5 => run(AudioDepacketizer::new(AudioCodec::Opus), rest, |_| true),
        6 => run(AudioDepacketizer::new(AudioCodec::Pcmu), rest, |_| true),
        7 => run(AudioDepacketizer::new(AudioCodec::Pcma), rest, |_| true),
        _ => run(AudioDepacketizer::new(AudioCodec::G722), rest, |_| true),
    }
});

fn run(mut d: impl Depacketizer, mut rest: &[u8], parses: impl Fn(&[u8]) -> bool) {
    let mut frame = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        let before = frame.clone();
        match d.depacketize(payload, &mut frame) {
            Ok(_) => assert!(parses(payload), "depacketized what the parser refuses"),
            Err(_) => assert_eq!(frame, before, "a refused payload changed the frame"),
        }
        // Bounded output: a payload never grows the frame by much more than its own size.
        assert!(frame.len() <= before.len() + 3 * payload.len() + 8);
    }
    let _ = d.finish_frame(&mut frame);
}
