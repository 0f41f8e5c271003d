//! `hindsight backup --private DIR`: everything the build read, as received, in a BagIt bag
//! that is never published.
//!
//! The published backup holds only what the site shows. The export files that held more
//! (restricted issues and comments, private attachments, e-mail addresses) and the trackers'
//! attachment folders are the archive keeper's to keep, somewhere only they can read: this
//! writes them, with the configuration, into `DIR` (atomically, like a site: a failed run
//! leaves the previous backup as it was), as a bag whose manifests `hindsight verify DIR`
//! checks.

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::PageSink;
use crate::write::bag::{Bag, DECLARATION, DECLARATION_TEXT};
use crate::write::{Staging, WriteReport};

/// Writes the private backup of `config`'s inputs into `dir`.
pub fn private_backup(config: &Config, dir: &Path) -> Result<WriteReport> {
    let inside = |a: &Path, b: &Path| {
        let a = a.canonicalize().unwrap_or_else(|_| a.to_path_buf());
        let b = b.canonicalize().unwrap_or_else(|_| b.to_path_buf());
        a.starts_with(&b)
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    if inside(parent, &config.output) || inside(&config.output, dir) {
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the private backup may not be inside the published site, nor hold it",
            ),
        ));
    }
    let inputs = crate::inputs::discover(config)?;
    let staging = Staging::begin(dir, None)?;
    let filled = fill(config, &inputs, &staging);
    let bag = match filled {
        Ok(bag) => bag,
        Err(e) => {
            let _ = staging.abandon();
            return Err(e);
        }
    };
    staging.commit(&[bag])
}

fn fill(config: &Config, inputs: &crate::inputs::Inputs, sink: &Staging) -> Result<Bag> {
    let (mut files, mut folders) = (0u64, 0u64);
    for (index, found) in inputs.trackers.iter().enumerate() {
        let folder = super::exports::folder_of(config, index);
        for file in &found.files {
            let name = super::exports::relative_name(config, file);
            sink.put_file(&format!("data/exports/{folder}/{name}"), file)?;
            files += 1;
        }
        if let Some(attachments) = &found.attachments {
            if attachments.root.is_dir() {
                folders += 1;
                for entry in walkdir::WalkDir::new(&attachments.root).sort_by_file_name() {
                    let entry = entry.map_err(|e| Error::walk(&attachments.root, e))?;
                    if !entry.file_type().is_file() {
                        continue;
                    }
                    let rel = entry
                        .path()
                        .strip_prefix(&attachments.root)
                        .unwrap_or(entry.path());
                    let rel: Vec<String> = rel
                        .components()
                        .map(|c| super::exports::plain_name(&c.as_os_str().to_string_lossy()))
                        .collect();
                    sink.put_file(
                        &format!("data/attachments/{folder}/{}", rel.join("/")),
                        entry.path(),
                    )?;
                }
            }
        }
    }
    let text = std::fs::read(&config.file).map_err(|e| Error::io(&config.file, e))?;
    sink.put("data/hindsight.toml", &text)?;
    sink.put(DECLARATION, DECLARATION_TEXT.as_bytes())?;
    Ok(Bag {
        root: String::new(),
        info: vec![
            (
                "Bag-Software-Agent".into(),
                format!("hindsight {}", env!("CARGO_PKG_VERSION")),
            ),
            (
                "External-Identifier".into(),
                format!("{} (private)", config.title),
            ),
            (
                "External-Description".into(),
                format!(
                    "PRIVATE: every export file the archive's build reads ({files}), as received, \
                     and the trackers' attachment folders ({folders}), with the configuration \
                     (data/hindsight.toml). They hold what the published site withholds \
                     (restricted items, addresses): do not publish this bag."
                ),
            ),
        ],
    })
}
