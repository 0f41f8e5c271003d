//! Listings' data files (`lists/<facet>/<value>/rows.js`, read by listing.js): one beside every
//! listing of the example, holding the listing's issues in the order its built pages show
//! them, with the names and links the pages show.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

/// The object a data file assigns to `window.hindsightListing`.
fn data_file(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text
        .strip_prefix("window.hindsightListing=")
        .and_then(|t| t.strip_suffix(";\n"))
        .unwrap_or_else(|| panic!("{}: not a global assignment", path.display()));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Key, link and status of each row of a built listing page.
fn page_rows(html: &str) -> Vec<(String, String, String)> {
    let re = regex::Regex::new(
        r#"<tr><td class="key"><a href="([^"]+)">([^<]+)</a></td><td>[^<]*</td><td><span class="status status-[a-z]+">([^<]*)</span>"#,
    )
    .unwrap();
    re.captures_iter(html)
        .map(|c| (c[2].to_string(), c[1].to_string(), c[3].to_string()))
        .collect()
}

#[test]
fn every_listing_has_a_data_file_with_its_rows_in_page_order() {
    let (_dir, site) = example();
    let config = site.join("hindsight.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("page_size = 7\n{text}")).unwrap();
    build(&site).unwrap();
    let public = site.join("public");
    let mut listings = 0;
    let mut paged = 0;
    let mut linked_assignees = 0;
    for facet in std::fs::read_dir(public.join("lists")).unwrap() {
        let facet = facet.unwrap().path();
        if !facet.is_dir() {
            continue;
        }
        for value in std::fs::read_dir(&facet).unwrap() {
            let dir = value.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            listings += 1;
            let data = data_file(&dir.join("rows.js"));
            assert_eq!(data["v"], 1);
            assert_eq!(data["size"], 7);
            // Each assignee's person page, as listing.js links it.
            let names = data["assignee"].as_array().unwrap();
            let hrefs = data["assignee-href"].as_array().unwrap();
            assert_eq!(names.len(), hrefs.len(), "{}", dir.display());
            for h in hrefs.iter().filter_map(|h| h.as_str()) {
                let file = h.split('#').next().unwrap();
                assert!(public.join(file).is_file(), "{h} in {}", dir.display());
                linked_assignees += 1;
            }
            // The built pages' rows, page after page.
            let mut built = Vec::new();
            let mut pages = BTreeMap::new();
            for n in 1.. {
                let name = if n == 1 {
                    "index.html".to_string()
                } else {
                    format!("{n}.html")
                };
                let Ok(html) = std::fs::read_to_string(dir.join(&name)) else {
                    break;
                };
                assert!(
                    html.contains(r#"<script defer src="rows.js"></script>"#),
                    "{name}"
                );
                assert!(html.contains("static/listing.js\"></script>"), "{name}");
                let rows = page_rows(&html);
                pages.insert(n, rows.len());
                built.extend(rows);
            }
            if pages.len() > 1 {
                paged += 1;
            }
            let rows = data["rows"].as_array().unwrap();
            assert_eq!(rows.len(), built.len(), "{}", dir.display());
            for (row, (key, href, status)) in rows.iter().zip(&built) {
                assert_eq!(row[0], key.as_str(), "{}", dir.display());
                // The status named by its position in the status table.
                let st = row[2].as_i64().unwrap();
                let name = if st < 0 {
                    ""
                } else {
                    data["status"][st as usize][0].as_str().unwrap()
                };
                assert_eq!(name, status, "{key} in {}", dir.display());
                // The page's path: from the key, or given as the row's twelfth item.
                let path = match row.get(11) {
                    Some(p) => format!("{}.html", p.as_str().unwrap()),
                    None => {
                        let (project, number) = key.rsplit_once('-').unwrap();
                        let n: u64 = number.parse().unwrap();
                        format!("issues/{project}/{}/{key}.html", n / 1000)
                    }
                };
                assert!(href.ends_with(&path), "{href} is not {path}");
                assert!(public.join(&path).is_file(), "{path}");
            }
        }
    }
    assert!(listings > 20, "{listings} listings");
    assert!(paged > 2, "{paged} listings of several pages");
    assert!(
        linked_assignees > 0,
        "no listing links an assignee to their page"
    );
}
