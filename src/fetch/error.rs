//! The harvest's errors: each is one line that names the tracker, the URL (never with
//! credentials) and what the server said, so the archive keeper can act on it without a log.

use std::path::PathBuf;

/// Anything that stops a harvest. What was fetched before it stays on disk and is used by the
/// next run.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The `[tracker.fetch]` table cannot be used as written (missing key, unset variable…).
    #[error("tracker {tracker}: {message}")]
    Config {
        /// The tracker's name.
        tracker: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The server could not be reached, or the connection failed after every retry.
    #[error("tracker {tracker}: {url}: {what}")]
    Unreachable {
        /// The tracker's name.
        tracker: String,
        /// The address, without credentials.
        url: String,
        /// What happened (timeout, refused, reset…).
        what: String,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered with an error status (after retries for 429 and 5xx).
    #[error("tracker {tracker}: {url}: HTTP {status}: {said}")]
    Status {
        /// The tracker's name.
        tracker: String,
        /// The address, without credentials.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What the server said: its error message, or the start of its answer.
        said: String,
    },
    /// The server's answer is not what the API returns (truncated, malformed, an HTML page).
    #[error("tracker {tracker}: {url}: unreadable answer: {what}")]
    Malformed {
        /// The tracker's name.
        tracker: String,
        /// The address, without credentials.
        url: String,
        /// What is wrong with it.
        what: String,
        /// The parser's error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A harvested file, the state file or an attachment could not be written or read.
    #[error("tracker {tracker}: {}: {source}", path.display())]
    Io {
        /// The tracker's name.
        tracker: String,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another `hindsight fetch` holds the folder's lock: one harvest per folder at a time.
    #[error("tracker {tracker}: {} is being fetched by another hindsight fetch; try again when it has finished", folder.display())]
    Locked {
        /// The tracker's name.
        tracker: String,
        /// The tracker's harvest folder.
        folder: PathBuf,
    },
}

/// What was wrong with an answer or a harvested file, in words (`not a JIRA search page: …`),
/// with the parser's error as its source when there is one. It becomes
/// [`FetchError::Malformed`], which adds the tracker and the address.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Unexpected {
    /// What is wrong.
    pub what: String,
    /// The parser's error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl From<String> for Unexpected {
    fn from(what: String) -> Self {
        Unexpected { what, source: None }
    }
}

impl From<&str> for Unexpected {
    fn from(what: &str) -> Self {
        what.to_string().into()
    }
}

impl FetchError {
    /// An I/O error on `path` while harvesting `tracker`.
    pub(crate) fn io(tracker: &str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FetchError::Io {
            tracker: tracker.to_string(),
            path: path.into(),
            source,
        }
    }

    /// A configuration problem of `tracker`.
    pub(crate) fn config(tracker: &str, message: impl Into<String>) -> Self {
        FetchError::Config {
            tracker: tracker.to_string(),
            message: message.into(),
        }
    }

    /// An answer that is not what the API returns.
    pub(crate) fn malformed(tracker: &str, url: &str, what: impl Into<String>) -> Self {
        FetchError::Malformed {
            tracker: tracker.to_string(),
            url: redact(url),
            what: what.into(),
            source: None,
        }
    }
}

/// `url` without user name and password, and with the values of query parameters that carry
/// secrets (`token`, `access_token`, `api_key`, `password`, `Bugzilla_api_key`…) masked: what
/// may appear in an error, a log or the progress line.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(host_end);
    let authority = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let (query, fragment) = match query.find('#') {
                Some(h) => query.split_at(h),
                None => (query, ""),
            };
            let masked: Vec<String> = query
                .split('&')
                .map(|pair| {
                    let name = pair.split('=').next().unwrap_or("");
                    let lower = name.to_ascii_lowercase();
                    if ["token", "key", "password", "secret", "login"]
                        .iter()
                        .any(|s| lower.contains(s))
                        && pair.contains('=')
                    {
                        format!("{name}=***")
                    } else {
                        pair.to_string()
                    }
                })
                .collect();
            format!("{path}{}{fragment}", masked.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}{authority}{tail}")
}

/// What the server said in an error answer: JIRA's `errorMessages`/`errors`, Bugzilla's and
/// GitHub's `message`, else the start of the text on one line.
pub(crate) fn server_said(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let mut parts: Vec<String> = Vec::new();
        if let Some(list) = v.get("errorMessages").and_then(|m| m.as_array()) {
            parts.extend(list.iter().filter_map(|m| m.as_str()).map(str::to_string));
        }
        if let Some(map) = v.get("errors").and_then(|m| m.as_object()) {
            parts.extend(
                map.iter()
                    .map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or(&m.to_string()))),
            );
        }
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            parts.push(m.to_string());
        }
        if !parts.is_empty() {
            return one_line(&parts.join("; "));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = strip_tags(&text);
    if text.trim().is_empty() {
        "(empty answer)".to_string()
    } else {
        one_line(&text)
    }
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Text on one line, at most 300 characters.
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > 300 {
        let cut: String = joined.chars().take(300).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_secret_parameters() {
        assert_eq!(
            redact("https://bob:hunter2@jira.example.org/rest/api/2/search?jql=x"),
            "https://jira.example.org/rest/api/2/search?jql=x"
        );
        assert_eq!(
            redact("https://bz.example.org/rest/bug?id=1&Bugzilla_api_key=abc&api_token=z#x"),
            "https://bz.example.org/rest/bug?id=1&Bugzilla_api_key=***&api_token=***#x"
        );
        assert_eq!(redact("http://h:1/p"), "http://h:1/p");
    }

    #[test]
    fn the_servers_own_words_are_quoted() {
        assert_eq!(
            server_said(br#"{"errorMessages":["The value 'NOPE' does not exist for the field 'project'."],"errors":{}}"#),
            "The value 'NOPE' does not exist for the field 'project'."
        );
        assert_eq!(
            server_said(br#"{"message":"Bad credentials","documentation_url":"x"}"#),
            "Bad credentials"
        );
        assert_eq!(
            server_said(b"<html><body><h1>Unauthorized</h1>\n\n</body></html>"),
            "Unauthorized"
        );
        assert_eq!(server_said(b""), "(empty answer)");
    }
}
