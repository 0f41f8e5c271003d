//! The archive files' compression, at the cost of what changed.
//!
//! A tracker's NDJSON is cut into chunks at content-defined boundaries: a chunk ends after an
//! issue whose key hashes to a multiple of [`ENDS_EVERY`] (xxh3-64), or once it holds
//! [`MAX_CHUNK_BYTES`]. Where a chunk ends depends on the keys only, so changing, adding or
//! removing one issue changes the chunk it falls in and no other (the byte cap shifts the
//! boundaries it forced, up to the next key boundary, which a large archive rarely reaches).
//!
//! Each chunk is compressed as its own zstd frame, with its checksum; a tracker's file is its
//! frames in order, which is one valid zstd stream (RFC 8878: a stream is one or more frames),
//! read whole by `zstd -d` and by `zstd::stream::read::Decoder`.
//!
//! Compressed frames are kept in the build cache ([`ChunkCache`], `<cache>/backup-chunks/`),
//! one file per chunk, named by the xxh3-128 digest of the chunk's uncompressed bytes, the zstd
//! level and the zstd library's version; a chunk whose frame is there is not compressed again.
//! An entry carries the digest of its frame, checked when it is read: a damaged or missing entry
//! is compressed again, never used. Entries the build did not use are removed after it
//! ([`ChunkCache::prune`]), so the cache holds one archive's frames.
//!
//! The chunks not in the cache are compressed on every core of the current rayon pool while
//! one thread reads and serialises the issues ([`compress_streams`]); at most [`IN_FLIGHT`]
//! chunks wait for a worker. A frame depends only on its chunk's bytes and the level, and the
//! frames are put back in order, so the file is the same whatever the thread count and whether
//! the cache was warm or cold.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Mutex;

use rayon::iter::{ParallelBridge, ParallelIterator};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use crate::error::{Error, Result};

/// The build cache's folder of compressed chunks.
pub const CACHE_FOLDER: &str = "backup-chunks";

/// A chunk ends after an issue whose key's xxh3-64 is a multiple of this: about this many
/// issues per chunk, so changing one issue compresses that many again. Smaller chunks compress
/// worse (each frame starts with an empty window): on a generated archive of 10,000 issues
/// (45 MB of NDJSON), frames of 64 issues made the file 24 % larger than one frame, of 128
/// 15 %, of 256 9 %.
pub const ENDS_EVERY: u64 = 256;

/// A chunk also ends once it holds this many bytes, so that a run of keys without a boundary
/// cannot make one chunk unbounded (it may exceed this by the one issue that crossed it).
/// At about 5 kB per issue, one chunk in a thousand reaches it.
pub const MAX_CHUNK_BYTES: usize = 8 << 20;

/// Chunks waiting for a compressing worker, beyond those being compressed: what bounds the
/// uncompressed bytes in memory (with one open chunk per tracker).
pub const IN_FLIGHT: usize = 8;

/// The first bytes of a cache entry (then the chunk's digest and length, and the frame's
/// digest, before the frame).
const ENTRY_MAGIC: &[u8; 8] = b"hschunk1";
/// Bytes before the frame in a cache entry.
const ENTRY_HEADER: usize = 8 + 16 + 8 + 16;

/// Whether a chunk ends after the issue `key`: the content-defined boundary.
pub fn ends_chunk(key: &str) -> bool {
    xxh3_64(key.as_bytes()).is_multiple_of(ENDS_EVERY)
}

/// One tracker's NDJSON being cut into chunks, one issue (one line) at a time: it holds only
/// the chunk being filled.
#[derive(Debug, Default)]
pub struct Cutter {
    chunk: Vec<u8>,
}

impl Cutter {
    /// Appends the line `write` serialises (without its newline) for the issue `key`, and
    /// returns the chunk if it ends there.
    pub fn push(
        &mut self,
        key: &str,
        write: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<Option<Vec<u8>>> {
        write(&mut self.chunk)?;
        self.chunk.push(b'\n');
        if ends_chunk(key) || self.chunk.len() >= MAX_CHUNK_BYTES {
            return Ok(Some(std::mem::take(&mut self.chunk)));
        }
        Ok(None)
    }

    /// The last chunk, if it holds anything.
    pub fn finish(self) -> Option<Vec<u8>> {
        (!self.chunk.is_empty()).then_some(self.chunk)
    }
}

/// Compressed chunks kept in the build cache between builds, by the digest of their bytes.
#[derive(Debug)]
pub struct ChunkCache {
    dir: PathBuf,
    level: i32,
    /// The names of the entries this build used (read or written): the rest are pruned.
    used: Mutex<HashSet<String>>,
    /// Makes each temporary file's name unique (two chunks with the same bytes may be
    /// compressed at once).
    temporary: AtomicU64,
    compressed: AtomicU64,
    reused: AtomicU64,
}

impl ChunkCache {
    /// The cache in the folder `dir` (created if missing), for frames of zstd `level`.
    pub fn open(dir: &Path, level: i32) -> Result<ChunkCache> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(ChunkCache {
            dir: dir.to_path_buf(),
            level,
            used: Mutex::default(),
            temporary: AtomicU64::new(0),
            compressed: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        })
    }

    /// Chunks compressed by this build, and chunks whose frame came from the cache.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.compressed.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed),
        )
    }

    /// The zstd frame of `chunk`: the cached one when it is whole, else compressed (and
    /// cached).
    pub fn frame(&self, chunk: &[u8]) -> Result<Vec<u8>> {
        self.frame_with_digest(chunk, xxh3_128(chunk))
    }

    /// [`ChunkCache::frame`] of a chunk whose digest (xxh3-128 of its bytes) the caller took.
    fn frame_with_digest(&self, chunk: &[u8], digest: u128) -> Result<Vec<u8>> {
        let name = self.entry_name(digest);
        let path = self.dir.join(&name);
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone());
        if let Some(frame) = read_entry(&path, digest, chunk.len()) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(frame);
        }
        let frame = compress(chunk, self.level).map_err(|e| Error::io(&path, e))?;
        self.write_entry(&name, digest, chunk.len(), &frame)?;
        self.compressed.fetch_add(1, Ordering::Relaxed);
        Ok(frame)
    }

    /// Whether the cache has an entry for the chunk with `digest` and `len` bytes (whole or
    /// not: [`ChunkCache::frame_of`] tells).
    pub fn has(&self, digest: u128, len: u64) -> bool {
        fs::metadata(self.dir.join(self.entry_name(digest)))
            .is_ok_and(|m| m.is_file() && m.len() > ENTRY_HEADER as u64 && len > 0)
    }

    /// The cached frame of the chunk with `digest` and `len` bytes, when its entry is whole:
    /// a chunk known unchanged without being made again ([`super::spans`]).
    pub fn frame_of(&self, digest: u128, len: u64) -> Option<Vec<u8>> {
        let name = self.entry_name(digest);
        let frame = read_entry(&self.dir.join(&name), digest, usize::try_from(len).ok()?)?;
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name);
        self.reused.fetch_add(1, Ordering::Relaxed);
        Some(frame)
    }

    /// Removes every entry (and leftover temporary file) this build did not use; returns how
    /// many.
    pub fn prune(&self) -> Result<u64> {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            // A folder is not an entry of this cache: left alone.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if used.contains(entry.file_name().to_string_lossy().as_ref()) {
                continue;
            }
            let path = entry.path();
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Ok(removed)
    }

    /// An entry's file name: the chunk's digest, the level and the zstd version (another
    /// version may compress the same bytes differently, and a build must not depend on which
    /// version filled the cache).
    fn entry_name(&self, digest: u128) -> String {
        format!(
            "{digest:032x}-{}-{}.zst",
            self.level,
            zstd::zstd_safe::version_number()
        )
    }

    /// Writes an entry through a temporary file, so that a killed build leaves no partial
    /// entry under an entry's name.
    fn write_entry(&self, name: &str, digest: u128, len: usize, frame: &[u8]) -> Result<()> {
        let n = self.temporary.fetch_add(1, Ordering::Relaxed);
        let temporary = self
            .dir
            .join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let mut bytes = Vec::with_capacity(ENTRY_HEADER + frame.len());
        bytes.extend_from_slice(ENTRY_MAGIC);
        bytes.extend_from_slice(&digest.to_le_bytes());
        bytes.extend_from_slice(&(len as u64).to_le_bytes());
        bytes.extend_from_slice(&xxh3_128(frame).to_le_bytes());
        bytes.extend_from_slice(frame);
        fs::write(&temporary, &bytes).map_err(|e| Error::io(&temporary, e))?;
        let path = self.dir.join(name);
        fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))
    }
}

/// The frame of a cache entry, if the entry is whole and is the one of a chunk with `digest`
/// and `len` bytes; `None` (compress again) for anything else, a missing file included.
fn read_entry(path: &Path, digest: u128, len: usize) -> Option<Vec<u8>> {
    let mut bytes = fs::read(path).ok()?;
    let header = bytes.get(..ENTRY_HEADER)?;
    let field = |at: usize| -> Option<u128> {
        Some(u128::from_le_bytes(
            header.get(at..at + 16)?.try_into().ok()?,
        ))
    };
    let length = u64::from_le_bytes(header.get(24..32)?.try_into().ok()?);
    let whole = header.get(..8)? == ENTRY_MAGIC
        && field(8)? == digest
        && length == len as u64
        && field(32)? == xxh3_128(&bytes[ENTRY_HEADER..]);
    whole.then(|| bytes.split_off(ENTRY_HEADER))
}

/// One zstd frame of `chunk` at `level`, with its content checksum.
fn compress(chunk: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    let mut compressor = zstd::bulk::Compressor::new(level)?;
    compressor.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
    let mut frame = compressor.compress(chunk)?;
    // The compressor allocates the worst case (about the chunk's size); every frame is held
    // until its file is put, so only what it uses is kept (at 100k issues the difference was
    // hundreds of megabytes).
    frame.shrink_to_fit();
    Ok(frame)
}

/// A chunk on its way to a worker: its stream (a tracker's file) and place in it.
struct Job {
    stream: usize,
    seq: u64,
    piece: Piece,
}

/// A chunk to compress (with its digest), or the frame of one known unchanged.
enum Piece {
    Chunk(Vec<u8>, u128),
    Frame(Vec<u8>),
}

/// Where the reading thread hands its chunks, in order per stream.
pub struct ChunkSender {
    jobs: SyncSender<Job>,
    next: Vec<u64>,
    dir: PathBuf,
}

impl ChunkSender {
    /// Hands the next chunk of `stream` (streams are numbered from 0) to the workers; waits
    /// while [`IN_FLIGHT`] chunks are waiting already.
    ///
    /// Returns the chunk's digest (xxh3-128 of its bytes), which names its frame in the cache.
    pub fn send(&mut self, stream: usize, chunk: Vec<u8>) -> Result<u128> {
        let digest = xxh3_128(&chunk);
        self.send_piece(stream, Piece::Chunk(chunk, digest))?;
        Ok(digest)
    }

    /// Hands the next chunk of `stream` as its frame, already compressed (from
    /// [`ChunkCache::frame_of`]), to be put in its place.
    pub fn send_frame(&mut self, stream: usize, frame: Vec<u8>) -> Result<()> {
        self.send_piece(stream, Piece::Frame(frame))
    }

    fn send_piece(&mut self, stream: usize, piece: Piece) -> Result<()> {
        if self.next.len() <= stream {
            self.next.resize(stream + 1, 0);
        }
        let seq = self.next[stream];
        self.next[stream] += 1;
        self.jobs.send(Job { stream, seq, piece }).map_err(|_| {
            // The workers stopped on an error of their own, which is the one reported.
            Error::io(
                &self.dir,
                std::io::Error::other("the compressing workers stopped"),
            )
        })
    }
}

/// Runs `produce` on a thread of its own, compressing the chunks it sends on every core of the
/// current rayon pool meanwhile (through `cache`); returns what `produce` returned and each
/// stream's file: its frames, in the order they were sent (an empty file for a stream that
/// sent nothing), written to a temporary file in the cache's folder that the caller puts into
/// the site and then removes ([`Assembled`]).
///
/// Frames are written as soon as those before them in their stream are: only a frame that a
/// worker finished before an earlier one of its stream waits in memory, so the compressed
/// archive (87 MB at 100,000 issues) is never held whole.
///
/// `produce` runs outside the pool and must not wait on it: the pool's threads wait for its
/// chunks. The first error of a worker is the one returned (`produce` then stops at its next
/// chunk); otherwise `produce`'s.
pub fn compress_streams<T: Send>(
    cache: &ChunkCache,
    produce: impl FnOnce(&mut ChunkSender) -> Result<T> + Send,
) -> Result<(T, Assembled)> {
    let (jobs, waiting) = sync_channel::<Job>(IN_FLIGHT);
    let mut sender = ChunkSender {
        jobs,
        next: Vec::new(),
        dir: cache.dir.clone(),
    };
    let assembler = Mutex::new(Assembler {
        files: Assembled {
            dir: cache.dir.clone(),
            paths: Vec::new(),
        },
        open: Vec::new(),
        waiting: BTreeMap::new(),
    });
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let produced = produce(&mut sender);
            (produced, sender.next.len())
        });
        let written: Result<()> = waiting.into_iter().par_bridge().try_for_each(|job| {
            let frame = match job.piece {
                Piece::Chunk(chunk, digest) => cache.frame_with_digest(&chunk, digest)?,
                Piece::Frame(frame) => frame,
            };
            assembler
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(job.stream, job.seq, frame)
        });
        let (produced, streams) = producer
            .join()
            .map_err(|_| Error::Panicked { stage: "backup" })?;
        let assembler = assembler.into_inner().unwrap_or_else(|e| e.into_inner());
        // On an error the temporary files are removed as `Assembled` is dropped.
        written?;
        let produced = produced?;
        Ok((produced, assembler.finish(streams)?))
    })
}

/// Each stream's file as the workers' frames come in: open files in stream order, and the
/// frames that came before their turn.
struct Assembler {
    files: Assembled,
    /// Per stream: the file being written and the sequence number of the frame it needs next.
    open: Vec<(BufWriter<fs::File>, u64)>,
    waiting: BTreeMap<(usize, u64), Vec<u8>>,
}

impl Assembler {
    /// Takes frame `seq` of `stream`, and writes it and those that waited for it.
    fn add(&mut self, stream: usize, seq: u64, frame: Vec<u8>) -> Result<()> {
        self.open_streams(stream + 1)?;
        self.waiting.insert((stream, seq), frame);
        let (file, next) = &mut self.open[stream];
        while let Some(frame) = self.waiting.remove(&(stream, *next)) {
            let path = &self.files.paths[stream];
            file.write_all(&frame).map_err(|e| Error::io(path, e))?;
            *next += 1;
        }
        Ok(())
    }

    /// Opens the files of the first `streams` streams that are not open yet.
    fn open_streams(&mut self, streams: usize) -> Result<()> {
        while self.open.len() < streams {
            let path = self.files.dir.join(format!(
                ".stream-{}-{}.tmp",
                std::process::id(),
                self.open.len()
            ));
            let file = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            self.files.paths.push(path);
            self.open.push((BufWriter::with_capacity(1 << 20, file), 0));
        }
        Ok(())
    }

    /// Every stream's file, complete.
    fn finish(mut self, streams: usize) -> Result<Assembled> {
        self.open_streams(streams)?;
        if let Some(&(stream, _)) = self.waiting.keys().next() {
            // A frame whose predecessor never came: a bug, never a file with a gap.
            return Err(Error::io(
                &self.files.paths[stream],
                std::io::Error::other("a compressed chunk is missing before this one"),
            ));
        }
        for ((file, _), path) in self.open.drain(..).zip(&self.files.paths) {
            file.into_inner()
                .map_err(|e| Error::io(path, e.into_error()))?;
        }
        Ok(self.files)
    }
}

/// The files [`compress_streams`] assembled, one per stream, in the cache's folder; removed
/// when dropped (and, should the process die first, by the next [`ChunkCache::prune`]).
#[derive(Debug)]
pub struct Assembled {
    dir: PathBuf,
    paths: Vec<PathBuf>,
}

impl Assembled {
    /// The file of `stream`, if there is such a stream.
    pub fn path(&self, stream: usize) -> Option<&Path> {
        self.paths.get(stream).map(PathBuf::as_path)
    }
}

impl Drop for Assembled {
    fn drop(&mut self) {
        for path in &self.paths {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// NDJSON lines of issues `keys`, each a little different and compressible.
    fn line(key: &str) -> String {
        format!(
            "{{\"source\":\"jira\",\"key\":\"{key}\",\"project\":{{\"key\":\"LU\"}},\"summary\":\"Summary of {key}: the client \
             hangs on mount after failover\",\"comments\":[\"{}\"]}}",
            "a comment that repeats ".repeat(key.len())
        )
    }

    fn keys(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("LU-{i}")).collect()
    }

    /// The chunks of the NDJSON of `keys`.
    fn cut(keys: &[String]) -> Vec<Vec<u8>> {
        cut_lines(keys, line)
    }

    /// The chunks of the NDJSON of `keys`, each issue's line made by `line`.
    fn cut_lines(keys: &[String], line: impl Fn(&str) -> String) -> Vec<Vec<u8>> {
        let mut cutter = Cutter::default();
        let mut chunks = Vec::new();
        for key in keys {
            let chunk = cutter
                .push(key, |buf| {
                    buf.extend_from_slice(line(key).as_bytes());
                    Ok(())
                })
                .expect("writes");
            chunks.extend(chunk);
        }
        chunks.extend(cutter.finish());
        chunks
    }

    fn ndjson(keys: &[String]) -> Vec<u8> {
        keys.iter()
            .flat_map(|k| format!("{}\n", line(k)).into_bytes())
            .collect()
    }

    /// The file of `keys` through `cache`, on a pool of `threads` threads.
    fn file(keys: &[String], cache: &ChunkCache, threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool");
        let chunks = cut(keys);
        let ((), files) = pool
            .install(|| {
                compress_streams(cache, |sender| {
                    for chunk in chunks {
                        sender.send(0, chunk)?;
                    }
                    Ok(())
                })
            })
            .expect("compresses");
        fs::read(files.path(0).expect("one stream")).expect("the stream's file")
    }

    fn decode(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        zstd::stream::read::Decoder::new(bytes)
            .expect("a decoder")
            .read_to_end(&mut out)
            .expect("decodes");
        out
    }

    /// How many chunks of `b` are not chunks of `a`, when both have as many.
    fn differing(a: &[Vec<u8>], b: &[Vec<u8>]) -> usize {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).filter(|(x, y)| x != y).count()
    }

    #[test]
    fn an_issue_inserted_early_changes_one_chunk() {
        let before = keys(10_000);
        let a = cut(&before);
        assert!(a.len() > 20, "{} chunks", a.len());
        // A key that does not end a chunk, so the chunk it falls in grows by one line.
        let new = (100_000..)
            .map(|i| format!("LU-{i}"))
            .find(|k| !ends_chunk(k))
            .expect("a key");
        let mut after = before.clone();
        after.insert(10, new);
        assert_eq!(differing(&a, &cut(&after)), 1);
        // Removed again: the chunks are those of before.
        after.remove(10);
        assert_eq!(cut(&after), a);
    }

    #[test]
    fn an_issue_changed_or_removed_changes_one_chunk() {
        let keys = keys(10_000);
        let a = cut(&keys);
        let changed = cut_lines(&keys, |k| {
            if k == "LU-17" {
                format!("{} and more", line(k))
            } else {
                line(k)
            }
        });
        assert_eq!(differing(&a, &changed), 1);
        // Removing a key that does not end its chunk leaves the number of chunks as it was.
        let gone = keys.iter().position(|k| !ends_chunk(k)).expect("a key");
        let mut fewer = keys.clone();
        fewer.remove(gone);
        assert_eq!(differing(&a, &cut(&fewer)), 1);
    }

    #[test]
    fn a_chunk_is_bounded_in_bytes() {
        let mut cutter = Cutter::default();
        let big = "x".repeat(MAX_CHUNK_BYTES / 3);
        let mut chunks = Vec::new();
        // Keys without a boundary: only the cap ends a chunk.
        let quiet = (0..).map(|i| format!("K-{i}")).filter(|k| !ends_chunk(k));
        for key in quiet.take(10) {
            let chunk = cutter.push(&key, |b| {
                b.extend_from_slice(big.as_bytes());
                Ok(())
            });
            chunks.extend(chunk.expect("writes"));
        }
        assert_eq!(chunks.len(), 3);
        assert!(chunks
            .iter()
            .all(|c| c.len() >= MAX_CHUNK_BYTES && c.len() < MAX_CHUNK_BYTES + big.len() + 1));
    }

    #[test]
    fn the_frames_decode_to_the_ndjson() {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = ChunkCache::open(dir.path(), 9).expect("opens");
        let keys = keys(5000);
        let bytes = file(&keys, &cache, 2);
        assert!(cut(&keys).len() > 10);
        assert_eq!(decode(&bytes), ndjson(&keys));
    }

    /// An archive file of 1,500 issues in several frames, in a temporary folder (kept alive
    /// by the returned handle), and the issues' keys.
    fn multi_frame_file() -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = ChunkCache::open(&dir.path().join("cache"), 9).expect("opens");
        let keys = keys(1500);
        assert!(cut(&keys).len() > 2);
        let path = dir.path().join("jira.ndjson.zst");
        fs::write(&path, file(&keys, &cache, 2)).expect("writes");
        (dir, path, keys)
    }

    #[test]
    fn the_importer_reads_every_frame() {
        // What a site rebuilt from its backup reads the archive with.
        let (_dir, path, keys) = multi_frame_file();
        let mut read = Vec::new();
        crate::import::open(&path)
            .expect("opens")
            .read_to_end(&mut read)
            .expect("reads");
        assert_eq!(read, ndjson(&keys));
        let format = crate::import::detect(&path).expect("detects");
        assert_eq!(format, crate::config::Format::Ndjson);
    }

    #[test]
    fn zstd_reads_every_frame() {
        // Never skipped: scripts/test installs the command (Debian package zstd).
        let status = std::process::Command::new("zstd")
            .arg("--version")
            .output()
            .expect("the zstd command (Debian package zstd, which scripts/test installs)");
        assert!(status.status.success());
        let (_dir, path, keys) = multi_frame_file();
        let out = std::process::Command::new("zstd")
            .args(["-dc", "--"])
            .arg(&path)
            .output()
            .expect("runs zstd");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, ndjson(&keys));
    }

    #[test]
    fn warm_cold_and_thread_counts_give_the_same_bytes() {
        let dir = tempfile::tempdir().expect("a folder");
        let keys = keys(5000);
        let cold = ChunkCache::open(dir.path(), 9).expect("opens");
        let first = file(&keys, &cold, 1);
        let chunks = cut(&keys).len() as u64;
        assert_eq!(cold.counts(), (chunks, 0));
        let warm = ChunkCache::open(dir.path(), 9).expect("opens");
        assert_eq!(file(&keys, &warm, 3), first);
        assert_eq!(warm.counts(), (0, chunks));
        let other = tempfile::tempdir().expect("a folder");
        let cold4 = ChunkCache::open(other.path(), 9).expect("opens");
        assert_eq!(file(&keys, &cold4, 4), first);
    }

    #[test]
    fn interleaved_streams_keep_their_own_order() {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = ChunkCache::open(dir.path(), 9).expect("opens");
        let (a, b) = (keys(3000), keys(4000).split_off(1000));
        let (alone_a, alone_b) = (file(&a, &cache, 2), file(&b, &cache, 2));
        let (chunks_a, chunks_b) = (cut(&a), cut(&b));
        let ((), files) = compress_streams(&cache, |sender| {
            let mut b = chunks_b.into_iter();
            for chunk in chunks_a {
                sender.send(1, chunk)?;
                if let Some(chunk) = b.next() {
                    sender.send(0, chunk)?;
                }
            }
            b.try_for_each(|chunk| sender.send(0, chunk).map(drop))
        })
        .expect("compresses");
        let read = |stream| fs::read(files.path(stream).expect("a stream")).expect("reads");
        assert_eq!((read(0), read(1)), (alone_b, alone_a));
        assert!(files.path(2).is_none());
        // The files are temporary: gone with the value.
        let paths = [0, 1].map(|s| files.path(s).expect("a stream").to_path_buf());
        drop(files);
        assert!(paths.iter().all(|p| !p.exists()));
    }

    #[test]
    fn a_damaged_entry_is_compressed_again() {
        let dir = tempfile::tempdir().expect("a folder");
        let keys = keys(3000);
        let first = file(&keys, &ChunkCache::open(dir.path(), 9).expect("opens"), 2);
        let mut entries: Vec<PathBuf> = fs::read_dir(dir.path())
            .expect("lists")
            .map(|e| e.expect("an entry").path())
            .collect();
        entries.sort();
        // One flipped byte in a frame, one truncated entry, one emptied, one removed.
        let mut bytes = fs::read(&entries[0]).expect("reads");
        let last = bytes.len() - 5;
        bytes[last] ^= 0x40;
        fs::write(&entries[0], &bytes).expect("writes");
        let bytes = fs::read(&entries[1]).expect("reads");
        fs::write(&entries[1], &bytes[..bytes.len() / 2]).expect("writes");
        fs::write(&entries[2], b"").expect("writes");
        fs::remove_file(&entries[3]).expect("removes");
        let cache = ChunkCache::open(dir.path(), 9).expect("opens");
        assert_eq!(file(&keys, &cache, 2), first);
        assert_eq!(cache.counts().0, 4);
        // The entries were written again, whole.
        let again = ChunkCache::open(dir.path(), 9).expect("opens");
        assert_eq!(file(&keys, &again, 2), first);
        assert_eq!(again.counts().0, 0);
    }

    #[test]
    fn unused_entries_are_pruned() {
        let dir = tempfile::tempdir().expect("a folder");
        let all = keys(5000);
        let cache = ChunkCache::open(dir.path(), 9).expect("opens");
        file(&all, &cache, 2);
        fs::write(dir.path().join(".left.tmp"), b"x").expect("writes");
        let fewer = &all[..2500];
        let cache = ChunkCache::open(dir.path(), 9).expect("opens");
        file(fewer, &cache, 2);
        let entries = fs::read_dir(dir.path()).expect("lists").count();
        let removed = cache.prune().expect("prunes");
        let left = fs::read_dir(dir.path()).expect("lists").count();
        assert_eq!(left as u64, cache.counts().1 + cache.counts().0);
        assert_eq!(removed as usize, entries - left);
        assert!(removed > 1);
    }

    #[test]
    fn a_cache_that_cannot_be_written_names_the_file() {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = ChunkCache::open(&dir.path().join("chunks"), 9).expect("opens");
        fs::remove_dir(dir.path().join("chunks")).expect("removes");
        fs::write(dir.path().join("chunks"), b"not a folder").expect("writes");
        let err = cache.frame(b"{}\n").expect_err("cannot write");
        let shown = err.to_string();
        assert!(shown.contains("chunks"), "{shown}");
        // Through the workers: the error stops the reading thread too (no hang).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool");
        let sent = pool.install(|| {
            compress_streams(&cache, |sender| {
                for i in 0..100 {
                    sender.send(i % 3, format!("{{\"n\":{i}}}\n").into_bytes())?;
                }
                Ok(())
            })
        });
        let shown = sent.expect_err("cannot write").to_string();
        assert!(
            shown.contains("chunks/") && shown.ends_with(".tmp"),
            "{shown}"
        );
    }
}
