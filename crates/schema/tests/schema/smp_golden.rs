//! Strategic merge patch results compared, byte for byte after writing, with `kubectl kustomize`
//! (Kustomize v5.5) on the same base and patch (`tests/regen-goldens.sh` regenerates them).

use schema::Gvk;
use std::path::Path;

fn read_one(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut docs =
        yaml::parse_documents(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{} holds one document", path.display());
    docs.remove(0)
}

#[test]
fn kustomize_golden_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/smp");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 30,
        "golden corpus went missing: {} cases",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let base = read_one(&dir.join("base.yaml"));
        let patch = read_one(&dir.join("patch.yaml"));
        let gvk = Gvk::of(&base);
        let result = schema::strategic_merge(&base, &patch, gvk.as_ref());
        match std::fs::read_to_string(dir.join("out.yaml")) {
            Ok(want) => match result {
                Ok(v) => {
                    let got = yaml::to_string(&v);
                    if got != want {
                        failures.push(format!("== {name}\n--- want\n{want}--- got\n{got}"));
                    }
                }
                Err(e) => failures.push(format!("== {name}: failed: {e}")),
            },
            Err(_) => {
                if result.is_ok() {
                    failures.push(format!("== {name}: kustomize failed but we did not"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
