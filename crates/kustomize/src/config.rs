//! Transformer configuration: which fields each built-in transformer touches, with the
//! defaults of Kustomize v5.5 and merging of user `configurations` and CRD-derived specs.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::resid::Gvk;
use crate::types::FieldSpec;

/// A kind that can be referred to by name, and the fields that refer to it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameBackRef {
    /// Group of the referred kind.
    #[serde(default)]
    pub group: String,
    /// Version of the referred kind.
    #[serde(default)]
    pub version: String,
    /// The referred kind.
    #[serde(default)]
    pub kind: String,
    /// Fields holding references.
    #[serde(default, rename = "fieldSpecs")]
    pub field_specs: Vec<FieldSpec>,
}

impl NameBackRef {
    /// The referred GVK.
    pub fn gvk(&self) -> Gvk {
        Gvk::new(&self.group, &self.version, &self.kind)
    }
}

/// All transformer field specs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransformerConfig {
    /// Fields that get the name prefix.
    #[serde(default)]
    pub name_prefix: Vec<FieldSpec>,
    /// Fields that get the name suffix.
    #[serde(default)]
    pub name_suffix: Vec<FieldSpec>,
    /// Fields that get the namespace.
    #[serde(default)]
    pub namespace: Vec<FieldSpec>,
    /// Fields `commonLabels` (and `labels` with selectors) set.
    #[serde(default)]
    pub common_labels: Vec<FieldSpec>,
    /// Extra fields for `labels` entries.
    #[serde(default)]
    pub labels: Vec<FieldSpec>,
    /// Fields for `labels` with `includeTemplates`.
    #[serde(default)]
    pub template_labels: Vec<FieldSpec>,
    /// Fields `commonAnnotations` sets.
    #[serde(default)]
    pub common_annotations: Vec<FieldSpec>,
    /// Name references.
    #[serde(default)]
    pub name_reference: Vec<NameBackRef>,
    /// Fields where `$(VAR)` is expanded.
    #[serde(default)]
    pub var_reference: Vec<FieldSpec>,
    /// Image fields.
    #[serde(default)]
    pub images: Vec<FieldSpec>,
    /// Replica fields.
    #[serde(default)]
    pub replicas: Vec<FieldSpec>,
}

/// Field spec equality as kustomize merges them: same path, and `a`'s GVK selected by `b`'s.
fn effectively_equals(a: &FieldSpec, b: &FieldSpec) -> bool {
    a.path == b.path
        && (b.group.is_empty() || a.group == b.group)
        && (b.version.is_empty() || a.version == b.version)
        && (b.kind.is_empty() || a.kind == b.kind)
}

/// Adds field specs, skipping ones already present; conflicting `create` flags are an error.
pub fn merge_specs(into: &mut Vec<FieldSpec>, incoming: &[FieldSpec]) -> Result<(), String> {
    // Merging a list into itself (defaults into defaults, at every level) is the common case:
    // identical entries are found by hash before the linear "effectively equal" scan.
    let exact: std::collections::HashSet<(&str, &str, &str, &str, bool)> = into
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.group.as_str(),
                f.version.as_str(),
                f.kind.as_str(),
                f.create,
            )
        })
        .collect();
    let mut add = Vec::new();
    for x in incoming {
        let key = (
            x.path.as_str(),
            x.group.as_str(),
            x.version.as_str(),
            x.kind.as_str(),
            x.create,
        );
        if exact.contains(&key) {
            continue;
        }
        match into
            .iter()
            .chain(add.iter())
            .find(|s| effectively_equals(s, x))
        {
            Some(s) if s.create != x.create => {
                return Err(format!("conflicting fieldspecs for path '{}'", x.path));
            }
            Some(_) => {}
            None => add.push(x.clone()),
        }
    }
    into.extend(add);
    Ok(())
}

impl TransformerConfig {
    /// Kustomize's built-in configuration.
    pub fn defaults() -> TransformerConfig {
        static DEFAULTS: OnceLock<TransformerConfig> = OnceLock::new();
        DEFAULTS
            .get_or_init(|| {
                let text = include_str!("default_config.yaml");
                let v = crate::yamlio::parse_one(text, "default_config.yaml")
                    .expect("built-in transformer config parses");
                serde_json::from_value(v).expect("built-in transformer config decodes")
            })
            .clone()
    }

    /// Merges another configuration into this one.
    pub fn merge(&mut self, o: &TransformerConfig) -> Result<(), String> {
        merge_specs(&mut self.name_prefix, &o.name_prefix)?;
        merge_specs(&mut self.name_suffix, &o.name_suffix)?;
        merge_specs(&mut self.namespace, &o.namespace)?;
        merge_specs(&mut self.common_labels, &o.common_labels)?;
        merge_specs(&mut self.labels, &o.labels)?;
        merge_specs(&mut self.template_labels, &o.template_labels)?;
        merge_specs(&mut self.common_annotations, &o.common_annotations)?;
        merge_specs(&mut self.var_reference, &o.var_reference)?;
        merge_specs(&mut self.images, &o.images)?;
        merge_specs(&mut self.replicas, &o.replicas)?;
        for nbr in &o.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|c| c.gvk() == nbr.gvk())
            {
                Some(c) => merge_specs(&mut c.field_specs, &nbr.field_specs)?,
                None => self.name_reference.push(nbr.clone()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load() {
        let c = TransformerConfig::defaults();
        assert_eq!(c.name_prefix.len(), 1);
        assert!(c.name_reference.iter().any(|n| n.kind == "ConfigMap"));
        assert!(
            c.common_labels
                .iter()
                .any(|f| f.path == "spec/selector/matchLabels")
        );
    }
}
