use super::*;
use crate::DiskFs;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\ndata:\n  k: v\n";

fn cm(name: &str) -> String {
    CM.replace("NAME", name)
}

fn names(objs: &[Value]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn generates_kustomization_from_manifests_and_nested_kustomizations() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    write(&root, "apps/a.yaml", &cm("a"));
    write(&root, "apps/sub/b.yml", &cm("b"));
    write(&root, "apps/notes.txt", "not yaml: [");
    write(
        &root,
        "apps/base/kustomization.yaml",
        "resources: [c.yaml]\n",
    );
    write(&root, "apps/base/c.yaml", &cm("c"));
    let dir = secure_join(&root, "./apps").unwrap();
    let (path, text) = generate(&root, &dir, &Overrides::default()).unwrap();
    assert_eq!(path, dir.join("kustomization.yaml"));
    let k = yaml::parse(&text).unwrap();
    assert_eq!(
        k["resources"],
        json!(["./a.yaml", "./base", "./sub/b.yml"]),
        "{text}"
    );
    let objs = build(Arc::new(DiskFs), &root, &dir, &Overrides::default()).unwrap();
    assert_eq!(names(&objs), vec!["/a", "/b", "/c"]);
    // Nothing was written into the directory.
    assert!(!dir.join("kustomization.yaml").exists());
}

#[test]
fn overrides_are_written_into_an_existing_kustomization() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    write(
        &root,
        "kustomization.yaml",
        "resources: [d.yaml]\nimages:\n- name: nginx\n  newTag: '1.0'\n",
    );
    write(
        &root,
        "d.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n      - name: d\n        image: redis\n",
    );
    write(
        &root,
        "comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  comp: yes-it-is\n",
    );
    let ov = Overrides {
        target_namespace: Some("apps".into()),
        name_prefix: Some("p-".into()),
        name_suffix: Some("-s".into()),
        patches: vec![json!({
            "patch": "- op: add\n  path: /metadata/annotations\n  value: {patched: 'true'}\n",
            "target": {"kind": "Deployment"}
        })],
        images: vec![
            json!({"name": "nginx", "newTag": "2.0"}),
            json!({"name": "redis", "newName": "valkey"}),
        ],
        components: vec!["comp".into(), "missing".into()],
        ignore_missing_components: true,
        build_metadata: vec![],
    };
    let objs = build(Arc::new(DiskFs), &root, &root, &ov).unwrap();
    assert_eq!(objs.len(), 1);
    let d = &objs[0];
    assert_eq!(d["metadata"]["name"], "p-web-s");
    assert_eq!(d["metadata"]["namespace"], "apps");
    assert_eq!(d["metadata"]["annotations"]["patched"], "true");
    assert_eq!(d["metadata"]["labels"]["comp"], "yes-it-is");
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(c[0]["image"], "nginx:2.0");
    assert_eq!(c[1]["image"], "valkey");

    let bad = Overrides {
        components: vec!["https://example.com/x".into()],
        ..Default::default()
    };
    assert!(matches!(
        generate(&root, &root, &bad),
        Err(FluxError::NonLocalComponent(_))
    ));
}

#[test]
fn path_cannot_escape_root_and_invalid_manifests_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    write(&root, "x/bad.yaml", "key: [unclosed\n");
    write(tmp.path(), "outside.yaml", &cm("out"));
    // `..` is clamped at the root.
    assert_eq!(
        secure_join(&root, "../../x").unwrap(),
        root.canonicalize().unwrap().join("x")
    );
    assert!(matches!(
        secure_join(&root, "nope"),
        Err(FluxError::PathNotFound(_))
    ));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.path(), root.join("escape")).unwrap();
        assert!(matches!(
            secure_join(&root, "escape"),
            Err(FluxError::PathNotFound(_))
        ));
    }
    let root = root.canonicalize().unwrap();
    let err = generate(&root, &root.join("x"), &Overrides::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to decode Kubernetes YAML from"),
        "{err}"
    );
}

#[test]
fn substitution_follows_flux() {
    let objs = vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web-${env}"},
               "spec": {"replicas": "${replicas:=1}", "x": "$${kept}", "y": "${region:-eu}"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "raw", "annotations": {SUBSTITUTE_ANNOTATION: "disabled"}},
               "data": {"v": "${env}"}}),
    ];
    let vars: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
    let out = substitute(objs.clone(), &vars, SubstituteOptions::default()).unwrap();
    assert_eq!(out[0]["metadata"]["name"], "web-prod");
    assert_eq!(
        out[0]["spec"]["replicas"],
        json!(1),
        "numbers become numbers"
    );
    assert_eq!(out[0]["spec"]["x"], "${kept}");
    assert_eq!(out[0]["spec"]["y"], "eu");
    assert_eq!(out[1]["data"]["v"], "${env}", "opted out");

    // No variables: untouched unless `always`.
    let none = BTreeMap::new();
    let out = substitute(objs.clone(), &none, SubstituteOptions::default()).unwrap();
    assert_eq!(out[0]["spec"]["replicas"], "${replicas:=1}");
    let out = substitute(
        objs.clone(),
        &none,
        SubstituteOptions {
            always: true,
            strict: false,
        },
    )
    .unwrap();
    assert_eq!(out[0]["metadata"]["name"], "web-");

    // Strict: a missing variable without default fails and names the object.
    let strict = SubstituteOptions {
        strict: true,
        always: false,
    };
    let err = substitute(
        objs.clone(),
        &[("other".to_string(), "1".to_string())].into(),
        strict,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "post build failed for 'apps_v1_Deployment/web-${env}': envsubst error: variable substitution failed: variable not set (strict mode): \"env\""
    );
    let bad: BTreeMap<String, String> = [("1x".to_string(), "v".to_string())].into();
    assert!(matches!(
        substitute(objs, &bad, strict),
        Err(FluxError::InvalidVarName(_))
    ));
}

#[test]
fn vars_merge_inline_last_without_newlines() {
    let from = vec![
        [
            ("a".to_string(), "1\n".to_string()),
            ("b".to_string(), "2".to_string()),
        ]
        .into(),
        [("b".to_string(), "3".to_string())].into(),
    ];
    let inline = [("a".to_string(), "x".to_string())].into();
    let v = merge_vars(from, &inline);
    assert_eq!(v["a"], "x");
    assert_eq!(v["b"], "3");
    assert!(valid_var_name("_a1") && !valid_var_name("a-b") && !valid_var_name(""));
}
