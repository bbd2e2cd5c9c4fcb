//! Reads arbitrary bytes as an Ogg Opus file (RFC 7845, pages per RFC 3533); whatever reads must
//! write back through `OggOpusWriter` and read again to the same headers and packets (data,
//! timestamps, durations), and nothing may panic. (Under cargo-fuzz the `ogg` crate skips page
//! CRC checks, so the fuzzer reaches the packet logic.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_media_file::{OggOpusReader, OggOpusWriter};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = OggOpusReader::new(data) else {
        return;
    };
    let (head, tags) = (reader.head().clone(), reader.tags().clone());
    let packets: Vec<_> = reader.by_ref().map_while(Result::ok).collect();
    let mut writer = OggOpusWriter::new(Vec::new(), &head, &tags, 1).expect("writing to a Vec");
    for (i, p) in packets.iter().enumerate() {
        let trimmed = p.duration != oxirtc_media_file::opus_packet_duration(&p.data).map(u64::from);
        assert!(
            !trimmed || i + 1 == packets.len(),
            "only the last packet is trimmed"
        );
        writer.write_frame(p).expect("packets read are writable");
    }
    let bytes = writer.finish().expect("writing to a Vec");
    let mut again = OggOpusReader::new(&bytes[..]).expect("written headers re-read");
    assert_eq!((again.head(), again.tags()), (&head, &tags));
    let packets2: Vec<_> = again
        .by_ref()
        .collect::<Result<_, _>>()
        .expect("written packets re-read");
    assert_eq!(packets2, packets);
});
