#![no_main]
//! Fuzzes the markup renderers: tracker HTML (sanitiser and link rewriting), plain text,
//! Markdown and JIRA wiki markup. Whatever the input, nothing that runs script comes out.
use hindsight::text::html::{self, LinkContext};
use hindsight::text::wiki;
use libfuzzer_sys::fuzz_target;

#[path = "safe_html.rs"]
mod safe_html;
use safe_html::check;

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
