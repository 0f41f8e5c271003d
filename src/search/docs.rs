//! Search documents from the archive model: what of an issue or a commit is searchable.
//! Restricted issues give no document and restricted comments are left out, so nothing
//! restricted reaches the index (the store already holds e-mail addresses masked).

use crate::model::{Commit, Issue, Markup, Text};

use super::{DocKind, SearchDoc};

/// The search document of an issue whose page is at `path`, or `None` for an issue under a
/// security level.
pub fn issue_doc(issue: &Issue, path: &str) -> Option<SearchDoc> {
    if !issue.visibility.is_public() {
        return None;
    }
    let mut body = Vec::new();
    for t in [&issue.description, &issue.environment]
        .into_iter()
        .flatten()
    {
        push_text(&mut body, t);
    }
    for c in &issue.comments {
        if !c.visibility.is_public() {
            continue;
        }
        push_text(&mut body, &c.body);
        if let Some(a) = &c.author {
            if !a.display.is_empty() {
                body.push(a.display.clone());
            }
        }
    }
    Some(SearchDoc {
        kind: DocKind::Issue,
        key: issue.key.clone(),
        title: issue.summary.clone(),
        status: issue.status.clone(),
        project: Some(issue.project.key.clone()),
        issue_type: issue.issue_type.clone(),
        components: issue.components.clone(),
        fix_versions: issue.fix_versions.clone(),
        versions: issue.versions.clone(),
        labels: issue.labels.clone(),
        year: issue.created.as_ref().map(|t| {
            use chrono::Datelike;
            t.0.year()
        }),
        path: path.to_string(),
        body,
    })
}

/// The search document of a commit whose page is at `path`.
pub fn commit_doc(commit: &Commit, path: &str) -> SearchDoc {
    let mut body = Vec::new();
    if !commit.body.trim().is_empty() {
        body.push(commit.body.clone());
    }
    if !commit.author.name.is_empty() {
        body.push(commit.author.name.clone());
    }
    SearchDoc {
        kind: DocKind::Commit,
        key: commit.id.clone(),
        title: commit.subject.clone(),
        status: None,
        project: None,
        issue_type: None,
        components: Vec::new(),
        fix_versions: Vec::new(),
        versions: Vec::new(),
        labels: Vec::new(),
        year: commit.author.time.as_ref().map(|t| {
            use chrono::Datelike;
            t.0.year()
        }),
        path: path.to_string(),
        body,
    }
}

fn push_text(body: &mut Vec<String>, t: &Text) {
    let s = match t.markup {
        Markup::Html => html_to_text(&t.content),
        Markup::JiraWiki => html_to_text(&crate::render::wiki::to_html(&t.content)),
        Markup::Markdown => {
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&t.content));
            html_to_text(&html)
        }
        _ => t.content.clone(),
    };
    if !s.trim().is_empty() {
        body.push(s);
    }
}

/// Plain text of tracker HTML: tags dropped (block tags become line breaks), entities decoded,
/// `<script>` and `<style>` contents skipped.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while !rest.is_empty() {
        if let Some(end) = skip_until {
            match find_ci(rest, end) {
                Some(i) => {
                    rest = &rest[i..];
                    skip_until = None;
                }
                None => break,
            }
            continue;
        }
        match rest.find(['<', '&']) {
            None => {
                out.push_str(rest);
                break;
            }
            Some(i) => {
                out.push_str(&rest[..i]);
                rest = &rest[i..];
            }
        }
        if rest.starts_with('&') {
            let (s, n) = entity(rest);
            out.push_str(&s);
            rest = &rest[n..];
            continue;
        }
        // A tag.
        let Some(close) = rest.find('>') else {
            out.push_str(rest);
            break;
        };
        let tag = &rest[1..close];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &rest[close + 1..];
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            skip_until = Some(if name == "script" {
                "</script"
            } else {
                "</style"
            });
            continue;
        }
        if matches!(
            name.as_str(),
            "p" | "br"
                | "div"
                | "li"
                | "pre"
                | "tr"
                | "td"
                | "th"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "blockquote"
                | "table"
                | "ul"
                | "ol"
                | "hr"
        ) && !out.ends_with('\n')
        {
            out.push('\n');
        }
    }
    out
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn entity(s: &str) -> (String, usize) {
    let end = s[1..].find(';').map(|i| i + 1);
    if let Some(e) = end.filter(|&e| e <= 12) {
        let name = &s[1..e];
        let decoded = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            _ => {
                if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok().and_then(char::from_u32)
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse::<u32>().ok().and_then(char::from_u32)
                } else {
                    None
                }
            }
        };
        if let Some(c) = decoded {
            return (c.to_string(), e + 1);
        }
    }
    ("&".to_string(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<p>rc = -2 &amp; <tt>ldlm_lock</tt></p><script>x</script><p>a&#233;b &bogus</p>"
            ),
            "\nrc = -2 & ldlm_lock\naéb &bogus\n"
        );
    }
}
