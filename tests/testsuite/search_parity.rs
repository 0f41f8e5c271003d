//! One query language, the same answer everywhere (issue #15): a table of queries of every
//! form is answered by the terminal's reader (`hindsight search`, the site's own index files)
//! and, through tests/browser/parity.mjs, by the search page in headless Chromium: opened cold
//! as a shared link (file:// and HTTP), typed, and submitted with Enter. The top ten keys and
//! their order must be the same in all of them, and so must each result's snippet (its text and
//! what is highlighted in it).

use std::path::Path;
use std::process::Command;

/// At least 60 queries of every form the language has.
const QUERIES: &[&str] = &[
    // words, prefixes while typing, compounds and function names
    "evict",
    "evict ",
    "evic",
    "lock",
    "lock cancel",
    "lock canc",
    "ldlm_lock_cancel",
    "ldlm_lock_cancel()",
    "osc_extent_wait",
    "osc_ext",
    "lproc_osc.c",
    "/proc/fs/lustre/osc",
    "-EIO",
    "rc = -2",
    "rc = -5",
    "mount",
    "MOUNT",
    "Mount Client",
    "client unable",
    "unable to mount",
    // pasted log lines
    "LustreError: 9999:0:(ldlm_lock.c:872:ldlm_lock_cancel()) ASSERTION( !lock->l_readers ) failed: lock ffff8800cafebabe",
    "mount.lustre: mount /dev/sdb at /mnt/mgs failed: No such file or directory",
    "Pid: 4312, comm: ldlm_bl_04",
    // phrases
    "\"lock cancel\"",
    "\"unable to mount\"",
    "\"unable to mount\" client",
    "\"lustre network driver\"",
    "\"rc = -2\"",
    "\"mount the MGS\"",
    "\"lock cancel",
    // positional phrases: adjacent and in order only; with words and a filter
    "\"cancel lock\"",
    "\"cancel lock request\"",
    "\"lock cancel\" ldlm status:open",
    "\"lock cancel\" contention",
    "\"callback timer\" -status:closed",
    "\"no such phrase anywhere\"",
    // a match deep in a 50 KB comment: the snippet is cut there
    "ofd_destroy_by_fid",
    "destroy failed",
    // filters of every field, alternatives, ranges
    "status:open",
    "lock status:open",
    "lock status:Open status:Closed",
    "project:LUDOC",
    "setstripe project:LUDOC",
    "type:bug lock",
    "component:osc",
    "component:osc counters",
    "fix:\"Lustre 2.15.0\"",
    "version:\"Lustre 2.12.0\"",
    "fix:2.15.0",
    "fix:2.15",
    "fix:2.15 counters",
    "fix:2.12 osc",
    "label:regression",
    "year:2016",
    "year:2014..2019 mount",
    "kind:commit",
    "kind:commit lock",
    "kind:issues mount",
    // keys and hashes
    "LU-1003",
    "lu-1003",
    "LU-99999",
    "LUDOC-17",
    "3f2a9c1",
    "3f2a9c1e0b7d4c6a8e9f0a1b2c3d4e5f60718293",
    "3f2a9c",
    "bug 12755",
    "Bug #12755",
    "b=12755",
    "BZ-12755",
    "bug 99999",
    // CJK and other scripts, case
    "文件系统",
    "系统",
    "ディスクエラー",
    "σφάλμα",
    "ΣΦΑΛΜΑ",
    "istanbul",
    "İstanbul",
    // odd input
    "",
    "   ",
    "!!!",
    "???..",
    "\"\"",
    // unknown or malformed filters
    "nosuchfield:x",
    "nosuchfield:x lock",
    "year:abc",
    "year:2015..",
    "http://jira.example.org/browse/LU-1001",
    // values no document has, exclusions, alternatives in one filter
    "component:oscc",
    "component:nothing-like-it lock",
    "lock -status:closed",
    "-status:open",
    "mount status:open,closed",
    "status:Re-opened",
];

/// The key a result shows in the page (commits by their first ten digits).
fn shown_key(r: &hindsight::search::client::SearchResult) -> String {
    if r.kind == "commit" {
        r.key.chars().take(10).collect()
    } else {
        r.key.clone()
    }
}

/// The search fixture site (3,000-odd documents) in a fresh folder: (folder, site).
fn fixture_site() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    crate::site::write_site(&site, crate::site::fixture_docs(), false);
    (dir, site)
}

#[test]
fn the_terminal_and_the_page_give_the_same_answers() {
    assert!(QUERIES.len() >= 60);
    let (dir, site) = fixture_site();

    let mut expected = Vec::new();
    for q in QUERIES {
        let answer = hindsight::search::query(&site, q, 10).unwrap();
        expected.push(serde_json::json!({
            "q": q,
            "keys": answer.results.iter().map(shown_key).collect::<Vec<_>>(),
            "snippets": answer.results.iter().map(|r| r.snippet.clone()).collect::<Vec<_>>(),
            "notes": answer.notes,
        }));
    }
    // What the language promises, checked on the terminal's side (the page must agree).
    let keys = |i: usize| expected[i]["keys"].as_array().unwrap().clone();
    let at = |q: &str| QUERIES.iter().position(|x| *x == q).unwrap();
    assert!(!keys(at("evict")).is_empty(), "the last word is a prefix");
    assert!(
        !keys(at("evic")).is_empty(),
        "a prefix finds its completions"
    );
    assert_eq!(keys(at("LU-1003"))[0], "LU-1003");
    assert!(keys(at("LU-99999")).is_empty());
    assert_eq!(
        expected[at("LU-99999")]["notes"][0],
        "LU-99999 is not in this archive"
    );
    assert!(expected[at("nosuchfield:x")]["notes"][0]
        .as_str()
        .unwrap()
        .contains("component"));
    assert_eq!(keys(at("3f2a9c1"))[0], "3f2a9c1e0b");
    assert_eq!(keys(at("ldlm_lock_cancel"))[0], "LU-1001");
    assert_eq!(
        expected[at("component:oscc")]["notes"][0],
        "no document has component \"oscc\"; did you mean osc?"
    );
    assert!(keys(at("-status:open")).len() == 10);
    // Bugzilla references reach the bug as its key does; a missing one is said to be.
    for q in ["bug 12755", "Bug #12755", "b=12755", "BZ-12755"] {
        assert_eq!(keys(at(q))[0], "BZ-12755", "{q}");
    }
    assert_eq!(
        expected[at("bug 99999")]["notes"][0],
        "bug 99999 is not in this archive"
    );
    // Versions typed bare find `Lustre 2.15.0`-style names.
    assert_eq!(keys(at("fix:2.15.0")), keys(at("fix:\"Lustre 2.15.0\"")));
    assert!(!keys(at("fix:2.15")).is_empty());
    assert_eq!(keys(at("fix:2.15 counters"))[0], "LU-1006");
    assert_eq!(keys(at("fix:2.12 osc"))[0], "LU-1002");

    // Quoted phrases: the words next to each other and in order, nowhere else.
    let has = |q: &str, k: &str| keys(at(q)).iter().any(|x| x == k);
    assert!(has("\"lock cancel\"", "LU-1001") && has("\"lock cancel\"", "3f2a9c1e0b"));
    for apart_or_reversed in ["LU-1008", "LU-1009"] {
        assert!(!has("\"lock cancel\"", apart_or_reversed));
        assert!(!has("\"lock cancel\" ldlm status:open", apart_or_reversed));
    }
    assert_eq!(keys(at("\"lock cancel\" ldlm status:open"))[0], "LU-1001");
    assert!(!has("\"lock cancel\" ldlm status:open", "3f2a9c1e0b"));
    assert!(has("\"cancel lock\"", "LU-1008") && !has("\"cancel lock\"", "LU-1001"));
    assert_eq!(keys(at("\"cancel lock request\"")), ["LU-1008"]);
    assert!(!has("\"lock cancel\" contention", "LU-1009"));
    // Three words: each pair is not enough, the words must stand in a row.
    assert!(has("\"unable to mount\"", "LU-1003"));
    assert!(!has("\"unable to mount\"", "LU-1010"));
    assert!(!has("\"unable to mount\" client", "LU-1010"));
    // …in the key, the title, the text, a component or a label.
    assert_eq!(keys(at("\"lustre network driver\"")), ["LU-1010"]);
    assert!(keys(at("\"no such phrase anywhere\"")).is_empty());
    // The snippet comes from where the words are, 50 KB into LU-1007's text.
    assert_eq!(keys(at("ofd_destroy_by_fid"))[0], "LU-1007");
    let deep = expected[at("ofd_destroy_by_fid")]["snippets"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        deep.contains("«ofd_destroy_by_fid»") && deep.starts_with('…'),
        "{deep}"
    );
    assert!(deep.chars().count() < 400, "{deep}");

    let file = dir.path().join("expected.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&expected).unwrap()).unwrap();
    crate::common::run_browser_script("parity.mjs", &[site.as_os_str(), file.as_os_str()]);
}

/// `hindsight search --site` on a copy of a site in another place, with no config and no
/// build cache: it reads the copy's own index files.
#[test]
fn the_terminal_searches_any_copy_of_a_site() {
    let (dir, site) = fixture_site();
    let copy = dir.path().join("usb-stick/archive");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    assert!(Command::new("cp")
        .arg("-r")
        .arg(&site)
        .arg(&copy)
        .status()
        .unwrap()
        .success());
    std::fs::remove_dir_all(&site).unwrap();

    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hindsight"))
            .arg("search")
            .arg("--site")
            .arg(&copy)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["--json", "osc_extent_wait"]);
    assert_eq!(code, Some(0), "{stdout}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["results"][0]["key"], "LU-1002");
    assert_eq!(answer["results"][0]["path"], "issues/LU/1/LU-1002.html");
    assert!(answer["results"][0]["snippet"]
        .as_str()
        .unwrap()
        .contains("«osc_extent_wait»"));
    let (code, stdout, stderr) = run(&["LU-99999"]);
    assert_eq!(code, Some(1), "nothing found is exit 1");
    assert!(stdout.contains("no matches"), "{stdout}");
    assert!(
        stderr.contains("LU-99999 is not in this archive"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["nosuchfield:lock", "lock"]);
    assert_eq!(code, Some(0));
    assert!(stderr.contains("not a filter"), "{stderr}");
    assert!(!Path::new(&dir.path().join("hindsight.toml")).exists());
    // A copy whose index another version of the format wrote: said so, not misread.
    let root = copy.join("search/root.js");
    let text = std::fs::read_to_string(&root).unwrap();
    std::fs::write(&root, text.replacen("{\"v\":3,", "{\"v\":2,", 1)).unwrap();
    let (code, _, stderr) = run(&["lock"]);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("search index of format 2, and this program reads format 3"),
        "{stderr}"
    );
}
