//! Link: what every page needs to know about the rest of the archive.
//!
//! Import leaves issues in the store; rendering one page must not load the others. This stage
//! makes one pass over the store and keeps, in memory, a small summary per issue (key, summary,
//! status, the facets listings group by) and the indexes that let any page turn a key into a
//! link: the key → summary map, the keys dropped at import (never linked, never named with
//! their summary), and the people directory that gives comment authors their display names.
//! The same pass gathers who did what ([`people`]) for the person pages.

pub mod people;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;

use serde::Serialize;
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::config::Config;
use crate::error::Result;
use crate::import::{Imported, People};
use crate::keys::issue_path;
use crate::model::{Issue, Person, Timestamp};
use crate::observe::count;
use crate::source::history::{CommitInfo, History};
use crate::source::shipped::subsystem;
use crate::store::{Skeleton, Store};
use crate::text::html::Resolve;

/// A name shared by many issues (a status, a component, a version), stored once: one pointer
/// (8 bytes, `Option<Name>` too) where `Arc<str>` takes two.
pub type Name = arcstr::ArcStr;

/// What listings, the home page and cross-links need to know about one issue.
///
/// A million of these stay in memory for the whole build, so repeated names are shared
/// ([`Name`], a pointer each), lists are boxed slices (no spare capacity), and what can be
/// derived from the key (the page path) is not stored: 208 bytes and the texts, where
/// `String`s, `Arc<str>`s and `Vec`s took 312.
#[derive(Clone, Debug, Serialize)]
pub struct IssueSummary {
    /// `LU-1234`
    pub key: Box<str>,
    /// Project key.
    pub project: Name,
    /// One-line summary.
    pub summary: Box<str>,
    /// Workflow status.
    pub status: Option<Name>,
    /// `new`, `indeterminate` or `done`.
    pub status_category: Option<Name>,
    /// Resolution.
    pub resolution: Option<Name>,
    /// Issue type.
    pub issue_type: Option<Name>,
    /// Priority.
    pub priority: Option<Name>,
    /// Components.
    pub components: Box<[Name]>,
    /// Fix versions.
    pub fix_versions: Box<[Name]>,
    /// Affects versions.
    pub versions: Box<[Name]>,
    /// Created.
    pub created: Option<Timestamp>,
    /// Last updated.
    pub updated: Option<Timestamp>,
    /// Resolved.
    pub resolved: Option<Timestamp>,
    /// Number of published comments.
    pub comments: u32,
    /// The assignee's display name (resolved through the people directory), for the listings'
    /// column and filter.
    pub assignee: Option<Name>,
    /// Votes, for the listings' column.
    pub votes: Option<u32>,
    /// The tracker the issue was imported from (its `source`), for the backup to know which
    /// tracker's archive file holds the issue without reading it.
    #[serde(skip)]
    pub source: Name,
}

#[cfg(test)]
impl IssueSummary {
    /// A summary with its key, its project (the key's prefix) and its tracker, and nothing
    /// else: the start of the summaries unit tests need.
    pub(crate) fn bare(key: &str, source: &str) -> IssueSummary {
        IssueSummary {
            key: key.into(),
            project: Name::from(key.split('-').next().unwrap_or_default()),
            summary: Box::default(),
            status: None,
            status_category: None,
            resolution: None,
            issue_type: None,
            priority: None,
            components: Box::default(),
            fix_versions: Box::default(),
            versions: Box::default(),
            created: None,
            updated: None,
            resolved: None,
            comments: 0,
            assignee: None,
            votes: None,
            source: Name::from(source),
        }
    }
}

/// Gives each distinct name one shared allocation.
#[derive(Default)]
struct Names(HashSet<Name>);

impl Names {
    fn get(&mut self, name: &str) -> Name {
        if let Some(n) = self.0.get(name) {
            return n.clone();
        }
        let n = Name::from(name);
        self.0.insert(n.clone());
        n
    }
    fn opt(&mut self, name: &Option<String>) -> Option<Name> {
        name.as_deref().map(|n| self.get(n))
    }
    fn all(&mut self, names: &[String]) -> Box<[Name]> {
        names.iter().map(|n| self.get(n)).collect()
    }
}

impl IssueSummary {
    fn of(issue: &Issue, names: &mut Names) -> Self {
        IssueSummary {
            key: issue.key.as_str().into(),
            project: names.get(&issue.project.key),
            summary: issue.summary.as_str().into(),
            status: names.opt(&issue.status),
            status_category: names.opt(&issue.status_category),
            resolution: names.opt(&issue.resolution),
            issue_type: names.opt(&issue.issue_type),
            priority: names.opt(&issue.priority),
            components: names.all(&issue.components),
            fix_versions: names.all(&issue.fix_versions),
            versions: names.all(&issue.versions),
            created: issue.created,
            updated: issue.updated,
            resolved: issue.resolved,
            comments: u32::try_from(issue.comments.len()).unwrap_or(u32::MAX),
            assignee: None,
            votes: issue.votes,
            source: names.get(&issue.source),
        }
    }

    /// Site-relative page path without extension (`issues/LU/1/LU-1234`).
    pub fn path(&self) -> String {
        issue_path(&self.key)
    }

    /// Whether the issue counts as open (its status category is not `done`).
    pub fn is_open(&self) -> bool {
        self.status_category.as_deref() != Some("done") && self.resolution.is_none()
    }
}

/// A project as the home page and listings show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProjectSummary {
    /// Key.
    pub key: String,
    /// Name: the configuration's (`[project_names]`), else the export's, else empty.
    pub name: String,
    /// Issues published.
    pub issues: usize,
    /// Of which open.
    pub open: usize,
}

/// The linked archive: the store plus the in-memory indexes every page uses.
pub struct Linked {
    /// The archive store, for loading whole issues one at a time.
    pub store: Store,
    /// Login → display name.
    pub people: People,
    /// Everyone named in the issues and the history, with what they did ([`people`]).
    pub persons: people::PersonIndex,
    /// Every published issue, in key order ([`crate::keys::compare_keys`]).
    pub issues: Vec<IssueSummary>,
    /// Where each of `issues` is, by key: what [`Linked::issue`] looks up.
    by_key: KeyIndex,
    /// Per issue (in the order of `issues`), the digest of the issue as published: its
    /// stored record and what preparing it decided, as [`Linked::issues_with_digests`] gives
    /// it. A stage that made something of an issue alone can tell it unchanged by this.
    pub published: Vec<u128>,
    /// Projects with published issues, by key.
    pub projects: BTreeMap<String, ProjectSummary>,
    /// Keys dropped at import: links to them are removed, mentions stay plain text.
    pub dropped: HashSet<String>,
    /// Which issues mention which in their texts: what [`Linked::mentioned_by`] answers.
    mentions: Mentions,
    /// The source history, with its references to issues resolved (empty without
    /// repositories): resolved against the archive when linked.
    pub history: History,
    /// The paths more than one commit of the history changed (either side of a rename), each
    /// with those commits (positions in the history, newest first): each has a history page.
    /// Gathered in link's pass over the commit records, so that render does not read every
    /// commit once more to find them.
    pub file_histories: HashMap<String, Vec<u32>>,
}

impl Linked {
    /// Resolves the history's references against the archive and keeps it: references to
    /// published issues link both ways, generic `PROJ-123` matches count only for projects in
    /// the archive (or in the config's `projects`), the rest are listed unresolved.
    fn attach_history(&mut self, mut history: History, config: &Config) {
        let projects: HashSet<&str> = self
            .projects
            .keys()
            .map(String::as_str)
            .chain(config.projects.iter().flatten().map(String::as_str))
            .collect();
        history.link(|k| self.issue(k).is_some(), |p| projects.contains(p));
        self.history = history;
    }

    /// The component a commit belongs to in release notes: the subsystem its subject names
    /// (`LU-1234 ldlm: …` → `ldlm`), else the first component of the first published issue it
    /// cites, lower-cased; `None` when neither says.
    pub fn commit_component(&self, commit: &CommitInfo) -> Option<String> {
        subsystem(&commit.subject).or_else(|| {
            commit
                .references
                .iter()
                .filter_map(|k| self.issue(k))
                .find_map(|s| s.components.first())
                .map(|c| c.to_lowercase())
        })
    }

    /// The summary of a published issue.
    pub fn issue(&self, key: &str) -> Option<&IssueSummary> {
        self.by_key.find(&self.issues, key).map(|i| &self.issues[i])
    }

    /// The published issues whose texts mention `key` (not itself), in key order, each once.
    pub fn mentioned_by(&self, key: &str) -> impl Iterator<Item = &str> + '_ {
        let at = self.by_key.find(&self.issues, key).map(|i| i as u32);
        let of = at.map_or(&[][..], |target| self.mentions.of(target));
        of.iter().map(|&(_, from)| &*self.issues[from as usize].key)
    }

    /// The display name of a person, resolving logins and `JIRAUSER…` keys through the people
    /// directory.
    pub fn display_name(&self, person: &Person) -> String {
        people::resolved_name(&self.people, person)
    }

    /// One line for the build's progress: issues, projects, cross-references, commits.
    pub fn summary(&self) -> String {
        let refs = self.history.stats;
        let mut summary = format!(
            "{} in {}, {} cross-referenced",
            count(self.issues.len() as u64, "issue"),
            count(self.projects.len() as u64, "project"),
            self.mentions.targets
        );
        if !self.history.commits.is_empty() {
            summary.push_str(&format!(
                "; {} citing {}, {} ({}) not in the archive",
                count(refs.linked_commits as u64, "commit"),
                count(refs.cited_issues as u64, "issue"),
                count(refs.unresolved as u64, "reference"),
                count(refs.unresolved_keys as u64, "key")
            ));
        }
        summary
    }

    /// The issues of `keys` from the store, as published (see [`Linked::prepare`]).
    pub fn issues(&self, keys: &[impl AsRef<str>]) -> Result<Vec<Issue>> {
        let mut issues = self.store.issues(keys)?;
        for issue in &mut issues {
            self.prepare(issue, &mut Xxh3::new());
        }
        Ok(issues)
    }

    /// [`Linked::issues`], each with a digest of everything the published issue is made of:
    /// its stored record and what [`Linked::prepare`] put in or took out. Equal digests mean
    /// equal published issues, so what is made of the issue alone (its JSON file) can be
    /// known unchanged without being made.
    pub fn issues_with_digests(&self, keys: &[impl AsRef<str>]) -> Result<Vec<(Issue, u128)>> {
        self.store.issue_records_by_key(keys, |record| {
            published(&self.store, &self.people, &self.dropped, record)
        })
    }

    /// Calls `f` with every issue of the store in key order, as published.
    pub fn for_each_issue(&self, mut f: impl FnMut(Issue) -> Result<()>) -> Result<()> {
        self.store.for_each_issue(|mut issue| {
            self.prepare(&mut issue, &mut Xxh3::new());
            f(issue)
        })
    }

    /// The issue in a record of [`Store::for_each_issue_record`], as published (see
    /// [`Linked::prepare`]).
    pub fn issue_from_record(&self, record: &[u8]) -> Result<Issue> {
        let mut issue = self.store.decode_issue(record)?;
        self.prepare(&mut issue, &mut Xxh3::new());
        Ok(issue)
    }

    /// Makes an issue ready for publishing: display names resolved, and links, sub-tasks and a
    /// parent that point at dropped issues removed. Everything it decides (each name it puts
    /// in, each key it keeps) goes into `made`, so that the stored record and `made` together
    /// tell the published issue ([`Linked::issues_with_digests`]).
    fn prepare(&self, issue: &mut Issue, made: &mut Xxh3) {
        prepare(&self.people, &self.dropped, issue, made);
    }
}

/// [`Linked::prepare`], with the people directory and the dropped keys it resolves against.
fn prepare(people: &People, dropped: &HashSet<String>, issue: &mut Issue, made: &mut Xxh3) {
    let mut resolve = |p: &mut Person| {
        if p.display.is_empty() {
            p.display = people::resolved_name(people, p);
        }
        made.write_u64(p.display.len() as u64);
        made.write(p.display.as_bytes());
    };
    issue.people_mut().for_each(&mut resolve);
    let mut kept = |key: &String| {
        let keep = !dropped.contains(key);
        made.write_u8(keep as u8);
        keep
    };
    issue.links.retain(|l| kept(&l.target));
    issue.subtasks.retain(&mut kept);
    if issue.parent.as_ref().is_some_and(|p| !kept(p)) {
        issue.parent = None;
    }
}

/// The issue of a stored `record`, prepared for publishing, and its digest as published (see
/// [`Linked::issues_with_digests`]).
fn published(
    store: &Store,
    people: &People,
    dropped: &HashSet<String>,
    record: &[u8],
) -> Result<(Issue, u128)> {
    let mut issue = store.decode_issue(record)?;
    let digest = prepared(people, dropped, &mut issue, xxh3_128(record));
    Ok((issue, digest))
}

/// Prepares `issue`, whose stored record has the digest `record`, and says its digest as
/// published: what [`published`] gives for the record, and what link's pass gives for the
/// record's [`Skeleton`] (which names the same people and keys in the same places).
fn prepared(people: &People, dropped: &HashSet<String>, issue: &mut Issue, record: u128) -> u128 {
    let mut h = Xxh3::new();
    h.write_u128(record);
    prepare(people, dropped, issue, &mut h);
    h.digest128()
}

/// Builds the in-memory indexes from the store in one streaming pass.
pub fn link(imported: Imported, history: History, config: &Config) -> Result<Linked> {
    let (mut linked, mut gather) = link_issues(imported)?;
    for (key, name) in &config.project_names {
        if let Some(p) = linked.projects.get_mut(key) {
            p.name.clone_from(name);
        }
    }
    linked.attach_history(history, config);
    if !linked.history.commits.is_empty() {
        let h = &linked.history;
        let store = &linked.store;
        let mut paths: HashMap<String, Vec<u32>> = HashMap::new();
        store.map_commit_records(
            |record| store.decode_commit(record),
            |c| {
                if let Some(i) = h.index_of(&c.id) {
                    gather.commit(i, &c);
                    for s in c.diffstat {
                        if let Some(old) = s.old_path.filter(|o| *o != s.path) {
                            paths.entry(old).or_default().push(i);
                        }
                        paths.entry(s.path).or_default().push(i);
                    }
                }
                Ok(())
            },
        )?;
        paths.retain(|_, commits| {
            commits.sort_unstable();
            commits.dedup();
            commits.len() > 1
        });
        linked.file_histories = paths;
    }
    linked.persons = gather.finish();
    Ok(linked)
}

/// The issue-side indexes: summaries, projects, mentions, display names; and who did what to
/// the issues, for the people pages to complete with the history.
fn link_issues(imported: Imported) -> Result<(Linked, people::Gather)> {
    let Imported { store, people, .. } = imported;
    let dropped: HashSet<String> = store.dropped_keys()?.into_iter().collect();
    // Made to size (every stored issue is published): grown by doubling, the summaries took
    // up to twice their bytes at link's peak.
    let stored = usize::try_from(store.issue_count()?).unwrap_or_default();
    let mut issues = Vec::with_capacity(stored);
    let mut projects: BTreeMap<String, ProjectSummary> = BTreeMap::new();
    let mut mentions: Vec<(String, u32)> = Vec::new();
    let mut names = Names::default();
    let mut gather = people::Gather::default();
    let mut published_digests = Vec::with_capacity(stored);
    // The pass reads the issues' skeletons (their records without the texts: see
    // `Skeleton`), not their records. Decoding is most of it: the pool decodes and prepares
    // (as pages will show the issue: what is folded here reads nothing preparing changes)
    // while this thread folds, in key order.
    let decode = |bytes: &[u8]| {
        let Skeleton {
            record,
            mentions,
            mut issue,
        } = Skeleton::decode(&store, bytes)?;
        let digest = prepared(&people, &dropped, &mut issue, record);
        lighten(&mut issue);
        Ok((issue, mentions, digest))
    };
    store.map_issue_skeletons(decode, |(issue, mentioned, digest)| {
        published_digests.push(digest);
        gather.issue(issues.len() as u32, &issue, &people);
        let mut summary = IssueSummary::of(&issue, &mut names);
        if let Some(p) = &issue.assignee {
            summary.assignee = Some(names.get(people::resolved(&people, &p.login, &p.display)));
        }
        if !projects.contains_key(&*summary.project) {
            let key = summary.project.to_string();
            let project = ProjectSummary {
                key: key.clone(),
                ..Default::default()
            };
            projects.insert(key, project);
        }
        let p = projects
            .get_mut(&*summary.project)
            .expect("the project was inserted");
        if p.name.is_empty() {
            p.name.clone_from(&issue.project.name);
        }
        p.issues += 1;
        if summary.is_open() {
            p.open += 1;
        }
        for target in mentioned {
            if target != issue.key {
                mentions.push((target, issues.len() as u32));
            }
        }
        issues.push(summary);
        Ok(())
    })?;
    debug_assert!(issues
        .windows(2)
        .all(|w| crate::keys::compare_keys(&w[0].key, &w[1].key).is_lt()));
    let by_key = KeyIndex::new(&issues);
    let mentions = Mentions::new(
        mentions
            .into_iter()
            .filter_map(|(target, from)| Some((by_key.find(&issues, &target)? as u32, from)))
            .collect(),
    );
    let linked = Linked {
        store,
        people,
        persons: Default::default(),
        issues,
        by_key,
        published: published_digests,
        projects,
        dropped,
        mentions,
        history: Default::default(),
        file_histories: HashMap::new(),
    };
    Ok((linked, gather))
}

/// Which published issues mention which, as pairs of positions in [`Linked::issues`] (the one
/// mentioned, the one whose text mentions it), sorted: 8 bytes a mention, where a map of keys
/// to lists of keys took 80 bytes an issue. Positions follow the keys' order, so each issue's
/// list comes out in key order.
#[derive(Debug, Default)]
struct Mentions {
    pairs: Vec<(u32, u32)>,
    /// How many issues are mentioned.
    targets: usize,
}

impl Mentions {
    fn new(mut pairs: Vec<(u32, u32)>) -> Mentions {
        pairs.sort_unstable();
        pairs.dedup();
        pairs.shrink_to_fit();
        let targets = pairs.chunk_by(|a, b| a.0 == b.0).count();
        Mentions { pairs, targets }
    }

    /// The pairs whose first is `target`.
    fn of(&self, target: u32) -> &[(u32, u32)] {
        let start = self.pairs.partition_point(|p| p.0 < target);
        let len = self.pairs[start..].partition_point(|p| p.0 == target);
        &self.pairs[start..start + len]
    }
}

/// Takes out of a decoded issue what link's fold does not read (its texts, history,
/// attachments, fields and worklogs), so that they are dropped on the pool thread that made
/// them: dropping whole issues was a third of the folding thread's time.
fn lighten(issue: &mut Issue) {
    issue.drop_texts();
    issue.history = Vec::new();
    issue.attachments = Vec::new();
    issue.custom_fields = Vec::new();
    issue.worklogs = Vec::new();
    issue.extra = Default::default();
    issue.links = Vec::new();
    issue.version_details = Default::default();
    issue.label_colors = Default::default();
}

/// The issues' positions by key, each held as a number in a table hashed by key: every link,
/// mention and reference of every page is looked up (a 100,000-issue rebuild asks millions
/// of times), and a binary search by [`crate::keys::compare_keys`] splits two keys per step.
struct KeyIndex(hashbrown::HashTable<u32>);

impl KeyIndex {
    fn new(issues: &[IssueSummary]) -> KeyIndex {
        let mut table = hashbrown::HashTable::with_capacity(issues.len());
        for (i, s) in issues.iter().enumerate() {
            table.insert_unique(key_hash(&s.key), i as u32, |&j| {
                key_hash(&issues[j as usize].key)
            });
        }
        KeyIndex(table)
    }

    /// The position of `key` in `issues`, the issues this index was made of.
    fn find(&self, issues: &[IssueSummary], key: &str) -> Option<usize> {
        self.0
            .find(key_hash(key), |&j| &*issues[j as usize].key == key)
            .map(|&j| j as usize)
    }
}

fn key_hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// Keys an issue's text mentions (description, environment, comments).
impl Resolve for Linked {
    fn issue_path(&self, key: &str) -> Option<String> {
        self.issue(key).map(|s| s.path())
    }

    fn commit_path(&self, hex: &str) -> Option<String> {
        if !crate::keys::looks_like_commit_id(hex) {
            return None;
        }
        let i = self.history.resolve_prefix(hex)?;
        Some(crate::keys::commit_path(
            &self.history.commits[i as usize].id,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Comment, IssueLink};

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
            ],
            links: vec![IssueLink {
                target: "LU-3".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// An issue with every field link reads, and people in every place preparing resolves.
    fn whole_issue() -> Issue {
        use crate::model::{Attachment, HistoryEntry, Markup, Project, Text, Timestamp, Worklog};
        let t = |s: &str| Timestamp(chrono::DateTime::parse_from_rfc3339(s).unwrap());
        let mut whole = issue();
        whole.project = Project {
            key: "LU".into(),
            name: "Lustre".into(),
            ..Default::default()
        };
        whole.source = "jira".into();
        whole.description = Some(Text::new(Markup::Plain, "see LU-3 and LU-9"));
        whole.status = Some("Resolved".into());
        whole.status_category = Some("done".into());
        whole.resolution = Some("Fixed".into());
        whole.issue_type = Some("Bug".into());
        whole.priority = Some("Major".into());
        whole.components = vec!["ldlm".into()];
        whole.fix_versions = vec!["Lustre 2.16.0".into()];
        whole.versions = vec!["Lustre 2.15.0".into()];
        whole.created = Some(t("2021-03-04T05:06:07+00:00"));
        whole.updated = Some(t("2022-03-04T05:06:07+00:00"));
        whole.resolved = Some(t("2022-03-04T05:06:07+00:00"));
        whole.votes = Some(3);
        whole.reporter = Some(person("jroe", "Jane Roe"));
        whole.assignee = Some(person("plarsen", ""));
        whole.assignees = vec![person("wliang", "Wei Liang")];
        whole.comments[0].created = Some(t("2023-01-01T00:00:00+00:00"));
        whole.comments[0].body = Text::new(Markup::Plain, "LU-11 again");
        whole.history = vec![HistoryEntry {
            author: Some(person("hwu", "")),
            ..Default::default()
        }];
        whole.attachments = vec![Attachment {
            author: Some(person("akim", "")),
            ..Default::default()
        }];
        whole.worklogs = vec![Worklog {
            author: Some(person("wlog", "")),
            comment: Some(Text::new(Markup::Plain, "LU-12 took a day")),
            ..Default::default()
        }];
        whole.parent = Some("LU-2".into());
        whole.subtasks = vec!["LU-8".into(), "LU-9".into()];
        whole
    }

    #[test]
    fn mentions_are_sorted_counted_and_each_pair_kept_once() {
        let mentions = Mentions::new(vec![(2, 5), (0, 3), (2, 1), (2, 5), (0, 3), (4, 0)]);
        assert_eq!(mentions.pairs, [(0, 3), (2, 1), (2, 5), (4, 0)]);
        assert_eq!(mentions.targets, 3);
        assert_eq!(mentions.of(0), [(0, 3)]);
        assert_eq!(mentions.of(2), [(2, 1), (2, 5)]);
        assert_eq!(mentions.of(4), [(4, 0)]);
        // Mentioned by none: before, between and after the targets.
        for target in [1, 3, 5, u32::MAX] {
            assert!(mentions.of(target).is_empty(), "{target}");
        }
        let none = Mentions::new(Vec::new());
        assert_eq!((none.of(0), none.targets), (&[][..], 0));
    }

    #[test]
    fn an_issue_is_mentioned_by_the_others_in_key_order_each_once() {
        use crate::model::{Markup, Project, Text};
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::create(&tmp.path().join("a.redb")).unwrap();
        let stored = |id: &str, key: &str, description: &str, comment: &str| Issue {
            source: "jira".into(),
            id: id.into(),
            key: key.into(),
            project: Project {
                key: "LU".into(),
                ..Default::default()
            },
            description: Some(Text::new(Markup::Plain, description)),
            comments: vec![Comment {
                id: "1".into(),
                body: Text::new(Markup::Plain, comment),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut w = store.writer().unwrap();
        for issue in [
            stored("4", "LU-100", "LU-1 again", "still LU-1"),
            stored("2", "LU-2", "like LU-1; see LU-999", ""),
            stored("1", "LU-1", "", ""),
            stored("5", "LU-3", "", ""),
            stored("3", "LU-10", "LU-10 is LU-1", "LU-10"),
        ] {
            w.put_issue(&issue, "t").unwrap();
        }
        w.commit().unwrap();
        let imported = Imported {
            store,
            people: People::new(),
            report: Default::default(),
        };
        let (linked, _) = link_issues(imported).unwrap();
        let by = |key: &str| linked.mentioned_by(key).collect::<Vec<_>>();
        // In key order (LU-2 before LU-10), not in the order of the keys' bytes nor of the
        // store; LU-100 mentions LU-1 twice and is named once.
        assert_eq!(by("LU-1"), ["LU-2", "LU-10", "LU-100"]);
        // An issue's mentions of itself do not count.
        assert!(by("LU-10").is_empty());
        // Mentioned by none.
        assert!(by("LU-3").is_empty());
        assert!(by("LU-2").is_empty());
        // Mentioned, but not published; and a key nobody has.
        assert!(by("LU-999").is_empty());
        assert!(by("XX-1").is_empty());
        assert!(by("").is_empty());
        assert_eq!(linked.mentions.targets, 1);
    }

    #[test]
    fn a_lightened_issue_folds_as_the_whole_one() {
        let whole = whole_issue();
        let mut light = whole.clone();
        lighten(&mut light);
        assert!(light.description.is_none() && light.history.is_empty());
        let people = People::new();
        let fold = |issue: &Issue| {
            let mut gather = people::Gather::default();
            gather.issue(0, issue, &people);
            let summary = IssueSummary::of(issue, &mut Names::default());
            format!(
                "{summary:?} {:?} {:?}",
                gather.finish().people,
                issue.project.name
            )
        };
        assert_eq!(fold(&light), fold(&whole));
    }

    #[test]
    fn a_skeleton_is_published_as_its_record_is() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::create(&tmp.path().join("a.redb")).unwrap();
        let whole = whole_issue();
        let record = Store::encode_issue(&whole);
        let skeleton = Skeleton::of(&whole, &record);
        assert_eq!(skeleton.mentions, ["LU-11", "LU-3", "LU-9"]);
        assert!(skeleton.issue.description.is_none());
        let mut people = People::new();
        let mut dropped = HashSet::new();
        for step in 0..4 {
            match step {
                1 => drop(people.insert("hwu".into(), "Hui Wu".into())),
                2 => drop(dropped.insert("LU-9".into())),
                3 => drop(dropped.insert("LU-2".into())),
                _ => {}
            }
            let (from_record, digest) = published(&store, &people, &dropped, &record).unwrap();
            let mut from_skeleton = skeleton.issue.clone();
            let by_skeleton = prepared(&people, &dropped, &mut from_skeleton, skeleton.record);
            assert_eq!(by_skeleton, digest, "step {step}");
            let named = |i: &Issue| {
                let mut i = i.clone();
                i.people_mut()
                    .map(|p| p.display.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(named(&from_skeleton), named(&from_record));
            assert_eq!(
                (
                    &from_skeleton.links,
                    &from_skeleton.subtasks,
                    &from_skeleton.parent
                ),
                (
                    &from_record.links,
                    &from_record.subtasks,
                    &from_record.parent
                )
            );
        }
    }

    #[test]
    fn the_published_digest_follows_the_record_and_what_preparing_decides() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::create(&tmp.path().join("a.redb")).unwrap();
        let record = Store::encode_issue(&issue());
        let (mut people, mut dropped) = (People::new(), HashSet::new());
        let digest = |people: &People, dropped: &HashSet<String>, record: &[u8]| {
            published(&store, people, dropped, record).unwrap()
        };
        let (prepared, base) = digest(&people, &dropped, &record);
        assert_eq!(
            prepared.comments[0].author.as_ref().unwrap().display,
            "plarsen"
        );
        assert_eq!(digest(&people, &dropped, &record).1, base);
        // Someone the issue does not name joins the directory: the same issue is published.
        people.insert("jroe".into(), "Jane Roe".into());
        assert_eq!(digest(&people, &dropped, &record).1, base);
        // The directory names a commenter: the published issue changes, and so does its digest.
        people.insert("plarsen".into(), "Pia Larsen".into());
        let (prepared, named) = digest(&people, &dropped, &record);
        assert_eq!(
            prepared.comments[0].author.as_ref().unwrap().display,
            "Pia Larsen"
        );
        assert_ne!(named, base);
        // The issue it links to is dropped: the link goes, and the digest changes.
        dropped.insert("LU-3".into());
        let (prepared, unlinked) = digest(&people, &dropped, &record);
        assert!(prepared.links.is_empty());
        assert_ne!(unlinked, named);
        // Another record: another digest.
        let mut other = issue();
        other.summary.push('!');
        let other = Store::encode_issue(&other);
        assert_ne!(digest(&people, &dropped, &other).1, unlinked);
    }
}
