//! Candidates: kinds, priorities (RFC 8445 §5.1.2) and the SDP `candidate` attribute (RFC 8839 §5.1).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::IceError;

/// The kind of a candidate (RFC 8445 §4 "Terminology", §5.1.2.2 type preferences).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address of a local interface.
    Host,
    /// An address a NAT gave us, learned from a STUN server (RFC 8445 §5.1.1.2).
    ServerReflexive,
    /// An address learned from a connectivity check (RFC 8445 §7.2.5.3.1, §7.3.1.3).
    PeerReflexive,
    /// An address on a TURN relay (RFC 8656).
    Relayed,
}

impl CandidateKind {
    /// Recommended type preference (RFC 8445 §5.1.2.2).
    pub fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The `typ` token of the SDP candidate attribute (RFC 8839 §5.1).
    pub fn sdp_name(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

/// The one component WebRTC uses (RTP and RTCP are multiplexed, RFC 8843 BUNDLE + rtcp-mux).
pub const COMPONENT_RTP: u16 = 1;

/// An ICE candidate (UDP; the only transport this agent checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Host, server-reflexive, peer-reflexive or relayed.
    pub kind: CandidateKind,
    /// The transport address of the candidate.
    pub addr: SocketAddr,
    /// The base (RFC 8445 §4): where checks are sent from. For host and relayed candidates, `addr` itself.
    pub base: SocketAddr,
    /// RFC 8445 §5.1.2 priority.
    pub priority: u32,
    /// RFC 8445 §5.1.1.3 foundation (at most 32 ice-chars).
    pub foundation: String,
    /// Component ID; always 1 in WebRTC.
    pub component: u16,
    /// `raddr`/`rport`: the related address (base of a reflexive candidate, mapped address of a relay).
    pub related: Option<SocketAddr>,
}

/// RFC 8445 §5.1.2.1: priority = 2^24 * type preference + 2^8 * local preference + (256 - component ID).
pub fn candidate_priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    (kind.type_preference() << 24)
        + (u32::from(local_preference) << 8)
        + (256 - u32::from(component.min(256)))
}

impl Candidate {
    /// A host candidate on `addr`.
    pub fn host(addr: SocketAddr, local_preference: u16) -> Self {
        Self::new(CandidateKind::Host, addr, addr, None, local_preference)
    }

    /// A server-reflexive candidate `addr` learned from base `base` through STUN server `server`.
    pub fn server_reflexive(addr: SocketAddr, base: SocketAddr, local_preference: u16) -> Self {
        Self::new(
            CandidateKind::ServerReflexive,
            addr,
            base,
            Some(base),
            local_preference,
        )
    }

    /// A relayed candidate `relayed` allocated by a TURN client whose server-reflexive address was `mapped`.
    pub fn relayed(relayed: SocketAddr, mapped: SocketAddr, local_preference: u16) -> Self {
        Self::new(
            CandidateKind::Relayed,
            relayed,
            relayed,
            Some(mapped),
            local_preference,
        )
    }

    fn new(
        kind: CandidateKind,
        addr: SocketAddr,
        base: SocketAddr,
        related: Option<SocketAddr>,
        local_preference: u16,
    ) -> Self {
        Candidate {
            kind,
            addr,
            base,
            priority: candidate_priority(kind, local_preference, COMPONENT_RTP),
            foundation: foundation_for(kind, base.ip()),
            component: COMPONENT_RTP,
            related,
        }
    }

    /// Parses the value of an SDP `a=candidate:` attribute (RFC 8839 §5.1), with or without the leading
    /// `candidate:` / `a=candidate:`. Only UDP candidates are accepted; extension attributes are ignored.
    /// Hostnames (mDNS `*.local`) are refused: they need a resolver, which the sans-IO agent does not have.
    pub fn parse_sdp(line: &str) -> Result<Self, IceError> {
        let bad = |why: &'static str| IceError::BadCandidate {
            why,
            line: truncate(line),
        };
        let s = line.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        let mut it = s.split_ascii_whitespace();
        let foundation = it.next().ok_or(bad("missing foundation"))?;
        if foundation.is_empty() || foundation.len() > 32 || !foundation.bytes().all(is_ice_char) {
            return Err(bad("foundation must be 1-32 ice-chars"));
        }
        let component: u16 = it
            .next()
            .and_then(|c| c.parse().ok())
            .ok_or(bad("bad component ID"))?;
        if component == 0 || component > 256 {
            return Err(bad("component ID out of range 1..=256"));
        }
        let transport = it.next().ok_or(bad("missing transport"))?;
        if !transport.eq_ignore_ascii_case("udp") {
            return Err(bad("only UDP candidates are supported"));
        }
        let priority: u32 = it
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(bad("bad priority"))?;
        if priority == 0 {
            return Err(bad("priority must be positive"));
        }
        let ip: IpAddr =
            it.next().ok_or(bad("missing address"))?.parse().map_err(|_| {
                bad("connection address is not an IP address (mDNS hostnames are not resolved)")
            })?;
        let port: u16 = it.next().and_then(|p| p.parse().ok()).ok_or(bad("bad port"))?;
        if it.next() != Some("typ") {
            return Err(bad("missing `typ`"));
        }
        let kind = match it.next() {
            Some("host") => CandidateKind::Host,
            Some("srflx") => CandidateKind::ServerReflexive,
            Some("prflx") => CandidateKind::PeerReflexive,
            Some("relay") => CandidateKind::Relayed,
            _ => return Err(bad("unknown candidate type")),
        };
        let (mut raddr, mut rport) = (None, None);
        while let Some(key) = it.next() {
            let value = it.next().ok_or(bad("extension attribute without a value"))?;
            match key {
                "raddr" => raddr = value.parse::<IpAddr>().ok(),
                "rport" => rport = value.parse::<u16>().ok(),
                _ => {} // generation, network-id, ufrag, ...: RFC 8839 §5.1 says ignore unknown ones
            }
        }
        let addr = SocketAddr::new(ip, port);
        Ok(Candidate {
            kind,
            addr,
            base: addr,
            priority,
            foundation: foundation.to_owned(),
            component,
            related: raddr.zip(rport).map(|(ip, port)| SocketAddr::new(ip, port)),
        })
    }

    /// The SDP attribute value, `candidate:...` (without `a=`).
    pub fn to_sdp(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "candidate:{} {} udp {} {} {} typ {}",
            self.foundation,
            self.component,
            self.priority,
            self.addr.ip(),
            self.addr.port(),
            self.kind.sdp_name()
        )?;
        if let Some(r) = self.related {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        Ok(())
    }
}

/// RFC 8445 §5.1.1.3: same type, same base IP (and same server, which one agent never mixes here) ⇒ same
/// foundation. Derived from the inputs so that both sides of a restart agree with themselves.
pub(crate) fn foundation_for(kind: CandidateKind, base_ip: IpAddr) -> String {
    // FNV-1a over (type, base IP): short, stable, made only of digits (ice-chars).
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |b: u8| h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    eat(kind.type_preference() as u8);
    match base_ip {
        IpAddr::V4(a) => a.octets().into_iter().for_each(&mut eat),
        IpAddr::V6(a) => a.octets().into_iter().for_each(&mut eat),
    }
    h.to_string()
}

/// RFC 8445 §5.3 ice-char = ALPHA / DIGIT / "+" / "/".
pub(crate) fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

fn truncate(line: &str) -> String {
    line.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_formula() {
        // RFC 8445 §5.1.2.1 with the recommended host type preference 126 and local preference 65535.
        assert_eq!(candidate_priority(CandidateKind::Host, 65535, 1), 2_130_706_431);
        assert_eq!(candidate_priority(CandidateKind::Relayed, 0, 1), 255);
    }

    #[test]
    fn sdp_round_trip() {
        let c = Candidate::server_reflexive(
            "203.0.113.9:40000".parse().unwrap(),
            "10.0.0.2:5000".parse().unwrap(),
            65535,
        );
        let parsed = Candidate::parse_sdp(&c.to_sdp()).unwrap();
        assert_eq!(parsed.addr, c.addr);
        assert_eq!(parsed.kind, c.kind);
        assert_eq!(parsed.priority, c.priority);
        assert_eq!(parsed.related, c.related);
        assert_eq!(parsed.foundation, c.foundation);
    }

    #[test]
    fn parses_chrome_candidate() {
        let line = "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 \
                    ufrag Wm8U network-id 1";
        let c = Candidate::parse_sdp(line).unwrap();
        assert_eq!(c.addr, "192.168.0.196:46243".parse().unwrap());
        assert_eq!(c.kind, CandidateKind::Host);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "candidate:",
            "candidate:1 1 tcp 1 1.2.3.4 5 typ host",
            "candidate:1 1 udp x 1.2.3.4 5 typ host",
            "candidate:1 1 udp 1 abcd.local 5 typ host",
            "candidate:1 1 udp 1 1.2.3.4 5 typ bogus",
            "candidate:1 0 udp 1 1.2.3.4 5 typ host",
            "candidate:1 1 udp 1 1.2.3.4 5 typ host raddr",
        ] {
            assert!(Candidate::parse_sdp(bad).is_err(), "{bad}");
        }
    }
}
