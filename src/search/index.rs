//! The tantivy side: the schema and the indexing into the build cache, from which
//! [`super::export`] writes the static index.
//!
//! The index lives in `<cache>/search/` and is rebuilt by every build (in `search.new/`, swapped
//! in when complete). Its segments are left unmerged: the export reads their term
//! dictionaries side by side.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::query::{self, key_term};
use super::tokenize::{
    TantivyPairTokenizer, TantivyTokenizer, PAIR_TOKENIZER_NAME, TOKENIZER_NAME,
};
use super::{err, DocKind, SearchDoc};
use crate::error::Result;

/// Bytes of a document's text kept for its snippets (the text shard); a match further in still
/// finds the document, and its snippet is the start of the text.
pub const TEXT_MAX_BYTES: usize = 64 * 1024;
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
    /// Pairs of atoms next to each other in the title and the body ([`super::tokenize::pairs`]):
    /// the postings of quoted phrases, weighed as the title and the body are.
    pub title_pairs: Field,
    pub body_pairs: Field,
    /// The document's text as its snippets are cut from ([`search_text`]), stored.
    pub text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let pairs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PAIR_TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        filter: b.add_text_field("filter", STRING),
        meta: b.add_text_field("meta", STORED),
        title_pairs: b.add_text_field("title_pairs", pairs.clone()),
        body_pairs: b.add_text_field("body_pairs", pairs),
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
        title_pairs: f("title_pairs")?,
        body_pairs: f("body_pairs")?,
        text: f("text")?,
    })
}

fn register(index: &Index) {
    index
        .tokenizers()
        .register(TOKENIZER_NAME, TantivyTokenizer::default());
    index
        .tokenizers()
        .register(PAIR_TOKENIZER_NAME, TantivyPairTokenizer::default());
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
    pub project: Option<String>,
    pub components: Vec<String>,
    pub fix: Vec<String>,
    pub versions: Vec<String>,
    pub labels: Vec<String>,
    /// Whether the document's text was cut to [`TEXT_MAX_BYTES`]: a phrase past the cut can
    /// not be checked against the text, so its pairs are taken at their word.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
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

/// A document's text as the static index keeps it for snippets: its blocks with every run of
/// whitespace made one space, cut to [`TEXT_MAX_BYTES`] at a character boundary.
/// Says too whether anything was cut.
pub(crate) fn search_text(blocks: &[String]) -> (String, bool) {
    let mut out = String::new();
    for b in blocks {
        for w in b.split_whitespace() {
            let space = usize::from(!out.is_empty());
            if out.len() + space + w.len() > TEXT_MAX_BYTES {
                if space == 1 && out.len() + 1 < TEXT_MAX_BYTES {
                    out.push(' ');
                    for c in w.chars() {
                        if out.len() + c.len_utf8() > TEXT_MAX_BYTES {
                            break;
                        }
                        out.push(c);
                    }
                }
                return (out, true);
            }
            if space == 1 {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    (out, false)
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
    let (text, cut) = search_text(&d.body);
    let meta = Meta {
        cut,
        kind: match d.kind {
            DocKind::Issue => 0,
            DocKind::Commit => 1,
        },
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
        doc.add_text(f.title_pairs, &meta.key);
    }
    doc.add_text(f.title, &meta.title);
    doc.add_text(f.title_pairs, &meta.title);
    for b in d.body.iter().chain(&meta.components).chain(&meta.labels) {
        doc.add_text(f.body, b);
        doc.add_text(f.body_pairs, b);
    }
    doc.add_text(f.text, text);
    for (field, value) in meta.facets() {
        doc.add_text(f.filter, query::filter_term(field, &value));
        if matches!(field, "fix" | "version") {
            for bare in bare_versions(&value) {
                doc.add_text(f.filter, query::filter_term(field, &bare));
            }
        }
    }
    doc.add_text(f.filter, key_term(&meta.key));
    doc.add_text(f.meta, serde_json::to_string(&meta).map_err(err)?);
    Ok(doc)
}

/// The bare version numbers a version name also answers to, as users type them:
/// `Lustre 2.15.3` → `2.15.3` and `2.15` (every 2.15.x); `2.15.3` → `2.15`. Whatever product
/// name the archive's versions share, `fix:2.15.0` and `version:2.12` find them.
fn bare_versions(name: &str) -> Vec<String> {
    let name = name.trim();
    let start = name
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    let number = name[start..].trim_matches('.');
    let parts: Vec<&str> = number.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if number != name {
        out.push(number.to_string());
    }
    if parts.len() > 2 {
        out.push(parts[..2].join("."));
    }
    out
}

pub(crate) fn read_meta(doc: &TantivyDocument, f: &Fields) -> Result<Meta> {
    let s = doc
        .get_first(f.meta)
        .and_then(|v| v.as_str())
        .ok_or_else(|| err("a document has no stored record"))?;
    serde_json::from_str(s).map_err(err)
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
    fn versions_answer_to_their_bare_numbers() {
        assert_eq!(bare_versions("Lustre 2.15.3"), ["2.15.3", "2.15"]);
        assert_eq!(bare_versions("2.15.3"), ["2.15"]);
        assert_eq!(bare_versions("v2.12"), ["2.12"]);
        assert!(bare_versions("2.12").is_empty());
        assert!(bare_versions("Future release").is_empty());
        assert!(bare_versions("Lustre 2").is_empty());
    }

    #[test]
    fn texts_are_collapsed_and_capped() {
        let short = search_text(&["a  b\n c".into(), " d ".into()]);
        assert_eq!(short, ("a b c d".to_string(), false));
        let (long, cut) = search_text(&["wörd ".repeat(30_000)]);
        assert!(cut);
        assert!(long.len() <= TEXT_MAX_BYTES && long.len() > TEXT_MAX_BYTES - 8);
        assert!(long.starts_with("wörd wörd"));
        assert_eq!(search_text(&[]), (String::new(), false));
    }
}
