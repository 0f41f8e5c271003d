//! The manifest: what the build cache remembers of every file the last build published.
//!
//! For each site path: the SHA-256 of its bytes, and the size, inode and modification time the
//! file had when it was published (and, for a file copied from the archive, those of its
//! source). A rebuild that renders the same bytes for a path whose published file still has
//! the recorded size, inode and time links that file into the new site without reading it; a
//! copied file whose source is unchanged is not even read. The same hashes make the site's
//! `SHA256SUMS` and the backup's BagIt manifests, so re-hashing costs only what changed.
//!
//! Like `make` and `rsync`, a file is taken as unchanged when its size, inode and
//! modification time are: one rewritten in place with other bytes of the same size within the
//! same nanosecond goes unseen (`hindsight verify` reads every byte).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustc_hash::FxHasher;

use crate::error::{Error, Result};

/// What identifies one version of a file on disk without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Bytes.
    pub size: u64,
    /// Inode number.
    pub ino: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i128,
}

impl Stat {
    /// The stat of `meta`.
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            size: meta.len(),
            ino: meta.ino(),
            mtime: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        }
    }

    /// The stat of the file at `path`, if it is a file.
    pub fn read(path: &Path) -> Option<Stat> {
        std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| Stat::of(&m))
    }

    /// Appends `size:ino:mtime`, as the manifest writes a stat.
    pub(super) fn push_text(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{}:{}:{}", self.size, self.ino, self.mtime);
    }

    /// The stat of the file `name` in the folder `folder` is open on, if it is a file (as
    /// [`Stat::read`] of the folder's path joined with `name`).
    fn read_in(folder: &rustix::fd::OwnedFd, name: &str) -> Option<Stat> {
        use rustix::fs::{statat, AtFlags, FileType};
        let st = statat(folder, name, AtFlags::empty()).ok()?;
        (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then(|| Stat {
            size: st.st_size as u64,
            ino: st.st_ino,
            mtime: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        })
    }

    /// Reads a stat as [`Stat::push_text`] writes it.
    pub(super) fn parse(text: &str) -> Option<Stat> {
        let mut parts = text.split(':');
        let stat = Stat {
            size: parts.next()?.parse().ok()?,
            ino: parts.next()?.parse().ok()?,
            mtime: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stat)
    }
}

/// The site folder whose files are being stat, open.
#[derive(Default)]
struct OpenFolder {
    path: String,
    fd: Option<rustix::fd::OwnedFd>,
}

impl OpenFolder {
    /// Whether site folder `path` is the one open.
    fn is(&self, path: &str) -> bool {
        self.fd.is_some() && self.path == path
    }

    /// Opens site folder `path` (`""`: the site's root) of the site open as `site`; false
    /// when it cannot be opened.
    fn open(&mut self, site: &rustix::fd::OwnedFd, path: &str) -> bool {
        use rustix::fs::{openat, Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let at = if path.is_empty() { "." } else { path };
        self.fd = openat(site, at, flags, Mode::empty()).ok();
        self.path.clear();
        self.path.push_str(path);
        self.fd.is_some()
    }

    /// The stat of file `name` in the open folder.
    fn stat(&self, name: &str) -> Option<Stat> {
        Stat::read_in(self.fd.as_ref()?, name)
    }
}

/// One published file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
    /// The file as published.
    pub stat: Stat,
    /// The archive file it was copied from, as it was then (attachments, git packs).
    pub source: Option<Stat>,
    /// For a rendered page, the digest of everything it was rendered from (its template
    /// context, the theme, the configuration, the program): a rebuild whose page has the same
    /// digest keeps the published file without rendering it again.
    pub made_from: Option<u128>,
}

/// Every file of a published site, by site path, as one table sorted by path.
///
/// A site has a file per issue and more (405,524 files for 100,000 issues), and a build holds
/// two manifests (the published site's and the new one's) from render to write, so each file
/// costs 96 bytes here plus its path in one shared text, and a page's lookups are kept as the
/// JSON they are saved as: about 60 MB for that site, where a map of strings to entries and
/// lists of strings took about 125.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// The folder the site was published to (a manifest of another folder says nothing).
    pub output: PathBuf,
    /// The paths and the lookups' JSON, one after another.
    text: String,
    /// One row per file, sorted by path, no path twice.
    rows: Vec<Row>,
    /// The source stats of the files copied from the archive (rows point into it).
    sources: Vec<Stat>,
    /// Row → what the page's texts looked up in the archive when it was rendered
    /// (`render::memo::Lookups`) as a JSON list, for pages that have texts; by row.
    lookups: Vec<(usize, Span)>,
    /// Rows by the hash of their path, in a manifest read from its file: the published
    /// site's, asked once for every file of a build (a binary search over 400,000 paths was
    /// 3% of a nightly's time).
    by_path: Option<hashbrown::HashTable<u32>>,
}

/// The hash [`Manifest`] finds a path's row by.
fn path_hash(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// Where a string is in a manifest's text.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    at: usize,
    len: u32,
}

impl Span {
    /// Appends `s` to `text` and returns where it went.
    fn push(text: &mut String, s: &str) -> Span {
        let at = text.len();
        text.push_str(s);
        Span {
            at,
            len: u32::try_from(s.len()).unwrap_or(u32::MAX),
        }
    }

    fn of(self, text: &str) -> &str {
        &text[self.at..self.at + self.len as usize]
    }
}

/// One file of a manifest: its path in the text and its entry, packed.
#[derive(Clone, Copy, Debug)]
struct Row {
    path: Span,
    entry: Packed,
}

/// An [`Entry`] in 80 bytes instead of 144: the time split into seconds and nanoseconds,
/// the source stat (which only copied files have) kept aside.
#[derive(Clone, Copy, Debug)]
struct Packed {
    sha256: [u8; 32],
    size: u64,
    ino: u64,
    mtime_secs: i64,
    made_from: [u64; 2],
    /// Nanoseconds (below 10^9), [`HAS_MADE_FROM`] and [`STAGED`].
    mtime_nanos: u32,
    /// Index into the manifest's sources, or [`NO_SOURCE`].
    source: u32,
}

const HAS_MADE_FROM: u32 = 1 << 31;
/// The new site's file was written to the staging folder (not kept where it is published).
const STAGED: u32 = 1 << 30;
const NO_SOURCE: u32 = u32::MAX;
const NANOS: i128 = 1_000_000_000;

impl Packed {
    /// `entry` packed, its source stat added to `sources`. What cannot be packed reads back
    /// as another stat, so the file is compared by its bytes instead: a time no file system
    /// gives (beyond 2^63 seconds), a source past the 4 billionth.
    fn pack(entry: &Entry, sources: &mut Vec<Stat>) -> Packed {
        let source = match (entry.source, u32::try_from(sources.len())) {
            (Some(s), Ok(i)) if i != NO_SOURCE => {
                sources.push(s);
                i
            }
            _ => NO_SOURCE,
        };
        let made = entry.made_from.unwrap_or(0);
        let secs = entry.stat.mtime.div_euclid(NANOS);
        Packed {
            sha256: entry.sha256,
            size: entry.stat.size,
            ino: entry.stat.ino,
            mtime_secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            made_from: [(made >> 64) as u64, made as u64],
            mtime_nanos: entry.stat.mtime.rem_euclid(NANOS) as u32
                | if entry.made_from.is_some() {
                    HAS_MADE_FROM
                } else {
                    0
                },
            source,
        }
    }

    fn unpack(&self, sources: &[Stat]) -> Entry {
        Entry {
            sha256: self.sha256,
            stat: Stat {
                size: self.size,
                ino: self.ino,
                mtime: self.mtime_secs as i128 * NANOS
                    + (self.mtime_nanos & !(HAS_MADE_FROM | STAGED)) as i128,
            },
            source: sources.get(self.source as usize).copied(),
            made_from: (self.mtime_nanos & HAS_MADE_FROM != 0)
                .then(|| (self.made_from[0] as u128) << 64 | self.made_from[1] as u128),
        }
    }
}

impl Manifest {
    /// The manifest of a site at `output` that has no files yet.
    pub fn empty(output: &Path) -> Manifest {
        Manifest {
            output: output.to_path_buf(),
            ..Manifest::default()
        }
    }

    /// The manifest kept in `file`, if it is there, readable and of the site at `output`;
    /// otherwise an empty one (the build then compares with the published files).
    pub fn load(file: &Path, output: &Path) -> Manifest {
        Manifest::read(file, output).unwrap_or_else(|| Manifest::empty(output))
    }

    fn read(file: &Path, output: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(file).ok()?;
        let manifest = Manifest::decode(&bytes)?;
        (manifest.output == output).then(|| manifest.indexed())
    }

    /// The manifest [`Manifest::encode`] wrote into `bytes`; `None` for bytes it did not
    /// write (another format, a file cut short or damaged: its checksum differs), or that
    /// break what a manifest holds (paths out of order or twice, a place outside its text).
    fn decode(bytes: &[u8]) -> Option<Manifest> {
        let body = bytes.strip_prefix(MAGIC)?;
        let (body, sum) = body.split_at_checked(body.len().checked_sub(8)?)?;
        if xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() != sum {
            return None;
        }
        let mut r = Reader(body);
        let output = PathBuf::from(String::from_utf8(r.bytes()?.to_vec()).ok()?);
        let text = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        let span = |r: &mut Reader| -> Option<Span> {
            let at = usize::try_from(r.u64()?).ok()?;
            let len = r.u32()?;
            text.get(at..at.checked_add(len as usize)?)?;
            Some(Span { at, len })
        };
        let n = r.count(ROW_BYTES)?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let path = span(&mut r)?;
            let entry = Packed {
                sha256: r.array()?,
                size: r.u64()?,
                ino: r.u64()?,
                mtime_secs: r.u64()? as i64,
                made_from: [r.u64()?, r.u64()?],
                mtime_nanos: r.u32()?,
                source: r.u32()?,
            };
            rows.push(Row { path, entry });
        }
        let n = r.count(32)?;
        let mut sources = Vec::with_capacity(n);
        for _ in 0..n {
            let (size, ino) = (r.u64()?, r.u64()?);
            let mtime = i128::from_le_bytes(r.array()?);
            sources.push(Stat { size, ino, mtime });
        }
        let n = r.count(20)?;
        let mut lookups = Vec::with_capacity(n);
        for _ in 0..n {
            let row = usize::try_from(r.u64()?).ok()?;
            lookups.push((row, span(&mut r)?));
        }
        let in_order = rows
            .windows(2)
            .all(|w| w[0].path.of(&text) < w[1].path.of(&text));
        let sourced = rows
            .iter()
            .all(|r| r.entry.source == NO_SOURCE || (r.entry.source as usize) < sources.len());
        let asked = lookups.windows(2).all(|w| w[0].0 < w[1].0)
            && lookups.last().is_none_or(|l| l.0 < rows.len());
        (r.0.is_empty() && in_order && sourced && asked).then_some(Manifest {
            output,
            text,
            rows,
            sources,
            lookups,
            by_path: None,
        })
    }

    /// The manifest with its rows indexed by path ([`Manifest::by_path`]).
    fn indexed(mut self) -> Manifest {
        let (rows, text) = (&self.rows, &self.text);
        let hash = |&row: &u32| path_hash(rows[row as usize].path.of(text));
        let mut table = hashbrown::HashTable::with_capacity(rows.len());
        for row in 0..rows.len() as u32 {
            table.insert_unique(hash(&row), row, hash);
        }
        self.by_path = Some(table);
        self
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the site has no files.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, path: &str) -> Option<usize> {
        let Some(table) = &self.by_path else {
            return (self.rows)
                .binary_search_by(|r| r.path.of(&self.text).cmp(path))
                .ok();
        };
        let at = |&row: &u32| self.rows[row as usize].path.of(&self.text) == path;
        table.find(path_hash(path), at).map(|&row| row as usize)
    }

    /// Which files of the site in `output` are still as recorded (same stat), by row: one
    /// `stat` per file, on every core. [`super::Staging::begin`] asks once, while the archive
    /// is imported and linked, so that keeping a file later costs no system call.
    ///
    /// Each file is asked of the site's folder, opened once, or of its own folder when the
    /// files after it in path order are in that folder too: the kernel then looks up its
    /// path from the site, or its name alone, not every folder from the root (that walk was
    /// half of the pass's time, 400,000 files at 100,000 issues).
    pub fn still_as_recorded(&self, output: &Path) -> Vec<bool> {
        use rayon::prelude::*;
        use rustix::fs::{open, Mode, OFlags};
        const CHUNK: usize = 512;
        let mut flags = vec![false; self.rows.len()];
        let Ok(site) = open(
            output,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return flags;
        };
        let parent = |row: &Row| {
            let path = row.path.of(&self.text);
            path.rsplit_once('/').unwrap_or(("", path))
        };
        flags
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(chunk, flags)| {
                let rows = &self.rows[chunk * CHUNK..][..flags.len()];
                let mut folder = OpenFolder::default();
                for (k, (flag, r)) in flags.iter_mut().zip(rows).enumerate() {
                    let (dir, name) = parent(r);
                    let next_beside = rows.get(k + 1).is_some_and(|n| parent(n).0 == dir);
                    let stat = if folder.is(dir) || (next_beside && folder.open(&site, dir)) {
                        folder.stat(name)
                    } else {
                        Stat::read_in(&site, r.path.of(&self.text))
                    };
                    *flag = stat == Some(r.entry.unpack(&self.sources).stat);
                }
            });
        flags
    }

    /// The row of `path` and its entry, if the site has that file.
    pub fn get_row(&self, path: &str) -> Option<(usize, Entry)> {
        self.row(path)
            .map(|i| (i, self.rows[i].entry.unpack(&self.sources)))
    }

    /// Every file whose path starts with `prefix`, with its row and entry, in path order.
    pub fn rows_under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (usize, &'a str, Entry)> + 'a {
        let start = self
            .rows
            .partition_point(|r| r.path.of(&self.text) < prefix);
        self.rows[start..]
            .iter()
            .enumerate()
            .map(move |(i, r)| {
                (
                    start + i,
                    r.path.of(&self.text),
                    r.entry.unpack(&self.sources),
                )
            })
            .take_while(move |(_, path, _)| path.starts_with(prefix))
    }

    /// The entry of `path`, if the site has that file.
    pub fn get(&self, path: &str) -> Option<Entry> {
        self.row(path)
            .map(|i| self.rows[i].entry.unpack(&self.sources))
    }

    /// Whether the site has a file at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.row(path).is_some()
    }

    /// What rendering the page at `path` asked of the archive.
    pub fn lookups(&self, path: &str) -> Option<Vec<String>> {
        serde_json::from_str(self.lookups_json(path)?).ok()
    }

    /// [`Manifest::lookups`] as the manifest holds them (JSON).
    pub fn lookups_json(&self, path: &str) -> Option<&str> {
        let row = self.row(path)?;
        let i = self.lookups.binary_search_by_key(&row, |l| l.0).ok()?;
        Some(self.lookups[i].1.of(&self.text))
    }

    /// The files the build that made this manifest wrote to its staging folder, in path
    /// order (none in a manifest read from a file).
    pub fn staged(&self) -> impl Iterator<Item = &str> + '_ {
        self.rows
            .iter()
            .filter(|r| r.entry.mtime_nanos & STAGED != 0)
            .map(|r| r.path.of(&self.text))
    }

    /// Every file's path, in path order (byte order).
    pub fn paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.rows.iter().map(|r| r.path.of(&self.text))
    }

    /// Every file with its entry, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, Entry)> + '_ {
        self.rows
            .iter()
            .map(|r| (r.path.of(&self.text), r.entry.unpack(&self.sources)))
    }

    /// The fingerprint of the site as this manifest has it
    /// ([`super::files_fingerprint`]): the one a walk of the published site finds while
    /// nothing else touches it.
    pub fn fingerprint(&self) -> String {
        super::files_fingerprint(self.files().map(|(path, e)| (path, e.stat)))
    }

    /// Writes the manifest to `file` (atomically: a killed build leaves the old one or none).
    pub fn save(&self, file: &Path) -> Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        super::replace_file_with(file, |out| {
            let mut out = Summing {
                out,
                sum: xxhash_rust::xxh3::Xxh3::new(),
            };
            out.out.write_all(MAGIC)?;
            self.encode(&mut out)?;
            let sum = out.sum.digest();
            out.out.write_all(&sum.to_le_bytes())
        })
    }

    /// The manifest as [`Manifest::decode`] reads it, after its magic: the site's folder,
    /// the text of the paths and the lookups (only theirs: a builder's text holds more),
    /// then the rows, the sources and the lookups as fixed-size records, little-endian.
    fn encode(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let output = self.output.to_string_lossy();
        put_bytes(out, output.as_bytes())?;
        let text_len: usize = (self.rows.iter().map(|r| r.path))
            .chain(self.lookups.iter().map(|l| l.1))
            .map(|s| s.len as usize)
            .sum();
        out.write_all(&(text_len as u64).to_le_bytes())?;
        let mut at = 0usize;
        let mut place = |s: Span| {
            let placed = Span { at, len: s.len };
            at += s.len as usize;
            placed
        };
        let paths: Vec<Span> = self.rows.iter().map(|r| place(r.path)).collect();
        let asked: Vec<Span> = self.lookups.iter().map(|l| place(l.1)).collect();
        let mut buf = Vec::with_capacity(1 << 16);
        for s in self
            .rows
            .iter()
            .map(|r| r.path)
            .chain(self.lookups.iter().map(|l| l.1))
        {
            buf.extend_from_slice(s.of(&self.text).as_bytes());
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        buf.clear();
        buf.extend_from_slice(&(self.rows.len() as u64).to_le_bytes());
        for (row, path) in self.rows.iter().zip(&paths) {
            let e = &row.entry;
            put_span(&mut buf, *path);
            buf.extend_from_slice(&e.sha256);
            for n in [
                e.size,
                e.ino,
                e.mtime_secs as u64,
                e.made_from[0],
                e.made_from[1],
            ] {
                buf.extend_from_slice(&n.to_le_bytes());
            }
            buf.extend_from_slice(&(e.mtime_nanos & !STAGED).to_le_bytes());
            buf.extend_from_slice(&e.source.to_le_bytes());
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        buf.extend_from_slice(&(self.sources.len() as u64).to_le_bytes());
        for s in &self.sources {
            buf.extend_from_slice(&s.size.to_le_bytes());
            buf.extend_from_slice(&s.ino.to_le_bytes());
            buf.extend_from_slice(&s.mtime.to_le_bytes());
        }
        buf.extend_from_slice(&(self.lookups.len() as u64).to_le_bytes());
        for (l, span) in self.lookups.iter().zip(&asked) {
            buf.extend_from_slice(&(l.0 as u64).to_le_bytes());
            put_span(&mut buf, *span);
        }
        out.write_all(&buf)
    }

    /// Forgets the manifest kept in `file` (before a build that may change the site).
    pub fn forget(file: &Path) -> Result<()> {
        match std::fs::remove_file(file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(file, e)),
        }
    }
}

/// Where a file of the new site is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// Left where it is published.
    Kept,
    /// Written to the staging folder.
    Staged,
    /// Written to the staging folder, and other files may be linked to it when they have the
    /// same bytes ([`Builder::staged_with`]).
    StagedShared,
}

/// The manifest of a site being built: files are added in any order as they are produced,
/// and sorted once, when they are all in ([`Builder::finish`]).
#[derive(Debug, Default)]
pub struct Builder {
    text: String,
    rows: Vec<Row>,
    sources: Vec<Stat>,
    /// Path and lookups' JSON, in the order they came.
    lookups: Vec<(Span, Span)>,
    /// Hashes of the paths added, to refuse one added twice as it happens.
    seen: HashSet<u64, BuildHasherDefault<FxHasher>>,
    /// Files added as [`Placed::StagedShared`] of at least `share_at` bytes, by content: where
    /// another file with the same bytes can be linked from.
    by_content: HashMap<[u8; 32], Span, BuildHasherDefault<FxHasher>>,
    share_at: u64,
    /// How many of the first rows are known to be in order.
    sorted: usize,
}

impl Builder {
    /// A builder that remembers where shared staged files of at least `share_at` bytes are,
    /// by content ([`Builder::staged_with`]).
    pub fn sharing(share_at: u64) -> Builder {
        Builder {
            share_at,
            ..Builder::default()
        }
    }

    /// Makes room for a site the size of `site` (the published one, which a rebuild mostly
    /// writes again): grown by doubling instead, the builder's tables held up to twice their
    /// bytes, and three times while each was copied into a larger one.
    pub fn reserve_like(&mut self, site: &Manifest) {
        let paths_asked: usize = (site.lookups.iter())
            .map(|&(row, _)| site.rows[row].path.len as usize)
            .sum();
        self.text.reserve(site.text.len() + paths_asked);
        self.rows.reserve(site.rows.len());
        self.sources.reserve(site.sources.len());
        self.lookups.reserve(site.lookups.len());
        self.seen.reserve(site.rows.len());
    }

    /// A staged file with the bytes of SHA-256 `sha256`, if one of at least the sharing size
    /// was added.
    pub fn staged_with(&self, sha256: &[u8; 32]) -> Option<&str> {
        self.by_content.get(sha256).map(|p| p.of(&self.text))
    }

    /// Adds a file, placed as `placed` says; `false` (nothing added) when `path` was added
    /// before.
    pub fn add(&mut self, path: &str, entry: &Entry, placed: Placed) -> bool {
        let hash = xxhash_rust::xxh3::xxh3_64(path.as_bytes());
        // A hash seen before is a path added before, or (rarely) another path with the same
        // hash: the rows tell which.
        if !self.seen.insert(hash) && self.rows.iter().any(|r| r.path.of(&self.text) == path) {
            return false;
        }
        let share = placed == Placed::StagedShared && entry.stat.size >= self.share_at;
        let row = self.add_row(path, entry);
        if placed != Placed::Kept {
            row.entry.mtime_nanos |= STAGED;
        }
        if share {
            let path = row.path;
            self.by_content.entry(entry.sha256).or_insert(path);
        }
        true
    }

    fn add_row(&mut self, path: &str, entry: &Entry) -> &mut Row {
        let entry = Packed::pack(entry, &mut self.sources);
        let path = Span::push(&mut self.text, path);
        self.rows.push(Row { path, entry });
        self.rows.last_mut().expect("a row was pushed")
    }

    /// Remembers what the texts of the page at `path` looked up.
    pub fn add_lookups(&mut self, path: &str, lookups: &[String]) {
        let json = serde_json::to_string(lookups).unwrap_or_default();
        self.add_lookups_json(path, &json);
    }

    /// [`Builder::add_lookups`] for lookups already as JSON (a kept page's, as the last
    /// manifest held them).
    pub fn add_lookups_json(&mut self, path: &str, json: &str) {
        let path = Span::push(&mut self.text, path);
        let json = Span::push(&mut self.text, json);
        self.lookups.push((path, json));
    }

    /// Sorts the rows added so far by path (those already in order are not compared again).
    fn sort(&mut self) {
        if self.sorted < self.rows.len() {
            let text = &self.text;
            // A stable sort finds the sorted prefix in one pass and merges the new rows in
            // (rayon's, on every core: a rebuild's 400,000 rows come in the order pages were
            // made).
            use rayon::slice::ParallelSliceMut;
            self.rows
                .par_sort_by(|a, b| a.path.of(text).cmp(b.path.of(text)));
            self.sorted = self.rows.len();
        }
    }

    /// Every file added so far, in path order: path, SHA-256 and size (what `SHA256SUMS` and
    /// a bag's manifests are written from).
    pub fn files(&mut self) -> impl Iterator<Item = (&str, &[u8; 32], u64)> + '_ {
        self.sort();
        self.rows
            .iter()
            .map(|r| (r.path.of(&self.text), &r.entry.sha256, r.entry.size))
    }

    /// [`Builder::files`] under `prefix` only (a bag's), found by a binary search.
    pub fn files_under<'a>(
        &'a mut self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8; 32], u64)> + 'a {
        self.sort();
        let text = &self.text;
        let start = self.rows.partition_point(|r| r.path.of(text) < prefix);
        self.rows[start..]
            .iter()
            .map(move |r| (r.path.of(text), &r.entry.sha256, r.entry.size))
            .take_while(move |(path, _, _)| path.starts_with(prefix))
    }

    /// [`Builder::files`] in runs of `run` files, in order, each run made on any core (what
    /// `SHA256SUMS`, a line per file, is written from).
    pub fn par_runs<T: Send>(
        &mut self,
        run: usize,
        make: impl for<'a> Fn(&mut dyn Iterator<Item = (&'a str, &'a [u8; 32], u64)>) -> T + Sync,
    ) -> Vec<T> {
        use rayon::prelude::*;
        self.sort();
        let text = &self.text;
        self.rows
            .par_chunks(run.max(1))
            .map(|rows| {
                let mut files = rows
                    .iter()
                    .map(|r| (r.path.of(text), &r.entry.sha256, r.entry.size));
                make(&mut files)
            })
            .collect()
    }

    /// The manifest of the site at `output`; the lookups of paths that are not files are
    /// dropped. `Err` with a path added twice (only [`Manifest::load`]'s lines can be).
    pub fn finish(mut self, output: &Path) -> std::result::Result<Manifest, String> {
        self.sort();
        let text = &self.text;
        if let Some(w) = self
            .rows
            .windows(2)
            .find(|w| w[0].path.of(text) == w[1].path.of(text))
        {
            return Err(w[0].path.of(text).to_string());
        }
        let mut lookups: Vec<(usize, Span)> = Vec::with_capacity(self.lookups.len());
        for (path, json) in &self.lookups {
            let path = path.of(text);
            if let Ok(row) = self.rows.binary_search_by(|r| r.path.of(text).cmp(path)) {
                lookups.push((row, *json));
            }
        }
        // The last lookups remembered for a page are its own.
        lookups.reverse();
        lookups.sort_by_key(|l| l.0);
        lookups.dedup_by_key(|l| l.0);
        Ok(Manifest {
            output: output.to_path_buf(),
            text: self.text,
            rows: self.rows,
            sources: self.sources,
            lookups,
            by_path: None,
        })
    }
}

/// What a manifest file starts with: its format's name and version.
const MAGIC: &[u8] = b"hindsight manifest 4\n";

/// Bytes of a row in a manifest file: its path's place (8 + 4), the hash (32), size, inode,
/// seconds, the digest (8 each, the digest twice), nanoseconds and source (4 each).
const ROW_BYTES: usize = 12 + 32 + 5 * 8 + 2 * 4;

/// Writes `bytes` with their length first.
fn put_bytes(out: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(bytes)
}

/// Appends where a string is in the text.
fn put_span(buf: &mut Vec<u8>, s: Span) {
    buf.extend_from_slice(&(s.at as u64).to_le_bytes());
    buf.extend_from_slice(&s.len.to_le_bytes());
}

/// A writer that sums what goes through it.
struct Summing<'a> {
    out: &'a mut dyn Write,
    sum: xxhash_rust::xxh3::Xxh3,
}

impl Write for Summing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads back a manifest file's numbers and strings, `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*a)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u64()?).ok()?;
        let (b, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(b)
    }

    /// A count of records of `size` bytes each, no more than the bytes left can hold.
    fn count(&mut self, size: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.0.len() / size).then_some(n)
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends `bytes` in lower-case hexadecimal: the manifests and checksum files write one
/// SHA-256 per file of the site, hundreds of thousands per build.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // A SHA-256 at a time, as ASCII bytes, appended as one string.
    for part in bytes.chunks(32) {
        let mut digits = [0u8; 64];
        for (pair, &b) in digits.chunks_exact_mut(2).zip(part) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        let digits = &digits[..part.len() * 2];
        out.push_str(std::str::from_utf8(digits).expect("hexadecimal digits are ASCII"));
    }
}

/// The 32 bytes a 64-digit hexadecimal SHA-256 stands for.
pub fn unhex(text: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: u8, mtime: i128, source: Option<Stat>, made_from: Option<u128>) -> Entry {
        Entry {
            sha256: [sha; 32],
            stat: Stat {
                size: 3,
                ino: 7,
                mtime,
            },
            source,
            made_from,
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written_and_only_for_its_own_site() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m");
        let source = Stat {
            size: 9,
            ino: 1,
            mtime: 1_796_489_735_404_619_231,
        };
        let files = [
            (
                "page.html",
                entry(1, -5, None, Some(0x0123_4567_89ab_cdef_0011_2233_4455_6677)),
            ),
            (
                "a b/c.html",
                entry(0xab, -1_000_000_001, Some(source), None),
            ),
            ("z", entry(2, 0, None, Some(u128::MAX))),
        ];
        let mut b = Builder::default();
        for (path, e) in &files {
            assert!(b.add(path, e, Placed::Kept));
        }
        b.add_lookups("page.html", &["i:LU-0".into()]);
        b.add_lookups("gone.html", &["i:LU-9".into()]);
        // The last lookups remembered for a page are its own.
        b.add_lookups("page.html", &["i:LU-1".into(), "c:abc\t\"x".into()]);
        let m = b.finish(&dir.path().join("public")).unwrap();
        m.save(&file).unwrap();

        let back = Manifest::load(&file, &dir.path().join("public"));
        assert_eq!(back.len(), 3);
        let mut sorted = files.to_vec();
        sorted.sort_by_key(|f| f.0);
        assert_eq!(back.files().collect::<Vec<_>>(), sorted);
        for (path, e) in &files {
            assert_eq!(back.get(path), Some(*e), "{path}");
        }
        assert_eq!(back.get("a"), None);
        assert!(!back.contains("gone.html"));
        assert_eq!(
            back.lookups("page.html").unwrap(),
            vec!["i:LU-1".to_string(), "c:abc\t\"x".to_string()]
        );
        assert_eq!(back.lookups("z"), None);
        assert!(Manifest::load(&file, &dir.path().join("other")).is_empty());
        std::fs::write(&file, "hindsight manifest 4\nx\nbroken").unwrap();
        assert!(Manifest::load(&file, Path::new("x")).is_empty());
    }

    #[test]
    fn files_still_as_recorded_are_known_by_row_and_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("public");
        for folder in ["a", "c", "d", "many"] {
            std::fs::create_dir_all(site.join(folder)).unwrap();
        }
        // More files in one folder than one thread's share of the pass (512).
        let many: Vec<String> = (0..600).map(|i| format!("many/{i:03}")).collect();
        let mut b = Builder::default();
        let paths = [
            "a/kept", "a/edited", "a/gone", "b", "folder", "c/alone", "d/x", "d/y",
        ];
        for path in paths.into_iter().chain(many.iter().map(String::as_str)) {
            let file = site.join(path);
            std::fs::write(&file, "abc").unwrap();
            let entry = Entry {
                stat: Stat::read(&file).unwrap(),
                ..entry(1, 0, None, None)
            };
            assert!(b.add(path, &entry, Placed::Kept));
        }
        let m = b.finish(&site).unwrap();
        // Edited in place (another size), removed, replaced by a folder.
        std::fs::write(site.join("a/edited"), "abcd").unwrap();
        std::fs::remove_file(site.join("a/gone")).unwrap();
        std::fs::remove_file(site.join("folder")).unwrap();
        std::fs::create_dir(site.join("folder")).unwrap();
        // A folder replaced by a file; one file of many edited.
        std::fs::remove_dir_all(site.join("d")).unwrap();
        std::fs::write(site.join("d"), "abc").unwrap();
        std::fs::write(site.join("many/550"), "abcd").unwrap();

        let still = m.still_as_recorded(&site);
        let by_path = |path: &str| still[m.get_row(path).unwrap().0];
        assert!(by_path("a/kept"));
        assert!(by_path("b"));
        assert!(by_path("c/alone"), "a file alone in its folder");
        assert!(!by_path("a/edited"));
        assert!(!by_path("a/gone"));
        assert!(!by_path("folder"));
        assert!(
            !by_path("d/x") && !by_path("d/y"),
            "their folder is a file now"
        );
        for path in &many {
            assert_eq!(by_path(path), path != "many/550", "{path}");
        }
        let under: Vec<(usize, &str)> = m.rows_under("a/").map(|(r, p, _)| (r, p)).collect();
        assert_eq!(
            under,
            [(0, "a/edited"), (1, "a/gone"), (2, "a/kept")],
            "rows in path order"
        );
        assert_eq!(m.rows_under("e").count(), 0);
        assert_eq!(m.get_row("a/kept").unwrap().1, m.get("a/kept").unwrap());
    }

    #[test]
    fn a_path_is_added_once_and_files_come_out_sorted_while_they_are_added() {
        let mut b = Builder::default();
        assert!(b.add("b", &entry(2, 1, None, None), Placed::Staged));
        assert!(b.add("a", &entry(1, 1, None, None), Placed::Kept));
        assert!(
            !b.add("b", &entry(3, 1, None, None), Placed::Staged),
            "one path twice"
        );
        let names = |b: &mut Builder| b.files().map(|f| f.0.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&mut b), ["a", "b"]);
        assert!(b.add("0", &entry(4, 1, None, None), Placed::StagedShared));
        assert_eq!(names(&mut b), ["0", "a", "b"]);
        assert_eq!(b.files().nth(1).map(|f| *f.1), Some([1; 32]));
        let m = b.finish(Path::new("/out")).unwrap();
        assert_eq!(m.staged().collect::<Vec<_>>(), ["0", "b"]);
        assert_eq!(
            m.get("b").unwrap().stat.mtime,
            1,
            "the flag is not part of the time"
        );
    }

    #[test]
    fn shared_staged_files_from_the_sharing_size_are_found_by_content() {
        let mut b = Builder::sharing(3);
        let small = Entry {
            stat: Stat {
                size: 2,
                ino: 1,
                mtime: 1,
            },
            ..entry(9, 1, None, None)
        };
        b.add("small", &small, Placed::StagedShared);
        b.add("kept", &entry(1, 1, None, None), Placed::Kept);
        b.add("page", &entry(3, 1, None, None), Placed::Staged);
        b.add("first", &entry(2, 1, None, None), Placed::StagedShared);
        b.add("second", &entry(2, 1, None, None), Placed::StagedShared);
        assert_eq!(b.staged_with(&[9; 32]), None, "below the sharing size");
        assert_eq!(b.staged_with(&[1; 32]), None, "not staged");
        assert_eq!(b.staged_with(&[3; 32]), None, "not to be shared");
        assert_eq!(b.staged_with(&[2; 32]), Some("first"));
    }

    #[test]
    fn a_time_beyond_the_packing_is_kept_as_another_so_the_file_is_compared() {
        let far = entry(1, i128::MAX, None, None);
        let mut b = Builder::default();
        assert!(b.add("far", &far, Placed::Staged));
        let m = b.finish(Path::new("/out")).unwrap();
        assert_eq!(m.staged().collect::<Vec<_>>(), ["far"], "still staged");
        let back = m.get("far").unwrap();
        assert_eq!(back.sha256, far.sha256);
        assert_ne!(back.stat, far.stat);
    }

    #[test]
    fn a_manifest_file_damaged_or_naming_one_path_twice_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m");
        let mut b = Builder::default();
        b.add("x.html", &entry(1, 5, None, None), Placed::Kept);
        b.add("y.html", &entry(2, 5, None, None), Placed::Staged);
        b.finish(Path::new("/out")).unwrap().save(&file).unwrap();
        let good = std::fs::read(&file).unwrap();
        let back = Manifest::load(&file, Path::new("/out"));
        assert_eq!(back.len(), 2);
        assert_eq!(
            back.staged().count(),
            0,
            "a saved manifest holds no staging"
        );
        // With its checksum made again, a file naming `x.html` twice is read, and refused.
        let at = good.windows(6).position(|w| w == b"y.html").unwrap();
        let mut twice = good.clone();
        twice[at] = b'x';
        let body = twice.len() - 8;
        let sum = xxhash_rust::xxh3::xxh3_64(&twice[MAGIC.len()..body]);
        twice[body..].copy_from_slice(&sum.to_le_bytes());
        std::fs::write(&file, &twice).unwrap();
        assert!(Manifest::load(&file, Path::new("/out")).is_empty());
        // A byte changed, a file cut short, another format: not read.
        let mut flipped = good.clone();
        flipped[at + 1] ^= 1;
        for bad in [
            flipped,
            good[..good.len() - 1].to_vec(),
            b"hindsight manifest 3\n".to_vec(),
        ] {
            std::fs::write(&file, &bad).unwrap();
            assert!(Manifest::load(&file, Path::new("/out")).is_empty());
        }
        std::fs::write(&file, &good).unwrap();
        assert_eq!(Manifest::load(&file, Path::new("/out")).len(), 2);
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xfe, 0xff].repeat(8);
        let text = hex(&bytes);
        assert_eq!(&text[..8], "0001feff");
        assert_eq!(unhex(&text).unwrap().to_vec(), bytes);
        assert!(unhex("zz").is_none());
        assert!(unhex(&format!("{}g", &text[..63])).is_none());
        assert_eq!(unhex(&text.to_uppercase()).unwrap().to_vec(), bytes);
        // A page's digest is written as `{:032x}` writes it.
        for d in [0u128, 1, 0xfeed << 64, u128::MAX] {
            assert_eq!(hex(&d.to_be_bytes()), format!("{d:032x}"));
        }
    }

    #[test]
    fn a_builder_made_like_a_site_takes_that_site_without_growing() {
        let mut site = Builder::default();
        for i in 0..1000 {
            let path = format!("issues/LU/{i}/LU-{i}.html");
            assert!(site.add(&path, &entry(1, i, None, Some(7)), Placed::Kept));
            site.add_lookups(&path, &[format!("i:LU-{}", i + 1), "u:jdoe".to_string()]);
        }
        let site = site.finish(Path::new("public")).unwrap();
        let mut b = Builder::default();
        b.reserve_like(&site);
        let capacities = |b: &Builder| (b.text.capacity(), b.rows.capacity(), b.lookups.capacity());
        let before = capacities(&b);
        for (row, path, e) in site.rows_under("") {
            assert!(b.add(path, &e, Placed::Kept));
            if let Some(json) = site.lookups_json(path) {
                b.add_lookups_json(path, json);
            }
            assert!(row < site.len());
        }
        assert_eq!(capacities(&b), before, "no table grew");
        let again = b.finish(Path::new("public")).unwrap();
        assert_eq!(again.len(), site.len());
        assert_eq!(
            again.lookups("issues/LU/5/LU-5.html"),
            site.lookups("issues/LU/5/LU-5.html")
        );
    }
}
