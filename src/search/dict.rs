//! The static index's dictionary (format 3): the terms in code point order, cut into leaves
//! where the terms themselves say, each leaf named after its first term with its postings
//! files beside it, and the tree of nodes above the leaves, cut and named the same way.
//!
//! Why: a nightly in which a few dozen documents changed changes the postings of a few
//! thousand terms out of millions. Format 2 cut leaves by size and numbered files in one
//! sequence, so one term's postings growing by a character moved every later leaf boundary
//! and file number: every file after it changed, and every term had to be encoded again to
//! find out. Here a leaf ends after a term whose hash says so once the leaf is big enough
//! (content-defined chunking, as rsync and backup tools cut files), its files are named after
//! its first term, and its postings files are numbered within it. A change reaches the
//! leaves that hold the changed terms (and the next leaf at most, when a boundary moved) and
//! the nodes above them. A leaf none of whose terms changed is the leaf the last build wrote,
//! byte for byte: the export keeps its files without encoding them, by the [`Layout`] the last
//! build left.
//!
//! The cuts depend on the terms' names and document frequencies only, never on the bytes a
//! term encodes to, so leaves are cut while the terms stream and encoded later, in parallel.

use rustc_hash::FxHashSet;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::export::{json, vlq};
use crate::error::Result;

/// A leaf is closed after a term whose hash has these bits clear…
const LEAF_CUT: u64 = 63;
/// …once it is estimated at this many characters (see [`estimate`])…
const LEAF_MIN: usize = 5_000;
/// …and in any case at this many.
const LEAF_MAX: usize = 20_000;
/// A node is closed after a child whose name's hash has these bits clear…
const NODE_CUT: u64 = 31;
/// …once it has this many children…
const NODE_MIN: usize = 32;
/// …and in any case at this many.
const NODE_MAX: usize = 256;
/// The top level of the tree, in `root.js`, has at most this many entries.
const ROOT_MAX: usize = 16;
/// A term's share of its leaf, estimated from its name and document frequency (what a cut
/// may depend on): its suffix, its numbers, its first chunk of postings (about two characters
/// a document, up to the size of a first chunk).
fn estimate(term: &str, df: u64) -> usize {
    term.len() + 6 + (2 * df as usize + 2).min(super::export::CHUNK0 + 8)
}

/// The file name of the leaf or node whose first entry is `first`: 16 hex digits of its hash,
/// the first two a folder (lower case: the site may be copied to a file system that ignores
/// case). Two names that would be the same are told apart by a suffix, in order.
fn name_of(first: &[u8], used: &mut FxHashSet<String>) -> String {
    let name = unused_name(first, used);
    used.insert(name.clone());
    name
}

/// The name [`name_of`] gives next to the leaf or node whose first entry is `first`.
fn unused_name(first: &[u8], used: &FxHashSet<String>) -> String {
    let h = xxh3_64(first);
    let base = format!("{:02x}/{:014x}", h >> 56, h & ((1 << 56) - 1));
    let mut name = base.clone();
    let mut k = 1;
    while used.contains(&name) {
        name = format!("{base}z{k}");
        k += 1;
    }
    name
}

/// A term with its postings as the index holds them (by slot, dead ones included).
pub(crate) type Posted = (Box<str>, Vec<u32>);

/// A leaf cut from the stream of terms, to be encoded or kept.
pub(crate) struct LeafJob {
    /// Its file name (`search/l/<name>.js`).
    pub name: String,
    /// Its separator in its parent: the shortest prefix of its first term above the last term
    /// of the leaf before it.
    pub sep: String,
    /// Its terms, each with some live postings.
    pub terms: Vec<Posted>,
    /// Whether a term in it, or one that left it, has postings of a document that changed
    /// since the last build (see [`Layout`]).
    pub dirty: bool,
    /// The hashes of its first and last terms.
    pub first: u64,
    pub last: u64,
    /// Where, in the kept index's base run, the first term not before its first starts.
    pub at: u64,
    /// The last build's leaf it is, kept without its terms being read (then it has none).
    pub kept: Option<LeafRecord>,
}

/// Cuts the stream of terms into leaves.
#[derive(Default)]
pub(crate) struct Cutter {
    terms: Vec<Posted>,
    /// Where the first of `terms` is in the base run (see [`LeafJob::at`]).
    at: u64,
    estimate: usize,
    dirty: bool,
    last_of_previous: Option<Box<str>>,
    used: FxHashSet<String>,
}

impl Cutter {
    /// Adds a term in the index (`df` live documents; `dirty`: see [`LeafJob::dirty`]; `at`:
    /// see [`LeafJob::at`]); the leaf it closes, if it does.
    pub fn push(&mut self, term: Posted, df: u64, dirty: bool, at: u64) -> Option<LeafJob> {
        if self.terms.is_empty() {
            self.at = at;
        }
        self.estimate += estimate(&term.0, df);
        self.dirty |= dirty;
        let cut = xxh3_64(term.0.as_bytes()) & LEAF_CUT == 0 && self.estimate >= LEAF_MIN;
        self.terms.push(term);
        (cut || self.estimate >= LEAF_MAX).then(|| self.close())
    }

    /// A term that changed and has no live postings left: it left the index, so the leaf that
    /// held it changed.
    pub fn left(&mut self) {
        self.dirty = true;
    }

    /// Whether it holds no term and no sign of one that left: the next term starts a leaf as
    /// it would after any leaf the cutter closed, so a leaf the last build cut there with
    /// the same terms is cut the same way now.
    pub fn is_clear(&self) -> bool {
        self.terms.is_empty() && !self.dirty
    }

    /// The file name the leaf starting with `first` gets if it is the next.
    pub fn next_name(&self, first: &str) -> String {
        unused_name(first.as_bytes(), &self.used)
    }

    /// The last build's leaf `r`, none of whose terms changed, taken whole while the cutter
    /// is clear ([`Cutter::is_clear`]): the leaf closes where it did then.
    pub fn keep(&mut self, r: &LeafRecord) -> LeafJob {
        debug_assert!(self.is_clear());
        let job = LeafJob {
            name: name_of(r.first_term.as_bytes(), &mut self.used),
            sep: self.sep(&r.first_term),
            terms: Vec::new(),
            dirty: false,
            first: r.first,
            last: r.last,
            at: r.at,
            kept: Some(r.clone()),
        };
        self.last_of_previous = Some(r.last_term.clone());
        job
    }

    /// The separator of a leaf starting with `first` after the leaf before it.
    fn sep(&self, first: &str) -> String {
        match &self.last_of_previous {
            None => String::new(),
            Some(last) => {
                let (pb, _) = shared_prefix(last, first);
                let next = first[pb..].chars().next().map_or(0, char::len_utf8);
                first[..pb + next].to_string()
            }
        }
    }

    /// The last leaf, if terms are left.
    pub fn finish(&mut self) -> Option<LeafJob> {
        (!self.terms.is_empty()).then(|| self.close())
    }

    fn close(&mut self) -> LeafJob {
        let terms = std::mem::take(&mut self.terms);
        let first = &terms[0].0;
        let sep = self.sep(first);
        let last = terms[terms.len() - 1].0.clone();
        let job = LeafJob {
            name: name_of(first.as_bytes(), &mut self.used),
            sep,
            first: xxh3_64(first.as_bytes()),
            last: xxh3_64(last.as_bytes()),
            terms,
            dirty: std::mem::take(&mut self.dirty),
            at: self.at,
            kept: None,
        };
        self.last_of_previous = Some(last);
        self.estimate = 0;
        job
    }
}

/// The search path of file `k` of leaf `name`: the leaf itself, then its postings files.
pub(crate) fn leaf_file(name: &str, k: usize) -> String {
    match k {
        0 => format!("l/{name}"),
        k => format!("l/{name}-{k}"),
    }
}

/// What a build made of a leaf, kept for the next build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeafRecord {
    /// The hashes of its first and last terms, and how many terms it has.
    pub first: u64,
    pub last: u64,
    pub count: u32,
    /// Its first and last terms, by which the next build knows the leaf holds none of the
    /// terms that changed, and cuts after it as this build did.
    pub first_term: Box<str>,
    pub last_term: Box<str>,
    /// See [`LeafJob::at`].
    pub at: u64,
    /// The digest of its files' bytes.
    pub digest: u128,
    /// How many files it has, their bytes, the largest.
    pub files: u32,
    pub bytes: u64,
    pub max: u64,
}

impl LeafRecord {
    /// What file `k` of the leaf was made from, as the writer's manifest remembers it: its
    /// bytes are known by the leaf's digest.
    pub fn made_from(digest: u128, k: usize) -> u128 {
        let mut b = [0u8; 24];
        b[..16].copy_from_slice(&digest.to_le_bytes());
        b[16..].copy_from_slice(&(k as u64).to_le_bytes());
        xxh3_128(&b)
    }
}

/// What the dictionary of a build was made of, kept with the analysed index for the next
/// build: a leaf of the next build whose terms' postings name only documents that are as
/// they were (same slot, same number in the document order) and that has the same first
/// and last terms and as many terms is, under the same BM25 parameters, this leaf again.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Layout {
    /// The (sticky) BM25 parameters the impacts were computed with: document count and
    /// average length.
    pub n: f64,
    pub avgdl: f64,
    /// Per slot of the analysed index, the document's number in the document order
    /// ([`DEAD`](super::export) for a dead slot).
    pub ords: Vec<u32>,
    /// The leaves, in order.
    pub leaves: Vec<LeafRecord>,
    /// The facet counts of the documents `ords` numbers (`None`: not known; the next build
    /// counts every document's).
    pub facets: Option<super::export::Facets>,
}

/// Writes the leaf's entries as terms come, in order: the leaf's data (with each term's first
/// chunk of postings) and its postings files (the later chunks, one file each).
#[derive(Default)]
pub(crate) struct LeafWriter {
    suffixes: String,
    meta: String,
    prev: String,
    /// Its files' data: the leaf's own (made last) first, then its postings files.
    files: Vec<String>,
}

impl LeafWriter {
    /// A term with `df` documents and its postings cut into chunks.
    pub fn add(&mut self, term: &str, df: u64, chunks: Vec<String>) {
        if self.files.is_empty() {
            self.files.push(String::new());
        }
        let (pb, pu) = shared_prefix(&self.prev, term);
        let suffix = &term[pb..];
        vlq(&mut self.meta, pu as u64);
        vlq(&mut self.meta, utf16_len(suffix) as u64);
        vlq(&mut self.meta, df);
        self.suffixes.push_str(suffix);
        let mut chunks = chunks.into_iter();
        let first = chunks.next().unwrap_or_default();
        vlq(&mut self.meta, first.len() as u64);
        self.meta.push_str(&first);
        let rest: Vec<String> = chunks.collect();
        vlq(&mut self.meta, rest.len() as u64);
        if !rest.is_empty() {
            vlq(&mut self.meta, self.files.len() as u64);
            for c in rest {
                self.files.push(json(&[c]));
            }
        }
        self.prev.clear();
        self.prev.push_str(term);
    }

    /// The data of the leaf's files: the leaf, then its postings files.
    pub fn finish(mut self) -> Vec<String> {
        if self.files.is_empty() {
            self.files.push(String::new());
        }
        self.files[0] = json(&[&self.suffixes, &self.meta]);
        self.files
    }
}

/// The tree above the leaves (`level`: each leaf's separator and name), made from the bottom
/// up until the top level fits in `root.js`: nodes are written through `put` (id, data) as
/// `n/<name>`, `[separators, names]` of their children. Returns the height and the top level.
pub(crate) fn tree(
    mut level: Vec<(String, String)>,
    put: &mut dyn FnMut(&str, &str) -> Result<()>,
) -> Result<(usize, Vec<(String, String)>)> {
    let mut h = 0;
    let mut used = FxHashSet::default();
    while level.len() > ROOT_MAX {
        h += 1;
        let mut up = Vec::new();
        let mut node: Vec<(String, String)> = Vec::new();
        let len = level.len();
        for (i, child) in level.into_iter().enumerate() {
            let cut = xxh3_64(child.1.as_bytes()) & NODE_CUT == 0 && node.len() + 1 >= NODE_MIN;
            node.push(child);
            if cut || node.len() >= NODE_MAX || i + 1 == len {
                let first = format!("{h}\n{}", node[0].1);
                let name = name_of(first.as_bytes(), &mut used);
                let (seps, names): (Vec<String>, Vec<String>) =
                    std::mem::take(&mut node).into_iter().unzip();
                put(&format!("n/{name}"), &json(&(&seps, &names)))?;
                up.push((seps.into_iter().next().unwrap_or_default(), name));
            }
        }
        level = up;
    }
    Ok((h, level))
}

/// `x` rounded up to `bits` significant bits: a parameter that moves by less than one part in
/// `2^bits` mostly stays where it was, so the impacts it enters stay too. Deterministic: the
/// unit is a power of two found from the number's exponent, and the division by it is exact.
pub(crate) fn sticky(x: f64, bits: i32) -> f64 {
    if !(x.is_normal() && x > 0.0) {
        return x;
    }
    let exponent = ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let unit = 2f64.powi(exponent - bits);
    (x / unit).ceil() * unit
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Shared prefix of two strings in characters, returned as (bytes in `b`, UTF-16 units).
///
/// Compared byte by byte, then cut back to the start of the first character that differs (a
/// boundary of `b` there is one of `a` too: the bytes before it are the same).
pub(crate) fn shared_prefix(a: &str, b: &str) -> (usize, usize) {
    let mut bytes = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(bytes) {
        bytes -= 1;
    }
    let shared = &b[..bytes];
    let units = if shared.is_ascii() {
        bytes
    } else {
        utf16_len(shared)
    };
    (bytes, units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, mark: &str) -> Vec<String> {
        let mut v: Vec<String> = (0..n).map(|i| format!("w{i:06}{mark}")).collect();
        v.sort();
        v
    }

    fn cut(terms: &[String], dirty: impl Fn(&str) -> bool) -> Vec<LeafJob> {
        let mut c = Cutter::default();
        let mut out = Vec::new();
        for t in terms {
            out.extend(c.push((t.as_str().into(), vec![0, 1]), 1, dirty(t), 0));
        }
        out.extend(c.finish());
        out
    }

    #[test]
    fn a_new_term_changes_its_own_leaf_and_names_stay() {
        let before = words(20_000, "");
        let leaves = cut(&before, |_| false);
        assert!(leaves.len() > 50, "{}", leaves.len());
        let sizes: Vec<usize> = leaves.iter().map(|l| l.terms.len()).collect();
        assert!(sizes.iter().all(|&n| n <= LEAF_MAX / 10), "{sizes:?}");
        // One term in the middle: the leaves before and after it are the same leaves.
        let mut after = before.clone();
        after.push("w010000a".into());
        after.sort();
        let again = cut(&after, |t| t == "w010000a");
        let key = |l: &LeafJob| (l.name.clone(), l.first, l.last, l.terms.len());
        let old: FxHashSet<_> = leaves.iter().map(key).collect();
        let changed: Vec<&LeafJob> = again.iter().filter(|l| !old.contains(&key(l))).collect();
        assert!(
            (1..=2).contains(&changed.len()),
            "{} leaves changed",
            changed.len()
        );
        assert!(changed.iter().any(|l| l.dirty));
        assert_eq!(again.iter().filter(|l| l.dirty).count(), 1);
        // Separators: the first is empty, each is a prefix of its first term above the last.
        for (a, b) in again.iter().zip(&again[1..]) {
            assert!(b.terms[0].0.starts_with(&b.sep));
            assert!(*a.terms[a.terms.len() - 1].0 < *b.sep);
        }
        assert_eq!(again[0].sep, "");
    }

    #[test]
    fn a_term_that_left_marks_its_leaf() {
        let mut c = Cutter::default();
        assert!(c.push(("a".into(), vec![0, 1]), 1, false, 0).is_none());
        c.left();
        let leaf = c.finish().unwrap();
        assert!(leaf.dirty);
        assert!(c.finish().is_none());
    }

    #[test]
    fn the_tree_fits_its_top_in_the_root_and_names_are_distinct() {
        let level: Vec<(String, String)> = (0..10_000)
            .map(|i| (format!("s{i:05}"), format!("leaf{i}")))
            .collect();
        let mut nodes = Vec::new();
        let (h, top) = tree(level, &mut |id, data| {
            nodes.push((id.to_string(), data.to_string()));
            Ok(())
        })
        .unwrap();
        assert!(h >= 2 && top.len() <= ROOT_MAX, "{h} {}", top.len());
        let names: FxHashSet<&String> = nodes.iter().map(|n| &n.0).collect();
        assert_eq!(names.len(), nodes.len());
        assert_eq!(top[0].0, "s00000");
        // A small level is the root itself.
        let (h, top) = tree(vec![("".into(), "x".into())], &mut |_, _| Ok(())).unwrap();
        assert_eq!((h, top.len()), (0, 1));
    }

    #[test]
    fn names_are_lower_case_hex_in_folders_and_never_repeat() {
        let mut used = FxHashSet::default();
        let a = name_of(b"lock", &mut used);
        assert_eq!(a.len(), 17);
        assert_eq!(&a[2..3], "/");
        assert!(a
            .chars()
            .all(|c| c == '/' || c.is_ascii_hexdigit() && !c.is_uppercase()));
        let b = name_of(b"lock", &mut used);
        assert_eq!(b, format!("{a}z1"));
    }

    #[test]
    fn sticky_parameters_round_up_to_few_bits() {
        assert_eq!(sticky(7.0, 5), 7.0);
        assert_eq!(sticky(99_468.0, 5), 100_352.0);
        assert_eq!(sticky(99_500.0, 5), 100_352.0);
        assert!(sticky(123.456, 6) >= 123.456 && sticky(123.456, 6) < 123.456 * 1.02);
        assert_eq!(sticky(0.0, 5), 0.0);
    }

    #[test]
    fn a_leaf_numbers_its_own_files() {
        let mut w = LeafWriter::default();
        w.add("a", 1, vec!["AB".into()]);
        w.add(
            "ab",
            2,
            vec!["x".repeat(100), "y".repeat(3000), "z".repeat(5000)],
        );
        let files = w.finish();
        assert_eq!(files.len(), 3);
        assert_eq!(files[1], json(&["y".repeat(3000)]));
        assert_eq!(files[2], json(&["z".repeat(5000)]));
        // The first chunks are in the leaf: `ab` is "a" and "b" front-coded, its meta ends
        // with its 100 characters, two more chunks, the first of them in file 1.
        assert!(files[0].starts_with("[\"ab\",\"AB"));
        assert!(files[0].ends_with(&format!("{}CB\"]", "x".repeat(100))));
    }
}
