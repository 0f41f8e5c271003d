//! What shipped where: the release each release is compared with, the commits in one and not
//! the other, the subsystem a commit subject names, and where an issue's fix shipped ("fixed in
//! 2.15.0, back-ported to 2.14.1").
//!
//! **Consecutive releases** are defined on version order, per line (the line of `2.15.1` is
//! `2.15`): a maintenance release (a non-zero component after the second, `2.15.1`,
//! `1.8.0.1`) follows the greatest release below it in its own line (`2.15.0`); a line's first
//! release (`2.15.0`) follows the greatest line-first release below it (`2.14.0`, never the
//! maintenance release `2.14.1`, which is on another branch); a release with no such
//! predecessor follows the release just below it in version order, and the lowest release
//! follows none. The ordering needs no graph, so it is the same whatever the branches look like.
//!
//! **The compare sets** of a release and its predecessor are the commits reachable from one's
//! tags and not from the other's. Reachability from every release is computed once for the
//! whole history: one bit per release per commit, propagated from children to parents in the
//! topological order the history already has (one sweep, O((commits + parent links) ×
//! releases / 64)); each pair then reads its two bits per commit.
//!
//! **Where an issue's fix shipped** ([`History::issue_fix`]) is read from the commits citing
//! the issue and each one's first release (a commit reaching several releases counts once, at
//! its first):
//!
//! - the *fix* is the main line's: the commits that landed on the default branch; it is *fixed
//!   in* the lowest first release among them, with the commits first shipped there. When the
//!   default branch's commits are not released yet, nothing is "fixed in" (the page says the
//!   fix is on the main line, unreleased). When no citing commit landed on the default branch
//!   (a fix made only on a maintenance branch), the fix is the lowest first release of all;
//! - every other release that is the first release of some other citing commit is a
//!   *back-port* when its version is below the fix's (or when the fix is not released), and
//!   *also in* when above (a follow-up, or a forward port);
//! - citing commits in no release are listed as not yet released, with their branch.

use crate::source::history::{CommitInfo, History, Release};
use crate::source::releases::Version;

/// Commits in one release and not the other: the compare view of a release and its
/// predecessor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compare {
    /// Reachable from the release's tags, not from the predecessor's (newest first).
    pub ahead: Vec<u32>,
    /// Reachable from the predecessor's tags, not from the release's (newest first): a
    /// maintenance line's commits the next line never merged.
    pub behind: Vec<u32>,
}

/// One release an issue's fix reached, with the citing commits first shipped in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    /// Position in [`History::releases`].
    pub release: u32,
    /// Citing commits whose first release it is (positions, newest first).
    pub commits: Vec<u32>,
}

/// Where an issue's fix shipped (the rule is in the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueFix {
    /// The release the main-line fix first shipped in.
    pub fixed: Option<Shipment>,
    /// Citing commits on the default branch in no release yet (newest first).
    pub main_unreleased: Vec<u32>,
    /// Releases below the fix's version (or any, when the fix is not released) that other
    /// citing commits first shipped in, newest version first.
    pub backports: Vec<Shipment>,
    /// Releases above the fix's version that other citing commits first shipped in, oldest
    /// version first.
    pub also: Vec<Shipment>,
    /// Citing commits off the default branch that are in no release (newest first).
    pub unreleased: Vec<u32>,
}

/// The first components of a version, padded with zeros to at least three.
fn parts(v: &Version) -> Vec<u64> {
    let mut p = v.0.clone();
    while p.len() < 3 {
        p.push(0);
    }
    p
}

/// Each release's predecessor (position in the same list), by the rule in the module
/// documentation. `releases` are in version order, oldest first.
pub fn predecessors(versions: &[&Version]) -> Vec<Option<u32>> {
    let parts: Vec<Vec<u64>> = versions.iter().map(|v| parts(v)).collect();
    let line_first = |p: &[u64]| p[2..].iter().all(|&x| x == 0);
    (0..parts.len())
        .map(|i| {
            let me = &parts[i];
            let found = if line_first(me) {
                (0..i).rev().find(|&j| line_first(&parts[j]))
            } else {
                (0..i).rev().find(|&j| parts[j][..2] == me[..2])
            };
            found.or_else(|| i.checked_sub(1)).map(|j| j as u32)
        })
        .collect()
}

/// The compare sets of every release with its predecessor (`None` for a release with none).
/// `commits` are in the history's topological order (children first, parents as positions).
pub fn compare_all(
    commits: &[CommitInfo],
    releases: &[Release],
    previous: &[Option<u32>],
) -> Vec<Option<Compare>> {
    let n = commits.len();
    let words = releases.len().div_ceil(64).max(1);
    let mut bits = vec![0u64; n * words];
    for (r, rel) in releases.iter().enumerate() {
        for &t in &rel.tips {
            bits[t as usize * words + r / 64] |= 1 << (r % 64);
        }
    }
    for c in 0..n {
        let (head, tail) = bits.split_at_mut((c + 1) * words);
        let own = &head[c * words..];
        for &p in &commits[c].parents {
            if p as usize <= c {
                continue; // only a corrupt graph (a cycle) has a parent before its child
            }
            let start = p as usize * words - (c + 1) * words;
            for w in 0..words {
                tail[start + w] |= own[w];
            }
        }
    }
    let has = |c: usize, r: usize| bits[c * words + r / 64] & (1 << (r % 64)) != 0;
    previous
        .iter()
        .enumerate()
        .map(|(r, prev)| {
            let u = (*prev)? as usize;
            let mut out = Compare::default();
            for c in 0..n {
                match (has(c, r), has(c, u)) {
                    (true, false) => out.ahead.push(c as u32),
                    (false, true) => out.behind.push(c as u32),
                    _ => {}
                }
            }
            Some(out)
        })
        .collect()
}

/// The subsystem a commit subject names, Lustre's way: `LU-1234 ldlm: fix …` → `ldlm`,
/// `lnet/klnds: …` → `lnet/klnds`, after any leading issue keys (`LU-1234`, `b=12345`,
/// `LU-1 LU-2`). Lower-cased; `None` when the subject has no such prefix.
pub fn subsystem(subject: &str) -> Option<String> {
    let mut rest = subject.trim_start();
    loop {
        let word = rest.split_whitespace().next()?;
        let w = word.trim_end_matches(',');
        if !(w.starts_with("b=") || crate::keys::split_key(w).is_some()) {
            break;
        }
        rest = rest[word.len()..].trim_start();
    }
    let (head, tail) = rest.split_once(':')?;
    if !tail.starts_with(' ') || head.is_empty() || head.len() > 32 {
        return None;
    }
    let ok = head.starts_with(|c: char| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.+".contains(c));
    ok.then(|| head.to_ascii_lowercase())
}

impl History {
    /// Where the fix of an issue shipped (the rule is in the module documentation); `None`
    /// when no commit cites it.
    pub fn issue_fix(&self, key: &str) -> Option<IssueFix> {
        let citing = self.by_issue.get(key)?;
        let main = |c: u32| self.commits[c as usize].home == Some(0);
        let release_of = |c: u32| self.commits[c as usize].first_release;
        let mut fix = IssueFix::default();
        let lowest = |filter: &dyn Fn(u32) -> bool| {
            citing
                .iter()
                .copied()
                .filter(|&c| filter(c))
                .filter_map(release_of)
                .min()
        };
        let any_main = citing.iter().any(|&c| main(c));
        let fixed = if any_main {
            lowest(&|c| main(c))
        } else {
            lowest(&|_| true)
        };
        // Releases reached, each with the citing commits first shipped there (newest first,
        // as `citing` is).
        let mut shipments: Vec<Shipment> = Vec::new();
        for &c in citing {
            match release_of(c) {
                Some(r) => match shipments.iter_mut().find(|s| s.release == r) {
                    Some(s) => s.commits.push(c),
                    None => shipments.push(Shipment {
                        release: r,
                        commits: vec![c],
                    }),
                },
                None if main(c) => fix.main_unreleased.push(c),
                None => fix.unreleased.push(c),
            }
        }
        shipments.sort_by_key(|s| s.release);
        for s in shipments {
            match fixed {
                Some(f) if s.release == f => fix.fixed = Some(s),
                Some(f) if s.release > f => fix.also.push(s),
                _ => fix.backports.push(s),
            }
        }
        fix.backports.reverse();
        Some(fix)
    }

    /// The published issues cited by a commit first shipped in each release, in key order
    /// (what [`Release::issues`] holds after linking).
    pub(crate) fn cited_per_release(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = vec![Vec::new(); self.releases.len()];
        for (key, citing) in &self.by_issue {
            let mut seen: Vec<u32> = citing
                .iter()
                .filter_map(|&c| self.commits[c as usize].first_release)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for r in seen {
                out[r as usize].push(key.clone());
            }
        }
        for keys in &mut out {
            keys.sort_by(|a, b| crate::keys::compare_keys(a, b));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::releases::ReleaseRules;

    fn previous_names(names: &[&str]) -> Vec<Option<String>> {
        let rules = ReleaseRules::new(None, None).unwrap();
        let versions: Vec<Version> = names.iter().map(|n| rules.version(n).unwrap()).collect();
        let refs: Vec<&Version> = versions.iter().collect();
        predecessors(&refs)
            .into_iter()
            .map(|p| p.map(|j| names[j as usize].to_string()))
            .collect()
    }

    #[test]
    fn consecutive_is_per_line_in_version_order() {
        let names = [
            "1.4.7", "1.4.8", "1.6.0", "1.8.0", "1.8.0.1", "1.8.1", "2.0.0", "2.14.0", "2.14.1",
            "2.15.0", "2.15.1", "2.15.2", "2.16.0",
        ];
        let want = [
            None,
            Some("1.4.7"),
            Some("1.4.8"), // no line-first release below: the one just below
            Some("1.6.0"),
            Some("1.8.0"),
            Some("1.8.0.1"),
            Some("1.8.0"),
            Some("2.0.0"),
            Some("2.14.0"),
            Some("2.14.0"), // not 2.14.1: another line
            Some("2.15.0"),
            Some("2.15.1"),
            Some("2.15.0"),
        ];
        let want: Vec<Option<String>> = want.iter().map(|w| w.map(String::from)).collect();
        assert_eq!(previous_names(&names), want);
    }

    #[test]
    fn subsystems_as_lustre_writes_them() {
        let s = |t: &str| subsystem(t);
        assert_eq!(s("LU-1234 ldlm: fix the race").as_deref(), Some("ldlm"));
        assert_eq!(s("LU-1 LU-2 lnet/klnds: x").as_deref(), Some("lnet/klnds"));
        assert_eq!(s("b=12755 obdclass: tidy").as_deref(), Some("obdclass"));
        assert_eq!(s("tests: add sanity 42").as_deref(), Some("tests"));
        assert_eq!(s("LU-9 Build: bump").as_deref(), Some("build"));
        assert_eq!(s("New release 2.15.0"), None);
        assert_eq!(s("Merge branch 'b2_15'"), None);
        assert_eq!(s("LU-5 fix it: really now please yes"), None);
        assert_eq!(s("http://x: y"), None);
        assert_eq!(s(""), None);
    }
}
