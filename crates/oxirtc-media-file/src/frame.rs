//! The frame type every reader yields and every writer takes, and its clock.

/// A clock: one tick lasts `num / den` seconds (IVF's header and Matroska's TimestampScale are
/// both of this form).
///
/// `Timebase::new(1, 30)` ticks once per frame at 30 fps, [`Timebase::OPUS`] once per 48 kHz
/// sample, [`Timebase::RTP_VIDEO`] at the 90 kHz RTP video clock, [`Timebase::MILLIS`] in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timebase {
    num: u32,
    den: u32,
}

impl Timebase {
    /// Milliseconds (Matroska's default TimestampScale, RFC 9559 §11.1.5).
    pub const MILLIS: Timebase = Timebase { num: 1, den: 1000 };
    /// Opus samples: Ogg Opus granule positions always count at 48 kHz (RFC 7845 §4).
    pub const OPUS: Timebase = Timebase { num: 1, den: 48_000 };
    /// The 90 kHz clock of RTP video (RFC 3551 §5).
    pub const RTP_VIDEO: Timebase = Timebase { num: 1, den: 90_000 };

    /// A clock ticking every `num / den` seconds; `None` if either is zero.
    pub const fn new(num: u32, den: u32) -> Option<Timebase> {
        if num == 0 || den == 0 {
            None
        } else {
            Some(Timebase { num, den })
        }
    }

    /// The numerator: seconds per tick are `num() / den()`.
    pub const fn num(self) -> u32 {
        self.num
    }

    /// The denominator: ticks per second are `den() / num()`.
    pub const fn den(self) -> u32 {
        self.den
    }

    /// `ts` ticks of this clock in ticks of `to`, rounded to the nearest tick (halves away from
    /// zero); saturates at the ends of `i64`.
    pub fn rescale(self, ts: i64, to: Timebase) -> i64 {
        // ts * self.num / self.den = x * to.num / to.den  =>  x = ts * self.num * to.den / (self.den * to.num)
        let n = i128::from(ts) * i128::from(self.num) * i128::from(to.den);
        let d = i128::from(self.den) * i128::from(to.num);
        let half = d / 2;
        let q = if n >= 0 { (n + half) / d } else { (n - half) / d };
        i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN })
    }
}

/// One coded frame (a video frame, an access unit or temporal unit, or one Opus packet) with its
/// timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The coded bytes exactly as in the file: a VP8/VP9 frame, an AV1 temporal unit (OBUs with
    /// size fields), an H.264/H.265 access unit in Annex B form, or one Opus packet.
    pub data: Vec<u8>,
    /// Presentation timestamp in ticks of [`Frame::timebase`]. For Opus from an Ogg file it is
    /// the granule position minus the pre-skip (RFC 7845 §4.2), so the first packet of a stream
    /// is at `-pre_skip`.
    pub pts: i64,
    /// The clock of `pts` and `duration`.
    pub timebase: Timebase,
    /// True for a frame that decodes on its own: a VP8/VP9/AV1 key frame, an H.264 IDR or H.265
    /// IRAP access unit; always true for Opus.
    pub keyframe: bool,
    /// How long the frame lasts, in ticks of [`Frame::timebase`], when the file says (Opus
    /// packets: from the TOC byte, trimmed at the end of the stream); `None` otherwise.
    pub duration: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_to_nearest() {
        let fps30 = Timebase::new(1, 30).unwrap();
        assert_eq!(fps30.rescale(1, Timebase::MILLIS), 33); // 33.33 ms
        assert_eq!(fps30.rescale(2, Timebase::MILLIS), 67); // 66.67 ms
        assert_eq!(Timebase::OPUS.rescale(-312, Timebase::MILLIS), -7); // -6.5 ms, away from zero
        assert_eq!(Timebase::OPUS.rescale(960, Timebase::MILLIS), 20);
        assert_eq!(Timebase::MILLIS.rescale(20, Timebase::RTP_VIDEO), 1800);
        assert_eq!(
            Timebase::RTP_VIDEO.rescale(i64::MAX, Timebase::new(1000, 1).unwrap()),
            102_481_911_521
        ); // 9.2e18 / 9e7, rounded up
        assert_eq!(
            Timebase::new(1000, 1)
                .unwrap()
                .rescale(i64::MAX, Timebase::RTP_VIDEO),
            i64::MAX
        );
    }

    #[test]
    fn zero_is_not_a_clock() {
        assert_eq!(Timebase::new(0, 30), None);
        assert_eq!(Timebase::new(1, 0), None);
    }
}
