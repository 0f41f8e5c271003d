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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

    fn text(&self) -> String {
        format!("{}:{}:{}", self.size, self.ino, self.mtime)
    }

    fn parse(text: &str) -> Option<Stat> {
        let mut parts = text.split(':');
        let stat = Stat {
            size: parts.next()?.parse().ok()?,
            ino: parts.next()?.parse().ok()?,
            mtime: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stat)
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

/// Every file of a published site, by site path.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// The folder the site was published to (a manifest of another folder says nothing).
    pub output: PathBuf,
    /// Site path → entry.
    pub entries: HashMap<String, Entry>,
    /// Site path → what the page's texts looked up in the archive when it was rendered
    /// (`render::memo::Lookups`), for pages that have texts.
    pub lookups: HashMap<String, Vec<String>>,
}

const HEADER: &str = "hindsight manifest 3";

impl Manifest {
    /// The manifest kept in `file`, if it is there, readable and of the site at `output`;
    /// otherwise an empty one (the build then compares with the published files).
    pub fn load(file: &Path, output: &Path) -> Manifest {
        let empty = Manifest {
            output: output.to_path_buf(),
            ..Manifest::default()
        };
        let Ok(text) = std::fs::read_to_string(file) else {
            return empty;
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return empty;
        }
        if lines.next().map(PathBuf::from).as_deref() != Some(output) {
            return empty;
        }
        let mut entries = HashMap::new();
        let mut lookups = HashMap::new();
        for line in lines {
            match parse_line(line) {
                Some((path, entry, asked)) => {
                    if let Some(asked) = asked {
                        lookups.insert(path.to_string(), asked);
                    }
                    entries.insert(path.to_string(), entry);
                }
                None => return empty,
            }
        }
        Manifest {
            output: output.to_path_buf(),
            entries,
            lookups,
        }
    }

    /// Writes the manifest to `file` (atomically: a killed build leaves the old one or none).
    pub fn save(&self, file: &Path) -> Result<()> {
        let mut paths: Vec<&String> = self.entries.keys().collect();
        paths.sort();
        let mut out = String::with_capacity(paths.len() * 120);
        out.push_str(HEADER);
        out.push('\n');
        out.push_str(&self.output.to_string_lossy());
        out.push('\n');
        for path in paths {
            let e = &self.entries[path];
            out.push_str(&hex(&e.sha256));
            out.push('\t');
            out.push_str(&e.stat.text());
            out.push('\t');
            match &e.source {
                Some(s) => out.push_str(&s.text()),
                None => out.push('-'),
            }
            out.push('\t');
            match e.made_from {
                Some(d) => out.push_str(&format!("{d:032x}")),
                None => out.push('-'),
            }
            out.push('\t');
            // A JSON list of strings holds no tab or line break.
            match self.lookups.get(path) {
                Some(asked) => out.push_str(&serde_json::to_string(asked).unwrap_or_default()),
                None => out.push('-'),
            }
            out.push('\t');
            out.push_str(path);
            out.push('\n');
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        super::replace_file(file, out.as_bytes())
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

/// One line: path, entry, and the page's lookups when it has them.
fn parse_line(line: &str) -> Option<(&str, Entry, Option<Vec<String>>)> {
    let mut parts = line.splitn(6, '\t');
    let sha256 = unhex(parts.next()?)?;
    let stat = Stat::parse(parts.next()?)?;
    let source = match parts.next()? {
        "-" => None,
        s => Some(Stat::parse(s)?),
    };
    let made_from = match parts.next()? {
        "-" => None,
        d if d.len() == 32 => Some(u128::from_str_radix(d, 16).ok()?),
        _ => return None,
    };
    let lookups = match parts.next()? {
        "-" => None,
        list => Some(serde_json::from_str(list).ok()?),
    };
    let path = parts.next()?;
    Some((
        path,
        Entry {
            sha256,
            stat,
            source,
            made_from,
        },
        lookups,
    ))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The 32 bytes a 64-digit hexadecimal SHA-256 stands for.
pub fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_as_written_and_only_for_its_own_site() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m");
        let mut m = Manifest {
            output: dir.path().join("public"),
            ..Manifest::default()
        };
        m.lookups.insert(
            "page.html".into(),
            vec!["i:LU-1".into(), "c:abc\t\"x".into()],
        );
        let stat = Stat {
            size: 3,
            ino: 7,
            mtime: -5,
        };
        m.entries.insert(
            "a b/c.html".into(),
            Entry {
                sha256: [0xab; 32],
                stat,
                source: Some(stat),
                made_from: None,
            },
        );
        m.entries.insert(
            "page.html".into(),
            Entry {
                sha256: [0x01; 32],
                stat,
                source: None,
                made_from: Some(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
            },
        );
        m.save(&file).unwrap();
        let back = Manifest::load(&file, &dir.path().join("public"));
        assert_eq!(back.entries, m.entries);
        assert_eq!(back.lookups, m.lookups);
        assert!(Manifest::load(&file, &dir.path().join("other"))
            .entries
            .is_empty());
        std::fs::write(&file, "hindsight manifest 3\nx\nbroken").unwrap();
        assert!(Manifest::load(&file, Path::new("x")).entries.is_empty());
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xfe, 0xff].repeat(8);
        let text = hex(&bytes);
        assert_eq!(&text[..8], "0001feff");
        assert_eq!(unhex(&text).unwrap().to_vec(), bytes);
        assert!(unhex("zz").is_none());
    }
}
