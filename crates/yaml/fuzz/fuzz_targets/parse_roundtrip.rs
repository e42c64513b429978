//! Fuzz target: any input either fails to parse with an error or parses into values that the
//! writer turns into text which reads back as the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(docs) = yaml::parse_documents(text) else { return };
    let written = yaml::to_multi_doc_string(&docs);
    let again = yaml::parse_documents(&written).expect("our own output parses");
    assert_eq!(docs, again, "round trip changed the values; written text:\n{written}");
});
