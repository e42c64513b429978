//! The patch engines we delegate to (the `schema` crate): strategic merge and JSON 6902.

use serde_json::Value;

/// Strategic-merge `patch` into `original` with kustomize's semantics for the object's GVK.
pub fn strategic_merge(
    _original: &Value,
    _patch: &Value,
    _api_version: &str,
    _kind: &str,
) -> Result<Value, String> {
    Err("strategic merge patches are not wired to the schema crate yet".into())
}

/// Applies JSON 6902 operations.
pub fn json_patch(_original: &Value, _ops: &Value) -> Result<Value, String> {
    Err("JSON 6902 patches are not wired to the schema crate yet".into())
}
