//! GitHub issues (REST JSON) importer.
//!
//! Accepts what GitHub backups hold: a JSON array of issues (`GET /repos/O/R/issues` pages), one
//! issue object per file, or JSON lines. An issue may carry its comments and events embedded,
//! as python-github-backup writes them (`comment_data`, `event_data`). Pull requests appear in
//! the issues list with a `pull_request` key and are marked as such. Bodies are Markdown
//! (rendered later with GitHub's extensions). Keys are `{key_prefix}-{number}` (prefix `GH`
//! unless configured). Arrays are read one element at a time, never as a whole.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Record, Source};
use crate::error::{Error, Result};
use crate::model::{
    Comment, FieldChange, HistoryEntry, Issue, Markup, Person, Project, Text, Timestamp,
};

/// Whether the start of a file looks like GitHub issues JSON.
pub fn sniff(head: &str) -> bool {
    head.trim_start().starts_with(['[', '{'])
        && head.contains("\"number\"")
        && (head.contains("\"html_url\"") || head.contains("\"repository_url\""))
        && head.contains("\"state\"")
}

#[derive(Deserialize)]
struct GhUser {
    login: String,
}

#[derive(Deserialize)]
struct GhLabel {
    name: String,
}

#[derive(Deserialize)]
struct GhMilestone {
    title: String,
}

#[derive(Deserialize)]
struct GhComment {
    id: u64,
    user: Option<GhUser>,
    created_at: Option<String>,
    updated_at: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct GhRename {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct GhEvent {
    event: String,
    actor: Option<GhUser>,
    created_at: Option<String>,
    label: Option<GhLabel>,
    commit_id: Option<String>,
    rename: Option<GhRename>,
    assignee: Option<GhUser>,
    milestone: Option<GhMilestone>,
}

#[derive(Deserialize)]
struct GhIssue {
    id: Option<u64>,
    number: u64,
    title: String,
    user: Option<GhUser>,
    #[serde(default)]
    labels: Vec<GhLabel>,
    state: Option<String>,
    state_reason: Option<String>,
    #[serde(default)]
    locked: bool,
    #[serde(default)]
    assignees: Vec<GhUser>,
    assignee: Option<GhUser>,
    milestone: Option<GhMilestone>,
    created_at: Option<String>,
    updated_at: Option<String>,
    closed_at: Option<String>,
    body: Option<String>,
    html_url: Option<String>,
    repository_url: Option<String>,
    pull_request: Option<serde_json::Value>,
    #[serde(default)]
    comment_data: Vec<GhComment>,
    #[serde(default)]
    event_data: Vec<GhEvent>,
}

/// Reads one file of GitHub issues.
pub fn read_file(
    path: &Path,
    source: &Source,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let bad = |e: serde_json::Error| Error::Parse {
        path: path.to_path_buf(),
        line: e.line() as u64,
        column: e.column() as u64,
        key: None,
        message: format!("not GitHub issues JSON: {e}"),
    };
    match first {
        None => Err(Error::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            key: None,
            message: "empty file".into(),
        }),
        Some(b'[') => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            let mut failure = None;
            let seed = EachIssue {
                f: &mut |issue: GhIssue| {
                    if failure.is_none() {
                        if let Err(e) = emit(Record::Issue(Box::new(convert(issue, source)))) {
                            failure = Some(e);
                        }
                    }
                },
            };
            seed.deserialize(&mut de).map_err(&bad)?;
            de.end().map_err(&bad)?;
            failure.map_or(Ok(()), Err)
        }
        Some(_) => {
            // One object, or JSON lines: a stream of objects.
            let stream = serde_json::Deserializer::from_reader(reader).into_iter::<GhIssue>();
            for item in stream {
                let issue = item.map_err(&bad)?;
                emit(Record::Issue(Box::new(convert(issue, source))))?;
            }
            Ok(())
        }
    }
}

/// Visits a JSON array one issue at a time.
struct EachIssue<'f> {
    f: &'f mut dyn FnMut(GhIssue),
}

impl<'de> DeserializeSeed<'de> for EachIssue<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EachIssue<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of GitHub issues")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(issue) = seq.next_element::<GhIssue>()? {
            (self.f)(issue);
        }
        Ok(())
    }
}

fn time(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(Timestamp)
}

fn person(u: &GhUser) -> Person {
    Person {
        login: u.login.clone(),
        display: u.login.clone(),
        email: None,
    }
}

fn convert(gh: GhIssue, source: &Source) -> Issue {
    let prefix = source.key_prefix.clone().unwrap_or_else(|| "GH".into());
    let repo = gh
        .repository_url
        .as_deref()
        .and_then(|u| u.split("/repos/").nth(1))
        .unwrap_or("")
        .to_string();
    let closed = gh.state.as_deref() == Some("closed");
    let mut extra = std::collections::BTreeMap::new();
    if gh.locked {
        extra.insert("Locked".to_string(), "yes".to_string());
    }
    let history = gh
        .event_data
        .iter()
        .filter_map(|e| {
            let (field, from, to) = match e.event.as_str() {
                "labeled" => ("labels", None, e.label.as_ref().map(|l| l.name.clone())),
                "unlabeled" => ("labels", e.label.as_ref().map(|l| l.name.clone()), None),
                "closed" => ("state", Some("open".into()), Some("closed".into())),
                "reopened" => ("state", Some("closed".into()), Some("open".into())),
                "renamed" => (
                    "title",
                    e.rename.as_ref().map(|r| r.from.clone()),
                    e.rename.as_ref().map(|r| r.to.clone()),
                ),
                "assigned" => (
                    "assignee",
                    None,
                    e.assignee.as_ref().map(|u| u.login.clone()),
                ),
                "unassigned" => (
                    "assignee",
                    e.assignee.as_ref().map(|u| u.login.clone()),
                    None,
                ),
                "milestoned" => (
                    "milestone",
                    None,
                    e.milestone.as_ref().map(|m| m.title.clone()),
                ),
                "demilestoned" => (
                    "milestone",
                    e.milestone.as_ref().map(|m| m.title.clone()),
                    None,
                ),
                "referenced" => ("commit", None, e.commit_id.clone()),
                _ => return None,
            };
            Some(HistoryEntry {
                author: e.actor.as_ref().map(person),
                created: time(&e.created_at),
                changes: vec![FieldChange {
                    field: field.to_string(),
                    from,
                    to,
                }],
            })
        })
        .collect();
    let assignee = gh.assignees.first().or(gh.assignee.as_ref()).map(person);
    Issue {
        source: source.name.clone(),
        id: gh.id.unwrap_or(gh.number).to_string(),
        key: format!("{prefix}-{}", gh.number),
        project: Project {
            key: prefix,
            name: repo,
            id: None,
        },
        url: gh.html_url,
        summary: gh.title,
        description: gh
            .body
            .filter(|b| !b.trim().is_empty())
            .map(|b| Text::new(Markup::Markdown, b.replace("\r\n", "\n"))),
        issue_type: Some(if gh.pull_request.is_some() {
            "Pull request".into()
        } else {
            "Issue".into()
        }),
        pull_request: gh.pull_request.is_some(),
        status: gh.state.clone().map(|s| capitalise(&s)),
        status_category: Some(if closed { "done" } else { "new" }.into()),
        resolution: if closed {
            Some(capitalise(
                gh.state_reason.as_deref().unwrap_or("completed"),
            ))
        } else {
            None
        },
        assignee,
        reporter: gh.user.as_ref().map(person),
        created: time(&gh.created_at),
        updated: time(&gh.updated_at),
        resolved: time(&gh.closed_at),
        labels: gh.labels.into_iter().map(|l| l.name).collect(),
        fix_versions: gh.milestone.into_iter().map(|m| m.title).collect(),
        comments: gh
            .comment_data
            .into_iter()
            .map(|c| Comment {
                id: c.id.to_string(),
                number: None,
                author: c.user.as_ref().map(person),
                created: time(&c.created_at),
                updated: time(&c.updated_at),
                body: Text::new(
                    Markup::Markdown,
                    c.body.unwrap_or_default().replace("\r\n", "\n"),
                ),
                visibility: Default::default(),
            })
            .collect(),
        history,
        extra,
        ..Default::default()
    }
}

fn capitalise(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUES: &str = r#"[
 {"url":"https://api.github.com/repos/acme/fs/issues/7","repository_url":"https://api.github.com/repos/acme/fs","html_url":"https://github.com/acme/fs/issues/7","id":1001,"number":7,"title":"Crash in ldlm_lock_cancel()","user":{"login":"alice"},"labels":[{"name":"bug","color":"d73a4a"}],"state":"closed","state_reason":"completed","locked":false,"assignees":[{"login":"bob"}],"milestone":{"title":"v2.15"},"comments":1,"created_at":"2022-03-01T10:00:00Z","updated_at":"2022-03-05T10:00:00Z","closed_at":"2022-03-05T10:00:00Z","author_association":"NONE","body":"Steps:\r\n\r\n1. mount\r\n2. **crash**","comment_data":[{"id":55,"user":{"login":"bob"},"created_at":"2022-03-02T10:00:00Z","updated_at":"2022-03-02T10:00:00Z","body":"Fixed in abc1234"}],"event_data":[{"event":"labeled","actor":{"login":"bob"},"created_at":"2022-03-01T11:00:00Z","label":{"name":"bug","color":"x"}},{"event":"closed","actor":{"login":"bob"},"created_at":"2022-03-05T10:00:00Z","commit_id":null}]},
 {"repository_url":"https://api.github.com/repos/acme/fs","html_url":"https://github.com/acme/fs/pull/8","id":1002,"number":8,"title":"Fix it","user":{"login":"bob"},"labels":[],"state":"open","locked":false,"assignees":[],"milestone":null,"created_at":"2022-03-03T10:00:00Z","updated_at":"2022-03-03T10:00:00Z","closed_at":null,"body":null,"pull_request":{"url":"https://api.github.com/repos/acme/fs/pulls/8"}}
]"#;

    fn read(text: &str) -> Vec<Issue> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issues.json");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        let source = Source {
            name: "github".into(),
            key_prefix: None,
        };
        read_file(&path, &source, &mut |r| {
            if let Record::Issue(i) = r {
                out.push(*i);
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn issues_pull_requests_comments_and_events() {
        assert!(sniff(ISSUES));
        let issues = read(ISSUES);
        assert_eq!(issues.len(), 2);
        let i = &issues[0];
        assert_eq!(i.key, "GH-7");
        assert_eq!(i.project.name, "acme/fs");
        assert_eq!(i.status.as_deref(), Some("Closed"));
        assert_eq!(i.status_category.as_deref(), Some("done"));
        assert_eq!(i.resolution.as_deref(), Some("Completed"));
        assert_eq!(i.assignee.as_ref().unwrap().login, "bob");
        assert_eq!(i.fix_versions, ["v2.15"]);
        assert_eq!(i.description.as_ref().unwrap().markup, Markup::Markdown);
        assert!(!i.description.as_ref().unwrap().content.contains('\r'));
        assert_eq!(i.comments.len(), 1);
        assert_eq!(i.history.len(), 2);
        assert!(!i.pull_request);
        assert!(issues[1].pull_request);
        assert_eq!(issues[1].issue_type.as_deref(), Some("Pull request"));
    }

    #[test]
    fn json_lines_are_read_too() {
        let lines = ISSUES
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .replace("},\n {\"repository_url", "}\n{\"repository_url");
        assert_eq!(read(&lines).len(), 2);
    }
}
