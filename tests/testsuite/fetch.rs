//! `hindsight fetch` against local servers that behave like the real ones: JIRA search pages
//! capped below `maxResults` with truncated comment lists, Bugzilla CSV lists and XML/REST
//! batches, GitHub `Link` paging; 429 with `Retry-After`, 500s, a stalled connection, a cut
//! body and a malformed page; a harvest killed with SIGKILL and resumed; an incremental run;
//! and the harvested files building into the same site as the equivalent export.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use hindsight::fetch::{fetch, FetchError, FetchOptions, FetchSummary, FetchTarget, Quiet};
use hindsight::import::{Record, Source};
use hindsight::Config;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// A small HTTP/1.1 server on 127.0.0.1 that can misbehave.

/// A request as the handlers see it.
struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Reads the request and never answers.
    Stall,
    /// Announces the whole length, sends half, closes.
    Cut(Vec<u8>),
}

fn json_reply(v: &Value) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(v).unwrap(),
    }
}

fn status(code: u16, body: &str, headers: &[(&str, &str)]) -> Reply {
    Reply::Full {
        status: code,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

struct Server {
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Server {
    fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, stop2) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, log, stop) = (handler.clone(), log2.clone(), stop2.clone());
                std::thread::spawn(move || serve(conn, &*handler, &log, &stop));
            }
        });
        Server {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let method = line.split_whitespace().next().unwrap_or("GET").to_string();
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
        return;
    }
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let req = Req {
        method: method.clone(),
        path: path.to_string(),
        query,
        target: target.clone(),
        headers,
        body,
    };
    // A POST is logged with its method (a GET as its target alone).
    log.lock().unwrap().push(if method == "GET" {
        target
    } else {
        format!("{method} {target}")
    });
    let mut conn = conn;
    match handler(&req) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
        Reply::Stall => {
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Reply::Cut(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body[..body.len() / 2]);
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// Faults to serve instead of the real answer: the first requests whose path contains the
/// pattern get them, in order.
#[derive(Default)]
struct Faults(Mutex<Vec<(String, Reply)>>);

impl Faults {
    fn add(&self, pattern: &str, reply: Reply) {
        self.0.lock().unwrap().push((pattern.to_string(), reply));
    }
    fn take(&self, req: &Req) -> Option<Reply> {
        let mut faults = self.0.lock().unwrap();
        let i = faults
            .iter()
            .position(|(p, _)| req.target.contains(p.as_str()))?;
        Some(faults.remove(i).1)
    }
}

// ---------------------------------------------------------------------------------------------
// A JIRA.

#[derive(Clone)]
struct JiraIssue {
    key: String,
    updated: DateTime<Utc>,
    comments: usize,
    histories: usize,
    attachment: bool,
}

struct Jira {
    issues: Mutex<BTreeMap<(String, u64), JiraIssue>>,
    /// The most issues a page holds, whatever `maxResults` says.
    cap: usize,
    faults: Faults,
    /// Delay of each search answer.
    delay: Duration,
    searches: AtomicUsize,
    /// A JIRA Cloud site: `/rest/api/2/search` answers 410 Gone, `/rest/api/3/search/jql`
    /// pages with `nextPageToken`, and v3 bodies are ADF documents.
    cloud: AtomicBool,
}

fn split(key: &str) -> (String, u64) {
    let (p, n) = key.rsplit_once('-').unwrap();
    (p.to_string(), n.parse().unwrap())
}

fn jira_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

impl Jira {
    fn new(projects: &[(&str, u64)], cap: usize) -> Arc<Jira> {
        let mut issues = BTreeMap::new();
        let base = "2020-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for (p, n) in projects {
            for i in 1..=*n {
                let key = format!("{p}-{i}");
                issues.insert(
                    (p.to_string(), i),
                    JiraIssue {
                        key,
                        updated: base + chrono::Duration::hours(i as i64),
                        comments: (i % 4) as usize * 2,
                        histories: (i % 3) as usize,
                        attachment: i % 5 == 0,
                    },
                );
            }
        }
        Arc::new(Jira {
            issues: Mutex::new(issues),
            cap,
            faults: Faults::default(),
            delay: Duration::ZERO,
            searches: AtomicUsize::new(0),
            cloud: AtomicBool::new(false),
        })
    }

    fn comment(key: &str, j: usize) -> Value {
        json!({
            "id": format!("{}{:03}", split(key).1, j),
            "author": {"name": "bob", "key": "JIRAUSER1", "displayName": "Bob Builder"},
            "body": format!("Comment {j} on {key}: see {{code}}ldlm_lock_cancel(){{code}}"),
            "created": "2020-02-01T10:00:00.000+0000",
            "updated": "2020-02-01T10:00:00.000+0000",
            "renderedBody": format!("<p>Comment {j} on {key}</p>")
        })
    }

    fn history(j: usize) -> Value {
        json!({"id": format!("{}", 100 + j), "author": {"name": "ann", "displayName": "Ann"},
               "created": format!("2020-03-0{}T10:00:00.000+0000", 1 + j % 9),
               "items": [{"field": "status", "fromString": "Open", "toString": format!("Step {j}")}]})
    }

    /// The whole issue, as `/rest/api/2/issue/KEY` would give it.
    fn full(&self, i: &JiraIssue, base: &str) -> Value {
        let (p, n) = split(&i.key);
        let comments: Vec<Value> = (0..i.comments)
            .map(|j| {
                let mut c = Jira::comment(&i.key, j);
                c.as_object_mut().unwrap().remove("renderedBody");
                c
            })
            .collect();
        let rendered: Vec<Value> = (0..i.comments)
            .map(|j| json!({"id": Jira::comment(&i.key, j)["id"], "body": format!("<p>Comment {j} on {}</p>", i.key)}))
            .collect();
        let histories: Vec<Value> = (0..i.histories).map(Jira::history).collect();
        let attachments: Vec<Value> = if i.attachment {
            vec![
                json!({"id": format!("9{n}"), "filename": "trace.log", "size": 11,
                        "mimeType": "text/plain", "created": "2020-02-01T10:00:00.000+0000",
                        "author": {"name": "bob", "displayName": "Bob Builder"},
                        "content": format!("{base}/secure/attachment/9{n}/trace.log")}),
            ]
        } else {
            Vec::new()
        };
        let n_c = comments.len();
        json!({
            "expand": "renderedFields,names,schema,operations,changelog",
            "id": format!("{}", 10000 + n),
            "self": format!("{base}/rest/api/2/issue/{}", 10000 + n),
            "key": i.key,
            "fields": {
                "summary": format!("Summary of {}", i.key),
                "description": format!("h1. {}\r\nThe *description*.", i.key),
                "issuetype": {"name": "Bug"},
                "project": {"key": p, "name": format!("Project {p}"), "id": "1"},
                "status": {"name": "Open", "statusCategory": {"key": "new"}},
                "priority": {"name": "Major"},
                "reporter": {"name": "ann", "displayName": "Ann"},
                "created": "2019-12-01T10:00:00.000+0000",
                "updated": jira_date(i.updated),
                "labels": ["x"],
                "customfield_10001": "value",
                "attachment": attachments,
                "comment": {"startAt": 0, "maxResults": n_c, "total": n_c, "comments": comments}
            },
            "renderedFields": {"description": format!("<h1>{}</h1><p>The <b>description</b>.</p>", i.key),
                               "comment": {"comments": rendered}},
            "changelog": {"startAt": 0, "maxResults": histories.len(), "total": histories.len(), "histories": histories}
        })
    }

    /// The issue as a search hit: at most 2 comments and 1 history, like a real search.
    fn hit(&self, i: &JiraIssue, base: &str) -> Value {
        let mut v = self.full(i, base);
        let c = &mut v["fields"]["comment"];
        if let Some(list) = c["comments"].as_array_mut() {
            list.truncate(2);
        }
        c["maxResults"] = json!(2);
        if let Some(list) = v["renderedFields"]["comment"]["comments"].as_array_mut() {
            list.truncate(2);
        }
        if let Some(list) = v["changelog"]["histories"].as_array_mut() {
            list.truncate(1);
        }
        v
    }

    fn handle(&self, req: &Req, base: &str) -> Reply {
        if let Some(r) = self.faults.take(req) {
            return r;
        }
        let cloud = self.cloud.load(Ordering::SeqCst);
        if req.path == "/rest/api/2/search" {
            if cloud {
                return status(
                    410,
                    r#"{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."],"errors":{}}"#,
                    &[],
                );
            }
            self.searches.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            return self.search(req, base, false);
        }
        if req.path == "/rest/api/3/search/approximate-count" && cloud {
            assert_eq!(req.method, "POST");
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let jql = body["jql"].as_str().unwrap();
            assert!(!jql.contains("ORDER BY"), "{jql}");
            return json_reply(&json!({"count": self.matching(jql).len()}));
        }
        if req.path == "/rest/api/3/search/jql" && cloud {
            self.searches.fetch_add(1, Ordering::SeqCst);
            return self.search(req, base, true);
        }
        let issue_path = if cloud {
            req.path.strip_prefix("/rest/api/3/issue/")
        } else {
            req.path.strip_prefix("/rest/api/2/issue/")
        };
        if let Some(rest) = issue_path {
            let mut parts = rest.split('/');
            let key = parts.next().unwrap_or("");
            let what = parts.next();
            let issues = self.issues.lock().unwrap();
            let Some(issue) = issues.get(&split(key)).cloned() else {
                return status(
                    404,
                    r#"{"errorMessages":["Issue Does Not Exist"],"errors":{}}"#,
                    &[],
                );
            };
            drop(issues);
            let start: usize = req
                .param("startAt")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return match what {
                Some("comment") => {
                    // Pages of 3, whatever is asked.
                    let all: Vec<Value> = (0..issue.comments)
                        .map(|j| {
                            let mut c = Jira::comment(key, j);
                            if cloud {
                                c["body"] = adf(c["body"].as_str().unwrap());
                            }
                            c
                        })
                        .collect();
                    let page: Vec<Value> = all.iter().skip(start).take(3).cloned().collect();
                    json_reply(
                        &json!({"startAt": start, "maxResults": 3, "total": all.len(), "comments": page}),
                    )
                }
                // A Server without the changelog resource: the issue has it whole.
                Some("changelog") => status(404, "", &[]),
                None => json_reply(&self.full(&issue, base)),
                _ => status(404, "", &[]),
            };
        }
        if let Some(rest) = req.path.strip_prefix("/secure/attachment/") {
            assert!(rest.ends_with("/trace.log"), "{rest}");
            return status(200, "log-content", &[]);
        }
        status(404, "{}", &[])
    }

    /// The issues a JQL of the harvest's clauses matches, in key order.
    fn matching(&self, jql: &str) -> Vec<JiraIssue> {
        let quoted = |after: &str| -> Option<String> {
            let i = jql.find(after)? + after.len();
            let rest = &jql[i..];
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        };
        let project = quoted("project = ");
        let after_key = quoted("key > ");
        let minutes: Option<i64> = quoted("updated >= ").map(|m| {
            m.trim_start_matches('-')
                .trim_end_matches('m')
                .parse()
                .unwrap()
        });
        let excluded: Vec<String> = jql
            .find("project not in (")
            .map(|i| {
                let rest = &jql[i + "project not in (".len()..];
                rest[..rest.find(')').unwrap()]
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_string())
                    .collect()
            })
            .unwrap_or_default();
        let now = Utc::now();
        let issues = self.issues.lock().unwrap();
        issues
            .iter()
            .filter(|((p, n), _)| {
                project.as_ref().is_none_or(|x| x == p)
                    && !excluded.contains(p)
                    && after_key.as_ref().is_none_or(|k| {
                        let (kp, kn) = split(k);
                        kp == *p && *n > kn
                    })
            })
            .map(|(_, i)| i.clone())
            .filter(|i| minutes.is_none_or(|m| i.updated >= now - chrono::Duration::minutes(m)))
            .collect()
    }

    /// A tiny JQL: the clauses the harvest writes. `v3`: Cloud's `/search/jql`, paged by an
    /// opaque `nextPageToken`, without `total`, ADF bodies.
    fn search(&self, req: &Req, base: &str, v3: bool) -> Reply {
        let jql = req.param("jql").unwrap_or("").to_string();
        if jql.contains("NOPE") {
            return status(
                400,
                r#"{"errorMessages":["The value 'NOPE' does not exist for the field 'project'."],"errors":{}}"#,
                &[],
            );
        }
        let matching = self.matching(&jql);
        let matching: Vec<&JiraIssue> = matching.iter().collect();
        let max: usize = req
            .param("maxResults")
            .and_then(|m| m.parse().ok())
            .unwrap_or(50)
            .min(self.cap);
        if v3 {
            assert!(req.param("startAt").is_none(), "{}", req.target);
            // The Cloud search gives only ids unless fields are asked for.
            assert!(req.param("fields").is_some(), "{}", req.target);
            let start: usize = match req.param("nextPageToken") {
                None => 0,
                Some(t) => t
                    .strip_prefix("tok-")
                    .and_then(|n| n.parse().ok())
                    .expect("a token this server gave"),
            };
            let page: Vec<Value> = matching
                .iter()
                .skip(start)
                .take(max)
                .map(|i| {
                    let mut v = self.hit(i, base);
                    let d = v["fields"]["description"].as_str().unwrap().to_string();
                    v["fields"]["description"] = adf(&d);
                    for c in v["fields"]["comment"]["comments"].as_array_mut().unwrap() {
                        c["body"] = adf(c["body"].as_str().unwrap());
                    }
                    v
                })
                .collect();
            let end = start + page.len();
            let mut answer = json!({"issues": page, "isLast": end >= matching.len(),
                                    "names": {"customfield_10001": "Severity"}});
            if end < matching.len() {
                answer["nextPageToken"] = json!(format!("tok-{end}"));
            }
            return json_reply(&answer);
        }
        let start: usize = req
            .param("startAt")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(max)
            .map(|i| self.hit(i, base))
            .collect();
        json_reply(&json!({
            "expand": "names,schema",
            "startAt": start, "maxResults": max, "total": matching.len(),
            "issues": page,
            "names": {"customfield_10001": "Severity"}
        }))
    }
}

/// `text` as an Atlassian Document Format document of one paragraph.
fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

fn start_jira(jira: Arc<Jira>) -> Server {
    let base = Arc::new(Mutex::new(String::new()));
    let b2 = base.clone();
    let server = Server::start(move |req| {
        let base = b2.lock().unwrap().clone();
        jira.handle(req, &base)
    });
    *base.lock().unwrap() = server.url();
    server
}

// ---------------------------------------------------------------------------------------------
// Sites, configs, harvests.

fn site_with(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("hindsight.toml"), config).unwrap();
    (dir, site)
}

fn jira_config(url: &str, extra: &str) -> String {
    format!(
        "title = \"Harvest\"\n[[tracker]]\nname = \"jira\"\npaths = [\"harvest/jira/*.json\"]\nattachments = \"attachments\"\n[tracker.fetch]\nkind = \"jira\"\nurl = \"{url}\"\njql = \"project in (LU, LUDOC) ORDER BY key\"\npage_size = 50\ntimeout_seconds = 1\nbackoff_seconds = 0.01\nretries = 6\n{extra}"
    )
}

fn targets(site: &Path) -> Vec<FetchTarget> {
    let config = Config::load(&site.join("hindsight.toml")).unwrap();
    config
        .trackers
        .iter()
        .filter_map(|t| {
            t.fetch.as_ref().map(|f| {
                FetchTarget::new(
                    t.name.as_deref().unwrap_or("jira"),
                    &config.root,
                    &t.paths,
                    t.attachments.as_deref(),
                    f,
                )
                .unwrap()
            })
        })
        .collect()
}

fn harvest(site: &Path, full: bool) -> Result<FetchSummary, FetchError> {
    fetch(&targets(site), &FetchOptions { full }, &Quiet)
}

/// Every issue key in the harvested files of `folder`, with how often each occurs.
fn harvested_keys(folder: &Path, kind: &str) -> BTreeMap<String, usize> {
    let mut keys = BTreeMap::new();
    for e in std::fs::read_dir(folder).unwrap() {
        let path = e.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let found: Vec<String> = match kind {
            "jira" => serde_json::from_str::<Value>(&text).unwrap()["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["key"].as_str().unwrap().to_string())
                .collect(),
            "github" => serde_json::from_str::<Value>(&text)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let repo = i["repository_url"]
                        .as_str()
                        .unwrap()
                        .split("/repos/")
                        .nth(1)
                        .unwrap()
                        .to_string();
                    format!("{repo}#{}", i["number"])
                })
                .collect(),
            _ => text
                .split("<bug_id>")
                .skip(1)
                .map(|s| s[..s.find('<').unwrap()].to_string())
                .collect(),
        };
        for k in found {
            *keys.entry(k).or_default() += 1;
        }
    }
    keys
}

/// An importer's `read_file`.
type Reader =
    fn(&Path, &Source, &mut dyn FnMut(Record) -> hindsight::Result<()>) -> hindsight::Result<()>;

/// The issues an importer reads from the harvested files of `folder`.
fn import(
    folder: &Path,
    reader: Reader,
    prefix: Option<&str>,
) -> BTreeMap<String, hindsight::model::Issue> {
    let source = Source {
        name: "t".into(),
        key_prefix: prefix.map(str::to_string),
        ..Default::default()
    };
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        reader(&f, &source, &mut |r| {
            match r {
                Record::Issue(i) => {
                    assert!(out.insert(i.key.clone(), *i).is_none(), "an issue twice");
                }
                Record::Warning(w) => {
                    assert!(w.message.contains("NotPermitted"), "warning: {w}");
                }
                Record::Person(_) => {}
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// JIRA.

#[test]
fn jira_harvest_pages_by_key_completes_comments_and_imports() {
    // 23 LU issues and 4 LUDOC, pages capped at 10 whatever maxResults says.
    let jira = Jira::new(&[("LU", 23), ("LUDOC", 4)], 10);
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(&jira_config(&server.url(), ""));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 27, "{summary}");
    assert!(t.full);
    assert_eq!(t.attachments, 4, "{summary}");

    let folder = site.join("harvest/jira");
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 27);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    // Keyset paging: never an offset, a key and its project in the JQL after the first page.
    let searches: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("/rest/api/2/search"))
        .collect();
    assert!(
        searches.iter().all(|s| s.contains("startAt=0")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .any(|s| decode(s).contains("key > \"LU-20\"")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .any(|s| decode(s).contains("project not in (\"LU\")")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .all(|s| decode(s).contains("expand=renderedFields,changelog")),
        "{searches:?}"
    );

    // The importer reads every issue, with every comment and history entry.
    let issues = import(&folder, hindsight::import::jira_json::read_file, None);
    assert_eq!(issues.len(), 27);
    let lu6 = &issues["LU-6"];
    assert_eq!(lu6.comments.len(), 4, "the search held 2 of 4");
    assert_eq!(lu6.comments[3].body.content, "<p>Comment 3 on LU-6</p>");
    assert_eq!(issues["LU-5"].history.len(), 2, "the search held 1 of 2");
    assert_eq!(lu6.custom_fields[0].name, "Severity");
    // Attachments in JIRA's layout.
    let file = site.join("attachments/LU/10000/LU-5/95");
    assert_eq!(
        std::fs::read(&file).unwrap().len(),
        11,
        "{}",
        file.display()
    );
    // The state folder is not matched by the glob, and no temporary file is left.
    let config = Config::load(&site.join("hindsight.toml")).unwrap();
    let files = hindsight::inputs::tracker_files(&config, &config.trackers[0]).unwrap();
    assert!(
        files.iter().all(|f| f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("jira-r0001-")),
        "{files:?}"
    );
    let mut leftovers: Vec<_> = std::fs::read_dir(folder.join(".hindsight-fetch"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        vec![
            std::ffi::OsString::from("lock"),
            std::ffi::OsString::from("state.json")
        ]
    );
}

#[test]
fn jira_cloud_search_jql_is_token_paged_resumed_incremental_and_imports() {
    // A Cloud site: the v2 search answers 410 Gone, the harvest goes over to /search/jql.
    let jira = Jira::new(&[("LU", 23), ("LUDOC", 4)], 10);
    jira.cloud.store(true, Ordering::SeqCst);
    // A 401 on the second token page: what was fetched stays, the next run resumes by key.
    jira.faults.add(
        "nextPageToken=tok-10",
        status(
            401,
            r#"{"errorMessages":["You are not authenticated."]}"#,
            &[],
        ),
    );
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(&jira_config(&server.url(), ""));
    let folder = site.join("harvest/jira");
    let e = harvest(&site, false).unwrap_err().to_string();
    assert!(
        e.contains("HTTP 401") && e.contains("/rest/api/3/search/jql"),
        "{e}"
    );
    assert_eq!(harvested_keys(&folder, "jira").len(), 10);
    server.clear_log();
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert!(t.resumed, "{summary}");
    assert_eq!(t.issues, 17, "{summary}");
    assert_eq!(t.attachments, 4 - 2, "{summary}");
    let requests: Vec<String> = server.requests().into_iter().map(|r| decode(&r)).collect();
    // The first run's switch to Cloud is in the state: no v2 search is tried again.
    assert!(
        !requests.iter().any(|r| r.starts_with("/rest/api/2/search")),
        "{requests:?}"
    );
    let searches: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("/rest/api/3/search/jql"))
        .collect();
    // The resumed run asks from the last complete key, then follows the tokens.
    assert!(searches[0].contains("key > \"LU-10\""), "{searches:?}");
    assert!(
        searches.iter().any(|s| s.contains("nextPageToken=tok-")),
        "{searches:?}"
    );
    assert!(
        searches
            .iter()
            .all(|s| s.contains("expand=renderedFields,changelog") && !s.contains("startAt")),
        "{searches:?}"
    );
    // Completion asks the v3 issue resources, whose bodies are ADF too.
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/rest/api/3/issue/LU-14/comment")),
        "{requests:?}"
    );
    assert!(!requests.iter().any(|r| r.starts_with("/rest/api/2/issue/")));
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 27);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    let issues = import(&folder, hindsight::import::jira_json::read_file, None);
    assert_eq!(issues.len(), 27);
    let lu6 = &issues["LU-6"];
    assert_eq!(lu6.comments.len(), 4, "the search held 2 of 4");
    assert!(
        lu6.comments[3].body.content.contains("Comment 3 on LU-6"),
        "{:?}",
        lu6.comments[3].body
    );
    assert_eq!(issues["LU-5"].history.len(), 2);
    assert!(site.join("attachments/LU/10000/LU-20/920").exists());

    // Incremental: only what changed, with `updated >=` on the Cloud search.
    {
        let mut all = jira.issues.lock().unwrap();
        let i = all.get_mut(&("LU".into(), 3)).unwrap();
        i.updated = Utc::now();
        i.comments += 1;
    }
    server.clear_log();
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert!(!t.full);
    assert_eq!((t.issues, t.replaced), (1, 1), "{summary}");
    assert!(t.gone.is_empty(), "{summary}");
    let first = decode(&server.requests()[0]);
    assert!(first.starts_with("/rest/api/3/search/jql"), "{first}");
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.starts_with("/rest/api/2/")),
        "{:?}",
        server.requests()
    );
    assert!(server
        .requests()
        .iter()
        .map(|r| decode(r))
        .any(|r| r.starts_with("/rest/api/3/search/jql") && r.contains("updated >= \"-")));
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 27);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    let issues = import(&folder, hindsight::import::jira_json::read_file, None);
    assert_eq!(issues["LU-3"].comments.len(), 7);

    // `--full` finds out again: one v2 search (410), then Cloud; remembered once more.
    server.clear_log();
    let summary = harvest(&site, true).unwrap();
    assert_eq!(summary.trackers[0].issues, 27, "{summary}");
    let v2 = |server: &Server| {
        server
            .requests()
            .iter()
            .filter(|r| r.starts_with("/rest/api/2/search"))
            .count()
    };
    assert_eq!(v2(&server), 1, "{:?}", server.requests());
    server.clear_log();
    harvest(&site, false).unwrap();
    assert_eq!(v2(&server), 0, "{:?}", server.requests());

    // `jira_api = "cloud"` asks /search/jql at once.
    let (_dir, site) = site_with(&jira_config(&server.url(), "jira_api = \"cloud\"\n"));
    server.clear_log();
    let summary = harvest(&site, false).unwrap();
    assert_eq!(summary.trackers[0].issues, 27, "{summary}");
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.starts_with("/rest/api/2/")));
}

#[test]
fn jira_misbehaviour_is_retried_and_nothing_is_lost() {
    let jira = Jira::new(&[("LU", 12)], 5);
    jira.faults.add(
        "/rest/api/2/search",
        status(429, "slow down", &[("Retry-After", "1")]),
    );
    jira.faults.add(
        "/rest/api/2/search",
        status(500, "<html>Internal error</html>", &[]),
    );
    jira.faults.add("/rest/api/2/search", Reply::Stall);
    jira.faults.add(
        "/comment",
        Reply::Cut(br#"{"startAt":0,"maxResults":3,"total":6,"comments":[{"id":"1"}]}"#.to_vec()),
    );
    jira.faults.add(
        "/rest/api/2/search",
        status(200, "<html><body>Proxy error</body></html>", &[]),
    );
    jira.faults.add("/comment", status(502, "bad gateway", &[]));
    // An attachment JIRA lost: listed, not copied, and the harvest goes on.
    jira.faults
        .add("/secure/attachment/95/", status(404, "", &[]));
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(&jira_config(&server.url(), ""));
    let started = Instant::now();
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 12, "{summary}");
    assert!(t.retries >= 6, "{summary}");
    assert_eq!((t.attachments, t.attachments_missing), (1, 1), "{summary}");
    assert!(!site.join("attachments/LU/10000/LU-5/95").exists());
    assert!(site.join("attachments/LU/10000/LU-10/910").exists());
    // Retry-After: 1 was honoured.
    assert!(started.elapsed() >= Duration::from_secs(1));
    let issues = import(
        &site.join("harvest/jira"),
        hindsight::import::jira_json::read_file,
        None,
    );
    assert_eq!(issues.len(), 12);
    assert_eq!(issues["LU-3"].comments.len(), 6);
    assert_eq!(issues["LU-7"].comments.len(), 6);
    // The client says who it is.
    assert!(jira.faults.0.lock().unwrap().is_empty());
}

#[test]
fn errors_are_one_line_and_what_was_fetched_is_kept() {
    // A JQL error: the server's words, the tracker, the URL.
    let jira = Jira::new(&[("LU", 30)], 10);
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(
        &jira_config(&server.url(), "").replace("project in (LU, LUDOC)", "project = NOPE"),
    );
    let e = harvest(&site, false).unwrap_err().to_string();
    assert!(
        e.contains("tracker jira")
            && e.contains("does not exist for the field 'project'")
            && e.contains("HTTP 400"),
        "{e}"
    );
    assert!(e.contains(&server.url()), "{e}");
    assert!(!e.contains('\n'), "{e}");

    // A 401 on the second page: the first page stays, and the next run goes on from it.
    let (_dir, site) = site_with(&jira_config(
        &server.url(),
        "user_env = \"HINDSIGHT_TEST_USER\"\npassword_env = \"HINDSIGHT_TEST_PASSWORD\"\n",
    ));
    std::env::set_var("HINDSIGHT_TEST_USER", "bob");
    std::env::set_var("HINDSIGHT_TEST_PASSWORD", "hunter2-secret");
    jira.faults.add(
        "key%20%3E%20%22LU-10%22",
        status(
            401,
            r#"{"errorMessages":["You are not authenticated."]}"#,
            &[],
        ),
    );
    let e = harvest(&site, false).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("HTTP 401") && text.contains("You are not authenticated"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(harvested_keys(&site.join("harvest/jira"), "jira").len(), 10);
    server.clear_log();
    let summary = harvest(&site, false).unwrap();
    assert!(summary.trackers[0].resumed, "{summary}");
    assert_eq!(summary.trackers[0].issues, 20, "{summary}");
    let first = decode(&server.requests()[0]);
    assert!(first.contains("key > \"LU-10\""), "{first}");
    let keys = harvested_keys(&site.join("harvest/jira"), "jira");
    assert_eq!(keys.len(), 30);
    assert!(keys.values().all(|&n| n == 1));
    // The credentials went out in a header, never into a file.
    for e in walkdir::WalkDir::new(&site) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("hunter2"),
                "{}",
                e.path().display()
            );
        }
    }

    // An unreachable server.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (_dir, site) = site_with(&jira_config(&url, "").replace("retries = 6", "retries = 1"));
    let e = harvest(&site, false).unwrap_err().to_string();
    assert!(
        e.starts_with("tracker jira: http://127.0.0.1:") && e.contains("/rest/api/2/search"),
        "{e}"
    );
}

#[test]
fn an_incremental_run_asks_only_for_what_changed_and_replaces_it() {
    let jira = Jira::new(&[("LU", 15)], 10);
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(&jira_config(&server.url(), ""));
    harvest(&site, false).unwrap();
    // Two issues change, one is deleted.
    {
        let mut issues = jira.issues.lock().unwrap();
        for n in [3, 12] {
            let i = issues.get_mut(&("LU".into(), n)).unwrap();
            i.updated = Utc::now();
            i.comments += 1;
        }
        issues.remove(&("LU".to_string(), 7));
    }
    server.clear_log();
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert!(!t.full);
    assert_eq!(t.issues, 2, "{summary}");
    assert_eq!(t.replaced, 2, "{summary}");
    assert_eq!(t.gone, ["LU-7"], "{summary}");
    assert_eq!(t.removed, 0);
    let searches: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("/rest/api/2/search"))
        .map(|r| decode(&r))
        .collect();
    // The harvest's searches ask for `updated >= "-Nm"` with N about the overlap (10 min).
    let harvest_search = searches.iter().find(|s| s.contains("updated >=")).unwrap();
    let n: i64 = harvest_search
        .split("updated >= \"-")
        .nth(1)
        .unwrap()
        .split('m')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((10..=12).contains(&n), "{harvest_search}");
    let folder = site.join("harvest/jira");
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 15, "LU-7 is kept without remove_deleted");
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    let issues = import(&folder, hindsight::import::jira_json::read_file, None);
    assert_eq!(issues["LU-3"].comments.len(), 7);

    // With remove_deleted, the gone issue leaves the harvest; --full fetches everything.
    let config =
        std::fs::read_to_string(site.join("hindsight.toml")).unwrap() + "remove_deleted = true\n";
    std::fs::write(site.join("hindsight.toml"), config).unwrap();
    let summary = harvest(&site, true).unwrap();
    let t = &summary.trackers[0];
    assert!(t.full);
    assert_eq!(t.issues, 14);
    assert_eq!((t.gone.clone(), t.removed), (vec!["LU-7".to_string()], 1));
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 14);
    assert!(keys.keys().all(|k| k != "LU-7"));
}

#[test]
fn harvested_files_build_the_same_site_as_the_export() {
    same_site_as_the_export(false);
}

#[test]
fn a_cloud_harvest_builds_the_same_site_as_the_export() {
    same_site_as_the_export(true);
}

/// Harvests a JIRA (v2, or Cloud through `/search/jql` after the 410) and builds it, and
/// builds the export of the same issues (one search page, every issue whole: on Cloud as its
/// v3 resources give it, bodies as ADF); the issue pages, their JSON, the attachments and the
/// home page are the same bytes.
fn same_site_as_the_export(cloud: bool) {
    let jira = Jira::new(&[("LU", 12)], 5);
    jira.cloud.store(cloud, Ordering::SeqCst);
    let server = start_jira(jira.clone());
    let (_dir, harvested) = site_with(&jira_config(&server.url(), ""));
    harvest(&harvested, false).unwrap();
    if cloud {
        assert!(server
            .requests()
            .iter()
            .any(|r| r.starts_with("/rest/api/3/search/jql")));
    }
    // The export: one search page with every issue whole, and the attachments folder.
    let issues: Vec<Value> = jira
        .issues
        .lock()
        .unwrap()
        .values()
        .map(|i| {
            let mut v = jira.full(i, &server.url());
            if cloud {
                let d = v["fields"]["description"].as_str().unwrap().to_string();
                v["fields"]["description"] = adf(&d);
                for c in v["fields"]["comment"]["comments"].as_array_mut().unwrap() {
                    c["body"] = adf(c["body"].as_str().unwrap());
                }
            }
            v
        })
        .collect();
    let exported = harvested.parent().unwrap().join("export");
    std::fs::create_dir_all(exported.join("exports")).unwrap();
    std::fs::write(
        exported.join("exports/LU.json"),
        serde_json::to_vec(&json!({"startAt": 0, "maxResults": 12, "total": 12, "issues": issues, "names": {"customfield_10001": "Severity"}})).unwrap(),
    )
    .unwrap();
    copy_dir(
        &harvested.join("attachments"),
        &exported.join("attachments"),
    );
    std::fs::write(exported.join("hindsight.toml"), "title = \"Harvest\"\n[[tracker]]\nname = \"jira\"\npaths = [\"exports/*.json\"]\nattachments = \"attachments\"\n").unwrap();
    let build = |site: &Path| {
        let config = Config::load(&site.join("hindsight.toml")).unwrap();
        hindsight::build(
            &config,
            &hindsight::BuildOptions {
                force: true,
                ..Default::default()
            },
            &hindsight::Quiet,
        )
        .unwrap()
    };
    let a = build(&harvested);
    let b = build(&exported);
    assert_eq!(a.import.issues_kept, 12);
    assert_eq!(a.import.comments, b.import.comments);
    let pages = |site: &Path| -> BTreeMap<String, Vec<u8>> {
        let root = site.join("public");
        walkdir::WalkDir::new(&root)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path()
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    e.path().to_path_buf(),
                )
            })
            .filter(|(rel, _)| {
                rel.starts_with("issues/") || rel.starts_with("attachments/") || rel == "index.html"
            })
            .map(|(rel, p)| (rel, std::fs::read(p).unwrap()))
            .collect()
    };
    let (pa, pb) = (pages(&harvested), pages(&exported));
    assert!(
        pa.keys().any(|k| k.starts_with("attachments/")),
        "{:?}",
        pa.keys().collect::<Vec<_>>()
    );
    assert!(
        pa.keys().any(|k| k.ends_with(".json")) && pa.len() > 24,
        "{:?}",
        pa.keys().collect::<Vec<_>>()
    );
    assert_eq!(pa.keys().collect::<Vec<_>>(), pb.keys().collect::<Vec<_>>());
    for (k, v) in &pa {
        assert!(v == &pb[k], "{k} differs");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn a_harvest_killed_mid_run_resumes_without_duplicate_or_hole() {
    let mut jira = Jira::new(&[("LU", 120), ("LUDOC", 15)], 7);
    Arc::get_mut(&mut jira).unwrap().delay = Duration::from_millis(40);
    let server = start_jira(jira.clone());
    let (_dir, site) =
        site_with(&jira_config(&server.url(), "").replace("page_size = 50", "page_size = 7"));
    let folder = site.join("harvest/jira");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .args(["fetch", "--quiet"])
        .current_dir(&site)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few pages are on disk.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pages = std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
        if pages >= 5 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = harvested_keys(&folder, "jira");
    assert!(before.len() < 135, "the run finished before it was killed");
    assert!(!before.is_empty());

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .args(["fetch", "--quiet"])
        .current_dir(&site)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(resumed)"), "{stdout}");
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 135, "a hole");
    assert!(keys.values().all(|&n| n == 1), "a duplicate: {keys:?}");
    let issues = import(&folder, hindsight::import::jira_json::read_file, None);
    assert_eq!(issues.len(), 135);
}

// ---------------------------------------------------------------------------------------------
// Bugzilla.

#[derive(Default)]
struct Bugzilla {
    ids: Vec<u64>,
    faults: Faults,
    /// When each bug last changed (2007 unless set): `chfieldfrom` (a day, in the server's
    /// time zone, UTC−10) and REST's `last_change_time` filter on it.
    changed: Mutex<HashMap<u64, DateTime<Utc>>>,
}

/// The size of the attachment over the cap (bug 24's `242`, bug 9's REST `98`).
const BIG: usize = 5000;

impl Bugzilla {
    /// The attachments of bug `id` (`<attachment>` elements, `data` when asked for): bugs
    /// ending in 4 have a 3-byte patch `<id>1`; bug 24 also has a 5000-byte log `242`.
    fn attachments_xml(id: u64, data: bool) -> String {
        let one = |aid: String, name: &str, bytes: &[u8]| {
            let data = if data {
                format!(
                    "      <data encoding=\"base64\">{}</data>\n",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
                )
            } else {
                String::new()
            };
            format!("    <attachment isobsolete=\"0\" ispatch=\"0\" isprivate=\"0\">\n      <attachid>{aid}</attachid>\n      <date>2007-10-18 05:56:11 -0700</date>\n      <desc>{name}</desc>\n      <filename>{name}</filename>\n      <type>text/plain</type>\n      <size>{}</size>\n      <attacher>bob@example.com</attacher>\n{data}    </attachment>\n", bytes.len())
        };
        let mut out = String::new();
        if id % 10 == 4 {
            out.push_str(&one(format!("{id}1"), "fix.patch", b"abc"));
        }
        if id == 24 {
            out.push_str(&one("242".into(), "huge.log", &[b'x'; BIG]));
        }
        out
    }

    fn changed(&self, id: u64) -> DateTime<Utc> {
        self.changed
            .lock()
            .unwrap()
            .get(&id)
            .copied()
            .unwrap_or_else(|| "2007-10-19T12:56:11Z".parse().unwrap())
    }

    /// The ids after `after` changed since `chfieldfrom` (a date, midnight in UTC−10) or
    /// `last_change_time` (an instant), at most 25.
    fn list(&self, req: &Req) -> Vec<u64> {
        let after: u64 = req.param("v1").and_then(|v| v.parse().ok()).unwrap_or(0);
        let from: Option<DateTime<Utc>> =
            match (req.param("chfieldfrom"), req.param("last_change_time")) {
                (Some(day), _) => {
                    let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("a date");
                    let local = chrono::FixedOffset::west_opt(10 * 3600).unwrap();
                    Some(
                        day.and_hms_opt(0, 0, 0)
                            .unwrap()
                            .and_local_timezone(local)
                            .unwrap()
                            .with_timezone(&Utc),
                    )
                }
                (None, Some(t)) => Some(t.parse().expect("an ISO 8601 instant")),
                (None, None) => None,
            };
        self.ids
            .iter()
            .copied()
            .filter(|&i| i > after && from.is_none_or(|f| self.changed(i) >= f))
            .take(25)
            .collect()
    }

    fn bug_xml(id: u64, data: bool) -> String {
        if id == 13 {
            return "  <bug error=\"NotPermitted\">\n    <bug_id>13</bug_id>\n  </bug>\n".into();
        }
        let attachments = Bugzilla::attachments_xml(id, data);
        format!(
            "  <bug>\n    <bug_id>{id}</bug_id>\n    <creation_ts>2007-10-18 05:56:11 -0700</creation_ts>\n    <short_desc>Bug {id} &amp; friends</short_desc>\n    <delta_ts>2007-10-19 05:56:11 -0700</delta_ts>\n    <product>Lustre</product>\n    <component>lnet</component>\n    <version>1.6</version>\n    <bug_status>RESOLVED</bug_status>\n    <resolution>FIXED</resolution>\n    <priority>P3</priority>\n    <bug_severity>normal</bug_severity>\n    <reporter name=\"Ann\">ann@example.com</reporter>\n    <assigned_to name=\"Bob\">bob@example.com</assigned_to>\n    <long_desc isprivate=\"0\">\n      <commentid>{id}00</commentid>\n      <who name=\"Ann\">ann@example.com</who>\n      <bug_when>2007-10-18 05:56:11 -0700</bug_when>\n      <thetext>It crashes ({id}).</thetext>\n    </long_desc>\n    <long_desc isprivate=\"0\">\n      <commentid>{id}01</commentid>\n      <who name=\"Bob\">bob@example.com</who>\n      <bug_when>2007-10-19 05:56:11 -0700</bug_when>\n      <thetext>Fixed in b=123.</thetext>\n    </long_desc>\n{attachments}  </bug>\n"
        )
    }

    fn handle(&self, req: &Req) -> Reply {
        if let Some(r) = self.faults.take(req) {
            return r;
        }
        match req.path.as_str() {
            "/buglist.cgi" => {
                assert_eq!(req.param("ctype"), Some("csv"));
                // This server caps a search at 25 results.
                let ids: Vec<String> = self.list(req).iter().map(|i| i.to_string()).collect();
                status(
                    200,
                    &format!("bug_id\n{}\n", ids.join("\n")),
                    &[("Content-Type", "text/csv")],
                )
            }
            "/show_bug.cgi" => {
                let data = !req.params("excludefield").contains(&"attachmentdata");
                let bugs: String = req
                    .params("id")
                    .iter()
                    .map(|i| Bugzilla::bug_xml(i.parse().unwrap(), data))
                    .collect();
                status(200, &format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n<bugzilla version=\"3.0.4\" urlbase=\"http://bz/\" maintainer=\"m@example.com\">\n{bugs}</bugzilla>\n"), &[("Content-Type", "text/xml")])
            }
            "/attachment.cgi" => {
                assert_eq!(req.param("action"), Some("view"));
                match req.param("id") {
                    Some("242") => status(200, &"x".repeat(BIG), &[]),
                    Some(a) if a.ends_with('1') => status(200, "abc", &[]),
                    _ => status(404, "", &[]),
                }
            }
            p if p.starts_with("/rest/bug/attachment/") => {
                let mut ids = vec![p.trim_start_matches("/rest/bug/attachment/").to_string()];
                ids.extend(req.params("attachment_ids").iter().map(|s| s.to_string()));
                let attachments: serde_json::Map<String, Value> = ids
                    .iter()
                    .map(|a| {
                        let bytes = if a == "98" {
                            vec![b'x'; BIG]
                        } else {
                            b"abc".to_vec()
                        };
                        let data = base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            bytes,
                        );
                        (
                            a.clone(),
                            json!({"id": a.parse::<u64>().unwrap(), "data": data}),
                        )
                    })
                    .collect();
                json_reply(&json!({"attachments": attachments, "bugs": {}}))
            }
            "/rest/bug" => {
                if req.param("include_fields") == Some("id") {
                    let bugs: Vec<Value> =
                        self.list(req).iter().map(|i| json!({"id": i})).collect();
                    return json_reply(&json!({"bugs": bugs}));
                }
                let bugs: Vec<Value> = req.param("id").unwrap_or("").split(',').map(|i| {
                    let id: u64 = i.parse().unwrap();
                    json!({"id": id, "summary": format!("Bug {id}"), "product": "Lustre", "component": ["lnet"],
                           "creation_time": "2017-08-12T23:00:36Z", "last_change_time": "2017-08-13T23:00:36Z",
                           "status": "RESOLVED", "resolution": "FIXED", "creator": "ann@example.com",
                           "creator_detail": {"email": "ann@example.com", "real_name": "Ann", "name": "ann@example.com"},
                           "assigned_to": "bob@example.com", "op_sys": "Linux", "is_open": false, "depends_on": [], "groups": []})
                }).collect();
                json_reply(&json!({"bugs": bugs, "faults": []}))
            }
            p if p.starts_with("/rest/bug/") => {
                let first = p
                    .trim_start_matches("/rest/bug/")
                    .split('/')
                    .next()
                    .unwrap()
                    .to_string();
                let mut ids: Vec<String> = vec![first];
                ids.extend(req.params("ids").iter().map(|s| s.to_string()));
                if p.ends_with("/comment") {
                    let bugs: serde_json::Map<String, Value> = ids.iter().map(|id| (id.clone(), json!({"comments": [
                        {"id": 1, "count": 0, "text": format!("Description {id}"), "creator": "ann@example.com", "creation_time": "2017-08-12T23:00:36Z", "is_private": false},
                        {"id": 2, "count": 1, "text": "private", "creator": "bob@example.com", "creation_time": "2017-08-12T23:10:36Z", "is_private": true},
                        {"id": 3, "count": 2, "text": "Fixed", "creator": "bob@example.com", "creation_time": "2017-08-12T23:20:36Z", "is_private": false}]}))).collect();
                    json_reply(&json!({"bugs": bugs}))
                } else if p.ends_with("/history") {
                    let bugs: Vec<Value> = ids.iter().map(|id| json!({"id": id.parse::<u64>().unwrap(), "history": [
                        {"when": "2017-08-13T23:00:36Z", "who": "bob@example.com", "changes": [{"field_name": "status", "removed": "NEW", "added": "RESOLVED"}]}]})).collect();
                    json_reply(&json!({"bugs": bugs}))
                } else {
                    // Each bug has a 3-byte patch `<id>7`; bug 9 also a 5000-byte log `98`.
                    let data = !req.params("exclude_fields").contains(&"data");
                    let bugs: serde_json::Map<String, Value> = ids.iter().map(|id| {
                        let bug: u64 = id.parse().unwrap();
                        let mut files = vec![json!({"id": bug * 10 + 7, "bug_id": bug, "file_name": "a.patch", "summary": "fix", "content_type": "text/plain", "size": 3, "data": "YWJj", "is_private": false, "is_obsolete": false, "is_patch": true, "creator": "bob@example.com", "creation_time": "2017-08-12T23:00:36Z"})];
                        if bug == 9 {
                            files.push(json!({"id": 98, "bug_id": bug, "file_name": "huge.log", "summary": "log", "content_type": "text/plain", "size": BIG, "data": "eA==", "is_private": false, "is_obsolete": false, "is_patch": false, "creator": "bob@example.com", "creation_time": "2017-08-12T23:00:36Z"}));
                        }
                        if !data {
                            for f in &mut files {
                                f.as_object_mut().unwrap().remove("data");
                            }
                        }
                        (id.clone(), Value::Array(files))
                    }).collect();
                    json_reply(&json!({"bugs": bugs}))
                }
            }
            _ => status(404, "", &[]),
        }
    }
}

#[test]
fn bugzilla_xml_batches_on_an_old_server_import() {
    let bz = Arc::new(Bugzilla {
        ids: (1..=60).filter(|i| i % 7 != 0).collect(),
        ..Default::default()
    });
    bz.faults.add("/show_bug.cgi", Reply::Cut(b"<?xml version=\"1.0\"?>\n<bugzilla version=\"3.0\">\n  <bug>\n    <bug_id>1</bug_id>\n  </bug>\n</bugzilla>\n".to_vec()));
    bz.faults.add(
        "/buglist.cgi",
        status(503, "maintenance", &[("Retry-After", "0")]),
    );
    let b2 = bz.clone();
    let server = Server::start(move |r| b2.handle(r));
    let (_dir, site) = site_with(&format!(
        "title = \"B\"\n[[tracker]]\nname = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"harvest/bugzilla/*.xml\"]\n[tracker.fetch]\nkind = \"bugzilla\"\nurl = \"{}/\"\nproducts = [\"Lustre\"]\npage_size = 10\nbackoff_seconds = 0.01\ntimeout_seconds = 2\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 52, "{summary}");
    assert_eq!(t.files, 6, "{summary}");
    assert!(t.retries >= 2, "{summary}");
    let lists: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("/buglist.cgi"))
        .collect();
    assert!(
        lists.iter().any(|r| r.contains("v1=29"))
            && lists.iter().all(|r| r.contains("product=Lustre")),
        "{lists:?}"
    );
    let folder = site.join("harvest/bugzilla");
    let keys = harvested_keys(&folder, "bugzilla");
    assert_eq!(keys.len(), 52);
    assert!(keys.values().all(|&n| n == 1));
    let issues = import(
        &folder,
        hindsight::import::bugzilla_xml::read_file,
        Some("BZ"),
    );
    // Bug 13 is a NotPermitted stub: the importer leaves it out.
    assert_eq!(issues.len(), 51, "{:?}", issues.keys().collect::<Vec<_>>());
    assert_eq!(
        issues["BZ-12"].comments.len(),
        1,
        "one comment besides the description"
    );
    assert_eq!(issues["BZ-12"].summary, "Bug 12 & friends");
}

#[test]
fn bugzilla_rest_embeds_comments_history_and_attachments() {
    let bz = Arc::new(Bugzilla {
        ids: vec![3, 4, 9],
        ..Default::default()
    });
    let b2 = bz.clone();
    let server = Server::start(move |r| b2.handle(r));
    let (_dir, site) = site_with(&format!(
        "title = \"B\"\n[[tracker]]\nname = \"bz\"\nkey_prefix = \"BZ\"\npaths = [\"harvest/bz/*.json\"]\n[tracker.fetch]\nkind = \"bugzilla\"\napi = \"rest\"\nurl = \"{}\"\npage_size = 2\nbackoff_seconds = 0.01\nattachment_size_cap = 1000\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    assert_eq!(summary.trackers[0].issues, 3, "{summary}");
    assert_eq!(summary.trackers[0].attachments, 3, "{summary}");
    // Bug 9's 5000-byte log is over the cap: listed, its data never asked for.
    assert_eq!(summary.trackers[0].attachments_skipped, 1, "{summary}");
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.contains("/attachment?"))
            .all(|r| r.contains("exclude_fields=data")),
        "{requests:?}"
    );
    let data_asked: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("/rest/bug/attachment/"))
        .collect();
    assert!(
        data_asked
            .iter()
            .any(|r| r.starts_with("/rest/bug/attachment/37?attachment_ids=47")),
        "{data_asked:?}"
    );
    assert!(
        data_asked.iter().all(|r| !r.contains("98")),
        "{data_asked:?}"
    );
    let text = std::fs::read_to_string(site.join("harvest/bz/bugzilla-r0001-000002.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let files = v["bugs"][0]["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0]["data"], "YWJj");
    assert!(
        files[1].get("data").is_none() && files[1]["size"] == BIG,
        "{files:?}"
    );
    let issues = import(
        &site.join("harvest/bz"),
        hindsight::import::bugzilla_json::read_file,
        Some("BZ"),
    );
    assert_eq!(issues.len(), 3);
    let bug = &issues["BZ-9"];
    assert_eq!(bug.description.as_ref().unwrap().content, "Description 9");
    assert_eq!(
        bug.comments.len(),
        2,
        "the private one (admission drops it) and one more"
    );
    assert_eq!(bug.history.len(), 1);
    assert_eq!(bug.attachments.len(), 2, "the one over the cap is listed");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.starts_with("/rest/bug/3/comment?ids=4")),
        "{:?}",
        server.requests()
    );
}

#[test]
fn bugzilla_xml_attachments_over_the_cap_are_listed_not_downloaded() {
    let bz = Arc::new(Bugzilla {
        ids: vec![4, 14, 24, 30],
        ..Default::default()
    });
    let b2 = bz.clone();
    let server = Server::start(move |r| b2.handle(r));
    let (_dir, site) = site_with(&format!(
        "title = \"B\"\n[[tracker]]\nname = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"harvest/bugzilla/*.xml\"]\n[tracker.fetch]\nkind = \"bugzilla\"\nurl = \"{}\"\npage_size = 2\nbackoff_seconds = 0.01\nattachment_size_cap = 1000\nmax_in_flight = 1\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 4, "{summary}");
    assert_eq!((t.attachments, t.attachment_bytes), (3, 9), "{summary}");
    assert_eq!(t.attachments_skipped, 1, "{summary}");
    let requests: Vec<String> = server.requests();
    let shows: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("/show_bug.cgi"))
        .collect();
    // Batch 1 (4, 14): every attachment is small, so it is asked again with the data inline.
    // Batch 2 (24, 30): bug 24's log is over the cap, so only its patch is fetched, alone.
    assert_eq!(
        shows,
        [
            "/show_bug.cgi?ctype=xml&id=4&id=14&excludefield=attachmentdata",
            "/show_bug.cgi?ctype=xml&id=4&id=14",
            "/show_bug.cgi?ctype=xml&id=24&id=30&excludefield=attachmentdata",
        ],
        "{requests:?}"
    );
    let fetched: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("/attachment.cgi"))
        .collect();
    assert_eq!(
        fetched,
        ["/attachment.cgi?id=241&action=view"],
        "{requests:?}"
    );
    let folder = site.join("harvest/bugzilla");
    let second = std::fs::read_to_string(folder.join("bugzilla-r0001-000002.xml")).unwrap();
    assert!(second.contains("<attachid>242</attachid>") && second.contains("<size>5000</size>"));
    assert_eq!(
        second.matches("<data encoding=\"base64\">").count(),
        1,
        "{second}"
    );
    assert!(
        second.contains("<data encoding=\"base64\">YWJj</data>"),
        "{second}"
    );
    let issues = import(
        &folder,
        hindsight::import::bugzilla_xml::read_file,
        Some("BZ"),
    );
    assert_eq!(
        issues["BZ-24"].attachments.len(),
        2,
        "the one over the cap is listed"
    );
    assert_eq!(issues["BZ-4"].attachments.len(), 1);

    // A server that ignores `excludefield` sends the data anyway: it is taken out.
    let bz = Arc::new(Bugzilla {
        ids: vec![24],
        ..Default::default()
    });
    let b2 = bz.clone();
    let server = Server::start(move |r| {
        let mut r2 = Req {
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            target: r.target.clone(),
            headers: r.headers.clone(),
            body: Vec::new(),
        };
        r2.query.retain(|(k, _)| k != "excludefield");
        b2.handle(&r2)
    });
    let (_dir, site) = site_with(&format!(
        "title = \"B\"\n[[tracker]]\nname = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"harvest/bugzilla/*.xml\"]\n[tracker.fetch]\nkind = \"bugzilla\"\nurl = \"{}\"\nbackoff_seconds = 0.01\nattachment_size_cap = 1000\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!((t.attachments, t.attachments_skipped), (1, 1), "{summary}");
    let doc =
        std::fs::read_to_string(site.join("harvest/bugzilla/bugzilla-r0001-000001.xml")).unwrap();
    assert_eq!(doc.matches("<data").count(), 1, "{doc}");
    assert!(!doc.contains("xxxx"), "{doc}");
    assert!(doc.contains("<attachid>242</attachid>"));
    assert!(server
        .requests()
        .iter()
        .all(|r| !r.starts_with("/attachment.cgi")));
}

/// Sets the watermark of the harvest in `folder` (as if the last complete run started then).
fn set_watermark(folder: &Path, at: DateTime<Utc>) {
    let path = folder.join(".hindsight-fetch/state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["watermark"] = json!(at.to_rfc3339());
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
}

#[test]
fn bugzilla_incremental_runs_miss_no_change_late_on_the_last_runs_day() {
    // The server is at UTC−10 and `chfieldfrom` only takes a day there. The last run started
    // at 23:00 its time yesterday; bug 3 changed at 23:30, after that run had listed it; bug 5
    // changed three days before. The incremental run must ask from a day that still holds
    // 23:30 yesterday (a day in UTC would already be today there, and miss it).
    let local = chrono::FixedOffset::west_opt(10 * 3600).unwrap();
    let yesterday = Utc::now().with_timezone(&local).date_naive() - chrono::Duration::days(1);
    let at = |h: u32, m: u32| {
        yesterday
            .and_hms_opt(h, m, 0)
            .unwrap()
            .and_local_timezone(local)
            .unwrap()
            .with_timezone(&Utc)
    };
    let last_run = at(23, 0);
    for api in ["xml", "rest"] {
        let bz = Arc::new(Bugzilla {
            ids: vec![1, 2, 3, 4, 5],
            ..Default::default()
        });
        let b2 = bz.clone();
        let server = Server::start(move |r| b2.handle(r));
        let ext = if api == "xml" { "xml" } else { "json" };
        let (_dir, site) = site_with(&format!(
            "title = \"B\"\n[[tracker]]\nname = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"harvest/bugzilla/*.{ext}\"]\n[tracker.fetch]\nkind = \"bugzilla\"\napi = \"{api}\"\nurl = \"{}\"\nbackoff_seconds = 0.01\n",
            server.url()
        ));
        let summary = harvest(&site, false).unwrap();
        assert_eq!(summary.trackers[0].issues, 5, "{summary}");
        let folder = site.join("harvest/bugzilla");
        set_watermark(&folder, last_run);
        {
            let mut changed = bz.changed.lock().unwrap();
            changed.insert(3, at(23, 30));
            changed.insert(5, last_run - chrono::Duration::days(3));
        }
        server.clear_log();
        let summary = harvest(&site, false).unwrap();
        let t = &summary.trackers[0];
        assert!(!t.full);
        assert_eq!((t.issues, t.replaced), (1, 1), "{api}: {summary}");
        let keys = harvested_keys_of(&folder, api);
        assert_eq!(keys.len(), 5, "{api}: {keys:?}");
        assert!(keys.values().all(|&n| n == 1), "{api}: {keys:?}");
        let list = server.requests()[0].clone();
        if api == "xml" {
            let day = list
                .split("chfieldfrom=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap();
            assert!(
                day <= yesterday.format("%Y-%m-%d").to_string().as_str(),
                "{list}"
            );
        } else {
            // REST filters on the instant itself (less the overlap), no day rounding.
            let since: DateTime<Utc> = decode(
                list.split("last_change_time=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap(),
            )
            .parse()
            .unwrap();
            assert_eq!(since, last_run - chrono::Duration::minutes(10), "{list}");
        }
    }
}

/// The bug ids in the harvested Bugzilla files of `folder` (`xml` or `rest`), with counts.
fn harvested_keys_of(folder: &Path, api: &str) -> BTreeMap<String, usize> {
    if api == "xml" {
        return harvested_keys(folder, "bugzilla");
    }
    let mut keys = BTreeMap::new();
    for e in std::fs::read_dir(folder).unwrap() {
        let path = e.unwrap().path();
        if path.is_file() {
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for b in v["bugs"].as_array().unwrap() {
                *keys.entry(b["id"].to_string()).or_default() += 1;
            }
        }
    }
    keys
}

// ---------------------------------------------------------------------------------------------
// GitHub.

fn github_handler(
    req: &Req,
    base: &str,
    counts: &HashMap<&str, u64>,
    token_seen: &AtomicBool,
) -> Reply {
    if req.header("Authorization") == Some("Bearer gh-test-token") {
        token_seen.store(true, Ordering::SeqCst);
    }
    let parts: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    // /repos/O/R/issues[/N/(comments|timeline)]
    if parts.len() < 4 || parts[0] != "repos" || parts[3] != "issues" {
        return status(404, r#"{"message":"Not Found"}"#, &[]);
    }
    let repo = format!("{}/{}", parts[1], parts[2]);
    let Some(&n) = counts.get(repo.as_str()) else {
        return status(404, r#"{"message":"Not Found"}"#, &[]);
    };
    let page: u64 = req.param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let per_page: u64 = req
        .param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .min(4);
    let paged = |items: Vec<Value>, path: &str| {
        let total = items.len() as u64;
        let start = (page - 1) * per_page;
        let slice: Vec<Value> = items
            .into_iter()
            .skip(start as usize)
            .take(per_page as usize)
            .collect();
        let mut headers = vec![
            ("X-RateLimit-Remaining".to_string(), "4999".to_string()),
            ("X-RateLimit-Reset".to_string(), "0".to_string()),
        ];
        if start + per_page < total {
            let q = |page: u64| {
                let mut q: Vec<String> = req
                    .query
                    .iter()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                q.push(format!("page={page}"));
                q.join("&")
            };
            let last = total.div_ceil(per_page);
            headers.push((
                "Link".into(),
                format!(
                    "<{base}{path}?{}>; rel=\"next\", <{base}{path}?{}>; rel=\"last\"",
                    q(page + 1),
                    q(last)
                ),
            ));
        }
        Reply::Full {
            status: 200,
            headers,
            body: serde_json::to_vec(&slice).unwrap(),
        }
    };
    if parts.len() == 4 {
        assert_eq!(req.param("state"), Some("all"));
        let issues: Vec<Value> = (1..=n).map(|i| json!({
            "url": format!("{base}/repos/{repo}/issues/{i}"), "repository_url": format!("{base}/repos/{repo}"),
            "html_url": format!("https://github.com/{repo}/issues/{i}"), "id": 1000 + i, "number": i,
            "title": format!("Issue {i} of {repo}"), "user": {"login": "alice"}, "labels": [{"name": "bug", "color": "d73a4a"}],
            "state": if i % 2 == 0 { "closed" } else { "open" }, "locked": false, "assignees": [], "milestone": null,
            "comments": i % 3, "created_at": "2022-03-01T10:00:00Z", "updated_at": "2022-03-05T10:00:00Z",
            "closed_at": null, "body": "Steps:\r\n\r\n1. mount",
            "reactions": {"total_count": 1, "+1": 1},
            "pull_request": if i == 2 { json!({"url": "x", "merged_at": "2022-03-05T10:00:00Z"}) } else { Value::Null }
        })).map(|mut v| { if v["pull_request"].is_null() { v.as_object_mut().unwrap().remove("pull_request"); } v }).collect();
        return paged(issues, &req.path);
    }
    let number: u64 = parts[4].parse().unwrap_or(0);
    match parts.get(5) {
        Some(&"comments") => {
            let comments: Vec<Value> = (0..number % 3).map(|c| json!({"id": number * 10 + c, "user": {"login": "bob"}, "created_at": "2022-03-02T10:00:00Z", "updated_at": "2022-03-02T10:00:00Z", "body": format!("Comment {c}")})).collect();
            paged(comments, &req.path)
        }
        Some(&"timeline") => {
            let events = vec![
                json!({"event": "labeled", "actor": {"login": "bob"}, "created_at": "2022-03-01T11:00:00Z", "label": {"name": "bug", "color": "x"}}),
                json!({"event": "commented", "actor": {"login": "bob"}, "created_at": "2022-03-02T10:00:00Z", "body": "x"}),
            ];
            paged(events, &req.path)
        }
        _ => status(404, "", &[]),
    }
}

#[test]
fn github_repositories_with_comments_and_timelines_import() {
    let token_seen = Arc::new(AtomicBool::new(false));
    let base = Arc::new(Mutex::new(String::new()));
    let (b2, t2) = (base.clone(), token_seen.clone());
    let server = Server::start(move |req| {
        let counts: HashMap<&str, u64> = [("acme/fs", 9), ("acme/tools", 3)].into();
        let base = b2.lock().unwrap().clone();
        github_handler(req, &base, &counts, &t2)
    });
    *base.lock().unwrap() = server.url();
    std::env::set_var("HINDSIGHT_TEST_GH_TOKEN", "gh-test-token");
    let (_dir, site) = site_with(&format!(
        "title = \"G\"\n[[tracker]]\nname = \"github\"\npaths = [\"harvest/github/*.json\"]\n[tracker.fetch]\nkind = \"github\"\nurl = \"{}\"\nrepos = [\"acme/fs\", \"acme/tools\"]\ntoken_env = \"HINDSIGHT_TEST_GH_TOKEN\"\nbackoff_seconds = 0.01\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 12, "{summary}");
    assert_eq!(t.comments, 12, "{summary}");
    assert!(token_seen.load(Ordering::SeqCst));
    let folder = site.join("harvest/github");
    let keys = harvested_keys(&folder, "github");
    assert_eq!(keys.len(), 12);
    assert!(keys.contains_key("acme/tools#3") && keys.contains_key("acme/fs#9"));
    // Link paging: 9 issues at 4 a page.
    assert!(server
        .requests()
        .iter()
        .any(|r| r.starts_with("/repos/acme/fs/issues?") && r.contains("page=3")));
    // Read the fs pages (keys take the repository's name: `FS-2`).
    let text = std::fs::read_to_string(folder.join("github-r0001-000001.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[1]["reactions"]["+1"], 1);
    assert_eq!(v[1]["pull_request"]["merged_at"], "2022-03-05T10:00:00Z");
    assert_eq!(v[1]["comment_data"].as_array().unwrap().len(), 2);
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "github-r0001-000001.json",
        "github-r0001-000002.json",
        "github-r0001-000003.json",
    ] {
        std::fs::copy(folder.join(name), dir.path().join(name)).unwrap();
    }
    let issues = import(dir.path(), hindsight::import::github_json::read_file, None);
    assert_eq!(issues.len(), 9);
    assert_eq!(issues["FS-2"].comments.len(), 2);
    assert!(issues["FS-2"].pull_request);
    assert_eq!(issues["FS-2"].history.len(), 1, "the labeled event");

    // The next run passes `since`.
    server.clear_log();
    harvest(&site, false).unwrap();
    let first = server.requests()[0].clone();
    assert!(first.contains("since=20"), "{first}");
}

/// The pause between the request of `log` matching `first` and the next request after it.
fn gap_after(log: &Mutex<Vec<(Instant, String)>>, first: &str) -> Duration {
    let log = log.lock().unwrap();
    let i = log
        .iter()
        .position(|(_, t)| t.contains(first))
        .unwrap_or_else(|| panic!("no request {first}"));
    let next = log
        .get(i + 1)
        .unwrap_or_else(|| panic!("nothing after {first}"));
    next.0 - log[i].0
}

#[test]
fn rate_limits_are_waited_out_and_nothing_is_lost() {
    // GitHub: a 403 with `X-RateLimit-Remaining: 0` and a reset a second ahead on page 2, and
    // a 200 that uses the limit up on the first page of the second repository.
    let base = Arc::new(Mutex::new(String::new()));
    let times: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let limited = Arc::new(AtomicUsize::new(0));
    let (b2, t2, l2) = (base.clone(), times.clone(), limited.clone());
    let token_seen = Arc::new(AtomicBool::new(false));
    let server = Server::start(move |req| {
        t2.lock()
            .unwrap()
            .push((Instant::now(), req.target.clone()));
        let counts: HashMap<&str, u64> = [("acme/fs", 9), ("acme/tools", 3)].into();
        let base = b2.lock().unwrap().clone();
        let reset = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1)
        .to_string();
        if req.target.starts_with("/repos/acme/fs/issues?")
            && req.param("page") == Some("2")
            && l2.fetch_add(1, Ordering::SeqCst) == 0
        {
            return status(
                403,
                r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#,
                &[
                    ("X-RateLimit-Remaining", "0"),
                    ("X-RateLimit-Reset", reset.as_str()),
                ],
            );
        }
        let reply = github_handler(req, &base, &counts, &token_seen);
        match reply {
            Reply::Full {
                status,
                mut headers,
                body,
            } if req.target.starts_with("/repos/acme/tools/issues?")
                && req.param("page").is_none() =>
            {
                headers.retain(|(k, _)| !k.starts_with("X-RateLimit"));
                headers.push(("X-RateLimit-Remaining".into(), "0".into()));
                headers.push(("X-RateLimit-Reset".into(), reset));
                Reply::Full {
                    status,
                    headers,
                    body,
                }
            }
            r => r,
        }
    });
    *base.lock().unwrap() = server.url();
    let (_dir, site) = site_with(&format!(
        "title = \"G\"\n[[tracker]]\nname = \"github\"\npaths = [\"harvest/github/*.json\"]\n[tracker.fetch]\nkind = \"github\"\nurl = \"{}\"\nrepos = [\"acme/fs\", \"acme/tools\"]\nbackoff_seconds = 0.01\nmax_in_flight = 1\n",
        server.url()
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 12, "{summary}");
    assert_eq!(t.retries, 1, "{summary}");
    let keys = harvested_keys(&site.join("harvest/github"), "github");
    assert_eq!(keys.len(), 12);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    // The client waited for the reset (a second ahead, plus a second of margin at most).
    let gap = {
        // Measured after the refused page 2.
        let log = times.lock().unwrap();
        let i = log
            .iter()
            .position(|(_, t)| t.starts_with("/repos/acme/fs/issues?") && t.contains("&page=2"))
            .unwrap();
        log[i + 1].0 - log[i].0
    };
    assert!(
        gap >= Duration::from_millis(900) && gap < Duration::from_secs(4),
        "{gap:?}"
    );
    let gap = {
        let log = times.lock().unwrap();
        let i = log
            .iter()
            .position(|(_, t)| t.starts_with("/repos/acme/tools/issues?") && !t.contains("&page="))
            .unwrap();
        log[i + 1].0 - log[i].0
    };
    assert!(
        gap >= Duration::from_millis(900) && gap < Duration::from_secs(4),
        "a used-up limit on a 200 pauses the next request: {gap:?}"
    );

    // JIRA Cloud: 429 with `Retry-After: 2` on a token page.
    let jira = Jira::new(&[("LU", 12)], 5);
    jira.cloud.store(true, Ordering::SeqCst);
    jira.faults.add(
        "nextPageToken=tok-5",
        status(429, "Rate limit exceeded.", &[("Retry-After", "2")]),
    );
    let times: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let base = Arc::new(Mutex::new(String::new()));
    let (b2, t2, j2) = (base.clone(), times.clone(), jira.clone());
    let server = Server::start(move |req| {
        t2.lock()
            .unwrap()
            .push((Instant::now(), req.target.clone()));
        let base = b2.lock().unwrap().clone();
        j2.handle(req, &base)
    });
    *base.lock().unwrap() = server.url();
    let (_dir, site) = site_with(&jira_config(
        &server.url(),
        "jira_api = \"cloud\"\nmax_in_flight = 1\n",
    ));
    let summary = harvest(&site, false).unwrap();
    let t = &summary.trackers[0];
    assert_eq!(t.issues, 12, "{summary}");
    assert_eq!(t.retries, 1, "{summary}");
    let gap = gap_after(&times, "nextPageToken=tok-5");
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_secs(5),
        "{gap:?}"
    );
    let keys = harvested_keys(&site.join("harvest/jira"), "jira");
    assert_eq!(keys.len(), 12);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
}

#[test]
fn a_second_fetch_of_the_same_folder_fails_at_once() {
    let mut jira = Jira::new(&[("LU", 30)], 5);
    Arc::get_mut(&mut jira).unwrap().delay = Duration::from_millis(150);
    let server = start_jira(jira.clone());
    let (_dir, site) =
        site_with(&jira_config(&server.url(), "").replace("page_size = 50", "page_size = 5"));
    let folder = site.join("harvest/jira");
    let run = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hindsight"));
        c.args(["fetch", "--quiet"])
            .current_dir(&site)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    let first = run().spawn().unwrap();
    // Wait until the first one has written a page (it holds the lock by then).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0) < 2 {
        assert!(Instant::now() < deadline, "the first fetch wrote nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let second = run().output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "it waited");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("tracker jira")
            && stderr.contains("harvest/jira is being fetched")
            && stderr.contains("another hindsight fetch"),
        "{stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let keys = harvested_keys(&folder, "jira");
    assert_eq!(keys.len(), 30);
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    // The lock goes with the process: the next run takes it.
    let third = run().output().unwrap();
    assert!(
        third.status.success(),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
}

/// Records the totals a harvest gives its progress bar and the issues it advances by.
#[derive(Default)]
struct Progress {
    totals: Mutex<Vec<u64>>,
    done: std::sync::atomic::AtomicU64,
}

impl hindsight::fetch::Observer for Progress {
    fn stage_started(&self, _stage: &str, total: Option<u64>) {
        self.totals.lock().unwrap().extend(total);
    }
    fn set_total(&self, total: u64) {
        self.totals.lock().unwrap().push(total);
    }
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::SeqCst);
    }
}

#[test]
fn cloud_and_github_harvests_know_their_total() {
    // JIRA Cloud (found by the 410): the approximate count of the run's query, asked once.
    let jira = Jira::new(&[("LU", 23), ("LUDOC", 4)], 10);
    jira.cloud.store(true, Ordering::SeqCst);
    let server = start_jira(jira.clone());
    let (_dir, site) = site_with(&jira_config(&server.url(), ""));
    let progress = Progress::default();
    let summary = fetch(&targets(&site), &FetchOptions { full: false }, &progress).unwrap();
    assert_eq!(summary.trackers[0].issues, 27, "{summary}");
    assert_eq!(*progress.totals.lock().unwrap(), [27]);
    assert_eq!(progress.done.load(Ordering::SeqCst), 27);
    let counts: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.contains("approximate-count"))
        .collect();
    assert_eq!(counts, ["POST /rest/api/3/search/approximate-count"]);

    // An incremental run counts only what changed.
    {
        let mut all = jira.issues.lock().unwrap();
        for n in [2, 9] {
            all.get_mut(&("LU".into(), n)).unwrap().updated = Utc::now();
        }
    }
    let progress = Progress::default();
    let summary = fetch(&targets(&site), &FetchOptions { full: false }, &progress).unwrap();
    assert_eq!(summary.trackers[0].issues, 2, "{summary}");
    assert_eq!(*progress.totals.lock().unwrap(), [2]);

    // A site that refuses the count (an older Cloud, an unbounded query): no total, no error.
    jira.faults.add(
        "approximate-count",
        status(404, r#"{"errorMessages":["Not found"]}"#, &[]),
    );
    let progress = Progress::default();
    let summary = fetch(&targets(&site), &FetchOptions { full: true }, &progress).unwrap();
    assert_eq!(summary.trackers[0].issues, 27, "{summary}");
    assert!(progress.totals.lock().unwrap().is_empty());

    // GitHub: each repository's first page with per_page=1, whose `rel="last"` is the count.
    let base = Arc::new(Mutex::new(String::new()));
    let b2 = base.clone();
    let server = Server::start(move |req| {
        let counts: HashMap<&str, u64> = [("acme/fs", 9), ("acme/tools", 3)].into();
        let base = b2.lock().unwrap().clone();
        github_handler(req, &base, &counts, &AtomicBool::new(false))
    });
    *base.lock().unwrap() = server.url();
    let (_dir, site) = site_with(&format!(
        "title = \"G\"\n[[tracker]]\nname = \"github\"\npaths = [\"harvest/github/*.json\"]\n[tracker.fetch]\nkind = \"github\"\nurl = \"{}\"\nrepos = [\"acme/fs\", \"acme/tools\"]\nbackoff_seconds = 0.01\n",
        server.url()
    ));
    let progress = Progress::default();
    let summary = fetch(&targets(&site), &FetchOptions { full: false }, &progress).unwrap();
    assert_eq!(summary.trackers[0].issues, 12, "{summary}");
    assert_eq!(*progress.totals.lock().unwrap(), [12]);
    assert_eq!(progress.done.load(Ordering::SeqCst), 12);
    let counted: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.contains("per_page=1&"))
        .collect();
    assert_eq!(counted.len(), 2, "{counted:?}");
}

#[test]
fn netrc_credentials_reach_the_server_and_nothing_else() {
    // `~/.netrc` (HOME is a temporary folder) holds the only credential; the server refuses
    // anything without it, and refuses the second search page once (403) to get an error.
    const PASSWORD: &str = "n3trc-Pa55word-do-not-leak";
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("archivist:{PASSWORD}")
        )
    );
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".netrc"),
        format!("machine example.org login other password nope\nmachine 127.0.0.1\n  login archivist\n  password {PASSWORD}\n"),
    )
    .unwrap();
    let jira = Jira::new(&[("LU", 30)], 10);
    jira.faults.add(
        "key%20%3E%20%22LU-10%22",
        status(403, r#"{"errorMessages":["Forbidden for now."]}"#, &[]),
    );
    let unauthorized = Arc::new(AtomicUsize::new(0));
    let base = Arc::new(Mutex::new(String::new()));
    let (b2, j2, u2, expected) = (
        base.clone(),
        jira.clone(),
        unauthorized.clone(),
        basic.clone(),
    );
    let server = Server::start(move |req| {
        if req.header("Authorization") != Some(expected.as_str()) {
            u2.fetch_add(1, Ordering::SeqCst);
            return status(
                401,
                r#"{"errorMessages":["You are not authenticated."]}"#,
                &[],
            );
        }
        let base = b2.lock().unwrap().clone();
        j2.handle(req, &base)
    });
    *base.lock().unwrap() = server.url();
    let (_dir, site) = site_with(&jira_config(
        &server.url(),
        "contact = \"archive@example.org\"\n",
    ));
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hindsight"))
            .arg("fetch")
            .current_dir(&site)
            .env("HOME", home.path())
            .env_remove("NETRC")
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(!first.status.success(), "{stderr}");
    assert!(
        stderr.contains("HTTP 403") && stderr.contains("Forbidden for now"),
        "{stderr}"
    );
    let second = run();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(second.status.success(), "{out}");
    assert!(out.contains("(resumed)"), "{out}");
    assert_eq!(
        unauthorized.load(Ordering::SeqCst),
        0,
        "a request went without the credential"
    );
    assert_eq!(harvested_keys(&site.join("harvest/jira"), "jira").len(), 30);
    // Neither the password nor its Basic form is in any output or any file written.
    let token = basic.trim_start_matches("Basic ");
    for text in [&stderr, &out] {
        assert!(!text.contains(PASSWORD) && !text.contains(token), "{text}");
    }
    let mut files = 0;
    for root in [&site, &home.path().to_path_buf()] {
        for e in walkdir::WalkDir::new(root) {
            let e = e.unwrap();
            if e.file_type().is_file() && e.file_name() != ".netrc" {
                files += 1;
                let bytes = std::fs::read(e.path()).unwrap();
                for secret in [PASSWORD, token] {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{} holds the credential",
                        e.path().display()
                    );
                }
            }
        }
    }
    assert!(files >= 5, "{files}");
}
