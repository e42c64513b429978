//! PATCH dispatch by Content-Type: JSON patch, JSON merge patch and strategic merge patch (built-in
//! kinds only), using the `schema` crate's engines. Server-side apply plugs in here (issue 6).

use crate::error::{ApiError, ApiResult};
use crate::registry::ResourceInfo;
use serde_json::Value;

/// The patch flavours the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 6902.
    Json,
    /// RFC 7386.
    Merge,
    /// Kubernetes strategic merge patch.
    Strategic,
    /// Server-side apply (`application/apply-patch+yaml`).
    Apply,
}

impl PatchKind {
    /// Maps a Content-Type; `builtin` says whether strategic merge is allowed.
    pub fn from_content_type(ct: &str, builtin: bool) -> ApiResult<Self> {
        match ct {
            "application/json-patch+json" => Ok(Self::Json),
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" if builtin => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(Self::Apply),
            _ => Err(ApiError::unsupported_media(builtin)),
        }
    }
}

/// Applies a patch body to the current object.
pub fn apply(kind: PatchKind, current: &Value, body: &[u8], ri: &ResourceInfo) -> ApiResult<Value> {
    match kind {
        PatchKind::Json => {
            let patch = crate::request::decode_json(body)?;
            if !patch.is_array() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                ));
            }
            schema::json_patch::apply(current, &patch)
                .map_err(|e| ApiError::unprocessable(e.to_string()))
        }
        PatchKind::Merge => {
            let patch = crate::request::decode_json(body)?;
            object_result(schema::merge_patch::apply(current, &patch))
        }
        PatchKind::Strategic => {
            let patch = crate::request::decode_json(body)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "strategic merge patch body must be a JSON object",
                ));
            }
            let ty = schema::kind(&ri.group, &ri.version, &ri.kind).map(|r| r.type_def);
            let opts = schema::SmpOptions {
                mode: schema::SmpMode::Kubernetes,
            };
            let out = schema::strategic_merge_with(current, &patch, ty, &opts)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            object_result(out)
        }
        PatchKind::Apply => Err(ApiError::unsupported_media_msg(
            "server-side apply (application/apply-patch+yaml) is not supported by this server yet; use client-side apply",
        )),
    }
}

fn object_result(out: Value) -> ApiResult<Value> {
    if out.is_object() {
        Ok(out)
    } else {
        Err(ApiError::unprocessable(
            "the patched result is not a JSON object",
        ))
    }
}
