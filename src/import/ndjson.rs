//! hindsight's neutral format: NDJSON, one [`Issue`] per line.
//!
//! A file may be zstd-compressed (`*.ndjson.zst`, as a site's backup keeps it).
//!
//! This is the format for people who write converters from trackers hindsight has no importer
//! for, and the one `hindsight export` writes. Each line is one JSON object with the fields of
//! [`crate::model::Issue`] (see that module for every field; only `source`, `id`, `key`,
//! `project.key` and `summary` are required); blank lines are ignored. A line's `source` is
//! kept, so an export of a multi-tracker archive re-imports as the same trackers. A minimal
//! line:
//!
//! ```json
//! {"source":"jira","id":"10001","key":"LU-1","project":{"key":"LU"},"summary":"Crash on mount","status":"Open","comments":[{"id":"5","body":{"markup":"plain","content":"Seen on 2.15"}}]}
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{Record, Source, Warning};
use crate::error::{Error, Result};
use crate::model::Issue;

/// Whether the start of a file is neutral NDJSON: a first line that is an object with the
/// neutral format's required keys (and not a JIRA REST issue, which has `fields`).
pub fn sniff(head: &str) -> bool {
    let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let t = first.trim_start();
    t.starts_with('{')
        && t.contains("\"source\"")
        && t.contains("\"key\"")
        && t.contains("\"summary\"")
        && t.contains("\"project\"")
        && !t.contains("\"fields\"")
}

/// Reads one NDJSON file, one issue per line.
pub fn read_file(
    path: &Path,
    _source: &Source,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    let file = super::open(path)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let issue: Issue = serde_json::from_slice(&line).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            line: number,
            column: e.column() as u64,
            key: key_hint(&line),
            message: format!("not an issue in hindsight's neutral format: {e}"),
        })?;
        if crate::keys::split_key(&issue.key).is_none() {
            emit(Record::Warning(Warning {
                path: path.to_path_buf(),
                line: number,
                column: 1,
                key: Some(issue.key.clone()),
                message: "the key is not shaped PROJECT-123; issue skipped".into(),
            }))?;
            continue;
        }
        emit(Record::Issue(Box::new(issue)))?;
    }
}

/// The `"key"` of a line that failed to parse, for the message.
fn key_hint(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let start = text.find("\"key\":\"")? + 7;
    let end = text[start..].find('"')? + start;
    Some(text[start..end].chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Record>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ndjson");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        let source = Source {
            name: "x".into(),
            key_prefix: None,
            ..Default::default()
        };
        read_file(&path, &source, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_one_issue_per_line() {
        let text = "{\"source\":\"jira\",\"id\":\"1\",\"key\":\"LU-1\",\"project\":{\"key\":\"LU\"},\"summary\":\"a\"}\n\n{\"source\":\"bz\",\"id\":\"2\",\"key\":\"BZ-2\",\"project\":{\"key\":\"BZ\"},\"summary\":\"b\"}\n";
        assert!(sniff(text));
        let records = read(text).unwrap();
        assert_eq!(records.len(), 2);
        match &records[1] {
            Record::Issue(i) => assert_eq!((i.source.as_str(), i.key.as_str()), ("bz", "BZ-2")),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn a_bad_line_names_its_line_column_and_key() {
        let text = "{\"source\":\"jira\",\"id\":\"1\",\"key\":\"LU-1\",\"project\":{\"key\":\"LU\"},\"summary\":\"a\"}\n{\"source\":\"jira\",\"id\":\"2\",\"key\":\"LU-2\",\"project\":{\"key\":\"LU\"},\"summary\":3}\n";
        let e = read(text).unwrap_err().to_string();
        assert!(e.contains("a.ndjson:2:"), "{e}");
        assert!(e.contains("(issue LU-2)"), "{e}");
    }
}
