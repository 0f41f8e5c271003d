//! Reading a git repository into the archive: every commit reachable from the configured refs,
//! once, read directly with gix (no `git` binary).
//!
//! The read has two passes:
//!
//! 1. **Walk** (one thread): the refs are matched against the configured globs, tags peeled,
//!    and the graph walked from every tip. Each commit's header and message are parsed (authors
//!    through `.mailmap`, references found by the configured patterns) into a small
//!    [`CommitInfo`]; then [`History::build`] orders the graph and computes branches, homes and
//!    first releases in single sweeps.
//! 2. **Diffs** (one worker per core, each with its own repository handle and object cache):
//!    each commit is diffed against its first parent (the empty tree for roots), with rename
//!    detection. The complete diffstat and the diff text up to the cap are kept in the build
//!    cache (`git-diffs.redb`, keyed by commit id: commits never change), so a rebuild reads
//!    them back instead of recomputing. The full commit, with its diffstat, goes to the archive
//!    store.
//!
//! Messages that are not UTF-8 (CVS-era commits) are decoded as their `encoding` header says
//! when it is Latin-1, and otherwise with replacement characters; nothing in a commit can make
//! the read panic.

mod commit;
mod diff;
pub mod history;
pub mod kept;
pub mod references;
pub mod releases;
pub mod shipped;

pub use commit::split_trailers;
use commit::*;
use diff::*;
pub use diff::{DiffCache, DiffRecord};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use gix::bstr::{BStr, ByteSlice};
use gix::objs::Find;
use gix::ObjectId;
use redb::{ReadableDatabase, TableDefinition};

use crate::config::{Config, RepositoryConfig};
use crate::error::{Error, Result};
use crate::keys::natural_cmp;
use crate::model::{Commit, FileStat, Signature, Timestamp, Trailer};
use crate::observe::{count, count_as, Observer};
use crate::store::Store;
use history::{CommitInfo, History, Node, ReleaseInput};
use references::References;
use releases::ReleaseRules;

/// Refs read when the config names none.
pub const DEFAULT_REFS: &[&str] = &["refs/heads/*", "refs/remotes/*/*", "refs/tags/*"];
/// Refs never read, whatever the globs say: Gerrit's review refs, pull requests, notes, stash.
pub const NEVER_REFS: &[&str] = &["refs/changes/", "refs/pull/", "refs/notes/", "refs/stash"];
/// The default most diff text kept per commit, in bytes.
pub const DEFAULT_DIFF_CAP: usize = 64 * 1024;
/// Lines of context around each change, as `git diff` shows.
const CONTEXT: u32 = 3;

/// What the git read did, for the build summary.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct GitReport {
    /// Repositories read.
    pub repositories: usize,
    /// Commits read (each once).
    pub commits: usize,
    /// Branches.
    pub branches: usize,
    /// Tags read (release or not).
    pub tags: usize,
    /// Releases (tags grouped by version).
    pub releases: usize,
    /// Commits whose parent is not in the repository (shallow clone).
    pub missing_parents: usize,
    /// Diffs computed in this build.
    pub diffs_computed: usize,
    /// Diffs read back from the build cache.
    pub diffs_cached: usize,
    /// Wall time of the walk (refs, commits, graph).
    pub walk_time: Duration,
    /// Wall time of the diffs (computed or cached) and the store writes.
    pub diff_time: Duration,
    /// Things worth telling the archive keeper (refs skipped, objects missing).
    pub notes: Vec<String>,
    /// The history and the store's commits were kept from the last build, whose read of the
    /// same repositories (refs, shallow boundary, mailmap) under the same program and
    /// configuration they are ([`kept`]): nothing was walked or diffed.
    pub kept: bool,
}

impl GitReport {
    /// One line for the build's progress: commits, branches, tags, releases, diffs.
    pub fn summary(&self) -> String {
        if self.kept {
            return format!(
                "{} on {}, {}, {}; kept from the last build (the repositories' refs unchanged)",
                count(self.commits as u64, "commit"),
                count_as(self.branches as u64, "branch", "branches"),
                count(self.tags as u64, "tag"),
                count(self.releases as u64, "release"),
            );
        }
        format!(
            "{} on {}, {}, {}; diffs {} computed, {} cached (walk {:.1}s, diffs {:.1}s)",
            count(self.commits as u64, "commit"),
            count_as(self.branches as u64, "branch", "branches"),
            count(self.tags as u64, "tag"),
            count(self.releases as u64, "release"),
            self.diffs_computed,
            self.diffs_cached,
            self.walk_time.as_secs_f64(),
            self.diff_time.as_secs_f64()
        )
    }
}

fn git_error(path: &Path, what: &str, e: impl Into<crate::error::Cause>) -> Error {
    Error::Git {
        path: path.to_path_buf(),
        what: what.to_string(),
        source: e.into(),
    }
}

fn target_text(t: gix::refs::TargetRef<'_>) -> String {
    match t {
        gix::refs::TargetRef::Object(id) => id.to_string(),
        gix::refs::TargetRef::Symbolic(name) => format!("ref: {}", name.as_bstr()),
    }
}

/// Every ref of the repository at `path` and what it points at (an object id, or the name a
/// symbolic ref such as HEAD names), sorted: what the build fingerprint needs to see a new
/// commit or tag without walking history.
pub fn ref_targets(path: &Path) -> Result<Vec<(String, String)>> {
    let repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_error(path, "cannot open", e))?;
    let platform = repo
        .references()
        .map_err(|e| git_error(path, "cannot read refs", e))?;
    let mut out = Vec::new();
    for r in platform
        .all()
        .map_err(|e| git_error(path, "cannot read refs", e))?
    {
        let r = r.map_err(|e| git_error(path, "cannot read a ref", e))?;
        out.push((
            r.name().as_bstr().to_str_lossy().into_owned(),
            target_text(r.target()),
        ));
    }
    if let Ok(head) = repo.find_reference("HEAD") {
        out.push(("HEAD".into(), target_text(head.target())));
    }
    out.sort();
    Ok(out)
}

/// The refs of `repo` whose history the site publishes (those the repository's `refs` globs
/// match, never Gerrit's changes, pull requests, notes or the stash), sorted by name, each with
/// the object it points at (a commit, or an annotated tag). Unreadable refs are skipped with a
/// note. The git stage walks from these; the backup's bare repository carries them.
pub fn published_refs(
    rc: &RepositoryConfig,
    repo: &gix::Repository,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, ObjectId)>> {
    let path = &rc.path;
    let globs: Vec<glob::Pattern> = match &rc.refs {
        Some(list) => list
            .iter()
            .map(|g| glob::Pattern::new(g).map_err(|e| git_error(path, "bad ref glob", e)))
            .collect::<Result<_>>()?,
        None => DEFAULT_REFS
            .iter()
            .map(|g| glob::Pattern::new(g).expect("default globs are valid"))
            .collect(),
    };
    let platform = repo
        .references()
        .map_err(|e| git_error(path, "cannot read refs", e))?;
    let iter = platform
        .all()
        .map_err(|e| git_error(path, "cannot read refs", e))?;
    let mut refs: Vec<(String, ObjectId)> = Vec::new();
    for r in iter {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                notes.push(format!("{}: unreadable ref skipped: {e}", path.display()));
                continue;
            }
        };
        let name = r.name().as_bstr().to_str_lossy().into_owned();
        if NEVER_REFS.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        if !globs.iter().any(|g| g.matches(&name)) {
            continue;
        }
        if let gix::refs::TargetRef::Object(id) = r.target() {
            refs.push((name, id.to_owned()));
        }
    }
    refs.sort();
    Ok(refs)
}

/// The names the repositories are published under (the site's `source/<name>.git` copies): each folder's name without `.git` (the
/// work tree's name for `repo/.git`), reduced to safe characters, numbered when two meet.
pub fn repository_names(repositories: &[RepositoryConfig]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    repositories
        .iter()
        .map(|rc| {
            let mut parts: Vec<String> = rc
                .path
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            if parts.last().is_some_and(|p| p == ".git") {
                parts.pop();
            }
            let raw = parts.pop().unwrap_or_default();
            let raw = raw.strip_suffix(".git").unwrap_or(&raw);
            let mut name: String = raw
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            name = name.trim_start_matches('.').to_string();
            if name.is_empty() {
                name = "repository".into();
            }
            let base = name.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// Reads every configured repository into `store` and returns the history.
pub fn read(
    config: &Config,
    references: &References,
    store: &Store,
    progress: &dyn Observer,
) -> Result<(History, GitReport)> {
    let mut report = GitReport::default();
    if config.repositories.is_empty() {
        return Ok((History::default(), report));
    }
    let started = Instant::now();
    let mut walk = Walk::default();
    let mut repos = Vec::new();
    for (ri, rc) in config.repositories.iter().enumerate() {
        let repo = gix::open_opts(&rc.path, gix::open::Options::isolated())
            .map_err(|e| git_error(&rc.path, "cannot open", e))?;
        let mailmap = repo.open_mailmap();
        let rules = ReleaseRules::new(rc.release_tags.as_deref(), rc.not_release_tags.as_deref())?;
        walk.repository(
            ri,
            rc,
            &repo,
            &mailmap,
            &rules,
            config,
            references,
            &mut report,
        )?;
        repos.push((repo.into_sync(), mailmap));
    }
    report.repositories = repos.len();
    let Walk {
        nodes,
        graph,
        branches,
        releases,
        tags,
        missing,
        ..
    } = walk;
    report.commits = nodes.len();
    report.branches = branches.len();
    report.releases = releases.len();
    report.missing_parents = missing;
    let history = History::build(nodes, branches, releases, tags, missing);
    report.walk_time = started.elapsed();

    let started = Instant::now();
    diff_all(
        config,
        store,
        &history,
        &graph,
        &repos,
        progress,
        &mut report,
    )?;
    report.diff_time = started.elapsed();
    Ok((history, report))
}

/// Per commit, what the diff pass needs: repository, tree, parents (ids, in order), and the
/// commit as the walk parsed it (read once, not again for the diff).
struct GraphEntry {
    repo: usize,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    commit: Commit,
}

/// A commit the walk reached, to be read on every core once the walk is done: its node, id,
/// tree, parents, and the object's bytes.
type Walked = (u32, ObjectId, ObjectId, Vec<ObjectId>, Vec<u8>);

#[derive(Default)]
struct Walk {
    nodes: Vec<Node>,
    by_id: HashMap<ObjectId, u32>,
    graph: HashMap<String, GraphEntry>,
    /// (name, refs, tips) in priority order.
    branches: Vec<(String, Vec<String>, Vec<u32>)>,
    releases: Vec<ReleaseInput>,
    tags: Vec<(String, u32)>,
    missing: usize,
}

impl Walk {
    #[allow(clippy::too_many_arguments)]
    fn repository(
        &mut self,
        repo_index: usize,
        rc: &RepositoryConfig,
        repo: &gix::Repository,
        mailmap: &gix::mailmap::Snapshot,
        rules: &ReleaseRules,
        config: &Config,
        references: &References,
        report: &mut GitReport,
    ) -> Result<()> {
        let path = &rc.path;
        let refs = published_refs(rc, repo, &mut report.notes)?;
        let default_branch = default_branch(repo);

        let mut buf = Vec::new();
        let mut branch_map: BTreeMap<String, (Vec<String>, Vec<ObjectId>)> = BTreeMap::new();
        let mut tag_list: Vec<(String, ObjectId, Option<Timestamp>)> = Vec::new();
        for (name, target) in &refs {
            let Some((commit, tag_date)) = peel(repo, *target, &mut buf) else {
                report.notes.push(format!(
                    "{}: {name} does not point at a commit; skipped",
                    path.display()
                ));
                continue;
            };
            if let Some(tag) = name.strip_prefix("refs/tags/") {
                tag_list.push((tag.to_string(), commit, tag_date));
            } else {
                let short = branch_name(name);
                let Some(short) = short else { continue };
                let e = branch_map.entry(short).or_default();
                e.0.push(name.clone());
                e.1.push(commit);
            }
        }
        report.tags += tag_list.len();

        // Walk from every tip (branches first, then tags), depth first.
        let mut stack: Vec<ObjectId> = Vec::new();
        for (_, (_, tips)) in branch_map.iter() {
            stack.extend(tips.iter().rev());
        }
        stack.extend(tag_list.iter().map(|t| t.1));
        stack.reverse();
        let mut missing_seen: HashSet<ObjectId> = HashSet::new();
        let mut pending_parents: Vec<(u32, Vec<ObjectId>)> = Vec::new();
        let mut walked: Vec<Walked> = Vec::new();
        while let Some(id) = stack.pop() {
            if self.by_id.contains_key(&id) || missing_seen.contains(&id) {
                continue;
            }
            let data = match repo.objects.try_find(&id, &mut buf) {
                Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => d.data,
                Ok(_) => {
                    missing_seen.insert(id);
                    continue;
                }
                Err(e) => return Err(git_error(path, &format!("cannot read commit {id}"), e)),
            };
            // Only what the walk needs now; the rest of the commit is read below, on every core.
            let raw = RawCommit::parse(data);
            let index = self.nodes.len() as u32;
            self.by_id.insert(id, index);
            self.nodes.push(Node {
                info: CommitInfo::new(String::new(), String::new()),
                seconds: raw.committer_seconds(),
            });
            for p in raw.parents.iter().rev() {
                stack.push(*p);
            }
            pending_parents.push((index, raw.parents.clone()));
            let tree = raw
                .tree
                .unwrap_or_else(|| ObjectId::empty_tree(gix::hash::Kind::Sha1));
            let parents = raw.parents;
            walked.push((index, id, tree, parents, data.to_vec()));
        }
        // Each commit's model and summary: its people through the mailmap, its message's
        // trailers, references and port.
        let made: Vec<(u32, String, GraphEntry, CommitInfo)> = walked
            .into_par_iter()
            .map(|(index, id, tree, parents, data)| {
                let raw = RawCommit::parse(&data);
                let hex = id.to_string();
                let commit = raw.to_model(&hex, mailmap, config.show_emails);
                let info = commit_info(&hex, &commit, references);
                let entry = GraphEntry {
                    repo: repo_index,
                    tree,
                    parents,
                    commit,
                };
                (index, hex, entry, info)
            })
            .collect();
        for (index, hex, entry, info) in made {
            self.nodes[index as usize].info = info;
            self.graph.insert(hex, entry);
        }
        for (index, parents) in pending_parents {
            let mut present = Vec::new();
            for p in parents {
                match self.by_id.get(&p) {
                    Some(&pi) => present.push(pi),
                    None => self.missing += 1,
                }
            }
            self.nodes[index as usize].info.parents = present;
        }

        // Branches: the default branch first, then by name (numbers numerically). A branch of
        // the same name in an earlier repository absorbs this one's tips.
        let mut names: Vec<&String> = branch_map.keys().collect();
        names.sort_by(|a, b| {
            let da = Some(a.as_str()) == default_branch.as_deref();
            let db = Some(b.as_str()) == default_branch.as_deref();
            db.cmp(&da).then(natural_cmp(a, b))
        });
        for name in names {
            let (refs, tips) = &branch_map[name];
            let tips: Vec<u32> = tips
                .iter()
                .filter_map(|t| self.by_id.get(t).copied())
                .collect();
            match self.branches.iter_mut().find(|b| &b.0 == name) {
                Some(b) => {
                    b.1.extend(refs.iter().cloned());
                    b.2.extend(tips);
                }
                None => self.branches.push((name.clone(), refs.clone(), tips)),
            }
        }
        for (tag, commit, _) in &tag_list {
            if let Some(&i) = self.by_id.get(commit) {
                self.tags.push((tag.clone(), i));
            }
        }
        // Releases: tags grouped by version; a version also tagged in an earlier repository
        // gains these tags.
        let dates: HashMap<&str, (ObjectId, Option<Timestamp>)> = tag_list
            .iter()
            .map(|(n, c, d)| (n.as_str(), (*c, *d)))
            .collect();
        for (version, tags) in releases::group(rules, tag_list.iter().map(|t| t.0.as_str())) {
            let mut tips = Vec::new();
            let mut date: Option<Timestamp> = None;
            for t in &tags {
                let (commit, tag_date) = dates[t.as_str()];
                let Some(&i) = self.by_id.get(&commit) else {
                    continue;
                };
                tips.push(i);
                let d = tag_date.or(self.nodes[i as usize].info.time);
                if let Some(d) = d {
                    date = Some(date.map_or(d, |x: Timestamp| x.min(d)));
                }
            }
            match self.releases.iter_mut().find(|r| r.version == version) {
                Some(r) => {
                    r.tags.extend(tags);
                    r.tags.sort();
                    r.tags.dedup();
                    r.tips.extend(tips);
                }
                None => self.releases.push(ReleaseInput {
                    version,
                    tags,
                    tips,
                    date,
                }),
            }
        }
        self.releases.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(())
    }
}

/// The summary of a commit the history keeps (parents are filled in by the walk).
fn commit_info(hex: &str, commit: &Commit, references: &References) -> CommitInfo {
    let mut info = CommitInfo::new(hex.to_string(), commit.subject.clone());
    info.author = commit.author.name.clone();
    info.time = commit.committer.time.or(commit.author.time);
    info.change_id = commit
        .trailers
        .iter()
        .find(|t| t.key.eq_ignore_ascii_case("Change-Id"))
        .map(|t| t.value.clone());
    let message = format!("{}\n{}", commit.subject, commit.body);
    info.port_of = port_of(&message);
    let mut candidates = Vec::new();
    for f in references.find(&message) {
        for k in f.keys {
            if !candidates.iter().any(|(c, _)| c == &k) {
                candidates.push((k, f.generic));
            }
        }
    }
    info.set_candidates(candidates);
    info
}

/// The commit a message says it was ported from: `Lustre-commit: <id>` (also `Lustre-commit:
/// TBD (from <id>)`) or git's `(cherry picked from commit <id>)`.
fn port_of(message: &str) -> Option<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?m)^(?:Lustre-commit:[ \t]*(?:TBD[ \t]*\(from[ \t]+)?|\(cherry picked from commit[ \t]+)([0-9a-f]{7,40})\b",
        )
        .unwrap()
    });
    re.captures(message).map(|c| c[1].to_string())
}

/// The short name of the branch HEAD points at (`master`), from `HEAD` or `origin/HEAD`.
pub fn default_branch(repo: &gix::Repository) -> Option<String> {
    if let Ok(Some(name)) = repo.head_name() {
        return branch_name(&name.as_bstr().to_str_lossy());
    }
    let r = repo.try_find_reference("refs/remotes/origin/HEAD").ok()??;
    match r.target() {
        gix::refs::TargetRef::Symbolic(name) => branch_name(&name.as_bstr().to_str_lossy()),
        _ => None,
    }
}

/// `refs/heads/b2_15` and `refs/remotes/origin/b2_15` → `b2_15`; `refs/remotes/x/HEAD` → none.
pub fn branch_name(full: &str) -> Option<String> {
    if let Some(b) = full.strip_prefix("refs/heads/") {
        return Some(b.to_string());
    }
    if let Some(rest) = full.strip_prefix("refs/remotes/") {
        let (_, b) = rest.split_once('/')?;
        return (b != "HEAD").then(|| b.to_string());
    }
    Some(full.strip_prefix("refs/").unwrap_or(full).to_string())
}

/// Follows annotated tags to a commit; returns it and the first tag's date.
fn peel(
    repo: &gix::Repository,
    mut id: ObjectId,
    buf: &mut Vec<u8>,
) -> Option<(ObjectId, Option<Timestamp>)> {
    let mut date = None;
    for _ in 0..16 {
        let data = repo.objects.try_find(&id, buf).ok()??;
        match data.kind {
            gix::objs::Kind::Commit => return Some((id, date)),
            gix::objs::Kind::Tag => {
                let mut next = None;
                for line in data.data.lines() {
                    if line.is_empty() {
                        break;
                    }
                    if let Some(hex) = line.strip_prefix(b"object ") {
                        next = ObjectId::from_hex(hex.trim()).ok();
                    } else if let Some(sig) = line.strip_prefix(b"tagger ") {
                        if date.is_none() {
                            date = parse_signature(sig).2;
                        }
                    }
                }
                id = next?;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_name_their_original() {
        let id = "ac75b577262760fea62915f5238ecd09c946a9cd";
        for m in [
            format!("x\n\nLustre-commit: {id}\nLustre-change: http://r/1\n"),
            format!("x\n\nLustre-commit: TBD (from {id})\n"),
            format!("x\n\n(cherry picked from commit {id})\n"),
        ] {
            assert_eq!(port_of(&m).as_deref(), Some(id), "{m}");
        }
        assert_eq!(port_of("Fixes: ac75b5772627 (\"x\")"), None);
    }
}
