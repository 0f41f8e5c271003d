//! `hindsight.toml`: what to read, what to publish, where to write it.
//!
//! Every path in the file is relative to the file's own folder, so a site folder can be moved
//! or built from anywhere. Unknown keys are errors (a misspelt `projects` would otherwise
//! publish a private project), reported with the key, the file, and the line and column.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::keys::is_project_key;

/// The whole configuration, with paths resolved against the config file's folder.
#[derive(Clone, Debug)]
pub struct Config {
    /// The config file itself (for messages).
    pub file: PathBuf,
    /// The folder the config lives in; relative paths start here.
    pub root: PathBuf,
    /// The site's title.
    pub title: String,
    /// Where the site is written (default `public/` beside the config).
    pub output: PathBuf,
    /// The build cache: archive store, commit diffs, the backup's compressed chunks, the
    /// published site's manifest (default `.hindsight-cache/`).
    pub cache: PathBuf,
    /// The site's own theme folder; a template there overrides the built-in one of that name.
    pub theme: PathBuf,
    /// Markdown pages (about, searching…) rendered into the site.
    pub pages: PathBuf,
    /// Only these projects are published; `None` publishes every project in the exports.
    pub projects: Option<Vec<String>>,
    /// Project names by key (`BZ = "Lustre (Bugzilla)"`), shown instead of the name the export
    /// gives (or beside the key when it gives none): the `[project_names]` table.
    pub project_names: std::collections::BTreeMap<String, String>,
    /// The public address the site will be served from, for feeds and sitemaps.
    pub base_url: Option<String>,
    /// Publish e-mail addresses as written instead of masking them.
    pub show_emails: bool,
    /// Issues per listing page.
    pub page_size: usize,
    /// Write `browse/KEY/index.html` redirect stubs for old tracker URLs.
    pub redirect_stubs: bool,
    /// Write each issue as JSON beside its page (`LU-1234.json`); off halves the file count
    /// of a site bound for a USB stick.
    pub issue_json: bool,
    /// Attachment files larger than this many bytes are listed but not copied into the site.
    pub attachment_size_cap: u64,
    /// The issue trackers' exports.
    pub trackers: Vec<TrackerConfig>,
    /// The source repositories.
    pub repositories: Vec<RepositoryConfig>,
    /// What of the archive the site carries as its own backup (`[backup]`).
    pub backup: BackupConfig,
}

/// The `[backup]` table: what the site carries so that a copy of it is a backup of the project
/// (see [`crate::backup`]).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// A bare git repository per `[[repository]]` under `source/<name>.git/`, clonable from
    /// the site (default true; off for a small stick).
    #[serde(default = "backup_defaults::yes")]
    pub git: bool,
    /// The archive in the neutral format, the attachments, the theme, the pages and a config
    /// that rebuilds the site from them, as a BagIt bag under `backup/` (default true).
    #[serde(default = "backup_defaults::yes")]
    pub archive: bool,
    /// The export files as received, beside their normalised form in the bag (default false).
    /// An export that held restricted items is never published this way.
    #[serde(default)]
    pub keep_exports: bool,
    /// A folder of export files an earlier backup kept (its `data/exports`), carried into this
    /// one as they are: the configuration of a backup sets it, so that the site rebuilt from a
    /// copy keeps the originals the copy held.
    #[serde(default)]
    pub kept_exports: Option<PathBuf>,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            git: true,
            archive: true,
            keep_exports: false,
            kept_exports: None,
        }
    }
}

mod backup_defaults {
    pub fn yes() -> bool {
        true
    }
}

/// One tracker's exports.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackerConfig {
    /// A name for this source (`jira`, `bugzilla`); defaults to the detected format's.
    #[serde(default)]
    pub name: Option<String>,
    /// Glob patterns of export files.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Forces a format instead of detecting it from content.
    #[serde(default)]
    pub format: Option<Format>,
    /// Prefix for numeric keys (Bugzilla bug 123 becomes `BZ-123` with `key_prefix = "BZ"`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// GitHub: the key prefix of each repository (`"lustre/lustre-release" = "LR"`), so that
    /// several repositories' issues with the same number get distinct keys. A repository not
    /// named here takes `key_prefix`, else its name in capitals ([`github_prefix`]).
    #[serde(default)]
    pub key_prefixes: std::collections::BTreeMap<String, String>,
    /// The IANA time zone (`America/Los_Angeles`) of times the export writes without an offset
    /// (old Bugzilla XML); without it they are read as UTC, with one warning per file.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The tracker's old base URLs, newest first (`https://jira.whamcloud.com`).
    #[serde(default)]
    pub base_urls: Vec<String>,
    /// JIRA's attachments folder (`<PROJECT>/<bucket>/<KEY>/<attachment id>`), relative to the
    /// config; files found there are copied into the site.
    #[serde(default)]
    pub attachments: Option<PathBuf>,
    /// How commit messages cite this tracker's issues; `None` uses the defaults (JIRA keys of
    /// the projects in the archive; for a tracker with a `key_prefix`, Bugzilla's `b=123`,
    /// `b:123`, `bug 123` and `show_bug.cgi?id=123` forms). See [`crate::source::references`].
    #[serde(default)]
    pub references: Option<Vec<ReferencePattern>>,
    /// Where `hindsight fetch` copies this tracker from (`[tracker.fetch]`).
    #[serde(default)]
    pub fetch: Option<FetchConfig>,
}

impl TrackerConfig {
    /// The name the tracker's issues carry in [`crate::model::Issue::source`]: the configured
    /// one, else the family of the format its files are in (`jira`, `bugzilla`, `github`).
    pub fn name_for(&self, format: Format) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format.family().to_string())
    }

    /// Whether issues whose `source` is `source` may have come from this tracker.
    pub fn may_be(&self, source: &str) -> bool {
        match (&self.name, self.format) {
            (Some(n), _) => n == source,
            (None, Some(f)) => f.family() == source,
            (None, None) => ["jira", "bugzilla", "github", "ndjson"].contains(&source),
        }
    }

    /// The key prefix of a GitHub repository's issues (`owner/name`).
    pub fn github_prefix(&self, repo: &str) -> String {
        github_prefix(&self.key_prefixes, self.key_prefix.as_deref(), repo)
    }
}

/// The key prefix of a GitHub repository: the one `key_prefixes` names for it, else
/// `key_prefix`, else its name in capitals with anything but letters and digits made `_`
/// (`lustre/lustre-release` → `LUSTRE_RELEASE`); `GH` when the repository is unknown.
pub fn github_prefix(
    prefixes: &std::collections::BTreeMap<String, String>,
    key_prefix: Option<&str>,
    repo: &str,
) -> String {
    if let Some(p) = prefixes
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(repo))
        .map(|(_, p)| p)
    {
        return p.clone();
    }
    if let Some(p) = key_prefix {
        return p.to_string();
    }
    let name = repo.rsplit('/').next().unwrap_or("");
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_uppercase()) {
        out.insert_str(0, "GH");
    }
    out.truncate(32);
    out
}

/// The `[tracker.fetch]` table: where a tracker lives and how to copy it. Unknown keys are
/// errors, like everywhere in `hindsight.toml`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Which API: `jira`, `bugzilla` or `github`.
    pub kind: TrackerKind,
    /// The tracker's base address (`https://jira.example.org`); GitHub defaults to
    /// `https://api.github.com`. Never with credentials in it.
    #[serde(default)]
    pub url: Option<String>,
    /// JIRA: the issues to copy (`project in (LU, LUDOC)`); an `ORDER BY` is replaced.
    #[serde(default)]
    pub jql: Option<String>,
    /// Bugzilla: only these products (default: every product the account sees).
    #[serde(default)]
    pub products: Vec<String>,
    /// Bugzilla: only these components.
    #[serde(default)]
    pub components: Vec<String>,
    /// Bugzilla: `xml` (`show_bug.cgi?ctype=xml`, every version, the default) or `rest`
    /// (Bugzilla 5+).
    #[serde(default)]
    pub api: BugzillaApi,
    /// JIRA: `v2` (`/rest/api/2/search`, Server and Data Center, the default) or `cloud`
    /// (`/rest/api/3/search/jql`, token-paged). A `v2` harvest whose search answers 410 Gone or
    /// 404 (a Cloud site where the old search is removed) goes over to `cloud` by itself.
    #[serde(default)]
    pub jira_api: JiraApi,
    /// GitHub: the repositories (`owner/name`).
    #[serde(default)]
    pub repos: Vec<String>,
    /// The environment variable holding a token, sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The environment variables holding a user name and password (HTTP Basic).
    #[serde(default)]
    pub user_env: Option<String>,
    /// See `user_env`.
    #[serde(default)]
    pub password_env: Option<String>,
    /// At most this many requests at once (default 2).
    #[serde(default = "fetch_defaults::max_in_flight")]
    pub max_in_flight: usize,
    /// Issues per request (default: JIRA 100, Bugzilla 50, GitHub 100).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Minutes subtracted from the last run's start when asking what changed (clock skew,
    /// default 10).
    #[serde(default = "fetch_defaults::overlap_minutes")]
    pub overlap_minutes: u32,
    /// Download attachment files (default true).
    #[serde(default = "fetch_defaults::yes")]
    pub attachments: bool,
    /// Attachment files larger than this many bytes are not downloaded (default 10 MiB).
    #[serde(default = "fetch_defaults::attachment_size_cap")]
    pub attachment_size_cap: u64,
    /// Remove from the harvest the issues gone from the source (deleted, moved, restricted);
    /// they are always reported.
    #[serde(default)]
    pub remove_deleted: bool,
    /// GitHub: fetch each issue's timeline events (default true).
    #[serde(default = "fetch_defaults::yes")]
    pub timeline: bool,
    /// Seconds to wait for a connection or an answer before retrying (default 60).
    #[serde(default = "fetch_defaults::timeout_seconds")]
    pub timeout_seconds: f64,
    /// Retries of one request on 429, 5xx, timeouts and cut or malformed answers (default 8).
    #[serde(default = "fetch_defaults::retries")]
    pub retries: u32,
    /// The first backoff delay in seconds, doubled at each retry, with jitter (default 1).
    #[serde(default = "fetch_defaults::backoff_seconds")]
    pub backoff_seconds: f64,
    /// Appended to the `User-Agent` (a contact address for the tracker's admins).
    #[serde(default)]
    pub contact: Option<String>,
}

mod fetch_defaults {
    pub fn max_in_flight() -> usize {
        2
    }
    pub fn overlap_minutes() -> u32 {
        10
    }
    pub fn yes() -> bool {
        true
    }
    pub fn attachment_size_cap() -> u64 {
        10 * 1024 * 1024
    }
    pub fn timeout_seconds() -> f64 {
        60.0
    }
    pub fn retries() -> u32 {
        8
    }
    pub fn backoff_seconds() -> f64 {
        1.0
    }
}

/// The trackers a harvest speaks to.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TrackerKind {
    /// JIRA Server, Data Center or Cloud, REST API v2.
    Jira,
    /// Bugzilla 2.x and later.
    Bugzilla,
    /// GitHub's REST API.
    Github,
}

/// How Bugzilla is read.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BugzillaApi {
    /// `buglist.cgi?ctype=csv` and `show_bug.cgi?ctype=xml`: every version.
    #[default]
    Xml,
    /// `/rest/bug` with comments, history and attachments: Bugzilla 5 and later.
    Rest,
}

/// Which JIRA search API a harvest uses.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JiraApi {
    /// REST API v2 (`/rest/api/2/search` with `startAt`): Server and Data Center; falls over
    /// to `Cloud` when that search is gone (410 or 404).
    #[default]
    V2,
    /// JIRA Cloud's enhanced search (`/rest/api/3/search/jql`, `nextPageToken` paging, no
    /// `total`), with the v3 issue resources (bodies as ADF documents).
    Cloud,
}

/// One way commit messages cite issues: a regular expression and the key a match stands for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferencePattern {
    /// A regular expression (Rust `regex` syntax).
    pub regex: String,
    /// The key, with `$1`, `${name}` for the groups (`BZ-$1`); a group holding a list of
    /// numbers (`12755,16494`) gives one key per number.
    pub key: String,
}

/// The export formats hindsight reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// JIRA "Export XML" (RSS 0.92).
    JiraXml,
    /// JIRA REST JSON (`/rest/api/2/search` pages or one issue per file).
    JiraJson,
    /// Bugzilla `show_bug.cgi?ctype=xml`.
    BugzillaXml,
    /// Bugzilla REST JSON (`/rest/bug`, with comments and history).
    BugzillaJson,
    /// GitHub issues REST JSON.
    GithubJson,
    /// hindsight's neutral format: NDJSON, one issue per line.
    Ndjson,
}

impl Format {
    /// The tracker family the format belongs to: the default name of a tracker whose files
    /// are in it.
    pub fn family(self) -> &'static str {
        match self {
            Format::JiraXml | Format::JiraJson => "jira",
            Format::BugzillaXml | Format::BugzillaJson => "bugzilla",
            Format::GithubJson => "github",
            Format::Ndjson => "ndjson",
        }
    }

    /// The name used in the config and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::JiraXml => "jira-xml",
            Format::JiraJson => "jira-json",
            Format::BugzillaXml => "bugzilla-xml",
            Format::BugzillaJson => "bugzilla-json",
            Format::GithubJson => "github-json",
            Format::Ndjson => "ndjson",
        }
    }
}

/// One git repository.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryConfig {
    /// The repository (bare or with a work tree), relative to the config.
    pub path: PathBuf,
    /// Ref globs whose history is published (default `refs/heads/*`, `refs/remotes/*/*`,
    /// `refs/tags/*`; Gerrit's `refs/changes/*` and `refs/pull/*` are never read).
    #[serde(default)]
    pub refs: Option<Vec<String>>,
    /// Regular expressions of release tag names; the numbers they capture are the version
    /// (default: see [`crate::source::releases::DEFAULT_RELEASE_TAGS`]).
    #[serde(default)]
    pub release_tags: Option<Vec<String>>,
    /// Tag names that are never releases, even when a release pattern matches (default:
    /// development tags, see [`crate::source::releases::DEFAULT_NOT_RELEASE_TAGS`]).
    #[serde(default)]
    pub not_release_tags: Option<Vec<String>>,
    /// The most diff text kept per commit page, in bytes (default 65536); the diffstat is
    /// always complete.
    #[serde(default)]
    pub diff_cap: Option<usize>,
    /// `false` leaves diffs off commit pages entirely (smaller sites); diffstats stay.
    #[serde(default)]
    pub diffs: Option<bool>,
    /// The Gerrit server reviews were on (`https://review.whamcloud.com`): `Change-Id`
    /// trailers link to its search.
    #[serde(default)]
    pub gerrit_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: String,
    #[serde(default)]
    output: Option<PathBuf>,
    #[serde(default)]
    cache: Option<PathBuf>,
    #[serde(default)]
    theme: Option<PathBuf>,
    #[serde(default)]
    pages: Option<PathBuf>,
    #[serde(default)]
    projects: Option<Vec<String>>,
    #[serde(default)]
    project_names: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    show_emails: bool,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    redirect_stubs: Option<bool>,
    #[serde(default)]
    issue_json: Option<bool>,
    #[serde(default)]
    attachment_size_cap: Option<u64>,
    #[serde(default, rename = "tracker")]
    trackers: Vec<TrackerConfig>,
    #[serde(default, rename = "repository")]
    repositories: Vec<RepositoryConfig>,
    #[serde(default)]
    backup: BackupConfig,
}

impl Config {
    /// Reads and validates the configuration file at `file`.
    pub fn load(file: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        Self::parse(&text, file)
    }

    /// Parses configuration text as if read from `file`.
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config {
            path: file.to_path_buf(),
            message: describe_toml_error(text, &e),
        })?;
        // The folder is made absolute (without touching the disk), so that the configuration
        // is the same value whichever way its file was named (`hindsight.toml` from its folder,
        // or its full path): what the caches trust is a function of it.
        let file = &std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let root = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let config_error = |message: String| Error::Config {
            path: file.to_path_buf(),
            message,
        };
        if raw.trackers.is_empty() {
            return Err(config_error(
                "no [[tracker]] is configured: there is nothing to publish".into(),
            ));
        }
        for (i, t) in raw.trackers.iter().enumerate() {
            // A tracker with a key prefix but no exports yet still names the keys its
            // references stand for (they are listed, unresolved).
            if t.paths.is_empty() && t.key_prefix.is_none() {
                return Err(config_error(format!(
                    "[[tracker]] #{}: `paths` is empty",
                    i + 1
                )));
            }
            for p in &t.paths {
                glob::Pattern::new(p).map_err(|e| {
                    config_error(format!("[[tracker]] #{}: bad glob {p:?}: {e}", i + 1))
                })?;
            }
            for (repo, prefix) in &t.key_prefixes {
                if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
                    return Err(config_error(format!(
                        "[[tracker]] #{}: key_prefixes: {repo:?} is not a repository (owner/name)",
                        i + 1
                    )));
                }
                if !is_project_key(prefix) {
                    return Err(config_error(format!(
                        "[[tracker]] #{}: key_prefixes: {prefix:?} (for {repo}) must be capital letters and digits, starting with a letter",
                        i + 1
                    )));
                }
            }
            if let Some(tz) = &t.timezone {
                if tz.parse::<chrono_tz::Tz>().is_err() {
                    return Err(config_error(format!(
                        "[[tracker]] #{}: timezone {tz:?} is not an IANA time zone name (like \"America/Los_Angeles\")",
                        i + 1
                    )));
                }
            }
            if let Some(prefix) = &t.key_prefix {
                if !is_project_key(prefix) {
                    return Err(config_error(format!(
                        "[[tracker]] #{}: key_prefix {prefix:?} must be capital letters and digits, starting with a letter",
                        i + 1
                    )));
                }
            }
        }
        if let Some(projects) = &raw.projects {
            for p in projects {
                if !is_project_key(p) {
                    return Err(config_error(format!(
                        "projects: {p:?} is not a project key (capital letters and digits, starting with a letter)"
                    )));
                }
            }
        }
        for (key, name) in &raw.project_names {
            if !is_project_key(key) {
                return Err(config_error(format!(
                    "project_names: {key:?} is not a project key (capital letters and digits, starting with a letter)"
                )));
            }
            if name.trim().is_empty() {
                return Err(config_error(format!(
                    "project_names: {key} has an empty name"
                )));
            }
        }
        for (i, t) in raw.trackers.iter().enumerate() {
            validate_references(t)
                .map_err(|m| config_error(format!("[[tracker]] #{}: {m}", i + 1)))?;
        }
        let mut trackers = raw.trackers;
        for t in &mut trackers {
            if let Some(a) = &mut t.attachments {
                *a = root.join(&*a);
            }
        }
        let mut repositories = raw.repositories;
        for (i, r) in repositories.iter_mut().enumerate() {
            validate_repository(r)
                .map_err(|m| config_error(format!("[[repository]] #{}: {m}", i + 1)))?;
            r.path = root.join(&r.path);
        }
        let page_size = raw.page_size.unwrap_or(100);
        if page_size == 0 {
            return Err(config_error("page_size must be at least 1".into()));
        }
        Ok(Config {
            file: file.to_path_buf(),
            title: raw.title,
            output: root.join(raw.output.unwrap_or_else(|| "public".into())),
            cache: root.join(raw.cache.unwrap_or_else(|| ".hindsight-cache".into())),
            theme: root.join(raw.theme.unwrap_or_else(|| "themes".into())),
            pages: root.join(raw.pages.unwrap_or_else(|| "pages".into())),
            projects: raw.projects,
            project_names: raw.project_names,
            base_url: raw.base_url,
            show_emails: raw.show_emails,
            page_size,
            redirect_stubs: raw.redirect_stubs.unwrap_or(true),
            issue_json: raw.issue_json.unwrap_or(true),
            attachment_size_cap: raw
                .attachment_size_cap
                .unwrap_or(DEFAULT_ATTACHMENT_SIZE_CAP),
            trackers,
            repositories,
            backup: BackupConfig {
                kept_exports: raw.backup.kept_exports.as_ref().map(|p| root.join(p)),
                ..raw.backup
            },
            root,
        })
    }

    /// The key prefix of the Bugzilla tracker, whose bug numbers `bug 1234`, `b=1234`,
    /// `show_bug.cgi?id=1234` and `attachment.cgi?id=N` name: the first tracker with a prefix
    /// that is read as Bugzilla (by its format, or by its name when the format is detected),
    /// never a GitHub tracker's prefix.
    pub fn bug_prefix(&self) -> Option<&str> {
        let named = |t: &TrackerConfig, family: &str| {
            t.format.is_some_and(|f| f.family() == family)
                || t.name
                    .as_deref()
                    .is_some_and(|n| n.to_ascii_lowercase().contains(family))
        };
        self.trackers
            .iter()
            .filter(|t| named(t, "bugzilla"))
            .find_map(|t| t.key_prefix.as_deref())
            .or_else(|| {
                self.trackers
                    .iter()
                    .filter(|t| !named(t, "github"))
                    .find_map(|t| t.key_prefix.as_deref())
            })
    }

    /// Whether issues of `project` are published.
    pub fn publishes_project(&self, project: &str) -> bool {
        match &self.projects {
            Some(list) => list.iter().any(|p| p == project),
            None => true,
        }
    }
}

/// The default `attachment_size_cap`: 10 MiB.
pub const DEFAULT_ATTACHMENT_SIZE_CAP: u64 = 10 * 1024 * 1024;

/// What is wrong with one value of a `[[tracker]]` or `[[repository]]` table (it becomes an
/// [`Error::Config`] naming the table).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Invalid(String);

/// Checks a tracker's reference patterns: each a valid regular expression with a key.
fn validate_references(t: &TrackerConfig) -> std::result::Result<(), Invalid> {
    for p in t.references.iter().flatten() {
        regex::Regex::new(&p.regex)
            .map_err(|e| Invalid(format!("references: bad regex {:?}: {e}", p.regex)))?;
        if p.key.trim().is_empty() {
            return Err(Invalid(format!(
                "references: empty key for regex {:?}",
                p.regex
            )));
        }
    }
    Ok(())
}

/// Checks a repository's ref globs, release tag patterns and Gerrit address.
fn validate_repository(r: &RepositoryConfig) -> std::result::Result<(), Invalid> {
    for g in r.refs.iter().flatten() {
        glob::Pattern::new(g).map_err(|e| Invalid(format!("refs: bad glob {g:?}: {e}")))?;
    }
    for (what, list) in [
        ("release_tags", &r.release_tags),
        ("not_release_tags", &r.not_release_tags),
    ] {
        for p in list.iter().flatten() {
            regex::Regex::new(p)
                .map_err(|e| Invalid(format!("{what}: bad regular expression {p:?}: {e}")))?;
        }
    }
    if let Some(u) = &r.gerrit_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(Invalid(format!(
                "gerrit_url {u:?} must start with http:// or https://"
            )));
        }
    }
    Ok(())
}

fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end().to_string();
    match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("{line}:{column}: {message}")
        }
        None => message,
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0) as u64
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "title = \"T\"\n[[tracker]]\npaths = [\"x/*.xml\"]\n";

    #[test]
    fn the_configuration_is_one_value_however_its_file_is_named() {
        // What the caches trust (the import's stamp, the pages' salt, the search index's
        // fingerprint) is made from this value: naming the file from its folder or by its
        // full path must not make a build start over.
        let text = format!("{MINIMAL}[[repository]]\npath = \"src\"\n");
        let here = std::env::current_dir().unwrap();
        let relative = Config::parse(&text, Path::new("hindsight.toml")).unwrap();
        let absolute = Config::parse(&text, &here.join("hindsight.toml")).unwrap();
        assert_eq!(format!("{relative:?}"), format!("{absolute:?}"));
        assert_eq!(relative.output, here.join("public"));
        let dotted = Config::parse(&text, Path::new("./hindsight.toml")).unwrap();
        assert_eq!(format!("{dotted:?}"), format!("{absolute:?}"));
    }

    #[test]
    fn paths_are_relative_to_the_config_file() {
        let text = format!("{MINIMAL}[[repository]]\npath = \"../src\"\n");
        let c = Config::parse(&text, Path::new("/srv/site/hindsight.toml")).unwrap();
        assert_eq!(c.output, Path::new("/srv/site/public"));
        assert_eq!(c.cache, Path::new("/srv/site/.hindsight-cache"));
        assert_eq!(c.repositories[0].path, Path::new("/srv/site/../src"));
    }

    #[test]
    fn unknown_keys_name_the_key_the_file_and_the_line() {
        let text = format!("projcts = [\"LU\"]\n{MINIMAL}");
        let e = Config::parse(&text, Path::new("site/hindsight.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("site/hindsight.toml: 1:1:"), "{msg}");
        assert!(msg.contains("projcts"), "{msg}");
    }

    #[test]
    fn unknown_keys_inside_a_tracker_are_errors_too() {
        let text = format!("{MINIMAL}formt = \"jira-xml\"\n");
        let e = Config::parse(&text, Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("formt"), "{e}");
    }

    #[test]
    fn project_names_are_checked_and_kept() {
        let text = format!("{MINIMAL}[project_names]\nBZ = \"Lustre (Bugzilla)\"\n");
        let c = Config::parse(&text, Path::new("h.toml")).unwrap();
        assert_eq!(c.project_names["BZ"], "Lustre (Bugzilla)");
        let bad = format!("{MINIMAL}[project_names]\nbz = \"x\"\n");
        let e = Config::parse(&bad, Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("\"bz\" is not a project key"), "{e}");
        let empty = format!("{MINIMAL}[project_names]\nBZ = \" \"\n");
        let e = Config::parse(&empty, Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("BZ has an empty name"), "{e}");
    }

    #[test]
    fn a_config_without_trackers_is_refused() {
        let e = Config::parse("title = \"T\"\n", Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("no [[tracker]]"), "{e}");
    }

    #[test]
    fn github_prefixes_per_repository() {
        let text =
            format!("{MINIMAL}[tracker.key_prefixes]\n\"lustre/lustre-release\" = \"LU_GH\"\n");
        let c = Config::parse(&text, Path::new("h.toml")).unwrap();
        let t = &c.trackers[0];
        assert_eq!(t.github_prefix("lustre/lustre-release"), "LU_GH");
        assert_eq!(t.github_prefix("Lustre/Lustre-Release"), "LU_GH");
        assert_eq!(t.github_prefix("acme/fs-tools"), "FS_TOOLS");
        assert_eq!(t.github_prefix("acme/2fa"), "GH2FA");
        assert_eq!(t.github_prefix(""), "GH");
        let bad = format!("{MINIMAL}[tracker.key_prefixes]\n\"a/b\" = \"lower\"\n");
        let e = Config::parse(&bad, Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("key_prefixes"), "{e}");
    }

    #[test]
    fn timezones_are_iana_names() {
        let ok = format!("{MINIMAL}timezone = \"America/Los_Angeles\"\n");
        assert!(Config::parse(&ok, Path::new("h.toml")).is_ok());
        let bad = format!("{MINIMAL}timezone = \"PST8PDT-ish\"\n");
        let e = Config::parse(&bad, Path::new("h.toml")).unwrap_err();
        assert!(e.to_string().contains("timezone"), "{e}");
    }

    #[test]
    fn default_names_follow_the_format() {
        assert_eq!(Format::BugzillaXml.family(), "bugzilla");
        assert_eq!(Format::GithubJson.family(), "github");
        assert_eq!(Format::JiraJson.family(), "jira");
    }

    #[test]
    fn project_filter() {
        let text = format!("projects = [\"LU\"]\n{MINIMAL}");
        let c = Config::parse(&text, Path::new("h.toml")).unwrap();
        assert!(c.publishes_project("LU"));
        assert!(!c.publishes_project("LDEV"));
    }
}
