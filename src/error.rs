//! Typed errors of the library. Every error that comes from input names the file and, where
//! the format has them, the line and column and the issue key, so the archive keeper can find
//! the broken item in a multi-gigabyte export.

use std::path::PathBuf;

/// Anything that can stop a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The configuration file is invalid (unknown key, wrong type, bad value).
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, with the key and position when known.
        message: String,
    },
    /// An input file is malformed at a known position.
    #[error("{}:{line}:{column}: {message}{}", path.display(), in_issue(key))]
    Parse {
        /// The input file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (in characters).
        column: u64,
        /// The issue being read, when known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// No importer recognises a file's content.
    #[error("{}: not a format hindsight can read (looked for JIRA XML, Bugzilla XML, JIRA/Bugzilla/GitHub JSON, hindsight NDJSON)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The on-disk archive store failed.
    #[error("archive store {}: {message}", path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A template failed to load or render.
    #[error("template {name}: {message}")]
    Template {
        /// The template's name.
        name: String,
        /// Tera's message chain.
        message: String,
    },
    /// The git repository could not be read.
    #[error("git repository {}: {message}", path.display())]
    Git {
        /// The repository.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The search index failed.
    #[error("search index: {message}")]
    Search {
        /// What failed.
        message: String,
    },
    /// A problem reported as a warning was promoted to an error by `--strict`.
    #[error("{0} (and --strict turns warnings into errors)")]
    Strict(String),
}

fn in_issue(key: &Option<String>) -> String {
    match key {
        Some(k) => format!(" (issue {k})"),
        None => String::new(),
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_position_and_key() {
        let e = Error::Parse {
            path: "exports/LU-page-1.xml".into(),
            line: 120,
            column: 7,
            key: Some("LU-42".into()),
            message: "unexpected end of file".into(),
        };
        assert_eq!(
            e.to_string(),
            "exports/LU-page-1.xml:120:7: unexpected end of file (issue LU-42)"
        );
    }
}
