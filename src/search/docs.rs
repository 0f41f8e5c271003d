//! Search documents from the archive model: what of an issue or a commit is searchable.
//! Restricted issues give no document and restricted comments are left out, so nothing
//! restricted reaches the index (the store already holds e-mail addresses masked).

use crate::import::People;
use crate::link::people::resolved;
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
/// the issue's record in the archive store (`record`: its bytes change exactly when the
/// stored issue does, and the page path is a function of its key) and the one thing preparing
/// it for publishing adds that the document shows: the names its comments' authors are shown
/// under, resolved with the people directory `people` as preparing does (a name the directory
/// gives a login changes the documents of the issues that login commented on, and no others).
/// Only the comments' authors are read from the record. `None` for a record that does not
/// read as an issue (making its document reports why).
pub fn issue_identity(record: &[u8], people: &People) -> Option<u128> {
    use std::hash::Hasher;
    let authors: CommentAuthors = serde_json::from_slice(record).ok()?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.write(b"issue document\0");
    h.write_u64(record.len() as u64);
    h.write(record);
    for c in &authors.comments {
        match &c.author {
            Some(p) => {
                let name = resolved(people, &p.login, &p.display);
                h.write_u64(name.len() as u64);
                h.write(name.as_bytes());
            }
            None => h.write_u64(u64::MAX),
        }
    }
    Some(h.digest128())
}

/// The authors of an issue's comments, as a stored issue's JSON has them (the fields of
/// [`Issue::comments`], [`crate::model::Comment::author`] and [`crate::model::Person`]); the
/// rest of the issue is skipped, not built.
#[derive(serde::Deserialize)]
struct CommentAuthors<'a> {
    #[serde(default, borrow)]
    comments: Vec<CommentAuthor<'a>>,
}

#[derive(serde::Deserialize)]
struct CommentAuthor<'a> {
    #[serde(default, borrow)]
    author: Option<AuthorName<'a>>,
}

#[derive(serde::Deserialize)]
struct AuthorName<'a> {
    #[serde(default, borrow)]
    login: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    display: std::borrow::Cow<'a, str>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Comment, Person};

    fn person(login: &str, display: &str) -> Person {
        Person {
            login: login.into(),
            display: display.into(),
            ..Default::default()
        }
    }

    fn issue() -> Issue {
        Issue {
            key: "LU-7".into(),
            summary: "ldlm: lock cancel storm".into(),
            comments: vec![
                Comment {
                    id: "1".into(),
                    author: Some(person("plarsen", "")),
                    ..Default::default()
                },
                Comment {
                    id: "2".into(),
                    author: None,
                    ..Default::default()
                },
                Comment {
                    id: "3".into(),
                    author: Some(person("", "Wei \"W\" Liang")),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn the_comment_authors_are_read_as_the_whole_record_has_them() {
        let record = serde_json::to_vec(&issue()).unwrap();
        let authors: CommentAuthors = serde_json::from_slice(&record).unwrap();
        let read: Vec<Option<(String, String)>> = authors
            .comments
            .iter()
            .map(|c| {
                c.author
                    .as_ref()
                    .map(|a| (a.login.to_string(), a.display.to_string()))
            })
            .collect();
        let whole: Vec<Option<(String, String)>> = issue()
            .comments
            .iter()
            .map(|c| {
                c.author
                    .as_ref()
                    .map(|a| (a.login.clone(), a.display.clone()))
            })
            .collect();
        assert_eq!(read, whole);
    }

    #[test]
    fn an_issue_identity_follows_its_record_and_its_commenters_names_only() {
        let record = serde_json::to_vec(&issue()).unwrap();
        let mut people = People::new();
        let base = issue_identity(&record, &people).unwrap();
        assert_eq!(issue_identity(&record, &people), Some(base));
        // Someone the comments do not name joins the directory: the same identity.
        people.insert("jroe".into(), "Jane Roe".into());
        assert_eq!(issue_identity(&record, &people), Some(base));
        // The directory names a commenter: the document changes, and so does the identity.
        people.insert("plarsen".into(), "Pia Larsen".into());
        let named = issue_identity(&record, &people).unwrap();
        assert_ne!(named, base);
        // Another record: another identity.
        let mut other = issue();
        other.summary.push('!');
        let other = serde_json::to_vec(&other).unwrap();
        assert_ne!(issue_identity(&other, &people), Some(named));
        // Not an issue's JSON: no identity.
        assert_eq!(issue_identity(b"{\"comments\": 5}", &people), None);
    }
}
