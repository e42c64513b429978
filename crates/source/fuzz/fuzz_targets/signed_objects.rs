//! Commit and tag objects come from the remote, keys from a Secret: splitting signatures off and
//! parsing key material must not panic.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use source::verify::{Keyring, split_commit, split_tag};

fuzz_target!(|data: &[u8]| {
    if let Some((payload, sig)) = split_commit(data) {
        assert!(payload.len() <= data.len());
        assert!(!sig.is_empty() || payload.len() <= data.len());
    }
    let _ = split_tag(data);
    let mut secret = BTreeMap::new();
    secret.insert("key.asc".to_string(), data.to_vec());
    let _ = Keyring::from_secret_data("flux-system/pgp-keys", &secret);
});
