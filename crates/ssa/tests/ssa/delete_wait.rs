//! delete_all (prune), stale objects, wait_for_set with kstatus and CEL health checks.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use ssa::{
    Action, ApplyOptions, DeleteOptions, HealthCheckExpr, ObjMetadata, PropagationPolicy,
    WaitOptions, set_owner_labels, stale_objects,
};

use crate::harness::{self, client, configmap, crd, get, group, manager, unique};

const GROUP: &str = "kustomize.toolkit.fluxcd.io";

fn apply_opts() -> ApplyOptions {
    ApplyOptions {
        wait_interval: Duration::from_millis(100),
        wait_timeout: Duration::from_secs(20),
        ..ApplyOptions::flux_defaults(GROUP, "kustomize-controller", false)
    }
}

fn meta(o: &Value) -> ObjMetadata {
    ObjMetadata::from_object(o).expect("object metadata")
}

/// Waits until an object is gone (10 s).
pub async fn gone(client: &kube::Client, m: &ObjMetadata, plural: &str) -> Result<()> {
    let start = Instant::now();
    while get(client, m, plural).await?.is_some() {
        if start.elapsed() > Duration::from_secs(10) {
            bail!("{m} still exists");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_stale_objects_honouring_prune_disabled() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let owned = |name: &str| {
        let mut o = configmap(&ns, name, json!({"k": name}));
        set_owner_labels(&mut o, "apps", "flux-system", GROUP);
        o
    };
    let mut keep = owned("keep");
    keep["metadata"]["annotations"] = json!({format!("{GROUP}/prune"): "disabled"});
    let first = vec![owned("a"), owned("b"), keep.clone(), owned("stays")];
    let cs = rm.apply_all_staged(first.clone(), &apply_opts()).await?;
    let old_inventory: Vec<ObjMetadata> = cs.entries.iter().map(|e| e.object.clone()).collect();
    // Somebody else's object of the same name as a former entry: no owner labels.
    let foreign = configmap(&ns, "foreign", json!({}));
    harness::kubectl(
        &["apply", "-f", "-"],
        Some(&serde_json::to_string(&foreign)?),
    )?;

    // The next revision keeps only `stays`.
    let cs = rm
        .apply_all_staged(vec![owned("stays")], &apply_opts())
        .await?;
    let new_inventory: Vec<ObjMetadata> = cs.entries.iter().map(|e| e.object.clone()).collect();
    let mut stale = stale_objects(&old_inventory, &new_inventory);
    let names: Vec<&str> = stale.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "keep"]);
    stale.push(meta(&foreign));
    stale.push(meta(&configmap(&ns, "never-existed", json!({}))));

    let opts =
        DeleteOptions::flux_prune(GROUP, "apps", "flux-system", PropagationPolicy::Background);
    let cs = rm.delete_all(&stale, &opts).await?;
    let got: std::collections::BTreeMap<String, String> = cs.to_map();
    let want: std::collections::BTreeMap<String, String> = [
        ("a", "deleted"),
        ("b", "deleted"),
        ("keep", "skipped"),
        ("foreign", "skipped"),
        ("never-existed", "deleted"),
    ]
    .into_iter()
    .map(|(n, a)| (format!("ConfigMap/{ns}/{n}"), a.to_string()))
    .collect();
    assert_eq!(got, want);
    let deleted: Vec<ObjMetadata> = cs
        .entries
        .iter()
        .filter(|e| e.action == Action::Deleted)
        .map(|e| e.object.clone())
        .collect();
    rm.wait_for_termination(
        &deleted,
        &WaitOptions {
            interval: Duration::from_millis(100),
            timeout: Duration::from_secs(10),
            ..Default::default()
        },
    )
    .await?;
    for (name, exists) in [
        ("a", false),
        ("b", false),
        ("keep", true),
        ("foreign", true),
        ("stays", true),
    ] {
        let present = get(
            &client,
            &meta(&configmap(&ns, name, json!({}))),
            "configmaps",
        )
        .await?
        .is_some();
        assert_eq!(present, exists, "{name}");
    }
    // Orphan propagation is sent as such: the object goes once its dependents are orphaned
    // (the server's `orphan` finalizer shows the policy until the garbage collector is done).
    let stays = meta(&owned("stays"));
    let cs = rm
        .delete_all(
            std::slice::from_ref(&stays),
            &DeleteOptions {
                propagation: PropagationPolicy::Orphan,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(cs.entries[0].action, Action::Deleted);
    if let Some(live) = get(&client, &stays, "configmaps").await? {
        assert!(live["metadata"]["deletionTimestamp"].is_string(), "{live}");
        assert_eq!(live["metadata"]["finalizers"], json!(["orphan"]), "{live}");
    }
    Ok(())
}

fn widget(g: &str, ns: &str, name: &str) -> Value {
    json!({"apiVersion": format!("{g}/v1"), "kind": "Widget", "metadata": {"name": name, "namespace": ns}, "spec": {}})
}

async fn set_status(client: &kube::Client, m: &ObjMetadata, status: Value) -> Result<()> {
    let api = harness::api_for(client, m, "widgets");
    api.patch_status(
        &m.name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": status})),
    )
    .await?;
    Ok(())
}

fn cond(t: &str, s: &str, message: &str) -> Value {
    json!({"type": t, "status": s, "reason": "Test", "message": message, "lastTransitionTime": "2024-01-01T00:00:00Z"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_set_current_timeout_and_fail_fast() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = unique("wait");
    let g = group();
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        crd(&g, "Widget", "widgets", None),
        configmap(&ns, "c", json!({})),
        widget(&g, &ns, "ready"),
        widget(&g, &ns, "pending"),
        widget(&g, &ns, "stalled"),
    ];
    let cs = rm.apply_all_staged(objects, &apply_opts()).await?;
    let set: Vec<ObjMetadata> = cs.entries.iter().map(|e| e.object.clone()).collect();
    let by_name = |n: &str| set.iter().find(|m| m.name == n).expect("in set").clone();
    set_status(
        &client,
        &by_name("ready"),
        json!({"conditions": [cond("Ready", "True", "fine")]}),
    )
    .await?;
    set_status(
        &client,
        &by_name("pending"),
        json!({"conditions": [cond("Ready", "False", "waiting for godot")]}),
    )
    .await?;

    let quick = WaitOptions {
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let ok: Vec<ObjMetadata> = set
        .iter()
        .filter(|m| m.name != "pending")
        .cloned()
        .collect();
    rm.wait_for_set(&ok, &quick).await?;

    let started = Instant::now();
    let err = rm
        .wait_for_set(&set, &quick)
        .await
        .expect_err("pending widget times out")
        .to_string();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for the timeout"
    );
    assert_eq!(
        err,
        format!("timeout waiting for: [Widget/{ns}/pending status: 'InProgress']")
    );

    set_status(
        &client,
        &by_name("stalled"),
        json!({"conditions": [cond("Stalled", "True", "gave up")]}),
    )
    .await?;
    let patient = WaitOptions {
        fail_fast: true,
        timeout: Duration::from_secs(30),
        ..quick.clone()
    };
    let started = Instant::now();
    let err = rm
        .wait_for_set(&set, &patient)
        .await
        .expect_err("stalled widget fails")
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "failed fast");
    assert_eq!(
        err,
        format!(
            "failed early due to stalled resources: [Widget/{ns}/stalled status: 'Failed': gave up]"
        )
    );

    // Once the pending one is ready, the set (without the stalled one) is Current.
    set_status(
        &client,
        &by_name("pending"),
        json!({"conditions": [cond("Ready", "True", "done")]}),
    )
    .await?;
    let without_stalled: Vec<ObjMetadata> = set
        .iter()
        .filter(|m| m.name != "stalled")
        .cloned()
        .collect();
    rm.wait_for_set(&without_stalled, &quick).await?;

    // A missing object is NotFound until the timeout.
    let missing = vec![meta(&configmap(&ns, "missing", json!({})))];
    let err = rm
        .wait_for_set(&missing, &quick)
        .await
        .expect_err("missing")
        .to_string();
    assert_eq!(
        err,
        format!("timeout waiting for: [ConfigMap/{ns}/missing status: 'NotFound']")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_with_cel_health_checks() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let g = group();
    rm.apply_all_staged(vec![crd(&g, "Widget", "widgets", None)], &apply_opts())
        .await?;
    let cs = rm
        .apply_all_staged(vec![widget(&g, &ns, "w")], &apply_opts())
        .await?;
    let set = vec![cs.entries[0].object.clone()];
    let checks = vec![HealthCheckExpr {
        api_version: format!("{g}/v1"),
        kind: "Widget".into(),
        current: "has(status.phase) && status.phase == 'Done'".into(),
        in_progress: "".into(),
        failed: "has(status.phase) && status.phase == 'Broken'".into(),
    }];
    let opts = WaitOptions {
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(1),
        fail_fast: true,
        health_check_exprs: checks,
    };
    // Without a status the widget would be Current for kstatus; the expression says InProgress.
    set_status(&client, &set[0], json!({"phase": "Working"})).await?;
    let err = rm
        .wait_for_set(&set, &opts)
        .await
        .expect_err("in progress")
        .to_string();
    assert_eq!(
        err,
        format!("timeout waiting for: [Widget/{ns}/w status: 'InProgress']")
    );
    set_status(&client, &set[0], json!({"phase": "Broken"})).await?;
    let err = rm
        .wait_for_set(&set, &opts)
        .await
        .expect_err("failed")
        .to_string();
    assert!(
        err.starts_with(&format!(
            "failed early due to stalled resources: [Widget/{ns}/w status: 'Failed'"
        )),
        "{err}"
    );
    set_status(&client, &set[0], json!({"phase": "Done"})).await?;
    rm.wait_for_set(&set, &opts).await?;
    // A bad expression is refused before polling.
    let bad = WaitOptions {
        health_check_exprs: vec![HealthCheckExpr {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            current: "((".into(),
            ..Default::default()
        }],
        ..opts.clone()
    };
    let err = rm
        .wait_for_set(&set, &bad)
        .await
        .expect_err("bad expression")
        .to_string();
    assert!(
        err.contains("ConfigMap") && err.contains("current"),
        "{err}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_workloads_simulated_by_the_api_server() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let deploy = |name: &str, replicas: i64, simulate: Option<&str>| {
        let mut d = harness::deployment(&ns, name, "nginx:1");
        d["spec"]["replicas"] = json!(replicas);
        if let Some(mode) = simulate {
            d["metadata"]["annotations"] = json!({"fluxrs.io/simulate": mode});
        }
        d
    };
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": ns},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    let objects = vec![
        deploy("web", 2, None),
        deploy("broken", 1, Some("fail")),
        deploy("slow", 1, Some("pending")),
        job,
    ];
    let cs = rm.apply_all_staged(objects, &apply_opts()).await?;
    let by = |n: &str| {
        cs.entries
            .iter()
            .find(|e| e.object.name == n)
            .expect("entry")
            .object
            .clone()
    };
    let opts = WaitOptions {
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
        fail_fast: true,
        ..Default::default()
    };

    rm.wait_for_set(&[by("web"), by("migrate")], &opts).await?;
    let web = get(&client, &by("web"), "deployments").await?.expect("web");
    assert_eq!(
        ssa::kstatus::compute(&web).message,
        "Deployment is available. Replicas: 2"
    );

    let err = rm
        .wait_for_set(&[by("web"), by("broken")], &opts)
        .await
        .expect_err("broken rollout")
        .to_string();
    assert_eq!(
        err,
        format!(
            "failed early due to stalled resources: [Deployment/{ns}/broken status: 'Failed': Progress deadline exceeded]"
        )
    );

    let short = WaitOptions {
        timeout: Duration::from_secs(2),
        ..opts.clone()
    };
    let err = rm
        .wait_for_set(&[by("slow")], &short)
        .await
        .expect_err("pending rollout")
        .to_string();
    assert_eq!(
        err,
        format!("timeout waiting for: [Deployment/{ns}/slow status: 'InProgress']")
    );
    Ok(())
}
