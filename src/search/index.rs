//! The tantivy side: the schema, indexing into the build cache, and the terminal's search.
//!
//! The index lives in `<cache>/search/` and is rebuilt by every build (in `search.new/`, swapped
//! in when complete, so `hindsight search` never sees half an index). Its segments are left
//! unmerged: the export reads their term dictionaries side by side.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query as TQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::{DocAddress, DocSet, Index, IndexWriter, TantivyDocument, Term, TERMINATED};

use super::query::{self, key_term, Group, MAX_EXPANSIONS};
use super::tokenize::{TantivyTokenizer, TOKENIZER_NAME};
use super::{err, DocKind, Hit, SearchDoc};
use crate::error::Result;

/// Characters of the stored excerpt shown under a result.
pub const EXCERPT_CHARS: usize = 240;
/// Characters of text kept for the terminal's snippets (the whole text is indexed).
const STORED_TEXT_CHARS: usize = 16_384;
/// Title matches weigh this many body matches (BM25F), in the static index and here.
pub const TITLE_WEIGHT: f32 = 4.0;

/// The index's fields.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub title: Field,
    pub body: Field,
    /// Filter and key terms, raw: `status:open`, `key:lu-1234`.
    pub filter: Field,
    /// The document's record ([`Meta`] as JSON), stored.
    pub meta: Field,
    /// The first [`STORED_TEXT_CHARS`] of the text, stored, for snippets.
    pub text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        filter: b.add_text_field("filter", STRING),
        meta: b.add_text_field("meta", STORED),
        text: b.add_text_field("text", STORED),
    };
    (b.build(), fields)
}

pub(crate) fn fields(index: &Index) -> Result<Fields> {
    let s = index.schema();
    let f = |name: &str| s.get_field(name).map_err(err);
    Ok(Fields {
        title: f("title")?,
        body: f("body")?,
        filter: f("filter")?,
        meta: f("meta")?,
        text: f("text")?,
    })
}

fn register(index: &Index) {
    index
        .tokenizers()
        .register(TOKENIZER_NAME, TantivyTokenizer::default());
}

/// What the static index shows of a document, stored in tantivy as JSON.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Meta {
    pub kind: u8,
    pub key: String,
    pub title: String,
    pub path: String,
    pub status: Option<String>,
    pub itype: Option<String>,
    pub year: Option<i32>,
    pub excerpt: String,
    pub project: Option<String>,
    pub components: Vec<String>,
    pub fix: Vec<String>,
    pub versions: Vec<String>,
    pub labels: Vec<String>,
}

impl Meta {
    /// The filter terms of the document, with the values as written (field, value).
    pub fn facets(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![(
            "kind",
            if self.kind == 0 { "issue" } else { "commit" }.to_string(),
        )];
        let one = |v: &mut Vec<_>, f, x: &Option<String>| {
            if let Some(x) = x {
                if !x.trim().is_empty() {
                    v.push((f, x.clone()));
                }
            }
        };
        one(&mut v, "project", &self.project);
        one(&mut v, "status", &self.status);
        one(&mut v, "type", &self.itype);
        for (f, xs) in [
            ("component", &self.components),
            ("fix", &self.fix),
            ("version", &self.versions),
            ("label", &self.labels),
        ] {
            for x in xs {
                if !x.trim().is_empty() {
                    v.push((f, x.clone()));
                }
            }
        }
        if let Some(y) = self.year {
            v.push(("year", y.to_string()));
        }
        v
    }
}

/// Collapses whitespace and cuts at `max` characters, at a word boundary when one is near.
pub(crate) fn excerpt(blocks: &[String], max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut truncated = false;
    'outer: for b in blocks {
        for w in b.split_whitespace() {
            let wl = w.chars().count();
            if n > 0 {
                if n + 1 + wl > max {
                    truncated = true;
                    if n + 1 < max && wl > 20 {
                        out.push(' ');
                        out.extend(w.chars().take(max - n - 1));
                    }
                    break 'outer;
                }
                out.push(' ');
                n += 1;
            } else if wl > max {
                out.extend(w.chars().take(max));
                truncated = true;
                break 'outer;
            }
            out.push_str(w);
            n += wl;
        }
    }
    if truncated {
        out.push('…');
    }
    out
}

fn capped_text(blocks: &[String], max: usize) -> String {
    let mut out = String::new();
    for b in blocks {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        let room = max.saturating_sub(out.len());
        if b.len() <= room {
            out.push_str(b);
        } else {
            let mut cut = room;
            while !b.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&b[..cut]);
            break;
        }
    }
    out
}

pub(crate) fn index_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("search")
}

/// Indexes `docs` into a fresh index in the cache and opens it.
pub(crate) fn build_index(
    docs: impl Iterator<Item = SearchDoc>,
    cache_dir: &Path,
) -> Result<Index> {
    build_index_in_segments(docs, cache_dir, None)
}

/// [`build_index`], committing a segment every `per_segment` documents when given (tests use
/// it to check that the export does not depend on how the index is cut into segments).
pub(crate) fn build_index_in_segments(
    docs: impl Iterator<Item = SearchDoc>,
    cache_dir: &Path,
    per_segment: Option<usize>,
) -> Result<Index> {
    let dir = index_dir(cache_dir);
    let new = cache_dir.join("search.new");
    remove_dir(&new)?;
    fs::create_dir_all(&new).map_err(|e| crate::error::Error::io(&new, e))?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(&new, schema).map_err(err)?;
    register(&index);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let mut writer: IndexWriter = index
        .writer_with_num_threads(threads, threads * 64_000_000)
        .map_err(err)?;
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    for (i, d) in docs.enumerate() {
        writer.add_document(document(&f, d)?).map_err(err)?;
        if per_segment.is_some_and(|n| (i + 1) % n == 0) {
            writer.commit().map_err(err)?;
        }
    }
    writer.commit().map_err(err)?;
    writer.wait_merging_threads().map_err(err)?;
    drop(index);
    remove_dir(&dir)?;
    fs::rename(&new, &dir).map_err(|e| crate::error::Error::io(&dir, e))?;
    open(cache_dir)
}

fn remove_dir(p: &Path) -> Result<()> {
    match fs::remove_dir_all(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::error::Error::io(p, e)),
    }
}

/// Opens the index a build left in the cache.
pub(crate) fn open(cache_dir: &Path) -> Result<Index> {
    let dir = index_dir(cache_dir);
    if !dir.join("meta.json").exists() {
        return Err(err(format!(
            "no search index in {} (run `hindsight build` first)",
            dir.display()
        )));
    }
    let read = super::directory::ReadDirectory::open(&dir).map_err(err)?;
    let index = Index::open(read).map_err(err)?;
    register(&index);
    Ok(index)
}

fn document(f: &Fields, d: SearchDoc) -> Result<TantivyDocument> {
    let meta = Meta {
        kind: match d.kind {
            DocKind::Issue => 0,
            DocKind::Commit => 1,
        },
        excerpt: excerpt(&d.body, EXCERPT_CHARS),
        key: d.key,
        title: d.title,
        path: d.path,
        status: d.status,
        itype: d.issue_type,
        year: d.year,
        project: d.project,
        components: d.components,
        fix: d.fix_versions,
        versions: d.versions,
        labels: d.labels,
    };
    let mut doc = TantivyDocument::default();
    if meta.kind == 0 {
        doc.add_text(f.title, &meta.key);
    }
    doc.add_text(f.title, &meta.title);
    for b in &d.body {
        doc.add_text(f.body, b);
    }
    for x in meta.components.iter().chain(&meta.labels) {
        doc.add_text(f.body, x);
    }
    for (field, value) in meta.facets() {
        doc.add_text(f.filter, query::filter_term(field, &value));
    }
    doc.add_text(f.filter, key_term(&meta.key));
    doc.add_text(f.text, capped_text(&d.body, STORED_TEXT_CHARS));
    doc.add_text(f.meta, serde_json::to_string(&meta).map_err(err)?);
    Ok(doc)
}

pub(crate) fn read_meta(doc: &TantivyDocument, f: &Fields) -> Result<Meta> {
    let s = doc
        .get_first(f.meta)
        .and_then(|v| v.as_str())
        .ok_or_else(|| err("a document has no stored record"))?;
    serde_json::from_str(s).map_err(err)
}

/// The terminal's search: the same query language as the site, BM25 over tantivy, documents
/// matching more word groups first.
pub(crate) fn search(cache_dir: &Path, q: &str, limit: usize) -> Result<Vec<Hit>> {
    let index = open(cache_dir)?;
    let f = fields(&index)?;
    let reader = index.reader().map_err(err)?;
    let searcher = reader.searcher();
    let parsed = query::parse(q, false);

    let mut hits: Vec<(u32, f32, DocAddress)> = Vec::new();
    let mut seen = HashSet::new();
    // A key or hash goes first.
    if let Some((term, prefix)) = &parsed.key {
        for t in expand(&searcher, f.filter, term, *prefix, 4)? {
            let tq = TermQuery::new(
                Term::from_field_text(f.filter, &t),
                IndexRecordOption::Basic,
            );
            let top = searcher
                .search(
                    &tq,
                    &tantivy::collector::TopDocs::with_limit(4).order_by_score(),
                )
                .map_err(err)?;
            for (_, addr) in top {
                if seen.insert(addr) {
                    hits.push((u32::MAX, f32::MAX, addr));
                }
            }
        }
    }

    let mut groups: Vec<Box<dyn TQuery>> = Vec::new();
    for g in &parsed.groups {
        if let Some(gq) = group_query(&searcher, &f, g)? {
            groups.push(gq);
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    for (g, gq) in parsed.groups.iter().zip(&groups) {
        let occur = if g.phrase && g.whole.is_none() && g.atoms.len() > 1 {
            Occur::Must
        } else {
            Occur::Should
        };
        clauses.push((occur, gq.box_clone()));
    }
    for (_, values) in &parsed.filters {
        let alts: Vec<(Occur, Box<dyn TQuery>)> = values
            .iter()
            .map(|v| {
                let q: Box<dyn TQuery> = Box::new(TermQuery::new(
                    Term::from_field_text(f.filter, v),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(alts))));
    }
    if !clauses.is_empty() && !groups.is_empty() || !parsed.filters.is_empty() {
        let bq = BooleanQuery::new(clauses);
        let want = (limit * 20).max(200);
        let top = searcher
            .search(
                &bq,
                &tantivy::collector::TopDocs::with_limit(want).order_by_score(),
            )
            .map_err(err)?;
        // Coordination: how many groups each candidate matches.
        let weights: Vec<_> = groups
            .iter()
            .map(|g| {
                g.weight(tantivy::query::EnableScoring::disabled_from_searcher(
                    &searcher,
                ))
            })
            .collect::<tantivy::Result<_>>()
            .map_err(err)?;
        let mut cands: Vec<(u32, f32, DocAddress)> = top
            .into_iter()
            .filter(|(_, a)| !seen.contains(a))
            .map(|(s, a)| (0, s, a))
            .collect();
        cands.sort_by_key(|c| (c.2.segment_ord, c.2.doc_id));
        for w in &weights {
            let mut cur: Option<(u32, Box<dyn tantivy::query::Scorer>)> = None;
            for c in cands.iter_mut() {
                if cur.as_ref().map(|x| x.0) != Some(c.2.segment_ord) {
                    let sr = searcher.segment_reader(c.2.segment_ord);
                    cur = Some((c.2.segment_ord, w.scorer(sr, 1.0).map_err(err)?));
                }
                let sc = &mut cur.as_mut().expect("set above").1;
                let d = if sc.doc() < c.2.doc_id {
                    sc.seek(c.2.doc_id)
                } else {
                    sc.doc()
                };
                if d == c.2.doc_id && d != TERMINATED {
                    c.0 += 1;
                }
            }
        }
        cands.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.total_cmp(&a.1))
                .then((a.2.segment_ord, a.2.doc_id).cmp(&(b.2.segment_ord, b.2.doc_id)))
        });
        hits.extend(cands);
    }
    hits.truncate(limit);

    // Snippets.
    let all: Vec<(Occur, Box<dyn TQuery>)> = groups
        .iter()
        .map(|g| (Occur::Should, g.box_clone()))
        .collect();
    let gen_query = BooleanQuery::new(all);
    let mut snippets =
        tantivy::snippet::SnippetGenerator::create(&searcher, &gen_query, f.body).map_err(err)?;
    snippets.set_max_num_chars(200);
    let mut out = Vec::with_capacity(hits.len());
    for (_, score, addr) in hits {
        let doc: TantivyDocument = searcher.doc(addr).map_err(err)?;
        let meta = read_meta(&doc, &f)?;
        let text = doc.get_first(f.text).and_then(|v| v.as_str()).unwrap_or("");
        let sn = snippets.snippet(text);
        let snippet = if sn.highlighted().is_empty() {
            meta.excerpt.clone()
        } else {
            mark(sn.fragment(), sn.highlighted())
        };
        out.push(Hit {
            key: meta.key,
            title: meta.title,
            status: meta.status,
            path: meta.path,
            snippet,
            score: if score == f32::MAX {
                f32::INFINITY
            } else {
                score
            },
        });
    }
    Ok(out)
}

fn mark(fragment: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    for r in sorted {
        match merged.last_mut() {
            Some(l) if r.start <= l.end => l.end = l.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut s = String::new();
    let mut at = 0;
    for r in &merged {
        s.push_str(&fragment[at..r.start]);
        s.push('«');
        s.push_str(&fragment[r.clone()]);
        s.push('»');
        at = r.end;
    }
    s.push_str(&fragment[at..]);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Terms of `field` equal to `term`, or (when `prefix`) starting with it: the most frequent
/// `max`, then in term order.
fn expand(
    searcher: &tantivy::Searcher,
    field: Field,
    term: &str,
    prefix: bool,
    max: usize,
) -> Result<Vec<String>> {
    if !prefix {
        let t = Term::from_field_text(field, term);
        return Ok(if searcher.doc_freq(&t).map_err(err)? > 0 {
            vec![term.to_string()]
        } else {
            vec![]
        });
    }
    let mut found: Vec<(u32, String)> = Vec::new();
    for sr in searcher.segment_readers() {
        let inv = sr.inverted_index(field).map_err(err)?;
        let mut stream = inv
            .terms()
            .range()
            .ge(term.as_bytes())
            .into_stream()
            .map_err(err)?;
        let mut n = 0;
        while stream.advance() && n < 10_000 {
            let k = stream.key();
            if !k.starts_with(term.as_bytes()) {
                break;
            }
            n += 1;
            if let Ok(s) = std::str::from_utf8(k) {
                found.push((stream.value().doc_freq, s.to_string()));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.dedup_by(|a, b| a.1 == b.1);
    found.truncate(max);
    Ok(found.into_iter().map(|x| x.1).collect())
}

/// The query for one group: its whole compound when the index has it, else its atoms as a
/// phrase; completions for a prefix; the title weighs more than the body.
fn group_query(
    searcher: &tantivy::Searcher,
    f: &Fields,
    g: &Group,
) -> Result<Option<Box<dyn TQuery>>> {
    let mut alts: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    for (field, boost) in [(f.title, TITLE_WEIGHT), (f.body, 1.0)] {
        let term_q = |t: &str| -> Box<dyn TQuery> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        let mut q: Option<Box<dyn TQuery>> = None;
        if g.prefix {
            let stem = g
                .whole
                .as_deref()
                .unwrap_or_else(|| g.atoms.last().map(String::as_str).unwrap_or_default());
            let terms = expand(searcher, field, stem, true, MAX_EXPANSIONS)?;
            if !terms.is_empty() {
                q = Some(Box::new(BooleanQuery::new(
                    terms.iter().map(|t| (Occur::Should, term_q(t))).collect(),
                )));
            }
        } else if let Some(w) = &g.whole {
            if searcher
                .doc_freq(&Term::from_field_text(field, w))
                .map_err(err)?
                > 0
            {
                q = Some(term_q(w));
            }
        }
        if q.is_none() && !g.prefix {
            q = match g.atoms.len() {
                0 => None,
                1 => Some(term_q(&g.atoms[0])),
                _ => Some(Box::new(PhraseQuery::new(
                    g.atoms
                        .iter()
                        .map(|a| Term::from_field_text(field, a))
                        .collect(),
                ))),
            };
        }
        if let Some(q) = q {
            alts.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
        }
    }
    Ok(if alts.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(alts)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::natural_cmp;

    #[test]
    fn natural_order() {
        let mut v = vec!["LU-10", "LU-9", "LU-100", "AB-2", "LU-09", "LU-1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        // Equal numbers: the shorter (unpadded) spelling first.
        assert_eq!(v, ["AB-2", "LU-1", "LU-9", "LU-09", "LU-10", "LU-100"]);
    }

    #[test]
    fn excerpts_are_capped() {
        let e = excerpt(&["word ".repeat(200)], 30);
        assert!(e.chars().count() <= 31, "{e}");
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(&["a  b\n c".into()], 30), "a b c");
    }
}
