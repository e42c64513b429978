//! The `kustomization.yaml` model (Kustomize v5.5 field set), decoded strictly as kustomize does.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Decodes `null` as the type's default, as Go's JSON decoder leaves a field untouched.
fn nd<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// String map used for labels, annotations and selectors.
pub type StrMap = BTreeMap<String, String>;

/// `metadata` of a kustomization.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMeta {
    /// Name (unused by the build).
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Namespace (unused by the build).
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Labels (unused by the build).
    #[serde(default, deserialize_with = "nd")]
    pub labels: StrMap,
    /// Annotations (unused by the build).
    #[serde(default, deserialize_with = "nd")]
    pub annotations: StrMap,
}

/// A transformer field spec: which field of which kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// API group selector.
    #[serde(default, deserialize_with = "nd")]
    pub group: String,
    /// Version selector.
    #[serde(default, deserialize_with = "nd")]
    pub version: String,
    /// Kind selector.
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    /// Slash-separated field path; `[]` marks sequences.
    #[serde(default, deserialize_with = "nd")]
    pub path: String,
    /// Create the field when missing.
    #[serde(default, deserialize_with = "nd", rename = "create")]
    pub create: bool,
}

/// A patch target selector.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Group regex.
    #[serde(default, deserialize_with = "nd")]
    pub group: String,
    /// Version regex.
    #[serde(default, deserialize_with = "nd")]
    pub version: String,
    /// Kind regex.
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    /// Name regex.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Namespace regex.
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Label selector.
    #[serde(default, deserialize_with = "nd")]
    pub label_selector: String,
    /// Annotation selector.
    #[serde(default, deserialize_with = "nd")]
    pub annotation_selector: String,
}

/// An entry of `patches` / `patchesJson6902`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// File holding the patch.
    #[serde(default, deserialize_with = "nd")]
    pub path: String,
    /// Inline patch text.
    #[serde(default, deserialize_with = "nd")]
    pub patch: String,
    /// Target selector.
    #[serde(default)]
    pub target: Option<Selector>,
    /// `allowNameChange` / `allowKindChange`.
    #[serde(default, deserialize_with = "nd")]
    pub options: BTreeMap<String, bool>,
}

/// An `images` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Image name to match.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Replacement name.
    #[serde(default, deserialize_with = "nd")]
    pub new_name: String,
    /// Suffix appended to the tag.
    #[serde(default, deserialize_with = "nd")]
    pub tag_suffix: String,
    /// Replacement tag.
    #[serde(default, deserialize_with = "nd")]
    pub new_tag: String,
    /// Replacement digest.
    #[serde(default, deserialize_with = "nd")]
    pub digest: String,
}

/// A `replicas` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replica {
    /// Name of the workload.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Replica count.
    #[serde(default, deserialize_with = "nd")]
    pub count: i64,
}

/// A `labels` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// Label pairs.
    #[serde(default, deserialize_with = "nd")]
    pub pairs: StrMap,
    /// Also set selectors.
    #[serde(default, deserialize_with = "nd")]
    pub include_selectors: bool,
    /// Also set pod templates.
    #[serde(default, deserialize_with = "nd")]
    pub include_templates: bool,
    /// Extra field specs.
    #[serde(default, deserialize_with = "nd")]
    pub fields: Vec<FieldSpec>,
}

/// Generator options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorOptions {
    /// Labels on generated objects.
    #[serde(default, deserialize_with = "nd")]
    pub labels: StrMap,
    /// Annotations on generated objects.
    #[serde(default, deserialize_with = "nd")]
    pub annotations: StrMap,
    /// No hash suffix.
    #[serde(default, deserialize_with = "nd")]
    pub disable_name_suffix_hash: bool,
    /// `immutable: true`.
    #[serde(default, deserialize_with = "nd")]
    pub immutable: bool,
}

/// A `configMapGenerator` or `secretGenerator` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorArgs {
    /// Namespace of the generated object.
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Name of the generated object.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// create | merge | replace.
    #[serde(default, deserialize_with = "nd")]
    pub behavior: String,
    /// `key=value` literals.
    #[serde(default, deserialize_with = "nd")]
    pub literals: Vec<String>,
    /// Files (`[key=]path`).
    #[serde(default, deserialize_with = "nd")]
    pub files: Vec<String>,
    /// Env files.
    #[serde(default, deserialize_with = "nd")]
    pub envs: Vec<String>,
    /// Single env file (legacy).
    #[serde(default, deserialize_with = "nd")]
    pub env: String,
    /// Options.
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
    /// Secret type (secrets only).
    #[serde(default, deserialize_with = "nd", rename = "type")]
    pub type_: String,
}

/// `sortOptions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct SortOptions {
    /// `legacy` or `fifo`.
    #[serde(default, deserialize_with = "nd")]
    pub order: String,
    /// Custom legacy order.
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// Custom kind order for the legacy sort.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct LegacySortOptions {
    /// Kinds first.
    #[serde(default, deserialize_with = "nd")]
    pub order_first: Vec<String>,
    /// Kinds last.
    #[serde(default, deserialize_with = "nd")]
    pub order_last: Vec<String>,
}

/// A legacy `vars` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Var {
    /// Variable name.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Object the value comes from.
    #[serde(default, deserialize_with = "nd")]
    pub objref: VarTarget,
    /// Field the value comes from.
    #[serde(default, deserialize_with = "nd")]
    pub fieldref: FieldSelector,
}

/// A var's object reference.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct VarTarget {
    /// Group.
    #[serde(default, deserialize_with = "nd")]
    pub group: String,
    /// Version.
    #[serde(default, deserialize_with = "nd")]
    pub version: String,
    /// Kind.
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    /// apiVersion (overrides group/version).
    #[serde(default, deserialize_with = "nd")]
    pub api_version: String,
    /// Name.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Namespace.
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
}

/// A var's field.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct FieldSelector {
    /// Dotted field path; defaults to `metadata.name`.
    #[serde(default, deserialize_with = "nd")]
    pub field_path: String,
}

/// A `replacements` entry: inline or from a file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacementField {
    /// File holding replacements.
    #[serde(default, deserialize_with = "nd")]
    pub path: String,
    /// Source of the value.
    #[serde(default)]
    pub source: Option<SourceSelector>,
    /// Where to put it.
    #[serde(default, deserialize_with = "nd")]
    pub targets: Vec<TargetSelector>,
}

/// A replacement.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// Source of the value.
    #[serde(default)]
    pub source: Option<SourceSelector>,
    /// Where to put it.
    #[serde(default, deserialize_with = "nd")]
    pub targets: Vec<TargetSelector>,
}

/// Replacement source.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct SourceSelector {
    /// Group.
    #[serde(default, deserialize_with = "nd")]
    pub group: String,
    /// Version.
    #[serde(default, deserialize_with = "nd")]
    pub version: String,
    /// Kind.
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    /// Name.
    #[serde(default, deserialize_with = "nd")]
    pub name: String,
    /// Namespace.
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Field path (default `metadata.name`).
    #[serde(default, deserialize_with = "nd")]
    pub field_path: String,
    /// Options.
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

/// Replacement target.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct TargetSelector {
    /// Objects to change.
    #[serde(default)]
    pub select: Option<Selector>,
    /// Objects to leave alone.
    #[serde(default, deserialize_with = "nd")]
    pub reject: Vec<Selector>,
    /// Fields to set.
    #[serde(default, deserialize_with = "nd")]
    pub field_paths: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

/// Replacement options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOptions {
    /// Split delimiter.
    #[serde(default, deserialize_with = "nd")]
    pub delimiter: String,
    /// Index into the split value.
    #[serde(default, deserialize_with = "nd")]
    pub index: i64,
    /// Encoding (unused upstream).
    #[serde(default, deserialize_with = "nd")]
    pub encoding: String,
    /// Create missing fields.
    #[serde(default, deserialize_with = "nd")]
    pub create: bool,
}

/// A whole `kustomization.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    /// `kustomize.config.k8s.io/v1beta1` or `v1alpha1` for components.
    #[serde(default, deserialize_with = "nd")]
    pub api_version: String,
    /// `Kustomization` or `Component`.
    #[serde(default, deserialize_with = "nd")]
    pub kind: String,
    /// Metadata (ignored).
    #[serde(default)]
    pub metadata: Option<ObjectMeta>,
    /// Custom OpenAPI schema.
    #[serde(default, deserialize_with = "nd")]
    pub openapi: BTreeMap<String, String>,
    /// Name prefix.
    #[serde(default, deserialize_with = "nd")]
    pub name_prefix: String,
    /// Name suffix.
    #[serde(default, deserialize_with = "nd")]
    pub name_suffix: String,
    /// Namespace.
    #[serde(default, deserialize_with = "nd")]
    pub namespace: String,
    /// Labels incl. selectors.
    #[serde(default, deserialize_with = "nd")]
    pub common_labels: StrMap,
    /// Labels with options.
    #[serde(default, deserialize_with = "nd")]
    pub labels: Vec<Label>,
    /// Annotations.
    #[serde(default, deserialize_with = "nd")]
    pub common_annotations: StrMap,
    /// Strategic merge patches (paths or inline).
    #[serde(default, deserialize_with = "nd")]
    pub patches_strategic_merge: Vec<String>,
    /// JSON 6902 patches.
    #[serde(default, deserialize_with = "nd", rename = "patchesJson6902")]
    pub patches_json6902: Vec<Patch>,
    /// Patches.
    #[serde(default, deserialize_with = "nd")]
    pub patches: Vec<Patch>,
    /// Image overrides.
    #[serde(default, deserialize_with = "nd")]
    pub images: Vec<Image>,
    /// Legacy image overrides.
    #[serde(default, deserialize_with = "nd")]
    pub image_tags: Vec<Image>,
    /// Replacements.
    #[serde(default, deserialize_with = "nd")]
    pub replacements: Vec<ReplacementField>,
    /// Replica overrides.
    #[serde(default, deserialize_with = "nd")]
    pub replicas: Vec<Replica>,
    /// Legacy vars.
    #[serde(default, deserialize_with = "nd")]
    pub vars: Vec<Var>,
    /// Output order.
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    /// Resources.
    #[serde(default, deserialize_with = "nd")]
    pub resources: Vec<String>,
    /// Components.
    #[serde(default, deserialize_with = "nd")]
    pub components: Vec<String>,
    /// CRD files for transformer configuration.
    #[serde(default, deserialize_with = "nd")]
    pub crds: Vec<String>,
    /// Legacy bases.
    #[serde(default, deserialize_with = "nd")]
    pub bases: Vec<String>,
    /// ConfigMap generators.
    #[serde(default, deserialize_with = "nd")]
    pub config_map_generator: Vec<GeneratorArgs>,
    /// Secret generators.
    #[serde(default, deserialize_with = "nd")]
    pub secret_generator: Vec<GeneratorArgs>,
    /// Helm globals (unsupported).
    #[serde(default)]
    pub helm_globals: Option<Value>,
    /// Helm charts (unsupported).
    #[serde(default, deserialize_with = "nd")]
    pub helm_charts: Vec<Value>,
    /// Legacy helm generator (unsupported).
    #[serde(default, deserialize_with = "nd")]
    pub helm_chart_inflation_generator: Vec<Value>,
    /// Global generator options.
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    /// Transformer configuration files.
    #[serde(default, deserialize_with = "nd")]
    pub configurations: Vec<String>,
    /// Generator plugin configs.
    #[serde(default, deserialize_with = "nd")]
    pub generators: Vec<String>,
    /// Transformer plugin configs.
    #[serde(default, deserialize_with = "nd")]
    pub transformers: Vec<String>,
    /// Validator plugin configs.
    #[serde(default, deserialize_with = "nd")]
    pub validators: Vec<String>,
    /// Build metadata options.
    #[serde(default, deserialize_with = "nd")]
    pub build_metadata: Vec<String>,
}

/// Kind of a kustomization file.
pub const KUSTOMIZATION_KIND: &str = "Kustomization";
/// Kind of a component file.
pub const COMPONENT_KIND: &str = "Component";
const KUSTOMIZATION_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
const COMPONENT_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

impl Kustomization {
    /// Decodes a kustomization from its YAML value, applying kustomize's legacy-field fix-ups.
    pub fn from_value(mut v: Value) -> Result<Self, String> {
        if v.is_null() {
            return Err("kustomization.yaml is empty".into());
        }
        crate::keys::normalize_kustomization(&mut v);
        let mut k: Kustomization = serde_json::from_value(v).map_err(|e| e.to_string())?;
        if k.kind.is_empty() {
            k.kind = KUSTOMIZATION_KIND.into();
        }
        if k.api_version.is_empty() {
            k.api_version = if k.kind == COMPONENT_KIND {
                COMPONENT_VERSION
            } else {
                KUSTOMIZATION_VERSION
            }
            .into();
        }
        let mut errs = Vec::new();
        if k.kind != KUSTOMIZATION_KIND && k.kind != COMPONENT_KIND {
            errs.push(format!(
                "kind should be {KUSTOMIZATION_KIND} or {COMPONENT_KIND}"
            ));
        }
        let required = if k.kind == COMPONENT_KIND {
            COMPONENT_VERSION
        } else {
            KUSTOMIZATION_VERSION
        };
        if k.api_version != required {
            errs.push(format!("apiVersion for {} should be {required}", k.kind));
        }
        if !errs.is_empty() {
            return Err(errs.join("; "));
        }
        let bases = std::mem::take(&mut k.bases);
        k.resources.extend(bases);
        let tags = std::mem::take(&mut k.image_tags);
        k.images.extend(tags);
        for g in k
            .config_map_generator
            .iter_mut()
            .chain(k.secret_generator.iter_mut())
        {
            if !g.env.is_empty() {
                let e = std::mem::take(&mut g.env);
                g.envs.push(e);
            }
        }
        Ok(k)
    }
}
