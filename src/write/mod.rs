//! Write: the only stage that touches the output folder.
//!
//! A build never leaves a half-written site. When there is no site yet, every file goes into
//! a staging folder beside the output, renamed into place at the end. When there is one, only
//! the files whose bytes change are written, into the staging folder; a file whose bytes (or,
//! for a page, whose inputs: [`PageSink::keep`]) are the same as the published copy is not
//! touched at all, so its inode and modification time survive and `rsync` to a mirror copies
//! nothing. Whether the bytes are the same is known from the [`manifest`] the last build left
//! in the build cache (each file's SHA-256, the inputs it was rendered from and the stat it
//! was published with), not by reading the old site back; only a site without a manifest is
//! compared byte by byte.
//!
//! When every file is in, the site's `SHA256SUMS` and the backup bag's manifests are written
//! from the same hashes, and a journal beside the output lists the staged files to move into
//! the site and the published files to remove. Writing the journal (one rename) is the
//! moment the build succeeds; applying it is renames and removals only, a window as short as
//! the change is small. A build that fails or is killed before that moment leaves the
//! previous site exactly as it was (and a staging folder the next build clears); one killed
//! while applying the journal leaves it for the next build, which completes it before
//! anything else, so the site becomes the new one, whole.

pub mod bag;
mod folders;
pub mod manifest;

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::render::PageSink;
use manifest::{Entry, Manifest, Placed, Stat};

/// The file at the site's root listing every other file's SHA-256, as `sha256sum -c` reads it.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// Files at least this large with the bytes of a file already staged are hard-linked to it
/// (an attachment in the site and in the backup is stored once).
const SHARE_AT: usize = 4096;

/// The fewest threads that stat the published site's files and folders when a build begins
/// ([`Staging::begin`]; as many as the build's pool when it has more): the calls wait on the
/// disk when the inodes are not cached, so more of them than cores keep it busy, and apart
/// from the build's pool they leave its threads to import.
const STAT_THREADS: usize = 8;

/// The first line of a journal.
const JOURNAL_HEADER: &str = "hindsight journal 1";

/// Counts of what a build wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files whose bytes changed or were new.
    pub written: u64,
    /// Files kept from the previous output (same bytes).
    pub unchanged: u64,
    /// Files of the previous output the new site no longer has, removed.
    pub removed: u64,
    /// Bytes of all files in the new site.
    pub bytes: u64,
    /// The published site's fingerprint ([`crate::fingerprint::output`]), known from what
    /// was placed where, when the writer keeps a manifest.
    pub fingerprint: Option<String>,
    /// How long each part of the commit took (`--timings` prints them).
    pub parts: Vec<(&'static str, std::time::Duration)>,
}

/// The parts of a commit timed one after another.
struct Parts {
    parts: Vec<(&'static str, std::time::Duration)>,
    since: std::time::Instant,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            parts: Vec::new(),
            since: std::time::Instant::now(),
        }
    }
}

impl Parts {
    /// Notes that `part` ended now.
    fn done(&mut self, part: &'static str) {
        let now = std::time::Instant::now();
        self.parts.push((part, now - self.since));
        self.since = now;
    }
}

impl WriteReport {
    /// One line for the build's progress: files changed, kept and removed, bytes.
    pub fn summary(&self) -> String {
        format!(
            "{} changed, {} unchanged, {} removed, {:.1} MB",
            crate::observe::count(self.written, "file"),
            self.unchanged,
            self.removed,
            self.bytes as f64 / 1e6
        )
    }
}

/// A new site being assembled beside the published one.
pub struct Staging {
    output: PathBuf,
    staging: PathBuf,
    journal: PathBuf,
    /// There was no published site: the staging folder becomes the site.
    fresh: bool,
    written: AtomicU64,
    unchanged: AtomicU64,
    bytes: AtomicU64,
    /// Folders already made under `staging`: each is created once, not once per file.
    folders: Mutex<HashSet<PathBuf>>,
    /// What the last build published, and where its manifest is kept.
    previous: Manifest,
    /// By row of `previous`: whether the published file was still as recorded (its stat)
    /// when the build began.
    as_recorded: Vec<bool>,
    manifest_file: Option<PathBuf>,
    /// The published site's folders as the last build left them, when recorded for its
    /// manifest.
    published_folders: Option<folders::Folders>,
    /// Every file of the new site so far, and what its pages looked up (see
    /// [`PageSink::lookups`]).
    files: Mutex<manifest::Builder>,
    /// Whether a page made from the same inputs as its published copy may be kept without
    /// being rendered again (`false` for `--force`).
    reuse_pages: bool,
}

impl Staging {
    /// Prepares an empty staging folder beside `output`: first completes the journal of a
    /// build killed while applying it, or clears the staging folder of one that failed.
    /// `manifest_file` (in the build cache) is where the manifest of the published site is
    /// kept; without one every unchanged file is found by comparing bytes.
    pub fn begin(output: &Path, manifest_file: Option<&Path>) -> Result<Staging> {
        let name = output
            .file_name()
            .ok_or_else(|| {
                Error::io(
                    output,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "the output must be a named folder",
                    ),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        if let Ok(meta) = fs::symlink_metadata(output) {
            if !meta.is_dir() {
                return Err(Error::io(
                    output,
                    std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "exists and is not a folder; refusing to replace it",
                    ),
                ));
            }
        }
        let staging = parent.join(format!(".{name}.hindsight-staging"));
        let journal = parent.join(format!(".{name}.hindsight-journal"));
        recover(output, &staging, &journal)?;
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        let fresh = fs::symlink_metadata(output).is_err();
        let previous = match manifest_file {
            Some(file) if !fresh => Manifest::load(file, output),
            _ => Manifest::empty(output),
        };
        let check = || {
            let as_recorded = previous.still_as_recorded(output);
            let published_folders = match manifest_file {
                Some(file) if !fresh => {
                    folders::Folders::load(&folders_file(file), output, &previous.fingerprint())
                }
                _ => None,
            }
            .map(|mut folders| {
                folders.check();
                folders
            });
            (as_recorded, published_folders)
        };
        // On threads of their own: with the inodes not cached, the stats are the kernel
        // reading them from disk (about 10 s of 400,000 files after the page cache was
        // dropped), and on the build's pool they held its threads while import's parsing
        // waited behind them. A first build has nothing to stat.
        let pool = (!previous.is_empty()).then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(STAT_THREADS.max(rayon::current_num_threads()))
                .thread_name(|i| format!("hindsight-stat-{i}"))
                .build()
        });
        let (as_recorded, published_folders) = match pool {
            Some(Ok(pool)) => pool.install(check),
            _ => check(),
        };
        let mut files = manifest::Builder::sharing(SHARE_AT as u64);
        files.reserve_like(&previous);
        Ok(Staging {
            output: output.to_path_buf(),
            staging,
            journal,
            fresh,
            written: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            folders: Default::default(),
            previous,
            as_recorded,
            manifest_file: manifest_file.map(Path::to_path_buf),
            published_folders,
            files: Mutex::new(files),
            reuse_pages: true,
        })
    }

    /// Whether pages made from the same inputs as their published copies are kept without
    /// being rendered again ([`PageSink::keep`]); `false` makes every page render (`--force`).
    pub fn reuse_pages(mut self, reuse: bool) -> Staging {
        self.reuse_pages = reuse;
        self
    }

    /// Writes the site's `SHA256SUMS` and each bag's manifests, then makes the staged site
    /// the published one (a rename when there was none; else through the journal), removes
    /// what the new site no longer has and keeps the new manifest.
    pub fn commit(self, bags: &[bag::Bag]) -> Result<WriteReport> {
        let mut clock = Parts::default();
        for b in bags {
            self.finish_bag(b)?;
        }
        clock.done("bag manifests");
        let sums = {
            let mut files = self.staged();
            files
                .par_runs(16_384, |run| bag::sha256sums(run, |p| p != SUMS_FILE))
                .concat()
        };
        self.put(SUMS_FILE, sums.as_bytes())?;
        drop(sums);
        clock.done("SHA256SUMS");
        let mut report = WriteReport {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed: 0,
            bytes: self.bytes.load(Ordering::Relaxed),
            fingerprint: None,
            parts: Vec::new(),
        };
        let files = self.files.into_inner().unwrap_or_else(|e| e.into_inner());
        let site = files
            .finish(&self.output)
            .map_err(|path| produced_twice(&path))?;
        clock.done("manifest sorted");
        // Every folder the journal moves a file into or removes one from, and those above.
        let mut touched: HashSet<String> = HashSet::new();
        if self.fresh {
            fs::rename(&self.staging, &self.output).map_err(|e| Error::io(&self.output, e))?;
        } else {
            let staged = site.staged().map(str::to_string).collect();
            let removed = match &self.published_folders {
                // What the last build published and this one does not, and the strays.
                Some(folders) => {
                    let mut removed = gone(self.previous.paths(), site.paths());
                    removed
                        .extend(folders.strays(|p| site.contains(p) || self.previous.contains(p))?);
                    removed.sort_unstable();
                    removed.dedup();
                    removed
                }
                None => files_under(&self.output)?
                    .into_iter()
                    .map(|(path, _)| path)
                    .filter(|p| !site.contains(p))
                    .collect::<Vec<_>>(),
            };
            report.removed = removed.len() as u64;
            clock.done("removals found");
            let journal = Journal {
                moves: staged,
                removals: removed,
            };
            for path in journal.moves.iter().chain(&journal.removals) {
                for folder in folders::folders_above(path) {
                    if !touched.insert(folder.to_string()) {
                        break;
                    }
                }
            }
            journal.save(&self.journal)?;
            clock.done("journal saved");
            // The build has succeeded: from here on, a killed build is completed by the next.
            if let Some(file) = &self.manifest_file {
                site.save(file)?;
                report.fingerprint = Some(site.fingerprint());
            }
            clock.done("manifest saved");
            journal.apply(&self.output, &self.staging)?;
            finish(&self.staging, &self.journal)?;
            clock.done("journal applied");
        }
        if let Some(file) = &self.manifest_file {
            if self.fresh {
                site.save(file)?;
                report.fingerprint = Some(site.fingerprint());
            }
            // Once the site is in place: a build killed before leaves a record that does not
            // go with the manifest, and the next build walks the site.
            let fingerprint = report.fingerprint.clone().unwrap_or_default();
            let touched = |folder: &str| folder.is_empty() || touched.contains(folder);
            folders::Folders::of_site(
                &self.output,
                fingerprint,
                site.files().map(|(p, _)| p),
                self.published_folders.as_ref(),
                &touched,
            )
            .save(&folders_file(file))?;
            clock.done("folders recorded");
        }
        report.parts = clock.parts;
        Ok(report)
    }

    /// Whether there is no published site yet: every file of this build is created (the
    /// staging folder becomes the output), none kept.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Abandons the build: the staging folder is removed, the output is untouched.
    pub fn abandon(self) -> Result<()> {
        remove_if_present(&self.staging)
    }

    /// Writes a bag's `manifest-sha256.txt`, `bag-info.txt` (with its `Payload-Oxum`) and
    /// `tagmanifest-sha256.txt` from the hashes of what was staged under it.
    fn finish_bag(&self, b: &bag::Bag) -> Result<()> {
        let prefix = b.prefix();
        let (manifest, info) = {
            let mut files = self.staged();
            bag::payload_files(b, files.files_under(&prefix))
        };
        self.put(&b.path(bag::MANIFEST), manifest.as_bytes())?;
        self.put(&b.path(bag::INFO), info.as_bytes())?;
        let tags = {
            let mut files = self.staged();
            bag::tag_manifest(b, files.files_under(&prefix))
        };
        self.put(&b.path(bag::TAG_MANIFEST), tags.as_bytes())
    }

    fn make_parent(&self, target: &Path) -> Result<()> {
        if let Some(dir) = target.parent() {
            let known = self
                .folders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(dir);
            if !known {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                self.folders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(dir.to_path_buf());
            }
        }
        Ok(())
    }

    /// Records a file kept from the published site.
    fn kept(&self, path: &str, entry: Entry) -> Result<()> {
        self.record(path, entry, Placed::Kept)?;
        self.unchanged.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(entry.stat.size, Ordering::Relaxed);
        Ok(())
    }

    /// The new site's files so far. A thread that panicked while holding them cannot have left
    /// a half-added file (each is added in one call), so a poisoned lock is taken as it is.
    fn staged(&self) -> std::sync::MutexGuard<'_, manifest::Builder> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `path` to the new site, placed as `placed` says; a path produced twice is a bug of
    /// the build, refused.
    fn record(&self, path: &str, entry: Entry, placed: Placed) -> Result<()> {
        let mut files = self.staged();
        match files.add(path, &entry, placed) {
            true => Ok(()),
            false => Err(produced_twice(path)),
        }
    }

    /// The manifest's entry of the published `path` when the file was still as published
    /// (same stat) when the build began; nothing of it is read, and it is not stat again.
    fn published_as_recorded(&self, path: &str) -> Option<Entry> {
        if self.fresh {
            return None;
        }
        let (row, prev) = self.previous.get_row(path)?;
        self.as_recorded[row].then_some(prev)
    }

    /// Links another staged file with the same bytes, for large files.
    fn share_staged(&self, target: &Path, sha256: &[u8; 32], size: usize) -> Option<Stat> {
        if size < SHARE_AT {
            return None;
        }
        let other = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .staged_with(sha256)?
            .to_string();
        fs::hard_link(self.staging.join(other), target).ok()?;
        Stat::read(target)
    }

    /// Stores a file: kept where it is published, linked to a staged twin (when `file.shared`),
    /// or written.
    fn store(
        &self,
        path: &str,
        file: Incoming,
        write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
        same_as_published: impl FnOnce(&Path) -> bool,
    ) -> Result<()> {
        let Incoming {
            sha256,
            size,
            source,
            made_from,
            shared,
        } = file;
        check_relative(path).map_err(|e| Error::io(path, e))?;
        if let Some(prev) = self.published_as_recorded(path) {
            if prev.sha256 == sha256 {
                let entry = Entry {
                    source,
                    made_from,
                    ..prev
                };
                return self.kept(path, entry);
            }
        }
        // No manifest entry at all (a site built before manifests, or a lost cache): compare.
        if !self.fresh && !self.previous.contains(path) {
            let published = self.output.join(path);
            if same_as_published(&published) {
                if let Some(stat) = Stat::read(&published) {
                    let entry = Entry {
                        sha256,
                        stat,
                        source,
                        made_from,
                    };
                    return self.kept(path, entry);
                }
            }
        }
        let target = self.staging.join(path);
        self.make_parent(&target)?;
        let twin = match shared {
            true => self.share_staged(&target, &sha256, size),
            false => None,
        };
        let stat = match twin {
            Some(stat) => stat,
            None => {
                // `create_new` also catches a renderer that produces one path twice.
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| Error::io(&target, e))?;
                write(&mut file).map_err(|e| Error::io(&target, e))?;
                let meta = file.metadata().map_err(|e| Error::io(&target, e))?;
                Stat::of(&meta)
            }
        };
        self.written.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size as u64, Ordering::Relaxed);
        let entry = Entry {
            sha256,
            stat,
            source,
            made_from,
        };
        let placed = match shared {
            true => Placed::StagedShared,
            false => Placed::Staged,
        };
        self.record(path, entry, placed)
    }

    fn put_bytes(
        &self,
        path: &str,
        made_from: Option<u128>,
        shared: bool,
        bytes: &[u8],
    ) -> Result<()> {
        let file = Incoming {
            sha256: Sha256::digest(bytes).into(),
            size: bytes.len(),
            source: None,
            made_from,
            shared,
        };
        self.store(
            path,
            file,
            |f| f.write_all(bytes),
            |published| same_bytes(published, bytes),
        )
    }
}

impl PageSink for Staging {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.put_bytes(path, None, false, bytes)
    }

    fn put_shared(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.put_bytes(path, None, true, bytes)
    }

    fn put_made_from(&self, path: &str, made_from: u128, bytes: &[u8]) -> Result<()> {
        self.put_bytes(path, Some(made_from), false, bytes)
    }

    fn lookups(&self, path: &str) -> Option<Vec<String>> {
        if self.fresh || !self.reuse_pages {
            return None;
        }
        self.previous.lookups(path)
    }

    fn remember_lookups(&self, path: &str, lookups: Vec<String>) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add_lookups(path, &lookups);
    }

    fn keep_lookups(&self, path: &str) {
        if let Some(json) = self.previous.lookups_json(path) {
            self.files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add_lookups_json(path, json);
        }
    }

    /// Kept when the published `anchor` was made from the same inputs and every published
    /// file under `prefix` is still as published (its stat); checked for all before any is
    /// kept.
    fn keep_all(&self, prefix: &str, anchor: &str, made_from: u128) -> Result<Option<u64>> {
        if !self.reuse_pages || self.fresh {
            return Ok(None);
        }
        check_relative(prefix.trim_end_matches('/')).map_err(|e| Error::io(prefix, e))?;
        let anchored = anchor.starts_with(prefix)
            && (self.previous.get(anchor)).is_some_and(|e| e.made_from == Some(made_from));
        if !anchored {
            return Ok(None);
        }
        let mut kept = Vec::new();
        for (row, path, entry) in self.previous.rows_under(prefix) {
            if !self.as_recorded[row] {
                return Ok(None);
            }
            kept.push((path, entry));
        }
        for (path, entry) in &kept {
            self.kept(path, *entry)?;
        }
        Ok(Some(kept.len() as u64))
    }

    /// Kept when the manifest says the published file was made from the same inputs and the
    /// file is still as it was published (its stat); nothing is rendered, hashed or read.
    fn keep(&self, path: &str, made_from: u128) -> Result<bool> {
        Ok(self.keep_sized(path, made_from)?.is_some())
    }

    fn keep_sized(&self, path: &str, made_from: u128) -> Result<Option<u64>> {
        if !self.reuse_pages {
            return Ok(None);
        }
        check_relative(path).map_err(|e| Error::io(path, e))?;
        match self.published_as_recorded(path) {
            Some(prev) if prev.made_from == Some(made_from) => {
                self.kept(path, prev)?;
                Ok(Some(prev.stat.size))
            }
            _ => Ok(None),
        }
    }

    fn keep_together(&self, files: &[(&str, u128)]) -> Result<bool> {
        if !self.reuse_pages {
            return Ok(false);
        }
        let mut published = Vec::with_capacity(files.len());
        for &(path, made_from) in files {
            check_relative(path).map_err(|e| Error::io(path, e))?;
            match self.published_as_recorded(path) {
                Some(prev) if prev.made_from == Some(made_from) => published.push(prev),
                _ => return Ok(false),
            }
        }
        // Recorded under one lock (a page and its JSON, most often).
        let mut staged = self.staged();
        for (&(path, _), prev) in files.iter().zip(&published) {
            if !staged.add(path, prev, Placed::Kept) {
                return Err(produced_twice(path));
            }
        }
        drop(staged);
        let bytes: u64 = published.iter().map(|p| p.stat.size).sum();
        self.unchanged
            .fetch_add(published.len() as u64, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(true)
    }

    fn put_file(&self, path: &str, source: &Path) -> Result<()> {
        check_relative(path).map_err(|e| Error::io(path, e))?;
        let source_stat = Stat::read(source).ok_or_else(|| {
            Error::io(
                source,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a readable file"),
            )
        })?;
        // The archive's file unchanged since it was published: neither is read.
        if let Some(prev) = self.published_as_recorded(path) {
            if prev.source == Some(source_stat) {
                return self.kept(path, prev);
            }
        }
        let sha256 = hash_file(source)?;
        let file = Incoming {
            sha256,
            size: source_stat.size as usize,
            source: Some(source_stat),
            made_from: None,
            shared: true,
        };
        self.store(
            path,
            file,
            |f| {
                let mut from = fs::File::open(source)?;
                std::io::copy(&mut from, f).map(|_| ())
            },
            |published| {
                Stat::read(published).is_some_and(|s| s.size == source_stat.size)
                    && hash_file(published).is_ok_and(|h| h == sha256)
            },
        )
    }
}

/// What the writer knows of a file before storing it.
struct Incoming {
    /// SHA-256 of its bytes.
    sha256: [u8; 32],
    /// Its length.
    size: usize,
    /// The archive file it is a copy of, as it is now.
    source: Option<Stat>,
    /// For a page, the digest of what it was rendered from.
    made_from: Option<u128>,
    /// Another file of the site may have the same bytes ([`PageSink::put_shared`], copied
    /// files): a staged twin is linked instead of writing it again.
    shared: bool,
}

/// The error of a path the build produced twice (a bug of the build, refused).
fn produced_twice(path: &str) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the build produced this path twice",
        ),
    )
}

/// What turns the published site into the new one: staged files to move into it, published
/// files to remove. Saved beside the output before it is applied, so a build killed while
/// applying it is completed by the next one.
#[derive(Debug, Default, PartialEq, Eq)]
struct Journal {
    /// Site paths whose new bytes are in the staging folder.
    moves: Vec<String>,
    /// Site paths the new site does not have.
    removals: Vec<String>,
}

impl Journal {
    /// Writes the journal to `file` atomically (beside it, then renamed): the moment a build
    /// succeeds.
    fn save(&self, file: &Path) -> Result<()> {
        let mut text = String::from(JOURNAL_HEADER);
        text.push('\n');
        for p in &self.moves {
            text.push_str("move\t");
            text.push_str(p);
            text.push('\n');
        }
        for p in &self.removals {
            text.push_str("remove\t");
            text.push_str(p);
            text.push('\n');
        }
        text.push_str("end\n");
        replace_file(file, text.as_bytes())
    }

    /// The journal in `file`; an error names the file when it is not one this program wrote.
    fn load(file: &Path) -> Result<Journal> {
        let text = fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let bad = |line: usize, what: &str| {
            Error::Parse {
            path: file.to_path_buf(),
            line: line as u64,
            column: 1,
            key: None,
            message: format!(
                "{what}: not a journal this program wrote; remove it and the staging folder beside it, then rebuild with --force"
            ),
        }
        };
        let mut lines = text.lines();
        if lines.next() != Some(JOURNAL_HEADER) {
            return Err(bad(1, "not a hindsight journal"));
        }
        let mut journal = Journal::default();
        let mut ended = false;
        for (n, line) in lines.enumerate() {
            let (kind, path) = line.split_once('\t').unwrap_or((line, ""));
            match kind {
                "move" | "remove" if check_relative(path).is_ok() && !ended => {
                    let list = match kind {
                        "move" => &mut journal.moves,
                        _ => &mut journal.removals,
                    };
                    list.push(path.to_string());
                }
                "end" if !ended => ended = true,
                _ => return Err(bad(n + 2, "unexpected line")),
            }
        }
        if !ended {
            return Err(bad(text.lines().count(), "the journal has no end"));
        }
        Ok(journal)
    }

    /// Moves each staged file into the site (replacing the published one), then removes what
    /// the new site no longer has and the folders that leaves empty. Safe to repeat: a move
    /// already done finds nothing staged, a removal nothing to remove.
    fn apply(&self, output: &Path, staging: &Path) -> Result<()> {
        self.moves.par_iter().try_for_each(|path| {
            let from = staging.join(path);
            if fs::symlink_metadata(&from).is_err() {
                return Ok(());
            }
            let to = output.join(path);
            make_folders(output, path)?;
            match fs::rename(&from, &to) {
                Ok(()) => Ok(()),
                // A folder where the new site has a file: the folder's files are removals.
                Err(_) if to.is_dir() => {
                    fs::remove_dir_all(&to).map_err(|e| Error::io(&to, e))?;
                    fs::rename(&from, &to).map_err(|e| Error::io(&to, e))
                }
                Err(e) => Err(Error::io(&to, e)),
            }
        })?;
        let mut emptied = HashSet::new();
        for path in &self.removals {
            let file = output.join(path);
            match fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) if file.is_dir() => {}
                Err(e) => return Err(Error::io(&file, e)),
            }
            let mut dir = Path::new(path).parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                emptied.insert(d.to_path_buf());
                dir = d.parent();
            }
        }
        // Deepest first; a folder that still holds something stays.
        let mut emptied: Vec<PathBuf> = emptied.into_iter().collect();
        emptied.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in emptied {
            let _ = fs::remove_dir(output.join(dir));
        }
        Ok(())
    }
}

/// Makes the folders of site path `path` under `output`, removing a file that stands where a
/// folder must be (the new site has a folder where the old one had a file).
fn make_folders(output: &Path, path: &str) -> Result<()> {
    let Some(parent) = Path::new(path).parent() else {
        return Ok(());
    };
    let dir = output.join(parent);
    if dir.is_dir() {
        return Ok(());
    }
    let mut at = output.to_path_buf();
    for part in parent.components() {
        at.push(part);
        if let Ok(meta) = fs::symlink_metadata(&at) {
            if !meta.is_dir() {
                fs::remove_file(&at).map_err(|e| Error::io(&at, e))?;
            }
        }
    }
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))
}

/// Completes what a killed build left: its journal when it got that far, else only its
/// staging folder to clear.
fn recover(output: &Path, staging: &Path, journal: &Path) -> Result<()> {
    if fs::symlink_metadata(journal).is_ok() {
        Journal::load(journal)?.apply(output, staging)?;
    }
    finish(staging, journal)
}

/// Where the record of the published site's folders ([`folders`]) is kept, beside the
/// manifest.
fn folders_file(manifest_file: &Path) -> PathBuf {
    manifest_file.with_extension("folders")
}

/// Removes the staging folder, then the journal (in that order: a journal without its
/// staging folder is one already applied).
fn finish(staging: &Path, journal: &Path) -> Result<()> {
    remove_if_present(staging)?;
    match fs::remove_file(journal) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(journal, e)),
    }
}

/// The fingerprint of a site that holds exactly `files` (site path and stat, in path order,
/// as [`files_under`] lists them): what [`crate::fingerprint::output`] finds in
/// it. The writer knows it from the
/// manifest of what it published, without walking the site again.
pub fn files_fingerprint<'a>(files: impl Iterator<Item = (&'a str, Stat)>) -> String {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.write(b"site files\0");
    for (path, stat) in files {
        h.write_u64(path.len() as u64);
        h.write(path.as_bytes());
        h.write_u64(stat.size);
        h.write_u64(stat.ino);
        h.write_i128(stat.mtime);
    }
    format!("{:032x}", h.digest128())
}

/// Every entry under `root` that is not a folder (files, and links not followed), by site
/// path (`issues/LU/4/LU-4423.html`), with its stat, in path order. Folders are read on every
/// core: a site of 400,000 files is listed in a fraction of a sequential walk's time.
pub fn files_under(root: &Path) -> Result<Vec<(String, Stat)>> {
    fn walk(dir: &Path, prefix: &str) -> Result<Vec<(String, Stat)>> {
        let mut files = Vec::new();
        let mut folders = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let rel = match prefix {
                "" => name.into_owned(),
                _ => format!("{prefix}/{name}"),
            };
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            if kind.is_dir() {
                folders.push((path, rel));
            } else {
                let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
                files.push((rel, Stat::of(&meta)));
            }
        }
        let nested = folders
            .par_iter()
            .map(|(path, rel)| walk(path, rel))
            .collect::<Result<Vec<_>>>()?;
        files.extend(nested.into_iter().flatten());
        Ok(files)
    }
    let mut files = walk(root, "")?;
    files.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// The SHA-256 of a file's bytes, read in large blocks.
pub fn hash_file(path: &Path) -> Result<[u8; 32]> {
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 18];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Replaces one file (an export, not the site) atomically: written beside it, then renamed.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file_with(path, |w| w.write_all(bytes))
}

/// [`replace_file`] with the bytes written by `write`, for files too large to hold whole.
pub fn replace_file_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.hindsight-tmp"));
    let file = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write(&mut out)
        .and_then(|()| out.into_inner().map_err(|e| e.into_error()).map(drop))
        .map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Whether the file at `path` holds exactly `bytes` (one open, one `fstat`, one read).
fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    match file.metadata() {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {
            let mut old = Vec::with_capacity(bytes.len() + 1);
            file.read_to_end(&mut old).is_ok() && old == bytes
        }
        _ => false,
    }
}

/// Refuses anything that could leave the site: absolute paths, `..`, empty or odd components.
fn check_relative(path: &str) -> std::io::Result<()> {
    // One pass over the bytes: every kept page asks (hundreds of thousands a build).
    let bad = path.is_empty()
        || path.as_bytes().split(|&b| b == b'/').any(|c| {
            c.is_empty()
                || c == b"."
                || c == b".."
                || c.iter()
                    .any(|&b| matches!(b, b':' | b'\\' | 0 | b'\n' | b'\r'))
        });
    if bad {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "refusing a site path that is not a plain relative path",
        ));
    }
    Ok(())
}

/// Removes a whole folder. Its files are unlinked folder by folder on every core: on a slow
/// disk, removing a hundred thousand names one at a time took longer than rendering them.
fn remove_if_present(path: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    let mut dirs = Vec::new();
    for entry in walkdir::WalkDir::new(path) {
        let entry = entry.map_err(|e| Error::walk(path, e))?;
        if entry.file_type().is_dir() {
            dirs.push(entry.into_path());
        }
    }
    dirs.par_iter().try_for_each(|dir| -> Result<()> {
        for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            if !entry.file_type().map_err(|e| Error::io(dir, e))?.is_dir() {
                fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            }
        }
        Ok(())
    })?;
    // What is left are folders (and anything that appeared meanwhile).
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The paths of `old` that `new` lacks, both in path order: one walk of the two, where a
/// lookup of each old path in the new manifest took a binary search (400,000 of them in a
/// rebuild of a 100,000-issue site).
fn gone<'a>(old: impl Iterator<Item = &'a str>, new: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut new = new.peekable();
    let mut gone = Vec::new();
    for path in old {
        while new.next_if(|n| *n < path).is_some() {}
        if new.next_if(|n| *n == path).is_none() {
            gone.push(path.to_string());
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn only_plain_relative_site_paths_pass() {
        for good in [
            "index.html",
            "issues/LU/4/LU-4423.html",
            "a b/ü.js",
            "x.y/.hidden",
        ] {
            assert!(check_relative(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "a/",
            "./a",
            "a/./b",
            "../a",
            "a/../b",
            "..",
            "c:/x",
            "a/b:c",
            "a\\b",
            "a\0b",
            "a\nb",
            "a\rb",
        ] {
            assert!(check_relative(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn gone_paths_are_those_the_new_site_lacks() {
        let old = ["a/1.html", "a/2.html", "b.html", "c/x.js", "z"];
        let new = ["a/0.html", "a/2.html", "c/x.js", "c/y.js"];
        assert_eq!(
            gone(old.into_iter(), new.into_iter()),
            ["a/1.html", "b.html", "z"]
        );
        assert_eq!(gone(old.into_iter(), old.into_iter()), Vec::<String>::new());
        assert_eq!(gone([].into_iter(), new.into_iter()), Vec::<String>::new());
        assert_eq!(gone(new.into_iter(), [].into_iter()), new);
    }

    #[test]
    fn unchanged_files_keep_their_inode_and_changed_ones_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out, None).unwrap();
        s.put("a/b.html", b"same").unwrap();
        s.put("c.html", b"old").unwrap();
        s.commit(&[]).unwrap();
        let inode = fs::metadata(out.join("a/b.html")).unwrap().ino();

        let s = Staging::begin(&out, None).unwrap();
        s.put("a/b.html", b"same").unwrap();
        s.put("c.html", b"new").unwrap();
        let report = s.commit(&[]).unwrap();
        // c.html and SHA256SUMS changed.
        assert_eq!((report.written, report.unchanged), (2, 1));
        assert_eq!(fs::metadata(out.join("a/b.html")).unwrap().ino(), inode);
        assert_eq!(fs::read(out.join("c.html")).unwrap(), b"new");
        assert!(!dir.path().join(".public.hindsight-staging").exists());
    }

    #[test]
    fn the_writers_fingerprint_is_the_one_a_walk_of_the_published_site_finds() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let manifest = dir.path().join("cache/manifest");
        let walked = || crate::fingerprint::output(&out).unwrap();
        // A fresh site (the staging folder renamed into place).
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("a.html", b"aaaa").unwrap();
        s.put("d/e/f.html", b"f").unwrap();
        s.put("d/g.html", b"g").unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!(report.fingerprint, walked());

        // A rebuild through the journal: one file kept, one replaced, one new, one gone, and
        // a stray file removed.
        fs::write(out.join("d/stray.txt"), b"not ours").unwrap();
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("a.html", b"aaaa").unwrap();
        s.put("d/e/f.html", b"F!").unwrap();
        s.put("h/i.html", b"i").unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!(report.removed, 2);
        assert_eq!(report.fingerprint, walked());
        assert!(report.fingerprint.is_some());

        // Without a manifest the writer does not know it; the build walks the site.
        let s = Staging::begin(&out, None).unwrap();
        s.put("a.html", b"aaaa").unwrap();
        assert_eq!(s.commit(&[]).unwrap().fingerprint, None);
    }

    #[test]
    fn the_manifest_decides_without_reading_the_published_site() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let manifest = dir.path().join("cache/manifest");
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("a.html", b"aaaa").unwrap();
        s.put("b.html", b"bbbb").unwrap();
        s.commit(&[]).unwrap();

        // a.html altered in place, its size and time put back: the manifest says it holds
        // "aaaa", and nothing reads it to find out otherwise (as make and rsync would not).
        let a = out.join("a.html");
        let time = fs::metadata(&a).unwrap().modified().unwrap();
        fs::write(&a, b"AAAA").unwrap();
        fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(time)
            .unwrap();
        // b.html altered with a new time: the manifest's stat no longer matches, so it is
        // written again.
        std::thread::sleep(std::time::Duration::from_millis(5));
        fs::write(out.join("b.html"), b"BBBB").unwrap();

        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("a.html", b"aaaa").unwrap();
        s.put("b.html", b"bbbb").unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!(report.unchanged, 2, "a.html and SHA256SUMS kept");
        assert_eq!(fs::read(&a).unwrap(), b"AAAA");
        assert_eq!(fs::read(out.join("b.html")).unwrap(), b"bbbb");
        let sums = fs::read_to_string(out.join(SUMS_FILE)).unwrap();
        assert!(sums.ends_with("  b.html\n"), "{sums}");
        assert_eq!(sums.lines().count(), 2);
    }

    #[test]
    fn copied_files_are_kept_by_their_source_and_shared_when_identical() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let manifest = dir.path().join("m");
        let source = dir.path().join("big.log");
        fs::write(&source, vec![b'x'; 10_000]).unwrap();
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put_file("attachments/big.log", &source).unwrap();
        s.put_file("backup/data/attachments/big.log", &source)
            .unwrap();
        // An attachment's data given as bytes is shared the same way; pages are not.
        let data = vec![b'y'; 10_000];
        s.put_shared("attachments/data.bin", &data).unwrap();
        s.put_shared("backup/data/attachments/data.bin", &data)
            .unwrap();
        s.put("page.html", &data).unwrap();
        s.put("other.html", &data).unwrap();
        s.commit(&[]).unwrap();
        let ino = |p: &str| fs::metadata(out.join(p)).unwrap().ino();
        assert_eq!(
            ino("attachments/big.log"),
            ino("backup/data/attachments/big.log")
        );
        assert_eq!(
            ino("attachments/data.bin"),
            ino("backup/data/attachments/data.bin")
        );
        assert_ne!(ino("page.html"), ino("other.html"));
        assert_ne!(ino("page.html"), ino("attachments/data.bin"));

        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put_file("attachments/big.log", &source).unwrap();
        s.put_file("backup/data/attachments/big.log", &source)
            .unwrap();
        s.put_shared("attachments/data.bin", &data).unwrap();
        s.put_shared("backup/data/attachments/data.bin", &data)
            .unwrap();
        s.put("page.html", &data).unwrap();
        s.put("other.html", &data).unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!((report.written, report.unchanged), (0, 7));
    }

    #[test]
    fn a_bag_gets_its_manifests_from_the_staged_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out, None).unwrap();
        s.put("backup/bagit.txt", bag::DECLARATION_TEXT.as_bytes())
            .unwrap();
        s.put("backup/data/a.txt", b"abc").unwrap();
        s.put("index.html", b"i").unwrap();
        let b = bag::Bag {
            root: "backup".into(),
            info: vec![("Bag-Software-Agent".into(), "test".into())],
        };
        s.commit(&[b]).unwrap();
        let read = |p: &str| fs::read_to_string(out.join(p)).unwrap();
        assert_eq!(
            read("backup/manifest-sha256.txt"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  data/a.txt\n"
        );
        assert_eq!(
            read("backup/bag-info.txt"),
            "Bag-Software-Agent: test\nPayload-Oxum: 3.1\n"
        );
        let tags = read("backup/tagmanifest-sha256.txt");
        assert_eq!(tags.lines().count(), 3, "{tags}");
        let sums = read(SUMS_FILE);
        assert_eq!(sums.lines().count(), 6, "{sums}");
    }

    #[test]
    fn an_abandoned_build_leaves_the_output_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out, None).unwrap();
        s.put("index.html", b"v1").unwrap();
        s.commit(&[]).unwrap();
        let s = Staging::begin(&out, None).unwrap();
        s.put("index.html", b"v2").unwrap();
        s.abandon().unwrap();
        assert_eq!(fs::read(out.join("index.html")).unwrap(), b"v1");
    }

    #[test]
    fn paths_that_leave_the_site_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = Staging::begin(&dir.path().join("public"), None).unwrap();
        for bad in ["../x", "/etc/x", "a/../../x", "a//b", "C:x", "a\\b", ""] {
            assert!(s.put(bad, b"x").is_err(), "{bad}");
        }
        assert!(s.put("twice.html", b"1").is_ok());
        assert!(s.put("twice.html", b"2").is_err());
    }

    #[test]
    fn a_journal_left_by_a_killed_build_is_completed_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out, None).unwrap();
        s.put("a.html", b"old").unwrap();
        s.put("gone/b.html", b"b").unwrap();
        s.commit(&[]).unwrap();
        // What a build killed half-way through applying its journal leaves: the journal, one
        // move done, one still staged, the removal not done.
        let staging = dir.path().join(".public.hindsight-staging");
        let journal = dir.path().join(".public.hindsight-journal");
        fs::create_dir_all(staging.join("new")).unwrap();
        fs::write(staging.join("a.html"), b"new").unwrap();
        fs::write(out.join("new/c.html"), b"c").ok();
        fs::create_dir_all(out.join("new")).unwrap();
        fs::write(out.join("new/c.html"), b"c").unwrap();
        Journal {
            moves: vec!["a.html".into(), "new/c.html".into()],
            removals: vec!["gone/b.html".into()],
        }
        .save(&journal)
        .unwrap();
        let s = Staging::begin(&out, None).unwrap();
        assert_eq!(fs::read(out.join("a.html")).unwrap(), b"new");
        assert_eq!(fs::read(out.join("new/c.html")).unwrap(), b"c");
        assert!(!out.join("gone").exists(), "the emptied folder stays");
        assert!(!journal.exists());
        s.abandon().unwrap();
        assert!(!staging.exists());
    }

    #[test]
    fn a_journal_that_is_not_ours_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        fs::create_dir_all(&out).unwrap();
        let journal = dir.path().join(".public.hindsight-journal");
        fs::write(&journal, "hindsight journal 1\nmove\t../etc/passwd\nend\n").unwrap();
        let err = Staging::begin(&out, None).err().unwrap().to_string();
        assert!(err.contains(".public.hindsight-journal"), "{err}");
        assert!(err.contains(".public.hindsight-journal:2:1"), "{err}");
        fs::write(&journal, "hindsight journal 1\nmove\ta.html\n").unwrap();
        let err = Staging::begin(&out, None).err().unwrap().to_string();
        assert!(err.contains("no end"), "{err}");
    }

    #[test]
    fn files_the_new_site_lacks_are_removed_with_their_folders_and_strays_too() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let manifest = dir.path().join("m");
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("x/y/old.html", b"1").unwrap();
        s.put("keep/k.html", b"2").unwrap();
        s.put("a", b"a file where a folder comes").unwrap();
        s.commit(&[]).unwrap();
        fs::write(out.join("keep/stray.txt"), b"put there by hand").unwrap();

        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put("keep/k.html", b"2").unwrap();
        s.put("a/b.html", b"now a folder").unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!(report.removed, 3, "{report:?}");
        assert!(!out.join("x").exists());
        assert!(!out.join("keep/stray.txt").exists());
        assert_eq!(fs::read(out.join("a/b.html")).unwrap(), b"now a folder");
        assert_eq!(fs::read(out.join("keep/k.html")).unwrap(), b"2");
    }

    #[test]
    fn a_page_made_from_the_same_inputs_is_kept_unless_reuse_is_off() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let manifest = dir.path().join("m");
        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        assert!(!s.keep("p.html", 42).unwrap(), "nothing published yet");
        s.put_made_from("p.html", 42, b"page").unwrap();
        s.commit(&[]).unwrap();
        let ino = fs::metadata(out.join("p.html")).unwrap().ino();

        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        assert!(!s.keep("p.html", 43).unwrap(), "other inputs");
        assert!(s.keep("p.html", 42).unwrap());
        assert!(s.keep("p.html", 42).is_err(), "one path twice");
        let report = s.commit(&[]).unwrap();
        assert_eq!((report.written, report.unchanged), (0, 2));
        assert_eq!(fs::metadata(out.join("p.html")).unwrap().ino(), ino);

        let s = Staging::begin(&out, Some(&manifest))
            .unwrap()
            .reuse_pages(false);
        assert!(!s.keep("p.html", 42).unwrap(), "--force renders every page");
        s.abandon().unwrap();
    }
}
