//! Transport-wide congestion control feedback we send (draft-holmer-rmcat-transport-wide-cc-extensions-01
//! §3.1): the arrival time of every packet that carries a transport-wide sequence number, reported
//! to the sender every [`TWCC_INTERVAL`], so that its bandwidth estimator (libwebrtc's GoogCC) can
//! follow the path instead of staying at its start rate.

use std::time::{Duration, Instant};

use oxirtc_rtp::packet::Ssrc;
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::TransportCc;

use super::Rtc;
use crate::Transmit;

/// How often feedback goes out while packets arrive: libwebrtc sends it every 50-100 ms.
pub(crate) const TWCC_INTERVAL: Duration = Duration::from_millis(50);

/// Arrivals kept between two feedback messages; beyond it the oldest half is reported at once, so
/// a flood cannot grow the list.
const MAX_PENDING_ARRIVALS: usize = 1024;

/// The arrivals not yet reported.
#[derive(Debug, Default)]
pub(crate) struct TwccRecorder {
    /// (transport-wide sequence number, arrival in µs since `epoch`).
    pending: Vec<(u16, i64)>,
    epoch: Option<Instant>,
    /// The media SSRC named in the feedback (the last packet's; the field is informational).
    media_ssrc: u32,
    /// The next feedback's packet count (§3.1: feedback packet count, wraps).
    feedback_count: u8,
    due: Option<Instant>,
    /// Feedback messages sent.
    pub(crate) sent: u64,
}

impl TwccRecorder {
    /// A packet with transport-wide sequence number `seq` arrived.
    pub(crate) fn on_packet(&mut self, now: Instant, seq: u16, ssrc: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = i64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(i64::MAX);
        self.pending.push((seq, arrival));
        self.media_ssrc = ssrc;
        self.due.get_or_insert(now + TWCC_INTERVAL);
    }

    /// When the next feedback is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.due
    }

    /// Whether the list is full and must be reported now.
    pub(crate) fn is_full(&self) -> bool {
        self.pending.len() >= MAX_PENDING_ARRIVALS
    }

    /// Writes the feedback of what arrived (reduced-size, RFC 5506, or after an empty receiver
    /// report) into `out`, and forgets it. `false` when there was nothing to report.
    pub(crate) fn write(&mut self, sender: Ssrc, rsize: bool, cname: &str, out: &mut Vec<u8>) -> bool {
        self.due = None;
        if self.pending.is_empty() {
            return false;
        }
        // Increasing order across the wrap, each number once (a duplicate keeps its first arrival).
        let base = self.pending[0].0;
        self.pending.sort_by_key(|&(seq, arrival)| {
            (i32::from(oxirtc_rtp::packet::seq::seq_diff(seq, base)), arrival)
        });
        self.pending.dedup_by_key(|p| p.0);
        let packets: Vec<(u16, Option<i64>)> = self.pending.iter().map(|&(s, a)| (s, Some(a))).collect();
        self.pending.clear();
        let media = Ssrc(self.media_ssrc);
        let count = self.feedback_count;
        let written = if rsize {
            TransportCc::write(sender, media, count, &packets, out)
        } else {
            Compound::receiver_report(out, sender, &[])
                .and_then(|r| r.cname(sender, cname))
                .and_then(|mut body| body.add(|o| TransportCc::write(sender, media, count, &packets, o)))
        };
        match written {
            Ok(()) => {
                self.feedback_count = count.wrapping_add(1);
                self.sent += 1;
                true
            }
            Err(e) => {
                // Arrivals more than ~8 s apart in one list: dropped, the next list starts afresh.
                tracing::debug!(error = %e, "rtc: transport-cc feedback not written");
                out.clear();
                false
            }
        }
    }
}

impl Rtc {
    /// Sends the transport-wide feedback when it is due (or the list is full).
    pub(crate) fn send_twcc_feedback(&mut self, now: Instant) {
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let due = session.twcc.poll_timeout().is_some_and(|t| now >= t) || session.twcc.is_full();
        if !due {
            return;
        }
        let Some((source, destination)) = self.data_path(now) else {
            return;
        };
        let Some(session) = self.media.as_deref_mut() else {
            return;
        };
        let rsize = self.sections.iter().any(|s| match s {
            crate::jsep::local::LocalSection::Media(m) => m.rtcp_rsize,
            _ => false,
        });
        let mut packet = Vec::with_capacity(256);
        let cname = format!("{:016x}", self.cname);
        if !session
            .twcc
            .write(Ssrc(session.rtcp_ssrc), rsize, &cname, &mut packet)
        {
            return;
        }
        if let Err(e) = session.tx.protect_rtcp(&mut packet) {
            tracing::debug!(error = %e, "rtc: SRTCP protection of feedback failed");
            return;
        }
        self.stats.rtcp_sent += 1;
        self.out.push_back(Transmit {
            source,
            destination,
            contents: packet,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_rtp::rtcp::RtcpPacket;

    #[test]
    fn arrivals_are_reported_in_order_once_each() {
        #[allow(clippy::disallowed_methods)] // the test owns the clock
        let t0 = Instant::now();
        let mut r = TwccRecorder::default();
        // Across the wrap, reordered, one duplicate, one missing (65535 + 2 = 1).
        r.on_packet(t0, 65534, 7);
        r.on_packet(t0 + Duration::from_millis(2), 0, 7);
        r.on_packet(t0 + Duration::from_millis(1), 65535, 7);
        r.on_packet(t0 + Duration::from_millis(3), 0, 7);
        r.on_packet(t0 + Duration::from_millis(5), 2, 7);
        assert_eq!(r.poll_timeout(), Some(t0 + TWCC_INTERVAL));
        let mut out = Vec::new();
        assert!(r.write(Ssrc(1), true, "c", &mut out));
        let RtcpPacket::TransportCc(fb) = RtcpPacket::parse(&out).unwrap() else {
            panic!("not transport-cc")
        };
        let got: Vec<(u16, Option<i64>)> = fb.packets().map(|p| (p.seq, p.arrival_us)).collect();
        let base = got[0].1.unwrap();
        let rel: Vec<(u16, Option<i64>)> = got.iter().map(|&(s, a)| (s, a.map(|a| a - base))).collect();
        assert_eq!(
            rel,
            [
                (65534, Some(0)),
                (65535, Some(1000)),
                (0, Some(2000)),
                (1, None),
                (2, Some(5000))
            ]
        );
        assert!(!r.write(Ssrc(1), true, "c", &mut Vec::new()), "nothing left");
        assert_eq!(r.poll_timeout(), None);
    }
}
