//! Built-in transformers, configured from kustomization fields or `transformers:` plugin configs.

pub mod hash;
pub mod images;
pub mod labels;
pub mod nameref;
pub mod namespace;
pub mod patch;
pub mod patch_engine;
pub mod prefix_suffix;
pub mod replacements;
pub mod replicas;
pub mod sort;
pub mod vars;

use crate::error::Error;
use crate::resource::Resource;
use crate::types::{FieldSpec, Image, Replacement, Replica, Selector, SortOptions, StrMap};

/// One configured built-in transformer.
pub enum Transformer {
    /// Strategic-merge patches applied to the object with the patch's id.
    PatchesById {
        /// The patches.
        patches: Vec<Resource>,
        /// Where they came from (for errors).
        source: String,
    },
    /// A `patches` entry (SMP or JSON 6902, auto-detected).
    Patch(patch::PatchSpec),
    /// Set the namespace.
    Namespace(namespace::NamespaceSpec),
    /// Prefix and/or suffix names.
    PrefixSuffix {
        /// Prefix.
        prefix: String,
        /// Suffix.
        suffix: String,
        /// Fields.
        field_specs: Vec<FieldSpec>,
    },
    /// Set labels.
    Labels {
        /// Labels.
        labels: StrMap,
        /// Fields.
        field_specs: Vec<FieldSpec>,
    },
    /// Set annotations.
    Annotations {
        /// Annotations.
        annotations: StrMap,
        /// Fields.
        field_specs: Vec<FieldSpec>,
    },
    /// Replica counts.
    Replicas {
        /// The override.
        replica: Replica,
        /// Fields.
        field_specs: Vec<FieldSpec>,
    },
    /// Image names/tags.
    Image {
        /// The override.
        image: Image,
        /// Fields.
        field_specs: Vec<FieldSpec>,
    },
    /// Replacements.
    Replacements(Vec<Replacement>),
    /// Hash suffixes for generated objects.
    Hash,
    /// Reorder.
    Sort(SortOptions),
}

/// Selects resources for `patches`/`replacements` targets.
pub fn select(list: &[Resource], s: &Selector) -> Result<Vec<usize>, Error> {
    let c = crate::selector::Compiled::new(s)
        .map_err(|e| Error::transform("select patch target", e))?;
    Ok(list
        .iter()
        .enumerate()
        .filter(|(_, r)| c.matches(r))
        .map(|(i, _)| i)
        .collect())
}

impl Transformer {
    /// The builtin plugin kind kustomize reports for this transformer.
    pub fn plugin_kind(&self) -> &'static str {
        match self {
            Transformer::PatchesById { .. } => "PatchStrategicMergeTransformer",
            Transformer::Patch(p) if p.legacy_json => "PatchJson6902Transformer",
            Transformer::Patch(_) => "PatchTransformer",
            Transformer::Namespace(_) => "NamespaceTransformer",
            Transformer::PrefixSuffix { prefix, .. } if !prefix.is_empty() => "PrefixTransformer",
            Transformer::PrefixSuffix { .. } => "SuffixTransformer",
            Transformer::Labels { .. } => "LabelTransformer",
            Transformer::Annotations { .. } => "AnnotationsTransformer",
            Transformer::Replicas { .. } => "ReplicaCountTransformer",
            Transformer::Image { .. } => "ImageTagTransformer",
            Transformer::Replacements(_) => "ReplacementTransformer",
            Transformer::Hash => "HashTransformer",
            Transformer::Sort(_) => "SortOrderTransformer",
        }
    }

    /// Applies the transformer to all resources.
    pub fn apply(&self, list: &mut Vec<Resource>) -> Result<(), Error> {
        match self {
            Transformer::PatchesById { patches, source } => {
                for p in patches {
                    patch::apply_sm_by_id(list, p, source)?;
                }
                Ok(())
            }
            Transformer::Patch(p) => p.apply(list),
            Transformer::Namespace(ns) => ns.apply(list),
            Transformer::PrefixSuffix {
                prefix,
                suffix,
                field_specs,
            } => prefix_suffix::apply(list, prefix, suffix, field_specs),
            Transformer::Labels {
                labels: l,
                field_specs,
            } => labels::apply(list, l, field_specs, "labels"),
            Transformer::Annotations {
                annotations,
                field_specs,
            } => labels::apply(list, annotations, field_specs, "annotations"),
            Transformer::Replicas {
                replica,
                field_specs,
            } => replicas::apply(list, replica, field_specs),
            Transformer::Image { image, field_specs } => images::apply(list, image, field_specs),
            Transformer::Replacements(r) => replacements::apply(list, r),
            Transformer::Hash => hash::apply(list),
            Transformer::Sort(o) => sort::apply(list, o),
        }
    }
}
