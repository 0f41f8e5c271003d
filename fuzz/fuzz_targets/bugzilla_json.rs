#![no_main]
//! Fuzzes the bugzilla_json importer: any bytes give records or an error, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(
        "bugzilla_json",
        hindsight::import::bugzilla_json::read_file,
        data,
    );
});
