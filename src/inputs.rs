//! Every input a build reads, found once: each tracker's export files (its globs expanded),
//! its attachments folder, the theme's own files and the Markdown pages.
//!
//! Later stages take these as values: import reads the files listed here (never expanding a
//! glob again), render gets the theme and the pages as text and looks attachment files up in an
//! [`AttachmentFolder`] without touching the file system itself, and the up-to-date check
//! fingerprints exactly what was found.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::config::{Config, TrackerConfig};
use crate::error::{Error, Result};

/// What one build reads, besides the git repositories (read by `source`).
#[derive(Clone, Debug)]
pub struct Inputs {
    /// One entry per `[[tracker]]`, in the config's order.
    pub trackers: Vec<TrackerInputs>,
    /// The site's own theme files (overrides of the built-in theme).
    pub theme: Theme,
    /// The Markdown pages, sorted by file name.
    pub pages: Vec<PageSource>,
}

/// One tracker's inputs.
#[derive(Clone, Debug)]
pub struct TrackerInputs {
    /// Its export files: globs expanded against the config folder, sorted and de-duplicated so
    /// the import order (and so the output) does not depend on the file system.
    pub files: Vec<PathBuf>,
    /// Its attachments folder (JIRA's `<PROJECT>/<bucket>/<KEY>/<id>`), when configured.
    pub attachments: Option<AttachmentFolder>,
}

/// A tracker's attachments folder. Files are looked up one at a time, by relative path, when
/// an issue names them: a JIRA attachments folder can hold millions of files, so it is never
/// listed whole.
#[derive(Clone, Debug)]
pub struct AttachmentFolder {
    /// The folder.
    pub root: PathBuf,
}

/// A file found in an attachments folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

impl AttachmentFolder {
    /// The regular file at `relative` under the folder; `None` when there is none or when
    /// `relative` would leave the folder (absolute, or with `..`).
    pub fn file(&self, relative: &str) -> Option<FoundFile> {
        let rel = Path::new(relative);
        if !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return None;
        }
        let path = self.root.join(rel);
        let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
        Some(FoundFile {
            path,
            size: meta.len(),
        })
    }
}

impl FoundFile {
    /// The file's bytes.
    pub fn read(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// The site's theme folder, read whole: every file under it by relative path
/// (`templates/issue.html`, `static/style.css`). A theme is a handful of small files.
#[derive(Clone, Debug, Default)]
pub struct Theme {
    /// The folder (for messages).
    pub root: PathBuf,
    /// Relative path (with `/`) → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Theme {
    /// The theme's own copy of `relative`, if it has one.
    pub fn file(&self, relative: &str) -> Option<&[u8]> {
        self.files.get(relative).map(Vec::as_slice)
    }
}

/// One Markdown page of the site (`pages/about.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageSource {
    /// The file (for messages, and its stem names the page).
    pub file: PathBuf,
    /// Its Markdown.
    pub text: String,
}

/// Finds every input `config` names.
pub fn discover(config: &Config) -> Result<Inputs> {
    let trackers = config
        .trackers
        .iter()
        .map(|t| {
            Ok(TrackerInputs {
                files: tracker_files(config, t)?,
                attachments: t
                    .attachments
                    .as_ref()
                    .map(|root| AttachmentFolder { root: root.clone() }),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Inputs {
        trackers,
        theme: read_theme(&config.theme)?,
        pages: read_pages(&config.pages)?,
    })
}

/// The export files of a tracker: its globs expanded against the config folder, sorted and
/// de-duplicated. A glob that matches no file is an error (a typo would otherwise publish an
/// empty archive).
pub fn tracker_files(config: &Config, tracker: &TrackerConfig) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for pattern in &tracker.paths {
        let full = config.root.join(pattern);
        let full = full.to_string_lossy();
        let entries = glob::glob(&full).map_err(|e| Error::Config {
            path: config.file.clone(),
            message: format!("bad glob {pattern:?}: {e}"),
        })?;
        let before = files.len();
        for entry in entries {
            let path = entry.map_err(|e| {
                let p = e.path().to_path_buf();
                Error::io(p, e.into())
            })?;
            if path.is_file() {
                files.push(path);
            }
        }
        if files.len() == before {
            return Err(Error::Config {
                path: config.file.clone(),
                message: format!("tracker paths {pattern:?} match no file"),
            });
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// `path` relative to `root`, its parts joined with `/` (the form site paths and manifests
/// use), whatever the platform's separator.
pub fn slash_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file under the theme folder; an absent folder is an empty theme.
fn read_theme(root: &Path) -> Result<Theme> {
    let mut theme = Theme {
        root: root.to_path_buf(),
        files: BTreeMap::new(),
    };
    if !root.is_dir() {
        return Ok(theme);
    }
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::walk(root, e))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = slash_path(root, entry.path());
        let bytes = std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        theme.files.insert(rel, bytes);
    }
    Ok(theme)
}

/// The `*.md` files of the pages folder, sorted; an absent folder has none.
fn read_pages(dir: &Path) -> Result<Vec<PageSource>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            Ok(PageSource { file, text })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_lookups_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("LU/10000/LU-1")).unwrap();
        std::fs::write(dir.path().join("LU/10000/LU-1/42"), "abc").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        let folder = AttachmentFolder {
            root: dir.path().join("LU"),
        };
        let found = folder.file("10000/LU-1/42").unwrap();
        assert_eq!(found.size, 3);
        assert_eq!(found.read().unwrap(), b"abc");
        assert_eq!(folder.file("../secret"), None);
        assert_eq!(folder.file("/etc/passwd"), None);
        assert_eq!(folder.file("10000/LU-1"), None, "a folder is not a file");
    }

    #[test]
    fn theme_and_pages_are_read_whole_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes/templates")).unwrap();
        std::fs::write(dir.path().join("themes/templates/issue.html"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("pages")).unwrap();
        std::fs::write(dir.path().join("pages/b.md"), "# B").unwrap();
        std::fs::write(dir.path().join("pages/a.md"), "# A").unwrap();
        std::fs::write(dir.path().join("pages/notes.txt"), "no").unwrap();
        let theme = read_theme(&dir.path().join("themes")).unwrap();
        assert_eq!(theme.file("templates/issue.html"), Some(&b"x"[..]));
        let pages = read_pages(&dir.path().join("pages")).unwrap();
        let names: Vec<_> = pages.iter().map(|p| p.file.file_name().unwrap()).collect();
        assert_eq!(names, ["a.md", "b.md"]);
        assert!(read_pages(&dir.path().join("none")).unwrap().is_empty());
        assert!(read_theme(&dir.path().join("none"))
            .unwrap()
            .files
            .is_empty());
    }
}
