//! Staged apply, drift, immutable recreation, ssa annotations, kubectl takeover and diff.

use std::time::Duration;

use anyhow::Result;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use ssa::{Action, ApplyOptions, ObjMetadata, SsaError, set_owner_labels};

use crate::harness::{self, client, configmap, crd, deployment, get, group, manager, unique};

const GROUP: &str = "kustomize.toolkit.fluxcd.io";

fn opts() -> ApplyOptions {
    ApplyOptions {
        wait_interval: Duration::from_millis(100),
        wait_timeout: Duration::from_secs(20),
        ..ApplyOptions::flux_defaults(GROUP, "kustomize-controller", false)
    }
}

fn labelled(mut objs: Vec<Value>) -> Vec<Value> {
    for o in &mut objs {
        set_owner_labels(o, "apps", "flux-system", GROUP);
    }
    objs
}

fn meta(o: &Value) -> ObjMetadata {
    ObjMetadata::from_object(o).expect("object metadata")
}

fn action_of(cs: &ssa::ChangeSet, subject: &str) -> Option<Action> {
    cs.entries
        .iter()
        .find(|e| e.subject == subject)
        .map(|e| e.action)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_apply_created_unchanged_configured_and_drift_reverted() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = unique("apps");
    let g = group();
    let set = |cm_value: &str, image: &str| {
        labelled(vec![
            // Deliberately out of order: the CR before its CRD, objects before their namespace.
            json!({"apiVersion": format!("{g}/v1"), "kind": "Widget", "metadata": {"name": "w1", "namespace": ns}, "spec": {"size": 1}}),
            deployment(&ns, "web", image),
            configmap(&ns, "settings", json!({"k": cm_value})),
            crd(&g, "Widget", "widgets", None),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        ])
    };

    let cs = rm.apply_all_staged(set("v1", "nginx:1"), &opts()).await?;
    let subjects: Vec<String> = cs.entries.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        subjects,
        [
            format!("CustomResourceDefinition/widgets.{g} created"),
            format!("Namespace/{ns} created"),
            format!("ConfigMap/{ns}/settings created"),
            format!("Deployment/{ns}/web created"),
            format!("Widget/{ns}/w1 created"),
        ]
    );
    assert_eq!(cs.to_map().len(), 5);
    assert!(!cs.is_empty_of_changes());
    let cm_meta = meta(&configmap(&ns, "settings", json!({})));
    let live = get(&client, &cm_meta, "configmaps")
        .await?
        .expect("configmap exists");
    assert_eq!(live["metadata"]["labels"][format!("{GROUP}/name")], "apps");
    assert_eq!(
        live["metadata"]["labels"][format!("{GROUP}/namespace")],
        "flux-system"
    );
    let managers: Vec<(String, String)> = live["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or("").into(),
                e["operation"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        managers,
        [("kustomize-controller".to_string(), "Apply".to_string())]
    );
    let rv = live["metadata"]["resourceVersion"].clone();

    // Same set again: nothing sent, nothing changed.
    let cs = rm.apply_all_staged(set("v1", "nginx:1"), &opts()).await?;
    assert!(
        cs.entries.iter().all(|e| e.action == Action::Unchanged),
        "{cs}"
    );
    assert!(cs.is_empty_of_changes());
    let live = get(&client, &cm_meta, "configmaps")
        .await?
        .expect("configmap exists");
    assert_eq!(
        live["metadata"]["resourceVersion"], rv,
        "unchanged object not re-applied"
    );

    // One field changed in the source: only that object is configured.
    let cs = rm.apply_all_staged(set("v2", "nginx:1"), &opts()).await?;
    assert_eq!(
        action_of(&cs, &format!("ConfigMap/{ns}/settings")),
        Some(Action::Configured),
        "{cs}"
    );
    assert_eq!(cs.to_changes_map().len(), 1, "{cs}");
    let live = get(&client, &cm_meta, "configmaps")
        .await?
        .expect("configmap exists");
    assert_eq!(live["data"]["k"], "v2");

    // Drift: `kubectl edit` changes a managed field and adds one (Flux takes kubectl's fields
    // over, so both are undone); another tool adds a field and a label of its own (kept).
    let api = harness::api_for(&client, &cm_meta, "configmaps");
    let by = |manager: &str| PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    api.patch(
        "settings",
        &by("kubectl-edit"),
        &Patch::Merge(json!({"data": {"k": "drifted", "edited": "x"}})),
    )
    .await?;
    api.patch(
        "settings",
        &by("other-tool"),
        &Patch::Merge(
            json!({"metadata": {"labels": {"team": "blue"}}, "data": {"extra": "theirs"}}),
        ),
    )
    .await?;
    let cs = rm.apply_all_staged(set("v2", "nginx:1"), &opts()).await?;
    assert_eq!(
        action_of(&cs, &format!("ConfigMap/{ns}/settings")),
        Some(Action::Configured),
        "{cs}"
    );
    let live = get(&client, &cm_meta, "configmaps")
        .await?
        .expect("configmap exists");
    assert_eq!(
        live["data"],
        json!({"k": "v2", "extra": "theirs"}),
        "drift reverted, other manager's field kept"
    );
    assert_eq!(
        live["metadata"]["labels"]["team"], "blue",
        "label of another manager left alone"
    );
    // And now it is stable.
    let cs = rm.apply_all_staged(set("v2", "nginx:1"), &opts()).await?;
    assert!(cs.is_empty_of_changes(), "{cs}");

    // Diff of an image change: reported, not applied.
    let diff = rm.diff(set("v2", "nginx:2"), &opts()).await?;
    let d = diff
        .iter()
        .find(|d| d.subject == format!("Deployment/{ns}/web"))
        .expect("deployment entry");
    assert_eq!(d.action, Action::Configured);
    let image = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| v["spec"]["template"]["spec"]["containers"][0]["image"].clone())
    };
    assert_eq!(image(&d.live), Some(json!("nginx:1")));
    assert_eq!(image(&d.merged), Some(json!("nginx:2")));
    assert!(
        d.merged
            .as_ref()
            .is_some_and(|m| m["metadata"].get("managedFields").is_none())
    );
    assert!(
        diff.iter()
            .filter(|d| d.subject != format!("Deployment/{ns}/web"))
            .all(|d| d.action == Action::Unchanged)
    );
    let dep = get(&client, &meta(&deployment(&ns, "web", "")), "deployments")
        .await?
        .expect("deployment");
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_of_new_objects_and_secrets() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let secret = |v: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns}, "data": {"token": v, "same": "eA=="}});
    let g = group();
    let diff = rm
        .diff(vec![secret("YQ=="), crd(&g, "Gadget", "gadgets", None), json!({"apiVersion": format!("{g}/v1"), "kind": "Gadget", "metadata": {"name": "x", "namespace": ns}})], &opts())
        .await?;
    assert!(diff.iter().all(|d| d.action == Action::Created), "{diff:?}");
    assert!(
        get(&client, &meta(&secret("")), "secrets").await?.is_none(),
        "diff creates nothing"
    );
    rm.apply_all_staged(vec![secret("YQ==")], &opts()).await?;
    let diff = rm.diff(vec![secret("Yg==")], &opts()).await?;
    assert_eq!(diff[0].action, Action::Configured);
    assert_eq!(
        diff[0].live.as_ref().unwrap()["data"],
        json!({"token": "*** (before)", "same": "***"})
    );
    assert_eq!(
        diff[0].merged.as_ref().unwrap()["data"],
        json!({"token": "*** (after)", "same": "***"})
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_update_recreated_only_with_force() -> Result<()> {
    // The embedded API server does not enforce built-in immutable fields; an update that is
    // Invalid while a create of the same object is valid gives the same answer (422 Invalid),
    // which Flux treats as an immutable-field error: spec holds at most 2 properties, another
    // manager owns one, ours adds a second.
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let g = group();
    rm.apply_all_staged(vec![crd(&g, "Widget", "widgets", Some(2))], &opts())
        .await?;
    let widget = |spec: Value, annotations: Value| {
        json!({"apiVersion": format!("{g}/v1"), "kind": "Widget",
            "metadata": {"name": "w", "namespace": ns, "annotations": annotations}, "spec": spec})
    };
    let m = meta(&widget(json!({}), json!({})));
    let api = harness::api_for(&client, &m, "widgets");
    let prepare = || async {
        let _ = api.delete("w", &Default::default()).await;
        crate::delete_wait::gone(&client, &m, "widgets").await?;
        rm.apply_all_staged(vec![widget(json!({"a": 1}), json!({}))], &opts())
            .await?;
        api.patch(
            "w",
            &PatchParams {
                field_manager: Some("other".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"c": 3}})),
        )
        .await?;
        let uid = get(&client, &m, "widgets").await?.expect("widget")["metadata"]["uid"].clone();
        anyhow::Ok(uid)
    };

    // Without force: the error names the object and the reason; nothing changes.
    let uid = prepare().await?;
    let err = rm
        .apply_all_staged(vec![widget(json!({"a": 1, "b": 2}), json!({}))], &opts())
        .await
        .expect_err("invalid update refused");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("Widget/{ns}/w dry-run failed (Invalid): ")),
        "{msg}"
    );
    assert!(
        matches!(
            err,
            SsaError::DryRun {
                immutable: true,
                ..
            }
        ),
        "{err:?}"
    );
    let live = get(&client, &m, "widgets").await?.expect("widget kept");
    assert_eq!(live["metadata"]["uid"], uid);
    assert_eq!(live["spec"], json!({"a": 1, "c": 3}));

    // With force: deleted and created again.
    let forced = ApplyOptions {
        force: true,
        ..opts()
    };
    let cs = rm
        .apply_all_staged(vec![widget(json!({"a": 1, "b": 2}), json!({}))], &forced)
        .await?;
    assert_eq!(cs.entries[0].action, Action::Created, "{cs}");
    let live = get(&client, &m, "widgets")
        .await?
        .expect("widget recreated");
    assert_ne!(live["metadata"]["uid"], uid);
    assert_eq!(live["spec"], json!({"a": 1, "b": 2}));

    // The force annotation does the same for one object.
    let uid = prepare().await?;
    let cs = rm
        .apply_all_staged(
            vec![widget(
                json!({"a": 1, "b": 2}),
                json!({format!("{GROUP}/force"): "Enabled"}),
            )],
            &opts(),
        )
        .await?;
    assert_eq!(cs.entries[0].action, Action::Created, "{cs}");
    let live = get(&client, &m, "widgets")
        .await?
        .expect("widget recreated");
    assert_ne!(live["metadata"]["uid"], uid);

    // An object invalid on create fails whatever the options, naming the object.
    let bad = widget(json!({"a": 1, "b": 2, "c": 3}), json!({}));
    let mut bad2 = bad.clone();
    bad2["metadata"]["name"] = json!("w2");
    let err = rm
        .apply_all_staged(vec![bad2], &forced)
        .await
        .expect_err("invalid object");
    assert!(
        err.to_string()
            .contains(&format!("Widget/{ns}/w2 dry-run failed (Invalid)")),
        "{err}"
    );
    assert!(get(&client, &meta(&bad), "widgets").await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssa_annotations_ignore_if_not_present_and_merge() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let ann = |v: &str| json!({format!("{GROUP}/ssa"): v});
    let cm = |name: &str, data: Value, annotations: Value| {
        let mut o = configmap(&ns, name, data);
        o["metadata"]["annotations"] = annotations;
        o
    };

    // IfNotPresent: created once, never updated.
    let cs = rm
        .apply_all_staged(
            vec![cm("once", json!({"k": "1"}), ann("IfNotPresent"))],
            &opts(),
        )
        .await?;
    assert_eq!(cs.entries[0].action, Action::Created);
    let cs = rm
        .apply_all_staged(
            vec![cm("once", json!({"k": "2"}), ann("IfNotPresent"))],
            &opts(),
        )
        .await?;
    assert_eq!(cs.entries[0].action, Action::Skipped);
    assert_eq!(
        get(
            &client,
            &meta(&cm("once", json!({}), json!({}))),
            "configmaps"
        )
        .await?
        .unwrap()["data"]["k"],
        "1"
    );

    // Ignore in the source: never applied.
    let cs = rm
        .apply_all_staged(
            vec![cm("ignored", json!({"k": "1"}), ann("Ignore"))],
            &opts(),
        )
        .await?;
    assert_eq!(cs.entries[0].action, Action::Skipped);
    assert!(
        get(
            &client,
            &meta(&cm("ignored", json!({}), json!({}))),
            "configmaps"
        )
        .await?
        .is_none()
    );

    // Ignore on the live object (set by someone in the cluster): left alone.
    rm.apply_all_staged(vec![cm("live", json!({"k": "1"}), json!({}))], &opts())
        .await?;
    kubectl_annotate(&ns, "live", &format!("{GROUP}/ssa=Ignore"))?;
    let cs = rm
        .apply_all_staged(vec![cm("live", json!({"k": "2"}), json!({}))], &opts())
        .await?;
    assert_eq!(cs.entries[0].action, Action::Skipped);
    assert_eq!(
        get(
            &client,
            &meta(&cm("live", json!({}), json!({}))),
            "configmaps"
        )
        .await?
        .unwrap()["data"]["k"],
        "1"
    );

    // Merge: kubectl's client-side-apply fields are not taken over.
    harness::kubectl(
        &["apply", "-f", "-"],
        Some(&serde_json::to_string(&cm(
            "merged",
            json!({"a": "1", "b": "2"}),
            json!({}),
        ))?),
    )?;
    let cs = rm
        .apply_all_staged(vec![cm("merged", json!({"a": "1"}), ann("Merge"))], &opts())
        .await?;
    assert_eq!(cs.entries[0].action, Action::Configured, "annotation added");
    let live = get(
        &client,
        &meta(&cm("merged", json!({}), json!({}))),
        "configmaps",
    )
    .await?
    .unwrap();
    assert_eq!(
        live["data"],
        json!({"a": "1", "b": "2"}),
        "kubectl's field kept"
    );
    assert!(
        live["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_some()
    );
    Ok(())
}

fn kubectl_annotate(ns: &str, name: &str, kv: &str) -> Result<()> {
    harness::kubectl(
        &["-n", ns, "annotate", "configmap", name, kv, "--overwrite"],
        None,
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_client_side_apply_taken_over() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let cm = configmap(&ns, "legacy", json!({"a": "1", "b": "2"}));
    harness::kubectl(&["apply", "-f", "-"], Some(&serde_json::to_string(&cm)?))?;
    let live = get(&client, &meta(&cm), "configmaps").await?.unwrap();
    let managers = |v: &Value| -> Vec<String> {
        v["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["manager"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(managers(&live), ["kubectl-client-side-apply"]);

    // Git now holds only `a`: the takeover gives us `b` too, so the apply removes it.
    let desired = configmap(&ns, "legacy", json!({"a": "1"}));
    let cs = rm.apply_all_staged(vec![desired.clone()], &opts()).await?;
    assert_eq!(cs.entries[0].action, Action::Configured, "{cs}");
    let live = get(&client, &meta(&cm), "configmaps").await?.unwrap();
    assert_eq!(managers(&live), ["kustomize-controller"]);
    assert!(
        live["metadata"]
            .get("annotations")
            .and_then(|a| a.get("kubectl.kubernetes.io/last-applied-configuration"))
            .is_none()
    );
    assert_eq!(live["data"], json!({"a": "1"}));
    let cs = rm.apply_all_staged(vec![desired], &opts()).await?;
    assert_eq!(cs.entries[0].action, Action::Unchanged, "{cs}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_object() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let err = rm
        .apply_all_staged(vec![json!({"apiVersion": "nope.example.com/v1", "kind": "Thing", "metadata": {"name": "t", "namespace": ns}})], &opts())
        .await
        .expect_err("unknown kind");
    assert!(matches!(err, SsaError::UnknownKind { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("Thing/{ns}/t")), "{err}");
    let err = rm
        .apply_all_staged(
            vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})],
            &opts(),
        )
        .await
        .expect_err("namespace missing");
    assert_eq!(
        err.to_string(),
        "ConfigMap/c namespace not specified: the server could not find the requested resource"
    );
    let err = rm
        .apply_all_staged(
            vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})],
            &opts(),
        )
        .await
        .expect_err("no name");
    assert!(err.to_string().contains("metadata.name"), "{err}");
    // One object at a time.
    let e = rm
        .apply(configmap(&ns, "single", json!({"a": "1"})), &opts())
        .await?;
    assert_eq!(e.to_string(), format!("ConfigMap/{ns}/single created"));
    let e = rm
        .apply(configmap(&ns, "single", json!({"a": "1"})), &opts())
        .await?;
    assert_eq!(e.action, Action::Unchanged);
    // A cluster-scoped object carrying a namespace is applied and reported without it.
    let name = unique("cr");
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name, "namespace": ns}, "rules": []});
    let cs = rm.apply_all_staged(vec![role], &opts()).await?;
    assert_eq!(cs.entries[0].subject, format!("ClusterRole/{name}"));
    assert_eq!(
        cs.entries[0].object.inventory_id(),
        format!("_{name}_rbac.authorization.k8s.io_ClusterRole")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_stage_kinds_and_shared_discovery() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let objects = || {
        vec![
            deployment(&ns, "d", "nginx:1"),
            configmap(&ns, "c", json!({})),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": ns}}),
        ]
    };
    let order = |cs: &ssa::ChangeSet| {
        cs.entries
            .iter()
            .map(|e| e.object.kind.clone())
            .collect::<Vec<_>>()
    };
    let cs = rm.apply_all_staged(objects(), &opts()).await?;
    assert_eq!(order(&cs), ["ServiceAccount", "ConfigMap", "Deployment"]);
    let custom = ApplyOptions {
        custom_stage_kinds: vec![("apps".into(), "Deployment".into())],
        ..opts()
    };
    let cs = rm.apply_all_staged(objects(), &custom).await?;
    assert_eq!(order(&cs), ["Deployment", "ServiceAccount", "ConfigMap"]);

    // A second manager sharing the cache resolves without discovery of its own.
    let cache = rm.discovery_cache();
    let known = cache.len();
    assert!(known >= 3, "{known}");
    let other = ssa::ResourceManager::new(client.clone(), harness::owner())
        .with_discovery_cache(cache.clone());
    let cs = other.apply_all_staged(objects(), &opts()).await?;
    assert!(cs.is_empty_of_changes(), "{cs}");
    assert_eq!(cache.len(), known);

    // A CRD deleted and created again with another kind name in the same group/version is
    // found again after the stale entry is dropped.
    let g = group();
    rm.apply_all_staged(vec![crd(&g, "Widget", "widgets", None)], &opts())
        .await?;
    rm.apply_all_staged(vec![json!({"apiVersion": format!("{g}/v1"), "kind": "Widget", "metadata": {"name": "w", "namespace": ns}})], &opts()).await?;
    let crd_meta = meta(&crd(&g, "Widget", "widgets", None));
    rm.delete_all(std::slice::from_ref(&crd_meta), &Default::default())
        .await?;
    crate::delete_wait::gone(&client, &crd_meta, "customresourcedefinitions").await?;
    let cs = rm
        .apply_all_staged(
            vec![crd(&g, "Gizmo", "gizmos", None), json!({"apiVersion": format!("{g}/v1"), "kind": "Gizmo", "metadata": {"name": "z", "namespace": ns}})],
            &opts(),
        )
        .await?;
    assert_eq!(
        action_of(&cs, &format!("Gizmo/{ns}/z")),
        Some(Action::Created),
        "{cs}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_role_ref_recreated_only_with_force() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let role = |name: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    };
    let binding = |role: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb", "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]})
    };
    rm.apply_all_staged(
        vec![role("first"), role("second"), binding("first")],
        &opts(),
    )
    .await?;
    let m = meta(&binding("first"));
    let uid = get(&client, &m, "rolebindings").await?.expect("binding")["metadata"]["uid"].clone();

    let err = rm
        .apply_all_staged(vec![binding("second")], &opts())
        .await
        .expect_err("roleRef is immutable");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("RoleBinding/{ns}/rb dry-run failed (Invalid): ")),
        "{msg}"
    );
    assert!(msg.contains("cannot change roleRef"), "{msg}");
    let live = get(&client, &m, "rolebindings")
        .await?
        .expect("binding kept");
    assert_eq!(live["roleRef"]["name"], "first");

    let forced = ApplyOptions {
        force: true,
        ..opts()
    };
    let cs = rm
        .apply_all_staged(vec![binding("second")], &forced)
        .await?;
    assert_eq!(cs.to_string(), format!("RoleBinding/{ns}/rb created"));
    let live = get(&client, &m, "rolebindings")
        .await?
        .expect("binding recreated");
    assert_eq!(live["roleRef"]["name"], "second");
    assert_ne!(live["metadata"]["uid"], uid);

    // diff tells the same story without touching anything.
    let diff = rm.diff(vec![binding("first")], &forced).await?;
    assert_eq!(diff[0].action, Action::Created);
    let diff = rm.diff(vec![binding("first")], &opts()).await;
    assert!(diff.is_err_and(|e| e.to_string().contains("cannot change roleRef")));
    assert_eq!(
        get(&client, &m, "rolebindings").await?.expect("binding")["roleRef"]["name"],
        "second"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_ignore_rules_keep_in_cluster_values() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let ignore = ApplyOptions {
        drift_ignore_rules: vec![ssa::IgnoreRule {
            paths: vec!["/data/k".into()],
            selector: Some(ssa::IgnoreSelector {
                kind: "ConfigMap".into(),
                name: "tuned|scaled".into(),
                ..Default::default()
            }),
        }],
        ..opts()
    };
    let cm = |name: &str, other: &str| configmap(&ns, name, json!({"k": "git", "other": other}));
    let api = harness::api_for(&client, &meta(&cm("tuned", "")), "configmaps");

    // Edited with kubectl: taken over (so Configured once) but the ignored value is kept.
    rm.apply_all_staged(vec![cm("tuned", "1")], &ignore).await?;
    api.patch(
        "tuned",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"data": {"k": "edited"}})),
    )
    .await?;
    let cs = rm.apply_all_staged(vec![cm("tuned", "1")], &ignore).await?;
    assert_eq!(cs.entries[0].action, Action::Configured, "{cs}");
    assert_eq!(
        get(&client, &meta(&cm("tuned", "")), "configmaps")
            .await?
            .unwrap()["data"]["k"],
        "edited"
    );
    let cs = rm.apply_all_staged(vec![cm("tuned", "1")], &ignore).await?;
    assert_eq!(cs.entries[0].action, Action::Unchanged, "{cs}");

    // Owned by another apply manager: no drift, and left out of our applies.
    rm.apply_all_staged(vec![cm("scaled", "1")], &ignore)
        .await?;
    api.patch(
        "scaled",
        &PatchParams { field_manager: Some("autoscaler".into()), force: true, ..Default::default() },
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scaled", "namespace": ns}, "data": {"k": "theirs"}})),
    )
    .await?;
    let cs = rm
        .apply_all_staged(vec![cm("scaled", "1")], &ignore)
        .await?;
    assert_eq!(cs.entries[0].action, Action::Unchanged, "{cs}");
    assert!(rm.diff(vec![cm("scaled", "1")], &ignore).await?[0].action == Action::Unchanged);
    let cs = rm
        .apply_all_staged(vec![cm("scaled", "2")], &ignore)
        .await?;
    assert_eq!(cs.entries[0].action, Action::Configured, "{cs}");
    let live = get(&client, &meta(&cm("scaled", "")), "configmaps")
        .await?
        .unwrap();
    assert_eq!(live["data"], json!({"k": "theirs", "other": "2"}));

    // Not selected by the rule: reverted as usual.
    rm.apply_all_staged(vec![cm("plain", "1")], &ignore).await?;
    api.patch(
        "plain",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"data": {"k": "edited"}})),
    )
    .await?;
    rm.apply_all_staged(vec![cm("plain", "1")], &ignore).await?;
    assert_eq!(
        get(&client, &meta(&cm("plain", "")), "configmaps")
            .await?
            .unwrap()["data"]["k"],
        "git"
    );

    let bad = ApplyOptions {
        drift_ignore_rules: vec![ssa::IgnoreRule {
            paths: vec!["data".into()],
            selector: None,
        }],
        ..opts()
    };
    let err = rm
        .apply_all_staged(vec![cm("plain", "1")], &bad)
        .await
        .expect_err("bad rule")
        .to_string();
    assert!(err.contains("JSON pointer"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonated_service_account_without_rbac_is_refused() -> Result<()> {
    let client = client().await?;
    let ns = harness::namespace(&client).await?;
    let user = format!("system:serviceaccount:{ns}:nobody");
    let mut kc = kube::config::Kubeconfig::from_yaml(&harness::server().kubeconfig)?;
    for a in &mut kc.auth_infos {
        if let Some(info) = a.auth_info.as_mut() {
            info.impersonate = Some(user.clone());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let rm = ssa::ResourceManager::new(kube::Client::try_from(config)?, harness::owner());
    let err = rm
        .apply_all_staged(vec![configmap(&ns, "c", json!({"k": "v"}))], &opts())
        .await
        .expect_err("no RBAC for the service account");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("ConfigMap/{ns}/c dry-run failed (Forbidden): ")),
        "{msg}"
    );
    assert!(msg.contains(&user), "{msg}");
    assert!(
        get(
            &client,
            &meta(&configmap(&ns, "c", json!({}))),
            "configmaps"
        )
        .await?
        .is_none()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_fields_migrated_to_the_applied_version() -> Result<()> {
    let client = client().await?;
    let rm = manager().await?;
    let ns = harness::namespace(&client).await?;
    let g = group();
    let mut two = crd(&g, "Widget", "widgets", None);
    let mut v2 = two["spec"]["versions"][0].clone();
    two["spec"]["versions"][0]["storage"] = json!(false);
    v2["name"] = json!("v2");
    two["spec"]["versions"].as_array_mut().unwrap().push(v2);
    rm.apply_all_staged(vec![two], &opts()).await?;
    let widget = |version: &str, size: i64| json!({"apiVersion": format!("{g}/{version}"), "kind": "Widget", "metadata": {"name": "w", "namespace": ns}, "spec": {"size": size}});
    rm.apply_all_staged(vec![widget("v1", 1)], &opts()).await?;
    let m1 = meta(&widget("v1", 1));
    harness::api_for(&client, &m1, "widgets")
        .patch(
            "w",
            &PatchParams {
                field_manager: Some("other".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"extra": true}})),
        )
        .await?;
    let versions = |live: &Value| -> Vec<String> {
        live["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                format!(
                    "{}={}",
                    e["manager"].as_str().unwrap_or(""),
                    e["apiVersion"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let m2 = meta(&widget("v2", 1));
    let before = versions(&get(&client, &m2, "widgets").await?.unwrap());
    assert!(before.contains(&format!("other={g}/v1")), "{before:?}");

    let migrate = ApplyOptions {
        migrate_api_version: true,
        ..opts()
    };
    let cs = rm.apply_all_staged(vec![widget("v2", 1)], &migrate).await?;
    assert_eq!(cs.entries[0].action, Action::Configured, "{cs}");
    let after = versions(&get(&client, &m2, "widgets").await?.unwrap());
    assert!(
        !after.is_empty() && after.iter().all(|e| e.ends_with(&format!("={g}/v2"))),
        "{after:?}"
    );
    let cs = rm.apply_all_staged(vec![widget("v2", 1)], &migrate).await?;
    assert_eq!(cs.entries[0].action, Action::Unchanged, "{cs}");
    Ok(())
}
