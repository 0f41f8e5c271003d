//! Issue listings: the browse page, one index per facet, and per facet value the paginated
//! listing (`lists/<facet>/<value>/index.html`, `2.html`…) in key order, with its data file.
//!
//! Without scripts a listing reads in key order, page by page. With them,
//! `themes/default/static/listing.js` sorts it by any column and narrows it by the facets in
//! the page, from the listing's data file `lists/<facet>/<value>/rows.js`: a classic script
//! that sets one global (`hindsightListing`), so it loads under `file://`, where `fetch` is
//! refused. The file holds one compact row per issue of the listing, in key order, with the
//! repeated names (status, type, priority, component, fix version, assignee) as indexes into
//! per-listing tables that are themselves in sort order, so sorting by a named column is a
//! comparison of numbers. [`rows_js`] is its format's one writer.

use std::collections::{BTreeMap, HashMap};

use std::hash::Hasher;

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use super::{page_of, root_of, slug, status_class, Renderer, TimeView, NONE};
use crate::error::Result;
use crate::keys::{natural_cmp, split_key};
use crate::link::{IssueSummary, Linked, Name};
use crate::render::PageSink;

/// The name of a listing's data file, beside its pages.
pub const DATA_FILE: &str = "rows.js";

/// A listing dimension: project, status, component…
pub(super) struct Facet {
    pub(super) slug: &'static str,
    pub(super) title: &'static str,
    pub(super) values: Vec<FacetValue>,
}

/// One value of a facet, and the issues that have it.
pub(super) struct FacetValue {
    pub(super) name: String,
    pub(super) slug: String,
    /// Positions in `Linked::issues`, in key order.
    pub(super) members: Vec<usize>,
}

/// The facets listings are made for, with their values and members.
pub(super) fn facets(issues: &[IssueSummary]) -> Vec<Facet> {
    type Extract = fn(&IssueSummary) -> Vec<Name>;
    let dims: [(&str, &str, Extract); 7] = [
        ("project", "Project", |s| vec![s.project.clone()]),
        ("status", "Status", |s| {
            vec![s.status.clone().unwrap_or_else(|| NONE.into())]
        }),
        ("type", "Type", |s| {
            vec![s.issue_type.clone().unwrap_or_else(|| NONE.into())]
        }),
        ("component", "Component", |s| s.components.to_vec()),
        ("fix-version", "Fix version", |s| s.fix_versions.to_vec()),
        ("affects-version", "Affects version", |s| {
            s.versions.to_vec()
        }),
        ("year", "Year created", |s| {
            s.created
                .map(|t| vec![Name::from(t.year().to_string())])
                .unwrap_or_default()
        }),
    ];
    dims.iter()
        .map(|(slug_name, title, extract)| {
            let mut by_value: BTreeMap<Name, Vec<usize>> = BTreeMap::new();
            for (i, s) in issues.iter().enumerate() {
                for v in extract(s) {
                    by_value.entry(v).or_default().push(i);
                }
            }
            let values = by_value
                .into_iter()
                .map(|(name, mut members)| {
                    members.dedup();
                    FacetValue {
                        slug: value_slug(slug_name, &name),
                        name: name.to_string(),
                        members,
                    }
                })
                .collect();
            Facet {
                slug: slug_name,
                title,
                values,
            }
        })
        .collect()
}

/// The folder slug of `value` in `facet`, as [`facets`] named it.
pub(super) fn facet_slug_of(facets: &[Facet], facet: &str, value: &str) -> String {
    facets
        .iter()
        .find(|f| f.slug == facet)
        .and_then(|f| f.values.iter().find(|v| v.name == value))
        .map(|v| v.slug.clone())
        .unwrap_or_else(|| value_slug(facet, value))
}

/// The folder of a facet value: project keys as they are (they are already safe, and match
/// the `issues/LU/` folders), anything else through [`slug`].
pub(super) fn value_slug(facet: &str, value: &str) -> String {
    if facet == "project" && crate::keys::is_project_key(value) {
        value.to_string()
    } else {
        slug(value)
    }
}

/// The site path of page `page` (from 1) of a facet value's listing.
pub(super) fn listing_path(facet: &str, value_slug: &str, page: usize) -> String {
    if page == 1 {
        format!("lists/{facet}/{value_slug}/index.html")
    } else {
        format!("lists/{facet}/{value_slug}/{page}.html")
    }
}

/// A listing's columns: which of the optional ones any of its issues fills.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Columns {
    priority: bool,
    assignee: bool,
    votes: bool,
}

impl Columns {
    fn of(issues: &[IssueSummary], members: &[usize]) -> Self {
        let any = |f: fn(&IssueSummary) -> bool| members.iter().any(|&i| f(&issues[i]));
        Columns {
            priority: any(|s| s.priority.is_some()),
            assignee: any(|s| s.assignee.is_some()),
            votes: any(|s| s.votes.is_some()),
        }
    }
}

/// A row of a listing's table, as the template shows it (and `listing.js` redraws it).
#[derive(Serialize)]
struct ListingRow {
    key: String,
    href: String,
    summary: String,
    status: String,
    status_class: String,
    issue_type: String,
    priority: String,
    assignee: String,
    /// The assignee's person page (render/people.rs), when they have one.
    assignee_href: Option<String>,
    created: Option<TimeView>,
    updated: Option<TimeView>,
    votes: Option<u32>,
}

fn listing_row(linked: &Linked, s: &IssueSummary, root: &str) -> ListingRow {
    let name = |n: &Option<Name>| n.as_deref().unwrap_or_default().to_string();
    ListingRow {
        assignee_href: s
            .assignee
            .as_deref()
            .and_then(|a| linked.persons.href(a))
            .map(|h| format!("{root}{h}")),
        key: s.key.to_string(),
        href: format!("{root}{}.html", s.path()),
        summary: s.summary.to_string(),
        status: name(&s.status),
        status_class: status_class(s.status_category.as_deref()),
        issue_type: name(&s.issue_type),
        priority: name(&s.priority),
        assignee: name(&s.assignee),
        created: s.created.as_ref().map(TimeView::of),
        updated: s.updated.as_ref().map(TimeView::of),
        votes: s.votes,
    }
}

/// The digest of everything a listing shows of an issue: every field of its summary, and the
/// assignee's person page (`assignee_href`). A listing page or data file is made from the
/// digests of its rows, so a rebuild knows it unchanged without making its rows (people
/// pages too, [`super::people`]).
pub(super) fn row_digest(s: &IssueSummary, assignee_href: Option<&str>) -> u128 {
    let mut h = Xxh3::new();
    let text = |h: &mut Xxh3, t: &str| {
        h.write_u64(t.len() as u64);
        h.write(t.as_bytes());
    };
    let name = |h: &mut Xxh3, n: Option<&str>| {
        h.write_u8(n.is_some() as u8);
        text(h, n.unwrap_or_default());
    };
    let names = |h: &mut Xxh3, ns: &[Name]| {
        h.write_u64(ns.len() as u64);
        ns.iter().for_each(|n| text(h, n));
    };
    text(&mut h, &s.key);
    text(&mut h, &s.project);
    text(&mut h, &s.summary);
    for n in [
        &s.status,
        &s.status_category,
        &s.resolution,
        &s.issue_type,
        &s.priority,
        &s.assignee,
    ] {
        name(&mut h, n.as_deref());
    }
    for ns in [&s.components, &s.fix_versions, &s.versions] {
        names(&mut h, ns);
    }
    for t in [&s.created, &s.updated, &s.resolved] {
        time_digest(&mut h, t);
    }
    h.write_u64(s.comments as u64);
    h.write_u64(s.votes.map_or(0, |v| u64::from(v) << 1 | 1));
    name(&mut h, assignee_href);
    h.digest128()
}

/// Puts a time as the pages show it into `h`: the instant and the offset it was written with.
pub(super) fn time_digest(h: &mut Xxh3, t: &Option<crate::model::Timestamp>) {
    match t {
        Some(t) => {
            h.write_u8(1);
            h.write_i64(t.0.timestamp());
            h.write_u32(t.0.timestamp_subsec_nanos());
            h.write_i32(t.0.offset().local_minus_utc());
        }
        None => h.write_u8(0),
    }
}

impl Renderer<'_> {
    /// [`row_digest`] of every issue, in the order of [`Linked::issues`].
    pub(super) fn row_digests(&self) -> Vec<u128> {
        let persons = &self.linked.persons;
        self.linked
            .issues
            .par_iter()
            .map(|s| {
                let href = s.assignee.as_deref().and_then(|a| persons.href(a));
                row_digest(s, href.as_deref())
            })
            .collect()
    }

    /// The browse page, each facet's index and every facet value's listing pages and data
    /// file; returns the number of pages and the number of data files.
    pub(super) fn render_facet_listings(
        &self,
        sink: &dyn PageSink,
        facets: &[Facet],
        rows: &[u128],
    ) -> Result<(u64, u64)> {
        let mut pages_written = 0u64;
        let mut data_files = 0u64;
        let facet_links: Vec<_> = facets
            .iter()
            .map(|f| {
                serde_json::json!({
                    "title": f.title,
                    "href": format!("{}/index.html", f.slug),
                    "count": f.values.len(),
                })
            })
            .collect();
        let mut c = self.context("../");
        c.insert("facets", &facet_links);
        self.emit(sink, "lists/index.html", "browse.html", &c)?;
        pages_written += 1;

        for facet in facets {
            let index_path = format!("lists/{}/index.html", facet.slug);
            let root = root_of(&index_path);
            let values: Vec<_> = facet
                .values
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "name": v.name,
                        "count": v.members.len(),
                        "href": format!("{}/index.html", v.slug),
                    })
                })
                .collect();
            let mut c = self.context(&root);
            c.insert(
                "heading",
                &format!("Issues by {}", facet.title.to_lowercase()),
            );
            c.insert("values", &values);
            self.emit(sink, &index_path, "facets.html", &c)?;
            pages_written += 1;
            let pages: Vec<(String, &FacetValue, usize)> = facet
                .values
                .iter()
                .flat_map(|v| {
                    let n = v.members.len().div_ceil(self.config.page_size).max(1);
                    (1..=n).map(move |p| (listing_path(facet.slug, &v.slug, p), v, p))
                })
                .collect();
            pages.par_iter().try_for_each(|(path, value, page)| {
                self.render_listing(sink, facet, value, *page, path, rows)
            })?;
            pages_written += pages.len() as u64;
            facet.values.par_iter().try_for_each(|v| {
                let path = format!("lists/{}/{}/{DATA_FILE}", facet.slug, v.slug);
                let made_from = {
                    let mut h = Xxh3::new();
                    h.write(b"listing data\0");
                    h.write_u128(self.salt);
                    h.write_u64(self.config.page_size as u64);
                    h.write_u64(v.members.len() as u64);
                    v.members.iter().for_each(|&i| h.write_u128(rows[i]));
                    h.digest128()
                };
                if self.kept(sink, &path, made_from)? {
                    return Ok(());
                }
                let js = rows_js(
                    &self.linked.issues,
                    &v.members,
                    self.config.page_size,
                    &|name| self.linked.persons.href(name),
                );
                sink.put_made_from(&path, made_from, js.as_bytes())
            })?;
            data_files += facet.values.len() as u64;
        }
        Ok((pages_written, data_files))
    }

    fn render_listing(
        &self,
        sink: &dyn PageSink,
        facet: &Facet,
        value: &FacetValue,
        page: usize,
        path: &str,
        rows: &[u128],
    ) -> Result<()> {
        let root = root_of(path);
        let size = self.config.page_size;
        let issues = &self.linked.issues;
        let (members, total) = page_of(&value.members, page, size);
        let page_href = |p: usize| {
            if p == 1 {
                "index.html".to_string()
            } else {
                format!("{p}.html")
            }
        };
        let pager = super::pager(page, total, page_href);
        let mut c = self.context(&root);
        let heading = if facet.slug == "project" {
            let name = self
                .linked
                .projects
                .get(&value.name)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            if name.is_empty() {
                format!("Project {}", value.name)
            } else {
                format!("{} ({})", name, value.name)
            }
        } else {
            format!("{}: {}", facet.title, value.name)
        };
        c.insert("heading", &heading);
        c.insert("facet_title", &facet.title);
        c.insert(
            "facet_href",
            &format!("{root}lists/{}/index.html", facet.slug),
        );
        c.insert("count", &value.members.len());
        c.insert("columns", &Columns::of(issues, &value.members));
        c.insert("data_file", DATA_FILE);
        c.insert("pager", &pager);
        // The rows are made only when the page is: their digests stand for them.
        let row_digests: Vec<u128> = members.iter().map(|&i| rows[i]).collect();
        c.depends_on("items", &row_digests);
        let digest = c.digest("listing.html");
        if self.kept(sink, path, digest)? {
            return Ok(());
        }
        let items: Vec<_> = members
            .iter()
            .map(|&i| listing_row(self.linked, &issues[i], &root))
            .collect();
        let mut context = c.context();
        context.insert("items", &items);
        let html = self.render("listing.html", &context)?;
        sink.put_made_from(path, digest, html.as_bytes())
    }
}

/// A table of the distinct names of one field in a listing, in the order the listing sorts
/// them; rows hold a name's position in it.
///
/// Link interns the names (one `Arc` per distinct name), so a name is found first by its
/// address, hashed as one number, and only a name met under another address by its text: a
/// listing of every issue asks about eight names a row.
struct NameTable {
    names: Vec<Name>,
    index: rustc_hash::FxHashMap<Name, usize>,
    by_address: rustc_hash::FxHashMap<usize, usize>,
}

/// The address of a name's text, by which an interned name is known.
fn address(name: &Name) -> usize {
    name.as_ptr() as usize
}

impl NameTable {
    /// The distinct names `field` gives over `rows`, ordered by `order`.
    fn new<'a>(
        rows: impl Iterator<Item = &'a IssueSummary>,
        field: impl Fn(&'a IssueSummary, &mut dyn FnMut(&'a Name)),
        order: impl Fn(&str, &str) -> std::cmp::Ordering,
    ) -> Self {
        let mut seen_at: rustc_hash::FxHashSet<usize> = Default::default();
        let mut seen: rustc_hash::FxHashSet<&Name> = Default::default();
        let mut names: Vec<Name> = Vec::new();
        for s in rows {
            field(s, &mut |n| {
                if seen_at.insert(address(n)) && seen.insert(n) {
                    names.push(n.clone());
                }
            });
        }
        names.sort_by(|a, b| order(a, b).then_with(|| a.cmp(b)));
        let index: rustc_hash::FxHashMap<Name, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let by_address = names
            .iter()
            .enumerate()
            .map(|(i, n)| (address(n), i))
            .collect();
        NameTable {
            names,
            index,
            by_address,
        }
    }

    /// The position of `name`, or -1 for none.
    fn at(&self, name: Option<&Name>) -> i64 {
        name.and_then(|n| (self.by_address.get(&address(n))).or_else(|| self.index.get(n)))
            .map_or(-1, |&i| i as i64)
    }
}

/// The order of a status's category in a listing: to do, in progress, done.
fn category_rank(category: Option<&str>) -> u8 {
    match category {
        Some("indeterminate") => 1,
        Some("done") => 2,
        _ => 0,
    }
}

/// Priorities from the most to the least urgent, as JIRA's and Bugzilla's default schemes
/// name them; a name not here sorts after these, in natural order (`P1` before `P2`).
const PRIORITY_ORDER: &[&str] = &[
    "blocker", "critical", "highest", "urgent", "high", "major", "medium", "normal", "minor",
    "low", "lowest", "trivial",
];

fn priority_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let rank = |p: &str| {
        let l = p.to_lowercase();
        PRIORITY_ORDER
            .iter()
            .position(|x| *x == l)
            .unwrap_or(PRIORITY_ORDER.len())
    };
    rank(a).cmp(&rank(b)).then_with(|| natural_cmp(a, b))
}

fn people_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    natural_cmp(&a.to_lowercase(), &b.to_lowercase())
}

/// Whether `listing.js` finds an issue's page from its key alone
/// (`issues/<PROJECT>/<number / 1000>/<key>.html`, numbers JavaScript holds exactly); the data
/// file names the path of any other issue.
fn path_from_key(key: &str) -> bool {
    split_key(key).is_some_and(|p| p.number < 1_000_000_000_000_000)
}

/// A listing's data file: `window.hindsightListing = {...};`, a classic script, deterministic.
///
/// `v` is the format's version; `size` the page size; `status` holds `[name, class]` pairs
/// (`class` as in `status-…`), the other tables names; each row is `[key, summary, status,
/// type, priority, created, updated, votes, [components], [fix versions], assignee]` with
/// names as positions in their tables (-1: none), times in seconds since the epoch and
/// `null` when missing, and, when the key does not give it, the page's path (without
/// `.html`) as a twelfth item. Rows are in key order. `assignee-href` holds, beside the
/// assignee table, each assignee's person page from the site's root (`person_href`), or `null`.
pub(super) fn rows_js(
    issues: &[IssueSummary],
    members: &[usize],
    page_size: usize,
    person_href: &dyn Fn(&str) -> Option<String>,
) -> String {
    let rows = || members.iter().map(|&i| &issues[i]);
    let mut category: rustc_hash::FxHashMap<&Name, Option<&str>> = Default::default();
    for s in rows() {
        if let Some(st) = &s.status {
            category.entry(st).or_insert(s.status_category.as_deref());
        }
    }
    let rank: HashMap<&str, u8> = category
        .iter()
        .map(|(name, c)| (&***name, category_rank(*c)))
        .collect();
    let status = NameTable::new(
        rows(),
        |s, add| s.status.iter().for_each(add),
        |a, b| {
            let cat = |n: &str| rank.get(n).copied().unwrap_or(0);
            cat(a).cmp(&cat(b)).then_with(|| natural_cmp(a, b))
        },
    );
    let types = NameTable::new(
        rows(),
        |s, add| s.issue_type.iter().for_each(add),
        natural_cmp,
    );
    let priorities = NameTable::new(
        rows(),
        |s, add| s.priority.iter().for_each(add),
        priority_cmp,
    );
    let components = NameTable::new(
        rows(),
        |s, add| s.components.iter().for_each(add),
        natural_cmp,
    );
    let fixes = NameTable::new(
        rows(),
        |s, add| s.fix_versions.iter().for_each(add),
        natural_cmp,
    );
    let assignees = NameTable::new(rows(), |s, add| s.assignee.iter().for_each(add), people_cmp);

    let mut out = String::with_capacity(64 + members.len() * 120);
    out.push_str("window.hindsightListing={\"v\":1,\"size\":");
    out.push_str(&page_size.to_string());
    out.push_str(",\"status\":[");
    for (i, n) in status.names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let class = status_class(category.get(n).copied().flatten());
        out.push_str(&format!("[{},{}]", json(&**n), json(class.as_str())));
    }
    out.push(']');
    for (name, table) in [
        ("type", &types),
        ("priority", &priorities),
        ("component", &components),
        ("fix-version", &fixes),
        ("assignee", &assignees),
    ] {
        out.push_str(&format!(",\"{name}\":"));
        let names: Vec<&str> = table.names.iter().map(|n| &**n).collect();
        out.push_str(&json(&names));
    }
    let hrefs: Vec<Option<String>> = assignees.names.iter().map(|n| person_href(n)).collect();
    out.push_str(",\"assignee-href\":");
    out.push_str(&json(&hrefs));
    out.push_str(",\"rows\":[");
    // The rows (most of the file: a project's listing has every issue) are written straight
    // into it, each field as JSON, without a string made per field.
    let mut out = out.into_bytes();
    let mut at: Vec<i64> = Vec::new();
    for (i, s) in rows().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"\n[");
        push_json(&mut out, &s.key);
        out.push(b',');
        push_json(&mut out, &s.summary);
        for n in [
            status.at(s.status.as_ref()),
            types.at(s.issue_type.as_ref()),
            priorities.at(s.priority.as_ref()),
        ] {
            out.push(b',');
            push_number(&mut out, Some(n));
        }
        for t in [&s.created, &s.updated] {
            out.push(b',');
            push_number(&mut out, t.map(|t| t.unix()));
        }
        out.push(b',');
        push_number(&mut out, s.votes.map(i64::from));
        for (table, names) in [(&components, &s.components), (&fixes, &s.fix_versions)] {
            at.clear();
            at.extend(names.iter().map(|n| table.at(Some(n))));
            at.sort_unstable();
            at.dedup();
            out.extend_from_slice(b",[");
            for (k, &n) in at.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                push_number(&mut out, Some(n));
            }
            out.push(b']');
        }
        out.push(b',');
        push_number(&mut out, Some(assignees.at(s.assignee.as_ref())));
        if !path_from_key(&s.key) {
            out.push(b',');
            push_json(&mut out, s.path().as_str());
        }
        out.push(b']');
    }
    out.extend_from_slice(b"]};\n");
    String::from_utf8(out).expect("a listing's data is JSON written from strings")
}

/// Appends `v` as JSON (serde_json cannot fail on the strings given).
fn push_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Appends a whole number, or `null`.
fn push_number(out: &mut Vec<u8>, n: Option<i64>) {
    match n {
        Some(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

/// JSON text of a value (serde_json cannot fail on the strings, numbers and lists given).
fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn summary(key: &str, f: impl FnOnce(&mut IssueSummary)) -> IssueSummary {
        let mut s = IssueSummary::bare(key, "jira");
        s.project = Name::from("LU");
        s.summary = format!("summary of {key}").into();
        f(&mut s);
        s
    }

    fn at(s: &str) -> Option<Timestamp> {
        Some(Timestamp(chrono::DateTime::parse_from_rfc3339(s).unwrap()))
    }

    #[test]
    fn a_rows_digest_sees_everything_a_listing_shows() {
        let base = summary("LU-1", |_| {});
        let digest = |s: &IssueSummary| row_digest(s, None);
        let changes: Vec<fn(&mut IssueSummary)> = vec![
            |s| s.key = "LU-2".into(),
            |s| s.project = "LUDOC".into(),
            |s| s.summary = format!("{}!", s.summary).into(),
            |s| s.status = Some("Open".into()),
            |s| s.status_category = Some("done".into()),
            |s| s.resolution = Some("Fixed".into()),
            |s| s.issue_type = Some("Bug".into()),
            |s| s.priority = Some("Minor".into()),
            |s| s.components = vec!["lnet".into()].into(),
            |s| s.fix_versions = vec!["Lustre 2.10.0".into()].into(),
            |s| s.versions = vec!["Lustre 2.9.0".into()].into(),
            |s| s.created = at("2012-01-02T03:04:05+02:00"),
            |s| s.updated = at("2012-01-02T03:04:05+02:00"),
            |s| s.resolved = at("2012-01-02T03:04:05+02:00"),
            |s| s.comments = 1,
            |s| s.assignee = Some("Zoe Bell".into()),
            |s| s.votes = Some(0),
        ];
        let mut seen = vec![digest(&base)];
        for change in &changes {
            let mut s = base.clone();
            change(&mut s);
            seen.push(digest(&s));
        }
        // The same instant written with another offset shows another original time.
        let mut a = base.clone();
        a.created = at("2012-01-02T01:04:05Z");
        seen.push(digest(&a));
        seen.push(row_digest(&base, Some("people/zoe-bell.html")));
        // Moving a name from one field to the next is a change too.
        let mut b = base.clone();
        b.components = vec!["x".into()].into();
        let mut c = base.clone();
        c.fix_versions = vec!["x".into()].into();
        seen.push(digest(&b));
        seen.push(digest(&c));
        let all = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), all, "every change gives its own digest");
        assert_eq!(digest(&base), digest(&base.clone()));
    }

    /// The data file's object, parsed back.
    fn parse(js: &str) -> serde_json::Value {
        let body = js
            .strip_prefix("window.hindsightListing=")
            .and_then(|s| s.strip_suffix(";\n"))
            .expect("a global assignment");
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn data_file_holds_every_row_in_key_order_with_names_as_positions() {
        let issues = vec![
            summary("LU-1", |s| {
                s.status = Some("Resolved".into());
                s.status_category = Some("done".into());
                s.issue_type = Some("Bug".into());
                s.priority = Some("Minor".into());
                s.components = vec!["lnet".into(), "ldlm".into()].into();
                s.fix_versions = vec!["Lustre 2.10.0".into()].into();
                s.created = at("2012-01-02T03:04:05+02:00");
                s.updated = at("2013-01-01T00:00:00Z");
                s.votes = Some(3);
                s.assignee = Some("zoe Bell".into());
            }),
            summary("LU-2", |s| {
                s.status = Some("Open".into());
                s.status_category = Some("new".into());
                s.issue_type = Some("Improvement".into());
                s.priority = Some("Blocker".into());
                s.fix_versions = vec!["Lustre 2.9.0".into()].into();
                s.assignee = Some("Andreas Dilger".into());
                s.summary = "quotes \" and </script> stay text".into();
            }),
            summary("LU-3", |s| {
                s.status = Some("In Progress".into());
                s.status_category = Some("indeterminate".into());
                s.priority = Some("Critical".into());
            }),
            summary("odd key", |_| {}),
        ];
        let js = rows_js(&issues, &[0, 1, 2, 3], 100, &|_| None);
        let v = parse(&js);
        assert_eq!(v["v"], 1);
        assert_eq!(v["size"], 100);
        // Tables in sort order: statuses by category, priorities by urgency, versions and
        // people in natural, case-blind order.
        assert_eq!(
            v["status"],
            serde_json::json!([
                ["Open", "new"],
                ["In Progress", "indeterminate"],
                ["Resolved", "done"]
            ])
        );
        assert_eq!(
            v["priority"],
            serde_json::json!(["Blocker", "Critical", "Minor"])
        );
        assert_eq!(v["type"], serde_json::json!(["Bug", "Improvement"]));
        assert_eq!(v["component"], serde_json::json!(["ldlm", "lnet"]));
        assert_eq!(
            v["fix-version"],
            serde_json::json!(["Lustre 2.9.0", "Lustre 2.10.0"])
        );
        assert_eq!(
            v["assignee"],
            serde_json::json!(["Andreas Dilger", "zoe Bell"])
        );
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[0],
            serde_json::json!([
                "LU-1",
                "summary of LU-1",
                2,
                0,
                2,
                1325466245,
                1356998400,
                3,
                [0, 1],
                [1],
                1
            ])
        );
        assert_eq!(rows[1][1], "quotes \" and </script> stay text");
        assert_eq!(rows[1][5], serde_json::Value::Null);
        assert_eq!(rows[1][7], serde_json::Value::Null);
        assert_eq!(rows[2][3], -1, "no type");
        assert_eq!(rows[2][10], -1, "no assignee");
        // A key of another shape carries its page's path.
        assert_eq!(rows[2].as_array().unwrap().len(), 11);
        assert_eq!(rows[3][11], serde_json::json!(issues[3].path()));
        // Deterministic.
        assert_eq!(js, rows_js(&issues, &[0, 1, 2, 3], 100, &|_| None));
    }

    #[test]
    fn data_file_of_a_subset_names_only_its_own_values() {
        let issues = vec![
            summary("LU-1", |s| s.components = vec!["lnet".into()].into()),
            summary("LU-2", |s| s.components = vec!["ldlm".into()].into()),
        ];
        let v = parse(&rows_js(&issues, &[1], 50, &|_| None));
        assert_eq!(v["component"], serde_json::json!(["ldlm"]));
        assert_eq!(v["rows"][0][0], "LU-2");
        assert_eq!(v["rows"][0][8], serde_json::json!([0]));
    }

    #[test]
    fn keys_give_paths_only_in_the_usual_shape() {
        assert!(path_from_key("LU-1234"));
        assert!(!path_from_key("lu-1234"));
        assert!(!path_from_key("LU-0012"));
        assert!(!path_from_key("LU-99999999999999999"));
    }

    #[test]
    fn columns_follow_what_the_issues_fill() {
        let issues = vec![
            summary("LU-1", |s| s.votes = Some(0)),
            summary("LU-2", |s| s.priority = Some("Major".into())),
        ];
        assert_eq!(
            Columns::of(&issues, &[0]),
            Columns {
                priority: false,
                assignee: false,
                votes: true
            }
        );
        assert_eq!(
            Columns::of(&issues, &[1]),
            Columns {
                priority: true,
                assignee: false,
                votes: false
            }
        );
    }
}
