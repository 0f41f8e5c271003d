//! Source history end to end: a repository built here with the `git` binary (branches, a merge,
//! release tags with aliases, `-RC` and development tags, commits citing issues in every
//! supported form, non-UTF-8 messages, a commit whose parent is missing, a shallow clone),
//! published with a small JIRA export: commit pages, issue ↔ commit links both ways, first
//! releases across the merge, ports grouped by Change-Id, diffs and their cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::git_fixture::{jira_export, JiraIssue, Repo};

struct Fixture {
    _dir: tempfile::TempDir,
    site: PathBuf,
    repo: PathBuf,
    ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }

    fn page(&self, rel: &str) -> String {
        let p = self.site.join("public").join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn commit_page(&self, name: &str) -> String {
        self.page(&commit_path(self.id(name)))
    }

    fn exists(&self, rel: &str) -> bool {
        self.site.join("public").join(rel).is_file()
    }
}

fn commit_path(id: &str) -> String {
    format!("commits/{}/{id}.html", &id[..2])
}

fn lines(n: usize, tag: &str) -> String {
    (1..=n).map(|i| format!("{tag} line {i}\n")).collect()
}

const CHANGE_1: &str = "I1111111111111111111111111111111111111111";
const CHANGE_2: &str = "I2222222222222222222222222222222222222222";

/// The repository and site, with `repository_extra` lines added to the `[[repository]]`.
fn fixture(repository_extra: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir.path().join("repo");
    let mut r = Repo::init(&repo_dir);
    let mut ids = BTreeMap::new();

    let file_v1 = lines(40, "file.c");
    ids.insert(
        "c1",
        r.commit(
            "Initial import\n",
            &[
                (
                    ".mailmap",
                    "Proper Name <proper@example.com> <old@example.com>\n",
                ),
                ("lustre/llite/file.c", &file_v1),
                ("README", "Lustre\n"),
            ],
        ),
    );
    r.git(&["tag", "1.0.0-RC1"]);
    // A commit only a tag reaches (its branch deleted since).
    r.git(&["checkout", "-q", "-b", "experiment"]);
    ids.insert("t1", r.commit("Experiment\n", &[("EXPERIMENT", "x\n")]));
    r.git(&["tag", "experiment-1"]);
    r.git(&["checkout", "-q", "master"]);
    r.git(&["branch", "-q", "-D", "experiment"]);
    let file_v2 = file_v1.replace("file.c line 20\n", "file.c line twenty\n");
    ids.insert(
        "c2",
        r.commit_as(
            &format!("LU-1 llite: fix the read path\n\nThe read path dropped the lock early.\n\nSigned-off-by: Ann Author <ann@example.com>\nChange-Id: {CHANGE_1}\nReviewed-on: https://review.whamcloud.com/1001\nReviewed-by: Oleg Drokin <green@example.com>\nTested-by: Maloo <maloo@example.com>\n"),
            &[("lustre/llite/file.c", &file_v2)],
            Some(("Old Name", "old@example.com")),
        ),
    );
    r.git(&["tag", "v1_0_0"]);
    r.git(&["tag", "-a", "1.0.0", "-m", "Lustre 1.0.0"]);
    r.git(&["branch", "b1_0"]);

    // A feature branch, older than the maintenance release, merged into master later.
    r.git(&["checkout", "-q", "-b", "feature"]);
    ids.insert(
        "f1",
        r.commit(
            "b=12755,16494\ni=adilger\n\nldlm: handle the cancel race\n",
            &[("lustre/ldlm/ldlm_lock.c", &lines(10, "ldlm"))],
        ),
    );
    ids.insert(
        "f2",
        r.commit(
            "obdclass: Bug: 123 and b:456 fixed\n\nSee bug 4567 and https://bugzilla.lustre.org/show_bug.cgi?id=789\n",
            &[("lustre/obdclass/genops.c", &lines(5, "genops"))],
        ),
    );
    r.git(&["checkout", "-q", "master"]);
    let c2_short = ids["c2"][..12].to_string();
    ids.insert(
        "c5",
        r.commit(
            &format!("LU-2 ldlm: fix lock ordering\n\nAlso https://jira.whamcloud.com/browse/LU-3 and LU-99, LDEV-1.\nFixes: {c2_short} (\"LU-1 llite: fix the read path\")\n\nChange-Id: {CHANGE_2}\nReviewed-on: https://review.whamcloud.com/c/fs/lustre-release/+/1002\n"),
            &[("lustre/ldlm/ldlm_request.c", &lines(12, "request"))],
        ),
    );
    r.git(&["tag", "1.0.50"]); // a development tag: not a release
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'feature'",
        "feature",
    ]);
    ids.insert("m1", r.git(&["rev-parse", "HEAD"]));
    r.git(&["tag", "2.0.0-RC1"]);

    // The port of LU-2 to the maintenance branch: same Change-Id, released first.
    r.git(&["checkout", "-q", "b1_0"]);
    let c5 = ids["c5"].clone();
    ids.insert(
        "c3",
        r.commit(
            &format!("LU-2 ldlm: fix lock ordering\n\nLustre-commit: {c5}\nLustre-change: http://review.whamcloud.com/1002\n\nChange-Id: {CHANGE_2}\nReviewed-on: http://review.whamcloud.com/1003\n"),
            &[("lustre/ldlm/ldlm_request.c", &lines(12, "request"))],
        ),
    );
    // A port that says which commit it came from, under another Change-Id.
    ids.insert(
        "c4",
        r.commit(
            &format!("LU-3 misc: port the URL fix\n\n(cherry picked from commit {c5})\n\nChange-Id: I3333333333333333333333333333333333333333\n"),
            &[("README", "Lustre 1.0\n")],
        ),
    );
    r.git(&["tag", "1.0.1"]);
    r.git(&["checkout", "-q", "master"]);
    ids.insert(
        "c6",
        r.commit(
            "LU-4 build: bump the version, add big.c\n",
            &[("lustre/big.c", &lines(3000, "big"))],
        ),
    );
    r.git(&["tag", "2.0.0"]);
    r.git(&["tag", "v2_0_0"]);
    // Messages that are not UTF-8.
    ids.insert(
        "latin1",
        r.raw_commit(
            b"LU-1 misc: caf\xe9 au lait\n",
            Some("ISO-8859-1"),
            "master",
        ),
    );
    // git itself would re-encode invalid bytes as Latin-1; the object is written as is.
    let head = r.git(&["rev-parse", "HEAD"]);
    ids.insert(
        "bad",
        r.write_commit(&[&head], b"misc: bad \xff\xfe bytes\n", "master"),
    );
    r.git(&["checkout", "-q", "master"]);
    let (orphan, missing) = r.commit_with_missing_parent("LU-1 misc: grafted", "grafted");
    ids.insert("orphan", orphan);
    ids.insert("missing", missing);

    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("jira")).unwrap();
    let c6_short = ids["c6"][..9].to_string();
    let c6_desc = format!("<p>Landed as {c6_short}; nothing to do with deadbeef.</p>");
    let export = jira_export(&[
        JiraIssue {
            key: "LU-1",
            id: 1001,
            summary: "Reads return stale data",
            description: "<p>Stale reads.</p>",
            fix_versions: &["Lustre 1.0.0"],
        },
        JiraIssue {
            key: "LU-2",
            id: 1002,
            summary: "Lock ordering deadlock",
            description: "<p>Deadlock.</p>",
            fix_versions: &["Lustre 1.0.1", "Lustre 2.0.0"],
        },
        JiraIssue {
            key: "LU-3",
            id: 1003,
            summary: "Cited by URL",
            description: "<p>Three.</p>",
            fix_versions: &[],
        },
        JiraIssue {
            key: "LU-4",
            id: 1004,
            summary: "Version bump",
            description: &c6_desc,
            fix_versions: &["Lustre 2.0.0"],
        },
    ]);
    std::fs::write(site.join("jira/LU-page-0.xml"), export).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!(
            r#"title = "Test archive"
[[tracker]]
name = "jira"
paths = ["jira/*.xml"]
[[tracker]]
name = "bugzilla"
key_prefix = "BZ"
base_urls = ["https://bugzilla.lustre.org"]
[[repository]]
path = "../repo"
gerrit_url = "https://review.whamcloud.com"
{repository_extra}
"#
        ),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        site,
        repo: repo_dir,
        ids,
    }
}

fn built(extra: &str) -> (Fixture, hindsight::BuildReport) {
    let f = fixture(extra);
    let report = build(&f.site).unwrap();
    (f, report)
}

fn assert_links_resolve(site: &Path) {
    let report = hindsight::check::check_site(&site.join("public")).unwrap();
    assert!(
        report.broken.is_empty(),
        "broken links: {:#?}",
        &report.broken[..report.broken.len().min(20)]
    );
}

#[test]
fn every_commit_has_a_page_and_links_resolve_both_ways() {
    let (f, report) = built("");
    // c1 t1 c2 f1 f2 c5 m1 c3 c4 c6 latin1 bad orphan
    assert_eq!(report.git.commits, 13, "{:?}", report.git);
    assert_eq!(report.git.missing_parents, 1);
    for name in [
        "c1", "t1", "c2", "f1", "f2", "c5", "m1", "c3", "c4", "c6", "latin1", "bad", "orphan",
    ] {
        assert!(f.exists(&commit_path(f.id(name))), "no page for {name}");
    }
    assert_eq!(report.render.commit_pages, 13);
    assert_links_resolve(&f.site);

    // Commit → issue, and issue → commit.
    let c2 = f.commit_page("c2");
    assert!(c2.contains("href=\"../../issues/LU/0/LU-1.html\""), "{c2}");
    let lu1 = f.page("issues/LU/0/LU-1.html");
    assert!(
        lu1.contains(&format!("href=\"../../../{}\"", commit_path(f.id("c2")))),
        "{lu1}"
    );
    // Commit ids in issue text link to the commit when they name exactly one commit.
    let lu4 = f.page("issues/LU/0/LU-4.html");
    assert!(
        lu4.contains(&format!(
            "href=\"../../../{}\" class=\"commit-link\"",
            commit_path(f.id("c6"))
        )),
        "{lu4}"
    );
    assert!(!lu4.contains("commit-link\">deadbeef"), "{lu4}");
    // The home page counts the commits and links the listings.
    let index = f.page("index.html");
    assert!(index.contains("13 commits"), "{index}");
    assert!(f.exists("commits/index.html") && f.exists("releases/index.html"));
}

#[test]
fn first_release_is_right_across_the_merge() {
    let (f, report) = built("");
    // 1.0.0 (and its alias v1_0_0), 1.0.1, 2.0.0 (and v2_0_0); not 1.0.0-RC1, 2.0.0-RC1 or
    // the development tag 1.0.50.
    assert_eq!(report.git.releases, 3);
    assert!(f.exists("releases/1.0.0/index.html"));
    assert!(f.exists("releases/1.0.1/index.html"));
    assert!(f.exists("releases/2.0.0/index.html"));
    assert!(!f.exists("releases/1.0.50/index.html"));
    let first = |name: &str| {
        let page = f.commit_page(name);
        let re = regex::Regex::new(r#"<dt>First release</dt><dd>(?:<a href="[^"]*releases/([^/]+)/index.html">|<span class="empty">)"#).unwrap();
        re.captures(&page)
            .and_then(|c| c.get(1).map(|m| m.as_str().to_string()))
    };
    assert_eq!(first("c1").as_deref(), Some("1.0.0"));
    assert_eq!(first("c2").as_deref(), Some("1.0.0"));
    assert_eq!(first("c3").as_deref(), Some("1.0.1"));
    // Older than 1.0.1 but only reachable through the merge into master: 2.0.0.
    assert_eq!(first("f1").as_deref(), Some("2.0.0"));
    assert_eq!(first("f2").as_deref(), Some("2.0.0"));
    assert_eq!(first("m1").as_deref(), Some("2.0.0"));
    // Tagged only by the development tag 1.0.50: first released in 2.0.0.
    assert_eq!(first("c5").as_deref(), Some("2.0.0"));
    assert_eq!(first("latin1"), None);

    let rel = f.page("releases/1.0.0/index.html");
    assert!(rel.contains("v1_0_0") && rel.contains(">1.0.0<"), "{rel}");
    // Issues fixed: LU-2 in 1.0.1 (through its port) and in 2.0.0 (the original change),
    // LU-1 in 1.0.0; LU-3 (its port c4 in 1.0.1) not in 1.0.0.
    let r101 = f.page("releases/1.0.1/index.html");
    assert!(r101.contains("issues/LU/0/LU-2.html"), "{r101}");
    assert!(f
        .page("releases/2.0.0/index.html")
        .contains("issues/LU/0/LU-2.html"));
    assert!(!f
        .page("releases/1.0.0/index.html")
        .contains("issues/LU/0/LU-3.html"));
    assert!(f
        .page("releases/1.0.0/index.html")
        .contains("issues/LU/0/LU-1.html"));
    // The tracker's fix version is linked from the release.
    assert!(r101.contains("Lustre 1.0.1"), "{r101}");
    let list = f.page("releases/index.html");
    let pos = |s: &str| list.find(s).unwrap_or_else(|| panic!("{s} not listed"));
    assert!(pos(">2.0.0<") < pos(">1.0.1<") && pos(">1.0.1<") < pos(">1.0.0<"));
}

#[test]
fn ports_are_grouped_by_change_id_on_the_issue_page() {
    let (f, _) = built("");
    let lu2 = f.page("issues/LU/0/LU-2.html");
    let panel = &lu2[lu2
        .find("class=\"development\"")
        .expect("a Development panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    assert_eq!(panel.matches("class=\"port-group\"").count(), 1, "{panel}");
    assert!(panel.contains(CHANGE_2), "{panel}");
    assert!(
        panel.contains("(2 commits of one change, Change-Id"),
        "{panel}"
    );
    assert!(panel.contains(&commit_path(f.id("c3"))) && panel.contains(&commit_path(f.id("c5"))));
    // Both branches, and where the fix shipped beside the tracker's fix versions: the
    // original change on master in 2.0.0, its port on b1_0 in 1.0.1.
    assert!(
        panel.contains(">b1_0<") && panel.contains(">master<"),
        "{panel}"
    );
    assert!(
        panel.contains(&format!(
            "Fixed in <a href=\"../../../releases/2.0.0/index.html\">2.0.0</a> (commit <a href=\"../../../{}\" class=\"sha\">{}</a>), back-ported to <a href=\"../../../releases/1.0.1/index.html\">1.0.1</a> (commit",
            commit_path(f.id("c5")),
            &f.id("c5")[..10]
        )),
        "{panel}"
    );
    assert!(
        panel.contains("Tracker fix version: Lustre 1.0.1, Lustre 2.0.0"),
        "{panel}"
    );
    // A port naming its original (`cherry picked from`) joins it despite another Change-Id.
    let lu3 = f.page("issues/LU/0/LU-3.html");
    assert_eq!(lu3.matches("class=\"port-group\"").count(), 1, "{lu3}");
    assert!(lu3.contains(&commit_path(f.id("c4"))) && lu3.contains(&commit_path(f.id("c5"))));
    // LU-1: four commits, four changes.
    let lu1 = f.page("issues/LU/0/LU-1.html");
    assert!(lu1.contains("Development (4 commits)"), "{lu1}"); // c5 quotes its subject
}

#[test]
fn references_in_every_supported_form() {
    let (f, report) = built("");
    // Bugzilla forms: b=12755,16494 / Bug: 123 / b:456 / bug 4567 / show_bug.cgi?id=789, all
    // under the configured prefix, listed but not linked (no Bugzilla export yet).
    let f1 = f.commit_page("f1");
    for key in ["BZ-12755", "BZ-16494"] {
        assert!(
            f1.contains(&format!(
                "<span class=\"issue-missing\" title=\"Not in this archive\">{key}</span>"
            )),
            "{key}: {f1}"
        );
    }
    let f2 = f.commit_page("f2");
    for key in ["BZ-123", "BZ-456", "BZ-4567", "BZ-789"] {
        assert!(f2.contains(&format!(">{key}</span>")), "{key}: {f2}");
    }
    // JIRA keys, old JIRA URLs, an unknown key, a project not in the archive, a commit id.
    let c5 = f.commit_page("c5");
    assert!(
        c5.contains("<a href=\"../../issues/LU/0/LU-3.html\" class=\"issue-link\">https://jira.whamcloud.com/browse/LU-3</a>"),
        "{c5}"
    );
    assert!(c5.contains(">LU-99</span>"), "{c5}");
    assert!(!c5.contains(">LDEV-1</span>"), "{c5}");
    assert!(
        c5.contains(&format!(
            "<a href=\"../../{}\" class=\"commit-link\">{}</a>",
            commit_path(f.id("c2")),
            &f.id("c2")[..12]
        )),
        "{c5}"
    );
    // Trailers: a table, Gerrit links kept in all three forms, Change-Id to Gerrit's search.
    let c2 = f.commit_page("c2");
    assert!(
        c2.contains(
            "<th scope=\"row\">Reviewed-on</th><td><a href=\"https://review.whamcloud.com/1001\""
        ),
        "{c2}"
    );
    assert!(c5.contains("href=\"https://review.whamcloud.com/c/fs/lustre-release/+/1002\""));
    assert!(f
        .commit_page("c3")
        .contains("href=\"http://review.whamcloud.com/1003\""));
    assert!(c2.contains(&format!(
        "<a href=\"https://review.whamcloud.com/q/{CHANGE_1}\" rel=\"nofollow noopener noreferrer\">{CHANGE_1}</a>"
    )));
    // The message above the table does not repeat the trailers.
    let body = &c2[c2.find("commit-message").unwrap()..];
    let body = &body[..body.find("</pre>").unwrap()];
    assert!(!body.contains("Change-Id"), "{body}");
    // Counts: commits citing published issues, references left unresolved.
    let refs = report.references;
    assert_eq!(refs.linked_commits, 7, "{refs:?}"); // c2 c5 c3 c4 c6 latin1 orphan
    assert_eq!(refs.unresolved_keys, 7, "{refs:?}"); // 6 Bugzilla ids + LU-99
}

#[test]
fn authors_go_through_the_mailmap_and_dates_keep_their_offset() {
    let (f, _) = built("");
    let c2 = f.commit_page("c2");
    assert!(c2.contains("Proper Name"), "{c2}");
    assert!(!c2.contains("Old Name"));
    assert!(c2.contains("+0200"), "{c2}");
    assert!(c2.contains("Carl Committer"));
    // Addresses are not published by default, not even in trailers.
    assert!(
        !c2.contains("ann@example.com") && !c2.contains("green@example.com"),
        "{c2}"
    );
}

#[test]
fn odd_commits_never_stop_the_build() {
    let (f, _) = built("");
    let latin1 = f.commit_page("latin1");
    assert!(latin1.contains("café au lait"), "{latin1}");
    let bad = f.commit_page("bad");
    assert!(bad.contains("bad \u{fffd}\u{fffd} bytes"), "{bad}");
    // The missing parent is listed, unlinked, and the diff is explained.
    let orphan = f.commit_page("orphan");
    let missing = &f.id("missing")[..10];
    assert!(
        orphan.contains(&format!("<span class=\"sha missing\" title=\"Not in this repository (shallow clone)\">{missing}</span>")),
        "{orphan}"
    );
    assert!(orphan.contains("cannot be shown"), "{orphan}");
    // A merge lists both parents, linked.
    let m1 = f.commit_page("m1");
    assert!(m1.contains(&commit_path(f.id("c5"))) && m1.contains(&commit_path(f.id("f2"))));
}

#[test]
fn diffs_are_capped_and_the_stat_stays_complete() {
    let (f, _) = built("diff_cap = 2048");
    let c6 = f.commit_page("c6");
    assert!(c6.contains("Diff truncated"), "{c6}");
    assert!(c6.contains("<span class=\"added\">+3000</span>"), "{c6}");
    let c2 = f.commit_page("c2");
    assert!(c2.contains("<span class=\"dd\">-file.c line 20\n</span><span class=\"da\">+file.c line twenty\n</span>"), "{c2}");
    assert!(!c2.contains("Diff truncated"));
    assert_links_resolve(&f.site);

    let (f, _) = built("diffs = false");
    let c2 = f.commit_page("c2");
    assert!(!c2.contains("class=\"da\""), "{c2}");
    assert!(c2.contains("Diffs are not part of this copy"), "{c2}");
    assert!(c2.contains("<span class=\"added\">+1</span>"), "{c2}");
}

#[test]
fn a_rebuild_reads_diffs_from_the_cache_and_changes_nothing() {
    let (f, first) = built("");
    assert_eq!(first.git.diffs_computed, 13, "{:?}", first.git);
    let before = read_tree(&f.site.join("public"));
    // Without the kept history the repositories are read again, the diffs from the cache.
    std::fs::remove_file(f.site.join(".hindsight-cache/git-history.json")).unwrap();
    let second = build(&f.site).unwrap();
    assert!(!second.git.kept, "{:?}", second.git);
    assert_eq!(second.git.diffs_computed, 0, "{:?}", second.git);
    assert_eq!(second.git.diffs_cached, 13);
    let after = read_tree(&f.site.join("public"));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &before {
        assert!(after[path] == *bytes, "{path} differs between builds");
    }
    assert_eq!(second.write.written, 0, "{:?}", second.write);
    // Another cap recomputes.
    let config = f.site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}diff_cap = 4096\n")).unwrap();
    let third = build(&f.site).unwrap();
    assert_eq!(third.git.diffs_computed, 13, "{:?}", third.git);
}

#[test]
fn branch_listings_are_paginated() {
    let f = fixture("");
    let config = f.site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("page_size = 2\n{text}")).unwrap();
    Repo::open(&f.repo).git(&["branch", "fresh", f.id("c6")]);
    build(&f.site).unwrap();
    let index = f.page("commits/index.html");
    for b in ["master", "b1_0", "feature", "grafted"] {
        assert!(index.contains(&format!(">{b}</a>")), "{b}: {index}");
    }
    assert!(f.exists("commits/branch/master/index.html"));
    assert!(f.exists("commits/branch/master/2.html"));
    assert!(
        index.contains("commits/tags-only/index.html\">1 commit</a>"),
        "{index}"
    );
    let tags_only = f.page("commits/tags-only/index.html");
    assert!(tags_only.contains(&commit_path(f.id("t1"))), "{tags_only}");
    let b10 = f.page("commits/branch/b1_0/index.html");
    assert!(b10.contains(&commit_path(f.id("c3"))), "{b10}");
    // c2 is master's: named once, as where b1_0 branched off.
    assert_eq!(b10.matches(&commit_path(f.id("c2"))).count(), 1, "{b10}");
    assert!(
        b10.contains("Before this, b1_0 shares the history of"),
        "{b10}"
    );
    // A branch without commits of its own says where it points.
    let fresh = f.page("commits/branch/fresh/index.html");
    assert!(fresh.contains("fresh has no commits of its own"), "{fresh}");
    assert!(fresh.contains(&commit_path(f.id("c6"))), "{fresh}");
    assert_links_resolve(&f.site);
}

#[test]
fn a_shallow_clone_builds_with_its_edge_unlinked() {
    let f = fixture("");
    let shallow = f.site.parent().unwrap().join("shallow");
    let url = format!("file://{}", f.repo.display());
    let out = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "2", "--branch", "master", &url])
        .arg(&shallow)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = f.site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("path = \"../repo\"", "path = \"../shallow\""),
    )
    .unwrap();
    let report = build(&f.site).unwrap();
    assert!(report.git.missing_parents > 0, "{:?}", report.git);
    assert!(report.git.commits < 13, "{:?}", report.git);
    assert_links_resolve(&f.site);
}

#[test]
fn unknown_repository_keys_are_refused() {
    let f = fixture("diff_caps = 1");
    let e = build(&f.site).unwrap_err().to_string();
    assert!(e.contains("diff_caps"), "{e}");
}

#[test]
fn diffs_have_line_numbers_file_anchors_and_path_histories() {
    let (f, _) = built("");
    let c2 = f.commit_page("c2");
    // The hunk `@@ -17,7 +17,7 @@`: line 20 replaced, three lines of context each side.
    assert!(c2.contains("@@ -17,7 +17,7 @@"), "{c2}");
    assert!(
        c2.contains("<pre class=\"ln\" aria-hidden=\"true\">\n\n\n\n\n\n17\n18\n19\n20\n\n21\n22\n23\n</pre><pre class=\"ln\" aria-hidden=\"true\">\n\n\n\n\n\n17\n18\n19\n\n20\n21\n22\n23\n</pre><pre class=\"diff-text\">"),
        "{c2}"
    );
    // The file's anchor, linked from the list of files.
    let anchor = c2
        .split("<section class=\"diff-file\" id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(anchor.starts_with("file-lustre-llite-file-c-"), "{anchor}");
    assert!(
        c2.contains(&format!("<a href=\"#{anchor}\">lustre/llite/file.c</a>")),
        "{c2}"
    );
    // Its history: c1 and c2 changed it, newest first.
    let history = c2
        .split("class=\"history\" href=\"../../")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(
        history.starts_with("paths/") && history.ends_with(".html"),
        "{history}"
    );
    let page = f.page(history);
    assert!(page.contains("History of lustre/llite/file.c"), "{page}");
    assert!(
        page.contains("2 commits changed lustre/llite/file.c"),
        "{page}"
    );
    let (at2, at1) = (
        page.find(&format!("../../{}", commit_path(f.id("c2")))),
        page.find(&format!("../../{}", commit_path(f.id("c1")))),
    );
    assert!(at2.is_some() && at1.is_some() && at2 < at1, "{page}");
    // A path only one commit changed has no history page.
    let c6 = f.commit_page("c6");
    assert!(c6.contains("id=\"file-lustre-big-c-"), "{c6}");
    assert!(!c6.contains("class=\"history\""), "{c6}");
    assert_links_resolve(&f.site);
}

#[test]
fn the_history_is_kept_while_the_repository_reads_the_same() {
    let f = fixture("");
    // A second, larger export, so that editing the first is an update of the store (import
    // starts afresh when half the archive's bytes changed).
    let long = "<p>Padding so that this export holds most of the archive's bytes.</p>".repeat(60);
    let more: Vec<JiraIssue> = (0..8)
        .map(|i| JiraIssue {
            key: [
                "LU-10", "LU-11", "LU-12", "LU-13", "LU-14", "LU-15", "LU-16", "LU-17",
            ][i],
            id: 2000 + i as u32,
            summary: "Filler",
            description: &long,
            fix_versions: &[],
        })
        .collect();
    std::fs::write(f.site.join("jira/LU-page-1.xml"), jira_export(&more)).unwrap();
    let first = build(&f.site).unwrap();
    assert!(!first.git.kept, "{:?}", first.git);
    let public = f.site.join("public");
    let before = read_tree(&public);

    // Same refs: the history and the store's commits are the last build's, the site the same.
    let kept = build(&f.site).unwrap();
    assert!(kept.git.kept, "{:?}", kept.git);
    assert_eq!(kept.git.commits, 13);
    assert_eq!(kept.git.diffs_computed + kept.git.diffs_cached, 0);
    assert_eq!(kept.git.notes, first.git.notes);
    assert_eq!(kept.references, first.references);
    assert_eq!(kept.write.written, 0, "{:?}", kept.write);
    assert!(read_tree(&public) == before);

    // An export changed: import updates the store, whose commits stay; the commit page citing
    // the issue shows its new summary, as a build that read the repository again would.
    let export = f.site.join("jira/LU-page-0.xml");
    let text = std::fs::read_to_string(&export).unwrap();
    std::fs::write(
        &export,
        text.replace("Reads return stale data", "Reads return old data"),
    )
    .unwrap();
    let edited = build(&f.site).unwrap();
    assert!(edited.git.kept, "{:?}", edited.git);
    assert!(f.commit_page("c2").contains("Reads return old data"));
    let after_edit = read_tree(&public);
    std::fs::remove_file(f.site.join(".hindsight-cache/git-history.json")).unwrap();
    let read_again = build(&f.site).unwrap();
    assert!(!read_again.git.kept);
    assert_eq!(read_again.write.written, 0, "{:?}", read_again.write);
    assert!(read_tree(&public) == after_edit);

    // The diff cache removed: commit pages need it, so the repository is read again and the
    // diffs made anew.
    std::fs::remove_file(f.site.join(".hindsight-cache/git-diffs.redb")).unwrap();
    let rediffed = build(&f.site).unwrap();
    assert!(!rediffed.git.kept, "{:?}", rediffed.git);
    assert_eq!(rediffed.git.diffs_computed, 13, "{:?}", rediffed.git);
    assert_eq!(rediffed.write.written, 0, "{:?}", rediffed.write);
    assert!(build(&f.site).unwrap().git.kept);

    // A new commit: the repository is read again.
    let mut repo = Repo::open(&f.repo);
    repo.git(&["checkout", "-q", "master"]);
    let new = repo.commit("LU-3 misc: one more\n", &[("NEW", "new\n")]);
    let grown = build(&f.site).unwrap();
    assert!(!grown.git.kept, "{:?}", grown.git);
    assert_eq!(grown.git.commits, 14);
    assert!(f.exists(&commit_path(&new)));

    // A fresh store (the cache's archive removed) has no commits to keep.
    std::fs::remove_file(f.site.join(".hindsight-cache/archive.redb")).unwrap();
    let fresh = build(&f.site).unwrap();
    assert!(!fresh.git.kept, "{:?}", fresh.git);
    assert_eq!(fresh.git.commits, 14);
    assert_eq!(fresh.write.written, 0, "{:?}", fresh.write);

    // A changed mailmap in the worktree changes who wrote what, with the same refs.
    let kept_again = build(&f.site).unwrap();
    assert!(kept_again.git.kept);
    std::fs::write(
        f.repo.join(".mailmap"),
        "Other Name <proper@example.com> <old@example.com>\n",
    )
    .unwrap();
    let remapped = build(&f.site).unwrap();
    assert!(!remapped.git.kept, "{:?}", remapped.git);
}
