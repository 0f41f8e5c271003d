//! What import remembers of each export file, so that a rebuild parses only the files whose
//! bytes changed.
//!
//! A nightly harvest rewrites a few export files and leaves the rest as they were; parsing
//! every file again (and writing every issue into a new store) cost as much as the first
//! import. Import therefore keeps, beside the issues in the store and in the same
//! transactions, a ledger per file: the hash of its bytes, and everything admission derived
//! from it that the build needs besides the issues (which issues it held and whether each was
//! kept, the people it named, its warnings, what it withheld). The next import hashes every
//! file; the issues of files with the same bytes stay in the store as they are, those of
//! changed and removed files are taken out, and only changed and new files are parsed.
//!
//! The result is the store and report a fresh import gives, by construction:
//!
//! - The ledgers are only trusted under the same [`Stamp`] (program and the configuration
//!   import reads), which is cleared before an import changes anything and set by the
//!   transaction that completes it, so a failed or killed import leaves no ledger behind.
//! - Reuse needs the last import to have merged no duplicate copies: each kept issue then came
//!   from exactly one file, so taking out a changed file's issues never uncovers an older
//!   copy in an unchanged file that the store does not hold. A duplicate between a parsed
//!   file and an unchanged one is merged by the store as a fresh import merges it (the
//!   unchanged copy is the one stored), and the next import is a fresh one again.
//! - Counts and people are sums and minimums over files, so their order does not matter.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::{ImportReport, Warning};
use crate::config::Config;
use crate::error::{Error, Result};

/// What a ledger is only valid under: the program that made it and the configuration that
/// import reads (trackers, published projects, whether addresses are shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// [`crate::fingerprint::program`], in hex.
    pub program: String,
    /// A hash of the configuration import reads, in hex.
    pub config: String,
}

impl Stamp {
    /// The stamp of an import of `config` by the program `program`.
    pub fn of(config: &Config, program: u128) -> Stamp {
        let mut h = Xxh3::new();
        let text = format!(
            "{:?}\0{:?}\0{}",
            config.trackers, config.projects, config.show_emails
        );
        h.write(text.as_bytes());
        Stamp {
            program: format!("{program:032x}"),
            config: format!("{:032x}", h.digest128()),
        }
    }
}

/// One issue record a file held, as admission left it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The tracker's name ([`crate::model::Issue::source`]).
    pub source: String,
    /// Its id in the tracker.
    pub id: String,
    /// Its key.
    pub key: String,
    /// Whether admission kept it (false: restricted, or of an unpublished project).
    pub kept: bool,
    /// Comments kept.
    pub comments: usize,
}

/// What admission withheld from a file: counted into the report, and the reason a file is
/// never copied into the published backup as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withheld {
    /// Restricted issues.
    pub issues: usize,
    /// Restricted comments of kept issues.
    pub comments: usize,
    /// Restricted attachments of kept issues.
    pub attachments: usize,
    /// Restricted worklogs of kept issues.
    pub worklogs: usize,
    /// Issues of projects the config does not publish, per project.
    pub unpublished: BTreeMap<String, usize>,
}

impl Withheld {
    /// Whether anything was withheld.
    pub fn any(&self) -> bool {
        self.issues + self.comments + self.attachments + self.worklogs > 0
            || self.unpublished.values().any(|n| *n > 0)
    }

    /// Adds `other`'s counts to these.
    pub fn absorb(&mut self, other: Withheld) {
        self.issues += other.issues;
        self.comments += other.comments;
        self.attachments += other.attachments;
        self.worklogs += other.worklogs;
        for (project, n) in other.unpublished {
            *self.unpublished.entry(project).or_default() += n;
        }
    }

    /// Adds these counts to `report`'s.
    pub fn add_to(&self, report: &mut ImportReport) {
        report.restricted_issues += self.issues;
        report.restricted_comments += self.comments;
        report.restricted_attachments += self.attachments;
        report.restricted_worklogs += self.worklogs;
        for (project, n) in &self.unpublished {
            *report.unpublished.entry(project.clone()).or_default() += n;
        }
    }
}

/// Everything import derived from one export file besides the issues it stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLedger {
    /// The hash of the file's bytes, in hex ([`file_hash`]).
    pub hash: String,
    /// Its issue records in file order, duplicates and dropped ones included.
    pub held: Vec<Held>,
    /// The people it named, as admitted (login, display name; addresses masked unless shown).
    pub people: Vec<(String, String)>,
    /// Its warnings.
    pub warnings: Vec<Warning>,
    /// What admission withheld from it.
    pub withheld: Withheld,
}

/// The key a file's ledger is kept under: its tracker's place in the config and its path
/// (one file may be read by two trackers).
pub fn key(tracker: usize, path: &Path) -> Vec<u8> {
    let mut key = tracker.to_string().into_bytes();
    key.push(0);
    key.extend_from_slice(path.as_os_str().as_encoded_bytes());
    key
}

/// The path of the file a [`key`] names, as messages show it (`Path::display`).
pub fn shown_path(key: &[u8]) -> String {
    let path = key.splitn(2, |b| *b == 0).nth(1).unwrap_or_default();
    String::from_utf8_lossy(path).into_owned()
}

/// What a file's stat says of its bytes without reading them: size, modification and change
/// times (seconds and nanoseconds), inode. The up-to-date check trusts the same.
pub type FileStat = (u64, i64, i64, i64, i64, u64);

/// The stat of the file at `path`, if it has one.
pub fn file_stat(path: &Path) -> Option<FileStat> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
        m.ino(),
    ))
}

/// The hashes of export files as import last found them, by file key ([`key`]) with the
/// file's stat then: a file whose stat is the same has the same bytes, and is not read to be
/// hashed again.
#[derive(Debug, Default)]
pub struct KnownHashes(std::collections::HashMap<Vec<u8>, (FileStat, String)>);

impl KnownHashes {
    /// What [`KnownHashes::encode`] wrote (nothing known from anything else).
    pub fn decode(bytes: Option<&[u8]>) -> KnownHashes {
        let rows: Vec<(String, FileStat, String)> = bytes.and_then(decode).unwrap_or_default();
        KnownHashes(
            rows.into_iter()
                .filter_map(|(key, stat, hash)| Some((from_hex(&key)?, (stat, hash))))
                .collect(),
        )
    }

    /// The files' keys, stats and hashes, for the store.
    pub fn encode(rows: impl Iterator<Item = (Vec<u8>, FileStat, String)>) -> Option<Vec<u8>> {
        let rows: Vec<(String, FileStat, String)> = rows
            .map(|(key, stat, hash)| (key.iter().map(|b| format!("{b:02x}")).collect(), stat, hash))
            .collect();
        encode(&rows)
    }

    /// The hash of the file `key` at `path`, and its stat before it was read: the one known
    /// when the stat is the one it was known with, else its bytes hashed.
    pub fn hash(&self, key: &[u8], path: &Path) -> Result<(Option<FileStat>, String)> {
        let stat = file_stat(path);
        match (stat, self.0.get(key)) {
            (Some(now), Some((then, hash))) if now == *then => Ok((stat, hash.clone())),
            _ => Ok((stat, file_hash(path)?)),
        }
    }
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    hex.len()
        .is_multiple_of(2)
        .then(|| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// The hash of a file's bytes (xxh3, 128 bits, in hex), read in blocks.
pub fn file_hash(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

/// Encodes a ledger or stamp for the store (`None` when it cannot be: a path that is not
/// UTF-8 in a warning; the import is then not reused next time).
pub fn encode<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    serde_json::to_vec(value).ok()
}

/// Decodes what [`encode`] wrote (`None` for anything else: the ledger is then not trusted).
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_file_as_messages_show_it() {
        let path = Path::new("exports/jira/LU-page-0.xml");
        assert_eq!(shown_path(&key(12, path)), path.display().to_string());
    }

    #[test]
    fn a_file_whose_stat_is_the_one_recorded_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.xml");
        std::fs::write(&a, "<rss/>").unwrap();
        let key = key(0, &a);
        let (stat, hash) = KnownHashes::default().hash(&key, &a).unwrap();
        assert_eq!(hash, file_hash(&a).unwrap());
        // What was recorded for this stat is what it is taken to hold (here, a hash no bytes
        // give: proof the file was not read).
        let rows = [(key.clone(), stat.unwrap(), "recorded".to_string())];
        let known = KnownHashes::decode(KnownHashes::encode(rows.into_iter()).as_deref());
        assert_eq!(known.hash(&key, &a).unwrap().1, "recorded");
        assert_eq!(known.hash(&super::key(1, &a), &a).unwrap().1, hash);
        // The file written again: its stat moved, its bytes are read.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&a, "<rss></rss>").unwrap();
        assert_eq!(known.hash(&key, &a).unwrap().1, file_hash(&a).unwrap());
        // Anything else recorded: nothing known.
        assert!(KnownHashes::decode(Some(b"not json")).0.is_empty());
    }

    #[test]
    fn a_file_hash_follows_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.xml");
        std::fs::write(&a, vec![7u8; 3 << 20]).unwrap();
        let first = file_hash(&a).unwrap();
        std::fs::write(&a, vec![7u8; 3 << 20]).unwrap();
        assert_eq!(file_hash(&a).unwrap(), first, "same bytes rewritten");
        let mut other = vec![7u8; 3 << 20];
        other[2 << 20] = 8;
        std::fs::write(&a, other).unwrap();
        assert_ne!(file_hash(&a).unwrap(), first);
        assert!(file_hash(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn a_stamp_names_the_program_and_the_configuration_import_reads() {
        let base = |extra: &str| {
            let text = format!("title = \"a\"\n{extra}\n[[tracker]]\npaths = [\"x/*.xml\"]\n");
            Config::parse(&text, Path::new("site/hindsight.toml")).unwrap()
        };
        let config = base("");
        let stamp = Stamp::of(&config, 1);
        assert_eq!(stamp, Stamp::of(&config, 1));
        assert_ne!(stamp, Stamp::of(&config, 2));
        assert_ne!(stamp, Stamp::of(&base("show_emails = true"), 1));
        assert_ne!(stamp, Stamp::of(&base("projects = [\"LU\"]"), 1));
        let titled = Config {
            title: "another title".into(),
            ..config.clone()
        };
        assert_eq!(stamp, Stamp::of(&titled, 1), "the title is not import's");
    }

    #[test]
    fn withheld_counts_add_up_and_say_whether_anything_was() {
        let mut report = ImportReport::default();
        let none = Withheld::default();
        assert!(!none.any());
        let some = Withheld {
            comments: 2,
            unpublished: [("X".to_string(), 3)].into(),
            ..Default::default()
        };
        assert!(some.any());
        some.add_to(&mut report);
        some.add_to(&mut report);
        assert_eq!(report.restricted_comments, 4);
        assert_eq!(report.unpublished["X"], 6);
    }
}
