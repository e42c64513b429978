//! `--set` arguments in all four flavours must never panic.
#![no_main]
use helm::strvals::{Reader, parse_into};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for reader in [Reader::Typed, Reader::String, Reader::Json] {
            let mut m = helm::Values::new();
            let _ = parse_into(text, &mut m, reader);
        }
    }
});
