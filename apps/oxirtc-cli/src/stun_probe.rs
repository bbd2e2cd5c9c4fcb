//! `oxirtc stun`: mapped address and RTT (RFC 8489 §6), and NAT behaviour discovery (RFC 5780 §4).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use anyhow::Context as _;
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_stun::{Attribute, Class, Message, MessageEncoder, Method, RetransmitConfig, TransactionId};
use thiserror::Error;

use crate::binding_server::BindingServer;
use crate::udp_transaction::{transact, Outcome};
use crate::StunArgs;

/// What one Binding exchange told us.
#[derive(Clone, Debug)]
pub struct ProbeReport {
    /// The server probed.
    pub server: SocketAddr,
    /// Our local address (the route's source IP when bound to the unspecified address).
    pub local: SocketAddr,
    /// XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS from an RFC 3489 server).
    pub mapped: SocketAddr,
    /// Round trip of the answered transmission.
    pub rtt: Duration,
    /// RFC 5780 OTHER-ADDRESS, if the server supports behaviour discovery.
    pub other_address: Option<SocketAddr>,
    /// SOFTWARE of the server.
    pub software: Option<String>,
}

/// NAT behaviour per RFC 4787, as RFC 5780 §4.3/§4.4 measure it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Endpoint-independent (RFC 4787 §4.1 / §5).
    EndpointIndependent,
    /// Address-dependent.
    AddressDependent,
    /// Address- and port-dependent.
    AddressAndPortDependent,
}

/// Result of `--nat-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatBehavior {
    /// No NAT at all: the mapped address is our own address.
    pub no_nat: bool,
    /// Mapping behaviour (RFC 5780 §4.3).
    pub mapping: Behavior,
    /// Filtering behaviour (RFC 5780 §4.4).
    pub filtering: Behavior,
}

/// Why a probe failed; each message says what to check.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The server argument did not resolve.
    #[error("`{input}` is not a usable STUN server address ({why}); write HOST:PORT, e.g. 127.0.0.1:3478")]
    BadAddress {
        /// What the user wrote.
        input: String,
        /// Why it failed.
        why: String,
    },
    /// No answer at all.
    #[error(
        "no STUN response from {server} after {transmissions} requests in {waited:?}; is a STUN server \
         listening there, and does a firewall let UDP through?"
    )]
    Timeout {
        /// The server.
        server: SocketAddr,
        /// Requests sent.
        transmissions: u32,
        /// Time waited.
        waited: Duration,
    },
    /// Only datagrams that are not STUN came back.
    #[error(
        "{server} answered, but with {count} datagram(s) that are not STUN responses (first: {first}); \
         is this really a STUN server port?"
    )]
    Garbage {
        /// The server.
        server: SocketAddr,
        /// How many.
        count: u32,
        /// The first one's parse error.
        first: String,
    },
    /// The server answered with a STUN error.
    #[error("{server} answered with STUN error {code} {reason:?}")]
    ServerError {
        /// The server.
        server: SocketAddr,
        /// Error code.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// A success response without a mapped address.
    #[error("{server} sent a Binding success response without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS")]
    NoMappedAddress {
        /// The server.
        server: SocketAddr,
    },
    /// `--nat-type` against a server without OTHER-ADDRESS.
    #[error(
        "{server} did not send OTHER-ADDRESS, so it cannot do RFC 5780 NAT behaviour discovery; use a server \
         with two IP addresses (`oxirtc stun` without a server starts one on loopback)"
    )]
    NoBehaviorDiscovery {
        /// The server.
        server: SocketAddr,
    },
    /// A socket error.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs `oxirtc stun`.
pub(crate) fn run(args: &StunArgs) -> anyhow::Result<()> {
    if let Some(addr) = args.serve {
        let server = BindingServer::start(addr, args.alternate_ip).with_context(|| {
            format!("could not listen for STUN on {addr} (port in use, or address not local?)")
        })?;
        println!(
            "serving STUN on {} (other address {:?}); Ctrl-C stops",
            server.primary, server.other
        );
        loop {
            std::thread::park();
        }
    }
    let demo;
    let server = match &args.server {
        Some(s) => resolve(s)?,
        None => {
            let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
            demo = BindingServer::start(loopback, Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))))
                .context("could not start the built-in STUN server on 127.0.0.1/127.0.0.2")?;
            println!(
                "started a built-in RFC 5780 STUN server on {} (other address {:?})",
                demo.primary, demo.other
            );
            demo.primary
        }
    };
    let bind = args.bind.unwrap_or_else(|| {
        let any = if server.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        SocketAddr::new(any, 0)
    });
    let socket = UdpSocket::bind(bind).with_context(|| format!("could not bind a UDP socket on {bind}"))?;
    let report = probe(&socket, server, args.timeout)?;
    println!(
        "STUN server      {}{}",
        report.server,
        report
            .software
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    );
    println!("local address    {}", report.local);
    println!("mapped address   {}", report.mapped);
    println!("round trip       {:.2} ms", report.rtt.as_secs_f64() * 1000.0);
    if args.nat_type {
        let nat = classify_nat(&socket, &report, args.timeout)?;
        println!(
            "NAT mapping      {}",
            if nat.no_nat {
                "none (mapped address is our own)".into()
            } else {
                nat.mapping.to_string()
            }
        );
        println!("NAT filtering    {}", nat.filtering);
        println!("NAT type         {}", nat.summary());
    }
    Ok(())
}

fn resolve(input: &str) -> Result<SocketAddr, ProbeError> {
    let bad = |why: &str| ProbeError::BadAddress {
        input: input.to_owned(),
        why: why.to_owned(),
    };
    if let Ok(addr) = input.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let unbracketed = input
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(input);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 3478));
    }
    let (host, port) = match input.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| bad("the port is not a number 0-65535"))?,
        ),
        None => (input, 3478),
    };
    if host.is_empty() || host.contains(':') || host.contains('[') {
        return Err(bad("IPv6 addresses with a port need brackets, e.g. [::1]:3478"));
    }
    // Only a real host name reaches the resolver.
    let mut addrs = (host, port).to_socket_addrs().map_err(|e| bad(&e.to_string()))?;
    addrs.next().ok_or_else(|| bad("it resolved to no address"))
}

fn binding_request(change: Option<(bool, bool)>) -> Result<(TransactionId, Vec<u8>), ProbeError> {
    // Transaction IDs must be unpredictable (RFC 8489 §5); an OS-seeded generator per request is cheap.
    let mut rng = SecureRng::from_os(default_provider()).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tid = TransactionId::random(&mut rng);
    let mut out = Vec::with_capacity(40);
    let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, tid);
    if let Some((change_ip, change_port)) = change {
        enc.add(&Attribute::ChangeRequest {
            change_ip,
            change_port,
        });
    }
    enc.add_fingerprint();
    enc.finish();
    Ok((tid, out))
}

/// A response datagram, where it came from, and the round trip.
type Answer = (Vec<u8>, SocketAddr, Duration);

/// One Binding exchange. `Ok(None)` when nothing answered (used by the filtering tests, where silence is
/// the answer).
fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    change: Option<(bool, bool)>,
    config: &RetransmitConfig,
    limit: Duration,
) -> Result<Result<Answer, ProbeError>, ProbeError> {
    let (tid, request) = binding_request(change)?;
    Ok(match transact(socket, server, tid, request, config, limit)? {
        Outcome::Answered { response, from, rtt } => Ok((response, from, rtt)),
        Outcome::TimedOut {
            garbage: count @ 1..,
            first_garbage,
            ..
        } => Err(ProbeError::Garbage {
            server,
            count,
            first: first_garbage.unwrap_or_default(),
        }),
        Outcome::TimedOut { transmissions, .. } => Err(ProbeError::Timeout {
            server,
            transmissions,
            waited: limit,
        }),
    })
}

fn mapped_of(
    server: SocketAddr,
    response: &[u8],
) -> Result<(SocketAddr, Option<SocketAddr>, Option<String>), ProbeError> {
    let msg = Message::parse(response).map_err(|e| ProbeError::Garbage {
        server,
        count: 1,
        first: e.to_string(),
    })?;
    if let Some(e) = msg.error_code() {
        return Err(ProbeError::ServerError {
            server,
            code: e.code,
            reason: e.reason.to_owned(),
        });
    }
    let mapped = msg
        .xor_mapped_address()
        .or_else(|| msg.mapped_address())
        .ok_or(ProbeError::NoMappedAddress { server })?;
    Ok((mapped, msg.other_address(), msg.software().map(str::to_owned)))
}

/// RFC 8489 §6.2.1 schedule, cut off at `limit`.
fn probe_config() -> RetransmitConfig {
    RetransmitConfig::default()
}

/// Sends a Binding request to `server` and reports the mapped address (RFC 8489 §6, §14.2).
pub fn probe(socket: &UdpSocket, server: SocketAddr, limit: Duration) -> Result<ProbeReport, ProbeError> {
    let (response, _, rtt) = exchange(socket, server, None, &probe_config(), limit)??;
    let (mapped, other_address, software) = mapped_of(server, &response)?;
    Ok(ProbeReport {
        server,
        local: local_address(socket, server)?,
        mapped,
        rtt,
        other_address,
        software,
    })
}

/// The address the kernel would send from toward `server` (the socket may be bound to 0.0.0.0).
fn local_address(socket: &UdpSocket, server: SocketAddr) -> std::io::Result<SocketAddr> {
    let local = socket.local_addr()?;
    if !local.ip().is_unspecified() {
        return Ok(local);
    }
    let route = UdpSocket::bind(SocketAddr::new(local.ip(), 0))?;
    route.connect(server)?;
    Ok(SocketAddr::new(route.local_addr()?.ip(), local.port()))
}

/// RFC 5780 §4.3 (mapping) and §4.4 (filtering) tests, from the first probe's results.
pub fn classify_nat(
    socket: &UdpSocket,
    first: &ProbeReport,
    limit: Duration,
) -> Result<NatBehavior, ProbeError> {
    let server = first.server;
    let other = first
        .other_address
        .ok_or(ProbeError::NoBehaviorDiscovery { server })?;
    let no_nat = first.mapped == first.local;
    // §4.3 test II: to the alternate IP, primary port.
    let mapping = if no_nat {
        Behavior::EndpointIndependent
    } else {
        let alt_ip = SocketAddr::new(other.ip(), server.port());
        let (r2, _, _) = exchange(socket, alt_ip, None, &probe_config(), limit)??;
        let (m2, _, _) = mapped_of(alt_ip, &r2)?;
        if m2 == first.mapped {
            Behavior::EndpointIndependent
        } else {
            // §4.3 test III: to the alternate IP and port.
            let (r3, _, _) = exchange(socket, other, None, &probe_config(), limit)??;
            let (m3, _, _) = mapped_of(other, &r3)?;
            if m3 == m2 {
                Behavior::AddressDependent
            } else {
                Behavior::AddressAndPortDependent
            }
        }
    };
    // §4.4 on a fresh socket, i.e. a fresh NAT mapping that has only talked to the primary address: the
    // mapping tests above opened the NAT's filter to the alternate IP, which would make an
    // address-dependent filter look endpoint-independent.
    let socket = &UdpSocket::bind(SocketAddr::new(socket.local_addr()?.ip(), 0))?;
    exchange(socket, server, None, &probe_config(), limit)??;
    // Silence is an answer here, so a short schedule.
    let quick = RetransmitConfig {
        rto: Duration::from_millis(250),
        rc: 4,
        rm: 4,
        ..RetransmitConfig::default()
    };
    let quick_limit = limit.min(Duration::from_secs(3));
    let answered = |change| -> Result<bool, ProbeError> {
        match exchange(socket, server, Some(change), &quick, quick_limit)? {
            Ok(_) => Ok(true),
            Err(ProbeError::Timeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    };
    let filtering = if answered((true, true))? {
        Behavior::EndpointIndependent
    } else if answered((false, true))? {
        Behavior::AddressDependent
    } else {
        Behavior::AddressAndPortDependent
    };
    Ok(NatBehavior {
        no_nat,
        mapping,
        filtering,
    })
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Behavior::EndpointIndependent => "endpoint-independent",
            Behavior::AddressDependent => "address-dependent",
            Behavior::AddressAndPortDependent => "address-and-port-dependent",
        })
    }
}

impl NatBehavior {
    /// The classic name (RFC 3489 terms) and what it means for ICE.
    pub fn summary(&self) -> &'static str {
        use Behavior::*;
        match (self.no_nat, self.mapping, self.filtering) {
            (true, _, EndpointIndependent) => "open internet (no NAT, no filtering)",
            (true, _, _) => "no NAT, behind a filtering firewall",
            (false, EndpointIndependent, EndpointIndependent) => "full cone (direct connections work)",
            (false, EndpointIndependent, AddressDependent) => {
                "address-restricted cone (ICE hole punching works)"
            }
            (false, EndpointIndependent, AddressAndPortDependent) => {
                "port-restricted cone (ICE hole punching works, except against symmetric NATs)"
            }
            (false, _, _) => "symmetric (peers behind symmetric or port-restricted NATs need a TURN relay)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_forms() {
        assert_eq!(
            resolve("127.0.0.1:3479").unwrap(),
            "127.0.0.1:3479".parse().unwrap()
        );
        assert_eq!(resolve("127.0.0.1").unwrap(), "127.0.0.1:3478".parse().unwrap());
        assert_eq!(resolve("::1").unwrap(), "[::1]:3478".parse().unwrap());
        assert_eq!(resolve("[::1]:5000").unwrap(), "[::1]:5000".parse().unwrap());
        let e = resolve("127.0.0.1:99999").unwrap_err().to_string();
        assert!(e.contains("HOST:PORT"), "{e}");
    }
}
