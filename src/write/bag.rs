//! BagIt (RFC 8493) and `SHA256SUMS`: the files that let anyone check a copy of the site.
//!
//! The backup folder is a bag: `bagit.txt`, `bag-info.txt`, the payload under `data/`,
//! `manifest-sha256.txt` listing every payload file's SHA-256, and `tagmanifest-sha256.txt`
//! listing the other files'. The site's root carries `SHA256SUMS` in the format `sha256sum -c`
//! reads. All of them are written by [`super::Staging::commit`] from the hashes it took while
//! staging, and read back by `hindsight verify`.

/// The bag declaration.
pub const DECLARATION: &str = "bagit.txt";
/// The payload manifest.
pub const MANIFEST: &str = "manifest-sha256.txt";
/// The tag manifest.
pub const TAG_MANIFEST: &str = "tagmanifest-sha256.txt";
/// The bag's metadata.
pub const INFO: &str = "bag-info.txt";

/// The text of `bagit.txt`.
pub const DECLARATION_TEXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// A bag in the site: its folder and the metadata its `bag-info.txt` carries besides the
/// `Payload-Oxum` (which the writer counts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bag {
    /// The bag's folder, site-relative (`backup`).
    pub root: String,
    /// `bag-info.txt` labels and values, in order.
    pub info: Vec<(String, String)>,
}

impl Bag {
    /// The site path of a file of the bag (`backup/bagit.txt`; `bagit.txt` for a bag at the
    /// root).
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    /// What the site paths of the bag's files start with.
    pub fn prefix(&self) -> String {
        if self.root.is_empty() {
            String::new()
        } else {
            format!("{}/", self.root)
        }
    }
}

/// A path as a manifest line writes it: `%`, CR and LF percent-encoded (RFC 8493 §2.1.3).
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A manifest line's path as written on disk.
pub fn decode_path(path: &str) -> String {
    path.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
}

/// `manifest-sha256.txt` and `bag-info.txt` of `bag`, from every staged file (path, SHA-256,
/// size), sorted by path.
pub fn payload_files<'a>(
    bag: &Bag,
    files: impl IntoIterator<Item = (&'a str, &'a [u8; 32], u64)>,
) -> (String, String) {
    let prefix = bag.prefix();
    let mut manifest = String::new();
    let (mut octets, mut count) = (0u64, 0u64);
    for (path, sha, size) in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        if !rel.starts_with("data/") {
            continue;
        }
        super::manifest::push_hex(&mut manifest, sha);
        manifest.push_str("  ");
        manifest.push_str(&encode_path(rel));
        manifest.push('\n');
        octets += size;
        count += 1;
    }
    let mut info = String::new();
    for (label, value) in &bag.info {
        info.push_str(label);
        info.push_str(": ");
        // Long or multi-line values continue on lines that start with white space.
        info.push_str(&value.replace('\n', "\n  "));
        info.push('\n');
    }
    info.push_str(&format!("Payload-Oxum: {octets}.{count}\n"));
    (manifest, info)
}

/// `tagmanifest-sha256.txt` of `bag`: every file of the bag outside `data/` but itself.
pub fn tag_manifest<'a>(
    bag: &Bag,
    files: impl IntoIterator<Item = (&'a str, &'a [u8; 32], u64)>,
) -> String {
    let prefix = bag.prefix();
    let mut out = String::new();
    for (path, sha, _) in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        if rel.starts_with("data/")
            || rel == TAG_MANIFEST
            || (bag.root.is_empty() && rel == super::SUMS_FILE)
        {
            continue;
        }
        super::manifest::push_hex(&mut out, sha);
        out.push_str("  ");
        out.push_str(&encode_path(rel));
        out.push('\n');
    }
    out
}

/// `SHA256SUMS` over the staged files that `keep` accepts, in the `sha256sum` format.
pub fn sha256sums<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8; 32], u64)>,
    keep: impl Fn(&str) -> bool,
) -> String {
    let mut out = String::new();
    for (path, sha, _) in files {
        if keep(path) {
            out.reserve(path.len() + 67);
            super::manifest::push_hex(&mut out, sha);
            out.push_str("  ");
            out.push_str(path);
            out.push('\n');
        }
    }
    out
}

/// The lines of a checksum file (`SHA256SUMS` or a bag manifest): (path, SHA-256), or the
/// number of the first line that is not `<64 hex digits> <space(s)> <path>`.
pub fn parse_checksums(
    text: &str,
    percent_encoded: bool,
) -> std::result::Result<Vec<(String, [u8; 32])>, usize> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let (hex, rest) = line.split_at_checked(64).ok_or(i + 1)?;
        let sha = super::manifest::unhex(hex).ok_or(i + 1)?;
        // `sha256sum` writes two spaces (or space and `*` for binary mode); BagIt one or more.
        let path = rest.trim_start_matches(' ');
        let path = path.strip_prefix('*').unwrap_or(path);
        if path.is_empty() || rest.len() == path.len() {
            return Err(i + 1);
        }
        let path = if percent_encoded {
            decode_path(path)
        } else {
            path.to_string()
        };
        out.push((path, sha));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: [(&str, [u8; 32], u64); 7] = [
        ("backup/bag-info.txt", [3; 32], 9),
        ("backup/bagit.txt", [1; 32], 55),
        ("backup/data/a 100%.txt", [2; 32], 10),
        ("backup/data/x/y.zst", [4; 32], 32),
        ("backup/manifest-sha256.txt", [5; 32], 1),
        ("backup/tagmanifest-sha256.txt", [6; 32], 1),
        ("index.html", [7; 32], 5),
    ];

    fn files() -> impl Iterator<Item = (&'static str, &'static [u8; 32], u64)> {
        FILES.iter().map(|(p, sha, n)| (*p, sha, *n))
    }

    #[test]
    fn a_bag_lists_its_payload_and_counts_its_octets() {
        let bag = Bag {
            root: "backup".into(),
            info: vec![("Source-Organization".into(), "Lustre\ncommunity".into())],
        };
        let (manifest, info) = payload_files(&bag, files());
        assert_eq!(
            manifest,
            format!(
                "{}  data/a 100%25.txt\n{}  data/x/y.zst\n",
                "02".repeat(32),
                "04".repeat(32)
            )
        );
        assert_eq!(
            info,
            "Source-Organization: Lustre\n  community\nPayload-Oxum: 42.2\n"
        );
        let tags = tag_manifest(&bag, files());
        let names: Vec<_> = tags.lines().map(|l| &l[66..]).collect();
        assert_eq!(names, ["bag-info.txt", "bagit.txt", "manifest-sha256.txt"]);
    }

    #[test]
    fn checksum_files_read_back_as_written() {
        let sums = sha256sums(files(), |p| p != "index.html");
        let back = parse_checksums(&sums, false).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(back[2], ("backup/data/a 100%.txt".to_string(), [2; 32]));
        let bag = Bag {
            root: "backup".into(),
            info: vec![],
        };
        let (manifest, _) = payload_files(&bag, files());
        let back = parse_checksums(&manifest, true).unwrap();
        assert_eq!(back[0].0, "data/a 100%.txt");
        assert_eq!(parse_checksums("abc  x\n", false), Err(1));
        assert_eq!(
            parse_checksums(&format!("{}x\n", "0".repeat(64)), false),
            Err(1)
        );
    }
}
