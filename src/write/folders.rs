//! The published site's folders as the last build left them, so that the next build finds the
//! files it must remove without listing every folder of the site.
//!
//! A file the new site no longer has is either one the last build published (its manifest
//! names it) or a stray someone put into the site. Creating, removing or renaming an entry
//! changes its folder's modification time, so only the folders whose stat changed since the
//! last build recorded it are listed for strays (and, whole, any folder in them it did not
//! record); at 405,524 files in 100,198 folders that is one `stat` per folder instead of a
//! listing of every folder and a `stat` per file.
//!
//! A folder's time has the file system clock's granularity (a few milliseconds), so a file
//! added just after the record was taken may leave the recorded time unchanged: a folder whose
//! time is within [`RACY_NS`] of when the record was taken is listed anyway (as git does for
//! the racily clean entries of its index). Those are mostly the folders the build itself
//! just wrote into.
//!
//! The record belongs to one manifest (it carries the manifest's fingerprint): one left by a
//! build killed before it was written, or by another site, is not used, and the site is
//! walked whole.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::files_under;
use super::manifest::Stat;
use crate::error::{Error, Result};

/// The first line of the record.
const HEADER: &str = "hindsight site folders 1";

/// A folder modified less than this long (nanoseconds) before its stat was recorded is
/// listed by the next build whatever its stat says.
pub const RACY_NS: i128 = 1_000_000_000;

/// Every folder of a published site that holds a file, the site's root included, with its stat.
#[derive(Debug, PartialEq, Eq)]
pub struct Folders {
    output: PathBuf,
    /// The fingerprint of the manifest of the site the stats were taken of.
    manifest: String,
    /// When the stats were taken (nanoseconds since the epoch; the build cache's, never the
    /// site's).
    taken: i128,
    /// Site path (`""` for the root) and stat, in path order.
    stats: Vec<(String, Stat)>,
    /// Once [`Folders::check`]ed: which recorded folders are to be listed, by row, and when
    /// the check began.
    checked: Option<(Vec<bool>, i128)>,
}

/// Now, in nanoseconds since the epoch.
fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// The stat of the folder at `path`, if it is one.
fn folder_stat(path: &Path) -> Option<Stat> {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| Stat::of(&m))
}

/// The folders above site path `path`, nearest first, the root (`""`) not included.
pub fn folders_above(path: &str) -> impl Iterator<Item = &str> {
    fn parent(p: &str) -> Option<&str> {
        p.rsplit_once('/').map(|(parent, _)| parent)
    }
    std::iter::successors(parent(path), |p| parent(p))
}

/// `name` in the folder `folder` (site paths).
fn child(folder: &str, name: &str) -> String {
    match folder {
        "" => name.to_string(),
        _ => format!("{folder}/{name}"),
    }
}

impl Folders {
    /// The folders of the site in `output` that hold `files` (site paths); the site's
    /// manifest has the fingerprint `manifest`.
    ///
    /// Each folder is stat now, unless `since` (the record this build [`Folders::check`]ed
    /// when it began) found it unchanged and `touched` (the folders the build moved files
    /// into or removed files from, and every folder above them) does not name it: then its
    /// stat is the one it had at that check, and the record is taken as of the check's
    /// beginning. A folder changed since the check then differs from its record, and one
    /// changed just before it is within [`RACY_NS`] of when the record was taken: the next
    /// build lists both.
    pub fn of_site<'a>(
        output: &Path,
        manifest: String,
        files: impl Iterator<Item = &'a str>,
        since: Option<&Folders>,
        touched: &(dyn Fn(&str) -> bool + Sync),
    ) -> Folders {
        let mut folders: HashSet<&str> = HashSet::new();
        folders.insert("");
        // Files in path order come folder by folder: a file in the folder of the one before
        // adds nothing.
        let mut previous = None;
        for file in files {
            let folder = file.rsplit_once('/').map(|(parent, _)| parent);
            if folder.is_some() && folder == previous {
                continue;
            }
            previous = folder;
            for parent in folders_above(file) {
                if !folders.insert(parent) {
                    break;
                }
            }
        }
        let mut folders: Vec<&str> = folders.into_iter().collect();
        folders.sort_unstable();
        let carried = since.and_then(|s| Some((s, s.checked.as_ref()?)));
        let taken = match carried {
            Some((_, &(_, began))) => began,
            None => now_ns(),
        };
        let unchanged = |folder: &str| -> Option<Stat> {
            let (record, (changed, _)) = carried?;
            let row = (record.stats)
                .binary_search_by(|(p, _)| p.as_str().cmp(folder))
                .ok()?;
            (!changed[row] && !touched(folder)).then_some(record.stats[row].1)
        };
        // A folder that cannot be read now is left out: the next build lists its parent.
        let stats = folders
            .par_iter()
            .with_min_len(64)
            .filter_map(|f| {
                let stat = unchanged(f).or_else(|| folder_stat(&output.join(f)))?;
                Some((f.to_string(), stat))
            })
            .collect();
        Folders {
            output: output.to_path_buf(),
            manifest,
            taken,
            stats,
            checked: None,
        }
    }

    /// Finds the recorded folders to list for strays: those whose stat changed since the
    /// record was taken, or that were modified just before ([`RACY_NS`]). One `stat` per
    /// folder, on every core; [`super::Staging::begin`] asks while the archive is imported.
    pub fn check(&mut self) {
        let began = now_ns();
        self.checked = Some((self.changed(), began));
    }

    /// By row: whether the folder is to be listed, as it is now.
    fn changed(&self) -> Vec<bool> {
        self.stats
            .par_iter()
            .with_min_len(64)
            .map(|(path, stat)| {
                stat.mtime + RACY_NS >= self.taken
                    || folder_stat(&self.output.join(path)) != Some(*stat)
            })
            .collect()
    }

    /// The record kept in `file`, when it is whole and is of the site in `output` whose
    /// manifest has the fingerprint `manifest`.
    pub fn load(file: &Path, output: &Path, manifest: &str) -> Option<Folders> {
        let text = std::fs::read_to_string(file).ok()?;
        let mut lines = text.split_terminator('\n');
        if lines.next()? != HEADER
            || Path::new(lines.next()?) != output
            || lines.next()? != manifest
        {
            return None;
        }
        let taken = lines.next()?.parse().ok()?;
        let mut stats = Vec::new();
        for line in lines {
            let (stat, path) = line.split_once('\t')?;
            stats.push((path.to_string(), Stat::parse(stat)?));
        }
        Some(Folders {
            output: output.to_path_buf(),
            manifest: manifest.to_string(),
            taken,
            stats,
            checked: None,
        })
    }

    /// Keeps the record in `file`, through a temporary file.
    pub fn save(&self, file: &Path) -> Result<()> {
        let mut text = String::with_capacity(64 + self.stats.len() * 64);
        text.push_str(HEADER);
        text.push('\n');
        text.push_str(&self.output.to_string_lossy());
        text.push('\n');
        text.push_str(&self.manifest);
        text.push('\n');
        text.push_str(&self.taken.to_string());
        text.push('\n');
        for (path, stat) in &self.stats {
            stat.push_text(&mut text);
            text.push('\t');
            text.push_str(path);
            text.push('\n');
        }
        let temporary = file.with_extension("tmp");
        std::fs::write(&temporary, text).map_err(|e| Error::io(&temporary, e))?;
        std::fs::rename(&temporary, file).map_err(|e| Error::io(file, e))
    }

    /// Every file (or link) under the site that `known` does not know: listed from the
    /// folders whose stat changed since it was recorded (or that were modified just before),
    /// as [`Folders::check`] found them (checked now if it was not asked), and from the
    /// folders in them that were not recorded, walked whole; in path order.
    pub fn strays(&self, known: impl Fn(&str) -> bool + Sync) -> Result<Vec<String>> {
        let changed = match &self.checked {
            Some((changed, _)) => changed,
            None => &self.changed(),
        };
        let recorded: HashSet<&str> = self.stats.iter().map(|(p, _)| p.as_str()).collect();
        let listed: Vec<Vec<String>> = (self.stats.par_iter().zip(changed))
            .filter(|(_, &changed)| changed)
            .map(|((folder, _), _)| self.entries(folder, &recorded))
            .collect::<Result<_>>()?;
        let mut strays: Vec<String> = listed.into_iter().flatten().filter(|p| !known(p)).collect();
        strays.sort_unstable();
        Ok(strays)
    }

    /// The files in `folder`, and under the folders in it that are not `recorded`.
    fn entries(&self, folder: &str, recorded: &HashSet<&str>) -> Result<Vec<String>> {
        let dir = self.output.join(folder);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // Gone since: so are its files.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name();
            let path = child(folder, &name.to_string_lossy());
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if !kind.is_dir() {
                out.push(path);
            } else if !recorded.contains(path.as_str()) {
                let under = files_under(&entry.path())?;
                out.extend(under.into_iter().map(|(p, _)| child(&path, &p)));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str) {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, path).unwrap();
    }

    /// Sets the time of every folder under `root` an hour back, as a site published long ago.
    fn age(root: &Path) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in walkdir::WalkDir::new(root) {
            let entry = entry.unwrap();
            if entry.file_type().is_dir() {
                let dir = std::fs::File::open(entry.path()).unwrap();
                dir.set_modified(past).unwrap();
            }
        }
    }

    #[test]
    fn strays_are_found_in_changed_folders_and_the_record_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("public");
        let files = [
            "index.html",
            "issues/LU/0/LU-1.html",
            "issues/LU/0/LU-2.html",
        ];
        for f in files {
            write(&site, f);
        }
        // Put there before the record was taken, in a folder it records as it is.
        write(&site, "issues/LU/0/LU-3.html.bak");
        age(&site);
        let folders = Folders::of_site(&site, "m1".into(), files.into_iter(), None, &|_| true);
        let paths: Vec<&str> = folders.stats.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["", "issues", "issues/LU", "issues/LU/0"]);
        let record = dir.path().join("folders");
        folders.save(&record).unwrap();
        assert_eq!(Folders::load(&record, &site, "m1").as_ref(), Some(&folders));
        assert_eq!(
            Folders::load(&record, &site, "m2"),
            None,
            "another manifest's"
        );
        assert_eq!(
            Folders::load(&record, dir.path(), "m1"),
            None,
            "another site's"
        );

        let known = |p: &str| files.contains(&p);
        assert_eq!(folders.strays(known).unwrap(), Vec::<String>::new());
        // Had the folder been modified just before the record was taken, its stat could not
        // be trusted: it is listed.
        let mtime = folders.stats[3].1.mtime;
        let racy = Folders {
            taken: mtime + RACY_NS / 2,
            output: folders.output.clone(),
            manifest: folders.manifest.clone(),
            stats: folders.stats.clone(),
            checked: None,
        };
        assert_eq!(racy.strays(known).unwrap(), ["issues/LU/0/LU-3.html.bak"]);
        std::fs::remove_file(site.join("issues/LU/0/LU-3.html.bak")).unwrap();

        // Strays: at the root, beside published files, in a new folder, deep in a new folder
        // inside a recorded one.
        write(&site, "notes.txt");
        write(&site, "issues/LU/0/LU-2.html~");
        write(&site, "extra/a/b.html");
        write(&site, "issues/LU/new/deep/x.js");
        // A published file removed by hand is not a stray.
        std::fs::remove_file(site.join("issues/LU/0/LU-1.html")).unwrap();
        assert_eq!(
            folders.strays(known).unwrap(),
            [
                "extra/a/b.html",
                "issues/LU/0/LU-2.html~",
                "issues/LU/new/deep/x.js",
                "notes.txt"
            ]
        );
        // A recorded folder removed whole leaves nothing to find in it.
        std::fs::remove_dir_all(site.join("issues")).unwrap();
        assert_eq!(
            folders.strays(known).unwrap(),
            ["extra/a/b.html", "notes.txt"]
        );
    }

    #[test]
    fn the_folders_above_a_path_come_nearest_first() {
        assert_eq!(
            folders_above("a/b/c.html").collect::<Vec<_>>(),
            ["a/b", "a"]
        );
        assert_eq!(folders_above("index.html").count(), 0);
    }

    #[test]
    fn a_record_taken_after_a_check_keeps_what_the_check_saw_of_folders_the_build_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("public");
        let files = ["a/1.html", "b/1.html", "c/1.html", "d/1.html"];
        for f in files {
            write(&site, f);
        }
        age(&site);
        let record = dir.path().join("folders");
        Folders::of_site(&site, "m1".into(), files.into_iter(), None, &|_| true)
            .save(&record)
            .unwrap();
        let mut published = Folders::load(&record, &site, "m1").unwrap();
        // A stray put into `a` before the build began.
        write(&site, "a/stray");
        published.check();
        let (_, began) = published.checked.clone().unwrap();
        assert_eq!(
            published.strays(|p| files.contains(&p)).unwrap(),
            ["a/stray"]
        );

        // While the build ran: `b` written by it (touched), `c` by someone else; `d` left alone.
        write(&site, "b/2.html");
        write(&site, "c/late");
        let touched = |f: &str| f.is_empty() || f == "b";
        let known = [
            "a/1.html", "a/stray", "b/1.html", "b/2.html", "c/1.html", "d/1.html",
        ];
        let next = Folders::of_site(
            &site,
            "m2".into(),
            known.into_iter(),
            Some(&published),
            &touched,
        );
        assert_eq!(next.taken, began, "taken as of the check");
        let stat = |f: &Folders, p: &str| f.stats.iter().find(|(q, _)| q == p).unwrap().1;
        let now = |p: &str| folder_stat(&site.join(p)).unwrap();
        assert_eq!(stat(&next, "b"), now("b"), "a touched folder is stat again");
        assert_eq!(stat(&next, "a"), now("a"), "a changed folder is stat again");
        assert_eq!(stat(&next, "d"), stat(&published, "d"), "carried");
        assert_eq!(
            stat(&next, "c"),
            stat(&published, "c"),
            "carried, as the check saw it"
        );
        assert_ne!(stat(&next, "c"), now("c"));

        // The next build lists `c` (changed since the check) and finds what was put there.
        next.save(&record).unwrap();
        let mut later = Folders::load(&record, &site, "m2").unwrap();
        later.check();
        assert_eq!(later.strays(|p| known.contains(&p)).unwrap(), ["c/late"]);
    }
}
