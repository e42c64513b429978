//! Version, health, discovery (aggregated and legacy), OpenAPI v3, authentication.

use crate::common::{py, shared, start};

#[test]
fn version_reports_1_33_through_the_dispatcher() {
    let env = shared();
    let out = env.kubectl(&["version", "-o", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["serverVersion"]["major"], "1");
    assert_eq!(v["serverVersion"]["minor"], "33");
    // The gcloud dispatcher picked the 1.33 binary from the server's minor.
    assert!(
        v["clientVersion"]["gitVersion"]
            .as_str()
            .unwrap()
            .starts_with("v1.33"),
        "{}",
        out.stdout
    );
}

#[test]
fn health_endpoints_answer_ok() {
    let env = shared();
    for p in ["/healthz", "/livez", "/readyz", "/readyz/ping"] {
        assert_eq!(
            env.kubectl(&["get", "--raw", p]).ok().stdout.trim(),
            "ok",
            "{p}"
        );
    }
}

#[test]
fn api_resources_lists_builtins_with_short_names() {
    let env = shared();
    let out = env.kubectl(&["api-resources", "--no-headers"]).ok().stdout;
    let line = out
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    assert!(
        line.contains("deploy")
            && line.contains("apps/v1")
            && line.contains("true")
            && line.contains("Deployment"),
        "{line}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("namespaces ") && l.contains("false")),
        "{out}"
    );
    let versions = env.kubectl(&["api-versions"]).ok().stdout;
    for gv in [
        "v1",
        "apps/v1",
        "apiextensions.k8s.io/v1",
        "coordination.k8s.io/v1",
    ] {
        assert!(versions.lines().any(|l| l == gv), "{gv} in {versions}");
    }
}

#[test]
fn aggregated_discovery_v2_and_v2beta1_and_legacy() {
    let env = shared();
    let out = py(
        env,
        r#"
for ver in ['v2', 'v2beta1']:
    accept = 'application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList,application/json' % ver
    st, h, b = raw('GET', '/apis', headers={'Accept': accept})
    d = json.loads(b)
    assert st == 200 and d['apiVersion'] == 'apidiscovery.k8s.io/' + ver, d['apiVersion']
    assert ('v=' + ver) in h['content-type'], h['content-type']
    apps = [g for g in d['items'] if g['metadata']['name'] == 'apps'][0]
    dep = [r for r in apps['versions'][0]['resources'] if r['resource'] == 'deployments'][0]
    assert dep['scope'] == 'Namespaced' and 'scale' in [s['subresource'] for s in dep['subresources']]
    st, h, b = raw('GET', '/api', headers={'Accept': accept})
    core = json.loads(b)['items'][0]
    assert core['metadata']['name'] == ''
st, h, b = raw('GET', '/apis/apps/v1')
rl = json.loads(b)
scale = [r for r in rl['resources'] if r['name'] == 'deployments/scale'][0]
assert scale['group'] == 'autoscaling' and scale['kind'] == 'Scale', scale
st, h, b = raw('GET', '/api')
assert json.loads(b)['versions'] == ['v1']
st, h, b = raw('GET', '/apis/apps')
g = json.loads(b)
assert g['kind'] == 'APIGroup' and g['preferredVersion']['version'] == 'v1'
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn openapi_v3_lists_group_versions_with_write_parameters() {
    let env = shared();
    let out = py(
        env,
        r#"
st, h, b = raw('GET', '/openapi/v3')
root = json.loads(b)['paths']
url = root['api/v1']['serverRelativeURL']
assert url.startswith('/openapi/v3/api/v1?hash='), url
st, h, b = raw('GET', url)
doc = json.loads(b)
post = doc['paths']['/api/v1/namespaces/{namespace}/configmaps']['post']
names = [p['name'] for p in post['parameters']]
assert 'fieldValidation' in names and 'dryRun' in names and 'fieldManager' in names
assert post['x-kubernetes-group-version-kind'] == {'group': '', 'version': 'v1', 'kind': 'ConfigMap'}
patch = doc['paths']['/api/v1/namespaces/{namespace}/configmaps/{name}']['patch']
assert 'application/strategic-merge-patch+json' in patch['requestBody']['content']
assert 'io.k8s.api.core.v1.ConfigMap' in doc['components']['schemas']
assert 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' in doc['components']['schemas']
st, h, b = raw('GET', '/openapi/v2')
assert st == 404, st
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
    // kubectl explain reads the v3 schemas.
    let explain = env.kubectl(&["explain", "configmap.data"]).ok().stdout;
    assert!(
        explain.contains("KIND:") && explain.contains("ConfigMap"),
        "{explain}"
    );
}

#[test]
fn tls_requires_credentials_and_accepts_the_admin_token() {
    let env = shared();
    let out = py(
        env,
        r#"
st, h, b = raw('GET', '/api/v1/namespaces', token=False)
assert st == 401, st
s = json.loads(b)
assert s['reason'] == 'Unauthorized' and s['code'] == 401
st, h, b = raw('GET', '/api/v1/namespaces', headers={'Authorization': 'Bearer wrong'})
assert st == 401
st, h, b = raw('GET', '/api/v1/namespaces')
assert st == 200 and json.loads(b)['kind'] == 'NamespaceList'
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn plain_http_mode_serves_without_credentials() {
    let env = start(false, 1000);
    assert!(env.url.starts_with("http://"));
    let out = env
        .kubectl(&["get", "ns", "default", "-o", "jsonpath={.metadata.labels}"])
        .ok()
        .stdout;
    assert!(out.contains("kubernetes.io/metadata.name"), "{out}");
}

/// HorizontalPodAutoscalers convert between autoscaling/v1 and v2 (CPU target ↔ metrics) as
/// the real server converts them, whichever version they were written in.
#[test]
fn hpa_converts_between_autoscaling_v1_and_v2() {
    let env = shared();
    let ns = env.namespace("hpa");
    let v2 = format!(
        r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web2, namespace: {ns}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 60}}}}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {{name: web1, namespace: {ns}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  maxReplicas: 3
  targetCPUUtilizationPercentage: 50
"#
    );
    env.kubectl_in(&v2, &["create", "-f", "-"]).ok();
    let get = |res: &str, name: &str, path: &str| {
        env.kubectl(&[
            "get",
            res,
            name,
            "-n",
            &ns,
            "-o",
            &format!("jsonpath={path}"),
        ])
        .ok()
        .stdout
    };
    assert_eq!(
        get(
            "horizontalpodautoscalers.v1.autoscaling",
            "web2",
            "{.apiVersion} {.spec.targetCPUUtilizationPercentage} {.spec.metrics}"
        ),
        "autoscaling/v1 60 "
    );
    assert_eq!(
        get(
            "horizontalpodautoscalers.v2.autoscaling",
            "web1",
            "{.apiVersion} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.averageUtilization} {.spec.targetCPUUtilizationPercentage}"
        ),
        "autoscaling/v2 cpu 50 "
    );
}
