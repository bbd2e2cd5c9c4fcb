//! The borrowing message parser and its typed getters (RFC 8489 §5, §6.3, §14).

use std::net::SocketAddr;

use crate::attr::ErrorCode;
use crate::types::split_message_type;
use crate::{padded, AttrType, Attribute, Class, Method, StunError, TransactionId, MAGIC_COOKIE};

/// Upper bound on attributes in one message, so parsing and every walk over a message are bounded.
/// Real messages carry about a dozen; a full-size datagram could otherwise hold over 16 000.
pub const MAX_ATTRIBUTES: usize = 64;

/// Length of the fixed STUN header (RFC 8489 §5).
pub const HEADER_LEN: usize = 20;

/// A parsed, framing-validated STUN message borrowing the datagram.
///
/// Attributes are decoded lazily by [`Message::attributes`] and the getters, so a bad value in one
/// attribute does not hide the others. Following RFC 8489 §14.5 and §14.6, attributes that come after
/// MESSAGE-INTEGRITY (other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT) or after
/// MESSAGE-INTEGRITY-SHA256 (other than FINGERPRINT) are *ignored*: their framing is checked, but no
/// accessor returns them and they never count as unknown.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    raw: &'a [u8],
    class: Class,
    method: Method,
    tid: TransactionId,
    /// Offsets of the attribute headers that the integrity code needs.
    pub(crate) integrity: Option<usize>,
    pub(crate) integrity_sha256: Option<usize>,
    fingerprint: Option<usize>,
}

/// One attribute's framing: type, unpadded value and the offset of its header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawAttr<'a> {
    pub(crate) ty: AttrType,
    pub(crate) value: &'a [u8],
    pub(crate) offset: usize,
}

/// Walks the TLVs of an already validated message, skipping the ones RFC 8489 §14.5/§14.6 say to ignore.
#[derive(Clone, Debug)]
struct RawAttrs<'a> {
    raw: &'a [u8],
    offset: usize,
    /// 0: before any integrity attribute; 1: after MESSAGE-INTEGRITY; 2: after MESSAGE-INTEGRITY-SHA256.
    stage: u8,
}

impl<'a> RawAttrs<'a> {
    fn new(raw: &'a [u8]) -> Self {
        RawAttrs {
            raw,
            offset: HEADER_LEN,
            stage: 0,
        }
    }

    /// Next TLV with its visibility, or an error if the framing is broken (only seen during `parse`).
    fn next_framed(&mut self) -> Option<Result<(RawAttr<'a>, bool), StunError>> {
        let offset = self.offset;
        let head = self.raw.get(offset..offset.checked_add(4)?)?;
        let ty = AttrType(u16::from_be_bytes([head[0], head[1]]));
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        // RFC 8489 §14: the value is padded to a multiple of 4; the length excludes the padding.
        let Some(value) = self.raw.get(offset + 4..offset + 4 + len) else {
            self.offset = self.raw.len();
            return Some(Err(StunError::AttributeOverrun { ty, offset }));
        };
        self.offset = offset + 4 + padded(len);
        let visible = match (ty, self.stage) {
            (AttrType::FINGERPRINT, _) => true,
            (AttrType::MESSAGE_INTEGRITY, 0) => {
                self.stage = 1;
                true
            }
            (AttrType::MESSAGE_INTEGRITY_SHA256, 0 | 1) => {
                self.stage = 2;
                true
            }
            (_, stage) => stage == 0,
        };
        Some(Ok((RawAttr { ty, value, offset }, visible)))
    }
}

impl<'a> Iterator for RawAttrs<'a> {
    type Item = RawAttr<'a>;

    fn next(&mut self) -> Option<RawAttr<'a>> {
        loop {
            match self.next_framed()? {
                Ok((attr, true)) => return Some(attr),
                Ok((_, false)) => continue,
                Err(_) => return None,
            }
        }
    }
}

/// Cheap demultiplexing check (RFC 7983 §7: first byte 0..=3; RFC 8489 §5: magic cookie, length a
/// multiple of 4 that matches the datagram). Does not look at attributes. Messages whose method sets
/// bits above 0x07F do not fit the RFC 7983 range and are not claimed; [`Message::parse`] still takes them.
pub fn is_stun(buf: &[u8]) -> bool {
    match buf {
        [b0, _, l0, l1, c0, c1, c2, c3, ..] if buf.len() >= HEADER_LEN => {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            *b0 <= 3
                && u32::from_be_bytes([*c0, *c1, *c2, *c3]) == MAGIC_COOKIE
                && len % 4 == 0
                && len + HEADER_LEN == buf.len()
        }
        _ => false,
    }
}

impl<'a> Message<'a> {
    /// Parses and validates a whole datagram as one STUN message.
    ///
    /// Checks the header (top two bits zero, magic cookie, length a multiple of 4 equal to
    /// `buf.len() - 20`; trailing bytes are rejected), the TLV framing of every attribute (none may run
    /// past the end; padding bytes may hold any value, RFC 8489 §14), at most [`MAX_ATTRIBUTES`]
    /// attributes, and FINGERPRINT if present (it must be last and match, RFC 8489 §14.7).
    /// Attribute *values* are checked lazily. Never panics.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, StunError> {
        let header: &[u8; HEADER_LEN] =
            buf.get(..HEADER_LEN)
                .and_then(|h| h.try_into().ok())
                .ok_or(StunError::Truncated {
                    needed: HEADER_LEN,
                    available: buf.len(),
                })?;
        let ty = u16::from_be_bytes([header[0], header[1]]);
        if ty & 0xC000 != 0 {
            return Err(StunError::BadHeader);
        }
        let length = u16::from_be_bytes([header[2], header[3]]);
        let cookie = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        if cookie != MAGIC_COOKIE {
            return Err(StunError::BadMagicCookie(cookie));
        }
        if !length.is_multiple_of(4) {
            return Err(StunError::BadLength(length));
        }
        let end = HEADER_LEN + usize::from(length);
        match buf.len() {
            n if n < end => {
                return Err(StunError::Truncated {
                    needed: end,
                    available: n,
                })
            }
            n if n > end => return Err(StunError::TrailingBytes(n - end)),
            _ => {}
        }
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&header[8..]);
        let (class, method) = split_message_type(ty);
        let mut msg = Message {
            raw: buf,
            class,
            method,
            tid: TransactionId(tid),
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
        };
        msg.frame_attributes()?;
        if let Some(offset) = msg.fingerprint {
            crate::integrity::check_fingerprint(buf, offset)?;
        }
        Ok(msg)
    }

    fn frame_attributes(&mut self) -> Result<(), StunError> {
        let mut walk = RawAttrs::new(self.raw);
        let mut count = 0;
        while let Some(item) = walk.next_framed() {
            let (attr, visible) = item?;
            count += 1;
            if count > MAX_ATTRIBUTES {
                return Err(StunError::TooManyAttributes(MAX_ATTRIBUTES));
            }
            match attr.ty {
                AttrType::FINGERPRINT if walk.offset != self.raw.len() => {
                    return Err(StunError::FingerprintNotLast)
                }
                AttrType::FINGERPRINT => self.fingerprint = Some(attr.offset),
                AttrType::MESSAGE_INTEGRITY if visible => self.integrity = Some(attr.offset),
                AttrType::MESSAGE_INTEGRITY_SHA256 if visible => self.integrity_sha256 = Some(attr.offset),
                _ => {}
            }
        }
        Ok(())
    }

    /// The message class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The message method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// The whole datagram.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub(crate) fn raw_attributes(&self) -> impl Iterator<Item = RawAttr<'a>> + 'a {
        RawAttrs::new(self.raw)
    }

    /// All attributes that count, in order, decoded; a malformed value yields `Err` for that item only.
    pub fn attributes(&self) -> impl Iterator<Item = Result<Attribute<'a>, StunError>> + '_ {
        self.raw_attributes()
            .map(|a| Attribute::decode(a.ty, a.value, &self.tid))
    }

    /// The first attribute of type `ty`, decoded.
    pub fn attribute(&self, ty: AttrType) -> Option<Result<Attribute<'a>, StunError>> {
        let a = self.raw_attributes().find(|a| a.ty == ty)?;
        Some(Attribute::decode(a.ty, a.value, &self.tid))
    }

    fn get(&self, ty: AttrType) -> Option<Attribute<'a>> {
        self.attribute(ty)?.ok()
    }

    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    pub fn xor_mapped_address(&self) -> Option<SocketAddr> {
        match self.get(AttrType::XOR_MAPPED_ADDRESS)? {
            Attribute::XorMappedAddress(a) => Some(a),
            _ => None,
        }
    }

    /// MAPPED-ADDRESS (RFC 8489 §14.1).
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        match self.get(AttrType::MAPPED_ADDRESS)? {
            Attribute::MappedAddress(a) => Some(a),
            _ => None,
        }
    }

    /// USERNAME (RFC 8489 §14.3).
    pub fn username(&self) -> Option<&'a str> {
        match self.get(AttrType::USERNAME)? {
            Attribute::Username(s) => Some(s),
            _ => None,
        }
    }

    /// REALM (RFC 8489 §14.9).
    pub fn realm(&self) -> Option<&'a str> {
        match self.get(AttrType::REALM)? {
            Attribute::Realm(s) => Some(s),
            _ => None,
        }
    }

    /// NONCE (RFC 8489 §14.10).
    pub fn nonce(&self) -> Option<&'a str> {
        match self.get(AttrType::NONCE)? {
            Attribute::Nonce(s) => Some(s),
            _ => None,
        }
    }

    /// SOFTWARE (RFC 8489 §14.14).
    pub fn software(&self) -> Option<&'a str> {
        match self.get(AttrType::SOFTWARE)? {
            Attribute::Software(s) => Some(s),
            _ => None,
        }
    }

    /// PRIORITY (RFC 8445 §7.1.1).
    pub fn priority(&self) -> Option<u32> {
        match self.get(AttrType::PRIORITY)? {
            Attribute::Priority(p) => Some(p),
            _ => None,
        }
    }

    /// True if a well-formed USE-CANDIDATE is present (RFC 8445 §7.1.2).
    pub fn use_candidate(&self) -> bool {
        matches!(self.get(AttrType::USE_CANDIDATE), Some(Attribute::UseCandidate))
    }

    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).
    pub fn ice_controlling(&self) -> Option<u64> {
        match self.get(AttrType::ICE_CONTROLLING)? {
            Attribute::IceControlling(t) => Some(t),
            _ => None,
        }
    }

    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).
    pub fn ice_controlled(&self) -> Option<u64> {
        match self.get(AttrType::ICE_CONTROLLED)? {
            Attribute::IceControlled(t) => Some(t),
            _ => None,
        }
    }

    /// ERROR-CODE (RFC 8489 §14.8).
    pub fn error_code(&self) -> Option<ErrorCode<'a>> {
        match self.get(AttrType::ERROR_CODE)? {
            Attribute::ErrorCode(e) => Some(e),
            _ => None,
        }
    }

    /// LIFETIME (RFC 8656 §18.2).
    pub fn lifetime(&self) -> Option<u32> {
        match self.get(AttrType::LIFETIME)? {
            Attribute::Lifetime(l) => Some(l),
            _ => None,
        }
    }

    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    pub fn xor_relayed_address(&self) -> Option<SocketAddr> {
        match self.get(AttrType::XOR_RELAYED_ADDRESS)? {
            Attribute::XorRelayedAddress(a) => Some(a),
            _ => None,
        }
    }

    /// XOR-PEER-ADDRESS (RFC 8656 §18.3); the first one if several are present.
    pub fn xor_peer_address(&self) -> Option<SocketAddr> {
        match self.get(AttrType::XOR_PEER_ADDRESS)? {
            Attribute::XorPeerAddress(a) => Some(a),
            _ => None,
        }
    }

    /// DATA (RFC 8656 §18.4).
    pub fn data(&self) -> Option<&'a [u8]> {
        match self.get(AttrType::DATA)? {
            Attribute::Data(d) => Some(d),
            _ => None,
        }
    }

    /// OTHER-ADDRESS (RFC 5780 §7.4).
    pub fn other_address(&self) -> Option<SocketAddr> {
        match self.get(AttrType::OTHER_ADDRESS)? {
            Attribute::OtherAddress(a) => Some(a),
            _ => None,
        }
    }

    /// RESPONSE-ORIGIN (RFC 5780 §7.3).
    pub fn response_origin(&self) -> Option<SocketAddr> {
        match self.get(AttrType::RESPONSE_ORIGIN)? {
            Attribute::ResponseOrigin(a) => Some(a),
            _ => None,
        }
    }

    /// True if MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 is present (not verified).
    pub fn has_message_integrity(&self) -> bool {
        self.integrity.is_some() || self.integrity_sha256.is_some()
    }

    /// True if a (verified) FINGERPRINT is present.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// Comprehension-required types (< 0x8000) this codec does not know, each once, in order of
    /// appearance (RFC 8489 §6.3.1: the caller answers a request with 420 and UNKNOWN-ATTRIBUTES).
    /// At most [`MAX_ATTRIBUTES`] entries.
    pub fn unknown_comprehension_required(&self) -> Vec<AttrType> {
        let mut unknown = Vec::new();
        for a in self.raw_attributes() {
            if a.ty.is_comprehension_required() && !a.ty.is_known() && !unknown.contains(&a.ty) {
                unknown.push(a.ty);
            }
        }
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a raw message by hand so tests can produce framing an encoder never would.
    fn raw(class_method: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&class_method.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&[9; 12]);
        for (ty, v) in attrs {
            out.extend_from_slice(&ty.to_be_bytes());
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
            out.extend_from_slice(v);
            out.resize(out.len() + padded(v.len()) - v.len(), 0);
        }
        let len = (out.len() - HEADER_LEN) as u16;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        out
    }

    #[test]
    fn minimal_binding_request() {
        let buf = raw(0x0001, &[]);
        assert!(is_stun(&buf));
        let m = Message::parse(&buf).unwrap();
        assert_eq!((m.class(), m.method()), (Class::Request, Method::BINDING));
        assert_eq!(m.transaction_id(), TransactionId([9; 12]));
        assert_eq!(m.attributes().count(), 0);
        assert!(!m.has_message_integrity() && !m.has_fingerprint());
    }

    #[test]
    fn truncated_inputs() {
        let buf = raw(0x0001, &[(0x0024, &[0, 0, 0, 1])]);
        for n in 0..buf.len() {
            assert!(
                matches!(Message::parse(&buf[..n]), Err(StunError::Truncated { .. })),
                "prefix of {n} bytes"
            );
            assert!(!is_stun(&buf[..n]));
        }
    }

    #[test]
    fn header_errors() {
        let mut buf = raw(0x0001, &[]);
        buf[0] = 0x40;
        assert_eq!(Message::parse(&buf).unwrap_err(), StunError::BadHeader);
        let mut buf = raw(0x0001, &[]);
        buf[4] = 0x22;
        assert!(matches!(Message::parse(&buf), Err(StunError::BadMagicCookie(_))));
        let mut buf = raw(0x0001, &[]);
        buf[3] = 2;
        buf.extend_from_slice(&[0, 0]);
        assert_eq!(Message::parse(&buf).unwrap_err(), StunError::BadLength(2));
        let mut buf = raw(0x0001, &[]);
        buf.extend_from_slice(&[0; 4]);
        assert_eq!(Message::parse(&buf).unwrap_err(), StunError::TrailingBytes(4));
    }

    #[test]
    fn attribute_overrun_is_rejected() {
        // PRIORITY claims 8 bytes but the message ends after 4.
        let mut buf = raw(0x0001, &[(0x0024, &[0, 0, 0, 1])]);
        buf[22..24].copy_from_slice(&8u16.to_be_bytes());
        assert!(matches!(
            Message::parse(&buf),
            Err(StunError::AttributeOverrun {
                ty: AttrType::PRIORITY,
                offset: 20
            })
        ));
        // Value fits but its padding would not: length 5 in an 8-byte body whose header says 8.
        let mut buf = raw(0x0001, &[(0x0006, b"abcd")]);
        buf[22..24].copy_from_slice(&5u16.to_be_bytes());
        assert!(Message::parse(&buf).is_err());
    }

    #[test]
    fn padding_bytes_may_be_anything() {
        let mut buf = raw(0x0001, &[(0x0006, b"abc"), (0x0024, &[0, 0, 0, 5])]);
        buf[27] = 0xEE;
        let m = Message::parse(&buf).unwrap();
        assert_eq!(m.username(), Some("abc"));
        assert_eq!(m.priority(), Some(5));
    }

    #[test]
    fn attribute_cap() {
        let attrs: Vec<(u16, &[u8])> = (0..MAX_ATTRIBUTES).map(|_| (0x0025u16, &[][..])).collect();
        assert!(Message::parse(&raw(0x0001, &attrs)).is_ok());
        let attrs: Vec<(u16, &[u8])> = (0..=MAX_ATTRIBUTES).map(|_| (0x0025u16, &[][..])).collect();
        assert_eq!(
            Message::parse(&raw(0x0001, &attrs)).unwrap_err(),
            StunError::TooManyAttributes(MAX_ATTRIBUTES)
        );
    }

    #[test]
    fn unknown_comprehension_required_reported_once() {
        let buf = raw(
            0x0001,
            &[
                (0x7001, b"x"),
                (0x8fff, b"opt"),
                (0x0024, &[0, 0, 0, 1]),
                (0x7001, b""),
                (0x0002, b""),
            ],
        );
        let m = Message::parse(&buf).unwrap();
        assert_eq!(
            m.unknown_comprehension_required(),
            vec![AttrType(0x7001), AttrType(0x0002)]
        );
        assert_eq!(m.priority(), Some(1));
        assert!(matches!(
            m.attribute(AttrType(0x8fff)),
            Some(Ok(Attribute::Unknown { .. }))
        ));
    }

    #[test]
    fn malformed_value_fails_only_that_attribute() {
        let buf = raw(0x0001, &[(0x0024, &[0, 1]), (0x0006, b"user")]);
        let m = Message::parse(&buf).unwrap();
        let items: Vec<_> = m.attributes().collect();
        assert!(items[0].is_err());
        assert_eq!(items[1], Ok(Attribute::Username("user")));
        assert_eq!(m.priority(), None);
        // Invalid UTF-8 in USERNAME.
        let buf = raw(0x0001, &[(0x0006, &[0xff, 0xfe])]);
        assert_eq!(Message::parse(&buf).unwrap().username(), None);
    }

    #[test]
    fn attributes_after_integrity_are_ignored() {
        let buf = raw(
            0x0001,
            &[
                (0x0006, b"u"),
                (0x0008, &[0; 20]),
                (0x0024, &[0, 0, 0, 7]),
                (0x7001, b""),
                (0x001C, &[0; 32]),
            ],
        );
        let m = Message::parse(&buf).unwrap();
        assert_eq!(m.priority(), None);
        assert!(m.unknown_comprehension_required().is_empty());
        let types: Vec<_> = m.attributes().map(|a| a.unwrap().attr_type()).collect();
        assert_eq!(
            types,
            [
                AttrType::USERNAME,
                AttrType::MESSAGE_INTEGRITY,
                AttrType::MESSAGE_INTEGRITY_SHA256
            ]
        );
    }

    #[test]
    fn fingerprint_must_be_last() {
        let buf = raw(0x0001, &[(0x8028, &[0; 4]), (0x0024, &[0, 0, 0, 1])]);
        assert_eq!(Message::parse(&buf).unwrap_err(), StunError::FingerprintNotLast);
    }

    #[test]
    fn typed_getters_read_turn_and_nat_attributes() {
        use crate::{ErrorCode, MessageEncoder};
        let relayed: SocketAddr = "[2001:db8::7]:50000".parse().unwrap();
        let peer: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Error, Method::ALLOCATE, TransactionId([4; 12]));
        enc.add(&Attribute::ErrorCode(ErrorCode {
            code: ErrorCode::STALE_NONCE,
            reason: "Stale Nonce",
        }))
        .add(&Attribute::Realm("example.org"))
        .add(&Attribute::Nonce("n0nce"))
        .add(&Attribute::Software("oxirtc"))
        .add(&Attribute::Lifetime(600))
        .add(&Attribute::XorRelayedAddress(relayed))
        .add(&Attribute::XorPeerAddress(peer))
        .add(&Attribute::Data(b"hello"))
        .add(&Attribute::MappedAddress(peer))
        .add(&Attribute::OtherAddress(relayed))
        .add(&Attribute::ResponseOrigin(peer))
        .add(&Attribute::IceControlling(42));
        enc.finish();
        let m = Message::parse(&out).unwrap();
        assert_eq!((m.class(), m.method()), (Class::Error, Method::ALLOCATE));
        assert_eq!(
            m.error_code(),
            Some(ErrorCode {
                code: 438,
                reason: "Stale Nonce"
            })
        );
        assert_eq!(
            (m.realm(), m.nonce(), m.software()),
            (Some("example.org"), Some("n0nce"), Some("oxirtc"))
        );
        assert_eq!(m.lifetime(), Some(600));
        assert_eq!(m.xor_relayed_address(), Some(relayed));
        assert_eq!(m.xor_peer_address(), Some(peer));
        assert_eq!(m.data(), Some(&b"hello"[..]));
        assert_eq!(m.mapped_address(), Some(peer));
        assert_eq!(m.other_address(), Some(relayed));
        assert_eq!(m.response_origin(), Some(peer));
        assert_eq!((m.ice_controlling(), m.ice_controlled()), (Some(42), None));
        assert_eq!(
            (m.xor_mapped_address(), m.username(), m.priority()),
            (None, None, None)
        );
        assert!(!m.use_candidate());
    }

    #[test]
    fn is_stun_rejects_other_protocols() {
        let mut buf = raw(0x0001, &[]);
        assert!(is_stun(&buf));
        buf[0] = 20; // DTLS content type range (RFC 7983)
        assert!(!is_stun(&buf));
        assert!(!is_stun(&[0x80; 40])); // RTP
    }
}
