//! The peer-address policy: which peer IPs an allocation may reach (RFC 8656 §21.2.2, §21.3.2).
//!
//! By default every address that points back into the server's own network or a special-purpose range
//! is denied: loopback, RFC 1918 and unique-local (fc00::/7), link-local, CGNAT (100.64.0.0/10),
//! multicast, 0.0.0.0/8, reserved/broadcast, `::`, `::1`, the cloud metadata address 169.254.169.254, and
//! every IPv6 form that embeds one of those IPv4 addresses (IPv4-mapped `::ffff:a.b.c.d`,
//! IPv4-compatible `::a.b.c.d`, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::TurnError;

/// An IP network in CIDR notation (`10.0.0.0/8`, `fc00::/7`; a bare address is a /32 or /128).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// A network; `prefix` is clamped to the family's width and host bits are cleared.
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.min(max);
        IpNet {
            addr: mask(addr, prefix),
            prefix,
        }
    }

    /// True if `ip` is inside this network (families must match).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

impl FromStr for IpNet {
    type Err = TurnError;

    fn from_str(s: &str) -> Result<Self, TurnError> {
        let bad = || TurnError::BadCidr(s.to_owned());
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr: IpAddr = ip.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet::new(addr, prefix))
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Default IPv4 denials: (network, prefix, is loopback).
const DENY_V4: &[([u8; 4], u8, bool)] = &[
    ([0, 0, 0, 0], 8, false),      // "this network" (RFC 791)
    ([10, 0, 0, 0], 8, false),     // RFC 1918
    ([100, 64, 0, 0], 10, false),  // CGNAT (RFC 6598)
    ([127, 0, 0, 0], 8, true),     // loopback
    ([169, 254, 0, 0], 16, false), // link-local incl. 169.254.169.254 (cloud metadata)
    ([172, 16, 0, 0], 12, false),  // RFC 1918
    ([192, 0, 0, 0], 24, false),   // IETF protocol assignments (RFC 6890)
    ([192, 168, 0, 0], 16, false), // RFC 1918
    ([198, 18, 0, 0], 15, false),  // benchmarking (RFC 2544)
    ([224, 0, 0, 0], 4, false),    // multicast
    ([240, 0, 0, 0], 4, false),    // reserved, incl. 255.255.255.255 broadcast
];

/// Default IPv6 denials: (network, prefix, is loopback).
const DENY_V6: &[(u128, u8, bool)] = &[
    (0, 128, false),                 // :: unspecified
    (1, 128, true),                  // ::1 loopback
    (0xfc00_u128 << 112, 7, false),  // unique local fc00::/7
    (0xfe80_u128 << 112, 10, false), // link-local
    (0xfec0_u128 << 112, 10, false), // site-local (deprecated)
    (0xff00_u128 << 112, 8, false),  // multicast
    (0x0100_u128 << 112, 64, false), // discard-only 100::/64 (RFC 6666)
];

/// Which peer addresses allocations may reach. Explicit allows win over every denial; explicit denies
/// are added to the defaults.
#[derive(Clone, Debug)]
pub struct PeerPolicy {
    allowed: Vec<IpNet>,
    denied: Vec<IpNet>,
    default_denies: bool,
    allow_loopback: bool,
}

impl Default for PeerPolicy {
    /// The safe default: every special-purpose range above denied, nothing explicitly allowed.
    fn default() -> Self {
        PeerPolicy {
            allowed: Vec::new(),
            denied: Vec::new(),
            default_denies: true,
            allow_loopback: false,
        }
    }
}

impl PeerPolicy {
    /// Permits loopback peers (127.0.0.0/8, ::1 and their embedded forms): for tests on one host.
    pub fn allow_loopback(mut self, yes: bool) -> Self {
        self.allow_loopback = yes;
        self
    }

    /// Adds a network that is always allowed (wins over every denial).
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allowed.push(net);
        self
    }

    /// Adds a network that is denied.
    pub fn deny(mut self, net: IpNet) -> Self {
        self.denied.push(net);
        self
    }

    /// Turns the built-in special-purpose denials off (explicit denies still apply). Dangerous.
    pub fn without_default_denies(mut self) -> Self {
        self.default_denies = false;
        self
    }

    /// True if a TURN allocation may send to / receive from `ip`.
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        if self.allowed.iter().any(|n| n.contains(ip)) {
            return true;
        }
        let mut forms = [Some(ip), None, None, None];
        if let IpAddr::V6(v6) = ip {
            forms[1] = embedded_v4(v6).map(IpAddr::V4);
            forms[2] = teredo_client(v6).map(IpAddr::V4);
            // 64:ff9b:1::/48 is also deployed with a /96 layout: the low 32 bits.
            let low = Ipv4Addr::from((u128::from(v6) & 0xffff_ffff) as u32);
            forms[3] = (u128::from(v6) >> 80 == 0x0064_ff9b_0001).then_some(IpAddr::V4(low));
        }
        !forms.into_iter().flatten().any(|f| self.denies(f))
    }

    fn denies(&self, ip: IpAddr) -> bool {
        if self.denied.iter().any(|n| n.contains(ip)) {
            return true;
        }
        if !self.default_denies {
            return false;
        }
        match ip {
            IpAddr::V4(_) => DENY_V4.iter().any(|&(net, p, lo)| {
                !(lo && self.allow_loopback) && IpNet::new(IpAddr::V4(net.into()), p).contains(ip)
            }),
            IpAddr::V6(_) => DENY_V6.iter().any(|&(net, p, lo)| {
                !(lo && self.allow_loopback) && IpNet::new(IpAddr::V6(Ipv6Addr::from(net)), p).contains(ip)
            }),
        }
    }
}

/// The IPv4 address carried inside an IPv6 address by the mapped, compatible, NAT64 and 6to4 forms.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let b = v6.octets();
    let low = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
    let bits = u128::from(v6);
    if bits >> 32 == 0xffff || (bits >> 32 == 0 && bits > 1) {
        return Some(low); // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, RFC 4291 §2.5.5.1)
    }
    if bits >> 32 == 0x0064_ff9b_u128 << 64 {
        return Some(low); // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052)
    }
    if bits >> 80 == 0x0064_ff9b_0001 {
        // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the address sits after the /48 prefix in the
        // RFC 6052 §2.2 /48 layout (octets 6-7 and 9-10, around the u octet).
        return Some(Ipv4Addr::new(b[6], b[7], b[9], b[10]));
    }
    if b[0] == 0x20 && b[1] == 0x02 {
        return Some(Ipv4Addr::new(b[2], b[3], b[4], b[5])); // 6to4 2002:V4ADDR::/48 (RFC 3056)
    }
    None
}

/// Teredo 2001:0::/32 (RFC 4380 §4): the client's IPv4 address is the last 32 bits, inverted.
fn teredo_client(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let b = v6.octets();
    (b[..4] == [0x20, 0x01, 0, 0]).then(|| Ipv4Addr::new(!b[12], !b[13], !b[14], !b[15]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Every form the issue names, each denied by default.
    pub(crate) const DENIED: &[&str] = &[
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::c0a8:0101",
        "2002:7f00:0001::1",
        "2002:c0a8:0101::1",
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "64:ff9b:1::7f00:1",
        "64:ff9b:1:7f00:1::",
    ];

    #[test]
    fn default_policy_denies_every_listed_form() {
        let p = PeerPolicy::default();
        for s in DENIED {
            assert!(!p.is_allowed(ip(s)), "{s} should be denied");
        }
    }

    #[test]
    fn default_policy_allows_public_addresses() {
        let p = PeerPolicy::default();
        for s in [
            "8.8.8.8",
            "203.0.113.7",
            "2001:db8::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(p.is_allowed(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn loopback_switch_and_lists() {
        let p = PeerPolicy::default().allow_loopback(true);
        assert!(p.is_allowed(ip("127.0.0.1")));
        assert!(p.is_allowed(ip("::1")));
        assert!(p.is_allowed(ip("::ffff:127.0.0.1")));
        assert!(!p.is_allowed(ip("10.0.0.1")));
        let p = PeerPolicy::default()
            .allow("10.1.0.0/16".parse().unwrap())
            .deny("203.0.113.0/24".parse().unwrap());
        assert!(p.is_allowed(ip("10.1.2.3")));
        assert!(!p.is_allowed(ip("10.2.0.1")));
        assert!(!p.is_allowed(ip("203.0.113.9")));
        assert!(!p.is_allowed(ip("::ffff:203.0.113.9")));
    }

    #[test]
    fn cidr_parsing() {
        let n: IpNet = "192.168.1.77/24".parse().unwrap();
        assert_eq!(n.to_string(), "192.168.1.0/24");
        assert!("1.2.3.4/33".parse::<IpNet>().is_err());
        assert!("nonsense".parse::<IpNet>().is_err());
        let n: IpNet = "2001:db8::1".parse().unwrap();
        assert!(n.contains(ip("2001:db8::1")));
        assert!(!n.contains(ip("2001:db8::2")));
        assert!(!n.contains(ip("1.2.3.4")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("1.2.3.4")));
    }
}
