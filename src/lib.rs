//! hindsight: a project's archived bug-tracker history, cross-linked with its source history,
//! published as plain static files.
//!
//! The build is a pipeline of stages, each a function of the previous stage's value:
//! [`import`] (exports → archive store) → [`link`] (in-memory indexes) → [`render`] (pages into
//! a sink) → [`write`] (the staged site swapped in atomically). Only `write` touches the output
//! folder; what outlives a build (the archive store, the search index) lives in the build cache.

pub mod check;
pub mod config;
pub mod error;
pub mod fetch;
pub mod fingerprint;
pub mod history;
pub mod import;
pub mod init;
pub mod keys;
pub mod link;
pub mod model;
pub mod references;
pub mod releases;
pub mod render;
pub mod search;
pub mod serve;
pub mod store;
pub mod write;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use config::Config;
pub use error::{Error, Result};
use import::ImportReport;
use render::{Progress, RenderReport};
use write::{Staging, WriteReport};

/// How a build runs, beyond what the config says.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Overrides the config's output folder.
    pub output: Option<PathBuf>,
    /// Turns warnings about the input into errors.
    pub strict: bool,
    /// Builds even when nothing changed since the last build (see [`fingerprint`]).
    pub force: bool,
}

/// Receives the build's progress: stage boundaries and items done. The CLI draws it; tests
/// ignore it.
pub trait Observer: Sync {
    /// A stage starts; `total` items when known.
    fn stage_started(&self, _stage: &'static str, _total: Option<u64>) {}
    /// `n` more items of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// A stage ended, with a one-line account of what it did.
    fn stage_finished(&self, _stage: &'static str, _summary: &str, _elapsed: Duration) {}
}

/// Reports nothing.
pub struct Quiet;
impl Observer for Quiet {}

struct ObserverProgress<'a>(&'a dyn Observer);
impl Progress for ObserverProgress<'_> {
    fn advance(&self, n: u64) {
        self.0.advance(n)
    }
}

/// What a build did, for the summary.
#[derive(Clone, Debug)]
pub struct BuildReport {
    /// Where the site went.
    pub output: PathBuf,
    /// Nothing had changed since the last build, which left the site as it was: the other
    /// fields are empty.
    pub up_to_date: bool,
    /// What import read, kept and dropped.
    pub import: ImportReport,
    /// What the git read found (empty without repositories).
    pub git: import::git::GitReport,
    /// Commit ↔ issue references: linked, unresolved.
    pub references: history::LinkStats,
    /// What render produced.
    pub render: RenderReport,
    /// What the search index holds.
    pub search: search::SearchReport,
    /// What write changed.
    pub write: WriteReport,
    /// Wall time per stage.
    pub stages: Vec<(&'static str, Duration)>,
}

/// Writes the archive described by `config` to `file` in hindsight's neutral NDJSON format, one
/// issue per line in key order, exactly as the site publishes it (restricted items dropped,
/// display names resolved, addresses masked), so that importing the file gives the same site.
/// Returns the number of issues written.
pub fn export(config: &Config, file: &std::path::Path, strict: bool) -> Result<u64> {
    let imported = import::import(config, &config.cache.join("archive.redb"), strict)?;
    let linked = link::link(imported)?;
    let mut out = Vec::new();
    let mut count = 0;
    linked.store.for_each_issue(|mut issue| {
        linked.prepare(&mut issue);
        // Files from a tracker's attachments folder travel inside the export.
        render::attachments::embed(config, &mut issue)?;
        serde_json::to_writer(&mut out, &issue).map_err(|e| Error::Store {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        out.push(b'\n');
        count += 1;
        Ok(())
    })?;
    write::replace_file(file, &out)?;
    Ok(count)
}

/// Builds the site described by `config`.
///
/// The previous output stays untouched unless the whole build succeeds.
pub fn build(
    config: &Config,
    options: &BuildOptions,
    observer: &dyn Observer,
) -> Result<BuildReport> {
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| config.output.clone());
    let mut stages = Vec::new();

    let started = Instant::now();
    observer.stage_started("check", None);
    let inputs = fingerprint::inputs(config, &output, options.strict)?;
    let last = fingerprint::load(&config.cache);
    let up_to_date = !options.force
        && last.as_ref().is_some_and(|last| {
            last.inputs == inputs
                && last.output_path == output
                && last.cache == fingerprint::cache(config)
        })
        && fingerprint::output(&output)?.as_ref() == last.as_ref().map(|l| &l.output);
    let elapsed = started.elapsed();
    stages.push(("check", elapsed));
    if up_to_date {
        observer.stage_finished(
            "check",
            "nothing changed since the last build: inputs, cache and site are as it left them",
            elapsed,
        );
        return Ok(BuildReport {
            output,
            up_to_date: true,
            import: Default::default(),
            git: Default::default(),
            references: Default::default(),
            render: Default::default(),
            search: Default::default(),
            write: Default::default(),
            stages,
        });
    }
    observer.stage_finished("check", "inputs changed since the last build", elapsed);
    // The cache is about to change: until this build succeeds, there is no last build.
    fingerprint::forget(&config.cache)?;

    let started = Instant::now();
    observer.stage_started("import", None);
    let imported = import::import(config, &config.cache.join("archive.redb"), options.strict)?;
    let report = imported.report.clone();
    let elapsed = started.elapsed();
    observer.stage_finished(
        "import",
        &format!(
            "{} files, {} issues ({} duplicate copies merged), {} comments",
            report.files, report.issues_kept, report.duplicates, report.comments
        ),
        elapsed,
    );
    stages.push(("import", elapsed));

    let mut history = history::History::default();
    let mut git_report = import::git::GitReport::default();
    if !config.repositories.is_empty() {
        let started = Instant::now();
        observer.stage_started("git", None);
        let references = references::References::from_config(config)?;
        (history, git_report) = import::git::read(
            config,
            &references,
            &imported.store,
            &ObserverProgress(observer),
        )?;
        let elapsed = started.elapsed();
        let g = &git_report;
        observer.stage_finished(
            "git",
            &format!(
                "{} commits on {} branches, {} tags, {} releases; diffs {} computed, {} cached (walk {:.1}s, diffs {:.1}s)",
                g.commits,
                g.branches,
                g.tags,
                g.releases,
                g.diffs_computed,
                g.diffs_cached,
                g.walk_time.as_secs_f64(),
                g.diff_time.as_secs_f64()
            ),
            elapsed,
        );
        stages.push(("git", elapsed));
    }

    let started = Instant::now();
    observer.stage_started("link", None);
    let mut linked = link::link(imported)?;
    linked.attach_history(history, config);
    let elapsed = started.elapsed();
    let refs = linked.history.stats;
    let mut summary = format!(
        "{} issues in {} projects, {} cross-referenced",
        linked.issues.len(),
        linked.projects.len(),
        linked.mentioned_by.len()
    );
    if !linked.history.commits.is_empty() {
        summary.push_str(&format!(
            "; {} commits cite {} issues, {} references ({} keys) not in the archive",
            refs.linked_commits, refs.cited_issues, refs.unresolved, refs.unresolved_keys
        ));
    }
    observer.stage_finished("link", &summary, elapsed);
    stages.push(("link", elapsed));

    observer.stage_started(
        "render",
        Some((linked.issues.len() + linked.history.commits.len()) as u64),
    );
    let renderer = render::Renderer::new(config, &linked)?;
    let staging = Staging::begin(&output)?;
    // Everything that fills the staging folder; on any failure it is removed and the
    // published site was never touched (a failure to clean up must not hide the real error).
    let staged = stage_site(config, &linked, &renderer, &staging, observer, &mut stages);
    let (render_report, search_report) = match staged {
        Ok(reports) => reports,
        Err(e) => {
            let _ = staging.abandon();
            return Err(e);
        }
    };

    let started = Instant::now();
    observer.stage_started("write", None);
    let write_report = staging.commit()?;
    let elapsed = started.elapsed();
    observer.stage_finished(
        "write",
        &format!(
            "{} files changed, {} unchanged, {:.1} MB",
            write_report.written,
            write_report.unchanged,
            write_report.bytes as f64 / 1e6
        ),
        elapsed,
    );
    stages.push(("write", elapsed));

    // The store writes its last state when closed: the cache's fingerprint is taken after.
    drop(renderer);
    drop(linked);
    if let Some(site) = fingerprint::output(&output)? {
        fingerprint::save(
            &config.cache,
            &fingerprint::BuildState {
                inputs,
                cache: fingerprint::cache(config),
                output: site,
                output_path: output.clone(),
            },
        )?;
    }

    Ok(BuildReport {
        output,
        up_to_date: false,
        import: report,
        git: git_report,
        references: refs,
        render: render_report,
        search: search_report,
        write: write_report,
        stages,
    })
}

/// Renders the pages and the search index into the staging folder.
fn stage_site(
    config: &Config,
    linked: &link::Linked,
    renderer: &render::Renderer,
    staging: &Staging,
    observer: &dyn Observer,
    stages: &mut Vec<(&'static str, Duration)>,
) -> Result<(RenderReport, search::SearchReport)> {
    let started = Instant::now();
    let render_report = renderer.render_all(staging, &ObserverProgress(observer))?;
    let elapsed = started.elapsed();
    observer.stage_finished(
        "render",
        &format!(
            "{} issue pages, {} commit pages, {} listing pages, {} other files",
            render_report.issue_pages,
            render_report.commit_pages,
            render_report.listing_pages,
            render_report.other_files
        ),
        elapsed,
    );
    stages.push(("render", elapsed));

    let started = Instant::now();
    observer.stage_started("search", Some(linked.issues.len() as u64));
    // Issues then commits, each as the site publishes it.
    let indexed = search::build_streaming(&config.cache, staging, |emit| {
        linked.store.for_each_issue(|mut issue| {
            linked.prepare(&mut issue);
            let path = format!("{}.html", keys::issue_path(&issue.key));
            if let Some(doc) = search::docs::issue_doc(&issue, &path) {
                emit(doc);
            }
            observer.advance(1);
            Ok(())
        })?;
        linked.store.for_each_commit(|commit| {
            let path = render::commits::commit_path(&commit.id);
            emit(search::docs::commit_doc(&commit, &path));
            Ok(())
        })
    });
    let search_report = indexed?;
    let elapsed = started.elapsed();
    observer.stage_finished(
        "search",
        &format!(
            "{} documents, {} terms, {} files, {:.1} MB (loaded before a query: {} bytes)",
            search_report.docs,
            search_report.terms,
            search_report.files,
            search_report.bytes as f64 / 1e6,
            search_report.root_bytes
        ),
        elapsed,
    );
    stages.push(("search", elapsed));
    Ok((render_report, search_report))
}
