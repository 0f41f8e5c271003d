//! Browser tests: built sites opened in headless Debian Chromium (driven by playwright-core,
//! see tests/browser/), over file:// and over HTTP. These tests need `node`, the npm packages
//! of tests/browser (`npm ci --prefix tests/browser`) and `/usr/bin/chromium`; `.ci/run` and
//! `scripts/test` install them. A missing piece fails the test, it is never skipped.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use common::*;

/// One browser at a time: CI has two cores.
static BROWSER: Mutex<()> = Mutex::new(());

fn run_script(script: &str, args: &[&Path]) {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` (scripts/test does)"
    );
    let output = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .expect("`node` is needed for the browser tests (apt-get install nodejs, or scripts/test)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(" passed, 0 failed"),
        "{script} ran no checks"
    );
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
