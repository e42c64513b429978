//! `flux build kustomization` (offline and from the cluster, with substitution) and
//! `flux diff kustomization` (server-side dry-run; exit 0 / 1 / 2) against the embedded server.

use super::*;

fn quickstart() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart")
}

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it.
fn check_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    pretty(golden(name), actual);
}

fn pretty(want: String, got: &str) {
    assert!(
        want == got,
        "golden mismatch\n--- want\n{want}\n--- got\n{got}"
    );
}

fn docs(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Value>(d).expect("YAML document"))
        .filter(|d| !d.is_null())
        .collect()
}

const KS_FILE: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: quickstart
  namespace: flux-system
spec:
  interval: 10m
  path: ./
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      cluster_name: golden
";

#[test]
fn build_dry_run_is_kustomize_build_plus_substitution_and_owner_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let ks_file = tmp.path().join("ks.yaml");
    std::fs::write(&ks_file, KS_FILE).unwrap();
    let qs = quickstart();
    let out = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args([
            "build",
            "kustomization",
            "quickstart",
            "--dry-run",
            "--path",
        ])
        .arg(&qs)
        .arg("--kustomization-file")
        .arg(&ks_file)
        .output()
        .unwrap();
    let built = ok(out);
    check_golden("build_quickstart.yaml", &built);

    // The same as kubectl's kustomize build with the variables substituted and the
    // kustomize-controller's ownership labels added.
    let k = Command::new("kubectl")
        .arg("kustomize")
        .arg(&qs)
        .output()
        .expect("kubectl kustomize");
    assert!(k.status.success(), "{}", stderr(&k));
    let expected_text = stdout(&k)
        .replace("${cluster_name:=unknown}", "golden")
        .replace("${cluster_name:=a cluster}", "golden");
    let mut expected = docs(&expected_text);
    for d in &mut expected {
        let labels = &mut d["metadata"]["labels"];
        if labels.is_null() {
            *labels = json!({});
        }
        labels["kustomize.toolkit.fluxcd.io/name"] = json!("quickstart");
        labels["kustomize.toolkit.fluxcd.io/namespace"] = json!("flux-system");
    }
    assert_eq!(docs(&built), expected);

    // --dry-run needs the file; one readable line.
    let out = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(["build", "ks", "quickstart", "--dry-run", "--path"])
        .arg(&qs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn build_strict_substitute_fails_on_a_missing_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write_app(&dir, "strict");
    let ks_file = tmp.path().join("ks.yaml");
    let ks = [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata: {name: app, namespace: strict}",
        "spec:",
        "  interval: 5m",
        "  prune: true",
        "  sourceRef: {kind: GitRepository, name: app}",
        "  postBuild:",
        "    substitute: {greeting: hi}",
    ];
    std::fs::write(&ks_file, ks.join("\n")).unwrap();
    let run = |strict: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flux"));
        c.args(["build", "ks", "app", "--dry-run", "--path"])
            .arg(&dir)
            .arg("--kustomization-file")
            .arg(&ks_file);
        if strict {
            c.arg("--strict-substitute");
        }
        c.output().unwrap()
    };
    let lenient = ok(run(false));
    assert!(lenient.contains("greeting: hi"), "{lenient}");
    let strict = run(true);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    let err = stderr(&strict);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("color"), "{err}");
}

fn write_app(dir: &std::path::Path, ns: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\n\
             resources:\n  - app.yaml\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  greeting: ${greeting}\n  color: ${color}\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/stefanprodan/podinfo:6.9.2\n",
    )
    .unwrap();
}

fn flux_code(args: &[&str]) -> (Option<i32>, String, String) {
    let o = flux(args);
    (o.status.code(), stdout(&o), stderr(&o))
}

#[test]
fn diff_exit_codes_created_none_drifted_error() {
    let ns = namespace("diffs");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write_app(&dir, &ns);
    let path = dir.to_str().unwrap();
    // substituteFrom a ConfigMap of the cluster; the inline substitute wins over it.
    let cms = dynamic(&ns, "v1", "ConfigMap", "configmaps");
    create(
        &cms,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "vars", "namespace": ns},
               "data": {"greeting": "from-cluster", "color": "blue"}}),
    );
    create(
        &kustomizations(&ns),
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {"interval": "10m", "path": "./", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "app"},
                     "postBuild": {"substitute": {"greeting": "hello"},
                                   "substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}}
        }),
    );

    // Nothing in the cluster yet: everything is created, exit 1.
    let (code, out, err) = flux_code(&["diff", "kustomization", "app", "--path", path, "-n", &ns]);
    assert_eq!(code, Some(1), "{out} {err}");
    assert_eq!(
        out,
        format!("► ConfigMap/{ns}/app-config created\n► Deployment/{ns}/app created\n")
    );

    // Apply what `flux build` prints (substituteFrom resolved from the cluster) as the
    // controller would: server-side, field manager kustomize-controller.
    let built = ok(flux(&[
        "build",
        "kustomization",
        "app",
        "--path",
        path,
        "-n",
        &ns,
    ]));
    assert!(built.contains("greeting: hello"), "{built}");
    assert!(built.contains("color: blue"), "{built}");
    let mut apply = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .args([
            "apply",
            "--server-side",
            "--field-manager",
            "kustomize-controller",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    apply
        .stdin
        .take()
        .unwrap()
        .write_all(built.as_bytes())
        .unwrap();
    let applied = apply.wait_with_output().unwrap();
    assert!(applied.status.success(), "{}", stderr(&applied));

    // In sync: no output, exit 0.
    let (code, out, err) = flux_code(&["diff", "ks", "app", "--path", path, "-n", &ns]);
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");

    // Drift in the cluster: reported with a line diff, exit 1.
    let k = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&env().kubeconfig)
        .args([
            "-n",
            &ns,
            "patch",
            "configmap",
            "app-config",
            "--type",
            "merge",
            "-p",
        ])
        .arg(r#"{"data":{"color":"red"}}"#)
        .output()
        .unwrap();
    assert!(k.status.success(), "{}", stderr(&k));
    let (code, out, err) = flux_code(&["diff", "ks", "app", "--path", path, "-n", &ns]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.starts_with(&format!("► ConfigMap/{ns}/app-config drifted\n")),
        "{out}"
    );
    assert!(out.contains("-   color: red\n+   color: blue\n"), "{out}");
    assert!(!out.contains("Deployment"), "{out}");

    // Errors exit above 1 with one line.
    let (code, _, err) = flux_code(&["diff", "ks", "missing", "--path", path, "-n", &ns]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("\"missing\" not found"), "{err}");
}
