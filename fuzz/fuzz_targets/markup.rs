#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "safe_html.rs"]
mod safe_html;

fuzz_target!(|data: &[u8]| safe_html::markup(data));
