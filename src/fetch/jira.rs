//! JIRA (REST API v2: Server, Data Center; Cloud's enhanced search `/rest/api/3/search/jql`).
//!
//! Search pages are asked for by key, not by offset: `(<jql>) AND project = "LU" AND key >
//! "LU-9999" ORDER BY key ASC` from `startAt=0` each time, because Data Center refuses offsets
//! past its result window (10,000 by default) and key comparisons in JQL are made within a
//! project. A project is done when a page holds all its remaining issues; then `project not in
//! (done…)` finds the next one. The cursor (projects done, last key) is the resumable state.
//!
//! Each page is stored as received, except that issues whose comments, changelog or worklogs
//! the search truncated (`total` above what it holds) are completed from
//! `/issue/KEY/comment`, `/issue/KEY/changelog` (or `?expand=changelog` on servers without it)
//! and `/issue/KEY/worklog`, in the shape the importer reads. Incremental runs add `updated >=
//! "-Nm"`: a relative date, so the server's and the user's time zones do not matter.
//!
//! JIRA Cloud removed `/rest/api/2/search`; its `/rest/api/3/search/jql` pages with
//! `nextPageToken` and says `isLast` instead of `total`. With `jira_api = "cloud"` (or after
//! the v2 search answered 410 Gone or 404) the same keyset queries are asked there, each
//! followed by its tokens; a project is done when its query's last page is read. The issue
//! resources are then v3 too, so comment and description bodies are all ADF documents.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use chrono::Utc;
use serde_json::{json, Value};

use super::error::FetchError;
use super::http::encode;
use super::state::State;
use super::{parallel, Ctx};

/// The position of a keyset walk.
#[derive(Clone, Debug, Default)]
struct Cursor {
    done_projects: Vec<String>,
    last_key: Option<String>,
    finished: bool,
}

/// The user's JQL without its `ORDER BY` (outside quotes).
fn filter(jql: &str) -> String {
    let lower = jql.to_ascii_lowercase();
    let mut in_quote: Option<char> = None;
    let mut cut = jql.len();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match in_quote {
            Some(q) if c == q => in_quote = None,
            Some(_) if c == '\\' => i += 1,
            Some(_) => {}
            None if c == '"' || c == '\'' => in_quote = Some(c),
            None if lower[i..].starts_with("order by")
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) =>
            {
                cut = i;
                break;
            }
            None => {}
        }
        i += 1;
    }
    jql[..cut].trim().to_string()
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn project_of(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(p, _)| p)
}

/// The JQL of the next page.
fn query(filter: &str, since_minutes: Option<i64>, cursor: &Cursor) -> String {
    let mut clauses = Vec::new();
    if !filter.is_empty() {
        clauses.push(format!("({filter})"));
    }
    if let Some(m) = since_minutes {
        clauses.push(format!("updated >= \"-{m}m\""));
    }
    if let Some(last) = &cursor.last_key {
        clauses.push(format!("project = {}", quote(project_of(last))));
        clauses.push(format!("key > {}", quote(last)));
    } else if !cursor.done_projects.is_empty() {
        let list: Vec<String> = cursor.done_projects.iter().map(|p| quote(p)).collect();
        clauses.push(format!("project not in ({})", list.join(", ")));
    }
    format!("{} ORDER BY key ASC", clauses.join(" AND "))
}

/// Moves the cursor past a page of `keys` out of `total` matches of its query.
fn advance(cursor: &mut Cursor, keys: &[String], total: u64) {
    let Some(last) = keys.last() else {
        // Nothing more in this project (or at all).
        match cursor.last_key.take() {
            Some(k) => cursor.done_projects.push(project_of(&k).to_string()),
            None => cursor.finished = true,
        }
        return;
    };
    let last_project = project_of(last).to_string();
    for k in keys {
        let p = project_of(k);
        if p != last_project && !cursor.done_projects.iter().any(|d| d == p) {
            cursor.done_projects.push(p.to_string());
        }
    }
    if keys.len() as u64 >= total {
        // The page held every match: this project is done, and so is a query without a key.
        if cursor.last_key.is_none() {
            cursor.finished = true;
        }
        cursor.done_projects.push(last_project);
        cursor.last_key = None;
    } else {
        cursor.last_key = Some(last.clone());
    }
}

/// One search page as received, and what the walk needs of it.
struct Search {
    /// The parsed page (`issues`, and on v2 `total`, `names`…).
    page: Value,
    /// The page's bytes as received.
    raw: Vec<u8>,
    /// The address it was read from.
    url: String,
    /// Its issues' keys, in order.
    keys: Vec<String>,
    /// v2: how many issues the query matches; Cloud gives none.
    total: Option<u64>,
    /// The page ends the query (v2: it held every match past `startAt=0`; Cloud: `isLast`).
    is_last: bool,
    /// Cloud: the token of the query's next page.
    next: Option<String>,
}

/// Whether the Cloud search is in use (by config, or since v2's search answered 410 / 404).
fn cloud(ctx: &Ctx) -> bool {
    ctx.jira_cloud.load(Ordering::Relaxed)
}

/// The REST API version of the issue resources: `3` on Cloud (ADF bodies), else `2`.
fn version(ctx: &Ctx) -> &'static str {
    if cloud(ctx) {
        "3"
    } else {
        "2"
    }
}

fn search_url(
    ctx: &Ctx,
    jql: &str,
    max: u32,
    fields: &str,
    expand: &str,
    token: Option<&str>,
) -> String {
    let mut url = if cloud(ctx) {
        format!(
            "{}/rest/api/3/search/jql?jql={}&maxResults={max}&fields={}",
            ctx.base,
            encode(jql),
            encode(fields)
        )
    } else {
        format!(
            "{}/rest/api/2/search?jql={}&startAt=0&maxResults={max}&fields={}",
            ctx.base,
            encode(jql),
            encode(fields)
        )
    };
    if !expand.is_empty() {
        url.push_str(&format!("&expand={}", encode(expand)));
    }
    if let Some(token) = token {
        url.push_str(&format!("&nextPageToken={}", encode(token)));
    }
    url
}

/// A search page of `jql` (from `token` on Cloud). A v2 search that answers 410 Gone or 404
/// is a Cloud site without it: the harvest goes over to the Cloud search for good and asks
/// again there.
fn search(
    ctx: &Ctx,
    jql: &str,
    max: u32,
    fields: &str,
    expand: &str,
    token: Option<&str>,
) -> Result<Search, FetchError> {
    let url = search_url(ctx, jql, max, fields, expand, token);
    let is_cloud = cloud(ctx);
    let accept: &[u16] = if is_cloud { &[] } else { &[404, 410] };
    let got = ctx.client.get_parsed(&url, accept, |a| {
        if a.status == 404 || a.status == 410 {
            return Ok(None);
        }
        let page: Value =
            serde_json::from_slice(&a.body).map_err(|e| format!("not a JIRA search page: {e}"))?;
        if !page.get("issues").is_some_and(Value::is_array) {
            return Err("not a JIRA search page: no `issues` array".into());
        }
        Ok(Some((page, a.body.clone())))
    })?;
    let Some((page, raw)) = got else {
        ctx.jira_cloud.store(true, Ordering::Relaxed);
        ctx.progress.note(&format!(
            "{}: /rest/api/2/search is gone (JIRA Cloud): using /rest/api/3/search/jql",
            ctx.name
        ));
        return search(ctx, jql, max, fields, expand, None);
    };
    let keys = keys_of(&page);
    let (total, is_last, next) = if is_cloud {
        let next = page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let is_last = page
            .get("isLast")
            .and_then(Value::as_bool)
            .unwrap_or(next.is_none());
        (None, is_last || next.is_none(), next)
    } else {
        let total = page
            .get("total")
            .and_then(Value::as_u64)
            .unwrap_or(keys.len() as u64);
        (Some(total), keys.len() as u64 >= total, None)
    };
    Ok(Search {
        page,
        raw,
        url,
        keys,
        total,
        is_last,
        next,
    })
}

/// What [`advance`] takes for `total`: the real one on v2; on Cloud, the page's size when it
/// ends its query, else one more (the project goes on past its last key).
fn total_for_advance(s: &Search) -> u64 {
    s.total
        .unwrap_or(s.keys.len() as u64 + u64::from(!s.is_last))
}

fn keys_of(page: &Value) -> Vec<String> {
    page["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .filter_map(|i| i.get("key").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn since_minutes(state: &State) -> Option<i64> {
    let since = state.run.as_ref()?.since?;
    let minutes = (Utc::now() - since).num_seconds().max(0) / 60 + 1;
    Some(minutes)
}

/// Fetches the run's pages from where its cursor stands.
///
/// On Cloud, a query is followed by its `nextPageToken`s while the run lives; the state keeps
/// the keyset cursor (projects done, last key) after each page as on v2, so a resumed run asks
/// afresh from the last complete key and never needs a token that may have expired.
pub(crate) fn harvest(ctx: &Ctx, state: &mut State) -> Result<(), FetchError> {
    let filter = filter(ctx.config.jql.as_deref().unwrap_or(""));
    let page_size = ctx.page_size(100);
    // Cloud: the query being followed and its next page's token.
    let mut chain: Option<(String, String)> = None;
    // Cloud: the approximate count was asked for (once a process).
    let mut counted = false;
    loop {
        let run = state.run.as_ref().expect("harvest runs inside a run");
        let mut cursor = Cursor {
            done_projects: run.done_projects.clone(),
            last_key: run.last_key.clone(),
            finished: false,
        };
        let (jql, token) = match chain.take() {
            Some((jql, token)) => (jql, Some(token)),
            None => (query(&filter, since_minutes(state), &cursor), None),
        };
        let s = search(
            ctx,
            &jql,
            page_size,
            "*all",
            "renderedFields,changelog,names,schema",
            token.as_deref(),
        )?;
        if let (None, None, false) = (state.run.as_ref().and_then(|r| r.total), s.total, counted) {
            // Cloud gives no `total`: its approximate count of the whole run's query.
            counted = true;
            let everything = query(&filter, since_minutes(state), &Cursor::default());
            if let Some(n) = approximate_count(ctx, &everything) {
                let run = state.run.as_mut().expect("harvest runs inside a run");
                let total = n.max(run.issues + s.keys.len() as u64);
                run.total = Some(total);
                ctx.progress.set_total(total);
            }
        }
        let run = state.run.as_mut().expect("harvest runs inside a run");
        if let (None, Some(total)) = (run.total, s.total) {
            run.total = Some(run.issues + total);
            ctx.progress.set_total(run.issues + total);
        }
        let number = run.number;
        let keys = s.keys.clone();
        let advance_total = total_for_advance(&s);
        let (is_last, next, url) = (s.is_last, s.next.clone(), s.url.clone());
        if !keys.is_empty() {
            let mut page = s.page;
            let completed = complete(ctx, &mut page)?;
            download_attachments(ctx, &page)?;
            let bytes = if completed {
                serde_json::to_vec(&page).map_err(|e| {
                    FetchError::malformed(ctx.name, &url, format!("cannot write the page: {e}"))
                })?
            } else {
                s.raw
            };
            let run = state.run.as_mut().expect("harvest runs inside a run");
            run.pages += 1;
            ctx.write_page(number, run.pages, &bytes)?;
            run.issues += keys.len() as u64;
            ctx.counts
                .issues
                .fetch_add(keys.len() as u64, Ordering::Relaxed);
            ctx.counts
                .comments
                .fetch_add(count_comments(&page), Ordering::Relaxed);
            ctx.progress.advance(keys.len() as u64);
        } else if !is_last {
            // An empty page that is not the last (Cloud may answer so): follow the token.
            if let Some(next) = next {
                chain = Some((jql, next));
                continue;
            }
        }
        advance(&mut cursor, &keys, advance_total);
        let run = state.run.as_mut().expect("harvest runs inside a run");
        run.done_projects = cursor.done_projects;
        run.last_key = cursor.last_key;
        ctx.save(state)?;
        if cursor.finished {
            return Ok(());
        }
        if !is_last {
            if let Some(next) = next {
                chain = Some((jql, next));
            }
        }
    }
}

/// How many issues `jql` matches on Cloud, which has no `total` in its search:
/// `POST /rest/api/3/search/approximate-count` with `{"jql": …}` answers `{"count": N}`. The
/// count is for the progress bar only: when the site refuses it (an unbounded query, an older
/// site without it), the harvest goes on without a total.
fn approximate_count(ctx: &Ctx, jql: &str) -> Option<u64> {
    let url = format!("{}/rest/api/3/search/approximate-count", ctx.base);
    let jql = filter(jql);
    let asked = ctx.client.post_parsed(&url, &json!({ "jql": jql }), |a| {
        let v: Value = serde_json::from_slice(&a.body).map_err(|e| super::error::Unexpected {
            what: "not a JIRA count".into(),
            source: Some(Box::new(e)),
        })?;
        v.get("count")
            .and_then(Value::as_u64)
            .ok_or_else(|| "not a JIRA count: no `count`".into())
    });
    match asked {
        Ok(n) => Some(n),
        Err(e) => {
            ctx.progress
                .note(&format!("no issue count, so no ETA: {e}"));
            None
        }
    }
}

fn count_comments(page: &Value) -> u64 {
    page["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .map(|i| {
                    i.pointer("/fields/comment/comments")
                        .and_then(Value::as_array)
                        .map_or(0, |c| c.len() as u64)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Every key the JQL matches now (no `updated` clause): the issues not in it are gone.
pub(crate) fn list_keys(ctx: &Ctx) -> Result<HashSet<String>, FetchError> {
    let filter = filter(ctx.config.jql.as_deref().unwrap_or(""));
    let mut cursor = Cursor::default();
    let mut keys = HashSet::new();
    let mut chain: Option<(String, String)> = None;
    while !cursor.finished {
        let (jql, token) = match chain.take() {
            Some((jql, token)) => (jql, Some(token)),
            None => (query(&filter, None, &cursor), None),
        };
        let s = search(ctx, &jql, 1000, "summary", "", token.as_deref())?;
        keys.extend(s.keys.iter().cloned());
        if s.keys.is_empty() && !s.is_last && s.next.is_some() {
            chain = s.next.map(|n| (jql, n));
            continue;
        }
        advance(&mut cursor, &s.keys, total_for_advance(&s));
        if !s.is_last {
            chain = s.next.map(|n| (jql, n));
        }
    }
    Ok(keys)
}

/// What an issue of a page lacks.
struct Missing {
    index: usize,
    key: String,
    comments: bool,
    changelog: bool,
    worklog: bool,
}

/// `total` of a truncated list is above the number of items it holds.
fn truncated(list: Option<&Value>, items: &str) -> bool {
    let Some(list) = list else { return false };
    let total = list.get("total").and_then(Value::as_u64).unwrap_or(0);
    let held = list
        .get(items)
        .and_then(Value::as_array)
        .map_or(0, |a| a.len() as u64);
    total > held
}

/// Completes the page's truncated comments, changelogs and worklogs; true when it changed.
fn complete(ctx: &Ctx, page: &mut Value) -> Result<bool, FetchError> {
    let missing: Vec<Missing> = page["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .enumerate()
                .filter_map(|(index, i)| {
                    let key = i.get("key").and_then(Value::as_str)?.to_string();
                    let m = Missing {
                        index,
                        key,
                        comments: truncated(i.pointer("/fields/comment"), "comments"),
                        changelog: truncated(i.get("changelog"), "histories"),
                        worklog: truncated(i.pointer("/fields/worklog"), "worklogs"),
                    };
                    (m.comments || m.changelog || m.worklog).then_some(m)
                })
                .collect()
        })
        .unwrap_or_default();
    if missing.is_empty() {
        return Ok(false);
    }
    let fetched = parallel(ctx.config.max_in_flight, &missing, |m| {
        let key = encode(&m.key);
        let comments = if m.comments {
            Some(paged(
                ctx,
                &format!(
                    "{}/rest/api/{}/issue/{key}/comment?expand=renderedBody",
                    ctx.base,
                    version(ctx)
                ),
                "comments",
            )?)
        } else {
            None
        };
        let changelog = if m.changelog {
            Some(changelog(ctx, &key)?)
        } else {
            None
        };
        let worklogs = if m.worklog {
            Some(paged(
                ctx,
                &format!(
                    "{}/rest/api/{}/issue/{key}/worklog?",
                    ctx.base,
                    version(ctx)
                ),
                "worklogs",
            )?)
        } else {
            None
        };
        Ok((comments, changelog, worklogs))
    })?;
    for (m, (comments, changelog, worklogs)) in missing.iter().zip(fetched) {
        let issue = &mut page["issues"][m.index];
        if let Some(mut comments) = comments {
            let rendered: Vec<Value> = comments
                .iter_mut()
                .filter_map(|c| {
                    let body = c.as_object_mut()?.remove("renderedBody")?;
                    Some(json!({"id": c.get("id").cloned().unwrap_or(Value::Null), "body": body}))
                })
                .collect();
            let n = comments.len();
            issue["fields"]["comment"] =
                json!({"startAt": 0, "maxResults": n, "total": n, "comments": comments});
            if issue.get("renderedFields").is_some_and(Value::is_object) && !rendered.is_empty() {
                issue["renderedFields"]["comment"] =
                    json!({"startAt": 0, "maxResults": n, "total": n, "comments": rendered});
            }
        }
        if let Some(histories) = changelog {
            let n = histories.len();
            issue["changelog"] =
                json!({"startAt": 0, "maxResults": n, "total": n, "histories": histories});
        }
        if let Some(worklogs) = worklogs {
            let n = worklogs.len();
            issue["fields"]["worklog"] =
                json!({"startAt": 0, "maxResults": n, "total": n, "worklogs": worklogs});
        }
    }
    Ok(true)
}

/// Every item of a `{startAt, maxResults, total, <items>: [...]}` resource.
fn paged(ctx: &Ctx, url: &str, items: &str) -> Result<Vec<Value>, FetchError> {
    paged_from(ctx, url, items, Vec::new(), None)
}

/// The rest of a paged resource whose first `all` items (of `total`) are already read.
fn paged_from(
    ctx: &Ctx,
    url: &str,
    items: &str,
    mut all: Vec<Value>,
    mut total: Option<usize>,
) -> Result<Vec<Value>, FetchError> {
    let sep = if url.ends_with('?') { "" } else { "&" };
    loop {
        if total.is_some_and(|t| all.len() >= t) {
            return Ok(all);
        }
        let page_url = format!("{url}{sep}startAt={}&maxResults=100", all.len());
        let page: Value = ctx.client.get_json(&page_url)?;
        let got = page
            .get(items)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        total = Some(page.get("total").and_then(Value::as_u64).unwrap_or(0) as usize);
        let empty = got.is_empty();
        all.extend(got);
        if empty || page.get("isLast").and_then(Value::as_bool) == Some(true) {
            return Ok(all);
        }
    }
}

/// The whole changelog: `/issue/KEY/changelog` (Cloud, newer servers), else the issue with
/// `expand=changelog` (Server, whose issue resource does not truncate it).
fn changelog(ctx: &Ctx, key: &str) -> Result<Vec<Value>, FetchError> {
    let url = format!(
        "{}/rest/api/{}/issue/{key}/changelog?startAt=0&maxResults=100",
        ctx.base,
        version(ctx)
    );
    let first = ctx.client.get_parsed(&url, &[404], |a| {
        if a.status == 404 {
            return Ok(None);
        }
        serde_json::from_slice::<Value>(&a.body)
            .map(Some)
            .map_err(|e| super::error::Unexpected {
                what: "not a JIRA changelog page".into(),
                source: Some(Box::new(e)),
            })
    })?;
    if let Some(page) = first {
        let got = page
            .get("values")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = page.get("total").and_then(Value::as_u64).unwrap_or(0) as usize;
        let last = page.get("isLast").and_then(Value::as_bool) == Some(true) || got.is_empty();
        let total = if last { got.len() } else { total };
        return paged_from(
            ctx,
            &format!(
                "{}/rest/api/{}/issue/{key}/changelog?",
                ctx.base,
                version(ctx)
            ),
            "values",
            got,
            Some(total),
        );
    }
    let issue: Value = ctx.client.get_json(&format!(
        "{}/rest/api/{}/issue/{key}?fields=summary&expand=changelog",
        ctx.base,
        version(ctx)
    ))?;
    Ok(issue
        .pointer("/changelog/histories")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// A folder or file name made only of safe characters.
fn safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Downloads the page's attachment files into JIRA's layout under the tracker's attachments
/// folder: `<PROJECT>/<bucket>/<KEY>/<id>`, the bucket being the issue number rounded up to
/// 10,000. Files already there with the right size are not fetched again.
fn download_attachments(ctx: &Ctx, page: &Value) -> Result<(), FetchError> {
    let Some(folder) = ctx.attachments.filter(|_| ctx.config.attachments) else {
        return Ok(());
    };
    let mut jobs = Vec::new();
    for issue in page["issues"].as_array().into_iter().flatten() {
        let Some(key) = issue.get("key").and_then(Value::as_str) else {
            continue;
        };
        let Some((project, number)) = key.rsplit_once('-') else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        if !safe(key) || !safe(project) {
            continue;
        }
        let bucket = (number.saturating_sub(1) / 10_000 + 1) * 10_000;
        for a in issue
            .pointer("/fields/attachment")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = match a.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if !safe(&id) {
                continue;
            }
            let size = a.get("size").and_then(Value::as_u64);
            if size.is_some_and(|s| s > ctx.config.attachment_size_cap) {
                ctx.counts
                    .attachments_skipped
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let dest = folder
                .join(project)
                .join(bucket.to_string())
                .join(key)
                .join(&id);
            if let (Ok(meta), Some(size)) = (std::fs::metadata(&dest), size) {
                if meta.len() == size {
                    continue;
                }
            }
            let url = match a.get("content").and_then(Value::as_str) {
                Some(u) => u.to_string(),
                None => {
                    let name = a.get("filename").and_then(Value::as_str).unwrap_or("file");
                    format!("{}/secure/attachment/{id}/{}", ctx.base, encode(name))
                }
            };
            jobs.push((url, dest));
        }
    }
    parallel(ctx.config.max_in_flight, &jobs, |(url, dest)| {
        // One attachment JIRA lost or hides does not stop the harvest: it is listed, not
        // copied, as the build does with any attachment whose file is missing.
        let fetched = ctx
            .client
            .download(url, dest, ctx.config.attachment_size_cap)
            .map(|found| found.map(|bytes| ((), bytes)));
        ctx.attachment_outcome(fetched).map(|_| ())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_is_dropped_outside_quotes() {
        assert_eq!(
            filter("project in (LU, LUDOC) ORDER BY key"),
            "project in (LU, LUDOC)"
        );
        assert_eq!(
            filter("summary ~ \"order by\" order by created"),
            "summary ~ \"order by\""
        );
        assert_eq!(filter("project = LU"), "project = LU");
        assert_eq!(filter("ORDER BY key"), "");
    }

    #[test]
    fn keyset_walk_over_two_projects() {
        let mut c = Cursor::default();
        assert_eq!(
            query("project in (A, B)", None, &c),
            "(project in (A, B)) ORDER BY key ASC"
        );
        advance(&mut c, &["A-1".into(), "A-2".into()], 5);
        assert_eq!(c.last_key.as_deref(), Some("A-2"));
        assert_eq!(
            query("project in (A, B)", Some(15), &c),
            "(project in (A, B)) AND updated >= \"-15m\" AND project = \"A\" AND key > \"A-2\" ORDER BY key ASC"
        );
        // The rest of A fits in the page: A is done.
        advance(&mut c, &["A-3".into(), "A-9".into()], 2);
        assert_eq!(
            (c.last_key.clone(), c.done_projects.clone()),
            (None, vec!["A".to_string()])
        );
        assert!(query("x", None, &c).contains("project not in (\"A\")"));
        // A page that spans into B: B continues from its last key.
        advance(&mut c, &["B-1".into(), "B-2".into()], 9);
        assert_eq!(c.last_key.as_deref(), Some("B-2"));
        advance(&mut c, &[], 0);
        assert_eq!(c.done_projects, ["A", "B"]);
        assert!(!c.finished);
        advance(&mut c, &[], 0);
        assert!(c.finished);
    }
}
