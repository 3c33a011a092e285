//! Every parser that reads what a user types, on arbitrary input: none may panic, and what each
//! accepts must be in its documented range.
#![no_main]

use gpusum::bench::BackendSelector;
use gpusum::parse::{self, MAX_SECONDS, MIN_SECONDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bound) = parse::bound(text) {
        // What parses must read back as the same digits, separators aside.
        let digits: String = text.chars().filter(|&c| c != '_' && c != '+').collect();
        assert_eq!(
            digits.trim_start_matches('-').trim_start_matches('0'),
            bound.unsigned_abs().to_string().trim_start_matches('0')
        );
    }
    // A --sizes list, split as the CLI splits it.
    for piece in text.split(',') {
        if let Ok(length) = parse::length(piece) {
            assert!((1..=i64::MAX as u64).contains(&length));
        }
    }
    if let Ok(bytes) = parse::bytes(text) {
        assert!((1..=i64::MAX as u64).contains(&bytes));
    }
    if let Ok(duration) = parse::seconds(text) {
        let seconds = duration.as_secs_f64();
        assert!(seconds >= MIN_SECONDS * 0.999 && seconds <= MAX_SECONDS * 1.001);
    }
    if let Ok(selector) = text.parse::<BackendSelector>() {
        // Its canonical form parses back to itself.
        assert_eq!(
            selector.to_string().parse::<BackendSelector>().ok(),
            Some(selector)
        );
    }
});
