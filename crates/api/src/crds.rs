//! The CustomResourceDefinitions of every served Flux kind, as `flux install --export` prints them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;

use crate::{helm, image, kustomize, notification, source};

/// Labels Flux puts on its CRDs.
const CRD_LABELS: [(&str, &str); 3] = [
    ("app.kubernetes.io/instance", "flux-system"),
    ("app.kubernetes.io/part-of", "flux"),
    (
        "app.kubernetes.io/version",
        concat!("v", env!("CARGO_PKG_VERSION")),
    ),
];

/// All 14 CRDs in install order (by group, then kind).
pub fn all() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        source::Bucket::crd(),
        source::ExternalArtifact::crd(),
        source::GitRepository::crd(),
        source::HelmChart::crd(),
        source::HelmRepository::crd(),
        source::OCIRepository::crd(),
        kustomize::Kustomization::crd(),
        helm::HelmRelease::crd(),
        notification::Alert::crd(),
        notification::Provider::crd(),
        notification::Receiver::crd(),
        image::ImagePolicy::crd(),
        image::ImageRepository::crd(),
        image::ImageUpdateAutomation::crd(),
    ];
    for crd in &mut crds {
        normalize(crd);
        let component = component_of(&crd.spec.group, &crd.spec.names.kind);
        let labels = crd.metadata.labels.get_or_insert_with(Default::default);
        for (k, v) in CRD_LABELS {
            labels.insert(k.to_string(), v.to_string());
        }
        labels.insert(
            "app.kubernetes.io/component".to_string(),
            component.to_string(),
        );
    }
    crds
}

/// Brings a derived CRD to the shape Flux's CRDs have: optional fields are absent rather than
/// `nullable` (so a `null` is pruned like any unknown value), the top-level `apiVersion`, `kind`
/// and `metadata` properties are declared, and `listKind` is explicit.
fn normalize(crd: &mut CustomResourceDefinition) {
    crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    for version in &mut crd.spec.versions {
        let Some(validation) = version.schema.as_mut() else {
            continue;
        };
        let Some(schema) = validation.open_api_v3_schema.take() else {
            continue;
        };
        let mut value = serde_json::to_value(schema).expect("a JSONSchemaProps serializes");
        strip_nullable(&mut value);
        // Flux does not require `spec` at the top level; the derive does.
        if let Some(obj) = value.as_object_mut() {
            obj.remove("required");
        }
        if let Some(props) = value.get_mut("properties").and_then(|p| p.as_object_mut()) {
            let mut top = serde_json::Map::new();
            top.insert("apiVersion".into(), serde_json::json!({"type": "string", "description": "Versioned schema of this representation of an object."}));
            top.insert("kind".into(), serde_json::json!({"type": "string", "description": "REST resource this object represents."}));
            top.insert("metadata".into(), serde_json::json!({"type": "object"}));
            for (k, v) in std::mem::take(props) {
                top.insert(k, v);
            }
            *props = top;
        }
        validation.open_api_v3_schema =
            Some(serde_json::from_value(value).expect("a normalized schema deserializes"));
    }
}

fn strip_nullable(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("nullable");
            map.values_mut().for_each(strip_nullable);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nullable),
        _ => {}
    }
}

/// The controller that reconciles a Flux kind.
pub fn component_of(group: &str, kind: &str) -> &'static str {
    if kind == "ImageUpdateAutomation" {
        return "image-automation-controller";
    }
    match group {
        "source.toolkit.fluxcd.io" => "source-controller",
        "kustomize.toolkit.fluxcd.io" => "kustomize-controller",
        "helm.toolkit.fluxcd.io" => "helm-controller",
        "notification.toolkit.fluxcd.io" => "notification-controller",
        "image.toolkit.fluxcd.io" => "image-reflector-controller",
        _ => "unknown",
    }
}
