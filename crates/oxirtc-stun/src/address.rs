//! Transport-address attribute values, plain and XOR'd (RFC 8489 §14.1, §14.2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{AttrType, StunError, TransactionId, MAGIC_COOKIE};

/// An IP address family as carried on the wire (RFC 8489 §14.1: 0x01 IPv4, 0x02 IPv6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddressFamily {
    /// IPv4 (0x01).
    V4,
    /// IPv6 (0x02).
    V6,
}

impl AddressFamily {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            AddressFamily::V4 => 0x01,
            AddressFamily::V6 => 0x02,
        }
    }

    /// Decodes a wire code; `None` for anything but 0x01 and 0x02.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(AddressFamily::V4),
            0x02 => Some(AddressFamily::V6),
            _ => None,
        }
    }

    /// The family of a socket address.
    pub fn of(addr: &SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(_) => AddressFamily::V4,
            SocketAddr::V6(_) => AddressFamily::V6,
        }
    }
}

fn bad(ty: AttrType, reason: &'static str) -> StunError {
    StunError::BadAttribute { ty, reason }
}

/// The key an address is XOR'd with: magic cookie, then the transaction ID (RFC 8489 §14.2).
fn xor_key(tid: &TransactionId) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    key[4..].copy_from_slice(&tid.0);
    key
}

// RFC 8489 §14.1: 0 | family | port | address (4 or 16 bytes). The first byte MUST be ignored on receipt.
fn decode_plain(ty: AttrType, value: &[u8]) -> Result<(u16, IpAddr), StunError> {
    let (family, port) = match value {
        [_, family, p0, p1, ..] => (*family, u16::from_be_bytes([*p0, *p1])),
        _ => return Err(bad(ty, "address shorter than 4 bytes")),
    };
    let ip = match (AddressFamily::from_code(family), &value[4..]) {
        (Some(AddressFamily::V4), rest) => {
            let octets: [u8; 4] = rest
                .try_into()
                .map_err(|_| bad(ty, "IPv4 address must be 8 bytes"))?;
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        (Some(AddressFamily::V6), rest) => {
            let octets: [u8; 16] = rest
                .try_into()
                .map_err(|_| bad(ty, "IPv6 address must be 20 bytes"))?;
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        (None, _) => return Err(bad(ty, "unknown address family")),
    };
    Ok((port, ip))
}

/// Decodes MAPPED-ADDRESS-style values (also ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS).
pub(crate) fn decode_address(ty: AttrType, value: &[u8]) -> Result<SocketAddr, StunError> {
    let (port, ip) = decode_plain(ty, value)?;
    Ok(SocketAddr::new(ip, port))
}

/// Decodes XOR-MAPPED-ADDRESS-style values (also XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS).
pub(crate) fn decode_xor_address(
    ty: AttrType,
    value: &[u8],
    tid: &TransactionId,
) -> Result<SocketAddr, StunError> {
    let (xport, xip) = decode_plain(ty, value)?;
    let key = xor_key(tid);
    // RFC 8489 §14.2: X-Port is the port XOR'd with the 16 most significant bits of the magic cookie.
    let port = xport ^ (MAGIC_COOKIE >> 16) as u16;
    let ip = match xip {
        IpAddr::V4(v4) => {
            let mut o = v4.octets();
            o.iter_mut().zip(key.iter()).for_each(|(b, k)| *b ^= k);
            IpAddr::V4(Ipv4Addr::from(o))
        }
        IpAddr::V6(v6) => {
            let mut o = v6.octets();
            o.iter_mut().zip(key.iter()).for_each(|(b, k)| *b ^= k);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// Writes a MAPPED-ADDRESS-style value.
pub(crate) fn encode_address(addr: &SocketAddr, out: &mut Vec<u8>) {
    out.push(0);
    out.push(AddressFamily::of(addr).code());
    out.extend_from_slice(&addr.port().to_be_bytes());
    match addr.ip() {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
}

/// Writes an XOR-MAPPED-ADDRESS-style value (RFC 8489 §14.2).
pub(crate) fn encode_xor_address(addr: &SocketAddr, tid: &TransactionId, out: &mut Vec<u8>) {
    let key = xor_key(tid);
    out.push(0);
    out.push(AddressFamily::of(addr).code());
    out.extend_from_slice(&(addr.port() ^ (MAGIC_COOKIE >> 16) as u16).to_be_bytes());
    match addr.ip() {
        IpAddr::V4(v4) => out.extend(v4.octets().iter().zip(key.iter()).map(|(b, k)| b ^ k)),
        IpAddr::V6(v6) => out.extend(v6.octets().iter().zip(key.iter()).map(|(b, k)| b ^ k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: TransactionId = TransactionId([
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ]);

    #[test]
    fn xor_ipv4_matches_rfc5769() {
        // RFC 5769 §2.2: 192.0.2.1:32853.
        let v = [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43];
        let a = decode_xor_address(AttrType::XOR_MAPPED_ADDRESS, &v, &TID).unwrap();
        assert_eq!(a, "192.0.2.1:32853".parse().unwrap());
        let mut out = Vec::new();
        encode_xor_address(&a, &TID, &mut out);
        assert_eq!(out, v);
    }

    #[test]
    fn plain_round_trip_and_errors() {
        for s in ["10.0.0.1:1", "[2001:db8::1]:65535"] {
            let a: SocketAddr = s.parse().unwrap();
            let mut out = Vec::new();
            encode_address(&a, &mut out);
            assert_eq!(decode_address(AttrType::MAPPED_ADDRESS, &out).unwrap(), a);
        }
        let t = AttrType::MAPPED_ADDRESS;
        assert!(decode_address(t, &[0, 1, 0]).is_err());
        assert!(decode_address(t, &[0, 1, 0, 0, 1, 2, 3]).is_err());
        assert!(decode_address(t, &[0, 2, 0, 0, 1, 2, 3, 4]).is_err());
        assert!(decode_address(t, &[0, 3, 0, 0, 1, 2, 3, 4]).is_err());
    }
}
