//! The sorter's fast line scanner must answer only for documents the YAML parser reads the
//! same way: a difference would turn Helm's parse error into output, or change a kind or hook.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = helm::sorter::check_fast_head(text) {
            panic!("{e}");
        }
    }
});
