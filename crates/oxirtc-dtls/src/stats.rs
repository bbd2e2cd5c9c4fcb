//! Counters for everything the endpoint sends, receives and drops.

/// Per-endpoint counters. Every dropped input is counted under one reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsStats {
    /// Datagrams given to `handle_receive`.
    pub datagrams_in: u64,
    /// Datagrams returned by `poll_transmit`.
    pub datagrams_out: u64,
    /// Records that passed the record layer.
    pub records_in: u64,
    /// Records written.
    pub records_out: u64,
    /// Undecodable records, handshake fragments or alerts (the rest of the datagram is dropped too).
    pub dropped_malformed: u64,
    /// Records of an epoch without keys.
    pub dropped_unknown_epoch: u64,
    /// Replayed records (RFC 6347 §4.1.2.6).
    pub dropped_replay: u64,
    /// Records that failed authentication.
    pub dropped_bad_mac: u64,
    /// Handshake fragments refused by the reassembler (caps, too far ahead, inconsistent).
    pub dropped_handshake: u64,
    /// ClientHellos dropped by the stateless server (undecodable, fragmented, wrong epoch).
    pub dropped_hellos: u64,
    /// Plaintext (epoch 0) application data records.
    pub dropped_plaintext_app_data: u64,
    /// Application data received before the connection was established and the fingerprint verified.
    pub dropped_unverified_app_data: u64,
    /// Flight retransmissions (timer or peer retransmission).
    pub retransmissions: u64,
    /// HelloVerifyRequests sent.
    pub hello_verify_sent: u64,
    /// Alerts sent.
    pub alerts_sent: u64,
    /// Alerts received.
    pub alerts_received: u64,
}
