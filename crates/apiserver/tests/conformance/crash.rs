//! Crash safety: acknowledged writes survive `kill -9`, resourceVersions keep increasing and
//! watches resume from a version seen before the crash.

use crate::common::{Env, PY_PRELUDE};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn spawn(dir: &std::path::Path, port: u16) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxrs-apiserver"))
        .arg(dir)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("bad ready line {line:?}"))
        .to_string();
    (child, url)
}

#[test]
fn kill_dash_nine_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn(dir.path(), 0);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let token = std::fs::read_to_string(dir.path().join("pki/admin.token")).unwrap();
    let env = Env {
        url: url.clone(),
        kubeconfig: dir.path().join("kubeconfig"),
        dir: dir.path().to_path_buf(),
        token,
    };
    let out = env.python(&format!(
        r#"{PY_PRELUDE}
rvs = []
for i in range(40):
    o = v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='k%d' % i), data={{'i': str(i)}}))
    rvs.append(int(o.metadata.resource_version))
print(max(rvs))
"#
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let max_rv: u64 = out.stdout.trim().parse().unwrap();
    // SIGKILL: no shutdown path runs.
    Command::new("kill")
        .arg("-9")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
    let (mut child2, url2) = spawn(dir.path(), port);
    assert_eq!(url2, url, "same port and scheme after restart");
    let out = env.python(&format!(
        r#"{PY_PRELUDE}
import http.client
items = v1.list_namespaced_config_map('default').items
names = sorted(i.metadata.name for i in items)
assert names == sorted('k%d' % i for i in range(40)), names
assert all(i.data['i'] == i.metadata.name[1:] for i in items)
o = v1.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='after')))
assert int(o.metadata.resource_version) > {max_rv}, o.metadata.resource_version
# A watch resuming from a pre-crash version replays what happened after it.
host = os.environ['SERVER'].split('://')[1]
c = http.client.HTTPSConnection(host, context=ssl.create_default_context(cafile=os.environ['CA']), timeout=10)
c.request('GET', '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=' + str({max_rv} - 1),
          headers={{'Authorization': 'Bearer ' + os.environ['TOKEN']}})
r = c.getresponse()
evs = [json.loads(l) for l in r.read().splitlines() if l.strip()]
assert [(e['type'], e['object']['metadata']['name']) for e in evs] == [('ADDED', 'k39'), ('ADDED', 'after')], evs
print('ok')
"#
    ));
    let _ = child2.kill();
    let _ = child2.wait();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "ok");
}
