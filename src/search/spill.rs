//! What the in-memory index ([`super::index`]) keeps on disk so that its memory stays within a
//! budget however large the archive: the documents' records and texts (the largest part of a
//! big archive, and read once, when the export writes them), and sorted runs of the term map,
//! written each time it outgrows its budget and merged back, term by term, when the
//! dictionary is written.
//!
//! Everything lives in one folder the caller names (in the build cache), made empty when the
//! index starts and removed when it is dropped; or, for the index kept between builds
//! ([`super::state`]), in the kept index's folder, where runs and records stay. The format is
//! this module's alone.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The folder the index spills into; removed with everything in it when dropped, unless it is
/// the kept index's ([`SpillDir::keep`]).
pub(crate) struct SpillDir {
    path: PathBuf,
    runs: usize,
    keep: bool,
}

impl SpillDir {
    /// Makes `path` an empty folder (what a killed build left there is removed).
    pub fn create(path: &Path) -> Result<SpillDir> {
        remove_dir(path)?;
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        Ok(SpillDir {
            path: path.to_path_buf(),
            runs: 0,
            keep: false,
        })
    }

    /// The kept index's folder `path` (made if missing), whose runs outlive the build: nothing
    /// in it is removed, and runs are numbered from `next` on (`run-<n>`).
    pub fn keep(path: &Path, next: usize) -> Result<SpillDir> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        Ok(SpillDir {
            path: path.to_path_buf(),
            runs: next.saturating_sub(1),
            keep: true,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number the next run written will have.
    pub fn next_run(&self) -> usize {
        self.runs + 1
    }

    fn file(&self, name: &str) -> Result<(File, PathBuf)> {
        let path = self.path.join(name);
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok((file, path))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        // Nothing reads it again; a folder that cannot be removed is cleared by the next build.
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes the folder `path` and everything in it, if it is there.
pub(crate) fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Appends `v` to `out` as a LEB128 number.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `s` with its length first.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Reads back what [`put_varint`] and [`put_str`] wrote. The bytes are this build's own, so a
/// malformed record is a bug or a damaged disk: it is reported as the spill file's error.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// The next number.
    pub fn varint(&mut self) -> std::result::Result<u64, Damaged> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = *self.bytes.get(self.at).ok_or(Damaged)?;
            self.at += 1;
            if shift > 63 {
                return Err(Damaged);
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// The next byte.
    pub fn byte(&mut self) -> std::result::Result<u8, Damaged> {
        let b = *self.bytes.get(self.at).ok_or(Damaged)?;
        self.at += 1;
        Ok(b)
    }

    /// The next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], Damaged> {
        let end = self.at.checked_add(N).ok_or(Damaged)?;
        let a = self.bytes.get(self.at..end).ok_or(Damaged)?;
        self.at = end;
        Ok(a.try_into().expect("N bytes"))
    }

    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// The next string.
    pub fn str(&mut self) -> std::result::Result<&'a str, Damaged> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Damaged)
    }

    /// The next string's bytes, not checked as UTF-8.
    pub fn bytes(&mut self) -> std::result::Result<&'a [u8], Damaged> {
        let len = usize::try_from(self.varint()?).map_err(|_| Damaged)?;
        let end = self.at.checked_add(len).ok_or(Damaged)?;
        let s = self.bytes.get(self.at..end).ok_or(Damaged)?;
        self.at = end;
        Ok(s)
    }
}

/// A spilled record that does not read back as it was written.
#[derive(Debug)]
pub(crate) struct Damaged;

pub(crate) fn damaged(path: &Path) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a record of the search index's spill file does not read back",
        ),
    )
}

/// Records appended one after another and read back by their place: in memory up to a limit,
/// then flushed to a file in the spill folder (when there is one), so that only the last
/// `limit` bytes stay in memory.
pub(crate) struct Records {
    buf: Vec<u8>,
    /// Bytes before `buf` (in the file).
    flushed: u64,
    file: Option<(File, PathBuf)>,
    limit: usize,
}

/// Where a record is: its offset and length.
pub(crate) type Place = (u64, u32);

impl Records {
    /// Records kept in memory until they reach `limit` bytes, then moved to a file in the
    /// spill folder given to [`Records::push`] (all in memory without one).
    pub fn new(limit: usize) -> Records {
        Records {
            buf: Vec::new(),
            flushed: 0,
            file: None,
            limit,
        }
    }

    /// Records appended to the file `path`, whose first `len` bytes are records already (the
    /// kept index's: anything past them, which a killed build appended, is cut off).
    pub fn open(path: &Path, len: u64, limit: usize) -> Result<Records> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .and_then(|f| f.set_len(len).map(|()| f))
            .map_err(|e| Error::io(path, e))?;
        Ok(Records {
            buf: Vec::new(),
            flushed: len,
            file: Some((file, path.to_path_buf())),
            limit,
        })
    }

    /// Appends a record; where it is.
    pub fn push(&mut self, dir: Option<&SpillDir>, record: &[u8]) -> Result<Place> {
        let place = (
            self.flushed + self.buf.len() as u64,
            u32::try_from(record.len()).expect("a record is smaller than 4 GB"),
        );
        self.buf.extend_from_slice(record);
        if self.buf.len() >= self.limit {
            match (&self.file, dir) {
                (Some(_), _) => {}
                (None, Some(dir)) => self.file = Some(dir.file("records")?),
                (None, None) => return Ok(place),
            }
            self.flush()?;
        }
        Ok(place)
    }

    /// Writes the records still in memory to the file (there must be one); the file's length.
    pub fn flush(&mut self) -> Result<u64> {
        let (file, path) = self.file.as_ref().expect("records flushed have a file");
        file.write_all_at(&self.buf, self.flushed)
            .map_err(|e| Error::io(path, e))?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(self.flushed)
    }

    /// The record at `place`, into `out`.
    pub fn read(&self, (at, len): Place, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        let len = len as usize;
        if at >= self.flushed {
            let start = (at - self.flushed) as usize;
            out.extend_from_slice(&self.buf[start..start + len]);
            return Ok(());
        }
        let (file, path) = self.file.as_ref().expect("flushed bytes are in the file");
        out.resize(len, 0);
        file.read_exact_at(out, at).map_err(|e| Error::io(path, e))
    }
}

/// A term and its postings, as the index holds them ([`super::index`]'s term map).
pub(crate) type Posting = (Box<str>, Vec<u32>);

/// Writes `terms` (in code point order) as a sorted run file in `dir`; the run to merge.
#[cfg(test)]
pub(crate) fn write_run(dir: &mut SpillDir, terms: impl Iterator<Item = Posting>) -> Result<Run> {
    let mut terms = terms.map(Ok);
    write_run_from(dir, || terms.next().transpose())
}

/// Writes the terms `next` gives until `None` (a merge of runs, in code point order) as a
/// sorted run file in `dir`; the run to merge.
pub(crate) fn write_run_from(
    dir: &mut SpillDir,
    mut next: impl FnMut() -> Result<Option<Posting>>,
) -> Result<Run> {
    let mut w = RunWriter::new(dir)?;
    while let Some((name, postings)) = next()? {
        w.add(&name, &postings)?;
    }
    w.finish()
}

/// Appends a term and its postings to `out` as a run holds them: the record's length, then its
/// name and postings ([`RunWriter::add`]).
pub(crate) fn encode_record(out: &mut Vec<u8>, name: &str, postings: &[u32]) {
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    put_str(out, name);
    put_varint(out, postings.len() as u64);
    for &p in postings {
        put_varint(out, u64::from(p));
    }
    let len = u32::try_from(out.len() - len_at - 4).expect("a term's record is under 4 GB");
    out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
}

/// A run being written, term after term in code point order.
pub(crate) struct RunWriter {
    w: BufWriter<File>,
    path: PathBuf,
    rec: Vec<u8>,
    /// Bytes written so far: where the next term starts.
    at: u64,
}

impl RunWriter {
    /// The next run of `dir`.
    pub fn new(dir: &mut SpillDir) -> Result<RunWriter> {
        dir.runs += 1;
        let (file, path) = dir.file(&format!("run-{}", dir.runs))?;
        Ok(RunWriter {
            w: BufWriter::with_capacity(1 << 20, file),
            path,
            rec: Vec::new(),
            at: 0,
        })
    }

    /// Where the next term [`add`](Self::add)ed starts in the file (what [`Merge::skip_to`]
    /// seeks to).
    pub fn position(&self) -> u64 {
        self.at
    }

    /// Appends a term and its postings.
    pub fn add(&mut self, name: &str, postings: &[u32]) -> Result<()> {
        let mut rec = std::mem::take(&mut self.rec);
        rec.clear();
        encode_record(&mut rec, name, postings);
        let written = self.add_encoded(&rec);
        self.rec = rec;
        written
    }

    /// Appends records [`encode_record`] wrote, one after another (made on other threads).
    pub fn add_encoded(&mut self, records: &[u8]) -> Result<()> {
        self.at += records.len() as u64;
        self.w
            .write_all(records)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// The run written.
    pub fn finish(self) -> Result<Run> {
        let path = self.path;
        let file = self
            .w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        Ok(Run { file, path })
    }
}

/// The records of a run in `[from, to)` of its file, read at once: what asks only a few of
/// a stretch's terms for their postings ([`super::export`]'s probe of the last build's
/// leaves) reads the names of the others without decoding their postings.
pub(crate) struct RunStretch {
    bytes: Vec<u8>,
}

impl RunStretch {
    /// Reads `[from, to)` of the run file `file` (at `path`), which must start and end at
    /// records' boundaries ([`RunWriter::position`]), into `buf`'s room.
    pub fn read(file: &File, path: &Path, from: u64, to: u64, buf: Vec<u8>) -> Result<RunStretch> {
        let mut bytes = buf;
        let len = usize::try_from(to.saturating_sub(from)).map_err(|_| damaged(path))?;
        bytes.clear();
        bytes.resize(len, 0);
        file.read_exact_at(&mut bytes, from)
            .map_err(|e| Error::io(path, e))?;
        Ok(RunStretch { bytes })
    }

    /// Each record in order, until `each` says to stop (`false`): its term's name, as UTF-8
    /// bytes not checked (code point order is their order), and its postings, still encoded
    /// ([`Encoded::decode_into`]).
    pub fn each(
        &self,
        path: &Path,
        mut each: impl FnMut(&[u8], Encoded) -> Result<bool>,
    ) -> Result<()> {
        let mut rest = &self.bytes[..];
        while !rest.is_empty() {
            let (len, body) = rest.split_at_checked(4).ok_or_else(|| damaged(path))?;
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            let (rec, after) = body.split_at_checked(len).ok_or_else(|| damaged(path))?;
            let mut c = Cursor::new(rec);
            let name = c.bytes().map_err(|Damaged| damaged(path))?;
            if !each(name, Encoded { rest: c })? {
                break;
            }
            rest = after;
        }
        Ok(())
    }

    /// Its buffer, for the next stretch.
    pub fn into_buf(self) -> Vec<u8> {
        self.bytes
    }
}

/// A term's postings as a run holds them.
pub(crate) struct Encoded<'a> {
    rest: Cursor<'a>,
}

impl Encoded<'_> {
    /// Appends the postings to `out`.
    pub fn decode_into(mut self, out: &mut Vec<u32>) -> std::result::Result<(), Damaged> {
        let n = usize::try_from(self.rest.varint()?).map_err(|_| Damaged)?;
        out.reserve(n.min(self.rest.bytes.len()));
        for _ in 0..n {
            out.push(u32::try_from(self.rest.varint()?).map_err(|_| Damaged)?);
        }
        Ok(())
    }
}

/// A sorted run of the term map on disk.
pub(crate) struct Run {
    file: File,
    path: PathBuf,
}

impl Run {
    /// The run file at `path` (one the kept index wrote in an earlier build).
    pub fn open(path: &Path) -> Result<Run> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Run {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its size in bytes.
    pub fn len(&self) -> Result<u64> {
        let meta = self.file.metadata().map_err(|e| Error::io(&self.path, e))?;
        Ok(meta.len())
    }
}

/// Where the merge takes terms from: a run on disk, or the part of the term map still in
/// memory (the last, so its postings come after every run's).
enum Source {
    Disk {
        reader: BufReader<File>,
        path: PathBuf,
        rec: Vec<u8>,
        /// Where the next record starts.
        at: u64,
    },
    Memory(std::vec::IntoIter<Posting>),
}

impl Source {
    fn next(&mut self) -> Result<Option<Posting>> {
        let (reader, path, rec, at) = match self {
            Source::Memory(terms) => return Ok(terms.next()),
            Source::Disk {
                reader,
                path,
                rec,
                at,
            } => (reader, path, rec, at),
        };
        let mut len = [0u8; 4];
        match reader.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(Error::io(&*path, e)),
        }
        rec.resize(u32::from_le_bytes(len) as usize, 0);
        reader.read_exact(rec).map_err(|e| Error::io(&*path, e))?;
        *at += 4 + rec.len() as u64;
        let parse = || -> std::result::Result<Posting, Damaged> {
            let mut c = Cursor::new(rec);
            let name: Box<str> = c.str()?.into();
            let mut postings = Vec::new();
            Encoded { rest: c }.decode_into(&mut postings)?;
            Ok((name, postings))
        };
        parse().map(Some).map_err(|Damaged| damaged(path))
    }

    /// Where the next record starts (0 for the part in memory).
    fn at(&self) -> u64 {
        match self {
            Source::Disk { at, .. } => *at,
            Source::Memory(_) => 0,
        }
    }

    /// Goes on from the record at `to`, for a run on disk (false for the part in memory).
    fn seek(&mut self, to: u64) -> Result<bool> {
        let Source::Disk {
            reader, path, at, ..
        } = self
        else {
            return Ok(false);
        };
        std::io::Seek::seek(reader, std::io::SeekFrom::Start(to))
            .map_err(|e| Error::io(&*path, e))?;
        *at = to;
        Ok(true)
    }
}

/// Every term of the runs and of the part in memory, in code point order, each once: the
/// postings of a term held by several runs are joined in the runs' order, which is the order
/// documents were numbered in.
pub(crate) struct Merge {
    sources: Vec<Source>,
    /// The next term of each source, smallest first; ties go to the earlier source.
    heap: BinaryHeap<Reverse<(Box<str>, usize)>>,
    /// The postings of each source's term in the heap.
    pending: Vec<Vec<u32>>,
    /// Where the first source's term in the heap starts in its file (its end when it has
    /// none left).
    first_at: u64,
}

impl Merge {
    /// Merges `runs`, then `memory` (sorted).
    pub fn new(runs: Vec<Run>, memory: Vec<Posting>) -> Result<Merge> {
        let mut sources = Vec::with_capacity(runs.len() + 1);
        for Run { mut file, path } in runs {
            std::io::Seek::rewind(&mut file).map_err(|e| Error::io(&path, e))?;
            sources.push(Source::Disk {
                reader: BufReader::with_capacity(1 << 20, file),
                path,
                rec: Vec::new(),
                at: 0,
            });
        }
        sources.push(Source::Memory(memory.into_iter()));
        let mut merge = Merge {
            pending: vec![Vec::new(); sources.len()],
            sources,
            heap: BinaryHeap::new(),
            first_at: 0,
        };
        for i in 0..merge.sources.len() {
            merge.refill(i)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, i: usize) -> Result<()> {
        if i == 0 {
            self.first_at = self.sources[0].at();
        }
        if let Some((name, postings)) = self.sources[i].next()? {
            self.pending[i] = postings;
            self.heap.push(Reverse((name, i)));
        }
        Ok(())
    }

    /// The next term and its postings; `None` after the last.
    pub fn next_term(&mut self) -> Result<Option<Posting>> {
        let Some(Reverse((name, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let mut postings = std::mem::take(&mut self.pending[i]);
        self.refill(i)?;
        while let Some(Reverse((next, _))) = self.heap.peek() {
            if *next != name {
                break;
            }
            let Some(Reverse((_, j))) = self.heap.pop() else {
                break;
            };
            postings.append(&mut self.pending[j]);
            self.refill(j)?;
        }
        Ok(Some((name, postings)))
    }

    /// [`next_term`](Self::next_term), with where the first run's first term not before it
    /// starts in that run's file: the place [`skip_to`](Self::skip_to) may come back to.
    pub fn next_term_at(&mut self) -> Result<Option<(Posting, u64)>> {
        let at = self.first_at;
        Ok(self.next_term()?.map(|t| (t, at)))
    }

    /// Skips every term left: the merge ends.
    pub fn skip_rest(&mut self) {
        self.heap.clear();
    }

    /// Goes on from the term `name`: the first run (a run on disk) from its record at `at`
    /// (where [`next_term_at`](Self::next_term_at) said a term not before `name` started),
    /// every other source past its terms before `name`. The terms skipped are not merged.
    pub fn skip_to(&mut self, name: &str, at: u64) -> Result<()> {
        let sought = self.sources[0].seek(at)?;
        for Reverse((term, i)) in std::mem::take(&mut self.heap).into_vec() {
            if i == 0 && sought {
                continue;
            }
            if *term >= *name {
                self.heap.push(Reverse((term, i)));
                continue;
            }
            loop {
                match self.sources[i].next()? {
                    None => break,
                    Some((t, _)) if *t < *name => {}
                    Some((t, postings)) => {
                        self.pending[i] = postings;
                        self.heap.push(Reverse((t, i)));
                        break;
                    }
                }
            }
        }
        if sought {
            self.refill(0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_stretch_of_a_run_gives_its_records_from_where_the_writer_said() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = SpillDir::create(&tmp.path().join("spill")).unwrap();
        let mut w = RunWriter::new(&mut dir).unwrap();
        let terms: Vec<(String, Vec<u32>)> = (0..50)
            .map(|i| (format!("t{i:02}"), (0..i).map(|k| k * 300).collect()))
            .collect();
        let mut places = Vec::new();
        for (name, postings) in &terms {
            places.push(w.position());
            w.add(name, postings).unwrap();
        }
        let run = w.finish().unwrap();
        let end = run.len().unwrap();
        let file = File::open(run.path()).unwrap();
        // Records 10 to 19, each decoded.
        let stretch =
            RunStretch::read(&file, run.path(), places[10], places[20], Vec::new()).unwrap();
        let mut seen = Vec::new();
        stretch
            .each(run.path(), |name, encoded| {
                let mut postings = Vec::new();
                encoded.decode_into(&mut postings).unwrap();
                seen.push((String::from_utf8(name.to_vec()).unwrap(), postings));
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen, terms[10..20]);
        // To the end, stopping where told; the buffer is reused.
        let stretch =
            RunStretch::read(&file, run.path(), places[45], end, stretch.into_buf()).unwrap();
        let mut names = Vec::new();
        stretch
            .each(run.path(), |name, _| {
                names.push(name.to_vec());
                Ok(names.len() < 3)
            })
            .unwrap();
        assert_eq!(names, [b"t45".to_vec(), b"t46".to_vec(), b"t47".to_vec()]);
        // A stretch that does not end at a record's end is damaged, not misread.
        let cut = RunStretch::read(&file, run.path(), places[45], end - 1, Vec::new()).unwrap();
        assert!(cut.each(run.path(), |_, _| Ok(true)).is_err());
    }

    fn terms(v: &[(&str, &[u32])]) -> Vec<Posting> {
        v.iter().map(|(n, p)| ((*n).into(), p.to_vec())).collect()
    }

    /// The terms the merge has left.
    fn rest(m: &mut Merge) -> Vec<Posting> {
        std::iter::from_fn(|| m.next_term().unwrap()).collect()
    }

    #[test]
    fn runs_merge_in_term_order_with_postings_in_run_order() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = SpillDir::create(&tmp.path().join("spill")).unwrap();
        let a = write_run(
            &mut dir,
            terms(&[("a", &[0, 1]), ("c", &[1]), ("é", &[2, 300_000])]).into_iter(),
        )
        .unwrap();
        let b = write_run(&mut dir, terms(&[("b", &[5]), ("c", &[6, 7])]).into_iter()).unwrap();
        let mut m = Merge::new(vec![a, b], terms(&[("c", &[9]), ("d", &[10])])).unwrap();
        assert_eq!(
            rest(&mut m),
            terms(&[
                ("a", &[0, 1]),
                ("b", &[5]),
                ("c", &[1, 6, 7, 9]),
                ("d", &[10]),
                ("é", &[2, 300_000]),
            ])
        );
        let path = dir.path.clone();
        drop(dir);
        assert!(!path.exists(), "the spill folder is removed");
    }

    #[test]
    fn a_merge_goes_on_from_a_place_it_gave_skipping_what_lies_before() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dir = SpillDir::create(&tmp.path().join("spill")).unwrap();
        let names = ["a", "b", "c", "d", "e", "f"];
        let base: Vec<Posting> = (names.iter().enumerate())
            .map(|(i, n)| ((*n).into(), vec![i as u32, 1]))
            .collect();
        let base = write_run(&mut dir, base.into_iter()).unwrap();
        let delta = write_run(
            &mut dir,
            terms(&[("bb", &[9, 1]), ("c", &[9, 2]), ("ee", &[9, 3])]).into_iter(),
        )
        .unwrap();
        let memory = terms(&[("b", &[10, 1]), ("f", &[10, 2])]);
        // Where each term of the base run starts, as a full merge says.
        let mut m = Merge::new(vec![base, delta], memory.clone()).unwrap();
        let mut places = BTreeMap::new();
        while let Some(((name, _), at)) = m.next_term_at().unwrap() {
            places.insert(name.to_string(), at);
        }
        assert_eq!(places.len(), 8);
        // "bb" is not in the base run: its place is the next base term's ("c").
        assert_eq!(places["bb"], places["c"]);
        assert!(places["a"] == 0 && places["c"] < places["d"]);
        let reopen = |name| Run::open(&dir.path.join(name)).unwrap();
        let mut m = Merge::new(vec![reopen("run-1"), reopen("run-2")], memory).unwrap();
        assert_eq!(m.next_term().unwrap().unwrap().0.as_ref(), "a");
        // From "d": "b", "bb" and "c" of every source are skipped, the rest merged as before.
        m.skip_to("d", places["d"]).unwrap();
        assert_eq!(
            rest(&mut m),
            terms(&[
                ("d", &[3, 1]),
                ("e", &[4, 1]),
                ("ee", &[9, 3]),
                ("f", &[5, 1, 10, 2])
            ])
        );
        // Past the end.
        m.skip_rest();
        assert!(m.next_term().unwrap().is_none());
    }

    #[test]
    fn records_read_back_from_memory_and_from_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SpillDir::create(&tmp.path().join("spill")).unwrap();
        let mut r = Records::new(10);
        let words = ["alpha", "", "a longer record than the limit", "z", "ü"];
        let places: Vec<Place> = words
            .iter()
            .map(|w| r.push(Some(&dir), w.as_bytes()).unwrap())
            .collect();
        assert!(r.flushed >= 10, "past the limit, records go to the file");
        let mut out = Vec::new();
        for (w, p) in words.iter().zip(places) {
            r.read(p, &mut out).unwrap();
            assert_eq!(out, w.as_bytes());
        }
        // Without a folder everything stays in memory.
        let mut mem = Records::new(1);
        let p = mem.push(None, b"abc").unwrap();
        mem.read(p, &mut out).unwrap();
        assert_eq!(out, b"abc");
        assert!(mem.file.is_none());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        assert!(Cursor::new(&[0x80]).varint().is_err());
        assert!(Cursor::new(&[5, b'a']).str().is_err());
        assert!(Cursor::new(&[0xff; 12]).varint().is_err());
        let mut ok = Vec::new();
        put_str(&mut ok, "ïx");
        put_varint(&mut ok, 1 << 40);
        let mut c = Cursor::new(&ok);
        assert_eq!(c.str().unwrap(), "ïx");
        assert_eq!(c.varint().unwrap(), 1 << 40);
    }
}
