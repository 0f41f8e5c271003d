//! Progress of a harvest: a trait the library reports to, and the terminal's indicatif bar
//! (issues fetched / total, rate, ETA), hidden when standard error is not a terminal or the
//! user asked for quiet.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::TrackerReport;

/// Receives a harvest's progress. Every method has a default that ignores it.
pub trait Progress: Sync {
    /// A tracker's harvest starts; `total` issues when known, `already` fetched by an
    /// interrupted run this one continues.
    fn started(&self, _tracker: &str, _total: Option<u64>, _already: u64) {}
    /// The number of issues to fetch became known.
    fn total(&self, _total: u64) {}
    /// `n` more issues are on disk.
    fn advance(&self, _n: u64) {}
    /// Something the user should know (a retry wait, a listing).
    fn note(&self, _message: &str) {}
    /// A tracker's harvest ended.
    fn finished(&self, _report: &TrackerReport) {}
}

/// Reports nothing (tests, library callers).
pub struct NoProgress;
impl Progress for NoProgress {}

/// The command line's progress bar.
pub struct Bar {
    visible: bool,
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// A bar on standard error, drawn only when it is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Bar {
        Bar {
            visible: !quiet && std::io::stderr().is_terminal(),
            quiet,
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            f(b)
        }
    }
}

impl Progress for Bar {
    fn started(&self, tracker: &str, total: Option<u64>, already: u64) {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(total, target).with_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} issues, {elapsed} elapsed, eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(tracker.to_string());
        bar.set_position(already);
        bar.reset_eta();
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
        if already > 0 && !self.quiet {
            eprintln!(
                "{tracker}: continuing an interrupted run ({already} issues already on disk)"
            );
        }
    }

    fn total(&self, total: u64) {
        self.with_bar(|b| b.set_length(total));
    }

    fn advance(&self, n: u64) {
        self.with_bar(|b| b.inc(n));
    }

    fn note(&self, message: &str) {
        if self.quiet {
            return;
        }
        if self.visible {
            self.with_bar(|b| b.println(message));
        } else {
            eprintln!("{message}");
        }
    }

    fn finished(&self, _report: &TrackerReport) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
