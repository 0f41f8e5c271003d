//! The tracker in the site: the whole published archive in the neutral format, one
//! zstd-compressed NDJSON file per tracker, with the attachment files it published, so that the
//! site can be rebuilt, or the data imported elsewhere, from a copy of it.
//!
//! Each issue is written exactly as the site publishes it (restricted items dropped, names
//! resolved, addresses masked). An attachment the site published is kept as a file under
//! `data/attachments/` at the site path the issue page links to, and the issue names it there
//! (`{"kind": "file", "path": "attachments/LU/12/12345/trace.log"}`); one over the size cap is
//! named as withheld with its size, so a site rebuilt from the backup lists it the same way.
//!
//! A tracker's file is a sequence of zstd frames, each the compression (zstd level 3,
//! content checksum on) of a chunk of whole lines, in key order; the chunks end at boundaries
//! the issues' keys decide ([`chunks`]). Concatenated frames are one zstd stream (RFC 8878),
//! so `zstd -dc jira.ndjson.zst` and any zstd library's streaming decoder give the whole
//! NDJSON; a reader that stops after the first frame gets only the first chunk.

use std::collections::BTreeMap;

use super::chunks::{self, ChunkCache, Cutter};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::Inputs;
use crate::link::Linked;
use crate::model::{AttachmentContent, Issue};
use crate::render::attachments::{self, Content};
use crate::render::PageSink;

/// Where in the bag the archive files are (`data/archive/<tracker>.ndjson.zst`).
pub const ARCHIVE_FOLDER: &str = "data/archive";
/// Where in the bag the attachment files are (`data/attachments/…`, the site's own paths).
pub const ATTACHMENTS_ROOT: &str = "data";

/// The zstd level: zstd's default, about five times faster than level 9 for 16% more bytes
/// (70 MB of NDJSON from 15,435 generated issues: 0.28 s and 14.5 MB against 1.48 s and
/// 12.5 MB with the `zstd` tool), which is still a fraction of the site; a rebuild compresses
/// only the chunks that changed.
const LEVEL: i32 = 3;

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
    /// Chunks of the archive files compressed by this build, and chunks whose compressed
    /// frame the build cache had (see [`chunks`]).
    pub chunks: (u64, u64),
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
///
/// Each tracker's file is compressed chunk by chunk ([`chunks`]): only the chunks whose issues
/// changed since the last build are compressed again, on every core, while the issues are
/// read; the rest come from the build cache.
pub fn stage(
    config: &Config,
    inputs: &Inputs,
    linked: &Linked,
    root: &str,
    sink: &dyn PageSink,
    notes: &mut Vec<String>,
) -> Result<ArchiveCopy> {
    let cache_dir = config.cache.join(chunks::CACHE_FOLDER);
    let cache = ChunkCache::open(&cache_dir, LEVEL)?;
    let mut copy = ArchiveCopy::default();
    let (trackers, files) = chunks::compress_streams(&cache, |sender| {
        let mut trackers: BTreeMap<String, Tracker> = BTreeMap::new();
        // Decoding and serialising the issues is most of the pass: done on every core, in a
        // pool of its own (the build's pool waits for the chunks to compress), while this
        // thread cuts the lines into chunks in key order.
        let decoders = rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .build()
            .map_err(|e| Error::io(&cache_dir, std::io::Error::other(e)))?;
        let line_of = |issue: &Issue| -> Result<Vec<u8>> {
            serde_json::to_vec(issue).map_err(|e| Error::Json {
                what: format!("issue {}", issue.key),
                source: e,
            })
        };
        let read = |record: &[u8]| -> Result<Read> {
            let issue = linked.issue_from_record(record)?;
            Ok(match issue.attachments.is_empty() {
                true => Read::Line {
                    line: line_of(&issue)?,
                    key: issue.key,
                    source: issue.source,
                },
                false => Read::WithAttachments(Box::new(issue)),
            })
        };
        let cut = |read: Read| -> Result<()> {
            let (key, source, line) = match read {
                Read::Line { key, source, line } => (key, source, line),
                Read::WithAttachments(mut issue) => {
                    keep_attachments(config, inputs, root, sink, &mut issue, &mut copy, notes)?;
                    let line = line_of(&issue)?;
                    (issue.key, issue.source, line)
                }
            };
            let stream = trackers.len();
            let tracker = trackers
                .entry(source)
                .or_insert_with(|| Tracker::new(stream));
            tracker.issues += 1;
            let chunk = tracker.cutter.push(&key, |out| {
                out.extend_from_slice(&line);
                Ok(())
            })?;
            match chunk {
                Some(chunk) => sender.send(tracker.stream, chunk),
                None => Ok(()),
            }
        };
        decoders.install(|| linked.store.map_issue_records(read, cut))?;
        for tracker in trackers.values_mut() {
            if let Some(chunk) = std::mem::take(&mut tracker.cutter).finish() {
                sender.send(tracker.stream, chunk)?;
            }
        }
        Ok(trackers)
    })?;
    for (source, tracker) in trackers {
        let file = file_of(&source);
        let path = files.path(tracker.stream).ok_or_else(|| {
            Error::io(
                &cache_dir,
                std::io::Error::other("a tracker's file is missing"),
            )
        })?;
        sink.put_file(&format!("{root}/{file}"), path)?;
        copy.trackers.push((source, file, tracker.issues));
    }
    drop(files);
    cache.prune()?;
    copy.chunks = cache.counts();
    Ok(copy)
}

/// An issue as the archive copy needs it: its line, made on any core, or, when it has
/// attachments to put into the bag first, the issue.
enum Read {
    Line {
        key: String,
        source: String,
        line: Vec<u8>,
    },
    WithAttachments(Box<Issue>),
}

/// A tracker's file being made: its stream of chunks, the chunk being filled, its issues.
struct Tracker {
    stream: usize,
    cutter: Cutter,
    issues: u64,
}

impl Tracker {
    fn new(stream: usize) -> Tracker {
        Tracker {
            stream,
            cutter: Cutter::default(),
            issues: 0,
        }
    }
}

/// Puts the attachment files `issue` published into the bag and says in the issue where each
/// one is (or that it is withheld, or missing).
fn keep_attachments(
    config: &Config,
    inputs: &Inputs,
    root: &str,
    sink: &dyn PageSink,
    issue: &mut Issue,
    copy: &mut ArchiveCopy,
    notes: &mut Vec<String>,
) -> Result<()> {
    let contents = attachments::contents(config, inputs, issue);
    for (a, content) in issue.attachments.iter_mut().zip(contents) {
        let site_path = attachments::site_path(&issue.project.key, &a.id, &a.name);
        let kept = format!("{root}/{ATTACHMENTS_ROOT}/{site_path}");
        match content {
            Content::Data(bytes) => {
                sink.put_shared(&kept, &bytes)?;
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
    Ok(())
}
