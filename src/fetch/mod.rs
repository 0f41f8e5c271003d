//! `hindsight fetch`: copies a live tracker (JIRA REST v2, Bugzilla CGI or REST, GitHub REST)
//! into the export files the importers already read, politely, resumably and incrementally.
//!
//! Each tracker with a `[tracker.fetch]` table is harvested into the folder of its `paths`
//! glob, so `hindsight build` reads exactly what the harvest wrote:
//!
//! - JIRA: search pages (`/rest/api/2/search`, keyset-paged by key so no result window stops
//!   it) with `expand=renderedFields,changelog,names,schema`, comments, changelog and worklogs
//!   that the search truncated completed from their own endpoints; attachment files into the
//!   tracker's `attachments` folder (JIRA's own layout) up to a size cap. JIRA Cloud, which
//!   removed that search, is read through `/rest/api/3/search/jql` (`nextPageToken` paging)
//!   with `jira_api = "cloud"`, or by itself when the v2 search answers 410 Gone or 404 (kept
//!   in the state for later runs).
//! - Bugzilla: ids listed (`buglist.cgi?ctype=csv`, or REST `/rest/bug?include_fields=id`),
//!   bugs fetched in batches (`show_bug.cgi?ctype=xml`, attachment data inline up to the size
//!   cap, on every version; or REST with comments, history and attachments embedded).
//! - GitHub: issues and pull requests of each repository (`Link` paging), with their comments
//!   and timeline events embedded as python-github-backup writes them.
//!
//! Progress has a total on every API: v2's search `total`, Cloud's approximate count, the
//! Bugzilla id list, GitHub's `per_page=1` last page number.
//!
//! One harvest per folder at a time: `<folder>/.hindsight-fetch/lock` is locked (advisory, on
//! the open file, so a killed run leaves no stale lock) for the whole run, and a second one
//! fails within half a second with [`FetchError::Locked`].
//!
//! Files are written atomically; the state file (see [`state`]) records the run's progress
//! after each page, so a killed run continues where it stopped. A later run asks only for what
//! changed since the last complete run (less an overlap), and afterwards takes the older copies
//! of re-fetched issues out of older files; issues gone from the source are reported and, with
//! `remove_deleted`, removed. The only shared code is the polite client in [`http`].

mod bugzilla;
pub mod error;
mod files;
mod github;
mod http;
mod jira;
mod state;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

pub use crate::config::{BugzillaApi, FetchConfig, JiraApi, TrackerKind};
pub use crate::observe::{Observer, Quiet};
pub use error::{redact, FetchError};
use files::FileKind;
use http::{Client, Secret, Settings};
use state::State;

/// One tracker to harvest: its name, where its files go, and its `[tracker.fetch]` table.
#[derive(Clone, Debug)]
pub struct FetchTarget {
    /// The tracker's name (for messages and errors).
    pub name: String,
    /// The folder the tracker's `paths` glob reads: the harvest writes its files there.
    pub folder: PathBuf,
    /// The tracker's attachments folder (JIRA's layout), when it has one.
    pub attachments: Option<PathBuf>,
    /// The `[tracker.fetch]` table.
    pub config: FetchConfig,
}

impl FetchTarget {
    /// The target of a configured tracker: `root` is the config's folder, `paths` its globs
    /// (the first one whose folder holds the files the harvest writes is used), `attachments`
    /// its attachments folder (already resolved). Checks the table before anything is fetched.
    pub fn new(
        name: &str,
        root: &Path,
        paths: &[String],
        attachments: Option<&Path>,
        config: &FetchConfig,
    ) -> Result<FetchTarget, FetchError> {
        let bad = |m: String| FetchError::config(name, m);
        let kind = FileKind::of(config.kind, config.api == BugzillaApi::Rest);
        let sample = files::file_name(kind, 1, 1);
        let folder = paths
            .iter()
            .find_map(|p| {
                let folder = glob_folder(p);
                let pattern = glob::Pattern::new(&root.join(p).to_string_lossy()).ok()?;
                pattern
                    .matches_path(&root.join(&folder).join(&sample))
                    .then(|| root.join(folder))
            })
            .ok_or_else(|| {
                bad(format!(
                    "no `paths` glob matches the files the harvest writes ({sample}); use e.g. \"harvest/{}/*.{}\"",
                    kind_name(config.kind),
                    kind.extension()
                ))
            })?;
        match config.kind {
            TrackerKind::Jira => {
                if config.jql.as_deref().is_none_or(|q| q.trim().is_empty()) {
                    return Err(bad(
                        "`jql` is required for JIRA (e.g. \"project = LU\")".into()
                    ));
                }
            }
            TrackerKind::Github => {
                if config.repos.is_empty() {
                    return Err(bad(
                        "`repos` is required for GitHub (e.g. [\"owner/name\"])".into(),
                    ));
                }
                for r in &config.repos {
                    let parts: Vec<&str> = r.split('/').collect();
                    let ok = |s: &str| {
                        !s.is_empty()
                            && s.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                    };
                    if parts.len() != 2 || !parts.iter().all(|p| ok(p)) {
                        return Err(bad(format!("repos: {r:?} is not owner/name")));
                    }
                }
            }
            TrackerKind::Bugzilla => {}
        }
        if config.kind != TrackerKind::Github && config.url.is_none() {
            return Err(bad("`url` is required (the tracker's base address)".into()));
        }
        let url = base_url(config);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(bad(format!(
                "url {:?} must start with http:// or https://",
                redact(&url)
            )));
        }
        if http::authority(&url).is_empty()
            || url.split("://").nth(1).is_some_and(|r| {
                r.split(['/', '?', '#'])
                    .next()
                    .is_some_and(|a| a.contains('@'))
            })
        {
            return Err(bad(
                "url must not hold credentials: name environment variables with token_env or user_env/password_env, or use ~/.netrc".into(),
            ));
        }
        if !(1..=16).contains(&config.max_in_flight) {
            return Err(bad("max_in_flight must be between 1 and 16".into()));
        }
        if config.page_size == Some(0) {
            return Err(bad("page_size must be at least 1".into()));
        }
        let timeout_ok = config.timeout_seconds > 0.0 && config.timeout_seconds.is_finite();
        let backoff_ok = (0.0..=3600.0).contains(&config.backoff_seconds);
        if !timeout_ok || !backoff_ok {
            return Err(bad(
                "timeout_seconds must be positive and backoff_seconds between 0 and 3600".into(),
            ));
        }
        if config.user_env.is_some() != config.password_env.is_some() {
            return Err(bad("user_env and password_env go together".into()));
        }
        Ok(FetchTarget {
            name: name.to_string(),
            folder,
            attachments: attachments.map(Path::to_path_buf),
            config: config.clone(),
        })
    }
}

fn kind_name(kind: TrackerKind) -> &'static str {
    match kind {
        TrackerKind::Jira => "jira",
        TrackerKind::Bugzilla => "bugzilla",
        TrackerKind::Github => "github",
    }
}

/// The literal folder part of a glob (`harvest/jira/*.json` → `harvest/jira`).
fn glob_folder(pattern: &str) -> PathBuf {
    let mut folder = PathBuf::new();
    let parts: Vec<&str> = pattern.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() || part.contains(['*', '?', '[', '{']) {
            break;
        }
        folder.push(part);
    }
    folder
}

/// The base address without a trailing slash.
fn base_url(config: &FetchConfig) -> String {
    config
        .url
        .clone()
        .unwrap_or_else(|| "https://api.github.com".to_string())
        .trim_end_matches('/')
        .to_string()
}

/// How a harvest runs, beyond the config.
#[derive(Clone, Debug, Default)]
pub struct FetchOptions {
    /// Fetch everything again instead of what changed since the last run.
    pub full: bool,
}

/// What one tracker's harvest did, for the summary.
#[derive(Clone, Debug, Default)]
pub struct TrackerReport {
    /// The tracker.
    pub tracker: String,
    /// A full harvest (first run or `--full`) rather than what changed.
    pub full: bool,
    /// It continued a run that had been interrupted.
    pub resumed: bool,
    /// Issues written by this process.
    pub issues: u64,
    /// Comments in them.
    pub comments: u64,
    /// Attachment files downloaded, and their bytes.
    pub attachments: u64,
    /// See `attachments`.
    pub attachment_bytes: u64,
    /// Attachment files left out: over the size cap.
    pub attachments_skipped: u64,
    /// Attachment files the server would not give (403, 404, 410): listed, not copied.
    pub attachments_missing: u64,
    /// Pages or batches written.
    pub files: u64,
    /// HTTP requests, retries among them, and bytes received.
    pub requests: u64,
    /// See `requests`.
    pub retries: u64,
    /// See `requests`.
    pub bytes: u64,
    /// Older copies of re-fetched issues replaced.
    pub replaced: u64,
    /// Issues the source no longer lists (deleted, moved, restricted), sorted.
    pub gone: Vec<String>,
    /// Of those, removed from the harvest.
    pub removed: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl TrackerReport {
    /// One line for the progress display: issues, comments, attachments, requests.
    pub fn summary(&self) -> String {
        format!(
            "{} issues, {} comments, {} attachments; {} requests ({} retries), {:.1} MB",
            self.issues,
            self.comments,
            self.attachments,
            self.requests,
            self.retries,
            self.bytes as f64 / 1e6
        )
    }
}

/// What a whole harvest did.
#[derive(Clone, Debug, Default)]
pub struct FetchSummary {
    /// One report per tracker, in config order.
    pub trackers: Vec<TrackerReport>,
}

impl std::fmt::Display for FetchSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for t in &self.trackers {
            writeln!(
                f,
                "{}: {} run{}: {} issues, {} comments, {} attachments ({:.1} MB, {} over the cap, {} refused), {} files; {} requests, {} retries, {:.1} MB received in {:.1}s",
                t.tracker,
                if t.full { "full" } else { "incremental" },
                if t.resumed { " (resumed)" } else { "" },
                t.issues,
                t.comments,
                t.attachments,
                t.attachment_bytes as f64 / 1e6,
                t.attachments_skipped,
                t.attachments_missing,
                t.files,
                t.requests,
                t.retries,
                t.bytes as f64 / 1e6,
                t.elapsed.as_secs_f64()
            )?;
            if t.replaced > 0 {
                writeln!(f, "{}: {} older copies replaced", t.tracker, t.replaced)?;
            }
            if !t.gone.is_empty() {
                let shown: Vec<&str> = t.gone.iter().take(20).map(String::as_str).collect();
                writeln!(
                    f,
                    "{}: {} issues gone from the source{}: {}{}",
                    t.tracker,
                    t.gone.len(),
                    if t.removed > 0 {
                        " (removed from the harvest)"
                    } else {
                        " (kept; remove_deleted = true removes them)"
                    },
                    shown.join(", "),
                    if t.gone.len() > 20 { ", …" } else { "" }
                )?;
            }
        }
        Ok(())
    }
}

/// Harvests every target in turn. On an error, what was fetched before it is on disk and
/// the next run continues from it.
pub fn fetch(
    targets: &[FetchTarget],
    options: &FetchOptions,
    progress: &dyn Observer,
) -> Result<FetchSummary, FetchError> {
    let mut summary = FetchSummary::default();
    for target in targets {
        summary.trackers.push(harvest(target, options, progress)?);
    }
    Ok(summary)
}

/// Counts the harvesters keep while writing.
#[derive(Default)]
pub(crate) struct Counts {
    pub issues: AtomicU64,
    pub comments: AtomicU64,
    pub attachments: AtomicU64,
    pub attachment_bytes: AtomicU64,
    pub attachments_skipped: AtomicU64,
    pub attachments_missing: AtomicU64,
    pub files: AtomicU64,
}

/// What a harvester works with.
pub(crate) struct Ctx<'a> {
    pub name: &'a str,
    pub folder: &'a Path,
    pub attachments: Option<&'a Path>,
    pub config: &'a FetchConfig,
    pub base: String,
    pub client: Client,
    pub progress: &'a dyn Observer,
    pub counts: Counts,
    pub kind: FileKind,
    /// JIRA: the Cloud search (`/rest/api/3/search/jql`) is used, by config or fall-over.
    pub jira_cloud: AtomicBool,
}

impl Ctx<'_> {
    /// Counts what became of one attachment file: copied (its value and bytes), over the size
    /// cap (`None`), or lost or hidden by the server (403, 404, 410: listed, not copied, and
    /// noted, as the build does with any missing file). Any other error stops the harvest.
    pub fn attachment_outcome<T>(
        &self,
        fetched: Result<Option<(T, u64)>, FetchError>,
    ) -> Result<Option<T>, FetchError> {
        match fetched {
            Ok(Some((value, bytes))) => {
                self.counts.attachments.fetch_add(1, Ordering::Relaxed);
                self.counts
                    .attachment_bytes
                    .fetch_add(bytes, Ordering::Relaxed);
                Ok(Some(value))
            }
            Ok(None) => {
                self.counts
                    .attachments_skipped
                    .fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
            Err(
                e @ FetchError::Status {
                    status: 403 | 404 | 410,
                    ..
                },
            ) => {
                self.counts
                    .attachments_missing
                    .fetch_add(1, Ordering::Relaxed);
                self.progress.note(&format!("attachment not copied: {e}"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes page `page` of run `run` atomically.
    pub fn write_page(&self, run: u32, page: u32, bytes: &[u8]) -> Result<(), FetchError> {
        let path = self.folder.join(files::file_name(self.kind, run, page));
        state::write_atomic(self.name, &path, bytes)?;
        self.counts.files.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Saves the state, with the JIRA Cloud switch if the run made it (so it outlives a run
    /// that fails later).
    pub fn save(&self, state: &State) -> Result<(), FetchError> {
        if self.fell_over() && !state.jira_cloud {
            let mut state = state.clone();
            state.jira_cloud = true;
            return state.save(self.name, self.folder);
        }
        state.save(self.name, self.folder)
    }

    /// JIRA: this harvest went over to the Cloud search by itself (not by `jira_api = "cloud"`).
    fn fell_over(&self) -> bool {
        self.config.jira_api != JiraApi::Cloud && self.jira_cloud.load(Ordering::Relaxed)
    }

    /// Issues per request.
    pub fn page_size(&self, default: u32) -> u32 {
        self.config.page_size.unwrap_or(default)
    }
}

/// What the tracker answers to, for the state file: a state made for another source is not
/// continued.
fn source_id(config: &FetchConfig) -> String {
    format!(
        "{} {} jql={:?} products={:?} components={:?} api={:?} repos={:?}",
        kind_name(config.kind),
        base_url(config),
        config.jql,
        config.products,
        config.components,
        config.api,
        config.repos
    )
}

/// The credential from the environment or `~/.netrc`.
fn credentials(name: &str, config: &FetchConfig) -> Result<Option<Secret>, FetchError> {
    let var = |v: &str| {
        std::env::var(v).map_err(|_| {
            FetchError::config(
                name,
                format!("the environment variable {v} (named in [tracker.fetch]) is not set"),
            )
        })
    };
    if let Some(v) = &config.token_env {
        let token = var(v)?;
        return Ok(Some(Secret(format!("Bearer {}", token.trim()))));
    }
    if let (Some(u), Some(p)) = (&config.user_env, &config.password_env) {
        let basic = http::base64(format!("{}:{}", var(u)?, var(p)?).as_bytes());
        return Ok(Some(Secret(format!("Basic {basic}"))));
    }
    let netrc = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")));
    if let Some(text) = netrc.and_then(|p| std::fs::read_to_string(p).ok()) {
        let authority = http::authority(&base_url(config));
        let host = authority
            .rsplit_once(':')
            .map_or(authority.as_str(), |(h, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    authority.as_str()
                }
            });
        if let Some((login, password)) = http::netrc_lookup(&text, host) {
            let basic = http::base64(format!("{login}:{password}").as_bytes());
            return Ok(Some(Secret(format!("Basic {basic}"))));
        }
    }
    Ok(None)
}

/// Harvests one tracker: continue or start a run, fetch its pages, then replace older copies
/// and report (or remove) what the source no longer has.
fn harvest(
    target: &FetchTarget,
    options: &FetchOptions,
    progress: &dyn Observer,
) -> Result<TrackerReport, FetchError> {
    let started = Instant::now();
    let config = &target.config;
    let name = target.name.as_str();
    let auth = credentials(name, config)?;
    let base = base_url(config);
    let headers = match config.kind {
        TrackerKind::Github => vec![
            (
                "Accept".to_string(),
                "application/vnd.github+json".to_string(),
            ),
            ("X-GitHub-Api-Version".to_string(), "2022-11-28".to_string()),
        ],
        TrackerKind::Bugzilla if config.api == BugzillaApi::Xml => Vec::new(),
        _ => vec![("Accept".to_string(), "application/json".to_string())],
    };
    let user_agent = format!(
        "hindsight/{} (archive harvester; +https://github.com/hindsight-archive){}",
        env!("CARGO_PKG_VERSION"),
        config
            .contact
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default()
    );
    let settings = Settings {
        max_in_flight: config.max_in_flight,
        timeout: Duration::from_secs_f64(config.timeout_seconds),
        retries: config.retries,
        backoff: Duration::from_secs_f64(config.backoff_seconds),
        user_agent,
    };
    let kind = FileKind::of(config.kind, config.api == BugzillaApi::Rest);
    std::fs::create_dir_all(&target.folder).map_err(|e| FetchError::io(name, &target.folder, e))?;
    let ctx = Ctx {
        name,
        folder: &target.folder,
        attachments: target.attachments.as_deref(),
        config,
        client: Client::new(name, &base, settings, auth, headers),
        base,
        progress,
        counts: Counts::default(),
        kind,
        jira_cloud: AtomicBool::new(config.jira_api == JiraApi::Cloud),
    };

    // Held until this function returns: a second harvest of the folder fails at once.
    let _lock = state::lock(name, &target.folder)?;
    state::remove_temporaries(&target.folder);
    let mut state = State::load(name, &target.folder, &source_id(config))?;
    if options.full {
        // `--full` starts afresh, finding out again which search the site has.
        state.jira_cloud = false;
    } else if state.jira_cloud && config.kind == TrackerKind::Jira {
        // An earlier run found the v2 search gone: ask the Cloud search at once.
        ctx.jira_cloud.store(true, Ordering::Relaxed);
    }
    if options.full && state.run.as_ref().is_some_and(|r| !r.full) {
        state.run = None;
    }
    let resumed = state.run.is_some();
    if state.run.is_none() {
        let full = options.full || state.watermark.is_none();
        let overlap = chrono::Duration::minutes(config.overlap_minutes as i64);
        state.run = Some(state::Run {
            number: state.next_run,
            full,
            started: Some(Utc::now()),
            since: if full {
                None
            } else {
                state.watermark.map(|w| w - overlap)
            },
            ..Default::default()
        });
        state.next_run += 1;
        ctx.save(&state)?;
    }
    let (full, run_number, already, total) = {
        let run = state.run.as_ref().expect("a run was just set");
        (run.full, run.number, run.issues, run.total)
    };
    progress.stage_started(name, total);
    if already > 0 {
        progress.advance(already);
        progress.note(&format!(
            "{name}: continuing an interrupted run ({already} issues already on disk)"
        ));
    }

    if !state.run.as_ref().is_some_and(|r| r.fetched) {
        match config.kind {
            TrackerKind::Jira => jira::harvest(&ctx, &mut state)?,
            TrackerKind::Bugzilla => bugzilla::harvest(&ctx, &mut state)?,
            TrackerKind::Github => github::harvest(&ctx, &mut state)?,
        }
        if let Some(run) = state.run.as_mut() {
            run.fetched = true;
        }
        ctx.save(&state)?;
    }

    let fresh = files::keys_of_run(name, &target.folder, kind, run_number)?;
    let listed: HashSet<String> = if full {
        fresh.clone()
    } else {
        progress.note(&format!(
            "{name}: listing every issue to find those gone from the source"
        ));
        match config.kind {
            TrackerKind::Jira => jira::list_keys(&ctx)?,
            TrackerKind::Bugzilla => bugzilla::list_keys(&ctx)?,
            TrackerKind::Github => github::list_keys(&ctx)?,
        }
    };
    let compacted = files::compact(
        name,
        &target.folder,
        kind,
        run_number,
        &fresh,
        &listed,
        config.remove_deleted,
    )?;
    state.watermark = state.run.as_ref().and_then(|r| r.started);
    state.run = None;
    state.jira_cloud |= ctx.fell_over();
    ctx.save(&state)?;

    let stats = &ctx.client.stats;
    let c = &ctx.counts;
    let report = TrackerReport {
        tracker: name.to_string(),
        full,
        resumed,
        issues: c.issues.load(Ordering::Relaxed),
        comments: c.comments.load(Ordering::Relaxed),
        attachments: c.attachments.load(Ordering::Relaxed),
        attachment_bytes: c.attachment_bytes.load(Ordering::Relaxed),
        attachments_skipped: c.attachments_skipped.load(Ordering::Relaxed),
        attachments_missing: c.attachments_missing.load(Ordering::Relaxed),
        files: c.files.load(Ordering::Relaxed),
        requests: stats.requests.load(Ordering::Relaxed),
        retries: stats.retries.load(Ordering::Relaxed),
        bytes: stats.bytes.load(Ordering::Relaxed),
        replaced: compacted.superseded,
        gone: compacted.gone,
        removed: compacted.removed,
        elapsed: started.elapsed(),
    };
    progress.stage_finished(name, &report.summary(), report.elapsed);
    Ok(report)
}

/// Runs `f` on every item with `threads` threads (the client bounds requests in flight), in
/// any order; stops at the first error, which it returns. Results come back in item order.
pub(crate) fn parallel<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> Result<R, FetchError> + Sync,
) -> Result<Vec<R>, FetchError> {
    if items.len() <= 1 || threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let error: Mutex<Option<FetchError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { return };
                match f(item) {
                    Ok(r) => results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<FetchConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn the_table_refuses_unknown_keys_and_fills_defaults() {
        let c =
            config("kind = \"jira\"\nurl = \"https://j.example.org\"\njql = \"project = LU\"\n")
                .unwrap();
        assert_eq!(c.max_in_flight, 2);
        assert_eq!(c.overlap_minutes, 10);
        assert!(c.attachments && !c.remove_deleted);
        let e = config("kind = \"jira\"\nurl = \"x\"\njqll = \"p\"\n").unwrap_err();
        assert!(e.to_string().contains("jqll"), "{e}");
        assert!(config("kind = \"gitlab\"\n").is_err());
    }

    #[test]
    fn targets_write_where_the_glob_reads() {
        let c =
            config("kind = \"jira\"\nurl = \"https://j.example.org/\"\njql = \"project = LU\"\n")
                .unwrap();
        let t = FetchTarget::new(
            "jira",
            Path::new("/s"),
            &["harvest/jira/*.json".into()],
            None,
            &c,
        )
        .unwrap();
        assert_eq!(t.folder, Path::new("/s/harvest/jira"));
        let e = FetchTarget::new(
            "jira",
            Path::new("/s"),
            &["harvest/jira/*.xml".into()],
            None,
            &c,
        )
        .unwrap_err();
        assert!(e.to_string().contains("jira-r0001-000001.json"), "{e}");
        let mut bad = c.clone();
        bad.url = Some("https://bob:pw@j.example.org".into());
        let e = FetchTarget::new("jira", Path::new("/s"), &["h/*.json".into()], None, &bad)
            .unwrap_err();
        assert!(
            e.to_string().contains("credentials") && !e.to_string().contains("pw"),
            "{e}"
        );
        let mut no_jql = c;
        no_jql.jql = None;
        assert!(
            FetchTarget::new("jira", Path::new("/s"), &["h/*.json".into()], None, &no_jql).is_err()
        );
    }

    #[test]
    fn missing_environment_variables_are_named_not_guessed() {
        let c = config(
            "kind = \"github\"\nrepos = [\"a/b\"]\ntoken_env = \"HINDSIGHT_TEST_UNSET_TOKEN\"\n",
        )
        .unwrap();
        let e = credentials("gh", &c).unwrap_err();
        assert!(e.to_string().contains("HINDSIGHT_TEST_UNSET_TOKEN"), "{e}");
    }

    #[test]
    fn parallel_keeps_order_and_stops_on_error() {
        let items: Vec<u32> = (0..50).collect();
        let out = parallel(3, &items, |i| Ok(i * 2)).unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let e = parallel(3, &items, |i| {
            if *i == 7 {
                Err(FetchError::config("t", "seven"))
            } else {
                Ok(*i)
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("seven"));
    }
}
