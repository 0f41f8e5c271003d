//! hindsight: a project's archived bug-tracker history, cross-linked with its source history,
//! published as plain static files.
//!
//! The build is a pipeline of stages, each a function of the previous stage's value:
//! [`import`] (exports → archive store) → [`link`] (in-memory indexes) → [`render`] (pages into
//! a sink) → [`write`] (the staged site swapped in atomically). Only `write` touches the output
//! folder; what outlives a build (the archive store, the search index) lives in the build cache.

pub mod backup;
pub mod check;
pub mod config;
pub mod error;
pub mod fetch;
pub mod fingerprint;
pub mod import;
pub mod init;
pub mod inputs;
pub mod keys;
pub mod link;
pub mod model;
pub mod observe;
pub mod render;
pub mod search;
pub mod serve;
pub mod source;
pub mod store;
pub mod text;
pub mod verify;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use config::Config;
pub use error::{Error, Result};
use import::ImportReport;
pub use observe::{Observer, Quiet};
use render::RenderReport;
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
    pub git: source::GitReport,
    /// Commit ↔ issue references: linked, unresolved.
    pub references: source::history::LinkStats,
    /// What render produced.
    pub render: RenderReport,
    /// What the search index holds.
    pub search: search::SearchReport,
    /// What the site carries as its own backup.
    pub backup: backup::BackupReport,
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
    let found = inputs::discover(config)?;
    let imported = import::import(
        config,
        &found,
        &config.cache.join("archive.redb"),
        strict,
        fingerprint::program(),
    )?;
    let linked = link::link(imported, Default::default(), config)?;
    let mut out = Vec::new();
    let mut count = 0;
    linked.for_each_issue(|mut issue| {
        // Files from a tracker's attachments folder travel inside the export.
        let files = render::attachments::folder_files(config, &found, &issue);
        for (a, file) in issue.attachments.iter_mut().zip(files) {
            if let Some(file) = file {
                a.content = Some(model::AttachmentContent::Base64 {
                    data: render::attachments::encode_base64(&file.read()?),
                });
            }
        }
        serde_json::to_writer(&mut out, &issue).map_err(|e| Error::Json {
            what: format!("issue {}", issue.key),
            source: e,
        })?;
        out.push(b'\n');
        count += 1;
        Ok(())
    })?;
    write::replace_file(file, &out)?;
    Ok(count)
}

/// Builds the site described by `config`: the stages in order, each timed and reported
/// through `observer`.
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
    let mut timer = Timer {
        observer,
        stages: Vec::new(),
    };

    let check = timer.run(
        "check",
        None,
        || check_up_to_date(config, options, &output),
        |c| c.summary().to_string(),
    )?;
    if check.up_to_date {
        return Ok(BuildReport {
            output,
            up_to_date: true,
            import: Default::default(),
            git: Default::default(),
            references: Default::default(),
            render: Default::default(),
            search: Default::default(),
            backup: Default::default(),
            write: Default::default(),
            stages: timer.stages,
        });
    }
    // The cache is about to change: until this build succeeds, there is no last build.
    fingerprint::forget(&config.cache)?;
    let found = check.inputs;

    // The published site's manifest is read (and a killed build's journal completed) on
    // another thread while the archive is imported and linked, which never read the output.
    let manifest_file = config.cache.join(MANIFEST_FILE);
    // The text manifest that programs before the binary one kept: unread now, so gone.
    let _ = std::fs::remove_file(config.cache.join("site-manifest.tsv"));
    let (loaded, begun) = std::thread::scope(|scope| {
        let begun = scope.spawn(|| Staging::begin(&output, Some(&manifest_file)));
        let loaded = load(config, options, &found, &mut timer);
        let begun = begun
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (loaded, begun)
    });
    // The load's error first: it is the build's own (the output's would follow from it).
    let staging = match begun {
        Ok(staging) => staging,
        Err(e) => return Err(loaded.err().unwrap_or(e)),
    };
    // From here on a failure removes the staging folder; the published site is never touched.
    let abandon = |e: Error, staging: Staging| {
        let _ = staging.abandon();
        Err(e)
    };
    let (linked, import_report, git_report) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return abandon(e, staging),
    };
    let staging = staging.reuse_pages(!options.force);
    let references = linked.history.stats;

    let diffs = match linked.history.commits.is_empty() {
        true => None,
        false => match source::DiffCache::open(&config.cache) {
            Ok(diffs) => Some(diffs),
            Err(e) => return abandon(e, staging),
        },
    };
    let renderer = match render::Renderer::new(
        config,
        &linked,
        &found,
        diffs.as_ref(),
        fingerprint::program(),
    ) {
        Ok(renderer) => renderer,
        Err(e) => return abandon(e, staging),
    };
    // Everything that fills the staging folder; on any failure it is removed and the
    // published site was never touched (a failure to clean up must not hide the real error).
    let staged = stage_site(
        config,
        &found,
        &import_report,
        &linked,
        &renderer,
        &staging,
        &mut timer,
    );
    let (render_report, search_report, backup_report) = match staged {
        Ok(reports) => reports,
        Err(e) => {
            let _ = staging.abandon();
            return Err(e);
        }
    };
    let bags: Vec<_> = backup_report.bag.iter().cloned().collect();
    drop(renderer);
    // The linked archive is let go on another thread while the writer, which mostly waits on
    // the disk, publishes the site: freeing a hundred thousand issues' structures took a
    // tenth of a second at the end of every build. The store writes its last state when
    // closed, so the cache's fingerprint is taken once both are done.
    let write_report = std::thread::scope(|scope| {
        scope.spawn(move || {
            drop(diffs);
            drop(linked);
        });
        timer.run(
            "write",
            None,
            || staging.commit(&bags),
            WriteReport::summary,
        )
    })?;
    // What the writer published, as a walk of the site would find it.
    let site = match write_report.fingerprint.clone() {
        Some(site) => Some(site),
        None => fingerprint::output(&output)?,
    };
    if let Some(site) = site {
        fingerprint::save(
            &config.cache,
            &fingerprint::BuildState {
                inputs: check.fingerprint,
                cache: fingerprint::cache(config),
                output: site,
                output_path: output.clone(),
            },
        )?;
    }

    Ok(BuildReport {
        output,
        up_to_date: false,
        import: import_report,
        git: git_report,
        references,
        render: render_report,
        search: search_report,
        backup: backup_report,
        write: write_report,
        stages: timer.stages,
    })
}

/// The archive loaded: the exports imported into the store, the repositories read, and both
/// linked; with the import's and the git stage's reports.
fn load(
    config: &Config,
    options: &BuildOptions,
    found: &inputs::Inputs,
    timer: &mut Timer,
) -> Result<(link::Linked, ImportReport, source::GitReport)> {
    let observer = timer.observer;
    let store = config.cache.join("archive.redb");
    let imported = timer.run(
        "import",
        None,
        || {
            import::import(
                config,
                found,
                &store,
                options.strict,
                fingerprint::program(),
            )
        },
        |i| i.report.summary(),
    )?;
    let import_report = imported.report.clone();

    let (history, git_report) = if config.repositories.is_empty() {
        Default::default()
    } else {
        timer.run(
            "git",
            None,
            || {
                let references = source::references::References::from_config(config)?;
                source::kept::read_or_keep(
                    config,
                    &references,
                    &imported.store,
                    observer,
                    fingerprint::program(),
                )
            },
            |(_, report)| report.summary(),
        )?
    };

    let linked = timer.run(
        "link",
        None,
        || link::link(imported, history, config),
        link::Linked::summary,
    )?;
    Ok((linked, import_report, git_report))
}

/// Runs the build's stages one after another, timing each and telling the observer when it
/// starts and how it ended.
struct Timer<'o> {
    observer: &'o dyn Observer,
    stages: Vec<(&'static str, Duration)>,
}

impl Timer<'_> {
    /// Runs stage `name` (`total` items when known) and reports its one-line `summary`.
    fn run<T>(
        &mut self,
        name: &'static str,
        total: Option<u64>,
        stage: impl FnOnce() -> Result<T>,
        summary: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        let started = Instant::now();
        self.observer.stage_started(name, total);
        let value = stage()?;
        let elapsed = started.elapsed();
        self.observer
            .stage_finished(name, &summary(&value), elapsed);
        self.stages.push((name, elapsed));
        Ok(value)
    }

    /// Runs stage `a`, then stage `c`, on this thread, and stage `b` on another at the same
    /// time: stages that write many files wait on the disk, and another stage's computing
    /// fills that time. They are shown as one stage while they run (`total` items for all)
    /// and reported one after the other (`a`, `b`, `c`), each with its own time. `c` runs only
    /// when `a` succeeded; the first error (`a`'s, then `b`'s, then `c`'s) is the one
    /// returned, once the other thread has ended too.
    fn run_together<A: Send, B: Send, C: Send>(
        &mut self,
        total: Option<u64>,
        a: Stage<'_, A>,
        b: Stage<'_, B>,
        c: Stage<'_, C>,
    ) -> Result<(A, B, C)> {
        fn timed<T>(run: impl FnOnce() -> Result<T>) -> (Result<T>, Duration) {
            let started = Instant::now();
            let value = run();
            (value, started.elapsed())
        }
        self.observer
            .stage_started(&format!("{}, {} and {}", a.name, b.name, c.name), total);
        let ((value_a, elapsed_a), (value_b, elapsed_b), then) = std::thread::scope(|scope| {
            let other = scope.spawn(|| timed(b.run));
            let first = timed(a.run);
            let then = first.0.is_ok().then(|| timed(c.run));
            match other.join() {
                Ok(second) => (first, second, then),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        let (value_a, value_b) = (value_a?, value_b?);
        // `a` succeeded, so `c` ran.
        let (value_c, elapsed_c) = then.ok_or(Error::Panicked { stage: c.name })?;
        let value_c = value_c?;
        for (name, summary, elapsed) in [
            (a.name, (a.summary)(&value_a), elapsed_a),
            (b.name, (b.summary)(&value_b), elapsed_b),
            (c.name, (c.summary)(&value_c), elapsed_c),
        ] {
            self.observer.stage_finished(name, &summary, elapsed);
            self.stages.push((name, elapsed));
        }
        Ok((value_a, value_b, value_c))
    }
}

/// A stage for [`Timer::run_together`]: its name, what it does, and its one-line summary.
struct Stage<'a, T> {
    name: &'static str,
    run: Box<dyn FnOnce() -> Result<T> + Send + 'a>,
    summary: fn(&T) -> String,
}

/// What the up-to-date check found.
struct Check {
    /// Everything the build reads.
    inputs: inputs::Inputs,
    /// Its fingerprint, recorded when the build succeeds.
    fingerprint: String,
    /// Nothing changed since the last build: the site is what this build would write.
    up_to_date: bool,
}

impl Check {
    fn summary(&self) -> &'static str {
        if self.up_to_date {
            "nothing changed since the last build: inputs, cache and site are as it left them"
        } else {
            "inputs changed since the last build"
        }
    }
}

/// Finds the inputs and compares them, the cache and the published site with what the last
/// successful build recorded.
fn check_up_to_date(config: &Config, options: &BuildOptions, output: &Path) -> Result<Check> {
    let found = inputs::discover(config)?;
    let fingerprint = fingerprint::inputs(config, &found, output, options.strict)?;
    let last = fingerprint::load(&config.cache);
    let up_to_date = !options.force
        && last.as_ref().is_some_and(|last| {
            last.inputs == fingerprint
                && last.output_path == output
                && last.cache == fingerprint::cache(config)
        })
        && fingerprint::output(output)?.as_ref() == last.as_ref().map(|l| &l.output);
    Ok(Check {
        inputs: found,
        fingerprint,
        up_to_date,
    })
}

/// The published site's manifest (each file's hash and stat) in the build cache.
pub const MANIFEST_FILE: &str = "site-manifest.bin";

/// The build-cache folder where the analysed search index is kept between builds, so that a
/// rebuild analyses only the documents that changed.
pub const SEARCH_KEPT: &str = "search-index";

/// Turns transparent huge pages off for this process (Linux; elsewhere it does nothing).
///
/// mimalloc asks for huge pages on its arenas, and it gives memory a build freed back to the
/// system: each later touch of it then makes the kernel zero a whole 2 MB page. That zeroing
/// was 44% of the search stage's samples in a profile of a cold 15,000-issue build, whose
/// system time fell from 3.3–5.5 s to 1.3–1.6 s and whose peak from 540 to 500 MB without huge
/// pages. The binary calls this first thing, as do the examples that time its stages.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches only this process's flags.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The memory a build's search stage may use: the default budgets. What does not fit them
/// goes to the folder where the analysed index is kept ([`SEARCH_KEPT`]).
pub fn search_memory() -> search::index::Memory {
    search::index::Memory::default()
}

/// The search stage of a build: the linked issues, then the commits, each as the site
/// publishes it, indexed into the static search index under `search/` through `sink`, within
/// `memory`, continuing the analysed index kept in the build cache ([`SEARCH_KEPT`]): only
/// documents that changed since it was kept are analysed. Public so that
/// `examples/search-stage.rs` times exactly what a build runs.
pub fn search_stage(
    config: &Config,
    linked: &link::Linked,
    sink: &dyn render::PageSink,
    observer: &dyn Observer,
    memory: &search::index::Memory,
) -> Result<search::SearchReport> {
    let options = search::Options {
        bug_prefix: config.bug_prefix().map(str::to_string),
        memory: memory.clone(),
        kept: Some(search::KeptAt {
            dir: config.cache.join(SEARCH_KEPT),
            program: fingerprint::program(),
        }),
    };
    search::remove_old_index(&config.cache)?;
    // An issue whose document the kept index holds is known by the digest link took of it as
    // published, and not read again; the others are read, decoded and made documents on
    // every core. The producer reads the commits' records (one thread), known by their bytes.
    enum Item {
        Issue(usize),
        Commit(Vec<u8>),
    }
    let identify = |item: &Item| match item {
        Item::Issue(i) => Some(search::docs::issue_identity(linked.published[*i])),
        Item::Commit(record) => Some(search::docs::commit_identity(record)),
    };
    let convert = |item: Item| -> Result<Option<search::SearchDoc>> {
        Ok(match item {
            Item::Issue(i) => {
                let key = std::slice::from_ref(&linked.issues[i].key);
                let Some(issue) = linked.issues(key)?.pop() else {
                    return Ok(None);
                };
                let path = format!("{}.html", keys::issue_path(&issue.key));
                search::docs::issue_doc(&issue, &path)
            }
            Item::Commit(record) => {
                let commit = linked.store.decode_commit(&record)?;
                let path = keys::commit_path(&commit.id);
                Some(search::docs::commit_doc(&commit, &path))
            }
        })
    };
    search::build_streaming(sink, &options, identify, convert, |emit| {
        for i in 0..linked.issues.len() {
            emit(Item::Issue(i));
            observer.advance(1);
        }
        linked.store.for_each_commit_record(|record| {
            emit(Item::Commit(record.to_vec()));
            Ok(())
        })
    })
}

/// The build cache's record of the search index the last build made: the fingerprint of its
/// inputs ([`fingerprint::search`]) and its report.
pub const SEARCH_RECORD: &str = "search-index.json";

/// What [`SEARCH_RECORD`] holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct SearchRecord {
    made_from: String,
    report: search::SearchReport,
}

/// The search stage, or the published index kept whole: when the documents' inputs are those
/// the published index was made from ([`fingerprint::search`]), every file of it is still as
/// published, and the cache recorded its report, it is what the stage would write again.
/// `--force` makes it anew.
fn search_or_keep(
    config: &Config,
    import: &ImportReport,
    linked: &link::Linked,
    staging: &Staging,
    observer: &dyn Observer,
) -> Result<search::SearchReport> {
    let made_from = fingerprint::search(config, &import.inputs)?;
    let record_file = config.cache.join(SEARCH_RECORD);
    let record: Option<SearchRecord> = std::fs::read(&record_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(record) = record.filter(|r| r.made_from == format!("{made_from:032x}")) {
        if render::PageSink::keep_all(staging, "search/", "search/root.js", made_from)?.is_some() {
            return Ok(search::SearchReport {
                kept: true,
                ..record.report
            });
        }
    }
    let sink = MadeFrom {
        sink: staging,
        made_from,
    };
    let report = search_stage(config, linked, &sink, observer, &search_memory())?;
    let record = SearchRecord {
        made_from: format!("{made_from:032x}"),
        report: report.clone(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| Error::Json {
        what: record_file.display().to_string(),
        source: e,
    })?;
    write::replace_file(&record_file, &bytes)?;
    Ok(report)
}

/// A sink that records every file put through it as made from the digest `made_from`, unless
/// it is put with its own (a leaf of the search index, which a later build keeps by it).
struct MadeFrom<'a> {
    sink: &'a dyn render::PageSink,
    made_from: u128,
}

impl render::PageSink for MadeFrom<'_> {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.sink.put_made_from(path, self.made_from, bytes)
    }

    fn put_made_from(&self, path: &str, made_from: u128, bytes: &[u8]) -> Result<()> {
        self.sink.put_made_from(path, made_from, bytes)
    }

    fn keep(&self, path: &str, made_from: u128) -> Result<bool> {
        self.sink.keep(path, made_from)
    }

    fn keep_sized(&self, path: &str, made_from: u128) -> Result<Option<u64>> {
        self.sink.keep_sized(path, made_from)
    }

    fn keep_together(&self, files: &[(&str, u128)]) -> Result<bool> {
        self.sink.keep_together(files)
    }

    fn put_file(&self, path: &str, source: &std::path::Path) -> Result<()> {
        self.sink.put_file(path, source)
    }
}

/// Renders the pages, the search index and the backup into the staging folder.
fn stage_site(
    config: &Config,
    found: &inputs::Inputs,
    import: &ImportReport,
    linked: &link::Linked,
    renderer: &render::Renderer,
    staging: &Staging,
    timer: &mut Timer,
) -> Result<(RenderReport, search::SearchReport, backup::BackupReport)> {
    let observer = timer.observer;
    let pages = (linked.issues.len() + linked.history.commits.len()) as u64;
    // A first build creates every file of the site, and a disk that takes a tenth of a
    // millisecond to create one leaves a core idle for much of rendering: the search index is
    // made meanwhile, and the backup once rendering is done (a cold Lustre-scale build: 7 s
    // less than one after the other with render and search). A rebuild creates few files,
    // and the stages only contend for the cores (a 100,000-issue nightly: 0.6 s more), so
    // they run one after the other.
    // Render hands the backup its digests of the published issues (see
    // `RenderReport::published`), which need not outlive the stage.
    let published = std::sync::OnceLock::<Vec<Option<u128>>>::new();
    let render = || {
        let mut report = renderer.render_all(staging, observer)?;
        let _ = published.set(std::mem::take(&mut report.published));
        Ok(report)
    };
    let backup = || {
        let published = published.get().map_or(&[][..], Vec::as_slice);
        backup::stage(config, found, linked, published, import, staging)
    };
    if staging.is_fresh() {
        return timer.run_together(
            Some(pages + linked.issues.len() as u64),
            Stage {
                name: "render",
                run: Box::new(render),
                summary: RenderReport::summary,
            },
            Stage {
                name: "search",
                run: Box::new(|| search_or_keep(config, import, linked, staging, observer)),
                summary: search::SearchReport::summary,
            },
            Stage {
                name: "backup",
                run: Box::new(backup),
                summary: backup::BackupReport::summary,
            },
        );
    }
    let render_report = timer.run("render", Some(pages), render, RenderReport::summary)?;
    let search_report = timer.run(
        "search",
        Some(linked.issues.len() as u64),
        || search_or_keep(config, import, linked, staging, observer),
        search::SearchReport::summary,
    )?;
    let backup_report = timer.run("backup", None, backup, backup::BackupReport::summary)?;
    Ok((render_report, search_report, backup_report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Records what the observer is told.
    #[derive(Default)]
    struct Told(std::sync::Mutex<Vec<String>>);

    impl Observer for Told {
        fn stage_started(&self, stage: &str, total: Option<u64>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("start {stage} {total:?}"));
        }
        fn stage_finished(&self, stage: &str, summary: &str, _elapsed: Duration) {
            self.0
                .lock()
                .unwrap()
                .push(format!("end {stage}: {summary}"));
        }
    }

    #[test]
    fn stages_run_together_are_reported_in_order_and_the_first_error_wins() {
        let told = Told::default();
        let mut timer = Timer {
            observer: &told,
            stages: Vec::new(),
        };
        let all = timer
            .run_together(
                Some(3),
                Stage {
                    name: "a",
                    run: Box::new(|| Ok(1u32)),
                    summary: |n| format!("{n} thing"),
                },
                Stage {
                    name: "b",
                    run: Box::new(|| Ok("two".to_string())),
                    summary: |s| s.clone(),
                },
                Stage {
                    name: "c",
                    run: Box::new(|| Ok(3u8)),
                    summary: |n| format!("{n}"),
                },
            )
            .unwrap();
        assert_eq!(all, (1, "two".to_string(), 3));
        assert_eq!(
            *told.0.lock().unwrap(),
            [
                "start a, b and c Some(3)",
                "end a: 1 thing",
                "end b: two",
                "end c: 3"
            ]
        );
        let names: Vec<&str> = timer.stages.iter().map(|s| s.0).collect();
        assert_eq!(names, ["a", "b", "c"]);

        // A failing stage does not stop the other thread's; its error is the one returned,
        // and the stage after it on its thread does not run.
        let (other_ran, after_ran) = (AtomicBool::new(false), AtomicBool::new(false));
        let failed = timer.run_together(
            None,
            Stage {
                name: "a",
                run: Box::new(|| -> Result<()> { Err(Error::Panicked { stage: "a" }) }),
                summary: |_| String::new(),
            },
            Stage {
                name: "b",
                run: Box::new(|| {
                    other_ran.store(true, Ordering::Relaxed);
                    Err(Error::Panicked { stage: "b" })
                }),
                summary: |_: &()| String::new(),
            },
            Stage {
                name: "c",
                run: Box::new(|| {
                    after_ran.store(true, Ordering::Relaxed);
                    Ok(())
                }),
                summary: |_: &()| String::new(),
            },
        );
        assert!(matches!(failed, Err(Error::Panicked { stage: "a" })));
        assert!(other_ran.load(Ordering::Relaxed));
        assert!(!after_ran.load(Ordering::Relaxed));
        assert_eq!(timer.stages.len(), 3, "failed stages are not recorded");
    }
}
