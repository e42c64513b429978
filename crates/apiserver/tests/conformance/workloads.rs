//! Workload status simulation seen through kubectl: rollout status, wait for conditions, the
//! `fluxrs.io/simulate: fail` switch, generation rules of status writes, and turning it off.

use crate::common::{Env, shared};
use serde_json::Value;

fn deploy(ns: &str, name: &str, replicas: u32, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations: {{{annotations}}}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"
    )
}

fn get_json(env: &Env, ns: &str, what: &str) -> Value {
    let out = env.kubectl(&["get", what, "-n", ns, "-o", "json"]).ok();
    serde_json::from_str(&out.stdout).expect("kubectl json")
}

fn condition<'a>(obj: &'a Value, t: &str) -> &'a Value {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == t))
        .unwrap_or(&Value::Null)
}

#[test]
fn deployment_rolls_out_and_becomes_available() {
    let env = shared();
    let ns = env.namespace("wl-deploy");
    env.kubectl_in(&deploy(&ns, "web", 2, ""), &["apply", "-f", "-"])
        .ok();
    let out = env
        .kubectl(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            &ns,
            "--timeout=30s",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("deployment \"web\" successfully rolled out"),
        "{}",
        out.stdout
    );
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        &ns,
        "--timeout=30s",
    ])
    .ok();
    let d = get_json(env, &ns, "deployment/web");
    assert_eq!(d.pointer("/metadata/generation"), Some(&Value::from(1)));
    assert_eq!(
        d.pointer("/status/observedGeneration"),
        Some(&Value::from(1))
    );
    for f in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        assert_eq!(d["status"][f], 2, "{f}: {}", d["status"]);
    }
    let avail = condition(&d, "Available");
    assert_eq!(
        (avail["status"].as_str(), avail["reason"].as_str()),
        (Some("True"), Some("MinimumReplicasAvailable"))
    );
    let prog = condition(&d, "Progressing");
    assert_eq!(prog["reason"], "NewReplicaSetAvailable");
    assert!(
        prog["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ReplicaSet \"web-")
                && m.ends_with("\" has successfully progressed.")),
        "{prog}"
    );
    // The status writer shows up as a managedFields entry of the status subresource.
    let mf = env
        .kubectl(&[
            "get",
            "deployment/web",
            "-n",
            &ns,
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .ok()
        .stdout;
    let mf: Value = serde_json::from_str(&mf).unwrap();
    assert!(
        mf.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter().any(|e| {
                    e["manager"] == "kube-controller-manager" && e["subresource"] == "status"
                })
            }),
        "{}",
        mf["metadata"]["managedFields"]
    );

    // A spec change bumps generation once; the simulated status follows without bumping it.
    env.kubectl(&["set", "image", "deployment/web", "c=nginx:2", "-n", &ns])
        .ok();
    env.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        &ns,
        "--timeout=30s",
    ])
    .ok();
    let d = get_json(env, &ns, "deployment/web");
    assert_eq!(d.pointer("/metadata/generation"), Some(&Value::from(2)));
    assert_eq!(
        d.pointer("/status/observedGeneration"),
        Some(&Value::from(2))
    );
    let rv = d.pointer("/metadata/resourceVersion").cloned();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let again = get_json(env, &ns, "deployment/web");
    assert_eq!(
        again.pointer("/metadata/resourceVersion").cloned(),
        rv,
        "a settled workload is not rewritten"
    );
}

#[test]
fn failure_annotation_makes_rollout_fail_and_wait_time_out() {
    let env = shared();
    let ns = env.namespace("wl-fail");
    env.kubectl_in(
        &deploy(&ns, "bad", 1, "fluxrs.io/simulate: fail"),
        &["apply", "-f", "-"],
    )
    .ok();
    let out = env
        .kubectl(&[
            "rollout",
            "status",
            "deployment/bad",
            "-n",
            &ns,
            "--timeout=30s",
        ])
        .fails();
    assert!(
        out.stderr
            .contains("deployment \"bad\" exceeded its progress deadline"),
        "{}",
        out.stderr
    );
    let out = env
        .kubectl(&[
            "wait",
            "--for=condition=Available",
            "deployment/bad",
            "-n",
            &ns,
            "--timeout=2s",
        ])
        .fails();
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    let d = get_json(env, &ns, "deployment/bad");
    let prog = condition(&d, "Progressing");
    assert_eq!(
        (prog["status"].as_str(), prog["reason"].as_str()),
        (Some("False"), Some("ProgressDeadlineExceeded"))
    );
    assert_eq!(
        condition(&d, "Available")["reason"],
        "MinimumReplicasUnavailable"
    );

    // Removing the annotation lets it recover.
    env.kubectl(&[
        "annotate",
        "deployment/bad",
        "fluxrs.io/simulate-",
        "-n",
        &ns,
    ])
    .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/bad",
        "-n",
        &ns,
        "--timeout=30s",
    ])
    .ok();
}

#[test]
fn scaled_to_zero_is_available_at_once() {
    let env = shared();
    let ns = env.namespace("wl-zero");
    env.kubectl_in(&deploy(&ns, "idle", 0, ""), &["apply", "-f", "-"])
        .ok();
    env.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/idle",
        "-n",
        &ns,
        "--timeout=10s",
    ])
    .ok();
    let d = get_json(env, &ns, "deployment/idle");
    assert!(d["status"].get("replicas").is_none(), "{}", d["status"]);
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
}

#[test]
fn statefulset_daemonset_replicaset_roll_out() {
    let env = shared();
    let ns = env.namespace("wl-sts");
    let tpl = "  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";
    let y = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: {ns}\nspec:\n  replicas: 3\n  serviceName: db\n  selector:\n    matchLabels: {{app: a}}\n{tpl}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels: {{app: a}}\n{tpl}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\n  namespace: {ns}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: a}}\n{tpl}"
    );
    env.kubectl_in(&y, &["apply", "-f", "-"]).ok();
    let out = env
        .kubectl(&[
            "rollout",
            "status",
            "statefulset/db",
            "-n",
            &ns,
            "--timeout=30s",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("partitioned roll out complete: 3 new pods have been updated..."),
        "{}",
        out.stdout
    );
    let out = env
        .kubectl(&[
            "rollout",
            "status",
            "daemonset/agent",
            "-n",
            &ns,
            "--timeout=30s",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("daemon set \"agent\" successfully rolled out"),
        "{}",
        out.stdout
    );
    let s = get_json(env, &ns, "statefulset/db");
    assert_eq!(s["status"]["readyReplicas"], 3);
    assert_eq!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
    env.kubectl(&[
        "wait",
        "--for=jsonpath={.status.readyReplicas}=2",
        "replicaset/rs",
        "-n",
        &ns,
        "--timeout=30s",
    ])
    .ok();
}

#[test]
fn jobs_complete_or_fail_and_pods_get_ready() {
    let env = shared();
    let ns = env.namespace("wl-job");
    let job = |name: &str, ann: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations: {{{ann}}}\nspec:\n  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n"
        )
    };
    let pod = |name: &str, ann: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations: {{{ann}}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        )
    };
    let all = [
        job("ok", ""),
        job("ko", "fluxrs.io/simulate: fail"),
        pod("p", ""),
        pod("crash", "fluxrs.io/simulate: fail"),
    ]
    .join("---\n");
    env.kubectl_in(&all, &["apply", "-f", "-"]).ok();
    let wait = |cond: &str, what: &str, timeout: &str| {
        env.kubectl(&[
            "wait",
            &format!("--for=condition={cond}"),
            what,
            "-n",
            &ns,
            &format!("--timeout={timeout}"),
        ])
    };
    wait("Complete", "job/ok", "30s").ok();
    wait("Failed", "job/ko", "30s").ok();
    wait("Ready", "pod/p", "30s").ok();
    wait("Ready", "pod/crash", "2s").fails();
    let j = get_json(env, &ns, "job/ok");
    assert_eq!(j["status"]["succeeded"], 1);
    assert!(j["status"]["completionTime"].is_string());
    let j = get_json(env, &ns, "job/ko");
    assert_eq!(j["status"]["failed"], 3);
    assert_eq!(condition(&j, "Failed")["reason"], "BackoffLimitExceeded");
    let p = get_json(env, &ns, "pod/p");
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
    let table = env.kubectl(&["get", "pods", "-n", &ns]).ok().stdout;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("crash") && l.contains("CrashLoopBackOff")),
        "{table}"
    );
}

#[test]
fn simulation_can_be_switched_off() {
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
            cfg.tls = true;
            cfg.simulate_workloads = false;
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
    env.kubectl_in(&deploy("default", "still", 1, ""), &["apply", "-f", "-"])
        .ok();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let d = get_json(&env, "default", "deployment/still");
    assert!(
        d.get("status")
            .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty())),
        "{}",
        d["status"]
    );
}
