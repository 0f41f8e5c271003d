//! The in-memory inverted index the static export ([`super::export`]) is written from: each
//! document analysed once (its record, its text, its length, the weighted frequency of each of
//! its terms), then its terms added to the postings of a term map cut into shards by the term's
//! hash, so that batches of documents are analysed and added on every core.
//!
//! It holds what the export reads and nothing more: no positions (phrases are pair terms), no
//! stored fields beyond the records and texts the shards publish. It replaced a tantivy index
//! written to the build cache and read back (issue #19: most of the search stage was tantivy
//! writing, compressing and merging segments the export then read again); the numbers it
//! gives are the ones that index gave, bit for bit: term frequencies, the title weighed
//! [`TITLE_WEIGHT`] times, and document lengths quantized as tantivy's field norms are
//! ([`fieldnorm`]).

use std::path::PathBuf;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::query::{self, key_term};
use super::spill::{self, Merge, Place, Posting, Records, Run, RunWriter, SpillDir};
use super::state::{self, Kept, RunFile};
use super::tokenize::{pair_term_into, tokenize_borrowed};
use super::{DocKind, Identity, KeptAt, SearchDoc};
use crate::error::Result;

/// Bytes of a document's text kept for its snippets (the text shard); a match further in still
/// finds the document, and its snippet is the start of the text.
pub const TEXT_MAX_BYTES: usize = 64 * 1024;
/// The title's weight as a whole number, so weighted term frequencies are whole numbers.
const TITLE_W: u32 = 4;
/// Title matches weigh this many body matches (BM25F), in the static index and here.
pub const TITLE_WEIGHT: f32 = TITLE_W as f32;
/// Shards of the term map: documents' terms are added to each shard by its own task.
const SHARDS: usize = 64;
/// Documents analysed and added together.
const BATCH: usize = 2048;
/// Longest filter term indexed (in bytes): tantivy's limit, which the static index kept.
/// Words are at most [`super::tokenize::MAX_TOKEN_CHARS`] characters and never reach it.
const MAX_TERM_BYTES: usize = u16::MAX as usize - 5;

/// What the static index shows of a document: its record in the document shards, and its
/// facets.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A field's length as BM25 reads it: the number of its tokens, quantized to one byte on
/// tantivy's scale (exact to 40, then coarser), as the static index has always weighed it.
pub(crate) fn fieldnorm(tokens: u32) -> u32 {
    let id = FIELD_NORMS_TABLE.partition_point(|&x| x <= tokens) - 1;
    FIELD_NORMS_TABLE[id]
}

/// tantivy's field norm table (`tantivy::fieldnorm::FIELD_NORMS_TABLE`, version 0.27).
#[rustfmt::skip]
const FIELD_NORMS_TABLE: [u32; 256] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
    40, 42, 44, 46, 48, 50, 52, 54, 56, 60,
    64, 68, 72, 76, 80, 84, 88, 96, 104, 112,
    120, 128, 136, 144, 152, 168, 184, 200, 216, 232,
    248, 264, 280, 312, 344, 376, 408, 440, 472, 504,
    536, 600, 664, 728, 792, 856, 920, 984, 1048, 1176,
    1304, 1432, 1560, 1688, 1816, 1944, 2072, 2328, 2584, 2840,
    3096, 3352, 3608, 3864, 4120, 4632, 5144, 5656, 6168, 6680,
    7192, 7704, 8216, 9240, 10264, 11288, 12312, 13336, 14360, 15384,
    16408, 18456, 20504, 22552, 24600, 26648, 28696, 30744, 32792, 36888,
    40984, 45080, 49176, 53272, 57368, 61464, 65560, 73752, 81944, 90136,
    98328, 106520, 114712, 122904, 131096, 147480, 163864, 180248, 196632, 213016,
    229400, 245784, 262168, 294936, 327704, 360472, 393240, 426008, 458776, 491544,
    524312, 589848, 655384, 720920, 786456, 851992, 917528, 983064, 1048600, 1179672,
    1310744, 1441816, 1572888, 1703960, 1835032, 1966104, 2097176, 2359320, 2621464, 2883608,
    3145752, 3407896, 3670040, 3932184, 4194328, 4718616, 5242904, 5767192, 6291480, 6815768,
    7340056, 7864344, 8388632, 9437208, 10485784, 11534360, 12582936, 13631512, 14680088, 15728664,
    16777240, 18874392, 20971544, 23068696, 25165848, 27263000, 29360152, 31457304, 33554456, 37748760,
    41943064, 46137368, 50331672, 54525976, 58720280, 62914584, 67108888, 75497496, 83886104, 92274712,
    100663320, 109051928, 117440536, 125829144, 134217752, 150994968, 167772184, 184549400, 201326616, 218103832,
    234881048, 251658264, 268435480, 301989912, 335544344, 369098776, 402653208, 436207640, 469762072, 503316504,
    536870936, 603979800, 671088664, 738197528, 805306392, 872415256, 939524120, 1006632984, 1073741848, 1207959576,
    1342177304, 1476395032, 1610612760, 1744830488, 1879048216, 2013265944,
];

/// What the export keeps in memory of one document: what its place in the document order
/// depends on, its length for BM25, and where its record and text are ([`Index::body`]).
pub(crate) struct Head {
    pub kind: u8,
    pub year: Option<i32>,
    pub key: Box<str>,
    pub path: Box<str>,
    /// Its length, the title weighed [`TITLE_WEIGHT`] times: `TITLE_WEIGHT * fieldnorm(title
    /// tokens) + fieldnorm(body tokens)`.
    pub dl: f64,
    pub(crate) body: Place,
    /// The bytes of its text, by which the text shards are packed: known without reading the
    /// text ([`super::export`]).
    pub text_len: u32,
    /// The digest of the document it was analysed from ([`state::digest`]), or of what it
    /// was made from when that was known before it was made ([`Identity`]).
    pub digest: u128,
    /// Whether the document is in the index: a slot of the kept index whose document changed
    /// or went is dead, its postings skipped.
    pub alive: bool,
}

impl Head {
    /// A dead slot of the kept index ([`super::state`]).
    pub(crate) fn dead() -> Head {
        Head {
            kind: 0,
            year: None,
            key: "".into(),
            path: "".into(),
            dl: 0.0,
            body: (0, 0),
            text_len: 0,
            digest: 0,
            alive: false,
        }
    }
}

/// How much of the index stays in memory, and where the rest goes: the term map is written
/// out as a sorted run each time its estimated size passes `terms` bytes, and the documents'
/// records and texts go to a file past `records` bytes, both in the folder `spill` (a
/// build-cache folder, emptied first and removed after). Without a folder everything stays
/// in memory (tests, and tools that index a handful of documents). An index kept between
/// builds ([`super::Options::kept`]) writes both to its own folder instead, where they stay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Where the index may write what does not fit.
    pub spill: Option<PathBuf>,
    /// Estimated bytes of the term map kept in memory.
    pub terms: usize,
    /// Bytes of documents' records and texts kept in memory.
    pub records: usize,
}

impl Default for Memory {
    /// In memory only; the budgets a build uses when given a folder.
    fn default() -> Memory {
        Memory {
            spill: None,
            terms: 128 << 20,
            records: 32 << 20,
        }
    }
}

impl Meta {
    /// The record and `text` as the spill keeps them.
    fn encode(&self, text: &str, out: &mut Vec<u8>) {
        serde_json::to_writer(out, &(self, text)).expect("strings and numbers serialize");
    }

    /// What [`Meta::encode`] wrote.
    fn decode(bytes: &[u8]) -> serde_json::Result<(Meta, String)> {
        serde_json::from_slice(bytes)
    }
}

/// One shard of the term map: each of its terms' postings, in the order documents were
/// numbered. A word or pair term (no `:`) holds `[doc, tf, doc, tf, …]`, `tf` its frequency in
/// the title times [`TITLE_W`] plus its frequency in the body; a filter term (`status:open`,
/// `key:lu-1`: every filter term has a `:`, which no word or pair ever holds, as the tokenizer
/// separates at it) holds `[doc, doc, …]`.
///
/// Most terms of an archive occur in one document (a pair of words, an identifier), so a term
/// costs no allocation of its own: its name is in one of the shard's blocks of names, its
/// first posting in its slot, and only a term in more documents has a vector, of the later
/// postings as varints (each document as the step from the one before), a quarter of their
/// bytes as numbers. Terms are found by the hash their document already took ([`term_hash`]),
/// kept in the slot. The slots and names are kept in blocks of a fixed size, so what the
/// shard holds is what it allocated (a vector that doubles holds up to twice its length), and
/// its size is known without asking the allocator.
#[derive(Default)]
struct TermShard {
    /// The slots' numbers, by their terms' hashes.
    table: hashbrown::HashTable<u32>,
    /// The slots, [`SLOT_BLOCK`] to a block.
    slots: Vec<Vec<Slot>>,
    /// The terms' names one after another, in blocks of [`NAME_BLOCK`] bytes (or one name's).
    names: Vec<String>,
    /// The postings of the terms in more than one document after their first, as varints.
    more: Vec<Vec<u8>>,
    /// Bytes allocated for `more`'s vectors.
    more_bytes: usize,
}

/// Slots to a block of [`TermShard::slots`].
const SLOT_BLOCK: usize = 1 << 10;
/// Bytes to a block of [`TermShard::names`].
const NAME_BLOCK: usize = 1 << 16;

/// A term of a [`TermShard`]: where its name is (block `name >> 16`, from byte `name &
/// 0xffff`), its length and hash, its first document and frequency (0 for a filter term), its
/// last document, and its later postings `more[more]` (or none).
struct Slot {
    hash: u64,
    name: u32,
    len: u32,
    first: [u32; 2],
    last: u32,
    more: u32,
}

/// [`Slot::more`] of a term in one document.
const ONE: u32 = u32::MAX;

impl TermShard {
    /// An empty term map: [`SHARDS`] empty shards.
    fn empty_map() -> Vec<TermShard> {
        (0..SHARDS).map(|_| TermShard::default()).collect()
    }

    /// Adds `doc` (with `tf`, unless 0: a filter term) to the postings of `name`, whose hash is
    /// `hash`; `doc` follows every document the term holds.
    fn add(&mut self, hash: u64, name: &str, doc: u32, tf: u32) {
        let TermShard {
            table,
            slots,
            names,
            more,
            more_bytes,
        } = self;
        let found = table.find(hash, |&i| {
            let s = slot_in(slots, i);
            s.hash == hash && name_of(names, s) == name
        });
        let Some(&i) = found else {
            // A block starts a new name below NAME_BLOCK, so where it starts fits 16 bits.
            if names
                .last()
                .is_none_or(|b| b.len() + name.len() > NAME_BLOCK)
            {
                names.push(String::with_capacity(NAME_BLOCK.max(name.len())));
            }
            let blocks = names.len();
            let at = names.last_mut().expect("a block was pushed");
            let place = u32::try_from((blocks - 1) << 16 | at.len())
                .expect("a shard's names are under 4 GB");
            at.push_str(name);
            if slots.last().is_none_or(|b| b.len() == SLOT_BLOCK) {
                slots.push(Vec::with_capacity(SLOT_BLOCK));
            }
            let blocks = slots.len();
            let block = slots.last_mut().expect("a block was pushed");
            let count = (blocks - 1) * SLOT_BLOCK + block.len();
            block.push(Slot {
                hash,
                name: place,
                len: name.len() as u32,
                first: [doc, tf],
                last: doc,
                more: ONE,
            });
            let index = u32::try_from(count).expect("a shard has under 4 billion terms");
            table.insert_unique(hash, index, |&i| slot_in(slots, i).hash);
            return;
        };
        let slot = &mut slots[i as usize / SLOT_BLOCK][i as usize % SLOT_BLOCK];
        if slot.more == ONE {
            slot.more = u32::try_from(more.len()).expect("a shard has under 4 billion terms");
            more.push(Vec::new());
        }
        let v = &mut more[slot.more as usize];
        let before = v.capacity();
        spill::put_varint(v, u64::from(doc - slot.last));
        if tf != 0 {
            spill::put_varint(v, u64::from(tf));
        }
        slot.last = doc;
        *more_bytes += v.capacity() - before;
    }

    /// The slots, in the order their terms came.
    fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }

    /// The slot numbered `i`.
    fn slot(&self, i: u32) -> &Slot {
        slot_in(&self.slots, i)
    }

    /// The name of `slot`.
    fn name(&self, slot: &Slot) -> &str {
        name_of(&self.names, slot)
    }

    /// The postings of `slot`, into `out` (emptied first).
    fn postings_into(&self, slot: &Slot, out: &mut Vec<u32>) {
        out.clear();
        let word = slot.first[1] != 0;
        out.push(slot.first[0]);
        if word {
            out.push(slot.first[1]);
        }
        if slot.more == ONE {
            return;
        }
        let mut c = spill::Cursor::new(&self.more[slot.more as usize]);
        let mut doc = slot.first[0];
        while !c.at_end() {
            doc += c.varint().expect("the shard's own varints") as u32;
            out.push(doc);
            if word {
                out.push(c.varint().expect("the shard's own varints") as u32);
            }
        }
    }

    /// Bytes it holds: its tables and blocks, and its postings vectors as allocated.
    fn bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.slots.len() * SLOT_BLOCK * std::mem::size_of::<Slot>()
            + self.names.iter().map(String::capacity).sum::<usize>()
            + self.more.capacity() * std::mem::size_of::<Vec<u8>>()
            + self.more_bytes
    }
}

/// The slot numbered `i` of `slots` ([`TermShard::slots`]).
fn slot_in(slots: &[Vec<Slot>], i: u32) -> &Slot {
    &slots[i as usize / SLOT_BLOCK][i as usize % SLOT_BLOCK]
}

/// The name of `slot` in `names` ([`TermShard::names`]).
fn name_of<'a>(names: &'a [String], slot: &Slot) -> &'a str {
    let block = &names[(slot.name >> 16) as usize];
    let start = (slot.name & 0xffff) as usize;
    &block[start..start + slot.len as usize]
}

/// The terms of `shards` in code point order, as (shard, slot) pairs.
fn term_order(shards: &[TermShard]) -> Vec<(u32, u32)> {
    let mut keys: Vec<(u128, u32, u32)> = shards
        .par_iter()
        .enumerate()
        .flat_map_iter(|(s, shard)| {
            shard.slots().enumerate().map(move |(i, slot)| {
                // The first sixteen bytes as a number sort as the terms do when they differ
                // (no term holds a zero byte).
                let name = shard.name(slot).as_bytes();
                let mut prefix = [0u8; 16];
                let n = name.len().min(16);
                prefix[..n].copy_from_slice(&name[..n]);
                (u128::from_be_bytes(prefix), s as u32, i as u32)
            })
        })
        .collect();
    let name = |&(_, s, i): &(u128, u32, u32)| {
        let shard = &shards[s as usize];
        shard.name(shard.slot(i))
    };
    keys.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| name(a).cmp(name(b))));
    keys.into_iter().map(|(_, s, i)| (s, i)).collect()
}

/// The terms of `shards` with their postings, in code point order.
fn sorted(shards: &[TermShard]) -> Vec<Posting> {
    term_order(shards)
        .into_par_iter()
        .map(|(s, i)| {
            let shard = &shards[s as usize];
            let slot = shard.slot(i);
            let mut postings = Vec::new();
            shard.postings_into(slot, &mut postings);
            (shard.name(slot).into(), postings)
        })
        .collect()
}

/// Terms whose records one task encodes for [`write_shards`].
const ENCODE_CHUNK: usize = 1 << 14;

/// Writes the terms of `shards` to a new run of `dir`, in code point order. Their records are
/// encoded on every core, a few chunks per thread at a time, and written in order: the
/// documents wait while the map is written, so one thread writing it left the others idle.
fn write_shards(dir: &mut SpillDir, shards: &[TermShard]) -> Result<Run> {
    let mut w = RunWriter::new(dir)?;
    let order = term_order(shards);
    let stretch = ENCODE_CHUNK * 2 * rayon::current_num_threads();
    for terms in order.chunks(stretch) {
        let encoded: Vec<Vec<u8>> = terms
            .par_chunks(ENCODE_CHUNK)
            .map(|terms| {
                let (mut out, mut postings) = (Vec::new(), Vec::new());
                for &(s, i) in terms {
                    let shard = &shards[s as usize];
                    let slot = shard.slot(i);
                    shard.postings_into(slot, &mut postings);
                    spill::encode_record(&mut out, shard.name(slot), &postings);
                }
                out
            })
            .collect();
        for records in &encoded {
            w.add_encoded(records)?;
        }
    }
    w.finish()
}

/// The terms of a run of documents that go to one shard of the term map: their names one
/// after another in `names`, and per term (document in the run, end of its name in `names`,
/// weighted frequency or 0). Names are copied here by the task that analysed the documents,
/// so the shard's task allocates only for terms new to the map and frees nothing another
/// thread allocated.
#[derive(Default)]
struct ShardPart {
    names: String,
    terms: Vec<(u64, u32, u32, u32)>,
}

impl ShardPart {
    fn push(&mut self, doc: u32, term: &str, hash: u64, tf: u32) {
        self.names.push_str(term);
        let end = u32::try_from(self.names.len()).expect("a run's terms are under 4 GB");
        self.terms.push((hash, doc, end, tf));
    }

    /// (document in the run, term, its hash, weighted frequency or 0), in the order they came.
    fn iter(&self) -> impl Iterator<Item = (u32, &str, u64, u32)> {
        let mut start = 0;
        self.terms.iter().map(move |&(hash, doc, end, tf)| {
            let name = &self.names[start as usize..end as usize];
            start = end;
            (doc, name, hash, tf)
        })
    }
}

/// Whether `term` is a filter term (see [`TermShard`]).
pub(crate) fn is_filter(term: &str) -> bool {
    term.contains(':')
}

/// The documents and their terms, ready to export.
pub(crate) struct Index {
    /// Documents by slot: the kept index's first (dead ones included), then those added, in
    /// the order they came.
    pub heads: Vec<Head>,
    /// Their records and texts, where [`Head`] says.
    records: Records,
    /// The part of the term map in memory.
    shards: Vec<TermShard>,
    /// The parts written out, in document order.
    runs: Vec<Run>,
    memory: Memory,
    spill: Option<SpillDir>,
    /// The kept index's documents, when this index continues it: those unchanged are not
    /// analysed again.
    kept: Option<Kept>,
    /// Where the index is kept for the next build, when it is.
    keep: Option<Keep>,
    /// Slots that came from the kept index.
    from_kept: usize,
    /// Times the term map outgrew its budget and was written out.
    spilled: u64,
    /// What the last build's dictionary was made of, when this index continues the one it
    /// kept: the export keeps the leaves that did not change.
    pub(crate) layout: Option<super::dict::Layout>,
    /// The postings in the delta of documents that changed or went in this build: dropped
    /// from the delta, they are not there for the export to see what the term lost.
    pub(crate) left: Left,
    /// The terms whose postings may differ from the last build's, in code point order, when
    /// this index continues a kept one and they are known: those of the documents analysed in
    /// this build and of those that went ([`record_terms`]). `None`: not known (a run was
    /// spilled in this build, a document that went had its text cut, or most changed). The
    /// export skips the last build's leaves that hold none of them without reading them.
    pub(crate) changed: Option<Vec<Box<str>>>,
}

/// Per term, the postings the rewritten delta dropped because their documents changed or went
/// in this build (`[doc, tf]` pairs of a word, documents of a filter), for the export to
/// weigh against what replaced them. Past [`LEFT_HELD`] numbers, a term's postings are no
/// longer held, only that it lost some (it is then taken as changed).
#[derive(Default)]
pub(crate) struct Left {
    terms: rustc_hash::FxHashMap<Box<str>, Option<Vec<u32>>>,
    held: usize,
}

/// Numbers [`Left`] holds at most: 16 MB.
const LEFT_HELD: usize = 1 << 22;

impl Left {
    /// Notes that `name` lost `dropped`.
    fn add(&mut self, name: &str, dropped: Vec<u32>) {
        let held = (self.held + dropped.len() <= LEFT_HELD).then_some(dropped);
        self.held += held.as_ref().map_or(0, Vec::len);
        self.terms.insert(name.into(), held);
    }

    /// Whether no term lost postings the export cannot see.
    pub(crate) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// What `name` lost: nothing (`Some` of none), those postings, or `None` when they were
    /// not held.
    pub(crate) fn of(&self, name: &str) -> Option<&[u32]> {
        match self.terms.get(name) {
            None => Some(&[]),
            Some(held) => held.as_deref(),
        }
    }
}

/// What the index keeps for the next build besides its documents ([`super::state`]).
struct Keep {
    /// The program that keeps it.
    program: u128,
    /// The runs of the kept index this one continues (none when it starts from nothing).
    base: Vec<RunFile>,
    delta: Vec<RunFile>,
    /// What [`Index::finish`] made of them: the runs the next build reads (when it starts
    /// from nothing, the base run is written by the export: [`state::Pending::tee`]).
    now: Option<(Vec<RunFile>, Vec<RunFile>)>,
}

/// A run of consecutive documents of a batch, analysed by one task: the documents, their
/// records as the spill keeps them, and their terms `(document in the run, term, weighted
/// frequency or 0)` by shard.
struct Batch {
    heads: Vec<(Head, std::ops::Range<usize>)>,
    records: Vec<u8>,
    by_shard: Vec<ShardPart>,
}

/// A term's hash: it routes the term to its shard of the term map ([`shard_of`]) and finds it
/// in a document's terms ([`DocTerms`]).
fn term_hash(term: &str) -> u64 {
    xxh3_64(term.as_bytes())
}

/// The shard of the term map a term of hash `hash` ([`term_hash`]) goes to.
fn shard_of(hash: u64) -> usize {
    (hash % SHARDS as u64) as usize
}

/// The distinct terms of one document, each with its weighted frequency (0 for a filter term),
/// kept in buffers that the task analysing a run of documents reuses from one document to the
/// next: the names one after another in `names`, found again by their hash through `table`
/// (indices into `terms`). So counting a token allocates nothing, not even for a new term, and
/// each token is hashed once, its hash also routing the term to its shard.
#[derive(Default)]
struct DocTerms {
    names: String,
    terms: Vec<DocTerm>,
    table: hashbrown::HashTable<u32>,
}

/// A term of [`DocTerms`]: its name `names[start..end]`, its hash and weighted frequency.
struct DocTerm {
    start: u32,
    end: u32,
    hash: u64,
    tf: u32,
}

/// Buckets of [`DocTerms::table`] past which it is dropped rather than cleared between
/// documents (clearing costs its size: one huge document must not slow down every other).
const DOC_TABLE_KEEP: usize = 1 << 15;

impl DocTerms {
    /// Empties it for the next document.
    fn clear(&mut self) {
        self.names.clear();
        self.terms.clear();
        if self.table.capacity() > DOC_TABLE_KEEP {
            self.table = hashbrown::HashTable::new();
        } else {
            self.table.clear();
        }
    }

    /// Adds `w` to the frequency of `term`.
    fn add(&mut self, term: &str, w: u32) {
        let hash = term_hash(term);
        let (names, terms) = (&self.names, &mut self.terms);
        let found = self.table.find(hash, |&i| {
            let t = &terms[i as usize];
            &names[t.start as usize..t.end as usize] == term
        });
        match found {
            Some(&i) => terms[i as usize].tf += w,
            None => {
                let i = u32::try_from(terms.len()).expect("a document has under 4 billion terms");
                self.push(term, hash, w);
                let terms = &self.terms;
                self.table
                    .insert_unique(hash, i, |&i| terms[i as usize].hash);
            }
        }
    }

    /// Adds a term known to be new to the document (a filter term), with frequency `tf`.
    fn push(&mut self, term: &str, hash: u64, tf: u32) {
        let start = u32::try_from(self.names.len()).expect("a document's terms are under 4 GB");
        self.names.push_str(term);
        let end = u32::try_from(self.names.len()).expect("a document's terms are under 4 GB");
        self.terms.push(DocTerm {
            start,
            end,
            hash,
            tf,
        });
    }

    /// (term, hash, weighted frequency or 0), in the order they came.
    fn iter(&self) -> impl Iterator<Item = (&str, u64, u32)> {
        self.terms
            .iter()
            .map(|t| (&self.names[t.start as usize..t.end as usize], t.hash, t.tf))
    }
}

impl Index {
    /// Makes each item a document with `convert` (`None`: no document) and adds it, numbered
    /// in the order the items come; items are converted and analysed in batches, on every core.
    /// With `kept`, the index continues the one kept in that folder (documents unchanged since
    /// are not analysed again) and is kept there for the next build ([`super::state`]).
    ///
    /// `identify` may tell an item's [`Identity`] without making its document: a kept index
    /// then skips the item when it holds that identity, and records the identity in place of
    /// the document's digest.
    pub(crate) fn build<T: Send>(
        items: impl Iterator<Item = T>,
        identify: &(impl Fn(&T) -> Identity + Sync),
        convert: &(impl Fn(T) -> Result<Option<SearchDoc>> + Sync),
        memory: &Memory,
        kept: Option<&KeptAt>,
    ) -> Result<Index> {
        Index::build_in_batches(items, identify, convert, BATCH, memory, kept)
    }

    /// [`Index::build`] with batches of `batch` items (tests check that the export does not
    /// depend on it).
    pub(crate) fn build_in_batches<T: Send>(
        items: impl Iterator<Item = T>,
        identify: &(impl Fn(&T) -> Identity + Sync),
        convert: &(impl Fn(T) -> Result<Option<SearchDoc>> + Sync),
        batch: usize,
        memory: &Memory,
        kept: Option<&KeptAt>,
    ) -> Result<Index> {
        let mut index = match kept {
            None => Index {
                heads: Vec::new(),
                records: Records::new(memory.records),
                shards: TermShard::empty_map(),
                runs: Vec::new(),
                memory: memory.clone(),
                spill: memory.spill.as_deref().map(SpillDir::create).transpose()?,
                kept: None,
                keep: None,
                from_kept: 0,
                spilled: 0,
                layout: None,
                left: Default::default(),
                changed: None,
            },
            Some(at) => Index::resume(at, memory)?,
        };
        let mut pending = Vec::with_capacity(batch);
        for item in items {
            pending.push(item);
            if pending.len() >= batch {
                index.add(std::mem::take(&mut pending), identify, convert)?;
            }
        }
        index.add(pending, identify, convert)?;
        index.finish()?;
        Ok(index)
    }

    /// An index that continues the one kept at `at`, or starts there from nothing.
    fn resume(at: &KeptAt, memory: &Memory) -> Result<Index> {
        let dir = at.dir.as_path();
        let (files, heads, layout) = match state::load(dir, at.program)? {
            Some(saved) => (saved.files, saved.heads, saved.layout),
            None => (state::Files::default(), Vec::new(), None),
        };
        let spill = SpillDir::keep(dir, files.next_run)?;
        let records = Records::open(&dir.join(state::RECORDS), files.records_len, memory.records)?;
        Ok(Index {
            left: Default::default(),
            changed: None,
            layout: layout.filter(|_| !heads.is_empty()),
            kept: (!heads.is_empty()).then(|| Kept::new(&heads)),
            from_kept: heads.len(),
            spilled: 0,
            heads,
            records,
            shards: TermShard::empty_map(),
            runs: Vec::new(),
            memory: memory.clone(),
            spill: Some(spill),
            keep: Some(Keep {
                program: at.program,
                base: files.base,
                delta: files.delta,
                now: None,
            }),
        })
    }

    /// After the last document: the kept index's slots whose documents were not found
    /// unchanged are dead; and when the index is kept and continues one, what this build
    /// analysed (its runs and what is still in memory) is merged with the earlier delta into
    /// the new delta run, dead postings dropped; the terms that lose postings of slots that
    /// die in this build are noted in [`Index::left`]. (An index kept from nothing is written whole
    /// as one base run while it is exported: [`Index::prepare_kept`].)
    fn finish(&mut self) -> Result<()> {
        let was_alive: Vec<bool> = self.heads.iter().map(|h| h.alive).collect();
        if let Some(kept) = self.kept.take() {
            let old = kept.len();
            for (slot, head) in self.heads.iter_mut().enumerate().take(old) {
                if head.alive && !kept.seen(slot) {
                    // Its length stays for this build's export, which weighs the postings the
                    // slot had against what replaced them, and its record, whose facets it
                    // takes out of the last build's counts.
                    *head = Head {
                        dl: head.dl,
                        body: head.body,
                        ..Head::dead()
                    };
                }
            }
        }
        let (Some(keep), Some(_)) = (self.keep.as_mut(), self.spill.as_ref()) else {
            return Ok(());
        };
        if keep.base.is_empty() {
            keep.now = Some((Vec::new(), Vec::new()));
            return Ok(());
        }
        let memory: Vec<Posting> = sorted(&std::mem::take(&mut self.shards));
        self.changed = self.changed_terms(&was_alive, &memory)?;
        let (Some(keep), Some(dir)) = (self.keep.as_mut(), self.spill.as_mut()) else {
            return Ok(());
        };
        let folder = dir.path().to_path_buf();
        let open = |r: &RunFile| Run::open(&folder.join(&r.name));
        let mut sources = keep.delta.iter().map(open).collect::<Result<Vec<_>>>()?;
        sources.extend(std::mem::take(&mut self.runs));
        let mut merge = Merge::new(sources, memory)?;
        let alive: Vec<bool> = self.heads.iter().map(|h| h.alive).collect();
        let left = &mut self.left;
        let delta = spill::write_run_from(dir, || {
            while let Some((name, postings)) = merge.next_term()? {
                let step = if is_filter(&name) { 1 } else { 2 };
                let dying = |&s: &u32| was_alive[s as usize] && !alive[s as usize];
                if postings.iter().step_by(step).any(dying) {
                    let dropped = (postings.chunks(step))
                        .filter(|p| dying(&p[0]))
                        .flatten()
                        .copied()
                        .collect();
                    left.add(&name, dropped);
                }
                let live = live_postings(&name, postings, &alive);
                if !live.is_empty() {
                    return Ok(Some((name, live)));
                }
            }
            Ok(None)
        })?;
        let base = keep.base.iter().map(open).collect::<Result<Vec<_>>>()?;
        keep.now = Some((
            base.iter().map(state::run_file).collect::<Result<_>>()?,
            vec![state::run_file(&delta)?],
        ));
        self.runs = base.into_iter().chain([delta]).collect();
        Ok(())
    }

    /// When the index is kept: what the next build reads, put in force by
    /// [`state::Pending::commit`] once the export succeeded; when it started from nothing,
    /// every term the export takes from [`Index::terms`] is to be written into its base run
    /// ([`state::Pending::tee`]). Call before the heads are dropped.
    /// [`Index::changed`], from the slots alive before this build (`was_alive`) and the terms
    /// of the documents analysed in it (`memory`), when they are all in memory.
    fn changed_terms(
        &self,
        was_alive: &[bool],
        memory: &[Posting],
    ) -> Result<Option<Vec<Box<str>>>> {
        let dying: Vec<usize> = (0..was_alive.len())
            .filter(|&s| was_alive[s] && !self.heads[s].alive)
            .collect();
        let one_base = self.keep.as_ref().is_some_and(|k| k.base.len() == 1);
        if !one_base || !self.runs.is_empty() || dying.len() * 8 > self.heads.len() {
            return Ok(None);
        }
        let mut changed: Vec<Box<str>> = memory.iter().map(|t| t.0.clone()).collect();
        let gone: Option<Vec<Vec<Box<str>>>> = dying
            .par_iter()
            .map_init(
                || (Vec::new(), DocTerms::default()),
                |(buf, terms), &slot| -> Result<Option<Vec<Box<str>>>> {
                    let (meta, text) = self.body(&self.heads[slot], buf)?;
                    Ok(record_terms(&meta, &text, terms)
                        .map(|()| terms.iter().map(|(t, _, _)| t.into()).collect()))
                },
            )
            .collect::<Result<_>>()?;
        let Some(gone) = gone else {
            return Ok(None);
        };
        changed.extend(gone.into_iter().flatten());
        changed.par_sort_unstable();
        changed.dedup();
        Ok(Some(changed))
    }

    pub(crate) fn prepare_kept(&mut self) -> Result<Option<state::Pending>> {
        let (Some(keep), Some(dir)) = (self.keep.as_mut(), self.spill.as_mut()) else {
            return Ok(None);
        };
        let (base, delta) = keep.now.take().expect("a kept index is finished");
        let tee = match keep.base.is_empty() {
            true => Some(RunWriter::new(dir)?),
            false => None,
        };
        let files = state::Files {
            next_run: dir.next_run(),
            base,
            delta,
            records_len: self.records.flush()?,
        };
        let pending = state::Pending::new(dir.path(), keep.program, files, &self.heads, tee);
        Ok(Some(pending))
    }

    fn add<T: Send>(
        &mut self,
        batch: Vec<T>,
        identify: &(impl Fn(&T) -> Identity + Sync),
        convert: &(impl Fn(T) -> Result<Option<SearchDoc>> + Sync),
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Runs of consecutive items, a few per thread, each converted and analysed by one task.
        let run_len = batch
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .max(1);
        let kept = self.kept.as_ref();
        // Only an index kept for the next build needs its documents' digests.
        let keeping = self.keep.is_some();
        let runs: Vec<Batch> = batch
            .into_par_iter()
            .chunks(run_len)
            .map(|items| -> Result<Batch> {
                let mut run = Batch {
                    heads: Vec::new(),
                    records: Vec::new(),
                    by_shard: (0..SHARDS).map(|_| ShardPart::default()).collect(),
                };
                let mut terms = DocTerms::default();
                for item in items {
                    let identity = if keeping { identify(&item) } else { None };
                    if let (Some(k), Some(id)) = (kept, identity) {
                        if k.holds(id) {
                            continue;
                        }
                    }
                    let Some(d) = convert(item)? else { continue };
                    let digest = match identity {
                        Some(id) => id,
                        None if keeping => {
                            let digest = state::digest(&d);
                            if kept.is_some_and(|k| k.unchanged(&d.path, digest)) {
                                continue;
                            }
                            digest
                        }
                        None => 0,
                    };
                    let local = run.heads.len() as u32;
                    let (mut head, meta, text) = analyse(d, &mut terms);
                    head.digest = digest;
                    for (term, hash, tf) in terms.iter() {
                        run.by_shard[shard_of(hash)].push(local, term, hash, tf);
                    }
                    let start = run.records.len();
                    meta.encode(&text, &mut run.records);
                    run.heads.push((head, start..run.records.len()));
                }
                Ok(run)
            })
            .collect::<Result<_>>()?;
        // Each shard takes its part of every run, in order, so postings are in document order.
        let mut parts: Vec<Vec<(u32, ShardPart)>> = (0..SHARDS)
            .map(|_| Vec::with_capacity(runs.len()))
            .collect();
        let mut base = u32::try_from(self.heads.len()).expect("fewer than 4 billion documents");
        for run in runs {
            for (part, terms) in parts.iter_mut().zip(run.by_shard) {
                part.push((base, terms));
            }
            base += run.heads.len() as u32;
            for (mut head, range) in run.heads {
                head.body = self
                    .records
                    .push(self.spill.as_ref(), &run.records[range])?;
                self.heads.push(head);
            }
        }
        self.shards
            .par_iter_mut()
            .zip(parts)
            .for_each(|(shard, part)| {
                for (base, terms) in part {
                    for (local, term, hash, tf) in terms.iter() {
                        debug_assert_eq!(tf == 0, is_filter(term));
                        shard.add(hash, term, base + local, tf);
                    }
                }
            });
        if self.term_bytes() > self.memory.terms {
            if let Some(dir) = self.spill.as_mut() {
                let shards = std::mem::replace(&mut self.shards, TermShard::empty_map());
                self.runs.push(write_shards(dir, &shards)?);
                self.spilled += 1;
            }
        }
        Ok(())
    }

    /// Bytes the term map holds ([`TermShard::bytes`]).
    fn term_bytes(&self) -> usize {
        self.shards.iter().map(TermShard::bytes).sum()
    }

    /// How many documents were analysed (the others were kept as the last build analysed them).
    pub(crate) fn analysed(&self) -> u64 {
        (self.heads.len() - self.from_kept) as u64
    }

    /// How many times the term map was written out.
    /// The program that keeps the index for the next build, when it is kept: what the
    /// export's files are made from besides their documents.
    pub(crate) fn kept_by(&self) -> Option<u128> {
        self.keep.as_ref().map(|k| k.program)
    }

    pub(crate) fn spilled_runs(&self) -> u64 {
        self.spilled
    }

    /// The record and text of a document, by its head.
    pub(crate) fn body(&self, head: &Head, buf: &mut Vec<u8>) -> Result<(Meta, String)> {
        self.records.read(head.body, buf)?;
        Meta::decode(buf).map_err(|e| crate::error::Error::Json {
            what: format!("the search index's spilled record of {}", head.key),
            source: e,
        })
    }

    /// The files of the runs written out, in document order (before [`terms`](Self::terms)
    /// takes them): the first is the kept index's base run when it continues one.
    pub(crate) fn run_paths(&self) -> Vec<std::path::PathBuf> {
        self.runs.iter().map(|r| r.path().to_path_buf()).collect()
    }

    /// Every term with its postings, in code point order (the order of the dictionary): the
    /// runs written out and the part in memory, merged.
    pub(crate) fn terms(&mut self) -> Result<Merge> {
        let memory = sorted(&std::mem::take(&mut self.shards));
        Merge::new(std::mem::take(&mut self.runs), memory)
    }
}

/// The postings of `name` whose documents are alive: `[doc, tf]` pairs of a word, documents of a
/// filter term ([`TermShard`]).
pub(crate) fn live_postings(name: &str, mut postings: Vec<u32>, alive: &[bool]) -> Vec<u32> {
    if is_filter(name) {
        postings.retain(|&d| alive[d as usize]);
    } else {
        let mut w = 0;
        for r in 0..postings.len() / 2 {
            if alive[postings[2 * r] as usize] {
                postings.copy_within(2 * r..2 * r + 2, w);
                w += 2;
            }
        }
        postings.truncate(w);
    }
    postings
}

/// A document's record, text, length and terms: its key and title (the title field, weighed
/// [`TITLE_WEIGHT`]), its body blocks, components and labels (the body), each value's pairs of
/// atoms with the same weight, and its filter and key terms (into `terms`, emptied first).
fn analyse(d: SearchDoc, terms: &mut DocTerms) -> (Head, Meta, String) {
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
    let (title_tokens, body_tokens) =
        analyse_terms(&meta, d.body.iter().map(String::as_str), terms);
    let dl = TITLE_WEIGHT as f64 * fieldnorm(title_tokens) as f64 + fieldnorm(body_tokens) as f64;

    let head = Head {
        kind: meta.kind,
        year: meta.year,
        key: meta.key.as_str().into(),
        path: meta.path.as_str().into(),
        dl,
        body: (0, 0),
        text_len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        digest: 0,
        alive: true,
    };
    (head, meta, text)
}

/// Adds to `terms` (emptied first) the terms of the document `meta` with the body `blocks`;
/// says how many tokens its title and its body have.
fn analyse_terms<'b>(
    meta: &'b Meta,
    blocks: impl Iterator<Item = &'b str>,
    terms: &mut DocTerms,
) -> (u32, u32) {
    terms.clear();
    let mut prev = String::new();
    let mut pair = String::new();
    // One value of a field: its tokens, and the pairs of its atoms next to each other (pairs
    // never span two values). Returns its number of tokens.
    let mut value = |text: &str, w: u32| -> u32 {
        let mut tokens = 0;
        prev.clear();
        tokenize_borrowed(text, |t, info| {
            tokens += 1;
            if info.atom {
                if !prev.is_empty() {
                    pair.clear();
                    pair_term_into(&mut pair, &prev, t.text);
                    terms.add(&pair, w);
                }
                prev.clear();
                prev.push_str(t.text);
            }
            terms.add(t.text, w);
        });
        tokens
    };
    let mut title_tokens = 0;
    if meta.kind == 0 {
        title_tokens += value(&meta.key, TITLE_W);
    }
    title_tokens += value(&meta.title, TITLE_W);
    let mut body_tokens = 0u32;
    for b in blocks.chain(meta.components.iter().map(String::as_str)) {
        body_tokens += value(b, 1);
    }
    for b in &meta.labels {
        body_tokens += value(b, 1);
    }

    let mut filters = Vec::new();
    for (field, value) in meta.facets() {
        filters.push(query::filter_term(field, &value));
        if matches!(field, "fix" | "version") {
            for bare in bare_versions(&value) {
                filters.push(query::filter_term(field, &bare));
            }
        }
    }
    filters.push(key_term(&meta.key));
    filters.retain(|t| t.len() <= MAX_TERM_BYTES);
    filters.sort_unstable();
    filters.dedup();
    // Filter terms hold a `:`, which no word or pair does: each is new to the document.
    for t in &filters {
        terms.push(t, term_hash(t), 0);
    }
    (title_tokens, body_tokens)
}

/// The terms of the document a record of the index ([`Meta`] and text) was analysed from, or
/// more (a pair of words across two of its blocks, which the text joins); `None` when its
/// text was cut ([`Meta::cut`]): terms past the cut are not known. What a document that goes
/// took out of the index, without its postings being read ([`super::export`]).
fn record_terms(meta: &Meta, text: &str, terms: &mut DocTerms) -> Option<()> {
    if meta.cut {
        return None;
    }
    analyse_terms(meta, std::iter::once(text), terms);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_gives_back_each_terms_postings_in_code_point_order() {
        let mut shard = TermShard::default();
        // More terms than a block of slots holds, names past a block of names, a term in one
        // document, in two, in many; words with frequencies and filter terms without.
        let long = "x".repeat(NAME_BLOCK - 3);
        let mut want: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
        for doc in 0..3000u32 {
            let mut terms = vec![(format!("w{doc}"), 1 + doc % 3), ("common".into(), 7)];
            if doc % 100 == 0 {
                terms.push(("status:open".into(), 0));
                terms.push((format!("{long}{}", doc / 100), 300_000));
            }
            if doc % 1000 == 0 {
                terms.push(("rare".into(), 2));
            }
            for (name, tf) in terms {
                shard.add(term_hash(&name), &name, doc * 1000, tf);
                let postings = want.entry(name).or_default();
                postings.push(doc * 1000);
                if tf != 0 {
                    postings.push(tf);
                }
            }
        }
        let shards = [shard, TermShard::default()];
        let got: Vec<(String, Vec<u32>)> = sorted(&shards)
            .into_iter()
            .map(|(name, postings)| (name.into(), postings))
            .collect();
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        assert!(shards[0].slots.len() > 1 && shards[0].names.len() > 1);
    }

    #[test]
    fn a_record_gives_back_every_term_of_its_document() {
        // Blocks whose pairs would span the join, a negative number after a block break,
        // whitespace of every kind, components and labels, versions with bare numbers.
        let d = SearchDoc {
            kind: DocKind::Issue,
            key: "LU-4423".into(),
            title: "ldlm_lock_cancel hangs".into(),
            path: "issues/LU/4/LU-4423.html".into(),
            body: vec![
                "rc = -2 in\u{a0}osc_lru_shrink()".into(),
                "-EIO\n\tfrom lustre/ldlm/ldlm_lock.c:123".into(),
                "日本語のテキスト mixed".into(),
            ],
            status: Some("Closed".into()),
            issue_type: Some("Bug".into()),
            year: Some(2014),
            project: Some("LU".into()),
            components: vec!["ldlm".into()],
            fix_versions: vec!["Lustre 2.15.3".into()],
            versions: vec!["2.12.0".into()],
            labels: vec!["llnl".into()],
        };
        let mut terms = DocTerms::default();
        let (_, meta, text) = analyse(d, &mut terms);
        let original: Vec<String> = terms.iter().map(|(t, _, _)| t.to_string()).collect();
        assert!(original.len() > 30, "{original:?}");
        record_terms(&meta, &text, &mut terms).unwrap();
        let again: std::collections::HashSet<&str> = terms.iter().map(|(t, _, _)| t).collect();
        for t in &original {
            assert!(again.contains(t.as_str()), "{t} is lost");
        }
        // A text cut short does not say its terms.
        let cut = Meta { cut: true, ..meta };
        assert!(record_terms(&cut, &text, &mut terms).is_none());
    }
    use crate::keys::natural_cmp;

    #[test]
    fn left_postings_are_held_within_the_budget() {
        let mut left = Left::default();
        assert!(left.is_empty());
        assert_eq!(left.of("lock"), Some(&[][..]));
        left.add("lock", vec![3, 1, 9, 2]);
        assert_eq!(left.of("lock"), Some(&[3, 1, 9, 2][..]));
        left.held = LEFT_HELD - 1;
        left.add("ldlm", vec![4, 1]);
        // Not held: the term is known to have lost some, not which.
        assert_eq!(left.of("ldlm"), None);
        assert_eq!(left.of("lock"), Some(&[3, 1, 9, 2][..]));
        assert!(!left.is_empty());
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["LU-10", "LU-9", "LU-100", "AB-2", "LU-09", "LU-1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        // Equal numbers: the shorter (unpadded) spelling first.
        assert_eq!(v, ["AB-2", "LU-1", "LU-9", "LU-09", "LU-10", "LU-100"]);
    }

    #[test]
    fn field_norms_are_tantivys() {
        use tantivy::fieldnorm::FieldNormReader as F;
        for n in (0..200_000u32).chain([1 << 30, u32::MAX - 1, u32::MAX]) {
            assert_eq!(
                fieldnorm(n),
                F::id_to_fieldnorm(F::fieldnorm_to_id(n)),
                "{n}"
            );
        }
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
