//! The neutral archive model: what every importer produces and every later stage reads.
//!
//! The model is deliberately tracker-neutral. A JIRA item, a Bugzilla bug and a GitHub issue all
//! become an [`Issue`]; a git commit becomes a [`Commit`]. It is also hindsight's own exchange
//! format: serialised with serde to JSON it is the per-issue `.json` file written beside each
//! issue page, and one issue per line it is the NDJSON that `hindsight export` writes and the
//! neutral importer reads. Field names are therefore part of a public schema: add fields, never
//! rename them.
//!
//! Conventions:
//! - Optional scalars are `Option`; absent lists are empty and are skipped when serialising, so a
//!   converter from another tracker need only write what it has.
//! - Times keep their original offset ([`Timestamp`]), because the archive shows UTC but a reader
//!   sometimes needs the reporter's local time to line up with a log.
//! - Text keeps its source markup ([`Text`]); rendering to safe HTML is the render stage's job.
//! - Restriction is explicit ([`Visibility`]). Importers record what the source says; the import
//!   stage's admission step drops everything that is not [`Visibility::Public`] before it reaches
//!   the store, so no later stage ever sees restricted content.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};

/// Why a date in an export could not be read (the importer turns it into a warning that names
/// the file, position and issue, and leaves the field empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Outside the four-digit years RFC 3339 (and so the neutral format) can hold.
    #[error("year {0} is out of range")]
    YearOutOfRange(i32),
    /// Not in any form the export format writes dates in.
    #[error("`{text}` is not a date like `{example}`")]
    Unreadable {
        /// The text as found.
        text: String,
        /// What the format's dates look like.
        example: &'static str,
    },
    /// In the right form, but no such instant (a time skipped by a clock change, a year out of
    /// range).
    #[error("`{text}` is not a valid time{}", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Invalid {
        /// The text as found.
        text: String,
        /// Why, when more is known.
        reason: Option<Box<DateError>>,
    },
}

/// An instant with the UTC offset it was recorded in.
///
/// Serialised as RFC 3339 with the original offset (`2023-07-28T00:11:05-07:00`), so the neutral
/// format keeps both the instant and the reporter's wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Timestamp {
    /// A timestamp the neutral format can hold: RFC 3339 has four-digit years only, so a date
    /// in year 72023 (a typo in an export) would be written out but never read back.
    pub fn checked(t: DateTime<FixedOffset>) -> std::result::Result<Timestamp, DateError> {
        use chrono::Datelike;
        let utc = t.with_timezone(&chrono::Utc).year();
        if (1..=9999).contains(&t.year()) && (1..=9999).contains(&utc) {
            Ok(Timestamp(t))
        } else {
            Err(DateError::YearOutOfRange(t.year()))
        }
    }

    /// Seconds since the Unix epoch, for ordering and bucketing by year.
    pub fn unix(&self) -> i64 {
        self.0.timestamp()
    }

    /// The instant in UTC, formatted for pages: `2023-07-28 07:11 UTC`.
    pub fn utc_display(&self) -> String {
        use chrono::{Datelike, Timelike};
        let t = self.0.with_timezone(&chrono::Utc);
        // Written out by hand: chrono reads its format string again on every call, which
        // showed in profiles of builds (a page shows many times). Years outside four digits
        // are left to chrono's own notation.
        if !(0..=9999).contains(&t.year()) {
            return t.format("%Y-%m-%d %H:%M UTC").to_string();
        }
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    /// The original wall-clock time and offset: `2023-07-28 00:11:05 -0700`.
    pub fn original_display(&self) -> String {
        use chrono::{Datelike, Timelike};
        let (t, offset) = (&self.0, self.0.offset().local_minus_utc());
        // (A leap second, nanoseconds past 10^9, is shown as `:60` by chrono.)
        if !(0..=9999).contains(&t.year()) || offset % 60 != 0 || t.nanosecond() >= 1_000_000_000 {
            return t.format("%Y-%m-%d %H:%M:%S %z").to_string();
        }
        let (sign, minutes) = (if offset < 0 { '-' } else { '+' }, offset.abs() / 60);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            minutes / 60,
            minutes % 60
        )
    }

    /// RFC 3339 with the original offset, as stored in the neutral format.
    pub fn rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// RFC 3339 in UTC (`...Z`), for machine-readable attributes such as `<time datetime>`.
    pub fn rfc3339_utc(&self) -> String {
        self.0
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The calendar year in UTC, used by listings and search filters.
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        self.0.with_timezone(&chrono::Utc).year()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Parses the string where the format holds it, without a copy (every stored issue
        /// is read by every build: its dates are millions of strings).
        struct Rfc3339;
        impl serde::de::Visitor<'_> for Rfc3339 {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
                DateTime::parse_from_rfc3339(s)
                    .map(Timestamp)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(Rfc3339)
    }
}

/// The markup a piece of text is written in; decides how the render stage turns it into HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Markup {
    /// Plain text (Bugzilla comments, commit messages): escaped, autolinked, whitespace kept.
    #[default]
    Plain,
    /// HTML already rendered by the tracker (JIRA XML export, REST `renderedFields`): sanitised.
    Html,
    /// CommonMark with GitHub extensions (GitHub issues).
    Markdown,
    /// JIRA wiki markup (JIRA REST without `renderedFields`).
    JiraWiki,
}

/// A piece of user-written text together with its markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Text {
    /// How `content` is written.
    pub markup: Markup,
    /// The text as the source holds it (entities already decoded).
    pub content: String,
    /// The same text in the tracker's own markup, when the source gives both and `content` is
    /// the tracker's rendering of it (JIRA REST with `renderedFields`: the wiki source of the
    /// HTML). Kept, not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Text {
    /// Text of the given markup.
    pub fn new(markup: Markup, content: impl Into<String>) -> Self {
        Text {
            markup,
            content: content.into(),
            source: None,
        }
    }

    /// True when there is nothing but whitespace to show.
    pub fn is_blank(&self) -> bool {
        self.content.trim().is_empty()
    }
}

/// A person as the source names them. Pages show `display`; `email` is kept in the model only
/// when the source has it, and is masked on output unless the configuration allows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Person {
    /// The tracker's stable login or key (`jhammond`, `JIRAUSER1258790`, a Bugzilla login).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login: String,
    /// The name shown to readers.
    pub display: String,
    /// An e-mail address, when the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The tracker's internal id of the account (JIRA's user `key`, GitHub's and Bugzilla's
    /// numeric user id), when the source gives one that differs from `login`. Kept, not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Who may see an item in the source tracker. Only `Public` items are ever published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum Visibility {
    /// Anyone who could read the tracker anonymously.
    #[default]
    Public,
    /// Under a JIRA issue security level (`<security>`, `fields.security`).
    SecurityLevel(String),
    /// Limited to a role (`rolelevel`, REST `visibility.type = role`).
    Role(String),
    /// Limited to a group (`grouplevel`, Bugzilla groups, REST `visibility.type = group`).
    Group(String),
    /// Marked private (Bugzilla `isprivate`, `is_private`).
    Private,
}

impl Visibility {
    /// True for the only visibility that may be published.
    pub fn is_public(&self) -> bool {
        matches!(self, Visibility::Public)
    }
}

/// The project (JIRA project, Bugzilla product, GitHub repository) an issue belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Project {
    /// The key that prefixes issue keys (`LU`), or the configured prefix for numeric trackers.
    pub key: String,
    /// The human name (`Lustre`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The tracker's internal id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A comment on an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Comment {
    /// The tracker's comment id; page anchors are derived from it (`#comment-12345`, `#c3`).
    pub id: String,
    /// Bugzilla's per-bug comment number (`#c3`), when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// Who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    /// When it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When it was last edited, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// The comment text.
    pub body: Text,
    /// Reactions by name (`+1`, `heart`…) with their counts, as GitHub has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, u64>,
    /// Tags put on the comment (Bugzilla comment tags such as `spam`, `obsolete`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The author's relation to the repository when they wrote it (GitHub
    /// `author_association`: `MEMBER`, `CONTRIBUTOR`, `NONE`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_association: Option<String>,
    /// Who may see it.
    #[serde(default, skip_serializing_if = "Visibility::is_public")]
    pub visibility: Visibility,
}

/// The bytes of an attachment, when the export carries them (Bugzilla XML with data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum AttachmentContent {
    /// Embedded in the export, base64-encoded as the export had it.
    Base64 { data: String },
    /// A file on disk, relative to the tracker's configured attachments folder. In the per-issue
    /// JSON of a built site: the site's copy, relative to the site root
    /// (`attachments/BZ/0/567/fix.patch`).
    File { path: String },
    /// The original archive had the file, but this copy of it left the bytes out: they were
    /// over the size cap of the site it was published in (a site's backup says so, so that a
    /// site rebuilt from it lists the file the same way).
    Withheld { size: u64 },
}

/// A file attached to an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Attachment {
    /// The tracker's attachment id.
    pub id: String,
    /// The file name as uploaded (untrusted: never used as a path without sanitising).
    pub name: String,
    /// Size in bytes, as the source states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// MIME type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// A description (Bugzilla `desc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who attached it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When its details last changed (Bugzilla `delta_ts`, `last_change_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// The file's address on the old tracker (JIRA REST `content`); never linked, as the
    /// server is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Bugzilla's `isobsolete`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub obsolete: bool,
    /// Bugzilla's `ispatch`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub patch: bool,
    /// Where the bytes are, if the archive has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<AttachmentContent>,
    /// Who may see it.
    #[serde(default, skip_serializing_if = "Visibility::is_public")]
    pub visibility: Visibility,
}

/// Which end of a typed link an issue is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LinkDirection {
    /// This issue → target ("blocks", "is related to").
    #[default]
    Outward,
    /// Target → this issue ("is blocked by").
    Inward,
}

/// A typed link between issues (JIRA issue links, Bugzilla `dependson`/`blocked`/`dup_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IssueLink {
    /// The link type's name (`Related`, `Blocker`, `Duplicate`).
    pub kind: String,
    /// The phrase the tracker shows from this issue's side (`is related to`, `is blocked by`).
    pub description: String,
    /// Which end this issue is on.
    pub direction: LinkDirection,
    /// The other issue's key.
    pub target: String,
    /// The tracker's id of the link itself (JIRA REST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tracker's id of the link type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// The tracker's internal id of the other issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

/// What a tracker says about one version (JIRA REST); see
/// [`Issue::version_details`]. Kept, not shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VersionDetails {
    /// The tracker's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The release date as the tracker gives it (JIRA `releaseDate`, `2015-05-01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    /// Released (JIRA `released`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub released: bool,
    /// Archived (JIRA `archived`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
}

/// A custom field with its values, as the tracker names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CustomField {
    /// The tracker's id (`customfield_10020`, `cf_release`).
    pub id: String,
    /// The field's type key, when the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The field's display name.
    pub name: String,
    /// Its values, in source order.
    pub values: Vec<String>,
}

/// One change of one field, part of a [`HistoryEntry`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FieldChange {
    /// The field's name.
    pub field: String,
    /// The value before, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The value after, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A changelog entry: who changed which fields when (JIRA REST changelog, Bugzilla history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HistoryEntry {
    /// The tracker's id of the event, when it has one (GitHub's `#event-N` anchors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    /// When.
    pub created: Option<Timestamp>,
    /// The fields changed together.
    pub changes: Vec<FieldChange>,
}

/// Time logged against an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Worklog {
    /// The tracker's id.
    pub id: String,
    /// Who logged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    /// When the work started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    /// When the work was logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When the log entry was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Seconds spent.
    pub seconds: u64,
    /// What was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
    /// Who may see it.
    #[serde(default, skip_serializing_if = "Visibility::is_public")]
    pub visibility: Visibility,
}

/// One issue (bug, ticket, task, pull request) of one tracker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Issue {
    /// The configured name of the tracker it came from (`jira`, `bugzilla`).
    pub source: String,
    /// The tracker's internal id (JIRA `<key id>`, Bugzilla `bug_id`); de-duplication key.
    pub id: String,
    /// The key readers know it by (`LU-1234`; Bugzilla bugs get the tracker's prefix).
    pub key: String,
    /// Its project.
    pub project: Project,
    /// The repository, when one tracker holds several (GitHub `owner/name`): pages show the
    /// issue as `owner/name#number`, and `owner/name#N` in text finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Its address on the original tracker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The one-line summary.
    pub summary: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The environment field (JIRA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Text>,
    /// Bug, Improvement, Task…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// Whether this is a pull request (GitHub) rather than an issue.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pull_request: bool,
    /// Priority (JIRA priority, Bugzilla priority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Severity (Bugzilla `bug_severity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Workflow status (Open, Resolved, NEW, CLOSED…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The status's category: `new`, `indeterminate` or `done` (JIRA's statusCategory keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<String>,
    /// Resolution (Fixed, Duplicate…); `None` while unresolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Assignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Person>,
    /// Everyone assigned, when the tracker allows several (GitHub); `assignee` is the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<Person>,
    /// Reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Person>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Last updated; the newest copy wins when exports overlap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Timestamp>,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
    /// Labels (JIRA labels, Bugzilla keywords, GitHub labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// A label's colour as six hex digits (`d73a4a`), when the tracker gives one (GitHub).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label_colors: BTreeMap<String, String>,
    /// What the tracker says about a version named in `versions` or `fix_versions`, by its
    /// name (JIRA REST versions).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version_details: BTreeMap<String, VersionDetails>,
    /// When a pull request was merged; pages show merged apart from closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Timestamp>,
    /// Reactions to the issue by name (`+1`, `heart`…) with their counts (GitHub).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, u64>,
    /// Affects versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Fix versions (Bugzilla target milestone, GitHub milestone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fix_versions: Vec<String>,
    /// Components.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Votes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<u32>,
    /// Watchers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watches: Option<u32>,
    /// The parent issue's key, for sub-tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Sub-task keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtasks: Vec<String>,
    /// Typed links to other issues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<IssueLink>,
    /// Comments, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<Comment>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Custom fields, in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomField>,
    /// Other named fields a tracker has that the model has no slot for (Bugzilla `op_sys`,
    /// `rep_platform`, `status_whiteboard`…), sorted by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// The changelog, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// Logged work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub worklogs: Vec<Worklog>,
    /// Who may see the issue.
    #[serde(default, skip_serializing_if = "Visibility::is_public")]
    pub visibility: Visibility,
}

impl Issue {
    /// Takes out the issue's texts (description, environment, and each comment's body, with
    /// its reactions and tags), keeping who wrote what when: for passes that read only that.
    pub fn drop_texts(&mut self) {
        self.description = None;
        self.environment = None;
        for c in &mut self.comments {
            c.body = Default::default();
            c.reactions = Default::default();
            c.tags = Vec::new();
        }
    }

    /// The people of the issue in their roles: assignee, reporter, and the authors of its
    /// comments, attachments, history entries and worklogs (not the list of `assignees`).
    pub fn people_mut(&mut self) -> impl Iterator<Item = &mut Person> {
        (self.assignee.iter_mut())
            .chain(self.reporter.iter_mut())
            .chain(self.comments.iter_mut().filter_map(|c| c.author.as_mut()))
            .chain(
                self.attachments
                    .iter_mut()
                    .filter_map(|a| a.author.as_mut()),
            )
            .chain(self.history.iter_mut().filter_map(|h| h.author.as_mut()))
            .chain(self.worklogs.iter_mut().filter_map(|w| w.author.as_mut()))
    }
}

/// A git identity with the time and offset it signed at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Signature {
    /// Name, after `.mailmap`.
    pub name: String,
    /// E-mail, after `.mailmap` (masked on output unless configured otherwise).
    pub email: String,
    /// When.
    pub time: Option<Timestamp>,
}

/// Lines added and removed in one file of a commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileStat {
    /// The path after the change (before it, for deletions).
    pub path: String,
    /// The path before a rename or copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// Lines added.
    pub added: u32,
    /// Lines removed.
    pub removed: u32,
    /// True when either side is binary (no line counts).
    #[serde(default, skip_serializing_if = "is_false")]
    pub binary: bool,
}

/// A trailer line of a commit message (`Change-Id: I…`, `Reviewed-on: …`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Trailer {
    /// The token before the colon, as written.
    pub key: String,
    /// The value after it.
    pub value: String,
}

/// One commit of the source history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Commit {
    /// Full hex object id.
    pub id: String,
    /// Parent ids, in order; a parent missing from a shallow clone is still listed.
    pub parents: Vec<String>,
    /// Author.
    pub author: Signature,
    /// Committer.
    pub committer: Signature,
    /// The first line of the message.
    pub subject: String,
    /// The rest of the message (trailers included), lossily decoded to UTF-8.
    pub body: String,
    /// Trailers parsed from the last paragraph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trailers: Vec<Trailer>,
    /// Per-file line counts, always complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffstat: Vec<FileStat>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_as_chrono_formats_them() {
        use chrono::{FixedOffset, TimeZone};
        let mut seconds: i64 = -62_135_596_800; // 0001-01-01
        let mut offset: i32 = -50_400;
        while seconds < 253_402_300_799 {
            let zone = FixedOffset::east_opt(offset).unwrap();
            let t = Timestamp(zone.timestamp_opt(seconds, 0).unwrap());
            assert_eq!(
                t.utc_display(),
                t.0.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string()
            );
            assert_eq!(
                t.original_display(),
                t.0.format("%Y-%m-%d %H:%M:%S %z").to_string()
            );
            seconds += 37_171_993; // about 14 months, and odd seconds
            offset = (offset + 3_599) % 50_400; // odd offsets too, which chrono shows
        }
        let leap = DateTime::parse_from_rfc3339("2016-12-31T23:59:60+00:00").unwrap();
        assert_eq!(
            Timestamp(leap).original_display(),
            "2016-12-31 23:59:60 +0000"
        );
    }

    #[test]
    fn timestamps_outside_four_digit_years_are_refused() {
        // Found by fuzzing the JIRA XML importer: `Tue, 1 Aug 72023 14:22:09 +0000` was
        // accepted and gave per-issue JSON that could not be imported again.
        let far = DateTime::parse_from_rfc2822("Tue, 1 Aug 72023 14:22:09 +0000").unwrap();
        assert!(Timestamp::checked(far).is_err());
        let edge = DateTime::parse_from_rfc3339("9999-12-31T23:00:00-05:00").unwrap();
        assert!(Timestamp::checked(edge).is_err());
        let ok = DateTime::parse_from_rfc2822("Tue, 1 Aug 2023 14:22:09 +0000").unwrap();
        let t = Timestamp::checked(ok).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        let bz = crate::import::bugzilla_xml::parse_date("72023-01-01 10:00:00 +0000");
        assert!(bz.is_err(), "{bz:?}");
    }

    #[test]
    fn timestamp_round_trips_with_its_offset() {
        let t = Timestamp(DateTime::parse_from_rfc2822("Fri, 28 Jul 2023 00:11:05 -0700").unwrap());
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-07-28T00:11:05-07:00\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert_eq!(t.utc_display(), "2023-07-28 07:11 UTC");
        assert_eq!(t.original_display(), "2023-07-28 00:11:05 -0700");
    }

    #[test]
    fn empty_fields_are_left_out_of_the_neutral_format() {
        let issue = Issue {
            source: "jira".into(),
            id: "1".into(),
            key: "LU-1".into(),
            project: Project {
                key: "LU".into(),
                ..Default::default()
            },
            summary: "s".into(),
            ..Default::default()
        };
        let json = serde_json::to_string(&issue).unwrap();
        assert_eq!(
            json,
            r#"{"source":"jira","id":"1","key":"LU-1","project":{"key":"LU"},"summary":"s"}"#
        );
        let back: Issue = serde_json::from_str(&json).unwrap();
        assert_eq!(back, issue);
    }

    #[test]
    fn visibility_serialises_as_a_tagged_value() {
        let v = Visibility::Role("Developers".into());
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"kind":"role","name":"Developers"}"#
        );
    }
}
