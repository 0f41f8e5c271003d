//! Positions in export files, shared by the importers: byte offsets taken while parsing become
//! 1-based line and column (the column counted in characters) only when a warning or an error
//! needs one, by reading the file again.
//!
//! Offsets are counted after a leading UTF-8 byte order mark, as quick-xml counts them and as
//! the JSON importers read (they skip it before parsing). The JSON importers count the bytes
//! serde_json takes from the file with [`Counting`]; serde_json reads one byte at a time and
//! peeks at most one byte ahead, so the count taken inside a visitor is exact.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::bugzilla_xml::Utf8Repair;
use super::Warning;
use crate::error::Error;

/// Turns byte offsets into line and column by reading the file again. Requests usually come in
/// increasing order, so the reading continues where it stopped; an earlier offset starts it
/// over. With `repair`, the file is read through [`Utf8Repair`] as the Bugzilla XML parser read
/// it, so offsets match and a byte read as Windows-1252 counts as one character.
pub(crate) struct Positions {
    path: PathBuf,
    repair: bool,
    file: Option<BufReader<Utf8Repair<File>>>,
    /// Length of the byte order mark skipped at the start.
    bom: u64,
    offset: u64,
    line: u64,
    column: u64,
}

impl Positions {
    pub(crate) fn new(path: &Path, repair: bool) -> Self {
        Positions {
            path: path.to_path_buf(),
            repair,
            file: None,
            bom: 0,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A fatal parse error at byte `at` (line and column at least 1).
    pub(crate) fn error(&mut self, at: u64, key: Option<String>, message: String) -> Error {
        let (line, column) = self.line_column(at);
        Error::Parse {
            path: self.path.clone(),
            line: line.max(1),
            column: column.max(1),
            key,
            message,
        }
    }

    /// A warning at byte `at` (line and column 0 if the file cannot be read again).
    pub(crate) fn warning(&mut self, at: u64, key: Option<String>, message: String) -> Warning {
        let (line, column) = self.line_column(at);
        Warning {
            path: self.path.clone(),
            line,
            column,
            key,
            message,
        }
    }

    fn restart(&mut self) -> bool {
        let Ok(file) = File::open(&self.path) else {
            return false;
        };
        let file = if self.repair {
            Utf8Repair::new(file, None)
        } else {
            Utf8Repair::passthrough(file)
        };
        let mut file = BufReader::with_capacity(64 * 1024, file);
        self.bom = match file.fill_buf() {
            Ok(head) if head.starts_with(b"\xEF\xBB\xBF") => 3,
            Ok(_) => 0,
            Err(_) => return false,
        };
        file.consume(self.bom as usize);
        self.file = Some(file);
        self.offset = 0;
        self.line = 1;
        self.column = 1;
        true
    }

    /// 1-based line and column (in characters) of `target`; (0, 0) if the file cannot be read.
    pub(crate) fn line_column(&mut self, target: u64) -> (u64, u64) {
        if (self.file.is_none() || target < self.offset) && !self.restart() {
            return (0, 0);
        }
        let Some(file) = self.file.as_mut() else {
            return (0, 0);
        };
        while self.offset < target {
            let chunk = match file.fill_buf() {
                Ok(c) if !c.is_empty() => c,
                _ => break,
            };
            let n = chunk.len().min((target - self.offset) as usize);
            for &b in &chunk[..n] {
                if b == b'\n' {
                    self.line += 1;
                    self.column = 1;
                } else if b & 0xC0 != 0x80 {
                    // Not a UTF-8 continuation byte: a new character.
                    self.column += 1;
                }
            }
            file.consume(n);
            self.offset += n as u64;
        }
        (self.line, self.column)
    }

    /// A warning about the JSON value or member at (or just after) byte `at`: white space,
    /// commas and colons before it are skipped (a count taken between two values can stop
    /// before the separator).
    pub(crate) fn json_warning(
        &mut self,
        at: u64,
        key: Option<String>,
        message: String,
    ) -> Warning {
        let at = skip_separators(&self.path, at);
        self.warning(at, key, message)
    }

    /// The offset of the first byte that is not valid UTF-8 in `start..end`, and that byte.
    pub(crate) fn first_invalid_utf8(&mut self, start: u64, end: u64) -> (u64, Option<u8>) {
        const MAX: u64 = 64 << 20;
        if self.file.is_none() && !self.restart() {
            return (start, None);
        }
        let read = || -> std::io::Result<Vec<u8>> {
            let mut f = File::open(&self.path)?;
            f.seek(SeekFrom::Start(self.bom + start))?;
            let mut bytes = Vec::new();
            f.take(end.saturating_sub(start).min(MAX))
                .read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        match read() {
            Ok(bytes) => match std::str::from_utf8(&bytes) {
                Ok(_) => (start, None),
                Err(e) => (
                    start + e.valid_up_to() as u64,
                    bytes.get(e.valid_up_to()).copied(),
                ),
            },
            Err(_) => (start, None),
        }
    }
}

/// The length of the UTF-8 byte order mark `path` starts with (0 or 3).
fn bom_len(path: &Path) -> u64 {
    let mut head = [0u8; 3];
    match File::open(path).and_then(|mut f| f.read_exact(&mut head)) {
        Ok(()) if head == *b"\xEF\xBB\xBF" => 3,
        _ => 0,
    }
}

/// Counts the bytes a parser has taken from a reader, for positions of warnings.
pub(crate) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counting<R> {
    /// `inner`, counted into the returned cell (which starts at 0).
    pub(crate) fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Counting {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Moves `at` past white space, commas and colons, to the start of the value that follows.
fn skip_separators(path: &Path, at: u64) -> u64 {
    let read = || -> std::io::Result<u64> {
        let mut f = File::open(path)?;
        f.seek(SeekFrom::Start(bom_len(path) + at))?;
        let mut f = BufReader::new(f.take(1 << 20));
        let mut skipped = 0u64;
        loop {
            let buf = f.fill_buf()?;
            if buf.is_empty() {
                return Ok(skipped);
            }
            let n = buf
                .iter()
                .take_while(|b| b.is_ascii_whitespace() || **b == b',' || **b == b':')
                .count();
            skipped += n as u64;
            if n < buf.len() {
                return Ok(skipped);
            }
            let len = buf.len();
            f.consume(len);
        }
    };
    at + read().unwrap_or(0)
}

/// The character column of serde_json's byte column `byte_column` on 1-based `line` (serde_json
/// counts bytes, and its column is that of the last byte read). A byte order mark is not
/// counted.
pub(crate) fn char_column(path: &Path, line: u64, byte_column: u64) -> u64 {
    let read = || -> std::io::Result<u64> {
        let mut f = BufReader::new(File::open(path)?);
        f.consume(bom_len(path) as usize);
        let mut current = 1;
        let mut buf = Vec::new();
        while current < line {
            buf.clear();
            if f.read_until(b'\n', &mut buf)? == 0 {
                return Ok(byte_column);
            }
            current += 1;
        }
        let mut bytes = vec![0u8; byte_column.min(1 << 20) as usize];
        let mut more = 0;
        while more < bytes.len() {
            let m = f.read(&mut bytes[more..])?;
            if m == 0 {
                break;
            }
            more += m;
        }
        let bytes = &bytes[..more];
        Ok(bytes.iter().filter(|b| **b & 0xC0 != 0x80).count() as u64)
    };
    read().unwrap_or(byte_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let f = file("ab\né😀x\ny".as_bytes());
        let mut p = Positions::new(f.path(), false);
        assert_eq!(p.line_column(0), (1, 1));
        assert_eq!(p.line_column(3), (2, 1));
        // é is two bytes and 😀 four: x is the third character.
        assert_eq!(p.line_column(9), (2, 3));
        // An earlier offset starts over.
        assert_eq!(p.line_column(1), (1, 2));
        assert_eq!(p.line_column(11), (3, 1));
    }

    #[test]
    fn a_byte_order_mark_is_not_counted() {
        let f = file(b"\xEF\xBB\xBF[\n  ,{\"a\": 1}]");
        let mut p = Positions::new(f.path(), false);
        assert_eq!(p.line_column(1), (1, 2));
        // From just after `[`: the object's `{` on line 2.
        let w = p.json_warning(1, None, String::new());
        assert_eq!((w.line, w.column), (2, 4));
        assert_eq!(char_column(f.path(), 1, 1), 1);
    }

    #[test]
    fn json_error_columns_count_characters() {
        let f = file("{\"é\": x}".as_bytes());
        // serde_json reports byte column 8 for the `x`.
        assert_eq!(char_column(f.path(), 1, 8), 7);
    }

    #[test]
    fn counting_counts_what_was_read() {
        let (mut r, count) = Counting::new(&b"hello"[..]);
        let mut buf = [0u8; 3];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(count.get(), 3);
    }
}
