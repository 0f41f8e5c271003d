//! The search stage alone, timed: what `hindsight build` spends on the static search index
//! (the documents made from the linked issues and commits, indexed, and exported under
//! `search/`), without the other stages around it. A benchmark for issue #19 (the search stage
//! of a forced Lustre-scale rebuild was 27-29 s of 78 s).
//!
//! ```sh
//! cargo run --release --example search-stage -- --config hindsight.toml [--runs 3] [--staging]
//!     [--terms-mb N] [--records-mb N] [--kept]
//! ```
//!
//! Import, git and link run once (into a scratch store; the git stage uses the config's diff
//! cache), then the search stage runs `--runs` times, exactly as a build calls it
//! (`hindsight::search_stage`). By default its files go to a sink that only hashes them
//! (SHA-256, as the build's writer does) and keeps nothing: each run prints its time and one
//! digest of every path and its bytes, the same for two binaries exactly when their `search/`
//! folders are. With `--staging` the files go through the build's own writer into a staging
//! folder beside the config's output (compared with the published site, as a forced rebuild
//! does), abandoned after each run. `--terms-mb` and `--records-mb` set the stage's memory
//! budgets (the term map's estimated size, the documents' records and texts) in place of a
//! build's defaults; each run prints the process's peak resident memory so far. The analysed
//! index a build keeps in its cache (`hindsight::SEARCH_KEPT`, in a scratch cache here) is
//! removed before each run, so every run analyses every document, unless `--kept`: then runs
//! after the first continue it, with nothing to analyse (what a rebuild with unchanged issues
//! but a changed export costs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hindsight::render::PageSink;
use hindsight::source::references::References;
use hindsight::{Config, Quiet};
use sha2::{Digest, Sha256};

/// The allocator the `hindsight` binary uses (src/main.rs), so the stage allocates as it does
/// in a build.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hashes what it is given and keeps only the hashes.
#[derive(Default)]
struct HashSink(Mutex<BTreeMap<String, [u8; 32]>>);

impl HashSink {
    fn digest(self) -> (usize, String) {
        let files = self.0.into_inner().expect("not poisoned");
        let mut all = Sha256::new();
        for (path, hash) in &files {
            all.update(path.as_bytes());
            all.update([0]);
            all.update(hash);
        }
        let hex: String = all
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        (files.len(), hex)
    }
}

impl PageSink for HashSink {
    fn put(&self, path: &str, bytes: &[u8]) -> hindsight::Result<()> {
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        self.0
            .lock()
            .expect("not poisoned")
            .insert(path.to_string(), hash);
        Ok(())
    }

    fn put_file(&self, path: &str, source: &Path) -> hindsight::Result<()> {
        let bytes = std::fs::read(source).map_err(|e| hindsight::Error::io(source, e))?;
        self.put(path, &bytes)
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The process's peak resident memory (`VmHWM`), as the kernel reports it.
fn peak() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> Result<()> {
    hindsight::no_transparent_huge_pages();
    let mut config = PathBuf::from("hindsight.toml");
    let mut runs = 3usize;
    let mut staging = false;
    let mut kept = false;
    let (mut terms_mb, mut records_mb) = (None::<usize>, None::<usize>);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = args.next().context("--config FILE")?.into(),
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--staging" => staging = true,
            "--kept" => kept = true,
            "--terms-mb" => terms_mb = Some(args.next().context("--terms-mb N")?.parse()?),
            "--records-mb" => records_mb = Some(args.next().context("--records-mb N")?.parse()?),
            _ => bail!("unknown argument {a}"),
        }
    }
    let mut config = Config::load(&config)?;
    let scratch = tempfile::tempdir()?;
    let started = Instant::now();
    let found = hindsight::inputs::discover(&config)?;
    let imported = hindsight::import::import(
        &config,
        &found,
        &scratch.path().join("archive.redb"),
        false,
        0,
    )?;
    let history = if config.repositories.is_empty() {
        Default::default()
    } else {
        let references = References::from_config(&config)?;
        hindsight::source::read(&config, &references, &imported.store, &Quiet)?.0
    };
    let linked = hindsight::link::link(imported, history, &config)?;
    println!(
        "import, git and link: {:.2} s ({} issues, {} commits); peak {} so far",
        started.elapsed().as_secs_f64(),
        linked.issues.len(),
        linked.history.commits.len(),
        peak()
    );
    // The search stage's own cache files go to the scratch folder, not the config's cache.
    let manifest = config.cache.join(hindsight::MANIFEST_FILE);
    config.cache = scratch.path().join("cache");
    std::fs::create_dir_all(&config.cache)?;
    let mut memory = hindsight::search_memory();
    if let Some(mb) = terms_mb {
        memory.terms = mb << 20;
    }
    if let Some(mb) = records_mb {
        memory.records = mb << 20;
    }

    let mut times = Vec::new();
    for run in 1..=runs {
        if !kept {
            let dir = config.cache.join(hindsight::SEARCH_KEPT);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
        let load_before = load();
        let started = Instant::now();
        let (report, files, digest) = if staging {
            let sink = hindsight::write::Staging::begin(&config.output, Some(&manifest))?;
            let report = hindsight::search_stage(&config, &linked, &sink, &Quiet, &memory)?;
            let took = started.elapsed();
            sink.abandon()?;
            times.push(took.as_secs_f64());
            (report, 0, String::from("(staged, not digested)"))
        } else {
            let sink = HashSink::default();
            let report = hindsight::search_stage(&config, &linked, &sink, &Quiet, &memory)?;
            times.push(started.elapsed().as_secs_f64());
            let (files, digest) = sink.digest();
            (report, files, digest)
        };
        println!(
            "run {run}: {:.2} s (load {load_before}): {}; {files} files, digest {digest}; peak {} so far",
            times[times.len() - 1],
            report.summary(),
            peak()
        );
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "median of {runs}: {:.2} s ({} cores, load {})",
        times[times.len() / 2],
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load()
    );
    Ok(())
}
