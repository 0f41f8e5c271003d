//! JIRA wiki markup → HTML.
//!
//! JIRA REST exports without `renderedFields` hold text in JIRA's wiki markup. This module is a
//! small renderer for it, written as a parser rather than a chain of regular expressions:
//!
//! 1. **Macros** (`{code}`, `{noformat}`, `{quote}`, `{panel}`, `{html}`) are found first, so that
//!    nothing inside a code block is ever read as markup. `{quote}` and `{panel}` bodies are
//!    rendered recursively; an unclosed macro ends with its paragraph (the next blank line) or
//!    the text, so one forgotten `{code}` or `{html}` does not swallow everything after it.
//! 2. **Blocks**, line by line: headings (`h1.`–`h6.`), `bq.`, `----`, lists (`*`, `#`, `-`,
//!    nested and mixed as `**`, `#*`), tables (`||head||` and `|cell|`), and paragraphs separated
//!    by blank lines. A single newline inside a paragraph is a line break, as JIRA shows it.
//! 3. **Inline** markup, character by character: emphasis (`*bold*`, `_italic_`, `-strike-`,
//!    `+under+`, `^sup^`, `~sub~`, `??cite??`), `{{monospace}}`, links (`[text|url]`, `[url]`,
//!    `[~user]`, `[#anchor]`, `[^attachment]`), images (`!file.png!`), bare URLs,
//!    `{color:…}…{color}`, `\\` line breaks, `\` escapes, and JIRA's emoticons (`:)`, `(y)`,
//!    `(!)`…) as Unicode characters (no image is fetched).
//!
//! Emphasis markers only count at word boundaries: an opening marker must follow the start of the
//! text, whitespace or opening punctuation and precede a non-blank character; a closing marker
//! must follow a non-blank character and precede the end, whitespace or closing punctuation. So
//! `ldlm_lock_cancel`, `x-y-z`, `-EIO`, `__FILE__` and `osc.*.max_dirty_mb` stay as written.
//!
//! All text is HTML-escaped. The output is meant to go through the tracker-HTML sanitiser and link
//! rewriter ([`super::html::tracker_html`]) like any other tracker HTML; only `{html}` bodies are
//! passed through unescaped, for that sanitiser to clean. Images never load anything: an image
//! becomes a text reference naming the attachment or address. No inline styles are written (the
//! site's Content-Security-Policy forbids them), so `{color}` becomes a plain `<span>`.

use std::fmt::Write as _;

use super::escape;

/// Renders JIRA wiki markup as HTML (unsanitised; see the module documentation).
pub fn to_html(text: &str) -> String {
    let text = normalise_newlines(text);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    render_blocks(&text, &mut out);
    out
}

fn normalise_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

// ---------------------------------------------------------------------------------------------
// Macros

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MacroKind {
    Code,
    Noformat,
    Quote,
    Panel,
    Html,
}

impl MacroKind {
    fn name(self) -> &'static str {
        match self {
            MacroKind::Code => "code",
            MacroKind::Noformat => "noformat",
            MacroKind::Quote => "quote",
            MacroKind::Panel => "panel",
            MacroKind::Html => "html",
        }
    }

    /// Whether the body is literal text (no markup, no nested macros).
    fn literal(self) -> bool {
        matches!(
            self,
            MacroKind::Code | MacroKind::Noformat | MacroKind::Html
        )
    }
}

const MACROS: [MacroKind; 5] = [
    MacroKind::Code,
    MacroKind::Noformat,
    MacroKind::Quote,
    MacroKind::Panel,
    MacroKind::Html,
];

/// A block macro's opening tag found at `start..end` with its parameters.
struct Opening<'a> {
    kind: MacroKind,
    start: usize,
    end: usize,
    params: &'a str,
}

/// Finds the next block macro opening tag at or after `from`.
fn find_opening(text: &str, from: usize) -> Option<Opening<'_>> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(rel) = text[i..].find('{') {
        let start = i + rel;
        i = start + 1;
        // `{{…}}` is monospace and `\{` an escaped brace, not a macro.
        if start > 0 && matches!(bytes[start - 1], b'{' | b'\\') {
            continue;
        }
        if bytes.get(start + 1) == Some(&b'{') {
            i = start + 2;
            continue;
        }
        let after = &text[start + 1..];
        let Some(kind) = MACROS.iter().copied().find(|k| {
            after.starts_with(k.name())
                && matches!(after.as_bytes().get(k.name().len()), Some(b'}' | b':'))
        }) else {
            continue;
        };
        // A macro tag is on one line.
        // No tag on this line closes: skip to the next line.
        let close = text[start..].find(['}', '\n'])?;
        if text.as_bytes()[start + close] == b'\n' {
            i = start + close;
            continue;
        }
        let inner = &text[start + 1..start + close];
        let params = inner.split_once(':').map_or("", |(_, p)| p);
        return Some(Opening {
            kind,
            start,
            end: start + close + 1,
            params,
        });
    }
    None
}

/// Finds the closing tag of `kind` at or after `from`: `(start, end)` of the tag. For macros
/// whose body is markup, literal blocks inside are skipped, so a `{quote}` written inside a
/// `{code}` block does not end the quote around it.
fn find_closing(text: &str, kind: MacroKind, from: usize) -> Option<(usize, usize)> {
    let tag = format!("{{{}}}", kind.name());
    let mut i = from;
    loop {
        let candidate = text[i..].find(&tag).map(|r| i + r);
        if !kind.literal() {
            if let Some(open) = find_opening(text, i) {
                if open.kind.literal() && candidate.is_none_or(|c| open.start < c) {
                    match find_closing(text, open.kind, open.end) {
                        Some((_, e)) => {
                            i = e;
                            continue;
                        }
                        None => return None,
                    }
                }
            }
        }
        let c = candidate?;
        if !kind.literal() && c > 0 && text.as_bytes()[c - 1] == b'\\' {
            i = c + tag.len();
            continue;
        }
        return Some((c, c + tag.len()));
    }
}

/// Splits `a=b|c=d` (or a bare first value such as a language) into pairs.
fn macro_params(params: &str) -> Vec<(&str, &str)> {
    params
        .split('|')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => ("", p.trim()),
        })
        .collect()
}

fn param<'a>(params: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

/// Trims the newline JIRA users put right after an opening tag and before a closing one.
fn trim_body(body: &str) -> &str {
    let body = body.strip_prefix('\n').unwrap_or(body);
    let body = match body.rfind('\n') {
        Some(i) if body[i + 1..].trim().is_empty() => &body[..i],
        _ => body,
    };
    body
}

/// Where the paragraph holding `from` ends: the start of the first blank line after it.
fn blank_line_after(text: &str, from: usize) -> Option<usize> {
    let mut at = from;
    // The opening tag's own line break does not start the paragraph's end.
    while let Some(i) = text[at..].find('\n') {
        let line_start = at + i + 1;
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |j| line_start + j);
        if line_start > from + 1 && text[line_start..line_end].trim().is_empty() {
            return Some(line_start);
        }
        if line_end >= text.len() {
            return None;
        }
        at = line_start;
    }
    None
}

/// JIRA's emoticons and what stands for each: Unicode, never an image.
const EMOTICONS: &[(&str, &str)] = &[
    ("(flagoff)", "🏳️"),
    ("(flag)", "🚩"),
    ("(off)", "💡"),
    ("(on)", "💡"),
    ("(*r)", "⭐"),
    ("(*g)", "⭐"),
    ("(*b)", "⭐"),
    ("(*y)", "⭐"),
    ("(*)", "⭐"),
    ("(y)", "👍"),
    ("(n)", "👎"),
    ("(i)", "ℹ️"),
    ("(/)", "✅"),
    ("(x)", "❌"),
    ("(!)", "⚠️"),
    ("(+)", "➕"),
    ("(-)", "➖"),
    ("(?)", "❓"),
    (":)", "🙂"),
    (":(", "🙁"),
    (":P", "😛"),
    (":p", "😛"),
    (":D", "😀"),
    (";)", "😉"),
];

/// An emoticon at the start of `rest`, not glued to a word on either side (`f(x)`, `a:Debug`
/// stay as written): its length and what stands for it.
fn emoticon(prev: Option<char>, rest: &str) -> Option<(usize, &'static str)> {
    if prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
        return None;
    }
    let (code, glyph) = EMOTICONS.iter().find(|(code, _)| rest.starts_with(code))?;
    let after = rest[code.len()..].chars().next();
    if after.is_some_and(|a| a.is_alphanumeric() || a == '_') {
        return None;
    }
    Some((code.len(), glyph))
}

/// Renders text that may hold macros and block markup.
fn render_blocks(text: &str, out: &mut String) {
    let mut pos = 0;
    while let Some(open) = find_opening(text, pos) {
        render_lines(&text[pos..open.start], out);
        let (body, next) = match find_closing(text, open.kind, open.end) {
            Some((s, e)) => (&text[open.end..s], e),
            // Unclosed: the block ends with its paragraph (a blank line) or the text.
            None => match blank_line_after(text, open.end) {
                Some(end) => (&text[open.end..end], end),
                None => (&text[open.end..], text.len()),
            },
        };
        render_macro(&open, body, out);
        pos = next;
    }
    render_lines(&text[pos..], out);
}

fn render_macro(open: &Opening<'_>, body: &str, out: &mut String) {
    let params = macro_params(open.params);
    match open.kind {
        MacroKind::Code | MacroKind::Noformat => {
            let (outer, content) = if open.kind == MacroKind::Code {
                ("code", "codeContent")
            } else {
                ("preformatted", "preformattedContent")
            };
            let _ = write!(out, "<div class=\"{outer} panel\">");
            if let Some(title) = param(&params, "title") {
                let header = if open.kind == MacroKind::Code {
                    "codeHeader"
                } else {
                    "preformattedHeader"
                };
                let _ = write!(
                    out,
                    "<div class=\"{header} panelHeader\"><b>{}</b></div>",
                    escape(title)
                );
            }
            let _ = write!(out, "<div class=\"{content} panelContent\"><pre");
            if open.kind == MacroKind::Code {
                let language = param(&params, "language").or_else(|| param(&params, ""));
                if let Some(lang) = language.filter(|l| is_language(l)) {
                    let _ = write!(out, " class=\"code-{}\"", lang.to_ascii_lowercase());
                }
            }
            out.push('>');
            out.push_str(&escape(trim_body(body)));
            out.push_str("</pre></div></div>\n");
        }
        MacroKind::Quote => {
            out.push_str("<blockquote>");
            render_blocks(body, out);
            out.push_str("</blockquote>\n");
        }
        MacroKind::Panel => {
            out.push_str("<div class=\"panel\">");
            if let Some(title) = param(&params, "title") {
                let _ = write!(
                    out,
                    "<div class=\"panelHeader\"><b>{}</b></div>",
                    escape(title)
                );
            }
            out.push_str("<div class=\"panelContent\">");
            render_blocks(body, out);
            out.push_str("</div></div>\n");
        }
        MacroKind::Html => {
            // Passed through for the caller's sanitiser.
            out.push_str(body);
            out.push('\n');
        }
    }
}

fn is_language(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'#'))
}

// ---------------------------------------------------------------------------------------------
// Blocks

/// The list being built: the type of each open level (`true` for ordered).
struct Lists {
    open: Vec<bool>,
}

impl Lists {
    fn item(&mut self, types: &[bool], out: &mut String) {
        let common = self
            .open
            .iter()
            .zip(types)
            .take_while(|(a, b)| a == b)
            .count();
        while self.open.len() > common {
            let ordered = self.open.pop().unwrap_or(false);
            out.push_str(if ordered {
                "</li></ol>\n"
            } else {
                "</li></ul>\n"
            });
        }
        if common == types.len() && !self.open.is_empty() {
            out.push_str("</li>\n<li>");
            return;
        }
        for &ordered in &types[self.open.len()..] {
            out.push_str(if ordered { "<ol>\n<li>" } else { "<ul>\n<li>" });
            self.open.push(ordered);
        }
    }

    fn close(&mut self, out: &mut String) {
        while let Some(ordered) = self.open.pop() {
            out.push_str(if ordered {
                "</li></ol>\n"
            } else {
                "</li></ul>\n"
            });
        }
    }
}

/// What the block reader is in the middle of.
enum Open {
    Nothing,
    Paragraph(Vec<String>),
    /// A list item's text (continuation lines included); the lists stay open.
    ListItem(Vec<String>),
    /// Table rows, each a list of (header?, cell text).
    Table(Vec<Vec<(bool, String)>>),
}

struct Blocks<'o> {
    out: &'o mut String,
    open: Open,
    lists: Lists,
}

impl Blocks<'_> {
    /// Ends whatever is open, lists included.
    fn flush(&mut self) {
        self.flush_item();
        self.lists.close(self.out);
    }

    /// Ends the open paragraph, list item text or table, leaving lists open.
    fn flush_item(&mut self) {
        match std::mem::replace(&mut self.open, Open::Nothing) {
            Open::Nothing => {}
            Open::Paragraph(lines) => {
                self.out.push_str("<p>");
                self.out.push_str(&inline(&lines.join("\n")));
                self.out.push_str("</p>\n");
            }
            Open::ListItem(lines) => self.out.push_str(&inline(&lines.join("\n"))),
            Open::Table(rows) => {
                self.out.push_str("<table><tbody>\n");
                for row in rows {
                    self.out.push_str("<tr>");
                    for (head, cell) in row {
                        let tag = if head { "th" } else { "td" };
                        let _ = write!(self.out, "<{tag}>{}</{tag}>", inline(cell.trim()));
                    }
                    self.out.push_str("</tr>\n");
                }
                self.out.push_str("</tbody></table>\n");
            }
        }
    }

    fn line(&mut self, line: &str) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.flush();
            return;
        }
        if let Some((level, rest)) = heading(trimmed) {
            self.flush();
            let _ = writeln!(self.out, "<h{level}>{}</h{level}>", inline(rest.trim()));
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("bq. ") {
            self.flush();
            let _ = writeln!(self.out, "<blockquote><p>{}</p></blockquote>", inline(rest));
            return;
        }
        if trimmed == "----" {
            self.flush();
            self.out.push_str("<hr>\n");
            return;
        }
        if let Some((types, rest)) = list_item(trimmed) {
            if !matches!(self.open, Open::ListItem(_)) {
                self.flush();
            } else {
                self.flush_item();
            }
            self.lists.item(&types, self.out);
            self.open = Open::ListItem(vec![rest.to_string()]);
            return;
        }
        if trimmed.starts_with('|') {
            let row = table_row(trimmed);
            match &mut self.open {
                Open::Table(rows) => rows.push(row),
                _ => {
                    self.flush();
                    self.open = Open::Table(vec![row]);
                }
            }
            return;
        }
        match &mut self.open {
            Open::Paragraph(lines) | Open::ListItem(lines) => lines.push(trimmed.to_string()),
            Open::Table(rows) => {
                // A cell that runs on over several lines.
                match rows.last_mut().and_then(|r| r.last_mut()) {
                    Some((_, cell)) => {
                        cell.push('\n');
                        cell.push_str(trimmed);
                    }
                    None => rows.push(vec![(false, trimmed.to_string())]),
                }
            }
            Open::Nothing => self.open = Open::Paragraph(vec![trimmed.to_string()]),
        }
    }
}

fn render_lines(text: &str, out: &mut String) {
    let mut blocks = Blocks {
        out,
        open: Open::Nothing,
        lists: Lists { open: Vec::new() },
    };
    for line in text.split('\n') {
        blocks.line(line);
    }
    blocks.flush();
}

/// `h3. Title` → (3, "Title").
fn heading(line: &str) -> Option<(u8, &str)> {
    let b = line.as_bytes();
    if b.len() >= 3 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]) && b[2] == b'.' {
        let rest = &line[3..];
        if rest.is_empty() || rest.starts_with(' ') {
            return Some((b[1] - b'0', rest));
        }
    }
    None
}

/// `#* text` → ([ordered, unordered], "text"). The markers must be followed by a space, so
/// `*bold*` and `-EIO` are not list items; `-` lists are one level deep.
fn list_item(line: &str) -> Option<(Vec<bool>, &str)> {
    let markers = line
        .bytes()
        .take_while(|b| matches!(b, b'*' | b'#' | b'-'))
        .count();
    if markers == 0 || line.as_bytes().get(markers) != Some(&b' ') {
        return None;
    }
    let m = &line[..markers];
    if m.contains('-') && m != "-" {
        return None;
    }
    let types = m.bytes().map(|b| b == b'#').collect();
    Some((types, line[markers + 1..].trim_start()))
}

/// Splits `||a||b||` or `|a|b|` into cells, keeping `|` inside links, monospace and after `\`.
fn table_row(line: &str) -> Vec<(bool, String)> {
    let mut cells = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    let mut current: Option<(bool, usize)> = None;
    let mut depth_link = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' => depth_link += 1,
            b']' => depth_link = depth_link.saturating_sub(1),
            b'{' if b.get(i + 1) == Some(&b'{') => {
                if let Some(end) = line[i + 2..].find("}}") {
                    i += end + 4;
                    continue;
                }
            }
            b'|' if depth_link == 0 => {
                let head = b.get(i + 1) == Some(&b'|');
                if let Some((h, s)) = current.take() {
                    cells.push((h, line[s..i].to_string()));
                }
                let width = if head { 2 } else { 1 };
                current = Some((head, i + width));
                i += width;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some((h, s)) = current {
        let rest = &line[s.min(line.len())..];
        if !rest.trim().is_empty() {
            cells.push((h, rest.to_string()));
        }
    }
    cells
}

// ---------------------------------------------------------------------------------------------
// Inline

/// The emphasis markers: (marker, opening tag, closing tag).
const EMPHASIS: [(&str, &str, &str); 7] = [
    ("??", "<cite>", "</cite>"),
    ("*", "<strong>", "</strong>"),
    ("_", "<em>", "</em>"),
    ("-", "<del>", "</del>"),
    ("+", "<ins>", "</ins>"),
    ("^", "<sup>", "</sup>"),
    ("~", "<sub>", "</sub>"),
];

fn is_marker_char(c: char) -> bool {
    matches!(c, '*' | '_' | '-' | '+' | '^' | '~' | '?')
}

/// Characters after which an opening marker may stand.
fn opens_after(c: Option<char>, marker: char) -> bool {
    match c {
        None => true,
        Some(c) if c == marker => false,
        Some(c) => {
            c.is_whitespace()
                || matches!(c, '(' | '[' | '{' | '"' | '\'' | '>' | ':' | ';' | ',')
                || is_marker_char(c)
        }
    }
}

/// Characters before which a closing marker may stand.
fn closes_before(c: Option<char>, marker: char) -> bool {
    match c {
        None => true,
        Some(c) if c == marker => false,
        Some(c) => {
            c.is_whitespace()
                || matches!(
                    c,
                    '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '{' | '}' | '"' | '\''
                )
                || is_marker_char(c)
        }
    }
}

/// Characters that may end an emphasised text (before its closing marker): not blanks, and not
/// the separators of paths and globs (`osc/*/max_rpcs`).
fn ends_emphasis(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            ')' | ']' | '}' | '"' | '\'' | '.' | '!' | '?' | '%' | '>'
        )
        || is_marker_char(c)
}

/// Renders a paragraph's worth of inline markup. Newlines become line breaks.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut r = Inline {
        out: &mut out,
        colours: 0,
        base: 0,
        links: true,
    };
    r.run(text);
    r.close_colours(0);
    out
}

/// A cached search for the next occurrence of a closer on the current line.
#[derive(Default)]
struct Ahead {
    /// The range searched and what was found in it.
    from: usize,
    to: usize,
    found: Option<usize>,
    searched: bool,
}

impl Ahead {
    /// The position of the first `pat` in `text[from..to]`.
    fn find(&mut self, text: &str, from: usize, to: usize, pat: &str) -> Option<usize> {
        let reusable = self.searched
            && self.to == to
            && self.from <= from
            && self.found.is_none_or(|f| f >= from);
        if !reusable {
            self.found = text
                .get(from..to)
                .and_then(|t| t.find(pat))
                .map(|r| from + r);
            (self.from, self.to, self.searched) = (from, to, true);
        }
        self.found
    }
}

/// The inline renderer's state.
struct Inline<'o> {
    out: &'o mut String,
    /// `{color}` spans open.
    colours: usize,
    /// Spans open when the current nested text (an emphasis body, a link label) began: a
    /// `{color}` inside it closes only spans it opened, so elements always nest.
    base: usize,
    /// False inside a link's label: no links within links.
    links: bool,
}

impl Inline<'_> {
    fn close_colours(&mut self, down_to: usize) {
        while self.colours > down_to {
            self.out.push_str("</span>");
            self.colours -= 1;
        }
    }

    /// Renders nested text (an emphasis body, a link label) with balanced spans.
    fn nested(&mut self, text: &str, links: bool) {
        let (base, saved_links) = (self.base, self.links);
        self.base = self.colours;
        self.links = saved_links && links;
        self.run(text);
        self.close_colours(self.base);
        self.base = base;
        self.links = saved_links;
    }

    fn run(&mut self, text: &str) {
        let mut i = 0;
        let mut prev: Option<char> = None;
        let mut line_end = text.find('\n').unwrap_or(text.len());
        // Per emphasis marker: (from, line end) of a search that found no closing marker; a
        // later opening marker on the same line cannot find one either (whether a marker may
        // close depends only on its neighbours), so long lines stay linear.
        let mut exhausted: [Option<(usize, usize)>; EMPHASIS.len()] = [None; EMPHASIS.len()];
        // Where the next `]`, `!`, `}` and `}}` are on the line, found once per line and reused.
        let mut ahead = [
            Ahead::default(),
            Ahead::default(),
            Ahead::default(),
            Ahead::default(),
        ];
        while i < text.len() {
            if i > line_end {
                line_end = text[i..].find('\n').map_or(text.len(), |r| i + r);
            }
            // The construct starting at `i` may only look as far as the next of its closers.
            let mut upto = |k: usize, pat: &str, skip: usize| -> &str {
                let end = ahead[k].find(text, i + skip, line_end, pat);
                &text[i..end.map_or(i, |e| e + pat.len())]
            };
            let line = &text[i..line_end];
            let rest = &text[i..];
            let Some(c) = rest.chars().next() else { break };
            let next = rest[c.len_utf8()..].chars().next();

            let consumed = match c {
                '\n' => {
                    self.out.push_str("<br>\n");
                    Some((1, Some('\n')))
                }
                '\\' if next == Some('\\') => {
                    self.out.push_str("<br>");
                    Some((2, Some(' ')))
                }
                '\\' => next.filter(|n| is_escapable(*n)).map(|n| {
                    self.out.push_str(&escape(n.encode_utf8(&mut [0; 4])));
                    (1 + n.len_utf8(), Some(n))
                }),
                '{' if next == Some('{') => {
                    let end = upto(3, "}}", 2).len();
                    monospace(line, end, self.out).map(|n| (n, Some('}')))
                }
                // A colour tag is invisible: what came before it still decides emphasis.
                '{' => self.colour(upto(2, "}", 1)).map(|n| (n, prev)),
                '[' if self.links => self.link(upto(0, "]", 1)).map(|n| (n, Some(']'))),
                '(' | ':' | ';' if emoticon(prev, rest).is_some() => {
                    let (n, glyph) = emoticon(prev, rest).unwrap_or((1, ""));
                    let _ = write!(
                        self.out,
                        "<span class=\"emoticon\" title=\"{}\">{glyph}</span>",
                        escape(&rest[..n])
                    );
                    Some((n, Some(' ')))
                }
                '!' => image(upto(1, "!", 1), self.out).map(|n| (n, Some('!'))),
                'h' | 'H' | 'f' | 'F' | 'm' | 'M'
                    if self.links && !prev.is_some_and(|p| p.is_alphanumeric()) =>
                {
                    bare_url(line, self.out).map(|n| (n, Some('/')))
                }
                _ => None,
            };
            let consumed = consumed.or_else(|| {
                if !is_marker_char(c) {
                    return None;
                }
                self.emphasis(&text[..line_end], i, prev, &mut exhausted)
                    .map(|n| (n, Some('>')))
            });
            match consumed {
                Some((n, p)) => {
                    i += n;
                    prev = p;
                }
                None => {
                    self.out.push_str(&escape(c.encode_utf8(&mut [0; 4])));
                    i += c.len_utf8();
                    prev = Some(c);
                }
            }
        }
    }

    /// `*text*` and friends at `line[i..]` (`line` ends where the current line does); returns
    /// the bytes consumed.
    fn emphasis(
        &mut self,
        line: &str,
        i: usize,
        prev: Option<char>,
        exhausted: &mut [Option<(usize, usize)>; EMPHASIS.len()],
    ) -> Option<usize> {
        let rest = &line[i..];
        let (k, (marker, open, close)) = EMPHASIS
            .iter()
            .enumerate()
            .find(|(_, (m, _, _))| rest.starts_with(m))?;
        let mc = marker.chars().next()?;
        // Superscript and subscript sit inside words (`x^2^`, `H~2~O`), as in JIRA.
        let in_word = matches!(mc, '^' | '~');
        if (!in_word && !opens_after(prev, mc)) || prev == Some(mc) {
            return None;
        }
        let body_start = marker.len();
        let first = rest[body_start..].chars().next()?;
        if first.is_whitespace() || first == mc {
            return None;
        }
        if let Some((from, end)) = exhausted[k] {
            if from <= i && end == line.len() {
                return None;
            }
        }
        let mut search = body_start + first.len_utf8();
        while let Some(found) = rest[search..].find(marker).map(|r| r + search) {
            let before = rest[..found].chars().next_back();
            let after = rest[found + marker.len()..].chars().next();
            if before != Some('\\')
                && before.is_some_and(ends_emphasis)
                && (closes_before(after, mc) || in_word && after != Some(mc))
            {
                self.out.push_str(open);
                self.nested(&rest[body_start..found], true);
                self.out.push_str(close);
                return Some(found + marker.len());
            }
            search = found + marker.len();
        }
        exhausted[k] = Some((i, line.len()));
        None
    }

    /// `{color:red}` opens a span, `{color}` closes one; `{anchor:x}` is dropped. No styles are
    /// written: the site's CSP forbids them.
    fn colour(&mut self, line: &str) -> Option<usize> {
        if let Some(after) = line.strip_prefix("{color:") {
            let end = after.find('}')?;
            if end == 0 || after[..end].contains('{') {
                return None;
            }
            self.out.push_str("<span>");
            self.colours += 1;
            return Some("{color:".len() + end + 1);
        }
        if line.starts_with("{color}") {
            if self.colours > self.base {
                self.out.push_str("</span>");
                self.colours -= 1;
            }
            return Some("{color}".len());
        }
        if let Some(after) = line.strip_prefix("{anchor:") {
            let end = after.find('}')?;
            return Some("{anchor:".len() + end + 1);
        }
        None
    }

    /// `[text|url]`, `[url]`, `[~user]`, `[#anchor]`, `[^attachment]`, `[text|LU-123]`.
    fn link(&mut self, line: &str) -> Option<usize> {
        let end = line.find(']')?;
        let inner = &line[1..end];
        if inner.is_empty() || inner.contains('[') {
            return None;
        }
        let consumed = end + 1;
        let (label, target) = match inner.split_once('|') {
            Some((l, t)) => (
                Some(l.trim()).filter(|l| !l.is_empty()),
                t.split('|').next().unwrap_or("").trim(),
            ),
            None => (None, inner.trim()),
        };
        if let Some(user) = target.strip_prefix('~') {
            let user = user.strip_prefix("accountid:").unwrap_or(user);
            let shown = label.unwrap_or(user);
            let _ = write!(
                self.out,
                "<span class=\"mention\">@{}</span>",
                escape(shown)
            );
            return Some(consumed);
        }
        let (open, fallback) = if let Some(anchor) = target.strip_prefix('#') {
            (format!("<a href=\"#{}\">", escape(anchor)), anchor)
        } else if let Some(file) = target.strip_prefix('^') {
            ("<span class=\"attachment-ref\">".to_string(), file)
        } else if is_web_url(target) || (target.starts_with('/') && !target.starts_with("//")) {
            // A path on the old tracker (`/secure/attachment/…`) is left to the link rewriter.
            (format!("<a href=\"{}\">", escape(target)), target)
        } else if is_issue_key(target) {
            // The link rewriter makes this a local link when the issue is in the archive, and
            // plain text otherwise.
            (
                format!(
                    "<a href=\"/browse/{0}\" data-issue-key=\"{0}\">",
                    escape(target)
                ),
                target,
            )
        } else {
            // `[something]` that is not a link (`array[i]`): shown as written.
            return None;
        };
        self.out.push_str(&open);
        match label {
            Some(l) => self.nested(l, false),
            None => self.out.push_str(&escape(fallback)),
        }
        self.out.push_str(if open.starts_with("<span") {
            "</span>"
        } else {
            "</a>"
        });
        Some(consumed)
    }
}

fn is_escapable(c: char) -> bool {
    matches!(
        c,
        '*' | '_'
            | '-'
            | '+'
            | '^'
            | '~'
            | '?'
            | '{'
            | '}'
            | '['
            | ']'
            | '!'
            | '|'
            | '#'
            | '('
            | ')'
    )
}

/// `{{monospace}}` at the start of `line`, whose first `}}` ends at `first_close`: the content
/// is shown as written.
fn monospace(line: &str, first_close: usize, out: &mut String) -> Option<usize> {
    let body = line.strip_prefix("{{")?;
    let mut end = first_close.checked_sub(4)?;
    // `{{x{y}}}` closes on the last braces, keeping the inner `}`.
    while body.as_bytes().get(end + 2) == Some(&b'}') {
        end += 1;
    }
    let inner = &body[..end];
    if inner.trim().is_empty() {
        return None;
    }
    out.push_str("<code>");
    out.push_str(&escape(inner));
    out.push_str("</code>");
    Some(2 + end + 2)
}

/// Whether `url` is an absolute address with a scheme links may use.
fn is_web_url(url: &str) -> bool {
    ["http://", "https://", "ftp://", "mailto:"]
        .iter()
        .any(|s| {
            url.len() > s.len()
                && url.is_char_boundary(s.len())
                && url[..s.len()].eq_ignore_ascii_case(s)
        })
}

/// An issue key (`LU-123`).
fn is_issue_key(s: &str) -> bool {
    crate::keys::split_key(s).is_some()
}

/// `!file.png!`, `!file.png|thumbnail!`, `!http://host/x.png!`: a text reference, never a fetch.
fn image(line: &str, out: &mut String) -> Option<usize> {
    let body = line.get(1..)?;
    let end = body.find('!')?;
    let inner = &body[..end];
    if inner.is_empty() || inner.starts_with(char::is_whitespace) {
        return None;
    }
    let target = inner.split('|').next()?.trim();
    let looks_like_file = !target.contains(char::is_whitespace)
        && target.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if !looks_like_file && !is_web_url(target) {
        return None;
    }
    let _ = write!(
        out,
        "<span class=\"attachment-ref\">[image: {}]</span>",
        escape(target)
    );
    Some(1 + end + 1)
}

/// A bare `http://…` address at the start of `rest`.
fn bare_url(rest: &str, out: &mut String) -> Option<usize> {
    let scheme = ["http://", "https://", "ftp://", "mailto:"]
        .iter()
        .find(|s| {
            rest.len() > s.len()
                && rest.is_char_boundary(s.len())
                && rest[..s.len()].eq_ignore_ascii_case(s)
        })?;
    let mut end = rest
        .find(|c: char| {
            c.is_whitespace() || matches!(c, '<' | '>' | '"' | '[' | ']' | '{' | '}' | '|')
        })
        .unwrap_or(rest.len());
    // Trailing punctuation ends a sentence, not the address; an unbalanced `)` closes a remark.
    while end > scheme.len() {
        let url = &rest[..end];
        let last = url.chars().next_back()?;
        let strip = matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_')
            || (last == ')' && url.matches('(').count() < url.matches(')').count());
        if !strip {
            break;
        }
        end -= last.len_utf8();
    }
    if end <= scheme.len() {
        return None;
    }
    let url = &rest[..end];
    let _ = write!(out, "<a href=\"{0}\">{0}</a>", escape(url));
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(name: &str, input: &str) {
        let html = to_html(input);
        insta::assert_snapshot!(name, html, input);
    }

    #[test]
    fn identifiers_are_not_emphasis() {
        let out = to_html("ldlm_lock_cancel returns -EIO or -ENOENT; x-y-z; a+b+c; __FILE__; osc.*.max_dirty_mb and mdc.*.max_rpcs");
        assert!(!out.contains("<em>"), "{out}");
        assert!(!out.contains("<del>"), "{out}");
        assert!(!out.contains("<ins>"), "{out}");
        assert!(!out.contains("<strong>"), "{out}");
        assert!(out.contains("ldlm_lock_cancel"), "{out}");
        assert!(out.contains("-EIO"), "{out}");
    }

    #[test]
    fn emphasis_at_word_boundaries() {
        assert_eq!(
            to_html("*bold* _it_ -gone- +new+ x^2^ H~2~O ??Someone??"),
            "<p><strong>bold</strong> <em>it</em> <del>gone</del> <ins>new</ins> x<sup>2</sup> H<sub>2</sub>O <cite>Someone</cite></p>\n"
        );
    }

    #[test]
    fn sup_and_sub_need_a_non_blank_body() {
        let out = to_html("x ^ y ^ z, ~ 5 GB ~ each");
        assert!(!out.contains("<sup>"), "{out}");
        assert!(!out.contains("<sub>"), "{out}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            to_html("<script>alert(1)</script> & \"x\""),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</p>\n"
        );
    }

    #[test]
    fn crlf_is_normalised() {
        assert_eq!(to_html("a\r\nb\r\n\r\nc"), "<p>a<br>\nb</p>\n<p>c</p>\n");
    }

    #[test]
    fn code_blocks_keep_their_content() {
        let out = to_html("{code:java}\nint *a = b_c_d; // <tag> *x*\n{code}");
        assert_eq!(
            out,
            "<div class=\"code panel\"><div class=\"codeContent panelContent\"><pre class=\"code-java\">int *a = b_c_d; // &lt;tag&gt; *x*</pre></div></div>\n"
        );
    }

    #[test]
    fn unclosed_code_runs_to_the_end() {
        let out = to_html("before\n{noformat}\nLBUG *x*");
        assert!(out.contains("<pre>LBUG *x*</pre>"), "{out}");
        assert!(out.starts_with("<p>before</p>"), "{out}");
    }

    #[test]
    fn unclosed_blocks_end_with_their_paragraph() {
        for open in ["{code}", "{noformat}", "{html}", "{code:java}"] {
            let out = to_html(&format!("before\n{open}\nint *a*;\nmore\n\nafter *bold*"));
            assert!(out.contains("<strong>bold</strong>"), "{open}: {out}");
            assert!(!out.contains("<strong>a</strong>"), "{open}: {out}");
        }
        // A closed block keeps its blank lines.
        let out = to_html("{code}\na\n\n*b*\n{code}\n*c*");
        assert!(
            out.contains("*b*") && out.contains("<strong>c</strong>"),
            "{out}"
        );
    }

    #[test]
    fn emoticons_are_unicode_but_not_inside_words() {
        let out = to_html("ok :) (y) (!) (x) ;) :D (/) (on)");
        for glyph in ["🙂", "👍", "⚠️", "❌", "😉", "😀", "✅", "💡"] {
            assert!(out.contains(glyph), "{glyph}: {out}");
        }
        let out = to_html("f(x) a:Debug (i)nfo x:)");
        assert!(!out.contains("emoticon"), "{out}");
    }

    #[test]
    fn urls_end_before_markup_characters() {
        let out = to_html(
            "see http://example.org/a\">x and http://example.org/b'> and http://example.org/c>",
        );
        assert!(out.contains("href=\"http://example.org/a\""), "{out}");
        assert!(out.contains("href=\"http://example.org/c\""), "{out}");
        assert!(!out.contains("&quot;\">"), "{out}");
    }

    #[test]
    fn javascript_links_are_not_links() {
        let out = to_html("[click|javascript:alert(1)] [x|data:text/html,hi]");
        assert!(!out.contains("href"), "{out}");
    }

    #[test]
    fn links_do_not_nest_and_spans_balance() {
        assert_eq!(
            to_html("[https://a.example/x|https://a.example/x] [*b* {color:red}c|https://b.example]"),
            "<p><a href=\"https://a.example/x\">https://a.example/x</a> <a href=\"https://b.example\"><strong>b</strong> <span>c</span></a></p>\n"
        );
        assert_eq!(
            to_html("{color:red}a *b{color} c* d"),
            "<p><span>a <strong>b c</strong> d</span></p>\n"
        );
    }

    #[test]
    fn random_input_never_panics() {
        const PIECES: [&str; 32] = [
            "*",
            "_",
            "-",
            "+",
            "^",
            "~",
            "??",
            "{{",
            "}}",
            "{code}",
            "{noformat}",
            "{quote}",
            "{panel:title=x}",
            "{panel}",
            "{color:red}",
            "{color}",
            "[",
            "]",
            "|",
            "||",
            "!",
            "\\",
            "\n",
            "\r\n",
            "# ",
            "* ",
            "h1. ",
            "http://",
            "é",
            "日本",
            " ",
            "x",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let _ = to_html(&s);
        }
    }

    #[test]
    fn long_lines_render_in_linear_time() {
        let started = std::time::Instant::now();
        for piece in [
            "a -b *c _d [e {f !g ",
            "{a [b {{c !d *e _f ^g ~h ??i +j ",
            "{code:x {panel:y [[[ ",
            "x|y|z| ",
        ] {
            let line = piece.repeat(20_000);
            let out = to_html(&line);
            assert!(out.len() >= line.len() / 2);
            let lines = format!("{}\n", piece.repeat(20)).repeat(1_000);
            let _ = to_html(&format!("{{quote}}\n{lines}"));
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn snapshots() {
        snap(
            "lbug_noformat",
            "Hit this on the MDS during racer:\r\n{noformat}\r\nLustreError: 12345:0:(ldlm_lock.c:851:ldlm_lock_cancel()) ASSERTION( !lock->l_readers && !lock->l_writers ) failed:\r\nLustreError: 12345:0:(ldlm_lock.c:851:ldlm_lock_cancel()) LBUG\r\nPid: 12345, comm: ldlm_bl_01\r\nCall Trace:\r\n [<ffffffffa0363895>] libcfs_debug_dumpstack+0x55/0x80 [libcfs]\r\n [<ffffffffa0363e97>] lbug_with_loc+0x47/0xb0 [libcfs]\r\n{noformat}\r\nSeems related to LU-1234.",
        );
        snap(
            "code_with_title",
            "{code:title=lustre/ldlm/ldlm_lock.c|borderStyle=solid}\nif (rc == -EIO && lock->l_flags & LDLM_FL_CBPENDING)\n        ldlm_lock_cancel(lock);\n{code}",
        );
        snap(
            "code_language_param",
            "Patch:\n{code:language=c|title=fix}\nstatic int foo(void) { return 0; }\n{code}\nand {code}inline{code} done",
        );
        snap(
            "nested_lists",
            "Steps:\n# mount the client\n# run racer\n#* wait 10 minutes\n#* check dmesg\n## unmount\n# done\n\n* one\n** one.a\n** one.b\n* two\n- dash item",
        );
        snap(
            "table",
            "||Version||Result||Notes||\n|2.12.9|PASS|{{lctl get_param osc.*.max_dirty_mb}}|\n|2.15.0|*FAIL*|see [LU-1234|https://jira.whamcloud.com/browse/LU-1234]|\n|master| |a\\|b|",
        );
        snap(
            "links",
            "See [the wiki|https://wiki.lustre.org/Testing], [https://review.whamcloud.com/12345], [~adilger] and [~accountid:5b10ac8d82e05b22cc7d4ef5], [#comments], [^dmesg.log], [LU-4423] and [dup|LU-99]. Bare: https://build.whamcloud.com/job/lustre-master/4000/ (build), ftp://ftp.example.org/x.tar.gz.",
        );
        snap(
            "headings_and_rules",
            "h1. Summary\nh3. Details *here*\n----\nbq. Quoted line with _emphasis_\nh7. not a heading",
        );
        snap(
            "quote_and_panel",
            "{quote}\nOleg wrote:\n{code}\n{quote} inside code\n{code}\nstill quoted\n{quote}\n{panel:title=Test results|borderStyle=dashed}\n* sanity: PASS\n* conf-sanity: *FAIL*\n{panel}",
        );
        snap(
            "color_and_escapes",
            "{color:red}*Critical*{color}: do not use \\*stars\\* or \\[brackets\\]; line\\\\break; {color:#00875A}green\nsecond line{color}",
        );
        snap(
            "images",
            "Screenshot: !screenshot-1.png! and thumb !graph.png|thumbnail! and remote !https://example.org/x.png! but Wow! not an image!",
        );
        snap(
            "html_macro",
            "{html}<b>bold</b><script>alert(1)</script>{html}\nafter",
        );
        snap(
            "code_identifiers",
            "The race is in ldlm_lock_cancel() vs ldlm_cli_cancel_list_local(); it returns -EIO (or -ENOTCONN) when mdc_enqueue_base fails. Set obd_fail_loc=0x80000503 and run sanity.sh test_27a. Pointers: *lock and *res. Macros __LINE__ and _IOW. File /proc/fs/lustre/osc/*/max_rpcs_in_flight.",
        );
        snap(
            "mixed_emphasis",
            "This is *bold with _italic_ inside* and -struck +and under+- text, (*parenthesised*), \"_quoted_\", and *multi word bold*.",
        );
        snap(
            "paragraphs",
            "First paragraph line one\nline two\n\n\nSecond paragraph.\n\n* list right after\ncontinued item text\n\nFinal.",
        );
        snap(
            "real_comment",
            "Hi [~green],\r\n\r\nI reproduced it with {{sanity-lfsck}} test_18c on *2.14.0-RC2*:\r\n{noformat}\r\n[ 2411.034112] LustreError: 31415:0:(lfsck_layout.c:2048:lfsck_layout_slave_conditional_destroy()) ASSERTION( rc != -ENOENT ) failed\r\n{noformat}\r\n\r\nPatch is at https://review.whamcloud.com/c/fs/lustre-release/+/41234, please review.\r\n\r\n||Test||Status||\r\n|test_18c|{color:red}FAIL{color}|\r\n",
        );
    }
}
