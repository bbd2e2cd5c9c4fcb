//! Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) matched with
//! the sent packets: which were received, when (on the receiver's clock), and how many were lost.
//!
//! Arrival times are only ever compared with each other, so they stay on the receiver's clock.
//! Its 24-bit reference time wraps every 2^24 × 64 ms (about 12.4 days): a jump of more than half
//! that span is taken as a wrap and undone.

use crate::history::{Reported, SentHistory};
use crate::types::ProbeClusterId;

/// The span of the 24-bit reference time, in µs (§3.1: 64 ms units).
const REFERENCE_SPAN_US: i64 = (1 << 24) * 64_000;
/// Arrival times are clamped to ± this before any arithmetic (far beyond any real clock).
const ARRIVAL_LIMIT_US: i64 = 1 << 52;
/// Feedback for a packet sent longer ago than this is ignored (libwebrtc's 60 s send-time
/// history window).
const MAX_FEEDBACK_AGE_US: i64 = 60_000_000;

/// One packet reported received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketResult {
    /// Sent at, local µs.
    pub send_us: i64,
    /// Size in bytes.
    pub size: u32,
    /// Arrived at, receiver's clock, µs (unwrapped).
    pub arrival_us: i64,
    /// The probe cluster it was sent for.
    pub probe: Option<ProbeClusterId>,
}

/// What one feedback message said, beyond the received packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FeedbackSummary {
    /// Packets reported for the first time (received or lost).
    pub newly_reported: u32,
    /// Of those, reported lost.
    pub lost: u32,
    /// Packets reported lost before and received now.
    pub recovered: u32,
    /// Sequence numbers we have no record of (never sent, too old, or before a path change).
    pub unknown: u32,
    /// Packets reported again after they were received, or lost again.
    pub duplicates: u32,
    /// The latest send time among the packets reported received.
    pub newest_send_us: Option<i64>,
}

/// Turns feedback into [`PacketResult`]s, sorted by arrival.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeedbackAdapter {
    results: Vec<PacketResult>,
    /// Added to raw arrival times to undo reference-time wraps.
    wrap_offset: i64,
    last_arrival: Option<i64>,
}

impl FeedbackAdapter {
    /// Matches one feedback message against `history`.
    pub(crate) fn process(
        &mut self,
        history: &mut SentHistory,
        now_us: i64,
        packets: impl IntoIterator<Item = (u16, Option<i64>)>,
    ) -> FeedbackSummary {
        self.results.clear();
        let mut s = FeedbackSummary::default();
        for (seq, arrival) in packets {
            let Some(info) = history.get_mut(seq) else {
                s.unknown = s.unknown.saturating_add(1);
                continue;
            };
            if now_us.saturating_sub(info.send_us) > MAX_FEEDBACK_AGE_US {
                s.unknown = s.unknown.saturating_add(1);
                continue;
            }
            match (arrival, info.reported) {
                (_, Reported::Received) | (None, Reported::Lost) => {
                    s.duplicates = s.duplicates.saturating_add(1)
                }
                (None, Reported::Not) => {
                    info.reported = Reported::Lost;
                    s.newly_reported = s.newly_reported.saturating_add(1);
                    s.lost = s.lost.saturating_add(1);
                }
                (Some(raw), before) => {
                    if before == Reported::Lost {
                        s.recovered = s.recovered.saturating_add(1);
                    } else {
                        s.newly_reported = s.newly_reported.saturating_add(1);
                    }
                    info.reported = Reported::Received;
                    let result = PacketResult {
                        send_us: info.send_us,
                        size: info.size,
                        arrival_us: 0,
                        probe: info.probe,
                    };
                    let arrival_us = self.unwrap_arrival(raw);
                    s.newest_send_us =
                        Some(s.newest_send_us.map_or(result.send_us, |t| t.max(result.send_us)));
                    self.results.push(PacketResult { arrival_us, ..result });
                }
            }
        }
        self.results.sort_by_key(|r| (r.arrival_us, r.send_us));
        s
    }

    /// The packets the last message reported received, by arrival time.
    pub(crate) fn results(&self) -> &[PacketResult] {
        &self.results
    }

    /// Undoes reference-time wraps: an arrival more than half the span away from the previous one
    /// is moved by whole spans towards it.
    fn unwrap_arrival(&mut self, raw: i64) -> i64 {
        let mut t = raw.clamp(-ARRIVAL_LIMIT_US, ARRIVAL_LIMIT_US) + self.wrap_offset;
        if let Some(last) = self.last_arrival {
            let d = t - last;
            if d.abs() > REFERENCE_SPAN_US / 2 {
                let spans = (d + d.signum() * REFERENCE_SPAN_US / 2) / REFERENCE_SPAN_US;
                let shift = spans * REFERENCE_SPAN_US;
                t -= shift;
                self.wrap_offset = (self.wrap_offset - shift).clamp(-ARRIVAL_LIMIT_US, ARRIVAL_LIMIT_US);
            }
        }
        self.last_arrival = Some(t);
        t
    }

    /// Forgets the reference (a new path).
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::SentInfo;

    fn history(n: u16) -> SentHistory {
        let mut h = SentHistory::default();
        for seq in 0..n {
            let info = SentInfo {
                send_us: i64::from(seq) * 1000,
                size: 100 + u32::from(seq),
                probe: None,
                reported: Reported::Not,
            };
            h.insert(seq, info);
        }
        h
    }

    #[test]
    fn received_lost_recovered_duplicate_unknown() {
        let mut h = history(5);
        let mut a = FeedbackAdapter::default();
        let s = a.process(
            &mut h,
            10_000,
            [(0, Some(5_000)), (1, None), (2, Some(4_000)), (9, Some(1))],
        );
        assert_eq!((s.newly_reported, s.lost, s.unknown), (3, 1, 1));
        // Sorted by arrival: 2 arrived before 0.
        let sizes: Vec<u32> = a.results().iter().map(|r| r.size).collect();
        assert_eq!(sizes, [102, 100]);
        assert_eq!(s.newest_send_us, Some(2_000));
        let s = a.process(
            &mut h,
            20_000,
            [(0, Some(5_000)), (1, Some(6_000)), (3, None), (3, None)],
        );
        assert_eq!(
            (s.newly_reported, s.lost, s.recovered, s.duplicates),
            (1, 1, 1, 2)
        );
    }

    #[test]
    fn reference_time_wrap_undone() {
        let mut h = history(3);
        let mut a = FeedbackAdapter::default();
        let near_end = REFERENCE_SPAN_US - 1_000;
        a.process(&mut h, 10_000, [(0, Some(near_end))]);
        a.process(&mut h, 10_000, [(1, Some(4_000))]);
        assert_eq!(a.results()[0].arrival_us, REFERENCE_SPAN_US + 4_000);
        // Garbage far outside any clock is clamped, not overflowed.
        a.process(&mut h, 10_000, [(2, Some(i64::MIN))]);
        assert!(a.results()[0].arrival_us.abs() <= 2 * ARRIVAL_LIMIT_US);
    }
}
