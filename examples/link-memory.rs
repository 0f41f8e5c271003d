//! What the linked archive holds in memory, part by part: the heap each field of
//! `hindsight::link::Linked` keeps for the whole build, in MB and in bytes per issue. A
//! benchmark for issue #19 (peak memory must stay flat past 100,000 issues, and a million
//! issues fit in 1 GB): what link keeps grows with the archive, everything after it is
//! bounded by budgets.
//!
//! ```sh
//! cargo run --release --example link-memory -- --config hindsight.toml
//! ```
//!
//! Import (into a scratch store) and link run once, without repositories; the heap is counted
//! by a global allocator that adds up the bytes asked for (the allocator's own rounding is
//! not in it), and each part's share is what dropping it gives back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use anyhow::{bail, Context, Result};
use hindsight::link::{people::Activity, IssueSummary, Linked, Name};
use hindsight::Config;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Relaxed);
        System.realloc(ptr, layout, new)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Relaxed) as f64 / 1e6
}

fn main() -> Result<()> {
    let mut config = PathBuf::from("hindsight.toml");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = args.next().context("--config FILE")?.into(),
            _ => bail!("unknown argument {a}"),
        }
    }
    let mut config = Config::load(&config)?;
    config.repositories.clear();
    let scratch = tempfile::tempdir()?;
    let found = hindsight::inputs::discover(&config)?;
    let store = scratch.path().join("archive.redb");
    let imported = hindsight::import::import(&config, &found, &store, false, 0)?;
    println!("after import: {:.1} MB live", live_mb());
    let linked = hindsight::link::link(imported, Default::default(), &config)?;
    let issues = linked.issues.len() as f64;
    println!(
        "after link: {:.1} MB live, {} issues; sizes: IssueSummary {} B, Name {} B, Activity {} B",
        live_mb(),
        issues,
        std::mem::size_of::<IssueSummary>(),
        std::mem::size_of::<Name>(),
        std::mem::size_of::<Activity>(),
    );
    let Linked {
        store,
        people,
        persons,
        issues: summaries,
        published,
        projects,
        dropped,
        history,
        file_histories,
        ..
    } = linked;
    let mut last = live_mb();
    let mut freed = |part: &str| {
        let now = live_mb();
        let mb = last - now;
        println!("{part:>16}: {mb:8.1} MB {:7.0} B/issue", mb * 1e6 / issues);
        last = now;
    };
    drop(summaries);
    freed("issues");
    drop(persons);
    freed("persons");
    drop(people);
    freed("people");
    drop(published);
    freed("published");
    drop((dropped, projects, history, file_histories));
    freed("other indexes");
    drop(store);
    freed("store (cache)");
    println!(
        "{:>16}: {:8.1} MB (the key index, mentions and what import left)",
        "the rest",
        live_mb()
    );
    Ok(())
}
