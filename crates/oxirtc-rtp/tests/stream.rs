//! The stream module's pieces together: a sender and a receiver over a lossy link on a virtual
//! clock, repairing every loss with NACK and RTX, exchanging SRs and RRs on their schedules, and
//! measuring the link's round-trip time.
#![allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly

use std::time::{Duration, Instant, SystemTime};

use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::{Nack, RtcpPacket};
use oxirtc_rtp::stream::*;

const MEDIA: Ssrc = Ssrc(0x1111);
const RTX: Ssrc = Ssrc(0x2222);
const RECEIVER: Ssrc = Ssrc(0x9999);
const MEDIA_PT: u8 = 96;
const RTX_PT: u8 = 97;
/// One-way delay of the link: the round trip is 50 ms.
const DELAY: Duration = Duration::from_millis(25);
const MS: Duration = Duration::from_millis(1);

/// What crosses the link.
enum Datagram {
    Rtp(Vec<u8>),
    RtcpToSender(Vec<u8>),
    RtcpToReceiver(Vec<u8>),
}

/// A link that delays everything by `DELAY` and drops one datagram in `1 / loss_one_in`, chosen
/// by a fixed linear congruential generator, so every run is the same.
struct Link {
    in_flight: Vec<(Instant, Datagram)>,
    rng: u64,
    /// Media packets dropped (not counting retransmissions).
    dropped_media: u64,
}

impl Link {
    fn random(&mut self) -> u32 {
        // Knuth's MMIX constants.
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.rng >> 32) as u32
    }

    fn send(&mut self, now: Instant, d: Datagram) {
        if self.random().is_multiple_of(20) {
            // 5 % loss, in both directions, retransmissions and NACKs included.
            if let Datagram::Rtp(bytes) = &d {
                self.dropped_media += u64::from(RtpPacket::parse(bytes).unwrap().ssrc() == MEDIA);
            }
            return;
        }
        self.in_flight.push((now + DELAY, d));
    }

    fn arrived(&mut self, now: Instant) -> Vec<Datagram> {
        let (due, rest) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.in_flight = rest;
        due.into_iter().map(|(_, d)| d).collect()
    }
}

struct Sender {
    stats: SendStats,
    history: RetransmitBuffer,
    schedule: ReportSchedule,
    rtx_seq: u16,
}

struct Receiver {
    stats: ReceiveStats,
    nacks: NackGenerator,
    schedule: ReportSchedule,
}

#[test]
fn lossy_link_every_loss_repaired_and_rtt_measured() {
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    let t0 = Instant::now();
    let wall0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let ntp = |now: Instant| ntp_from_system_time(wall0 + (now - t0));
    let mut link = Link {
        in_flight: Vec::new(),
        rng: 7,
        dropped_media: 0,
    };
    let mut tx = Sender {
        stats: SendStats::new(),
        history: RetransmitBuffer::new(RetransmitConfig::default()),
        schedule: ReportSchedule::new(t0, VIDEO_REPORT_INTERVAL, 11),
        rtx_seq: 500,
    };
    let mut rx = Receiver {
        stats: ReceiveStats::new(),
        nacks: NackGenerator::new(NackConfig::default()),
        schedule: ReportSchedule::new(t0, VIDEO_REPORT_INTERVAL, 0xdead_beef),
    };
    let mut rtt_seen = Vec::new();
    let first_seq = 65_000u16; // the sequence wraps during the run
    let packets = 1_000u32;

    // 1000 packets every 10 ms (900 ticks at 90 kHz), then 1.5 s more for repairs and reports.
    for ms in 0..11_500u32 {
        let now = t0 + MS * ms;
        if ms % 10 == 0 && ms / 10 < packets {
            let i = ms / 10;
            let mut buf = Vec::new();
            let header = RtpHeader {
                payload_type: MEDIA_PT,
                sequence_number: first_seq.wrapping_add(i as u16),
                timestamp: 900 * i,
                ssrc: MEDIA,
                ..Default::default()
            };
            header.write(&i.to_be_bytes(), 0, &mut buf).unwrap();
            let packet = RtpPacket::parse(&buf).unwrap();
            tx.stats
                .on_packet(now, packet.timestamp(), packet.payload().len());
            assert!(tx.history.insert(now, &packet));
            link.send(now, Datagram::Rtp(buf));
        }
        for d in link.arrived(now) {
            match d {
                Datagram::Rtp(bytes) => receive_rtp(&mut rx, now, &bytes),
                Datagram::RtcpToReceiver(bytes) => receive_sr(&mut rx, now, &bytes),
                Datagram::RtcpToSender(bytes) => {
                    receive_feedback(&mut tx, &mut link, now, ntp(now), &bytes, &mut rtt_seen)
                }
            }
        }
        // The receiver: NACKs as they fall due (it takes the RTT as 50 ms), and its RRs.
        if let Some(lost) = rx.nacks.poll_nacks(now, 50 * MS) {
            let mut rtcp = Vec::new();
            Nack::write(RECEIVER, MEDIA, lost.iter().copied(), &mut rtcp).unwrap();
            link.send(now, Datagram::RtcpToSender(rtcp));
        }
        if rx.schedule.due(now) {
            let block = rx.stats.report_block(now, MEDIA);
            let mut rtcp = Vec::new();
            Compound::receiver_report(&mut rtcp, RECEIVER, &[block])
                .and_then(|c| c.cname(RECEIVER, "receiver"))
                .unwrap();
            link.send(now, Datagram::RtcpToSender(rtcp));
            rx.schedule.sent(now, link.random());
        }
        // The sender's SRs.
        if tx.schedule.due(now) {
            if let Some(info) = tx.stats.sender_info(now, ntp(now), 90_000) {
                let mut rtcp = Vec::new();
                Compound::sender_report(&mut rtcp, MEDIA, &info, &[])
                    .and_then(|c| c.cname(MEDIA, "sender"))
                    .unwrap();
                link.send(now, Datagram::RtcpToReceiver(rtcp));
            }
            tx.schedule.sent(now, link.random());
        }
    }

    // The link dropped about 5 % of the media packets (55 with this seed), and some of everything
    // else. Every media packet arrived, first time or repaired: nothing lost, nothing given up.
    assert!(link.dropped_media >= 30, "{}", link.dropped_media);
    let c = rx.stats.counters();
    assert_eq!(
        (c.packets_lost, c.packets_received, c.duplicates),
        (0, u64::from(packets), 0)
    );
    assert_eq!(c.retransmitted_packets_received, link.dropped_media);
    // Across the wrap: 65 000 + 999 in the first cycle's numbering.
    assert_eq!(c.extended_highest_seq, 65_999);
    let n = rx.nacks.stats();
    assert_eq!((n.given_up, n.overflows, rx.nacks.missing()), (0, 0, 0));
    assert_eq!(n.recovered, link.dropped_media);
    // Constant delay, exact timestamps, retransmissions kept out of it: no jitter.
    assert_eq!(c.jitter_seconds, 0.0);
    // The sender measured the link's 50 ms at each RR after its first SR, within the rounding of
    // three values truncated to 1/65536 s (A and LSR each floored, DLSR floored: the result is
    // within -1 and +2 units, 30.5 µs), and the last RR it got reported no loss.
    assert!(rtt_seen.len() >= 8, "{}", rtt_seen.len());
    for rtt in &rtt_seen {
        assert!(rtt.abs_diff(50 * MS) < Duration::from_nanos(30_518), "{rtt:?}");
    }
    assert_eq!(tx.history.rtt(), *rtt_seen.last().unwrap());
    let remote = tx.stats.remote().unwrap();
    assert_eq!(remote.cumulative_lost, 0);
    let h = tx.history.stats();
    assert!(h.resent >= link.dropped_media);
    assert_eq!(h.not_found + h.too_old, 0);
}

/// The receiver takes an RTP packet: media by its own sequence number, RTX by the OSN.
fn receive_rtp(rx: &mut Receiver, now: Instant, bytes: &[u8]) {
    let packet = RtpPacket::parse(bytes).unwrap();
    if packet.ssrc() == RTX {
        let rtx = RtxPacket::parse(packet).unwrap().unwrap();
        let mut original = Vec::new();
        rtx.write_original(MEDIA, MEDIA_PT, &mut original).unwrap();
        let original = RtpPacket::parse(&original).unwrap();
        assert_eq!(original.payload().len(), 4);
        let seq = original.sequence_number();
        rx.stats
            .on_retransmitted_packet(now, seq, original.payload().len());
        rx.nacks.on_packet(now, seq);
    } else {
        let (seq, ts) = (packet.sequence_number(), packet.timestamp());
        rx.stats.on_packet(now, seq, ts, packet.payload().len(), 90_000);
        rx.nacks.on_packet(now, seq);
    }
}

/// The receiver takes the sender's compound: the SR's NTP time.
fn receive_sr(rx: &mut Receiver, now: Instant, bytes: &[u8]) {
    for p in RtcpPacket::compound(bytes) {
        if let RtcpPacket::SenderReport(sr) = p.unwrap() {
            rx.stats.on_sender_report(now, sr.info.ntp_time);
        }
    }
}

/// The sender takes RRs (RTT, remote loss) and NACKs (answered with RTX).
fn receive_feedback(
    tx: &mut Sender,
    link: &mut Link,
    now: Instant,
    ntp_now: u64,
    bytes: &[u8],
    rtt_seen: &mut Vec<Duration>,
) {
    for p in RtcpPacket::compound(bytes) {
        match p.unwrap() {
            RtcpPacket::ReceiverReport(rr) => {
                for block in rr.reports.iter().filter(|b| b.ssrc == MEDIA) {
                    if let Some(rtt) = tx.stats.on_report_block(now, ntp_now, &block) {
                        tx.history.set_rtt(rtt);
                        rtt_seen.push(rtt);
                    }
                }
            }
            RtcpPacket::Nack(nack) => {
                for seq in nack.lost() {
                    let Some(resend) = tx.history.on_nack(now, seq) else {
                        continue;
                    };
                    let params = RtxParams {
                        ssrc: RTX,
                        payload_type: RTX_PT,
                        sequence_number: tx.rtx_seq,
                    };
                    tx.rtx_seq = tx.rtx_seq.wrapping_add(1);
                    let mut out = Vec::new();
                    resend.write_rtx(params, &mut out).unwrap();
                    link.send(now, Datagram::Rtp(out));
                }
            }
            _ => {}
        }
    }
}
