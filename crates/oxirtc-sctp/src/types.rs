//! Protocol identifiers as newtypes (CONTRIBUTING.md convention 10).

use std::fmt;

/// An SCTP stream identifier (RFC 9260 §3.3.1); a data channel's id (RFC 8831 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u16);

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Payload Protocol Identifier carried in every DATA chunk (RFC 9260 §3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ppid(pub u32);

impl Ppid {
    /// WebRTC Data Channel Establishment Protocol (RFC 8831 §8, RFC 8832).
    pub const DCEP: Ppid = Ppid(50);
    /// WebRTC String (RFC 8831 §8).
    pub const STRING: Ppid = Ppid(51);
    /// WebRTC Binary (RFC 8831 §8).
    pub const BINARY: Ppid = Ppid(53);
    /// WebRTC String Empty: a 1-byte placeholder for an empty string (RFC 8831 §8).
    pub const STRING_EMPTY: Ppid = Ppid(56);
    /// WebRTC Binary Empty: a 1-byte placeholder for an empty binary message (RFC 8831 §8).
    pub const BINARY_EMPTY: Ppid = Ppid(57);
}

impl fmt::Display for Ppid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Transmission Sequence Number as carried on the wire (RFC 9260 §3.3.1), compared with serial number
/// arithmetic (RFC 9260 §1.6). The association keeps TSNs unwrapped to 64 bits internally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tsn(pub u32);

impl Tsn {
    /// `self` is after `other` in serial number arithmetic (RFC 9260 §1.6, RFC 1982).
    pub fn is_after(self, other: Tsn) -> bool {
        let d = self.0.wrapping_sub(other.0);
        d != 0 && d < 0x8000_0000
    }

    /// The TSN `n` after this one.
    pub fn wrapping_add(self, n: u32) -> Tsn {
        Tsn(self.0.wrapping_add(n))
    }
}

/// Unwraps a 32-bit serial number to the 64-bit value nearest to `reference` (RFC 9260 §1.6).
pub(crate) fn unwrap_tsn(reference: u64, wire: u32) -> u64 {
    let diff = wire.wrapping_sub(reference as u32) as i32;
    let v = reference as i64 + diff as i64;
    v.max(0) as u64
}

/// Stream sequence numbers (RFC 9260 §3.3.1) compared in serial arithmetic (16 bits).
pub(crate) fn ssn_after(a: u16, b: u16) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 0x8000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(Tsn(1).is_after(Tsn(u32::MAX)));
        assert!(!Tsn(u32::MAX).is_after(Tsn(1)));
        assert!(!Tsn(5).is_after(Tsn(5)));
        assert_eq!(Tsn(u32::MAX).wrapping_add(2), Tsn(1));
        assert!(ssn_after(0, u16::MAX));
        assert!(!ssn_after(3, 3));
    }

    #[test]
    fn unwrap_picks_nearest() {
        assert_eq!(unwrap_tsn(10, 12), 12);
        assert_eq!(unwrap_tsn(10, 8), 8);
        assert_eq!(unwrap_tsn(0xFFFF_FFFF, 1), 0x1_0000_0001);
        assert_eq!(unwrap_tsn(0x1_0000_0001, 0xFFFF_FFFF), 0xFFFF_FFFF);
        assert_eq!(unwrap_tsn(1, 0xFFFF_FFF0), 0);
    }
}
