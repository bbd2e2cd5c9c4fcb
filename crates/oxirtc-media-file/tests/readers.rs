//! Each reader on its fixture gives what `ffprobe -count_frames -show_packets` reports (the
//! numbers are in fixtures/README.md).
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use common::fixture;
use oxirtc_media_file::{AnnexBReader, Frame, IvfReader, OggOpusReader, Timebase, VideoCodec};

/// (file, FourCC, frame count, sum of frame sizes, first frame size, last frame size) from ffprobe.
type IvfCase = (&'static str, &'static [u8; 4], usize, usize, usize, usize);
const IVF: [IvfCase; 3] = [
    ("vp8.ivf", b"VP80", 60, 75_152, 7_873, 1_174),
    ("vp9.ivf", b"VP90", 60, 68_845, 8_180, 682),
    ("av1.ivf", b"AV01", 60, 84_903, 10_512, 1_296),
];

fn keyframes(flags: impl Iterator<Item = bool>) -> Vec<usize> {
    flags.enumerate().filter(|(_, k)| *k).map(|(i, _)| i).collect()
}

#[test]
fn ivf_fixtures_match_ffprobe() {
    for (name, fourcc, count, total, first, last) in IVF {
        let file = fixture(name);
        let mut r = IvfReader::new(&file[..]).unwrap();
        let h = *r.header();
        assert_eq!(
            (&h.fourcc, h.width, h.height, h.frame_count),
            (fourcc, 320, 240, 60),
            "{name}"
        );
        assert_eq!(h.timebase, Timebase::new(1, 30).unwrap(), "{name}");
        let frames: Vec<Frame> = r.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), count, "{name}");
        assert_eq!(keyframes(frames.iter().map(|f| f.keyframe)), [0, 30], "{name}");
        assert!(
            frames.iter().enumerate().all(|(i, f)| f.pts == i as i64),
            "{name}: pts 0..59"
        );
        assert_eq!(
            frames.iter().map(|f| f.data.len()).sum::<usize>(),
            total,
            "{name}"
        );
        assert_eq!(
            (frames[0].data.len(), frames[59].data.len()),
            (first, last),
            "{name}"
        );
        assert_eq!(r.offset(), file.len() as u64, "{name}: read to the end");
    }
}

/// (file, codec, NAL units, sum of access unit sizes with 4-byte start codes, sizes of access
/// units 0, 30 and 59, NAL types of access units 0, 1 and 30). ffprobe gives the count (60), the
/// key frames (0 and 30) and each access unit's extent in the file; the sizes here are those
/// extents with every start code counted as 4 bytes.
type AnnexBCase = (
    &'static str,
    VideoCodec,
    usize,
    usize,
    [usize; 3],
    [&'static [u8]; 3],
);
const ANNEXB: [AnnexBCase; 3] = [
    (
        "h264.h264",
        VideoCodec::H264,
        125,
        62_282,
        [3_959, 5_018, 1_030],
        [&[7, 8, 6, 5, 5], &[1, 1], &[7, 8, 5, 5]],
    ),
    (
        "h264-aud.h264",
        VideoCodec::H264,
        185,
        62_642,
        [3_965, 5_024, 1_036],
        [&[9, 7, 8, 6, 5, 5], &[9, 1, 1], &[9, 7, 8, 5, 5]],
    ),
    (
        "h265.h265",
        VideoCodec::H265,
        128,
        75_007,
        [5_536, 6_879, 920],
        [&[32, 33, 34, 39, 20, 20], &[1, 1], &[32, 33, 34, 39, 20, 20]],
    ),
];

#[test]
fn annexb_fixtures_match_ffprobe() {
    for (name, codec, nals, total, sizes, types) in ANNEXB {
        let file = fixture(name);
        let aus: Vec<_> = AnnexBReader::new(&file[..], codec)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(aus.len(), 60, "{name}");
        assert_eq!(keyframes(aus.iter().map(|a| a.keyframe)), [0, 30], "{name}");
        assert!(aus.iter().enumerate().all(|(i, a)| a.index == i as u64), "{name}");
        assert_eq!(
            aus.iter().map(|a| a.nal_units().count()).sum::<usize>(),
            nals,
            "{name}"
        );
        assert_eq!(aus.iter().map(|a| a.data.len()).sum::<usize>(), total, "{name}");
        assert_eq!(
            [aus[0].data.len(), aus[30].data.len(), aus[59].data.len()],
            sizes,
            "{name}"
        );
        let nal_type = |n: &[u8]| {
            if codec == VideoCodec::H264 {
                n[0] & 0x1f
            } else {
                (n[0] >> 1) & 0x3f
            }
        };
        for (au, want) in [0, 1, 30].into_iter().zip(types) {
            let got: Vec<u8> = aus[au].nal_units().map(nal_type).collect();
            assert_eq!(got, want, "{name}: NAL types of access unit {au}");
        }
        assert_eq!(aus[0].offset, 4, "{name}: after the first 4-byte start code");
        let frame = aus[59].clone().into_frame(Timebase::new(1, 30).unwrap());
        assert_eq!((frame.pts, frame.keyframe), (59, false));
    }
}

#[test]
fn annexb_with_and_without_aud_agree_on_pictures() {
    let (plain, aud) = (fixture("h264.h264"), fixture("h264-aud.h264"));
    let plain: Vec<_> = AnnexBReader::new(&plain[..], VideoCodec::H264)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let aud: Vec<_> = AnnexBReader::new(&aud[..], VideoCodec::H264)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (a, b) in plain.iter().zip(&aud) {
        let without_aud: Vec<&[u8]> = b.nal_units().filter(|n| n[0] & 0x1f != 9).collect();
        assert_eq!(
            a.nal_units().collect::<Vec<_>>(),
            without_aud,
            "access unit {}",
            a.index
        );
    }
}

#[test]
fn ogg_opus_fixture_matches_ffprobe() {
    let file = fixture("opus.ogg");
    let mut r = OggOpusReader::new(&file[..]).unwrap();
    let head = r.head().clone();
    assert_eq!(
        (
            head.channels,
            head.pre_skip,
            head.input_sample_rate,
            head.mapping_family
        ),
        (1, 312, 48_000, 0)
    );
    assert_eq!(
        (r.tags().vendor.as_str(), &r.tags().comments[..]),
        ("ffmpeg", &["encoder=Lavc libopus".to_string()][..])
    );
    let packets: Vec<Frame> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(packets.len(), 101);
    assert_eq!(packets.iter().map(|p| p.data.len()).sum::<usize>(), 9_965);
    assert_eq!((packets[0].data.len(), packets[100].data.len()), (115, 157));
    for (i, p) in packets.iter().enumerate() {
        assert_eq!(p.pts, i as i64 * 960 - 312, "packet {i}: pts as ffprobe shows it");
        assert_eq!(p.timebase, Timebase::OPUS);
        assert!(p.keyframe);
    }
    assert!(packets[..100].iter().all(|p| p.duration == Some(960)));
    // The end-of-stream page's granule position 96312 trims the last packet to 312 samples.
    assert_eq!(packets[100].duration, Some(312));
}
