//! Helpers shared by the integration tests: copying a fixture archive into a temporary folder,
//! building it, and reading every output file.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hindsight::{BuildOptions, BuildReport, Config, Quiet};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder (recursively) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        if rel.components().any(|c| {
            let s = c.as_os_str().to_string_lossy();
            s == "public" || s == ".hindsight-cache"
        }) {
            continue;
        }
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A copy of the bundled example archive (`content/`) in a fresh temporary folder.
pub fn example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    copy_tree(&repo().join("content"), &site);
    (dir, site)
}

/// Builds the site in `site` from scratch: `force`, so that a test that rebuilds exercises the
/// whole pipeline, not the up-to-date check (tests/incremental.rs covers that).
pub fn build(site: &Path) -> hindsight::Result<BuildReport> {
    let config = Config::load(&site.join("hindsight.toml"))?;
    let options = BuildOptions {
        force: true,
        ..Default::default()
    };
    hindsight::build(&config, &options, &Quiet)
}

/// Every file under `root`: relative path → bytes.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// Runs the `hindsight` binary with `args` in `dir`.
pub fn hindsight(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Adds Bugzilla-numbered bugs (`BZ-<id>`) to a copy of the example, as a second tracker in the
/// neutral format, for tests that need bug numbers the example's Bugzilla export lacks.
pub fn add_bugs(site: &Path, bugs: &[(u64, &str)]) {
    let mut lines = String::new();
    for (id, summary) in bugs {
        let issue = serde_json::json!({
            "source": "bugzilla-extra",
            "id": id.to_string(),
            "key": format!("BZ-{id}"),
            "project": {"key": "BZ", "name": "Lustre"},
            "summary": summary,
            "status": "RESOLVED",
        });
        lines.push_str(&issue.to_string());
        lines.push('\n');
    }
    std::fs::write(site.join("extra-bugs.ndjson"), lines).unwrap();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("\"BZ\""),
        "the example no longer publishes BZ"
    );
    std::fs::write(
        &config,
        format!("{text}\n[[tracker]]\nname = \"bugzilla-extra\"\nkey_prefix = \"BZ\"\npaths = [\"extra-bugs.ndjson\"]\n"),
    )
    .unwrap();
}

/// One browser at a time, across every browser test of the suite: CI has two cores.
pub static BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the browser test script `tests/browser/<script>` with `args` under node (one browser
/// at a time) and requires it to pass at least one check and fail none. A missing piece
/// (node, the npm packages, Chromium) fails the test: nothing is skipped.
pub fn run_browser_script(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` (scripts/test does)"
    );
    let output = std::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .expect("`node` is needed for the browser tests (apt-get install nodejs, or scripts/test)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(" passed, 0 failed"),
        "{script} ran no checks:\n{stdout}"
    );
    stdout
}
