//! Import: tracker exports → the archive store.
//!
//! One module per format reads files as a stream and hands each item to [`import`]'s admission
//! step as a [`Record`]. Admission is where privacy is enforced for every format alike:
//! restricted issues, comments, attachments and worklogs, and issues of projects the config does
//! not publish, are dropped here and counted, before anything reaches the store. Files are parsed
//! in parallel (rayon); one writer thread owns the store's write transaction.

pub mod bugzilla_json;
pub mod bugzilla_xml;
pub mod github_json;
pub mod jira_json;
pub mod jira_xml;
pub mod ndjson;
mod position;
pub mod volatile;
mod xml;

/// What the importers' unit tests pick out of the records a reader emitted.
#[cfg(test)]
pub(crate) mod test_records {
    use super::{Record, Warning};
    use crate::model::Issue;

    /// The issues, in order.
    pub fn issues(records: &[Record]) -> Vec<&Issue> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Issue(i) => Some(&**i),
                _ => None,
            })
            .collect()
    }

    /// The warnings, in order.
    pub fn warnings(records: &[Record]) -> Vec<&Warning> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Warning(w) => Some(w),
                _ => None,
            })
            .collect()
    }

    /// The people directory entries, as (login, display name).
    pub fn people(records: &[Record]) -> Vec<(&str, &str)> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Person(p) => Some((p.login.as_str(), p.display.as_str())),
                _ => None,
            })
            .collect()
    }
}

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;

use crate::config::{Config, Format, TrackerConfig};
pub use crate::error::Warning;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::model::{Issue, Person};
use crate::observe::{count, count_as};
use crate::store::{Put, Store};

/// What an importer hands to admission, in file order.
#[derive(Debug)]
pub enum Record {
    /// An issue as the source has it, restricted parts included.
    Issue(Box<Issue>),
    /// A person the export names somewhere (`<assignee username="x">Name</assignee>`), so that
    /// authors given only by login or key (`JIRAUSER1258790`) can be shown by name.
    Person(Person),
    /// An item the importer skipped, or a field it could not read.
    Warning(Warning),
}

/// The tracker a file belongs to, as importers need it.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// The tracker's configured or default name; stored in [`Issue::source`].
    pub name: String,
    /// The prefix numeric trackers put before bug numbers.
    pub key_prefix: Option<String>,
    /// GitHub: the key prefix of each repository (`owner/name` → `PREFIX`), from the config.
    pub key_prefixes: BTreeMap<String, String>,
    /// The zone of times written without an offset (old Bugzilla), from the config.
    pub timezone: Option<chrono_tz::Tz>,
}

impl Source {
    /// The key prefix of a GitHub repository's issues (see [`crate::config::github_prefix`]).
    pub fn github_prefix(&self, repo: &str) -> String {
        crate::config::github_prefix(&self.key_prefixes, self.key_prefix.as_deref(), repo)
    }
}

/// Counts of what import read, kept and dropped: the build summary prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Export files read.
    pub files: usize,
    /// Issue records read, duplicates included.
    pub issues_read: usize,
    /// Distinct issues in the store.
    pub issues_kept: u64,
    /// Older copies replaced by a newer one from an overlapping page.
    pub duplicates: usize,
    /// Distinct issues that claimed a key another issue already had (each stops the build).
    pub key_conflicts: usize,
    /// Issues dropped because they are restricted.
    pub restricted_issues: usize,
    /// Comments dropped because they are restricted.
    pub restricted_comments: usize,
    /// Attachments dropped because they are restricted.
    pub restricted_attachments: usize,
    /// Worklogs dropped because they are restricted.
    pub restricted_worklogs: usize,
    /// Issues dropped per project the config does not publish.
    pub unpublished: BTreeMap<String, usize>,
    /// Comments kept.
    pub comments: usize,
    /// Export files that held something the site does not publish (a restricted issue,
    /// comment, attachment or worklog, or an issue of an unpublished project): never copied
    /// into the published backup as they are.
    pub private_files: std::collections::BTreeSet<PathBuf>,
    /// Problems that did not stop the build.
    pub warnings: Vec<Warning>,
}

impl ImportReport {
    /// One line for the build's progress: files, issues kept, duplicates merged, comments.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} ({} merged), {}",
            count(self.files as u64, "file"),
            count(self.issues_kept, "issue"),
            count_as(self.duplicates as u64, "duplicate copy", "duplicate copies"),
            count(self.comments as u64, "comment")
        )
    }
}

/// People named anywhere in the exports: login or key → display name.
pub type People = BTreeMap<String, String>;

/// The result of import: the filled store, the people directory, and the counts.
pub struct Imported {
    /// The archive store, for later stages to stream from.
    pub store: Store,
    /// Login → display name.
    pub people: People,
    /// What was read, kept and dropped.
    pub report: ImportReport,
}

/// Reads every tracker's files into a fresh store at `store_path`.
///
/// With `strict`, the first warning becomes an error.
pub fn import(
    config: &Config,
    inputs: &Inputs,
    store_path: &Path,
    strict: bool,
) -> Result<Imported> {
    let mut jobs: Vec<(PathBuf, &TrackerConfig)> = Vec::new();
    for (tracker, found) in config.trackers.iter().zip(&inputs.trackers) {
        for file in &found.files {
            jobs.push((file.clone(), tracker));
        }
    }
    let paths: Vec<PathBuf> = jobs.iter().map(|(p, _)| p.clone()).collect();
    let store = Store::create(store_path)?;
    let mut report = ImportReport {
        files: jobs.len(),
        ..Default::default()
    };
    let mut people = People::new();

    let (tx, rx) = mpsc::sync_channel::<Arrival>(256);
    let outcome: Result<()> = std::thread::scope(|scope| {
        let parse = scope.spawn(move || {
            jobs.par_iter()
                .enumerate()
                .try_for_each_with(tx, |tx, (file, (path, tracker))| {
                    let format = match tracker.format {
                        Some(f) => f,
                        None => detect(path)?,
                    };
                    let source = source_of(tracker, format);
                    let mut ordinal = 0u64;
                    let mut emit = |record: Record| {
                        if matches!(record, Record::Issue(_)) {
                            ordinal += 1;
                        }
                        // The receiver only hangs up after an error of its own, reported there.
                        let _ = tx.send(Arrival {
                            file,
                            ordinal,
                            record,
                        });
                        Ok(())
                    };
                    (importer(format).read)(path, &source, &mut emit)
                })
        });
        let written = admit_all(config, &store, rx, &paths, &mut report, &mut people, strict);
        let parsed = parse
            .join()
            .unwrap_or_else(|_| Err(Error::Panicked { stage: "import" }));
        // A parse error is the root cause when both failed.
        parsed.and(written)
    });
    outcome?;
    report.issues_kept = store.issue_count()?;
    report.warnings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.message).cmp(&(&b.path, b.line, b.column, &b.message))
    });
    Ok(Imported {
        store,
        people,
        report,
    })
}

/// A record and where it was read: the file's index in the import's list, and for an issue
/// its ordinal in the file (1-based), so that messages can name it.
struct Arrival {
    file: usize,
    ordinal: u64,
    record: Record,
}

/// When a resolution was last set, by an issue's history: Bugzilla exports carry no resolution
/// date of their own.
fn resolution_time(history: &[crate::model::HistoryEntry]) -> Option<crate::model::Timestamp> {
    history
        .iter()
        .rev()
        .find(|h| {
            h.changes
                .iter()
                .any(|c| c.field == "resolution" && c.to.is_some())
        })
        .and_then(|h| h.created)
}

fn source_of(tracker: &TrackerConfig, format: Format) -> Source {
    Source {
        name: tracker.name_for(format),
        key_prefix: tracker.key_prefix.clone(),
        key_prefixes: tracker.key_prefixes.clone(),
        // Checked when the config was read.
        timezone: tracker.timezone.as_deref().and_then(|t| t.parse().ok()),
    }
}

/// How messages name an issue read at the `ordinal`th place of `path`.
fn describe_origin(path: &Path, ordinal: u64, issue: &Issue) -> String {
    format!(
        "{} (issue {ordinal} of the file; {} id {})",
        path.display(),
        issue.source,
        issue.id
    )
}

/// Issues written to the store per transaction.
const ISSUES_PER_TRANSACTION: usize = 20_000;

/// Receives records until every parser is done, admitting issues into the store.
fn admit_all(
    config: &Config,
    store: &Store,
    rx: mpsc::Receiver<Arrival>,
    paths: &[PathBuf],
    report: &mut ImportReport,
    people: &mut People,
    strict: bool,
) -> Result<()> {
    let mut writer = store.writer()?;
    let mut since_commit = 0;
    for Arrival {
        file,
        ordinal,
        record,
    } in rx
    {
        match record {
            Record::Person(mut p) => {
                if !config.show_emails {
                    crate::text::email::mask_person(&mut p);
                }
                if !p.login.is_empty() && !p.display.is_empty() {
                    // Keep the smallest name seen for a login, so the choice is stable.
                    people
                        .entry(p.login)
                        .and_modify(|d| {
                            if p.display < *d {
                                d.clone_from(&p.display)
                            }
                        })
                        .or_insert(p.display);
                }
            }
            Record::Warning(w) => {
                if strict {
                    return Err(Error::Strict(w.clone()));
                }
                report.warnings.push(w);
            }
            Record::Issue(mut issue) => {
                report.issues_read += 1;
                let withheld_before = withheld(report);
                let admitted = admit(config, &mut issue, report);
                if withheld(report) != withheld_before {
                    report.private_files.insert(paths[file].clone());
                }
                if !admitted {
                    writer.put_dropped(&issue.key)?;
                    continue;
                }
                since_commit += 1;
                if since_commit == ISSUES_PER_TRANSACTION {
                    // The store is rebuilt by every build, so committing part of an import is
                    // safe, and it bounds what a transaction holds.
                    writer.commit()?;
                    writer = store.writer()?;
                    since_commit = 0;
                }
                let origin = describe_origin(&paths[file], ordinal, &issue);
                match writer.put_issue(&issue, &origin)? {
                    Put::Inserted => {}
                    Put::Replaced | Put::KeptExisting => report.duplicates += 1,
                    Put::KeyConflict(other) => {
                        report.key_conflicts += 1;
                        // Files are read in parallel: name the two in a stable order.
                        let mut both = [other.origin, origin];
                        both.sort();
                        let [first, second] = both;
                        return Err(Error::KeyCollision {
                            key: issue.key.clone(),
                            first,
                            second,
                        });
                    }
                }
            }
        }
    }
    writer.commit()?;
    // Comments are counted from the store so duplicates are not counted twice.
    let mut comments = 0;
    store.for_each_issue(|i| {
        comments += i.comments.len();
        Ok(())
    })?;
    report.comments = comments;
    Ok(())
}

/// How many items the report says were withheld so far (restricted or unpublished).
fn withheld(report: &ImportReport) -> usize {
    report.restricted_issues
        + report.restricted_comments
        + report.restricted_attachments
        + report.restricted_worklogs
        + report.unpublished.values().sum::<usize>()
}

/// Decides whether an issue may be published and strips what may not. Returns false when the
/// whole issue must be dropped.
fn admit(config: &Config, issue: &mut Issue, report: &mut ImportReport) -> bool {
    if !issue.visibility.is_public() {
        report.restricted_issues += 1;
        return false;
    }
    if !config.publishes_project(&issue.project.key) {
        *report
            .unpublished
            .entry(issue.project.key.clone())
            .or_default() += 1;
        return false;
    }
    let before = issue.comments.len();
    issue.comments.retain(|c| c.visibility.is_public());
    report.restricted_comments += before - issue.comments.len();
    let before = issue.attachments.len();
    issue.attachments.retain(|a| a.visibility.is_public());
    report.restricted_attachments += before - issue.attachments.len();
    let before = issue.worklogs.len();
    issue.worklogs.retain(|w| w.visibility.is_public());
    report.restricted_worklogs += before - issue.worklogs.len();
    volatile::drop_volatile_fields(issue);
    if !config.show_emails {
        crate::text::email::mask_issue(issue);
    }
    true
}

/// An importer's reader: a whole file, each record handed to the callback as it is read.
pub type ReadFile = fn(&Path, &Source, &mut dyn FnMut(Record) -> Result<()>) -> Result<()>;

/// One export format: how to recognise it from a file's first bytes, and how to read a file.
pub struct Importer {
    /// The format.
    pub format: Format,
    /// Whether the start of a file (up to 8 KiB, lossily decoded) looks like this format.
    pub sniff: fn(&str) -> bool,
    /// Reads a whole file, handing each record to `emit` as it is read.
    pub read: ReadFile,
}

/// Every format hindsight reads, in the order detection tries them (the more specific first:
/// a JIRA REST page would also pass GitHub's looser test).
pub static IMPORTERS: [Importer; 6] = [
    Importer {
        format: Format::JiraXml,
        sniff: jira_xml::sniff,
        read: jira_xml::read_file,
    },
    Importer {
        format: Format::BugzillaXml,
        sniff: bugzilla_xml::sniff,
        read: bugzilla_xml::read_file,
    },
    Importer {
        format: Format::Ndjson,
        sniff: ndjson::sniff,
        read: ndjson::read_file,
    },
    Importer {
        format: Format::JiraJson,
        sniff: jira_json::sniff,
        read: jira_json::read_file,
    },
    Importer {
        format: Format::BugzillaJson,
        sniff: bugzilla_json::sniff,
        read: bugzilla_json::read_file,
    },
    Importer {
        format: Format::GithubJson,
        sniff: github_json::sniff,
        read: github_json::read_file,
    },
];

/// The importer of `format`.
pub fn importer(format: Format) -> &'static Importer {
    IMPORTERS
        .iter()
        .find(|i| i.format == format)
        .expect("every format has an importer")
}

/// The first bytes of every zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Opens an export file for reading, decompressing it if it is zstd-compressed (the backup's
/// `*.ndjson.zst`).
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    use std::io::Seek;
    file.rewind().map_err(|e| Error::io(path, e))?;
    if n == 4 && magic == ZSTD_MAGIC {
        let decoder = zstd::Decoder::new(file).map_err(|e| Error::io(path, e))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(file))
    }
}

/// Detects a file's format from its first bytes (after decompression).
pub fn detect(path: &Path) -> Result<Format> {
    let mut head = vec![0u8; 8192];
    let mut file = open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        let n = file
            .read(&mut head[filled..])
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    detect_bytes(&head).ok_or_else(|| Error::UnknownFormat {
        path: path.to_path_buf(),
    })
}

/// Detects a format from the start of a file.
pub fn detect_bytes(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    for importer in &IMPORTERS {
        if (importer.sniff)(&text) {
            return Some(importer.format);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_importer() {
        use crate::config::Format::*;
        for f in [
            JiraXml,
            JiraJson,
            BugzillaXml,
            BugzillaJson,
            GithubJson,
            Ndjson,
        ] {
            assert_eq!(IMPORTERS.iter().filter(|i| i.format == f).count(), 1);
            assert_eq!(importer(f).format, f);
        }
    }

    #[test]
    fn jira_xml_is_detected_by_content() {
        let head = b"<!-- RSS generated by JIRA (9.4.14#940014-sha1:abc) at Fri Jul 28 00:11:05 UTC 2023 -->\n<rss version=\"0.92\" >\n<channel>";
        assert_eq!(detect_bytes(head), Some(Format::JiraXml));
        assert_eq!(detect_bytes(b"{\"issues\": []}"), None);
        assert_eq!(detect_bytes(b"hello"), None);
    }
}
