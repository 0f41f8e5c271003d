//! Bugzilla REST JSON importer (`/rest/bug` with embedded `comments` and `history`).
//!
//! Two shapes, told apart while reading, both streamed:
//!
//! - a REST response `{"bugs": [ {…}, {…} ], "faults": []}` (or a bare array of bugs): the
//!   `bugs` array is visited one element at a time with a serde `DeserializeSeed`, so only one
//!   bug is ever held in memory;
//! - JSON lines, one bug object per line (any white space between values works).
//!
//! Each bug becomes one [`Record::Issue`], preceded by a [`Record::Person`] for every account
//! given with its real name (`creator_detail`, `assigned_to_detail`, `qa_contact_detail`,
//! `cc_detail`) and by its warnings. Keys, the description (comment `count` 0), comment numbers
//! (`#c3`), status categories and restrictions are as in the XML importer: non-empty `groups`
//! make the bug [`Visibility::Group`]; `is_private` comments and attachments are
//! [`Visibility::Private`]. History changes that concern a private attachment or comment
//! (`attachment_id`, `comment_id`) are left out, so nothing of them reaches the timeline.
//!
//! Malformed JSON is a fatal [`Error::Parse`] with serde_json's line and the column in
//! characters; a bug that lacks an id, or carries only comments or history (no summary, product
//! or dates), is skipped with a warning, positioned at the bug's start.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::rc::Rc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::bugzilla_xml::{
    base64_len, custom_field_name, non_blank, number_comments, parse_date, plain, status_category,
};
use super::position::{char_column, Counting, Positions};
use super::{Record, Source, Warning};
use crate::error::{Error, Result};
use crate::model::{
    Attachment, AttachmentContent, Comment, CustomField, FieldChange, HistoryEntry, Issue,
    IssueLink, LinkDirection, Person, Project, Timestamp, Visibility,
};

/// Keys only a Bugzilla bug has, as REST writes them.
const BUG_KEYS: [&str; 14] = [
    "\"attachment_id\"",
    "\"is_private\"",
    "\"creation_time\"",
    "\"last_change_time\"",
    "\"op_sys\"",
    "\"is_open\"",
    "\"depends_on\"",
    "\"assigned_to_detail\"",
    "\"creator_detail\"",
    "\"is_confirmed\"",
    "\"dupe_of\"",
    "\"cc_detail\"",
    "\"target_milestone\"",
    "\"is_cc_accessible\"",
];

/// Whether the start of a file looks like Bugzilla REST JSON: a JSON value with a `"bugs"`
/// member and bug keys, or a JSON line that is a bug.
pub fn sniff(head: &str) -> bool {
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return false;
    }
    let bug_keys = BUG_KEYS.iter().filter(|k| head.contains(*k)).count();
    let has_bugs = head
        .match_indices("\"bugs\"")
        .any(|(i, m)| head[i + m.len()..].trim_start().starts_with(':'));
    if has_bugs && bug_keys >= 1 {
        return true;
    }
    (head.contains("\"creation_time\"")
        && head.contains("\"summary\"")
        && head.contains("\"product\""))
        || bug_keys >= 3
}

/// Reads one file of Bugzilla REST JSON, emitting its bugs and people.
///
/// Per bug: `id`, `alias`, `summary`, `creation_time`, `last_change_time`, `product`,
/// `component`, `version`, `target_milestone`, `status`, `resolution`, `priority`, `severity`,
/// `type`, `keywords`, `depends_on`, `blocks`, `dupe_of`, `duplicates`, `regressed_by`,
/// `regressions`, `see_also`, `creator`/`assigned_to`/`qa_contact` (with their `_detail`), `cc`
/// / `cc_detail`, `groups`, `flags`, `votes`, `platform`, `op_sys`, `whiteboard`, `url`,
/// `classification`, `is_confirmed`, time tracking, `cf_*`, `comments`, `attachments` (with
/// `data`) and `history`.
pub fn read_file(
    path: &Path,
    source: &Source,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let (reader, count) = Counting::new(BufReader::with_capacity(128 * 1024, file));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut state = State {
        path,
        source,
        prefix: source
            .key_prefix
            .clone()
            .unwrap_or_else(|| "BZ".to_string()),
        positions: Positions::new(path, false),
        emit,
        count,
        failure: None,
        last_key: None,
        people: HashSet::new(),
        values: 0,
    };
    loop {
        // `end` succeeds at the end of input; otherwise it has peeked the next value's first byte.
        match de.end() {
            Ok(()) => break,
            Err(e) if e.is_io() => {
                return Err(Error::io(path, std::io::Error::other(e.to_string())))
            }
            Err(_) => {}
        }
        let at = state.count.get().saturating_sub(1);
        state.values += 1;
        if let Err(e) = (TopSeed {
            state: &mut state,
            at,
        })
        .deserialize(&mut de)
        {
            return Err(match state.failure.take() {
                Some(f) => f,
                None => state.json_error(&e),
            });
        }
    }
    if state.values == 0 {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            key: None,
            message: "not a Bugzilla JSON export: the file is empty".to_string(),
        });
    }
    Ok(())
}

/// The state of one file's read.
struct State<'a, 'e> {
    path: &'a Path,
    source: &'a Source,
    prefix: String,
    positions: Positions,
    emit: &'e mut dyn FnMut(Record) -> Result<()>,
    count: Rc<Cell<u64>>,
    /// The error that stopped the read from inside serde (emit failed).
    failure: Option<Error>,
    /// The last bug read, for messages about what follows it.
    last_key: Option<String>,
    /// (login, display) pairs already emitted from this file.
    people: HashSet<(String, String)>,
    /// Top-level JSON values seen.
    values: u64,
}

/// Stops serde after `emit` failed; the real error is in `State::failure`.
fn stopped<E: serde::de::Error>() -> E {
    E::custom("stopped")
}

impl State<'_, '_> {
    /// One bug object, started at byte `at`.
    fn bug<E: serde::de::Error>(&mut self, bug: Map<String, Value>, at: u64) -> Result<(), E> {
        match self.read_bug(bug, at) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failure = Some(e);
                Err(stopped())
            }
        }
    }

    fn warn<E: serde::de::Error>(
        &mut self,
        at: u64,
        key: Option<String>,
        message: String,
    ) -> Result<(), E> {
        let w = self.warning(at, key, message);
        match (self.emit)(Record::Warning(w)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failure = Some(e);
                Err(stopped())
            }
        }
    }

    fn warning(&mut self, at: u64, key: Option<String>, message: String) -> Warning {
        self.positions.json_warning(at, key, message)
    }

    fn json_error(&mut self, e: &serde_json::Error) -> Error {
        let full = e.to_string();
        let mut message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        if let Some(k) = &self.last_key {
            message.push_str(&format!(" (in the bug after {k})"));
        }
        let line = e.line().max(1) as u64;
        Error::Parse {
            path: self.path.to_path_buf(),
            line,
            column: char_column(self.path, line, e.column() as u64).max(1),
            key: None,
            message: format!("not valid Bugzilla JSON: {message}"),
        }
    }

    fn read_bug(&mut self, mut bug: Map<String, Value>, at: u64) -> Result<()> {
        let mut warnings: Vec<String> = Vec::new();
        let id = match bug.get("id") {
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(Value::String(s)) if is_bug_number(s.trim()) => s.trim().to_string(),
            Some(other) => {
                let w = self.warning(at, None, format!("bug id {other} is not a number; skipped"));
                return (self.emit)(Record::Warning(w));
            }
            None => {
                let w = self.warning(at, None, "bug has no \"id\"; skipped".to_string());
                return (self.emit)(Record::Warning(w));
            }
        };
        let key = format!("{}-{id}", self.prefix);
        self.last_key = Some(key.clone());
        if !["summary", "product", "creation_time", "last_change_time"]
            .iter()
            .any(|k| bug.contains_key(*k))
        {
            let message = format!(
                "bug {id} has no summary, product or dates (a comments- or history-only export?); skipped: export bugs with their fields and embedded comments"
            );
            let w = self.warning(at, Some(key), message);
            return (self.emit)(Record::Warning(w));
        }

        let mut issue = Issue {
            source: self.source.name.clone(),
            id: id.clone(),
            key: key.clone(),
            project: Project {
                key: self.prefix.clone(),
                name: string(&bug, "product").unwrap_or_default(),
                id: None,
            },
            summary: string(&bug, "summary").unwrap_or_default(),
            ..Default::default()
        };
        let date = |name: &str, warnings: &mut Vec<String>| -> Option<Timestamp> {
            let s = string(&bug, name)?;
            match parse_date(&s) {
                Ok(t) => t,
                Err(e) => {
                    warnings.push(format!("{name} ignored: {e}"));
                    None
                }
            }
        };
        issue.created = date("creation_time", &mut warnings);
        issue.updated = date("last_change_time", &mut warnings);
        issue.components = strings(&bug, "component");
        issue.versions = strings(&bug, "version");
        issue.fix_versions = strings(&bug, "target_milestone")
            .into_iter()
            .filter(|v| v != "---")
            .collect();
        issue.status = string(&bug, "status");
        issue.resolution = string(&bug, "resolution");
        issue.status_category = issue
            .status
            .as_deref()
            .map(|s| status_category(s, issue.resolution.is_some()).to_string());
        issue.priority = string(&bug, "priority").filter(|p| p != "--");
        issue.severity = string(&bug, "severity");
        issue.issue_type = string(&bug, "type");
        issue.labels = strings(&bug, "keywords");
        issue.votes = bug.get("votes").and_then(Value::as_u64).map(|v| v as u32);

        let mut people = Vec::new();
        issue.reporter = person(&bug, "creator", "creator_detail", &mut people);
        issue.assignee = person(&bug, "assigned_to", "assigned_to_detail", &mut people);
        if let Some(p) = person(&bug, "qa_contact", "qa_contact_detail", &mut people) {
            issue.extra.insert("qa_contact".to_string(), shown(p));
        }
        let cc = cc_list(&bug, &mut people);
        if !cc.is_empty() {
            issue.watches = Some(cc.len() as u32);
            issue.extra.insert("cc".to_string(), cc.join(", "));
        }

        let mut link = |kind: &str, description: &str, direction, field: &str| {
            for n in numbers(&bug, field) {
                let l = IssueLink {
                    kind: kind.to_string(),
                    description: description.to_string(),
                    direction,
                    target: format!("{}-{n}", self.prefix),
                    id: None,
                    type_id: None,
                    target_id: None,
                };
                if !issue.links.contains(&l) {
                    issue.links.push(l);
                }
            }
        };
        use LinkDirection::{Inward, Outward};
        link("Duplicate", "duplicates", Outward, "dupe_of");
        link("Duplicate", "is duplicated by", Inward, "duplicates");
        link("Depends on", "depends on", Outward, "depends_on");
        link("Blocks", "blocks", Outward, "blocks");
        link("Regression", "regressed by", Outward, "regressed_by");
        link("Regression", "regresses", Outward, "regressions");

        for (field, name) in [
            ("alias", "alias"),
            ("see_also", "see_also"),
            ("platform", "rep_platform"),
            ("op_sys", "op_sys"),
            ("whiteboard", "status_whiteboard"),
            ("url", "bug_file_loc"),
            ("classification", "classification"),
            ("deadline", "deadline"),
            ("estimated_time", "estimated_time"),
            ("remaining_time", "remaining_time"),
            ("actual_time", "actual_time"),
        ] {
            let values = strings(&bug, field);
            // Time tracking that was never used reads 0.
            let unused = field.ends_with("_time")
                && values.len() == 1
                && values[0].parse::<f64>() == Ok(0.0);
            if values.is_empty() || unused {
                continue;
            }
            let sep = if field == "see_also" { "\n" } else { ", " };
            issue.extra.insert(name.to_string(), values.join(sep));
        }
        if let Some(c) = bug.get("is_confirmed").and_then(Value::as_bool) {
            issue
                .extra
                .insert("everconfirmed".to_string(), u8::from(c).to_string());
        }
        let mut cf: Vec<&String> = bug.keys().filter(|k| k.starts_with("cf_")).collect();
        cf.sort();
        for name in cf {
            let values: Vec<String> = strings(&bug, name)
                .into_iter()
                .filter(|v| v != "---")
                .collect();
            if !values.is_empty() {
                issue.custom_fields.push(CustomField {
                    id: name.clone(),
                    key: None,
                    name: custom_field_name(name),
                    values,
                });
            }
        }

        // Attachments (when embedded) and which attachments and comments are private.
        let mut private_attachments: HashSet<String> = HashSet::new();
        let mut private_comments: HashSet<String> = HashSet::new();
        let mut flags = flags(bug.get("flags"), None);
        let mut flag_ids = self::flag_ids(bug.get("flags"));
        if let Some(Value::Array(list)) = bug.get_mut("attachments") {
            for a in list.iter_mut() {
                let Value::Object(a) = a else { continue };
                let att = attachment(a, &mut warnings);
                if att.visibility.is_public() {
                    flags.extend(self::flags(a.get("flags"), Some(&att.id)));
                    flag_ids.extend(self::flag_ids(a.get("flags")));
                } else {
                    private_attachments.insert(att.id.clone());
                }
                issue.attachments.push(att);
            }
        }
        if !flag_ids.is_empty() {
            issue
                .extra
                .insert("flag_ids".to_string(), flag_ids.join("; "));
        }
        if !flags.is_empty() {
            issue.custom_fields.push(CustomField {
                id: "flags".to_string(),
                key: None,
                name: "Flags".to_string(),
                values: flags,
            });
        }

        let mut raw = Vec::new();
        if let Some(Value::Array(list)) = bug.get("comments") {
            for (index, c) in list.iter().enumerate() {
                let Value::Object(c) = c else { continue };
                let mut comment = Comment {
                    id: string(c, "id").unwrap_or_default(),
                    author: string(c, "creator")
                        .or_else(|| string(c, "author"))
                        .map(|login| Person {
                            email: login.contains('@').then(|| login.clone()),
                            login,
                            display: String::new(),
                            id: None,
                        }),
                    body: plain(c.get("text").and_then(Value::as_str).unwrap_or_default()),
                    tags: strings(c, "tags"),
                    ..Default::default()
                };
                if let Some(t) = string(c, "creation_time").or_else(|| string(c, "time")) {
                    match parse_date(&t) {
                        Ok(t) => comment.created = t,
                        Err(e) => warnings.push(format!("comment date ignored: {e}")),
                    }
                }
                let count = c.get("count").and_then(Value::as_u64).map(|n| n as u32);
                if c.get("is_private").is_some_and(truthy) {
                    comment.visibility = Visibility::Private;
                    private_comments.insert(comment.id.clone());
                    if let Some(n) = count {
                        private_comments.insert(format!("#{n}"));
                    }
                    if let Some(a) = string(c, "attachment_id") {
                        private_attachments.insert(a);
                    }
                }
                raw.push((index, count, comment));
            }
        }
        let (description, comments) = number_comments(raw, None);
        issue.description = description.map(|(text, _)| text);
        issue.comments = comments;

        if let Some(Value::Array(list)) = bug.get("history") {
            for h in list {
                let Value::Object(h) = h else { continue };
                let mut entry = HistoryEntry {
                    author: string(h, "who").map(|login| Person {
                        email: login.contains('@').then(|| login.clone()),
                        login,
                        display: String::new(),
                        id: None,
                    }),
                    ..Default::default()
                };
                if let Some(t) = string(h, "when") {
                    match parse_date(&t) {
                        Ok(t) => entry.created = t,
                        Err(e) => warnings.push(format!("history date ignored: {e}")),
                    }
                }
                if let Some(Value::Array(changes)) = h.get("changes") {
                    for c in changes {
                        let Value::Object(c) = c else { continue };
                        let about_private = string(c, "attachment_id")
                            .is_some_and(|a| private_attachments.contains(&a))
                            || string(c, "comment_id")
                                .is_some_and(|id| private_comments.contains(&id))
                            || string(c, "comment_count")
                                .is_some_and(|n| private_comments.contains(&format!("#{n}")));
                        if about_private {
                            continue;
                        }
                        entry.changes.push(FieldChange {
                            field: string(c, "field_name").unwrap_or_default(),
                            from: string(c, "removed"),
                            to: string(c, "added"),
                        });
                    }
                }
                if !entry.changes.is_empty() {
                    issue.history.push(entry);
                }
            }
        }
        // Resolved: when the current resolution was last set.
        if issue.resolution.is_some() {
            issue.resolved = super::resolution_time(&issue.history);
        }

        let groups = strings(&bug, "groups");
        if !groups.is_empty() {
            issue.visibility = Visibility::Group(groups.join(", "));
            people.clear();
        }
        for p in people {
            let pair = (p.login.clone(), p.display.clone());
            if !p.login.is_empty() && !p.display.is_empty() && self.people.insert(pair) {
                (self.emit)(Record::Person(p))?;
            }
        }
        for message in warnings {
            let w = self.warning(at, Some(key.clone()), message);
            (self.emit)(Record::Warning(w))?;
        }
        (self.emit)(Record::Issue(Box::new(issue)))
    }
}

fn shown(p: Person) -> String {
    if p.display.is_empty() {
        p.login
    } else {
        p.display
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() == Some(1),
        Value::String(s) => super::bugzilla_xml::is_true(s),
        _ => false,
    }
}

fn is_bug_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 18
        && s.bytes().all(|b| b.is_ascii_digit())
        && !(s.len() > 1 && s.starts_with('0'))
}

/// A scalar as text (numbers and booleans too); blank → none.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => non_blank(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(scalar)
}

/// A scalar or an array of scalars, as a list.
fn strings(m: &Map<String, Value>, key: &str) -> Vec<String> {
    match m.get(key) {
        Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(v) => scalar(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Bug numbers in a field (one or a list); zero and anything else are ignored.
fn numbers(m: &Map<String, Value>, key: &str) -> Vec<String> {
    strings(m, key)
        .into_iter()
        .filter(|s| is_bug_number(s) && s != "0")
        .collect()
}

/// An account: login from `field` (or the detail's `name`), real name and address from the
/// `_detail` object.
fn person(
    m: &Map<String, Value>,
    field: &str,
    detail: &str,
    people: &mut Vec<Person>,
) -> Option<Person> {
    let d = match m.get(detail) {
        Some(Value::Object(d)) => Some(d),
        _ => None,
    };
    person_of(string(m, field), d, people)
}

fn person_of(
    login: Option<String>,
    detail: Option<&Map<String, Value>>,
    people: &mut Vec<Person>,
) -> Option<Person> {
    let login = login
        .or_else(|| detail.and_then(|d| string(d, "name")))
        .or_else(|| detail.and_then(|d| string(d, "email")))
        .unwrap_or_default();
    let display = detail
        .and_then(|d| string(d, "real_name"))
        .unwrap_or_default();
    if login.is_empty() && display.is_empty() {
        return None;
    }
    let email = detail
        .and_then(|d| string(d, "email"))
        .or_else(|| login.contains('@').then(|| login.clone()));
    let id = detail.and_then(|d| string(d, "id"));
    let p = Person {
        login,
        display,
        email,
        id,
    };
    people.push(p.clone());
    Some(p)
}

/// The CC list, by real name where `cc_detail` gives one.
fn cc_list(m: &Map<String, Value>, people: &mut Vec<Person>) -> Vec<String> {
    if let Some(Value::Array(details)) = m.get("cc_detail") {
        return details
            .iter()
            .filter_map(|d| match d {
                Value::Object(d) => person_of(None, Some(d), people).map(shown),
                _ => None,
            })
            .collect();
    }
    strings(m, "cc")
}

/// The flags' internal ids, as the XML importer writes them (`review+: id 1, type 3`).
fn flag_ids(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(list)) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|f| {
            let Value::Object(f) = f else { return None };
            crate::import::bugzilla_xml::flag_ids(
                string(f, "name").as_deref(),
                string(f, "status").as_deref(),
                string(f, "id").as_deref(),
                string(f, "type_id").as_deref(),
            )
        })
        .collect()
}

/// `Flags` entries as the XML importer writes them.
fn flags(v: Option<&Value>, attachment: Option<&str>) -> Vec<String> {
    let Some(Value::Array(list)) = v else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|f| {
            let Value::Object(f) = f else { return None };
            let name = string(f, "name")?;
            let mut out = format!("{name}{}", string(f, "status").unwrap_or_default());
            match (string(f, "setter"), string(f, "requestee")) {
                (Some(s), Some(r)) => out.push_str(&format!(" ({s} → {r})")),
                (Some(s), None) => out.push_str(&format!(" ({s})")),
                (None, Some(r)) => out.push_str(&format!(" (→ {r})")),
                (None, None) => {}
            }
            if let Some(id) = attachment.filter(|id| !id.is_empty()) {
                out.push_str(&format!(" on attachment {id}"));
            }
            Some(out)
        })
        .collect()
}

/// An embedded attachment; its `data` is moved out of the JSON value, not copied.
fn attachment(a: &mut Map<String, Value>, warnings: &mut Vec<String>) -> Attachment {
    let mut att = Attachment {
        id: string(a, "id").unwrap_or_default(),
        name: string(a, "file_name").unwrap_or_default(),
        size: a.get("size").and_then(Value::as_u64),
        media_type: string(a, "content_type"),
        description: string(a, "summary").or_else(|| string(a, "description")),
        author: string(a, "creator")
            .or_else(|| string(a, "attacher"))
            .map(|login| Person {
                email: login.contains('@').then(|| login.clone()),
                login,
                display: String::new(),
                id: None,
            }),
        obsolete: a.get("is_obsolete").is_some_and(truthy),
        patch: a.get("is_patch").is_some_and(truthy),
        ..Default::default()
    };
    if let Some(t) = string(a, "creation_time") {
        match parse_date(&t) {
            Ok(t) => att.created = t,
            Err(e) => warnings.push(format!("attachment date ignored: {e}")),
        }
    }
    if a.get("is_private").is_some_and(truthy) {
        att.visibility = Visibility::Private;
    }
    if let Some(Value::String(data)) = a.remove("data") {
        if !data.trim().is_empty() {
            if att.size.is_none() {
                att.size = Some(base64_len(&data));
            }
            att.content = Some(AttachmentContent::Base64 { data });
        }
    }
    att
}

/// A top-level JSON value: a `{"bugs": …}` response, a bug (JSON lines), or an array of bugs.
struct TopSeed<'s, 'a, 'e> {
    state: &'s mut State<'a, 'e>,
    at: u64,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Bugzilla REST response {\"bugs\": [...]} or a bug object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = Map::new();
        let mut had_bugs = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == "bugs" {
                had_bugs = true;
                map.next_value_seed(BugsSeed {
                    state: &mut *self.state,
                })?;
            } else if had_bugs || k == "faults" {
                // The rest of a REST response envelope.
                map.next_value::<IgnoredAny>()?;
            } else {
                let v: Value = map.next_value()?;
                fields.insert(k, v);
            }
        }
        if had_bugs {
            return Ok(());
        }
        if fields.contains_key("id") {
            return self.state.bug(fields, self.at);
        }
        let message = "a JSON object that is neither a bug nor {\"bugs\": [...]}; skipped";
        self.state.warn(self.at, None, message.to_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        BugsSeed { state: self.state }.visit_seq(seq)
    }
}

/// The `bugs` member: an array of bugs, or an object of bugs keyed by id.
struct BugsSeed<'s, 'a, 'e> {
    state: &'s mut State<'a, 'e>,
}

impl<'de> DeserializeSeed<'de> for BugsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BugsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of bugs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let at = self.state.count.get();
            match seq.next_element::<Value>()? {
                None => return Ok(()),
                Some(Value::Object(bug)) => self.state.bug(bug, at)?,
                Some(other) => {
                    let message = format!("a bug that is not a JSON object ({other:.40}); skipped");
                    self.state.warn(at, None, message)?;
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // `/rest/bug/N/comment` and `/rest/bug/N/history` key their bugs by id.
        loop {
            let at = self.state.count.get();
            let Some(id) = map.next_key::<String>()? else {
                return Ok(());
            };
            match map.next_value::<Value>()? {
                Value::Object(mut bug) => {
                    bug.entry("id").or_insert(Value::String(id));
                    self.state.bug(bug, at)?;
                }
                _ => {
                    let message = format!("bug {id} is not a JSON object; skipped");
                    self.state.warn(at, None, message)?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_records::{issues, people, warnings};
    use crate::model::{Markup, Text};
    use std::io::Write;

    const BUG: &str = r#"{
   "actual_time" : 0,
   "alias" : ["ldlm-race"],
   "assigned_to" : "green@clusterfs.com",
   "assigned_to_detail" : {"email" : "green@clusterfs.com", "id" : 12, "name" : "green@clusterfs.com", "real_name" : "Oleg Drokin"},
   "blocks" : [11200],
   "cc" : ["adilger@clusterfs.com"],
   "cc_detail" : [{"email" : "adilger@clusterfs.com", "id" : 3, "name" : "adilger@clusterfs.com", "real_name" : "Andreas Dilger"}],
   "cf_fixed_in" : ["b1_4", "b1_6"],
   "cf_type" : "---",
   "classification" : "Unclassified",
   "component" : "ldlm",
   "creation_time" : "2006-10-02T21:03:27Z",
   "creator" : "nathan@clusterfs.com",
   "creator_detail" : {"email" : "nathan@clusterfs.com", "id" : 7, "name" : "nathan@clusterfs.com", "real_name" : "Nathan Rutman"},
   "deadline" : null,
   "depends_on" : [10987],
   "dupe_of" : null,
   "flags" : [{"id" : 1, "name" : "review", "setter" : "adilger@clusterfs.com", "status" : "+", "type_id" : 3}],
   "groups" : [],
   "id" : 11111,
   "is_cc_accessible" : true,
   "is_confirmed" : true,
   "is_open" : false,
   "keywords" : ["crash"],
   "last_change_time" : "2007-10-18T12:56:11Z",
   "op_sys" : "Linux",
   "platform" : "x86_64",
   "priority" : "P2",
   "product" : "Lustre",
   "qa_contact" : "",
   "resolution" : "FIXED",
   "see_also" : ["https://bugzilla.redhat.com/show_bug.cgi?id=1"],
   "severity" : "critical",
   "status" : "RESOLVED",
   "summary" : "LBUG in ldlm_lock_cancel() & \"more\"",
   "target_milestone" : "1.4.8",
   "type" : "defect",
   "url" : "",
   "version" : "1.4.7",
   "whiteboard" : "[landed]",
   "comments" : [
      {"attachment_id" : null, "count" : 0, "creation_time" : "2006-10-02T21:03:27Z", "creator" : "nathan@clusterfs.com", "id" : 501, "is_private" : false, "text" : "ASSERTION failed\nSee bug 1234."},
      {"attachment_id" : 568, "count" : 1, "creation_time" : "2006-10-03T18:30:02Z", "creator" : "adilger@clusterfs.com", "id" : 502, "is_private" : true, "text" : "SECRET"},
      {"attachment_id" : null, "count" : 2, "creation_time" : "2006-10-04T23:45:00Z", "creator" : "adilger@clusterfs.com", "id" : 503, "is_private" : false, "text" : "As noted in comment 0."}
   ],
   "attachments" : [
      {"content_type" : "text/plain", "creation_time" : "2006-10-03T16:12:00Z", "creator" : "green@clusterfs.com", "data" : "SGVsbG8sIHdvcmxkIQ==", "file_name" : "ldlm.patch", "id" : 567, "is_obsolete" : 0, "is_patch" : 1, "is_private" : 0, "summary" : "fix", "flags" : [{"name" : "inspection", "status" : "?", "requestee" : "adilger@clusterfs.com"}]},
      {"content_type" : "text/plain", "creation_time" : "2006-10-03T18:29:00Z", "creator" : "adilger@clusterfs.com", "file_name" : "secret.txt", "id" : 569, "is_private" : 1, "summary" : "SECRET", "size" : 6}
   ],
   "history" : [
      {"when" : "2006-10-03T18:30:02Z", "who" : "adilger@clusterfs.com", "changes" : [
         {"added" : "SECRET", "attachment_id" : 569, "field_name" : "attachments.description", "removed" : "x"},
         {"added" : "SECRET", "attachment_id" : 568, "field_name" : "attachments.filename", "removed" : "x"}]},
      {"when" : "2007-10-18T12:56:11Z", "who" : "green@clusterfs.com", "changes" : [
         {"added" : "RESOLVED", "field_name" : "status", "removed" : "ASSIGNED"},
         {"added" : "FIXED", "field_name" : "resolution", "removed" : ""}]}
   ]
}"#;

    const GROUP_BUG: &str = r#"{"id": 14000, "summary": "secret", "product": "Lustre", "status": "NEW", "creation_time": "2007-09-01T19:00:00Z", "groups": ["confidential"], "creator": "s@example.com", "creator_detail": {"email": "s@example.com", "real_name": "Secret Person"}}"#;

    fn source() -> Source {
        Source {
            name: "bugzilla".into(),
            key_prefix: Some("BZ".into()),
            ..Default::default()
        }
    }

    fn read(text: &str) -> Result<Vec<Record>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.flush().unwrap();
        let mut records = Vec::new();
        read_file(f.path(), &source(), &mut |r| {
            records.push(r);
            Ok(())
        })
        .map(|()| records)
    }

    fn response(bugs: &[&str]) -> String {
        format!(
            "{{\n   \"bugs\" : [\n{}\n   ],\n   \"faults\" : []\n}}\n",
            bugs.join(",\n")
        )
    }

    #[test]
    fn reads_every_field_of_a_rest_bug() {
        let records = read(&response(&[BUG])).unwrap();
        assert!(warnings(&records).is_empty(), "{records:?}");
        let i = issues(&records)[0];
        assert_eq!((i.id.as_str(), i.key.as_str()), ("11111", "BZ-11111"));
        assert_eq!(i.source, "bugzilla");
        assert_eq!(i.project.key, "BZ");
        assert_eq!(i.project.name, "Lustre");
        assert_eq!(i.summary, "LBUG in ldlm_lock_cancel() & \"more\"");
        assert_eq!(i.created.unwrap().rfc3339(), "2006-10-02T21:03:27Z");
        assert_eq!(i.updated.unwrap().rfc3339(), "2007-10-18T12:56:11Z");
        assert_eq!(i.components, ["ldlm"]);
        assert_eq!(i.versions, ["1.4.7"]);
        assert_eq!(i.fix_versions, ["1.4.8"]);
        assert_eq!(i.status.as_deref(), Some("RESOLVED"));
        assert_eq!(i.status_category.as_deref(), Some("done"));
        assert_eq!(i.resolution.as_deref(), Some("FIXED"));
        assert_eq!(i.issue_type.as_deref(), Some("defect"));
        assert_eq!(i.labels, ["crash"]);
        assert_eq!(i.watches, Some(1));
        assert_eq!(i.reporter.as_ref().unwrap().display, "Nathan Rutman");
        assert_eq!(i.assignee.as_ref().unwrap().login, "green@clusterfs.com");
        let targets: Vec<(&str, &str)> = i
            .links
            .iter()
            .map(|l| (l.description.as_str(), l.target.as_str()))
            .collect();
        assert_eq!(
            targets,
            [("depends on", "BZ-10987"), ("blocks", "BZ-11200")]
        );
        assert_eq!(i.extra.get("alias").map(String::as_str), Some("ldlm-race"));
        assert_eq!(
            i.extra.get("rep_platform").map(String::as_str),
            Some("x86_64")
        );
        assert_eq!(
            i.extra.get("status_whiteboard").map(String::as_str),
            Some("[landed]")
        );
        assert_eq!(i.extra.get("everconfirmed").map(String::as_str), Some("1"));
        assert_eq!(
            i.extra.get("cc").map(String::as_str),
            Some("Andreas Dilger")
        );
        assert!(!i.extra.contains_key("actual_time") && !i.extra.contains_key("bug_file_loc"));
        let cf: Vec<(&str, &[String])> = i
            .custom_fields
            .iter()
            .map(|f| (f.id.as_str(), f.values.as_slice()))
            .collect();
        assert_eq!(
            cf,
            [
                ("cf_fixed_in", &["b1_4".to_string(), "b1_6".to_string()][..]),
                (
                    "flags",
                    &[
                        "review+ (adilger@clusterfs.com)".to_string(),
                        "inspection? (→ adilger@clusterfs.com) on attachment 567".to_string()
                    ][..]
                ),
            ]
        );
        assert_eq!(
            i.description,
            Some(Text::new(Markup::Plain, "ASSERTION failed\nSee bug 1234."))
        );
        let c: Vec<(&str, Option<u32>, bool)> = i
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.number, c.visibility.is_public()))
            .collect();
        assert_eq!(c, [("502", Some(1), false), ("503", Some(2), true)]);
        assert_eq!(i.attachments.len(), 2);
        assert_eq!(
            i.attachments[0].content,
            Some(AttachmentContent::Base64 {
                data: "SGVsbG8sIHdvcmxkIQ==".into()
            })
        );
        assert_eq!(i.attachments[0].size, Some(13));
        assert!(i.attachments[0].patch && !i.attachments[0].obsolete);
        assert_eq!(i.attachments[1].visibility, Visibility::Private);
        // Changes about private attachments (569 by flag, 568 by its private comment) are gone.
        assert_eq!(i.history.len(), 1);
        assert_eq!(i.history[0].changes.len(), 2);
        assert_eq!(i.history[0].changes[0].field, "status");
        assert_eq!(i.history[0].changes[1].from, None);
        assert_eq!(i.history[0].changes[1].to.as_deref(), Some("FIXED"));
        assert_eq!(i.resolved.unwrap().rfc3339(), "2007-10-18T12:56:11Z");
        assert_eq!(
            people(&records),
            [
                ("nathan@clusterfs.com", "Nathan Rutman"),
                ("green@clusterfs.com", "Oleg Drokin"),
                ("adilger@clusterfs.com", "Andreas Dilger"),
            ]
        );
    }

    #[test]
    fn json_lines_and_bare_arrays_are_read() {
        let one_line = BUG.replace('\n', " ");
        let text = format!("{one_line}\n{GROUP_BUG}\n");
        let records = read(&text).unwrap();
        let issues_ = issues(&records);
        assert_eq!(issues_.len(), 2);
        assert_eq!(
            issues_[1].visibility,
            Visibility::Group("confidential".into())
        );
        assert!(!people(&records).iter().any(|(l, _)| *l == "s@example.com"));

        let array = format!("[{BUG}, {GROUP_BUG}]");
        assert!(sniff(&array));
        let records = read(&array).unwrap();
        assert_eq!(issues(&records).len(), 2);

        // Warnings about a JSON line point at its start.
        let text = format!("{GROUP_BUG}\n  {{\"id\": \"x1\", \"summary\": \"s\"}}\n{GROUP_BUG}\n");
        let records = read(&text).unwrap();
        let w = warnings(&records);
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].line, w[0].column), (2, 3));
        assert!(w[0].message.contains("not a number"), "{}", w[0].message);
    }

    #[test]
    fn bugs_without_fields_or_ids_are_skipped_with_warnings() {
        let text = response(&[
            r#"{"id": 5, "comments": [{"count": 0, "text": "x"}]}"#,
            r#"{"summary": "no id"}"#,
            GROUP_BUG,
        ]);
        let records = read(&text).unwrap();
        assert_eq!(issues(&records).len(), 1);
        let w = warnings(&records);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].key.as_deref(), Some("BZ-5"));
        assert!(
            w[0].message.contains("comments- or history-only"),
            "{}",
            w[0].message
        );
        // Positioned at the bug's opening brace.
        assert_eq!((w[0].line, w[0].column), (3, 1));
        assert_eq!((w[1].line, w[1].column), (4, 1));
    }

    #[test]
    fn a_bad_date_is_a_warning() {
        let bug = BUG.replacen("2007-10-18T12:56:11Z", "last tuesday", 1);
        let records = read(&response(&[&bug])).unwrap();
        let w = warnings(&records);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].message.contains("last_change_time"),
            "{}",
            w[0].message
        );
        assert_eq!(issues(&records)[0].updated, None);
    }

    #[test]
    fn malformed_json_is_a_parse_error_with_line_and_column() {
        let text = response(&[GROUP_BUG, r#"{"id": 7, "summary": "é" "product": "x"}"#]);
        match read(&text) {
            Err(Error::Parse {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!(line, 4, "{message}");
                // The column counts characters: `é` is one.
                assert_eq!(column, 26, "{message}");
                assert!(message.contains("after BZ-14000"), "{message}");
                assert!(!message.contains(" at line "), "{message}");
            }
            other => panic!("{other:?}"),
        }
        for text in ["", "   \n", "{\"bugs\": [", "\"text\""] {
            assert!(
                matches!(read(text), Err(Error::Parse { .. })),
                "{text:?}: {:?}",
                read(text)
            );
        }
    }

    #[test]
    fn sniffs_rest_responses_and_json_lines() {
        assert!(sniff(&response(&[BUG])));
        assert!(sniff(&BUG.replace('\n', " ")));
        assert!(sniff(GROUP_BUG));
        assert!(!sniff(
            r#"{"startAt": 0, "issues": [{"key": "LU-1", "fields": {"created": "x"}}]}"#
        ));
        assert!(!sniff(
            r#"{"number": 1, "title": "x", "created_at": "2020-01-01T00:00:00Z"}"#
        ));
        assert!(!sniff("<bugzilla version=\"5.0\">"));
    }

    #[test]
    fn the_fixtures_are_detected_as_bugzilla_json() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bugzilla");
        for file in ["lustre-rest.json", "lustre-rest-lines.json"] {
            let format = crate::import::detect(&dir.join(file)).unwrap();
            assert_eq!(format, crate::config::Format::BugzillaJson, "{file}");
        }
        let head = response(&[BUG]);
        assert_eq!(
            crate::import::detect_bytes(head.as_bytes()),
            Some(crate::config::Format::BugzillaJson)
        );
    }

    #[test]
    fn the_fixture_files_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bugzilla");
        let mut records = Vec::new();
        for file in ["lustre-rest.json", "lustre-rest-lines.json"] {
            let path = dir.join(file);
            let head = std::fs::read_to_string(&path).unwrap();
            let mut end = 8192.min(head.len());
            while !head.is_char_boundary(end) {
                end -= 1;
            }
            assert!(sniff(&head[..end]), "{file}");
            read_file(&path, &source(), &mut |r| {
                records.push(r);
                Ok(())
            })
            .unwrap();
        }
        assert!(warnings(&records).is_empty(), "{:?}", warnings(&records));
        let keys: Vec<&str> = issues(&records).iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["BZ-18210", "BZ-18300", "BZ-19001", "BZ-19002"]);
        let i = issues(&records)[0];
        assert_eq!(i.comments.len(), 3);
        assert_eq!(i.history.len(), 2);
        let serialized = serde_json::to_string(&i.history).unwrap();
        assert!(!serialized.contains("RESTRICTED-MARKER-BZ"), "{serialized}");
    }
}
