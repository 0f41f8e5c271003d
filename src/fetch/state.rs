//! The harvest's memory between runs, in `<folder>/.hindsight-fetch/state.json`: the watermark
//! of the last complete run (incremental runs ask for what changed since), and the progress of
//! the run under way (its cursor, the batches done), saved after each page is on disk so a run
//! killed at any moment continues where it stopped.
//!
//! The file is written through a temporary file and a rename: it is always the old or the new
//! state, never half of one. The page files are written first, then the state that counts them,
//! so after a kill the next run at worst fetches one page again and writes it over itself
//! (file names come from the run and the page number, both kept here): no duplicate, no hole.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::FetchError;

/// The folder beside the harvested files that holds the state and temporary files; a glob
/// like `harvest/jira/*.json` never reads it (it is a folder), nor anything in it.
pub(crate) const STATE_DIR: &str = ".hindsight-fetch";

/// Everything a harvest of one tracker remembers.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct State {
    /// The format of this file.
    pub version: u32,
    /// What was harvested (kind, address, query): a state for another source is not reused.
    pub source: String,
    /// When the last complete run started (this machine's clock): changes since then, less the
    /// overlap, are what an incremental run asks for.
    pub watermark: Option<DateTime<Utc>>,
    /// The number the next run gets (it names its files).
    pub next_run: u32,
    /// The run under way, if the last one did not finish.
    pub run: Option<Run>,
    /// JIRA: the v2 search answered 410 Gone or 404 once, so this is a Cloud site: later runs
    /// ask `/rest/api/3/search/jql` at once instead of trying the v2 search again.
    #[serde(default)]
    pub jira_cloud: bool,
}

/// A run in progress.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Run {
    /// Its number, in its files' names (`jira-r0003-000017.json`).
    pub number: u32,
    /// Everything is fetched (no `since`), and afterwards every older file is superseded.
    pub full: bool,
    /// When it started.
    pub started: Option<DateTime<Utc>>,
    /// Changes since this instant are fetched (incremental runs).
    pub since: Option<DateTime<Utc>>,
    /// Pages (or batches) written so far.
    pub pages: u32,
    /// Issues written so far.
    pub issues: u64,
    /// How many issues the run will fetch, when known.
    pub total: Option<u64>,
    /// JIRA: projects done; Bugzilla: unused; GitHub: unused.
    #[serde(default)]
    pub done_projects: Vec<String>,
    /// JIRA: the last key written, in the current project.
    #[serde(default)]
    pub last_key: Option<String>,
    /// GitHub: the repository being harvested (index into the config's list).
    #[serde(default)]
    pub repo: usize,
    /// GitHub: the next page's address for that repository (from the `Link` header).
    #[serde(default)]
    pub next_url: Option<String>,
    /// Bugzilla: the batches written (of the id list kept in `ids-<run>.json`).
    #[serde(default)]
    pub batches_done: BTreeSet<u32>,
    /// Every page is written; what is left is replacing older copies and removing the gone.
    #[serde(default)]
    pub fetched: bool,
}

/// The current version of the state file.
const VERSION: u32 = 1;

impl State {
    /// The state in `folder`, or a fresh one for `source` when there is none or it was for
    /// another source.
    pub fn load(tracker: &str, folder: &Path, source: &str) -> Result<State, FetchError> {
        let path = state_path(folder);
        let fresh = State {
            version: VERSION,
            source: source.to_string(),
            next_run: 1,
            ..Default::default()
        };
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh),
            Err(e) => return Err(FetchError::io(tracker, &path, e)),
        };
        let state: State = serde_json::from_slice(&text).map_err(|e| {
            FetchError::io(
                tracker,
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        if state.version != VERSION || state.source != source {
            // Another query or another server: start over, but keep numbering runs upwards so
            // new files never take an old file's name.
            return Ok(State {
                next_run: state.next_run.max(1),
                ..fresh
            });
        }
        Ok(state)
    }

    /// Writes the state atomically.
    pub fn save(&self, tracker: &str, folder: &Path) -> Result<(), FetchError> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| FetchError::io(tracker, state_path(folder), std::io::Error::other(e)))?;
        write_atomic(tracker, &state_path(folder), &bytes)
    }
}

/// Takes the folder's harvest lock, `<folder>/.hindsight-fetch/lock` (an advisory lock on
/// the open file, released when the returned file is dropped or the process dies), or fails
/// within half a second with [`FetchError::Locked`] when another harvest holds it. The file
/// itself stays:
/// removing it would let two runs lock two different files of one name.
pub(crate) fn lock(tracker: &str, folder: &Path) -> Result<std::fs::File, FetchError> {
    let dir = folder.join(STATE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| FetchError::io(tracker, &dir, e))?;
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| FetchError::io(tracker, &path, e))?;
    // A lock is an open file's: a process forked by another thread of this one (to run git,
    // say) holds a copy of the descriptor, and so the lock, until it execs, even after this
    // process closed its own. Such a lock is gone within milliseconds; another harvest's is
    // not. So a refused lock is asked for again for a moment before the harvest gives up.
    for attempt in 0.. {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if attempt < LOCK_ATTEMPTS => {
                std::thread::sleep(LOCK_RETRY);
            }
            Err(std::fs::TryLockError::WouldBlock) => break,
            Err(std::fs::TryLockError::Error(e)) => return Err(FetchError::io(tracker, &path, e)),
        }
    }
    Err(FetchError::Locked {
        tracker: tracker.to_string(),
        folder: folder.to_path_buf(),
    })
}

/// How many times, and how far apart, a refused harvest lock is asked for again (half a
/// second in all: see [`lock`]).
const LOCK_ATTEMPTS: u32 = 20;
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(25);

/// Removes the temporary files a killed run left in the state folder (they are never read:
/// a file is only ever renamed into place whole).
pub(crate) fn remove_temporaries(folder: &Path) {
    if let Ok(entries) = std::fs::read_dir(folder.join(STATE_DIR)) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// `<folder>/.hindsight-fetch/state.json`.
pub(crate) fn state_path(folder: &Path) -> PathBuf {
    folder.join(STATE_DIR).join("state.json")
}

/// Writes `bytes` to `path` so that a reader (or a kill) sees the old file or the new one,
/// never a part: a temporary file in the state folder, flushed to disk, renamed over `path`.
pub(crate) fn write_atomic(tracker: &str, path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    // The temporary file lives in the state folder of the harvest folder (same file system,
    // and no glob of the build reads it).
    let state_dir = if folder.file_name().is_some_and(|n| n == STATE_DIR) {
        folder.to_path_buf()
    } else {
        folder.join(STATE_DIR)
    };
    std::fs::create_dir_all(&state_dir).map_err(|e| FetchError::io(tracker, &state_dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = state_dir.join(format!(
        "{name}.{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FetchError::io(tracker, path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_a_new_source_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State::load("t", dir.path(), "jira https://x q").unwrap();
        assert_eq!(s.next_run, 1);
        assert!(s.run.is_none());
        s.next_run = 4;
        s.watermark = Some(Utc::now());
        s.run = Some(Run {
            number: 3,
            last_key: Some("LU-7".into()),
            batches_done: [1, 2].into(),
            ..Default::default()
        });
        s.save("t", dir.path()).unwrap();
        assert_eq!(State::load("t", dir.path(), "jira https://x q").unwrap(), s);
        let other = State::load("t", dir.path(), "jira https://x other").unwrap();
        assert!(other.run.is_none() && other.watermark.is_none());
        assert_eq!(other.next_run, 4);
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path().join(STATE_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn a_corrupt_state_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        std::fs::write(state_path(dir.path()), "{nope").unwrap();
        let e = State::load("jira", dir.path(), "s").unwrap_err();
        assert!(e.to_string().contains("state.json"), "{e}");
    }
}
