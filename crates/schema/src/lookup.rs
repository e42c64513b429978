//! Lookups over the generated resource and type tables.

use crate::Gvk;
use crate::generated::{RESOURCES, TYPES};
use crate::types::{FieldInfo, ResourceInfo, Schema, TypeDef};

/// Every served resource, per version; each group's preferred version comes first.
pub fn resources() -> &'static [ResourceInfo] {
    &RESOURCES
}

/// Every object type of the definitions, sorted by definition name.
pub fn types() -> &'static [&'static TypeDef] {
    &TYPES
}

/// The resource serving `group`/`version`/`kind` (`""` is the core group).
pub fn kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The preferred version of `kind` in `group`, for questions any version answers (is it
/// namespaced? what is its plural?), e.g. when an object's version is not served by 1.33.
pub fn preferred_kind(group: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind && r.preferred)
}

/// The resource named `plural` in `group`/`version`.
pub fn resource(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The preferred version of the resource named `plural` in `group`.
pub fn preferred_resource(group: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && r.preferred)
}

/// The preferred resource with short name `short` (e.g. `deploy`, `svc`, `po`).
pub fn by_short_name(short: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.preferred && r.short_names.contains(&short))
}

/// The object type named `name` (e.g. `io.k8s.api.core.v1.PodSpec`).
pub fn type_def(name: &str) -> Option<&'static TypeDef> {
    TYPES
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| TYPES[i])
}

/// The field reached from the top of a `gvk` object by `path` (field names; list elements and
/// map values are stepped through implicitly), e.g. `["spec", "template", "spec", "containers"]`
/// on `apps/v1 Deployment`. `None` when the kind is unknown or the path leaves the schema.
pub fn field_at(gvk: &Gvk, path: &[&str]) -> Option<&'static FieldInfo> {
    let mut ty = kind(&gvk.group, &gvk.version, &gvk.kind)?.type_def;
    let mut found = None;
    for name in path {
        let f = ty.field(name)?;
        found = Some(f);
        let mut s = &f.schema;
        while let Schema::Array(e) | Schema::Map(e) = s {
            s = e;
        }
        match s {
            Schema::Object(t) => ty = t,
            _ => ty = &EMPTY,
        }
    }
    found
}

/// A type with no fields, so that walking past a scalar ends the path.
static EMPTY: TypeDef = TypeDef {
    name: "",
    fields: &[],
    map_type: None,
};
