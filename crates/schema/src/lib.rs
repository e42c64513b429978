//! Kubernetes type knowledge and patch engines.
//!
//! * Resource tables (`kubectl api-resources` of Kubernetes 1.33, every served version):
//!   [`kind`], [`resource`], [`preferred_resource`], [`by_short_name`], [`resources`].
//! * Type tables generated from the v1.33 OpenAPI definitions: per field the patch strategy,
//!   merge key, list type, list-map keys, map type and value [`Schema`]; walk them with
//!   [`type_def`], [`TypeDef::field`], [`field_at`].
//! * Patches on `serde_json::Value` (key order kept):
//!   - [`strategic_merge`]: strategic merge patch as Kustomize v5.5 applies it (kyaml), with
//!     kustomize's fallback for unknown kinds (maps merge, lists replace);
//!     [`strategic_merge_with`] with [`SmpMode::Kubernetes`] applies it as the API server does
//!     (apimachinery: `$retainKeys`, `$setElementOrder`, `$deleteFromPrimitiveList`, its list order);
//!   - [`json_patch::apply`] (RFC 6902 plus negative indices, as the API server) and
//!     [`json_patch::apply_kustomize`] (kustomize's lenient `replace`);
//!   - [`merge_patch::apply`] (RFC 7386).
//!
//! The tables are regenerated with `cargo run -p xtask -- gen-schema`.
//!
//! Not done yet: custom OpenAPI schemas (kustomize's `openapi:` field) and CRD schemas cannot be
//! plugged into the type tables; SMP of CRD objects uses the schemaless fallback.

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
    by_short_name, field_at, kind, preferred_kind, preferred_resource, resource, resources,
    type_def, types,
};
pub use smp::{PatchError, SmpMode, SmpOptions, strategic_merge, strategic_merge_with};
pub use types::{FieldInfo, ListType, MapType, PatchStrategy, ResourceInfo, Schema, TypeDef};
