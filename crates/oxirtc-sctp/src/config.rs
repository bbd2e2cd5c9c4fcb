//! Association configuration and per-message send options.

use std::time::Duration;

/// Configuration of one [`crate::Association`]. `Default` gives WebRTC values (RFC 8831 §6, RFC 9260 §16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctpConfig {
    /// Our SCTP port (`a=sctp-port`, RFC 8841; 5000 by default).
    pub local_port: u16,
    /// The peer's SCTP port.
    pub remote_port: u16,
    /// Budget for one SCTP packet in bytes (common header included); the caller subtracts DTLS overhead.
    /// With path MTU discovery on (`max_mtu` > `mtu`) this is BASE_PLPMTU (RFC 8899 §5.1.2): the size
    /// used from the start and fallen back to after a black hole, so it must fit any path.
    pub mtu: usize,
    /// MAX_PLPMTU (RFC 8899 §5.1.2) in SCTP packet bytes: the largest packet PLPMTUD probes for. When
    /// larger than `mtu` the association runs Datagram PLPMTUD (RFC 8899 §6.2, required by RFC 8261
    /// §4); `mtu` or less (the default, 0) turns discovery off.
    pub max_mtu: usize,
    /// PROBE_TIMER (RFC 8899 §5.1.1): how long a probe waits for its HEARTBEAT ACK (at least 1 s).
    pub pmtu_probe_timer: Duration,
    /// PMTU_RAISE_TIMER (RFC 8899 §5.1.1): after a search, when to look for a larger PMTU again.
    pub pmtu_raise_timer: Duration,
    /// Largest message `send` accepts and the receiver reassembles (RFC 8841 `a=max-message-size`).
    pub max_message_size: usize,
    /// Our receive window in bytes: the hard cap on received-but-undelivered data (RFC 9260 §6.2).
    /// Raised to `max_message_size` + 4 × `mtu` if smaller, since reassembly happens inside it.
    pub receive_window: u32,
    /// Cap on bytes queued and in flight; `send` returns [`crate::SctpError::WouldBlock`] beyond it.
    pub max_send_buffer: usize,
    /// Outbound streams we request (RFC 8831 §6.2: 65535 for WebRTC); the peer's MIS may lower it.
    pub num_outbound_streams: u16,
    /// Inbound streams we accept (MIS, RFC 9260 §3.3.2).
    pub max_inbound_streams: u16,
    /// RTO.Initial (RFC 9260 §16).
    pub rto_initial: Duration,
    /// RTO.Min.
    pub rto_min: Duration,
    /// RTO.Max.
    pub rto_max: Duration,
    /// Bound on the RTO doubled by timer back-off (RFC 9260 §6.3.3 E2, which makes RTO.Max an
    /// optional bound); a measured RTO above it is kept. A short bound means that after an outage
    /// the first retransmission comes at most this long after the path is back, and that the gaps
    /// between retransmissions stay shorter than typical NAT mapping lifetimes. 3 s by default, as
    /// libwebrtc bounds its dcsctp transport's back-off (its `kMaxTimerBackoffDuration`); RTO.Max
    /// (60 s) to back off as RFC 9260 §16 does.
    pub max_backoff: Duration,
    /// Max.Init.Retransmits: INIT / COOKIE ECHO retransmissions before giving up.
    pub max_init_retransmits: u32,
    /// Association.Max.Retrans: consecutive timeouts before the association is aborted (RFC 9260 §8.1).
    /// 20 by default: with back-off bounded at `max_backoff` (3 s) that is about 50 s of silence, so
    /// over ICE the peer is declared gone by consent freshness first (30 s, RFC 7675 §5.1), as with
    /// RFC 9260 §16's 10 timeouts at 60 s RTO.Max.
    pub max_association_retransmits: u32,
    /// HB.interval: heartbeat period on an idle path (RFC 9260 §8.3).
    pub heartbeat_interval: Duration,
    /// Delayed SACK timeout (RFC 9260 §6.2: at most 500 ms, 200 ms recommended).
    pub delayed_ack: Duration,
    /// Valid.Cookie.Life (RFC 9260 §16).
    pub cookie_lifetime: Duration,
    /// Max.Burst: new packets sent at once in response to one SACK (RFC 9260 §6.1, §16).
    pub max_burst: u32,
    /// The association runs over DTLS (RFC 8261), which authenticates every packet: announce Zero
    /// Checksum Acceptable (RFC 9653, EDMID 1), accept packets whose checksum is zero, and send zero
    /// checksums to a peer that announced the same. Off for SCTP over anything that does not detect
    /// errors itself.
    pub zero_checksum_dtls: bool,
    /// The congestion controller the sender runs (RFC 9260 §7.2's by default).
    pub congestion_control: CongestionControl,
}

impl Default for SctpConfig {
    fn default() -> Self {
        Self {
            local_port: 5000,
            remote_port: 5000,
            mtu: 1188,
            max_mtu: 0,
            // RFC 8899 §5.1.1 asks for ≥ 1 s; a HEARTBEAT ACK comes back within one RTT, so 3 s
            // covers any RTO-sized path without the 15 s meant for transports that cannot tell.
            pmtu_probe_timer: Duration::from_secs(3),
            pmtu_raise_timer: Duration::from_secs(600),
            max_message_size: 256 * 1024,
            receive_window: 1024 * 1024,
            max_send_buffer: 4 * 1024 * 1024,
            num_outbound_streams: 65535,
            max_inbound_streams: 65535,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3),
            max_init_retransmits: 8,
            max_association_retransmits: 20,
            heartbeat_interval: Duration::from_secs(30),
            delayed_ack: Duration::from_millis(200),
            cookie_lifetime: Duration::from_secs(60),
            max_burst: 4,
            zero_checksum_dtls: true,
            congestion_control: CongestionControl::default(),
        }
    }
}

impl SctpConfig {
    /// The configuration an association runs with: packet sizes clamped to what a packet can be,
    /// the receive window raised to hold the largest message.
    pub(crate) fn normalized(mut self) -> Self {
        // A packet must hold the common header, one DATA chunk header and some data; 16 bits of length.
        self.mtu = self.mtu.clamp(128, 65_535);
        self.max_mtu = self.max_mtu.clamp(self.mtu, 65_535);
        self.fit_receive_window();
        self
    }

    /// A message is reassembled inside the receive window (RFC 9260 §6.2), so the window must hold
    /// the largest one.
    fn fit_receive_window(&mut self) {
        let min_window =
            u32::try_from(self.max_message_size.saturating_add(4 * self.mtu)).unwrap_or(u32::MAX);
        if self.receive_window < min_window {
            tracing::warn!(
                config.receive_window = self.receive_window,
                min_window,
                "receive_window raised to fit max_message_size"
            );
            self.receive_window = min_window;
        }
    }
}

/// The congestion controller of an association ([`SctpConfig::congestion_control`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CongestionControl {
    /// RFC 9260 §7.2: slow start, congestion avoidance with partial_bytes_acked, cwnd halved once
    /// per loss event and one MTU after T3-rtx; a fast recovery whose retransmissions all prove
    /// spurious is undone.
    #[default]
    NewReno,
}

/// Partial reliability of one message (RFC 3758 §3.4; RFC 8831 §6.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reliability {
    /// Retransmit until acknowledged.
    #[default]
    Reliable,
    /// Abandon after this many retransmissions (0: sent once).
    MaxRetransmits(u16),
    /// Abandon once this long has passed since `send`.
    MaxLifetime(Duration),
}

/// Per-message options for [`crate::Association::send`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Deliver as soon as complete, regardless of the stream order (U bit, RFC 9260 §6.6).
    pub unordered: bool,
    /// Partial reliability policy.
    pub reliability: Reliability,
}
