//! The polite HTTP client every harvester goes through: at most `max_in_flight` requests at
//! once, `Retry-After` and `X-RateLimit-Remaining/Reset` honoured for every thread, exponential
//! backoff with jitter on 429, 5xx, timeouts, cut connections and malformed answers, a clear
//! `User-Agent`, and credentials sent only to the tracker's own host, never printed.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::error::{redact, server_said, FetchError, Unexpected};

/// The longest a server may make us wait in one go (`Retry-After`, a rate-limit reset).
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// The largest API answer read into memory.
const MAX_BODY: u64 = 1 << 30;

/// A credential: the value of an `Authorization` header. Its `Debug` shows nothing.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Counts of what went over the wire, for the summary.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub bytes: AtomicU64,
}

/// How the client behaves; from the `[tracker.fetch]` table.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub max_in_flight: usize,
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub user_agent: String,
}

/// An answer with a status the caller accepts.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Link` header's `rel="next"` address.
    pub next: Option<String>,
    /// The `Link` header's `rel="last"` address.
    pub last: Option<String>,
}

/// A counting semaphore: the in-flight limit.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Slot<'a>(&'a Slots);

impl Slots {
    fn acquire(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// One tracker's HTTP client, shared by the harvest's threads.
pub(crate) struct Client {
    tracker: String,
    agent: ureq::Agent,
    settings: Settings,
    auth: Option<Secret>,
    /// `host[:port]` of the tracker: the only authority credentials go to.
    auth_authority: String,
    headers: Vec<(String, String)>,
    slots: Slots,
    /// No request starts before this instant (a 429's `Retry-After`, a rate-limit reset).
    pause: Mutex<Option<Instant>>,
    rng: Mutex<u64>,
    pub stats: Stats,
}

/// What one attempt came to.
enum Attempt<T> {
    Done(T),
    /// Try again after at least this long (`None`: the backoff decides).
    Retry(FetchError, Option<Duration>),
    Fail(FetchError),
}

impl Client {
    /// A client for `tracker`, whose base address is `base_url`; `headers` go with every
    /// request (`Accept`, API versions).
    pub fn new(
        tracker: &str,
        base_url: &str,
        settings: Settings,
        auth: Option<Secret>,
        headers: Vec<(String, String)>,
    ) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(settings.user_agent.as_str())
            .timeout_connect(Some(settings.timeout))
            .timeout_send_request(Some(settings.timeout))
            .timeout_recv_response(Some(settings.timeout))
            .timeout_recv_body(Some(settings.timeout * 10))
            .timeout_per_read(Some(settings.timeout))
            .max_idle_connections_per_host(settings.max_in_flight.max(1) * 2)
            .build();
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        Client {
            tracker: tracker.to_string(),
            agent: ureq::Agent::new_with_config(config),
            slots: Slots {
                free: Mutex::new(settings.max_in_flight.max(1)),
                freed: Condvar::new(),
            },
            settings,
            auth,
            auth_authority: authority(base_url).to_string(),
            headers,
            pause: Mutex::new(None),
            rng: Mutex::new(seed),
            stats: Stats::default(),
        }
    }

    /// GETs `url` and hands a 2xx answer (or one whose status is in `accept`) to `parse`;
    /// an answer `parse` refuses is retried like a cut connection, then reported as malformed.
    pub fn get_parsed<T>(
        &self,
        url: &str,
        accept: &[u16],
        parse: impl Fn(&Answer) -> Result<T, Unexpected>,
    ) -> Result<T, FetchError> {
        self.with_retries(
            url,
            None,
            |answer| self.attempt(url, parse(&answer)),
            accept,
        )
    }

    /// A parsed answer is done; one that could not be parsed is retried, and reported as
    /// malformed if it never parses.
    fn attempt<T>(&self, url: &str, parsed: Result<T, Unexpected>) -> Attempt<T> {
        match parsed {
            Ok(v) => Attempt::Done(v),
            Err(u) => Attempt::Retry(
                FetchError::Malformed {
                    tracker: self.tracker.clone(),
                    url: redact(url),
                    what: u.what,
                    source: u.source,
                },
                None,
            ),
        }
    }

    /// POSTs the JSON document `body` to `url` and hands a 2xx answer to `parse`, retried and
    /// reported as [`Client::get_parsed`] does (the request only reads, so a retry is safe).
    pub fn post_parsed<T>(
        &self,
        url: &str,
        body: &serde_json::Value,
        parse: impl Fn(&Answer) -> Result<T, Unexpected>,
    ) -> Result<T, FetchError> {
        let body = serde_json::to_vec(body).map_err(|e| FetchError::Malformed {
            tracker: self.tracker.clone(),
            url: redact(url),
            what: "cannot write the request".into(),
            source: Some(Box::new(e)),
        })?;
        self.with_retries(
            url,
            Some(&body),
            |answer| self.attempt(url, parse(&answer)),
            &[],
        )
    }

    /// GETs `url` into memory unless it is larger than `cap` bytes (by its `Content-Length`,
    /// or counted while reading, which stops at `cap + 1`): the body, or `None` when over.
    pub fn get_capped(&self, url: &str, cap: u64) -> Result<Option<Vec<u8>>, FetchError> {
        self.attempts(url, None, |response| {
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return None;
            }
            if response
                .body()
                .content_length()
                .is_some_and(|len| len > cap)
            {
                return Some(Attempt::Done(None));
            }
            let mut body = Vec::new();
            let read = response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .reader()
                .take(cap + 1)
                .read_to_end(&mut body);
            self.stats
                .bytes
                .fetch_add(body.len() as u64, Ordering::Relaxed);
            match read {
                Err(e) => Some(Attempt::Retry(self.unreachable(url, e), None)),
                Ok(_) if body.len() as u64 > cap => Some(Attempt::Done(None)),
                Ok(_) => Some(Attempt::Done(Some(body))),
            }
        })
    }

    /// GETs a JSON document.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, FetchError> {
        self.get_parsed(url, &[], |a| {
            serde_json::from_slice(&a.body).map_err(|e| Unexpected {
                what: "not the JSON expected".into(),
                source: Some(Box::new(e)),
            })
        })
    }

    /// Downloads `url` into `dest` (through a temporary file beside it, renamed when complete)
    /// unless it is larger than `cap` bytes. Returns the size written, or `None` when the file
    /// was over the cap.
    pub fn download(&self, url: &str, dest: &Path, cap: u64) -> Result<Option<u64>, FetchError> {
        let tracker = self.tracker.clone();
        let io = |p: &Path, e: std::io::Error| FetchError::io(&tracker, p, e);
        let folder = dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
        self.attempts(url, None, |response| {
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return None;
            }
            if let Some(len) = response.body().content_length() {
                if len > cap {
                    return Some(Attempt::Done(None));
                }
            }
            let tmp = dest.with_file_name(format!(
                ".{}.part",
                dest.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            let mut file = match std::fs::File::create(&tmp) {
                Ok(f) => f,
                Err(e) => return Some(Attempt::Fail(io(&tmp, e))),
            };
            let mut reader = response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .reader()
                .take(cap + 1);
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        total += n as u64;
                        if let Err(e) = file.write_all(&buf[..n]) {
                            let _ = std::fs::remove_file(&tmp);
                            return Some(Attempt::Fail(io(&tmp, e)));
                        }
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        self.stats.bytes.fetch_add(total, Ordering::Relaxed);
                        return Some(Attempt::Retry(self.unreachable(url, e), None));
                    }
                }
            }
            self.stats.bytes.fetch_add(total, Ordering::Relaxed);
            if total > cap {
                let _ = std::fs::remove_file(&tmp);
                return Some(Attempt::Done(None));
            }
            if let Err(e) = file.sync_all().and_then(|_| std::fs::rename(&tmp, dest)) {
                let _ = std::fs::remove_file(&tmp);
                return Some(Attempt::Fail(io(dest, e)));
            }
            Some(Attempt::Done(Some(total)))
        })
    }

    /// Reads whole answers and lets `judge` decide on those with an accepted status.
    fn with_retries<T>(
        &self,
        url: &str,
        post: Option<&[u8]>,
        judge: impl Fn(Answer) -> Attempt<T>,
        accept: &[u16],
    ) -> Result<T, FetchError> {
        self.attempts(url, post, |response| {
            let status = response.status().as_u16();
            if !(200..300).contains(&status) && !accept.contains(&status) {
                return None;
            }
            let link = |rel: &str| {
                response
                    .headers()
                    .get_all("link")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(|h| link_rel(h, rel))
            };
            let (next, last) = (link("next"), link("last"));
            let body = response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec();
            match body {
                Ok(body) => {
                    self.stats
                        .bytes
                        .fetch_add(body.len() as u64, Ordering::Relaxed);
                    Some(judge(Answer {
                        status,
                        body,
                        next,
                        last,
                    }))
                }
                Err(e) => Some(Attempt::Retry(
                    FetchError::Malformed {
                        tracker: self.tracker.clone(),
                        url: redact(url),
                        what: format!("the answer was cut short ({e})"),
                        source: Some(Box::new(e)),
                    },
                    None,
                )),
            }
        })
    }

    /// The retry loop: a GET of `url`, or a POST of the JSON `post`. `handle` deals with an
    /// answer whose status it accepts and returns `None` for others, which are then retried
    /// (429, 5xx) or reported (4xx).
    fn attempts<T>(
        &self,
        url: &str,
        post: Option<&[u8]>,
        mut handle: impl FnMut(&mut ureq::http::Response<ureq::Body>) -> Option<Attempt<T>>,
    ) -> Result<T, FetchError> {
        let mut attempt = 0u32;
        loop {
            self.wait_for_pause();
            let outcome = {
                let _slot = self.slots.acquire();
                // A pause that began while this request waited for its slot (the answer
                // before it used the rate limit up) holds it too.
                self.wait_for_pause();
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                let sent = match post {
                    None => self.decorate(url, self.agent.get(url)).call(),
                    Some(body) => self
                        .decorate(url, self.agent.post(url))
                        .header("Content-Type", "application/json")
                        .send(body),
                };
                match sent {
                    Err(e) => Attempt::Retry(self.unreachable(url, e), None),
                    Ok(mut response) => {
                        let limits = RateHeaders::of(&response);
                        if let Some(reset) = limits.exhausted_until() {
                            self.pause_until(reset);
                        }
                        let status = response.status().as_u16();
                        match handle(&mut response) {
                            Some(a) => a,
                            None => self.refused(url, status, &limits, &mut response),
                        }
                    }
                }
            };
            match outcome {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, wait) => {
                    if attempt >= self.settings.retries {
                        return Err(e);
                    }
                    let wait = wait.unwrap_or_else(|| self.backoff(attempt)).min(MAX_WAIT);
                    self.pause_until(Instant::now() + wait);
                    attempt += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// A request with the client's headers, and the credential when it goes to the tracker's
    /// own host.
    fn decorate<B>(
        &self,
        url: &str,
        mut request: ureq::RequestBuilder<B>,
    ) -> ureq::RequestBuilder<B> {
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(secret) = &self.auth {
            if authority(url) == self.auth_authority {
                request = request.header("Authorization", secret.0.as_str());
            }
        }
        request
    }

    /// An answer with a status the caller does not accept: retried when the server asks for
    /// it (429, 5xx, a rate-limit 403), else the server's words.
    fn refused<T>(
        &self,
        url: &str,
        status: u16,
        limits: &RateHeaders,
        response: &mut ureq::http::Response<ureq::Body>,
    ) -> Attempt<T> {
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .unwrap_or_default();
        self.stats
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        let error = FetchError::Status {
            tracker: self.tracker.clone(),
            url: redact(url),
            status,
            said: server_said(&body),
        };
        let rate_limited = status == 429
            || (status == 403 && (limits.remaining == Some(0) || limits.retry_after.is_some()));
        if rate_limited || status >= 500 {
            let wait = limits
                .retry_after
                .or_else(|| limits.exhausted_until().map(|t| t - Instant::now()));
            Attempt::Retry(error, wait)
        } else {
            Attempt::Fail(error)
        }
    }

    fn unreachable(
        &self,
        url: &str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> FetchError {
        FetchError::Unreachable {
            tracker: self.tracker.clone(),
            url: redact(url),
            what: e.to_string(),
            source: Box::new(e),
        }
    }

    fn pause_until(&self, until: Instant) {
        let mut pause = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        let until = until.min(Instant::now() + MAX_WAIT);
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    fn wait_for_pause(&self) {
        loop {
            let until = *self.pause.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => std::thread::sleep(t - Instant::now()),
                _ => return,
            }
        }
    }

    /// Exponential backoff with jitter: `backoff × 2^attempt`, at most a minute, times a random
    /// factor in [0.5, 1).
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .settings
            .backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(Duration::from_secs(60));
        let mut x = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        // xorshift64*
        *x ^= *x >> 12;
        *x ^= *x << 25;
        *x ^= *x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        let unit = r as f64 / (1u64 << 53) as f64;
        base.mul_f64(0.5 + unit / 2.0)
    }
}

/// Rate-limit headers of an answer.
struct RateHeaders {
    retry_after: Option<Duration>,
    remaining: Option<u64>,
    reset: Option<u64>,
}

impl RateHeaders {
    fn of(response: &ureq::http::Response<ureq::Body>) -> Self {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .map(str::to_string)
        };
        RateHeaders {
            retry_after: header("retry-after").and_then(|v| retry_after(&v)),
            remaining: header("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            reset: header("x-ratelimit-reset").and_then(|v| v.parse().ok()),
        }
    }

    /// When the rate limit is used up: the reset instant (epoch seconds) as an `Instant`.
    fn exhausted_until(&self) -> Option<Instant> {
        if self.remaining != Some(0) {
            return None;
        }
        let reset = self.reset?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        // A reset given as seconds from now (some servers) rather than an epoch time.
        let wait = if reset > 1_000_000_000 {
            reset.saturating_sub(now)
        } else {
            reset
        };
        Some(Instant::now() + Duration::from_secs(wait + 1).min(MAX_WAIT))
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(v: &str) -> Option<Duration> {
    if let Ok(s) = v.parse::<f64>() {
        if s.is_finite() && s >= 0.0 {
            return Some(Duration::from_secs_f64(s.min(MAX_WAIT.as_secs_f64())));
        }
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::Utc::now();
    let secs = (when.with_timezone(&chrono::Utc) - now)
        .num_seconds()
        .max(0) as u64;
    Some(Duration::from_secs(secs))
}

/// The address of a `Link` header with relation `rel` (`next`, `last`).
fn link_rel(header: &str, rel: &str) -> Option<String> {
    let quoted = format!("rel=\"{rel}\"");
    let bare = format!("rel={rel}");
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == quoted || p == bare
            })
            .then(|| url.to_string())
    })
}

/// `host[:port]` of a URL, lower case, without user info.
pub(crate) fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    auth.to_ascii_lowercase()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard base64, for `Authorization: Basic`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The credential for `host` in a `.netrc` file's text: `(login, password)`.
pub(crate) fn netrc_lookup(text: &str, host: &str) -> Option<(String, String)> {
    let mut tokens = text.split_whitespace();
    let mut current: Option<bool> = None;
    let (mut login, mut password) = (None, None);
    let mut found: Option<(String, String)> = None;
    let mut default: Option<(String, String)> = None;
    let finish = |current: Option<bool>,
                  login: &mut Option<String>,
                  password: &mut Option<String>,
                  found: &mut Option<(String, String)>,
                  default: &mut Option<(String, String)>| {
        if let (Some(is_match), Some(l), Some(p)) = (current, login.take(), password.take()) {
            if is_match && found.is_none() {
                *found = Some((l, p));
            } else if !is_match && default.is_none() {
                *default = Some((l, p));
            }
        }
    };
    while let Some(t) = tokens.next() {
        match t {
            "machine" => {
                finish(current, &mut login, &mut password, &mut found, &mut default);
                let name = tokens.next().unwrap_or("");
                // A machine that is not ours: remember it as a non-default non-match.
                current = Some(name.eq_ignore_ascii_case(host));
                if current == Some(false) {
                    current = None;
                }
            }
            "default" => {
                finish(current, &mut login, &mut password, &mut found, &mut default);
                current = Some(false);
            }
            "login" => login = tokens.next().map(str::to_string),
            "password" => password = tokens.next().map(str::to_string),
            "account" => {
                tokens.next();
            }
            "macdef" => {
                // A macro runs to the next blank line, which split_whitespace cannot see: stop.
                break;
            }
            _ => {}
        }
    }
    finish(current, &mut login, &mut password, &mut found, &mut default);
    found.or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page() {
        let h = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=9>; rel="last""#;
        assert_eq!(
            link_rel(h, "next").as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        assert_eq!(
            link_rel(h, "last").as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=9")
        );
        assert_eq!(link_rel(r#"<https://x/?page=1>; rel="prev""#, "next"), None);
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn base64_and_percent_encoding() {
        assert_eq!(base64(b"bob:hunter2"), "Ym9iOmh1bnRlcjI=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(encode("key > \"LU-9\""), "key%20%3E%20%22LU-9%22");
    }

    #[test]
    fn netrc_finds_the_machine_then_the_default() {
        let text = "machine other.org login x password y\nmachine JIRA.example.org\n  login bob\n  password s3cret\ndefault login anon password none\n";
        assert_eq!(
            netrc_lookup(text, "jira.example.org"),
            Some(("bob".into(), "s3cret".into()))
        );
        assert_eq!(
            netrc_lookup(text, "elsewhere"),
            Some(("anon".into(), "none".into()))
        );
        assert_eq!(netrc_lookup("machine a login b password c", "z"), None);
    }

    #[test]
    fn authority_is_host_and_port_without_user_info() {
        assert_eq!(
            authority("https://u:p@Jira.Example.org:8443/x?y"),
            "jira.example.org:8443"
        );
        assert_eq!(authority("http://127.0.0.1:9/"), "127.0.0.1:9");
    }
}
