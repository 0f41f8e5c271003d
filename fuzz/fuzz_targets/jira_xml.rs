#![no_main]
//! Fuzzes the jira_xml importer: any bytes give records or an error, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run("jira_xml", hindsight::import::jira_xml::read_file, data);
});
