//! Checking a built site: every internal link and anchor resolves.
//!
//! DESIGN promises that every internal link resolves. This walks a built site, reads every
//! `href` and `src` in its HTML files, and reports the ones that point at a missing file or a
//! missing `id` anchor. External links (with a scheme) are not followed: the site must work
//! with no network.
//!
//! A broken link of the site itself (a template, a listing, a link hindsight made) is a bug and
//! fails the check. A dead link inside archived text (an old comment's `#anchor` or relative
//! path, inside the page's `<div class="text">`) is part of the record as it was written: it is
//! reported apart ([`CheckReport::content`]) and fails the check only when asked to.

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
    /// The site's own links that do not resolve, sorted.
    pub broken: Vec<BrokenLink>,
    /// Links inside archived text (`<div class="text">`) that do not resolve, sorted.
    pub content: Vec<BrokenLink>,
}

/// The byte ranges of a page's archived text: each `<div class="text">` to its closing tag.
fn content_ranges(html: &str) -> Vec<(usize, usize)> {
    const OPEN: &str = "<div class=\"text\">";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(OPEN) {
        let start = from + i;
        let mut depth = 0usize;
        let mut at = start;
        let mut end = html.len();
        while let Some(j) = html[at..]
            .find("<div")
            .into_iter()
            .chain(html[at..].find("</div>"))
            .min()
        {
            let pos = at + j;
            if html[pos..].starts_with("</div>") {
                depth = depth.saturating_sub(1);
                at = pos + 6;
                if depth == 0 {
                    end = at;
                    break;
                }
            } else {
                depth += 1;
                at = pos + 4;
            }
        }
        out.push((start, end));
        from = end;
    }
    out
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
        let archived = content_ranges(&text);
        for cap in link_pattern().captures_iter(&text) {
            let raw = crate::text::decode_entities(&cap[1]).into_owned();
            if raw.is_empty() || has_scheme(&raw) || raw.starts_with("//") {
                continue;
            }
            report.links += 1;
            let Some(reason) = check_link(root, page, &raw, &mut ids)? else {
                continue;
            };
            let at = cap.get(0).map_or(0, |m| m.start());
            let broken = BrokenLink {
                page: rel.clone(),
                target: raw,
                reason,
            };
            if archived.iter().any(|(s, e)| (*s..*e).contains(&at)) {
                report.content.push(broken);
            } else {
                report.broken.push(broken);
            }
        }
    }
    report
        .content
        .sort_by(|a, b| (&a.page, &a.target).cmp(&(&b.page, &b.target)));
    report
        .broken
        .sort_by(|a, b| (&a.page, &a.target).cmp(&(&b.page, &b.target)));
    Ok(report)
}

/// Why the internal link `raw` on `page` does not resolve, or `None` when it does.
fn check_link(
    root: &Path,
    page: &Path,
    raw: &str,
    ids: &mut HashMap<PathBuf, HashSet<String>>,
) -> Result<Option<&'static str>> {
    let (path_part, fragment) = match raw.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (raw, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    let target = if path_part.is_empty() {
        page.to_path_buf()
    } else if path_part.starts_with('/') {
        return Ok(Some("absolute path (breaks under file:// and sub-folders)"));
    } else {
        match normalize(page.parent().unwrap_or(root), path_part, root) {
            Some(t) => t,
            None => return Ok(Some("leaves the site")),
        }
    };
    if !target.is_file() {
        return Ok(Some("no such file"));
    }
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        if target.extension().is_some_and(|x| x == "html") {
            if !ids.contains_key(&target) {
                let t = std::fs::read_to_string(&target).map_err(|e| Error::io(&target, e))?;
                let set = id_pattern()
                    .captures_iter(&t)
                    .map(|c| crate::text::decode_entities(&c[1]).into_owned())
                    .collect();
                ids.insert(target.clone(), set);
            }
            if !ids[&target].contains(fragment) {
                return Ok(Some("no such anchor"));
            }
        }
    }
    Ok(None)
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
        assert!(r.content.is_empty());
    }

    #[test]
    fn dead_links_in_archived_text_are_reported_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("i.html"),
            r##"<a href="#top">site</a><div class="text"><div class="code"><a href="#gone">old</a></div><a href="old.html">old page</a></div><a href="#nav">site 2</a><p id="top"></p>"##,
        )
        .unwrap();
        let r = check_site(root).unwrap();
        let site: Vec<_> = r.broken.iter().map(|b| b.target.as_str()).collect();
        let content: Vec<_> = r.content.iter().map(|b| b.target.as_str()).collect();
        assert_eq!(site, ["#nav"]);
        assert_eq!(content, ["#gone", "old.html"]);
    }
}
