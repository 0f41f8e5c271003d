#![no_main]
//! Fuzzes the e-mail masker (`text::email::mask_emails`). Whatever the input: no panic; masking
//! is idempotent: masking the masked text changes nothing, so text masked at import and again
//! at render reads the same.
use hindsight::text::email::mask_emails;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = mask_emails(&text);
    let twice = mask_emails(&once);
    assert_eq!(
        once.as_ref(),
        twice.as_ref(),
        "masking is not idempotent for {text:?}"
    );
});
