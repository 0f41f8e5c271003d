//! The one way a long stage tells how far it has got: stage boundaries and items done. The
//! CLI draws it as progress bars; tests and library callers ignore it ([`Quiet`]).

use std::time::Duration;

/// Receives the progress of a build or a harvest: stage boundaries and items done. The CLI
/// draws it; tests ignore it.
pub trait Observer: Sync {
    /// A stage starts (a build stage, or one tracker's harvest); `total` items when known.
    fn stage_started(&self, _stage: &str, _total: Option<u64>) {}
    /// The number of items of the current stage became known after it started.
    fn set_total(&self, _total: u64) {}
    /// `n` more items of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// Something the user should know while the stage runs (a retry wait, a resumed run).
    fn note(&self, _message: &str) {}
    /// A stage ended, with a one-line account of what it did.
    fn stage_finished(&self, _stage: &str, _summary: &str, _elapsed: Duration) {}
}

/// Reports nothing.
pub struct Quiet;
impl Observer for Quiet {}
