//! The appending message encoder (RFC 8489 §5, §14).

use oxirtc_crypto::CryptoProvider;

use crate::integrity::{adjusted_header, fingerprint};
use crate::message::HEADER_LEN;
use crate::types::message_type;
use crate::{padded, AttrType, Attribute, Class, Method, StunError, TransactionId, MAGIC_COOKIE};

/// Largest body a 16-bit, 4-aligned length field can describe.
const MAX_BODY: usize = 0xFFFC;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    Open,
    AfterIntegrity,
    AfterIntegritySha256,
    AfterFingerprint,
}

/// Writes one STUN message into the caller's `Vec`, keeping the header length current.
///
/// Attributes are appended in call order and padded to 4 bytes. Add MESSAGE-INTEGRITY,
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT with their own methods, last and in that order; passing
/// them to [`add`](Self::add) is misuse. Misuse (e.g. a value longer than 65535 bytes, an error code
/// outside 300..=699, attributes after the integrity attributes) leaves the offending attribute out
/// and is reported by [`try_finish`](Self::try_finish); [`finish`](Self::finish) debug-asserts it
/// did not happen.
///
/// The header length is correct after every call, so `finish` is optional; it takes `self`, so a
/// chain of `add` calls (which return `&mut Self`) ends without it, as in the crate example.
#[derive(Debug)]
pub struct MessageEncoder<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    tid: TransactionId,
    padding: u8,
    stage: Stage,
    error: Option<StunError>,
}

impl<'b> MessageEncoder<'b> {
    /// Starts a message at the end of `out` (existing contents are kept).
    pub fn new(out: &'b mut Vec<u8>, class: Class, method: Method, tid: TransactionId) -> Self {
        let start = out.len();
        // RFC 8489 §5: type, length (0 so far), magic cookie, transaction ID.
        out.extend_from_slice(&message_type(class, method).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&tid.0);
        let error = (method.0 > 0x0FFF).then_some(StunError::Misuse("method wider than 12 bits"));
        MessageEncoder {
            out,
            start,
            tid,
            padding: 0,
            stage: Stage::Open,
            error,
        }
    }

    /// Byte used to fill attribute padding (default 0). RFC 8489 §14 lets padding hold any value;
    /// this exists to reproduce vectors such as RFC 5769, which pad with spaces.
    pub fn padding_byte(&mut self, byte: u8) -> &mut Self {
        self.padding = byte;
        self
    }

    fn fail(&mut self, error: StunError) {
        tracing::debug!(%error, "STUN encoder misuse");
        self.error.get_or_insert(error);
    }

    fn body_len(&self) -> usize {
        self.out.len() - self.start - HEADER_LEN
    }

    fn set_length(&mut self, body: usize) {
        let at = self.start + 2;
        self.out[at..at + 2].copy_from_slice(&(body as u16).to_be_bytes());
    }

    /// Appends one attribute (XOR'd addresses use this message's transaction ID).
    ///
    /// `MessageIntegrity`, `MessageIntegritySha256` and `Fingerprint` must not be passed here (debug
    /// assertion; in release they are refused and reported by `try_finish`).
    pub fn add(&mut self, attr: &Attribute<'_>) -> &mut Self {
        if matches!(
            attr,
            Attribute::MessageIntegrity(_) | Attribute::MessageIntegritySha256(_) | Attribute::Fingerprint(_)
        ) {
            debug_assert!(false, "use add_message_integrity*/add_fingerprint, not add()");
            self.fail(StunError::Misuse(
                "integrity and fingerprint have their own methods",
            ));
            return self;
        }
        if self.stage != Stage::Open {
            self.fail(StunError::Misuse(
                "attribute added after MESSAGE-INTEGRITY or FINGERPRINT",
            ));
            return self;
        }
        let header_at = self.out.len();
        self.out.extend_from_slice(&attr.attr_type().0.to_be_bytes());
        self.out.extend_from_slice(&[0, 0]);
        let written = attr.encode_value(&self.tid, self.out);
        let value_len = self.out.len() - header_at - 4;
        let result = match written {
            Ok(()) if value_len > usize::from(u16::MAX) => Err(StunError::Misuse("attribute value too long")),
            Ok(()) if self.body_len() + padded(value_len) - value_len > MAX_BODY => {
                Err(StunError::Misuse("message longer than 65532 bytes"))
            }
            other => other,
        };
        if let Err(e) = result {
            self.out.truncate(header_at);
            self.fail(e);
            return self;
        }
        self.out[header_at + 2..header_at + 4].copy_from_slice(&(value_len as u16).to_be_bytes());
        let pad = padded(value_len) - value_len;
        self.out.resize(self.out.len() + pad, self.padding);
        self.set_length(self.body_len());
        self
    }

    /// Appends a MAC attribute computed over the message so far, with the header length covering it.
    fn add_mac(&mut self, ty: AttrType, mac_len: usize, mac: impl FnOnce(&[&[u8]]) -> Vec<u8>) {
        if self.body_len() + 4 + mac_len > MAX_BODY {
            self.fail(StunError::Misuse("message longer than 65532 bytes"));
            return;
        }
        let msg = &self.out[self.start..];
        // RFC 8489 §14.5: the length field must already count the integrity attribute.
        let header = adjusted_header(msg, msg.len(), mac_len);
        let value = mac(&[&header, &msg[HEADER_LEN..]]);
        self.out.extend_from_slice(&ty.0.to_be_bytes());
        self.out.extend_from_slice(&(mac_len as u16).to_be_bytes());
        self.out.extend_from_slice(&value);
        self.set_length(self.body_len());
    }

    /// Appends MESSAGE-INTEGRITY, HMAC-SHA1 with `key` (RFC 8489 §14.5).
    pub fn add_message_integrity(&mut self, crypto: &dyn CryptoProvider, key: &[u8]) -> &mut Self {
        if self.stage != Stage::Open {
            self.fail(StunError::Misuse(
                "MESSAGE-INTEGRITY added twice or after FINGERPRINT",
            ));
            return self;
        }
        self.add_mac(AttrType::MESSAGE_INTEGRITY, 20, |parts| {
            crypto.hmac_sha1(key, parts).to_vec()
        });
        self.stage = Stage::AfterIntegrity;
        self
    }

    /// Appends MESSAGE-INTEGRITY-SHA256, the full 32-byte HMAC-SHA256 with `key` (RFC 8489 §14.6).
    pub fn add_message_integrity_sha256(&mut self, crypto: &dyn CryptoProvider, key: &[u8]) -> &mut Self {
        if self.stage > Stage::AfterIntegrity {
            self.fail(StunError::Misuse(
                "MESSAGE-INTEGRITY-SHA256 added twice or after FINGERPRINT",
            ));
            return self;
        }
        self.add_mac(AttrType::MESSAGE_INTEGRITY_SHA256, 32, |parts| {
            crypto.hmac_sha256(key, parts).to_vec()
        });
        self.stage = Stage::AfterIntegritySha256;
        self
    }

    /// Appends FINGERPRINT (RFC 8489 §14.7); it must be the last attribute.
    pub fn add_fingerprint(&mut self) -> &mut Self {
        if self.stage == Stage::AfterFingerprint || self.body_len() + 8 > MAX_BODY {
            self.fail(StunError::Misuse("FINGERPRINT added twice or message too long"));
            return self;
        }
        let body = self.body_len() + 8;
        self.set_length(body);
        let crc = fingerprint(&self.out[self.start..]);
        self.out.extend_from_slice(&AttrType::FINGERPRINT.0.to_be_bytes());
        self.out.extend_from_slice(&4u16.to_be_bytes());
        self.out.extend_from_slice(&crc.to_be_bytes());
        self.stage = Stage::AfterFingerprint;
        self
    }

    /// Ends the message; returns the bytes written for it. Debug-asserts that no misuse occurred.
    pub fn finish(self) -> usize {
        debug_assert!(self.error.is_none(), "STUN encoder misuse: {:?}", self.error);
        self.out.len() - self.start
    }

    /// Ends the message; returns the bytes written, or the first misuse (the message is still well
    /// formed, minus the rejected attributes).
    pub fn try_finish(self) -> Result<usize, StunError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out.len() - self.start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorCode, Message};
    use oxirtc_crypto::default_provider;

    const TID: TransactionId = TransactionId([3; 12]);

    #[test]
    fn appends_after_existing_bytes_and_keeps_length() {
        let mut out = b"prefix".to_vec();
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TID);
        enc.add(&Attribute::Username("abcde"))
            .add(&Attribute::UseCandidate);
        let n = enc.finish();
        assert_eq!(n, 20 + 12 + 4);
        assert_eq!(&out[..6], b"prefix");
        let m = Message::parse(&out[6..]).unwrap();
        assert_eq!(m.username(), Some("abcde"));
        assert!(m.use_candidate());
        assert_eq!(&out[6 + 20 + 9..6 + 20 + 12], &[0, 0, 0]); // zero padding by default
    }

    #[test]
    fn integrity_sha256_after_sha1_and_fingerprint_verify() {
        let crypto = default_provider();
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Success, Method::BINDING, TID);
        enc.add(&Attribute::XorMappedAddress("1.2.3.4:5".parse().unwrap()))
            .add_message_integrity(crypto, b"key")
            .add_message_integrity_sha256(crypto, b"key")
            .add_fingerprint();
        enc.finish();
        let m = Message::parse(&out).unwrap();
        assert!(m.has_fingerprint());
        assert_eq!(m.verify_integrity(crypto, b"key"), Ok(()));
        assert_eq!(
            m.verify_integrity(crypto, b"nope"),
            Err(StunError::IntegrityMismatch)
        );
    }

    #[test]
    fn misuse_is_reported_and_message_stays_valid() {
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Error, Method::BINDING, TID);
        enc.add(&Attribute::ErrorCode(ErrorCode {
            code: 99,
            reason: "x",
        }));
        assert_eq!(
            enc.try_finish(),
            Err(StunError::Misuse("error code outside 300..=699"))
        );
        assert_eq!(Message::parse(&out).unwrap().attributes().count(), 0);

        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TID);
        enc.add_fingerprint().add(&Attribute::Priority(1));
        assert!(enc.try_finish().is_err());
        assert!(Message::parse(&out).is_ok());

        let big = vec![0u8; 70_000];
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Indication, Method::SEND, TID);
        enc.add(&Attribute::Data(&big));
        assert!(enc.try_finish().is_err());
        assert_eq!(out.len(), 20);
    }

    #[test]
    fn largest_message_fits() {
        let big = vec![0u8; MAX_BODY - 4];
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Indication, Method::SEND, TID);
        enc.add(&Attribute::Data(&big));
        assert_eq!(enc.try_finish(), Ok(20 + MAX_BODY));
        assert_eq!(
            Message::parse(&out).unwrap().data().map(<[u8]>::len),
            Some(MAX_BODY - 4)
        );
    }
}
