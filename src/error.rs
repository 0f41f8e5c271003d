//! Typed errors of the library. Every error that comes from input names the file and, where
//! the format has them, the line and column and the issue key, so the archive keeper can find
//! the broken item in a multi-gigabyte export.

use std::path::PathBuf;

/// The error of a library hindsight calls (redb, tantivy, gix, tera, serde_json), kept as the
/// cause of the error that says what hindsight was doing.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Anything that can stop a build. Each variant says what hindsight was doing and where (the
/// file, and the line, column and issue when known); the underlying library error, if any, is
/// its [`source`](std::error::Error::source), never repeated in its own message, so printing
/// the chain (as `main` does) shows each part once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
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
    /// An on-disk store of the build cache (the archive store, the diff cache) failed.
    #[error("store {}{}", path.display(), colon(what))]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What was being done, when more than reading or writing the store.
        what: String,
        /// The store's error.
        #[source]
        source: Cause,
    },
    /// A template failed to load or render.
    #[error("template {name}")]
    Template {
        /// The template's name.
        name: String,
        /// Tera's error (its own chain holds the useful part).
        #[source]
        source: Cause,
    },
    /// The git repository could not be read.
    #[error("git repository {}: {what}", path.display())]
    Git {
        /// The repository.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// gix's error.
        #[source]
        source: Cause,
    },
    /// The search index (in the build cache) could not be built, read or exported.
    #[error("search index")]
    Search {
        /// tantivy's (or the export's) error.
        #[source]
        source: Cause,
    },
    /// A value could not be written as JSON.
    #[error("{what} as JSON")]
    Json {
        /// What was being written.
        what: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// A worker thread of a stage panicked (a bug in hindsight, reported instead of a hang).
    #[error("a worker thread of the {stage} stage panicked")]
    Panicked {
        /// The stage.
        stage: &'static str,
    },
    /// Two different issues (different tracker or id) claim one key: publishing either would
    /// silently lose the other, so the build stops and names both.
    #[error("two different issues have the key {key}: {first} and {second}; give them distinct key prefixes (`key_prefix`, or `key_prefixes` per GitHub repository)")]
    KeyCollision {
        /// The key both claim.
        key: String,
        /// Where the first was read: file, its position in the file, tracker and id.
        first: String,
        /// Where the second was read, likewise.
        second: String,
    },
    /// A problem reported as a warning was promoted to an error by `--strict`.
    #[error("{0} (and --strict turns warnings into errors)")]
    Strict(Warning),
}

/// A problem with the input that did not stop the build (a skipped item, a repaired byte),
/// named by file, line:column and issue, as errors are.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// The issue, when known.
    pub key: Option<String>,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Warnings about the archive as a whole (two files giving one key to different
        // issues) have no single file.
        if !self.path.as_os_str().is_empty() {
            write!(f, "{}", self.path.display())?;
            if self.line > 0 {
                write!(f, ":{}:{}", self.line, self.column)?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(k) = &self.key {
            write!(f, " (issue {k})")?;
        }
        Ok(())
    }
}

fn colon(what: &str) -> String {
    match what {
        "" => String::new(),
        w => format!(": {w}"),
    }
}

fn in_issue(key: &Option<String>) -> String {
    match key {
        Some(k) => format!(" (issue {k})"),
        None => String::new(),
    }
}

impl Error {
    /// An error met while walking the folder `root`: the I/O error of the entry it names (or
    /// of `root`), or the loop walkdir found.
    pub fn walk(root: &std::path::Path, e: walkdir::Error) -> Self {
        let path = e.path().unwrap_or(root).to_path_buf();
        let source = match e.into_io_error() {
            Some(io) => io,
            None => {
                std::io::Error::other("the folder links back into itself (a symbolic link loop)")
            }
        };
        Error::Io { path, source }
    }

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
