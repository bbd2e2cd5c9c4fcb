//! EBML encoding (RFC 8794): element IDs, variable-size integers and the element types the
//! Matroska writer uses, and the Matroska element IDs (RFC 9559 §5.1).

/// RFC 8794 §6.2: an 8-byte VINT with all value bits set means "unknown size" (a Segment written
/// to a stream, whose length is not known until the end).
pub(crate) const UNKNOWN_SIZE_8: [u8; 8] = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

// EBML header (RFC 8794 §11.2).
pub(crate) const EBML: u32 = 0x1A45_DFA3;
pub(crate) const EBML_VERSION: u32 = 0x4286;
pub(crate) const EBML_READ_VERSION: u32 = 0x42F7;
pub(crate) const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
pub(crate) const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
pub(crate) const DOC_TYPE: u32 = 0x4282;
pub(crate) const DOC_TYPE_VERSION: u32 = 0x4287;
pub(crate) const DOC_TYPE_READ_VERSION: u32 = 0x4285;
// Matroska (RFC 9559 §5.1).
pub(crate) const SEGMENT: u32 = 0x1853_8067;
pub(crate) const INFO: u32 = 0x1549_A966;
pub(crate) const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
pub(crate) const DURATION: u32 = 0x4489;
pub(crate) const MUXING_APP: u32 = 0x4D80;
pub(crate) const WRITING_APP: u32 = 0x5741;
pub(crate) const TRACKS: u32 = 0x1654_AE6B;
pub(crate) const TRACK_ENTRY: u32 = 0xAE;
pub(crate) const TRACK_NUMBER: u32 = 0xD7;
pub(crate) const TRACK_UID: u32 = 0x73C5;
pub(crate) const TRACK_TYPE: u32 = 0x83;
pub(crate) const FLAG_LACING: u32 = 0x9C;
pub(crate) const CODEC_ID: u32 = 0x86;
pub(crate) const CODEC_PRIVATE: u32 = 0x63A2;
pub(crate) const CODEC_DELAY: u32 = 0x56AA;
pub(crate) const SEEK_PRE_ROLL: u32 = 0x56BB;
pub(crate) const VIDEO: u32 = 0xE0;
pub(crate) const PIXEL_WIDTH: u32 = 0xB0;
pub(crate) const PIXEL_HEIGHT: u32 = 0xBA;
pub(crate) const AUDIO: u32 = 0xE1;
pub(crate) const SAMPLING_FREQUENCY: u32 = 0xB5;
pub(crate) const CHANNELS: u32 = 0x9F;
pub(crate) const CLUSTER: u32 = 0x1F43_B675;
pub(crate) const TIMESTAMP: u32 = 0xE7;
pub(crate) const SIMPLE_BLOCK: u32 = 0xA3;

/// Appends an element ID: its bytes as registered (the length marker is part of the ID).
pub(crate) fn put_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends an element data size as the shortest VINT (RFC 8794 §4); all-ones values are
/// reserved for "unknown", so a size of 127 takes two bytes.
pub(crate) fn put_size(out: &mut Vec<u8>, size: u64) {
    let mut len = 1;
    while len < 8 && size >= (1u64 << (7 * len)) - 1 {
        len += 1;
    }
    put_size_len(out, size, len);
}

/// Appends `size` as a VINT of exactly `len` bytes (1 to 8; `size` must fit).
pub(crate) fn put_size_len(out: &mut Vec<u8>, size: u64, len: usize) {
    let marked = size | (1u64 << (7 * len));
    out.extend_from_slice(&marked.to_be_bytes()[8 - len..]);
}

/// An unsigned integer element, in the fewest bytes (at least one).
pub(crate) fn put_uint(out: &mut Vec<u8>, id: u32, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    put_binary(out, id, &bytes[skip..]);
}

/// An 8-byte float element.
pub(crate) fn put_float(out: &mut Vec<u8>, id: u32, value: f64) {
    put_binary(out, id, &value.to_be_bytes());
}

/// A string or binary element.
pub(crate) fn put_binary(out: &mut Vec<u8>, id: u32, data: &[u8]) {
    put_id(out, id);
    put_size(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// A master element whose children `body` writes.
pub(crate) fn put_master(out: &mut Vec<u8>, id: u32, body: impl FnOnce(&mut Vec<u8>)) {
    let mut children = Vec::new();
    body(&mut children);
    put_binary(out, id, &children);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(n: u64) -> Vec<u8> {
        let mut v = Vec::new();
        put_size(&mut v, n);
        v
    }

    #[test]
    fn vint_sizes() {
        assert_eq!(size(0), [0x80]);
        assert_eq!(size(126), [0xfe]);
        assert_eq!(size(127), [0x40, 0x7f]); // 0xff would mean "unknown"
        assert_eq!(size(16_382), [0x7f, 0xfe]);
        assert_eq!(size(16_383), [0x20, 0x3f, 0xff]);
        let mut v = Vec::new();
        put_size_len(&mut v, 5, 8);
        assert_eq!(v, [1, 0, 0, 0, 0, 0, 0, 5]);
    }

    #[test]
    fn ids_and_integers() {
        let mut v = Vec::new();
        put_id(&mut v, EBML);
        put_id(&mut v, TRACK_ENTRY);
        put_uint(&mut v, TIMESTAMP_SCALE, 1_000_000);
        put_uint(&mut v, TRACK_NUMBER, 0);
        assert_eq!(
            v,
            [0x1a, 0x45, 0xdf, 0xa3, 0xae, 0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40, 0xd7, 0x81, 0x00]
        );
    }
}
