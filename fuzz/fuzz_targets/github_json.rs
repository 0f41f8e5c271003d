#![no_main]
//! Fuzzes the github_json importer: any bytes give records or an error, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(
        "github_json",
        hindsight::import::github_json::read_file,
        data,
    );
});
