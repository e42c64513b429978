//! Field ownership of Update operations (create, `kubectl set image`, `kubectl edit`,
//! `kubectl scale`, `kubectl label`) as real kubectl drives them, and how a later
//! `kubectl apply --server-side` by another manager conflicts with exactly the fields an Update
//! took.

use crate::common::shared;
use serde_json::{Value, json};
use std::process::Command;

fn deployment_yaml(ns: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n  labels:\n    app: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: c1\n        image: {image}\n      - name: c2\n        image: side:1\n"
    )
}

fn get(ns: &str) -> Value {
    let out = shared()
        .kubectl(&[
            "get",
            "deployment",
            "web",
            "-n",
            ns,
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .ok()
        .stdout;
    serde_json::from_str(&out).expect("kubectl get -o json")
}

/// The entry of `manager` (with `subresource`, if any).
fn entry(obj: &Value, manager: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The spec entries (no status subresource) in stored order, without their times.
fn spec_entries(obj: &Value) -> Vec<Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["subresource"] != "status")
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().map(|m| m.shift_remove("time"));
            e
        })
        .collect()
}

fn container<'a>(fields: &'a Value, name: &str) -> &'a Value {
    &fields["f:spec"]["f:template"]["f:spec"]["f:containers"][format!("k:{{\"name\":\"{name}\"}}")]
}

#[test]
fn set_image_edit_scale_label_then_apply_conflicts() {
    let env = shared();
    let ns = env.namespace("updf");
    env.kubectl_in(&deployment_yaml(&ns, "img:1"), &["create", "-f", "-"])
        .ok();
    let v = get(&ns);
    let created = entry(&v, "kubectl-create");
    assert_eq!(created["operation"], "Update");
    assert_eq!(created["apiVersion"], "apps/v1");
    assert!(created.get("subresource").is_none(), "{created}");
    let f = &created["fieldsV1"];
    assert_eq!(f["f:metadata"], json!({"f:labels": {".": {}, "f:app": {}}}));
    assert_eq!(f["f:spec"]["f:replicas"], json!({}));
    for c in ["c1", "c2"] {
        let item = container(f, c);
        assert_eq!(item["."], json!({}), "{f}");
        assert_eq!(item["f:image"], json!({}), "{f}");
        assert_eq!(item["f:name"], json!({}), "{f}");
    }

    // `kubectl set image` owns that one image, nothing else.
    env.kubectl(&["set", "image", "deployment/web", "c1=img:2", "-n", &ns])
        .ok();
    let v = get(&ns);
    let set = entry(&v, "kubectl-set");
    assert_eq!(set["operation"], "Update");
    assert_eq!(set["apiVersion"], "apps/v1");
    assert_eq!(
        set["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c1\"}": {"f:image": {}}}}}}})
    );
    let creator = entry(&v, "kubectl-create");
    assert!(
        container(&creator["fieldsV1"], "c1")
            .get("f:image")
            .is_none(),
        "the creator lost c1's image: {creator}"
    );
    assert_eq!(
        container(&creator["fieldsV1"], "c2")["f:image"],
        json!({}),
        "{creator}"
    );

    // Another manager applying a different image conflicts on exactly that field.
    let err = env
        .kubectl_in(
            &deployment_yaml(&ns, "img:3"),
            &["apply", "--server-side", "--field-manager=flux", "-f", "-"],
        )
        .fails()
        .stderr;
    assert!(
        err.contains(r#"Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: .spec.template.spec.containers[name="c1"].image"#),
        "{err}"
    );

    // `kubectl edit` changing c2's image through an editor script.
    let dir = tempfile::tempdir().expect("temp dir");
    let editor = dir.path().join("edit.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/image: side:1/image: side:2/' \"$1\"\n",
    )
    .expect("write editor");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "chmod +x '{e}' && KUBE_EDITOR='{e}' kubectl --kubeconfig '{k}' --cache-dir '{c}' edit deployment/web -n {ns}",
            e = editor.display(),
            k = env.kubeconfig.display(),
            c = dir.path().join("cache").display(),
        ))
        .output()
        .expect("run kubectl edit");
    assert!(
        status.status.success(),
        "kubectl edit: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let v = get(&ns);
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"][1]["image"],
        "side:2"
    );
    assert_eq!(
        entry(&v, "kubectl-edit")["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c2\"}": {"f:image": {}}}}}}})
    );
    assert_eq!(
        entry(&v, "kubectl-set")["fieldsV1"],
        set["fieldsV1"],
        "untouched by the edit"
    );

    // `kubectl scale` goes through the scale subresource and is recorded as such.
    env.kubectl(&["scale", "deployment/web", "--replicas=3", "-n", &ns])
        .ok();
    let v = get(&ns);
    let scaled: Vec<&Value> = v["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subresource"] == "scale")
        .collect();
    assert_eq!(scaled.len(), 1, "{}", v["metadata"]["managedFields"]);
    assert_eq!(scaled[0]["operation"], "Update");
    assert_eq!(scaled[0]["apiVersion"], "apps/v1");
    assert_eq!(scaled[0]["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    assert!(
        entry(&v, "kubectl-create")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none(),
        "replicas left the creator"
    );

    // `kubectl label` owns the new label only; relabelling with the same value changes nothing.
    env.kubectl(&["label", "deployment/web", "tier=web", "-n", &ns])
        .ok();
    let v = get(&ns);
    assert_eq!(
        entry(&v, "kubectl-label")["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );
    let before = spec_entries(&v);
    env.kubectl(&[
        "label",
        "--overwrite",
        "deployment/web",
        "tier=web",
        "-n",
        &ns,
    ])
    .ok();
    assert_eq!(
        spec_entries(&get(&ns)),
        before,
        "a no-op Update adds nothing"
    );

    // Forcing the apply moves only the conflicting image to the applier.
    env.kubectl_in(
        &deployment_yaml(&ns, "img:3"),
        &[
            "apply",
            "--server-side",
            "--field-manager=flux",
            "--force-conflicts",
            "-f",
            "-",
        ],
    )
    .ok();
    let v = get(&ns);
    assert_eq!(
        entry(&v, "kubectl-set"),
        Value::Null,
        "its only field moved"
    );
    assert_eq!(
        container(&entry(&v, "flux")["fieldsV1"], "c1")["f:image"],
        json!({})
    );
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"][0]["image"],
        "img:3"
    );
}

#[test]
fn removing_a_label_by_patch_leaves_the_owners_set() {
    let env = shared();
    let ns = env.namespace("updr");
    env.kubectl_in(&deployment_yaml(&ns, "img:1"), &["create", "-f", "-"])
        .ok();
    env.kubectl(&["label", "deployment/web", "tier=web", "-n", &ns])
        .ok();
    env.kubectl(&["label", "deployment/web", "tier-", "-n", &ns])
        .ok();
    let v = get(&ns);
    // The removal took `tier` out of kubectl-label's set, leaving it empty: the entry goes.
    assert_eq!(entry(&v, "kubectl-label"), Value::Null, "{}", v["metadata"]);
    assert_eq!(
        entry(&v, "kubectl-create")["fieldsV1"]["f:metadata"],
        json!({"f:labels": {".": {}, "f:app": {}}})
    );
}

/// kube-rs: create and replace (PUT) with explicit field managers, then a server-side apply by a
/// third manager conflicts on the one field the replace changed, naming it as the server does.
#[tokio::test]
async fn kube_rs_replace_owns_changed_items_only() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams, PostParams};

    let env = shared();
    let ns = env.namespace("updk");
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("client config");
    let client = kube::Client::try_from(cfg).expect("client");
    let api: Api<Deployment> = Api::namespaced(client, &ns);
    let body: Value = manifest_json(&deployment_yaml(&ns, "img:1"));
    let d: Deployment = serde_json::from_value(body.clone()).expect("deployment");
    let pp = |m: &str| PostParams {
        field_manager: Some(m.into()),
        ..Default::default()
    };
    api.create(&pp("creator"), &d).await.expect("create");

    // Read-modify-write, retried when the simulated controller's status write got in between.
    let mut attempt = 0;
    let replaced = loop {
        let cur = api.get("web").await.expect("get");
        let mut changed = serde_json::to_value(&cur).expect("to json");
        changed["spec"]["template"]["spec"]["containers"][1]["image"] = json!("side:9");
        changed["spec"]["template"]["spec"]["containers"][0]["ports"] =
            json!([{"containerPort": 80, "protocol": "TCP"}]);
        let changed: Deployment = serde_json::from_value(changed).expect("deployment");
        match api.replace("web", &pp("ctrl"), &changed).await {
            Ok(d) => break d,
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 10 => attempt += 1,
            Err(e) => panic!("replace: {e:?}"),
        }
    };
    let v = serde_json::to_value(&replaced).expect("to json");
    assert_eq!(
        entry(&v, "ctrl")["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"c1\"}": {"f:ports": {".": {},
                "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}}},
            "k:{\"name\":\"c2\"}": {"f:image": {}}}}}}})
    );
    assert!(
        container(&entry(&v, "creator")["fieldsV1"], "c2")
            .get("f:image")
            .is_none()
    );

    let err = api
        .patch(
            "web",
            &PatchParams::apply("flux"),
            &Patch::Apply(manifest_json(&deployment_yaml(&ns, "img:1"))),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
            assert_eq!(
                s.message,
                r#"Apply failed with 1 conflict: conflict with "ctrl" using apps/v1: .spec.template.spec.containers[name="c2"].image"#
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// The test manifests as JSON (they are plain block YAML; kubectl converts them the same way).
fn manifest_json(yaml: &str) -> Value {
    let out = shared()
        .kubectl_in(
            yaml,
            &["create", "--dry-run=client", "-o", "json", "-f", "-"],
        )
        .ok()
        .stdout;
    serde_json::from_str(&out).expect("kubectl converts the manifest")
}
