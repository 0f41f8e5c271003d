//! The static index: tantivy's index exported as plain scripts under `search/`, each calling
//! `hindsightSearch.load(id, data)`, so a browser loads them with `<script src>` over `file://`
//! as well as over HTTP.
//!
//! # Format (version 1)
//!
//! Numbers are written as base64 VLQ (`A-Za-z0-9+/`, 5 bits per character, the sixth bit
//! says "more follows", least significant group first). Documents are numbered in a fixed order
//! (issues by key, then commits by year and hash), independent of input order and of tantivy.
//!
//! * `root.js` (id `root`): `{v, n, g, fb, lnmin, step, f, h, t}`: format version, number of
//!   documents, documents per document shard, log2 of documents per filter block, the impact
//!   scale (impact `q` stands for the BM25 score `exp(lnmin + q * step)`), the fan-out and
//!   height of the term tree, and the separators of the tree's top level. Its size depends on
//!   the fan-out only, never on the number of documents.
//! * `n<h>/<i/1000>/<i%1000>.js`: node `i` at height `h` of the term tree: the separators of its
//!   children (child `j` of node `i` is node `i * f + j` one level down). Height 0 are leaves.
//! * `l/<i/1000>/<i%1000>.js`: leaf `i`: `[suffixes, meta]`, its terms in code point order,
//!   front-coded. `meta` holds per term: shared prefix length and suffix length (UTF-16 units),
//!   document frequency, then `x`: even → the first chunk of postings inline (`x/2` characters
//!   follow); odd → in file `p/` number `(x-1)/2` at slot `s` (next number); then the number of
//!   further chunks `e` and, when `e > 0`, the file number of the second chunk (the others
//!   follow, one file each).
//! * `p/<i/1000>/<i%1000>.js`: an array of postings chunks (several small first chunks packed
//!   in one file, or one large later chunk). Word terms: postings ordered by impact, best
//!   first, as segments `q` (one character, 0..63), count, first document, then gaps minus one.
//!   Filter terms (`status:open`, `key:lu-1234`, everything with a `:`): one chunk per block of
//!   `2^fb` documents that has any, in document order: the block number, then either `l` and
//!   gaps (the first from the block start, the next minus one), or `b` and a bitmap, six
//!   documents per character.
//! * `d/<i/1000>/<i%1000>.js`: records of documents `i*g .. i*g+g-1`:
//!   `[kind, key, title, path, status, type, year, excerpt]`.
//! * `facets.js`: per filter field the values as written, with their counts.

use std::collections::{BTreeMap, HashMap};

use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Index, TantivyDocument, TERMINATED};

use super::index::{fields, read_meta, Meta, TITLE_WEIGHT};
use super::{err, SearchReport};
use crate::write::PageSink;
use crate::Result;

/// Format version, in `root.js`.
pub const FORMAT: u32 = 1;
/// Documents per document shard.
pub const DOCS_PER_SHARD: usize = 8;
/// log2 of documents per filter block.
pub const FILTER_BLOCK_BITS: u32 = 16;
/// Children per node of the term tree (and the most separators in `root.js`).
pub const FANOUT: usize = 256;
/// A leaf is closed once it holds this many characters.
pub const LEAF_TARGET: usize = 3_000;
/// First chunks smaller than this are kept inline in the leaf.
pub const INLINE_MAX: usize = 48;
/// A pack of first chunks is closed once it holds this many characters.
pub const PACK_TARGET: usize = 4_000;
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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn vlq(out: &mut String, mut v: u64) {
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

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("strings and numbers serialize")
}

struct Out<'a> {
    sink: &'a dyn PageSink,
    report: SearchReport,
}

impl Out<'_> {
    fn put(&mut self, id: &str, data: &str) -> Result<()> {
        let bytes = script(id, data);
        self.report.files += 1;
        self.report.bytes += bytes.len() as u64;
        self.report.max_file_bytes = self.report.max_file_bytes.max(bytes.len() as u64);
        if id == "root" {
            self.report.root_bytes = bytes.len() as u64;
        }
        self.sink.put(&format!("search/{id}.js"), &bytes)
    }
}

/// Impact quantization: BM25 score to 0..=QMAX on a log scale.
struct Scale {
    lnmin: f64,
    step: f64,
}

impl Scale {
    fn new(n: u64) -> Scale {
        let smax = idf(n, 1) * (K1 + 1.0);
        let lnmax = smax.ln();
        let lnmin = lnmax - SCORE_RANGE.ln();
        // Rounded so that root.js prints exactly what is used.
        let lnmin = (lnmin * 1e6).round() / 1e6;
        let step = (((lnmax - lnmin) / QMAX as f64) * 1e6).round() / 1e6;
        Scale { lnmin, step }
    }
    fn q(&self, s: f64) -> u32 {
        if s <= 0.0 {
            return 0;
        }
        let q = ((s.ln() - self.lnmin) / self.step).round();
        q.clamp(0.0, QMAX as f64) as u32
    }
}

fn idf(n: u64, df: u64) -> f64 {
    let (n, df) = (n as f64, df as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Writes the static index of `index` through `sink`.
pub(crate) fn export(index: &Index, sink: &dyn PageSink) -> Result<SearchReport> {
    let f = fields(index)?;
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()
        .map_err(err)?;
    let searcher = reader.searcher();
    let segs = searcher.segment_readers();
    if segs.len() > 1 {
        return Err(err("the index was not merged into one segment"));
    }
    let mut out = Out {
        sink,
        report: SearchReport::default(),
    };

    // Documents: records, their order, facets.
    let mut metas: Vec<Meta> = Vec::new();
    if let Some(seg) = segs.first() {
        let store = seg.get_store_reader(64).map_err(err)?;
        for d in 0..seg.max_doc() {
            let doc: TantivyDocument = store.get(d).map_err(err)?;
            metas.push(read_meta(&doc, &f)?);
        }
    }
    let n = metas.len();
    let mut by_ord: Vec<u32> = (0..n as u32).collect();
    by_ord.sort_by(|&a, &b| metas[a as usize].order(&metas[b as usize]));
    let mut ord_of = vec![0u32; n];
    for (o, &d) in by_ord.iter().enumerate() {
        ord_of[d as usize] = o as u32;
    }
    out.report.docs = n as u64;

    for (s, chunk) in by_ord.chunks(DOCS_PER_SHARD).enumerate() {
        let recs: Vec<serde_json::Value> = chunk
            .iter()
            .map(|&d| {
                let m = &metas[d as usize];
                serde_json::json!([
                    m.kind, m.key, m.title, m.path, m.status, m.itype, m.year, m.excerpt
                ])
            })
            .collect();
        out.put(&bucket("d", s), &json(&recs))?;
    }
    write_facets(&mut out, &metas)?;
    drop(metas);

    // Document lengths (BM25F: the title weighs TITLE_WEIGHT).
    let mut dl = vec![0f64; n];
    if let Some(seg) = segs.first() {
        let tn = seg.get_fieldnorms_reader(f.title).map_err(err)?;
        let bn = seg.get_fieldnorms_reader(f.body).map_err(err)?;
        for (d, l) in dl.iter_mut().enumerate() {
            *l = TITLE_WEIGHT as f64 * tn.fieldnorm(d as DocId) as f64
                + bn.fieldnorm(d as DocId) as f64;
        }
    }
    let avgdl = if n == 0 {
        1.0
    } else {
        (dl.iter().sum::<f64>() / n as f64).max(1.0)
    };
    let scale = Scale::new(n as u64);

    let mut dict = DictWriter::new();
    if let Some(seg) = segs.first() {
        let inv = [
            seg.inverted_index(f.title).map_err(err)?,
            seg.inverted_index(f.body).map_err(err)?,
            seg.inverted_index(f.filter).map_err(err)?,
        ];
        let mut streams = Vec::new();
        for i in &inv {
            streams.push(i.terms().stream().map_err(err)?);
        }
        let mut live: Vec<bool> = streams.iter_mut().map(|s| s.advance()).collect();
        let mut postings: Vec<(u32, u32)> = Vec::new();
        let mut tfw: HashMap<u32, f64> = HashMap::new();
        loop {
            // The smallest current key among the streams.
            let mut key: Option<Vec<u8>> = None;
            for (s, l) in streams.iter().zip(&live) {
                if *l && key.as_deref().is_none_or(|k| s.key() < k) {
                    key = Some(s.key().to_vec());
                }
            }
            let Some(key) = key else { break };
            let term = String::from_utf8(key.clone()).map_err(err)?;
            postings.clear();
            tfw.clear();
            let mut filter_docs: Vec<u32> = Vec::new();
            for (i, (s, l)) in streams.iter_mut().zip(live.iter_mut()).enumerate() {
                if !*l || s.key() != key.as_slice() {
                    continue;
                }
                let opt = if i == 2 {
                    IndexRecordOption::Basic
                } else {
                    IndexRecordOption::WithFreqs
                };
                let mut p = inv[i]
                    .read_postings_from_terminfo(s.value(), opt)
                    .map_err(err)?;
                let w = if i == 0 { TITLE_WEIGHT as f64 } else { 1.0 };
                let mut d = p.doc();
                while d != TERMINATED {
                    if i == 2 {
                        filter_docs.push(ord_of[d as usize]);
                    } else {
                        *tfw.entry(d).or_insert(0.0) += w * p.term_freq() as f64;
                    }
                    d = p.advance();
                }
                *l = s.advance();
            }
            if !filter_docs.is_empty() {
                filter_docs.sort_unstable();
                filter_docs.dedup();
                let chunks = filter_chunks(&filter_docs, n);
                dict.add(&mut out, &term, filter_docs.len() as u64, chunks)?;
            } else if !tfw.is_empty() {
                let df = tfw.len() as u64;
                let idf = idf(n as u64, df);
                for (&d, &tf) in &tfw {
                    let norm = 1.0 - B + B * dl[d as usize] / avgdl;
                    let s = idf * tf * (K1 + 1.0) / (tf + K1 * norm);
                    postings.push((scale.q(s), ord_of[d as usize]));
                }
                postings.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                dict.add(&mut out, &term, df, impact_chunks(&postings))?;
            }
        }
    }
    let (seps, leaves) = dict.finish(&mut out)?;
    out.report.terms = dict.terms;

    // The term tree, bottom up, until the top level fits in the root.
    let mut level = seps;
    let mut h = 0;
    debug_assert_eq!(level.len(), leaves);
    while level.len() > FANOUT {
        h += 1;
        let mut up = Vec::new();
        for (i, kids) in level.chunks(FANOUT).enumerate() {
            out.put(&bucket(&format!("n{h}"), i), &json(kids))?;
            up.push(kids[0].clone());
        }
        level = up;
    }
    let root = format!(
        "{{\"v\":{FORMAT},\"n\":{n},\"g\":{DOCS_PER_SHARD},\"fb\":{FILTER_BLOCK_BITS},\"lnmin\":{:.6},\"step\":{:.6},\"f\":{FANOUT},\"h\":{h},\"t\":{}}}",
        scale.lnmin,
        scale.step,
        json(&level)
    );
    out.put("root", &root)?;
    Ok(out.report)
}

fn write_facets(out: &mut Out<'_>, metas: &[Meta]) -> Result<()> {
    // field -> term -> (count, spelling -> count)
    type Spellings = BTreeMap<String, u64>;
    let mut acc: BTreeMap<&'static str, BTreeMap<String, (u64, Spellings)>> = BTreeMap::new();
    for m in metas {
        for (field, value) in m.facets() {
            let term = super::query::filter_term(field, &value);
            let e = acc.entry(field).or_default().entry(term).or_default();
            e.0 += 1;
            *e.1.entry(value).or_default() += 1;
        }
    }
    let mut obj = serde_json::Map::new();
    for (field, terms) in acc {
        let mut vals: Vec<(String, u64)> = terms
            .into_values()
            .map(|(count, spellings)| {
                let best = spellings
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .map(|x| x.0)
                    .unwrap_or_default();
                (best, count)
            })
            .collect();
        if field == "year" {
            vals.sort_by(|a, b| b.0.cmp(&a.0));
        } else {
            vals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        vals.truncate(1000);
        obj.insert(field.to_string(), serde_json::json!(vals));
    }
    out.put("facets", &json(&obj))
}

/// Postings of a word: `(impact, doc)` best first, cut into chunks of growing size.
fn impact_chunks(postings: &[(u32, u32)]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    let mut target = CHUNK0;
    let mut i = 0;
    while i < postings.len() {
        let q = postings[i].0;
        // One segment piece: docs with impact q, as many as fit.
        let mut body = String::new();
        let first = postings[i].1;
        let mut prev = first;
        let mut j = i + 1;
        while j < postings.len() && postings[j].0 == q {
            if chunk.len() + body.len() + 8 >= target {
                break;
            }
            vlq(&mut body, (postings[j].1 - prev - 1) as u64);
            prev = postings[j].1;
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

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Shared prefix of two strings in characters, returned as (bytes in `b`, UTF-16 units).
fn shared_prefix(a: &str, b: &str) -> (usize, usize) {
    let mut bytes = 0;
    let mut units = 0;
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            break;
        }
        bytes += y.len_utf8();
        units += y.len_utf16();
    }
    (bytes, units)
}

/// Builds leaves and packs as terms arrive in order.
struct DictWriter {
    terms: u64,
    // Current leaf.
    suffixes: String,
    meta: String,
    first: Option<String>,
    prev: String,
    // Finished leaves: their separators.
    seps: Vec<String>,
    last_of_prev_leaf: Option<String>,
    // Postings files.
    next_file: usize,
    pack: Vec<String>,
    pack_id: Option<usize>,
    pack_len: usize,
}

impl DictWriter {
    fn new() -> DictWriter {
        DictWriter {
            terms: 0,
            suffixes: String::new(),
            meta: String::new(),
            first: None,
            prev: String::new(),
            seps: Vec::new(),
            last_of_prev_leaf: None,
            next_file: 0,
            pack: Vec::new(),
            pack_id: None,
            pack_len: 0,
        }
    }

    fn add(&mut self, out: &mut Out<'_>, term: &str, df: u64, chunks: Vec<String>) -> Result<()> {
        self.terms += 1;
        if self.first.is_none() {
            self.first = Some(term.to_string());
            self.prev.clear();
        }
        let (pb, pu) = shared_prefix(&self.prev, term);
        let suffix = &term[pb..];
        vlq(&mut self.meta, pu as u64);
        vlq(&mut self.meta, utf16_len(suffix) as u64);
        vlq(&mut self.meta, df);
        self.suffixes.push_str(suffix);
        let mut chunks = chunks.into_iter();
        let first = chunks.next().unwrap_or_default();
        if first.len() <= INLINE_MAX {
            vlq(&mut self.meta, 2 * first.len() as u64);
            self.meta.push_str(&first);
        } else {
            if self.pack_id.is_none() || self.pack_len + first.len() > PACK_TARGET {
                self.flush_pack(out)?;
                self.pack_id = Some(self.next_file);
                self.next_file += 1;
            }
            let id = self.pack_id.expect("a pack is open");
            vlq(&mut self.meta, 2 * id as u64 + 1);
            vlq(&mut self.meta, self.pack.len() as u64);
            self.pack_len += first.len();
            self.pack.push(first);
        }
        let rest: Vec<String> = chunks.collect();
        vlq(&mut self.meta, rest.len() as u64);
        if !rest.is_empty() {
            vlq(&mut self.meta, self.next_file as u64);
            for c in rest {
                let id = self.next_file;
                self.next_file += 1;
                out.put(&bucket("p", id), &json(&[c]))?;
            }
        }
        self.prev.clear();
        self.prev.push_str(term);
        if self.meta.len() + self.suffixes.len() >= LEAF_TARGET {
            self.flush_leaf(out)?;
        }
        Ok(())
    }

    fn flush_pack(&mut self, out: &mut Out<'_>) -> Result<()> {
        if let Some(id) = self.pack_id.take() {
            out.put(&bucket("p", id), &json(&self.pack))?;
        }
        self.pack.clear();
        self.pack_len = 0;
        Ok(())
    }

    fn flush_leaf(&mut self, out: &mut Out<'_>) -> Result<()> {
        let Some(first) = self.first.take() else {
            return Ok(());
        };
        let sep = match &self.last_of_prev_leaf {
            None => String::new(),
            Some(last) => {
                let (pb, _) = shared_prefix(last, &first);
                let next = first[pb..].chars().next().map_or(0, char::len_utf8);
                first[..pb + next].to_string()
            }
        };
        let i = self.seps.len();
        self.seps.push(sep);
        out.put(
            &bucket("l", i),
            &json(&[
                std::mem::take(&mut self.suffixes),
                std::mem::take(&mut self.meta),
            ]),
        )?;
        self.last_of_prev_leaf = Some(self.prev.clone());
        Ok(())
    }

    fn finish(&mut self, out: &mut Out<'_>) -> Result<(Vec<String>, usize)> {
        self.flush_leaf(out)?;
        self.flush_pack(out)?;
        if self.seps.is_empty() {
            // An empty index still has one (empty) leaf, so the client needs no special case.
            self.seps.push(String::new());
            out.put(&bucket("l", 0), "[\"\",\"\"]")?;
        }
        let n = self.seps.len();
        Ok((std::mem::take(&mut self.seps), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let postings: Vec<(u32, u32)> = (0..20_000u32).map(|d| (63 - d % 64, d)).collect();
        let mut sorted = postings.clone();
        sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let chunks = impact_chunks(&sorted);
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
