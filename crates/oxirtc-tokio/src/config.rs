//! Settings of a [`crate::PeerConnection`].

use std::net::{IpAddr, SocketAddr};

use oxirtc::{IceTransportPolicy, RtcConfig, TurnServerConfig};

/// How a peer connection finds its addresses and talks. `Default` binds every interface address
/// and uses no STUN or TURN server; [`Config::loopback`] is for peers on one machine.
///
/// ```no_run
/// use oxirtc_tokio::{parse_stun_url, parse_turn_url, Config, PeerConnection};
///
/// # async fn demo() -> Result<(), oxirtc_tokio::Error> {
/// let config = Config {
///     stun_servers: parse_stun_url("stun:192.0.2.1:3478").into_iter().collect(),
///     turn_servers: parse_turn_url("turn:192.0.2.1:3478", "user", "secret").into_iter().collect(),
///     send_high_water_mark: 4 * 1024 * 1024, // let `send` run further ahead of the peer
///     event_queue_capacity: 256,             // unread events kept (oldest informational dropped)
///     ..Config::default()
/// };
/// let pc = PeerConnection::new(config).await?; // binds the sockets
/// # let _ = pc;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The core's settings (ICE, DTLS, SCTP, limits).
    pub rtc: RtcConfig,
    /// Local addresses to bind a socket on (port 0), one host candidate each. Empty: every up
    /// interface address (IPv4 and IPv6, link-local excluded), plus loopback if
    /// [`Config::include_loopback`] or if there is nothing else.
    pub bind: Vec<IpAddr>,
    /// Also offer loopback host candidates (off by default, as in browsers).
    pub include_loopback: bool,
    /// STUN servers for server-reflexive candidates (W3C `iceServers` with `stun:` URLs).
    pub stun_servers: Vec<SocketAddr>,
    /// TURN servers for relayed candidates (W3C `iceServers` with `turn:` URLs, UDP).
    pub turn_servers: Vec<TurnServerConfig>,
    /// W3C `iceTransportPolicy`: `Relay` uses relayed candidates only.
    pub ice_transport_policy: IceTransportPolicy,
    /// Extra trusted roots (DER) for `turns:` servers, beside the web PKI (e.g. a private CA).
    pub turn_tls_roots: Vec<Vec<u8>>,
    /// `DataChannel::send` waits while the channel has more than this many bytes buffered.
    pub send_high_water_mark: usize,
    /// Most events waiting unread in a connection's event queue (default 1024). When it is full,
    /// the oldest informational event (a candidate, a state change, a peer's channel that already
    /// closed again) is dropped and counted ([`crate::PeerConnection::dropped_events`]); a peer's
    /// channel that is still open and the connection's end (failed, closed) are never dropped.
    pub event_queue_capacity: usize,
    /// Batched UDP I/O (default on): UDP GSO sends a run of equal-size datagrams in one `sendmsg`,
    /// GRO and `recvmmsg` read several per call (where the kernel supports them; quinn-udp falls
    /// back otherwise). Off: one datagram per system call each way, e.g. to compare with stacks
    /// that do not batch.
    pub udp_batching: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rtc: RtcConfig::default(),
            bind: Vec::new(),
            include_loopback: false,
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            turn_tls_roots: Vec::new(),
            send_high_water_mark: 1024 * 1024,
            event_queue_capacity: 1024,
            udp_batching: true,
        }
    }
}

impl Config {
    /// A configuration for peers on one machine: bind 127.0.0.1 only.
    pub fn loopback() -> Self {
        Config {
            bind: vec![IpAddr::from([127, 0, 0, 1])],
            include_loopback: true,
            ..Config::default()
        }
    }

    /// The addresses to bind, resolved from [`Config::bind`] and the host's interfaces.
    /// Each address once, in first-seen order (one socket and host candidate per address).
    pub(crate) fn bind_addresses(&self) -> Vec<IpAddr> {
        if !self.bind.is_empty() {
            return unique(self.bind.iter().copied());
        }
        let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
        let mut out = unique(
            interfaces
                .into_iter()
                .map(|i| i.ip())
                .filter(|ip| !is_link_local(ip) && (self.include_loopback || !ip.is_loopback())),
        );
        if out.is_empty() {
            out.push(IpAddr::from([127, 0, 0, 1]));
        }
        out
    }
}

/// `addresses` without repeats, first occurrence kept: one address can sit on several interfaces,
/// not necessarily next to each other in the list.
fn unique(addresses: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in addresses {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_drops_every_repeat_and_keeps_order() {
        let [a, b, c]: [IpAddr; 3] = [
            "192.0.2.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
        ];
        let config = Config {
            bind: vec![a, b, a, c, b, a],
            ..Config::default()
        };
        assert_eq!(config.bind_addresses(), [a, b, c]);
        assert_eq!(unique([c, c, a, b, c, a]), [c, a, b]);
        assert!(unique([]).is_empty());
    }
}
