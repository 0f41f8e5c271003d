//! The static index's reader: the search a built site answers, run from its own `search/`
//! files, exactly as `static/search.js` runs it in the browser.
//!
//! `hindsight search --site DIR` reads the same files the page loads (`search/root.js`, the
//! term tree, the leaves, the postings chunks, the record shards), parses the query with the
//! same grammar ([`super::query`]) and ranks with the same algorithm, step for step: the same
//! term selection, the same impact-ordered chunk loading and early stop, the same integer
//! scores (the weights table `w` of `root.js`), the same tie breaks. So the terminal, the page
//! while typing, the page after Enter and a shared `search.html?q=…` link give the same
//! ordered results; `tests/testsuite/search_parity.rs` holds them to it. The site can be any
//! copy (a USB stick, a mirror): no config and no build cache are needed.
//!
//! The JavaScript twin of each function here has the same name in `search.js`.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::query::{self, Group, Query, MAX_EXPANSIONS};
use super::tokenize::{is_bigram, pair_term, tokenize, tokenize_units};
use crate::error::{Error, Result};

/// Characters of postings read before a query answers with what it has (`BUDGET_CHARS`).
const BUDGET_CHARS: usize = 100_000;
/// Weight of a term that is the word itself, and of a completion of a prefix.
const EXACT_WEIGHT: u64 = 5;
const COMPLETION_WEIGHT: u64 = 4;
/// A snippet is about this long, in UTF-16 units as JavaScript counts (`SNIPPET_SPAN`)…
const SNIPPET_SPAN: usize = 240;
/// …and starts about this far before its first match (`SNIPPET_CONTEXT`).
const SNIPPET_CONTEXT: usize = 60;

/// One result, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    /// Issue key or commit sha.
    pub key: String,
    /// `issue` or `commit`.
    pub kind: &'static str,
    /// Summary or subject.
    pub title: String,
    /// Issue status.
    pub status: Option<String>,
    /// Site-relative page path.
    pub path: String,
    /// The passage of the document's text where the query's words are (the start of the text
    /// when they are only in the title), the matched words between `«` and `»`: what the page
    /// shows, with `<mark>` for the quotes.
    pub snippet: String,
}

/// What a query found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The results asked for, best first (a key the query names comes first).
    pub results: Vec<SearchResult>,
    /// How many documents match (`exact`: counted to the end; otherwise at least this many).
    pub total: usize,
    /// Whether `total` is exact.
    pub exact: bool,
    /// Notes about how the query was read (unknown filter, malformed value, missing key).
    pub notes: Vec<String>,
}

/// A built site's static index, read from its files on demand.
pub struct StaticIndex {
    dir: PathBuf,
    root: Root,
    /// Index files read so far, shared (a postings file is read once, not copied per chunk).
    files: RefCell<HashMap<String, std::rc::Rc<Value>>>,
    leaves: RefCell<HashMap<String, std::rc::Rc<Leaf>>>,
}

struct Root {
    /// Documents in the index.
    n: usize,
    /// Documents per record shard.
    g: usize,
    /// log2 of documents per filter block.
    fb: u32,
    /// Height of the term tree, its top level's separators and their nodes' (or leaves') names.
    h: usize,
    t: Vec<String>,
    c: Vec<String>,
    /// Score of each impact level.
    w: Vec<u64>,
    /// The Bugzilla key prefix, folded (`bz`), when the archive has one.
    bz: Option<String>,
}

struct Entry {
    /// The leaf it is in, whose files hold its postings.
    leaf: std::rc::Rc<str>,
    term: String,
    df: u64,
    /// The first chunk of its postings.
    first: String,
    extra: usize,
    base: usize,
}

struct Leaf {
    terms: Vec<std::rc::Rc<Entry>>,
    by_term: HashMap<String, std::rc::Rc<Entry>>,
}

/// A term chosen for a group, and how far its postings have been read.
struct Term {
    e: std::rc::Rc<Entry>,
    group: usize,
    atom: u32,
    weight: u64,
    chunks: usize,
    done: bool,
    min_q: usize,
}

/// A term chosen for a group: its entry, its atom's position in the group, its weight.
type Chosen = (std::rc::Rc<Entry>, u32, u64);

/// The terms of one group (`resolveGroup`'s `sel`).
#[derive(Default)]
struct Sel {
    atoms: u32,
    phrase: bool,
    required: bool,
    /// Terms found in the index for the group's atoms (a quoted phrase: its pairs).
    found: u32,
    /// A quoted phrase of three words or more, matched by its pairs: its words, which a
    /// document's text must hold in a row before the document is listed (`sel.check`).
    check: Option<Vec<String>>,
}

struct Hit {
    ord: usize,
    groups: usize,
    score: u64,
}

struct Ranked {
    hits: Vec<Hit>,
    exact: bool,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64v(c: u8) -> u64 {
    B64.iter().position(|&x| x == c).unwrap_or(0) as u64
}

/// Reads the index's numbers (`Reader` in search.js).
struct Reader<'s> {
    s: &'s [u8],
    i: usize,
}

impl Reader<'_> {
    fn vlq(&mut self) -> u64 {
        let (mut v, mut mul) = (0u64, 1u64);
        loop {
            let d = b64v(self.s.get(self.i).copied().unwrap_or(b'A'));
            self.i += 1;
            v += (d & 31) * mul;
            mul = mul.saturating_mul(32);
            if d < 32 || self.i > self.s.len() {
                return v;
            }
        }
    }
    fn digit(&mut self) -> u64 {
        let d = b64v(self.s.get(self.i).copied().unwrap_or(b'A'));
        self.i += 1;
        d
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
}

fn bucket(prefix: &str, i: usize) -> String {
    format!("{prefix}/{}/{}", i / 1000, i % 1000)
}

/// File `k` of leaf `name`: the leaf, then its postings files (`leafFile`).
fn leaf_file(name: &str, k: usize) -> String {
    match k {
        0 => format!("l/{name}"),
        k => format!("l/{name}-{k}"),
    }
}

fn malformed(what: impl std::fmt::Display) -> Error {
    super::err(format!("malformed static index: {what}"))
}

impl StaticIndex {
    /// Opens the static index of the site in `site` (its `search/root.js` must exist).
    pub fn open(site: &Path) -> Result<Self> {
        let mut index = StaticIndex {
            dir: site.join("search"),
            root: Root {
                n: 0,
                g: 1,
                fb: 0,
                h: 0,
                t: Vec::new(),
                c: Vec::new(),
                w: Vec::new(),
                bz: None,
            },
            files: Default::default(),
            leaves: Default::default(),
        };
        let r = index.get("root")?;
        let num = |k: &str| r.get(k).and_then(Value::as_u64).ok_or_else(|| malformed(k));
        let version = num("v")?;
        if version != u64::from(super::export::FORMAT) {
            return Err(super::err(format!(
                "{} holds a search index of format {version}, and this program reads format {}: \
                 build the site again with it (or search it with the program that built it)",
                site.display(),
                super::export::FORMAT
            )));
        }
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        index.root = Root {
            n: num("n")? as usize,
            g: num("g")?.max(1) as usize,
            fb: num("fb")? as u32,
            h: num("h")? as usize,
            t: strings(r.get("t")),
            c: strings(r.get("c")),
            w: r.get("w")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .filter(|w: &Vec<u64>| w.len() > 64)
                .ok_or_else(|| malformed("root.js has no weights table `w`"))?,
            bz: r.get("bz").and_then(Value::as_str).map(str::to_string),
        };
        Ok(index)
    }

    /// The data of index file `id` (`search/<id>.js`, `hindsightSearch.load("<id>", DATA);`).
    fn get(&self, id: &str) -> Result<std::rc::Rc<Value>> {
        if let Some(v) = self.files.borrow().get(id) {
            return Ok(std::rc::Rc::clone(v));
        }
        let path = self.dir.join(format!("{id}.js"));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let head = format!(
            "hindsightSearch.load({},",
            serde_json::to_string(id).unwrap_or_default()
        );
        let data = text
            .strip_prefix(&head)
            .and_then(|t| t.trim_end().strip_suffix(");"))
            .ok_or_else(|| malformed(format!("{} is not an index script", path.display())))?;
        let v: Value = serde_json::from_str(data)
            .map_err(|e| malformed(format!("{}: {e}", path.display())))?;
        let v = std::rc::Rc::new(v);
        self.files
            .borrow_mut()
            .insert(id.to_string(), std::rc::Rc::clone(&v));
        Ok(v)
    }

    /// Index of the last separator <= term (0 if none).
    fn child(seps: &[String], term: &str) -> usize {
        let (mut lo, mut hi) = (0usize, seps.len().saturating_sub(1));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if seps[mid].as_str() <= term {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// A node of the term tree: its children's separators and names.
    fn node(&self, name: &str) -> Result<(Vec<String>, Vec<String>)> {
        let id = format!("n/{name}");
        let v = self.get(&id)?;
        let list = |i: usize| -> Result<Vec<String>> {
            Ok(v.get(i)
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(&id))?
                .iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect())
        };
        let (seps, names) = (list(0)?, list(1)?);
        if seps.len() != names.len() || seps.is_empty() {
            return Err(malformed(&id));
        }
        Ok((seps, names))
    }

    /// The name of the leaf that holds `term` if the index has it (`leafName`).
    fn leaf_name(&self, term: &str) -> Result<String> {
        let (mut seps, mut names) = (self.root.t.clone(), self.root.c.clone());
        let mut h = self.root.h;
        loop {
            let name = names
                .get(Self::child(&seps, term))
                .ok_or_else(|| malformed("a tree level without names"))?
                .clone();
            if h == 0 {
                return Ok(name);
            }
            (seps, names) = self.node(&name)?;
            h -= 1;
        }
    }

    fn leaf(&self, name: &str) -> Result<std::rc::Rc<Leaf>> {
        if let Some(l) = self.leaves.borrow().get(name) {
            return Ok(l.clone());
        }
        let data = self.get(&leaf_file(name, 0))?;
        let leaf = std::rc::Rc::new(parse_leaf(&data, name)?);
        self.leaves
            .borrow_mut()
            .insert(name.to_string(), leaf.clone());
        Ok(leaf)
    }

    fn lookup(&self, term: &str) -> Result<Option<std::rc::Rc<Entry>>> {
        let leaf = self.leaf(&self.leaf_name(term)?)?;
        Ok(leaf.by_term.get(term).cloned())
    }

    /// Leaves that may hold terms starting with `p` (at most `max`).
    fn prefix_leaves(&self, p: &str, max: usize) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let (seps, names) = (self.root.t.clone(), self.root.c.clone());
        self.walk((&seps, &names), self.root.h, true, p, max, &mut out)?;
        Ok(out)
    }

    fn walk(
        &self,
        (seps, names): (&[String], &[String]),
        h: usize,
        first: bool,
        p: &str,
        max: usize,
        out: &mut Vec<String>,
    ) -> Result<bool> {
        let lo = if first { Self::child(seps, p) } else { 0 };
        let mut j = lo;
        loop {
            if j >= seps.len() || out.len() >= max {
                return Ok(true);
            }
            if j > lo && !seps[j].starts_with(p) {
                return Ok(false);
            }
            let name = names
                .get(j)
                .ok_or_else(|| malformed("a tree level without names"))?;
            let is_first = first && j == lo;
            j += 1;
            if h == 0 {
                out.push(name.clone());
                continue;
            }
            let (seps, names) = self.node(name)?;
            if !self.walk((&seps, &names), h - 1, is_first, p, max, out)? {
                return Ok(false);
            }
        }
    }

    fn expand(&self, stem: &str) -> Result<Vec<std::rc::Rc<Entry>>> {
        let mut found = Vec::new();
        for l in self.prefix_leaves(stem, 3)? {
            for e in &self.leaf(&l)?.terms {
                if e.term.len() > stem.len() && e.term.starts_with(stem) && !e.term.contains(':') {
                    found.push(e.clone());
                }
            }
        }
        found.sort_by(|a, b| b.df.cmp(&a.df).then_with(|| a.term.cmp(&b.term)));
        found.truncate(MAX_EXPANSIONS);
        Ok(found)
    }

    /// The k-th chunk (0-based) of a term's postings.
    fn chunk(&self, e: &Entry, k: usize) -> Result<String> {
        if k == 0 {
            return Ok(e.first.clone());
        }
        Ok(self
            .get(&leaf_file(&e.leaf, e.base + k - 1))?
            .get(0)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// A filter term's documents, added to `set`.
    fn filter_docs(&self, e: &Entry, set: &mut HashSet<usize>) -> Result<()> {
        for k in 0..=e.extra {
            let s = self.chunk(e, k)?;
            if s.is_empty() {
                continue;
            }
            let mut rd = Reader {
                s: s.as_bytes(),
                i: 0,
            };
            let start = rd.vlq() as usize * (1usize << self.root.fb);
            let kind = s.as_bytes().get(rd.i).copied();
            rd.i += 1;
            if kind == Some(b'l') {
                let mut d = start + rd.vlq() as usize;
                set.insert(d);
                while !rd.done() {
                    d += rd.vlq() as usize + 1;
                    set.insert(d);
                }
            } else {
                for (n, c) in s.as_bytes()[rd.i.min(s.len())..].iter().enumerate() {
                    let v = b64v(*c);
                    for b in 0..6 {
                        if v & (1 << b) != 0 {
                            set.insert(start + n * 6 + b);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn record(&self, ord: usize) -> Result<Value> {
        let shard = self.get(&bucket("d", ord / self.root.g))?;
        shard
            .get(ord % self.root.g)
            .cloned()
            .ok_or_else(|| malformed(format!("no record for document {ord}")))
    }

    fn resolve_group(&self, g: &Group) -> Result<(Sel, Vec<Chosen>)> {
        let mut sel = Sel::default();
        let mut terms = Vec::new();
        if g.prefix {
            let stem = g
                .whole
                .clone()
                .or_else(|| g.atoms.last().cloned())
                .unwrap_or_default();
            let cjk = stem.chars().next().is_some_and(is_bigram);
            if let Some(e) = self.lookup(&stem)? {
                terms.push((e, 0, EXACT_WEIGHT));
            }
            if stem.chars().count() >= 2 || cjk {
                for e in self.expand(&stem)? {
                    terms.push((e, 0, COMPLETION_WEIGHT));
                }
            }
            sel.atoms = 1;
            return Ok((sel, terms));
        }
        if let Some(whole) = &g.whole {
            if let Some(e) = self.lookup(whole)? {
                terms.push((e, 0, EXACT_WEIGHT));
                sel.atoms = 1;
                return Ok((sel, terms));
            }
        }
        if g.quoted && g.atoms.len() > 1 {
            // A quoted phrase: the documents that hold each two of its words next to each
            // other, in order (the pair terms of the index).
            for (i, w) in g.atoms.windows(2).enumerate() {
                if let Some(e) = self.lookup(&pair_term(&w[0], &w[1]))? {
                    terms.push((e, i as u32, EXACT_WEIGHT));
                }
            }
            sel.atoms = g.atoms.len() as u32 - 1;
            sel.phrase = true;
            sel.required = true;
            sel.found = terms.len() as u32;
            if g.atoms.len() > 2 {
                sel.check = Some(g.atoms.clone());
            }
            return Ok((sel, terms));
        }
        for (i, a) in g.atoms.iter().enumerate() {
            if let Some(e) = self.lookup(a)? {
                terms.push((e, i as u32, EXACT_WEIGHT));
            }
        }
        sel.atoms = g.atoms.len() as u32;
        sel.phrase = g.atoms.len() > 1;
        sel.found = terms.len() as u32;
        Ok((sel, terms))
    }

    fn resolve_key(&self, key: &(String, bool)) -> Result<Vec<usize>> {
        let mut entries = Vec::new();
        if key.1 {
            for l in self.prefix_leaves(&key.0, 1)? {
                for e in &self.leaf(&l)?.terms {
                    if e.term.starts_with(&key.0) {
                        entries.push(e.clone());
                    }
                }
            }
            entries.truncate(5);
        } else if let Some(e) = self.lookup(&key.0)? {
            entries.push(e);
        }
        let mut out = Vec::new();
        for e in entries {
            let mut set = HashSet::new();
            self.filter_docs(&e, &mut set)?;
            out.extend(set);
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The note for a filter whose value no document has, with the nearest value the field
    /// does have (`facets.js`) when one is close (`unknownValue` in search.js).
    fn unknown_value(&self, field: &str, term: &str) -> Result<String> {
        let typed = term
            .strip_prefix(field)
            .and_then(|t| t.strip_prefix(':'))
            .unwrap_or(term);
        let facets = self.get("facets")?;
        let mut best: Option<(usize, String)> = None;
        for v in facets
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = v.get(0).and_then(Value::as_str) else {
                continue;
            };
            let t = query::filter_term(field, name);
            let folded = t
                .strip_prefix(field)
                .and_then(|t| t.strip_prefix(':'))
                .unwrap_or(&t);
            let d = edit_distance(typed, folded);
            if best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((d, name.to_string()));
            }
        }
        let limit = 2.min(typed.chars().count().saturating_sub(1));
        Ok(match best {
            Some((d, name)) if d <= limit => {
                format!("no document has {field} \"{typed}\"; did you mean {name}?")
            }
            _ => format!("no document has {field} \"{typed}\""),
        })
    }

    /// Runs `q` and returns its first `want` results, as the page shows them.
    pub fn search(&self, q: &str, want: usize) -> Result<Answer> {
        let pq = query::parse(q);
        let mut notes = pq.notes.clone();
        let mut highlight: BTreeSet<String> = BTreeSet::new();
        let mut sels = Vec::new();
        let mut terms = Vec::new();
        for (gi, g) in pq.groups.iter().enumerate() {
            let (sel, ts) = self.resolve_group(g)?;
            for (e, atom, weight) in ts {
                if !e.term.starts_with('"') {
                    highlight.insert(e.term.clone());
                }
                terms.push(Term {
                    e,
                    group: gi,
                    atom,
                    weight,
                    chunks: 0,
                    done: false,
                    min_q: 64,
                });
            }
            highlight.extend(g.atoms.iter().cloned());
            if let Some(w) = &g.whole {
                highlight.insert(w.clone());
            }
            sels.push(sel);
        }
        // `bug 1234` is the key `BZ-1234` in an archive whose Bugzilla prefix is `BZ`.
        let key = pq.key.clone().or_else(|| {
            let (bz, n) = (self.root.bz.as_ref()?, pq.bug.as_ref()?);
            Some((query::key_term(&format!("{bz}-{n}")), false))
        });
        let key_ords = match &key {
            Some(k) => self.resolve_key(k)?,
            None => Vec::new(),
        };
        let mut filter_sets = Vec::new();
        for (field, values) in &pq.filters {
            let mut set = HashSet::new();
            let mut known = false;
            for v in values {
                if let Some(e) = self.lookup(v)? {
                    known = true;
                    self.filter_docs(&e, &mut set)?;
                }
            }
            if !known {
                notes.push(self.unknown_value(field, &values[0])?);
            }
            filter_sets.push(set);
        }
        filter_sets.sort_by_key(|s| s.len());
        let mut excluded = HashSet::new();
        for (_, values) in &pq.exclude {
            for v in values {
                if let Some(e) = self.lookup(v)? {
                    self.filter_docs(&e, &mut excluded)?;
                }
            }
        }
        let allowed =
            |d: usize| filter_sets.iter().all(|s| s.contains(&d)) && !excluded.contains(&d);
        let keys: Vec<usize> = key_ords.into_iter().filter(|&d| allowed(d)).collect();
        if let Some((_, false)) = &key {
            if keys.is_empty() {
                // A key the archive does not hold: say so, and list nothing in its place.
                let key = q.trim();
                notes.push(format!("{key} is not in this archive"));
                return Ok(Answer {
                    results: Vec::new(),
                    total: 0,
                    exact: true,
                    notes,
                });
            }
        }
        let ranked = self.rank(
            &sels,
            &mut terms,
            &allowed,
            &filter_sets,
            !excluded.is_empty(),
            want,
        )?;
        let extra_keys = keys
            .iter()
            .filter(|d| !ranked.hits.iter().any(|h| h.ord == **d))
            .count();
        let total = ranked.hits.len() + extra_keys;
        let results = self.page(&pq, &keys, &ranked.hits, want, &highlight)?;
        Ok(Answer {
            results,
            total,
            exact: ranked.exact,
            notes,
        })
    }

    fn rank(
        &self,
        sels: &[Sel],
        terms: &mut [Term],
        allowed: &dyn Fn(usize) -> bool,
        filter_sets: &[HashSet<usize>],
        excluding: bool,
        want: usize,
    ) -> Result<Ranked> {
        let w = &self.root.w;
        let ng = sels.len();
        // ord -> (per-group score, per-group atom mask)
        let mut docs: HashMap<usize, (Vec<u64>, Vec<u32>)> = HashMap::new();
        let mut chars = 0usize;
        let score_of = |q: usize| w.get(q).copied().unwrap_or(0);
        // A quoted phrase none of whose documents exist (a pair of its words is nowhere):
        // nothing matches.
        if sels.iter().any(|s| s.required && s.found < s.atoms) {
            return Ok(Ranked {
                hits: Vec::new(),
                exact: true,
            });
        }

        if terms.is_empty() {
            // Only filters (or nothing): the filtered documents, newest first.
            let candidates: Vec<usize> = match filter_sets.first() {
                Some(first) => first.iter().copied().collect(),
                // Only exclusions: every other document.
                None if excluding => (0..self.root.n).collect(),
                None => Vec::new(),
            };
            let mut hits: Vec<Hit> = candidates
                .into_iter()
                .filter(|&d| allowed(d))
                .map(|d| Hit {
                    ord: d,
                    groups: 0,
                    score: 0,
                })
                .collect();
            hits.sort_by_key(|h| std::cmp::Reverse(h.ord));
            return Ok(Ranked { hits, exact: true });
        }

        let full = |sel: &Sel| (1u32 << sel.atoms.min(31)).wrapping_sub(1);
        // Quoted phrases of three words or more: their pairs narrow the candidates, the text
        // of each candidate about to be listed decides (`checked`); one that fails is out.
        let checks: Vec<&[String]> = sels.iter().filter_map(|s| s.check.as_deref()).collect();
        let mut checked: HashSet<usize> = HashSet::new();
        let mut rejected: HashSet<usize> = HashSet::new();
        let mut load: Vec<usize> = (0..terms.len()).collect();
        loop {
            for &ti in &load {
                let t = &mut terms[ti];
                let s = self.chunk(&t.e, t.chunks)?;
                let mut buf = Vec::new();
                t.min_q = decode_impacts(&s, &mut buf);
                chars += s.len();
                t.chunks += 1;
                let sel = &sels[t.group];
                for (q, d) in buf {
                    if (excluding || !filter_sets.is_empty()) && !allowed(d)
                        || rejected.contains(&d)
                    {
                        continue;
                    }
                    let x = docs.entry(d).or_insert_with(|| (vec![0; ng], vec![0; ng]));
                    let sc = score_of(q) * t.weight;
                    if sel.phrase {
                        x.0[t.group] += sc;
                        x.1[t.group] |= 1 << t.atom.min(30);
                    } else {
                        if sc > x.0[t.group] {
                            x.0[t.group] = sc;
                        }
                        x.1[t.group] = 1;
                    }
                }
                if t.chunks > t.e.extra {
                    t.done = true;
                }
            }

            // ranked()
            let mut list: Vec<Hit> = Vec::with_capacity(docs.len());
            for (&ord, (gs, am)) in &docs {
                // A document is listed only once it holds every quoted phrase (one seen in
                // other postings may still get it from unread ones: `settled` counts that).
                let ok = sels
                    .iter()
                    .enumerate()
                    .all(|(g, sel)| !sel.required || am[g] == full(sel));
                if ok {
                    let groups = sels
                        .iter()
                        .enumerate()
                        .filter(|(g, sel)| {
                            if sel.phrase {
                                am[*g] == full(sel)
                            } else {
                                am[*g] != 0
                            }
                        })
                        .count();
                    list.push(Hit {
                        ord,
                        groups,
                        score: gs.iter().sum(),
                    });
                }
            }
            list.sort_by(|a, b| {
                b.groups
                    .cmp(&a.groups)
                    .then(b.score.cmp(&a.score))
                    .then(b.ord.cmp(&a.ord))
            });

            if !checks.is_empty() {
                let pending: Vec<usize> = list
                    .iter()
                    .take(want)
                    .map(|h| h.ord)
                    .filter(|d| !checked.contains(d))
                    .collect();
                if !pending.is_empty() {
                    for d in pending {
                        if self.holds_phrases(d, &checks)? {
                            checked.insert(d);
                        } else {
                            rejected.insert(d);
                            docs.remove(&d);
                        }
                    }
                    load.clear();
                    continue;
                }
            }

            // settled()
            let mut per = vec![0u64; ng];
            let mut open_g = vec![false; ng];
            let mut any = false;
            for t in terms.iter().filter(|t| !t.done) {
                any = true;
                open_g[t.group] = true;
                let v = score_of(t.min_q) * t.weight;
                if sels[t.group].phrase {
                    per[t.group] += v;
                } else {
                    per[t.group] = per[t.group].max(v);
                }
            }
            let settled = if !any {
                true
            } else if list.len() < want {
                false
            } else {
                let kth = &list[want - 1];
                let beats = |m: usize, s: u64| m > kth.groups || (m == kth.groups && s > kth.score);
                let (mut um, mut us) = (0usize, 0u64);
                for g in 0..ng {
                    if open_g[g] {
                        um += 1;
                        us += per[g];
                    }
                }
                !beats(um, us)
                    && docs.values().all(|(gs, am)| {
                        let (mut m, mut s) = (0usize, 0u64);
                        for (g, sel) in sels.iter().enumerate() {
                            let complete = if sel.phrase {
                                am[g] == full(sel)
                            } else {
                                am[g] != 0
                            };
                            s += gs[g];
                            if complete {
                                m += 1;
                            } else if open_g[g] {
                                m += 1;
                                s += per[g];
                            }
                        }
                        !beats(m, s)
                    })
            };
            if settled || chars >= BUDGET_CHARS {
                let exact = terms.iter().all(|t| t.done)
                    && (checks.is_empty() || list.iter().all(|h| checked.contains(&h.ord)));
                return Ok(Ranked { hits: list, exact });
            }
            // The next chunk of each open term whose unread postings may still score at least
            // half as much as the best unread ones.
            let top = terms
                .iter()
                .filter(|t| !t.done)
                .map(|t| score_of(t.min_q) * t.weight)
                .max()
                .unwrap_or(0);
            load = (0..terms.len())
                .filter(|&i| {
                    !terms[i].done && score_of(terms[i].min_q) * terms[i].weight * 2 >= top
                })
                .collect();
        }
    }

    /// Whether document `ord` holds each of `phrases` (atoms in a row) in its key, title,
    /// text, components or labels (`holdsPhrases` in search.js). A document whose text was cut
    /// holds them as far as the reader can tell.
    fn holds_phrases(&self, ord: usize, phrases: &[&[String]]) -> Result<bool> {
        let r = self.record(ord)?;
        if r.get(9).and_then(Value::as_u64) == Some(1) {
            return Ok(true);
        }
        let text = self.text(ord, &r)?;
        let s = |i: usize| r.get(i).and_then(Value::as_str).unwrap_or_default();
        let mut parts = vec![s(1).to_string(), s(2).to_string(), text];
        if let Some(more) = r.get(8).and_then(Value::as_array) {
            parts.extend(more.iter().filter_map(Value::as_str).map(str::to_string));
        }
        Ok(phrases
            .iter()
            .all(|atoms| parts.iter().any(|p| has_phrase(p, atoms))))
    }

    /// The text of document `ord` whose record is `rec` (`textOf` in search.js): from its text
    /// shard, `[first, text, …]`.
    fn text(&self, ord: usize, rec: &Value) -> Result<String> {
        let Some(x) = rec.get(7).and_then(Value::as_u64) else {
            return Ok(String::new());
        };
        let shard = self.get(&bucket("x", x as usize))?;
        let first = shard
            .get(0)
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed(format!("text shard {x} names no first document")))?;
        Ok(usize::try_from(first)
            .ok()
            .and_then(|f| ord.checked_sub(f))
            .and_then(|i| shard.get(1 + i))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// The records of the first `n` results: the named key first, then the ranked hits; among
    /// them, those whose text holds the query's phrases first; each with its snippet (`page`
    /// in search.js).
    fn page(
        &self,
        pq: &Query,
        keys: &[usize],
        hits: &[Hit],
        n: usize,
        highlight: &BTreeSet<String>,
    ) -> Result<Vec<SearchResult>> {
        let mut ords: Vec<usize> = keys.to_vec();
        for h in hits {
            if ords.len() >= n + keys.len() {
                break;
            }
            if !keys.contains(&h.ord) {
                ords.push(h.ord);
            }
        }
        ords.truncate(n);
        let mut recs = Vec::new();
        for d in ords {
            let r = self.record(d)?;
            let text = self.text(d, &r)?;
            recs.push((d, r, text));
        }
        let phrases: Vec<&Group> = pq
            .groups
            .iter()
            .filter(|g| g.phrase && g.atoms.len() > 1)
            .collect();
        if !phrases.is_empty() {
            let mut keyed: Vec<(bool, usize, usize, Shown)> = recs
                .into_iter()
                .enumerate()
                .map(|(i, (d, r, text))| {
                    let t = format!(
                        "{}\n{}",
                        r.get(2).and_then(Value::as_str).unwrap_or_default(),
                        text
                    );
                    let v = phrases.iter().filter(|g| has_phrase(&t, &g.atoms)).count();
                    (keys.contains(&d), v, i, (d, r, text))
                })
                .collect();
            keyed.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            recs = keyed.into_iter().map(|k| k.3).collect();
        }
        Ok(recs
            .into_iter()
            .map(|(_, r, text)| {
                let s = |i: usize| r.get(i).and_then(Value::as_str).map(str::to_string);
                SearchResult {
                    key: s(1).unwrap_or_default(),
                    kind: if r.get(0).and_then(Value::as_u64) == Some(0) {
                        "issue"
                    } else {
                        "commit"
                    },
                    title: s(2).unwrap_or_default(),
                    status: s(4),
                    path: s(3).unwrap_or_default(),
                    snippet: marked(&snippet(&text, highlight), highlight),
                }
            })
            .collect())
    }
}

/// A result on the page before it is shown: its document, record and text.
type Shown = (usize, Value, String);

/// A leaf's terms (`parseLeaf`): front-coded in UTF-16 units, as JavaScript strings count.
fn parse_leaf(data: &Value, name: &str) -> Result<Leaf> {
    let leaf_name: std::rc::Rc<str> = name.into();
    let suffixes: Vec<u16> = data
        .get(0)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("leaf without suffixes"))?
        .encode_utf16()
        .collect();
    let meta = data
        .get(1)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("leaf without entries"))?;
    let mut rd = Reader {
        s: meta.as_bytes(),
        i: 0,
    };
    let mut at = 0usize;
    let mut prev: Vec<u16> = Vec::new();
    let mut leaf = Leaf {
        terms: Vec::new(),
        by_term: HashMap::new(),
    };
    while !rd.done() {
        let plen = rd.vlq() as usize;
        let slen = rd.vlq() as usize;
        let mut t: Vec<u16> = prev[..plen.min(prev.len())].to_vec();
        let end = (at + slen).min(suffixes.len());
        t.extend_from_slice(&suffixes[at.min(end)..end]);
        at += slen;
        let df = rd.vlq();
        let n = rd.vlq() as usize;
        let end = (rd.i + n).min(meta.len());
        let first = meta[rd.i.min(end)..end].to_string();
        rd.i += n;
        let extra = rd.vlq() as usize;
        let base = if extra > 0 { rd.vlq() as usize } else { 0 };
        let term = String::from_utf16_lossy(&t);
        let e = std::rc::Rc::new(Entry {
            leaf: leaf_name.clone(),
            term: term.clone(),
            df,
            first,
            extra,
            base,
        });
        leaf.terms.push(e.clone());
        leaf.by_term.insert(term, e);
        prev = t;
    }
    Ok(leaf)
}

/// A word term's postings chunk as (impact, document) pairs; returns the lowest impact read.
fn decode_impacts(s: &str, out: &mut Vec<(usize, usize)>) -> usize {
    let mut rd = Reader {
        s: s.as_bytes(),
        i: 0,
    };
    let mut min_q = 64;
    while !rd.done() {
        let q = rd.digit() as usize;
        let count = rd.vlq();
        let mut d = rd.vlq() as usize;
        out.push((q, d));
        for _ in 1..count {
            d += rd.vlq() as usize + 1;
            out.push((q, d));
        }
        min_q = q;
    }
    min_q
}

/// Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The passage of `text` to show under a result (`snippet` in search.js): about
/// [`SNIPPET_SPAN`] UTF-16 units around the place where most of the query's distinct words
/// (`terms`) are, cut at spaces, with `…` where text was left out; the start of the text when
/// none is in it. Lengths count UTF-16 units, as JavaScript does, so both readers cut alike.
pub fn snippet(text: &str, terms: &BTreeSet<String>) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    // UTF-16 offset of each byte offset that starts a character (and of the end).
    let mut unit_at = vec![0usize; text.len() + 1];
    let mut u = 0;
    for (b, c) in text.char_indices() {
        unit_at[b] = u;
        u += c.len_utf16();
    }
    unit_at[text.len()] = u;
    let mut ms: Vec<(usize, usize, String)> = Vec::new();
    tokenize(text, |t| {
        if terms.contains(&t.text) {
            ms.push((unit_at[t.from], unit_at[t.to], t.text));
        }
    });
    ms.sort_by_key(|m| m.0);
    let (mut from, mut to) = (0, 0);
    let (mut best_d, mut best_c) = (0, 0);
    for i in 0..ms.len() {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut c = 0;
        for m in ms[i..].iter().take_while(|m| m.1 <= ms[i].0 + SNIPPET_SPAN) {
            seen.insert(&m.2);
            c += 1;
        }
        if seen.len() > best_d || (seen.len() == best_d && c > best_c) {
            (best_d, best_c) = (seen.len(), c);
            (from, to) = (ms[i].0, ms[i].1);
        }
    }
    let len = units.len();
    let space = |at: usize| {
        units[at.min(len)..]
            .iter()
            .position(|&x| x == 32)
            .map(|p| at + p)
    };
    let a = if from <= SNIPPET_CONTEXT {
        0
    } else {
        match space(from - SNIPPET_CONTEXT) {
            Some(sp) if sp < from => sp + 1,
            _ => from,
        }
    };
    let mut b = (a + SNIPPET_SPAN).max(to);
    if b >= len {
        b = len;
    } else {
        b = space(b).unwrap_or(len);
        if b - a > SNIPPET_SPAN + SNIPPET_CONTEXT {
            b = a + SNIPPET_SPAN + SNIPPET_CONTEXT;
            if (0xD800..0xDC00).contains(&units[b - 1]) {
                b -= 1;
            }
        }
    }
    let mut out = String::new();
    if a > 0 {
        out.push('…');
    }
    out.push_str(&String::from_utf16_lossy(&units[a..b]));
    if b < len {
        out.push('…');
    }
    out
}

/// Whether the atoms appear in a row in `text`.
fn has_phrase(text: &str, atoms: &[String]) -> bool {
    let mut seq = Vec::new();
    tokenize_units(text, |t, info| {
        if info.atom {
            seq.push(t.text);
        }
    });
    !atoms.is_empty() && seq.windows(atoms.len()).any(|w| w == atoms)
}

/// `text` with the tokens in `terms` between `«` and `»` (overlapping ranges merged).
fn marked(text: &str, terms: &BTreeSet<String>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    tokenize(text, |t| {
        if terms.contains(&t.text) {
            ranges.push((t.from, t.to));
        }
    });
    ranges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(l) if r.0 <= l.1 => l.1 = l.1.max(r.1),
            _ => merged.push(r),
        }
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut at = 0;
    for (a, b) in merged {
        out.push_str(&text[at..a]);
        out.push('«');
        out.push_str(&text[a..b]);
        out.push('»');
        at = b;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(ts: &[&str]) -> BTreeSet<String> {
        ts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn the_snippet_is_the_passage_where_the_words_are() {
        let filler = "nothing to see here ".repeat(2_000);
        let text = format!("{filler}LustreError: ofd_destroy_by_fid() failed: rc = -116 {filler}");
        let s = snippet(&text, &terms(&["ofd_destroy_by_fid"]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("ofd_destroy_by_fid() failed"), "{s}");
        let units = s.encode_utf16().count();
        assert!(
            (SNIPPET_SPAN..=SNIPPET_SPAN + SNIPPET_CONTEXT + 2).contains(&units),
            "{s}"
        );
        // Cut at spaces: no word is broken.
        assert!(
            s.starts_with("…nothing")
                || s.starts_with("…to")
                || s.starts_with("…see")
                || s.starts_with("…here"),
            "{s}"
        );
        assert_eq!(
            marked(&s, &terms(&["ofd_destroy_by_fid"]))
                .matches('«')
                .count(),
            1
        );
    }

    #[test]
    fn the_snippet_prefers_the_passage_with_most_distinct_words() {
        let text = format!(
            "lock here {} lock and cancel together {}",
            "x ".repeat(300),
            "y ".repeat(300)
        );
        let s = snippet(&text, &terms(&["lock", "cancel"]));
        assert!(s.contains("lock and cancel together"), "{s}");
        assert!(!s.contains("lock here"), "{s}");
    }

    #[test]
    fn without_a_match_the_snippet_is_the_start_of_the_text() {
        let text = "first words of the text ".repeat(40);
        let s = snippet(&text, &terms(&["absent"]));
        assert!(s.starts_with("first words") && s.ends_with('…'), "{s}");
        assert_eq!(snippet("short text", &terms(&["absent"])), "short text");
        assert_eq!(snippet("", &terms(&["absent"])), "");
    }

    #[test]
    fn snippets_count_utf16_units_and_never_split_a_character() {
        // One long word of astral characters: cut by length, never inside a surrogate pair.
        let text = format!("start {} 𝒳𝒳 tail", "𝒳".repeat(400));
        let s = snippet(&text, &terms(&["tail"]));
        assert!(s.ends_with("tail"), "{s}");
        let s = snippet(&text, &terms(&["absent"]));
        assert!(s.starts_with("start") && s.ends_with('…'), "{s}");
        assert!(s.encode_utf16().count() <= SNIPPET_SPAN + SNIPPET_CONTEXT + 1);
    }
}
