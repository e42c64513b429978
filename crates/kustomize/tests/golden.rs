//! Integration tests of the kustomize engine: the oracle-generated golden corpus, determinism
//! and the security restrictions.

mod corpus {
    //! Every case under tests/golden: equal as data to `kubectl kustomize` (Kustomize v5.5), or
    //! failing where it fails.

    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use kustomize::{DiskFs, build, yamlio};
    use serde_json::Value;

    pub struct Case {
        pub name: String,
        pub root: PathBuf,
        pub dir: PathBuf,
        pub expected: Option<Vec<Value>>,
        /// The oracle's exact bytes.
        pub expected_text: Option<String>,
    }

    pub fn cases() -> Vec<Case> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut out = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(&base)
            .expect("golden dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("input").is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let cdir = base.join(&name);
            let root = cdir.join("input");
            let target =
                std::fs::read_to_string(cdir.join("target")).unwrap_or_else(|_| ".".into());
            let dir = root.join(target.trim());
            let text = std::fs::read_to_string(cdir.join("expected.yaml")).ok();
            let expected = text.as_ref().map(|t| {
                yamlio::parse_all(t, "expected.yaml")
                    .expect("expected.yaml parses")
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect()
            });
            if expected.is_none() {
                assert!(
                    cdir.join("expected-error.txt").is_file(),
                    "{name}: no expected output"
                );
            }
            out.push(Case {
                name,
                root,
                dir,
                expected,
                expected_text: text,
            });
        }
        out
    }

    /// Cases we do not match yet, each with the reason; the test keeps this list honest by
    /// failing when a listed case starts passing.
    pub fn known_failures() -> Vec<(String, String)> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/KNOWN_FAILURES");
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (n, r) = l.split_once(' ').unwrap_or((l, ""));
                (n.to_string(), r.trim().to_string())
            })
            .collect()
    }

    /// Equality as data: numbers compare by value (`1e3` and `1000` are the same number).
    fn data_eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| data_eq(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| data_eq(v, w)))
            }
            _ => a == b,
        }
    }

    fn data_eq_all(a: &[Value], b: &[Value]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| data_eq(x, y))
    }

    pub fn run(c: &Case) -> Result<(), String> {
        let got = build(Arc::new(DiskFs), &c.root, &c.dir);
        match (&c.expected, got) {
            (Some(want), Ok(got)) => {
                if data_eq_all(&got, want) {
                    Ok(())
                } else {
                    Err(format!(
                        "output differs\n--- want\n{}\n--- got\n{}",
                        serde_json::to_string_pretty(want).unwrap(),
                        serde_json::to_string_pretty(&got).unwrap()
                    ))
                }
            }
            (Some(_), Err(e)) => Err(format!("unexpected error: {}", e.chain())),
            (None, Ok(got)) => Err(format!("expected an error, got {} objects", got.len())),
            (None, Err(e)) => {
                let msg = e.chain();
                if msg.trim().is_empty() {
                    Err("empty error message".into())
                } else {
                    Ok(())
                }
            }
        }
    }

    fn listed(file: &str) -> Vec<(String, String)> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(file);
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (n, r) = l.split_once(' ').unwrap_or((l, ""));
                (n.to_string(), r.trim().to_string())
            })
            .collect()
    }

    /// Every successful case prints exactly the oracle's bytes, except the listed ones (each
    /// with its reason); listed cases must still differ so the list stays honest.
    #[test]
    fn golden_output_is_byte_identical() {
        let exceptions = listed("BYTE_EXCEPTIONS");
        let known = known_failures();
        let mut bad = Vec::new();
        let mut fixed = Vec::new();
        let mut same = 0;
        for c in cases() {
            let Some(want) = &c.expected_text else {
                continue;
            };
            if known.iter().any(|(n, _)| n == &c.name) {
                continue;
            }
            let Ok(got) = kustomize::build_yaml(Arc::new(DiskFs), &c.root, &c.dir) else {
                continue;
            };
            let listed = exceptions.iter().any(|(n, _)| n == &c.name);
            match (&got == want, listed) {
                (true, false) => same += 1,
                (true, true) => fixed.push(c.name.clone()),
                (false, false) => bad.push(format!("{}:\n--- want\n{want}--- got\n{got}", c.name)),
                (false, true) => {}
            }
        }
        eprintln!(
            "golden bytes: {same} identical, {} listed exceptions",
            exceptions.len()
        );
        assert!(
            bad.is_empty(),
            "{} cases differ in bytes:\n{}",
            bad.len(),
            bad.join("\n")
        );
        assert!(
            fixed.is_empty(),
            "now byte-identical, remove from BYTE_EXCEPTIONS: {fixed:?}"
        );
    }

    #[test]
    fn golden_cases_match_kubectl_kustomize() {
        let cases = cases();
        assert!(cases.len() >= 150, "corpus has only {} cases", cases.len());
        let known = known_failures();
        let mut failed = Vec::new();
        let mut fixed = Vec::new();
        for c in &cases {
            let res = run(c);
            let is_known = known.iter().any(|(n, _)| n == &c.name);
            match (res, is_known) {
                (Err(e), false) => failed.push(format!("{}: {e}", c.name)),
                (Ok(()), true) => fixed.push(c.name.clone()),
                _ => {}
            }
        }
        let passed = cases.len() - failed.len() - known.len() + fixed.len();
        eprintln!(
            "golden: {passed}/{} pass, {} known failures",
            cases.len(),
            known.len()
        );
        assert!(
            failed.is_empty(),
            "{} golden cases fail:\n{}",
            failed.len(),
            failed.join("\n\n")
        );
        assert!(
            fixed.is_empty(),
            "now passing, remove from KNOWN_FAILURES: {fixed:?}"
        );
    }
}

mod determinism {
    //! The same tree built twice gives identical bytes.

    use std::sync::Arc;

    use kustomize::{DiskFs, build_yaml};

    #[test]
    fn building_twice_gives_identical_bytes() {
        let mut checked = 0;
        for c in super::corpus::cases()
            .iter()
            .filter(|c| c.expected.is_some())
        {
            let (Ok(a), Ok(b)) = (
                build_yaml(Arc::new(DiskFs), &c.root, &c.dir),
                build_yaml(Arc::new(DiskFs), &c.root, &c.dir),
            ) else {
                continue;
            };
            assert_eq!(a, b, "{}: two builds differ", c.name);
            checked += 1;
        }
        assert!(checked >= 100, "only {checked} cases built");
    }
}

mod security {
    //! Nothing outside the source root or kustomization directory is read; cycles and depth
    //! are bounded.

    use std::path::Path;
    use std::sync::Arc;

    use kustomize::{DiskFs, Error, MemFs, build};

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn symlinked_file_pointing_outside_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.yaml", CM);
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            "kustomization.yaml",
            "resources:\n- link.yaml\n",
        );
        std::os::unix::fs::symlink(
            outside.path().join("secret.yaml"),
            root.path().join("link.yaml"),
        )
        .unwrap();
        let err = build(Arc::new(DiskFs), root.path(), root.path()).unwrap_err();
        assert!(
            matches!(err, Error::Context { .. } | Error::Security(_)),
            "{err}"
        );
        assert!(err.chain().contains("security"), "{}", err.chain());
    }

    #[test]
    fn symlinked_directory_pointing_outside_the_source_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        write(
            outside.path(),
            "kustomization.yaml",
            "resources:\n- cm.yaml\n",
        );
        write(outside.path(), "cm.yaml", CM);
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "kustomization.yaml", "resources:\n- base\n");
        std::os::unix::fs::symlink(outside.path(), root.path().join("base")).unwrap();
        let err = build(Arc::new(DiskFs), root.path(), root.path())
            .unwrap_err()
            .chain();
        assert!(err.contains("outside the source root"), "{err}");
    }

    #[test]
    fn symlink_inside_the_root_is_followed() {
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            "kustomization.yaml",
            "resources:\n- link.yaml\n",
        );
        write(root.path(), "real.yaml", CM);
        std::os::unix::fs::symlink(root.path().join("real.yaml"), root.path().join("link.yaml"))
            .unwrap();
        let out = build(Arc::new(DiskFs), root.path(), root.path()).unwrap();
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn dotdot_base_outside_the_source_root_is_refused() {
        let mut fs = MemFs::new();
        fs.add_file(
            "/repo/app/kustomization.yaml",
            "resources:\n- ../../elsewhere\n",
        );
        fs.add_file("/elsewhere/kustomization.yaml", "resources:\n- cm.yaml\n");
        fs.add_file("/elsewhere/cm.yaml", CM);
        let err = build(Arc::new(fs), Path::new("/repo"), Path::new("/repo/app"))
            .unwrap_err()
            .chain();
        assert!(err.contains("outside the source root"), "{err}");
    }

    #[test]
    fn dotdot_file_outside_the_kustomization_dir_is_refused() {
        let mut fs = MemFs::new();
        fs.add_file("/repo/app/kustomization.yaml", "resources:\n- ../cm.yaml\n");
        fs.add_file("/repo/cm.yaml", CM);
        let err = build(Arc::new(fs), Path::new("/repo"), Path::new("/repo/app"))
            .unwrap_err()
            .chain();
        assert!(err.contains("is not in or below"), "{err}");
    }

    #[test]
    fn cycles_are_detected() {
        let mut fs = MemFs::new();
        fs.add_file("/r/a/kustomization.yaml", "resources:\n- ../b\n");
        fs.add_file("/r/b/kustomization.yaml", "resources:\n- ../a\n");
        let err = build(Arc::new(fs), Path::new("/r"), Path::new("/r/a"))
            .unwrap_err()
            .chain();
        assert!(err.contains("cycle detected"), "{err}");
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let mut fs = MemFs::new();
        let depth = kustomize::loader::MAX_DEPTH + 5;
        for i in 0..depth {
            fs.add_file(
                format!("/r/d{i}/kustomization.yaml"),
                format!("resources:\n- ../d{}\n", i + 1),
            );
        }
        fs.add_file(
            format!("/r/d{depth}/kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        );
        fs.add_file(format!("/r/d{depth}/cm.yaml"), CM);
        let err = build(Arc::new(fs), Path::new("/r"), Path::new("/r/d0"))
            .unwrap_err()
            .chain();
        assert!(err.contains("nesting deeper than"), "{err}");
    }

    #[test]
    fn remote_resources_helm_and_exec_plugins_are_refused() {
        for (k, want) in [
            (
                "resources:\n- github.com/org/repo//base?ref=v1\n",
                "remote resource",
            ),
            ("helmCharts:\n- name: x\n", "helmCharts are not supported"),
            (
                "transformers:\n- |\n  apiVersion: example.com/v1\n  kind: Exec\n  metadata:\n    name: x\n",
                "not supported",
            ),
        ] {
            let mut fs = MemFs::new();
            fs.add_file("/r/kustomization.yaml", k);
            let err = build(Arc::new(fs), Path::new("/r"), Path::new("/r"))
                .unwrap_err()
                .chain();
            assert!(err.contains(want), "{k}: {err}");
        }
    }
}

mod robustness {
    //! Inputs that must fail cleanly rather than panic.

    use std::path::Path;
    use std::sync::Arc;

    use kustomize::{MemFs, build};

    #[test]
    fn json_patch_replacing_the_whole_object_is_an_error() {
        let mut fs = MemFs::new();
        fs.add_file(
            "/r/kustomization.yaml",
            "resources:\n- cm.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: '[{\"op\": \"replace\", \"path\": \"\", \"value\": 5}]'\n",
        );
        fs.add_file(
            "/r/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        let err = build(Arc::new(fs), Path::new("/r"), Path::new("/r"))
            .unwrap_err()
            .chain();
        assert!(err.contains("non-object"), "{err}");
    }
}

mod go_json_semantics {
    //! kustomization.yaml is decoded like Go's encoding/json: struct fields match keys
    //! case-insensitively (kustomize's own examples rely on `fieldpath`).

    use std::path::Path;
    use std::sync::Arc;

    use kustomize::{MemFs, build};

    #[test]
    fn struct_field_names_match_case_insensitively() {
        let mut fs = MemFs::new();
        fs.add_file(
            "/r/kustomization.yaml",
            "Resources:\n- cm.yaml\nnameprefix: p-\nvars:\n- name: V\n  objref:\n    kind: ConfigMap\n    name: c\n    apiversion: v1\n  fieldref:\n    fieldpath: data.a\n",
        );
        fs.add_file(
            "/r/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: x\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n    args: [\"$(V)\"]\n",
        );
        let out = build(Arc::new(fs), Path::new("/r"), Path::new("/r"))
            .map_err(|e| e.chain())
            .unwrap();
        assert_eq!(out[0]["metadata"]["name"], "p-c");
        assert_eq!(out[1]["spec"]["containers"][0]["args"][0], "x");
    }
}
