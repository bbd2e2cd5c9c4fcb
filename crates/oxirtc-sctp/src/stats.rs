//! Counters every association keeps (drops by reason, retransmissions, congestion state).

use std::time::Duration;

/// Why an inbound packet or chunk was dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropCounts {
    /// CRC32c mismatch (RFC 9260 §6.8).
    pub bad_checksum: u64,
    /// Framing or value errors (zero/overlong lengths, short chunks, ...).
    pub malformed: u64,
    /// Wrong verification tag or ports (RFC 9260 §8.5).
    pub bad_verification_tag: u64,
    /// COOKIE ECHO with a bad MAC or a stale timestamp (RFC 9260 §5.1.5).
    pub bad_cookie: u64,
    /// A chunk not allowed in the current state (DATA before the handshake, ...).
    pub unexpected_chunk: u64,
    /// DATA that did not fit in the receive window (RFC 9260 §6.2).
    pub receive_window_full: u64,
    /// DATA for a stream at or above the negotiated number of inbound streams (RFC 9260 §6.5).
    pub invalid_stream: u64,
    /// Reassembled message larger than `max_message_size`.
    pub message_too_large: u64,
    /// Chunks of unknown type skipped or that stopped processing (RFC 9260 §3.2).
    pub unknown_chunk: u64,
}

/// Statistics of one association.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SctpStats {
    /// Packets received (before validation).
    pub packets_received: u64,
    /// Packets sent.
    pub packets_sent: u64,
    /// Bytes received (SCTP packet bytes).
    pub bytes_received: u64,
    /// Bytes sent (SCTP packet bytes).
    pub bytes_sent: u64,
    /// DATA chunks sent for the first time.
    pub data_chunks_sent: u64,
    /// Ordered messages delivered over SSNs the peer used up without sending anything for them
    /// (werift 0.24's empty messages): every TSN before them had arrived, so nothing could fill the
    /// gap (RFC 9260 §6.9); without the skip the stream would stall for good.
    pub ssn_gaps_skipped: u64,
    /// DATA chunks received (duplicates included).
    pub data_chunks_received: u64,
    /// Duplicate DATA chunks received.
    pub duplicate_chunks_received: u64,
    /// Messages accepted by `send`.
    pub messages_sent: u64,
    /// Messages delivered as events.
    pub messages_received: u64,
    /// DATA chunk retransmissions (timer and fast).
    pub retransmissions: u64,
    /// Chunks retransmitted by fast retransmit (RFC 9260 §7.2.4).
    pub fast_retransmits: u64,
    /// T3-rtx expirations (RFC 9260 §6.3.3).
    pub t3_expirations: u64,
    /// Times the layer below reported the path back while the association was stalled, and it
    /// retransmitted at once (`Association::handle_path_event`).
    pub path_recoveries: u64,
    /// Chunks declared lost by RACK's time-based rule (RFC 8985 §6.2) rather than by three miss
    /// indications; they are also counted in `fast_retransmits`.
    pub rack_losses: u64,
    /// Tail loss probes sent (RFC 8985 §7).
    pub loss_probes: u64,
    /// Duplicate TSNs the peer reported in SACKs (RFC 9260 §3.3.4): our retransmissions that proved
    /// spurious. Each one widens RACK's reordering window (RFC 8985 §6.2 step 4).
    pub peer_reported_duplicates: u64,
    /// Fast recoveries undone because the peer reported every retransmission of it duplicate (the
    /// "loss" was reordering): cwnd and ssthresh were restored.
    pub spurious_recoveries: u64,
    /// Messages abandoned by PR-SCTP (RFC 3758).
    pub abandoned_messages: u64,
    /// FORWARD TSN chunks sent.
    pub forward_tsn_sent: u64,
    /// Our stream reset requests the peer refused (RFC 6525 §4.4 "Denied" or an error result).
    pub stream_resets_failed: u64,
    /// SACK chunks sent.
    pub sacks_sent: u64,
    /// Packets sent with a zero checksum (RFC 9653, negotiated over DTLS).
    pub zero_checksum_sent: u64,
    /// Packets accepted with a zero checksum (RFC 9653), their CRC32c not computed.
    pub zero_checksum_received: u64,
    /// Dropped input by reason.
    pub drops: DropCounts,
    /// Smoothed RTT (RFC 9260 §6.3.1), once measured.
    pub srtt: Option<Duration>,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Congestion window in bytes.
    pub cwnd: usize,
    /// Slow start threshold in bytes.
    pub ssthresh: usize,
    /// The peer's receive window as last computed (RFC 9260 §6.2.1).
    pub peer_rwnd: usize,
    /// The receive window we advertise.
    pub local_rwnd: usize,
    /// Bytes in flight.
    pub flight_size: usize,
    /// The SCTP packet size in use (PLPMTU, RFC 8899 §2): `SctpConfig::mtu` until PLPMTUD confirms more.
    pub pmtu: usize,
    /// PLPMTUD probe packets sent (RFC 8899 §6.2.1.1).
    pub pmtu_probes_sent: u64,
    /// PLPMTUD probes acknowledged by a HEARTBEAT ACK.
    pub pmtu_probes_acked: u64,
    /// Black holes detected (RFC 8899 §4.3): the PLPMTU fell back to BASE.
    pub pmtu_black_holes: u64,
}
