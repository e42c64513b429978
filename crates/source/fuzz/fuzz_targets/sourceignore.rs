//! `.sourceignore` files and `spec.ignore` come from the repository or the user: loading any
//! pattern text must not panic, and matching arbitrary paths must not either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use source::ignore::IgnoreRules;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (patterns, paths) = text.split_once("\n\n").unwrap_or((text, "a/b.yaml\n.git/config"));
    let Ok(rules) = IgnoreRules::from_patterns(std::path::Path::new("/nonexistent"), patterns) else {
        return;
    };
    for p in paths.lines() {
        let excluded_dir = rules.is_excluded(p, true);
        let _ = rules.is_excluded(p, false);
        // A directory that may be pruned must itself be excluded.
        if rules.can_prune_dir(p) {
            assert!(excluded_dir, "{p:?} prunable but not excluded");
        }
    }
});
