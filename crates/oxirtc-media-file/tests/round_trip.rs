//! Read a fixture, write it again, read it back: the frames are byte-exact, and for IVF and Ogg
//! Opus the whole file is too (the writers lay the file out as FFmpeg did).
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use std::io::Cursor;

use common::fixture;
use oxirtc_media_file::{Frame, IvfHeader, IvfReader, IvfWriter, OggOpusReader, OggOpusWriter};

fn ivf_frames(bytes: &[u8]) -> (IvfHeader, Vec<Frame>) {
    let mut r = IvfReader::new(bytes).unwrap();
    let frames = r.by_ref().collect::<Result<_, _>>().unwrap();
    (*r.header(), frames)
}

#[test]
fn ivf_round_trip_is_byte_exact() {
    for name in ["vp8.ivf", "vp9.ivf", "av1.ivf"] {
        let original = fixture(name);
        let (header, frames) = ivf_frames(&original);
        // Seekable sink: the frame count (0 up front) is patched to 60 at the end.
        let mut w = IvfWriter::new_seekable(
            Cursor::new(Vec::new()),
            IvfHeader {
                frame_count: 0,
                ..header
            },
        )
        .unwrap();
        for f in &frames {
            w.write_frame(f).unwrap();
        }
        assert_eq!(w.frames_written(), 60);
        let written = w.finish().unwrap().into_inner();
        assert_eq!(written, original, "{name}: rewritten file differs");
        let (header2, frames2) = ivf_frames(&written);
        assert_eq!((header2, frames2), (header, frames), "{name}");
    }
}

#[test]
fn ogg_opus_round_trip_is_byte_exact() {
    let original = fixture("opus.ogg");
    let mut r = OggOpusReader::new(&original[..]).unwrap();
    let (head, tags, serial) = (r.head().clone(), r.tags().clone(), r.serial());
    let packets: Vec<Frame> = r.by_ref().collect::<Result<_, _>>().unwrap();

    let mut w = OggOpusWriter::new(Vec::new(), &head, &tags, serial).unwrap();
    for p in &packets {
        w.write_frame(p).unwrap();
    }
    assert_eq!(w.granule_position(), 96_312);
    let written = w.finish().unwrap();

    let mut r2 = OggOpusReader::new(&written[..]).unwrap();
    assert_eq!((r2.head(), r2.tags(), r2.serial()), (&head, &tags, serial));
    let packets2: Vec<Frame> = r2.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(packets2, packets);
    // Same pages as FFmpeg's: OpusHead, OpusTags, 50 + 50 packets (1 s each), 1 packet with EOS.
    assert_eq!(written, original);
}
