//! Issue keys: splitting `LU-1234` into project and number, ordering keys as people expect
//! (`LU-999` before `LU-1000`), and the bucketed, file-system-safe names pages are written under.

/// A key split into its project and number, when it has the usual `PROJ-123` shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyParts<'a> {
    /// `LU`
    pub project: &'a str,
    /// `1234`
    pub number: u64,
}

/// Splits `LU-1234` into `("LU", 1234)`; `None` for keys of any other shape.
pub fn split_key(key: &str) -> Option<KeyParts<'_>> {
    let (project, number) = key.rsplit_once('-')?;
    if !crate::keys::is_project_key(project)
        || number.is_empty()
        || number.len() > 18
        || !number.bytes().all(|b| b.is_ascii_digit())
        || (number.len() > 1 && number.starts_with('0'))
    {
        return None;
    }
    Some(KeyParts {
        project,
        number: number.parse().ok()?,
    })
}

/// The store's ordering key: project, then number as a fixed-width decimal, so byte order is
/// numeric order. Keys of other shapes sort after, by their bytes.
pub fn sort_key(key: &str) -> String {
    match split_key(key) {
        Some(p) => format!("{}\u{1}{:020}", p.project, p.number),
        None => format!("~{key}"),
    }
}

/// Compares keys numerically within a project: the order of [`sort_key`], without building
/// the sort keys (link lookups compare millions of keys).
pub fn compare_keys(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (split_key(a), split_key(b)) {
        // `PROJ \x01 number`: the separator sorts below every key character.
        (Some(x), Some(y)) => x.project.cmp(y.project).then(x.number.cmp(&y.number)),
        // `~key` sorts after every project key.
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The path of an issue's page without extension, relative to the site root:
/// `issues/LU/20/LU-20581`. Buckets of 1,000 numbers keep every folder far under the 10,000
/// entries DESIGN allows (an issue has a page and a JSON file). Keys of other shapes go to a
/// bucket chosen by a hash of the key, under a name with anything unsafe replaced.
pub fn issue_path(key: &str) -> String {
    match split_key(key) {
        Some(p) => format!("issues/{}/{}/{}", p.project, p.number / 1000, key),
        None => {
            let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
            format!("issues/_/{:02x}/{}", hash & 0xff, safe_name(key, hash))
        }
    }
}

/// A name safe on every file system a site may be copied to: ASCII letters, digits, `-`, `_`
/// and `.` only, at most 64 bytes, never a Windows device name; the hash keeps names distinct
/// when sanitising made two keys equal or when they differ only in case.
fn safe_name(raw: &str, hash: u64) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{cleaned}~{:012x}", hash >> 16)
}

/// Project keys and key prefixes: an ASCII capital, then capitals, digits or `_`.
pub fn is_project_key(s: &str) -> bool {
    // Capitals only, as JIRA requires: `lu-1` beside `LU-1` would give two pages whose paths
    // differ only in case, which FAT, NTFS and macOS folders cannot hold apart.
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 32
}

/// The shape of an issue key in running text: `LU-1234`, not inside a longer word.
pub fn key_pattern() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\b[A-Z][A-Z0-9_]{0,31}-[1-9][0-9]{0,17}\b").unwrap())
}

/// The site path of a commit's page: `commits/ab/<sha>.html`. 256 buckets keep folders small
/// (52k commits: ~200 pages per folder).
pub fn commit_path(id: &str) -> String {
    let bucket = id.get(..2).unwrap_or("00");
    format!("commits/{bucket}/{id}.html")
}

/// Whether a hex run looks like a commit id rather than a number: it has a letter (a 7+ digit
/// decimal is far more often a number), or is a full 40-digit id.
pub fn looks_like_commit_id(s: &str) -> bool {
    s.len() == 40 || s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Compares strings with runs of digits compared as numbers (`LU-9` < `LU-10`, `b2_9` <
/// `b2_10`; of equal numbers the unpadded spelling first, `b1` < `b01`); strings that still
/// compare equal fall back to byte order, so the order is total and every listing
/// deterministic.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    alphanumeric_sort::compare_str(a, b).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically() {
        let mut keys = vec!["LU-1000", "LU-999", "LDEV-5", "LU-12", "weird key"];
        keys.sort_by(|a, b| compare_keys(a, b));
        assert_eq!(keys, ["LDEV-5", "LU-12", "LU-999", "LU-1000", "weird key"]);
    }

    #[test]
    fn split_rejects_other_shapes() {
        assert_eq!(
            split_key("LU-20581"),
            Some(KeyParts {
                project: "LU",
                number: 20581
            })
        );
        for bad in [
            "LU-", "-1", "LU-01", "L U-1", "../LU-1", "LU-1a", "1LU-2", "lu-1", "Lu-1",
        ] {
            assert_eq!(split_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn issue_paths_are_bucketed_and_safe() {
        assert_eq!(issue_path("LU-20581"), "issues/LU/20/LU-20581");
        assert_eq!(issue_path("LU-7"), "issues/LU/0/LU-7");
        let odd = issue_path("../../etc/passwd");
        assert!(odd.starts_with("issues/_/"), "{odd}");
        assert!(!odd["issues/_/".len()..].contains(".."), "{odd}");
        assert_ne!(issue_path("con"), issue_path("CON"));
    }
}
