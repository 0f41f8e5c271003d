//! `hindsight init`: a starting point for a new archive: a commented `hindsight.toml` and the
//! built-in theme copied out for editing (a copied template overrides the built-in one).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::render::templates::{STATIC, TEMPLATES};

/// The starter configuration.
pub const STARTER_CONFIG: &str = r#"# hindsight configuration. Paths are relative to this file.
title = "Issue archive"
output = "public"
# projects = ["LU"]              # publish only these projects (an export may hold private ones)
# show_emails = false            # e-mail addresses are masked unless this is true
# page_size = 100                # issues per listing page

[[tracker]]
name = "jira"
paths = ["exports/jira/*.xml"]   # globs; the format is detected from content

# [[repository]]
# path = "../project.git"
"#;

/// Writes the starter files into `dir`; never overwrites an existing file. Returns the files
/// written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<(PathBuf, &[u8])> =
        vec![(dir.join("hindsight.toml"), STARTER_CONFIG.as_bytes())];
    for (name, text) in TEMPLATES {
        files.push((dir.join("themes/templates").join(name), text.as_bytes()));
    }
    for (path, bytes) in STATIC {
        files.push((dir.join("themes").join(path), bytes));
    }
    let existing: Vec<_> = files.iter().filter(|(p, _)| p.exists()).collect();
    if let Some((p, _)) = existing.first() {
        return Err(Error::io(
            p,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists; init never overwrites files",
            ),
        ));
    }
    let mut written = Vec::new();
    for (path, bytes) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_config_that_parses_and_the_theme_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let files = init(dir.path()).unwrap();
        assert!(files.len() > 5);
        let config = crate::Config::load(&dir.path().join("hindsight.toml")).unwrap();
        assert_eq!(config.title, "Issue archive");
        assert!(dir.path().join("themes/templates/issue.html").is_file());
        assert!(dir.path().join("themes/static/style.css").is_file());
        assert!(init(dir.path()).is_err());
    }
}
