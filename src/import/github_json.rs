//! GitHub issues (REST JSON) importer.
//!
//! Accepts what GitHub backups hold: a JSON array of issues (`GET /repos/O/R/issues` pages), one
//! issue object per file, or JSON lines. An issue may carry its comments and events embedded,
//! as python-github-backup writes them (`comment_data`, `event_data`). Pull requests appear in
//! the issues list with a `pull_request` key and are marked as such. Bodies are Markdown
//! (rendered later with GitHub's extensions). Keys are `{PREFIX}-{number}`, the prefix chosen
//! per repository ([`Source::github_prefix`]: the config's `key_prefixes`, else `key_prefix`,
//! else the repository's name in capitals), so one tracker can hold several repositories.
//! Pull requests are open, merged or closed; `state_reason`, `locked`, reactions, milestones,
//! label colours and every assignee are kept. Arrays are read one element at a time.

use std::collections::BTreeMap;
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
    #[serde(default)]
    id: Option<u64>,
}

#[derive(Deserialize)]
struct GhLabel {
    name: String,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct GhMilestone {
    title: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
    #[serde(default)]
    open_issues: Option<u64>,
    #[serde(default)]
    closed_issues: Option<u64>,
}

/// `reactions`: `total_count`, the counts by name, and the API's `url`.
type GhReactions = BTreeMap<String, serde_json::Value>;

#[derive(Deserialize)]
struct GhComment {
    id: u64,
    user: Option<GhUser>,
    created_at: Option<String>,
    updated_at: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    reactions: Option<GhReactions>,
    #[serde(default)]
    author_association: Option<String>,
}

#[derive(Deserialize)]
struct GhPull {
    #[serde(default)]
    merged_at: Option<String>,
}

#[derive(Deserialize)]
struct GhType {
    name: String,
}

#[derive(Deserialize)]
struct GhRename {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct GhEvent {
    #[serde(default)]
    id: Option<u64>,
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
    #[serde(default)]
    node_id: Option<String>,
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
    pull_request: Option<GhPull>,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    active_lock_reason: Option<String>,
    #[serde(default)]
    author_association: Option<String>,
    #[serde(default)]
    closed_by: Option<GhUser>,
    #[serde(default)]
    reactions: Option<GhReactions>,
    #[serde(default, rename = "type")]
    issue_type: Option<GhType>,
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
        id: u.id.map(|id| id.to_string()),
    }
}

/// The `owner/name` of an issue's repository, from its API or web address.
fn repository_of(gh: &GhIssue) -> Option<String> {
    let from_api = gh
        .repository_url
        .as_deref()
        .and_then(|u| u.split("/repos/").nth(1))
        .map(|r| r.trim_end_matches('/').to_string());
    let from_web = || {
        let u = gh.html_url.as_deref()?;
        let rest = u.split("://").nth(1)?;
        let mut parts = rest.split('/').skip(1);
        Some(format!("{}/{}", parts.next()?, parts.next()?))
    };
    from_api
        .or_else(from_web)
        .filter(|r| r.split('/').count() == 2 && !r.starts_with('/') && !r.ends_with('/'))
}

/// The non-zero reaction counts, by name (`+1`, `heart`…).
fn reactions(r: Option<GhReactions>) -> BTreeMap<String, u64> {
    r.into_iter()
        .flatten()
        .filter(|(k, _)| k != "url" && k != "total_count")
        .filter_map(|(k, v)| v.as_u64().filter(|&n| n > 0).map(|n| (k, n)))
        .collect()
}

fn convert(gh: GhIssue, source: &Source) -> Issue {
    let repo = repository_of(&gh);
    let prefix = match &repo {
        Some(r) => source.github_prefix(r),
        None => source.key_prefix.clone().unwrap_or_else(|| "GH".into()),
    };
    let closed = gh.state.as_deref() == Some("closed");
    let is_pull = gh.pull_request.is_some();
    let merged = gh.pull_request.as_ref().and_then(|p| time(&p.merged_at));
    let mut extra = BTreeMap::new();
    if gh.locked {
        extra.insert("locked".to_string(), "yes".to_string());
    }
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            extra.insert(k.to_string(), v);
        }
    };
    put("state_reason", gh.state_reason.clone());
    put("active_lock_reason", gh.active_lock_reason.clone());
    put("author_association", gh.author_association.clone());
    put("closed_by", gh.closed_by.as_ref().map(|u| u.login.clone()));
    put("draft", gh.draft.filter(|d| *d).map(|_| "yes".to_string()));
    if let Some(m) = &gh.milestone {
        put("milestone.state", m.state.clone());
        put("milestone.due_on", m.due_on.clone());
        put("milestone.description", m.description.clone());
        put("milestone.id", m.id.map(|n| n.to_string()));
        put("milestone.created_at", m.created_at.clone());
        put("milestone.updated_at", m.updated_at.clone());
        put("milestone.closed_at", m.closed_at.clone());
        put(
            "milestone.open_issues",
            m.open_issues.map(|n| n.to_string()),
        );
        put(
            "milestone.closed_issues",
            m.closed_issues.map(|n| n.to_string()),
        );
    }
    put("node_id", gh.node_id.clone());
    for l in &gh.labels {
        put(&format!("label.{}.id", l.name), l.id.map(|n| n.to_string()));
        put(
            &format!("label.{}.description", l.name),
            l.description.clone(),
        );
    }
    let history = gh
        .event_data
        .iter()
        // A timeline's `commented` events are the comments, kept as such.
        .filter(|e| e.event != "commented")
        .map(|e| {
            let (field, from, to) = match e.event.as_str() {
                "labeled" => ("labels", None, e.label.as_ref().map(|l| l.name.clone())),
                "unlabeled" => ("labels", e.label.as_ref().map(|l| l.name.clone()), None),
                "closed" => ("state", Some("open".into()), Some("closed".into())),
                "reopened" => ("state", Some("closed".into()), Some("open".into())),
                "merged" => ("state", Some("open".into()), Some("merged".into())),
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
                // Every other event (locked, pinned, head_ref_deleted…) is kept by name.
                other => (
                    "event",
                    None,
                    Some(match &e.commit_id {
                        Some(c) => format!("{other} {c}"),
                        None => other.to_string(),
                    }),
                ),
            };
            HistoryEntry {
                id: e.id.map(|i| i.to_string()),
                author: e.actor.as_ref().map(person),
                created: time(&e.created_at),
                changes: vec![FieldChange {
                    field: field.to_string(),
                    from,
                    to,
                }],
            }
        })
        .collect();
    let mut assignees: Vec<Person> = gh.assignees.iter().map(person).collect();
    if assignees.is_empty() {
        assignees.extend(gh.assignee.as_ref().map(person));
    }
    let (status, resolution) = match (is_pull, closed, merged.is_some()) {
        (true, _, true) => ("Merged".to_string(), Some("Merged".to_string())),
        (true, true, false) => ("Closed".to_string(), Some("Not merged".to_string())),
        (false, true, _) => (
            "Closed".to_string(),
            Some(capitalise(
                gh.state_reason.as_deref().unwrap_or("completed"),
            )),
        ),
        (_, false, _) => (
            gh.state
                .as_deref()
                .map(capitalise)
                .unwrap_or_else(|| "Open".into()),
            None,
        ),
    };
    let done = closed || merged.is_some();
    Issue {
        source: source.name.clone(),
        // GitHub ids are unique across repositories; without one, the repository and number
        // are, where the number alone is not.
        id: match (gh.id, &repo) {
            (Some(id), _) => id.to_string(),
            (None, Some(r)) => format!("{r}#{}", gh.number),
            (None, None) => gh.number.to_string(),
        },
        key: format!("{prefix}-{}", gh.number),
        project: Project {
            key: prefix,
            name: repo.clone().unwrap_or_default(),
            id: None,
        },
        repository: repo,
        url: gh.html_url,
        summary: gh.title,
        description: gh
            .body
            .filter(|b| !b.trim().is_empty())
            .map(|b| Text::new(Markup::Markdown, b.replace("\r\n", "\n"))),
        issue_type: Some(if is_pull {
            "Pull request".into()
        } else if let Some(t) = gh.issue_type {
            t.name
        } else {
            "Issue".into()
        }),
        pull_request: is_pull,
        status: Some(status),
        status_category: Some(if done { "done" } else { "new" }.into()),
        resolution,
        assignee: assignees.first().cloned(),
        assignees: if assignees.len() > 1 {
            assignees
        } else {
            Vec::new()
        },
        reporter: gh.user.as_ref().map(person),
        created: time(&gh.created_at),
        updated: time(&gh.updated_at),
        resolved: time(&gh.closed_at),
        merged,
        label_colors: gh
            .labels
            .iter()
            .filter_map(|l| {
                let c = l
                    .color
                    .as_deref()?
                    .trim_start_matches('#')
                    .to_ascii_lowercase();
                (c.len() == 6 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| (l.name.clone(), c))
            })
            .collect(),
        labels: gh.labels.into_iter().map(|l| l.name).collect(),
        fix_versions: gh.milestone.into_iter().map(|m| m.title).collect(),
        reactions: reactions(gh.reactions),
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
                reactions: reactions(c.reactions),
                author_association: c.author_association,
                ..Default::default()
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
            ..Default::default()
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
        assert_eq!(i.key, "FS-7");
        assert_eq!(i.repository.as_deref(), Some("acme/fs"));
        assert_eq!(i.label_colors["bug"], "d73a4a");
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
        assert_eq!(issues[1].status.as_deref(), Some("Open"));
    }

    fn read_with(text: &str, source: &Source) -> Vec<Issue> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issues.json");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        read_file(&path, source, &mut |r| {
            if let Record::Issue(i) = r {
                out.push(*i);
            }
            Ok(())
        })
        .unwrap();
        out
    }

    const TWO_REPOS: &str = r#"
{"repository_url":"https://api.github.com/repos/lustre/lustre-release","html_url":"https://github.com/lustre/lustre-release/issues/5","number":5,"title":"a","state":"open"}
{"html_url":"https://github.com/acme/fs/issues/5","number":5,"title":"b","state":"open"}
{"number":5,"title":"c","state":"open","repository_url":"https://api.github.com/repos/acme/other"}
"#;

    #[test]
    fn several_repositories_get_distinct_keys_and_ids() {
        let mut source = Source {
            name: "github".into(),
            ..Default::default()
        };
        let keys = |issues: Vec<Issue>| -> Vec<(String, String, String)> {
            issues
                .into_iter()
                .map(|i| (i.key, i.id, i.repository.unwrap_or_default()))
                .collect()
        };
        assert_eq!(
            keys(read_with(TWO_REPOS, &source)),
            [
                (
                    "LUSTRE_RELEASE-5".into(),
                    "lustre/lustre-release#5".into(),
                    "lustre/lustre-release".into()
                ),
                ("FS-5".into(), "acme/fs#5".into(), "acme/fs".into()),
                ("OTHER-5".into(), "acme/other#5".into(), "acme/other".into()),
            ]
        );
        source
            .key_prefixes
            .insert("lustre/lustre-release".into(), "LU_GH".into());
        source.key_prefix = Some("GH".into());
        let k: Vec<String> = read_with(TWO_REPOS, &source)
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(k, ["LU_GH-5", "GH-5", "GH-5"]);
    }

    #[test]
    fn pull_requests_are_open_merged_or_closed_and_details_are_kept() {
        let text = r#"
{"id":1,"number":1,"title":"merged","state":"closed","html_url":"https://github.com/a/b/pull/1","pull_request":{"merged_at":"2022-01-02T00:00:00Z"},"locked":true,"active_lock_reason":"resolved","reactions":{"url":"x","total_count":3,"+1":2,"-1":0,"heart":1},"author_association":"MEMBER","assignees":[{"login":"x"},{"login":"y"}],"milestone":{"title":"v1","state":"closed","due_on":null},"comment_data":[{"id":9,"body":"hi","reactions":{"total_count":1,"rocket":1}}],"event_data":[{"id":77,"event":"head_ref_deleted","created_at":"2022-01-02T00:00:00Z"}]}
{"id":2,"number":2,"title":"closed","state":"closed","html_url":"https://github.com/a/b/pull/2","pull_request":{"merged_at":null}}
{"id":3,"number":3,"title":"dup","state":"closed","state_reason":"duplicate","html_url":"https://github.com/a/b/issues/3"}
{"id":4,"number":4,"title":"np","state":"closed","state_reason":"not_planned","html_url":"https://github.com/a/b/issues/4"}
"#;
        let source = Source {
            name: "github".into(),
            ..Default::default()
        };
        let issues = read_with(text, &source);
        let status: Vec<(Option<&str>, Option<&str>)> = issues
            .iter()
            .map(|i| (i.status.as_deref(), i.resolution.as_deref()))
            .collect();
        assert_eq!(
            status,
            [
                (Some("Merged"), Some("Merged")),
                (Some("Closed"), Some("Not merged")),
                (Some("Closed"), Some("Duplicate")),
                (Some("Closed"), Some("Not planned")),
            ]
        );
        let m = &issues[0];
        assert!(m.merged.is_some());
        assert_eq!(m.extra["locked"], "yes");
        assert_eq!(m.extra["active_lock_reason"], "resolved");
        assert_eq!(m.extra["milestone.state"], "closed");
        assert_eq!(
            m.reactions,
            BTreeMap::from([("+1".to_string(), 2), ("heart".to_string(), 1)])
        );
        assert_eq!(m.assignees.len(), 2);
        assert_eq!(m.comments[0].reactions["rocket"], 1);
        assert_eq!(m.history[0].id.as_deref(), Some("77"));
        assert_eq!(
            m.history[0].changes[0].to.as_deref(),
            Some("head_ref_deleted")
        );
        assert_eq!(issues[2].extra["state_reason"], "duplicate");
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
