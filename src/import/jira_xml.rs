//! JIRA "Export XML" importer (being written).
use std::path::Path;

use super::{Record, Source};
use crate::error::Result;

/// Whether the start of a file looks like a JIRA XML export.
pub fn sniff(head: &str) -> bool {
    head.contains("<rss") && (head.contains("JIRA") || head.contains("<item"))
}

/// Reads one export file, emitting its issues and the people it names.
pub fn read_file(
    _path: &Path,
    _source: &Source,
    _emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    Ok(())
}
