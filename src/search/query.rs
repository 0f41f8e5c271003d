//! The query language, parsed the same way here (for `hindsight search`) and in the client
//! (`parseQuery` in `search.js`):
//!
//! * words: any text; each compound (`ldlm_lock_cancel`, `-EIO`) or run of CJK characters is
//!   one *group*; documents rank by how many groups they match, then by BM25 (OR semantics, so
//!   a pasted log line with other pids and addresses still finds its issue);
//! * `"a phrase"`: only documents where its words stand next to each other, in order (each
//!   two neighbouring words of the phrase are a *pair* term of the index,
//!   [`super::tokenize::pair_term`]; a document must hold all of the phrase's pairs, and for a
//!   phrase of three words or more its text, title, components or labels must hold the words
//!   in a row, checked on the document's text shard before it is listed); the phrase may stand
//!   beside other words and filters, and one found nowhere matches nothing;
//! * `prefix*`: the word's completions (at most [`MAX_EXPANSIONS`]); the last word of a query
//!   is a prefix too unless the query ends in a space or a closing quote — the same rule
//!   while typing, after Enter, for a shared link and in the terminal;
//! * `field:value` or `field:"two words"`: a filter; several values of one field are
//!   alternatives, different fields must all hold. Fields: `project`, `status`, `type`,
//!   `component`, `fix` (fix version), `version` (affects version), `label`, `year` (also
//!   `year:2010..2015`), `kind` (`issue` or `commit`);
//! * a query that is exactly an issue key (`LU-1234`) or a commit hash (7 to 40 hex digits) is
//!   also a jump to that page; a key the archive does not hold is said to be missing;
//! * what cannot be read is named in [`Query::notes`] (an unknown `field:`, `year:abc`, an
//!   unclosed quote) and the rest of the query still runs.
//!
//! Users read the same rules on the example site's `searching.md` page; versions typed bare
//! (`fix:2.15`) match because the index also holds each version's bare numbers.

use super::tokenize::{fold, tokenize_units};

/// At most this many completions of a prefix are searched.
pub const MAX_EXPANSIONS: usize = 8;

/// Commit hashes are indexed as keys by this many leading hex digits.
pub const KEY_HASH_LEN: usize = 12;

/// A parsed query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Word groups.
    pub groups: Vec<Group>,
    /// Filters: field and its alternative values (filter terms, `status:open`).
    pub filters: Vec<(String, Vec<String>)>,
    /// Excluding filters (`-status:closed`): no document with any of these terms.
    pub exclude: Vec<(String, Vec<String>)>,
    /// When the query is an issue key or a commit hash: the key term (`key:lu-1234`), and
    /// whether it is a prefix of longer keys (a short hash).
    pub key: Option<(String, bool)>,
    /// When the query is a Bugzilla reference (`bug 1234`, `bug #1234`, `b=1234`): the bug
    /// number, a key once the archive's Bugzilla prefix is known.
    pub bug: Option<String>,
    /// What the reader should know about how the query was read: an unknown filter field, a
    /// filter value that cannot be read, a quote left open. Shown beside the results.
    pub notes: Vec<String>,
}

/// A group of words that count as one for coordination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// The whole compound as written (`ldlm_lock.c`, `-eio`), when it differs from `atoms`.
    pub whole: Option<String>,
    /// The atoms (or bigrams), one per position, in order.
    pub atoms: Vec<String>,
    /// Atoms that read as a phrase (a quoted phrase, or a run of CJK bigrams): adjacency
    /// ranks first.
    pub phrase: bool,
    /// A quoted phrase: its atoms must stand next to each other, in order (its pairs are
    /// required).
    pub quoted: bool,
    /// The last atom (or the whole) is a prefix.
    pub prefix: bool,
}

/// Canonical filter field name for what a user may type.
pub fn filter_field(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "project" | "proj" => "project",
        "status" => "status",
        "type" | "issuetype" => "type",
        "component" | "comp" => "component",
        "fix" | "fixversion" | "fixver" => "fix",
        "version" | "affects" | "affectsversion" => "version",
        "label" | "labels" => "label",
        "year" => "year",
        "kind" | "is" => "kind",
        _ => return None,
    })
}

/// The filter term for a value of a field: `status:` + the folded value, runs of whitespace,
/// `-` and `_` made one space (`In Progress`, `in-progress` and `in_progress` are one value).
pub fn filter_term(field: &str, value: &str) -> String {
    let folded = fold(value);
    let mut out = String::with_capacity(field.len() + 1 + folded.len());
    out.push_str(field);
    out.push(':');
    let mut space = false;
    for c in folded
        .chars()
        .filter(|c| !c.is_control() || c.is_ascii_whitespace())
    {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '-' | '_') {
            space = true;
        } else {
            if space && !out.ends_with(':') {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// The key term of an issue key or a commit hash.
pub fn key_term(key: &str) -> String {
    if is_hash(key) {
        format!(
            "key:{}",
            &key.to_ascii_lowercase()[..key.len().min(KEY_HASH_LEN)]
        )
    } else {
        format!("key:{}", fold(key))
    }
}

fn is_hash(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_issue_key(s: &str) -> bool {
    let Some((p, n)) = s.rsplit_once('-') else {
        return false;
    };
    let mut pc = p.chars();
    matches!(pc.next(), Some(c) if c.is_ascii_alphabetic())
        && pc.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
}

/// The filter fields, as the notes about an unknown one list them.
pub const FIELDS: &str = "project, status, type, component, fix, version, label, year, kind";

/// Parses a query. The last word is a prefix (its completions count) unless the query ends in
/// a space or a closing quote: the same rule while typing, after Enter, for a shared link and
/// in the terminal.
pub fn parse(q: &str) -> Query {
    let mut out = Query::default();
    let trimmed = q.trim();
    if is_issue_key(trimmed) {
        out.key = Some((key_term(trimmed), false));
    } else if is_hash(trimmed) && trimmed.len() <= 40 {
        out.key = Some((key_term(trimmed), trimmed.len() < KEY_HASH_LEN));
    }
    if out.key.is_none() {
        out.bug = bug_number(trimmed);
    }
    let chars: Vec<char> = q.chars().collect();
    let n = chars.len();
    let mut i = 0;
    let mut text = String::new();
    let flush_text = |text: &mut String, out: &mut Query| {
        if !text.is_empty() {
            words(text, out);
            text.clear();
        }
    };
    while i < n {
        let c = chars[i];
        if c == '"' {
            flush_text(&mut text, &mut out);
            let s = i + 1;
            let mut e = s;
            while e < n && chars[e] != '"' {
                e += 1;
            }
            let phrase: String = chars[s..e].iter().collect();
            if e >= n {
                out.notes.push(
                    "a quote is not closed: the rest of the query is read as one phrase".into(),
                );
            }
            phrase_group(&phrase, &mut out);
            i = e + 1;
            continue;
        }
        if c.is_whitespace() {
            text.push(' ');
            i += 1;
            continue;
        }
        // A bare word: up to whitespace (a quote after `field:` belongs to it).
        let s = i;
        let mut e = i;
        while e < n && !chars[e].is_whitespace() && chars[e] != '"' {
            e += 1;
        }
        let word: String = chars[s..e].iter().collect();
        let negated = word.starts_with('-') && word.len() > 1;
        let bare = if negated { &word[1..] } else { &word[..] };
        if let Some((f, v)) = bare.split_once(':') {
            if let Some(field) = filter_field(f) {
                flush_text(&mut text, &mut out);
                let (value, next) = if v.is_empty() && e < n && chars[e] == '"' {
                    let vs = e + 1;
                    let mut ve = vs;
                    while ve < n && chars[ve] != '"' {
                        ve += 1;
                    }
                    (chars[vs..ve].iter().collect::<String>(), ve + 1)
                } else {
                    (v.to_string(), e)
                };
                add_filter(&mut out, field, &value, negated);
                i = next;
                continue;
            }
            if !negated && is_unknown_field(f, v) {
                out.notes.push(format!(
                    "`{f}:` is not a filter (the filters are {FIELDS}); searched as words"
                ));
            }
        }
        if let Some(stem) = word.strip_suffix('*') {
            flush_text(&mut text, &mut out);
            let before = out.groups.len();
            words(stem, &mut out);
            if out.groups.len() > before {
                out.groups.last_mut().expect("a group was added").prefix = true;
            }
            i = e;
            continue;
        }
        text.push_str(&word);
        i = e;
    }
    let ends_in_word = chars
        .last()
        .is_some_and(|c| !c.is_whitespace() && *c != '"');
    let before = out.groups.len();
    flush_text(&mut text, &mut out);
    if ends_in_word && out.groups.len() > before {
        out.groups.last_mut().expect("a group was added").prefix = true;
    }
    tidy(&mut out);
    out
}

/// Drops repeated groups, and in a long query (a pasted log line) the numbers and hex
/// addresses, which differ from one occurrence of a message to the next.
fn tidy(q: &mut Query) {
    let long = q.groups.len() >= LONG_QUERY;
    let mut seen: Vec<Group> = Vec::new();
    q.groups.retain(|g| {
        if seen.contains(g) {
            return false;
        }
        seen.push(g.clone());
        !(long && !g.prefix && g.whole.is_none() && g.atoms.len() == 1 && is_noise(&g.atoms[0]))
    });
}

/// Queries of at least this many groups are read as pasted text.
pub const LONG_QUERY: usize = 6;

fn is_noise(atom: &str) -> bool {
    atom.bytes().all(|b| b.is_ascii_digit())
        || (atom.len() >= 8 && atom.bytes().all(|b| b.is_ascii_hexdigit()))
        || (atom.len() >= 10
            && atom.starts_with("0x")
            && atom[2..].bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The number of a Bugzilla reference as commit messages and mails write it: `bug 1234`,
/// `Bug #1234`, `b=1234`, `b:1234`.
fn bug_number(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let rest = match lower.strip_prefix("bug") {
        Some(r) => r
            .trim_start()
            .strip_prefix('#')
            .unwrap_or(r.trim_start())
            .trim_start(),
        None => lower
            .strip_prefix("b=")
            .or_else(|| lower.strip_prefix("b:"))?,
    };
    let ok = !rest.is_empty() && rest.len() <= 18 && rest.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| rest.trim_start_matches('0').to_string())
        .filter(|n| !n.is_empty())
}

/// `word:value` where `word` looks like a field name (letters only) but is none: a filter the
/// user mistyped. A URL (`http://…`) or a log's `Error:` is not one.
fn is_unknown_field(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.len() <= 20
        && name.bytes().all(|b| b.is_ascii_alphabetic())
        && !value.is_empty()
        && !value.starts_with("//")
}

fn add_filter(out: &mut Query, field: &'static str, value: &str, negated: bool) {
    // `status:open,reopened`: alternatives, as `status:open status:reopened` are.
    if field != "year" && value.contains(',') {
        for v in value.split(',').filter(|v| !v.trim().is_empty()) {
            add_filter(out, field, v, negated);
        }
        return;
    }
    let mut terms = Vec::new();
    if field == "year" {
        let year = |s: &str| s.trim().parse::<i32>().ok();
        match value.split_once("..") {
            Some((a, b)) => match (year(a), year(b)) {
                (Some(a), Some(b)) if a <= b && b - a <= 200 => {
                    terms.extend((a..=b).map(|y| format!("year:{y}")));
                }
                _ => out.notes.push(format!(
                    "`year:{value}` is not a range like `year:2010..2015`; ignored"
                )),
            },
            None if !value.is_empty() && year(value).is_none() => {
                out.notes.push(format!(
                    "`year:{value}` is not a year like `year:2015`; ignored"
                ));
                return;
            }
            None => {}
        }
        if terms.is_empty() && value.contains("..") {
            return;
        }
    }
    if field == "kind" {
        let v = fold(value);
        let v = v.trim_end_matches('s');
        terms.push(format!("kind:{v}"));
    }
    if terms.is_empty() {
        terms.push(filter_term(field, value));
    }
    if terms.iter().all(|t| t.len() == field.len() + 1) {
        return;
    }
    let list = if negated {
        &mut out.exclude
    } else {
        &mut out.filters
    };
    match list.iter_mut().find(|(f, _)| f == field) {
        Some((_, values)) => {
            for t in terms {
                if !values.contains(&t) {
                    values.push(t);
                }
            }
        }
        None => list.push((field.to_string(), terms)),
    }
}

/// Plain words: one group per compound or bigram run.
fn words(text: &str, out: &mut Query) {
    let mut cur: Option<Group> = None;
    tokenize_units(text, |t, info| {
        if info.unit_start {
            if let Some(g) = cur.take() {
                out.groups.push(g);
            }
            cur = Some(Group::default());
        }
        let g = cur.get_or_insert_with(Group::default);
        if info.atom {
            g.atoms.push(t.text);
        } else if info.unit_start {
            g.whole = Some(t.text);
        }
    });
    if let Some(g) = cur {
        out.groups.push(g);
    }
    for g in &mut out.groups {
        // A run of bigrams reads as a phrase of them.
        if g.whole.is_none() && g.atoms.len() > 1 {
            g.phrase = true;
        }
    }
}

fn phrase_group(text: &str, out: &mut Query) {
    let mut g = Group {
        phrase: true,
        quoted: true,
        ..Group::default()
    };
    tokenize_units(text, |t, info| {
        if info.atom {
            g.atoms.push(t.text);
        }
    });
    if g.atoms.len() == 1 {
        g.phrase = false;
        g.quoted = false;
    }
    if !g.atoms.is_empty() {
        out.groups.push(g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(whole: Option<&str>, atoms: &[&str]) -> Group {
        Group {
            whole: whole.map(str::to_string),
            atoms: atoms.iter().map(|s| s.to_string()).collect(),
            phrase: false,
            quoted: false,
            prefix: false,
        }
    }

    #[test]
    fn words_compounds_filters_phrases() {
        let q =
            parse(r#"ldlm_lock_cancel -EIO status:Open component:"Lustre Client" "rc = -2" osc*"#);
        assert_eq!(
            q.groups,
            vec![
                g(Some("ldlm_lock_cancel"), &["ldlm", "lock", "cancel"]),
                g(Some("-eio"), &["eio"]),
                Group {
                    phrase: true,
                    quoted: true,
                    ..g(None, &["rc", "2"])
                },
                Group {
                    prefix: true,
                    ..g(None, &["osc"])
                },
            ]
        );
        assert_eq!(
            q.filters,
            vec![
                ("status".to_string(), vec!["status:open".to_string()]),
                (
                    "component".to_string(),
                    vec!["component:lustre client".to_string()]
                ),
            ]
        );
        assert_eq!(q.key, None);
    }

    #[test]
    fn keys_years_and_typing() {
        assert_eq!(parse(" LU-1234 ").key, Some(("key:lu-1234".into(), false)));
        assert_eq!(parse("3f2a9c1").key, Some(("key:3f2a9c1".into(), true)));
        let q = parse("year:2010..2012 kind:commits lock");
        assert_eq!(
            q.filters,
            vec![
                (
                    "year".to_string(),
                    vec!["year:2010".into(), "year:2011".into(), "year:2012".into()]
                ),
                ("kind".to_string(), vec!["kind:commit".into()]),
            ]
        );
        assert!(q.groups[0].prefix);
        assert!(!parse("lock ").groups[0].prefix);
        assert_eq!(parse("文件系统 ").groups[0].atoms.len(), 3);
        assert!(parse("文件系统 ").groups[0].phrase);
    }

    #[test]
    fn the_last_word_is_a_prefix_unless_the_query_ends_in_space_or_quote() {
        assert!(parse("evict").groups[0].prefix);
        assert!(!parse("evict ").groups[0].prefix);
        assert!(!parse("\"lock cancel\"").groups[0].prefix);
        assert!(parse("lock canc").groups[1].prefix);
        assert!(!parse("lock canc").groups[0].prefix);
    }

    #[test]
    fn notes_name_what_was_not_understood() {
        let q = parse("nosuchfield:x lock");
        assert_eq!(q.notes.len(), 1, "{:?}", q.notes);
        assert!(q.notes[0].contains("nosuchfield") && q.notes[0].contains("component"));
        assert!(parse("year:abc").notes[0].contains("year:abc"));
        assert!(parse("year:2015..").notes[0].contains("range"));
        assert!(parse("\"lock cancel").notes[0].contains("quote"));
        for fine in [
            "http://jira.example.org/browse/LU-1",
            "LustreError: 11-0: lock",
            "year:2010..2012",
            "status:open",
        ] {
            assert!(
                parse(fine).notes.is_empty(),
                "{fine}: {:?}",
                parse(fine).notes
            );
        }
    }

    #[test]
    fn negation_commas_and_spellings_of_a_value() {
        let q = parse("lock -status:closed status:open,in-progress ");
        assert_eq!(
            q.exclude,
            vec![("status".to_string(), vec!["status:closed".to_string()])]
        );
        assert_eq!(
            q.filters,
            vec![(
                "status".to_string(),
                vec!["status:open".to_string(), "status:in progress".to_string()]
            )]
        );
        assert_eq!(filter_term("status", "In Progress"), "status:in progress");
        assert_eq!(filter_term("component", "osd_zfs"), "component:osd zfs");
        // `-EIO` is still a word.
        assert_eq!(parse("-EIO ").groups[0].whole.as_deref(), Some("-eio"));
    }

    #[test]
    fn bugzilla_references_name_a_bug() {
        for (q, n) in [
            ("bug 1234", "1234"),
            ("Bug #1234", "1234"),
            ("BUG# 01234", "1234"),
            ("b=1234", "1234"),
            ("b:1234", "1234"),
        ] {
            assert_eq!(parse(q).bug.as_deref(), Some(n), "{q}");
        }
        for q in ["bug", "bug 12a", "b=", "debug 12", "bug 1234 lock"] {
            assert_eq!(parse(q).bug, None, "{q}");
        }
    }
}
