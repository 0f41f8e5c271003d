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
use super::spans::{self, Span, SpanIndex};
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
    /// Issues read and serialised by this build; the others were in spans known unchanged
    /// since the last build ([`spans`]), whose frames were put back as they were.
    pub read: u64,
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
/// Each tracker's file is compressed chunk by chunk ([`chunks`]): a span of issues whose
/// published digests (`published`, render's, in the order of [`Linked::issues`]) are those of
/// a span of the last build is sent as the frame that span made, without its issues being
/// read ([`spans`]); the others are read and serialised on every core, and their chunks
/// compressed again unless the cache has their bytes' frame.
pub fn stage(
    config: &Config,
    inputs: &Inputs,
    linked: &Linked,
    published: &[Option<u128>],
    root: &str,
    sink: &dyn PageSink,
    notes: &mut Vec<String>,
) -> Result<ArchiveCopy> {
    let cache_dir = config.cache.join(chunks::CACHE_FOLDER);
    let cache = ChunkCache::open(&cache_dir, LEVEL)?;
    let mut index = SpanIndex::load(&config.cache.join(spans::INDEX_FILE));
    let spans = spans::spans(&linked.issues, published);
    let known: Vec<Option<(u128, u64)>> = spans
        .iter()
        .map(|s| {
            s.identity
                .and_then(|id| index.chunk_of(id))
                .filter(|&(digest, len)| cache.has(digest, len))
        })
        .collect();
    // The issues to read: those of the spans not known, as ranges of keys.
    let mut unknown: Vec<u32> = spans
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .flat_map(|(s, _)| s.positions.iter().copied())
        .collect();
    unknown.sort_unstable();
    let ranges = key_ranges(&unknown, linked);
    let mut span_of = vec![0u32; linked.issues.len()];
    for (n, s) in spans.iter().enumerate() {
        for &p in &s.positions {
            span_of[p as usize] = n as u32;
        }
    }
    let mut copy = ArchiveCopy::default();
    let (trackers, files) = chunks::compress_streams(&cache, |sender| {
        // Decoding and serialising the issues is most of the pass: done on every core, in a
        // pool of its own (the build's pool waits for the chunks to compress), while this
        // thread cuts the lines into chunks in key order.
        let decoders = rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .build()
            .map_err(|e| Error::io(&cache_dir, std::io::Error::other(e)))?;
        let read = |record: &[u8]| -> Result<Read> {
            let issue = linked.issue_from_record(record)?;
            Ok(match issue.attachments.is_empty() {
                true => Read::Line {
                    line: line_of(&issue)?,
                    key: issue.key,
                },
                false => Read::WithAttachments(Box::new(issue)),
            })
        };
        let mut cutting = Cutting {
            config,
            inputs,
            root,
            sink,
            linked,
            cache: &cache,
            sender,
            read: &read,
            spans: &spans,
            known: &known,
            span_of: &span_of,
            next_span: 0,
            trackers: BTreeMap::new(),
            index: &mut index,
            copy: &mut copy,
            notes,
        };
        let mut positions = unknown.iter();
        decoders.install(|| {
            linked
                .store
                .map_issue_records_between(&ranges, read, |read| match positions.next() {
                    Some(&p) => cutting.line(p, read),
                    None => Err(not_linked(&cache_dir)),
                })
        })?;
        if positions.next().is_some() {
            return Err(not_linked(&cache_dir));
        }
        cutting.finish()
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
    index.save()?;
    copy.chunks = cache.counts();
    Ok(copy)
}

/// The error of a store whose issues are not the ones link saw: a bug, never a wrong archive.
fn not_linked(cache_dir: &std::path::Path) -> Error {
    Error::io(
        cache_dir,
        std::io::Error::other("the store's issues are not the linked ones"),
    )
}

/// The ranges of keys (first and last, both included) of the issues at `positions` (in
/// order): one per run of consecutive positions.
fn key_ranges<'a>(positions: &[u32], linked: &'a Linked) -> Vec<(&'a str, &'a str)> {
    let key = |p: u32| linked.issues[p as usize].key.as_ref();
    let mut ranges = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for &p in positions {
        run = match run {
            Some((first, last)) if p == last + 1 => Some((first, p)),
            Some((first, last)) => {
                ranges.push((key(first), key(last)));
                Some((p, p))
            }
            None => Some((p, p)),
        };
    }
    ranges.extend(run.map(|(first, last)| (key(first), key(last))));
    ranges
}

/// An issue's line in the archive: the issue as published, as JSON.
fn line_of(issue: &Issue) -> Result<Vec<u8>> {
    serde_json::to_vec(issue).map_err(|e| Error::Json {
        what: format!("issue {}", issue.key),
        source: e,
    })
}

/// The archive files being cut into chunks, in key order: the lines of the issues read, and
/// the frames of the spans known unchanged in their places.
struct Cutting<'a, 's> {
    config: &'a Config,
    inputs: &'a Inputs,
    root: &'a str,
    sink: &'a dyn PageSink,
    linked: &'a Linked,
    cache: &'a ChunkCache,
    sender: &'s mut chunks::ChunkSender,
    read: &'a (dyn Fn(&[u8]) -> Result<Read> + Sync),
    spans: &'a [Span],
    /// Per span, the chunk the last build made of it (its frame cached), if known.
    known: &'a [Option<(u128, u64)>],
    /// Per issue, its span.
    span_of: &'a [u32],
    /// The first span not passed yet.
    next_span: usize,
    trackers: BTreeMap<String, Tracker>,
    index: &'a mut SpanIndex,
    copy: &'a mut ArchiveCopy,
    notes: &'a mut Vec<String>,
}

impl Cutting<'_, '_> {
    /// Takes the issue at position `p`, read: first the known spans before it.
    fn line(&mut self, p: u32, read: Read) -> Result<()> {
        self.known_before(p)?;
        self.cut(p, read)
    }

    /// Sends the frames of the known spans that start before position `p`.
    fn known_before(&mut self, p: u32) -> Result<()> {
        while let Some(span) = self.spans.get(self.next_span).filter(|s| s.first() < p) {
            let n = self.next_span;
            self.next_span += 1;
            let Some((digest, len)) = self.known[n] else {
                continue;
            };
            match self.cache.frame_of(digest, len) {
                Some(frame) => {
                    let tracker = tracker(&mut self.trackers, &span.tracker);
                    tracker.issues += span.positions.len() as u64;
                    self.sender.send_frame(tracker.stream, frame)?;
                    if let Some(identity) = span.identity {
                        self.index.record(identity, digest, len);
                    }
                }
                // The entry was damaged after all: its issues are read now.
                None => {
                    let keys: Vec<&str> = span
                        .positions
                        .iter()
                        .map(|&p| &*self.linked.issues[p as usize].key)
                        .collect();
                    let reads = self.linked.store.issue_records_by_key(&keys, self.read)?;
                    if reads.len() != keys.len() {
                        return Err(not_linked(&self.config.cache));
                    }
                    for (&p, read) in span.positions.iter().zip(reads) {
                        self.cut(p, read)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds the line of the issue at position `p` to its tracker's chunk; at the end of its
    /// span, sends the chunk and notes which chunk the span made.
    fn cut(&mut self, p: u32, read: Read) -> Result<()> {
        let (key, line) = match read {
            Read::Line { key, line } => (key, line),
            Read::WithAttachments(mut issue) => {
                keep_attachments(
                    self.config,
                    self.inputs,
                    self.root,
                    self.sink,
                    &mut issue,
                    self.copy,
                    self.notes,
                )?;
                let line = line_of(&issue)?;
                (issue.key, line)
            }
        };
        self.copy.read += 1;
        let n = self.span_of[p as usize] as usize;
        let span = &self.spans[n];
        let tracker = tracker(&mut self.trackers, &span.tracker);
        tracker.issues += 1;
        if tracker.span != Some(n) {
            tracker.span = Some(n);
            tracker.made.clear();
        }
        let mut chunks = Vec::new();
        chunks.extend(tracker.cutter.push(&key, |out| {
            out.extend_from_slice(&line);
            Ok(())
        })?);
        if p == span.last() {
            chunks.extend(std::mem::take(&mut tracker.cutter).finish());
        }
        for chunk in chunks {
            let len = chunk.len() as u64;
            let digest = self.sender.send(tracker.stream, chunk)?;
            tracker.made.push((digest, len));
        }
        if p == span.last() {
            if let (Some(identity), [(digest, len)]) = (span.identity, tracker.made.as_slice()) {
                self.index.record(identity, *digest, *len);
            }
        }
        Ok(())
    }

    /// Sends the known spans after the last issue read; the trackers' files are complete.
    fn finish(mut self) -> Result<BTreeMap<String, Tracker>> {
        self.known_before(u32::MAX)?;
        for tracker in self.trackers.values_mut() {
            if let Some(chunk) = std::mem::take(&mut tracker.cutter).finish() {
                self.sender.send(tracker.stream, chunk)?;
            }
        }
        Ok(self.trackers)
    }
}

/// The tracker `source` of `trackers`, added (with the next stream) when it is new.
fn tracker<'t>(trackers: &'t mut BTreeMap<String, Tracker>, source: &str) -> &'t mut Tracker {
    if !trackers.contains_key(source) {
        let stream = trackers.len();
        trackers.insert(source.to_string(), Tracker::new(stream));
    }
    trackers.get_mut(source).expect("inserted above")
}

/// An issue as the archive copy needs it: its line, made on any core, or, when it has
/// attachments to put into the bag first, the issue.
enum Read {
    Line { key: String, line: Vec<u8> },
    WithAttachments(Box<Issue>),
}

/// A tracker's file being made: its stream of chunks, the chunk being filled, its issues, and
/// the chunks made of its current span.
struct Tracker {
    stream: usize,
    cutter: Cutter,
    issues: u64,
    span: Option<usize>,
    made: Vec<(u128, u64)>,
}

impl Tracker {
    fn new(stream: usize) -> Tracker {
        Tracker {
            stream,
            cutter: Cutter::default(),
            issues: 0,
            span: None,
            made: Vec::new(),
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
