//! What an issue page asks of the archive, noted so that the next build can keep the page
//! without reading its issue.
//!
//! An issue page is a function of the published issue (whose digest link keeps:
//! [`Linked::published`](crate::link::Linked)), the build's salt, and the answers the archive
//! gives to the questions rendering it asks: the summary and page of each issue it names, the
//! page of each person, the project's name, the issues that mention it, its Development panel,
//! and the pages its texts link. Rendering reaches the archive only through an [`Asking`],
//! which notes each question; the questions are kept with the page (`PageSink::remember_lookups`),
//! and the page's digest is taken over the issue's digest and the answers. A rebuild asks the
//! same questions again ([`answer`]) and, when the digest is the one the published page was
//! made from, keeps the page without reading, decoding or viewing its issue. A changed answer
//! renders the page again, which notes the questions the new answers lead to.

use std::sync::Mutex;

use crate::link::IssueSummary;
use crate::model::Person;
use crate::text::html::Resolve;

use super::commits::Development;
use super::people::PersonRef;
use super::Renderer;

/// The question noted by a page whose attachments' outcomes depend on the archive's files: such
/// a page's digest also covers its attachments, which only reading its issue tells, so it is
/// never kept from its questions alone.
pub(super) const ATTACHMENTS: &str = "a:";

/// The archive as an issue page sees it, noting every question asked of it.
pub(super) struct Asking<'r, 'a> {
    renderer: &'r Renderer<'a>,
    root: &'r str,
    asked: Mutex<Vec<String>>,
}

impl<'r, 'a> Asking<'r, 'a> {
    /// Questions asked for a page whose way back to the site root is `root`.
    pub(super) fn new(renderer: &'r Renderer<'a>, root: &'r str) -> Self {
        Asking {
            renderer,
            root,
            asked: Mutex::default(),
        }
    }

    /// The questions asked, each once, in the order first asked.
    pub(super) fn asked(self) -> Vec<String> {
        let mut asked = self.asked.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut seen = std::collections::HashSet::new();
        asked.retain(|q| seen.insert(q.clone()));
        asked
    }

    fn note(&self, kind: &str, what: &str) {
        let mut question = String::with_capacity(kind.len() + what.len());
        question.push_str(kind);
        question.push_str(what);
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(question);
    }

    /// The summary of the published issue `key` (its page, summary and whether it is open).
    pub(super) fn issue(&self, key: &str) -> Option<&'r IssueSummary> {
        self.note("r:", key);
        self.renderer.linked.issue(key)
    }

    /// How `person` is named and linked.
    pub(super) fn person(&self, person: &Person) -> PersonRef {
        let linked = self.renderer.linked;
        let name = if person.display.is_empty() {
            // Only then does the people directory decide the name.
            self.note("u:", &person.login);
            linked.display_name(person)
        } else {
            person.display.clone()
        };
        self.note("h:", &name);
        super::people::person_ref(linked, name, self.root)
    }

    /// The name of the project `key`, when the archive has it.
    pub(super) fn project_name(&self, key: &str) -> Option<&'r str> {
        self.note("P:", key);
        self.renderer
            .linked
            .projects
            .get(key)
            .map(|p| p.name.as_str())
    }

    /// The issues whose texts mention `key`.
    pub(super) fn mentioned_by(&self, key: &str) -> impl Iterator<Item = &'r str> {
        self.note("m:", key);
        self.renderer.linked.mentioned_by(key)
    }

    /// The Development panel of the issue `key` (without the tracker's fix versions, which
    /// are the issue's own).
    pub(super) fn development(&self, key: &str) -> Option<Development> {
        self.note("d:", key);
        self.renderer.development(key, self.root)
    }
}

impl Resolve for Asking<'_, '_> {
    fn issue_path(&self, key: &str) -> Option<String> {
        self.note("i:", key);
        self.renderer.linked.issue_path(key)
    }

    fn commit_path(&self, hex: &str) -> Option<String> {
        self.note("c:", hex);
        self.renderer.linked.commit_path(hex)
    }
}

/// The answer the archive gives now to a question an [`Asking`] noted on a page whose way back
/// to the root is `root`: everything of the answer the page could show.
pub(super) fn answer(renderer: &Renderer, root: &str, question: &str) -> Option<String> {
    let linked = renderer.linked;
    let (kind, what) = question.split_at(question.find(':').map_or(0, |i| i + 1));
    match kind {
        "i:" => linked.issue_path(what),
        "c:" => linked.commit_path(what),
        "r:" => linked
            .issue(what)
            .map(|s| format!("{}\n{}\n{}", s.path(), s.is_open(), s.summary)),
        "u:" => linked.people.get(what).cloned(),
        "h:" => linked.persons.href(what),
        "P:" => linked.projects.get(what).map(|p| p.name.clone()),
        "m:" => {
            let keys: Vec<&str> = linked.mentioned_by(what).collect();
            (!keys.is_empty()).then(|| keys.join("\n"))
        }
        "d:" => renderer
            .development(what, root)
            .map(|d| serde_json::to_string(&d).unwrap_or_default()),
        _ if question == ATTACHMENTS => None,
        _ => Some(format!("unknown question {question}")),
    }
}
