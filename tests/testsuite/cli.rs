//! The command line: `serve` answers with the right MIME types on loopback, `init` gives a
//! config that builds, `check` fails on a broken link.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::common::*;

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn serve_answers_with_mime_types_and_index_pages() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    let (mut child, addr) = start_serve(&site, &["--port", "0", public.to_str().unwrap()]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let (head, body) = get(&addr, "/");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(body.contains("<h1>"), "{body}");
    let (head, _) = get(&addr, "/static/style.css");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/css"),
        "{head}"
    );
    let (head, _) = get(&addr, "/static/site.js");
    assert!(head.to_ascii_lowercase().contains("javascript"), "{head}");
    let (head, _) = get(&addr, "/issues/LU/4/LU-4423.json");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let (head, _) = get(&addr, "/../../etc/passwd");
    assert!(head.contains(" 404"), "{head}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Starts `hindsight serve` with `args` in `dir`; returns the child and its address.
fn start_serve(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hindsight"))
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr)
}

#[test]
fn serve_follows_the_configs_output_folder() {
    let (dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("output = \"public\"", "output = \"elsewhere\""),
    )
    .unwrap();
    build(&site).unwrap();
    assert!(site.join("elsewhere/index.html").is_file());
    // Given the config from another folder, and found as hindsight.toml in the current one.
    for (cwd, args) in [
        (
            dir.path(),
            vec!["--port", "0", "--config", "site/hindsight.toml"],
        ),
        (site.as_path(), vec!["--port", "0"]),
    ] {
        let (mut child, addr) = start_serve(cwd, &args);
        let (head, body) = get(&addr, "/about.html");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(head.contains(" 200"), "{args:?}: {head}");
        assert!(body.contains("About this archive"), "{body}");
    }
    // A site and a config at once is refused.
    let both = hindsight(&site, &["serve", "--config", "hindsight.toml", "elsewhere"]);
    assert_eq!(both.status.code(), Some(2), "{both:?}");
}

#[test]
fn init_writes_a_config_and_theme_that_build() {
    let dir = tempfile::tempdir().unwrap();
    let out = hindsight(dir.path(), &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("themes/templates/issue.html").is_file());
    // Point the starter config at the example export and build it with the copied theme.
    copy_tree(&repo().join("content/exports"), &dir.path().join("exports"));
    let marker = "<!-- edited theme -->";
    let base = dir.path().join("themes/templates/base.html");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(
        &base,
        text.replace("<main id=\"main\">", &format!("<main id=\"main\">{marker}")),
    )
    .unwrap();
    let out = hindsight(dir.path(), &["build", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let home = std::fs::read_to_string(dir.path().join("public/index.html")).unwrap();
    assert!(
        home.contains(marker),
        "the site's own template was not used"
    );
    // A second init refuses to overwrite.
    let again = hindsight(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn check_exits_non_zero_with_the_broken_links() {
    let (_dir, site) = example();
    build(&site).unwrap();
    let public = site.join("public");
    let ok = hindsight(&site, &["check", "public"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    std::fs::remove_file(public.join("about.html")).unwrap();
    let bad = hindsight(&site, &["check", "public"]);
    assert_eq!(bad.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(stdout.contains("about.html (no such file)"), "{stdout}");
}

#[test]
fn search_from_the_terminal_finds_issues_by_function_name_and_key() {
    let (_dir, site) = example();
    build(&site).unwrap();
    // The example's history has commits naming the function in their subject, which rank
    // first; among issues, LU-4423 does.
    let out = hindsight(&site, &["search", "ldlm_cancel_lru"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[commit]  LU-"), "{stdout}");
    assert!(stdout.contains("issues/LU/4/LU-4423.html"), "{stdout}");
    let out = hindsight(&site, &["search", "ldlm_cancel_lru", "kind:issue"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("LU-4423 ")),
        "{stdout}"
    );
    assert!(stdout.contains("issues/LU/4/LU-4423.html"), "{stdout}");

    let out = hindsight(&site, &["search", "--json", "--limit", "3", "LU-4423"]);
    assert!(out.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["results"][0]["key"], "LU-4423", "{answer}");

    // Without a config at hand, from the site folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let public = site.join("public");
    let out = hindsight(
        elsewhere.path(),
        &[
            "search",
            "--site",
            public.to_str().unwrap(),
            "status:open",
            "lnet",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
