//! Import by export file: a rebuild parses only the exports whose bytes changed and keeps the
//! other files' issues in the store, and what it imports is exactly what a fresh import of the
//! same files gives (store, people, counts, warnings), whatever changed in between: a file
//! rewritten with the same bytes, an issue edited, a file removed, a file added with copies of
//! issues another file holds, the configuration.

use std::path::Path;

use crate::common::*;
use hindsight::import::{import, ImportReport, Imported, People};
use hindsight::Config;

/// Everything an import leaves for the later stages, in a comparable form.
#[derive(Debug, PartialEq)]
struct Outcome {
    issues: Vec<String>,
    dropped: Vec<String>,
    people: People,
    report: ImportReport,
}

fn outcome(imported: &Imported) -> Outcome {
    let mut issues = Vec::new();
    imported
        .store
        .for_each_issue(|i| {
            issues.push(serde_json::to_string(&i).unwrap());
            Ok(())
        })
        .unwrap();
    Outcome {
        issues,
        dropped: imported.store.dropped_keys().unwrap(),
        people: imported.people.clone(),
        report: ImportReport {
            files_parsed: 0,
            ..imported.report.clone()
        },
    }
}

/// Imports `site`'s exports into its own build cache's store, and afresh into a new store;
/// checks both give the same and returns the files the first parsed and its outcome.
fn import_both(site: &Path, config: &Config) -> (usize, Outcome) {
    let found = hindsight::inputs::discover(config).unwrap();
    let kept = import(config, &found, &site.join("cache/archive.redb"), false, 7).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let fresh = import(
        config,
        &found,
        &scratch.path().join("archive.redb"),
        false,
        7,
    )
    .unwrap();
    assert_eq!(fresh.report.files_parsed, fresh.report.files);
    let (kept_outcome, fresh_outcome) = (outcome(&kept), outcome(&fresh));
    assert_eq!(kept_outcome, fresh_outcome);
    (kept.report.files_parsed, kept_outcome)
}

fn config(site: &Path) -> Config {
    let mut config = Config::load(&site.join("hindsight.toml")).unwrap();
    config.cache = site.join("cache");
    config
}

#[test]
fn a_rebuild_parses_only_changed_exports_and_imports_what_a_fresh_import_does() {
    let (_dir, site) = example();
    let config = config(&site);
    let page0 = site.join("exports/jira/LU-page-0.xml");
    let page1 = site.join("exports/jira/LU-page-1.xml");

    let (parsed, first) = import_both(&site, &config);
    assert_eq!(parsed, 3, "the first import parses every file");
    assert!(first.report.duplicates > 0, "the example's pages overlap");
    assert!(first.report.restricted_comments > 0 && !first.report.private_files.is_empty());
    assert!(
        !first.report.warnings.is_empty(),
        "the example's Bugzilla warning"
    );

    // Every file rewritten with the same bytes: nothing is parsed, nothing differs (the
    // warnings of the files not parsed are reported all the same).
    for file in [
        &page0,
        &page1,
        &site.join("exports/bugzilla/lustre-bugs.xml"),
    ] {
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let (parsed, again) = import_both(&site, &config);
    assert_eq!(parsed, 0);
    assert_eq!(again, first);

    // One issue's summary edited (the file's last, which no other file holds): that file
    // alone is parsed.
    let mut edited = std::fs::read_to_string(&page1).unwrap();
    let at = edited.rfind("<summary>").unwrap() + "<summary>".len();
    edited.insert_str(at, "edited: ");
    std::fs::write(&page1, &edited).unwrap();
    let (parsed, after_edit) = import_both(&site, &config);
    assert_eq!(parsed, 1);
    assert!(after_edit.issues.iter().any(|i| i.contains("edited: ")));
    assert_eq!(after_edit.issues.len(), first.issues.len());

    // A file removed: its issues leave the store, nothing is parsed.
    std::fs::remove_file(&page1).unwrap();
    let (parsed, after_removal) = import_both(&site, &config);
    assert_eq!(parsed, 0);
    assert!(after_removal.issues.len() < first.issues.len());
    assert!(!after_removal.issues.iter().any(|i| i.contains("edited: ")));

    // The file back, and a new file with a newer copy of its edited issue: only the two are
    // parsed, and the copies are merged as a fresh import merges them.
    std::fs::write(&page1, &edited).unwrap();
    let (head, last_item) = (
        &edited[..edited.find("<item>").unwrap()],
        &edited[edited.rfind("<item>").unwrap()..],
    );
    let mut newer =
        format!("{head}{last_item}").replacen("<summary>edited: ", "<summary>newer: ", 1);
    let start = newer.rfind("<updated>").unwrap() + "<updated>".len();
    let end = start + newer[start..].find("</updated>").unwrap();
    newer.replace_range(start..end, "Sat, 5 Dec 2026 10:00:00 +0000");
    std::fs::write(site.join("exports/jira/LU-page-2.xml"), &newer).unwrap();
    let (parsed, with_copies) = import_both(&site, &config);
    assert_eq!(parsed, 2);
    assert!(with_copies.report.duplicates > 0);
    assert_eq!(with_copies.issues.len(), first.issues.len());
    assert!(with_copies.issues.iter().any(|i| i.contains("newer: ")));
    assert!(!with_copies.issues.iter().any(|i| i.contains("edited: ")));

    // The newer copies' file removed: the older copies come back from the file that still
    // holds them, which is read again for it (the store held only the newer ones).
    std::fs::remove_file(site.join("exports/jira/LU-page-2.xml")).unwrap();
    let (parsed, without_copies) = import_both(&site, &config);
    assert_eq!(parsed, 1);
    assert_eq!(without_copies, after_edit);

    // Another configuration (addresses shown): everything is parsed again.
    let shown = Config {
        show_emails: true,
        ..config.clone()
    };
    let (parsed, _) = import_both(&site, &shown);
    assert_eq!(parsed, 3);
    let (parsed, _) = import_both(&site, &shown);
    assert_eq!(parsed, 0);
}

#[test]
fn an_import_that_fails_leaves_no_ledger_to_trust() {
    let (_dir, site) = example();
    let config = config(&site);
    let (parsed, first) = import_both(&site, &config);
    assert_eq!(parsed, 3);

    // A key claimed by two issues stops the import; the store is as it was, and once the
    // file is mended the next import gives what a fresh one does.
    let page1 = site.join("exports/jira/LU-page-1.xml");
    let text = std::fs::read_to_string(&page1).unwrap();
    let first_key = text.split("<key id=\"").nth(1).unwrap();
    let id = &first_key[..first_key.find('"').unwrap()];
    let broken = text.replacen(&format!("<key id=\"{id}\""), "<key id=\"999999999\"", 1);
    std::fs::write(site.join("exports/jira/LU-page-9.xml"), &broken).unwrap();
    let found = hindsight::inputs::discover(&config).unwrap();
    let failed = import(&config, &found, &site.join("cache/archive.redb"), false, 7);
    assert!(failed.is_err(), "two ids with one key must stop the import");
    std::fs::remove_file(site.join("exports/jira/LU-page-9.xml")).unwrap();
    let (parsed, mended) = import_both(&site, &config);
    assert_eq!(
        parsed, 0,
        "the failed import changed nothing, its ledger included"
    );
    assert_eq!(mended, first);
}
