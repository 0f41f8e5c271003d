//! Browser test of the static search (tests/browser/search.mjs) on a fixture site built here:
//! headless Debian Chromium over file:// and over HTTP. Needs `node`, `npm ci --prefix
//! tests/browser` and `/usr/bin/chromium`; a missing piece fails the test.

#[test]
fn search_works_in_chromium_over_file_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let site_dir = dir.path().join("site");
    crate::site::write_site(&site_dir, crate::site::fixture_docs(), true);
    crate::common::run_browser_script("search.mjs", &[site_dir.as_os_str()]);
}
