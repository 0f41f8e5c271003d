//! The tracker in the site: the whole published archive in the neutral format, one
//! zstd-compressed NDJSON file per tracker, with the attachment files it published, so that the
//! site can be rebuilt, or the data imported elsewhere, from a copy of it.
//!
//! Each issue is written exactly as the site publishes it (restricted items dropped, names
//! resolved, addresses masked). An attachment the site published is kept as a file under
//! `data/attachments/` at the site path the issue page links to, and the issue names it there
//! (`{"kind": "file", "path": "attachments/LU/12/12345/trace.log"}`); one over the size cap is
//! named as withheld with its size, so a site rebuilt from the backup lists it the same way.

use std::collections::BTreeMap;
use std::io::Write;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::link::Linked;
use crate::model::AttachmentContent;
use crate::render::attachments::{self, Content};
use crate::render::PageSink;

/// Where in the bag the archive files are (`data/archive/<tracker>.ndjson.zst`).
pub const ARCHIVE_FOLDER: &str = "data/archive";
/// Where in the bag the attachment files are (`data/attachments/…`, the site's own paths).
pub const ATTACHMENTS_ROOT: &str = "data";

/// The zstd level: fast enough to re-compress a Lustre-size archive on every build, small
/// enough that the archive costs a fraction of the site.
const LEVEL: i32 = 9;

/// What the archive copy holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveCopy {
    /// Per tracker (the issues' `source`): its file in the bag and the issues in it.
    pub trackers: Vec<(String, String, u64)>,
    /// Attachment files kept.
    pub attachments: u64,
    /// Attachments over the size cap: count and bytes, listed but not kept.
    pub withheld: (u64, u64),
    /// Attachments whose file the archive names but does not have.
    pub missing: u64,
}

/// The archive file of a tracker: `data/archive/<name>.ndjson.zst`, the name reduced to
/// characters every file system takes.
pub fn file_of(source: &str) -> String {
    format!(
        "{ARCHIVE_FOLDER}/{}.ndjson.zst",
        attachments::safe_file_name(source)
    )
}

/// Writes the archive and its attachments into the bag at `root` (`backup`).
pub fn stage(
    config: &Config,
    inputs: &Inputs,
    linked: &Linked,
    root: &str,
    sink: &dyn PageSink,
    notes: &mut Vec<String>,
) -> Result<ArchiveCopy> {
    let mut copy = ArchiveCopy::default();
    let mut files: BTreeMap<String, (zstd::Encoder<'static, Vec<u8>>, u64)> = BTreeMap::new();
    let zstd_error = |e: std::io::Error| Error::io(format!("{root}/{ARCHIVE_FOLDER}"), e);
    linked.for_each_issue(|mut issue| {
        let contents = attachments::contents(config, inputs, &issue);
        for (a, content) in issue.attachments.iter_mut().zip(contents) {
            let site_path = attachments::site_path(&issue.project.key, &a.id, &a.name);
            let kept = format!("{root}/{ATTACHMENTS_ROOT}/{site_path}");
            match content {
                Content::Data(bytes) => {
                    sink.put(&kept, &bytes)?;
                    a.content = Some(AttachmentContent::File { path: site_path });
                    copy.attachments += 1;
                }
                Content::File(f) => {
                    sink.put_file(&kept, &f.path)?;
                    a.content = Some(AttachmentContent::File { path: site_path });
                    copy.attachments += 1;
                }
                Content::TooLarge(size) => {
                    a.content = Some(AttachmentContent::Withheld { size });
                    copy.withheld.0 += 1;
                    copy.withheld.1 += size;
                }
                // The export's undecodable copy is kept as it was: the rebuilt page says so too.
                Content::Undecodable => {}
                Content::Nothing => {
                    if let Some(AttachmentContent::File { path }) = &a.content {
                        notes.push(format!(
                            "{}: attachment {} ({}): its file {path} is not in the attachments folder; not in the backup",
                            issue.key, a.id, a.name
                        ));
                        copy.missing += 1;
                    }
                    a.content = None;
                }
            }
        }
        let (encoder, count) = match files.get_mut(&issue.source) {
            Some(e) => e,
            None => {
                let mut e = zstd::Encoder::new(Vec::new(), LEVEL).map_err(zstd_error)?;
                e.include_checksum(true).map_err(zstd_error)?;
                files.entry(issue.source.clone()).or_insert((e, 0))
            }
        };
        serde_json::to_writer(&mut *encoder, &issue).map_err(|e| Error::Json {
            what: format!("issue {}", issue.key),
            source: e,
        })?;
        encoder.write_all(b"\n").map_err(zstd_error)?;
        *count += 1;
        Ok(())
    })?;
    for (source, (encoder, count)) in files {
        let bytes = encoder.finish().map_err(zstd_error)?;
        let file = file_of(&source);
        sink.put(&format!("{root}/{file}"), &bytes)?;
        copy.trackers.push((source, file, count));
    }
    Ok(copy)
}
