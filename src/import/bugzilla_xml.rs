//! Bugzilla XML importer (`show_bug.cgi?ctype=xml`: `<bugzilla><bug>…</bug>…</bugzilla>`).
//!
//! Streamed like the JIRA XML importer: quick-xml events over a `BufReader<File>` with one
//! reused buffer, so memory is bounded by the largest bug (attachment data included), never by
//! the file. Each `<bug>` becomes one [`Record::Issue`] when its `</bug>` is read, preceded by a
//! [`Record::Person`] for every (login, real name) pair it names (once per file) and by its
//! warnings.
//!
//! Decisions worth knowing:
//!
//! - **Keys.** Bug `N` becomes `{key_prefix}-N` (`BZ-N` when the tracker has no `key_prefix`);
//!   the project is that prefix, named after the bug's `<product>`. A `bug_id` that is not a
//!   plain number is skipped with a warning.
//! - **Text** is plain (Bugzilla comments are not markup): entities decoded once, line ends
//!   normalised, [`Markup::Plain`]. The first comment (`comment_count` 0, or the first
//!   `<long_desc>` when the export has no counts) is the description and is not repeated as a
//!   comment; when that comment is private it stays a private comment and the bug has no
//!   description, so admission drops it. Comments keep Bugzilla's numbers
//!   ([`Comment::number`]) so pages keep the old `#c3` anchors.
//! - **Restrictions** are recorded, never acted on: a bug in any `<group>` is
//!   [`Visibility::Group`]; `isprivate="1"` on a `<long_desc>` or `<attachment>` makes it
//!   [`Visibility::Private`]. People named only by a restricted bug, or only as authors of
//!   private comments and attachments, are not put in the directory; flags of a private
//!   attachment are dropped with it.
//! - **Stubs** `<bug error="NotPermitted|NotFound|InvalidBugId">` are skipped with a warning.
//! - **Dates** `2007-10-18 05:56:11 -0700`; also without seconds, with a zone name (`PST`,
//!   `UTC`…), as a MySQL TIMESTAMP (`20040521142009`), or without any zone (read in the
//!   tracker's `timezone`, UTC with one warning per file when none is named). An unreadable
//!   date is a warning.
//! - **Issuezilla** (`<issuezilla><issue>`, Tigris/CollabNet and java.net trackers) is read with
//!   its element names mapped to Bugzilla's (`issuezilla_alias`), plus what only it has: the
//!   field-change history as `<activity>` elements (`user`, `when`, `field_name`,
//!   `field_desc`, `oldvalue`, `newvalue`; changes by one person at one time become one
//!   [`HistoryEntry`]), relations written as `<dependson><issue_id>7</issue_id></dependson>`
//!   (also `blocks`, `is_duplicate`, `has_duplicates`), attachments' `submitter_id` and
//!   `attachment_iz_url`, and stubs marked `status_code` other than 200.
//! - **Malformed XML** is a fatal [`Error::Parse`] with file, line, column and, when known, the
//!   bug's key; positions are computed as in the JIRA importer.
//! - **Bytes that are not UTF-8** are read as Windows-1252 (see `Utf8Repair`) and reported in
//!   one warning per file at the first of them: a Bugzilla without its `utf8` parameter exports
//!   whatever its database holds, and refusing the file would leave such archives unpublishable.

use std::cell::Cell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use quick_xml::events::BytesStart;
use quick_xml::Reader;

use super::position::Positions;
use super::xml::{self, for_each_attribute, Handler as _};
use super::{Record, Source, Warning};
use crate::error::{Error, Result};
use crate::model::{
    Attachment, AttachmentContent, Comment, CustomField, DateError, FieldChange, HistoryEntry,
    Issue, IssueLink, LinkDirection, Markup, Person, Project, Text, Timestamp, Visibility,
};

/// Whether the start of a file looks like a Bugzilla XML export.
pub fn sniff(head: &str) -> bool {
    head.contains("<bugzilla") || head.contains("<issuezilla")
}

/// Issuezilla (the Bugzilla fork of Tigris/CollabNet, `<issuezilla><issue>`) names a few
/// elements its own way; read as their Bugzilla counterparts. Its other elements
/// (`subcomponent`, `issue_type`…) are kept in [`Issue::extra`] under their own names.
fn issuezilla_alias(name: &str) -> &str {
    match name {
        "issuezilla" => "bugzilla",
        "issue" => "bug",
        "issue_id" => "bug_id",
        "issue_status" => "bug_status",
        "issue_when" => "bug_when",
        "issue_file_loc" => "bug_file_loc",
        "blocks" => "blocked",
        "mimetype" => "type",
        "submitting_username" => "attacher",
        other => other,
    }
}

/// Reads one `show_bug.cgi?ctype=xml` file (any number of bugs), emitting its bugs and people.
///
/// Per `<bug>`: `bug_id`, `alias`, `creation_ts`, `delta_ts`, `short_desc`, `classification`,
/// `product`, `component`, `version`, `rep_platform`, `op_sys`, `bug_status`, `resolution`,
/// `dup_id`, `bug_file_loc`, `status_whiteboard`, `keywords`, `priority`, `bug_severity`,
/// `bug_type`, `target_milestone`, `dependson`, `blocked`, `regressed_by`, `regresses`,
/// `see_also`, `everconfirmed`, `reporter`, `assigned_to`, `qa_contact`, `cc`, `group`, `flag`,
/// `votes`, time tracking, `cf_*`, `long_desc` and `attachment` (with their data); any other
/// simple element goes to [`Issue::extra`] under its name.
pub fn read_file(
    path: &Path,
    source: &Source,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let repair = Rc::new(RepairLog::default());
    let input = Utf8Repair::new(file, Some(repair.clone()));
    let mut reader = Reader::from_reader(BufReader::with_capacity(128 * 1024, input));
    let mut parser = Parser::new(path, source);
    let end = xml::read_events(&mut reader, &mut parser, emit)?;
    parser.finish(end, &repair, emit)
}

/// The place of an element in the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    Bug,
    /// A child of `<bug>` other than the two below.
    BugField,
    LongDesc,
    CommentField,
    Attachment,
    AttachmentField,
    /// Issuezilla's `<activity>`: one change of one field.
    Activity,
    ActivityField,
    /// Issuezilla's `<issue_id>` inside a relation (`<dependson><issue_id>7</issue_id>…`).
    RelationTarget,
    /// Anything else: skipped with its content.
    Other,
}

impl Kind {
    fn child(self, name: &str) -> Kind {
        match (self, name) {
            (Kind::Root, "bug") => Kind::Bug,
            (Kind::Bug, "long_desc") => Kind::LongDesc,
            (Kind::Bug, "attachment") => Kind::Attachment,
            (Kind::Bug, "activity") => Kind::Activity,
            (Kind::Bug, _) => Kind::BugField,
            (Kind::BugField, "bug_id") => Kind::RelationTarget,
            (Kind::LongDesc, _) => Kind::CommentField,
            (Kind::Attachment, _) => Kind::AttachmentField,
            (Kind::Activity, _) => Kind::ActivityField,
            _ => Kind::Other,
        }
    }

    fn captures(self) -> bool {
        matches!(
            self,
            Kind::BugField
                | Kind::CommentField
                | Kind::AttachmentField
                | Kind::ActivityField
                | Kind::RelationTarget
        )
    }
}

/// One open element.
struct Frame {
    kind: Kind,
    name: String,
    /// Decoded attributes, for the elements whose attributes are read.
    attrs: Vec<(String, String)>,
    /// Whether an element was opened inside it (its text is then not a value).
    has_children: bool,
}

impl Frame {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The state of one file's parse.
struct Parser<'a> {
    source: &'a Source,
    prefix: String,
    positions: Positions,
    stack: Vec<Frame>,
    /// Text of the innermost capturing element, entities decoded.
    text: String,
    /// Where that element's content starts.
    text_at: u64,
    seen_root: bool,
    /// `urlbase` of the current `<bugzilla>`, ending in `/`.
    urlbase: Option<String>,
    /// Issuezilla's `project_name` on the root: the project of issues without a `<product>`.
    project_name: Option<String>,
    bug: Option<BugState>,
    /// (login, display) pairs already emitted from this file.
    people: HashSet<(String, String)>,
    /// Whether this file's warning about times without a zone was given (once per file).
    zoneless_warned: bool,
}

/// What is known about the `<bug>` being read.
#[derive(Default)]
struct BugState {
    /// Offset of `<bug`.
    at: u64,
    error: Option<String>,
    bug_id: Option<String>,
    issue: Issue,
    /// (index in document order, `comment_count` if given, comment).
    comments: Vec<(usize, Option<u32>, Comment)>,
    comment: Option<(Option<u32>, Comment)>,
    attachment: Option<Attachment>,
    sort_order: Option<String>,
    /// Targets as bug numbers: (kind, description, direction, number).
    links: Vec<(&'static str, &'static str, LinkDirection, String)>,
    /// The Issuezilla `<activity>` being read: who, when, the change.
    activity: Option<Activity>,
    see_also: Vec<String>,
    cc: Vec<String>,
    groups: Vec<String>,
    flags: Vec<String>,
    /// The flags' internal ids, for `extra["flag_ids"]`.
    flag_ids: Vec<String>,
    people: Vec<Person>,
    warnings: Vec<(u64, String)>,
    /// The tracker's zone for times written without one.
    timezone: Option<chrono_tz::Tz>,
    /// Offset of the first time without a zone read as UTC (no `timezone` configured).
    zoneless_at: Option<u64>,
}

impl xml::Handler for Parser<'_> {
    const TEXT_OUTSIDE_ROOT: &'static str = "text where the <bugzilla> element should be";

    fn start(&mut self, e: &BytesStart<'_>, start: u64, end: u64) -> Result<()> {
        Parser::start(self, e, start, end)
    }

    fn end(&mut self, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        Parser::end(self, emit)
    }

    fn capturing(&self) -> bool {
        matches!(self.stack.last(), Some(f) if f.kind.captures())
    }

    fn outside_root(&self) -> bool {
        self.stack.is_empty()
    }

    fn text(&mut self) -> &mut String {
        &mut self.text
    }

    fn not_an_export(&mut self, at: u64, detail: &str) -> Error {
        self.parse_error(at, format!("not a Bugzilla XML export: {detail}"))
    }

    fn xml_error(&mut self, e: quick_xml::Error, start: u64, _end: u64, error_at: u64) -> Error {
        // Bytes that are not UTF-8 were read as Windows-1252: no encoding error reaches here.
        let key = self.current_key();
        xml::xml_error(&mut self.positions, e, start, error_at, key)
    }
}

impl<'a> Parser<'a> {
    fn new(path: &'a Path, source: &'a Source) -> Self {
        Parser {
            source,
            prefix: source
                .key_prefix
                .clone()
                .unwrap_or_else(|| "BZ".to_string()),
            positions: Positions::new(path, true),
            stack: Vec::with_capacity(8),
            text: String::with_capacity(64 * 1024),
            text_at: 0,
            seen_root: false,
            urlbase: None,
            project_name: None,
            bug: None,
            people: HashSet::new(),
            zoneless_warned: false,
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, start: u64, end: u64) -> Result<()> {
        let name = issuezilla_alias(e.name().0);
        let kind = match self.stack.last_mut() {
            Some(parent) => {
                parent.has_children = true;
                parent.kind.child(name)
            }
            None if name == "bugzilla" => {
                self.seen_root = true;
                Kind::Root
            }
            None => {
                let message = format!(
                    "not a Bugzilla XML export: the root element is <{name}>, expected <bugzilla>"
                );
                return Err(self.parse_error(start, message));
            }
        };
        let mut attrs = Vec::new();
        if kind != Kind::Other && !e.attributes_raw().trim().is_empty() {
            for_each_attribute(e, |k, v| attrs.push((k.to_string(), v.to_string())));
        }
        let frame = Frame {
            kind,
            name: name.to_string(),
            attrs,
            has_children: false,
        };
        match kind {
            Kind::Root => {
                self.project_name = frame.attr("project_name").and_then(non_blank);
                self.urlbase = frame.attr("urlbase").and_then(|u| {
                    let u = u.trim();
                    (!u.is_empty()).then(|| {
                        if u.ends_with('/') {
                            u.to_string()
                        } else {
                            format!("{u}/")
                        }
                    })
                });
            }
            Kind::Bug => {
                // Issuezilla marks a stub with `status_code` other than 200 (and says why in
                // `status_message`) where Bugzilla writes `error`.
                let issuezilla_error = frame
                    .attr("status_code")
                    .filter(|c| c.trim() != "200")
                    .map(|c| frame.attr("status_message").unwrap_or(c).to_string());
                self.bug = Some(BugState {
                    at: start,
                    error: frame.attr("error").map(str::to_string).or(issuezilla_error),
                    timezone: self.source.timezone,
                    ..Default::default()
                });
            }
            Kind::LongDesc => {
                if let Some(bug) = &mut self.bug {
                    let mut c = Comment::default();
                    if frame.attr("isprivate").is_some_and(is_true) {
                        c.visibility = Visibility::Private;
                    }
                    bug.comment = Some((None, c));
                }
            }
            Kind::Attachment => {
                if let Some(bug) = &mut self.bug {
                    let mut a = Attachment::default();
                    for (k, v) in &frame.attrs {
                        match k.as_str() {
                            "isprivate" if is_true(v) => a.visibility = Visibility::Private,
                            "isobsolete" => a.obsolete = is_true(v),
                            "ispatch" => a.patch = is_true(v),
                            _ => {}
                        }
                    }
                    bug.attachment = Some(a);
                }
            }
            Kind::Activity => {
                if let Some(bug) = &mut self.bug {
                    bug.activity = Some(Activity::default());
                }
            }
            _ => {}
        }
        if kind.captures() {
            self.text.clear();
            self.text_at = end;
        }
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let at = self.text_at;
        match frame.kind {
            Kind::Root => {
                self.urlbase = None;
                self.project_name = None;
            }
            Kind::Bug => {
                if let Some(bug) = self.bug.take() {
                    self.finish_bug(bug, emit)?;
                }
            }
            Kind::BugField if !frame.has_children => {
                if let Some(bug) = &mut self.bug {
                    bug.field(&frame, &self.text, at);
                }
            }
            Kind::CommentField if !frame.has_children => {
                if let Some(bug) = &mut self.bug {
                    bug.comment_field(&frame, &self.text, at);
                }
            }
            Kind::AttachmentField if !frame.has_children => {
                if let Some(bug) = &mut self.bug {
                    if frame.name == "data" {
                        // Attachment data can be large: moved, not copied.
                        let data = std::mem::take(&mut self.text);
                        bug.attachment_data(&frame, data, at);
                    } else {
                        bug.attachment_field(&frame, &self.text, at);
                    }
                }
            }
            Kind::ActivityField if !frame.has_children => {
                if let Some(bug) = &mut self.bug {
                    bug.activity_field(&frame, &self.text, at);
                }
            }
            Kind::Activity => {
                if let Some(bug) = &mut self.bug {
                    bug.finish_activity(at);
                }
            }
            Kind::RelationTarget if !frame.has_children => {
                // The relation is the parent element: `dependson`, `blocked` (Issuezilla's
                // `blocks`), `is_duplicate` or `has_duplicates`.
                if let (Some(bug), Some(relation)) = (&mut self.bug, self.stack.last()) {
                    bug.relation(&relation.name, &self.text, at);
                }
            }
            Kind::LongDesc => {
                if let Some(bug) = &mut self.bug {
                    if let Some((number, c)) = bug.comment.take() {
                        let index = bug.comments.len();
                        bug.comments.push((index, number, c));
                    }
                }
            }
            Kind::Attachment => {
                if let Some(bug) = &mut self.bug {
                    if let Some(mut a) = bug.attachment.take() {
                        if a.size.is_none() {
                            if let Some(AttachmentContent::Base64 { data }) = &a.content {
                                a.size = Some(base64_len(data));
                            }
                        }
                        bug.issue.attachments.push(a);
                    }
                }
            }
            _ => {}
        }
        if frame.kind.captures() {
            self.text.clear();
        }
        Ok(())
    }

    /// Emits a finished bug's people, warnings and issue, or the warning that skips it.
    fn finish_bug(
        &mut self,
        mut bug: BugState,
        emit: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        let id = bug.bug_id.take().unwrap_or_default();
        let numeric = !id.is_empty()
            && id.len() <= 18
            && id.bytes().all(|b| b.is_ascii_digit())
            && !(id.len() > 1 && id.starts_with('0'));
        let key = numeric.then(|| format!("{}-{id}", self.prefix));
        if let Some(error) = &bug.error {
            let what = match error.as_str() {
                "NotPermitted" => "not permitted (the exporting account could not see it)",
                "NotFound" => "not found",
                "InvalidBugId" => "an invalid bug id",
                _ => "an error",
            };
            let shown = if id.is_empty() { "?" } else { id.as_str() };
            let message =
                format!("bug {shown} is {what} in the export (error=\"{error}\"); skipped");
            let w = self.warning(bug.at, key, message);
            return emit(Record::Warning(w));
        }
        let Some(key) = key else {
            let message = if id.is_empty() {
                "bug has no <bug_id>; skipped".to_string()
            } else {
                format!("bug_id `{id}` is not a bug number; skipped")
            };
            let w = self.warning(bug.at, None, message);
            return emit(Record::Warning(w));
        };
        let mut issue = std::mem::take(&mut bug.issue);
        issue.source.clone_from(&self.source.name);
        issue.id = id.clone();
        issue.key = key;
        issue.project = Project {
            key: self.prefix.clone(),
            name: match std::mem::take(&mut issue.project.name) {
                name if name.is_empty() => self.project_name.clone().unwrap_or_default(),
                name => name,
            },
            id: None,
        };
        issue.url = self
            .urlbase
            .as_ref()
            .map(|u| format!("{u}show_bug.cgi?id={id}"));
        issue.status_category = issue
            .status
            .as_deref()
            .map(|s| status_category(s, issue.resolution.is_some()).to_string());
        // Resolved: when the current resolution was last set, when the history says (Issuezilla).
        if issue.resolution.is_some() {
            issue.resolved = super::resolution_time(&issue.history);
        }
        for (kind, description, direction, target) in bug.links.drain(..) {
            let target = format!("{}-{target}", self.prefix);
            let link = IssueLink {
                kind: kind.to_string(),
                description: description.to_string(),
                direction,
                target,
                id: None,
                type_id: None,
                target_id: None,
            };
            if !issue.links.contains(&link) {
                issue.links.push(link);
            }
        }
        if !bug.see_also.is_empty() {
            issue
                .extra
                .insert("see_also".to_string(), bug.see_also.join("\n"));
        }
        if !bug.cc.is_empty() {
            issue.watches = Some(bug.cc.len() as u32);
            issue.extra.insert("cc".to_string(), bug.cc.join(", "));
        }
        if !bug.flag_ids.is_empty() {
            issue
                .extra
                .insert("flag_ids".to_string(), bug.flag_ids.join("; "));
        }
        if !bug.flags.is_empty() {
            issue.custom_fields.push(CustomField {
                id: "flags".to_string(),
                key: None,
                name: "Flags".to_string(),
                values: std::mem::take(&mut bug.flags),
            });
        }
        if !bug.groups.is_empty() {
            issue.visibility = Visibility::Group(bug.groups.join(", "));
        }
        let (description, comments) =
            number_comments(std::mem::take(&mut bug.comments), bug.sort_order.as_deref());
        let description_author = description.as_ref().and_then(|(_, a)| a.clone());
        issue.description = description.map(|(text, _)| text);
        issue.comments = comments;

        // Authors of private comments and attachments are not named from them.
        let authors = issue
            .comments
            .iter()
            .filter(|c| c.visibility.is_public())
            .filter_map(|c| c.author.as_ref())
            .chain(
                issue
                    .attachments
                    .iter()
                    .filter(|a| a.visibility.is_public())
                    .filter_map(|a| a.author.as_ref()),
            )
            .chain(description_author.as_ref())
            .filter(|p| !p.login.is_empty() && !p.display.is_empty());
        bug.people.extend(authors.cloned());
        if !issue.visibility.is_public() {
            bug.people.clear();
        }
        for person in bug.people.drain(..) {
            let pair = (person.login, person.display);
            if !self.people.contains(&pair) {
                self.people.insert(pair.clone());
                emit(Record::Person(Person {
                    login: pair.0,
                    display: pair.1,
                    email: person.email,
                    id: None,
                }))?;
            }
        }
        if let Some(at) = bug.zoneless_at.filter(|_| !self.zoneless_warned) {
            self.zoneless_warned = true;
            bug.warnings.push((
                at,
                "times without a zone in this file are read as UTC; name the zone they are in with `timezone = \"Area/City\"` in this [[tracker]]".into(),
            ));
        }
        for (at, message) in std::mem::take(&mut bug.warnings) {
            let w = self.warning(at, Some(issue.key.clone()), message);
            emit(Record::Warning(w))?;
        }
        emit(Record::Issue(Box::new(issue)))
    }

    fn finish(
        &mut self,
        end: u64,
        repair: &RepairLog,
        emit: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        if let Some(f) = self.stack.last() {
            let message = format!(
                "unexpected end of file: <{}> is not closed (is the export truncated?)",
                f.name
            );
            return Err(self.parse_error(end, message));
        }
        if !self.seen_root {
            return Err(self.not_an_export(end, "no <bugzilla> element"));
        }
        if let Some(first) = repair.first.get() {
            let message = format!(
                "{} byte(s) are not UTF-8 and were read as Windows-1252, starting here \
                 (a Bugzilla without its `utf8` parameter writes such files)",
                repair.count.get()
            );
            let w = self.warning(first, None, message);
            emit(Record::Warning(w))?;
        }
        Ok(())
    }

    fn current_key(&self) -> Option<String> {
        let id = self.bug.as_ref()?.bug_id.as_ref()?;
        Some(format!("{}-{id}", self.prefix))
    }

    fn parse_error(&mut self, at: u64, message: String) -> Error {
        let key = self.current_key();
        self.positions.error(at, key, message)
    }

    fn warning(&mut self, at: u64, key: Option<String>, message: String) -> Warning {
        self.positions.warning(at, key, message)
    }
}

/// Orders comments by Bugzilla number and takes comment 0 out as the description (unless it is
/// restricted: then it stays a comment, for admission to drop).
pub(crate) fn number_comments(
    raw: Vec<(usize, Option<u32>, Comment)>,
    sort_order: Option<&str>,
) -> (Option<(Text, Option<Person>)>, Vec<Comment>) {
    let total = raw.len();
    let mut comments: Vec<Comment> = raw
        .into_iter()
        .map(|(index, count, mut c)| {
            let number = count.unwrap_or_else(|| {
                // Without `comment_count`, the number is the position in creation order.
                let n = match sort_order {
                    Some("newest_to_oldest") => total - 1 - index,
                    Some("newest_to_oldest_desc_first") if index > 0 => total - index,
                    _ => index,
                };
                n as u32
            });
            c.number = Some(number);
            if c.id.is_empty() {
                c.id = number.to_string();
            }
            c
        })
        .collect();
    comments.sort_by_key(|c| c.number);
    let mut description = None;
    if comments
        .first()
        .is_some_and(|c| c.number == Some(0) && c.visibility.is_public())
    {
        let first = comments.remove(0);
        description = Some((first.body, first.author)).filter(|(t, _)| !t.is_blank());
    }
    (description, comments)
}

/// Bugzilla's statuses in JIRA's three categories.
pub(crate) fn status_category(status: &str, resolved: bool) -> &'static str {
    match status.to_ascii_uppercase().as_str() {
        "NEW" | "UNCONFIRMED" | "CONFIRMED" | "OPEN" => "new",
        "ASSIGNED" | "REOPENED" | "IN_PROGRESS" | "IN PROGRESS" | "NEEDINFO" => "indeterminate",
        "RESOLVED" | "VERIFIED" | "CLOSED" => "done",
        _ if resolved => "done",
        _ => "indeterminate",
    }
}

pub(crate) fn is_true(v: &str) -> bool {
    matches!(v.trim(), "1" | "true")
}

pub(crate) fn non_blank(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Plain comment text: leading blank lines and trailing white space removed, indentation kept.
pub(crate) fn plain(s: &str) -> Text {
    let normalised;
    let s = if s.contains('\r') {
        normalised = s.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        s
    };
    let s = s.trim_end();
    let start = s
        .char_indices()
        .take_while(|(_, c)| c.is_whitespace())
        .filter(|(_, c)| *c == '\n')
        .last()
        .map_or(0, |(i, _)| i + 1);
    Text::new(Markup::Plain, &s[start..])
}

/// The decoded length of base64 text (white space ignored).
pub(crate) fn base64_len(data: &str) -> u64 {
    let mut n = 0u64;
    let mut pad = 0u64;
    for b in data.bytes() {
        match b {
            b'=' => pad += 1,
            b if b.is_ascii_whitespace() => {}
            _ => n += 1,
        }
    }
    (n + pad) / 4 * 3 - pad.min(2)
}

/// Parses Bugzilla's dates: `2007-10-18 05:56:11 -0700`, without seconds, with a zone name, or
/// without a zone (UTC); RFC 3339 is accepted too.
pub(crate) fn parse_date(s: &str) -> std::result::Result<Option<Timestamp>, DateError> {
    parse_date_in(s, None).map(|(t, _)| t)
}

/// Reads a Bugzilla time; one written without a zone is in `zone` (UTC when none is named),
/// and the flag says it had none. A wall-clock time a clock change skipped is an error; one it
/// repeated is the earlier instant.
pub(crate) fn parse_date_in(
    s: &str,
    zone: Option<chrono_tz::Tz>,
) -> std::result::Result<(Option<Timestamp>, bool), DateError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok((None, false));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Timestamp::checked(t).map(|t| (Some(t), false));
    }
    // Old Bugzilla and Issuezilla wrote `delta_ts` as a MySQL TIMESTAMP: `20040521142009`.
    let spaced;
    let s = if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        spaced = format!(
            "{}-{}-{} {}:{}:{}",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[8..10],
            &s[10..12],
            &s[12..14]
        );
        spaced.as_str()
    } else {
        s
    };
    let has_zone = s.rsplit_once(' ').is_some_and(|(_, z)| {
        z.starts_with(['+', '-']) || z.chars().all(|c| c.is_ascii_alphabetic())
    });
    if let (false, Some(tz)) = (has_zone, zone) {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y.%m.%d %H:%M:%S"))
            .map_err(|_| DateError::Unreadable {
                text: s.to_string(),
                example: "2007-10-18 05:56:11 -0700",
            })?;
        use chrono::TimeZone as _;
        let t = tz
            .from_local_datetime(&naive)
            .earliest()
            .ok_or_else(|| DateError::Invalid {
                text: s.to_string(),
                reason: None,
            })?;
        return Timestamp::checked(t.fixed_offset())
            .map(|t| (Some(t), true))
            .map_err(|e| DateError::Invalid {
                text: s.to_string(),
                reason: Some(Box::new(e)),
            });
    }
    parse_date_utc(s).map(|t| (t, !has_zone && t.is_some()))
}

/// Reads a Bugzilla time with its zone, or as UTC without one.
fn parse_date_utc(s: &str) -> std::result::Result<Option<Timestamp>, DateError> {
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Timestamp::checked(t).map(Some);
    }
    let (local, zone) = match s.rsplit_once(' ') {
        Some((l, z)) if z.starts_with(['+', '-']) || z.chars().all(|c| c.is_ascii_alphabetic()) => {
            (l, Some(z))
        }
        _ => (s, None),
    };
    let offset_seconds = match zone {
        None => Some(0),
        Some(z) => zone_offset(z),
    };
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y.%m.%d %H:%M:%S"))
        .ok();
    match (naive, offset_seconds.and_then(FixedOffset::east_opt)) {
        (Some(n), Some(offset)) => match offset.from_local_datetime(&n).single() {
            Some(t) => Timestamp::checked(t)
                .map(Some)
                .map_err(|e| DateError::Invalid {
                    text: s.to_string(),
                    reason: Some(Box::new(e)),
                }),
            None => Err(DateError::Invalid {
                text: s.to_string(),
                reason: None,
            }),
        },
        _ => Err(DateError::Unreadable {
            text: s.to_string(),
            example: "2007-10-18 05:56:11 -0700",
        }),
    }
}

/// Seconds east of UTC for `-0700`, `+05:30`, `UTC` and the zone names US servers wrote.
fn zone_offset(z: &str) -> Option<i32> {
    if let Some(sign) = z
        .strip_prefix('+')
        .map(|r| (1, r))
        .or(z.strip_prefix('-').map(|r| (-1, r)))
    {
        let (s, digits) = sign;
        let digits: String = digits.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let h: i32 = digits[..2].parse().ok()?;
        let m: i32 = digits[2..].parse().ok()?;
        if h > 23 || m > 59 {
            return None;
        }
        return Some(s * (h * 3600 + m * 60));
    }
    let hours = match z.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "UT" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "CET" => 1,
        "CEST" => 2,
        "BST" => 1,
        _ => return None,
    };
    Some(hours * 3600)
}

impl BugState {
    fn date(&mut self, text: &str, at: u64, what: &str) -> Option<Timestamp> {
        match parse_date_in(text, self.timezone) {
            Ok((t, zoneless)) => {
                if zoneless && self.timezone.is_none() && self.zoneless_at.is_none() {
                    self.zoneless_at = Some(at);
                }
                t
            }
            Err(e) => {
                self.warnings.push((at, format!("{what} ignored: {e}")));
                None
            }
        }
    }

    fn number<T: std::str::FromStr>(&mut self, text: &str, at: u64, what: &str) -> Option<T> {
        super::xml::number_or_warn(&mut self.warnings, text, at, what)
    }

    /// A person element: login as text, real name in `name`.
    fn person(&mut self, frame: &Frame, text: &str) -> Option<Person> {
        let person = person_of(frame, text)?;
        if !person.login.is_empty() && !person.display.is_empty() {
            self.people.push(person.clone());
        }
        Some(person)
    }

    fn link(&mut self, kind: &'static str, description: &'static str, text: &str, at: u64) {
        self.link_to(kind, description, LinkDirection::Outward, text, at);
    }

    fn link_to(
        &mut self,
        kind: &'static str,
        description: &'static str,
        direction: LinkDirection,
        text: &str,
        at: u64,
    ) {
        let text = text.trim();
        if text.is_empty() || text == "0" {
            return;
        }
        if text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0') && text.len() <= 18 {
            self.links
                .push((kind, description, direction, text.to_string()));
        } else {
            self.warnings.push((
                at,
                format!("{description} `{text}` ignored: not a bug number"),
            ));
        }
    }

    fn field(&mut self, frame: &Frame, text: &str, at: u64) {
        let name = frame.name.as_str();
        match name {
            "bug_id" => self.bug_id = Some(text.trim().to_string()),
            "creation_ts" => self.issue.created = self.date(text, at, "creation_ts"),
            "delta_ts" => self.issue.updated = self.date(text, at, "delta_ts"),
            "short_desc" => self.issue.summary = text.trim().to_string(),
            "product" => self.issue.project.name = text.trim().to_string(),
            "component" => self.issue.components.extend(non_blank(text)),
            "version" => self.issue.versions.extend(non_blank(text)),
            "target_milestone" => {
                if let Some(v) = non_blank(text).filter(|v| v != "---") {
                    self.issue.fix_versions.push(v);
                }
            }
            "bug_status" => self.issue.status = non_blank(text),
            "resolution" => self.issue.resolution = non_blank(text),
            "priority" => self.issue.priority = non_blank(text).filter(|p| p != "--"),
            "bug_severity" => self.issue.severity = non_blank(text),
            "bug_type" => self.issue.issue_type = non_blank(text),
            "keywords" => self.issue.labels.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string),
            ),
            "dup_id" | "is_duplicate" => self.link("Duplicate", "duplicates", text, at),
            "has_duplicates" => self.link_to(
                "Duplicate",
                "is duplicated by",
                LinkDirection::Inward,
                text,
                at,
            ),
            "dependson" => self.link("Depends on", "depends on", text, at),
            "blocked" => self.link("Blocks", "blocks", text, at),
            "regressed_by" => self.link("Regression", "regressed by", text, at),
            "regresses" => self.link("Regression", "regresses", text, at),
            "see_also" => self.see_also.extend(non_blank(text)),
            "reporter" => self.issue.reporter = self.person(frame, text),
            "assigned_to" => self.issue.assignee = self.person(frame, text),
            "qa_contact" => {
                if let Some(p) = self.person(frame, text) {
                    let shown = if p.display.is_empty() {
                        p.login
                    } else {
                        p.display
                    };
                    self.issue.extra.insert("qa_contact".to_string(), shown);
                }
            }
            "cc" => {
                if let Some(p) = self.person(frame, text) {
                    self.cc.push(if p.display.is_empty() {
                        p.login
                    } else {
                        p.display
                    });
                }
            }
            "group" => {
                let group = non_blank(text)
                    .or_else(|| frame.attr("id").map(|id| format!("group {id}")))
                    .unwrap_or_else(|| "unnamed group".to_string());
                self.groups.push(group);
            }
            "flag" => {
                self.flags.extend(flag(frame, None));
                self.flag_ids.extend(flag_ids(
                    frame.attr("name"),
                    frame.attr("status"),
                    frame.attr("id"),
                    frame.attr("type_id"),
                ));
            }
            "votes" => self.issue.votes = self.number(text, at, "votes"),
            "comment_sort_order" => self.sort_order = non_blank(text),
            // Time tracking that was never used reads `0.00`.
            "estimated_time" | "remaining_time" | "actual_time"
                if text.trim().parse::<f64>() == Ok(0.0) => {}
            // Session and permission details of the exporting account, not of the bug.
            "token" | "cclist_accessible" | "reporter_accessible" | "lastdiffed" => {}
            _ if name.starts_with("cf_") => {
                // Unset single-select custom fields read `---`.
                let Some(value) = non_blank(text).filter(|v| v != "---") else {
                    return;
                };
                if let Some(f) = self.issue.custom_fields.iter_mut().find(|f| f.id == name) {
                    f.values.push(value);
                } else {
                    self.issue.custom_fields.push(CustomField {
                        id: name.to_string(),
                        key: None,
                        name: custom_field_name(name),
                        values: vec![value],
                    });
                }
            }
            _ => {
                if let Some(v) = non_blank(text) {
                    // A repeated unknown element keeps every value.
                    self.issue
                        .extra
                        .entry(name.to_string())
                        .and_modify(|old| {
                            old.push_str(", ");
                            old.push_str(&v)
                        })
                        .or_insert(v);
                }
            }
        }
    }

    /// The `<issue_id>` inside an Issuezilla relation element: read as the flat Bugzilla
    /// element of the same meaning would be.
    fn relation(&mut self, relation: &str, text: &str, at: u64) {
        match relation {
            "dependson" | "blocked" | "is_duplicate" | "has_duplicates" | "dup_id" => {
                let frame = Frame {
                    kind: Kind::BugField,
                    name: relation.to_string(),
                    attrs: Vec::new(),
                    has_children: false,
                };
                self.field(&frame, text, at);
            }
            _ => {}
        }
    }

    /// A child of Issuezilla's `<activity>`: `user`, `when`, `field_name`, `field_desc`,
    /// `oldvalue`, `newvalue`.
    fn activity_field(&mut self, frame: &Frame, text: &str, at: u64) {
        let when = match frame.name.as_str() {
            "when" => self.date(text, at, "activity date"),
            _ => None,
        };
        let user = match frame.name.as_str() {
            "user" => self.person(frame, text),
            _ => None,
        };
        let Some(a) = &mut self.activity else {
            return;
        };
        match frame.name.as_str() {
            "user" => a.user = user,
            "when" => a.when = when,
            "field_name" => a.change.field = text.trim().to_string(),
            "field_desc" => a.label = non_blank(text),
            "oldvalue" => a.change.from = non_blank(text),
            "newvalue" => a.change.to = non_blank(text),
            _ => {}
        }
    }

    /// The end of an `<activity>`: its change joins the history, in the entry of the changes
    /// the same person made at the same time (Issuezilla writes one element per field).
    fn finish_activity(&mut self, at: u64) {
        let Some(mut a) = self.activity.take() else {
            return;
        };
        if a.change.field.is_empty() {
            match a.label.take() {
                Some(label) => a.change.field = label,
                None => {
                    self.warnings
                        .push((at, "activity without a field_name ignored".to_string()));
                    return;
                }
            }
        }
        let history = &mut self.issue.history;
        match history.last_mut() {
            Some(last) if last.created == a.when && last.author == a.user => {
                last.changes.push(a.change)
            }
            _ => history.push(HistoryEntry {
                id: None,
                author: a.user,
                created: a.when,
                changes: vec![a.change],
            }),
        }
    }

    fn comment_field(&mut self, frame: &Frame, text: &str, at: u64) {
        let mut number = None;
        let mut created = None;
        let mut author = None;
        match frame.name.as_str() {
            "comment_count" => number = self.number(text, at, "comment_count"),
            "bug_when" => created = self.date(text, at, "comment date"),
            // Named once the comment's visibility is final (in `finish_bug`).
            "who" => author = person_of(frame, text),
            _ => {}
        }
        let Some((count, c)) = &mut self.comment else {
            return;
        };
        match frame.name.as_str() {
            "commentid" => c.id = text.trim().to_string(),
            "comment_count" => *count = number,
            "who" => c.author = author,
            "bug_when" => c.created = created,
            "thetext" => c.body = plain(text),
            "isprivate" if is_true(text) => c.visibility = Visibility::Private,
            _ => {}
        }
    }

    fn attachment_field(&mut self, frame: &Frame, text: &str, at: u64) {
        let name = frame.name.as_str();
        let mut created = None;
        let mut updated = None;
        let mut size = None;
        let mut author = None;
        match name {
            "date" => created = self.date(text, at, "attachment date"),
            "delta_ts" => updated = self.date(text, at, "attachment delta_ts"),
            "size" => size = self.number(text, at, "attachment size"),
            "attacher" => author = person_of(frame, text),
            "flag" => {
                let id = self.attachment.as_ref().map(|a| a.id.clone());
                // A flag of a private attachment is as private as the attachment.
                if self
                    .attachment
                    .as_ref()
                    .is_some_and(|a| a.visibility.is_public())
                {
                    self.flags.extend(flag(frame, id.as_deref()));
                    self.flag_ids.extend(flag_ids(
                        frame.attr("name"),
                        frame.attr("status"),
                        frame.attr("id"),
                        frame.attr("type_id"),
                    ));
                }
            }
            _ => {}
        }
        let Some(a) = &mut self.attachment else {
            return;
        };
        match name {
            "attachid" => a.id = text.trim().to_string(),
            "date" => a.created = created,
            "delta_ts" => a.updated = updated,
            "desc" => a.description = non_blank(text),
            "filename" => a.name = text.trim().to_string(),
            "type" => a.media_type = non_blank(text),
            "size" => a.size = size,
            // Issuezilla names the submitter twice: `submitter_id` (a number) and
            // `submitting_username` (read as `attacher`), in either order.
            "attacher" => {
                let id = a.author.take().and_then(|p| p.id);
                a.author = author.map(|mut p| {
                    p.id = p.id.or(id);
                    p
                });
            }
            "submitter_id" => {
                if let Some(id) = non_blank(text) {
                    a.author.get_or_insert_with(Person::default).id = Some(id);
                }
            }
            // Issuezilla's address of the file on the old tracker.
            "attachment_iz_url" => a.source_url = non_blank(text),
            "isobsolete" => a.obsolete = is_true(text),
            "ispatch" => a.patch = is_true(text),
            "isprivate" if is_true(text) => a.visibility = Visibility::Private,
            _ => {}
        }
    }

    /// `<data encoding="base64">`: kept as the export has it.
    fn attachment_data(&mut self, frame: &Frame, data: String, at: u64) {
        let Some(a) = &mut self.attachment else {
            return;
        };
        let encoding = frame.attr("encoding").unwrap_or("base64");
        if !encoding.eq_ignore_ascii_case("base64") {
            let message = format!(
                "attachment {} data ignored: encoding `{encoding}` is not base64",
                a.id
            );
            self.warnings.push((at, message));
        } else if !data.trim().is_empty() {
            a.content = Some(AttachmentContent::Base64 { data });
        }
    }
}

/// One Issuezilla `<activity>`: a change of one field.
#[derive(Default)]
struct Activity {
    user: Option<Person>,
    when: Option<Timestamp>,
    /// `field_desc`, the field's label: the change's name when `field_name` is missing.
    label: Option<String>,
    change: FieldChange,
}

/// A person element: login (usually an e-mail address) as text, real name in `name`.
fn person_of(frame: &Frame, text: &str) -> Option<Person> {
    let login = text.trim();
    let display = frame.attr("name").map(str::trim).unwrap_or_default();
    if login.is_empty() && display.is_empty() {
        return None;
    }
    Some(Person {
        login: login.to_string(),
        display: display.to_string(),
        email: login.contains('@').then(|| login.to_string()),
        id: None,
    })
}

/// A flag's internal ids, as `extra["flag_ids"]` lists them: `review+: id 401, type 3`.
pub(crate) fn flag_ids(
    name: Option<&str>,
    status: Option<&str>,
    id: Option<&str>,
    type_id: Option<&str>,
) -> Option<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty())?;
    let status = status.unwrap_or("").trim();
    let mut parts = Vec::new();
    if let Some(id) = id.map(str::trim).filter(|v| !v.is_empty()) {
        parts.push(format!("id {id}"));
    }
    if let Some(t) = type_id.map(str::trim).filter(|v| !v.is_empty()) {
        parts.push(format!("type {t}"));
    }
    (!parts.is_empty()).then(|| format!("{name}{status}: {}", parts.join(", ")))
}

/// `Flags` entry: `review+ (jdoe@example.com)`, `review? (jdoe → rev@example.com)`.
fn flag(frame: &Frame, attachment: Option<&str>) -> Option<String> {
    let name = frame
        .attr("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())?;
    let status = frame.attr("status").unwrap_or("").trim();
    let mut out = format!("{name}{status}");
    let setter = frame.attr("setter").unwrap_or("").trim();
    let requestee = frame.attr("requestee").unwrap_or("").trim();
    match (setter.is_empty(), requestee.is_empty()) {
        (false, false) => out.push_str(&format!(" ({setter} → {requestee})")),
        (false, true) => out.push_str(&format!(" ({setter})")),
        (true, false) => out.push_str(&format!(" (→ {requestee})")),
        (true, true) => {}
    }
    if let Some(id) = attachment.filter(|id| !id.is_empty()) {
        out.push_str(&format!(" on attachment {id}"));
    }
    Some(out)
}

/// `cf_fix_build` → `Fix build`.
pub(crate) fn custom_field_name(id: &str) -> String {
    let rest = id.strip_prefix("cf_").unwrap_or(id).replace('_', " ");
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => id.to_string(),
    }
}

/// What [`Utf8Repair`] changed.
#[derive(Default)]
pub(crate) struct RepairLog {
    /// Bytes read as Windows-1252.
    count: Cell<u64>,
    /// Offset in the repaired stream of the first.
    first: Cell<Option<u64>>,
}

/// Passes valid UTF-8 through unchanged and reads each byte that is not part of a valid UTF-8
/// sequence as Windows-1252. Bugzilla installations without the `utf8` parameter (the default
/// for sites upgraded from 2.x) export whatever bytes their database holds, typically Latin-1
/// or Windows-1252 mixed with UTF-8 that browsers submitted; refusing such files would make old
/// archives unpublishable, so each repair is counted and reported as one warning per file.
pub(crate) struct Utf8Repair<R> {
    inner: R,
    enabled: bool,
    /// Input bytes not converted yet (an incomplete sequence at the end of a read).
    pending: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
    /// Bytes handed out so far.
    produced: u64,
    eof: bool,
    log: Option<Rc<RepairLog>>,
}

impl<R: Read> Utf8Repair<R> {
    pub(crate) fn new(inner: R, log: Option<Rc<RepairLog>>) -> Self {
        Utf8Repair {
            inner,
            enabled: true,
            pending: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            produced: 0,
            eof: false,
            log,
        }
    }

    /// Reads `inner` unchanged.
    pub(crate) fn passthrough(inner: R) -> Self {
        let mut r = Self::new(inner, None);
        r.enabled = false;
        r
    }

    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.out_at = 0;
        while self.out.is_empty() && !(self.eof && self.pending.is_empty()) {
            if !self.eof {
                let start = self.pending.len();
                self.pending.resize(start + 64 * 1024, 0);
                let n = loop {
                    match self.inner.read(&mut self.pending[start..]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            self.pending.truncate(start);
                            return Err(e);
                        }
                    }
                };
                self.pending.truncate(start + n);
                self.eof = n == 0;
            }
            self.convert();
        }
        Ok(())
    }

    /// Moves what can be decided of `pending` into `out`.
    fn convert(&mut self) {
        let mut i = 0;
        while i < self.pending.len() {
            match std::str::from_utf8(&self.pending[i..]) {
                Ok(_) => {
                    self.out.extend_from_slice(&self.pending[i..]);
                    i = self.pending.len();
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    self.out.extend_from_slice(&self.pending[i..i + valid]);
                    i += valid;
                    let bad = match e.error_len() {
                        Some(n) => n,
                        // An incomplete sequence: wait for more input, unless there is none.
                        None if !self.eof => break,
                        None => self.pending.len() - i,
                    };
                    for k in 0..bad {
                        let at = self.produced + self.out.len() as u64;
                        if let Some(log) = &self.log {
                            log.count.set(log.count.get() + 1);
                            if log.first.get().is_none() {
                                log.first.set(Some(at));
                            }
                        }
                        let c = windows_1252(self.pending[i + k]);
                        let mut utf8 = [0u8; 4];
                        self.out
                            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    }
                    i += bad;
                }
            }
        }
        self.pending.drain(..i);
    }
}

impl<R: Read> Read for Utf8Repair<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.enabled {
            return self.inner.read(buf);
        }
        if self.out_at >= self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        self.produced += n as u64;
        Ok(n)
    }
}

/// The character a byte stands for in Windows-1252 (as WHATWG maps it: the five bytes 1252
/// leaves undefined are the C1 controls of the same value).
fn windows_1252(b: u8) -> char {
    let byte = [b];
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
    text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_records::{issues, people, warnings};
    use std::io::Write;

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<!DOCTYPE bugzilla SYSTEM "https://bugzilla.lustre.org/bugzilla.dtd">

<bugzilla version="3.0.4"
          urlbase="https://bugzilla.lustre.org/"
          maintainer="bugzilla-admin@clusterfs.com"
          exporter="adilger@clusterfs.com"
>
"#;

    const TAIL: &str = "\n</bugzilla>\n";

    const BUG_1: &str = r#"
    <bug>
          <bug_id>11111</bug_id>
          <creation_ts>2006-10-02 14:03 -0700</creation_ts>
          <short_desc>LBUG in ldlm_lock_cancel(): lock-&gt;l_readers &amp; more</short_desc>
          <delta_ts>2007-10-18 05:56:11 -0700</delta_ts>
          <reporter_accessible>1</reporter_accessible>
          <classification>Unclassified</classification>
          <product>Lustre</product>
          <component>ldlm</component>
          <version>1.4.7</version>
          <rep_platform>x86_64</rep_platform>
          <op_sys>Linux</op_sys>
          <bug_status>RESOLVED</bug_status>
          <resolution>FIXED</resolution>
          <dup_id/>
          <bug_file_loc></bug_file_loc>
          <status_whiteboard>[landed b1_4]</status_whiteboard>
          <keywords>crash, patch</keywords>
          <priority>P2</priority>
          <bug_severity>critical</bug_severity>
          <target_milestone>1.4.8</target_milestone>
          <dependson>10987</dependson>
          <blocked>11200</blocked>
          <blocked>11201</blocked>
          <see_also>https://bugzilla.redhat.com/show_bug.cgi?id=1</see_also>
          <everconfirmed>1</everconfirmed>
          <reporter name="Nathan Rutman">nathan@clusterfs.com</reporter>
          <assigned_to name="Oleg Drokin">green@clusterfs.com</assigned_to>
          <cc>adilger@clusterfs.com</cc>
          <cc name="Eric Barton">eeb@clusterfs.com</cc>
          <qa_contact name="Lustre QA">qa@clusterfs.com</qa_contact>
          <cf_fixed_in>b1_4</cf_fixed_in>
          <cf_fixed_in>b1_6</cf_fixed_in>
          <cf_unset>---</cf_unset>
          <flag name="inspection" id="401" type_id="3" status="+" setter="adilger@clusterfs.com" />
          <votes>2</votes>
          <token>123-abc</token>
          <futurefield><nested>x</nested></futurefield>
          <long_desc isprivate="0">
            <who name="Nathan Rutman">nathan@clusterfs.com</who>
            <bug_when>2006-10-02 14:03:27 -0700</bug_when>
            <thetext>ASSERTION(lock-&gt;l_readers == 0) failed
    indented &lt;line&gt;
See bug 1234 &amp; b=10987.   </thetext>
          </long_desc>
          <long_desc isprivate="0">
            <who name="Oleg Drokin">green@clusterfs.com</who>
            <bug_when>2006-10-03 09:12:40 -0700</bug_when>
            <thetext>Created an attachment (id=567)</thetext>
          </long_desc>
          <long_desc isprivate="1">
            <who name="Andreas Dilger">adilger@clusterfs.com</who>
            <bug_when>2006-10-03 11:30:02 -0700</bug_when>
            <thetext>SECRET</thetext>
          </long_desc>
          <long_desc isprivate="0">
            <who>adilger@clusterfs.com</who>
            <bug_when>2006-10-04 16:45</bug_when>
            <thetext>

As noted in comment 1.</thetext>
          </long_desc>
          <attachment isobsolete="1" ispatch="1" isprivate="0">
            <attachid>567</attachid>
            <date>2006-10-03 09:12 -0700</date>
            <desc>fix &amp; test</desc>
            <filename>ldlm.patch</filename>
            <type>text/plain</type>
            <attacher>green@clusterfs.com</attacher>
            <flag name="inspection" id="402" type_id="4" status="?" setter="green@clusterfs.com" requestee="adilger@clusterfs.com"/>
            <data encoding="base64">SGVsbG8s
IHdvcmxkIQ==</data>
          </attachment>
          <attachment isobsolete="0" ispatch="0" isprivate="1">
            <attachid>568</attachid>
            <date>2006-10-03 11:29 -0700</date>
            <desc>SECRET</desc>
            <filename>secret.txt</filename>
            <type>text/plain</type>
            <size>6</size>
            <attacher>adilger@clusterfs.com</attacher>
            <flag name="secretflag" id="403" type_id="5" status="?" setter="adilger@clusterfs.com"/>
          </attachment>
    </bug>
"#;

    const BUG_2: &str = r#"
    <bug>
          <bug_id>16494</bug_id>
          <creation_ts>2008-07-22 11:02:51 -0600</creation_ts>
          <short_desc>ost: unable to mount</short_desc>
          <delta_ts>2009-01-09 17:20:00 -0700</delta_ts>
          <product>Lustre</product>
          <component>ost</component>
          <bug_status>REOPENED</bug_status>
          <resolution></resolution>
          <target_milestone>---</target_milestone>
          <priority>--</priority>
          <reporter name="Brian Behlendorf">behlendorf1@llnl.gov</reporter>
          <comment_sort_order>newest_to_oldest</comment_sort_order>
          <long_desc isprivate="0">
            <commentid>70005</commentid>
            <comment_count>2</comment_count>
            <who name="Johann Lombardi">johann@sun.com</who>
            <bug_when>2009-01-09 17:20:00 -0700</bug_when>
            <thetext>Reopening.</thetext>
          </long_desc>
          <long_desc isprivate="0">
            <commentid>70002</commentid>
            <comment_count>1</comment_count>
            <who name="Johann Lombardi">johann@sun.com</who>
            <bug_when>2008-07-23 03:00:00 +0200</bug_when>
            <thetext>Log attached.</thetext>
          </long_desc>
          <long_desc isprivate="0">
            <commentid>70001</commentid>
            <comment_count>0</comment_count>
            <who name="Brian Behlendorf">behlendorf1@llnl.gov</who>
            <bug_when>2008-07-22 11:02:51 -0600</bug_when>
            <thetext>Every OST fails.</thetext>
          </long_desc>
    </bug>
"#;

    const STUB: &str = r#"
    <bug error="NotPermitted">
          <bug_id>13000</bug_id>
    </bug>
"#;

    const GROUP_BUG: &str = r#"
    <bug>
          <bug_id>14000</bug_id>
          <short_desc>secret outage</short_desc>
          <product>Lustre</product>
          <bug_status>NEW</bug_status>
          <reporter name="Secret Person">secret@example.com</reporter>
          <group id="9">clusterfs-confidential</group>
          <long_desc isprivate="0">
            <who name="Secret Person">secret@example.com</who>
            <bug_when>2007-09-01 12:00:00 -0700</bug_when>
            <thetext>down</thetext>
          </long_desc>
    </bug>
"#;

    fn doc(bugs: &[&str]) -> String {
        let mut s = HEAD.to_string();
        for b in bugs {
            s.push_str(b);
        }
        s.push_str(TAIL);
        s
    }

    fn source(prefix: Option<&str>) -> Source {
        Source {
            name: "bugzilla".into(),
            key_prefix: prefix.map(str::to_string),
            ..Default::default()
        }
    }

    fn read_with(text: &str, prefix: Option<&str>) -> Result<Vec<Record>> {
        read_source(text, &source(prefix))
    }

    fn read_source(text: &str, source: &Source) -> Result<Vec<Record>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.flush().unwrap();
        let mut records = Vec::new();
        read_file(f.path(), source, &mut |r| {
            records.push(r);
            Ok(())
        })
        .map(|()| records)
    }

    fn read(text: &str) -> Result<Vec<Record>> {
        read_with(text, Some("BZ"))
    }

    const ZONELESS: &str = "<bugzilla><bug><bug_id>1</bug_id><creation_ts>2007-10-18 05:56:11</creation_ts><delta_ts>2007-10-19 05:56:11</delta_ts><short_desc>a</short_desc></bug><bug><bug_id>2</bug_id><creation_ts>2007-01-18 05:56</creation_ts><short_desc>b</short_desc></bug></bugzilla>";

    #[test]
    fn times_without_a_zone_use_the_configured_one() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(ZONELESS.as_bytes()).unwrap();
        let mut src = source(Some("BZ"));
        src.timezone = Some(chrono_tz::America::Los_Angeles);
        let mut records = Vec::new();
        read_file(f.path(), &src, &mut |r| {
            records.push(r);
            Ok(())
        })
        .unwrap();
        let issues = crate::import::test_records::issues(&records);
        // Summer and winter time of one zone.
        assert_eq!(
            issues[0].created.unwrap().rfc3339(),
            "2007-10-18T05:56:11-07:00"
        );
        assert_eq!(
            issues[1].created.unwrap().rfc3339(),
            "2007-01-18T05:56:00-08:00"
        );
        assert!(crate::import::test_records::warnings(&records).is_empty());
    }

    #[test]
    fn times_without_a_zone_and_no_configured_one_warn_once_per_file() {
        let records = read(ZONELESS).unwrap();
        let issues = crate::import::test_records::issues(&records);
        assert_eq!(issues[0].created.unwrap().rfc3339(), "2007-10-18T05:56:11Z");
        let warnings = crate::import::test_records::warnings(&records);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("timezone"), "{warnings:?}");
        // Times with a zone need none.
        let with_zone = read("<bugzilla><bug><bug_id>1</bug_id><creation_ts>2007-10-18 05:56:11 -0700</creation_ts><short_desc>a</short_desc></bug></bugzilla>").unwrap();
        assert!(crate::import::test_records::warnings(&with_zone).is_empty());
    }

    #[test]
    fn issuezilla_exports_are_read() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/issuezilla/argouml-issues.xml"),
        )
        .unwrap();
        assert!(sniff(&text));
        assert_eq!(
            crate::import::detect_bytes(text.as_bytes()),
            Some(crate::config::Format::BugzillaXml)
        );
        let records = read_with(&text, Some("ARGO")).unwrap();
        let issues = crate::import::test_records::issues(&records);
        assert_eq!(issues.len(), 3);
        let i = issues[0];
        assert_eq!(i.key, "ARGO-4");
        assert_eq!(i.status.as_deref(), Some("RESOLVED"));
        assert_eq!(
            i.comments.len(),
            1,
            "the first long_desc is the description"
        );
        assert!(i.comments[0].created.is_some());
        assert_eq!(
            i.extra.get("subcomponent").map(String::as_str),
            Some("Diagrams")
        );
        assert!(
            i.links
                .iter()
                .any(|l| l.target == "ARGO-5" && l.description == "blocks"),
            "{:?}",
            i.links
        );
        assert!(
            i.links.iter().any(|l| l.target == "ARGO-6"
                && l.description == "is duplicated by"
                && l.direction == LinkDirection::Inward),
            "{:?}",
            i.links
        );
        assert_eq!(i.project.name, "argouml", "the root's project_name");
        assert_eq!(i.votes, Some(3));
        assert_eq!(i.labels, ["layout"]);
        // `delta_ts` as a MySQL TIMESTAMP.
        assert_eq!(i.updated, Some(ts("2004-12-24T11:22:33Z")));

        // <activity>: three changes, the two made together in one entry.
        assert_eq!(i.history.len(), 2, "{:?}", i.history);
        let first = &i.history[0];
        assert_eq!(first.author.as_ref().unwrap().login, "jrobbins");
        assert_eq!(first.created, Some(ts("2001-06-18T14:02:09Z")));
        assert_eq!(
            first.changes,
            [FieldChange {
                field: "issue_status".into(),
                from: Some("NEW".into()),
                to: Some("STARTED".into()),
            }]
        );
        let fields: Vec<_> = i.history[1].changes.iter().map(|c| &c.field).collect();
        assert_eq!(fields, ["issue_status", "resolution"]);
        assert_eq!(i.history[1].changes[1].from, None);
        assert_eq!(i.resolved, Some(ts("2004-12-24T11:22:33Z")));

        // The attachment in Issuezilla's names.
        let a = &i.attachments[0];
        assert_eq!(a.id, "112");
        assert_eq!(a.media_type.as_deref(), Some("text/plain"));
        assert_eq!(a.name, "layout-steps.txt");
        let author = a.author.as_ref().unwrap();
        assert_eq!(
            (author.login.as_str(), author.id.as_deref()),
            ("linus", Some("1077"))
        );
        assert!(a
            .source_url
            .as_deref()
            .unwrap()
            .ends_with("/112/layout-steps.txt"));
        assert!(matches!(a.content, Some(AttachmentContent::Base64 { .. })));

        // Nested relations: depends on, duplicate of.
        assert!(issues[1]
            .links
            .iter()
            .any(|l| l.target == "ARGO-4" && l.description == "depends on"));
        assert!(issues[2]
            .links
            .iter()
            .any(|l| l.target == "ARGO-4" && l.description == "duplicates"));
    }

    #[test]
    fn issuezilla_activity_times_use_the_configured_zone() {
        let text = "<issuezilla><issue status_code=\"200\"><issue_id>1</issue_id><short_desc>a</short_desc>\
            <activity><user>u</user><when>2004-07-01 10:00:00</when><field_name>priority</field_name>\
            <oldvalue>P3</oldvalue><newvalue>P1</newvalue></activity>\
            <activity><field_desc>Summary</field_desc><newvalue>b</newvalue></activity>\
            <activity><user>u</user><oldvalue>x</oldvalue></activity></issue></issuezilla>";
        let mut src = source(None);
        src.timezone = Some(chrono_tz::America::Los_Angeles);
        let records = read_source(text, &src).unwrap();
        let i = crate::import::test_records::issues(&records)[0];
        assert_eq!(i.history[0].created, Some(ts("2004-07-01T10:00:00-07:00")));
        // No field_name: the label names the change.
        assert_eq!(i.history[1].changes[0].field, "Summary");
        // Neither: a warning, not a nameless change.
        assert_eq!(i.history.len(), 2);
        let w = crate::import::test_records::warnings(&records);
        assert!(
            w.iter()
                .any(|w| w.message.contains("activity without a field_name")),
            "{w:?}"
        );
    }

    #[test]
    fn an_issuezilla_stub_is_skipped_with_its_status_message() {
        let text = "<issuezilla><issue status_code=\"404\" status_message=\"NotFound\"><issue_id>9</issue_id></issue>\
            <issue status_code=\"200\" status_message=\"OK\"><issue_id>10</issue_id><short_desc>a</short_desc></issue></issuezilla>";
        let records = read(text).unwrap();
        assert_eq!(crate::import::test_records::issues(&records).len(), 1);
        let w = crate::import::test_records::warnings(&records);
        assert!(
            w.iter().any(|w| w.message.contains("bug 9 is not found")),
            "{w:?}"
        );
    }

    fn position(text: &str, at: usize) -> (u64, u64) {
        let before = &text[..at];
        let line = before.matches('\n').count() as u64 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() as u64 + 1)
    }

    fn ts(s: &str) -> Timestamp {
        parse_date(s).unwrap().unwrap()
    }

    #[test]
    fn reads_every_field_of_a_bug() {
        let records = read(&doc(&[BUG_1])).unwrap();
        // Comment 3's time has no zone: the one warning of the file says so.
        let w = warnings(&records);
        assert_eq!(w.len(), 1, "{records:?}");
        assert!(w[0].message.contains("without a zone"), "{w:?}");
        let i = issues(&records)[0];
        assert_eq!(i.source, "bugzilla");
        assert_eq!(i.id, "11111");
        assert_eq!(i.key, "BZ-11111");
        assert_eq!(i.project.key, "BZ");
        assert_eq!(i.project.name, "Lustre");
        assert_eq!(
            i.url.as_deref(),
            Some("https://bugzilla.lustre.org/show_bug.cgi?id=11111")
        );
        assert_eq!(
            i.summary,
            "LBUG in ldlm_lock_cancel(): lock->l_readers & more"
        );
        assert_eq!(i.created.unwrap().rfc3339(), "2006-10-02T14:03:00-07:00");
        assert_eq!(i.updated.unwrap().rfc3339(), "2007-10-18T05:56:11-07:00");
        assert_eq!(i.components, ["ldlm"]);
        assert_eq!(i.versions, ["1.4.7"]);
        assert_eq!(i.fix_versions, ["1.4.8"]);
        assert_eq!(i.status.as_deref(), Some("RESOLVED"));
        assert_eq!(i.status_category.as_deref(), Some("done"));
        assert_eq!(i.resolution.as_deref(), Some("FIXED"));
        assert_eq!(i.priority.as_deref(), Some("P2"));
        assert_eq!(i.severity.as_deref(), Some("critical"));
        assert_eq!(i.issue_type, None);
        assert_eq!(i.labels, ["crash", "patch"]);
        assert_eq!(i.votes, Some(2));
        assert_eq!(i.watches, Some(2));
        let reporter = i.reporter.as_ref().unwrap();
        assert_eq!(reporter.login, "nathan@clusterfs.com");
        assert_eq!(reporter.display, "Nathan Rutman");
        assert_eq!(reporter.email.as_deref(), Some("nathan@clusterfs.com"));
        assert_eq!(i.assignee.as_ref().unwrap().display, "Oleg Drokin");
        let link = |kind: &str, description: &str, target: &str| IssueLink {
            kind: kind.into(),
            description: description.into(),
            direction: LinkDirection::Outward,
            target: target.into(),
            id: None,
            type_id: None,
            target_id: None,
        };
        assert_eq!(
            i.links,
            [
                link("Depends on", "depends on", "BZ-10987"),
                link("Blocks", "blocks", "BZ-11200"),
                link("Blocks", "blocks", "BZ-11201"),
            ]
        );
        let extra: Vec<(&str, &str)> = i
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            extra,
            [
                ("cc", "adilger@clusterfs.com, Eric Barton"),
                ("classification", "Unclassified"),
                ("everconfirmed", "1"),
                (
                    "flag_ids",
                    "inspection+: id 401, type 3; inspection?: id 402, type 4"
                ),
                ("op_sys", "Linux"),
                ("qa_contact", "Lustre QA"),
                ("rep_platform", "x86_64"),
                ("see_also", "https://bugzilla.redhat.com/show_bug.cgi?id=1"),
                ("status_whiteboard", "[landed b1_4]"),
            ]
        );
        assert_eq!(i.custom_fields.len(), 2);
        assert_eq!(i.custom_fields[0].id, "cf_fixed_in");
        assert_eq!(i.custom_fields[0].name, "Fixed in");
        assert_eq!(i.custom_fields[0].values, ["b1_4", "b1_6"]);
        assert_eq!(i.custom_fields[1].id, "flags");
        assert_eq!(
            i.custom_fields[1].values,
            [
                "inspection+ (adilger@clusterfs.com)",
                "inspection? (green@clusterfs.com → adilger@clusterfs.com) on attachment 567",
            ]
        );
        assert_eq!(i.visibility, Visibility::Public);

        // The first comment is the description, and not a comment too.
        let d = i.description.as_ref().unwrap();
        assert_eq!(d.markup, Markup::Plain);
        assert_eq!(
            d.content,
            "ASSERTION(lock->l_readers == 0) failed\n    indented <line>\nSee bug 1234 & b=10987."
        );
        let numbers: Vec<Option<u32>> = i.comments.iter().map(|c| c.number).collect();
        assert_eq!(numbers, [Some(1), Some(2), Some(3)]);
        let c = &i.comments[0];
        assert_eq!(c.author.as_ref().unwrap().display, "Oleg Drokin");
        assert_eq!(c.created.unwrap().rfc3339(), "2006-10-03T09:12:40-07:00");
        assert_eq!(
            c.body,
            Text::new(Markup::Plain, "Created an attachment (id=567)")
        );
        assert_eq!(i.comments[1].visibility, Visibility::Private);
        let c3 = &i.comments[2];
        assert_eq!(c3.body.content, "As noted in comment 1.");
        assert_eq!(c3.created.unwrap().rfc3339(), "2006-10-04T16:45:00Z");
        assert_eq!(c3.author.as_ref().unwrap().display, "");

        assert_eq!(i.attachments.len(), 2);
        let a = &i.attachments[0];
        assert_eq!(a.id, "567");
        assert_eq!(a.name, "ldlm.patch");
        assert_eq!(a.description.as_deref(), Some("fix & test"));
        assert_eq!(a.media_type.as_deref(), Some("text/plain"));
        assert_eq!(a.size, Some(13));
        assert!(a.obsolete && a.patch);
        assert_eq!(a.created.unwrap().rfc3339(), "2006-10-03T09:12:00-07:00");
        assert_eq!(
            a.content,
            Some(AttachmentContent::Base64 {
                data: "SGVsbG8s\nIHdvcmxkIQ==".into()
            })
        );
        assert_eq!(a.visibility, Visibility::Public);
        assert_eq!(i.attachments[1].visibility, Visibility::Private);
        assert_eq!(i.attachments[1].size, Some(6));

        assert_eq!(
            people(&records),
            [
                ("nathan@clusterfs.com", "Nathan Rutman"),
                ("green@clusterfs.com", "Oleg Drokin"),
                ("eeb@clusterfs.com", "Eric Barton"),
                ("qa@clusterfs.com", "Lustre QA"),
            ]
        );
        // Andreas Dilger is named only by the private comment: not put in the directory.
    }

    #[test]
    fn comment_counts_order_comments_whatever_the_sort_order() {
        let records = read(&doc(&[BUG_2])).unwrap();
        let i = issues(&records)[0];
        assert_eq!(i.description.as_ref().unwrap().content, "Every OST fails.");
        let ids: Vec<(&str, Option<u32>)> = i
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.number))
            .collect();
        assert_eq!(ids, [("70002", Some(1)), ("70005", Some(2))]);
        assert_eq!(i.status_category.as_deref(), Some("indeterminate"));
        assert_eq!(i.priority, None);
        assert!(i.fix_versions.is_empty());
        assert_eq!(i.resolution, None);

        // Without counts, newest-first exports are numbered from the end.
        let no_counts = BUG_2
            .lines()
            .filter(|l| !l.contains("comment_count"))
            .collect::<Vec<_>>()
            .join("\n");
        let records = read(&doc(&[&no_counts])).unwrap();
        let i = issues(&records)[0];
        assert_eq!(i.description.as_ref().unwrap().content, "Every OST fails.");
        assert_eq!(i.comments[0].body.content, "Log attached.");
        assert_eq!(i.comments[1].number, Some(2));
    }

    #[test]
    fn a_private_first_comment_is_not_the_description() {
        let bug = BUG_1.replacen(
            r#"<long_desc isprivate="0">"#,
            r#"<long_desc isprivate="1">"#,
            1,
        );
        let records = read(&doc(&[&bug])).unwrap();
        let i = issues(&records)[0];
        assert_eq!(i.description, None);
        assert_eq!(i.comments[0].number, Some(0));
        assert_eq!(i.comments[0].visibility, Visibility::Private);
    }

    #[test]
    fn stubs_are_skipped_with_a_warning_and_groups_restrict() {
        let text = doc(&[STUB, GROUP_BUG, BUG_2]);
        let records = read_with(&text, None).unwrap();
        let w = warnings(&records);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].key.as_deref(), Some("BZ-13000"));
        assert!(w[0].message.contains("not permitted"), "{}", w[0].message);
        let at = text.find(r#"<bug error"#).unwrap();
        assert_eq!((w[0].line, w[0].column), position(&text, at));
        let issues = issues(&records);
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].key, "BZ-14000");
        assert_eq!(
            issues[0].visibility,
            Visibility::Group("clusterfs-confidential".into())
        );
        // Nobody from the restricted bug goes into the directory.
        assert!(!people(&records).iter().any(|(l, _)| l.contains("secret")));
    }

    #[test]
    fn the_key_prefix_is_configurable() {
        let records = read_with(&doc(&[BUG_2]), Some("LUBZ")).unwrap();
        let i = issues(&records)[0];
        assert_eq!(i.key, "LUBZ-16494");
        assert_eq!(i.project.key, "LUBZ");
        assert_eq!(crate::keys::issue_path(&i.key), "issues/LUBZ/16/LUBZ-16494");
    }

    #[test]
    fn plain_text_keeps_indentation_and_normalises_line_ends() {
        assert_eq!(plain("\n \n  x\r\ny\rz \r\n").content, "  x\ny\nz");
        assert_eq!(plain("").content, "");
    }

    #[test]
    fn dates_in_every_shape() {
        assert_eq!(
            ts("2007-10-18 05:56:11 -0700").rfc3339(),
            "2007-10-18T05:56:11-07:00"
        );
        assert_eq!(
            ts("2007-10-18 05:56 +0100").rfc3339(),
            "2007-10-18T05:56:00+01:00"
        );
        assert_eq!(ts("2007-10-18 05:56:11").rfc3339(), "2007-10-18T05:56:11Z");
        assert_eq!(
            ts("2003-06-01 08:00:00 PST").rfc3339(),
            "2003-06-01T08:00:00-08:00"
        );
        assert_eq!(ts("2017-08-12T23:00:36Z").rfc3339(), "2017-08-12T23:00:36Z");
        assert_eq!(parse_date("  ").unwrap(), None);
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2007-10-18 05:56:11 XYZ").is_err());
    }

    #[test]
    fn a_bad_date_is_a_warning_with_position_and_key() {
        let bug = BUG_2.replace(
            "<delta_ts>2009-01-09 17:20:00 -0700</delta_ts>",
            "<delta_ts>sometime in 2009</delta_ts>",
        );
        let text = doc(&[&bug]);
        let records = read(&text).unwrap();
        let w = warnings(&records);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].key.as_deref(), Some("BZ-16494"));
        assert_eq!(
            (w[0].line, w[0].column),
            position(&text, text.find("sometime").unwrap())
        );
        assert!(w[0].message.contains("delta_ts"), "{}", w[0].message);
        assert_eq!(issues(&records)[0].updated, None);
    }

    #[test]
    fn a_bug_without_a_numeric_id_is_skipped() {
        let bug = BUG_2.replace("<bug_id>16494</bug_id>", "<bug_id>../16494</bug_id>");
        let records = read(&doc(&[&bug, BUG_1])).unwrap();
        assert_eq!(issues(&records).len(), 1);
        let w = warnings(&records);
        assert!(
            w[0].message.contains("not a bug number"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn malformed_xml_is_a_parse_error_with_position_and_key() {
        let text = doc(&[BUG_2]).replace("</short_desc>", "</short_dsc>");
        let at = text.find("</short_dsc>").unwrap();
        match read(&text) {
            Err(Error::Parse {
                line, column, key, ..
            }) => {
                assert_eq!((line, column), position(&text, at));
                assert_eq!(key.as_deref(), Some("BZ-16494"));
            }
            other => panic!("{other:?}"),
        }
        let full = doc(&[BUG_1]);
        let cut = &full[..full.find("Created an attachment").unwrap() + 4];
        match read(cut) {
            Err(Error::Parse {
                line,
                column,
                key,
                message,
                path: _,
            }) => {
                assert_eq!((line, column), position(cut, cut.len()));
                assert_eq!(key.as_deref(), Some("BZ-11111"));
                assert!(message.contains("<thetext>"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        for text in ["", "<rss version=\"0.92\"><channel/></rss>", "just text"] {
            match read(text) {
                Err(Error::Parse { message, .. }) => {
                    assert!(message.contains("not a Bugzilla XML export"), "{message}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_windows_1252_with_one_warning() {
        // Whatever the declaration says.
        let text = doc(&[BUG_2]).replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
        assert!(text.contains("ISO-8859-1"));
        let at = text.find("Every OST").unwrap();
        let mut bytes = text.clone().into_bytes();
        // Latin-1 é, a Windows-1252 right quote, and a valid UTF-8 é after them.
        bytes.splice(at..at, b"Caf\xE9 \x92ok\x92 caf\xC3\xA9 ".iter().copied());
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        let mut records = Vec::new();
        read_file(f.path(), &source(None), &mut |r| {
            records.push(r);
            Ok(())
        })
        .unwrap();
        let i = issues(&records)[0];
        assert_eq!(
            i.description.as_ref().unwrap().content,
            "Café \u{2019}ok\u{2019} café Every OST fails."
        );
        let w = warnings(&records);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.starts_with("3 byte(s) are not UTF-8"),
            "{}",
            w[0].message
        );
        assert_eq!((w[0].line, w[0].column), position(&text, at + 3));
        // Positions after the repaired bytes still count characters.
        let bug = BUG_2.replace("<thetext>Every OST", "<thetext>Caf\u{e9} Every OST");
        let bug = bug.replace(
            "</long_desc>\n    </bug>",
            "</long_desc>\n<votes>soon</votes></bug>",
        );
        assert!(bug.contains("<votes>soon"));
        let text = doc(&[&bug]);
        let mut bytes = text.clone().into_bytes();
        let e = text.find('\u{e9}').unwrap();
        bytes.splice(e..e + 2, [0xE9u8]);
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        let mut records = Vec::new();
        read_file(f.path(), &source(None), &mut |r| {
            records.push(r);
            Ok(())
        })
        .unwrap();
        let w = warnings(&records);
        assert_eq!(w.len(), 2, "{w:?}");
        let soon = w.iter().find(|w| w.message.contains("votes")).unwrap();
        assert_eq!(
            (soon.line, soon.column),
            position(&text, text.find("soon").unwrap())
        );
    }

    #[test]
    fn repair_handles_sequences_split_between_reads() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let log = Rc::new(RepairLog::default());
        let input = b"caf\xC3\xA9 \xE9\xE2\x82\xAC \x80 end\xC3";
        let mut out = String::new();
        Utf8Repair::new(Trickle(input), Some(log.clone()))
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "café é€ € endÃ");
        assert_eq!(log.count.get(), 3);
        assert_eq!(log.first.get(), Some(6));
    }

    #[test]
    fn sniffs_bugzilla_exports_only() {
        assert!(sniff(HEAD));
        assert!(sniff(
            "<?xml version=\"1.0\"?>\n<bugzilla version=\"5.0.4\">"
        ));
        assert!(!sniff("<rss version=\"0.92\" >"));
        assert!(!sniff("{\"bugs\": []}"));
    }

    #[test]
    fn the_fixture_files_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bugzilla");
        let mut records = Vec::new();
        for file in ["lustre-bugzilla-3.0.xml", "lustre-bugzilla-4.4.xml"] {
            let path = dir.join(file);
            let head = std::fs::read_to_string(&path).unwrap();
            assert!(sniff(&head[..2000.min(head.len())]), "{file}");
            read_file(&path, &source(Some("BZ")), &mut |r| {
                records.push(r);
                Ok(())
            })
            .unwrap();
        }
        let keys: Vec<&str> = issues(&records).iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["BZ-11111", "BZ-12755", "BZ-14000", "BZ-1234", "BZ-16494"]
        );
        let w = warnings(&records);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[0].key.as_deref(), Some("BZ-13000"));
        assert!(w[1].message.contains("without a zone"), "{w:?}");
        let i = issues(&records)[0];
        assert_eq!(
            i.comments
                .iter()
                .filter(|c| !c.visibility.is_public())
                .count(),
            1
        );
        assert_eq!(
            i.attachments
                .iter()
                .filter(|a| !a.visibility.is_public())
                .count(),
            1
        );
        let old = issues(&records)[3];
        assert_eq!(old.created.unwrap().rfc3339(), "2003-05-20T10:15:00Z");
        assert_eq!(old.updated.unwrap().rfc3339(), "2003-06-01T08:00:00-08:00");
        let dup = issues(&records)[1];
        assert_eq!(dup.links[0].target, "BZ-11111");
        assert_eq!(dup.links[0].kind, "Duplicate");
    }
}
