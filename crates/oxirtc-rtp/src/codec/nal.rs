//! Annex B byte streams (H.264 Annex B, H.265 Annex B): NAL units after start codes, shared by the
//! H.264 and H.265 packetizers.

use crate::RtpError;

/// The start code the depacketizers write before each NAL unit.
pub(crate) const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The NAL units of an Annex B access unit, start codes (3 or 4 bytes) and trailing zero bytes
/// removed. Bytes before the first start code are an error: the input is not Annex B.
pub(crate) struct AnnexB<'a> {
    rest: &'a [u8],
}

impl<'a> AnnexB<'a> {
    /// Checks that `au` begins with a start code and returns an iterator over its NAL units.
    pub(crate) fn new(what: &'static str, au: &'a [u8]) -> Result<Self, RtpError> {
        match find_start_code(au) {
            Some((0, len)) => Ok(Self { rest: &au[len..] }),
            Some((pos, len)) if au[..pos].iter().all(|&b| b == 0) => Ok(Self {
                rest: &au[pos + len..],
            }),
            _ => Err(RtpError::MalformedPayload {
                what,
                detail: "access unit does not begin with an Annex B start code (00 00 01 or 00 00 00 01)",
            }),
        }
    }
}

impl<'a> Iterator for AnnexB<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (nal, next) = match find_start_code(self.rest) {
                Some((pos, len)) => (&self.rest[..pos], &self.rest[pos + len..]),
                None => (self.rest, &self.rest[self.rest.len()..]),
            };
            self.rest = next;
            // trailing_zero_8bits (H.264 §B.1) belong to no NAL unit.
            let end = nal.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            if end > 0 {
                return Some(&nal[..end]);
            }
        }
    }
}

/// Position and length (3) of the first `00 00 01` in `b`; a zero before it belongs to the NAL
/// unit before and is trimmed by the caller.
fn find_start_code(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i + 2] > 1 {
            i += 3;
        } else if b[i + 2] == 1 && b[i] == 0 && b[i + 1] == 0 {
            return Some((i, 3));
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let au = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0, 0,
        ];
        let nals: Vec<&[u8]> = AnnexB::new("t", &au).unwrap().collect();
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]);
    }

    #[test]
    fn rejects_missing_start_code() {
        assert!(AnnexB::new("t", &[0x67, 1, 2]).is_err());
        assert!(AnnexB::new("t", &[]).is_err());
    }
}
