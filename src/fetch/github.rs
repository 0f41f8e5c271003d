//! GitHub: the issues and pull requests of each repository, with their comments and timeline
//! events embedded as `comment_data` and `event_data` (python-github-backup's shape, which the
//! importer reads). Pages come from `/repos/O/R/issues?state=all&per_page=100&sort=created
//! &direction=asc` and the `Link` header's next address, which is the resumable cursor; sorting
//! by creation keeps an issue updated during the run from shifting the pages. Incremental runs
//! add `since=` (GitHub filters on `updated_at`). Each issue object is stored byte for byte as
//! received (reactions, `pull_request.merged_at` and all), with the two arrays added at its end.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::FetchError;
use super::files::github_key;
use super::http::encode;
use super::state::State;
use super::{parallel, Ctx};

#[derive(Deserialize)]
struct Head {
    number: u64,
    #[serde(default)]
    comments: u64,
    repository_url: Option<String>,
}

fn first_page(ctx: &Ctx, repo: &str, since: Option<String>, per_page: u32) -> String {
    let mut url = format!(
        "{}/repos/{repo}/issues?state=all&per_page={per_page}&sort=created&direction=asc",
        ctx.base
    );
    if let Some(s) = since {
        url.push_str(&format!("&since={}", encode(&s)));
    }
    url
}

/// A page of issues: the raw objects and the `Link` next address.
fn issue_page(ctx: &Ctx, url: &str) -> Result<(Vec<Box<RawValue>>, Option<String>), FetchError> {
    ctx.client.get_parsed(url, &[], |a| {
        let items: Vec<Box<RawValue>> = serde_json::from_slice(&a.body)
            .map_err(|e| format!("not a page of GitHub issues: {e}"))?;
        Ok((items, a.next.clone()))
    })
}

/// Every item of a paged list (comments, timeline), following `Link` headers.
fn all_pages(ctx: &Ctx, url: &str) -> Result<Vec<Box<RawValue>>, FetchError> {
    let mut out = Vec::new();
    let mut next = Some(url.to_string());
    while let Some(url) = next {
        let (items, n) = issue_page(ctx, &url)?;
        out.extend(items);
        next = n;
    }
    Ok(out)
}

/// How many issues and pull requests `repo` lists (changed since `since`): the first page
/// with `per_page=1`, whose `Link` header's `rel="last"` page number is the count (one small
/// request, the issues endpoint's own rate limit, nothing stale as a search index may be).
fn count(ctx: &Ctx, repo: &str, since: Option<String>) -> Result<u64, FetchError> {
    let url = first_page(ctx, repo, since, 1);
    ctx.client.get_parsed(&url, &[], |a| {
        let items: Vec<serde::de::IgnoredAny> = serde_json::from_slice(&a.body)
            .map_err(|e| format!("not a page of GitHub issues: {e}"))?;
        Ok(a.last
            .as_deref()
            .and_then(page_number)
            .unwrap_or(items.len() as u64))
    })
}

/// The `page` parameter of a paging address.
fn page_number(url: &str) -> Option<u64> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
}

/// Fetches the run's pages from where its cursor stands.
pub(crate) fn harvest(ctx: &Ctx, state: &mut State) -> Result<(), FetchError> {
    let per_page = ctx.page_size(100).min(100);
    let run = state.run.as_ref().expect("harvest runs inside a run");
    if run.total.is_none() {
        // The progress bar's total: every repository's count for the run (a resumed run's
        // issues already written are among them).
        let since = run
            .since
            .map(|s| s.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let mut total = 0;
        for repo in &ctx.config.repos {
            total += count(ctx, repo, since.clone())?;
        }
        let run = state.run.as_mut().expect("harvest runs inside a run");
        let total = total.max(run.issues);
        run.total = Some(total);
        ctx.progress.set_total(total);
        ctx.save(state)?;
    }
    loop {
        let run = state.run.as_ref().expect("harvest runs inside a run");
        let Some(repo) = ctx.config.repos.get(run.repo) else {
            return Ok(());
        };
        let since = run
            .since
            .map(|s| s.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let url = run
            .next_url
            .clone()
            .unwrap_or_else(|| first_page(ctx, repo, since, per_page));
        let (items, next) = issue_page(ctx, &url)?;
        let heads: Vec<Head> = items
            .iter()
            .map(|raw| serde_json::from_str(raw.get()))
            .collect::<Result<_, _>>()
            .map_err(|e| {
                FetchError::malformed(ctx.name, &url, format!("an issue without a number: {e}"))
            })?;
        let extras = parallel(ctx.config.max_in_flight, &heads, |h| {
            let base = format!("{}/repos/{repo}/issues/{}", ctx.base, h.number);
            let comments = if h.comments > 0 {
                all_pages(ctx, &format!("{base}/comments?per_page=100"))?
            } else {
                Vec::new()
            };
            let events = if ctx.config.timeline {
                all_pages(ctx, &format!("{base}/timeline?per_page=100"))?
            } else {
                Vec::new()
            };
            Ok((comments, events))
        })?;
        let mut out = Vec::with_capacity(items.len());
        let mut comments_total = 0u64;
        for (raw, (comments, events)) in items.iter().zip(extras) {
            comments_total += comments.len() as u64;
            out.push(splice(raw.get(), &comments, &events));
        }
        let run = state.run.as_mut().expect("harvest runs inside a run");
        if !out.is_empty() {
            run.pages += 1;
            let bytes = format!("[\n{}\n]\n", out.join(",\n"));
            ctx.write_page(run.number, run.pages, bytes.as_bytes())?;
            run.issues += out.len() as u64;
            ctx.counts
                .issues
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            ctx.counts
                .comments
                .fetch_add(comments_total, Ordering::Relaxed);
            ctx.progress.advance(out.len() as u64);
        }
        match next {
            Some(n) => run.next_url = Some(n),
            None => {
                run.next_url = None;
                run.repo += 1;
            }
        }
        ctx.save(state)?;
    }
}

/// An issue object's text with `comment_data` and `event_data` added before its closing brace.
fn splice(issue: &str, comments: &[Box<RawValue>], events: &[Box<RawValue>]) -> String {
    let body = issue.trim_end();
    let body = body.strip_suffix('}').unwrap_or(body).trim_end();
    let join =
        |items: &[Box<RawValue>]| items.iter().map(|r| r.get()).collect::<Vec<_>>().join(",");
    let sep = if body.ends_with('{') { "" } else { "," };
    format!(
        "{body}{sep}\"comment_data\":[{}],\"event_data\":[{}]}}",
        join(comments),
        join(events)
    )
}

/// Every issue of every repository now, as `owner/repo#number`.
pub(crate) fn list_keys(ctx: &Ctx) -> Result<HashSet<String>, FetchError> {
    let mut keys = HashSet::new();
    for repo in &ctx.config.repos {
        let mut next = Some(first_page(ctx, repo, None, 100));
        while let Some(url) = next {
            let (items, n) = issue_page(ctx, &url)?;
            for raw in items {
                let h: Head = serde_json::from_str(raw.get()).map_err(|e| {
                    FetchError::malformed(ctx.name, &url, format!("an issue without a number: {e}"))
                })?;
                let repo_url = h
                    .repository_url
                    .unwrap_or_else(|| format!("https://api.github.com/repos/{repo}"));
                keys.insert(github_key(&repo_url, h.number));
            }
            next = n;
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_page_number_is_read_from_its_address() {
        assert_eq!(
            page_number(
                "https://api.github.com/repositories/1/issues?state=all&per_page=1&page=137"
            ),
            Some(137)
        );
        assert_eq!(page_number("https://x/issues?per_page=1"), None);
    }

    #[test]
    fn comments_and_events_are_added_to_the_object() {
        let c: Vec<Box<RawValue>> = serde_json::from_str(r#"[{"id":1},{"id":2}]"#).unwrap();
        let s = splice("{\"number\":7, \"title\":\"x\"}\n", &c, &[]);
        assert_eq!(
            s,
            r#"{"number":7, "title":"x","comment_data":[{"id":1},{"id":2}],"event_data":[]}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["comment_data"].as_array().unwrap().len(), 2);
        assert_eq!(
            splice("{}", &[], &[]),
            r#"{"comment_data":[],"event_data":[]}"#
        );
    }
}
