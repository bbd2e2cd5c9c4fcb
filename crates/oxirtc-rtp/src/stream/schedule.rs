//! When the next regular RTCP report is due (RFC 3550 §6.2, §6.3.1): a base interval, randomized
//! over [0.5, 1.5] of itself so that participants do not synchronize.
//!
//! RFC 3550 derives the interval from the RTCP bandwidth and the membership, with a 5 s minimum
//! (§6.2, §6.3.1); AVPF drops that minimum after the first report (RFC 4585 §3.4 d), leaving the
//! interval to the bandwidth. A two-party WebRTC session instead uses a fixed base, as browsers
//! do: [`VIDEO_REPORT_INTERVAL`] when it carries video, [`AUDIO_REPORT_INTERVAL`] for audio only. Timer reconsideration (§6.3.6) is not done, as the
//! membership is fixed, so the §6.3.1 step 5 compensation (÷ (e - 3/2)) that belongs to it is not
//! applied either. Feedback such as NACK or PLI is sent when needed, outside this schedule.
//!
//! The randomness is the caller's: each scheduling takes a uniformly random `u32`.

use std::time::{Duration, Instant};

/// The report interval for a session that carries video: 1 s.
pub const VIDEO_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// The report interval for an audio-only session: 5 s, RFC 3550 §6.2's minimum.
pub const AUDIO_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The regular report timer of one RTP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSchedule {
    interval: Duration,
    next: Instant,
}

impl ReportSchedule {
    /// A schedule with `interval` as its base, starting at `now`. The first report comes after half
    /// the interval, randomized (RFC 3550 §6.2: the first packet is delayed by a random variation
    /// of half the minimum interval): 0.25 to 0.75 of `interval`. `random` is a uniformly random
    /// value from the caller's generator.
    pub fn new(now: Instant, interval: Duration, random: u32) -> Self {
        Self {
            interval,
            next: now + randomized(interval / 2, random),
        }
    }

    /// When the next report is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Instant {
        self.next
    }

    /// Whether a report is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// Records that a report was sent at `now` and schedules the next one 0.5 to 1.5 intervals
    /// later (RFC 3550 §6.3.1 step 4), drawn from `random`.
    pub fn sent(&mut self, now: Instant, random: u32) {
        self.next = now + randomized(self.interval, random);
    }

    /// The base interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Changes the base interval (e.g. when video is added to an audio session); the report
    /// already scheduled keeps its time.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
    }
}

/// `base` times a factor uniform over [0.5, 1.5): 0.5 + random / 2^32.
fn randomized(base: Duration, random: u32) -> Duration {
    let nanos = base.as_nanos();
    let scaled = nanos / 2 + nanos * u128::from(random) / (1u128 << 32);
    // At most 1.5 × a Duration's nanoseconds: for any interval an RTCP schedule could use (far
    // below 584 years) this fits a u64.
    Duration::from_nanos(u64::try_from(scaled).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::test_clock::t0;

    #[test]
    fn first_report_after_a_quarter_to_three_quarters_of_the_interval() {
        let t0 = t0();
        let s = ReportSchedule::new(t0, VIDEO_REPORT_INTERVAL, 0);
        assert_eq!(s.poll_timeout(), t0 + Duration::from_millis(250));
        let s = ReportSchedule::new(t0, VIDEO_REPORT_INTERVAL, 1 << 31);
        assert_eq!(s.poll_timeout(), t0 + Duration::from_millis(500));
        let s = ReportSchedule::new(t0, AUDIO_REPORT_INTERVAL, u32::MAX);
        // 2.5 s × (0.5 + (2^32 - 1) / 2^32): just under 3.75 s.
        let t = s.poll_timeout() - t0;
        assert!(
            t < Duration::from_millis(3_750) && t > Duration::from_micros(3_749_999),
            "{t:?}"
        );
        assert!(!s.due(t0 + Duration::from_millis(3_749)));
        assert!(s.due(t0 + Duration::from_millis(3_750)));
    }

    #[test]
    fn next_report_within_half_to_one_and_a_half_intervals() {
        let t0 = t0();
        let mut s = ReportSchedule::new(t0, VIDEO_REPORT_INTERVAL, 7);
        let sent = t0 + Duration::from_millis(300);
        s.sent(sent, 0);
        assert_eq!(s.poll_timeout(), sent + Duration::from_millis(500));
        // A quarter of the range: 0.75 s.
        s.sent(sent, 1 << 30);
        assert_eq!(s.poll_timeout(), sent + Duration::from_millis(750));
        s.set_interval(AUDIO_REPORT_INTERVAL);
        assert_eq!(s.poll_timeout(), sent + Duration::from_millis(750));
        s.sent(sent, 3 << 30); // 1.25 × 5 s
        assert_eq!(s.poll_timeout(), sent + Duration::from_millis(6_250));
        assert_eq!(s.interval(), AUDIO_REPORT_INTERVAL);
    }
}
