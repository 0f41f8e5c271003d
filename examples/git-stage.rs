//! The git stage alone, timed: what `hindsight build` spends reading a site's repositories
//! (the walk, then the diff pass against the diff cache), without the other stages around it.
//! A benchmark for the warm git stage (issue #19: at most 2 s on the Lustre history once the
//! diff cache is warm).
//!
//! ```sh
//! cargo run --release --example git-stage -- --config hindsight.toml [--runs 3]
//! ```
//!
//! Each run opens a fresh, empty archive store in a scratch folder (as a build does: the store
//! is rebuilt every build) and uses the config's own build cache for the diffs, so the first
//! run may compute diffs and the next ones read them. Prints one line per run and the median,
//! and the digest of every commit's cached diff (stat and text, in id order), which a change
//! to the diff pass that is meant to keep the output must keep.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hindsight::source::references::References;
use hindsight::source::DiffCache;
use hindsight::store::Store;
use hindsight::{Config, Quiet};

/// The allocator the `hindsight` binary uses (src/main.rs), so the stage allocates as it does
/// in a build.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    hindsight::no_transparent_huge_pages();
    let mut config = PathBuf::from("hindsight.toml");
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = args.next().context("--config FILE")?.into(),
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            _ => bail!("unknown argument {a}"),
        }
    }
    let config = Config::load(&config)?;
    let scratch = tempfile::tempdir()?;
    let mut totals = Vec::new();
    for run in 1..=runs {
        let store = Store::create(&scratch.path().join(format!("store-{run}.redb")))?;
        let started = Instant::now();
        let references = References::from_config(&config)?;
        let (history, report) = hindsight::source::read(&config, &references, &store, &Quiet)?;
        let total = started.elapsed();
        let digest = diffs_digest(&config, &history)?;
        println!(
            "run {run}: {:.2} s (walk {:.2} s, diffs {:.2} s): {}; diffs digest {digest:016x}",
            total.as_secs_f64(),
            report.walk_time.as_secs_f64(),
            report.diff_time.as_secs_f64(),
            report.summary()
        );
        totals.push(total.as_secs_f64());
    }
    totals.sort_by(|a, b| a.total_cmp(b));
    println!(
        "median of {runs}: {:.2} s ({} cores, load {})",
        totals[totals.len() / 2],
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

/// The XXH3 digest of every commit's cached diff record (stat and text), in id order.
fn diffs_digest(config: &Config, history: &hindsight::source::history::History) -> Result<u64> {
    let cache = DiffCache::open(&config.cache)?;
    let mut ids: Vec<&str> = history.commits.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for block in ids.chunks(512) {
        for (id, record) in block.iter().zip(cache.get_many(block)?) {
            hasher.update(id.as_bytes());
            if let Some(r) = record {
                hasher.update(&serde_json::to_vec(&r.stat)?);
                hasher.update(r.text.as_bytes());
                hasher.update(&[u8::from(r.truncated), u8::from(r.unavailable)]);
            }
        }
    }
    Ok(hasher.digest())
}
