//! GitHub dumps of several repositories in one tracker: every issue of every repository is
//! published under its repository's key prefix, rendered as GitHub renders it (line breaks,
//! autolinks, `#N`, `owner/repo#N`, task lists, footnotes), with pull request states,
//! reactions, lock and state reason, milestones, coloured labels, and `#issuecomment-N`
//! anchors; a key collision between two different issues stops the build naming both.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

fn site(config: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    copy_tree(
        &repo().join("tests/fixtures/github"),
        &site.join("exports/github"),
    );
    std::fs::write(site.join("hindsight.toml"), config).unwrap();
    (dir, site)
}

const CONFIG: &str = r#"title = "GitHub archive (test)"

[[tracker]]
paths = ["exports/github/*.json", "exports/github/*.jsonl"]

[tracker.key_prefixes]
"acme/tools" = "TOOLS"
"#;

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(
        files
            .get(path)
            .unwrap_or_else(|| panic!("missing {path}: {:?}", files.keys().collect::<Vec<_>>()))
            .clone(),
    )
    .unwrap()
}

#[test]
fn two_repositories_with_the_same_numbers_are_all_published() {
    let (_dir, site) = site(CONFIG);
    let report = build(&site).unwrap();
    assert_eq!(report.import.issues_kept, 4, "{:?}", report.import);
    let files = read_tree(&site.join("public"));
    for page in [
        "issues/FS/0/FS-1.html",
        "issues/FS/0/FS-2.html",
        "issues/TOOLS/0/TOOLS-1.html",
        "issues/TOOLS/0/TOOLS-2.html",
    ] {
        assert!(files.contains_key(page), "{page}");
    }
    let one = text(&files, "issues/FS/0/FS-1.html");
    assert!(
        one.contains("acme/fs#1"),
        "the repository reference is shown"
    );
    let json = text(&files, "issues/FS/0/FS-1.json");
    assert!(json.contains("\"source\": \"github\""), "{json}");
    assert!(json.contains("\"repository\": \"acme/fs\""), "{json}");
}

#[test]
fn github_text_renders_as_github_does() {
    let (_dir, site) = site(CONFIG);
    build(&site).unwrap();
    let files = read_tree(&site.join("public"));
    let one = text(&files, "issues/FS/0/FS-1.html");
    // A single newline is a line break.
    assert!(one.contains("this.<br>"), "{one}");
    // Bare URLs, `#2`, `acme/tools#1` and `@hubot` are links; `#2` inside code is not.
    assert!(
        one.contains(
            "<a href=\"https://example.org/log.txt\" rel=\"nofollow noopener noreferrer\">"
        ),
        "{one}"
    );
    assert!(
        one.contains("<a href=\"../../../issues/FS/0/FS-2.html\" class=\"issue-link\">#2</a>"),
        "{one}"
    );
    assert!(
        one.contains("<a href=\"../../../issues/TOOLS/0/TOOLS-1.html\" class=\"issue-link\">acme/tools#1</a>"),
        "{one}"
    );
    assert!(one.contains("class=\"mention\""), "{one}");
    assert!(one.contains("<code>#2 in code</code>"), "{one}");
    // Task lists, tables, footnotes with a target on the page.
    assert!(
        one.contains("☑ reproduce") && one.contains("☐ fix"),
        "{one}"
    );
    assert!(one.contains("<table>"), "{one}");
    assert!(one.contains("href=\"#fn-description-1\""), "{one}");
    assert!(one.contains("id=\"fn-description-1\""), "{one}");
    // A github.com link to a comment reaches the local comment anchor.
    assert!(
        one.contains("href=\"../../../issues/FS/0/FS-2.html#issuecomment-2\""),
        "{one}"
    );
    let two = text(&files, "issues/FS/0/FS-2.html");
    assert!(two.contains("id=\"issuecomment-2\""), "{two}");
    // The whole site's links resolve, the new anchors included.
    let out = hindsight(&site, &["check"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn github_states_and_details_are_shown() {
    let (_dir, site) = site(CONFIG);
    build(&site).unwrap();
    let files = read_tree(&site.join("public"));
    let one = text(&files, "issues/FS/0/FS-1.html");
    assert!(one.contains("Not planned"), "state_reason");
    assert!(one.contains("<dt>Locked</dt><dd>yes</dd>"), "{one}");
    assert!(one.contains("too heated"), "lock reason");
    assert!(one.contains("👍 2") && one.contains("❤️ 1"), "reactions");
    assert!(one.contains("🚀 1"), "comment reactions");
    assert!(one.contains("v1.0"), "milestone");
    assert!(one.contains("data-color=\"f29513\""), "label colour");
    assert!(one.contains("fill=\"#f29513\""), "label colour swatch");
    // Each assignee's name links their page (render/people.rs).
    let assignees = one
        .split("<dt>Assignees</dt><dd>")
        .nth(1)
        .and_then(|r| r.split("</dd>").next())
        .unwrap_or_default();
    let names: Vec<&str> = assignees
        .split("</a>")
        .filter_map(|a| a.rsplit('>').next())
        .filter(|n| !n.trim().is_empty())
        .collect();
    assert_eq!(names, ["hubot", "octocat"], "{assignees}");
    assert!(assignees.contains("class=\"person\""), "{assignees}");
    assert!(one.contains("id=\"event-6430295168\""), "event anchor");
    assert!(!one.contains("style="), "no inline style (CSP)");
    let merged = text(&files, "issues/FS/0/FS-2.html");
    assert!(merged.contains(">Merged</a>"), "merged pull request");
    let closed = text(&files, "issues/TOOLS/0/TOOLS-2.html");
    assert!(
        closed.contains(">Closed</a>") && closed.contains("Not merged"),
        "{closed}"
    );
}

#[test]
fn a_key_collision_names_both_issues() {
    // One prefix for both repositories: acme/fs#1 and acme/tools#1 both want GH-1.
    let config = "title = \"T\"\n[[tracker]]\nkey_prefix = \"GH\"\npaths = [\"exports/github/*.json\", \"exports/github/*.jsonl\"]\n";
    let (_dir, site) = site(config);
    let e = build(&site).unwrap_err().to_string();
    assert!(e.contains("GH-1"), "{e}");
    assert!(
        e.contains("acme-fs.json (issue 1 of the file; github id 1001)"),
        "{e}"
    );
    assert!(
        e.contains("acme-tools.jsonl (issue 1 of the file; github id 2001)"),
        "{e}"
    );
    assert!(e.contains("key_prefixes"), "{e}");
    assert!(!Path::new(&site.join("public/index.html")).exists());
}

#[test]
fn check_tells_dead_links_of_archived_text_from_the_sites_own() {
    let (_dir, site) = site(CONFIG);
    build(&site).unwrap();
    let page = site.join("public/issues/FS/0/FS-2.html");
    let html = std::fs::read_to_string(&page).unwrap().replacen(
        "<div class=\"text\">",
        "<div class=\"text\"><a href=\"#comment-gone\">old anchor</a>",
        1,
    );
    std::fs::write(&page, html).unwrap();
    let out = hindsight(&site, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("#comment-gone (no such anchor, in archived text)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 broken, 1 dead in archived text"),
        "{stdout}"
    );
    let strict = hindsight(&site, &["check", "--strict-content"]);
    assert_eq!(strict.status.code(), Some(1));
}
