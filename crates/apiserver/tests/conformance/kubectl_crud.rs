//! kubectl create/apply/get/patch/replace/delete against built-in kinds and the metadata rules.

use crate::common::shared;

fn cm_yaml(ns: &str, name: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: demo\ndata:\n  a: \"1\"\n{extra}"
    )
}

fn deploy_yaml(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n      - name: side\n        image: busybox\n"
    )
}

#[test]
fn apply_create_unchanged_configured_and_server_metadata() {
    let env = shared();
    let ns = env.namespace("apply");
    let y = cm_yaml(&ns, "demo", "");
    assert!(
        env.kubectl_in(&y, &["apply", "-f", "-"])
            .ok()
            .stdout
            .contains("configmap/demo created")
    );
    assert!(
        env.kubectl_in(&y, &["apply", "-f", "-"])
            .ok()
            .stdout
            .contains("configmap/demo unchanged")
    );
    let y2 = y.replace("a: \"1\"", "a: \"2\"");
    assert!(
        env.kubectl_in(&y2, &["apply", "-f", "-"])
            .ok()
            .stdout
            .contains("configmap/demo configured")
    );
    let out = env
        .kubectl(&[
            "get",
            "cm",
            "demo",
            "-n",
            &ns,
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["data"]["a"], "2");
    let m = &v["metadata"];
    assert_eq!(m["uid"].as_str().unwrap().len(), 36);
    assert!(
        m["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(m["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        m.get("generation").is_none(),
        "configmaps have no generation"
    );
    assert_eq!(
        m["managedFields"][0]["manager"],
        "kubectl-client-side-apply"
    );
    assert_eq!(m["managedFields"][0]["operation"], "Update");
    // Table output: kubectl's columns for configmaps, and NAMESPACE with -A.
    let table = env.kubectl(&["get", "cm", "-n", &ns]).ok().stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DATA", "AGE"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("demo "),
        "{table}"
    );
    let all = env.kubectl(&["get", "cm", "-A"]).ok().stdout;
    assert!(all.starts_with("NAMESPACE"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with(&ns) && l.contains("demo")),
        "{all}"
    );
}

#[test]
fn generators_json_from_1_31_and_protobuf_from_1_33() {
    let env = shared();
    let ns = env.namespace("gen");
    let k131 = crate::common::versioned_kubectl("1.31");
    let k133 = crate::common::versioned_kubectl("1.33");
    // kubectl 1.31 sends JSON for generator commands.
    let out = env
        .kubectl_bin(
            &k131,
            &["create", "configmap", "g1", "-n", &ns, "--from-literal=k=v"],
            None,
        )
        .ok();
    assert!(out.stdout.contains("configmap/g1 created"), "{out:?}");
    // kubectl 1.33 sends protobuf for these; the server decodes ConfigMap, Secret, Namespace, ServiceAccount.
    env.kubectl_bin(
        &k133,
        &[
            "create",
            "configmap",
            "g2",
            "-n",
            &ns,
            "--from-literal=k=v",
            "--from-literal=x=y",
        ],
        None,
    )
    .ok();
    let data = env
        .kubectl(&["get", "cm", "g2", "-n", &ns, "-o", "jsonpath={.data}"])
        .ok()
        .stdout;
    assert_eq!(data, r#"{"k":"v","x":"y"}"#);
    env.kubectl_bin(
        &k133,
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "-n",
            &ns,
            "--from-literal=pw=hunter2",
        ],
        None,
    )
    .ok();
    let secret = env
        .kubectl(&[
            "get",
            "secret",
            "s1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.type} {.data.pw}",
        ])
        .ok()
        .stdout;
    assert_eq!(secret, "Opaque aHVudGVyMg==");
    let table = env.kubectl(&["get", "secrets", "-n", &ns]).ok().stdout;
    assert!(
        table.starts_with("NAME") && table.contains("TYPE") && table.contains("Opaque"),
        "{table}"
    );
    env.kubectl_bin(
        &k133,
        &["create", "serviceaccount", "robot", "-n", &ns],
        None,
    )
    .ok();
    assert_eq!(
        env.kubectl(&["get", "sa", "robot", "-n", &ns, "-o", "name"])
            .ok()
            .stdout
            .trim(),
        "serviceaccount/robot"
    );
    let ns2 = crate::common::unique("pbns");
    env.kubectl_bin(&k133, &["create", "namespace", &ns2], None)
        .ok();
    assert_eq!(
        env.kubectl(&["get", "ns", &ns2, "-o", "jsonpath={.status.phase}"])
            .ok()
            .stdout,
        "Active"
    );
    // Kinds without a protobuf decoder get 415 naming the workarounds, never 500.
    let out = env
        .kubectl_bin(
            &k133,
            &["create", "deployment", "d", "-n", &ns, "--image=nginx"],
            None,
        )
        .fails();
    assert!(
        out.stderr.contains("unknown format") && out.stderr.contains("kubectl.1.31"),
        "{}",
        out.stderr
    );
    // The documented workaround works with kubectl 1.33.
    let generated = env
        .kubectl_bin(
            &k133,
            &[
                "create",
                "deployment",
                "d",
                "-n",
                &ns,
                "--image=nginx",
                "--dry-run=client",
                "-o",
                "yaml",
            ],
            None,
        )
        .ok();
    env.kubectl_in(&generated.stdout, &["apply", "-f", "-"])
        .ok();
    assert_eq!(
        env.kubectl(&["get", "deploy", "-n", &ns, "-o", "name"])
            .ok()
            .stdout
            .trim(),
        "deployment.apps/d"
    );
}

#[test]
fn labels_selectors_and_field_selectors() {
    let env = shared();
    let ns = env.namespace("sel");
    for n in ["a", "b", "c"] {
        env.kubectl_in(&cm_yaml(&ns, n, ""), &["apply", "-f", "-"])
            .ok();
    }
    env.kubectl(&["label", "cm", "b", "-n", &ns, "tier=gold"])
        .ok();
    env.kubectl(&["annotate", "cm", "c", "-n", &ns, "note=x"])
        .ok();
    let out = env
        .kubectl(&["get", "cm", "-n", &ns, "-l", "tier=gold", "-o", "name"])
        .ok()
        .stdout;
    assert_eq!(out.trim(), "configmap/b");
    let out = env
        .kubectl(&[
            "get",
            "cm",
            "-n",
            &ns,
            "-l",
            "tier!=gold,app=demo",
            "-o",
            "name",
        ])
        .ok()
        .stdout;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["configmap/a", "configmap/c"]
    );
    let out = env
        .kubectl(&[
            "get",
            "cm",
            "-n",
            &ns,
            "--field-selector",
            "metadata.name=c",
            "-o",
            "jsonpath={.items[0].metadata.annotations.note}",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "x");
    let out = env
        .kubectl(&["get", "cm", "-n", &ns, "--field-selector", "spec.foo=x"])
        .fails();
    assert!(
        out.stderr.contains("field label not supported: spec.foo"),
        "{}",
        out.stderr
    );
    let out = env
        .kubectl(&["get", "cm", "-n", &ns, "-l", "a b c"])
        .fails();
    assert!(
        out.stderr.contains("unable to parse requirement") || out.stderr.contains("couldn't parse"),
        "{}",
        out.stderr
    );
    // label managers are tracked.
    let mf = env
        .kubectl(&[
            "get",
            "cm",
            "b",
            "-n",
            &ns,
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .ok()
        .stdout;
    assert!(mf.contains("kubectl-label"), "{mf}");
}

#[test]
fn patches_json_merge_strategic_and_generation() {
    let env = shared();
    let ns = env.namespace("patch");
    env.kubectl_in(&deploy_yaml(&ns, "d1"), &["apply", "-f", "-"])
        .ok();
    let generation = |env: &crate::common::Env| {
        env.kubectl(&[
            "get",
            "deploy",
            "d1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .ok()
        .stdout
    };
    assert_eq!(generation(env), "1");
    // Strategic merge: containers merged by name, one deleted by directive, one appended.
    let smp = r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.27"},{"name":"side","$patch":"delete"},{"name":"new","image":"redis"}]}}}}"#;
    env.kubectl(&["patch", "deploy", "d1", "-n", &ns, "-p", smp])
        .ok();
    let images = env.kubectl(&["get", "deploy", "d1", "-n", &ns, "-o", "jsonpath={.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image}"]).ok().stdout;
    assert_eq!(images, "c new=nginx:1.27 redis");
    assert_eq!(generation(env), "2");
    // Metadata-only change: generation unchanged.
    env.kubectl(&["label", "deploy", "d1", "-n", &ns, "x=y"])
        .ok();
    assert_eq!(generation(env), "2");
    // JSON patch with test + replace.
    env.kubectl(&["patch", "deploy", "d1", "-n", &ns, "--type=json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":3}]"#]).ok();
    assert_eq!(
        env.kubectl(&[
            "get",
            "deploy",
            "d1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.replicas}"
        ])
        .ok()
        .stdout,
        "3"
    );
    assert_eq!(generation(env), "3");
    let out = env
        .kubectl(&[
            "patch",
            "deploy",
            "d1",
            "-n",
            &ns,
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/zzz/a","value":1}]"#,
        ])
        .fails();
    assert!(out.stderr.contains("path not found"), "{}", out.stderr);
    // Merge patch.
    env.kubectl(&[
        "patch",
        "deploy",
        "d1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"paused":true}}"#,
    ])
    .ok();
    assert_eq!(
        env.kubectl(&[
            "get",
            "deploy",
            "d1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.paused}"
        ])
        .ok()
        .stdout,
        "true"
    );
    // Status subresource: writes there do not bump generation; status in main writes is ignored.
    env.kubectl(&[
        "patch",
        "deploy",
        "d1",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":3,"readyReplicas":3}}"#,
    ])
    .ok();
    assert_eq!(generation(env), "4");
    env.kubectl(&[
        "patch",
        "deploy",
        "d1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"status":{"readyReplicas":1}}"#,
    ])
    .ok();
    assert_eq!(
        env.kubectl(&[
            "get",
            "deploy",
            "d1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.readyReplicas}"
        ])
        .ok()
        .stdout,
        "3"
    );
    // scale subresource.
    env.kubectl(&["scale", "deploy", "d1", "-n", &ns, "--replicas=5"])
        .ok();
    assert_eq!(
        env.kubectl(&[
            "get",
            "deploy",
            "d1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.replicas}"
        ])
        .ok()
        .stdout,
        "5"
    );
    let table = env.kubectl(&["get", "deploy", "-n", &ns]).ok().stdout;
    assert!(
        table.starts_with("NAME") && table.contains("READY") && table.contains("UP-TO-DATE"),
        "{table}"
    );
}

#[test]
fn replace_with_stale_resource_version_conflicts() {
    let env = shared();
    let ns = env.namespace("conflict");
    env.kubectl_in(&cm_yaml(&ns, "c1", ""), &["apply", "-f", "-"])
        .ok();
    let live = env
        .kubectl(&["get", "cm", "c1", "-n", &ns, "-o", "yaml"])
        .ok()
        .stdout;
    env.kubectl(&["label", "cm", "c1", "-n", &ns, "bump=1"])
        .ok();
    let out = env.kubectl_in(&live, &["replace", "-f", "-"]).fails();
    assert!(
        out.stderr.contains(
            "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified"
        ),
        "{}",
        out.stderr
    );
    let fresh = env
        .kubectl(&["get", "cm", "c1", "-n", &ns, "-o", "yaml"])
        .ok()
        .stdout
        .replace("a: \"1\"", "a: \"7\"");
    assert!(
        env.kubectl_in(&fresh, &["replace", "-f", "-"])
            .ok()
            .stdout
            .contains("replaced")
    );
}

#[test]
fn dry_run_server_writes_nothing() {
    let env = shared();
    let ns = env.namespace("dry");
    let out = env
        .kubectl_in(
            &cm_yaml(&ns, "d", ""),
            &["apply", "-f", "-", "--dry-run=server"],
        )
        .ok();
    assert!(out.stdout.contains("(server dry run)"), "{}", out.stdout);
    let get = env.kubectl(&["get", "cm", "d", "-n", &ns]).fails();
    assert!(get.stderr.contains("NotFound"), "{}", get.stderr);
}

#[test]
fn delete_with_finalizers_sets_deletion_timestamp_until_released() {
    let env = shared();
    let ns = env.namespace("fin");
    let y =
        cm_yaml(&ns, "f1", "").replace("  labels:", "  finalizers: [example.com/hold]\n  labels:");
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    env.kubectl(&["delete", "cm", "f1", "-n", &ns, "--wait=false"])
        .ok();
    let ts = env
        .kubectl(&[
            "get",
            "cm",
            "f1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ])
        .ok()
        .stdout;
    assert!(ts.ends_with('Z'), "{ts}");
    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "f1",
            "-n",
            &ns,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["example.com/hold","example.com/new"]}}"#,
        ])
        .fails();
    assert!(
        out.stderr
            .contains("no new finalizers can be added if the object is being deleted"),
        "{}",
        out.stderr
    );
    env.kubectl(&[
        "patch",
        "cm",
        "f1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .ok();
    let out = env.kubectl(&["get", "cm", "f1", "-n", &ns]).fails();
    assert!(
        out.stderr
            .contains("Error from server (NotFound): configmaps \"f1\" not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn strict_validation_rejects_unknown_fields_and_warn_drops_them() {
    let env = shared();
    let ns = env.namespace("strict");
    let y = cm_yaml(&ns, "s1", "bogus: 1\n");
    let out = env.kubectl_in(&y, &["apply", "-f", "-"]).fails();
    assert!(
        out.stderr
            .contains("strict decoding error: unknown field \"bogus\""),
        "{}",
        out.stderr
    );
    let out = env
        .kubectl_in(&y, &["create", "-f", "-", "--validate=warn"])
        .ok();
    assert!(
        out.stderr.contains("unknown field \"bogus\""),
        "warning printed: {}",
        out.stderr
    );
    let got = env
        .kubectl(&["get", "cm", "s1", "-n", &ns, "-o", "json"])
        .ok()
        .stdout;
    assert!(!got.contains("bogus"), "{got}");
}

#[test]
fn namespaces_lifecycle_and_immortal_ones() {
    let env = shared();
    let ns = env.namespace("life");
    let label = env.kubectl(&["get", "ns", &ns, "-o", "jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name} {.status.phase} {.spec.finalizers[0]}"]).ok().stdout;
    assert_eq!(label, format!("{ns} Active kubernetes"));
    env.kubectl_in(&cm_yaml(&ns, "inside", ""), &["apply", "-f", "-"])
        .ok();
    env.kubectl(&["delete", "ns", &ns, "--timeout=20s"]).ok();
    let out = env.kubectl(&["get", "ns", &ns]).fails();
    assert!(out.stderr.contains("NotFound"), "{}", out.stderr);
    let out = env.kubectl(&["get", "cm", "inside", "-n", &ns]).fails();
    assert!(out.stderr.contains("NotFound"));
    let out = env.kubectl(&["delete", "ns", "default"]).fails();
    assert!(
        out.stderr.contains("Forbidden")
            && out.stderr.contains("this namespace may not be deleted"),
        "{}",
        out.stderr
    );
    let out = env
        .kubectl_in(&cm_yaml("does-not-exist", "x", ""), &["apply", "-f", "-"])
        .fails();
    assert!(
        out.stderr
            .contains("namespaces \"does-not-exist\" not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn pods_log_and_exec_are_not_implemented() {
    let env = shared();
    let ns = env.namespace("pods");
    env.kubectl(&["run", "p1", "-n", &ns, "--image=nginx"]).ok();
    let out = env.kubectl(&["logs", "p1", "-n", &ns]).fails();
    assert!(
        out.stderr.contains("NotImplemented") || out.stderr.contains("no kubelet"),
        "{}",
        out.stderr
    );
    let table = env.kubectl(&["get", "pods", "-n", &ns]).ok().stdout;
    assert!(
        table.starts_with("NAME") && table.contains("STATUS") && table.contains("p1"),
        "{table}"
    );
}

#[test]
fn generate_name_and_invalid_names() {
    let env = shared();
    let ns = env.namespace("names");
    let y = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n  namespace: {ns}\n"
    );
    let out = env.kubectl_in(&y, &["create", "-f", "-"]).ok().stdout;
    assert!(
        out.starts_with("configmap/gen-")
            && out.trim().len() == "configmap/gen-".len() + 5 + " created".len(),
        "{out}"
    );
    let out = env
        .kubectl_in(&cm_yaml(&ns, "Bad_Name", ""), &["apply", "-f", "-"])
        .fails();
    assert!(
        out.stderr.contains("is invalid") && out.stderr.contains("metadata.name"),
        "{}",
        out.stderr
    );
}

#[test]
fn auth_can_i_and_whoami_answer_without_storing() {
    let env = shared();
    let k133 = crate::common::versioned_kubectl("1.33");
    // kubectl 1.33 sends these reviews as protobuf.
    let out = env
        .kubectl_bin(&k133, &["auth", "can-i", "create", "configmaps"], None)
        .ok();
    assert_eq!(out.stdout.trim(), "yes");
    let out = env
        .kubectl_bin(&k133, &["auth", "can-i", "--list"], None)
        .ok();
    assert!(out.stdout.contains("*.*"), "{}", out.stdout);
    let out = env
        .kubectl_bin(
            &k133,
            &[
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
            None,
        )
        .ok();
    assert_eq!(out.stdout, "kubernetes-admin");
    let out = env
        .kubectl(&[
            "get",
            "--raw",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        ])
        .fails();
    assert!(
        out.stderr.contains("MethodNotAllowed") || out.stderr.contains("not allow"),
        "reviews are create-only: {}",
        out.stderr
    );
}
