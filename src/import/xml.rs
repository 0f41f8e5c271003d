//! XML plumbing shared by the JIRA and Bugzilla XML importers: the quick-xml event loop (text,
//! CDATA and references gathered for the element that captures them; nothing but white space
//! outside the root element), entity and character references, attributes, and quick-xml's
//! errors as positioned parse errors. Byte offsets become line and column through
//! [`super::position::Positions`].

use std::io::BufRead;

use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::position::Positions;
use super::Record;
use crate::error::{Error, Result};

/// What an XML importer does with the events [`read_events`] hands it. Offsets are byte offsets
/// in the file (after a byte order mark), as quick-xml counts them.
pub(crate) trait Handler {
    /// The message for text outside the root element (`text where the <rss> element should be`).
    const TEXT_OUTSIDE_ROOT: &'static str;

    /// A start tag (or the start of an empty one) at `start`; its content starts at `end`.
    fn start(&mut self, e: &BytesStart<'_>, start: u64, end: u64) -> Result<()>;
    /// The end of the innermost open element.
    fn end(&mut self, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()>;
    /// Whether the innermost open element gathers its text.
    fn capturing(&self) -> bool;
    /// Whether no element is open (before or after the root).
    fn outside_root(&self) -> bool;
    /// The text gathered so far for the capturing element.
    fn text(&mut self) -> &mut String;
    /// A `not a … export: {detail}` error at `at`.
    fn not_an_export(&mut self, at: u64, detail: &str) -> Error;
    /// The error for a quick-xml error met reading the event at `start..end`; quick-xml puts
    /// the problem at `error_at`.
    fn xml_error(&mut self, e: quick_xml::Error, start: u64, end: u64, error_at: u64) -> Error;
    /// The XML declaration.
    fn declaration(&mut self, _d: &BytesDecl<'_>) {}
}

/// Reads the events of `reader` into `handler` up to the end of the file; returns the offset of
/// the end.
pub(crate) fn read_events<R: BufRead, H: Handler>(
    reader: &mut Reader<R>,
    handler: &mut H,
    emit: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<u64> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let start = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let (end, error_at) = (reader.buffer_position(), reader.error_position());
                return Err(handler.xml_error(e, start, end, error_at));
            }
        };
        let end = reader.buffer_position();
        match event {
            Event::Start(e) => handler.start(&e, start, end)?,
            Event::Empty(e) => {
                handler.start(&e, start, end)?;
                handler.end(emit)?;
            }
            Event::End(_) => handler.end(emit)?,
            Event::Text(t) => {
                if handler.capturing() {
                    handler.text().push_str(&t.xml10_content());
                } else if handler.outside_root() {
                    // Only white space may stand before or after the root element.
                    let t: &str = &t;
                    let blank = t.len() - t.trim_start().len();
                    if blank < t.len() {
                        let at = start + blank as u64;
                        return Err(handler.not_an_export(at, H::TEXT_OUTSIDE_ROOT));
                    }
                }
            }
            Event::CData(c) => {
                if handler.capturing() {
                    handler.text().push_str(&c.xml10_content());
                } else if handler.outside_root() {
                    return Err(handler.not_an_export(start, H::TEXT_OUTSIDE_ROOT));
                }
            }
            Event::GeneralRef(r) => {
                if handler.capturing() {
                    push_reference(handler.text(), &r);
                } else if handler.outside_root() {
                    return Err(handler.not_an_export(start, H::TEXT_OUTSIDE_ROOT));
                }
            }
            Event::Eof => return Ok(end),
            Event::Decl(d) => handler.declaration(&d),
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// Appends the text an entity or character reference stands for.
fn push_reference(text: &mut String, r: &BytesRef<'_>) {
    let name: &str = r;
    if r.is_char_ref() {
        if let Ok(Some(c)) = r.resolve_char_ref() {
            text.push(c);
            return;
        }
    } else if let Some(s) = quick_xml::escape::resolve_xml_entity(name) {
        text.push_str(s);
        return;
    }
    // Unknown or invalid: keep it as written (HTML reads it, plain text shows it as is).
    text.push('&');
    text.push_str(name);
    text.push(';');
}

/// Calls `f` with each attribute's name and decoded value. Malformed attributes end the walk:
/// the element keeps whatever was read before them.
pub(crate) fn for_each_attribute(e: &BytesStart<'_>, mut f: impl FnMut(&str, &str)) {
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    for a in attributes {
        let Ok(a) = a else { break };
        let value = match a.normalized_value(XmlVersion::Implicit1_0) {
            Ok(v) => v,
            Err(_) => a.value.clone(),
        };
        f(a.key.0, value.trim());
    }
}

/// A quick-xml error as an error of the file: I/O errors as such, syntax errors (an unclosed
/// tag, a truncated file) and ill-formed markup where quick-xml found them, anything else at
/// the start of the event; `key` is the item being read.
pub(crate) fn xml_error(
    positions: &mut Positions,
    e: quick_xml::Error,
    start: u64,
    error_at: u64,
    key: Option<String>,
) -> Error {
    use quick_xml::Error as X;
    match e {
        X::Io(io) => Error::io(
            positions.path(),
            std::io::Error::new(io.kind(), io.to_string()),
        ),
        X::Syntax(s) => {
            let message = format!("{s} (is the export truncated?)");
            positions.error(error_at.max(start), key, message)
        }
        X::IllFormed(i) => positions.error(error_at.max(start), key, i.to_string()),
        other => positions.error(start, key, other.to_string()),
    }
}

/// A date field of an item: a bad value is dropped with a warning at byte `at`, not an error.
pub(crate) fn date_or_warn(
    warnings: &mut Vec<(u64, String)>,
    parse: fn(
        &str,
    ) -> std::result::Result<Option<crate::model::Timestamp>, crate::model::DateError>,
    text: &str,
    at: u64,
    what: &str,
) -> Option<crate::model::Timestamp> {
    match parse(text) {
        Ok(t) => t,
        Err(e) => {
            warnings.push((at, format!("{what} ignored: {e}")));
            None
        }
    }
}

/// A number field of an item: empty is none, anything else that is not a number is dropped
/// with a warning at byte `at`.
pub(crate) fn number_or_warn<T: std::str::FromStr>(
    warnings: &mut Vec<(u64, String)>,
    text: &str,
    at: u64,
    what: &str,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            warnings.push((at, format!("{what} ignored: `{text}` is not a number")));
            None
        }
    }
}
