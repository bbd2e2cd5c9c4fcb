//! The Matroska writer's bytes, checked without FFmpeg: CodecPrivate records equal the ones FFmpeg
//! 5.1 writes for the same fixtures (`ffmpeg -i FIXTURE -c copy out.mkv`), DocType, cluster
//! layout, and the errors for misuse.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use common::fixture;
use oxirtc_media_file::{AnnexBReader, Frame, IvfReader, MkvWriter, OpusHead, Timebase, VideoCodec};

/// The data of the first element with this 2-byte ID whose size fits one byte.
fn element(file: &[u8], id: [u8; 2]) -> &[u8] {
    let at = file.windows(2).position(|w| w == id).expect("element present");
    let len = usize::from(file[at + 2] & 0x7f);
    &file[at + 3..at + 3 + len]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn av1c_matches_ffmpeg() {
    let mut w = MkvWriter::new(Vec::new());
    let v = w.add_video_track(VideoCodec::Av1, 320, 240).unwrap();
    for f in IvfReader::new(&fixture("av1.ivf")[..]).unwrap() {
        w.write_frame(v, &f.unwrap()).unwrap();
    }
    let out = w.finish().unwrap();
    assert_eq!(
        hex(element(&out, [0x63, 0xa2])),
        "81000c000a0b000000043cffbcdaf90040"
    );
    assert_eq!(element(&out, [0x42, 0x82]), b"webm");
}

#[test]
fn avcc_matches_ffmpeg_and_doctype_is_matroska() {
    let file = fixture("h264.h264");
    let mut w = MkvWriter::new(Vec::new());
    let v = w.add_video_track(VideoCodec::H264, 320, 240).unwrap();
    for au in AnnexBReader::new(&file[..], VideoCodec::H264).unwrap() {
        w.write_frame(v, &au.unwrap().into_frame(Timebase::new(1, 30).unwrap()))
            .unwrap();
    }
    let out = w.finish().unwrap();
    assert_eq!(
        hex(element(&out, [0x63, 0xa2])),
        "0142c01effe100186742c01ed90141fb0110000003001000000303c0f162e48001000468cb8cb2"
    );
    assert_eq!(element(&out, [0x42, 0x82]), b"matroska");
}

#[test]
fn clusters_start_at_key_frames_and_every_five_seconds() {
    let cluster_id = [0x1f, 0x43, 0xb6, 0x75];
    let count = |out: &[u8]| out.windows(4).filter(|w| *w == cluster_id).count();
    // VP8: 60 frames, key frames at 0 and 30 -> 2 clusters.
    let mut w = MkvWriter::new(Vec::new());
    let v = w.add_video_track(VideoCodec::Vp8, 320, 240).unwrap();
    for f in IvfReader::new(&fixture("vp8.ivf")[..]).unwrap() {
        w.write_frame(v, &f.unwrap()).unwrap();
    }
    assert_eq!(count(&w.finish().unwrap()), 2);
    // Audio only, 12 s of 20 ms packets: a cluster every 5 s -> 3.
    let mut w = MkvWriter::new(Vec::new());
    let a = w.add_opus_track(&OpusHead::new(1, 0)).unwrap();
    for i in 0..600 {
        let p = Frame {
            data: vec![0xfc, 1],
            pts: i * 960,
            timebase: Timebase::OPUS,
            keyframe: true,
            duration: None,
        };
        w.write_frame(a, &p).unwrap();
    }
    assert_eq!(count(&w.finish().unwrap()), 3);
}

#[test]
fn misuse_is_an_error() {
    let frame = |pts| Frame {
        data: vec![1, 2],
        pts,
        timebase: Timebase::MILLIS,
        keyframe: true,
        duration: None,
    };
    let mut w = MkvWriter::new(Vec::new());
    let v = w.add_video_track(VideoCodec::Vp8, 320, 240).unwrap();
    assert!(
        w.add_video_track(VideoCodec::H265, 320, 240).is_err(),
        "H.265 is not recorded"
    );
    w.write_frame(v, &frame(40)).unwrap();
    assert!(w
        .write_frame(v, &frame(39))
        .unwrap_err()
        .to_string()
        .contains("go back"));
    assert!(
        w.add_opus_track(&OpusHead::new(2, 0)).is_err(),
        "tracks after the first frame"
    );
    assert!(
        w.write_frame(
            v,
            &Frame {
                data: vec![],
                ..frame(50)
            }
        )
        .is_err(),
        "empty frame"
    );
    let mut other = MkvWriter::new(Vec::new());
    let negative = other.add_video_track(VideoCodec::Vp8, 1, 1).unwrap();
    assert!(other.write_frame(negative, &frame(-1)).is_err());
}

#[test]
fn h264_frames_before_parameter_sets_are_dropped_and_audio_waits() {
    let mut w = MkvWriter::new(Vec::new());
    let v = w.add_video_track(VideoCodec::H264, 320, 240).unwrap();
    let a = w.add_opus_track(&OpusHead::new(1, 0)).unwrap();
    let audio = |pts| Frame {
        data: vec![0xfc, 7],
        pts,
        timebase: Timebase::OPUS,
        keyframe: true,
        duration: None,
    };
    let p_frame = Frame {
        data: vec![0, 0, 1, 0x41, 0x9a],
        pts: 0,
        timebase: Timebase::MILLIS,
        keyframe: false,
        duration: None,
    };
    w.write_frame(a, &audio(0)).unwrap();
    w.write_frame(v, &p_frame).unwrap();
    w.write_frame(a, &audio(960)).unwrap();
    assert_eq!(w.frames_dropped(), 1);
    // Never a key frame: finish() writes the audio with the H.264 track left out.
    let out = w.finish().unwrap();
    assert_eq!(out.windows(6).filter(|x| *x == b"A_OPUS").count(), 1);
    assert_eq!(out.windows(15).filter(|x| *x == b"V_MPEG4/ISO/AVC").count(), 0);
    assert_eq!(
        out.windows(2).filter(|x| *x == [0xfc, 7]).count(),
        2,
        "both audio packets written"
    );
}
