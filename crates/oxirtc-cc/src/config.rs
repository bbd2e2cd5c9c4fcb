//! The estimator's settings: bitrate limits, pacing and probing.

use crate::error::CcError;
use std::time::Duration;

/// Settings of a [`BandwidthEstimator`](crate::BandwidthEstimator).
///
/// The defaults are libwebrtc's where it has one: a 300 kbit/s start
/// (`BitrateConstraints::start_bitrate_bps`), initial probes at 3× and 6× the start rate.
/// libwebrtc's floor is 5 kbit/s and it has no ceiling unless the application sets one (its
/// probes stop at 5 Mbit/s then); we floor at 30 kbit/s (Chrome's lowest video rate) and cap at
/// 10 Mbit/s (set `max_bps` for more). The pacing factor is ours: 1.05, where libwebrtc paces at
/// 2.5 × the target (`kDefaultPaceMultiplier`). With an encoder that follows the target, 2.5 sends
/// every keyframe into the bottleneck at up to 2.5 × its rate, which the delay-based detector
/// takes for over-use: in the simulation (README) 2.5 gives about 80 % utilisation and a p95
/// queueing delay of about 220 ms, 1.05 about 90 % and under 50 ms. The keyframe then waits in
/// the pacer instead (p95 time in the pacer about 250 ms, against 70 ms).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CcConfig {
    /// The estimate never goes below this, in bit/s (default 30 kbit/s).
    pub min_bps: u64,
    /// The estimate before any feedback, in bit/s (default 300 kbit/s).
    pub start_bps: u64,
    /// The estimate never goes above this, in bit/s, and no probe is sent above it (default
    /// 10 Mbit/s).
    pub max_bps: u64,
    /// Pacing rate = target × this (default 1.05; libwebrtc's `kDefaultPaceMultiplier` is 2.5).
    pub pacing_factor: f64,
    /// Padding the pacer sends when there is no media, in bit/s, capped by the target (default 0:
    /// none; e.g. the minimum rate of a simulcast layer that should stay probed).
    pub padding_bps: u64,
    /// Whether the peer's REMB caps the estimate (default true).
    pub use_remb: bool,
    /// Initial probe clusters as multiples of `start_bps` (default 3 and 6).
    pub initial_probe_scales: [f64; 2],
    /// Probe again at 2× the estimate when it has neither dropped nor been probed for this long
    /// and the sender is not application-limited (default 2 s; `None`: never). Not libwebrtc
    /// behaviour: it only probes at the start, in application-limited periods and after drops;
    /// this is what lets the estimate follow a capacity that grew (see the README's table).
    pub stall_probe_interval: Option<Duration>,
    /// Probe at 2× the estimate when the sender leaves an application-limited period (default
    /// true).
    pub probe_on_alr_exit: bool,
}

impl Default for CcConfig {
    fn default() -> Self {
        Self {
            min_bps: 30_000,
            start_bps: 300_000,
            max_bps: 10_000_000,
            pacing_factor: 1.05,
            padding_bps: 0,
            use_remb: true,
            initial_probe_scales: [3.0, 6.0],
            stall_probe_interval: Some(Duration::from_secs(2)),
            probe_on_alr_exit: true,
        }
    }
}

impl CcConfig {
    /// Checks the ranges: 1 kbit/s ≤ `min_bps` ≤ `start_bps` ≤ `max_bps` ≤ 100 Gbit/s,
    /// 1 ≤ `pacing_factor` ≤ 100, probe scales in (0, 100].
    pub fn validate(&self) -> Result<(), CcError> {
        if self.min_bps < 1_000 {
            return Err(CcError::InvalidConfig("min_bps is under 1000"));
        }
        if self.start_bps < self.min_bps || self.max_bps < self.start_bps {
            return Err(CcError::InvalidConfig("need min_bps <= start_bps <= max_bps"));
        }
        if self.max_bps > 100_000_000_000 {
            return Err(CcError::InvalidConfig("max_bps is over 100 Gbit/s"));
        }
        if !(1.0..=100.0).contains(&self.pacing_factor) {
            return Err(CcError::InvalidConfig("pacing_factor is outside [1, 100]"));
        }
        if self
            .initial_probe_scales
            .iter()
            .any(|s| !(*s > 0.0 && *s <= 100.0))
        {
            return Err(CcError::InvalidConfig("initial_probe_scales outside (0, 100]"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_ranges_checked() {
        assert_eq!(CcConfig::default().validate(), Ok(()));
        let bad = |f: fn(&mut CcConfig)| {
            let mut c = CcConfig::default();
            f(&mut c);
            c.validate().is_err()
        };
        assert!(bad(|c| c.min_bps = 10));
        assert!(bad(|c| c.start_bps = 20_000_000));
        assert!(bad(|c| c.pacing_factor = f64::NAN));
        assert!(bad(|c| c.initial_probe_scales = [0.0, 1.0]));
    }
}
