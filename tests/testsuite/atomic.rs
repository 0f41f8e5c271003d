//! Atomic output: a build killed with SIGKILL at any moment before it succeeds leaves the
//! previous site exactly as it was (same files, same bytes) and readable; one killed after (while
//! moving its files into place from its journal) is completed by the next build, which then
//! leaves exactly the site a clean build gives, and clears what the killed one left.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A few thousand extra issues in the neutral format, so a build lasts long enough to be
/// killed in each of its stages.
fn bulk(n: u64, variant: &str) -> String {
    let mut out = String::new();
    for i in 0..n {
        let key = 100_000 + i;
        out.push_str(&format!(
            "{{\"source\":\"jira\",\"id\":\"{key}\",\"key\":\"LU-{key}\",\"project\":{{\"key\":\"LU\",\"name\":\"Lustre\"}},\"summary\":\"{variant} generated issue {i} about ldlm_lock_cancel and LU-{}\",\"description\":{{\"markup\":\"plain\",\"content\":\"{}\"}},\"status\":\"Open\",\"components\":[\"c{}\"],\"created\":\"2020-01-01T00:00:00Z\"}}\n",
            100_000 + (i * 7) % n,
            format!("{variant} body line with words {i} ").repeat(20),
            i % 13
        ));
    }
    out
}

fn build_command(site: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hindsight"));
    c.args(["build", "-q"])
        .current_dir(site)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn a_killed_build_leaves_the_previous_site_whole() {
    let (_dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[tracker]]\nname = \"bulk\"\npaths = [\"bulk.ndjson\"]\n"),
    )
    .unwrap();
    std::fs::write(site.join("bulk.ndjson"), bulk(3000, "first")).unwrap();
    let public = site.join("public");
    let staging = site.join(".public.hindsight-staging");

    let started = Instant::now();
    assert!(build_command(&site).status().unwrap().success());
    let full = started.elapsed();
    let mut previous = read_tree(&public);
    assert!(previous.contains_key("index.html"));
    assert!(previous.len() > 3000, "{} files", previous.len());

    // Every build from now on would change every issue page.
    std::fs::write(site.join("bulk.ndjson"), bulk(3000, "second")).unwrap();
    let mut killed = 0;
    let mut moments: Vec<Duration> = [5, 20, 100, 300]
        .into_iter()
        .map(Duration::from_millis)
        .collect();
    // ...and spread over the rest of a whole build, up to its very end.
    for f in [0.25, 0.5, 0.7, 0.85, 0.95, 1.0] {
        moments.push(full.mul_f64(f));
    }
    for (round, at) in moments.into_iter().enumerate() {
        if round % 2 == 1 {
            // Alternate the content, so a build that completes changes the site.
            let variant = if round % 4 == 1 { "third" } else { "second" };
            std::fs::write(site.join("bulk.ndjson"), bulk(3000, variant)).unwrap();
        }
        let mut child = build_command(&site).spawn().unwrap();
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some_and(|s| s.success());
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let now = read_tree(&public);
        if finished || status.success() {
            // The build won the race: the whole new site, never a mix.
            assert!(now.contains_key("index.html"));
            previous = now;
            continue;
        }
        killed += 1;
        // A journal left behind says the build succeeded: it may have been killed before it
        // moved a single file (while keeping its manifest), and the next build completes it.
        let succeeded = site.join(".public.hindsight-journal").exists();
        if now != previous || succeeded {
            // Killed after it succeeded: its journal is completed by the next build, and the
            // site is then whole, byte for byte what a clean build of the same inputs gives.
            assert!(
                succeeded || !staging.exists(),
                "killed after {at:?}: the site changed before the build succeeded"
            );
            assert!(build_command(&site).status().unwrap().success());
            let (_clean_dir, clean) = example();
            std::fs::copy(&config, clean.join("hindsight.toml")).unwrap();
            std::fs::copy(site.join("bulk.ndjson"), clean.join("bulk.ndjson")).unwrap();
            assert!(build_command(&clean).status().unwrap().success());
            assert!(
                read_tree(&public) == read_tree(&clean.join("public")),
                "killed after {at:?}: the site is not what a clean build gives"
            );
        }
        previous = read_tree(&public);
        assert!(
            std::fs::read_to_string(public.join("index.html"))
                .unwrap()
                .contains("</html>"),
            "index.html unreadable after a kill at {at:?}"
        );
    }
    assert!(
        killed >= 4,
        "only {killed} builds were killed before they finished"
    );

    // A later build succeeds and clears what the killed ones left.
    assert!(build_command(&site).status().unwrap().success());
    assert!(!staging.exists(), "the staging folder was left behind");
    let entries: Vec<String> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging") || n.contains("journal"))
        .collect();
    assert!(entries.is_empty(), "left behind: {entries:?}");
    let last = read_tree(&public);
    assert!(String::from_utf8_lossy(&last["index.html"]).contains("</html>"));
}
