//! Checking a built site: every internal link and anchor resolves.
//!
//! DESIGN promises that every internal link resolves. This walks a built site, reads every
//! `href` and `src` in its HTML files, and reports the ones that point at a missing file or a
//! missing `id` anchor. External links (with a scheme) are not followed: the site must work
//! with no network.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

use crate::error::{Error, Result};

/// A link that does not resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLink {
    /// The page holding the link, relative to the site root.
    pub page: String,
    /// The link as written.
    pub target: String,
    /// Why it is broken.
    pub reason: &'static str,
}

/// What the check found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// HTML pages read.
    pub pages: usize,
    /// Internal links checked.
    pub links: usize,
    /// The ones that do not resolve, sorted.
    pub broken: Vec<BrokenLink>,
}

fn link_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"\s(?:href|src)="([^"]*)""#).unwrap())
}

fn id_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"\sid="([^"]*)""#).unwrap())
}

/// Checks every internal link of the site at `root`.
pub fn check_site(root: &Path) -> Result<CheckReport> {
    let mut pages: Vec<PathBuf> = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::walk(root, e))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|x| x == "html") {
            pages.push(entry.into_path());
        }
    }
    let mut ids: HashMap<PathBuf, HashSet<String>> = HashMap::new();
    let mut report = CheckReport {
        pages: pages.len(),
        ..Default::default()
    };
    for page in &pages {
        let text = std::fs::read_to_string(page).map_err(|e| Error::io(page, e))?;
        let rel = page
            .strip_prefix(root)
            .unwrap_or(page)
            .to_string_lossy()
            .into_owned();
        for cap in link_pattern().captures_iter(&text) {
            let raw = crate::text::decode_entities(&cap[1]).into_owned();
            if raw.is_empty() || has_scheme(&raw) || raw.starts_with("//") {
                continue;
            }
            report.links += 1;
            let (path_part, fragment) = match raw.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (raw.as_str(), None),
            };
            let path_part = path_part.split('?').next().unwrap_or("");
            let target = if path_part.is_empty() {
                page.clone()
            } else if path_part.starts_with('/') {
                report.broken.push(BrokenLink {
                    page: rel.clone(),
                    target: raw.clone(),
                    reason: "absolute path (breaks under file:// and sub-folders)",
                });
                continue;
            } else {
                match normalize(page.parent().unwrap_or(root), path_part, root) {
                    Some(t) => t,
                    None => {
                        report.broken.push(BrokenLink {
                            page: rel.clone(),
                            target: raw.clone(),
                            reason: "leaves the site",
                        });
                        continue;
                    }
                }
            };
            if !target.is_file() {
                report.broken.push(BrokenLink {
                    page: rel.clone(),
                    target: raw.clone(),
                    reason: "no such file",
                });
                continue;
            }
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                if target.extension().is_some_and(|x| x == "html") {
                    if !ids.contains_key(&target) {
                        let t =
                            std::fs::read_to_string(&target).map_err(|e| Error::io(&target, e))?;
                        let set = id_pattern()
                            .captures_iter(&t)
                            .map(|c| crate::text::decode_entities(&c[1]).into_owned())
                            .collect();
                        ids.insert(target.clone(), set);
                    }
                    if !ids[&target].contains(fragment) {
                        report.broken.push(BrokenLink {
                            page: rel.clone(),
                            target: raw.clone(),
                            reason: "no such anchor",
                        });
                    }
                }
            }
        }
    }
    report
        .broken
        .sort_by(|a, b| (&a.page, &a.target).cmp(&(&b.page, &b.target)));
    Ok(report)
}

fn has_scheme(link: &str) -> bool {
    match link.find(':') {
        Some(i) => {
            let scheme = &link[..i];
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn normalize(base: &Path, rel: &str, root: &Path) -> Option<PathBuf> {
    let mut parts: Vec<String> = base
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(percent_decode(s)),
        }
    }
    Some(parts.iter().fold(root.to_path_buf(), |p, s| p.join(s)))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_missing_files_and_anchors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(
            root.join("index.html"),
            r##"<a href="a/p.html#c1">ok</a><a href="a/p.html#nope">x</a><a href="missing.html">y</a><a href="https://example.org/">ext</a><a href="../out.html">z</a>"##,
        )
        .unwrap();
        std::fs::write(
            root.join("a/p.html"),
            r#"<p id="c1"><a href="../index.html">up</a></p>"#,
        )
        .unwrap();
        let r = check_site(root).unwrap();
        assert_eq!(r.pages, 2);
        let got: Vec<_> = r
            .broken
            .iter()
            .map(|b| (b.target.as_str(), b.reason))
            .collect();
        assert_eq!(
            got,
            [
                ("../out.html", "leaves the site"),
                ("a/p.html#nope", "no such anchor"),
                ("missing.html", "no such file"),
            ]
        );
    }
}
