//! The tokenizer for code, logs and prose, shared bit for bit with the browser client
//! (`themes/default/static/search.js`, functions `fold` and `tokenize`). Both sides are checked
//! against one set of vectors, `tests/fixtures/search/tokenizer-vectors.json`.
//!
//! # Specification
//!
//! **Folding**, one input character at a time (so every folded character maps back to the
//! input character it came from, which the client uses to highlight snippets):
//! ASCII is lower-cased; any other character is decomposed (NFKD), combining marks
//! (`General_Category=Mark`) are dropped except the kana voicing marks U+3099 and U+309A, each
//! remaining character is lower-cased (full mapping), the few letters that have no decomposition
//! are folded by a table (`ς`→`σ`, `ı`→`i`, `ß`→`ss`, `ł`→`l`, `ø`→`o`, `đ`→`d`, `æ`→`ae`,
//! `œ`→`oe`), marks are dropped again, and the result is recomposed (NFC) so Hangul syllables and
//! voiced kana stay whole. So `É`→`e`, `İ`→`i`, `ﬁ`→`fi`, `Ｆ`→`f`, final and medial sigma agree.
//! A voicing mark that is still alone after folding (half-width `ﾞ`, or `か` + U+3099 in
//! the input) is composed with the character before it when they compose, else dropped.
//!
//! **Classes** of folded characters: *bigram* characters are alphanumeric (Unicode `Alphabetic`
//! or `Numeric`) characters of scripts written without spaces (Han, kana, Hangul, Thai, Lao,
//! Khmer, Myanmar; see [`is_bigram`]); *word* characters are the other alphanumerics;
//! *connectors* are `/ - . _`; everything else separates.
//!
//! **Tokens**. A run of bigram characters gives its overlapping character bigrams (one token
//! if the run is a single character), one position each. A *compound* is a run of words
//! ("atoms") joined by single connectors (`lustre/ldlm/ldlm_lock.c`, `LU-1234`, `2.15.0`). Each
//! atom takes one position. A compound gives, in this order (pre-order of a split tree, so
//! positions never decrease): the whole compound, then it is split at its `/`, each piece
//! split at `-`, then at `.`, then at `_`; every piece of two or more atoms is a token, at the
//! position of its first atom, and so is every atom. A compound right after a `-` that is at the
//! start or follows neither an alphanumeric nor a connector is negative (`-EIO`, `rc = -2`):
//! its whole token is written with the `-` (`-eio`), and a one-atom compound then gives both
//! `-eio` and `eio`. Tokens longer than [`MAX_TOKEN_CHARS`] characters are dropped (their
//! positions are kept).

use std::cell::RefCell;
use std::collections::HashMap;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Tokens longer than this (in characters) are not indexed.
pub const MAX_TOKEN_CHARS: usize = 64;

/// Connectors in split order: a compound is split at `/` first, then `-`, `.`, `_`.
const SPLIT_ORDER: [char; 4] = ['/', '-', '.', '_'];

/// One token: its folded text, its position, and the byte range of the input it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tok {
    /// Folded text.
    pub text: String,
    /// Position (one per atom or bigram).
    pub pos: u32,
    /// Byte offset in the input where the token starts.
    pub from: usize,
    /// Byte offset in the input just after the token.
    pub to: usize,
}

/// A token as the tokenizer hands it out: like [`Tok`], but its text is borrowed from a buffer
/// the tokenizer reuses, so producing it allocates nothing (the index analyses every document
/// of a site with [`tokenize_borrowed`]). Valid for the call it is given to; [`TokRef::to_tok`]
/// keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokRef<'a> {
    /// Folded text.
    pub text: &'a str,
    /// Position (one per atom or bigram).
    pub pos: u32,
    /// Byte offset in the input where the token starts.
    pub from: usize,
    /// Byte offset in the input just after the token.
    pub to: usize,
}

impl TokRef<'_> {
    /// The token with its own copy of the text, for callers that keep tokens.
    pub fn to_tok(&self) -> Tok {
        Tok {
            text: self.text.to_string(),
            pos: self.pos,
            from: self.from,
            to: self.to,
        }
    }
}

/// Folds one character into `out` (see the module documentation).
pub fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    thread_local! {
        static CACHE: RefCell<HashMap<char, Box<str>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(s) = cache.borrow().get(&c) {
            out.push_str(s);
            return;
        }
        let folded = fold_slow(c);
        out.push_str(&folded);
        let mut cache = cache.borrow_mut();
        if cache.len() < 65_536 {
            cache.insert(c, folded.into_boxed_str());
        }
    })
}

fn keep_mark(c: char) -> bool {
    c == '\u{3099}' || c == '\u{309A}'
}

fn fold_slow(c: char) -> String {
    let mut lowered = String::new();
    decompose_compatible(c, |d| {
        if is_combining_mark(d) && !keep_mark(d) {
            return;
        }
        for l in d.to_lowercase() {
            match l {
                'ς' => lowered.push('σ'),
                'ı' => lowered.push('i'),
                'ß' => lowered.push_str("ss"),
                'ł' => lowered.push('l'),
                'ø' => lowered.push('o'),
                'đ' => lowered.push('d'),
                'æ' => lowered.push_str("ae"),
                'œ' => lowered.push_str("oe"),
                l if is_combining_mark(l) && !keep_mark(l) => {}
                l => lowered.push(l),
            }
        }
    });
    if lowered.chars().count() > 1 {
        lowered.nfc().collect()
    } else {
        lowered
    }
}

/// Folds a whole string (facet values, query words).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// Whether a folded character is of a script written without spaces, indexed by bigrams.
pub fn is_bigram(c: char) -> bool {
    let u = c as u32;
    let in_range = matches!(u,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x1780..=0x17FF    // Khmer
        | 0x2E80..=0x2FDF    // CJK radicals, Kangxi radicals
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3100..=0x31BF    // Bopomofo, Hangul compatibility Jamo, Kanbun, Bopomofo ext.
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xA960..=0xA97F    // Hangul Jamo extended A
        | 0xAC00..=0xD7FF    // Hangul syllables, Jamo extended B
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B and later
    );
    in_range && (c.is_alphanumeric() || keep_mark(c))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Bigram,
    Connector,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => Class::Word,
            '/' | '-' | '.' | '_' => Class::Connector,
            _ => Class::Other,
        };
    }
    if is_bigram(c) {
        Class::Bigram
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// A folded character and the byte range of the input character it came from.
#[derive(Clone, Copy)]
struct FChar {
    c: char,
    class: Class,
    from: usize,
    to: usize,
}

/// Longest run of non-separator characters tokenized in one piece; a longer one (a
/// megabyte of base64) is cut there, which only matters for such garbage.
const MAX_SEGMENT: usize = 1 << 16;

/// Splits `text` into tokens, calling `emit` for each in order. The text is processed in
/// segments between separators, so memory stays bounded and multi-megabyte comments stream.
pub fn tokenize(text: &str, mut emit: impl FnMut(Tok)) {
    tokenize_units(text, |t, _| emit(t));
}

/// Where a token stands in the structure of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokInfo {
    /// The first token of a compound or of a bigram run.
    pub unit_start: bool,
    /// An atom of a compound (a leaf of its split tree) or a bigram: the tokens that a phrase
    /// is made of, one per position.
    pub atom: bool,
}

/// Like [`tokenize`], also telling where each token stands (the query parser needs it).
pub fn tokenize_units(text: &str, mut emit: impl FnMut(Tok, TokInfo)) {
    tokenize_borrowed(text, |t, info| emit(t.to_tok(), info));
}

/// The tokenizer itself: [`tokenize_units`] with each token's text borrowed ([`TokRef`]) from a
/// buffer reused from token to token, so that tokenizing allocates nothing per token. For
/// callers that look the text up rather than keep it (the index's analysis of documents).
pub fn tokenize_borrowed(text: &str, mut emit: impl FnMut(TokRef<'_>, TokInfo)) {
    let mut t = Segmenter {
        unit_start: false,
        pos: 0,
        seg: Vec::new(),
        buf: String::new(),
        atoms: Vec::new(),
        conns: Vec::new(),
        emit: &mut emit,
    };
    let mut scratch = String::new();
    for (i, c) in text.char_indices() {
        let to = i + c.len_utf8();
        if c.is_ascii() {
            t.push(FChar {
                c: c.to_ascii_lowercase(),
                class: class(c),
                from: i,
                to,
            });
        } else {
            scratch.clear();
            fold_char(c, &mut scratch);
            for f in scratch.chars() {
                t.push(FChar {
                    c: f,
                    class: class(f),
                    from: i,
                    to,
                });
            }
        }
    }
    t.segment();
}

/// The dictionary term of two atoms next to each other, `"lock cancel`: the postings a quoted
/// phrase is matched with. The leading quote sorts before every word (no token holds a quote or
/// a space), so these terms keep to their own part of the static index's dictionary and are
/// never the completion of a prefix. `pairTerm` in search.js builds the same string.
pub fn pair_term(a: &str, b: &str) -> String {
    let mut t = String::with_capacity(a.len() + b.len() + 2);
    pair_term_into(&mut t, a, b);
    t
}

/// [`pair_term`] appended to `out`, for callers that reuse one buffer.
pub fn pair_term_into(out: &mut String, a: &str, b: &str) {
    out.push('"');
    out.push_str(a);
    out.push(' ');
    out.push_str(b);
}

/// Calls `emit` with the [`pair_term`] of each two atoms that follow each other in `text`
/// (the atoms a phrase is made of, in order: `ldlm_lock_cancel()` gives `"ldlm lock` and
/// `"lock cancel`), as many times as they occur.
pub fn pairs(text: &str, mut emit: impl FnMut(String)) {
    let mut prev = String::new();
    let mut first = true;
    tokenize_borrowed(text, |t, info| {
        if info.atom {
            if !first {
                emit(pair_term(&prev, t.text));
            }
            first = false;
            prev.clear();
            prev.push_str(t.text);
        }
    });
}

/// Convenience: all tokens of `text`.
pub fn tokens(text: &str) -> Vec<Tok> {
    let mut v = Vec::new();
    tokenize(text, |t| v.push(t));
    v
}

struct Segmenter<'e, F: FnMut(TokRef<'_>, TokInfo)> {
    unit_start: bool,
    pos: u32,
    /// Characters since the last separator (none of them is a separator).
    seg: Vec<FChar>,
    /// The text of the token being emitted (reused).
    buf: String,
    /// A compound's atoms and connectors ([`Segmenter::compound`]; reused).
    atoms: Vec<(usize, usize)>,
    conns: Vec<char>,
    emit: &'e mut F,
}

impl<F: FnMut(TokRef<'_>, TokInfo)> Segmenter<'_, F> {
    fn push(&mut self, f: FChar) {
        if keep_mark(f.c) {
            // A voicing mark left alone by folding (half-width `ﾞ`, or a decomposed input)
            // joins the character before it when they compose; otherwise it is dropped.
            if let Some(last) = self.seg.last_mut() {
                if let Some(c) = unicode_normalization::char::compose(last.c, f.c) {
                    last.c = c;
                    last.class = class(c);
                    last.to = f.to;
                }
            }
            return;
        }
        if f.class == Class::Other {
            self.segment();
        } else {
            self.seg.push(f);
            if self.seg.len() >= MAX_SEGMENT {
                self.segment();
            }
        }
    }

    /// Tokenizes one segment: words, bigram characters and connectors, no separator. A
    /// compound is negative exactly when it starts at index 1 after a `-` (the character
    /// before the `-` is then a separator or the start of the text).
    fn segment(&mut self) {
        let seg = std::mem::take(&mut self.seg);
        let n = seg.len();
        let mut i = 0;
        while i < n {
            match seg[i].class {
                Class::Bigram => {
                    let s = i;
                    while i < n && seg[i].class == Class::Bigram {
                        i += 1;
                    }
                    self.unit_start = true;
                    self.bigrams(&seg[s..i]);
                }
                Class::Word => {
                    let s = i;
                    loop {
                        while i < n && seg[i].class == Class::Word {
                            i += 1;
                        }
                        if i + 1 < n
                            && seg[i].class == Class::Connector
                            && seg[i + 1].class == Class::Word
                        {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    let minus = if s == 1 && seg[0].c == '-' {
                        Some(seg[0])
                    } else {
                        None
                    };
                    self.unit_start = true;
                    self.compound(&seg[s..i], minus);
                }
                _ => i += 1,
            }
        }
        self.seg = seg;
        self.seg.clear();
    }

    fn bigrams(&mut self, run: &[FChar]) {
        if run.len() == 1 {
            let f = run[0];
            self.buf.clear();
            self.buf.push(f.c);
            self.emit_tok(0, self.pos, f.from, f.to, true);
            self.pos += 1;
            return;
        }
        for w in run.windows(2) {
            self.buf.clear();
            self.buf.push(w[0].c);
            self.buf.push(w[1].c);
            self.emit_tok(0, self.pos, w[0].from, w[1].to, true);
            self.pos += 1;
        }
    }

    fn compound(&mut self, run: &[FChar], minus: Option<FChar>) {
        // Atoms as index ranges into `run`, and the connector after each atom but the last.
        let mut atoms = std::mem::take(&mut self.atoms);
        let mut conns = std::mem::take(&mut self.conns);
        atoms.clear();
        conns.clear();
        let mut i = 0;
        while i < run.len() {
            let s = i;
            while i < run.len() && run[i].class == Class::Word {
                i += 1;
            }
            atoms.push((s, i));
            if i < run.len() {
                conns.push(run[i].c);
                i += 1;
            }
        }
        let base = self.pos;
        let tree = Tree {
            run,
            atoms: &atoms,
            conns: &conns,
            base,
        };
        self.node(&tree, 0, atoms.len(), 0, minus);
        self.pos = base + atoms.len() as u32;
        self.atoms = atoms;
        self.conns = conns;
    }

    fn node(&mut self, t: &Tree<'_>, lo: usize, hi: usize, level: usize, minus: Option<FChar>) {
        let from_ch = t.atoms[lo].0;
        let to_ch = t.atoms[hi - 1].1;
        // The text, after a `-` if negative: `buf[start..]` is the text alone.
        self.buf.clear();
        if minus.is_some() {
            self.buf.push('-');
        }
        let start = self.buf.len();
        self.buf.extend(t.run[from_ch..to_ch].iter().map(|f| f.c));
        let pos = t.base + lo as u32;
        let (from, to) = (t.run[from_ch].from, t.run[to_ch - 1].to);
        if let Some(m) = minus {
            self.emit_tok(0, pos, m.from, to, false);
        }
        if hi - lo == 1 {
            self.emit_tok(start, pos, from, to, true);
            return;
        }
        if minus.is_none() {
            self.emit_tok(start, pos, from, to, false);
        }
        for (l, &sep) in SPLIT_ORDER.iter().enumerate().skip(level) {
            if t.conns[lo..hi - 1].contains(&sep) {
                let mut s = lo;
                for k in lo..hi - 1 {
                    if t.conns[k] == sep {
                        self.node(t, s, k + 1, l + 1, None);
                        s = k + 1;
                    }
                }
                self.node(t, s, hi, l + 1, None);
                return;
            }
        }
        unreachable!("a compound of several atoms has a connector");
    }

    /// Emits `buf[start..]` as a token.
    fn emit_tok(&mut self, start: usize, pos: u32, from: usize, to: usize, atom: bool) {
        let text = &self.buf[start..];
        if text.len() > MAX_TOKEN_CHARS && text.chars().count() > MAX_TOKEN_CHARS {
            return;
        }
        let info = TokInfo {
            unit_start: std::mem::take(&mut self.unit_start),
            atom,
        };
        (self.emit)(
            TokRef {
                text,
                pos,
                from,
                to,
            },
            info,
        );
    }
}

struct Tree<'a> {
    run: &'a [FChar],
    atoms: &'a [(usize, usize)],
    conns: &'a [char],
    base: u32,
}

/// The tokenizer as a tantivy analyzer, registered under [`TOKENIZER_NAME`].
#[derive(Clone, Default)]
pub struct TantivyTokenizer {
    tokens: Vec<tantivy::tokenizer::Token>,
}

/// Name under which [`TantivyTokenizer`] is registered in the index.
pub const TOKENIZER_NAME: &str = "hindsight";

/// Token stream over a pre-tokenized buffer (tantivy hands us one field value at a time).
pub struct TantivyTokenStream<'a> {
    tokens: &'a [tantivy::tokenizer::Token],
    next: usize,
}

impl tantivy::tokenizer::Tokenizer for TantivyTokenizer {
    type TokenStream<'a> = TantivyTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TantivyTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        tokenize(text, |t| {
            tokens.push(tantivy::tokenizer::Token {
                offset_from: t.from,
                offset_to: t.to,
                position: t.pos as usize,
                text: t.text,
                position_length: 1,
            })
        });
        TantivyTokenStream {
            tokens: &self.tokens,
            next: 0,
        }
    }
}

/// The pairs of atoms of a text ([`pairs`]) as a tantivy analyzer, registered under
/// [`PAIR_TOKENIZER_NAME`]: the index of quoted phrases.
#[derive(Clone, Default)]
pub struct TantivyPairTokenizer {
    tokens: Vec<tantivy::tokenizer::Token>,
}

/// Name under which [`TantivyPairTokenizer`] is registered in the index.
pub const PAIR_TOKENIZER_NAME: &str = "hindsight_pairs";

impl tantivy::tokenizer::Tokenizer for TantivyPairTokenizer {
    type TokenStream<'a> = TantivyTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TantivyTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        pairs(text, |p| {
            let position = tokens.len();
            tokens.push(tantivy::tokenizer::Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text: p,
                position_length: 1,
            })
        });
        TantivyTokenStream {
            tokens: &self.tokens,
            next: 0,
        }
    }
}

impl tantivy::tokenizer::TokenStream for TantivyTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        unreachable!("the hindsight analyzer has no token filters")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_pairs(text: &str) -> Vec<String> {
        let mut v = Vec::new();
        pairs(text, |p| v.push(p));
        v
    }

    #[test]
    fn pairs_are_the_atoms_next_to_each_other_in_order() {
        assert_eq!(
            all_pairs("ldlm_lock_cancel() failed"),
            ["\"ldlm lock", "\"lock cancel", "\"cancel failed"]
        );
        // Punctuation between words does not part them; each occurrence counts.
        assert_eq!(
            all_pairs("Lock, cancel. lock cancel"),
            ["\"lock cancel", "\"cancel lock", "\"lock cancel"]
        );
        assert!(all_pairs("lock").is_empty());
        // CJK: bigrams follow each other.
        assert_eq!(all_pairs("文件系统"), ["\"文件 件系", "\"件系 系统"]);
        assert_eq!(pair_term("lock", "cancel"), "\"lock cancel");
    }
}
