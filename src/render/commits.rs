//! Source-history pages: one page per commit (`commits/ab/<sha>.html`), the commits that landed
//! on each branch (paginated), the history of each path more than one commit
//! changed (`paths/<bucket>/<hash>.html`), and the Development panel of issue pages (release
//! pages are `releases.rs`'s). A commit's
//! diff shows each file under a header (anchor `file-<slug of the path>`, link to the path's
//! history) with old and new line numbers, read from the hunk headers, beside the text.
//!
//! Commit pages are rendered in parallel chunks, each loading its commits from the archive
//! store and their diffs from the build cache; memory stays bounded by the chunk size. Commit
//! messages are escaped, then linked: issue references (by the configured patterns) to issue
//! pages when the issue is published, commit ids to commit pages when they name exactly one
//! commit, URLs to themselves; everything else stays text.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use rayon::prelude::*;
use regex::Regex;
use serde::Serialize;
use serde_json::value::RawValue;

use super::memo::Page;
use super::releases::FixView;
use super::{page_of, root_of, slug, Renderer, TimeView};
use crate::error::{Error, Result};
use crate::keys::{commit_path, looks_like_commit_id, split_key};
use crate::model::{Commit, Signature};
use crate::observe::Observer;
use crate::render::PageSink;
use crate::source::history::{CommitInfo, History};
use crate::source::references::References;
use crate::source::{split_trailers, DiffCache, DiffRecord};
use crate::text::email::mask_emails;
use crate::text::{escape, escape_into};

/// The folder of a branch's listing: the name itself when it is short, lower-case and safe
/// everywhere (`b2_15`), else a slug with a hash (`feature/x`, `Master`).
fn branch_dir(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= 48
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if plain {
        format!("commits/branch/{name}")
    } else {
        format!("commits/branch/{}", slug(name))
    }
}

pub(super) fn page_file(dir: &str, page: usize) -> String {
    if page == 1 {
        format!("{dir}/index.html")
    } else {
        format!("{dir}/{page}.html")
    }
}

/// A named link.
#[derive(Serialize)]
pub(super) struct Link {
    pub(super) name: String,
    pub(super) href: String,
}

/// One commit in a listing or panel.
#[derive(Serialize)]
pub(super) struct CommitRow {
    id: String,
    short: String,
    href: String,
    subject: String,
    author: String,
    /// The author's person page (or index row).
    author_href: Option<String>,
    date: Option<TimeView>,
    branch: Option<Link>,
    release: Option<Link>,
}

#[derive(Serialize)]
struct RefView {
    key: String,
    href: Option<String>,
    summary: Option<String>,
    done: bool,
}

#[derive(Serialize)]
struct ParentView {
    id: String,
    short: String,
    href: Option<String>,
}

#[derive(Serialize)]
struct PersonView {
    name: String,
    /// Their person page (or index row).
    href: Option<String>,
    email: Option<String>,
    date: Option<TimeView>,
}

#[derive(Serialize)]
struct TrailerView {
    key: String,
    value_html: String,
}

#[derive(Serialize)]
struct StatView {
    path: String,
    old_path: Option<String>,
    added: u32,
    removed: u32,
    binary: bool,
    anchor: Option<String>,
}

#[derive(Serialize)]
struct CommitView {
    id: String,
    short: String,
    subject_html: String,
    body_html: Option<String>,
    author: PersonView,
    committer: Option<PersonView>,
    parents: Vec<ParentView>,
    home: Option<Link>,
    branches: Vec<Link>,
    release: Option<Link>,
    tags: Vec<String>,
    change_id: Option<String>,
    references: Vec<RefView>,
    trailers: Vec<TrailerView>,
    stats: Vec<StatView>,
    files: usize,
    added: u64,
    removed: u64,
    diff_html: Option<String>,
    diff_truncated: bool,
    diff_cap_kb: u64,
    diffs_off: bool,
    diff_unavailable: bool,
}

/// An issue page's Development panel.
#[derive(Serialize)]
pub(super) struct Development {
    /// Where the fix shipped: "fixed in 2.15.0 (commit …), back-ported to 2.14.1 (…)".
    fix: FixView,
    /// The tracker's fix versions, shown beside it.
    fix_versions: Vec<String>,
    /// Commits citing the issue, ports of one change (same Change-Id) together.
    groups: Vec<PortGroup>,
    commits: usize,
}

impl Development {
    /// The panel showing the tracker's fix versions beside where the fix shipped.
    pub(super) fn with_fix_versions(self, fix_versions: &[String]) -> Self {
        Development {
            fix_versions: fix_versions.to_vec(),
            ..self
        }
    }
}

#[derive(Serialize)]
struct PortGroup {
    /// More than one commit: the change and its ports.
    ports: bool,
    change_id: Option<String>,
    review_href: Option<String>,
    subject: String,
    commits: Vec<CommitRow>,
}

fn url_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"\b(?:https?|ftp)://[^\s<>"'()\[\]{}]+[^\s<>"'()\[\]{}.,;:!?]"#).unwrap()
    })
}

fn hash_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b[0-9a-fA-F]{7,40}\b").unwrap())
}

/// What commit-related rendering needs, computed once per build.
pub(super) struct CommitContext<'a> {
    references: References,
    diffs: Option<&'a DiffCache>,
    /// The paths more than one commit changed, each with those commits (positions in the
    /// history, newest first): they have a history page ([`crate::link::Linked::file_histories`]).
    paths: &'a HashMap<String, Vec<u32>>,
}

impl<'a> CommitContext<'a> {
    pub(super) fn new(r: &Renderer<'a>) -> Result<Self> {
        Ok(CommitContext {
            references: References::from_config(r.config)?,
            diffs: r.diffs,
            paths: &r.linked.file_histories,
        })
    }
}

impl Renderer<'_> {
    fn history(&self) -> &History {
        &self.linked.history
    }

    pub(super) fn commit_row(&self, i: u32, root: &str) -> CommitRow {
        let h = self.history();
        let c = &h.commits[i as usize];
        CommitRow {
            id: c.id.clone(),
            short: c.short_id().to_string(),
            href: format!("{root}{}", commit_path(&c.id)),
            subject: c.subject.clone(),
            author: c.author.clone(),
            author_href: self
                .linked
                .persons
                .href(&c.author)
                .map(|h| format!("{root}{h}")),
            date: c.time.as_ref().map(TimeView::of),
            branch: c.home.map(|b| self.branch_link(b, root)),
            release: c.first_release.map(|r| self.release_link(r, root)),
        }
    }

    fn branch_link(&self, b: u32, root: &str) -> Link {
        let name = &self.history().branches[b as usize].name;
        Link {
            name: name.clone(),
            href: format!("{root}{}", page_file(&branch_dir(name), 1)),
        }
    }

    fn issue_ref(&self, key: &str, root: &str) -> RefView {
        let s = self.linked.issue(key);
        RefView {
            key: key.to_string(),
            href: s.map(|s| format!("{root}{}.html", s.path())),
            summary: s.map(|s| s.summary.to_string()),
            done: s.is_some_and(|s| !s.is_open()),
        }
    }

    /// Whether a generic `PROJ-123` reference counts (its project is in the archive).
    fn counts(&self, generic: bool, key: &str) -> bool {
        !generic
            || split_key(key).is_some_and(|k| {
                self.linked.projects.contains_key(k.project)
                    || self
                        .config
                        .projects
                        .iter()
                        .flatten()
                        .any(|p| p == k.project)
            })
    }

    /// Escapes commit-message text and links what it cites.
    fn message_html(&self, text: &str, cc: &CommitContext, root: &str, own_id: &str) -> String {
        let h = self.history();
        let issue_href = |key: &str| {
            self.linked
                .issue(key)
                .map(|s| format!("{root}{}.html", s.path()))
        };
        let refs: Vec<_> = cc
            .references
            .find(text)
            .into_iter()
            .filter(|f| f.keys.iter().any(|k| self.counts(f.generic, k)))
            .collect();
        // (start, end, opening tag)
        let mut spans: Vec<(usize, usize, String)> = Vec::new();
        let local = |href: String| format!("<a href=\"{}\" class=\"issue-link\">", escape(&href));
        for m in url_pattern().find_iter(text) {
            let inside = refs
                .iter()
                .filter(|f| f.start < m.end() && f.end > m.start())
                .flat_map(|f| f.keys.iter())
                .find_map(|k| issue_href(k));
            let open = match inside {
                Some(h) => local(h),
                None => format!(
                    "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">",
                    escape(m.as_str())
                ),
            };
            spans.push((m.start(), m.end(), open));
        }
        let overlaps = |spans: &[(usize, usize, String)], s: usize, e: usize| {
            spans.iter().any(|(a, b, _)| s < *b && e > *a)
        };
        for f in &refs {
            if overlaps(&spans, f.start, f.end) {
                continue;
            }
            if let Some(h) = f.keys.iter().find_map(|k| issue_href(k)) {
                spans.push((f.start, f.end, local(h)));
            }
        }
        for m in hash_pattern().find_iter(text) {
            if !looks_like_commit_id(m.as_str()) || overlaps(&spans, m.start(), m.end()) {
                continue;
            }
            if let Some(i) = h.resolve_prefix(m.as_str()) {
                let id = &h.commits[i as usize].id;
                if id != own_id {
                    spans.push((
                        m.start(),
                        m.end(),
                        format!(
                            "<a href=\"{}\" class=\"commit-link\">",
                            escape(&format!("{root}{}", commit_path(id)))
                        ),
                    ));
                }
            }
        }
        spans.sort_by_key(|s| s.0);
        let mut out = String::with_capacity(text.len() + spans.len() * 48);
        let mut last = 0;
        for (s, e, open) in spans {
            out.push_str(&escape(&text[last..s]));
            out.push_str(&open);
            out.push_str(&escape(&text[s..e]));
            out.push_str("</a>");
            last = e;
        }
        out.push_str(&escape(&text[last..]));
        out
    }

    fn person(&self, s: &Signature, root: &str) -> PersonView {
        PersonView {
            name: s.name.clone(),
            href: self
                .linked
                .persons
                .href(&s.name)
                .map(|h| format!("{root}{h}")),
            email: (self.config.show_emails && !s.email.is_empty()).then(|| s.email.clone()),
            date: s.time.as_ref().map(TimeView::of),
        }
    }

    /// A person trailer's value (`Reviewed-by: Jane Roe <jroe@…>`) with the name linked to
    /// the person, when the index knows them; the rest stays text.
    fn person_trailer(&self, key: &str, value: &str, root: &str) -> Option<String> {
        if !crate::link::people::names_a_person(key) {
            return None;
        }
        let name = crate::link::people::trailer_name(value)?;
        let href = self.linked.persons.href(name)?;
        // `name` is a slice of `value`: its place in it.
        let start = name.as_ptr() as usize - value.as_ptr() as usize;
        let end = start + name.len();
        Some(format!(
            "{}<a class=\"person\" href=\"{}{}\">{}</a>{}",
            escape(&value[..start]),
            escape(root),
            escape(&href),
            escape(name),
            escape(&value[end..])
        ))
    }

    /// The Gerrit search for a change, for a Change-Id of Gerrit's shape (`I` and 40 hex
    /// digits); anything else in that trailer is shown as text, not made into a link.
    fn gerrit_review(&self, change_id: &str) -> Option<String> {
        if !is_change_id(change_id) {
            return None;
        }
        let base = self
            .config
            .repositories
            .iter()
            .find_map(|r| r.gerrit_url.as_deref())?;
        Some(format!("{}/q/{}", base.trim_end_matches('/'), change_id))
    }

    /// Sets the parts of a commit's view made from its diff: the diff as HTML, and the
    /// anchors of the files it shows.
    fn attach_diff(
        &self,
        view: &mut CommitView,
        commit: &Commit,
        diff: Option<DiffRecord>,
        cc: &CommitContext,
    ) {
        let root = root_of(&commit_path(&commit.id));
        let diff = diff.unwrap_or_default();
        // Each file's anchor (`file-<slug of its path>`, unique on the page) and header.
        let mut anchors = HashSet::new();
        let heads: Vec<FileHead> = commit
            .diffstat
            .iter()
            .map(|s| {
                let mut anchor = format!("file-{}", slug(&s.path));
                let mut k = 1;
                while !anchors.insert(anchor.clone()) {
                    k += 1;
                    anchor = format!("file-{}-{k}", slug(&s.path));
                }
                let label = match &s.old_path {
                    Some(old) if *old != s.path => format!("{old} → {}", s.path),
                    _ => s.path.clone(),
                };
                FileHead {
                    anchor,
                    label,
                    history: cc
                        .paths
                        .contains_key(&s.path)
                        .then(|| format!("{root}{}", path_page(&s.path, 1))),
                }
            })
            .collect();
        let (diff_html, sections) = if view.diffs_off || diff.text.is_empty() {
            (None, 0)
        } else {
            // Borrowed unless an address was masked: a diff is not copied to be read.
            let masked = match self.config.show_emails {
                true => std::borrow::Cow::Borrowed(diff.text.as_str()),
                false => mask_emails(&diff.text),
            };
            let (html, n) = diff_html(&masked, &heads);
            (Some(html), n)
        };
        for (k, (stat, head)) in view.stats.iter_mut().zip(heads).enumerate() {
            stat.anchor = (k < sections).then_some(head.anchor);
        }
        view.diff_html = diff_html;
        view.diff_truncated = diff.truncated && !view.diffs_off;
        view.diff_unavailable = diff.unavailable;
    }

    /// A commit's view with no diff: everything but what [`attach_diff`](Self::attach_diff)
    /// sets.
    fn commit_view_without_diff(&self, commit: &Commit, cc: &CommitContext) -> CommitView {
        let h = self.history();
        let path = commit_path(&commit.id);
        let root = root_of(&path);
        let index = h.index_of(&commit.id);
        let info: Option<&CommitInfo> = index.map(|i| &h.commits[i as usize]);
        let (trailer_start, _) = split_trailers(&commit.body);
        let text = commit.body[..trailer_start.min(commit.body.len())].trim_end();
        let repo = self.config.repositories.first();
        let diffs_off = repo.is_some_and(|r| r.diffs == Some(false));
        let cap = repo
            .and_then(|r| r.diff_cap)
            .unwrap_or(crate::source::DEFAULT_DIFF_CAP) as u64;
        let stats: Vec<StatView> = commit
            .diffstat
            .iter()
            .map(|s| StatView {
                path: s.path.clone(),
                old_path: s.old_path.clone(),
                added: s.added,
                removed: s.removed,
                binary: s.binary,
                anchor: None,
            })
            .collect();
        let same_committer = commit.committer.name == commit.author.name
            && commit.committer.time == commit.author.time;
        CommitView {
            id: commit.id.clone(),
            short: commit.id[..commit.id.len().min(10)].to_string(),
            subject_html: self.message_html(&commit.subject, cc, &root, &commit.id),
            body_html: (!text.trim().is_empty())
                .then(|| self.message_html(text, cc, &root, &commit.id)),
            author: self.person(&commit.author, &root),
            committer: (!same_committer).then(|| self.person(&commit.committer, &root)),
            parents: commit
                .parents
                .iter()
                .map(|p| ParentView {
                    id: p.clone(),
                    short: p[..p.len().min(10)].to_string(),
                    href: h.index_of(p).map(|_| format!("{root}{}", commit_path(p))),
                })
                .collect(),
            home: info
                .and_then(|c| c.home)
                .map(|b| self.branch_link(b, &root)),
            branches: index
                .map(|i| {
                    h.branches_containing(i)
                        .into_iter()
                        .map(|b| self.branch_link(b, &root))
                        .collect()
                })
                .unwrap_or_default(),
            release: info
                .and_then(|c| c.first_release)
                .map(|r| self.release_link(r, &root)),
            tags: info.map(|c| c.tags.clone()).unwrap_or_default(),
            change_id: info.and_then(|c| c.change_id.clone()),
            references: info
                .map(|c| {
                    c.references
                        .iter()
                        .map(|k| self.issue_ref(k, &root))
                        .collect()
                })
                .unwrap_or_default(),
            trailers: commit
                .trailers
                .iter()
                .map(|t| {
                    let value_html = if t.key.eq_ignore_ascii_case("Change-Id") {
                        match self.gerrit_review(&t.value) {
                            Some(href) => format!(
                                "<a href=\"{}\" rel=\"nofollow noopener noreferrer\">{}</a>",
                                escape(&href),
                                escape(&t.value)
                            ),
                            None => escape(&t.value),
                        }
                    } else if let Some(html) = self.person_trailer(&t.key, &t.value, &root) {
                        html
                    } else {
                        self.message_html(&t.value, cc, &root, &commit.id)
                    };
                    TrailerView {
                        key: t.key.clone(),
                        value_html,
                    }
                })
                .collect(),
            files: commit.diffstat.len(),
            added: commit.diffstat.iter().map(|s| s.added as u64).sum(),
            removed: commit.diffstat.iter().map(|s| s.removed as u64).sum(),
            stats,
            diff_html: None,
            diff_truncated: false,
            diff_cap_kb: cap / 1024,
            diffs_off,
            diff_unavailable: false,
        }
    }

    /// A commit page's context without its diff: what the page shows besides the diff, plus
    /// what the diff's HTML is made from that the context does not hold (which files have a
    /// history page). The diff itself is a function of the commit's id and the configuration,
    /// both in the digest, so an unchanged page is kept without its diff being read.
    fn commit_page(&self, commit: &Commit, cc: &CommitContext) -> (Page, CommitView) {
        let root = root_of(&commit_path(&commit.id));
        let view = self.commit_view_without_diff(commit, cc);
        let mut c = self.context(&root);
        c.insert("commit", &view);
        c.insert("page_title", &commit.subject);
        let histories: Vec<bool> = commit
            .diffstat
            .iter()
            .map(|s| cc.paths.contains_key(&s.path))
            .collect();
        c.depends_on("file histories", &histories);
        (c, view)
    }

    /// Every commit page, branch listing and release page. Returns (commit pages, listing
    /// pages).
    pub(super) fn render_history(
        &self,
        sink: &dyn PageSink,
        progress: &dyn Observer,
    ) -> Result<(u64, u64)> {
        let h = self.history();
        if h.commits.is_empty() {
            return Ok((0, 0));
        }
        let cc = CommitContext::new(self)?;
        let pages = AtomicU64::new(0);
        // Chunks in id order (the store's and the cache's key order), each loaded and
        // rendered by one thread: both cores stay busy, memory stays bounded. Only the pages
        // whose inputs changed read their diffs and run the template.
        let mut ids: Vec<&str> = h.commits.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.par_chunks(64).try_for_each(|chunk| {
            let mut todo = Vec::new();
            for id in chunk {
                let Some(commit) = self.linked.store.commit(id)? else {
                    continue;
                };
                pages.fetch_add(1, Ordering::Relaxed);
                let (page, view) = self.commit_page(&commit, &cc);
                let digest = page.digest("commit.html");
                if !self.kept(sink, &commit_path(&commit.id), digest)? {
                    todo.push((commit, page, view, digest));
                }
            }
            let diffs = match cc.diffs {
                Some(d) if !todo.is_empty() => {
                    let ids: Vec<&str> = todo.iter().map(|(c, ..)| c.id.as_str()).collect();
                    d.get_many(&ids)?
                }
                _ => vec![None; todo.len()],
            };
            for ((commit, page, mut view, digest), diff) in todo.into_iter().zip(diffs) {
                self.attach_diff(&mut view, &commit, diff, &cc);
                let mut context = page.context_without("commit");
                context.insert("commit", &view);
                let html = self.render("commit.html", &context)?;
                sink.put_made_from(&commit_path(&commit.id), digest, html.as_bytes())?;
            }
            progress.advance(chunk.len() as u64);
            Ok::<(), Error>(())
        })?;
        let paths = self.render_paths(cc.paths, sink)?;
        drop(cc);
        let listings = self.render_branches(sink)? + self.render_releases(sink)? + paths;
        Ok((pages.load(Ordering::Relaxed), listings))
    }

    /// Each path's history page (`paths/<bucket>/<hash>.html`, paginated): the commits that
    /// changed it, newest first. Returns the number of pages.
    fn render_paths(&self, paths: &HashMap<String, Vec<u32>>, sink: &dyn PageSink) -> Result<u64> {
        let size = self.config.page_size;
        let mut jobs: Vec<(&str, usize)> = paths
            .iter()
            .flat_map(|(path, list)| {
                (1..=list.len().div_ceil(size).max(1)).map(move |p| (path.as_str(), p))
            })
            .collect();
        jobs.sort_unstable();
        // A commit is listed on the page of every path it changed, and those pages share a
        // depth (`path_page`): its row is made (and written as JSON) once, not once per path.
        let root = root_of(&path_page("", 1));
        let rows: Vec<OnceLock<Box<RawValue>>> = (0..self.history().commits.len())
            .map(|_| OnceLock::new())
            .collect();
        jobs.par_iter().try_for_each(|&(path, page)| {
            let file = path_page(path, page);
            debug_assert_eq!(root_of(&file), root);
            let list = &paths[path];
            let (members, total) = page_of(list, page, size);
            let items: Vec<&RawValue> = members
                .iter()
                .map(|&i| {
                    &**rows[i as usize].get_or_init(|| {
                        serde_json::value::to_raw_value(&self.commit_row(i, &root))
                            .expect("a commit row serializes")
                    })
                })
                .collect();
            // The pages of one path share a folder.
            let href = |p: usize| {
                let f = path_page(path, p);
                f.rsplit('/').next().unwrap_or(&f).to_string()
            };
            let pager = super::pager(page, total, href);
            let mut c = self.context(&root);
            c.insert("heading", &format!("History of {path}"));
            c.insert("branch", path);
            c.insert("what", &format!("changed {path}"));
            c.insert("count", &list.len());
            c.insert("items", &items);
            c.insert("fork", &None::<CommitRow>);
            c.insert("tip", &None::<CommitRow>);
            c.insert("pager", &pager);
            c.insert("index_href", &format!("{root}commits/index.html"));
            self.emit(sink, &file, "commits.html", &c)
        })?;
        Ok(jobs.len() as u64)
    }

    pub(super) fn pager(page: usize, total: usize) -> serde_json::Value {
        let href = |p: usize| {
            if p == 1 {
                "index.html".to_string()
            } else {
                format!("{p}.html")
            }
        };
        super::pager(page, total, href)
    }

    /// `commits/index.html` (the branches) and each branch's commits, paginated.
    fn render_branches(&self, sink: &dyn PageSink) -> Result<u64> {
        let h = self.history();
        let size = self.config.page_size;
        // One listing per branch, and one of the commits only tags reach (old tags on
        // branches since deleted), so every commit is listed once.
        let mut per_branch: Vec<Vec<u32>> = vec![Vec::new(); h.branches.len() + 1];
        let tags_only = h.branches.len();
        for (i, c) in h.commits.iter().enumerate() {
            per_branch[c.home.map_or(tags_only, |b| b as usize)].push(i as u32);
        }
        let homeless = per_branch[tags_only].len();
        let root = "../";
        let branches: Vec<_> = h
            .branches
            .iter()
            .enumerate()
            .map(|(b, br)| {
                let tip = br.tips.first().map(|&t| self.commit_row(t, root));
                serde_json::json!({
                    "name": br.name,
                    "href": format!("{root}{}", page_file(&branch_dir(&br.name), 1)),
                    "commits": per_branch[b].len(),
                    "tip": tip,
                })
            })
            .collect();
        let mut c = self.context(root);
        c.insert("heading", "Branches");
        c.insert("branches", &branches);
        c.insert("total_commits", &h.commits.len());
        c.insert("homeless", &homeless);
        c.insert(
            "homeless_href",
            &format!("{root}commits/tags-only/index.html"),
        );
        c.insert("releases_href", &format!("{root}releases/index.html"));
        self.emit(sink, "commits/index.html", "commits.html", &c)?;
        let mut jobs = page_jobs(&per_branch, size);
        jobs.retain(|&(b, _)| b != tags_only || homeless > 0);
        jobs.par_iter().try_for_each(|&(b, page)| {
            let (name, dir) = match h.branches.get(b) {
                Some(br) => (br.name.as_str(), branch_dir(&br.name)),
                None => ("", "commits/tags-only".to_string()),
            };
            let path = page_file(&dir, page);
            let root = root_of(&path);
            let list = &per_branch[b];
            let (members, total) = page_of(list, page, size);
            let items: Vec<CommitRow> =
                members.iter().map(|&i| self.commit_row(i, &root)).collect();
            // Where the branch leaves its own history: the parent of its oldest commit.
            let fork = list
                .last()
                .and_then(|&i| h.commits[i as usize].parents.first().copied())
                .filter(|_| page == total && b != tags_only)
                .map(|p| self.commit_row(p, &root));
            // A branch with no commits of its own points into another branch's history.
            let tip = h
                .branches
                .get(b)
                .filter(|_| list.is_empty())
                .and_then(|br| br.tips.first())
                .map(|&t| self.commit_row(t, &root));
            let mut c = self.context(&root);
            if b == tags_only {
                c.insert("heading", "Commits reachable only from tags");
                c.insert("branch", "tags only");
                c.insert("what", "reachable from tags but from no branch");
            } else {
                c.insert("heading", &format!("Branch {name}"));
                c.insert("branch", name);
                c.insert("what", &format!("landed on {name}"));
            }
            c.insert("count", &list.len());
            c.insert("items", &items);
            c.insert("fork", &fork);
            c.insert("tip", &tip);
            c.insert("pager", &Self::pager(page, total));
            c.insert("index_href", &format!("{root}commits/index.html"));
            self.emit(sink, &path, "commits.html", &c)
        })?;
        Ok(1 + jobs.len() as u64)
    }

    /// The Development panel of an issue page: `None` when no commit cites the issue.
    pub(super) fn development(&self, key: &str, root: &str) -> Option<Development> {
        let h = self.history();
        let commits = h.by_issue.get(key)?;
        // Ports of one change: the same Change-Id, or a message naming the original commit.
        let mut parent: Vec<usize> = (0..commits.len()).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let position: std::collections::HashMap<u32, usize> =
            commits.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut by_change: std::collections::HashMap<&str, usize> = Default::default();
        for (k, &i) in commits.iter().enumerate() {
            let c = &h.commits[i as usize];
            let mut joins = Vec::new();
            if let Some(id) = c.change_id.as_deref() {
                joins.push(*by_change.entry(id).or_insert(k));
            }
            if let Some(orig) = c.port_of.as_deref().and_then(|p| h.resolve_prefix(p)) {
                if let Some(&o) = position.get(&orig) {
                    joins.push(o);
                }
            }
            for j in joins {
                let (a, b) = (find(&mut parent, k), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
        let mut groups: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (k, &i) in commits.iter().enumerate() {
            groups.entry(find(&mut parent, k)).or_default().push(i);
        }
        let time = |i: u32| h.commits[i as usize].time.map(|t| t.unix()).unwrap_or(0);
        let mut groups: Vec<Vec<u32>> = groups.into_values().collect();
        for g in &mut groups {
            // Oldest first: the original change, then its ports.
            g.sort_by_key(|&i| (time(i), std::cmp::Reverse(i)));
        }
        groups.sort_by_key(|g| (time(g[0]), std::cmp::Reverse(g[0])));
        let groups = groups
            .into_iter()
            .map(|g| {
                let first = &h.commits[g[0] as usize];
                PortGroup {
                    ports: g.len() > 1,
                    change_id: first.change_id.clone(),
                    review_href: first
                        .change_id
                        .as_deref()
                        .and_then(|id| self.gerrit_review(id)),
                    subject: first.subject.clone(),
                    commits: g.iter().map(|&i| self.commit_row(i, root)).collect(),
                }
            })
            .collect();
        Some(Development {
            fix: self.fix_view(key, root).unwrap_or_default(),
            fix_versions: Vec::new(),
            groups,
            commits: commits.len(),
        })
    }
}

/// A file's header on a commit page: its anchor, the path as shown, and the page of the
/// commits that changed it (when more than one did).
#[derive(Debug, Default)]
struct FileHead {
    anchor: String,
    label: String,
    history: Option<String>,
}

/// The diff text as HTML: one section per file (anchored as `heads` says, `diff-N` past its
/// end), its header (the path, a link to its history), then two narrow columns of line numbers
/// (old and new side, hidden from screen readers and not selectable) beside the text, whose
/// runs of lines of one kind are in one span (`dh` header, `dk` hunk, `da` added, `dd`
/// removed, `dc` context, `dn` note). Returns the HTML and the number of file sections.
fn diff_html(text: &str, heads: &[FileHead]) -> (String, usize) {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut files = 0;
    let mut in_header = false;
    let mut open: Option<&str> = None;
    let mut numbers = LineNumbers::default();
    let mut digits = itoa::Buffer::new();
    // The current file's text and number columns.
    let (mut body, mut olds, mut news) = (String::new(), String::new(), String::new());
    let finish = |out: &mut String, body: &mut String, olds: &mut String, news: &mut String| {
        // A newline right after `<pre>` is dropped by HTML parsers: each column starts with one.
        out.push_str("<div class=\"diff-body\"><pre class=\"ln\" aria-hidden=\"true\">\n");
        out.push_str(olds);
        out.push_str("</pre><pre class=\"ln\" aria-hidden=\"true\">\n");
        out.push_str(news);
        out.push_str("</pre><pre class=\"diff-text\">");
        out.push_str(body);
        out.push_str("</pre></div></section>\n");
        body.clear();
        olds.clear();
        news.clear();
    };
    for line in text.lines() {
        if line.starts_with("diff --git ") {
            if open.take().is_some() {
                body.push_str("</span>");
            }
            if files > 0 {
                finish(&mut out, &mut body, &mut olds, &mut news);
            }
            files += 1;
            in_header = true;
            match heads.get(files - 1) {
                Some(head) => {
                    out.push_str("<section class=\"diff-file\" id=\"");
                    escape_into(&mut out, &head.anchor);
                    out.push_str("\"><div class=\"diff-head\"><a class=\"path\" href=\"#");
                    escape_into(&mut out, &head.anchor);
                    out.push_str("\">");
                    escape_into(&mut out, &head.label);
                    out.push_str("</a>");
                    if let Some(href) = &head.history {
                        out.push_str(" <a class=\"history\" href=\"");
                        escape_into(&mut out, href);
                        out.push_str("\">History</a>");
                    }
                    out.push_str("</div>");
                }
                None => out.push_str(&format!(
                    "<section class=\"diff-file\" id=\"diff-{files}\">"
                )),
            }
        } else if files == 0 {
            continue;
        }
        let (old, new) = numbers.next(line);
        for (column, n) in [(&mut olds, old), (&mut news, new)] {
            if let Some(n) = n {
                column.push_str(digits.format(n));
            }
            column.push('\n');
        }
        let class = if line.starts_with("@@") {
            in_header = false;
            "dk"
        } else if in_header {
            "dh"
        } else if line.starts_with('+') {
            "da"
        } else if line.starts_with('-') {
            "dd"
        } else if line.starts_with('\\') {
            "dn"
        } else {
            "dc"
        };
        // Each hunk header gets its own span; other kinds run on.
        if open != Some(class) || class == "dk" {
            if open.take().is_some() {
                body.push_str("</span>");
            }
            body.push_str("<span class=\"");
            body.push_str(class);
            body.push_str("\">");
            open = Some(class);
        }
        escape_into(&mut body, line);
        body.push('\n');
    }
    if open.is_some() {
        body.push_str("</span>");
    }
    if files > 0 {
        finish(&mut out, &mut body, &mut olds, &mut news);
    }
    (out, files)
}

/// The old and new line numbers of a unified diff's lines, from its hunk headers
/// (`@@ -a,b +c,d @@`): a context line has both, a removed line the old, an added line the new;
/// file headers, hunk headers, `\ No newline at end of file` notes and binary files have none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LineNumbers {
    /// The next line's number on each side.
    old: u32,
    new: u32,
    /// The lines of the hunk still to come on each side.
    old_left: u32,
    new_left: u32,
}

impl LineNumbers {
    /// The hunk a hunk header starts, if the line is one.
    fn hunk(line: &str) -> Option<LineNumbers> {
        let rest = line.strip_prefix("@@ -")?;
        let (old, rest) = rest.split_once(" +")?;
        let (new, _) = rest.split_once(" @@")?;
        let range = |r: &str| -> Option<(u32, u32)> {
            match r.split_once(',') {
                Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
                None => Some((r.parse().ok()?, 1)),
            }
        };
        let (old, old_left) = range(old)?;
        let (new, new_left) = range(new)?;
        Some(LineNumbers {
            old,
            new,
            old_left,
            new_left,
        })
    }

    /// The numbers of the next line of the diff (old side, new side).
    fn next(&mut self, line: &str) -> (Option<u32>, Option<u32>) {
        if line.starts_with("diff --git ") || line.starts_with("@@") {
            *self = Self::hunk(line).unwrap_or_default();
            return (None, None);
        }
        let old = |s: &mut Self| {
            s.old_left -= 1;
            s.old += 1;
            s.old - 1
        };
        let new = |s: &mut Self| {
            s.new_left -= 1;
            s.new += 1;
            s.new - 1
        };
        match line.as_bytes().first() {
            Some(b'-') if self.old_left > 0 => (Some(old(self)), None),
            Some(b'+') if self.new_left > 0 => (None, Some(new(self))),
            Some(b' ') | None if self.old_left > 0 && self.new_left > 0 => {
                (Some(old(self)), Some(new(self)))
            }
            _ => (None, None),
        }
    }
}

/// The page of the commits that changed a path: `paths/<bucket>/<hash>.html` (a 64-bit hash of
/// the path, its first two digits the bucket), then `<hash>-2.html`….
fn path_page(path: &str, page: usize) -> String {
    let name = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(path.as_bytes()));
    if page == 1 {
        format!("paths/{}/{name}.html", &name[..2])
    } else {
        format!("paths/{}/{name}-{page}.html", &name[..2])
    }
}

/// (list, page) for every page of every list, `size` items a page; an empty list has one page.
fn page_jobs(lists: &[Vec<u32>], size: usize) -> Vec<(usize, usize)> {
    lists
        .iter()
        .enumerate()
        .flat_map(|(l, list)| (1..=list.len().div_ceil(size).max(1)).map(move |p| (l, p)))
        .collect()
}

/// Whether a Change-Id trailer has Gerrit's shape: `I` and 40 hexadecimal digits.
fn is_change_id(value: &str) -> bool {
    value
        .strip_prefix('I')
        .is_some_and(|hex| hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gerrit_shaped_change_ids_become_links() {
        assert!(is_change_id("I4423442344234423442344234423442344234423"));
        assert!(is_change_id("Iabcdef0123456789ABCDEF0123456789abcdef01"));
        assert!(!is_change_id("I\"><script>window.__pwned=1</script>"));
        assert!(!is_change_id("I442344234423"));
        assert!(!is_change_id("4423442344234423442344234423442344234423"));
        assert!(!is_change_id("I4423442344234423442344234423442344234423x"));
    }

    #[test]
    fn paths_are_bucketed() {
        assert_eq!(
            commit_path("abcdef0123456789abcdef0123456789abcdef01"),
            "commits/ab/abcdef0123456789abcdef0123456789abcdef01.html"
        );
    }

    #[test]
    fn diff_lines_are_classed_and_escaped() {
        let (html, n) = diff_html(
            "diff --git a/x b/x\nindex 1..2\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-<a>\n+&b\n",
            &[],
        );
        assert_eq!(n, 1);
        assert!(
            html.contains(
                "<span class=\"dh\">diff --git a/x b/x\nindex 1..2\n--- a/x\n+++ b/x\n</span>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"dd\">-&lt;a&gt;\n</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"da\">+&amp;b\n</span>"),
            "{html}"
        );
        assert!(html.contains("id=\"diff-1\""));
    }

    /// Each line's numbers as `old:new`, blank for a side without one.
    fn numbered(text: &str) -> Vec<String> {
        let mut numbers = LineNumbers::default();
        let show = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        text.lines()
            .map(|l| {
                let (o, n) = numbers.next(l);
                format!("{}:{}", show(o), show(n))
            })
            .collect()
    }

    #[test]
    fn line_numbers_follow_the_hunk_headers() {
        let text = "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n\
                    @@ -8,4 +8,5 @@ fn f() {\n a\n-b\n+c\n+d\n \n e\n\
                    @@ -100 +101,0 @@\n-z\n\
                    diff --git a/new b/new\nnew file mode 100644\nindex 0000000..3\n--- /dev/null\n+++ b/new\n\
                    @@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\n";
        assert_eq!(
            numbered(text),
            [
                ":", ":", ":", ":", ":", "8:8", "9:", ":9", ":10", "10:11", "11:12", ":", "100:",
                ":", ":", ":", ":", ":", ":", ":1", ":2", ":",
            ]
        );
    }

    #[test]
    fn line_numbers_skip_notes_binaries_and_odd_lines() {
        // No newline at the end of either side: the notes have no numbers, the count goes on.
        let text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -3,2 +3,2 @@\n k\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file\n";
        assert_eq!(
            numbered(text),
            [":", ":", ":", ":", "3:3", "4:", ":", ":4", ":"]
        );
        // A binary file has no hunk, so no numbers, even for lines that look like changes.
        let binary = "diff --git a/b.png b/b.png\nindex 1..2 100644\nBinary files a/b.png and b/b.png differ\n-x\n+y\n";
        assert!(numbered(binary).iter().all(|n| n == ":"));
        // A malformed hunk header numbers nothing; lines past a hunk's counts have no number.
        assert!(numbered("@@ -x +1 @@\n a\n").iter().all(|n| n == ":"));
        assert_eq!(numbered("@@ -1 +1 @@\n a\n b\n"), [":", "1:1", ":"]);
    }

    #[test]
    fn files_get_their_anchor_header_and_numbers() {
        let heads = [FileHead {
            anchor: "file-x-1234".into(),
            label: "a<b".into(),
            history: Some("../../paths/ab/abc.html".into()),
        }];
        let (html, n) = diff_html(
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -2 +2,2 @@\n-a\n+b\n+c\ndiff --git a/y b/y\nBinary files a/y and b/y differ\n",
            &heads,
        );
        assert_eq!(n, 2);
        assert!(html.contains("<section class=\"diff-file\" id=\"file-x-1234\"><div class=\"diff-head\"><a class=\"path\" href=\"#file-x-1234\">a&lt;b</a> <a class=\"history\" href=\"../../paths/ab/abc.html\">History</a></div>"), "{html}");
        assert!(html.contains("<pre class=\"ln\" aria-hidden=\"true\">\n\n\n\n\n2\n\n\n</pre><pre class=\"ln\" aria-hidden=\"true\">\n\n\n\n\n\n2\n3\n</pre>"), "{html}");
        // Past the heads given, sections keep a numbered anchor.
        assert!(html.contains("id=\"diff-2\""), "{html}");
    }

    #[test]
    fn path_pages_are_bucketed_and_short() {
        let p = path_page("lustre/llite/file.c", 1);
        assert!(p.starts_with("paths/") && p.ends_with(".html"), "{p}");
        let name = p.rsplit('/').next().unwrap();
        assert_eq!(&p[6..8], &name[..2]);
        assert_eq!(name.len(), 16 + 5);
        assert_eq!(
            path_page("lustre/llite/file.c", 2),
            p.replace(".html", "-2.html")
        );
        assert_ne!(path_page("README", 1), path_page("readme", 1));
    }

    #[test]
    fn fast_escape_matches_escape() {
        for t in ["", "plain", "<a href=\"x\">'&'</a>", "é<ü>"] {
            let mut out = String::new();
            escape_into(&mut out, t);
            assert_eq!(out, escape(t));
        }
    }

    #[test]
    fn commit_ids_need_a_letter() {
        assert!(looks_like_commit_id("5fd5a7a"));
        assert!(!looks_like_commit_id("1234567"));
    }
}
