//! Cryptex (RFC 9335): encrypting the CSRCs and the header extension of an RTP packet along with its
//! payload, marked by the "defined by profile" values 0xC0DE and 0xC2DE.

use crate::header::{RtpHeader, RTP_FIXED_LEN};

/// RFC 8285 one-byte header extensions.
const ONE_BYTE: u16 = 0xBEDE;
/// RFC 8285 two-byte header extensions, with appbits 0 (RFC 9335 §5: id 256, which would need the
/// appbits, is not negotiated).
const TWO_BYTE: u16 = 0x1000;
/// RFC 9335 §5: the encrypted version of one-byte header extensions.
const CRYPTEX_ONE_BYTE: u16 = 0xC0DE;
/// RFC 9335 §5: the encrypted version of two-byte header extensions.
const CRYPTEX_TWO_BYTE: u16 = 0xC2DE;

/// Where the encrypted part starts once the extension header has been moved in front of the CSRCs
/// (RFC 9335 §6.2, Figure 2): after the 12-byte fixed header and the 4-byte extension header. For an
/// AEAD, the 16 bytes before it are the associated data ("fixed header || extension header").
pub(crate) const CONTIGUOUS_START: usize = RTP_FIXED_LEN + 4;

/// How a sender protects a packet when cryptex was negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendPlan {
    /// Plain SRTP: nothing in the header to hide, or an extension that is not RFC 8285's (RFC 9335
    /// §5.1: "This mechanism MUST NOT be used with header extensions other than the [RFC8285]
    /// variety").
    Plain,
    /// Cryptex; `insert_empty_extension` when the packet has CSRCs but no extension block (RFC 9335
    /// §5.1: an empty 0xC0DE block "MUST be appended, and the X bit MUST be set to 1").
    Cryptex {
        /// Whether a 4-byte empty extension block has to be inserted after the CSRCs.
        insert_empty_extension: bool,
    },
}

/// Decides how to send `header` with cryptex negotiated (RFC 9335 §5.1).
pub(crate) fn send_plan(header: &RtpHeader) -> SendPlan {
    match header.extension {
        Some(ext) if ext.profile == ONE_BYTE || ext.profile == TWO_BYTE => SendPlan::Cryptex {
            insert_empty_extension: false,
        },
        Some(_) => SendPlan::Plain,
        None if header.csrc_count > 0 => SendPlan::Cryptex {
            insert_empty_extension: true,
        },
        None => SendPlan::Plain,
    }
}

/// Whether a received packet's extension block says cryptex (RFC 9335 §5.2).
pub(crate) fn is_encrypted(profile: u16) -> bool {
    profile == CRYPTEX_ONE_BYTE || profile == CRYPTEX_TWO_BYTE
}

/// Inserts an empty 0xC0DE extension block after the CSRCs of the packet in `buf[..len]` and sets the
/// X bit (RFC 9335 §5.1); returns the new length. The caller has checked that `buf` has 4 more bytes.
pub(crate) fn insert_empty_extension(buf: &mut [u8], len: usize, csrc_count: usize) -> usize {
    let at = RTP_FIXED_LEN + 4 * csrc_count;
    buf.copy_within(at..len, at + 4);
    buf[at..at + 4].copy_from_slice(&[0xC0, 0xDE, 0, 0]);
    buf[0] |= 0x10;
    len + 4
}

/// Rewrites the extension profile at `offset` to its cryptex value (RFC 9335 §6.2: "replace a 'defined
/// by profile' field from [RFC8285] with its counterpart").
pub(crate) fn mark_encrypted(buf: &mut [u8], offset: usize) {
    let profile = match u16::from_be_bytes([buf[offset], buf[offset + 1]]) {
        TWO_BYTE => CRYPTEX_TWO_BYTE,
        _ => CRYPTEX_ONE_BYTE,
    };
    buf[offset..offset + 2].copy_from_slice(&profile.to_be_bytes());
}

/// Rewrites a cryptex extension profile at `offset` back to its RFC 8285 value (RFC 9335 §6.3), so the
/// RTP layer reads an ordinary extension block.
pub(crate) fn mark_decrypted(buf: &mut [u8], offset: usize) {
    let profile = match u16::from_be_bytes([buf[offset], buf[offset + 1]]) {
        CRYPTEX_TWO_BYTE => TWO_BYTE,
        _ => ONE_BYTE,
    };
    buf[offset..offset + 2].copy_from_slice(&profile.to_be_bytes());
}

/// Moves the 4-byte extension header in front of the CSRCs, so that "fixed header || extension
/// header" is contiguous and so is "CSRCs || extension data || payload" (RFC 9335 §6.2, Figure 2).
pub(crate) fn to_contiguous(buf: &mut [u8], csrc_count: usize) {
    buf[RTP_FIXED_LEN..CONTIGUOUS_START + 4 * csrc_count].rotate_right(4);
}

/// Undoes [`to_contiguous`]: the CSRCs back after the fixed header, the extension header after them.
pub(crate) fn from_contiguous(buf: &mut [u8], csrc_count: usize) {
    buf[RTP_FIXED_LEN..CONTIGUOUS_START + 4 * csrc_count].rotate_left(4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn plans() {
        let with = |p: &[u8]| send_plan(&RtpHeader::parse(p).unwrap());
        let plain = hex!("8000 0001 00000001 00000002 abcd");
        assert_eq!(with(&plain), SendPlan::Plain);
        let csrcs = hex!("8100 0001 00000001 00000002 00000003 abcd");
        assert_eq!(
            with(&csrcs),
            SendPlan::Cryptex {
                insert_empty_extension: true
            }
        );
        let two_byte = hex!("9000 0001 00000001 00000002 10000001 01010000");
        assert_eq!(
            with(&two_byte),
            SendPlan::Cryptex {
                insert_empty_extension: false
            }
        );
        // Two-byte with appbits, and a non-RFC 8285 extension: sent as plain SRTP.
        let appbits = hex!("9000 0001 00000001 00000002 10010001 01010000");
        assert_eq!(with(&appbits), SendPlan::Plain);
        let other = hex!("9000 0001 00000001 00000002 12340000");
        assert_eq!(with(&other), SendPlan::Plain);
    }

    #[test]
    fn insert_rewrite_and_swap() {
        let mut buf = [0u8; 32];
        let p = hex!("8100 0001 00000001 00000002 0000000c abcd");
        buf[..p.len()].copy_from_slice(&p);
        let len = insert_empty_extension(&mut buf, p.len(), 1);
        assert_eq!(
            buf[..len],
            hex!("9100 0001 00000001 00000002 0000000c c0de0000 abcd")
        );
        mark_decrypted(&mut buf, 16);
        assert_eq!(buf[16..18], hex!("bede"));
        mark_encrypted(&mut buf, 16);
        assert_eq!(buf[16..18], hex!("c0de"));
        to_contiguous(&mut buf, 1);
        assert_eq!(
            buf[..len],
            hex!("9100 0001 00000001 00000002 c0de0000 0000000c abcd")
        );
        from_contiguous(&mut buf, 1);
        assert_eq!(
            buf[..len],
            hex!("9100 0001 00000001 00000002 0000000c c0de0000 abcd")
        );
        buf[16..18].copy_from_slice(&hex!("1000"));
        mark_encrypted(&mut buf, 16);
        assert_eq!(buf[16..18], hex!("c2de"));
        assert!(is_encrypted(0xc2de) && is_encrypted(0xc0de) && !is_encrypted(0xbede));
        mark_decrypted(&mut buf, 16);
        assert_eq!(buf[16..18], hex!("1000"));
    }
}
