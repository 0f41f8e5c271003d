#![allow(dead_code)] // each target uses its own part of this file
                     // Shared by the renderer targets: what no rendered text may hold, whatever its input — an
                     // element that runs or embeds script, an event handler, or a script scheme in a link. Also
                     // included by tests/testsuite/fuzz_regressions.rs, which runs every input a target once
                     // failed on (tests/fixtures/fuzz/<target>/) through the same steps.

use std::collections::BTreeMap;

use hindsight::text::html::{self, GithubRefs, LinkContext};
use hindsight::text::wiki;

/// The `markup` target: the first byte picks the renderer (tracker HTML, plain text,
/// Markdown, JIRA wiki), the rest is the text.
pub fn markup(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let resolve = |k: &str| {
        if k.len() < 12 && k.starts_with("LU-") {
            Some(hindsight::keys::issue_path(k))
        } else {
            None
        }
    };
    let ctx = LinkContext::new("../../../", &resolve);
    match selector % 4 {
        0 => check("tracker_html", &text, &html::tracker_html(&text, &ctx)),
        1 => check("plain_text", &text, &html::plain_text(&text, &ctx)),
        2 => check("markdown", &text, &html::markdown(&text, &ctx)),
        _ => {
            let wiki = wiki::to_html(&text);
            check("wiki", &text, &html::tracker_html(&wiki, &ctx));
        }
    }
}

/// The `gfm` target: a GitHub issue body on a page of repository acme/fs.
pub fn gfm(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let resolve = |k: &str| {
        if k.len() < 16 && (k.starts_with("GH-") || k.starts_with("TOOLS-")) {
            Some(hindsight::keys::issue_path(k))
        } else {
            None
        }
    };
    let refs = GithubRefs {
        repo: "acme/fs".into(),
        prefix: "GH".into(),
        repos: BTreeMap::from([
            ("acme/fs".to_string(), "GH".to_string()),
            ("acme/tools".to_string(), "TOOLS".to_string()),
        ]),
    };
    let mut ctx = LinkContext::new("../../", &resolve);
    ctx.github = Some(&refs);
    let out = html::github_markdown(&text, &ctx, "c1");
    check("github_markdown", &text, &out);
}

/// Panics when `out` (rendered from `input` by `what`) holds anything that could run script.
pub fn check(what: &str, input: &str, out: &str) {
    let lower = out.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<object", "<embed", "<base", "<form"] {
        assert!(
            !lower.contains(bad),
            "{what} let {bad} through for {input:?}: {out}"
        );
    }
    // Inside tags: no event handler, no script scheme in an attribute. Attributes are read as
    // a browser reads them (a quoted value may hold spaces, `on…=` and `>`), so text inside a
    // value is not taken for an attribute.
    for (tag, attrs) in tags(&lower) {
        for (name, value) in attrs {
            assert!(
                !name.starts_with("on"),
                "{what} let the event handler {name} on <{tag}> through for {input:?}: {out}"
            );
            if ["href", "src", "action", "formaction", "xlink:href"].contains(&name.as_str()) {
                let value: String = value
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                    .collect();
                for scheme in ["javascript:", "vbscript:", "data:text"] {
                    assert!(
                        !value.starts_with(scheme),
                        "{what} let {name}={scheme} on <{tag}> through for {input:?}: {out}"
                    );
                }
            }
        }
    }
}

/// The start tags of HTML with their attributes (names in lower case, raw values), read as the
/// HTML tokenizer reads a start tag; comments, end tags and text are skipped. Also what
/// tests/testsuite/hostile.rs reads published pages with.
pub fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = html[i..].find('<') {
        i += at + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            continue;
        }
        if !b.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let a = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                match b.get(i) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let end = html[i + 1..].find(q as char).map_or(b.len(), |e| i + 1 + e);
                        value = html[i + 1..end].to_string();
                        i = (end + 1).min(b.len());
                    }
                    _ => {
                        let v = i;
                        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                            i += 1;
                        }
                        value = html[v..i].to_string();
                    }
                }
            }
            if attr.is_empty() {
                // A stray `=` or `/`: step over it as the tokenizer would.
                i += 1;
                continue;
            }
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}
