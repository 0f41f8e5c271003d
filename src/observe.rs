//! The one way a long stage tells how far it has got: stage boundaries and items done. The
//! CLI draws it as progress bars; tests and library callers ignore it ([`Quiet`]).

use std::time::Duration;

/// Receives the build's progress: stage boundaries and items done. The CLI draws it; tests
/// ignore it.
pub trait Observer: Sync {
    /// A stage starts; `total` items when known.
    fn stage_started(&self, _stage: &'static str, _total: Option<u64>) {}
    /// `n` more items of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// A stage ended, with a one-line account of what it did.
    fn stage_finished(&self, _stage: &'static str, _summary: &str, _elapsed: Duration) {}
}

/// Reports nothing.
pub struct Quiet;
impl Observer for Quiet {}
