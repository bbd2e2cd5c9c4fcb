//! Reads arbitrary bytes as an IVF file, frame by frame; whatever reads must write back through
//! `IvfWriter` and read again to the same header and frames, and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_media_file::{IvfReader, IvfWriter};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = IvfReader::new(data) else {
        return;
    };
    let header = *reader.header();
    let frames: Vec<_> = reader.by_ref().map_while(Result::ok).collect();
    let mut writer = IvfWriter::new(Vec::new(), header).expect("writing to a Vec");
    for f in &frames {
        writer.write(&f.data, f.pts).expect("frames read are writable");
    }
    let bytes = writer.finish().expect("writing to a Vec");
    let mut again = IvfReader::new(&bytes[..]).expect("written header re-reads");
    assert_eq!(*again.header(), header);
    let frames2: Vec<_> = again
        .by_ref()
        .collect::<Result<_, _>>()
        .expect("written frames re-read");
    assert_eq!(frames2, frames);
});
