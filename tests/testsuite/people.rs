//! People pages end to end: a small neutral export and a git repository built here, in which
//! the same people report, are assigned, comment, author, commit and review; the index, each
//! person's page (by year), the folding of people seen once, the links from issue and commit
//! pages, and that no address reaches any of it.

use std::path::{Path, PathBuf};

use crate::common::*;
use crate::git_fixture::Repo;

struct Fixture {
    _dir: tempfile::TempDir,
    site: PathBuf,
    /// Commit ids: Ann's fix (reviewed by Rita), Rita's (reviewed by Ann), Ann's second.
    ids: [String; 3],
}

impl Fixture {
    fn page(&self, rel: &str) -> String {
        let p = self.site.join("public").join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }
}

fn commit_path(id: &str) -> String {
    format!("commits/{}/{id}.html", &id[..2])
}

fn issue(key: &str, created: &str, reporter: &str, assignee: &str, comments: &str) -> String {
    format!(
        r#"{{"source":"neutral","id":"{key}","key":"{key}","project":{{"key":"LU","name":"Lustre"}},"summary":"Issue {key}","status":"Open","created":"{created}","updated":"{created}","reporter":{reporter},"assignee":{assignee},"comments":[{comments}]}}"#
    )
}

fn build_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("exports")).unwrap();
    let mut r = Repo::init(&dir.path().join("repo"));
    let ann = ("Ann Author", "ann@example.com");
    let rita = ("Rita Reviewer", "rita@example.com");
    let c1 = r.commit_as(
        "LU-1 llite: fix the read path\n\nReviewed-by: Rita Reviewer <rita@example.com>\nSigned-off-by: Ann Author <ann@example.com>\n",
        &[("a.c", "a\n")],
        Some(ann),
    );
    let c2 = r.commit_as(
        "LU-2 ldlm: fix the lock order\n\nReviewed-by: Ann Author <ann@example.com>\n",
        &[("b.c", "b\n")],
        Some(rita),
    );
    let c3 = r.commit_as(
        "LU-1 llite: follow-up\n\nReviewed-by: Rita  Reviewer <rita@example.com>\n",
        &[("a.c", "a2\n")],
        Some(ann),
    );
    let ann_p = r#"{"login":"ann","display":"Ann Author","email":"ann@example.com"}"#;
    let rita_p = r#"{"login":"rita","display":"Rita Reviewer","email":"rita@example.com"}"#;
    let odd_p = r#"{"login":"odd","display":"Odd Once","email":"odd@example.org"}"#;
    let comment = |id: &str, who: &str, when: &str| {
        format!(
            r#"{{"id":"{id}","author":{who},"created":"{when}","body":{{"markup":"plain","content":"comment {id}"}}}}"#
        )
    };
    let lu1 = issue(
        "LU-1",
        "2019-03-01T10:00:00+00:00",
        ann_p,
        rita_p,
        &[
            comment("11", ann_p, "2020-05-01T10:00:00+00:00"),
            comment("12", odd_p, "2020-05-02T10:00:00+00:00"),
            comment("13", ann_p, "2020-06-01T10:00:00+00:00"),
        ]
        .join(","),
    );
    let lu2 = issue(
        "LU-2",
        "2021-01-01T10:00:00+00:00",
        rita_p,
        "null",
        &comment("21", ann_p, "2021-02-01T10:00:00+00:00"),
    );
    std::fs::write(
        site.join("exports/issues.ndjson"),
        format!("{lu1}\n{lu2}\n"),
    )
    .unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!(
            "title = \"People\"\n[[tracker]]\nname = \"neutral\"\npaths = [\"exports/issues.ndjson\"]\n[[repository]]\npath = \"{}\"\n",
            dir.path().join("repo").display()
        ),
    )
    .unwrap();
    build(&site).unwrap();
    Fixture {
        _dir: dir,
        site,
        ids: [c1, c2, c3],
    }
}

/// The part of `page` from the heading `<h2 id="{year}-h"` to the next year's section.
fn year<'a>(page: &'a str, anchor: &str) -> &'a str {
    let start = page
        .find(&format!("<h2 id=\"{anchor}-h\""))
        .unwrap_or_else(|| panic!("no {anchor} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The part of a year section under the heading `role`, to the next heading.
fn under<'a>(section: &'a str, role: &str) -> &'a str {
    let start = section
        .find(&format!("<h3>{role}</h3>"))
        .unwrap_or_else(|| panic!("no {role} in {section}"));
    let rest = &section[start + 4..];
    &rest[..rest.find("<h3>").unwrap_or(rest.len())]
}

#[test]
fn a_person_page_lists_what_they_did_by_year() {
    let f = build_fixture();
    let [c1, c2, c3] = &f.ids;
    let ann = f.page("people/ann-author.html");
    // Issues, with the year they happened in.
    assert!(under(year(&ann, "y2019"), "Reported").contains("LU-1.html"));
    let commented_2020 = under(year(&ann, "y2020"), "Commented on");
    assert!(commented_2020.contains("LU-1.html") && commented_2020.contains("2 comments"));
    assert!(under(year(&ann, "y2021"), "Commented on").contains("LU-2.html"));
    // Commits (the fixture's clock is in January 2010), authored and reviewed.
    let y2010 = year(&ann, "y2010");
    let authored = under(y2010, "Commits authored");
    assert!(authored.contains(&commit_path(c1)) && authored.contains(&commit_path(c3)));
    assert!(!authored.contains(&commit_path(c2)));
    let reviewed = under(y2010, "Commits reviewed");
    assert!(reviewed.contains(&commit_path(c2)) && !reviewed.contains(&commit_path(c1)));
    assert!(!y2010.contains("Commits committed"));
    // The counts per year link each year's section.
    assert!(
        ann.contains("href=\"../people/ann-author.html#y2020\""),
        "{ann}"
    );

    // Rita: reported LU-2, assigned LU-1, authored c2, reviewed c1 and c3 (a trailer with two
    // spaces in her name is still hers).
    let rita = f.page("people/rita-reviewer.html");
    assert!(under(year(&rita, "y2021"), "Reported").contains("LU-2.html"));
    assert!(under(year(&rita, "y2019"), "Assigned").contains("LU-1.html"));
    let y2010 = year(&rita, "y2010");
    assert!(under(y2010, "Commits authored").contains(&commit_path(c2)));
    let reviewed = under(y2010, "Commits reviewed");
    assert!(reviewed.contains(&commit_path(c1)) && reviewed.contains(&commit_path(c3)));

    // The committer of everyone's commits.
    let carl = f.page("people/carl-committer.html");
    let committed = under(year(&carl, "y2010"), "Commits committed");
    for id in &f.ids {
        assert!(committed.contains(&commit_path(id)), "{committed}");
    }

    // The index: alphabetical, with counts; Odd Once (one comment) is folded into it.
    let index = f.page("people/index.html");
    let order: Vec<usize> = ["Ann Author", "Carl Committer", "Odd Once", "Rita Reviewer"]
        .iter()
        .map(|n| {
            index
                .find(n)
                .unwrap_or_else(|| panic!("{n} not in {index}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(!f.site.join("public/people/odd-once.html").exists());
    let odd_row = &index[index.find("id=\"odd-once\"").unwrap()..];
    let odd_row = &odd_row[..odd_row.find("</tr>").unwrap()];
    assert!(
        odd_row.contains("commented on <a href=\"../issues/LU/0/LU-1.html\">LU-1</a>"),
        "{odd_row}"
    );
    assert!(index.contains("<a class=\"person\" href=\"../people/ann-author.html\">Ann Author</a>"));
}

#[test]
fn names_link_to_people_and_no_address_is_published() {
    let f = build_fixture();
    let [c1, _, _] = &f.ids;
    // The issue page: reporter, assignee, comment authors.
    let lu1 = f.page("issues/LU/0/LU-1.html");
    assert!(
        lu1.contains("<a class=\"person\" href=\"../../../people/ann-author.html\">Ann Author</a>"),
        "{lu1}"
    );
    assert!(lu1.contains(
        "<a class=\"person\" href=\"../../../people/rita-reviewer.html\">Rita Reviewer</a>"
    ));
    assert!(lu1
        .contains("<a class=\"person\" href=\"../../../people/index.html#odd-once\">Odd Once</a>"));
    // The commit page: author, committer and the names in trailers.
    let commit = f.page(&commit_path(c1));
    for (name, href) in [
        ("Ann Author", "../../people/ann-author.html"),
        ("Carl Committer", "../../people/carl-committer.html"),
        ("Rita Reviewer", "../../people/rita-reviewer.html"),
    ] {
        assert!(
            commit.contains(&format!("<a class=\"person\" href=\"{href}\">{name}</a>")),
            "{name} not linked in {commit}"
        );
    }
    // The branch listing's author column.
    let branch = f.page("commits/branch/master/index.html");
    assert!(branch
        .contains("<a class=\"person\" href=\"../../../people/ann-author.html\">Ann Author</a>"));
    // Every link of the site resolves, and no page about people shows an address, even masked.
    let check = hindsight::check::check_site(&f.site.join("public")).unwrap();
    assert!(check.broken.is_empty(), "{:?}", check.broken);
    for entry in walkdir::WalkDir::new(f.site.join("public/people")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for leak in [
                "@example",
                "example.com",
                "example.org",
                "ann@",
                "rita@",
                "odd@",
            ] {
                assert!(!text.contains(leak), "{leak} in {}", entry.path().display());
            }
        }
    }
    assert!(every_file(&f.site.join("public")).iter().all(|(p, text)| {
        !p.contains('@') && !text.contains("ann@example.com") && !text.contains("odd@example.org")
    }));
}

#[test]
fn long_person_pages_are_paginated_and_the_output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("exports")).unwrap();
    let who = r#"{"login":"ann","display":"Ann Author"}"#;
    let lines: Vec<String> = (1..=25)
        .map(|n| {
            issue(
                &format!("LU-{n}"),
                &format!("{}-01-01T10:00:00+00:00", 2000 + n),
                who,
                "null",
                "",
            )
        })
        .collect();
    std::fs::write(site.join("exports/issues.ndjson"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        "title = \"People\"\npage_size = 10\n[[tracker]]\nname = \"neutral\"\npaths = [\"exports/issues.ndjson\"]\n",
    )
    .unwrap();
    build(&site).unwrap();
    let first = read_tree(&site.join("public/people"));
    let pages: Vec<&String> = first.keys().collect();
    assert_eq!(
        pages,
        [
            "ann-author.html",
            "ann-author/2.html",
            "ann-author/3.html",
            "index.html"
        ],
        "{pages:?}"
    );
    let p1 = String::from_utf8(first["ann-author.html"].clone()).unwrap();
    // Newest first; the table of years links the page each year is on.
    assert!(p1.contains("id=\"y2025\"") && !p1.contains("id=\"y2015\""));
    assert!(
        p1.contains("href=\"../people/ann-author/2.html#y2015\""),
        "{p1}"
    );
    assert!(p1.contains("rel=\"next\" href=\"../people/ann-author/2.html\""));
    let p3 = String::from_utf8(first["ann-author/3.html"].clone()).unwrap();
    assert!(
        p3.contains("id=\"y2001\"")
            && p3.contains("rel=\"prev\" href=\"../../people/ann-author/2.html\"")
    );
    build(&site).unwrap();
    assert!(
        first == read_tree(&site.join("public/people")),
        "a rebuild changed people/"
    );
}

/// Every text file under `root`, with its path relative to it.
fn every_file(root: &Path) -> Vec<(String, String)> {
    read_tree(root)
        .into_iter()
        .map(|(p, bytes)| (p, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}
