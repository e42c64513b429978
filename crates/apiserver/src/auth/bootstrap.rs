//! Bootstrap RBAC objects created at first start (`cluster-admin`, `admin`/`edit`/`view` with
//! aggregation, `system:discovery`, `system:basic-user`, `system:public-info-viewer` and their
//! bindings) and the aggregation write-back that keeps aggregated ClusterRoles' `rules` current.

use super::rbac::{GROUP, effective_rules};
use crate::error::ApiResult;
use crate::server::Api;
use crate::store::{Change, ObjKey};
use crate::util::meta_str;
use serde_json::{Value, json};

const AGG: &str = "rbac.authorization.k8s.io/aggregate-to-";
const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 5] = ["create", "delete", "deletecollection", "patch", "update"];

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Value {
    json!({"verbs": verbs, "apiGroups": groups, "resources": resources})
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> Value {
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn cluster_role(name: &str, labels: Value, rules: Value, aggregate_to: Option<&str>) -> Value {
    let mut l = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    if let Some(m) = labels.as_object() {
        for (k, v) in m {
            l[k] = v.clone();
        }
    }
    let mut o = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": l,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    });
    if let Some(to) = aggregate_to {
        o["aggregationRule"] =
            json!({"clusterRoleSelectors": [{"matchLabels": {format!("{AGG}{to}"): "true"}}]});
    }
    o
}

fn binding(name: &str, role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"kind": "Group", "apiGroup": GROUP, "name": g}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

/// The bootstrap ClusterRoles, in creation order.
pub fn cluster_roles() -> Vec<Value> {
    let none = json!({});
    let view_core = [
        "configmaps",
        "endpoints",
        "persistentvolumeclaims",
        "persistentvolumeclaims/status",
        "pods",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/status",
        "bindings",
        "events",
        "limitranges",
        "namespaces/status",
        "pods/log",
        "pods/status",
        "replicationcontrollers/status",
        "resourcequotas",
        "resourcequotas/status",
        "namespaces",
    ];
    let apps = [
        "controllerrevisions",
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/scale",
        "deployments/status",
        "replicasets",
        "replicasets/scale",
        "replicasets/status",
        "statefulsets",
        "statefulsets/scale",
        "statefulsets/status",
    ];
    let view = json!([
        rule(&READ, &[""], &view_core),
        rule(&READ, &["apps"], &apps),
        rule(
            &READ,
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status"
            ]
        ),
        rule(
            &READ,
            &["batch"],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"]
        ),
        rule(
            &READ,
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"]
        ),
        rule(
            &READ,
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"]
        ),
        rule(&READ, &["discovery.k8s.io"], &["endpointslices"]),
    ]);
    let edit = json!([
        rule(
            &READ,
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy"
            ]
        ),
        rule(&["impersonate"], &[""], &["serviceaccounts"]),
        rule(
            &WRITE,
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy"
            ]
        ),
        rule(&["create"], &[""], &["pods/eviction"]),
        rule(
            &WRITE,
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy"
            ]
        ),
        rule(&["create"], &[""], &["serviceaccounts/token"]),
        rule(
            &WRITE,
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale"
            ]
        ),
        rule(&WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
        rule(&WRITE, &["batch"], &["cronjobs", "jobs"]),
        rule(&WRITE, &["policy"], &["poddisruptionbudgets"]),
        rule(
            &WRITE,
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"]
        ),
        rule(
            &READ.iter().chain(WRITE.iter()).copied().collect::<Vec<_>>(),
            &["coordination.k8s.io"],
            &["leases"]
        ),
    ]);
    let admin = json!([
        rule(
            &["create"],
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"]
        ),
        rule(
            &READ.iter().chain(WRITE.iter()).copied().collect::<Vec<_>>(),
            &[GROUP],
            &["rolebindings", "roles"]
        ),
    ]);
    let health = ["/healthz", "/livez", "/readyz", "/version", "/version/"];
    vec![
        cluster_role(
            "cluster-admin",
            none.clone(),
            json!([rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])]),
            None,
        ),
        cluster_role(
            "system:aggregate-to-view",
            json!({format!("{AGG}view"): "true"}),
            view,
            None,
        ),
        cluster_role(
            "system:aggregate-to-edit",
            json!({format!("{AGG}edit"): "true"}),
            edit,
            None,
        ),
        cluster_role(
            "system:aggregate-to-admin",
            json!({format!("{AGG}admin"): "true"}),
            admin,
            None,
        ),
        cluster_role(
            "view",
            json!({format!("{AGG}edit"): "true"}),
            json!([]),
            Some("view"),
        ),
        cluster_role(
            "edit",
            json!({format!("{AGG}admin"): "true"}),
            json!([]),
            Some("edit"),
        ),
        cluster_role("admin", none.clone(), json!([]), Some("admin")),
        cluster_role(
            "system:discovery",
            none.clone(),
            json!([url_rule(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/"
                ]
            )]),
            None,
        ),
        cluster_role(
            "system:public-info-viewer",
            none.clone(),
            json!([url_rule(&["get"], &health)]),
            None,
        ),
        cluster_role(
            "system:basic-user",
            none,
            json!([
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"]
                ),
                rule(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"]
                ),
            ]),
            None,
        ),
    ]
}

/// The bootstrap ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<Value> {
    vec![
        binding("cluster-admin", "cluster-admin", &[super::MASTERS]),
        binding(
            "system:discovery",
            "system:discovery",
            &[super::AUTHENTICATED],
        ),
        binding(
            "system:basic-user",
            "system:basic-user",
            &[super::AUTHENTICATED],
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &[super::AUTHENTICATED, super::UNAUTHENTICATED],
        ),
    ]
}

/// Creates missing bootstrap roles and bindings (existing ones are left as the user keeps them),
/// then fills aggregated roles.
pub fn seed(api: &Api) -> ApiResult<()> {
    let put = |resource: &str, obj: Value| -> ApiResult<()> {
        let name = meta_str(&obj, "name").to_string();
        api.store
            .mutate(&ObjKey::new(GROUP, resource, "", &name), |cur, _| {
                if cur.is_some() {
                    return Ok(Change::Keep);
                }
                let mut obj = obj;
                crate::rest::init_metadata(&mut obj, false);
                Ok(Change::Put(obj))
            })
            .map(|_| ())
    };
    for r in cluster_roles() {
        put("clusterroles", r)?;
    }
    for b in cluster_role_bindings() {
        put("clusterrolebindings", b)?;
    }
    sync_aggregation(api)
}

/// Writes the union of matching roles' rules into every aggregated ClusterRole whose stored
/// `rules` differ (the upstream clusterrole-aggregation controller's job). Called after writes
/// of ClusterRoles.
pub fn sync_aggregation(api: &Api) -> ApiResult<()> {
    let (_, roles) = api.store.list(GROUP, "clusterroles", None);
    for r in roles.iter() {
        if r.pointer("/aggregationRule/clusterRoleSelectors").is_none() {
            continue;
        }
        let name = meta_str(r, "name").to_string();
        let rules: Vec<Value> = effective_rules(api, r, &mut Default::default())
            .iter()
            .map(|x| x.to_json())
            .collect();
        let rules = Value::Array(rules);
        if r["rules"] == rules {
            continue;
        }
        api.store
            .mutate(&ObjKey::new(GROUP, "clusterroles", "", &name), |cur, _| {
                let Some(cur) = cur else {
                    return Ok(Change::Keep);
                };
                if cur["rules"] == rules {
                    return Ok(Change::Keep);
                }
                let mut o = (**cur).clone();
                o["rules"] = rules.clone();
                Ok(Change::Put(o))
            })?;
    }
    Ok(())
}

/// The aggregation controller: re-syncs aggregated ClusterRoles on every ClusterRole event
/// (deletions included, which bypass the write hook) until `shutdown` flips.
pub async fn run_aggregation(
    api: std::sync::Arc<Api>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let Ok((_, mut rx)) = api.store.watch(GROUP, "clusterroles", None, None) else {
        return;
    };
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(e) if e.key.group == GROUP && e.key.resource == "clusterroles" => {
                    if let Err(err) = sync_aggregation(&api) {
                        tracing::warn!(error = %err, "syncing aggregated cluster roles");
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let _ = sync_aggregation(&api);
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}
