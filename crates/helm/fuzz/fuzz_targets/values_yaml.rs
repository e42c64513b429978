//! Values files and Chart.yaml are untrusted: parsing must never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = helm::yamlconv::parse_values(text);
        let _ = helm::chart::parse_metadata(data);
        let _ = helm::sorter::split_manifests(text);
    }
});
