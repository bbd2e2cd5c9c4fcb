//! RTCP on an [`Rtc`]: what the peer's RTCP tells us (RFC 3550 §6.4 reports, RFC 4585 §6.2.1
//! generic NACK, §6.3.1 PLI, RFC 5104 §4.3.1 FIR), the reports we send on a randomised schedule
//! (RFC 3550 §6.2, §6.3.1: SR for what we send, RR blocks for what we receive), the NACKs we send
//! for what is missing, and the retransmissions we answer NACKs with (RFC 4588 §4: on the RTX
//! stream when negotiated, else the original packet again).

use std::time::Instant;

use oxirtc_rtp::packet::{RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::{Nack, ReportBlock, RtcpPacket, SenderReport};
use oxirtc_rtp::stream::{
    NackConfig, NackGenerator, ReceiveStats, ReportSchedule, RtxPacket, RtxParams, AUDIO_REPORT_INTERVAL,
    VIDEO_REPORT_INTERVAL,
};

use super::Rtc;
use crate::jsep::local::LocalSection;
use crate::media::{InboundRtpStats, KeyframeRequestKind, MediaStats, OutboundRtpStats, TrackKind};
use crate::{RtcEvent, Transmit};

/// Report blocks in one SR or RR (RFC 3550 §6.4: the count field has 5 bits).
const MAX_REPORT_BLOCKS: usize = 31;

/// Sequence numbers named in one NACK packet at most: 64 pairs of 17 when packed, and few bytes.
const MAX_NACKS_PER_PACKET: usize = 64;

/// Remote media streams with receive statistics; beyond it the least recently heard goes (the
/// same bound as the SSRC routing table).
const MAX_RECEIVE_STREAMS: usize = 64;

/// One RTP stream the peer sends us: its reception statistics and the NACKs for its losses.
pub(crate) struct ReceiveStream {
    pub(crate) ssrc: u32,
    pub(crate) mid: String,
    pub(crate) rid: Option<String>,
    pub(crate) kind: TrackKind,
    pub(crate) stats: ReceiveStats,
    /// When the section negotiated generic NACK for the stream's codec (RFC 4585 §4.2).
    nack: Option<NackGenerator>,
    /// NACK packets sent (W3C `nackCount`) and PLIs sent (`pliCount`).
    pub(crate) nacks_sent: u64,
    pub(crate) plis_sent: u64,
}

/// What a received RTP packet is to the reception statistics.
pub(crate) struct Arrived<'a> {
    pub(crate) mid: &'a str,
    pub(crate) rid: Option<&'a str>,
    pub(crate) ssrc: u32,
    pub(crate) seq: u16,
    pub(crate) timestamp: u32,
    pub(crate) payload_len: usize,
    pub(crate) payload_type: u8,
    pub(crate) retransmitted: bool,
}

impl Rtc {
    /// The statistics of every media stream (W3C inbound-rtp, outbound-rtp, remote-inbound-rtp).
    pub fn media_stats(&self) -> MediaStats {
        let Some(session) = self.media.as_deref() else {
            return MediaStats::default();
        };
        let inbound = session
            .receivers
            .iter()
            .map(|r| {
                let c = r.stats.counters();
                InboundRtpStats {
                    mid: r.mid.clone(),
                    kind: r.kind,
                    ssrc: r.ssrc,
                    rid: r.rid.clone(),
                    packets_received: c.packets_received,
                    bytes_received: c.bytes_received,
                    packets_lost: c.packets_lost,
                    jitter: c.jitter_seconds,
                    retransmitted_packets_received: c.retransmitted_packets_received,
                    nack_count: r.nacks_sent,
                    pli_count: r.plis_sent,
                }
            })
            .collect();
        let outbound = session
            .senders
            .iter()
            .map(|s| {
                let remote = s.stats.remote();
                let rtts = s.stats.round_trip_times();
                OutboundRtpStats {
                    mid: s.params.mid.clone(),
                    ssrc: s.ssrc,
                    packets_sent: s.packets_sent,
                    bytes_sent: s.bytes_sent,
                    retransmitted_packets_sent: s.retransmitted_packets,
                    retransmitted_bytes_sent: s.retransmitted_bytes,
                    nack_count: s.nacks_received,
                    pli_count: s.plis_received,
                    fir_count: s.firs_received,
                    remote_packets_lost: remote.map(|r| i64::from(r.cumulative_lost)),
                    remote_fraction_lost: remote.map(|r| f64::from(r.fraction_lost) / 256.0),
                    remote_jitter: remote.map(|r| r.jitter_seconds(s.clock_rate)),
                    round_trip_time: rtts.latest,
                    total_round_trip_time: rtts.total,
                    round_trip_time_measurements: rtts.measurements,
                }
            })
            .collect();
        MediaStats { inbound, outbound }
    }

    /// Pins the RTCP clock to the wall clock: `wallclock` is the time at `now` (RFC 3550 §4: NTP
    /// timestamps in sender reports, which receivers use to synchronise audio with video and to
    /// measure the round trip). Without it, sender reports count from an arbitrary origin, which
    /// is enough for round-trip times but not for synchronising with other clocks. The async
    /// driver calls it once.
    pub fn set_wallclock(&mut self, now: Instant, wallclock: std::time::SystemTime) {
        self.ntp_origin = Some((now, oxirtc_rtp::stream::ntp_from_system_time(wallclock)));
    }

    /// The NTP time (RFC 3550 §4, 32.32 fixed point) at `now`.
    pub(crate) fn ntp_at(&mut self, now: Instant) -> u64 {
        let (origin, ntp) = *self.ntp_origin.get_or_insert((now, 0));
        let since = now.saturating_duration_since(origin);
        let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
        ntp.wrapping_add((since.as_secs() << 32) | frac)
    }

    /// Statistics (and NACK bookkeeping) of one authenticated, routed RTP packet.
    pub(crate) fn count_arrival(&mut self, now: Instant, a: &Arrived<'_>) {
        let clock_rate = self.clock_rate_of(a.mid, a.payload_type);
        let nack = self.negotiated_nack(a.mid, a.payload_type);
        let kind = self.local_media(a.mid).map_or(TrackKind::Video, |m| m.kind);
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let at = session.receivers.iter().position(|r| r.ssrc == a.ssrc);
        let mut stream = match at {
            Some(i) => session.receivers.remove(i),
            None => {
                if session.receivers.len() >= MAX_RECEIVE_STREAMS {
                    session.receivers.pop();
                }
                ReceiveStream {
                    ssrc: a.ssrc,
                    mid: a.mid.to_owned(),
                    rid: a.rid.map(str::to_owned),
                    kind,
                    stats: ReceiveStats::new(),
                    nack: nack.then(|| NackGenerator::new(NackConfig::default())),
                    nacks_sent: 0,
                    plis_sent: 0,
                }
            }
        };
        if a.retransmitted {
            stream.stats.on_retransmitted_packet(now, a.seq, a.payload_len);
        } else {
            stream
                .stats
                .on_packet(now, a.seq, a.timestamp, a.payload_len, clock_rate);
        }
        if let Some(n) = stream.nack.as_mut() {
            n.on_packet(now, a.seq);
        }
        if stream.rid.is_none() && a.rid.is_some() {
            stream.rid = a.rid.map(str::to_owned);
        }
        // Most recently heard first: the bound drops the stream silent the longest.
        session.receivers.insert(0, stream);
    }

    /// An RTX packet (RFC 4588 §4) of the section `mid`: the original packet it carries, as the
    /// original stream's SSRC, payload type and sequence number, or `None` for a padding-only probe
    /// or a repair stream we cannot pair with a media stream.
    pub(crate) fn unwrap_rtx(
        &self,
        mid: &str,
        rid: Option<&str>,
        rtp: RtpPacket<'_>,
    ) -> Option<(u32, u8, u16, Vec<u8>)> {
        let rtx = RtxPacket::parse(rtp).ok()??;
        let original_pt = self
            .local_media(mid)?
            .codecs
            .iter()
            .find_map(|c| (c.rtx_payload_type == Some(rtp.payload_type())).then_some(c.payload_type))?;
        let session = self.media.as_deref()?;
        // RFC 5576 §4.2 a=ssrc-group:FID, else the media stream of the same section and rid.
        let announced = self.remote_media(mid).and_then(|m| {
            m.rtx_pairs
                .iter()
                .find(|(_, r)| *r == rtp.ssrc().0)
                .map(|(media, _)| *media)
        });
        let original = announced.or_else(|| {
            let mut same = session
                .receivers
                .iter()
                .filter(|r| r.mid == mid && r.rid.as_deref() == rid && r.ssrc != rtp.ssrc().0);
            match (same.next(), same.next()) {
                (Some(r), None) => Some(r.ssrc),
                _ => None,
            }
        })?;
        Some((
            original,
            original_pt,
            rtx.original_sequence_number(),
            rtx.original_payload().to_vec(),
        ))
    }

    /// An authenticated RTCP compound (RFC 3550 §6.1) or reduced-size packet (RFC 5506). A packet
    /// that does not parse is counted; one whose length is wrong ends the compound's reading.
    pub(crate) fn handle_rtcp(&mut self, now: Instant, datagram: &[u8]) {
        let ntp_now = self.ntp_at(now);
        let mut requests = Vec::new();
        let mut nacked: Vec<(u32, u16)> = Vec::new();
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let mut rtt = None;
        for packet in RtcpPacket::compound(datagram) {
            let blocks: Vec<ReportBlock> = match packet {
                Ok(RtcpPacket::SenderReport(SenderReport {
                    ssrc, info, reports, ..
                })) => {
                    if let Some(r) = session.receivers.iter_mut().find(|r| r.ssrc == ssrc.0) {
                        r.stats.on_sender_report(now, info.ntp_time);
                    }
                    reports.iter().collect()
                }
                Ok(RtcpPacket::ReceiverReport(rr)) => rr.reports.iter().collect(),
                Ok(RtcpPacket::Pli(pli)) => {
                    if let Some(s) = session.senders.iter_mut().find(|s| s.ssrc == pli.media_ssrc.0) {
                        s.plis_received += 1;
                        requests.push((s.params.mid.clone(), KeyframeRequestKind::Pli));
                    }
                    continue;
                }
                Ok(RtcpPacket::Fir(fir)) => {
                    for entry in fir.entries() {
                        if let Some(s) = session.senders.iter_mut().find(|s| s.ssrc == entry.ssrc.0) {
                            s.firs_received += 1;
                            requests.push((s.params.mid.clone(), KeyframeRequestKind::Fir));
                        }
                    }
                    continue;
                }
                Ok(RtcpPacket::Nack(nack)) => {
                    if let Some(s) = session.senders.iter_mut().find(|s| s.ssrc == nack.media_ssrc.0) {
                        s.nacks_received += 1;
                        // A NACK names at most 17 × its pairs; the RTCP length bounds the pairs.
                        nacked.extend(nack.lost().map(|seq| (s.ssrc, seq)));
                    }
                    continue;
                }
                Ok(_) => continue,
                Err(e) => {
                    self.stats.rtcp_malformed += 1;
                    tracing::trace!(error = %e, "rtc: malformed RTCP dropped");
                    continue;
                }
            };
            for block in &blocks {
                if let Some(s) = session.senders.iter_mut().find(|s| s.ssrc == block.ssrc.0) {
                    if let Some(measured) = s.stats.on_report_block(now, ntp_now, block) {
                        rtt = Some(measured);
                        if let Some(h) = s.history.as_mut() {
                            h.set_rtt(measured);
                        }
                    }
                }
            }
        }
        if let Some(rtt) = rtt {
            session.rtt = Some(rtt);
        }
        for (mid, kind) in requests {
            self.events.push_back(RtcEvent::KeyframeRequest { mid, kind });
        }
        if !nacked.is_empty() {
            self.retransmit(now, &nacked);
        }
    }

    /// Answers NACKs: each packet still held goes again, on the RTX stream when the codec has one
    /// (RFC 4588 §4), else as it was (RFC 4585 §6.2.1 leaves the repair to the sender).
    fn retransmit(&mut self, now: Instant, nacked: &[(u32, u16)]) {
        let Some((source, destination)) = self.data_path(now) else {
            return;
        };
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let mut out = Vec::new();
        for &(ssrc, seq) in nacked {
            let Some(s) = session.senders.iter_mut().find(|s| s.ssrc == ssrc) else {
                continue;
            };
            let rtx_ssrc = s.rtx_ssrc;
            let rtx_pt_of = |pt: u8| {
                s.params
                    .codecs
                    .iter()
                    .find(|c| c.payload_type == pt)
                    .and_then(|c| c.rtx_payload_type)
            };
            let mut next_rtx_seq = s.rtx_seq;
            let Some(history) = s.history.as_mut() else {
                continue;
            };
            let Some(r) = history.on_nack(now, seq) else {
                continue;
            };
            let mut packet = Vec::with_capacity(r.packet().payload().len() + 64);
            let rtx_pt = rtx_pt_of(r.packet().payload_type());
            let written = match rtx_pt {
                Some(payload_type) => {
                    let params = RtxParams {
                        ssrc: Ssrc(rtx_ssrc),
                        payload_type,
                        sequence_number: next_rtx_seq,
                    };
                    next_rtx_seq = next_rtx_seq.wrapping_add(1);
                    r.write_rtx(params, &mut packet).is_ok()
                }
                None => {
                    r.write_original(&mut packet);
                    true
                }
            };
            let len = r.packet().payload().len() as u64;
            s.rtx_seq = next_rtx_seq;
            if written {
                s.retransmitted_packets += 1;
                s.retransmitted_bytes += len;
                out.push(packet);
            }
        }
        for mut packet in out {
            if session.tx.protect_rtp(&mut packet).is_err() {
                continue;
            }
            self.stats.rtp_sent += 1;
            self.out.push_back(Transmit {
                source,
                destination,
                contents: packet,
            });
        }
    }

    /// Sends what RTCP is due: NACKs for missing packets (and a PLI when a NACK list overflowed),
    /// then the periodic report.
    pub(crate) fn send_due_rtcp(&mut self, now: Instant) {
        self.send_nacks(now);
        self.send_report_if_due(now);
    }

    /// When RTCP is next due.
    pub(crate) fn rtcp_timeout(&self) -> Option<Instant> {
        let session = self.media.as_deref()?;
        let nacks = session
            .receivers
            .iter()
            .filter_map(|r| r.nack.as_ref()?.poll_timeout())
            .min();
        let report = session.reports.as_ref().map(ReportSchedule::poll_timeout);
        [nacks, report, session.twcc.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    fn send_nacks(&mut self, now: Instant) {
        let rsize = self.any_rtcp_rsize();
        let cname = format!("{:016x}", self.cname);
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let rtt = session.rtt.unwrap_or(oxirtc_rtp::stream::DEFAULT_RTT);
        let sender = Ssrc(session.rtcp_ssrc);
        let mut packets = Vec::new();
        let mut keyframes = Vec::new();
        for r in &mut session.receivers {
            let Some(generator) = r.nack.as_mut() else {
                continue;
            };
            if generator.take_keyframe_request() && r.kind == TrackKind::Video {
                keyframes.push(r.mid.clone());
            }
            let Some(lost) = generator.poll_nacks(now, rtt) else {
                continue;
            };
            for chunk in lost.chunks(MAX_NACKS_PER_PACKET) {
                let mut packet = Vec::with_capacity(128);
                let media = Ssrc(r.ssrc);
                let written = if rsize {
                    Nack::write(sender, media, chunk.iter().copied(), &mut packet)
                } else {
                    Compound::receiver_report(&mut packet, sender, &[])
                        .and_then(|w| w.cname(sender, &cname))
                        .and_then(|mut body| {
                            body.add(|o| Nack::write(sender, media, chunk.iter().copied(), o))
                        })
                };
                if written.is_ok() {
                    r.nacks_sent += 1;
                    packets.push(packet);
                }
            }
        }
        for packet in packets {
            self.send_rtcp(now, packet);
        }
        for mid in keyframes {
            // The loss was beyond repair by NACK: ask for a fresh start.
            let _ = self.request_keyframe(now, &mid);
        }
    }

    /// Counts a PLI sent for the media streams of `mid`.
    pub(crate) fn count_pli(&mut self, mid: &str) {
        if let Some(session) = self.media.as_deref_mut() {
            for r in session.receivers.iter_mut().filter(|r| r.mid == mid) {
                r.plis_sent += 1;
            }
        }
    }

    /// RFC 3550 §6.4: one SR per stream we send (the first with the report blocks), or one RR
    /// when we send nothing, then our CNAME (§6.5.1); every `VIDEO_REPORT_INTERVAL` with video,
    /// `AUDIO_REPORT_INTERVAL` otherwise, randomised (§6.3.1).
    fn send_report_if_due(&mut self, now: Instant) {
        let interval = if self.has_video() {
            VIDEO_REPORT_INTERVAL
        } else {
            AUDIO_REPORT_INTERVAL
        };
        let random = self.rng.u32();
        let ntp_now = self.ntp_at(now);
        let cname = format!("{:016x}", self.cname);
        let clock_rates: Vec<u32> = self
            .media
            .as_deref()
            .map(|m| m.senders.iter().map(|s| s.clock_rate).collect())
            .unwrap_or_default();
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let schedule = session
            .reports
            .get_or_insert_with(|| ReportSchedule::new(now, interval, random));
        if !schedule.due(now) {
            return;
        }
        schedule.sent(now, random.rotate_left(16));
        let blocks: Vec<ReportBlock> = session
            .receivers
            .iter_mut()
            .take(MAX_REPORT_BLOCKS)
            .map(|r| r.stats.report_block(now, Ssrc(r.ssrc)))
            .collect();
        let mut packet = Vec::with_capacity(256);
        let infos: Vec<(u32, oxirtc_rtp::rtcp::SenderInfo)> = session
            .senders
            .iter()
            .zip(&clock_rates)
            .filter_map(|(s, &rate)| Some((s.ssrc, s.stats.sender_info(now, ntp_now, rate)?)))
            .collect();
        let written = match infos.split_first() {
            Some(((ssrc, info), rest)) => Compound::sender_report(&mut packet, Ssrc(*ssrc), info, &blocks)
                .and_then(|w| w.cname(Ssrc(*ssrc), &cname))
                .and_then(|mut body| {
                    rest.iter().try_for_each(|(ssrc, info)| {
                        body.add(|o| SenderReport::write(Ssrc(*ssrc), info, &[], o))
                    })
                }),
            None => Compound::receiver_report(&mut packet, Ssrc(session.rtcp_ssrc), &blocks)
                .and_then(|w| w.cname(Ssrc(session.rtcp_ssrc), &cname))
                .map(drop),
        };
        if written.is_ok() {
            self.send_rtcp(now, packet);
        }
    }

    /// Protects and queues one RTCP packet.
    fn send_rtcp(&mut self, now: Instant, mut packet: Vec<u8>) {
        let Some((source, destination)) = self.data_path(now) else {
            return;
        };
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        if session.tx.protect_rtcp(&mut packet).is_err() {
            return;
        }
        self.stats.rtcp_sent += 1;
        self.out.push_back(Transmit {
            source,
            destination,
            contents: packet,
        });
    }

    fn any_rtcp_rsize(&self) -> bool {
        self.sections
            .iter()
            .any(|s| matches!(s, LocalSection::Media(m) if m.rtcp_rsize))
    }

    fn has_video(&self) -> bool {
        self.sections
            .iter()
            .any(|s| matches!(s, LocalSection::Media(m) if m.kind == TrackKind::Video))
    }

    /// The clock rate of a payload type of a section (0 when unknown).
    fn clock_rate_of(&self, mid: &str, pt: u8) -> u32 {
        self.local_media(mid)
            .and_then(|m| m.codecs.iter().find(|c| c.payload_type == pt))
            .map_or(0, |c| c.codec.clock_rate)
    }

    /// Whether the section negotiated generic NACK (`a=rtcp-fb:<pt> nack`) for a payload type.
    fn negotiated_nack(&self, mid: &str, pt: u8) -> bool {
        self.local_media(mid)
            .and_then(|m| m.codecs.iter().find(|c| c.payload_type == pt))
            .is_some_and(|c| c.feedback.iter().any(|f| f.kind == "nack" && f.param.is_none()))
    }
}
