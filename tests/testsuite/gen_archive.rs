//! The archive generator (`examples/gen-archive.rs`) writes every export format hindsight reads
//! and a git repository, and hindsight builds the result with the counts asked for and without
//! a single import warning. The generator is standalone (std only), so this checks the importers
//! against data they did not shape.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the generator: the example binary cargo built beside this test
/// (`target/<profile>/examples/gen-archive`, built by `cargo test`) when it is newer than its
/// source, else `cargo run --example gen-archive`.
fn gen_archive(args: &[&str], out: &Path) {
    let source = crate::common::repo().join("examples/gen-archive.rs");
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .map(|profile| {
            profile
                .join("examples")
                .join(format!("gen-archive{}", std::env::consts::EXE_SUFFIX))
        })
        .filter(|bin| {
            let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            matches!((modified(bin), modified(&source)), (Some(b), Some(s)) if b >= s)
        });
    let mut command = match built {
        Some(bin) => Command::new(bin),
        None => {
            let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            c.args(["run", "--quiet", "--example", "gen-archive", "--"])
                .current_dir(crate::common::repo());
            c
        }
    };
    let output = command.args(args).arg(out).output().unwrap();
    assert!(
        output.status.success(),
        "gen-archive {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const ARGS: &[&str] = &[
    "--issues",
    "300",
    "--projects",
    "LU,LUDOC",
    "--page-size",
    "100",
    "--overlap",
    "5",
    "--bugzilla",
    "60",
    "--bugzilla-json",
    "40",
    "--jira-json",
    "50",
    "--github",
    "40",
    "--ndjson",
    "30",
    "--git",
    "400",
];

/// Issue pages per project: `issues/<P>/<shard>/<P>-<n>.html`.
fn pages_of(public: &Path, project: &str) -> usize {
    walkdir::WalkDir::new(public.join("issues").join(project))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file()
                && name.starts_with(&format!("{project}-"))
                && name.ends_with(".html")
        })
        .count()
}

#[test]
fn every_format_and_a_git_history_build_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let site: PathBuf = dir.path().join("site");
    gen_archive(ARGS, &site);
    let config = std::fs::read_to_string(site.join("hindsight.toml")).unwrap();
    for format in [
        "jira-xml",
        "bugzilla-xml",
        "bugzilla-json",
        "jira-json",
        "github-json",
        "ndjson",
    ] {
        assert!(
            config.contains(&format!("format = \"{format}\"")),
            "{format} missing from\n{config}"
        );
    }
    assert!(config.contains("[[repository]]\npath = \"lustre-release.git\""));

    let report = crate::common::build(&site).unwrap();
    let i = &report.import;
    assert!(i.warnings.is_empty(), "{:#?}", i.warnings);
    // JIRA XML: LU in two pages (the second repeats 5 issues), LUDOC in one; one file each for
    // the others.
    assert_eq!(i.files, 3 + 5);
    assert_eq!(i.duplicates, 5);
    assert_eq!(i.key_conflicts, 0);
    assert!(i.unpublished.is_empty(), "{:?}", i.unpublished);
    let generated = 300 + 60 + 40 + 50 + 40 + 30;
    assert_eq!(i.issues_kept as usize + i.restricted_issues, generated);
    assert!(i.restricted_issues > 0 && i.restricted_comments > 0);
    assert!(i.restricted_attachments > 0);
    assert_eq!(report.render.issue_pages, i.issues_kept);

    let public = &report.output;
    // GitHub has no restrictions: every generated issue and pull request is published.
    assert_eq!(pages_of(public, "GH"), 40);
    for project in ["LU", "LUDOC", "BZ", "LDEV", "ND"] {
        assert!(pages_of(public, project) > 0, "no {project} pages");
    }
    // Both Bugzilla exports share the BZ numbers without clashing.
    assert!(pages_of(public, "BZ") > 90, "{}", pages_of(public, "BZ"));

    let git = &report.git;
    assert_eq!(git.repositories, 1);
    assert_eq!(git.commits, 400);
    assert!(git.releases >= 2, "{git:?}");
    assert!(git.branches >= 3, "{git:?}");
    assert_eq!(git.missing_parents, 0);
    assert_eq!(report.render.commit_pages, 400);
    let refs = &report.references;
    assert!(refs.linked_commits > 300, "{refs:?}");
    assert_eq!(refs.unresolved, 0, "{refs:?}");

    // Nothing restricted reaches the site, whatever the format.
    for (path, bytes) in crate::common::read_tree(public) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("RESTRICTED-MARKER-GEN"),
            "restricted text published in {path}"
        );
    }
}

#[test]
fn the_same_arguments_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let small = [
        "--issues",
        "40",
        "--bugzilla",
        "12",
        "--bugzilla-json",
        "8",
        "--jira-json",
        "6",
        "--github",
        "5",
        "--ndjson",
        "4",
        "--git",
        "60",
    ];
    gen_archive(&small, &a);
    gen_archive(&small, &b);
    let (ta, tb) = (crate::common::read_tree(&a), crate::common::read_tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs between two runs");
    }
    assert!(ta.keys().any(|p| p.starts_with("lustre-release.git/")));
}
