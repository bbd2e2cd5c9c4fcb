//! Reads arbitrary bytes as an H.264 and as an H.265 Annex B byte stream; every access unit must
//! hold non-empty NAL units, each behind a 4-byte start code, that the in-memory splitter finds
//! again, and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_media_file::{nal_units, AnnexBReader, VideoCodec};

fuzz_target!(|data: &[u8]| {
    for codec in [VideoCodec::H264, VideoCodec::H265] {
        let reader = AnnexBReader::new(data, codec).expect("H.264 and H.265 have Annex B");
        for (i, au) in reader.map_while(Result::ok).enumerate() {
            assert_eq!(au.index, i as u64);
            let nals: Vec<&[u8]> = au.nal_units().collect();
            assert!(!nals.is_empty() && nals.iter().all(|n| !n.is_empty() && n.last() != Some(&0)));
            assert_eq!(au.data.len(), nals.iter().map(|n| n.len() + 4).sum::<usize>());
            assert_eq!(nal_units(&au.data).collect::<Vec<_>>(), nals);
            assert_eq!(au.keyframe, codec.is_keyframe(&au.data));
        }
    }
});
