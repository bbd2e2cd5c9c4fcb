//! The crate's one error type. Everything here is local misuse of the simulator: network conditions never
//! produce errors, they produce drops that are counted in [`NetStats`](crate::NetStats).

use std::net::IpAddr;

use crate::{HostId, NatId, Realm};

/// Misuse of the simulator's configuration API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetsimError {
    /// A probability field of a [`LinkConfig`](crate::LinkConfig) is not in `0.0..=1.0`.
    #[error("link config: `{field}` must be a probability in 0..=1, got {value}")]
    InvalidProbability {
        /// The offending field's name.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A [`LinkConfig`](crate::LinkConfig) has `rate_bps: Some(0)`.
    #[error("link config: rate_bps must be positive (use None for no cap)")]
    ZeroRate,
    /// The address is already used by a host or NAT in the same realm.
    #[error("address {ip} is already in use {realm}")]
    AddressInUse {
        /// The duplicated address.
        ip: IpAddr,
        /// The realm where it is already used.
        realm: Realm,
    },
    /// The host ID does not belong to this network.
    #[error("unknown {0}")]
    UnknownHost(HostId),
    /// The NAT ID does not belong to this network.
    #[error("unknown {0}")]
    UnknownNat(NatId),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e = NetsimError::InvalidProbability {
            field: "loss",
            value: 1.5,
        };
        assert!(e.to_string().contains("loss"));
        let e = NetsimError::AddressInUse {
            ip: [10, 0, 0, 1].into(),
            realm: Realm::Public,
        };
        assert_eq!(e.to_string(), "address 10.0.0.1 is already in use public");
    }
}
