//! The tokenizer vectors shared with the browser client (tests/browser/search.mjs checks the
//! same file against search.js).

use hindsight::search::tokenize::{tokenize, tokens};

#[test]
fn tokenizer_matches_the_shared_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/search/tokenizer-vectors.json"
    );
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let vectors = vectors.as_array().unwrap();
    assert!(vectors.len() >= 30);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let text = v["text"].as_str().unwrap();
        let want: Vec<(String, u64)> = v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t[0].as_str().unwrap().to_string(), t[1].as_u64().unwrap()))
            .collect();
        let got: Vec<(String, u64)> = tokens(text)
            .into_iter()
            .map(|t| (t.text, t.pos as u64))
            .collect();
        if got != want {
            failures.push(format!("{name}: {text:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn offsets_point_at_the_input() {
    let text = "Ｅrror in LDLM_lock.c: -EIO";
    tokenize(text, |t| {
        let src = &text[t.from..t.to];
        assert!(!src.is_empty(), "{t:?}");
    });
    let toks = tokens(text);
    let eio = toks.iter().find(|t| t.text == "-eio").unwrap();
    assert_eq!(&text[eio.from..eio.to], "-EIO");
    let path = toks.iter().find(|t| t.text == "ldlm_lock.c").unwrap();
    assert_eq!(&text[path.from..path.to], "LDLM_lock.c");
    assert_eq!(&text[toks[0].from..toks[0].to], "Ｅrror");
}

#[test]
fn megabyte_texts_stream() {
    let line = "LustreError: 12345:0:(ldlm_lock.c:1234:ldlm_lock_cancel()) ASSERTION( x ) failed\n";
    let text = line.repeat(20_000);
    let mut n = 0usize;
    let t0 = std::time::Instant::now();
    tokenize(&text, |_| n += 1);
    assert!(n > 20_000 * 15);
    assert!(t0.elapsed().as_secs() < 20);
    // One huge token-free run does not blow up.
    let blob = "ab/".repeat(400_000);
    let mut m = 0usize;
    tokenize(&blob, |_| m += 1);
    assert!(m > 0);
}
