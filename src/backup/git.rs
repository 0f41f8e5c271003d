//! The source in the site: a bare git repository per `[[repository]]` under
//! `source/<name>.git/`, clonable from a folder and over git's "dumb" HTTP protocol from any
//! static file server.
//!
//! The repository's object files are copied as they are: its packs (named by their content,
//! so an unchanged pack is linked, not rewritten, on a rebuild and a mirror's `rsync` copies
//! only new packs) and its loose objects, with those of its alternates. The refs are the ones
//! the site publishes, written as `packed-refs` with their peeled targets, plus what the dumb
//! protocol reads (`info/refs`, `objects/info/packs`, `HEAD`). A branch the source has only as
//! a remote-tracking ref (`refs/remotes/origin/b2_15`) becomes `refs/heads/b2_15`, so that a
//! plain `git clone` of the copy has it. A shallow or partial source is reported: the copy
//! is published, and the report and the bag say what it lacks.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use gix::ObjectId;

use crate::config::RepositoryConfig;
use crate::error::{Error, Result};
use crate::render::PageSink;

/// What the copy of one repository holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepositoryCopy {
    /// The name it is published under (`source/<name>.git`).
    pub name: String,
    /// Refs written.
    pub refs: usize,
    /// Pack files (with their indexes).
    pub packs: usize,
    /// Loose objects.
    pub loose: usize,
    /// What the copy lacks, if anything (a shallow or partial source), for the report and the
    /// bag's `bag-info.txt`.
    pub incomplete: Vec<String>,
}

fn git_error(path: &Path, what: &str, e: impl Into<crate::error::Cause>) -> Error {
    Error::Git {
        path: path.to_path_buf(),
        what: what.to_string(),
        source: e.into(),
    }
}

/// Copies the repository of `rc` into the site at `source/<name>.git/`; returns what it holds
/// and the names of the refs written.
pub fn stage(
    rc: &RepositoryConfig,
    name: &str,
    sink: &dyn PageSink,
    cache: &Path,
    notes: &mut Vec<String>,
) -> Result<(RepositoryCopy, Vec<String>)> {
    let path = &rc.path;
    let repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_error(path, "cannot open", e))?;
    let root = format!("source/{name}.git");
    let mut copy = RepositoryCopy {
        name: name.to_string(),
        ..Default::default()
    };

    let mut refs = published_names(rc, &repo, notes)?;
    // A ref whose object is not there would make every clone fail: it is left out, and said.
    refs.retain(|name, id| {
        let whole = repo
            .find_object(*id)
            .ok()
            .and_then(|o| o.peel_tags_to_end().ok())
            .is_some();
        if !whole {
            copy.incomplete.push(format!(
                "{name} points at {id}, which the repository does not have; the ref is left out"
            ));
        }
        whole
    });
    if refs.is_empty() {
        notes.push(format!(
            "{}: no ref to publish; source/{name}.git is not written",
            path.display()
        ));
        return Ok((copy, Vec::new()));
    }
    let (packed, info) = ref_files(&repo, &refs, path, notes);
    sink.put(&format!("{root}/packed-refs"), packed.as_bytes())?;
    sink.put(&format!("{root}/info/refs"), info.as_bytes())?;
    copy.refs = refs.len();

    // HEAD names the published ref of the source's default branch (or the first branch).
    let default = crate::source::default_branch(&repo);
    let head = refs
        .keys()
        .filter(|n| n.starts_with("refs/heads/"))
        .find(|n| default.as_deref() == crate::source::branch_name(n).as_deref())
        .or_else(|| refs.keys().find(|n| n.starts_with("refs/heads/")))
        .or_else(|| refs.keys().next())
        .cloned()
        .unwrap_or_else(|| "refs/heads/master".into());
    sink.put(&format!("{root}/HEAD"), format!("ref: {head}\n").as_bytes())?;
    // git recognises a repository by HEAD, objects/ and refs/: the branch HEAD names is also
    // written loose, so refs/ exists however the refs are packed.
    if let Some(id) = refs.get(&head) {
        sink.put(&format!("{root}/{head}"), format!("{id}\n").as_bytes())?;
    }
    sink.put(
        &format!("{root}/config"),
        b"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n",
    )?;
    sink.put(
        &format!("{root}/description"),
        format!("{name}: the source of this archive, as the site publishes it\n").as_bytes(),
    )?;

    let mut packs = BTreeSet::new();
    let mut loose = BTreeSet::new();
    for dir in object_dirs(&repo, notes) {
        copy_objects(&dir, &root, sink, &mut packs, &mut loose)?;
    }
    let mut list = String::new();
    for p in &packs {
        list.push_str(&format!("P {p}\n"));
    }
    list.push('\n');
    sink.put(&format!("{root}/objects/info/packs"), list.as_bytes())?;
    copy.packs = packs.len();
    copy.loose = loose.len();

    copy.incomplete.extend(incompleteness(
        &repo,
        &refs,
        &cache.join(format!("backup-missing-{name}.txt")),
    )?);
    for what in &copy.incomplete {
        notes.push(format!(
            "{}: the backup of this repository is incomplete: {what}",
            path.display()
        ));
    }
    Ok((copy, refs.into_keys().collect()))
}

/// The published refs under the names the copy gives them: a branch known only as
/// `refs/remotes/<remote>/<b>` becomes `refs/heads/<b>` unless that name is taken.
fn published_names(
    rc: &RepositoryConfig,
    repo: &gix::Repository,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, ObjectId>> {
    let refs = crate::source::published_refs(rc, repo, notes)?;
    let mut out: BTreeMap<String, ObjectId> = refs
        .iter()
        .filter(|(n, _)| !n.starts_with("refs/remotes/"))
        .cloned()
        .collect();
    for (name, id) in &refs {
        let Some(rest) = name.strip_prefix("refs/remotes/") else {
            continue;
        };
        let Some((_, branch)) = rest.split_once('/') else {
            continue;
        };
        if branch == "HEAD" {
            continue;
        }
        let head = format!("refs/heads/{branch}");
        if out.contains_key(&head) {
            out.insert(name.clone(), *id);
        } else {
            out.insert(head, *id);
        }
    }
    Ok(out)
}

/// `packed-refs` and `info/refs` (what `git update-server-info` writes) for `refs`.
fn ref_files(
    repo: &gix::Repository,
    refs: &BTreeMap<String, ObjectId>,
    path: &Path,
    notes: &mut Vec<String>,
) -> (String, String) {
    let mut packed = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    let mut info = String::new();
    for (name, id) in refs {
        packed.push_str(&format!("{id} {name}\n"));
        info.push_str(&format!("{id}\t{name}\n"));
        match repo.find_object(*id) {
            Ok(obj) if obj.kind == gix::objs::Kind::Tag => match obj.peel_tags_to_end() {
                Ok(peeled) => {
                    packed.push_str(&format!("^{}\n", peeled.id));
                    info.push_str(&format!("{}\t{name}^{{}}\n", peeled.id));
                }
                Err(e) => notes.push(format!(
                    "{}: tag {name} points at a missing object: {e}",
                    path.display()
                )),
            },
            Ok(_) => {}
            Err(e) => notes.push(format!(
                "{}: {name} points at a missing object {id}: {e}",
                path.display()
            )),
        }
    }
    (packed, info)
}

/// The repository's object folders: its own and its alternates', each once.
fn object_dirs(repo: &gix::Repository, notes: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut todo = vec![repo.common_dir().join("objects")];
    while let Some(dir) = todo.pop() {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if out.iter().any(|d| d == &key) {
            continue;
        }
        if !key.is_dir() {
            notes.push(format!(
                "{}: object folder not found; its objects are not in the backup",
                dir.display()
            ));
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(key.join("info/alternates")) {
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                todo.push(key.join(line));
            }
        }
        out.push(key);
    }
    out
}

/// Copies one object folder's packs and loose objects (those not copied already).
fn copy_objects(
    dir: &Path,
    root: &str,
    sink: &dyn PageSink,
    packs: &mut BTreeSet<String>,
    loose: &mut BTreeSet<String>,
) -> Result<()> {
    let pack_dir = dir.join("pack");
    if let Ok(entries) = std::fs::read_dir(&pack_dir) {
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("pack-") && n.ends_with(".pack"))
            .collect();
        names.sort();
        for pack in names {
            let idx = format!("{}.idx", pack.trim_end_matches(".pack"));
            if !pack_dir.join(&idx).is_file() || !packs.insert(pack.clone()) {
                continue;
            }
            sink.put_file(&format!("{root}/objects/pack/{idx}"), &pack_dir.join(&idx))?;
            sink.put_file(
                &format!("{root}/objects/pack/{pack}"),
                &pack_dir.join(&pack),
            )?;
        }
    }
    let mut fans: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    fans.sort();
    for fan in fans {
        let mut objects: Vec<_> = std::fs::read_dir(dir.join(&fan))
            .map_err(|e| Error::io(dir.join(&fan), e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() == 38 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
        objects.sort();
        for object in objects {
            let rel = format!("{fan}/{object}");
            if loose.insert(rel.clone()) {
                sink.put_file(
                    &format!("{root}/objects/{rel}"),
                    &dir.join(&fan).join(&object),
                )?;
            }
        }
    }
    Ok(())
}

/// What a shallow or partial repository lacks: for a shallow one, the commits whose parents
/// were cut off; for a partial one (a promisor remote), the objects reachable from the
/// published refs that are not there.
fn incompleteness(
    repo: &gix::Repository,
    refs: &BTreeMap<String, ObjectId>,
    cache_file: &Path,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Ok(Some(shallow)) = repo.shallow_commits() {
        let ids: Vec<String> = shallow.iter().take(5).map(|id| id.to_string()).collect();
        out.push(format!(
            "a shallow clone: the history before {} commit{} ({}{}) is not in it",
            shallow.len(),
            if shallow.len() == 1 { "" } else { "s" },
            ids.join(", "),
            if shallow.len() > 5 { ", …" } else { "" }
        ));
    }
    let config = repo.config_snapshot();
    let partial = config.string("extensions.partialClone").is_some()
        || std::fs::read_dir(repo.common_dir().join("objects/pack"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().ends_with(".promisor"))
            })
            .unwrap_or(false);
    if partial {
        let missing = missing_cached(repo, refs, cache_file)?;
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(5).map(|id| id.to_string()).collect();
            out.push(format!(
                "a partial clone: {} reachable from the published refs {} missing: {}{}",
                crate::observe::count(missing.len() as u64, "object"),
                if missing.len() == 1 { "is" } else { "are" },
                shown.join(", "),
                if missing.len() > 5 { ", …" } else { "" }
            ));
        }
    }
    Ok(out)
}

/// [`missing_objects`], remembered in the build cache for as long as the refs and the object
/// files are the same: walking every tree of a large history takes minutes, and a partial
/// clone (any clone from a promisor remote) is common.
fn missing_cached(
    repo: &gix::Repository,
    refs: &BTreeMap<String, ObjectId>,
    cache_file: &Path,
) -> Result<Vec<ObjectId>> {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (name, id) in refs {
        h.write(name.as_bytes());
        h.write(id.as_bytes());
    }
    for dir in object_dirs(repo, &mut Vec::new()) {
        let mut names: Vec<(String, u64)> = std::fs::read_dir(dir.join("pack"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                (e.file_name().to_string_lossy().into_owned(), size)
            })
            .collect();
        names.sort();
        for (n, size) in names {
            h.write(n.as_bytes());
            h.write_u64(size);
        }
        let loose = std::fs::read_dir(&dir).into_iter().flatten().count();
        h.write_usize(loose);
    }
    let key = format!("{:016x}", h.finish());
    if let Ok(text) = std::fs::read_to_string(cache_file) {
        let mut lines = text.lines();
        if lines.next() == Some(key.as_str()) {
            let ids: Option<Vec<ObjectId>> = lines
                .map(|l| ObjectId::from_hex(l.as_bytes()).ok())
                .collect();
            if let Some(ids) = ids {
                return Ok(ids);
            }
        }
    }
    let missing = missing_objects(repo, refs);
    let mut text = key;
    text.push('\n');
    for id in &missing {
        text.push_str(&id.to_string());
        text.push('\n');
    }
    if let Some(dir) = cache_file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    crate::write::replace_file(cache_file, text.as_bytes())?;
    Ok(missing)
}

/// Objects reachable from `refs` (through commits, trees and tags) that the repository does
/// not have, sorted.
fn missing_objects(repo: &gix::Repository, refs: &BTreeMap<String, ObjectId>) -> Vec<ObjectId> {
    // A shallow clone's cut-off parents are reported as such, not as missing objects.
    let shallow: HashSet<ObjectId> = match repo.shallow_commits() {
        Ok(Some(list)) => list.iter().copied().collect(),
        _ => HashSet::new(),
    };
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut missing: BTreeSet<ObjectId> = BTreeSet::new();
    let mut todo: Vec<ObjectId> = refs.values().copied().collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Ok(obj) = repo.find_object(id) else {
            missing.insert(id);
            continue;
        };
        match obj.kind {
            gix::objs::Kind::Commit => {
                if let Ok(commit) = obj.try_into_commit() {
                    if let Ok(tree) = commit.tree_id() {
                        todo.push(tree.detach());
                    }
                    if !shallow.contains(&id) {
                        todo.extend(commit.parent_ids().map(|p| p.detach()));
                    }
                }
            }
            gix::objs::Kind::Tree => {
                let tree = obj.into_tree();
                if let Ok(decoded) = tree.decode() {
                    for entry in &decoded.entries {
                        if entry.mode.is_tree() {
                            todo.push(entry.oid.to_owned());
                        } else if entry.mode.is_commit() {
                            // Submodule commits live in other repositories.
                        } else {
                            // A blob is only looked up, never inflated: every version of
                            // every file of the history is behind these entries.
                            let id = entry.oid.to_owned();
                            if seen.insert(id) && !repo.has_object(id) {
                                missing.insert(id);
                            }
                        }
                    }
                }
            }
            gix::objs::Kind::Tag => {
                if let Ok(tag) = obj.try_into_tag() {
                    if let Ok(target) = tag.target_id() {
                        todo.push(target.detach());
                    }
                }
            }
            gix::objs::Kind::Blob => {}
        }
    }
    missing.into_iter().collect()
}
