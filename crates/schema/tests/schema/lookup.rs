//! Resource and type table lookups.

use schema::{Gvk, ListType, MapType, Schema};

#[test]
fn resources_by_gvk_plural_and_short_name() {
    let d = schema::kind("apps", "v1", "Deployment").expect("deployments");
    assert_eq!(
        (d.plural, d.singular, d.namespaced),
        ("deployments", "deployment", true)
    );
    assert_eq!(d.short_names, ["deploy"]);
    assert_eq!(d.categories, ["all"]);
    assert!(d.subresources.contains(&"scale") && d.subresources.contains(&"status"));
    assert!(d.verbs.contains(&"deletecollection"));
    assert_eq!(d.api_version(), "apps/v1");
    assert_eq!(d.type_def.name, "io.k8s.api.apps.v1.Deployment");

    let ns = schema::kind("", "v1", "Namespace").expect("namespaces");
    assert!(!ns.namespaced);
    assert!(!ns.verbs.contains(&"deletecollection"));
    assert_eq!(ns.api_version(), "v1");

    assert_eq!(
        schema::by_short_name("svc").map(|r| r.kind),
        Some("Service")
    );
    assert_eq!(schema::by_short_name("po").map(|r| r.kind), Some("Pod"));
    assert_eq!(
        schema::by_short_name("crd").map(|r| r.kind),
        Some("CustomResourceDefinition")
    );
    assert_eq!(schema::by_short_name("hpa").map(|r| r.version), Some("v2"));
    assert_eq!(schema::by_short_name("nope").map(|r| r.kind), None);

    let hpa = schema::preferred_resource("autoscaling", "horizontalpodautoscalers").expect("hpa");
    assert_eq!(hpa.version, "v2");
    assert!(
        schema::resource("autoscaling", "v1", "horizontalpodautoscalers")
            .is_some_and(|r| !r.preferred)
    );
    assert!(schema::resource("", "v1", "pods").is_some_and(|r| r.subresources.contains(&"log")));

    assert!(
        schema::kind("", "v1", "TokenReview").is_none(),
        "core has no TokenReview"
    );
    let tr = schema::kind("authentication.k8s.io", "v1", "TokenReview").expect("tokenreviews");
    assert_eq!(tr.verbs, ["create"]);
    assert!(
        schema::kind("autoscaling", "v1", "Scale").is_none(),
        "Scale is only a subresource"
    );
    assert!(schema::kind("example.com", "v1", "Widget").is_none());

    let hpa = schema::preferred_kind("autoscaling", "HorizontalPodAutoscaler").expect("hpa kind");
    assert_eq!((hpa.version, hpa.namespaced), ("v2", true));
    assert_eq!(
        schema::preferred_kind("rbac.authorization.k8s.io", "ClusterRole").map(|r| r.namespaced),
        Some(false)
    );
    assert!(schema::preferred_kind("apps", "Pod").is_none());
}

#[test]
fn every_resource_is_consistent() {
    let all = schema::resources();
    assert!(all.len() > 80, "{} resources", all.len());
    for r in all {
        assert!(
            r.plural.chars().all(|c| c.is_ascii_lowercase()),
            "{} plural {}",
            r.kind,
            r.plural
        );
        assert_eq!(r.singular, r.kind.to_lowercase());
        assert!(!r.verbs.is_empty());
        assert!(
            r.type_def.field("metadata").is_some(),
            "{} has metadata",
            r.kind
        );
        let preferred = all
            .iter()
            .filter(|o| o.group == r.group && o.plural == r.plural && o.preferred)
            .count();
        assert_eq!(
            preferred, 1,
            "{}/{} has one preferred version",
            r.group, r.plural
        );
    }
    let all_category: Vec<&str> = all
        .iter()
        .filter(|r| r.preferred && r.categories.contains(&"all"))
        .map(|r| r.plural)
        .collect();
    for p in [
        "pods",
        "services",
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "jobs",
        "cronjobs",
    ] {
        assert!(all_category.contains(&p), "{p} is in category all");
    }
}

#[test]
fn field_metadata_walk() {
    let deploy = Gvk::new("apps", "v1", "Deployment");
    let containers =
        schema::field_at(&deploy, &["spec", "template", "spec", "containers"]).expect("containers");
    assert!(containers.patch_strategy.merge);
    assert_eq!(containers.merge_key, Some("name"));
    assert_eq!(containers.list_type, Some(ListType::Map));
    assert_eq!(containers.list_map_keys, ["name"]);
    let container = containers
        .schema
        .items()
        .and_then(Schema::object)
        .expect("Container type");
    assert_eq!(container.name, "io.k8s.api.core.v1.Container");

    let ports = schema::field_at(
        &deploy,
        &["spec", "template", "spec", "containers", "ports"],
    )
    .expect("ports");
    assert_eq!(ports.merge_key, Some("containerPort"));
    assert_eq!(ports.list_map_keys, ["containerPort", "protocol"]);

    let volumes =
        schema::field_at(&deploy, &["spec", "template", "spec", "volumes"]).expect("volumes");
    assert!(volumes.patch_strategy.merge && volumes.patch_strategy.retain_keys);

    let args = schema::field_at(&deploy, &["spec", "template", "spec", "containers", "args"])
        .expect("args");
    assert!(!args.patch_strategy.merge);
    assert_eq!(args.list_type, Some(ListType::Atomic));
    assert!(matches!(args.schema.items(), Some(Schema::String)));

    let limits = schema::field_at(
        &deploy,
        &[
            "spec",
            "template",
            "spec",
            "containers",
            "resources",
            "limits",
        ],
    )
    .expect("limits");
    assert!(matches!(limits.schema.values(), Some(Schema::Quantity)));

    let finalizers = schema::field_at(&deploy, &["metadata", "finalizers"]).expect("finalizers");
    assert!(finalizers.patch_strategy.merge);
    assert_eq!(finalizers.list_type, Some(ListType::Set));

    let port = schema::field_at(
        &Gvk::new("", "v1", "Service"),
        &["spec", "ports", "targetPort"],
    )
    .expect("targetPort");
    assert!(matches!(port.schema, Schema::IntOrString));

    let retain = schema::field_at(&deploy, &["spec", "strategy"]).expect("strategy");
    assert!(retain.patch_strategy.retain_keys);

    let cm_ref =
        schema::type_def("io.k8s.api.core.v1.LocalObjectReference").expect("LocalObjectReference");
    assert_eq!(cm_ref.map_type, Some(MapType::Atomic));

    assert!(schema::field_at(&deploy, &["spec", "nope"]).is_none());
    assert!(schema::field_at(&deploy, &["spec", "replicas", "deeper"]).is_none());
    assert!(schema::field_at(&Gvk::new("example.com", "v1", "Widget"), &["spec"]).is_none());
    assert!(schema::types().len() > 600);
}

#[test]
fn gvk_parsing() {
    let v = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment"});
    assert_eq!(Gvk::of(&v), Some(Gvk::new("apps", "v1", "Deployment")));
    assert_eq!(
        Gvk::from_api_version("v1", "Pod"),
        Gvk::new("", "v1", "Pod")
    );
    assert_eq!(
        Gvk::new("apps", "v1", "Deployment").to_string(),
        "apps/v1, Kind=Deployment"
    );
    assert_eq!(Gvk::of(&serde_json::json!({"kind": "Pod"})), None);
}
