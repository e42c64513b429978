//! Flux v2 API types (the `*.toolkit.fluxcd.io` CRDs) for every served group/version, and the
//! generation of their CustomResourceDefinitions.
//!
//! Field names, types, defaults, enums and validation follow the Flux 2.9 APIs, so existing Flux
//! manifests deserialize unchanged and the generated CRDs admit exactly what Flux's admit.

// kube's `printcolumn(...)` attributes legitimately repeat `type_ = "string"`.
#![allow(clippy::duplicated_attributes)]

pub mod crds;
pub mod helm;
pub mod image;
pub mod kustomize;
pub mod meta;
pub mod notification;
pub mod source;
