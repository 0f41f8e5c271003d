//! Turning user-written text into safe HTML with working links.
//!
//! Tracker HTML goes through an allow-list sanitiser (ammonia) first; only then does a second
//! pass walk the (now well-formed) markup to rewrite anchors and linkify text: issue keys and old
//! tracker URLs become relative links to local pages when the issue is in the archive and plain
//! text otherwise, and bare URLs in plain text become external links. Working on sanitised output
//! means the rewriting can never reintroduce markup the sanitiser removed.
//!
//! Foreign HTML is only ever read by html5ever's tokenizer: inside the sanitiser, and in
//! [`html_to_text`]. The link rewriter walks the sanitiser's own serialisation, in which every
//! tag is well-formed and every attribute value double-quoted.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use super::{decode_entities, escape};
use crate::keys::key_pattern;
use crate::keys::split_key;

/// What a page needs to turn references into links.
pub struct LinkContext<'a> {
    /// Relative path from the page to the site root (`../../../`).
    pub root: &'a str,
    /// Finds the pages of issues in the archive.
    pub resolve: &'a dyn Resolve,
    /// The key prefix of the Bugzilla tracker (`BZ`), so `bug 123`, `b=123` and
    /// `show_bug.cgi?id=123` can reach `BZ-123`.
    pub bug_prefix: Option<&'a str>,
    /// What the page itself holds (comment numbers, attachments), for `comment 3` and
    /// `attachment 567`.
    pub page: Option<&'a PageAnchors>,
    /// On a GitHub issue's page: its repository, for `#N`, `owner/repo#N` and GitHub URLs.
    pub github: Option<&'a GithubRefs>,
}

/// What GitHub text needs to link `#N`, `owner/repo#N` and `github.com/…/issues/N` addresses
/// to local pages, as GitHub links them.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GithubRefs {
    /// The page's repository, `owner/name`.
    pub repo: String,
    /// The key prefix of the page's repository.
    pub prefix: String,
    /// Every repository in the archive, `owner/name` in lower case → its key prefix.
    pub repos: BTreeMap<String, String>,
}

impl GithubRefs {
    fn prefix_of(&self, repo: &str) -> Option<&str> {
        if repo.eq_ignore_ascii_case(&self.repo) {
            return Some(&self.prefix);
        }
        self.repos
            .get(&repo.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The targets on one issue page that text may refer to.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageAnchors {
    /// Bugzilla comment numbers with an anchor `#cN` on the page.
    pub comments: BTreeSet<u32>,
    /// Attachment id → href from the page (the local copy, or the `#attachment-N` list entry).
    pub attachments: BTreeMap<String, String>,
}

/// Key → site-relative page path without extension, for issues in the archive.
pub trait Resolve: Sync {
    /// The page path of `key`, if that issue is published.
    fn issue_path(&self, key: &str) -> Option<String>;

    /// The page path (with extension) of the commit an abbreviated id names, when it names
    /// exactly one commit of the archive.
    fn commit_path(&self, _hex: &str) -> Option<String> {
        None
    }
}

impl<F: Fn(&str) -> Option<String> + Sync> Resolve for F {
    fn issue_path(&self, key: &str) -> Option<String> {
        self(key)
    }
}

impl<'a> LinkContext<'a> {
    /// A context that links issue keys only (no Bugzilla prefix, no page anchors).
    pub fn new(root: &'a str, resolve: &'a dyn Resolve) -> Self {
        LinkContext {
            root,
            resolve,
            bug_prefix: None,
            page: None,
            github: None,
        }
    }

    /// The page of GitHub issue `n` of `repo` (the page's own when `None`).
    fn github_href(&self, repo: Option<&str>, n: &str) -> Option<String> {
        let g = self.github?;
        let prefix = match repo {
            Some(r) => g.prefix_of(r)?,
            None => &g.prefix,
        };
        let n = n.parse::<u64>().ok().filter(|&n| n > 0)?;
        self.issue_href(&format!("{prefix}-{n}"))
    }

    fn issue_href(&self, key: &str) -> Option<String> {
        self.resolve
            .issue_path(key)
            .map(|p| format!("{}{}.html", self.root, p))
    }

    /// The page of Bugzilla bug `n`, optionally at comment `c`.
    fn bug_href(&self, n: &str, comment: Option<&str>) -> Option<String> {
        let prefix = self.bug_prefix?;
        let n = n.trim_start_matches('0');
        let href = self.issue_href(&format!("{prefix}-{n}"))?;
        Some(match comment {
            Some(c) => format!("{href}#c{}", c.parse::<u32>().ok()?),
            None => href,
        })
    }

    fn comment_href(&self, n: &str) -> Option<String> {
        let n: u32 = n.parse().ok()?;
        self.page
            .filter(|p| p.comments.contains(&n))
            .map(|_| format!("#c{n}"))
    }

    fn attachment_href(&self, id: &str) -> Option<String> {
        self.page.and_then(|p| p.attachments.get(id).cloned())
    }

    /// The local target of an old tracker address: `…/browse/LU-1`, `…/show_bug.cgi?id=N`,
    /// `…/attachment.cgi?id=N`, `…/secure/attachment/N/name`.
    fn tracker_url_href(&self, url: &str) -> Option<String> {
        if let Some(key) = tracker_url_key(url) {
            return self.issue_href(&key);
        }
        if self.github.is_some() {
            static GH: OnceLock<Regex> = OnceLock::new();
            let re = GH.get_or_init(|| {
                Regex::new(r"^https?://(?:www\.)?github\.com/([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/(?:issues|pull)/([0-9]{1,18})/?(#(?:issuecomment|event)-[0-9]{1,20})?(?:[?#].*)?$").unwrap()
            });
            if let Some(c) = re.captures(url) {
                let page = self.github_href(Some(&c[1]), &c[2])?;
                return Some(match c.get(3) {
                    Some(anchor) => format!("{page}{}", anchor.as_str()),
                    None => page,
                });
            }
        }
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(r"^(?:https?://[^/]+)?(?:/[^?#]*)?/(?:show_bug\.cgi\?id=([0-9]{1,18})(?:#c([0-9]{1,9}))?|attachment\.cgi\?id=([0-9]{1,18})(?:&.*)?|secure/(?:attachment|thumbnail)/([0-9]{1,18})/[^?#]*)(?:[?#].*)?$")
                .unwrap()
        });
        let c = re.captures(url)?;
        if let Some(n) = c.get(1) {
            return self.bug_href(n.as_str(), c.get(2).map(|m| m.as_str()));
        }
        c.get(3)
            .or_else(|| c.get(4))
            .and_then(|id| self.attachment_href(id.as_str()))
    }
    fn commit_href(&self, hex: &str) -> Option<String> {
        self.resolve
            .commit_path(hex)
            .map(|p| format!("{}{}", self.root, p))
    }
}

/// Commit ids in text: 7 to 40 hex digits, not inside a longer word.
fn commit_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b[0-9a-f]{7,40}\b").unwrap())
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
        // Footnote definitions of GitHub text (`fn-…`; any other id is dropped below).
        attrs.insert("div", ["id"].into_iter().collect());
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
        classes.insert(
            "span",
            ["mention", "attachment-ref", "emoticon"]
                .into_iter()
                .collect(),
        );
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
                if attribute == "id" {
                    let ok = value.starts_with("fn-")
                        && value.len() <= 128
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
                    return ok.then_some(Cow::Borrowed(value));
                }
                // Images may only be inline data images or relative; never a remote fetch (the
                // site must not load anything from the network).
                if element == "img" && attribute == "src" {
                    let v = value.trim_start().to_ascii_lowercase();
                    if v.starts_with("data:image/") || !(v.contains(':') || v.starts_with("//")) {
                        return Some(Cow::Borrowed(value));
                    }
                    // JIRA's own attachment images may have a local copy; the link rewriter
                    // replaces the address, or the image, before anything is written.
                    if (v.starts_with("https://") || v.starts_with("http://"))
                        && (v.contains("/secure/attachment/") || v.contains("/secure/thumbnail/"))
                    {
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
    // Serialised straight into one buffer (its `Display` serialises into one, then copies).
    let mut bytes = Vec::with_capacity(html.len() + 64);
    // Writing into memory does not fail, and html5ever writes UTF-8.
    let _ = sanitizer().clean(html).write_to(&mut bytes);
    let mut clean = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    // An image whose (remote) source was dropped is left as a bare `<img>`: nothing to see and
    // nothing to read aloud. Say in words that there was one (the text is copied only then).
    if clean.contains("<img>") {
        clean = clean.replace("<img>", MISSING_IMAGE);
    }
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

/// Renders a GitHub issue or comment body as GitHub does: GitHub Flavored Markdown where a
/// single newline is a line break, task lists as ☐/☑, footnotes with anchors of their own
/// (`fn-{scope}-{name}`, `scope` telling the texts of one page apart), then sanitised, with
/// bare URLs, `#N`, `owner/repo#N`, `@user` and commit ids linked outside code.
pub fn github_markdown(text: &str, ctx: &LinkContext, scope: &str) -> String {
    use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let scope: String = scope
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut number_of = |name: &str| {
        let next = numbers.len() + 1;
        *numbers.entry(name.to_string()).or_insert(next)
    };
    let anchor = |name: &str| {
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("fn-{scope}-{slug}")
    };
    let events = Parser::new_ext(text, options).map(|e| match e {
        Event::SoftBreak => Event::HardBreak,
        Event::TaskListMarker(done) => {
            Event::Text(CowStr::Borrowed(if done { "☑ " } else { "☐ " }))
        }
        Event::FootnoteReference(name) => Event::Html(CowStr::from(format!(
            "<sup><a href=\"#{}\">{}</a></sup>",
            anchor(&name),
            number_of(&name)
        ))),
        Event::Start(Tag::FootnoteDefinition(name)) => Event::Html(CowStr::from(format!(
            "<div id=\"{}\"><sup>{}</sup> ",
            anchor(&name),
            number_of(&name)
        ))),
        Event::End(TagEnd::FootnoteDefinition) => Event::Html(CowStr::Borrowed("</div>")),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    let clean = sanitizer().clean(&out).to_string();
    let clean = clean.replace("<img>", MISSING_IMAGE);
    rewrite(&clean, ctx, true)
}

/// Renders Markdown (the site's own pages, Markdown from other trackers) with GitHub
/// extensions, sanitised.
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

/// Old tracker addresses that name an issue: `…/browse/LU-123` and friends.
fn tracker_url_key(url: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(?:https?://[^/]+)?/(?:jira/)?browse/([A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*)(?:[?#].*)?$")
            .unwrap()
    });
    re.captures(url).map(|c| c[1].to_string())
}

/// A web address in text: with a scheme (`https://…`, `ftp://…`), or starting `www.` as GitHub
/// and JIRA link it (`www.lustre.org` links to `http://www.lustre.org`).
fn url_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"\b(?:(?:https?|ftp)://|www\.)[^\s<>"'()\[\]{}]+[^\s<>"'()\[\]{}.,;:!?]"#)
            .unwrap()
    })
}

/// Walks sanitised HTML: rewrites `<a>` elements that point at issues, and linkifies keys (and,
/// for plain text, URLs) in text outside anchors.
fn rewrite(html: &str, ctx: &LinkContext, link_urls: bool) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    // Stack of anchors: whether each open <a> was turned into plain text (its </a> dropped).
    let mut anchors: Vec<bool> = Vec::new();
    // GitHub links nothing inside code.
    let mut in_code = 0usize;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = tag_end(rest);
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
                } else if tag.starts_with("<img ") {
                    rewrite_image(tag, ctx, &mut out);
                } else if tag == "</a>" {
                    if !anchors.pop().unwrap_or(false) {
                        out.push_str(tag);
                    }
                } else if ctx.github.is_some()
                    && (tag.starts_with("<code") || tag.starts_with("<pre"))
                {
                    in_code += 1;
                    out.push_str(tag);
                } else if ctx.github.is_some() && (tag == "</code>" || tag == "</pre>") {
                    in_code = in_code.saturating_sub(1);
                    out.push_str(tag);
                } else if tag.contains(" class=\"\"") {
                    out.push_str(&tag.replace(" class=\"\"", ""));
                } else {
                    // Most tags: copied as they are, without a new string each.
                    out.push_str(tag);
                }
            }
            found => {
                let end = found.unwrap_or(rest.len());
                let text = &rest[..end];
                rest = &rest[end..];
                if anchors.is_empty() && in_code == 0 {
                    linkify_text(text, ctx, link_urls, &mut out);
                } else {
                    out.push_str(text);
                }
            }
        }
    }
    out
}

/// The length of the serialised tag at the start of `html`, up to and including its `>`.
/// Attribute values are double-quoted by the serialiser and may hold `>` (a URL's query), so
/// quoted runs are skipped.
fn tag_end(html: &str) -> usize {
    let mut quoted = false;
    for (i, b) in html.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return i + 1,
            _ => {}
        }
    }
    html.len()
}

/// The new opening tag for an anchor, or `None` when the anchor must become plain text (it
/// points at an issue that is not published).
fn rewrite_anchor(tag: &str, ctx: &LinkContext) -> Option<String> {
    let href = attr(tag, "href").map(|v| decode_entities(v).into_owned());
    let data_key = attr(tag, "data-issue-key").map(|v| decode_entities(v).into_owned());
    let key = data_key.or_else(|| href.as_deref().and_then(tracker_url_key));
    if let Some(key) = key {
        return ctx
            .issue_href(&key)
            .map(|h| format!("<a href=\"{}\" class=\"issue-link\">", escape(&h)));
    }
    if let Some(local) = href.as_deref().and_then(|h| ctx.tracker_url_href(h)) {
        return Some(format!(
            "<a href=\"{}\" class=\"issue-link\">",
            escape(&local)
        ));
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

/// Images: an old tracker's attachment image becomes the local copy when the archive has it;
/// any other remote image, or one whose copy is missing, becomes a note (never a remote fetch).
fn rewrite_image(tag: &str, ctx: &LinkContext, out: &mut String) {
    let Some(raw) = attr(tag, "src") else {
        out.push_str(tag);
        return;
    };
    let src = decode_entities(raw);
    let lower = src.trim_start().to_ascii_lowercase();
    if lower.starts_with("data:image/") {
        out.push_str(tag);
        return;
    }
    let attachment = lower.contains("/secure/attachment/") || lower.contains("/secure/thumbnail/");
    if attachment {
        match ctx.tracker_url_href(&src).filter(|h| !h.starts_with('#')) {
            Some(local) => {
                let needle = format!(" src=\"{raw}\"");
                out.push_str(&tag.replacen(&needle, &format!(" src=\"{}\"", escape(&local)), 1));
            }
            None => out.push_str(MISSING_IMAGE),
        }
    } else if lower.contains(':') || lower.starts_with("//") || lower.starts_with('/') {
        out.push_str(MISSING_IMAGE);
    } else {
        out.push_str(tag);
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
            // The text is escaped: an address ends before an escaped quote or bracket
            // (`http://x/y">` is `http://x/y&quot;&gt;` here), and before the punctuation
            // that then ends it.
            let mut raw = m.as_str();
            // The match stops before a final `;`: look one byte further for the entity.
            let with_next = text.get(m.start()..m.end() + 1).unwrap_or(raw);
            if let Some(cut) = ["&quot;", "&gt;", "&lt;", "&#39;", "&#x27;"]
                .iter()
                .filter_map(|e| with_next.find(e))
                .min()
            {
                raw = raw[..cut].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            }
            // `www.` needs a domain after it (`www.lustre.org`, not `www.`).
            let www = raw.starts_with("www.");
            if www && !raw[4..].contains(|c: char| c.is_ascii_alphanumeric()) {
                continue;
            }
            if !www && (!raw.contains("://") || raw.ends_with("://")) {
                continue;
            }
            let m_end = m.start() + raw.len();
            let url = match www {
                true => format!("http://{}", decode_entities(raw)),
                false => decode_entities(raw).into_owned(),
            };
            let href = match ctx.tracker_url_href(&url) {
                Some(local) => format!("<a href=\"{}\" class=\"issue-link\">", escape(&local)),
                None => format!(
                    "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">",
                    escape(&url)
                ),
            };
            spans.push((m.start(), m_end, href));
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
    bugzilla_refs(text, ctx, &mut spans);
    github_refs(text, ctx, &mut spans);
    for m in commit_pattern().find_iter(text) {
        if spans.iter().any(|(s, e, _)| m.start() < *e && m.end() > *s) {
            continue;
        }
        if let Some(h) = ctx.commit_href(m.as_str()) {
            spans.push((
                m.start(),
                m.end(),
                format!("<a href=\"{}\" class=\"commit-link\">", escape(&h)),
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

/// GitHub's autolinks in (escaped) text: `#123` (this repository), `owner/repo#123`, both
/// linked when the issue is published, and `@user` mentions (to the user's GitHub page).
fn github_refs(text: &str, ctx: &LinkContext, spans: &mut Vec<(usize, usize, String)>) {
    if ctx.github.is_none() {
        return;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    // The character before is captured instead of looked behind at (the regex crate has no
    // look-behind): `&#39;` (an escaped quote) and `a#1` are no references, `a@b` no mention.
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:^|[^A-Za-z0-9_&#/.@+-])(?:([A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})?#([0-9]{1,18})\b|@([A-Za-z0-9][A-Za-z0-9-]{0,38}))")
            .unwrap()
    });
    let mut found = Vec::new();
    for c in re.captures_iter(text) {
        if let Some(n) = c.get(2) {
            let start = c.get(1).map_or(n.start() - 1, |r| r.start());
            if let Some(h) = ctx.github_href(c.get(1).map(|r| r.as_str()), n.as_str()) {
                found.push((
                    start,
                    n.end(),
                    format!("<a href=\"{}\" class=\"issue-link\">", escape(&h)),
                ));
            }
        } else if let Some(user) = c.get(3) {
            let name = user.as_str().trim_end_matches('-');
            let end = user.start() + name.len();
            // `@user` followed by a dot and more is a host or an address, not a mention.
            if text[end..].starts_with(['.', '@'])
                && text[end + 1..].starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                continue;
            }
            found.push((
                user.start() - 1,
                end,
                format!(
                    "<a href=\"https://github.com/{}\" class=\"mention\" rel=\"nofollow noopener noreferrer\">",
                    escape(name)
                ),
            ));
        }
    }
    for f in found {
        if !spans.iter().any(|(s, e, _)| f.0 < *e && f.1 > *s) {
            spans.push(f);
        }
    }
}

/// Bugzilla's own autolinks in (escaped) text: `bug 123`, `bug #123 comment 4`, `comment 4`,
/// `attachment 567`, `Created an attachment (id=567)`, and commit-style `b=123,456`. Each becomes
/// a link when its target is published (or on this page); otherwise it stays text.
fn bugzilla_refs(text: &str, ctx: &LinkContext, spans: &mut Vec<(usize, usize, String)>) {
    if ctx.bug_prefix.is_none() && ctx.page.is_none() {
        return;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"\b(?:(?:[Bb]ug|BUG)(?:[ \t]|\r?\n)*#?[ \t]*([0-9]{1,18})(?:,?(?:[ \t]|\r?\n)+comment[ \t]*#?[ \t]*([0-9]{1,9}))?\b|[Cc]omment[ \t]*#?[ \t]*([0-9]{1,9})\b|[Aa]ttachment(?:[ \t]*#?[ \t]*([0-9]{1,18})\b|[ \t]+\(id=([0-9]{1,18})\))|b[=:]([0-9]{1,18}(?:,[0-9]{1,18})*)\b)",
        )
        .unwrap()
    });
    let link = |h: String| format!("<a href=\"{}\" class=\"issue-link\">", escape(&h));
    let mut found: Vec<(usize, usize, String)> = Vec::new();
    for c in re.captures_iter(text) {
        let whole = c.get(0).unwrap();
        if let Some(n) = c.get(1) {
            if let Some(h) = ctx.bug_href(n.as_str(), c.get(2).map(|m| m.as_str())) {
                found.push((whole.start(), whole.end(), link(h)));
            }
        } else if let Some(n) = c.get(3) {
            if let Some(h) = ctx.comment_href(n.as_str()) {
                found.push((whole.start(), whole.end(), link(h)));
            }
        } else if let Some(n) = c.get(4).or_else(|| c.get(5)) {
            if let Some(h) = ctx.attachment_href(n.as_str()) {
                found.push((whole.start(), whole.end(), link(h)));
            }
        } else if let Some(list) = c.get(6) {
            let mut start = whole.start();
            let mut at = list.start();
            for n in list.as_str().split(',') {
                let end = at + n.len();
                if let Some(h) = ctx.bug_href(n, None) {
                    found.push((start, end, link(h)));
                }
                at = end + 1;
                start = at;
            }
        }
    }
    for f in found {
        if !spans.iter().any(|(s, e, _)| f.0 < *e && f.1 > *s) {
            spans.push(f);
        }
    }
}

/// Plain text of tracker HTML, for the search index: tags dropped (block tags become line
/// breaks), character references decoded (a no-break space is a space), `<script>` and
/// `<style>` contents skipped. The HTML is read by html5ever's tokenizer, the one the
/// sanitiser parses with, so `a < b`, attributes holding `>` and unclosed tags read as a
/// browser reads them.
pub fn html_to_text(html: &str) -> String {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::states::RawKind;
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    };
    use std::cell::RefCell;

    struct Text(RefCell<String>);
    impl TokenSink for Text {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let mut out = self.0.borrow_mut();
            match token {
                Token::CharacterTokens(t) => {
                    for c in t.chars() {
                        out.push(if c == '\u{a0}' { ' ' } else { c });
                    }
                }
                Token::TagToken(tag) => {
                    let name: &str = &tag.name;
                    if tag.kind == TagKind::StartTag && matches!(name, "script" | "style") {
                        // Their contents are code, not text: read them raw and drop them.
                        let kind = if name == "script" {
                            RawKind::ScriptData
                        } else {
                            RawKind::Rawtext
                        };
                        out.push('\u{0}');
                        return TokenSinkResult::RawData(kind);
                    }
                    if tag.kind == TagKind::EndTag && matches!(name, "script" | "style") {
                        if let Some(start) = out.rfind('\u{0}') {
                            out.truncate(start);
                        }
                        return TokenSinkResult::Continue;
                    }
                    if BLOCK_TAGS.contains(&name) && !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }

    let sink = Text(RefCell::new(String::with_capacity(html.len())));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut text = tokenizer.sink.0.take();
    // An unclosed `<script>` runs to the end, as in a browser.
    if let Some(start) = text.find('\u{0}') {
        text.truncate(start);
    }
    text
}

/// Elements that start a new line of text.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "pre",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "ul",
    "ol",
    "hr",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ctx<R>(f: impl FnOnce(&LinkContext) -> R) -> R {
        let resolve = |k: &str| match k {
            "LU-12" | "LU-1000" => Some(crate::keys::issue_path(k)),
            _ => None,
        };
        f(&LinkContext::new("../../../", &resolve))
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
    fn addresses_starting_www_are_linked_as_http() {
        let out = with_ctx(|c| {
            plain_text(
                "Docs at www.lustre.org/manual, (www.whamcloud.com). Not awww.x nor a bare www. here; http://www.x.org/ once.",
                c,
            )
        });
        assert_eq!(
            out,
            "<pre class=\"plain-text\">Docs at <a href=\"http://www.lustre.org/manual\" rel=\"nofollow noopener noreferrer\">www.lustre.org/manual</a>, (<a href=\"http://www.whamcloud.com\" rel=\"nofollow noopener noreferrer\">www.whamcloud.com</a>). Not awww.x nor a bare www. here; <a href=\"http://www.x.org/\" rel=\"nofollow noopener noreferrer\">http://www.x.org/</a> once.</pre>"
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

    fn with_bz<R>(f: impl FnOnce(&LinkContext) -> R) -> R {
        let resolve = |k: &str| match k {
            "LU-12" | "BZ-12755" | "BZ-16494" => Some(crate::keys::issue_path(k)),
            _ => None,
        };
        let anchors = PageAnchors {
            comments: [1, 3].into_iter().collect(),
            attachments: [
                (
                    "567".to_string(),
                    "../../../attachments/BZ/0/567/fix.patch".to_string(),
                ),
                ("12345".to_string(), "#attachment-12345".to_string()),
            ]
            .into_iter()
            .collect(),
        };
        let mut ctx = LinkContext::new("../../../", &resolve);
        ctx.bug_prefix = Some("BZ");
        ctx.page = Some(&anchors);
        f(&ctx)
    }

    #[test]
    fn bugzilla_references_in_plain_text() {
        let out = with_bz(|c| {
            plain_text(
                "See bug 12755, Bug #16494 comment 3 and bug 999.\nb=12755,16494,4 per comment 3 (not comment 2); attachment 567, attachment 12345, attachment 9. Created an attachment (id=567)",
                c,
            )
        });
        assert_eq!(
            out,
            "<pre class=\"plain-text\">See <a href=\"../../../issues/BZ/12/BZ-12755.html\" class=\"issue-link\">bug 12755</a>, <a href=\"../../../issues/BZ/16/BZ-16494.html#c3\" class=\"issue-link\">Bug #16494 comment 3</a> and bug 999.\n<a href=\"../../../issues/BZ/12/BZ-12755.html\" class=\"issue-link\">b=12755</a>,<a href=\"../../../issues/BZ/16/BZ-16494.html\" class=\"issue-link\">16494</a>,4 per <a href=\"#c3\" class=\"issue-link\">comment 3</a> (not comment 2); <a href=\"../../../attachments/BZ/0/567/fix.patch\" class=\"issue-link\">attachment 567</a>, <a href=\"#attachment-12345\" class=\"issue-link\">attachment 12345</a>, attachment 9. Created an <a href=\"../../../attachments/BZ/0/567/fix.patch\" class=\"issue-link\">attachment (id=567)</a></pre>"
        );
    }

    #[test]
    fn old_bugzilla_and_attachment_urls_become_local() {
        let out = with_bz(|c| {
            plain_text(
                "http://bugzilla.lustre.org/show_bug.cgi?id=16494#c3 https://bugzilla.clusterfs.com/show_bug.cgi?id=1 https://bugzilla.lustre.org/attachment.cgi?id=567",
                c,
            )
        });
        assert_eq!(
            out,
            "<pre class=\"plain-text\"><a href=\"../../../issues/BZ/16/BZ-16494.html#c3\" class=\"issue-link\">http://bugzilla.lustre.org/show_bug.cgi?id=16494#c3</a> <a href=\"https://bugzilla.clusterfs.com/show_bug.cgi?id=1\" rel=\"nofollow noopener noreferrer\">https://bugzilla.clusterfs.com/show_bug.cgi?id=1</a> <a href=\"../../../attachments/BZ/0/567/fix.patch\" class=\"issue-link\">https://bugzilla.lustre.org/attachment.cgi?id=567</a></pre>"
        );
        let html = "<p><a href=\"https://bugzilla.lustre.org/show_bug.cgi?id=12755\">bug 12755</a>, <a href=\"http://bugzilla.lustre.org/show_bug.cgi?id=2\">gone</a>, <a href=\"/secure/attachment/12345/x.log\">x.log</a>, <a href=\"https://jira.whamcloud.com/secure/attachment/567/fix.patch\">p</a>, bug 16494 and b=12755.</p>";
        let out = with_bz(|c| tracker_html(html, c));
        assert_eq!(
            out,
            "<p><a href=\"../../../issues/BZ/12/BZ-12755.html\" class=\"issue-link\">bug 12755</a>, <a href=\"http://bugzilla.lustre.org/show_bug.cgi?id=2\" rel=\"nofollow noopener noreferrer\">gone</a>, <a href=\"#attachment-12345\" class=\"issue-link\">x.log</a>, <a href=\"../../../attachments/BZ/0/567/fix.patch\" class=\"issue-link\">p</a>, <a href=\"../../../issues/BZ/16/BZ-16494.html\" class=\"issue-link\">bug 16494</a> and <a href=\"../../../issues/BZ/12/BZ-12755.html\" class=\"issue-link\">b=12755</a>.</p>"
        );
    }

    #[test]
    fn without_a_bugzilla_tracker_bug_numbers_stay_text() {
        let out = with_ctx(|c| plain_text("bug 12755 comment 1, b=12755", c));
        assert_eq!(
            out,
            "<pre class=\"plain-text\">bug 12755 comment 1, b=12755</pre>"
        );
    }

    #[test]
    fn attachment_images_use_the_local_copy_or_become_a_note() {
        let html = "<p><img src=\"https://jira.whamcloud.com/secure/attachment/567/fix.png\" alt=\"x\"><img src=\"/secure/thumbnail/12345/_thumb_12345.png\"><img src=\"https://evil.example/secure/attachment/9/a.png\"><img src=\"static/logo.png\"></p>";
        let out = with_bz(|c| tracker_html(html, c));
        assert_eq!(
            out,
            "<p><img src=\"../../../attachments/BZ/0/567/fix.patch\" alt=\"x\"><span class=\"image-missing\">[image not in this archive]</span><span class=\"image-missing\">[image not in this archive]</span><img src=\"static/logo.png\"></p>"
        );
    }

    #[test]
    fn plain_text_urls_stop_before_escaped_markup() {
        with_ctx(|ctx| {
            let out = plain_text(
                "see http://example.org/a\">x and <http://example.org/b>.",
                ctx,
            );
            assert!(out.contains("<a href=\"http://example.org/a\" "), "{out}");
            assert!(out.contains("<a href=\"http://example.org/b\" "), "{out}");
            assert!(!out.contains("&quot;\""), "{out}");
        });
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<p>rc = -2 &amp; <tt>ldlm_lock</tt></p><script>x</script><p>a&#233;b &bogus</p>"
            ),
            "\nrc = -2 & ldlm_lock\naéb &bogus\n"
        );
    }

    #[test]
    fn a_quoted_greater_than_does_not_end_a_tag() {
        assert_eq!(tag_end("<a href=\"x?a>b\">t</a>"), 16);
        assert_eq!(tag_end("<b>"), 3);
        assert_eq!(tag_end("<b"), 2);
    }
}
