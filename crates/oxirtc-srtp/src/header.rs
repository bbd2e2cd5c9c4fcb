//! The few RTP and RTCP header fields SRTP needs, read with bounds checks (RFC 3550 §5.1, §6.4).

use crate::SrtpError;

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub(crate) const RTP_FIXED_LEN: usize = 12;
/// Length of the part of an RTCP compound that SRTCP leaves in the clear: the first header and its
/// SSRC (RFC 3711 §3.4, "from the ninth (9) octet").
pub(crate) const RTCP_CLEAR_LEN: usize = 8;

/// The RTP header of a packet: where the payload starts and what keys the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    /// Sequence number.
    pub(crate) seq: u16,
    /// Synchronization source.
    pub(crate) ssrc: u32,
    /// CSRC count (0..=15).
    pub(crate) csrc_count: usize,
    /// The header extension, if the X bit is set.
    pub(crate) extension: Option<Extension>,
    /// Fixed header + CSRCs + extension: where the payload starts.
    pub(crate) len: usize,
}

/// An RTP header extension block (RFC 3550 §5.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extension {
    /// Offset of its 4-byte header ("defined by profile" and length) in the packet.
    pub(crate) offset: usize,
    /// The "defined by profile" field: 0xBEDE one-byte, 0x100x two-byte (RFC 8285), 0xC0DE/0xC2DE
    /// cryptex (RFC 9335 §5).
    pub(crate) profile: u16,
}

impl RtpHeader {
    /// Reads the header of the RTP packet `packet` (without any SRTP trailer).
    pub(crate) fn parse(packet: &[u8]) -> Result<Self, SrtpError> {
        if packet.len() < RTP_FIXED_LEN {
            return Err(SrtpError::TooShort {
                needed: RTP_FIXED_LEN,
                len: packet.len(),
            });
        }
        check_version(packet[0])?;
        let csrc_count = usize::from(packet[0] & 0x0f);
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        let mut len = RTP_FIXED_LEN + 4 * csrc_count;
        let mut extension = None;
        if packet[0] & 0x10 != 0 {
            let offset = len;
            let overrun = SrtpError::HeaderOverrun {
                header_len: offset + 4,
                available: packet.len(),
            };
            let ext = packet.get(offset..offset + 4).ok_or(overrun)?;
            let profile = u16::from_be_bytes([ext[0], ext[1]]);
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            len = offset + 4 + 4 * words;
            extension = Some(Extension { offset, profile });
        }
        if len > packet.len() {
            return Err(SrtpError::HeaderOverrun {
                header_len: len,
                available: packet.len(),
            });
        }
        Ok(Self {
            seq,
            ssrc,
            csrc_count,
            extension,
            len,
        })
    }
}

/// The SSRC of the first RTCP packet of a compound (RFC 3550 §6.4.1): the one SRTCP keys on
/// (RFC 3711 §4.1.1).
pub(crate) fn rtcp_ssrc(packet: &[u8]) -> Result<u32, SrtpError> {
    if packet.len() < RTCP_CLEAR_LEN {
        return Err(SrtpError::TooShort {
            needed: RTCP_CLEAR_LEN,
            len: packet.len(),
        });
    }
    check_version(packet[0])?;
    Ok(u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]))
}

fn check_version(first: u8) -> Result<(), SrtpError> {
    match first >> 6 {
        2 => Ok(()),
        v => Err(SrtpError::BadVersion(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn reads_csrcs_and_extension() {
        // RFC 9335 Appendix A: one CSRC pair and a one-byte extension of one word.
        let p = hex!("920f1238 decafbad cafebabe 0001e240 0000b26e bede0001 51000200 abab");
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!((h.seq, h.ssrc, h.csrc_count), (0x1238, 0xcafe_babe, 2));
        assert_eq!(
            h.extension,
            Some(Extension {
                offset: 20,
                profile: 0xbede
            })
        );
        assert_eq!(h.len, 28);
    }

    #[test]
    fn refuses_what_runs_past_the_packet() {
        assert_eq!(
            RtpHeader::parse(&hex!("8000 0001")),
            Err(SrtpError::TooShort { needed: 12, len: 4 })
        );
        assert_eq!(
            RtpHeader::parse(&hex!("4000 0001 00000000 00000000")),
            Err(SrtpError::BadVersion(1))
        );
        // CC = 15 with no CSRC bytes.
        assert_eq!(
            RtpHeader::parse(&hex!("8f00 0001 00000000 00000000")),
            Err(SrtpError::HeaderOverrun {
                header_len: 72,
                available: 12
            })
        );
        // X set, no room for the extension header.
        assert_eq!(
            RtpHeader::parse(&hex!("9000 0001 00000000 00000000 bede")),
            Err(SrtpError::HeaderOverrun {
                header_len: 16,
                available: 14
            })
        );
        // An extension length of 0xffff words.
        assert_eq!(
            RtpHeader::parse(&hex!("9000 0001 00000000 00000000 bedeffff")),
            Err(SrtpError::HeaderOverrun {
                header_len: 16 + 4 * 0xffff,
                available: 16
            })
        );
        assert_eq!(rtcp_ssrc(&hex!("81c8000d 4d617273")), Ok(0x4d61_7273));
        assert!(rtcp_ssrc(&hex!("81c8000d 4d6172")).is_err());
    }
}
