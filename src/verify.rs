//! `hindsight verify SITE`: whether a copy of a site is whole, file by file.
//!
//! A copy on a USB stick or a mirror is only a backup if it can be shown to be complete and
//! unaltered. The build writes `SHA256SUMS` at the site's root (every other file's SHA-256, as
//! `sha256sum -c` reads it) and makes `backup/` a BagIt bag with its own manifests. This reads
//! every byte of the copy once (files hard-linked together are read once), on every core, and
//! names every file that is missing, changed, or there but not listed, in the site and in the
//! bag, and whether the bag's `Payload-Oxum` and declaration hold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::write::bag;
use crate::write::{hash_file, SUMS_FILE};

/// What is wrong with one file of the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// Listed, but not there.
    Missing,
    /// There, but its bytes are not the listed ones.
    Changed,
    /// There, but not listed.
    Extra,
    /// A line of the list that cannot be read, or a bag file that is wrong.
    Malformed,
}

impl Problem {
    /// The word the report uses.
    pub fn word(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Changed => "changed",
            Problem::Extra => "extra",
            Problem::Malformed => "malformed",
        }
    }
}

/// One finding: a file, what is wrong with it, and which list says so.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The list checked (`SHA256SUMS`, `backup/manifest-sha256.txt`…).
    pub list: String,
    /// The file, relative to the site's root.
    pub path: String,
    /// What is wrong.
    pub problem: Problem,
    /// More detail, when there is any.
    pub detail: String,
}

/// What the verification found.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// Files whose bytes were read.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// The bags checked (site-relative folders).
    pub bags: Vec<String>,
    /// Everything wrong, sorted.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// Whether the copy is whole.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Every file under `site`, site-relative with `/`.
fn files_of(site: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for entry in walkdir::WalkDir::new(site) {
        let entry = entry.map_err(|e| Error::walk(site, e))?;
        if entry.file_type().is_dir() {
            continue;
        }
        out.insert(crate::inputs::slash_path(site, entry.path()));
    }
    Ok(out)
}

/// Hashes files (each inode once), in parallel: path → hash, or the error's text.
/// Each file's hash, or why it could not be read.
type Hashes = HashMap<String, Hashed>;

/// A file's hash, or why it could not be read.
type Hashed = std::result::Result<[u8; 32], String>;

fn hash_all(site: &Path, paths: &BTreeSet<String>) -> Hashes {
    use std::os::unix::fs::MetadataExt;
    // One representative path per (device, inode).
    let mut by_inode: BTreeMap<(u64, u64), Vec<&String>> = BTreeMap::new();
    let mut unstatable = Vec::new();
    for p in paths {
        match std::fs::metadata(site.join(p)) {
            Ok(m) => by_inode.entry((m.dev(), m.ino())).or_default().push(p),
            Err(e) => unstatable.push((p.clone(), Hashed::Err(e.to_string()))),
        }
    }
    let groups: Vec<Vec<&String>> = by_inode.into_values().collect();
    let hashed: Vec<(Vec<&String>, Hashed)> = groups
        .into_par_iter()
        .map(|group| {
            let h = hash_file(&site.join(group[0])).map_err(|e| {
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string())
            });
            (group, h)
        })
        .collect();
    let mut out: HashMap<String, _> = unstatable.into_iter().collect();
    for (group, h) in hashed {
        for p in group {
            out.insert(p.clone(), h.clone());
        }
    }
    out
}

/// Checks one checksum list (`SHA256SUMS` or a bag manifest) whose paths are relative to
/// `base`: each listed file against its hash, and each file under `base` that `keep` accepts
/// against the list.
#[allow(clippy::too_many_arguments)]
fn check_list(
    findings: &mut Vec<Finding>,
    hashes: &Hashes,
    present: &BTreeSet<String>,
    list: &str,
    base: &str,
    text: &str,
    percent: bool,
    keep: &dyn Fn(&str) -> bool,
) {
    let entries = match bag::parse_checksums(text, percent) {
        Ok(e) => e,
        Err(line) => {
            findings.push(Finding {
                list: list.to_string(),
                path: list.to_string(),
                problem: Problem::Malformed,
                detail: format!("line {line} is not `<sha256>  <path>`"),
            });
            return;
        }
    };
    let mut listed = BTreeSet::new();
    for (rel, sha) in entries {
        let path = format!("{base}{rel}");
        listed.insert(path.clone());
        match hashes.get(&path) {
            None => findings.push(Finding {
                list: list.to_string(),
                path,
                problem: Problem::Missing,
                detail: String::new(),
            }),
            Some(Err(e)) => findings.push(Finding {
                list: list.to_string(),
                path,
                problem: Problem::Missing,
                detail: format!("unreadable: {e}"),
            }),
            Some(Ok(h)) if *h != sha => findings.push(Finding {
                list: list.to_string(),
                path,
                problem: Problem::Changed,
                detail: String::new(),
            }),
            Some(Ok(_)) => {}
        }
    }
    for p in present {
        if p.starts_with(base) && keep(&p[base.len()..]) && !listed.contains(p) {
            findings.push(Finding {
                list: list.to_string(),
                path: p.clone(),
                problem: Problem::Extra,
                detail: "not listed".into(),
            });
        }
    }
}

/// Checks the copy of a site at `site` against its `SHA256SUMS` and its bag's manifests.
pub fn verify_site(site: &Path) -> Result<VerifyReport> {
    if !site.is_dir() {
        return Err(Error::io(
            site,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        ));
    }
    let mut report = VerifyReport::default();
    let present = files_of(site)?;
    let hashes = hash_all(site, &present);
    report.files = hashes.len();
    report.bytes = present
        .iter()
        .filter_map(|p| std::fs::metadata(site.join(p)).ok())
        .map(|m| m.len())
        .sum();
    let mut findings = Vec::new();

    match std::fs::read_to_string(site.join(SUMS_FILE)) {
        Ok(text) => check_list(
            &mut findings,
            &hashes,
            &present,
            SUMS_FILE,
            "",
            &text,
            false,
            &|p| p != SUMS_FILE,
        ),
        Err(e) => findings.push(Finding {
            list: SUMS_FILE.into(),
            path: SUMS_FILE.into(),
            problem: Problem::Missing,
            detail: format!("{e}: the copy cannot be checked file by file"),
        }),
    }

    // Every bag in the site: a folder (at most two levels down) with a bagit.txt.
    let bags: Vec<String> = present
        .iter()
        .filter_map(|p| {
            if p == bag::DECLARATION {
                return Some("");
            }
            p.strip_suffix(&format!("/{}", bag::DECLARATION))
        })
        .filter(|root| root.split('/').count() <= 2)
        .map(str::to_string)
        .collect();
    for root in bags {
        let base = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        let read = |name: &str| std::fs::read_to_string(site.join(&root).join(name));
        let mut bag_problem = |path: String, problem: Problem, detail: String| {
            findings.push(Finding {
                list: format!("{base}{}", bag::DECLARATION),
                path,
                problem,
                detail,
            });
        };
        match read(bag::DECLARATION) {
            Ok(t)
                if t.lines()
                    .next()
                    .is_some_and(|l| l.starts_with("BagIt-Version: ")) => {}
            _ => bag_problem(
                format!("{base}{}", bag::DECLARATION),
                Problem::Malformed,
                "no `BagIt-Version:` declaration".into(),
            ),
        }
        let payload: Vec<&String> = present
            .iter()
            .filter(|p| p.starts_with(&format!("{base}data/")))
            .collect();
        match read(bag::INFO) {
            Ok(info) => {
                let oxum = info
                    .lines()
                    .find_map(|l| l.strip_prefix("Payload-Oxum:"))
                    .map(|v| v.trim().to_string());
                let octets: u64 = payload
                    .iter()
                    .filter_map(|p| std::fs::metadata(site.join(p)).ok())
                    .map(|m| m.len())
                    .sum();
                let actual = format!("{octets}.{}", payload.len());
                if let Some(oxum) = oxum {
                    if oxum != actual {
                        bag_problem(
                            format!("{base}{}", bag::INFO),
                            Problem::Changed,
                            format!("Payload-Oxum says {oxum}, the payload is {actual}"),
                        );
                    }
                }
            }
            Err(e) => bag_problem(
                format!("{base}{}", bag::INFO),
                Problem::Missing,
                e.to_string(),
            ),
        }
        match read(bag::MANIFEST) {
            Ok(text) => check_list(
                &mut findings,
                &hashes,
                &present,
                &format!("{base}{}", bag::MANIFEST),
                &base,
                &text,
                true,
                &|rel| rel.starts_with("data/"),
            ),
            Err(e) => findings.push(Finding {
                list: format!("{base}{}", bag::DECLARATION),
                path: format!("{base}{}", bag::MANIFEST),
                problem: Problem::Missing,
                detail: e.to_string(),
            }),
        }
        if let Ok(text) = read(bag::TAG_MANIFEST) {
            check_list(
                &mut findings,
                &hashes,
                &present,
                &format!("{base}{}", bag::TAG_MANIFEST),
                &base,
                &text,
                true,
                &|_| false,
            );
        }
        report.bags.push(root);
    }
    findings.sort();
    findings.dedup();
    report.findings = findings;
    Ok(report)
}
