//! Sending statistics of one local RTP source (RFC 3550 §6.4.1): the sender information of its
//! SRs, and what the remote's report blocks say about it (round-trip time, loss, jitter) for the
//! W3C `outbound-rtp` and `remote-inbound-rtp` stats.

use std::time::{Duration, Instant};

use super::ntp::{compact_ntp, compact_to_duration};
use crate::rtcp::{ReportBlock, SenderInfo};

/// The counters of one sent stream, for the W3C `RTCOutboundRtpStreamStats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendCounters {
    /// RTP packets sent (W3C `packetsSent`, RFC 3550 §6.4.1's sender's packet count).
    pub packets_sent: u64,
    /// Payload bytes sent, without headers or padding (W3C `bytesSent`, the sender's octet count).
    pub bytes_sent: u64,
    /// When the last packet was sent.
    pub last_packet_at: Option<Instant>,
}

/// The last report block the remote sent about this source, for the W3C
/// `RTCRemoteInboundRtpStreamStats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteReception {
    /// When the block arrived.
    pub received_at: Instant,
    /// Fraction lost in the remote's last interval, in 1/256 (W3C `fractionLost` × 256).
    pub fraction_lost: u8,
    /// Cumulative packets lost as the remote counts them (W3C `packetsLost`).
    pub cumulative_lost: i32,
    /// The remote's extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// The remote's interarrival jitter estimate, in RTP timestamp units.
    pub jitter: u32,
}

impl RemoteReception {
    /// The jitter in seconds (W3C `jitter`), given the stream's clock rate; 0 for a rate of 0.
    pub fn jitter_seconds(&self, clock_rate: u32) -> f64 {
        if clock_rate == 0 {
            return 0.0;
        }
        f64::from(self.jitter) / f64::from(clock_rate)
    }
}

/// Round-trip times measured from report blocks (RFC 3550 §6.4.1), for the W3C
/// `roundTripTime`, `totalRoundTripTime` and `roundTripTimeMeasurements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundTripTimes {
    /// The latest measurement.
    pub latest: Option<Duration>,
    /// The sum of all measurements.
    pub total: Duration,
    /// How many there were.
    pub measurements: u64,
}

/// The sending state of one local SSRC. Feed it every original RTP packet sent with
/// [`on_packet`](Self::on_packet) (not retransmissions on an RTX SSRC: those have their own), ask
/// it for each SR's [`sender_info`](Self::sender_info), and give it every report block about this
/// SSRC with [`on_report_block`](Self::on_report_block).
#[derive(Debug, Clone, Default)]
pub struct SendStats {
    counters: SendCounters,
    /// The last packet's RTP timestamp and when it was sent.
    last_packet: Option<(u32, Instant)>,
    remote: Option<RemoteReception>,
    rtt: RoundTripTimes,
}

impl SendStats {
    /// Statistics of a source that has sent nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one RTP packet as it is sent: when, its timestamp, and its payload length (without
    /// header and padding, RFC 3550 §6.4.1's octet count).
    pub fn on_packet(&mut self, now: Instant, rtp_timestamp: u32, payload_len: usize) {
        self.counters.packets_sent += 1;
        self.counters.bytes_sent += payload_len as u64;
        self.counters.last_packet_at = Some(now);
        self.last_packet = Some((rtp_timestamp, now));
    }

    /// The sender information for an SR sent at `now`, whose wall-clock time is `ntp_now` (see
    /// [`ntp_from_system_time`](super::ntp_from_system_time)); `None` before the first packet
    /// (RFC 3550 §6.4: only a source that sent sends an SR).
    ///
    /// The RTP time is the same instant as `ntp_now` (RFC 3550 §6.4.1): the last packet's
    /// timestamp advanced by the time since it was sent, at `clock_rate`. The counts wrap at 2^32
    /// as their fields do.
    pub fn sender_info(&self, now: Instant, ntp_now: u64, clock_rate: u32) -> Option<SenderInfo> {
        let (timestamp, sent_at) = self.last_packet?;
        let elapsed = now.saturating_duration_since(sent_at);
        let ticks = elapsed.as_nanos() * u128::from(clock_rate) / 1_000_000_000;
        Some(SenderInfo {
            ntp_time: ntp_now,
            // RTP timestamps are modulo 2^32: the truncation is the arithmetic.
            rtp_time: timestamp.wrapping_add(ticks as u32),
            packet_count: self.counters.packets_sent as u32,
            octet_count: self.counters.bytes_sent as u32,
        })
    }

    /// Takes a report block about this source, received at `now` when the wall clock read
    /// `ntp_now`. Keeps its loss and jitter, and returns the round-trip time when the block allows
    /// one to be measured.
    ///
    /// RFC 3550 §6.4.1: RTT = A - LSR - DLSR in 1/65536 s, with A the middle 32 bits of `ntp_now`.
    /// An LSR of 0 means the remote has had no SR from us: no measurement. A negative result (the
    /// wall clock stepped back, or a bogus DLSR) is ignored.
    pub fn on_report_block(&mut self, now: Instant, ntp_now: u64, block: &ReportBlock) -> Option<Duration> {
        self.remote = Some(RemoteReception {
            received_at: now,
            fraction_lost: block.fraction_lost,
            cumulative_lost: block.cumulative_lost,
            extended_highest_seq: block.extended_highest_seq,
            jitter: block.jitter,
        });
        if block.last_sr == 0 {
            return None;
        }
        let a = compact_ntp(ntp_now);
        // Modular 32-bit arithmetic (RFC 3550 §4); a result above 2^31 is a negative one.
        let units = a
            .wrapping_sub(block.last_sr)
            .wrapping_sub(block.delay_since_last_sr);
        if units > i32::MAX as u32 {
            return None;
        }
        let rtt = compact_to_duration(units);
        self.rtt.latest = Some(rtt);
        self.rtt.total += rtt;
        self.rtt.measurements += 1;
        Some(rtt)
    }

    /// The counters for W3C `outbound-rtp` stats.
    pub fn counters(&self) -> SendCounters {
        self.counters
    }

    /// The remote's last report block on this source, if one came.
    pub fn remote(&self) -> Option<&RemoteReception> {
        self.remote.as_ref()
    }

    /// The round-trip times measured so far.
    pub fn round_trip_times(&self) -> RoundTripTimes {
        self.rtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Ssrc;
    use crate::stream::test_clock::t0;

    fn block(last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        ReportBlock {
            ssrc: Ssrc(1),
            fraction_lost: 25,
            cumulative_lost: -3,
            extended_highest_seq: 0x0002_0010,
            jitter: 450,
            last_sr,
            delay_since_last_sr,
        }
    }

    #[test]
    fn rfc3550_figure_2_round_trip_time() {
        // A = 0xb710:8000 (46864.5 s), LSR = 0xb705:2000, DLSR = 0x0005:4000: delay 0x0006:2000,
        // 6.125 s. A is the middle of the NTP time 0x0000b710_80000000 (any high and low bits).
        let mut s = SendStats::new();
        let now = t0();
        let rtt = s.on_report_block(now, 0xb44d_b710_8000_1234, &block(0xb705_2000, 0x0005_4000));
        assert_eq!(rtt, Some(Duration::from_millis(6_125)));
        let r = s.remote().copied().expect("kept");
        assert_eq!((r.fraction_lost, r.cumulative_lost, r.jitter), (25, -3, 450));
        assert_eq!(r.received_at, now);
        // 450 ticks at 90 kHz is 5 ms.
        assert_eq!(r.jitter_seconds(90_000), 0.005);
        assert_eq!(s.round_trip_times().measurements, 1);
    }

    #[test]
    fn no_rtt_without_lsr_or_when_negative() {
        let mut s = SendStats::new();
        let now = t0();
        assert_eq!(s.on_report_block(now, 0xb710_8000 << 16, &block(0, 0)), None);
        // A - LSR = 1 s, DLSR = 2 s: -1 s, ignored.
        assert_eq!(
            s.on_report_block(now, 0x0011_0000 << 16, &block(0x0010_0000, 0x0002_0000)),
            None
        );
        assert_eq!(s.round_trip_times(), RoundTripTimes::default());
        // Across the wrap of the compact form: A = 0x0000:8000, LSR = 0xffff:8000 (1 s before),
        // DLSR = 0x0000:4000 (0.25 s): 0.75 s.
        let rtt = s.on_report_block(now, 0x0000_8000 << 16, &block(0xffff_8000, 0x0000_4000));
        assert_eq!(rtt, Some(Duration::from_millis(750)));
        let rtt = s.on_report_block(now, 0x0001_0000 << 16, &block(0x0000_8000, 0x0000_4000));
        assert_eq!(rtt, Some(Duration::from_millis(250)));
        let t = s.round_trip_times();
        assert_eq!(
            (t.latest, t.total, t.measurements),
            (rtt, Duration::from_secs(1), 2)
        );
    }

    #[test]
    fn sender_info_extrapolates_the_rtp_time_to_now() {
        let start = t0();
        let mut s = SendStats::new();
        assert_eq!(s.sender_info(start, 1, 90_000), None);
        s.on_packet(start, 1_000, 1_200);
        s.on_packet(start + Duration::from_millis(33), u32::MAX - 99, 800);
        // 0.5 s after the last packet at 90 kHz: 45 000 ticks on from 2^32 - 100, wrapping.
        let info = s.sender_info(start + Duration::from_millis(533), 0xabcd << 32, 90_000);
        assert_eq!(
            info,
            Some(SenderInfo {
                ntp_time: 0xabcd << 32,
                rtp_time: 44_900,
                packet_count: 2,
                octet_count: 2_000,
            })
        );
        let c = s.counters();
        assert_eq!((c.packets_sent, c.bytes_sent), (2, 2_000));
        // A `now` before the last packet (a caller's mistake) extrapolates nothing.
        let info = s.sender_info(start, 0, 90_000).expect("a packet was sent");
        assert_eq!(info.rtp_time, u32::MAX - 99);
    }
}
