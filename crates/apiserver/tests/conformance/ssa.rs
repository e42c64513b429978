//! Server-side apply driven by kubectl (`apply --server-side`, `--force-conflicts`,
//! `--dry-run=server`, after client-side apply) and raw HTTP.

use crate::common::{py, shared};
use serde_json::{Value, json};

fn cm_yaml(ns: &str, name: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: x\ndata:\n{data}"
    )
}

fn get_json(ns: &str, what: &[&str]) -> Value {
    let env = shared();
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-n", ns, "-o", "json", "--show-managed-fields"]);
    let out = env.kubectl(&args).ok().stdout;
    serde_json::from_str(&out).expect("kubectl get -o json")
}

fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager))
}

#[test]
fn apply_create_conflict_force_shared() {
    let env = shared();
    let ns = env.namespace("ssa");
    let y = cm_yaml(&ns, "demo", "  a: \"1\"\n  b: \"2\"\n");
    let ssa = |y: &str, extra: &[&str]| {
        let mut args = vec!["apply", "--server-side", "-f", "-"];
        args.extend_from_slice(extra);
        env.kubectl_in(y, &args)
    };
    let out = ssa(&y, &["--field-manager=flux"]).ok().stdout;
    assert!(out.contains("configmap/demo serverside-applied"), "{out}");
    let v = get_json(&ns, &["cm", "demo"]);
    let mf = v["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 1, "{mf:?}");
    assert_eq!(mf[0]["manager"], "flux");
    assert_eq!(mf[0]["operation"], "Apply");
    assert_eq!(mf[0]["apiVersion"], "v1");
    assert_eq!(mf[0]["fieldsType"], "FieldsV1");
    assert_eq!(
        mf[0]["fieldsV1"],
        json!({"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
    let rv = v["metadata"]["resourceVersion"].clone();

    // Re-applying the same configuration writes nothing.
    ssa(&y, &["--field-manager=flux"]).ok();
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(v["metadata"]["resourceVersion"], rv);

    // An Update by another manager takes .data.a; the applier then conflicts.
    env.kubectl(&[
        "patch",
        "cm",
        "demo",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"data":{"a":"9"}}"#,
    ])
    .ok();
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(
        entry(&v, "kubectl-patch").unwrap()["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    let err = ssa(&y, &["--field-manager=flux"]).fails().stderr;
    assert!(
        err.contains(
            r#"Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.a"#
        ),
        "{err}"
    );

    // Another applier agreeing on a value shares it without conflict.
    let ci = cm_yaml(&ns, "demo", "  b: \"2\"\n");
    ssa(&ci, &["--field-manager=ci"]).ok();
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(
        entry(&v, "ci").unwrap()["fieldsV1"]["f:data"],
        json!({"f:b": {}})
    );
    assert!(entry(&v, "flux").unwrap()["fieldsV1"]["f:data"]["f:b"].is_object());

    // Force takes the field back; the Update manager's entry disappears.
    ssa(&y, &["--field-manager=flux", "--force-conflicts"]).ok();
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(v["data"]["a"], "1");
    assert!(entry(&v, "kubectl-patch").is_none(), "{v}");

    // flux stops applying b: it stays because ci still owns it; a goes (flux's alone).
    let only_label = cm_yaml(&ns, "demo", "  c: \"3\"\n");
    ssa(&only_label, &["--field-manager=flux"]).ok();
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(v["data"], json!({"b": "2", "c": "3"}));
}

fn deploy_yaml(ns: &str, containers: &str, with_selector: bool) -> String {
    let selector = if with_selector {
        "  selector:\n    matchLabels: {app: d}\n  template:\n    metadata:\n      labels: {app: d}\n"
    } else {
        "  template:\n"
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: {ns}\nspec:\n{selector}    spec:\n      containers:\n{containers}"
    )
}

#[test]
fn two_managers_own_different_containers() {
    let env = shared();
    let ns = env.namespace("ssa-deploy");
    let a = deploy_yaml(
        &ns,
        "      - name: c\n        image: nginx\n        args: [\"y\"]\n",
        true,
    );
    env.kubectl_in(
        &a,
        &["apply", "--server-side", "--field-manager=a", "-f", "-"],
    )
    .ok();
    let b = deploy_yaml(&ns, "      - name: side\n        image: busybox\n", false);
    env.kubectl_in(
        &b,
        &["apply", "--server-side", "--field-manager=b", "-f", "-"],
    )
    .ok();
    let v = get_json(&ns, &["deploy", "d"]);
    let names: Vec<&str> = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "side"]);
    let containers =
        &entry(&v, "b").unwrap()["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"];
    assert_eq!(
        containers,
        &json!({"k:{\"name\":\"side\"}": {".": {}, "f:image": {}, "f:name": {}}})
    );
    // args is atomic: b setting it on a's container conflicts.
    let b2 = deploy_yaml(
        &ns,
        "      - name: side\n        image: busybox\n      - name: c\n        args: [\"x\"]\n",
        false,
    );
    let err = env
        .kubectl_in(
            &b2,
            &["apply", "--server-side", "--field-manager=b", "-f", "-"],
        )
        .fails()
        .stderr;
    assert!(
        err.contains(r#"conflict with "a": .spec.template.spec.containers[name="c"].args"#),
        "{err}"
    );
}

#[test]
fn dry_run_server_and_after_client_side_apply() {
    let env = shared();
    let ns = env.namespace("ssa-dry");
    let y = cm_yaml(&ns, "demo", "  a: \"1\"\n");
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    let before = get_json(&ns, &["cm", "demo"]);
    let rv = before["metadata"]["resourceVersion"].clone();

    // Server-side dry run: the answer shows the change, nothing is stored.
    let y2 = cm_yaml(&ns, "demo", "  a: \"2\"\n");
    let out = env
        .kubectl_in(
            &y2,
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--force-conflicts",
                "-f",
                "-",
                "-o",
                "json",
            ],
        )
        .ok()
        .stdout;
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["data"]["a"], "2");
    let after = get_json(&ns, &["cm", "demo"]);
    assert_eq!(after["metadata"]["resourceVersion"], rv);
    assert_eq!(after["data"]["a"], "1");

    // Server-side apply after client-side apply of the same object (kubectl migrates the
    // client-side ownership to its server-side manager).
    let out = env
        .kubectl_in(&y2, &["apply", "--server-side", "-f", "-"])
        .ok()
        .stdout;
    assert!(out.contains("serverside-applied"), "{out}");
    let v = get_json(&ns, &["cm", "demo"]);
    assert_eq!(v["data"]["a"], "2");
    let e = entry(&v, "kubectl").expect("kubectl manager");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["fieldsV1"]["f:data"], json!({"f:a": {}}));
    assert!(
        entry(&v, "kubectl-client-side-apply").is_none(),
        "kubectl migrated the client-side manager: {v}"
    );
    // The server keeps the client-side annotation in step with what kubectl applied.
    let last: Value = serde_json::from_str(
        v["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["data"]["a"], "2");
}

#[test]
fn apply_requires_field_manager_and_no_managed_fields() {
    let env = shared();
    let ns = env.namespace("ssa-raw");
    let out = py(
        env,
        &format!(
            r#"
path = '/api/v1/namespaces/{ns}/configmaps/raw'
body = json.dumps({{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {{'name': 'raw'}}, 'data': {{'a': '1'}}}}).encode()
h = {{'Content-Type': 'application/apply-patch+yaml'}}
s, _, b = raw('PATCH', path, body, h)
print(s, json.loads(b)['message'])
s, _, b = raw('PATCH', path + '?fieldManager=m', body, h)
print(s, json.loads(b)['metadata']['managedFields'][0]['manager'])
s, _, b = raw('PATCH', path + '?fieldManager=m', body, h)
print(s)
bad = json.dumps({{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {{'name': 'raw', 'managedFields': [{{'manager': 'x'}}]}}}}).encode()
s, _, b = raw('PATCH', path + '?fieldManager=m', bad, h)
print(s, json.loads(b)['message'])
"#
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            r#"422 PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#,
            "201 m",
            "200",
            "400 metadata.managedFields must be nil",
        ]
    );
}

fn gadget_crd(group: &str) -> String {
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: gadgets, singular: gadget, kind: Gadget}}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {{type: string, default: red}}
              items:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {{type: string}}
                    value: {{type: string}}
              tags: {{type: array, x-kubernetes-list-type: set, items: {{type: string}}}}
              plain: {{type: array, items: {{type: string}}}}
          status:
            type: object
            properties:
              ready: {{type: boolean}}
"#
    )
}

/// Creates the Gadget CRD of `group` and waits until it is served.
fn install_gadget_crd(env: &crate::common::Env, group: &str) {
    env.kubectl_in(&gadget_crd(group), &["apply", "--server-side", "-f", "-"])
        .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/gadgets.{group}"),
        "--timeout=10s",
    ])
    .ok();
}

#[test]
fn custom_resources_use_crd_list_types() {
    let env = shared();
    let group = format!("{}.example.com", crate::common::unique("ssa"));
    let ns = env.namespace("ssa-crd");
    install_gadget_crd(env, &group);
    let cr = |spec: &str| {
        format!(
            "apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: {ns}\nspec:\n{spec}"
        )
    };
    let ssa = |y: &str, manager: &str| {
        env.kubectl_in(
            y,
            &[
                "apply",
                "--server-side",
                &format!("--field-manager={manager}"),
                "-f",
                "-",
            ],
        )
    };
    ssa(
        &cr("  items: [{name: one, value: \"1\"}]\n  tags: [t1]\n  plain: [p1]\n"),
        "a",
    )
    .ok();
    ssa(
        &cr("  items: [{name: two, value: \"2\"}]\n  tags: [t2]\n"),
        "b",
    )
    .ok();
    let kind = format!("gadgets.{group}");
    let v = get_json(&ns, &[&kind, "g"]);
    assert_eq!(
        v["spec"]["items"],
        json!([{"name": "one", "value": "1"}, {"name": "two", "value": "2"}])
    );
    assert_eq!(v["spec"]["tags"], json!(["t1", "t2"]));
    // The defaulted color is owned by nobody.
    assert_eq!(v["spec"]["color"], "red");
    assert_eq!(
        entry(&v, "a").unwrap()["fieldsV1"],
        json!({"f:spec": {
            "f:items": {"k:{\"name\":\"one\"}": {".": {}, "f:name": {}, "f:value": {}}},
            "f:plain": {},
            "f:tags": {"v:\"t1\"": {}}
        }})
    );
    // A list without x-kubernetes-list-type is atomic: another applier conflicts.
    let err = ssa(&cr("  plain: [p2]\n"), "b").fails().stderr;
    assert!(err.contains(r#"conflict with "a": .spec.plain"#), "{err}");

    // Apply to the status subresource manages status only.
    let out = py(
        env,
        &format!(
            r#"
path = '/apis/{group}/v1/namespaces/{ns}/gadgets/g/status?fieldManager=ctl'
body = json.dumps({{'apiVersion': '{group}/v1', 'kind': 'Gadget', 'metadata': {{'name': 'g'}}, 'spec': {{'color': 'blue'}}, 'status': {{'ready': True}}}}).encode()
s, _, b = raw('PATCH', path, body, {{'Content-Type': 'application/apply-patch+yaml'}})
o = json.loads(b)
e = [m for m in o['metadata']['managedFields'] if m['manager'] == 'ctl'][0]
print(s, o['status']['ready'], o['spec']['color'], e.get('subresource'), json.dumps(e['fieldsV1']))
"#
        ),
    );
    assert_eq!(
        out.trim(),
        r#"200 True red status {"f:status": {"f:ready": {}}}"#
    );
}

#[test]
fn dry_run_apply_emits_no_watch_event() {
    let env = shared();
    let ns = env.namespace("ssa-watch");
    let out = py(
        env,
        &format!(
            r#"
path = '/api/v1/namespaces/{ns}/configmaps/w'
h = {{'Content-Type': 'application/apply-patch+yaml'}}
def body(a):
    return json.dumps({{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {{'name': 'w'}}, 'data': {{'a': a}}}}).encode()
s, _, b = raw('PATCH', path + '?fieldManager=m', body('1'), h)
rv0 = json.loads(b)['metadata']['resourceVersion']
s, _, b = raw('PATCH', path + '?fieldManager=m&dryRun=All', body('2'), h)
print(s, json.loads(b)['data']['a'], json.loads(b)['metadata']['resourceVersion'] == rv0)
raw('PATCH', path + '?fieldManager=m', body('3'), h)
s, _, b = raw('GET', '/api/v1/namespaces/{ns}/configmaps?watch=true&timeoutSeconds=1&resourceVersion=' + rv0)
for line in b.decode().splitlines():
    e = json.loads(line)
    print(e['type'], e['object']['data']['a'])
"#
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["200 2 True", "MODIFIED 3"]
    );
}

/// Update operations on a custom resource are tracked with the CRD's list types: a merge patch
/// that rewrites whole lists owns only the list-map item field and the set value it changed.
#[test]
fn custom_resource_updates_use_crd_list_types() {
    let env = shared();
    let group = format!("{}.example.com", crate::common::unique("upd"));
    let ns = env.namespace("upd-crd");
    install_gadget_crd(env, &group);
    let cr = |spec: &str| {
        format!(
            "apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: {ns}\nspec:\n{spec}"
        )
    };
    env.kubectl_in(
        &cr("  color: red\n  items: [{name: one, value: \"1\"}, {name: two, value: \"2\"}]\n  tags: [t1]\n  plain: [p1]\n"),
        &["create", "-f", "-"],
    )
    .ok();
    let kind = format!("gadgets.{group}");
    let v = get_json(&ns, &[&kind, "g"]);
    let item = json!({".": {}, "f:name": {}, "f:value": {}});
    assert_eq!(
        entry(&v, "kubectl-create").unwrap()["fieldsV1"],
        json!({"f:spec": {".": {}, "f:color": {},
            "f:items": {".": {}, "k:{\"name\":\"one\"}": item, "k:{\"name\":\"two\"}": item},
            "f:plain": {}, "f:tags": {".": {}, "v:\"t1\"": {}}}})
    );

    env.kubectl(&[
        "patch",
        &kind,
        "g",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"items":[{"name":"one","value":"1"},{"name":"two","value":"22"}],"tags":["t1","t3"]}}"#,
    ])
    .ok();
    let v = get_json(&ns, &[&kind, "g"]);
    assert_eq!(
        entry(&v, "kubectl-patch").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:items": {"k:{\"name\":\"two\"}": {"f:value": {}}}, "f:tags": {"v:\"t3\"": {}}}})
    );
    let created = &entry(&v, "kubectl-create").unwrap()["fieldsV1"]["f:spec"];
    assert_eq!(
        created["f:items"]["k:{\"name\":\"two\"}"],
        json!({".": {}, "f:name": {}})
    );

    let err = env
        .kubectl_in(
            &cr("  items: [{name: two, value: \"2\"}]\n"),
            &["apply", "--server-side", "--field-manager=a", "-f", "-"],
        )
        .fails()
        .stderr;
    assert!(
        err.contains(&format!(
            r#"Apply failed with 1 conflict: conflict with "kubectl-patch" using {group}/v1: .spec.items[name="two"].value"#
        )),
        "{err}"
    );
}
