#![no_main]
//! Fuzzes the bugzilla_xml importer: any bytes give records or an error, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(
        "bugzilla_xml",
        hindsight::import::bugzilla_xml::read_file,
        data,
    );
});
