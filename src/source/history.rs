//! The source history as later stages need it: a compact summary of every commit, the commit
//! graph in one topological order, branches, releases, and (once linked) which commits cite
//! which issues.
//!
//! Everything here is computed in single passes over the graph. Commits are numbered in a
//! topological order, newest first (children always before their parents, ties broken by
//! committer date, then id), which is also the order listings show. In that order:
//!
//! - the first release containing a commit is the minimum, over the release tags that reach it,
//!   of the release's position in version order. A commit's value is the minimum of the values
//!   of its children and of the releases tagged on it, so one sweep from the newest commit to the
//!   oldest propagates it to every parent: O(commits + parent links) for all commits together;
//! - the branches containing a commit are a bit set propagated the same way;
//! - a commit's *home* branch (where it landed) is the first branch, in priority order (the
//!   default branch first), whose first-parent chain reaches it; commits reached only through a
//!   merge's other parents inherit the home of a child.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::keys::split_key;
use crate::model::Timestamp;
use crate::source::releases::Version;
use crate::source::shipped::{self, Compare};

/// What listings and cross-links need to know about one commit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// The first line of the message.
    pub subject: String,
    /// Author's display name (after `.mailmap`).
    pub author: String,
    /// Committer date: when the commit landed.
    pub time: Option<Timestamp>,
    /// Positions of the parents that are in the history (a parent missing from a shallow
    /// clone is not).
    pub parents: Vec<u32>,
    /// The branch it landed on (position in [`History::branches`]).
    pub home: Option<u32>,
    /// The first release containing it (position in [`History::releases`]).
    pub first_release: Option<u32>,
    /// The `Change-Id` trailer: the same id on several branches marks ports of one change.
    pub change_id: Option<String>,
    /// The (abbreviated) id of the commit this one was ported from, when the message says so
    /// (`Lustre-commit: <id>`, `(cherry picked from commit <id>)`).
    pub port_of: Option<String>,
    /// Keys the message cites. Before linking, candidates `(key, generic)`; after linking only
    /// the references that count (generic keys of projects in the archive, and every key a
    /// configured pattern produced).
    pub references: Vec<String>,
    #[serde(skip)]
    pub(crate) candidates: Vec<(String, bool)>,
    /// Tags pointing at it.
    pub tags: Vec<String>,
}

impl CommitInfo {
    /// A commit with nothing but its id and subject (the git reader fills in the rest).
    pub fn new(id: String, subject: String) -> Self {
        CommitInfo {
            id,
            subject,
            author: String::new(),
            time: None,
            parents: Vec::new(),
            home: None,
            first_release: None,
            change_id: None,
            port_of: None,
            references: Vec::new(),
            candidates: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// Sets the reference candidates found in the message.
    pub fn set_candidates(&mut self, candidates: Vec<(String, bool)>) {
        self.candidates = candidates;
    }

    /// The abbreviated id shown in listings.
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(10)]
    }
}

/// A branch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Branch {
    /// Its name (`master`, `b2_15`), without `refs/heads/` or `refs/remotes/origin/`.
    pub name: String,
    /// The refs it was read from.
    pub refs: Vec<String>,
    /// Its tip commits (one per ref).
    pub tips: Vec<u32>,
    /// How many commits landed on it (have it as home).
    pub commits: usize,
}

/// A release: one version, possibly under several tag names.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Release {
    /// Canonical name (`2.15.0`).
    pub name: String,
    /// The version.
    #[serde(skip)]
    pub version: Version,
    /// Its tags (`2.15.0`, `v2_15_0`), sorted.
    pub tags: Vec<String>,
    /// The commits its tags point at.
    pub tips: Vec<u32>,
    /// The tag date (annotated tags) or the tagged commit's date, earliest of its tags.
    pub date: Option<Timestamp>,
    /// How many commits first shipped in it.
    pub commits: usize,
    /// Published issues cited by a commit first shipped in it (the fix, or a back-port of
    /// it), in key order. Filled by linking.
    pub issues: Vec<String>,
    /// The release it follows, by version per line (position in [`History::releases`]; the
    /// rule is in [`crate::source::shipped`]).
    pub previous: Option<u32>,
    /// The commits in it and not in `previous`, and the reverse.
    #[serde(skip)]
    pub compare: Option<Compare>,
}

/// A commit as the git reader hands it to [`History::build`]: its summary, with `parents` as
/// positions in the reader's own order.
pub struct Node {
    /// The summary.
    pub info: CommitInfo,
    /// Committer time in seconds, for ordering.
    pub seconds: i64,
}

/// A release as the git reader found it: version, tags, and the reader's positions of the
/// commits they point at.
pub struct ReleaseInput {
    /// The version.
    pub version: Version,
    /// Alias tags.
    pub tags: Vec<String>,
    /// Tagged commits (reader positions).
    pub tips: Vec<u32>,
    /// Earliest tag date.
    pub date: Option<Timestamp>,
}

/// Counts of what linking found, for the build summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkStats {
    /// Commits citing at least one published issue.
    pub linked_commits: usize,
    /// Published issues cited by at least one commit.
    pub cited_issues: usize,
    /// (commit, key) references to published issues.
    pub resolved: usize,
    /// (commit, key) references to issues not in the archive.
    pub unresolved: usize,
    /// Distinct keys not in the archive.
    pub unresolved_keys: usize,
}

/// The whole history.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Every commit once, newest first in topological order.
    pub commits: Vec<CommitInfo>,
    /// Branches, default branch first.
    pub branches: Vec<Branch>,
    /// Releases in version order (oldest first).
    pub releases: Vec<Release>,
    /// Commits whose parents are missing from the repository (shallow clone).
    pub missing_parents: usize,
    /// Published issue → commits citing it (positions, newest first). Filled by linking.
    pub by_issue: HashMap<String, Vec<u32>>,
    /// What linking found.
    pub stats: LinkStats,
    sorted_ids: Vec<(String, u32)>,
    words: usize,
    bits: Vec<u64>,
}

/// A [`History`] as the build cache keeps it between builds (`super::kept`): every field,
/// including those the templates never see (each commit's reference candidates, each
/// release's version and compare view), so that the history read back is the one saved.
/// Only the history as the git stage returns it is saved: what linking adds is not in it.
#[derive(Serialize, Deserialize)]
pub struct SavedHistory {
    commits: Vec<CommitInfo>,
    candidates: Vec<Vec<(String, bool)>>,
    branches: Vec<Branch>,
    releases: Vec<Release>,
    versions: Vec<Vec<u64>>,
    compares: Vec<Option<SavedCompare>>,
    missing_parents: usize,
    sorted_ids: Vec<(String, u32)>,
    words: usize,
    bits: Vec<u64>,
}

/// A release's compare view as [`SavedHistory`] keeps it.
#[derive(Serialize, Deserialize)]
struct SavedCompare {
    ahead: Vec<u32>,
    behind: Vec<u32>,
}

impl History {
    /// The history as the build cache keeps it. Called on the git stage's result, before
    /// linking fills in what cites what.
    pub fn to_saved(&self) -> SavedHistory {
        SavedHistory {
            commits: self.commits.clone(),
            candidates: self.commits.iter().map(|c| c.candidates.clone()).collect(),
            branches: self.branches.clone(),
            releases: self.releases.clone(),
            versions: self.releases.iter().map(|r| r.version.0.clone()).collect(),
            compares: self
                .releases
                .iter()
                .map(|r| {
                    r.compare.as_ref().map(|c| SavedCompare {
                        ahead: c.ahead.clone(),
                        behind: c.behind.clone(),
                    })
                })
                .collect(),
            missing_parents: self.missing_parents,
            sorted_ids: self.sorted_ids.clone(),
            words: self.words,
            bits: self.bits.clone(),
        }
    }

    /// The history [`History::to_saved`] saved; `None` when the parts do not fit together (a
    /// damaged or foreign file), so the caller reads the repositories instead.
    pub fn from_saved(saved: SavedHistory) -> Option<History> {
        let SavedHistory {
            mut commits,
            candidates,
            branches,
            mut releases,
            versions,
            compares,
            missing_parents,
            sorted_ids,
            words,
            bits,
        } = saved;
        let n = commits.len();
        let fits = candidates.len() == n
            && versions.len() == releases.len()
            && compares.len() == releases.len()
            && sorted_ids.len() == n
            && bits.len() == n * words;
        if !fits {
            return None;
        }
        for (c, candidates) in commits.iter_mut().zip(candidates) {
            c.candidates = candidates;
        }
        for ((r, version), compare) in releases.iter_mut().zip(versions).zip(compares) {
            r.version = Version(version);
            r.compare = compare.map(|c| Compare {
                ahead: c.ahead,
                behind: c.behind,
            });
        }
        Some(History {
            commits,
            branches,
            releases,
            missing_parents,
            by_issue: HashMap::new(),
            stats: LinkStats::default(),
            sorted_ids,
            words,
            bits,
        })
    }
}

impl History {
    /// Orders the graph and computes branches, homes and first releases.
    ///
    /// `branches` are `(name, refs, tips)` in priority order (default branch first).
    pub fn build(
        nodes: Vec<Node>,
        branches: Vec<(String, Vec<String>, Vec<u32>)>,
        releases: Vec<ReleaseInput>,
        tags: Vec<(String, u32)>,
        missing_parents: usize,
    ) -> History {
        let n = nodes.len();
        // Topological order, newest first: a commit is ready once all its children are placed.
        let mut children = vec![0u32; n];
        for node in &nodes {
            for &p in &node.info.parents {
                children[p as usize] += 1;
            }
        }
        let mut heap: BinaryHeap<(i64, Reverse<&str>, u32)> = BinaryHeap::new();
        for (i, node) in nodes.iter().enumerate() {
            if children[i] == 0 {
                heap.push((node.seconds, Reverse(node.info.id.as_str()), i as u32));
            }
        }
        let mut order: Vec<u32> = Vec::with_capacity(n);
        while let Some((_, _, i)) = heap.pop() {
            order.push(i);
            for &p in &nodes[i as usize].info.parents {
                let c = &mut children[p as usize];
                *c -= 1;
                if *c == 0 {
                    let pn = &nodes[p as usize];
                    heap.push((pn.seconds, Reverse(pn.info.id.as_str()), p));
                }
            }
        }
        if order.len() < n {
            // Only a corrupt repository has a cycle; keep every commit anyway.
            let placed: HashSet<u32> = order.iter().copied().collect();
            order.extend((0..n as u32).filter(|i| !placed.contains(i)));
        }
        let mut rank = vec![0u32; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let mut slots: Vec<Option<CommitInfo>> = nodes.into_iter().map(|n| Some(n.info)).collect();
        let mut commits: Vec<CommitInfo> = order
            .iter()
            .map(|&i| {
                let mut c = slots[i as usize].take().expect("each commit placed once");
                for p in &mut c.parents {
                    *p = rank[*p as usize];
                }
                c
            })
            .collect();
        for (tag, at) in tags {
            commits[rank[at as usize] as usize].tags.push(tag);
        }
        for c in &mut commits {
            c.tags.sort();
        }

        // First release: minimum release position, propagated from children to parents.
        let mut releases: Vec<Release> = releases
            .into_iter()
            .map(|r| Release {
                name: r.version.name(),
                version: r.version,
                tags: r.tags,
                tips: r.tips.iter().map(|&t| rank[t as usize]).collect(),
                date: r.date,
                commits: 0,
                issues: Vec::new(),
                previous: None,
                compare: None,
            })
            .collect();
        let versions: Vec<&Version> = releases.iter().map(|r| &r.version).collect();
        for (r, p) in shipped::predecessors(&versions).into_iter().enumerate() {
            releases[r].previous = p;
        }
        let mut first = vec![u32::MAX; n];
        for (ri, r) in releases.iter().enumerate() {
            for &t in &r.tips {
                first[t as usize] = first[t as usize].min(ri as u32);
            }
        }
        // Branch bit sets, propagated the same way.
        let words = branches.len().div_ceil(64).max(1);
        let mut bits = vec![0u64; n * words];
        let mut branch_list: Vec<Branch> = Vec::new();
        for (bi, (name, refs, tips)) in branches.into_iter().enumerate() {
            let tips: Vec<u32> = tips.iter().map(|&t| rank[t as usize]).collect();
            for &t in &tips {
                bits[t as usize * words + bi / 64] |= 1 << (bi % 64);
            }
            branch_list.push(Branch {
                name,
                refs,
                tips,
                commits: 0,
            });
        }
        for c in 0..n {
            let f = first[c];
            let (head, tail) = bits.split_at_mut((c + 1) * words);
            let own = &head[c * words..];
            for &p in &commits[c].parents {
                let p = p as usize;
                if f < first[p] {
                    first[p] = f;
                }
                let start = p * words - (c + 1) * words;
                for w in 0..words {
                    tail[start + w] |= own[w];
                }
            }
        }
        // Home branch: first-parent chains claimed in priority order, then inherited.
        let mut home: Vec<Option<u32>> = vec![None; n];
        for (bi, b) in branch_list.iter().enumerate() {
            for &t in &b.tips {
                let mut c = t as usize;
                while home[c].is_none() {
                    home[c] = Some(bi as u32);
                    match commits[c].parents.first() {
                        Some(&p) => c = p as usize,
                        None => break,
                    }
                }
            }
        }
        for c in 0..n {
            if let Some(h) = home[c] {
                for i in 0..commits[c].parents.len() {
                    let p = commits[c].parents[i] as usize;
                    if home[p].is_none() {
                        home[p] = Some(h);
                    }
                }
            }
        }
        for (c, info) in commits.iter_mut().enumerate() {
            info.first_release = (first[c] != u32::MAX).then_some(first[c]);
            info.home = home[c];
            if let Some(h) = home[c] {
                branch_list[h as usize].commits += 1;
            }
            if let Some(r) = info.first_release {
                releases[r as usize].commits += 1;
            }
        }
        let previous: Vec<Option<u32>> = releases.iter().map(|r| r.previous).collect();
        for (r, c) in shipped::compare_all(&commits, &releases, &previous)
            .into_iter()
            .enumerate()
        {
            releases[r].compare = c;
        }
        let mut sorted_ids: Vec<(String, u32)> = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i as u32))
            .collect();
        sorted_ids.sort();
        History {
            commits,
            branches: branch_list,
            releases,
            missing_parents,
            by_issue: HashMap::new(),
            stats: LinkStats::default(),
            sorted_ids,
            words,
            bits,
        }
    }

    /// The position of a commit by full id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.sorted_ids
            .binary_search_by(|(k, _)| k.as_str().cmp(id))
            .ok()
            .map(|i| self.sorted_ids[i].1)
    }

    /// The commit an abbreviated id (4–40 hex digits) names, when exactly one commit starts so.
    pub fn resolve_prefix(&self, prefix: &str) -> Option<u32> {
        if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let prefix = prefix.to_ascii_lowercase();
        let start = self
            .sorted_ids
            .partition_point(|(k, _)| k.as_str() < prefix.as_str());
        let mut hits = self.sorted_ids[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(&prefix));
        let first = hits.next()?;
        if hits.next().is_some() {
            return None;
        }
        Some(first.1)
    }

    /// The branches containing a commit, in priority order.
    pub fn branches_containing(&self, c: u32) -> Vec<u32> {
        let c = c as usize;
        let mut out = Vec::new();
        for b in 0..self.branches.len() {
            if self.bits[c * self.words + b / 64] & (1 << (b % 64)) != 0 {
                out.push(b as u32);
            }
        }
        out
    }

    /// Keeps the references that count and indexes commits by the issues they cite:
    /// `published(key)` says whether an issue is in the archive, `project(p)` whether `p` is one
    /// of its projects (generic `PROJ-123` matches count only for those).
    pub fn link(&mut self, published: impl Fn(&str) -> bool, project: impl Fn(&str) -> bool) {
        let mut by_issue: HashMap<String, Vec<u32>> = HashMap::new();
        let mut unresolved_keys: HashSet<String> = HashSet::new();
        let mut stats = LinkStats::default();
        for (i, c) in self.commits.iter_mut().enumerate() {
            let mut refs: Vec<String> = Vec::new();
            for (key, generic) in std::mem::take(&mut c.candidates) {
                let counts = !generic || split_key(&key).is_some_and(|k| project(k.project));
                if counts && !refs.contains(&key) {
                    refs.push(key);
                }
            }
            let mut linked = false;
            for key in &refs {
                if published(key) {
                    by_issue.entry(key.clone()).or_default().push(i as u32);
                    stats.resolved += 1;
                    linked = true;
                } else {
                    stats.unresolved += 1;
                    unresolved_keys.insert(key.clone());
                }
            }
            if linked {
                stats.linked_commits += 1;
            }
            c.references = refs;
        }
        stats.cited_issues = by_issue.len();
        stats.unresolved_keys = unresolved_keys.len();
        self.by_issue = by_issue;
        self.stats = stats;
        for (r, keys) in self.cited_per_release().into_iter().enumerate() {
            self.releases[r].issues = keys;
        }
    }

    /// The first release of an issue: the earliest first release of the commits citing it.
    pub fn issue_first_release(&self, key: &str) -> Option<u32> {
        self.by_issue
            .get(key)?
            .iter()
            .filter_map(|&c| self.commits[c as usize].first_release)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::natural_cmp;

    /// A history from `(id, seconds, parents)` in any order.
    fn graph(
        spec: &[(&str, i64, &[&str])],
        branches: &[(&str, &str)],
        releases: &[(&str, &[&str])],
    ) -> History {
        let pos = |id: &str| spec.iter().position(|s| s.0 == id).unwrap() as u32;
        let nodes = spec
            .iter()
            .map(|(id, t, parents)| {
                let mut info = CommitInfo::new(id.to_string(), format!("subject {id}"));
                info.parents = parents.iter().map(|p| pos(p)).collect();
                Node { info, seconds: *t }
            })
            .collect();
        let branches = branches
            .iter()
            .map(|(n, tip)| {
                (
                    n.to_string(),
                    vec![format!("refs/heads/{n}")],
                    vec![pos(tip)],
                )
            })
            .collect();
        let rules = crate::source::releases::ReleaseRules::new(None, None).unwrap();
        let releases = releases
            .iter()
            .map(|(tag, tips)| ReleaseInput {
                version: rules.version(tag).unwrap(),
                tags: vec![tag.to_string()],
                tips: tips.iter().map(|t| pos(t)).collect(),
                date: None,
            })
            .collect();
        History::build(nodes, branches, releases, vec![], 0)
    }

    fn by_id<'h>(h: &'h History, id: &str) -> &'h CommitInfo {
        &h.commits[h.index_of(id).unwrap() as usize]
    }

    fn release_of(h: &History, id: &str) -> Option<String> {
        by_id(h, id)
            .first_release
            .map(|r| h.releases[r as usize].name.clone())
    }

    // master: a1 - a2 - m3 (merge of f1) - a4 ; feature: a1 - f1 ; maint: a2 - b1 - b2
    // 1.0.0 tags a2; 1.1.0 tags b2 (maintenance); 2.0.0 tags a4 (after merging f1, made
    // before 1.1.0 but first released in 2.0.0).
    fn sample() -> History {
        graph(
            &[
                ("a1", 10, &[]),
                ("a2", 20, &["a1"]),
                ("f1", 15, &["a1"]),
                ("b1", 30, &["a2"]),
                ("b2", 40, &["b1"]),
                ("m3", 50, &["a2", "f1"]),
                ("a4", 60, &["m3"]),
                ("a5", 70, &["a4"]),
            ],
            &[("master", "a5"), ("b1_1", "b2")],
            &[("1.0.0", &["a2"]), ("1.1.0", &["b2"]), ("v2_0_0", &["a4"])],
        )
    }

    #[test]
    fn order_puts_children_first() {
        let h = sample();
        for (i, c) in h.commits.iter().enumerate() {
            for &p in &c.parents {
                assert!(p as usize > i, "{} before its parent", c.id);
            }
        }
        assert_eq!(h.commits[0].id, "a5");
    }

    #[test]
    fn first_release_across_a_merge() {
        let h = sample();
        assert_eq!(release_of(&h, "a1").as_deref(), Some("1.0.0"));
        assert_eq!(release_of(&h, "a2").as_deref(), Some("1.0.0"));
        assert_eq!(release_of(&h, "b1").as_deref(), Some("1.1.0"));
        assert_eq!(release_of(&h, "f1").as_deref(), Some("2.0.0"));
        assert_eq!(release_of(&h, "m3").as_deref(), Some("2.0.0"));
        assert_eq!(release_of(&h, "a5"), None);
        let counts: Vec<usize> = h.releases.iter().map(|r| r.commits).collect();
        assert_eq!(counts, [2, 2, 3]);
    }

    #[test]
    fn branches_and_homes() {
        let h = sample();
        let name = |c: &str| h.branches[by_id(&h, c).home.unwrap() as usize].name.clone();
        assert_eq!(name("a1"), "master");
        assert_eq!(name("f1"), "master");
        assert_eq!(name("b1"), "b1_1");
        let containing = |c: &str| {
            h.branches_containing(h.index_of(c).unwrap())
                .iter()
                .map(|&b| h.branches[b as usize].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(containing("a2"), ["master", "b1_1"]);
        assert_eq!(containing("b2"), ["b1_1"]);
        assert_eq!(containing("f1"), ["master"]);
    }

    #[test]
    fn prefixes_resolve_only_when_unique() {
        let h = graph(
            &[
                ("abcd1111", 1, &[]),
                ("abcd2222", 2, &["abcd1111"]),
                ("ef001234", 3, &["abcd2222"]),
            ],
            &[("master", "ef001234")],
            &[],
        );
        assert_eq!(h.resolve_prefix("abcd"), None);
        assert_eq!(h.resolve_prefix("abcd2"), h.index_of("abcd2222"));
        assert_eq!(h.resolve_prefix("EF00"), h.index_of("ef001234"));
        assert_eq!(h.resolve_prefix("ff00"), None);
    }

    #[test]
    fn linking_counts_and_first_fixed() {
        let mut h = sample();
        let set = |h: &mut History, id: &str, refs: &[(&str, bool)]| {
            let i = h.index_of(id).unwrap() as usize;
            h.commits[i].candidates = refs.iter().map(|(k, g)| (k.to_string(), *g)).collect();
        };
        set(&mut h, "f1", &[("LU-1", true), ("LUS-9", true)]);
        set(&mut h, "b1", &[("LU-1", true), ("BZ-5", false)]);
        set(&mut h, "a5", &[("LU-2", true)]);
        h.link(|k| k == "LU-1" || k == "LU-2", |p| p == "LU");
        assert_eq!(h.stats.linked_commits, 3);
        assert_eq!(h.stats.unresolved, 1);
        assert_eq!(by_id(&h, "f1").references, ["LU-1"]);
        assert_eq!(by_id(&h, "b1").references, ["LU-1", "BZ-5"]);
        // LU-1 is cited by f1 (2.0.0) and its port b1 (1.1.0): first fixed in 1.1.0, and
        // listed by both releases.
        let r = h.issue_first_release("LU-1").unwrap();
        assert_eq!(h.releases[r as usize].name, "1.1.0");
        assert_eq!(h.releases[1].issues, ["LU-1"]);
        assert_eq!(h.releases[2].issues, ["LU-1"]);
        assert!(h.releases[0].issues.is_empty());
        assert_eq!(h.issue_first_release("LU-2"), None);
    }

    #[test]
    fn compare_sets_between_consecutive_releases() {
        let h = sample();
        let ids = |v: &[u32]| {
            v.iter()
                .map(|&c| h.commits[c as usize].id.clone())
                .collect::<Vec<_>>()
        };
        // 1.1.0 is a line's first release: it follows 1.0.0; 2.0.0 follows 1.1.0.
        let prev: Vec<Option<u32>> = h.releases.iter().map(|r| r.previous).collect();
        assert_eq!(prev, [None, Some(0), Some(1)]);
        assert!(h.releases[0].compare.is_none());
        let c = h.releases[1].compare.as_ref().unwrap();
        assert_eq!(ids(&c.ahead), ["b2", "b1"]);
        assert!(c.behind.is_empty());
        // The maintenance branch's commits are in 1.1.0 and not in 2.0.0.
        let c = h.releases[2].compare.as_ref().unwrap();
        assert_eq!(ids(&c.ahead), ["a4", "m3", "f1"]);
        assert_eq!(ids(&c.behind), ["b2", "b1"]);
    }

    #[test]
    fn fixed_in_and_back_ported_to() {
        let mut h = sample();
        let set = |h: &mut History, id: &str, key: &str| {
            let i = h.index_of(id).unwrap() as usize;
            h.commits[i].candidates.push((key.to_string(), true));
        };
        set(&mut h, "f1", "LU-1"); // master, 2.0.0
        set(&mut h, "b1", "LU-1"); // its port on b1_1, 1.1.0
        set(&mut h, "a1", "LU-2"); // master, 1.0.0 (and every later release: not a port)
        set(&mut h, "a5", "LU-3"); // master, unreleased
        set(&mut h, "b2", "LU-3"); // its port, 1.1.0
        set(&mut h, "b2", "LU-4"); // only on the maintenance branch
        h.link(|_| true, |p| p == "LU");
        let name = |r: u32| h.releases[r as usize].name.as_str();
        let id = |c: u32| h.commits[c as usize].id.as_str();

        let f = h.issue_fix("LU-1").unwrap();
        let fixed = f.fixed.as_ref().unwrap();
        assert_eq!((name(fixed.release), id(fixed.commits[0])), ("2.0.0", "f1"));
        assert_eq!(f.backports.len(), 1);
        assert_eq!(name(f.backports[0].release), "1.1.0");
        assert_eq!(id(f.backports[0].commits[0]), "b1");
        assert!(f.also.is_empty() && f.unreleased.is_empty());

        let f = h.issue_fix("LU-2").unwrap();
        assert_eq!(name(f.fixed.unwrap().release), "1.0.0");
        assert!(f.backports.is_empty() && f.also.is_empty());

        let f = h.issue_fix("LU-3").unwrap();
        assert!(f.fixed.is_none());
        assert_eq!(
            f.main_unreleased.iter().map(|&c| id(c)).collect::<Vec<_>>(),
            ["a5"]
        );
        assert_eq!(name(f.backports[0].release), "1.1.0");

        let f = h.issue_fix("LU-4").unwrap();
        assert_eq!(name(f.fixed.unwrap().release), "1.1.0");
        assert!(f.backports.is_empty() && f.main_unreleased.is_empty());
        assert!(h.issue_fix("LU-5").is_none());
        // Each release lists the issues a commit first shipped in it cites.
        assert_eq!(h.releases[0].issues, ["LU-2"]);
        assert_eq!(h.releases[1].issues, ["LU-1", "LU-3", "LU-4"]);
        assert_eq!(h.releases[2].issues, ["LU-1"]);
    }

    #[test]
    fn natural_order_of_branch_names() {
        let mut v = vec!["b2_10", "b2_9", "b1_8", "master", "b2_1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["b1_8", "b2_1", "b2_9", "b2_10", "master"]);
    }
}
