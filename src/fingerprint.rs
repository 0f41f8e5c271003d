//! Fingerprints: whether anything a build reads, or the output it left, has changed since.
//!
//! The archive keeper re-runs the build after every export and mirrors the output; most runs
//! find nothing new. A build records, in the build cache, a fingerprint of its inputs (the
//! program, the configuration, every export file, attachment, theme and page file by size and
//! modification time, the repositories' refs), of the cache it left and of the output it
//! published (every file's path, size, modification time and inode). The next build computes both again; when they
//! match, the published site is exactly what a full build would write, so the build stops
//! there without touching anything. `--force` skips the check.
//!
//! Like `make` and `rsync`, files are compared by size and modification time, not content: a
//! file rewritten with other bytes of the same size within the same nanosecond goes unseen.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::source::kept::{field, refs_into};
use crate::write;

/// What the build cache remembers of the last successful build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildState {
    /// The fingerprint of everything the build read.
    pub inputs: String,
    /// The fingerprint of the build cache it left (the archive store and search index that
    /// `hindsight search` reads).
    pub cache: String,
    /// The fingerprint of the site it published.
    pub output: String,
    /// The folder it published to.
    pub output_path: PathBuf,
}

const STATE_FILE: &str = "last-build.json";

/// The state the last successful build recorded in `cache`, if any (an unreadable record is
/// treated as none: the build then simply runs).
pub fn load(cache: &Path) -> Option<BuildState> {
    let text = std::fs::read(cache.join(STATE_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Records `state` in `cache`.
pub fn save(cache: &Path, state: &BuildState) -> Result<()> {
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| Error::Json {
        what: cache.join(STATE_FILE).display().to_string(),
        source: e,
    })?;
    crate::write::replace_file(&cache.join(STATE_FILE), &bytes)
}

/// Forgets the last build (before a build that may fail half-way through the cache).
pub fn forget(cache: &Path) -> Result<()> {
    match std::fs::remove_file(cache.join(STATE_FILE)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(cache.join(STATE_FILE), e)),
    }
}

/// The fingerprint of everything a build of `config` into `output` reads.
pub fn inputs(config: &Config, found: &Inputs, output: &Path, strict: bool) -> Result<String> {
    let mut h = Xxh3::new();
    field(&mut h, env!("CARGO_PKG_VERSION").as_bytes());
    // The program itself: a rebuilt binary may render differently.
    if let Ok(exe) = std::env::current_exe() {
        stat_into(&mut h, &exe);
    }
    field(&mut h, format!("{config:?}").as_bytes());
    field(&mut h, output.as_os_str().as_encoded_bytes());
    h.write_u8(strict as u8);
    for (tracker, found) in config.trackers.iter().zip(&found.trackers) {
        for file in &found.files {
            stat_into(&mut h, file);
        }
        if let Some(dir) = &tracker.attachments {
            tree_into(&mut h, dir)?;
        }
    }
    tree_into(&mut h, &config.theme)?;
    tree_into(&mut h, &config.pages)?;
    for repo in &config.repositories {
        refs_into(&mut h, &repo.path)?;
    }
    Ok(format!("{:032x}", h.digest128()))
}

/// The fingerprint of what the search index is made from: the program, the config, the export
/// files' bytes (`exports`: [`crate::import::ImportReport::inputs`]) and the repositories'
/// refs. The issues and commits the index holds, as the site publishes them, are a function of
/// these (the theme, pages and attachments' bytes are not in it), so an index made from the
/// same fingerprint is the one a new build would make.
pub fn search(config: &Config, exports: &str) -> Result<u128> {
    let mut h = Xxh3::new();
    h.write_u128(program());
    field(&mut h, format!("{config:?}").as_bytes());
    field(&mut h, exports.as_bytes());
    for repo in &config.repositories {
        refs_into(&mut h, &repo.path)?;
    }
    Ok(h.digest128())
}

/// An identity of the running program: its version and its executable's path, size,
/// modification time and inode (a rebuilt binary may render differently, so pages made by
/// another one are not kept).
pub fn program() -> u128 {
    let mut h = Xxh3::new();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    match std::env::current_exe() {
        Ok(exe) => stat_into(&mut h, &exe),
        Err(_) => h.write_u8(0),
    }
    h.digest128()
}

/// The fingerprint of the build cache: its archive store.
pub fn cache(config: &Config) -> String {
    let mut h = Xxh3::new();
    stat_into(&mut h, &config.cache.join("archive.redb"));
    format!("{:032x}", h.digest128())
}

/// The fingerprint of the site in `output`: every file's path, size, modification time and
/// inode ([`write::files_fingerprint`] of [`write::files_under`]). `None` when there is no
/// output.
pub fn output(output: &Path) -> Result<Option<String>> {
    if !output.is_dir() {
        return Ok(None);
    }
    let files = write::files_under(output)?;
    Ok(Some(write::files_fingerprint(
        files.iter().map(|(path, stat)| (path.as_str(), *stat)),
    )))
}

/// Adds a file's path, size and modification time (or its absence).
fn stat_into(h: &mut Xxh3, path: &Path) {
    let bytes = path.as_os_str().as_encoded_bytes();
    h.write_u64(bytes.len() as u64);
    h.write(bytes);
    match std::fs::metadata(path) {
        Ok(meta) => meta_into(h, &meta),
        Err(_) => h.write_u8(0),
    }
}

fn meta_into(h: &mut Xxh3, meta: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    h.write_u8(1);
    h.write_u64(meta.len());
    h.write_i64(meta.mtime());
    h.write_i64(meta.mtime_nsec());
    h.write_u64(meta.ino());
}

/// Adds every file under `dir` by relative path, size, modification time and inode (a missing
/// folder adds a marker): the digest of the folder ([`folder_digest`]), made on every core.
fn tree_into(h: &mut Xxh3, dir: &Path) -> Result<()> {
    if !dir.exists() {
        h.write_u8(0);
        return Ok(());
    }
    h.write_u8(1);
    h.write_u128(folder_digest(dir)?);
    Ok(())
}

/// The digest of a folder: of its entries in name order, each its name and either its size,
/// modification time and inode (a file, or a link, not followed) or the digest of its own
/// entries (a folder). Entries are read on every core, so a site of 170,000 files is
/// fingerprinted in a fraction of a sequential walk's time.
fn folder_digest(dir: &Path) -> Result<u128> {
    use rayon::prelude::*;
    let mut entries = std::fs::read_dir(dir)
        .and_then(|r| r.collect::<std::io::Result<Vec<_>>>())
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    let digests = entries
        .par_iter()
        .map(|entry| -> Result<u128> {
            let mut h = Xxh3::new();
            let name = entry.file_name();
            let bytes = name.as_encoded_bytes();
            h.write_u64(bytes.len() as u64);
            h.write(bytes);
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            if kind.is_dir() {
                h.write_u8(2);
                h.write_u128(folder_digest(&path)?);
            } else {
                let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
                meta_into(&mut h, &meta);
            }
            Ok(h.digest128())
        })
        .collect::<Result<Vec<u128>>>()?;
    let mut h = Xxh3::new();
    for d in digests {
        h.write_u128(d);
    }
    Ok(h.digest128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_fingerprint_sees_any_file_change() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("public");
        assert_eq!(output(&site).unwrap(), None);
        std::fs::create_dir_all(site.join("a")).unwrap();
        std::fs::write(site.join("a/x.html"), "one").unwrap();
        let first = output(&site).unwrap().unwrap();
        assert_eq!(output(&site).unwrap().unwrap(), first);
        // Same size, new content: a new inode (as a rewritten page gets) changes it.
        std::fs::remove_file(site.join("a/x.html")).unwrap();
        std::fs::write(site.join("a/y.html"), "one").unwrap();
        std::fs::rename(site.join("a/y.html"), site.join("a/x.html")).unwrap();
        assert_ne!(output(&site).unwrap().unwrap(), first);
        let second = output(&site).unwrap().unwrap();
        std::fs::write(site.join("b.html"), "").unwrap();
        let third = output(&site).unwrap().unwrap();
        assert_ne!(third, second);
        // Renamed, or moved to another folder, with the same inode and time: a change too.
        std::fs::rename(site.join("a/x.html"), site.join("a/z.html")).unwrap();
        let fourth = output(&site).unwrap().unwrap();
        assert_ne!(fourth, third);
        std::fs::create_dir_all(site.join("c/d")).unwrap();
        std::fs::rename(site.join("a/z.html"), site.join("c/d/z.html")).unwrap();
        let fifth = output(&site).unwrap().unwrap();
        assert_ne!(fifth, fourth);
        // A file deep down rewritten: seen through every folder above it.
        std::fs::write(site.join("c/d/z.html"), "two").unwrap();
        assert_ne!(output(&site).unwrap().unwrap(), fifth);
    }

    #[test]
    fn state_round_trips_and_can_be_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), None);
        let state = BuildState {
            inputs: "a".into(),
            cache: "c".into(),
            output: "b".into(),
            output_path: "/x/public".into(),
        };
        save(dir.path(), &state).unwrap();
        assert_eq!(load(dir.path()), Some(state));
        forget(dir.path()).unwrap();
        assert_eq!(load(dir.path()), None);
        forget(dir.path()).unwrap();
    }
}
