//! The common RTCP header (RFC 3550 §6.4.1) and the length bookkeeping every writer shares.

use crate::RtpError;

/// Length of the common header: V, P, count, PT, length.
pub const HEADER_LEN: usize = 4;

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Fails with `Truncated` unless `body` holds at least `needed` bytes.
pub(crate) fn need(what: &'static str, body: &[u8], needed: usize) -> Result<(), RtpError> {
    if body.len() < needed {
        return Err(RtpError::Truncated {
            what,
            needed,
            available: body.len(),
        });
    }
    Ok(())
}

/// Appends a header with a placeholder length; returns where the packet starts.
pub(crate) fn begin(out: &mut Vec<u8>, count: u8, packet_type: u8) -> usize {
    let start = out.len();
    // RFC 3550 §6.4.1: V=2, P=0, 5-bit count (callers keep it below 32).
    out.extend_from_slice(&[0x80 | (count & 0x1f), packet_type, 0, 0]);
    start
}

/// Zero-pads the packet begun at `start` to a 32-bit boundary and fills in its length in words
/// minus one (RFC 3550 §6.4.1). On error `out` is cut back to `start`.
pub(crate) fn finish(out: &mut Vec<u8>, start: usize) -> Result<(), RtpError> {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let words = (out.len() - start) / 4 - 1;
    let Ok(words) = u16::try_from(words) else {
        out.truncate(start);
        return Err(RtpError::TooMany {
            what: "RTCP packet words",
            count: words,
            max: u16::MAX.into(),
        });
    };
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    Ok(())
}

/// Fails (without writing) when `count` items do not fit a 5-bit count field.
pub(crate) fn check_count(what: &'static str, count: usize) -> Result<u8, RtpError> {
    u8::try_from(count)
        .ok()
        .filter(|c| *c < 32)
        .ok_or(RtpError::TooMany { what, count, max: 31 })
}
