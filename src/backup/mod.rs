//! Backup: what makes a copy of the site a backup of the project.
//!
//! Beside the pages, a build puts into the site (through the same page sink, so `write` stays
//! the only writer):
//!
//! - `source/<name>.git/`: a bare git repository per `[[repository]]`, clonable from the
//!   folder and over git's dumb HTTP protocol ([`git`]);
//! - `backup/`: a BagIt bag (RFC 8493) whose payload is the published archive in the neutral
//!   format, one compressed NDJSON file per tracker (zstd frames of chunks of issues, only the
//!   changed ones compressed again: [`chunks`]), with its attachments ([`archive`]), the
//!   site's theme and pages, and beside them a `hindsight.toml` that rebuilds the site from the
//!   copy alone ([`restore`]).
//!
//! The writer then adds the bag's manifests and the site's `SHA256SUMS` from the hashes it took
//! of every file; `hindsight verify` checks both on any copy.

pub mod archive;
pub mod chunks;
pub mod exports;
pub mod git;
pub mod private;
pub mod restore;
pub mod spans;

use crate::config::Config;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::link::Linked;
use crate::render::PageSink;
use crate::write::bag::{Bag, DECLARATION, DECLARATION_TEXT};

/// The bag's folder in the site.
pub const BAG_ROOT: &str = "backup";
/// The restore configuration's name in the bag.
pub const CONFIG_FILE: &str = "hindsight.toml";

/// What the backup holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupReport {
    /// The repositories copied into `source/`.
    pub repositories: Vec<git::RepositoryCopy>,
    /// The archive in the bag (`None` when `[backup] archive = false`).
    pub archive: Option<archive::ArchiveCopy>,
    /// The original export files in the bag (`None` unless `keep_exports`).
    pub exports: Option<exports::ExportsCopy>,
    /// The bag, for the writer to finish (`None` without an archive).
    pub bag: Option<Bag>,
    /// What the keeper should know: what is missing from the backup and why.
    pub notes: Vec<String>,
}

impl BackupReport {
    /// One line for the build's progress.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for r in &self.repositories {
            parts.push(format!(
                "source/{}.git ({}, {}, {}{})",
                r.name,
                crate::observe::count(r.refs as u64, "ref"),
                crate::observe::count(r.packs as u64, "pack"),
                crate::observe::count(r.loose as u64, "loose object"),
                if r.incomplete.is_empty() {
                    ""
                } else {
                    ", INCOMPLETE"
                }
            ));
        }
        if let Some(a) = &self.archive {
            let issues: u64 = a.trackers.iter().map(|t| t.2).sum();
            let (compressed, reused) = a.chunks;
            parts.push(format!(
                "{BAG_ROOT}/: {} ({} read), {} ({} compressed, {} kept from the cache)",
                crate::observe::count(issues, "issue"),
                a.read,
                crate::observe::count(a.attachments, "attachment file"),
                crate::observe::count(compressed, "archive chunk"),
                reused
            ));
        }
        if let Some(e) = &self.exports {
            parts.push(format!(
                "{} original export files kept, {} withheld",
                e.kept, e.withheld
            ));
        }
        if parts.is_empty() {
            "off".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Puts the backup into the site through `sink`, as `config`'s `[backup]` table asks.
/// `published` is render's digest of each issue as published
/// ([`RenderReport::published`](crate::render::RenderReport)), empty when unknown.
pub fn stage(
    config: &Config,
    inputs: &Inputs,
    linked: &Linked,
    published: &[Option<u128>],
    import: &crate::import::ImportReport,
    sink: &dyn PageSink,
) -> Result<BackupReport> {
    let mut report = BackupReport::default();
    let names = crate::source::repository_names(&config.repositories);
    let mut ref_names: Vec<Vec<String>> = vec![Vec::new(); config.repositories.len()];
    if config.backup.git {
        for ((rc, name), refs) in config.repositories.iter().zip(&names).zip(&mut ref_names) {
            let (copy, published) = git::stage(rc, name, sink, &config.cache, &mut report.notes)?;
            *refs = published;
            report.repositories.push(copy);
        }
    }
    if !config.backup.archive {
        return Ok(report);
    }
    let copy = archive::stage(
        config,
        inputs,
        linked,
        published,
        BAG_ROOT,
        sink,
        &mut report.notes,
    )?;

    report.exports = exports::stage(config, inputs, import, BAG_ROOT, sink)?;
    for (rel, bytes) in &inputs.theme.files {
        sink.put(&format!("{BAG_ROOT}/data/theme/{rel}"), bytes)?;
    }
    for page in &inputs.pages {
        if let Some(name) = page.file.file_name() {
            let name = name.to_string_lossy();
            sink.put(
                &format!("{BAG_ROOT}/data/pages/{name}"),
                page.text.as_bytes(),
            )?;
        }
    }
    let archives: Vec<restore::ArchiveFile> = copy
        .trackers
        .iter()
        .map(|(source, file, _)| restore::ArchiveFile { source, file })
        .collect();
    // Without the git copy, the rebuilt site has no repository to read.
    let repositories: Vec<restore::RepositoryFile> = if config.backup.git {
        names
            .iter()
            .zip(&ref_names)
            .map(|(name, refs)| restore::RepositoryFile { name, refs })
            .collect()
    } else {
        Vec::new()
    };
    let text = restore::config_text(config, &archives, &repositories);
    sink.put(&format!("{BAG_ROOT}/{CONFIG_FILE}"), text.as_bytes())?;
    sink.put(
        &format!("{BAG_ROOT}/{DECLARATION}"),
        DECLARATION_TEXT.as_bytes(),
    )?;
    report.bag = Some(Bag {
        root: BAG_ROOT.into(),
        info: bag_info(config, &copy, &report),
    });
    report.archive = Some(copy);
    Ok(report)
}

/// The `bag-info.txt` metadata (the writer adds `Payload-Oxum`). Nothing in it depends on when
/// the build ran.
fn bag_info(
    config: &Config,
    copy: &archive::ArchiveCopy,
    report: &BackupReport,
) -> Vec<(String, String)> {
    let issues: u64 = copy.trackers.iter().map(|t| t.2).sum();
    let trackers: Vec<String> = copy
        .trackers
        .iter()
        .map(|(s, f, n)| format!("{s} ({n} issues, {f})"))
        .collect();
    let mut info = vec![
        (
            "Bag-Software-Agent".to_string(),
            format!("hindsight {}", env!("CARGO_PKG_VERSION")),
        ),
        ("External-Identifier".to_string(), config.title.clone()),
        (
            "External-Description".to_string(),
            format!(
                "The published archive of {issues} issues in hindsight's neutral format (one \
                 zstd-compressed NDJSON file per tracker: {}), the {} attachment files the \
                 site published, its theme and pages, and hindsight.toml, which rebuilds the \
                 site from this bag and the site's source/*.git repositories.",
                trackers.join(", "),
                copy.attachments
            ),
        ),
    ];
    if copy.withheld.0 > 0 {
        info.push((
            "Left-Out".into(),
            format!(
                "{} attachment files ({} bytes) over the archive's size limit of {} bytes: \
                 listed, not kept",
                copy.withheld.0, copy.withheld.1, config.attachment_size_cap
            ),
        ));
    }
    if let Some(e) = report.exports.as_ref().filter(|e| e.withheld > 0) {
        info.push((
            "Left-Out".into(),
            format!(
                "{} original export files that hold what the site does not publish (listed in \
                 {}/{}); the keeper's private backup has them",
                e.withheld,
                exports::EXPORTS,
                exports::WITHHELD
            ),
        ));
    }
    if copy.missing > 0 {
        info.push((
            "Left-Out".into(),
            format!(
                "{} attachment files the export names but the attachments folder does not have",
                copy.missing
            ),
        ));
    }
    for r in &report.repositories {
        for what in &r.incomplete {
            info.push(("Left-Out".into(), format!("source/{}.git: {what}", r.name)));
        }
    }
    info
}
