//! H.264 and H.265 Annex B byte streams (ITU-T H.264 Annex B, H.265 Annex B): NAL units behind
//! `00 00 01` start codes, grouped into access units.

mod reader;
mod scanner;

pub use reader::{AccessUnit, AnnexBReader, MAX_NALS_PER_ACCESS_UNIT};

/// The NAL units of an in-memory Annex B buffer (one frame), without start codes and without
/// the zero bytes that may trail a NAL unit (trailing_zero_8bits, Annex B.1). Bytes before the
/// first start code are skipped; empty NAL units are skipped.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = match find_start_code(data, 0) {
        Some(i) => &data[i + 3..],
        None => &data[data.len()..],
    };
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let (nal, next) = match find_start_code(rest, 0) {
            Some(i) => (&rest[..i], &rest[i + 3..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let nal = trim_trailing_zeros(nal);
        if !nal.is_empty() {
            return Some(nal);
        }
    })
}

/// Whether `data` begins with a start code (`00 00 01` or `00 00 00 01`).
pub(crate) fn starts_with_start_code(data: &[u8]) -> bool {
    data.starts_with(&[0, 0, 1]) || data.starts_with(&[0, 0, 0, 1])
}

/// The index of the first `00 00 01` at or after `from`.
pub(crate) fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 3 <= data.len() {
        // Skip fast: the third byte decides how far the next candidate can be.
        match data[i + 2] {
            1 if data[i] == 0 && data[i + 1] == 0 => return Some(i),
            0 => i += 1,
            _ => i += 3,
        }
    }
    None
}

/// `nal` without trailing zero bytes (they belong to the byte stream: zero_byte of a 4-byte start
/// code or trailing_zero_8bits; a NAL unit never ends in 0x00, H.264 §7.4.1).
pub(crate) fn trim_trailing_zeros(nal: &[u8]) -> &[u8] {
    let end = nal.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &nal[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 1, 0x65, 0x88, 0x00,
        ];
        let nals: Vec<&[u8]> = nal_units(&data).collect();
        assert_eq!(nals, [&[0x67, 0x42][..], &[0x68, 0xce], &[0x65, 0x88]]);
    }

    #[test]
    fn start_code_search() {
        assert_eq!(find_start_code(&[1, 0, 0, 1], 0), Some(1));
        assert_eq!(find_start_code(&[0, 0, 0, 0, 1], 0), Some(2));
        assert_eq!(find_start_code(&[0, 0, 2, 0, 0], 0), None);
        assert_eq!(find_start_code(&[0, 0, 1], 1), None);
        assert_eq!(nal_units(&[0, 0, 1, 0, 0, 1]).count(), 0);
        assert_eq!(nal_units(&[7, 7, 7]).count(), 0);
    }
}
