#![no_main]
//! Fuzzes the markup renderers: tracker HTML (sanitiser and link rewriting), plain text,
//! Markdown and JIRA wiki markup. Whatever the input, nothing that runs script comes out.
use hindsight::text::html::{self, LinkContext};
use hindsight::text::wiki;
use libfuzzer_sys::fuzz_target;

fn check(what: &str, input: &str, out: &str) {
    let lower = out.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<object", "<embed", "<base", "<form"] {
        assert!(!lower.contains(bad), "{what} let {bad} through for {input:?}: {out}");
    }
    // Inside tags: no event handler, no script scheme in an attribute.
    for tag in lower.split('<').skip(1).filter_map(|t| t.split_once('>').map(|(t, _)| t)) {
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let squeezed: String = tag.chars().filter(|c| !c.is_whitespace()).collect();
        for attr in [" href=\"", " src=\"", " action=\"", " formaction=\""] {
            for scheme in ["javascript:", "vbscript:", "data:text"] {
                let bad = format!("{attr}{scheme}");
                assert!(!tag.contains(&bad), "{what} let {bad} through for {input:?}: {out}");
            }
        }
        let _ = squeezed;
        let has_handler = tag
            .split_whitespace()
            .skip(1)
            .any(|a| a.starts_with("on") && a.contains('=') && !a.starts_with("on="));
        assert!(!has_handler, "{what} let an event handler through for {input:?}: {out}");
    }
}

fuzz_target!(|data: &[u8]| {
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
});
