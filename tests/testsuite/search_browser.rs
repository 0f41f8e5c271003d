//! Browser test of the static search (tests/browser/search.mjs) on a fixture site built here:
//! headless Debian Chromium over file:// and over HTTP. Needs `node`, `npm ci --prefix
//! tests/browser` and `/usr/bin/chromium`; a missing piece fails the test.

use std::process::Command;

#[test]
fn search_works_in_chromium_over_file_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("site");
    crate::site::write_site(
        &site_dir,
        &dir.path().join("cache"),
        crate::site::fixture_docs(),
        true,
    );
    let browser = crate::site::repo().join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser`"
    );
    let _guard = crate::common::BROWSER
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let out = Command::new("node")
        .arg(browser.join("search.mjs"))
        .arg(&site_dir)
        .output()
        .expect("`node` is needed for the browser tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "search.mjs failed:\n{stdout}");
    assert!(
        stdout.contains(" passed, 0 failed"),
        "search.mjs ran no checks"
    );
}
