//! `spec.ref.semver` and tag names are user/remote input: parsing must never panic, and a
//! matching version must really satisfy the constraint it was picked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use source::semver::{Constraints, Version, latest_matching};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // First line: the constraint; the rest: candidate tags.
    let mut lines = text.lines();
    let Some(first) = lines.next() else { return };
    let tags: Vec<&str> = lines.collect();
    for t in &tags {
        if let Ok(v) = Version::parse(t) {
            // Display and re-parse must give an equal version.
            let again = Version::parse(&v.to_string()).expect("a printed version parses");
            assert_eq!(again, v, "round trip of {t:?}");
        }
    }
    if let Ok(c) = Constraints::parse(first)
        && let Some((tag, v)) = latest_matching(&c, tags.iter().copied())
    {
        assert!(c.matches(&v), "{tag:?} picked for {first:?} but does not match");
        for t in &tags {
            if let Ok(other) = Version::parse(t)
                && c.matches(&other)
            {
                assert!(other <= v, "{t:?} matches {first:?} and is newer than {tag:?}");
            }
        }
    }
});
