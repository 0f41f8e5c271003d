//! Pages rendered again only when what they show changed.
//!
//! A page is a pure function of its template context, the theme's templates, the configuration
//! and the program. A [`Page`] is that context being filled: every value that goes in is also
//! written, as the JSON the template sees, into a running hash. The digest of a page (hash,
//! template name, and the build's [`salt`]) travels with its bytes to the writer, which keeps
//! it in the manifest; the next build asks the writer to keep the published page when the
//! digest is the same ([`PageSink::keep`](super::PageSink::keep)) and runs the template only
//! when it is not. Nothing has to list what a page depends on: whatever it shows is in its
//! context, so a change to it is a change to the digest.
//!
//! A fragment that is costly to make and is a function of values already hashed (a commit's
//! diff as HTML, made from the commit's id) can be left out of the context until the page must
//! be rendered; what it is made from that the context does not hold is hashed in its place
//! ([`Page::depends_on`]).

use std::hash::Hasher;

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::config::Config;
use crate::inputs::Theme;
use crate::text::html::Resolve;

/// A page's template context, and the digest of everything put into it.
///
/// The context is kept as the JSON text the digest was made from, and only becomes the
/// template's `tera::Context` ([`Page::context`]) when the page is rendered: most pages of a
/// rebuild are kept, and for them the values never become a tree of `serde_json::Value`s.
pub(super) struct Page {
    hash: Xxh3,
    /// The JSON of the value being hashed (reused: one allocation per page, not per value).
    json: Vec<u8>,
    /// The JSON of every value put into the context, one after the other.
    values: Vec<u8>,
    /// Each key put, with where its value's JSON is in `values`; a key put twice appears
    /// twice and the later value wins, as with `tera::Context::insert`.
    keys: Vec<(String, std::ops::Range<usize>)>,
}

impl Page {
    /// An empty context for a build whose program, configuration and theme hash to `salt`.
    pub(super) fn new(salt: u128) -> Page {
        let mut hash = Xxh3::new();
        hash.write_u128(salt);
        Page {
            hash,
            json: Vec::new(),
            values: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Puts `value` into the context under `key` (as `tera::Context::insert` does) and into
    /// the digest.
    pub(super) fn insert<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.field(key.as_bytes());
        self.value(value);
        self.hash.write_u8(0xff);
        let start = self.values.len();
        self.values.extend_from_slice(&self.json);
        self.keys.push((key.to_string(), start..self.values.len()));
    }

    /// The template's context: every value put in, as the template sees it.
    pub(super) fn context(&self) -> tera::Context {
        self.context_skipping(None)
    }

    /// The template's context without the value of `key`, which the caller is about to put
    /// in again, complete (a view whose costly parts were left out of the digest): its JSON
    /// is not read back into values only to be replaced.
    pub(super) fn context_without(&self, key: &str) -> tera::Context {
        self.context_skipping(Some(key))
    }

    fn context_skipping(&self, skip: Option<&str>) -> tera::Context {
        let mut object = serde_json::Map::new();
        for (k, range) in &self.keys {
            if skip == Some(k.as_str()) {
                continue;
            }
            let value: serde_json::Value = serde_json::from_slice(&self.values[range.clone()])
                .expect("the context is JSON this page wrote");
            object.insert(k.clone(), value);
        }
        tera::Context::from_value(serde_json::Value::Object(object))
            .expect("the context is a JSON object")
    }

    /// Adds to the digest something the page will show that its context does not hold yet.
    pub(super) fn depends_on<T: Serialize + ?Sized>(&mut self, what: &str, value: &T) {
        self.field(what.as_bytes());
        self.value(value);
        self.hash.write_u8(0xfe);
    }

    /// The digest of the page rendered with `template`.
    pub(super) fn digest(&self, template: &str) -> u128 {
        let mut hash = self.hash.clone();
        hash.write_u64(template.len() as u64);
        hash.write(template.as_bytes());
        hash.digest128()
    }

    /// The digest of the page rendered with `template` when its texts looked up `lookups`
    /// (see [`Lookups`]): each lookup with the answer the archive gives it now.
    pub(super) fn digest_with(
        &self,
        template: &str,
        lookups: &[String],
        resolve: &dyn Resolve,
    ) -> u128 {
        let mut page = Page {
            hash: self.hash.clone(),
            json: Vec::new(),
            values: Vec::new(),
            keys: Vec::new(),
        };
        let answers: Vec<(&str, Option<String>)> = lookups
            .iter()
            .map(|l| (l.as_str(), answer(l, resolve)))
            .collect();
        page.depends_on("lookups", &answers);
        page.digest(template)
    }

    /// Hashes `value` as JSON. Serialising it cannot fail where serialising it into the
    /// context does not (tera's insert panics on a value that cannot be serialised, as it
    /// always has).
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        self.json.clear();
        let _ = serde_json::to_writer(&mut self.json, value);
        self.hash.write_u64(self.json.len() as u64);
        self.hash.write(&self.json);
    }

    fn field(&mut self, bytes: &[u8]) {
        self.hash.write_u64(bytes.len() as u64);
        self.hash.write(bytes);
    }
}

/// A [`Resolve`] that notes every question asked of it, so that a page whose texts were
/// turned into HTML can be kept next time when the same questions get the same answers: a
/// text's HTML is a function of the text, its page's anchors and these answers alone.
pub(super) struct Lookups<'r> {
    inner: &'r dyn Resolve,
    asked: std::sync::Mutex<Vec<String>>,
}

impl<'r> Lookups<'r> {
    /// Notes the questions asked of `inner`.
    pub(super) fn new(inner: &'r dyn Resolve) -> Self {
        Lookups {
            inner,
            asked: Default::default(),
        }
    }

    /// The questions asked, each once, in the order first asked (`i:KEY`, `c:HEX`).
    pub(super) fn asked(self) -> Vec<String> {
        let mut asked = self.asked.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut seen = std::collections::HashSet::new();
        asked.retain(|q| seen.insert(q.clone()));
        asked
    }

    fn note(&self, question: String) {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(question);
    }
}

impl Resolve for Lookups<'_> {
    fn issue_path(&self, key: &str) -> Option<String> {
        self.note(format!("i:{key}"));
        self.inner.issue_path(key)
    }

    fn commit_path(&self, hex: &str) -> Option<String> {
        self.note(format!("c:{hex}"));
        self.inner.commit_path(hex)
    }
}

/// The answer `resolve` gives now to a question a [`Lookups`] noted.
fn answer(question: &str, resolve: &dyn Resolve) -> Option<String> {
    match question.split_once(':') {
        Some(("i", key)) => resolve.issue_path(key),
        Some(("c", hex)) => resolve.commit_path(hex),
        _ => Some(format!("unknown question {question}")),
    }
}

/// What every page of a build depends on besides its context: the program (`program`, an
/// identity of the running binary the caller provides), the configuration and every file of
/// the theme (templates, macros and included files alike).
pub fn salt(program: u128, config: &Config, theme: &Theme) -> u128 {
    let mut hash = Xxh3::new();
    hash.write_u128(program);
    let config = format!("{config:?}");
    hash.write_u64(config.len() as u64);
    hash.write(config.as_bytes());
    for (path, bytes) in &theme.files {
        hash.write_u64(path.len() as u64);
        hash.write(path.as_bytes());
        hash.write_u64(bytes.len() as u64);
        hash.write(bytes);
    }
    hash.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_follows_every_value_its_key_and_the_template() {
        let page = |title: &str, n: u32| {
            let mut p = Page::new(7);
            p.insert("title", title);
            p.insert("n", &n);
            p
        };
        let a = page("LU-1", 3).digest("issue.html");
        assert_eq!(a, page("LU-1", 3).digest("issue.html"));
        assert_ne!(a, page("LU-2", 3).digest("issue.html"));
        assert_ne!(a, page("LU-1", 4).digest("issue.html"));
        assert_ne!(a, page("LU-1", 3).digest("commit.html"));
        // The same bytes under other keys, or split otherwise, are another page.
        let mut moved = Page::new(7);
        moved.insert("titl", "eLU-1");
        moved.insert("n", &3);
        assert_ne!(a, moved.digest("issue.html"));
        let mut salted = Page::new(8);
        salted.insert("title", "LU-1");
        salted.insert("n", &3);
        assert_ne!(a, salted.digest("issue.html"));
        let mut more = page("LU-1", 3);
        more.depends_on("diff", "abc");
        assert_ne!(a, more.digest("issue.html"));
    }

    #[test]
    fn a_page_with_texts_depends_on_the_answers_to_what_they_looked_up() {
        let archive = |key: &str| (key == "LU-1").then(|| "issues/LU/0/LU-1".to_string());
        let lookups = Lookups::new(&archive);
        assert!(lookups.issue_path("LU-1").is_some());
        assert!(lookups.issue_path("LU-2").is_none());
        assert!(lookups.issue_path("LU-1").is_some());
        assert_eq!(lookups.commit_path("abc1234"), None);
        let asked = lookups.asked();
        assert_eq!(asked, ["i:LU-1", "i:LU-2", "c:abc1234"]);
        let mut p = Page::new(1);
        p.insert("title", "t");
        let before = p.digest_with("issue.html", &asked, &archive);
        assert_eq!(before, p.digest_with("issue.html", &asked, &archive));
        // LU-2 now exists: the text that mentions it would link it.
        let grown = |key: &str| key.starts_with("LU-").then(|| format!("issues/LU/0/{key}"));
        assert_ne!(before, p.digest_with("issue.html", &asked, &grown));
        assert_ne!(before, p.digest("issue.html"));
    }

    #[test]
    fn the_context_is_what_tera_would_have_been_given() {
        #[derive(Serialize)]
        struct Row {
            key: &'static str,
            score: f64,
            big: u64,
            gone: Option<i32>,
            by_year: std::collections::BTreeMap<i32, Vec<&'static str>>,
        }
        let row = Row {
            key: "LU-1 \"quoted\" \u{e9}",
            score: 0.1 + 0.2,
            big: u64::MAX,
            gone: None,
            by_year: [(2009, vec!["a"]), (-1, vec![])].into_iter().collect(),
        };
        let mut p = Page::new(0);
        let mut t = tera::Context::new();
        p.insert("items", &vec!["a", "b"]);
        t.insert("items", &vec!["a", "b"]);
        p.insert("row", &row);
        t.insert("row", &row);
        // A key put again: the later value wins, as with tera's insert.
        p.insert("items", &3);
        t.insert("items", &3);
        assert_eq!(p.context(), t);
        assert_eq!(Page::new(0).context(), tera::Context::new());
        // Without a key, then the key put in again: the same context.
        let mut without = p.context_without("row");
        assert!(!without.contains_key("row"));
        without.insert("row", &row);
        assert_eq!(without, t);
    }
}
