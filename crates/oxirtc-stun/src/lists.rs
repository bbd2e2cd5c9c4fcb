//! List-valued attributes: UNKNOWN-ATTRIBUTES (RFC 8489 §14.13) and PASSWORD-ALGORITHM(S) (§14.11, §14.12).
//!
//! Parsed lists are views over the datagram (no allocation); lists built for encoding borrow the caller's
//! slice. Both compare equal when they hold the same items.

use crate::{AttrType, StunError};

/// A long-term password algorithm this crate can derive keys for (RFC 8489 §18.5.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PasswordAlgorithm {
    /// MD5 (0x0001), the legacy default when no PASSWORD-ALGORITHM is sent (§18.5.1.1).
    Md5,
    /// SHA-256 (0x0002) (§18.5.1.2).
    Sha256,
}

impl PasswordAlgorithm {
    /// The registry number.
    pub fn code(self) -> u16 {
        match self {
            PasswordAlgorithm::Md5 => 0x0001,
            PasswordAlgorithm::Sha256 => 0x0002,
        }
    }

    /// The algorithm for a registry number, if this crate knows it.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0x0001 => Some(PasswordAlgorithm::Md5),
            0x0002 => Some(PasswordAlgorithm::Sha256),
            _ => None,
        }
    }
}

/// One algorithm entry: number plus its (possibly empty) parameters (RFC 8489 §14.12).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AlgorithmParams<'a> {
    /// The registry number (see [`PasswordAlgorithm::code`]).
    pub algorithm: u16,
    /// The algorithm's parameters, without padding (empty for MD5 and SHA-256).
    pub params: &'a [u8],
}

impl AlgorithmParams<'static> {
    /// An entry for a known algorithm (both defined ones take no parameters).
    pub fn known(alg: PasswordAlgorithm) -> Self {
        AlgorithmParams {
            algorithm: alg.code(),
            params: &[],
        }
    }
}

impl AlgorithmParams<'_> {
    /// The algorithm, if this crate knows it.
    pub fn password_algorithm(&self) -> Option<PasswordAlgorithm> {
        PasswordAlgorithm::from_code(self.algorithm)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), StunError> {
        let len = u16::try_from(self.params.len())
            .map_err(|_| StunError::Misuse("password algorithm parameters longer than 65535 bytes"))?;
        out.extend_from_slice(&self.algorithm.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.params);
        out.resize(
            out.len() + crate::padded(self.params.len()) - self.params.len(),
            0,
        );
        Ok(())
    }

    /// Splits one entry off the front of `buf`; returns it and the rest.
    pub(crate) fn decode(ty: AttrType, buf: &[u8]) -> Result<(AlgorithmParams<'_>, &[u8]), StunError> {
        let bad = |reason| StunError::BadAttribute { ty, reason };
        let (head, rest) = buf
            .split_at_checked(4)
            .ok_or(bad("algorithm entry shorter than 4 bytes"))?;
        let algorithm = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let params = rest
            .get(..len)
            .ok_or(bad("algorithm parameters run past the attribute"))?;
        // RFC 8489 §14.12: parameters are padded to 32 bits; the last entry may omit trailing padding.
        let rest = rest.get(crate::padded(len)..).unwrap_or(&[]);
        Ok((AlgorithmParams { algorithm, params }, rest))
    }
}

#[derive(Clone, Copy, Debug)]
enum Repr<'a, T> {
    Wire(&'a [u8]),
    Items(&'a [T]),
}

/// The value of PASSWORD-ALGORITHMS: an ordered list of algorithm entries (RFC 8489 §14.11).
#[derive(Clone, Copy, Debug)]
pub struct PasswordAlgorithms<'a>(Repr<'a, AlgorithmParams<'a>>);

impl<'a> PasswordAlgorithms<'a> {
    /// A list to encode, borrowing the caller's entries.
    pub fn new(items: &'a [AlgorithmParams<'a>]) -> Self {
        Self(Repr::Items(items))
    }

    /// Validates a received value (every entry well-formed) and wraps it.
    pub(crate) fn from_wire(ty: AttrType, mut value: &'a [u8]) -> Result<Self, StunError> {
        let all = value;
        while !value.is_empty() {
            value = AlgorithmParams::decode(ty, value)?.1;
        }
        Ok(Self(Repr::Wire(all)))
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = AlgorithmParams<'a>> + 'a {
        let (mut wire, items) = match self.0 {
            Repr::Wire(w) => (w, &[][..]),
            Repr::Items(i) => (&[][..], i),
        };
        let from_wire = std::iter::from_fn(move || {
            let (entry, rest) = AlgorithmParams::decode(AttrType::PASSWORD_ALGORITHMS, wire).ok()?;
            wire = rest;
            Some(entry)
        });
        from_wire.chain(items.iter().copied())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), StunError> {
        match self.0 {
            Repr::Wire(w) => out.extend_from_slice(w),
            Repr::Items(items) => {
                for entry in items {
                    entry.encode(out)?;
                }
            }
        }
        Ok(())
    }
}

impl PartialEq for PasswordAlgorithms<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for PasswordAlgorithms<'_> {}

/// The value of UNKNOWN-ATTRIBUTES: the comprehension-required types a server did not understand
/// (RFC 8489 §14.13).
#[derive(Clone, Copy, Debug)]
pub struct UnknownAttributes<'a>(Repr<'a, AttrType>);

impl<'a> UnknownAttributes<'a> {
    /// A list to encode, e.g. from [`crate::Message::unknown_comprehension_required`].
    pub fn new(types: &'a [AttrType]) -> Self {
        Self(Repr::Items(types))
    }

    pub(crate) fn from_wire(ty: AttrType, value: &'a [u8]) -> Result<Self, StunError> {
        if !value.len().is_multiple_of(2) {
            return Err(StunError::BadAttribute {
                ty,
                reason: "odd length for a list of 16-bit types",
            });
        }
        Ok(Self(Repr::Wire(value)))
    }

    /// The attribute types in order.
    pub fn iter(&self) -> impl Iterator<Item = AttrType> + 'a {
        let (wire, items) = match self.0 {
            Repr::Wire(w) => (w, &[][..]),
            Repr::Items(i) => (&[][..], i),
        };
        wire.chunks_exact(2)
            .map(|c| AttrType(u16::from_be_bytes([c[0], c[1]])))
            .chain(items.iter().copied())
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        self.iter()
            .for_each(|t| out.extend_from_slice(&t.0.to_be_bytes()));
    }
}

impl PartialEq for UnknownAttributes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for UnknownAttributes<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_algorithms_wire_and_items_agree() {
        let items = [
            AlgorithmParams::known(PasswordAlgorithm::Sha256),
            AlgorithmParams {
                algorithm: 0x8001,
                params: b"abc",
            },
            AlgorithmParams::known(PasswordAlgorithm::Md5),
        ];
        let list = PasswordAlgorithms::new(&items);
        let mut out = Vec::new();
        list.encode(&mut out).unwrap();
        assert_eq!(out.len(), 4 + 8 + 4);
        let parsed = PasswordAlgorithms::from_wire(AttrType::PASSWORD_ALGORITHMS, &out).unwrap();
        assert_eq!(parsed, list);
        assert_eq!(parsed.iter().nth(1).unwrap().params, b"abc");
        assert_eq!(
            parsed.iter().next().unwrap().password_algorithm(),
            Some(PasswordAlgorithm::Sha256)
        );
    }

    #[test]
    fn password_algorithms_reject_overrun() {
        let t = AttrType::PASSWORD_ALGORITHMS;
        assert!(PasswordAlgorithms::from_wire(t, &[0, 1, 0]).is_err());
        assert!(PasswordAlgorithms::from_wire(t, &[0, 1, 0, 5, 1, 2, 3, 4]).is_err());
        assert!(PasswordAlgorithms::from_wire(t, &[]).is_ok());
    }

    #[test]
    fn unknown_attributes() {
        let types = [AttrType(0x7000), AttrType(0x0042)];
        let mut out = Vec::new();
        UnknownAttributes::new(&types).encode(&mut out);
        assert_eq!(out, [0x70, 0x00, 0x00, 0x42]);
        let parsed = UnknownAttributes::from_wire(AttrType::UNKNOWN_ATTRIBUTES, &out).unwrap();
        assert_eq!(parsed, UnknownAttributes::new(&types));
        assert!(UnknownAttributes::from_wire(AttrType::UNKNOWN_ATTRIBUTES, &[1, 2, 3]).is_err());
    }
}
