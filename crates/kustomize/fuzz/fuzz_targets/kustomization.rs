//! Fuzzes kustomization.yaml and patch parsing through whole builds on an in-memory tree:
//! the input is split at the first NUL into a kustomization file and a patch file.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use kustomize::MemFs;
use libfuzzer_sys::fuzz_target;

const RESOURCES: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (kust, patch) = text.split_once('\0').unwrap_or((text, ""));
    // The patch text alone, as an inline patch.
    let _ = kustomize::transformers::patch::PatchSpec::parse(patch.trim(), "fuzz".into(), None, false, false);
    let mut fs = MemFs::new();
    fs.add_file("/r/kustomization.yaml", kust);
    fs.add_file("/r/patch.yaml", patch);
    // The file names the golden-corpus seeds refer to.
    for name in ["res.yaml", "d.yaml", "a.yaml", "cm.yaml", "all.yaml", "s.yaml", "w.yaml", "p.yaml"] {
        fs.add_file(format!("/r/{name}"), RESOURCES);
    }
    fs.add_file("/r/base/kustomization.yaml", "resources:\n- ../res.yaml\n");
    let _ = kustomize::build_yaml(Arc::new(fs), Path::new("/r"), Path::new("/r"));
});
