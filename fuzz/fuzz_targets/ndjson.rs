#![no_main]
//! Fuzzes the ndjson importer: any bytes give records or an error, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run("ndjson", hindsight::import::ndjson::read_file, data);
});
