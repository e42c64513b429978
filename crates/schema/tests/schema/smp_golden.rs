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

/// The same cases in Kubernetes mode against `kubectl patch --local` (apimachinery's
/// `strategicpatch`), compared as data (`k8s.json`) or as failure (`k8s.err`). Kinds kubectl
/// cannot patch locally (CRDs, unknown kinds) have no Kubernetes-mode oracle.
#[test]
fn kubernetes_mode_matches_kubectl_patch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/smp");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    let opts = schema::SmpOptions {
        mode: schema::SmpMode::Kubernetes,
    };
    let (mut compared, mut failures) = (0, Vec::new());
    for dir in &dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let err = std::fs::read_to_string(dir.join("k8s.err")).unwrap_or_default();
        if err.contains("not supported for") {
            continue;
        }
        let base = read_one(&dir.join("base.yaml"));
        let patch = read_one(&dir.join("patch.yaml"));
        let gvk = Gvk::of(&base).expect("base has a GVK");
        let ty = schema::kind(&gvk.group, &gvk.version, &gvk.kind).map(|r| r.type_def);
        let result = schema::strategic_merge_with(&base, &patch, ty, &opts);
        compared += 1;
        match std::fs::read_to_string(dir.join("k8s.json")) {
            Ok(want) => {
                let want: serde_json::Value =
                    serde_json::from_str(&want).expect("k8s.json is JSON");
                match result {
                    Ok(got) if got == want => {}
                    Ok(got) => {
                        failures.push(format!("== {name}\n--- want\n{want:#}\n--- got\n{got:#}"))
                    }
                    Err(e) => failures.push(format!("== {name}: failed: {e}")),
                }
            }
            Err(_) => {
                if result.is_ok() {
                    failures.push(format!(
                        "== {name}: kubectl failed ({}) but we did not",
                        err.trim()
                    ));
                }
            }
        }
    }
    assert!(
        compared >= 40,
        "only {compared} cases had a Kubernetes-mode oracle"
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
