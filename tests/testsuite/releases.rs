//! Release notes end to end: a repository built here with a main line, a maintenance branch
//! whose first release was tagged after it forked (so the next major release lacks a commit of
//! it), a back-port cherry-picked there citing the same key, tags in both of Lustre's naming
//! schemes, and a JIRA export whose fix versions name the releases. Checks the release pages'
//! issues and component groups, the compare views (both directions), and the issue pages'
//! "fixed in … back-ported to …" line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::git_fixture::{jira_export, JiraIssue, Repo};

/// The built site of the fixture and the ids of its commits by name.
pub struct Releases {
    _dir: tempfile::TempDir,
    /// The site folder (its `public/` is the output).
    pub site: PathBuf,
    /// Commit ids by the fixture's names.
    pub ids: BTreeMap<&'static str, String>,
}

impl Releases {
    /// The short id listings show.
    pub fn short(&self, name: &str) -> &str {
        &self.ids[name][..10]
    }

    /// A page of the built site.
    pub fn page(&self, rel: &str) -> String {
        let p = self.site.join("public").join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }
}

/// Builds the repository and the site (two commits a page, so groups run across pages):
///
/// ```text
/// master: m0 ─ m1 (LU-1 ldlm) ─ m2 (LU-2 llite) ─ m3 (LU-3 tests) [1.1.0, v1_1_0] ─ m5 [1.2.0] ─ m4 (LU-5 ldlm)
/// b1_0:    └─ r1 [1.0.0, v1_0_0] ─ p1 (LU-1 ldlm, cherry-picked m1) ─ p2 (LU-4 lnet) [1.0.1] ─ p3 (LU-5)
/// ```
pub fn releases_site() -> Releases {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Repo::init(&dir.path().join("repo"));
    let mut ids = BTreeMap::new();
    ids.insert(
        "m0",
        r.commit("Initial import\n", &[("README", "Lustre\n")]),
    );
    r.git(&["branch", "b1_0"]);
    r.git(&["checkout", "-q", "b1_0"]);
    ids.insert(
        "r1",
        r.commit("build: version 1.0.0\n", &[("VERSION", "1.0.0\n")]),
    );
    r.git(&["tag", "1.0.0"]);
    r.git(&["tag", "v1_0_0"]);
    r.git(&["checkout", "-q", "master"]);
    let change = "I1111111111111111111111111111111111111111";
    ids.insert(
        "m1",
        r.commit(
            &format!("LU-1 ldlm: fix the cancel race\n\nChange-Id: {change}\n"),
            &[("lustre/ldlm/ldlm_lock.c", "fixed\n")],
        ),
    );
    ids.insert(
        "m2",
        r.commit(
            "LU-2 llite: fix stale reads\n",
            &[("lustre/llite/file.c", "fresh\n")],
        ),
    );
    ids.insert(
        "m3",
        r.commit(
            "LU-3 tests: add a regression test\n",
            &[("lustre/tests/sanity.sh", "test_1\n")],
        ),
    );
    r.git(&["tag", "1.1.0"]);
    r.git(&["tag", "v1_1_0"]);
    ids.insert(
        "m5",
        r.commit("build: version 1.2.0\n", &[("VERSION", "1.2.0\n")]),
    );
    r.git(&["tag", "1.2.0"]);
    ids.insert(
        "m4",
        r.commit(
            "LU-5 ldlm: fix the unreleased bug\n",
            &[("lustre/ldlm/ldlm_request.c", "later\n")],
        ),
    );
    r.git(&["checkout", "-q", "b1_0"]);
    let m1 = ids["m1"].clone();
    ids.insert(
        "p1",
        r.commit(
            &format!(
                "LU-1 ldlm: fix the cancel race\n\nLustre-commit: {m1}\nChange-Id: {change}\n"
            ),
            &[("lustre/ldlm/ldlm_lock.c", "fixed\n")],
        ),
    );
    ids.insert(
        "p2",
        r.commit(
            "LU-4 lnet: fix the maintenance-only bug\n",
            &[("lnet/lnet/router.c", "fixed\n")],
        ),
    );
    r.git(&["tag", "1.0.1"]);
    ids.insert(
        "p3",
        r.commit(
            "LU-5 ldlm: port the unreleased fix\n",
            &[("lustre/ldlm/ldlm_request.c", "later\n")],
        ),
    );
    r.git(&["checkout", "-q", "master"]);

    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("jira")).unwrap();
    let issue = |key, id, summary, fix_versions| JiraIssue {
        key,
        id,
        summary,
        description: "<p>Text.</p>",
        fix_versions,
    };
    let export = jira_export(&[
        issue(
            "LU-1",
            1,
            "Cancel race",
            &["Lustre 1.1.0", "Lustre 1.0.1"][..],
        ),
        issue("LU-2", 2, "Stale reads", &["Lustre 1.1.0"]),
        issue("LU-3", 3, "Regression test", &[]),
        issue("LU-4", 4, "Maintenance-only bug", &["Lustre 1.0.1"]),
        issue("LU-5", 5, "Unreleased bug", &[]),
        issue("LU-6", 6, "Fixed per the tracker only", &["Lustre 1.1.0"]),
    ]);
    std::fs::write(site.join("jira/LU.xml"), export).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        "title = \"Releases\"\npage_size = 2\n[[tracker]]\nname = \"jira\"\npaths = [\"jira/*.xml\"]\n[[repository]]\npath = \"../repo\"\n",
    )
    .unwrap();
    build(&site).unwrap();
    Releases {
        _dir: dir,
        site,
        ids,
    }
}

/// The section headings (`<h3>`) of a page and the short ids under each, in page order.
fn groups(page: &str) -> Vec<(String, Vec<String>)> {
    let re = regex::Regex::new(
        r#"<h[23]>([^<]*?)(?: \(continued\))? <span class="count">|<td class="sha"><a href="[^"]*">([0-9a-f]{10})</a>"#,
    )
    .unwrap();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in re.captures_iter(page) {
        if let Some(h) = c.get(1) {
            out.push((h.as_str().to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(c[2].to_string());
        }
    }
    out
}

fn text(html: &str) -> String {
    let tags = regex::Regex::new(r"<[^>]+>").unwrap();
    tags.replace_all(html, "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of the issue page's "fixed in" line.
fn fix_line(f: &Releases, key: &str) -> String {
    let page = f.page(&format!("issues/LU/0/{key}.html"));
    let start = page
        .find("<p class=\"versions fix-line\">")
        .unwrap_or_else(|| panic!("no fix line on {key}"));
    let end = start + page[start..].find("</p>").unwrap();
    text(&page[start..end])
}

fn assert_links_resolve(site: &Path) {
    let report = hindsight::check::check_site(&site.join("public")).unwrap();
    assert!(report.broken.is_empty(), "broken: {:#?}", report.broken);
}

#[test]
fn release_pages_list_fixed_issues_and_commits_by_component() {
    let f = releases_site();
    assert_links_resolve(&f.site);
    let s = |n| f.short(n).to_string();
    // 1.1.0: m1, m2, m3 first shipped there, two a page, grouped by subsystem.
    let p1 = f.page("releases/1.1.0/index.html");
    let p2 = f.page("releases/1.1.0/2.html");
    assert_eq!(
        groups(&p1),
        [
            ("ldlm".to_string(), vec![s("m1")]),
            ("llite".to_string(), vec![s("m2")])
        ]
    );
    assert_eq!(groups(&p2), [("tests".to_string(), vec![s("m3")])]);
    // The table of components on the first page links where each group starts.
    assert!(p1.contains("href=\"2.html#g-tests\""), "{p1}");
    assert!(p1.contains("id=\"g-ldlm\""));
    // Issues fixed in 1.1.0: by a commit (LU-1, LU-2, LU-3) or by the tracker only (LU-6);
    // not LU-4, fixed in 1.0.1 only.
    let issues_of = |page: &str| {
        let re = regex::Regex::new(r#"<td class="key"><a href="[^"]*">(LU-\d+)</a>"#).unwrap();
        re.captures_iter(page)
            .map(|c| c[1].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(issues_of(&p1), ["LU-1", "LU-2", "LU-3", "LU-6"]);
    // 1.0.1: the back-port p1 and the maintenance-only fix p2; LU-1 is marked a back-port.
    let m = f.page("releases/1.0.1/index.html");
    assert_eq!(
        groups(&m),
        [
            ("ldlm".to_string(), vec![s("p1")]),
            ("lnet".to_string(), vec![s("p2")])
        ]
    );
    assert_eq!(issues_of(&m), ["LU-1", "LU-4"]);
    let lu1_row = &m[m.find(">LU-1</a>").unwrap()..];
    let lu1_row = &lu1_row[..lu1_row.find("</tr>").unwrap()];
    assert!(
        lu1_row.contains(&s("p1")) && lu1_row.contains("back-port"),
        "{lu1_row}"
    );
    // 1.0.0: the initial import has no component.
    let r = f.page("releases/1.0.0/index.html");
    assert_eq!(
        groups(&r),
        [
            ("build".to_string(), vec![s("r1")]),
            ("no component".to_string(), vec![s("m0")])
        ]
    );
}

#[test]
fn compare_views_list_the_commits_in_one_release_and_not_the_other() {
    let f = releases_site();
    let s = |n| f.short(n).to_string();
    // 1.1.0 follows 1.0.0 (the previous line's first release), not 1.0.1.
    let p1 = f.page("releases/compare/1.0.0...1.1.0/index.html");
    let p2 = f.page("releases/compare/1.0.0...1.1.0/2.html");
    assert_eq!(
        groups(&p1),
        [("In 1.1.0, not in 1.0.0".to_string(), vec![s("m3"), s("m2")])]
    );
    // The maintenance branch's r1 is in 1.0.0 and not in 1.1.0.
    assert_eq!(
        groups(&p2),
        [
            ("In 1.1.0, not in 1.0.0".to_string(), vec![s("m1")]),
            ("In 1.0.0, not in 1.1.0".to_string(), vec![s("r1")])
        ]
    );
    assert!(p2.contains("(continued)"));
    assert!(text(&p1).contains("3 commits in 1.1.0 and not in 1.0.0; 1 in 1.0.0 and not in 1.1.0"));
    // 1.0.1 follows 1.0.0 in its line; nothing of 1.0.0 is missing from it.
    let m = f.page("releases/compare/1.0.0...1.0.1/index.html");
    assert_eq!(
        groups(&m),
        [("In 1.0.1, not in 1.0.0".to_string(), vec![s("p2"), s("p1")])]
    );
    assert!(!std::path::Path::new(&f.site.join("public/releases/compare/1.0.1...1.1.0")).exists());
    // Linked from both releases and from the index.
    let href = "compare/1.0.0...1.1.0/index.html";
    assert!(f
        .page("releases/1.1.0/index.html")
        .contains(&format!("\"../../releases/{href}\"")));
    assert!(f
        .page("releases/1.0.0/index.html")
        .contains(&format!("\"../../releases/{href}\"")));
    assert!(f
        .page("releases/1.0.0/index.html")
        .contains("\"../../releases/compare/1.0.0...1.0.1/index.html\""));
    let index = f.page("releases/index.html");
    assert!(
        index.contains(&format!("href=\"../releases/{href}\">1.0.0 → 1.1.0</a>")),
        "{index}"
    );
}

#[test]
fn issue_pages_say_where_the_fix_shipped_and_where_it_was_back_ported() {
    let f = releases_site();
    let s = |n| f.short(n).to_string();
    assert_eq!(
        fix_line(&f, "LU-1"),
        format!(
            "Fixed in 1.1.0 (commit {}), back-ported to 1.0.1 (commit {}). Tracker fix version: Lustre 1.1.0, Lustre 1.0.1.",
            s("m1"),
            s("p1")
        )
    );
    // Only on the maintenance branch: fixed there, nothing back-ported.
    assert_eq!(
        fix_line(&f, "LU-4"),
        format!(
            "Fixed in 1.0.1 (commit {}). Tracker fix version: Lustre 1.0.1.",
            s("p2")
        )
    );
    // One commit reaching 1.1.0 and later releases is one fix, not a back-port.
    assert_eq!(
        fix_line(&f, "LU-2"),
        format!(
            "Fixed in 1.1.0 (commit {}). Tracker fix version: Lustre 1.1.0.",
            s("m2")
        )
    );
    // No release yet, on the main line and on the branch.
    assert_eq!(
        fix_line(&f, "LU-5"),
        format!(
            "Fixed on master (commit {}), not yet in a release. Unreleased: commit {} on b1_0.",
            s("m4"),
            s("p3")
        )
    );
    // The line links the releases and the commits.
    let page = f.page("issues/LU/0/LU-1.html");
    assert!(
        page.contains("href=\"../../../releases/1.0.1/index.html\">1.0.1</a>"),
        "{page}"
    );
}
