//! Field census on real-shaped exports (`tests/fixtures/census/`, origins in each folder's
//! `SOURCES`): every field the source holds reaches the issue page or the per-issue JSON.
//!
//! For each fixture the test lists the source's leaf fields with their paths (XML element and
//! attribute paths such as `item/customfields/customfield/@id`, JSON paths such as
//! `fields.timetracking.originalEstimate`, array indices collapsed to `[]`), builds a site from
//! it with the library, and looks for every leaf's value in its issue's page (text and
//! attributes) or per-issue JSON (any value). Dates are also looked for in the forms hindsight
//! writes them in. A leaf whose value is found nowhere fails the test unless its path is in the
//! format's one allow-list below, with the reason it is left out; an allow-list entry that
//! is not needed fails the test too, so the lists only shrink: one that matches no field of
//! the source, or only fields of issues whose values are found (unless a value is one that
//! may be found by chance: short, numeric or boolean).
//!
//! Values of one or two characters (`0`, `P3`, `?`) are only matched as a whole JSON value or a
//! whole text node of the page, so they are found when kept but could be found by chance;
//! longer values are matched as substrings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use serde_json::Value;

use crate::common::*;

/// One leaf field of the source: its path and value.
#[derive(Debug)]
struct Leaf {
    path: String,
    value: String,
}

/// The leaves of one issue of the source, with the key hindsight publishes it under (`None`
/// for the leaves outside any issue, such as an export's header: they are looked for in every
/// issue).
struct SourceIssue {
    key: Option<String>,
    leaves: Vec<Leaf>,
}

/// One format's fixture: where it is, how to configure it, and what it may leave out.
struct Census {
    folder: &'static str,
    tracker: &'static str,
    /// Path patterns (exact, or a prefix ending in `*`) with the reason each is not published.
    allowed: &'static [(&'static str, &'static str)],
}

// ---------------------------------------------------------------------------------------------
// The allow-lists: one per format, each entry with its reason.

const JIRA_XML_ALLOWED: &[(&str, &str)] = &[
    (
        "rss/@version",
        "the RSS version of the export file itself",
    ),
    (
        "rss/channel/title",
        "the export's own header (the tracker's title), not an issue field",
    ),
    (
        "rss/channel/link",
        "the export's own header (the search that made it)",
    ),
    (
        "rss/channel/description",
        "the export's own header (a fixed sentence)",
    ),
    (
        "rss/channel/language",
        "the export's own header (the exporting user's locale)",
    ),
    (
        "rss/channel/issue/@*",
        "paging of the export (start, end, total), not an issue field",
    ),
    (
        "rss/channel/build-info/*",
        "the export's own <build-info>: the JIRA version that wrote the file",
    ),
    (
        "item/*/@iconUrl",
        "icons on the old tracker's host: links to a dead server, never published",
    ),
    (
        "item/resolution/@id",
        "`-1`, JIRA's id for Unresolved, published as no resolution (other ids are kept as `resolution_id`)",
    ),
    (
        "item/assignee/@username",
        "`-1` is JIRA's placeholder login for Unassigned",
    ),
    (
        "item/customfields/customfield/customfieldvalues",
        "volatile custom fields (`56 minutes ago`) change at every export and would make builds differ",
    ),
    ("item/customfields/customfield/@id", "the id of a volatile custom field (Rank, Days since reply), left out with the field; other custom fields keep theirs"),
    ("item/customfields/customfield/@key", "the type key of a volatile custom field (Rank, Days since reply), left out with the field; other custom fields keep theirs"),
    ("item/customfields/customfield/customfieldname", "volatile custom fields (Rank, Days since reply) change at every export; left out so builds do not differ"),
    ("item/customfields/customfield/customfieldvalues/customfieldvalue", "volatile custom fields (Rank, Days since reply) change at every export; left out so builds do not differ"),
    ("item/customfields/customfield/customfieldvalues/customfieldvalue/@id", "the internal id of a sprint or option; its value is kept"),
    ("item/customfields/customfield/customfieldvalues/customfieldvalue/@key", "the internal id of a sprint or option; its value is kept"),
];

const JIRA_JSON_ALLOWED: &[(&str, &str)] = &[
    ("expand", "the request's own expand parameter"),
    ("startAt", "paging of the search response"),
    ("maxResults", "paging of the search response"),
    ("total", "paging of the search response"),
    ("issues[].expand", "which expansions the server offers, not a field"),
    (
        "*.self",
        "REST URLs of the old server: links to a dead API, never published",
    ),
    (
        "*.iconUrl",
        "icons on the old tracker's host: links to a dead server, never published",
    ),
    (
        "*.avatarUrls.*",
        "avatars on the old tracker's host: links to a dead server, never published",
    ),
    (
        "*.avatarId",
        "the id of an icon on the old tracker's host",
    ),
    (
        "names.*",
        "the display names of fields: kept as the custom fields' names, not as a map",
    ),
    (
        "schema.*",
        "the types of fields: kept as the custom fields' type keys, not as a map",
    ),
    (
        "issues[].renderedFields.created",
        "the display form (`24/Apr/15 12:04 PM`) of `fields.created`, which is kept",
    ),
    (
        "issues[].renderedFields.updated",
        "the display form of `fields.updated`, which is kept",
    ),
    (
        "issues[].renderedFields.duedate",
        "the display form of `fields.duedate`, which is kept",
    ),
    (
        "issues[].renderedFields.comment.comments[].created",
        "the display form of the comment's `created`, which is kept",
    ),
    (
        "issues[].renderedFields.comment.comments[].updated",
        "the display form of the comment's `updated`, which is kept",
    ),
    (
        "issues[].renderedFields.comment.maxResults",
        "paging of the comment list",
    ),
    (
        "issues[].renderedFields.comment.total",
        "paging of the comment list",
    ),
    (
        "issues[].renderedFields.comment.startAt",
        "paging of the comment list",
    ),
    ("issues[].fields.comment.maxResults", "paging of the comment list"),
    ("issues[].fields.comment.total", "paging of the comment list"),
    ("issues[].fields.comment.startAt", "paging of the comment list"),
    ("issues[].fields.worklog.maxResults", "paging of the worklog list"),
    ("issues[].fields.worklog.total", "paging of the worklog list"),
    ("issues[].fields.worklog.startAt", "paging of the worklog list"),
    ("issues[].changelog.maxResults", "paging of the changelog"),
    ("issues[].changelog.total", "paging of the changelog"),
    ("issues[].changelog.startAt", "paging of the changelog"),
    ("issues[].changelog.histories[].author.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].changelog.histories[].items[].from", "internal ids of the old and new values; fromString/toString are kept"),
    ("issues[].changelog.histories[].items[].to", "internal ids of the old and new values; fromString/toString are kept"),
    ("issues[].fields.assignee.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.assignee.emailAddress", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("issues[].fields.assignee.timeZone", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.attachment[].author.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.comment.comments[].author.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.comment.comments[].author.timeZone", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.comment.comments[].updateAuthor.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.creator.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.creator.timeZone", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.customfield_10110.id", "the internal id of a select option; its value is kept"),
    ("issues[].fields.fixVersions[].archived", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("issues[].fields.fixVersions[].released", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("issues[].fields.issuelinks[].outwardIssue.fields.status.id", "the linked issue's own status id, kept on its own page when it is archived"),
    ("issues[].fields.issuelinks[].outwardIssue.fields.summary", "the linked issue's own summary, kept on its own page when it is archived"),
    ("issues[].fields.issuelinks[].type.inward", "the phrase for the other direction; this issue's own phrase (`blocks`) is kept"),
    ("issues[].fields.issuetype.subtask", "whether the type is a sub-task type: the parent/subtasks links carry it"),
    ("issues[].fields.project.projectTypeKey", "the project's kind in JIRA (software, business), not an issue field"),
    ("issues[].fields.reporter.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.reporter.emailAddress", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("issues[].fields.reporter.timeZone", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.versions[].archived", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("issues[].fields.versions[].released", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("issues[].fields.votes.hasVoted", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.watches.isWatching", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("issues[].fields.worklog.worklogs[].author.active", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
];

const BUGZILLA_XML_ALLOWED: &[(&str, &str)] = &[
    (
        "bugzilla/@maintainer",
        "the exporting installation's admin address: private, not an issue field",
    ),
    (
        "bugzilla/@exporter",
        "the address of the account that made the export: private, not an issue field",
    ),
    (
        "bugzilla/@version",
        "the Bugzilla version that wrote the file",
    ),
    (
        "bugzilla/@urlbase",
        "the old tracker's address, used to build each issue's `url`",
    ),
    (
        "bug/token",
        "a session token of the exporting account: a secret, never published",
    ),
    (
        "bug/attachment/token",
        "a session token of the exporting account: a secret, never published",
    ),
    (
        "bug/@error",
        "a `NotPermitted` stub carries no issue: nothing to publish",
    ),
    ("bug/assigned_to", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/attachment/@isobsolete", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bug/attachment/@isprivate", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bug/attachment/attacher", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/attachment/data", "attachment bytes: published as the attachment's file, not as text"),
    ("bug/attachment/data/@encoding", "attachment bytes: published as the attachment's file, not as text"),
    ("bug/attachment/flag/@type_id", "kept in `extra[\"flag_ids\"]` (`inspection?: id 402, type 4`), where a one-character value is not matched inside a longer one"),
    ("bug/attachment/flag/@setter", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/attachment/flag/@status", "the status is kept joined to the flag's name (`needinfo?`, `review-`) in the `flags` custom field"),
    ("bug/bug_id", "the id of a `NotPermitted` stub, which carries no issue"),
    ("bug/cc", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/comment_sort_order", "read to put the comments oldest first, the order pages show them in"),
    ("bug/flag/@requestee", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/flag/@setter", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/flag/@status", "the status is kept joined to the flag's name (`needinfo?`, `review-`) in the `flags` custom field"),
    ("bug/keywords", "split at commas into labels (`api`, `regression`), each kept"),
    ("bug/long_desc/@isprivate", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bug/long_desc/comment_count", "comment number 0 is the description, kept as the description (other numbers are kept as `#cN`)"),
    ("bug/long_desc/commentid", "the id of comment 0, which becomes the description"),
    ("bug/long_desc/who", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/qa_contact", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bug/remaining_time", "`0.00` is Bugzilla's value for time tracking never used: left out (other values are kept)"),
    ("bug/reporter", "an e-mail address: masked at admission by design (the display name is kept)"),
];

const BUGZILLA_JSON_ALLOWED: &[(&str, &str)] = &[
    ("bugs[].assigned_to", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].assigned_to_detail.email", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].assigned_to_detail.name", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].attachments[].creator", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].attachments[].data", "attachment bytes: published as the attachment's file, not as text"),
    ("bugs[].attachments[].is_obsolete", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bugs[].attachments[].is_private", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bugs[].blocks[]", "a link to a bug not in this archive: the link stage removes links to issues it does not hold"),
    ("bugs[].cc[]", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].cc_detail[].email", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].cc_detail[].name", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].cc_detail[].nick", "Bugzilla's nick, by default the part of the e-mail address before the `@`: left out with the address (the display name is kept)"),
    ("bugs[].comment_count", "the number of comments: the comments themselves are kept"),
    ("bugs[].comments[].author", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].comments[].creator", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].comments[].id", "the id of comment 0, which becomes the description"),
    ("bugs[].comments[].is_markdown", "always false on this Bugzilla; comments are imported as plain text (follow-up: Markdown when true)"),
    ("bugs[].comments[].is_private", "a false/0 default the model leaves out (true values are kept or drop the item)"),
    ("bugs[].creator", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].creator_detail.email", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].creator_detail.name", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].depends_on[]", "a link to a bug not in this archive: the link stage removes links to issues it does not hold"),
    ("bugs[].flags[].requestee", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].flags[].setter", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].flags[].status", "the status is kept joined to the flag's name (`needinfo?`, `review-`) in the `flags` custom field"),
    ("bugs[].history[].changes[].added", "a flag change naming an e-mail address, masked by design"),
    ("bugs[].history[].who", "an e-mail address: masked at admission by design (the display name is kept)"),
    ("bugs[].is_open", "derivable from the status, which is kept with its category"),
];

const GITHUB_ALLOWED: &[(&str, &str)] = &[
    (
        "*.url",
        "API URLs of GitHub (`api.github.com/repos/…`): the `html_url` is the link kept",
    ),
    (
        "*_url",
        "API URL templates of GitHub (`…{/other_user}`), avatars and the like (a kept \
         `html_url` is found before this entry is read)",
    ),
    ("*.node_id", "GitHub's GraphQL id, not shown anywhere on GitHub either"),
    ("assignee.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("assignee.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("assignees[].site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("assignees[].type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("closed_by.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("closed_by.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("comment_data[].reactions.+1", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.-1", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.confused", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.eyes", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.heart", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.hooray", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].reactions.laugh", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("comment_data[].user.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("comment_data[].user.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("comments", "the number of comments: the comments themselves are kept"),
    ("draft", "a false default the model leaves out"),
    ("event_data[].actor.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("event_data[].actor.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("locked", "a false default the model leaves out (true is kept and shown)"),
    ("milestone.creator.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("milestone.creator.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("reactions.+1", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.-1", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.confused", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.eyes", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.heart", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.hooray", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.laugh", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.rocket", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("reactions.total_count", "zero reaction counts and the total: non-zero counts are kept per reaction"),
    ("state", "published as the status in the page's words (`Closed`, `Merged`)"),
    ("url", "GitHub API URL of the issue; the html_url is kept"),
    ("user.site_admin", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
    ("user.type", "account or viewer state (active, site admin, time zone, the exporter's own vote or watch), not part of the issue"),
];

const ISSUEZILLA_ALLOWED: &[(&str, &str)] = &[
    (
        "issuezilla/@exporter",
        "the account that made the export: not an issue field",
    ),
    (
        "issuezilla/@maintainer",
        "the exporting installation's admin address: private, not an issue field",
    ),
    ("issuezilla/@version", "the Issuezilla version that wrote the file"),
    ("issuezilla/@charset", "the file's encoding, read by the XML reader"),
    (
        "issuezilla/@urlbase",
        "the old tracker's address, used to build each issue's `url`",
    ),
    (
        "issuezilla/@project_domain",
        "the hosting site's domain (tigris.org), not an issue field",
    ),
    (
        "issuezilla/@project_id",
        "the hosting site's internal number of the project; its name is kept",
    ),
    ("issuezilla/@dtd_version", "the revision of the DTD the file follows"),
    (
        "issue/@status_code",
        "the export's per-issue answer (200 OK); an issue with any other is a stub, skipped with a warning",
    ),
    (
        "issue/@status_message",
        "the export's per-issue answer (200 OK); an issue with any other is a stub, skipped with a warning",
    ),
    (
        "issue/attachment/ispatch",
        "`0`, the default: an attachment that is not a patch leaves `patch` out of the JSON (`1` is kept as `patch: true`)",
    ),
    ("issue/attachment/data", "attachment bytes: published as the attachment's file, not as text"),
];

const FORMATS: &[Census] = &[
    Census {
        folder: "jira-xml",
        tracker: "name = \"jira\"\npaths = [\"exports/*.xml\"]\n",
        allowed: JIRA_XML_ALLOWED,
    },
    Census {
        folder: "jira-json",
        tracker: "name = \"jira\"\npaths = [\"exports/*.json\"]\n",
        allowed: JIRA_JSON_ALLOWED,
    },
    Census {
        folder: "bugzilla-xml",
        tracker: "name = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"exports/*.xml\"]\n",
        allowed: BUGZILLA_XML_ALLOWED,
    },
    Census {
        folder: "bugzilla-json",
        tracker: "name = \"bugzilla\"\nkey_prefix = \"BZ\"\npaths = [\"exports/*.json\"]\n",
        allowed: BUGZILLA_JSON_ALLOWED,
    },
    Census {
        folder: "../issuezilla",
        tracker: "key_prefix = \"ARGO\"\ntimezone = \"America/Los_Angeles\"\npaths = [\"exports/*.xml\"]\n",
        allowed: ISSUEZILLA_ALLOWED,
    },
];

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn jira_xml_fields_are_all_published() {
    census(&FORMATS[0], |text| {
        xml_issues(text, "item", |leaves| {
            leaf(leaves, "item/key").map(str::to_string)
        })
    });
}

#[test]
fn jira_json_fields_are_all_published() {
    census(&FORMATS[1], |text| {
        json_issues(text, "issues", |issue| {
            issue["key"].as_str().map(str::to_string)
        })
    });
}

#[test]
fn bugzilla_xml_fields_are_all_published() {
    census(&FORMATS[2], |text| {
        xml_issues(text, "bug", |leaves| {
            if leaf(leaves, "bug/@error").is_some() {
                return None;
            }
            leaf(leaves, "bug/bug_id").map(|id| format!("BZ-{id}"))
        })
    });
}

#[test]
fn bugzilla_json_fields_are_all_published() {
    census(&FORMATS[3], |text| {
        json_issues(text, "bugs", |bug| {
            bug["id"].as_u64().map(|id| format!("BZ-{id}"))
        })
    });
}

#[test]
fn issuezilla_fields_are_all_published() {
    census(&FORMATS[4], |text| {
        xml_issues(text, "issue", |leaves| {
            leaf(leaves, "issue/issue_id").map(|id| format!("ARGO-{id}"))
        })
    });
}

#[test]
fn github_fields_are_all_published() {
    let github = Census {
        folder: "../github",
        tracker: "paths = [\"exports/acme-fs.json\"]\n",
        allowed: GITHUB_ALLOWED,
    };
    census(&github, |text| {
        let value: Value = serde_json::from_str(text).unwrap();
        let mut issues = Vec::new();
        for issue in value.as_array().unwrap() {
            let mut leaves = Vec::new();
            json_leaves(issue, "", &mut leaves);
            issues.push(SourceIssue {
                key: issue["number"].as_u64().map(|n| format!("FS-{n}")),
                leaves,
            });
        }
        issues
    });
}

// ---------------------------------------------------------------------------------------------
// The census itself.

fn census(format: &Census, read: impl Fn(&str) -> Vec<SourceIssue>) {
    let folder = repo().join("tests/fixtures/census").join(format.folder);
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let exports = site.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let wanted = if format.folder == "../github" {
            name == "acme-fs.json"
        } else {
            name != "SOURCES"
        };
        if wanted {
            std::fs::copy(&path, exports.join(&name)).unwrap();
            sources.push(path);
        }
    }
    sources.sort();
    assert!(!sources.is_empty(), "no fixture in {}", folder.display());
    std::fs::write(
        site.join("hindsight.toml"),
        format!(
            "title = \"census\"\noutput = \"public\"\n\n[[tracker]]\n{}",
            format.tracker
        ),
    )
    .unwrap();
    build(&site).unwrap();
    let public = site.join("public");

    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut used = vec![false; format.allowed.len()];
    let mut pages: BTreeMap<String, Published> = BTreeMap::new();
    for source in &sources {
        let text = std::fs::read_to_string(source).unwrap();
        let issues = read(&text);
        let keys: Vec<String> = issues.iter().filter_map(|i| i.key.clone()).collect();
        for key in &keys {
            pages
                .entry(key.clone())
                .or_insert_with(|| Published::read(&public, key));
        }
        for issue in &issues {
            let haystacks: Vec<&Published> = match &issue.key {
                Some(key) => vec![&pages[key]],
                None => keys.iter().map(|k| &pages[k]).collect(),
            };
            for leaf in &issue.leaves {
                let allowed = format
                    .allowed
                    .iter()
                    .position(|(pattern, _)| matches(pattern, &leaf.path));
                // An Issuezilla relation (`<dependson><issue_id>4</issue_id>`) names an issue
                // of the same tracker: it is published as that issue's key.
                let as_key = leaf.path.ends_with("/issue_id") && leaf.path.matches('/').count() > 1;
                let found = leaf.value.trim().is_empty()
                    || haystacks.iter().any(|p| p.holds(&leaf.value))
                    || as_key
                        && key_prefix(format).is_some_and(|prefix| {
                            let key = format!("{prefix}-{}", leaf.value.trim());
                            haystacks.iter().any(|p| p.holds(&key))
                        });
                if let Some(i) = allowed {
                    // An entry is needed while a field it matches is not found, or is found
                    // only in a way that may be chance: a short, numeric or boolean value, or
                    // a field of the export's header (looked for in every issue).
                    if !found || issue.key.is_none() || weak(&leaf.value) {
                        used[i] = true;
                    }
                    continue;
                }
                if found {
                    continue;
                }
                missing
                    .entry(leaf.path.clone())
                    .or_default()
                    .insert(short(&leaf.value));
            }
        }
    }
    let stale: Vec<&str> = format
        .allowed
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((pattern, _), _)| *pattern)
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "{}: fields of the source neither shown nor kept (path: values):\n{}\n\
         allow-list entries no longer needed (every field they match is published): {stale:?}",
        format.folder,
        missing
            .iter()
            .map(|(path, values)| format!("  {path}: {values:?}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// A value that may be found by chance: one or two characters, a number or a boolean.
fn weak(value: &str) -> bool {
    let v = value.trim();
    v.chars().count() <= 2 || v.parse::<f64>().is_ok() || v == "true" || v == "false"
}

fn short(value: &str) -> String {
    let value = normalise(value);
    match value.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value,
    }
}

/// Whether `pattern` (exact, or `*` anywhere standing for any run of characters) matches
/// `path`.
fn matches(pattern: &str, path: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == path;
    }
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// What was published for one issue.

struct Published {
    /// Every value of the per-issue JSON, whitespace normalised.
    json: Vec<String>,
    /// The page's text nodes and attribute values, entities decoded, whitespace normalised.
    html: Vec<String>,
}

impl Published {
    fn read(public: &Path, key: &str) -> Published {
        let page: PathBuf = public.join(format!("{}.html", hindsight::keys::issue_path(key)));
        let html = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{key}: no page {}: {e}", page.display()));
        let json = std::fs::read_to_string(page.with_extension("json")).unwrap();
        let json: Value = serde_json::from_str(&json).unwrap();
        let mut leaves = Vec::new();
        json_leaves(&json, "", &mut leaves);
        Published {
            json: leaves.into_iter().map(|l| normalise(&l.value)).collect(),
            html: html_pieces(&html),
        }
    }

    fn holds(&self, value: &str) -> bool {
        candidates(value).iter().any(|c| {
            let whole = |s: &String| s == c;
            let part = |s: &String| c.chars().count() > 2 && s.contains(c.as_str());
            self.json.iter().any(|s| whole(s) || part(s))
                || self.html.iter().any(|s| whole(s) || part(s))
        })
    }
}

/// The key prefix a census's tracker config names (`key_prefix = "ARGO"`).
fn key_prefix(format: &Census) -> Option<&str> {
    let rest = format.tracker.split("key_prefix = \"").nth(1)?;
    rest.split('"').next()
}

/// The forms a source value may be published in: as written; a date also in RFC 3339 (with
/// its offset, and in UTC) and as pages show it; a number also without a trailing `.0`.
fn candidates(value: &str) -> Vec<String> {
    use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
    let value = normalise(value);
    let mut out = vec![value.clone()];
    let parsed: Option<DateTime<FixedOffset>> = DateTime::parse_from_rfc2822(&value)
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(&value).ok())
        .or_else(|| DateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| DateTime::parse_from_str(&value, "%Y-%m-%d %H:%M:%S %z").ok());
    if let Some(t) = parsed {
        out.push(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        out.push(
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        out.push(
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
        );
    } else if let Some(local) = NaiveDateTime::parse_from_str(&value, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            // A MySQL TIMESTAMP (`20041224112233`), as old Bugzilla and Issuezilla wrote.
            (value.len() == 14 && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| NaiveDateTime::parse_from_str(&value, "%Y%m%d%H%M%S").ok())
                .flatten()
        })
    {
        // A time without a zone is in the tracker's: published with that zone's offset after
        // the time as written.
        out.push(local.format("%Y-%m-%dT%H:%M:%S").to_string());
    } else if let Ok(d) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") {
        out.push(format!("{d}T00:00:00Z"));
        out.push(format!("{d}T00:00:00+00:00"));
    }
    if let Some(int) = value.strip_suffix(".0") {
        if int.parse::<i64>().is_ok() {
            out.push(int.to_string());
        }
    }
    out
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text nodes and attribute values of an HTML page, read with html5ever's tokenizer.
fn html_pieces(html: &str) -> Vec<String> {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{
        BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    };
    use std::cell::RefCell;

    struct Sink(RefCell<Vec<String>>, RefCell<String>);
    impl TokenSink for Sink {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::CharacterTokens(t) => self.1.borrow_mut().push_str(&t),
                Token::TagToken(tag) => {
                    let text = std::mem::take(&mut *self.1.borrow_mut());
                    let mut out = self.0.borrow_mut();
                    if !text.trim().is_empty() {
                        out.push(normalise(&text));
                    }
                    for a in tag.attrs {
                        out.push(normalise(&a.value));
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let sink = Sink(RefCell::new(Vec::new()), RefCell::new(String::new()));
    let tok = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&queue);
    tok.end();
    let mut out = tok.sink.0.take();
    // Text nodes joined too, so that a value split by inline markup is still found.
    let joined = out.join(" ");
    out.push(joined);
    out
}

// ---------------------------------------------------------------------------------------------
// Reading the sources' leaves.

fn leaf<'a>(leaves: &'a [Leaf], path: &str) -> Option<&'a str> {
    leaves
        .iter()
        .find(|l| l.path == path)
        .map(|l| l.value.trim())
}

/// The leaves of an XML export: one [`SourceIssue`] per `issue_element` (paths from it), and
/// one for everything outside them (paths from the root).
fn xml_issues(
    text: &str,
    issue_element: &str,
    key: impl Fn(&[Leaf]) -> Option<String>,
) -> Vec<SourceIssue> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    // Where the current issue starts in the stack, and its leaves.
    let mut issue_at: Option<usize> = None;
    let mut issue: Vec<Leaf> = Vec::new();
    let mut outside: Vec<Leaf> = Vec::new();
    let mut out = Vec::new();

    fn path(stack: &[String], from: Option<usize>) -> String {
        stack[from.unwrap_or(0)..].join("/")
    }
    loop {
        let event = reader.read_event().unwrap();
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let qname = e.name();
                let name = AsRef::<str>::as_ref(&qname).to_string();
                if name == issue_element && issue_at.is_none() {
                    issue_at = Some(stack.len());
                }
                stack.push(name);
                texts.push(String::new());
                let here = path(&stack, issue_at);
                let leaves = if issue_at.is_some() {
                    &mut issue
                } else {
                    &mut outside
                };
                for a in e.attributes().with_checks(false) {
                    let a = a.unwrap();
                    leaves.push(Leaf {
                        path: format!("{here}/@{}", a.key.0),
                        value: a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .to_string(),
                    });
                }
                if matches!(event, Event::Empty(_)) {
                    stack.pop();
                    texts.pop();
                    if issue_at == Some(stack.len()) {
                        issue_at = None;
                    }
                }
            }
            Event::Text(t) => {
                if let Some(last) = texts.last_mut() {
                    last.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some(last) = texts.last_mut() {
                    last.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(last) = texts.last_mut() {
                    if r.is_char_ref() {
                        last.extend(r.resolve_char_ref().unwrap());
                    } else {
                        let name: &str = &r;
                        last.push_str(quick_xml::escape::resolve_xml_entity(name).unwrap());
                    }
                }
            }
            Event::End(_) => {
                let here = path(&stack, issue_at);
                let value = texts.pop().unwrap();
                let leaves = if issue_at.is_some() {
                    &mut issue
                } else {
                    &mut outside
                };
                if !value.trim().is_empty() {
                    leaves.push(Leaf { path: here, value });
                }
                stack.pop();
                if issue_at == Some(stack.len()) {
                    issue_at = None;
                    let leaves = std::mem::take(&mut issue);
                    out.push(SourceIssue {
                        key: key(&leaves),
                        leaves,
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // A stub issue (no key) is only its allow-listed fields: checked as outside any issue.
    let mut all: Vec<SourceIssue> = Vec::new();
    for i in out {
        if i.key.is_none() {
            outside.extend(i.leaves);
        } else {
            all.push(i);
        }
    }
    all.push(SourceIssue {
        key: None,
        leaves: outside,
    });
    all
}

/// The leaves of a JSON export: one [`SourceIssue`] per element of the top-level array
/// `issues_field` (paths from the root, as `issues[].fields.summary`), one for the rest.
fn json_issues(
    text: &str,
    issues_field: &str,
    key: impl Fn(&Value) -> Option<String>,
) -> Vec<SourceIssue> {
    let value: Value = serde_json::from_str(text).unwrap();
    let mut out = Vec::new();
    let mut outside = Vec::new();
    for (name, v) in value.as_object().unwrap() {
        if name == issues_field {
            for issue in v.as_array().unwrap() {
                let mut leaves = Vec::new();
                json_leaves(issue, &format!("{name}[]"), &mut leaves);
                out.push(SourceIssue {
                    key: key(issue),
                    leaves,
                });
            }
        } else {
            json_leaves(v, name, &mut outside);
        }
    }
    out.push(SourceIssue {
        key: None,
        leaves: outside,
    });
    out
}

fn json_leaves(value: &Value, path: &str, out: &mut Vec<Leaf>) {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                json_leaves(v, &join(name), out);
            }
        }
        Value::Array(items) => {
            for v in items {
                json_leaves(v, &format!("{path}[]"), out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push(Leaf {
            path: path.to_string(),
            value: s.clone(),
        }),
        other => out.push(Leaf {
            path: path.to_string(),
            value: other.to_string(),
        }),
    }
}

#[test]
fn patterns_match_paths() {
    assert!(matches("item/*/@iconUrl", "item/type/@iconUrl"));
    assert!(matches("*.self", "issues[].fields.status.self"));
    assert!(matches("names.*", "names.summary"));
    assert!(!matches("names.*", "issues[].names"));
    assert!(matches("bug/token", "bug/token"));
    assert!(!matches("bug/token", "bug/attachment/token"));
}
