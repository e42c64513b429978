//! Garbage collection (background, foreground, orphan), finalizers and deletionTimestamp,
//! namespace termination (content incl. custom resources, conditions, stuck finalizers, 403 on
//! create, protected namespaces) and Event expiry, through kubectl and kube-rs.

use crate::common::{Env, shared, unique};
use crate::crd::widget_crd;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn get(env: &Env, ns: &str, what: &str) -> Option<Value> {
    let o = env.kubectl(&["get", what, "-n", ns, "-o", "json", "--ignore-not-found"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    (!o.stdout.trim().is_empty()).then(|| serde_json::from_str(&o.stdout).expect("json"))
}

fn uid(env: &Env, ns: &str, what: &str) -> String {
    get(env, ns, what).expect("object exists")["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Polls until `f` holds (or panics after `secs`).
fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

/// An owner ConfigMap and dependents that reference it.
fn family(env: &Env, ns: &str, deps: &[(&str, bool, &str)]) -> String {
    env.kubectl(&["create", "configmap", "owner", "-n", ns])
        .ok();
    let owner_uid = uid(env, ns, "cm/owner");
    for (name, block, finalizers) in deps {
        let y = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  finalizers: [{finalizers}]\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: owner\n    uid: {owner_uid}\n    blockOwnerDeletion: {block}\n"
        );
        env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    }
    owner_uid
}

#[test]
fn background_deletes_dependents_after_the_owner() {
    let env = shared();
    let ns = env.namespace("gc-bg");
    family(env, &ns, &[("d1", false, ""), ("d2", true, "")]);
    let out = env.kubectl(&["delete", "cm", "owner", "-n", &ns]).ok();
    assert!(
        out.stdout.contains("configmap \"owner\" deleted"),
        "{}",
        out.stdout
    );
    env.kubectl(&[
        "wait",
        "--for=delete",
        "cm/d1",
        "cm/d2",
        "-n",
        &ns,
        "--timeout=20s",
    ])
    .ok();
}

#[test]
fn foreground_deletes_blocking_dependents_first() {
    let env = shared();
    let ns = env.namespace("gc-fg");
    family(
        env,
        &ns,
        &[("held", true, "example.com/hold"), ("free", false, "")],
    );
    env.kubectl(&[
        "delete",
        "cm",
        "owner",
        "-n",
        &ns,
        "--cascade=foreground",
        "--wait=false",
    ])
    .ok();
    let owner = get(env, &ns, "cm/owner").expect("owner waits for its dependents");
    assert!(owner["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        owner["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    // Dependents are deleted first; the held one stays while its own finalizer is there.
    env.kubectl(&[
        "wait",
        "--for=delete",
        "cm/free",
        "-n",
        &ns,
        "--timeout=20s",
    ])
    .ok();
    eventually(10, "held dependent marked for deletion", || {
        get(env, &ns, "cm/held").is_some_and(|h| h["metadata"]["deletionTimestamp"].is_string())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        get(env, &ns, "cm/owner").is_some(),
        "the owner stays while a blocking dependent exists"
    );
    env.kubectl(&[
        "patch",
        "cm",
        "held",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .ok();
    env.kubectl(&[
        "wait",
        "--for=delete",
        "cm/owner",
        "-n",
        &ns,
        "--timeout=20s",
    ])
    .ok();
}

#[test]
fn orphan_keeps_dependents_without_the_owner_reference() {
    let env = shared();
    let ns = env.namespace("gc-orphan");
    env.kubectl(&["create", "configmap", "other", "-n", &ns])
        .ok();
    let other = uid(env, &ns, "cm/other");
    let owner_uid = family(env, &ns, &[("kept", true, "")]);
    // A second owner reference to a live owner survives orphaning.
    env.kubectl(&[
        "patch",
        "cm",
        "kept",
        "-n",
        &ns,
        "--type=json",
        "-p",
        &json!([{"op": "add", "path": "/metadata/ownerReferences/-", "value": {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": other}}]).to_string(),
    ])
    .ok();
    env.kubectl(&["delete", "cm", "owner", "-n", &ns, "--cascade=orphan"])
        .ok();
    assert!(get(env, &ns, "cm/owner").is_none());
    let kept = get(env, &ns, "cm/kept").expect("dependent kept");
    let refs = kept["metadata"]["ownerReferences"].as_array().unwrap();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0]["uid"], other.as_str());
    assert_ne!(refs[0]["uid"], owner_uid.as_str());
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        get(env, &ns, "cm/kept").is_some(),
        "orphans are not collected"
    );
}

#[test]
fn owners_resolve_in_the_dependents_namespace() {
    let env = shared();
    let a = env.namespace("gc-ns-a");
    let b = env.namespace("gc-ns-b");
    env.kubectl(&["create", "configmap", "owner", "-n", &a])
        .ok();
    let owner = uid(env, &a, "cm/owner");
    let dep = |ns: &str, name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  ownerReferences:\n  - {{apiVersion: v1, kind: ConfigMap, name: owner, uid: {owner}}}\n"
        )
    };
    env.kubectl_in(&dep(&a, "same"), &["apply", "-f", "-"]).ok();
    env.kubectl_in(&dep(&b, "elsewhere"), &["apply", "-f", "-"])
        .ok();
    env.kubectl(&[
        "wait",
        "--for=delete",
        "cm/elsewhere",
        "-n",
        &b,
        "--timeout=20s",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        get(env, &a, "cm/same").is_some(),
        "an owner in the same namespace holds"
    );
}

#[test]
fn finalizers_hold_objects_until_removed() {
    let env = shared();
    let ns = env.namespace("gc-fin");
    let y = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\n  namespace: {ns}\n  finalizers: [example.com/a, example.com/b]\n"
    );
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    env.kubectl(&["delete", "cm", "f", "-n", &ns, "--wait=false"])
        .ok();
    let f = get(env, &ns, "cm/f").expect("held by finalizers");
    assert!(f["metadata"]["deletionTimestamp"].is_string());
    // No new finalizers once deletion started.
    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "f",
            "-n",
            &ns,
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/c"}]"#,
        ])
        .fails();
    assert!(
        out.stderr
            .contains("no new finalizers can be added if the object is being deleted"),
        "{}",
        out.stderr
    );
    env.kubectl(&[
        "patch",
        "cm",
        "f",
        "-n",
        &ns,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers/0"}]"#,
    ])
    .ok();
    assert!(get(env, &ns, "cm/f").is_some(), "one finalizer left");
    env.kubectl(&[
        "patch",
        "cm",
        "f",
        "-n",
        &ns,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers/0"}]"#,
    ])
    .ok();
    assert!(
        get(env, &ns, "cm/f").is_none(),
        "removing the last finalizer deletes it"
    );
}

#[test]
fn delete_options_are_validated() {
    let env = shared();
    let ns = env.namespace("gc-opts");
    env.kubectl(&["create", "configmap", "x", "-n", &ns]).ok();
    let o = crate::common::py(
        env,
        &format!(
            r#"
s, h, b = raw('DELETE', '/api/v1/namespaces/{ns}/configmaps/x', {{"propagationPolicy": "Sideways"}}, {{'Content-Type': 'application/json'}})
print(s, json.loads(b)['message'])
s, h, b = raw('DELETE', '/api/v1/namespaces/{ns}/configmaps/x', {{"propagationPolicy": "Orphan", "orphanDependents": True}}, {{'Content-Type': 'application/json'}})
print(s, json.loads(b)['message'])
s, h, b = raw('DELETE', '/api/v1/namespaces/{ns}/configmaps/x?propagationPolicy=Foreground')
print(s, json.loads(b)['metadata'].get('finalizers'))
"#
        ),
    );
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(
        lines[0],
        "422 DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
    );
    assert!(
        lines[1].starts_with("422 ")
            && lines[1].contains("orphanDependents and deletionPropagation cannot be both set"),
        "{}",
        lines[1]
    );
    // Foreground on an object without dependents: it carries the finalizer briefly, then goes.
    assert!(
        lines[2] == "200 ['foregroundDeletion']" || lines[2] == "200 None",
        "{}",
        lines[2]
    );
    env.kubectl(&["wait", "--for=delete", "cm/x", "-n", &ns, "--timeout=20s"])
        .ok();
}

#[tokio::test]
async fn kube_rs_propagation_policies_on_deployments() {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use kube::api::{Api, DeleteParams, PostParams};
    let env = shared();
    let ns = env.namespace("gc-kube");
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    let deps: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
    let tpl = json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    for (name, policy) in [("bg", "Background"), ("fg", "Foreground"), ("or", "Orphan")] {
        let d: Deployment = serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "a"}}, "template": tpl}})).unwrap();
        let d = deps.create(&PostParams::default(), &d).await.unwrap();
        let rs: ReplicaSet = serde_json::from_value(json!({"metadata": {"name": format!("{name}-rs"), "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": d.metadata.uid.clone().unwrap(), "controller": true, "blockOwnerDeletion": true}]}, "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "a"}}, "template": tpl}})).unwrap();
        rss.create(&PostParams::default(), &rs).await.unwrap();
        let dp = match policy {
            "Background" => DeleteParams::background(),
            "Foreground" => DeleteParams::foreground(),
            _ => DeleteParams::orphan(),
        };
        deps.delete(name, &dp).await.unwrap();
        let rs_name = format!("{name}-rs");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let d_gone = deps.get_opt(name).await.unwrap().is_none();
            let rs = rss.get_opt(&rs_name).await.unwrap();
            let done = match policy {
                "Orphan" => {
                    d_gone
                        && rs
                            .as_ref()
                            .is_some_and(|r| r.metadata.owner_references.is_none())
                }
                _ => d_gone && rs.is_none(),
            };
            if done {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{policy}: deployment gone={d_gone}, rs={rs:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn namespace_phase(env: &Env, ns: &str) -> Option<Value> {
    let o = env.kubectl(&["get", "ns", ns, "-o", "json", "--ignore-not-found"]);
    (!o.stdout.trim().is_empty()).then(|| serde_json::from_str(&o.stdout).unwrap())
}

#[test]
fn namespace_termination_removes_builtin_and_custom_content() {
    let env = shared();
    let group = format!("{}.gc.example.com", unique("g"));
    env.kubectl_in(&widget_crd(&group), &["apply", "-f", "-"])
        .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/widgets.{group}"),
        "--timeout=20s",
    ])
    .ok();
    let ns = env.namespace("gc-ns");
    env.kubectl(&["create", "configmap", "c", "-n", &ns]).ok();
    let d = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: d}}}}\n  template:\n    metadata: {{labels: {{app: d}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
    );
    env.kubectl_in(&d, &["apply", "-f", "-"]).ok();
    let w = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1, namespace: {ns}}}\nspec: {{size: 1}}\n"
    );
    env.kubectl_in(&w, &["apply", "-f", "-"]).ok();
    env.kubectl(&["delete", "ns", &ns, "--wait=false"]).ok();
    env.kubectl(&["wait", "--for=delete", &format!("ns/{ns}"), "--timeout=30s"])
        .ok();
    for what in ["configmaps", "deployments", &format!("widgets.{group}")] {
        let out = env.kubectl(&["get", what, "-n", &ns, "-o", "name"]).ok();
        assert!(out.stdout.trim().is_empty(), "{what} left: {}", out.stdout);
    }
}

#[test]
fn namespace_with_a_stuck_finalizer_reports_it_and_refuses_new_content() {
    let env = shared();
    let group = format!("{}.gc.example.com", unique("s"));
    env.kubectl_in(&widget_crd(&group), &["apply", "-f", "-"])
        .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/widgets.{group}"),
        "--timeout=20s",
    ])
    .ok();
    let ns = env.namespace("gc-stuck");
    let w = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata: {{name: w1, namespace: {ns}, finalizers: [example.com/stuck]}}\nspec: {{size: 1}}\n"
    );
    env.kubectl_in(&w, &["apply", "-f", "-"]).ok();
    env.kubectl(&["create", "configmap", "c", "-n", &ns]).ok();
    env.kubectl(&["delete", "ns", &ns, "--wait=false"]).ok();
    let mut last = Value::Null;
    eventually(20, "finalizer conditions", || {
        last = namespace_phase(env, &ns).unwrap_or(Value::Null);
        last.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "NamespaceFinalizersRemaining" && c["status"] == "True")
            })
    });
    assert_eq!(last["status"]["phase"], "Terminating");
    assert_eq!(last["spec"]["finalizers"], json!(["kubernetes"]));
    let conds = last["status"]["conditions"].as_array().unwrap();
    let by = |t: &str| conds.iter().find(|c| c["type"] == t).cloned().unwrap();
    assert_eq!(
        by("NamespaceFinalizersRemaining")["message"],
        "Some content in the namespace has finalizers remaining: example.com/stuck in 1 resource instances"
    );
    assert_eq!(
        by("NamespaceContentRemaining")["message"],
        format!("Some resources are remaining: widgets.{group} has 1 resource instances")
    );
    assert_eq!(
        by("NamespaceDeletionDiscoveryFailure")["reason"],
        "ResourcesDiscovered"
    );
    assert!(get(env, &ns, "cm/c").is_none(), "other content is gone");
    // New content is refused while the namespace terminates.
    let msg = format!(
        "configmaps \"late\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"
    );
    let out = env
        .kubectl(&["create", "configmap", "late", "-n", &ns])
        .fails();
    assert!(
        out.stderr
            .contains(&format!("error: failed to create configmap: {msg}")),
        "{}",
        out.stderr
    );
    let cm =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: late, namespace: {ns}}}\n");
    let out = env.kubectl_in(&cm, &["apply", "-f", "-"]).fails();
    assert!(
        out.stderr.contains(&format!(
            "Error from server (Forbidden): error when creating \"STDIN\": {msg}"
        )),
        "{}",
        out.stderr
    );
    // Releasing the finalizer lets the namespace go.
    env.kubectl(&[
        "patch",
        &format!("widgets.{group}"),
        "w1",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .ok();
    env.kubectl(&["wait", "--for=delete", &format!("ns/{ns}"), "--timeout=30s"])
        .ok();
}

#[test]
fn namespace_finalizers_change_only_through_finalize() {
    let env = shared();
    let ns = env.namespace("gc-finalize");
    let y = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: stuck, namespace: {ns}, finalizers: [example.com/stuck]}}\n"
    );
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    // A plain update cannot drop the kubernetes finalizer.
    env.kubectl(&[
        "patch",
        "ns",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"finalizers":[]},"metadata":{"labels":{"x":"y"}}}"#,
    ])
    .ok();
    let n = namespace_phase(env, &ns).unwrap();
    assert_eq!(n["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(n["metadata"]["labels"]["x"], "y");
    env.kubectl(&["delete", "ns", &ns, "--wait=false"]).ok();
    eventually(10, "namespace terminating with content left", || {
        namespace_phase(env, &ns).is_some_and(|n| {
            n.pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|c| c["reason"] == "SomeFinalizersRemain"))
        })
    });
    // The well-known way out of a stuck namespace: empty spec.finalizers via /finalize.
    let mut n = namespace_phase(env, &ns).unwrap();
    n["spec"]["finalizers"] = json!([]);
    n["metadata"]["labels"]["ignored"] = json!("yes");
    env.kubectl_in(
        &n.to_string(),
        &[
            "replace",
            "--raw",
            &format!("/api/v1/namespaces/{ns}/finalize"),
            "-f",
            "-",
        ],
    )
    .ok();
    env.kubectl(&["wait", "--for=delete", &format!("ns/{ns}"), "--timeout=20s"])
        .ok();
}

#[test]
fn protected_namespaces_cannot_be_deleted() {
    let env = shared();
    for ns in ["default", "kube-system", "kube-public"] {
        let out = env.kubectl(&["delete", "ns", ns]).fails();
        assert!(
            out.stderr.contains(&format!(
                "Error from server (Forbidden): namespaces \"{ns}\" is forbidden: this namespace may not be deleted"
            )),
            "{}",
            out.stderr
        );
    }
    assert!(namespace_phase(env, "default").is_some());
}

#[test]
fn events_expire_after_their_ttl() {
    let dir = tempfile::tempdir().unwrap().keep();
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut cfg = apiserver::Config::new(&d);
            cfg.event_ttl = Duration::from_secs(2);
            cfg.kubeconfig_out = Some(d.join("kubeconfig"));
            let s = apiserver::start(cfg).await.unwrap();
            tx.send((s.url.clone(), s.api.pki.admin_token.clone()))
                .unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (url, token) = rx.recv().unwrap();
    let env = Env {
        url,
        kubeconfig: dir.join("kubeconfig"),
        dir,
        token,
    };
    let y = "apiVersion: v1\nkind: Event\nmetadata: {name: e1, namespace: default}\ninvolvedObject: {kind: Pod, name: p, namespace: default}\nreason: Test\nmessage: hello\ntype: Normal\n---\napiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: e2, namespace: default}\neventTime: '2026-01-01T00:00:00.000000Z'\nreportingController: test\nreportingInstance: test-1\naction: Test\nreason: Test\nregarding: {kind: Pod, name: p, namespace: default}\ntype: Normal\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays, namespace: default}\n";
    env.kubectl_in(y, &["apply", "-f", "-"]).ok();
    assert!(get(&env, "default", "events/e1").is_some());
    eventually(15, "events expired", || {
        get(&env, "default", "events.v1.events.k8s.io/e2").is_none()
            && get(&env, "default", "events/e1").is_none()
    });
    assert!(
        get(&env, "default", "cm/stays").is_some(),
        "only Events expire"
    );
}

/// The standalone server process on `dir` (port 0: any); returns it and its URL.
fn spawn_server(dir: &std::path::Path, port: u16) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fluxrs-apiserver"))
        .arg(dir)
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("READY ").unwrap().to_string();
    (child, url)
}

#[test]
fn background_work_resumes_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_server(dir.path(), 0);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let env = Env {
        url,
        kubeconfig: dir.path().join("kubeconfig"),
        dir: dir.path().to_path_buf(),
        token: std::fs::read_to_string(dir.path().join("pki/admin.token")).unwrap(),
    };
    let ns = "default";
    let d = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
    env.kubectl_in(d, &["apply", "-f", "-"]).ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=20s",
    ])
    .ok();
    let rv = get(&env, ns, "deployment/web").unwrap()["metadata"]["resourceVersion"].clone();
    family(&env, ns, &[("held", true, "example.com/hold")]);
    env.kubectl(&[
        "delete",
        "cm",
        "owner",
        "--cascade=foreground",
        "--wait=false",
    ])
    .ok();
    eventually(10, "held dependent marked for deletion", || {
        get(&env, ns, "cm/held").is_some_and(|h| h["metadata"]["deletionTimestamp"].is_string())
    });
    std::process::Command::new("kill")
        .arg("-9")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
    let (mut child, _) = spawn_server(dir.path(), port);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        get(&env, ns, "deployment/web").unwrap()["metadata"]["resourceVersion"],
        rv,
        "a settled workload is not re-simulated after a restart"
    );
    assert!(
        get(&env, ns, "cm/owner").is_some(),
        "still waiting for its dependent"
    );
    env.kubectl(&[
        "patch",
        "cm",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .ok();
    env.kubectl(&["wait", "--for=delete", "cm/owner", "--timeout=20s"])
        .ok();
    let _ = child.kill();
    let _ = child.wait();
}
