//! Write: the only stage that touches the output folder.
//!
//! A build never edits the published site in place. Pages go into a staging folder beside the
//! output; a file whose bytes equal the published copy is hard-linked from it instead of written,
//! so its inode and modification time survive and `rsync` to a mirror copies nothing. When every
//! page is in, one `renameat2(RENAME_EXCHANGE)` swaps staging and output atomically: a reader or
//! a build killed at any moment sees either the old site or the new one, whole. A failed build
//! only leaves a staging folder, which the next build clears.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::observe::count;
use crate::render::PageSink;

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
            count(self.written, "file"),
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
    folders: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
}

impl Staging {
    /// Prepares an empty staging folder beside `output`, clearing one a failed build left.
    pub fn begin(output: &Path) -> Result<Staging> {
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
        Ok(Staging {
            output: output.to_path_buf(),
            staging,
            written: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            folders: Default::default(),
        })
    }

    /// Swaps the staged site in for the published one, atomically, and removes the old one.
    pub fn commit(self) -> Result<WriteReport> {
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
        Ok(report)
    }

    /// Abandons the build: the staging folder is removed, the output is untouched.
    pub fn abandon(self) -> Result<()> {
        remove_if_present(&self.staging)
    }
}

impl PageSink for Staging {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        check_relative(path).map_err(|e| Error::io(path, e))?;
        let target = self.staging.join(path);
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
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let published = self.output.join(path);
        if same_bytes(&published, bytes) && fs::hard_link(&published, &target).is_ok() {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        // `create_new` also catches a renderer that produces one path twice.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| Error::io(&target, e))?;
        file.write_all(bytes).map_err(|e| Error::io(&target, e))?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn put_file(&self, path: &str, source: &Path) -> Result<()> {
        // Attachments are capped in size: read whole, then written as any page is.
        let bytes = fs::read(source).map_err(|e| Error::io(source, e))?;
        self.put(path, &bytes)
    }
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
    use std::io::Read;
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
        let s = Staging::begin(&out).unwrap();
        s.put("a/b.html", b"same").unwrap();
        s.put("c.html", b"old").unwrap();
        s.commit().unwrap();
        let inode = fs::metadata(out.join("a/b.html")).unwrap().ino();

        let s = Staging::begin(&out).unwrap();
        s.put("a/b.html", b"same").unwrap();
        s.put("c.html", b"new").unwrap();
        let report = s.commit().unwrap();
        assert_eq!((report.written, report.unchanged), (1, 1));
        assert_eq!(fs::metadata(out.join("a/b.html")).unwrap().ino(), inode);
        assert_eq!(fs::read(out.join("c.html")).unwrap(), b"new");
        assert!(!dir.path().join(".public.hindsight-staging").exists());
    }

    #[test]
    fn an_abandoned_build_leaves_the_output_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let s = Staging::begin(&out).unwrap();
        s.put("index.html", b"v1").unwrap();
        s.commit().unwrap();
        let s = Staging::begin(&out).unwrap();
        s.put("index.html", b"v2").unwrap();
        s.abandon().unwrap();
        assert_eq!(fs::read(out.join("index.html")).unwrap(), b"v1");
    }

    #[test]
    fn paths_that_leave_the_site_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = Staging::begin(&dir.path().join("public")).unwrap();
        for bad in ["../x", "/etc/x", "a/../../x", "a//b", "C:x", "a\\b", ""] {
            assert!(s.put(bad, b"x").is_err(), "{bad}");
        }
        assert!(s.put("twice.html", b"1").is_ok());
        assert!(s.put("twice.html", b"2").is_err());
    }
}
