//! Which chunk of an archive file a run of issues made, known without reading the issues.
//!
//! The issues of one tracker from one chunk boundary ([`chunks::ends_chunk`]) to the next are a
//! *span*; a span makes one chunk (two or more only past [`chunks::MAX_CHUNK_BYTES`]), the
//! lines of its issues as published. So a span makes the same chunk as long as each of its
//! issues is published the same, which render knows from each issue's digest
//! ([`RenderReport::published`](crate::render::RenderReport), which covers the program
//! too): a span's identity is the digest of the tracker and its issues' digests.
//!
//! The [`SpanIndex`] kept in the build cache maps the identity of each span of the last build
//! to the digest and length of the chunk it made, whose compressed frame the
//! [`ChunkCache`](super::chunks::ChunkCache) holds: a nightly rebuild in which a few dozen
//! issues changed sends the frames of the other spans as they are, without reading,
//! decoding or serialising their issues (at 100,000 issues, most of what the backup cost).

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use super::chunks;
use crate::error::{Error, Result};
use crate::link::{IssueSummary, Name};

/// The index's file in the build cache.
pub const INDEX_FILE: &str = "backup-spans";

/// The first bytes of the index file, with the version of its layout.
const MAGIC: &[u8] = b"hindsight archive spans 1\n";

/// Bytes of one entry: identity, chunk digest, chunk length.
const ENTRY: usize = 16 + 16 + 8;

/// The issues of one tracker between two chunk boundaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The tracker (the issues' `source`): whose archive file the chunk goes into.
    pub tracker: Name,
    /// Positions of the issues in [`Linked::issues`](crate::link::Linked), in order.
    pub positions: Vec<u32>,
    /// Whether the span ends at a chunk boundary (else it is its tracker's last).
    pub bounded: bool,
    /// The span's identity; `None` when an issue's published digest is unknown.
    pub identity: Option<u128>,
}

impl Span {
    /// The position of the span's first issue.
    pub fn first(&self) -> u32 {
        self.positions[0]
    }

    /// The position of the span's last issue.
    pub fn last(&self) -> u32 {
        self.positions[self.positions.len() - 1]
    }
}

/// The spans of `issues` (in key order), ordered by their first issue. `published` holds each
/// issue's published digest (in the same order; empty when unknown), which also stands for
/// the program that serialises the issue.
pub fn spans(issues: &[IssueSummary], published: &[Option<u128>]) -> Vec<Span> {
    let known = published.len() == issues.len();
    let mut open: BTreeMap<Name, (Vec<u32>, Option<Xxh3>)> = BTreeMap::new();
    let mut done = Vec::new();
    let close = |tracker: Name, (positions, hasher): (Vec<u32>, Option<Xxh3>), bounded| Span {
        tracker,
        identity: hasher.map(|mut h| {
            h.write_u64(positions.len() as u64);
            h.write_u8(bounded as u8);
            h.digest128()
        }),
        positions,
        bounded,
    };
    for (i, issue) in issues.iter().enumerate() {
        let (positions, hasher) = open.entry(issue.source.clone()).or_insert_with(|| {
            let mut h = Xxh3::new();
            h.write(b"archive span\0");
            h.write_u64(issue.source.len() as u64);
            h.write(issue.source.as_bytes());
            (Vec::new(), Some(h))
        });
        positions.push(i as u32);
        match (known.then(|| published[i]).flatten(), hasher.as_mut()) {
            (Some(digest), Some(h)) => h.write_u128(digest),
            _ => *hasher = None,
        }
        if chunks::ends_chunk(&issue.key) {
            let span = open.remove(&issue.source).expect("the span is open");
            done.push(close(issue.source.clone(), span, true));
        }
    }
    for (tracker, span) in open {
        done.push(close(tracker, span, false));
    }
    done.sort_by_key(Span::first);
    done
}

/// The chunks the spans of the last build made, by span identity; and those of this build.
#[derive(Debug)]
pub struct SpanIndex {
    path: PathBuf,
    last: FxHashMap<u128, (u128, u64)>,
    this: BTreeMap<u128, (u128, u64)>,
}

impl SpanIndex {
    /// The index kept at `path`; empty when it is missing or does not read back whole.
    pub fn load(path: &Path) -> SpanIndex {
        let last = std::fs::read(path)
            .ok()
            .and_then(|bytes| decode(&bytes))
            .unwrap_or_default();
        SpanIndex {
            path: path.to_path_buf(),
            last,
            this: BTreeMap::new(),
        }
    }

    /// The digest and length of the chunk the span `identity` made in the last build.
    pub fn chunk_of(&self, identity: u128) -> Option<(u128, u64)> {
        self.last.get(&identity).copied()
    }

    /// Notes that the span `identity` made the chunk with `digest` and `len` bytes in this
    /// build.
    pub fn record(&mut self, identity: u128, digest: u128, len: u64) {
        self.this.insert(identity, (digest, len));
    }

    /// Keeps this build's spans (only these: the index holds one archive's spans), through a
    /// temporary file, so that a killed build leaves the old index or the new one.
    pub fn save(self) -> Result<()> {
        let mut bytes = Vec::with_capacity(MAGIC.len() + self.this.len() * ENTRY + 16);
        bytes.extend_from_slice(MAGIC);
        for (identity, (digest, len)) in &self.this {
            bytes.extend_from_slice(&identity.to_le_bytes());
            bytes.extend_from_slice(&digest.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
        }
        let check = xxh3_128(&bytes);
        bytes.extend_from_slice(&check.to_le_bytes());
        let temporary = self.path.with_extension("tmp");
        std::fs::write(&temporary, &bytes).map_err(|e| Error::io(&temporary, e))?;
        std::fs::rename(&temporary, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// The entries of an index file, if it is whole.
fn decode(bytes: &[u8]) -> Option<FxHashMap<u128, (u128, u64)>> {
    let body = bytes.strip_prefix(MAGIC)?;
    let (entries, check) = body.split_at_checked(body.len().checked_sub(16)?)?;
    let whole = &bytes[..bytes.len() - 16];
    if u128::from_le_bytes(check.try_into().ok()?) != xxh3_128(whole) || entries.len() % ENTRY != 0
    {
        return None;
    }
    let u128_at = |e: &[u8], at: usize| u128::from_le_bytes(e[at..at + 16].try_into().unwrap());
    Some(
        entries
            .chunks_exact(ENTRY)
            .map(|e| {
                let len = u64::from_le_bytes(e[32..40].try_into().unwrap());
                (u128_at(e, 0), (u128_at(e, 16), len))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2,000 issues of one tracker and 30 of another between them, with their digests.
    fn archive() -> (Vec<IssueSummary>, Vec<Option<u128>>) {
        let mut issues: Vec<IssueSummary> = (1..=30)
            .map(|n| IssueSummary::bare(&format!("BZ-{n}"), "bugzilla"))
            .collect();
        issues.extend((1..=2000).map(|n| IssueSummary::bare(&format!("LU-{n}"), "jira")));
        let digests = (0..issues.len() as u128).map(Some).collect();
        (issues, digests)
    }

    #[test]
    fn spans_end_at_the_chunk_boundaries_of_their_tracker() {
        let (issues, digests) = archive();
        let spans = spans(&issues, &digests);
        let mut seen: Vec<u32> = spans.iter().flat_map(|s| s.positions.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..issues.len() as u32).collect::<Vec<_>>());
        assert!(spans.windows(2).all(|w| w[0].first() < w[1].first()));
        for s in &spans {
            assert!(s
                .positions
                .iter()
                .all(|&p| issues[p as usize].source == s.tracker));
            let ends = chunks::ends_chunk(&issues[s.last() as usize].key);
            assert_eq!(s.bounded, ends, "{:?}", s.positions);
            // Only the last issue of a span ends a chunk.
            let inner = &s.positions[..s.positions.len() - 1];
            assert!(inner
                .iter()
                .all(|&p| !chunks::ends_chunk(&issues[p as usize].key)));
        }
        // A tracker's last span is unbounded, unless its last key happens to end a chunk.
        let unbounded = ["BZ-30", "LU-2000"]
            .iter()
            .filter(|k| !chunks::ends_chunk(k))
            .count();
        assert_eq!(spans.iter().filter(|s| !s.bounded).count(), unbounded);
        assert!(spans.len() > 4, "2,000 keys cross several boundaries");
    }

    #[test]
    fn a_changed_issue_changes_its_spans_identity_only() {
        let (issues, digests) = archive();
        let before = spans(&issues, &digests);
        let mut changed = digests.clone();
        changed[1000] = Some(99_999);
        let after = spans(&issues, &changed);
        let differing: Vec<&Span> = before
            .iter()
            .zip(&after)
            .filter(|(a, b)| a.identity != b.identity)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(differing.len(), 1);
        assert!(differing[0].positions.contains(&1000));
        // An unknown digest leaves its span without an identity.
        let mut unknown = digests.clone();
        unknown[1000] = None;
        let after = spans(&issues, &unknown);
        let span = after.iter().find(|s| s.positions.contains(&1000)).unwrap();
        assert_eq!(span.identity, None);
        assert!(spans(&issues, &[]).iter().all(|s| s.identity.is_none()));
    }

    #[test]
    fn the_index_keeps_this_builds_spans_and_refuses_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INDEX_FILE);
        let mut index = SpanIndex::load(&path);
        assert_eq!(index.chunk_of(1), None);
        index.record(1, 10, 100);
        index.record(2, 20, 200);
        index.save().unwrap();
        let mut index = SpanIndex::load(&path);
        assert_eq!(index.chunk_of(1), Some((10, 100)));
        assert_eq!(index.chunk_of(2), Some((20, 200)));
        index.record(2, 20, 200);
        index.save().unwrap();
        let index = SpanIndex::load(&path);
        assert_eq!(index.chunk_of(1), None, "span 1 was not in the last build");
        assert_eq!(index.chunk_of(2), Some((20, 200)));
        let mut bytes = std::fs::read(&path).unwrap();
        let at = MAGIC.len() + 3;
        bytes[at] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(SpanIndex::load(&path).chunk_of(2), None);
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(SpanIndex::load(&path).chunk_of(2), None);
    }
}
