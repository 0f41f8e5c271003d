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

/// `n` and a noun in the number's form: `count(1, "file")` is `1 file`, `count(3, "file")` is
/// `3 files` (the plural adds `s`; [`count_as`] takes any plural).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `n` and the singular or the plural given: `count_as(2, "entry", "entries")`.
pub fn count_as(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_numbers_form() {
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(1, "warning"), "1 warning");
        assert_eq!(count(2, "warning"), "2 warnings");
        assert_eq!(count_as(1, "copy", "copies"), "1 copy");
        assert_eq!(count_as(5, "copy", "copies"), "5 copies");
    }
}
