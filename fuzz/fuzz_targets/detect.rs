#![no_main]
//! Fuzzes format detection on the first bytes of a file.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hindsight::import::detect_bytes(data);
});
