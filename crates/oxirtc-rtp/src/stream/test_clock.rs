//! The tests' clock: a starting instant; the tests add durations to it (a virtual clock).

use std::time::Instant;

/// Any instant will do as the start: the code under test only uses differences.
#[allow(clippy::disallowed_methods)] // the test owns the clock
pub(super) fn t0() -> Instant {
    Instant::now()
}
