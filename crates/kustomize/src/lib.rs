//! A Kustomize v5.5 build engine: `build(fs, root, dir)` produces the same objects, in the same
//! order, as `kubectl kustomize dir`, reading only through a [`FileSystem`] and never outside
//! the source root. No network: remote bases, Helm charts and exec/container plugins are refused.

pub mod config;
pub mod crds;
pub mod error;
pub mod fieldspec;
pub mod flux;
pub mod fs;
pub mod generators;
pub mod keys;
pub mod load;
pub mod loader;
pub mod plugins;
pub mod resid;
pub mod resmap;
pub mod resource;
pub mod selector;
pub mod target;
pub mod transformers;
pub mod types;
pub mod yaml11;
pub mod yamlio;

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

pub use error::Error;
pub use fs::{DiskFs, FileSystem, MemFs};

use loader::Loader;
use target::{Accumulator, Target};
use transformers::{Transformer, nameref, vars};
use types::SortOptions;

/// Annotation `buildMetadata: [transformerAnnotations]` sets.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// Label `buildMetadata: [managedByLabel]` sets.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Builds the kustomization in `dir`, reading nothing outside `source_root`; returns the
/// objects in output order.
pub fn build(fs: Arc<dyn FileSystem>, source_root: &Path, dir: &Path) -> Result<Vec<Value>, Error> {
    let ldr = Loader::new(fs, source_root, dir)?;
    let mut top = Target::load(ldr)?;
    let meta = top.k.build_metadata.clone();
    for m in &meta {
        if ![
            "originAnnotations",
            "transformerAnnotations",
            "managedByLabel",
        ]
        .contains(&m.as_str())
        {
            return Err(Error::InvalidKustomization {
                path: top.file.clone(),
                msg: format!("unknown buildMetadata option '{m}'"),
            });
        }
    }
    // Any build metadata turns origin tracking on; what is printed is chosen at the end.
    if !meta.is_empty() {
        top.origin = Some(String::new());
    }
    let mut ra = top.accumulate(Accumulator::default())?;
    Transformer::Hash.apply(&mut ra.resources)?;
    nameref::apply(&mut ra.resources, &ra.config.name_reference)?;
    vars::resolve(&mut ra.resources, &ra.vars, &ra.config.var_reference)?;
    ra.resources.retain(|r| !load::is_local_config(&r.obj));
    let sort = top.k.sort_options.clone().unwrap_or(SortOptions {
        order: "legacy".into(),
        legacy_sort_options: None,
    });
    Transformer::Sort(sort).apply(&mut ra.resources)?;
    let origins = meta.iter().any(|m| m == "originAnnotations");
    let transforms = meta.iter().any(|m| m == "transformerAnnotations");
    if !meta.is_empty() {
        for r in ra.resources.iter_mut() {
            let mut ann = r.annotations();
            if !origins {
                ann.retain(|(k, _)| k != target::ORIGIN_ANNOTATION);
            }
            if transforms && !r.transformations.is_empty() {
                let mut v = String::new();
                for (ci, kind) in &r.transformations {
                    v.push_str(&format!(
                        "- configuredIn: {ci}\n  configuredBy:\n    apiVersion: builtin\n    kind: {kind}\n"
                    ));
                }
                ann.push((TRANSFORMATIONS_ANNOTATION.to_string(), v));
            }
            r.set_meta_map("annotations", ann);
        }
    }
    if meta.iter().any(|m| m == "managedByLabel") {
        // The version string kubectl's embedded kustomize reports.
        for r in ra.resources.iter_mut() {
            let mut labels = r.labels();
            labels.retain(|(k, _)| k != MANAGED_BY);
            labels.push((MANAGED_BY.to_string(), "kustomize-(devel)".to_string()));
            r.set_meta_map("labels", labels);
        }
    }
    Ok(ra
        .resources
        .into_iter()
        .map(|r| drop_empty_annotations(r.obj))
        .collect())
}

/// Kustomize rewrites every object's annotations when it strips its internal build annotations,
/// and an empty (or null) annotation map disappears in that rewrite; labels are left alone.
fn drop_empty_annotations(mut obj: Value) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let empty = match meta.get("annotations") {
            Some(Value::Null) => true,
            Some(Value::Object(m)) => m.is_empty(),
            _ => false,
        };
        if empty {
            meta.remove("annotations");
        }
    }
    obj
}

/// Builds and renders as `kubectl kustomize` prints it.
pub fn build_yaml(
    fs: Arc<dyn FileSystem>,
    source_root: &Path,
    dir: &Path,
) -> Result<String, Error> {
    Ok(yamlio::to_multi_doc(&build(fs, source_root, dir)?))
}
