//! Bugzilla, any version from 2.x on.
//!
//! Ids are listed first, keyset-paged (`bug_id > last`, so no server cap on search results
//! truncates the list): `buglist.cgi?ctype=csv&columnlist=bug_id` on every version, or
//! `/rest/bug?include_fields=id` on 5.x; incremental runs add `chfieldfrom` (a day, in the
//! server's time) or `last_change_time`. The list is kept beside the state, cut into batches,
//! and the batches are fetched in parallel, each into its own file: `show_bug.cgi?ctype=xml&id=…`
//! (attachment data inline, none over the size cap: see `fetch_xml`) or `/rest/bug?id=…` with
//! comments, history and attachments embedded (data of those under the cap only).
//! Which batches are on disk is the resumable state.

use super::error::Unexpected;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::FetchError;
use super::http::{base64, encode};
use super::state::{write_atomic, State, STATE_DIR};
use super::{parallel, BugzillaApi, Ctx};

fn rest(ctx: &Ctx) -> bool {
    ctx.config.api == BugzillaApi::Rest
}

/// The product and component criteria of the config, as query parameters.
fn criteria(ctx: &Ctx) -> String {
    let mut q = String::new();
    for p in &ctx.config.products {
        q.push_str(&format!("&product={}", encode(p)));
    }
    for c in &ctx.config.components {
        q.push_str(&format!("&component={}", encode(c)));
    }
    q
}

/// Ids of the bugs the config selects, changed since `since` when given, ascending.
fn list_ids(ctx: &Ctx, since: Option<DateTime<Utc>>) -> Result<Vec<u64>, FetchError> {
    let mut ids = Vec::new();
    let mut last = 0u64;
    loop {
        let url = if rest(ctx) {
            let mut u = format!(
                "{}/rest/bug?include_fields=id&f1=bug_id&o1=greaterthan&v1={last}&order=bug_id&limit=1000{}",
                ctx.base,
                criteria(ctx)
            );
            if let Some(s) = since {
                u.push_str(&format!(
                    "&last_change_time={}",
                    encode(&s.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                ));
            }
            u
        } else {
            let mut u = format!(
                "{}/buglist.cgi?ctype=csv&columnlist=bug_id&order=bug_id&limit=0&query_format=advanced&f1=bug_id&o1=greaterthan&v1={last}{}",
                ctx.base,
                criteria(ctx)
            );
            if let Some(s) = since {
                // A day in the server's own time zone, which we do not know: a day earlier.
                let day = (s - chrono::Duration::days(1)).format("%Y-%m-%d");
                u.push_str(&format!("&chfieldfrom={day}&chfieldto=Now"));
            }
            u
        };
        let page: Vec<u64> = if rest(ctx) {
            ctx.client.get_parsed(&url, &[], |a| {
                let v: Value = serde_json::from_slice(&a.body)
                    .map_err(|e| format!("not a Bugzilla bug list: {e}"))?;
                let bugs = v
                    .get("bugs")
                    .and_then(Value::as_array)
                    .ok_or("not a Bugzilla bug list: no `bugs`")?;
                Ok(bugs
                    .iter()
                    .filter_map(|b| b.get("id").and_then(Value::as_u64))
                    .collect())
            })?
        } else {
            ctx.client.get_parsed(&url, &[], |a| csv_ids(&a.body))?
        };
        // A server that ignores `bug_id > last` would repeat itself: keep only what is new.
        let mut new: Vec<u64> = page.into_iter().filter(|&id| id > last).collect();
        if new.is_empty() {
            break;
        }
        new.sort_unstable();
        new.dedup();
        last = *new.last().unwrap_or(&last);
        ids.extend(new);
    }
    Ok(ids)
}

/// The ids of a `buglist.cgi?ctype=csv` answer (a `bug_id` header, then one id a line).
fn csv_ids(body: &[u8]) -> Result<Vec<u64>, Unexpected> {
    let text =
        std::str::from_utf8(body).map_err(|_| "the bug list is not UTF-8 text".to_string())?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches('\u{feff}');
    if !header.trim_matches('"').eq_ignore_ascii_case("bug_id") && !header.starts_with("bug_id,") {
        let head: String = text.chars().take(80).collect();
        return Err(Unexpected::from(format!(
            "not a CSV bug list (expected a `bug_id` header; got {head:?}): is the address right, or does it need a login?"
        )));
    }
    Ok(lines
        .filter_map(|l| l.split(',').next())
        .filter_map(|f| f.trim().trim_matches('"').parse().ok())
        .collect())
}

fn ids_path(ctx: &Ctx, run: u32) -> std::path::PathBuf {
    ctx.folder
        .join(STATE_DIR)
        .join(format!("ids-r{run:04}.json"))
}

/// Fetches the run's batches that are not on disk yet.
pub(crate) fn harvest(ctx: &Ctx, state: &mut State) -> Result<(), FetchError> {
    let run = state.run.as_ref().expect("harvest runs inside a run");
    let path = ids_path(ctx, run.number);
    let ids: Vec<u64> = match std::fs::read(&path) {
        Ok(bytes) if run.total.is_some() => serde_json::from_slice(&bytes).map_err(|e| {
            FetchError::io(
                ctx.name,
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?,
        _ => {
            let ids = list_ids(ctx, run.since)?;
            let bytes = serde_json::to_vec(&ids)
                .map_err(|e| FetchError::io(ctx.name, &path, std::io::Error::other(e)))?;
            write_atomic(ctx.name, &path, &bytes)?;
            let run = state.run.as_mut().expect("harvest runs inside a run");
            run.total = Some(ids.len() as u64);
            ctx.save(state)?;
            ids
        }
    };
    let run = state.run.as_ref().expect("harvest runs inside a run");
    ctx.progress.set_total(ids.len() as u64);
    let size = ctx.page_size(50).max(1) as usize;
    let number = run.number;
    let todo: Vec<(u32, &[u64])> = ids
        .chunks(size)
        .enumerate()
        .map(|(i, c)| (i as u32 + 1, c))
        .filter(|(i, _)| !run.batches_done.contains(i))
        .collect();
    let shared = Mutex::new(std::mem::take(state));
    let result = parallel(ctx.config.max_in_flight, &todo, |(batch, ids)| {
        let (bytes, bugs, comments) = if rest(ctx) {
            fetch_rest(ctx, ids)?
        } else {
            fetch_xml(ctx, ids)?
        };
        ctx.write_page(number, *batch, &bytes)?;
        ctx.counts.issues.fetch_add(bugs, Ordering::Relaxed);
        ctx.counts.comments.fetch_add(comments, Ordering::Relaxed);
        let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(run) = state.run.as_mut() {
            run.batches_done.insert(*batch);
            run.pages += 1;
            run.issues += ids.len() as u64;
        }
        ctx.save(&state)?;
        ctx.progress.advance(ids.len() as u64);
        Ok(())
    });
    *state = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    result.map(|_| ())
}

/// Every bug id the config selects now, as keys.
pub(crate) fn list_keys(ctx: &Ctx) -> Result<HashSet<String>, FetchError> {
    Ok(list_ids(ctx, None)?
        .into_iter()
        .map(|id| id.to_string())
        .collect())
}

fn id_params(ids: &[u64]) -> String {
    ids.iter()
        .map(|id| format!("id={id}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// One `show_bug.cgi?ctype=xml` document of `ids`: (bytes, bugs, comments).
///
/// The batch is asked for first without attachment data (`excludefield=attachmentdata`, which
/// `show_bug.cgi` has long honoured), so the `<size>` of each attachment is known before any
/// data is downloaded. Then, when attachments are copied:
///
/// - no attachment of the batch is over `attachment_size_cap` (and every size is known): the
///   batch is asked for again with the data inline, one request as before;
/// - some are over: each of the others is fetched alone (`attachment.cgi?id=N&action=view`,
///   read up to the cap) and put into its `<attachment>` as `<data encoding="base64">`.
///
/// An attachment over the cap keeps its metadata (listed on the page, not copied), like a JIRA
/// attachment over the cap; one the server refuses (403, 404, 410) likewise. A server that
/// ignores `excludefield` sends the data anyway: it is then taken out of the oversized ones.
fn fetch_xml(ctx: &Ctx, ids: &[u64]) -> Result<(Vec<u8>, u64, u64), FetchError> {
    let url = format!(
        "{}/show_bug.cgi?ctype=xml&{}&excludefield=attachmentdata",
        ctx.base,
        id_params(ids)
    );
    let (doc, bugs, comments) = xml_document(ctx, &url)?;
    if !ctx.config.attachments {
        return Ok((doc.into_bytes(), bugs, comments));
    }
    let cap = ctx.config.attachment_size_cap;
    let listed = xml_attachments(&doc);
    if listed.is_empty() {
        return Ok((doc.into_bytes(), bugs, comments));
    }
    let data_sent = listed.iter().any(|a| a.has_data);
    if !data_sent && listed.iter().all(|a| a.size.is_some_and(|s| s <= cap)) {
        let url = format!("{}/show_bug.cgi?ctype=xml&{}", ctx.base, id_params(ids));
        let (doc, bugs, comments) = xml_document(ctx, &url)?;
        return Ok((cap_inline_data(ctx, doc).into_bytes(), bugs, comments));
    }
    if data_sent {
        return Ok((cap_inline_data(ctx, doc).into_bytes(), bugs, comments));
    }
    // Some are over the cap: fetch the others one by one.
    let wanted: Vec<&XmlAttachment> = listed
        .iter()
        .filter(|a| !a.is_url && a.size.is_none_or(|s| s <= cap))
        .collect();
    let skipped = listed.len() - wanted.len() - listed.iter().filter(|a| a.is_url).count();
    ctx.counts
        .attachments_skipped
        .fetch_add(skipped as u64, Ordering::Relaxed);
    let data = parallel(ctx.config.max_in_flight, &wanted, |a| {
        let url = format!(
            "{}/attachment.cgi?id={}&action=view",
            ctx.base,
            encode(&a.id)
        );
        // As for JIRA: an attachment the server lost or hides is listed, not copied.
        ctx.attachment_outcome(ctx.client.get_capped(&url, cap).map(|found| {
            found.map(|bytes| {
                let n = bytes.len() as u64;
                (base64(&bytes), n)
            })
        }))
    })?;
    // Put each one's data in, from the last so the earlier spans stay where they are.
    let mut doc = doc;
    let mut filled: Vec<(&XmlAttachment, String)> = wanted
        .into_iter()
        .zip(data)
        .filter_map(|(a, d)| Some((a, d?)))
        .collect();
    filled.sort_by_key(|(a, _)| std::cmp::Reverse(a.span.0));
    for (a, encoded) in filled {
        let element = &doc[a.span.0..a.span.1];
        let at = a.span.0
            + element
                .find("<flag")
                .unwrap_or(element.len() - "</attachment>".len());
        doc.insert_str(at, &format!("<data encoding=\"base64\">{encoded}</data>\n"));
    }
    Ok((doc.into_bytes(), bugs, comments))
}

/// An `<attachment>` of a Bugzilla XML document, as far as the cap needs it.
#[derive(Debug)]
struct XmlAttachment {
    /// `<attachid>`.
    id: String,
    /// `<size>` in bytes, when the server gives it.
    size: Option<u64>,
    /// `isurl="1"`: the "data" is a link, nothing to copy.
    is_url: bool,
    /// It holds a `<data>` element.
    has_data: bool,
    /// Byte range of the whole element.
    span: (usize, usize),
}

/// The `<attachment>` elements of a document.
fn xml_attachments(doc: &str) -> Vec<XmlAttachment> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = doc[from..].find("<attachment") {
        let start = from + i;
        let after = &doc[start + "<attachment".len()..];
        if !after.starts_with(['>', ' ', '\n', '\t', '\r']) {
            from = start + "<attachment".len();
            continue;
        }
        let Some(j) = doc[start..].find("</attachment>") else {
            break;
        };
        let end = start + j + "</attachment>".len();
        let element = &doc[start..end];
        let tag = &element[..element.find('>').unwrap_or(0)];
        let inner = |name: &str| {
            let open = format!("<{name}>");
            let i = element.find(&open)? + open.len();
            let j = element[i..].find(&format!("</{name}>"))? + i;
            Some(element[i..j].trim().to_string())
        };
        if let Some(id) = inner("attachid") {
            out.push(XmlAttachment {
                id,
                size: inner("size").and_then(|s| s.parse().ok()),
                is_url: tag.contains("isurl=\"1\""),
                has_data: element.contains("<data"),
                span: (start, end),
            });
        }
        from = end;
    }
    out
}

/// The document with the `<data>` of every attachment over the cap taken out (its metadata
/// stays), counting what is kept and what is not.
fn cap_inline_data(ctx: &Ctx, mut doc: String) -> String {
    let cap = ctx.config.attachment_size_cap;
    let listed = xml_attachments(&doc);
    for a in listed.iter().rev() {
        if a.is_url || !a.has_data {
            continue;
        }
        let element = &doc[a.span.0..a.span.1];
        let Some(i) = element.find("<data") else {
            continue;
        };
        let Some(j) = element[i..].find("</data>") else {
            continue;
        };
        let data = &element[i..i + j];
        let data = &data[data.find('>').map_or(data.len(), |k| k + 1)..];
        let size = a.size.unwrap_or_else(|| base64_len(data));
        if size > cap {
            let start = a.span.0 + element[..i].trim_end().len();
            doc.replace_range(start..a.span.0 + i + j + "</data>".len(), "");
            ctx.counts
                .attachments_skipped
                .fetch_add(1, Ordering::Relaxed);
        } else {
            ctx.counts.attachments.fetch_add(1, Ordering::Relaxed);
            ctx.counts
                .attachment_bytes
                .fetch_add(size, Ordering::Relaxed);
        }
    }
    doc
}

/// The decoded length of base64 text (white space ignored).
fn base64_len(data: &str) -> u64 {
    let chars = data.bytes().filter(|b| !b.is_ascii_whitespace()).count() as u64;
    let padding = data
        .trim_end()
        .bytes()
        .rev()
        .take_while(|&b| b == b'=')
        .count() as u64;
    (chars / 4 * 3).saturating_sub(padding)
}

/// A `show_bug.cgi?ctype=xml` document: (text, bugs, comments).
fn xml_document(ctx: &Ctx, url: &str) -> Result<(String, u64, u64), FetchError> {
    ctx.client.get_parsed(url, &[], |a| {
        let text = std::str::from_utf8(&a.body).map_err(|_| "the XML is not UTF-8".to_string())?;
        if !text.contains("<bugzilla") {
            let head: String = text.chars().take(80).collect();
            return Err(Unexpected::from(format!(
                "not a Bugzilla XML document (starts {head:?})"
            )));
        }
        if !text.trim_end().ends_with("</bugzilla>") {
            return Err(Unexpected::from(
                "the XML document is cut short (no </bugzilla>)",
            ));
        }
        let bugs = text.matches("<bug>").count() + text.matches("<bug ").count();
        let comments = text.matches("<long_desc").count();
        Ok((text.to_string(), bugs as u64, comments as u64))
    })
}

/// One `{"bugs": [...]}` document of `ids` with comments, history and attachments embedded.
fn fetch_rest(ctx: &Ctx, ids: &[u64]) -> Result<(Vec<u8>, u64, u64), FetchError> {
    let Some(first) = ids.first() else {
        return Ok((b"{\"bugs\":[]}".to_vec(), 0, 0));
    };
    let joined: Vec<String> = ids.iter().map(u64::to_string).collect();
    let more: String = ids[1..].iter().map(|id| format!("&ids={id}")).collect();
    let object = |url: &str, what: &'static str| -> Result<Value, FetchError> {
        ctx.client.get_parsed(url, &[], |a| {
            let v: Value =
                serde_json::from_slice(&a.body).map_err(|e| format!("not Bugzilla {what}: {e}"))?;
            if v.get("bugs").is_none() {
                return Err(Unexpected::from(format!("not Bugzilla {what}: no `bugs`")));
            }
            Ok(v)
        })
    };
    let bugs = object(
        &format!("{}/rest/bug?id={}", ctx.base, joined.join(",")),
        "bugs",
    )?;
    let comments = object(
        &format!(
            "{}/rest/bug/{first}/comment?{}",
            ctx.base,
            more.trim_start_matches('&')
        ),
        "comments",
    )?;
    let history = object(
        &format!(
            "{}/rest/bug/{first}/history?{}",
            ctx.base,
            more.trim_start_matches('&')
        ),
        "history",
    )?;
    let attachments = if ctx.config.attachments {
        Some(object(
            &format!(
                "{}/rest/bug/{first}/attachment?{}{}exclude_fields=data",
                ctx.base,
                more.trim_start_matches('&'),
                if more.is_empty() { "" } else { "&" }
            ),
            "attachments",
        )?)
    } else {
        None
    };
    let data = match &attachments {
        Some(listed) => rest_attachment_data(ctx, listed)?,
        None => HashMap::new(),
    };
    let mut list = match bugs.get("bugs") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let mut n_comments = 0u64;
    for bug in &mut list {
        let Some(id) = bug.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let key = id.to_string();
        let Some(obj) = bug.as_object_mut() else {
            continue;
        };
        if let Some(c) = comments.pointer(&format!("/bugs/{key}/comments")) {
            n_comments += c.as_array().map_or(0, |a| a.len() as u64);
            obj.insert("comments".into(), c.clone());
        }
        if let Some(Value::Array(hs)) = history.get("bugs") {
            if let Some(h) = hs
                .iter()
                .find(|h| h.get("id").and_then(Value::as_u64) == Some(id))
            {
                obj.insert(
                    "history".into(),
                    h.get("history")
                        .cloned()
                        .unwrap_or(Value::Array(Vec::new())),
                );
            }
        }
        if let Some(Value::Array(files)) = attachments
            .as_ref()
            .and_then(|a| a.pointer(&format!("/bugs/{key}")))
        {
            let files: Vec<Value> = files
                .iter()
                .cloned()
                .map(|mut f| {
                    let size = f.get("size").and_then(Value::as_u64).unwrap_or(0);
                    let id = f.get("id").and_then(Value::as_u64);
                    if let (Some(d), Some(m)) = (id.and_then(|id| data.get(&id)), f.as_object_mut())
                    {
                        m.insert("data".into(), d.clone());
                    }
                    if size > ctx.config.attachment_size_cap {
                        // A server that ignored `exclude_fields` sent it anyway.
                        if let Some(m) = f.as_object_mut() {
                            m.remove("data");
                        }
                        ctx.counts
                            .attachments_skipped
                            .fetch_add(1, Ordering::Relaxed);
                    } else if f.get("data").is_some() {
                        ctx.counts.attachments.fetch_add(1, Ordering::Relaxed);
                        ctx.counts
                            .attachment_bytes
                            .fetch_add(size, Ordering::Relaxed);
                    }
                    f
                })
                .collect();
            obj.insert("attachments".into(), Value::Array(files));
        }
    }
    let n = list.len() as u64;
    let mut top = Map::new();
    top.insert("bugs".into(), Value::Array(list));
    let bytes = serde_json::to_vec(&Value::Object(top))
        .map_err(|e| FetchError::malformed(ctx.name, &ctx.base, e.to_string()))?;
    Ok((bytes, n, n_comments))
}

/// The data of the listed attachments (`{"bugs": {"ID": [...]}}` without data) that are not
/// over the cap, by attachment id: `/rest/bug/attachment/A?attachment_ids=B&…` asks for
/// several at once, in groups of at most the larger of the cap and 32 MiB, so nothing over the
/// cap is ever downloaded and one answer stays bounded.
fn rest_attachment_data(ctx: &Ctx, listed: &Value) -> Result<HashMap<u64, Value>, FetchError> {
    let cap = ctx.config.attachment_size_cap;
    let budget = cap.max(32 << 20);
    let mut groups: Vec<Vec<u64>> = Vec::new();
    let mut used = 0u64;
    for files in listed
        .get("bugs")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_array)
    {
        for f in files {
            let (Some(id), Some(size)) = (
                f.get("id").and_then(Value::as_u64),
                f.get("size").and_then(Value::as_u64),
            ) else {
                continue;
            };
            if size > cap || f.get("data").is_some() {
                continue;
            }
            if groups.is_empty() || used + size > budget {
                groups.push(Vec::new());
                used = 0;
            }
            used += size;
            if let Some(g) = groups.last_mut() {
                g.push(id);
            }
        }
    }
    let answers = parallel(ctx.config.max_in_flight, &groups, |group| {
        let Some((first, rest)) = group.split_first() else {
            return Ok(Vec::new());
        };
        let more: Vec<String> = rest
            .iter()
            .map(|id| format!("attachment_ids={id}"))
            .collect();
        let url = format!(
            "{}/rest/bug/attachment/{first}?{}{}include_fields=id,data",
            ctx.base,
            more.join("&"),
            if more.is_empty() { "" } else { "&" }
        );
        ctx.client.get_parsed(&url, &[], |a| {
            let v: Value = serde_json::from_slice(&a.body)
                .map_err(|e| format!("not Bugzilla attachments: {e}"))?;
            let map = v
                .get("attachments")
                .and_then(Value::as_object)
                .ok_or("not Bugzilla attachments: no `attachments`")?;
            Ok(map
                .values()
                .filter_map(|f| Some((f.get("id")?.as_u64()?, f.get("data")?.clone())))
                .collect::<Vec<_>>())
        })
    })?;
    Ok(answers.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lists_are_read_and_html_is_refused() {
        assert_eq!(csv_ids(b"bug_id\n3\n17\n\"20\"\n").unwrap(), [3, 17, 20]);
        assert_eq!(csv_ids(b"bug_id,short_desc\n4,\"x, y\"\n").unwrap(), [4]);
        let e = csv_ids(b"<html><title>Log in to Bugzilla</title>").unwrap_err();
        assert!(e.to_string().contains("login"), "{e}");
    }

    #[test]
    fn attachments_are_found_and_their_data_measured() {
        let doc = "<bugzilla><bug><bug_id>1</bug_id>\n<attachment isobsolete=\"0\" isurl=\"0\">\n<attachid>7</attachid><size>3</size>\n<data encoding=\"base64\">YWJj</data></attachment>\n<attachment isurl=\"1\"><attachid>8</attachid></attachment></bug></bugzilla>";
        let found = xml_attachments(doc);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].id.as_str(), found[0].size), ("7", Some(3)));
        assert!(found[0].has_data && !found[0].is_url);
        assert!(found[1].is_url && found[1].size.is_none());
        assert_eq!(
            &doc[found[1].span.0..found[1].span.1],
            "<attachment isurl=\"1\"><attachid>8</attachid></attachment>"
        );
        assert_eq!(base64_len("YWJj\nYQ=="), 4);
    }

    #[test]
    fn batches_ask_for_every_id() {
        assert_eq!(id_params(&[1, 2, 30]), "id=1&id=2&id=30");
    }
}
