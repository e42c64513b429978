//! kustomize-controller: the Kustomization reconciler ([`kustomization`]) and the build path it
//! shares with `flux build kustomization` / `flux diff kustomization` ([`build_objects`]).

pub mod kustomization;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ::kustomize::flux::{self, FluxError, Overrides, SubstituteOptions};
use api::kustomize::Kustomization;
use serde_json::{Value, json};

use crate::runtime::events::Recorder;
use crate::runtime::manager::Shared;

/// The API group of Kustomization (prefix of labels, annotations and event metadata).
pub const GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// The controller name: field manager of applied objects, Events' reporting component.
pub const CONTROLLER_NAME: &str = "kustomize-controller";

/// Options of [`build_objects_in`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Fail on `${var}` without default whose variable is undefined (Flux's
    /// `StrictPostBuildSubstitutions` feature gate).
    pub strict_substitution: bool,
}

/// Why a Kustomization could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Generation, Kustomize build or substitution failed.
    #[error(transparent)]
    Flux(#[from] FluxError),
}

/// The Kustomization spec fields Flux writes into the kustomization file.
pub fn overrides(ks: &Kustomization) -> Overrides {
    let spec = &ks.spec;
    Overrides {
        target_namespace: spec.target_namespace.clone(),
        name_prefix: spec.name_prefix.clone(),
        name_suffix: spec.name_suffix.clone(),
        patches: spec
            .patches
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect(),
        images: spec
            .images
            .iter()
            .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
            .collect(),
        components: spec.components.clone(),
        ignore_missing_components: spec.ignore_missing_components.unwrap_or(false),
        build_metadata: spec.build_metadata.clone(),
    }
}

/// Builds a Kustomization from a local directory the way the reconciler does: `dir` is both
/// the source root and the directory to build. `vars` are the variables of
/// `spec.postBuild.substituteFrom` (the spec's inline `substitute` is merged over them).
/// Returns the objects ready to apply (substituted, `commonMetadata` set), without the
/// controller's ownership labels.
pub fn build_objects(
    ks: &Kustomization,
    dir: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Vec<Value>, BuildError> {
    build_objects_in(ks, dir, dir, vars, &BuildOptions::default())
}

/// [`build_objects`] with an explicit source `root` (nothing outside it is read) and the
/// directory `dir` inside it.
pub fn build_objects_in(
    ks: &Kustomization,
    root: &Path,
    dir: &Path,
    vars: &BTreeMap<String, String>,
    opts: &BuildOptions,
) -> Result<Vec<Value>, BuildError> {
    let root = root.canonicalize().map_err(|source| FluxError::Io {
        op: "resolve source root",
        path: root.display().to_string(),
        source,
    })?;
    let dir = dir
        .canonicalize()
        .map_err(|e| FluxError::PathNotFound(format!("stat {}: {e}", dir.display())))?;
    let mut objects = flux::build(Arc::new(::kustomize::DiskFs), &root, &dir, &overrides(ks))?;
    if let Some(pb) = &ks.spec.post_build {
        let vars = flux::merge_vars([vars.clone()], &pb.substitute);
        let sopts = SubstituteOptions {
            strict: opts.strict_substitution,
            always: pb.substitute_strategy.as_deref() == Some("Always"),
        };
        objects = flux::substitute(objects, &vars, sopts)?;
    }
    if let Some(cm) = &ks.spec.common_metadata {
        for o in &mut objects {
            set_common_metadata(o, &cm.labels, &cm.annotations);
        }
    }
    Ok(objects)
}

/// Merges labels and annotations into an object's metadata (the spec's win).
fn set_common_metadata(
    obj: &mut Value,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) {
    let Some(o) = obj.as_object_mut() else { return };
    let meta = o.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    for (field, map) in [("labels", labels), ("annotations", annotations)] {
        if map.is_empty() {
            continue;
        }
        let m = meta.entry(field).or_insert_with(|| json!({}));
        if !m.is_object() {
            *m = json!({});
        }
        let m = m.as_object_mut().expect("object");
        for (k, v) in map {
            m.insert(k.clone(), json!(v));
        }
    }
}

/// What the Kustomization reconciler shares.
pub struct KustomizeContext {
    /// Manager-wide state (client, metrics, options).
    pub shared: Arc<Shared>,
    /// Event recorder reporting as `kustomize-controller`.
    pub recorder: Recorder,
    /// Configuration of the manager's client, the base of impersonating clients.
    pub kube_config: Option<kube::Config>,
    /// Kind resolutions shared by every reconcile's resource manager (one discovery per kind,
    /// not per reconcile).
    pub discovery: ssa::DiscoveryCache,
}

impl KustomizeContext {
    /// The context of a manager; the client configuration comes from the options or, failing
    /// that, from the environment (kubeconfig or in-cluster).
    pub async fn new(shared: Arc<Shared>) -> Arc<Self> {
        let kube_config = match &shared.options.kube_config {
            Some(c) => Some(c.clone()),
            None => kube::Config::infer().await.ok(),
        };
        let recorder = Recorder::new(shared.client.clone(), CONTROLLER_NAME)
            .with_events_addr(shared.options.events_addr.clone());
        Arc::new(Self {
            shared,
            recorder,
            kube_config,
            discovery: ssa::DiscoveryCache::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_objects_applies_spec_and_substitution() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  env: ${env}\n  region: ${region:=eu}\n",
        )
        .unwrap();
        let mut ks = Kustomization::new("k", Default::default());
        ks.spec.target_namespace = Some("apps".into());
        ks.spec.name_suffix = Some("-x".into());
        ks.spec.common_metadata = Some(api::meta::CommonMetadata {
            labels: [("team".to_string(), "a".to_string())].into(),
            annotations: BTreeMap::new(),
        });
        ks.spec.post_build = Some(api::kustomize::PostBuild {
            substitute: [("env".to_string(), "prod".to_string())].into(),
            ..Default::default()
        });
        let vars = [
            ("env".to_string(), "ignored".to_string()),
            ("region".to_string(), "us".to_string()),
        ]
        .into();
        let objs = build_objects(&ks, tmp.path(), &vars).unwrap();
        assert_eq!(objs.len(), 1);
        let o = &objs[0];
        assert_eq!(o["metadata"]["name"], "app-x");
        assert_eq!(o["metadata"]["namespace"], "apps");
        assert_eq!(o["metadata"]["labels"]["team"], "a");
        assert_eq!(o["data"]["env"], "prod", "inline substitute wins");
        assert_eq!(o["data"]["region"], "us");

        // Strict mode refuses an undefined variable.
        std::fs::write(
            tmp.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  x: ${undefined}\n",
        )
        .unwrap();
        let err = build_objects_in(
            &ks,
            tmp.path(),
            tmp.path(),
            &BTreeMap::new(),
            &BuildOptions {
                strict_substitution: true,
            },
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("variable not set (strict mode)"),
            "{err}"
        );
    }
}
