//! GitHub issues REST JSON importer: not written yet; files of this format are refused with an error.

use std::path::Path;

use super::{Record, Source};
use crate::error::{Error, Result};

/// Whether the start of a file looks like this format (never, until the importer exists).
pub fn sniff(_head: &str) -> bool {
    false
}

/// Refuses the file: this importer does not exist yet.
pub fn read_file(
    path: &Path,
    _source: &Source,
    _emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    Err(Error::UnknownFormat {
        path: path.to_path_buf(),
    })
}
