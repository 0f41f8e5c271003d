//! The bundled example archive (`content/`) built end to end: pages, links, determinism,
//! privacy, and what a broken export does to an existing site.

use crate::common::*;
use std::collections::BTreeMap;

#[test]
fn the_example_builds_into_a_complete_site() {
    let (_dir, site) = example();
    let report = build(&site).unwrap();
    let out = site.join("public");
    let i = &report.import;
    // 45 issues in the JIRA export: one under a security level and one of the unpublished LDEV
    // project are dropped; two overlap between the pages. 12 Bugzilla bugs beside them, and one
    // `NotPermitted` stub that is skipped with a warning.
    assert_eq!(i.files, 3);
    assert_eq!(i.restricted_issues, 1, "{i:?}");
    assert_eq!(i.unpublished.get("LDEV"), Some(&1), "{i:?}");
    assert_eq!(i.restricted_comments, 3 + 2, "{i:?}");
    assert_eq!(i.restricted_attachments, 1, "{i:?}");
    let stubs: Vec<_> = i
        .warnings
        .iter()
        .filter(|w| w.key.as_deref() == Some("BZ-13300"))
        .collect();
    assert_eq!(stubs.len(), 1, "{:?}", i.warnings);
    assert!(i.duplicates >= 2, "{i:?}");
    let kept = i.issues_kept as usize;
    assert!(kept >= 40 + 12, "{kept}");

    let files = read_tree(&out);
    let issue_pages = files
        .keys()
        .filter(|p| p.starts_with("issues/") && p.ends_with(".html"))
        .count();
    let issue_json = files
        .keys()
        .filter(|p| p.starts_with("issues/") && p.ends_with(".json"))
        .count();
    assert_eq!(issue_pages, kept);
    assert_eq!(issue_json, kept);
    for required in [
        "index.html",
        "search.html",
        "about.html",
        "searching.html",
        "lists/index.html",
        "lists/project/LU/index.html",
        "lists/project/BZ/index.html",
        "issues/BZ/16/BZ-16494.html",
        "static/style.css",
        "static/search.js",
    ] {
        assert!(files.contains_key(required), "missing {required}");
    }
    assert_eq!(report.render.issue_pages as usize, kept);
}

#[test]
fn every_relative_link_resolves() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let report = hindsight::check::check_site(&site.join("public")).unwrap();
    assert!(report.links > 1000, "{} links", report.links);
    assert!(
        report.broken.is_empty(),
        "broken links: {:#?}",
        &report.broken[..report.broken.len().min(20)]
    );
}

#[test]
fn a_second_build_is_byte_identical_and_rewrites_nothing() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let first = read_tree(&site.join("public"));
    let report = build(&site).unwrap();
    let second = read_tree(&site.join("public"));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &first {
        assert!(second[path] == *bytes, "{path} differs between builds");
    }
    assert_eq!(report.write.written, 0, "{:?}", report.write);
    assert_eq!(report.write.unchanged as usize, first.len());
}

#[test]
fn no_restricted_text_reaches_any_output_byte() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let files = read_tree(&site.join("public"));
    assert!(files.len() > 50);
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("RESTRICTED-MARKER"),
            "{path} contains restricted text"
        );
    }
}

#[test]
fn a_truncated_export_fails_with_its_position_and_leaves_the_site_intact() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let before = read_tree(&site.join("public"));

    let page = site.join("exports/jira/LU-page-1.xml");
    let text = std::fs::read_to_string(&page).unwrap();
    let cut = text.len() * 2 / 3;
    let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap();
    std::fs::write(&page, &text[..cut]).unwrap();

    let output = hindsight(&site, &["build", "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = text[..cut].matches('\n').count() + 1;
    assert!(
        stderr.contains("LU-page-1.xml:"),
        "error does not name the file: {stderr}"
    );
    let re = regex::Regex::new(r"LU-page-1\.xml:(\d+):(\d+): ").unwrap();
    let caps = re
        .captures(&stderr)
        .unwrap_or_else(|| panic!("no line:column in {stderr}"));
    let reported: usize = caps[1].parse().unwrap();
    assert!(
        reported <= line && reported + 200 >= line,
        "reported line {reported}, file cut at line {line}: {stderr}"
    );
    assert!(stderr.contains("(issue LU-"), "no issue key in: {stderr}");
    assert_eq!(read_tree(&site.join("public")), before, "the site changed");
}

#[test]
fn unknown_config_keys_are_refused_with_the_key_and_file() {
    let (_dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("tittle = \"x\"\n{text}")).unwrap();
    let output = hindsight(&site, &["build"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("hindsight.toml"), "{stderr}");
    assert!(stderr.contains("tittle"), "{stderr}");
}

#[test]
fn export_then_import_gives_the_same_site_byte_for_byte() {
    let (dir, site) = example();
    // The neutral export holds the issues, not the git history: both sites go without it.
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = &text[..text.find("[[repository]]").unwrap()];
    std::fs::write(&config, text).unwrap();
    build(&site).unwrap();
    let first = read_tree(&site.join("public"));

    let ndjson = dir.path().join("archive.ndjson");
    let config = hindsight::Config::load(&site.join("hindsight.toml")).unwrap();
    let n = hindsight::export(&config, &ndjson, false).unwrap();
    assert_eq!(
        n as usize,
        first.keys().filter(|p| p.ends_with(".json")).count()
    );

    // A second site, the same but for its one tracker: the neutral export.
    let again = dir.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    copy_tree(&site.join("pages"), &again.join("pages"));
    let text = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    // One tracker reads the export; it keeps the Bugzilla prefix so `bug N` still links.
    let head = &text[..text.find("[[tracker]]").unwrap()];
    let text = format!(
        "{head}[[tracker]]\nname = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"../archive.ndjson\"]\n"
    );
    std::fs::write(again.join("hindsight.toml"), text).unwrap();
    let report = build(&again).unwrap();
    assert_eq!(report.import.restricted_issues, 0);
    // The backup (and the checksums over it) differ by construction: its archive is split by
    // tracker, and its config names other trackers.
    let site_only = |tree: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        tree.into_iter()
            .filter(|(p, _)| !p.starts_with("backup/") && p != "SHA256SUMS")
            .collect()
    };
    let first = site_only(first);
    let second = site_only(read_tree(&again.join("public")));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &first {
        assert!(
            second[path] == *bytes,
            "{path} differs after export and import"
        );
    }
}

#[test]
fn feeds_sitemap_and_robots_follow_the_base_url() {
    let (_dir, site) = example();
    let report = build(&site).unwrap();
    let out = site.join("public");
    let feed = std::fs::read_to_string(out.join("feeds/issues.atom")).unwrap();
    assert!(feed.starts_with("<?xml"));
    assert_eq!(
        feed.matches("<entry>").count(),
        report.import.issues_kept.min(50) as usize
    );
    assert!(out.join("feeds/LU.atom").is_file());
    assert!(!out.join("sitemap.xml").exists());
    assert!(report.render.notes.iter().any(|n| n.contains("base_url")));

    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("base_url = \"https://archive.example.org/lustre/\"\n{text}"),
    )
    .unwrap();
    build(&site).unwrap();
    let sitemap = std::fs::read_to_string(out.join("sitemap.xml")).unwrap();
    // Every page but the redirect stubs of old URLs.
    let pages = read_tree(&out)
        .keys()
        .filter(|p| p.ends_with(".html") && !p.starts_with("browse/") && !p.contains(".cgi/"))
        .count();
    assert_eq!(sitemap.matches("<url>").count(), pages);
    assert!(sitemap.contains("<loc>https://archive.example.org/lustre/index.html</loc>"));
    let robots = std::fs::read_to_string(out.join("robots.txt")).unwrap();
    assert!(robots.contains("Sitemap: https://archive.example.org/lustre/sitemap.xml"));
    let feed = std::fs::read_to_string(out.join("feeds/issues.atom")).unwrap();
    assert!(feed.contains("href=\"https://archive.example.org/lustre/issues/LU/"));
}

#[test]
fn bugzilla_attachments_are_published_with_their_decoded_bytes() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let out = site.join("public");
    let patch =
        std::fs::read_to_string(out.join("attachments/BZ/0/567/ldlm-lru-batch.patch")).unwrap();
    assert!(
        patch.starts_with("Index: lustre/ldlm/ldlm_lru.c\n"),
        "{patch}"
    );
    assert!(
        patch.contains("+        /* b=12755: never cancel more than a batch at a time, or every\n")
    );
    let log =
        std::fs::read_to_string(out.join("attachments/BZ/21/21340/mds1_console.log")).unwrap();
    assert!(log.contains("waiting_locks_callback()"), "{log}");
    assert!(log.ends_with("reconnecting\n"));
    // The private attachment is nowhere: no folder, no file.
    assert!(!out.join("attachments/BZ/21/21341").exists());
    let files = read_tree(&out.join("attachments"));
    assert_eq!(files.len(), 2, "{:?}", files.keys().collect::<Vec<_>>());

    // The issue page links the file and gives the entry its old anchor; the JSON points at the
    // site's copy instead of carrying base64.
    let page = std::fs::read_to_string(out.join("issues/BZ/12/BZ-12755.html")).unwrap();
    assert!(
        page.contains("id=\"attachment-567\""),
        "no attachment anchor"
    );
    assert!(
        page.contains("ldlm-lru-batch.patch</a>"),
        "attachment not linked"
    );
    let json = std::fs::read_to_string(out.join("issues/BZ/12/BZ-12755.json")).unwrap();
    assert!(
        json.contains("\"path\": \"attachments/BZ/0/567/ldlm-lru-batch.patch\""),
        "{json}"
    );
    assert!(!json.contains("base64"), "{json}");
    assert!(
        page.contains(">Platform<") || page.contains("Platform"),
        "no field label"
    );
    assert!(!page.contains("everconfirmed"));
}

#[test]
fn jira_and_bugzilla_pages_link_each_other() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let out = site.join("public");
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    let lu = read("issues/LU/4/LU-4423.html");
    // An old Bugzilla URL in a JIRA anchor, and `bug N comment M` in JIRA text.
    assert!(lu.contains("<a href=\"../../../issues/BZ/16/BZ-16494.html\" class=\"issue-link\">https://bugzilla.lustre.org/show_bug.cgi?id=16494</a>"), "{lu}");
    assert!(lu.contains("<a href=\"../../../issues/BZ/12/BZ-12755.html#c2\" class=\"issue-link\">bug 12755 comment 2</a>"));
    let lu1000 = read("issues/LU/1/LU-1000.html");
    assert!(lu1000.contains(
        "<a href=\"../../../issues/BZ/11/BZ-11861.html\" class=\"issue-link\">Bug 11861</a>"
    ));
    let lu36 = read("issues/LU/0/LU-36.html");
    assert!(lu36.contains("href=\"../../../issues/BZ/22/BZ-22514.html\""));
    let lu12 = read("issues/LU/0/LU-12.html");
    assert!(lu12.contains(">b=23871</a>"));

    let bz = read("issues/BZ/16/BZ-16494.html");
    // JIRA URLs and keys in Bugzilla text, `bug N comment M`, `comment N`, `attachment N`, and
    // `b=N,M` lists.
    assert!(bz.contains("<a href=\"../../../issues/LU/4/LU-4423.html\" class=\"issue-link\">https://jira.whamcloud.com/browse/LU-4423</a>"));
    assert!(bz.contains("<a href=\"../../../issues/BZ/12/BZ-12755.html#c2\" class=\"issue-link\">bug 12755 comment 2</a>"));
    assert!(bz.contains("<a href=\"#c1\" class=\"issue-link\">comment 1</a>"));
    assert!(bz.contains("<a href=\"../../../attachments/BZ/21/21340/mds1_console.log\" class=\"issue-link\">attachment 21340</a>"));
    assert!(bz.contains(
        "<a href=\"../../../issues/BZ/16/BZ-16404.html\" class=\"issue-link\">16404</a>"
    ));
    let bz11861 = read("issues/BZ/11/BZ-11861.html");
    assert!(bz11861.contains("<a href=\"../../../issues/LU/1/LU-1000.html\" class=\"issue-link\">https://jira.whamcloud.com/browse/LU-1000</a>"));
    assert!(bz11861.contains("<a href=\"../../../issues/BZ/10/BZ-10987.html\" class=\"issue-link\">https://bugzilla.clusterfs.com/show_bug.cgi?id=10987</a>"));
    // A bug that is not in the archive stays text.
    let bz24310 = read("issues/BZ/24/BZ-24310.html");
    assert!(bz24310.contains("Bug 99999 was similar"));
    // `comment 3` on BZ-12755 would name a private comment: not linked.
    let bz12755 = read("issues/BZ/12/BZ-12755.html");
    assert!(!bz12755.contains("id=\"c3\""));
    assert!(!bz12755.contains("href=\"#c3\""));

    let check = hindsight::check::check_site(&out).unwrap();
    assert!(check.broken.is_empty(), "broken links: {:#?}", check.broken);
}

#[test]
fn usb_switches_drop_issue_json_and_redirect_stubs_and_nothing_links_to_them() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let out = site.join("public");
    let full = read_tree(&out);
    assert!(full.contains_key("issues/LU/4/LU-4423.json"));
    assert!(full.contains_key("browse/LU-4423/index.html"));

    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("issue_json = false\nredirect_stubs = false\n{text}"),
    )
    .unwrap();
    build(&site).unwrap();
    let lean = read_tree(&out);
    let json: Vec<_> = lean
        .keys()
        .filter(|p| p.starts_with("issues/") && p.ends_with(".json"))
        .collect();
    assert!(json.is_empty(), "{json:?}");
    assert!(!lean.keys().any(|p| p.starts_with("browse/")));
    // Everything else is still there, and no page links to what was dropped.
    let dropped = full
        .keys()
        .filter(|p| !lean.contains_key(*p))
        .filter(|p| !(p.starts_with("issues/") && p.ends_with(".json")))
        .filter(|p| !p.starts_with("browse/"))
        .collect::<Vec<_>>();
    assert!(dropped.is_empty(), "{dropped:?}");
    let page = String::from_utf8(lean["issues/LU/4/LU-4423.html"].clone()).unwrap();
    assert!(!page.contains("LU-4423.json"), "the page links its JSON");
    let check = hindsight::check::check_site(&out).unwrap();
    assert!(check.broken.is_empty(), "{:?}", check.broken);
    assert!(lean.len() < full.len());
}

#[test]
fn the_example_history_links_issues_commits_releases_and_branches() {
    let (_dir, site) = example();
    let report = build(&site).unwrap();
    let out = site.join("public");
    let files = read_tree(&out);
    let read = |p: &str| {
        String::from_utf8(
            files
                .get(p)
                .unwrap_or_else(|| panic!("missing {p}"))
                .clone(),
        )
        .unwrap()
    };
    let commit_pages = files
        .keys()
        .filter(|p| {
            p.starts_with("commits/") && p.ends_with(".html") && p.matches('/').count() == 2
        })
        .count();
    assert!(
        (200..=400).contains(&commit_pages),
        "{commit_pages} commit pages"
    );
    assert_eq!(report.render.commit_pages as usize, commit_pages);
    for branch in ["master", "b1_8", "b2_1", "b2_5", "b2_12", "b2_15"] {
        assert!(
            files.contains_key(&format!("commits/branch/{branch}/index.html")),
            "no listing of branch {branch}"
        );
    }
    // Releases under their canonical names; the development tag and the release candidate
    // are not releases.
    for release in [
        "1.4.7", "1.8.5", "2.1.0", "2.5.1", "2.12.3", "2.15.0", "2.15.3",
    ] {
        assert!(
            files.contains_key(&format!("releases/{release}/index.html")),
            "no page for release {release}"
        );
    }
    assert!(!files.keys().any(|p| p.starts_with("releases/2.15.50")));
    assert!(!files.keys().any(|p| p.contains("RC1")));

    // LU-4423: fixed on master (2.6.0) and back-ported to b2_5 (2.5.1), as its fix versions say;
    // the two commits of one change (one Change-Id) are shown together.
    let lu = read("issues/LU/4/LU-4423.html");
    assert!(
        lu.contains("Fixed in <a href=\"../../../releases/2.6.0/index.html\">2.6.0</a>"),
        "{lu}"
    );
    assert!(lu.contains(", back-ported to <a href=\"../../../releases/2.5.1/index.html\">"));
    assert!(lu.contains(">2.5.1</a>") && lu.contains(">2.6.0</a>"));
    assert!(lu.contains("2 commits of one change"));
    assert!(lu.contains("LU-4423 ldlm: cancel unused locks in batches from the LRU"));
    // A Bugzilla bug cited by `b=` lines, fixed on b1_8 only.
    let bz = read("issues/BZ/22/BZ-22514.html");
    assert!(bz.contains(">b1_8</a>"), "{bz}");
    assert!(bz.contains(">1.8.4</a>"));
    // `b=12755,16494` cites both bugs (old commits' subject line is the `b=` line).
    for page in ["issues/BZ/16/BZ-16494.html", "issues/BZ/12/BZ-12755.html"] {
        assert!(read(page).contains("<td>b=12755,16494</td>"), "{page}");
    }
    // The release page lists the issue first fixed in it and the commits first shipped in it.
    let release = read("releases/2.12.3/index.html");
    assert!(release.contains("LU-12137"), "{release}");
    assert!(release.contains("New release 2.12.3"));
    // The compare views of consecutive releases: the next line's first release, the next
    // maintenance release.
    for pair in ["2.14.0...2.15.0", "2.15.0...2.15.1", "2.12.0...2.12.3"] {
        let page = format!("releases/compare/{pair}/index.html");
        assert!(files.contains_key(&page), "no {page}");
    }

    // Both projects are named as the config names them, not both "Lustre".
    let home = read("index.html");
    assert!(
        home.contains("Lustre (JIRA)") && home.contains("Lustre (Bugzilla)"),
        "{home}"
    );
    assert!(read("issues/BZ/16/BZ-16494.html").contains(">Lustre (Bugzilla)</a>"));
    let about = read("about.html");
    assert!(about.contains("Bugzilla") && about.contains("362 commits"));
}

/// The bundled history is what `scripts/make-example-history` writes: the same refs and the
/// same objects (the pack's bytes also depend on git's version, so they are not compared).
#[test]
fn the_example_history_is_what_its_script_writes() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("example.git");
    let run = std::process::Command::new(repo().join("scripts/make-example-history"))
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let bundled = repo().join("content/source/example.git");
    let tree = |root: &std::path::Path| {
        read_tree(root)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("objects/"))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(tree(&fresh), tree(&bundled), "HEAD, config or refs differ");
    let objects = |git_dir: &std::path::Path| {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(git_dir)
            .args(["cat-file", "--batch-all-objects", "--batch-check"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = objects(&bundled);
    assert!(listed.lines().count() > 1000, "{listed}");
    assert_eq!(objects(&fresh), listed, "the objects differ");
    let pack: u64 = read_tree(&bundled.join("objects/pack"))
        .values()
        .map(|b| b.len() as u64)
        .sum();
    assert!(
        pack < 400 * 1024,
        "the example's pack and index take {pack} bytes"
    );
}
