//! Waiting in the room for the other side to (re)join, with a visible countdown (issue 17 §2: a
//! sender keeps the code alive for a receiver that went away, a receiver waits for a sender that
//! restarts with `--code`).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use oxirtc_server::signaling::{PeerInfo, ServerMsg};

use crate::signal_ws::SignalClient;

/// The default of `--wait`: ten minutes.
pub const DEFAULT_WAIT_SECS: u64 = 600;

/// `m:ss`, rounded up (a wait that just began shows its full length).
pub fn clock(d: Duration) -> String {
    let s = d.as_millis().div_ceil(1000);
    format!("{}:{:02}", s / 60, s % 60)
}

/// The next member to join the room. With a `deadline`, None once it passes; a countdown (`what`,
/// time left) is drawn on a terminal every second, and printed once a minute when stderr is not one.
pub async fn wait_for_peer(
    sig: &mut SignalClient,
    deadline: Option<Instant>,
    what: &str,
) -> anyhow::Result<Option<PeerInfo>> {
    let Some(deadline) = deadline else {
        loop {
            if let ServerMsg::PeerJoined { peer } = sig.next().await? {
                return Ok(Some(peer));
            }
        }
    };
    let tty = std::io::stderr().is_terminal();
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_line = Instant::now();
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Ok(None);
        }
        bar.set_message(format!("{what}: {} left (Ctrl-C to stop)", clock(left)));
        bar.tick();
        if !tty && last_line.elapsed() >= Duration::from_secs(60) {
            eprintln!("{what}: {} left", clock(left));
            last_line = Instant::now();
        }
        tokio::select! {
            msg = sig.next() => match msg {
                Ok(ServerMsg::PeerJoined { peer }) => break Ok(Some(peer)),
                Ok(_) => {}
                Err(e) => break Err(e),
            },
            _ = tick.tick() => {}
        }
    };
    bar.finish_and_clear();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_shows_minutes_and_seconds() {
        assert_eq!(clock(Duration::from_secs(600)), "10:00");
        assert_eq!(clock(Duration::from_secs(59)), "0:59");
        assert_eq!(clock(Duration::from_millis(61_900)), "1:02");
        assert_eq!(clock(Duration::from_millis(599_990)), "10:00");
    }
}
