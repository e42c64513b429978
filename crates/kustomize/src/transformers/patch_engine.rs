//! The patch engines we delegate to (the `schema` crate): strategic merge and JSON 6902.

use serde_json::Value;

/// Strategic-merge `patch` into `original` with kustomize's semantics for the object's GVK
/// (built-in kinds by their schema; unknown kinds: maps merge, lists replace).
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    api_version: &str,
    kind: &str,
) -> Result<Value, String> {
    let gvk = schema::Gvk::from_api_version(api_version, kind);
    schema::strategic_merge(original, patch, Some(&gvk)).map_err(|e| e.to_string())
}

/// Applies JSON 6902 operations.
pub fn json_patch(original: &Value, ops: &Value) -> Result<Value, String> {
    schema::json_patch::apply(original, ops).map_err(|e| e.to_string())
}
