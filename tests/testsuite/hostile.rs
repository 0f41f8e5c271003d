//! Hostile input (tests/fixtures/hostile, one export per format, written by its generate.py):
//! script payloads in every field, restricted items carrying `SECRET-HOSTILE-*` markers, e-mail
//! addresses beside LNet NIDs, and keys and attachment names that try to escape the output or
//! collide on case-insensitive file systems; and a git repository built here whose commit
//! messages, identities, trailers, tag and branch names and file paths carry the same payloads
//! and cite the hostile issues. The site built from it must run no payload (here
//! checked on the bytes; tests/browser/hostile.mjs checks it in Chromium), publish nothing
//! restricted and no address, and write only safe, distinct paths inside the output folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::fuzz_regressions::safe_html::tags;
use crate::git_fixture::Repo;

const CONFIG: &str = r#"title = "Hostile archive <script>window.__pwned=1</script> {{ 7*7 }}"
output = "public"

[[tracker]]
name = "jira"
paths = ["exports/jira.xml", "exports/jira.json"]

[[tracker]]
name = "bugzilla"
key_prefix = "BZ"
paths = ["exports/bugzilla.xml", "exports/bugzilla.json"]

[[tracker]]
name = "github"
key_prefix = "GH"
paths = ["exports/github.json"]

[[tracker]]
name = "neutral"
paths = ["exports/neutral.ndjson"]

[[repository]]
path = "exports/repo"
gerrit_url = "https://review.whamcloud.com"
# Unanchored, so tags with a payload around a version are releases (aliases of 2.1.0, 3.0.0).
release_tags = ['(\d+)[.](\d+)[.](\d+)']
"#;

/// The fixture's text payload (`TEXT` in generate.py).
const TEXT: &str = "<script>window.__pwned=1</script>\"><img src=x onerror=window.__pwned=1>'\"><svg onload=window.__pwned=1> javascript:window.__pwned=1 {{7*7}} ${window.__pwned=1} \u{202e}exe.txt";

/// Markup payloads for commit messages and file contents (part of `HTML` in generate.py).
const HTML: &str = "<a href=\"javascript:window.__pwned=1\">js</a><a href=\"JaVaScRiPt&#58;window.__pwned=1\">js2</a><iframe src=\"javascript:window.__pwned=1\"></iframe><img src=\"http://evil.invalid/beacon.png\"><meta http-equiv=\"refresh\" content=\"0;url=http://evil.invalid/\"><base href=\"http://evil.invalid/\"></textarea></title></style></script><script>window.__pwned=1</script><div style=\"background:url(http://evil.invalid/bg.png)\">css</div> {% raw %} `${1}`";

/// Payloads that are legal git ref names (no space, `:`, `?`, `*`, `[`, `\\`, `~`, `^`, `..`
/// or `@{`), used as tag and branch names.
const REF_NAMES: &[&str] = &[
    "\"><script>window.__pwned=1</script>",
    "'><img/src=x/onerror=window.__pwned=1>",
    "<svg/onload=window.__pwned=1>",
    "javascript&#58;window.__pwned=1",
    "javascript%3Awindow.__pwned=1",
    "${window.__pwned=1}{{7+7}}",
];

/// File names carrying payloads (the diff view and diffstat show paths).
const FILE_NAMES: &[&str] = &[
    "<img src=x onerror=window.__pwned=1>.c",
    "\"><svg onload=window.__pwned=1>.h",
    "javascript:window.__pwned=1",
    "{{7*7}}/${window.__pwned=1}'><script>window.__pwned=1<",
    "lustre/</textarea><script>window.__pwned=1<",
];

/// A repository at `dir` whose commit messages, identities, trailers, tag and branch names and
/// file paths carry the payloads, citing the published hostile issues (LU-1, LJ-1, LJ-4,
/// BZ-101, BZ-201, GH-1, ND-1) and restricted ones (LU-3, LJ-3, ND-3).
fn hostile_repo(dir: &Path) {
    let mut r = Repo::init(dir);
    let mailmap = "&lt;script&gt;window.__pwned=1&lt;/script&gt; '\" javascript:window.__pwned=1 {{7*7}} ${window.__pwned=1} <mallory@example.com>\n";
    let contents = format!("{TEXT}\n{HTML}\n");
    let mut files: Vec<(&str, &str)> = FILE_NAMES.iter().map(|n| (*n, contents.as_str())).collect();
    files.push((".mailmap", mailmap));
    r.commit(&format!("LU-1 {TEXT}\n\n{HTML}\n"), &files);
    let changed = format!("{HTML}\n{TEXT}\nchanged\n");
    let files: Vec<(&str, &str)> = FILE_NAMES.iter().map(|n| (*n, changed.as_str())).collect();
    let cites = r.commit_as(
        &format!(
            "LJ-1 {TEXT}\n\n{HTML}\nFixes LJ-4, BZ-101, BZ-201, GH-1, ND-1 and the restricted LU-3, LJ-3, ND-3.\nb=101\nSee https://evil.invalid/\"><script>window.__pwned=1</script> and javascript:window.__pwned=1.\n\nSigned-off-by: {TEXT} <mallory@example.com>\nReviewed-on: javascript:window.__pwned=1\nReviewed-by: \"><img src=x onerror=window.__pwned=1> <x@example.com>\nChange-Id: I\"><script>window.__pwned=1</script>\nLustre-commit: \"><svg onload=window.__pwned=1>\n"
        ),
        &files,
        Some(("\"' javascript:window.__pwned=1 {{7*7}}", "mallory@example.com")),
    );
    for name in REF_NAMES {
        r.git(&["tag", name, &cites]);
    }
    r.git(&["tag", "2.1.0", &cites]);
    r.git(&["tag", "<svg/onload=window.__pwned=1>2.1.0", &cites]);
    // An identity git's own commands would clean (`<` and `>` in names and e-mails), written
    // as it is, with an unknown header.
    let head = r.git(&["rev-parse", "HEAD"]);
    let headers = format!(
        "author {name} <\"><svg onload=window.__pwned=1>@example.com> {t} +0200\ncommitter \"><img src=x onerror=window.__pwned=1> <mallory@example.com> {t} -0330\nencoding <script>window.__pwned=1</script>\n",
        name = TEXT,
        t = r.clock
    );
    let raw = r.write_commit_with(
        &[&head],
        headers.as_bytes(),
        format!("GH-1 ND-1 BZ-201 {TEXT}\n\n{HTML}\n").as_bytes(),
        "master",
    );
    r.git_env(
        &[
            "tag",
            "-a",
            "\"><img/src=x/onerror=window.__pwned=1>3.0.0",
            "-m",
            &format!("{TEXT}\n\n{HTML}"),
            &raw,
        ],
        &[(
            "GIT_COMMITTER_NAME",
            "\"' javascript:window.__pwned=1 {{7*7}}",
        )],
    );
    r.git(&["tag", "3.0.0", &raw]);
    // Branches with payload names, each with a commit of its own citing an issue.
    for (i, name) in REF_NAMES.iter().enumerate() {
        r.git(&["checkout", "-q", "-b", name, &cites]);
        r.commit(
            &format!("ND-1 LU-1 {name}\n\n{TEXT}\n"),
            &[(FILE_NAMES[i % FILE_NAMES.len()], name)],
        );
    }
    r.git(&["checkout", "-q", "master"]);
}

/// Payloads as they would appear in a page if a field reached it unescaped (lower case); an
/// `onerror=` in escaped text is inert, so each starts with its `<`.
const RAW_PAYLOADS: &[&str] = &[
    "<script>window",
    "<img src=x onerror",
    "<img/src=x/onerror",
    "<svg onload",
    "<svg/onload",
    "</textarea><script",
];

/// Builds the hostile site; returns the temp folder, the site folder and the build report.
fn hostile() -> (tempfile::TempDir, PathBuf, hindsight::BuildReport) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let exports = site.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    for entry in std::fs::read_dir(repo().join("tests/fixtures/hostile")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e != "py") {
            std::fs::copy(&path, exports.join(path.file_name().unwrap())).unwrap();
        }
    }
    hostile_repo(&exports.join("repo"));
    std::fs::write(site.join("hindsight.toml"), CONFIG).unwrap();
    let report = build(&site).unwrap();
    (dir, site, report)
}

/// Files a browser parses as markup. Search shards (`search/**.js`) are external classic
/// scripts whose data is inside string literals, where `<script>` is inert; the browser test
/// runs them.
fn is_markup(path: &str) -> bool {
    [".html", ".atom", ".xml", ".svg"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Decodes the character references a browser would decode in an attribute, enough to see a
/// scheme spelled `java&#115;cript&#58;`.
fn decode_attr(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').unwrap_or(0);
        let ent = &rest[1..end.max(1)];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "colon" => Some(':'),
            "Tab" => Some('\t'),
            "NewLine" => Some('\n'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) if end > 0 => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

#[test]
fn no_payload_survives_as_markup() {
    let (_dir, site, _) = hostile();
    let files = read_tree(&site.join("public"));
    let own_script = regex::Regex::new(r#"^(\.\./)*static/[a-z0-9_-]+\.js$"#).unwrap();
    let mut pages = 0;
    for (path, bytes) in &files {
        if !is_markup(path) || path.starts_with("static/") {
            continue;
        }
        let text = String::from_utf8(bytes.clone()).unwrap();
        pages += 1;
        // Template syntax reached the page as text, never evaluated.
        assert!(!text.contains(">49<"), "{path}: a template expression ran");
        // The payloads as written never appear unescaped, whatever the tag parser below makes
        // of them.
        let lower = text.to_ascii_lowercase();
        for raw in RAW_PAYLOADS {
            assert!(
                !lower.contains(raw),
                "{path}: raw {raw:?} in the output: {}",
                {
                    let p = lower.find(raw).unwrap();
                    &text[p.saturating_sub(80)..(p + 80).min(text.len())]
                }
            );
        }
        for (tag, attrs) in tags(&text) {
            let attr = |n: &str| attrs.iter().find(|(a, _)| a == n).map(|(_, v)| v.as_str());
            assert!(
                !["iframe", "object", "embed", "base", "frame", "frameset", "applet", "math"]
                    .contains(&tag.as_str()),
                "{path}: <{tag}> in the output"
            );
            if tag == "script" {
                let src = attr("src").unwrap_or("");
                // The site's own scripts, and a listing's own data file beside it (`rows.js`,
                // see render/listings.rs); `defer` is the only other attribute.
                let own =
                    own_script.is_match(src) || src == "rows.js" && path.starts_with("lists/");
                assert!(
                    own && attrs.iter().all(|(a, _)| a == "src" || a == "defer"),
                    "{path}: a <script> that is not the site's own: {attrs:?}"
                );
            }
            if tag == "meta" {
                let equiv = attr("http-equiv").unwrap_or("").to_ascii_lowercase();
                assert!(
                    equiv.is_empty() || equiv == "content-security-policy" || equiv == "refresh",
                    "{path}: meta {equiv}"
                );
                if equiv == "refresh" {
                    let content = decode_attr(attr("content").unwrap_or(""));
                    assert!(
                        !content.contains("evil") && !content.contains(':'),
                        "{path}: {content}"
                    );
                }
            }
            if tag == "form" {
                let action = decode_attr(attr("action").unwrap_or(""));
                assert!(
                    !action.contains(':') && !action.starts_with("//"),
                    "{path}: form {action}"
                );
            }
            for (name, value) in &attrs {
                assert!(!name.starts_with("on"), "{path}: <{tag} {name}=...>");
                let v = decode_attr(value);
                if [
                    "href",
                    "src",
                    "action",
                    "formaction",
                    "xlink:href",
                    "data",
                    "poster",
                    "srcset",
                    "background",
                ]
                .contains(&name.as_str())
                {
                    for scheme in ["javascript:", "vbscript:", "livescript:", "data:text"] {
                        assert!(!v.starts_with(scheme), "{path}: <{tag} {name}={value:?}>");
                    }
                    // Nothing loads from elsewhere by itself.
                    if name != "href" || tag == "link" {
                        assert!(
                            !v.contains("//"),
                            "{path}: <{tag} {name}={value:?}> loads from outside the site"
                        );
                    }
                }
                if name == "style" {
                    assert!(
                        !v.contains("expression(") && !v.contains("url("),
                        "{path}: style {value:?}"
                    );
                }
            }
        }
    }
    assert!(pages > 20, "only {pages} pages checked");
    // Every issue page carries a Content-Security-Policy that forbids inline scripts.
    for (path, bytes) in &files {
        if path.ends_with(".html") && path.starts_with("issues/") {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                text.contains("http-equiv=\"Content-Security-Policy\"")
                    && text.contains("script-src 'self'"),
                "{path} has no CSP"
            );
        }
    }
}

/// The repository's payloads reach every kind of page (commit pages, the commits, branch and
/// release listings, issue pages' development panel), the search shards and the issue JSON,
/// as text: the checks above and the browser test then cover them.
#[test]
fn git_payloads_are_published_as_text() {
    let (_dir, site, report) = hostile();
    assert_eq!(report.git.commits, 9, "{:?}", report.git);
    assert_eq!(report.git.releases, 2, "{:?}", report.git);
    let files = read_tree(&site.join("public"));
    let page = |rel: &str| {
        String::from_utf8(files.get(rel).unwrap_or_else(|| panic!("no {rel}")).clone()).unwrap()
    };
    let commit_pages: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("commits/") && p.split('/').count() == 3)
        .filter(|p| !p.starts_with("commits/branch/"))
        .collect();
    assert_eq!(commit_pages.len(), 9, "{commit_pages:?}");
    // Names are links to their people's pages: the text is what is checked.
    let person_link = regex::Regex::new(r#"<a class="person" href="[^"]*">([^<]*)</a>"#).unwrap();
    let all_commits: String = commit_pages
        .iter()
        .map(|p| person_link.replace_all(&page(p), "$1").into_owned())
        .collect();
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    // Messages, identities (cleaned by git, and written raw), the mailmap's name, trailers,
    // tags, branches and paths, each as text.
    for shown in [
        escaped(TEXT),
        escaped(&format!("{TEXT} <\">")),
        escaped("&lt;script&gt;window.__pwned=1&lt;/script&gt; '\" javascript:window.__pwned=1"),
        escaped("\"><img src=x onerror=window.__pwned=1> <x@…>"),
        escaped("<a href=\"javascript:window.__pwned=1\">js</a>"),
    ]
    .into_iter()
    .chain(REF_NAMES.iter().map(|n| escaped(n)))
    .chain(FILE_NAMES.iter().map(|n| escaped(n)))
    {
        assert!(all_commits.contains(&shown), "no commit page shows {shown}");
    }
    // Listings: all commits, each payload-named branch, the releases and their tag aliases.
    let commits = page("commits/index.html");
    assert!(commits.contains(&escaped(TEXT)), "{commits}");
    let branches: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("commits/branch/") && p.ends_with("/index.html"))
        .collect();
    assert_eq!(branches.len(), REF_NAMES.len() + 1, "{branches:?}");
    let branch_pages: String = branches.iter().map(|p| page(p)).collect();
    for name in REF_NAMES {
        assert!(
            branch_pages.contains(&escaped(name)),
            "no branch page names {name}"
        );
    }
    let releases = page("releases/index.html") + &page("releases/2.1.0/index.html");
    assert!(
        releases.contains(&escaped("<svg/onload=window.__pwned=1>2.1.0")),
        "{releases}"
    );
    assert!(page("releases/3.0.0/index.html")
        .contains(&escaped("\"><img/src=x/onerror=window.__pwned=1>3.0.0")));
    // The cited issues list the commits, subject included, in their development panel.
    for issue in [
        "issues/LU/0/LU-1.html",
        "issues/LJ/0/LJ-1.html",
        "issues/GH/0/GH-1.html",
        "issues/ND/0/ND-1.html",
        "issues/BZ/0/BZ-201.html",
    ] {
        let text = page(issue);
        assert!(
            text.contains("commits dev") && text.contains(&escaped(TEXT)),
            "{issue} lists no commit"
        );
    }
    // Search shards are `hindsightSearch.load("id", data);` with the data JSON: no payload
    // ends a string literal early. Commits are indexed with their payloads.
    let mut commit_docs = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("search/")) {
        let text = std::str::from_utf8(bytes).unwrap();
        let args = text
            .trim_end()
            .strip_prefix("hindsightSearch.load(")
            .and_then(|t| t.strip_suffix(");"))
            .unwrap_or_else(|| panic!("{path} is not one load() call"));
        let args: Vec<serde_json::Value> = serde_json::from_str(&format!("[{args}]"))
            .unwrap_or_else(|e| panic!("{path}: the arguments are not JSON: {e}"));
        assert_eq!(args.len(), 2, "{path}");
        assert!(
            !text.contains('\u{2028}') && !text.contains('\u{2029}'),
            "{path}"
        );
        if path.starts_with("search/d/") {
            for doc in args[1].as_array().unwrap() {
                if doc[0] == 1 && doc[2].as_str().is_some_and(|t| t.contains(TEXT)) {
                    commit_docs += 1;
                }
            }
        }
    }
    assert!(
        commit_docs >= 3,
        "{commit_docs} commits with payloads indexed"
    );
    // The issue JSON of every cited issue is well-formed and its own.
    for (path, bytes) in files
        .iter()
        .filter(|(p, _)| p.starts_with("issues/") && p.ends_with(".json"))
    {
        let issue: serde_json::Value =
            serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        let stem = path.rsplit('/').next().unwrap().trim_end_matches(".json");
        assert_eq!(issue["key"], stem, "{path}");
    }
}

#[test]
fn nothing_restricted_and_no_address_is_published() {
    let (_dir, site, report) = hostile();
    let files = read_tree(&site.join("public"));
    let mut nids = 0;
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("SECRET-HOSTILE"),
            "{path} leaks a restricted item: {}",
            {
                let p = text.find("SECRET-HOSTILE").unwrap();
                &text[p..(p + 40).min(text.len())]
            }
        );
        for domain in ["example.com", "example.org"] {
            assert!(
                !text.contains(domain),
                "{path} publishes an address at {domain}"
            );
        }
        if text.contains("192.168.1.7@tcp") && text.contains("10.0.0.1@o2ib1") {
            nids += 1;
            assert!(text.contains("root@oss1"), "{path}: user@host was changed");
        }
    }
    assert!(nids >= 5, "NIDs were not kept as written ({nids} files)");
    assert!(report.import.restricted_issues >= 5, "{:?}", report.import);
    assert!(
        report.import.restricted_comments >= 10,
        "{:?}",
        report.import
    );
    assert!(
        report.import.restricted_attachments >= 3,
        "{:?}",
        report.import
    );
}

/// Windows device names, which no folder may hold whatever the extension.
fn reserved(component: &str) -> bool {
    let stem = component
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        stem.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit())
}

#[test]
fn paths_are_safe_distinct_and_inside_the_output() {
    let (dir, site, report) = hostile();
    let public = site.join("public");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&public) {
        let entry = entry.unwrap();
        assert!(!entry.path_is_symlink(), "{}", entry.path().display());
        let rel = entry.path().strip_prefix(&public).unwrap();
        let rel = rel.to_str().expect("paths are UTF-8");
        if rel.is_empty() {
            continue;
        }
        for c in rel.split('/') {
            assert!(
                c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)),
                "unsafe characters in {rel:?}"
            );
            assert!(!c.is_empty() && c != "." && c != "..", "{rel:?}");
            assert!(!c.ends_with('.') && !c.ends_with(' '), "{rel:?}");
            assert!(c.len() <= 255, "{rel:?}");
            assert!(!reserved(c), "Windows-reserved name in {rel:?}");
        }
        // Fits under Windows' 260 once copied below a folder such as `E:\\archive\\public\\`.
        assert!(rel.len() <= 150, "{} characters: {rel}", rel.len());
        if let Some(other) = seen.insert(rel.to_lowercase(), rel.to_string()) {
            panic!("{rel} and {other} differ only in case");
        }
    }
    // Nothing beside the site folder, nowhere else on the disk.
    let beside: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, BTreeSet::from(["site".to_string()]));
    let mut top: Vec<String> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [".hindsight-cache", "exports", "hindsight.toml", "public"],
        "something was written beside the output"
    );
    assert!(!Path::new("/tmp/hindsight-pwned.txt").exists());
    // Attachments, when published, keep every name apart.
    let attachments = public.join("attachments");
    if attachments.is_dir() {
        let names = walkdir::WalkDir::new(&attachments)
            .into_iter()
            .filter(|e| e.as_ref().unwrap().file_type().is_file())
            .count();
        assert!(names >= 10, "only {names} attachment files");
        // An attachment a browser would run (evil.html, evil.svg) is published as text.
        for entry in walkdir::WalkDir::new(&attachments) {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            for ext in [".html", ".htm", ".xhtml", ".svg", ".xml", ".js", ".hta"] {
                assert!(!name.ends_with(ext), "{}", entry.path().display());
            }
        }
    }
    // Keys that are not PROJECT-123 shaped are skipped with a warning naming them.
    let warned: Vec<&str> = report
        .import
        .warnings
        .iter()
        .filter_map(|w| w.key.as_deref())
        .collect();
    for key in [
        "../../etc/passwd",
        "LU-1/../../x",
        "/abs/LU-4",
        "CON",
        "lu-1",
        "con",
        "aux",
        "NUL.txt",
        "Nd-1",
        "LJ-5\u{0}",
        "LJ\u{7}-6",
        "C:\\LJ-7",
        "A<B>:\"|?*\\-1",
    ] {
        assert!(
            warned.contains(&key),
            "no warning for key {key:?}: {warned:?}"
        );
    }
    // ...and with the page for LU-1 only once.
    assert!(public.join("issues/LU/0/LU-1.html").is_file());
}

/// One browser at a time (tests/browser.rs holds its own lock in another process: the browser
/// tests of this file run in this binary only).

#[test]
fn no_payload_runs_in_a_browser() {
    let (_dir, site, _) = hostile();
    let public = site.join("public");
    crate::common::run_browser_script("hostile.mjs", &[public.as_os_str()]);
}
