//! Search documents from the archive model: what of an issue or a commit is searchable.
//! Restricted issues give no document and restricted comments are left out, so nothing
//! restricted reaches the index (the store already holds e-mail addresses masked).

use crate::model::{Commit, Issue, Markup, Text};
use crate::text::html::html_to_text;

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

/// The identity ([`super::Identity`]) of the document [`issue_doc`] makes of an issue, from
/// the issue's digest as published (`published`: its stored record and what preparing it
/// decided, [`crate::link::Linked::published`]), of which the document is a function (the
/// page path is one of its key).
pub fn issue_identity(published: u128) -> u128 {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.write(b"issue document\0");
    h.write_u128(published);
    h.digest128()
}

/// The identity ([`super::Identity`]) of the document [`commit_doc`] makes of a commit, from
/// the commit's record in the archive store (its page path is a function of its id).
pub fn commit_identity(record: &[u8]) -> u128 {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.write(b"commit document\0");
    h.write(record);
    h.digest128()
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
        Markup::JiraWiki => html_to_text(&crate::text::wiki::to_html(&t.content)),
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
