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
//!
//! An issue page goes further: neither its view nor its texts' HTML go into its digest, but
//! the digest of its published issue and the answers to the questions rendering it asked of
//! the archive ([`Page::digest_with`], [`super::asked`]), so that a rebuild knows the page
//! unchanged without reading its issue.

use std::hash::Hasher;

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::config::Config;
use crate::inputs::Theme;

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

    /// A page whose digest starts as this one's, without its context: for digests taken on
    /// top of a shared frame (every issue page's context but its issue), which is not copied.
    pub(super) fn digest_only(&self) -> Page {
        Page {
            hash: self.hash.clone(),
            json: Vec::new(),
            values: Vec::new(),
            keys: Vec::new(),
        }
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

    /// The digest of the page rendered with `template` when rendering it asked the archive
    /// `questions` (see [`super::asked`]): each question with the answer `answer` gives it now.
    pub(super) fn digest_with(
        &self,
        template: &str,
        questions: &[String],
        answer: &dyn Fn(&str) -> Option<String>,
    ) -> u128 {
        let mut hash = self.hash.clone();
        for question in questions {
            hash.write_u64(question.len() as u64);
            hash.write(question.as_bytes());
            match answer(question) {
                Some(a) => {
                    hash.write_u8(1);
                    hash.write_u64(a.len() as u64);
                    hash.write(a.as_bytes());
                }
                None => hash.write_u8(0),
            }
        }
        hash.write_u64(questions.len() as u64);
        hash.write_u8(0xfd);
        hash.write_u64(template.len() as u64);
        hash.write(template.as_bytes());
        hash.digest128()
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
    fn a_page_depends_on_the_answers_to_what_it_asked() {
        let archive = |q: &str| (q == "i:LU-1").then(|| "issues/LU/0/LU-1".to_string());
        let asked = ["i:LU-1".to_string(), "i:LU-2".to_string()];
        let mut p = Page::new(1);
        p.insert("title", "t");
        let before = p.digest_with("issue.html", &asked, &archive);
        assert_eq!(before, p.digest_with("issue.html", &asked, &archive));
        // LU-2 now exists: the text that mentions it would link it.
        let grown = |q: &str| q.strip_prefix("i:").map(|key| format!("issues/LU/0/{key}"));
        assert_ne!(before, p.digest_with("issue.html", &asked, &grown));
        // Another question, the same questions in another order, another template.
        let other = ["i:LU-1".to_string(), "i:LU-3".to_string()];
        assert_ne!(before, p.digest_with("issue.html", &other, &archive));
        let swapped = [asked[1].clone(), asked[0].clone()];
        assert_ne!(before, p.digest_with("issue.html", &swapped, &archive));
        assert_ne!(before, p.digest_with("commit.html", &asked, &archive));
        // No answer is not an empty answer.
        let empty = |q: &str| Some(archive(q).unwrap_or_default());
        assert_ne!(before, p.digest_with("issue.html", &asked, &empty));
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
