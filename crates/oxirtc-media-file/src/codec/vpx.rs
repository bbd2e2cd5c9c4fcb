//! Key frame flags of VP8 and VP9 frames.

use super::bits::BitReader;

/// RFC 6386 §9.1: the 3-byte frame tag's bit 0 is 0 for a key frame, and a key frame's tag is
/// followed by the start code 9d 01 2a.
pub(crate) fn vp8_is_keyframe(frame: &[u8]) -> bool {
    frame.len() >= 10 && frame[0] & 1 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a]
}

/// VP9 bitstream spec §6.2 (uncompressed_header): frame_marker (2 bits, = 2), profile_low_bit,
/// profile_high_bit, reserved_zero if profile 3, show_existing_frame, then frame_type (0 = key).
/// In a superframe (Annex B of the spec) the first frame's header is at the start.
pub(crate) fn vp9_is_keyframe(frame: &[u8]) -> bool {
    let mut r = BitReader::new(frame);
    let parse = |r: &mut BitReader| -> Option<bool> {
        if r.bits(2)? != 2 {
            return Some(false);
        }
        let low = r.bits(1)?;
        let high = r.bits(1)?;
        if (high << 1) | low == 3 && r.bit()? {
            return Some(false); // reserved_zero must be 0
        }
        if r.bit()? {
            return Some(false); // show_existing_frame: no new frame is coded
        }
        Some(!r.bit()?) // frame_type: KEY_FRAME = 0
    };
    parse(&mut r).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_tags() {
        let key = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
        assert!(vp8_is_keyframe(&key));
        let mut inter = key;
        inter[0] |= 1;
        assert!(!vp8_is_keyframe(&inter));
        assert!(!vp8_is_keyframe(&key[..9]));
    }

    #[test]
    fn vp9_headers() {
        assert!(vp9_is_keyframe(&[0b1000_0010, 0x49])); // marker 2, profile 0, shown, key
        assert!(!vp9_is_keyframe(&[0b1000_0110])); // frame_type 1: inter
        assert!(!vp9_is_keyframe(&[0b1000_1000])); // show_existing_frame
        assert!(!vp9_is_keyframe(&[0b0100_0000])); // bad frame marker
        assert!(!vp9_is_keyframe(&[]));
    }
}
