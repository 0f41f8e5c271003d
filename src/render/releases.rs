//! Release pages: the index (`releases/index.html`), a page per release
//! (`releases/2.15.0/`, paginated) with the issues fixed in it and the commits first shipped in
//! it grouped by component, a compare view per release and its predecessor
//! (`releases/compare/2.15.0...2.15.1/`, paginated: the commits in one and not the other, both
//! ways), and the "fixed in … back-ported to …" line of issue pages.
//!
//! An issue is *fixed in* a release when the tracker's fix version names it (`Lustre 2.15.0` ↔
//! `2.15.0`, [`crate::source::releases::named_by`]) or a commit citing it first shipped in it.
//! A commit's *component* is the subsystem its subject names, as Lustre writes it (`LU-1234
//! ldlm: …` → `ldlm`): every commit has a subject, and it names the code the commit touched,
//! where an issue's component names where the problem was seen; a subject with no subsystem
//! falls back to the first component of the first published issue it cites, and the rest go
//! under "no component" (last). Groups are in natural name order, commits in each newest first.
//! The predecessor rule and the compare sets are [`crate::source::shipped`]'s.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

use super::commits::{page_file, CommitRow, Link};
use super::{listing_path, root_of, slug, status_class, value_slug, Renderer, TimeView};
use crate::error::Result;
use crate::keys::{commit_path, compare_keys, natural_cmp};
use crate::render::PageSink;
use crate::source::releases::named_by;
use crate::source::shipped::{IssueFix, Shipment};

/// The folder of a release's pages (`releases/2.15.0/`): canonical names are digits and dots.
pub(super) fn release_dir(name: &str) -> String {
    format!("releases/{name}")
}

/// The folder of the compare view of a release and its predecessor
/// (`releases/compare/2.15.0...2.15.1/`, the older first, as git writes a range).
fn compare_dir(older: &str, newer: &str) -> String {
    format!("releases/compare/{older}...{newer}")
}

/// A run of commits under one heading (a component, a direction of a compare view).
struct Section {
    title: String,
    anchor: String,
    commits: Vec<u32>,
}

/// One page's part of a section.
#[derive(Serialize)]
struct SectionView {
    title: String,
    /// The anchor, on the page where the section starts.
    anchor: Option<String>,
    /// The section started on an earlier page.
    continued: bool,
    count: usize,
    items: Vec<CommitRow>,
}

/// An entry of a page's table of sections.
#[derive(Serialize)]
struct SectionLink {
    title: String,
    count: usize,
    href: String,
}

/// Sections laid out on pages of `size` commits: per page, `(section, start, end)` slices. An
/// empty list still has one (empty) page.
fn paginate(sections: &[Section], size: usize) -> Vec<Vec<(usize, usize, usize)>> {
    let mut pages: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new()];
    let mut room = size.max(1);
    for (s, sec) in sections.iter().enumerate() {
        let mut start = 0;
        while start < sec.commits.len() {
            if room == 0 {
                pages.push(Vec::new());
                room = size.max(1);
            }
            let end = (start + room).min(sec.commits.len());
            pages
                .last_mut()
                .expect("one page at least")
                .push((s, start, end));
            room -= end - start;
            start = end;
        }
    }
    pages
}

/// The page file name of page `page` in its own folder.
fn page_name(page: usize) -> String {
    if page == 1 {
        "index.html".into()
    } else {
        format!("{page}.html")
    }
}

/// A release the fix reached, as the issue page shows it.
#[derive(Serialize)]
struct ShipmentView {
    release: Link,
    commits: Vec<Link>,
}

/// A citing commit in no release, with the branch it landed on.
#[derive(Serialize)]
struct PendingView {
    commit: Link,
    branch: Option<String>,
}

/// The issue page's "Fixed in 2.15.0 (commit …), back-ported to 2.14.1 (commit …)" line.
#[derive(Default, Serialize)]
pub(super) struct FixView {
    fixed: Option<ShipmentView>,
    /// The default branch's name, when its citing commits are not released yet.
    main_branch: Option<String>,
    main_unreleased: Vec<Link>,
    backports: Vec<ShipmentView>,
    also: Vec<ShipmentView>,
    unreleased: Vec<PendingView>,
}

impl Renderer<'_> {
    /// The link to a release's page.
    pub(super) fn release_link(&self, r: u32, root: &str) -> Link {
        let name = &self.linked.history.releases[r as usize].name;
        Link {
            name: name.clone(),
            href: format!("{root}{}", page_file(&release_dir(name), 1)),
        }
    }

    /// The link to the compare view of release `r` and its predecessor, named `2.15.0 → 2.15.1`.
    fn compare_link(&self, r: u32, root: &str) -> Option<Link> {
        let h = &self.linked.history;
        let rel = &h.releases[r as usize];
        let prev = &h.releases[rel.previous? as usize];
        Some(Link {
            name: format!("{} → {}", prev.name, rel.name),
            href: format!(
                "{root}{}",
                page_file(&compare_dir(&prev.name, &rel.name), 1)
            ),
        })
    }

    fn short_link(&self, c: u32, root: &str) -> Link {
        let c = &self.linked.history.commits[c as usize];
        Link {
            name: c.short_id().to_string(),
            href: format!("{root}{}", commit_path(&c.id)),
        }
    }

    /// The issue page's line saying where its fix shipped; `None` when no commit cites it.
    pub(super) fn fix_view(&self, key: &str, root: &str) -> Option<FixView> {
        let h = &self.linked.history;
        let fix: IssueFix = h.issue_fix(key)?;
        let ship = |s: &Shipment| ShipmentView {
            release: self.release_link(s.release, root),
            commits: s
                .commits
                .iter()
                .map(|&c| self.short_link(c, root))
                .collect(),
        };
        Some(FixView {
            fixed: fix.fixed.as_ref().map(ship),
            main_branch: (!fix.main_unreleased.is_empty())
                .then(|| h.branches.first().map(|b| b.name.clone()))
                .flatten(),
            main_unreleased: fix
                .main_unreleased
                .iter()
                .map(|&c| self.short_link(c, root))
                .collect(),
            backports: fix.backports.iter().map(ship).collect(),
            also: fix.also.iter().map(ship).collect(),
            unreleased: fix
                .unreleased
                .iter()
                .map(|&c| PendingView {
                    commit: self.short_link(c, root),
                    branch: h.commits[c as usize]
                        .home
                        .map(|b| h.branches[b as usize].name.clone()),
                })
                .collect(),
        })
    }

    /// `releases/index.html`, each release's pages and each compare view. Returns the pages.
    pub(super) fn render_releases(&self, sink: &dyn PageSink) -> Result<u64> {
        let h = &self.linked.history;
        let size = self.config.page_size;
        let mut per_release: Vec<Vec<u32>> = vec![Vec::new(); h.releases.len()];
        for (i, c) in h.commits.iter().enumerate() {
            if let Some(r) = c.first_release {
                per_release[r as usize].push(i as u32);
            }
        }
        // Tracker versions naming each release (`Lustre 2.15.0` for `2.15.0`), and the issues
        // whose fix version they are.
        let mut tracker_versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut tracker_issues: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in &self.linked.issues {
            let mut named: Vec<String> = Vec::new();
            for v in &s.fix_versions {
                if let Some(name) = named_by(v) {
                    tracker_versions
                        .entry(name.clone())
                        .or_default()
                        .insert(v.to_string());
                    named.push(name);
                }
            }
            named.sort();
            named.dedup();
            for name in named {
                tracker_issues
                    .entry(name)
                    .or_default()
                    .push(s.key.to_string());
            }
        }
        // Every release's issues: the tracker's and git's, in key order.
        let issues: Vec<Vec<String>> = h
            .releases
            .iter()
            .map(|rel| {
                let mut keys: Vec<String> = rel.issues.clone();
                keys.extend(tracker_issues.get(&rel.name).into_iter().flatten().cloned());
                keys.sort_by(|a, b| compare_keys(a, b));
                keys.dedup();
                keys
            })
            .collect();

        let root = "../";
        let rows: Vec<_> = h
            .releases
            .iter()
            .enumerate()
            .rev()
            .map(|(r, rel)| {
                serde_json::json!({
                    "name": rel.name,
                    "href": format!("{root}{}", page_file(&release_dir(&rel.name), 1)),
                    "tags": rel.tags,
                    "date": rel.date.as_ref().map(TimeView::of),
                    "commits": per_release[r].len(),
                    "issues": issues[r].len(),
                    "compare": self.compare_link(r as u32, root),
                })
            })
            .collect();
        let mut c = self.context(root);
        c.insert("releases", &rows);
        c.insert("commits_href", &format!("{root}commits/index.html"));
        self.emit(sink, "releases/index.html", "releases.html", &c)?;

        // Each release's commits, grouped by component.
        let components: Vec<Option<String>> = h
            .commits
            .iter()
            .map(|c| self.linked.commit_component(c))
            .collect();
        let sections: Vec<Vec<Section>> = per_release
            .iter()
            .map(|list| {
                let mut groups: BTreeMap<Option<&str>, Vec<u32>> = BTreeMap::new();
                for &c in list {
                    groups
                        .entry(components[c as usize].as_deref())
                        .or_default()
                        .push(c);
                }
                let mut groups: Vec<(Option<&str>, Vec<u32>)> = groups.into_iter().collect();
                groups.sort_by(|a, b| match (a.0, b.0) {
                    (Some(x), Some(y)) => natural_cmp(x, y).then(x.cmp(y)),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
                groups
                    .into_iter()
                    .map(|(name, commits)| Section {
                        title: name.unwrap_or("no component").to_string(),
                        anchor: match name {
                            Some(n) => format!("g-{}", slug(n)),
                            None => "g-none".into(),
                        },
                        commits,
                    })
                    .collect()
            })
            .collect();
        let layouts: Vec<Vec<Vec<(usize, usize, usize)>>> =
            sections.iter().map(|s| paginate(s, size)).collect();
        let jobs: Vec<(usize, usize)> = layouts
            .iter()
            .enumerate()
            .flat_map(|(r, pages)| (1..=pages.len()).map(move |p| (r, p)))
            .collect();
        jobs.par_iter().try_for_each(|&(r, page)| {
            let rel = &h.releases[r];
            let path = page_file(&release_dir(&rel.name), page);
            let root = root_of(&path);
            let (views, toc) = self.section_views(&sections[r], &layouts[r], page, &root);
            let issue_rows: Vec<_> = if page == 1 {
                issues[r]
                    .iter()
                    .map(|k| self.release_issue_row(k, r as u32, &root))
                    .collect()
            } else {
                Vec::new()
            };
            let versions: Vec<Link> = tracker_versions
                .get(&rel.name)
                .into_iter()
                .flatten()
                .map(|v| Link {
                    name: v.clone(),
                    href: format!(
                        "{root}{}",
                        listing_path("fix-version", &value_slug("fix-version", v), 1)
                    ),
                })
                .collect();
            let neighbour = |i: usize| {
                h.releases
                    .get(i)
                    .map(|_| self.release_link(i as u32, &root))
            };
            // The compare views this release is in: with its predecessor, and with each
            // release that follows it.
            let followers: Vec<Link> = h
                .releases
                .iter()
                .enumerate()
                .filter(|(_, x)| x.previous == Some(r as u32))
                .filter_map(|(i, _)| self.compare_link(i as u32, &root))
                .collect();
            let mut c = self.context(&root);
            c.insert("release", rel);
            c.insert("date", &rel.date.as_ref().map(TimeView::of));
            c.insert("issues", &issue_rows);
            c.insert("sections", &views);
            c.insert("toc", &toc);
            c.insert("count", &per_release[r].len());
            c.insert("tracker_versions", &versions);
            c.insert("previous", &r.checked_sub(1).and_then(neighbour));
            c.insert("next", &neighbour(r + 1));
            c.insert("compare_previous", &self.compare_link(r as u32, &root));
            c.insert("compare_next", &followers);
            c.insert("pager", &Self::pager(page, layouts[r].len()));
            c.insert("releases_href", &format!("{root}releases/index.html"));
            self.emit(sink, &path, "release.html", &c)
        })?;
        Ok(1 + jobs.len() as u64 + self.render_compares(sink)?)
    }

    /// One row of a release page's issue table: the issue, its tracker fix versions, and the
    /// commits citing it first shipped in this release (each marked when it is a back-port).
    fn release_issue_row(&self, key: &str, r: u32, root: &str) -> serde_json::Value {
        let h = &self.linked.history;
        let s = self.linked.issue(key);
        let backport = h
            .issue_fix(key)
            .is_some_and(|f| f.backports.iter().any(|b| b.release == r));
        let commits: Vec<Link> = h
            .by_issue
            .get(key)
            .into_iter()
            .flatten()
            .filter(|&&c| h.commits[c as usize].first_release == Some(r))
            .map(|&c| self.short_link(c, root))
            .collect();
        serde_json::json!({
            "key": key,
            "href": s.map(|s| format!("{root}{}.html", s.path())),
            "summary": s.map(|s| s.summary.clone()),
            "status": s.and_then(|s| s.status.clone()),
            "status_class": status_class(s.and_then(|s| s.status_category.as_deref())),
            "fix_versions": s.map(|s| s.fix_versions.clone()).unwrap_or_default(),
            "commits": commits,
            "backport": backport && !commits.is_empty(),
        })
    }

    /// The parts of `sections` on page `page`, and (on the first page, when there is more
    /// than one section) the table of sections linking where each starts.
    fn section_views(
        &self,
        sections: &[Section],
        layout: &[Vec<(usize, usize, usize)>],
        page: usize,
        root: &str,
    ) -> (Vec<SectionView>, Vec<SectionLink>) {
        let views = layout[page - 1]
            .iter()
            .map(|&(s, start, end)| SectionView {
                title: sections[s].title.clone(),
                anchor: (start == 0).then(|| sections[s].anchor.clone()),
                continued: start > 0,
                count: sections[s].commits.len(),
                items: sections[s].commits[start..end]
                    .iter()
                    .map(|&c| self.commit_row(c, root))
                    .collect(),
            })
            .collect();
        let mut toc = Vec::new();
        if page == 1 && sections.len() > 1 {
            for (p, parts) in layout.iter().enumerate() {
                for &(s, start, _) in parts {
                    if start == 0 {
                        toc.push(SectionLink {
                            title: sections[s].title.clone(),
                            count: sections[s].commits.len(),
                            href: format!("{}#{}", page_name(p + 1), sections[s].anchor),
                        });
                    }
                }
            }
        }
        (views, toc)
    }

    /// The compare view of every release with its predecessor. Returns the pages.
    fn render_compares(&self, sink: &dyn PageSink) -> Result<u64> {
        let h = &self.linked.history;
        let size = self.config.page_size;
        let pairs: Vec<(usize, usize, Vec<Section>)> = h
            .releases
            .iter()
            .enumerate()
            .filter_map(|(r, rel)| {
                let (p, cmp) = (rel.previous? as usize, rel.compare.as_ref()?);
                let prev = &h.releases[p].name;
                let mut sections = Vec::new();
                if !cmp.ahead.is_empty() {
                    sections.push(Section {
                        title: format!("In {}, not in {prev}", rel.name),
                        anchor: "ahead".into(),
                        commits: cmp.ahead.clone(),
                    });
                }
                if !cmp.behind.is_empty() {
                    sections.push(Section {
                        title: format!("In {prev}, not in {}", rel.name),
                        anchor: "behind".into(),
                        commits: cmp.behind.clone(),
                    });
                }
                Some((r, p, sections))
            })
            .collect();
        let layouts: Vec<Vec<Vec<(usize, usize, usize)>>> =
            pairs.iter().map(|(_, _, s)| paginate(s, size)).collect();
        let jobs: Vec<(usize, usize)> = layouts
            .iter()
            .enumerate()
            .flat_map(|(k, pages)| (1..=pages.len()).map(move |p| (k, p)))
            .collect();
        jobs.par_iter().try_for_each(|&(k, page)| {
            let (r, p, sections) = &pairs[k];
            let (rel, prev) = (&h.releases[*r], &h.releases[*p]);
            let path = page_file(&compare_dir(&prev.name, &rel.name), page);
            let root = root_of(&path);
            let (views, toc) = self.section_views(sections, &layouts[k], page, &root);
            let cmp = rel.compare.as_ref();
            let mut c = self.context(&root);
            c.insert("this", &self.release_link(*r as u32, &root));
            c.insert("previous", &self.release_link(*p as u32, &root));
            c.insert("ahead", &cmp.map_or(0, |x| x.ahead.len()));
            c.insert("behind", &cmp.map_or(0, |x| x.behind.len()));
            c.insert("sections", &views);
            c.insert("toc", &toc);
            c.insert("pager", &Self::pager(page, layouts[k].len()));
            c.insert("releases_href", &format!("{root}releases/index.html"));
            self.emit(sink, &path, "compare.html", &c)
        })?;
        Ok(jobs.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(n: usize) -> Section {
        Section {
            title: String::new(),
            anchor: String::new(),
            commits: (0..n as u32).collect(),
        }
    }

    #[test]
    fn sections_fill_pages_and_continue_across_them() {
        assert_eq!(paginate(&[], 3), vec![vec![]]);
        let pages = paginate(&[section(2), section(4), section(1)], 3);
        assert_eq!(
            pages,
            vec![vec![(0, 0, 2), (1, 0, 1)], vec![(1, 1, 4)], vec![(2, 0, 1)]]
        );
    }
}
