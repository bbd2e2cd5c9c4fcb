//! The values that cross the API: what the connection reports when it sends a packet, and the
//! estimate and probe clusters it reads back.

use std::time::Duration;

/// Identifies one probe cluster: the estimator names it, the pacer tags every packet it releases
/// for the cluster with it, and the connection hands the tag back in
/// [`SentPacket::probe_cluster`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeClusterId(pub u32);

/// A request to send a short burst at `target_bps`, so that the receiver's feedback measures
/// whether the path can carry that rate (libwebrtc's probe cluster; draft-ietf-rmcat-gcc-02 has no
/// probing). The pacer sends it: media that is queued, else padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeCluster {
    /// Its tag.
    pub id: ProbeClusterId,
    /// The rate to send at, in bit/s.
    pub target_bps: u64,
    /// The cluster is done when at least this many packets...
    pub min_probes: u32,
    /// ...and at least this many bytes have been sent for it.
    pub min_bytes: u64,
}

impl ProbeCluster {
    /// How long the cluster lasts at its rate: `min_bytes` at `target_bps`.
    pub fn duration(&self) -> Duration {
        let micros = self.min_bytes.saturating_mul(8_000_000) / self.target_bps.max(1);
        Duration::from_micros(micros)
    }
}

/// One packet the connection has just put on the wire, for
/// [`BandwidthEstimator::on_packet_sent`](crate::BandwidthEstimator::on_packet_sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SentPacket {
    /// Its transport-wide sequence number
    /// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), or `None` for a packet that does
    /// not carry one (SCTP over DTLS, or RTP before the extension was negotiated): such a packet
    /// only counts towards the sending rate that application-limited detection watches.
    pub transport_seq: Option<u16>,
    /// Its size on the wire as the estimator should count it: the UDP payload (RTP header,
    /// extensions, payload, padding and SRTP tag).
    pub size_bytes: usize,
    /// The probe cluster the pacer released it for ([`Release`](crate::Release)'s `probe`).
    pub probe_cluster: Option<ProbeClusterId>,
    /// A retransmission (RTX or the original resent).
    pub is_retransmission: bool,
    /// Audio.
    pub is_audio: bool,
    /// Padding only (no media payload).
    pub is_padding: bool,
}

/// What the estimator wants the connection to do now: a new estimate, and possibly a probe
/// cluster to start. [`BandwidthEstimator::poll_event`](crate::BandwidthEstimator::poll_event)
/// returns one whenever any of these change; [`Pacer::set_estimate`](crate::Pacer::set_estimate)
/// takes it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The rate the encoders together should aim for, in bit/s. Equal to `available_bps` today;
    /// it may go below it later (e.g. a congestion-window push-back).
    pub target_bps: u64,
    /// The estimated available bandwidth, in bit/s (W3C `availableOutgoingBitrate`): the lowest
    /// of the delay-based and loss-based estimates, the peer's REMB and the configured maximum.
    pub available_bps: u64,
    /// The rate the pacer releases media at, in bit/s: the target times the pacing factor.
    pub pacing_rate_bps: u64,
    /// The rate the pacer fills with padding when there is no media, in bit/s (0: none).
    pub padding_rate_bps: u64,
    /// A probe cluster to send now, if one was just created.
    pub probe: Option<ProbeCluster>,
}
