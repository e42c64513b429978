//! Kubernetes type knowledge and patch engines.
//!
//! * Resource tables (`kubectl api-resources` of Kubernetes 1.33): [`kind`], [`resource`],
//!   [`preferred_resource`], [`by_short_name`], [`resources`].
//! * Type tables generated from the v1.33 OpenAPI definitions: per field the patch strategy,
//!   merge key, list type, list-map keys, map type and value [`Schema`]; walk them with
//!   [`type_def`], [`TypeDef::field`], [`field_at`].
//! * Patches on `serde_json::Value` (key order kept): [`strategic_merge`] (Kubernetes strategic
//!   merge patch, kustomize's fallback for unknown kinds), [`json_patch::apply`] (RFC 6902) and
//!   [`merge_patch::apply`] (RFC 7386).
//!
//! The tables are regenerated with `cargo run -p xtask -- gen-schema`.

#[rustfmt::skip]
mod generated;
mod gvk;
pub mod json_patch;
mod lookup;
pub mod merge_patch;
mod smp;
mod types;

pub use gvk::Gvk;
pub use lookup::{
    by_short_name, field_at, kind, preferred_resource, resource, resources, type_def, types,
};
pub use smp::{PatchError, SmpMode, SmpOptions, strategic_merge, strategic_merge_with};
pub use types::{FieldInfo, ListType, MapType, PatchStrategy, ResourceInfo, Schema, TypeDef};
