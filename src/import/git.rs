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
use crate::history::{natural_cmp, CommitInfo, History, Node, ReleaseInput};
use crate::model::{Commit, FileStat, Signature, Timestamp, Trailer};
use crate::references::References;
use crate::releases::{self, ReleaseRules};
use crate::render::Progress;
use crate::store::Store;

/// Refs read when the config names none.
pub const DEFAULT_REFS: &[&str] = &["refs/heads/*", "refs/remotes/*/*", "refs/tags/*"];
/// Refs never read, whatever the globs say: Gerrit's review refs, pull requests, notes, stash.
pub const NEVER_REFS: &[&str] = &["refs/changes/", "refs/pull/", "refs/notes/", "refs/stash"];
/// The default most diff text kept per commit, in bytes.
pub const DEFAULT_DIFF_CAP: usize = 64 * 1024;
/// Lines of context around each change, as `git diff` shows.
const CONTEXT: u32 = 3;

/// Checks one `[[repository]]` (for config loading): globs and patterns compile.
pub fn validate(r: &RepositoryConfig) -> std::result::Result<(), String> {
    for g in r.refs.iter().flatten() {
        glob::Pattern::new(g).map_err(|e| format!("refs: bad glob {g:?}: {e}"))?;
    }
    ReleaseRules::new(r.release_tags.as_deref(), r.not_release_tags.as_deref())
        .map_err(|e| e.to_string())?;
    if let Some(u) = &r.gerrit_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(format!(
                "gerrit_url {u:?} must start with http:// or https://"
            ));
        }
    }
    Ok(())
}

/// What the git read did, for the build summary.
#[derive(Clone, Debug, Default)]
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
}

fn git_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Git {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
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

/// Reads every configured repository into `store` and returns the history.
pub fn read(
    config: &Config,
    references: &References,
    store: &Store,
    progress: &dyn Progress,
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

/// Per commit, what the diff pass needs: repository, tree, parents (ids, in order).
struct GraphEntry {
    repo: usize,
    tree: ObjectId,
    parents: Vec<ObjectId>,
}

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
        // (ref name, direct target), sorted by name so the walk is deterministic.
        let mut refs: Vec<(String, ObjectId)> = Vec::new();
        for r in iter {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    report
                        .notes
                        .push(format!("{}: unreadable ref skipped: {e}", path.display()));
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
            let raw = RawCommit::parse(data);
            let hex = id.to_string();
            let commit = raw.to_model(&hex, mailmap, config.show_emails);
            let mut info = CommitInfo::new(hex.clone(), commit.subject.clone());
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
            let seconds = raw.committer_seconds();
            let index = self.nodes.len() as u32;
            self.by_id.insert(id, index);
            self.nodes.push(Node { info, seconds });
            for p in raw.parents.iter().rev() {
                stack.push(*p);
            }
            pending_parents.push((index, raw.parents.clone()));
            self.graph.insert(
                hex,
                GraphEntry {
                    repo: repo_index,
                    tree: raw
                        .tree
                        .unwrap_or_else(|| ObjectId::empty_tree(gix::hash::Kind::Sha1)),
                    parents: raw.parents,
                },
            );
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
fn default_branch(repo: &gix::Repository) -> Option<String> {
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
fn branch_name(full: &str) -> Option<String> {
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

/// A commit object, parsed leniently: whatever git accepted, this accepts.
struct RawCommit<'a> {
    tree: Option<ObjectId>,
    parents: Vec<ObjectId>,
    author: &'a [u8],
    committer: &'a [u8],
    encoding: Option<&'a [u8]>,
    message: &'a [u8],
}

impl<'a> RawCommit<'a> {
    fn parse(data: &'a [u8]) -> Self {
        let mut c = RawCommit {
            tree: None,
            parents: Vec::new(),
            author: b"",
            committer: b"",
            encoding: None,
            message: b"",
        };
        let mut rest = data;
        loop {
            let (line, after) = match rest.find_byte(b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = after;
            if line.is_empty() {
                break;
            }
            if line[0] == b' ' {
                continue; // continuation of a multi-line header (gpgsig, mergetag)
            }
            let (key, value) = match line.find_byte(b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &line[line.len()..]),
            };
            match key {
                b"tree" => c.tree = ObjectId::from_hex(value.trim()).ok(),
                b"parent" => {
                    if let Ok(p) = ObjectId::from_hex(value.trim()) {
                        c.parents.push(p);
                    }
                }
                b"author" => c.author = value,
                b"committer" => c.committer = value,
                b"encoding" => c.encoding = Some(value),
                _ => {}
            }
            if rest.is_empty() {
                break;
            }
        }
        c.message = rest;
        c
    }

    fn committer_seconds(&self) -> i64 {
        let (_, _, t) = parse_signature(self.committer);
        let (_, _, a) = parse_signature(self.author);
        t.or(a).map(|t| t.unix()).unwrap_or(0)
    }

    /// The commit in the neutral model (without diffstat).
    fn to_model(&self, id: &str, mailmap: &gix::mailmap::Snapshot, show_emails: bool) -> Commit {
        let message = decode_message(self.message, self.encoding);
        let message = message.trim_end_matches(['\n', '\r', ' ', '\t']);
        let message = message.trim_start_matches(['\n', '\r']);
        let (subject, body) = match message.split_once('\n') {
            Some((s, b)) => (
                s.trim_end().to_string(),
                b.trim_start_matches(['\n', '\r']).to_string(),
            ),
            None => (message.trim_end().to_string(), String::new()),
        };
        let (_, trailers) = split_trailers(&body);
        let mut commit = Commit {
            id: id.to_string(),
            parents: self.parents.iter().map(|p| p.to_string()).collect(),
            author: signature(self.author, mailmap),
            committer: signature(self.committer, mailmap),
            subject,
            body,
            trailers,
            diffstat: Vec::new(),
        };
        if !show_emails {
            use crate::import::privacy::mask_emails;
            let mask = |s: &mut String| {
                if s.contains('@') {
                    *s = mask_emails(s).into_owned();
                }
            };
            for sig in [&mut commit.author, &mut commit.committer] {
                // The address field is masked whatever its shape (`user@host` too).
                if let Some((local, _)) = sig.email.split_once('@') {
                    sig.email = format!("{local}@…");
                }
                mask(&mut sig.name);
            }
            mask(&mut commit.subject);
            mask(&mut commit.body);
            for t in &mut commit.trailers {
                mask(&mut t.value);
            }
        }
        commit
    }
}

/// Message bytes as text: UTF-8, or Latin-1 when the commit says so, else with replacement
/// characters.
fn decode_message(bytes: &[u8], encoding: Option<&[u8]>) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let latin1 = encoding.is_some_and(|e| {
        let e = e.trim().to_ascii_lowercase();
        matches!(
            e.as_slice(),
            b"iso-8859-1"
                | b"iso8859-1"
                | b"latin1"
                | b"latin-1"
                | b"iso-8859-15"
                | b"cp1252"
                | b"windows-1252"
        )
    });
    if latin1 {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `Name <email> 1234567890 +0100` → (name, email, time), leniently.
fn parse_signature(raw: &[u8]) -> (String, String, Option<Timestamp>) {
    let text = raw.to_str_lossy();
    let (who, when) = match text.rfind('>') {
        Some(i) => (&text[..=i], text[i + 1..].trim()),
        None => (text.as_ref(), ""),
    };
    let (name, email) = match who.rfind('<') {
        Some(i) => (who[..i].trim(), who[i + 1..].trim_end_matches('>').trim()),
        None => (who.trim(), ""),
    };
    let mut parts = when.split_whitespace();
    let seconds = parts.next().and_then(|s| s.parse::<i64>().ok());
    let offset = parts.next().and_then(parse_offset).unwrap_or(0);
    let time = seconds.and_then(|s| {
        let tz = FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
        DateTime::from_timestamp(s, 0).map(|t| Timestamp(t.with_timezone(&tz)))
    });
    (name.to_string(), email.to_string(), time)
}

fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => (1, tz),
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn signature(raw: &[u8], mailmap: &gix::mailmap::Snapshot) -> Signature {
    let (mut name, mut email, time) = parse_signature(raw);
    let sig = gix::actor::SignatureRef {
        name: BStr::new(name.as_bytes()),
        email: BStr::new(email.as_bytes()),
        time: "",
    };
    if let Some(r) = mailmap.try_resolve_ref(sig) {
        let (n, e) = (
            r.name.map(|n| n.to_str_lossy().into_owned()),
            r.email.map(|e| e.to_str_lossy().into_owned()),
        );
        if let Some(n) = n {
            name = n;
        }
        if let Some(e) = e {
            email = e;
        }
    }
    Signature { name, email, time }
}

/// Splits a commit body into its text and its trailers: the last paragraph is a trailer block
/// when all its lines are `Token: value` (or continuation) lines, or when a quarter of them are
/// and one is a `Signed-off-by:`, as git decides. Returns the byte offset where the block starts
/// (`body.len()` when there is none).
pub fn split_trailers(body: &str) -> (usize, Vec<Trailer>) {
    let trimmed = body.trim_end();
    // The last paragraph starts after the last blank (or whitespace-only) line.
    let mut start = 0;
    let mut pos = 0;
    for line in trimmed.split('\n') {
        if line.trim().is_empty() {
            start = pos + line.len() + 1;
        }
        pos += line.len() + 1;
    }
    let block = &trimmed[start.min(trimmed.len())..];
    if block.trim().is_empty() {
        return (body.len(), Vec::new());
    }
    let mut trailers: Vec<Trailer> = Vec::new();
    let (mut lines, mut trailer_lines, mut signed) = (0, 0, false);
    for line in block.lines() {
        lines += 1;
        if line.starts_with([' ', '\t']) {
            if let Some(last) = trailers.last_mut() {
                last.value.push(' ');
                last.value.push_str(line.trim());
                trailer_lines += 1;
            }
            continue;
        }
        if let Some((k, v)) = trailer_line(line) {
            trailer_lines += 1;
            if k.eq_ignore_ascii_case("Signed-off-by") {
                signed = true;
            }
            trailers.push(Trailer {
                key: k.to_string(),
                value: v.to_string(),
            });
        }
    }
    let is_block = trailer_lines == lines || (signed && trailer_lines * 4 >= lines);
    if !is_block || trailers.is_empty() {
        return (body.len(), Vec::new());
    }
    (start, trailers)
}

fn trailer_line(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let key = &line[..colon];
    if key.is_empty()
        || key.len() > 64
        || !key.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let value = line[colon + 1..].trim();
    // `http://…` is not a trailer key; a trailer needs a space (or nothing) after the colon.
    if line[colon + 1..].starts_with("//") {
        return None;
    }
    Some((key, value))
}

// ---------------------------------------------------------------------------------------------
// Diffs

const DIFFS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("diffs");
/// Bumped whenever the record layout or the diff rendering changes, so old records are redone.
const RECORD_FORMAT: u8 = 1;
/// `cap` value of a record computed without diff text.
const NO_TEXT: u64 = u64::MAX;
const FLAG_TRUNCATED: u8 = 1;
const FLAG_UNAVAILABLE: u8 = 2;

/// A commit's diff as the build cache keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffRecord {
    /// The cap it was computed with (`u64::MAX`: without text).
    pub cap: u64,
    /// The complete diffstat.
    pub stat: Vec<FileStat>,
    /// The unified diff, up to the cap.
    pub text: String,
    /// More diff than the cap allowed.
    pub truncated: bool,
    /// The parent is missing (shallow clone): no diff can be made.
    pub unavailable: bool,
}

impl DiffRecord {
    fn encode(&self) -> Vec<u8> {
        let stat = serde_json::to_vec(&self.stat).unwrap_or_default();
        let mut out = Vec::with_capacity(stat.len() + self.text.len() / 3 + 32);
        out.push(RECORD_FORMAT);
        out.extend_from_slice(&self.cap.to_le_bytes());
        out.push(
            if self.truncated { FLAG_TRUNCATED } else { 0 }
                | if self.unavailable {
                    FLAG_UNAVAILABLE
                } else {
                    0
                },
        );
        out.extend_from_slice(&(stat.len() as u32).to_le_bytes());
        out.extend_from_slice(&stat);
        out.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        if !self.text.is_empty() {
            let mut z =
                gix::zlib::stream::deflate::Write::new(out, gix::zlib::Compression::BEST_SPEED);
            // Writing into a Vec cannot fail.
            let _ = z.write_all(self.text.as_bytes());
            let _ = z.flush();
            out = z.into_inner();
        }
        out
    }

    /// Decodes a record; `with_text` inflates the diff text too.
    fn decode(bytes: &[u8], with_text: bool) -> Option<DiffRecord> {
        if bytes.first() != Some(&RECORD_FORMAT) || bytes.len() < 14 {
            return None;
        }
        let cap = u64::from_le_bytes(bytes[1..9].try_into().ok()?);
        let flags = bytes[9];
        let stat_len = u32::from_le_bytes(bytes[10..14].try_into().ok()?) as usize;
        let stat_end = 14usize.checked_add(stat_len)?;
        let stat: Vec<FileStat> = serde_json::from_slice(bytes.get(14..stat_end)?).ok()?;
        let text_len =
            u32::from_le_bytes(bytes.get(stat_end..stat_end + 4)?.try_into().ok()?) as usize;
        let mut text = String::new();
        if with_text && text_len > 0 {
            let mut out = vec![0u8; text_len];
            let mut inflate = gix::zlib::Inflate::default();
            let (_, _, written) = inflate.once(bytes.get(stat_end + 4..)?, &mut out).ok()?;
            if written != text_len {
                return None;
            }
            text = String::from_utf8(out).ok()?;
        }
        Some(DiffRecord {
            cap,
            stat,
            text,
            truncated: flags & FLAG_TRUNCATED != 0,
            unavailable: flags & FLAG_UNAVAILABLE != 0,
        })
    }
}

/// The build cache of diffs, keyed by commit id.
pub struct DiffCache {
    db: redb::Database,
    path: PathBuf,
}

impl DiffCache {
    /// The cache file inside the build cache folder.
    pub fn path(cache_dir: &Path) -> PathBuf {
        cache_dir.join("git-diffs.redb")
    }

    /// Opens (creating if needed) the cache in `cache_dir`. A cache that cannot be read is
    /// replaced: it only holds what can be recomputed.
    pub fn open(cache_dir: &Path) -> Result<DiffCache> {
        std::fs::create_dir_all(cache_dir).map_err(|e| Error::io(cache_dir, e))?;
        let path = Self::path(cache_dir);
        // A small page cache: records are written once and read once per build.
        let create = |p: &Path| redb::Database::builder().set_cache_size(32 << 20).create(p);
        let db = match create(&path) {
            Ok(db) => db,
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                create(&path).map_err(|e| cache_error(&path, e))?
            }
        };
        let cache = DiffCache { db, path };
        let mut w = cache
            .db
            .begin_write()
            .map_err(|e| cache_error(&cache.path, e))?;
        w.set_durability(redb::Durability::None)
            .map_err(|e| cache_error(&cache.path, e))?;
        w.open_table(DIFFS)
            .map_err(|e| cache_error(&cache.path, e))?;
        w.commit().map_err(|e| cache_error(&cache.path, e))?;
        Ok(cache)
    }

    /// The cached diff of a commit, with its text.
    pub fn get(&self, id: &str) -> Result<Option<DiffRecord>> {
        let Ok(oid) = ObjectId::from_hex(id.as_bytes()) else {
            return Ok(None);
        };
        let txn = self
            .db
            .begin_read()
            .map_err(|e| cache_error(&self.path, e))?;
        let table = txn
            .open_table(DIFFS)
            .map_err(|e| cache_error(&self.path, e))?;
        let v = table
            .get(oid.as_bytes())
            .map_err(|e| cache_error(&self.path, e))?;
        Ok(v.and_then(|v| DiffRecord::decode(v.value(), true)))
    }

    /// Several diffs in one read transaction, in the order asked.
    pub fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<DiffRecord>>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| cache_error(&self.path, e))?;
        let table = txn
            .open_table(DIFFS)
            .map_err(|e| cache_error(&self.path, e))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Ok(oid) = ObjectId::from_hex(id.as_bytes()) else {
                out.push(None);
                continue;
            };
            let v = table
                .get(oid.as_bytes())
                .map_err(|e| cache_error(&self.path, e))?;
            out.push(v.and_then(|v| DiffRecord::decode(v.value(), true)));
        }
        Ok(out)
    }
}

fn cache_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Store {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What one worker hands back for one commit.
struct Done {
    commit: Commit,
    /// A newly computed record to store in the cache.
    record: Option<Vec<u8>>,
}

fn diff_all(
    config: &Config,
    store: &Store,
    history: &History,
    graph: &HashMap<String, GraphEntry>,
    repos: &[(gix::ThreadSafeRepository, gix::mailmap::Snapshot)],
    progress: &dyn Progress,
    report: &mut GitReport,
) -> Result<()> {
    let cache = DiffCache::open(&config.cache)?;
    // Each commit diffs against its first parent; a diff made with another cap is redone.
    let wanted: Vec<(u64, bool)> = config
        .repositories
        .iter()
        .map(|r| {
            let text = r.diffs.unwrap_or(true);
            let cap = r.diff_cap.unwrap_or(DEFAULT_DIFF_CAP) as u64;
            (if text { cap } else { NO_TEXT }, text)
        })
        .collect();
    let jobs: Vec<&str> = history.commits.iter().map(|c| c.id.as_str()).collect();
    let next = AtomicUsize::new(0);
    let computed = AtomicUsize::new(0);
    let threads = rayon::current_num_threads().max(1);
    const BLOCK: usize = 8;
    let (tx, rx) = mpsc::sync_channel::<Result<Done>>(512);
    let mut first_error: Option<Error> = None;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (jobs, next, computed, cache, wanted) = (&jobs, &next, &computed, &cache, &wanted);
            scope.spawn(move || {
                let mut workers: Vec<Option<Worker>> = (0..repos.len()).map(|_| None).collect();
                loop {
                    let start = next.fetch_add(BLOCK, Ordering::Relaxed);
                    if start >= jobs.len() {
                        break;
                    }
                    let block = &jobs[start..(start + BLOCK).min(jobs.len())];
                    let cached = match cache_lookup(cache, block) {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    for (id, cached) in block.iter().zip(cached) {
                        let entry = &graph[*id];
                        let (cap, text) = wanted[entry.repo];
                        let worker = match &mut workers[entry.repo] {
                            Some(w) => w,
                            slot => slot.insert(match Worker::new(&repos[entry.repo].0) {
                                Ok(w) => w,
                                Err(e) => {
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            }),
                        };
                        let usable = cached.filter(|r| r.cap == cap || (!text && r.cap != NO_TEXT));
                        let result = worker
                            .commit(id, &repos[entry.repo].1, config.show_emails)
                            .and_then(|mut commit| {
                                let (stat, record) = match usable {
                                    Some(r) => (r.stat, None),
                                    None => {
                                        computed.fetch_add(1, Ordering::Relaxed);
                                        let t0 = std::time::Instant::now();
                                        let r = worker.diff(graph, entry, cap)?;
                                        if std::env::var_os("HS_TRACE").is_some()
                                            && t0.elapsed().as_millis() > 300
                                        {
                                            eprintln!(
                                                "slow {} {:?} files {}",
                                                id,
                                                t0.elapsed(),
                                                r.stat.len()
                                            );
                                        }
                                        let bytes = r.encode();
                                        (r.stat, Some(bytes))
                                    }
                                };
                                commit.diffstat = stat;
                                Ok(Done { commit, record })
                            });
                        let failed = result.is_err();
                        if tx.send(result).is_err() || failed {
                            return;
                        }
                    }
                }
            });
        }
        drop(tx);
        // This thread owns the write transactions.
        let mut batch = 0usize;
        let mut store_w = None;
        let mut cache_w = None;
        for done in rx.iter() {
            let done = match done {
                Ok(d) => d,
                Err(e) => {
                    first_error.get_or_insert(e);
                    // Stop the workers: nothing more will be taken.
                    next.store(usize::MAX / 2, Ordering::Relaxed);
                    continue;
                }
            };
            if first_error.is_some() {
                continue;
            }
            let r = (|| -> Result<()> {
                if store_w.is_none() {
                    store_w = Some(store.writer()?);
                }
                store_w.as_mut().unwrap().put_commit(&done.commit)?;
                if let Some(record) = &done.record {
                    if cache_w.is_none() {
                        // Durable commits: the cache must survive this build, and redb
                        // only reuses freed pages after a durable commit.
                        let w = cache
                            .db
                            .begin_write()
                            .map_err(|e| cache_error(&cache.path, e))?;
                        cache_w = Some(w);
                    }
                    let oid = ObjectId::from_hex(done.commit.id.as_bytes())
                        .map_err(|e| cache_error(&cache.path, e))?;
                    let w = cache_w.as_ref().unwrap();
                    let mut t = w
                        .open_table(DIFFS)
                        .map_err(|e| cache_error(&cache.path, e))?;
                    t.insert(oid.as_bytes(), record.as_slice())
                        .map_err(|e| cache_error(&cache.path, e))?;
                }
                if done.record.is_some() {
                    batch += 1;
                }
                if batch >= 4096 {
                    batch = 0;
                    if let Some(w) = cache_w.take() {
                        w.commit().map_err(|e| cache_error(&cache.path, e))?;
                    }
                }
                progress.advance(1);
                Ok(())
            })();
            if let Err(e) = r {
                first_error.get_or_insert(e);
                next.store(usize::MAX / 2, Ordering::Relaxed);
            }
        }
        if first_error.is_none() {
            let r = (|| -> Result<()> {
                if let Some(w) = store_w.take() {
                    w.commit()?;
                }
                if let Some(w) = cache_w.take() {
                    w.commit().map_err(|e| cache_error(&cache.path, e))?;
                }
                Ok(())
            })();
            if let Err(e) = r {
                first_error = Some(e);
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    report.diffs_computed = computed.load(Ordering::Relaxed);
    report.diffs_cached = jobs.len() - report.diffs_computed;
    Ok(())
}

fn cache_lookup(cache: &DiffCache, ids: &[&str]) -> Result<Vec<Option<DiffRecord>>> {
    let txn = cache
        .db
        .begin_read()
        .map_err(|e| cache_error(&cache.path, e))?;
    let table = txn
        .open_table(DIFFS)
        .map_err(|e| cache_error(&cache.path, e))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let oid = ObjectId::from_hex(id.as_bytes()).map_err(|e| cache_error(&cache.path, e))?;
        let v = table
            .get(oid.as_bytes())
            .map_err(|e| cache_error(&cache.path, e))?;
        out.push(v.and_then(|v| DiffRecord::decode(v.value(), false)));
    }
    Ok(out)
}

/// One diff thread's repository handle, caches and buffers.
struct Worker {
    repo: gix::Repository,
    platform: gix::diff::blob::Platform,
    state: gix::diff::tree::State,
    buf: Vec<u8>,
    old_tree: Vec<u8>,
    new_tree: Vec<u8>,
    old_blob: Vec<u8>,
    new_blob: Vec<u8>,
}

impl Worker {
    fn new(repo: &gix::ThreadSafeRepository) -> Result<Worker> {
        let mut repo = repo.to_thread_local();
        // Rename detection compares candidate blobs; histogram is faster than git's myers.
        {
            let mut cfg = repo.config_snapshot_mut();
            let _ = cfg.set_value(&gix::config::tree::Diff::ALGORITHM, "histogram");
            let _ = cfg.commit();
        }
        // Per worker: decoded objects (trees and blobs shared by neighbouring commits) and
        // delta bases. Modest caps: two workers on a small machine.
        repo.object_cache_size(Some(24 << 20));
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::StaticLinkedList::<64>::new(
                32 << 20,
            ))
        });
        let platform = repo
            .diff_resource_cache_for_tree_diff()
            .map_err(|e| git_error(repo.git_dir(), "cannot prepare diffs", e))?;
        Ok(Worker {
            repo,
            platform,
            state: Default::default(),
            buf: Vec::new(),
            old_tree: Vec::new(),
            new_tree: Vec::new(),
            old_blob: Vec::new(),
            new_blob: Vec::new(),
        })
    }

    fn commit(
        &mut self,
        id: &str,
        mailmap: &gix::mailmap::Snapshot,
        show_emails: bool,
    ) -> Result<Commit> {
        let oid = ObjectId::from_hex(id.as_bytes())
            .map_err(|e| git_error(self.repo.git_dir(), "bad id", e))?;
        let data = self
            .repo
            .objects
            .try_find(&oid, &mut self.buf)
            .map_err(|e| git_error(self.repo.git_dir(), &format!("cannot read commit {id}"), e))?
            .ok_or_else(|| git_error(self.repo.git_dir(), "commit disappeared", id))?;
        Ok(RawCommit::parse(data.data).to_model(id, mailmap, show_emails))
    }

    /// Diffs a commit against its first parent.
    fn diff(
        &mut self,
        graph: &HashMap<String, GraphEntry>,
        entry: &GraphEntry,
        cap: u64,
    ) -> Result<DiffRecord> {
        let git_dir = self.repo.git_dir().to_path_buf();
        let err = |what: &str, e: &dyn std::fmt::Display| git_error(&git_dir, what, e);
        let parent_tree = match entry.parents.first() {
            None => None,
            Some(p) => match graph.get(&p.to_string()) {
                Some(pe) => Some(pe.tree),
                None => {
                    return Ok(DiffRecord {
                        cap,
                        unavailable: true,
                        ..Default::default()
                    })
                }
            },
        };
        let hash = entry.tree.kind();
        let empty = ObjectId::empty_tree(hash);
        let load = |objects: &gix::OdbHandle, id: &ObjectId, buf: &mut Vec<u8>| -> Result<()> {
            buf.clear();
            if *id == ObjectId::empty_tree(id.kind()) {
                return Ok(());
            }
            match objects.try_find(id, buf) {
                Ok(Some(d)) if d.kind == gix::objs::Kind::Tree => Ok(()),
                Ok(_) => Err(err("tree missing", &id.to_string())),
                Err(e) => Err(err("cannot read tree", &e)),
            }
        };
        load(
            &self.repo.objects,
            &parent_tree.unwrap_or(empty),
            &mut self.old_tree,
        )?;
        load(&self.repo.objects, &entry.tree, &mut self.new_tree)?;
        // Rename detection needs both sides' blobs; where one is missing (partial clone) the
        // diff is redone without it.
        let mut changes: Vec<gix::diff::tree_with_rewrites::Change> = Vec::new();
        let mut outcome = Ok(None);
        // Exact renames are always found; similar-content renames are searched when the
        // candidates allow at most 100×100 comparisons (gix compares whole blobs).
        let fuzzy = gix::diff::Rewrites {
            limit: 100,
            ..Default::default()
        };
        for rewrites in [Some(fuzzy), None] {
            changes.clear();
            let options = gix::diff::tree_with_rewrites::Options {
                location: Some(gix::diff::tree::recorder::Location::Path),
                rewrites,
            };
            self.platform.clear_resource_cache_keep_allocation();
            outcome = gix::diff::tree_with_rewrites(
                gix::objs::TreeRefIter::from_bytes(&self.old_tree, hash),
                gix::objs::TreeRefIter::from_bytes(&self.new_tree, hash),
                &mut self.platform,
                &mut self.state,
                &self.repo.objects,
                |change| {
                    changes.push(change.into_owned());
                    Ok(std::ops::ControlFlow::Continue(()))
                },
                options,
            );
            if outcome.is_ok() {
                break;
            }
        }
        if let Err(e) = outcome {
            return Err(err("cannot diff trees", &e));
        }
        let mut files: Vec<FileChange> = changes.into_iter().filter_map(FileChange::of).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path).then(a.old_path.cmp(&b.old_path)));

        let mut out = DiffText::new(cap);
        let mut stat = Vec::with_capacity(files.len());
        for f in &files {
            let old = self.blob(f.old_id, true)?;
            let new = self.blob(f.new_id, false)?;
            let old = if old {
                Some(self.old_blob.as_slice())
            } else {
                None
            };
            let new = if new {
                Some(self.new_blob.as_slice())
            } else {
                None
            };
            stat.push(file_diff(f, old, new, &mut out));
        }
        Ok(DiffRecord {
            cap,
            stat,
            truncated: out.truncated,
            text: out.text,
            unavailable: false,
        })
    }

    /// Loads a blob into the old or new buffer; false when the side is absent or not a blob
    /// (a missing object in a partial clone).
    fn blob(&mut self, id: Option<ObjectId>, old: bool) -> Result<bool> {
        let buf = if old {
            &mut self.old_blob
        } else {
            &mut self.new_blob
        };
        buf.clear();
        let Some(id) = id else { return Ok(false) };
        if id == ObjectId::empty_blob(id.kind()) {
            return Ok(true);
        }
        let found = match self.repo.objects.try_find(&id, buf) {
            Ok(Some(d)) => d.kind == gix::objs::Kind::Blob,
            Ok(None) => false,
            Err(e) => {
                return Err(git_error(
                    self.repo.git_dir(),
                    &format!("cannot read blob {id}"),
                    e,
                ))
            }
        };
        if !found {
            buf.clear();
        }
        Ok(found)
    }
}

/// One changed file (trees left out), owned.
#[derive(Debug)]
struct FileChange {
    path: String,
    old_path: Option<String>,
    old_id: Option<ObjectId>,
    new_id: Option<ObjectId>,
    old_mode: Option<gix::objs::tree::EntryMode>,
    new_mode: Option<gix::objs::tree::EntryMode>,
    similarity: Option<u32>,
    copy: bool,
}

impl FileChange {
    fn of(c: gix::diff::tree_with_rewrites::Change) -> Option<FileChange> {
        use gix::diff::tree_with_rewrites::Change::*;
        let lossy = |b: &BStr| b.to_str_lossy().into_owned();
        let f = match c {
            Addition {
                location,
                entry_mode,
                id,
                ..
            } => FileChange {
                path: lossy(location.as_ref()),
                old_path: None,
                old_id: None,
                new_id: Some(id),
                old_mode: None,
                new_mode: Some(entry_mode),
                similarity: None,
                copy: false,
            },
            Deletion {
                location,
                entry_mode,
                id,
                ..
            } => FileChange {
                path: lossy(location.as_ref()),
                old_path: None,
                old_id: Some(id),
                new_id: None,
                old_mode: Some(entry_mode),
                new_mode: None,
                similarity: None,
                copy: false,
            },
            Modification {
                location,
                previous_entry_mode,
                previous_id,
                entry_mode,
                id,
            } => FileChange {
                path: lossy(location.as_ref()),
                old_path: None,
                old_id: Some(previous_id),
                new_id: Some(id),
                old_mode: Some(previous_entry_mode),
                new_mode: Some(entry_mode),
                similarity: None,
                copy: false,
            },
            Rewrite {
                source_location,
                source_entry_mode,
                source_id,
                diff,
                entry_mode,
                id,
                location,
                copy,
                ..
            } => FileChange {
                path: lossy(location.as_ref()),
                old_path: Some(lossy(source_location.as_ref())),
                old_id: Some(source_id),
                new_id: Some(id),
                old_mode: Some(source_entry_mode),
                new_mode: Some(entry_mode),
                similarity: Some(diff.map_or(100, |d| (d.similarity * 100.0).round() as u32)),
                copy,
            },
        };
        let is_tree = |m: Option<gix::objs::tree::EntryMode>| m.is_some_and(|m| m.is_tree());
        if is_tree(f.old_mode) && f.new_mode.is_none()
            || is_tree(f.new_mode) && f.old_mode.is_none()
            || is_tree(f.old_mode) && is_tree(f.new_mode)
        {
            return None;
        }
        Some(f)
    }
}

/// The diff text of a commit being built, up to the cap.
struct DiffText {
    text: String,
    cap: u64,
    truncated: bool,
}

impl DiffText {
    fn new(cap: u64) -> Self {
        DiffText {
            text: String::new(),
            cap,
            truncated: false,
        }
    }

    /// Whether more text is wanted.
    fn open(&self) -> bool {
        self.cap != NO_TEXT && !self.truncated
    }

    /// Appends a line (without its newline) unless the cap is reached.
    fn line(&mut self, parts: &[&str]) {
        if !self.open() {
            return;
        }
        let len: usize = parts.iter().map(|p| p.len()).sum::<usize>() + 1;
        if (self.text.len() + len) as u64 > self.cap {
            self.truncated = true;
            return;
        }
        for p in parts {
            self.text.push_str(p);
        }
        self.text.push('\n');
    }
}

fn mode_octal(m: gix::objs::tree::EntryMode) -> String {
    format!("{:06o}", m.value())
}

fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8000)].contains(&0)
}

fn count_lines(data: &[u8]) -> u32 {
    if data.is_empty() {
        return 0;
    }
    let n = data.iter().filter(|&&b| b == b'\n').count();
    (n + usize::from(*data.last().unwrap() != b'\n')) as u32
}

fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    gix::diff::blob::sources::byte_lines(data).collect()
}

/// Diffs one file: its stat, and its text appended to `out` while the cap allows.
fn file_diff(
    f: &FileChange,
    old: Option<&[u8]>,
    new: Option<&[u8]>,
    out: &mut DiffText,
) -> FileStat {
    let mut stat = FileStat {
        path: f.path.clone(),
        old_path: f.old_path.clone(),
        ..Default::default()
    };
    let commit_mode = |m: Option<gix::objs::tree::EntryMode>| m.is_some_and(|m| m.is_commit());
    let a_path = f.old_path.as_deref().unwrap_or(&f.path);
    let b_path = f.path.as_str();
    out.line(&["diff --git a/", a_path, " b/", b_path]);
    match (f.old_mode, f.new_mode) {
        (None, Some(m)) => out.line(&["new file mode ", &mode_octal(m)]),
        (Some(m), None) => out.line(&["deleted file mode ", &mode_octal(m)]),
        (Some(a), Some(b)) if a != b => {
            out.line(&["old mode ", &mode_octal(a)]);
            out.line(&["new mode ", &mode_octal(b)]);
        }
        _ => {}
    }
    if let Some(old_path) = &f.old_path {
        let s = f.similarity.unwrap_or(100).to_string();
        let (from, to) = if f.copy {
            ("copy from ", "copy to ")
        } else {
            ("rename from ", "rename to ")
        };
        out.line(&["similarity index ", &s, "%"]);
        out.line(&[from, old_path]);
        out.line(&[to, &f.path]);
    }
    if f.old_id == f.new_id {
        return stat; // pure rename or mode change
    }
    let short = |id: Option<ObjectId>| match id {
        Some(id) => id.to_hex_with_len(7).to_string(),
        None => "0000000".to_string(),
    };
    // Submodules: one line each side, as git shows them.
    if commit_mode(f.old_mode) || commit_mode(f.new_mode) {
        out.line(&["index ", &short(f.old_id), "..", &short(f.new_id)]);
        out.line(&[
            "--- ",
            if f.old_id.is_some() {
                "a/"
            } else {
                "/dev/null"
            },
            if f.old_id.is_some() { a_path } else { "" },
        ]);
        out.line(&[
            "+++ ",
            if f.new_id.is_some() {
                "b/"
            } else {
                "/dev/null"
            },
            if f.new_id.is_some() { b_path } else { "" },
        ]);
        if let (Some(id), true) = (f.old_id, commit_mode(f.old_mode)) {
            stat.removed = 1;
            out.line(&["-Subproject commit ", &id.to_string()]);
        }
        if let (Some(id), true) = (f.new_id, commit_mode(f.new_mode)) {
            stat.added = 1;
            out.line(&["+Subproject commit ", &id.to_string()]);
        }
        return stat;
    }
    let mode_suffix = match (f.old_mode, f.new_mode) {
        (Some(a), Some(b)) if a == b => format!(" {}", mode_octal(a)),
        _ => String::new(),
    };
    // A side that should exist but is not in the repository (partial clone).
    let unavailable =
        (f.old_id.is_some() && old.is_none()) || (f.new_id.is_some() && new.is_none());
    let (old, new) = (old.unwrap_or(b""), new.unwrap_or(b""));
    if unavailable || is_binary(old) || is_binary(new) {
        stat.binary = true;
        out.line(&[
            "index ",
            &short(f.old_id),
            "..",
            &short(f.new_id),
            &mode_suffix,
        ]);
        let a = if f.old_id.is_some() {
            format!("a/{a_path}")
        } else {
            "/dev/null".into()
        };
        let b = if f.new_id.is_some() {
            format!("b/{b_path}")
        } else {
            "/dev/null".into()
        };
        if unavailable {
            out.line(&["(content not in the repository)"]);
        } else {
            out.line(&["Binary files ", &a, " and ", &b, " differ"]);
        }
        return stat;
    }
    let header = |out: &mut DiffText| {
        out.line(&[
            "index ",
            &short(f.old_id),
            "..",
            &short(f.new_id),
            &mode_suffix,
        ]);
        if f.old_id.is_some() {
            out.line(&["--- a/", a_path]);
        } else {
            out.line(&["--- /dev/null"]);
        }
        if f.new_id.is_some() {
            out.line(&["+++ b/", b_path]);
        } else {
            out.line(&["+++ /dev/null"]);
        }
    };
    // Additions and deletions need no diff.
    if f.old_id.is_none() || f.new_id.is_none() || old.is_empty() || new.is_empty() {
        stat.removed = count_lines(old);
        stat.added = count_lines(new);
        header(out);
        if out.open() && (stat.added > 0 || stat.removed > 0) {
            let range = |n: u32| match n {
                0 => "0,0".to_string(),
                1 => "1".to_string(),
                n => format!("1,{n}"),
            };
            out.line(&[
                "@@ -",
                &range(stat.removed),
                " +",
                &range(stat.added),
                " @@",
            ]);
            for (sign, data) in [("-", old), ("+", new)] {
                for l in split_lines(data) {
                    if !out.open() {
                        break;
                    }
                    push_line(out, sign, l);
                }
            }
        }
        return stat;
    }
    use gix::diff::blob::{Algorithm, Diff, Hunk, InternedInput};
    // Most changes touch a few lines of a long file: only the lines between the common
    // leading and trailing lines are interned and diffed.
    let (prefix, suffix) = common_line_affixes(old, new);
    let base = old[..prefix].iter().filter(|&&b| b == b'\n').count() as u32;
    let input = InternedInput::new(
        gix::diff::blob::sources::byte_lines(&old[prefix..old.len() - suffix]),
        gix::diff::blob::sources::byte_lines(&new[prefix..new.len() - suffix]),
    );
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    stat.added = diff.count_additions();
    stat.removed = diff.count_removals();
    header(out);
    if !out.open() {
        return stat;
    }
    diff.postprocess_lines(&input);
    let a = split_lines(old);
    let b = split_lines(new);
    let hunks: Vec<Hunk> = diff
        .hunks()
        .map(|h| Hunk {
            before: h.before.start + base..h.before.end + base,
            after: h.after.start + base..h.after.end + base,
        })
        .collect();
    let mut i = 0;
    while i < hunks.len() && out.open() {
        // Group hunks whose context overlaps.
        let mut j = i;
        while j + 1 < hunks.len() && hunks[j + 1].before.start - hunks[j].before.end <= 2 * CONTEXT
        {
            j += 1;
        }
        let first = &hunks[i];
        let last = &hunks[j];
        let lead = first.before.start.min(CONTEXT);
        let b_start = first.before.start - lead;
        let a_start = first.after.start - lead;
        let trail = (a.len() as u32 - last.before.end).min(CONTEXT);
        let b_end = last.before.end + trail;
        let a_end = last.after.end + trail;
        let range = |start: u32, len: u32| match len {
            0 => format!("{start},0"),
            1 => format!("{}", start + 1),
            n => format!("{},{n}", start + 1),
        };
        out.line(&[
            "@@ -",
            &range(b_start, b_end - b_start),
            " +",
            &range(a_start, a_end - a_start),
            " @@",
        ]);
        let mut pos = b_start;
        for h in &hunks[i..=j] {
            for k in pos..h.before.start {
                push_line(out, " ", a[k as usize]);
            }
            for k in h.before.clone() {
                push_line(out, "-", a[k as usize]);
            }
            for k in h.after.clone() {
                push_line(out, "+", b[k as usize]);
            }
            pos = h.before.end;
        }
        for k in pos..b_end {
            push_line(out, " ", a[k as usize]);
        }
        i = j + 1;
    }
    stat
}

/// The byte lengths of the longest common leading and trailing runs of whole lines of two
/// texts (not overlapping).
fn common_line_affixes(old: &[u8], new: &[u8]) -> (usize, usize) {
    let raw = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let prefix = if raw == old.len() && raw == new.len() {
        raw
    } else {
        old[..raw]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    };
    let (o, n) = (&old[prefix..], &new[prefix..]);
    let raw = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let starts_line = |t: &[u8], len: usize| len == t.len() || t[t.len() - len - 1] == b'\n';
    let mut suffix = raw;
    if !(starts_line(o, suffix) && starts_line(n, suffix)) {
        // Move the start forward to the next line start (the suffix text is the same in both).
        let tail = &o[o.len() - suffix..];
        suffix = match tail.iter().position(|&b| b == b'\n') {
            Some(i) => suffix - (i + 1),
            None => 0,
        };
    }
    (prefix, suffix)
}

fn push_line(out: &mut DiffText, sign: &str, line: &[u8]) {
    let (body, newline) = match line.strip_suffix(b"\n") {
        Some(b) => (b, true),
        None => (line, false),
    };
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    out.line(&[sign, &body.to_str_lossy()]);
    if !newline {
        out.line(&["\\ No newline at end of file"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_leniently() {
        let (n, e, t) = parse_signature(b"Andreas Dilger <adilger@whamcloud.com> 1690502400 -0600");
        assert_eq!(
            (n.as_str(), e.as_str()),
            ("Andreas Dilger", "adilger@whamcloud.com")
        );
        assert_eq!(t.unwrap().original_display(), "2023-07-27 18:00:00 -0600");
        let (n, e, t) = parse_signature(b"pschwan 1022000000 +0000");
        assert_eq!((n.as_str(), e.as_str()), ("pschwan 1022000000 +0000", ""));
        assert!(t.is_none());
        let (_, _, t) = parse_signature(b"x <x@y> 1022000000 +9999");
        assert_eq!(t.unwrap().original_display(), "2002-05-21 16:53:20 +0000");
    }

    #[test]
    fn raw_commits_and_odd_messages() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0123456789012345678901234567890123456789\nauthor A <a@b.c> 1 +0000\ncommitter C <c@d.e> 2 +0100\nencoding ISO-8859-1\n\nSubject caf\xe9\n\nbody\n";
        let c = RawCommit::parse(raw);
        assert_eq!(c.parents.len(), 1);
        let m = c.to_model("x", &Default::default(), true);
        assert_eq!(m.subject, "Subject café");
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b.c> 1 +0000\ncommitter C <c@d.e> 2 +0100\n\nbad \xff\xfe bytes";
        let m = RawCommit::parse(raw).to_model("x", &Default::default(), false);
        assert_eq!(m.subject, "bad \u{fffd}\u{fffd} bytes");
        assert_eq!(m.author.email, "a@…");
    }

    #[test]
    fn trailers_are_the_last_paragraph() {
        let body = "Some text.\n\nMore: not a trailer block\nbecause of this line\n\nSigned-off-by: A <a@b>\nChange-Id: I0123\nReviewed-on: https://review.whamcloud.com/c/fs/lustre-release/+/12345\nTested-by: Maloo <maloo@x>\n";
        let (start, t) = split_trailers(body);
        assert_eq!(t.len(), 4);
        assert_eq!(t[1].key, "Change-Id");
        assert_eq!(
            t[2].value,
            "https://review.whamcloud.com/c/fs/lustre-release/+/12345"
        );
        assert!(body[start..].starts_with("Signed-off-by"));
        let (start, t) = split_trailers("b=12345\ni=adilger\nr=green\n");
        assert!(t.is_empty());
        assert_eq!(start, "b=12345\ni=adilger\nr=green\n".len());
    }

    /// A file changed in place (the ids only need to differ).
    fn modified(path: &str) -> FileChange {
        FileChange {
            path: path.into(),
            old_path: None,
            old_id: Some(ObjectId::null(gix::hash::Kind::Sha1)),
            new_id: Some(ObjectId::empty_blob(gix::hash::Kind::Sha1)),
            old_mode: None,
            new_mode: None,
            similarity: None,
            copy: false,
        }
    }

    #[test]
    fn unified_diff_with_context_and_cap() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 5\n", "line five\n")
            .replace("line 16\n", "");
        let f = modified("a.c");
        let mut out = DiffText::new(1 << 20);
        let s = file_diff(&f, Some(old.as_bytes()), Some(new.as_bytes()), &mut out);
        assert_eq!((s.added, s.removed), (1, 2));
        assert!(
            out.text.contains("@@ -2,7 +2,7 @@\n line 2\n"),
            "{}",
            out.text
        );
        assert!(out.text.contains("-line 5\n+line five\n"));
        assert!(out.text.contains("@@ -13,7 +13,6 @@"), "{}", out.text);
        let mut small = DiffText::new(60);
        let s2 = file_diff(&f, Some(old.as_bytes()), Some(new.as_bytes()), &mut small);
        assert_eq!(s2, s);
        assert!(small.truncated && small.text.len() <= 60);
    }

    #[test]
    fn affixes_are_whole_lines() {
        assert_eq!(common_line_affixes(b"a\nb\nc\n", b"a\nx\nc\n"), (2, 2));
        assert_eq!(common_line_affixes(b"a\nbc\n", b"a\nxc\n"), (2, 0));
        assert_eq!(common_line_affixes(b"a\nb", b"a\nb\n"), (2, 0));
        assert_eq!(common_line_affixes(b"x\n", b"y\n"), (0, 0));
        assert_eq!(common_line_affixes(b"a\n", b"a\na\n"), (2, 0));
        // The diff over the trimmed middle gives the counts of a full diff.
        let old: String = (0..500).map(|i| format!("{i}\n")).collect();
        let new: String = (0..500)
            .filter(|&i| i != 7)
            .map(|i| match i {
                250 => "250a\n251b\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let f = modified("n");
        let mut out = DiffText::new(1 << 20);
        let s = file_diff(&f, Some(old.as_bytes()), Some(new.as_bytes()), &mut out);
        assert_eq!((s.added, s.removed), (2, 2));
        assert!(
            out.text
                .contains("@@ -248,7 +247,8 @@\n 247\n 248\n 249\n-250\n+250a\n+251b\n 251\n"),
            "{}",
            out.text
        );
        assert!(out.text.contains("@@ -5,7 +5,6 @@\n 4\n 5\n 6\n-7\n 8\n"));
    }

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

    #[test]
    fn records_round_trip() {
        let r = DiffRecord {
            cap: 65536,
            stat: vec![FileStat {
                path: "x".into(),
                added: 3,
                ..Default::default()
            }],
            text: "diff --git a/x b/x\n+é\n".into(),
            truncated: true,
            unavailable: false,
        };
        assert_eq!(DiffRecord::decode(&r.encode(), true).unwrap(), r);
        let without = DiffRecord::decode(&r.encode(), false).unwrap();
        assert_eq!(without.stat, r.stat);
        assert!(without.text.is_empty());
    }
}
