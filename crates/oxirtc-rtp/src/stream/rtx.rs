//! The RTP retransmission payload format (RFC 4588 §4): a lost packet resent on its own SSRC and
//! payload type, with the original sequence number (OSN) in the first two bytes of the payload.
//!
//! [`RtxPacket::write`] makes one from a stored original; [`RtxPacket::parse`] reads one and
//! [`RtxPacket::write_original`] rebuilds the original packet for the receive path.

use crate::packet::{RtpPacket, Ssrc, FIXED_HEADER_LEN};
use crate::RtpError;

/// Length of the retransmission payload header, the OSN (RFC 4588 §4).
pub const OSN_LEN: usize = 2;

/// The header fields of the retransmission stream for one RTX packet (RFC 4588 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxParams {
    /// The RTX stream's SSRC (SSRC multiplexing, RFC 4588 §4).
    pub ssrc: Ssrc,
    /// The RTX payload type negotiated for the original's (`a=fmtp:<rtx> apt=<original>`).
    pub payload_type: u8,
    /// The RTX stream's own sequence number: one more than its previous packet's (RFC 4588 §4).
    pub sequence_number: u16,
}

/// A received retransmission packet: its OSN and the original payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxPacket<'a> {
    packet: RtpPacket<'a>,
    original_sequence_number: u16,
}

impl<'a> RtxPacket<'a> {
    /// Reads an RTX packet (RFC 4588 §4). `Ok(None)` for an empty payload: a padding-only packet,
    /// which senders put on the RTX stream to probe bandwidth and which repairs nothing. A payload
    /// of one byte cannot hold the OSN and is an error.
    pub fn parse(packet: RtpPacket<'a>) -> Result<Option<Self>, RtpError> {
        let payload = packet.payload();
        match payload {
            [] => Ok(None),
            [hi, lo, ..] => Ok(Some(RtxPacket {
                packet,
                original_sequence_number: u16::from_be_bytes([*hi, *lo]),
            })),
            [_] => Err(RtpError::Truncated {
                what: "RTX payload (original sequence number)",
                needed: OSN_LEN,
                available: payload.len(),
            }),
        }
    }

    /// The original sequence number (OSN).
    pub fn original_sequence_number(&self) -> u16 {
        self.original_sequence_number
    }

    /// The original packet's payload, after the OSN.
    pub fn original_payload(&self) -> &'a [u8] {
        &self.packet.payload()[OSN_LEN..]
    }

    /// The RTX packet itself.
    pub fn packet(&self) -> RtpPacket<'a> {
        self.packet
    }

    /// Appends the original packet rebuilt from this one: the RTX header (marker, timestamp,
    /// CSRCs, header extensions) with the original `ssrc`, `payload_type` (the RTX payload type's
    /// `apt`) and the OSN as sequence number, then the original payload, without padding. Returns
    /// its length.
    pub fn write_original(&self, ssrc: Ssrc, payload_type: u8, out: &mut Vec<u8>) -> Result<usize, RtpError> {
        let header = &self.packet.as_bytes()[..self.packet.header_len()];
        let fields = HeaderFields {
            ssrc,
            payload_type,
            sequence_number: self.original_sequence_number,
        };
        write_header(header, fields, out)?;
        out.extend_from_slice(self.original_payload());
        Ok(header.len() + self.original_payload().len())
    }

    /// Appends the RTX packet that retransmits `original` (RFC 4588 §4): the original header with
    /// the RTX stream's SSRC, payload type and sequence number, marker, timestamp, CSRCs and header
    /// extensions kept; then the OSN and the original payload. The original's padding is left out
    /// (RFC 4588 §4: it MUST be removed). Returns the length written.
    pub fn write(original: &RtpPacket<'_>, rtx: RtxParams, out: &mut Vec<u8>) -> Result<usize, RtpError> {
        let header = &original.as_bytes()[..original.header_len()];
        let fields = HeaderFields {
            ssrc: rtx.ssrc,
            payload_type: rtx.payload_type,
            sequence_number: rtx.sequence_number,
        };
        write_header(header, fields, out)?;
        out.extend_from_slice(&original.sequence_number().to_be_bytes());
        out.extend_from_slice(original.payload());
        Ok(header.len() + OSN_LEN + original.payload().len())
    }
}

/// The fields a retransmission changes in a copied header.
struct HeaderFields {
    ssrc: Ssrc,
    payload_type: u8,
    sequence_number: u16,
}

/// Appends `header` (a validated packet's header: fixed part, CSRCs, extension block) with the
/// padding bit cleared and the payload type, sequence number and SSRC replaced (RFC 3550 §5.1).
fn write_header(header: &[u8], fields: HeaderFields, out: &mut Vec<u8>) -> Result<(), RtpError> {
    if fields.payload_type > 127 {
        return Err(RtpError::OutOfRange {
            what: "RTP payload type",
            value: fields.payload_type.into(),
            max: 127,
        });
    }
    let start = out.len();
    out.extend_from_slice(header);
    // A parsed packet's header is at least the fixed 12 bytes, so these indices exist.
    debug_assert!(header.len() >= FIXED_HEADER_LEN);
    let h = &mut out[start..];
    h[0] &= !0x20; // no padding
    h[1] = (h[1] & 0x80) | fields.payload_type; // marker kept
    h[2..4].copy_from_slice(&fields.sequence_number.to_be_bytes());
    h[8..12].copy_from_slice(&fields.ssrc.0.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::Extension;
    use crate::packet::RtpHeader;

    fn original(padding: u8, out: &mut Vec<u8>) {
        let csrcs = [Ssrc(0xc0c0_c0c0)];
        let exts = [Extension {
            id: 4,
            data: &[0xab, 0xcd],
        }];
        let header = RtpHeader {
            marker: true,
            payload_type: 96,
            sequence_number: 0xfffe,
            timestamp: 0x0102_0304,
            ssrc: Ssrc(0x1111_1111),
            csrcs: &csrcs,
            extensions: &exts,
            allow_two_byte: false,
        };
        header
            .write(b"media payload", padding, out)
            .expect("valid header");
    }

    #[test]
    fn rtx_round_trip_gives_back_the_osn_and_payload() {
        let mut buf = Vec::new();
        original(4, &mut buf);
        let orig = RtpPacket::parse(&buf).expect("parses");
        let mut rtx = Vec::new();
        let params = RtxParams {
            ssrc: Ssrc(0x2222_2222),
            payload_type: 97,
            sequence_number: 7,
        };
        let n = RtxPacket::write(&orig, params, &mut rtx).expect("writes");
        assert_eq!(n, rtx.len());
        let p = RtpPacket::parse(&rtx).expect("RTX packet parses");
        // RFC 4588 §4: RTX SSRC, PT and sequence number; timestamp, marker, CSRCs and extensions
        // kept; padding removed; OSN then the payload.
        assert_eq!(
            (p.ssrc(), p.payload_type(), p.sequence_number()),
            (Ssrc(0x2222_2222), 97, 7)
        );
        assert_eq!((p.timestamp(), p.marker()), (0x0102_0304, true));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [Ssrc(0xc0c0_c0c0)]);
        assert_eq!(p.extension(4), Some(&[0xab, 0xcd][..]));
        assert_eq!(p.padding_len(), 0);
        assert_eq!(&p.payload()[..2], [0xff, 0xfe]);

        let r = RtxPacket::parse(p).expect("valid").expect("not padding only");
        assert_eq!(r.original_sequence_number(), 0xfffe);
        assert_eq!(r.original_payload(), b"media payload");

        // The receiver rebuilds the original, byte for byte except the padding it lost.
        let mut rebuilt = Vec::new();
        let n = r
            .write_original(Ssrc(0x1111_1111), 96, &mut rebuilt)
            .expect("writes");
        let mut unpadded = Vec::new();
        original(0, &mut unpadded);
        assert_eq!((n, rebuilt), (unpadded.len(), unpadded));
    }

    #[test]
    fn rtx_bytes_by_hand() {
        // The smallest case, every byte from RFC 3550 §5.1 and RFC 4588 §4.
        let orig = [0x80, 0x60, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 1, 0xaa];
        let orig = RtpPacket::parse(&orig).expect("parses");
        let mut out = vec![0xee]; // appended after what is there
        let params = RtxParams {
            ssrc: Ssrc(2),
            payload_type: 0x61,
            sequence_number: 0x0100,
        };
        RtxPacket::write(&orig, params, &mut out).expect("writes");
        assert_eq!(
            out,
            [0xee, 0x80, 0x61, 0x01, 0x00, 0, 0, 0, 9, 0, 0, 0, 2, 0x00, 0x05, 0xaa]
        );
    }

    #[test]
    fn padding_only_and_truncated_rtx() {
        let padding_only = [0xa0, 97, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4];
        let p = RtpPacket::parse(&padding_only).expect("parses");
        assert_eq!(RtxPacket::parse(p), Ok(None));
        let one_byte = [0x80, 97, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x12];
        let p = RtpPacket::parse(&one_byte).expect("parses");
        assert!(matches!(
            RtxPacket::parse(p),
            Err(RtpError::Truncated {
                needed: 2,
                available: 1,
                ..
            })
        ));
        // OSN and no payload: a valid retransmission of an empty payload.
        let osn_only = [0x80, 97, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x12, 0x34];
        let p = RtpPacket::parse(&osn_only).expect("parses");
        let r = RtxPacket::parse(p).expect("valid").expect("has an OSN");
        assert_eq!(
            (r.original_sequence_number(), r.original_payload()),
            (0x1234, &[][..])
        );
    }

    #[test]
    fn payload_type_above_127_is_refused_and_nothing_written() {
        let orig = [0x80, 0x60, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 1];
        let orig = RtpPacket::parse(&orig).expect("parses");
        let mut out = Vec::new();
        let params = RtxParams {
            ssrc: Ssrc(2),
            payload_type: 200,
            sequence_number: 1,
        };
        assert!(RtxPacket::write(&orig, params, &mut out).is_err());
        assert!(out.is_empty());
    }
}
