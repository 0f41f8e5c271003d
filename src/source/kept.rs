//! The git stage's result kept between builds: a rebuild whose repositories have the same refs
//! (and shallow boundary and worktree mailmap) under the same program and configuration is
//! given the history the last build read, and the store keeps that build's commits, instead of
//! walking 50,000 commits and reading their diff records again.
//!
//! What the git stage returns ([`History`], [`GitReport`]) and stores (each commit with its
//! diffstat) is a function of the program, the configuration (repositories, release patterns,
//! reference patterns, diff options) and the objects the refs reach, which git names by their
//! content: the refs' targets stand for all of them. Beside the refs, the read looks at the
//! shallow boundary (a deepened clone has the same refs and more history) and at a worktree's
//! `.mailmap`; both are in the fingerprint ([`made_from`]).
//!
//! The diff cache must still hold a record of every commit (commit pages read their diffs
//! from it): one removed since is filled again by a read.
//!
//! The history is saved as JSON in the build cache ([`RECORD`]); the store says which read its
//! commits are (`Store::commits_stamp`), cleared with the commits before they are stored again
//! and set once the read finished, so a killed build never leaves a stamp over half a read,
//! and a fresh store (a new import) has none.

use std::hash::Hasher;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use xxhash_rust::xxh3::Xxh3;

use super::history::{History, SavedHistory};
use super::references::References;
use super::{read, ref_targets, DiffCache, GitReport};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::observe::Observer;
use crate::store::Store;

/// The build cache's file with the last read's history and report.
pub const RECORD: &str = "git-history.json";

/// What [`RECORD`] holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    made_from: String,
    report: GitReport,
    history: SavedHistory,
}

/// The fingerprint of what the git stage reads: the program (`program`, an identity of the
/// running binary), the configuration, and per repository its refs and their targets, its
/// shallow boundary and its worktree `.mailmap`.
pub fn made_from(config: &Config, program: u128) -> Result<u128> {
    let mut h = Xxh3::new();
    h.write_u128(program);
    field(&mut h, format!("{config:?}").as_bytes());
    for repo in &config.repositories {
        refs_into(&mut h, &repo.path)?;
        for file in [".git/shallow", "shallow", ".mailmap"] {
            let path = repo.path.join(file);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    field(&mut h, file.as_bytes());
                    field(&mut h, &bytes);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
    Ok(h.digest128())
}

/// Adds a repository's path and every ref of it with what it points at (also what the
/// build's and the search index's fingerprints see of a repository).
pub(crate) fn refs_into(h: &mut Xxh3, repo: &Path) -> Result<()> {
    field(h, repo.as_os_str().as_encoded_bytes());
    for (name, target) in ref_targets(repo)? {
        field(h, name.as_bytes());
        field(h, target.as_bytes());
    }
    Ok(())
}

/// Adds `bytes` with their length, so that consecutive fields cannot run into each other.
pub(crate) fn field(h: &mut Xxh3, bytes: &[u8]) {
    h.write_u64(bytes.len() as u64);
    h.write(bytes);
}

/// The git stage: the last build's history when the repositories read the same
/// ([`made_from`]), the store still holds that read's commits and the cache its history;
/// otherwise every repository read ([`read`]), its commits stored in place of the old ones and
/// its history saved for the next build.
pub fn read_or_keep(
    config: &Config,
    references: &References,
    store: &Store,
    progress: &dyn Observer,
    program: u128,
) -> Result<(History, GitReport)> {
    let started = Instant::now();
    let made_from = format!("{:032x}", made_from(config, program)?);
    let record_file = config.cache.join(RECORD);
    if store.commits_stamp()?.as_deref() == Some(made_from.as_bytes()) {
        let kept = load(&record_file, &made_from).filter(|(history, _)| {
            // Commit pages read their diffs from the diff cache: a cache removed since
            // (or replaced, being unreadable) is filled again by reading the repositories.
            DiffCache::open(&config.cache)
                .and_then(|d| d.records())
                .is_ok_and(|n| n >= history.commits.len() as u64)
        });
        if let Some((history, report)) = kept {
            let report = GitReport {
                kept: true,
                walk_time: started.elapsed(),
                diff_time: Default::default(),
                diffs_computed: 0,
                diffs_cached: 0,
                ..report
            };
            return Ok((history, report));
        }
    }
    let mut w = store.writer()?;
    w.put_commits_stamp(None)?;
    w.clear_commits()?;
    w.commit()?;
    let (history, report) = read(config, references, store, progress)?;
    save(&record_file, &made_from, &history, &report)?;
    let mut w = store.writer()?;
    w.put_commits_stamp(Some(made_from.as_bytes()))?;
    w.commit()?;
    Ok((history, report))
}

/// The history and report saved in `file` by a read of the fingerprint `made_from`; `None`
/// when there is none, it was another read's, or it cannot be read back.
fn load(file: &Path, made_from: &str) -> Option<(History, GitReport)> {
    let bytes = std::fs::read(file).ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    if record.made_from != made_from {
        return None;
    }
    Some((History::from_saved(record.history)?, record.report))
}

/// Saves a read's history and report, whole or not at all (written beside, then renamed).
fn save(file: &Path, made_from: &str, history: &History, report: &GitReport) -> Result<()> {
    let record = Record {
        made_from: made_from.to_string(),
        report: report.clone(),
        history: history.to_saved(),
    };
    let partial = file.with_extension("json.partial");
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        serde_json::to_writer(&mut out, &record)?;
        out.flush()
    };
    write().map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, file).map_err(|e| Error::io(file, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::history::{Node, ReleaseInput};
    use crate::source::releases::Version;

    fn info(id: &str, parents: Vec<u32>) -> crate::source::history::CommitInfo {
        let mut c = crate::source::history::CommitInfo::new(id.into(), format!("subject {id}"));
        c.parents = parents;
        c.set_candidates(vec![(format!("LU-{}", id.len()), true)]);
        c
    }

    #[test]
    fn a_saved_history_reads_back_as_it_was() {
        let nodes = vec![
            Node {
                info: info("c", vec![1]),
                seconds: 30,
            },
            Node {
                info: info("bb", vec![2]),
                seconds: 20,
            },
            Node {
                info: info("a", vec![]),
                seconds: 10,
            },
        ];
        let releases = vec![
            ReleaseInput {
                version: Version(vec![1, 0]),
                tags: vec!["v1_0".into()],
                tips: vec![2],
                date: None,
            },
            ReleaseInput {
                version: Version(vec![1, 1]),
                tags: vec!["1.1".into()],
                tips: vec![0],
                date: None,
            },
        ];
        let history = History::build(
            nodes,
            vec![("master".into(), vec!["refs/heads/master".into()], vec![0])],
            releases,
            vec![("1.1".into(), 0)],
            0,
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(RECORD);
        let report = GitReport {
            commits: 3,
            notes: vec!["a note".into()],
            ..Default::default()
        };
        save(&file, "f1", &history, &report).unwrap();
        let (back, back_report) = load(&file, "f1").unwrap();
        // Debug shows every field, private ones and those the templates never see included.
        assert_eq!(format!("{back:?}"), format!("{history:?}"));
        assert_eq!(format!("{back_report:?}"), format!("{report:?}"));
        assert!(load(&file, "f2").is_none(), "another read's history");
        std::fs::write(&file, b"{\"made_from\":\"f1\"").unwrap();
        assert!(load(&file, "f1").is_none(), "a damaged file");
    }
}
