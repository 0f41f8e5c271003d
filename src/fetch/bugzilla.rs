//! Bugzilla, any version from 2.x on.
//!
//! Ids are listed first, keyset-paged (`bug_id > last`, so no server cap on search results
//! truncates the list): `buglist.cgi?ctype=csv&columnlist=bug_id` on every version, or
//! `/rest/bug?include_fields=id` on 5.x; incremental runs add `chfieldfrom` (a day, in the
//! server's time) or `last_change_time`. The list is kept beside the state, cut into batches,
//! and the batches are fetched in parallel, each into its own file: `show_bug.cgi?ctype=xml&id=…`
//! (attachments inline) or `/rest/bug?id=…` with comments, history and attachments embedded.
//! Which batches are on disk is the resumable state.

use super::error::Unexpected;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::FetchError;
use super::http::encode;
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
fn fetch_xml(ctx: &Ctx, ids: &[u64]) -> Result<(Vec<u8>, u64, u64), FetchError> {
    let mut url = format!("{}/show_bug.cgi?ctype=xml&{}", ctx.base, id_params(ids));
    if !ctx.config.attachments {
        url.push_str("&excludefield=attachmentdata");
    }
    ctx.client.get_parsed(&url, &[], |a| {
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
        Ok((a.body.clone(), bugs as u64, comments as u64))
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
                "{}/rest/bug/{first}/attachment?{}",
                ctx.base,
                more.trim_start_matches('&')
            ),
            "attachments",
        )?)
    } else {
        None
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
                    if size > ctx.config.attachment_size_cap {
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
    fn batches_ask_for_every_id() {
        assert_eq!(id_params(&[1, 2, 30]), "id=1&id=2&id=30");
    }
}
