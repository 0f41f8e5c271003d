//! Browser tests: built sites opened in headless Debian Chromium (driven by playwright-core,
//! see tests/browser/), over file:// and over HTTP. These tests need `node`, the npm packages
//! of tests/browser (`npm ci --prefix tests/browser`) and `/usr/bin/chromium`; `.ci/run` and
//! `scripts/test` install them. A missing piece fails the test, it is never skipped.

use std::path::Path;

use crate::common::*;

fn run_script(script: &str, args: &[&Path]) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|p| p.as_os_str()).collect();
    crate::common::run_browser_script(script, &args);
}

#[test]
fn home_and_issue_pages_work_over_file_and_http() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    // An issue with comments, links and a code panel.
    let issue = walkdir::WalkDir::new(public.join("issues"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .max_by_key(|e| {
            let t = std::fs::read_to_string(e.path()).unwrap();
            (
                t.matches("class=\"comment\"").count().min(5),
                t.contains("issue-link"),
            )
        })
        .unwrap()
        .into_path();
    let rel = issue.strip_prefix(&public).unwrap();
    run_script("site.mjs", &[&public, rel]);
}

#[test]
fn old_tracker_urls_reach_their_pages() {
    let (_dir, site) = example();
    add_bugs(&site, &[(12345, "OST hangs in ost_brw_write (bug 12345)")]);
    // Two attachments on the added bug: one with its bytes, one without.
    let extra = site.join("extra-bugs.ndjson");
    let mut bug: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&extra).unwrap().trim()).unwrap();
    bug["attachments"] = serde_json::json!([
        {"id": "98765", "name": "ost notes.txt", "content": {"kind": "base64",
            "data": "b3N0X2Jyd193cml0ZSBoYW5nIG5vdGVzCg=="}},
        {"id": "98767", "name": "vmcore-oss07", "size": 123456789},
    ]);
    std::fs::write(&extra, format!("{bug}\n")).unwrap();
    build(&site).unwrap();
    let public = site.join("public");
    assert!(public.join("browse/LU-4423/index.html").is_file());
    assert!(public.join("show_bug.cgi/index.html").is_file());
    assert!(public.join("attachment.cgi/index.html").is_file());
    let nginx = std::fs::read_to_string(public.join("_hindsight/nginx.conf")).unwrap();
    assert!(nginx.contains("location = /show_bug.cgi"), "{nginx}");
    let redirects = std::fs::read_to_string(public.join("_redirects")).unwrap();
    assert!(redirects.contains("/browse/LU-4423 /issues/LU/4/LU-4423.html 301"));
    assert!(redirects.contains("/show_bug.cgi id=12345 /issues/BZ/12/BZ-12345.html 301"));
    assert!(
        redirects.contains("/attachment.cgi id=567 /attachments/BZ/0/567/ldlm-lru-batch.patch 301")
    );
    // The example's Bugzilla attachments are in the id tables; the private one is not.
    let ids = std::fs::read_to_string(public.join("attachment.cgi/ids/0.js")).unwrap();
    assert!(
        ids.contains("\"567\":\"attachments/BZ/0/567/ldlm-lru-batch.patch\""),
        "{ids}"
    );
    let ids = std::fs::read_to_string(public.join("attachment.cgi/ids/21.js")).unwrap();
    assert!(ids.contains("\"21340\":"), "{ids}");
    assert!(
        !ids.contains("21341"),
        "a private attachment is listed: {ids}"
    );
    let ids = std::fs::read_to_string(public.join("attachment.cgi/ids/98.js")).unwrap();
    assert!(
        ids.contains("\"98767\":\"issues/BZ/12/BZ-12345.html#attachment-98767\""),
        "{ids}"
    );
    let copied = "attachments/BZ/98/98765/ost_notes.txt";
    assert!(public.join(copied).is_file());
    run_script(
        "redirects.mjs",
        &[
            &public,
            Path::new("LU-4423"),
            Path::new("issues/LU/4/LU-4423.html"),
            Path::new("12345"),
            Path::new("issues/BZ/12/BZ-12345.html"),
            Path::new("98765"),
            Path::new(copied),
            Path::new("ost_brw_write hang notes"),
            Path::new("98767"),
            Path::new("issues/BZ/12/BZ-12345.html#attachment-98767"),
        ],
    );
}

/// The issue page of the example with the most comments (up to 5) and a link to another issue.
fn issue_page_with_comments(public: &Path) -> std::path::PathBuf {
    walkdir::WalkDir::new(public.join("issues"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .max_by_key(|e| {
            let t = std::fs::read_to_string(e.path()).unwrap();
            (
                t.matches("class=\"comment\"").count().min(5),
                t.contains("issue-link"),
            )
        })
        .unwrap()
        .into_path()
        .strip_prefix(public)
        .unwrap()
        .to_path_buf()
}

#[test]
fn theme_is_readable_from_phone_to_wide_screen_in_light_dark_and_print() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    let issue = issue_page_with_comments(&public);
    run_script("theme.mjs", &[&public, &issue]);
}

#[test]
fn axe_finds_no_serious_accessibility_violation() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    // Commit, branch and release pages (from the example's history) for a11y.mjs, which fails
    // without them.
    assert!(public.join("commits/index.html").is_file());
    assert!(public.join("releases/2.6.0/index.html").is_file());
    assert!(public.join("commits/branch/b2_5/index.html").is_file());
    assert!(
        repo()
            .join("tests/browser/node_modules/axe-core/axe.min.js")
            .is_file(),
        "axe-core is missing: run `npm ci --prefix tests/browser` (scripts/test does)"
    );
    let issue = issue_page_with_comments(&public);
    run_script("a11y.mjs", &[&public, &issue]);
}

/// Adds Bugzilla bug `id` to the example with a thread of `n` comments, numbered from 1.
fn add_long_thread(site: &Path, id: u64, n: u32) {
    add_bugs(
        site,
        &[(id, "sanity test_77k fails intermittently (long thread)")],
    );
    let extra = site.join("extra-bugs.ndjson");
    let mut bug: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&extra).unwrap().trim()).unwrap();
    bug["comments"] = (1..=n)
        .map(|i| {
            serde_json::json!({
                "id": format!("{}", 900 + i),
                "number": i,
                "author": {"login": format!("user{}", i % 3), "display": format!("User {}", i % 3)},
                "created": format!("2009-03-{:02}T10:00:00+00:00", i),
                "body": {"markup": "plain", "content": format!("Comment {i} of the long thread.\n\nIt fails again on run {i}.")},
            })
        })
        .collect();
    std::fs::write(&extra, format!("{bug}\n")).unwrap();
}

#[test]
fn comments_are_numbered_and_old_comment_addresses_land_on_them() {
    let (_dir, site) = example();
    add_long_thread(&site, 12346, 14);
    build(&site).unwrap();
    let public = site.join("public");
    let lu = std::fs::read_to_string(public.join("issues/LU/4/LU-4423.html")).unwrap();
    // The third JIRA comment of LU-4423 and Bugzilla's comment 4 of BZ-12755 (its comment 3 is
    // private, so the numbers keep a gap).
    assert!(lu.contains("<article class=\"comment\" id=\"comment-73840\">"));
    let bz = std::fs::read_to_string(public.join("issues/BZ/12/BZ-12755.html")).unwrap();
    assert!(
        bz.contains("aria-label=\"Comment 4: permalink\">#4</a>"),
        "{bz}"
    );
    let long = std::fs::read_to_string(public.join("issues/BZ/12/BZ-12346.html")).unwrap();
    assert!(long.contains("data-collapsible=\"14\""));
    run_script(
        "comments.mjs",
        &[
            &public,
            Path::new("LU-4423"),
            Path::new("issues/LU/4/LU-4423.html"),
            Path::new("73840"),
            Path::new("3"),
            Path::new("12755"),
            Path::new("issues/BZ/12/BZ-12755.html"),
            Path::new("4"),
            Path::new("issues/BZ/12/BZ-12346.html"),
            Path::new("14"),
        ],
    );
}

#[test]
fn keyboard_shortcuts_move_through_listings_and_open_a_help() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    let listing = std::fs::read_to_string(public.join("lists/project/LU/index.html")).unwrap();
    assert!(
        listing.matches("<tr").count() > 12,
        "too few rows for keys.mjs"
    );
    run_script(
        "keys.mjs",
        &[
            &public,
            Path::new("lists/project/LU/index.html"),
            Path::new("issues/LU/4/LU-4423.html"),
        ],
    );
}

#[test]
fn release_pages_compare_views_and_fix_lines_work_over_file() {
    let f = crate::releases::releases_site();
    let public = f.site.join("public");
    run_script("releases.mjs", &[&public, Path::new(f.short("p1"))]);
}

#[test]
fn a_name_leads_to_the_person_page_and_back() {
    let (_dir, site) = example();
    // A bug with one comment by someone the example names nowhere else: folded into the index.
    add_bugs(&site, &[(12348, "llog: one comment by a passer-by")]);
    let extra = site.join("extra-bugs.ndjson");
    let mut bug: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&extra).unwrap().trim()).unwrap();
    bug["comments"] = serde_json::json!([{
        "id": "990", "number": 1,
        "author": {"login": "passer@example.net", "display": "Pat Passer"},
        "created": "2009-04-01T10:00:00+00:00",
        "body": {"markup": "plain", "content": "Seen once."},
    }]);
    std::fs::write(&extra, format!("{bug}\n")).unwrap();
    build(&site).unwrap();
    let public = site.join("public");
    let lu = std::fs::read_to_string(public.join("issues/LU/4/LU-4423.html")).unwrap();
    assert!(
        lu.contains("<dt>Reporter</dt><dd><a class=\"person\" href=\"../../../people/sam-grant.html\">Sam Grant</a>"),
        "{lu}"
    );
    assert!(!public.join("people/pat-passer.html").exists());
    run_script(
        "people.mjs",
        &[
            &public,
            Path::new("issues/LU/4/LU-4423.html"),
            Path::new("Sam Grant"),
            Path::new("issues/BZ/12/BZ-12348.html"),
            Path::new("Pat Passer"),
        ],
    );
}

#[test]
fn listings_sort_narrow_and_keep_their_view_in_the_address() {
    let (_dir, site) = example();
    // Ten rows a page, so that the example's LU listing has several pages to sort across.
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("page_size = 10\n{text}")).unwrap();
    build(&site).unwrap();
    let public = site.join("public");
    assert!(public.join("lists/project/LU/3.html").is_file());
    assert!(public.join("lists/project/LU/rows.js").is_file());
    run_script("listings.mjs", &[&public, Path::new("lists/project/LU/")]);
}
