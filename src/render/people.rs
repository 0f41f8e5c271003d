//! People pages: the index of everyone the archive names (`people/index.html`, alphabetical,
//! with what each did) and a page per person (`people/<slug>.html`, then `people/<slug>/2.html`…
//! when long): the issues they reported, are assigned, commented on, and the commits they
//! authored, committed and reviewed, grouped by year, newest first, under a table of counts
//! per year. Who did what is decided when linking ([`crate::link::people`]); this only lays it
//! out. People seen once have a row of the index only, which links the one thing they did.
//!
//! [`person_ref`] is how every other page links a name: to the person's page, or to their row.

use std::hash::Hasher;

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use super::{root_of, status_class, Renderer, TimeView};
use crate::error::Result;
use crate::keys::commit_path;
use crate::link::people::{Activity, Contributor, PersonIndex, Role, Target, INDEX_PAGE};
use crate::link::Linked;
use crate::render::PageSink;

/// A name as a page shows it, with the link to the person when the index knows them.
#[derive(Clone, Debug, Serialize)]
pub(super) struct PersonRef {
    name: String,
    href: Option<String>,
}

/// The link for a display name on a page whose way back to the root is `root`.
pub(super) fn person_ref(linked: &Linked, name: String, root: &str) -> PersonRef {
    let href = linked.persons.href(&name).map(|h| format!("{root}{h}"));
    PersonRef { name, href }
}

/// How a role is headed on the pages.
fn label(role: Role) -> &'static str {
    match role {
        Role::Reported => "Reported",
        Role::Assigned => "Assigned",
        Role::Commented => "Commented on",
        Role::Authored => "Commits authored",
        Role::Committed => "Commits committed",
        Role::Reviewed => "Commits reviewed",
    }
}

/// How a role's count is headed: comments are counted, not the issues commented on.
fn count_label(role: Role) -> &'static str {
    match role {
        Role::Commented => "Comments",
        _ => label(role),
    }
}

/// One issue or commit in a person's list or the index.
#[derive(Serialize)]
struct ItemView {
    /// `LU-1234` or a short commit id.
    label: String,
    href: String,
    title: String,
    commit: bool,
    status: Option<String>,
    status_class: String,
    date: Option<TimeView>,
    /// Comments, for the issues commented on.
    count: u32,
}

#[derive(Serialize)]
struct SectionView {
    role: &'static str,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct YearGroup {
    anchor: String,
    label: String,
    continued: bool,
    sections: Vec<SectionView>,
}

#[derive(Serialize)]
struct YearRow {
    label: String,
    href: String,
    counts: Vec<u64>,
}

#[derive(Serialize)]
struct Total {
    role: &'static str,
    count: u64,
}

#[derive(Serialize)]
struct IndexRow {
    name: String,
    anchor: String,
    href: Option<String>,
    counts: Vec<u64>,
    /// For someone without a page: the one thing they did.
    only: Option<OnlyView>,
}

#[derive(Serialize)]
struct OnlyView {
    role: &'static str,
    item: ItemView,
}

fn year_anchor(year: Option<i32>) -> String {
    year.map_or("undated".to_string(), |y| format!("y{y}"))
}

fn year_label(year: Option<i32>) -> String {
    year.map_or("Undated".to_string(), |y| y.to_string())
}

/// The site path of page `page` (from 1) of a person's list.
fn person_page(slug: &str, page: usize) -> String {
    if page == 1 {
        format!("people/{slug}.html")
    } else {
        format!("people/{slug}/{page}.html")
    }
}

impl Renderer<'_> {
    /// What a people page shows of `a`, into `h`: its year, role and count, and its issue's
    /// row ([`super::listings::row_digest`], from `rows`) or its commit.
    fn activity_digest(&self, a: &Activity, rows: &[u128], h: &mut Xxh3) {
        h.write_u64(a.year().map_or(0, |y| (y as i64 as u64) << 1 | 1));
        h.write_u8(a.role.index() as u8);
        h.write_u32(a.count);
        match a.target() {
            Target::Issue(i) => {
                h.write_u8(0);
                h.write_u128(rows[i as usize]);
            }
            Target::Commit(i) => {
                let c = &self.linked.history.commits[i as usize];
                h.write_u8(1);
                for text in [&c.id, &c.subject] {
                    h.write_u64(text.len() as u64);
                    h.write(text.as_bytes());
                }
                super::listings::time_digest(h, &c.time);
            }
        }
    }

    /// The person index and every person's pages; returns the pages written. `rows` are the
    /// issues' row digests ([`Renderer::row_digests`]).
    pub(super) fn render_people(&self, sink: &dyn PageSink, rows: &[u128]) -> Result<u64> {
        let persons = &self.linked.persons;
        if persons.is_empty() {
            return Ok(0);
        }
        let mut n = self.render_people_index(sink, rows)?;
        let size = self.config.page_size.max(1);
        let written: Vec<u64> = {
            use rayon::prelude::*;
            persons
                .people
                .par_iter()
                .filter(|p| p.has_page())
                .map(|p| self.render_person(p, size, sink, rows))
                .collect::<Result<_>>()?
        };
        n += written.iter().sum::<u64>();
        Ok(n)
    }

    fn render_people_index(&self, sink: &dyn PageSink, rows: &[u128]) -> Result<u64> {
        let people = &self.linked.persons.people;
        let pages = people.len().div_ceil(INDEX_PAGE);
        for (k, chunk) in people.chunks(INDEX_PAGE).enumerate() {
            let path = PersonIndex::index_page(k * INDEX_PAGE);
            let root = root_of(&path);
            let page_href = |i: usize| format!("{root}{}", PersonIndex::index_page(i * INDEX_PAGE));
            let pager = serde_json::json!({
                "current": k + 1,
                "total": pages,
                "prev": (k > 0).then(|| page_href(k - 1)),
                "next": (k + 1 < pages).then(|| page_href(k + 1)),
            });
            let mut c = self.context(&root);
            c.insert("total", &people.len());
            c.insert("roles", &Role::ALL.map(count_label));
            c.insert("pager", &pager);
            // The rows are made only when the page is: the people's digests stand for them.
            let mut h = Xxh3::new();
            for p in chunk {
                for text in [&p.name, &p.slug] {
                    h.write_u64(text.len() as u64);
                    h.write(text.as_bytes());
                }
                h.write_u8(p.has_page() as u8);
                p.totals.iter().for_each(|&t| h.write_u64(t));
                match p.activity.first().filter(|_| !p.has_page()) {
                    Some(a) => self.activity_digest(a, rows, &mut h),
                    None => h.write_u8(0xff),
                }
            }
            c.depends_on("rows", &h.digest128());
            let digest = c.digest("people.html");
            if self.kept(sink, &path, digest)? {
                continue;
            }
            let rows: Vec<IndexRow> = chunk
                .iter()
                .map(|p| IndexRow {
                    name: p.name.clone(),
                    anchor: p.slug.clone(),
                    href: p
                        .has_page()
                        .then(|| format!("{root}{}", person_page(&p.slug, 1))),
                    counts: p.totals.to_vec(),
                    only: (!p.has_page())
                        .then(|| p.activity.first())
                        .flatten()
                        .map(|a| OnlyView {
                            role: label(a.role),
                            item: self.item(a, &root),
                        }),
                })
                .collect();
            let mut context = c.context();
            context.insert("rows", &rows);
            let html = self.render("people.html", &context)?;
            sink.put_made_from(&path, digest, html.as_bytes())?;
        }
        Ok(pages as u64)
    }

    /// One person's pages: `size` activities per page.
    fn render_person(
        &self,
        p: &Contributor,
        size: usize,
        sink: &dyn PageSink,
        rows: &[u128],
    ) -> Result<u64> {
        let chunks: Vec<&[Activity]> = p.activity.chunks(size).collect();
        let total = chunks.len();
        // Where each year starts, and its counts per role.
        let mut years: Vec<(Option<i32>, usize, [u64; 6])> = Vec::new();
        for (k, chunk) in chunks.iter().enumerate() {
            for a in *chunk {
                if years.last().is_none_or(|y| y.0 != a.year()) {
                    years.push((a.year(), k + 1, [0; 6]));
                }
                let counts = &mut years.last_mut().expect("pushed above").2;
                counts[a.role.index()] += match a.role {
                    Role::Commented => a.count as u64,
                    _ => 1,
                };
            }
        }
        let roles: Vec<usize> = Role::ALL
            .iter()
            .map(|r| r.index())
            .filter(|&i| p.totals[i] > 0)
            .collect();
        let totals: Vec<Total> = roles
            .iter()
            .map(|&i| Total {
                role: count_label(Role::ALL[i]),
                count: p.totals[i],
            })
            .collect();
        for (k, chunk) in chunks.iter().enumerate() {
            let page = k + 1;
            let path = person_page(&p.slug, page);
            let root = root_of(&path);
            let year_rows: Vec<YearRow> = years
                .iter()
                .map(|(year, first, counts)| YearRow {
                    label: year_label(*year),
                    href: format!(
                        "{root}{}#{}",
                        person_page(&p.slug, *first),
                        year_anchor(*year)
                    ),
                    counts: roles.iter().map(|&i| counts[i]).collect(),
                })
                .collect();
            let page_href = |i: usize| format!("{root}{}", person_page(&p.slug, i));
            let pager = super::pager(page, total, page_href);
            let mut c = self.context(&root);
            c.insert("name", &p.name);
            c.insert("totals", &totals);
            c.insert(
                "year_roles",
                &roles
                    .iter()
                    .map(|&i| count_label(Role::ALL[i]))
                    .collect::<Vec<_>>(),
            );
            c.insert("years", &year_rows);
            c.insert("pager", &pager);
            // The groups are made only when the page is: the activities' digests (and whether
            // the first year goes on from the page before) stand for them.
            let mut h = Xxh3::new();
            let before = k
                .checked_sub(1)
                .and_then(|b| chunks[b].last())
                .map(|b| b.year());
            h.write_u64(match before {
                None => 0,
                Some(None) => 1,
                Some(Some(y)) => (y as i64 as u64) << 2 | 2,
            });
            for a in *chunk {
                self.activity_digest(a, rows, &mut h);
            }
            c.depends_on("groups", &h.digest128());
            let digest = c.digest("person.html");
            if self.kept(sink, &path, digest)? {
                continue;
            }
            let mut groups: Vec<YearGroup> = Vec::new();
            for a in *chunk {
                if groups
                    .last()
                    .is_none_or(|g| g.anchor != year_anchor(a.year()))
                {
                    groups.push(YearGroup {
                        anchor: year_anchor(a.year()),
                        label: year_label(a.year()),
                        continued: k > 0
                            && chunks[k - 1].last().is_some_and(|b| b.year() == a.year()),
                        sections: Vec::new(),
                    });
                }
                let group = groups.last_mut().expect("pushed above");
                if group
                    .sections
                    .last()
                    .is_none_or(|s| s.role != label(a.role))
                {
                    group.sections.push(SectionView {
                        role: label(a.role),
                        items: Vec::new(),
                    });
                }
                let section = group.sections.last_mut().expect("pushed above");
                section.items.push(self.item(a, &root));
            }
            let mut context = c.context();
            context.insert("groups", &groups);
            let html = self.render("person.html", &context)?;
            sink.put_made_from(&path, digest, html.as_bytes())?;
        }
        Ok(total as u64)
    }

    /// The issue or commit an activity is about, as a row.
    fn item(&self, a: &Activity, root: &str) -> ItemView {
        match a.target() {
            Target::Issue(i) => {
                let s = &self.linked.issues[i as usize];
                ItemView {
                    label: s.key.to_string(),
                    href: format!("{root}{}.html", s.path()),
                    title: s.summary.to_string(),
                    commit: false,
                    status: s.status.as_deref().map(str::to_string),
                    status_class: status_class(s.status_category.as_deref()),
                    date: s.created.as_ref().map(TimeView::of),
                    count: if a.role == Role::Commented {
                        a.count
                    } else {
                        0
                    },
                }
            }
            Target::Commit(i) => {
                let c = &self.linked.history.commits[i as usize];
                ItemView {
                    label: c.short_id().to_string(),
                    href: format!("{root}{}", commit_path(&c.id)),
                    title: c.subject.clone(),
                    commit: true,
                    status: None,
                    status_class: String::new(),
                    date: c.time.as_ref().map(TimeView::of),
                    count: 0,
                }
            }
        }
    }
}
