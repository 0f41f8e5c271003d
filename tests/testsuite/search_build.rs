//! The search index: a deterministic export with bounded files, and the terminal's search.

use crate::site::{fixture_docs, MemSink};
use hindsight::search::{self, SearchDoc};

fn build(docs: Vec<SearchDoc>) -> (MemSink, search::SearchReport) {
    let sink = MemSink::default();
    let report = search::build(docs.into_iter(), &sink, &Default::default()).unwrap();
    (sink, report)
}

#[test]
fn export_is_deterministic_and_bounded() {
    let (a, ra) = build(fixture_docs());
    let mut docs = fixture_docs();
    docs.reverse();
    let (b, rb) = build(docs);
    let a = a.0.into_inner().unwrap();
    let b = b.0.into_inner().unwrap();
    assert_eq!(ra, rb);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(b[k] == *v, "{k} differs between builds");
    }
    assert_eq!(ra.docs, fixture_docs().len() as u64);
    assert!(ra.root_bytes < 8_000, "root.js is {} bytes", ra.root_bytes);
    assert!(
        ra.max_file_bytes < 64_000,
        "largest file {} bytes",
        ra.max_file_bytes
    );
    for (path, bytes) in &a {
        assert!(
            path.starts_with("search/") && path.ends_with(".js"),
            "{path}"
        );
        let id = &path["search/".len()..path.len() - 3];
        let head = format!(
            "hindsightSearch.load({},",
            serde_json::to_string(id).unwrap()
        );
        assert!(bytes.starts_with(head.as_bytes()), "{path}");
    }
    assert_eq!(a.len() as u64, ra.files);
}

#[test]
fn empty_index_exports() {
    let (sink, r) = build(vec![]);
    assert_eq!(r.docs, 0);
    let files = sink.0.into_inner().unwrap();
    assert!(files.contains_key("search/root.js"));
    assert!(files.contains_key("search/l/empty.js"));
}

#[test]
fn terminal_search_finds_the_expected_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    crate::site::write_site(&site, fixture_docs(), false);
    let first = |q: &str| {
        let hits = search::query(&site, q, 5).unwrap().results;
        assert!(!hits.is_empty(), "no hit for {q}");
        hits[0].key.clone()
    };
    assert_eq!(first("ldlm_lock_cancel"), "LU-1001");
    assert_eq!(first("osc_extent_wait"), "LU-1002");
    assert_eq!(first("-EIO osc_extent_wait"), "LU-1002");
    assert_eq!(first("\"unable to mount\""), "LU-1003");
    assert_eq!(first("LU-1003"), "LU-1003");
    assert_eq!(first("3f2a9c1"), "3f2a9c1e0b7d4c6a8e9f0a1b2c3d4e5f60718293");
    assert_eq!(first("文件系统"), "LU-1005");
    assert_eq!(first("σφάλμα"), "LU-1005");
    assert_eq!(first("ISTANBUL"), "LU-1005");
    assert_eq!(first("lproc_osc.c"), "LU-1006");
    assert_eq!(first("setstripe project:LUDOC"), "LUDOC-17");
    assert_eq!(
        first("LustreError: 9999:0:(ldlm_lock.c:872:ldlm_lock_cancel()) ASSERTION( !lock->l_readers ) failed: lock ffff8800cafebabe"),
        "LU-1001"
    );
    let open = search::query(&site, "lock status:open", 20)
        .unwrap()
        .results;
    assert!(!open.is_empty());
    assert!(
        open.iter().all(|h| h.status.as_deref() == Some("Open")),
        "{open:?}"
    );
    let hit = &search::query(&site, "osc_extent_wait", 1).unwrap().results[0];
    assert!(hit.snippet.contains("«osc_extent_wait»"), "{}", hit.snippet);
    assert_eq!(hit.path, "issues/LU/1/LU-1002.html");
}

#[test]
fn restricted_content_never_reaches_the_index() {
    use hindsight::model::{Comment, Issue, Markup, Text, Visibility};
    let mut issue = Issue {
        key: "LU-77".into(),
        summary: "public summary".into(),
        description: Some(Text::new(Markup::Html, "<p>visible &amp; fine</p>")),
        ..Issue::default()
    };
    issue.comments = vec![
        Comment {
            body: Text::new(Markup::Plain, "open words"),
            ..Comment::default()
        },
        Comment {
            body: Text::new(Markup::Plain, "RESTRICTED-MARKER secret words"),
            visibility: Visibility::Role("Developers".into()),
            ..Comment::default()
        },
    ];
    let doc = search::docs::issue_doc(&issue, "issues/LU/0/LU-77.html").unwrap();
    let mut hidden = issue.clone();
    hidden.key = "LU-78".into();
    hidden.summary = "RESTRICTED-MARKER issue".into();
    hidden.visibility = Visibility::SecurityLevel("Private".into());
    assert!(search::docs::issue_doc(&hidden, "x.html").is_none());
    assert!(doc.body.iter().any(|b| b.contains("visible & fine")));
    let (sink, _) = build(vec![doc]);
    for (path, bytes) in sink.0.into_inner().unwrap() {
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.to_lowercase().contains("restricted"), "{path}");
        assert!(!text.contains("secret"), "{path}");
    }
}

#[test]
fn streaming_build_equals_iterator_build() {
    let (a, ra) = build(fixture_docs());
    let b = MemSink::default();
    let rb = search::build_streaming(
        &b,
        &Default::default(),
        |_| None,
        |d| Ok(Some(d)),
        |emit| {
            for d in fixture_docs() {
                emit(d);
            }
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(ra, rb);
    assert!(a.0.into_inner().unwrap() == b.0.into_inner().unwrap());
}
