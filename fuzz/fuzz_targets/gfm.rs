#![no_main]
//! Fuzzes the GitHub renderer (`text::html::github_markdown`): GFM with hard line breaks,
//! footnotes, task lists, then the sanitiser and the `#N` / `owner/repo#N` / `@user` / commit
//! linker. Whatever the input: no panic, nothing that runs script, and every footnote anchor
//! the output links to stays inside the page's scope.
use std::collections::BTreeMap;

use hindsight::text::html::{self, GithubRefs, LinkContext};
use libfuzzer_sys::fuzz_target;

#[path = "safe_html.rs"]
mod safe_html;

fuzz_target!(|data: &[u8]| {
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
    safe_html::check("github_markdown", &text, &out);
});
