//! Bugzilla exports (XML from `show_bug.cgi?ctype=xml`, REST JSON and JSON lines) built end to
//! end: bucketed pages under the configured prefix, the old `#cN` comment anchors, and nothing
//! restricted (private comments and attachments, bugs in groups) in any output byte.

use std::path::Path;

use crate::common::*;

const CONFIG: &str = r#"title = "Lustre Bugzilla archive (test)"
output = "public"

[[tracker]]
name = "bugzilla"
key_prefix = "BZ"
paths = ["exports/bugzilla/*.xml", "exports/bugzilla/*.json"]
"#;

fn site() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    copy_tree(
        &repo().join("tests/fixtures/bugzilla"),
        &site.join("exports/bugzilla"),
    );
    std::fs::write(site.join("hindsight.toml"), CONFIG).unwrap();
    (dir, site)
}

fn page(files: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
    let bytes = files
        .get(path)
        .unwrap_or_else(|| panic!("missing {path}; issue pages: {:?}", issue_pages(files)));
    String::from_utf8(bytes.clone()).unwrap()
}

fn issue_pages(files: &std::collections::BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    files
        .keys()
        .filter(|p| p.starts_with("issues/") && p.ends_with(".html"))
        .collect()
}

#[test]
fn bugzilla_exports_build_into_bucketed_pages_with_old_anchors() {
    let (_dir, site) = site();
    let config = hindsight::Config::load(&site.join("hindsight.toml")).unwrap();
    let report = hindsight::build(
        &config,
        &hindsight::BuildOptions::default(),
        &hindsight::Quiet,
    )
    .unwrap();
    let files = read_tree(&site.join("public"));

    // Seven public bugs: five from XML (one is in a group, one a NotPermitted stub), three from
    // REST JSON (one in a group), two from JSON lines.
    for n in [1234u64, 11111, 12755, 16494, 18210, 19001, 19002] {
        let path = format!("issues/BZ/{}/BZ-{n}.html", n / 1000);
        assert!(
            files.contains_key(&path),
            "missing {path}: {:?}",
            issue_pages(&files)
        );
    }
    assert_eq!(issue_pages(&files).len(), 7, "{:?}", issue_pages(&files));
    for n in [13000u64, 14000, 18300] {
        let path = format!("issues/BZ/{}/BZ-{n}.html", n / 1000);
        assert!(!files.contains_key(&path), "{path} must not be published");
    }

    // Comment anchors are Bugzilla's: comment 2 of bug 11111 is private and dropped, the
    // others keep their numbers.
    let bug = page(&files, "issues/BZ/11/BZ-11111.html");
    for anchor in ["id=\"c1\"", "id=\"c3\"", "id=\"c4\""] {
        assert!(bug.contains(anchor), "BZ-11111 lacks {anchor}");
    }
    assert!(!bug.contains("id=\"c2\""));
    // The description is shown once, not repeated as comment 0.
    assert!(!bug.contains("id=\"c0\""));
    assert_eq!(bug.matches("While running sanity.sh test 42b").count(), 1);
    assert!(bug.contains("ldlm-cancel-race.patch"));
    let rest = page(&files, "issues/BZ/18/BZ-18210.html");
    for anchor in ["id=\"c2\"", "id=\"c3\""] {
        assert!(rest.contains(anchor), "BZ-18210 lacks {anchor}");
    }
    assert!(!rest.contains("id=\"c1\""));

    // Nothing restricted reaches any output byte, and addresses are masked.
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("RESTRICTED-MARKER-BZ"),
            "{path} publishes restricted content"
        );
        assert!(
            !text.contains("@clusterfs.com"),
            "{path} publishes an e-mail address"
        );
    }

    // The attachment's base64 data is written, decoded, into the site and linked from the
    // list; the private one is not.
    let fixture =
        std::fs::read_to_string(repo().join("tests/fixtures/bugzilla/lustre-bugzilla-3.0.xml"))
            .unwrap();
    let start = fixture.find("<attachid>567</attachid>").unwrap();
    let data = &fixture[start..];
    let data = &data[data.find("<data encoding=\"base64\">").unwrap() + 24..];
    let data = &data[..data.find("</data>").unwrap()];
    let expected = hindsight::render::attachments::decode_base64(data).unwrap();
    let written = files
        .get("attachments/BZ/0/567/ldlm-cancel-race.patch")
        .unwrap_or_else(|| {
            panic!(
                "no attachment file: {:?}",
                files
                    .keys()
                    .filter(|k| k.starts_with("attachments/"))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(*written, expected);
    assert!(String::from_utf8_lossy(written).starts_with("Index: lustre/ldlm/ldlm_lock.c"));
    assert!(!files.keys().any(|k| k.starts_with("attachments/BZ/0/568/")));
    assert!(bug.contains("href=\"../../../attachments/BZ/0/567/ldlm-cancel-race.patch\""));
    assert!(bug.contains("id=\"attachment-567\""));

    // Every internal link and anchor of the site resolves.
    let check = hindsight::check::check_site(&site.join("public")).unwrap();
    assert!(check.broken.is_empty(), "broken links: {:#?}", check.broken);

    // The import report counts what was dropped.
    let i = &report.import;
    assert_eq!(i.files, 4, "{i:?}");
    assert_eq!(i.restricted_issues, 2, "{i:?}");
    assert_eq!(i.restricted_comments, 2, "{i:?}");
    assert_eq!(i.restricted_attachments, 2, "{i:?}");
    assert_eq!(i.issues_kept, 7, "{i:?}");
    let stubs: Vec<_> = i
        .warnings
        .iter()
        .filter(|w| w.message.contains("not permitted"))
        .collect();
    assert_eq!(stubs.len(), 1, "{:?}", i.warnings);
    assert_eq!(stubs[0].key.as_deref(), Some("BZ-13000"));
    // The 3.0 file has times without a zone and the config names none: one warning for it.
    let zoneless: Vec<_> = i
        .warnings
        .iter()
        .filter(|w| w.message.contains("without a zone"))
        .collect();
    assert_eq!(zoneless.len(), 1, "{:?}", i.warnings);
    assert!(zoneless[0].path.ends_with("lustre-bugzilla-3.0.xml"));
    assert_eq!(i.warnings.len(), 2, "{:?}", i.warnings);
}

#[test]
fn a_named_timezone_reads_zoneless_times_and_silences_the_warning() {
    let (_dir, site) = site();
    let config = CONFIG.replace(
        "key_prefix = \"BZ\"",
        "key_prefix = \"BZ\"\ntimezone = \"America/Los_Angeles\"",
    );
    std::fs::write(site.join("hindsight.toml"), config).unwrap();
    let report = build(&site).unwrap();
    assert!(
        !report
            .import
            .warnings
            .iter()
            .any(|w| w.message.contains("without a zone")),
        "{:?}",
        report.import.warnings
    );
}

#[test]
fn an_issuezilla_export_builds_and_its_tracker_is_named_bugzilla() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    copy_tree(
        &repo().join("tests/fixtures/issuezilla"),
        &site.join("exports"),
    );
    std::fs::write(
        site.join("hindsight.toml"),
        "title = \"T\"\n[[tracker]]\nkey_prefix = \"ARGO\"\ntimezone = \"America/Los_Angeles\"\npaths = [\"exports/*.xml\"]\n",
    )
    .unwrap();
    build(&site).unwrap();
    let json = std::fs::read_to_string(site.join("public/issues/ARGO/0/ARGO-4.json")).unwrap();
    assert!(json.contains("\"source\": \"bugzilla\""), "{json}");
    assert!(json.contains("2001-06-15T10:23:45-07:00"), "{json}");
    assert!(site.join("public/issues/ARGO/0/ARGO-5.html").exists());

    // <activity> is the issue's history, its zone-less times in the configured zone.
    let issue: serde_json::Value = serde_json::from_str(&json).unwrap();
    let history = issue["history"].as_array().expect("a history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["created"], "2001-06-18T14:02:09-07:00");
    assert_eq!(history[0]["changes"][0]["field"], "issue_status");
    assert_eq!(history[0]["changes"][0]["to"], "STARTED");
    assert_eq!(history[1]["changes"][1]["field"], "resolution");
    assert_eq!(issue["resolved"], "2004-12-24T11:22:33-08:00");
    let page = std::fs::read_to_string(site.join("public/issues/ARGO/0/ARGO-4.html")).unwrap();
    assert!(
        page.contains(
            "<span class=\"field\">issue_status</span>: <del>NEW</del> → <ins>STARTED</ins>"
        ),
        "the history on the page"
    );
}

#[test]
fn a_broken_bugzilla_export_names_file_line_and_bug() {
    let (_dir, site) = site();
    let file = site.join("exports/bugzilla/lustre-bugzilla-4.4.xml");
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = text.find("Full debug log").unwrap();
    std::fs::write(&file, &text[..cut]).unwrap();
    let config = hindsight::Config::load(&site.join("hindsight.toml")).unwrap();
    let err = hindsight::build(
        &config,
        &hindsight::BuildOptions::default(),
        &hindsight::Quiet,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("lustre-bugzilla-4.4.xml:"), "{err}");
    assert!(err.contains("BZ-16494"), "{err}");
    assert!(!Path::new(&site.join("public")).join("index.html").exists());
}

#[test]
fn jira_attachment_files_are_copied_and_secure_attachment_links_rewritten() {
    let (_dir, site) = example();
    // JIRA's attachments folder: the bucketed layout for one file, the older flat one for a
    // file over the size cap.
    let store = site.join("jira-attachments");
    let small = store.join("LU/10000/LU-4423/13904");
    std::fs::create_dir_all(small.parent().unwrap()).unwrap();
    std::fs::write(&small, b"ldlm_stats mds1: cancel_rate 40213/s\n").unwrap();
    let big = store.join("LU/LU-4423/13905");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    std::fs::write(&big, vec![0x1f; 5000]).unwrap();

    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace(
            "paths = [\"exports/jira/*.xml\"]",
            "paths = [\"exports/jira/*.xml\"]\nattachments = \"jira-attachments\"",
        )
        .replace("projects = ", "attachment_size_cap = 4096\nprojects = ");
    std::fs::write(&config, text).unwrap();
    let page = site.join("exports/jira/LU-page-0.xml");
    let xml = std::fs::read_to_string(&page).unwrap();
    let old = "bug 12755 comment 2 has the old analysis.&lt;/p&gt;";
    assert!(xml.contains(old));
    let xml = xml.replace(
        old,
        "bug 12755 comment 2 has the old analysis. Stats: &lt;a href=&quot;https://jira.whamcloud.com/secure/attachment/13904/ldlm_stats-mds1.txt&quot;&gt;ldlm_stats-mds1.txt&lt;/a&gt;, debug log &lt;a href=&quot;/secure/attachment/13905/dk.mds1.gz&quot;&gt;dk.mds1.gz&lt;/a&gt;, elsewhere &lt;a href=&quot;/secure/attachment/99/other.txt&quot;&gt;other.txt&lt;/a&gt;.&lt;/p&gt;",
    );
    std::fs::write(&page, xml).unwrap();

    build(&site).unwrap();
    let out = site.join("public");
    let copied = out.join("attachments/LU/13/13904/ldlm_stats-mds1.txt");
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        b"ldlm_stats mds1: cancel_rate 40213/s\n"
    );
    assert!(
        !out.join("attachments/LU/13/13905").exists(),
        "over the cap"
    );
    let html = std::fs::read_to_string(out.join("issues/LU/4/LU-4423.html")).unwrap();
    assert!(html.contains("<a href=\"../../../attachments/LU/13/13904/ldlm_stats-mds1.txt\" class=\"issue-link\">ldlm_stats-mds1.txt</a>"), "{html}");
    // Over the cap: listed with a note, and links to it reach the list entry.
    assert!(html.contains("<a href=\"#attachment-13905\" class=\"issue-link\">dk.mds1.gz</a>"));
    assert!(html.contains("over this archive&#x27;s size limit") || html.contains("size limit"));
    // An attachment of no issue here: text only.
    assert!(html.contains(", elsewhere other.txt."), "{html}");
    let json = std::fs::read_to_string(out.join("issues/LU/4/LU-4423.json")).unwrap();
    assert!(json.contains("attachments/LU/13/13904/ldlm_stats-mds1.txt"));

    let check = hindsight::check::check_site(&out).unwrap();
    assert!(check.broken.is_empty(), "broken links: {:#?}", check.broken);

    // The neutral export carries the copied file, so a rebuild from it needs no folder.
    let ndjson = site.join("archive.ndjson");
    let config = hindsight::Config::load(&site.join("hindsight.toml")).unwrap();
    hindsight::export(&config, &ndjson, false).unwrap();
    let text = std::fs::read_to_string(&ndjson).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("\"key\":\"LU-4423\""))
        .unwrap();
    assert!(line.contains("\"kind\":\"base64\""), "{line}");
}
