//! Hostile and broken files: errors that name the offset, never a panic, never a huge allocation.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

mod common;

use common::fixture;
use oxirtc_media_file::{AnnexBReader, IvfReader, MediaError, OggOpusReader, OpusHead, OpusTags, VideoCodec};

/// Reads every frame; `Ok(n)` frames or the first error.
fn ivf_count(bytes: &[u8]) -> Result<usize, MediaError> {
    IvfReader::new(bytes)?.try_fold(0, |n, f| f.map(|_| n + 1))
}

fn ogg_count(bytes: &[u8]) -> Result<usize, MediaError> {
    OggOpusReader::new(bytes)?.try_fold(0, |n, f| f.map(|_| n + 1))
}

fn annexb_count(bytes: &[u8], codec: VideoCodec) -> Result<usize, MediaError> {
    AnnexBReader::new(bytes, codec)?.try_fold(0, |n, f| f.map(|_| n + 1))
}

/// Frame boundaries of an IVF file (offsets of frame headers, and the end).
fn ivf_boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut at = 32;
    let mut out = vec![at];
    while at < bytes.len() {
        at += 12 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push(at);
    }
    out
}

#[test]
fn truncated_ivf_is_an_error_naming_the_offset() {
    let file = fixture("vp8.ivf");
    let boundaries = ivf_boundaries(&file);
    for cut in (0..file.len()).step_by(97).chain(0..40) {
        match ivf_count(&file[..cut]) {
            Ok(n) => assert_eq!(boundaries.iter().position(|&b| b == cut), Some(n), "cut at {cut}"),
            Err(MediaError::Truncated { offset, found, .. }) => {
                assert!(
                    offset as usize <= cut && offset + found == cut as u64,
                    "cut at {cut}: offset {offset}"
                );
            }
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn ivf_frame_size_of_all_ones() {
    let mut file = fixture("vp9.ivf");
    let second = ivf_boundaries(&file)[1];
    file[second..second + 4].copy_from_slice(&[0xff; 4]);
    let err = ivf_count(&file).unwrap_err();
    assert!(
        matches!(err, MediaError::TooLarge { offset, size: 0xffff_ffff, .. } if offset == second as u64),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("offset {second}")));
}

#[test]
fn ogg_page_with_a_bad_crc() {
    let mut file = fixture("opus.ogg");
    // Pages: OpusHead at 0 (47 bytes), OpusTags at 47 (74 bytes), the first audio page at 121.
    assert_eq!(&file[121..125], b"OggS");
    file[121 + 27 + 50 + 10] ^= 0x01;
    let err = ogg_count(&file).unwrap_err();
    assert!(matches!(err, MediaError::BadCrc { offset: 121, .. }), "{err}");
    let mut file = fixture("opus.ogg");
    file[30] ^= 0x40; // inside OpusHead
    assert!(matches!(
        OggOpusReader::new(&file[..]).err(),
        Some(MediaError::BadCrc { offset: 0, .. })
    ));
}

#[test]
fn truncated_ogg_never_panics() {
    let file = fixture("opus.ogg");
    for cut in (0..file.len()).step_by(37).chain(0..130) {
        match ogg_count(&file[..cut]) {
            Ok(n) => assert!(n <= 101, "cut at {cut}"),
            Err(MediaError::Truncated { offset, .. }) => assert!(offset as usize <= cut, "cut at {cut}"),
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn ogg_packet_spread_over_pages_is_bounded() {
    use ogg::writing::{PacketWriteEndInfo, PacketWriter};
    let mut out = Vec::new();
    let mut w = PacketWriter::new(&mut out);
    w.write_packet(OpusHead::new(1, 0).to_bytes(), 5, PacketWriteEndInfo::EndPage, 0)
        .unwrap();
    w.write_packet(OpusTags::default().to_bytes(), 5, PacketWriteEndInfo::EndPage, 0)
        .unwrap();
    let mut huge = vec![0u8; 17 * 1024 * 1024];
    huge[0] = 0xfc;
    w.write_packet(huge, 5, PacketWriteEndInfo::EndStream, 960)
        .unwrap();
    let err = ogg_count(&out).unwrap_err();
    assert!(
        matches!(err, MediaError::TooLarge { limit, .. } if limit == 16 * 1024 * 1024),
        "{err}"
    );
}

#[test]
fn annexb_of_only_zeros_or_only_start_codes() {
    for codec in [VideoCodec::H264, VideoCodec::H265] {
        assert!(annexb_count(&vec![0u8; 1 << 20], codec)
            .unwrap_err()
            .to_string()
            .contains("no start code"));
        let start_codes: Vec<u8> = [0, 0, 0, 1].repeat(10_000);
        assert!(annexb_count(&start_codes, codec)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(annexb_count(&[], codec).is_err());
    }
}

#[test]
fn annexb_nal_unit_over_the_limit() {
    let mut stream = vec![0, 0, 1, 0x65];
    stream.resize(17 * 1024 * 1024, 0x55);
    let err = annexb_count(&stream, VideoCodec::H264).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { offset: 3, .. }), "{err}");
}

#[test]
fn truncated_annexb_never_panics() {
    for (name, codec) in [("h264.h264", VideoCodec::H264), ("h265.h265", VideoCodec::H265)] {
        let file = fixture(name);
        for cut in (0..file.len()).step_by(101).chain(0..64) {
            // A cut inside a NAL unit cannot be told from a shorter NAL unit: fewer or equal access units.
            if let Ok(n) = annexb_count(&file[..cut], codec) {
                assert!(n <= 60, "{name} cut at {cut}");
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [0, 1, 12, 27, 32, 44, 100, 1000, 5000] {
        for _ in 0..50 {
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let _ = ivf_count(&bytes);
            let _ = ogg_count(&bytes);
            let _ = annexb_count(&bytes, VideoCodec::H264);
            let _ = annexb_count(&bytes, VideoCodec::H265);
            // With valid signatures, so the readers get past their first check.
            if len >= 32 {
                bytes[..4].copy_from_slice(b"DKIF");
                bytes[4..8].copy_from_slice(&[0, 0, 32, 0]);
                let _ = ivf_count(&bytes);
                bytes[..4].copy_from_slice(b"OggS");
                let _ = ogg_count(&bytes);
            }
        }
    }
}
