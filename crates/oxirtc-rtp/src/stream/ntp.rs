//! NTP time as RTCP carries it (RFC 3550 §4): the 64-bit 32.32 timestamp of a sender report, and
//! its middle 32 bits, the 16.16 "compact" form of LSR, DLSR and round-trip times.
//!
//! This module reads no clock: the caller reads its wall clock and passes the
//! [`SystemTime`] to [`ntp_from_system_time`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP epoch (1900-01-01 00:00 UTC, era 0 of RFC 5905 §6) to the Unix epoch
/// (1970-01-01 00:00 UTC): 70 years, 17 of them leap years, of 86 400 s each.
pub const NTP_UNIX_OFFSET_SECS: u64 = (70 * 365 + 17) * 86_400;

/// The 64-bit NTP timestamp (RFC 3550 §4: seconds since 1900 in the high 32 bits, the fraction in
/// the low 32) of a wall-clock time.
///
/// The seconds wrap modulo 2^32, in February 2036 (the start of NTP era 1, RFC 5905 §6): RTCP only
/// ever subtracts timestamps that are close to each other, so the wrap does no harm (RFC 3550 §4).
/// A time before 1900 gives 0, which RFC 3550 §6.4.1 lets a sender without a wall clock send.
pub fn ntp_from_system_time(time: SystemTime) -> u64 {
    let (secs, nanos) = match time.duration_since(UNIX_EPOCH) {
        Ok(since) => (NTP_UNIX_OFFSET_SECS + since.as_secs(), since.subsec_nanos()),
        Err(before) => {
            // Before 1970: count back from the Unix epoch, borrowing a second for the fraction.
            let before = before.duration();
            let whole = before.as_secs() + u64::from(before.subsec_nanos() > 0);
            let Some(secs) = NTP_UNIX_OFFSET_SECS.checked_sub(whole) else {
                return 0;
            };
            let nanos = if before.subsec_nanos() > 0 {
                1_000_000_000 - before.subsec_nanos()
            } else {
                0
            };
            (secs, nanos)
        }
    };
    // The fraction: nanos × 2^32 / 10^9, below 2^32 because nanos < 10^9.
    let fraction = (u64::from(nanos) << 32) / 1_000_000_000;
    // Only the low 32 bits of the seconds fit: NTP eras wrap (RFC 5905 §6).
    ((secs & 0xffff_ffff) << 32) | fraction
}

/// The middle 32 bits of an NTP timestamp (RFC 3550 §4): what a report block's LSR field holds and
/// what the round-trip time is computed in (RFC 3550 §6.4.1).
pub fn compact_ntp(ntp: u64) -> u32 {
    // Keeping the middle 32 bits is the point of the cast.
    (ntp >> 16) as u32
}

/// A duration in the compact form's units, 1/65536 s (DLSR, RFC 3550 §6.4.1), rounded down and
/// saturating at `u32::MAX` (about 18 hours).
pub fn duration_to_compact(duration: Duration) -> u32 {
    let units = duration.as_nanos() * 65_536 / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A value in 1/65536 s as a duration, rounded down to the nanosecond.
pub fn compact_to_duration(units: u32) -> Duration {
    Duration::from_nanos(u64::from(units) * 1_000_000_000 / 65_536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_2208988800_ntp_seconds() {
        // RFC 868's and RFC 5905's well-known offset between the two epochs.
        assert_eq!(NTP_UNIX_OFFSET_SECS, 2_208_988_800);
        assert_eq!(ntp_from_system_time(UNIX_EPOCH), 2_208_988_800 << 32);
    }

    #[test]
    fn fraction_is_nanoseconds_times_two_to_the_32() {
        // Half a second is 0x8000_0000, a quarter 0x4000_0000.
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(ntp_from_system_time(t), ((2_208_988_800 + 1) << 32) | 0x8000_0000);
        let t = UNIX_EPOCH + Duration::from_millis(250);
        assert_eq!(ntp_from_system_time(t) & 0xffff_ffff, 0x4000_0000);
    }

    #[test]
    fn rfc3550_figure_2_sender_report_time() {
        // RFC 3550 §6.4.1 Figure 2: 10 Nov 1995 11:33:25.125 UTC is ntp_sec 0xb44db705,
        // ntp_frac 0x20000000, and LSR 0xb705:2000. 1995-11-10 is Unix day 9444 (25 years since
        // 1970 with 6 leap days, then 313 days into 1995): 9444 × 86400 + 11:33:25 = 816 003 205 s.
        let t = UNIX_EPOCH + Duration::from_secs(816_003_205) + Duration::from_millis(125);
        let ntp = ntp_from_system_time(t);
        assert_eq!(ntp, 0xb44d_b705_2000_0000);
        assert_eq!(compact_ntp(ntp), 0xb705_2000);
    }

    #[test]
    fn before_1970_counts_back_and_before_1900_is_zero() {
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(ntp_from_system_time(t), ((2_208_988_800 - 1) << 32) | 0x8000_0000);
        let t = UNIX_EPOCH - Duration::from_secs(2_208_988_800 + 1);
        assert_eq!(ntp_from_system_time(t), 0);
    }

    #[test]
    fn seconds_wrap_in_2036() {
        // 2^32 NTP seconds after 1900 is 2^32 - 2 208 988 800 = 2 085 978 496 Unix seconds.
        let t = UNIX_EPOCH + Duration::from_secs(2_085_978_496 + 7);
        assert_eq!(ntp_from_system_time(t), 7 << 32);
    }

    #[test]
    fn compact_units_are_1_65536_seconds() {
        assert_eq!(duration_to_compact(Duration::from_millis(5_250)), 0x0005_4000);
        assert_eq!(compact_to_duration(0x0006_2000), Duration::from_millis(6_125));
        assert_eq!(duration_to_compact(Duration::from_secs(1 << 20)), u32::MAX);
    }
}
