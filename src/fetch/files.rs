//! The harvested files: their names, the issues each holds, and the clean-up after a run that
//! takes older copies of re-fetched issues (and, when asked, issues gone from the source) out
//! of older files, so each issue is in exactly one file.
//!
//! Files are named `<stem>-r<run>-<page>.<ext>` (`jira-r0002-000017.json`): the run and page
//! numbers come from the state file, so a page fetched again after a kill is written over its
//! first copy. Files with other names in the folder (exports put there by hand) are left alone.

use super::error::Unexpected;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::FetchError;
use super::state::write_atomic;
use super::TrackerKind;

/// One harvested file and the run it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct HarvestFile {
    pub path: PathBuf,
    pub run: u32,
}

/// The name of page `page` of run `run`.
pub(crate) fn file_name(kind: FileKind, run: u32, page: u32) -> String {
    format!("{}-r{run:04}-{page:06}.{}", kind.stem(), kind.extension())
}

/// The shapes of harvested files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// JIRA search pages `{startAt, maxResults, total, issues}`.
    JiraPage,
    /// Bugzilla `show_bug.cgi?ctype=xml` documents.
    BugzillaXml,
    /// Bugzilla REST `{"bugs": [...]}` with comments, history and attachments embedded.
    BugzillaJson,
    /// GitHub arrays of issues with `comment_data` and `event_data` embedded.
    GithubJson,
}

impl FileKind {
    /// The shape a tracker's harvest writes.
    pub fn of(kind: TrackerKind, bugzilla_rest: bool) -> FileKind {
        match kind {
            TrackerKind::Jira => FileKind::JiraPage,
            TrackerKind::Bugzilla if bugzilla_rest => FileKind::BugzillaJson,
            TrackerKind::Bugzilla => FileKind::BugzillaXml,
            TrackerKind::Github => FileKind::GithubJson,
        }
    }

    fn stem(self) -> &'static str {
        match self {
            FileKind::JiraPage => "jira",
            FileKind::BugzillaXml | FileKind::BugzillaJson => "bugzilla",
            FileKind::GithubJson => "github",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::BugzillaXml => "xml",
            _ => "json",
        }
    }

    /// The run number of a file name of this shape.
    fn run_of(self, name: &str) -> Option<u32> {
        let rest = name.strip_prefix(self.stem())?.strip_prefix("-r")?;
        let rest = rest.strip_suffix(self.extension())?.strip_suffix('.')?;
        let (run, page) = rest.split_once('-')?;
        if page.len() < 6 || !page.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        run.parse().ok()
    }

    /// The keys of the issues in a file's bytes (`LU-12`, `123` for a bug, `owner/repo#7`).
    pub fn keys(self, bytes: &[u8]) -> Result<Vec<String>, Unexpected> {
        match self {
            FileKind::JiraPage => {
                #[derive(Deserialize)]
                struct Page {
                    #[serde(default)]
                    issues: Vec<Keyed>,
                }
                #[derive(Deserialize)]
                struct Keyed {
                    key: Option<String>,
                }
                let page: Page = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                Ok(page.issues.into_iter().filter_map(|i| i.key).collect())
            }
            FileKind::BugzillaJson => {
                #[derive(Deserialize)]
                struct Page {
                    #[serde(default)]
                    bugs: Vec<Bug>,
                }
                #[derive(Deserialize)]
                struct Bug {
                    id: Option<serde_json::Value>,
                }
                let page: Page = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                Ok(page
                    .bugs
                    .into_iter()
                    .filter_map(|b| b.id.map(|id| id.to_string().trim_matches('"').to_string()))
                    .collect())
            }
            FileKind::GithubJson => {
                #[derive(Deserialize)]
                struct Issue {
                    number: u64,
                    repository_url: Option<String>,
                }
                let issues: Vec<Issue> =
                    serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                Ok(issues
                    .into_iter()
                    .map(|i| github_key(i.repository_url.as_deref().unwrap_or(""), i.number))
                    .collect())
            }
            FileKind::BugzillaXml => {
                let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
                Ok(bug_spans(text)
                    .into_iter()
                    .filter_map(|(s, e)| bug_id(&text[s..e]))
                    .collect())
            }
        }
    }

    /// The file without the issues whose key `drop` accepts; `None` when none is dropped.
    pub fn without(
        self,
        bytes: &[u8],
        drop: &dyn Fn(&str) -> bool,
    ) -> Result<Option<(Vec<u8>, usize)>, Unexpected> {
        match self {
            FileKind::JiraPage | FileKind::BugzillaJson => {
                let member = if self == FileKind::JiraPage {
                    "issues"
                } else {
                    "bugs"
                };
                let mut top: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                let Some(serde_json::Value::Array(items)) = top.get_mut(member) else {
                    return Ok(None);
                };
                let before = items.len();
                items.retain(|item| {
                    let key = match self {
                        FileKind::JiraPage => {
                            item.get("key").and_then(|k| k.as_str()).map(str::to_string)
                        }
                        _ => item
                            .get("id")
                            .map(|id| id.to_string().trim_matches('"').to_string()),
                    };
                    !key.is_some_and(|k| drop(&k))
                });
                let left = items.len();
                if left == before {
                    return Ok(None);
                }
                let out = serde_json::to_vec(&top).map_err(|e| e.to_string())?;
                Ok(Some((out, left)))
            }
            FileKind::GithubJson => {
                let items: Vec<Box<RawValue>> =
                    serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                #[derive(Deserialize)]
                struct Issue {
                    number: u64,
                    repository_url: Option<String>,
                }
                let before = items.len();
                let mut kept = Vec::with_capacity(before);
                for raw in items {
                    let i: Issue = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
                    let key = github_key(i.repository_url.as_deref().unwrap_or(""), i.number);
                    if !drop(&key) {
                        kept.push(raw);
                    }
                }
                if kept.len() == before {
                    return Ok(None);
                }
                let left = kept.len();
                let out = serde_json::to_vec(&kept).map_err(|e| e.to_string())?;
                Ok(Some((out, left)))
            }
            FileKind::BugzillaXml => {
                let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
                let spans = bug_spans(text);
                let mut out = String::with_capacity(text.len());
                let mut at = 0;
                let mut left = 0;
                let mut dropped = false;
                for (s, e) in spans {
                    if bug_id(&text[s..e]).is_some_and(|id| drop(&id)) {
                        out.push_str(&text[at..s]);
                        at = e;
                        dropped = true;
                    } else {
                        left += 1;
                    }
                }
                if !dropped {
                    return Ok(None);
                }
                out.push_str(&text[at..]);
                Ok(Some((out.into_bytes(), left)))
            }
        }
    }
}

/// The key of a GitHub issue in the harvest: `owner/repo#number`.
pub(crate) fn github_key(repository_url: &str, number: u64) -> String {
    let repo = repository_url
        .split("/repos/")
        .nth(1)
        .unwrap_or(repository_url);
    format!("{repo}#{number}")
}

/// Byte ranges of each `<bug …>…</bug>` element of a Bugzilla XML document (with the white
/// space before it, so removing one leaves no blank line).
fn bug_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("<bug") {
        let start = from + i;
        let after = &text[start + 4..];
        if !after.starts_with(['>', ' ', '\n', '\t', '\r', '/']) {
            from = start + 4;
            continue;
        }
        let end = match text[start..].find("</bug>") {
            Some(j) => start + j + "</bug>".len(),
            None => break,
        };
        let ws_start = text[..start].trim_end().len();
        spans.push((ws_start, end));
        from = end;
    }
    spans
}

/// The `<bug_id>` of a `<bug>` element.
fn bug_id(element: &str) -> Option<String> {
    let i = element.find("<bug_id>")? + "<bug_id>".len();
    let j = element[i..].find("</bug_id>")? + i;
    let id = element[i..j].trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The harvest's files in `folder`, in name order.
pub(crate) fn harvest_files(
    tracker: &str,
    folder: &Path,
    kind: FileKind,
) -> Result<Vec<HarvestFile>, FetchError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(FetchError::io(tracker, folder, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| FetchError::io(tracker, folder, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(run) = kind.run_of(&name) {
            files.push(HarvestFile {
                path: entry.path(),
                run,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The keys in the files of run `run`.
pub(crate) fn keys_of_run(
    tracker: &str,
    folder: &Path,
    kind: FileKind,
    run: u32,
) -> Result<HashSet<String>, FetchError> {
    let mut keys = HashSet::new();
    for f in harvest_files(tracker, folder, kind)? {
        if f.run == run {
            keys.extend(read_keys(tracker, kind, &f.path)?);
        }
    }
    Ok(keys)
}

fn read_keys(tracker: &str, kind: FileKind, path: &Path) -> Result<Vec<String>, FetchError> {
    let bytes = std::fs::read(path).map_err(|e| FetchError::io(tracker, path, e))?;
    kind.keys(&bytes).map_err(|e| {
        FetchError::io(
            tracker,
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })
}

/// What the clean-up after a run did.
#[derive(Debug, Default)]
pub(crate) struct Compacted {
    /// Issues in older files that the source no longer lists, sorted.
    pub gone: Vec<String>,
    /// Of those, removed from the harvest (`remove_deleted`).
    pub removed: u64,
    /// Older copies of re-fetched issues taken out.
    pub superseded: u64,
    /// Files rewritten or deleted.
    pub files_changed: u64,
}

/// Takes out of every file older than run `run` the issues `fresh` holds (run `run` has newer
/// copies) and reports those `listed` lacks (gone from the source), removing them too when
/// `remove_gone`. Idempotent: a kill midway is finished by the next run doing it again.
pub(crate) fn compact(
    tracker: &str,
    folder: &Path,
    kind: FileKind,
    run: u32,
    fresh: &HashSet<String>,
    listed: &HashSet<String>,
    remove_gone: bool,
) -> Result<Compacted, FetchError> {
    let mut report = Compacted::default();
    let mut gone = std::collections::BTreeSet::new();
    for f in harvest_files(tracker, folder, kind)? {
        if f.run >= run {
            continue;
        }
        let bytes = std::fs::read(&f.path).map_err(|e| FetchError::io(tracker, &f.path, e))?;
        let bad = |e: Unexpected| {
            FetchError::io(
                tracker,
                &f.path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        };
        for key in kind.keys(&bytes).map_err(bad)? {
            if fresh.contains(&key) {
                report.superseded += 1;
            } else if !listed.contains(&key) {
                gone.insert(key.clone());
                if remove_gone {
                    report.removed += 1;
                }
            }
        }
        let drop = |key: &str| fresh.contains(key) || (remove_gone && !listed.contains(key));
        if let Some((rest, left)) = kind.without(&bytes, &drop).map_err(bad)? {
            report.files_changed += 1;
            if left == 0 {
                match std::fs::remove_file(&f.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(FetchError::io(tracker, &f.path, e)),
                }
            } else {
                write_atomic(tracker, &f.path, &rest)?;
            }
        }
    }
    report.gone = gone.into_iter().collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_run() {
        let n = file_name(FileKind::JiraPage, 3, 17);
        assert_eq!(n, "jira-r0003-000017.json");
        assert_eq!(FileKind::JiraPage.run_of(&n), Some(3));
        assert_eq!(
            FileKind::JiraPage.run_of("jira-r0003-000017.json.tmp"),
            None
        );
        assert_eq!(FileKind::JiraPage.run_of("LU-export.json"), None);
        assert_eq!(
            FileKind::BugzillaXml.run_of("bugzilla-r0012-000001.xml"),
            Some(12)
        );
    }

    #[test]
    fn jira_pages_lose_issues_by_key() {
        let page = br#"{"startAt":0,"maxResults":2,"total":2,"issues":[{"key":"LU-1","fields":{}},{"key":"LU-2","fields":{}}]}"#;
        assert_eq!(FileKind::JiraPage.keys(page).unwrap(), ["LU-1", "LU-2"]);
        let (rest, left) = FileKind::JiraPage
            .without(page, &|k| k == "LU-1")
            .unwrap()
            .unwrap();
        assert_eq!(left, 1);
        assert_eq!(FileKind::JiraPage.keys(&rest).unwrap(), ["LU-2"]);
        assert!(FileKind::JiraPage
            .without(page, &|_| false)
            .unwrap()
            .is_none());
    }

    #[test]
    fn bugzilla_xml_loses_bugs_by_id() {
        let xml = "<?xml version=\"1.0\"?>\n<bugzilla version=\"3.0\">\n  <bug>\n    <bug_id>5</bug_id>\n  </bug>\n  <bug error=\"NotFound\">\n    <bug_id>6</bug_id>\n  </bug>\n</bugzilla>\n";
        assert_eq!(
            FileKind::BugzillaXml.keys(xml.as_bytes()).unwrap(),
            ["5", "6"]
        );
        let (rest, left) = FileKind::BugzillaXml
            .without(xml.as_bytes(), &|k| k == "5")
            .unwrap()
            .unwrap();
        assert_eq!(left, 1);
        let rest = String::from_utf8(rest).unwrap();
        assert!(!rest.contains("<bug_id>5"), "{rest}");
        assert!(
            rest.contains("<bug_id>6") && rest.ends_with("</bugzilla>\n"),
            "{rest}"
        );
    }

    #[test]
    fn github_arrays_keep_other_issues_byte_for_byte() {
        let page = br#"[{"number":1,"repository_url":"https://api.github.com/repos/a/b","z":1,"a":2},{"number":2,"repository_url":"https://api.github.com/repos/a/b"}]"#;
        assert_eq!(FileKind::GithubJson.keys(page).unwrap(), ["a/b#1", "a/b#2"]);
        let (rest, _) = FileKind::GithubJson
            .without(page, &|k| k == "a/b#2")
            .unwrap()
            .unwrap();
        assert_eq!(
            rest,
            br#"[{"number":1,"repository_url":"https://api.github.com/repos/a/b","z":1,"a":2}]"#
        );
    }

    #[test]
    fn compaction_removes_superseded_and_reports_gone() {
        let dir = tempfile::tempdir().unwrap();
        let page = |keys: &[&str]| {
            let issues: Vec<String> = keys.iter().map(|k| format!(r#"{{"key":"{k}"}}"#)).collect();
            format!(r#"{{"issues":[{}]}}"#, issues.join(","))
        };
        let old = dir.path().join(file_name(FileKind::JiraPage, 1, 1));
        std::fs::write(&old, page(&["LU-1", "LU-2", "LU-3"])).unwrap();
        let only_fresh = dir.path().join(file_name(FileKind::JiraPage, 1, 2));
        std::fs::write(&only_fresh, page(&["LU-4"])).unwrap();
        std::fs::write(
            dir.path().join(file_name(FileKind::JiraPage, 2, 1)),
            page(&["LU-1", "LU-4"]),
        )
        .unwrap();
        let fresh = keys_of_run("t", dir.path(), FileKind::JiraPage, 2).unwrap();
        let listed: HashSet<String> = ["LU-1", "LU-2", "LU-4"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = compact(
            "t",
            dir.path(),
            FileKind::JiraPage,
            2,
            &fresh,
            &listed,
            false,
        )
        .unwrap();
        assert_eq!(r.gone, ["LU-3"]);
        assert_eq!(r.superseded, 2);
        assert_eq!(r.removed, 0);
        assert!(!only_fresh.exists());
        assert_eq!(
            FileKind::JiraPage
                .keys(&std::fs::read(&old).unwrap())
                .unwrap(),
            ["LU-2", "LU-3"]
        );
        let r = compact(
            "t",
            dir.path(),
            FileKind::JiraPage,
            2,
            &fresh,
            &listed,
            true,
        )
        .unwrap();
        assert_eq!((r.gone.len(), r.removed), (1, 1));
        assert_eq!(
            FileKind::JiraPage
                .keys(&std::fs::read(&old).unwrap())
                .unwrap(),
            ["LU-2"]
        );
    }
}
