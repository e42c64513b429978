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
        PatchKind::Json | PatchKind::Strategic => Err(ApiError::unsupported_media_msg(
            "json and strategic merge patches need the schema crate, which is not wired in yet",
        )),
        PatchKind::Merge => {
            let patch = crate::request::decode_json(body)?;
            let _ = ri;
            let out = merge_patch(current, &patch);
            if !out.is_object() {
                return Err(ApiError::unprocessable(
                    "the patched result is not a JSON object",
                ));
            }
            Ok(out)
        }
        PatchKind::Apply => Err(ApiError::unsupported_media_msg(
            "server-side apply (application/apply-patch+yaml) is not supported by this server yet; use client-side apply",
        )),
    }
}

/// Interim RFC 7386 merge until the schema crate's engine is wired in.
fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Some(p) = patch.as_object() else {
        return patch.clone();
    };
    let mut out = target.as_object().cloned().unwrap_or_default();
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}
