//! Frames rebuilt from RTP packets that ffmpeg's RTP muxer wrote equal the frames ffmpeg encoded
//! (tests/fixtures/README.md says how the files were made).
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use oxirtc_rtp::codec::audio::{AudioCodec, AudioDepacketizer, AudioInfo};
use oxirtc_rtp::codec::h264::{H264Depacketizer, H264Payload};
use oxirtc_rtp::codec::h265::{H265Depacketizer, H265Payload};
use oxirtc_rtp::codec::vp8::Vp8Depacketizer;
use oxirtc_rtp::codec::vp9::Vp9Depacketizer;
use oxirtc_rtp::codec::{CodecInfo, Depacketizer};
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};

const H264_ES: &[u8] = include_bytes!("fixtures/h264.264");
const H264_RTP: &[u8] = include_bytes!("fixtures/h264.rtpdump");
const VP8_IVF: &[u8] = include_bytes!("fixtures/vp8.ivf");
const VP8_RTP: &[u8] = include_bytes!("fixtures/vp8.rtpdump");
const VP9_IVF: &[u8] = include_bytes!("fixtures/vp9.ivf");
const VP9_RTP: &[u8] = include_bytes!("fixtures/vp9.rtpdump");
const H265_ES: &[u8] = include_bytes!("fixtures/h265.265");
const H265_RTP: &[u8] = include_bytes!("fixtures/h265.rtpdump");
const OPUS_OGG: &[u8] = include_bytes!("fixtures/opus.ogg");
const OPUS_RTP: &[u8] = include_bytes!("fixtures/opus.rtpdump");

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

/// The access units of an Annex B stream, each begun by an access unit delimiter (`is_aud`),
/// in our output format: 4-byte start codes.
fn access_units(es: &[u8], is_aud: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    let mut aus: Vec<Vec<u8>> = Vec::new();
    for nal in nal_units(es) {
        if is_aud(nal) {
            aus.push(Vec::new());
        }
        let au = aus.last_mut().expect("the stream begins with an AUD");
        au.extend([0, 0, 0, 1]);
        au.extend(nal);
    }
    aus
}

/// IVF: 32-byte file header; per frame a 12-byte header (u32 LE size, u64 pts) and the frame.
fn ivf_frames(ivf: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut rest = &ivf[32..];
    while !rest.is_empty() {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        frames.push(rest[12..12 + n].to_vec());
        rest = &rest[12 + n..];
    }
    frames
}

#[test]
fn h264_frames_equal_the_encoded_access_units() {
    let expected = access_units(H264_ES, |nal| nal[0] & 0x1f == 9);
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
fn h265_frames_equal_the_encoded_access_units() {
    let expected = access_units(H265_ES, |nal| (nal[0] >> 1) & 0x3f == 35);
    assert_eq!(expected.len(), 6);
    let got = frames(H265Depacketizer, H265_RTP);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [true, false, false, true, false, false]
    );
    // ffmpeg's packetizer sends the zero byte of the next 4-byte start code with the last NAL unit
    // of an access unit (a trailing_zero_8bits, H.265 §B.2), and we pass it on: compare NAL units.
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(nal_units(&g.1), nal_units(e));
    }
    assert_eq!(got.len(), expected.len());
    let kinds: Vec<bool> = packets(H265_RTP)
        .iter()
        .map(|p| matches!(H265Payload::parse(p.3).unwrap(), H265Payload::Aggregation(_)))
        .collect();
    assert!(kinds.contains(&true) && kinds.contains(&false), "APs and FUs");
}

#[test]
fn vp9_frames_equal_the_encoded_frames() {
    let expected = ivf_frames(VP9_IVF);
    assert_eq!(expected.len(), 6);
    let got = frames(Vp9Depacketizer, VP9_RTP);
    // ffmpeg 5.1 leaves P at 0 on every frame: the keyframes come from the VP9 frame headers.
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [true, false, false, true, false, false]
    );
    let got: Vec<Vec<u8>> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(got, expected);
}

#[test]
fn opus_frames_equal_the_encoded_packets() {
    // Ogg (RFC 3533): pages of "OggS", 27-byte header, segment table; a packet ends at a lacing
    // value below 255. The first two packets are OpusHead and OpusTags (RFC 7845 §5).
    let mut expected = Vec::new();
    let mut packet = Vec::new();
    let mut rest = OPUS_OGG;
    while !rest.is_empty() {
        assert_eq!(&rest[..4], b"OggS");
        let segments = usize::from(rest[26]);
        let table = &rest[27..27 + segments];
        let mut body = &rest[27 + segments..];
        for &lace in table {
            packet.extend(&body[..usize::from(lace)]);
            body = &body[usize::from(lace)..];
            if lace < 255 {
                expected.push(std::mem::take(&mut packet));
            }
        }
        rest = body;
    }
    let expected = &expected[2..];
    let mut b = SampleBuilder::new(
        AudioDepacketizer::new(AudioCodec::Opus),
        SampleBuilderConfig::default(),
    );
    let mut got = Vec::new();
    for (seq, ts, marker, payload) in packets(OPUS_RTP) {
        b.handle_packet(seq, ts, marker, payload).unwrap();
        while let Some(f) = b.poll_frame() {
            let CodecInfo::Audio(AudioInfo { samples, .. }) = f.info.codec else {
                panic!("not audio")
            };
            assert_eq!(samples, 960, "20 ms at 48 kHz");
            got.push(f.data.to_vec());
        }
    }
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
    let expected = ivf_frames(VP8_IVF);
    assert_eq!(expected.len(), 6);
    let got = frames(Vp8Depacketizer, VP8_RTP);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [true, false, false, true, false, false]
    );
    let got: Vec<Vec<u8>> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(got, expected);
}
