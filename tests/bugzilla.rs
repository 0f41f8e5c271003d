//! Bugzilla exports (XML from `show_bug.cgi?ctype=xml`, REST JSON and JSON lines) built end to
//! end: bucketed pages under the configured prefix, the old `#cN` comment anchors, and nothing
//! restricted (private comments and attachments, bugs in groups) in any output byte.

mod common;

use std::path::Path;

use common::*;

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
    assert_eq!(i.warnings.len(), 1, "{:?}", i.warnings);
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
