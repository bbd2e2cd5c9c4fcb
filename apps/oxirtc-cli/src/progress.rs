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

/// Ends a finished bar before the caller prints its summary: the bar line is cleared and the cursor
/// left at the start of an empty line, so the summary gets a line of its own. (`finish()` left the
/// bar drawn and the cursor after it, and the summary was printed onto the bar's line.)
pub fn end(bar: &ProgressBar) {
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::*;

    /// A terminal that keeps the text of its current line.
    #[derive(Debug, Clone, Default)]
    struct Line(Arc<Mutex<String>>);

    impl Line {
        fn text(&self) -> String {
            self.0.lock().unwrap().trim_end().to_owned()
        }
    }

    impl TermLike for Line {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, _: &str) -> io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            let mut line = self.0.lock().unwrap();
            match s.rfind(['\r', '\n']) {
                Some(i) => *line = s[i + 1..].to_owned(),
                None => line.push_str(s),
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_summary_after_a_finished_bar_starts_on_an_empty_line() {
        let term = Line::default();
        let b = bar("file.bin", 1000, 0);
        b.set_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        b.set_position(1000);
        b.tick();
        assert!(
            term.text().contains("file.bin"),
            "the bar is drawn: {:?}",
            term.text()
        );
        end(&b);
        assert_eq!(term.text(), "", "the bar's line is left empty for the summary");
    }
}
