//! Progress bars with rate and time left (indicatif; hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A byte progress bar for `name` of `total` bytes starting at `pos`.
pub fn bar(name: &str, total: u64, pos: u64) -> ProgressBar {
    let bar = ProgressBar::new(total).with_position(pos);
    let style = ProgressStyle::with_template(
        "{msg:20!} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(name.to_owned());
    bar
}
