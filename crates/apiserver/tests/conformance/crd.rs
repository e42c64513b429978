//! CustomResourceDefinitions through kubectl and the Python client.

use crate::common::{py, shared, unique};

/// A namespaced Widget CRD in a unique group, with printer columns, short name, status.
pub fn widget_crd(group: &str) -> String {
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    - name: Ready
      type: string
      jsonPath: .status.conditions[?(@.type=="Ready")].status
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {{type: integer, minimum: 1}}
              color: {{type: string, enum: [red, blue], default: red}}
              tags: {{type: array, items: {{type: string}}}}
          status:
            type: object
            properties:
              conditions:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
"#
    )
}

fn widget(ns: &str, name: &str, group: &str, spec: &str) -> String {
    format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}"
    )
}

#[test]
fn crd_lifecycle_with_kubectl() {
    let env = shared();
    let group = format!("{}.example.com", unique("g"));
    let ns = env.namespace("crd");
    env.kubectl_in(&widget_crd(&group), &["create", "-f", "-"])
        .ok();
    let crd_name = format!("widgets.{group}");
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{crd_name}"),
        "--timeout=10s",
    ])
    .ok();
    let cond = env.kubectl(&["get", "crd", &crd_name, "-o", "jsonpath={.status.conditions[?(@.type==\"NamesAccepted\")].reason} {.status.acceptedNames.kind} {.metadata.finalizers[0]}"]).ok().stdout;
    assert_eq!(
        cond,
        "NoConflicts Widget customresourcecleanup.apiextensions.k8s.io"
    );
    // Create a CR; defaulting and pruning (with warn validation) apply.
    let w1 = widget(&ns, "w1", &group, "  size: 3\n");
    assert!(
        env.kubectl_in(&w1, &["apply", "-f", "-"])
            .ok()
            .stdout
            .contains(&format!("widget.{group}/w1 created"))
    );
    let w = env
        .kubectl(&["get", "widgets", "w1", "-n", &ns, "-o", "json"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&w).unwrap();
    assert_eq!(v["spec"]["color"], "red", "defaulted");
    assert_eq!(v["metadata"]["generation"], 1);
    let out = env
        .kubectl_in(
            &widget(&ns, "w2", &group, "  size: 2\n  bogus: x\n"),
            &["apply", "-f", "-"],
        )
        .fails();
    assert!(
        out.stderr.contains("unknown field \"spec.bogus\""),
        "{}",
        out.stderr
    );
    let out = env
        .kubectl_in(
            &widget(&ns, "w2", &group, "  size: 2\n  bogus: x\n"),
            &["create", "-f", "-", "--validate=false"],
        )
        .ok();
    assert!(out.stdout.contains("created"));
    let w2 = env
        .kubectl(&["get", "wd", "w2", "-n", &ns, "-o", "json"])
        .ok()
        .stdout;
    assert!(!w2.contains("bogus"), "pruned: {w2}");
    // Validation errors are 422 with the field.
    let out = env
        .kubectl_in(
            &widget(&ns, "w3", &group, "  size: \"big\"\n  color: green\n"),
            &["create", "-f", "-", "--validate=false"],
        )
        .fails();
    assert!(
        out.stderr.contains("The Widget \"w3\" is invalid"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("spec.size") && out.stderr.contains("spec.color"),
        "{}",
        out.stderr
    );
    // Printer columns via Table, status subresource, kubectl wait on a condition.
    env.kubectl(&[
        "patch",
        "widget",
        "w1",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "widget/w1",
        "-n",
        &ns,
        "--timeout=10s",
    ])
    .ok();
    let table = env.kubectl(&["get", "widgets", "-n", &ns]).ok().stdout;
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "SIZE", "READY", "AGE"]);
    assert_eq!(&lines[1][..3], ["w1", "3", "True"]);
    assert!(
        lines[1][3].ends_with('s') || lines[1][3].ends_with('m'),
        "age rendered: {table}"
    );
    // `all` category includes widgets.
    let all = env
        .kubectl(&["get", "all", "-n", &ns, "-o", "name"])
        .ok()
        .stdout;
    assert!(all.contains(&format!("widget.{group}/w1")), "{all}");
    // Merge patch works on CRs (kubectl uses it for label and apply); SMP is refused with 415.
    env.kubectl(&[
        "patch",
        "widget",
        "w1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"tags":["a","b"]}}"#,
    ])
    .ok();
    let out = env
        .kubectl(&[
            "patch",
            "widget",
            "w1",
            "-n",
            &ns,
            "--type=strategic",
            "-p",
            r#"{"spec":{"size":4}}"#,
        ])
        .fails();
    assert!(
        out.stderr.contains("UnsupportedMediaType") || out.stderr.contains("unknown format"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("application/merge-patch+json"),
        "{}",
        out.stderr
    );
    // Re-apply an existing CR (three-way merge patch) updates it and bumps generation.
    let w1b = widget(&ns, "w1", &group, "  size: 5\n");
    assert!(
        env.kubectl_in(&w1b, &["apply", "-f", "-"])
            .ok()
            .stdout
            .contains("configured")
    );
    assert_eq!(
        env.kubectl(&[
            "get",
            "widget",
            "w1",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.size} {.metadata.generation}"
        ])
        .ok()
        .stdout,
        "5 3"
    );
    // explain reads the CRD schema from /openapi/v3.
    let explain = env
        .kubectl(&["explain", &format!("widgets.{group}.spec")])
        .ok()
        .stdout;
    assert!(
        explain.contains("size") && explain.contains("color"),
        "{explain}"
    );
    // Deleting the CRD deletes its objects and the endpoints disappear.
    env.kubectl(&["delete", "crd", &crd_name, "--timeout=20s"])
        .ok();
    let out = env.kubectl(&["get", "crd", &crd_name]).fails();
    assert!(out.stderr.contains("NotFound"), "{}", out.stderr);
    let out = env
        .kubectl(&[
            "get",
            "--raw",
            &format!("/apis/{group}/v1/namespaces/{ns}/widgets"),
        ])
        .fails();
    assert!(out.stderr.contains("NotFound"), "{}", out.stderr);
}

#[test]
fn invalid_crds_are_rejected() {
    let env = shared();
    let group = format!("{}.example.com", unique("bad"));
    let bad_name =
        widget_crd(&group).replace(&format!("name: widgets.{group}"), "name: wrong.example.com");
    let out = env.kubectl_in(&bad_name, &["create", "-f", "-"]).fails();
    assert!(
        out.stderr.contains("is invalid") && out.stderr.contains("metadata.name"),
        "{}",
        out.stderr
    );
    let non_structural = widget_crd(&group).replace(
        "          spec:\n            type: object\n",
        "          spec:\n",
    );
    let out = env
        .kubectl_in(&non_structural, &["create", "-f", "-"])
        .fails();
    assert!(
        out.stderr.contains("properties[spec].type: Required value"),
        "{}",
        out.stderr
    );
}

#[test]
fn custom_objects_with_python_client() {
    let env = shared();
    let group = format!("{}.example.com", unique("py"));
    let ns = env.namespace("pycrd");
    env.kubectl_in(&widget_crd(&group), &["create", "-f", "-"])
        .ok();
    let out = py(
        env,
        &format!(
            r#"
g, ns = '{group}', '{ns}'
body = {{'apiVersion': g + '/v1', 'kind': 'Widget', 'metadata': {{'name': 'p1'}}, 'spec': {{'size': 2}}}}
o = custom.create_namespaced_custom_object(g, 'v1', ns, 'widgets', body)
assert o['spec']['color'] == 'red' and o['metadata']['generation'] == 1
o = custom.patch_namespaced_custom_object(g, 'v1', ns, 'widgets', 'p1', {{'spec': {{'size': 7}}}})
assert o['spec']['size'] == 7 and o['metadata']['generation'] == 2
o = custom.patch_namespaced_custom_object_status(g, 'v1', ns, 'widgets', 'p1', {{'status': {{'conditions': [{{'type': 'Ready', 'status': 'True'}}]}}}})
assert o['metadata']['generation'] == 2, 'status writes do not bump generation'
try:
    custom.create_namespaced_custom_object(g, 'v1', ns, 'widgets', {{'apiVersion': g + '/v1', 'kind': 'Widget', 'metadata': {{'name': 'bad'}}, 'spec': {{'size': 0}}}})
    raise SystemExit('expected 422')
except ApiException as e:
    assert e.status == 422, e.status
    s = json.loads(e.body)
    assert s['reason'] == 'Invalid' and s['details']['causes'][0]['field'] == 'spec.size', s
# PUT without resourceVersion is refused for custom resources.
cur = custom.get_namespaced_custom_object(g, 'v1', ns, 'widgets', 'p1')
del cur['metadata']['resourceVersion']
try:
    custom.replace_namespaced_custom_object(g, 'v1', ns, 'widgets', 'p1', cur)
    raise SystemExit('expected 422')
except ApiException as e:
    assert e.status == 422 and 'must be specified for an update' in e.body.decode() if isinstance(e.body, bytes) else e.body, e.body
lst = custom.list_namespaced_custom_object(g, 'v1', ns, 'widgets')
assert lst['kind'] == 'WidgetList' and [i['metadata']['name'] for i in lst['items']] == ['p1']
assert lst['items'][0]['apiVersion'] == g + '/v1'
custom.delete_namespaced_custom_object(g, 'v1', ns, 'widgets', 'p1')
try:
    custom.get_namespaced_custom_object(g, 'v1', ns, 'widgets', 'p1')
    raise SystemExit('expected 404')
except ApiException as e:
    assert e.status == 404 and json.loads(e.body)['message'] == 'widgets.' + g + ' "p1" not found', e.body
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}
