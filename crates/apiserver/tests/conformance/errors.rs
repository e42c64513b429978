//! Bad input and error Status objects; the server keeps serving afterwards.

use crate::common::{py, shared};

#[test]
fn bad_input_yields_status_errors() {
    let env = shared();
    let ns = env.namespace("bad");
    let out = py(
        env,
        &format!(
            r#"
ns = '{ns}'
base = '/api/v1/namespaces/%s/configmaps' % ns
def expect(st, b, code, reason):
    s = json.loads(b)
    assert st == code and s['kind'] == 'Status' and s['status'] == 'Failure' and s['reason'] == reason and s['code'] == code, (st, s)
    return s
st, h, b = raw('POST', base, b'{{not json', {{'Content-Type': 'application/json'}})
expect(st, b, 400, 'BadRequest')
assert h['content-type'] == 'application/json'
# No Content-Type at all is JSON (the Python client does this).
st, h, b = raw('POST', base, json.dumps({{'metadata': {{'name': 'nocontenttype'}}}}).encode())
assert st == 201, (st, b)
st, h, b = raw('POST', base, {{'metadata': {{'name': 'wrong'}}, 'data': 'notamap'}}, {{'Content-Type': 'application/json'}})
assert st in (400, 422), (st, b)
st, h, b = raw('POST', base, {{'apiVersion': 'apps/v1', 'kind': 'ConfigMap', 'metadata': {{'name': 'x'}}}}, {{'Content-Type': 'application/json'}})
expect(st, b, 400, 'BadRequest')
st, h, b = raw('POST', base, {{'metadata': {{'name': 'UPPER'}}}}, {{'Content-Type': 'application/json'}})
s = expect(st, b, 422, 'Invalid')
assert s['details']['causes'][0]['field'] == 'metadata.name' and s['details']['kind'] == 'ConfigMap'
st, h, b = raw('POST', base, {{'metadata': {{}}}}, {{'Content-Type': 'application/json'}})
s = expect(st, b, 422, 'Invalid')
assert 'name or generateName is required' in s['message']
st, h, b = raw('POST', base, {{'metadata': {{'name': 'rv', 'resourceVersion': '5'}}}}, {{'Content-Type': 'application/json'}})
expect(st, b, 400, 'BadRequest')
st, h, b = raw('POST', base, b'x' * (3 * 1024 * 1024 + 10), {{'Content-Type': 'application/json'}})
assert st == 413, st
st, h, b = raw('PATCH', base + '/nocontenttype', b'{{}}', {{'Content-Type': 'text/plain'}})
s = expect(st, b, 415, 'UnsupportedMediaType')
assert 'application/strategic-merge-patch+json' in s['message']
st, h, b = raw('GET', '/apis/nope.example.com/v1/things')
s = expect(st, b, 404, 'NotFound')
assert s['message'] == 'the server could not find the requested resource'
st, h, b = raw('GET', base + '?labelSelector=' + urllib.parse.quote('a in (b'))
expect(st, b, 400, 'BadRequest')
st, h, b = raw('GET', base + '/x?dryRun=Sometimes')
assert st in (200, 404)
st, h, b = raw('POST', base + '?dryRun=Sometimes', {{'metadata': {{'name': 'd'}}}}, {{'Content-Type': 'application/json'}})
expect(st, b, 400, 'BadRequest')
st, h, b = raw('POST', base + '?fieldValidation=Loose', {{'metadata': {{'name': 'd'}}}}, {{'Content-Type': 'application/json'}})
expect(st, b, 400, 'BadRequest')
st, h, b = raw('PUT', '/api/v1/namespaces/%s/configmaps' % ns, {{}}, {{'Content-Type': 'application/json'}})
expect(st, b, 405, 'MethodNotAllowed')
st, h, b = raw('GET', base, headers={{'Accept': 'application/vnd.kubernetes.protobuf'}})
expect(st, b, 406, 'NotAcceptable')
st, h, b = raw('POST', base, b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\n', {{'Content-Type': 'application/yaml'}})
assert st == 201, (st, b)
# Still serving.
st, h, b = raw('GET', '/version')
assert st == 200 and json.loads(b)['minor'] == '33'
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}
