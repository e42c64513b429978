//! Watch semantics: initial events, resume, selector transitions, bookmarks, streaming lists,
//! timeouts, 410 Expired, Table-wrapped events.

use crate::common::{PY_PRELUDE, py, shared, start, start_with};

/// Python helper: stream a raw watch and collect decoded events until `stop(events)` is true
/// or the server closes the stream.
const STREAM: &str = r#"
import http.client, threading, time
def stream(path, stop, headers=None, on_start=None):
    u = os.environ['SERVER']
    host = u.split('://')[1]
    ctx = ssl.create_default_context(cafile=os.environ['CA'])
    c = http.client.HTTPSConnection(host, context=ctx, timeout=30) if u.startswith('https') else http.client.HTTPConnection(host, timeout=30)
    h = {'Authorization': 'Bearer ' + os.environ['TOKEN']}
    h.update(headers or {})
    c.request('GET', path, headers=h)
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read())
    if on_start:
        threading.Thread(target=on_start).start()
    events = []
    while True:
        line = r.readline()
        if not line:
            break
        events.append(json.loads(line))
        if stop(events):
            break
    c.close()
    return r, events
"#;

#[test]
fn python_watch_replays_current_objects_then_changes() {
    let env = shared();
    let ns = env.namespace("pywatch");
    let out = py(
        env,
        &format!(
            r#"
import threading, time
ns = '{ns}'
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='w0')))
def later():
    time.sleep(0.5)
    v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='w1')))
    v1.patch_namespaced_config_map('w1', ns, {{'data': {{'a': '1'}}}})
    v1.delete_namespaced_config_map('w0', ns)
threading.Thread(target=later).start()
seen = []
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, ns, timeout_seconds=5):
    seen.append((ev['type'], ev['object'].metadata.name))
    if len(seen) == 4:
        w.stop()
assert seen == [('ADDED', 'w0'), ('ADDED', 'w1'), ('MODIFIED', 'w1'), ('DELETED', 'w0')], seen
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn resume_selector_transitions_bookmarks_and_timeout() {
    let env = shared();
    let ns = env.namespace("rawwatch");
    let out = py(
        env,
        &format!(
            r#"{STREAM}
ns = '{ns}'
base = '/api/v1/namespaces/%s/configmaps' % ns
o = v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name='s1', labels={{'sel': 'yes'}})))
rv = o.metadata.resource_version
v1.patch_namespaced_config_map('s1', ns, {{'metadata': {{'labels': {{'sel': 'no'}}}}}})
v1.patch_namespaced_config_map('s1', ns, {{'metadata': {{'labels': {{'sel': 'yes'}}}}}})
# Resume from rv with a label selector: leaving the selection is DELETED, re-entering ADDED.
r, evs = stream(base + '?watch=true&labelSelector=sel%3Dyes&resourceVersion=' + rv + '&timeoutSeconds=1&allowWatchBookmarks=true', lambda e: False)
types = [e['type'] for e in evs]
assert types == ['DELETED', 'ADDED', 'BOOKMARK'], types
assert r.getheader('Content-Type') == 'application/json'
assert int(evs[-1]['object']['metadata']['resourceVersion']) >= int(evs[1]['object']['metadata']['resourceVersion'])
assert evs[-1]['object']['kind'] == 'ConfigMap'
# Streaming list: initial ADDED events then the initial-events-end bookmark.
r, evs = stream(base + '?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=',
                lambda e: e[-1]['type'] == 'BOOKMARK')
assert [e['type'] for e in evs] == ['ADDED', 'BOOKMARK']
assert evs[-1]['object']['metadata']['annotations'] == {{'k8s.io/initial-events-end': 'true'}}
# sendInitialEvents without resourceVersionMatch is invalid.
st, h, b = raw('GET', base + '?watch=true&sendInitialEvents=true')
assert st == 422 and json.loads(b)['details']['kind'] == 'ListOptions', (st, b)
# Table-wrapped watch events, as `kubectl get -w` asks for them.
acc = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'
r, evs = stream(base + '?watch=true&timeoutSeconds=1', lambda e: False, headers={{'Accept': acc}})
assert r.getheader('Content-Type').startswith('application/json;as=Table'), r.getheader('Content-Type')
t = evs[0]['object']
assert t['kind'] == 'Table' and t['rows'][0]['cells'][0] == 's1' and t['columnDefinitions'][0]['name'] == 'Name'
# PartialObjectMetadata list.
st, h, b = raw('GET', base, headers={{'Accept': 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'}})
d = json.loads(b)
assert d['kind'] == 'PartialObjectMetadataList' and d['items'][0]['kind'] == 'PartialObjectMetadata' and 'data' not in d['items'][0]
print('ok')
"#
        ),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn watch_from_compacted_version_gets_410_expired() {
    let env = start(true, 5);
    let out = env.python(&format!(
        r#"{PY_PRELUDE}{STREAM}
first = v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='old')))
for i in range(10):
    v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='n%d' % i)))
r, evs = stream('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=' + first.metadata.resource_version, lambda e: True)
assert evs[0]['type'] == 'ERROR', evs
s = evs[0]['object']
assert s['code'] == 410 and s['reason'] == 'Expired' and s['message'].startswith('too old resource version'), s
print('ok')
"#
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "ok");
}

#[test]
fn kubectl_wait_for_delete_uses_watch() {
    let env = shared();
    let ns = env.namespace("wait");
    let y = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n  namespace: {ns}\n  finalizers: [example.com/x]\n"
    );
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    env.kubectl(&["delete", "cm", "gone", "-n", &ns, "--wait=false"])
        .ok();
    let kubeconfig = env.kubeconfig.clone();
    let ns2 = ns.clone();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(800));
        let cache = tempfile::tempdir().unwrap();
        std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args([
                "patch",
                "cm",
                "gone",
                "-n",
                &ns2,
                "--type=json",
                "-p",
                r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
            ])
            .output()
            .unwrap()
    });
    let started = std::time::Instant::now();
    env.kubectl(&[
        "wait",
        "--for=delete",
        "cm/gone",
        "-n",
        &ns,
        "--timeout=15s",
    ])
    .ok();
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    assert!(releaser.join().unwrap().status.success());
}

#[test]
fn slow_watchers_are_disconnected_and_never_block_writers() {
    // Tiny per-watcher buffer: a watcher that stops reading falls behind quickly.
    let env = start_with(false, 10_000, 8);
    let out = env.python(&format!(
        r#"{PY_PRELUDE}
import socket, time
host, port = os.environ['SERVER'].split('://')[1].split(':')
s = socket.create_connection((host, int(port)))
s.sendall(b'GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: x\r\n\r\n')
big = 'x' * 100000
start = time.time()
for i in range(250):
    v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='slow%d' % i), data={{'big': big}}))
took = time.time() - start
# Writers were never blocked by the stuck watcher.
assert took < 30, took
# The stuck watcher's stream was ended by the server: draining it reaches the final chunk.
s.settimeout(20)
data = b''
while not data.endswith(b'\r\n0\r\n\r\n'):
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
assert data.endswith(b'\r\n0\r\n\r\n'), data[-100:]
assert len(data) < 250 * 100000, len(data)
print('ok')
"#
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "ok");
}
