//! Each commit's diff against its first parent: computed in parallel by workers with their
//! own repository handles, cached in the build cache (`git-diffs.redb`; commits never change),
//! and printed as a unified diff up to the configured cap.

use super::*;

/// The diff cache's one table: commit id → encoded [`DiffRecord`].
pub(super) const DIFFS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("diffs");
/// Bumped whenever the record layout or the diff rendering changes, so old records are redone.
pub(super) const RECORD_FORMAT: u8 = 1;
/// `cap` value of a record computed without diff text.
pub(super) const NO_TEXT: u64 = u64::MAX;
pub(super) const FLAG_TRUNCATED: u8 = 1;
pub(super) const FLAG_UNAVAILABLE: u8 = 2;

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
    pub(super) fn encode(&self) -> Vec<u8> {
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
    pub(super) fn decode(bytes: &[u8], with_text: bool) -> Option<DiffRecord> {
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

    /// How many commits the cache holds a record of.
    pub fn records(&self) -> Result<u64> {
        let table = self.table()?;
        redb::ReadableTableMetadata::len(&table).map_err(|e| cache_error(&self.path, e))
    }

    /// The table of records, in a read transaction of its own.
    fn table(&self) -> Result<redb::ReadOnlyTable<&'static [u8], &'static [u8]>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| cache_error(&self.path, e))?;
        txn.open_table(DIFFS)
            .map_err(|e| cache_error(&self.path, e))
    }

    /// The cached diff of a commit, with its text.
    pub fn get(&self, id: &str) -> Result<Option<DiffRecord>> {
        Ok(self.lookup(&[id], true)?.pop().flatten())
    }

    /// Several diffs in one read transaction, in the order asked.
    pub fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<DiffRecord>>> {
        self.lookup(ids, true)
    }

    /// Several records in one read transaction, in the order asked; `with_text: false` reads
    /// the diffstat only (what the walk needs to know a commit is done). An id that is not
    /// hex has no record.
    pub(super) fn lookup(&self, ids: &[&str], with_text: bool) -> Result<Vec<Option<DiffRecord>>> {
        let table = self.table()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Ok(oid) = ObjectId::from_hex(id.as_bytes()) else {
                out.push(None);
                continue;
            };
            let v = table
                .get(oid.as_bytes())
                .map_err(|e| cache_error(&self.path, e))?;
            out.push(v.and_then(|v| DiffRecord::decode(v.value(), with_text)));
        }
        Ok(out)
    }
}

pub(super) fn cache_error(path: &Path, e: impl Into<crate::error::Cause>) -> Error {
    Error::Store {
        path: path.to_path_buf(),
        what: String::new(),
        source: e.into(),
    }
}

/// What one worker hands back for one commit.
pub(super) struct Done {
    /// The commit's id.
    id: String,
    /// The commit with its diffstat as the store keeps it, encoded by the worker (so the
    /// thread that owns the store's transaction only inserts).
    encoded: Vec<u8>,
    /// A newly computed record to store in the cache.
    record: Option<Vec<u8>>,
}

/// A commit for the diff pass: its id, and its diffstat when the cache has it.
type Job<'a> = (&'a str, Option<Vec<FileStat>>);

pub(super) fn diff_all(
    config: &Config,
    store: &Store,
    history: &History,
    graph: &HashMap<String, GraphEntry>,
    repos: &[(gix::ThreadSafeRepository, gix::mailmap::Snapshot)],
    progress: &dyn Observer,
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
    // The cache is asked in id order (it is keyed by id, so its tree is read from one end to
    // the other). Commits it has go first, in id order too, which is the store's; those to
    // diff follow in the history's order, where each commit's trees are mostly its
    // neighbour's, still in the object cache.
    let mut ids: Vec<&str> = history.commits.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let found: Vec<Option<DiffRecord>> = ids
        .par_chunks(256)
        .map(|block| cache.lookup(block, false))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut jobs: Vec<Job> = Vec::with_capacity(ids.len());
    let mut to_diff: HashSet<&str> = HashSet::new();
    for (id, cached) in ids.into_iter().zip(found) {
        let (cap, text) = wanted[graph[id].repo];
        match cached.filter(|r| r.cap == cap || (!text && r.cap != NO_TEXT)) {
            Some(r) => jobs.push((id, Some(r.stat))),
            None => {
                to_diff.insert(id);
            }
        }
    }
    jobs.extend(
        history
            .commits
            .iter()
            .filter(|c| to_diff.contains(c.id.as_str()))
            .map(|c| (c.id.as_str(), None)),
    );
    let total = jobs.len();
    // Workers take the jobs in order, a few at a time.
    const BLOCK: usize = 8;
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let computed = AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let threads = rayon::current_num_threads().max(1);
    let pack_caches: Vec<SharedPackCache> = repos
        .iter()
        .map(|_| SharedPackCache::new(PACK_CACHE_BYTES))
        .collect();
    let (tx, rx) = mpsc::sync_channel::<Result<Done>>(512);
    let mut first_error: Option<Error> = None;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (queue, stop, computed, wanted, pack_caches) =
                (&queue, &stop, &computed, &wanted, &pack_caches);
            scope.spawn(move || {
                let mut workers: Vec<Option<Worker>> = (0..repos.len()).map(|_| None).collect();
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let block: Vec<Job> = match queue.lock() {
                        Ok(mut q) => q.by_ref().take(BLOCK).collect(),
                        Err(_) => break,
                    };
                    if block.is_empty() {
                        break;
                    }
                    for (id, usable) in block {
                        let entry = &graph[id];
                        let (cap, _) = wanted[entry.repo];
                        let result = (|| -> Result<Done> {
                            let mut commit = entry.commit.clone();
                            let record = match usable {
                                Some(stat) => {
                                    commit.diffstat = stat;
                                    None
                                }
                                None => {
                                    // A repository handle only for the threads that diff.
                                    let worker = match &mut workers[entry.repo] {
                                        Some(w) => w,
                                        slot => slot.insert(Worker::new(
                                            &repos[entry.repo].0,
                                            pack_caches[entry.repo].clone(),
                                        )?),
                                    };
                                    computed.fetch_add(1, Ordering::Relaxed);
                                    let r = worker.diff(graph, entry, cap)?;
                                    let bytes = r.encode();
                                    commit.diffstat = r.stat;
                                    Some(bytes)
                                }
                            };
                            let encoded = Store::encode_commit(&commit);
                            Ok(Done {
                                id: commit.id,
                                encoded,
                                record,
                            })
                        })();
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
                    stop.store(true, Ordering::Relaxed);
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
                store_w
                    .as_mut()
                    .unwrap()
                    .put_commit_record(&done.id, &done.encoded)?;
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
                    let oid = ObjectId::from_hex(done.id.as_bytes())
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
                stop.store(true, Ordering::Relaxed);
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
    report.diffs_cached = total - report.diffs_computed;
    Ok(())
}

/// Bytes of decoded delta bases the diff threads of one repository keep, together.
const PACK_CACHE_BYTES: usize = 128 << 20;

/// The decoded delta bases of one repository's packs, shared by its diff threads: the threads
/// take neighbouring commits, which touch the same files and so need the same bases, and one
/// cache holds each base once where a cache per thread held it once per thread (cold Lustre
/// diff pass on 2 cores: 22.7 s and 785 MB peak with a cache of 64 MB per thread, 20.0 s and
/// 752 MB with this one of 128 MB; 256 MB shared gave 18.9 s for 924 MB).
#[derive(Clone)]
pub(super) struct SharedPackCache(
    std::sync::Arc<std::sync::Mutex<gix::odb::pack::cache::lru::MemoryCappedHashmap>>,
);

impl SharedPackCache {
    pub(super) fn new(bytes: usize) -> SharedPackCache {
        SharedPackCache(std::sync::Arc::new(std::sync::Mutex::new(
            gix::odb::pack::cache::lru::MemoryCappedHashmap::new(bytes),
        )))
    }
}

impl gix::odb::pack::cache::DecodeEntry for SharedPackCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::objs::Kind,
        compressed_size: usize,
    ) {
        // A poisoned lock only means another thread panicked while holding it: no caching.
        if let Ok(mut c) = self.0.lock() {
            c.put(pack_id, offset, data, kind, compressed_size);
        }
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::objs::Kind, usize)> {
        self.0.lock().ok()?.get(pack_id, offset, out)
    }
}

/// One diff thread's repository handle, caches and buffers.
pub(super) struct Worker {
    repo: gix::Repository,
    platform: gix::diff::blob::Platform,
    state: gix::diff::tree::State,
    old_tree: Vec<u8>,
    new_tree: Vec<u8>,
    old_blob: Vec<u8>,
    new_blob: Vec<u8>,
}

impl Worker {
    pub(super) fn new(
        repo: &gix::ThreadSafeRepository,
        pack_cache: SharedPackCache,
    ) -> Result<Worker> {
        let mut repo = repo.to_thread_local();
        // Rename detection compares candidate blobs; histogram is faster than git's myers.
        {
            let mut cfg = repo.config_snapshot_mut();
            let _ = cfg.set_value(&gix::config::tree::Diff::ALGORITHM, "histogram");
            let _ = cfg.commit();
        }
        // Delta bases, in an LRU capped by bytes only (shared by the repository's threads): the
        // Lustre history's blobs sit at the end of delta chains dozens deep, and a cache of 64
        // entries (gix's static list) missed so often that the diff pass spent a third of its
        // time inflating the same bases again (cold Lustre diff pass: 61 s with it, 42 s with
        // an LRU). No cache of whole objects: with the bases cached it saved nothing (34.0 s
        // without one, 34.4 s with 24 MB, 33.5 s with 96 MB) and cost its size and a copy of
        // every object read.
        repo.object_cache_size(None);
        repo.objects
            .set_pack_cache(move || Box::new(pack_cache.clone()));
        let platform = repo
            .diff_resource_cache_for_tree_diff()
            .map_err(|e| git_error(repo.git_dir(), "cannot prepare diffs", e))?;
        Ok(Worker {
            repo,
            platform,
            state: Default::default(),
            old_tree: Vec::new(),
            new_tree: Vec::new(),
            old_blob: Vec::new(),
            new_blob: Vec::new(),
        })
    }

    /// Diffs a commit against its first parent.
    pub(super) fn diff(
        &mut self,
        graph: &HashMap<String, GraphEntry>,
        entry: &GraphEntry,
        cap: u64,
    ) -> Result<DiffRecord> {
        let git_dir = self.repo.git_dir().to_path_buf();
        let err = |what: &str, e: crate::error::Cause| git_error(&git_dir, what, e);
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
                Ok(_) => Err(err("tree missing", id.to_string().into())),
                Err(e) => Err(err("cannot read tree", e.into())),
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
            return Err(err("cannot diff trees", e.into()));
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
    pub(super) fn blob(&mut self, id: Option<ObjectId>, old: bool) -> Result<bool> {
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
pub(super) struct FileChange {
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
    pub(super) fn of(c: gix::diff::tree_with_rewrites::Change) -> Option<FileChange> {
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
pub(super) struct DiffText {
    text: String,
    cap: u64,
    truncated: bool,
}

impl DiffText {
    pub(super) fn new(cap: u64) -> Self {
        DiffText {
            text: String::new(),
            cap,
            truncated: false,
        }
    }

    /// Whether more text is wanted.
    pub(super) fn open(&self) -> bool {
        self.cap != NO_TEXT && !self.truncated
    }

    /// Appends a line (without its newline) unless the cap is reached.
    pub(super) fn line(&mut self, parts: &[&str]) {
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

pub(super) fn mode_octal(m: gix::objs::tree::EntryMode) -> String {
    format!("{:06o}", m.value())
}

pub(super) fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8000)].contains(&0)
}

pub(super) fn count_lines(data: &[u8]) -> u32 {
    if data.is_empty() {
        return 0;
    }
    let n = bytecount::count(data, b'\n');
    (n + usize::from(*data.last().unwrap() != b'\n')) as u32
}

pub(super) fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    gix::diff::blob::sources::byte_lines(data).collect()
}

/// Diffs one file: its stat, and its text appended to `out` while the cap allows.
pub(super) fn file_diff(
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
    let base = bytecount::count(&old[..prefix], b'\n') as u32;
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
    // Only the lines the hunks and their context show are split: from CONTEXT lines before
    // the first changed line (the leading lines are the same bytes in both texts) to CONTEXT
    // lines after the last, or the end of the text.
    let (start, skipped) = lines_back(old, prefix, CONTEXT as usize);
    let first_line = base - skipped as u32;
    let a = split_lines(&old[start..lines_forward(old, old.len() - suffix, CONTEXT as usize)]);
    let b = split_lines(&new[start..lines_forward(new, new.len() - suffix, CONTEXT as usize)]);
    let a_line = |k: u32| a[(k - first_line) as usize];
    let b_line = |k: u32| b[(k - first_line) as usize];
    // The window reaches CONTEXT lines past the last hunk, or the end of the old text.
    let window_end = first_line + a.len() as u32;
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
        let trail = (window_end - last.before.end).min(CONTEXT);
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
                push_line(out, " ", a_line(k));
            }
            for k in h.before.clone() {
                push_line(out, "-", a_line(k));
            }
            for k in h.after.clone() {
                push_line(out, "+", b_line(k));
            }
            pos = h.before.end;
        }
        for k in pos..b_end {
            push_line(out, " ", a_line(k));
        }
        i = j + 1;
    }
    stat
}

/// Where the line `n` lines before the line starting at `at` starts, and how many lines that
/// is (fewer at the start of the text).
pub(super) fn lines_back(text: &[u8], at: usize, n: usize) -> (usize, usize) {
    let mut start = at;
    for moved in 0..n {
        if start == 0 {
            return (0, moved);
        }
        start = memchr::memrchr(b'\n', &text[..start - 1]).map_or(0, |i| i + 1);
    }
    (start, n)
}

/// Where the `n` lines from the line starting at `at` end (the end of the text at most).
pub(super) fn lines_forward(text: &[u8], at: usize, n: usize) -> usize {
    let mut end = at;
    for _ in 0..n {
        if end == text.len() {
            break;
        }
        end = memchr::memchr(b'\n', &text[end..]).map_or(text.len(), |i| end + i + 1);
    }
    end
}

/// How many leading bytes two texts share, compared a word at a time.
pub(super) fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let word = |t: &[u8], i: usize| u64::from_le_bytes(t[i..i + 8].try_into().unwrap());
    let mut i = 0;
    while i + 8 <= n {
        let x = word(a, i) ^ word(b, i);
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many trailing bytes two texts share, compared a word at a time.
pub(super) fn common_suffix_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let word = |t: &[u8], back: usize| {
        let end = t.len() - back;
        u64::from_le_bytes(t[end - 8..end].try_into().unwrap())
    };
    let mut i = 0;
    while i + 8 <= n {
        let x = word(a, i) ^ word(b, i);
        if x != 0 {
            return i + (x.leading_zeros() / 8) as usize;
        }
        i += 8;
    }
    let (a, b) = (&a[..a.len() - i], &b[..b.len() - i]);
    i + a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The byte lengths of the longest common leading and trailing runs of whole lines of two
/// texts (not overlapping).
pub(super) fn common_line_affixes(old: &[u8], new: &[u8]) -> (usize, usize) {
    let raw = common_prefix_len(old, new);
    let prefix = if raw == old.len() && raw == new.len() {
        raw
    } else {
        memchr::memrchr(b'\n', &old[..raw]).map_or(0, |i| i + 1)
    };
    let (o, n) = (&old[prefix..], &new[prefix..]);
    let raw = common_suffix_len(o, n);
    let starts_line = |t: &[u8], len: usize| len == t.len() || t[t.len() - len - 1] == b'\n';
    let mut suffix = raw;
    if !(starts_line(o, suffix) && starts_line(n, suffix)) {
        // Move the start forward to the next line start (the suffix text is the same in both).
        let tail = &o[o.len() - suffix..];
        suffix = match memchr::memchr(b'\n', tail) {
            Some(i) => suffix - (i + 1),
            None => 0,
        };
    }
    (prefix, suffix)
}

pub(super) fn push_line(out: &mut DiffText, sign: &str, line: &[u8]) {
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
    fn word_compares_match_byte_compares() {
        let texts: [&[u8]; 7] = [
            b"",
            b"a",
            b"abcdefgh",
            b"abcdefghi",
            b"abcdefgh\nijklmnopqrstuvwxyz\n",
            b"abcdefgh\nijklmnopqrstuvwxyZ\n",
            b"xbcdefgh\nijklmnopqrstuvwxyz\n",
        ];
        for a in texts {
            for b in texts {
                let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                let suffix = a
                    .iter()
                    .rev()
                    .zip(b.iter().rev())
                    .take_while(|(x, y)| x == y)
                    .count();
                assert_eq!(common_prefix_len(a, b), prefix, "{a:?} {b:?}");
                assert_eq!(common_suffix_len(a, b), suffix, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn line_windows_stop_at_the_ends() {
        let t = b"1\n2\n3\n4\n5";
        assert_eq!(lines_back(t, 6, 3), (0, 3));
        assert_eq!(lines_back(t, 6, 5), (0, 3));
        assert_eq!(lines_back(t, 4, 1), (2, 1));
        assert_eq!(lines_back(t, 0, 3), (0, 0));
        assert_eq!(lines_forward(t, 2, 2), 6);
        assert_eq!(lines_forward(t, 6, 3), 9);
        assert_eq!(lines_forward(t, 9, 3), 9);
    }

    /// Hunks near the start and end of a file, and a last line without a newline, printed as
    /// `git diff` prints them (git is the reference; the hunks are unambiguous).
    #[test]
    fn hunks_match_git_at_the_edges() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let text = |ls: &[String], last_newline: bool| {
            let mut t = ls.join("\n");
            if last_newline {
                t.push('\n');
            }
            t
        };
        let mut cases = Vec::new();
        for at in [0usize, 1, 2, 3, 4, 12, 25, 26, 27, 28, 29] {
            let mut changed = lines.clone();
            changed[at] = format!("changed {at}");
            cases.push((text(&lines, true), text(&changed, true)));
            cases.push((text(&lines, false), text(&changed, false)));
            let mut removed = lines.clone();
            removed.remove(at);
            cases.push((text(&lines, true), text(&removed, true)));
        }
        let mut two = lines.clone();
        two[1] = "first".into();
        two[28] = "second".into();
        cases.push((text(&lines, true), text(&two, true)));
        cases.push((text(&lines, true), text(&lines, false)));
        let f = modified("f");
        for (n, (old, new)) in cases.iter().enumerate() {
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            std::fs::write(&a, old).unwrap();
            std::fs::write(&b, new).unwrap();
            let git = std::process::Command::new("git")
                .args(["diff", "--no-index", "--no-color", "--histogram", "-U3"])
                .arg(&a)
                .arg(&b)
                .output()
                .unwrap();
            let git = String::from_utf8(git.stdout).unwrap();
            let mut out = DiffText::new(1 << 20);
            file_diff(&f, Some(old.as_bytes()), Some(new.as_bytes()), &mut out);
            // From the first hunk on, without git's function-name context after `@@`.
            let hunks = |t: &str| {
                t[t.find("\n@@").map_or(t.len(), |i| i + 1)..]
                    .lines()
                    .map(|l| match l.strip_prefix("@@") {
                        Some(rest) => format!("@@{}@@", rest.split("@@").next().unwrap_or("")),
                        None => l.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(hunks(&out.text), hunks(&git), "case {n}");
            assert!(!hunks(&git).is_empty(), "case {n}");
        }
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
