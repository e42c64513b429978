//! Object writes of the reconciler shape: JSON merge-patch diffs (RFC 7386) so the one status
//! patch per reconcile sends only what changed, and finalizer add/remove guarded by the
//! object's resourceVersion.

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::runtime::error::RuntimeError;

/// The merge patch that turns `old` into `new`, or `None` when they are equal. Removed keys
/// become `null`; arrays and scalars are replaced whole, as RFC 7386 prescribes.
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut out = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(d) = merge_diff(ov, nv) {
                            out.insert(k.clone(), d);
                        }
                    }
                    None => {
                        out.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

fn describe<K: Resource<DynamicType = ()>>(obj: &K) -> String {
    format!(
        "{} {}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Patches the status subresource with the difference between `old` and `new` status; a no-op
/// when nothing changed (so a reconcile that changes nothing causes no watch event).
pub async fn patch_status<K, S>(
    api: &Api<K>,
    obj: &K,
    old: Option<&S>,
    new: &S,
) -> Result<bool, RuntimeError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let to_value = |s: &S| {
        serde_json::to_value(s).map_err(|source| RuntimeError::Serialize {
            object: describe(obj),
            source,
        })
    };
    let old_v = match old {
        Some(s) => to_value(s)?,
        None => json!({}),
    };
    let new_v = to_value(new)?;
    let Some(diff) = merge_diff(&old_v, &new_v) else {
        return Ok(false);
    };
    let patch = json!({ "status": diff });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(|source| RuntimeError::Kube {
        operation: "patching status of",
        object: describe(obj),
        source,
    })?;
    Ok(true)
}

async fn set_finalizers<K>(
    api: &Api<K>,
    obj: &K,
    finalizers: Vec<String>,
) -> Result<K, RuntimeError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": obj.resource_version(),
        }
    });
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(|source| RuntimeError::Kube {
        operation: "updating finalizers of",
        object: describe(obj),
        source,
    })
}

/// Adds `finalizer` if missing; returns the updated object (or the same one).
pub async fn add_finalizer<K>(
    api: &Api<K>,
    obj: &K,
    finalizer: &str,
) -> Result<Option<K>, RuntimeError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    if obj.finalizers().iter().any(|f| f == finalizer) {
        return Ok(None);
    }
    let mut list = obj.finalizers().to_vec();
    list.push(finalizer.to_string());
    set_finalizers(api, obj, list).await.map(Some)
}

/// Removes `finalizer` if present.
pub async fn remove_finalizer<K>(api: &Api<K>, obj: &K, finalizer: &str) -> Result<(), RuntimeError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    if !obj.finalizers().iter().any(|f| f == finalizer) {
        return Ok(());
    }
    let list: Vec<String> = obj
        .finalizers()
        .iter()
        .filter(|f| *f != finalizer)
        .cloned()
        .collect();
    match set_finalizers(api, obj, list).await {
        // Already gone: nothing left to hold.
        Err(RuntimeError::Kube {
            source: kube::Error::Api(s),
            ..
        }) if s.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_cases() {
        let old = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        let new = json!({"a": 1, "b": {"c": 5}, "e": [1, 2], "f": "x"});
        assert_eq!(
            merge_diff(&old, &new),
            Some(json!({"b": {"c": 5, "d": null}, "e": [1, 2], "f": "x"}))
        );
        assert_eq!(merge_diff(&old, &old), None);
        assert_eq!(
            merge_diff(&json!({"a": 1}), &json!({})),
            Some(json!({"a": null}))
        );
    }
}
