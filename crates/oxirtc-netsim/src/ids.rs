//! Identifiers handed out by a [`Network`](crate::Network) and the address realms they live in.

use std::fmt;

/// A simulated host: one IP address, one access link, one realm. Returned by
/// [`Network::add_host`](crate::Network::add_host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) u32);

/// A simulated NAT. Returned by [`Network::add_nat`](crate::Network::add_nat).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub(crate) u32);

impl HostId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl NatId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host#{}", self.0)
    }
}

impl fmt::Display for NatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nat#{}", self.0)
    }
}

/// An address space. Addresses are unique within a realm, not across realms, so two NATs may both hide a
/// `192.168.1.2` (RFC 4787 §4.4, conflicting internal and external address spaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Realm {
    /// The public internet.
    Public,
    /// The private (internal) side of a NAT.
    Private(NatId),
}

impl fmt::Display for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Realm::Public => f.write_str("public"),
            Realm::Private(nat) => write!(f, "behind {nat}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_readable() {
        assert_eq!(HostId(3).to_string(), "host#3");
        assert_eq!(Realm::Private(NatId(1)).to_string(), "behind nat#1");
        assert_eq!(Realm::Public.to_string(), "public");
    }
}
