//! SCTP packets: common header, chunk framing and the CRC32c checksum (RFC 9260 §3, §3.1, §6.8).

use crate::chunk::Chunk;
use crate::reader::{padded, Reader};
use crate::SctpError;

/// Size of the common header (RFC 9260 §3.1).
pub const COMMON_HEADER_LEN: usize = 12;

/// Upper bound on chunks per packet the parser accepts (a 64 KiB packet of empty chunks has 16 Ki).
pub const MAX_CHUNKS: usize = 256;

/// The SCTP common header (RFC 9260 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
}

/// A parsed packet borrowing its chunks from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The common header.
    pub header: CommonHeader,
    /// The chunks in order.
    pub chunks: Vec<Chunk<'a>>,
}

/// CRC32c of a packet with the checksum field taken as zero (RFC 9260 §6.8, Appendix A).
pub fn checksum(packet: &[u8]) -> u32 {
    if packet.len() < COMMON_HEADER_LEN {
        return crc32c::crc32c(packet);
    }
    let c = crc32c::crc32c(&packet[..8]);
    let c = crc32c::crc32c_append(c, &[0; 4]);
    crc32c::crc32c_append(c, &packet[COMMON_HEADER_LEN..])
}

/// Writes the CRC32c into a finished packet. The value goes out in the byte order of the reference
/// implementation (RFC 9260 Appendix A: the CRC's least significant byte first), as usrsctp/dcsctp do.
pub fn write_checksum(packet: &mut [u8]) {
    if packet.len() >= COMMON_HEADER_LEN {
        let c = checksum(packet);
        packet[8..12].copy_from_slice(&c.to_le_bytes());
    }
}

/// Checks the CRC32c of a received packet (RFC 9260 §6.8).
pub fn verify_checksum(packet: &[u8]) -> Result<(), SctpError> {
    let Some(field) = packet.get(8..12) else {
        return Err(SctpError::Truncated {
            needed: COMMON_HEADER_LEN,
            available: packet.len(),
        });
    };
    let found = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
    let computed = checksum(packet);
    if found == computed {
        Ok(())
    } else {
        Err(SctpError::BadChecksum { found, computed })
    }
}

impl<'a> Packet<'a> {
    /// Parses a packet (does not verify the checksum; see [`verify_checksum`]).
    ///
    /// A chunk length below 4 or past the end of the packet rejects the whole packet (RFC 9260 §3.2).
    /// Padding of the last chunk may be absent.
    pub fn parse(buf: &'a [u8]) -> Result<Packet<'a>, SctpError> {
        let mut r = Reader::new(buf);
        let truncated = SctpError::Truncated {
            needed: COMMON_HEADER_LEN,
            available: buf.len(),
        };
        let (Some(src_port), Some(dst_port), Some(verification_tag), Some(_)) =
            (r.u16(), r.u16(), r.u32(), r.u32())
        else {
            return Err(truncated);
        };
        let header = CommonHeader {
            src_port,
            dst_port,
            verification_tag,
        };
        let mut chunks = Vec::new();
        while r.remaining() > 0 {
            let offset = buf.len() - r.remaining();
            if chunks.len() == MAX_CHUNKS {
                return Err(SctpError::Malformed {
                    chunk: "packet",
                    reason: "too many chunks",
                });
            }
            let (Some(ty), Some(flags), Some(len)) = (r.u8(), r.u8(), r.u16()) else {
                return Err(SctpError::BadLength {
                    ty: 0,
                    length: 0,
                    offset,
                });
            };
            let len = usize::from(len);
            let bad = SctpError::BadLength {
                ty: u16::from(ty),
                length: len,
                offset,
            };
            let value = len.checked_sub(4).and_then(|n| r.take(n)).ok_or(bad)?;
            let pad = (padded(len) - len).min(r.remaining());
            let _ = r.take(pad);
            chunks.push(Chunk::parse(ty, flags, value)?);
        }
        if chunks.is_empty() {
            return Err(SctpError::NoChunks);
        }
        Ok(Packet { header, chunks })
    }
}

/// Starts a packet in `out` (cleared): common header with a zero checksum (RFC 9260 §3.1).
pub fn begin_packet(out: &mut Vec<u8>, header: &CommonHeader) {
    out.clear();
    out.extend_from_slice(&header.src_port.to_be_bytes());
    out.extend_from_slice(&header.dst_port.to_be_bytes());
    out.extend_from_slice(&header.verification_tag.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{encode_raw, ty};

    #[test]
    fn crc32c_vectors() {
        // RFC 3720 (iSCSI) §B.4 test vectors for CRC32c.
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c::crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c::crc32c(&inc), 0x46DD_794E);
        let dec: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc32c::crc32c(&dec), 0x113F_DB5C);
    }

    #[test]
    fn known_packet_checksum() {
        // A COOKIE ACK from port 5000 to 5000, tag 0x01020304; checksum bytes as usrsctp writes them.
        let mut p = Vec::new();
        begin_packet(
            &mut p,
            &CommonHeader {
                src_port: 5000,
                dst_port: 5000,
                verification_tag: 0x0102_0304,
            },
        );
        encode_raw(&mut p, ty::COOKIE_ACK, 0, &[]);
        write_checksum(&mut p);
        let stored = u32::from_le_bytes([p[8], p[9], p[10], p[11]]);
        let mut zeroed = p.clone();
        zeroed[8..12].fill(0);
        assert_eq!(stored, crc32c::crc32c(&zeroed));
        verify_checksum(&p).unwrap();
        p[13] ^= 1;
        assert!(matches!(verify_checksum(&p), Err(SctpError::BadChecksum { .. })));
    }

    #[test]
    fn framing_errors_reject_the_packet() {
        let h = CommonHeader {
            src_port: 1,
            dst_port: 2,
            verification_tag: 3,
        };
        let mut p = Vec::new();
        begin_packet(&mut p, &h);
        assert_eq!(Packet::parse(&p), Err(SctpError::NoChunks));
        // Zero length chunk.
        p.extend_from_slice(&[ty::COOKIE_ACK, 0, 0, 0]);
        assert!(matches!(
            Packet::parse(&p),
            Err(SctpError::BadLength { length: 0, .. })
        ));
        // Overlong chunk.
        p.truncate(12);
        p.extend_from_slice(&[ty::COOKIE_ECHO, 0, 0, 200, 1, 2, 3, 4]);
        assert!(matches!(
            Packet::parse(&p),
            Err(SctpError::BadLength { length: 200, .. })
        ));
        // A good packet with two chunks, the last without padding.
        p.truncate(12);
        encode_raw(&mut p, ty::COOKIE_ACK, 0, &[]);
        p.extend_from_slice(&[ty::COOKIE_ECHO, 0, 0, 5, 9]);
        let parsed = Packet::parse(&p).unwrap();
        assert_eq!(parsed.header, h);
        assert_eq!(parsed.chunks, vec![Chunk::CookieAck, Chunk::CookieEcho(&[9])]);
        assert!(Packet::parse(&p[..7]).is_err());
    }
}
