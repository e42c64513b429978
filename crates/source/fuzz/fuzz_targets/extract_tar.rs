//! Artifacts are downloaded from the network: extraction of any archive must not panic and must
//! never create anything outside the destination directory.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use source::fetch::{FetchLimits, extract_tar_gz};

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            out.push(e.path());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&e.path(), out);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The fuzzer mutates the tar stream; gzip it here so that it explores tar headers rather
    // than deflate errors.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip in memory");
    let archive = gz.finish().expect("gzip in memory");
    let sandbox = tempfile::tempdir().expect("tempdir");
    let dest = sandbox.path().join("dest");
    let limits = FetchLimits {
        max_extracted_bytes: 1 << 20,
        max_entries: 1000,
        ..FetchLimits::default()
    };
    let _ = extract_tar_gz(&archive[..], &dest, &limits);
    let mut all = Vec::new();
    walk(sandbox.path(), &mut all);
    for p in all {
        assert!(p.starts_with(&dest), "{} written outside the destination", p.display());
        if let Ok(meta) = std::fs::symlink_metadata(&p) {
            assert!(!meta.file_type().is_symlink() || std::fs::canonicalize(&p)
                .map(|t| t.starts_with(&dest))
                .unwrap_or(true), "{} links outside the destination", p.display());
        }
    }
});
