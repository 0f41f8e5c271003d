//! Relevance benchmark: nDCG@10 of the static index (what the site's search box and
//! `hindsight search --site` answer) beside tantivy's own `QueryParser` + BM25 over the same
//! documents, on a judged set of queries.
//!
//! ```sh
//! cargo run --example relevance -- --site content/public benches/relevance/example.tsv
//! ```
//!
//! The judgments file has one query a line: the query, a tab, then `KEY:GRADE` separated by
//! spaces (2 = the issue, 1 = related); `#` starts a comment line. Only issues count: commits in
//! either engine's results are skipped (the next issues move up), so both are scored on their
//! first ten issues.
//!
//! tantivy's side: `QueryParser` over the `title` and `body` fields (title boosted by
//! [`TITLE_WEIGHT`], as the static index weighs it), the build's analyzer, lenient parsing (a
//! syntax error drops that part of the query), BM25. Its index is built here, in memory, from
//! the site's own document and text shards (`search/d/`, `search/x/`): the title field holds
//! an issue's key and its title, the body its text, components and labels, as the tantivy index
//! the build kept in its cache before issue #19 did (the text is the one the site keeps, cut at
//! 64 KiB).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use hindsight::search::index::TITLE_WEIGHT;
use hindsight::search::tokenize::{
    TantivyPairTokenizer, TantivyTokenizer, PAIR_TOKENIZER_NAME, TOKENIZER_NAME,
};
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED};
use tantivy::{Index, TantivyDocument};

/// Results scored per query.
const K: usize = 10;
/// Results asked of each engine, so that ten issues remain once commits are skipped.
const ASK: usize = 100;

struct Judged {
    query: String,
    grades: HashMap<String, u32>,
}

fn main() -> Result<()> {
    let mut site = PathBuf::from("content/public");
    let mut file = PathBuf::from("benches/relevance/example.tsv");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--site" => site = args.next().context("--site DIR")?.into(),
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ => file = a.into(),
        }
    }
    let judged = read_judgments(&file)?;

    let (index, title, body, meta) = tantivy_index(&site)?;
    let mut parser = QueryParser::for_index(&index, vec![title, body]);
    parser.set_field_boost(title, TITLE_WEIGHT);
    let searcher = index.reader()?.searcher();

    println!(
        "{:<52} {:>6} {:>6}  first relevant (static / tantivy)",
        "query", "static", "tantivy"
    );
    let (mut sum_s, mut sum_t) = (0.0, 0.0);
    let (mut wins_s, mut wins_t) = (0, 0);
    for j in &judged {
        let ours: Vec<String> = hindsight::search::query(&site, &j.query, ASK)?
            .results
            .into_iter()
            .filter(|r| r.kind == "issue")
            .map(|r| r.key)
            .take(K)
            .collect();

        let (q, _errors) = parser.parse_query_lenient(&j.query);
        let mut theirs = Vec::new();
        for (_, addr) in searcher.search(&q, &TopDocs::with_limit(ASK).order_by_score())? {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let m: serde_json::Value = serde_json::from_str(
                doc.get_first(meta)
                    .and_then(|v| v.as_str())
                    .context("a document without its record")?,
            )?;
            if m["kind"] == 0 {
                theirs.push(m["key"].as_str().unwrap_or_default().to_string());
                if theirs.len() == K {
                    break;
                }
            }
        }

        let (s, t) = (ndcg(&ours, &j.grades), ndcg(&theirs, &j.grades));
        sum_s += s;
        sum_t += t;
        wins_s += usize::from(s > t + 1e-9);
        wins_t += usize::from(t > s + 1e-9);
        println!(
            "{:<52} {:>6.3} {:>6.3}  {} / {}{}",
            clip(&j.query, 52),
            s,
            t,
            first_relevant(&ours, &j.grades),
            first_relevant(&theirs, &j.grades),
            if (s - t).abs() > 1e-9 {
                if s > t {
                    "  static"
                } else {
                    "  tantivy"
                }
            } else {
                ""
            }
        );
    }
    let n = judged.len() as f64;
    println!(
        "\n{} queries, mean nDCG@{K}: static index {:.3}, tantivy QueryParser + BM25 {:.3} \
         (static better on {wins_s}, tantivy on {wins_t}, equal on {})",
        judged.len(),
        sum_s / n,
        sum_t / n,
        judged.len() - wins_s - wins_t
    );
    Ok(())
}

/// The data of one static index file (`hindsightSearch.load("id",DATA);`).
fn load(site: &std::path::Path, id: &str) -> Result<Option<serde_json::Value>> {
    let path = site.join(format!("search/{id}.js"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| path.display().to_string()),
    };
    let head = format!("hindsightSearch.load({},", serde_json::to_string(id)?);
    let data = text
        .trim_end()
        .strip_prefix(&head)
        .and_then(|t| t.strip_suffix(");"))
        .with_context(|| format!("{}: not a static index file", path.display()))?;
    Ok(Some(serde_json::from_str(data)?))
}

fn bucket(prefix: &str, i: usize) -> String {
    format!("{prefix}/{}/{}", i / 1000, i % 1000)
}

/// A tantivy index, in memory, of the site's documents: (index, title, body, meta).
fn tantivy_index(
    site: &std::path::Path,
) -> Result<(
    Index,
    tantivy::schema::Field,
    tantivy::schema::Field,
    tantivy::schema::Field,
)> {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let title = b.add_text_field("title", text.clone());
    let body = b.add_text_field("body", text);
    let meta = b.add_text_field("meta", STORED);
    let index = Index::create_in_ram(b.build());
    index
        .tokenizers()
        .register(TOKENIZER_NAME, TantivyTokenizer::default());
    index
        .tokenizers()
        .register(PAIR_TOKENIZER_NAME, TantivyPairTokenizer::default());
    let mut writer = index.writer(200_000_000)?;
    let mut texts: HashMap<u64, String> = HashMap::new();
    let mut shard = 0;
    while let Some(recs) = load(site, &bucket("d", shard))? {
        for (i, r) in recs
            .as_array()
            .context("a document shard")?
            .iter()
            .enumerate()
        {
            let ord = (shard * 8 + i) as u64;
            let r = r.as_array().context("a record")?;
            let (kind, key, name) = (r[0].as_u64(), r[1].as_str(), r[2].as_str());
            let x = r[7].as_u64().context("a text shard")? as usize;
            if !texts.contains_key(&ord) {
                let shard = load(site, &bucket("x", x))?.context("a text shard")?;
                let shard = shard.as_array().context("a text shard")?;
                let first = shard[0].as_u64().context("a text shard")?;
                for (j, t) in shard[1..].iter().enumerate() {
                    texts.insert(first + j as u64, t.as_str().unwrap_or_default().into());
                }
            }
            let mut doc = TantivyDocument::default();
            if kind == Some(0) {
                doc.add_text(title, key.unwrap_or_default());
            }
            doc.add_text(title, name.unwrap_or_default());
            doc.add_text(body, texts.remove(&ord).unwrap_or_default());
            for more in r.get(8).and_then(|m| m.as_array()).into_iter().flatten() {
                doc.add_text(body, more.as_str().unwrap_or_default());
            }
            doc.add_text(
                meta,
                serde_json::json!({"kind": kind, "key": key}).to_string(),
            );
            writer.add_document(doc)?;
        }
        shard += 1;
    }
    writer.commit()?;
    Ok((index, title, body, meta))
}

fn read_judgments(file: &PathBuf) -> Result<Vec<Judged>> {
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (query, keys) = line
            .split_once('\t')
            .with_context(|| format!("{}:{}: no tab", file.display(), n + 1))?;
        let mut grades = HashMap::new();
        for kg in keys.split_whitespace() {
            let (k, g) = kg
                .rsplit_once(':')
                .with_context(|| format!("{}:{}: {kg} is not KEY:GRADE", file.display(), n + 1))?;
            grades.insert(k.to_string(), g.parse()?);
        }
        if grades.values().all(|&g| g == 0) {
            bail!("{}:{}: no relevant issue", file.display(), n + 1);
        }
        out.push(Judged {
            query: query.to_string(),
            grades,
        });
    }
    Ok(out)
}

/// nDCG@K with gains 2^grade − 1 and the ideal ranking of all the query's judged issues.
fn ndcg(ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    let gain = |g: u32| f64::from((1u32 << g) - 1);
    let dcg: f64 = ranked
        .iter()
        .take(K)
        .enumerate()
        .map(|(i, k)| gain(grades.get(k).copied().unwrap_or(0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(K)
        .enumerate()
        .map(|(i, &g)| gain(g) / (i as f64 + 2.0).log2())
        .sum();
    // `+ 0.0`: an empty sum of floats is −0.0, which would print as "-0.000".
    dcg / idcg + 0.0
}

/// The rank (1-based) of the first relevant result, `-` when none is in the top K.
fn first_relevant(ranked: &[String], grades: &HashMap<String, u32>) -> String {
    ranked
        .iter()
        .position(|k| grades.get(k).is_some_and(|&g| g > 0))
        .map_or("-".into(), |i| (i + 1).to_string())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}
