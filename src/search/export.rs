//! The static index: the in-memory index ([`super::index`]) written as plain scripts under
//! `search/`, each calling
//! `hindsightSearch.load(id, data)`, so a browser loads them with `<script src>` over `file://`
//! as well as over HTTP.
//!
//! # Format (version 3)
//!
//! Numbers are written as base64 VLQ (`A-Za-z0-9+/`, 5 bits per character, the sixth bit
//! says "more follows", least significant group first). Documents are numbered in a fixed order
//! (by year, then issues by key before commits by hash), independent of input order and of the
//! batches the index was built in.
//!
//! * `root.js` (id `root`): `{v, n, g, fb, lnmin, step, w, h, t, c}`: format version, number
//!   of documents, documents per document shard, log2 of documents per filter block, the
//!   impact scale (impact `q` stands for the BM25 score `exp(lnmin + q * step)`; `w[q]` is
//!   that score as the readers add it, a whole number proportional to it), the height of the
//!   term tree, and its top level: the separators `t` and the names `c` of the nodes (the
//!   leaves, at height 0) they lead to. BM25 takes the number of documents and their average
//!   length rounded up to a few significant bits, so that a nightly's changes leave them, and
//!   every impact, where they were.
//! * `n/<name>.js` (id `n/<name>`): a node of the term tree: `[separators, names]` of its
//!   children (nodes one level down, or leaves).
//! * `l/<name>.js`: a leaf: `[suffixes, meta]`, its terms in code point order,
//!   front-coded. `meta` holds per term: shared prefix length and suffix length (UTF-16 units),
//!   document frequency, then the length of the term's first chunk of postings and that
//!   chunk, then the number of further chunks `e` and, when `e > 0`, the number of the file
//!   of the second chunk (the others follow, one file each). File `k` of leaf `<name>` is
//!   `l/<name>-<k>.js`. Leaves and nodes are cut where their terms' hashes say and named
//!   after their first entry ([`super::dict`]), so a change of a few terms changes a few
//!   files.
//! * The leaf's postings files: `[chunk]`, one later chunk of a term's postings. Postings
//!   chunks of word terms: postings ordered by impact, best first, as segments `q` (one character, 0..63), count, first document, then gaps minus one.
//!   Phrase pairs (`"lock cancel`: two atoms next to each other, see
//!   [`super::tokenize::pair_term`]) are word terms too, scored by BM25 as words are; they sort
//!   before every word. A quoted phrase is matched by the documents that hold all its pairs.
//!   Filter terms (`status:open`, `key:lu-1234`, everything with a `:`): one chunk per block of
//!   `2^fb` documents that has any, in document order: the block number, then either `l` and
//!   gaps (the first from the block start, the next minus one), or `b` and a bitmap, six
//!   documents per character.
//! * `d/<i/1000>/<i%1000>.js`: records of documents `i*g .. i*g+g-1`:
//!   `[kind, key, title, path, status, type, year, x, more, cut]`, `x` the text shard of the
//!   document, `more` its components and labels (which are searched with the text), `cut` 1
//!   when its text was cut to [`super::index::TEXT_MAX_BYTES`]; `more` and `cut` are left
//!   out when empty. A quoted phrase of three words or more is checked against the key, the
//!   title, the text and `more` of each result before it is listed (its pairs only narrow the
//!   candidates), unless the text was cut.
//! * `x/<i/1000>/<i%1000>.js`: text shard `i`: `[first, text, text, …]`, the texts
//!   ([`super::index::search_text`]: description, environment, comments or commit message, what
//!   the pages publish) of documents `first, first+1, …`, packed up to [`TEXT_PACK`] bytes (a
//!   longer text is alone in its shard). The page loads the shards of the results it shows and
//!   cuts each snippet from the passage where the query's words are.
//! * `facets.js`: per filter field the values as written, with their counts.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::Xxh3;

use super::dict::{self, leaf_file, Cutter, Layout, LeafJob, LeafRecord, LeafWriter};
use super::index::{is_filter, Head, Index, Meta};
use super::spill::{damaged, Damaged, Encoded, Merge, Posting, Run, RunStretch};
use super::{err, SearchReport};
use crate::error::Result;
use crate::keys::natural_cmp;
use crate::render::PageSink;

/// Format version, in `root.js`.
pub const FORMAT: u32 = 3;
/// Texts of consecutive documents share a text shard until it holds this many bytes.
pub const TEXT_PACK: usize = 8_000;
/// Documents per document shard.
pub const DOCS_PER_SHARD: usize = 8;
/// log2 of documents per filter block.
pub const FILTER_BLOCK_BITS: u32 = 16;
/// Characters of the first chunk of a word's postings; each next chunk doubles, up to
/// [`CHUNK_MAX`].
pub const CHUNK0: usize = 2_000;
/// Largest later chunk.
pub const CHUNK_MAX: usize = 48_000;
/// Impact levels are 0..=QMAX.
const QMAX: u32 = 63;
/// Scores below `max / SCORE_RANGE` share the lowest impact.
const SCORE_RANGE: f64 = 4000.0;
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// Significant bits of the document count and of the average length BM25 is computed with
/// ([`dict::sticky`]): a nightly's few changed or added documents mostly leave both, and so
/// every impact, where they were.
const N_BITS: i32 = 5;
const AVGDL_BITS: i32 = 6;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn vlq(out: &mut String, mut v: u64) {
    loop {
        let d = (v & 31) as usize;
        v >>= 5;
        if v > 0 {
            out.push(B64[d | 32] as char);
        } else {
            out.push(B64[d] as char);
            break;
        }
    }
}

fn bucket(prefix: &str, i: usize) -> String {
    format!("{prefix}/{}/{}", i / 1000, i % 1000)
}

fn script(id: &str, data: &str) -> Vec<u8> {
    format!("hindsightSearch.load({},{});\n", json(id), data).into_bytes()
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("strings and numbers serialize")
}

struct Out<'a> {
    sink: &'a dyn PageSink,
    report: SearchReport,
}

impl Out<'_> {
    fn put(&mut self, id: &str, data: &str) -> Result<()> {
        self.put_made_from(id, None, data)
    }

    /// [`put`](Self::put) for a file made from inputs with the digest `made_from`, which a
    /// later build may [`keep`](Self::keep) it by.
    fn put_made_from(&mut self, id: &str, made_from: Option<u128>, data: &str) -> Result<()> {
        let bytes = script(id, data);
        let len = bytes.len() as u64;
        self.count(1, len, len);
        if id == "root" {
            self.report.root_bytes = bytes.len() as u64;
        }
        let path = format!("search/{id}.js");
        match made_from {
            Some(made_from) => self.sink.put_made_from(&path, made_from, &bytes),
            None => self.sink.put(&path, &bytes),
        }
    }

    /// Keeps the published file `id` when it was made from inputs with the digest
    /// `made_from`, counting it as written.
    fn keep(&mut self, id: &str, made_from: Option<u128>) -> Result<bool> {
        let Some(made_from) = made_from else {
            return Ok(false);
        };
        match self
            .sink
            .keep_sized(&format!("search/{id}.js"), made_from)?
        {
            Some(size) => {
                self.count(1, size, size);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Counts `files` files of `bytes` in all, the largest of `max`, into the report.
    fn count(&mut self, files: u64, bytes: u64, max: u64) {
        self.report.files += files;
        self.report.bytes += bytes;
        self.report.max_file_bytes = self.report.max_file_bytes.max(max);
    }
}

/// Impact quantization: BM25 score to 0..=QMAX on a log scale.
struct Scale {
    lnmin: f64,
    step: f64,
}

impl Scale {
    fn new(n: f64) -> Scale {
        let smax = idf(n, 1) * (K1 + 1.0);
        let lnmax = smax.ln();
        let lnmin = lnmax - SCORE_RANGE.ln();
        // Rounded so that root.js prints exactly what is used.
        let lnmin = (lnmin * 1e6).round() / 1e6;
        let step = (((lnmax - lnmin) / QMAX as f64) * 1e6).round() / 1e6;
        Scale { lnmin, step }
    }
    /// The score each impact level stands for, as whole numbers both readers add up exactly:
    /// `exp(q * step)` in thousandths (the common factor `exp(lnmin)` changes no order). Level
    /// 64 is the bound of a term none of whose postings were read.
    fn weights(&self) -> Vec<u64> {
        (0..=QMAX + 1)
            .map(|q| ((q as f64 * self.step).exp() * 1000.0).round() as u64)
            .collect()
    }

    fn q(&self, s: f64) -> u32 {
        if s <= 0.0 {
            return 0;
        }
        let q = ((s.ln() - self.lnmin) / self.step).round();
        q.clamp(0.0, QMAX as f64) as u32
    }
}

fn idf(n: f64, df: u64) -> f64 {
    let df = df as f64;
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// By year (documents without one first), then issues by key (numbers compared as numbers)
/// before commits by key; the path breaks ties (two documents never share a page). A
/// nightly's new issues and commits are of the current year, so they are numbered among the
/// last: the documents of earlier years keep their numbers, and the dictionary's leaves that
/// hold only those are kept ([`super::dict`]).
fn doc_order(a: &Head, b: &Head) -> std::cmp::Ordering {
    a.year
        .cmp(&b.year)
        .then(a.kind.cmp(&b.kind))
        .then_with(|| natural_cmp(&a.key, &b.key))
        .then_with(|| a.path.cmp(&b.path))
}

/// Writes the static index of `index` through `sink`.
pub(crate) fn export(
    mut index: Index,
    sink: &dyn PageSink,
    options: &super::Options,
) -> Result<SearchReport> {
    let slots = index.heads.len();
    u32::try_from(slots).map_err(|_| err("more than 4 billion documents"))?;
    let mut out = Out {
        sink,
        report: SearchReport::default(),
    };

    // Documents (the live slots): their order.
    let heads = &index.heads;
    let mut by_ord: Vec<u32> = (0..slots as u32)
        .filter(|&s| heads[s as usize].alive)
        .collect();
    let n = by_ord.len();
    by_ord.par_sort_by(|&a, &b| doc_order(&heads[a as usize], &heads[b as usize]));
    let mut ord_of = vec![DEAD; slots];
    for (o, &d) in by_ord.iter().enumerate() {
        ord_of[d as usize] = o as u32;
    }
    out.report.docs = n as u64;

    // Records, eight documents per shard, and texts, packed, in document order. A shard
    // whose documents (and, for records, their text shards) are those the last build wrote it
    // with is kept by its digest without them being read: texts are packed by their lengths,
    // which the heads hold. The others' documents are read once, for both.
    let program = index.kept_by();
    let packs = text_packs(by_ord.iter().map(|&g| heads[g as usize].text_len as usize));
    let mut x_of = vec![0u32; n];
    for (p, range) in packs.iter().enumerate() {
        x_of[range.clone()].fill(p as u32);
    }
    let mut pack_digests = Vec::with_capacity(packs.len());
    let mut make_pack = Vec::with_capacity(packs.len());
    for (p, range) in packs.iter().enumerate() {
        let docs = &by_ord[range.clone()];
        let digest =
            program.map(|program| shard_digest(program, "x", range.start, docs, heads, &[]));
        make_pack.push(!out.keep(&bucket("x", p), digest)?);
        pack_digests.push(digest);
    }
    let shards = by_ord.chunks(DOCS_PER_SHARD).count();
    let mut shard_digests = Vec::with_capacity(shards);
    let mut make_shard = Vec::with_capacity(shards);
    for (s, docs) in by_ord.chunks(DOCS_PER_SHARD).enumerate() {
        let first = s * DOCS_PER_SHARD;
        let xs = &x_of[first..first + docs.len()];
        let digest = program.map(|program| shard_digest(program, "d", first, docs, heads, xs));
        make_shard.push(!out.keep(&bucket("d", s), digest)?);
        shard_digests.push(digest);
    }
    // The facets: the last build's counts, without the documents gone since and with those
    // come since, when the index was continued; else every document's, counted as they are
    // read here.
    let facets = index.layout.as_ref().and_then(|l| l.facets.clone());
    let count_all = facets.is_none();
    let mut counted = Facets::default();
    let mut buf = Vec::new();
    let mut pack = String::new();
    let mut recs: Vec<serde_json::Value> = Vec::with_capacity(DOCS_PER_SHARD);
    for (o, &g) in by_ord.iter().enumerate() {
        let (p, s) = (x_of[o] as usize, o / DOCS_PER_SHARD);
        if !(make_pack[p] || make_shard[s] || count_all) {
            continue;
        }
        let (m, text) = index.body(&heads[g as usize], &mut buf)?;
        if count_all {
            counted.add(&m);
        }
        if make_pack[p] {
            if pack.is_empty() {
                pack = format!("[{o}");
            }
            pack.push(',');
            pack.push_str(&json(&text));
            if o + 1 == packs[p].end {
                pack.push(']');
                out.put_made_from(&bucket("x", p), pack_digests[p], &pack)?;
                pack.clear();
            }
        }
        if make_shard[s] {
            let mut rec = serde_json::json!([
                m.kind, m.key, m.title, m.path, m.status, m.itype, m.year, x_of[o]
            ]);
            // What a phrase may stand in beyond the title and the text: the components and
            // labels (indexed with the body), and whether the text was cut.
            let more: Vec<&String> = m.components.iter().chain(&m.labels).collect();
            if !more.is_empty() || m.cut {
                let a = rec.as_array_mut().expect("a record is an array");
                a.push(serde_json::json!(more));
                if m.cut {
                    a.push(serde_json::json!(1));
                }
            }
            recs.push(rec);
            if o + 1 == n || (o + 1) % DOCS_PER_SHARD == 0 {
                out.put_made_from(&bucket("d", s), shard_digests[s], &json(&recs))?;
                recs.clear();
            }
        }
    }
    drop(x_of);
    let facets = match facets {
        Some(mut facets) => {
            let last_ords = index.layout.as_ref().map_or(&[][..], |l| &l.ords[..]);
            for (slot, head) in heads.iter().enumerate() {
                let was = last_ords.get(slot).is_some_and(|&o| o != DEAD);
                if was != head.alive {
                    let (m, _) = index.body(head, &mut buf)?;
                    match head.alive {
                        true => facets.add(&m),
                        false => facets.sub(&m),
                    }
                }
            }
            facets
        }
        None => counted,
    };
    facets.write(&mut out)?;

    // Document lengths (BM25F: the title weighs TITLE_WEIGHT), summed in document order; their
    // average as BM25 takes it (sticky).
    let heads = &index.heads;
    let avgdl = if n == 0 {
        1.0
    } else {
        (by_ord.iter().map(|&g| heads[g as usize].dl).sum::<f64>() / n as f64).max(1.0)
    };
    let avgdl = dict::sticky(avgdl, AVGDL_BITS);

    // Per slot, what its postings need: its number in the document order ([`DEAD`] for a dead
    // slot, whose postings are skipped), and BM25's length normalisation
    // `K1 * (1 - B + B * dl / avgdl)`.
    let at: Vec<(u32, f64)> = heads
        .iter()
        .zip(&ord_of)
        .map(|(d, &o)| (o, K1 * (1.0 - B + B * d.dl / avgdl)))
        .collect();
    drop(by_ord);
    drop(ord_of);
    out.report.spilled_runs = index.spilled_runs();
    out.report.analysed = index.analysed();
    let last = index.layout.take();
    let left = std::mem::take(&mut index.left);
    let mut kept = index.prepare_kept()?;
    let run_paths = index.run_paths();
    let mut terms = index.terms()?;
    index.heads = Vec::new();
    let n_sticky = dict::sticky(n as f64, N_BITS);
    let scale = Scale::new(n_sticky);

    // What the last build's leaves may be kept by: its BM25 parameters were these, and the
    // terms with postings in a slot whose document's number is not what it was then (a new,
    // changed or gone document, or one the documents before it moved) are weighed again
    // against how the last build encoded them ([`Changed::term`]).
    let last = last
        .filter(|l| l.n.to_bits() == n_sticky.to_bits() && l.avgdl.to_bits() == avgdl.to_bits());
    let last_ords: Option<Vec<u32>> = last.as_ref().map(|l| {
        (0..at.len())
            .map(|slot| l.ords.get(slot).copied().unwrap_or(DEAD))
            .collect()
    });
    // The last build's leaves none of whose terms may have changed are skipped unread when
    // every document that stayed kept its number: a leaf's terms then have the postings they
    // had, and it is cut as it was ([`Skip`]).
    let changed_terms = index.changed.take();
    let last_leaves: Vec<LeafRecord> = last.map(|l| l.leaves).unwrap_or_default();
    let numbers_stayed = last_ords.as_deref().is_some_and(|last| {
        last.iter()
            .zip(&at)
            .all(|(&was, &(now, _))| was == DEAD || now == DEAD || was == now)
    });
    let changed = last_ords.as_deref().map(|last| Changed {
        last,
        left: &left,
        n: n_sticky,
        scale: &scale,
    });
    let mut skip = match (&changed_terms, &kept, changed) {
        (Some(terms), Some(pending), Some(c)) if numbers_stayed && !pending.tees() => Some(Skip {
            leaves: &last_leaves,
            changed: terms,
            probed: probe(&last_leaves, terms, &run_paths, c, &at)?,
            probed_kept: 0,
            sink,
        }),
        _ => None,
    }
    .filter(Skip::worth_it);
    let before: FxHashMap<u64, &LeafRecord> = last_leaves.iter().map(|r| (r.first, r)).collect();
    let (slots, norms) = slots_by_norm(&at);
    let made = Maker {
        at: &at,
        slots: &slots,
        norms: &norms,
        live: n,
        n: n_sticky,
        scale: &scale,
        before: &before,
        sink,
    };

    // The dictionary, in code point order: the terms cut into leaves as they stream, each
    // batch of leaves kept or encoded on every core while the next is gathered.
    let mut cutter = Cutter::default();
    let mut level: Vec<(String, String)> = Vec::new();
    let mut leaves: Vec<LeafRecord> = Vec::new();
    let mut ready: Vec<LeafJob> = Vec::new();
    let mut compare = Compare::default();
    // The runs are read and merged on a thread of their own, a batch of terms ahead: the
    // merge is most of what gathering costs, and a rebuild makes few leaves, so the cores are
    // otherwise free.
    // When leaves are skipped, the terms are read on this thread, which seeks past them.
    std::thread::scope(|scope| -> Result<()> {
        let mut terms = match skip {
            Some(_) => Incoming::Direct(terms),
            None => {
                let (tx, rx) = std::sync::mpsc::sync_channel(2);
                scope.spawn(move || read_ahead(&mut terms, tx));
                Incoming::Ahead {
                    rx,
                    batch: Vec::new().into_iter(),
                }
            }
        };
        loop {
            let jobs = std::mem::take(&mut ready);
            let (next, done) = rayon::join(
                || {
                    gather(
                        &mut terms,
                        &mut kept,
                        &mut cutter,
                        changed,
                        skip.as_mut(),
                        &at,
                        &mut compare,
                    )
                },
                || {
                    jobs.into_par_iter()
                        .map_init(Scratch::default, |scratch, job| made.leaf(job, scratch))
                        .collect::<Result<Vec<_>>>()
                },
            );
            for leaf in done? {
                let r = leaf.record;
                out.report.terms += u64::from(r.count);
                out.count(u64::from(r.files), r.bytes, r.max);
                out.report.leaves += 1;
                out.report.leaves_kept += u64::from(leaf.kept);
                out.report.leaves_unread += u64::from(leaf.unread);
                level.push((leaf.sep, leaf.name));
                leaves.push(r);
            }
            let (jobs, more) = next?;
            if jobs.is_empty() && !more {
                break;
            }
            ready = jobs;
        }
        Ok(())
    })?;
    out.report.leaves_probed = skip.as_ref().map_or(0, |s| s.probed_kept);
    if level.is_empty() {
        // An empty index still has one (empty) leaf, so the client needs no special case.
        out.put(&leaf_file(EMPTY_LEAF, 0), "[\"\",\"\"]")?;
        level.push((String::new(), EMPTY_LEAF.to_string()));
    }

    // The term tree, bottom up, until the top level fits in the root.
    let (h, top) = dict::tree(level, &mut |id, data| out.put(id, data))?;
    let (seps, names): (Vec<String>, Vec<String>) = top.into_iter().unzip();
    let root = format!(
        "{{\"v\":{FORMAT},\"n\":{n},\"g\":{DOCS_PER_SHARD},\"fb\":{FILTER_BLOCK_BITS},\"lnmin\":{:.6},\"step\":{:.6},\"w\":{},\"h\":{h},\"t\":{},\"c\":{}{}}}",
        scale.lnmin,
        scale.step,
        json(&scale.weights()),
        json(&seps),
        json(&names),
        match &options.bug_prefix {
            Some(p) => format!(",\"bz\":{}", json(&super::tokenize::fold(p))),
            None => String::new(),
        }
    );
    out.put("root", &root)?;

    if let Some(kept) = kept {
        kept.commit(&Layout {
            n: n_sticky,
            avgdl,
            ords: at.iter().map(|&(ord, _)| ord).collect(),
            leaves,
            facets: Some(facets),
        })?;
    }
    Ok(out.report)
}

/// The name of the one leaf of an index without terms.
const EMPTY_LEAF: &str = "empty";

/// Terms gathered before the leaves they fill are made, at most (and at most this many
/// postings numbers), so that memory stays bounded while leaves are made on every core.
const TERM_BATCH: usize = 8192;
const POSTINGS_BATCH: usize = 1 << 22;

/// What changed since the last build's dictionary: per slot, its document's number then (a
/// slot whose number is another now changed); the terms that lost postings of a document that changed or went,
/// which the kept index dropped before the export could see them ([`Index::left`]); and the
/// BM25 parameters both builds share, by which a term's postings are weighed.
#[derive(Clone, Copy)]
struct Changed<'a> {
    last: &'a [u32],
    left: &'a super::index::Left,
    n: f64,
    scale: &'a Scale,
}

/// Room for [`Changed::term`] to compare a term's changed postings in, reused term after term.
#[derive(Default)]
struct Compare {
    was: Vec<u64>,
    now: Vec<u64>,
}

impl Changed<'_> {
    /// Whether the document number of `slot` is not the last build's.
    fn changed(&self, slot: usize, at: &[(u32, f64)]) -> bool {
        self.last[slot] != at[slot].0
    }

    /// Whether the term with `postings` (of `df` live documents) encodes differently from the
    /// last build: its postings in slots whose number did not change encode as they did, so
    /// only those of the others are compared, as the last build numbered and weighed them
    /// against as this one does. A changed document's new slot holds its new postings and its
    /// old slot (dead now) its old ones, with its old length; the same number and impact
    /// level in both is the same posting. The old postings the kept delta dropped come from
    /// [`Changed::left`]; a term whose dropped postings were not held is changed.
    fn term(
        &self,
        name: &str,
        postings: &[u32],
        df: u64,
        at: &[(u32, f64)],
        c: &mut Compare,
    ) -> bool {
        let Some(dropped) = self.left.of(name) else {
            return true;
        };
        let filter = is_filter(name);
        let step = if filter { 1 } else { 2 };
        c.was.clear();
        c.now.clear();
        // The impact level is computed only once the document frequency is known to be the
        // last build's: the postings are gathered first as (tf, slot).
        for p in postings
            .chunks_exact(step)
            .chain(dropped.chunks_exact(step))
        {
            let slot = p[0] as usize;
            if !self.changed(slot, at) {
                continue;
            }
            let tf = if filter { 0 } else { p[1] };
            let pair = u64::from(tf) << 32 | slot as u64;
            if self.last[slot] != DEAD {
                c.was.push(pair);
            }
            if at[slot].0 != DEAD {
                c.now.push(pair);
            }
        }
        if c.was.len() != c.now.len() {
            // Another document frequency.
            return true;
        }
        if c.was.is_empty() {
            return false;
        }
        // The same document frequency, so the same idf: each posting as its number and level.
        let idf = idf(self.n, df);
        let key = |pair: u64, ord: u32| {
            let (tf, slot) = ((pair >> 32) as u32, pair as u32 as usize);
            let q = if filter {
                0
            } else {
                let tf = f64::from(tf);
                self.scale.q(idf * tf * (K1 + 1.0) / (tf + at[slot].1))
            };
            u64::from(ord) << 32 | u64::from(q)
        };
        for p in c.was.iter_mut() {
            *p = key(*p, self.last[*p as u32 as usize]);
        }
        for p in c.now.iter_mut() {
            *p = key(*p, at[*p as u32 as usize].0);
        }
        c.was.sort_unstable();
        c.now.sort_unstable();
        c.was != c.now
    }
}

/// Terms read ahead, at most (and at most this many postings numbers), per batch handed from
/// the thread that merges the runs to the one that gathers leaves.
const READ_BATCH: usize = 4096;
const READ_POSTINGS: usize = 1 << 20;

/// Merges the runs into batches of terms for [`Incoming`], until the last term or an error
/// (sent too), or until the gathering side hangs up.
fn read_ahead(terms: &mut Merge, tx: std::sync::mpsc::SyncSender<Result<Vec<(Posting, u64)>>>) {
    loop {
        let (mut batch, mut volume) = (Vec::with_capacity(READ_BATCH), 0);
        let mut end = false;
        while batch.len() < READ_BATCH && volume < READ_POSTINGS {
            match terms.next_term_at() {
                Ok(Some(term)) => {
                    volume += term.0 .1.len();
                    batch.push(term);
                }
                Ok(None) => {
                    end = true;
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if tx.send(Ok(batch)).is_err() || end {
            return;
        }
    }
}

/// The merged terms, each with where the base run's first term not before it starts
/// ([`Merge::next_term_at`]): as [`read_ahead`] hands them over, or from the merge itself.
enum Incoming {
    Ahead {
        rx: std::sync::mpsc::Receiver<Result<Vec<(Posting, u64)>>>,
        batch: std::vec::IntoIter<(Posting, u64)>,
    },
    Direct(Merge),
}

impl Incoming {
    /// The next term and its postings, and its place; `None` after the last.
    fn next_term(&mut self) -> Result<Option<(Posting, u64)>> {
        let (rx, batch) = match self {
            Incoming::Direct(merge) => return merge.next_term_at(),
            Incoming::Ahead { rx, batch } => (rx, batch),
        };
        loop {
            if let Some(term) = batch.next() {
                return Ok(Some(term));
            }
            match rx.recv() {
                Ok(b) => *batch = b?.into_iter(),
                // The reader ended: after the last batch (or its error, already received).
                Err(_) => return Ok(None),
            }
        }
    }
}

/// The last build's leaves, skipped unread where none of their terms may have changed: the
/// terms from a leaf's first to the next leaf's first are those of the last build, with the
/// postings they had, when none of the terms that may have changed ([`Index::changed`]) is
/// among them and every document that stayed kept its number. Such a leaf, reached with the
/// cutter clear ([`Cutter::is_clear`]), is cut as it was and encodes as it did: its files are
/// kept as published and the merge seeks past its terms in the base run.
struct Skip<'a> {
    /// The last build's leaves, in order.
    leaves: &'a [LeafRecord],
    /// The terms that may have changed, in code point order.
    changed: &'a [Box<str>],
    /// Per leaf, whether it holds some of those terms but each of them encodes as it did
    /// ([`probe`]).
    probed: Vec<bool>,
    /// How many of those were kept.
    probed_kept: u64,
    sink: &'a dyn PageSink,
}

impl Skip<'_> {
    /// Whether enough leaves are clean for skipping to pay: a quarter. Skipping reads the runs
    /// on the thread that cuts leaves; when the changed terms reach most leaves, reading them
    /// a batch ahead on a thread of their own is faster (a 100,000-issue rebuild with 1,000
    /// summaries changed, whose changed terms left 4.5% of the leaves clean: search 7.1 and
    /// 7.8 s skipping, 6.4 and 5.7 s reading ahead).
    fn worth_it(&self) -> bool {
        let clean = (0..self.leaves.len()).filter(|&i| self.clean(i)).count();
        clean * 4 >= self.leaves.len()
    }

    /// Whether leaf `i` holds none of the terms that may have changed, or none that did.
    fn clean(&self, i: usize) -> bool {
        if self.probed[i] {
            return true;
        }
        let first = &*self.leaves[i].first_term;
        let next = self.changed.partition_point(|t| **t < *first);
        match (self.changed.get(next), self.leaves.get(i + 1)) {
            (None, _) => true,
            (Some(t), Some(after)) => **t >= *after.first_term,
            (Some(_), None) => false,
        }
    }

    /// Keeps the files of leaf `i` as the last build published them under `name`, all or
    /// none; whether it did.
    fn keep(&self, i: usize, name: &str) -> Result<bool> {
        let r = &self.leaves[i];
        let paths: Vec<String> = (0..r.files as usize)
            .map(|k| format!("search/{}.js", leaf_file(name, k)))
            .collect();
        let files: Vec<(&str, u128)> = (paths.iter().enumerate())
            .map(|(k, p)| (p.as_str(), LeafRecord::made_from(r.digest, k)))
            .collect();
        self.sink.keep_together(&files)
    }

    /// With the cutter clear and the term `name` next: the last build's leaves from the one
    /// that starts with `name`, as long as each is clean and kept, taken into `jobs`; then
    /// where to go on (`Some(None)`: past the last term). `None` when no leaf was skipped.
    fn from(
        &mut self,
        name: &str,
        cutter: &mut Cutter,
        jobs: &mut Vec<LeafJob>,
    ) -> Result<Option<Option<&LeafRecord>>> {
        let Ok(mut i) = self.leaves.binary_search_by(|r| (*r.first_term).cmp(name)) else {
            return Ok(None);
        };
        let start = i;
        while i < self.leaves.len() && self.clean(i) {
            let r = &self.leaves[i];
            if !self.keep(i, &cutter.next_name(&r.first_term))? {
                break;
            }
            jobs.push(cutter.keep(r));
            self.probed_kept += u64::from(self.probed[i]);
            i += 1;
        }
        Ok((i > start).then(|| self.leaves.get(i)))
    }
}

/// Which of the last build's leaves hold terms that may have changed ([`Index::changed`]) but
/// none that encodes differently now ([`Changed::term`]). Only those terms' postings are
/// decoded: from the stretch of the base run (`runs[0]`) the leaf was cut from (its records
/// from the leaf's place, [`LeafRecord::at`], to the next leaf's), and from the later runs
/// (the kept delta, small). So a leaf that merely shares words with a changed document is
/// kept unread like a leaf that shares none: a document edited a little keeps its length's
/// bucket, or moves its words' impacts too little for most of them to change level. Leaves
/// are probed on every core; one that holds none of the terms is `false` here (it is clean
/// anyway).
fn probe(
    leaves: &[LeafRecord],
    terms: &[Box<str>],
    runs: &[std::path::PathBuf],
    changed: Changed,
    at: &[(u32, f64)],
) -> Result<Vec<bool>> {
    let Some((base, later)) = runs.split_first() else {
        return Ok(vec![false; leaves.len()]);
    };
    let mut delta: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    if !later.is_empty() {
        let runs = later
            .iter()
            .map(|p| Run::open(p))
            .collect::<Result<Vec<_>>>()?;
        let mut merge = Merge::new(runs, Vec::new())?;
        while let Some((name, postings)) = merge.next_term()? {
            if let Ok(i) = terms.binary_search_by(|t| (**t).cmp(&*name)) {
                delta.insert(&terms[i], postings);
            }
        }
    }
    let file = std::fs::File::open(base).map_err(|e| crate::error::Error::io(base, e))?;
    let end = file
        .metadata()
        .map_err(|e| crate::error::Error::io(base, e))?
        .len();
    // Whether term `name`, with the base run's postings `encoded`, encodes differently.
    let differs = |name: &str,
                   encoded: Option<Encoded>,
                   postings: &mut Vec<u32>,
                   compare: &mut Compare|
     -> Result<bool> {
        postings.clear();
        if let Some(e) = encoded {
            e.decode_into(postings).map_err(|Damaged| damaged(base))?;
        }
        if let Some(d) = delta.get(name) {
            postings.extend_from_slice(d);
        }
        let step = if is_filter(name) { 1 } else { 2 };
        let df = postings
            .iter()
            .step_by(step)
            .filter(|&&slot| at.get(slot as usize).is_some_and(|a| a.0 != DEAD))
            .count() as u64;
        Ok(changed.term(name, postings, df, at, compare))
    };
    (0..leaves.len())
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Compare::default()),
            |(buf, postings, compare), i| -> Result<bool> {
                let leaf = &leaves[i];
                let next = leaves.get(i + 1);
                let lo = terms.partition_point(|t| **t < *leaf.first_term);
                let hi = next.map_or(terms.len(), |n| {
                    terms.partition_point(|t| **t < *n.first_term)
                });
                let to = next.map_or(end, |n| n.at);
                if lo == hi || to < leaf.at {
                    return Ok(false);
                }
                let stretch = RunStretch::read(&file, base, leaf.at, to, std::mem::take(buf))?;
                let mut mine = terms[lo..hi].iter().peekable();
                let mut dirty = false;
                stretch.each(base, |name, encoded| {
                    while let Some(t) = mine.next_if(|t| t.as_bytes() < name) {
                        dirty = dirty || differs(t, None, postings, compare)?;
                    }
                    if let Some(t) = mine.next_if(|t| t.as_bytes() == name) {
                        dirty = dirty || differs(t, Some(encoded), postings, compare)?;
                    }
                    Ok(!dirty && mine.peek().is_some())
                })?;
                for t in mine {
                    dirty = dirty || differs(t, None, postings, compare)?;
                }
                *buf = stretch.into_buf();
                Ok(!dirty)
            },
        )
        .collect()
}

/// Gathers the next batch of leaves from the stream of terms (every term is also written to
/// the kept index's base run when it starts one); false once the stream ended.
///
/// A term none of whose postings is alive is not in the index; when such a term changed (a
/// slot of it changed), it left the leaf it was in.
#[allow(clippy::too_many_arguments)]
fn gather(
    terms: &mut Incoming,
    kept: &mut Option<super::state::Pending>,
    cutter: &mut Cutter,
    changed: Option<Changed>,
    mut skip: Option<&mut Skip>,
    at: &[(u32, f64)],
    compare: &mut Compare,
) -> Result<(Vec<LeafJob>, bool)> {
    let mut jobs = Vec::new();
    let (mut count, mut volume) = (0, 0);
    while count < TERM_BATCH && volume < POSTINGS_BATCH {
        let Some(((name, postings), mut base_at)) = terms.next_term()? else {
            jobs.extend(cutter.finish());
            return Ok((jobs, false));
        };
        if let (Some(skip), Incoming::Direct(merge)) = (skip.as_deref_mut(), &mut *terms) {
            if cutter.is_clear() {
                if let Some(next) = skip.from(&name, cutter, &mut jobs)? {
                    match next {
                        Some(r) => merge.skip_to(&r.first_term, r.at)?,
                        None => {
                            merge.skip_rest();
                            return Ok((jobs, false));
                        }
                    }
                    continue;
                }
            }
        }
        if let Some(kept) = kept.as_mut() {
            if let Some(p) = kept.tee_position() {
                base_at = p;
            }
            kept.tee(&name, &postings)?;
        }
        let step = if is_filter(&name) { 1 } else { 2 };
        let mut df = 0u64;
        let mut touched = false;
        for &slot in postings.iter().step_by(step) {
            df += u64::from(at[slot as usize].0 != DEAD);
            touched |= changed.is_some_and(|c| c.changed(slot as usize, at));
        }
        let dirty = match changed {
            None => true,
            Some(c) => (touched || !c.left.is_empty()) && c.term(&name, &postings, df, at, compare),
        };
        if df == 0 {
            if dirty {
                cutter.left();
            }
            continue;
        }
        count += 1;
        volume += postings.len();
        jobs.extend(cutter.push((name, postings), df, dirty, base_at));
    }
    Ok((jobs, true))
}

/// What making a leaf needs: each slot's number and length normalisation, the impact scale,
/// the last build's leaves by their first term, and where files go.
struct Maker<'a> {
    at: &'a [(u32, f64)],
    /// Per slot, its number and the index of its length normalisation in `norms`
    /// ([`slots_by_norm`]): what weighing a posting reads, half the bytes of `at`.
    slots: &'a [(u32, u32)],
    norms: &'a [f64],
    /// Documents in the index.
    live: usize,
    n: f64,
    scale: &'a Scale,
    before: &'a FxHashMap<u64, &'a LeafRecord>,
    sink: &'a dyn PageSink,
}

/// A leaf made (or kept): its separator and name for the tree, and its record.
struct Made {
    sep: String,
    name: String,
    record: LeafRecord,
    kept: bool,
    /// Kept without its terms being read ([`Skip`]).
    unread: bool,
}

impl Maker<'_> {
    /// Keeps the leaf's files as the last build published them when none of its terms
    /// changed; encodes and stores them otherwise.
    fn leaf(&self, job: LeafJob, scratch: &mut Scratch) -> Result<Made> {
        if let Some(record) = job.kept {
            // Skipped unread, its files kept already.
            return Ok(Made {
                sep: job.sep,
                name: job.name,
                record,
                kept: true,
                unread: true,
            });
        }
        let count = job.terms.len() as u32;
        let path = |k: usize| format!("search/{}.js", leaf_file(&job.name, k));
        let mut kept = Vec::new();
        // The last build's leaf with the same first term is this leaf again when none of this
        // one's terms changed and it has the same last term and as many terms. A term new to
        // the index has postings of a changed slot (it is dirty); a term that went is either
        // seen going (`Cutter::left`) or, its postings all dropped from the kept delta, not
        // seen at all: then the range from the first term to the last holds one term fewer,
        // or the cut moved and the last term differs.
        let same = (self.before.get(&job.first))
            .filter(|r| !job.dirty && r.last == job.last && r.count == count);

        if let Some(r) = same {
            for k in 0..r.files as usize {
                kept.push(
                    self.sink
                        .keep(&path(k), LeafRecord::made_from(r.digest, k))?,
                );
            }
            if kept.iter().all(|&k| k) {
                return Ok(Made {
                    sep: job.sep,
                    name: job.name,
                    record: LeafRecord {
                        at: job.at,
                        ..(*r).clone()
                    },
                    kept: true,
                    unread: false,
                });
            }
        }
        let first_term = job.terms[0].0.clone();
        let last_term = job.terms[job.terms.len() - 1].0.clone();
        let mut writer = LeafWriter::default();
        for (term, postings) in job.terms {
            let (df, chunks) = self.encode(scratch, &term, postings);
            writer.add(&term, df, chunks);
        }
        let scripts: Vec<Vec<u8>> = (writer.finish().iter().enumerate())
            .map(|(k, data)| script(&leaf_file(&job.name, k), data))
            .collect();
        let mut h = Xxh3::new();
        for s in &scripts {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s);
        }
        let digest = h.digest128();
        if kept.iter().any(|&k| k) && same.map(|r| r.digest) != Some(digest) {
            return Err(err(format!(
                "leaf {} of the kept index was kept in part but encodes differently",
                job.name
            )));
        }
        for (k, bytes) in scripts.iter().enumerate() {
            if !kept.get(k).copied().unwrap_or(false) {
                self.sink
                    .put_made_from(&path(k), LeafRecord::made_from(digest, k), bytes)?;
            }
        }
        Ok(Made {
            sep: job.sep,
            name: job.name,
            record: LeafRecord {
                first: job.first,
                last: job.last,
                count,
                first_term,
                last_term,
                at: job.at,
                digest,
                files: scripts.len() as u32,
                bytes: scripts.iter().map(|s| s.len() as u64).sum(),
                max: scripts.iter().map(|s| s.len() as u64).max().unwrap_or(0),
            },
            kept: false,
            unread: false,
        })
    }

    /// A term's document frequency and postings chunks (its live postings: dead slots are
    /// skipped).
    fn encode(&self, scratch: &mut Scratch, term: &str, postings: Vec<u32>) -> (u64, Vec<String>) {
        let at = self.at;
        if is_filter(term) {
            let mut docs: Vec<u32> = postings
                .iter()
                .map(|&d| at[d as usize].0)
                .filter(|&o| o != DEAD)
                .collect();
            docs.sort_unstable();
            docs.dedup();
            (docs.len() as u64, filter_chunks(&docs, self.live))
        } else {
            let live = postings
                .chunks_exact(2)
                .filter(|p| at[p[0] as usize].0 != DEAD);
            let df = live.clone().count() as u64;
            let weigh = Weigh {
                slots: self.slots,
                norms: self.norms,
                idf: idf(self.n, df),
                scale: self.scale,
            };
            let keys = impact_keys(live, &weigh, scratch);
            (df, impact_chunks(keys))
        }
    }
}

/// The document number of a dead slot (see [`super::state`]).
const DEAD: u32 = u32::MAX;

/// The text shards of documents whose texts are `lens` bytes long, in document order: each
/// the documents it holds, consecutive, up to [`TEXT_PACK`] bytes (a longer text alone).
fn text_packs(lens: impl Iterator<Item = usize>) -> Vec<std::ops::Range<usize>> {
    let mut packs = Vec::new();
    let (mut start, mut bytes, mut end) = (0, 0, 0);
    for len in lens {
        if end > start && bytes + len > TEXT_PACK {
            packs.push(start..end);
            start = end;
            bytes = 0;
        }
        bytes += len;
        end += 1;
    }
    if end > start {
        packs.push(start..end);
    }
    packs
}

/// What a document or text shard is made from: the program, which shard, the number of its
/// first document, and each document (its digest, which its record and text are functions
/// of, its key and page) with, in a document shard, its text shard (`xs`).
fn shard_digest(
    program: u128,
    kind: &str,
    first: usize,
    docs: &[u32],
    heads: &[Head],
    xs: &[u32],
) -> u128 {
    let mut h = Xxh3::new();
    h.update(b"search shard\0");
    h.update(&program.to_le_bytes());
    h.update(kind.as_bytes());
    h.update(&(first as u64).to_le_bytes());
    h.update(&(docs.len() as u64).to_le_bytes());
    for &g in docs {
        let d = &heads[g as usize];
        h.update(&d.digest.to_le_bytes());
        for s in [&d.key, &d.path] {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
    for &x in xs {
        h.update(&x.to_le_bytes());
    }
    h.digest128()
}

/// Per filter field, per value (as its filter term), the documents counted and the spellings
/// seen, for `facets.js`.
///
/// Kept with the analysed index ([`Layout::facets`]), so that a rebuild counts only the
/// documents that came or went.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facets {
    pub(crate) acc: BTreeMap<String, BTreeMap<String, FacetValue>>,
}

/// Documents with a facet value, and how often each spelling of it was seen.
pub(crate) type FacetValue = (u64, BTreeMap<String, u64>);

impl Facets {
    /// Counts the facet values of a document.
    pub(crate) fn add(&mut self, m: &Meta) {
        for (field, value) in m.facets() {
            let term = super::query::filter_term(field, &value);
            let values = match self.acc.get_mut(field) {
                Some(values) => values,
                None => self.acc.entry(field.to_string()).or_default(),
            };
            let e = values.entry(term).or_default();
            e.0 += 1;
            *e.1.entry(value).or_default() += 1;
        }
    }

    /// Takes out the facet values of a document [`add`](Self::add) counted: what is left is
    /// what counting the other documents gives.
    pub(crate) fn sub(&mut self, m: &Meta) {
        for (field, value) in m.facets() {
            let term = super::query::filter_term(field, &value);
            let Some(values) = self.acc.get_mut(field) else {
                continue;
            };
            if let Some(e) = values.get_mut(&term) {
                e.0 = e.0.saturating_sub(1);
                if let Some(n) = e.1.get_mut(&value) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        e.1.remove(&value);
                    }
                }
                if e.0 == 0 {
                    values.remove(&term);
                }
            }
            if values.is_empty() {
                self.acc.remove(field);
            }
        }
    }

    fn write(&self, out: &mut Out<'_>) -> Result<()> {
        let mut obj = serde_json::Map::new();
        for (field, terms) in &self.acc {
            let mut vals: Vec<(&str, u64)> = terms
                .values()
                .map(|(count, spellings)| {
                    let best = spellings
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                        .map_or("", |x| x.0.as_str());
                    (best, *count)
                })
                .collect();
            if field == "year" {
                vals.sort_by(|a, b| b.0.cmp(a.0));
            } else {
                vals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            }
            vals.truncate(1000);
            obj.insert(field.clone(), serde_json::json!(vals));
        }
        out.put("facets", &json(&obj))
    }
}

/// What encoding a word's postings reuses from one term to the next, one per thread: the
/// postings' sort keys, room to sort them, and the impact levels of (frequency, length
/// normalisation) pairs met in the term, in `levels` (a word in many documents meets
/// the same pairs again and again).
#[derive(Default)]
struct Scratch {
    keys: Vec<u64>,
    spare: Vec<u64>,
    /// Per (normalisation, frequency below [`TF_MEMO`]): the level plus one, or 0 when not
    /// met in this term yet; `met` lists the entries set, to clear after the term.
    levels: Vec<u8>,
    met: Vec<u32>,
}

/// Frequencies below which a posting's level is remembered within a term.
const TF_MEMO: u32 = 32;

/// Postings past which a term's levels are remembered ([`Scratch::levels`]) rather than each
/// computed (a logarithm each).
const MEMO_MIN: usize = 32;

/// What weighs a word's postings: each slot's number and normalisation, and the word's idf.
struct Weigh<'a> {
    slots: &'a [(u32, u32)],
    norms: &'a [f64],
    idf: f64,
    scale: &'a Scale,
}

impl Weigh<'_> {
    /// The impact level of frequency `tf` in a document of normalisation `norm`.
    fn level(&self, tf: u32, norm: u32) -> u32 {
        let tf = f64::from(tf);
        let knorm = self.norms[norm as usize];
        self.scale.q(self.idf * tf * (K1 + 1.0) / (tf + knorm))
    }
}

/// Per slot, its number and the index of its length normalisation among the distinct ones
/// (`K1 * (1 - B + B * dl / avgdl)`, a function of the document's quantized length, so a few
/// thousand at most); and those normalisations.
fn slots_by_norm(at: &[(u32, f64)]) -> (Vec<(u32, u32)>, Vec<f64>) {
    let mut index: FxHashMap<u64, u32> = FxHashMap::default();
    let mut norms = Vec::new();
    let slots = at
        .iter()
        .map(|&(ord, knorm)| {
            let id = *index.entry(knorm.to_bits()).or_insert_with(|| {
                norms.push(knorm);
                (norms.len() - 1) as u32
            });
            (ord, id)
        })
        .collect();
    (slots, norms)
}

/// A word's live postings `[doc, tf]` as sort keys: the impact level (higher first), then the
/// document number, in one number ([`key_q`], [`key_doc`]), sorted: best first, documents in
/// order within a level.
fn impact_keys<'a>(
    live: impl Iterator<Item = &'a [u32]> + Clone,
    weigh: &Weigh,
    scratch: &'a mut Scratch,
) -> &'a [u64] {
    let Scratch {
        keys,
        spare,
        levels,
        met,
    } = scratch;
    keys.clear();
    let size = live.clone().size_hint().1.unwrap_or(0);
    let memo = size >= MEMO_MIN;
    if memo && levels.len() < weigh.norms.len() * TF_MEMO as usize {
        levels.resize(weigh.norms.len() * TF_MEMO as usize, 0);
    }
    for p in live {
        let ((ord, norm), tf) = (weigh.slots[p[0] as usize], p[1]);
        let q = match memo && tf < TF_MEMO {
            true => {
                let at = (norm * TF_MEMO + tf) as usize;
                match levels[at] {
                    0 => {
                        let q = weigh.level(tf, norm);
                        levels[at] = q as u8 + 1;
                        met.push(at as u32);
                        q
                    }
                    known => u32::from(known - 1),
                }
            }
            false => weigh.level(tf, norm),
        };
        keys.push(u64::from(QMAX - q) << 32 | u64::from(ord));
    }
    for at in met.drain(..) {
        levels[at as usize] = 0;
    }
    sort_keys(keys, spare);
    keys
}

/// Keys past which [`sort_keys`] counts instead of comparing.
const RADIX_MIN: usize = 2048;

/// Sorts sort keys of [`impact_keys`] (a level below 2^11 in the high half, a document number
/// in the low): many of them (a word most documents have) by counting, digit by digit from the
/// lowest, in a few passes instead of a comparison sort's log n; `spare` is room for a pass.
fn sort_keys(keys: &mut Vec<u64>, spare: &mut Vec<u64>) {
    if keys.len() < RADIX_MIN {
        keys.sort_unstable();
        return;
    }
    const DIGIT: u32 = 11;
    let max_doc = keys.iter().map(|&k| k as u32).max().unwrap_or(0);
    let doc_bits = u32::BITS - max_doc.leading_zeros();
    let passes = (0..doc_bits)
        .step_by(DIGIT as usize)
        .map(|shift| (shift, (doc_bits - shift).min(DIGIT)))
        .chain([(32, DIGIT)]);
    spare.clear();
    spare.resize(keys.len(), 0);
    let mut counts = vec![0usize; 1 << DIGIT];
    for (shift, width) in passes {
        let mask = (1u64 << width) - 1;
        let digit = |k: u64| ((k >> shift) & mask) as usize;
        counts.iter_mut().for_each(|c| *c = 0);
        for &k in keys.iter() {
            counts[digit(k)] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &k in keys.iter() {
            let d = digit(k);
            spare[counts[d]] = k;
            counts[d] += 1;
        }
        std::mem::swap(keys, spare);
    }
}

/// The impact level of a sort key of [`impact_keys`].
fn key_q(key: u64) -> u32 {
    QMAX - (key >> 32) as u32
}

/// The document of a sort key of [`impact_keys`].
fn key_doc(key: u64) -> u32 {
    key as u32
}

/// Postings of a word: sort keys of [`impact_keys`] (best first), cut into chunks of growing
/// size.
fn impact_chunks(postings: &[u64]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    let mut body = String::new();
    let mut target = CHUNK0;
    let mut i = 0;
    while i < postings.len() {
        let q = key_q(postings[i]);
        // One segment piece: docs with impact q, as many as fit.
        body.clear();
        let first = key_doc(postings[i]);
        let mut prev = first;
        let mut j = i + 1;
        while j < postings.len() && key_q(postings[j]) == q {
            if chunk.len() + body.len() + 8 >= target {
                break;
            }
            let doc = key_doc(postings[j]);
            vlq(&mut body, (doc - prev - 1) as u64);
            prev = doc;
            j += 1;
        }
        chunk.push(B64[q as usize] as char);
        vlq(&mut chunk, (j - i) as u64);
        vlq(&mut chunk, first as u64);
        chunk.push_str(&body);
        i = j;
        if chunk.len() + 8 >= target && i < postings.len() {
            chunks.push(std::mem::take(&mut chunk));
            target = (target * 2).min(CHUNK_MAX);
        }
    }
    chunks.push(chunk);
    chunks
}

/// Postings of a filter: one chunk per block of documents that has any, starting with the
/// block's number, then a gap list or a bitmap, whichever is shorter.
fn filter_chunks(docs: &[u32], n: usize) -> Vec<String> {
    let block = 1usize << FILTER_BLOCK_BITS;
    let blocks = n.div_ceil(block).max(1);
    let mut chunks = Vec::new();
    let mut i = 0;
    for b in 0..blocks {
        let start = (b * block) as u32;
        let end = ((b + 1) * block) as u32;
        let s = i;
        while i < docs.len() && docs[i] < end {
            i += 1;
        }
        let ds = &docs[s..i];
        if ds.is_empty() {
            continue;
        }
        let mut head = String::new();
        vlq(&mut head, b as u64);
        let mut list = head.clone();
        list.push('l');
        let mut prev: Option<u32> = None;
        for &d in ds {
            match prev {
                None => vlq(&mut list, (d - start) as u64),
                Some(p) => vlq(&mut list, (d - p - 1) as u64),
            }
            prev = Some(d);
        }
        let last = ds[ds.len() - 1] - start;
        let nchars = last as usize / 6 + 1;
        if head.len() + 1 + nchars < list.len() {
            let mut bits = vec![0u8; nchars];
            for &d in ds {
                let r = (d - start) as usize;
                bits[r / 6] |= 1 << (r % 6);
            }
            let mut bm = head;
            bm.push('b');
            bm.extend(bits.iter().map(|&x| B64[x as usize] as char));
            chunks.push(bm);
        } else {
            chunks.push(list);
        }
    }
    if chunks.is_empty() {
        chunks.push(String::new());
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{DocKind, SearchDoc};

    /// Collects what the export writes.
    #[derive(Default)]
    struct Files(std::sync::Mutex<BTreeMap<String, Vec<u8>>>);
    impl PageSink for Files {
        fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
            self.0
                .lock()
                .unwrap()
                .insert(path.to_string(), bytes.to_vec());
            Ok(())
        }

        fn put_file(&self, path: &str, source: &std::path::Path) -> Result<()> {
            self.put(path, &std::fs::read(source).unwrap())
        }
    }

    fn docs() -> Vec<SearchDoc> {
        let words = [
            "ldlm", "lock", "cancel", "osc", "timeout", "mdt", "evict", "lnet",
        ];
        (1..=40u32)
            .map(|i| SearchDoc {
                kind: if i % 5 == 0 {
                    DocKind::Commit
                } else {
                    DocKind::Issue
                },
                key: format!("LU-{i}"),
                title: format!(
                    "{} {} in test {i}",
                    words[i as usize % 8],
                    words[i as usize % 3]
                ),
                status: Some(["Open", "Resolved"][i as usize % 2].to_string()),
                project: Some("LU".into()),
                issue_type: Some("Bug".into()),
                components: vec![words[i as usize % 4].to_string()],
                fix_versions: vec![],
                versions: vec![format!("2.{}", i % 3)],
                labels: vec![],
                year: Some(2010 + (i % 7) as i32),
                path: format!("issues/LU/0/LU-{i}.html"),
                body: vec![words
                    .iter()
                    .cycle()
                    .skip(i as usize)
                    .take(1 + i as usize % 9)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")],
            })
            .collect()
    }

    fn export_with(
        batch: usize,
        memory: &crate::search::index::Memory,
    ) -> BTreeMap<String, Vec<u8>> {
        let index = Index::build_in_batches(
            docs().into_iter(),
            &|_| None,
            &|d| Ok(Some(d)),
            batch,
            memory,
            None,
        )
        .unwrap();
        let files = Files::default();
        let report = export(index, &files, &Default::default()).unwrap();
        // Runs are written exactly when the term map outgrows its budget and there is a folder.
        assert_eq!(
            report.spilled_runs > 0,
            memory.spill.is_some() && memory.terms < 10_000
        );
        files.0.into_inner().unwrap()
    }

    fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) {
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (path, bytes) in a {
            assert!(b[path] == *bytes, "{path} differs");
        }
    }

    #[test]
    fn batches_do_not_change_the_export() {
        let memory = Default::default();
        assert_same(&export_with(1000, &memory), &export_with(3, &memory));
    }

    #[test]
    fn spilling_to_disk_does_not_change_the_export() {
        let tmp = tempfile::tempdir().unwrap();
        let spill = tmp.path().join("spill");
        let whole = export_with(1000, &Default::default());
        // Every batch of three documents makes a run, and records go to the file at once.
        let tight = crate::search::index::Memory {
            spill: Some(spill.clone()),
            terms: 1,
            records: 1,
        };
        assert_same(&whole, &export_with(3, &tight));
        assert!(
            !spill.exists(),
            "the spill folder is removed after the export"
        );
        // A budget a few batches fill.
        let some = crate::search::index::Memory {
            terms: 6_000,
            records: 500,
            ..tight
        };
        assert_same(&whole, &export_with(4, &some));
    }

    /// The export of `docs` made from nothing, in memory.
    fn fresh(docs: &[SearchDoc]) -> BTreeMap<String, Vec<u8>> {
        let index = Index::build_in_batches(
            docs.iter().cloned(),
            &|_| None,
            &|d| Ok(Some(d)),
            7,
            &Default::default(),
            None,
        )
        .unwrap();
        let files = Files::default();
        export(index, &files, &Default::default()).unwrap();
        files.0.into_inner().unwrap()
    }

    /// The export of `docs` continuing the index kept in `kept`; the documents analysed.
    fn continued(
        docs: &[SearchDoc],
        kept: &std::path::Path,
        memory: &crate::search::index::Memory,
    ) -> (BTreeMap<String, Vec<u8>>, u64) {
        continued_by(docs, kept, memory, 7)
    }

    /// [`continued`] by the program whose identity is `program`.
    fn continued_by(
        docs: &[SearchDoc],
        kept: &std::path::Path,
        memory: &crate::search::index::Memory,
        program: u128,
    ) -> (BTreeMap<String, Vec<u8>>, u64) {
        let at = crate::search::KeptAt {
            dir: kept.to_path_buf(),
            program,
        };
        let index = Index::build_in_batches(
            docs.iter().cloned(),
            &|_| None,
            &|d| Ok(Some(d)),
            5,
            memory,
            Some(&at),
        )
        .unwrap();
        let files = Files::default();
        let report = export(index, &files, &Default::default()).unwrap();
        (files.0.into_inner().unwrap(), report.analysed)
    }

    /// Documents with the titles of `docs()` changed where `i % every == at`.
    fn changed(every: usize, at: usize, mark: &str) -> Vec<SearchDoc> {
        let mut v = docs();
        for (i, d) in v.iter_mut().enumerate() {
            if i % every == at {
                d.title = format!("{mark} {}", d.title);
            }
        }
        v
    }

    #[test]
    fn a_kept_index_continued_exports_what_a_fresh_one_does() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = tmp.path().join("kept");
        let mem = Default::default();
        // From nothing: every document analysed.
        let all = docs();
        let (got, analysed) = continued(&all, &kept, &mem);
        assert_same(&got, &fresh(&all));
        assert_eq!(analysed, 40);
        // Unchanged: none analysed, the same bytes.
        let (got, analysed) = continued(&all, &kept, &mem);
        assert_same(&got, &fresh(&all));
        assert_eq!(analysed, 0);
        // Three titles changed, two documents gone, one new: four analysed.
        let mut next = changed(13, 4, "evicted");
        next.remove(31);
        next.remove(9);
        let mut new = docs()[0].clone();
        new.key = "LU-400".into();
        new.path = "issues/LU/0/LU-400.html".into();
        new.body = vec!["a brand new osc_lock_cancel word".into()];
        next.push(new);
        let (got, analysed) = continued(&next, &kept, &mem);
        assert_same(&got, &fresh(&next));
        assert_eq!(analysed, 4);
        // Back as it was: the changed ones analysed again (the delta merged with the last).
        let (got, analysed) = continued(&all, &kept, &mem);
        assert_same(&got, &fresh(&all));
        assert_eq!(analysed, 5);
        // Documents in another order: nothing analysed.
        let mut shuffled = all.clone();
        shuffled.reverse();
        assert_eq!(continued(&shuffled, &kept, &mem).1, 0);
        // No documents at all, then all again.
        assert_same(&continued(&[], &kept, &mem).0, &fresh(&[]));
        assert_same(&continued(&all, &kept, &mem).0, &fresh(&all));
    }

    #[test]
    fn items_known_by_their_identity_are_not_made_again() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let tmp = tempfile::tempdir().unwrap();
        let at = crate::search::KeptAt {
            dir: tmp.path().join("kept"),
            program: 7,
        };
        // Items are (identity, document); the documents made are counted.
        let run = |docs: &[SearchDoc]| {
            let made = AtomicU64::new(0);
            let items = docs.iter().map(|d| {
                (
                    xxhash_rust::xxh3::xxh3_128(format!("{d:?}").as_bytes()),
                    d.clone(),
                )
            });
            let index = Index::build_in_batches(
                items,
                &|item: &(u128, SearchDoc)| Some(item.0),
                &|(_, d)| {
                    made.fetch_add(1, Ordering::Relaxed);
                    Ok(Some(d))
                },
                5,
                &Default::default(),
                Some(&at),
            )
            .unwrap();
            let files = Files::default();
            let report = export(index, &files, &Default::default()).unwrap();
            assert_eq!(report.analysed, made.load(Ordering::Relaxed));
            (files.0.into_inner().unwrap(), report.analysed)
        };
        let all = docs();
        let (got, made) = run(&all);
        assert_same(&got, &fresh(&all));
        assert_eq!(made, 40);
        let (got, made) = run(&all);
        assert_same(&got, &fresh(&all));
        assert_eq!(made, 0, "nothing made when every identity is held");
        let mut next = changed(13, 4, "evicted");
        next.remove(9);
        let (got, made) = run(&next);
        assert_same(&got, &fresh(&next));
        assert_eq!(made, 3, "only the changed items are made");
    }

    #[test]
    fn a_kept_index_starts_again_when_it_is_mostly_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = tmp.path().join("kept");
        let mem = Default::default();
        assert_eq!(continued(&docs(), &kept, &mem).1, 40);
        // Each round changes four documents and changes back the last round's four: their old
        // slots die. Past a quarter of the live slots dead (or a delta a quarter of the base),
        // the next build analyses every document again.
        let mut analysed = Vec::new();
        for round in 0..6 {
            let next = changed(10, round, &format!("round{round}"));
            let (got, n) = continued(&next, &kept, &mem);
            assert_same(&got, &fresh(&next));
            analysed.push(n);
        }
        assert_eq!(analysed[..2], [4, 8]);
        assert!(analysed[2..].iter().all(|&n| n == 8 || n == 40));
        assert!(analysed.contains(&40), "{analysed:?}");
    }

    #[test]
    fn a_kept_index_that_does_not_read_back_is_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = tmp.path().join("kept");
        let mem = Default::default();
        let all = docs();
        continued(&all, &kept, &mem);
        // What a killed build leaves: a run no `docs` names, records past the kept ones.
        std::fs::write(kept.join("run-99"), b"half a run").unwrap();
        let mut records = std::fs::OpenOptions::new()
            .append(true)
            .open(kept.join("records"))
            .unwrap();
        std::io::Write::write_all(&mut records, b"garbage").unwrap();
        let next = changed(7, 1, "again");
        let (got, analysed) = continued(&next, &kept, &mem);
        assert_same(&got, &fresh(&next));
        assert_eq!(analysed, 6);
        assert!(
            !kept.join("run-99").exists(),
            "a killed build's run is removed"
        );
        // Another program: everything analysed again, the same export; then it continues.
        let (got, analysed) = continued_by(&next, &kept, &mem, 8);
        assert_same(&got, &fresh(&next));
        assert_eq!(analysed, 40);
        assert_eq!(continued_by(&next, &kept, &mem, 8).1, 0);
        assert_eq!(continued(&next, &kept, &mem).1, 40);
        // A damaged `docs`: everything analysed again, the same export.
        let docs_file = kept.join("docs");
        let mut bytes = std::fs::read(&docs_file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(&docs_file, bytes).unwrap();
        let (got, analysed) = continued(&next, &kept, &mem);
        assert_same(&got, &fresh(&next));
        assert_eq!(analysed, 40);
        // A run shorter than `docs` says: the same.
        let run = std::fs::read_dir(&kept)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("run-"))
            .unwrap();
        let len = std::fs::metadata(&run).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&run)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        let (got, analysed) = continued(&all, &kept, &mem);
        assert_same(&got, &fresh(&all));
        assert_eq!(analysed, 40);
    }

    /// A site the export writes into build after build, as the writer keeps one: what each
    /// file was made from, so that a file the next export keeps is the one it published.
    #[derive(Default)]
    struct Site {
        published: Published,
        now: std::sync::Mutex<Published>,
        /// The files this build kept.
        kept: std::sync::Mutex<Vec<String>>,
    }

    /// Each file of a site, with what it was made from when it was put with that.
    type Published = BTreeMap<String, (Option<u128>, Vec<u8>)>;

    impl Site {
        fn put_as(&self, path: &str, made_from: Option<u128>, bytes: &[u8]) -> Result<()> {
            let old = self
                .now
                .lock()
                .unwrap()
                .insert(path.into(), (made_from, bytes.into()));
            assert!(old.is_none(), "{path} put twice");
            Ok(())
        }

        /// The files of this build, which the next one starts from.
        fn next(self) -> (Site, BTreeMap<String, Vec<u8>>) {
            let now = self.now.into_inner().unwrap();
            let files = now
                .iter()
                .map(|(p, (_, b))| (p.clone(), b.clone()))
                .collect();
            let site = Site {
                published: now,
                ..Site::default()
            };
            (site, files)
        }
    }

    impl PageSink for Site {
        fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
            self.put_as(path, None, bytes)
        }

        fn put_made_from(&self, path: &str, made_from: u128, bytes: &[u8]) -> Result<()> {
            self.put_as(path, Some(made_from), bytes)
        }

        fn put_file(&self, _: &str, _: &std::path::Path) -> Result<()> {
            unreachable!("the index has no attachments")
        }

        fn keep(&self, path: &str, made_from: u128) -> Result<bool> {
            Ok(self.keep_sized(path, made_from)?.is_some())
        }

        fn keep_sized(&self, path: &str, made_from: u128) -> Result<Option<u64>> {
            match self.published.get(path) {
                Some((Some(m), bytes)) if *m == made_from => {
                    self.put_as(path, Some(made_from), &bytes.clone())?;
                    self.kept.lock().unwrap().push(path.to_string());
                    Ok(Some(bytes.len() as u64))
                }
                _ => Ok(None),
            }
        }

        fn keep_together(&self, files: &[(&str, u128)]) -> Result<bool> {
            let published = |&(path, made_from): &(&str, u128)| matches!(self.published.get(path), Some((Some(m), _)) if *m == made_from);
            if !files.iter().all(published) {
                return Ok(false);
            }
            for &(path, made_from) in files {
                self.keep(path, made_from)?;
            }
            Ok(true)
        }
    }

    /// Documents with a few words of their own each, so that the dictionary has many leaves.
    fn many_docs(n: usize) -> Vec<SearchDoc> {
        (0..n)
            .map(|i| {
                let mut d = docs()[i % 40].clone();
                d.key = format!("LU-{}", 1000 + i);
                d.path = format!("issues/LU/1/LU-{}.html", 1000 + i);
                d.body = vec![(0..12)
                    .map(|j| format!("w{}x{j}", i * 7 % 97 + j * 31))
                    .collect::<Vec<_>>()
                    .join(" ")];
                d
            })
            .collect()
    }

    /// Exports `docs`, analysed into the index kept at `at`, into `site`; checks the files
    /// against a build from nothing; returns the site for the next build, its files, the
    /// paths it kept and the report.
    fn export_into(
        docs: &[SearchDoc],
        site: Site,
        at: &crate::search::KeptAt,
    ) -> (Site, BTreeMap<String, Vec<u8>>, Vec<String>, SearchReport) {
        let index = Index::build_in_batches(
            docs.iter().cloned(),
            &|_| None,
            &|d| Ok(Some(d)),
            50,
            &Default::default(),
            Some(at),
        )
        .unwrap();
        let report = export(index, &site, &Default::default()).unwrap();
        let kept = std::mem::take(&mut *site.kept.lock().unwrap());
        let (site, files) = site.next();
        assert_same(&files, &fresh(docs));
        (site, files, kept, report)
    }

    /// Where a test's kept index is, in `tmp`.
    fn kept_at(tmp: &tempfile::TempDir) -> crate::search::KeptAt {
        crate::search::KeptAt {
            dir: tmp.path().join("kept"),
            program: 7,
        }
    }

    /// [`many_docs`] exported into an index kept in a new folder: the folder, the documents,
    /// the site and the report.
    fn first_of_many() -> (tempfile::TempDir, Vec<SearchDoc>, Site, SearchReport) {
        let tmp = tempfile::tempdir().unwrap();
        let all = many_docs(2000);
        let (site, r) = export_report(&all, Site::default(), &kept_at(&tmp));
        assert!(r.leaves > 10, "{} leaves", r.leaves);
        (tmp, all, site, r)
    }

    /// [`export_into`]'s site and report.
    fn export_report(
        docs: &[SearchDoc],
        site: Site,
        at: &crate::search::KeptAt,
    ) -> (Site, SearchReport) {
        let (site, _, _, report) = export_into(docs, site, at);
        (site, report)
    }

    #[test]
    fn leaves_whose_terms_did_not_change_are_kept_as_published() {
        let (tmp, all, site, r) = first_of_many();
        let at = kept_at(&tmp);
        let build = |docs: &[SearchDoc], site: Site| export_report(docs, site, &at);
        assert_eq!(r.leaves_kept, 0);
        // Nothing changed: every leaf kept.
        let (site, r) = build(&all, site);
        assert_eq!(r.leaves_kept, r.leaves);
        // A title changed: the leaf of the new word is made again, and those of the words
        // whose impact level moved with the document's length; not those of every word the
        // document has (that made 23 of these 37 leaves again).
        let mut next = all.clone();
        next[123].title = format!("nightly {}", next[123].title);
        let (site, r) = build(&next, site);
        assert!(r.leaves_kept > 0 && r.leaves_kept + 3 >= r.leaves, "{r:?}");
        // None of those kept was read whole: those holding none of the document's old or new
        // terms are skipped, and those holding some whose postings encode as they did are
        // probed for those terms only.
        assert_eq!(r.leaves_unread, r.leaves_kept, "{r:?}");
        // And back: the changed document's postings, dropped from the kept delta, are weighed
        // against the old ones as well (without them every leaf of its words was made again).
        let (site, r) = build(&all, site);
        assert!(r.leaves_kept > 0 && r.leaves_kept + 3 >= r.leaves, "{r:?}");
        let (site, _) = build(&next, site);
        // A document gone (the numbers of those after it move), one added.
        next.remove(7);
        let mut new = next[0].clone();
        new.key = "LU-9999".into();
        new.path = "issues/LU/9/LU-9999.html".into();
        new.body = vec!["a brand new zzz_word".into()];
        // Of a year after every other: numbered last.
        new.year = Some(2030);
        next.push(new);
        let (mut site, _) = build(&next, site);
        // A leaf whose file the site no longer says was made from what it was made from (a
        // file changed by hand) is made again, the files of it that are kept stay.
        let leaf = site
            .published
            .keys()
            .find(|p| p.starts_with("search/l/"))
            .unwrap()
            .clone();
        site.published.get_mut(&leaf).unwrap().0 = Some(1);
        let (site, r) = build(&next, site);
        assert_eq!(r.leaves_kept + 1, r.leaves);
        // Nothing changed: every leaf skipped unread.
        let (site, r) = build(&next, site);
        assert_eq!((r.leaves_unread, r.leaves_kept), (r.leaves, r.leaves));
        // The last document gone (no other moves): its word leaves the dictionary.
        next.pop();
        let (site, r) = build(&next, site);
        assert!(r.leaves_kept > 0 && r.leaves_kept < r.leaves, "{r:?}");
        // Back to where it started.
        build(&all, site);
    }

    #[test]
    fn many_sort_keys_are_counted_into_the_order_a_comparison_sort_gives() {
        let mut spare = Vec::new();
        for (n, docs) in [
            (10usize, 50u32),
            (5000, 3000),
            (70_000, 1 << 21),
            (RADIX_MIN, 1),
        ] {
            // Levels and documents spread by a multiplicative hash, some repeated.
            let mut keys: Vec<u64> = (0..n as u64)
                .map(|i| {
                    let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    ((h >> 58) << 32) | ((h >> 20) % u64::from(docs))
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            sort_keys(&mut keys, &mut spare);
            assert_eq!(keys, want, "{n} keys");
        }
    }

    #[test]
    fn leaves_sharing_words_with_a_changed_document_are_probed_not_read() {
        let (tmp, all, site, _) = first_of_many();
        let at = kept_at(&tmp);
        let build = |docs: &[SearchDoc], site: Site| export_report(docs, site, &at);
        // One word of a document replaced by another: its length is the same, so its other
        // words' postings encode as they did. The leaves holding them are kept after only
        // those words were read from them; the word that went, the one that came and the
        // pairs they made are what changed.
        let mut next = all.clone();
        next[123].body[0] = next[123].body[0].replacen("x5", "x5q", 1);
        let (site, r) = build(&next, site);
        assert!(r.leaves_probed > 0, "{r:?}");
        assert_eq!(r.leaves_unread, r.leaves_kept, "{r:?}");
        assert!(r.leaves_kept + 6 >= r.leaves, "{r:?}");
        // And back, the changed document's old postings weighed from what the delta dropped.
        let (_, r) = build(&all, site);
        assert!(r.leaves_probed > 0, "{r:?}");
        assert_eq!(r.leaves_unread, r.leaves_kept, "{r:?}");
    }

    #[test]
    fn document_and_text_shards_of_unchanged_documents_are_kept_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let at = crate::search::KeptAt {
            dir: tmp.path().join("kept"),
            program: 7,
        };
        // Builds `docs` into `site`; the document and text shards made again, and the report.
        let build = |docs: &[SearchDoc], site: Site| {
            let (site, files, kept, report) = export_into(docs, site, &at);
            let made = |folder: &str| {
                let all = files.keys().filter(|p| p.starts_with(folder)).count();
                all - kept.iter().filter(|p| p.starts_with(folder)).count()
            };
            let made = (made("search/d/"), made("search/x/"));
            (site, made, report)
        };
        let all = many_docs(2000);
        let (site, made, _) = build(&all, Site::default());
        assert!(made.0 == 250 && made.1 > 10, "{made:?}");
        // Nothing changed: every shard kept.
        let (site, made, _) = build(&all, site);
        assert_eq!(made, (0, 0));
        // A title changed: the document's shard and its text's.
        let mut next = all.clone();
        next[123].title = format!("nightly {}", next[123].title);
        let (site, made, _) = build(&next, site);
        assert_eq!(made, (1, 1));
        // A status changed: its count in the facets moves (the site is compared with a build
        // from nothing in `build`).
        next[500].status = Some("Reopened".into());
        let (site, made, _) = build(&next, site);
        assert_eq!(made, (1, 1));
        // A text grew: the shards of the documents after it are packed otherwise.
        next[1999].body.push("more words at the end".into());
        let (site, made, _) = build(&next, site);
        assert!(made.1 >= 1, "{made:?}");
        // A document gone: those after it are numbered again.
        next.remove(0);
        let (site, _, _) = build(&next, site);
        build(&all, site);
    }

    #[test]
    fn a_kept_index_within_a_tight_budget_exports_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = tmp.path().join("kept");
        // Every batch makes a run, records go to the file at once: in the build that starts
        // from nothing and in those that continue it.
        let tight = crate::search::index::Memory {
            spill: None,
            terms: 1,
            records: 1,
        };
        let all = docs();
        let runs = || {
            let mut names: Vec<String> = std::fs::read_dir(&kept)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("run-"))
                .collect();
            names.sort();
            names
        };
        assert_same(&continued(&all, &kept, &tight).0, &fresh(&all));
        // The runs of every batch, merged as the terms were exported, are one base run.
        let base = runs();
        assert_eq!(base.len(), 1, "{base:?}");
        for round in 0..2 {
            let next = changed(9, round, "tight");
            let (got, analysed) = continued(&next, &kept, &tight);
            assert_same(&got, &fresh(&next));
            assert_eq!(analysed, [5, 10][round]);
            // The base, and the delta merged from this build's runs and the last delta.
            assert_eq!(runs().len(), 2, "{:?}", runs());
            assert!(runs().contains(&base[0]));
        }
    }

    #[test]
    fn shared_prefixes_end_at_a_character() {
        let slow = |a: &str, b: &str| {
            let (mut bytes, mut units) = (0, 0);
            for (x, y) in a.chars().zip(b.chars()) {
                if x != y {
                    break;
                }
                bytes += y.len_utf8();
                units += y.len_utf16();
            }
            (bytes, units)
        };
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "é",
            "éa",
            "èa",
            "ée",
            "文件",
            "文书",
            "文",
            "𝄞x",
            "𝄞y",
            "𝄟",
            "\"lock cancel",
            "\"lock",
            "key:lu-1",
            "a\u{0}",
        ];
        for a in words {
            for b in words {
                assert_eq!(dict::shared_prefix(a, b), slow(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn vlq_round_trips() {
        let vals = [0u64, 1, 31, 32, 1000, 1 << 20, u32::MAX as u64];
        let mut s = String::new();
        for &v in &vals {
            vlq(&mut s, v);
        }
        let mut got = Vec::new();
        let (mut v, mut shift) = (0u64, 0);
        for c in s.bytes() {
            let d = B64.iter().position(|&x| x == c).unwrap() as u64;
            v |= (d & 31) << shift;
            shift += 5;
            if d < 32 {
                got.push(v);
                v = 0;
                shift = 0;
            }
        }
        assert_eq!(got, vals);
        assert_eq!(&s[..4], "ABfg");
    }

    #[test]
    fn chunks_keep_impact_order_and_grow() {
        let mut keys: Vec<u64> = (0..20_000u32)
            .map(|d| u64::from(QMAX - (63 - d % 64)) << 32 | u64::from(d))
            .collect();
        keys.sort_unstable();
        assert_eq!((key_q(keys[0]), key_doc(keys[0])), (63, 0));
        assert_eq!((key_q(keys[1]), key_doc(keys[1])), (63, 64));
        let chunks = impact_chunks(&keys);
        assert!(chunks.len() > 2);
        assert!(chunks[0].len() <= CHUNK0 + 16);
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_MAX + 16));
    }

    #[test]
    fn filters_pick_the_smaller_encoding() {
        let dense: Vec<u32> = (0..1000).collect();
        assert!(filter_chunks(&dense, 1000)[0].starts_with("Ab"));
        assert_eq!(filter_chunks(&[5, 900], 1000), vec!["AlF+b".to_string()]);
        // Blocks without documents take no chunk (and so no file).
        assert_eq!(filter_chunks(&[196_608], 250_000), vec!["DlA".to_string()]);
    }
}
