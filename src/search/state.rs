//! The analysed index kept in the build cache between builds, so that a rebuild analyses only
//! the documents that changed (issue #19: a nightly in which a few dozen issues changed paid
//! for tokenizing and adding every document of the archive again).
//!
//! Its folder holds:
//! * `records`: the documents' records and texts, appended ([`super::spill::Records`]);
//! * `run-<n>`: sorted runs of the term map ([`super::spill`]), postings by *slot* (the
//!   number a document was added under): the *base* run, written while the build that
//!   analysed every document exported its terms, and one *delta* run with the postings of
//!   every document analysed since (made again by each build that continues the index, its
//!   dead postings dropped);
//! * `docs`: what ties them together, replaced whole once a build's export succeeded: the
//!   program that wrote it, the runs and their sizes, the records' length, and per slot the
//!   document's head with the digest of its [`SearchDoc`], or that the slot is dead (its
//!   document changed, so it was analysed into a new slot, or is gone).
//!
//! A document whose digest is unchanged keeps its slot, record and postings; a changed or new
//! one is analysed into a new slot. The export skips dead slots, and it does not depend on slot
//! numbers or the order of postings, so the static index is the one a build from nothing
//! writes, byte for byte. When dead slots pass a quarter of the live ones, or the delta a
//! quarter of the base, or anything in the folder does not read back as `docs` says, or
//! another program wrote it, the build starts from nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64, Xxh3};

use super::dict::{Layout, LeafRecord};
use super::export::Facets;
use super::index::Head;
use super::spill::{put_str, put_varint, remove_dir, Cursor, Damaged, Run, RunWriter};
use super::SearchDoc;
use crate::error::{Error, Result};

/// The file that names everything else in the folder.
const DOCS: &str = "docs";
/// `docs` being written, until the export succeeded.
const DOCS_NEW: &str = "docs.new";
/// The records and texts.
pub(crate) const RECORDS: &str = "records";
/// The first bytes of `docs`, with the version of its layout.
const MAGIC: &[u8] = b"hindsight kept search index 4\n";

/// A run file of the kept index: its name in the folder and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunFile {
    pub name: String,
    pub len: u64,
}

/// What `docs` says of the other files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Files {
    /// The number of the next run file.
    pub next_run: usize,
    /// The run of the build that analysed every document.
    pub base: Vec<RunFile>,
    /// The run of the documents analysed since (none or one).
    pub delta: Vec<RunFile>,
    /// Bytes of `records` that are records.
    pub records_len: u64,
}

impl Files {
    fn runs(&self) -> impl Iterator<Item = &RunFile> {
        self.base.iter().chain(&self.delta)
    }
}

/// What `docs` says.
pub(crate) struct Saved {
    /// The files.
    pub files: Files,
    /// Per slot, the document's head (dead slots: `alive` false, no key or path).
    pub heads: Vec<Head>,
    /// What the dictionary the export made of these documents was made of.
    pub layout: Option<Layout>,
}

/// The digest of everything a document's analysis depends on: every field of it.
pub(crate) fn digest(d: &SearchDoc) -> u128 {
    let mut h = Xxh3::new();
    let num = |h: &mut Xxh3, n: u64| h.update(&n.to_le_bytes());
    let text = |h: &mut Xxh3, x: &str| {
        num(h, x.len() as u64);
        h.update(x.as_bytes());
    };
    for x in [d.kind.as_str(), &d.key, &d.title, &d.path] {
        text(&mut h, x);
    }
    for o in [&d.status, &d.project, &d.issue_type] {
        num(&mut h, u64::from(o.is_some()));
        text(&mut h, o.as_deref().unwrap_or_default());
    }
    for list in [
        &d.components,
        &d.fix_versions,
        &d.versions,
        &d.labels,
        &d.body,
    ] {
        num(&mut h, list.len() as u64);
        for x in list {
            text(&mut h, x);
        }
    }
    num(&mut h, d.year.map_or(0, |y| (y as i64 as u64) << 1 | 1));
    h.digest128()
}

/// The kept index's documents, looked up by the documents of this build (on every core).
pub(crate) struct Kept {
    /// Slot by the hash of the document's path (a document's identity: no two share a page).
    slots: FxHashMap<u128, u32>,
    /// Slot by digest, for items known by their [`super::Identity`] before their documents
    /// are made.
    by_digest: FxHashMap<u128, u32>,
    digests: Vec<u128>,
    seen: Vec<AtomicBool>,
}

impl Kept {
    /// The live documents of `heads`.
    pub fn new(heads: &[Head]) -> Kept {
        let slots = heads
            .iter()
            .enumerate()
            .filter(|(_, h)| h.alive)
            .map(|(slot, h)| (xxh3_128(h.path.as_bytes()), slot as u32))
            .collect();
        let by_digest = heads
            .iter()
            .enumerate()
            .filter(|(_, h)| h.alive)
            .map(|(slot, h)| (h.digest, slot as u32))
            .collect();
        Kept {
            slots,
            by_digest,
            digests: heads.iter().map(|h| h.digest).collect(),
            seen: heads.iter().map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Whether the document at `path` whose digest is `digest` is held unchanged (then its
    /// slot is marked seen, once: a second document with the same page is analysed).
    pub fn unchanged(&self, path: &str, digest: u128) -> bool {
        match self.slots.get(&xxh3_128(path.as_bytes())) {
            Some(&slot) if self.digests[slot as usize] == digest => {
                !self.seen[slot as usize].swap(true, Ordering::Relaxed)
            }
            _ => false,
        }
    }

    /// Whether a document whose [`super::Identity`] is `digest` is held unchanged (then its
    /// slot is marked seen, once).
    pub fn holds(&self, digest: u128) -> bool {
        match self.by_digest.get(&digest) {
            Some(&slot) => !self.seen[slot as usize].swap(true, Ordering::Relaxed),
            None => false,
        }
    }

    /// The number of slots it knows.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether the document in `slot` was found unchanged in this build.
    pub fn seen(&self, slot: usize) -> bool {
        self.seen[slot].load(Ordering::Relaxed)
    }
}

/// The kept index in `dir`, if there is one `program` wrote, it reads back as its `docs`
/// says, and it is worth continuing (see the module's doc); files no `docs` names (what a
/// killed build left) are removed. Otherwise the folder is emptied: `None`.
pub(crate) fn load(dir: &Path, program: u128) -> Result<Option<Saved>> {
    let saved = std::fs::read(dir.join(DOCS))
        .ok()
        .and_then(|bytes| decode(&bytes, program).ok())
        .filter(|s| files_match(dir, s))
        .filter(worth_continuing);
    let Some(saved) = saved else {
        remove_dir(dir)?;
        return Ok(None);
    };
    let named: Vec<&str> = (saved.files.runs().map(|r| r.name.as_str()))
        .chain([DOCS, RECORDS])
        .collect();
    remove_others(dir, &named)?;
    Ok(Some(saved))
}

/// Whether the runs and records are there, as large as `docs` says.
fn files_match(dir: &Path, saved: &Saved) -> bool {
    let size = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len()).ok();
    saved.files.runs().all(|r| size(&r.name) == Some(r.len))
        && size(RECORDS).is_some_and(|len| len >= saved.files.records_len)
}

/// Whether continuing costs less than starting again: few dead slots, a small delta. (A
/// `docs` without a base run is not one this module writes: it starts again too.)
fn worth_continuing(saved: &Saved) -> bool {
    if saved.files.base.is_empty() {
        return false;
    }
    let live = saved.heads.iter().filter(|h| h.alive).count();
    let dead = saved.heads.len() - live;
    let base: u64 = saved.files.base.iter().map(|r| r.len).sum();
    let delta: u64 = saved.files.delta.iter().map(|r| r.len).sum();
    dead <= live / 4 && delta <= base / 4
}

/// Removes every file of `dir` not in `keep`.
fn remove_others(dir: &Path, keep: &[&str]) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if !keep.iter().any(|k| name == **k) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// The kept index of a build, to be put in force once its export succeeded
/// ([`Pending::commit`]): its heads (encoded, so that the export can drop them), its files, and
/// the base run the export writes when the index started from nothing ([`Pending::tee`]).
pub(crate) struct Pending {
    dir: PathBuf,
    program: u128,
    files: Files,
    heads: Vec<u8>,
    base: Option<RunWriter>,
}

impl Pending {
    /// The kept index of `heads` and `files` in `dir`, by `program`; with `base`, the run
    /// the export writes every term into, which becomes the only base run.
    pub fn new(
        dir: &Path,
        program: u128,
        files: Files,
        heads: &[Head],
        base: Option<RunWriter>,
    ) -> Pending {
        Pending {
            dir: dir.to_path_buf(),
            program,
            files,
            heads: encode_heads(heads),
            base,
        }
    }

    /// Whether this index writes a base run (it starts from nothing).
    pub fn tees(&self) -> bool {
        self.base.is_some()
    }

    /// Where the next term [`tee`](Self::tee)d starts in the base run, when this index
    /// writes one.
    pub fn tee_position(&self) -> Option<u64> {
        self.base.as_ref().map(RunWriter::position)
    }

    /// Writes a term into the base run, when this index writes one.
    pub fn tee(&mut self, name: &str, postings: &[u32]) -> Result<()> {
        match self.base.as_mut() {
            Some(w) => w.add(name, postings),
            None => Ok(()),
        }
    }

    /// Puts the new `docs` in force, with the `layout` of the dictionary the export made, and
    /// removes the files it no longer names.
    pub fn commit(mut self, layout: &Layout) -> Result<()> {
        if let Some(w) = self.base.take() {
            let run = w.finish()?;
            self.files.base = vec![run_file(&run)?];
        }
        let bytes = encode(&self.files, &self.heads, self.program, Some(layout));
        let (new, docs) = (self.dir.join(DOCS_NEW), self.dir.join(DOCS));
        std::fs::File::create(&new)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| Error::io(&new, e))?;
        std::fs::rename(&new, &docs).map_err(|e| Error::io(&docs, e))?;
        let mut keep: Vec<&str> = self.files.runs().map(|r| r.name.as_str()).collect();
        keep.extend([DOCS, RECORDS]);
        remove_others(&self.dir, &keep)
    }
}

/// The name and size of `run`, a file of the kept index's folder.
pub(crate) fn run_file(run: &Run) -> Result<RunFile> {
    Ok(RunFile {
        name: run
            .path()
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        len: run.len()?,
    })
}

/// `docs`: [`MAGIC`], the program, the files, the heads ([`encode_heads`]) and the layout
/// ([`encode_layout`]), then the XXH3-64 of all that.
fn encode(files: &Files, heads: &[u8], program: u128, layout: Option<&Layout>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&program.to_le_bytes());
    put_varint(&mut out, files.next_run as u64);
    for runs in [&files.base, &files.delta] {
        put_varint(&mut out, runs.len() as u64);
        for r in runs {
            put_str(&mut out, &r.name);
            put_varint(&mut out, r.len);
        }
    }
    put_varint(&mut out, files.records_len);
    out.extend_from_slice(heads);
    encode_layout(&mut out, layout);
    let sum = xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The heads as `docs` holds them: their number, then each.
fn encode_heads(heads: &[Head]) -> Vec<u8> {
    let mut out = Vec::with_capacity(heads.len() * 64);
    put_varint(&mut out, heads.len() as u64);
    for h in heads {
        if !h.alive {
            out.push(0);
            continue;
        }
        out.push(1);
        out.extend_from_slice(&h.digest.to_le_bytes());
        out.push(h.kind);
        put_varint(
            &mut out,
            h.year
                .map_or(0, |y| (((y as i64) << 1) ^ ((y as i64) >> 63)) as u64 + 1),
        );
        put_str(&mut out, &h.key);
        put_str(&mut out, &h.path);
        out.extend_from_slice(&h.dl.to_bits().to_le_bytes());
        put_varint(&mut out, h.body.0);
        put_varint(&mut out, u64::from(h.body.1));
        put_varint(&mut out, u64::from(h.text_len));
    }
    out
}

/// The layout as `docs` holds it: whether there is one, the BM25 parameters, the number of
/// each slot's document (plus one, 0 for a dead slot), then each leaf.
fn encode_layout(out: &mut Vec<u8>, layout: Option<&Layout>) {
    let Some(l) = layout else {
        out.push(0);
        return;
    };
    out.push(1);
    out.extend_from_slice(&l.n.to_bits().to_le_bytes());
    out.extend_from_slice(&l.avgdl.to_bits().to_le_bytes());
    put_varint(out, l.ords.len() as u64);
    for &o in &l.ords {
        put_varint(out, u64::from(o).wrapping_add(1) & u64::from(u32::MAX));
    }
    put_varint(out, l.leaves.len() as u64);
    for r in &l.leaves {
        out.extend_from_slice(&r.first.to_le_bytes());
        out.extend_from_slice(&r.last.to_le_bytes());
        put_varint(out, u64::from(r.count));
        put_str(out, &r.first_term);
        put_str(out, &r.last_term);
        put_varint(out, r.at);
        out.extend_from_slice(&r.digest.to_le_bytes());
        put_varint(out, u64::from(r.files));
        put_varint(out, r.bytes);
        put_varint(out, r.max);
    }
    let Some(facets) = &l.facets else {
        out.push(0);
        return;
    };
    out.push(1);
    put_varint(out, facets.acc.len() as u64);
    for (field, values) in &facets.acc {
        put_str(out, field);
        put_varint(out, values.len() as u64);
        for (term, (count, spellings)) in values {
            put_str(out, term);
            put_varint(out, *count);
            put_varint(out, spellings.len() as u64);
            for (spelling, n) in spellings {
                put_str(out, spelling);
                put_varint(out, *n);
            }
        }
    }
}

/// The facet counts [`encode_layout`] wrote.
fn decode_facets(c: &mut Cursor) -> std::result::Result<Option<Facets>, Damaged> {
    if c.byte()? == 0 {
        return Ok(None);
    }
    let mut facets = Facets::default();
    for _ in 0..c.varint()? {
        let field = c.str()?.to_string();
        let mut values = std::collections::BTreeMap::new();
        for _ in 0..c.varint()? {
            let term = c.str()?.to_string();
            let count = c.varint()?;
            let mut spellings = std::collections::BTreeMap::new();
            for _ in 0..c.varint()? {
                let spelling = c.str()?.to_string();
                spellings.insert(spelling, c.varint()?);
            }
            values.insert(term, (count, spellings));
        }
        facets.acc.insert(field, values);
    }
    Ok(Some(facets))
}

/// What [`encode_layout`] wrote.
fn decode_layout(c: &mut Cursor) -> std::result::Result<Option<Layout>, Damaged> {
    if c.byte()? == 0 {
        return Ok(None);
    }
    let float = |c: &mut Cursor| -> std::result::Result<f64, Damaged> {
        Ok(f64::from_bits(u64::from_le_bytes(c.array()?)))
    };
    let u32_of = |v: u64| u32::try_from(v).map_err(|_| Damaged);
    let n = float(c)?;
    let avgdl = float(c)?;
    let slots = c.varint()?;
    let mut ords = Vec::new();
    for _ in 0..slots {
        ords.push(u32_of(c.varint()?)?.wrapping_sub(1));
    }
    let count = c.varint()?;
    let mut leaves = Vec::new();
    for _ in 0..count {
        leaves.push(LeafRecord {
            first: u64::from_le_bytes(c.array()?),
            last: u64::from_le_bytes(c.array()?),
            count: u32_of(c.varint()?)?,
            first_term: c.str()?.into(),
            last_term: c.str()?.into(),
            at: c.varint()?,
            digest: u128::from_le_bytes(c.array()?),
            files: u32_of(c.varint()?)?,
            bytes: c.varint()?,
            max: c.varint()?,
        });
    }
    let facets = decode_facets(c)?;
    Ok(Some(Layout {
        n,
        avgdl,
        ords,
        leaves,
        facets,
    }))
}

/// What [`encode`] wrote, if `bytes` are that whole and `program` wrote them.
fn decode(bytes: &[u8], program: u128) -> std::result::Result<Saved, Damaged> {
    let (body, sum) = bytes
        .split_at_checked(bytes.len().wrapping_sub(8))
        .ok_or(Damaged)?;
    if xxh3_64(body).to_le_bytes() != sum || !body.starts_with(MAGIC) {
        return Err(Damaged);
    }
    let body = &body[MAGIC.len()..];
    let (who, body) = body.split_at_checked(16).ok_or(Damaged)?;
    if who != program.to_le_bytes() {
        return Err(Damaged);
    }
    let mut c = Cursor::new(body);
    let num = |c: &mut Cursor| -> std::result::Result<usize, Damaged> {
        usize::try_from(c.varint()?).map_err(|_| Damaged)
    };
    let next_run = num(&mut c)?;
    let runs = |c: &mut Cursor| -> std::result::Result<Vec<RunFile>, Damaged> {
        (0..num(c)?)
            .map(|_| {
                Ok(RunFile {
                    name: c.str()?.to_string(),
                    len: c.varint()?,
                })
            })
            .collect()
    };
    let base = runs(&mut c)?;
    let delta = runs(&mut c)?;
    let records_len = c.varint()?;
    let slots = num(&mut c)?;
    let mut heads = Vec::with_capacity(slots.min(body.len()));
    for _ in 0..slots {
        heads.push(match c.byte()? {
            0 => Head::dead(),
            1 => {
                let digest = u128::from_le_bytes(c.array()?);
                let kind = c.byte()?;
                let year = match c.varint()? {
                    0 => None,
                    z => {
                        let z = z - 1;
                        Some(
                            i32::try_from(((z >> 1) as i64) ^ -((z & 1) as i64))
                                .map_err(|_| Damaged)?,
                        )
                    }
                };
                let key = c.str()?.into();
                let path = c.str()?.into();
                let dl = f64::from_bits(u64::from_le_bytes(c.array()?));
                let at = c.varint()?;
                let len = u32::try_from(c.varint()?).map_err(|_| Damaged)?;
                let text_len = u32::try_from(c.varint()?).map_err(|_| Damaged)?;
                Head {
                    kind,
                    year,
                    key,
                    path,
                    dl,
                    body: (at, len),
                    text_len,
                    digest,
                    alive: true,
                }
            }
            _ => return Err(Damaged),
        });
    }
    let layout = decode_layout(&mut c)?;
    if !c.at_end() {
        return Err(Damaged);
    }
    Ok(Saved {
        files: Files {
            next_run,
            base,
            delta,
            records_len,
        },
        heads,
        layout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(i: u32, year: Option<i32>) -> Head {
        Head {
            kind: (i % 2) as u8,
            year,
            key: format!("LU-{i}").into(),
            path: format!("issues/LU/0/LU-{i}.html").into(),
            dl: 17.5 + f64::from(i),
            body: (u64::from(i) * 1000, i),
            text_len: i * 3,
            digest: u128::from(i) << 70 | 5,
            alive: true,
        }
    }

    fn saved() -> Saved {
        Saved {
            files: Files {
                next_run: 7,
                base: vec![
                    RunFile {
                        name: "run-1".into(),
                        len: 1 << 33,
                    },
                    RunFile {
                        name: "run-2".into(),
                        len: 0,
                    },
                ],
                delta: vec![RunFile {
                    name: "run-6".into(),
                    len: 12,
                }],
                records_len: 99,
            },
            heads: vec![
                head(1, Some(2013)),
                Head::dead(),
                head(3, None),
                head(4, Some(-7)),
                head(5, Some(i32::MIN)),
            ],
            layout: Some(Layout {
                n: 100_352.0,
                avgdl: 123.5,
                ords: vec![0, u32::MAX, 1, 2, 3],
                leaves: vec![LeafRecord {
                    first: 1 << 63,
                    last: 5,
                    count: 300,
                    first_term: "ldlm".into(),
                    last_term: "lock|cancel".into(),
                    at: 1 << 33,
                    digest: u128::MAX - 1,
                    files: 3,
                    bytes: 9_000,
                    max: 6_000,
                }],
                facets: Some(Facets {
                    acc: [(
                        "status".to_string(),
                        [(
                            "status:open".to_string(),
                            (3, [("Open".to_string(), 2), ("open".to_string(), 1)].into()),
                        )]
                        .into(),
                    )]
                    .into(),
                }),
            }),
        }
    }

    fn same(a: &Saved, b: &Saved) -> bool {
        let h = |x: &Head| {
            (
                x.kind,
                x.year,
                x.key.clone(),
                x.path.clone(),
                x.dl.to_bits(),
                x.body,
                x.text_len,
                x.digest,
                x.alive,
            )
        };
        a.files == b.files
            && a.heads.iter().map(h).eq(b.heads.iter().map(h))
            && a.layout == b.layout
    }

    #[test]
    fn docs_read_back_and_damage_is_found() {
        let mut s = saved();
        let bytes = encode(&s.files, &encode_heads(&s.heads), 42, s.layout.as_ref());
        assert!(same(&decode(&bytes, 42).unwrap(), &s));
        // Without a layout (a build whose export did not finish writing one): none read.
        let without = encode(&s.files, &encode_heads(&s.heads), 42, None);
        s.layout = None;
        assert!(same(&decode(&without, 42).unwrap(), &s));
        // Another program's, a byte changed anywhere, cut short: not read.
        assert!(decode(&bytes, 43).is_err());
        for i in [0, MAGIC.len() + 3, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(decode(&bad, 42).is_err(), "byte {i}");
        }
        for len in [0, 5, bytes.len() - 9, bytes.len() - 1] {
            assert!(decode(&bytes[..len], 42).is_err(), "length {len}");
        }
    }

    #[test]
    fn an_index_is_continued_while_its_changes_are_small() {
        let run = |len| RunFile {
            name: "run-1".into(),
            len,
        };
        let with = |base: Vec<RunFile>, delta: Vec<RunFile>, live: u32, dead: usize| Saved {
            files: Files {
                next_run: 3,
                base,
                delta,
                records_len: 0,
            },
            heads: (0..live)
                .map(|i| head(i, None))
                .chain((0..dead).map(|_| Head::dead()))
                .collect(),
            layout: None,
        };
        assert!(worth_continuing(&with(vec![run(100)], vec![run(25)], 8, 2)));
        // A quarter of the live slots dead, or a delta past a quarter of the base: again.
        assert!(!worth_continuing(&with(vec![run(100)], vec![], 8, 3)));
        assert!(!worth_continuing(&with(
            vec![run(100)],
            vec![run(26)],
            8,
            0
        )));
        // No base run: not a `docs` this module writes.
        assert!(!worth_continuing(&with(vec![], vec![], 8, 0)));
    }

    #[test]
    fn digests_see_every_field() {
        let d = SearchDoc {
            kind: super::super::DocKind::Issue,
            key: "LU-1".into(),
            title: "t".into(),
            status: Some("Open".into()),
            project: None,
            issue_type: None,
            components: vec!["a".into()],
            fix_versions: vec![],
            versions: vec![],
            labels: vec![],
            year: Some(2012),
            path: "p".into(),
            body: vec!["x".into(), "y".into()],
        };
        let base = digest(&d);
        let changes: [fn(&mut SearchDoc); 9] = [
            |d| d.kind = super::super::DocKind::Commit,
            |d| d.title.push('!'),
            |d| d.status = None,
            |d| d.project = Some("none".into()),
            |d| d.components.clear(),
            // Moving a value from one list to the next is a change.
            |d| d.fix_versions = d.components.drain(..).collect(),
            |d| d.year = Some(2013),
            |d| d.body = vec!["xy".into()],
            |d| d.body.push(String::new()),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut e = d.clone();
            change(&mut e);
            assert_ne!(digest(&e), base, "change {i}");
        }
        assert_eq!(digest(&d.clone()), base);
    }

    #[test]
    fn kept_documents_are_found_once_by_path_and_digest() {
        let heads = vec![head(1, None), Head::dead(), head(3, None)];
        let kept = Kept::new(&heads);
        assert!(!kept.unchanged("issues/LU/0/LU-1.html", 999));
        assert!(kept.unchanged("issues/LU/0/LU-1.html", heads[0].digest));
        assert!(!kept.unchanged("issues/LU/0/LU-1.html", heads[0].digest));
        assert!(!kept.unchanged("issues/LU/0/LU-2.html", 0));
        assert!(kept.seen(0) && !kept.seen(1) && !kept.seen(2));
    }
}
