//! Rebuilds: an unchanged archive is left alone (not even re-rendered), and a changed export
//! rewrites only the files whose bytes change; every other file keeps its inode and
//! modification time, so `rsync` to a mirror copies only what changed.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::common::*;
use hindsight::{BuildOptions, Config, Quiet};

/// Relative path → (inode, modification time in ns, bytes) of every file under `root`.
fn snapshot(root: &Path) -> BTreeMap<String, (u64, i128, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let meta = entry.metadata().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap();
            out.insert(
                rel.to_string_lossy().into_owned(),
                (
                    meta.ino(),
                    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
                    std::fs::read(entry.path()).unwrap(),
                ),
            );
        }
    }
    out
}

fn build_unforced(site: &Path) -> hindsight::BuildReport {
    let config = Config::load(&site.join("hindsight.toml")).unwrap();
    hindsight::build(&config, &BuildOptions::default(), &Quiet).unwrap()
}

#[test]
fn an_unchanged_archive_is_not_rebuilt_and_the_site_is_untouched() {
    let (_dir, site) = example();
    let first = build_unforced(&site);
    assert!(!first.up_to_date);
    let before = snapshot(&site.join("public"));

    let again = build_unforced(&site);
    assert!(again.up_to_date, "the second build ran the pipeline");
    assert_eq!(again.write.written, 0);
    assert_eq!(snapshot(&site.join("public")), before);

    // The CLI says so (its first build runs: another program is another input).
    let out = hindsight(&site, &["build"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("is up to date"));
    assert_eq!(snapshot(&site.join("public")), before);
    let out = hindsight(&site, &["build"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("is up to date"), "{stdout}");
    assert_eq!(snapshot(&site.join("public")), before);

    // --force rebuilds, and still rewrites nothing: every page has the same bytes.
    let out = hindsight(&site, &["build", "--force"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("is up to date"), "{stdout}");
    assert_eq!(snapshot(&site.join("public")), before);
}

#[test]
fn a_damaged_site_or_a_changed_config_is_rebuilt() {
    let (_dir, site) = example();
    build_unforced(&site);
    let before = snapshot(&site.join("public"));

    // A page deleted from the site: the next build puts it back.
    std::fs::remove_file(site.join("public/issues/LU/4/LU-4423.html")).unwrap();
    let report = build_unforced(&site);
    assert!(!report.up_to_date);
    assert_eq!(report.write.written, 1);
    let after = snapshot(&site.join("public"));
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after["issues/LU/4/LU-4423.html"].2,
        before["issues/LU/4/LU-4423.html"].2
    );

    // A config change.
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("title = ", "title = \"Other\"\n#", 1),
    )
    .unwrap();
    let report = build_unforced(&site);
    assert!(!report.up_to_date);
    assert!(report.write.written > 10);

    // A deleted cache (the archive store).
    assert!(build_unforced(&site).up_to_date);
    std::fs::remove_file(site.join(".hindsight-cache/archive.redb")).unwrap();
    assert!(!build_unforced(&site).up_to_date);
}

#[test]
fn a_changed_issue_rewrites_only_the_files_whose_bytes_change() {
    let (_dir, site) = example();
    build_unforced(&site);
    let before = snapshot(&site.join("public"));

    // A newer export: one issue's summary changed.
    let page = site.join("exports/jira/LU-page-0.xml");
    let text = std::fs::read_to_string(&page).unwrap();
    let old = "ldlm: lock cancel storm from LRU after upgrade to 2.5, clients evicted";
    assert!(text.contains(old));
    std::fs::write(
        &page,
        text.replace(
            old,
            "ldlm: lock cancel storm from the LRU after upgrading to 2.5",
        ),
    )
    .unwrap();
    let report = build_unforced(&site);
    assert!(!report.up_to_date);
    // Only the pages whose inputs changed ran their templates.
    let r = &report.render;
    let pages = r.issue_pages + r.commit_pages + r.listing_pages;
    assert!(
        r.kept_pages * 10 > pages * 8,
        "{} of {pages} pages kept without rendering",
        r.kept_pages
    );
    let after = snapshot(&site.join("public"));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    let mut changed = Vec::new();
    for (path, (ino, mtime, bytes)) in &after {
        let (old_ino, old_mtime, old_bytes) = &before[path];
        if bytes == old_bytes {
            assert_eq!(
                (ino, mtime),
                (old_ino, old_mtime),
                "{path} has the same bytes but was rewritten"
            );
        } else {
            assert_ne!(ino, old_ino, "{path} was edited in place");
            changed.push(path.as_str());
        }
    }
    assert_eq!(report.write.written as usize, changed.len(), "{changed:?}");
    // The issue's page and JSON, the pages that show its summary, and some search shards.
    assert!(changed.contains(&"issues/LU/4/LU-4423.html"), "{changed:?}");
    assert!(changed.contains(&"issues/LU/4/LU-4423.json"), "{changed:?}");
    assert!(
        changed.iter().any(|p| p.starts_with("search/")),
        "{changed:?}"
    );
    // The listing pages and data files, and the people pages, that show the summary: kept by
    // the digests of their rows until then, made again now.
    let shows_new = |path: &&str| {
        let bytes = &after[*path].2;
        String::from_utf8_lossy(bytes).contains("lock cancel storm from the LRU after upgrading")
    };
    for (folder, ending) in [("lists/", ".html"), ("lists/", ".js"), ("people/", ".html")] {
        assert!(
            changed
                .iter()
                .any(|p| p.starts_with(folder) && p.ends_with(ending) && shows_new(p)),
            "no {folder}…{ending} changed: {changed:?}"
        );
    }
    assert!(
        changed.len() * 4 < after.len(),
        "{} of {} files changed: {changed:?}",
        changed.len(),
        after.len()
    );
    // The build is the same as a clean one.
    let (_dir2, clean) = example();
    std::fs::copy(&page, clean.join("exports/jira/LU-page-0.xml")).unwrap();
    build(&clean).unwrap();
    assert_eq!(
        read_tree(&clean.join("public")),
        read_tree(&site.join("public"))
    );
    // `--force` renders every page again, and finds the same bytes.
    let forced = build(&site).unwrap();
    assert_eq!(forced.render.kept_pages, 0);
    assert_eq!(forced.write.written, 0);
}

/// One issue in hindsight's neutral format whose description mentions `mentions`.
fn neutral_issue(number: u64, mentions: &str) -> String {
    format!(
        "{{\"source\":\"nd\",\"id\":\"{number}\",\"key\":\"LU-{number}\",\"project\":{{\"key\":\"LU\",\"name\":\"Lustre\"}},\"summary\":\"issue {number}\",\"description\":{{\"markup\":\"plain\",\"content\":\"See {mentions} for the rest.\"}},\"status\":\"Open\",\"created\":\"2020-01-01T00:00:00Z\"}}\n"
    )
}

#[test]
fn a_kept_page_follows_what_its_text_links_to() {
    let (_dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = format!("{text}\n[[tracker]]\nname = \"nd\"\npaths = [\"nd.ndjson\"]\n");
    std::fs::write(&config, &text).unwrap();
    // LU-900001 mentions LU-900002, which is not in the archive yet: the key is plain text.
    std::fs::write(site.join("nd.ndjson"), neutral_issue(900_001, "LU-900002")).unwrap();
    build_unforced(&site);
    let page = site.join("public/issues/LU/900/LU-900001.html");
    let link = "LU-900002.html";
    assert!(!std::fs::read_to_string(&page).unwrap().contains(link));

    // LU-900002 arrives: LU-900001's own data did not change, but its text now links it.
    // (LU-900002 does not mention LU-900001: nothing else on LU-900001's page changes.)
    let both = neutral_issue(900_001, "LU-900002") + &neutral_issue(900_002, "the manual");
    std::fs::write(site.join("nd.ndjson"), &both).unwrap();
    let report = build_unforced(&site);
    assert!(report.render.kept_pages > 0);
    assert!(std::fs::read_to_string(&page).unwrap().contains(link));

    let (_dir2, clean) = example();
    std::fs::write(clean.join("hindsight.toml"), &text).unwrap();
    std::fs::write(clean.join("nd.ndjson"), &both).unwrap();
    build(&clean).unwrap();
    assert_eq!(
        read_tree(&clean.join("public")),
        read_tree(&site.join("public"))
    );
}

#[test]
fn the_search_index_is_kept_whole_while_its_documents_inputs_are_unchanged() {
    let (_dir, site) = example();
    let first = build_unforced(&site);
    assert!(!first.search.kept, "nothing to keep on a first build");
    assert_eq!(
        first.search.analysed, first.search.docs,
        "every document analysed"
    );
    let search_files = |s: &BTreeMap<String, (u64, i128, Vec<u8>)>| {
        s.iter()
            .filter(|(p, _)| p.starts_with("search/"))
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let before = search_files(&snapshot(&site.join("public")));
    assert!(before.len() > 10);
    let touch = |site: &Path| {
        for file in [
            "exports/jira/LU-page-0.xml",
            "exports/bugzilla/lustre-bugs.xml",
        ] {
            let bytes = std::fs::read(site.join(file)).unwrap();
            std::fs::write(site.join(file), bytes).unwrap();
        }
    };

    // Every export rewritten with the same bytes: the build runs, and keeps the index as it
    // was published, with the report of the build that made it.
    touch(&site);
    let touched = build_unforced(&site);
    assert!(!touched.up_to_date);
    assert!(touched.search.kept, "{:?}", touched.search);
    assert_eq!(
        hindsight::search::SearchReport {
            kept: false,
            ..touched.search.clone()
        },
        first.search
    );
    assert_eq!(search_files(&snapshot(&site.join("public"))), before);

    // A search file damaged by hand: the index is made again, and the file restored.
    let root = site.join("public/search/root.js");
    std::fs::write(&root, "damaged").unwrap();
    touch(&site);
    let mended = build_unforced(&site);
    assert!(!mended.search.kept);
    // Made from the analysed index the build cache kept: no document analysed again.
    assert_eq!(mended.search.analysed, 0, "{:?}", mended.search);
    assert_eq!(mended.search.docs, first.search.docs);
    // No term changed: every leaf of the dictionary was kept without being read.
    assert_eq!(
        (mended.search.leaves_unread, mended.search.leaves_kept),
        (mended.search.leaves, mended.search.leaves),
        "{:?}",
        mended.search
    );
    let after = search_files(&snapshot(&site.join("public")));
    assert_eq!(after["search/root.js"].2, before["search/root.js"].2);

    // `--force` makes the index anew, and finds the same bytes.
    let forced = build(&site).unwrap();
    assert!(!forced.search.kept);
    assert_eq!(forced.write.written, 0);

    // Another summary: the index is made again, and differs.
    let page = site.join("exports/jira/LU-page-0.xml");
    let text = std::fs::read_to_string(&page).unwrap();
    let old = "ldlm: lock cancel storm from LRU after upgrade to 2.5, clients evicted";
    std::fs::write(&page, text.replace(old, "ldlm: cancel storm, quokka")).unwrap();
    let changed = build_unforced(&site);
    assert!(!changed.search.kept);
    // Only the documents of the issues whose records changed were analysed: LU-4423, and the
    // issue one of whose comments links to it with the old summary as the link's title (its
    // text is the same, but an issue is known by its stored record).
    assert_eq!(changed.search.analysed, 2, "{:?}", changed.search);
    let answer = hindsight::search::query(&site.join("public"), "quokka", 5).unwrap();
    assert_eq!(
        answer.results.first().map(|r| r.key.as_str()),
        Some("LU-4423")
    );
}

#[test]
fn a_new_display_name_reaches_the_search_documents_of_issues_whose_records_did_not_change() {
    let (_dir, site) = example();
    build_unforced(&site);
    // `plarsen` comments on two dozen issues under their login alone; the people directory
    // names them from the one issue they reported. Renaming them there changes that issue's
    // record only, and the documents of every issue they commented on.
    let page = site.join("exports/jira/LU-page-0.xml");
    let text = std::fs::read_to_string(&page).unwrap();
    let old = r#"<reporter username="plarsen">Pia Larsen</reporter>"#;
    assert!(text.contains(old));
    let new = r#"<reporter username="plarsen">Pia Quokkalarsen</reporter>"#;
    std::fs::write(&page, text.replace(old, new)).unwrap();
    let changed = build_unforced(&site);
    assert!(
        changed.search.analysed > 10,
        "the commenters' issues were analysed again: {:?}",
        changed.search
    );
    let answer = hindsight::search::query(&site.join("public"), "quokkalarsen", 50).unwrap();
    let keys: Vec<&str> = answer.results.iter().map(|r| r.key.as_str()).collect();
    assert!(keys.contains(&"LU-13599"), "{keys:?}");
    // The index is the one a build from nothing makes.
    let search_files = |root: &Path| {
        snapshot(root)
            .into_iter()
            .filter(|(p, _)| p.starts_with("search/"))
            .map(|(p, v)| (p, v.2))
            .collect::<BTreeMap<_, _>>()
    };
    let incremental = search_files(&site.join("public"));
    // So is the JSON of an issue they only commented on.
    let json = std::fs::read_to_string(site.join("public/issues/LU/0/LU-12.json")).unwrap();
    assert!(
        json.contains("Pia Quokkalarsen"),
        "LU-12.json names the new name"
    );
    let everything = read_tree(&site.join("public"));
    std::fs::remove_dir_all(site.join(".hindsight-cache")).unwrap();
    build(&site).unwrap();
    assert!(incremental == search_files(&site.join("public")));
    assert!(everything == read_tree(&site.join("public")));
}

/// `neutral_issue` with a link to `target`, and, when `private`, only for a private audience.
fn neutral_linked_issue(number: u64, target: &str, private: bool) -> String {
    let visibility = match private {
        true => ",\"visibility\":{\"kind\":\"private\"}",
        false => "",
    };
    format!(
        "{{\"source\":\"nd\",\"id\":\"{number}\",\"key\":\"LU-{number}\",\"project\":{{\"key\":\"LU\",\"name\":\"Lustre\"}},\"summary\":\"issue {number}\",\"status\":\"Open\",\"created\":\"2020-01-01T00:00:00Z\",\"links\":[{{\"kind\":\"Related\",\"description\":\"relates to\",\"direction\":\"outward\",\"target\":\"{target}\"}}]{visibility}}}\n"
    )
}

#[test]
fn an_issues_json_loses_a_link_to_an_issue_no_longer_published() {
    let (_dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = format!("{text}\n[[tracker]]\nname = \"nd\"\npaths = [\"nd.ndjson\"]\n");
    std::fs::write(&config, &text).unwrap();
    let json = site.join("public/issues/LU/900/LU-900001.json");
    let both = |private| {
        neutral_linked_issue(900_001, "LU-900002", false)
            + &neutral_linked_issue(900_002, "LU-900001", private)
    };
    std::fs::write(site.join("nd.ndjson"), both(false)).unwrap();
    build_unforced(&site);
    assert!(std::fs::read_to_string(&json)
        .unwrap()
        .contains("LU-900002"));

    // LU-900002 becomes private: LU-900001's record is the same, its link goes.
    std::fs::write(site.join("nd.ndjson"), both(true)).unwrap();
    build_unforced(&site);
    assert!(!std::fs::read_to_string(&json)
        .unwrap()
        .contains("LU-900002"));

    let (_dir2, clean) = example();
    std::fs::write(clean.join("hindsight.toml"), &text).unwrap();
    std::fs::write(clean.join("nd.ndjson"), both(true)).unwrap();
    build(&clean).unwrap();
    assert!(read_tree(&clean.join("public")) == read_tree(&site.join("public")));
}

#[test]
fn what_older_builds_left_in_the_cache_goes_and_the_analysed_index_is_kept() {
    let (_dir, site) = example();
    let cache = site.join(".hindsight-cache");
    // The tantivy index of builds before issue #19, and a killed build's spill folder.
    for old in ["search", "search-spill"] {
        std::fs::create_dir_all(cache.join(old)).unwrap();
        std::fs::write(cache.join(old).join("run-1"), "left behind").unwrap();
    }
    let first = build_unforced(&site);
    assert!(!cache.join("search").exists());
    assert!(!cache.join("search-spill").exists());
    // The analysed index, for the next build: what names the rest, the records, one run.
    let kept = cache.join(hindsight::SEARCH_KEPT);
    let mut names: Vec<String> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[0], "docs");
    assert_eq!(names[1], "records");
    assert!(names[2].starts_with("run-"), "{names:?}");
    assert_eq!(first.search.analysed, first.search.docs);
    // Removed by hand: the next build analyses every document again, and writes the same index.
    std::fs::remove_dir_all(&kept).unwrap();
    let before = read_tree(&site.join("public"));
    let again = build(&site).unwrap();
    assert_eq!(again.search.analysed, again.search.docs);
    assert_eq!(read_tree(&site.join("public")), before);
}

/// A neutral-format issue: its summary, its description, and the issues it links to.
fn neutral(number: u64, summary: &str, description: &str, links: &[&str]) -> String {
    let links: Vec<String> = links
        .iter()
        .map(|target| {
            format!("{{\"kind\":\"Related\",\"description\":\"relates to\",\"direction\":\"outward\",\"target\":\"{target}\"}}")
        })
        .collect();
    format!(
        "{{\"source\":\"nd\",\"id\":\"{number}\",\"key\":\"LU-{number}\",\"project\":{{\"key\":\"LU\",\"name\":\"Lustre\"}},\"summary\":\"{summary}\",\"description\":{{\"markup\":\"plain\",\"content\":\"{description}\"}},\"reporter\":{{\"display\":\"Ann Lee\"}},\"status\":\"Open\",\"created\":\"2020-01-01T00:00:00Z\",\"links\":[{}]}}\n",
        links.join(",")
    )
}

#[test]
fn an_issue_page_is_kept_unread_until_an_answer_it_asked_for_changes() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let config = "title = \"t\"\noutput = \"public\"\n\n[[tracker]]\nname = \"nd\"\npaths = [\"nd.ndjson\"]\n";
    std::fs::write(site.join("hindsight.toml"), config).unwrap();
    let page = |site: &Path| {
        std::fs::read_to_string(site.join("public/issues/LU/900/LU-900001.html")).unwrap()
    };
    // Builds `issues`, checks the site against a build from nothing, and says how many issues
    // were read to render or check their pages.
    let step = |issues: &[String]| {
        std::fs::write(site.join("nd.ndjson"), issues.concat()).unwrap();
        let report = build_unforced(&site);
        let clean_dir = tempfile::tempdir().unwrap();
        let clean = clean_dir.path().join("site");
        std::fs::create_dir_all(&clean).unwrap();
        std::fs::write(clean.join("hindsight.toml"), config).unwrap();
        std::fs::write(clean.join("nd.ndjson"), issues.concat()).unwrap();
        build(&clean).unwrap();
        assert!(read_tree(&clean.join("public")) == read_tree(&site.join("public")));
        report.render.issues_read
    };
    // LU-900001 links LU-900002 and names LU-900004, which is not in the archive yet.
    let a = neutral(900_001, "first", "See LU-900004.", &["LU-900002"]);
    let b = |summary: &str| neutral(900_002, summary, "Nothing.", &[]);
    let c = |summary: &str| neutral(900_003, summary, "Nothing.", &[]);
    let d = |description: &str| neutral(900_004, "fourth", description, &[]);
    assert_eq!(step(&[a.clone(), b("second"), c("third")]), 3);
    let before = snapshot(&site.join("public"));
    let path = "issues/LU/900/LU-900001.html";

    // An issue LU-900001's page asks nothing about changes: the page is kept, unread.
    assert_eq!(step(&[a.clone(), b("second"), c("third, again")]), 1);
    let after = snapshot(&site.join("public"));
    assert_eq!(after[path], before[path]);

    // The issue it links changes its summary: its page shows the new one.
    assert!(page(&site).contains("second"));
    assert_eq!(
        step(&[a.clone(), b("second, renamed"), c("third, again")]),
        2
    );
    assert!(page(&site).contains("second, renamed"));

    // The issue its text names arrives: the text links it.
    assert!(!page(&site).contains("LU-900004.html"));
    let all = |d: String| [a.clone(), b("second, renamed"), c("third, again"), d];
    assert_eq!(step(&all(d("Nothing."))), 2);
    assert!(page(&site).contains("LU-900004.html"));

    // That issue's text names LU-900001: the page lists it among the issues that mention it.
    assert!(!page(&site).contains("Mentioned in"));
    assert_eq!(step(&all(d("Caused by LU-900001."))), 2);
    assert!(page(&site).contains("Mentioned in"));

    // Nothing changes: nothing is read.
    let report = build_unforced(&site);
    assert!(report.up_to_date);
}

#[test]
fn a_kept_bugzilla_page_still_leads_its_old_attachment_addresses() {
    // An attachment the export lists without its bytes: its old `attachment.cgi?id=` address
    // leads to its entry on the issue's page, in a rebuild that keeps the page as in a clean
    // build.
    let (_dir, site) = example();
    let bugs = site.join("exports/bugzilla/lustre-bugs.xml");
    let text = std::fs::read_to_string(&bugs).unwrap();
    let start = text.find("<data encoding=\"base64\">").unwrap();
    let end = text[start..].find("</data>").unwrap() + start + "</data>".len();
    let text = format!("{}{}", &text[..start], &text[end..]);
    std::fs::write(&bugs, &text).unwrap();
    build_unforced(&site);
    let shim = |site: &Path| {
        let mut all = String::new();
        for (path, bytes) in read_tree(&site.join("public")) {
            if path.contains("attachment") && !path.starts_with("attachments/") {
                all.push_str(&path);
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        all
    };
    assert!(shim(&site).contains("#attachment-567"), "{}", shim(&site));

    // Another issue changes: the Bugzilla issue's page is kept.
    let page = site.join("exports/jira/LU-page-0.xml");
    let jira = std::fs::read_to_string(&page).unwrap();
    let old = "ldlm: lock cancel storm from LRU after upgrade to 2.5, clients evicted";
    std::fs::write(&page, jira.replace(old, "ldlm: lock cancel storm")).unwrap();
    let report = build_unforced(&site);
    assert!(report.render.kept_pages > 0);
    assert!(shim(&site).contains("#attachment-567"), "{}", shim(&site));

    let (_dir2, clean) = example();
    std::fs::write(clean.join("exports/bugzilla/lustre-bugs.xml"), &text).unwrap();
    std::fs::copy(&page, clean.join("exports/jira/LU-page-0.xml")).unwrap();
    build(&clean).unwrap();
    assert!(read_tree(&clean.join("public")) == read_tree(&site.join("public")));
}
