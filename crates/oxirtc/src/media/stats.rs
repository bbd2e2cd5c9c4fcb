//! The W3C statistics of media streams (webrtc-stats §7.3-7.5: `RTCInboundRtpStreamStats`,
//! `RTCOutboundRtpStreamStats`, `RTCRemoteInboundRtpStreamStats`), from [`crate::Rtc::media_stats`].

use std::time::Duration;

use super::TrackKind;

/// Every media stream of a connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaStats {
    /// What we receive, one entry per remote RTP stream (simulcast layers apart).
    pub inbound: Vec<InboundRtpStats>,
    /// What we send, one entry per stream.
    pub outbound: Vec<OutboundRtpStats>,
}

/// One stream we receive (W3C `inbound-rtp`).
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRtpStats {
    /// Its section's mid.
    pub mid: String,
    /// Audio or video.
    pub kind: TrackKind,
    /// Its SSRC.
    pub ssrc: u32,
    /// Its rid (simulcast).
    pub rid: Option<String>,
    /// Packets received, retransmissions included (`packetsReceived`).
    pub packets_received: u64,
    /// Payload bytes received (`bytesReceived`).
    pub bytes_received: u64,
    /// Packets lost (RFC 3550 §6.4.1 cumulative lost: expected less received; `packetsLost`).
    pub packets_lost: i64,
    /// Interarrival jitter in seconds (RFC 3550 §A.8; `jitter`).
    pub jitter: f64,
    /// Packets repaired by retransmission (`retransmittedPacketsReceived`).
    pub retransmitted_packets_received: u64,
    /// NACK packets we sent for it (`nackCount`).
    pub nack_count: u64,
    /// PLIs we sent for it (`pliCount`).
    pub pli_count: u64,
}

/// One stream we send (W3C `outbound-rtp`), with what the peer's receiver reports say of it
/// (`remote-inbound-rtp`).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRtpStats {
    /// Its section's mid.
    pub mid: String,
    /// Its SSRC.
    pub ssrc: u32,
    /// Packets sent, retransmissions not included (`packetsSent`).
    pub packets_sent: u64,
    /// Payload bytes sent (`bytesSent`).
    pub bytes_sent: u64,
    /// Retransmissions sent (`retransmittedPacketsSent`), and their payload bytes.
    pub retransmitted_packets_sent: u64,
    /// Payload bytes of the retransmissions (`retransmittedBytesSent`).
    pub retransmitted_bytes_sent: u64,
    /// NACK packets received (`nackCount`), PLIs (`pliCount`) and FIRs (`firCount`).
    pub nack_count: u64,
    /// PLIs received.
    pub pli_count: u64,
    /// FIRs received.
    pub fir_count: u64,
    /// `remote-inbound-rtp`: packets lost as the peer counts them, once a report came.
    pub remote_packets_lost: Option<i64>,
    /// `remote-inbound-rtp` `fractionLost` of the peer's last report interval (0 to 1).
    pub remote_fraction_lost: Option<f64>,
    /// `remote-inbound-rtp` `jitter`, in seconds.
    pub remote_jitter: Option<f64>,
    /// `remote-inbound-rtp` `roundTripTime`: the last RTT measured from a report block.
    pub round_trip_time: Option<Duration>,
    /// `totalRoundTripTime` and `roundTripTimeMeasurements`.
    pub total_round_trip_time: Duration,
    /// How many RTTs were measured.
    pub round_trip_time_measurements: u64,
}
