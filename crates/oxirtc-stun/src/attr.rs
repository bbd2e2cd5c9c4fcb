//! The decoded attribute enum and the value codec for every attribute type this crate knows
//! (RFC 8489 §14, RFC 8445 §7.1, RFC 8656 §18, RFC 5780 §7, RFC 6062 §6.2).

use std::net::SocketAddr;

use crate::address::{decode_address, decode_xor_address, encode_address, encode_xor_address};
use crate::{
    AddressFamily, AlgorithmParams, AttrType, PasswordAlgorithms, StunError, TransactionId, UnknownAttributes,
};

/// The value of ERROR-CODE (RFC 8489 §14.8): a code 300..=699 and a UTF-8 reason phrase.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ErrorCode<'a> {
    /// The numeric code, class * 100 + number.
    pub code: u16,
    /// The reason phrase (diagnostic text).
    pub reason: &'a str,
}

impl ErrorCode<'_> {
    /// 300 Try Alternate (RFC 8489 §14.8).
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 403 Forbidden (RFC 8656 §19).
    pub const FORBIDDEN: u16 = 403;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 437 Allocation Mismatch (RFC 8656 §19).
    pub const ALLOCATION_MISMATCH: u16 = 437;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 440 Address Family not Supported (RFC 8656 §19).
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: u16 = 440;
    /// 441 Wrong Credentials (RFC 8656 §19).
    pub const WRONG_CREDENTIALS: u16 = 441;
    /// 442 Unsupported Transport Protocol (RFC 8656 §19).
    pub const UNSUPPORTED_TRANSPORT: u16 = 442;
    /// 443 Peer Address Family Mismatch (RFC 8656 §19).
    pub const PEER_ADDRESS_FAMILY_MISMATCH: u16 = 443;
    /// 446 Connection Already Exists (RFC 6062 §6.3).
    pub const CONNECTION_ALREADY_EXISTS: u16 = 446;
    /// 447 Connection Timeout or Failure (RFC 6062 §6.3).
    pub const CONNECTION_TIMEOUT_OR_FAILURE: u16 = 447;
    /// 486 Allocation Quota Reached (RFC 8656 §19).
    pub const ALLOCATION_QUOTA_REACHED: u16 = 486;
    /// 487 Role Conflict (RFC 8445 §7.3.1.1).
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error.
    pub const SERVER_ERROR: u16 = 500;
    /// 508 Insufficient Capacity (RFC 8656 §19).
    pub const INSUFFICIENT_CAPACITY: u16 = 508;
}

/// One decoded STUN attribute. String and byte payloads borrow the datagram.
///
/// Built by hand for encoding with [`crate::MessageEncoder::add`]. The XOR'd address variants hold the
/// plain address; the codec applies the XOR with the message's transaction ID.
#[non_exhaustive]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS (RFC 8489 §14.1).
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    XorMappedAddress(SocketAddr),
    /// USERNAME (RFC 8489 §14.3).
    Username(&'a str),
    /// USERHASH, 32 bytes (RFC 8489 §14.4).
    UserHash(&'a [u8]),
    /// MESSAGE-INTEGRITY, the 20-byte HMAC-SHA1 (RFC 8489 §14.5). Decoding only.
    MessageIntegrity(&'a [u8]),
    /// MESSAGE-INTEGRITY-SHA256, 16 to 32 bytes (RFC 8489 §14.6). Decoding only.
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT, the XOR'd CRC-32 (RFC 8489 §14.7). Decoding only.
    Fingerprint(u32),
    /// ERROR-CODE (RFC 8489 §14.8).
    ErrorCode(ErrorCode<'a>),
    /// REALM (RFC 8489 §14.9).
    Realm(&'a str),
    /// NONCE (RFC 8489 §14.10).
    Nonce(&'a str),
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
    PasswordAlgorithm(AlgorithmParams<'a>),
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
    UnknownAttributes(UnknownAttributes<'a>),
    /// SOFTWARE (RFC 8489 §14.14).
    Software(&'a str),
    /// ALTERNATE-SERVER (RFC 8489 §14.15).
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16).
    AlternateDomain(&'a str),
    /// PRIORITY (RFC 8445 §7.1.1).
    Priority(u32),
    /// USE-CANDIDATE, no value (RFC 8445 §7.1.2).
    UseCandidate,
    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).
    IceControlled(u64),
    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).
    IceControlling(u64),
    /// CHANNEL-NUMBER (RFC 8656 §18.1); the RFFU half is ignored.
    ChannelNumber(u16),
    /// LIFETIME in seconds (RFC 8656 §18.2).
    Lifetime(u32),
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3).
    XorPeerAddress(SocketAddr),
    /// DATA (RFC 8656 §18.4).
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
    RequestedAddressFamily(AddressFamily),
    /// EVEN-PORT; `true` asks the server to reserve the next port (the R bit, RFC 8656 §18.7).
    EvenPort(bool),
    /// REQUESTED-TRANSPORT protocol number, 17 for UDP (RFC 8656 §18.8).
    RequestedTransport(u8),
    /// DONT-FRAGMENT, no value (RFC 8656 §18.9).
    DontFragment,
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    ReservationToken([u8; 8]),
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    AdditionalAddressFamily(AddressFamily),
    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
    AddressErrorCode {
        /// The family the error is about.
        family: AddressFamily,
        /// 440 or 508 in practice.
        code: u16,
        /// Reason phrase.
        reason: &'a str,
    },
    /// ICMP (RFC 8656 §18.13). Type and code are read as the third and fourth bytes.
    Icmp {
        /// ICMP (or ICMPv6) type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Error data (the next-hop MTU for "packet too big", else 0).
        error_data: u32,
    },
    /// CHANGE-REQUEST (RFC 5780 §7.2).
    ChangeRequest {
        /// The A flag: answer from the other IP address.
        change_ip: bool,
        /// The B flag: answer from the other port.
        change_port: bool,
    },
    /// RESPONSE-ORIGIN (RFC 5780 §7.3).
    ResponseOrigin(SocketAddr),
    /// OTHER-ADDRESS (RFC 5780 §7.4).
    OtherAddress(SocketAddr),
    /// RESPONSE-PORT (RFC 5780 §7.5).
    ResponsePort(u16),
    /// PADDING, free-form bytes (RFC 5780 §7.6).
    Padding(&'a [u8]),
    /// CONNECTION-ID (RFC 6062 §6.2.1).
    ConnectionId(u32),
    /// Any type this codec does not decode, with its raw value (no padding).
    Unknown {
        /// The attribute type.
        ty: AttrType,
        /// The raw value.
        value: &'a [u8],
    },
}

fn bad(ty: AttrType, reason: &'static str) -> StunError {
    StunError::BadAttribute { ty, reason }
}

fn fixed<const N: usize>(ty: AttrType, v: &[u8]) -> Result<[u8; N], StunError> {
    v.try_into()
        .map_err(|_| bad(ty, "wrong length for this attribute type"))
}

fn text(ty: AttrType, v: &[u8]) -> Result<&str, StunError> {
    std::str::from_utf8(v).map_err(|_| bad(ty, "value is not valid UTF-8"))
}

fn family(ty: AttrType, v: &[u8]) -> Result<AddressFamily, StunError> {
    // RFC 8656 §18.6: family byte then 24 reserved bits, which are ignored.
    let [f, ..] = fixed::<4>(ty, v)?;
    AddressFamily::from_code(f).ok_or(bad(ty, "unknown address family"))
}

/// RFC 8489 §14.8: 21 reserved bits, 3-bit class 3..=6, 8-bit number 0..=99, then the reason phrase.
fn error_code(ty: AttrType, v: &[u8]) -> Result<(u16, &str), StunError> {
    let (head, reason) = v
        .split_at_checked(4)
        .ok_or(bad(ty, "error code shorter than 4 bytes"))?;
    let class = u16::from(head[2] & 0x07);
    let number = u16::from(head[3]);
    if !(3..=6).contains(&class) || number > 99 {
        return Err(bad(ty, "error code outside 300..=699"));
    }
    Ok((class * 100 + number, text(ty, reason)?))
}

fn encode_error_code(code: u16, reason: &str, family: u8, out: &mut Vec<u8>) -> Result<(), StunError> {
    if !(300..=699).contains(&code) {
        return Err(StunError::Misuse("error code outside 300..=699"));
    }
    out.extend_from_slice(&[family, 0, (code / 100) as u8, (code % 100) as u8]);
    out.extend_from_slice(reason.as_bytes());
    Ok(())
}

impl<'a> Attribute<'a> {
    /// The attribute's type code.
    pub fn attr_type(&self) -> AttrType {
        use Attribute as A;
        match self {
            A::MappedAddress(_) => AttrType::MAPPED_ADDRESS,
            A::XorMappedAddress(_) => AttrType::XOR_MAPPED_ADDRESS,
            A::Username(_) => AttrType::USERNAME,
            A::UserHash(_) => AttrType::USERHASH,
            A::MessageIntegrity(_) => AttrType::MESSAGE_INTEGRITY,
            A::MessageIntegritySha256(_) => AttrType::MESSAGE_INTEGRITY_SHA256,
            A::Fingerprint(_) => AttrType::FINGERPRINT,
            A::ErrorCode(_) => AttrType::ERROR_CODE,
            A::Realm(_) => AttrType::REALM,
            A::Nonce(_) => AttrType::NONCE,
            A::PasswordAlgorithms(_) => AttrType::PASSWORD_ALGORITHMS,
            A::PasswordAlgorithm(_) => AttrType::PASSWORD_ALGORITHM,
            A::UnknownAttributes(_) => AttrType::UNKNOWN_ATTRIBUTES,
            A::Software(_) => AttrType::SOFTWARE,
            A::AlternateServer(_) => AttrType::ALTERNATE_SERVER,
            A::AlternateDomain(_) => AttrType::ALTERNATE_DOMAIN,
            A::Priority(_) => AttrType::PRIORITY,
            A::UseCandidate => AttrType::USE_CANDIDATE,
            A::IceControlled(_) => AttrType::ICE_CONTROLLED,
            A::IceControlling(_) => AttrType::ICE_CONTROLLING,
            A::ChannelNumber(_) => AttrType::CHANNEL_NUMBER,
            A::Lifetime(_) => AttrType::LIFETIME,
            A::XorPeerAddress(_) => AttrType::XOR_PEER_ADDRESS,
            A::Data(_) => AttrType::DATA,
            A::XorRelayedAddress(_) => AttrType::XOR_RELAYED_ADDRESS,
            A::RequestedAddressFamily(_) => AttrType::REQUESTED_ADDRESS_FAMILY,
            A::EvenPort(_) => AttrType::EVEN_PORT,
            A::RequestedTransport(_) => AttrType::REQUESTED_TRANSPORT,
            A::DontFragment => AttrType::DONT_FRAGMENT,
            A::ReservationToken(_) => AttrType::RESERVATION_TOKEN,
            A::AdditionalAddressFamily(_) => AttrType::ADDITIONAL_ADDRESS_FAMILY,
            A::AddressErrorCode { .. } => AttrType::ADDRESS_ERROR_CODE,
            A::Icmp { .. } => AttrType::ICMP,
            A::ChangeRequest { .. } => AttrType::CHANGE_REQUEST,
            A::ResponseOrigin(_) => AttrType::RESPONSE_ORIGIN,
            A::OtherAddress(_) => AttrType::OTHER_ADDRESS,
            A::ResponsePort(_) => AttrType::RESPONSE_PORT,
            A::Padding(_) => AttrType::PADDING,
            A::ConnectionId(_) => AttrType::CONNECTION_ID,
            A::Unknown { ty, .. } => *ty,
        }
    }

    /// Decodes one attribute value (padding already stripped). The dispatch `match` is long by nature.
    pub(crate) fn decode(ty: AttrType, v: &'a [u8], tid: &TransactionId) -> Result<Self, StunError> {
        use Attribute as A;
        let be32 = |v: &[u8]| fixed::<4>(ty, v).map(u32::from_be_bytes);
        Ok(match ty {
            AttrType::MAPPED_ADDRESS => A::MappedAddress(decode_address(ty, v)?),
            AttrType::XOR_MAPPED_ADDRESS => A::XorMappedAddress(decode_xor_address(ty, v, tid)?),
            AttrType::USERNAME => A::Username(text(ty, v)?),
            AttrType::USERHASH => A::UserHash(&v[..fixed::<32>(ty, v)?.len()]),
            AttrType::MESSAGE_INTEGRITY => A::MessageIntegrity(&v[..fixed::<20>(ty, v)?.len()]),
            AttrType::MESSAGE_INTEGRITY_SHA256 => {
                // RFC 8489 §14.6: at least 16 bytes, at most 32, a multiple of 4.
                if !(16..=32).contains(&v.len()) || !v.len().is_multiple_of(4) {
                    return Err(bad(ty, "length must be 16..=32 and a multiple of 4"));
                }
                A::MessageIntegritySha256(v)
            }
            AttrType::FINGERPRINT => A::Fingerprint(be32(v)?),
            AttrType::ERROR_CODE => {
                let (code, reason) = error_code(ty, v)?;
                A::ErrorCode(ErrorCode { code, reason })
            }
            AttrType::REALM => A::Realm(text(ty, v)?),
            AttrType::NONCE => A::Nonce(text(ty, v)?),
            AttrType::PASSWORD_ALGORITHMS => A::PasswordAlgorithms(PasswordAlgorithms::from_wire(ty, v)?),
            AttrType::PASSWORD_ALGORITHM => match AlgorithmParams::decode(ty, v)? {
                (entry, []) => A::PasswordAlgorithm(entry),
                _ => return Err(bad(ty, "bytes after the algorithm entry")),
            },
            AttrType::UNKNOWN_ATTRIBUTES => A::UnknownAttributes(UnknownAttributes::from_wire(ty, v)?),
            AttrType::SOFTWARE => A::Software(text(ty, v)?),
            AttrType::ALTERNATE_SERVER => A::AlternateServer(decode_address(ty, v)?),
            AttrType::ALTERNATE_DOMAIN => A::AlternateDomain(text(ty, v)?),
            AttrType::PRIORITY => A::Priority(be32(v)?),
            AttrType::USE_CANDIDATE => A::UseCandidate.nothing_in(v)?,
            AttrType::ICE_CONTROLLED => A::IceControlled(u64::from_be_bytes(fixed(ty, v)?)),
            AttrType::ICE_CONTROLLING => A::IceControlling(u64::from_be_bytes(fixed(ty, v)?)),
            AttrType::CHANNEL_NUMBER => A::ChannelNumber((be32(v)? >> 16) as u16),
            AttrType::LIFETIME => A::Lifetime(be32(v)?),
            AttrType::XOR_PEER_ADDRESS => A::XorPeerAddress(decode_xor_address(ty, v, tid)?),
            AttrType::DATA => A::Data(v),
            AttrType::XOR_RELAYED_ADDRESS => A::XorRelayedAddress(decode_xor_address(ty, v, tid)?),
            AttrType::REQUESTED_ADDRESS_FAMILY => A::RequestedAddressFamily(family(ty, v)?),
            AttrType::EVEN_PORT => A::EvenPort(fixed::<1>(ty, v)?[0] & 0x80 != 0),
            AttrType::REQUESTED_TRANSPORT => A::RequestedTransport(fixed::<4>(ty, v)?[0]),
            AttrType::DONT_FRAGMENT => A::DontFragment.nothing_in(v)?,
            AttrType::RESERVATION_TOKEN => A::ReservationToken(fixed(ty, v)?),
            AttrType::ADDITIONAL_ADDRESS_FAMILY => A::AdditionalAddressFamily(family(ty, v)?),
            AttrType::ADDRESS_ERROR_CODE => {
                let family = family(ty, v.get(..4).unwrap_or(v))?;
                let (code, reason) = error_code(ty, v)?;
                A::AddressErrorCode { family, code, reason }
            }
            AttrType::ICMP => {
                let [_, _, icmp_type, code, d0, d1, d2, d3] = fixed::<8>(ty, v)?;
                A::Icmp {
                    icmp_type,
                    code,
                    error_data: u32::from_be_bytes([d0, d1, d2, d3]),
                }
            }
            AttrType::CHANGE_REQUEST => {
                let flags = be32(v)?;
                A::ChangeRequest {
                    change_ip: flags & 0x4 != 0,
                    change_port: flags & 0x2 != 0,
                }
            }
            AttrType::RESPONSE_ORIGIN => A::ResponseOrigin(decode_address(ty, v)?),
            AttrType::OTHER_ADDRESS => A::OtherAddress(decode_address(ty, v)?),
            AttrType::RESPONSE_PORT => A::ResponsePort((be32(v)? >> 16) as u16),
            AttrType::PADDING => A::Padding(v),
            AttrType::CONNECTION_ID => A::ConnectionId(be32(v)?),
            _ => A::Unknown { ty, value: v },
        })
    }

    fn nothing_in(self, v: &[u8]) -> Result<Self, StunError> {
        if v.is_empty() {
            Ok(self)
        } else {
            Err(bad(self.attr_type(), "this attribute has no value"))
        }
    }

    /// Appends the value (no header, no padding). Integrity and fingerprint variants are written as
    /// given; the encoder refuses them before calling this.
    pub(crate) fn encode_value(&self, tid: &TransactionId, out: &mut Vec<u8>) -> Result<(), StunError> {
        use Attribute as A;
        match self {
            A::MappedAddress(a) | A::AlternateServer(a) | A::ResponseOrigin(a) | A::OtherAddress(a) => {
                encode_address(a, out)
            }
            A::XorMappedAddress(a) | A::XorPeerAddress(a) | A::XorRelayedAddress(a) => {
                encode_xor_address(a, tid, out)
            }
            A::Username(s) | A::Realm(s) | A::Nonce(s) | A::Software(s) | A::AlternateDomain(s) => {
                out.extend_from_slice(s.as_bytes())
            }
            A::UserHash(b) | A::MessageIntegrity(b) | A::MessageIntegritySha256(b) => {
                out.extend_from_slice(b)
            }
            A::Data(b) | A::Padding(b) | A::Unknown { value: b, .. } => out.extend_from_slice(b),
            A::Fingerprint(v) | A::Priority(v) | A::Lifetime(v) | A::ConnectionId(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            A::ErrorCode(e) => encode_error_code(e.code, e.reason, 0, out)?,
            A::PasswordAlgorithms(list) => list.encode(out)?,
            A::PasswordAlgorithm(entry) => entry.encode(out)?,
            A::UnknownAttributes(list) => list.encode(out),
            A::UseCandidate | A::DontFragment => {}
            A::IceControlled(v) | A::IceControlling(v) => out.extend_from_slice(&v.to_be_bytes()),
            A::ChannelNumber(n) | A::ResponsePort(n) => {
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
            A::RequestedAddressFamily(f) | A::AdditionalAddressFamily(f) => {
                out.extend_from_slice(&[f.code(), 0, 0, 0])
            }
            A::EvenPort(reserve) => out.push(if *reserve { 0x80 } else { 0 }),
            A::RequestedTransport(p) => out.extend_from_slice(&[*p, 0, 0, 0]),
            A::ReservationToken(t) => out.extend_from_slice(t),
            A::AddressErrorCode { family, code, reason } => {
                encode_error_code(*code, reason, family.code(), out)?
            }
            A::Icmp {
                icmp_type,
                code,
                error_data,
            } => {
                out.extend_from_slice(&[0, 0, *icmp_type, *code]);
                out.extend_from_slice(&error_data.to_be_bytes());
            }
            A::ChangeRequest {
                change_ip,
                change_port,
            } => {
                let flags = (u32::from(*change_ip) << 2) | (u32::from(*change_port) << 1);
                out.extend_from_slice(&flags.to_be_bytes());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: TransactionId = TransactionId([7; 12]);

    fn round_trip(a: Attribute<'_>) {
        let mut out = Vec::new();
        a.encode_value(&TID, &mut out).unwrap();
        assert_eq!(
            Attribute::decode(a.attr_type(), &out, &TID).unwrap(),
            a,
            "{out:02x?}"
        );
    }

    #[test]
    fn fixed_values_round_trip() {
        round_trip(Attribute::ErrorCode(ErrorCode {
            code: 487,
            reason: "Role Conflict",
        }));
        round_trip(Attribute::AddressErrorCode {
            family: AddressFamily::V6,
            code: 440,
            reason: "no",
        });
        round_trip(Attribute::Icmp {
            icmp_type: 3,
            code: 4,
            error_data: 1400,
        });
        round_trip(Attribute::ChangeRequest {
            change_ip: true,
            change_port: false,
        });
        round_trip(Attribute::ChannelNumber(0x4001));
        round_trip(Attribute::EvenPort(true));
        round_trip(Attribute::UseCandidate);
        round_trip(Attribute::RequestedTransport(17));
    }

    #[test]
    fn error_code_layout_and_limits() {
        let mut out = Vec::new();
        Attribute::ErrorCode(ErrorCode {
            code: 420,
            reason: "",
        })
        .encode_value(&TID, &mut out)
        .unwrap();
        assert_eq!(out, [0, 0, 4, 20]);
        let t = AttrType::ERROR_CODE;
        assert!(Attribute::decode(t, &[0, 0, 2, 0], &TID).is_err());
        assert!(Attribute::decode(t, &[0, 0, 4, 100], &TID).is_err());
        assert!(Attribute::decode(t, &[0, 0, 4], &TID).is_err());
        assert!(Attribute::decode(t, &[0, 0, 4, 1, 0xff], &TID).is_err());
        let e = Attribute::ErrorCode(ErrorCode {
            code: 200,
            reason: "",
        });
        assert!(e.encode_value(&TID, &mut out).is_err());
    }

    #[test]
    fn wrong_lengths_are_errors() {
        for (ty, len) in [
            (AttrType::PRIORITY, 3),
            (AttrType::ICE_CONTROLLING, 4),
            (AttrType::USE_CANDIDATE, 4),
            (AttrType::MESSAGE_INTEGRITY, 32),
            (AttrType::MESSAGE_INTEGRITY_SHA256, 12),
            (AttrType::MESSAGE_INTEGRITY_SHA256, 18),
            (AttrType::FINGERPRINT, 8),
            (AttrType::USERHASH, 20),
            (AttrType::EVEN_PORT, 4),
        ] {
            assert!(matches!(
                Attribute::decode(ty, &vec![0; len], &TID),
                Err(StunError::BadAttribute { ty: t, .. }) if t == ty
            ));
        }
    }

    #[test]
    fn unknown_type_keeps_raw_value() {
        let a = Attribute::decode(AttrType(0x7777), b"xyz", &TID).unwrap();
        assert_eq!(
            a,
            Attribute::Unknown {
                ty: AttrType(0x7777),
                value: b"xyz"
            }
        );
    }
}
