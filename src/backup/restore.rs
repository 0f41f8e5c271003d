//! The backup's own `hindsight.toml`: the configuration that rebuilds the site from a copy of
//! it alone (`hindsight build --config <site>/backup/hindsight.toml --output <folder>`).
//!
//! It names the bag's archive files as its trackers (in the original trackers' order, with
//! their key prefixes, old base URLs and reference patterns), the bag's theme and pages, the
//! site's own `source/<name>.git` copies as its repositories, and every setting that shapes
//! the output. Built from it, the site's backup writes this same file again: the text depends
//! only on what the original build published, not on where its exports came from.

use crate::config::{Config, TrackerConfig};
use crate::source::DEFAULT_REFS;

/// One tracker of the backup: the issues' `source` and its archive file in the bag.
pub struct ArchiveFile<'a> {
    /// The `source` its issues carry (the tracker's name).
    pub source: &'a str,
    /// The file, relative to the bag (`data/archive/jira.ndjson.zst`).
    pub file: &'a str,
}

/// One repository of the backup.
pub struct RepositoryFile<'a> {
    /// Its published name (`source/<name>.git`).
    pub name: &'a str,
    /// The names of the refs the copy carries.
    pub refs: &'a [String],
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The text of the backup's `hindsight.toml`.
pub fn config_text(
    config: &Config,
    archives: &[ArchiveFile],
    repositories: &[RepositoryFile],
) -> String {
    let mut out = String::new();
    out.push_str(
        "# This site's own configuration for rebuilding it from this copy alone:\n\
         #   hindsight build --config backup/hindsight.toml --output <a new folder>\n\
         # Paths are relative to this file. The cache goes beside the copy of the site.\n",
    );
    out.push_str(&format!("title = {}\n", q(&config.title)));
    out.push_str("output = \"../../site-rebuilt\"\n");
    out.push_str("cache = \"../../.hindsight-rebuild-cache\"\n");
    out.push_str("theme = \"data/theme\"\n");
    out.push_str("pages = \"data/pages\"\n");
    if let Some(projects) = &config.projects {
        out.push_str(&format!("projects = {}\n", list(projects)));
    }
    if let Some(url) = &config.base_url {
        out.push_str(&format!("base_url = {}\n", q(url)));
    }
    out.push_str(&format!("show_emails = {}\n", config.show_emails));
    out.push_str(&format!("page_size = {}\n", config.page_size));
    out.push_str(&format!("redirect_stubs = {}\n", config.redirect_stubs));
    out.push_str(&format!("issue_json = {}\n", config.issue_json));
    out.push_str(&format!(
        "attachment_size_cap = {}\n",
        config.attachment_size_cap
    ));
    out.push_str(&format!(
        "\n[backup]\ngit = {}\narchive = {}\n",
        config.backup.git, config.backup.archive
    ));
    if config.backup.keep_exports || config.backup.kept_exports.is_some() {
        out.push_str(&format!("kept_exports = {}\n", q(super::exports::EXPORTS)));
    }
    if !config.project_names.is_empty() {
        out.push_str("\n[project_names]\n");
        for (key, name) in &config.project_names {
            out.push_str(&format!("{} = {}\n", q(key), q(name)));
        }
    }

    // Each archive file under the first original tracker it may have come from, in the
    // original order; a tracker with no issues (a key prefix for references) stays.
    let mut used = vec![false; archives.len()];
    for t in &config.trackers {
        let mine: Vec<usize> = (0..archives.len())
            .filter(|&i| !used[i] && t.may_be(archives[i].source))
            .collect();
        if mine.is_empty() && t.paths.is_empty() {
            tracker(&mut out, t, t.name.as_deref(), None);
        }
        for i in mine {
            used[i] = true;
            tracker(
                &mut out,
                t,
                Some(archives[i].source),
                Some(archives[i].file),
            );
        }
    }
    let plain = TrackerConfig {
        name: None,
        paths: Vec::new(),
        format: None,
        key_prefix: None,
        key_prefixes: Default::default(),
        timezone: None,
        base_urls: Vec::new(),
        attachments: None,
        references: None,
        fetch: None,
    };
    for (i, a) in archives.iter().enumerate() {
        if !used[i] {
            tracker(&mut out, &plain, Some(a.source), Some(a.file));
        }
    }

    for (rc, r) in config.repositories.iter().zip(repositories) {
        out.push_str("\n[[repository]]\n");
        out.push_str(&format!(
            "path = {}\n",
            q(&format!("../source/{}.git", r.name))
        ));
        let defaults: Vec<glob::Pattern> = DEFAULT_REFS
            .iter()
            .filter_map(|g| glob::Pattern::new(g).ok())
            .collect();
        let extra: Vec<String> = r
            .refs
            .iter()
            .filter(|n| !defaults.iter().any(|g| g.matches(n)))
            .cloned()
            .collect();
        if !extra.is_empty() {
            let mut all: Vec<String> = DEFAULT_REFS.iter().map(|s| s.to_string()).collect();
            all.extend(extra);
            out.push_str(&format!("refs = {}\n", list(&all)));
        }
        if let Some(tags) = &rc.release_tags {
            out.push_str(&format!("release_tags = {}\n", list(tags)));
        }
        if let Some(tags) = &rc.not_release_tags {
            out.push_str(&format!("not_release_tags = {}\n", list(tags)));
        }
        if let Some(cap) = rc.diff_cap {
            out.push_str(&format!("diff_cap = {cap}\n"));
        }
        if let Some(diffs) = rc.diffs {
            out.push_str(&format!("diffs = {diffs}\n"));
        }
        if let Some(url) = &rc.gerrit_url {
            out.push_str(&format!("gerrit_url = {}\n", q(url)));
        }
    }
    out
}

fn tracker(out: &mut String, t: &TrackerConfig, name: Option<&str>, file: Option<&str>) {
    out.push_str("\n[[tracker]]\n");
    if let Some(name) = name {
        out.push_str(&format!("name = {}\n", q(name)));
    }
    if let Some(file) = file {
        out.push_str(&format!("paths = [{}]\n", q(file)));
        out.push_str("format = \"ndjson\"\n");
        out.push_str(&format!(
            "attachments = {}\n",
            q(super::archive::ATTACHMENTS_ROOT)
        ));
    }
    if let Some(prefix) = &t.key_prefix {
        out.push_str(&format!("key_prefix = {}\n", q(prefix)));
    }
    if !t.key_prefixes.is_empty() {
        let pairs: Vec<String> = t
            .key_prefixes
            .iter()
            .map(|(r, p)| format!("{} = {}", q(r), q(p)))
            .collect();
        out.push_str(&format!("key_prefixes = {{ {} }}\n", pairs.join(", ")));
    }
    if !t.base_urls.is_empty() {
        out.push_str(&format!("base_urls = {}\n", list(&t.base_urls)));
    }
    if let Some(patterns) = &t.references {
        for p in patterns {
            out.push_str(&format!(
                "[[tracker.references]]\nregex = {}\nkey = {}\n",
                q(&p.regex),
                q(&p.key)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backup_config_parses_and_keeps_every_setting_that_shapes_the_site() {
        let original = Config::parse(
            r#"
title = "Quotes \" and ü"
projects = ["LU", "BZ"]
base_url = "https://archive.example.org/"
show_emails = true
page_size = 7
redirect_stubs = false
issue_json = false
attachment_size_cap = 99
[backup]
keep_exports = true
[project_names]
LU = "Lustre (JIRA)"
[[tracker]]
paths = ["x/*.xml"]
base_urls = ["https://jira.example.org"]
[[tracker.references]]
regex = 'HPE-(\d+)'
key = "LU-$1"
[[tracker]]
name = "gh"
paths = ["gh/*.json"]
key_prefixes = { "acme/fs" = "FS" }
[[tracker]]
name = "bugzilla"
key_prefix = "BZ"
[[repository]]
path = "../lustre-release"
release_tags = ['^v(\d+)_(\d+)$']
diff_cap = 100
gerrit_url = "https://review.example.org"
"#,
            std::path::Path::new("/a/hindsight.toml"),
        )
        .unwrap();
        let refs = vec!["refs/heads/master".to_string(), "refs/foo/x".to_string()];
        let archives = [
            ArchiveFile {
                source: "gh",
                file: "data/archive/gh.ndjson.zst",
            },
            ArchiveFile {
                source: "jira",
                file: "data/archive/jira.ndjson.zst",
            },
        ];
        let repositories = [RepositoryFile {
            name: "lustre-release",
            refs: &refs,
        }];
        let text = config_text(&original, &archives, &repositories);
        let back = Config::parse(&text, std::path::Path::new("/site/backup/hindsight.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back.title, original.title);
        assert_eq!(back.projects, original.projects);
        assert_eq!(back.base_url, original.base_url);
        assert_eq!(
            (
                back.show_emails,
                back.page_size,
                back.redirect_stubs,
                back.issue_json
            ),
            (true, 7, false, false)
        );
        assert_eq!(back.attachment_size_cap, 99);
        assert_eq!(back.project_names, original.project_names);
        assert_eq!(
            back.backup.kept_exports.as_deref(),
            Some(std::path::Path::new("/site/backup/data/exports"))
        );
        let names: Vec<_> = back.trackers.iter().map(|t| t.name.clone()).collect();
        assert_eq!(
            names,
            [
                Some("jira".into()),
                Some("gh".into()),
                Some("bugzilla".into())
            ]
        );
        assert_eq!(back.trackers[0].base_urls, ["https://jira.example.org"]);
        assert_eq!(
            back.trackers[0].references.as_ref().unwrap()[0].key,
            "LU-$1"
        );
        assert_eq!(back.trackers[1].key_prefixes["acme/fs"], "FS");
        assert_eq!(back.trackers[2].key_prefix.as_deref(), Some("BZ"));
        assert!(back.trackers[2].paths.is_empty());
        assert_eq!(back.bug_prefix(), original.bug_prefix());
        let r = &back.repositories[0];
        assert_eq!(
            r.path,
            std::path::Path::new("/site/backup/../source/lustre-release.git")
        );
        assert_eq!(r.release_tags, original.repositories[0].release_tags);
        assert_eq!(r.diff_cap, Some(100));
        assert_eq!(r.gerrit_url.as_deref(), Some("https://review.example.org"));
        assert!(r.refs.as_ref().unwrap().contains(&"refs/foo/x".to_string()));
        // The backup of the rebuilt site writes the same file.
        assert_eq!(config_text(&back, &archives, &repositories), text);
    }
}
