//! Render: the linked archive → pages, handed to a [`PageSink`].
//!
//! Issue pages are rendered in parallel (rayon) in chunks that load their issues from the store
//! in one read, so memory stays bounded by the chunk size, not the archive size. Listings,
//! facet indexes and the home page are rendered from the in-memory summaries. Every link is
//! relative (`root` is the way back to the site root from each page), so the site works from
//! any folder and over `file://`.

mod asked;
pub mod attachments;
pub mod chart;
pub mod commits;
pub mod feeds;
pub mod listings;
pub mod memo;
pub mod people;
pub mod redirects;
pub mod releases;
pub mod templates;

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inputs::{Inputs, PageSource};
use crate::link::{IssueSummary, Linked};
use crate::model::{Issue, Markup, Text, Timestamp};
use crate::observe::Observer;
use crate::source::DiffCache;
use crate::text::html::{self, LinkContext};
use crate::text::wiki;
use listings::{facet_slug_of, facets, listing_path, value_slug};
use memo::Page;

/// Where rendered files go. Render produces bytes; only the writer decides what touches disk.
pub trait PageSink: Sync {
    /// Stores `bytes` at the site-relative `path` (`issues/LU/20/LU-20581.html`).
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()>;

    /// Stores a copy of the file at `source` (an attachment from a tracker's folder) at the
    /// site-relative `path`: the writer reads it, render never does.
    fn put_file(&self, path: &str, source: &std::path::Path) -> Result<()>;

    /// [`put`](Self::put) for bytes that another file of the site may hold too (an
    /// attachment's data, in the site and in the backup): the sink may store them once. Only
    /// such files are compared by content, so the sink need not remember every page's.
    fn put_shared(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.put(path, bytes)
    }

    /// Keeps the file the last build published at `path` if it was rendered from inputs with
    /// the digest `made_from` (see `memo`), and says whether it did: a page whose inputs did
    /// not change is not rendered again. A sink without a memory of the last build keeps
    /// nothing.
    fn keep(&self, _path: &str, _made_from: u128) -> Result<bool> {
        Ok(false)
    }

    /// [`keep`](Self::keep), saying the kept file's size (`None`: not kept), for a part of
    /// the site that reports its bytes (the search index).
    fn keep_sized(&self, _path: &str, _made_from: u128) -> Result<Option<u64>> {
        Ok(None)
    }

    /// [`keep`](Self::keep) for files that go together (an issue's page and its JSON): keeps
    /// them all, or none when any of them would not be kept.
    fn keep_together(&self, _files: &[(&str, u128)]) -> Result<bool> {
        Ok(false)
    }

    /// Keeps every file the last build published under the folder `prefix` (`search/`) if
    /// the file `anchor` among them was made from inputs with the digest `made_from` and every
    /// one is still as published, and says how many it kept; keeps nothing (`None`)
    /// otherwise, or when there were none. For a part of the site that is made whole from one
    /// set of inputs (the search index), whose every build writes `anchor`: the last build's
    /// files under `prefix` are the part that build made from those inputs, whatever each
    /// file's own digest (a leaf of the search index kept by its own).
    fn keep_all(&self, _prefix: &str, _anchor: &str, _made_from: u128) -> Result<Option<u64>> {
        Ok(None)
    }

    /// [`put`](Self::put) for a page rendered from inputs with the digest `made_from`, which
    /// the sink may remember for the next build's [`keep`](Self::keep).
    fn put_made_from(&self, path: &str, _made_from: u128, bytes: &[u8]) -> Result<()> {
        self.put(path, bytes)
    }

    /// What rendering the page published at `path` asked of the archive (`asked::Asking`),
    /// if the sink remembers.
    fn lookups(&self, _path: &str) -> Option<Vec<String>> {
        None
    }

    /// Remembers what rendering the page at `path` asked of the archive, for the next build.
    fn remember_lookups(&self, _path: &str, _lookups: Vec<String>) {}

    /// Remembers for the next build what the published page at `path`, kept, asked of the
    /// archive when it was rendered ([`lookups`](Self::lookups) gave them), as they are.
    fn keep_lookups(&self, _path: &str) {}
}

/// Counts of what render produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderReport {
    /// Issue pages.
    pub issue_pages: u64,
    /// Commit pages.
    pub commit_pages: u64,
    /// Listing, facet and home pages.
    pub listing_pages: u64,
    /// Other files (JSON, static, Markdown pages, feeds).
    pub other_files: u64,
    /// Pages whose inputs were those of the published page, kept without being rendered.
    pub kept_pages: u64,
    /// Issues read from the store to render or check their pages: the others' pages were
    /// kept by their questions' answers alone ([`asked`]).
    pub issues_read: u64,
    /// Things the keeper should know (a part of the site that was skipped, and why).
    pub notes: Vec<String>,
    /// Wall time of each part of the stage (issue pages, commit pages, listings…), for
    /// `--timings`: where a slow render spends its time, without a profiler.
    pub parts: Vec<(&'static str, std::time::Duration)>,
    /// Per issue of [`Linked::issues`](crate::link::Linked), in its order, the digest of the
    /// issue as published ([`Linked::issues_with_digests`](crate::link::Linked), which the
    /// pages were rendered from) and of the program, configuration and theme (`memo::salt`): the backup knows from them which archive chunks hold only
    /// issues unchanged since the last build, without reading those issues again. `None` for
    /// an issue with an attachment whose file the archive has or names (its copy in the
    /// backup also depends on that file: [`attachments::none_to_keep`]).
    pub published: Vec<Option<u128>>,
}

impl RenderReport {
    /// One line for the build's progress: pages of each kind.
    pub fn summary(&self) -> String {
        format!(
            "{} issue pages ({} issues read), {} commit pages, {} listing pages, {} other files; {} unchanged since the last build (not rendered again)",
            self.issue_pages, self.issues_read, self.commit_pages, self.listing_pages, self.other_files, self.kept_pages
        )
    }
}

/// A sink that remembers the HTML pages passed through it, for the sitemap (only when there
/// will be one: a million page paths are worth keeping only then).
struct Recording<'s> {
    inner: &'s dyn PageSink,
    enabled: bool,
    pages: std::sync::Mutex<Vec<String>>,
}

impl Recording<'_> {
    fn record(&self, path: &str) {
        if self.enabled && path.ends_with(".html") {
            self.pages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(path.to_string());
        }
    }
}

impl PageSink for Recording<'_> {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.record(path);
        self.inner.put(path, bytes)
    }

    fn put_file(&self, path: &str, source: &std::path::Path) -> Result<()> {
        self.inner.put_file(path, source)
    }

    fn put_shared(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.record(path);
        self.inner.put_shared(path, bytes)
    }

    fn keep(&self, path: &str, made_from: u128) -> Result<bool> {
        let kept = self.inner.keep(path, made_from)?;
        if kept {
            self.record(path);
        }
        Ok(kept)
    }

    fn keep_sized(&self, path: &str, made_from: u128) -> Result<Option<u64>> {
        let kept = self.inner.keep_sized(path, made_from)?;
        if kept.is_some() {
            self.record(path);
        }
        Ok(kept)
    }

    fn keep_together(&self, files: &[(&str, u128)]) -> Result<bool> {
        let kept = self.inner.keep_together(files)?;
        if kept {
            for (path, _) in files {
                self.record(path);
            }
        }
        Ok(kept)
    }

    fn put_made_from(&self, path: &str, made_from: u128, bytes: &[u8]) -> Result<()> {
        self.record(path);
        self.inner.put_made_from(path, made_from, bytes)
    }

    fn lookups(&self, path: &str) -> Option<Vec<String>> {
        self.inner.lookups(path)
    }

    fn remember_lookups(&self, path: &str, lookups: Vec<String>) {
        self.inner.remember_lookups(path, lookups)
    }

    fn keep_lookups(&self, path: &str) {
        self.inner.keep_lookups(path)
    }
}

/// A Markdown page of the site (`pages/about.md` → `about.html`).
#[derive(Clone, Debug, Serialize)]
pub struct NavPage {
    /// Its title (first heading, else the file name).
    pub title: String,
    /// Site-relative path.
    pub path: String,
    #[serde(skip)]
    body: String,
}

/// The renderer: templates loaded once, shared by every thread.
pub struct Renderer<'a> {
    config: &'a Config,
    inputs: &'a Inputs,
    diffs: Option<&'a DiffCache>,
    linked: &'a Linked,
    tera: tera::Tera,
    /// What every page depends on besides its context (`memo::salt`).
    salt: u128,
    /// Pages kept from the last build without rendering.
    kept_pages: AtomicU64,
    pages: Vec<NavPage>,
    /// Where each Bugzilla attachment id went, gathered while issue pages render, for the
    /// `attachment.cgi` shim.
    attachment_targets: std::sync::Mutex<redirects::AttachmentTargets>,
    /// GitHub repositories in the archive (`owner/name` in lower case → key prefix), so that
    /// `owner/name#N` in any GitHub text reaches the issue's page.
    github_repos: BTreeMap<String, String>,
    /// Per tracker, whether it has an attachments folder: what became of an issue's
    /// attachments depends on it.
    attachment_folders: Vec<bool>,
}

const CHUNK: usize = 256;

/// The frames of issue pages (their context without the issue: [`Renderer::context`]) by
/// the way back to the root, made once for the pages of a chunk that share it.
#[derive(Default)]
struct Frames(Vec<(String, Page)>);

impl Frames {
    fn of(&mut self, r: &Renderer, root: &str) -> &Page {
        let i = match self.0.iter().position(|(at, _)| at == root) {
            Some(i) => i,
            None => {
                self.0.push((root.to_string(), r.context(root)));
                self.0.len() - 1
            }
        };
        &self.0[i].1
    }
}

impl<'a> Renderer<'a> {
    /// Loads the theme and the Markdown pages.
    ///
    /// `diffs` is the source stage's diff cache, from which commit pages take their diffs
    /// (`None` when the archive has no history).
    pub fn new(
        config: &'a Config,
        linked: &'a Linked,
        inputs: &'a Inputs,
        diffs: Option<&'a DiffCache>,
        program: u128,
    ) -> Result<Self> {
        let tera = templates::load(&inputs.theme)?;
        let salt = memo::salt(program, config, &inputs.theme);
        let pages = nav_pages(&inputs.pages)?;
        let github_repos = linked
            .projects
            .values()
            .filter(|p| is_repository_name(&p.name))
            .map(|p| (p.name.to_ascii_lowercase(), p.key.clone()))
            .collect();
        let attachment_folders = inputs
            .trackers
            .iter()
            .map(|t| t.attachments.is_some())
            .collect();
        Ok(Renderer {
            github_repos,
            attachment_folders,
            config,
            inputs,
            diffs,
            linked,
            tera,
            salt,
            kept_pages: AtomicU64::new(0),
            pages,
            attachment_targets: Default::default(),
        })
    }

    /// Renders the whole site into `sink`.
    pub fn render_all(&self, sink: &dyn PageSink, progress: &dyn Observer) -> Result<RenderReport> {
        let recording = Recording {
            inner: sink,
            enabled: self.config.base_url.is_some(),
            pages: Default::default(),
        };
        let mut report = self.render_pages(&recording, progress)?;
        let mut pages = recording
            .pages
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        pages.sort();
        let started = std::time::Instant::now();
        report.other_files += self.render_feeds(sink, &pages, &mut report.notes)?;
        report.other_files += self.render_redirects(sink)?;
        report
            .parts
            .push(("feeds and redirects", started.elapsed()));
        report.kept_pages = self.kept_pages.load(Ordering::Relaxed);
        Ok(report)
    }

    /// Redirect stubs, query-string shims and rewrite rules for the old trackers' URLs.
    fn render_redirects(&self, sink: &dyn PageSink) -> Result<u64> {
        let mut n = 0;
        let keys: Vec<(String, String)> = self
            .linked
            .issues
            .iter()
            .filter(|s| crate::keys::split_key(&s.key).is_some())
            .map(|s| (s.key.to_string(), s.path()))
            .collect();
        if self.config.redirect_stubs {
            // A stub is made from its key and its issue's path alone: one published from the
            // same is kept without being made or hashed again.
            keys.par_iter().try_for_each(|(key, path)| {
                let made_from = {
                    let mut h = xxhash_rust::xxh3::Xxh3::new();
                    h.write(b"redirect stub\0");
                    h.write_u128(self.salt);
                    h.write_u64(key.len() as u64);
                    h.write(key.as_bytes());
                    h.write(path.as_bytes());
                    h.digest128()
                };
                if sink.keep(&redirects::stub_path(key), made_from)? {
                    return Ok(());
                }
                let (stub_path, html) = redirects::stub(key, path);
                sink.put_made_from(&stub_path, made_from, html.as_bytes())
            })?;
            n += keys.len() as u64;
        }
        sink.put("static/redirect.js", redirects::SHIM_JS.as_bytes())?;
        n += 1;
        let bugzilla = self.bug_prefix();
        let attachments = std::mem::take(
            &mut *self
                .attachment_targets
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        if let Some(prefix) = bugzilla {
            for (name, kind) in [("show_bug.cgi", "bug"), ("attachment.cgi", "attachment")] {
                let (path, html) = redirects::shim(name, prefix, kind);
                sink.put(&path, html.as_bytes())?;
                n += 1;
            }
            for (path, text) in redirects::attachment_shards(&attachments) {
                sink.put(&path, text.as_bytes())?;
                n += 1;
            }
        }
        let base_path = self
            .config
            .base_url
            .as_deref()
            .and_then(|u| u.split("://").nth(1))
            .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        for (path, text) in redirects::rules(&base_path, &keys, bugzilla, &attachments) {
            sink.put(&path, text.as_bytes())?;
            n += 1;
        }
        Ok(n)
    }

    /// Atom feeds (whole archive and per project), and, with a base URL, sitemap and robots.
    fn render_feeds(
        &self,
        sink: &dyn PageSink,
        pages: &[String],
        notes: &mut Vec<String>,
    ) -> Result<u64> {
        let base = self.config.base_url.as_deref();
        let mut n = 0;
        let all = feeds::recent(self.linked.issues.iter(), feeds::FEED_ENTRIES);
        let title = format!("{}: recently updated issues", self.config.title);
        sink.put(
            "feeds/issues.atom",
            feeds::issues_feed(&title, "feeds/issues.atom", base, &all).as_bytes(),
        )?;
        n += 1;
        for project in self.linked.projects.keys() {
            let path = format!("feeds/{}.atom", value_slug("project", project));
            let entries = feeds::recent(
                self.linked
                    .issues
                    .iter()
                    .filter(|s| *s.project == **project),
                feeds::FEED_ENTRIES,
            );
            let title = format!("{}: recently updated {} issues", self.config.title, project);
            sink.put(
                &path,
                feeds::issues_feed(&title, &path, base, &entries).as_bytes(),
            )?;
            n += 1;
        }
        match base {
            Some(base) => {
                for (path, text) in feeds::sitemaps(base, pages) {
                    sink.put(&path, text.as_bytes())?;
                    n += 1;
                }
                sink.put("robots.txt", feeds::robots(base).as_bytes())?;
                n += 1;
            }
            None => notes.push(
                "no base_url in the config: sitemap.xml and robots.txt were not written (they need absolute addresses)".into(),
            ),
        }
        Ok(n)
    }

    fn render_pages(&self, sink: &dyn PageSink, progress: &dyn Observer) -> Result<RenderReport> {
        let mut report = RenderReport::default();
        let mut started = std::time::Instant::now();
        let mut lap = |report: &mut RenderReport, part: &'static str| {
            report.parts.push((part, started.elapsed()));
            started = std::time::Instant::now();
        };
        let other = AtomicU64::new(0);
        for (path, bytes) in templates::static_files(&self.inputs.theme) {
            sink.put(path, &bytes)?;
            other.fetch_add(1, Ordering::Relaxed);
        }
        for page in &self.pages {
            let root = root_of(&page.path);
            let ctx = self.link_context(&root);
            let body_html = html::markdown(&page.body, &ctx);
            let mut c = self.context(&root);
            c.insert("page_title", &page.title);
            c.insert("body_html", &body_html);
            self.emit(sink, &page.path, "page.html", &c)?;
            other.fetch_add(1, Ordering::Relaxed);
        }
        let c = self.context("");
        self.emit(sink, "search.html", "search.html", &c)?;
        other.fetch_add(1, Ordering::Relaxed);
        lap(&mut report, "static files and pages");

        let issues = &self.linked.issues;
        let issues_read = AtomicU64::new(0);
        let published = (0..issues.len())
            .collect::<Vec<usize>>()
            .par_chunks(CHUNK)
            .map(|chunk| {
                // An issue whose page the last build made from the same issue and the same
                // answers is kept without being read; the others are read in one go.
                let mut published = Vec::with_capacity(chunk.len());
                let mut read = Vec::new();
                let mut frames = Frames::default();
                for &i in chunk {
                    match self.keep_issue(i, &mut frames, sink)? {
                        true => {
                            published.push(Some(self.published_digest(self.linked.published[i])))
                        }
                        false => {
                            read.push(&*issues[i].key);
                            published.push(None);
                        }
                    }
                }
                let mut unread = chunk
                    .iter()
                    .zip(&mut published)
                    .filter(|(_, p)| p.is_none());
                issues_read.fetch_add(read.len() as u64, Ordering::Relaxed);
                let read = match read.is_empty() {
                    true => Vec::new(),
                    false => self.linked.issues_with_digests(&read)?,
                };
                for (issue, made_from) in read {
                    let Some((&i, slot)) = unread.find(|(&i, _)| *issues[i].key == *issue.key)
                    else {
                        continue;
                    };
                    debug_assert_eq!(made_from, self.linked.published[i]);
                    let files = self.render_issue(&issue, made_from, sink)?;
                    let plain = attachments::none_to_keep(&issue, &files);
                    *slot = plain.then(|| self.published_digest(made_from));
                }
                other.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                progress.advance(chunk.len() as u64);
                Ok::<_, Error>(published)
            })
            .collect::<Result<Vec<_>>>()?;
        report.published = published.into_iter().flatten().collect();
        report.issue_pages = issues.len() as u64;
        report.issues_read = issues_read.into_inner();
        lap(&mut report, "issues");
        let (commit_pages, history_listings) = self.render_history(sink, progress)?;
        report.commit_pages = commit_pages;
        lap(&mut report, "commits, paths, branches, releases");
        // What listings and people pages show of each issue, as digests: a page whose rows'
        // digests are the last build's is kept without its rows being made.
        let rows = self.row_digests();
        let (listing_pages, data_files) = self.render_listings(sink, &rows)?;
        lap(&mut report, "listings and home");
        report.listing_pages =
            listing_pages + history_listings + self.render_people(sink, &rows)?;
        lap(&mut report, "people");
        other.fetch_add(data_files, Ordering::Relaxed);
        report.other_files = other.load(Ordering::Relaxed) - report.issue_pages;
        Ok(report)
    }

    fn render(&self, name: &str, context: &tera::Context) -> Result<String> {
        self.tera
            .render(name, context)
            .map_err(|e| templates::template_error(name, e))
    }

    /// Renders `page` with `template` to `path`, unless the sink keeps the page the last build
    /// made from the same inputs.
    fn emit(&self, sink: &dyn PageSink, path: &str, template: &str, page: &Page) -> Result<()> {
        let digest = page.digest(template);
        if self.kept(sink, path, digest)? {
            return Ok(());
        }
        let html = self.render(template, &page.context())?;
        sink.put_made_from(path, digest, html.as_bytes())
    }

    /// Asks the sink to keep the published page at `path` made from inputs with `digest`,
    /// counting the pages it keeps.
    fn kept(&self, sink: &dyn PageSink, path: &str, digest: u128) -> Result<bool> {
        let kept = sink.keep(path, digest)?;
        if kept {
            self.kept_pages.fetch_add(1, Ordering::Relaxed);
        }
        Ok(kept)
    }

    fn context(&self, root: &str) -> Page {
        let mut c = Page::new(self.salt);
        c.insert("root", root);
        c.insert("site_title", &self.config.title);
        c.insert("nav_pages", &self.pages);
        // Source history, when the site has it: the navigation links its listings.
        let history = &self.linked.history;
        c.insert("nav_commits", &!history.commits.is_empty());
        c.insert(
            "nav_releases",
            &(!history.commits.is_empty() && !history.releases.is_empty()),
        );
        c.insert("nav_people", &!self.linked.persons.is_empty());
        c
    }

    fn link_context<'r>(&'r self, root: &'r str) -> LinkContext<'r> {
        LinkContext {
            root,
            resolve: self.linked,
            bug_prefix: self.bug_prefix(),
            page: None,
            github: None,
        }
    }

    /// The key prefix of the Bugzilla tracker, whose bug numbers and attachment ids the old
    /// `show_bug.cgi?id=N` and `attachment.cgi?id=N` addresses name.
    fn bug_prefix(&self) -> Option<&str> {
        self.config.bug_prefix()
    }

    /// Whether the old `attachment.cgi?id=N` addresses of the issue's attachments are led
    /// somewhere ([`Renderer::record_attachments`]): those of a Bugzilla issue are.
    fn redirects_attachments(&self, issue: &Issue) -> bool {
        !issue.attachments.is_empty()
            && self.bug_prefix().is_some_and(|prefix| {
                issue
                    .key
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some()
            })
    }

    /// Notes where `attachment.cgi?id=N` should lead for the attachments of a Bugzilla issue.
    fn record_attachments(&self, issue: &Issue, path: &str, files: &[attachments::Outcome]) {
        if !self.redirects_attachments(issue) {
            return;
        }
        let mut targets = self
            .attachment_targets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (a, outcome) in issue.attachments.iter().zip(files) {
            // Only the ids the shim can be asked for: 1 to 18 digits, no leading zero.
            let Some(id) = a.id.parse::<u64>().ok().filter(|n| n.to_string() == a.id) else {
                continue;
            };
            let target = match outcome {
                attachments::Outcome::Written(p) => p.clone(),
                attachments::Outcome::Skipped(_) => {
                    format!("{path}.html#attachment-{}", slug(&a.id))
                }
            };
            redirects::record_attachment(&mut targets, id, target);
        }
    }

    /// Renders one text of an issue page; `scope` names it on the page (`description`, a
    /// comment's anchor) so that footnote anchors of different texts differ.
    fn render_text(&self, text: &Text, ctx: &LinkContext, scope: &str) -> String {
        match text.markup {
            Markup::Html => html::tracker_html(&text.content, ctx),
            Markup::Plain => html::plain_text(&text.content, ctx),
            Markup::Markdown if ctx.github.is_some() => {
                html::github_markdown(&text.content, ctx, scope)
            }
            Markup::Markdown => html::markdown(&text.content, ctx),
            Markup::JiraWiki => html::tracker_html(&wiki::to_html(&text.content), ctx),
        }
    }

    /// The digest by which the backup knows an issue as published ([`RenderReport::published`])
    /// from the issue's own (`made_from`).
    fn published_digest(&self, made_from: u128) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.write(b"published issue\0");
        h.write_u128(self.salt);
        h.write_u128(made_from);
        h.digest128()
    }

    /// Keeps the page and JSON of the `i`th issue as published, without reading the issue,
    /// when the last build made them from the same published issue and its page's questions
    /// get the answers they got then (see [`asked`]). A page whose attachments' outcomes were
    /// not settled by its issue alone is never kept here: they are known only from the issue.
    fn keep_issue(&self, i: usize, frames: &mut Frames, sink: &dyn PageSink) -> Result<bool> {
        let path = crate::keys::issue_path(&self.linked.issues[i].key);
        let page_path = format!("{path}.html");
        let Some(questions) = sink.lookups(&page_path) else {
            return Ok(false);
        };
        if questions.iter().any(|q| q == asked::ATTACHMENTS) {
            return Ok(false);
        }
        let made_from = self.linked.published[i];
        let root = root_of(&path);
        let frame = frames.of(self, &root);
        let page = self.issue_page_digest(frame, &root, made_from, &[], &questions);
        let json_path = format!("{path}.json");
        let json = self.issue_json_digest(made_from, &[]);
        let files: &[(&str, u128)] = match self.config.issue_json {
            true => &[(&page_path, page), (&json_path, json)],
            false => &[(&page_path, page)],
        };
        if !sink.keep_together(files)? {
            return Ok(false);
        }
        self.kept_pages.fetch_add(1, Ordering::Relaxed);
        sink.keep_lookups(&page_path);
        Ok(true)
    }

    /// The digest of an issue's page: the published issue (`made_from`), what became of its
    /// attachments (`files`, empty when the issue settles them:
    /// [`attachments::settled_by_issue`]), which trackers have an attachments folder, the
    /// page's frame at `root`, and the answers the archive gives
    /// now to the `questions` rendering it asked. The view and the texts' HTML are functions
    /// of these, and are not made to know it.
    fn issue_page_digest(
        &self,
        frame: &Page,
        root: &str,
        made_from: u128,
        files: &[attachments::Outcome],
        questions: &[String],
    ) -> u128 {
        let mut c = frame.digest_only();
        c.depends_on("issue", &made_from);
        c.depends_on("attachments", files);
        c.depends_on("repositories", &self.github_repos);
        c.depends_on("attachment folders", &self.attachment_folders);
        c.digest_with("issue.html", questions, &|q| asked::answer(self, root, q))
    }

    /// The digest of an issue's JSON: the published issue with what became of its
    /// attachments, serialized by this program.
    fn issue_json_digest(&self, made_from: u128, files: &[attachments::Outcome]) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.write(b"issue json\0");
        h.write_u128(self.salt);
        h.write_u128(made_from);
        for outcome in files {
            match outcome {
                attachments::Outcome::Written(p) => {
                    h.write_u8(1);
                    h.write_u64(p.len() as u64);
                    h.write(p.as_bytes());
                }
                attachments::Outcome::Skipped(_) => h.write_u8(0),
            }
        }
        h.digest128()
    }

    /// The issue's page and, when the site publishes them, its JSON; `made_from` is the
    /// digest of the published issue ([`Linked::issues_with_digests`]). Returns what became
    /// of its attachments.
    ///
    /// A page whose issue settles its attachments
    /// ([`attachments::settled_by_issue`]) can be kept without its issue being read
    /// ([`Renderer::keep_issue`]); this is the way for the others, and for a changed issue.
    fn render_issue(
        &self,
        issue: &Issue,
        made_from: u128,
        sink: &dyn PageSink,
    ) -> Result<Vec<attachments::Outcome>> {
        let path = crate::keys::issue_path(&issue.key);
        let root = root_of(&path);
        // Attachment files first, so text can link to them.
        let files = attachments::publish(self.config, self.inputs, issue, sink)?;
        self.record_attachments(issue, &path, &files);
        let page_path = format!("{path}.html");
        // Outcomes the issue's digest stands for are not hashed again: a page and JSON kept
        // without their issue being read are known by the same digests.
        // (A page whose attachments' old addresses are led to it is read every build, for
        // the redirects to know them.)
        let settled = attachments::settled_by_issue(self.config, self.inputs, issue, &files)
            && !self.redirects_attachments(issue);
        let outcomes: &[attachments::Outcome] = if settled { &[] } else { &files };
        // The page is kept when the questions rendering it asked last time get the same
        // answers now; else it is rendered, noting the questions.
        let frame = self.context(&root);
        let kept = match sink.lookups(&page_path) {
            Some(questions) => {
                let digest = self.issue_page_digest(&frame, &root, made_from, outcomes, &questions);
                let kept = self.kept(sink, &page_path, digest)?;
                if kept {
                    sink.keep_lookups(&page_path);
                }
                kept
            }
            None => false,
        };
        if !kept {
            let (html, mut questions) = self.render_issue_page(issue, &files, &frame, &root)?;
            if !settled {
                questions.push(asked::ATTACHMENTS.to_string());
            }
            let digest = self.issue_page_digest(&frame, &root, made_from, outcomes, &questions);
            sink.put_made_from(&page_path, digest, html.as_bytes())?;
            sink.remember_lookups(&page_path, questions);
        }
        if !self.config.issue_json {
            return Ok(files);
        }
        // The JSON is the published issue with the attachments' outcomes, serialized by this
        // program: known unchanged from their digests, without being made.
        let json_path = format!("{path}.json");
        let json_made_from = self.issue_json_digest(made_from, outcomes);
        if sink.keep(&json_path, json_made_from)? {
            return Ok(files);
        }
        // The published JSON points at the site's copy instead of carrying the bytes.
        let mut published;
        let issue = if issue.attachments.iter().any(|a| a.content.is_some()) || !files.is_empty() {
            published = issue.clone();
            for (a, outcome) in published.attachments.iter_mut().zip(&files) {
                a.content = match outcome {
                    attachments::Outcome::Written(p) => {
                        Some(crate::model::AttachmentContent::File { path: p.clone() })
                    }
                    attachments::Outcome::Skipped(_) => None,
                };
            }
            &published
        } else {
            issue
        };
        let mut json = serde_json::to_vec_pretty(issue).map_err(|e| Error::Json {
            what: format!("issue {}", issue.key),
            source: e,
        })?;
        json.push(b'\n');
        sink.put_made_from(&json_path, json_made_from, &json)?;
        Ok(files)
    }

    /// An issue's page (its `frame` around the issue's view, at `root`) and the questions
    /// rendering it asked of the archive, through an [`asked::Asking`].
    fn render_issue_page(
        &self,
        issue: &Issue,
        files: &[attachments::Outcome],
        frame: &Page,
        root: &str,
    ) -> Result<(String, Vec<String>)> {
        let mut anchors = html::PageAnchors {
            comments: issue.comments.iter().filter_map(|c| c.number).collect(),
            ..Default::default()
        };
        for (a, outcome) in issue.attachments.iter().zip(files) {
            let href = match outcome {
                attachments::Outcome::Written(p) => format!("{root}{p}"),
                attachments::Outcome::Skipped(_) => format!("#attachment-{}", slug(&a.id)),
            };
            anchors.attachments.entry(a.id.clone()).or_insert(href);
        }
        let github = issue.repository.as_ref().map(|repo| html::GithubRefs {
            repo: repo.clone(),
            prefix: issue.project.key.clone(),
            repos: self.github_repos.clone(),
        });
        let ask = asked::Asking::new(self, root);
        let mut view = IssueView::new(&ask, self.config, issue, root);
        for (v, outcome) in view.attachments.iter_mut().zip(files) {
            match outcome {
                attachments::Outcome::Written(p) => v.href = Some(format!("{root}{p}")),
                attachments::Outcome::Skipped(note) => v.note.clone_from(note),
            }
        }
        let mut ctx = self.link_context(root);
        ctx.resolve = &ask;
        ctx.page = Some(&anchors);
        ctx.github = github.as_ref();
        view.fill_texts(self, issue, &ctx);
        let mut context = frame.context();
        context.insert("issue", &view);
        Ok((self.render("issue.html", &context)?, ask.asked()))
    }

    /// The browse page, facet indexes and listings (`listings.rs`), and the home page;
    /// returns the number of pages and of listing data files.
    fn render_listings(&self, sink: &dyn PageSink, rows: &[u128]) -> Result<(u64, u64)> {
        let issues = &self.linked.issues;
        let facets = facets(issues);
        let (mut count, data_files) = self.render_facet_listings(sink, &facets, rows)?;

        // Home page.
        let recent: Vec<_> = feeds::recent(issues.iter(), 20)
            .into_iter()
            .map(|s| row(s, ""))
            .collect();
        let projects: Vec<_> = self
            .linked
            .projects
            .values()
            .map(|p| {
                serde_json::json!({
                    "key": p.key, "name": p.name, "issues": p.issues, "open": p.open,
                    "href": listing_path("project", &facet_slug_of(&facets, "project", &p.key), 1),
                })
            })
            .collect();
        let mut c = self.context("");
        c.insert("projects", &projects);
        c.insert("recent", &recent);
        c.insert("total_issues", &issues.len());
        c.insert(
            "total_comments",
            &issues.iter().map(|s| s.comments as usize).sum::<usize>(),
        );
        c.insert("total_commits", &self.linked.history.commits.len());
        c.insert("total_releases", &self.linked.history.releases.len());
        // What a copy of the site holds (see `crate::backup`).
        let sources = match self.config.backup.git {
            true => crate::source::repository_names(&self.config.repositories),
            false => Vec::new(),
        };
        c.insert("backup_sources", &sources);
        c.insert("backup_archive", &self.config.backup.archive);
        // The archive's history as a picture: issues opened and closed per year.
        let mut opened = BTreeMap::new();
        let mut closed = BTreeMap::new();
        for s in issues.iter() {
            if let Some(t) = &s.created {
                *opened.entry(t.year()).or_insert(0u64) += 1;
            }
            if let Some(t) = &s.resolved {
                *closed.entry(t.year()).or_insert(0u64) += 1;
            }
        }
        let mut history = vec![
            chart::Series::new("Issues opened", "opened", opened),
            chart::Series::new("Issues closed", "closed", closed),
        ];
        let mut title = "Issues opened and closed per year";
        if !self.linked.history.commits.is_empty() {
            let mut commits = BTreeMap::new();
            for info in &self.linked.history.commits {
                if let Some(t) = &info.time {
                    *commits.entry(t.year()).or_insert(0u64) += 1;
                }
            }
            history.push(chart::Series::new("Commits", "commits", commits));
            title = "Issues opened and closed, and commits, per year";
        }
        if let Some(years) = chart::year_span(&history) {
            c.insert("history_title", title);
            c.insert("history_svg", &chart::history_svg(&history, years.clone()));
            c.insert("history_table", &chart::history_table(&history, years));
        }
        self.emit(sink, "index.html", "index.html", &c)?;
        count += 1;
        Ok((count, data_files))
    }
}

/// The pager of page `page` of `total` as the templates show it (`pager` in macros.html): the
/// previous and next pages' addresses from `href`.
fn pager(page: usize, total: usize, href: impl Fn(usize) -> String) -> serde_json::Value {
    serde_json::json!({
        "current": page,
        "total": total,
        "prev": (page > 1).then(|| href(page - 1)),
        "next": (page < total).then(|| href(page + 1)),
    })
}

/// `../` once per folder in a site path: the way back to the root.
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

/// A time as pages show it: UTC, with the original offset on hover and in `datetime`.
#[derive(Serialize)]
struct TimeView {
    utc: String,
    iso: String,
    original: String,
    date: String,
}

impl TimeView {
    fn of(t: &Timestamp) -> Self {
        let utc = t.utc_display();
        TimeView {
            date: utc.get(..10).unwrap_or(&utc).to_string(),
            utc,
            iso: t.rfc3339_utc(),
            original: t.original_display(),
        }
    }
}

#[derive(Serialize)]
struct Row {
    key: String,
    href: String,
    summary: String,
    status: String,
    status_class: String,
    issue_type: String,
    updated: Option<TimeView>,
}

fn row(s: &IssueSummary, root: &str) -> Row {
    Row {
        key: s.key.to_string(),
        href: format!("{root}{}.html", s.path()),
        summary: s.summary.to_string(),
        status: s.status.as_deref().unwrap_or_default().to_string(),
        status_class: status_class(s.status_category.as_deref()),
        issue_type: s.issue_type.as_deref().unwrap_or_default().to_string(),
        updated: s.updated.as_ref().map(TimeView::of),
    }
}

fn status_class(category: Option<&str>) -> String {
    match category {
        Some("done") => "done",
        Some("indeterminate") => "indeterminate",
        _ => "new",
    }
    .to_string()
}

#[derive(Serialize)]
struct IssueRef {
    key: String,
    href: Option<String>,
    summary: Option<String>,
    done: bool,
}

#[derive(Serialize)]
struct Named {
    name: String,
    href: String,
}

#[derive(Serialize)]
struct LinkGroup {
    description: String,
    items: Vec<IssueRef>,
}

#[derive(Serialize)]
struct CommentView {
    anchor: String,
    /// The comment's number as the thread shows it (`3` for `#3`): Bugzilla's own number, else
    /// its place in the thread from 1.
    number: u64,
    author: Option<people::PersonRef>,
    created: Option<TimeView>,
    body_html: String,
    reactions: Vec<ReactionView>,
}

/// A reaction with its count, shown as the emoji GitHub shows.
#[derive(Serialize)]
struct ReactionView {
    name: String,
    emoji: String,
    count: u64,
}

/// A label, with its colour (six hex digits) when the tracker gives one.
#[derive(Serialize)]
struct LabelView {
    name: String,
    color: Option<String>,
}

fn reaction_views(reactions: &BTreeMap<String, u64>) -> Vec<ReactionView> {
    reactions
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(name, &count)| ReactionView {
            emoji: match name.as_str() {
                "+1" => "👍",
                "-1" => "👎",
                "laugh" => "😄",
                "hooray" => "🎉",
                "confused" => "😕",
                "heart" => "❤️",
                "rocket" => "🚀",
                "eyes" => "👀",
                _ => "",
            }
            .to_string(),
            name: name.clone(),
            count,
        })
        .collect()
}

/// `owner/name`, as GitHub spells repositories (a project named so is a GitHub repository).
fn is_repository_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

#[derive(Serialize)]
struct AttachmentView {
    anchor: String,
    name: String,
    description: Option<String>,
    href: Option<String>,
    note: Option<String>,
    size: String,
    author: Option<people::PersonRef>,
    created: Option<TimeView>,
}

#[derive(Serialize)]
struct HistoryView {
    anchor: Option<String>,
    author: Option<people::PersonRef>,
    created: Option<TimeView>,
    changes: Vec<ChangeView>,
}

#[derive(Serialize)]
struct ChangeView {
    field: String,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize)]
struct FieldView {
    name: String,
    values: Vec<String>,
}

#[derive(Serialize)]
struct ExtraView {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct IssueView {
    key: String,
    summary: String,
    url: Option<String>,
    project_name: String,
    project_href: String,
    issue_type: Option<String>,
    priority: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    status_class: String,
    status_href: String,
    resolution: Option<String>,
    assignee: Option<people::PersonRef>,
    assignees: Vec<people::PersonRef>,
    reporter: Option<people::PersonRef>,
    created: Option<TimeView>,
    updated: Option<TimeView>,
    resolved: Option<TimeView>,
    merged: Option<TimeView>,
    due: Option<TimeView>,
    labels: Vec<LabelView>,
    reactions: Vec<ReactionView>,
    /// `owner/name#number`, for a GitHub issue.
    repository_ref: Option<String>,
    versions: Vec<Named>,
    fix_versions: Vec<Named>,
    components: Vec<Named>,
    votes: Option<u32>,
    watches: Option<u32>,
    parent: Option<IssueRef>,
    subtasks: Vec<IssueRef>,
    link_groups: Vec<LinkGroup>,
    mentioned_by: Vec<IssueRef>,
    description_html: Option<String>,
    environment_html: Option<String>,
    comments: Vec<CommentView>,
    attachments: Vec<AttachmentView>,
    custom_fields: Vec<FieldView>,
    extra: Vec<ExtraView>,
    history: Vec<HistoryView>,
    development: Option<commits::Development>,
    json_href: Option<String>,
}

impl IssueView {
    /// Turns the issue's texts into HTML, linked through `ctx`: the parts of the view
    /// [`new`](Self::new) leaves empty.
    fn fill_texts(&mut self, r: &Renderer, issue: &Issue, ctx: &LinkContext) {
        if let (Some(html), Some(t)) = (&mut self.description_html, &issue.description) {
            *html = r.render_text(t, ctx, "description");
        }
        if let (Some(html), Some(t)) = (&mut self.environment_html, &issue.environment) {
            *html = r.render_text(t, ctx, "environment");
        }
        for (view, c) in self.comments.iter_mut().zip(&issue.comments) {
            view.body_html = r.render_text(&c.body, ctx, &view.anchor);
        }
    }

    /// The view of `issue` without its texts' HTML (left empty: the page's digest is taken with
    /// the texts themselves; [`fill_texts`](Self::fill_texts) makes them when it renders).
    ///
    /// It reaches the archive only through `ask`, which notes what the page depends on.
    fn new(ask: &asked::Asking, config: &Config, issue: &Issue, root: &str) -> Self {
        let reference = |key: &str, with_summary: bool| {
            let s = ask.issue(key);
            IssueRef {
                key: key.to_string(),
                href: s.map(|s| format!("{root}{}.html", s.path())),
                summary: s.filter(|_| with_summary).map(|s| s.summary.to_string()),
                done: s.is_some_and(|s| !s.is_open()),
            }
        };
        let facet_link = |facet: &str, name: &str| Named {
            name: name.to_string(),
            href: format!("{root}{}", listing_path(facet, &slug(name), 1)),
        };
        let mut groups: BTreeMap<String, Vec<IssueRef>> = BTreeMap::new();
        for l in &issue.links {
            let d = if l.description.is_empty() {
                l.kind.clone()
            } else {
                l.description.clone()
            };
            groups
                .entry(d)
                .or_default()
                .push(reference(&l.target, true));
        }
        let person = |p: &crate::model::Person| ask.person(p);
        let name_of = |p: &Option<crate::model::Person>| p.as_ref().map(person);
        let description = issue.description.as_ref().filter(|t| !t.is_blank());
        let environment = issue.environment.as_ref().filter(|t| !t.is_blank());
        IssueView {
            key: issue.key.clone(),
            summary: issue.summary.clone(),
            url: issue.url.clone(),
            project_name: ask
                .project_name(&issue.project.key)
                .or(Some(issue.project.name.as_str()))
                .filter(|n| !n.is_empty())
                .unwrap_or(&issue.project.key)
                .to_string(),
            project_href: format!(
                "{root}{}",
                listing_path("project", &value_slug("project", &issue.project.key), 1)
            ),
            issue_type: issue.issue_type.clone(),
            priority: issue.priority.clone(),
            severity: issue.severity.clone(),
            status: issue.status.clone(),
            status_class: status_class(issue.status_category.as_deref()),
            status_href: format!(
                "{root}{}",
                listing_path("status", &slug(issue.status.as_deref().unwrap_or(NONE)), 1)
            ),
            resolution: issue.resolution.clone(),
            assignee: name_of(&issue.assignee),
            assignees: issue.assignees.iter().map(person).collect(),
            reporter: name_of(&issue.reporter),
            merged: issue.merged.as_ref().map(TimeView::of),
            reactions: reaction_views(&issue.reactions),
            repository_ref: issue.repository.as_ref().map(|r| {
                let n = crate::keys::split_key(&issue.key)
                    .map(|k| k.number.to_string())
                    .unwrap_or_default();
                format!("{r}#{n}")
            }),
            created: issue.created.as_ref().map(TimeView::of),
            updated: issue.updated.as_ref().map(TimeView::of),
            resolved: issue.resolved.as_ref().map(TimeView::of),
            due: issue.due.as_ref().map(TimeView::of),
            labels: issue
                .labels
                .iter()
                .map(|l| LabelView {
                    name: l.clone(),
                    color: issue.label_colors.get(l).cloned(),
                })
                .collect(),
            versions: issue
                .versions
                .iter()
                .map(|v| facet_link("affects-version", v))
                .collect(),
            fix_versions: issue
                .fix_versions
                .iter()
                .map(|v| facet_link("fix-version", v))
                .collect(),
            components: issue
                .components
                .iter()
                .map(|v| facet_link("component", v))
                .collect(),
            votes: issue.votes.filter(|&v| v > 0),
            watches: issue.watches.filter(|&v| v > 0),
            parent: issue.parent.as_deref().map(|k| reference(k, true)),
            subtasks: issue.subtasks.iter().map(|k| reference(k, true)).collect(),
            link_groups: groups
                .into_iter()
                .map(|(description, items)| LinkGroup { description, items })
                .collect(),
            mentioned_by: ask
                .mentioned_by(&issue.key)
                .map(|k| reference(k, true))
                .collect(),
            description_html: description.map(|_| String::new()),
            environment_html: environment.map(|_| String::new()),
            comments: issue
                .comments
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let anchor = match c.number {
                        Some(n) => format!("c{n}"),
                        // GitHub's own anchor, so `…/issues/7#issuecomment-N` resolves.
                        None if issue.repository.is_some() => format!("issuecomment-{}", c.id),
                        None => format!("comment-{}", c.id),
                    };
                    CommentView {
                        number: c.number.map_or(i as u64 + 1, u64::from),
                        author: name_of(&c.author),
                        created: c.created.as_ref().map(TimeView::of),
                        body_html: String::new(),
                        reactions: reaction_views(&c.reactions),
                        anchor,
                    }
                })
                .collect(),
            attachments: issue
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    anchor: format!("attachment-{}", slug(&a.id)),
                    name: a.name.clone(),
                    description: a
                        .description
                        .clone()
                        .filter(|d| !d.is_empty() && *d != a.name),
                    href: None,
                    note: None,
                    size: a.size.map(human_size).unwrap_or_default(),
                    author: name_of(&a.author),
                    created: a.created.as_ref().map(TimeView::of),
                })
                .collect(),
            custom_fields: issue
                .custom_fields
                .iter()
                .filter(|f| !f.values.is_empty())
                .map(|f| FieldView {
                    name: f.name.clone(),
                    values: f.values.clone(),
                })
                .collect(),
            extra: issue
                .extra
                .iter()
                .filter(|(k, _)| shown_extra(k))
                .map(|(k, v)| ExtraView {
                    name: extra_label(k),
                    value: v.clone(),
                })
                .collect(),
            history: issue
                .history
                .iter()
                .map(|h| HistoryView {
                    anchor: h
                        .id
                        .as_ref()
                        .filter(|_| issue.repository.is_some())
                        .map(|id| format!("event-{id}")),
                    author: name_of(&h.author),
                    created: h.created.as_ref().map(TimeView::of),
                    changes: h
                        .changes
                        .iter()
                        .map(|c| ChangeView {
                            field: c.field.clone(),
                            from: c.from.clone(),
                            to: c.to.clone(),
                        })
                        .collect(),
                })
                .collect(),
            development: ask
                .development(&issue.key)
                .map(|d| d.with_fix_versions(&issue.fix_versions)),
            json_href: config.issue_json.then(|| {
                format!(
                    "{}.json",
                    issue.key.rsplit('/').next().unwrap_or(&issue.key)
                )
            }),
        }
    }
}

/// Whether a field kept in [`Issue::extra`] is shown on the page: the old tracker's internal
/// ids (`status_id`, `subtask_ids`, `milestone.id`…) and display details such as a status
/// category's colour are only kept in the per-issue JSON.
fn shown_extra(key: &str) -> bool {
    !(key == "everconfirmed"
        || key == "status_category_color"
        || key.ends_with("_id")
        || key.ends_with("_ids")
        || key.ends_with(".id"))
}

/// How pages name the tracker-specific fields kept in [`Issue::extra`].
fn extra_label(key: &str) -> String {
    match key {
        "rep_platform" => "Platform",
        "op_sys" => "OS",
        "status_whiteboard" => "Whiteboard",
        "bug_file_loc" => "URL",
        "see_also" => "See also",
        "cc" => "CC",
        "qa_contact" => "QA contact",
        "alias" => "Alias",
        "state_reason" => "State reason",
        "locked" => "Locked",
        "active_lock_reason" => "Lock reason",
        "author_association" => "Author association",
        "closed_by" => "Closed by",
        "draft" => "Draft",
        "milestone.state" => "Milestone state",
        "milestone.due_on" => "Milestone due",
        "milestone.description" => "Milestone description",
        "milestone.created_at" => "Milestone created",
        "milestone.updated_at" => "Milestone updated",
        "milestone.closed_at" => "Milestone closed",
        "milestone.open_issues" => "Milestone open issues",
        "milestone.closed_issues" => "Milestone closed issues",
        _ => key,
    }
    .to_string()
}

/// The facet value listings use for issues without one.
const NONE: &str = "(none)";

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A file-system-safe, case-insensitively unique folder name for a facet value: the value's
/// lower-case ASCII letters and digits, plus a short hash of the exact value whenever
/// anything was changed (so `Open` and `open`, or `2.x` and `2-x`, never share a folder).
pub fn slug(value: &str) -> String {
    let mut s: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let mut s = s.trim_matches('-').to_string();
    s.truncate(48);
    if s.is_empty() || s != value {
        let h = xxhash_rust::xxh3::xxh3_64(value.as_bytes());
        s = format!(
            "{}{}{:08x}",
            s,
            if s.is_empty() { "" } else { "-" },
            h as u32
        );
    }
    s
}

/// Page `page` (from 1) of a listing with `size` entries per page, and how many pages the
/// listing has (at least one, even when empty).
fn page_of<T>(list: &[T], page: usize, size: usize) -> (&[T], usize) {
    let total = list.len().div_ceil(size).max(1);
    let start = ((page - 1) * size).min(list.len());
    let end = (start + size).min(list.len());
    (&list[start..end], total)
}

/// The site's Markdown pages with their titles and paths; a page may not take the name of
/// one of the site's own (`index`, `search`).
fn nav_pages(sources: &[PageSource]) -> Result<Vec<NavPage>> {
    let mut pages = Vec::with_capacity(sources.len());
    for source in sources {
        let file = &source.file;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = slug(&stem);
        if matches!(name.as_str(), "index" | "search") {
            return Err(Error::Config {
                path: file.clone(),
                message: format!("a page may not be called {stem}.md: the site has its own"),
            });
        }
        let title = source
            .text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|| stem.clone());
        pages.push(NavPage {
            title,
            path: format!("{name}.html"),
            body: source.text.clone(),
        });
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ids_are_kept_but_not_shown() {
        for hidden in [
            "status_id",
            "subtask_ids",
            "milestone.id",
            "label.bug.id",
            "node_id",
        ] {
            assert!(!shown_extra(hidden), "{hidden}");
        }
        assert!(!shown_extra("status_category_color"));
        for shown in ["status_description", "op_sys", "milestone.closed_at", "cc"] {
            assert!(shown_extra(shown), "{shown}");
        }
    }

    #[test]
    fn slugs_are_safe_and_distinct() {
        assert_eq!(slug("lnet"), "lnet");
        assert_ne!(slug("Open"), slug("open"));
        assert!(slug("Lustre 2.15.0").starts_with("lustre-2-15-0-"));
        assert_ne!(slug("2.x"), slug("2-x"));
        let weird = slug("../../<script>");
        assert!(
            weird.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{weird}"
        );
        assert!(!slug("").is_empty());
    }

    #[test]
    fn root_climbs_one_level_per_folder() {
        assert_eq!(root_of("index.html"), "");
        assert_eq!(root_of("issues/LU/20/LU-20581.html"), "../../../");
    }
}
