//! Recordings written by `MkvWriter` decode in FFmpeg without a complaint and with every frame:
//! VP8 + Opus (WebM), H.264 from Annex B + Opus (Matroska), VP9, AV1. Skipped without FFmpeg,
//! failing instead when OXIRTC_REQUIRE_FFMPEG=1 (CI).
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::fs::File;

use common::{ffmpeg_available, fixture, run, TempFile};
use oxirtc_media_file::{AnnexBReader, Frame, IvfReader, MkvWriter, OggOpusReader, Timebase, VideoCodec};

fn opus_packets() -> (oxirtc_media_file::OpusHead, Vec<Frame>) {
    let file = fixture("opus.ogg");
    let mut r = OggOpusReader::new(&file[..]).unwrap();
    let head = r.head().clone();
    (head, r.by_ref().collect::<Result<_, _>>().unwrap())
}

fn ivf(name: &str) -> Vec<Frame> {
    IvfReader::new(&fixture(name)[..])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Writes video and audio interleaved by time, as a recorder receives them.
fn record<W: std::io::Write>(mut w: MkvWriter<W>, codec: VideoCodec, video: &[Frame], with_audio: bool) -> W {
    let v = w.add_video_track(codec, 320, 240).unwrap();
    let (head, audio) = opus_packets();
    let a = if with_audio {
        Some(w.add_opus_track(&head).unwrap())
    } else {
        None
    };
    let seconds = |f: &Frame| f.pts as f64 * f64::from(f.timebase.num()) / f64::from(f.timebase.den());
    let (mut vi, mut ai) = (video.iter().peekable(), audio.iter().peekable());
    loop {
        let take_video = match (vi.peek(), ai.peek()) {
            (Some(f), Some(p)) => a.is_none() || seconds(f) <= seconds(p),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_video {
            w.write_frame(v, vi.next().unwrap()).unwrap();
        } else if let (Some(a), Some(p)) = (a, ai.next()) {
            w.write_frame(a, p).unwrap();
        } else {
            ai.next();
        }
    }
    assert_eq!(w.frames_dropped(), 0);
    w.finish().unwrap()
}

/// `ffmpeg -v error -i FILE -f null -` prints nothing, and ffprobe counts `want` frames per stream.
fn assert_decodes(path: &str, want: &[(&str, usize)]) {
    let (ok, _, stderr) = run(
        "ffmpeg",
        &["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
    );
    assert!(ok && stderr.is_empty(), "ffmpeg decoding {path}: {stderr}");
    let (ok, stdout, stderr) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "csv=p=0",
            path,
        ],
    );
    assert!(ok && stderr.is_empty(), "ffprobe {path}: {stderr}");
    let got: Vec<(String, usize)> = stdout
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(c, n)| (c.to_string(), n.trim().parse().unwrap_or(usize::MAX)))
        .collect();
    let want: Vec<(String, usize)> = want.iter().map(|(c, n)| (c.to_string(), *n)).collect();
    assert_eq!(got, want, "{path}: streams and frame counts");
}

/// The MD5 of each packet (with -c copy) or decoded frame of one stream, without timestamps.
fn frame_hashes(path: &str, stream: &str, copy: bool) -> Vec<String> {
    let mut args = vec!["-nostdin", "-v", "error", "-i", path, "-map", stream];
    if copy {
        args.extend(["-c", "copy"]);
    }
    args.extend(["-f", "framemd5", "-"]);
    let (ok, stdout, stderr) = run("ffmpeg", &args);
    assert!(ok, "framemd5 of {path}: {stderr}");
    stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next())
        .map(|h| h.trim().to_string())
        .collect()
}

fn probe_format(path: &str) -> String {
    let (_, stdout, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format=format_name,duration",
            "-of",
            "csv=p=0",
            path,
        ],
    );
    stdout.trim().to_string()
}

#[test]
fn vp8_and_opus_webm_decodes() {
    if !ffmpeg_available("vp8_and_opus_webm_decodes") {
        return;
    }
    // A stream sink (unknown Segment size) and a seekable file (sizes and Duration patched).
    let streamed = TempFile::new("vp8-opus-stream.webm");
    std::fs::write(
        &streamed.0,
        record(MkvWriter::new(Vec::new()), VideoCodec::Vp8, &ivf("vp8.ivf"), true),
    )
    .unwrap();
    let seekable = TempFile::new("vp8-opus-file.webm");
    let file = File::create(&seekable.0).unwrap();
    record(
        MkvWriter::new_seekable(file).unwrap(),
        VideoCodec::Vp8,
        &ivf("vp8.ivf"),
        true,
    );
    for out in [&streamed, &seekable] {
        assert_decodes(out.path(), &[("vp8", 60), ("opus", 101)]);
        // The video packets are the fixture's, byte for byte.
        let source = fixture("vp8.ivf");
        let src = TempFile::new("vp8-src.ivf");
        std::fs::write(&src.0, source).unwrap();
        assert_eq!(
            frame_hashes(out.path(), "0:v", true),
            frame_hashes(src.path(), "0:v", true)
        );
    }
    // The patched Duration: the last Opus packet ends at 2007 ms (its pre-skip shifted timestamp).
    assert_eq!(probe_format(seekable.path()), "\"matroska,webm\",2.007000");
}

#[test]
fn h264_from_annexb_and_opus_decodes() {
    if !ffmpeg_available("h264_from_annexb_and_opus_decodes") {
        return;
    }
    let file = fixture("h264.h264");
    let frames: Vec<Frame> = AnnexBReader::new(&file[..], VideoCodec::H264)
        .unwrap()
        .map(|au| au.unwrap().into_frame(Timebase::new(1, 30).unwrap()))
        .collect();
    let out = TempFile::new("h264-opus.mkv");
    std::fs::write(
        &out.0,
        record(MkvWriter::new(Vec::new()), VideoCodec::H264, &frames, true),
    )
    .unwrap();
    assert_decodes(out.path(), &[("h264", 60), ("opus", 101)]);
    // Decoded pictures are the same as decoding the Annex B fixture.
    let src = TempFile::new("h264-src.h264");
    std::fs::write(&src.0, &file).unwrap();
    let decoded = frame_hashes(out.path(), "0:v", false);
    assert_eq!(decoded.len(), 60);
    assert_eq!(decoded, frame_hashes(src.path(), "0:v", false));
}

#[test]
fn vp9_and_av1_webm_decode() {
    if !ffmpeg_available("vp9_and_av1_webm_decode") {
        return;
    }
    for (name, codec, codec_name) in [
        ("vp9.ivf", VideoCodec::Vp9, "vp9"),
        ("av1.ivf", VideoCodec::Av1, "av1"),
    ] {
        let out = TempFile::new(&format!("{codec_name}.webm"));
        std::fs::write(
            &out.0,
            record(MkvWriter::new(Vec::new()), codec, &ivf(name), false),
        )
        .unwrap();
        assert_decodes(out.path(), &[(codec_name, 60)]);
        let src = TempFile::new(name);
        std::fs::write(&src.0, fixture(name)).unwrap();
        assert_eq!(
            frame_hashes(out.path(), "0:v", false),
            frame_hashes(src.path(), "0:v", false),
            "{name}"
        );
    }
}
