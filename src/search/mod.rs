//! Search: a static, sharded index under `search/` in the site, read by `static/search.js` from a
//! web host or from `file://`, and by `hindsight search` ([`client`]).
//!
//! * [`docs`]: issues and commits as search documents (restricted content left out).
//! * [`tokenize`]: the analyzer for code and logs, identical in Rust and in the client.
//! * [`query`](mod@query): the query language (words, `"phrases"`, `prefix*`, `field:value`
//!   filters, keys), shared by the client and the terminal.
//! * [`index`]: the documents analysed into an in-memory inverted index, on every core;
//!   `state`: that index kept in the build cache, so a rebuild analyses only what changed.
//! * [`export`]: the static index (format described there).

pub mod client;
mod dict;
pub mod docs;
pub mod export;
pub mod index;
pub mod query;
mod spill;
mod state;
pub mod tokenize;

use std::path::Path;

use serde::Serialize;

use crate::observe::{count, count_as};

/// Whether a document is an issue or a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// A tracker issue.
    Issue,
    /// A git commit.
    Commit,
}

impl DocKind {
    /// `issue` or `commit`, as in the `kind:` filter.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Issue => "issue",
            DocKind::Commit => "commit",
        }
    }
}

/// One searchable document, produced by the pipeline for each issue and each commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchDoc {
    /// Issue or commit.
    pub kind: DocKind,
    /// `LU-1234` or a full commit sha.
    pub key: String,
    /// Summary / commit subject.
    pub title: String,
    /// Issues only.
    pub status: Option<String>,
    /// The issue's project (commits: none, or the repository's).
    pub project: Option<String>,
    /// Bug, Improvement, ...
    pub issue_type: Option<String>,
    /// Components.
    pub components: Vec<String>,
    /// Fix versions.
    pub fix_versions: Vec<String>,
    /// Affects versions.
    pub versions: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Created (issues) / author date (commits).
    pub year: Option<i32>,
    /// Site-relative page path, e.g. `issues/LU/1/LU-1234.html`.
    pub path: String,
    /// Plain text blocks: description, environment, comments / commit body, author name.
    pub body: Vec<String>,
}

/// What [`build`] produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SearchReport {
    /// Documents indexed.
    pub docs: u64,
    /// Distinct terms in the static index (filters and keys included).
    pub terms: u64,
    /// Files written under `search/`.
    pub files: u64,
    /// Bytes of all files under `search/`.
    pub bytes: u64,
    /// Bytes of `search/root.js`, the one index file loaded before a query.
    pub root_bytes: u64,
    /// Bytes of the largest file under `search/`.
    pub max_file_bytes: u64,
    /// Times the term map outgrew its memory budget and was written to disk while the index
    /// was built (merged back when it was exported).
    pub spilled_runs: u64,
    /// Documents analysed for this index: the others were unchanged since the build that
    /// analysed them, which the build cache kept.
    #[serde(default)]
    pub analysed: u64,
    /// Leaves of the term dictionary ([`dict`]), and how many of them were kept as the last
    /// build published them, none of their terms changed (neither encoded nor written again).
    #[serde(default)]
    pub leaves: u64,
    #[serde(default)]
    pub leaves_kept: u64,
    /// Of the leaves kept, those whose terms were not even read: the last build's leaves that
    /// hold none of the terms that may have changed ([`index`]'s `changed`).
    #[serde(default)]
    pub leaves_unread: u64,
    /// Of the leaves kept unread, those that hold terms that may have changed, found to
    /// encode as they did by reading those terms alone (`export`'s probe).
    #[serde(default)]
    pub leaves_probed: u64,
    /// Whether the published index was kept as it was, its documents' inputs unchanged (the
    /// counts are then those of the build that made it).
    #[serde(default)]
    pub kept: bool,
}

impl SearchReport {
    /// One line for the build's progress: documents, terms, files, size, first load.
    pub fn summary(&self) -> String {
        let spilled = match self.spilled_runs {
            0 => String::new(),
            n => format!("; built in {} on disk", count(n, "run")),
        };
        let kept = match self.kept {
            true => "; kept as published (the documents' inputs are unchanged)",
            false => "",
        };
        let analysed = match self.kept {
            false if self.analysed < self.docs => format!(" ({} analysed)", self.analysed),
            _ => String::new(),
        };
        let leaves = match self.leaves_kept {
            0 => String::new(),
            k => format!(
                "; {k} of {} kept as published{}",
                count_as(self.leaves, "dictionary leaf", "dictionary leaves"),
                match (self.leaves_unread, self.leaves_probed) {
                    (0, _) => String::new(),
                    (u, 0) => format!(" ({u} unread)"),
                    (u, p) => format!(" ({u} unread, {p} of them probed)"),
                }
            ),
        };
        format!(
            "{}{analysed}, {}, {}, {:.1} MB (loaded before a query: {} bytes){leaves}{spilled}{kept}",
            count(self.docs, "document"),
            count(self.terms, "term"),
            count(self.files, "file"),
            self.bytes as f64 / 1e6,
            self.root_bytes
        )
    }
}

/// What the static index needs to know of the archive beyond its documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The key prefix of the Bugzilla tracker (`BZ`), so that `bug 1234` and `b=1234` typed
    /// as a query reach `BZ-1234` as its key does.
    pub bug_prefix: Option<String>,
    /// How much of the index may stay in memory while it is built, and where the rest goes.
    pub memory: index::Memory,
    /// Where the analysed index is kept between builds, so that documents unchanged since
    /// the last build are not analysed again; it takes the place of `memory.spill`. None:
    /// everything is analysed, nothing is kept.
    pub kept: Option<KeptAt>,
}

/// Where the analysed index is kept between builds ([`Options::kept`]), and by which program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptAt {
    /// A folder of the build cache.
    pub dir: std::path::PathBuf,
    /// The identity of the running program: an index another program kept is not continued
    /// (its analysis may differ), but made again.
    pub program: u128,
}

/// What the index is told of an item before its document is made: a digest of everything
/// the document is made from (the item's identity). A kept index skips an item whose
/// identity it holds, unchanged, without making its document: making an issue's means
/// decoding the issue and converting all its texts to plain text, most of what reading the
/// archive for the index costs when a few issues changed. `None`: the document's own digest
/// is compared once it is made. A kind of item has an identity always or never.
pub type Identity = Option<u128>;

/// Indexes `docs` and writes the static index under `search/` through `sink`.
///
/// The static index is a deterministic function of the set of documents: it does not depend on
/// the order `docs` come in, on the batches they are analysed in, or on the number of threads.
pub fn build(
    docs: impl Iterator<Item = SearchDoc>,
    sink: &dyn crate::render::PageSink,
    options: &Options,
) -> crate::error::Result<SearchReport> {
    export::export(
        index::Index::build(
            docs,
            &|_| None,
            &|d| Ok(Some(d)),
            &options.memory,
            options.kept.as_ref(),
        )?,
        sink,
        options,
    )
}

/// Like [`build`], for producers that push items from a callback (the archive store's
/// `for_each_issue`): `produce` gets an `emit` function and runs on the calling thread while
/// the index is built on others, through a bounded channel, so items stream. Each item is made
/// a document (or none) by `convert`, which runs on every core, so the producer only reads.
/// `identify` tells an item's [`Identity`] (on every core too), so that a kept index skips an
/// item it holds unchanged before `convert` makes its document.
pub fn build_streaming<T: Send>(
    sink: &dyn crate::render::PageSink,
    options: &Options,
    identify: impl Fn(&T) -> Identity + Sync,
    convert: impl Fn(T) -> crate::error::Result<Option<SearchDoc>> + Sync,
    produce: impl FnOnce(&mut dyn FnMut(T)) -> crate::error::Result<()>,
) -> crate::error::Result<SearchReport> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<T>(4096);
    std::thread::scope(|s| {
        let (identify, convert) = (&identify, &convert);
        let indexer = s.spawn(move || {
            export::export(
                index::Index::build(
                    rx.into_iter(),
                    identify,
                    convert,
                    &options.memory,
                    options.kept.as_ref(),
                )?,
                sink,
                options,
            )
        });
        let produced = produce(&mut |d| {
            // A failed indexer drops the receiver; its error is reported below.
            let _ = tx.send(d);
        });
        drop(tx);
        let report = indexer
            .join()
            .map_err(|_| err("the search indexer panicked"))??;
        produced?;
        Ok(report)
    })
}

/// Removes what earlier builds left in the build cache and nothing reads any more: the
/// tantivy index of builds before issue #19 (`<cache>/search/`, as large as the static index),
/// and the folder the index spilled into before it was kept (`<cache>/search-spill/`, left
/// behind by a killed build).
pub fn remove_old_index(cache_dir: &Path) -> crate::error::Result<()> {
    for old in ["search", "search-spill"] {
        spill::remove_dir(&cache_dir.join(old))?;
    }
    Ok(())
}

/// Runs `query` (the language of the site's search box) over the static index of the site
/// in `site`, exactly as the site's page does; the first `limit` results.
pub fn query(site: &Path, query: &str, limit: usize) -> crate::error::Result<client::Answer> {
    client::StaticIndex::open(site)?.search(query, limit)
}

/// A search index error with its cause (what went wrong, in words).
pub(crate) fn err(cause: impl Into<crate::error::Cause>) -> crate::error::Error {
    crate::error::Error::Search {
        source: cause.into(),
    }
}
