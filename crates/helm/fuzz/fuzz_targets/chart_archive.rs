//! Chart archives come from repositories and registries: loading must never panic and must
//! reject unsafe entries instead of writing anywhere.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = helm::loader::load_archive(data);
});
