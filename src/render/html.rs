//! Turning user-written text into safe HTML with working links.
//!
//! Tracker HTML goes through an allow-list sanitiser (ammonia) first; only then does a second
//! pass walk the (now well-formed) markup to rewrite anchors and linkify text: issue keys and old
//! tracker URLs become relative links to local pages when the issue is in the archive and plain
//! text otherwise, and bare URLs in plain text become external links. Working on sanitised output
//! means the rewriting can never reintroduce markup the sanitiser removed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::keys::split_key;
use crate::link::key_pattern;

/// What a page needs to turn references into links.
pub struct LinkContext<'a> {
    /// Relative path from the page to the site root (`../../../`).
    pub root: &'a str,
    /// Finds the pages of issues in the archive.
    pub resolve: &'a dyn Resolve,
}

/// Key → site-relative page path without extension, for issues in the archive.
pub trait Resolve: Sync {
    /// The page path of `key`, if that issue is published.
    fn issue_path(&self, key: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String> + Sync> Resolve for F {
    fn issue_path(&self, key: &str) -> Option<String> {
        self(key)
    }
}

impl Resolve for crate::link::Linked {
    fn issue_path(&self, key: &str) -> Option<String> {
        self.issue(key).map(|s| s.path.clone())
    }
}

impl LinkContext<'_> {
    fn issue_href(&self, key: &str) -> Option<String> {
        self.resolve
            .issue_path(key)
            .map(|p| format!("{}{}.html", self.root, p))
    }
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a",
            "abbr",
            "b",
            "blockquote",
            "br",
            "caption",
            "cite",
            "code",
            "col",
            "colgroup",
            "dd",
            "del",
            "details",
            "div",
            "dl",
            "dt",
            "em",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "i",
            "img",
            "ins",
            "kbd",
            "li",
            "ol",
            "p",
            "pre",
            "q",
            "s",
            "samp",
            "small",
            "span",
            "strike",
            "strong",
            "sub",
            "summary",
            "sup",
            "table",
            "tbody",
            "td",
            "tfoot",
            "th",
            "thead",
            "tr",
            "tt",
            "u",
            "ul",
            "var",
        ]
        .into_iter()
        .collect();
        let mut attrs: HashMap<&str, HashSet<&str>> = HashMap::new();
        attrs.insert("a", ["href", "data-issue-key"].into_iter().collect());
        attrs.insert(
            "img",
            ["src", "alt", "width", "height"].into_iter().collect(),
        );
        attrs.insert("td", ["colspan", "rowspan"].into_iter().collect());
        attrs.insert("th", ["colspan", "rowspan"].into_iter().collect());
        attrs.insert("ol", ["start"].into_iter().collect());
        let mut classes: HashMap<&str, HashSet<&str>> = HashMap::new();
        let panel: HashSet<&str> = [
            "code",
            "panel",
            "preformatted",
            "codeContent",
            "panelContent",
            "preformattedContent",
            "codeHeader",
            "panelHeader",
            "error",
        ]
        .into_iter()
        .collect();
        classes.insert("span", ["mention", "attachment-ref"].into_iter().collect());
        classes.insert("div", panel.clone());
        classes.insert("pre", panel);
        let mut b = ammonia::Builder::default();
        b.tags(tags)
            .tag_attributes(attrs)
            .generic_attributes(HashSet::new())
            .allowed_classes(classes)
            .url_schemes(["http", "https", "mailto", "ftp"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::PassThrough)
            .attribute_filter(|element, attribute, value| {
                // Images may only be inline data images or relative; never a remote fetch (the
                // site must not load anything from the network).
                if element == "img" && attribute == "src" {
                    let v = value.trim_start().to_ascii_lowercase();
                    if v.starts_with("data:image/") || !(v.contains(':') || v.starts_with("//")) {
                        return Some(Cow::Borrowed(value));
                    }
                    return None;
                }
                Some(Cow::Borrowed(value))
            })
            .link_rel(Some("nofollow noopener noreferrer"))
            .strip_comments(true);
        b
    })
}

/// What stands for an image the archive does not hold.
const MISSING_IMAGE: &str = "<span class=\"image-missing\">[image not in this archive]</span>";

/// Sanitises tracker HTML and rewrites its links for this site.
pub fn tracker_html(html: &str, ctx: &LinkContext) -> String {
    let clean = sanitizer().clean(html).to_string();
    // An image whose (remote) source was dropped is left as a bare `<img>`: nothing to see and
    // nothing to read aloud. Say in words that there was one.
    let clean = clean.replace("<img>", MISSING_IMAGE);
    rewrite(&clean, ctx, false)
}

/// Renders plain text (Bugzilla comments, commit messages): escaped, whitespace kept, keys and
/// URLs linked.
pub fn plain_text(text: &str, ctx: &LinkContext) -> String {
    let escaped = escape(text);
    format!(
        "<pre class=\"plain-text\">{}</pre>",
        rewrite(&escaped, ctx, true)
    )
}

/// Renders Markdown (GitHub bodies, the site's own pages) with GitHub extensions, sanitised.
pub fn markdown(text: &str, ctx: &LinkContext) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(text, options));
    tracker_html(&out, ctx)
}

/// Escapes text for an HTML element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn unescape_attr(v: &str) -> Cow<'_, str> {
    if !v.contains('&') {
        return Cow::Borrowed(v);
    }
    Cow::Owned(
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// Old tracker addresses that name an issue: `…/browse/LU-123` and friends.
fn tracker_url_key(url: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(?:https?://[^/]+)?/(?:jira/)?browse/([A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*)(?:[?#].*)?$")
            .unwrap()
    });
    re.captures(url).map(|c| c[1].to_string())
}

fn url_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"\b(?:https?|ftp)://[^\s<>"'()\[\]{}]+[^\s<>"'()\[\]{}.,;:!?]"#).unwrap()
    })
}

/// Walks sanitised HTML: rewrites `<a>` elements that point at issues, and linkifies keys (and,
/// for plain text, URLs) in text outside anchors.
fn rewrite(html: &str, ctx: &LinkContext, link_urls: bool) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    // Stack of anchors: whether each open <a> was turned into plain text (its </a> dropped).
    let mut anchors: Vec<bool> = Vec::new();
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = rest.find('>').map(|i| i + 1).unwrap_or(rest.len());
                let tag = &rest[..end];
                rest = &rest[end..];
                if tag.starts_with("<a ") || tag == "<a>" {
                    match rewrite_anchor(tag, ctx) {
                        Some(new_tag) => {
                            out.push_str(&new_tag);
                            anchors.push(false);
                        }
                        None => anchors.push(true),
                    }
                } else if tag == "</a>" {
                    if !anchors.pop().unwrap_or(false) {
                        out.push_str(tag);
                    }
                } else {
                    out.push_str(&tag.replace(" class=\"\"", ""));
                }
            }
            found => {
                let end = found.unwrap_or(rest.len());
                let text = &rest[..end];
                rest = &rest[end..];
                if anchors.is_empty() {
                    linkify_text(text, ctx, link_urls, &mut out);
                } else {
                    out.push_str(text);
                }
            }
        }
    }
    out
}

/// The new opening tag for an anchor, or `None` when the anchor must become plain text (it
/// points at an issue that is not published).
fn rewrite_anchor(tag: &str, ctx: &LinkContext) -> Option<String> {
    let href = attr(tag, "href").map(|v| unescape_attr(v).into_owned());
    let data_key = attr(tag, "data-issue-key").map(|v| unescape_attr(v).into_owned());
    let key = data_key.or_else(|| href.as_deref().and_then(tracker_url_key));
    if let Some(key) = key {
        return ctx
            .issue_href(&key)
            .map(|h| format!("<a href=\"{}\" class=\"issue-link\">", escape(&h)));
    }
    match href {
        Some(h) if h.starts_with('/') || h.starts_with('#') && h.len() > 1 => {
            // A path on the old tracker has no counterpart here; keep the text only.
            if h.starts_with('#') {
                Some(format!("<a href=\"{}\">", escape(&h)))
            } else {
                None
            }
        }
        Some(h) if h.contains("://") || h.starts_with("mailto:") => Some(format!(
            "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">",
            escape(&h)
        )),
        _ => None,
    }
}

/// The raw (still escaped) value of a double-quoted attribute in a serialised tag.
fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn linkify_text(text: &str, ctx: &LinkContext, link_urls: bool, out: &mut String) {
    let mut last = 0;
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    if link_urls {
        for m in url_pattern().find_iter(text) {
            let url = unescape_attr(m.as_str());
            let href = match tracker_url_key(&url).and_then(|k| ctx.issue_href(&k)) {
                Some(local) => format!("<a href=\"{}\" class=\"issue-link\">", escape(&local)),
                None => format!(
                    "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">",
                    escape(&url)
                ),
            };
            spans.push((m.start(), m.end(), href));
        }
    }
    for m in key_pattern().find_iter(text) {
        if spans.iter().any(|(s, e, _)| m.start() < *e && m.end() > *s) {
            continue;
        }
        if split_key(m.as_str()).is_none() {
            continue;
        }
        if let Some(h) = ctx.issue_href(m.as_str()) {
            spans.push((
                m.start(),
                m.end(),
                format!("<a href=\"{}\" class=\"issue-link\">", escape(&h)),
            ));
        }
    }
    spans.sort_by_key(|s| s.0);
    for (s, e, open) in spans {
        out.push_str(&text[last..s]);
        out.push_str(&open);
        out.push_str(&text[s..e]);
        out.push_str("</a>");
        last = e;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ctx<R>(f: impl FnOnce(&LinkContext) -> R) -> R {
        let resolve = |k: &str| match k {
            "LU-12" | "LU-1000" => Some(crate::keys::issue_path(k)),
            _ => None,
        };
        f(&LinkContext {
            root: "../../../",
            resolve: &resolve,
        })
    }

    #[test]
    fn scripts_and_handlers_are_removed() {
        let out = with_ctx(|c| {
            tracker_html(
                "<p onclick=\"alert(1)\">hi<script>alert(2)</script><a href=\"javascript:alert(3)\">x</a><img src=\"https://evil.example/t.png\"></p>",
                c,
            )
        });
        assert_eq!(
            out,
            "<p>hix<span class=\"image-missing\">[image not in this archive]</span></p>"
        );
    }

    #[test]
    fn jira_issue_links_point_at_local_pages_or_become_text() {
        let html = "<p>See <a href=\"https://jira.whamcloud.com/browse/LU-12\" title=\"secret summary\" class=\"issue-link\" data-issue-key=\"LU-12\"><del>LU-12</del></a> and <a href=\"https://jira.whamcloud.com/browse/LU-99\" class=\"issue-link\" data-issue-key=\"LU-99\">LU-99</a>.</p>";
        let out = with_ctx(|c| tracker_html(html, c));
        assert_eq!(
            out,
            "<p>See <a href=\"../../../issues/LU/0/LU-12.html\" class=\"issue-link\"><del>LU-12</del></a> and LU-99.</p>"
        );
    }

    #[test]
    fn keys_in_text_are_linked_when_published() {
        let out = with_ctx(|c| {
            plain_text("LU-1000 fixes LU-999; see https://jira.hpdd.intel.com/browse/LU-12 and http://x.org/a_b.", c)
        });
        assert_eq!(
            out,
            "<pre class=\"plain-text\"><a href=\"../../../issues/LU/1/LU-1000.html\" class=\"issue-link\">LU-1000</a> fixes LU-999; see <a href=\"../../../issues/LU/0/LU-12.html\" class=\"issue-link\">https://jira.hpdd.intel.com/browse/LU-12</a> and <a href=\"http://x.org/a_b\" rel=\"nofollow noopener noreferrer\">http://x.org/a_b</a>.</pre>"
        );
    }

    #[test]
    fn plain_text_is_escaped() {
        let out = with_ctx(|c| plain_text("<b>\"x\" & y</b>", c));
        assert_eq!(
            out,
            "<pre class=\"plain-text\">&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;</pre>"
        );
    }

    #[test]
    fn jira_panels_keep_their_classes() {
        let html = "<div class=\"code panel\" style=\"border-width: 1px;\"><div class=\"codeContent panelContent\"><pre class=\"code-java\">LBUG</pre></div></div>";
        let out = with_ctx(|c| tracker_html(html, c));
        assert_eq!(
            out,
            "<div class=\"code panel\"><div class=\"codeContent panelContent\"><pre>LBUG</pre></div></div>"
        );
    }
}
