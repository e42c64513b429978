//! Fuzzes Helm's `fromYaml` reader (yaml_error): any text must convert or fail with go-yaml's
//! error text, never panic, overflow the stack or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = gotemplate::yaml_error::yaml_to_json(text) {
            assert!(e.to_string().starts_with("error converting YAML to JSON: "));
        }
    }
});
