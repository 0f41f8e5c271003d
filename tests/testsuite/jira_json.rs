//! JIRA REST JSON exports built into a site: a two-page search export and a one-issue dump
//! (`tests/fixtures/jira-json/`). Checks the pages, the rendered wiki markup, the changelog, and
//! that nothing restricted (an issue under `fields.security`, a comment with a role
//! `visibility`, a worklog with a group one) reaches any output byte.

use std::path::{Path, PathBuf};

use hindsight::{BuildOptions, BuildReport, Config, Quiet};

const MARKER: &[u8] = b"RESTRICTED-MARKER-JSON";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jira-json")
}

/// Copies the fixtures into a fresh site folder with a config, and builds it.
fn build_site(paths: &[&str]) -> (tempfile::TempDir, PathBuf, BuildReport) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let exports = site.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), exports.join(entry.file_name())).unwrap();
    }
    let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        site.join("hindsight.toml"),
        format!(
            "title = \"JIRA JSON test\"\n[[tracker]]\nname = \"jira\"\npaths = [{}]\n",
            list.join(", ")
        ),
    )
    .unwrap();
    let config = Config::load(&site.join("hindsight.toml")).unwrap();
    let report = hindsight::build(&config, &BuildOptions::default(), &Quiet).unwrap();
    (dir, site, report)
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn all_files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn search_pages_and_a_dump_build_into_pages() {
    let (_dir, site, report) = build_site(&["exports/*.json"]);
    let out = site.join("public");
    let i = &report.import;
    assert_eq!(i.files, 3, "{i:?}");
    assert_eq!(i.issues_read, 4, "{i:?}");
    assert_eq!(i.issues_kept, 3, "{i:?}");
    assert_eq!(i.restricted_issues, 1, "{i:?}");
    assert_eq!(i.restricted_comments, 1, "{i:?}");
    assert_eq!(i.restricted_worklogs, 1, "{i:?}");
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);

    for page in [
        "issues/LU/1/LU-1001.html",
        "issues/LU/1/LU-1003.html",
        "issues/LU/2/LU-2001.html",
        "issues/LU/1/LU-1001.json",
    ] {
        assert!(out.join(page).is_file(), "missing {page}");
    }
    assert!(!out.join("issues/LU/1/LU-1002.html").exists());
    assert!(!out.join("issues/LU/1/LU-1002.json").exists());

    let lu1001 = read(&out, "issues/LU/1/LU-1001.html");
    // The {noformat} LBUG trace is a preformatted panel, escaped, with CRLF gone.
    assert!(
        lu1001.contains("<pre>LustreError: 12345:0:(ldlm_lock.c:851:ldlm_lock_cancel()) ASSERTION( !lock-&gt;l_readers &amp;&amp; !lock-&gt;l_writers ) failed:"),
        "{lu1001}"
    );
    assert!(!lu1001.contains('\r'));
    // Headings, lists, tables, emphasis, monospace, code blocks.
    assert!(lu1001.contains("<h3>Steps to reproduce</h3>"), "{lu1001}");
    assert!(lu1001.contains("<ol>"), "{lu1001}");
    assert!(lu1001.contains("<strong>10 minutes</strong>"), "{lu1001}");
    assert!(
        lu1001.contains("<code>ldlm_lock_cancel()</code>"),
        "{lu1001}"
    );
    assert!(lu1001.contains("<th>Branch</th>"), "{lu1001}");
    assert!(
        lu1001.contains("-EIO is returned from mdc_enqueue_base"),
        "{lu1001}"
    );
    assert!(
        lu1001.contains("if (lock-&gt;l_readers || lock-&gt;l_writers)"),
        "{lu1001}"
    );
    assert!(lu1001.contains("<em>Patch</em>"), "{lu1001}");
    assert!(lu1001.contains("@adilger"), "{lu1001}");
    // LU-1003 is in the archive: the reference in wiki text is a local link.
    assert!(
        lu1001.contains("href=\"../../../issues/LU/1/LU-1003.html\""),
        "{lu1001}"
    );
    // The external link from [text|url] survives sanitising.
    assert!(
        lu1001.contains("href=\"https://wiki.lustre.org/Racer\""),
        "{lu1001}"
    );
    // The changelog is shown.
    assert!(lu1001.contains("In Progress"), "{lu1001}");
    // Custom field names come from `names`, which follows the issues in the page.
    assert!(lu1001.contains("Branches"), "{lu1001}");

    // The dump has renderedFields: its HTML is used (and sanitised), not the wiki text.
    let lu2001 = read(&out, "issues/LU/2/LU-2001.html");
    assert!(lu2001.contains("Rendered body"), "{lu2001}");
    assert!(!lu2001.contains("Wiki body"), "{lu2001}");
    assert!(!lu2001.contains("<script>alert"), "{lu2001}");
    assert!(lu2001.contains("<b>JSON</b>"), "{lu2001}");

    let json: serde_json::Value =
        serde_json::from_str(&read(&out, "issues/LU/1/LU-1001.json")).unwrap();
    assert_eq!(json["description"]["markup"], "jira-wiki");
    assert_eq!(json["status_category"], "done");
    assert_eq!(json["resolution"], "Fixed");
    assert_eq!(json["history"].as_array().unwrap().len(), 2);
    assert_eq!(json["comments"].as_array().unwrap().len(), 2);
    assert_eq!(json["worklogs"].as_array().unwrap().len(), 1);
    // The link to the restricted LU-1002 is removed by the linker.
    assert_eq!(json["links"].as_array().unwrap().len(), 1);
    assert_eq!(json["links"][0]["target"], "LU-1003");
    assert_eq!(json["subtasks"][0], "LU-1003");
    assert_eq!(json["attachments"][0]["name"], "dmesg-mds1.png");
}

#[test]
fn nothing_restricted_reaches_any_output_byte() {
    let (dir, site, _report) = build_site(&["exports/*.json"]);
    let out = site.join("public");
    let files = all_files(&out);
    assert!(files.len() > 10);
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, MARKER),
            "{} contains the restricted marker",
            path.display()
        );
    }
    drop(dir);
}

#[test]
fn one_issue_dump_alone_is_detected_and_built() {
    let (_dir, site, report) = build_site(&["exports/LU-2001.json"]);
    assert_eq!(report.import.issues_kept, 1);
    assert!(site.join("public/issues/LU/2/LU-2001.html").is_file());
}

#[test]
fn a_broken_export_names_the_file_line_and_issue() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(fixtures().join("search-page-2.json")).unwrap();
    // Cut the file inside the first issue's fields.
    let cut = page.find("\"priority\"").unwrap();
    std::fs::write(dir.path().join("broken.json"), &page[..cut]).unwrap();
    std::fs::write(
        dir.path().join("hindsight.toml"),
        "title = \"t\"\n[[tracker]]\npaths = [\"broken.json\"]\n",
    )
    .unwrap();
    let config = Config::load(&dir.path().join("hindsight.toml")).unwrap();
    let err = hindsight::build(&config, &BuildOptions::default(), &Quiet)
        .expect_err("a truncated export fails the build");
    let message = err.to_string();
    assert!(message.contains("broken.json:"), "{message}");
    assert!(message.contains("(issue LU-1003)"), "{message}");
    assert!(message.contains("truncated"), "{message}");
}
