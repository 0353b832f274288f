//! Progress on standard error: an indicatif bar with the rate and ETA when standard error is a
//! terminal, plain lines otherwise (one per 1,000 rows or 5 seconds, and for each wait), so
//! that logs and pipes get readable text and no control codes.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Rows between two plain progress lines.
const LINE_EVERY_ROWS: u64 = 1000;

/// Time between two plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// The import's progress display.
pub(crate) enum Progress {
    /// A terminal's bar.
    Bar(ProgressBar),
    /// Plain lines.
    Lines {
        /// Rows in the file.
        total: u64,
        /// Rows handled so far.
        position: u64,
        /// When the run started.
        started: Instant,
        /// The position and time of the last line printed.
        last: (u64, Instant),
    },
}

impl Progress {
    /// The display for `total` rows: a bar when standard error is a terminal.
    pub(crate) fn new(total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {rate}  ETA {eta}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key(
                        "rate",
                        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0} rows/s", state.per_sec());
                        },
                    );
            bar.set_style(style);
            Progress::Bar(bar)
        } else {
            Self::lines(total)
        }
    }

    /// Plain lines for `total` rows.
    pub(crate) fn lines(total: u64) -> Self {
        let now = Instant::now();
        Progress::Lines {
            total,
            position: 0,
            started: now,
            last: (0, now),
        }
    }

    /// One more row handled (written, skipped or rejected).
    pub(crate) fn advance(&mut self) {
        match self {
            Progress::Bar(bar) => bar.inc(1),
            Progress::Lines {
                total,
                position,
                started,
                last,
            } => {
                *position += 1;
                let now = Instant::now();
                if *position == *total
                    || *position - last.0 >= LINE_EVERY_ROWS
                    || now - last.1 >= LINE_EVERY
                {
                    *last = (*position, now);
                    eprintln!("{}", line(*position, *total, now - *started));
                }
            }
        }
    }

    /// A message about the run (a wait, a rejected row), above the bar or as a line.
    pub(crate) fn note(&self, message: &str) {
        match self {
            Progress::Bar(bar) => bar.println(message),
            Progress::Lines { .. } => eprintln!("{message}"),
        }
    }

    /// Ends the display (the bar is cleared: the summary that follows has the figures).
    pub(crate) fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// A plain progress line: rows, rate and ETA.
fn line(position: u64, total: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 || position == 0 {
        return format!("progress: {position}/{total} rows");
    }
    let rate = position as f64 / seconds;
    let eta = (total.saturating_sub(position)) as f64 / rate;
    format!("progress: {position}/{total} rows, {rate:.0} rows/s, ETA {eta:.0} s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_the_rate_and_eta() {
        assert_eq!(
            line(500, 1500, Duration::from_secs(2)),
            "progress: 500/1500 rows, 250 rows/s, ETA 4 s"
        );
        assert_eq!(line(0, 10, Duration::ZERO), "progress: 0/10 rows");
    }
}
