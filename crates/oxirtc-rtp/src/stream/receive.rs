//! Reception statistics of one remote RTP source (RFC 3550 §6.4.1, §A.1, §A.3, §A.8): what an
//! RR or SR report block says about it, and the counters of its W3C `inbound-rtp` stats.

use std::time::Instant;

use super::jitter::JitterEstimator;
use super::ntp::{compact_ntp, duration_to_compact};
use super::sequence::{Arrival, SequenceTracker};
use crate::packet::Ssrc;
use crate::rtcp::ReportBlock;

/// The counters of one received stream, for the W3C `RTCInboundRtpStreamStats`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReceiveCounters {
    /// Every packet received, duplicates and retransmissions included (W3C `packetsReceived`).
    pub packets_received: u64,
    /// Payload bytes of those packets, without headers or padding (W3C `bytesReceived`).
    pub bytes_received: u64,
    /// Expected less received since the first packet, summed over restarts: negative when
    /// duplicates outnumber losses (W3C `packetsLost`, RFC 3550 §6.4.1).
    pub packets_lost: i64,
    /// Packets seen twice within the duplicate window.
    pub duplicates: u64,
    /// Packets received as retransmissions ([`ReceiveStats::on_retransmitted_packet`]), also in
    /// `packets_received` (W3C `retransmittedPacketsReceived`).
    pub retransmitted_packets_received: u64,
    /// Their payload bytes, also in `bytes_received` (W3C `retransmittedBytesReceived`).
    pub retransmitted_bytes_received: u64,
    /// Interarrival jitter in seconds (W3C `jitter`): RFC 3550 §A.8's estimate divided by the
    /// clock rate of the last packet.
    pub jitter_seconds: f64,
    /// The extended highest sequence number of the current run (RFC 3550 §A.3).
    pub extended_highest_seq: u64,
    /// Times the sender's sequence numbers restarted (RFC 3550 §A.1).
    pub restarts: u64,
    /// When the last packet arrived (W3C `lastPacketReceivedTimestamp`, in the caller's clock).
    pub last_packet_at: Option<Instant>,
}

/// The reception state of one remote SSRC. Feed it every authenticated RTP packet of that source
/// with [`on_packet`](Self::on_packet) and every sender report with
/// [`on_sender_report`](Self::on_sender_report); write its [`report_block`](Self::report_block)
/// into each RR or SR.
///
/// A packet repaired by a retransmission is fed with
/// [`on_retransmitted_packet`](Self::on_retransmitted_packet): it counts as received, not lost,
/// but leaves the jitter alone (RFC 4588 §4: its arrival time says nothing about the network's
/// jitter). The RTX stream itself, on its own SSRC, may have its own `ReceiveStats` for the report
/// blocks about it (RFC 4588 §6.2).
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    sequence: SequenceTracker,
    jitter: JitterEstimator,
    clock_rate: u32,
    /// Middle 32 bits of the last SR's NTP time, and when it arrived.
    last_sr: Option<(u32, Instant)>,
    counters: ReceiveCounters,
}

impl ReceiveStats {
    /// Statistics of a source not heard yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one received RTP packet: its arrival time, sequence number, timestamp, payload length
    /// (without header and padding) and the clock rate of its payload type. Returns what the
    /// sequence number turned out to be.
    ///
    /// Duplicates and jumps leave the jitter alone (a duplicate's transit time says nothing about
    /// the network); every packet is counted in [`ReceiveCounters`].
    pub fn on_packet(
        &mut self,
        now: Instant,
        seq: u16,
        rtp_timestamp: u32,
        payload_len: usize,
        clock_rate: u32,
    ) -> Arrival {
        let c = &mut self.counters;
        c.packets_received += 1;
        c.bytes_received += payload_len as u64;
        c.last_packet_at = Some(now);
        let arrival = self.sequence.update(seq);
        match arrival {
            Arrival::Duplicate => c.duplicates += 1,
            Arrival::Jump => {}
            Arrival::Restart => {
                c.restarts += 1;
                self.jitter.forget_previous();
                self.jitter.update(now, rtp_timestamp, clock_rate);
            }
            Arrival::Newest | Arrival::Late => self.jitter.update(now, rtp_timestamp, clock_rate),
        }
        if clock_rate != 0 {
            self.clock_rate = clock_rate;
        }
        arrival
    }

    /// Takes a packet of this source repaired by a retransmission (e.g. the original rebuilt from
    /// an [`RtxPacket`](super::RtxPacket)), by its original sequence number: counted as received
    /// and as retransmitted, and in the loss statistics, but not in the jitter.
    pub fn on_retransmitted_packet(&mut self, now: Instant, seq: u16, payload_len: usize) -> Arrival {
        let c = &mut self.counters;
        c.packets_received += 1;
        c.bytes_received += payload_len as u64;
        c.retransmitted_packets_received += 1;
        c.retransmitted_bytes_received += payload_len as u64;
        c.last_packet_at = Some(now);
        let arrival = self.sequence.update(seq);
        match arrival {
            Arrival::Duplicate => c.duplicates += 1,
            Arrival::Restart => {
                c.restarts += 1;
                self.jitter.forget_previous();
            }
            Arrival::Newest | Arrival::Late | Arrival::Jump => {}
        }
        arrival
    }

    /// Takes a sender report from this source: remembers the middle 32 bits of its NTP time (the
    /// next report blocks' LSR) and when it arrived (for their DLSR), RFC 3550 §6.4.1.
    pub fn on_sender_report(&mut self, now: Instant, ntp_time: u64) {
        self.last_sr = Some((compact_ntp(ntp_time), now));
    }

    /// The report block on this source for an RR or SR sent at `now` (RFC 3550 §6.4.1), with
    /// `ssrc` as its SSRC_n. Starts a new reporting interval: the next block's fraction lost
    /// covers the packets from here on (RFC 3550 §A.3).
    pub fn report_block(&mut self, now: Instant, ssrc: Ssrc) -> ReportBlock {
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            // DLSR in 1/65536 s; both zero when no SR has arrived (RFC 3550 §6.4.1).
            Some((lsr, at)) => (lsr, duration_to_compact(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        let cumulative = self.sequence.cumulative_lost();
        ReportBlock {
            ssrc,
            fraction_lost: self.sequence.take_fraction_lost(),
            // RFC 3550 §A.3: clamp to the 24-bit signed field rather than wrap.
            cumulative_lost: cumulative.clamp(-(1 << 23), (1 << 23) - 1) as i32,
            // The low 32 bits: 16 bits of cycles above the sequence number (RFC 3550 §6.4.1).
            extended_highest_seq: self.sequence.extended_highest() as u32,
            jitter: self.jitter.units(),
            last_sr,
            delay_since_last_sr,
        }
    }

    /// The counters for W3C stats, as of the last packet.
    pub fn counters(&self) -> ReceiveCounters {
        let mut c = self.counters;
        c.packets_lost = self.sequence.cumulative_lost();
        c.extended_highest_seq = self.sequence.extended_highest();
        c.jitter_seconds = if self.clock_rate == 0 {
            0.0
        } else {
            self.jitter.value() / f64::from(self.clock_rate)
        };
        c
    }

    /// The jitter estimate in RTP timestamp units (RFC 3550 §A.8), as the next report block will
    /// carry it.
    pub fn jitter(&self) -> u32 {
        self.jitter.units()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_clock::t0;
    use std::time::Duration;

    #[test]
    fn report_block_from_a_lossy_stream_across_the_wrap() {
        let start = t0();
        let mut r = ReceiveStats::new();
        // 20 packets 65526..=65535, 0..=9 at 48 kHz, 20 ms (960 ticks) apart, in time; 5 lost.
        let lost = [65530, 65531, 3, 4, 5];
        for i in 0..20u16 {
            let seq = 65526u16.wrapping_add(i);
            if lost.contains(&seq) {
                continue;
            }
            let now = start + Duration::from_millis(20 * u64::from(i));
            r.on_packet(now, seq, 960 * u32::from(i), 100, 48_000);
        }
        let b = r.report_block(start + Duration::from_secs(1), Ssrc(7));
        assert_eq!(b.ssrc, Ssrc(7));
        // 5 of 20: 5 × 256 / 20 = 64.
        assert_eq!((b.fraction_lost, b.cumulative_lost), (64, 5));
        // One wrap: 0x0001_0009.
        assert_eq!(b.extended_highest_seq, 0x0001_0009);
        // Packets exactly on time: no jitter. No SR yet: LSR and DLSR are zero.
        assert_eq!((b.jitter, b.last_sr, b.delay_since_last_sr), (0, 0, 0));
        let c = r.counters();
        assert_eq!(
            (c.packets_received, c.bytes_received, c.packets_lost),
            (15, 1500, 5)
        );
        // The next interval has no packets: fraction 0, cumulative unchanged.
        let b = r.report_block(start + Duration::from_secs(2), Ssrc(7));
        assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 5));
    }

    #[test]
    fn lsr_and_dlsr_from_the_last_sender_report() {
        let start = t0();
        let mut r = ReceiveStats::new();
        r.on_packet(start, 1, 0, 10, 90_000);
        // RFC 3550 Figure 2: the SR's NTP time 0xb44db705:20000000 gives LSR 0xb705:2000; the
        // report goes out 5.25 s after the SR arrived: DLSR 0x0005:4000.
        r.on_sender_report(start, 0xb44d_b705_2000_0000);
        let b = r.report_block(start + Duration::from_millis(5_250), Ssrc(1));
        assert_eq!((b.last_sr, b.delay_since_last_sr), (0xb705_2000, 0x0005_4000));
    }

    #[test]
    fn cumulative_lost_is_clamped_to_24_bits() {
        let start = t0();
        let mut r = ReceiveStats::new();
        // Gaps of 2999 (below MAX_DROPOUT): 2998 lost each time; 3000 gaps lose 8 994 000 packets,
        // above the 24-bit maximum 8 388 607.
        let mut seq = 0u16;
        for _ in 0..=3000 {
            r.on_packet(start, seq, 0, 0, 90_000);
            seq = seq.wrapping_add(2999);
        }
        assert_eq!(r.counters().packets_lost, 3000 * 2998);
        let b = r.report_block(start, Ssrc(1));
        assert_eq!(b.cumulative_lost, (1 << 23) - 1);
        // 2998 of each 2999 expected: 255.9, so 255.
        assert_eq!(b.fraction_lost, 255);
        // Duplicates drive it the other way: -8 388 608 at most.
        let mut r = ReceiveStats::new();
        for _ in 0..(1 << 23) + 5 {
            r.on_packet(start, 9, 0, 0, 90_000);
        }
        assert_eq!(r.report_block(start, Ssrc(1)).cumulative_lost, -(1 << 23));
        assert_eq!(r.counters().duplicates, (1 << 23) + 4);
    }

    #[test]
    fn jitter_in_seconds_and_duplicates_do_not_feed_it() {
        let start = t0();
        let mut r = ReceiveStats::new();
        // At 8 kHz the second packet is 10 ms (80 ticks) late: J = 80/16 = 5 ticks = 625 µs.
        r.on_packet(start, 1, 0, 160, 8_000);
        r.on_packet(start + Duration::from_millis(30), 2, 160, 160, 8_000);
        // A duplicate long after would add |D| = 4000 if it counted.
        let arrival = r.on_packet(start + Duration::from_secs(1), 2, 160, 160, 8_000);
        assert_eq!(arrival, Arrival::Duplicate);
        let c = r.counters();
        assert_eq!(c.jitter_seconds, 5.0 / 8_000.0);
        assert_eq!((c.duplicates, c.packets_received, c.packets_lost), (1, 3, -1));
        assert_eq!(r.jitter(), 5);
        assert_eq!(c.last_packet_at, Some(start + Duration::from_secs(1)));
    }

    #[test]
    fn retransmitted_packets_fill_the_gap_but_not_the_jitter() {
        let start = t0();
        let mut r = ReceiveStats::new();
        r.on_packet(start, 1, 0, 100, 8_000);
        r.on_packet(start + Duration::from_millis(40), 3, 320, 100, 8_000);
        assert_eq!(r.counters().packets_lost, 1);
        // 2 comes back at 340 ms (2720 ticks): as a plain packet, |D| = 2720 - 160 = 2560, J = 160.
        let arrival = r.on_retransmitted_packet(start + Duration::from_millis(340), 2, 90);
        assert_eq!(arrival, Arrival::Late);
        let c = r.counters();
        assert_eq!(
            (c.packets_lost, c.packets_received, c.bytes_received),
            (0, 3, 290)
        );
        assert_eq!(
            (c.retransmitted_packets_received, c.retransmitted_bytes_received),
            (1, 90)
        );
        assert_eq!((r.jitter(), c.jitter_seconds), (0, 0.0));
    }

    #[test]
    fn a_restart_is_not_thirty_thousand_losses() {
        let start = t0();
        let mut r = ReceiveStats::new();
        for s in 0..10 {
            r.on_packet(start, s, 0, 1, 90_000);
        }
        assert_eq!(r.on_packet(start, 30_009, 0, 1, 90_000), Arrival::Jump);
        assert_eq!(r.on_packet(start, 30_010, 0, 1, 90_000), Arrival::Restart);
        let c = r.counters();
        assert_eq!((c.packets_lost, c.restarts, c.packets_received), (0, 1, 12));
        assert_eq!(r.report_block(start, Ssrc(1)).extended_highest_seq, 30_010);
    }
}
