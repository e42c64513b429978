//! JSON merge patch (RFC 7386).

use serde_json::{Map, Value};

/// Applies a JSON merge patch: objects merge recursively, `null` removes a key, anything else
/// (including arrays) replaces the target value.
pub fn apply(target: &Value, patch: &Value) -> Value {
    let mut out = target.clone();
    apply_in_place(&mut out, patch);
    out
}

/// Applies a JSON merge patch to `target` in place.
pub fn apply_in_place(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        unreachable!("target was just made an object")
    };
    for (k, v) in p {
        if v.is_null() {
            t.shift_remove(k);
        } else {
            apply_in_place(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}
