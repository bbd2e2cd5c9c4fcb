//! Settings of one peer connection.

use oxirtc_dtls::DtlsConfig;
use oxirtc_ice::IceConfig;
use oxirtc_sctp::SctpConfig;

use crate::{IceTransportPolicy, TurnServerConfig};

/// Bytes DTLS adds around one SCTP packet with AES-GCM: 13-byte record header, 8-byte explicit nonce,
/// 16-byte tag (RFC 6347 §4.1, RFC 5288 §3). The SCTP packet budget is the DTLS MTU minus this.
pub const DTLS_RECORD_OVERHEAD: usize = 13 + 8 + 16;

/// Settings of one [`crate::Rtc`]. `Default` is what a browser-compatible peer uses.
#[derive(Clone, Debug)]
pub struct RtcConfig {
    /// ICE settings. `controlling` is ignored: JSEP decides it (the offerer controls, RFC 8829 §3.5.3).
    /// `ta` is our pacing proposal, sent as `a=ice-pacing` unless it is the 50 ms default.
    pub ice: IceConfig,
    /// DTLS settings (MTU, cipher suites, SRTP profiles, retransmission).
    pub dtls: DtlsConfig,
    /// SCTP settings. `mtu` is set from the DTLS MTU; ports come from SDP.
    pub sctp: SctpConfig,
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
            max_message_size: 262_144,
            max_channels: 1024,
            max_early_dtls: 16,
            turn_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            rng_seed: None,
        }
    }
}
