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
pub mod ledger;
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
use crate::store::{EncodedIssue, Put, Store, StoreWriter};
use ledger::{FileLedger, Held, Stamp, Withheld};
use xxhash_rust::xxh3::Xxh3;

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
    /// Of those, the files parsed by this import; the issues of the others were kept from the
    /// last import, whose ledger showed the same bytes ([`ledger`]).
    pub files_parsed: usize,
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
    /// A hash of every export file's bytes with its tracker and path (in hex): what the
    /// issues were read from, so that a later stage can tell they are what they were.
    pub inputs: String,
}

impl ImportReport {
    /// One line for the build's progress: files, issues kept, duplicates merged, comments.
    pub fn summary(&self) -> String {
        let unchanged = match self.files - self.files_parsed.min(self.files) {
            0 => String::new(),
            n => format!(" ({n} unchanged since the last import)"),
        };
        format!(
            "{}{unchanged}, {} ({} merged), {}",
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

/// Reads every tracker's files into the store at `store_path`: only the files whose bytes
/// changed since the last import when its ledgers allow it ([`ledger`]), every file into a new
/// store otherwise. Either way the store and the report are what reading every file gives.
///
/// `program` identifies the running program ([`crate::fingerprint::program`]): ledgers made
/// by another are not reused. With `strict`, the first warning becomes an error.
pub fn import(
    config: &Config,
    inputs: &Inputs,
    store_path: &Path,
    strict: bool,
    program: u128,
) -> Result<Imported> {
    let mut jobs: Vec<Job> = Vec::new();
    for (index, (tracker, found)) in config.trackers.iter().zip(&inputs.trackers).enumerate() {
        for file in &found.files {
            jobs.push(Job {
                tracker: index,
                path: file.clone(),
                config: tracker,
            });
        }
    }
    // The store an earlier build left, if there is one this program can open: its ledgers
    // may spare reading the files that did not change, and what it recorded of the files'
    // stats spares reading them to know it.
    let existing = store_path
        .is_file()
        .then(|| Store::open(store_path).ok())
        .flatten();
    let known = ledger::KnownHashes::decode(
        existing
            .as_ref()
            .and_then(|s| s.file_stats().ok().flatten())
            .as_deref(),
    );
    let (stats, hashes): (Vec<Option<ledger::FileStat>>, Vec<String>) = jobs
        .par_iter()
        .map(|job| known.hash(&ledger::key(job.tracker, &job.path), &job.path))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    let hashed = Hashes {
        hashes: &hashes,
        stats: &stats,
    };
    let stamp = Stamp::of(config, program);
    if let Some(imported) = update(config, &jobs, hashed, &stamp, existing, strict)? {
        return Ok(imported);
    }
    let store = Store::create(store_path)?;
    let every: Vec<usize> = (0..jobs.len()).collect();
    let mut ledgers = vec![FileLedger::default(); jobs.len()];
    let writer = read_files(
        config,
        &store,
        store.writer()?,
        Reading {
            jobs: &jobs,
            which: &every,
            commit_every: Some(ISSUES_PER_TRANSACTION),
            strict,
        },
        &mut ledgers,
    )?;
    let (report, people) = finish(&store, writer, &jobs, hashed, ledgers, &every, stamp)?;
    Ok(Imported {
        store,
        people,
        report,
    })
}

/// Per export file (in the order of the jobs), the hash of its bytes and its stat before it
/// was hashed.
#[derive(Clone, Copy)]
struct Hashes<'a> {
    hashes: &'a [String],
    stats: &'a [Option<ledger::FileStat>],
}

/// One export file to read: its tracker's place in the config, its path, its tracker.
struct Job<'c> {
    tracker: usize,
    path: PathBuf,
    config: &'c TrackerConfig,
}

/// Which files [`read_files`] reads, and how.
struct Reading<'a, 'c> {
    jobs: &'a [Job<'c>],
    /// Indices into `jobs`.
    which: &'a [usize],
    /// Commit the store's transaction after this many issues (a fresh store only: an update
    /// must commit at once or not at all).
    commit_every: Option<usize>,
    strict: bool,
}

/// The import of a store whose ledgers allow it: the issues of changed and removed files taken
/// out, changed and new files read, in one transaction. A kept file that holds another copy of
/// an issue whose stored copy came from a changed or removed file is read again too (the store
/// holds only the copy that won, so the others must be offered again). `None` when the ledgers
/// do not allow it (none, or made by another program or configuration), or when half the
/// archive's bytes are to be read (a fresh store is then as cheap, in smaller transactions).
fn update(
    config: &Config,
    jobs: &[Job],
    hashed: Hashes,
    stamp: &Stamp,
    store: Option<Store>,
    strict: bool,
) -> Result<Option<Imported>> {
    let hashes = hashed.hashes;
    let Some(store) = store else {
        return Ok(None);
    };
    let Ok((Some(last), files)) = store.ledgers() else {
        return Ok(None);
    };
    if ledger::decode::<Stamp>(&last).as_ref() != Some(stamp) {
        return Ok(None);
    }
    let mut previous = BTreeMap::new();
    for (key, bytes) in files {
        let Some(l) = ledger::decode::<FileLedger>(&bytes) else {
            return Ok(None);
        };
        previous.insert(key, l);
    }
    let mut ledgers = vec![FileLedger::default(); jobs.len()];
    let mut read = BTreeSet::new();
    let mut gone = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        match previous.remove(&ledger::key(job.tracker, &job.path)) {
            Some(l) if l.hash == hashes[i] => ledgers[i] = l,
            Some(l) => {
                gone.push(l);
                read.insert(i);
            }
            None => {
                read.insert(i);
            }
        }
    }
    let removed: Vec<Vec<u8>> = previous.keys().cloned().collect();
    gone.extend(previous.into_values());
    let size = |i: usize| std::fs::metadata(&jobs[i].path).map_or(0, |m| m.len());
    let all_bytes: u64 = (0..jobs.len()).map(size).sum();
    let half_read =
        |read: &BTreeSet<usize>| read.iter().map(|&i| size(i)).sum::<u64>() * 2 > all_bytes;
    if half_read(&read) {
        return Ok(None);
    }

    // An issue whose stored copy came from a gone file is taken out; the kept files that hold
    // other copies of it are read again, so that the newest remaining copy is stored (a
    // stored copy from a kept file stays: it is still the newest of the kept copies).
    let gone_paths: Vec<String> = read
        .iter()
        .map(|&i| jobs[i].path.display().to_string())
        .chain(removed.iter().map(|key| ledger::shown_path(key)))
        .collect();
    let mut holders: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, l) in ledgers.iter().enumerate() {
        for h in l.held.iter().filter(|h| h.kept) {
            holders.entry((&h.source, &h.id)).or_default().push(i);
        }
    }
    let gone_held: Vec<&Held> = gone
        .iter()
        .flat_map(|l| &l.held)
        .filter(|h| h.kept)
        .collect();
    let origins = store.origins(gone_held.iter().map(|h| (h.source.as_str(), h.id.as_str())))?;
    let mut taken_out = Vec::new();
    let mut again = Vec::new();
    for (h, origin) in gone_held.iter().zip(origins) {
        if origin.is_some_and(|o| gone_paths.iter().any(|p| is_origin_in(&o, p))) {
            taken_out.push((h.source.clone(), h.id.clone()));
            again.extend(
                holders
                    .remove(&(h.source.as_str(), h.id.as_str()))
                    .unwrap_or_default(),
            );
        }
    }
    drop(holders);
    read.extend(again);
    if half_read(&read) {
        return Ok(None);
    }
    if strict {
        let kept = ledgers.iter().flat_map(|l| &l.warnings);
        if let Some(w) = kept.min_by(|a, b| warning_order(a, b)) {
            return Err(Error::Strict(w.clone()));
        }
    }

    let mut writer = store.writer()?;
    writer.put_stamp(None)?;
    for key in &removed {
        writer.remove_ledger(key)?;
    }
    let still_dropped: HashSet<&str> = ledgers
        .iter()
        .flat_map(|l| &l.held)
        .filter(|h| !h.kept)
        .map(|h| h.key.as_str())
        .collect();
    for (source, id) in &taken_out {
        writer.remove_issue(source, id)?;
    }
    for held in gone.iter().flat_map(|l| &l.held).filter(|h| !h.kept) {
        if !still_dropped.contains(held.key.as_str()) {
            writer.remove_dropped(&held.key)?;
        }
    }
    let read: Vec<usize> = read.into_iter().collect();
    for &i in &read {
        ledgers[i] = FileLedger::default();
    }
    let writer = read_files(
        config,
        &store,
        writer,
        Reading {
            jobs,
            which: &read,
            commit_every: None,
            strict,
        },
        &mut ledgers,
    )?;
    let (report, people) = finish(&store, writer, jobs, hashed, ledgers, &read, stamp.clone())?;
    Ok(Some(Imported {
        store,
        people,
        report,
    }))
}

/// Duplicate copies merged: issues kept, less distinct issues. A fresh import's store counts
/// the same (each copy after an issue's first replaces it or is ignored).
fn duplicates(ledgers: &[FileLedger]) -> usize {
    let kept: Vec<(&str, &str)> = ledgers
        .iter()
        .flat_map(|l| &l.held)
        .filter(|h| h.kept)
        .map(|h| (h.source.as_str(), h.id.as_str()))
        .collect();
    kept.len() - kept.iter().collect::<HashSet<_>>().len()
}

/// The order warnings are reported in: file, position, message.
fn warning_order(a: &Warning, b: &Warning) -> std::cmp::Ordering {
    (&a.path, a.line, a.column, &a.message).cmp(&(&b.path, b.line, b.column, &b.message))
}

/// Completes an import: the ledgers of the files read and the stamp written into the
/// transaction that commits the last of their issues, then the report and the people made
/// from every file's ledger.
#[allow(clippy::too_many_arguments)]
fn finish(
    store: &Store,
    mut writer: StoreWriter<'_>,
    jobs: &[Job],
    hashed: Hashes,
    mut ledgers: Vec<FileLedger>,
    read: &[usize],
    stamp: Stamp,
) -> Result<(ImportReport, People)> {
    let hashes = hashed.hashes;
    let stats = jobs.iter().zip(hashed.stats).zip(hashes);
    let stats = stats.filter_map(|((job, stat), hash)| {
        Some((ledger::key(job.tracker, &job.path), (*stat)?, hash.clone()))
    });
    if let Some(bytes) = ledger::KnownHashes::encode(stats) {
        writer.put_file_stats(&bytes)?;
    }
    let mut reusable = true;
    for &i in read {
        ledgers[i].hash.clone_from(&hashes[i]);
        match ledger::encode(&ledgers[i]) {
            Some(bytes) => {
                writer.put_ledger(&ledger::key(jobs[i].tracker, &jobs[i].path), &bytes)?
            }
            None => reusable = false,
        }
    }
    match ledger::encode(&stamp).filter(|_| reusable) {
        Some(bytes) => writer.put_stamp(Some(&bytes))?,
        None => writer.put_stamp(None)?,
    }
    writer.commit()?;

    let duplicates = duplicates(&ledgers);
    let mut inputs = Xxh3::new();
    for (job, hash) in jobs.iter().zip(hashes) {
        let key = ledger::key(job.tracker, &job.path);
        inputs.update(&(key.len() as u64).to_le_bytes());
        inputs.update(&key);
        inputs.update(hash.as_bytes());
    }
    let mut report = ImportReport {
        inputs: format!("{:032x}", inputs.digest128()),
        files: jobs.len(),
        files_parsed: read.len(),
        duplicates,
        issues_kept: store.issue_count()?,
        ..Default::default()
    };
    let mut people = People::new();
    for (job, l) in jobs.iter().zip(&ledgers) {
        report.issues_read += l.held.len();
        l.withheld.add_to(&mut report);
        if l.withheld.any() {
            report.private_files.insert(job.path.clone());
        }
        report.warnings.extend(l.warnings.iter().cloned());
        for (login, display) in &l.people {
            // Keep the smallest name seen for a login, so the choice is stable.
            people
                .entry(login.clone())
                .and_modify(|d| {
                    if display < d {
                        d.clone_from(display)
                    }
                })
                .or_insert_with(|| display.clone());
        }
    }
    report.warnings.sort_by(warning_order);
    // Without duplicates every kept issue is the one stored; with them, count what is.
    report.comments = if duplicates == 0 {
        ledgers
            .iter()
            .flat_map(|l| &l.held)
            .filter(|h| h.kept)
            .map(|h| h.comments)
            .sum()
    } else {
        let mut comments = 0;
        store.for_each_issue(|i| {
            comments += i.comments.len();
            Ok(())
        })?;
        comments
    };
    Ok((report, people))
}

/// Reads `reading`'s files on every core, each record admitted on this thread into `writer`
/// and into its file's ledger; returns the writer with the last issues not yet committed.
fn read_files<'s>(
    config: &Config,
    store: &'s Store,
    writer: StoreWriter<'s>,
    reading: Reading,
    ledgers: &mut [FileLedger],
) -> Result<StoreWriter<'s>> {
    let Reading {
        jobs,
        which,
        commit_every,
        strict,
    } = reading;
    let (tx, rx) = mpsc::sync_channel::<Arrival>(256);
    std::thread::scope(|scope| {
        let parse = scope.spawn(move || {
            which.par_iter().try_for_each_with(tx, |tx, &file| {
                let job = &jobs[file];
                let format = match job.config.format {
                    Some(f) => f,
                    None => detect(&job.path)?,
                };
                let source = source_of(job.config, format);
                let mut ordinal = 0u64;
                let mut emit = |record: Record| {
                    let record = match record {
                        Record::Issue(mut issue) => {
                            ordinal += 1;
                            // Admitted and encoded here, on the threads that read, so that
                            // the one thread that writes the store only writes.
                            let mut withheld = Withheld::default();
                            let kept = admit(config, &mut issue, &mut withheld);
                            let encoded = kept.then(|| EncodedIssue::of(&issue));
                            Admitted::Issue {
                                issue,
                                withheld,
                                encoded,
                            }
                        }
                        Record::Person(p) => Admitted::Person(p),
                        Record::Warning(w) => Admitted::Warning(w),
                    };
                    // A closed channel means admission stopped on an error, which it returns.
                    let _ = tx.send(Arrival {
                        file,
                        ordinal,
                        record,
                    });
                    Ok(())
                };
                (importer(format).read)(&job.path, &source, &mut emit)
            })
        });
        let admitted = admit_all(
            config,
            store,
            writer,
            rx,
            jobs,
            commit_every,
            ledgers,
            strict,
        );
        let parsed = parse
            .join()
            .unwrap_or_else(|_| Err(Error::Panicked { stage: "import" }));
        // A parse error is the root cause when both failed.
        match (parsed, admitted) {
            (Ok(()), admitted) => admitted,
            (Err(e), _) => Err(e),
        }
    })
}

/// A record on its way from a file's reader to the store.
struct Arrival {
    /// Index of the file in the import's jobs.
    file: usize,
    /// 1-based number of the issue within its file (for messages).
    ordinal: u64,
    record: Admitted,
}

/// A [`Record`] as the reader's thread passes it on: an issue already admitted ([`admit`])
/// and, when kept, encoded for the store.
enum Admitted {
    /// An issue: what admission withheld from it, and its encoding when it is kept (none:
    /// dropped whole).
    Issue {
        issue: Box<Issue>,
        withheld: Withheld,
        encoded: Option<EncodedIssue>,
    },
    /// As [`Record::Person`], not yet masked.
    Person(Person),
    /// As [`Record::Warning`].
    Warning(Warning),
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

/// The importer's view of a tracker.
fn source_of(tracker: &TrackerConfig, format: Format) -> Source {
    Source {
        name: tracker.name_for(format),
        key_prefix: tracker.key_prefix.clone(),
        key_prefixes: tracker.key_prefixes.clone(),
        // Checked when the config was read.
        timezone: tracker.timezone.as_deref().and_then(|t| t.parse().ok()),
    }
}

/// Whether `origin` ([`describe_origin`]) names an issue read from the file shown as `path`.
fn is_origin_in(origin: &str, path: &str) -> bool {
    origin
        .strip_prefix(path)
        .is_some_and(|rest| rest.starts_with(" (issue "))
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

/// Issues written per store transaction: bounds the memory a transaction holds.
const ISSUES_PER_TRANSACTION: usize = 20_000;

/// The admission loop: every record is admitted (restricted parts dropped, addresses masked),
/// kept issues are written, and each file's ledger records what it held.
#[allow(clippy::too_many_arguments)]
fn admit_all<'s>(
    config: &Config,
    store: &'s Store,
    mut writer: StoreWriter<'s>,
    rx: mpsc::Receiver<Arrival>,
    jobs: &[Job],
    commit_every: Option<usize>,
    ledgers: &mut [FileLedger],
    strict: bool,
) -> Result<StoreWriter<'s>> {
    let mut since_commit = 0;
    for Arrival {
        file,
        ordinal,
        record,
    } in rx
    {
        let ledger = &mut ledgers[file];
        match record {
            Admitted::Person(mut p) => {
                if !config.show_emails {
                    crate::text::email::mask_person(&mut p);
                }
                if !p.login.is_empty() && !p.display.is_empty() {
                    ledger.people.push((p.login, p.display));
                }
            }
            Admitted::Warning(w) => {
                if strict {
                    return Err(Error::Strict(w));
                }
                ledger.warnings.push(w);
            }
            Admitted::Issue {
                issue,
                withheld,
                encoded,
            } => {
                ledger.withheld.absorb(withheld);
                ledger.held.push(Held {
                    source: issue.source.clone(),
                    id: issue.id.clone(),
                    key: issue.key.clone(),
                    kept: encoded.is_some(),
                    comments: issue.comments.len(),
                });
                let Some(encoded) = encoded else {
                    writer.put_dropped(&issue.key)?;
                    continue;
                };
                since_commit += 1;
                if commit_every == Some(since_commit) {
                    writer.commit()?;
                    writer = store.writer()?;
                    since_commit = 0;
                }
                let origin = describe_origin(&jobs[file].path, ordinal, &issue);
                match writer.put_encoded_issue(&issue, &encoded, &origin)? {
                    // Counted from the ledgers, over every file.
                    Put::Inserted | Put::Replaced | Put::KeptExisting => {}
                    Put::KeyConflict(other) => {
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
    Ok(writer)
}

/// Admission of one issue: `false` drops it whole (restricted, or of a project the config
/// does not publish); otherwise its restricted comments, attachments and worklogs and its
/// volatile fields are removed, and addresses masked unless the config shows them. What was
/// withheld is counted into `withheld`.
fn admit(config: &Config, issue: &mut Issue, withheld: &mut Withheld) -> bool {
    if !issue.visibility.is_public() {
        withheld.issues += 1;
        return false;
    }
    if !config.publishes_project(&issue.project.key) {
        *withheld
            .unpublished
            .entry(issue.project.key.clone())
            .or_default() += 1;
        return false;
    }
    let before = issue.comments.len();
    issue.comments.retain(|c| c.visibility.is_public());
    withheld.comments += before - issue.comments.len();
    let before = issue.attachments.len();
    issue.attachments.retain(|a| a.visibility.is_public());
    withheld.attachments += before - issue.attachments.len();
    let before = issue.worklogs.len();
    issue.worklogs.retain(|w| w.visibility.is_public());
    withheld.worklogs += before - issue.worklogs.len();
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
