//! Built-in resources served without per-kind code, from the `schema` crate's Kubernetes 1.33
//! resource tables.

use crate::registry::{ResourceInfo, Subresource};

/// The standard verbs of a full CRUD resource.
pub const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Whether the server maintains `metadata.generation` for a kind: upstream does for kinds with a
/// `spec` outside the core group (workloads, networking, ...) and for ReplicationController.
fn has_generation(r: &schema::ResourceInfo) -> bool {
    r.type_def.field("spec").is_some() && (!r.group.is_empty() || r.kind == "ReplicationController")
}

/// The built-in resources: every preferred version and every non-alpha version of the tables.
pub fn resources() -> Vec<ResourceInfo> {
    schema::resources()
        .iter()
        .filter(|r| r.preferred || !r.version.contains("alpha"))
        .map(|r| ResourceInfo {
            group: r.group.into(),
            version: r.version.into(),
            kind: r.kind.into(),
            plural: r.plural.into(),
            singular: r.singular.into(),
            namespaced: r.namespaced,
            verbs: r.verbs.iter().map(|s| s.to_string()).collect(),
            short_names: r.short_names.iter().map(|s| s.to_string()).collect(),
            categories: r.categories.iter().map(|s| s.to_string()).collect(),
            subresources: r
                .subresources
                .iter()
                .map(|s| subresource(r.group, r.version, r.kind, s))
                .collect(),
            generation: has_generation(r),
            crd: None,
        })
        .collect()
}

fn subresource(group: &str, version: &str, kind: &str, name: &str) -> Subresource {
    let (g, v, k, verbs): (&str, &str, &str, &[&str]) = match name {
        "status" => (group, version, kind, &["get", "patch", "update"]),
        "scale" => ("autoscaling", "v1", "Scale", &["get", "patch", "update"]),
        "finalize" => (group, version, kind, &["update"]),
        "token" => ("authentication.k8s.io", "v1", "TokenRequest", &["create"]),
        "eviction" => ("policy", "v1", "Eviction", &["create"]),
        "binding" => ("", "v1", "Binding", &["create"]),
        "log" => ("", "v1", "Pod", &["get"]),
        "ephemeralcontainers" | "resize" => (group, version, kind, &["get", "patch", "update"]),
        "approval" => (group, version, kind, &["get", "patch", "update"]),
        "exec" | "attach" | "portforward" => ("", "v1", "PodExecOptions", &["create", "get"]),
        _ => (
            group,
            version,
            kind,
            &["create", "delete", "get", "patch", "update"],
        ),
    };
    Subresource {
        name: name.into(),
        group: g.into(),
        version: v.into(),
        kind: k.into(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
    }
}
