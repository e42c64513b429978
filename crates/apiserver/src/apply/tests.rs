//! Unit tests of the apply engine: the spec's worked examples (d.7) and list/map type cases.

use super::path::{FieldSet, PathElement, path_string};
use super::*;
use serde_json::{Value, json};

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T00:01:00Z";

fn cm() -> Ty<'static> {
    Ty::builtin("", "v1", "ConfigMap")
}

fn deploy() -> Ty<'static> {
    Ty::builtin("apps", "v1", "Deployment")
}

fn params<'a>(manager: &'a str, force: bool, now: &'a str) -> ApplyParams<'a> {
    ApplyParams {
        manager,
        api_version: "v1",
        subresource: None,
        force,
        has_status: false,
        now,
    }
}

fn run(live: Option<&Value>, cfg: Value, ty: Ty<'_>, manager: &str) -> Result<Value, ApplyError> {
    apply(live, &cfg, ty, &params(manager, false, T0))
}

fn ok(live: Option<&Value>, cfg: Value, ty: Ty<'_>, manager: &str) -> Value {
    run(live, cfg, ty, manager).expect("apply succeeds")
}

/// The fieldsV1 of `manager`'s entry with `operation`, or null.
pub(crate) fn fields_of(obj: &Value, manager: &str, operation: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

fn cm_cfg(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}, "data": data})
}

fn conflicts(r: Result<Value, ApplyError>) -> Vec<(String, String)> {
    match r {
        Err(ApplyError::Conflicts(cs)) => cs.into_iter().map(|c| (c.manager, c.field)).collect(),
        other => panic!("expected conflicts, got {other:?}"),
    }
}

#[test]
fn fields_v1_round_trip_and_order() {
    let cases = [
        json!({"f:data": {".": {}, "f:a": {}}}),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}),
        json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}}}),
        json!({"f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}}}}),
        json!({"f:list": {"i:0": {}, "i:2": {}}}),
    ];
    for c in cases {
        let set = FieldSet::from_fields_v1(&c).unwrap();
        assert_eq!(set.to_fields_v1(), c);
        // Key order as written, not just equal maps.
        assert_eq!(set.to_fields_v1().to_string(), c.to_string());
    }
    // Numbers in keys order numerically; fields come before items.
    let set =
        FieldSet::from_fields_v1(&json!({"k:{\"port\":10}": {}, "k:{\"port\":9}": {}})).unwrap();
    assert_eq!(
        set.to_fields_v1().to_string(),
        r#"{"k:{\"port\":9}":{},"k:{\"port\":10}":{}}"#
    );
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
}

#[test]
fn path_strings() {
    let p = vec![
        PathElement::Field("spec".into()),
        PathElement::Field("ports".into()),
        path::key_element(vec![
            ("protocol".into(), json!("TCP")),
            ("port".into(), json!(80)),
        ]),
    ];
    assert_eq!(path_string(&p), r#".spec.ports[port=80,protocol="TCP"]"#);
    let p = vec![
        PathElement::Field("metadata".into()),
        PathElement::Field("finalizers".into()),
        PathElement::Value(json!("x")),
    ];
    assert_eq!(path_string(&p), r#".metadata.finalizers[="x"]"#);
    assert_eq!(path_string(&[PathElement::Index(3)]), "[3]");
}

/// d.7 example 5: SSA create, then an identical re-apply is a no-op.
#[test]
fn create_and_reapply() {
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "labels": {"app": "x"}}, "data": {"a": "1", "b": "2"}});
    let created = ok(None, cfg.clone(), cm(), "flux");
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{"manager": "flux", "operation": "Apply", "apiVersion": "v1", "time": T0, "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}}])
    );
    assert_eq!(created["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(created["metadata"]["name"], "demo");
    let again = apply(Some(&created), &cfg, cm(), &params("flux", false, T1)).unwrap();
    assert_eq!(
        again, created,
        "re-applying the same body changes nothing, not even the time"
    );
}

/// d.7 example 6: an Update steals a field, the applier then conflicts, force transfers.
#[test]
fn update_steals_apply_conflicts_force_transfers() {
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "labels": {"app": "x"}}, "data": {"a": "1", "b": "2"}});
    let live = ok(None, cfg.clone(), cm(), "flux");
    let mut edited = live.clone();
    edited["data"]["a"] = json!("9");
    crate::fields::track_update(Some(&live), &mut edited, "kubectl-edit", "v1", None, false);
    assert_eq!(
        fields_of(&edited, "kubectl-edit", "Update"),
        json!({"f:data": {"f:a": {}}})
    );
    assert_eq!(
        fields_of(&edited, "flux", "Apply"),
        json!({"f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );

    let err = run(Some(&edited), cfg.clone(), cm(), "flux").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a"#
    );
    let status = crate::error::ApiError::from(err).status();
    assert_eq!(status["code"], 409);
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["details"],
        json!({"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\" using v1", "field": ".data.a"}]})
    );

    let forced = apply(Some(&edited), &cfg, cm(), &params("flux", true, T1)).unwrap();
    assert_eq!(forced["data"]["a"], "1");
    assert_eq!(
        fields_of(&forced, "flux", "Apply"),
        json!({"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
    assert_eq!(
        forced["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(forced["metadata"]["managedFields"][0]["time"], T1);

    // Same value: no conflict, shared ownership.
    let shared = ok(Some(&edited), cm_cfg(json!({"b": "2"})), cm(), "ci");
    assert_eq!(
        fields_of(&shared, "ci", "Apply"),
        json!({"f:data": {"f:b": {}}})
    );
    assert_eq!(
        fields_of(&shared, "flux", "Apply"),
        json!({"f:data": {"f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
}

/// d.7 example 7: fields an applier stops applying are removed unless co-owned.
#[test]
fn field_removal() {
    let live = ok(None, cm_cfg(json!({"a": "1", "b": "2"})), cm(), "flux");
    let out = ok(Some(&live), cm_cfg(json!({"a": "1"})), cm(), "flux");
    assert_eq!(out["data"], json!({"a": "1"}));

    let co = ok(Some(&live), cm_cfg(json!({"b": "2"})), cm(), "ci");
    let out = ok(Some(&co), cm_cfg(json!({"a": "1"})), cm(), "flux");
    assert_eq!(out["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(
        fields_of(&out, "flux", "Apply"),
        json!({"f:data": {"f:a": {}}})
    );
    assert_eq!(
        fields_of(&out, "ci", "Apply"),
        json!({"f:data": {"f:b": {}}})
    );

    // Dropping the last label removes the emptied map; an Update manager's fields are never
    // pruned by someone else's apply.
    let labeled = ok(
        None,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "labels": {"app": "x"}}, "data": {"a": "1"}}),
        cm(),
        "flux",
    );
    let out = ok(Some(&labeled), cm_cfg(json!({"a": "1"})), cm(), "flux");
    assert!(out["metadata"].get("labels").is_none(), "{out}");
    let mut updated = labeled.clone();
    updated["data"]["c"] = json!("3");
    crate::fields::track_update(
        Some(&labeled),
        &mut updated,
        "kubectl-edit",
        "v1",
        None,
        false,
    );
    let bare = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}});
    let out = ok(Some(&updated), bare, cm(), "flux");
    assert_eq!(out["data"], json!({"c": "3"}));
    assert_eq!(fields_of(&out, "flux", "Apply"), Value::Null);
}

fn deployment(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": containers}}}})
}

/// d.7 example 8: containers are a list map keyed by name; args are atomic.
#[test]
fn two_managers_on_containers() {
    let a = ok(
        None,
        deployment(json!([{"name": "c", "image": "nginx"}])),
        deploy(),
        "A",
    );
    let b = ok(
        Some(&a),
        deployment(json!([{"name": "side", "image": "busybox"}])),
        deploy(),
        "B",
    );
    assert_eq!(
        b["spec"]["template"]["spec"]["containers"],
        json!([{"name": "c", "image": "nginx"}, {"name": "side", "image": "busybox"}])
    );
    assert_eq!(
        fields_of(&b, "A", "Apply"),
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    assert_eq!(
        fields_of(&b, "B", "Apply"),
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"side\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
    );
    // A dropping its container removes only that one.
    let out = ok(Some(&b), deployment(json!([])), deploy(), "A");
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "side", "image": "busybox"}])
    );

    // Atomic args conflict as one field.
    let a = ok(
        None,
        deployment(json!([{"name": "c", "image": "nginx", "args": ["y"]}])),
        deploy(),
        "A",
    );
    let r = run(
        Some(&a),
        deployment(json!([{"name": "c", "args": ["x"]}])),
        deploy(),
        "B",
    );
    assert_eq!(
        conflicts(r),
        vec![(
            "\"A\"".to_string(),
            r#".spec.template.spec.containers[name="c"].args"#.to_string()
        )]
    );
    // Ports: a list map keyed by containerPort and protocol (TCP when absent).
    let p = ok(
        None,
        deployment(json!([{"name": "c", "ports": [{"containerPort": 80}]}])),
        deploy(),
        "A",
    );
    assert_eq!(
        fields_of(&p, "A", "Apply")["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]
            ["f:ports"],
        json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}})
    );
}

#[test]
fn several_conflicts_message() {
    let live = ok(None, cm_cfg(json!({"x": "1", "y": "1"})), cm(), "a");
    let live = ok(Some(&live), cm_cfg(json!({"z": "1"})), cm(), "b");
    let r = run(
        Some(&live),
        cm_cfg(json!({"x": "2", "y": "2", "z": "2"})),
        cm(),
        "c",
    );
    let err = r.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 3 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y\nconflicts with \"b\":\n- .data.z"
    );
    let status = crate::error::ApiError::from(err).status();
    assert_eq!(status["details"]["causes"].as_array().unwrap().len(), 3);
}

#[test]
fn finalizers_are_a_set() {
    let meta = |f: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "finalizers": f}});
    let one = ok(None, meta(json!(["a"])), cm(), "m1");
    let two = ok(Some(&one), meta(json!(["b"])), cm(), "m2");
    assert_eq!(two["metadata"]["finalizers"], json!(["a", "b"]));
    assert_eq!(
        fields_of(&two, "m2", "Apply"),
        json!({"f:metadata": {"f:finalizers": {"v:\"b\"": {}}}})
    );
    let out = ok(Some(&two), meta(json!([])), cm(), "m1");
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    assert_eq!(fields_of(&out, "m1", "Apply"), Value::Null);
}

#[test]
fn granular_and_atomic_maps() {
    let labels = |l: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "labels": l}});
    let one = ok(None, labels(json!({"app": "x"})), cm(), "m1");
    let two = ok(Some(&one), labels(json!({"team": "y"})), cm(), "m2");
    assert_eq!(two["metadata"]["labels"], json!({"app": "x", "team": "y"}));

    // LabelSelector is an atomic map: owned and replaced whole.
    let sel = |m: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": m}}})
    };
    let one = ok(None, sel(json!({"a": "1"})), deploy(), "m1");
    assert_eq!(
        fields_of(&one, "m1", "Apply"),
        json!({"f:spec": {"f:selector": {}}})
    );
    let r = run(Some(&one), sel(json!({"b": "2"})), deploy(), "m2");
    assert_eq!(
        conflicts(r),
        vec![("\"m1\"".into(), ".spec.selector".into())]
    );
    let forced = apply(
        Some(&one),
        &sel(json!({"b": "2"})),
        deploy(),
        &params("m2", true, T1),
    )
    .unwrap();
    assert_eq!(
        forced["spec"]["selector"],
        json!({"matchLabels": {"b": "2"}})
    );
    assert_eq!(fields_of(&forced, "m1", "Apply"), Value::Null);
}

fn crd_schema() -> Value {
    json!({"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "plain": {"type": "array", "items": {"type": "string"}},
            "sel": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }},
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
    }})
}

#[test]
fn crd_list_and_map_types() {
    let schema = crd_schema();
    let ty = Ty::CrdRoot(&schema);
    let cr = |spec: Value| json!({"apiVersion": "ex.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": spec});
    let a = ok(
        None,
        cr(
            json!({"items": [{"name": "x", "value": "1"}], "tags": ["t1"], "plain": ["p1"], "extra": {"k": {"deep": 1}}}),
        ),
        ty,
        "A",
    );
    assert_eq!(
        fields_of(&a, "A", "Apply"),
        json!({"f:spec": {
            "f:extra": {"f:k": {".": {}, "f:deep": {}}},
            "f:items": {"k:{\"name\":\"x\"}": {".": {}, "f:name": {}, "f:value": {}}},
            "f:plain": {},
            "f:tags": {"v:\"t1\"": {}}
        }})
    );
    let b = ok(
        Some(&a),
        cr(json!({"items": [{"name": "y"}], "tags": ["t2"]})),
        ty,
        "B",
    );
    assert_eq!(
        b["spec"]["items"],
        json!([{"name": "x", "value": "1"}, {"name": "y"}])
    );
    assert_eq!(b["spec"]["tags"], json!(["t1", "t2"]));
    // Lists without a list type are atomic: different items conflict.
    let r = run(Some(&b), cr(json!({"plain": ["p2"]})), ty, "B");
    assert_eq!(conflicts(r), vec![("\"A\"".into(), ".spec.plain".into())]);
    // The atomic map is owned whole.
    let s = ok(Some(&b), cr(json!({"sel": {"a": "1"}})), ty, "C");
    assert_eq!(
        fields_of(&s, "C", "Apply"),
        json!({"f:spec": {"f:sel": {}}})
    );
    let r = run(Some(&s), cr(json!({"sel": {"b": "1"}})), ty, "B");
    assert_eq!(conflicts(r), vec![("\"C\"".into(), ".spec.sel".into())]);
}

#[test]
fn status_subresource_and_rejections() {
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo", "managedFields": [{}]}});
    assert_eq!(run(None, cfg, cm(), "m"), Err(ApplyError::ManagedFieldsSet));
    assert_eq!(
        crate::error::ApiError::from(ApplyError::ManagedFieldsSet).code,
        400
    );
    assert_eq!(
        run(None, json!([1]), cm(), "m"),
        Err(ApplyError::NotAnObject)
    );

    let schema = crd_schema();
    let ty = Ty::CrdRoot(&schema);
    let live = json!({"apiVersion": "ex.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"plain": ["p"]}});
    let p = ApplyParams {
        manager: "ctl",
        api_version: "ex.com/v1",
        subresource: Some("status"),
        force: false,
        has_status: true,
        now: T0,
    };
    let cfg = json!({"apiVersion": "ex.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"plain": ["q"]}, "status": {"ready": true}});
    let out = apply(Some(&live), &cfg, ty, &p).unwrap();
    assert_eq!(out["status"], json!({"ready": true}));
    assert_eq!(
        out["spec"],
        json!({"plain": ["p"]}),
        "status apply leaves spec alone"
    );
    let e = &out["metadata"]["managedFields"][0];
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:ready": {}}}));
    // Another manager changing that status field conflicts, named with its subresource.
    let p2 = ApplyParams {
        manager: "other",
        ..p
    };
    let r = apply(
        Some(&out),
        &json!({"metadata": {"name": "t"}, "status": {"ready": false}}),
        ty,
        &p2,
    );
    assert_eq!(
        conflicts(r),
        vec![(
            "\"ctl\" with subresource \"status\"".into(),
            ".status.ready".into()
        )]
    );
}

#[test]
fn resource_version_precondition_is_carried() {
    let live = ok(None, cm_cfg(json!({"a": "1"})), cm(), "m");
    let mut cfg = cm_cfg(json!({"a": "2"}));
    cfg["metadata"]["resourceVersion"] = json!("42");
    let out = ok(Some(&live), cfg, cm(), "m");
    assert_eq!(out["metadata"]["resourceVersion"], "42");
}
