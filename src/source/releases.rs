//! Releases: which tags name a release, what version each names, and which tags are aliases of
//! one release.
//!
//! A tag is a release when its name matches one of the configured release patterns and none of
//! the exclusion patterns. The numbers a release pattern captures are the version; versions are
//! compared numerically, component by component, with trailing zero components ignored, so
//! Lustre's `2.15.0`, `v2_15_0` and `v2_15_0_0` are one release, `2.15.10` sorts after `2.15.9`,
//! and the release is shown under its canonical name `2.15.0`. By default `-RC` tags never match
//! (the pattern is anchored), and development tags, whose third or later component is 50 or more
//! (Lustre's `2.15.50`–`2.15.91`, `1.8.0.110`), are excluded.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use regex::Regex;

use crate::error::{Error, Result};

/// Default patterns of release tag names; the captured numbers are the version.
pub const DEFAULT_RELEASE_TAGS: &[&str] = &[r"^v?(\d+)[._](\d+)(?:[._](\d+))?(?:[._](\d+))?$"];

/// Default patterns of tag names that are never releases even when a release pattern matches:
/// development tags, whose third or later component is 50 or more.
pub const DEFAULT_NOT_RELEASE_TAGS: &[&str] =
    &[r"^v?\d+[._]\d+(?:[._]\d+)*[._](?:[5-9]\d|[1-9]\d{2,})(?:[._]\d+)*$"];

/// A version: numeric components, compared numerically with trailing zeros ignored.
#[derive(Clone, Debug, Default, Eq)]
pub struct Version(pub Vec<u64>);

impl Version {
    /// The components without trailing zeros (beyond the first).
    fn significant(&self) -> &[u64] {
        let mut n = self.0.len();
        while n > 1 && self.0[n - 1] == 0 {
            n -= 1;
        }
        &self.0[..n]
    }

    /// The canonical name: at least three components, joined by dots (`2.15.0`).
    pub fn name(&self) -> String {
        let mut parts: Vec<u64> = self.significant().to_vec();
        while parts.len() < 3 {
            parts.push(0);
        }
        parts
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.significant(), other.significant());
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0);
            match x.cmp(&y) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The compiled release rules of one repository.
#[derive(Clone, Debug)]
pub struct ReleaseRules {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl ReleaseRules {
    /// Compiles the configured patterns (or the defaults when `None`). `what` names the setting
    /// in error messages.
    pub fn new(include: Option<&[String]>, exclude: Option<&[String]>) -> Result<Self> {
        let compile = |list: Vec<String>, what: &str| -> Result<Vec<Regex>> {
            list.iter()
                .map(|p| {
                    Regex::new(p).map_err(|e| Error::Config {
                        path: "[[repository]]".into(),
                        message: format!("{what}: bad regular expression {p:?}: {e}"),
                    })
                })
                .collect()
        };
        let owned = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(ReleaseRules {
            include: compile(
                include
                    .map(|v| v.to_vec())
                    .unwrap_or_else(|| owned(DEFAULT_RELEASE_TAGS)),
                "release_tags",
            )?,
            exclude: compile(
                exclude
                    .map(|v| v.to_vec())
                    .unwrap_or_else(|| owned(DEFAULT_NOT_RELEASE_TAGS)),
                "not_release_tags",
            )?,
        })
    }

    /// The version a tag names, when the tag is a release.
    pub fn version(&self, tag: &str) -> Option<Version> {
        if self.exclude.iter().any(|r| r.is_match(tag)) {
            return None;
        }
        for re in &self.include {
            if let Some(c) = re.captures(tag) {
                let parts: Vec<u64> = c
                    .iter()
                    .skip(1)
                    .flatten()
                    .filter_map(|m| m.as_str().parse().ok())
                    .collect();
                if !parts.is_empty() {
                    return Some(Version(parts));
                }
            }
        }
        None
    }
}

/// The release a tracker version names: `Lustre 2.15.0` → `2.15.0`, `2.15` → `2.15.0`: the
/// numbers at the end of the version's name, canonical as [`Version::name`] writes them.
pub fn named_by(version: &str) -> Option<String> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?:^|[^\d.])v?(\d+(?:\.\d+){1,3})$").unwrap());
    let caps = re.captures(version.trim())?;
    let parts: Vec<u64> = caps[1].split('.').filter_map(|p| p.parse().ok()).collect();
    Some(Version(parts).name())
}

/// Tags grouped into releases: canonical name → (version, alias tag names sorted), in version
/// order.
pub fn group<'t>(
    rules: &ReleaseRules,
    tags: impl IntoIterator<Item = &'t str>,
) -> Vec<(Version, Vec<String>)> {
    let mut by_name: BTreeMap<String, (Version, Vec<String>)> = BTreeMap::new();
    for tag in tags {
        if let Some(v) = rules.version(tag) {
            by_name
                .entry(v.name())
                .or_insert_with(|| (v, Vec::new()))
                .1
                .push(tag.to_string());
        }
    }
    let mut out: Vec<(Version, Vec<String>)> = by_name.into_values().collect();
    for (_, tags) in &mut out {
        tags.sort();
        tags.dedup();
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ReleaseRules {
        ReleaseRules::new(None, None).unwrap()
    }

    #[test]
    fn lustre_tag_names() {
        let r = rules();
        assert_eq!(r.version("2.15.0").unwrap().name(), "2.15.0");
        assert_eq!(r.version("v2_15_0").unwrap().name(), "2.15.0");
        assert_eq!(r.version("v2_1_0_0").unwrap().name(), "2.1.0");
        assert_eq!(r.version("1.8.0.1").unwrap().name(), "1.8.0.1");
        for not in [
            "2.15.0-RC1",
            "v2_15_0-RC1",
            "v2_15_0_RC2",
            "2.15.50",
            "v2_15_91",
            "2.1.50.0",
            "1.8.0.110",
            "2.0.alpha",
            "GIT_EPOCH_MASTER",
            "1.8.6-wc1",
        ] {
            assert!(r.version(not).is_none(), "{not}");
        }
    }

    #[test]
    fn aliases_are_one_release_in_version_order() {
        let g = group(
            &rules(),
            [
                "v2_15_0",
                "2.15.10",
                "2.15.0",
                "2.15.9",
                "2.15.0-RC1",
                "2.9.0",
                "v2_9_0_0",
            ],
        );
        let names: Vec<String> = g.iter().map(|(v, _)| v.name()).collect();
        assert_eq!(names, ["2.9.0", "2.15.0", "2.15.9", "2.15.10"]);
        assert_eq!(g[0].1, ["2.9.0", "v2_9_0_0"]);
        assert_eq!(g[1].1, ["2.15.0", "v2_15_0"]);
    }

    #[test]
    fn tracker_versions_name_releases() {
        assert_eq!(named_by("Lustre 2.15.0").as_deref(), Some("2.15.0"));
        assert_eq!(named_by("Lustre 2.12").as_deref(), Some("2.12.0"));
        assert_eq!(named_by("2.5.1").as_deref(), Some("2.5.1"));
        assert_eq!(named_by("Backlog"), None);
    }

    #[test]
    fn custom_patterns_replace_the_defaults() {
        let r =
            ReleaseRules::new(Some(&[r"^release-(\d+)\.(\d+)$".to_string()]), Some(&[])).unwrap();
        assert_eq!(r.version("release-3.2").unwrap().name(), "3.2.0");
        assert!(r.version("3.2.0").is_none());
    }
}
