//! The `hindsight` command: a thin layer over the library that parses arguments, draws
//! progress, prints the error chain and maps outcomes to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hindsight::observe::count;
use hindsight::{BuildOptions, Config, Observer};

/// Exit code for a build that failed on bad input or configuration.
const EXIT_INPUT: u8 = 1;
/// Exit code for usage errors (clap uses 2 as well).
const EXIT_USAGE: u8 = 2;

/// mimalloc instead of the system allocator: rendering and indexing allocate and free
/// millions of short strings across threads, where glibc's malloc spent ~15% of a build and
/// kept freed memory in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hindsight",
    version,
    about = "Publish an archived bug tracker and its source history as a static site"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site from the exports and repositories named in the config.
    Build {
        /// The configuration file.
        #[arg(long, short, default_value = "hindsight.toml")]
        config: PathBuf,
        /// Where to write the site (default: the config's `output`, else `public/`).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Fail on the first problem in the input instead of skipping the item with a warning.
        #[arg(long)]
        strict: bool,
        /// Print no progress, only the summary and errors.
        #[arg(long, short)]
        quiet: bool,
        /// After each stage, print its peak memory (resident set), for benchmarks.
        #[arg(long)]
        timings: bool,
        /// Build even when nothing changed since the last build.
        #[arg(long)]
        force: bool,
    },
    /// Write the archive in hindsight's neutral NDJSON format (one issue per line).
    Export {
        /// The configuration file.
        #[arg(long, short, default_value = "hindsight.toml")]
        config: PathBuf,
        /// The NDJSON file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// Fail on the first problem in the input.
        #[arg(long)]
        strict: bool,
    },
    /// Preview a built site over HTTP on the loopback interface.
    Serve {
        /// The built site (default: the output folder of `--config`, else of `hindsight.toml`
        /// when there is one here, else `public`).
        site: Option<PathBuf>,
        /// The configuration file whose output folder is served.
        #[arg(long, short, conflicts_with = "site")]
        config: Option<PathBuf>,
        /// The port (0 picks a free one).
        #[arg(long, short, default_value_t = 8000)]
        port: u16,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Write a starter hindsight.toml and copy the default theme out for editing.
    Init {
        /// The folder to set up.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Search a built site from the terminal: its own index files, read as the site's search
    /// page reads them, so the answers are the page's. Exit 1 when nothing matches.
    Search {
        /// The configuration file of the archive (the site is its output folder).
        #[arg(long, short, default_value = "hindsight.toml")]
        config: PathBuf,
        /// A built site (any copy of one: a mirror, a USB stick); no config is needed.
        #[arg(long)]
        site: Option<PathBuf>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// The query: words, "phrases", prefix*, status:open component:lnet, LU-1234…
        #[arg(required = true)]
        query: Vec<String>,
    },
    /// Copy live trackers (each with a [tracker.fetch] table) into the files the build reads.
    Fetch {
        /// The configuration file.
        #[arg(long, short, default_value = "hindsight.toml")]
        config: PathBuf,
        /// Only the tracker of this name.
        #[arg(long)]
        tracker: Option<String>,
        /// Fetch everything again, not only what changed since the last run.
        #[arg(long)]
        full: bool,
        /// Print no progress, only the summary and errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write the keeper's private backup: every export file as received (restricted items and
    /// addresses included) and the attachment folders, as a BagIt bag. Never publish it.
    Backup {
        /// The configuration file.
        #[arg(long, short, default_value = "hindsight.toml")]
        config: PathBuf,
        /// The folder to write (replaced atomically; outside the published site).
        #[arg(long, required = true)]
        private: PathBuf,
    },
    /// Check that a copy of a built site is whole: every file against the site's SHA256SUMS
    /// and the backup bag's manifests. Exit 1 when anything is missing, changed or extra.
    Verify {
        /// The copy of the site.
        #[arg(default_value = "public")]
        site: PathBuf,
    },
    /// Check that every internal link and anchor of a built site resolves.
    Check {
        /// The built site.
        #[arg(default_value = "public")]
        site: PathBuf,
        /// Also fail on dead links inside archived text (old comments and descriptions), which
        /// are otherwise only reported.
        #[arg(long)]
        strict_content: bool,
    },
}

fn main() -> ExitCode {
    hindsight::no_transparent_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", error_line(&e));
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// An error and each of its causes once, on one line: `error: what: why: underlying error`.
fn error_line(e: &dyn std::error::Error) -> String {
    let mut line = format!("error: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
}

fn run(cli: Cli) -> hindsight::Result<ExitCode> {
    match cli.command {
        Command::Search {
            config,
            site,
            json,
            limit,
            query,
        } => {
            let site = match site {
                Some(site) => site,
                None => Config::load(&config)?.output,
            };
            let answer = hindsight::search::query(&site, &query.join(" "), limit)?;
            for note in &answer.notes {
                eprintln!("note: {note}");
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&answer).unwrap_or_else(|_| "{}".into())
                );
            } else {
                for r in &answer.results {
                    println!(
                        "{}  [{}]  {}",
                        r.key,
                        r.status.as_deref().unwrap_or(r.kind),
                        r.title
                    );
                    println!("    {}", r.path);
                    if !r.snippet.is_empty() {
                        println!("    {}", r.snippet.replace('\n', " "));
                    }
                }
                match answer.total {
                    0 => println!("no matches"),
                    n if n > answer.results.len() => println!(
                        "{}{n} results, showing {}",
                        if answer.exact { "" } else { "about " },
                        answer.results.len()
                    ),
                    _ => {}
                }
            }
            Ok(if answer.results.is_empty() {
                ExitCode::from(EXIT_INPUT)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Serve {
            site,
            config,
            port,
            bind,
        } => {
            let default_config = PathBuf::from("hindsight.toml");
            let site = match (site, config) {
                (Some(site), _) => site,
                (None, Some(config)) => Config::load(&config)?.output,
                (None, None) if default_config.is_file() => Config::load(&default_config)?.output,
                (None, None) => PathBuf::from("public"),
            };
            let preview = hindsight::serve::Preview::bind(&site, (bind, port).into())?;
            if let Some(addr) = preview.addr() {
                println!(
                    "serving {} at http://{addr}/ (Ctrl-C stops)",
                    site.display()
                );
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
            preview.run(None);
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { dir } => {
            for f in hindsight::init::init(&dir)? {
                println!("wrote {}", f.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            config,
            output,
            strict,
        } => {
            let config = Config::load(&config)?;
            let n = hindsight::export(&config, &output, strict)?;
            println!("wrote {} to {}", count(n as u64, "issue"), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch {
            config,
            tracker,
            full,
            quiet,
        } => {
            use hindsight::fetch::{fetch, FetchError, FetchOptions, FetchTarget};
            let config = Config::load(&config)?;
            let chosen =
                |t: &&hindsight::config::TrackerConfig| tracker.is_none() || t.name == tracker;
            let result = config
                .trackers
                .iter()
                .filter(chosen)
                .filter_map(|t| {
                    let name = t.name.as_deref().unwrap_or("jira");
                    let a = t.attachments.as_deref();
                    t.fetch
                        .as_ref()
                        .map(|f| FetchTarget::new(name, &config.root, &t.paths, a, f))
                })
                .collect::<Result<Vec<_>, _>>()
                .and_then(|targets| match (tracker, targets.is_empty()) {
                    (Some(tracker), true) => Err(FetchError::Config {
                        tracker,
                        message: "no tracker of this name has a [tracker.fetch] table".into(),
                    }),
                    _ => fetch(
                        &targets,
                        &FetchOptions { full },
                        &Console::new(quiet, false),
                    ),
                });
            match result {
                Ok(summary) => print!("{summary}"),
                Err(e) => {
                    eprintln!("{}", error_line(&e));
                    return Ok(ExitCode::from(EXIT_INPUT));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { config, private } => {
            let config = Config::load(&config)?;
            let report = hindsight::backup::private::private_backup(&config, &private)?;
            println!(
                "private backup in {}: {}",
                private.display(),
                report.summary()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { site } => {
            let report = hindsight::verify::verify_site(&site)?;
            for f in &report.findings {
                let detail = if f.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.detail)
                };
                println!("{}: {} (by {}){detail}", f.problem.word(), f.path, f.list);
            }
            let bags = match report.bags.len() {
                0 => "no backup bag".to_string(),
                _ => {
                    let roots: Vec<&str> = report
                        .bags
                        .iter()
                        .map(|b| if b.is_empty() { "." } else { b.as_str() })
                        .collect();
                    format!("bag {}", roots.join(", "))
                }
            };
            println!(
                "{} {} ({:.1} MB) read; SHA256SUMS and {bags}: {}",
                report.files,
                if report.files == 1 { "file" } else { "files" },
                report.bytes as f64 / 1e6,
                match report.findings.len() {
                    0 => "every file matches".to_string(),
                    1 => "1 problem".to_string(),
                    n => format!("{n} problems"),
                }
            );
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_INPUT)
            })
        }
        Command::Check {
            site,
            strict_content,
        } => {
            let report = hindsight::check::check_site(&site)?;
            for b in &report.broken {
                println!("{}: {} ({})", b.page, b.target, b.reason);
            }
            for b in &report.content {
                println!("{}: {} ({}, in archived text)", b.page, b.target, b.reason);
            }
            println!(
                "{}, {}, {} broken, {} dead in archived text",
                count(report.pages as u64, "page"),
                count(report.links as u64, "internal link"),
                report.broken.len(),
                report.content.len()
            );
            Ok(
                if report.broken.is_empty() && (!strict_content || report.content.is_empty()) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_INPUT)
                },
            )
        }
        Command::Build {
            config,
            output,
            strict,
            quiet,
            timings,
            force,
        } => {
            let config = Config::load(&config)?;
            let observer = Console::new(quiet, timings);
            let options = BuildOptions {
                output,
                strict,
                force,
            };
            let report = hindsight::build(&config, &options, &observer)?;
            if timings && !report.render.parts.is_empty() {
                let parts: Vec<String> = report
                    .render
                    .parts
                    .iter()
                    .map(|(part, took)| format!("{part} {:.2}s", took.as_secs_f64()))
                    .collect();
                eprintln!("  render parts: {}", parts.join(", "));
            }
            if timings && !report.write.parts.is_empty() {
                let parts: Vec<String> = (report.write.parts.iter())
                    .map(|(part, took)| format!("{part} {:.2}s", took.as_secs_f64()))
                    .collect();
                eprintln!("  write parts: {}", parts.join(", "));
            }
            if report.up_to_date {
                println!(
                    "{} is up to date: nothing changed since the last build (--force rebuilds)",
                    report.output.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let i = &report.import;
            println!(
                "built {} ({}) into {}",
                count(i.issues_kept, "issue"),
                count(i.comments as u64, "comment"),
                report.output.display()
            );
            println!(
                "dropped: {}, {}, {}, {}{}",
                count(i.restricted_issues as u64, "restricted issue"),
                count(i.restricted_comments as u64, "restricted comment"),
                count(i.restricted_attachments as u64, "restricted attachment"),
                count(i.restricted_worklogs as u64, "restricted worklog"),
                i.unpublished
                    .iter()
                    .map(|(p, n)| format!(
                        ", {} of unpublished project {p}",
                        count(*n as u64, "issue")
                    ))
                    .collect::<String>()
            );
            if !i.warnings.is_empty() {
                println!("{}:", count(i.warnings.len() as u64, "warning"));
                for w in i.warnings.iter().take(50) {
                    println!("  warning: {w}");
                }
                if i.warnings.len() > 50 {
                    println!("  … and {} more", i.warnings.len() - 50);
                }
            }
            let notes = report
                .git
                .notes
                .iter()
                .chain(&report.render.notes)
                .chain(&report.backup.notes);
            for (n, note) in notes.enumerate() {
                if n == 50 {
                    println!("note: … and more");
                    break;
                }
                println!("note: {note}");
            }
            println!("open {}", report.output.join("index.html").display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Draws one line per stage and a progress bar while a long stage runs.
struct Console {
    quiet: bool,
    timings: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Console {
    fn new(quiet: bool, timings: bool) -> Self {
        Console {
            quiet,
            timings,
            bar: Mutex::new(None),
        }
    }
}

/// A progress bar on standard error for a stage of `total` items (hidden when standard error
/// is not a terminal).
fn counted_bar(total: u64) -> ProgressBar {
    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()).with_style(
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// The process's peak resident set since the last [`reset_peak_memory`], in bytes (Linux's
/// `VmHWM`); `None` where /proc is not readable.
fn peak_memory() -> Option<u64> {
    status_kb("VmHWM:")
}

/// A size line of `/proc/self/status` (`VmHWM:`, `RssAnon:`), in bytes.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts a new peak-memory measurement (writing 5 to `clear_refs` resets `VmHWM`).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

impl Observer for Console {
    fn stage_started(&self, stage: &str, total: Option<u64>) {
        if self.timings {
            reset_peak_memory();
        }
        if self.quiet {
            return;
        }
        let bar = match total {
            Some(n) => counted_bar(n),
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn set_total(&self, total: u64) {
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match bar.as_ref() {
            Some(b) if b.length().is_some() => b.set_length(total),
            Some(spinner) => {
                // The count became known: the spinner becomes a bar where it had got to.
                let counted = counted_bar(total);
                counted.set_message(spinner.message());
                counted.set_position(spinner.position());
                counted.enable_steady_tick(Duration::from_millis(200));
                spinner.finish_and_clear();
                *bar = Some(counted);
            }
            None => {}
        }
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(n);
        }
    }

    fn note(&self, message: &str) {
        if self.quiet {
            return;
        }
        match self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(b) if !b.is_hidden() => b.println(message),
            _ => eprintln!("{message}"),
        }
    }

    fn stage_finished(&self, stage: &str, summary: &str, elapsed: Duration) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
        if self.timings {
            let mb = |b: Option<u64>| b.map_or("?".to_string(), |b| (b >> 20).to_string());
            eprintln!(
                "{stage:>8}  {:>7.2}s  {:>6} MB peak ({} MB heap, {} MB mapped files at the end)  {summary}",
                elapsed.as_secs_f64(),
                mb(peak_memory()),
                mb(status_kb("RssAnon:")),
                mb(status_kb("RssFile:")),
            );
        } else if !self.quiet {
            eprintln!("{stage:>8}  {:>7.2}s  {summary}", elapsed.as_secs_f64());
        }
    }
}
