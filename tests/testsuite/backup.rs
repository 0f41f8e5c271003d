//! The site is the backup: the source clones from it (from the folder and over dumb HTTP), a
//! bare copy of it rebuilds the same site byte for byte, and `verify` checks any copy, against
//! `SHA256SUMS` and the BagIt bag (checked by the Library of Congress's `bagit` validator too).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use crate::git_fixture::Repo;

/// The example archive with a git history citing its issues: a master branch, a maintenance
/// branch known only as a remote-tracking ref, an annotated release tag and a lightweight one,
/// some objects loose and some packed.
fn example_with_history() -> (tempfile::TempDir, PathBuf, Repo) {
    let (dir, site) = example();
    let mut repo = Repo::init(&dir.path().join("lustre-release"));
    repo.commit(
        "LU-16120 ldiskfs: fix buddy bitmap after resize\n\nSigned-off-by: Ann Author <ann@example.com>\n",
        &[("ldiskfs/resize.c", "int resize(void) { return 0; }\n")],
    );
    repo.commit(
        "b=13300 llite: handle the short read\n",
        &[("llite/rw.c", "int rw;\n")],
    );
    repo.git(&["tag", "-a", "v2_1_0", "-m", "Lustre 2.1.0"]);
    repo.git(&["repack", "-a", "-d", "-q"]);
    repo.git(&["branch", "b2_1"]);
    repo.commit(
        "LU-12 e2fsck: zero dtime\n",
        &[("e2fsck/pass1.c", "int dtime;\n")],
    );
    repo.git(&["tag", "2.1.50"]);
    // b2_1 as a clone of a mirror would have it: refs/remotes/origin/b2_1 only.
    let b21 = repo.git(&["rev-parse", "b2_1"]);
    repo.git(&["update-ref", "refs/remotes/origin/b2_1", &b21]);
    repo.git(&["branch", "-D", "-q", "b2_1"]);
    let text = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!(
            "{text}\n[[repository]]\npath = \"{}\"\n",
            repo.dir.display()
        ),
    )
    .unwrap();
    (dir, site, repo)
}

/// Runs `hindsight` in `dir` with `args` (paths given as paths) and requires success.
fn run_ok(dir: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = hindsight(dir, &args);
    assert!(
        out.status.success(),
        "hindsight {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Checks that the site rebuilt into `rebuilt` has exactly the files of `original`, byte for
/// byte.
fn assert_rebuilt_same(original: &BTreeMap<String, Vec<u8>>, rebuilt: &Path) {
    let again = read_tree(rebuilt);
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in original {
        assert!(again[path] == *bytes, "{path} differs in the rebuilt site");
    }
}

/// Builds the site a copy holds, from the copy's own backup config, into `out`.
fn rebuild_from(copy: &Path, out: &Path) {
    let config = copy.join("backup/hindsight.toml");
    run_ok(
        copy.parent().unwrap(),
        &[
            &"build",
            &"--quiet",
            &"--config",
            &config,
            &"--output",
            &out,
        ],
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(name, id)` of every ref a repository at `dir` has, peeled tags included.
fn refs_of(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = git(dir, &["show-ref", "--dereference"])
        .lines()
        .map(|l| {
            let (id, name) = l.split_once(' ').unwrap();
            // A clone names the source's branches origin/*.
            let name = name
                .replace("refs/remotes/origin/", "refs/heads/")
                .to_string();
            format!("{name} {id}")
        })
        .filter(|l| !l.starts_with("refs/heads/HEAD") && !l.starts_with("refs/remotes/origin/HEAD"))
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn the_source_clones_from_the_site_folder_and_over_dumb_http() {
    let (dir, site, repo) = example_with_history();
    let report = build(&site).unwrap();
    assert_eq!(
        report.backup.repositories.len(),
        2,
        "the example's and this one"
    );
    assert!(report.backup.notes.is_empty(), "{:?}", report.backup.notes);
    let bare = site.join("public/source/lustre-release.git");
    assert!(bare.join("info/refs").is_file());
    assert!(bare.join("objects/info/packs").is_file());

    // From the folder.
    let from_folder = dir.path().join("clone-folder");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            bare.to_str().unwrap(),
            from_folder.to_str().unwrap(),
        ],
    );
    git(&from_folder, &["fsck", "--full", "--strict"]);
    assert_eq!(refs_of(&from_folder), refs_of(&repo.dir));

    // Over git's dumb HTTP protocol, from hindsight's own static file server.
    let preview =
        hindsight::serve::Preview::bind(&site.join("public"), "127.0.0.1:0".parse().unwrap())
            .unwrap();
    let addr = preview.addr().unwrap();
    std::thread::spawn(move || preview.run(None));
    let over_http = dir.path().join("clone-http");
    let url = format!("http://{addr}/source/lustre-release.git");
    git(
        dir.path(),
        &["clone", "-q", &url, over_http.to_str().unwrap()],
    );
    git(&over_http, &["fsck", "--full", "--strict"]);
    let branches = git(&over_http, &["branch", "-r"]);
    assert!(branches.contains("origin/b2_1"), "{branches}");
    assert!(branches.contains("origin/master"), "{branches}");
    assert_eq!(refs_of(&over_http), refs_of(&repo.dir));
    assert_eq!(
        git(&over_http, &["log", "--format=%s", "-1", "v2_1_0"]).trim(),
        "b=13300 llite: handle the short read"
    );
}

#[test]
fn a_bare_copy_of_the_site_rebuilds_it_byte_for_byte() {
    let (dir, site, _repo) = example_with_history();
    build(&site).unwrap();
    let original = read_tree(&site.join("public"));
    assert!(original.contains_key("backup/data/archive/jira.ndjson.zst"));
    assert!(original.contains_key("backup/data/archive/bugzilla.ndjson.zst"));
    assert!(original
        .keys()
        .any(|p| p.starts_with("backup/data/attachments/BZ/")));
    assert!(original.contains_key("backup/data/pages/about.md"));
    assert!(original.keys().any(|p| p.starts_with("commits/")));

    // Only the copy: no exports, no repository, no cache, somewhere else.
    let copy = dir.path().join("usb/site");
    copy_tree(&site.join("public"), &copy);
    std::fs::remove_dir_all(&site).unwrap();
    std::fs::remove_dir_all(dir.path().join("lustre-release")).unwrap();
    let rebuilt = dir.path().join("rebuilt");
    rebuild_from(&copy, &rebuilt);
    assert_rebuilt_same(&original, &rebuilt);
    // The copy itself was only read.
    assert_eq!(read_tree(&copy), original);
}

#[test]
fn verify_names_every_missing_changed_and_extra_file() {
    let (dir, site, _repo) = example_with_history();
    build(&site).unwrap();
    let copy = dir.path().join("mirror");
    copy_tree(&site.join("public"), &copy);
    let run = |args: &[&str]| hindsight(dir.path(), args);
    let out = run(&["verify", copy.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("every file matches"), "{stdout}");

    // sha256sum agrees.
    let sums = Command::new("sha256sum")
        .current_dir(&copy)
        .args(["-c", "--quiet", "SHA256SUMS"])
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );

    let issue = "issues/LU/0/LU-12.html";
    std::fs::write(copy.join(issue), "tampered").unwrap();
    let attachment = walkdir::WalkDir::new(copy.join("backup/data/attachments"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_file())
        .unwrap()
        .into_path();
    std::fs::remove_file(&attachment).unwrap();
    std::fs::write(copy.join("backup/data/stray.txt"), "x").unwrap();
    let out = run(&["verify", copy.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let attachment = attachment
        .strip_prefix(&copy)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for line in [
        format!("changed: {issue} (by SHA256SUMS)"),
        format!("missing: {attachment} (by SHA256SUMS)"),
        format!("missing: {attachment} (by backup/manifest-sha256.txt)"),
        "extra: backup/data/stray.txt (by SHA256SUMS): not listed".to_string(),
        "extra: backup/data/stray.txt (by backup/manifest-sha256.txt): not listed".to_string(),
    ] {
        assert!(stdout.contains(&line), "{line}\nin\n{stdout}");
    }
    assert!(stdout.contains("Payload-Oxum says"), "{stdout}");
}

#[test]
fn the_bag_is_valid_for_the_reference_validator() {
    let (_dir, site, _repo) = example_with_history();
    build(&site).unwrap();
    let bag = site.join("public/backup");
    // bagit-python, the Library of Congress's validator (installed by scripts/test).
    let out = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(&bag)
        .output()
        .expect("python3 runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("is valid"), "{log}");
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Payload-Oxum: "), "{info}");
    assert!(info.contains("Bag-Software-Agent: hindsight"), "{info}");
}

#[test]
fn an_unchanged_rebuild_keeps_every_pack_and_attachment_file() {
    use std::os::unix::fs::MetadataExt;
    let (_dir, site, repo) = example_with_history();
    build(&site).unwrap();
    let inodes = |site: &Path| -> Vec<(String, u64)> {
        let root = site.join("public");
        walkdir::WalkDir::new(root.join("source"))
            .into_iter()
            .chain(walkdir::WalkDir::new(root.join("backup/data")))
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| (e.path().display().to_string(), e.metadata().unwrap().ino()))
            .collect()
    };
    let before = inodes(&site);
    let report = build(&site).unwrap();
    assert_eq!(inodes(&site), before);
    assert_eq!(report.write.written, 0, "{:?}", report.write);

    // A new commit adds one loose object file per object; the packs stay as they were.
    let mut repo = repo;
    repo.commit("LU-12 tests: one more\n", &[("tests/t.sh", "true\n")]);
    let report = build(&site).unwrap();
    let after = inodes(&site);
    for (path, ino) in &before {
        if path.contains("/objects/pack/") {
            assert!(
                after.contains(&(path.clone(), *ino)),
                "{path} was rewritten"
            );
        }
    }
    assert!(report.write.written > 0);
}

#[test]
fn a_shallow_source_is_published_and_reported_incomplete() {
    let (dir, site, repo) = example_with_history();
    let shallow = dir.path().join("shallow");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", repo.dir.display()),
            shallow.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(site.join("hindsight.toml"))
        .unwrap()
        .replace(
            &repo.dir.display().to_string(),
            &shallow.display().to_string(),
        );
    std::fs::write(site.join("hindsight.toml"), text).unwrap();
    let report = build(&site).unwrap();
    let notes = report.backup.notes.join("\n");
    assert!(notes.contains("incomplete: a shallow clone"), "{notes}");
    let info = std::fs::read_to_string(site.join("public/backup/bag-info.txt")).unwrap();
    assert!(
        info.contains("Left-Out: source/shallow.git: a shallow clone"),
        "{info}"
    );
}

#[test]
fn a_partial_clone_is_reported_with_the_objects_git_says_it_lacks() {
    let (dir, site, mut repo) = example_with_history();
    // History with several versions of a file and a subfolder, so that blobs and trees of
    // older commits are behind the tips.
    for i in 0..3 {
        repo.commit(
            &format!("LU-{} llite: step {i}\n", 200 + i),
            &[
                ("llite/rw.c", &format!("int rw = {i};\n")),
                ("lustre/tests/deep/t.sh", &format!("echo {i}\n")),
            ],
        );
    }
    git(&repo.dir, &["config", "uploadpack.allowFilter", "true"]);
    let partial = dir.path().join("partial.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            "--filter=blob:none",
            &format!("file://{}", repo.dir.display()),
            partial.to_str().unwrap(),
        ],
    );
    // What git itself says the clone lacks: every blob of the history.
    let listed = git(
        &partial,
        &["rev-list", "--objects", "--all", "--missing=print"],
    );
    let lacking: Vec<&str> = listed.lines().filter_map(|l| l.strip_prefix('?')).collect();
    assert!(lacking.len() >= 8, "{listed}");
    let text = std::fs::read_to_string(site.join("hindsight.toml"))
        .unwrap()
        .replace(
            &repo.dir.display().to_string(),
            &partial.display().to_string(),
        );
    std::fs::write(site.join("hindsight.toml"), text).unwrap();
    let report = build(&site).unwrap();
    let notes = report.backup.notes.join("\n");
    assert!(
        notes.contains(&format!(
            "a partial clone: {} objects reachable from the published refs are missing",
            lacking.len()
        )),
        "{notes}"
    );
    let mut shown: Vec<&str> = lacking.clone();
    shown.sort_unstable();
    assert!(notes.contains(shown[0]), "{notes}");
}

#[test]
fn kept_exports_are_the_originals_and_never_what_the_site_withholds() {
    let (dir, site, _repo) = example_with_history();
    // A clean export beside the example's (which hold restricted items and an unpublished
    // project): only the clean one may be published as received.
    let clean = crate::git_fixture::jira_export(&[crate::git_fixture::JiraIssue {
        key: "LU-90001",
        id: 990001,
        summary: "A clean export page",
        description: "<p>Nothing private here.</p>",
        fix_versions: &[],
    }]);
    std::fs::write(site.join("exports/jira/LU-page-9.xml"), &clean).unwrap();
    let text = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!("{text}\n[backup]\nkeep_exports = true\n"),
    )
    .unwrap();
    let report = build(&site).unwrap();
    let exports = report.backup.exports.clone().unwrap();
    assert_eq!((exports.kept, exports.withheld), (1, 3), "{exports:?}");
    let out = site.join("public/backup");
    assert_eq!(
        std::fs::read(out.join("data/exports/jira/exports/jira/LU-page-9.xml")).unwrap(),
        clean.as_bytes()
    );
    let withheld = std::fs::read_to_string(out.join("data/exports/WITHHELD.txt")).unwrap();
    for f in [
        "jira/exports/jira/LU-page-0.xml",
        "jira/exports/jira/LU-page-1.xml",
        "bugzilla/exports/bugzilla/lustre-bugs.xml",
    ] {
        assert!(withheld.contains(f), "{withheld}");
        assert!(
            !out.join("data/exports").join(f).exists(),
            "{f} was published"
        );
    }
    let info = std::fs::read_to_string(out.join("bag-info.txt")).unwrap();
    assert!(info.contains("Left-Out: 3 original export files"), "{info}");

    // The copy rebuilds the same site, originals and list included.
    let copy = dir.path().join("copy");
    copy_tree(&site.join("public"), &copy);
    let rebuilt = dir.path().join("rebuilt");
    rebuild_from(&copy, &rebuilt);
    assert_eq!(read_tree(&rebuilt), read_tree(&site.join("public")));

    // The keeper's private backup has everything, as received, and is a valid bag.
    let private = dir.path().join("private");
    let config = site.join("hindsight.toml");
    run_ok(
        dir.path(),
        &[&"backup", &"--config", &config, &"--private", &private],
    );
    assert_eq!(
        std::fs::read(private.join("data/exports/jira/exports/jira/LU-page-0.xml")).unwrap(),
        std::fs::read(site.join("exports/jira/LU-page-0.xml")).unwrap()
    );
    let out = hindsight(dir.path(), &["verify", private.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(&private)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Never inside the published site.
    let out = hindsight(
        dir.path(),
        &[
            "backup",
            "--config",
            site.join("hindsight.toml").to_str().unwrap(),
            "--private",
            site.join("public/private").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not be inside the published site"));
}

#[test]
fn a_ref_that_points_nowhere_is_left_out_and_said() {
    let (dir, site, repo) = example_with_history();
    std::fs::write(
        repo.dir.join(".git/refs/heads/broken"),
        "0123456789abcdef0123456789abcdef01234567\n",
    )
    .unwrap();
    let report = build(&site).unwrap();
    let notes = report.backup.notes.join("\n");
    assert!(
        notes.contains("refs/heads/broken points at 0123456789abcdef0123456789abcdef01234567"),
        "{notes}"
    );
    let bare = site.join("public/source/lustre-release.git");
    assert!(!std::fs::read_to_string(bare.join("info/refs"))
        .unwrap()
        .contains("broken"));
    let info = std::fs::read_to_string(site.join("public/backup/bag-info.txt")).unwrap();
    assert!(
        info.contains("Left-Out: source/lustre-release.git: refs/heads/broken"),
        "{info}"
    );
    // And the copy still clones whole.
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    git(&clone, &["fsck", "--full"]);
}

#[test]
fn the_switches_leave_the_source_or_the_archive_out() {
    let (_dir, site, _repo) = example_with_history();
    let text = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!("{text}\n[backup]\ngit = false\n"),
    )
    .unwrap();
    let report = build(&site).unwrap();
    assert!(report.backup.repositories.is_empty());
    let out = site.join("public");
    assert!(!out.join("source").exists());
    let config = std::fs::read_to_string(out.join("backup/hindsight.toml")).unwrap();
    assert!(!config.contains("[[repository]]"), "{config}");
    assert!(config.contains("git = false"), "{config}");
    let home = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!home.contains("git clone"), "the home page offers no clone");

    std::fs::write(
        site.join("hindsight.toml"),
        format!("{text}\n[backup]\narchive = false\n"),
    )
    .unwrap();
    let report = build(&site).unwrap();
    assert!(report.backup.bag.is_none());
    assert!(!out.join("backup").exists());
    assert!(out.join("source/example.git/info/refs").is_file());
    // The checksums stay: any copy can still be verified.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("  index.html\n"));
    assert!(!sums.contains("backup/"));
}

/// A site of one neutral-format tracker with `n` issues, big enough that its archive file is
/// several zstd frames.
fn many_issues(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("exports")).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        "title = \"Many chunks\"\noutput = \"public\"\n\n[[tracker]]\nname = \"nd\"\npaths = [\"exports/*.ndjson\"]\n",
    )
    .unwrap();
    let lines: String = (1..=n)
        .map(|i| {
            format!(
                "{{\"source\":\"nd\",\"id\":\"{i}\",\"key\":\"ND-{i}\",\"project\":{{\"key\":\"ND\"}},\"summary\":\"Issue {i}: the client hangs after failover\",\"status\":\"Open\",\"comments\":[{{\"id\":\"c{i}\",\"body\":{{\"markup\":\"plain\",\"content\":\"{}\"}}}}]}}\n",
                format!("Seen again on node {i}. ").repeat(i % 7 + 1)
            )
        })
        .collect();
    std::fs::write(site.join("exports/nd.ndjson"), lines).unwrap();
    (dir, site)
}

/// The zstd frames of a file.
fn frames(bytes: &[u8]) -> usize {
    let (mut at, mut count) = (0, 0);
    while at < bytes.len() {
        at += zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).unwrap();
        count += 1;
    }
    count
}

#[test]
fn an_archive_of_many_chunks_compresses_what_changed_and_rebuilds_the_site() {
    let (dir, site) = many_issues(1500);
    let archive_file = site.join("public/backup/data/archive/nd.ndjson.zst");
    let report = build(&site).unwrap();
    let bytes = std::fs::read(&archive_file).unwrap();
    let n = frames(&bytes) as u64;
    assert!(n > 2, "{n} frames");
    assert_eq!(report.backup.archive.as_ref().unwrap().chunks, (n, 0));
    assert_eq!(report.backup.archive.as_ref().unwrap().read, 1500);

    // Nothing changed: no chunk compressed, no issue read, the archive file (and every other)
    // left in place.
    let report = build(&site).unwrap();
    assert_eq!(report.backup.archive.as_ref().unwrap().chunks, (0, n));
    assert_eq!(report.backup.archive.as_ref().unwrap().read, 0);
    assert_eq!(report.write.written, 0, "{:?}", report.write);

    // One issue changed: one chunk compressed again, the others from the cache; only the
    // issues of its chunk were read.
    let export = site.join("exports/nd.ndjson");
    let text = std::fs::read_to_string(&export).unwrap();
    let text = text.replacen("Issue 700: the", "Issue 700: now the", 1);
    std::fs::write(&export, text).unwrap();
    let report = build(&site).unwrap();
    assert_eq!(report.backup.archive.as_ref().unwrap().chunks, (1, n - 1));
    let read = report.backup.archive.as_ref().unwrap().read;
    assert!(read > 0 && read < 1500 / 2, "{read} issues read");
    let mut ndjson = String::new();
    use std::io::Read;
    zstd::stream::read::Decoder::new(&std::fs::read(&archive_file).unwrap()[..])
        .unwrap()
        .read_to_string(&mut ndjson)
        .unwrap();
    assert_eq!(ndjson.lines().count(), 1500);
    assert!(ndjson.contains("Issue 700: now the client"));

    // The copy rebuilds the same site, its archive compressed from a cold cache.
    let original = read_tree(&site.join("public"));
    let copy = dir.path().join("usb/site");
    copy_tree(&site.join("public"), &copy);
    let rebuilt = dir.path().join("rebuilt");
    rebuild_from(&copy, &rebuilt);
    assert_rebuilt_same(&original, &rebuilt);
}

/// The whole site a build from nothing makes of `site`'s inputs (config, exports,
/// attachments), in a folder of its own.
fn built_from_nothing(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("site");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(site.join("hindsight.toml"), fresh.join("hindsight.toml")).unwrap();
    for folder in ["exports", "attachments"] {
        if site.join(folder).is_dir() {
            copy_tree(&site.join(folder), &fresh.join(folder));
        }
    }
    build(&fresh).unwrap();
    read_tree(&fresh.join("public"))
}

#[test]
fn an_attachment_file_that_comes_and_goes_reaches_the_archive_of_an_unchanged_issue() {
    let (_dir, site) = many_issues(600);
    let config = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    std::fs::write(
        site.join("hindsight.toml"),
        format!("{config}attachments = \"attachments\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(site.join("attachments")).unwrap();
    // ND-300 names an attachment the archive has no file for.
    let export = site.join("exports/nd.ndjson");
    let text = std::fs::read_to_string(&export).unwrap();
    let text = text.replacen(
        "\"key\":\"ND-300\",",
        "\"key\":\"ND-300\",\"attachments\":[{\"id\":\"77\",\"name\":\"trace.log\"}],",
        1,
    );
    std::fs::write(&export, text).unwrap();
    let archive = |site: &Path| {
        let mut ndjson = String::new();
        use std::io::Read;
        let bytes = std::fs::read(site.join("public/backup/data/archive/nd.ndjson.zst")).unwrap();
        zstd::stream::read::Decoder::new(&bytes[..])
            .unwrap()
            .read_to_string(&mut ndjson)
            .unwrap();
        ndjson
            .lines()
            .find(|l| l.contains("\"key\":\"ND-300\""))
            .unwrap()
            .to_string()
    };
    build(&site).unwrap();
    assert!(!archive(&site).contains("\"kind\":\"file\""));
    let report = build(&site).unwrap();
    assert_eq!(report.backup.archive.as_ref().unwrap().read, 0);

    // Its file appears in the attachments folder: the issue's record is the same, but its
    // copy in the archive now names the file, which the bag carries.
    let file = site.join("attachments/ND/10000/ND-300/77");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "LustreError: 11-0: an error\n").unwrap();
    let report = build(&site).unwrap();
    let copy = report.backup.archive.as_ref().unwrap();
    assert_eq!(copy.attachments, 1);
    assert!(copy.read > 0, "the issue's span was read again");
    assert!(
        archive(&site).contains("\"kind\":\"file\""),
        "{}",
        archive(&site)
    );
    let published = read_tree(&site.join("public"));
    assert!(published
        .keys()
        .any(|p| p.starts_with("backup/data/attachments/") && p.ends_with("trace.log")));
    assert!(published == built_from_nothing(&site));

    // And goes again.
    std::fs::remove_file(&file).unwrap();
    build(&site).unwrap();
    assert!(!archive(&site).contains("\"kind\":\"file\""));
    assert!(read_tree(&site.join("public")) == built_from_nothing(&site));
}
