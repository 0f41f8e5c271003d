//! `hindsight serve`: a local preview of a built site over HTTP on the loopback interface.
//!
//! Opening the site from disk already works; this exists for what `file://` cannot show (how a
//! web host will serve it: MIME types, `index.html` for folders, 404s). It serves files only,
//! read-only, never outside the site folder, and listens on 127.0.0.1 unless told otherwise.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A running preview server.
pub struct Preview {
    server: tiny_http::Server,
    root: PathBuf,
}

impl Preview {
    /// Binds `addr` (e.g. `127.0.0.1:8000`, port 0 for any free one) to serve `root`.
    pub fn bind(root: &Path, addr: SocketAddr) -> Result<Preview> {
        if !root.join("index.html").is_file() {
            return Err(Error::io(
                root,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no index.html here: is this a built site?",
                ),
            ));
        }
        let server = tiny_http::Server::http(addr).map_err(|e| {
            Error::io(
                root,
                std::io::Error::new(std::io::ErrorKind::AddrInUse, format!("{addr}: {e}")),
            )
        })?;
        Ok(Preview {
            server,
            root: root.to_path_buf(),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Serves requests until the process ends (or, with `limit`, that many requests).
    pub fn run(&self, limit: Option<usize>) {
        for (served, request) in self.server.incoming_requests().enumerate() {
            let response = self.respond(request.method(), request.url());
            let _ = request.respond(response);
            if limit.is_some_and(|l| served + 1 >= l) {
                break;
            }
        }
    }

    fn respond(
        &self,
        method: &tiny_http::Method,
        url: &str,
    ) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        use tiny_http::{Header, Method, Response};
        let text = |code: u16, msg: &str| {
            Response::from_string(msg.to_string())
                .with_status_code(code)
                .with_header(
                    Header::from_bytes("Content-Type", "text/plain; charset=utf-8").unwrap(),
                )
        };
        if !matches!(method, Method::Get | Method::Head) {
            return text(405, "only GET and HEAD are served");
        }
        let Some(path) = resolve(&self.root, url) else {
            return text(404, "not found");
        };
        // As static hosts do: a folder without its slash is redirected, the query kept, so
        // relative links inside its index.html resolve.
        let (url_path, query) = url.split_once('?').unwrap_or((url, ""));
        if path.ends_with("index.html") && !url_path.ends_with('/') && !url_path.ends_with(".html")
        {
            let location = if query.is_empty() {
                format!("{url_path}/")
            } else {
                format!("{url_path}/?{query}")
            };
            return text(301, "moved")
                .with_header(Header::from_bytes("Location", location).unwrap());
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mime = mime_guess::from_path(&path).first_or_octet_stream();
                let mut ty = mime.essence_str().to_string();
                if ty.starts_with("text/")
                    || ty == "application/javascript"
                    || ty == "image/svg+xml"
                {
                    ty.push_str("; charset=utf-8");
                }
                Response::from_data(bytes)
                    .with_header(Header::from_bytes("Content-Type", ty).unwrap())
                    .with_header(Header::from_bytes("X-Content-Type-Options", "nosniff").unwrap())
            }
            Err(_) => text(404, "not found"),
        }
    }
}

/// The file a request path names inside `root`, or `None` when it does not exist or would
/// leave the folder. Folders serve their `index.html`.
fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    out.is_file().then_some(out)
}

/// The path of a request, percent-decoded; `None` when it is not UTF-8 or holds a NUL.
fn percent_decode(s: &str) -> Option<String> {
    let s = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    (!s.contains('\0')).then(|| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_site() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("a/index.html"), "x").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/a/?q=1"), Some(root.join("a/index.html")));
        assert_eq!(resolve(&root, "/../secret"), None);
        assert_eq!(resolve(&root, "/%2e%2e/secret"), None);
        assert_eq!(resolve(&root, "/a/%00"), None);
    }
}
