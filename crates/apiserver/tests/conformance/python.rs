//! The Python `kubernetes` client: typed CRUD, errors, pagination, strategic patches, dynamic
//! discovery.

use crate::common::{py, shared};

#[test]
fn typed_crud_and_status_errors() {
    let env = shared();
    let ns = env.namespace("pycrud");
    let out = py(
        env,
        &format!(
            r#"
ns = '{ns}'
cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name='c1', labels={{'a': 'b'}}), data={{'k': 'v'}})
o = v1.create_namespaced_config_map(ns, cm)
rv1 = int(o.metadata.resource_version)
assert o.metadata.uid and o.metadata.creation_timestamp is not None, 'check0'
try:
    v1.create_namespaced_config_map(ns, cm)
    raise SystemExit('expected 409')
except ApiException as e:
    s = json.loads(e.body)
    assert e.status == 409 and s['reason'] == 'AlreadyExists' and s['message'] == 'configmaps "c1" already exists', s
o.data['k'] = 'v2'
o2 = v1.replace_namespaced_config_map('c1', ns, o)
assert int(o2.metadata.resource_version) > rv1, 'check1'
# Same body again: a no-op write keeps the resourceVersion.
o3 = v1.replace_namespaced_config_map('c1', ns, o2)
assert o3.metadata.resource_version == o2.metadata.resource_version, 'check2'
# Stale resourceVersion.
o.metadata.resource_version = str(rv1)
try:
    v1.replace_namespaced_config_map('c1', ns, o)
    raise SystemExit('expected 409')
except ApiException as e:
    assert e.status == 409 and json.loads(e.body)['reason'] == 'Conflict'
# Strategic merge patch (the client's default for dicts).
p = v1.patch_namespaced_config_map('c1', ns, {{'metadata': {{'labels': {{'x': 'y'}}}}}})
assert p.metadata.labels == {{'a': 'b', 'x': 'y'}}
st = v1.delete_namespaced_config_map('c1', ns)
assert st.status == 'Success' and st.details.name == 'c1' and st.details.kind == 'configmaps'
try:
    v1.read_namespaced_config_map('c1', ns)
    raise SystemExit('expected 404')
except ApiException as e:
    s = json.loads(e.body)
    assert e.status == 404 and s['details'] == {{'name': 'c1', 'kind': 'configmaps'}}, s
# Body namespace that differs from the URL.
bad = client.V1ConfigMap(metadata=client.V1ObjectMeta(name='c2', namespace='other'))
try:
    v1.create_namespaced_config_map(ns, bad)
    raise SystemExit('expected 400')
except ApiException as e:
    assert e.status == 400 and 'does not match the namespace' in json.loads(e.body)['message']
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn pagination_with_limit_and_continue() {
    let env = shared();
    let ns = env.namespace("page");
    let out = py(
        env,
        &format!(
            r#"
ns = '{ns}'
for i in range(7):
    v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='c%d' % i)))
names, token, rvs, pages = [], None, set(), 0
while True:
    l = v1.list_namespaced_config_map(ns, limit=3, _continue=token)
    pages += 1
    names += [i.metadata.name for i in l.items]
    rvs.add(l.metadata.resource_version)
    token = l.metadata._continue
    if pages == 1:
        assert l.metadata.remaining_item_count == 4, l.metadata.remaining_item_count
        # a write between pages does not change the snapshot RV of later pages
        v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name='noise-')))
    if not token:
        break
assert names == ['c%d' % i for i in range(7)], names
assert pages == 3 and len(rvs) == 1, (pages, rvs)
try:
    v1.list_namespaced_config_map(ns, limit=3, _continue='garbage!!')
    raise SystemExit('expected 400')
except ApiException as e:
    assert e.status == 400
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn deployments_strategic_merge_and_dynamic_discovery() {
    let env = shared();
    let ns = env.namespace("pydyn");
    let out = py(
        env,
        &format!(
            r#"
from kubernetes.dynamic import DynamicClient
ns = '{ns}'
dep = {{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {{'name': 'd'}},
       'spec': {{'selector': {{'matchLabels': {{'app': 'd'}}}}, 'template': {{'metadata': {{'labels': {{'app': 'd'}}}},
       'spec': {{'containers': [{{'name': 'a', 'image': 'nginx', 'env': [{{'name': 'X', 'value': '1'}}]}}]}}}}}}}}
apps.create_namespaced_deployment(ns, dep)
p = apps.patch_namespaced_deployment('d', ns, {{'spec': {{'template': {{'spec': {{'containers': [{{'name': 'a', 'env': [{{'name': 'Y', 'value': '2'}}]}}]}}}}}}}})
env = [(e.name, e.value) for e in p.spec.template.spec.containers[0].env]
assert sorted(env) == [('X', '1'), ('Y', '2')], env
assert p.spec.template.spec.containers[0].image == 'nginx'
assert p.metadata.generation == 2
dyn = DynamicClient(api_client)
cms = dyn.resources.get(api_version='v1', kind='ConfigMap')
assert cms.namespaced and cms.name == 'configmaps'
cms.create(body={{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {{'name': 'dyn'}}, 'data': {{'a': '1'}}}}, namespace=ns)
got = cms.get(name='dyn', namespace=ns)
assert got.data.a == '1'
deps = dyn.resources.get(api_version='apps/v1', kind='Deployment')
assert [d.metadata.name for d in deps.get(namespace=ns).items] == ['d']
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}
