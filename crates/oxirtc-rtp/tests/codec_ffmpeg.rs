//! Frames rebuilt from RTP packets that ffmpeg's RTP muxer wrote equal the frames ffmpeg encoded
//! (tests/fixtures/README.md says how the files were made).

use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Payload};
use oxirtc_rtp::codec::vp8::Vp8Depacketizer;
use oxirtc_rtp::codec::Depacketizer;
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};

const H264_ES: &[u8] = include_bytes!("fixtures/h264.264");
const H264_RTP: &[u8] = include_bytes!("fixtures/h264.rtpdump");
const VP8_IVF: &[u8] = include_bytes!("fixtures/vp8.ivf");
const VP8_RTP: &[u8] = include_bytes!("fixtures/vp8.rtpdump");

/// (sequence, timestamp, marker, payload) of each packet in a capture: 2-byte length, RTP packet.
/// A minimal RTP reader (RFC 3550 §5.1), enough for these captures: CSRCs, extension and padding
/// are skipped.
fn packets(mut dump: &[u8]) -> Vec<(u16, u32, bool, &[u8])> {
    let mut out = Vec::new();
    while !dump.is_empty() {
        let n = usize::from(u16::from_be_bytes([dump[0], dump[1]]));
        let p = &dump[2..2 + n];
        dump = &dump[2 + n..];
        assert_eq!(p[0] >> 6, 2, "RTP version 2");
        let mut start = 12 + 4 * usize::from(p[0] & 0x0f);
        if p[0] & 0x10 != 0 {
            start += 4 + 4 * usize::from(u16::from_be_bytes([p[start + 2], p[start + 3]]));
        }
        let end = if p[0] & 0x20 != 0 {
            n - usize::from(p[n - 1])
        } else {
            n
        };
        let seq = u16::from_be_bytes([p[2], p[3]]);
        let ts = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        out.push((seq, ts, p[1] & 0x80 != 0, &p[start..end]));
    }
    out
}

/// Runs a capture through a SampleBuilder; returns (keyframe, frame) in order.
fn frames<D: Depacketizer>(d: D, dump: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut b = SampleBuilder::new(d, SampleBuilderConfig::default());
    let mut got = Vec::new();
    for (seq, ts, marker, payload) in packets(dump) {
        b.handle_packet(seq, ts, marker, payload).unwrap();
        while let Some(f) = b.poll_frame() {
            got.push((f.keyframe, f.data.to_vec()));
        }
    }
    assert_eq!(b.stats().frames_incomplete + b.stats().packets_malformed, 0);
    got
}

/// The NAL units of an Annex B stream (3- or 4-byte start codes).
fn nal_units(es: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= es.len() {
        if es[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map_or(es.len(), |&n| n - 3);
        while e > s && es[e - 1] == 0 {
            e -= 1; // the zero of a 4-byte start code
        }
        nals.push(&es[s..e]);
    }
    nals
}

#[test]
fn h264_frames_equal_the_encoded_access_units() {
    // The encoded stream, one access unit per AUD (NAL type 9), in our output format: 4-byte
    // start codes.
    let mut expected: Vec<Vec<u8>> = Vec::new();
    for nal in nal_units(H264_ES) {
        if nal[0] & 0x1f == 9 {
            expected.push(Vec::new());
        }
        let au = expected.last_mut().expect("the stream begins with an AUD");
        au.extend([0, 0, 0, 1]);
        au.extend(nal);
    }
    assert_eq!(expected.len(), 6);
    let got = frames(H264Depacketizer, H264_RTP);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [true, false, false, true, false, false]
    );
    let got: Vec<Vec<u8>> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(got, expected);
}

#[test]
fn h264_capture_uses_stap_a_and_fu_a() {
    let kinds: Vec<&str> = packets(H264_RTP)
        .iter()
        .map(|p| match H264Payload::parse(p.3).unwrap() {
            H264Payload::Single(_) => "single",
            H264Payload::StapA(_) => "stap-a",
            H264Payload::FuA { .. } => "fu-a",
        })
        .collect();
    assert!(kinds.contains(&"stap-a") && kinds.contains(&"fu-a"), "{kinds:?}");
}

#[test]
fn vp8_frames_equal_the_encoded_frames() {
    // IVF: 32-byte file header; per frame a 12-byte header (u32 LE size, u64 pts) and the frame.
    let mut expected = Vec::new();
    let mut rest = &VP8_IVF[32..];
    while !rest.is_empty() {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        expected.push(rest[12..12 + n].to_vec());
        rest = &rest[12 + n..];
    }
    assert_eq!(expected.len(), 6);
    let got = frames(Vp8Depacketizer, VP8_RTP);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [true, false, false, true, false, false]
    );
    let got: Vec<Vec<u8>> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(got, expected);
}
