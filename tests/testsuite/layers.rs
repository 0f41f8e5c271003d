//! The library's modules form a pipeline, and the code must show it: a module may use only the
//! modules before it in [`ORDER`] (and its own submodules), so there is no circle and no import
//! from a later stage back into an earlier one; `render/` does no I/O. This test reads the
//! `crate::` paths of every file under `src/` (outside comments and `#[cfg(test)]` modules) and
//! fails on any edge against the order, so the map in ARCHITECTURE.md stays true.

use std::collections::BTreeSet;
use std::path::Path;

/// The modules in pipeline order. The foundation first (used by every stage), then the stages
/// in the order data flows through them, then the commands that work on a built site.
const ORDER: &[&str] = &[
    // foundation
    "error",
    "model",
    "keys",
    "observe",
    "text",
    "store", // stages
    "config",
    "inputs",
    "import",
    "source",
    "link",
    "render",
    "search",
    "write",
    "backup",
    // commands beside the build
    "fingerprint",
    "check",
    "serve",
    "init",
    "fetch",
    "verify",
];

/// The top-level module a file of `src/` belongs to (`src/import/jira_xml.rs` → `import`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The code of a file without comments and without its `#[cfg(test)]` module (tests may reach
/// across stages to build their fixtures).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::name` a piece of code refers to, including `use crate::{a, b}` groups.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn modules_use_only_earlier_stages() {
    let src = crate::common::repo().join("src");
    let position = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut problems = Vec::new();
    for entry in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = entry.path().strip_prefix(&src).unwrap();
        let Some(module) = module_of(rel) else {
            continue;
        };
        let Some(own) = position(&module) else {
            problems.push(format!(
                "{}: module `{module}` is not in ORDER",
                rel.display()
            ));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(entry.path()).unwrap());
        for used in crate_refs(&code) {
            if used == module {
                continue;
            }
            match position(&used) {
                Some(p) if p < own => {}
                Some(_) => problems.push(format!(
                    "{}: `{module}` uses `crate::{used}`, a later stage",
                    rel.display()
                )),
                None => problems.push(format!(
                    "{}: `crate::{used}` is not a module in ORDER",
                    rel.display()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn render_does_no_io() {
    let render = crate::common::repo().join("src/render");
    let mut problems = Vec::new();
    for entry in walkdir::WalkDir::new(&render).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(entry.path()).unwrap());
        for forbidden in [
            "std::fs",
            "fs::",
            "File::",
            "File}",
            "OpenOptions",
            "read_dir",
            "walkdir",
            "std::io::Read",
            "std::io::Write",
        ] {
            if code.contains(forbidden) {
                problems.push(format!("{}: {forbidden}", entry.path().display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "render/ touches files:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_groups_and_ignores_comments() {
    let code = code_of("use crate::{model, text::escape};\n// crate::write\nfn f() { crate::keys::x() }\n#[cfg(test)]\nmod tests { use crate::render; }");
    let refs: Vec<_> = crate_refs(&code).into_iter().collect();
    assert_eq!(refs, ["keys", "model", "text"]);
}
