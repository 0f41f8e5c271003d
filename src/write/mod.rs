//! Write: the only stage that touches the output folder.
//!
//! A build never edits the published site in place. Pages go into a staging folder beside the
//! output; a file whose bytes equal the published copy is hard-linked from it instead of written,
//! so its inode and modification time survive and `rsync` to a mirror copies nothing. Whether
//! the bytes are equal is known from the [`manifest`] the last build left in the build cache
//! (each file's SHA-256 and the stat it was published with), not by reading the old site back;
//! only a site without a manifest is compared byte by byte. When every page is in, the
//! site's `SHA256SUMS` and the backup bag's manifests are written from the same hashes, and one
//! `renameat2(RENAME_EXCHANGE)` swaps staging and output atomically: a reader or a build killed
//! at any moment sees either the old site or the new one, whole. A failed build only leaves a
//! staging folder, which the next build clears.

pub mod bag;
pub mod manifest;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::render::PageSink;
use manifest::{Entry, Manifest, Stat};

/// The file at the site's root listing every other file's SHA-256, as `sha256sum -c` reads it.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// Files at least this large with the bytes of a file already staged are hard-linked to it
/// (an attachment in the site and in the backup is stored once).
const SHARE_AT: usize = 4096;

/// Counts of what a build wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files whose bytes changed or were new.
    pub written: u64,
    /// Files kept from the previous output (same bytes).
    pub unchanged: u64,
    /// Bytes of all files in the new site.
    pub bytes: u64,
}

impl WriteReport {
    /// One line for the build's progress: files changed and kept, bytes.
    pub fn summary(&self) -> String {
        format!(
            "{} changed, {} unchanged, {:.1} MB",
            crate::observe::count(self.written, "file"),
            self.unchanged,
            self.bytes as f64 / 1e6
        )
    }
}

/// A new site being assembled beside the published one.
pub struct Staging {
    output: PathBuf,
    staging: PathBuf,
    written: AtomicU64,
    unchanged: AtomicU64,
    bytes: AtomicU64,
    /// Folders already made under `staging`: each is created once, not once per file.
    folders: Mutex<std::collections::HashSet<PathBuf>>,
    /// What the last build published, and where its manifest is kept.
    previous: Manifest,
    manifest_file: Option<PathBuf>,
    /// Every file staged so far.
    entries: Mutex<HashMap<String, Entry>>,
    /// Staged files by content, for sharing identical large files.
    by_hash: Mutex<HashMap<[u8; 32], String>>,
}

impl Staging {
    /// Prepares an empty staging folder beside `output`, clearing one a failed build left.
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
        remove_if_present(&staging)?;
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        let previous = match manifest_file {
            Some(file) if fs::symlink_metadata(output).is_ok() => Manifest::load(file, output),
            _ => Manifest {
                output: output.to_path_buf(),
                entries: HashMap::new(),
            },
        };
        Ok(Staging {
            output: output.to_path_buf(),
            staging,
            written: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            folders: Default::default(),
            previous,
            manifest_file: manifest_file.map(Path::to_path_buf),
            entries: Default::default(),
            by_hash: Default::default(),
        })
    }

    /// Writes the site's `SHA256SUMS` and each bag's manifests, swaps the staged site in for
    /// the published one atomically, removes the old one and keeps the new manifest.
    pub fn commit(self, bags: &[bag::Bag]) -> Result<WriteReport> {
        for b in bags {
            self.finish_bag(b)?;
        }
        let sums = bag::sha256sums(&self.snapshot(), |p| p != SUMS_FILE);
        self.put(SUMS_FILE, sums.as_bytes())?;
        let report = WriteReport {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        };
        if fs::symlink_metadata(&self.output).is_ok() {
            exchange(&self.staging, &self.output)?;
            // `staging` now holds the previous site.
            remove_if_present(&self.staging)?;
        } else {
            fs::rename(&self.staging, &self.output).map_err(|e| Error::io(&self.output, e))?;
        }
        if let Some(file) = &self.manifest_file {
            let manifest = Manifest {
                output: self.output.clone(),
                entries: self.entries.into_inner().unwrap_or_else(|e| e.into_inner()),
            };
            manifest.save(file)?;
        }
        Ok(report)
    }

    /// Abandons the build: the staging folder is removed, the output is untouched.
    pub fn abandon(self) -> Result<()> {
        remove_if_present(&self.staging)
    }

    /// Every file staged so far: path → SHA-256 and size.
    fn snapshot(&self) -> Vec<(String, [u8; 32], u64)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = entries
            .iter()
            .map(|(p, e)| (p.clone(), e.sha256, e.stat.size))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Writes a bag's `manifest-sha256.txt`, `bag-info.txt` (with its `Payload-Oxum`) and
    /// `tagmanifest-sha256.txt` from the hashes of what was staged under it.
    fn finish_bag(&self, b: &bag::Bag) -> Result<()> {
        let files = self.snapshot();
        let (manifest, info) = bag::payload_files(b, &files);
        self.put(&b.path(bag::MANIFEST), manifest.as_bytes())?;
        self.put(&b.path(bag::INFO), info.as_bytes())?;
        let tags = bag::tag_manifest(b, &self.snapshot());
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
    fn kept(&self, path: &str, entry: Entry) {
        self.unchanged.fetch_add(1, Ordering::Relaxed);
        self.record(path, entry);
    }

    fn record(&self, path: &str, entry: Entry) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string(), entry);
    }

    /// Links the published file of `path` into the new site when the manifest says it holds
    /// `sha256` and it has not been touched since (no byte of it is read).
    fn keep_published(&self, path: &str, target: &Path, sha256: &[u8; 32]) -> Option<Entry> {
        let prev = self.previous.entries.get(path)?;
        if &prev.sha256 != sha256 {
            return None;
        }
        let published = self.output.join(path);
        if Stat::read(&published) != Some(prev.stat) {
            return None;
        }
        fs::hard_link(&published, target).ok()?;
        Some(*prev)
    }

    /// Links another staged file with the same bytes, for large files.
    fn share_staged(&self, target: &Path, sha256: &[u8; 32], size: usize) -> Option<Stat> {
        if size < SHARE_AT {
            return None;
        }
        let other = self
            .by_hash
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sha256)
            .cloned()?;
        fs::hard_link(self.staging.join(other), target).ok()?;
        Stat::read(target)
    }

    fn remember_content(&self, path: &str, sha256: [u8; 32], size: usize) {
        if size >= SHARE_AT {
            self.by_hash
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(sha256)
                .or_insert_with(|| path.to_string());
        }
    }

    /// Stores a file: kept from the published site, shared with a staged twin, or written.
    fn store(
        &self,
        path: &str,
        sha256: [u8; 32],
        size: usize,
        source: Option<Stat>,
        write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
        same_as_published: impl FnOnce(&Path) -> bool,
    ) -> Result<()> {
        let target = self.staging.join(path);
        self.bytes.fetch_add(size as u64, Ordering::Relaxed);
        if let Some(prev) = self.keep_published(path, &target, &sha256) {
            self.kept(path, Entry { source, ..prev });
            return Ok(());
        }
        // No manifest entry at all (a site built before manifests, or a lost cache): compare.
        if !self.previous.entries.contains_key(path) {
            let published = self.output.join(path);
            if same_as_published(&published) && fs::hard_link(&published, &target).is_ok() {
                if let Some(stat) = Stat::read(&target) {
                    let entry = Entry {
                        sha256,
                        stat,
                        source,
                    };
                    self.kept(path, entry);
                    return Ok(());
                }
            }
        }
        let stat = match self.share_staged(&target, &sha256, size) {
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
        self.remember_content(path, sha256, size);
        self.record(
            path,
            Entry {
                sha256,
                stat,
                source,
            },
        );
        Ok(())
    }
}

impl PageSink for Staging {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        check_relative(path).map_err(|e| Error::io(path, e))?;
        let target = self.staging.join(path);
        self.make_parent(&target)?;
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        self.store(
            path,
            sha256,
            bytes.len(),
            None,
            |f| f.write_all(bytes),
            |published| same_bytes(published, bytes),
        )
    }

    fn put_file(&self, path: &str, source: &Path) -> Result<()> {
        check_relative(path).map_err(|e| Error::io(path, e))?;
        let target = self.staging.join(path);
        self.make_parent(&target)?;
        let source_stat = Stat::read(source).ok_or_else(|| {
            Error::io(
                source,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a readable file"),
            )
        })?;
        // The archive's file unchanged since it was published: neither is read.
        if let Some(prev) = self.previous.entries.get(path) {
            let published = self.output.join(path);
            if prev.source == Some(source_stat)
                && Stat::read(&published) == Some(prev.stat)
                && fs::hard_link(&published, &target).is_ok()
            {
                self.bytes.fetch_add(prev.stat.size, Ordering::Relaxed);
                self.kept(path, *prev);
                return Ok(());
            }
        }
        let sha256 = hash_file(source)?;
        self.store(
            path,
            sha256,
            source_stat.size as usize,
            Some(source_stat),
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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.hindsight-tmp"));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
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
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path.contains(['\n', '\r'])
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.contains(':'));
    if bad {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "refusing a site path that is not a plain relative path",
        ));
    }
    Ok(())
}

/// Removes a whole site. Its files are unlinked folder by folder on every core: on a slow disk,
/// removing the previous site's hundred thousand names one at a time took longer than
/// rendering it.
fn remove_if_present(path: &Path) -> Result<()> {
    use rayon::prelude::*;
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

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)
        .map_err(|e| Error::io(b, std::io::Error::from(e)))
}

/// Without an atomic exchange, two renames: the old site is moved aside first, so a crash
/// between them leaves it complete under the staging name.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<()> {
    let aside = a.with_extension("old");
    fs::rename(b, &aside).map_err(|e| Error::io(b, e))?;
    fs::rename(a, b).map_err(|e| Error::io(b, e))?;
    fs::rename(&aside, a).map_err(|e| Error::io(a, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

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
        s.commit(&[]).unwrap();
        let ino = |p: &str| fs::metadata(out.join(p)).unwrap().ino();
        assert_eq!(
            ino("attachments/big.log"),
            ino("backup/data/attachments/big.log")
        );

        let s = Staging::begin(&out, Some(&manifest)).unwrap();
        s.put_file("attachments/big.log", &source).unwrap();
        s.put_file("backup/data/attachments/big.log", &source)
            .unwrap();
        let report = s.commit(&[]).unwrap();
        assert_eq!((report.written, report.unchanged), (0, 3));
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
}
