//! Fuzzes the template parser: any input must parse or fail with an error, never panic
//! or overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = gotemplate::TemplateSet::named("gotpl");
        set.add_functions(gotemplate::helm_functions());
        let _ = set.parse("fuzz", text);
    }
});
