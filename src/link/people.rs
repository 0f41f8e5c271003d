//! People: who did what in the archive, gathered while linking, for the person pages.
//!
//! The same human appears as a JIRA username, a Bugzilla login and a git author, committer or
//! trailer name. They are joined only where the data makes it certain: two appearances are the
//! same person when their display names are equal (after the people directory turned logins
//! into names, and with runs of whitespace taken as one space). Nothing else is guessed: no
//! case folding, no initials, no matching of logins to names, and no address ever takes part
//! (addresses are masked before this stage and are not published).
//!
//! Each person gets a slug of their display name for their page (`people/sam-grant.html`):
//! accents dropped, lower-case ASCII letters and digits, dashes between. A name with no such
//! letter (`王小明`) is slugged `p-` and a hash of the name; a slug two names share is kept by
//! the first in alphabetical order, and the others add a hash of their own name. The slug is
//! never derived from an address or a login.
//!
//! People seen once (one comment, one report…) have no page of their own: their row in the
//! index links the one thing they did, and links to them lead to that row.

use std::collections::HashMap;

use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::import::People;
use crate::model::{Commit, Issue, Person};

/// Rows per page of the person index (`people/index.html`, then `people/index/2.html`…).
pub const INDEX_PAGE: usize = 1000;

/// What a person did to an issue or a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reported the issue.
    Reported,
    /// Is (one of) its assignees.
    Assigned,
    /// Commented on it (the activity's count is the number of comments).
    Commented,
    /// Authored the commit.
    Authored,
    /// Committed someone else's commit.
    Committed,
    /// Named in the commit's `Reviewed-by:` trailer.
    Reviewed,
}

impl Role {
    /// Every role, in the order pages show them.
    pub const ALL: [Role; 6] = [
        Role::Reported,
        Role::Assigned,
        Role::Commented,
        Role::Authored,
        Role::Committed,
        Role::Reviewed,
    ];

    /// Its place in [`Role::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What an activity is about: a published issue or a commit of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Position in [`crate::link::Linked::issues`].
    Issue(u32),
    /// Position in [`crate::source::history::History::commits`].
    Commit(u32),
}

/// One thing a person did, in one year: 16 bytes, since an archive holds several per issue
/// (600,000 at 100,000 issues) for the whole build. The year and the target are read through
/// [`Activity::year`] and [`Activity::target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activity {
    /// The target: an issue's position, or a commit's with [`COMMIT`] set.
    target: u32,
    /// How many times (comments on one issue in one year; 1 otherwise).
    pub count: u32,
    /// The year it happened (UTC), when known (timestamps have four-digit years).
    year: Option<i16>,
    /// What they did.
    pub role: Role,
}

/// The bit of [`Activity`]'s target that says it is a commit.
const COMMIT: u32 = 1 << 31;

impl Activity {
    /// One activity; a year beyond four digits is kept as unknown (timestamps have none).
    ///
    /// Positions are below 2³¹ (a target's top bit says which kind it is): a larger one
    /// loses its top bit, and keeps its kind.
    fn new(year: Option<i32>, role: Role, target: Target, count: u32) -> Activity {
        let target = match target {
            Target::Issue(i) => i & !COMMIT,
            Target::Commit(i) => i | COMMIT,
        };
        Activity {
            target,
            count,
            year: year.and_then(|y| i16::try_from(y).ok()),
            role,
        }
    }

    /// The year it happened (UTC), when known.
    pub fn year(&self) -> Option<i32> {
        self.year.map(i32::from)
    }

    /// What it is about.
    pub fn target(&self) -> Target {
        match self.target & COMMIT {
            0 => Target::Issue(self.target),
            _ => Target::Commit(self.target & !COMMIT),
        }
    }
}

/// A person as the people pages show them.
#[derive(Clone, Debug)]
pub struct Contributor {
    /// Display name (whitespace collapsed).
    pub name: String,
    /// Their page's file name without `.html`, unique in the site's `people/` folder.
    pub slug: String,
    /// What they did: newest year first (undated last), then by role, then newest first.
    pub activity: Vec<Activity>,
    /// Per role ([`Role::index`]): issues or commits, and for comments the comments.
    pub totals: [u64; 6],
}

impl Contributor {
    /// Everything they did, counting each comment.
    pub fn appearances(&self) -> u64 {
        self.totals.iter().sum()
    }

    /// Whether they have a page of their own (else only a row of the index).
    pub fn has_page(&self) -> bool {
        self.appearances() > 1
    }
}

/// Everyone named in the archive's issues and history, alphabetically.
#[derive(Debug, Default)]
pub struct PersonIndex {
    /// The people, in index order (by name, ignoring case and accents).
    pub people: Vec<Contributor>,
    by_name: HashMap<String, u32>,
}

impl PersonIndex {
    /// The person a display name names, if they did anything the pages list.
    pub fn get(&self, name: &str) -> Option<&Contributor> {
        let i = *self.by_name.get(&*name_key_of(name))?;
        Some(&self.people[i as usize])
    }

    /// Site-relative path of the index page listing the person at `position`.
    pub fn index_page(position: usize) -> String {
        match position / INDEX_PAGE {
            0 => "people/index.html".to_string(),
            n => format!("people/index/{}.html", n + 1),
        }
    }

    /// Site-relative link for a display name: their page, or their row of the index when they
    /// have no page; `None` for a name that is nobody's in the index.
    pub fn href(&self, name: &str) -> Option<String> {
        let i = *self.by_name.get(&*name_key_of(name))? as usize;
        let p = &self.people[i];
        Some(if p.has_page() {
            format!("people/{}.html", p.slug)
        } else {
            format!("{}#{}", Self::index_page(i), p.slug)
        })
    }

    /// Whether nobody is named anywhere.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }
}

/// A display name as people are told apart: runs of whitespace are one space, ends trimmed.
pub fn name_key(name: &str) -> String {
    name_key_of(name).into_owned()
}

/// [`name_key`], borrowed when the name is its own key (most are): the link pass asks for
/// the key of every reporter, assignee and comment author, half a million names at 100,000
/// issues.
fn name_key_of(name: &str) -> std::borrow::Cow<'_, str> {
    let mut after_space = true;
    let normal = name.chars().all(|c| {
        let ok = match c {
            ' ' => !after_space,
            c => !c.is_whitespace(),
        };
        after_space = c == ' ';
        ok
    }) && !after_space;
    match normal || name.is_empty() {
        true => std::borrow::Cow::Borrowed(name),
        false => std::borrow::Cow::Owned(name.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

/// The name a person is shown under: their display name, else the people directory's name for
/// their login, else the login.
pub fn resolved_name(people: &People, p: &Person) -> String {
    resolved(people, &p.login, &p.display).to_string()
}

/// [`resolved_name`] of the person with `login` and the display name `display`.
pub fn resolved<'a>(people: &'a People, login: &'a str, display: &'a str) -> &'a str {
    if !display.is_empty() {
        return display;
    }
    people.get(login).map_or(login, String::as_str)
}

/// Trailers whose value names a person (`Reviewed-by: Jane Roe <jroe@…>`): commit pages link
/// the name.
pub fn names_a_person(trailer_key: &str) -> bool {
    const KEYS: &[&str] = &[
        "reviewed-by",
        "signed-off-by",
        "tested-by",
        "acked-by",
        "co-authored-by",
        "reported-by",
        "suggested-by",
        "helped-by",
        "cc",
    ];
    KEYS.iter().any(|k| k.eq_ignore_ascii_case(trailer_key))
}

/// The name in a person trailer's value: what comes before the last `<…@…>` (the address,
/// masked or not), trimmed; `None` when nothing does, or when what is left is itself an
/// address (`Reviewed-by: jroe@…` names nobody by name).
pub fn trailer_name(value: &str) -> Option<&str> {
    let name = match value.rfind('<') {
        Some(i) if value[i..].contains('@') && value[i..].contains('>') => &value[..i],
        _ => value,
    }
    .trim();
    (!name.is_empty() && !name.contains('@')).then_some(name)
}

/// Accumulates activities during the link pass; [`Gather::finish`] sorts them into the index.
#[derive(Default)]
pub(crate) struct Gather {
    by_name: HashMap<String, Vec<Activity>>,
}

impl Gather {
    fn add(&mut self, name: &str, year: Option<i32>, role: Role, target: Target) {
        let key = name_key_of(name);
        if key.is_empty() {
            return;
        }
        let activity = Activity::new(year, role, target, 1);
        // Looked up by the borrowed key: a name seen before (nearly every one) costs no
        // allocation.
        match self.by_name.get_mut(&*key) {
            Some(acts) => acts.push(activity),
            None => {
                self.by_name.insert(key.into_owned(), vec![activity]);
            }
        }
    }

    /// Notes who reported, is assigned to and commented on the published issue at `position`.
    pub(crate) fn issue(&mut self, position: u32, issue: &Issue, people: &People) {
        let target = Target::Issue(position);
        let created = issue.created.as_ref().map(|t| t.year());
        // The name a person is shown under, borrowed: no allocation per person.
        fn who<'a>(people: &'a People, p: &'a Person) -> &'a str {
            resolved(people, &p.login, &p.display)
        }
        if let Some(p) = &issue.reporter {
            self.add(who(people, p), created, Role::Reported, target);
        }
        if issue.assignees.is_empty() {
            if let Some(p) = &issue.assignee {
                self.add(who(people, p), created, Role::Assigned, target);
            }
        } else {
            // Several assignees (GitHub): each once, however often the issue names them.
            let mut assignees: Vec<String> = (issue.assignee.iter())
                .chain(&issue.assignees)
                .map(|p| name_key(who(people, p)))
                .collect();
            assignees.sort();
            assignees.dedup();
            for name in assignees {
                self.add(&name, created, Role::Assigned, target);
            }
        }
        for c in &issue.comments {
            if let Some(p) = &c.author {
                let year = c.created.as_ref().map(|t| t.year()).or(created);
                self.add(who(people, p), year, Role::Commented, target);
            }
        }
    }

    /// Notes who authored, committed and reviewed the commit at `position` of the history.
    pub(crate) fn commit(&mut self, position: u32, commit: &Commit) {
        let target = Target::Commit(position);
        let authored = commit.author.time.as_ref().map(|t| t.year());
        let landed = commit.committer.time.as_ref().map(|t| t.year());
        self.add(&commit.author.name, authored, Role::Authored, target);
        if name_key(&commit.committer.name) != name_key(&commit.author.name) {
            self.add(&commit.committer.name, landed, Role::Committed, target);
        }
        let mut reviewers: Vec<String> = commit
            .trailers
            .iter()
            .filter(|t| t.key.eq_ignore_ascii_case("Reviewed-by"))
            .filter_map(|t| trailer_name(&t.value))
            .map(name_key)
            .collect();
        reviewers.sort();
        reviewers.dedup();
        for name in reviewers {
            self.add(&name, landed, Role::Reviewed, target);
        }
    }

    /// Merges repeated activities, orders everything and gives each person a unique slug.
    pub(crate) fn finish(self) -> PersonIndex {
        let mut people: Vec<Contributor> = self
            .by_name
            .into_iter()
            .map(|(name, acts)| contributor(name, acts))
            .collect();
        people.sort_by_cached_key(|p| (fold(&p.name).to_lowercase(), p.name.clone()));
        let mut taken: std::collections::HashSet<String> = Default::default();
        taken.insert("index".to_string());
        for p in &mut people {
            let base = base_slug(&p.name);
            let mut slug = base.clone();
            if taken.contains(&slug) {
                slug = format!("{base}-{}", name_hash(&p.name));
            }
            let mut n = 1;
            while taken.contains(&slug) {
                n += 1;
                slug = format!("{base}-{}-{n}", name_hash(&p.name));
            }
            taken.insert(slug.clone());
            p.slug = slug;
        }
        let by_name = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i as u32))
            .collect();
        PersonIndex { people, by_name }
    }
}

/// One person's activities merged (same year, role and target: counts added) and ordered.
fn contributor(name: String, mut acts: Vec<Activity>) -> Contributor {
    // Newest year first, undated last; then role; then newest first (issues by key, commits
    // by their place in the history, which is newest first).
    let order = |a: &Activity| {
        let target = match a.target() {
            Target::Issue(i) => (0, u32::MAX - i),
            Target::Commit(i) => (1, i),
        };
        (a.year().map_or(i64::MAX, |y| -(y as i64)), a.role, target)
    };
    acts.sort_by_key(order);
    let mut merged: Vec<Activity> = Vec::with_capacity(acts.len());
    for a in acts {
        match merged.last_mut() {
            Some(last) if (last.year, last.role, last.target) == (a.year, a.role, a.target) => {
                last.count += a.count
            }
            _ => merged.push(a),
        }
    }
    let mut totals = [0u64; 6];
    for a in &merged {
        totals[a.role.index()] += match a.role {
            Role::Commented => a.count as u64,
            _ => 1,
        };
    }
    // An issue commented on in several years counts once per year in the activity list, but
    // each comment once in the totals; reports and commits count once.
    Contributor {
        name,
        slug: String::new(),
        activity: merged,
        totals,
    }
}

/// The name without accents (`José` → `Jose`), for ordering and slugs.
fn fold(name: &str) -> String {
    name.nfkd().filter(|c| !is_combining_mark(*c)).collect()
}

/// Eight hex digits of a hash of the name: tells apart names that slug alike.
fn name_hash(name: &str) -> String {
    format!("{:08x}", xxhash_rust::xxh3::xxh3_64(name.as_bytes()) as u32)
}

/// The slug of a name before de-duplication: lower-case ASCII letters and digits of the name
/// without accents, dashes between words, at most 60 bytes; `p-<hash>` when nothing is left.
fn base_slug(name: &str) -> String {
    let mut s = String::new();
    for c in fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.truncate(60);
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() {
        format!("p-{}", name_hash(name))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Comment, Signature, Text, Timestamp, Trailer};

    #[test]
    fn a_name_is_its_own_key_only_when_its_whitespace_is_single_spaces_inside() {
        for name in [
            "Jane Roe",
            "",
            "Ünïcode Nämé",
            " Jane Roe",
            "Jane Roe ",
            "Jane  Roe",
            "Jane\tRoe",
            "Jane\u{a0}Roe",
            "   ",
            "x",
        ] {
            let key = name_key_of(name);
            assert_eq!(
                key,
                name.split_whitespace().collect::<Vec<_>>().join(" "),
                "{name:?}"
            );
            let borrowed = matches!(key, std::borrow::Cow::Borrowed(_));
            assert_eq!(borrowed, key == name, "{name:?}");
        }
    }

    fn at(year: i32) -> Option<Timestamp> {
        let t = chrono::DateTime::parse_from_rfc3339(&format!("{year}-06-01T12:00:00+00:00"));
        Some(Timestamp(t.unwrap()))
    }

    fn person(login: &str, display: &str) -> Option<Person> {
        Some(Person {
            login: login.into(),
            display: display.into(),
            ..Default::default()
        })
    }

    #[test]
    fn slugs_are_names_and_never_collide() {
        let mut g = Gather::default();
        for name in [
            "Sam Grant",
            "Sam  Grant",
            "sam grant",
            "José Núñez",
            "王小明",
            "Index",
        ] {
            g.add(name, None, Role::Reported, Target::Issue(0));
        }
        let index = g.finish();
        let slugs: Vec<(&str, &str)> = index
            .people
            .iter()
            .map(|p| (p.name.as_str(), p.slug.as_str()))
            .collect();
        assert_eq!(slugs.len(), 5, "{slugs:?}");
        // "Sam Grant" and "Sam  Grant" are one person; "sam grant" another, told apart.
        assert_eq!(index.get("Sam   Grant").unwrap().slug, "sam-grant");
        let other = &index.get("sam grant").unwrap().slug;
        assert!(
            other.starts_with("sam-grant-") && other.len() == 18,
            "{other}"
        );
        assert_eq!(index.get("José Núñez").unwrap().slug, "jose-nunez");
        assert!(index.get("王小明").unwrap().slug.starts_with("p-"));
        assert!(index.get("Index").unwrap().slug.starts_with("index-"));
        // Alphabetical, ignoring case and accents.
        assert_eq!(slugs[0].0, "Index");
        assert_eq!(slugs[1].0, "José Núñez");
    }

    #[test]
    fn an_issue_and_a_commit_join_on_the_display_name() {
        let mut people = People::new();
        people.insert("sgrant".into(), "Sam Grant".into());
        let issue = Issue {
            key: "LU-1".into(),
            created: at(2019),
            reporter: person("sgrant", ""),
            assignee: person("JIRAUSER1", "Ravi Patel"),
            comments: vec![
                Comment {
                    author: person("sgrant", ""),
                    created: at(2020),
                    body: Text::default(),
                    ..Default::default()
                },
                Comment {
                    author: person("sgrant", "Sam Grant"),
                    created: at(2020),
                    ..Default::default()
                },
                Comment {
                    author: person("x", "Once Only"),
                    created: at(2020),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let commit = Commit {
            id: "a".repeat(40),
            author: Signature {
                name: "Sam Grant".into(),
                email: "sgrant@…".into(),
                time: at(2021),
            },
            committer: Signature {
                name: "Dmitri Karpov".into(),
                email: String::new(),
                time: at(2022),
            },
            trailers: vec![
                Trailer {
                    key: "Reviewed-by".into(),
                    value: "Ravi Patel <rpatel@…>".into(),
                },
                Trailer {
                    key: "reviewed-by".into(),
                    value: "Ravi  Patel".into(),
                },
            ],
            ..Default::default()
        };
        let mut g = Gather::default();
        g.issue(7, &issue, &people);
        g.commit(3, &commit);
        let index = g.finish();
        let sam = index.get("Sam Grant").unwrap();
        assert_eq!(sam.totals, [1, 0, 2, 1, 0, 0]);
        let years: Vec<_> = sam.activity.iter().map(|a| (a.year(), a.role)).collect();
        assert_eq!(
            years,
            [
                (Some(2021), Role::Authored),
                (Some(2020), Role::Commented),
                (Some(2019), Role::Reported)
            ]
        );
        assert_eq!(sam.activity[1].count, 2);
        let ravi = index.get("Ravi Patel").unwrap();
        assert_eq!(ravi.totals, [0, 1, 0, 0, 0, 1]);
        assert_eq!(index.get("Dmitri Karpov").unwrap().totals[4], 1);
        assert_eq!(index.href("Sam Grant").unwrap(), "people/sam-grant.html");
        let once = index.href("Once Only").unwrap();
        assert_eq!(once, "people/index.html#once-only");
        assert!(index.href("Nobody").is_none());
    }

    #[test]
    fn an_activity_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Activity>(), 16);
    }

    #[test]
    fn an_activity_keeps_its_year_when_it_fits_in_an_i16() {
        let year = |y| Activity::new(y, Role::Reported, Target::Issue(0), 1).year();
        for y in [2012, 1970, 0, -44, 9999, i16::MAX as i32, i16::MIN as i32] {
            assert_eq!(year(Some(y)), Some(y), "{y}");
        }
        assert_eq!(year(None), None);
        // Beyond an i16 the year is unknown, not wrapped or clamped.
        for y in [i16::MAX as i32 + 1, i16::MIN as i32 - 1, i32::MAX, i32::MIN] {
            assert_eq!(year(Some(y)), None, "{y}");
        }
    }

    #[test]
    fn an_activity_keeps_its_target_and_the_rest() {
        let largest = (1 << 31) - 1;
        for target in [
            Target::Issue(0),
            Target::Issue(7),
            Target::Issue(largest),
            Target::Commit(0),
            Target::Commit(3),
            Target::Commit(largest),
        ] {
            let a = Activity::new(Some(2012), Role::Commented, target, 5);
            assert_eq!(a.target(), target);
            assert_eq!(
                (a.year(), a.role, a.count),
                (Some(2012), Role::Commented, 5)
            );
        }
        // An issue and a commit at the same position are different targets.
        let issue = Activity::new(None, Role::Reviewed, Target::Issue(9), 1);
        let commit = Activity::new(None, Role::Reviewed, Target::Commit(9), 1);
        assert_ne!(issue, commit);
    }

    #[test]
    fn a_position_beyond_31_bits_loses_its_top_bit_and_keeps_its_kind() {
        let target = |t| Activity::new(None, Role::Authored, t, 1).target();
        assert_eq!(target(Target::Issue(1 << 31)), Target::Issue(0));
        assert_eq!(
            target(Target::Issue(u32::MAX)),
            Target::Issue((1 << 31) - 1)
        );
        assert_eq!(target(Target::Commit(1 << 31)), Target::Commit(0));
        assert_eq!(
            target(Target::Commit(u32::MAX)),
            Target::Commit((1 << 31) - 1)
        );
    }

    #[test]
    fn trailer_names() {
        assert_eq!(trailer_name("Jane Roe <jroe@…>"), Some("Jane Roe"));
        assert_eq!(trailer_name("<jroe@…>"), None);
        assert_eq!(trailer_name("jroe@…"), None);
        assert_eq!(trailer_name("Jane Roe <jroe@…> (ACME)"), Some("Jane Roe"));
        assert_eq!(trailer_name("a <b> c <x@…>"), Some("a <b> c"));
        assert_eq!(trailer_name("Maloo"), Some("Maloo"));
        assert!(names_a_person("REVIEWED-BY"));
        assert!(!names_a_person("Change-Id"));
    }
}
