//! E-mail addresses are not published: each address in tracker text, a person's name or
//! login, or any field of an issue is masked (`jdoe@example.com` → `jdoe@…`) unless the
//! config says to publish them.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::model::{Issue, Person, Text};

fn email_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A domain needs a dot and a letter-only top-level label: LNet NIDs (`10.0.0.1@o2ib1`,
    // `192.168.1.7@tcp`) and `user@host` are not addresses and stay as written.
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)\b([a-z0-9][a-z0-9._%+-]*)@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}\b",
        )
        .unwrap()
    })
}

/// Replaces the domain of every e-mail address in `text` with `…`: `jdoe@example.com` →
/// `jdoe@…`. The local part stays so a reader can still tell people apart.
pub fn mask_emails(text: &str) -> Cow<'_, str> {
    email_pattern().replace_all(text, "$1@…")
}

/// Masks the addresses in `s`, leaving it untouched when there is none.
pub fn mask_in_place(s: &mut String) {
    if s.contains('@') {
        if let Cow::Owned(m) = mask_emails(s) {
            *s = m;
        }
    }
}

/// Masks a person: the address field is removed, and a login or name that is an address is
/// masked.
pub fn mask_person(p: &mut Person) {
    p.email = None;
    mask_in_place(&mut p.login);
    mask_in_place(&mut p.display);
}

fn mask_text(t: &mut Text) {
    mask_in_place(&mut t.content);
}

/// Masks every e-mail address anywhere in an issue.
pub fn mask_issue(issue: &mut Issue) {
    mask_in_place(&mut issue.summary);
    for t in issue
        .description
        .iter_mut()
        .chain(issue.environment.iter_mut())
    {
        mask_text(t);
    }
    for p in issue.assignee.iter_mut().chain(issue.reporter.iter_mut()) {
        mask_person(p);
    }
    for c in &mut issue.comments {
        mask_text(&mut c.body);
        c.author.iter_mut().for_each(mask_person);
    }
    for a in &mut issue.attachments {
        mask_in_place(&mut a.name);
        a.description.iter_mut().for_each(mask_in_place);
        a.author.iter_mut().for_each(mask_person);
    }
    for f in &mut issue.custom_fields {
        f.values.iter_mut().for_each(mask_in_place);
    }
    for v in issue
        .labels
        .iter_mut()
        .chain(issue.versions.iter_mut())
        .chain(issue.fix_versions.iter_mut())
        .chain(issue.components.iter_mut())
        .chain(issue.extra.values_mut())
    {
        mask_in_place(v);
    }
    for h in &mut issue.history {
        h.author.iter_mut().for_each(mask_person);
        for c in &mut h.changes {
            c.from.iter_mut().for_each(mask_in_place);
            c.to.iter_mut().for_each(mask_in_place);
        }
    }
    for w in &mut issue.worklogs {
        w.author.iter_mut().for_each(mask_person);
        w.comment.iter_mut().for_each(mask_text);
    }
    if let Some(url) = &mut issue.url {
        mask_in_place(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_but_nids_and_bare_hosts_stay() {
        let text = "mail john.doe@whamcloud.com or JD@Example.CO.UK; nid 192.168.1.7@tcp, 10.0.0.1@o2ib1, root@oss1";
        assert_eq!(
            mask_emails(text),
            "mail john.doe@… or JD@…; nid 192.168.1.7@tcp, 10.0.0.1@o2ib1, root@oss1"
        );
    }
}
