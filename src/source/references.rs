//! References from commit messages to issues: configurable patterns, per tracker.
//!
//! Each tracker has a list of patterns: a regular expression and the key a match stands for
//! (`BZ-$1`). Without configured patterns a tracker gets defaults:
//!
//! - a tracker with a `key_prefix` (Bugzilla): `b=123`, `b:123`, comma lists `b=12755,16494`,
//!   `bug 123`, `Bug: 123`, and `show_bug.cgi?id=123` URLs (on the tracker's `base_urls`, or on
//!   any host when none are configured), each giving `PREFIX-123`;
//! - any other tracker (JIRA): issue keys `PROJ-123` anywhere, old `…/browse/PROJ-123` URLs
//!   included. These matches are *generic*: they only count for projects present in the
//!   archive, which the linker knows ([`Found::generic`]).
//!
//! Matches never overlap: where two patterns match the same text, the one starting first (then
//! the longer, then the earlier pattern) wins.

use std::sync::OnceLock;

use regex::Regex;

use crate::config::{Config, Format, ReferencePattern, TrackerConfig};
use crate::error::{Error, Result};

/// A reference found in text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Byte range of the match.
    pub start: usize,
    /// End of the match.
    pub end: usize,
    /// The keys it stands for (several for `b=12755,16494`).
    pub keys: Vec<String>,
    /// A generic `PROJ-123` match: only a reference when `PROJ` is a project of the archive.
    pub generic: bool,
}

#[derive(Clone, Debug)]
struct Rule {
    re: Regex,
    key: String,
    generic: bool,
}

/// The compiled reference patterns of every tracker.
#[derive(Clone, Debug, Default)]
pub struct References {
    rules: Vec<Rule>,
}

/// The generic issue-key pattern (`LU-1234`), as the linker uses it for issue text.
const GENERIC_KEY: &str = r"\b([A-Z][A-Z0-9_]{0,31})-([1-9][0-9]{0,17})\b";

fn numbers_list() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\d+(?:\s*,\s*\d+)+$").unwrap())
}

/// The default patterns of a numeric tracker with key prefix `prefix`.
pub fn bugzilla_defaults(prefix: &str, base_urls: &[String]) -> Vec<ReferencePattern> {
    let key = format!("{prefix}-$1");
    let mut out = Vec::new();
    if base_urls.is_empty() {
        out.push(ReferencePattern {
            regex: r"\bhttps?://[A-Za-z0-9.-]+(?::\d+)?/(?:[\w.~-]+/)*show_bug\.cgi\?id=(\d+)"
                .into(),
            key: key.clone(),
        });
    } else {
        for base in base_urls {
            let host = base
                .trim_end_matches('/')
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(base);
            out.push(ReferencePattern {
                regex: format!(
                    r"\bhttps?://{}/(?:[\w.~-]+/)*show_bug\.cgi\?id=(\d+)",
                    regex::escape(host)
                ),
                key: key.clone(),
            });
        }
    }
    out.push(ReferencePattern {
        regex: r"\b[bB][ \t]?[=:][ \t]?(\d+(?:[ \t]?,[ \t]?\d+)*)\b".into(),
        key: key.clone(),
    });
    out.push(ReferencePattern {
        regex: r"(?i)\bbug[ \t]*[:#=]?[ \t]*#?(\d{3,}(?:[ \t]?,[ \t]?\d{3,})*)\b".into(),
        key,
    });
    out
}

fn is_numeric_tracker(t: &TrackerConfig) -> bool {
    t.key_prefix.is_some() || matches!(t.format, Some(Format::BugzillaXml | Format::BugzillaJson))
}

impl References {
    /// The patterns of every tracker in the config (configured, or the defaults).
    pub fn from_config(config: &Config) -> Result<Self> {
        let mut rules = Vec::new();
        let mut generic = false;
        for t in &config.trackers {
            let patterns = match (&t.references, is_numeric_tracker(t)) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let prefix = t.key_prefix.clone().unwrap_or_else(|| "BZ".into());
                    bugzilla_defaults(&prefix, &t.base_urls)
                }
                (None, false) => {
                    generic = true;
                    Vec::new()
                }
            };
            for p in patterns {
                let re = Regex::new(&p.regex).map_err(|e| Error::Config {
                    path: config.file.clone(),
                    message: format!("references: bad regex {:?}: {e}", p.regex),
                })?;
                rules.push(Rule {
                    re,
                    key: p.key,
                    generic: false,
                });
            }
        }
        if generic {
            rules.push(Rule {
                re: Regex::new(GENERIC_KEY).unwrap(),
                key: "$1-$2".into(),
                generic: true,
            });
        }
        Ok(References { rules })
    }

    /// Patterns from explicit lists (tests, tools).
    pub fn new(patterns: &[ReferencePattern], generic_keys: bool) -> Result<Self> {
        let mut rules = Vec::new();
        for p in patterns {
            rules.push(Rule {
                re: Regex::new(&p.regex).map_err(|e| Error::Config {
                    path: "references".into(),
                    message: format!("bad regex {:?}: {e}", p.regex),
                })?,
                key: p.key.clone(),
                generic: false,
            });
        }
        if generic_keys {
            rules.push(Rule {
                re: Regex::new(GENERIC_KEY).unwrap(),
                key: "$1-$2".into(),
                generic: true,
            });
        }
        Ok(References { rules })
    }

    /// Every reference in `text`, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut all: Vec<(usize, usize, usize, Vec<String>)> = Vec::new();
        for (ri, rule) in self.rules.iter().enumerate() {
            for caps in rule.re.captures_iter(text) {
                let m = caps.get(0).unwrap();
                if m.as_str().is_empty() {
                    continue;
                }
                let keys = expand(&rule.key, &caps);
                if !keys.is_empty() {
                    all.push((m.start(), m.end(), ri, keys));
                }
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut out: Vec<Found> = Vec::new();
        for (start, end, ri, keys) in all {
            if out.last().is_some_and(|f| start < f.end) {
                continue;
            }
            out.push(Found {
                start,
                end,
                keys,
                generic: self.rules[ri].generic,
            });
        }
        out
    }
}

/// The keys a match stands for: the template expanded, once per number when a group holds a
/// list of numbers.
fn expand(template: &str, caps: &regex::Captures) -> Vec<String> {
    let mut list: Option<(usize, Vec<String>)> = None;
    for i in 1..caps.len() {
        if let Some(g) = caps.get(i) {
            if numbers_list().is_match(g.as_str()) {
                let nums = g
                    .as_str()
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .collect();
                list = Some((i, nums));
                break;
            }
        }
    }
    let mut out = Vec::new();
    match list {
        Some((i, nums)) => {
            for n in nums {
                let t = template
                    .replace(&format!("${{{i}}}"), &n)
                    .replace(&format!("${i}"), &n);
                let mut key = String::new();
                caps.expand(&t, &mut key);
                push_key(&mut out, key);
            }
        }
        None => {
            let mut key = String::new();
            caps.expand(template, &mut key);
            push_key(&mut out, key);
        }
    }
    out
}

fn push_key(out: &mut Vec<String>, key: String) {
    let key = key.trim().to_string();
    if !key.is_empty() && !out.contains(&key) {
        out.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lustre() -> References {
        let mut patterns = bugzilla_defaults(
            "BZ",
            &[
                "https://bugzilla.lustre.org".to_string(),
                "http://bugzilla.clusterfs.com".to_string(),
            ],
        );
        patterns.insert(
            0,
            ReferencePattern {
                regex: r"\bLU-(\d+)\b".into(),
                key: "LU-$1".into(),
            },
        );
        References::new(&patterns, true).unwrap()
    }

    fn keys(r: &References, text: &str) -> Vec<String> {
        r.find(text).into_iter().flat_map(|f| f.keys).collect()
    }

    #[test]
    fn every_lustre_form() {
        let r = lustre();
        assert_eq!(keys(&r, "LU-1234 llite: fix"), ["LU-1234"]);
        assert_eq!(
            keys(&r, "b=12755,16494,16404\ni=adilger"),
            ["BZ-12755", "BZ-16494", "BZ-16404"]
        );
        assert_eq!(keys(&r, "b:123"), ["BZ-123"]);
        assert_eq!(keys(&r, "fix for bug 4567"), ["BZ-4567"]);
        assert_eq!(keys(&r, "Bug: 11021"), ["BZ-11021"]);
        assert_eq!(
            keys(&r, "see https://bugzilla.lustre.org/show_bug.cgi?id=16494 and http://bugzilla.clusterfs.com/show_bug.cgi?id=99"),
            ["BZ-16494", "BZ-99"]
        );
        assert_eq!(
            keys(&r, "https://jira.whamcloud.com/browse/LU-42"),
            ["LU-42"]
        );
        // Not references: a word ending in b, another host's Bugzilla, small numbers after "bug".
        assert!(keys(
            &r,
            "lib=5 and https://bugzilla.redhat.com/show_bug.cgi?id=456789 bug 2"
        )
        .is_empty());
    }

    #[test]
    fn generic_keys_are_marked() {
        let r = lustre();
        let f = r.find("HPE-bug-id: LUS-1234, LU-5");
        assert_eq!(f.len(), 2);
        assert!(f[0].generic && f[0].keys == ["LUS-1234"]);
        assert!(!f[1].generic && f[1].keys == ["LU-5"]);
    }

    #[test]
    fn matches_do_not_overlap() {
        let r = lustre();
        let f = r.find("b=1,2 bug 345");
        assert_eq!(f.len(), 2);
        assert!(f[0].end <= f[1].start);
    }
}
