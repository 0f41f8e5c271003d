//! Attachment files into the site.
//!
//! Bugzilla XML can carry an attachment's bytes (base64); JIRA keeps them in its attachments
//! folder (`<PROJECT>/<bucket>/<KEY>/<attachment id>`), which the tracker's `attachments` setting
//! points at. Either way a file under the size cap is written through the page sink at
//! `attachments/<PROJECT>/<bucket>/<attachment id>/<safe name>`: the id folder is unique, so two
//! names that differ only in case never meet, and the name is reduced to characters every file
//! system accepts. Files over the cap are listed on the issue page without a link.

use std::path::{Component, Path, PathBuf};

use crate::config::{Config, TrackerConfig};
use crate::error::{Error, Result};
use crate::model::{Attachment, AttachmentContent, Issue};

/// What became of one attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written at this site-relative path.
    Written(String),
    /// Not written; the note says why (too large, unreadable). `None`: the archive has no bytes.
    Skipped(Option<String>),
}

/// Where an attachment's bytes are, before reading them.
enum Found {
    Data(Vec<u8>),
    Path(PathBuf),
    Undecodable,
    Nothing,
}

/// The tracker an issue came from.
fn tracker_of<'c>(config: &'c Config, issue: &Issue) -> Option<&'c TrackerConfig> {
    config
        .trackers
        .iter()
        .find(|t| t.name.as_deref().unwrap_or("jira") == issue.source)
}

fn locate(config: &Config, issue: &Issue, a: &Attachment) -> Found {
    let folder = tracker_of(config, issue).and_then(|t| t.attachments.as_deref());
    match &a.content {
        Some(AttachmentContent::Base64 { data }) => match decode_base64(data) {
            Some(bytes) => Found::Data(bytes),
            None => Found::Undecodable,
        },
        Some(AttachmentContent::File { path }) => match folder.and_then(|f| safe_join(f, path)) {
            Some(p) if p.is_file() => Found::Path(p),
            _ => Found::Nothing,
        },
        None => match folder {
            Some(f) => jira_candidates(f, issue, &a.id)
                .into_iter()
                .find(|p| p.is_file())
                .map(Found::Path)
                .unwrap_or(Found::Nothing),
            None => Found::Nothing,
        },
    }
}

/// Where JIRA keeps an attachment: `<PROJECT>/<bucket>/<KEY>/<id>` (the bucket is the issue
/// number rounded up to 10,000, and some versions round down), or `<PROJECT>/<KEY>/<id>` in
/// older ones.
fn jira_candidates(folder: &Path, issue: &Issue, id: &str) -> Vec<PathBuf> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !safe(id) || !safe(&issue.key) || !safe(&issue.project.key) {
        return Vec::new();
    }
    let project = folder.join(&issue.project.key);
    let mut out = Vec::new();
    if let Some(parts) = crate::keys::split_key(&issue.key) {
        let n = parts.number;
        let up = (n.saturating_sub(1) / 10_000 + 1) * 10_000;
        let down = n / 10_000 * 10_000;
        for bucket in [up, down] {
            out.push(project.join(bucket.to_string()).join(&issue.key).join(id));
        }
    }
    out.push(project.join(&issue.key).join(id));
    out.dedup();
    out
}

/// `relative` under `folder`, refusing absolute paths and `..`.
fn safe_join(folder: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Some(folder.join(rel))
    } else {
        None
    }
}

/// Reads an attachment's bytes when the archive has them and they are under the cap.
fn bytes_of(
    config: &Config,
    issue: &Issue,
    a: &Attachment,
) -> Result<std::result::Result<Vec<u8>, Option<String>>> {
    let cap = config.attachment_size_cap;
    let too_large = |n: u64| {
        Err(Some(format!(
            "{} is over this archive's size limit for attachments; not included",
            super::human_size(n)
        )))
    };
    Ok(match locate(config, issue, a) {
        Found::Nothing => Err(None),
        Found::Undecodable => Err(Some("the export's copy could not be decoded".into())),
        Found::Data(bytes) if bytes.len() as u64 > cap => too_large(bytes.len() as u64),
        Found::Data(bytes) => Ok(bytes),
        Found::Path(p) => {
            let len = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?.len();
            if len > cap {
                too_large(len)
            } else {
                Ok(std::fs::read(&p).map_err(|e| Error::io(&p, e))?)
            }
        }
    })
}

/// Writes the issue's attachment files into the site; one outcome per attachment, in order.
pub fn publish(
    config: &Config,
    issue: &Issue,
    sink: &dyn crate::write::PageSink,
) -> Result<Vec<Outcome>> {
    let mut out = Vec::with_capacity(issue.attachments.len());
    for a in &issue.attachments {
        match bytes_of(config, issue, a)? {
            Ok(bytes) => {
                let path = site_path(&issue.project.key, &a.id, &a.name);
                sink.put(&path, &bytes)?;
                out.push(Outcome::Written(path));
            }
            Err(note) => out.push(Outcome::Skipped(note)),
        }
    }
    Ok(out)
}

/// Puts the bytes of attachments found in a tracker's attachments folder into the issue itself
/// (base64), so the neutral export is complete without that folder. Files over the cap stay out.
pub fn embed(config: &Config, issue: &mut Issue) -> Result<()> {
    let mut contents = Vec::with_capacity(issue.attachments.len());
    for a in &issue.attachments {
        contents.push(match &a.content {
            Some(AttachmentContent::Base64 { .. }) => None,
            _ => bytes_of(config, issue, a)?.ok(),
        });
    }
    for (a, bytes) in issue.attachments.iter_mut().zip(contents) {
        if let Some(bytes) = bytes {
            a.content = Some(AttachmentContent::Base64 {
                data: encode_base64(&bytes),
            });
        }
    }
    Ok(())
}

/// `attachments/<PROJECT>/<bucket>/<id>/<safe name>`; the bucket is the id over 1,000 for numeric
/// ids, a hash byte otherwise.
pub fn site_path(project: &str, id: &str, name: &str) -> String {
    let project = if crate::config::is_project_key(project) {
        project.to_string()
    } else {
        "_".to_string()
    };
    let numeric = !id.is_empty()
        && id.len() <= 18
        && id.bytes().all(|b| b.is_ascii_digit())
        && (id.len() == 1 || !id.starts_with('0'));
    let (bucket, folder) = if numeric {
        let n: u64 = id.parse().unwrap_or(0);
        ((n / 1000).to_string(), id.to_string())
    } else {
        let h = xxhash_rust::xxh3::xxh3_64(id.as_bytes());
        let cleaned = safe_file_name(id);
        (
            format!("{:02x}", h & 0xff),
            format!("{cleaned}~{:08x}", h as u32),
        )
    };
    format!(
        "attachments/{project}/{bucket}/{folder}/{}",
        safe_file_name(name)
    )
}

/// A file name every file system accepts: `[A-Za-z0-9._-]` only (anything else becomes `_`), at
/// most 80 bytes with the extension kept, never `.`, `..`, a hidden name or a Windows device name.
pub fn safe_file_name(name: &str) -> String {
    // Only the last path segment counts: `C:\logs\a.txt` and `../a.txt` are `a.txt`.
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Windows drops trailing dots and spaces; leading dots hide files.
    s = s.trim_end_matches('.').trim_start_matches('.').to_string();
    const MAX: usize = 80;
    if s.len() > MAX {
        let ext = s
            .rfind('.')
            .map(|i| s[i..].to_string())
            .filter(|e| e.len() <= 16)
            .unwrap_or_default();
        s.truncate(MAX - ext.len());
        s.push_str(&ext);
    }
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    let device = matches!(
        stem.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit());
    if s.is_empty() {
        s = "attachment".into();
    } else if device {
        s.insert(0, '_');
    }
    // A browser runs script in what it opens as HTML, SVG or XML, straight from the site's
    // folder and without the pages' Content-Security-Policy: such files are published as text.
    let ext = s.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if ext.is_some_and(|e| ACTIVE_EXTENSIONS.contains(&e.as_str())) {
        s.push_str(".txt");
    }
    s
}

/// Extensions browsers (or Windows, for a copied site) treat as active content.
const ACTIVE_EXTENSIONS: &[&str] = &[
    "htm", "html", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt",
    "js", "mjs", "hta", "swf", "url", "lnk", "desktop",
];

/// Decodes standard base64, ignoring whitespace (exports wrap lines); `None` when malformed.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(b: u8) -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut padding = false;
    for b in text.bytes() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            padding = true;
            continue;
        }
        if padding {
            return None;
        }
        acc = (acc << 6) | value(b)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be the zero padding of the last group.
    if bits >= 6 || acc != 0 {
        return None;
    }
    Some(out)
}

/// Encodes standard base64 with padding, in one line.
pub fn encode_base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (chunk.get(1).copied().unwrap_or(0) as u32) << 8
            | chunk.get(2).copied().unwrap_or(0) as u32;
        for i in 0..4 {
            if i <= n {
                out.push(A[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_content_is_published_as_text() {
        // Found by tests/hostile.rs: `evil.html` ran its script when opened from the issue page.
        assert_eq!(safe_file_name("evil.html"), "evil.html.txt");
        assert_eq!(safe_file_name("x.SVG"), "x.SVG.txt");
        assert_eq!(safe_file_name("dmesg.log"), "dmesg.log");
        assert_eq!(safe_file_name("a.patch"), "a.patch");
    }

    #[test]
    fn base64_round_trips_and_ignores_whitespace() {
        for data in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0, 255, 128],
        ] {
            let e = encode_base64(data);
            assert_eq!(decode_base64(&e).unwrap(), data, "{e}");
        }
        assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(decode_base64("Zm9v\n YmE=\r\n").unwrap(), b"fooba");
        assert_eq!(decode_base64("Zm9v!"), None);
        assert_eq!(decode_base64("Zg=x"), None);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            safe_file_name("ldlm-cancel-race.patch"),
            "ldlm-cancel-race.patch"
        );
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\logs\\dmesg log.txt"), "dmesg_log.txt");
        assert_eq!(safe_file_name(".."), "attachment");
        assert_eq!(safe_file_name("."), "attachment");
        assert_eq!(safe_file_name(""), "attachment");
        assert_eq!(safe_file_name("con.txt"), "_con.txt");
        assert_eq!(safe_file_name("LPT1"), "_LPT1");
        assert_eq!(safe_file_name("été.log"), "_t_.log");
        let long = format!("{}.tar.gz", "x".repeat(300));
        let s = safe_file_name(&long);
        assert!(s.len() <= 80 && s.ends_with(".gz"), "{s}");
        assert_eq!(
            site_path("BZ", "567", "a b.patch"),
            "attachments/BZ/0/567/a_b.patch"
        );
        assert!(site_path("LU", "../x", "n").starts_with("attachments/LU/"));
        assert!(!site_path("LU", "../x", "n").contains(".."));
    }
}
