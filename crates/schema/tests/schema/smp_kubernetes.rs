//! Strategic merge patch in Kubernetes (API server) mode: directives and list order as
//! apimachinery's `strategicpatch` applies them (examples follow the Kubernetes documentation
//! "Update API Objects in Place Using kubectl patch" and the SMP design document).

use schema::{SmpMode, SmpOptions, TypeDef};
use serde_json::{Value, json};

fn deployment() -> &'static TypeDef {
    schema::kind("apps", "v1", "Deployment")
        .expect("deployments")
        .type_def
}

fn k8s(original: Value, patch: Value) -> Value {
    let opts = SmpOptions {
        mode: SmpMode::Kubernetes,
    };
    schema::strategic_merge_with(&original, &patch, Some(deployment()), &opts)
        .expect("patch applies")
}

fn containers(v: &Value) -> Vec<&str> {
    v.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default()
}

fn dep(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"template": {"spec": {"containers": containers}}}})
}

#[test]
fn new_container_goes_first_existing_keep_server_order() {
    let got = k8s(
        dep(json!([{"name": "patch-demo-ctr", "image": "nginx"}])),
        dep(json!([{"name": "patch-demo-ctr-2", "image": "redis"}])),
    );
    assert_eq!(containers(&got), ["patch-demo-ctr-2", "patch-demo-ctr"]);

    let got = k8s(
        dep(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])),
        dep(json!([{"name": "b", "image": "x"}])),
    );
    assert_eq!(containers(&got), ["a", "b", "c"]);
    assert_eq!(
        got.pointer("/spec/template/spec/containers/1/image"),
        Some(&json!("x"))
    );
}

#[test]
fn kustomize_mode_puts_patch_elements_first() {
    let base = dep(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let patch = dep(json!([{"name": "c", "image": "x"}, {"name": "d"}]));
    let got = schema::strategic_merge(&base, &patch, schema::Gvk::of(&base).as_ref()).expect("ok");
    assert_eq!(containers(&got), ["c", "d", "a", "b"]);
}

#[test]
fn set_element_order_reorders() {
    let mut patch = dep(json!([{"name": "a", "image": "new"}]));
    patch["spec"]["template"]["spec"]["$setElementOrder/containers"] =
        json!([{"name": "c"}, {"name": "a"}, {"name": "b"}]);
    let got = k8s(
        dep(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])),
        patch,
    );
    assert_eq!(containers(&got), ["c", "a", "b"]);
    assert!(
        got.pointer("/spec/template/spec/$setElementOrder~1containers")
            .is_none()
    );
}

#[test]
fn retain_keys_drops_unlisted_fields() {
    let orig =
        json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    assert_eq!(
        k8s(orig, patch),
        json!({"spec": {"strategy": {"type": "Recreate"}}})
    );
}

#[test]
fn delete_from_primitive_list_and_primitive_merge() {
    let orig = json!({"metadata": {"finalizers": ["a", "b", "c"]}});
    let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}});
    assert_eq!(
        k8s(orig.clone(), patch),
        json!({"metadata": {"finalizers": ["a", "c"]}})
    );
    // New primitives are placed before server-only ones, as apimachinery's merge-sort does.
    let patch = json!({"metadata": {"finalizers": ["d", "b"]}});
    assert_eq!(
        k8s(orig, patch),
        json!({"metadata": {"finalizers": ["d", "a", "b", "c"]}})
    );
}

#[test]
fn directives_delete_replace_and_null() {
    let orig = dep(json!([{"name": "a", "image": "x", "args": ["1"]}, {"name": "b"}]));
    let got = k8s(
        orig.clone(),
        dep(json!([{"name": "a", "$patch": "delete"}])),
    );
    assert_eq!(containers(&got), ["b"]);
    let got = k8s(
        orig.clone(),
        dep(json!([{"name": "z"}, {"$patch": "replace"}])),
    );
    assert_eq!(containers(&got), ["z"]);
    let got = k8s(orig.clone(), dep(json!([{"name": "a", "image": null}])));
    assert_eq!(
        got.pointer("/spec/template/spec/containers/0"),
        Some(&json!({"name": "a", "args": ["1"]}))
    );
    let got = k8s(
        orig.clone(),
        json!({"spec": {"template": {"$patch": "replace", "x": 1}}}),
    );
    assert_eq!(got["spec"]["template"], json!({"x": 1}));
    // apimachinery leaves an empty map behind (kustomize removes the field).
    let got = k8s(orig.clone(), json!({"spec": {"$patch": "delete"}}));
    assert_eq!(got.get("spec"), Some(&json!({})));
    let err = schema::strategic_merge_with(
        &orig,
        &json!({"spec": {"$patch": "merge"}}),
        Some(deployment()),
        &SmpOptions {
            mode: SmpMode::Kubernetes,
        },
    );
    assert!(err.is_err(), "apimachinery rejects $patch: merge on a map");
}

#[test]
fn errors_name_the_place() {
    let orig = dep(json!([{"name": "a"}]));
    let err = schema::strategic_merge(
        &orig,
        &dep(json!([{"image": "x"}])),
        schema::Gvk::of(&orig).as_ref(),
    )
    .expect_err("missing merge key");
    assert_eq!(
        err.to_string(),
        "strategic merge patch at spec.template.spec.containers: list element does not contain merge key \"name\""
    );
    let err = schema::strategic_merge(&orig, &json!({"spec": {"$patch": "frob"}}), None)
        .expect_err("bad directive");
    assert!(
        err.to_string()
            .contains("unknown $patch directive \"frob\""),
        "{err}"
    );
}

#[test]
fn whole_object_delete_gives_null() {
    let orig = dep(json!([]));
    let got = schema::strategic_merge(&orig, &json!({"$patch": "delete"}), None).expect("ok");
    assert_eq!(got, Value::Null);
}
