//! A local JIRA for the harvest benchmark (`benches/fetch.sh`): serves N generated issues of
//! project LU through `/rest/api/2/search` (the JQL subset `hindsight fetch` writes: `project
//! = "P"`, `key > "P-n"`, `project not in (…)`, `updated >= "-Nm"`), capping pages at
//! `--cap` issues like a real server, with one issue in four holding more comments than the
//! search shows (completed from `/rest/api/2/issue/KEY/comment`). Listens on 127.0.0.1 only.
//!
//!   cargo run --release --example fetch-server -- --issues 20000 [--port 0] [--cap 100]
//!                                                 [--delay-ms 0]
//!
//! Prints `listening on http://127.0.0.1:PORT` and serves until killed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};

struct Options {
    issues: u64,
    port: u16,
    cap: usize,
    delay: Duration,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        issues: 20_000,
        port: 0,
        cap: 100,
        delay: Duration::ZERO,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |s: String| s.parse::<u64>().map_err(|e| format!("{s}: {e}"));
        match a.as_str() {
            "--issues" => o.issues = number(value("--issues")?)?,
            "--port" => o.port = number(value("--port")?)? as u16,
            "--cap" => o.cap = number(value("--cap")?)?.max(1) as usize,
            "--delay-ms" => o.delay = Duration::from_millis(number(value("--delay-ms")?)?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// Comments issue `n` has: one issue in four has 5 (the search shows 2).
fn comment_count(n: u64) -> usize {
    if n.is_multiple_of(4) {
        5
    } else {
        1
    }
}

fn comment(n: u64, j: usize) -> Value {
    json!({
        "id": format!("{}", n * 10 + j as u64),
        "author": {"name": "dev", "key": "JIRAUSER10", "displayName": "A Developer"},
        "body": format!("Comment {j}: the client evicts the lock in {{{{ldlm_lock_cancel()}}}} under memory pressure, see LU-{}.", n / 2 + 1),
        "created": "2021-05-01T10:00:00.000+0000",
        "updated": "2021-05-01T10:00:00.000+0000"
    })
}

fn issue(base: &str, n: u64) -> Value {
    let shown: Vec<Value> = (0..comment_count(n).min(2))
        .map(|j| comment(n, j))
        .collect();
    json!({
        "expand": "renderedFields,names,schema,operations,changelog",
        "id": format!("{}", 100_000 + n),
        "self": format!("{base}/rest/api/2/issue/{}", 100_000 + n),
        "key": format!("LU-{n}"),
        "fields": {
            "summary": format!("Client crash in ldlm_lock_cancel() after eviction ({n})"),
            "description": "h2. Steps\r\n# mount the client\r\n# evict it\r\n{code}\nLBUG at ldlm_lock.c:123\n{code}",
            "issuetype": {"name": "Bug"},
            "project": {"key": "LU", "name": "Lustre", "id": "10000"},
            "status": {"name": "Resolved", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Fixed"},
            "priority": {"name": "Major"},
            "reporter": {"name": "reporter", "displayName": "A Reporter"},
            "assignee": {"name": "dev", "displayName": "A Developer"},
            "created": "2021-04-01T10:00:00.000+0000",
            "updated": "2021-06-01T10:00:00.000+0000",
            "labels": ["llnl"],
            "components": [{"name": "ldlm"}],
            "fixVersions": [{"name": "Lustre 2.15.0"}],
            "comment": {"startAt": 0, "maxResults": shown.len(), "total": comment_count(n), "comments": shown}
        },
        "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [
            {"id": format!("{n}"), "author": {"name": "dev", "displayName": "A Developer"},
             "created": "2021-06-01T10:00:00.000+0000",
             "items": [{"field": "status", "fromString": "Open", "toString": "Resolved"}]}]}
    })
}

fn quoted(jql: &str, after: &str) -> Option<String> {
    let i = jql.find(after)? + after.len();
    let rest = jql[i..].strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer(o: &Options, base: &str, url: &str) -> (u16, Value) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if path == "/rest/api/2/search" {
        std::thread::sleep(o.delay);
        let jql = param(query, "jql").unwrap_or_default();
        if quoted(&jql, "updated >= ").is_some() {
            // Nothing changed since the last run in this generated tracker.
            return (
                200,
                json!({"startAt": 0, "maxResults": 0, "total": 0, "issues": []}),
            );
        }
        let excluded = jql.contains("project not in (\"LU\")");
        let after: u64 = quoted(&jql, "key > ")
            .and_then(|k| k.strip_prefix("LU-").and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let max: usize = param(query, "maxResults")
            .and_then(|m| m.parse().ok())
            .unwrap_or(50)
            .min(o.cap);
        let (first, total) = if excluded {
            (o.issues + 1, 0)
        } else {
            (after + 1, o.issues.saturating_sub(after))
        };
        let issues: Vec<Value> = (first..=o.issues)
            .take(max)
            .map(|n| issue(base, n))
            .collect();
        return (
            200,
            json!({"expand": "names,schema", "startAt": 0, "maxResults": max, "total": total, "issues": issues}),
        );
    }
    if let Some(rest) = path.strip_prefix("/rest/api/2/issue/LU-") {
        std::thread::sleep(o.delay);
        if let Some(n) = rest
            .strip_suffix("/comment")
            .and_then(|n| n.parse::<u64>().ok())
        {
            let start: usize = param(query, "startAt")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let all: Vec<Value> = (0..comment_count(n)).map(|j| comment(n, j)).collect();
            let page: Vec<Value> = all.iter().skip(start).take(100).cloned().collect();
            return (
                200,
                json!({"startAt": start, "maxResults": 100, "total": all.len(), "comments": page}),
            );
        }
    }
    (404, json!({"errorMessages": ["Not found"], "errors": {}}))
}

/// Serves one connection's requests (HTTP/1.1 keep-alive), each answer in one write with
/// `TCP_NODELAY`: a header and a body written apart would wait for the client's delayed ACK
/// (40 ms a request), which would measure the test server rather than the harvest.
fn serve(o: &Options, base: &str, conn: TcpStream) {
    let _ = conn.set_nodelay(true);
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if h.to_ascii_lowercase().starts_with("connection:")
                && h.to_ascii_lowercase().contains("close")
            {
                close = true;
            }
        }
        let (status, body) = answer(o, base, &target);
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut out = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            if status == 200 { "OK" } else { "Not Found" },
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        if conn.write_all(&out).is_err() || close {
            return;
        }
    }
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fetch-server: {e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", o.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fetch-server: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let base = format!("http://127.0.0.1:{port}");
    println!("listening on {base}");
    let _ = std::io::stdout().flush();
    std::thread::scope(|scope| {
        for conn in listener.incoming().flatten() {
            let (o, base) = (&o, &base);
            scope.spawn(move || serve(o, base, conn));
        }
    });
}
