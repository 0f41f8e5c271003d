//! Attachment files into the site.
//!
//! Bugzilla XML can carry an attachment's bytes (base64); JIRA keeps them in its attachments
//! folder (`<PROJECT>/<bucket>/<KEY>/<attachment id>`), which the tracker's `attachments` setting
//! points at. Either way a file under the size cap is written through the page sink at
//! `attachments/<PROJECT>/<bucket>/<attachment id>/<safe name>`: the id folder is unique, so two
//! names that differ only in case never meet, and the name is reduced to characters every file
//! system accepts. Files over the cap are listed on the issue page without a link.

use crate::config::Config;
use crate::error::Result;
use crate::inputs::{AttachmentFolder, FoundFile, Inputs};
use crate::model::{Attachment, AttachmentContent, Issue};

/// What became of one attachment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    /// Written at this site-relative path.
    Written(String),
    /// Not written; the note says why (too large, unreadable). `None`: the archive has no bytes.
    Skipped(Option<String>),
}

/// Where an attachment's bytes are.
enum Found {
    /// Carried by the export (Bugzilla's base64), decoded.
    Data(Vec<u8>),
    /// A file in the tracker's attachments folder.
    File(FoundFile),
    /// Carried by the export, but not decodable.
    Undecodable,
    /// Nowhere in the archive.
    Nothing,
}

/// The attachments folder of the tracker an issue came from.
fn folder_of<'i>(
    config: &Config,
    inputs: &'i Inputs,
    issue: &Issue,
) -> Option<&'i AttachmentFolder> {
    config
        .trackers
        .iter()
        .zip(&inputs.trackers)
        .find(|(t, _)| t.may_be(&issue.source))
        .and_then(|(_, found)| found.attachments.as_ref())
}

fn locate(folder: Option<&AttachmentFolder>, issue: &Issue, a: &Attachment) -> Found {
    match &a.content {
        Some(AttachmentContent::Base64 { data }) => match decode_base64(data) {
            Some(bytes) => Found::Data(bytes),
            None => Found::Undecodable,
        },
        Some(AttachmentContent::File { path }) => match folder.and_then(|f| f.file(path)) {
            Some(f) => Found::File(f),
            None => Found::Nothing,
        },
        Some(AttachmentContent::Withheld { .. }) => Found::Nothing,
        None => match folder {
            Some(f) => jira_candidates(issue, &a.id)
                .iter()
                .find_map(|rel| f.file(rel))
                .map(Found::File)
                .unwrap_or(Found::Nothing),
            None => Found::Nothing,
        },
    }
}

/// Where JIRA keeps an attachment, relative to its attachments folder:
/// `<PROJECT>/<bucket>/<KEY>/<id>` (the bucket is the issue number rounded up to 10,000, and
/// some versions round down), or `<PROJECT>/<KEY>/<id>` in older ones.
fn jira_candidates(issue: &Issue, id: &str) -> Vec<String> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !safe(id) || !safe(&issue.key) || !safe(&issue.project.key) {
        return Vec::new();
    }
    let project = &issue.project.key;
    let key = &issue.key;
    let mut out = Vec::new();
    if let Some(parts) = crate::keys::split_key(key) {
        let n = parts.number;
        let up = (n.saturating_sub(1) / 10_000 + 1) * 10_000;
        let down = n / 10_000 * 10_000;
        for bucket in [up, down] {
            out.push(format!("{project}/{bucket}/{key}/{id}"));
        }
    }
    out.push(format!("{project}/{key}/{id}"));
    out.dedup();
    out
}

/// What the archive holds of one attachment's bytes, and whether the site can publish them.
#[derive(Debug)]
pub enum Content {
    /// Bytes carried by the export, under the cap.
    Data(Vec<u8>),
    /// A file of the attachments folder, under the cap.
    File(FoundFile),
    /// The archive has the bytes, but they are over the size cap: listed, not published.
    TooLarge(u64),
    /// Carried by the export, but not decodable.
    Undecodable,
    /// Nowhere in the archive.
    Nothing,
}

impl Content {
    /// Why the site does not publish the file (`None`: the archive has no bytes); `Ok` when it
    /// does.
    fn note(&self) -> std::result::Result<(), Option<String>> {
        match self {
            Content::Data(_) | Content::File(_) => Ok(()),
            Content::TooLarge(n) => Err(Some(format!(
                "{} is over this archive's size limit for attachments; not included",
                super::human_size(*n)
            ))),
            Content::Undecodable => Err(Some("the export's copy could not be decoded".into())),
            Content::Nothing => Err(None),
        }
    }
}

/// An attachment's content, with the size cap applied.
fn content_of(
    config: &Config,
    folder: Option<&AttachmentFolder>,
    issue: &Issue,
    a: &Attachment,
) -> Content {
    let cap = config.attachment_size_cap;
    if let Some(AttachmentContent::Withheld { size }) = &a.content {
        return Content::TooLarge(*size);
    }
    match locate(folder, issue, a) {
        Found::Nothing => Content::Nothing,
        Found::Undecodable => Content::Undecodable,
        Found::Data(bytes) if bytes.len() as u64 > cap => Content::TooLarge(bytes.len() as u64),
        Found::Data(bytes) => Content::Data(bytes),
        Found::File(f) if f.size > cap => Content::TooLarge(f.size),
        Found::File(f) => Content::File(f),
    }
}

/// What the archive holds of each of the issue's attachments, in order, with the cap applied:
/// what the site publishes (and its backup keeps) of them.
pub fn contents(config: &Config, inputs: &Inputs, issue: &Issue) -> Vec<Content> {
    let folder = folder_of(config, inputs, issue);
    issue
        .attachments
        .iter()
        .map(|a| content_of(config, folder, issue, a))
        .collect()
}

/// Publishes the issue's attachment files through the sink; one outcome per attachment, in
/// order. Files from an attachments folder are handed over by path: render never reads them.
pub fn publish(
    config: &Config,
    inputs: &Inputs,
    issue: &Issue,
    sink: &dyn crate::render::PageSink,
) -> Result<Vec<Outcome>> {
    let mut out = Vec::with_capacity(issue.attachments.len());
    for (a, content) in issue
        .attachments
        .iter()
        .zip(contents(config, inputs, issue))
    {
        let path = site_path(&issue.project.key, &a.id, &a.name);
        match content {
            Content::Data(bytes) => sink.put_shared(&path, &bytes)?,
            Content::File(f) => sink.put_file(&path, &f.path)?,
            other => {
                out.push(Outcome::Skipped(other.note().err().flatten()));
                continue;
            }
        }
        out.push(Outcome::Written(path));
    }
    Ok(out)
}

/// Whether the archive has the bytes of none of `issue`'s attachments, and names no file for
/// any of them (`outcomes` are [`publish`]'s): the backup's copy of the issue is then the
/// issue as published, with no file, note or count beside it, so the issue's digest tells it
/// ([`RenderReport::published`](crate::render::RenderReport)).
pub fn none_to_keep(issue: &Issue, outcomes: &[Outcome]) -> bool {
    issue.attachments.iter().zip(outcomes).all(|(a, outcome)| {
        matches!(outcome, Outcome::Skipped(None))
            && !matches!(a.content, Some(AttachmentContent::File { .. }))
    })
}

/// Whether what became of `issue`'s attachments (`outcomes`, [`publish`]'s) is a function of
/// the issue and the configuration alone and left nothing beside the issue: no file was
/// published, none is named, and no attachments folder was looked in. The issue's page and
/// JSON are then known from the issue's digest, without the issue being read.
pub fn settled_by_issue(
    config: &Config,
    inputs: &Inputs,
    issue: &Issue,
    outcomes: &[Outcome],
) -> bool {
    none_to_keep(issue, outcomes)
        && (issue.attachments.is_empty() || folder_of(config, inputs, issue).is_none())
}

/// The files an issue's attachments name in its tracker's attachments folder, under the cap,
/// one entry per attachment (`None` for those carried by the export or not found), so the
/// neutral export can carry their bytes.
pub fn folder_files(config: &Config, inputs: &Inputs, issue: &Issue) -> Vec<Option<FoundFile>> {
    let folder = folder_of(config, inputs, issue);
    issue
        .attachments
        .iter()
        .map(|a| match &a.content {
            Some(AttachmentContent::Base64 { .. }) => None,
            _ => match content_of(config, folder, issue, a) {
                Content::File(f) => Some(f),
                _ => None,
            },
        })
        .collect()
}

/// `attachments/<PROJECT>/<bucket>/<id>/<safe name>`; the bucket is the id over 1,000 for numeric
/// ids, a hash byte otherwise.
pub fn site_path(project: &str, id: &str, name: &str) -> String {
    let project = if crate::keys::is_project_key(project) {
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

/// Decodes base64 as exports write it: the standard or the URL-safe alphabet, lines wrapped,
/// padding optional; `None` when malformed.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    LENIENT.decode(clean).ok()
}

/// Encodes standard base64 with padding, in one line.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
