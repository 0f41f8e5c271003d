//! JIRA REST JSON importer: `/rest/api/2/search` pages (`{startAt, maxResults, total,
//! issues: [...]}`) and one-issue-per-file dumps (`/rest/api/2/issue/KEY`: `{id, key, fields,
//! changelog?, renderedFields?}`). A top-level array of issues, and several values one after
//! the other (JSON lines of issues or pages), are read too.
//!
//! The file is read as a stream with serde_json over a `BufReader<File>`: the `issues` array is
//! deserialised one element at a time by a [`DeserializeSeed`] that emits each issue as soon as
//! it is read, so memory is bounded by the largest single issue, never by the page.
//!
//! Field semantics are those of the XML importer ([`super::jira_xml`]); what differs:
//!
//! - **Text** is JIRA wiki markup ([`Markup::JiraWiki`], line ends normalised to `\n`) unless the
//!   export has `renderedFields` with that text, which is HTML ([`Markup::Html`]).
//! - **Custom field names** come from the top-level `names` map (`expand=names`). JIRA writes it
//!   after `issues`, so a quick first pass over the file (skipping everything else) collects
//!   `names` and `schema` before issues are emitted; without it a field is named by its id. The
//!   first pass is skipped when the page's leading `expand` shows names were not asked for.
//! - JIRA Cloud's API v3 writes text as Atlassian Document Format objects; their plain text is
//!   kept ([`Markup::Plain`]).
//! - **Restrictions** are recorded, never acted on here: `fields.security` makes the issue
//!   [`Visibility::SecurityLevel`]; comment and worklog `visibility {type: role|group, value}`
//!   make them [`Visibility::Role`]/[`Visibility::Group`]. Admission drops them. People named only
//!   by restricted items are not emitted as [`Record::Person`].
//! - **Errors**: malformed JSON is a fatal [`Error::Parse`] with the line and column (in
//!   characters) serde_json reports and the key of the issue being read when it was already seen.
//!   An issue without a key (or with a key not shaped `PROJ-123`) is skipped with a [`Warning`];
//!   an unreadable date or number leaves that field empty with a warning. Every warning names the
//!   file, the line and column of the offending member (`"key"`, `"created"`, `"comment"`…: the
//!   member of `fields`, or of the issue object, the problem was found in) or else of the issue
//!   object, and the key. Positions come from counting the bytes serde_json takes from the file
//!   ([`super::position`]), turned into lines and columns only for a warning.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::rc::Rc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer as _;
use serde_json::{Map, Value};

use super::position::{char_column, Counting, Positions};
use super::{Record, Source};
use crate::error::{Error, Result};
use crate::model::{
    Attachment, Comment, CustomField, DateError, FieldChange, HistoryEntry, Issue, IssueLink,
    LinkDirection, Markup, Person, Text, Timestamp, VersionDetails, Visibility, Worklog,
};

/// Whether the start of a file looks like JIRA REST JSON: a search page (`"issues"` with
/// `"fields"`, or `"startAt"`/`"maxResults"`) or one issue (`"key"` with `"fields"`).
pub fn sniff(head: &str) -> bool {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return false;
    }
    let fields = t.contains("\"fields\"");
    let issues = t.contains("\"issues\"");
    (issues && (fields || (t.contains("\"startAt\"") && t.contains("\"maxResults\""))))
        || (fields && t.contains("\"key\""))
}

/// Reads one export file, emitting its issues and the people it names.
///
/// Per issue: `id`, `key`, `self` (→ the `/browse/KEY` address), and from `fields`: `summary`,
/// `description`, `environment` (wiki markup, or HTML from `renderedFields`), `issuetype.name`,
/// `project {key, name, id}`, `status.name`, `status.statusCategory.key`, `resolution.name`,
/// `priority.name`, `assignee`, `reporter` (and `creator`, for the people directory),
/// `created`, `updated`, `resolutiondate`, `duedate`, `labels`, `versions`, `fixVersions`,
/// `components`, `votes.votes`, `watches.watchCount`, `issuelinks`, `subtasks`, `parent`,
/// `attachment[]`, `comment.comments[]`, `worklog.worklogs[]`, `security`, `customfield_*`, the
/// time-tracking fields (as shown and as `…_seconds`), `workratio` and the status's `description`
/// (into [`Issue::extra`]), and `changelog.histories[]` → [`Issue::history`].
pub fn read_file(
    path: &Path,
    source: &Source,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    let (names, schema) = first_pass(path);
    let (reader, count) = Counting::new(open(path)?);
    let state = State {
        path,
        source,
        count,
        positions: RefCell::new(Positions::new(path, false)),
        names: RefCell::new(names),
        schema: RefCell::new(schema),
        emit: RefCell::new(emit),
        failure: RefCell::new(None),
        key: RefCell::new(None),
        people: RefCell::new(HashSet::new()),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    // One value, or several one after the other (JSON lines of issues or of pages).
    let result = loop {
        if let Err(e) = (&mut de).deserialize_any(TopVisitor { state: &state }) {
            break Err(e);
        }
        if de.end().is_ok() {
            break Ok(());
        }
    };
    if let Some(failure) = state.failure.borrow_mut().take() {
        return Err(failure);
    }
    result.map_err(|e| state.json_error(e))
}

/// Opens a file for reading, past a UTF-8 byte order mark.
fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(128 * 1024, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(reader)
}

/// Field id → display name, from `names`.
type Names = BTreeMap<String, String>;
/// Field id → custom field type key, from `schema`.
type Schema = BTreeMap<String, String>;

/// Reads only the top-level `names` and `schema` maps, skipping everything else. Any problem is
/// left for the main pass to report with its position.
fn first_pass(path: &Path) -> (Names, Schema) {
    struct Prepass;
    impl<'de> Visitor<'de> for Prepass {
        type Value = (Names, Schema);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut names, mut schema) = (Names::new(), Schema::new());
            while let Some(k) = map.next_key::<String>()? {
                match k.as_str() {
                    "names" => names = names_of(&map.next_value::<Value>()?),
                    "schema" => schema = schema_of(&map.next_value::<Value>()?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok((names, schema))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    }
    let Ok(mut reader) = open(path) else {
        return Default::default();
    };
    if let Ok(head) = reader.fill_buf() {
        if !may_have_names(&String::from_utf8_lossy(head)) {
            return Default::default();
        }
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let (mut names, mut schema) = (Names::new(), Schema::new());
    while let Ok((n, s)) = (&mut de).deserialize_any(Prepass) {
        names.extend(n);
        schema.extend(s);
        if de.end().is_ok() {
            break;
        }
    }
    (names, schema)
}

/// False when the start of a file shows a search page whose top-level `expand` does not ask for
/// `names` (JIRA writes `expand` first): then the first pass has nothing to find.
fn may_have_names(head: &str) -> bool {
    let Some(expand) = head.find("\"expand\"") else {
        return true;
    };
    if head.find("\"issues\"").is_none_or(|i| i < expand) || head.contains("\"names\"") {
        return true;
    }
    let value = head[expand + 8..]
        .trim_start()
        .strip_prefix(':')
        .map(str::trim_start)
        .and_then(|v| v.strip_prefix('"'))
        .and_then(|v| v.split('"').next());
    value.is_none_or(|v| v.contains("names"))
}

fn names_of(v: &Value) -> Names {
    let mut names = Names::new();
    if let Some(map) = v.as_object() {
        for (k, v) in map {
            if let Some(s) = v.as_str().filter(|s| !s.trim().is_empty()) {
                names.insert(k.clone(), s.trim().to_string());
            }
        }
    }
    names
}

fn schema_of(v: &Value) -> Schema {
    let mut schema = Schema::new();
    if let Some(map) = v.as_object() {
        for (k, v) in map {
            if let Some(s) = v.get("custom").and_then(Value::as_str) {
                schema.insert(k.clone(), s.to_string());
            }
        }
    }
    schema
}

/// The state of one file's parse, shared by the visitors.
struct State<'a> {
    path: &'a Path,
    source: &'a Source,
    /// Bytes serde_json has taken from the file (after a byte order mark), the one it peeks at
    /// included.
    count: Rc<Cell<u64>>,
    positions: RefCell<Positions>,
    names: RefCell<Names>,
    schema: RefCell<Schema>,
    emit: RefCell<&'a mut dyn FnMut(Record) -> Result<()>>,
    /// An error of `emit`, carried out through serde (which only knows its own errors).
    failure: RefCell<Option<Error>>,
    /// The key of the issue being read, once seen.
    key: RefCell<Option<String>>,
    /// (login, display) pairs already emitted from this file.
    people: RefCell<HashSet<(String, String)>>,
}

impl State<'_> {
    fn json_error(&self, e: serde_json::Error) -> Error {
        if e.is_io() {
            return Error::io(self.path, std::io::Error::from(e));
        }
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let text = e.to_string();
        let mut message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        if e.is_eof() {
            message.push_str(" (is the export truncated?)");
        }
        let line = (e.line() as u64).max(1);
        Error::Parse {
            path: self.path.to_path_buf(),
            line,
            column: char_column(self.path, line, e.column() as u64).max(1),
            key: self.key.borrow().clone(),
            message,
        }
    }

    fn emit(&self, record: Record) -> std::result::Result<(), Stopped> {
        let result = (self.emit.borrow_mut())(record);
        result.map_err(|e| {
            let stopped = Stopped(e.to_string());
            *self.failure.borrow_mut() = Some(e);
            stopped
        })
    }

    /// The offset of the byte serde_json read last: inside `visit_map`, the object's `{`.
    fn last_byte(&self) -> u64 {
        self.count.get().saturating_sub(1)
    }

    /// A warning about the JSON value or member at (or just after) byte `at`.
    fn warning(&self, at: u64, key: Option<String>, message: String) -> Record {
        let w = self.positions.borrow_mut().json_warning(at, key, message);
        Record::Warning(w)
    }

    /// Converts and emits a fully read issue (or the warning that skips it).
    fn finish<E: de::Error>(&self, raw: RawIssue) -> std::result::Result<(), E> {
        self.finish_inner(raw).map_err(E::custom)
    }

    fn finish_inner(&self, raw: RawIssue) -> std::result::Result<(), Stopped> {
        let key = match raw.key.as_deref().map(str::trim) {
            Some(k) if !k.is_empty() => k.to_string(),
            _ => {
                let what = match &raw.id {
                    Some(id) => format!("issue with id {id} has no key; skipped"),
                    None => "issue has no key; skipped".to_string(),
                };
                return self.emit(self.warning(raw.at, None, what));
            }
        };
        let Some(parts) = crate::keys::split_key(&key) else {
            let message = format!("issue key `{key}` is not of the form PROJECT-123; skipped");
            return self.emit(self.warning(raw.member_at("key"), Some(key), message));
        };
        let project = parts.project.to_string();
        let mut conv = Convert {
            names: &self.names.borrow(),
            schema: &self.schema.borrow(),
            raw_names: &raw.names,
            people: Vec::new(),
            warnings: Vec::new(),
            field: "",
        };
        let mut issue = conv.issue(&raw, &key, &project);
        issue.source.clone_from(&self.source.name);
        let (people, warnings) = (conv.people, conv.warnings);
        if issue.visibility.is_public() {
            for person in people {
                let pair = (person.login.clone(), person.display.clone());
                if self.people.borrow_mut().insert(pair) {
                    self.emit(Record::Person(person))?;
                }
            }
        }
        for (field, message) in warnings {
            let at = raw.member_at(field);
            self.emit(self.warning(at, Some(key.clone()), message))?;
        }
        self.emit(Record::Issue(Box::new(issue)))
    }
}

/// What is read of one issue object before conversion.
#[derive(Default)]
struct RawIssue {
    id: Option<String>,
    key: Option<String>,
    self_url: Option<String>,
    fields: Option<Map<String, Value>>,
    rendered: Option<Map<String, Value>>,
    changelog: Option<Value>,
    /// `names` inside a one-issue dump (`?expand=names`).
    names: Names,
    /// The offset of the object's `{`.
    at: u64,
    /// Members of the issue object → the offset serde_json had reached before reading each
    /// (at most the separators before it away from its start).
    members: BTreeMap<String, u64>,
    /// The same for the members of `fields`.
    field_members: BTreeMap<String, u64>,
}

impl RawIssue {
    /// An issue object whose `{` was the last byte read.
    fn new(state: &State<'_>) -> Self {
        RawIssue {
            at: state.last_byte(),
            ..Default::default()
        }
    }

    fn is_issue(&self) -> bool {
        self.key.is_some() || self.fields.is_some()
    }

    /// Where a problem with `name` is reported: its member in `fields`, else in the issue
    /// object, else the object itself.
    fn member_at(&self, name: &str) -> u64 {
        self.field_members
            .get(name)
            .or_else(|| self.members.get(name))
            .copied()
            .unwrap_or(self.at)
    }

    /// Reads the value of `key` of an issue object, whose reading started at byte `before`;
    /// false when the key is not an issue's.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        before: u64,
        map: &mut A,
        state: &State<'_>,
    ) -> std::result::Result<bool, A::Error> {
        self.members.insert(key.to_string(), before);
        match key {
            "id" => self.id = scalar(&map.next_value::<Value>()?),
            "key" => {
                self.key = scalar(&map.next_value::<Value>()?);
                state.key.borrow_mut().clone_from(&self.key);
            }
            "self" => self.self_url = scalar(&map.next_value::<Value>()?),
            "fields" => {
                self.fields = map.next_value_seed(FieldsSeed {
                    state,
                    members: &mut self.field_members,
                })?
            }
            "renderedFields" => {
                self.rendered = match map.next_value::<Value>()? {
                    Value::Object(m) => Some(m),
                    _ => None,
                }
            }
            "changelog" => self.changelog = Some(map.next_value::<Value>()?),
            "names" => self.names = names_of(&map.next_value::<Value>()?),
            _ => {
                self.members.remove(key);
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The `fields` object of an issue (or null), noting where each member starts.
struct FieldsSeed<'s, 'a, 'm> {
    state: &'s State<'a>,
    members: &'m mut BTreeMap<String, u64>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_, '_, '_> {
    type Value = Option<Map<String, Value>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_, '_, '_> {
    type Value = Option<Map<String, Value>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the fields of a JIRA issue (a JSON object)")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        loop {
            let before = self.state.count.get();
            let Some(k) = map.next_key::<String>()? else {
                return Ok(Some(fields));
            };
            let v: Value = map.next_value()?;
            self.members.insert(k.clone(), before);
            fields.insert(k, v);
        }
    }
}

/// The top-level value: a search page, one issue, or an array of issues.
struct TopVisitor<'s, 'a> {
    state: &'s State<'a>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JIRA REST search page or issue (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut raw = RawIssue::new(self.state);
        loop {
            let before = self.state.count.get();
            let Some(k) = map.next_key::<String>()? else {
                break;
            };
            match k.as_str() {
                "issues" => map.next_value_seed(IssuesSeed { state: self.state })?,
                "names" => {
                    let names = names_of(&map.next_value::<Value>()?);
                    self.state.names.borrow_mut().extend(names.clone());
                    raw.names = names;
                }
                "schema" => {
                    let schema = schema_of(&map.next_value::<Value>()?);
                    self.state.schema.borrow_mut().extend(schema);
                }
                other => {
                    if !raw.read(other, before, &mut map, self.state)? {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        if raw.is_issue() {
            self.state.finish(raw)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        IssuesSeed { state: self.state }.visit_seq(seq)
    }
}

/// The `issues` array, read one element at a time.
struct IssuesSeed<'s, 'a> {
    state: &'s State<'a>,
}

impl<'de> DeserializeSeed<'de> for IssuesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IssuesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of JIRA issues")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(IssueSeed { state: self.state })?
            .is_some()
        {}
        Ok(())
    }
}

/// One issue object, emitted once read.
struct IssueSeed<'s, 'a> {
    state: &'s State<'a>,
}

impl<'de> DeserializeSeed<'de> for IssueSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        *self.state.key.borrow_mut() = None;
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for IssueSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JIRA issue (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut raw = RawIssue::new(self.state);
        loop {
            let before = self.state.count.get();
            let Some(k) = map.next_key::<String>()? else {
                break;
            };
            if !raw.read(&k, before, &mut map, self.state)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.state.finish(raw)?;
        *self.state.key.borrow_mut() = None;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion of one issue's JSON to the model.

/// A string or number as text; `None` for null, blank, objects and arrays.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `v[name]`, treating `null` as absent.
fn get<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.get(name).filter(|v| !v.is_null())
}

/// An object's `name`, or the value itself when it is a string.
fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(_) => get(v, "name").or_else(|| get(v, "value")).and_then(scalar),
        other => scalar(other),
    }
}

/// The names of an array of objects (`versions`, `components`).
fn names_in(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(name_of).collect(),
        Some(other) => name_of(other).into_iter().collect(),
        None => Vec::new(),
    }
}

fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Wiki text, or the HTML JIRA rendered from it when the export has it.
fn text(raw: Option<&Value>, rendered: Option<&Value>) -> Option<Text> {
    if let Some(html) = rendered.and_then(Value::as_str) {
        if !html.trim().is_empty() {
            // The wiki source the HTML was rendered from is kept beside it.
            let source = raw
                .and_then(Value::as_str)
                .map(|wiki| normalise(wiki).trim_matches('\n').trim_end().to_string())
                .filter(|wiki| !wiki.trim().is_empty());
            return Some(Text {
                source,
                ..Text::new(Markup::Html, normalise(html.trim()))
            });
        }
    }
    if let Some(doc) = raw.filter(|v| v.is_object()) {
        // JIRA Cloud's API v3 writes Atlassian Document Format: kept as its plain text.
        let mut plain = String::new();
        adf_text(doc, &mut plain);
        let plain = plain.trim();
        return (!plain.is_empty()).then(|| Text::new(Markup::Plain, plain));
    }
    let wiki = raw.and_then(Value::as_str)?;
    let wiki = normalise(wiki);
    let wiki = wiki.trim_matches('\n').trim_end();
    (!wiki.trim().is_empty()).then(|| Text::new(Markup::JiraWiki, wiki))
}

/// The text of an Atlassian Document Format node: text nodes, mentions and links, with a line
/// break after each block.
fn adf_text(node: &Value, out: &mut String) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
    let attr = |name: &str| {
        node.get("attrs")
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
    };
    match kind {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
        "hardBreak" => out.push('\n'),
        "mention" | "emoji" => out.push_str(attr("text").unwrap_or("")),
        "inlineCard" | "blockCard" => out.push_str(attr("url").unwrap_or("")),
        "rule" => out.push_str("----\n"),
        _ => {}
    }
    if let Some(Value::Array(children)) = node.get("content") {
        for child in children {
            adf_text(child, out);
        }
    }
    match kind {
        "paragraph" | "heading" | "codeBlock" | "blockquote" | "panel" => out.push_str("\n\n"),
        "listItem" | "tableRow" => out.push('\n'),
        "tableCell" | "tableHeader" => out.push_str(" | "),
        _ => {}
    }
}

/// The receiver of records failed: the error itself is kept in the reader's `failure`, and
/// this only carries its message through serde's unwinding.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Stopped(String);

/// Parses `2015-04-24T12:04:05.000+0000` (and RFC 3339, and a bare `2015-04-24`).
fn parse_date(s: &str) -> std::result::Result<Timestamp, DateError> {
    let s = s.trim();
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Timestamp::checked(t);
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Timestamp::checked(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let utc = FixedOffset::east_opt(0).expect("zero offset");
        if let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(utc).single())
        {
            return Timestamp::checked(t);
        }
    }
    Err(DateError::Unreadable {
        text: s.to_string(),
        example: "2015-04-24T12:04:05.000+0000",
    })
}

/// A JIRA duration for seconds of work: `1d 2h 30m` (days of 24 hours, as the XML export
/// shows them).
fn duration(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m}m"));
    }
    parts.join(" ")
}

/// A comment or worklog `visibility`.
fn visibility(v: Option<&Value>) -> Visibility {
    let Some(v) = v else {
        return Visibility::Public;
    };
    let value = get(v, "value")
        .or_else(|| get(v, "identifier"))
        .and_then(scalar);
    let kind = get(v, "type").and_then(scalar).unwrap_or_default();
    match (kind.to_ascii_lowercase().as_str(), value) {
        ("role", Some(name)) => Visibility::Role(name),
        ("group", Some(name)) => Visibility::Group(name),
        // Any other restriction JIRA may add is still a restriction.
        (_, Some(name)) => Visibility::Group(name),
        ("", None) if v.as_object().is_some_and(|m| m.is_empty()) => Visibility::Public,
        (kind, None) => Visibility::Group(format!("restricted ({kind})")),
    }
}

/// The values of a custom field as strings: strings, numbers, `{value}` (with a cascading
/// `child`), `{name}`, `{displayName}`, `{key}`, and arrays of these.
fn custom_values(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|i| custom_values(i, out)),
        Value::Object(_) => {
            let own = ["value", "name", "displayName", "key"]
                .iter()
                .find_map(|k| get(v, k).and_then(scalar));
            out.extend(own);
            if let Some(child) = get(v, "child") {
                custom_values(child, out);
            }
        }
        other => out.extend(scalar(other)),
    }
}

/// Converts one issue, collecting the people it names and the problems found.
struct Convert<'c> {
    names: &'c Names,
    schema: &'c Schema,
    raw_names: &'c Names,
    people: Vec<Person>,
    /// (the member of `fields` or of the issue the problem is in, message).
    warnings: Vec<(&'static str, String)>,
    /// The member being converted, for warnings.
    field: &'static str,
}

impl Convert<'_> {
    fn issue(&mut self, raw: &RawIssue, key: &str, project_key: &str) -> Issue {
        let empty = Map::new();
        let f = raw.fields.as_ref().unwrap_or(&empty);
        let r = raw.rendered.as_ref().unwrap_or(&empty);
        let field = |name: &str| f.get(name).filter(|v| !v.is_null());
        let rendered = |name: &str| r.get(name).filter(|v| !v.is_null());

        let mut issue = Issue {
            id: raw.id.clone().unwrap_or_else(|| key.to_string()),
            key: key.to_string(),
            summary: field("summary").and_then(scalar).unwrap_or_default(),
            description: text(field("description"), rendered("description")),
            environment: text(field("environment"), rendered("environment")),
            issue_type: field("issuetype").and_then(name_of),
            priority: field("priority").and_then(name_of),
            status: field("status").and_then(name_of),
            status_category: field("status")
                .and_then(|s| get(s, "statusCategory"))
                .and_then(|c| get(c, "key"))
                .and_then(scalar),
            resolution: field("resolution").and_then(name_of),
            labels: match field("labels") {
                Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
                _ => Vec::new(),
            },
            versions: names_in(field("versions")),
            fix_versions: names_in(field("fixVersions")),
            components: names_in(field("components")),
            parent: field("parent").and_then(|p| get(p, "key")).and_then(scalar),
            subtasks: match field("subtasks") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|s| get(s, "key").and_then(scalar))
                    .collect(),
                _ => Vec::new(),
            },
            ..Default::default()
        };
        issue.project.key = project_key.to_string();
        if let Some(p) = field("project") {
            if let Some(k) = get(p, "key").and_then(scalar) {
                if crate::keys::is_project_key(&k) {
                    issue.project.key = k;
                }
            }
            issue.project.name = get(p, "name").and_then(scalar).unwrap_or_default();
            issue.project.id = get(p, "id").and_then(scalar);
        }
        issue.url = raw
            .self_url
            .as_deref()
            .and_then(|u| u.find("/rest/api/").map(|i| &u[..i]))
            .map(|base| format!("{base}/browse/{key}"));

        issue.assignee = field("assignee").and_then(|v| self.person(v));
        issue.reporter = field("reporter").and_then(|v| self.person(v));
        if let Some(creator) = field("creator") {
            self.person(creator);
        }
        self.field = "created";
        issue.created = self.date(field("created"), "created date");
        self.field = "updated";
        issue.updated = self.date(field("updated"), "updated date");
        self.field = "resolutiondate";
        issue.resolved = self.date(field("resolutiondate"), "resolution date");
        self.field = "duedate";
        issue.due = self.date(field("duedate"), "due date");
        self.field = "votes";
        issue.votes = field("votes").and_then(|v| self.count(v, "votes"));
        self.field = "watches";
        issue.watches = field("watches").and_then(|v| self.count(v, "watchCount"));

        if let Some(security) = field("security") {
            // Any security value restricts the issue, even one without a name.
            let name = name_of(security)
                .or_else(|| {
                    get(security, "id")
                        .and_then(scalar)
                        .map(|id| format!("security level {id}"))
                })
                .unwrap_or_else(|| "unnamed security level".to_string());
            issue.visibility = Visibility::SecurityLevel(name);
        }

        if let Some(Value::Array(links)) = field("issuelinks") {
            for link in links {
                let kind = get(link, "type");
                let kind_name = kind.and_then(name_of).unwrap_or_default();
                for (side, phrase, direction) in [
                    ("outwardIssue", "outward", LinkDirection::Outward),
                    ("inwardIssue", "inward", LinkDirection::Inward),
                ] {
                    if let Some(target) =
                        get(link, side).and_then(|i| get(i, "key")).and_then(scalar)
                    {
                        issue.links.push(IssueLink {
                            kind: kind_name.clone(),
                            description: kind
                                .and_then(|k| get(k, phrase))
                                .and_then(scalar)
                                .unwrap_or_default(),
                            direction,
                            target,
                            id: get(link, "id").and_then(scalar),
                            type_id: kind.and_then(|k| get(k, "id")).and_then(scalar),
                            target_id: get(link, side).and_then(|i| get(i, "id")).and_then(scalar),
                        });
                    }
                }
            }
        }

        self.field = "attachment";
        if let Some(Value::Array(files)) = field("attachment") {
            for a in files {
                let attachment = Attachment {
                    id: get(a, "id").and_then(scalar).unwrap_or_default(),
                    name: get(a, "filename").and_then(scalar).unwrap_or_default(),
                    size: get(a, "size").and_then(|s| self.number(s, "attachment size")),
                    media_type: get(a, "mimeType").and_then(scalar),
                    author: get(a, "author").and_then(|p| self.person(p)),
                    created: self.date(get(a, "created"), "attachment date"),
                    source_url: get(a, "content").and_then(scalar),
                    ..Default::default()
                };
                issue.attachments.push(attachment);
            }
        }

        self.field = "comment";
        issue.comments = self.comments(field("comment"), rendered("comment"));
        self.field = "worklog";
        issue.worklogs = self.worklogs(field("worklog"), rendered("worklog"));

        for (id, value) in f {
            if !id.starts_with("customfield_") {
                continue;
            }
            let mut values = Vec::new();
            custom_values(value, &mut values);
            if values.is_empty() {
                continue;
            }
            let name = self
                .raw_names
                .get(id)
                .or_else(|| self.names.get(id))
                .cloned()
                .unwrap_or_else(|| id.clone());
            issue.custom_fields.push(CustomField {
                id: id.clone(),
                key: self.schema.get(id).cloned(),
                name,
                values,
            });
        }

        let tracking = field("timetracking");
        for (name, from_tracking) in [
            ("timeoriginalestimate", "originalEstimate"),
            ("timeestimate", "remainingEstimate"),
            ("timespent", "timeSpent"),
            ("aggregatetimeoriginalestimate", ""),
            ("aggregatetimeestimate", ""),
            ("aggregatetimespent", ""),
        ] {
            let shown = tracking
                .and_then(|t| get(t, from_tracking))
                .and_then(scalar)
                .or_else(|| field(name).and_then(Value::as_u64).map(duration));
            if let Some(v) = shown {
                issue.extra.insert(name.to_string(), v);
            }
            // The exact seconds too, as the XML export's `seconds` attribute gives them.
            let seconds = tracking
                .filter(|_| !from_tracking.is_empty())
                .and_then(|t| get(t, &format!("{from_tracking}Seconds")))
                .and_then(Value::as_u64)
                .or_else(|| field(name).and_then(Value::as_u64));
            if let Some(s) = seconds {
                issue.extra.insert(format!("{name}_seconds"), s.to_string());
            }
        }
        // Time spent as a percentage of the original estimate; JIRA writes -1 for none.
        if let Some(ratio) = field("workratio")
            .and_then(Value::as_i64)
            .filter(|r| *r >= 0)
        {
            issue
                .extra
                .insert("workratio".to_string(), ratio.to_string());
        }
        // The workflow's own explanation of the status, kept beside it.
        if let Some(d) = field("status")
            .and_then(|s| get(s, "description"))
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
        {
            issue
                .extra
                .insert("status_description".to_string(), d.trim().to_string());
        }

        // The old tracker's internal ids and the rest of what it says about the issue's type,
        // status and resolution, kept beside the names.
        let status = field("status");
        let category = status.and_then(|s| get(s, "statusCategory"));
        for (name, value) in [
            ("type_id", field("issuetype").and_then(|v| get(v, "id"))),
            (
                "type_description",
                field("issuetype").and_then(|v| get(v, "description")),
            ),
            ("priority_id", field("priority").and_then(|v| get(v, "id"))),
            ("status_id", status.and_then(|v| get(v, "id"))),
            ("status_category_id", category.and_then(|v| get(v, "id"))),
            (
                "status_category_name",
                category.and_then(|v| get(v, "name")),
            ),
            (
                "status_category_color",
                category.and_then(|v| get(v, "colorName")),
            ),
            (
                "resolution_id",
                field("resolution").and_then(|v| get(v, "id")),
            ),
            (
                "resolution_description",
                field("resolution").and_then(|v| get(v, "description")),
            ),
            ("parent_id", field("parent").and_then(|v| get(v, "id"))),
        ] {
            if let Some(v) = value.and_then(scalar).filter(|v| !v.trim().is_empty()) {
                issue.extra.insert(name.to_string(), v.trim().to_string());
            }
        }
        if let Some(Value::Array(items)) = field("subtasks") {
            let ids: Vec<String> = items
                .iter()
                .filter_map(|s| get(s, "id").and_then(scalar))
                .collect();
            if !ids.is_empty() {
                issue
                    .extra
                    .insert("subtask_ids".to_string(), ids.join(", "));
            }
        }
        for name in ["versions", "fixVersions"] {
            if let Some(Value::Array(items)) = field(name) {
                for v in items {
                    let Some(version) = name_of(v) else { continue };
                    let details = VersionDetails {
                        id: get(v, "id").and_then(scalar),
                        description: get(v, "description")
                            .and_then(scalar)
                            .filter(|d| !d.trim().is_empty()),
                        release_date: get(v, "releaseDate").and_then(scalar),
                        released: get(v, "released").and_then(Value::as_bool) == Some(true),
                        archived: get(v, "archived").and_then(Value::as_bool) == Some(true),
                    };
                    if details != VersionDetails::default() {
                        issue.version_details.insert(version, details);
                    }
                }
            }
        }

        self.field = "changelog";
        issue.history = self.history(raw.changelog.as_ref());
        issue
    }

    /// A problem in the member being converted.
    fn warn(&mut self, message: String) {
        self.warnings.push((self.field, message));
    }

    /// A user object; `None` when it names nobody.
    fn person(&mut self, v: &Value) -> Option<Person> {
        let login = ["name", "key", "accountId"]
            .iter()
            .find_map(|k| get(v, k).and_then(scalar))
            .or_else(|| v.as_str().and_then(|s| scalar(&Value::String(s.into()))))
            .unwrap_or_default();
        let display = get(v, "displayName").and_then(scalar).unwrap_or_default();
        if login.is_empty() && display.is_empty() {
            return None;
        }
        let person = Person {
            display: if display.is_empty() {
                login.clone()
            } else {
                display
            },
            id: get(v, "key")
                .and_then(scalar)
                .filter(|k| *k != login && !k.is_empty()),
            login,
            email: get(v, "emailAddress").and_then(scalar),
        };
        if !person.login.is_empty() {
            self.people.push(person.clone());
        }
        Some(person)
    }

    fn date(&mut self, v: Option<&Value>, what: &str) -> Option<Timestamp> {
        let v = v?;
        let Some(s) = v.as_str() else {
            self.warn(format!("{what} ignored: `{v}` is not a date"));
            return None;
        };
        if s.trim().is_empty() {
            return None;
        }
        match parse_date(s) {
            Ok(t) => Some(t),
            Err(e) => {
                self.warn(format!("{what} ignored: {e}"));
                None
            }
        }
    }

    fn number<T: std::str::FromStr>(&mut self, v: &Value, what: &str) -> Option<T> {
        let s = scalar(v)?;
        match s.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.warn(format!("{what} ignored: `{s}` is not a number"));
                None
            }
        }
    }

    /// `votes.votes`, `watches.watchCount`, or a bare number.
    fn count(&mut self, v: &Value, inner: &str) -> Option<u32> {
        match v {
            Value::Object(_) => get(v, inner).and_then(|n| self.number(n, inner)),
            other => self.number(other, inner),
        }
    }

    /// `comment.comments[]` (or a bare array), with `renderedFields.comment` bodies.
    fn comments(&mut self, raw: Option<&Value>, rendered: Option<&Value>) -> Vec<Comment> {
        fn list(v: Option<&Value>) -> &[Value] {
            match v {
                Some(Value::Array(a)) => a,
                Some(v) => match get(v, "comments") {
                    Some(Value::Array(a)) => a,
                    _ => &[],
                },
                None => &[],
            }
        }
        let raw = list(raw);
        let rendered = list(rendered);
        let mut out = Vec::with_capacity(raw.len());
        for (i, c) in raw.iter().enumerate() {
            let id = get(c, "id").and_then(scalar).unwrap_or_default();
            let html = rendered
                .iter()
                .find(|r| !id.is_empty() && get(r, "id").and_then(scalar).as_deref() == Some(&id))
                .or_else(|| rendered.get(i).filter(|r| get(r, "id").is_none()))
                .and_then(|r| get(r, "body"));
            let visibility = visibility(get(c, "visibility"));
            let before = self.people.len();
            let author = get(c, "author").and_then(|p| self.person(p));
            let updater = get(c, "updateAuthor");
            if let Some(u) = updater {
                self.person(u);
            }
            if !visibility.is_public() {
                // Who wrote a restricted comment is part of what is restricted.
                self.people.truncate(before);
            }
            out.push(Comment {
                id,
                number: None,
                author,
                created: self.date(get(c, "created"), "comment date"),
                updated: self.date(get(c, "updated"), "comment update date"),
                body: text(get(c, "body"), html).unwrap_or_default(),
                visibility,
                ..Default::default()
            });
        }
        out
    }

    /// `worklog.worklogs[]`, with `renderedFields.worklog` comments.
    fn worklogs(&mut self, raw: Option<&Value>, rendered: Option<&Value>) -> Vec<Worklog> {
        let Some(Value::Array(items)) = raw.and_then(|w| get(w, "worklogs")) else {
            return Vec::new();
        };
        let rendered: &[Value] = match rendered.and_then(|w| get(w, "worklogs")) {
            Some(Value::Array(a)) => a,
            _ => &[],
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, w) in items.iter().enumerate() {
            let id = get(w, "id").and_then(scalar).unwrap_or_default();
            let html = rendered
                .iter()
                .find(|r| get(r, "id").and_then(scalar).as_deref() == Some(&id))
                .or_else(|| rendered.get(i).filter(|r| get(r, "id").is_none()))
                .and_then(|r| get(r, "comment"));
            let visibility = visibility(get(w, "visibility"));
            let before = self.people.len();
            let author = get(w, "author").and_then(|p| self.person(p));
            if !visibility.is_public() {
                self.people.truncate(before);
            }
            out.push(Worklog {
                id,
                author,
                started: self.date(get(w, "started"), "worklog start"),
                created: self.date(get(w, "created"), "worklog date"),
                updated: self.date(get(w, "updated"), "worklog update date"),
                seconds: get(w, "timeSpentSeconds")
                    .and_then(|s| self.number(s, "timeSpentSeconds"))
                    .unwrap_or(0),
                comment: text(get(w, "comment"), html),
                visibility,
            });
        }
        out
    }

    /// `changelog.histories[]`, oldest first.
    fn history(&mut self, changelog: Option<&Value>) -> Vec<HistoryEntry> {
        let Some(Value::Array(histories)) = changelog.and_then(|c| get(c, "histories")) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(histories.len());
        for h in histories {
            let items = match get(h, "items") {
                Some(Value::Array(items)) => items.as_slice(),
                _ => &[],
            };
            let changes: Vec<FieldChange> = items
                .iter()
                .filter_map(|item| {
                    let field = get(item, "field").and_then(scalar)?;
                    Some(FieldChange {
                        field,
                        from: get(item, "fromString")
                            .and_then(scalar)
                            .or_else(|| get(item, "from").and_then(scalar)),
                        to: get(item, "toString")
                            .and_then(scalar)
                            .or_else(|| get(item, "to").and_then(scalar)),
                    })
                })
                .collect();
            if changes.is_empty() {
                continue;
            }
            out.push(HistoryEntry {
                id: get(h, "id").and_then(scalar),
                author: get(h, "author").and_then(|p| self.person(p)),
                created: self.date(get(h, "created"), "history date"),
                changes,
            });
        }
        // JIRA lists them oldest first; a stable sort keeps that order for equal times.
        out.sort_by_key(|a| a.created);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_records::issues;
    use std::io::Write;

    fn read(json: &str) -> Result<Vec<Record>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(json.as_bytes()).unwrap();
        let source = Source {
            name: "jira".into(),
            key_prefix: None,
            ..Default::default()
        };
        let mut records = Vec::new();
        read_file(f.path(), &source, &mut |r| {
            records.push(r);
            Ok(())
        })?;
        Ok(records)
    }

    #[test]
    fn dates_past_year_9999_are_refused() {
        // Found by fuzzing the JIRA XML importer; the same holds here.
        assert!(parse_date("+72023-01-10T08:30:00.000+1100").is_err());
        assert!(parse_date("2022-01-10T08:30:00.000+1100").is_ok());
    }

    #[test]
    fn sniffs_search_pages_and_single_issues() {
        assert!(sniff(
            r#"{"expand":"names,schema","startAt":0,"maxResults":50,"total":1,"issues":[{"id":"1","key":"LU-1","fields":{}}]}"#
        ));
        assert!(sniff(
            "\u{feff} {\"id\":\"1\",\"key\":\"LU-1\",\"fields\":{}}"
        ));
        assert!(!sniff(r#"{"bugs":[{"id":1}]}"#));
        assert!(!sniff("<rss>"));
    }

    #[test]
    fn a_search_page_is_read_with_names_given_after_the_issues() {
        let json = r#"{"startAt":0,"maxResults":2,"total":2,"issues":[
          {"id":"10","self":"https://jira.example.org/rest/api/2/issue/10","key":"LU-10","fields":{
            "summary":"first","description":"*bold*\r\nnext","customfield_1":[{"value":"a"},{"value":"b","child":{"value":"c"}}],
            "created":"2015-04-24T12:04:05.000+0000","duedate":"2015-05-01","resolution":null,
            "security":null,"votes":{"votes":3},"watches":{"watchCount":4},
            "comment":{"comments":[{"id":"100","author":{"name":"u1","displayName":"User One"},"body":"hi","created":"2015-04-24T13:00:00.000-0700"},
                                   {"id":"101","author":{"name":"u2","displayName":"Secret Person"},"body":"secret","visibility":{"type":"role","value":"Developers"}}]}}},
          {"id":"11","key":"LU-11","fields":{"summary":"second","security":{"id":"5","name":"Embargo"}}}
        ],"names":{"customfield_1":"Branches"}}"#;
        let records = read(json).unwrap();
        let issues = issues(&records);
        assert_eq!(issues.len(), 2);
        let a = issues[0];
        assert_eq!(
            a.url.as_deref(),
            Some("https://jira.example.org/browse/LU-10")
        );
        assert_eq!(
            a.description,
            Some(Text::new(Markup::JiraWiki, "*bold*\nnext"))
        );
        assert_eq!(a.custom_fields[0].name, "Branches");
        assert_eq!(a.custom_fields[0].values, ["a", "b", "c"]);
        assert_eq!(a.created.unwrap().rfc3339(), "2015-04-24T12:04:05Z");
        assert_eq!(a.due.unwrap().rfc3339(), "2015-05-01T00:00:00Z");
        assert_eq!((a.votes, a.watches), (Some(3), Some(4)));
        assert_eq!(
            a.comments[1].visibility,
            Visibility::Role("Developers".into())
        );
        assert_eq!(
            issues[1].visibility,
            Visibility::SecurityLevel("Embargo".into())
        );
        let people: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::Person(p) => Some(p.display.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(people, ["User One"]);
    }

    #[test]
    fn errors_name_the_position_and_the_issue() {
        let json =
            "{\"issues\":[\n{\"id\":\"1\",\"key\":\"LU-1\",\"fields\":{\"summary\":\"x\",}}]}";
        match read(json) {
            Err(Error::Parse {
                line, key, message, ..
            }) => {
                assert_eq!(line, 2);
                assert_eq!(key.as_deref(), Some("LU-1"));
                assert!(message.contains("trailing comma"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match read("{\"issues\":[{\"key\":\"LU-1\",\"fields\":{") {
            Err(Error::Parse { message, .. }) => {
                assert!(message.contains("truncated"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_keys_and_dates_are_warnings() {
        let json = r#"[{"id":"1","key":"nokey","fields":{}},{"id":"2","key":"LU-2","fields":{"created":"yesterday"}}]"#;
        let records = read(json).unwrap();
        let warnings: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::Warning(w) => Some((w.line, w.column, w.message.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!((warnings[0].0, warnings[0].1), (1, 12), "{warnings:?}");
        assert_eq!((warnings[1].0, warnings[1].1), (1, 72), "{warnings:?}");
        assert_eq!(issues(&records).len(), 1);
    }

    #[test]
    fn error_columns_count_characters() {
        let json = "{\"issues\":[{\"key\":\"LU-1\",\"fields\":{\"summary\":\"\u{e9}\u{e9}\" x}}]}";
        match read(json) {
            Err(Error::Parse { line, column, .. }) => {
                // The `x` is byte 53 but character 51.
                assert_eq!((line, column), (1, 51));
            }
            other => panic!("{other:?}"),
        }
    }

    /// The warnings of `json` as `line:column: message (issue KEY)` after the file name.
    fn warning_lines(json: &str) -> Vec<String> {
        read(json)
            .unwrap()
            .iter()
            .filter_map(|r| match r {
                Record::Warning(w) => {
                    let shown = w.to_string();
                    let path = w.path.display().to_string();
                    Some(shown.strip_prefix(&format!("{path}:")).unwrap().to_string())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn warnings_name_the_line_and_column_of_the_member_and_the_issue() {
        let json = concat!(
            "{\"startAt\":0,\"issues\":[\n",
            "  {\"id\":\"1\",\"key\":\"nokey\",\"fields\":{}},\n",
            "  {\"id\":\"2\",\n",
            "   \"key\":\"LU-2\",\"fields\":{\n",
            "     \"summary\":\"\u{e9}\u{1F600}\",\"created\":\"yesterday\",\n",
            "     \"votes\":{\"votes\":\"many\"},\n",
            "     \"comment\":{\"comments\":[{\"id\":\"7\",\"created\":\"never\"}]}},\n",
            "   \"changelog\":{\"histories\":[{\"created\":\"then\",\"items\":[{\"field\":\"x\"}]}]}},\n",
            "\t{\"id\":\"3\",\"fields\":{}}\n",
            "],\"names\":{}}\n"
        );
        let warnings = warning_lines(json);
        assert_eq!(warnings.len(), 6, "{warnings:#?}");
        let at = |needle: &str| {
            warnings
                .iter()
                .find(|w| w.contains(needle))
                .unwrap_or_else(|| panic!("no {needle}: {warnings:#?}"))
                .as_str()
        };
        // The `"key"` member of an unusable key.
        assert!(
            at("`nokey`").starts_with("2:13: issue key `nokey` is not of the form"),
            "{warnings:#?}"
        );
        assert!(at("`nokey`").ends_with("(issue nokey)"));
        // The member of `fields` the bad value is in; columns count characters (é and the
        // emoji are one each).
        assert!(
            at("created date").starts_with("5:21: created date ignored: `yesterday`"),
            "{warnings:#?}"
        );
        assert!(at("created date").ends_with("(issue LU-2)"));
        assert!(at("votes ignored").starts_with("6:6: "), "{warnings:#?}");
        assert!(at("comment date").starts_with("7:6: "), "{warnings:#?}");
        assert!(at("history date").starts_with("8:4: "), "{warnings:#?}");
        // No key: the issue object itself.
        assert_eq!(at("id 3"), "9:2: issue with id 3 has no key; skipped");
    }

    #[test]
    fn warnings_of_one_issue_files_and_json_lines_have_positions_too() {
        let json = concat!(
            "\u{feff}{\"id\":\"1\",\"key\":\"LU-1\",\"fields\":{\"duedate\":7}}\n",
            "{\"id\":\"2\",\"key\":\"LU-2\",\"fields\":null}\n",
            "  {\"id\":\"3\",\"key\":\"3\",\"fields\":{}}\n",
        );
        let warnings = warning_lines(json);
        assert_eq!(
            warnings,
            [
                "1:34: due date ignored: `7` is not a date (issue LU-1)",
                "3:13: issue key `3` is not of the form PROJECT-123; skipped (issue 3)",
            ]
        );
    }

    #[test]
    fn json_lines_of_issues_and_cloud_documents_are_read() {
        let json = concat!(
            r#"{"id":"1","key":"LU-1","fields":{"summary":"a"}}"#,
            "\n",
            r#"{"id":"2","key":"LU-2","fields":{"summary":"b","description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Hello "},{"type":"mention","attrs":{"text":"@Amir"}}]}]}}}"#,
            "\n"
        );
        let records = read(json).unwrap();
        let issues = issues(&records);
        assert_eq!(issues.len(), 2);
        assert_eq!(
            issues[1].description,
            Some(Text::new(Markup::Plain, "Hello @Amir"))
        );
    }

    #[test]
    fn the_first_pass_is_skipped_only_when_names_were_not_asked_for() {
        assert!(!may_have_names(
            r#"{"expand":"schema","startAt":0,"issues":[{"#
        ));
        assert!(may_have_names(
            r#"{"expand":"names,schema","startAt":0,"issues":[{"#
        ));
        assert!(may_have_names(r#"{"startAt":0,"issues":[{"expand":"x"}]}"#));
        assert!(may_have_names(
            r#"{"expand":"renderedFields","id":"1","key":"LU-1","fields":{}}"#
        ));
    }

    #[test]
    fn truncated_or_mangled_files_are_errors_never_panics() {
        let json = concat!(
            r#"{"expand":"names","startAt":0,"maxResults":1,"total":1,"issues":[{"id":"1","key":"LU-1","fields":{"#,
            r#""summary":"s","created":"2015-04-24T12:04:05.000+0000","votes":{"votes":"x"},"labels":[1,null],"#,
            r#""comment":{"comments":[{"id":7,"body":null,"visibility":{}}]},"customfield_1":[[{"value":{"a":1}}]],"#,
            r#""issuelinks":[{"type":null,"outwardIssue":{"key":5}}],"worklog":{"worklogs":[{"timeSpentSeconds":-1}]}},"#,
            r#""changelog":{"histories":[{"items":[{"field":"status","fromString":1}]}]}}],"names":{"customfield_1":7}}"#
        );
        assert_eq!(issues(&read(json).unwrap()).len(), 1);
        for cut in 0..json.len() {
            match read(&json[..cut]) {
                Ok(_) => assert!(json[..cut].trim().is_empty(), "{cut}"),
                Err(Error::Parse { line, column, .. }) => assert!(line >= 1 && column >= 1),
                Err(e) => panic!("{cut}: {e}"),
            }
        }
    }

    #[test]
    fn rendered_fields_win_and_the_wiki_source_is_kept() {
        let json = r#"{"id":"1","key":"LU-1","fields":{"description":"*x*","comment":{"comments":[{"id":"7","body":"_y_"}]}},
            "renderedFields":{"description":"<p><b>x</b></p>","comment":{"comments":[{"id":"7","body":"<p><em>y</em></p>"}]}}}"#;
        let records = read(json).unwrap();
        let i = issues(&records)[0];
        let description = i.description.as_ref().unwrap();
        assert_eq!(description.markup, Markup::Html);
        assert_eq!(description.source.as_deref(), Some("*x*"));
        assert_eq!(
            i.comments[0].body,
            Text {
                source: Some("_y_".into()),
                ..Text::new(Markup::Html, "<p><em>y</em></p>")
            }
        );
    }

    #[test]
    fn internal_ids_and_version_details_are_kept() {
        let json = r#"{"id":"1","key":"LU-1","fields":{
            "issuetype":{"id":"1","name":"Bug","description":"A problem"},
            "status":{"id":"5","name":"Resolved","statusCategory":{"id":3,"key":"done","colorName":"green","name":"Done"}},
            "resolution":{"id":"1","name":"Fixed","description":"Done."},
            "reporter":{"name":"jdoe","key":"JIRAUSER10","displayName":"J Doe"},
            "fixVersions":[{"id":"10010","name":"2.7.0","releaseDate":"2015-05-01","released":true,"archived":false}],
            "issuelinks":[{"id":"99","type":{"id":"10000","name":"Blocker","inward":"is blocked by","outward":"blocks"},"outwardIssue":{"id":"2","key":"LU-2"}}],
            "attachment":[{"id":"3","filename":"a.txt","content":"https://jira.example.org/secure/attachment/3/a.txt"}],
            "worklog":{"worklogs":[{"id":"4","timeSpentSeconds":60,"created":"2015-01-01T10:00:00.000+0000"}]}
        },"changelog":{"histories":[{"id":"77","created":"2015-01-02T10:00:00.000+0000","items":[{"field":"status","fromString":"Open","toString":"Resolved"}]}]}}"#;
        let records = read(json).unwrap();
        let i = issues(&records)[0];
        let extra: Vec<(&str, &str)> = i
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            extra,
            [
                ("resolution_description", "Done."),
                ("resolution_id", "1"),
                ("status_category_color", "green"),
                ("status_category_id", "3"),
                ("status_category_name", "Done"),
                ("status_id", "5"),
                ("type_description", "A problem"),
                ("type_id", "1"),
            ]
        );
        assert_eq!(
            i.reporter.as_ref().unwrap().id.as_deref(),
            Some("JIRAUSER10")
        );
        let v = &i.version_details["2.7.0"];
        assert_eq!(v.id.as_deref(), Some("10010"));
        assert_eq!(v.release_date.as_deref(), Some("2015-05-01"));
        assert!(v.released && !v.archived);
        let link = &i.links[0];
        assert_eq!(
            (
                link.id.as_deref(),
                link.type_id.as_deref(),
                link.target_id.as_deref()
            ),
            (Some("99"), Some("10000"), Some("2"))
        );
        assert_eq!(
            i.attachments[0].source_url.as_deref(),
            Some("https://jira.example.org/secure/attachment/3/a.txt")
        );
        assert!(i.worklogs[0].created.is_some());
        assert_eq!(i.history[0].id.as_deref(), Some("77"));
    }
}
