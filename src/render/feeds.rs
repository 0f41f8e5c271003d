//! Atom feeds, the sitemap and robots.txt.
//!
//! Feeds list the most recently updated issues, for the whole archive and per project, so a
//! reader can follow a mirror. Their times are the issues' own (never the build's), so an
//! unchanged archive gives an unchanged feed. With a configured `base_url` every link is
//! absolute; without one, links are relative to the feed (Atom allows it) and the sitemap and
//! robots.txt, which need absolute addresses, are skipped with a note.

use crate::keys::compare_keys;
use crate::link::IssueSummary;
use crate::text::escape;

/// Entries per feed.
pub const FEED_ENTRIES: usize = 50;
/// URLs per sitemap file (the protocol's limit).
pub const SITEMAP_LIMIT: usize = 50_000;

/// The most recently updated issues, newest first (ties by key, so the order is stable).
pub fn recent<'a>(
    issues: impl Iterator<Item = &'a IssueSummary>,
    n: usize,
) -> Vec<&'a IssueSummary> {
    let newest = |a: &&IssueSummary, b: &&IssueSummary| {
        b.updated
            .cmp(&a.updated)
            .then_with(|| compare_keys(&a.key, &b.key))
    };
    let mut v: Vec<_> = issues.collect();
    // The `n` newest first, then only they in order (keys are unique: the order is total).
    if n == 0 {
        return Vec::new();
    }
    if v.len() > n {
        v.select_nth_unstable_by(n - 1, newest);
        v.truncate(n);
    }
    v.sort_by(newest);
    v
}

/// An Atom feed of issues. `feed_path` is the feed's site path; `base_url` the site's public
/// address, if known.
pub fn issues_feed(
    title: &str,
    feed_path: &str,
    base_url: Option<&str>,
    entries: &[&IssueSummary],
) -> String {
    let link = |site_path: &str| match base_url {
        Some(b) => format!("{}/{}", b.trim_end_matches('/'), site_path),
        None => format!("{}{}", super::root_of(feed_path), site_path),
    };
    let id = |site_path: &str| match base_url {
        Some(b) => format!("{}/{}", b.trim_end_matches('/'), site_path),
        None => format!("urn:hindsight:{}", site_path),
    };
    let updated = entries
        .iter()
        .filter_map(|e| e.updated)
        .max()
        .map(|t| t.rfc3339_utc())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    let mut out = String::with_capacity(512 + entries.len() * 400);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("  <title>{}</title>\n", escape(title)));
    out.push_str(&format!("  <id>{}</id>\n", escape(&id(feed_path))));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"{}\"/>\n",
        escape(&link(feed_path))
    ));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape(&link("index.html"))
    ));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str("  <generator>hindsight</generator>\n");
    for e in entries {
        let page = format!("{}.html", e.path());
        let when = e
            .updated
            .or(e.created)
            .map(|t| t.rfc3339_utc())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
        out.push_str("  <entry>\n");
        out.push_str(&format!(
            "    <title>[{}] {}</title>\n",
            escape(&e.key),
            escape(&e.summary)
        ));
        out.push_str(&format!("    <id>{}</id>\n", escape(&id(&page))));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            escape(&link(&page))
        ));
        out.push_str(&format!("    <updated>{when}</updated>\n"));
        if let Some(c) = e.created {
            out.push_str(&format!("    <published>{}</published>\n", c.rfc3339_utc()));
        }
        out.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            escape(&e.project)
        ));
        let status = e.status.as_deref().unwrap_or("");
        let resolution = e.resolution.as_deref().unwrap_or("Unresolved");
        out.push_str(&format!(
            "    <summary>{} · {} · {} comment{}</summary>\n",
            escape(status),
            escape(resolution),
            e.comments,
            if e.comments == 1 { "" } else { "s" }
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The sitemap files for `paths` (site paths), at `base_url`: one `sitemap.xml` when they fit,
/// else `sitemap.xml` as an index of `sitemap-N.xml` files. Returns (site path, bytes).
pub fn sitemaps(base_url: &str, paths: &[String]) -> Vec<(String, String)> {
    let base = base_url.trim_end_matches('/');
    let urlset = |chunk: &[String]| {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for p in chunk {
            s.push_str(&format!(
                "  <url><loc>{}/{}</loc></url>\n",
                escape(base),
                escape(p)
            ));
        }
        s.push_str("</urlset>\n");
        s
    };
    if paths.len() <= SITEMAP_LIMIT {
        return vec![("sitemap.xml".to_string(), urlset(paths))];
    }
    let mut files = Vec::new();
    let mut index = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (i, chunk) in paths.chunks(SITEMAP_LIMIT).enumerate() {
        let name = format!("sitemap-{}.xml", i + 1);
        index.push_str(&format!(
            "  <sitemap><loc>{}/{}</loc></sitemap>\n",
            escape(base),
            name
        ));
        files.push((name, urlset(chunk)));
    }
    index.push_str("</sitemapindex>\n");
    files.insert(0, ("sitemap.xml".to_string(), index));
    files
}

/// robots.txt: everything may be crawled; the sitemap is named.
pub fn robots(base_url: &str) -> String {
    format!(
        "User-agent: *\nAllow: /\nSitemap: {}/sitemap.xml\n",
        base_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_issues_come_first_ties_by_key() {
        let t = |s: &str| {
            Some(crate::model::Timestamp(
                chrono::DateTime::parse_from_rfc3339(s).unwrap(),
            ))
        };
        let issues: Vec<IssueSummary> = (0..50)
            .map(|i| {
                let mut s = IssueSummary::bare(&format!("LU-{}", (i * 37) % 50), "jira");
                s.updated = match i % 4 {
                    0 => None,
                    k => t(&format!("2020-0{k}-01T00:00:00+00:00")),
                };
                s
            })
            .collect();
        let mut all: Vec<&IssueSummary> = issues.iter().collect();
        all.sort_by(|a, b| {
            b.updated
                .cmp(&a.updated)
                .then_with(|| compare_keys(&a.key, &b.key))
        });
        let keys = |v: &[&IssueSummary]| v.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
        for n in [0, 1, 7, 20, 50, 80] {
            let got = recent(issues.iter(), n);
            assert_eq!(keys(&got), keys(&all[..n.min(50)]), "n = {n}");
        }
    }

    #[test]
    fn a_large_site_gets_a_sitemap_index() {
        let paths: Vec<String> = (0..SITEMAP_LIMIT + 1)
            .map(|i| format!("p{i}.html"))
            .collect();
        let files = sitemaps("https://archive.example.org/", &paths);
        assert_eq!(files.len(), 3);
        assert!(files[0].1.contains("<sitemapindex"));
        assert!(files[0]
            .1
            .contains("https://archive.example.org/sitemap-2.xml"));
        assert_eq!(files[2].1.matches("<url>").count(), 1);
        let small = sitemaps("https://a.org", &paths[..2]);
        assert_eq!(small.len(), 1);
        assert!(small[0].1.contains("<loc>https://a.org/p1.html</loc>"));
    }
}
