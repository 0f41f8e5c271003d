//! The original exports in the backup (`[backup] keep_exports = true`): the files as received,
//! beside their normalised form, as preservation practice asks.
//!
//! The published backup holds only what the site shows, so an export file is kept in it only
//! when nothing in it was withheld from the site: one that held a restricted issue, comment,
//! attachment or worklog, an issue of an unpublished project, or (unless addresses are shown)
//! an e-mail address is left out, listed in `data/exports/WITHHELD.txt` with the reason, and
//! kept only by `hindsight backup --private DIR`, a backup that is never published.

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::import::ImportReport;
use crate::inputs::Inputs;
use crate::render::PageSink;

/// Where in the bag the original exports are.
pub const EXPORTS: &str = "data/exports";
/// The list of the export files left out of the published backup, and why.
pub const WITHHELD: &str = "WITHHELD.txt";

/// What the copy of the exports holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportsCopy {
    /// Files kept.
    pub kept: u64,
    /// Files left out (listed in `WITHHELD.txt`).
    pub withheld: u64,
}

/// A file or folder name as it may stand in a site path: kept as it is when it is plain,
/// otherwise with each character that is not `[A-Za-z0-9._+-]` made `_` (never `.`, `..` or
/// hidden). Unlike an attachment's name, an export's keeps its extension: it is not served as
/// a page from here, and the original name is part of the record.
pub fn plain_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The folder a tracker's exports go in: its name, else `tracker-<n>`.
pub fn folder_of(config: &Config, index: usize) -> String {
    let name = config.trackers[index]
        .name
        .clone()
        .unwrap_or_else(|| format!("tracker-{}", index + 1));
    plain_name(&name)
}

/// An export file's path under its tracker's folder: relative to the config's folder when it
/// is inside it, else its name; each part reduced to characters every file system takes.
pub fn relative_name(config: &Config, file: &Path) -> String {
    let rel = file.strip_prefix(&config.root).unwrap_or(file);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(plain_name(&n.to_string_lossy())),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        "export".into()
    } else {
        parts.join("/")
    }
}

/// Why an export file may not be published as it is, if it may not.
fn withheld_because(
    config: &Config,
    import: &ImportReport,
    file: &Path,
) -> Result<Option<&'static str>> {
    if import.private_files.contains(file) {
        return Ok(Some(
            "holds items the site does not publish (restricted, or of an unpublished project)",
        ));
    }
    if !config.show_emails {
        let bytes = crate::import::open(file).and_then(|mut r| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut out).map_err(|e| Error::io(file, e))?;
            Ok(out)
        })?;
        let text = String::from_utf8_lossy(&bytes);
        if matches!(
            crate::text::email::mask_emails(&text),
            std::borrow::Cow::Owned(_)
        ) {
            return Ok(Some("holds e-mail addresses"));
        }
    }
    Ok(None)
}

/// Copies the export files into the bag at `root` (`backup`), as the config asks.
pub fn stage(
    config: &Config,
    inputs: &Inputs,
    import: &ImportReport,
    root: &str,
    sink: &dyn PageSink,
) -> Result<Option<ExportsCopy>> {
    let mut copy = ExportsCopy::default();
    if let Some(dir) = &config.backup.kept_exports {
        // A backup's own originals, carried over as they are.
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::walk(dir, e))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = crate::inputs::slash_path(dir, entry.path());
            if rel == WITHHELD {
                let text = std::fs::read_to_string(entry.path())
                    .map_err(|e| Error::io(entry.path(), e))?;
                copy.withheld = text.lines().filter(|l| !l.starts_with('#')).count() as u64;
            } else {
                copy.kept += 1;
            }
            sink.put_file(&format!("{root}/{EXPORTS}/{rel}"), entry.path())?;
        }
        return Ok(Some(copy));
    }
    if !config.backup.keep_exports {
        return Ok(None);
    }
    let mut list = String::new();
    for (index, found) in inputs.trackers.iter().enumerate() {
        let folder = folder_of(config, index);
        for file in &found.files {
            let name = format!("{folder}/{}", relative_name(config, file));
            match withheld_because(config, import, file)? {
                Some(why) => {
                    list.push_str(&format!("{name}\t{why}\n"));
                    copy.withheld += 1;
                }
                None => {
                    sink.put_file(&format!("{root}/{EXPORTS}/{name}"), file)?;
                    copy.kept += 1;
                }
            }
        }
    }
    if !list.is_empty() {
        let text = format!(
            "# Export files left out of this published backup, and why; `hindsight backup --private DIR` keeps them.\n{list}"
        );
        sink.put(&format!("{root}/{EXPORTS}/{WITHHELD}"), text.as_bytes())?;
    }
    Ok(Some(copy))
}
