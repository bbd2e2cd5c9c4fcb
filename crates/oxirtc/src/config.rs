//! Settings of one peer connection.

use oxirtc_dtls::DtlsConfig;
use oxirtc_ice::IceConfig;
use oxirtc_sctp::SctpConfig;

use crate::{IceTransportPolicy, TurnServerConfig};

/// Bytes DTLS adds around one SCTP packet with AES-GCM: 13-byte record header, 8-byte explicit nonce,
/// 16-byte tag (RFC 6347 §4.1, RFC 5288 §3). The SCTP packet budget is the DTLS MTU minus this.
pub const DTLS_RECORD_OVERHEAD: usize = 13 + 8 + 16;

/// IPv4 header (no options, RFC 791) and UDP header (RFC 768) bytes.
pub const IPV4_UDP_OVERHEAD: usize = 20 + 8;

/// IPv6 header (no extension headers, RFC 8200) and UDP header bytes.
pub const IPV6_UDP_OVERHEAD: usize = 40 + 8;

/// A TURN ChannelData header (RFC 8656 §12.4), on a bound channel over UDP.
pub const TURN_CHANNEL_DATA_OVERHEAD: usize = 4;

/// The largest TURN Send indication framing (RFC 8656 §11.1): STUN header 20, XOR-PEER-ADDRESS with an
/// IPv6 peer 4 + 20, DATA attribute header 4, up to 3 bytes of padding. Used for a relayed path
/// because data goes as Send indications until the channel is bound.
pub const TURN_SEND_OVERHEAD_MAX: usize = 20 + 24 + 4 + 3;

/// RFC 8899 §5.1.2 BASE_PLPMTU of an IPv6 path: the IPv6 minimum link MTU (RFC 8200 §5).
pub const IPV6_BASE_PLPMTU: usize = 1280;

/// Path MTU settings, in IP packet bytes (RFC 8899 §5.1.2). The SCTP packet size follows from them
/// and the selected candidate pair: minus IP/UDP headers (IPv4 or IPv6), the DTLS record overhead, and
/// the TURN framing when the pair is relayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathMtuConfig {
    /// BASE_PLPMTU: the IP packet size assumed to pass on any path, used from the start (IPv4 1200;
    /// an IPv6 path uses at least 1280). DTLS handshake datagrams fit it too.
    pub base_ip_mtu: usize,
    /// MAX_PLPMTU: the largest IP packet path MTU discovery probes for (1500: Ethernet).
    pub max_ip_mtu: usize,
    /// Run Datagram PLPMTUD in SCTP (RFC 8899 §6.2, RFC 8261 §4); off keeps every packet at BASE.
    pub discovery: bool,
}

impl Default for PathMtuConfig {
    fn default() -> Self {
        PathMtuConfig {
            base_ip_mtu: 1200,
            max_ip_mtu: 1500,
            discovery: true,
        }
    }
}

/// How one datagram reaches the peer: the IP family of the hop we send on and the TURN framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathShape {
    /// The datagram leaves over IPv6 (to the peer, or to the TURN server when relayed).
    pub ipv6: bool,
    /// The pair's local candidate is relayed: datagrams carry TURN framing to the server.
    pub relayed: bool,
}

impl PathMtuConfig {
    /// Bytes around one SCTP packet on `path`: IP + UDP, TURN framing when relayed, DTLS record.
    pub fn overhead(path: PathShape) -> usize {
        let ip = if path.ipv6 {
            IPV6_UDP_OVERHEAD
        } else {
            IPV4_UDP_OVERHEAD
        };
        let turn = if path.relayed { TURN_SEND_OVERHEAD_MAX } else { 0 };
        ip + turn + DTLS_RECORD_OVERHEAD
    }

    /// BASE_PLPMTU of `path` in IP bytes (IPv6 never below 1280).
    pub fn base_for(&self, path: PathShape) -> usize {
        if path.ipv6 {
            self.base_ip_mtu.max(IPV6_BASE_PLPMTU)
        } else {
            self.base_ip_mtu
        }
    }

    /// `(base, max)` SCTP packet sizes for `path` (`SctpConfig::mtu` and `max_mtu`); `max` is 0 when
    /// discovery is off.
    pub fn sctp_sizes(&self, path: PathShape) -> (usize, usize) {
        let o = Self::overhead(path);
        let base = self.base_for(path).saturating_sub(o);
        let max = if self.discovery {
            self.max_ip_mtu.saturating_sub(o)
        } else {
            0
        };
        (base, max)
    }

    /// Largest DTLS handshake datagram (UDP payload) that fits BASE on any pair: IPv4 and TURN
    /// framing, since either side's candidate may be relayed (the peer's relay wraps what we send).
    pub fn dtls_datagram(&self) -> usize {
        self.base_ip_mtu
            .saturating_sub(IPV4_UDP_OVERHEAD + TURN_SEND_OVERHEAD_MAX)
    }
}

/// Settings of one [`crate::Rtc`]. `Default` is what a browser-compatible peer uses.
///
/// ```
/// use oxirtc::{IceTransportPolicy, Rtc, RtcConfig, TurnServerConfig};
///
/// # fn main() -> Result<(), oxirtc::RtcError> {
/// let config = RtcConfig {
///     turn_servers: vec![TurnServerConfig::udp("192.0.2.1:3478".parse().unwrap(), "user", "secret")],
///     ice_transport_policy: IceTransportPolicy::Relay, // relayed candidates only
///     max_channels: 64,                                // refuse a peer's 65th channel
///     rng_seed: Some([7; 32]),                         // reproducible (tests)
///     ..RtcConfig::default()
/// };
/// let rtc = Rtc::new(config)?;
/// # let _ = rtc;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RtcConfig {
    /// ICE settings. `controlling` is ignored: JSEP decides it (the offerer controls, RFC 8829 §3.5.3).
    /// `ta` is our pacing proposal, sent as `a=ice-pacing` unless it is the 50 ms default.
    pub ice: IceConfig,
    /// DTLS settings (MTU, cipher suites, SRTP profiles, retransmission). The handshake MTU is capped
    /// to what fits `path_mtu.base_ip_mtu` (see [`PathMtuConfig::dtls_datagram`]).
    pub dtls: DtlsConfig,
    /// SCTP settings. `mtu` and `max_mtu` are set from `path_mtu` and the selected pair; ports come
    /// from SDP.
    pub sctp: SctpConfig,
    /// Path MTU: the IP packet sizes assumed and probed (RFC 8899).
    pub path_mtu: PathMtuConfig,
    /// `a=max-message-size` we announce and accept (RFC 8841 §6; 256 KiB like Chromium).
    pub max_message_size: u64,
    /// Most channels open at once; peer OPENs beyond it are refused by resetting the stream. Bounds
    /// memory against a peer opening 65,535 streams.
    pub max_channels: usize,
    /// DTLS datagrams kept while the DTLS role is not yet known (the peer's ClientHello can arrive before
    /// its answer); older ones are dropped beyond this.
    pub max_early_dtls: usize,
    /// TURN servers to allocate relayed candidates on (RFC 8656).
    pub turn_servers: Vec<TurnServerConfig>,
    /// W3C `iceTransportPolicy`: `Relay` offers relayed candidates only.
    pub ice_transport_policy: IceTransportPolicy,
    /// Seed of the connection's random numbers; `None` draws one from the OS. Tests set it so a run is
    /// reproducible.
    pub rng_seed: Option<[u8; 32]>,
}

impl Default for RtcConfig {
    fn default() -> Self {
        RtcConfig {
            // RFC 8445 §14.2: we propose Ta = 5 ms (`a=ice-pacing:5`, the RFC's floor); a peer that
            // proposes nothing (browsers) keeps the 50 ms default, since the higher proposal wins.
            ice: IceConfig {
                ta: std::time::Duration::from_millis(5),
                ..IceConfig::default()
            },
            dtls: DtlsConfig::default(),
            sctp: SctpConfig::default(),
            path_mtu: PathMtuConfig::default(),
            max_message_size: 262_144,
            max_channels: 1024,
            max_early_dtls: 16,
            turn_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            rng_seed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: PathShape = PathShape {
        ipv6: false,
        relayed: false,
    };

    #[test]
    fn sctp_sizes_per_path() {
        let p = PathMtuConfig::default();
        // IPv4 1200: 1200 - 20 - 8 - 37 = 1135; 1500 - 65 = 1435.
        assert_eq!(p.sctp_sizes(V4), (1135, 1435));
        // Relayed: the Send indication framing (51) comes off both.
        assert_eq!(p.sctp_sizes(PathShape { relayed: true, ..V4 }), (1084, 1384));
        // IPv6: BASE is at least 1280, headers are 48.
        let v6 = PathShape {
            ipv6: true,
            relayed: false,
        };
        assert_eq!(p.sctp_sizes(v6), (1280 - 48 - 37, 1500 - 48 - 37));
        let off = PathMtuConfig {
            discovery: false,
            ..p
        };
        assert_eq!(off.sctp_sizes(V4), (1135, 0));
    }

    #[test]
    fn every_base_datagram_fits_the_base_ip_mtu() {
        let p = PathMtuConfig::default();
        for shape in [V4, PathShape { relayed: true, ..V4 }] {
            let (base, _) = p.sctp_sizes(shape);
            let ip = base + PathMtuConfig::overhead(shape);
            assert!(ip <= p.base_ip_mtu, "{shape:?}: {ip}");
        }
        // A DTLS handshake datagram plus TURN framing plus IPv4/UDP fits too.
        assert!(p.dtls_datagram() + TURN_SEND_OVERHEAD_MAX + IPV4_UDP_OVERHEAD <= 1200);
    }
}
