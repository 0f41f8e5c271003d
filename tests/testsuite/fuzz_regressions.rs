//! Every input a fuzz target once failed on (`tests/fixtures/fuzz/<target>/`, the files
//! libFuzzer wrote), run through the target's own steps and checks (`fuzz/fuzz_targets/`), so
//! that what was found stays fixed without a nightly toolchain.

#[path = "../../fuzz/fuzz_targets/safe_html.rs"]
pub mod safe_html;

use crate::common::repo;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("tests/fixtures/fuzz").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

#[test]
fn markup_inputs_that_once_failed_render_safely() {
    for (_name, data) in inputs("markup") {
        safe_html::markup(&data);
    }
}

#[test]
fn github_inputs_that_once_failed_render_safely() {
    for (_name, data) in inputs("gfm") {
        safe_html::gfm(&data);
    }
}

/// Both inputs failed on the checker, not on hindsight: it split tags at spaces and took text
/// inside a quoted attribute value (` onload=…`) for an attribute. The checker now reads
/// attributes as the HTML tokenizer does; it must still catch what it is there for.
#[test]
fn the_checker_reads_attributes_as_a_browser_does() {
    let tags = safe_html::tags(r#"<a href="x onload=y" title='a > b'>t</a><img src=x onerror=y>"#);
    assert_eq!(tags[0].0, "a");
    assert_eq!(
        tags[0].1,
        [
            ("href".to_string(), "x onload=y".to_string()),
            ("title".to_string(), "a > b".to_string())
        ]
    );
    assert_eq!(tags[1].1[1], ("onerror".to_string(), "y".to_string()));
    let caught =
        |html: &str| std::panic::catch_unwind(|| safe_html::check("test", "", html)).is_err();
    assert!(caught("<img src=x onerror=alert(1)>"));
    assert!(caught(r#"<a href=" javascript:alert(1)">x</a>"#));
    assert!(caught("<script>alert(1)</script>"));
    assert!(!caught(
        r#"<a href="https://x.org/ onload=y" rel="nofollow">onload=1</a>"#
    ));
}
