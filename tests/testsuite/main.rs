//! hindsight's integration tests: one test binary (linking the crate once), one module per
//! area, fixture archives under `tests/fixtures/`. Helpers shared by the modules live in
//! `common/`.

mod common;
#[path = "common/git.rs"]
mod git_fixture;
#[path = "common/search_site.rs"]
mod site;

mod atomic;
mod backup;
mod broken_input;
mod browser;
mod bugzilla;
mod census;
mod cli;
mod example_site;
mod fetch;
mod fuzz_regressions;
mod gen_archive;
mod git_history;
mod github;
mod hostile;
mod import_reuse;
mod incremental;
mod jira_json;
mod layers;
mod listings;
mod people;
mod releases;
mod rewrite_rules;
mod search_browser;
mod search_build;
mod search_parity;
mod search_tokenizer;
